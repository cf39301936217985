"""`xstyle explain attribution` and `xstyle explain gan-attribution` end to end, and their errors."""

import json

import pytest
import torch

from xstyle.cli import main


@pytest.fixture(scope="module")
def gan_models(tmp_path_factory):
    """A seeded, untrained DCGAN checkpoint (written by the trainer) and a seeded random classifier."""
    from xstyle.data import DigitData, load_digits
    from xstyle.gan.classifier import DigitClassifier, save_classifier
    from xstyle.gan.train import GANConfig, GANTrainer

    root = tmp_path_factory.mktemp("gan_attr")
    digits = load_digits("heldout")
    trainer = GANTrainer(
        DigitData(digits.images[:8], digits.labels[:8], "tiny"), config=GANConfig(epochs=0, seed=0)
    )
    ckpt = trainer.save_checkpoint(root / "gan.pt")
    torch.manual_seed(0)
    clf = save_classifier(DigitClassifier(), root / "clf.pt", metadata={"note": "random"})
    return str(ckpt), str(clf)


@pytest.mark.slow
def test_attribution_writes_every_figure_and_number(tmp_path, capsys):
    out = tmp_path / "attr"
    argv = ["-q", "explain", "attribution", "--content", "sample:chelsea", "--style", "sample:starry_night"]
    code = main(
        [*argv, "--size", "40", "--steps", "3", "--n-steps", "4", "--top-pairs", "1", "--out", str(out)]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    printed = printed.out
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".xstyle-output",
        "attribution.json",
        "channels.png",
        "deletion_content.png",
        "deletion_style_total.png",
        "faithfulness.png",
        "gram_entries.png",
        "randomisation_content.png",
        "randomisation_style_total.png",
        "regions.png",
        "style_content.png",
        "stylized.png",
    ]
    data = json.loads((out / "attribution.json").read_text())
    sc = data["style_content"]
    assert sc["method"] == "ig" and sc["size"] == [27, 40]
    assert set(sc["deletion_insertion"]) == {"style:total", "content"}
    assert 0 <= sc["style_wins_fraction"] <= 1
    assert data["channels"]["layers"] == ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]
    assert set(data["gram_entries"]["top_pairs"]) == {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"}
    assert data["transfer"]["steps"] == 3
    assert data["regions"]["method"] == "slic" and 0 <= data["regions"]["style_dominated_area"] <= 1
    assert sc["options"]["baselines"] == "filler"
    for which, filler in (("style", "content photo"), ("content", "painting")):
        test = data["faithfulness"][which]
        assert test["filler"] == filler and isinstance(test["passed"], bool)
        assert test["gain_ci"][0] <= test["gain"] <= test["gain_ci"][1]
        assert test["verdict"] in ("localised", "uniform", "failed")
        assert f"regions.png, {which} map: {test['verdict']}, " in printed


@pytest.mark.slow
def test_attribution_of_a_given_image_without_sanity(tmp_path, capsys):
    from xstyle.data import load_sample
    from xstyle.images import save_image

    save_image(load_sample("coffee", size=50), tmp_path / "mine.png")
    out = tmp_path / "attr"
    argv = ["-q", "explain", "attribution", "--stylized", str(tmp_path / "mine.png"), "--method", "saliency"]
    argv += ["--size", "32", "--n-steps", "2", "--top-pairs", "1", "--no-sanity", "--regions", "grid"]
    code = main([*argv, "--n-regions", "4", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    data = json.loads((out / "attribution.json").read_text())
    assert data["transfer"] is None and data["style_content"]["method"] == "saliency"
    assert data["regions"]["method"] == "grid" and data["regions"]["n_regions"] == 4
    assert not list(out.glob("deletion_*.png"))


@pytest.mark.slow
def test_gan_attribution(gan_models, tmp_path, capsys):
    ckpt, clf = gan_models
    out = tmp_path / "gan"
    argv = ["-q", "explain", "gan-attribution", "--checkpoint", ckpt, "--classifier", clf, "--digits", "3"]
    code = main([*argv, "-n", "20", "--n-steps", "4", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".xstyle-output",
        "deletion_fake.png",
        "deletion_real.png",
        "discriminator.png",
        "gan_attribution.json",
        "latent_classes.png",
        "randomisation.png",
    ]
    data = json.loads((out / "gan_attribution.json").read_text())
    assert sum(data["latent"]["counts"]) == 20
    assert data["discriminator"]["n"] == [3, 3]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--method", "lime"], "--method must be one of ig, saliency"),
        (["--method", "deeplift"], "--method must be one of"),
        (["--channel-method", "ig"], "--channel-method must be one of layer_ig"),
        (["--content", "missing.png"], "missing.png"),
        (["--style", "sample:mona"], "sample"),
        (["--weights", "resnet"], "weights"),
    ],
)
def test_attribution_errors(expect_cli_error, argv, match):
    expect_cli_error(
        ["explain", "attribution", "--size", "32", "--steps", "1", *argv, "--out", "out"],
        command="explain attribution",
        match=match,
    )


def test_attribution_out_is_a_file(expect_cli_error):
    expect_cli_error(
        ["explain", "attribution", "--size", "32", "--out", "taken"],
        command="explain attribution",
        match="exists and is not a folder",
        files={"taken": "precious"},
    )


def test_gan_attribution_errors(expect_cli_error, gan_models):
    ckpt, clf = gan_models
    expect_cli_error(
        ["explain", "gan-attribution", "--checkpoint", "nope.pt", "--out", "o"],
        command="explain gan-attribution",
        match="nope.pt",
    )
    expect_cli_error(
        [
            "explain",
            "gan-attribution",
            "--checkpoint",
            ckpt,
            "--classifier",
            clf,
            "--data",
            "mnist:/nowhere",
            "--out",
            "o",
        ],
        command="explain gan-attribution",
        match="/nowhere",
    )


def test_too_many_regions_for_the_size_is_refused_before_any_work(expect_cli_error):
    argv = ["explain", "attribution", "--size", "32", "--n-regions", "1000", "--out", "o"]
    expect_cli_error(
        argv, command="explain attribution", match="--n-regions must be at most 256 at --size 32"
    )
