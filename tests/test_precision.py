"""precision="auto": bfloat16 only where the hardware has bf16 units; the run records what it used."""

from __future__ import annotations

import pytest
import torch

from xstyle import _precision
from xstyle._precision import bf16_units, resolve_precision
from xstyle.transfer import TransferConfig, style_transfer


@pytest.fixture
def cpu_with(monkeypatch):
    """Pretend the CPU has the given /proc/cpuinfo flags (and no bf16 unit torch could see)."""

    def set_flags(*flags: str) -> None:
        monkeypatch.setattr(_precision, "_cpu_flags", lambda: frozenset(flags))
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
        bf16_units.cache_clear()

    yield set_flags
    bf16_units.cache_clear()


@pytest.mark.parametrize(
    ("flags", "units", "chosen"),
    [
        (("avx2", "fma"), None, "float32"),
        (("avx512f", "avx512_bf16"), "AVX-512 BF16", "bfloat16"),
        (("avx512f", "amx_tile", "amx_bf16"), "AMX", "bfloat16"),
    ],
)
def test_auto_follows_the_cpus_bf16_units(cpu_with, flags, units, chosen):
    cpu_with(*flags)
    assert bf16_units() == units
    assert resolve_precision("auto") == chosen


@pytest.mark.parametrize("explicit", ["float32", "bfloat16"])
def test_explicit_precision_is_kept_whatever_the_cpu(cpu_with, explicit):
    cpu_with("amx_bf16")
    assert resolve_precision(explicit) == explicit
    cpu_with()
    assert resolve_precision(explicit) == explicit


def test_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"precision must be one of \('auto', 'float32', 'bfloat16'\)"):
        resolve_precision("fp16")
    with pytest.raises(ValueError, match="precision must be one of"):
        TransferConfig(precision="half")


def test_library_default_is_float32_and_the_run_records_what_auto_chose(tiny_images, caffe_vgg):
    assert TransferConfig().precision == "float32"
    content, style = tiny_images
    config = TransferConfig(size=32, steps=(2,), optimizer="adam", precision="auto")
    result = style_transfer(content, style, config=config, model=caffe_vgg)
    assert result.meta["precision"] == resolve_precision("auto")
    assert result.to_dict()["meta"]["precision"] == result.meta["precision"]
    plain = style_transfer(
        content, style, config=TransferConfig(size=32, steps=(2,), optimizer="adam"), model=caffe_vgg
    )
    assert plain.meta["precision"] == "float32"


def test_cli_default_is_auto():
    from xstyle.cli._main import build_parser

    args = build_parser().parse_args(["transfer", "sample:chelsea", "sample:starry_night", "-o", "x.png"])
    assert args.precision == "auto"


def test_other_devices_stay_float32_unless_asked(cpu_with):
    cpu_with("amx_bf16")
    assert resolve_precision("auto", device="mps") == "float32"
    assert resolve_precision("bfloat16", device="mps") == "bfloat16"
    if not torch.cuda.is_available():
        assert bf16_units(device="cuda") is None
