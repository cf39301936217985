"""Run a batch: every item once, resumable, on a local or a Ray engine.

The batch folder (``out``)::

    batch.json          the items, the settings, the engine, the versions, a summary
    items/<id>/         one folder per finished item, swapped in whole (result.json + files)
    failed/<id>.json    the one-line error of an item that failed (removed when it later succeeds)

An item is done when ``items/<id>/result.json`` exists: a folder appears only complete, so a run
killed at any instant leaves nothing half-written that a rerun would take for done. A rerun with the
same command skips the done items and runs the others (failed ones included); one with other
settings is refused (its numbers would not compare). A folder that is not empty and holds no
``batch.json`` is refused too: xstyle never writes into a folder it did not make.

Before anything is written the run takes the folder's lock (one run per folder; a second is
refused in one line naming the first, see :func:`xstyle.atomic.hold_output`) and checks that the
names every item will get fit this file system (file-name and path lengths). A disk that fills up
stops the run with one :class:`~xstyle.atomic.DiskFullError` line (how much to free, estimated from
the items written so far): the finished items stay complete, no temporary is left behind.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xstyle.atomic import DiskFullError, atomic_dir, check_writable, disk_full_error, hold_output, write_json
from xstyle.batch._jobs import _one_line
from xstyle.batch.items import BatchItem
from xstyle.batch.tasks import BatchSettings, make_payload, run_item, worker_setup

__all__ = ["BATCH_FORMAT", "BatchProgress", "BatchResult", "ItemStatus", "pending_items", "run_batch"]

log = logging.getLogger(__name__)

BATCH_FORMAT = "xstyle-batch/1"
_RESULT = "result.json"


@dataclass(frozen=True)
class ItemStatus:
    """What happened to one item in this run: ``status`` is ``"done"`` (run now), ``"skipped"``
    (done by an earlier run) or ``"failed"`` (``error`` says why, in one line)."""

    id: str
    kind: str
    status: str
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""
    bytes_in: int = 0
    bytes_out: int = 0


@dataclass(frozen=True)
class BatchProgress:
    """Where a run stands: items ``done`` (this run or earlier), ``failed`` and ``left`` of ``total``;
    ``eta_seconds``: time left at this run's pace (None before the first item ends); ``last``: the
    item that just ended (None at the start)."""

    done: int
    failed: int
    left: int
    total: int
    eta_seconds: float | None = None
    last: ItemStatus | None = None


@dataclass(frozen=True)
class BatchResult:
    """A finished run: the folder, every item's status (in the items' order) and the wall time."""

    folder: Path
    items: tuple[ItemStatus, ...]
    seconds: float
    engine: dict[str, Any] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(s.status == status for s in self.items)

    @property
    def failed(self) -> list[ItemStatus]:
        return [s for s in self.items if s.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "seconds": self.seconds,
            "engine": self.engine,
            "counts": {k: self.count(k) for k in ("done", "skipped", "failed")},
            "items": [vars(s) for s in self.items],
        }


def _check_items(items: Sequence[BatchItem]) -> list[BatchItem]:
    items = list(items)
    if not items:
        raise ValueError("the batch has no items; give at least one (a folder with files, or a manifest).")
    bad = [i for i in items if not isinstance(i, BatchItem)]
    if bad:
        raise TypeError(f"items must be BatchItem objects; got {type(bad[0]).__name__}.")
    counts = Counter(i.id.casefold() for i in items)  # one folder each, also where case is ignored
    dupes = sorted({i.id for i in items if counts[i.id.casefold()] > 1})
    if dupes:
        raise ValueError(f"item ids must be unique (ignoring case); repeated: {dupes[:4]}.")
    return items


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _open_folder(out: Path, settings: BatchSettings, what: str) -> dict[str, Any] | None:
    """Check that ``out`` may hold this batch; returns its previous batch.json (None: a new batch)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{what} {str(out)!r} exists and is not a folder; choose another folder.")
    if out.is_dir() and any(out.iterdir()):
        previous = _read_json(out / "batch.json")
        if not isinstance(previous, dict) or previous.get("format") != BATCH_FORMAT:
            raise ValueError(
                f"{what} {str(out)!r} is not empty and is not an xstyle batch folder (no batch.json); "
                "choose a new or empty folder."
            )
        old = previous.get("settings", {})
        changed = [k for k, v in settings.to_dict().items() if old.get(k) != v]
        if changed:
            k = changed[0]
            raise ValueError(
                f"{what} {str(out)!r} holds a batch made with other settings ({k}: {old.get(k)!r} there, "
                f"{getattr(settings, k)!r} now); rerun with the same settings to resume, or choose a new "
                "folder."
            )
        return previous
    check_writable(out.parent if not out.exists() else out, what=f"{what} {str(out)!r}")
    return None


#: Characters a temporary name adds to an item's: ``.<id>.json.xs-HOST-PID-RANDOM.tmp`` (7-digit PID).
_TEMP_NAME_EXTRA = len("..json.xs-abcdef-1234567-abcdefgh.tmp")
#: Path characters below an item's folder (its files' names), and a margin for the report's.
_INNER_PATH = 64


def _limit(folder: Path, name: str, fallback: int) -> int:
    try:
        value = os.pathconf(folder, name)
    except (OSError, ValueError, AttributeError):
        return fallback
    return value if isinstance(value, int) and value > 0 else fallback


def _check_names(out: Path, items: Sequence[BatchItem], what: str) -> None:
    """Check that every item's folder, result file and their temporaries can be named in ``out``
    (this file system's longest file name and path), before anything is written; one line if not."""
    if not items:
        return
    existing = Path(os.path.abspath(out))
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    name_max = _limit(existing, "PC_NAME_MAX", 255)
    path_max = _limit(existing, "PC_PATH_MAX", 4096)
    longest = max(items, key=lambda i: len(os.fsencode(i.id)))
    size = len(os.fsencode(longest.id))
    if size + _TEMP_NAME_EXTRA > name_max:
        fits = max(name_max - _TEMP_NAME_EXTRA, 0)
        raise ValueError(
            f"{what} {str(out)!r}: item id {longest.id[:40]!r}... is {size} characters, and its files' "
            f"names would pass this file system's {name_max}-byte limit; give ids of at most {fits} "
            "characters."
        )
    deepest = len(os.fsencode(os.path.abspath(out))) + len("/failed/") + size + _TEMP_NAME_EXTRA + _INNER_PATH
    if deepest > path_max:
        raise ValueError(
            f"{what} {str(out)!r} is too deep: its items' paths would pass this system's {path_max}-byte "
            "limit; choose a folder with a shorter path (or give shorter ids)."
        )


def _is_done(out: Path, item: BatchItem) -> bool:
    data = _read_json(out / "items" / item.id / _RESULT)
    return isinstance(data, dict) and data.get("id") == item.id and data.get("kind") == item.kind


def pending_items(items: Sequence[BatchItem], out: str | os.PathLike) -> list[BatchItem]:
    """The items of ``items`` whose result is not yet in the batch folder ``out`` (all of them for a
    new folder): what :func:`run_batch` would run, e.g. to size an engine for a resumed batch."""
    folder = Path(out) / "items"
    try:
        present = set(os.listdir(folder))  # one listing, then only the folders that exist are read
    except OSError:  # a new batch: nothing is done
        return list(items)
    return [i for i in items if i.id not in present or not _is_done(Path(out), i)]


def _batch_json(
    items: Sequence[BatchItem],
    settings: BatchSettings,
    collection: str,
    engine: dict[str, Any],
    summary: dict[str, Any] | None,
) -> dict[str, Any]:
    from xstyle._runinfo import versions

    return {
        "format": BATCH_FORMAT,
        "collection": collection,
        "settings": settings.to_dict(),
        "items": [i.to_dict() for i in items],
        "engine": engine,
        "versions": versions(),
        "summary": summary,
    }


def _write_item(out: Path, item: BatchItem, value: dict[str, Any], status: ItemStatus, seed: int) -> None:
    files = value.get("files", {})
    record = {
        **item.to_dict(),
        "seed": seed,
        "seconds": status.seconds,
        "worker": status.worker,
        "numbers": value.get("numbers", {}),
        "files": sorted(files),
    }
    (out / "items").mkdir(exist_ok=True)
    with atomic_dir(out / "items" / item.id) as tmp:
        for name, data in files.items():
            if Path(name).name != name or name.startswith("."):
                raise ValueError(f"a task returned a bad file name {name!r}")
            _write_file(tmp / name, data)
        text = json.dumps(record, indent=2, allow_nan=False) + "\n"
        _write_file(tmp / _RESULT, text.encode("utf-8"))
    failed = out / "failed" / f"{item.id}.json"
    if failed.is_file():
        failed.unlink()  # written by an earlier run of this batch: the item has succeeded since


def _write_file(path: Path, data: bytes) -> None:
    """Write one file of an item's folder (the item's temporary folder: swapped in whole after)."""
    path.write_bytes(data)


def _item_bytes(out: Path, done: Sequence[BatchItem]) -> float:
    """Average bytes of the item folders written so far (0 when none are)."""
    sizes = []
    for item in done[-20:]:  # the latest few are enough for an estimate
        folder = out / "items" / item.id
        if folder.is_dir():
            sizes.append(sum(f.stat().st_size for f in folder.iterdir() if f.is_file()))
    return sum(sizes) / len(sizes) if sizes else 0.0


def _write_failure(out: Path, item: BatchItem, status: ItemStatus) -> None:
    (out / "failed").mkdir(exist_ok=True)
    write_json(
        {**item.to_dict(), "error": status.error, "seconds": status.seconds, "worker": status.worker},
        out / "failed" / f"{item.id}.json",
    )


def run_batch(
    items: Sequence[BatchItem],
    out: str | os.PathLike,
    *,
    settings: BatchSettings | None = None,
    engine: Any = None,
    collection: str = "manifest",
    progress: Callable[[BatchProgress], None] | None = None,
    what: str = "out",
) -> BatchResult:
    """Run every item not done yet into the batch folder ``out``; returns what happened.

    Args:
        items: the collection (:mod:`xstyle.batch.items`); ids must be unique.
        out: the batch folder (created; an existing one is resumed, see the module docstring).
        settings: options of every item (default :class:`BatchSettings`).
        engine: a :class:`~xstyle.batch.engines.LocalEngine` (default, sized to this machine's
            cores) or :class:`~xstyle.batch.engines.RayEngine`; entered and left here unless the
            caller already entered it.
        collection: a label recorded in batch.json (``pairs``, ``paintings``, ``checkpoints``, ``manifest``).
        progress: called at the start and after every item with a :class:`BatchProgress`.
        what: how ``out`` is named in error messages (the CLI passes ``"--out"``).

    Item failures (an unreadable image, a damaged checkpoint, a lost worker) never stop the run:
    each is recorded in ``failed/<id>.json`` and in the result with its one-line error.

    Raises:
        ValueError: one line, before anything is written: ``out`` is another run's (its lock), not a
            batch folder, a batch of other settings, or cannot hold the items' names.
        DiskFullError: the disk filled up; the items finished so far stay complete (rerun to resume).
    """
    items = _check_items(items)
    settings = settings or BatchSettings()
    out = Path(out)
    with hold_output(out, what=what):  # one run per batch folder
        return _run_batch(items, out, settings, engine, collection, progress, what)


def _run_batch(
    items: list[BatchItem],
    out: Path,
    settings: BatchSettings,
    engine: Any,
    collection: str,
    progress: Callable[[BatchProgress], None] | None,
    what: str,
) -> BatchResult:
    from xstyle.batch.engines import LocalEngine

    _open_folder(out, settings, what)
    _check_names(out, items, what)
    t0 = time.perf_counter()
    todo = pending_items(items, out)
    left = {i.id for i in todo}
    statuses = {i.id: ItemStatus(i.id, i.kind, "skipped") for i in items if i.id not in left}
    engine = engine if engine is not None else LocalEngine(n_jobs=len(todo))
    kinds = tuple(sorted({i.kind for i in todo}))
    counts = {"done": len(statuses), "failed": 0}
    ended = 0

    def report(last: ItemStatus | None) -> None:
        if progress is None:
            return
        left = len(items) - counts["done"] - counts["failed"]
        elapsed = time.perf_counter() - t0
        eta = elapsed / ended * left if ended else None
        progress(BatchProgress(counts["done"], counts["failed"], left, len(items), eta, last))

    def finish(status: ItemStatus) -> None:
        nonlocal ended
        statuses[status.id] = status
        counts["done" if status.status == "done" else "failed"] += 1
        ended += 1
        report(status)

    by_id = {i.id: i for i in todo}
    seeds: dict[str, int] = {}

    def jobs() -> Iterator[tuple[str, dict[str, Any]]]:
        for item in todo:
            try:
                payload = make_payload(item, settings)
            except OSError as err:  # a missing or unreadable input: this item fails, the others go on
                status = ItemStatus(item.id, item.kind, "failed", error=_one_line(err))
                _write_failure(out, item, status)
                finish(status)
                continue
            seeds[item.id] = payload["seed"]
            yield item.id, payload

    entered = False
    if todo and not getattr(engine, "active", False):
        engine.__enter__()  # before anything is written: an engine that cannot start writes nothing
        entered = True
    described = engine.describe() if hasattr(engine, "describe") else {"name": type(engine).__name__}
    full: DiskFullError | None = None
    started = False
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_json(_batch_json(items, settings, collection, described, None), out / "batch.json")
        started = True
        report(None)
        if todo:
            setup = functools.partial(
                worker_setup, kinds=kinds, weights=settings.weights, network=settings.network
            )
            for outcome in engine.run(run_item, jobs(), setup=setup):
                item = by_id[outcome.key]
                common = dict(
                    seconds=outcome.seconds,
                    worker=outcome.worker,
                    bytes_in=outcome.bytes_in,
                    bytes_out=outcome.bytes_out,
                )
                if outcome.error is None:
                    status = ItemStatus(item.id, item.kind, "done", **common)
                    try:
                        _write_item(out, item, outcome.value, status, seeds[item.id])
                    except DiskFullError:
                        raise
                    except (OSError, ValueError, TypeError) as err:
                        status = ItemStatus(item.id, item.kind, "failed", error=_one_line(err), **common)
                else:
                    status = ItemStatus(item.id, item.kind, "failed", error=outcome.error, **common)
                if status.status == "failed":
                    _write_failure(out, item, status)
                finish(status)
    except DiskFullError as err:  # stop: every item after this one would fail the same way
        full = err
    finally:
        if entered:
            engine.__exit__(None, None, None)
        seconds = time.perf_counter() - t0
        summary = {
            "done": counts["done"],
            "failed": counts["failed"],
            "left": len(items) - counts["done"] - counts["failed"],
            "seconds": seconds,
        }
        if started:
            try:
                write_json(_batch_json(items, settings, collection, described, summary), out / "batch.json")
            except DiskFullError as err:  # the previous batch.json stays, complete
                full = full or err
    if full is not None:
        finished = [i for i in items if i.id in statuses and statuses[i.id].status in ("done", "skipped")]
        per_item = _item_bytes(out, finished)
        if per_item:  # the items left, at the size of those written so far
            raise disk_full_error(out, need_bytes=per_item * max(summary["left"], 1)) from None
        raise full
    ordered = tuple(statuses[i.id] for i in items if i.id in statuses)
    log.info("batch %s: %s", out, summary)
    return BatchResult(folder=out, items=ordered, seconds=seconds, engine=described)
