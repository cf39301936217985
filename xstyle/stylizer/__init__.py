"""Real-time style transfer: a feed-forward stylizer trained with perceptual and adversarial losses.

* :mod:`~xstyle.stylizer.model` — :class:`TransformNet` (Johnson et al. 2016, CPU-sized) and the
  :class:`PatchDiscriminator` that judges whether patches carry the painting's style;
* :mod:`~xstyle.stylizer.data` — the shipped content photos (train / held-out) and seeded crops;
* :mod:`~xstyle.stylizer.train` — :class:`StylizerConfig`, :class:`StylizerTrainer`, checkpoints
  (atomic, ``weights_only``), :func:`load_stylizer`, :func:`stylize`;
* :mod:`~xstyle.explain.style.stylizer` — evaluation against the optimisation transfer, pixel
  attributions of the output's losses, discriminator patch maps and residual-block ablation;
* plots of the results in :mod:`~xstyle.stylizer.plots`; the stylizer's part of a style report is
  :func:`xstyle.report.stylizer.add_stylizer_section` (report/ sits above the stylizer).
"""

from xstyle.stylizer.data import (
    CONTENT_PHOTOS,
    HELDOUT_PHOTOS,
    ContentSet,
    PhotoCrops,
    load_content_photos,
    load_folder,
    random_crops,
)
from xstyle.stylizer.model import ArchConfig, PatchDiscriminator, ResidualBlock, TransformNet
from xstyle.stylizer.train import (
    PerceptualLoss,
    Stylizer,
    StylizerConfig,
    StylizerStep,
    StylizerTrainer,
    export_stylizer,
    load_stylizer,
    stylize,
    total_variation,
)

__all__ = [
    "CONTENT_PHOTOS",
    "HELDOUT_PHOTOS",
    "ArchConfig",
    "ContentSet",
    "PatchDiscriminator",
    "PerceptualLoss",
    "PhotoCrops",
    "ResidualBlock",
    "Stylizer",
    "StylizerConfig",
    "StylizerStep",
    "StylizerTrainer",
    "TransformNet",
    "export_stylizer",
    "load_content_photos",
    "load_folder",
    "load_stylizer",
    "random_crops",
    "stylize",
    "total_variation",
]
