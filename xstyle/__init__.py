"""xstyle: explain neural style transfer and GANs.

Public API (everything else is internal)::

    from xstyle import style_transfer, TransferConfig, load_vgg19, FeatureTap
"""

from xstyle.data import list_samples, load_sample, resolve_image
from xstyle.hooks import FeatureTap, Intervention, assert_no_hooks, frozen, list_layers
from xstyle.images import ImageError, load_image, resize_image, save_image, to_pil
from xstyle.losses import LossBreakdown, content_loss, gram_matrix, style_loss, total_loss
from xstyle.models.vgg import LAYER_NAMES, WEIGHT_SOURCES, VGG19Features, WeightsError, load_vgg19
from xstyle.transfer import StyleObjective, TransferConfig, TransferResult, TransferStep, style_transfer

__version__ = "0.1.0"

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
