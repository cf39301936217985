"""The items of a batch: what to explain, one independent task each.

A collection is a list of :class:`BatchItem`: content photos x styles (``pair``), paintings
(``painting``) or GAN checkpoints (``checkpoint``), from folders (:func:`pair_items`,
:func:`painting_items`, :func:`checkpoint_items` with :func:`folder_files`) or from a manifest
file (:func:`read_manifest`, CSV or JSON). An item names its inputs (paths or ``sample:NAME`` /
``shipped:NAME`` specs) and gets a stable id (its output folder's name) and its own seed derived from
the batch seed and the id, so it gives the same numbers whichever engine, worker or order runs it.

Nothing here reads the inputs: a missing or unreadable file fails its item when it runs (recorded
with a one-line error), not the batch. What names a folder is checked here, before anything is
written: an id is at most :data:`MAX_ID_CHARS` characters of ``A-Z a-z 0-9 _ . -`` (a derived one is
shortened to :data:`DERIVED_ID_CHARS` with a hash of its inputs), and no two ids differ only in
case (they would share a folder on a case-insensitive file system). Every check is linear in the
number of rows (a 50,000-row manifest is read and checked in about a second).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CHECKPOINT_SUFFIXES",
    "IMAGE_SUFFIXES",
    "KINDS",
    "MAX_ID_CHARS",
    "BatchItem",
    "checkpoint_items",
    "folder_files",
    "item_seed",
    "painting_items",
    "pair_items",
    "read_manifest",
]

#: item kind -> the input roles it needs
KINDS: dict[str, tuple[str, ...]] = {
    "pair": ("content", "style"),
    "painting": ("painting",),
    "checkpoint": ("checkpoint",),
}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
CHECKPOINT_SUFFIXES = (".pt",)
_SPEC_PREFIXES = ("sample:", "shipped:")
_ID_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
#: Longest item id: it names ``items/<id>/`` and ``failed/<id>.json``, whose temporary names add
#: about 40 characters, within the 255 bytes a file name may have on common file systems.
MAX_ID_CHARS = 200
#: Ids derived from long file names are shortened to this length (a hash of the inputs keeps them apart).
DERIVED_ID_CHARS = 100
#: Largest manifest file read (a list of items, not data).
MAX_MANIFEST_BYTES = 256_000_000


@dataclass(frozen=True)
class BatchItem:
    """One independent task of a batch.

    Attributes:
        kind: ``"pair"``, ``"painting"`` or ``"checkpoint"`` (see :data:`KINDS`).
        id: the name of its result folder (``items/<id>/``): letters, digits, ``_ . -``.
        inputs: role -> a path or a ``sample:NAME`` / ``shipped:NAME`` spec (``content`` and
            ``style`` for a pair, ``painting``, or ``checkpoint``).
    """

    kind: str
    id: str
    inputs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"item kind must be one of {tuple(KINDS)}; got {self.kind!r}.")
        roles = KINDS[self.kind]
        if set(self.inputs) != set(roles):
            raise ValueError(
                f"a {self.kind} item needs the inputs {list(roles)}; got {sorted(self.inputs)} ({self.id!r})."
            )
        if (
            not isinstance(self.id, str)
            or not self.id
            or _ID_CHARS.search(self.id)
            or self.id.startswith(".")
        ):
            raise ValueError(
                f"item id must be letters, digits, '_', '.' or '-' and not start with '.'; got {self.id!r}."
            )
        if len(self.id) > MAX_ID_CHARS:
            raise ValueError(
                f"item id must be at most {MAX_ID_CHARS} characters (it names a folder); got "
                f"{len(self.id)}: {self.id[:40]!r}..."
            )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "inputs": dict(self.inputs)}


def _stem(spec: str) -> str:
    """A short name of an input: ``sample:chelsea`` -> ``chelsea``, ``photos/cat.jpg`` -> ``cat``."""
    for prefix in _SPEC_PREFIXES:
        if spec.startswith(prefix):
            return spec[len(prefix) :]
    return Path(spec).stem


def _slug(text: str) -> str:
    return _ID_CHARS.sub("-", text).strip("-.") or "item"


def _short_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:6]


def _unique_ids(names: Sequence[str], keys: Sequence[str] | Callable[[int], str] | None = None) -> list[str]:
    """Slugs of ``names``, made unique where two would collide (ignoring case, as some file systems
    do) with a short hash of their ``keys`` (default the names; pass the full inputs so two
    ``cat.png`` from two folders differ; a function of the index is called only where needed), and
    shortened to :data:`DERIVED_ID_CHARS` (with that hash) where longer. Linear in the number of names."""
    slugs = [_slug(n) for n in names]
    if keys is None:
        keys = names
    key = keys if callable(keys) else keys.__getitem__
    counts = Counter(s.casefold() for s in slugs)
    ids = []
    for k, s in enumerate(slugs):
        if counts[s.casefold()] > 1 or len(s) > DERIVED_ID_CHARS:
            s = f"{s[: DERIVED_ID_CHARS - 7].rstrip('-.')}-{_short_hash(key(k))}"
        ids.append(s)
    return ids


def item_seed(seed: int, item_id: str) -> int:
    """The seed of one item: the batch seed and the item's id hashed to 31 bits (engine-independent)."""
    digest = hashlib.sha256(f"{int(seed)}/{item_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def folder_files(folder: str | os.PathLike, *, suffixes: Sequence[str], what: str) -> list[str]:
    """The files of ``folder`` with one of ``suffixes`` (case-insensitive), sorted by name; hidden
    files skipped. A missing folder or one with no such file raises ValueError (one line)."""
    path = Path(folder)
    if not path.is_dir():
        raise ValueError(
            f"{what} {str(path)!r} is not a folder; give a folder of {'/'.join(suffixes)} files."
        )
    files = sorted(
        str(p)
        for p in path.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in suffixes
    )
    if not files:
        raise ValueError(
            f"{what} {str(path)!r} holds no {'/'.join(suffixes)} file; put some there or give another folder."
        )
    return files


def _specs(values: Iterable[str] | str, *, suffixes: Sequence[str], what: str) -> list[str]:
    """A folder's files, or the given list of paths/specs."""
    if isinstance(values, (str, os.PathLike)) and not str(values).startswith(_SPEC_PREFIXES):
        if Path(values).is_file():
            return [str(values)]
        return folder_files(values, suffixes=suffixes, what=what)
    if isinstance(values, str):
        return [values]
    out = [str(v) for v in values]
    if not out:
        raise ValueError(f"{what} is empty; give a folder or at least one path or sample:NAME.")
    return out


def pair_items(contents: Iterable[str] | str, styles: Iterable[str] | str) -> list[BatchItem]:
    """Every content x every style (content-major). Each argument is a folder or a list of paths /
    ``sample:NAME`` specs. Ids are ``<content>__<style>``."""
    c = _specs(contents, suffixes=IMAGE_SUFFIXES, what="content folder")
    s = _specs(styles, suffixes=IMAGE_SUFFIXES, what="style folder")
    names = [f"{_stem(a)}__{_stem(b)}" for a in c for b in s]
    inputs = [{"content": a, "style": b} for a in c for b in s]
    keys = [f"{a}\n{b}" for a in c for b in s]
    return [BatchItem("pair", i, x) for i, x in zip(_unique_ids(names, keys), inputs, strict=True)]


def painting_items(paintings: Iterable[str] | str) -> list[BatchItem]:
    """One item per painting (a folder, or paths / ``sample:NAME`` specs)."""
    p = _specs(paintings, suffixes=IMAGE_SUFFIXES, what="paintings folder")
    return [
        BatchItem("painting", i, {"painting": x})
        for i, x in zip(_unique_ids([_stem(x) for x in p], p), p, strict=True)
    ]


def checkpoint_items(checkpoints: Iterable[str] | str) -> list[BatchItem]:
    """One item per GAN checkpoint (a folder of ``.pt`` files, or paths / ``shipped:NAME`` specs)."""
    p = _specs(checkpoints, suffixes=CHECKPOINT_SUFFIXES, what="checkpoint folder")
    return [
        BatchItem("checkpoint", i, {"checkpoint": x})
        for i, x in zip(_unique_ids([_stem(x) for x in p], p), p, strict=True)
    ]


def _manifest_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        raise ValueError(
            f"manifest {str(path)!r} is {size / 1e6:,.0f} MB; a manifest lists items, at most "
            f"{MAX_MANIFEST_BYTES / 1e6:,.0f} MB: split it into several batches."
        )
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (spreadsheet exports) is dropped
    except UnicodeDecodeError as err:
        raise ValueError(
            f"manifest {str(path)!r} is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "save it as UTF-8 (CSV UTF-8 in a spreadsheet) and run it again."
        ) from None


def _manifest_rows(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise ValueError(
            f"manifest {str(path)!r} must be a .csv or .json file; got {path.suffix or 'no suffix'!r}."
        )
    text = _manifest_text(path)
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"manifest {str(path)!r} is not valid JSON ({err.msg}, line {err.lineno})."
            ) from None
        except RecursionError:
            raise ValueError(
                f"manifest {str(path)!r} is nested too deeply to read; a manifest is a JSON list of "
                'objects (or {"items": [...]}), e.g. [{"kind": "painting", "painting": "a.jpg"}].'
            ) from None
        if isinstance(data, dict) and "items" in data:
            data = data["items"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValueError(
                f'manifest {str(path)!r} must be a JSON list of objects (or {{"items": [...]}}); '
                'e.g. [{"kind": "pair", "content": "a.jpg", "style": "b.jpg"}].'
            )
        return data
    rows: list[dict[str, Any]] = []
    try:
        for row in csv.DictReader(io.StringIO(text, newline="")):
            rows.append(dict(row))
    except csv.Error as err:
        raise ValueError(
            f"manifest {str(path)!r} is not a readable CSV file (row {len(rows) + 1}: {err}); "
            "check its quotes and separators."
        ) from None
    return rows


def read_manifest(path: str | os.PathLike) -> list[BatchItem]:
    """Items from a CSV or JSON manifest.

    Each row/object has ``kind`` (``pair``, ``painting`` or ``checkpoint``; optional when the inputs
    make it plain), its inputs (``content`` and ``style``, ``painting`` or ``checkpoint``: paths
    relative to the manifest's folder, absolute paths or ``sample:NAME`` / ``shipped:NAME``) and
    optionally an ``id``. Paths are not opened here: a missing file fails its item when it runs.
    A malformed manifest raises ValueError with one line naming the row.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"manifest {str(path)!r} does not exist; give a .csv or .json file.")
    rows = _manifest_rows(path)
    if not rows:
        raise ValueError(f"manifest {str(path)!r} lists no items.")
    items, names, explicit = [], [], []
    base = "" if str(path.parent) == "." else str(path.parent)  # as Path("m.csv").parent / value
    for n, row in enumerate(rows, start=1):
        row = {str(k).strip(): ("" if v is None else str(v).strip()) for k, v in row.items() if k}
        kind = row.get("kind") or next(
            (k for k, roles in KINDS.items() if all(row.get(r) for r in roles)), ""
        )
        if kind not in KINDS:
            raise ValueError(
                f"manifest {str(path)!r} row {n}: kind must be one of {tuple(KINDS)} (or give the inputs "
                f"of one: content+style, painting, checkpoint); got {row.get('kind') or 'none'!r}."
            )
        missing = [r for r in KINDS[kind] if not row.get(r)]
        if missing:
            raise ValueError(f"manifest {str(path)!r} row {n}: a {kind} needs {missing}; the row has none.")
        inputs = {}
        for role in KINDS[kind]:
            value = row[role]
            if not value.startswith(_SPEC_PREFIXES) and not os.path.isabs(value):
                value = os.path.join(base, value)
            inputs[role] = value
        row_id = row.get("id")
        given = _slug(row_id) if row_id else None
        if given is not None and len(given) > MAX_ID_CHARS:
            raise ValueError(
                f"manifest {str(path)!r} row {n}: id is {len(row_id)} characters; at most {MAX_ID_CHARS} "
                "(it names the item's folder): give a shorter id, or none to derive one from its inputs."
            )
        explicit.append(given)
        names.append(given or "__".join(_stem(inputs[r]) for r in KINDS[kind]))
        items.append((kind, inputs))
    given_counts = Counter(g.casefold() for g in explicit if g)
    repeated = sorted({g for g in explicit if g and given_counts[g.casefold()] > 1})
    if repeated:
        raise ValueError(
            f"manifest {str(path)!r}: item ids must be unique (ignoring case); {repeated[:4]} repeat (give "
            "each row its own id, or none to derive one from its inputs)."
        )
    derived = _unique_ids(names, lambda k: f"{names[k]}\n{json.dumps(items[k][1])}")
    ids = [g or d for g, d in zip(explicit, derived, strict=True)]
    taken = Counter(i.casefold() for i in ids)
    if len(taken) != len(ids):
        clash = sorted(i for i in ids if taken[i.casefold()] > 1)[:4]
        raise ValueError(
            f"manifest {str(path)!r}: item ids must be unique (ignoring case); {clash} repeat (an id given "
            "in one row is derived from the inputs of another: give those rows ids)."
        )
    return [BatchItem(kind, i, inputs) for i, (kind, inputs) in zip(ids, items, strict=True)]
