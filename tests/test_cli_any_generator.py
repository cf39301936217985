"""The CLI on generators other than the digit DCGAN: bad specs are one line, exit 2, nothing written;
the user's module:callable runs through the GAN report (fast settings)."""

from __future__ import annotations

import textwrap

import pytest
import torch

from xstyle.cli import main

USER = '''
import torch
from torch import nn


class Hue(nn.Module):
    """z (B, 8) -> (B, 3, 16, 16): z[0] sets the red-green balance of a centred square."""

    latent_dim = 8

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)
        self.act = nn.Tanh()
        with torch.no_grad():
            self.fc.weight.zero_()
            self.fc.weight[0, 0], self.fc.weight[1, 0] = 1.0, -1.0
            self.fc.bias.zero_()

    def forward(self, z):
        rg = self.act(self.fc(z))  # (B, 2) in [-1, 1]
        img = torch.ones(z.shape[0], 3, 16, 16)
        img[:, 0, 4:12, 4:12] = rg[:, 0, None, None]
        img[:, 1, 4:12, 4:12] = rg[:, 1, None, None]
        img[:, 2, 4:12, 4:12] = -1
        return img


def make():
    return Hue()

def not_a_module():
    return "G"

def flat():
    return nn.Linear(8, 5)
'''


@pytest.fixture
def user(tmp_path, monkeypatch):
    (tmp_path / "cli_gans.py").write_text(textwrap.dedent(USER))
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _run(capsys, *argv):
    code = main(["-q", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "spec, match",
    [
        ("shipped:nope", "is not a shipped GAN or an xstyle checkpoint"),
        ("cli_gans:not_a_module", "returned a str, not a torch.nn.Module"),
        ("cli_gans:flat", "must return an image batch"),
        ("cli_gans:missing", "has no callable 'missing'"),
    ],
)
def test_bad_generator_specs_are_one_line_exit_2_and_write_nothing(user, capsys, spec, match):
    out = user / "report"
    code, _, err = _run(capsys, "report", "gan", "--fast", "--checkpoint", spec, "--out", str(out))
    assert code == 2 and match in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_weights_that_do_not_fit_are_refused(user, capsys):
    torch.save({"fc.weight": torch.zeros(3, 3)}, user / "w.pt")
    out = user / "report"
    code, _, err = _run(
        capsys,
        "report",
        "gan",
        "--fast",
        "--checkpoint",
        "cli_gans:make",
        "--generator-weights",
        str(user / "w.pt"),
        "--out",
        str(out),
    )
    assert code == 2 and "do not fit" in err and not out.exists()


@pytest.mark.slow
def test_the_report_runs_on_the_users_generator(user, capsys):
    import json

    out = user / "report"
    code, _, err = _run(capsys, "report", "gan", "--fast", "--checkpoint", "cli_gans:make", "--out", str(out))
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]["gan"]
    assert (
        metrics["generator"]["channels"] == 3
        and "quality (needs a classifier and real images)" in metrics["skipped"]
    )
    dirs = {d["label"]: d for d in metrics["latent"]["directions"]}
    assert "sefa:eig0" in dirs


@pytest.mark.slow
def test_the_shipped_emoji_dcgan_through_sample_eval_probe_and_report(tmp_path, capsys):
    import json

    code, out, err = _run(
        capsys,
        "gan",
        "sample",
        "--checkpoint",
        "shipped:emoji-dcgan",
        "-n",
        "18",
        "-o",
        str(tmp_path / "grid.png"),
    )
    assert code == 0 and (tmp_path / "grid.png").is_file(), err
    code, out, err = _run(
        capsys,
        "gan",
        "eval",
        "--checkpoint",
        "shipped:emoji-dcgan",
        "--n-samples",
        "200",
        "--json",
        str(tmp_path / "eval.json"),
    )
    assert code == 0, err
    scores = json.loads((tmp_path / "eval.json").read_text())
    assert len(scores["class_counts"]) == 9 and 0 <= scores["label_agreement"] <= 1
    code, out, err = _run(
        capsys,
        "probe",
        "attributes",
        "--checkpoint",
        "shipped:emoji-dcgan",
        "-n",
        "60",
        "--out",
        str(tmp_path / "probe"),
    )
    assert code == 0 and "hue (r2)" in out, err
    code, out, err = _run(
        capsys,
        "report",
        "gan",
        "--fast",
        "--checkpoint",
        "shipped:emoji-dcgan",
        "--out",
        str(tmp_path / "report"),
    )
    assert code == 0, err
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())["metrics"]["gan"]
    assert metrics["generator"]["class_names"][2] == "Flags" and "style_content" in metrics
    shares = metrics["style_content"]["variance"]  # the emoji data set's measures, skin tone included
    assert {"hue", "coverage", "skin_tone"} <= set(shares)
    assert shares["skin_tone"]["z"] + shares["skin_tone"]["label"] <= 1 + 1e-9
    emoji = ["--checkpoint", "shipped:emoji-dcgan"]
    code, out, err = _run(
        capsys, "explain", "latent", *emoji, "-n", "60", "--components", "1", "--n-traverse", "2",
        "--out", str(tmp_path / "latent"),
    )  # fmt: skip
    assert code == 0, err
    latent = json.loads((tmp_path / "latent" / "latent.json").read_text())
    assert "hue" in json.dumps(latent["probes"]) and "class accuracy" in out  # colour measures, 9 classes
    code, out, err = _run(
        capsys, "explain", "gan-style", *emoji, "--n-z", "3", "--n-attribution", "2", "--n-steps", "2",
        "--n-direction", "20", "--n-boot", "10", "--out", str(tmp_path / "style"),
    )  # fmt: skip
    assert code == 0 and "variance explained by z (the style)" in out and "skin_tone" in out, err
    code, out, err = _run(
        capsys, "explain", "gan-style", *emoji, "--digit", "9", "--out", str(tmp_path / "s9")
    )
    assert code == 2 and "--digit must be a label in 0..8" in err and not (tmp_path / "s9").exists()


def test_sampling_the_emoji_dcgan_names_images_and_labels_not_digits(tmp_path, capsys):
    code, out, err = _run(
        capsys,
        "gan",
        "sample",
        "--checkpoint",
        "shipped:emoji-dcgan",
        "-n",
        "9",
        "-o",
        str(tmp_path / "e.png"),
    )
    assert code == 0, err
    assert out.strip().endswith("(9 images, seed 0, labels 0..8 in turn)")
    code, out, err = _run(
        capsys,
        "gan",
        "sample",
        "--checkpoint",
        "shipped:dcgan-conditional",
        "-n",
        "4",
        "-o",
        str(tmp_path / "d.png"),
    )
    assert code == 0 and out.strip().endswith("(4 digits, seed 0, digits 0..9 in turn)"), err
