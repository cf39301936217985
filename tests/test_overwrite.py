"""No command replaces a file that is already there unless told to (--overwrite), and says which."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from xstyle.cli import main


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def refused(capsys, tmp_path: Path, argv: list[str], names: str) -> None:
    """The command exits 2 with one line naming ``names`` and changes nothing in ``tmp_path``."""
    before = snapshot(tmp_path)
    code = main(["-q", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and names in err[0] and "--overwrite" in err[0], err
    assert snapshot(tmp_path) == before


CASES = {
    "transfer: the JSON beside the image": (
        ["out.json"],
        ["transfer", "sample:chelsea", "sample:great_wave", "-o", "out.png", "--size", "32", "--steps", "2"],
        "out.json",
    ),
    "transfer: the image": (
        ["out.png"],
        ["transfer", "sample:chelsea", "sample:great_wave", "-o", "out.png", "--size", "32", "--steps", "2"],
        "out.png",
    ),
    "gan sample": (["grid.png"], ["gan", "sample", "-n", "4", "-o", "grid.png"], "grid.png"),
    "gan export: the card": (
        ["release.json"],
        ["gan", "export", "ckpt.pt", "-o", "release.pt"],
        "release.json",
    ),
    "gan train-classifier: the card": (
        ["clf.json"],
        ["gan", "train-classifier", "-o", "clf.pt", "--epochs", "1"],
        "clf.json",
    ),
    "gan eval --json": (["eval.json"], ["gan", "eval", "--json", "eval.json"], "eval.json"),
    "gan train: a preview": (
        ["run/samples/epoch_0001.png"],
        ["gan", "train", "--out", "run", "--epochs", "1"],
        "epoch_0001.png",
    ),
    "stylizer train: model.pt": (
        ["run/model.pt", "run/losses.png", "run/heldout.png"],
        ["stylizer", "train", "--style", "sample:great_wave", "--out", "run", "--epochs", "1"],
        "heldout.png",
    ),
    "stylizer apply: a stylised image in the folder": (
        ["styled/chelsea_stylized.png"],
        ["stylizer", "apply", "--model", "shipped:starry_night", "sample:chelsea", "-o", "styled"],
        "chelsea_stylized.png",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_existing_file_is_not_replaced(tmp_path, monkeypatch, capsys, case):
    monkeypatch.chdir(tmp_path)
    existing, argv, names = CASES[case]
    for name in existing:
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(f"the user's {name}")
    if "ckpt.pt" in argv:
        Path("ckpt.pt").write_bytes(Path(__file__).read_bytes())  # never read: refused before
    refused(capsys, tmp_path, argv, names)


def test_overwrite_replaces_the_files_it_names(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("grid.png").write_text("the user's grid")
    assert main(["-q", "gan", "sample", "-n", "4", "-o", "grid.png", "--overwrite"]) == 0
    assert Path("grid.png").read_bytes().startswith(b"\x89PNG")


def test_a_resumed_training_run_may_rewrite_its_own_outputs(tmp_path):
    """--resume continues a run in its folder: the run's own previews are not 'in the way'."""
    from xstyle.cli._args import _checkpoint_folder

    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "epoch_0001.png").write_text("preview")
    patterns = ("samples/epoch_*.png",)
    with pytest.raises(ValueError, match="already exists"):
        _checkpoint_folder(str(tmp_path), resume=None, run_files=patterns)
    _checkpoint_folder(str(tmp_path), resume="x.pt", run_files=patterns)
    _checkpoint_folder(str(tmp_path), resume=None, run_files=patterns, overwrite=True)
