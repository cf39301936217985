"""`xstyle probe attributes|directions|traverse|dynamics` on tiny seeded DCGAN checkpoints."""

import json

import pytest
import torch

from xstyle.cli import main


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A run folder of three seeded, untrained checkpoints (epochs 5, 10, 15) and a random classifier."""
    from xstyle.data import DigitData, load_digits
    from xstyle.gan.classifier import DigitClassifier, save_classifier
    from xstyle.gan.train import GANConfig, GANTrainer

    root = tmp_path_factory.mktemp("probe")
    run = root / "run"
    digits = load_digits("heldout")
    data = DigitData(digits.images[:8], digits.labels[:8], "tiny")
    ckpts = []
    for epoch, seed in ((10, 0), (5, 1), (15, 2)):
        trainer = GANTrainer(data, config=GANConfig(epochs=0, seed=seed))
        trainer.epoch = epoch
        ckpts.append(str(trainer.save_checkpoint(run / f"epoch_{epoch:04d}.pt")))
    torch.manual_seed(0)
    clf = save_classifier(DigitClassifier(), root / "clf.pt", metadata={"note": "random"})
    return {"run": str(run), "ckpts": ckpts, "clf": str(clf)}


def run_ok(argv, capsys):
    code = main(["-q", *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "wrote" in captured.out
    return captured.out


@pytest.mark.slow
def test_probe_attributes_writes_the_table(models, tmp_path, capsys):
    out = tmp_path / "attrs"
    argv = ["probe", "attributes", "--checkpoint", models["ckpts"][0], "--classifier", models["clf"]]
    text = run_ok([*argv, "--n-samples", "60", "--pca", "8", "--seed", "2", "--out", str(out)], capsys)
    assert sorted(p.name for p in out.iterdir()) == [".xstyle-output", "probes.json", "probes.png"]
    data = json.loads((out / "probes.json").read_text())
    assert data["command"] == "probe attributes" and data["epoch"] == 10
    assert data["config"] == {"n": 60, "seed": 2, "style": False, "pca": 8}
    assert data["probes"]["stages"] == ["z", "act0", "act1", "act2", "tanh"]
    assert set(data["probes"]["attributes"]) >= {"class", "ink", "slant"}
    assert data["samples"]["n"] == 60
    assert "ink (r2):" in text


@pytest.mark.slow
def test_probe_directions_writes_directions_and_their_similarity(models, tmp_path, capsys):
    out = tmp_path / "dirs"
    argv = ["probe", "directions", "--checkpoint", models["ckpts"][1], "--classifier", models["clf"]]
    run_ok([*argv, "-n", "60", "--components", "2", "--out", str(out)], capsys)
    assert sorted(p.name for p in out.iterdir()) == [".xstyle-output", "directions.json", "similarity.png"]
    data = json.loads((out / "directions.json").read_text())
    assert data["epoch"] == 5 and data["config"]["methods"] == ["interfacegan", "ganspace", "sefa"]
    labels = [d["label"] for d in data["directions"]]
    assert labels[-4:] == ["ganspace:pc0", "ganspace:pc1", "sefa:eig0", "sefa:eig1"]
    assert "interfacegan:ink" in labels and "interfacegan-conditional:thickness|ink" in labels
    assert data["comparison"]["labels"] == labels
    assert len(data["comparison"]["cosine"]) == len(labels)
    assert len(data["comparison"]["matches"]) == 4


def test_probe_traverse_writes_one_grid_per_direction(models, tmp_path, capsys):
    out = tmp_path / "walk"
    argv = ["probe", "traverse", "--checkpoint", models["ckpts"][0], "--classifier", models["clf"]]
    opts = ["--methods", "sefa,ganspace", "--components", "1", "--steps", "3", "--sigma", "2"]
    run_ok([*argv, *opts, "-n", "50", "--n-traverse", "2", "--rows", "2", "--out", str(out)], capsys)
    assert sorted(p.name for p in out.iterdir()) == [".xstyle-output", "traversals", "traversals.json"]
    grids = sorted(p.name for p in (out / "traversals").iterdir())
    assert grids == ["00_ganspace-pc0.png", "01_sefa-eig0.png"]
    data = json.loads((out / "traversals.json").read_text())
    assert data["config"]["alphas"] == [-2.0, 0.0, 2.0]
    assert [t["direction"] for t in data["traversals"]] == ["ganspace:pc0", "sefa:eig0"]
    assert {"slopes", "changes", "flip_rate", "disentanglement"} <= set(data["traversals"][0])
    assert [a["direction"] for a in data["alignment"]] == ["ganspace:pc0", "sefa:eig0"]


@pytest.mark.slow
def test_probe_components_of_a_mixture_prior(models, tmp_path, capsys):
    from xstyle.data import DigitData, load_digits
    from xstyle.gan.train import GANConfig, GANTrainer

    digits = load_digits("heldout")
    data = DigitData(digits.images[:8], digits.labels[:8], "tiny")
    trainer = GANTrainer(data, config=GANConfig(epochs=0, seed=0, prior="mixture:4:4:1"))
    ckpt = str(trainer.save_checkpoint(tmp_path / "mix.pt"))
    out = tmp_path / "components"
    argv = ["probe", "components", "--checkpoint", ckpt, "--classifier", models["clf"], "-n", "30"]
    text = run_ok([*argv, "--seed", "1", "--out", str(out)], capsys)
    assert sorted(p.name for p in out.iterdir()) == [".xstyle-output", "components.json", "components.png"]
    data = json.loads((out / "components.json").read_text())
    assert data["command"] == "probe components" and data["components"]["prior"] == "mixture:4:4:1"
    assert [sum(row) for row in data["components"]["counts"]] == [30, 30, 30, 30]
    assert data["components"]["seed"] == 1 and len(data["components"]["confident_by_distance"]) == 4
    assert [line.split(":")[0] for line in text.splitlines() if line.startswith("  component ")] == [
        f"  component {k}" for k in range(4)
    ]
    assert "by distance" in text


def test_probe_dynamics_over_a_run_folder(models, tmp_path, capsys):
    out = tmp_path / "dyn"
    argv = ["probe", "dynamics", "--run-dir", models["run"], "--classifier", models["clf"]]
    text = run_ok([*argv, "-n", "50", "--stages", "act0", "--out", str(out)], capsys)
    assert sorted(p.name for p in out.iterdir()) == [".xstyle-output", "dynamics.json", "dynamics.png"]
    data = json.loads((out / "dynamics.json").read_text())
    assert data["command"] == "probe dynamics" and data["run_dir"] == models["run"]
    assert data["epochs"] == [5, 10, 15] and data["stages"] == ["z", "act0"]
    for key in ("scores", "score_std", "chance", "readable_epochs", "readable_threshold", "metrics"):
        assert key in data
    assert len(data["scores"]["act0"]["ink"]) == 3
    assert "epochs 5, 10, 15" in text and "readable from z" in text


@pytest.mark.slow
def test_probe_dynamics_over_listed_checkpoints(models, tmp_path, capsys):
    out = tmp_path / "dyn2"
    ckpts = models["ckpts"][:2]  # epochs 10 and 5, listed out of order
    argv = ["probe", "dynamics", "--checkpoints", *ckpts, "--classifier", models["clf"], "-n", "50"]
    run_ok([*argv, "--stages", "act0", "--threshold", "0.2", "--out", str(out)], capsys)
    data = json.loads((out / "dynamics.json").read_text())
    assert data["epochs"] == [5, 10] and data["run_dir"] is None
    assert data["readable_threshold"] == 0.2
    assert [c.rsplit("/", 1)[-1] for c in data["checkpoints"]] == ["epoch_0005.pt", "epoch_0010.pt"]


SINGLE = ["attributes", "directions", "traverse"]


@pytest.mark.parametrize("command", SINGLE)
@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--checkpoint", "missing.pt"], "does not exist"),
        (["--classifier", "missing.pt"], "classifier weights not found"),
        (["-n", "10"], "--n-samples must be at least 50"),
        (["--out", "taken.txt"], "is not a folder"),
    ],
)
def test_probe_bad_input_exits_2_and_writes_nothing(models, expect_cli_error, command, extra, match):
    argv = ["probe", command, "--checkpoint", models["ckpts"][0], "--classifier", models["clf"]]
    # later flags override earlier ones
    expect_cli_error(
        [*argv, "--out", "out", *extra], command=f"probe {command}", match=match, files={"taken.txt": "x"}
    )


@pytest.mark.parametrize(
    ("command", "extra", "match"),
    [
        ("directions", ["--methods", "gansp"], "--methods must be"),
        ("traverse", ["--methods", "sefa,pca"], "--methods must be"),
        ("traverse", ["--steps", "1"], "--steps must be at least 2"),
        ("traverse", ["--sigma", "0"], "--sigma must be a number > 0"),
    ],
)
def test_probe_bad_options_exit_2(models, expect_cli_error, command, extra, match):
    argv = ["probe", command, "--checkpoint", models["ckpts"][0], "--classifier", models["clf"], "--out", "o"]
    expect_cli_error([*argv, *extra], command=f"probe {command}", match=match)


@pytest.mark.parametrize(
    ("where", "extra", "match"),
    [
        (["--run-dir", "nowhere"], [], "does not exist"),
        (["--run-dir", "empty_run"], [], "holds no .pt checkpoint"),
        (["--checkpoints", "CKPT", "missing.pt"], [], "'missing.pt' does not exist"),
        (["--checkpoints", "CKPT", "CKPT"], [], "both from epoch 10"),
        (["--checkpoints", "CKPT"], ["--stages", "act9"], "stages must be names"),
        (["--checkpoints", "CKPT"], ["-n", "49"], "--n-samples must be at least 50"),
        (["--checkpoints", "CKPT"], ["--threshold", "1.5"], "--threshold must lie in (0, 1]"),
        (["--checkpoints", "CKPT"], ["--classifier", "missing.pt"], "classifier weights not found"),
        (["--checkpoints", "CKPT"], ["--out", "taken.txt"], "is not a folder"),
    ],
)
def test_probe_dynamics_bad_input_exits_2_and_writes_nothing(
    models, tmp_path, expect_cli_error, where, extra, match
):
    (tmp_path / "empty_run").mkdir()
    where = [models["ckpts"][0] if w == "CKPT" else w for w in where]
    argv = ["probe", "dynamics", *where, "--classifier", models["clf"], "-n", "50", "--out", "out"]
    expect_cli_error([*argv, *extra], command="probe dynamics", match=match, files={"taken.txt": "x"})


def test_probe_parser_errors(capsys):
    assert main(["-q", "probe", "attributes", "--n-samples", "many", "--out", "x"]) == 2
    assert "expected a whole number, got 'many'" in capsys.readouterr().err
    assert main(["-q", "probe", "dynamics", "--out", "x"]) == 2
    assert "one of the arguments --run-dir --checkpoints is required" in capsys.readouterr().err
    assert main(["-q", "probe"]) == 2
    assert "PROBE_COMMAND" in capsys.readouterr().err
