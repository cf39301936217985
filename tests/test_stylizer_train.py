"""Stylizer training on tiny configurations: determinism, exact resume, checkpoints, errors."""

import json
import os
import pickle

import pytest
import torch

from xstyle.hooks import assert_no_hooks
from xstyle.models.vgg import load_vgg19
from xstyle.stylizer import (
    ArchConfig,
    ContentSet,
    StylizerConfig,
    StylizerTrainer,
    export_stylizer,
    load_stylizer,
)

TINY = ArchConfig(channels=(4, 8, 8), n_residual=2, outer_kernel=3, disc_channels=(8, 8))


def tiny_config(**kw):
    base = dict(
        epochs=2,
        steps_per_epoch=2,
        batch_size=2,
        crop_size=32,
        style_size=48,
        patch_size=16,
        patches_per_image=2,
        arch=TINY,
    )
    return StylizerConfig(**(base | kw))


@pytest.fixture(scope="module")
def data():
    from xstyle.data import load_sample

    content = ContentSet(
        {"chelsea": load_sample("chelsea", size=48), "coffee": load_sample("coffee", size=48)}, "t"
    )
    return content, load_sample("starry_night", size=48)


@pytest.fixture(scope="module")
def vgg():
    return load_vgg19("random", last_layer="relu5_1", seed=0)


def _weights(trainer):
    return {
        **trainer.net.state_dict(),
        **{f"d.{k}": v for k, v in trainer.discriminator.state_dict().items()},
    }


def test_same_seed_same_weights(data, vgg):
    a = StylizerTrainer(*data, config=tiny_config(), vgg=vgg)
    b = StylizerTrainer(*data, config=tiny_config(), vgg=vgg)
    a.fit()
    b.fit()
    wa, wb = _weights(a), _weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert [s["total"] for s in a.steps] == [s["total"] for s in b.steps]
    assert len(a.steps) == 4 and len(a.history) == 2
    assert a.steps[0]["adversarial"] > 0 and a.steps[0]["d_loss"] > 0
    c = StylizerTrainer(*data, config=tiny_config(seed=1), vgg=vgg)
    c.fit(epochs=1)
    assert not torch.equal(c.net.conv_in.conv.weight, a.net.conv_in.conv.weight)
    assert not a.net.training and not a.discriminator.training  # eval after fit
    assert_no_hooks(vgg)


def test_training_leaves_the_callers_random_state(data, vgg):
    torch.manual_seed(42)
    caller = torch.get_rng_state()
    t = StylizerTrainer(*data, config=tiny_config(epochs=1), vgg=vgg)
    t.fit()
    assert torch.equal(torch.get_rng_state(), caller)


def test_without_adversarial_term_the_discriminator_is_untouched(data, vgg):
    t = StylizerTrainer(*data, config=tiny_config(adv_weight=0.0, epochs=1), vgg=vgg)
    before = {k: v.clone() for k, v in t.discriminator.state_dict().items()}
    t.fit()
    assert all(torch.equal(before[k], v) for k, v in t.discriminator.state_dict().items())
    assert all(s["adversarial"] == 0 and s["d_loss"] == 0 for s in t.steps)


def test_resume_gives_exactly_the_uninterrupted_weights(data, vgg, tmp_path):
    full = StylizerTrainer(*data, config=tiny_config(out_dir=str(tmp_path / "a")), vgg=vgg, style_name="s")
    full.fit()
    part = StylizerTrainer(*data, config=tiny_config(out_dir=str(tmp_path / "b")), vgg=vgg, style_name="s")
    part.fit(epochs=1)
    resumed = StylizerTrainer(
        *data,
        config=tiny_config(out_dir=str(tmp_path / "b")),
        vgg=vgg,
        style_name="s",
        resume=tmp_path / "b" / "epoch_0001.pt",
    )
    assert resumed.epoch == 1 and resumed.step == 2
    resumed.fit()
    wa, wb = _weights(full), _weights(resumed)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert [s["total"] for s in full.steps] == [s["total"] for s in resumed.steps]


def test_checkpoint_files_metadata_and_release(data, vgg, tmp_path):
    t = StylizerTrainer(
        *data, config=tiny_config(out_dir=str(tmp_path), epochs=1), vgg=vgg, style_name="sample:x"
    )
    t.fit()
    ckpt = tmp_path / "epoch_0001.pt"
    meta = json.loads(ckpt.with_suffix(".json").read_text())
    assert meta["format"] == "xstyle.stylizer/1" and meta["step"] == 2
    assert meta["meta"]["style_name"] == "sample:x" and meta["config"]["arch"]["n_residual"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left
    loaded = load_stylizer(ckpt)
    assert loaded.style.shape[:2] == (1, 3) and max(loaded.style.shape[-2:]) == 48
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.net(x), t.net.eval()(x))
    release = export_stylizer(ckpt, tmp_path / "model.pt", metrics={"seed": 0})
    assert release.stat().st_size < ckpt.stat().st_size
    card = json.loads(release.with_suffix(".json").read_text())
    assert card["metrics"] == {"seed": 0} and card["format"] == "xstyle.stylizer-release/1"
    rel = load_stylizer(release)
    with torch.no_grad():
        assert torch.equal(rel.net(x), loaded.net(x))
    with pytest.raises(ValueError, match="release"):
        StylizerTrainer(*data, config=tiny_config(), vgg=vgg, resume=release)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_bad_models_get_clear_errors_and_execute_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        load_stylizer(tmp_path / "none.pt")
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"format": "xstyle.stylizer/1", "net": _Evil()}))
    with pytest.raises(ValueError, match="weights_only=True"):
        load_stylizer(evil)
    assert not (tmp_path / "pwned").exists()
    other = tmp_path / "other.pt"
    cfg = tiny_config().to_dict()
    torch.save(
        {
            "format": "xstyle.stylizer/1",
            "config": cfg,
            "net": {"x.weight": torch.zeros(2)},
            "discriminator": {},
            "style": torch.zeros(1, 3, 4, 4, dtype=torch.uint8),
        },
        other,
    )
    with pytest.raises(ValueError, match="does not match the stylizer architecture"):
        load_stylizer(other)
    foreign = tmp_path / "foreign.pt"
    torch.save({"format": "xstyle.dcgan/1"}, foreign)
    with pytest.raises(ValueError, match="not an xstyle stylizer"):
        load_stylizer(foreign)


def test_resume_with_another_seed_is_refused(data, vgg, tmp_path):
    StylizerTrainer(*data, config=tiny_config(epochs=1, out_dir=str(tmp_path)), vgg=vgg).fit()
    with pytest.raises(ValueError, match="seed=0"):
        StylizerTrainer(*data, config=tiny_config(seed=3), vgg=vgg, resume=tmp_path / "epoch_0001.pt")


def test_training_step_error_leaves_no_hook(data):
    class Boom(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    broken = load_vgg19("random", last_layer="relu5_1", seed=0)
    t = StylizerTrainer(*data, config=tiny_config(), vgg=broken)
    broken.relu3_1 = Boom()
    with pytest.raises(RuntimeError, match="boom"):
        t.fit()
    assert_no_hooks(broken)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(batch_size=0), "batch_size must be an integer >= 1; got 0"),
        (dict(epochs=True), "epochs must be an integer >= 0; got True"),
        (dict(patch_size=64, crop_size=32), "patch_size"),
        (dict(beta=-1.0), "beta"),
        (dict(lr=2.0), "lr"),
        (dict(style_layers=("relu9_1",)), "Did you mean"),
        (dict(normalize="sum"), "normalize"),
        (dict(max_scale=0.5), "max_scale"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StylizerConfig(**kwargs)


def test_config_round_trip():
    cfg = tiny_config(style_scale=(0.5, 2.0))
    assert StylizerConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_time_budget_stops_at_an_epoch_boundary_with_a_checkpoint(data, vgg, tmp_path):
    t = StylizerTrainer(
        *data, config=tiny_config(epochs=5, checkpoint_every=3, out_dir=str(tmp_path)), vgg=vgg
    )
    t.fit(max_seconds=1e-6)  # one epoch always runs; the next would pass the budget
    assert t.epoch == 1 and (tmp_path / "epoch_0001.pt").exists()


def test_unknown_shipped_stylizer_is_a_one_line_error():
    from xstyle.stylizer.train import load_stylizer

    with pytest.raises(ValueError, match="is not shipped; choose one of") as info:
        load_stylizer("shipped:mona_lisa")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("name", "other"), [("starry_night", "great_wave"), ("great_wave", "starry_night")])
def test_shipped_stylizers_restyle_a_heldout_photo_with_their_own_painting(name, other, caffe_vgg):
    """Both stylizers the project trained ship with xstyle; each output carries its own painting's
    style: its Gram style loss to that painting is lower than the photo's, and lower than its loss to
    the other shipped painting."""
    from xstyle.data import load_sample
    from xstyle.explain.style.stylizer import image_losses
    from xstyle.stylizer.train import load_stylizer, shipped_stylizers, stylize

    assert {"starry_night", "great_wave"} <= set(shipped_stylizers())
    model = load_stylizer(f"shipped:{name}")
    assert model.meta["style_name"] == f"sample:{name}"
    photo = load_sample("chelsea", size=96)  # held out from the stylizers' training photos
    out = stylize(model.net, photo)
    assert out.shape == photo.shape
    assert 0 <= float(out.min()) and float(out.max()) <= 1
    assert float((out - photo).abs().mean()) > 0.05  # it really restyles the photo
    own, other_painting = load_sample(name, size=96), load_sample(other, size=96)
    to_own = image_losses(out, photo, own, vgg=caffe_vgg)["style"]
    assert to_own < image_losses(photo, photo, own, vgg=caffe_vgg)["style"]
    assert to_own < image_losses(out, photo, other_painting, vgg=caffe_vgg)["style"]


def test_a_diverged_run_stops_before_its_checkpoint(data, vgg, tmp_path, monkeypatch):
    t = StylizerTrainer(*data, config=tiny_config(epochs=2, out_dir=str(tmp_path)), vgg=vgg)
    t.fit(epochs=1)
    good = t.train_step()
    monkeypatch.setattr(t, "train_step", lambda: {**good, "style": float("nan")})
    with pytest.raises(FloatingPointError, match=r"training diverged in epoch 2 \(style nan\); lower"):
        t.fit()
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == ["epoch_0001.pt"]
