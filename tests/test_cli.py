import json
from pathlib import Path

import pytest

from xstyle import __version__
from xstyle.cli import main

TINY = ["--size", "32", "--steps", "3"]


def _run(capsys, *argv):
    code = main(["-q", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "transfer" in out and "samples" in out and "demo" in out


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: xstyle" in capsys.readouterr().out


def test_samples_lists_photos_and_paintings(capsys):
    code, out, _ = _run(capsys, "samples")
    assert code == 0
    assert "sample:astronaut" in out and "sample:starry_night" in out
    code, out, _ = _run(capsys, "samples", "--kind", "painting")
    assert "sample:astronaut" not in out and "sample:great_wave" in out


def test_transfer_writes_image_and_json(tmp_path, capsys):
    out = tmp_path / "out" / "result.png"
    code, _stdout, err = _run(
        capsys, "transfer", "sample:chelsea", "sample:starry_night", "-o", str(out), *TINY
    )
    assert code == 0, err
    from xstyle.images import load_image

    assert load_image(out).shape[-1] == 32
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["config"]["size"] == 32 and data["content"] == "sample:chelsea"
    assert len(data["history"]) == 3 and data["final"]["total"] > 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["result.json", "result.png"]


def test_transfer_warm_starts_from_a_shipped_stylizer(tmp_path, capsys):
    """``--start stylizer:NAME``: the first evaluation scores the stylizer's output, not the photo."""
    runs = {}
    for name, extra in (("photo", []), ("warm", ["--start", "stylizer:starry_night"])):
        out = tmp_path / f"{name}.png"
        code, _, err = _run(
            capsys,
            "transfer",
            "sample:chelsea",
            "sample:starry_night",
            "-o",
            str(out),
            "--size",
            "64",
            "--steps",
            "2",
            *extra,
        )
        assert code == 0, err
        runs[name] = json.loads(out.with_suffix(".json").read_text())
    assert runs["photo"]["meta"]["start"] == "content" and runs["warm"]["meta"]["start"] == "image"
    assert "start" not in runs["photo"] and runs["warm"]["start"] == "stylizer:starry_night"
    # at 64 px the stylizer's output already carries much of the painting's style (measured: 0.53x
    # the photo's style loss; at 32 px, below what it was trained for, only 0.88x)
    assert runs["warm"]["history"][0]["style"] < 0.7 * runs["photo"]["history"][0]["style"]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["transfer", "missing.png", "sample:starry_night", "-o", "o.png"], "does not exist"),
        (["transfer", "notimage.png", "sample:starry_night", "-o", "o.png"], "not an image"),
        (["transfer", "sample:chelsea", "sample:stary_night", "-o", "o.png"], "starry_night"),
        (
            ["transfer", "sample:chelsea", "sample:great_wave", "-o", "o.png", "--style-layers", "relu9_1"],
            "Did you mean",
        ),
        (["transfer", "sample:chelsea", "sample:great_wave", "-o", "o.txt"], "image suffix"),
        (
            ["transfer", "sample:chelsea", "sample:great_wave", "-o", "o.png", "--weights", "nope.pt"],
            "neither a known name",
        ),
        (["transfer", "sample:chelsea", "sample:great_wave", "-o", "o.png", "--size", "8"], "at least 16"),
        (
            ["transfer", "sample:chelsea", "sample:great_wave", "-o", "o.png", "--start", "nope.png"],
            "does not exist",
        ),
        (
            ["transfer", "sample:chelsea", "sample:great_wave", "-o", "o.png", "--start", "stylizer:nope"],
            "takes a shipped stylizer (great_wave, starry_night)",
        ),
        (
            [
                "transfer",
                "sample:chelsea",
                "sample:great_wave",
                "-o",
                "o.png",
                "--size",
                "64",
                "--steps",
                "1,1,1,1",
            ],
            "pyramid levels",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(expect_cli_error, argv, match):
    expect_cli_error(argv, command="transfer", match=match, files={"notimage.png": "hello, not a picture"})


@pytest.mark.parametrize(
    "bad",
    [
        ["--size", "abc"],
        ["--beta", "-1"],
        ["--steps", "x,y"],
        ["--steps", "0"],
        ["--steps", "0,0"],
        ["--optimizer", "sgd"],
    ],
)
def test_bad_numbers_and_choices_exit_2(tmp_path, capsys, bad):
    code, _, err = _run(
        capsys, "transfer", "sample:chelsea", "sample:great_wave", "-o", str(tmp_path / "o.png"), *bad
    )
    assert code == 2
    assert "error:" in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_demo_writes_a_complete_folder_atomically(tmp_path, capsys):
    from xstyle.atomic import atomic_dir

    out = tmp_path / "demo"
    with atomic_dir(out) as earlier:  # an earlier xstyle run's folder
        (earlier / "stale.txt").write_text("from an older run")
    code, _, err = _run(capsys, "demo", "--out", str(out), "--content", "sample:coffee", *TINY)
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".xstyle-output",
        "content.png",
        "losses.png",
        "style.png",
        "stylised.json",
        "stylised.png",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]  # no temp or backup folder left


def test_failed_demo_keeps_the_previous_report(tmp_path, capsys):
    from xstyle.atomic import atomic_dir

    out = tmp_path / "demo"
    with atomic_dir(out) as earlier:
        (earlier / "stylised.png").write_text("previous")
    code, _, err = _run(capsys, "demo", "--out", str(out), "--content", "missing.jpg", *TINY)
    assert code == 2 and "does not exist" in err
    assert (out / "stylised.png").read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def test_console_script_runs_and_exits_2_on_bad_input(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("xstyle")
    proc = subprocess.run(
        [str(exe), "transfer", "nothing.png", "sample:great_wave", "-o", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "xstyle transfer: error: image file 'nothing.png' does not exist."


FOLDER_COMMANDS = [
    ["demo"],
    ["explain", "attribution"],
    ["explain", "gan-attribution"],
    ["explain", "gram", "--style", "sample:starry_night"],
    [
        "explain",
        "ablation",
        "--content",
        "sample:chelsea",
        "--style",
        "sample:starry_night",
        "--layer",
        "relu3_1",
    ],
    ["explain", "tradeoff", "--content", "sample:chelsea", "--style", "sample:starry_night"],
    ["explain", "latent"],
    ["probe", "attributes"],
    ["probe", "directions"],
    ["probe", "traverse"],
    ["probe", "dynamics", "--run-dir", "runs"],
    ["stylizer", "explain", "--model", "shipped:starry_night", "--content", "sample:chelsea"],
    ["report", "gan"],
]


@pytest.mark.parametrize("argv", FOLDER_COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_every_folder_command_refuses_to_replace_a_folder_it_did_not_write(argv, expect_cli_error, tmp_path):
    # each of these replaces --out as a whole: someone else's files must never be deleted
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.txt").write_text("keep me")
    command = " ".join(argv[:2]) if argv[0] in ("explain", "probe", "stylizer", "report") else argv[0]
    expect_cli_error([*argv, "--out", "notes"], command=command, match="not written by xstyle")
    assert (notes / "thesis.txt").read_text() == "keep me"
    assert [p.name for p in notes.iterdir()] == ["thesis.txt"]
    expect_cli_error([*argv, "--out", "."], command=command, match="current folder")


def test_check_output_dir_allows_new_empty_and_earlier_xstyle_folders(tmp_path):
    from xstyle.atomic import OUTPUT_MARKER, atomic_dir, check_output_dir

    assert check_output_dir(tmp_path / "new") == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    check_output_dir(tmp_path / "empty")
    with atomic_dir(tmp_path / "run") as tmp:
        (tmp / "a.txt").write_text("1")
    assert (tmp_path / "run" / OUTPUT_MARKER).is_file()
    with atomic_dir(tmp_path / "run") as tmp:  # an earlier xstyle folder is replaced
        (tmp / "b.txt").write_text("2")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [OUTPUT_MARKER, "b.txt"]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "x.txt").write_text("x")
    with pytest.raises(ValueError, match="not written by xstyle"):
        with atomic_dir(tmp_path / "mine"):
            raise AssertionError("must not be reached")
    assert (tmp_path / "mine" / "x.txt").read_text() == "x"


def test_a_failed_swap_puts_the_previous_folder_back(tmp_path, monkeypatch):
    from xstyle import atomic
    from xstyle.atomic import atomic_dir

    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)  # the portable two-rename swap

    with atomic_dir(tmp_path / "run") as tmp:
        (tmp / "result.txt").write_text("first")
    real_rename = Path.rename

    def failing_rename(self, target):
        if self.name.endswith(".tmp"):  # the new folder cannot take the old one's place
            raise OSError("disk trouble")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", failing_rename)
    with pytest.raises(OSError, match="disk trouble"):
        with atomic_dir(tmp_path / "run") as tmp:
            (tmp / "result.txt").write_text("second")
    monkeypatch.undo()
    assert (tmp_path / "run" / "result.txt").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary or backup folder left


@pytest.mark.parametrize(
    ("argv", "command", "match"),
    [
        (
            ["transfer", "sample:chelsea", "sample:great_wave", "-o", "o.png", "--size", "-64"],
            "transfer",
            "--size",
        ),
        (["gan", "sample", "-o", "q.png", "--sizee", "3"], "gan sample", "unrecognized arguments: --sizee 3"),
        (["gan", "eval", "--n-samples", "5"], "gan eval", "at least 200"),
        (["gan"], "gan", "GAN_COMMAND"),
        # unusable output paths fail before any work, not after it
        (
            ["transfer", "sample:chelsea", "sample:great_wave", "-o", "notes.txt/a.png"],
            "transfer",
            "is a file",
        ),
        (["gan", "sample", "-o", "notes.txt/g.png"], "gan sample", "is a file, not a folder"),
        (["gan", "eval", "--json", "notes.txt/e.json"], "gan eval", "is a file, not a folder"),
        (["gan", "eval", "--json", "eval.txt"], "gan eval", "must end in .json"),
        (["gan", "train-classifier", "-o", "notes.txt/c.pt"], "gan train-classifier", "is a file"),
        (["gan", "train-classifier", "-o", "clf.txt"], "gan train-classifier", "must end in .pt"),
        (["gan", "train", "--out", "notes.txt"], "gan train", "is not a folder"),
        # an --out folder below a file: refused up front, not after training or analysing
        (["gan", "train", "--epochs", "1", "--out", "notes.txt/run"], "gan train", "is a file, not a folder"),
        (["probe", "components", "-n", "20", "--out", "notes.txt/pc"], "probe components", "is a file, not"),
        (["report", "gan", "--fast", "--out", "notes.txt/rep"], "report gan", "is a file, not a folder"),
        (
            ["stylizer", "train", "--style", "sample:starry_night", "--out", "notes.txt/st"],
            "stylizer train",
            "is a file, not a folder",
        ),
        (
            ["explain", "gram", "--style", "sample:starry_night", "--out", "notes.txt/g"],
            "explain gram",
            "is a file, not a folder",
        ),
        (
            ["stylizer", "apply", "--model", "shipped:starry_night", "sample:chelsea", "-o", "s.txt"],
            "stylizer apply",
            "neither an image file",
        ),
        (
            [
                "stylizer",
                "apply",
                "--model",
                "shipped:starry_night",
                "sample:chelsea",
                "-o",
                "notes.txt/s.png",
            ],
            "stylizer apply",
            "is a file",
        ),
    ],
)
def test_usage_errors_are_one_line_and_come_before_any_work(expect_cli_error, argv, command, match):
    expect_cli_error(argv, command=command, match=match, files={"notes.txt": "my notes"})


def test_check_writable_names_the_blocking_file_and_unwritable_folders(tmp_path, monkeypatch):
    import errno
    import tempfile

    from xstyle.atomic import check_writable

    assert check_writable(tmp_path / "a" / "b", what="--out") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()  # checking creates nothing
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"'.*notes.txt' is a file, not a folder"):
        check_writable(tmp_path / "notes.txt" / "x", what="--out")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(ValueError, match=r"files cannot be created in .* \(Read-only file system\)"):
        check_writable(tmp_path / "new", what="--out")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (FileNotFoundError(2, "No such file or directory", "gone/x.png"), 2),
        (OSError(28, "No space left on device"), 1),
    ],
)
def test_an_oserror_during_a_command_is_one_line_not_a_traceback(monkeypatch, capsys, error, code):
    import xstyle.cli.transfer as cli

    def failing(args):
        raise error

    monkeypatch.setattr(cli, "_cmd_samples", failing)
    assert main(["samples"]) == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("xstyle samples: error: could not read or write") and error.strerror in err


def test_gan_train_refuses_to_overwrite_another_runs_checkpoints(expect_cli_error, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "epoch_0001.pt").write_bytes(b"an earlier run")
    expect_cli_error(["gan", "train", "--out", "run", "--epochs", "1"], command="gan train", match="--resume")
    assert (tmp_path / "run" / "epoch_0001.pt").read_bytes() == b"an earlier run"


def test_quiet_and_verbose_flags_also_work_after_the_command(tmp_path, capsys):
    out = tmp_path / "o.png"
    assert main(["transfer", "sample:chelsea", "sample:great_wave", "-o", str(out), *TINY, "-q"]) == 0
    assert out.is_file()
    assert "%|" not in capsys.readouterr().err  # no progress bar


def _all_parsers():
    import argparse

    from xstyle.cli import build_parser

    todo = [("xstyle", build_parser())]
    while todo:
        name, parser = todo.pop()
        yield name, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend((f"{name} {sub}", p) for sub, p in action.choices.items())


def test_every_cli_option_explains_itself():
    import argparse

    missing, internal = [], []
    for name, parser in _all_parsers():
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                continue
            if not action.help:
                missing.append(f"{name} {action.option_strings or action.dest}")
            shown = {o.lstrip("-").replace("-", "_") for o in action.option_strings}
            if shown and action.metavar is None and action.nargs != 0 and action.dest not in shown:
                internal.append(f"{name} {action.option_strings}: shows {action.dest.upper()}")
    assert missing == [] and internal == []
