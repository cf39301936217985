"""Bad inputs for ``tests/test_bad_input_corpus.py``: broken images, hostile and malformed checkpoints.

:func:`build_corpus` writes them once per session into a folder; the tests only read them. Every
malformed checkpoint starts from a file xstyle ships (loaded with ``weights_only=True``), keeps its
format tag and breaks exactly one thing, so a loader that trusts the tag has to check the fields.
"""

from __future__ import annotations

import copy
import io
import os
import pickle
import shlex
from collections.abc import Callable
from pathlib import Path

import torch

import xstyle

ASSETS = Path(xstyle.__file__).parent / "assets"
SHIPPED_GAN = ASSETS / "gan" / "dcgan_mnist.pt"
SHIPPED_CLASSIFIER = ASSETS / "gan" / "digit_classifier.pt"
SHIPPED_STYLIZER = ASSETS / "stylizers" / "starry_night.pt"

#: a file a pickle in the corpus would create if anything ever ran it
MARKER_NAME = "PICKLE-RAN-OS-SYSTEM"

#: image inputs by kind: a file name in the corpus folder, or a literal argument (the unknown sample)
BAD_IMAGES = {
    "text-png": "text.png",
    "truncated-png": "truncated.png",
    "zero-byte": "empty.png",
    "dir-named-png": "folder.png",
    "missing": "missing.png",
    "unknown-sample": "sample:no_such_painting",
    "bomb-30000x30000": "bomb.png",
}

#: hostile or malformed batch manifests: name -> what is in it (see :func:`_manifests`)
MANIFESTS = (
    "nested.json",
    "latin1.csv",
    "field-200000-chars.csv",
    "id-300-chars.csv",
    "ids-differ-in-case.csv",
    "rows-50000-one-repeated.csv",
)


class _RunsShell:
    """Pickles as a call of ``os.system(command)``: what a hostile .pt file does on a plain load."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def png_bytes() -> bytes:
    """A 64x64 noise PNG (noise so the compressed data is long enough to cut in half)."""
    from PIL import Image

    noise = torch.randint(0, 256, (64, 64, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    buf = io.BytesIO()
    Image.fromarray(noise.numpy()).save(buf, format="PNG")
    return buf.getvalue()


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A PNG that declares ``width`` x ``height`` 8-bit grey pixels and holds none (a header is all a
    reader needs to see its size: PIL refuses it as a decompression bomb before decoding)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def _manifests() -> dict[str, bytes]:
    painting = "painting,sample:starry_night"
    rows = "".join(f"{painting},row{k}\n" for k in range(50_000))
    return {
        "nested.json": b"[" * 200_000 + b"]" * 200_000,  # Python's JSON parser recurses per level
        "latin1.csv": "kind,painting\npainting,caf\xe9.png\n".encode("latin-1"),
        "field-200000-chars.csv": b"kind,painting\npainting," + b"a" * 200_000 + b"\n",
        "id-300-chars.csv": f"kind,painting,id\n{painting},{'x' * 300}\n".encode(),
        "ids-differ-in-case.csv": f"kind,painting,id\n{painting},Cat\n{painting},cat\n".encode(),
        "rows-50000-one-repeated.csv": f"kind,painting,id\n{rows}{painting},ROW7\n".encode(),
    }


def _nan_floats(state: dict) -> dict:
    return {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in state.items()}


def _variant(source: Path, change: Callable[[dict], None]) -> dict:
    state = copy.deepcopy(torch.load(source, map_location="cpu", weights_only=True))
    change(state)
    return state


def _gan_variants() -> dict[str, Callable[[dict], None]]:
    def config_list(s):
        s["config"] = list(s["config"].items())

    def batch_size_string(s):
        s["config"]["batch_size"] = "64"

    def generator_tensor(s):
        s["generator"] = torch.zeros(3)

    def history_int(s):
        s["history"] = 5

    def nan_weights(s):
        s["generator"] = _nan_floats(s["generator"])
        s["discriminator"] = _nan_floats(s["discriminator"])

    def huge_prior(s):
        s["config"]["prior"] = "mixture:1000000000:4:1"

    return {
        "config-list": config_list,
        "batch-size-string": batch_size_string,
        "generator-tensor": generator_tensor,
        "history-int": history_int,
        "nan-weights": nan_weights,
        "huge-prior": huge_prior,
    }


def _stylizer_variants() -> dict[str, Callable[[dict], None]]:
    def config_list(s):
        s["config"] = list(s["config"].items())

    def net_tensor(s):
        s["net"] = torch.zeros(3)

    def history_int(s):
        s["history"] = 5

    def nan_weights(s):
        s["net"] = _nan_floats(s["net"])

    def style_string(s):
        s["style"] = "starry_night"

    def huge_residual(s):
        s["config"]["arch"]["n_residual"] = 100_000

    return {
        "config-list": config_list,
        "net-tensor": net_tensor,
        "history-int": history_int,
        "nan-weights": nan_weights,
        "style-string": style_string,
        "huge-residual-blocks": huge_residual,
    }


def _classifier_variants() -> dict[str, Callable[[dict], object]]:
    """The classifier is a plain state dict (no tag): each variant returns what gets saved."""

    def as_list(s):
        return list(s.values())

    def non_tensor(s):
        return {**s, "note": "trained on my laptop"}

    def wrong_shape(s):
        return {**s, "fc2.weight": torch.zeros(5, 128), "fc2.bias": torch.zeros(5)}

    def nan_weights(s):
        return _nan_floats(s)

    return {"list": as_list, "non-tensor": non_tensor, "wrong-shape": wrong_shape, "nan-weights": nan_weights}


def build_corpus(root: Path) -> dict[str, Path]:
    """Write every bad input below ``root``; returns name -> path (``missing.png`` is not created).

    Names: the files of :data:`BAD_IMAGES` and :data:`MANIFESTS`, ``empty-dir``, ``bad-photos`` (a
    folder holding one good and one broken photo), ``not-torch.pt``, ``os-system.pt`` (a raw
    pickle), ``os-system-zip.pt`` (the same object through ``torch.save``), ``gan-truncated.pt``,
    ``stylizer-truncated.pt``, ``gan-<variant>.pt``, ``stylizer-<variant>.pt``,
    ``classifier-<variant>.pt`` and ``marker`` (the file that must never appear).
    """
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        (root / name).write_bytes(data)
        files[name] = root / name

    png = png_bytes()
    put("text.png", b"this is a text file, not a PNG image\n")
    put("bomb.png", bomb_png())
    for name, data in _manifests().items():
        put(name, data)
    put("truncated.png", png[: len(png) // 2])
    put("empty.png", b"")
    (root / "folder.png").mkdir()
    files["folder.png"] = root / "folder.png"
    files["missing.png"] = root / "missing.png"
    (root / "empty-dir").mkdir()
    files["empty-dir"] = root / "empty-dir"
    photos = root / "bad-photos"
    photos.mkdir()
    (photos / "good.png").write_bytes(png)
    (photos / "broken.png").write_bytes(png[: len(png) // 3])
    files["bad-photos"] = photos

    marker = root / MARKER_NAME
    files["marker"] = marker
    hostile = _RunsShell(f"touch {shlex.quote(str(marker))}")
    put("not-torch.pt", b"# my notes, saved with the wrong name\n")
    put("os-system.pt", pickle.dumps(hostile, protocol=2))
    buf = io.BytesIO()
    torch.save(hostile, buf)
    put("os-system-zip.pt", buf.getvalue())
    for name, source in (("gan", SHIPPED_GAN), ("stylizer", SHIPPED_STYLIZER)):
        data = source.read_bytes()
        put(f"{name}-truncated.pt", data[: len(data) // 2])

    for prefix, source, variants in (
        ("gan", SHIPPED_GAN, _gan_variants()),
        ("stylizer", SHIPPED_STYLIZER, _stylizer_variants()),
    ):
        for variant, change in variants.items():
            path = root / f"{prefix}-{variant}.pt"
            torch.save(_variant(source, change), path)
            files[path.name] = path
    classifier = torch.load(SHIPPED_CLASSIFIER, map_location="cpu", weights_only=True)
    for variant, make in _classifier_variants().items():
        path = root / f"classifier-{variant}.pt"
        torch.save(make(dict(classifier)), path)
        files[path.name] = path
    assert not marker.exists()
    return files
