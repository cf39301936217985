"""Models xstyle explains: the VGG19 feature extractor (the GAN models live in ``xstyle.gan``)."""

from xstyle.models.vgg import (
    CONV_INDICES,
    LAYER_NAMES,
    WEIGHT_SOURCES,
    VGG19Features,
    WeightsError,
    WeightSource,
    load_vgg19,
)

__all__ = [
    "CONV_INDICES",
    "LAYER_NAMES",
    "WEIGHT_SOURCES",
    "VGG19Features",
    "WeightSource",
    "WeightsError",
    "load_vgg19",
]
