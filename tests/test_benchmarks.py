"""Benchmarks that cannot rot: every benchmark has a ``--quick`` smoke mode, and the slow tier runs it.

A benchmark that stops running (an API it uses changed, a check inside it fails) fails CI here
instead of on the day someone wants its numbers. The quick runs time nothing worth quoting.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("bench_*.py"))


def test_there_are_benchmarks():
    assert len(SCRIPTS) >= 7


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_every_benchmark_has_a_quick_mode(script):
    assert '"--quick"' in script.read_text(encoding="utf-8"), f"{script.name} has no --quick smoke mode"


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_benchmark_quick_run(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(script), "--quick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    tail = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{script.name} --quick failed:\n{tail}"
    assert done.stdout.startswith("machine: "), done.stdout[:500]
