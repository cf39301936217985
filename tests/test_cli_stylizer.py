"""The `xstyle stylizer` commands end to end on tiny settings (random VGG19, 32 px crops, 2 steps)."""

import json

import pytest
import torch

from xstyle.cli import main


def _run(capsys, *argv):
    code = main(["-q", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-step stylizer run shared by the tests below."""
    root = tmp_path_factory.mktemp("stylizer")
    argv = [
        "-q",
        "stylizer",
        "train",
        "--style",
        "sample:great_wave",
        "--out",
        str(root / "run"),
        "--epochs",
        "1",
        "--steps-per-epoch",
        "2",
        "--batch-size",
        "1",
        "--crop-size",
        "32",
        "--style-size",
        "48",
        "--patch-size",
        "16",
        "--residual-blocks",
        "2",
        "--weights",
        "random",
        "--eval-size",
        "32",
    ]
    assert main(argv) == 0
    return root / "run"


@pytest.mark.slow
def test_train_writes_checkpoint_release_card_and_figures(trained):
    names = {p.name for p in trained.iterdir()}
    assert {
        "epoch_0001.pt",
        "epoch_0001.json",
        "model.pt",
        "model.json",
        "losses.png",
        "heldout.png",
    } <= names
    card = json.loads((trained / "model.json").read_text())
    metrics = card["metrics"]
    assert metrics["seed"] == 0 and metrics["steps"] == 2 and "stylizer train" in metrics["command"]
    assert set(metrics["heldout"]["per_image"]) == {"chelsea", "china", "grace_hopper"}
    assert (trained / "model.pt").stat().st_size < 10_000_000
    assert card["meta"]["style_name"] == "sample:great_wave"


@pytest.mark.slow
def test_resume_continues(trained, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    code, out, err = _run(
        capsys,
        "stylizer",
        "train",
        "--style",
        "sample:great_wave",
        "--out",
        str(run),
        "--epochs",
        "2",
        "--steps-per-epoch",
        "2",
        "--batch-size",
        "1",
        "--crop-size",
        "32",
        "--style-size",
        "48",
        "--patch-size",
        "16",
        "--residual-blocks",
        "2",
        "--weights",
        "random",
        "--eval-size",
        "32",
        "--resume",
        str(run / "epoch_0001.pt"),
    )
    assert code == 0, err
    assert (run / "epoch_0002.pt").exists() and "trained 4 steps" in out


@pytest.mark.slow
def test_apply_files_and_folders(trained, tmp_path, capsys):
    from xstyle.images import load_image, save_image

    code, _out, err = _run(
        capsys,
        "stylizer",
        "apply",
        "--model",
        str(trained / "model.pt"),
        "sample:chelsea",
        "--size",
        "40",
        "-o",
        str(tmp_path / "one.png"),
    )
    assert code == 0, err
    assert load_image(tmp_path / "one.png").shape[-1] == 40
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b"):
        save_image(torch.rand(1, 3, 24, 30), folder / f"{name}.png")
    (folder / "notes.txt").write_text("not an image")
    code, _out, err = _run(
        capsys,
        "stylizer",
        "apply",
        "--model",
        str(trained / "model.pt"),
        str(folder),
        "sample:coffee",
        "--size",
        "32",
        "-o",
        str(tmp_path / "outs"),
    )
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "outs").iterdir()) == [
        "a_stylized.png",
        "b_stylized.png",
        "coffee_stylized.png",
    ]


@pytest.mark.slow
def test_explain_writes_a_folder(trained, tmp_path, capsys):
    out = tmp_path / "explained"
    code, stdout, err = _run(
        capsys,
        "stylizer",
        "explain",
        "--model",
        str(trained / "epoch_0001.pt"),
        "--content",
        "sample:chelsea",
        "--out",
        str(out),
        "--size",
        "32",
        "--n-steps",
        "2",
        "--no-channels",
    )
    assert code == 0, err
    names = {p.name for p in out.iterdir()}
    assert {
        "explanation.json",
        "attribution.png",
        "discriminator.png",
        "ablation.png",
        "training.png",
    } <= names
    data = json.loads((out / "explanation.json").read_text())
    assert set(data["ablation"]["blocks"]) == {"res1", "res2"}
    assert "res1" in stdout


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["stylizer", "train", "--style", "missing.jpg", "--out", "o"], "does not exist"),
        (["stylizer", "train", "--style", "sample:starry_nite", "--out", "o"], "Did you mean"),
        (
            ["stylizer", "train", "--style", "sample:great_wave", "--out", "o", "--content-dir", "no"],
            "not a folder",
        ),
        (["stylizer", "train", "--style", "sample:great_wave", "--out", "notckpt.pt"], "not a folder"),
        (
            ["stylizer", "train", "--style", "sample:great_wave", "--out", "o", "--resume", "notckpt.pt"],
            "is not a PyTorch file",
        ),
        (["stylizer", "apply", "--model", "missing.pt", "x.png", "-o", "y.png"], "does not exist"),
        (
            ["stylizer", "apply", "--model", "notckpt.pt", "x.png", "-o", "y.png"],
            "is not a PyTorch file",
        ),
        (["stylizer", "apply", "--model", "m.pt", "a.png", "b.png", "-o", "y.png"], "names one image"),
        (
            ["stylizer", "explain", "--model", "notckpt.pt", "--content", "sample:chelsea", "--out", "e"],
            "is not a PyTorch file",
        ),
        (
            ["stylizer", "explain", "--model", "m.pt", "--content", "sample:chelsea", "--out", "notckpt.pt"],
            "not a folder",
        ),
    ],
)
def test_stylizer_bad_input_exits_2_with_one_line(expect_cli_error, argv, match):
    expect_cli_error(
        argv, command=f"stylizer {argv[1]}", match=match, files={"notckpt.pt": "not a checkpoint"}
    )


@pytest.mark.slow
def test_apply_bad_input_with_a_good_model(trained, expect_cli_error):
    model = str(trained / "model.pt")
    expect_cli_error(
        ["stylizer", "apply", "--model", model, "sample:chelsea", "missing.png", "-o", "outs"],
        command="stylizer apply",
        match="does not exist",
    )
    expect_cli_error(
        ["stylizer", "apply", "--model", model, "empty_dir_missing/", "-o", "outs"],
        command="stylizer apply",
        match="does not exist",
    )
