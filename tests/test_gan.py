import json
import os
import pickle

import numpy as np
import pytest
import torch

from xstyle.data import load_digits, validate_digits
from xstyle.gan import (
    Discriminator,
    GANConfig,
    GANTrainer,
    Generator,
    discriminator_loss,
    generator_loss,
    load_checkpoint,
)
from xstyle.hooks import FeatureTap, assert_no_hooks


def test_shapes_range_and_parameter_counts():
    torch.manual_seed(0)
    g, d = Generator(), Discriminator()
    x = g(torch.randn(4, 100))
    assert x.shape == (4, 1, 28, 28)
    assert float(x.min()) >= -1 and float(x.max()) <= 1
    assert d(x).shape == (4, 1)
    # the design's Keras model: 2,305,472 trainable generator and 212,865 discriminator parameters
    assert sum(p.numel() for p in g.parameters()) == 2_305_472
    assert sum(p.numel() for p in d.parameters()) == 212_865
    assert g.fc.bias is None and g.deconv3.bias is None


def test_keras_initialisation_keeps_the_tanh_out_of_saturation():
    torch.manual_seed(0)
    g = Generator()
    bound = (6 / (64 * 25 + 1 * 25)) ** 0.5  # Glorot-uniform bound of the last layer
    assert float(g.deconv3.weight.abs().max()) <= bound
    assert float(Discriminator().fc.bias.abs().max()) == 0
    with torch.no_grad():
        x = g(torch.randn(64, 100))
    assert float((x.abs() > 0.99).float().mean()) < 0.01
    assert float(x.std(0).mean()) > 0.1  # samples differ


def test_every_generator_stage_can_be_tapped():
    g = Generator().eval()
    stages = ["act0", "reshape", "act1", "act2", "tanh"]
    with FeatureTap(g, stages) as tap:
        feats = tap.run(torch.randn(2, 100))
    assert [tuple(feats[s].shape[1:]) for s in stages] == [
        (12544,),
        (256, 7, 7),
        (128, 7, 7),
        (64, 14, 14),
        (1, 28, 28),
    ]
    assert_no_hooks(g)


def test_losses_are_bce_from_logits():
    real, fake = torch.tensor([[2.0], [0.0]]), torch.tensor([[-1.0], [0.5]])
    sp = torch.nn.functional.softplus
    expected_d = sp(-real).mean() + sp(fake).mean()
    assert torch.allclose(discriminator_loss(real, fake), expected_d)
    assert torch.allclose(generator_loss(fake), sp(-fake).mean())


def test_digit_sample_split_is_stratified_and_scaled():
    train, held = load_digits("train"), load_digits("heldout")
    assert len(train) == 4500 and len(held) == 500
    assert torch.bincount(train.labels).tolist() == [450] * 10
    assert torch.bincount(held.labels).tolist() == [50] * 10
    assert float(train.images.min()) == -1 and float(train.images.max()) == 1
    # no digit is in both parts
    t = {tuple(row) for row in train.images.view(len(train), -1)[:, ::7].tolist()}
    assert not any(tuple(row) in t for row in held.images.view(len(held), -1)[:, ::7].tolist())


@pytest.mark.parametrize(
    ("images", "labels", "match"),
    [
        (torch.zeros(3, 28, 28), torch.zeros(3, dtype=torch.long), "shape"),
        (torch.full((2, 1, 28, 28), float("nan")), torch.zeros(2, dtype=torch.long), "NaN"),
        (torch.zeros(2, 1, 28, 28), torch.tensor([0, 10]), "0..9"),
        (torch.full((2, 1, 28, 28), 255.0), torch.zeros(2, dtype=torch.long), r"\[-1, 1\]"),
        (torch.zeros(2, 1, 28, 28), torch.zeros(3, dtype=torch.long), "labels must have shape"),
    ],
)
def test_bad_digits_are_rejected(images, labels, match):
    with pytest.raises(ValueError, match=match):
        validate_digits(images, labels)


def test_mnist_offline_without_files_gives_a_clear_error(tmp_path):
    from xstyle.data import load_mnist

    with pytest.raises(ValueError, match="offline sample"):
        load_mnist(tmp_path)


def _write_mnist_root(root, pixels, labels):
    """torchvision's raw MNIST files (IDX, uncompressed) holding ``pixels`` (N, 784) uint8 as both splits."""
    import struct

    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix in ("train", "t10k"):
        head = struct.pack(">IIII", 0x803, len(pixels), 28, 28)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(head + pixels.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 0x801, len(labels)) + labels.tobytes()
        )


def test_mnist_can_leave_out_the_offline_sample(tmp_path):
    from xstyle.data import _sample_table, load_mnist

    sample_pixels, sample_labels = _sample_table()
    rng = np.random.default_rng(0)
    other = rng.integers(0, 256, size=(6, 784), dtype=np.uint8)
    pixels = np.concatenate([sample_pixels[[3, 4000]], other, sample_pixels[[2500]]])
    labels = np.concatenate([sample_labels[[3, 4000]], np.arange(6, dtype=np.uint8), sample_labels[[2500]]])
    _write_mnist_root(tmp_path, pixels, labels)

    full = load_mnist(tmp_path)
    assert len(full) == 9
    kept = load_mnist(tmp_path, exclude_sample=True)
    assert len(kept) == 6
    assert kept.labels.tolist() == list(range(6))
    assert torch.equal(kept.images, full.images[2:8])
    assert "without the 3 digits of the offline sample" in kept.source


def test_a_few_steps_lower_the_discriminator_loss(small_digits):
    trainer = GANTrainer(small_digits, config=GANConfig(epochs=1, batch_size=32, seed=0, lr_d=1e-3))
    real = small_digits.images[:32]
    first = trainer.train_step(real)[0]
    for _ in range(8):
        last = trainer.train_step(real)[0]
    assert last < first


@pytest.mark.slow
def test_resume_gives_exactly_the_uninterrupted_weights(small_digits, tmp_path):
    cfg = dict(batch_size=16, seed=3)
    full = GANTrainer(small_digits, config=GANConfig(epochs=2, out_dir=str(tmp_path / "a"), **cfg))
    full.fit()
    half = GANTrainer(small_digits, config=GANConfig(epochs=1, out_dir=str(tmp_path / "b"), **cfg))
    half.fit()
    resumed = GANTrainer(
        small_digits,
        config=GANConfig(epochs=2, out_dir=str(tmp_path / "c"), **cfg),
        resume=tmp_path / "b" / "epoch_0001.pt",
    )
    assert resumed.epoch == 1
    resumed.fit()
    for module in ("generator", "discriminator"):
        a, b = getattr(full, module).state_dict(), getattr(resumed, module).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert [h["d_loss"] for h in full.history] == [h["d_loss"] for h in resumed.history]


def test_training_leaves_the_callers_random_state_and_ignores_its_draws(small_digits):
    cfg = GANConfig(epochs=1, batch_size=16, seed=5)
    torch.manual_seed(99)
    caller = torch.get_rng_state()
    quiet = GANTrainer(small_digits, config=cfg)
    quiet.fit()
    assert torch.equal(torch.get_rng_state(), caller)  # initialisation and dropout used their own stream

    def draw(step):
        torch.rand(100)  # a callback drawing from the global generator between steps

    noisy = GANTrainer(small_digits, config=cfg)
    noisy.fit(callbacks=[draw])
    for module in ("generator", "discriminator"):
        a, b = getattr(quiet, module).state_dict(), getattr(noisy, module).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    other = GANTrainer(small_digits, config=GANConfig(epochs=1, batch_size=16, seed=6))
    assert not torch.equal(
        other.generator.fc.weight, GANTrainer(small_digits, config=cfg).generator.fc.weight
    )


def test_resume_runs_with_this_runs_learning_rates_not_the_checkpoints(small_digits, tmp_path):
    cfg = dict(batch_size=16, seed=3)
    GANTrainer(small_digits, config=GANConfig(epochs=1, out_dir=str(tmp_path), **cfg)).fit()
    resumed = GANTrainer(
        small_digits,
        config=GANConfig(epochs=2, lr_g=2e-5, lr_d=3e-5, betas=(0.5, 0.99), **cfg),
        resume=tmp_path / "epoch_0001.pt",
    )
    assert [g["lr"] for g in resumed.opt_g.param_groups] == [2e-5]
    assert [g["lr"] for g in resumed.opt_d.param_groups] == [3e-5]
    assert resumed.opt_g.param_groups[0]["betas"] == (0.5, 0.99)
    assert resumed.opt_g.state  # the Adam moments still come from the checkpoint


def test_checkpoint_files_and_metadata(small_digits, tmp_path):
    trainer = GANTrainer(
        small_digits, config=GANConfig(epochs=2, batch_size=32, checkpoint_every=1, out_dir=str(tmp_path))
    )
    trainer.fit()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["epoch_0001.json", "epoch_0001.pt", "epoch_0002.json", "epoch_0002.pt", "samples"]
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]
    meta = json.loads((tmp_path / "epoch_0002.json").read_text())
    assert meta["epoch"] == 2 and meta["config"]["batch_size"] == 32 and "torch" in meta["versions"]
    ckpt = load_checkpoint(tmp_path / "epoch_0002.pt")
    z = torch.randn(3, 100)
    trainer.generator.eval()
    with torch.no_grad():
        assert torch.equal(ckpt.generator(z), trainer.generator(z))
    assert not ckpt.generator.training and ckpt.epoch == 2


def test_a_failed_save_keeps_the_previous_checkpoint_pair(small_digits, tmp_path, monkeypatch):
    trainer = GANTrainer(small_digits, config=GANConfig(epochs=1, batch_size=32, seed=0))
    path = trainer.save_checkpoint(tmp_path / "last.pt")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {"last.pt", "last.json"}
    trainer.fit()

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    from pathlib import Path

    for target, name in ((torch, "save"), (Path, "write_text")):  # the weights or the card
        with monkeypatch.context() as patch:
            patch.setattr(target, name, disk_full)
            with pytest.raises(OSError, match="No space left"):
                trainer.save_checkpoint(path)
        # neither a new .pt beside the old card nor a temporary file is left
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_diverged_run_stops_before_its_checkpoint(small_digits, tmp_path, monkeypatch):
    trainer = GANTrainer(small_digits, config=GANConfig(epochs=2, batch_size=32, out_dir=str(tmp_path)))
    trainer.fit(epochs=1)
    monkeypatch.setattr(trainer, "train_step", lambda real, labels=None: (float("nan"), 0.7, 0.5, 0.5))
    with pytest.raises(FloatingPointError, match=r"training diverged in epoch 2 \(d_loss nan\); lower"):
        trainer.fit()
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == ["epoch_0001.pt"]  # the last good one stays
    assert len(trainer.history) == 1


def test_ema_follows_the_moving_average_formula(small_digits):
    decay = 0.9
    trainer = GANTrainer(small_digits, config=GANConfig(epochs=1, batch_size=16, seed=0, ema_decay=decay))
    real = small_digits.images[:16]
    trainer.train_step(real)
    after_first = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    trainer.train_step(real)
    after_second = trainer.generator.state_dict()
    ema = trainer.sampler.state_dict()
    assert trainer.sampler is not trainer.generator
    for name in ("fc.weight", "bn0.running_mean", "deconv2.weight"):
        expected = decay * after_first[name] + (1 - decay) * after_second[name]
        torch.testing.assert_close(ema[name], expected)
        assert not torch.equal(ema[name], after_second[name])


@pytest.mark.slow
def test_ema_survives_resume_and_release(small_digits, tmp_path):
    from xstyle.gan.train import export_release

    cfg = dict(batch_size=16, seed=3, ema_decay=0.8)
    full = GANTrainer(small_digits, config=GANConfig(epochs=2, out_dir=str(tmp_path / "a"), **cfg))
    full.fit()
    GANTrainer(small_digits, config=GANConfig(epochs=1, out_dir=str(tmp_path / "b"), **cfg)).fit()
    resumed = GANTrainer(
        small_digits, config=GANConfig(epochs=2, **cfg), resume=tmp_path / "b" / "epoch_0001.pt"
    )
    resumed.fit()
    a, b = full.sampler.state_dict(), resumed.sampler.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    ckpt = load_checkpoint(tmp_path / "a" / "epoch_0002.pt")
    assert ckpt.generator_ema is not None and ckpt.sampler is ckpt.generator_ema
    release = export_release(tmp_path / "a" / "epoch_0002.pt", tmp_path / "release.pt")
    shipped = load_checkpoint(release)
    z = torch.randn(4, 100, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        from_ema = ckpt.generator_ema(z)
        from_raw = ckpt.generator(z)
        from_release = shipped.sampler(z)
    assert (from_release - from_ema).abs().max() < 2e-2  # float16 rounding only
    assert (from_release - from_raw).abs().max() > (from_release - from_ema).abs().max()


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_bad_checkpoints_get_clear_errors_and_execute_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps({"format": "xstyle.dcgan/1", "generator": _Evil()}))
    with pytest.raises(ValueError, match="weights_only=True"):
        load_checkpoint(evil)
    assert not (tmp_path / "pwned").exists()
    other = tmp_path / "other.pt"
    torch.save(
        {"format": "xstyle.dcgan/1", "generator": {"fc.weight": torch.zeros(3, 3)}, "discriminator": {}},
        other,
    )
    with pytest.raises(ValueError, match="does not match the DCGAN architecture"):
        load_checkpoint(other)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(ValueError, match="not an xstyle DCGAN checkpoint"):
        load_checkpoint(foreign)


def test_resume_with_another_seed_is_refused(small_digits, tmp_path):
    GANTrainer(small_digits, config=GANConfig(epochs=1, batch_size=32, out_dir=str(tmp_path))).fit()
    with pytest.raises(ValueError, match="seed=0"):
        GANTrainer(
            small_digits, config=GANConfig(epochs=2, batch_size=32, seed=1), resume=tmp_path / "epoch_0001.pt"
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(batch_size=0), "batch_size must be an integer >= 1; got 0"),
        (dict(epochs=-1), "epochs must be an integer >= 0; got -1"),
        (dict(checkpoint_every=True), "checkpoint_every must be an integer >= 1; got True"),
        (dict(lr_g=2.0), "lr_g"),
        (dict(betas=(0.9, 1.5)), "betas"),
        (dict(ema_decay=1.0), "ema_decay"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GANConfig(**kwargs)


def test_training_display_plots_losses_and_frechet_distance():
    from xstyle.gan.plots import GANTrainingDisplay

    history = [
        {"epoch": 1, "d_loss": 1.2, "g_loss": 0.8},
        {"epoch": 2, "d_loss": 1.1, "g_loss": 0.9, "quality_frechet_distance": 40.0},
    ]
    display = GANTrainingDisplay.from_history(history).plot()
    assert display.fd_epochs.tolist() == [2] and display.frechet.tolist() == [40.0]
    assert len(display.ax_.lines) == 2 and len(display.figure_.axes) == 2
    assert display.figure_.axes[1].get_yscale() == "linear"
    # a fall over more than a decade gets a log axis, so the late epochs stay readable
    history.append({"epoch": 3, "d_loss": 1.1, "g_loss": 0.9, "quality_frechet_distance": 1500.0})
    display = GANTrainingDisplay.from_history(history).plot()
    assert display.figure_.axes[1].get_yscale() == "log"
