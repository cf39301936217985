"""What the Displays draw: lines, labels and values, from small hand-made results."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from xstyle._plotting import Display
from xstyle.explain.gan.plots import ProbeTableDisplay
from xstyle.explain.gan.probes import ProbeTableResult
from xstyle.explain.style.ablation import AblationResult
from xstyle.explain.style.plots import AblationCurveDisplay, GramSpectrumDisplay, TradeoffDisplay
from xstyle.explain.style.tradeoff import TradeoffResult
from xstyle.gan.plots import GANTrainingDisplay
from xstyle.transfer import TransferConfig, TransferResult, TransferStep
from xstyle.transfer_plots import TransferLossDisplay


def _lines(ax) -> dict[str, np.ndarray]:
    """label -> y data of the labelled lines of ``ax``."""
    return {
        ln.get_label(): np.asarray(ln.get_ydata(), dtype=float)
        for ln in ax.get_lines()
        if not ln.get_label().startswith("_")
    }


def _transfer_result(alpha: float = 2.0, beta: float = 1e3) -> TransferResult:
    config = TransferConfig(size=64, steps=(2, 2), alpha=alpha, beta=beta, normalize="mean", min_level=16)
    content, style = [4.0, 3.0, 2.0, 1.0], [0.5, 0.4, 0.3, 0.2]
    history = [
        TransferStep(
            level=i // 2,
            size=config.level_sizes[i // 2],
            step=i,
            total=alpha * c + beta * s,
            content=c,
            style=s,
            content_per_layer={},
            style_per_layer={},
        )
        for i, (c, s) in enumerate(zip(content, style, strict=True))
    ]
    return TransferResult(image=torch.zeros(1, 3, 8, 8), history=history, final={}, timings={}, config=config)


def test_every_display_shares_the_protocol():
    """Every public ``*Display`` of a plots module (beside its results) is a Display that draws itself."""
    import importlib
    import pkgutil

    import xstyle

    names = ["xstyle"] + [m.name for m in pkgutil.walk_packages(xstyle.__path__, "xstyle.")]
    plots = [importlib.import_module(n) for n in names if n.rsplit(".", 1)[-1].endswith("plots")]
    classes = {
        f"{module.__name__}.{name}": getattr(module, name)
        for module in plots
        for name in getattr(module, "__all__", [])
        if name.endswith("Display")
    }
    assert len(classes) >= 27
    for name, cls in classes.items():
        assert issubclass(cls, Display), name
        assert "plot" in vars(cls), name  # each draws its own picture


def test_transfer_loss_display_draws_the_weighted_terms():
    result = _transfer_result(alpha=2.0, beta=1e3)
    display = TransferLossDisplay.from_result(result).plot()
    ax = display.ax_
    assert display.figure_ is ax.figure
    lines = _lines(ax)
    assert set(lines) == {"total", "α·content (α=2)", "β·style (β=1000)"}
    np.testing.assert_allclose(lines["total"], [h.total for h in result.history])
    np.testing.assert_allclose(lines["α·content (α=2)"], [2.0 * h.content for h in result.history])
    np.testing.assert_allclose(lines["β·style (β=1000)"], [1e3 * h.style for h in result.history])
    # with alpha and beta as applied ("mean" normalisation), the two terms add up to the total
    np.testing.assert_allclose(lines["α·content (α=2)"] + lines["β·style (β=1000)"], lines["total"])
    assert ax.get_xlabel() == "optimiser evaluation (all pyramid levels)"
    assert ax.get_title() == "Style transfer losses"
    assert ax.get_yscale() == "log"
    # one dotted marker where the pyramid level changes, labelled with the new level's size
    assert [t.get_text() for t in ax.texts] == [f"{result.config.level_sizes[1]} px"]


def test_transfer_loss_display_alpha_changes_the_content_line():
    lines = _lines(TransferLossDisplay.from_result(_transfer_result(alpha=10.0)).plot(log_scale=False).ax_)
    np.testing.assert_allclose(lines["α·content (α=10)"], [40.0, 30.0, 20.0, 10.0])


def test_gan_training_display_lines_and_twin_axis():
    history = [
        {"epoch": 1, "d_loss": 1.2, "g_loss": 0.8, "quality_frechet_distance": 400.0},
        {"epoch": 2, "d_loss": 1.0, "g_loss": 1.1},
        {"epoch": 3, "d_loss": 0.9, "g_loss": 1.3, "quality_frechet_distance": 20.0},
    ]
    display = GANTrainingDisplay.from_result(history).plot()
    ax = display.ax_
    lines = _lines(ax)
    np.testing.assert_allclose(lines["discriminator loss"], [1.2, 1.0, 0.9])
    np.testing.assert_allclose(lines["generator loss"], [0.8, 1.1, 1.3])
    (twin,) = [a for a in ax.figure.axes if a is not ax]
    (fd,) = twin.get_lines()
    np.testing.assert_allclose(fd.get_xdata(), [1, 3])
    np.testing.assert_allclose(fd.get_ydata(), [400.0, 20.0])
    assert twin.get_yscale() == "log"  # a fall over more than a decade
    assert ax.get_xlabel() == "epoch" and ax.get_title() == "DCGAN training"
    assert len(ax.get_legend().get_texts()) == 3


def test_gram_spectrum_display_one_normalised_line_per_layer(random_vgg, tiny_images):
    from xstyle.explain.style.gram import decompose_gram

    result = decompose_gram(tiny_images[1], model=random_vgg, layers=["relu1_1", "relu2_1"])
    display = GramSpectrumDisplay.from_result(result).plot(kind="cumulative")
    ax = display.ax_
    lines = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert len(lines) == 2
    for ln, name in zip(lines, ["relu1_1", "relu2_1"], strict=True):
        assert ln.get_label().startswith(f"{name}: PR ")
        lam = result.spectra[name].eigenvalues.clamp_min(0).numpy()
        np.testing.assert_allclose(ln.get_ydata(), np.cumsum(lam / lam.sum()), rtol=1e-6)
        assert ln.get_ydata()[-1] == pytest.approx(1.0)
    assert ax.get_ylabel() == "energy of the top k components"
    assert ax.get_xlabel() == "component k"
    with pytest.raises(ValueError, match="kind"):
        GramSpectrumDisplay.from_result(result).plot(kind="pie")


def _ablation_result() -> AblationResult:
    return AblationResult(
        layer="relu3_1",
        mode="zero",
        counts=(1, 2, 4),
        orders={},
        scores={},
        content_before=2.0,
        style_before=10.0,
        content_after={"gram": [2.0, 3.0, 4.0], "random": [2.0, 2.2, 2.4]},
        style_after={"gram": [12.0, 15.0, 20.0], "random": [10.0, 11.0, 12.0]},
        rerun=None,
        rank_correlation=None,
        summary={},
        config=TransferConfig(),
        timings={},
        image=None,
        meta={},
    )


def test_ablation_curve_display_two_panels_of_relative_change():
    display = AblationCurveDisplay.from_result(_ablation_result()).plot()
    style_ax, content_ax = display.axes_
    np.testing.assert_allclose(_lines(style_ax)["gram"], [0.2, 0.5, 1.0])
    np.testing.assert_allclose(_lines(style_ax)["random"], [0.0, 0.1, 0.2])
    np.testing.assert_allclose(_lines(content_ax)["gram"], [0.0, 0.5, 1.0])
    for ln in style_ax.get_lines()[:2]:
        np.testing.assert_allclose(ln.get_xdata(), [1, 2, 4])
    assert style_ax.get_title() == "Style loss" and content_ax.get_title() == "Content loss"
    assert style_ax.get_ylabel() == "style loss, relative change"
    assert style_ax.get_xlabel() == "channels of relu3_1 zero-ablated"
    assert style_ax.get_xscale() == "log"


def test_ablation_curve_display_on_one_axes_dashes_content():
    _, ax = plt.subplots()
    display = AblationCurveDisplay.from_result(_ablation_result()).plot(ax=ax)
    assert display.ax_ is ax
    lines = _lines(ax)
    assert set(lines) == {"gram (style)", "random (style)", "gram (content)", "random (content)"}
    styles = {ln.get_label(): ln.get_linestyle() for ln in ax.get_lines()}
    assert styles["gram (style)"] == "-" and styles["gram (content)"] == "--"


def test_tradeoff_display_curve_knee_and_thumbnails():
    result = TradeoffResult(
        ratios=(1e-4, 1e-3, 1e-2),
        alpha=1.0,
        content_loss=[0.1, 0.5, 2.0],
        style_loss=[9.0, 3.0, 2.5],
        ssim=[0.9, 0.7, 0.4],
        images=[torch.full((1, 3, 4, 4), v) for v in (0.2, 0.5, 0.8)],
        knee=1,
        balance=1e-3,
        config=TransferConfig(),
        timings={},
        meta={},
    )
    display = TradeoffDisplay.from_result(result).plot()
    ax = display.ax_
    curve, knee = ax.get_lines()
    np.testing.assert_allclose(curve.get_xdata(), [0.1, 0.5, 2.0])
    np.testing.assert_allclose(curve.get_ydata(), [9.0, 3.0, 2.5])
    assert (knee.get_xdata()[0], knee.get_ydata()[0]) == (0.5, 3.0) and knee.get_label() == "knee"
    assert [t.get_text() for t in ax.texts] == ["β/α=0.0001", "β/α=0.001", "β/α=0.01"]
    thumbs = [a for a in display.figure_.axes if a is not ax]
    assert len(thumbs) == 3
    assert thumbs[1].get_title() == "β/α=0.001 (knee)\nSSIM 0.70"
    assert ax.get_xlabel() == "content loss (unweighted)"
    assert ax.get_ylabel() == "style loss (unweighted)"


def test_probe_table_display_cells_and_labels():
    scores = np.array([[0.95, 0.30], [0.50, np.nan]])
    result = ProbeTableResult(
        stages=("z", "act0"),
        attributes=("class", "ink"),
        metrics=("accuracy", "r2"),
        scores=scores,
        score_std=np.zeros_like(scores),
        chance=np.array([0.1, 0.0]),
        n_features=(100, 256),
        n_samples=64,
        n_components=None,
        cv=3,
        random_state=0,
    )
    display = ProbeTableDisplay.from_result(result).plot()
    ax = display.ax_
    assert [t.get_text() for t in ax.texts] == ["0.95", "0.30", "0.50", "n/a"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["class\n(accuracy, chance 0.10)", "ink\n(R²)"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["z", "act0"]
    (image,) = ax.get_images()
    np.testing.assert_allclose(np.ma.filled(image.get_array(), np.nan), np.clip(scores, 0, 1))
    assert ax.get_title() == "Linear probes: how readable is each attribute?"
