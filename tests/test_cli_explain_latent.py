"""`xstyle explain latent` end to end on a tiny seeded DCGAN checkpoint and a random classifier."""

import json

import pytest
import torch

from xstyle.cli import main


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A seeded, untrained DCGAN checkpoint (written by the trainer) and a seeded random classifier."""
    from xstyle.data import DigitData, load_digits
    from xstyle.gan.classifier import DigitClassifier, save_classifier
    from xstyle.gan.train import GANConfig, GANTrainer

    root = tmp_path_factory.mktemp("latent")
    digits = load_digits("heldout")
    data = DigitData(digits.images[:8], digits.labels[:8], "tiny")
    trainer = GANTrainer(data, config=GANConfig(epochs=0, seed=0))
    ckpt = trainer.save_checkpoint(root / "gan.pt")
    torch.manual_seed(0)
    clf = save_classifier(DigitClassifier(), root / "clf.pt", metadata={"note": "random"})
    return str(ckpt), str(clf)


@pytest.mark.slow
def test_latent_writes_figures_and_every_number(models, tmp_path, capsys):
    ckpt, clf = models
    out = tmp_path / "latent"
    argv = ["-q", "explain", "latent", "--checkpoint", ckpt, "--classifier", clf, "-n", "200"]
    code = main([*argv, "--components", "2", "--n-traverse", "4", "--seed", "1", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "wrote" in capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    assert names == [".xstyle-output", "latent.json", "probes.png", "similarity.png", "traversals"]
    data = json.loads((out / "latent.json").read_text())
    for key in ("config", "samples", "probes", "directions", "traversals", "comparison", "alignment"):
        assert key in data
    assert data["config"]["n"] == 200 and data["config"]["seed"] == 1
    assert data["probes"]["stages"] == ["z", "act0", "act1", "act2", "tanh"]
    methods = {d["method"] for d in data["directions"]}
    assert methods == {"interfacegan", "interfacegan-conditional", "ganspace", "sefa"}
    assert len(data["traversals"]) == len(data["directions"])
    assert len(list((out / "traversals").glob("*.png"))) == len(data["directions"])
    assert {"slopes", "flip_rate", "disentanglement"} <= set(data["traversals"][0])


@pytest.mark.slow
def test_latent_one_method(models, tmp_path, capsys):
    ckpt, clf = models
    out = tmp_path / "sefa"
    argv = ["-q", "explain", "latent", "--checkpoint", ckpt, "--classifier", clf, "-n", "60"]
    code = main([*argv, "--methods", "sefa", "--components", "1", "--n-traverse", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    data = json.loads((out / "latent.json").read_text())
    assert [d["label"] for d in data["directions"]] == ["sefa:eig0"]


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--methods", "gansp"], "--methods must be"),
        (["-n", "10"], "-n must be at least 50"),
        (["--checkpoint", "missing.pt"], "does not exist"),
        (["--classifier", "missing.pt"], "classifier weights not found"),
        (["--out", "taken.txt"], "is not a folder"),
    ],
)
def test_latent_bad_input_exits_2_and_writes_nothing(models, expect_cli_error, extra, match):
    ckpt, clf = models
    argv = ["explain", "latent", "--checkpoint", ckpt, "--classifier", clf, "--out", "out"]
    # later flags override earlier ones
    expect_cli_error([*argv, *extra], command="explain latent", match=match, files={"taken.txt": "x"})


def test_latent_parser_rejects_non_numbers(capsys):
    assert main(["-q", "explain", "latent", "-n", "many", "--out", "x"]) == 2
    assert "expected a whole number, got 'many'" in capsys.readouterr().err
