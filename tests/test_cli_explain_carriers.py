"""``xstyle explain carriers``: feature visualisation of a style's carrier channels and Gram components."""

import json

import pytest

from xstyle.cli import main


def test_carriers_writes_grids_and_numbers_for_each_layer(tmp_path, capsys):
    out = tmp_path / "carriers"
    argv = ["-q", "explain", "carriers", "--layers", "relu1_1,relu2_1", "--size", "32", "--steps", "3"]
    code = main([*argv, "--channels", "2", "--components", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        ".xstyle-output",
        "carriers.json",
        "channels_relu1_1.png",
        "channels_relu2_1.png",
        "gram_components_relu1_1.png",
        "gram_components_relu2_1.png",
    ]
    data = json.loads((out / "carriers.json").read_text())
    layer = data["layers"]["relu1_1"]
    shares = list(layer["top_channels_by_gram_share"].values())
    assert shares == sorted(shares, reverse=True) and len(shares) == 2
    assert layer["channels"]["channels"] == [int(c) for c in layer["top_channels_by_gram_share"]]
    # three steps of gradient ascent already raise each channel's activation
    after, before = layer["channels"]["activations"], layer["channels"]["initial_activations"]
    assert all(a > b for a, b in zip(after, before, strict=True))
    assert len(layer["gram_components"]["energy_share"]) == 2


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--layers", "relu9_1"], "--layers must be VGG19 layer names"),
        (["--size", "4"], "--size must be 16 to 512 px; got 4."),
        (["--style", "missing.png"], "missing.png"),
        (["--channels", "0"], "expected a number > 0"),
    ],
)
def test_carriers_errors(expect_cli_error, argv, match):
    expect_cli_error(["explain", "carriers", *argv, "--out", "o"], command="explain carriers", match=match)
