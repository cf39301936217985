"""The class-conditional DCGAN: model, labels, trainer, checkpoints and the CLI's label options."""

import pytest
import torch

from xstyle.gan import Discriminator, GANConfig, GANTrainer, Generator, load_checkpoint
from xstyle.gan.dcgan import check_labels
from xstyle.gan.prior import draw_latents, split_labels, with_labels
from xstyle.hooks import FeatureTap, assert_no_hooks


def test_conditional_shapes_and_the_design_layers_plus_labels():
    torch.manual_seed(0)
    g, d = Generator(n_classes=10).eval(), Discriminator(n_classes=10).eval()
    assert g.fc.in_features == 110 and g.input_dim == 110 and g.conditional
    w = with_labels(torch.randn(4, 100), torch.tensor([0, 3, 7, 9]))
    x = g(w)
    assert x.shape == (4, 1, 28, 28) and float(x.abs().max()) <= 1
    logits = d(x, torch.tensor([0, 3, 7, 9]))
    assert logits.shape == (4, 1)
    # one-hot and integer labels are the same projection; the label changes the logit
    assert torch.allclose(d(x, torch.nn.functional.one_hot(torch.tensor([0, 3, 7, 9]), 10).float()), logits)
    assert not torch.allclose(d(x, torch.tensor([1, 1, 1, 1])), logits)
    # 10 label columns more in G's first layer, the projection embedding in D
    assert sum(p.numel() for p in g.parameters()) == 2_305_472 + 10 * 7 * 7 * 256
    assert sum(p.numel() for p in d.parameters()) == 212_865 + 10 * 128 * 7 * 7
    with FeatureTap(g, ["act0", "act2"]) as tap:
        tap.run(w)
    assert set(tap.features) == {"act0", "act2"}
    assert_no_hooks(g)


def test_a_conditional_discriminator_needs_labels_and_an_unconditional_one_refuses_them():
    x = torch.zeros(2, 1, 28, 28)
    with pytest.raises(
        ValueError,
        match=r"conditional: pass the images' labels, D\(x, labels\) with labels \(B,\) in 0..9",
    ):
        Discriminator(n_classes=10)(x)
    with pytest.raises(ValueError, match="labels are for a conditional discriminator"):
        Discriminator()(x, torch.tensor([1, 2]))


def test_draw_latents_appends_labels_and_keeps_z():
    g = Generator(n_classes=10)
    balanced = draw_latents(g, 20, generator=torch.Generator().manual_seed(1))
    sevens = draw_latents(g, 20, generator=torch.Generator().manual_seed(1), labels=7)
    z, labels = split_labels(balanced)
    assert balanced.shape == (20, 110) and labels.tolist() == [i % 10 for i in range(20)]
    assert torch.equal(z, split_labels(sevens)[0])  # the same handwriting, other digits
    assert split_labels(sevens)[1].tolist() == [7] * 20
    plain = draw_latents(Generator(), 20, generator=torch.Generator().manual_seed(1))
    assert torch.equal(plain, z)  # z is the unconditional draw


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (10, "labels must lie in 0..9"),
        ([1, 2], "labels must be 3 whole numbers"),
        (torch.tensor([0.5, 1.0, 2.0]), "whole numbers"),
        (-1, "labels must lie in 0..9"),
        ("7", "labels must be an int"),
    ],
)
def test_bad_labels_get_one_line(labels, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check_labels(labels, 3, 10)


def test_labels_for_an_unconditional_generator_are_refused():
    with pytest.raises(ValueError, match="labels are for a conditional generator; this one is unconditional"):
        draw_latents(Generator(), 4, labels=3)


@pytest.mark.slow
def test_conditional_training_resumes_exactly_and_refuses_the_other_kind(small_digits, tmp_path):
    cfg = dict(epochs=2, batch_size=32, conditional=True, n_preview=4)
    run = tmp_path / "run"
    GANTrainer(small_digits, config=GANConfig(**cfg, out_dir=str(run))).fit()
    resumed = GANTrainer(small_digits, config=GANConfig(**{**cfg, "epochs": 3}), resume=run / "epoch_0002.pt")
    resumed.fit()
    straight = GANTrainer(small_digits, config=GANConfig(**{**cfg, "epochs": 3}))
    straight.fit()
    for a, b in zip(
        resumed.generator.state_dict().values(), straight.generator.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="trained with conditional=True, this run asks for False"):
        GANTrainer(small_digits, config=GANConfig(epochs=3, batch_size=32), resume=run / "epoch_0002.pt")
    ckpt = load_checkpoint(run / "epoch_0002.pt")
    assert ckpt.config.conditional and ckpt.generator.n_classes == 10 and ckpt.discriminator.n_classes == 10
    # the preview: one row per digit (10 rows of 4 columns, 2 px padding)
    from PIL import Image

    width, height = Image.open(run / "samples" / "epoch_0002.png").size
    assert (width, height) == (4 * 30 + 2, 10 * 30 + 2)


def test_label_agreement_is_measured_for_conditional_generators_only(small_digits):
    from xstyle.gan.classifier import load_classifier
    from xstyle.gan.metrics import evaluate_generator

    clf = load_classifier("shipped:digit-classifier")
    torch.manual_seed(0)
    q = evaluate_generator(Generator(n_classes=10), clf, small_digits, n_samples=60, labels=3)
    assert 0 <= q.label_agreement <= 1
    # label 3 everywhere: agreement is exactly the share of digits classified as 3
    assert q.label_agreement == pytest.approx(q.class_counts[3] / 60)
    assert evaluate_generator(Generator(), clf, small_digits, n_samples=60).label_agreement is None
    assert (
        "quality_label_agreement"
        not in evaluate_generator(Generator(), clf, small_digits, n_samples=60).history_fields()
    )


@pytest.fixture(scope="module")
def conditional_ckpt(small_digits, tmp_path_factory):
    path = tmp_path_factory.mktemp("cgan") / "cgan.pt"
    GANTrainer(small_digits, config=GANConfig(epochs=0, conditional=True)).save_checkpoint(path)
    return path


def test_cli_sample_writes_the_requested_digit_and_eval_reports_agreement(conditional_ckpt, tmp_path, capsys):
    from xstyle.cli import main

    out = tmp_path / "grid.png"
    assert (
        main(
            [
                "-q",
                "gan",
                "sample",
                "--checkpoint",
                str(conditional_ckpt),
                "-n",
                "4",
                "--digit",
                "3",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert out.is_file() and "digit 3" in capsys.readouterr().out
    report = tmp_path / "eval.json"
    argv = [
        "-q",
        "gan",
        "eval",
        "--checkpoint",
        str(conditional_ckpt),
        "--n-samples",
        "200",
        "--json",
        str(report),
    ]
    assert main(argv) == 0
    assert "classified as the requested label" in capsys.readouterr().out
    import json

    assert 0 <= json.loads(report.read_text())["label_agreement"] <= 1


@pytest.mark.parametrize(
    ("argv", "command", "match"),
    [
        (["gan", "sample", "-o", "g.png", "--digit", "3"], "gan sample", "--digit needs a conditional DCGAN"),
        (["gan", "eval", "--digit", "3"], "gan eval", "--digit needs a conditional DCGAN"),
        (["gan", "sample", "-o", "g.png", "--digit", "12"], "gan sample", "must be a digit from 0 to 9"),
        (
            ["explain", "gan-style", "--checkpoint", "shipped:dcgan", "--out", "o"],
            "explain gan-style",
            "needs a class-conditional DCGAN",
        ),
        (
            ["explain", "gan-style", "--n-z", "1", "--checkpoint", "{cgan}", "--out", "o"],
            "explain gan-style",
            "n_z must be",
        ),
        (
            ["explain", "gan-attribution", "--digit", "3", "--out", "o"],
            "explain gan-attribution",
            "--digit needs a conditional DCGAN",
        ),
        (
            [
                "explain",
                "gan-attribution",
                "--checkpoint",
                "shipped:emoji-dcgan",
                "--digit",
                "9",
                "--out",
                "o",
            ],
            "explain gan-attribution",
            "0..8",
        ),
    ],
)
def test_conditional_and_unconditional_mixups_exit_2_with_one_line(
    expect_cli_error, conditional_ckpt, argv, command, match
):
    argv = [a.replace("{cgan}", str(conditional_ckpt)) for a in argv]
    expect_cli_error(argv, command=command, match=match)


@pytest.mark.parametrize(
    ("checkpoint", "label", "n_classes"), [("dcgan-conditional", 3, 10), ("emoji-dcgan", 2, 9)]
)
def test_cli_gan_attribution_maps_a_conditional_discriminator_at_one_label(
    tmp_path, capsys, checkpoint, label, n_classes
):
    """A conditional D judges (image, label) pairs: real and generated images of ``--digit`` are
    mapped at that label, and the class attribution reads the data set's own classifier."""
    import json

    from xstyle.cli import main

    out = tmp_path / "maps"
    argv = [
        "-q",
        "explain",
        "gan-attribution",
        "--checkpoint",
        f"shipped:{checkpoint}",
        "--digit",
        str(label),
    ]
    code = main([*argv, "--digits", "2", "-n", "6", "--n-steps", "2", "--no-sanity", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    data = json.loads((out / "gan_attribution.json").read_text())
    assert data["label"] == label and data["discriminator"]["n"] == [2, 2]
    assert len(data["latent"]["counts"]) == n_classes and sum(data["latent"]["counts"]) == 6


def test_cli_explain_gan_style_writes_figures_and_numbers(conditional_ckpt, tmp_path, capsys):
    import json

    from xstyle.cli import main

    out = tmp_path / "gs"
    argv = ["-q", "explain", "gan-style", "--checkpoint", str(conditional_ckpt), "--n-z", "3"]
    argv += [
        "--n-attribution",
        "2",
        "--n-steps",
        "2",
        "--n-direction",
        "10",
        "--n-boot",
        "10",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert "variance explained by z" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} >= {"analogies.png", "gan_style.png", "gan_style.json"}
    data = json.loads((out / "gan_style.json").read_text())
    assert data["config"]["n_z"] == 3 and set(data["variance"]) == {
        "slant",
        "thickness",
        "width",
        "height",
        "ink",
    }


def test_probes_take_a_digit_for_a_conditional_model(conditional_ckpt, tmp_path, capsys):
    import json

    from xstyle.cli import main
    from xstyle.explain.gan.probes import sample_latents
    from xstyle.gan.prior import split_labels
    from xstyle.gan.train import load_checkpoint

    g = load_checkpoint(conditional_ckpt).sampler
    samples = sample_latents(g, n=20, seed=0, stages=(), labels=4)
    assert split_labels(samples.z)[1].tolist() == [4] * 20
    out = tmp_path / "pa"
    argv = ["-q", "probe", "attributes", "--checkpoint", str(conditional_ckpt), "-n", "60", "--digit", "4"]
    assert main([*argv, "--pca", "8", "--out", str(out)]) == 0, capsys.readouterr().err
    data = json.loads(next(p for p in out.iterdir() if p.suffix == ".json").read_text())
    assert data["digit"] == 4 and data["command"] == "probe attributes"


@pytest.mark.parametrize("command", [["probe", "attributes"], ["probe", "directions"], ["explain", "latent"]])
def test_a_digit_for_an_unconditional_probe_exits_2(expect_cli_error, command):
    argv = [*command, "--digit", "3", "--out", "o"]
    expect_cli_error(argv, command=" ".join(command), match="--digit needs a conditional DCGAN")
