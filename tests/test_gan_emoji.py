"""The DCGAN, its trainer, the classifier and the metrics at other sizes and colours (32x32 RGB emoji)."""

from __future__ import annotations

import pytest
import torch

from xstyle.data import ImageData, load_digits, load_emoji
from xstyle.gan.classifier import (
    ClassifierConfig,
    DigitClassifier,
    evaluate_classifier,
    load_classifier,
    save_classifier,
    shift_digits,
    train_classifier,
)
from xstyle.gan.dcgan import Discriminator, Generator
from xstyle.gan.metrics import evaluate_generator
from xstyle.gan.train import (
    DATASETS,
    GANConfig,
    GANTrainer,
    check_train_data,
    export_release,
    load_checkpoint,
)


@pytest.fixture(scope="module")
def emoji_small() -> ImageData:
    """Four emoji of each of the nine categories."""
    data = load_emoji("train")
    idx = torch.cat([torch.nonzero(data.labels == k).flatten()[:4] for k in range(9)])
    return ImageData(
        images=data.images[idx],
        labels=data.labels[idx],
        source="emoji[:4/class]",
        class_names=data.class_names,
        factors={k: v[idx] for k, v in data.factors.items()},
    )


def test_default_dcgan_is_the_digit_architecture():
    g, d = Generator(n_classes=10), Discriminator(n_classes=10)
    assert g.fc.weight.shape == (7 * 7 * 256, 110) and g.deconv3.weight.shape == (64, 1, 5, 5)
    assert d.conv1.weight.shape == (64, 1, 5, 5) and d.fc.weight.shape == (1, 128 * 7 * 7)
    assert g.eval()(torch.zeros(2, 110)).shape == (2, 1, 28, 28)


def test_rgb_32_dcgan_shapes_and_range():
    g = Generator(n_classes=9, image_size=32, channels=3).eval()
    d = Discriminator(n_classes=9, image_size=32, channels=3).eval()
    with torch.no_grad():
        x = g(torch.randn(5, 109))
        assert d(x, torch.arange(5)).shape == (5, 1)
    assert x.shape == (5, 3, 32, 32) and float(x.abs().max()) <= 1.0


@pytest.mark.parametrize("size, channels, match", [(30, 3, "multiple of 4"), (32, 0, "channels must be")])
def test_bad_shape_is_one_line(size, channels, match):
    with pytest.raises(ValueError, match=match):
        Generator(image_size=size, channels=channels)


def test_config_refuses_an_unknown_dataset():
    with pytest.raises(ValueError, match="dataset must be one of mnist, emoji; got 'cifar'"):
        GANConfig(dataset="cifar")
    assert DATASETS["emoji"].channels == 3 and DATASETS["emoji"].image_size == 32


def test_trainer_refuses_data_of_another_dataset(emoji_small):
    with pytest.raises(ValueError, match=r"must have shape \(N, 3, 32, 32\) for dataset 'emoji'"):
        check_train_data(load_digits("heldout"), "emoji")
    with pytest.raises(ValueError, match=r"must have shape \(N, 1, 28, 28\)"):
        GANTrainer(emoji_small, config=GANConfig(epochs=1))


@pytest.mark.slow
def test_emoji_gan_trains_saves_and_reloads(emoji_small, tmp_path):
    config = GANConfig(
        epochs=1, batch_size=12, dataset="emoji", conditional=True, n_preview=9, out_dir=str(tmp_path)
    )
    trainer = GANTrainer(emoji_small, config=config)
    before = trainer.generator.fc.weight.detach().clone()
    history = trainer.fit()
    assert len(history) == 1 and not torch.equal(before, trainer.generator.fc.weight)
    ckpt = load_checkpoint(tmp_path / "epoch_0001.pt")
    assert ckpt.config.dataset == "emoji" and ckpt.generator.n_classes == 9
    z = torch.randn(3, 109)
    with torch.no_grad():
        assert torch.equal(ckpt.generator(z), trainer.generator.eval()(z))
    assert (tmp_path / "samples" / "epoch_0001.png").is_file()
    release = export_release(tmp_path / "epoch_0001.pt", tmp_path / "release.pt")
    back = load_checkpoint(release)
    with torch.no_grad():
        assert torch.allclose(back.generator(z), ckpt.generator(z), atol=2e-2)


def test_shift_moves_every_channel_and_fills_white():
    x = -torch.ones(1, 3, 8, 8)
    x[0, :, 4, 4] = torch.tensor([0.1, 0.2, 0.3])
    out = shift_digits(x, max_shift=1, generator=torch.Generator().manual_seed(3), fill=1.0)
    spot = (out[0] - torch.tensor([0.1, 0.2, 0.3])[:, None, None]).abs().sum(0) < 1e-6
    ((row, col),) = spot.nonzero().tolist()
    assert abs(row - 4) <= 1 and abs(col - 4) <= 1
    assert (out == 1.0).any() or (row, col) == (4, 4)  # the border shifted in is white


def test_rgb_classifier_trains_balanced_and_reloads_its_shape(emoji_small, tmp_path):
    model = train_classifier(emoji_small, config=ClassifierConfig(epochs=1, seed=0, balanced=True))
    assert model.input_shape == (3, 32, 32) and model.n_classes == 9
    path = save_classifier(
        model, tmp_path / "clf.pt", metadata={"class_names": list(emoji_small.class_names)}
    )
    back = load_classifier(path)
    assert back.input_shape == (3, 32, 32) and back.n_classes == 9
    with torch.no_grad():
        assert torch.equal(back(emoji_small.images), model(emoji_small.images))
    assert 0.0 <= evaluate_classifier(back, emoji_small) <= 1.0
    with pytest.raises(ValueError, match=r"shape \(B, 3, 32, 32\)"):
        back(torch.zeros(1, 1, 28, 28))


def test_metrics_score_a_colour_generator_and_its_label_agreement(emoji_small):
    # a planted answer: a "generator" that returns a real emoji of the requested class gets the
    # agreement the classifier has on those real emoji
    clf = train_classifier(emoji_small, config=ClassifierConfig(epochs=3, seed=0, augment=False))
    images, labels = emoji_small.images, emoji_small.labels
    first = torch.stack([torch.nonzero(labels == k).flatten()[0] for k in range(9)])

    class Lookup(torch.nn.Module):
        latent_dim, n_classes = 4, 9

        def forward(self, inputs):
            return images[first[inputs[:, -9:].argmax(1)]]

    quality = evaluate_generator(Lookup(), clf, emoji_small, n_samples=18, seed=0)
    with torch.no_grad():
        expected = float((clf(images[first]).argmax(1) == torch.arange(9)).float().mean())
    assert quality.label_agreement == pytest.approx(expected)
    assert len(quality.class_counts) == 9
    wrong = DigitClassifier()
    with pytest.raises(ValueError, match=r"images must have shape \(N, 1, 28, 28\)"):
        evaluate_generator(Lookup(), wrong, emoji_small, n_samples=18)


@pytest.mark.parametrize(
    "argv",
    [
        ["gan", "eval", "--checkpoint", "shipped:dcgan", "--classifier", "CLF"],
        ["probe", "components", "-n", "10", "--out", "out", "--classifier", "CLF"],
    ],
)
def test_a_classifier_of_other_images_is_refused_for_the_digit_dcgan(argv, tmp_path, monkeypatch, capsys):
    """An emoji-shaped classifier (3 channels, 32 px, 9 classes) cannot score digits: one line, exit 2."""
    from xstyle.cli import main
    from xstyle.gan.classifier import DigitClassifier, save_classifier

    monkeypatch.chdir(tmp_path)
    save_classifier(DigitClassifier(channels=3, image_size=32, n_classes=9), tmp_path / "clf.pt", metadata={})
    argv = [str(tmp_path / "clf.pt") if a == "CLF" else a for a in argv]
    before = sorted(tmp_path.iterdir())
    assert main(["-q", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "takes 3-channel 32 px images in 9 classes" in err[0], err
    assert sorted(tmp_path.iterdir()) == before
