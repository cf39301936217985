"""`xstyle explain gram | ablation | tradeoff`: clear errors (exit 2, nothing written) and small runs."""

from __future__ import annotations

import json

import pytest

from xstyle.cli import main

STYLE = "sample:starry_night"
CONTENT = "sample:chelsea"
ABLATE = ["explain", "ablation", "--content", CONTENT, "--style", STYLE, "--layer"]


@pytest.mark.parametrize(
    ("argv", "command", "match"),
    [
        (["explain", "gram", "--style", "sample:starry_nite", "--out", "o"], "explain gram", "Did you mean"),
        (["explain", "gram", "--style", "missing.png", "--out", "o"], "explain gram", "does not exist"),
        (
            ["explain", "gram", "--style", STYLE, "--with", "sample:nope", "--out", "o"],
            "explain gram",
            "unknown sample",
        ),
        (["explain", "gram", "--style", STYLE, "--out", "taken.txt"], "explain gram", "is not a folder"),
        (
            ["explain", "gram", "--style", STYLE, "--weights", "nowhere.pt", "--out", "o"],
            "explain gram",
            "nowhere.pt",
        ),
        (
            [
                "explain",
                "ablation",
                "--content",
                CONTENT,
                "--style",
                STYLE,
                "--layer",
                "relu9_1",
                "--out",
                "o",
            ],
            "explain ablation",
            "--layer must be a VGG19 layer name",
        ),
        (
            [
                "explain",
                "ablation",
                "--content",
                CONTENT,
                "--style",
                STYLE,
                "--layer",
                "relu5_2",
                "--out",
                "o",
            ],
            "explain ablation",
            "deepest loss layer",
        ),
        (
            [*ABLATE, "relu1_1", "--size", "32", "--steps", "1", "--counts", "65", "--out", "o"],
            "explain ablation",
            "counts must be numbers of channels in 1..64",
        ),
        (  # a whole number too large for a float: checked like any other count, no traceback
            [*ABLATE, "relu1_1", "--size", "32", "--steps", "1", "--counts", "1," + "9" * 400, "--out", "o"],
            "explain ablation",
            "counts must be numbers of channels in 1..64",
        ),
        (
            ["explain", "tradeoff", "--content", "missing.jpg", "--style", STYLE, "--out", "o"],
            "explain tradeoff",
            "does not exist",
        ),
        (
            ["explain", "tradeoff", "--content", CONTENT, "--style", STYLE, "--out", "taken.txt"],
            "explain tradeoff",
            "is not a folder",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(expect_cli_error, argv, command, match):
    expect_cli_error(argv, command=command, match=match, files={"taken.txt": "x"})


def test_argument_types_are_checked(capsys):
    base = ["explain", "tradeoff", "--content", CONTENT, "--style", STYLE, "--out", "o"]
    assert main([*base, "--ratios", "1,0,2"]) == 2
    assert "expected at least 3 numbers > 0" in capsys.readouterr().err
    assert main(["explain", "gram", "--style", STYLE, "--ranks", "1,x", "--out", "o"]) == 2
    assert "expected ranks like 1,4,16,full" in capsys.readouterr().err


@pytest.mark.slow
def test_gram_command_writes_figures_and_numbers(tmp_path, capsys):
    out = tmp_path / "gram"
    argv = ["-q", "explain", "gram", "--style", STYLE, "--with", CONTENT, "--size", "48"]
    argv += ["--lowrank-size", "32", "--lowrank-steps", "2", "--ranks", "1,full", "--fingerprint-size", "32"]
    assert main([*argv, "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "gram.json",
        "spectrum.png",
        "cumulative_energy.png",
        "comparison.png",
        "lowrank.png",
        "fingerprints.png",
        "statistics_agreement.png",
        "style.png",
    } <= names
    data = json.loads((out / "gram.json").read_text())
    assert set(data["decomposition"]["spectra"]) == {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"}
    assert data["comparison"]["total"] > 0
    assert data["lowrank"]["ranks"] == [1, "full"]
    fp = data["fingerprints"]
    assert "stylised k=full" in fp["names"] and len(fp["names"]) == 14 + 2  # samples + 2 stylised
    assert set(fp["rank_agreement_spearman"]) == {"gram", "adain", "mmd_linear", "mmd_poly", "mmd_gaussian"}
    assert "participation ratio" in capsys.readouterr().out


@pytest.mark.slow
def test_ablation_command_writes_curves(tmp_path):
    out = tmp_path / "abl"
    argv = ["-q", "explain", "ablation", "--content", CONTENT, "--style", STYLE, "--layer", "relu2_1"]
    assert main([*argv, "--size", "32", "--steps", "2", "--counts", "1,4", "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {".xstyle-output", "ablation.json", "ablation_curve.png", "reference.png"}
    data = json.loads((out / "ablation.json").read_text())
    assert data["counts"] == [1, 4] and data["layer"] == "relu2_1"
    assert set(data["style_after"]) == {"gram", "attribution", "captum_ig", "content_attribution", "random"}
    assert "rank_correlation_gram_vs_attribution" in data and "headline" in data["summary"]


@pytest.mark.slow
def test_tradeoff_command_writes_curve_and_images(tmp_path):
    out = tmp_path / "tr"
    argv = ["-q", "explain", "tradeoff", "--content", CONTENT, "--style", STYLE, "--size", "32"]
    assert main([*argv, "--steps", "2", "--ratios", "1e-3,1e-1,10", "--out", str(out)]) == 0
    data = json.loads((out / "tradeoff.json").read_text())
    assert data["ratios"] == [1e-3, 1e-1, 10.0] and data["knee_index"] in (0, 1, 2)
    assert len(list((out / "images").iterdir())) == 3 and (out / "tradeoff.png").is_file()
