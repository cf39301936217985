"""The latent prior: specs, sampling, and that every part of the GAN core samples from a model's own."""

import pytest
import torch

from xstyle.data import DigitData, load_digits
from xstyle.gan import GANConfig, GANTrainer, Generator, LatentPrior, draw_latents, load_checkpoint
from xstyle.gan.prior import NORMAL, prior_of
from xstyle.gan.train import half_precision_copy

MIXTURE = LatentPrior.parse("mixture:10:4:1")


def test_specs_round_trip():
    assert LatentPrior.parse("normal") is NORMAL
    assert MIXTURE == LatentPrior(components=10, radius=4.0, scale=1.0)
    for spec in ("normal", "mixture:10:4:1", "mixture:3:2.5:0.5"):
        assert LatentPrior.parse(spec).spec == spec


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("gaussian", "unknown prior 'gaussian'; use 'normal' or 'mixture:K:R:S'"),
        ("mixture:10:4", "unknown prior"),
        ("mixture:ten:4:1", "K must be a whole number"),
        ("mixture:1:4:1", "K >= 2"),
        ("mixture:10:4:0", "scale > 0"),
        ("mixture:10:-1:1", "radius must be >= 0"),
        ("mixture:10:nan:1", "finite"),
        (3, "spec string"),
    ],
)
def test_bad_specs_get_one_clear_line(spec, match):
    with pytest.raises(ValueError, match=match):
        LatentPrior.parse(spec)


def test_normal_draws_what_torch_randn_draws():
    """Seeds from before priors existed give the same latents."""
    a = NORMAL.sample(7, 100, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, torch.randn(7, 100, generator=torch.Generator().manual_seed(5)))


def test_mixture_means_and_samples():
    mu = MIXTURE.means(100)
    assert mu.shape == (10, 100)
    torch.testing.assert_close(mu.norm(dim=1), torch.full((10,), 4.0))
    assert torch.equal(mu, MIXTURE.means(100))  # fixed, not drawn per call
    z = MIXTURE.sample(4000, 100, generator=torch.Generator().manual_seed(0))
    assert torch.equal(z, MIXTURE.sample(4000, 100, generator=torch.Generator().manual_seed(0)))
    component = MIXTURE.component_of(z)
    counts = torch.bincount(component, minlength=10)
    assert counts.min() > 300  # equal weights: 400 expected each
    # each latent lies near its own mean: the residual has the component's standard deviation
    residual = z - mu[component]
    assert abs(residual.std().item() - 1.0) < 0.02
    assert abs(residual.mean().item()) < 0.02


def test_component_of_recovers_the_component():
    comp = torch.arange(10).repeat(50)
    z = MIXTURE.component_sample(comp, 100, generator=torch.Generator().manual_seed(1))
    # means 5.7 apart at S = 1: about 1 % of the latents lie nearer another component's mean
    assert (MIXTURE.component_of(z) == comp).float().mean() > 0.97


def test_draw_latents_follows_the_model():
    plain, mixed = Generator(), Generator(prior=MIXTURE)
    assert prior_of(plain) is NORMAL and prior_of(mixed) is MIXTURE
    assert prior_of(torch.nn.Linear(100, 10)) is NORMAL  # any module without a prior
    a = draw_latents(plain, 6, generator=torch.Generator().manual_seed(2))
    b = draw_latents(mixed, 6, generator=torch.Generator().manual_seed(2))
    assert a.shape == b.shape == (6, 100)
    assert not torch.equal(a, b)
    assert torch.equal(b, MIXTURE.sample(6, 100, generator=torch.Generator().manual_seed(2)))
    assert half_precision_copy(mixed).prior is MIXTURE


def test_config_checks_and_stores_the_prior():
    with pytest.raises(ValueError, match="unknown prior"):
        GANConfig(prior="uniform")
    config = GANConfig(prior="mixture:10:4:1")
    assert GANConfig.from_dict(config.to_dict()) == config
    assert GANConfig.from_dict({}).prior == "normal"  # checkpoints from before priors
    assert GANConfig(prior="mixture:10:4.0:1.00").prior == "mixture:10:4:1"


@pytest.fixture(scope="module")
def mixture_run(tmp_path_factory):
    d = load_digits("train")
    idx = torch.arange(0, len(d), 70)
    data = DigitData(d.images[idx], d.labels[idx], "small")
    out = tmp_path_factory.mktemp("prior_run")
    config = GANConfig(
        epochs=1, batch_size=32, seed=1, ema_decay=0.9, prior="mixture:3:4:0.5", out_dir=str(out)
    )
    trainer = GANTrainer(data, config=config)
    trainer.fit()
    return data, out / "epoch_0001.pt"


def test_trainer_samples_and_checkpoints_keep_the_prior(mixture_run):
    _, path = mixture_run
    ckpt = load_checkpoint(path)
    prior = LatentPrior.parse("mixture:3:4:0.5")
    assert ckpt.config.prior == "mixture:3:4:0.5"
    assert ckpt.generator.prior == prior and ckpt.sampler.prior == prior  # the moving average too
    z = draw_latents(ckpt.sampler, 300, generator=torch.Generator().manual_seed(0))
    assert set(prior.component_of(z).tolist()) == {0, 1, 2}


def test_resume_with_another_prior_is_refused(mixture_run):
    data, path = mixture_run
    with pytest.raises(ValueError, match=r"prior=mixture:3:4:0\.5, this run asks for normal"):
        GANTrainer(data, config=GANConfig(epochs=2, batch_size=32, seed=1), resume=path)
