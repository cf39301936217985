"""summarise_style: the report's opening answer read off the Results (planted numbers)."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from xstyle.explain.style.summary import summarise_style


def _spectrum(eigenvalues):
    lam = torch.tensor(eigenvalues, dtype=torch.float64)
    return SimpleNamespace(
        n_channels=len(eigenvalues),
        components_for=lambda f: int(torch.searchsorted(torch.cumsum(lam, 0) / lam.sum(), f - 1e-12)) + 1,
    )


def _inputs(passed=True):
    test = SimpleNamespace(passed=passed, gain=0.1, gain_ci=(0.02, 0.2), verdict="localised")
    regions = SimpleNamespace(
        style_test=test,
        content_test=SimpleNamespace(passed=False, gain=-0.01, gain_ci=(-0.05, 0.03), verdict="uniform"),
        verdict={"style": "localised", "content": "uniform"},
        regions=SimpleNamespace(style_share=0.4, style=np.zeros(16), method="grid"),
        to_dict=lambda: {},
    )
    maps = SimpleNamespace(
        losses={
            "style:relu1_1": {"image": 1.0, "baseline": 4.0},  # drop 3
            "style:relu2_1": {"image": 2.0, "baseline": 3.0},  # drop 1
            "style:total": {"image": 3.0, "baseline": 7.0},
            "content": {"image": 5.0, "baseline": 9.0},
        },
        randomisation={"style:total": SimpleNamespace(passed=True)},
        deletion={},
    )
    scores = torch.tensor([0.0, 8.0, -1.0, 1.0])  # channel 1 holds 80 % of |attribution|
    carriers = SimpleNamespace(style_scores={"relu1_1": scores})
    decomposition = SimpleNamespace(
        layers=("relu1_1", "relu2_1"),
        spectra={"relu1_1": _spectrum([8, 1, 0.6, 0.4]), "relu2_1": _spectrum([1, 1, 1, 1])},
    )
    return dict(regions=regions, maps=maps, carriers=carriers, decomposition=decomposition)


def test_summary_reads_layers_channels_components_and_checks():
    s = summarise_style(**_inputs(), top_k=1)
    assert s.layer_share == pytest.approx({"relu1_1": 0.75, "relu2_1": 0.25})
    assert s.top_channels == {"relu1_1": [1]} and s.channel_share["relu1_1"] == pytest.approx(0.8)
    assert s.components_90 == {"relu1_1": 2, "relu2_1": 4}
    assert s.checks["style regions"] is True and s.checks["content regions"] is False
    assert s.checks["style randomisation"] is True and s.checks["content randomisation"] is None
    rows = s.rows()
    assert rows[0][2].startswith("style map beats random insertion: passes (gain +0.100")
    assert "+0.200; localised); content map: fails" in rows[0][2] and rows[0][2].endswith("; uniform)")
    assert s.verdict == {"style": "localised", "content": "uniform"} == s.to_dict()["verdict"]
    assert "relu1_1 accounts for 75 %" in rows[1][1] and rows[3][2].endswith("not run")
    assert "channels 1" in rows[2][1] and rows[2][2] == "no ablation run"
    assert s.to_dict()["rows"][0][0] == "Which regions carry the style?"


def test_summary_draws_four_panels_and_refuses_bad_top_k():
    import matplotlib.pyplot as plt

    from xstyle.explain.style.regions import region_evidence

    with pytest.raises(ValueError, match="top_k must be a whole number >= 1"):
        summarise_style(**_inputs(), top_k=0)
    inputs = _inputs()
    style_map = torch.zeros(16, 16)
    style_map[:, :8] = 1.0
    inputs["regions"].regions = region_evidence(
        style_map,
        1.0 - style_map,
        torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0)),
        method="grid",
        n_regions=4,
    )
    d = summarise_style(**inputs, top_k=2).plot()
    assert d.axes_.shape == (4,) and "passes the insertion test" in d.axes_[0].get_title()
    assert [t.get_text() for t in d.axes_[1].get_yticklabels()] == ["relu1_1", "relu2_1"]
    assert [t.get_text() for t in d.axes_[1].texts] == ["75%", "25%"]
    assert [t.get_text() for t in d.axes_[3].texts] == ["2 of 4", "4 of 4"]
    plt.close("all")
