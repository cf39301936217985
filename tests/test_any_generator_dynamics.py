"""The checkpoint analyses on a generator that is not a digit DCGAN: dynamics over checkpoints,
latent-class attribution, the checkpoint batch task and the collection report, on tiny conditional
RGB emoji DCGANs (untrained, seeded) and on planted stubs whose answer is known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_collection_report import _batch, _check_references, _metrics
from torch import nn

from xstyle.batch.items import checkpoint_items
from xstyle.batch.tasks import BatchSettings, WorkerState, make_payload, run_item
from xstyle.explain.gan.dynamics import probe_dynamics
from xstyle.explain.gan.gan_maps import latent_class_attribution
from xstyle.explain.gan.measures import DATASET_MEASURES
from xstyle.hooks import assert_no_hooks
from xstyle.models.generators import wrap_generator

EMOJI_MEASURES = list(DATASET_MEASURES["emoji"])
FAST = {"n": 40, "cv": 3, "n_components": 8, "stages": ["act0"]}


def _write(root: Path, dataset: str, epochs_and_seeds: list[tuple[int, int]], *, conditional: bool) -> list:
    """Seeded, untrained DCGAN checkpoints of ``dataset`` written by the trainer (epochs as given)."""
    from xstyle.gan.train import GANConfig, GANTrainer, load_gan_data

    data = load_gan_data(dataset, "heldout")
    paths = []
    for epoch, seed in epochs_and_seeds:
        config = GANConfig(epochs=0, seed=seed, dataset=dataset, conditional=conditional)
        trainer = GANTrainer(data, config=config)
        trainer.epoch = epoch
        paths.append(trainer.save_checkpoint(root / f"epoch_{epoch:04d}.pt"))
    return paths


@pytest.fixture(scope="module")
def emoji_ckpts(tmp_path_factory):
    """Two tiny conditional emoji DCGAN checkpoints, epochs 2 and 1 (different random weights)."""
    return _write(tmp_path_factory.mktemp("emoji_run"), "emoji", [(2, 0), (1, 1)], conditional=True)


# ------------------------------------------------------------------------------------- dynamics


def test_dynamics_on_emoji_checkpoints_probes_the_emoji_measures(emoji_ckpts):
    res = probe_dynamics(emoji_ckpts, None, seed=0, **FAST)
    assert res.epochs.tolist() == [1, 2]
    assert list(res.attributes) == EMOJI_MEASURES  # colour, shape and skin tone: the data set's
    assert res.stages == ("z", "act0")
    assert res.scores.shape == (len(EMOJI_MEASURES), 2, 2)
    json.dumps(res.to_dict(), allow_nan=False)
    res.plot()


def test_dynamics_with_the_emoji_classifier_and_chosen_measures(emoji_ckpts):
    from xstyle.gan.classifier import load_classifier

    clf = load_classifier("shipped:emoji-classifier")
    res = probe_dynamics(emoji_ckpts, clf, measures=["skin_tone"], attributes=["class", "skin_tone"], **FAST)
    assert res.attributes == ("class", "skin_tone") and res.metrics == ("accuracy", "r2")
    assert (res.chance[0] > 0).all()  # the majority class share of the nine categories


def test_dynamics_refuses_checkpoints_of_two_data_sets(emoji_ckpts, tmp_path):
    digits = _write(tmp_path, "mnist", [(7, 0)], conditional=False)
    with pytest.raises(ValueError, match=r"different data sets: emoji .*mnist") as err:
        probe_dynamics([*emoji_ckpts, *digits], None, **FAST)
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------- latent-class attribution

LATENT, CLASSES, DECIDER = 6, 3, 2


class RedByZ(nn.Module):
    """Conditional stub G(cat(z, y)) -> (B, 3, 8, 8): red is tanh(z[2]), blue the label / 2."""

    latent_dim, n_classes = LATENT, CLASSES

    def __init__(self) -> None:
        super().__init__()
        self.gain = nn.Linear(1, 1)
        with torch.no_grad():
            self.gain.weight.fill_(1.0)
            self.gain.bias.zero_()

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        red = torch.tanh(self.gain(w[:, DECIDER : DECIDER + 1]))[:, :, None, None].expand(-1, 1, 8, 8)
        label = (w[:, LATENT:] * torch.arange(CLASSES, dtype=w.dtype)).sum(1)
        blue = (label / 2)[:, None, None, None].expand(-1, 1, 8, 8)
        return torch.cat([red, torch.zeros_like(red), blue], dim=1)


class ReadsRed(nn.Module):
    """Logits (B, 3): class 0 = -red, class 1 = red, class 2 = 0 (the label's blue never counts)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        red = x[:, 0].flatten(1).mean(1)
        return torch.stack([-red, red, torch.zeros_like(red)], dim=1)


def test_latent_class_attribution_on_a_conditional_rgb_generator_finds_the_planted_dimension():
    g = RedByZ()
    res = latent_class_attribution(g, ReadsRed(), n=30, n_steps=16, top=1, seed=0)
    assert res.attribution.shape == (CLASSES, LATENT)  # z only: the label stays on the baseline
    assert res.counts.sum() == 30 and set(np.nonzero(res.counts)[0]) == {0, 1}
    assert res.top_dims[0] == [DECIDER] and res.top_dims[1] == [DECIDER]
    assert np.isnan(res.attribution[2]).all()
    assert res.causal_passed == 1.0
    assert res.completeness < 0.01
    res.plot()
    assert_no_hooks(g)


def test_latent_class_attribution_takes_a_spec_and_its_classifier():
    spec = wrap_generator(RedByZ(), latent_dim=LATENT, n_classes=CLASSES, classifier=ReadsRed())
    res = latent_class_attribution(spec, None, n=20, n_steps=8, top=1, seed=1)
    assert res.top_dims[1] == [DECIDER]
    bare = wrap_generator(RedByZ(), latent_dim=LATENT, n_classes=CLASSES)
    with pytest.raises(ValueError, match="needs a classifier"):
        latent_class_attribution(bare, None, n=4)


class Boom(RuntimeError):
    pass


def _explode(*_args, **_kwargs):
    raise Boom("forced failure inside the forward pass")


@pytest.mark.parametrize("broken", ["generator", "classifier"])
def test_latent_class_attribution_of_a_spec_leaves_no_hooks_when_a_forward_pass_raises(broken):
    """A spec's generator and classifier keep their flags and carry no hook after a failure in either."""
    g, clf = RedByZ(), ReadsRed()
    spec = wrap_generator(g, latent_dim=LATENT, n_classes=CLASSES, classifier=clf)  # one forward pass
    g.train()
    clf.train()
    g.gain.bias.requires_grad_(False)
    if broken == "generator":
        g.gain.forward = _explode
    else:
        clf.forward = _explode
    with pytest.raises(Boom):
        latent_class_attribution(spec, None, n=6, n_steps=2, top=1, seed=0)
    for net in (g, clf):
        assert_no_hooks(net)
        assert net.training
    assert g.gain.weight.requires_grad and not g.gain.bias.requires_grad


def test_dynamics_with_the_emoji_measures_leaves_no_hooks_when_a_step_raises(emoji_ckpts):
    """probe_dynamics with measures (skin tone among them): a generator stage or a measure that
    raises leaves the loaded checkpoints' generators as found, with no hook."""
    from xstyle.gan.train import load_checkpoint

    ckpt = load_checkpoint(emoji_ckpts[0])
    g = ckpt.sampler
    g.train()

    def bad_measure(images):
        raise Boom("forced failure in a measure")

    with pytest.raises(Boom):  # a measure after the tapped forward passes
        probe_dynamics([ckpt], None, measures=["skin_tone", bad_measure], **FAST)
    assert_no_hooks(g)
    assert g.training
    g.get_submodule("act0").forward = _explode  # a tapped stage itself
    with pytest.raises(Boom):
        probe_dynamics([ckpt], None, measures=["skin_tone"], **FAST)
    assert_no_hooks(g)
    assert g.training and all(m.training for m in g.modules())


# ------------------------------------------------------------------------------- batch and report


@pytest.mark.parametrize("classifier", [None, "none"])
def test_the_checkpoint_task_scores_an_emoji_checkpoint(emoji_ckpts, classifier):
    settings = BatchSettings(gan_samples=20, probe_samples=30, seed=3, classifier=classifier)
    (item,) = checkpoint_items([str(emoji_ckpts[0])])
    out = run_item(WorkerState(), make_payload(item, settings))
    n = out["numbers"]
    assert n["epoch"] == 2 and n["dataset"] == "emoji"
    assert list(n["probe_r2"]) == EMOJI_MEASURES
    assert next(iter(n["probe_r2"]["skin_tone"])) == "z"
    if classifier is None:
        assert n["classifier"] == "auto" and 0 <= n["label_agreement"] <= 1 and n["frechet_distance"] > 0
        assert next(iter(n["probe_accuracy"])) == "z"
    else:  # no classifier: the measures only
        assert n["classifier"] is None and n["frechet_distance"] is None and n["probe_accuracy"] == {}
    assert out["files"]["samples.png"][:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bad_classifier_setting_is_one_line_and_auto_is_the_default():
    with pytest.raises(ValueError, match="classifier must be 'auto'"):
        BatchSettings(classifier="")
    assert BatchSettings(classifier="auto").classifier is None  # the CLI's word, stored as the default
    assert BatchSettings(classifier="auto").to_dict() == BatchSettings().to_dict()  # so batches resume


def test_the_collection_report_shows_the_data_set_and_the_measure_probes(tmp_path):
    items = [{"id": n, "kind": "checkpoint", "inputs": {"checkpoint": f"runs/{n}.pt"}} for n in ("a", "b")]
    done = {
        name: {
            "epoch": epoch,
            "dataset": "emoji",
            "classifier": None,
            "probe_accuracy": {},
            "probe_r2": {"skin_tone": {"z": 0.1 * epoch, "act0": 0.3 * epoch}, "hue": {"z": None}},
        }
        for name, epoch in (("a", 1), ("b", 2))
    }
    out = tmp_path / "report"
    from xstyle.report.collection import build_collection_report

    build_collection_report(_batch(tmp_path / "batch", "checkpoints", items, done=done), out=out)
    _check_references(out)
    best = _metrics(out)["metrics"]["checkpoints"]["probe_r2"]
    assert best["b"]["skin_tone"] == {"r2": pytest.approx(0.6), "stage": "act0"}
    assert "hue" not in best["a"]  # no finite score: an empty cell
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "data set" in page and "emoji" in page and "0.60 (act0)" in page


def test_the_paintings_table_names_the_network(tmp_path):
    items = [{"id": "p0", "kind": "painting", "inputs": {"painting": "art/p0.jpg"}}]
    done = {"p0": {"spectra": {}, "carriers": {}, "fingerprint_layers": [], "network": "resnet18-random"}}
    out = tmp_path / "report"
    from xstyle.report.collection import build_collection_report

    build_collection_report(_batch(tmp_path / "batch", "paintings", items, done=done), out=out)
    assert _metrics(out)["metrics"]["paintings"]["p0"]["network"] == "resnet18-random"
    assert "resnet18-random" in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_batch_checkpoints_on_the_shipped_emoji_dcgan(tmp_path, capsys):
    from xstyle.cli import main

    out = tmp_path / "batch"
    argv = ["batch", "checkpoints", "shipped:emoji-dcgan", "--out", str(out), "--workers", "1"]
    argv += ["--gan-samples", "30", "--probe-samples", "40", "--quiet"]
    assert main(argv) == 0
    (result,) = [json.loads(p.read_text()) for p in (out / "items").glob("*/result.json")]
    n = result["numbers"]
    from xstyle.gan.train import load_checkpoint

    shipped_epoch = load_checkpoint("shipped:emoji-dcgan").epoch  # the release's own epoch
    assert n["dataset"] == "emoji" and n["epoch"] == shipped_epoch and 0 <= n["label_agreement"] <= 1
    assert "skin_tone" in n["probe_r2"]
    page = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert "emoji" in page and "skin_tone" in page
