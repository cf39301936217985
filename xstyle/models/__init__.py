"""Feature networks, generators and the shipped models as data, found through one package.

- :mod:`xstyle.models.registry`: the feature networks. ``get_network(spec)`` builds one
  (``vgg19-caffe``, ``efficientnet-lite0``, ``torchvision:NAME``, the user's ``module:callable``...)
  taking RGB in [0, 1]; ``list_networks()`` names the registered ones. One module per family:
  :mod:`~xstyle.models.vgg` (VGG19 and its weight sources), :mod:`~xstyle.models.efficientnet`,
  :mod:`~xstyle.models.tv` (torchvision), :mod:`~xstyle.models.user` (the user's own).
- :mod:`xstyle.models.generators`: the generators (``get_generator`` for ``shipped:NAME``, an xstyle
  checkpoint, the user's ``module:callable``; ``GeneratorSpec``).
- :mod:`xstyle.models.shipped`: the models shipped with xstyle (``shipped:NAME``: the VGG19 weights,
  the DCGANs, their classifiers, the real-time stylizers).

``xstyle models`` lists everything that can be named. The names below are imported on first use
(PEP 562), so ``import xstyle.models.shipped`` does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xstyle._lazy import lazy_attributes

# public name -> the module that defines it
_SOURCES: dict[str, str] = {
    **dict.fromkeys(
        (
            "GeneratorError",
            "GeneratorSpec",
            "get_generator",
            "list_generators",
            "register_generator_source",
            "wrap_generator",
        ),
        "xstyle.models.generators",
    ),
    **dict.fromkeys(
        (
            "DEFAULT_NETWORK",
            "NetworkError",
            "NetworkSpec",
            "check_network_layers",
            "get_network",
            "get_network_spec",
            "list_networks",
            "model_defaults",
            "model_layers",
            "network_defaults",
            "network_layers",
            "register_network",
        ),
        "xstyle.models.registry",
    ),
    **dict.fromkeys(
        (
            "SHIPPED_PREFIX",
            "ShippedModel",
            "is_shipped_spec",
            "resolve_shipped",
            "shipped_model",
            "shipped_models",
        ),
        "xstyle.models.shipped",
    ),
    **dict.fromkeys(
        (
            "CONV_INDICES",
            "LAYER_NAMES",
            "WEIGHT_SOURCES",
            "VGG19Features",
            "WeightSource",
            "WeightsError",
            "check_layer_names",
            "load_vgg19",
        ),
        "xstyle.models.vgg",
    ),
}

__all__ = [
    "CONV_INDICES",
    "DEFAULT_NETWORK",
    "LAYER_NAMES",
    "SHIPPED_PREFIX",
    "WEIGHT_SOURCES",
    "GeneratorError",
    "GeneratorSpec",
    "NetworkError",
    "NetworkSpec",
    "ShippedModel",
    "VGG19Features",
    "WeightSource",
    "WeightsError",
    "check_layer_names",
    "check_network_layers",
    "get_generator",
    "get_network",
    "get_network_spec",
    "is_shipped_spec",
    "list_generators",
    "list_networks",
    "load_vgg19",
    "model_defaults",
    "model_layers",
    "network_defaults",
    "network_layers",
    "register_generator_source",
    "register_network",
    "resolve_shipped",
    "shipped_model",
    "shipped_models",
    "wrap_generator",
]


__getattr__, __dir__ = lazy_attributes("xstyle.models", _SOURCES, __all__, globals())


if TYPE_CHECKING:  # for type checkers and IDEs: the names __getattr__ provides
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
    from xstyle.models.shipped import (
        SHIPPED_PREFIX,
        ShippedModel,
        is_shipped_spec,
        resolve_shipped,
        shipped_model,
        shipped_models,
    )
    from xstyle.models.vgg import (
        CONV_INDICES,
        LAYER_NAMES,
        WEIGHT_SOURCES,
        VGG19Features,
        WeightsError,
        WeightSource,
        check_layer_names,
        load_vgg19,
    )
