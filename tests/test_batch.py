"""Collections: items from folders and manifests, the pure tasks, the resumable runner.

The runner is driven here by a small in-process engine (same interface as LocalEngine/RayEngine,
no processes to start), so these tests stay fast; tests/test_batch_engines.py tests the real
engines and the end-to-end tests at the bottom run the CLI on worker processes.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from xstyle.batch.engines import JobOutcome
from xstyle.batch.items import (
    BatchItem,
    checkpoint_items,
    item_seed,
    painting_items,
    pair_items,
    read_manifest,
)
from xstyle.batch.runner import BatchProgress, pending_items, run_batch
from xstyle.batch.tasks import BatchSettings, make_payload, run_item, worker_setup

TINY = BatchSettings(
    size=32, steps=2, maps_size=32, n_steps=2, painting_size=48, gan_samples=20, probe_samples=40
)


class InProcessEngine:
    """The engine interface, run in this process (one worker: setup once, then every job in order)."""

    name = "inline"

    def __init__(self) -> None:
        self.setups = 0
        self.jobs_run: list[str] = []
        self.active = False

    def __enter__(self):
        self.active = True
        return self

    def __exit__(self, *exc) -> None:
        self.active = False

    def describe(self) -> dict:
        return {"name": self.name, "workers": 1, "threads": 1}

    def run(self, task, jobs, *, setup=None):
        assert self.active, "run outside with"
        state = setup() if setup is not None else None
        self.setups += 1
        for key, payload in jobs:
            self.jobs_run.append(key)
            t0 = time.perf_counter()
            try:
                value, error = task(state, payload), None
            except Exception as err:
                value, error = None, f"{type(err).__name__}: {str(err).splitlines()[0]}"
            yield JobOutcome(
                key=key,
                value=value,
                error=error,
                seconds=time.perf_counter() - t0,
                worker=f"here:{os.getpid()}",
                bytes_in=len(pickle.dumps(payload)),
                bytes_out=len(pickle.dumps(value)),
            )


def _png(path: Path, seed: int, size=(40, 30)) -> str:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return str(path)


# ------------------------------------------------------------------------------------------ items


def test_pair_items_from_a_folder_and_a_list(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    _png(photos / "b.png", 0)
    _png(photos / "a.jpg", 1)
    (photos / ".hidden.png").write_bytes(b"x")
    (photos / "notes.txt").write_text("not an image")
    items = pair_items(str(photos), ["sample:great_wave", "sample:starry_night"])
    assert [i.id for i in items] == ["a__great_wave", "a__starry_night", "b__great_wave", "b__starry_night"]
    assert items[0].inputs == {"content": str(photos / "a.jpg"), "style": "sample:great_wave"}
    assert {i.kind for i in items} == {"pair"}
    assert [i.id for i in painting_items(["sample:great_wave"])] == ["great_wave"]
    assert checkpoint_items("shipped:dcgan")[0].inputs == {"checkpoint": "shipped:dcgan"}


def test_ids_stay_unique_when_names_collide(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    a, b = _png(tmp_path / "x" / "cat.png", 0), _png(tmp_path / "y" / "cat.png", 1)
    ids = [i.id for i in painting_items([a, b])]
    assert len(set(ids)) == 2 and all(i.startswith("cat-") for i in ids)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda d: pair_items(str(d / "missing"), ["sample:chelsea"]), r"content folder .* is not a folder"),
        (lambda d: painting_items(str(d)), r"paintings folder .* holds no \.jpg/"),
        (lambda d: pair_items([], ["sample:chelsea"]), "content folder is empty"),
        (
            lambda d: BatchItem("video", "x", {}),
            r"item kind must be one of \('pair', 'painting', 'checkpoint'\)",
        ),
        (lambda d: BatchItem("painting", "../x", {"painting": "a"}), "item id must be letters"),
        (
            lambda d: BatchItem("pair", "x", {"content": "a"}),
            r"a pair item needs the inputs \['content', 'style'\]",
        ),
    ],
)
def test_bad_collections_are_one_line_errors(tmp_path, call, match):
    with pytest.raises(ValueError, match=match) as err:
        call(tmp_path)
    assert "\n" not in str(err.value)


def test_manifest_csv_and_json(tmp_path):
    _png(tmp_path / "cat.png", 0)
    (tmp_path / "m.csv").write_text(
        "kind,content,style,painting,id\n"
        "pair,cat.png,sample:great_wave,,\n"
        ",,,sample:starry_night,my-painting\n"
        "pair,gone.png,sample:great_wave,,\n"
    )
    items = read_manifest(tmp_path / "m.csv")
    assert [(i.kind, i.id) for i in items] == [
        ("pair", "cat__great_wave"),
        ("painting", "my-painting"),
        ("pair", "gone__great_wave"),
    ]
    assert items[0].inputs["content"] == str(tmp_path / "cat.png")  # relative to the manifest
    (tmp_path / "m.json").write_text(json.dumps([{"checkpoint": "shipped:dcgan"}]))
    assert read_manifest(tmp_path / "m.json")[0].kind == "checkpoint"


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("m.csv", "kind,content\nvideo,a.png\n", r"row 1: kind must be one of"),
        ("m.csv", "kind,content,style\npair,a.png,\n", r"row 1: a pair needs \['style'\]"),
        ("m.json", "{not json", "is not valid JSON"),
        ("m.json", '{"a": 1}', "must be a JSON list of objects"),
        ("m.txt", "x", "must be a .csv or .json file"),
        ("m.csv", "kind,painting\n", "lists no items"),
        (
            "m.csv",
            "painting,id\nsample:starry_night,x\nsample:great_wave,x\n",
            r"item ids must be unique \(ignoring case\); \['x'\] repeat",
        ),
    ],
)
def test_bad_manifests_are_one_line_errors(tmp_path, name, text, match):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=match) as err:
        read_manifest(tmp_path / name)
    assert "\n" not in str(err.value)


def test_item_seeds_are_stable_and_distinct():
    assert item_seed(0, "a__b") == item_seed(0, "a__b")
    assert len({item_seed(0, f"i{k}") for k in range(50)}) == 50
    assert item_seed(0, "a") != item_seed(1, "a")
    assert 0 <= item_seed(2**32 - 1, "x") < 2**31


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(size=8), "size must be a whole number of pixels, 16 to 1024"),
        (dict(size=64, maps_size=128), r"maps_size \(128\) must be at most size \(64\)"),
        (dict(steps=0), "steps"),
        (dict(beta=float("nan")), "beta must be a finite number"),
    ],
)
def test_bad_settings(kw, match):
    with pytest.raises(ValueError, match=match):
        BatchSettings(**kw)


# ------------------------------------------------------------------------------------------ tasks


@pytest.mark.slow
def test_pair_task_is_pure_and_ships_no_paths(tmp_path):
    content = _png(tmp_path / "c.png", 3, size=(48, 40))
    (item,) = pair_items([content], ["sample:great_wave"])
    payload = make_payload(item, TINY)
    assert isinstance(payload["data"]["content"], bytes) and payload["data"]["style"] is None
    state = worker_setup(kinds=("pair",))
    a, b = run_item(state, payload), run_item(state, payload)
    assert a["numbers"] == b["numbers"]  # same seed, same numbers
    n = a["numbers"]
    assert n["size_hw"] == [27, 32] and 0 <= n["style_share"] <= 1 and 0 <= n["style_evidence_share"] <= 1
    assert n["total"] == pytest.approx(
        TINY.alpha * (512 / 32) ** 2 * n["content_loss"] + TINY.beta * n["style_loss"], rel=1e-4
    )
    assert set(a["files"]) == {"stylised.png", "maps.png"}
    assert Image.open(__import__("io").BytesIO(a["files"]["stylised.png"])).size == (32, 27)


@pytest.mark.slow
def test_painting_task_fingerprint_and_carriers():
    (item,) = painting_items(["sample:starry_night"])
    out = run_item(worker_setup(kinds=("painting",)), make_payload(item, TINY))
    n = out["numbers"]
    vector = np.load(__import__("io").BytesIO(out["files"]["fingerprint.npy"]))
    assert vector.shape == (2 * (64 + 128 + 256 + 512 + 512),) and vector.dtype == np.float32
    assert n["fingerprint_layers"] == ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
    shares = [s for _, s in n["carriers"]["relu1_1"]]
    assert len(shares) == TINY.carriers and shares == sorted(shares, reverse=True)
    assert 1 <= n["spectra"]["relu3_1"]["participation_ratio"] <= 256


def test_checkpoint_task_scores_the_shipped_dcgan_and_refuses_a_damaged_file(tmp_path):
    state = worker_setup(kinds=("checkpoint",))
    (item,) = checkpoint_items(["shipped:dcgan"])
    out = run_item(state, make_payload(item, TINY))
    n = out["numbers"]
    assert n["epoch"] == 330 and n["label_agreement"] is None  # the unconditional release
    assert (
        0.5 <= n["confident_fraction"] <= 1 and n["frechet_distance"] > 0 and 1 <= n["inception_score"] <= 10
    )
    assert next(iter(n["probe_accuracy"])) == "z" and all(0 <= a <= 1 for a in n["probe_accuracy"].values())
    assert out["files"]["samples.png"][:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint at all")
    (bad,) = checkpoint_items([str(tmp_path / "bad.pt")])
    with pytest.raises(ValueError, match="checkpoint") as err:
        run_item(state, make_payload(bad, TINY))
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------------------- runner


def _collection(tmp_path):
    """Two readable photos, one file that is not an image, one missing file; x one style."""
    photos = tmp_path / "photos"
    photos.mkdir()
    a, b = _png(photos / "a.png", 0), _png(photos / "b.png", 1)
    (photos / "broken.png").write_bytes(b"this is not a png")
    items = pair_items([a, b, str(photos / "broken.png"), str(photos / "gone.png")], ["sample:great_wave"])
    return items


@pytest.mark.slow
def test_run_batch_writes_one_folder_per_item_and_records_failures(tmp_path):
    items = _collection(tmp_path)
    out = tmp_path / "out"
    seen: list[BatchProgress] = []
    engine = InProcessEngine()
    result = run_batch(items, out, settings=TINY, engine=engine, collection="pairs", progress=seen.append)
    assert [s.status for s in result.items] == ["done", "done", "failed", "failed"]
    broken, gone = result.items[2], result.items[3]
    assert broken.error.startswith("ValueError: content") and "not a readable image" in broken.error
    assert gone.error.startswith("FileNotFoundError:") and "gone.png" in gone.error
    assert engine.jobs_run == ["a__great_wave", "b__great_wave", "broken__great_wave"]  # gone: never shipped
    assert engine.setups == 1  # one run, one setup for all its jobs
    for item in items[:2]:
        folder = out / "items" / item.id
        data = json.loads((folder / "result.json").read_text())
        assert data["id"] == item.id and data["seed"] == item_seed(TINY.seed, item.id)
        assert set(data["files"]) == {"stylised.png", "maps.png"} and (folder / "stylised.png").is_file()
    failed = json.loads((out / "failed" / "gone__great_wave.json").read_text())
    assert "\n" not in failed["error"] and failed["inputs"]["content"].endswith("gone.png")
    batch = json.loads((out / "batch.json").read_text())
    assert batch["format"] == "xstyle-batch/1" and batch["collection"] == "pairs"
    assert batch["summary"]["done"] == 2 and batch["summary"]["failed"] == 2 and batch["summary"]["left"] == 0
    assert [i["id"] for i in batch["items"]] == [i.id for i in items]
    # progress: a first call with nothing done, then one per item, ending with nothing left
    assert (seen[0].done, seen[0].left, seen[0].last) == (0, 4, None)
    assert (seen[-1].done, seen[-1].failed, seen[-1].left) == (2, 2, 0)
    assert all(p.eta_seconds is not None for p in seen[1:])


@pytest.mark.slow
def test_rerun_skips_done_items_and_retries_failed_ones(tmp_path):
    items = _collection(tmp_path)
    out = tmp_path / "out"
    assert pending_items(items, out) == items  # a new folder: everything
    run_batch(items, out, settings=TINY, engine=InProcessEngine())
    stamp = (out / "items" / "a__great_wave" / "result.json").stat().st_mtime_ns
    _png(tmp_path / "photos" / "gone.png", 7)  # the missing file appears
    assert [i.id for i in pending_items(items, out)] == ["broken__great_wave", "gone__great_wave"]
    engine = InProcessEngine()
    result = run_batch(items, out, settings=TINY, engine=engine)
    assert engine.jobs_run == ["broken__great_wave", "gone__great_wave"]
    assert [s.status for s in result.items] == ["skipped", "skipped", "failed", "done"]
    assert (out / "items" / "a__great_wave" / "result.json").stat().st_mtime_ns == stamp
    assert not (out / "failed" / "gone__great_wave.json").exists()  # it succeeded since
    assert (out / "failed" / "broken__great_wave.json").exists()


@pytest.mark.slow
def test_same_settings_same_numbers_in_two_batches(tmp_path):
    items = _collection(tmp_path)[:2]
    for name in ("one", "two"):
        run_batch(items, tmp_path / name, settings=TINY, engine=InProcessEngine())
    for item in items:
        one, two = (
            json.loads((tmp_path / n / "items" / item.id / "result.json").read_text()) for n in ("one", "two")
        )
        assert one["numbers"] == two["numbers"]


@pytest.mark.slow
def test_other_settings_or_a_foreign_folder_are_refused(tmp_path):
    items = _collection(tmp_path)[:1]
    out = tmp_path / "out"
    run_batch(items, out, settings=TINY, engine=InProcessEngine())
    with pytest.raises(
        ValueError, match=r"holds a batch made with other settings \(size: 32 there, 48 now\)"
    ):
        run_batch(items, out, settings=BatchSettings(**{**TINY.to_dict(), "size": 48, "maps_size": 48}))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="is not empty and is not an xstyle batch folder"):
        run_batch(items, mine, settings=TINY, engine=InProcessEngine())
    assert (mine / "notes.txt").read_text() == "keep me" and sorted(os.listdir(mine)) == ["notes.txt"]


def test_a_task_that_raises_is_recorded_and_the_others_go_on(tmp_path, monkeypatch):
    items = _collection(tmp_path)[:2]
    import xstyle.batch.tasks as tasks

    def flaky(state, payload, settings):  # the task itself is not under test: no transfer runs
        if payload["item"]["id"].startswith("a"):
            raise RuntimeError("boom\nsecond line")
        return {"numbers": {"total": 1.0}, "files": {"note.txt": b"ok"}}

    monkeypatch.setitem(tasks._TASKS, "pair", flaky)
    result = run_batch(items, tmp_path / "out", settings=TINY, engine=InProcessEngine())
    assert [(s.status, s.error) for s in result.items] == [("failed", "RuntimeError: boom"), ("done", None)]
    assert (tmp_path / "out" / "items" / items[1].id / "note.txt").read_bytes() == b"ok"


# ------------------------------------------------------------------------- end to end (processes)

_CLI = [sys.executable, "-m", "xstyle.cli", "-q", "batch"]
_TINY_CLI = ["--size", "32", "--steps", "3", "--ig-steps", "2", "--workers", "1", "--threads", "1"]


def _links_resolve(report: Path) -> None:
    import re

    html = (report / "index.html").read_text()
    targets = re.findall(r'(?:href|src)="([^"#]+)"', html)
    assert targets
    for target in targets:
        if "://" in target or target.startswith("data:"):
            continue
        from urllib.parse import unquote

        assert (report / unquote(target)).exists(), target


def _finished_results(out: Path) -> list[Path]:
    """The result files of finished items: a glob's ``*`` also matches the hidden temporary folder
    an item is written in before it is swapped in, which a kill leaves unfinished."""
    return [p for p in out.glob("items/*/result.json") if not p.parent.name.startswith(".")]


@pytest.mark.slow
def test_cli_kill_and_resume_redoes_only_unfinished_items(tmp_path):
    """SIGKILL the whole batch (driver and workers) after its first item; the same command again
    runs only the rest, leaves the finished item untouched and never reads a half-written one.
    Three items are enough: it is killed as soon as one is done, with at least one left."""
    import signal

    out = tmp_path / "out"
    contents = "sample:chelsea,sample:astronaut,sample:coffee"
    argv = [*_CLI, "pairs", contents, "sample:great_wave", "--out", str(out), *_TINY_CLI, "--no-report"]
    proc = subprocess.Popen(argv, cwd=tmp_path, start_new_session=True, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not _finished_results(out):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = _finished_results(out)
    assert 1 <= len(first) < 3, "the batch should be killed part-way"
    stamps = {p: p.stat().st_mtime_ns for p in first}
    again = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"({3 - len(first)} done, 0 failed, {len(first)} done by an earlier run)" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in first} == stamps
    visible = sorted(p.name for p in (out / "items").iterdir() if not p.name.startswith("."))
    assert len(visible) == 3 and all((out / "items" / n / "result.json").is_file() for n in visible)


@pytest.mark.slow
def test_cli_bad_items_among_good_ones_and_a_manifest_with_a_missing_file(tmp_path):
    _png(tmp_path / "cat.png", 0)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    (tmp_path / "m.csv").write_text(
        "kind,content,style\npair,cat.png,sample:great_wave\npair,broken.png,sample:great_wave\n"
        "pair,gone.png,sample:great_wave\n"
    )
    out = tmp_path / "out"
    run = subprocess.run(
        [*_CLI, "manifest", "m.csv", "--out", "out", *_TINY_CLI], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 1, run.stderr  # the batch ran; some items failed
    assert "(1 done, 2 failed)" in run.stdout
    assert "failed: broken__great_wave: ValueError: content" in run.stdout
    assert "failed: gone__great_wave: FileNotFoundError:" in run.stdout
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    assert metrics["metrics"]["counts"]["done"] == 1 and metrics["metrics"]["counts"]["failed"] == 2
    assert "gone__great_wave" in (out / "report" / "report.md").read_text()
    _links_resolve(out / "report")


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (
            ["pairs", "missing_dir", "sample:great_wave", "--out", "o"],
            "content folder 'missing_dir' is not a folder",
        ),
        (["manifest", "nope.csv", "--out", "o"], "manifest 'nope.csv' does not exist"),
        (["pairs", "sample:chelsea", "sample:great_wave", "--out", "o", "--size", "8"], "size must be"),
        (["checkpoints", "shipped:dcgan", "--out", "o", "--classifier", ""], "classifier must be"),
        (
            ["checkpoints", "shipped:dcgan", "--out", "o", "--classifier", "missing.pt"],
            "missing.pt: classifier weights not found",
        ),
        (["checkpoints", "shipped:dcgan", "--out", "o", "--classifier", "shipped:nope"], "shipped:nope"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2_nothing_written(expect_cli_error, argv, match):
    expect_cli_error(["batch", *argv], command=f"batch {argv[0]}", match=match)


def test_cli_ray_without_ray_installed_is_one_line_nothing_written(expect_cli_error, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    argv = ["batch", "pairs", "sample:chelsea", "sample:great_wave", "--out", "o", "--ray", "local"]
    expect_cli_error(argv, command="batch pairs", match="Ray is not installed: pip install 'xstyle[ray]'")


def test_cli_refuses_an_out_folder_it_did_not_make(tmp_path, capsys):
    from xstyle.cli import main

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("mine")
    code = main(
        ["-q", "batch", "pairs", "sample:chelsea", "sample:great_wave", "--out", str(tmp_path / "mine")]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "is not empty and is not an xstyle batch folder" in err[0]
    assert sorted(os.listdir(tmp_path / "mine")) == ["keep.txt"]


@pytest.mark.slow
def test_local_and_ray_engines_give_the_same_numbers(tmp_path):
    pytest.importorskip("ray")
    from xstyle.batch.engines import LocalEngine, RayEngine

    items = pair_items(["sample:chelsea", "sample:coffee"], ["sample:great_wave"]) + painting_items(
        ["sample:starry_night"]
    )
    runs = {}
    for name, engine in (
        ("local", LocalEngine(workers=2, threads=1)),
        ("ray", RayEngine(address="local", workers=2, threads=1)),
    ):
        result = run_batch(items, tmp_path / name, settings=TINY, engine=engine)
        assert result.count("done") == 3, [s.error for s in result.items]
        assert {s.worker.split(":")[1] for s in result.items} - {str(os.getpid())}  # not run in this process
        runs[name] = {
            i.id: json.loads((tmp_path / name / "items" / i.id / "result.json").read_text())["numbers"]
            for i in items
        }
    assert runs["local"] == runs["ray"]
    fingerprints = [
        np.load(tmp_path / name / "items" / "starry_night" / "fingerprint.npy") for name in ("local", "ray")
    ]
    assert np.array_equal(*fingerprints)
