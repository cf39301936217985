"""xstyle's DCGANs as :class:`~xstyle.models.generators.GeneratorSpec` instances, and the spec
forms ``shipped:NAME`` and ``PATH.pt`` (a checkpoint) registered with
:func:`~xstyle.models.generators.get_generator`.

Importing :mod:`xstyle.gan` registers them (the models layer cannot import the GAN core).
"""

from __future__ import annotations

from pathlib import Path

from xstyle.gan.dcgan import Generator
from xstyle.models.generators import GeneratorSpec, register_generator_source
from xstyle.models.shipped import is_shipped_spec, shipped_models

__all__ = ["DATASET_CLASSIFIERS", "dcgan_spec", "load_dcgan_spec"]

#: the shipped classifier that scores each data set's images (for quality and class probes)
DATASET_CLASSIFIERS = {"mnist": "shipped:digit-classifier", "emoji": "shipped:emoji-classifier"}
#: the stages of xstyle's DCGAN generator: the activations after each block, and its output
DCGAN_STAGES = ("act0", "act1", "act2", "tanh")


def dcgan_spec(ckpt, *, name: str, classifier: bool = True) -> GeneratorSpec:
    """The spec of a loaded :class:`~xstyle.gan.train.GANCheckpoint` (its sampling generator, its
    discriminator and, with ``classifier``, the shipped classifier of its data set when installed)."""
    from xstyle.gan.classifier import load_classifier
    from xstyle.gan.train import gan_dataset

    gen: Generator = ckpt.sampler
    dataset = gan_dataset(ckpt.config.dataset)
    clf = None
    if classifier:
        try:
            clf = load_classifier(DATASET_CLASSIFIERS[dataset.name])
        except ValueError:  # not shipped in this install: the analyses skip what needs it and say so
            clf = None
    class_names = ()
    if gen.n_classes and dataset.name == "mnist":
        class_names = tuple(str(d) for d in range(gen.n_classes))
    elif gen.n_classes and dataset.name == "emoji":
        from xstyle.data import load_emoji

        class_names = load_emoji("heldout").class_names
    return GeneratorSpec(
        module=gen,
        name=name,
        latent_dim=gen.latent_dim,
        n_classes=gen.n_classes,
        class_names=class_names,
        channels=gen.channels,
        image_size=gen.image_size,
        stages=DCGAN_STAGES,
        prior=ckpt.config.prior,
        discriminator=ckpt.discriminator,
        classifier=clf,
        description=f"xstyle DCGAN on {dataset.description}",
        card={"dataset": dataset.name, "epoch": ckpt.epoch, "config": ckpt.config.to_dict()},
    )


def load_dcgan_spec(spec: str) -> GeneratorSpec | None:
    """The spec of ``shipped:NAME`` (a shipped DCGAN) or of an xstyle checkpoint; None for other forms."""
    from xstyle.gan.train import load_checkpoint

    if is_shipped_spec(spec):
        if spec.removeprefix("shipped:") not in shipped_models("dcgan"):
            return None
        return dcgan_spec(load_checkpoint(spec), name=spec)
    if spec.endswith(".pt") and Path(spec).is_file():
        return dcgan_spec(load_checkpoint(spec), name=spec)
    return None


def _shipped_names() -> list[str]:
    return [m.spec for m in shipped_models("dcgan").values()]


register_generator_source("xstyle-dcgan", load_dcgan_spec, names=_shipped_names)
