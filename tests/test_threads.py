"""Thread defaults: the idle cores, at least one; --threads overrides; the caller's setting survives."""

from __future__ import annotations

import pytest
import torch

from xstyle import _threads
from xstyle._threads import busy_cores, configure_threads, default_threads, usable_cores
from xstyle.cli import main


@pytest.mark.parametrize(
    ("cores", "busy", "expected"), [(2, 0, 2), (2, 1, 1), (2, 2, 1), (4, 1, 3), (1, 0, 1), (16, 3, 13)]
)
def test_default_threads_are_the_idle_cores_and_at_least_one(cores, busy, expected):
    assert default_threads(cores=cores, busy=busy) == expected


def test_busy_cores_counts_cores_over_half_busy(monkeypatch):
    samples = iter(
        [
            [(0, 100), (0, 100), (0, 100)],
            [(95, 200), (10, 200), (60, 200)],  # 95 %, 10 % and 60 % busy over the interval
        ]
    )
    monkeypatch.setattr(_threads, "_cpu_times", lambda: next(samples))
    assert busy_cores(interval=0) == 2


def test_busy_cores_without_proc_stat_is_zero(monkeypatch):
    monkeypatch.setattr(_threads, "_cpu_times", lambda: [])
    assert busy_cores(interval=0) == 0


def test_busy_cores_reads_this_machine():
    assert 0 <= busy_cores(interval=0.05) <= usable_cores()


def test_configure_threads_sets_torch_and_refuses_more_than_the_cores():
    before = torch.get_num_threads()
    try:
        assert configure_threads(threads=1) == 1 and torch.get_num_threads() == 1
        with pytest.raises(ValueError, match=r"--threads must be between 1 and \d+"):
            configure_threads(threads=usable_cores() + 1)
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("argv", [["--threads", "1", "samples"], ["samples", "--threads", "1"]])
def test_cli_threads_option_before_or_after_the_command(argv, capsys, monkeypatch):
    seen = []
    monkeypatch.setattr(_threads, "default_threads", lambda **kw: pytest.fail("--threads was ignored"))
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (seen.append(n), real(n)))
    before = torch.get_num_threads()
    assert main(argv) == 0
    assert seen[0] == 1  # the command ran on one thread ...
    assert torch.get_num_threads() == before  # ... and the caller's setting came back


def test_cli_default_threads_leave_busy_cores_alone(monkeypatch):
    monkeypatch.setattr(_threads, "busy_cores", lambda **kw: usable_cores())  # every core busy
    seen = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (seen.append(n), real(n)))
    assert main(["-q", "samples"]) == 0
    assert seen[0] == 1


@pytest.mark.parametrize(("value", "match"), [("0", "expected a number > 0"), ("100000", "between 1 and")])
def test_cli_bad_threads_is_one_line_exit_2(value, match, capsys):
    assert main(["samples", "--threads", value]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("xstyle samples: error:") and match in err[0], err


def test_passive_waiting_is_set_for_the_block_and_restored(monkeypatch):
    import os

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    with _threads.passive_waiting() as here:
        assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
        assert here is False  # torch is imported in this test process: only new processes see it
    assert "OMP_WAIT_POLICY" not in os.environ
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the user's choice stands
    with _threads.passive_waiting():
        assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    monkeypatch.delenv("OMP_WAIT_POLICY")
    with _threads.passive_waiting(when=False) as here:  # a quiet machine: OpenMP's default stays
        assert "OMP_WAIT_POLICY" not in os.environ and here is False


@pytest.mark.parametrize(("busy", "policy"), [(1, "PASSIVE"), (0, "None")])
def test_a_fresh_cli_process_waits_passively_beside_a_busy_core(busy, policy):
    """In a real `xstyle` process the policy is set before torch (and OpenMP) start, and only
    when another process keeps a core busy (on a quiet machine OpenMP's default is faster)."""
    import os
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "import xstyle._threads as t\n"
        f"t.busy_cores = lambda **kw: {busy}\n"
        "seen = []\n"
        "real = t.configure_threads\n"
        "def spy(**kw):\n"
        "    seen.append(os.environ.get('OMP_WAIT_POLICY'))\n"
        "    return real(**kw)\n"
        "t.configure_threads = spy\n"
        "from xstyle.cli import main\n"
        "assert 'torch' not in sys.modules\n"
        "code = main(['-q', 'samples'])\n"
        "print(code, seen[0], os.environ.get('OMP_WAIT_POLICY'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.splitlines()[-1].split() == ["0", policy, "None"], out.stdout + out.stderr
