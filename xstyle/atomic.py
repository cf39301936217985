"""Atomic writes that never lose a user's file.

* :func:`atomic_path` writes a file under a temporary name in its folder, then renames it into place:
  a crash or an error mid-write leaves the previous file (if any) untouched and no partial file.
* :func:`atomic_dir` builds an output folder under a temporary name and swaps it in whole. The
  folder it writes carries a manifest (:data:`OUTPUT_MARKER`) listing every file and its SHA-256, so
  a later run may replace it only while it holds exactly those files: a file a user added or edited
  there is never deleted (the run is refused and names it).
* On Linux the swap is one ``renameat2(RENAME_EXCHANGE)`` call, so the output path holds the old or
  the new folder, complete, at every instant. Elsewhere the old folder is renamed aside first; a run
  killed in that gap is repaired by the next run for the same path (the old folder is put back).
* Temporary files and folders are named ``.NAME.xs-HOST-PID-RANDOM.tmp`` (``.old`` for a folder
  moved aside). The next write to the same target removes those left by a process of this host that
  is no longer running (``kill -9``, a power cut), so nothing accumulates.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "OUTPUT_MARKER",
    "atomic_dir",
    "atomic_path",
    "check_new_files",
    "check_output_dir",
    "check_writable",
    "save_with_card",
    "write_json",
]

#: The manifest :func:`atomic_dir` puts in every folder it writes (JSON: the files and their SHA-256).
OUTPUT_MARKER = ".xstyle-output"
_MANIFEST_FORMAT = "xstyle-output/2"
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.xs-(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-[^.]+\.(?P<kind>tmp|old)$")


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.xs-{_HOST}-{os.getpid()}-"


def _owner_is_gone(host: str, pid: str) -> bool:
    """True when a temporary's writer was a process of this host that has ended."""
    if host != _HOST:
        return False  # another machine's (shared file system): it may still be writing
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


def _stale_temporaries(path: Path) -> list[tuple[Path, str]]:
    """(temporary, "tmp"|"old") left beside ``path`` by ended processes of this host."""
    if not path.parent.is_dir():
        return []
    found = []
    for entry in path.parent.iterdir():
        m = _TEMP_NAME.match(entry.name)
        if m and m["target"] == path.name and _owner_is_gone(m["host"], m["pid"]):
            found.append((entry, m["kind"]))
    return found


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def clean_stale(path: str | os.PathLike) -> None:
    """Repair and remove what an interrupted write to ``path`` left beside it.

    A previous folder moved aside (``.old``) while ``path`` is missing is put back (the run was
    killed between the two renames of the non-Linux swap); every other temporary of an ended
    process of this host is deleted. Temporaries of running processes are left alone.
    """
    path = Path(path)
    stale = _stale_temporaries(path)
    if not path.exists() and not path.is_symlink():
        aside = [entry for entry, kind in stale if kind == "old" and entry.is_dir()]
        if aside:
            newest = max(aside, key=lambda p: p.stat().st_mtime_ns)
            newest.rename(path)
            stale = [(e, k) for e, k in stale if e != newest]
    for entry, _ in stale:
        _remove(entry)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the result normal permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(folder: str | os.PathLike, *, what: str) -> Path:
    """Check that files can be created in ``folder`` (it exists, or the nearest folder above it does).

    Probes by creating an unnamed temporary file there (gone at once), so a read-only or special
    file system fails here, before any work, rather than at the end. Raises ValueError with a
    one-line reason naming ``what`` (e.g. ``"--out 'runs/x'"``); returns ``folder`` as a Path.
    """
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(
            f"{what} cannot be written: {str(existing)!r} is a file, not a folder; choose another path."
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ValueError(
            f"{what} cannot be written: files cannot be created in {str(existing)!r} ({reason}); "
            "choose a folder you can write to."
        ) from None
    return folder


def check_new_files(paths: Iterable[str | os.PathLike], *, what: str, overwrite: bool = False) -> None:
    """Refuse to replace files that already exist, unless ``overwrite`` (the CLI's ``--overwrite``).

    For outputs written as single files (an image, its JSON beside it, a checkpoint and its card):
    xstyle never replaces a file it did not write in this run without being told to. A folder in
    the way is refused even with ``overwrite``. Raises ValueError with one line naming the file.
    """
    for p in map(Path, paths):
        if p.is_dir():
            raise ValueError(f"{what}: {str(p)!r} is a folder; choose another name.")
        if not overwrite and (p.exists() or p.is_symlink()):
            raise ValueError(
                f"{what}: {str(p)!r} already exists; pass --overwrite to replace it, or choose another name."
            )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fingerprint(entry: Path) -> dict[str, Any]:
    st = entry.stat()
    return {"sha256": _sha256(entry), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """{relative posix path: {sha256, size, mtime_ns}} of every file below ``folder`` but the marker."""
    files = {}
    for entry in sorted(folder.rglob("*")):
        if entry.is_file() and not entry.is_symlink() and entry.name != OUTPUT_MARKER:
            files[entry.relative_to(folder).as_posix()] = _fingerprint(entry)
    return files


def _unchanged(entry: Path, listed: Any) -> bool:
    """Whether ``entry`` is the file the manifest lists: same size and modification time (a stat,
    no reading), else the same SHA-256 (a copied folder has new times but the same content)."""
    if not isinstance(listed, dict):
        return False
    st = entry.stat()
    if st.st_size != listed.get("size"):
        return False
    return st.st_mtime_ns == listed.get("mtime_ns") or _sha256(entry) == listed.get("sha256")


def _foreign_entries(folder: Path) -> list[str] | None:
    """What in ``folder`` xstyle did not write, by its manifest; None when it has no valid manifest.

    An entry is foreign when it is not listed, differs from the listed hash (edited), is a link, or
    is anything but a plain file or a folder.
    """
    try:
        manifest = json.loads((folder / OUTPUT_MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != _MANIFEST_FORMAT:
        return None
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        return None
    foreign = []
    for entry in sorted(folder.rglob("*")):
        rel = entry.relative_to(folder).as_posix()
        if rel == OUTPUT_MARKER or (entry.is_dir() and not entry.is_symlink()):
            continue
        if entry.is_symlink() or not entry.is_file() or not _unchanged(entry, listed.get(rel)):
            foreign.append(rel)
    return foreign


def _describe(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_output_dir(path: str | os.PathLike, *, what: str = "output folder") -> Path:
    """Check that ``path`` may be (re)placed by :func:`atomic_dir`; returns it as a Path.

    Allowed: a path that does not exist, an empty folder, or a folder xstyle wrote that still holds
    exactly the files its manifest lists (some may have been deleted). Anything else raises
    ValueError with a one-line reason, because the whole folder would be replaced: a file, the
    current folder or a folder above it, a folder holding files xstyle did not write or that were
    edited since (named), and a folder without a manifest. ``what`` names the path in the messages
    (the CLI passes ``"--out"``). First repairs what an interrupted earlier run left (see
    :func:`clean_stale`).
    """
    path = Path(path)
    clean_stale(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what} {str(path)!r} exists and is not a folder; choose another folder.")
    here, resolved = Path.cwd().resolve(), path.resolve()
    if resolved == here or resolved in here.parents:
        raise ValueError(f"{what} {str(path)!r} is the current folder or above it; choose a new folder.")
    if path.is_symlink():
        raise ValueError(f"{what} {str(path)!r} is a link; choose a new folder.")
    if path.is_dir() and any(path.iterdir()):
        foreign = _foreign_entries(path)
        if foreign is None:
            raise ValueError(
                f"{what} {str(path)!r} is not empty and was not written by xstyle (no list of xstyle's "
                "files in it); it would be replaced as a whole, so choose a new or empty folder."
            )
        if foreign:
            raise ValueError(
                f"{what} {str(path)!r} holds files xstyle did not write (or that were changed since): "
                f"{_describe(foreign)}; move them out or choose a new folder."
            )
    check_writable(path.parent, what=f"{what} {str(path)!r}")
    return path


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing folders in one step (Linux ``renameat2`` with RENAME_EXCHANGE).

    Returns False where the system or the file system cannot (then nothing was changed).
    """
    func = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None) if os.name == "posix" else None
    if func is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if func(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _between_renames() -> None:
    """The instant between the two renames of the portable swap (tests kill a process here)."""


def _swap_in(tmp: Path, path: Path) -> Path | None:
    """Put ``tmp`` at ``path``; returns where the previous folder went (to delete), if any."""
    if not path.exists():
        tmp.rename(path)
        return None
    if _exchange(tmp, path):
        return tmp  # tmp now holds the previous folder
    old = Path(tempfile.mkdtemp(dir=path.parent, prefix=_temp_prefix(path), suffix=".old"))
    old.rmdir()
    path.rename(old)
    _between_renames()
    try:
        tmp.rename(path)
    except BaseException:
        old.rename(path)  # put the previous folder back
        raise
    return old


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; on success it replaces ``path`` as a whole.

    On error the temporary folder is deleted and a previous ``path`` stays intact. ``path`` must pass
    :func:`check_output_dir` (checked before anything is written, and again just before the swap, so
    a file a user put there meanwhile is not lost). The new folder gets an :data:`OUTPUT_MARKER`
    manifest of its files, so a later run may replace it while it holds only those.
    """
    path = check_output_dir(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=_temp_prefix(path), suffix=".tmp"))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700 folders
    try:
        yield tmp
        manifest = {"format": _MANIFEST_FORMAT, "files": _manifest(tmp)}
        (tmp / OUTPUT_MARKER).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        check_output_dir(path)
        old = _swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _json_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"


def write_json(data: Any, path: str | os.PathLike) -> Path:
    """Write ``data`` as indented JSON atomically; returns the path."""
    text = _json_text(data)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def save_with_card(path: str | os.PathLike, save: Callable[[Path], None], card: Any) -> Path:
    """Write a weights file with ``save(tmp_path)`` and its JSON ``card`` beside it (``.json``).

    Both go to temporary files first, so a failed save (disk full, an unpicklable value, a card
    that is not JSON) leaves the previous pair as it was. Then the weights land first and the card
    after them: a run killed between the two renames leaves the new weights beside the previous
    card, never a card without its weights. Returns ``path``.
    """
    path = Path(path)
    text = _json_text(card)
    with atomic_path(path.with_suffix(".json")) as tmp_card:
        tmp_card.write_text(text, encoding="utf-8")
        with atomic_path(path) as tmp:
            save(tmp)
    return path
