"""Nothing lost, round two: forged output lists, hostile manifests, two runs on one folder, a full disk.

Each test drives the CLI in-process (``xstyle.cli.main``) or the library, and checks what a user
sees and keeps: the exit code, one stderr line and no traceback, and every file of theirs (and every
earlier output) byte for byte (SHA-256 before and after). No worker process or Ray cluster is started:
batch runs here use an in-process engine and trivial tasks.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from xstyle import atomic
from xstyle.atomic import OUTPUT_MARKER, DiskFullError, atomic_dir, check_output_dir, hold_output
from xstyle.batch.items import read_manifest
from xstyle.batch.runner import pending_items, run_batch
from xstyle.batch.tasks import BatchSettings
from xstyle.cli import main

S = "sample:starry_night"
GRAM_CHEAP = ["--size", "32", "--lowrank-steps", "0", "--fingerprint-size", "32"]


def snapshot(root: Path) -> dict[str, str]:
    """{relative path: SHA-256 | 'folder' | 'link'} of everything below ``root``."""
    tree = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            tree[rel] = "link"
        elif p.is_dir():
            tree[rel] = "folder"
        else:
            tree[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return tree


def run_cli(argv: list[str], capsys, *, code: int = 2) -> str:
    """Run ``xstyle -q ARGV`` in-process; check the exit code, one stderr line, no traceback; returns it."""
    capsys.readouterr()
    got = main(["-q", *argv])
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert got == code, err
    assert len(lines) == 1 and lines[0].startswith("xstyle "), err
    assert "Traceback" not in out + err
    return lines[0]


class InProcessEngine:
    """The engine interface, run in this process: setup once, then every job in order."""

    name = "inline"

    def __init__(self) -> None:
        self.active = False

    def __enter__(self):
        self.active = True
        return self

    def __exit__(self, *exc) -> None:
        self.active = False

    def describe(self) -> dict:
        return {"name": self.name, "workers": 1, "threads": 1}

    def run(self, task, jobs, *, setup=None):
        from xstyle.batch.engines import JobOutcome

        for key, payload in jobs:
            try:
                yield JobOutcome(key=key, value=task(None, payload), worker="here:0")
            except Exception as err:
                yield JobOutcome(key=key, error=f"{type(err).__name__}: {err}")


@pytest.fixture
def quick_paintings(monkeypatch):
    """Painting items computed instantly: each gives a few numbers and a file of ``size`` bytes."""
    import xstyle.batch.tasks as tasks

    size = {"bytes": 2000}

    def fake(state, payload, settings):
        seed = payload["seed"]
        return {"numbers": {"seed": seed}, "files": {"painting.bin": bytes([seed % 251]) * size["bytes"]}}

    monkeypatch.setitem(tasks._TASKS, "painting", fake)
    return size


def paintings(n: int) -> list:
    from xstyle.batch.items import BatchItem

    return [BatchItem("painting", f"p{k:03d}", {"painting": S}) for k in range(n)]


# ------------------------------------------------------------------------- 1. a forged output list


def _forge(out: Path, rel: str) -> None:
    """A user adds ``rel`` to an xstyle folder and lists it with its correct hash and size."""
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    (out / rel).write_text("my own file: never delete it\n")
    marker = json.loads((out / OUTPUT_MARKER).read_text())
    data = (out / rel).read_bytes()
    marker["files"][rel] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    (out / OUTPUT_MARKER).write_text(json.dumps(marker))


@pytest.mark.parametrize("rel", ["notes.md", "figures/mine.png"])
def test_a_forged_output_list_never_deletes_a_user_file(tmp_path, monkeypatch, capsys, rel):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:  # what `explain gram --out out` wrote before
        (tmp / "gram.json").write_text("{}")
        (tmp / "figures").mkdir()
        (tmp / "figures" / "spectrum.png").write_bytes(b"png")
    _forge(out, rel)
    before = snapshot(tmp_path)
    line = run_cli(["explain", "gram", "--style", S, *GRAM_CHEAP, "--out", "out"], capsys)
    assert f"'{rel}'" in line and "did not write" in line
    assert snapshot(tmp_path) == before


def test_an_older_hash_only_list_is_not_trusted(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "gram.json").write_text("{}")
    digest = hashlib.sha256(b"{}").hexdigest()
    (out / OUTPUT_MARKER).write_text(
        json.dumps({"format": "xstyle-output/2", "files": {"gram.json": {"sha256": digest}}})
    )
    before = snapshot(tmp_path)
    line = run_cli(["explain", "gram", "--style", S, *GRAM_CHEAP, "--out", "out"], capsys)
    assert "older xstyle" in line and "move the folder away" in line
    assert snapshot(tmp_path) == before


# -------------------------------------------------------------------- 2, 3, 4. hostile manifests


def _manifest_error(tmp_path, monkeypatch, capsys, name: str, data: bytes) -> str:
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_bytes(data)
    before = snapshot(tmp_path)
    line = run_cli(["batch", "manifest", name, "--out", "out"], capsys)
    assert snapshot(tmp_path) == before  # no batch.json, no failed/
    return line


def test_a_deeply_nested_json_manifest_is_one_line(tmp_path, monkeypatch, capsys):
    line = _manifest_error(tmp_path, monkeypatch, capsys, "m.json", b"[" * 200_000 + b"]" * 200_000)
    assert "manifest 'm.json' is nested too deeply to read" in line


def test_a_non_utf8_csv_manifest_names_the_file(tmp_path, monkeypatch, capsys):
    data = "kind,painting\npainting,caf\xe9.png\n".encode("latin-1")
    line = _manifest_error(tmp_path, monkeypatch, capsys, "m.csv", data)
    assert "manifest 'm.csv' is not UTF-8 text (byte 0xe9 at offset 26)" in line


def test_a_csv_field_over_the_csv_limit_is_one_line(tmp_path, monkeypatch, capsys):
    data = b"kind,painting\npainting," + b"a" * 200_000 + b"\n"
    line = _manifest_error(tmp_path, monkeypatch, capsys, "m.csv", data)
    assert "manifest 'm.csv' is not a readable CSV file (row 1: field larger" in line


def test_a_manifest_with_a_byte_order_mark_reads_its_first_column(tmp_path):
    (tmp_path / "m.csv").write_bytes(b"\xef\xbb\xbfkind,painting,id\npainting,a.png,x\n")
    (item,) = read_manifest(tmp_path / "m.csv")
    assert (item.kind, item.id) == ("painting", "x")


def test_a_300_character_id_is_refused_before_anything_is_written(tmp_path, monkeypatch, capsys):
    data = f"kind,painting,id\npainting,{S},{'x' * 300}\n".encode()
    line = _manifest_error(tmp_path, monkeypatch, capsys, "m.csv", data)
    assert "row 1: id is 300 characters; at most 200" in line


def test_a_300_character_file_name_gets_a_short_id_and_fails_only_itself(tmp_path, quick_paintings):
    long_name = "p" * 296 + ".png"  # longer than any file system allows: it cannot exist
    (tmp_path / "m.csv").write_text(f"kind,painting\npainting,{long_name}\npainting,{S}\n")
    items = read_manifest(tmp_path / "m.csv")
    assert len(items[0].id) <= 100 and items[0].id.startswith("ppp")
    result = run_batch(items, tmp_path / "out", engine=InProcessEngine())
    assert [s.status for s in result.items] == ["failed", "done"]
    assert "File name too long" in result.items[0].error or "does not exist" in result.items[0].error
    assert (tmp_path / "out" / "failed" / f"{items[0].id}.json").is_file()


def test_long_file_names_in_a_folder_give_ids_that_fit(tmp_path):
    from xstyle.batch.items import pair_items

    photos = tmp_path / "photos"
    photos.mkdir()
    for k in range(2):
        (photos / (f"{k}" + "a" * 240 + ".png")).write_bytes(b"x")
    ids = [i.id for i in pair_items(str(photos), ["sample:great_wave"])]
    assert len(set(ids)) == 2 and all(len(i) <= 100 for i in ids)


def test_ids_that_differ_only_in_case_are_refused(tmp_path):
    (tmp_path / "m.csv").write_text(f"painting,id\n{S},Cat\n{S},cat\n")
    with pytest.raises(ValueError, match=r"unique \(ignoring case\); \['Cat', 'cat'\] repeat"):
        read_manifest(tmp_path / "m.csv")


def test_ids_too_long_for_this_file_system_are_refused_before_writing(tmp_path, monkeypatch, quick_paintings):
    """A file system with short names (eCryptfs: 143 bytes): refused up front, not after batch.json."""
    real = os.pathconf
    monkeypatch.setattr(os, "pathconf", lambda p, name: 143 if name == "PC_NAME_MAX" else real(p, name))
    from xstyle.batch.items import BatchItem

    items = [BatchItem("painting", "a" * 120, {"painting": S})]
    with pytest.raises(ValueError, match="143-byte limit; give ids of at most 106 characters"):
        run_batch(items, tmp_path / "out", engine=InProcessEngine())
    assert list(tmp_path.iterdir()) == []


def test_a_huge_image_item_is_refused_in_xstyles_words_and_a_bad_checkpoint_names_the_users_file(tmp_path):
    import struct
    import zlib

    from xstyle.batch.items import checkpoint_items, painting_items
    from xstyle.batch.tasks import make_payload, run_item

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)  # 30000 x 30000, 8-bit grey
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    (item,) = painting_items([str(bomb)])
    with pytest.raises(ValueError) as info:
        run_item(None, make_payload(item, BatchSettings()))
    message = str(info.value)
    assert "is too large (900,000,000 px); the limit is 50,000,000 px" in message and str(bomb) in message
    assert "DecompressionBomb" not in message and "\n" not in message

    (tmp_path / "notes.pt").write_text("not a checkpoint")
    (item,) = checkpoint_items([str(tmp_path / "notes.pt")])
    with pytest.raises(ValueError) as info:
        run_item(None, make_payload(item, BatchSettings()))
    message = str(info.value)
    assert repr(str(tmp_path / "notes.pt")) in message  # the user's file, not the worker's copy
    assert "tmp" not in message.replace(str(tmp_path), ""), message


# ------------------------------------------------------------------------- 5. options not checked


@pytest.fixture
def complete_batch(tmp_path, monkeypatch, quick_paintings):
    """A batch folder whose only item is done (the options below must be checked all the same)."""
    monkeypatch.chdir(tmp_path)
    run_batch(_starry(), tmp_path / "out", engine=InProcessEngine(), collection="paintings")
    assert pending_items(_starry(), tmp_path / "out") == []
    return tmp_path / "out"


def _starry():
    from xstyle.batch.items import painting_items

    return painting_items([S])


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (["--ray", "nonsense"], "--ray: address must be 'local', 'auto', 'HOST:PORT' or 'ray://HOST:PORT'"),
        (["--ray", "ray://head:99999"], "a port from 1 to 65535"),
        (["--ray", "127.0.0.1:1"], "--ray '127.0.0.1:1': no Ray cluster answers at 127.0.0.1:1"),
        (["--workers", "10000"], "--workers 10000 asks for more worker processes"),
        (["--threads", "1000"], "--threads 1000 asks for more threads in one worker than"),
    ],
)
def test_engine_options_are_checked_even_when_the_batch_is_complete(complete_batch, capsys, options, match):
    before = snapshot(complete_batch.parent)
    t0 = time.perf_counter()
    line = run_cli(["batch", "paintings", S, "--out", "out", "--no-report", *options], capsys)
    assert time.perf_counter() - t0 < 3.0  # a closed port answers at once; the limit is 2 s
    assert match in line
    assert snapshot(complete_batch.parent) == before


def test_workers_beyond_the_memory_are_refused(tmp_path, monkeypatch, capsys):
    import xstyle._limits as limits

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(limits, "available_memory", lambda: 3 << 30)
    line = run_cli(["batch", "paintings", S, "--out", "out", "--workers", "8"], capsys)
    assert "--workers 8 would need about" in line and "use --workers 2 or less" in line
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_ray_address_fails_within_the_timeout():
    from xstyle.batch.ray_engine import check_ray_address

    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="no Ray cluster answers"):
        check_ray_address("127.0.0.1:1", timeout=2.0)
    assert time.perf_counter() - t0 < 2.5
    assert check_ray_address(" local ") == "local"


# --------------------------------------------------------------------- 6. two runs on one folder

_HOLDER = """
import sys, time
from xstyle.atomic import hold_output
with hold_output(sys.argv[1], what="--out"):
    print("holding", flush=True)
    time.sleep(60)
"""


@contextmanager
def held_by_another_process(path: Path):
    """A second process holding ``path``'s lock (as a running `xstyle batch` or `report` does)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_HOLDER), str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "holding"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_a_second_batch_or_report_on_a_folder_being_written_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with held_by_another_process(tmp_path / "out") as proc:
        line = run_cli(["batch", "paintings", S, "--out", "out", "--no-report"], capsys)
        assert f"'out' is being written by another xstyle run (PID {proc.pid}" in line
        line = run_cli(["explain", "gram", "--style", S, *GRAM_CHEAP, "--out", "out"], capsys)
        assert f"(PID {proc.pid}" in line
        assert list(tmp_path.iterdir()) == []
        with pytest.raises(ValueError, match="being written by another xstyle run"):
            check_output_dir(tmp_path / "out")


def test_a_second_collection_report_is_refused(tmp_path, monkeypatch, capsys, quick_paintings):
    monkeypatch.chdir(tmp_path)
    run_batch(_starry(), tmp_path / "out", engine=InProcessEngine(), collection="paintings")
    before = snapshot(tmp_path)
    with held_by_another_process(tmp_path / "out" / "report") as proc:
        line = run_cli(["batch", "report", "out"], capsys)
    assert f"'out/report' is being written by another xstyle run (PID {proc.pid}" in line
    assert snapshot(tmp_path) == before


def test_a_lock_is_stale_once_its_process_has_ended_and_released_after_a_run(tmp_path):
    with held_by_another_process(tmp_path / "out"):
        pass  # killed: its lock file stays, naming a process that is gone
    check_output_dir(tmp_path / "out")  # taken over
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("1")
    done = subprocess.run(  # released at the end of the write: another process may take it at once
        [
            sys.executable,
            "-c",
            f"from xstyle.atomic import check_output_dir; check_output_dir({str(tmp_path / 'out')!r})",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_locks_of_killed_runs_are_swept_away(tmp_path, monkeypatch):
    locks = tmp_path / "locks"
    monkeypatch.setattr(atomic, "_LOCK_DIR_OVERRIDE", locks)
    monkeypatch.setattr(atomic, "_SWEPT", [])
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = {"pid": int(gone.stdout), "start": None, "path": str(tmp_path / "a")}
    alive = {"pid": 1, "start": atomic._process_start(1), "path": str(tmp_path / "b")}
    locks.mkdir()
    (locks / "dead.lock").write_text(json.dumps(dead))
    (locks / "alive.lock").write_text(json.dumps(alive))
    with hold_output(tmp_path / "c"):
        assert sorted(p.name for p in locks.iterdir()) == sorted(
            ["alive.lock", f"{atomic._lock_key(tmp_path / 'c')}.lock"]
        )
    assert sorted(p.name for p in locks.iterdir()) == ["alive.lock"]


def test_a_refused_check_leaves_no_lock_behind(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.md").write_text("mine")
    with pytest.raises(ValueError, match="not written by xstyle"):
        check_output_dir(tmp_path / "mine")
    assert atomic._lock_key(tmp_path / "mine") not in atomic._LOCKS_HELD
    with hold_output(tmp_path / "mine"):
        assert atomic._lock_key(tmp_path / "mine") in atomic._LOCKS_HELD
    assert atomic._lock_key(tmp_path / "mine") not in atomic._LOCKS_HELD


# -------------------------------------------------------------------------- 7. scale of the checks


def test_a_50000_row_manifest_is_checked_in_seconds(tmp_path, monkeypatch, capsys):
    """Linear checks: 10x the rows take about 10x the time (a quadratic check: 100x), in seconds."""

    def manifest(n: int, extra: str = "") -> Path:
        path = tmp_path / f"m{n}{'-dup' if extra else ''}.csv"
        path.write_text("kind,painting,id\n" + "".join(f"painting,{S},row{k}\n" for k in range(n)) + extra)
        return path

    small, big = manifest(5_000), manifest(50_000)
    t0 = time.perf_counter()
    read_manifest(small)
    t_small = time.perf_counter() - t0
    t0 = time.perf_counter()
    items = read_manifest(big)
    todo = pending_items(items, tmp_path / "new")
    t_big = time.perf_counter() - t0
    assert len(items) == len(todo) == 50_000 and len({i.id for i in items}) == 50_000
    monkeypatch.chdir(tmp_path)
    dup = manifest(50_000, f"painting,{S},ROW7\n")
    t0 = time.perf_counter()
    line = run_cli(["batch", "manifest", dup.name, "--out", "out"], capsys)
    refused = time.perf_counter() - t0
    assert "['ROW7', 'row7'] repeat" in line and not (tmp_path / "out").exists()
    # seconds even on a busy machine (about 1.5 s each on an idle one); a 10x ratio, not 100x
    assert t_big < 15 and refused < 15 and t_big / max(t_small, 1e-3) < 30, (t_small, t_big, refused)


# -------------------------------------------------------------------------------- 8. a full disk


def _no_temporaries(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*") if ".xs-" in p.name]


def test_a_report_that_fills_the_disk_keeps_the_previous_one(tmp_path, monkeypatch, capsys, quick_paintings):
    import xstyle.report.writer as writer

    monkeypatch.chdir(tmp_path)
    run_batch(_starry(), tmp_path / "out", engine=InProcessEngine(), collection="paintings")
    assert main(["-q", "batch", "report", "out"]) == 0
    before = snapshot(tmp_path)
    real = writer.atomic_path
    calls: list[Path] = []

    @contextmanager
    def filling(path):
        with real(path) as tmp:
            calls.append(path)
            if len(calls) == 2:  # the second page: half written, then the disk is full
                tmp.write_bytes(b"<html>half a page")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            yield tmp

    monkeypatch.setattr(writer, "atomic_path", filling)
    line = run_cli(["batch", "report", "out"], capsys, code=1)
    assert line.startswith("xstyle batch report: error: no space left on '/")
    assert "while writing 'out/report'; free " in line and line.endswith(" MB, then run it again")
    assert snapshot(tmp_path) == before and _no_temporaries(tmp_path) == []


def test_a_batch_that_fills_the_disk_stops_in_one_line_and_keeps_what_it_wrote(
    tmp_path, monkeypatch, capsys, quick_paintings
):
    import xstyle.batch.runner as runner
    import xstyle.cli.batch as cli_batch

    monkeypatch.chdir(tmp_path)
    items = paintings(4)
    manifest = "kind,painting,id\n" + "".join(f"painting,{S},{i.id}\n" for i in items)
    (tmp_path / "m.csv").write_text(manifest)
    monkeypatch.setattr(cli_batch, "_engine", lambda *a, **k: InProcessEngine())
    assert main(["-q", "batch", "manifest", "m.csv", "--out", "out", "--no-report"]) == 0
    shutil.rmtree(tmp_path / "out" / "items" / "p002")  # as if deleted: a rerun writes it again
    shutil.rmtree(tmp_path / "out" / "items" / "p003")
    before = snapshot(tmp_path)
    real = runner._write_file

    def filling(path, data):
        if "p003" in str(path):
            path.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, data)

    monkeypatch.setattr(runner, "_write_file", filling)
    line = run_cli(["batch", "manifest", "m.csv", "--out", "out", "--no-report"], capsys, code=1)
    assert "error: no space left on '/" in line and "while writing 'out'; free " in line
    after = snapshot(tmp_path)
    assert _no_temporaries(tmp_path) == []
    kept = {k: v for k, v in before.items() if k != "out/batch.json"}
    assert {k: after.get(k) for k in kept} == kept  # every earlier file as it was
    new = sorted(set(after) - set(before))  # p002 finished before the disk filled: complete; no p003
    assert new == [
        "out/items/p002",
        *(f"out/items/p002/{n}" for n in (OUTPUT_MARKER, "painting.bin", "result.json")),
    ]
    assert json.loads((tmp_path / "out" / "batch.json").read_text())["summary"]["left"] == 1


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 1 MB file system (tmpfs), where this runs as root and may mount one; skipped elsewhere."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    where = tmp_path / "small"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()[:80]}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_a_real_full_file_system_keeps_the_previous_output(small_tmpfs, quick_paintings):
    out = small_tmpfs / "report"
    with atomic_dir(out) as tmp:
        (tmp / "a.bin").write_bytes(b"1" * 400_000)
    before = snapshot(small_tmpfs)
    with pytest.raises(DiskFullError) as info:
        with atomic_dir(out) as tmp:
            (tmp / "a.bin").write_bytes(b"2" * 400_000)
            (tmp / "b.bin").write_bytes(b"2" * 400_000)  # 1.2 MB with the previous folder: no room
    message = str(info.value)
    assert message.startswith(f"no space left on {str(small_tmpfs)!r} while writing {str(out)!r}; free ")
    assert snapshot(small_tmpfs) == before and _no_temporaries(small_tmpfs) == []

    shutil.rmtree(out)
    quick_paintings["bytes"] = 300_000
    with pytest.raises(DiskFullError, match="no space left on"):
        run_batch(paintings(5), small_tmpfs / "batch", engine=InProcessEngine())
    done = sorted(p.name for p in (small_tmpfs / "batch" / "items").iterdir())
    assert done and all((small_tmpfs / "batch" / "items" / n / "result.json").is_file() for n in done)
    assert _no_temporaries(small_tmpfs) == []


def test_a_lock_whose_pid_now_belongs_to_another_users_process_is_stale(tmp_path, monkeypatch):
    """A killed run's PID reused by a process of another user (``kill(pid, 0)``: EPERM): its start time
    tells the two apart, as for a process of the same user."""
    locks = tmp_path / "locks"
    monkeypatch.setattr(atomic, "_LOCK_DIR_OVERRIDE", locks)
    monkeypatch.setattr(atomic, "_SWEPT", [locks])  # no sweep: the lock is met when taking it

    def not_yours(pid, sig):
        if pid != os.getpid():
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(atomic.os, "kill", not_yours)
    start = atomic._process_start(1)
    assert start is not None  # PID 1 runs: another user's process, as far as kill() tells
    locks.mkdir()
    lock = locks / f"{atomic._lock_key(tmp_path / 'out')}.lock"
    reused = {"pid": 1, "start": str(int(start) + 1), "since": "then", "command": "xstyle killed"}
    lock.write_text(json.dumps(reused))
    check_output_dir(tmp_path / "out")  # taken over, not "being written by another xstyle run"
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    atomic.release_output(tmp_path / "out")
    running = {**reused, "start": start}  # PID 1 as it was when it wrote the lock: still running
    lock.write_text(json.dumps(running))
    with pytest.raises(ValueError, match=r"being written by another xstyle run \(PID 1,"):
        check_output_dir(tmp_path / "out")


def test_a_full_lock_folder_neither_stops_the_run_nor_leaves_a_file(tmp_path, monkeypatch):
    """/tmp full while --out is elsewhere: the lock cannot be written, so none is kept (as where the
    file system has no hard links) and the run goes on; its half-written lock file is removed."""
    locks = tmp_path / "locks"
    monkeypatch.setattr(atomic, "_LOCK_DIR_OVERRIDE", locks)
    monkeypatch.setattr(atomic, "_SWEPT", [locks])
    real = Path.write_text

    def full(self, text, *args, **kwargs):
        if self.parent == locks:
            with open(self, "w") as fh:
                fh.write(text[:5])  # half of it, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_bytes(b"1")
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"1"
    assert list(locks.iterdir()) == []


def test_items_given_to_run_batch_with_ids_differing_only_in_case_are_refused(tmp_path, quick_paintings):
    """They would share one folder on a case-insensitive file system (macOS, Windows): refused before
    anything is written, as a manifest's are."""
    from xstyle.batch.items import BatchItem

    items = [BatchItem("painting", name, {"painting": S}) for name in ("Cat", "dog", "cat")]
    with pytest.raises(ValueError, match=r"unique \(ignoring case\).*\['Cat', 'cat'\]"):
        run_batch(items, tmp_path / "out", engine=InProcessEngine())
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_ipv6_ray_address_is_named_as_given(monkeypatch):
    import xstyle.batch.ray_engine as ray_engine

    monkeypatch.setattr(ray_engine, "_connect", lambda host, port, timeout: "connection refused")
    with pytest.raises(ValueError, match=r"no Ray cluster answers at \[::1\]:6379 \(connection refused\)"):
        ray_engine.check_ray_address("[::1]:6379", what="--ray")
    with pytest.raises(ValueError, match=r"answers at head\.example:6379 \("):
        ray_engine.check_ray_address("ray://head.example:6379", what="--ray")


def test_a_manifest_over_the_size_limit_is_refused_with_the_documented_limit(tmp_path):
    """docs/safety.md: 'a .csv or .json file of at most 256 MB'; the line says the same number."""
    big = tmp_path / "m.csv"
    with open(big, "wb") as fh:
        fh.truncate(300_000_000)  # sparse: nothing is written or read
    with pytest.raises(ValueError, match=r"is 300 MB; a manifest lists items, at most 256 MB"):
        read_manifest(big)
    assert "at most 256 MB" in (Path(__file__).parents[1] / "docs" / "safety.md").read_text()


def test_a_batch_keeps_its_folder_locked_until_its_report_is_written(complete_batch, monkeypatch, capsys):
    """A second run on the folder must not start writing items while the first reads them for its
    collection report: the lock is held from the run's start to the report's end."""
    import xstyle.report.collection as collection

    held = []

    def report(folder, **kwargs):
        held.append(atomic._lock_key(Path(folder)) in atomic._LOCKS_HELD)
        return Path(folder) / "report"

    monkeypatch.setattr(collection, "build_collection_report", report)
    assert main(["-q", "batch", "paintings", S, "--out", "out", "--workers", "1", "--threads", "1"]) == 0
    assert held == [True]
    assert atomic._lock_key(complete_batch) not in atomic._LOCKS_HELD  # released when the command ends


def test_a_failed_in_process_command_keeps_no_lock(tmp_path, monkeypatch, capsys):
    """--out is locked while the arguments are parsed; a command that then fails (here: a missing
    style image) must not keep that lock in a long-lived process such as a notebook."""
    monkeypatch.chdir(tmp_path)
    held_before = set(atomic._LOCKS_HELD)
    code = main(["-q", "explain", "gram", "--style", "missing.png", "--out", "NB"])
    assert code == 2 and "missing.png" in capsys.readouterr().err
    assert set(atomic._LOCKS_HELD) == held_before
    with hold_output(tmp_path / "NB"):  # the folder is free for the next run at once
        pass


def test_a_collection_report_waits_for_no_batch_still_writing_its_folder(
    tmp_path, monkeypatch, capsys, quick_paintings
):
    """`xstyle batch report OUT` while a batch run writes OUT would report a half-written collection."""
    monkeypatch.chdir(tmp_path)
    run_batch(_starry(), tmp_path / "out", engine=InProcessEngine(), collection="paintings")
    before = snapshot(tmp_path)
    with held_by_another_process(tmp_path / "out") as proc:
        line = run_cli(["batch", "report", "out"], capsys)
    assert f"'out' is being written by another xstyle run (PID {proc.pid}" in line
    assert snapshot(tmp_path) == before
