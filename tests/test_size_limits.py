"""Size-like settings the machine cannot hold end in one line before any allocation (issue item 4),
and an allocation that fails anyway ends in one line naming the options to make smaller."""

from __future__ import annotations

import re
import resource
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from xstyle import _limits
from xstyle.cli import build_parser, main
from xstyle.gan.prior import MAX_COMPONENTS, LatentPrior, draw_latents

GB = 10**9
AVAILABLE = 16 * GB  # what every test here pretends the machine has, so results do not vary
C, S = "sample:chelsea", "sample:starry_night"
DCGAN_RELEASE = Path(__file__).resolve().parents[1] / "xstyle" / "assets" / "gan" / "dcgan_mnist.pt"
FAST_S = 5.0  # a refusal before any work takes well under a second (imports are warm)


@pytest.fixture(autouse=True)
def _fixed_memory(monkeypatch):
    monkeypatch.setattr(_limits, "available_memory", lambda: AVAILABLE)


@pytest.fixture(scope="module", autouse=True)
def _warm_imports():
    build_parser()  # imports torch and the modules the parser reads defaults from


@contextmanager
def _address_space_cap(headroom: int = 4 << 30):
    """Cap the address space while a case runs, so a check that is missing fails in-process (a
    MemoryError) instead of filling the shared machine's memory."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = None
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            used = int(line.split()[1]) * 1024
    if used is None:  # pragma: no cover - not Linux
        yield
        return
    cap = used + headroom if soft == resource.RLIM_INFINITY else min(soft, used + headroom)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _run(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    with _address_space_cap():
        code = main(["-q", *argv])
    seconds = time.perf_counter() - start
    err = capsys.readouterr().err
    return code, err, seconds


CASES = [
    pytest.param(["transfer", C, S, "-o", "o.png", "--size", "100000"], "--size 100000", id="transfer-size"),
    pytest.param(["demo", "--size", "100000", "--out", "demo"], "--size 100000", id="demo-size"),
    pytest.param(
        ["explain", "attribution", "--size", "100000", "--out", "attr"],
        "--size 100000",
        id="attribution-size",
    ),
    pytest.param(["explain", "gram", "--style", S, "--size", "100000", "--out", "gram"], "--size", id="gram"),
    pytest.param(
        ["stylizer", "apply", "--model", "shipped:starry_night", C, "-o", "o.png", "--size", "100000"],
        "--size 100000",
        id="stylizer-apply-size",
    ),
    pytest.param(["gan", "sample", "-n", "100000000", "-o", "grid.png"], "-n 100000000", id="gan-sample-n"),
    pytest.param(
        ["gan", "eval", "--n-samples", "1000000000", "--json", "q.json"],
        "--n-samples",
        id="gan-eval-n-samples",
    ),
    pytest.param(
        ["gan", "train", "--prior", "mixture:1000000000:4:1", "--out", "run", "--epochs", "1"],
        f"at most {MAX_COMPONENTS}",
        id="gan-train-prior",
    ),
    pytest.param(
        ["explain", "gan-attribution", "--digits", "100000", "--out", "ga"],
        "--digits 100000",
        id="gan-attr-digits",
    ),
    pytest.param(
        ["explain", "gan-style", "--n-z", "100000000", "--out", "gs"], "--n-z 100000000", id="gan-style-n-z"
    ),
    pytest.param(
        ["stylizer", "train", "--style", S, "--out", "run", "--residual-blocks", "100000"],
        "--residual-blocks",
        id="stylizer-train-residual-blocks",
    ),
]


@pytest.mark.parametrize(("argv", "names"), CASES)
def test_huge_sizes_are_refused_in_one_line_before_any_work(argv, names, tmp_path, monkeypatch, capsys):
    code, err, seconds = _run(argv, tmp_path, monkeypatch, capsys)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("xstyle ") and ": error: " in lines[0], err
    assert names in lines[0]
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written where the outputs would go
    assert seconds < FAST_S, f"took {seconds:.1f} s: the check ran after real work"


def test_memory_refusals_say_the_estimate_the_limit_and_what_fits(tmp_path, monkeypatch, capsys):
    code, err, _ = _run(["gan", "sample", "-n", "100000000", "-o", "g.png"], tmp_path, monkeypatch, capsys)
    assert code == 2
    line = err.strip()
    found = re.search(
        r"would need about [\d.,]+ [TPG]B .*; this machine has 16 GB of memory; use -n (\d+)", line
    )
    assert found, line
    fits = int(found.group(1))
    assert 0 < fits < 100000000
    assert _limits.generate_bytes(fits) <= AVAILABLE  # the suggestion itself fits


def test_options_sharing_memory_blame_the_one_that_can_fix_it(tmp_path, monkeypatch, capsys):
    argv = ["stylizer", "train", "--style", S, "--out", "run", "--crop-size", "20000", "--batch-size", "2"]
    code, err, _ = _run(argv, tmp_path, monkeypatch, capsys)
    assert code == 2 and "--crop-size 20000" in err and "use --crop-size" in err, err


def test_a_checkpoint_asking_for_a_huge_prior_is_refused(tmp_path, monkeypatch, capsys):
    state = torch.load(DCGAN_RELEASE, map_location="cpu", weights_only=True)
    state["config"]["prior"] = "mixture:1000000000:4:1"
    ckpt = tmp_path / "huge_prior.pt"
    torch.save(state, ckpt)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    start = time.perf_counter()
    with _address_space_cap():
        code = main(["-q", "gan", "sample", "--checkpoint", str(ckpt), "-n", "4", "-o", "grid.png"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("xstyle gan sample: error:"), err
    assert f"at most {MAX_COMPONENTS}" in lines[0] and "Traceback" not in err
    assert list(out.iterdir()) == []
    assert time.perf_counter() - start < FAST_S


def test_the_prior_bounds_its_components_wherever_it_is_built():
    with pytest.raises(ValueError, match=r"'mixture:1001:4:1'.*at most 1000") as info:
        LatentPrior.parse("mixture:1001:4:1")
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="at most 1000"):
        LatentPrior(components=10**9, radius=4.0)
    assert LatentPrior.parse(f"mixture:{MAX_COMPONENTS}:4:1").components == MAX_COMPONENTS


def test_library_functions_check_their_sizes_before_allocating():
    from xstyle.explain.gan.prior import prior_components
    from xstyle.gan.dcgan import Generator
    from xstyle.gan.metrics import evaluate_generator
    from xstyle.images import resize_image
    from xstyle.transfer import TransferConfig, style_transfer

    config = TransferConfig(size=100000)  # a config only describes a run: building one is free
    generator = Generator()
    with _address_space_cap():
        with pytest.raises(ValueError, match=r"^size 100000 would need about .* use size \d+ or less\.$"):
            style_transfer(C, S, config=config)  # refused before the images are resized to it
        with pytest.raises(ValueError, match=r"^n 100000000000 would need"):
            draw_latents(generator, 10**11)
        with pytest.raises(ValueError, match=r"^n_samples 1000000000 would need"):
            evaluate_generator(generator, None, None, n_samples=10**9)  # before the other arguments
        with pytest.raises(ValueError, match=r"^n_per_component 1000000000 would need"):
            prior_components(generator, None, n_per_component=10**9)
        with pytest.raises(ValueError, match=r"^size 1000000 would need .*resized image"):
            resize_image(torch.rand(1, 3, 20, 30), 10**6)


def test_check_memory_compares_the_estimate_with_the_available_memory(monkeypatch):
    need = lambda v: v * GB  # noqa: E731
    _limits.check_memory("--n", 16, need, what="things")  # fits exactly
    with pytest.raises(ValueError) as info:
        _limits.check_memory("--n", 100, need, what="things")
    assert str(info.value) == (
        "--n 100 would need about 100 GB for things; this machine has 16 GB of memory; use --n 16 or less."
    )
    monkeypatch.setattr(_limits, "available_memory", lambda: 2 * GB)
    with pytest.raises(ValueError, match=r"this machine has 2\.0 GB of memory; use --n 2 or less"):
        _limits.check_memory("--n", 3, need, what="things")
    with pytest.raises(ValueError, match="free some memory"):  # not even 1 fits
        _limits.check_memory("--n", 3, lambda v: 3 * GB + v, what="things")
    with pytest.raises(ValueError, match=r"^--k must be at most 64 \(why\); got 65\.$"):
        _limits.check_maximum("--k", 65, 64, why="why")
    assert _limits.largest_fitting(lambda v: v * v, 10**6, 2500) == 50
    assert _limits._round_down(2290) == 2200 and _limits._round_down(57) == 57
    assert _limits.format_bytes(41e12) == "41 TB" and _limits.format_bytes(1.5e9) == "1.5 GB"


def test_available_memory_takes_the_tightest_limit_and_has_a_fallback(monkeypatch):
    monkeypatch.undo()  # the real function, with its sources patched below
    for name in ("_meminfo_total", "_sysconf_total", "_cgroup_limit", "_address_space_headroom"):
        monkeypatch.setattr(_limits, name, lambda: None)
    assert _limits.available_memory() == _limits.FALLBACK_AVAILABLE
    monkeypatch.setattr(_limits, "_sysconf_total", lambda: 20 * GB)
    assert _limits.available_memory() == 20 * GB
    monkeypatch.setattr(_limits, "_meminfo_total", lambda: 21 * GB)  # preferred to sysconf
    assert _limits.available_memory() == 21 * GB
    monkeypatch.setattr(_limits, "_cgroup_limit", lambda: 3 * GB)
    assert _limits.available_memory() == 3 * GB
    monkeypatch.setattr(_limits, "_address_space_headroom", lambda: 1 * GB)
    assert _limits.available_memory() == 1 * GB


def test_available_memory_reads_this_machine():
    assert _limits._meminfo_total() is None or _limits._meminfo_total() > 0
    with _address_space_cap(headroom=2 << 30):
        assert 0 < _limits._address_space_headroom() <= 2 << 30


def _raise(exc):
    def command(args):
        raise exc

    return command


@pytest.mark.parametrize(
    "exc",
    [
        MemoryError(),
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: "
            "you tried to allocate 400000000000 bytes. Error code 12 (Cannot allocate memory)"
        ),
        *(
            [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")]
            if hasattr(torch, "OutOfMemoryError")
            else []
        ),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_allocation_failure_anywhere_is_one_line_naming_the_size_options(
    exc, tmp_path, monkeypatch, capsys
):
    import xstyle.cli.gan
    import xstyle.cli.transfer as cli

    monkeypatch.setattr(xstyle.cli.gan, "_cmd_gan_sample", _raise(exc))
    code, err, _ = _run(["gan", "sample", "-n", "64", "-o", "g.png"], tmp_path, monkeypatch, capsys)
    lines = err.strip().splitlines()
    assert code == 1, err
    assert len(lines) == 1 and lines[0].startswith("xstyle gan sample: error: out of memory ("), err
    assert lines[0].endswith("; make -n smaller.") and "Traceback" not in err

    monkeypatch.setattr(cli, "_cmd_transfer", _raise(exc))
    code, err, _ = _run(["transfer", C, S, "-o", "o.png"], tmp_path, monkeypatch, capsys)
    assert code == 1 and err.strip().endswith("; make --size smaller."), err

    monkeypatch.setattr(cli, "_cmd_samples", _raise(exc))  # no size options: what else helps
    code, err, _ = _run(["samples"], tmp_path, monkeypatch, capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "free some memory" in err, err


def test_other_runtime_errors_are_not_taken_for_out_of_memory(tmp_path, monkeypatch):
    import xstyle.cli.transfer as cli

    monkeypatch.setattr(cli, "_cmd_samples", _raise(RuntimeError("a bug")))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["samples"])
