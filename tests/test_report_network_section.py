"""The style report's network section: a card on the default VGG19, and on another network its
per-depth activation statistics, equal to what compare_networks measures for the same image."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from xstyle.models import NetworkSpec, network_defaults, register_network
from xstyle.report._common import _Page, _Runner
from xstyle.report.style import StyleReportConfig, _style_plan
from xstyle.report.style_network import measures_network, network_card, network_section
from xstyle.report.style_stages import StyleRun, _load, _network
from xstyle.report.writer import Figure, Report, Table

STUB = "stub-report-net"


class _StubNet(nn.Module):
    """Three conv + ReLU stages, the second and third strided (depths with different statistics)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.relu1 = nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()
        self.conv2, self.relu2 = nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.ReLU()
        self.conv3, self.relu3 = nn.Conv2d(6, 8, 3, stride=2, padding=1), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.conv1(x))
        x = self.relu2(self.conv2(x))
        return self.relu3(self.conv3(x))


def _build(**_: object) -> nn.Module:
    torch.manual_seed(0)
    return _StubNet()


@pytest.fixture(scope="module")
def stub() -> str:
    register_network(
        NetworkSpec(
            name=STUB,
            family="user",
            factory=_build,
            description="a three-stage test network",
            license="CC0",
            citation="none (a test stub)",
            content_layers=("relu2",),
            style_layers=("relu1", "relu2", "relu3"),
        )
    )
    return STUB


def _stub_run(network: str) -> tuple[StyleRun, _Runner]:
    c = StyleReportConfig.fast(network=network, content="sample:chelsea", style="sample:poppies")
    runner = _Runner(_style_plan(c), None)
    run = StyleRun(c=c)
    _load(runner, run)
    _network(runner, run)
    return run, runner


def test_network_section_names_the_layers_and_its_numbers_are_compare_networks(stub, tmp_path):
    from xstyle.explain.style.networks import STATISTICS, compare_networks

    run, runner = _stub_run(stub)
    assert [e["stage"] for e in runner.log] == ["load images and the network", "network statistics"]
    report = Report(title="t")
    network_section(_Page(report, tmp_path, "style_"), run)
    (section,) = report.sections
    assert section.title == "The feature network"
    assert STUB in section.intro and "CC0" in section.intro and "none (a test stub)" in section.intro
    assert "Content layers: relu2" in section.intro and "relu1, relu2, relu3" in section.intro
    (figure,) = [b for b in section.blocks if isinstance(b, Figure)]
    assert (tmp_path / figure.path).is_file() and STUB in figure.title
    (table,) = [b for b in section.blocks if isinstance(b, Table)]
    assert [row[0] for row in table.rows] == ["relu1", "relu2", "relu3"]

    c = run.c
    reference = compare_networks([(c.content, c.style)], networks=(stub,), size=c.size, steps=1)
    expected = reference.statistics[stub]
    assert list(expected) == list(network_defaults(stub)[1])
    for row in table.rows:
        assert list(row[1:]) == pytest.approx([expected[row[0]][k] for k in STATISTICS], rel=1e-9)
    stored = run.metrics["network"]
    assert stored["name"] == stub and stored["style_layers"] == ["relu1", "relu2", "relu3"]
    assert stored["statistics"] == expected  # the same taps and functions: equal, not only close
    # the caption reads the figure: the peakiest layer and its max/mean, as the table has them
    peaky = max(expected, key=lambda layer: expected[layer]["max_over_mean"])
    assert f"the peakiest layer is {peaky} (max / mean |activation| " in figure.caption
    assert f"{expected[peaky]['max_over_mean']:.3g}" in figure.caption


def test_default_vgg19_gets_a_card_and_no_extra_stage(tmp_path):
    c = StyleReportConfig.fast()
    assert not measures_network(c) and "network statistics" not in [s.name for s in _style_plan(c)]
    assert measures_network(StyleReportConfig.fast(weights="imagenet"))  # another VGG19 is measured
    run = StyleRun(c=c)
    run.network = network_card(c._transfer_config())
    report = Report(title="t")
    network_section(_Page(report, tmp_path, "style_"), run)
    (section,) = report.sections
    assert "vgg19-caffe" in section.intro and "relu4_2" in section.intro and "relu5_1" in section.intro
    assert not section.figures and not list(tmp_path.iterdir())  # nothing drawn, nothing computed
    assert run.network.statistics is None and run.network.to_dict()["license"]


def test_the_report_text_names_its_network(stub):
    """The transfer and summary texts name the network the report ran on, not always VGG19."""
    from xstyle.report.style_sections import _network_words

    assert _network_words(StyleReportConfig.fast()) == "VGG19 caffe weights"
    assert _network_words(StyleReportConfig.fast(network=stub)) == f"the network {stub}"


def test_the_network_statistics_leave_no_hooks_when_the_forward_pass_raises(stub):
    """The report's network-statistics stage taps the user's network: a failure inside it leaves
    the network as found (no hook, ``training`` and ``requires_grad`` restored)."""
    from xstyle.hooks import assert_no_hooks

    class Boom(RuntimeError):
        pass

    def explode(*_args, **_kwargs):
        raise Boom("forced failure inside the forward pass")

    net = _StubNet().train()
    net.conv1.bias.requires_grad_(False)
    net.relu2.forward = explode  # between the first and the last tapped style layer
    config = StyleReportConfig.fast(network=stub)._transfer_config()
    with pytest.raises(Boom):
        network_card(config, model=net, style=torch.rand(1, 3, 16, 16))
    assert_no_hooks(net)
    assert net.training and all(m.training for m in net.modules())
    assert net.conv1.weight.requires_grad and not net.conv1.bias.requires_grad
