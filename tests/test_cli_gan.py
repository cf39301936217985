"""The `xstyle gan` commands end to end on the offline digit sample (one short epoch)."""

import json

import pytest

from xstyle.cli import main


def _run(capsys, *argv):
    code = main(["-q", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _resume(capsys, run, epochs: int, *extra):
    """Continue the 1-epoch run copied to ``run`` to ``epochs``, a checkpoint every epoch."""
    argv = ["gan", "train", "--epochs", str(epochs), "--batch-size", "128", "--out", str(run)]
    return _run(capsys, *argv, "--checkpoint-every", "1", *extra, "--resume", str(run / "epoch_0001.pt"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 1-epoch DCGAN run and a 1-epoch classifier, shared by the tests below."""
    root = tmp_path_factory.mktemp("gan")
    assert main(["-q", "gan", "train-classifier", "-o", str(root / "clf.pt"), "--epochs", "1"]) == 0
    code = main(
        [
            "-q",
            "gan",
            "train",
            "--epochs",
            "1",
            "--batch-size",
            "128",
            "--out",
            str(root / "run"),
            "--checkpoint-every",
            "1",
            "--classifier",
            str(root / "clf.pt"),
        ]
    )
    assert code == 0
    return root


def test_train_writes_checkpoint_preview_and_metrics(trained):
    run = trained / "run"
    assert sorted(p.name for p in run.iterdir()) == ["epoch_0001.json", "epoch_0001.pt", "samples"]
    meta = json.loads((run / "epoch_0001.json").read_text())
    assert meta["config"]["batch_size"] == 128
    assert meta["history"][0]["quality_frechet_distance"] > 0
    assert 1 <= meta["history"][0]["quality_inception_score"] <= 10
    clf_meta = json.loads((trained / "clf.json").read_text())
    assert clf_meta["command"].startswith("xstyle -q gan train-classifier")
    assert 0.5 < clf_meta["heldout_accuracy"] <= 1


def test_sample_and_eval(trained, tmp_path, capsys):
    from xstyle.images import load_image

    ckpt = str(trained / "run" / "epoch_0001.pt")
    code, out, err = _run(
        capsys, "gan", "sample", "--checkpoint", ckpt, "-n", "16", "-o", str(tmp_path / "g.png")
    )
    assert code == 0, err
    assert load_image(tmp_path / "g.png").shape[-2:] == (4 * 28 + 5 * 2, 4 * 28 + 5 * 2)
    code, out, err = _run(
        capsys,
        "gan",
        "eval",
        "--checkpoint",
        ckpt,
        "--classifier",
        str(trained / "clf.pt"),
        "--n-samples",
        "200",
        "--json",
        str(tmp_path / "q.json"),
    )
    assert code == 0, err
    assert "Fréchet distance" in out and "class counts" in out and "(latent prior: normal)" in out
    data = json.loads((tmp_path / "q.json").read_text())
    assert data["n_samples"] == 200 and sum(data["class_counts"]) == 200
    assert data["prior"] == "normal"


def test_resume_continues_the_epoch_count(trained, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained / "run", run)
    code, _, err = _resume(capsys, run, 2, "--no-metrics")
    assert code == 0, err
    assert json.loads((run / "epoch_0002.json").read_text())["epoch"] == 2


def test_export_fill_history_measures_what_a_no_metrics_run_skipped(trained, tmp_path, capsys):
    import shutil

    import torch

    from xstyle.data import load_digits
    from xstyle.gan.classifier import load_classifier
    from xstyle.gan.metrics import fill_history_quality
    from xstyle.gan.train import GANConfig, GANTrainer, export_release, load_checkpoint

    # a run whose training measured every epoch (the answers), then the same run with those removed
    run, stripped = tmp_path / "run", tmp_path / "stripped"
    shutil.copytree(trained / "run", run)
    clf = str(trained / "clf.pt")
    code, _, err = _resume(capsys, run, 3, "--classifier", clf)
    assert code == 0, err
    recorded = load_checkpoint(run / "epoch_0003.pt").history
    assert all("quality_frechet_distance" in h for h in recorded)
    stripped.mkdir()
    for epoch in (1, 2, 3):
        name = f"epoch_{epoch:04d}"
        state = torch.load(run / f"{name}.pt", weights_only=True)
        state["history"] = [
            {k: v for k, v in h.items() if not k.startswith("quality_")} for h in state["history"]
        ]
        torch.save(state, stripped / f"{name}.pt")
        shutil.copy(run / f"{name}.json", stripped / f"{name}.json")
    last = stripped / "epoch_0003.pt"
    before = load_checkpoint(last).history

    code, out, err = _run(
        capsys,
        "gan",
        "export",
        str(last),
        "-o",
        str(tmp_path / "r.pt"),
        "--classifier",
        clf,
        "--fill-history",
    )
    assert code == 0, err
    assert "checkpoint quality" not in err  # the global -q hides the progress bar
    assert "measured 3 checkpoints; 0 epochs stay unmeasured" in out
    card = json.loads((tmp_path / "r.json").read_text())
    for filled, answer in zip(card["history"], recorded, strict=True):  # epochs 1, 2 from the siblings
        for key in ("quality_frechet_distance", "quality_confident_fraction", "quality_inception_score"):
            assert filled[key] == pytest.approx(answer[key], rel=1e-5), (filled["epoch"], key)
    assert card["metrics"]["history_quality"].startswith("epochs 1, 2, 3: measured after training")
    assert load_checkpoint(last).history == before  # no file is modified

    # a checkpoint left over from another run in the folder is not measured as this run's
    digits = load_digits("heldout")
    other = GANTrainer(digits, config=GANConfig(epochs=0, seed=5, batch_size=128))
    other.epoch = 2
    other.save_checkpoint(stripped / "epoch_0002.pt")
    calls = []
    filled = fill_history_quality(
        last, load_classifier(clf), digits, n_samples=100, progress=lambda *a: calls.append(a)
    )
    assert "quality_frechet_distance" not in filled[1] and filled[0]["quality_n_samples"] == 100
    assert calls == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(ValueError, match="other epochs"):
        export_release(last, tmp_path / "bad.pt", history=filled[:2])
    assert not (tmp_path / "bad.pt").exists()

    # training scored against its own data's held-out digits: another data set is refused
    meta = json.loads(last.with_suffix(".json").read_text())
    meta["data"]["source"] = "MNIST /data (train)"
    last.with_suffix(".json").write_text(json.dumps(meta))
    code, _, err = _run(capsys, "gan", "export", str(last), "-o", str(tmp_path / "m.pt"), "--fill-history")
    assert code == 2 and "MNIST /data (train)" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.pt").exists()


def test_export_release_is_small_and_loads(trained, tmp_path, capsys):
    import torch

    from xstyle.gan.train import load_checkpoint

    out = tmp_path / "release.pt"
    code, _, err = _run(
        capsys,
        "gan",
        "export",
        str(trained / "run" / "epoch_0001.pt"),
        "-o",
        str(out),
        "--classifier",
        str(trained / "clf.pt"),
    )
    assert code == 0, err
    assert out.stat().st_size < 6_000_000
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["metrics"]["epochs"] == 1 and "quality_release_weights" in card["metrics"]
    full, release = load_checkpoint(trained / "run" / "epoch_0001.pt"), load_checkpoint(out)
    z = torch.randn(8, 100, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert (full.generator(z) - release.generator(z)).abs().max() < 0.05  # float16 rounding only


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["gan", "sample", "--checkpoint", "missing.pt", "-o", "g.png"], "does not exist"),
        (["gan", "sample", "--checkpoint", "x.pt", "-o", "g.txt"], "image suffix"),
        (["gan", "train", "--out", "o", "--data", "mnist:"], "--data must be"),
        (["gan", "train", "--out", "o", "--data", "mnist:nowhere"], "offline sample"),
        (["gan", "eval", "--checkpoint", "notckpt.pt"], "is not a PyTorch file"),
        (["gan", "train", "--out", "o", "--prior", "uniform"], "unknown prior 'uniform'"),
        (["gan", "train", "--out", "o", "--prior", "mixture:1:4:1"], "K >= 2"),
    ],
)
def test_gan_bad_input_exits_2_with_one_line(expect_cli_error, argv, match):
    expect_cli_error(argv, command=f"gan {argv[1]}", match=match, files={"notckpt.pt": "not a checkpoint"})


def test_gan_train_that_diverges_stops_with_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    from xstyle.gan.train import GANTrainer

    diverged = (0.7, float("inf"), 0.5, 0.5)
    monkeypatch.setattr(GANTrainer, "train_step", lambda self, real, labels=None: diverged)
    out = str(tmp_path / "run")
    code, _, err = _run(capsys, "gan", "train", "--epochs", "1", "--out", out, "--no-metrics")
    err = err.strip()
    assert code == 1
    assert err.startswith("xstyle gan train: error: training diverged in epoch 1 (g_loss inf); lower")
    assert "\n" not in err and "Traceback" not in err
    assert not list(tmp_path.rglob("*.pt"))


def test_interrupted_training_says_where_to_resume(tmp_path, capsys, monkeypatch):
    from xstyle.gan.train import GANTrainer

    real_fit = GANTrainer.fit

    def fit_then_interrupt(self, **kwargs):
        real_fit(self, epochs=1, **{k: v for k, v in kwargs.items() if k != "epochs"})
        raise KeyboardInterrupt

    monkeypatch.setattr(GANTrainer, "train_step", lambda self, real, labels=None: (0.7, 0.7, 0.5, 0.5))
    monkeypatch.setattr(GANTrainer, "fit", fit_then_interrupt)
    out = tmp_path / "run"
    code, _, err = _run(
        capsys, "gan", "train", "--epochs", "3", "--checkpoint-every", "1", "--out", str(out), "--no-metrics"
    )
    assert code == 130
    assert err.strip() == (
        f"xstyle gan train: interrupted; the checkpoints written so far stay in {out}; "
        f"continue with --resume {out / 'epoch_0001.pt'}"
    )


def test_interrupted_note_for_commands_that_write_at_the_end(tmp_path):
    import argparse

    from xstyle.cli._main import _interrupted_note

    assert _interrupted_note(argparse.Namespace(command="transfer")) == "nothing was written."
    fresh = argparse.Namespace(command="stylizer", stylizer_command="train", out=str(tmp_path / "none"))
    assert _interrupted_note(fresh) == "no checkpoint was written yet."


@pytest.mark.slow
def test_train_with_a_mixture_prior_records_it(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = _run(
        capsys,
        "gan",
        "train",
        "--epochs",
        "1",
        "--batch-size",
        "256",
        "--prior",
        "mixture:4:4:1",
        "--no-metrics",
        "--out",
        str(out),
    )
    assert code == 0, err
    assert json.loads((out / "epoch_0001.json").read_text())["config"]["prior"] == "mixture:4:4:1"
    from xstyle.gan import load_checkpoint

    assert load_checkpoint(out / "epoch_0001.pt").sampler.prior.components == 4
