"""The GAN core: the design's DCGAN for 28x28 digits, its trainer, a digit scorer and metrics."""

from xstyle.gan import generator_spec as _generator_spec  # noqa: F401 - registers shipped:NAME, PATH.pt
from xstyle.gan.dcgan import LATENT_DIM, Discriminator, Generator, discriminator_loss, generator_loss
from xstyle.gan.prior import LatentPrior, draw_latents
from xstyle.gan.train import GANCheckpoint, GANConfig, GANTrainer, TrainStep, load_checkpoint

__all__ = [
    "LATENT_DIM",
    "Discriminator",
    "GANCheckpoint",
    "GANConfig",
    "GANTrainer",
    "Generator",
    "LatentPrior",
    "TrainStep",
    "discriminator_loss",
    "draw_latents",
    "generator_loss",
    "load_checkpoint",
]
