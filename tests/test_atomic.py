"""Output folders and files: never lose a user's file, never leave half a result or a leftover."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from xstyle import atomic
from xstyle.atomic import (
    OUTPUT_MARKER,
    atomic_dir,
    atomic_path,
    check_new_files,
    check_output_dir,
    clean_stale,
    write_json,
)


def tree(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file below ``folder`` (hidden ones included)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_result(path: Path, **files: str) -> None:
    with atomic_dir(path) as tmp:
        for name, text in files.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(text)


def test_the_marker_lists_every_file_with_its_hash_and_identity(tmp_path):
    write_result(tmp_path / "out", **{"a.json": "{}", "figures/b.png": "png"})
    manifest = json.loads((tmp_path / "out" / OUTPUT_MARKER).read_text())
    assert manifest["format"] == "xstyle-output/3"
    files = manifest["files"]
    assert sorted(files) == ["a.json", "figures/b.png"]
    assert files["a.json"]["sha256"] == hashlib.sha256(b"{}").hexdigest()
    assert files["figures/b.png"]["sha256"] == hashlib.sha256(b"png").hexdigest()
    st = (tmp_path / "out" / "a.json").stat()
    assert (files["a.json"]["size"], files["a.json"]["dev"], files["a.json"]["ino"]) == (
        2,
        st.st_dev,
        st.st_ino,
    )
    assert files["a.json"]["ctime_ns"] == st.st_ctime_ns


def _list_in_marker(out: Path, rel: str, *, mtime: bool = True) -> None:
    """What a user would do: add ``rel`` to the folder's list with its correct hash and size."""
    marker = out / OUTPUT_MARKER
    manifest = json.loads(marker.read_text())
    data = (out / rel).read_bytes()
    entry = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    if mtime:
        entry["mtime_ns"] = (out / rel).stat().st_mtime_ns
    manifest["files"][rel] = entry
    marker.write_text(json.dumps(manifest))


@pytest.mark.parametrize("rel", ["notes.md", "figures/mine.png"])
def test_a_user_file_listed_with_its_correct_hash_is_never_deleted(tmp_path, rel):
    """Editing the text list is not enough to make a file xstyle's: it is not the file xstyle wrote."""
    out = tmp_path / "out"
    write_result(out, **{"gram.json": "{}", "figures/a.png": "png"})
    (out / rel).write_text("mine, keep me")
    _list_in_marker(out, rel)
    before = tree(out)
    with pytest.raises(ValueError, match=f"holds files xstyle did not write.*'{rel}'") as info:
        write_result(out, **{"gram.json": "[]"})
    assert "\n" not in str(info.value)
    assert tree(out) == before and (out / rel).read_text() == "mine, keep me"


def test_a_result_replaced_by_a_same_size_file_with_the_old_times_is_refused(tmp_path):
    """Same name, size, content hash listed and modification time: still another file (inode, ctime)."""
    out = tmp_path / "out"
    write_result(out, **{"a.json": "1"})
    st = (out / "a.json").stat()
    (out / "a.json").unlink()
    (out / "a.json").write_text("1")  # the same bytes, a new file
    os.utime(out / "a.json", ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(ValueError, match=r"'a\.json'"):
        check_output_dir(out)
    assert (out / "a.json").read_text() == "1"


def test_a_copied_folder_is_refused_as_it_cannot_be_told_from_a_forged_one(tmp_path):
    import shutil

    write_result(tmp_path / "out", **{"a.json": "1", "b.png": "2"})
    shutil.copytree(tmp_path / "out", tmp_path / "copy")
    with pytest.raises(ValueError, match=r"or copied since\): 'a\.json', 'b\.png'"):
        check_output_dir(tmp_path / "copy")
    check_output_dir(tmp_path / "out")  # the original is still recognised


def test_a_folder_listed_by_an_older_xstyle_is_not_trusted(tmp_path):
    """Lists of earlier versions hold hashes only, which anyone can write: nothing in them is deleted."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.json").write_text("1")
    (out / "notes.md").write_text("mine")
    files = {
        n: {"sha256": hashlib.sha256((out / n).read_bytes()).hexdigest(), "size": 1} for n in ("a.json",)
    }
    (out / OUTPUT_MARKER).write_text(json.dumps({"format": "xstyle-output/2", "files": files}))
    before = tree(out)
    with pytest.raises(ValueError, match=r"written by an older xstyle.*move the folder away") as info:
        write_result(out, **{"a.json": "2"})
    assert "\n" not in str(info.value)
    assert tree(out) == before


def test_a_user_folder_that_looks_like_results_is_never_replaced(tmp_path):
    """The old rule took a folder of .json/.png/.md files holding metrics.json for xstyle's."""
    user = tmp_path / "out"
    user.mkdir()
    for name, text in {"metrics.json": "{}", "a.png": "1", "b.jpg": "2", "notes.md": "mine"}.items():
        (user / name).write_text(text)
    before = tree(user)
    with pytest.raises(ValueError, match="was not written by xstyle"):
        with atomic_dir(user) as tmp:
            (tmp / "gram.json").write_text("{}")
    assert tree(user) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize(
    "change",
    ["add a file", "add a file in a subfolder", "edit a result", "add a link", "a result became a folder"],
)
def test_a_user_change_in_an_xstyle_folder_refuses_the_run_and_is_kept(tmp_path, change):
    out = tmp_path / "out"
    write_result(out, **{"gram.json": "{}", "figures/a.png": "png"})
    if change == "add a file":
        (out / "notes.md").write_text("mine")
    elif change == "add a file in a subfolder":
        (out / "figures" / "mine.png").write_text("mine")
    elif change == "edit a result":
        (out / "gram.json").write_text('{"edited": true}')
    elif change == "add a link":
        (out / "link").symlink_to(tmp_path)
    else:
        (out / "gram.json").unlink()
        (out / "gram.json").mkdir()
        (out / "gram.json" / "mine.txt").write_text("mine")
    before = tree(out)
    with pytest.raises(ValueError, match="holds files xstyle did not write") as info:
        with atomic_dir(out) as tmp:
            (tmp / "gram.json").write_text("[]")
    assert "\n" not in str(info.value)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_xstyle_folder_is_replaced_whole_even_when_files_were_deleted(tmp_path):
    out = tmp_path / "out"
    write_result(out, **{"a.json": "1", "b.png": "2", "figures/c.png": "3"})
    (out / "b.png").unlink()
    write_result(out, **{"new.json": "4"})
    assert sorted(tree(out)) == [OUTPUT_MARKER, "new.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_from_an_older_xstyle_without_a_file_list_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / OUTPUT_MARKER).touch()  # older versions left an empty marker: what they wrote is unknown
    (out / "notes.md").write_text("mine")
    with pytest.raises(ValueError, match="no list of xstyle's files"):
        check_output_dir(out)
    assert (out / "notes.md").read_text() == "mine"


def test_a_user_file_added_during_the_run_stops_the_swap(tmp_path):
    out = tmp_path / "out"
    write_result(out, **{"a.json": "1"})
    with pytest.raises(ValueError, match=r"notes\.md"):
        with atomic_dir(out) as tmp:
            (out / "notes.md").write_text("added while the run was working")
            (tmp / "a.json").write_text("2")
    assert (out / "notes.md").read_text() == "added while the run was working"
    assert (out / "a.json").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_check_new_files_refuses_existing_files_unless_overwrite(tmp_path):
    (tmp_path / "out.json").write_text("mine")
    with pytest.raises(ValueError, match=r"'.*out.json' already exists; pass --overwrite"):
        check_new_files([tmp_path / "out.png", tmp_path / "out.json"], what="-o/--output")
    check_new_files([tmp_path / "out.png", tmp_path / "out.json"], what="-o/--output", overwrite=True)
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        check_new_files([tmp_path / "dir.png"], what="-o/--output", overwrite=True)


def test_the_swap_leaves_a_complete_folder_at_every_instant(tmp_path):
    """A reader polling the output path never finds it missing or half-replaced."""
    out = tmp_path / "out"
    write_result(out, **{"index.html": "0", "a.png": "0"})
    (tmp_path / ".a").mkdir()
    (tmp_path / ".b").mkdir()
    if not atomic._exchange(tmp_path / ".a", tmp_path / ".b"):
        pytest.skip("this file system cannot swap two folders in one step (the portable swap is used)")
    (tmp_path / ".a").rmdir()
    (tmp_path / ".b").rmdir()
    missing, stop = [], threading.Event()

    def watch():
        while not stop.is_set():  # each lookup by path sees the folder at one instant
            for name in ("index.html", "a.png", OUTPUT_MARKER):
                if not (out / name).is_file():
                    missing.append(name)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(60):
            write_result(out, **{"index.html": str(i), "a.png": str(i)})
    finally:
        stop.set()
        watcher.join()
    assert missing == []
    assert (out / "index.html").read_text() == "59"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _kill_in_subprocess(tmp_path: Path, body: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from xstyle import atomic
        out = Path({str(tmp_path / "out")!r})
        {textwrap.indent(textwrap.dedent(body), "        ").strip()}
        """
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_kill_between_the_two_renames_is_repaired_by_the_next_run(tmp_path):
    """Where folders cannot be swapped in one step, the old one is renamed aside first."""
    write_result(tmp_path / "out", **{"index.html": "old"})
    done = _kill_in_subprocess(
        tmp_path,
        """
        atomic._exchange = lambda a, b: False
        atomic._between_renames = lambda: os._exit(9)
        with atomic.atomic_dir(out) as tmp:
            (tmp / "index.html").write_text("new")
        """,
    )
    assert done.returncode == 9, done.stderr
    assert not (tmp_path / "out").exists()  # the gap: killed with the old folder aside
    hidden = sorted(p.name for p in tmp_path.iterdir())
    assert any(n.endswith(".old") for n in hidden) and any(n.endswith(".tmp") for n in hidden)
    check_output_dir(tmp_path / "out")  # the next run for this path repairs first
    assert (tmp_path / "out" / "index.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_kill_while_deleting_the_previous_folder_leaves_nothing_behind(tmp_path):
    write_result(tmp_path / "out", **{"index.html": "old", **{f"f{i}.png": "x" for i in range(20)}})
    done = _kill_in_subprocess(
        tmp_path,
        """
        import shutil
        def rmtree(path, *args, **kwargs):
            os.unlink(os.path.join(path, "f3.png"))
            os._exit(9)
        atomic.shutil.rmtree = rmtree
        with atomic.atomic_dir(out) as tmp:
            (tmp / "index.html").write_text("new")
        """,
    )
    assert done.returncode == 9, done.stderr
    assert (tmp_path / "out" / "index.html").read_text() == "new"
    assert len(list(tmp_path.iterdir())) == 2  # the half-deleted previous folder
    write_result(tmp_path / "out", **{"index.html": "newer"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_killed_file_write_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    target = tmp_path / "epoch_0001.pt"
    done = _kill_in_subprocess(
        tmp_path,
        f"""
        with atomic.atomic_path(Path({str(target)!r})) as tmp:
            tmp.write_bytes(b"x" * 1000)
            os._exit(9)
        """,
    )
    assert done.returncode == 9, done.stderr
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".epoch_0001.pt.xs-"), leftovers
    (tmp_path / ".epoch_0002.pt.unrelated.tmp").write_text("not ours")  # other names are left alone
    write_json({"a": 1}, tmp_path / "other.json")  # another target: its leftovers are not touched
    assert leftovers[0] in {p.name for p in tmp_path.iterdir()}
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"done")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".epoch_0002.pt.unrelated.tmp",
        "epoch_0001.pt",
        "other.json",
    ]


def test_temporaries_of_a_running_process_are_left_alone(tmp_path):
    target = tmp_path / "a.json"
    mine = tmp_path / f".a.json.xs-{atomic._HOST}-{os.getpid()}-abc.tmp"
    mine.write_text("being written")
    clean_stale(target)
    assert mine.exists()
