"""What one batch item computes: pure functions of (worker state, payload).

The driver turns an item into a payload (:func:`make_payload`): the item, its seed, the settings
and the *bytes* of its input files (``sample:NAME`` and ``shipped:NAME`` specs travel as text and
resolve on the worker), so a task needs no shared file system and runs the same on this machine
and on a Ray cluster. :func:`run_item` returns plain data: ``{"numbers": {...}, "files": {name:
bytes}}``; the driver writes it (atomically). :func:`worker_setup` loads the models once per worker
(VGG19 for pairs and paintings; for checkpoints, per data set its classifier and held-out images:
digits for an MNIST DCGAN, emoji for an emoji one).
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from xstyle import _defaults as D
from xstyle._checks import check_int, check_seed
from xstyle.batch.items import _SPEC_PREFIXES, BatchItem, item_seed

__all__ = ["BatchSettings", "WorkerState", "make_payload", "run_item", "worker_setup"]

#: the style layers whose statistics make a painting's fingerprint and carriers
_LAYERS = D.GATYS_STYLE_LAYERS


@dataclass(frozen=True, kw_only=True)
class BatchSettings:
    """Options of every item of a batch (the same for all, so items compare).

    Attributes:
        size: long side of a pair's stylised image, px (single-scale L-BFGS).
        steps: L-BFGS evaluations per pair.
        alpha, beta: content and style weights (``normalize="size"``: the same balance at any size).
        maps_size: long side of a pair's style/content maps, px (at most ``size``).
        n_steps: integrated-gradients steps of the maps.
        painting_size: long side a painting is analysed at, px.
        carriers: top carrier channels recorded per layer and painting.
        gan_samples: images generated to score a checkpoint; probe_samples: images for its probes.
        classifier: what scores a checkpoint's images: None or ``"auto"`` (its data set's shipped
            classifier: digits or emoji; stored as None, so batches from before this setting
            resume), ``"none"`` (no quality
            scores nor class probe; the measures are still probed) or a classifier spec
            (``shipped:NAME`` or a ``.pt`` file).
        weights: VGG19 weights (``caffe``: the original, offline).
        network: the feature network of every item (:func:`xstyle.models.list_networks`; None:
            VGG19 with ``weights``); the paintings' layers are its own style layers.
        seed: the batch seed; each item's own seed is derived from it and the item's id.
    """

    size: int = D.BATCH_SIZE
    steps: int = D.BATCH_STEPS
    alpha: float = D.TRANSFER_ALPHA
    beta: float = D.TRANSFER_BETA
    maps_size: int = D.BATCH_SIZE
    n_steps: int = D.BATCH_IG_STEPS
    painting_size: int = D.BATCH_PAINTING_SIZE
    carriers: int = 8
    gan_samples: int = D.BATCH_GAN_SAMPLES
    probe_samples: int = D.BATCH_PROBE_SAMPLES
    weights: str = D.TRANSFER_WEIGHTS
    network: str | None = None
    classifier: str | None = None
    seed: int = D.BATCH_SEED

    def __post_init__(self) -> None:
        for name in ("size", "maps_size", "painting_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 16 <= value <= 1024:
                raise ValueError(f"{name} must be a whole number of pixels, 16 to 1024; got {value!r}.")
        if self.maps_size > self.size:
            raise ValueError(f"maps_size ({self.maps_size}) must be at most size ({self.size}).")
        check_int(self.steps, "steps", 1)
        check_int(self.n_steps, "n_steps", 1)
        check_int(self.carriers, "carriers", 1)
        check_int(self.gan_samples, "gan_samples", 10)
        check_int(self.probe_samples, "probe_samples", 30)
        for name in ("alpha", "beta"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
        object.__setattr__(self, "seed", check_seed(self.seed))
        if self.classifier == "auto":  # the CLI's word for the default
            object.__setattr__(self, "classifier", None)
        if self.classifier is not None and (not isinstance(self.classifier, str) or not self.classifier):
            raise ValueError(
                "classifier must be 'auto' (the data set's own), 'none' or a classifier spec; "
                f"got {self.classifier!r}."
            )
        if self.network is not None:  # an unknown network: one line before any item runs
            from xstyle.models.registry import get_network_spec

            get_network_spec(self.network)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read_input(spec: str) -> bytes | None:
    """The bytes of a file input; None for a ``sample:``/``shipped:`` spec (resolved by the worker)."""
    if spec.startswith(_SPEC_PREFIXES):
        return None
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"{spec!r} does not exist or is not a file")
    return path.read_bytes()


def make_payload(item: BatchItem, settings: BatchSettings) -> dict[str, Any]:
    """Everything ``item``'s task needs, as plain picklable data (input files read here).

    Raises FileNotFoundError / OSError for an input that cannot be read (the item then fails)."""
    return {
        "item": item.to_dict(),
        "seed": item_seed(settings.seed, item.id),
        "settings": settings.to_dict(),
        "data": {role: _read_input(spec) for role, spec in item.inputs.items()},
    }


@dataclass
class WorkerState:
    """Models a worker keeps for all its tasks (loaded by :func:`worker_setup`, or on first use)."""

    weights: str = D.TRANSFER_WEIGHTS
    models: dict[str, Any] = field(default_factory=dict)
    network: str | None = None

    def vgg(self):
        """The feature network (VGG19 truncated after relu5_1 unless ``network`` names another)."""
        if "vgg" not in self.models:
            from xstyle.transfer import TransferConfig

            config = TransferConfig(weights=self.weights, network=self.network)
            self.models["vgg"] = config.load_network(last_layer="relu5_1")
        return self.models["vgg"]

    def scorer(self, dataset: str = "mnist", *, classifier: str | None = None) -> tuple[Any, Any]:
        """(classifier or None, held-out real images) for checkpoints of ``dataset`` (cached):
        ``classifier`` None is the data set's shipped one, ``"none"`` none, else a spec."""
        key = f"scorer:{dataset}:{classifier}"
        if key not in self.models:
            from xstyle.gan.classifier import load_classifier
            from xstyle.gan.generator_spec import DATASET_CLASSIFIERS
            from xstyle.gan.train import load_gan_data

            spec = DATASET_CLASSIFIERS[dataset] if classifier is None else classifier
            clf = None if classifier == "none" else load_classifier(spec)
            self.models[key] = (clf, load_gan_data(dataset, "heldout"))
        return self.models[key]


def worker_setup(
    *, kinds: tuple[str, ...] = ("pair",), weights: str = D.TRANSFER_WEIGHTS, network: str | None = None
) -> WorkerState:
    """Load the models the item ``kinds`` need, once per worker (figures drawn off-screen: Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    state = WorkerState(weights=weights, network=network)
    if {"pair", "painting"} & set(kinds):
        state.vgg()
    if "checkpoint" in kinds:
        state.scorer()
    return state


def _image(spec: str, data: bytes | None, size: int, role: str):
    """(1, 3, H, W) in [0, 1], long side ``size``. An image over xstyle's megapixel limit is refused
    from its header, before its pixels are decoded (PIL's decompression-bomb text never shows)."""
    from xstyle.data import resolve_image
    from xstyle.images import ImageError, _load_image_bytes, resize_image

    if data is None:
        return resolve_image(spec, size=size)
    try:
        return resize_image(_load_image_bytes(data, what=f"{role} {spec!r}"), size)
    except ImageError as err:  # as every task error: "ValueError: <role> <path> ..."
        raise ValueError(str(err)) from None


def _png(image) -> bytes:
    from xstyle.images import to_pil

    buf = io.BytesIO()
    to_pil(image).save(buf, format="PNG")
    return buf.getvalue()


def _figure_png(display_or_figure, *, dpi: int = 90) -> bytes:
    import matplotlib.pyplot as plt

    figure = getattr(display_or_figure, "figure_", display_or_figure)
    buf = io.BytesIO()
    try:
        figure.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(figure)
    return buf.getvalue()


def _pair(state: WorkerState, payload: dict, s: BatchSettings) -> dict[str, Any]:
    from xstyle._stats import ssim
    from xstyle.explain.style.faithfulness import explain_regions
    from xstyle.explain.style.maps import style_content_maps
    from xstyle.images import resize_image
    from xstyle.transfer import TransferConfig, style_transfer

    inputs, data = payload["item"]["inputs"], payload["data"]
    content = _image(inputs["content"], data["content"], s.size, "content")
    style = _image(inputs["style"], data["style"], s.size, "style")
    config = TransferConfig(
        size=s.size,
        steps=(s.steps,),
        alpha=s.alpha,
        beta=s.beta,
        weights=s.weights,
        network=s.network,
        seed=payload["seed"],
    )
    vgg = state.vgg()
    result = style_transfer(content, style, config=config, model=vgg)
    final = result.final
    small = resize_image(content, s.maps_size) if s.maps_size != s.size else content
    small_style = resize_image(style, s.maps_size) if s.maps_size != s.size else style
    maps = style_content_maps(
        resize_image(result.image, tuple(small.shape[-2:])),
        content=small,
        style=small_style,
        model=vgg,
        baselines="filler",
        n_steps=s.n_steps,
        sanity=False,
        seed=payload["seed"],
    )
    # whether the maps can answer here: the region test's verdict per map (localised/uniform/failed)
    regions = explain_regions(maps, model=vgg, style=small_style, n_random=8, seed=payload["seed"])
    tests = {"style": regions.style_test, "content": regions.content_test}
    weighted_style = final["style_weight"] * final["style"]
    numbers = {
        "content_loss": final["content"],
        "style_loss": final["style"],
        "total": final["total"],
        "style_share": weighted_style / final["total"] if final["total"] > 0 else None,
        "content_ssim": ssim(result.image, content),
        "style_evidence_share": maps.style_share,
        "map_verdict": regions.verdict,
        "map_test": {
            k: {"gain": t.gain, "best_gain": t.best_gain, "spread": t.spread} for k, t in tests.items()
        },
        "size_hw": list(result.image.shape[-2:]),
        "network": config.network_name,
    }
    return {
        "numbers": numbers,
        "files": {"stylised.png": _png(result.image), "maps.png": _figure_png(maps.plot())},
    }


def _network_name(s: BatchSettings) -> str:
    """The feature network's spec as the pairs record it (``vgg19-<weights>`` by default)."""
    from xstyle.transfer import TransferConfig

    return TransferConfig(weights=s.weights, network=s.network).network_name


def _painting(state: WorkerState, payload: dict, s: BatchSettings) -> dict[str, Any]:
    import numpy as np
    import torch

    from xstyle.explain.style.gram import decompose_features
    from xstyle.hooks import FeatureTap
    from xstyle.images import resize_image

    spec = payload["item"]["inputs"]["painting"]
    image = _image(spec, payload["data"]["painting"], s.painting_size, "painting")
    vgg = state.vgg()
    layers = _LAYERS
    if s.network is not None:  # another network: its own style layers
        from xstyle.models.registry import translate_gatys_layers

        layers = translate_gatys_layers(s.network, _LAYERS)
    with FeatureTap(vgg, list(layers), stop_after_last=True) as tap, torch.no_grad():
        feats = tap.run(image)
    decomposition = decompose_features(feats)
    spectra, carriers, fingerprint = {}, {}, []
    for layer in layers:
        sp = decomposition.spectra[layer]
        spectra[layer] = {
            "participation_ratio": sp.participation_ratio,
            "components_for_90": sp.components_for(0.9),
            "top_share": sp.energy(1),
        }
        order = sp.channel_share.argsort(descending=True)[: s.carriers]
        carriers[layer] = [[int(c), float(sp.channel_share[c])] for c in order]
        f = feats[layer][0].flatten(1).double()
        fingerprint += [f.mean(1), f.std(1)]
    vector = torch.cat(fingerprint).float().numpy()
    buf = io.BytesIO()
    np.save(buf, vector)
    return {
        "numbers": {
            "spectra": spectra,
            "carriers": carriers,
            "fingerprint_layers": list(layers),
            "size_hw": list(image.shape[-2:]),
            "network": _network_name(s),
        },
        "files": {
            "painting.png": _png(resize_image(image, 128)),
            "fingerprint.npy": buf.getvalue(),
            "spectrum.png": _figure_png(decomposition.plot()),
        },
    }


def _load_checkpoint(payload: dict) -> Any:
    """The checkpoint of a checkpoint item: its spec, or the bytes that travelled with the task."""
    from xstyle.gan.train import load_checkpoint

    spec, data = payload["item"]["inputs"]["checkpoint"], payload["data"]["checkpoint"]
    if data is None:
        return load_checkpoint(spec)
    fd, tmp = tempfile.mkstemp(suffix=".pt")  # the bytes: load them from a private temporary file
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return load_checkpoint(tmp)
    except ValueError as err:  # its message names the file: the user's, not this temporary one
        raise ValueError(str(err).replace(repr(tmp), repr(spec)).replace(tmp, spec)) from None
    finally:
        os.unlink(tmp)


def _sample_sheet(generator: Any, seed: int, epoch: int) -> bytes:
    """PNG of 32 samples (grey digits or colour images) of ``generator``, 4 x 8."""
    import matplotlib.pyplot as plt
    import torch

    from xstyle.gan.prior import draw_latents
    from xstyle.hooks import frozen

    z = draw_latents(generator, 32, generator=torch.Generator().manual_seed(seed))
    with frozen(generator), torch.no_grad():
        images = generator(z).clamp(-1, 1).add(1).div(2)
    fig, axes = plt.subplots(4, 8, figsize=(6, 3.2), layout="constrained")
    for ax, image in zip(axes.ravel(), images, strict=True):
        if image.shape[0] == 1:
            ax.imshow(image[0].numpy(), cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(image[:3].permute(1, 2, 0).numpy())
        ax.set_axis_off()
    fig.suptitle(f"epoch {epoch}", fontsize=9)
    return _figure_png(fig)


def _checkpoint(state: WorkerState, payload: dict, s: BatchSettings) -> dict[str, Any]:
    from xstyle.explain.gan._common import sample_latents
    from xstyle.explain.gan.measures import dataset_measures
    from xstyle.explain.gan.probes import probe_layers
    from xstyle.gan.metrics import evaluate_generator

    checkpoint = _load_checkpoint(payload)
    generator, seed = checkpoint.sampler, payload["seed"]
    dataset = str(checkpoint.config.dataset)
    classifier, heldout = state.scorer(dataset, classifier=s.classifier)
    quality = None
    if classifier is not None:
        quality = evaluate_generator(generator, classifier, heldout, n_samples=s.gan_samples, seed=seed)
    measures = list(dataset_measures(dataset, channels=int(heldout.images.shape[1])))
    samples = sample_latents(
        generator,
        classifier=classifier,
        n=s.probe_samples,
        seed=seed,
        measures=None if dataset == "mnist" else measures,  # digits: exactly the digit measures
    )
    attributes = (["class"] if classifier is not None else []) + measures
    probes = probe_layers(samples, attributes=attributes, cv=3, n_components=32, random_state=seed)
    scores = {
        a: {stage: _finite(probes.scores[i, j]) for i, stage in enumerate(probes.stages)}
        for j, a in enumerate(probes.attributes)
    }
    return {
        "numbers": {
            "epoch": checkpoint.epoch,
            "dataset": dataset,
            "classifier": None if classifier is None else (s.classifier or "auto"),
            "confident_fraction": None if quality is None else quality.confident_fraction,
            "frechet_distance": None if quality is None else quality.frechet_distance,
            "inception_score": None if quality is None else quality.inception_score,
            "label_agreement": None if quality is None else quality.label_agreement,
            "probe_accuracy": scores.pop("class", {}),
            "probe_r2": scores,
        },
        "files": {"samples.png": _sample_sheet(generator, seed, checkpoint.epoch)},
    }


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


_TASKS = {"pair": _pair, "painting": _painting, "checkpoint": _checkpoint}


def run_item(state: WorkerState | None, payload: dict[str, Any]) -> dict[str, Any]:
    """Compute one item: ``{"numbers": {...}, "files": {name: bytes}}`` (see the module docstring).

    Pure given ``payload`` (its seed included); ``state`` only caches models. Raises on bad input
    (an unreadable image, a damaged checkpoint): the engine records the error for this item.
    """
    settings = BatchSettings(**payload["settings"])
    state = state if state is not None else WorkerState(weights=settings.weights, network=settings.network)
    return _TASKS[payload["item"]["kind"]](state, payload, settings)
