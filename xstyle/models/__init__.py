"""Models xstyle explains: the VGG19 feature extractor (the GAN models live in ``xstyle.gan``).

The package's public names are :mod:`xstyle.models.vgg`'s, re-exported as they are.
"""

from xstyle.models.vgg import *  # noqa: F403 - the façade re-exports vgg's public API verbatim
from xstyle.models.vgg import __all__ as __all__
