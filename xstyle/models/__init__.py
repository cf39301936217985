"""Feature networks and generators as data: one registry (:mod:`xstyle.models.registry`), one
module per family, and the generators beside them (:mod:`xstyle.models.generators`: ``get_generator``
for ``shipped:NAME``, an xstyle checkpoint, the user's ``module:callable``; ``GeneratorSpec``).

``get_network(spec)`` builds a network (``vgg19-caffe``, ``efficientnet-lite0``, ``torchvision:NAME``,
the user's ``module:callable``...) taking RGB in [0, 1]; ``list_networks()`` names the registered
ones. :mod:`xstyle.models.vgg` keeps the VGG19 extractor and its weight sources; its public names
are re-exported here as they are.
"""

from xstyle.models.generators import (
    GeneratorError,
    GeneratorSpec,
    get_generator,
    list_generators,
    register_generator_source,
    wrap_generator,
)
from xstyle.models.registry import (
    DEFAULT_NETWORK,
    NetworkError,
    NetworkSpec,
    check_network_layers,
    get_network,
    get_network_spec,
    list_networks,
    model_defaults,
    model_layers,
    network_defaults,
    network_layers,
    register_network,
)
from xstyle.models.vgg import *  # noqa: F403 - the façade re-exports vgg's public API verbatim
from xstyle.models.vgg import __all__ as _vgg_all

__all__ = [
    *_vgg_all,
    "DEFAULT_NETWORK",
    "GeneratorError",
    "GeneratorSpec",
    "NetworkError",
    "NetworkSpec",
    "check_network_layers",
    "get_generator",
    "get_network",
    "get_network_spec",
    "list_generators",
    "list_networks",
    "model_defaults",
    "model_layers",
    "network_defaults",
    "network_layers",
    "register_generator_source",
    "register_network",
    "wrap_generator",
]
