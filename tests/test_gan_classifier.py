"""Tests for xstyle.gan.classifier (the digit scorer) and xstyle.gan.metrics (IS / FD analogues)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from xstyle.data import DigitData, load_digits
from xstyle.gan.classifier import (
    FEATURE_DIM,
    ClassifierConfig,
    DigitClassifier,
    evaluate_classifier,
    load_classifier,
    save_classifier,
    shift_digits,
    train_classifier,
)
from xstyle.gan.dcgan import Generator
from xstyle.gan.metrics import (
    GANQuality,
    class_balance,
    classifier_outputs,
    evaluate_generator,
    frechet_distance,
    inception_score,
)

QUICK = ClassifierConfig(epochs=1, batch_size=64, seed=0)


def _subset(data: DigitData, per_class: int) -> DigitData:
    """The first ``per_class`` digits of each class (balanced, deterministic)."""
    idx = torch.cat([torch.nonzero(data.labels == d).flatten()[:per_class] for d in range(10)])
    return DigitData(
        images=data.images[idx], labels=data.labels[idx], source=f"{data.source}[:{per_class}/class]"
    )


@pytest.fixture(scope="module")
def train_digits() -> DigitData:
    return load_digits("train")


@pytest.fixture(scope="module")
def heldout() -> DigitData:
    return load_digits("heldout")


@pytest.fixture(scope="module")
def quick_model(train_digits: DigitData) -> DigitClassifier:
    """Two epochs on 100 digits per class: a few seconds, clearly better than chance."""
    return train_classifier(_subset(train_digits, 100), config=ClassifierConfig(epochs=2, seed=0))


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# --------------------------------------------------------------------------- the classifier


def test_classifier_shapes_and_named_modules():
    model = DigitClassifier().eval()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        logits, feats = model(x), model.features(x)
    assert logits.shape == (5, 10) and feats.shape == (5, FEATURE_DIM) == (5, 128)
    assert float(feats.min()) >= 0.0  # ReLU features
    torch.testing.assert_close(model.head(feats), logits)
    names = [n for n, _ in model.named_children()]
    assert names == [
        "conv1",
        "act1",
        "pool1",
        "conv2",
        "act2",
        "pool2",
        "flatten",
        "fc1",
        "act3",
        "drop",
        "fc2",
    ]
    assert not any(getattr(m, "inplace", False) for m in model.modules())
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        model(torch.zeros(2, 3, 28, 28))


def test_shift_digits_moves_pixels_and_fills_background():
    img = torch.full((1, 1, 28, 28), -1.0)
    img[0, 0, 10, 12] = 1.0
    batch = img.repeat(200, 1, 1, 1)
    shifted = shift_digits(batch, max_shift=2, generator=torch.Generator().manual_seed(0))
    assert shifted.shape == batch.shape and torch.equal(batch, img.repeat(200, 1, 1, 1))  # input untouched
    assert float(shifted.min()) == -1.0 and torch.all(shifted.flatten(1).max(dim=1).values == 1.0)
    pos = [divmod(int(s.flatten().argmax()), 28) for s in shifted]
    dys = {r - 10 for r, _ in pos}
    dxs = {c - 12 for _, c in pos}
    assert dys == dxs == {-2, -1, 0, 1, 2}  # every shift in [-2, 2] occurs, no other
    again = shift_digits(batch, max_shift=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(shifted, again)
    # a digit at the border loses the pixels shifted out and gains background
    edge = torch.full((1, 1, 28, 28), 1.0)
    out = shift_digits(edge.repeat(50, 1, 1, 1), max_shift=2, generator=torch.Generator().manual_seed(1))
    assert float(out.min()) == -1.0
    assert torch.equal(shift_digits(img, max_shift=0, generator=torch.Generator()), img)


def test_config_validation():
    assert ClassifierConfig().augment is True
    for bad in ({"epochs": 0}, {"batch_size": 0}, {"lr": 0.0}, {"weight_decay": -1.0}, {"epochs": 1.5}):
        with pytest.raises(ValueError, match="ClassifierConfig"):
            ClassifierConfig(**bad)
    with pytest.raises(TypeError):
        ClassifierConfig(3)  # keyword-only


def test_training_is_deterministic_and_leaves_global_rng(train_digits):
    small = _subset(train_digits, 20)
    state = torch.get_rng_state()
    a = train_classifier(small, config=QUICK)
    assert torch.equal(torch.get_rng_state(), state)
    b = train_classifier(small, config=QUICK)
    c = train_classifier(small, config=ClassifierConfig(epochs=1, batch_size=64, seed=1))
    assert _same_weights(a, b)
    assert not _same_weights(a, c)
    assert not a.training


def test_training_reports_epochs_and_validates_input(train_digits):
    seen: list[dict] = []
    train_classifier(
        _subset(train_digits, 10), config=ClassifierConfig(epochs=2, augment=False), callbacks=[seen.append]
    )
    assert [d["epoch"] for d in seen] == [1, 2]
    assert all(d["epochs"] == 2 and math.isfinite(d["loss"]) and d["loss"] > 0 for d in seen)
    # a callback that draws from the global RNG does not change the (dropout of the) next epoch
    cfg = ClassifierConfig(epochs=2, augment=False)
    quiet = train_classifier(_subset(train_digits, 10), config=cfg)
    noisy = train_classifier(_subset(train_digits, 10), config=cfg, callbacks=[lambda _: torch.rand(7)])
    assert _same_weights(quiet, noisy)
    bad = DigitData(images=train_digits.images[:4] * 3, labels=train_digits.labels[:4], source="scaled wrong")
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        train_classifier(bad)


def test_short_training_beats_chance(quick_model, heldout):
    acc = evaluate_classifier(quick_model, heldout)
    assert 0.0 <= acc <= 1.0
    assert acc > 0.6  # chance is 0.1
    untrained = DigitClassifier()
    assert evaluate_classifier(untrained, heldout) < 0.35


def test_evaluate_restores_training_flag(quick_model, heldout):
    small = _subset(heldout, 5)
    quick_model.train()
    quick_model.drop.eval()
    try:
        acc_train_mode = evaluate_classifier(quick_model, small, batch_size=7)
        assert quick_model.training and not quick_model.drop.training  # each submodule's own mode
    finally:
        quick_model.eval()
    assert evaluate_classifier(quick_model, small) == acc_train_mode  # eval mode (no dropout) both times
    assert not quick_model.training
    with pytest.raises(ValueError, match="batch_size"):
        evaluate_classifier(quick_model, small, batch_size=0)


def test_save_load_round_trip(quick_model, heldout, tmp_path):
    path = save_classifier(quick_model, tmp_path / "scorer.pt", metadata={"heldout_accuracy": 0.9, "seed": 0})
    assert path == tmp_path / "scorer.pt"
    meta = json.loads((tmp_path / "scorer.json").read_text())
    assert meta == {"architecture": "DigitClassifier", "heldout_accuracy": 0.9, "seed": 0}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scorer.json", "scorer.pt"]  # no temp files left
    loaded = load_classifier(path)
    assert isinstance(loaded, DigitClassifier) and not loaded.training
    x = heldout.images[:32]
    with torch.no_grad():
        assert torch.equal(loaded(x), quick_model(x))
    with pytest.raises(ValueError, match="JSON"):
        save_classifier(quick_model, tmp_path / "other.pt", metadata={"bad": object()})
    assert not (tmp_path / "other.pt").exists()


class _CreatesFile:
    """Unpickling this would call open(target, 'w') -- i.e. create a file."""

    def __init__(self, target: Path) -> None:
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_classifier(tmp_path / "missing.pt")

    wrong = tmp_path / "wrong.pt"
    torch.save(nn.Linear(3, 2).state_dict(), wrong)
    with pytest.raises(ValueError, match="does not match DigitClassifier"):
        load_classifier(wrong)

    reshaped = DigitClassifier().state_dict()
    reshaped["fc1.weight"] = torch.zeros(128, 99)
    torch.save(reshaped, tmp_path / "reshaped.pt")
    with pytest.raises(ValueError, match=r"does not match DigitClassifier \(fc1.weight is \(128, 99\)"):
        load_classifier(tmp_path / "reshaped.pt")

    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(
        ValueError, match=r"holds a list, not classifier weights.*`xstyle gan train-classifier`"
    ):
        load_classifier(tmp_path / "list.pt")

    from xstyle.models.shipped import resolve_shipped

    with pytest.raises(
        ValueError, match=r"is an xstyle 'xstyle.dcgan-release/1' checkpoint, not digit-classifier"
    ):
        # the DCGAN passed where the classifier belongs
        load_classifier(resolve_shipped("shipped:dcgan", "dcgan"))

    cut_message = None
    (tmp_path / "cut.pt").write_bytes((tmp_path / "list.pt").read_bytes()[:200])
    try:
        load_classifier(tmp_path / "cut.pt")
    except ValueError as err:
        cut_message = str(err)
    assert cut_message is not None and "\n" not in cut_message
    # torch's reason is cut after a whole sentence or word, never mid-word ("...an interna")
    reason = cut_message.split("(", 1)[1].split("); the file may be damaged")[0]
    assert reason.endswith((".", "...")) or len(reason) < 100, reason

    (tmp_path / "text.pt").write_text("not a torch file")
    with pytest.raises(ValueError, match="is not a PyTorch file"):
        load_classifier(tmp_path / "text.pt")

    (tmp_path / "cut.pt").write_bytes((tmp_path / "list.pt").read_bytes()[:200])
    with pytest.raises(
        ValueError, match=r"may be damaged; give a \.pt file written by `xstyle gan train-classifier`"
    ):
        load_classifier(tmp_path / "cut.pt")

    target = tmp_path / "pwned.txt"
    evil = tmp_path / "evil.pt"
    torch.save({"conv1.weight": _CreatesFile(target)}, evil)
    assert not target.exists()
    with pytest.raises(ValueError, match=r"calls or builds .*open, which was not run") as info:
        load_classifier(evil)
    assert "\n" not in str(info.value)
    assert not target.exists()


# --------------------------------------------------------------------------- metrics


def test_inception_score_bounds():
    assert inception_score(torch.eye(10)[[3] * 50]) == pytest.approx(1.0)
    assert inception_score(torch.eye(10).repeat(20, 1)) == pytest.approx(10.0)
    assert inception_score(np.full((8, 10), 0.1)) == pytest.approx(1.0)
    # confident but split over two classes only -> 2
    assert inception_score(torch.eye(10)[[0, 1] * 10]) == pytest.approx(2.0)
    soft = torch.softmax(torch.randn(200, 10, generator=torch.Generator().manual_seed(0)), dim=1)
    assert 1.0 < inception_score(soft) < 10.0
    with pytest.raises(ValueError, match="summing to 1"):
        inception_score(torch.randn(4, 10))


def test_frechet_distance_properties():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 16))
    y = rng.normal(size=(300, 16)) * 1.5 + 0.3
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-6)
    assert frechet_distance(x, y) > 1.0
    # two Gaussians with identity covariance: FD -> ||mu_a - mu_b||^2
    mu_a, mu_b = np.zeros(4), np.array([1.0, -2.0, 0.5, 0.0])
    a = rng.normal(size=(20000, 4)) + mu_a
    b = rng.normal(size=(20000, 4)) + mu_b
    assert frechet_distance(torch.from_numpy(a).float(), b) == pytest.approx(
        float(np.sum((mu_a - mu_b) ** 2)), abs=0.1
    )
    # rank-deficient covariances (fewer samples than dimensions, dead units) still give a finite value
    feats = np.abs(rng.normal(size=(20, 128)))
    feats[:, :40] = 0.0
    value = frechet_distance(feats, np.abs(rng.normal(size=(30, 128))))
    assert math.isfinite(value) and value > 0
    with pytest.raises(ValueError, match="same width"):
        frechet_distance(x, x[:, :3])


def test_class_balance_known_inputs():
    probs = torch.eye(10)[[0, 0, 0, 1]]
    out = class_balance(probs)
    assert out["counts"] == [3, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert out["fractions"][:2] == [0.75, 0.25] and sum(out["fractions"]) == pytest.approx(1.0)
    h = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(10)
    assert out["entropy"] == pytest.approx(h)
    assert class_balance(torch.eye(10)[[4] * 9])["entropy"] == pytest.approx(0.0)
    assert class_balance(torch.eye(10).repeat(3, 1))["entropy"] == pytest.approx(1.0)


def test_classifier_outputs_shapes_and_state(quick_model, heldout):
    quick_model.train()
    try:
        probs, feats = classifier_outputs(quick_model, heldout.images[:50], batch_size=16)
        assert quick_model.training
    finally:
        quick_model.eval()
    assert probs.shape == (50, 10) and feats.shape == (50, 128)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(50))
    assert not probs.requires_grad and not feats.requires_grad
    with torch.no_grad():
        torch.testing.assert_close(probs, torch.softmax(quick_model(heldout.images[:50]), dim=1))


@pytest.mark.parametrize("training", [True, False])
def test_evaluate_generator_untrained(quick_model, heldout, training):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        gen = Generator()
    gen.train(training)
    q1 = evaluate_generator(gen, quick_model, heldout, n_samples=64, seed=3, batch_size=32)
    assert gen.training is training and not quick_model.training
    q2 = evaluate_generator(gen, quick_model, heldout, n_samples=64, seed=3, batch_size=32)
    assert q1 == q2
    assert isinstance(q1, GANQuality) and q1.n_samples == 64
    assert 1.0 <= q1.inception_score <= 10.0
    assert q1.frechet_distance > 0.0 and math.isfinite(q1.frechet_distance)
    assert 0.0 <= q1.confident_fraction <= 1.0 and 0.1 <= q1.mean_confidence <= 1.0
    assert len(q1.class_counts) == 10 and sum(q1.class_counts) == 64
    assert 0.0 <= q1.balance_entropy <= 1.0
    d = q1.to_dict()
    assert json.loads(json.dumps(d)) == d and d["class_counts"] == list(q1.class_counts)
    # an untrained generator makes noise blobs: far from the real digits, far more than real vs real
    real_a, real_b = _subset(heldout, 25), DigitData(heldout.images[1::2], heldout.labels[1::2], "odd")
    _, fa = classifier_outputs(quick_model, real_a.images)
    _, fb = classifier_outputs(quick_model, real_b.images)
    assert q1.frechet_distance > 2 * frechet_distance(fa, fb)
    q3 = evaluate_generator(gen, quick_model, heldout, n_samples=64, seed=4, batch_size=32)
    assert q3 != q1


def test_evaluate_generator_validates(quick_model, heldout):
    with pytest.raises(ValueError, match="n_samples"):
        evaluate_generator(Generator(), quick_model, heldout, n_samples=1)


@pytest.mark.slow
def test_default_config_reaches_97_percent(train_digits, heldout):
    model = train_classifier(train_digits)
    assert evaluate_classifier(model, heldout) >= 0.97


def test_shipped_classifier_loads_and_scores_the_heldout_digits():
    import json

    from xstyle.data import load_digits
    from xstyle.gan.classifier import evaluate_classifier, load_classifier
    from xstyle.models.shipped import resolve_shipped

    path = resolve_shipped("shipped:digit-classifier", "digit-classifier")
    model = load_classifier(path)
    accuracy = evaluate_classifier(model, load_digits("heldout"))
    card = json.loads(path.with_suffix(".json").read_text())
    assert accuracy >= 0.97
    assert abs(accuracy - card["heldout_accuracy"]) < 1e-9  # the model card tells the truth
    assert path.stat().st_size < 10_000_000
