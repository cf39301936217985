"""Atomic writes that never lose a user's file.

* :func:`atomic_path` writes a file under a temporary name in its folder, then renames it into place:
  a crash or an error mid-write leaves the previous file (if any) untouched and no partial file.
* :func:`atomic_dir` builds an output folder under a temporary name and swaps it in whole. The
  folder it writes carries a manifest (:data:`OUTPUT_MARKER`) listing every file with its SHA-256,
  size, device, inode and status-change time (``st_ctime``), so a later run may replace it only
  while it holds exactly those files, the very ones xstyle wrote: a file a user added or edited
  there is never deleted (the run is refused and names it), even one listed in the manifest with
  its correct hash (a new file has another inode, and no user can set a file's ``st_ctime``; a
  manifest written on purpose with the values ``stat`` shows is not guarded against). A manifest of
  an older xstyle (hashes only) is not trusted: such a folder is refused.
* One run at a time writes an output path: :func:`check_output_dir` takes a lock for it (a lock
  file holding the process's PID, in a private folder of this user's under ``/tmp``), released
  when :func:`atomic_dir` ends, by :func:`release_output` or at exit, and stale once its process
  has ended. A second run for the same path is refused in one line naming the first.
* A write that fills the disk (``ENOSPC``, ``EDQUOT``) removes its temporaries, leaves the previous
  output as it was and raises :class:`DiskFullError`: one line, ``no space left on MOUNT while
  writing PATH; free N MB``.
* On Linux the swap is one ``renameat2(RENAME_EXCHANGE)`` call, so the output path holds the old or
  the new folder, complete, at every instant. Elsewhere the old folder is renamed aside first; a run
  killed in that gap is repaired by the next run for the same path (the old folder is put back).
* Temporary files and folders are named ``.NAME.xs-HOST-PID-RANDOM.tmp`` (``.old`` for a folder
  moved aside). The next write to the same target removes those left by a process of this host that
  is no longer running (``kill -9``, a power cut), so nothing accumulates.
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "OUTPUT_MARKER",
    "DiskFullError",
    "atomic_dir",
    "atomic_path",
    "check_new_files",
    "check_output_dir",
    "check_writable",
    "hold_output",
    "release_output",
    "releasing_output_locks",
    "save_with_card",
    "write_json",
]

#: The manifest :func:`atomic_dir` puts in every folder it writes (JSON: each file's SHA-256, size,
#: device, inode and status-change time).
OUTPUT_MARKER = ".xstyle-output"
_MANIFEST_FORMAT = "xstyle-output/3"
_IDENTITY = ("size", "dev", "ino", "ctime_ns")  # a file's identity, compared before its hash
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


# ------------------------------------------------------------------------------------ a full disk

_FULL_ERRNOS = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if e is not None)


class DiskFullError(OSError):
    """A write ran out of disk space (or quota); its temporaries were removed, the previous output kept.

    ``str(err)`` and ``err.strerror`` are one line: ``no space left on '/data' while writing
    'runs/report'; free 12 MB, then run it again``. ``err.mount`` is the file system's mount point,
    ``err.target`` what was being written, ``err.free_mb`` the estimated space to free (whole MB).
    """

    def __init__(self, mount: Path, target: Path, free_mb: int) -> None:
        self.mount, self.target, self.free_mb = mount, target, free_mb
        message = (
            f"no space left on {str(mount)!r} while writing {str(target)!r}; free {free_mb} MB, "
            "then run it again"
        )
        super().__init__(errno.ENOSPC, message)

    def __str__(self) -> str:
        return str(self.strerror)


def is_disk_full(err: BaseException) -> bool:
    """Whether ``err`` is a write that ran out of space (ENOSPC) or quota (EDQUOT)."""
    return isinstance(err, OSError) and err.errno in _FULL_ERRNOS


def _existing(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _mount_point(path: Path) -> Path:
    path = _existing(path)
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _tree_bytes(path: Path) -> int:
    """Bytes of the files below ``path`` (or of the file ``path``); 0 when it is gone."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def disk_full_error(target: str | os.PathLike, *, need_bytes: float) -> DiskFullError:
    """The :class:`DiskFullError` for writing ``target``, which needs about ``need_bytes`` in all:
    the space to free is that need, plus 1 MB of headroom, less what is free there now."""
    target = Path(target)
    try:
        free = shutil.disk_usage(_existing(target)).free
    except OSError:
        free = 0
    missing = need_bytes + (1 << 20) - free
    return DiskFullError(_mount_point(target), target, max(1, math.ceil(missing / 1e6)))


def _output_need(written: int, previous: int) -> int:
    """Estimated size of a whole output: the previous one's size, or twice what was written before the
    disk filled (a guess: the whole is at least what was written), whichever is larger."""
    return max(previous, 2 * written)


# ------------------------------------------------------------------------------- one run per path

_LOCKS_HELD: dict[str, Path] = {}  # lock key -> lock file, taken by this process
_LOCK_DIR_OVERRIDE: Path | None = None  # tests may point this elsewhere


def _lock_dir() -> Path | None:
    """This user's folder of lock files (``/tmp/xstyle-locks-UID``, private); None if unusable."""
    if _LOCK_DIR_OVERRIDE is not None:
        folder = _LOCK_DIR_OVERRIDE
    else:
        base = Path("/tmp") if os.path.isdir("/tmp") else Path(tempfile.gettempdir())
        uid = os.getuid() if hasattr(os, "getuid") else 0
        folder = base / f"xstyle-locks-{uid}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = folder.lstat()
    except OSError:
        return None
    if not os.path.isdir(folder) or os.path.islink(folder):
        return None
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return None  # someone else's folder: its locks cannot be trusted
    return folder


def _lock_key(path: Path) -> str:
    return hashlib.sha256(os.fsencode(os.path.realpath(path))).hexdigest()[:32]


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux), to tell a reused PID apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2 :].split()[19]
    except (OSError, ValueError, IndexError):
        return None


def _lock_record(path: Path) -> dict[str, Any]:
    command = " ".join(["xstyle", *sys.argv[1:]]) if sys.argv else "xstyle"
    return {
        "pid": os.getpid(),
        "start": _process_start(os.getpid()),
        "host": _HOST,
        "path": os.path.realpath(path),
        "since": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": command[:120],
    }


def _read_lock(lock: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pid = record.get("pid") if isinstance(record, dict) else None
    return record if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None


def _is_mine(record: dict[str, Any]) -> bool:
    return record.get("pid") == os.getpid() and record.get("start") == _process_start(os.getpid())


def _holder_alive(record: dict[str, Any] | None) -> bool:
    """Whether the process that wrote a lock ``record`` is still running (same PID and start time).

    A PID that now belongs to another user's process (``kill`` answers EPERM) is told apart by its
    start time too: ``/proc/PID/stat`` is readable for every process."""
    if record is None:
        return False
    pid = record["pid"]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):
        return False  # an absurd PID: not a process
    except PermissionError:
        pass  # a process of another user: the run's PID reused, unless its start time matches
    start = _process_start(pid)
    return start is None or record.get("start") in (None, start)


def _set_aside(lock: Path, stale: dict[str, Any] | None) -> None:
    """Remove the stale lock file ``lock`` (holding ``stale``) unless another run took it meanwhile."""
    aside = lock.with_name(f"{lock.name}.{os.getpid()}-{secrets.token_hex(4)}.stale")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return
    if _read_lock(aside) != stale:  # a fresh lock taken in between: put it back
        try:
            os.link(aside, lock)
        except OSError:
            pass
    aside.unlink(missing_ok=True)


def _holder_text(record: dict[str, Any] | None) -> str:
    if record is None:
        return "another xstyle run"
    since, command = record.get("since", "?"), record.get("command", "?")
    return f"another xstyle run (PID {record['pid']}, since {since}: {command})"


_SWEPT: list[Path] = []  # lock folders this process has cleared of stale locks


def _sweep(folder: Path) -> None:
    """Remove the lock files of ended processes (killed runs) from ``folder``, once per process."""
    if folder in _SWEPT:
        return
    _SWEPT.append(folder)
    now = time.time()
    for entry in folder.iterdir():
        try:
            if entry.suffix == ".lock":
                record = _read_lock(entry)
                if record is not None and not _holder_alive(record):
                    _set_aside(entry, record)
            elif entry.suffix in (".new", ".stale") and now - entry.stat().st_mtime > 60:
                entry.unlink()  # left by a process killed while taking or clearing a lock
        except OSError:
            pass


def _acquire(path: Path, what: str) -> bool:
    """Take the lock of ``path`` for this process; True if taken now, False if already held (or if
    locks cannot be kept here). Raises ValueError (one line) while another running process holds it."""
    key = _lock_key(path)
    if key in _LOCKS_HELD:
        return False
    folder = _lock_dir()
    if folder is None:
        return False
    _sweep(folder)
    lock = folder / f"{key}.lock"
    record = json.dumps(_lock_record(path))
    for _ in range(5):
        new = folder / f".{key}.{os.getpid()}-{secrets.token_hex(4)}.new"
        try:
            new.write_text(record, encoding="utf-8")
        except OSError:  # the lock folder is full or unwritable: no lock kept (as without hard links)
            new.unlink(missing_ok=True)
            return False
        try:
            os.link(new, lock)  # atomic: fails if the lock exists, and a reader never sees half of it
        except FileExistsError:
            holder = _read_lock(lock)
            if holder is not None and _is_mine(holder):
                _LOCKS_HELD[key] = lock
                return True
            if _holder_alive(holder):
                raise ValueError(
                    f"{what} {str(path)!r} is being written by {_holder_text(holder)}; wait for it to "
                    "end, or choose another folder."
                ) from None
            _set_aside(lock, holder)  # its process has ended: a stale lock
            continue
        except OSError:  # a file system without hard links: no lock kept
            return False
        finally:
            new.unlink(missing_ok=True)
        _LOCKS_HELD[key] = lock
        return True
    raise ValueError(f"{what} {str(path)!r}: its lock could not be taken; run it again.")


def release_output(path: str | os.PathLike) -> None:
    """Release this process's lock on the output path ``path`` (taken by :func:`check_output_dir`)."""
    lock = _LOCKS_HELD.pop(_lock_key(Path(path)), None)
    if lock is not None:
        record = _read_lock(lock)
        if record is not None and _is_mine(record):
            lock.unlink(missing_ok=True)


@contextmanager
def releasing_output_locks() -> Iterator[None]:
    """Release, when the block ends, every output lock this process took inside it.

    A command checks (and locks) its ``--out`` while its arguments are parsed; when it then fails
    before the folder is written, the lock must not outlive the command in a long-lived process
    (a notebook or a test calling ``xstyle.cli.main``)."""
    before = set(_LOCKS_HELD)
    try:
        yield
    finally:
        for key in [k for k in _LOCKS_HELD if k not in before]:
            lock = _LOCKS_HELD.pop(key)
            record = _read_lock(lock)
            if record is not None and _is_mine(record):
                lock.unlink(missing_ok=True)


@atexit.register
def _release_all() -> None:
    for lock in list(_LOCKS_HELD.values()):
        record = _read_lock(lock)
        if record is not None and _is_mine(record):
            lock.unlink(missing_ok=True)
    _LOCKS_HELD.clear()


@contextmanager
def hold_output(path: str | os.PathLike, *, what: str = "output folder") -> Iterator[Path]:
    """Hold the lock of the output path ``path`` for the ``with`` block (see :func:`check_output_dir`).

    Raises ValueError (one line naming the holder) while another running process holds it."""
    path = Path(path)
    taken = _acquire(path, what)
    try:
        yield path
    finally:
        if taken:
            release_output(path)


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
    except BaseException as err:
        written = _tree_bytes(Path(tmp)) if is_disk_full(err) else 0
        Path(tmp).unlink(missing_ok=True)
        if is_disk_full(err) and not isinstance(err, DiskFullError):  # (one from a nested write stands)
            previous = path.stat().st_size if path.is_file() else 0
            raise disk_full_error(path, need_bytes=_output_need(written, previous)) from None
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
    return {
        "sha256": _sha256(entry),
        "size": st.st_size,
        "dev": st.st_dev,
        "ino": st.st_ino,
        "ctime_ns": st.st_ctime_ns,
    }


def _manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """{relative posix path: {sha256, size, dev, ino, ctime_ns}} of every file below ``folder`` but
    the marker."""
    files = {}
    for entry in sorted(folder.rglob("*")):
        if entry.is_file() and not entry.is_symlink() and entry.name != OUTPUT_MARKER:
            files[entry.relative_to(folder).as_posix()] = _fingerprint(entry)
    return files


def _unchanged(entry: Path, listed: Any) -> bool:
    """Whether ``entry`` is the very file xstyle wrote and listed: same size, device, inode and
    status-change time (which no user can set: any write, rename onto it, chmod or new link moves
    it), then the same SHA-256. A file a user put there, even listed with its correct hash, has
    another inode or ctime; so has a copy of the folder (refused too: it cannot be told from a forgery)."""
    if not isinstance(listed, dict):
        return False
    st = entry.stat()
    found = {"size": st.st_size, "dev": st.st_dev, "ino": st.st_ino, "ctime_ns": st.st_ctime_ns}
    if any(listed.get(k) != found[k] or isinstance(listed.get(k), bool) for k in _IDENTITY):
        return False
    return _sha256(entry) == listed.get("sha256")


_OLD_FORMAT = "old"  # a manifest of an older xstyle (hashes only): not trusted


def _foreign_entries(folder: Path) -> list[str] | str | None:
    """What in ``folder`` xstyle did not write, by its manifest; None when it has no manifest,
    ``"old"`` for the manifest of an older xstyle (hashes only, which a user can reproduce).

    An entry is foreign when it is not listed, is not the very file listed (another inode, size or
    ctime, or another hash: added, replaced, edited or copied), is a link, or is anything but a plain
    file or a folder.
    """
    try:
        manifest = json.loads((folder / OUTPUT_MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(manifest, dict):
        return None
    if manifest.get("format") != _MANIFEST_FORMAT:
        fmt = manifest.get("format")
        return _OLD_FORMAT if isinstance(fmt, str) and fmt.startswith("xstyle-output/") else None
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
    """Check that ``path`` may be (re)placed by :func:`atomic_dir`, and take its lock; returns it as a Path.

    Allowed: a path that does not exist, an empty folder, or a folder xstyle wrote that still holds
    exactly the files its manifest lists, the very files (some may have been deleted). Anything else
    raises ValueError with a one-line reason, because the whole folder would be replaced: a file,
    the current folder or a folder above it, a folder holding files xstyle did not write or that were
    changed or copied since (named), a folder without a manifest or with an older xstyle's, and a
    path another running xstyle process is writing (its lock; named). ``what`` names the path in
    the messages (the CLI passes ``"--out"``). First repairs what an interrupted earlier run left
    (see :func:`clean_stale`).

    The lock is kept until :func:`atomic_dir` for ``path`` ends, :func:`release_output` or the
    process exits; a refusal here leaves it as it was.
    """
    path = Path(path)
    taken = _acquire(path, what)
    try:
        _check_output_dir(path, what)
    except BaseException:
        if taken:
            release_output(path)
        raise
    return path


def _check_output_dir(path: Path, what: str) -> None:
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
        if foreign == _OLD_FORMAT:
            raise ValueError(
                f"{what} {str(path)!r} was written by an older xstyle whose list of files cannot tell its "
                "files from yours, so nothing in it is deleted; move the folder away or choose another "
                "folder."
            )
        if foreign:
            raise ValueError(
                f"{what} {str(path)!r} holds files xstyle did not write (or that were changed or copied "
                f"since): {_describe(list(foreign))}; move them out or choose a new folder."
            )
    check_writable(path.parent, what=f"{what} {str(path)!r}")


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

    On error the temporary folder is deleted and a previous ``path`` stays intact (a full disk
    raises :class:`DiskFullError`). ``path`` must pass :func:`check_output_dir` (checked before
    anything is written, and again just before the swap, so a file a user put there meanwhile is
    not lost); its lock is held until the block ends. The new folder gets an :data:`OUTPUT_MARKER`
    manifest of its files, so a later run may replace it while it holds only those.
    """
    path = check_output_dir(path)
    try:
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
        except BaseException as err:
            written = _tree_bytes(tmp) if is_disk_full(err) else 0
            shutil.rmtree(tmp, ignore_errors=True)
            if is_disk_full(err):  # the previous folder is untouched; say how much to free
                previous = _tree_bytes(path) if path.is_dir() else 0
                raise disk_full_error(path, need_bytes=_output_need(written, previous)) from None
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        release_output(path)


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
