"""Batch engines: worker planning, the local process pool and the Ray actors, on tiny pure-Python tasks.

The task functions live in this module, at top level: spawned workers import it (``tests/`` is on
the ``sys.path`` they inherit) and Ray's workers find it through the runtime environment below.
"""

from __future__ import annotations

import logging
import os
import pickle
import random
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from xstyle.batch.engines import JobOutcome, LocalEngine, RayEngine, plan_workers

TESTS = Path(__file__).resolve().parent


# -- tasks (run in the workers) ------------------------------------------------------------------


def make_state() -> dict:
    """A worker's setup: which process ran it, and an id unique to this call."""
    return {"pid": os.getpid(), "id": uuid.uuid4().hex}


def failing_setup() -> dict:
    raise RuntimeError("no weights here\nsecond line")


def square(state, payload):
    time.sleep(payload.get("sleep", 0.0))
    return payload["x"] ** 2


def who(state, payload):
    time.sleep(0.05)
    return {"x": payload["x"], "pid": os.getpid(), "setup_id": state["id"], "setup_pid": state["pid"]}


def maybe_fail(state, payload):
    if payload["x"] == 3:
        raise ValueError("x = 3 is not allowed\nsecond line of the message")
    return payload["x"]


def crash(state, payload):
    """Kill the worker process when asked: on the first try only (a marker file remembers), or always."""
    time.sleep(payload.get("sleep", 0.1))
    if payload.get("die"):
        marker = payload.get("marker")
        if marker is None or not os.path.exists(marker):
            if marker is not None:
                Path(marker).write_text("died once")
            os._exit(3)
    return payload["x"] * 10


def threads_seen(state, payload):
    import torch

    return torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS"), os.environ.get("MKL_NUM_THREADS")


def seeded(state, payload):
    rng = random.Random(payload["seed"])
    return [rng.random() for _ in range(4)]


def values(outcomes) -> dict:
    """{key: value} of successful outcomes (fails on any error)."""
    outcomes = list(outcomes)
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes if o.error]
    return {o.key: o.value for o in outcomes}


# -- planning ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cores", "n_jobs", "workers", "threads", "expected", "warns"),
    [
        (8, 100, None, None, (8, 1), False),
        (8, 3, None, None, (3, 2), False),
        (8, 1, None, None, (1, 8), False),
        (8, 0, None, None, (1, 8), False),
        (2, 6, None, None, (2, 1), False),
        (8, 100, 2, None, (2, 4), False),
        (8, 100, 3, None, (3, 2), False),
        (8, 100, None, 4, (2, 4), False),
        (8, 1, None, 4, (1, 4), False),
        (8, 100, 2, 2, (2, 2), False),
        (8, 100, 3, 3, (3, 3), True),
        (2, 10, 4, None, (4, 1), True),
        (2, 10, None, 3, (1, 3), True),
    ],
)
def test_plan_workers(cores, n_jobs, workers, threads, expected, warns, caplog):
    with caplog.at_level(logging.WARNING, logger="xstyle.batch.engines"):
        assert plan_workers(cores, n_jobs, workers, threads) == expected
    warned = [r for r in caplog.records if r.name == "xstyle.batch.engines"]
    assert bool(warned) == warns
    if warns:
        assert "compete for the cores" in warned[0].getMessage()


def test_default_plans_never_oversubscribe():
    for cores in range(1, 17):
        for n_jobs in range(21):
            for given in ((None, None), (None, 1), (1, None)):
                w, t = plan_workers(cores, n_jobs, *given)
                assert w >= 1 and t >= 1 and w * t <= cores


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((8, 10, 0, None), "workers"),
        ((8, 10, -2, None), "workers"),
        ((8, 10, True, None), "workers"),
        ((8, 10, 2.0, None), "workers"),
        ((8, 10, "2", None), "workers"),
        ((8, 10, None, 0), "threads"),
        ((8, 10, None, False), "threads"),
        ((0, 10, None, None), "cores"),
        ((8, -1, None, None), "n_jobs"),
    ],
)
def test_plan_workers_rejects_bad_counts(args, name):
    with pytest.raises(ValueError) as info:
        plan_workers(*args)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{name} must be") and "got" in message


def test_engine_options_are_checked():
    with pytest.raises(ValueError, match="max_retries must be"):
        LocalEngine(max_retries=-1)
    with pytest.raises(ValueError, match="workers must be"):
        LocalEngine(workers=0)
    with pytest.raises(ValueError, match="threads must be"):
        RayEngine(address="auto", threads=0)
    with pytest.raises(ValueError, match="address must be"):
        RayEngine(address="")
    with pytest.raises(TypeError):
        LocalEngine(2)  # keyword-only


def test_ray_engine_bounds_workers_and_threads_by_the_clusters_cpus(monkeypatch):
    """Counts for a cluster are checked on connecting (its CPUs are known then), before any actor."""
    import importlib.machinery
    import types

    fake = types.ModuleType("ray")
    fake.__spec__ = importlib.machinery.ModuleSpec("ray", None)
    fake.is_initialized, fake.cluster_resources = (lambda: True), (lambda: {"CPU": 4.0})
    monkeypatch.setitem(sys.modules, "ray", fake)  # a connection already open in this process
    with pytest.raises(
        ValueError, match=r"workers 10 asks for more worker processes .* the Ray cluster's 4 cores"
    ):
        RayEngine(address="127.0.0.1:6379", workers=10).__enter__()
    with pytest.raises(
        ValueError, match="threads 8 asks for more threads in one worker than the Ray cluster's"
    ):
        RayEngine(address="auto", threads=8).__enter__()
    engine = RayEngine(address="auto", workers=2, threads=2).__enter__()  # 2 x 2 on 4 CPUs: fits
    assert (engine.workers, engine.threads) == (2, 2)
    engine.__exit__(None, None, None)


@pytest.mark.parametrize("address", ["nonsense", "127.0.0.1:0", "ray://:10001", "http://head:6379", "[zz]:1"])
def test_ray_addresses_are_checked_for_their_form(address):
    with pytest.raises(ValueError, match="address must be 'local', 'auto', 'HOST:PORT' or 'ray://HOST:PORT'"):
        RayEngine(address=address)


@pytest.mark.slow
def test_ray_is_imported_only_when_a_ray_engine_is_entered():
    code = (
        "import sys\n"
        "from xstyle.batch import RayEngine, run_batch\n"
        "RayEngine(address='auto', workers=1, threads=1)\n"
        "assert 'ray' not in sys.modules, 'ray imported'\n"
    )
    run = [sys.executable, "-c", code]
    done = subprocess.run(run, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-1000:]


# -- the local engine ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local2():
    """One pool of 2 single-threaded workers, shared by the tests (each rebuilds it if it breaks it)."""
    with LocalEngine(workers=2, threads=1) as engine:
        yield engine


def test_local_values_and_outcome_fields(local2):
    jobs = [(f"j{x}", {"x": x, "sleep": 0.02}) for x in range(6)]
    outcomes = list(local2.run(square, jobs))
    assert values(outcomes) == {f"j{x}": x * x for x in range(6)}
    host = socket.gethostname()
    for o in outcomes:
        assert isinstance(o, JobOutcome)
        payload = dict(jobs)[o.key]
        assert o.bytes_in == len(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        assert o.bytes_out == len(pickle.dumps(o.value, protocol=pickle.HIGHEST_PROTOCOL))
        assert o.seconds >= 0.02 and o.worker.startswith(f"{host}:")
        assert int(o.worker.rsplit(":", 1)[1]) != os.getpid()
    assert local2.describe() == {"name": "local", "workers": 2, "threads": 1}
    assert local2.active


def test_local_setup_runs_once_per_worker(local2):
    outcomes = list(local2.run(who, [(f"j{x}", {"x": x}) for x in range(6)], setup=make_state))
    got = values(outcomes)
    assert sorted(v["x"] for v in got.values()) == list(range(6))
    pids = {v["pid"] for v in got.values()}
    setups = {v["setup_id"] for v in got.values()}
    assert 1 <= len(pids) <= 2
    assert len(setups) == len(pids)  # once per worker, not once per job
    assert all(v["setup_pid"] == v["pid"] for v in got.values())
    again = values(local2.run(who, [("k", {"x": 9})], setup=make_state))
    assert again["k"]["setup_id"] in setups  # kept in the worker for the next run with the same setup


def test_local_task_exception_is_a_one_line_error_and_the_others_complete(local2):
    outcomes = {o.key: o for o in local2.run(maybe_fail, [(f"j{x}", {"x": x}) for x in range(6)])}
    assert outcomes["j3"].error == "ValueError: x = 3 is not allowed"
    assert outcomes["j3"].value is None and outcomes["j3"].worker
    assert {k: o.value for k, o in outcomes.items() if k != "j3"} == {f"j{x}": x for x in range(6) if x != 3}
    assert all(o.error is None for k, o in outcomes.items() if k != "j3")


def test_local_setup_failure_fails_each_job_with_one_line(local2):
    outcomes = list(local2.run(square, [("a", {"x": 1}), ("b", {"x": 2})], setup=failing_setup))
    assert {o.error for o in outcomes} == {"setup failed: RuntimeError: no weights here"}


@pytest.mark.slow
def test_local_worker_killed_once_is_retried(local2, tmp_path, caplog):
    marker = tmp_path / "died"
    jobs = [(f"j{x}", {"x": x, "die": x == 2, "marker": str(marker), "sleep": 0.2}) for x in range(6)]
    with caplog.at_level(logging.WARNING, logger="xstyle.batch.engines"):
        got = values(list(local2.run(crash, jobs)))
    assert marker.exists()  # it did die once
    assert got == {f"j{x}": x * 10 for x in range(6)}
    assert any("died" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_local_job_that_always_kills_its_worker_is_lost_and_the_others_succeed(local2):
    assert local2.max_retries == 1
    jobs = [(f"j{x}", {"x": x, "die": x == 1, "sleep": 0.2}) for x in range(6)]
    outcomes = {o.key: o for o in local2.run(crash, jobs)}
    lost = outcomes.pop("j1")
    assert lost.value is None and lost.error.startswith("worker lost: ")
    # the exit code is read from the worker's Process object, best effort (it is sometimes reaped
    # before the engine looks): the loss after two tries is what must hold
    assert "2 tries" in lost.error and "\n" not in lost.error
    assert "exit code 3" in lost.error or "exit code unknown" in lost.error
    assert values(outcomes.values()) == {f"j{x}": x * 10 for x in range(6) if x != 1}


def test_local_jobs_are_consumed_lazily(local2):
    pulled = 0

    def jobs():
        nonlocal pulled
        for x in range(12):
            pulled += 1
            yield f"j{x}", {"x": x, "sleep": 0.05}

    seen = 0
    for _ in local2.run(square, jobs()):
        seen += 1
        assert pulled - seen <= 2 * local2.workers  # never more than two per worker in flight
    assert seen == pulled == 12


def test_local_workers_use_the_planned_threads():
    with LocalEngine(workers=1, threads=2) as engine:
        (outcome,) = engine.run(threads_seen, [("t", {})])
    assert outcome.value == (2, "2", "2")


def test_local_engine_misuse_is_explained(local2):
    engine = LocalEngine(workers=1)
    with pytest.raises(RuntimeError, match="with LocalEngine"):
        engine.run(square, [("a", {"x": 1})])
    with pytest.raises(TypeError, match="task must be picklable"):
        local2.run(lambda state, payload: 1, [("a", {})])
    with pytest.raises(TypeError, match=r"\(key, payload\) pairs"):
        list(local2.run(square, [("a", {"x": 1}, "extra")]))
    (bad,) = local2.run(square, [("a", {"x": lambda: 1})])
    assert bad.error.startswith("the payload cannot be pickled: ")


@pytest.mark.slow
def test_local_abandoned_run_stops_its_workers_at_exit():
    t0 = time.perf_counter()
    with LocalEngine(workers=1, threads=1) as engine:
        run = engine.run(square, [("fast", {"x": 1}), ("slow", {"x": 2, "sleep": 60}), ("c", {"x": 3})])
        assert next(run).key == "fast"
        run.close()  # e.g. the consumer raised
    assert time.perf_counter() - t0 < 30


# -- the Ray engine ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_engine():
    """ONE local Ray instance (2 actors) for every Ray test; its workers import this module."""
    pytest.importorskip("ray")
    path = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH", "")) if p)
    engine = RayEngine(address="local", workers=2, threads=1, runtime_env={"env_vars": {"PYTHONPATH": path}})
    with engine:
        yield engine


@pytest.mark.slow
def test_ray_gives_the_values_of_the_local_engine(ray_engine, local2):
    jobs = [(f"s{seed}", {"seed": seed}) for seed in range(6)]
    on_ray = list(ray_engine.run(seeded, jobs, setup=make_state))
    assert values(on_ray) == values(local2.run(seeded, jobs, setup=make_state))
    for o in on_ray:
        assert o.bytes_in == len(pickle.dumps(dict(jobs)[o.key], protocol=pickle.HIGHEST_PROTOCOL))
        assert o.bytes_out == len(pickle.dumps(o.value, protocol=pickle.HIGHEST_PROTOCOL)) and o.worker
    assert ray_engine.describe() == {"name": "ray", "workers": 2, "threads": 1, "address": "local"}


@pytest.mark.slow
def test_ray_setup_runs_once_per_actor(ray_engine):
    got = values(list(ray_engine.run(who, [(f"j{x}", {"x": x}) for x in range(6)], setup=make_state)))
    pids = {v["pid"] for v in got.values()}
    setups = {v["setup_id"] for v in got.values()}
    assert 1 <= len(pids) <= 2 and len(setups) == len(pids)
    assert all(v["setup_pid"] == v["pid"] for v in got.values())


@pytest.mark.slow
def test_ray_task_exception_is_a_one_line_error(ray_engine):
    outcomes = {
        o.key: o
        for o in ray_engine.run(maybe_fail, [(f"j{x}", {"x": x}) for x in range(5)], setup=make_state)
    }
    assert outcomes["j3"].error == "ValueError: x = 3 is not allowed"
    assert all(o.error is None and o.value == int(k[1:]) for k, o in outcomes.items() if k != "j3")


@pytest.mark.slow
def test_ray_actor_killed_mid_task_is_retried(ray_engine, tmp_path):
    marker = tmp_path / "died"
    jobs = [(f"j{x}", {"x": x, "die": x == 1, "marker": str(marker)}) for x in range(4)]
    got = values(list(ray_engine.run(crash, jobs, setup=make_state)))
    assert marker.exists()
    assert got == {f"j{x}": x * 10 for x in range(4)}
