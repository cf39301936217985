"""The Ray engine: run one pure task per job on Ray actors, on a cluster or a local Ray instance.

:class:`RayEngine` runs the same tasks on Ray actors (one per worker, ``num_cpus=threads``),
each running ``setup()`` in its constructor; Ray restarts an actor that dies and retries its job
(``max_restarts``/``max_task_retries`` = ``max_retries``); an actor still lost after that makes
the job's outcome ``"worker lost: ..."`` and is replaced for the next jobs. Ray is an optional
extra (``pip install 'xstyle[ray]'``) imported only when a :class:`RayEngine` is entered.

It follows the contract of :mod:`xstyle.batch.engines` (``engine.run(task, jobs, setup=setup)``,
outcomes as :class:`~xstyle.batch.engines.JobOutcome` in completion order, one-line errors), which
re-exports :class:`RayEngine`; its worker counts come from
:func:`~xstyle.batch.engines.plan_workers`, with the cluster's CPUs for cores.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
import socket
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from xstyle.batch import _jobs
from xstyle.batch._jobs import JobOutcome, Task, _Engine, log, plan_workers

__all__ = ["RayEngine", "check_ray_address", "parse_ray_address"]

_RAY_MISSING = "Ray is not installed: pip install 'xstyle[ray]'"


def _ray_installed() -> bool:
    """Whether Ray can be imported here (found without importing it)."""
    try:
        return importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):  # a broken install, or sys.modules["ray"] = None
        return False


_ADDRESS_FORMS = "'local', 'auto', 'HOST:PORT' or 'ray://HOST:PORT'"
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
_HOST_PORT = re.compile(r"^(?:\[(?P<ipv6>[0-9A-Fa-f:.%]+)\]|(?P<host>[^:\[\]/\s]+)):(?P<port>\d{1,5})$")


def parse_ray_address(address: object) -> tuple[str, str | None, int | None]:
    """``(form, host, port)`` of a Ray address: ``("local", None, None)``, ``("auto", None, None)``,
    ``("ray", host, port)`` for ``ray://HOST:PORT`` or ``("gcs", host, port)`` for ``HOST:PORT``.

    HOST is a host name, an IPv4 address or a bracketed IPv6 address; PORT is 1 to 65535. Anything
    else raises ValueError, one line saying what is allowed. Nothing is contacted.
    """
    if not isinstance(address, str) or not address.strip():
        raise ValueError(f"address must be {_ADDRESS_FORMS}; got {address!r}.")
    text = address.strip()
    if text in ("local", "auto"):
        return text, None, None
    form, rest = ("ray", text[len("ray://") :]) if text.startswith("ray://") else ("gcs", text)
    m = _HOST_PORT.match(rest)
    host = None if m is None else (m["ipv6"] or m["host"])
    valid = m is not None and 1 <= int(m["port"]) <= 65535
    if valid and m["ipv6"]:
        try:
            ipaddress.IPv6Address(host.split("%")[0])
        except ValueError:
            valid = False
    elif valid:
        valid = bool(_HOSTNAME.match(host))
    if not valid:
        raise ValueError(
            f"address must be {_ADDRESS_FORMS} (a host name or IP address, and a port from 1 to 65535); "
            f"got {address!r}."
        )
    return form, host, int(m["port"])


def _auto_address() -> str | None:
    """The address ``ray.init(address="auto")`` would use: RAY_ADDRESS, else the cluster that
    ``ray start`` recorded on this machine (``ray_current_cluster`` in Ray's temporary folder)."""
    env = os.environ.get("RAY_ADDRESS", "").strip()
    if env and env != "auto":
        return env
    base = os.environ.get("RAY_TMPDIR") or "/tmp"
    try:
        recorded = (Path(base) / "ray" / "ray_current_cluster").read_text().strip()
    except OSError:
        return None
    return recorded or None


def _connect(host: str, port: int, timeout: float) -> str | None:
    """None if a TCP connection to ``host:port`` opens within ``timeout`` seconds, else why not
    (the name lookup is bounded too: a thread, abandoned when it takes longer)."""
    found: list = []

    def lookup() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as err:
            found.append(err)

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(timeout)
    if not found:
        return f"the name {host!r} was not resolved within {timeout:g} s"
    if isinstance(found[0], OSError):
        return f"unknown host {host!r}"
    reason = "no address"
    for family, kind, proto, _, addr in found[0]:
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(timeout)
                sock.connect(addr)
                return None
        except TimeoutError:
            reason = f"no answer within {timeout:g} s"
        except OSError as err:
            reason = (err.strerror or type(err).__name__).lower()
    return reason


def check_ray_address(address: str, *, timeout: float = 2.0, what: str = "address") -> str:
    """Check a Ray address before a batch starts: its form (:func:`parse_ray_address`), then, for a
    cluster (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``), that it answers a TCP connection within
    ``timeout`` seconds (Ray itself is not imported). Returns the address, stripped; raises ValueError
    (one line naming ``what``, e.g. ``"--ray"``) when it is malformed, unknown or unreachable."""
    try:
        form, host, port = parse_ray_address(address)
    except ValueError as err:
        raise ValueError(f"{what}: {err}") from None
    text = address.strip()
    if form == "local":
        return text
    if form == "auto":
        found = _auto_address()
        if found is None:
            raise ValueError(
                f"{what} auto: no running Ray cluster was found on this machine (none recorded by `ray "
                "start`, no RAY_ADDRESS); start one with `ray start --head`, or use local."
            )
        try:
            form, host, port = parse_ray_address(found)
        except ValueError:
            raise ValueError(f"{what} auto: the recorded cluster address {found!r} is not valid.") from None
        if form in ("local", "auto"):
            return text
    reason = _connect(host, port, timeout)
    if reason is not None:
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"  # an IPv6 address in brackets
        raise ValueError(
            f"{what} {text!r}: no Ray cluster answers at {where} ({reason}); start it (`ray start "
            "--head`), check the address, or use local."
        )
    return text


class _RayWorker:
    """A Ray actor's body: threads and setup once in the constructor, then one job per call."""

    def __init__(self, threads: int, setup_blob: bytes) -> None:
        _jobs._set_threads(threads)
        self._state, self._setup_error = _jobs._make_state(setup_blob)

    def run(self, task: Task, payload_blob: bytes) -> tuple[bytes | None, str | None, float, str]:
        return _jobs._call(task, self._state, payload_blob, setup_error=self._setup_error)


class RayEngine(_Engine):
    """Ray actors, one per worker, on a Ray cluster (or a local one started for the run).

    Args:
        address: ``"local"`` starts a Ray instance on this machine (all its cores, no dashboard)
            and shuts it down on exit; ``"auto"`` (a cluster started with ``ray start``),
            ``"ray://host:port"`` or ``"host:port"`` connect to an existing cluster (the form is
            checked at once, see :func:`parse_ray_address`; :func:`check_ray_address` also checks the
            cluster answers). When Ray is already initialised in this process, that connection is
            used and left open.
        workers, threads: actors and threads per actor; None: :func:`plan_workers` with the
            cluster's CPUs (known once entered; for ``"local"`` at once). On connecting to a
            cluster, more of either than its CPUs is refused (ValueError, one line).
        max_retries: Ray's ``max_restarts`` and ``max_task_retries`` per actor.
        n_jobs: how many jobs will run, when known (only sizes the default ``workers``).
        runtime_env: passed to ``ray.init`` (e.g. ``{"pip": [...]}`` or ``{"working_dir": ...}``
            so the cluster's workers can import the task functions).

    :meth:`run` works as :meth:`~xstyle.batch.engines.LocalEngine.run`; the actors (and their
    setup) are kept for later runs with the same setup and killed on exit.
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
        parse_ray_address(address)  # its form, before anything else
        if not _ray_installed():
            raise ImportError(_RAY_MISSING)
        self.address = address.strip()
        self.max_retries = _jobs._check_count(max_retries, "max_retries", 0, "a whole number >= 0")
        if n_jobs is not None:
            _jobs._check_count(n_jobs, "n_jobs", 0, "a whole number >= 0")
        self._n_jobs = n_jobs
        self._requested = (workers, threads)
        self.workers: int | None = workers
        self.threads: int | None = threads
        if self.address == "local":
            self._plan(os.cpu_count() or 1)
        else:  # checked now, planned on entering (the cluster's CPUs)
            for value, name in ((workers, "workers"), (threads, "threads")):
                if value is not None:
                    _jobs._check_count(value, name, 1, "a whole number >= 1, or None for the default")
        self._runtime_env = dict(runtime_env) if runtime_env is not None else None
        self._cpus = 0.0
        self._started_ray = False
        self._actors: list[Any] = []
        self._actor_key: bytes | None = None
        self._actor_class: Any = None

    def _plan(self, cpus: int) -> None:
        cpus = max(1, cpus)
        n_jobs = cpus if self._n_jobs is None else self._n_jobs
        self.workers, self.threads = plan_workers(cpus, n_jobs, *self._requested)

    def describe(self) -> dict[str, Any]:
        """{"name", "workers", "threads", "address"} for batch.json."""
        return {**super().describe(), "address": self.address}

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
        self._entering()
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
                    f"cannot start or reach Ray at {self.address!r}: {_jobs._one_line(err)} "
                    "(start a cluster with `ray start --head`, or use address 'local')"
                ) from None
            self._started_ray = True
        try:
            self._cpus = float(ray.cluster_resources().get("CPU", 0.0))
            if self.address != "local" or not self._started_ray:  # "local" was planned for these cores
                cpus = max(1, int(self._cpus))
                _jobs.check_worker_counts(*self._requested, cores=cpus, where="the Ray cluster")
                self._plan(cpus)
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
                log.debug("could not kill actor: %s", _jobs._one_line(err))

    def _new_actor(self, ray: Any, setup_blob: bytes) -> Any:
        cpus = float(self.threads)
        if self._cpus and self.workers * self.threads > self._cpus:  # oversubscribed on purpose: still fit
            cpus = max(0.01, round(self._cpus / self.workers, 2))
        if self._actor_class is None:
            self._actor_class = ray.remote(
                num_cpus=cpus, max_restarts=self.max_retries, max_task_retries=self.max_retries
            )(_RayWorker)
        return self._actor_class.remote(self.threads, setup_blob)

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
                    key, payload = _jobs._split_job(raw)
                    blob, bad = _jobs._payload_blob(key, payload)
                    if bad is not None:
                        unsent.append(bad)
                        continue
                    if not idle:
                        actors.append(self._new_actor(ray, setup_blob))
                        idle.append(len(actors) - 1)
                    slot = idle.popleft()
                    inflight[actors[slot].run.remote(task, blob)] = (slot, key, len(blob))
                yield from unsent
                if not inflight:  # the jobs ran out (every actor busy would leave jobs in flight)
                    break
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
            error = _jobs._one_line(cause if isinstance(cause, BaseException) else err)
            return JobOutcome(key, error=error, bytes_in=bytes_in)
        except RayError as err:  # the actor died (RayActorError) and Ray's retries did not save the job
            tries = self.max_retries + 1
            log.warning("Ray worker lost running job %r: %s; replacing it", key, _jobs._one_line(err))
            try:
                ray.kill(self._actors[slot], no_restart=True)
            except Exception as kill_err:
                log.debug("could not kill actor: %s", _jobs._one_line(kill_err))
            self._actors[slot] = self._new_actor(ray, setup_blob)
            return JobOutcome(
                key,
                error=f"worker lost: the Ray worker died running this job ({_jobs._one_line(err)}; "
                f"{tries} {'try' if tries == 1 else 'tries'})",
                bytes_in=bytes_in,
            )
        return _jobs._outcome(key, reply, bytes_in)
