"""The collection report: one page over a whole batch folder (pairs, paintings, checkpoints).

:func:`build_collection_report` reads what a batch run left on disk (``batch.json``, every
``items/<id>/result.json`` with its PNGs and ``fingerprint.npy``, every ``failed/<id>.json``) and
writes the report with the same writer as the other reports, into ``OUT/report`` by default:

* a summary (items done, failed and left, the engine, the settings, the time);
* pairs: a contact sheet (contents x styles) and a sortable table of every pair's numbers;
* paintings: a sortable table, a style atlas (standardised fingerprints, PCA to 2-D, k-means
  clusters) and the carrier channels the paintings share or own alone;
* checkpoints: a sortable table and the quality curves over the epochs;
* the failed items with their one-line errors.

It reads the JSON files directly (no import of :mod:`xstyle.batch`), so any folder that follows the
batch format works. Every number also goes to ``metrics.json``. Table rows link to each item's
``result.json`` by a relative path (``../items/<id>/result.json``), checked to exist inside the
batch folder before anything is written. The figures are drawn by
:mod:`xstyle.report.collection_figures` from what this module reads and computes.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from xstyle.report._common import ProgressCallback, _FigureSaver, _new_report, _Runner, _Stage
from xstyle.report.captions import text
from xstyle.report.collection_data import (
    KINDS,
    SHEET_MAX,
    BatchFolder,
    _clip,
    _number,
    _one_line,
    consensus_carriers,
    read_batch_folder,
    short_name,
)
from xstyle.report.collection_figures import checkpoint_curves, contact_sheet
from xstyle.report.collection_paintings import (
    _atlas,
    _consensus,
    _painting_layers,
    _painting_names,
    _paintings_table,
    _result_link,
    _thumbnail,
)
from xstyle.report.writer import Report, Section, Table, jsonable, write_report

__all__ = ["BatchFolder", "build_collection_report", "consensus_carriers", "read_batch_folder", "short_name"]


def _stage_plan(folder: BatchFolder) -> list[_Stage]:
    n = len(folder.items)
    pairs, paintings = len(folder.listed("pair")), len(folder.listed("painting"))
    return [
        _Stage("read batch", 1, 1 + n / 100),
        _Stage("contact sheet", 1, 0.2 + pairs / 20),
        _Stage("item tables", 1, 0.2),
        _Stage("style atlas", 1, (2 + paintings / 20) if paintings else 0.1),
        _Stage("consensus carriers", 1, 1 if paintings else 0.1),
        _Stage("checkpoint curves", 1, 1 if folder.listed("checkpoint") else 0.1),
        _Stage("failed items", 1, 0.1),
    ]


# -------------------------------------------------------------------------------------- summary


def _summary_section(report: Report, folder: BatchFolder) -> dict[str, Any]:
    batch = folder.batch
    engine = batch.get("engine") if isinstance(batch.get("engine"), Mapping) else {}
    summary = batch.get("summary") if isinstance(batch.get("summary"), Mapping) else {}
    item_seconds = sum(s for r in folder.results.values() if (s := _number(r.get("seconds"))) is not None)
    counts = {
        "items": len(folder.items),
        "done": len(folder.results),
        "failed": len(folder.failures),
        "left": len(folder.left),
        "unreadable": len(folder.unreadable),
    }
    by_kind = {
        kind: {
            "done": len(folder.done(kind)),
            "failed": sum(folder.items[i]["kind"] == kind for i in folder.failures),
            "listed": len(folder.listed(kind)),
        }
        for kind in KINDS
        if folder.listed(kind)
    }
    s = report.section(
        "Summary",
        f"The batch folder {folder.root} ({batch.get('collection', 'unknown')} collection): "
        f"{counts['done']} of {counts['items']} items done, {counts['failed']} failed, "
        f"{counts['left']} left.",
    )
    rows: list[tuple[Any, Any]] = [
        ("collection", batch.get("collection")),
        ("items listed", counts["items"]),
        ("done", counts["done"]),
        ("failed", counts["failed"]),
        ("left (not run yet)", counts["left"]),
    ]
    if counts["unreadable"]:
        rows.append(("unreadable results", ", ".join(sorted(folder.unreadable))))
    rows += [
        (f"{kind} items done / failed / listed", "{done} / {failed} / {listed}".format(**v))
        for kind, v in by_kind.items()
    ]
    rows += [
        ("engine", engine.get("name")),
        ("workers x threads", f"{engine.get('workers', '?')} x {engine.get('threads', '?')}"),
        ("batch seconds (wall time)", _number(summary.get("seconds"))),
        ("item seconds (summed)", item_seconds),
    ]
    s.table(Table(columns=("quantity", "value"), rows=tuple(rows), **text("collection.table_summary")))
    settings = batch.get("settings") if isinstance(batch.get("settings"), Mapping) else {}
    if settings:
        s.table(
            Table(
                columns=("setting", "value"),
                rows=tuple(
                    (k, json.dumps(jsonable(v)) if isinstance(v, Mapping | list | tuple) else v)
                    for k, v in settings.items()
                ),
                **text("collection.table_settings"),
            )
        )
    return {
        "counts": counts,
        "by_kind": by_kind,
        "left": folder.left,
        "unreadable": dict(folder.unreadable),
        "engine": dict(engine),
        "seconds": {"batch": _number(summary.get("seconds")), "items": item_seconds},
        "batch_summary": dict(summary),
    }


# ---------------------------------------------------------------------------------------- pairs


def _pair_grid(folder: BatchFolder) -> tuple[list[str], list[str], dict[tuple[str, str], str]]:
    """Contents and styles in order of first appearance, and (content, style) -> item id."""
    contents: list[str] = []
    styles: list[str] = []
    cells: dict[tuple[str, str], str] = {}
    for i in folder.listed("pair"):
        inputs = folder.items[i]["inputs"]
        c, s = inputs.get("content", "?"), inputs.get("style", "?")
        if c not in contents:
            contents.append(c)
        if s not in styles:
            styles.append(s)
        cells.setdefault((c, s), i)
    return contents, styles, cells


def _sheet_cells(
    folder: BatchFolder, contents: Sequence[str], styles: Sequence[str], cells: Mapping[tuple[str, str], str]
) -> dict[tuple[int, int], tuple[str, Any]]:
    """(row, column) -> (state, thumbnail or None) of the contact-sheet cells of these contents
    (rows) and styles (columns) that have an item, in the items' order; the state is "done",
    "failed" or "not run"."""
    rows = {content: r for r, content in enumerate(contents)}
    cols = {style: c for c, style in enumerate(styles)}
    out: dict[tuple[int, int], tuple[str, Any]] = {}
    for (content, style), item_id in cells.items():
        if content not in rows or style not in cols:
            continue
        if item_id in folder.results:
            entry = ("done", _thumbnail(folder.item_dir(item_id) / "stylised.png"))
        else:
            entry = ("failed" if item_id in folder.failures else "not run", None)
        out[rows[content], cols[style]] = entry
    return out


_VERDICTS = ("localised", "uniform", "failed")


def _map_verdict(value: Any) -> str | None:
    """``"style / content"`` verdicts of a pair's region test (None when the item has none)."""
    if not isinstance(value, Mapping):
        return None
    words = [value.get(k) if value.get(k) in _VERDICTS else "?" for k in ("style", "content")]
    return " / ".join(words)


def _pairs_part(
    report: Report, root: Path, folder: BatchFolder, report_dir: Path, step: Callable[[str], None]
) -> dict[str, Any]:
    save = _FigureSaver(root)
    contents, styles, cells = _pair_grid(folder)
    s = report.section(
        "Pairs: every content photo in every style",
        f"{len(contents)} content photo(s) x {len(styles)} style(s): {len(folder.done('pair'))} pairs done.",
    )
    for r0 in range(0, len(contents), SHEET_MAX):
        for c0 in range(0, len(styles), SHEET_MAX):
            rows, cols = contents[r0 : r0 + SHEET_MAX], styles[c0 : c0 + SHEET_MAX]
            whole = len(rows) == len(contents) and len(cols) == len(styles)
            part = "" if whole else f" (contents {r0 + 1}–{r0 + len(rows)}, styles {c0 + 1}–{c0 + len(cols)})"
            name = "contact_sheet" if whole else f"contact_sheet_{r0 + 1}_{c0 + 1}"
            labels = [_clip(short_name(c)) for c in rows], [_clip(short_name(st)) for st in cols]
            fig = contact_sheet(*labels, _sheet_cells(folder, rows, cols, cells))
            s.figure(save(fig, name, "collection.contact_sheet", part=part))
    step("contact sheet")
    metrics: dict[str, Any] = {
        "contents": contents,
        "styles": styles,
        "grid": [[cells.get((c, st)) for st in styles] for c in contents],
        "items": {},
    }
    rows = []
    for i in folder.done("pair"):
        numbers = folder.results[i]["numbers"]
        inputs = folder.items[i]["inputs"]
        values = {
            k: _number(numbers.get(k))
            for k in (
                "style_share",
                "content_ssim",
                "style_evidence_share",
                "total",
                "content_loss",
                "style_loss",
            )
        }
        seconds = _number(folder.results[i].get("seconds"))
        verdict = _map_verdict(numbers.get("map_verdict"))
        network = str(numbers.get("network", "vgg19"))  # batches before networks were chosen: VGG19
        metrics["items"][i] = {
            **dict(inputs),
            **values,
            "map_verdict": verdict,
            "seconds": seconds,
            "network": network,
        }
        rows.append(
            (
                short_name(inputs.get("content", "?")),
                short_name(inputs.get("style", "?")),
                network,
                values["style_share"],
                values["content_ssim"],
                values["style_evidence_share"],
                verdict,
                values["total"],
                seconds,
                _result_link(folder, i, report_dir),
            )
        )
    if rows:
        s.table(
            Table(
                columns=(
                    "content",
                    "style",
                    "network",
                    "style share",
                    "content SSIM",
                    "style evidence share",
                    "map verdict (style / content)",
                    "total loss",
                    "seconds",
                    "result",
                ),
                rows=tuple(rows),
                sortable=True,
                **text("collection.table_pairs"),
            )
        )
    return metrics


# ------------------------------------------------------------------------------------ paintings


# ---------------------------------------------------------------------------------- checkpoints


_CURVES = (
    ("confident_fraction", "confident share (p ≥ 0.9)"),
    ("frechet_distance", "Fréchet distance"),
    ("inception_score", "Inception Score"),
    ("label_agreement", "label agreement"),
)


def _checkpoints_part(report: Report, root: Path, folder: BatchFolder, report_dir: Path) -> dict[str, Any]:
    save = _FigureSaver(root)
    ids = folder.done("checkpoint")
    s = report.section(
        "Checkpoints: quality over training",
        f"{len(ids)} GAN checkpoint(s) scored with their data set's classifier and probed stage by stage.",
    )

    def epoch_of(i: str) -> float:
        e = _number(folder.results[i]["numbers"].get("epoch"))
        return math.inf if e is None else e

    ids = sorted(ids, key=lambda i: (epoch_of(i), i))
    stages: list[str] = []
    for i in ids:
        probes = folder.results[i]["numbers"].get("probe_accuracy")
        if isinstance(probes, Mapping):
            stages += [str(k) for k in probes if str(k) not in stages]
    series: dict[str, Any] = {"ids": ids, "epochs": [], "probe_accuracy": {st: [] for st in stages}}
    for key, _ in _CURVES:
        series[key] = []
    rows = []
    for i in ids:
        numbers = folder.results[i]["numbers"]
        probes = numbers.get("probe_accuracy") if isinstance(numbers.get("probe_accuracy"), Mapping) else {}
        epoch = numbers.get("epoch")
        series["epochs"].append(
            epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else _number(epoch)
        )
        for key, _ in _CURVES:
            series[key].append(_number(numbers.get(key)))
        for st in stages:
            series["probe_accuracy"][st].append(_number(probes.get(st)))
        rows.append(
            (
                short_name(folder.items[i]["inputs"].get("checkpoint", i)),
                str(numbers.get("dataset", "mnist")),  # batches before other data sets: digits
                series["epochs"][-1],
                *(series[key][-1] for key, _ in _CURVES),
                *(series["probe_accuracy"][st][-1] for st in stages),
                _number(folder.results[i].get("seconds")),
                _result_link(folder, i, report_dir),
            )
        )
    if not ids:
        return series
    panels = [(label, series[key]) for key, label in _CURVES if any(v is not None for v in series[key])]
    probes = {st: series["probe_accuracy"][st] for st in stages}
    if panels or probes:  # checkpoints that recorded none of the measures: no curves to draw
        fig = checkpoint_curves(series["epochs"], panels, probes)
        s.figure(save(fig, "checkpoint_curves", "collection.checkpoint_curves", n=len(ids)))
    s.table(
        Table(
            columns=(
                "checkpoint",
                "data set",
                "epoch",
                "confident share",
                "Fréchet distance",
                "Inception Score",
                "label agreement",
                *(f"probe {st}" for st in stages),
                "seconds",
                "result",
            ),
            rows=tuple(rows),
            sortable=True,
            **text("collection.table_checkpoints"),
        )
    )
    series["probe_r2"] = _measure_probes(s, folder, ids)
    return series


def _measure_probes(s: Section, folder: BatchFolder, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """A table of each checkpoint's best probe R² per measure (and its stage); id -> measure ->
    {"r2", "stage"}. Nothing for batches whose checkpoints recorded no measure probes."""
    best: dict[str, dict[str, Any]] = {}
    measures: list[str] = []
    for i in ids:
        probes = folder.results[i]["numbers"].get("probe_r2")
        probes = probes if isinstance(probes, Mapping) else {}
        best[i] = {}
        for m, by_stage in probes.items():
            scores = {st: _number(v) for st, v in by_stage.items()} if isinstance(by_stage, Mapping) else {}
            scores = {st: v for st, v in scores.items() if v is not None}
            if str(m) not in measures:
                measures.append(str(m))
            if scores:
                stage = max(scores, key=lambda st: scores[st])
                best[i][str(m)] = {"r2": scores[stage], "stage": str(stage)}
    if not measures:
        return best

    def cell(i: str, m: str) -> str | None:
        entry = best[i].get(m)
        return None if entry is None else f"{entry['r2']:.2f} ({entry['stage']})"

    rows = [
        (
            short_name(folder.items[i]["inputs"].get("checkpoint", i)),
            folder.results[i]["numbers"].get("epoch"),
            *(cell(i, m) for m in measures),
        )
        for i in ids
    ]
    s.table(
        Table(
            columns=("checkpoint", "epoch", *measures),
            rows=tuple(rows),
            sortable=True,
            **text("collection.table_checkpoint_measures"),
        )
    )
    return best


# -------------------------------------------------------------------------------------- failures


def _failed_part(report: Report, folder: BatchFolder) -> list[dict[str, Any]]:
    # (id, kind where the item list lacks it, error, seconds): failed items, then unreadable results
    found = [
        (i, data.get("kind"), _one_line(data.get("error", "unknown error")), _number(data.get("seconds")))
        for i, data in folder.failures.items()
    ] + [(i, None, why, None) for i, why in folder.unreadable.items()]
    entries = [
        {
            "id": i,
            "kind": folder.items.get(i, {}).get("kind", kind),
            "inputs": dict(folder.items.get(i, {}).get("inputs", {})),
            "error": error,
            "seconds": seconds,
        }
        for i, kind, error, seconds in found
    ]
    if entries:
        s = report.section(
            "Failed items",
            f"{len(folder.failures)} item(s) failed"
            + (f" and {len(folder.unreadable)} result(s) could not be read" if folder.unreadable else "")
            + ".",
        )
        s.table(
            Table(
                columns=("id", "kind", "inputs", "error"),
                rows=tuple(
                    (
                        e["id"],
                        e["kind"],
                        ", ".join(f"{k}={short_name(v)}" for k, v in e["inputs"].items()),
                        e["error"],
                    )
                    for e in entries
                ),
                **text("collection.table_failed"),
            )
        )
    return entries


# ---------------------------------------------------------------------------------------- build


def _seed(settings: Any) -> int | None:
    seed = settings.get("seed") if isinstance(settings, Mapping) else None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def _build(folder: BatchFolder, root: Path, report_dir: Path, runner: _Runner) -> Report:
    """Fill a :class:`Report` from ``folder``; figures go to ``root/figures``, links are written
    relative to ``report_dir`` (the report's final place, a sibling of ``root``)."""
    batch = folder.batch
    settings = batch.get("settings") if isinstance(batch.get("settings"), Mapping) else {}
    report = _new_report(
        f"xstyle collection report: {batch.get('collection', 'batch')} ({len(folder.items)} items)",
        (
            "One page over a whole batch: what ran and what failed, then every item's main numbers "
            "side by side, with the pictures that compare them (a contact sheet of the stylised pairs,"
            " an atlas of the paintings' styles and the channels they share, the quality of the GAN "
            "checkpoints over training). Each item's own figures and numbers are in its folder."
        ),
        _seed(settings),
        {
            "kind": "collection",
            "batch": str(folder.root),
            "collection": batch.get("collection"),
            "format": batch.get("format"),
            "settings": dict(settings),
            "engine": batch.get("engine"),
            "batch_versions": batch.get("versions"),
        },
    )
    report.log = runner.log
    metrics: dict[str, Any] = {}
    with runner.stage("read batch") as step:
        metrics.update(_summary_section(report, folder))
        step("summary")
    with runner.stage("contact sheet") as step:
        if folder.listed("pair"):
            metrics["pairs"] = _pairs_part(report, root, folder, report_dir, step)
        else:
            step("no pairs")
    paintings = folder.done("painting")
    names = _painting_names(folder, paintings)
    layers = _painting_layers(folder, paintings)
    section = None
    with runner.stage("item tables") as step:
        if paintings:
            section, metrics["paintings"] = _paintings_table(
                report, folder, paintings, names, layers, report_dir
            )
        step("tables")
    with runner.stage("style atlas") as step:
        if section is not None:
            metrics["atlas"] = _atlas(section, root, folder, paintings, names)
        step("atlas")
    with runner.stage("consensus carriers") as step:
        if paintings:
            metrics["consensus"] = _consensus(report, root, folder, paintings, names, layers)
        step("consensus")
    with runner.stage("checkpoint curves") as step:
        if folder.listed("checkpoint"):
            metrics["checkpoints"] = _checkpoints_part(report, root, folder, report_dir)
        step("curves")
    with runner.stage("failed items") as step:
        metrics["failed"] = _failed_part(report, folder)
        step("failed")
    report.metrics = metrics
    return report


def build_collection_report(
    batch_dir: str | os.PathLike,
    *,
    out: str | os.PathLike | None = None,
    progress: ProgressCallback | None = None,
) -> Path:
    """Write the collection report of the batch folder ``batch_dir``; returns the report folder.

    Args:
        batch_dir: a folder written by a batch run (``batch.json``, ``items/``, ``failed/``).
        out: the report folder (default ``batch_dir/report``). It is written whole or not at all
            (:func:`xstyle.atomic.atomic_dir`), and may replace only a folder xstyle wrote (the
            ``--out`` rules of :func:`xstyle.atomic.check_output_dir`).
        progress: called with a :class:`~xstyle.report._common.ProgressEvent` at each stage.
    Raises:
        ValueError: one line, when ``batch_dir`` is not a batch folder or ``out`` may not be written.
    """
    from xstyle.atomic import atomic_dir, check_output_dir, hold_output

    folder = read_batch_folder(batch_dir)
    target = Path(out) if out is not None else folder.root / "report"
    # not while a batch run writes the folder (refused in one line naming it); the same process's
    # own batch run already holds it
    with hold_output(folder.root, what="the batch folder"):
        check_output_dir(target, what="the report folder")
        runner = _Runner(_stage_plan(folder), progress)
        with atomic_dir(target) as tmp:
            report = _build(folder, tmp, target, runner)
            write_report(report, tmp, links_inside=folder.root)
    return target
