"""Execution engines for batches: run one pure task per job on worker processes, here or on a Ray cluster.

The engines know nothing about style transfer. A run is ``engine.run(task, jobs, setup=setup)``:

* ``task(state, payload) -> value`` is a picklable top-level function and ``state`` is what
  ``setup()`` returned *in that worker*: setup runs once per worker process (load model weights
  once, not once per job) and its result is kept there for every later job of the run.
* ``jobs`` yields ``(key, payload)`` pairs and is consumed lazily: at most two jobs per worker are
  in flight (:class:`LocalEngine`; one per actor on :class:`RayEngine`), so a payload is built
  (its input bytes read) only shortly before a worker needs it.
* Outcomes (:class:`JobOutcome`) are yielded as jobs complete, in completion order. A task that
  raises never stops the run: its outcome carries a one-line ``error``
  (``"ValueError: first line of the message"``); ``"setup failed: ..."`` when the worker's
  setup raised; ``"worker lost: ..."`` when the worker process died running it on every try.
* The payload is pickled once in the driver and the value once in the worker; ``bytes_in`` and
  ``bytes_out`` are the lengths of those pickles (what travels, not counting the task function),
  ``seconds`` the task's wall time in the worker (setup and unpickling the payload excluded), and
  ``worker`` is ``"host:pid"``. The engines add no randomness: the same jobs give the same values.

:class:`LocalEngine` is a ``ProcessPoolExecutor`` of "spawn" workers (safe with torch and
threads). Each worker first sets ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` and
``torch.set_num_threads(threads)``, ignores Ctrl-C (the driver stops it) and keeps its state in
the module-level dict ``_WORKER`` (one per worker process; the last setup only, keyed by the
pickled setup, so a second run with another setup replaces it). When a worker process dies
(a segfault, ``os._exit``, the kernel's out-of-memory killer) the whole pool breaks and every job
in flight fails with it, so the engine rebuilds the pool and finds the culprit: each worker
reports on a pipe which job it starts, so jobs not started yet are resubmitted as they were; the
started ones are re-run *one at a time* (nothing else in flight), and only a crash with a single
job running is charged to that job. After ``max_retries`` charged crashes (``1 + max_retries``
tries) the job's outcome is ``"worker lost: ..."`` with the exit code; the other jobs go on.
Workers that die before starting any job, three pool starts in a row (a task module that
cannot be imported in a fresh process, a broken environment), stop the run with a RuntimeError.

:class:`RayEngine` runs the same tasks on Ray actors (one per worker, ``num_cpus=threads``),
each running ``setup()`` in its constructor; Ray restarts an actor that dies and retries its job
(``max_restarts``/``max_task_retries`` = ``max_retries``); an actor still lost after that makes
the job's outcome ``"worker lost: ..."`` and is replaced for the next jobs. Ray is an optional
extra (``pip install 'xstyle[ray]'``) imported only when a :class:`RayEngine` is entered; this
module imports neither torch nor ray.

Worker counts come from :func:`plan_workers`: by default one worker per job up to one per core,
and the cores shared out as threads, never more workers x threads than cores. Both engines take
``n_jobs`` (when the number of jobs is known, for that default) and :class:`RayEngine` a
``runtime_env`` for ``ray.init`` (how a cluster's workers get the code), beyond the options above.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import count
from typing import Any

__all__ = ["JobOutcome", "LocalEngine", "RayEngine", "plan_workers"]

log = logging.getLogger(__name__)

#: Jobs in flight per local worker: one running, one queued behind it so the worker never waits.
IN_FLIGHT_PER_WORKER = 2
_MAX_ERROR_CHARS = 500
#: Pool breaks in a row with no job started (workers dying at start-up) before a run gives up.
_MAX_BLIND_BREAKS = 3
_RAY_MISSING = "Ray is not installed: pip install 'xstyle[ray]'"

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


# -- what runs in a worker -----------------------------------------------------------------------

#: State of a local worker process (one dict per process): "markers" (where started jobs are
#: reported), "setup" (the pickled setup whose result is kept), "state" and "setup_error".
_WORKER: dict[str, Any] = {}


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


def _call(task: Task, state: Any, payload_blob: bytes) -> tuple[bytes | None, str | None, float, str]:
    """Run one job: (pickled value or None, one-line error or None, seconds, "host:pid")."""
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


def _init_local_worker(threads: int, markers: Any) -> None:
    """ProcessPoolExecutor initializer: threads first, Ctrl-C left to the driver."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_threads(threads)
    _WORKER.clear()
    _WORKER["markers"] = markers


def _run_local_job(
    task: Task, setup_blob: bytes, token: int, payload_blob: bytes
) -> tuple[bytes | None, str | None, float, str]:
    """A local worker's job: report its start, run setup if this worker has not yet, run the task."""
    markers = _WORKER.get("markers")
    if markers is not None:
        markers.put((token, os.getpid()))  # a pipe write (no feeder thread): sent even if the task kills us
    if _WORKER.get("setup") != setup_blob:
        _WORKER["state"] = None  # free the previous setup's state first (a model may be large)
        _WORKER["state"], _WORKER["setup_error"] = _make_state(setup_blob)
        _WORKER["setup"] = setup_blob
    if _WORKER["setup_error"] is not None:
        return None, f"setup failed: {_WORKER['setup_error']}", 0.0, _worker_name()
    return _call(task, _WORKER["state"], payload_blob)


class _RayWorker:
    """A Ray actor's body: threads and setup once in the constructor, then one job per call."""

    def __init__(self, threads: int, setup_blob: bytes) -> None:
        _set_threads(threads)
        self._state, self._setup_error = _make_state(setup_blob)

    def run(self, task: Task, payload_blob: bytes) -> tuple[bytes | None, str | None, float, str]:
        if self._setup_error is not None:
            return None, f"setup failed: {self._setup_error}", 0.0, _worker_name()
        return _call(task, self._state, payload_blob)


# -- driver side ---------------------------------------------------------------------------------


@dataclass
class _Job:
    key: str
    blob: bytes
    crashes: int = 0  # crashes charged to this job (it was the only job running)
    token: int = -1  # id of its latest submission
    exit_code: int | None = field(default=None, repr=False)


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


def _exit_text(code: int | None) -> str:
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = ": out of memory?" if -code == signal.SIGKILL else ""
        return f"exit code {code}, killed by {name}{hint}"
    return f"exit code {code}"


class LocalEngine:
    """Worker processes on this machine (``ProcessPoolExecutor``, "spawn"); the default engine.

    Args:
        workers, threads: worker processes and threads per worker; None: :func:`plan_workers`
            with this machine's cores (``os.cpu_count()``).
        max_retries: crashes of a worker process tolerated per job before it is reported lost.
        n_jobs: how many jobs will run, when known (only sizes the default ``workers``).

    Use as a context manager (``__enter__`` starts the pool, ``__exit__`` stops it; on an error
    or an abandoned run the workers are terminated instead of awaited), then :meth:`run`.
    """

    name = "local"

    def __init__(
        self,
        *,
        workers: int | None = None,
        threads: int | None = None,
        max_retries: int = 1,
        n_jobs: int | None = None,
    ) -> None:
        cores = os.cpu_count() or 1
        self.workers, self.threads = plan_workers(
            cores, cores if n_jobs is None else n_jobs, workers, threads
        )
        self.max_retries = _check_count(max_retries, "max_retries", 0, "a whole number >= 0")
        self._pool: ProcessPoolExecutor | None = None
        self._markers: Any = None
        self._started: dict[int, int] = {}  # token -> pid of the worker that started it
        self._tokens = count()
        self._active = False
        self._running = False
        self._abandoned = False
        self._blind_breaks = 0  # pool breaks in a row with no job started

    @property
    def active(self) -> bool:
        """Whether the engine has been entered (and not yet left)."""
        return self._active

    def describe(self) -> dict[str, Any]:
        """{"name", "workers", "threads"} for batch.json."""
        return {"name": self.name, "workers": self.workers, "threads": self.threads}

    def __repr__(self) -> str:
        return f"LocalEngine(workers={self.workers}, threads={self.threads}, max_retries={self.max_retries})"

    # pool lifecycle
    def _start_pool(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._markers = ctx.SimpleQueue()
        self._started = {}
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_init_local_worker,
            initargs=(self.threads, self._markers),
        )

    def _stop_pool(self, *, terminate: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if not terminate:
            pool.shutdown(wait=True)
        else:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for p in processes:
                if p.is_alive():
                    p.terminate()
            for p in processes:
                p.join(timeout=5)
        if self._markers is not None:
            self._markers.close()
            self._markers = None

    def __enter__(self) -> LocalEngine:
        if self._active:
            raise RuntimeError("this LocalEngine is already entered; use one `with` block at a time.")
        self._start_pool()
        self._active = True
        self._abandoned = False
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._active = False
        self._stop_pool(terminate=exc_type is not None or self._abandoned or self._running)

    # a run
    def _drain_markers(self) -> None:
        markers = self._markers
        while markers is not None and not markers.empty():
            token, pid = markers.get()
            self._started[token] = pid

    def _exit_code(self, pid: int | None) -> int | None:
        processes = getattr(self._pool, "_processes", None) or {}
        process = processes.get(pid)
        return None if process is None else process.exitcode

    def run(
        self, task: Task, jobs: Iterable[tuple[str, Any]], *, setup: Setup | None = None
    ) -> Iterator[JobOutcome]:
        """Run ``task(state, payload)`` for every ``(key, payload)`` of ``jobs``; yield outcomes as they end.

        ``state`` is ``setup()`` run once per worker process (None without ``setup``). ``task`` and
        ``setup`` must be picklable (top-level functions, or ``functools.partial`` of one): a
        TypeError says so before anything runs. See the module docstring for errors and retries.
        """
        if not self._active:
            raise RuntimeError(
                "LocalEngine.run needs an entered engine: use `with LocalEngine(...) as engine:` first."
            )
        if self._running:
            raise RuntimeError("this LocalEngine is already running jobs; finish that run first.")
        _pickled("task", task)
        setup_blob = _pickled("setup", setup)
        return self._run(task, iter(jobs), setup_blob)

    def _run(self, task: Task, jobs: Iterator[Any], setup_blob: bytes) -> Iterator[JobOutcome]:
        self._running = True
        finished = False
        inflight: dict[Future, _Job] = {}
        pending: deque[_Job] = deque()  # returned to the queue unstarted by a crash: they go first
        solo: deque[_Job] = deque()  # were running when a worker died: re-run one at a time
        exhausted = False
        limit = IN_FLIGHT_PER_WORKER * self.workers

        def submit(job: _Job) -> bool:
            if self._pool is None:
                raise RuntimeError("the LocalEngine was left (its `with` block ended) during this run.")
            job.token = next(self._tokens)
            try:
                future = self._pool.submit(_run_local_job, task, setup_blob, job.token, job.blob)
            except BrokenProcessPool:  # it broke since the last look: the next wait() sees why
                return False
            inflight[future] = job
            return True

        def fill() -> list[JobOutcome]:
            """Submit up to the limit (one job alone while there are suspects); outcomes of bad payloads."""
            nonlocal exhausted
            unsent: list[JobOutcome] = []
            if solo:  # suspects of a crash run alone, one after the other
                if not inflight:
                    if submit(solo[0]):
                        solo.popleft()
                    else:
                        self._rebuild()
                return unsent
            while len(inflight) < limit:
                if pending:
                    job = pending[0]
                    if not submit(job):
                        if not inflight:
                            self._rebuild()
                        break
                    pending.popleft()
                    continue
                if exhausted:
                    break
                try:
                    raw = next(jobs)
                except StopIteration:
                    exhausted = True
                    break
                key, payload = _split_job(raw)
                blob, bad = _payload_blob(key, payload)
                if bad is not None:
                    unsent.append(bad)
                    continue
                job = _Job(key, blob)
                if not submit(job):
                    pending.append(job)
                    if not inflight:
                        self._rebuild()
                    break
            return unsent

        try:
            while True:
                yield from fill()
                if not inflight:
                    if solo or pending:  # the pool was rebuilt under them: submit again
                        continue
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                self._drain_markers()  # keep the pipe empty (a full one would block the workers)
                outcomes: list[JobOutcome] = []
                broken: list[_Job] = []
                for future in done:
                    job = inflight.pop(future)
                    self._collect(future, job, outcomes, broken)
                if broken:  # the pool is dead: every other job in flight fails too
                    done, _ = wait(inflight)
                    for future in done:
                        self._collect(future, inflight.pop(future), outcomes, broken)
                    outcomes.extend(self._recover(broken, pending, solo))
                yield from outcomes
            finished = True
        finally:
            self._running = False
            if not finished:  # abandoned (an error, Ctrl-C, the consumer stopped): stop what is queued
                self._abandoned = True
                for future in inflight:
                    future.cancel()

    def _collect(self, future: Future, job: _Job, outcomes: list[JobOutcome], broken: list[_Job]) -> None:
        try:
            reply = future.result()
        except BrokenProcessPool:
            broken.append(job)
            return
        except BaseException as err:  # the worker's (e.g. the task's SystemExit): keep it to this job
            outcomes.append(JobOutcome(job.key, error=_one_line(err), bytes_in=len(job.blob)))
            self._started.pop(job.token, None)
            return
        self._started.pop(job.token, None)
        self._blind_breaks = 0
        outcomes.append(_outcome(job.key, reply, len(job.blob)))

    def _death_codes(self) -> list[int]:
        """Exit codes of the pool's processes that died on their own (not terminated by the pool)."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        for p in processes:  # dead or being terminated by the pool: reap them to read their codes
            p.join(timeout=5)
        codes = [p.exitcode for p in processes]
        return [c for c in codes if c is not None and c != -signal.SIGTERM]

    def _recover(self, broken: list[_Job], pending: deque[_Job], solo: deque[_Job]) -> list[JobOutcome]:
        """After a worker died: charge or isolate the suspects, requeue the rest, rebuild the pool."""
        self._drain_markers()
        deaths = self._death_codes()
        started = [job for job in broken if job.token in self._started]
        pending.extendleft(reversed([job for job in broken if job not in started]))
        if not started:  # died before running any job: nothing to charge; a broken environment?
            self._blind_breaks += 1
            if self._blind_breaks >= _MAX_BLIND_BREAKS:
                code = _exit_text(deaths[0] if deaths else None)
                raise RuntimeError(
                    f"the worker processes died before running any job, {self._blind_breaks} times in a row "
                    f"({code}): each must import the task's module in a fresh process (a script needs an "
                    "`if __name__ == '__main__':` guard)"
                )
            code = _exit_text(deaths[0] if deaths else None)
            log.warning("a worker process died before running a job (%s); restarting the workers", code)
            self._rebuild()
            return []
        self._blind_breaks = 0
        lost: list[JobOutcome] = []
        if len(started) > 1:  # not known which one did it: each runs alone next, uncharged
            log.warning(
                "a worker process died with %d jobs running (%s); re-running them one at a time",
                len(started),
                _exit_text(deaths[0] if len(deaths) == 1 else None),
            )
            solo.extend(started)
        else:
            job = started[0]
            job.crashes += 1
            code = self._exit_code(self._started.get(job.token))
            job.exit_code = code if code is not None else (deaths[0] if len(deaths) == 1 else None)
            log.warning(
                "worker process died running job %r (%s): crash %d, %d tolerated",
                job.key,
                _exit_text(job.exit_code),
                job.crashes,
                self.max_retries,
            )
            if job.crashes > self.max_retries:
                tries = f"{job.crashes} {'try' if job.crashes == 1 else 'tries'}"
                died = f"the worker process died running this job ({_exit_text(job.exit_code)}; {tries})"
                error = f"worker lost: {died}"
                lost.append(JobOutcome(job.key, error=error, bytes_in=len(job.blob)))
            else:
                solo.append(job)
        self._rebuild()
        return lost

    def _rebuild(self) -> None:
        self._stop_pool(terminate=True)
        self._start_pool()


class RayEngine:
    """Ray actors, one per worker, on a Ray cluster (or a local one started for the run).

    Args:
        address: ``"local"`` starts a Ray instance on this machine (all its cores, no dashboard)
            and shuts it down on exit; ``"auto"`` (a cluster started with ``ray start``),
            ``"ray://host:port"`` or ``"host:port"`` connect to an existing cluster. When Ray is
            already initialised in this process, that connection is used and left open.
        workers, threads: actors and threads per actor; None: :func:`plan_workers` with the
            cluster's CPUs (known once entered; for ``"local"`` at once).
        max_retries: Ray's ``max_restarts`` and ``max_task_retries`` per actor.
        n_jobs: how many jobs will run, when known (only sizes the default ``workers``).
        runtime_env: passed to ``ray.init`` (e.g. ``{"pip": [...]}`` or ``{"working_dir": ...}``
            so the cluster's workers can import the task functions).
    """

    name = "ray"

    def __init__(
        self,
        *,
        address: str = "auto",
        workers: int | None = None,
        threads: int | None = None,
        max_retries: int = 2,
        n_jobs: int | None = None,
        runtime_env: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(address, str) or not address.strip():
            raise ValueError(
                f"address must be 'local', 'auto', 'ray://HOST:PORT' or 'HOST:PORT'; got {address!r}."
            )
        self.address = address.strip()
        self.max_retries = _check_count(max_retries, "max_retries", 0, "a whole number >= 0")
        self._n_jobs = None if n_jobs is None else _check_count(n_jobs, "n_jobs", 0, "a whole number >= 0")
        self._requested = (workers, threads)
        self.workers: int | None = workers
        self.threads: int | None = threads
        if self.address == "local":
            self._plan(os.cpu_count() or 1)
        else:  # checked now, planned on entering (the cluster's CPUs)
            for value, name in ((workers, "workers"), (threads, "threads")):
                if value is not None:
                    _check_count(value, name, 1, "a whole number >= 1, or None for the default")
        self._runtime_env = dict(runtime_env) if runtime_env is not None else None
        self._cpus = 0.0
        self._started_ray = False
        self._active = False
        self._running = False
        self._actors: list[Any] = []
        self._actor_key: bytes | None = None
        self._actor_class: Any = None

    def _plan(self, cpus: int) -> None:
        cpus = max(1, cpus)
        n_jobs = cpus if self._n_jobs is None else self._n_jobs
        self.workers, self.threads = plan_workers(cpus, n_jobs, *self._requested)

    @property
    def active(self) -> bool:
        """Whether the engine has been entered (and not yet left)."""
        return self._active

    def describe(self) -> dict[str, Any]:
        """{"name", "workers", "threads", "address"} for batch.json."""
        return {"name": self.name, "workers": self.workers, "threads": self.threads, "address": self.address}

    def __repr__(self) -> str:
        return f"RayEngine(address={self.address!r}, workers={self.workers}, threads={self.threads})"

    @staticmethod
    def _ray() -> Any:
        try:
            import ray
        except ImportError:
            raise ImportError(_RAY_MISSING) from None
        return ray

    def __enter__(self) -> RayEngine:
        if self._active:
            raise RuntimeError("this RayEngine is already entered; use one `with` block at a time.")
        ray = self._ray()
        if not ray.is_initialized():
            options: dict[str, Any] = {"log_to_driver": False, "runtime_env": self._runtime_env}
            if self.address == "local":
                options.update(address="local", num_cpus=os.cpu_count() or 1, include_dashboard=False)
            else:
                options.update(address=self.address)
            try:
                ray.init(**options)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise ConnectionError(
                    f"cannot start or reach Ray at {self.address!r}: {_one_line(err)} "
                    "(start a cluster with `ray start --head`, or use address 'local')"
                ) from None
            self._started_ray = True
        try:
            self._cpus = float(ray.cluster_resources().get("CPU", 0.0))
            if self.address != "local" or not self._started_ray:  # "local" was planned for these cores
                self._plan(int(self._cpus))
            self._actor_class = None
        except BaseException:
            self._shutdown(ray)
            raise
        self._active = True
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._active = False
        ray = self._ray()
        self._kill_actors(ray)
        self._shutdown(ray)

    def _shutdown(self, ray: Any) -> None:
        if self._started_ray:
            self._started_ray = False
            ray.shutdown()

    def _kill_actors(self, ray: Any) -> None:
        actors, self._actors, self._actor_key = self._actors, [], None
        for actor in actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception as err:  # already gone
                log.debug("could not kill actor: %s", _one_line(err))

    def _new_actor(self, ray: Any, setup_blob: bytes) -> Any:
        cpus = float(self.threads)
        if self._cpus and self.workers * self.threads > self._cpus:  # oversubscribed on purpose: still fit
            cpus = max(0.01, round(self._cpus / self.workers, 2))
        if self._actor_class is None:
            self._actor_class = ray.remote(
                num_cpus=cpus, max_restarts=self.max_retries, max_task_retries=self.max_retries
            )(_RayWorker)
        return self._actor_class.remote(self.threads, setup_blob)

    def run(
        self, task: Task, jobs: Iterable[tuple[str, Any]], *, setup: Setup | None = None
    ) -> Iterator[JobOutcome]:
        """Run ``task(state, payload)`` for every ``(key, payload)`` of ``jobs`` on the actors.

        As :meth:`LocalEngine.run`; the actors (and their setup) are kept for later runs with the
        same setup and killed on exit.
        """
        if not self._active:
            raise RuntimeError(
                "RayEngine.run needs an entered engine: use `with RayEngine(...) as engine:` first."
            )
        if self._running:
            raise RuntimeError("this RayEngine is already running jobs; finish that run first.")
        _pickled("task", task)
        setup_blob = _pickled("setup", setup)
        return self._run(task, iter(jobs), setup_blob)

    def _run(self, task: Task, jobs: Iterator[Any], setup_blob: bytes) -> Iterator[JobOutcome]:
        ray = self._ray()
        self._running = True
        finished = False
        if self._actor_key != setup_blob:
            self._kill_actors(ray)
            self._actor_key = setup_blob
        actors = self._actors
        idle: deque[int] = deque(range(len(actors)))
        inflight: dict[Any, tuple[int, Any, int]] = {}  # ref -> (actor slot, key, bytes_in)
        exhausted = False
        try:
            while True:
                unsent: list[JobOutcome] = []
                while not exhausted and (idle or len(actors) < self.workers):
                    try:
                        raw = next(jobs)
                    except StopIteration:
                        exhausted = True
                        break
                    key, payload = _split_job(raw)
                    blob, bad = _payload_blob(key, payload)
                    if bad is not None:
                        unsent.append(bad)
                        continue
                    if not idle:
                        actors.append(self._new_actor(ray, setup_blob))
                        idle.append(len(actors) - 1)
                    slot = idle.popleft()
                    inflight[actors[slot].run.remote(task, blob)] = (slot, key, len(blob))
                yield from unsent
                if not inflight:
                    if exhausted:
                        break
                    continue
                ready, _ = ray.wait(list(inflight), num_returns=1)
                outcomes = []
                for ref in ready:
                    slot, key, bytes_in = inflight.pop(ref)
                    outcomes.append(self._result(ray, ref, slot, key, bytes_in, setup_blob))
                    idle.append(slot)
                yield from outcomes
            finished = True
        finally:
            self._running = False
            if not finished:  # abandoned: stop the work in flight
                self._kill_actors(ray)

    def _result(
        self, ray: Any, ref: Any, slot: int, key: Any, bytes_in: int, setup_blob: bytes
    ) -> JobOutcome:
        from ray.exceptions import RayError, RayTaskError

        try:
            reply = ray.get(ref)
        except RayTaskError as err:  # the job wrapper itself failed (e.g. the task cannot be imported there)
            cause = getattr(err, "cause", None)
            error = _one_line(cause if isinstance(cause, BaseException) else err)
            return JobOutcome(key, error=error, bytes_in=bytes_in)
        except RayError as err:  # the actor died (RayActorError) and Ray's retries did not save the job
            tries = self.max_retries + 1
            log.warning("Ray worker lost running job %r: %s; replacing it", key, _one_line(err))
            try:
                ray.kill(self._actors[slot], no_restart=True)
            except Exception as kill_err:
                log.debug("could not kill actor: %s", _one_line(kill_err))
            self._actors[slot] = self._new_actor(ray, setup_blob)
            return JobOutcome(
                key,
                error=f"worker lost: the Ray worker died running this job ({_one_line(err)}; "
                f"{tries} {'try' if tries == 1 else 'tries'})",
                bytes_in=bytes_in,
            )
        return _outcome(key, reply, bytes_in)
