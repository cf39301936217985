"""What the batch engines share: the job outcome, worker planning and the job plumbing.

:class:`JobOutcome` (what became of one job) and :func:`plan_workers` (workers x threads for the
cores) are public through :mod:`xstyle.batch.engines`. The rest is private to the engines: the
worker side (``_set_threads``, ``_make_state``, ``_call``: run one pickled job and pickle its value
back) and the driver side (``_pickled``, ``_payload_blob``, ``_split_job``, ``_outcome``), with the
one-line error text (``_one_line``) that every engine reports. Imports no ray.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

#: The engines' one logger: plan_workers, LocalEngine and RayEngine all log as the public module.
log = logging.getLogger("xstyle.batch.engines")

_MAX_ERROR_CHARS = 500

Task = Callable[[Any, Any], Any]
Setup = Callable[[], Any]


@dataclass(frozen=True)
class JobOutcome:
    """What became of one job.

    Attributes:
        key: the job's key, as given.
        value: the task's return value (None on error).
        error: None, or one line: ``"ExceptionType: first line of message"``, ``"setup failed: ..."``
            or ``"worker lost: ..."``.
        seconds: wall time of the task in the worker (0.0 when it never ran).
        worker: ``"host:pid"`` of the worker that ran it ("" when none did).
        bytes_in: length of the payload's pickle shipped to the worker.
        bytes_out: length of the value's pickle shipped back.
    """

    key: str
    value: Any = None
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""
    bytes_in: int = 0
    bytes_out: int = 0


# -- planning ------------------------------------------------------------------------------------


def _check_count(value: Any, name: str, low: int, allowed: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be {allowed}; got {value!r}.")
    return int(value)


def plan_workers(cores: int, n_jobs: int, workers: int | None, threads: int | None) -> tuple[int, int]:
    """``(workers, threads)`` for ``n_jobs`` jobs on ``cores`` cores.

    Left to default, they never oversubscribe the cores (``workers * threads <= cores``): workers
    default to one per job up to one per core (``threads`` given: as many as fit), threads to the
    cores shared out among the workers (at least 1). Explicit values are honoured; when they ask
    for more threads than cores a warning is logged (the run is slower, not faster).
    Raises ValueError (one line) for a count that is not a whole number >= 1 (``n_jobs``: >= 0).
    """
    cores = _check_count(cores, "cores", 1, "a whole number of cores >= 1")
    n_jobs = _check_count(n_jobs, "n_jobs", 0, "a whole number of jobs >= 0")
    if workers is not None:
        workers = _check_count(workers, "workers", 1, "a whole number >= 1, or None for one per core")
    if threads is not None:
        threads = _check_count(threads, "threads", 1, "a whole number >= 1, or None to share the cores")
    jobs = max(1, n_jobs)
    if workers is None and threads is None:
        workers = min(cores, jobs)
        threads = max(1, cores // workers)
    elif threads is None:
        threads = max(1, cores // workers)
    elif workers is None:
        workers = max(1, min(jobs, cores // threads))
    if workers * threads > cores:
        log.warning(
            "%d workers x %d threads = %d threads on %d cores: they compete for the cores "
            "(slower, not faster); choose fewer workers or threads.",
            workers,
            threads,
            workers * threads,
            cores,
        )
    return workers, threads


def check_worker_counts(
    workers: int | None,
    threads: int | None,
    *,
    cores: int,
    per_worker_bytes: float | None = None,
    names: tuple[str, str] = ("workers", "threads"),
    where: str = "this machine",
) -> None:
    """Refuse worker and thread counts the machine cannot hold, in one ValueError line each.

    More threads per worker than ``cores``, or more worker processes than ``cores`` (each runs one
    item at a time on a core at least), only compete for the cores; and ``workers`` x
    ``per_worker_bytes`` (when given) must fit in :func:`xstyle._limits.available_memory`. ``names``
    are the options as the user wrote them (the CLI passes ``("--workers", "--threads")``).
    """
    from xstyle._limits import check_memory, format_bytes

    for value, name, does in (
        (threads, names[1], "threads in one worker"),
        (workers, names[0], "worker processes (each runs one item at a time)"),
    ):
        if value is not None and value > cores:
            raise ValueError(
                f"{name} {value} asks for more {does} than {where}'s {cores} cores, which only makes it "
                f"slower; use {name} {cores} or fewer."
            )
    if workers is not None and per_worker_bytes:
        check_memory(
            names[0],
            workers,
            lambda n: n * per_worker_bytes,
            what=f"worker processes (about {format_bytes(per_worker_bytes)} each: torch, models, an item)",
        )


# -- what runs in a worker -----------------------------------------------------------------------


def _one_line(err: BaseException) -> str:
    """``"Type: first line of the message"`` (just ``"Type"`` for an empty message)."""
    lines = str(err).strip().splitlines()
    first = lines[0].strip() if lines else ""
    text = f"{type(err).__name__}: {first}" if first else type(err).__name__
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _set_threads(threads: int) -> None:
    """Limit this process's math libraries to ``threads`` threads (before anything runs)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        import torch
    except ImportError:  # the engines themselves need no torch
        return
    torch.set_num_threads(threads)


def _make_state(setup_blob: bytes) -> tuple[Any, str | None]:
    """(state, None) from running the pickled setup (None: no setup), or (None, one-line error)."""
    try:
        setup = pickle.loads(setup_blob)
        return (None if setup is None else setup()), None
    except Exception as err:
        return None, _one_line(err)


def _call(
    task: Task, state: Any, payload_blob: bytes, *, setup_error: str | None = None
) -> tuple[bytes | None, str | None, float, str]:
    """Run one job: (pickled value or None, one-line error or None, seconds, "host:pid").

    With ``setup_error`` (the worker's setup failed) the job does not run and fails with it.
    """
    if setup_error is not None:
        return None, f"setup failed: {setup_error}", 0.0, _worker_name()
    try:
        payload = pickle.loads(payload_blob)
    except Exception as err:
        return None, _one_line(err), 0.0, _worker_name()
    t0 = time.perf_counter()
    try:
        value = task(state, payload)
    except Exception as err:
        return None, _one_line(err), time.perf_counter() - t0, _worker_name()
    seconds = time.perf_counter() - t0
    try:
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as err:
        return None, f"the task's value cannot be pickled: {_one_line(err)}", seconds, _worker_name()
    return blob, None, seconds, _worker_name()


# -- driver side ---------------------------------------------------------------------------------


def _pickled(what: str, obj: Any) -> bytes:
    try:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as err:
        raise TypeError(
            f"{what} must be picklable (a top-level function, or functools.partial of one); {_one_line(err)}"
        ) from None


def _payload_blob(key: Any, payload: Any) -> tuple[bytes | None, JobOutcome | None]:
    try:
        return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL), None
    except Exception as err:
        return None, JobOutcome(key, error=f"the payload cannot be pickled: {_one_line(err)}")


def _split_job(job: Any) -> tuple[Any, Any]:
    try:
        key, payload = job
    except (TypeError, ValueError):
        raise TypeError(
            f"jobs must yield (key, payload) pairs; got {type(job).__name__} {job!r:.80}"
        ) from None
    return key, payload


def _outcome(key: Any, reply: tuple[bytes | None, str | None, float, str], bytes_in: int) -> JobOutcome:
    blob, error, seconds, worker = reply
    if error is not None or blob is None:
        return JobOutcome(key, error=error, seconds=seconds, worker=worker, bytes_in=bytes_in)
    try:
        value = pickle.loads(blob)
    except Exception as err:
        error = f"the task's value cannot be unpickled here: {_one_line(err)}"
        return JobOutcome(
            key, error=error, seconds=seconds, worker=worker, bytes_in=bytes_in, bytes_out=len(blob)
        )
    return JobOutcome(key, value, None, seconds, worker, bytes_in, len(blob))


# -- the engines' common shell -------------------------------------------------------------------


class _Engine:
    """What every engine shares: ``name``, ``workers``/``threads``, the entered/running state and
    :meth:`run`'s checks; a subclass starts its workers in ``__enter__`` (after :meth:`_entering`)
    and implements ``_run(task, jobs, setup_blob)``."""

    name = ""
    workers: int | None
    threads: int | None
    _active = False
    _running = False

    @property
    def active(self) -> bool:
        """Whether the engine has been entered (and not yet left)."""
        return self._active

    def describe(self) -> dict[str, Any]:
        """{"name", "workers", "threads"} for batch.json."""
        return {"name": self.name, "workers": self.workers, "threads": self.threads}

    def _entering(self) -> None:
        if self._active:
            raise RuntimeError(
                f"this {type(self).__name__} is already entered; use one `with` block at a time."
            )

    def run(
        self, task: Task, jobs: Iterable[tuple[str, Any]], *, setup: Setup | None = None
    ) -> Iterator[JobOutcome]:
        """Run ``task(state, payload)`` for every ``(key, payload)`` of ``jobs``; yield outcomes as they end.

        ``state`` is ``setup()`` run once per worker (None without ``setup``). ``task`` and
        ``setup`` must be picklable (top-level functions, or ``functools.partial`` of one): a
        TypeError says so before anything runs. See :mod:`xstyle.batch.engines` for errors and
        retries.
        """
        kind = type(self).__name__
        if not self._active:
            raise RuntimeError(
                f"{kind}.run needs an entered engine: use `with {kind}(...) as engine:` first."
            )
        if self._running:
            raise RuntimeError(f"this {kind} is already running jobs; finish that run first.")
        _pickled("task", task)
        setup_blob = _pickled("setup", setup)
        return self._run(task, iter(jobs), setup_blob)

    def _run(self, task: Task, jobs: Iterator[Any], setup_blob: bytes) -> Iterator[JobOutcome]:
        raise NotImplementedError
