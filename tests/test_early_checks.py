"""Bad input fails up front with one line (issue items 5 and 7), not after the work or with a traceback.

CLI cases run ``xstyle.cli.main`` in-process in an empty folder (the ``expect_cli_error`` fixture:
exit 2, exactly one ``xstyle <command>: error:`` line on stderr, no traceback, nothing written);
where the point is *when* it fails, the expensive step is replaced by one that fails the test.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import pickle
import struct
import zlib
from pathlib import Path

import pytest
import torch
from PIL import Image

from xstyle.cli import build_parser
from xstyle.images import DEFAULT_MAX_PIXELS, ImageError, load_image, save_image

PAIR = ["sample:chelsea", "sample:starry_night"]


def _must_not_run(name: str):
    def fail(*args, **kwargs):
        raise AssertionError(f"{name} ran: the bad input should have been refused before it")

    return fail


# ------------------------------------------------------------------ 5a: image formats PIL cannot write


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("x.psd", "-o/--output 'x.psd': PSD images can be read but not written; use .png or .jpg."),
        ("x.xbm", "-o/--output 'x.xbm': PIL cannot write 8-bit RGB images as XBM"),
    ],
)
def test_gan_sample_refuses_an_unwritable_image_format_before_sampling(
    expect_cli_error, monkeypatch, name, match
):
    monkeypatch.setattr("xstyle.cli.gan._gan_checkpoint", _must_not_run("loading the DCGAN"))
    expect_cli_error(["gan", "sample", "-o", name], command="gan sample", match=match)


def test_transfer_and_stylizer_apply_refuse_psd_before_any_work(expect_cli_error, monkeypatch):
    monkeypatch.setattr("xstyle.cli.transfer._run_transfer", _must_not_run("the transfer"))
    expect_cli_error(
        ["transfer", *PAIR, "-o", "out.psd"],
        command="transfer",
        match="PSD images can be read but not written",
    )
    monkeypatch.setattr("xstyle.stylizer.load_stylizer", _must_not_run("loading the stylizer"))
    expect_cli_error(
        ["stylizer", "apply", "--model", "shipped:starry_night", "sample:chelsea", "-o", "out.psd"],
        command="stylizer apply",
        match="PSD images can be read but not written",
    )


@pytest.mark.parametrize("name", ["a.png", "a.jpg", "a.JPEG", "a.bmp", "a.tif", "a.webp"])
def test_writable_formats_pass_the_check(name):
    from xstyle.images import image_write_problem

    assert image_write_problem(name) is None


@pytest.mark.parametrize(
    ("name", "match"),
    [("out.psd", "PSD images can be read but not written"), ("out.xbm", "as XBM")],
)
def test_save_image_refuses_unwritable_formats_before_writing(tmp_path, name, match):
    with pytest.raises(ImageError, match=match) as info:
        save_image(torch.rand(1, 3, 16, 16), tmp_path / name)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------- 5b: a pickle that would call os.system


class _RunsACommand:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_os_system_pickle_names_the_blocked_call(tmp_path, writer):
    from xstyle.safeload import load_weights_only

    marker, evil = tmp_path / "ran", tmp_path / "evil.pt"
    payload = {"weight": _RunsACommand(marker)}
    if writer == "torch.save":
        torch.save(payload, evil)
    else:
        evil.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(ValueError, match=r"calls or builds (posix|nt)\.system, which was not run") as info:
        load_weights_only(evil, what="checkpoint", made_by="xstyle gan train")
    assert "damaged" not in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()


def test_cli_names_the_blocked_call_of_a_checkpoint(expect_cli_error, tmp_path):
    torch.save({"weight": _RunsACommand(tmp_path / "ran")}, tmp_path / "evil.pt")
    expect_cli_error(
        ["gan", "sample", "--checkpoint", "evil.pt", "-o", "grid.png"],
        command="gan sample",
        match="system, which was not run",
    )
    assert not (tmp_path / "ran").exists()


# ------------------------------------------------------------------------------ 5c: seeds in range


def _seed_actions(parser, prog="xstyle"):
    for action in parser._actions:
        if "--seed" in action.option_strings:
            yield prog, action
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _seed_actions(sub, f"{prog} {name}")


def test_every_seed_option_is_range_checked():
    found = list(_seed_actions(build_parser()))
    assert len(found) >= 14
    for prog, action in found:
        for bad in ("12345678901234567890123", "-1", str(2**32)):
            with pytest.raises(Exception, match="from 0 to 4294967295"):
                action.type(bad)
        assert action.type("0") == 0 and action.type(str(2**32 - 1)) == 2**32 - 1, prog


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["transfer", *PAIR, "-o", "o.png"], "transfer"),
        (["gan", "sample", "-o", "g.png"], "gan sample"),
        (["explain", "gram", "--style", "sample:starry_night", "--out", "g"], "explain gram"),
        (["probe", "attributes", "--out", "p"], "probe attributes"),
    ],
)
def test_a_23_digit_seed_is_one_argparse_line_naming_seed(expect_cli_error, argv, command):
    expect_cli_error(
        [*argv, "--seed", "12345678901234567890123"], command=command, match="argument --seed: expected"
    )


def test_library_seeds_give_a_clear_value_error():
    from xstyle.rng import RandomStream
    from xstyle.transfer import TransferConfig

    for bad in (10**22, -1, 2**64):
        with pytest.raises(ValueError, match=r"seed must be an integer from 0 to 4294967295"):
            TransferConfig(seed=bad)
        with pytest.raises(ValueError, match=r"seed must be an integer from 0 to 4294967295"):
            RandomStream(bad)


# ------------------------------------------------------------------------- 5d, 5h: alpha and beta


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (["--beta", "1e308"], "beta must be at most 1e20"),
        (["--alpha", "1e25"], "alpha must be at most 1e20"),
        (["--alpha", "0", "--beta", "0"], "alpha and beta are both 0, so there is nothing to optimise"),
    ],
)
def test_transfer_refuses_weights_before_running(expect_cli_error, monkeypatch, options, match):
    monkeypatch.setattr("xstyle.cli.transfer._run_transfer", _must_not_run("the transfer"))
    expect_cli_error(["transfer", *PAIR, "-o", "o.png", *options], command="transfer", match=match)


def test_transfer_config_refuses_overflowing_or_empty_weights():
    from xstyle.transfer import TransferConfig

    with pytest.raises(ValueError, match="beta must be at most 1e20"):
        TransferConfig(beta=1e308)
    with pytest.raises(ValueError, match="nothing to optimise"):
        TransferConfig(alpha=0.0, beta=0.0)
    TransferConfig(alpha=0.0, beta=1e20)  # style only (texture-like), at the cap: fine
    TransferConfig(alpha=1.0, beta=0.0)  # content only: fine


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_optimisation_stops_at_the_first_non_finite_loss(optimizer):
    from xstyle.transfer import TransferConfig, optimise_image

    calls = []

    class Overflowing:
        beta = 1e20

        def __call__(self, x):
            calls.append(1)
            return (x.sum() * math.inf).reshape(1), None, None

    config = TransferConfig(size=16, steps=(5,), optimizer=optimizer, beta=1e20)
    with pytest.raises(FloatingPointError, match=r"loss became inf at evaluation 1 \(alpha 1, beta 1e\+20\)"):
        optimise_image(Overflowing(), torch.rand(1, 3, 16, 16), steps=5, config=config)
    assert len(calls) == 1


# ------------------------------------------------------------------- 5e: report of a photo with itself


def test_style_report_refuses_content_equal_to_style_before_the_work(expect_cli_error, monkeypatch):
    monkeypatch.setattr("xstyle.report.style.build_style_report", _must_not_run("the style report"))
    expect_cli_error(
        [
            "report",
            "style",
            "--fast",
            "--content",
            "sample:chelsea",
            "--style",
            "sample:chelsea",
            "--out",
            "r",
        ],
        command="report style",
        match="--content and --style are the same image",
    )


# ------------------------------------------------------------------ 5f: negative step counts


@pytest.mark.parametrize(
    ("argv", "command", "option"),
    [
        (
            ["explain", "gram", "--style", "sample:starry_night", "--out", "g"],
            "explain gram",
            "--lowrank-steps",
        ),
        (
            [
                "explain",
                "ablation",
                "--content",
                "sample:chelsea",
                "--style",
                "sample:starry_night",
                "--layer",
                "relu3_1",
                "--out",
                "a",
            ],
            "explain ablation",
            "--rerun-steps",
        ),
    ],
)
def test_negative_step_counts_are_refused_and_zero_means_skip(expect_cli_error, argv, command, option):
    expect_cli_error(
        [*argv, option, "-5"], command=command, match=f"argument {option}: expected a whole number >= 0"
    )
    args = build_parser().parse_args([*argv, option, "0"])  # 0: no low-rank transfers / no re-runs
    assert getattr(args, option.lstrip("-").replace("-", "_")) == 0


# ------------------------------------------------------------- 5g: an output folder that takes no files


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_stylizer_apply_checks_the_output_folder_before_stylizing(expect_cli_error, monkeypatch):
    monkeypatch.setattr("xstyle.stylizer.load_stylizer", _must_not_run("loading the stylizer"))
    expect_cli_error(
        ["stylizer", "apply", "--model", "shipped:starry_night", "sample:chelsea", "-o", "/proc/xstyle_out"],
        command="stylizer apply",
        match="-o/--output '/proc/xstyle_out' cannot be written",
    )


# ---------------------------------------------------------------- 7: very large and animated images


def _header_only_png(path: Path, width: int, height: int) -> Path:
    """A 1-bit PNG that claims ``width`` x ``height`` but holds no pixels: opening it reads only the
    header, which is all the size checks look at (a real 20000x20000 file would take seconds)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    return path


def _bomb_warnings(recwarn) -> list:
    return [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_a_100_megapixel_image_gets_xstyles_line_and_no_pil_warning(tmp_path, recwarn):
    big = _header_only_png(tmp_path / "big.png", 10_000, 10_000)  # over PIL's warning limit (89 MP)
    with pytest.raises(
        ImageError, match=r"too large \(10000x10000 = 100,000,000 px\); the limit is 50,000,000"
    ):
        load_image(big)
    assert _bomb_warnings(recwarn) == []


def test_a_100_megapixel_input_is_one_cli_line(expect_cli_error, tmp_path, recwarn):
    _header_only_png(tmp_path / "big.png", 10_000, 10_000)
    expect_cli_error(
        ["transfer", "big.png", "sample:starry_night", "-o", "o.png"],
        command="transfer",
        match="too large (10000x10000 = 100,000,000 px)",
    )
    assert _bomb_warnings(recwarn) == []


def test_an_image_over_pils_error_limit_names_xstyles_limit_only(tmp_path):
    big = _header_only_png(tmp_path / "huge.png", 20_000, 20_000)  # over 2x PIL's limit: PIL refuses
    with pytest.raises(ImageError) as info:
        load_image(big)
    message = str(info.value)
    assert f"the limit is {DEFAULT_MAX_PIXELS:,} px" in message and "400,000,000 px" in message
    assert "MAX_IMAGE_PIXELS" not in message and "\n" not in message


def test_pils_limit_is_named_when_max_pixels_was_raised_past_it(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    path = tmp_path / "small.png"
    Image.new("RGB", (20, 20)).save(path)  # 400 px: over 2x PIL's (patched) limit, under max_pixels
    with pytest.raises(ImageError, match=r"too large for PIL \(400 px.*raise PIL\.Image\.MAX_IMAGE_PIXELS"):
        load_image(path, max_pixels=1000)


def test_an_animated_gif_warns_that_it_used_its_first_frame(tmp_path, caplog):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (32, 32), c) for c in colours]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    with caplog.at_level(logging.WARNING, logger="xstyle.images"):
        image = load_image(gif)
    assert image[0, :, 0, 0].tolist() == pytest.approx([1.0, 0.0, 0.0], abs=0.02)  # frame 1: red
    records = [r for r in caplog.records if r.name == "xstyle.images"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert "used frame 1 of 3" in records[0].getMessage() and "anim.gif" in records[0].getMessage()

    caplog.clear()
    still = tmp_path / "still.gif"
    frames[0].save(still)
    with caplog.at_level(logging.WARNING, logger="xstyle.images"):
        load_image(still)
    assert [r for r in caplog.records if r.name == "xstyle.images"] == []
