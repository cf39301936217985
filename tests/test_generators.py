"""The generator interface: specs for shipped GANs, checkpoints, the user's module:callable and modules."""

from __future__ import annotations

import textwrap

import pytest
import torch
from torch import nn

import xstyle.gan  # noqa: F401 - registers shipped:NAME and checkpoints
from xstyle.hooks import FeatureTap
from xstyle.models.generators import GeneratorError, GeneratorSpec, get_generator, wrap_generator


def linear_first(latent: int = 8) -> nn.Module:
    return nn.Sequential(
        nn.Linear(latent, 3 * 4 * 4), nn.Unflatten(1, (3, 4, 4)), nn.Upsample(scale_factor=2), nn.Tanh()
    )


def conv_first(latent: int = 8) -> nn.Module:
    return nn.Sequential(nn.ConvTranspose2d(latent, 3, 8), nn.ReLU(), nn.Conv2d(3, 3, 1), nn.Sigmoid())


USER_MODULE = """
import torch
from torch import nn

def make():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 48), nn.Unflatten(1, (3, 4, 4)), nn.Tanh())

def not_a_module():
    return 42

def not_images():
    return nn.Linear(8, 5)
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_gans.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_shipped_dcgan_is_its_own_generator():
    spec = get_generator("shipped:dcgan-conditional")
    assert spec.generator is spec.module and spec.n_classes == 10 and spec.latent_dim == 100
    assert spec.stages == ("act0", "act1", "act2", "tanh") and spec.discriminator is not None
    x = spec.synthesize(spec.sample_latent(3, labels=7))
    assert x.shape == (3, 1, 28, 28)


def test_flat_and_conv_latents_both_work():
    for build, shape in ((linear_first, (8,)), (conv_first, (8, 1, 1))):
        spec = wrap_generator(build())
        assert spec.latent_shape == shape and spec.channels == 3 and spec.image_size == 8
        x = spec.synthesize(spec.sample_latent(5, seed=1))
        assert x.shape == (5, 3, 8, 8)


def test_output_range_is_mapped_to_minus_one_one():
    module = conv_first()
    spec = wrap_generator(module, output_range=(0.0, 1.0))
    z = spec.sample_latent(4)
    with torch.no_grad():
        raw = module(z.view(4, 8, 1, 1))
    assert torch.allclose(spec.synthesize(z), raw * 2 - 1)


def test_adapter_keeps_the_users_layer_names_and_flags():
    module = conv_first().train()
    spec = wrap_generator(module, stages=("1",))
    adapter = spec.generator
    assert adapter is not module and "1" in dict(adapter.named_modules())
    assert sum(p.numel() for p in adapter.parameters()) == sum(p.numel() for p in module.parameters())
    with FeatureTap(adapter, ["1"]) as tap:
        tap.run(spec.sample_latent(2))
        assert tap.features["1"].shape == (2, 3, 8, 8)
    spec.synthesize(spec.sample_latent(2))
    assert module.training and all(m.training for m in module.modules())


def test_conditional_labels_by_argument():
    class Cond(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(3, 3)
            self.fc = nn.Linear(4, 3 * 8 * 8)

        def forward(self, z, y):
            return torch.tanh(self.fc(z)).view(-1, 3, 8, 8) + self.embed(y)[:, :, None, None]

    spec = wrap_generator(Cond(), latent_dim=4, n_classes=3, label_input="argument")
    a, b = spec.synthesize(spec.sample_latent(2, labels=0)), spec.synthesize(spec.sample_latent(2, labels=2))
    emb = spec.module.embed.weight.detach()
    assert torch.allclose(b - a, (emb[2] - emb[0])[None, :, None, None].expand_as(a), atol=1e-6)


def test_user_callable_with_checked_weights(user_module, tmp_path):
    spec = get_generator("my_gans:make")
    assert spec.latent_dim == 8 and spec.channels == 3 and spec.image_size == 4
    state = {k: torch.ones_like(v) for k, v in spec.module.state_dict().items()}
    torch.save(state, tmp_path / "w.pt")
    loaded = get_generator("my_gans:make", weights=tmp_path / "w.pt")
    assert torch.equal(loaded.module[0].weight, torch.ones(48, 8))
    torch.save({"0.weight": torch.ones(3, 3)}, tmp_path / "bad.pt")
    with pytest.raises(GeneratorError, match="do not fit"):
        get_generator("my_gans:make", weights=tmp_path / "bad.pt")


@pytest.mark.parametrize(
    "spec, match",
    [
        ("shipped:nope", "is not a shipped GAN or an xstyle checkpoint; shipped: shipped:dcgan"),
        ("my_gans:not_a_module", "returned a int, not a torch.nn.Module"),
        ("my_gans:not_images", r"must return an image batch \(B, C, H, W\)"),
        ("my_gans:missing", "has no callable 'missing'"),
        ("no_such_module_xyz:make", "cannot import"),
    ],
)
def test_bad_specs_are_one_line(user_module, spec, match):
    with pytest.raises(GeneratorError, match=match) as info:
        get_generator(spec)
    assert "\n" not in str(info.value)


def test_spec_checks_its_own_fields():
    with pytest.raises(GeneratorError, match="latent_shape"):
        GeneratorSpec(module=linear_first(), name="x", latent_dim=8, latent_shape=(4, 1, 1))
    with pytest.raises(GeneratorError, match="label_input must be one of"):
        GeneratorSpec(module=linear_first(), name="x", latent_dim=8, label_input="film")
