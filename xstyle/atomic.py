"""Atomic writes: a file is written under a temporary name in its folder, then renamed into place.

A crash or an error mid-write leaves the previous file (if any) untouched and no partial file.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["OUTPUT_MARKER", "atomic_dir", "atomic_path", "check_output_dir", "check_writable", "write_json"]

#: Empty file that :func:`atomic_dir` puts in every folder it writes: such a folder may be replaced.
OUTPUT_MARKER = ".xstyle-output"
# what xstyle's output folders held before the marker existed (they may be replaced too)
_LEGACY_OUTPUTS = (
    "metrics.json", "stylised.json", "latent.json", "gram.json", "ablation.json", "tradeoff.json",
    "attribution.json", "gan_attribution.json", "probes.json", "directions.json", "traversals.json",
    "dynamics.json", "explanation.json",
)  # fmt: skip
# ...and the only kinds of file they held (figures one folder deep at most)
_RESULT_SUFFIXES = (".json", ".png", ".jpg", ".svg", ".html", ".md")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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


def check_output_dir(path: str | os.PathLike, *, what: str = "output folder") -> Path:
    """Check that ``path`` may be (re)placed by :func:`atomic_dir`; returns it as a Path.

    Allowed: a path that does not exist, an empty folder, or a folder xstyle wrote before (it holds
    :data:`OUTPUT_MARKER` or one of xstyle's result files). Anything else raises ValueError with a
    one-line reason, because the whole folder would be replaced: a file, the current folder or a
    folder above it, and a non-empty folder of someone else's files. ``what`` names the path in the
    messages (the CLI passes ``"--out"``).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what} {str(path)!r} exists and is not a folder; choose another folder.")
    here, resolved = Path.cwd().resolve(), path.resolve()
    if resolved == here or resolved in here.parents:
        raise ValueError(f"{what} {str(path)!r} is the current folder or above it; choose a new folder.")
    if path.is_dir() and any(path.iterdir()) and not _written_by_xstyle(path):
        raise ValueError(
            f"{what} {str(path)!r} is not empty and was not written by xstyle; it would be "
            "replaced as a whole, so choose a new or empty folder."
        )
    check_writable(path.parent, what=f"{what} {str(path)!r}")
    return path


def _written_by_xstyle(path: Path) -> bool:
    """The marker, or (folders from before it) an xstyle result file and nothing but result files."""
    if (path / OUTPUT_MARKER).is_file():
        return True
    if not any((path / name).is_file() for name in _LEGACY_OUTPUTS):
        return False
    for entry in path.iterdir():
        files = [entry] if not entry.is_dir() else list(entry.iterdir())
        if entry.is_symlink() or any(f.is_dir() or f.suffix.lower() not in _RESULT_SUFFIXES for f in files):
            return False
    return True


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; on success it replaces ``path`` as a whole.

    On error the temporary folder is deleted and a previous ``path`` stays intact. ``path`` must pass
    :func:`check_output_dir` (a new or empty folder, or one xstyle wrote), checked before anything is
    written; the new folder gets an :data:`OUTPUT_MARKER` file so a later run may replace it.
    """
    path = check_output_dir(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700 folders
    try:
        (tmp / OUTPUT_MARKER).touch()
        yield tmp
        old = None
        if path.exists():  # move the previous folder aside under a unique name, then swap
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            old.rmdir()
            path.rename(old)
        try:
            tmp.rename(path)
        except BaseException:
            if old is not None:
                old.rename(path)  # put the previous folder back
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_json(data: Any, path: str | os.PathLike) -> Path:
    """Write ``data`` as indented JSON atomically; returns the path."""
    text = json.dumps(data, indent=2, sort_keys=False, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return Path(path)
