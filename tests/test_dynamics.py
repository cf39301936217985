"""Probe scores across training checkpoints (xstyle.explain.gan.dynamics) and their display."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from xstyle.explain.gan.dynamics import ProbeDynamicsResult, find_checkpoints, probe_dynamics
from xstyle.explain.gan.probes import probe_layers, sample_latents
from xstyle.gan.train import load_checkpoint
from xstyle.hooks import assert_no_hooks

FAST = {"n": 60, "cv": 3, "n_components": 8, "stages": ["act0"], "attributes": ["ink", "slant"]}


def write_checkpoints(root, epochs_and_seeds):
    """Seeded, untrained DCGAN checkpoints written by the trainer, each labelled with an epoch."""
    from xstyle.data import DigitData, load_digits
    from xstyle.gan.train import GANConfig, GANTrainer

    digits = load_digits("heldout")
    data = DigitData(digits.images[:8], digits.labels[:8], "tiny")
    paths = []
    for epoch, seed in epochs_and_seeds:
        trainer = GANTrainer(data, config=GANConfig(epochs=0, seed=seed))
        trainer.epoch = epoch
        paths.append(trainer.save_checkpoint(root / f"epoch_{epoch:04d}.pt"))
    return paths


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    """Three tiny checkpoints of epochs 10, 5 and 15 (in that order; different random weights)."""
    return write_checkpoints(tmp_path_factory.mktemp("run"), [(10, 0), (5, 1), (15, 2)])


def test_dynamics_sorts_epochs_and_has_attribute_stage_epoch_scores(ckpts):
    res = probe_dynamics(ckpts, None, seed=3, **FAST)
    assert isinstance(res, ProbeDynamicsResult)
    assert res.epochs.tolist() == [5, 10, 15]
    assert [c.rsplit("_", 1)[-1] for c in res.checkpoints] == ["0005.pt", "0010.pt", "0015.pt"]
    assert res.stages == ("z", "act0") and res.attributes == ("ink", "slant")
    assert res.metrics == ("r2", "r2")
    assert res.scores.shape == res.score_std.shape == (2, 2, 3)
    assert res.chance.shape == (2, 3) and (res.chance == 0).all()
    assert np.isfinite(res.scores).all() and (res.scores <= 1).all()
    assert len(res.timings) == 3 and res.n_samples == 60 and res.seed == 3
    np.testing.assert_array_equal(res.curve("slant", "act0"), res.scores[1, 1])
    data = res.to_dict()
    json.dumps(data, allow_nan=False)
    assert data["epochs"] == [5, 10, 15]
    assert len(data["scores"]["act0"]["ink"]) == 3
    assert set(data["readable_epochs"]) == {"z", "act0"}
    assert set(data["readable_epochs"]["z"]) == {"ink", "slant"}
    with pytest.raises(ValueError, match="stage must be one of"):
        res.curve("ink", "act9")


@pytest.mark.slow
def test_dynamics_matches_probe_layers_per_checkpoint_and_is_seeded(ckpts):
    a = probe_dynamics(ckpts[:2], None, seed=1, **FAST)
    b = probe_dynamics(list(reversed(ckpts[:2])), None, seed=1, **FAST)
    c = probe_dynamics(ckpts[:2], None, seed=2, **FAST)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-9, atol=1e-12)
    assert not np.allclose(a.scores, c.scores)
    # the epoch-5 column is the probe table of that checkpoint alone (same latents, folds and PCA)
    gen = load_checkpoint(ckpts[1]).generator
    samples = sample_latents(gen, n=60, seed=1, stages=["act0"])
    table = probe_layers(samples, attributes=["ink", "slant"], cv=3, n_components=8, random_state=1)
    np.testing.assert_allclose(a.scores[:, :, 0], table.scores.T, rtol=1e-9, atol=1e-12)


def test_dynamics_with_a_classifier_records_class_chance(ckpts):
    torch.manual_seed(1)
    from xstyle.gan.classifier import DigitClassifier

    clf = DigitClassifier().eval()
    res = probe_dynamics(ckpts[:1], clf, n=60, cv=3, n_components=8, stages=["act0"])
    assert res.attributes[:2] == ("class", "confidence") and res.metrics[0] == "accuracy"
    assert res.scores.shape == (7, 2, 1)
    # the random scorer calls every digit one class: nothing to probe, chance 1, never readable
    assert np.isnan(res.scores[0]).all() and res.chance[0, 0] == 1
    assert res.readable_epochs()["z"]["class"] is None
    assert res.to_dict()["scores"]["z"]["class"] == [None]


def _result(scores, chance=None, metrics=("r2",)):
    scores = np.asarray(scores, dtype=float).reshape(len(metrics), 1, -1)
    e = scores.shape[-1]
    return ProbeDynamicsResult(
        epochs=np.arange(1, e + 1) * 5,
        checkpoints=tuple(f"epoch_{i}.pt" for i in range(e)),
        stages=("z",),
        attributes=tuple(f"a{i}" for i in range(len(metrics))),
        metrics=tuple(metrics),
        scores=scores,
        score_std=np.zeros_like(scores),
        chance=np.zeros((len(metrics), e)) if chance is None else np.asarray(chance, dtype=float),
        n_samples=100,
        n_components=None,
        cv=5,
        seed=0,
        timings=(0.0,) * e,
    )


def test_readable_epochs_is_the_first_epoch_that_stays_above_the_threshold():
    res = _result([0.1, 0.6, 0.4, 0.7, 0.8])
    assert res.readable_epochs() == {"z": {"a0": 20}}
    assert res.readable_epochs(threshold=0.75) == {"z": {"a0": 25}}
    assert res.readable_epochs(threshold=0.9) == {"z": {"a0": None}}
    assert _result([0.6, 0.7, np.nan]).readable_epochs() == {"z": {"a0": None}}
    # accuracy is normalised by chance: (0.6 - 0.2) / 0.8 = 0.5 is readable, 0.55 is not
    acc = _result([0.55, 0.6], chance=[[0.2, 0.2]], metrics=("accuracy",))
    assert acc.readable_epochs() == {"z": {"a0": 10}}
    np.testing.assert_allclose(acc.normalized()[0, 0], [0.4375, 0.5])
    with pytest.raises(ValueError, match="threshold must lie in"):
        res.readable_epochs(threshold=0)


def test_dynamics_display_has_one_panel_per_stage():
    res = _result([[0.1, 0.6], [0.5, 0.9]], chance=[[0.0, 0.0], [0.3, 0.2]], metrics=("r2", "accuracy"))
    display = res.plot()
    assert len(display.axes_) == 1 and display.figure_ is display.ax_.figure
    labels = display.ax_.get_legend_handles_labels()[1]
    assert labels == ["a0 (R²)", "a1 (accuracy)"]
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="axes must hold 1 axes"):
        res.plot(axes=axes)
    with pytest.raises(ValueError, match="stages must be a non-empty subset"):
        res.plot(stages=["act0"])


def test_dynamics_display_of_a_real_result(ckpts):
    res = probe_dynamics(ckpts[:2], None, **{**FAST, "stages": ["act0", "tanh"], "attributes": ["ink"]})
    display = res.plot()
    assert len(display.axes_) == 3
    assert [ax.get_title() for ax in display.axes_] == ["read from z", "read from act0", "read from tanh"]
    assert len(display.ax_.get_lines()) == 1
    assert len(res.plot(stages=["z", "tanh"]).axes_) == 2


def test_find_checkpoints(tmp_path, ckpts):
    found = find_checkpoints(ckpts[0].parent)
    assert [p.name for p in found] == ["epoch_0005.pt", "epoch_0010.pt", "epoch_0015.pt"]
    with pytest.raises(ValueError, match="does not exist"):
        find_checkpoints(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"holds no \.pt checkpoint"):
        find_checkpoints(tmp_path)
    (tmp_path / "final.pt").write_bytes(b"")  # not named as the trainer names its checkpoints
    with pytest.raises(ValueError, match=r"holds no \.pt checkpoint"):
        find_checkpoints(tmp_path)


@pytest.mark.parametrize(
    ("make", "kwargs", "match"),
    [
        (lambda c: [], {}, "checkpoints is empty"),
        (lambda c: [c[0], c[0].parent / "missing.pt"], {}, "does not exist"),
        (lambda c: [c[0], c[0]], {}, "both from epoch 10"),
        (lambda c: c[:1], {"n": 1}, "n must be an integer >= 2"),
        (lambda c: c[:1], {"cv": 1}, "cv must be an integer >= 2"),
        (lambda c: c[:1], {"style": True}, "pass a classifier"),
        (lambda c: c[:1], {"stages": ["act9"]}, "stages must be names"),
    ],
)
def test_dynamics_rejects_bad_input(ckpts, make, kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        probe_dynamics(make(ckpts), None, **{**FAST, **kwargs})
    assert "\n" not in str(info.value)


def test_dynamics_of_a_file_that_is_not_a_checkpoint(tmp_path):
    bad = tmp_path / "epoch_0001.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="is not a PyTorch file"):
        probe_dynamics([bad], None, **FAST)


def test_errors_in_the_forward_pass_leave_no_hooks_and_restore_flags(ckpts, monkeypatch):
    ok = load_checkpoint(ckpts[0])
    broken = load_checkpoint(ckpts[1])
    for c in (ok, broken):
        c.generator.train()
        c.generator.fc.weight.requires_grad_(False)

    def boom(*args, **kwargs):
        raise RuntimeError("forced failure inside the forward pass")

    monkeypatch.setattr(broken.generator.deconv2, "forward", boom)
    with pytest.raises(RuntimeError, match="forced failure"):
        probe_dynamics([ok, broken], None, **FAST)
    for c in (ok, broken):
        g: nn.Module = c.generator
        assert_no_hooks(g)
        assert g.training and all(m.training for m in g.modules())
        assert not g.fc.weight.requires_grad and g.deconv1.weight.requires_grad
    # loaded checkpoints work as well as paths, and are left as found
    res = probe_dynamics([ok], None, **FAST)
    assert res.epochs.tolist() == [10] and res.checkpoints[0].endswith("epoch_0010.pt")
    assert ok.generator.training
    assert_no_hooks(ok.generator)
