"""xstyle: explain neural style transfer and GANs.

Public API (everything else is internal)::

    from xstyle import style_transfer, TransferConfig, load_vgg19, FeatureTap

The names are imported on first use (PEP 562), so ``import xstyle`` (and the CLI's ``--help``)
does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xstyle._lazy import lazy_attributes

__version__ = "0.1.0"

# public name -> the module that defines it
_SOURCES = {
    "list_samples": "xstyle.data",
    "load_sample": "xstyle.data",
    "resolve_image": "xstyle.data",
    "FeatureTap": "xstyle.hooks",
    "Intervention": "xstyle.hooks",
    "assert_no_hooks": "xstyle.hooks",
    "frozen": "xstyle.hooks",
    "list_layers": "xstyle.hooks",
    "ImageError": "xstyle.images",
    "load_image": "xstyle.images",
    "resize_image": "xstyle.images",
    "save_image": "xstyle.images",
    "to_pil": "xstyle.images",
    "LossBreakdown": "xstyle.losses",
    "content_loss": "xstyle.losses",
    "gram_matrix": "xstyle.losses",
    "style_loss": "xstyle.losses",
    "total_loss": "xstyle.losses",
    "LAYER_NAMES": "xstyle.models.vgg",
    "WEIGHT_SOURCES": "xstyle.models.vgg",
    "VGG19Features": "xstyle.models.vgg",
    "WeightsError": "xstyle.models.vgg",
    "load_vgg19": "xstyle.models.vgg",
    "StyleObjective": "xstyle.transfer",
    "TransferConfig": "xstyle.transfer",
    "TransferResult": "xstyle.transfer",
    "TransferStep": "xstyle.transfer",
    "style_transfer": "xstyle.transfer",
}

__all__ = [
    "LAYER_NAMES",
    "WEIGHT_SOURCES",
    "FeatureTap",
    "ImageError",
    "Intervention",
    "LossBreakdown",
    "StyleObjective",
    "TransferConfig",
    "TransferResult",
    "TransferStep",
    "VGG19Features",
    "WeightsError",
    "__version__",
    "assert_no_hooks",
    "content_loss",
    "frozen",
    "gram_matrix",
    "list_layers",
    "list_samples",
    "load_image",
    "load_sample",
    "load_vgg19",
    "resize_image",
    "resolve_image",
    "save_image",
    "style_loss",
    "style_transfer",
    "to_pil",
    "total_loss",
]


__getattr__, __dir__ = lazy_attributes("xstyle", _SOURCES, __all__, globals())


if TYPE_CHECKING:  # for type checkers and IDEs: the names __getattr__ provides
    from xstyle.data import list_samples, load_sample, resolve_image
    from xstyle.hooks import FeatureTap, Intervention, assert_no_hooks, frozen, list_layers
    from xstyle.images import ImageError, load_image, resize_image, save_image, to_pil
    from xstyle.losses import LossBreakdown, content_loss, gram_matrix, style_loss, total_loss
    from xstyle.models.vgg import LAYER_NAMES, WEIGHT_SOURCES, VGG19Features, WeightsError, load_vgg19
    from xstyle.transfer import StyleObjective, TransferConfig, TransferResult, TransferStep, style_transfer
