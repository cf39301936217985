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
tries) the job's outcome is ``"worker lost: ..."`` with the exit code (when it can be read); the
other jobs go on.
Workers that die before starting any job, three pool starts in a row (a task module that
cannot be imported in a fresh process, a broken environment), stop the run with a RuntimeError.

:class:`RayEngine` (:mod:`xstyle.batch.ray_engine`, re-exported here) runs the same tasks on
Ray actors; Ray is imported only when a :class:`RayEngine` is entered.

Worker counts come from :func:`plan_workers`: by default one worker per job up to one per core,
and the cores shared out as threads, never more workers x threads than cores. Both engines take
``n_jobs`` (when the number of jobs is known, for that default) and :class:`RayEngine` a
``runtime_env`` for ``ray.init`` (how a cluster's workers get the code), beyond the options above.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import count
from typing import Any

from xstyle.batch._jobs import (
    JobOutcome,
    Task,
    _call,
    _check_count,
    _Engine,
    _make_state,
    _one_line,
    _outcome,
    _payload_blob,
    _set_threads,
    _split_job,
    log,
    plan_workers,
)
from xstyle.batch.ray_engine import RayEngine

__all__ = ["JobOutcome", "LocalEngine", "RayEngine", "plan_workers"]

#: Jobs in flight per local worker: one running, one queued behind it so the worker never waits.
IN_FLIGHT_PER_WORKER = 2
#: Pool breaks in a row with no job started (workers dying at start-up) before a run gives up.
_MAX_BLIND_BREAKS = 3


# -- what runs in a worker -----------------------------------------------------------------------

#: State of a local worker process (one dict per process): "markers" (where started jobs are
#: reported), "setup" (the pickled setup whose result is kept), "state" and "setup_error".
_WORKER: dict[str, Any] = {}


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
    return _call(task, _WORKER["state"], payload_blob, setup_error=_WORKER["setup_error"])


# -- driver side ---------------------------------------------------------------------------------


@dataclass
class _Job:
    key: str
    blob: bytes
    crashes: int = 0  # crashes charged to this job (it was the only job running)
    token: int = -1  # id of its latest submission


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


class LocalEngine(_Engine):
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
        self._abandoned = False
        self._blind_breaks = 0  # pool breaks in a row with no job started

    def __repr__(self) -> str:
        return f"LocalEngine(workers={self.workers}, threads={self.threads}, max_retries={self.max_retries})"

    # pool lifecycle
    def _start_pool(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._markers = ctx.SimpleQueue()
        self._started = {}
        # pid -> Process of every worker seen: the pool forgets a dead worker's Process as it breaks,
        # and its exit code is read from our own reference (the pool's private dict, read by getattr)
        self._processes: dict[int, Any] = {}
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
        self._entering()
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
        process = self._processes.get(pid)
        if process is None:
            return None
        process.join(timeout=5)
        return process.exitcode

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
            self._processes.update(getattr(self._pool, "_processes", None) or {})
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
        processes = list({**self._processes, **(getattr(self._pool, "_processes", None) or {})}.values())
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
            code = _exit_text(deaths[0] if deaths else None)
            if self._blind_breaks >= _MAX_BLIND_BREAKS:
                raise RuntimeError(
                    f"the worker processes died before running any job, {self._blind_breaks} times in a row "
                    f"({code}): each must import the task's module in a fresh process (a script needs an "
                    "`if __name__ == '__main__':` guard)"
                )
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
            code = code if code is not None else (deaths[0] if len(deaths) == 1 else None)
            log.warning(
                "worker process died running job %r (%s): crash %d, %d tolerated",
                job.key,
                _exit_text(code),
                job.crashes,
                self.max_retries,
            )
            if job.crashes > self.max_retries:
                tries = f"{job.crashes} {'try' if job.crashes == 1 else 'tries'}"
                died = f"the worker process died running this job ({_exit_text(code)}; {tries})"
                error = f"worker lost: {died}"
                lost.append(JobOutcome(job.key, error=error, bytes_in=len(job.blob)))
            else:
                solo.append(job)
        self._rebuild()
        return lost

    def _rebuild(self) -> None:
        self._stop_pool(terminate=True)
        self._start_pool()
