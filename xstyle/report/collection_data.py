"""What a batch folder holds, read and checked, and the numbers the collection report computes
from it without drawing (:mod:`xstyle.report.collection` builds the report).

:func:`read_batch_folder` reads ``batch.json``, every ``items/<id>/result.json`` and every
``failed/<id>.json`` directly (no import of :mod:`xstyle.batch`, so any folder following the batch
format works); :func:`consensus_carriers` says which carrier channels paintings share.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["BatchFolder", "consensus_carriers", "read_batch_folder", "short_name"]

BATCH_FORMAT = "xstyle-batch/"
KINDS = ("pair", "painting", "checkpoint")
_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
#: a contact sheet figure shows at most this many contents (rows) and styles (columns)
SHEET_MAX = 12
#: carrier channels per painting that count (the batch keeps the top 8)
TOP_CARRIERS = 8


# -------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class BatchFolder:
    """What a batch folder holds, as read from disk.

    Attributes:
        root: the batch folder. batch: ``batch.json`` as a dict.
        items: id -> ``{"id", "kind", "inputs"}`` of every item, in batch.json's order (items found
            on disk but not listed follow, taken from their own JSON).
        results: id -> ``result.json`` of each done item.
        failures: id -> ``failed/<id>.json`` of each failed item (never one that also has a result).
        unreadable: id -> why its ``result.json`` (or failure file) could not be used.
    """

    root: Path
    batch: dict[str, Any]
    items: dict[str, dict[str, Any]]
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def left(self) -> list[str]:
        """Ids of items listed but neither done nor failed (nor unreadable)."""
        return [
            i
            for i in self.items
            if i not in self.results and i not in self.failures and i not in self.unreadable
        ]

    def done(self, kind: str) -> list[str]:
        """Ids of the done items of ``kind``, in the items' order."""
        return [i for i in self.items if i in self.results and self.items[i]["kind"] == kind]

    def listed(self, kind: str) -> list[str]:
        """Ids of every item of ``kind``."""
        return [i for i, item in self.items.items() if item["kind"] == kind]

    def item_dir(self, item_id: str) -> Path:
        return self.root / "items" / item_id


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _check_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError(
            f"{where}: item id {value!r} is not a folder name made of letters, digits, '_', '.' or '-'."
        )
    return value


def _entry(data: Any, kind_hint: str | None = None) -> dict[str, Any] | None:
    """``{"id", "kind", "inputs"}`` from a listed item or an item's own JSON; None when malformed."""
    if not isinstance(data, Mapping):
        return None
    inputs = data.get("inputs")
    kind = data.get("kind", kind_hint)
    if not isinstance(inputs, Mapping) or kind not in KINDS:
        return None
    return {"id": data.get("id"), "kind": kind, "inputs": {str(k): str(v) for k, v in inputs.items()}}


def read_batch_folder(batch_dir: str | os.PathLike) -> BatchFolder:
    """Read a batch folder (see the module docstring); ValueError with one line when it is not one.

    A malformed or unreadable ``result.json`` does not stop the report: the item is listed under
    ``unreadable`` with the reason.
    """
    root = Path(batch_dir)
    meta = root / "batch.json"
    if not root.is_dir():
        raise ValueError(f"batch folder {str(root)!r} does not exist or is not a folder.")
    if not meta.is_file():
        raise ValueError(
            f"{str(root)!r} is not a batch folder: it has no batch.json (run `xstyle batch` into it first)."
        )
    try:
        batch = _read_json(meta)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"{str(meta)!r} is not readable JSON ({type(err).__name__}).") from None
    if not isinstance(batch, dict) or not str(batch.get("format", "")).startswith(BATCH_FORMAT):
        raise ValueError(
            f"{str(meta)!r} is not a batch description (its format should start with {BATCH_FORMAT!r})."
        )
    listed = batch.get("items", [])
    if not isinstance(listed, list):
        raise ValueError(f"{str(meta)!r}: 'items' must be a list; got {type(listed).__name__}.")
    items: dict[str, dict[str, Any]] = {}
    for n, raw in enumerate(listed):
        entry = _entry(raw)
        if entry is None:
            raise ValueError(
                f"{str(meta)!r}: item {n} needs 'id', 'kind' (one of {', '.join(KINDS)}) and 'inputs'."
            )
        entry["id"] = _check_id(entry["id"], f"{str(meta)!r} item {n}")
        items[entry["id"]] = entry

    results: dict[str, dict[str, Any]] = {}
    unreadable: dict[str, str] = {}
    folders = root / "items"
    found = sorted(p.name for p in folders.iterdir() if p.is_dir()) if folders.is_dir() else []
    for name in [*items, *(n for n in found if n not in items)]:
        if name.startswith(".") or not _ID.fullmatch(name):
            continue  # a temporary folder of an item being written, or something else
        path = folders / name / "result.json"
        if not path.is_file():
            continue
        try:
            data = _read_json(path)
        except (OSError, UnicodeDecodeError, ValueError) as err:
            unreadable[name] = f"result.json is not readable JSON ({type(err).__name__})"
            continue
        entry = _entry(data, items.get(name, {}).get("kind"))
        if entry is None or not isinstance(data.get("numbers"), Mapping):
            unreadable[name] = "result.json lacks 'kind', 'inputs' or 'numbers'"
            continue
        if name not in items:
            items[name] = {**entry, "id": name}
        results[name] = data

    failures: dict[str, dict[str, Any]] = {}
    failed_dir = root / "failed"
    names = sorted(p.stem for p in failed_dir.glob("*.json")) if failed_dir.is_dir() else []
    for name in names:
        if name.startswith(".") or not _ID.fullmatch(name) or name in results:
            continue  # a result wins over a stale failure file
        try:
            data = _read_json(failed_dir / f"{name}.json")
        except (OSError, UnicodeDecodeError, ValueError) as err:
            data = {"error": f"failed/{name}.json is not readable JSON ({type(err).__name__})"}
        if not isinstance(data, dict):
            data = {"error": f"failed/{name}.json is not a JSON object"}
        if name not in items:
            entry = _entry(data)
            if entry is None:
                entry = {"kind": str(data.get("kind", "?")), "inputs": {}}
            items[name] = {**entry, "id": name}
        failures[name] = data
        unreadable.pop(name, None)
    return BatchFolder(root, batch, items, results, failures, unreadable)


# -------------------------------------------------------------------------------------- helpers


def short_name(spec: str) -> str:
    """A short label of an input: ``sample:NAME`` / ``shipped:NAME`` as given, a path's base name."""
    spec = str(spec)
    if spec.startswith(("sample:", "shipped:")):
        return spec
    return PurePosixPath(spec.replace("\\", "/")).name or spec


def _clip(label: str, n: int = 22) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def _one_line(message: Any, n: int = 300) -> str:
    lines = str(message).strip().splitlines()
    return _clip(lines[0] if lines else "", n)


def _number(value: Any) -> float | None:
    """A finite float, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def consensus_carriers(
    carriers: Mapping[str, Mapping[str, Sequence[tuple[int, float | None]]]], *, layers: Sequence[str]
) -> dict[str, Any]:
    """Which carrier channels the paintings share and which one painting owns alone.

    Args:
        carriers: painting id -> layer -> its top carriers ``(channel, share)``.
        layers: the layers, in order.
    Returns:
        ``{"n_paintings", "threshold", "layers": {layer: {"counts": {channel: n}, "shared": [...],
        "unique": [...]}}}``: shared channels are in the top carriers of at least ``threshold`` =
        max(2, ceil(n / 2)) paintings (sorted by how many, then channel), unique ones in exactly one.
    """
    n = len(carriers)
    threshold = max(2, math.ceil(n / 2))
    out: dict[str, Any] = {"n_paintings": n, "threshold": threshold, "layers": {}}
    for layer in layers:
        owners: dict[int, list[str]] = {}
        shares: dict[int, list[float]] = {}
        for painting, per_layer in carriers.items():
            for channel, share in per_layer.get(layer, []):
                if painting not in owners.setdefault(channel, []):
                    owners[channel].append(painting)
                    if share is not None:
                        shares.setdefault(channel, []).append(share)
        order = sorted(owners, key=lambda ch: (-len(owners[ch]), ch))

        mean = {ch: sum(shares[ch]) / len(shares[ch]) if shares.get(ch) else None for ch in owners}

        out["layers"][layer] = {
            "counts": {ch: len(owners[ch]) for ch in order},
            "shared": [
                {
                    "channel": ch,
                    "count": len(owners[ch]),
                    "paintings": owners[ch],
                    "mean_share": mean[ch],
                }
                for ch in order
                if len(owners[ch]) >= threshold
            ],
            "unique": [
                {"channel": ch, "painting": owners[ch][0], "mean_share": mean[ch]}
                for ch in sorted(owners)
                if len(owners[ch]) == 1 and n >= 2
            ],
        }
    return out
