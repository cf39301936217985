"""Malformed but correctly tagged checkpoints: each bad field is one ValueError line that names it.

Every case starts from a real file (a tiny trainer checkpoint, or a shipped release or classifier),
changes one field and checks the loader refuses it before using it, naming the file and the field.
Also: the checkpoint writers let the weights land before their JSON card, and ``probe dynamics
--run-dir`` only reads the run's own ``epoch_NNNN.pt`` files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from xstyle.cli import main
from xstyle.explain.gan.dynamics import find_checkpoints
from xstyle.gan.classifier import DigitClassifier, load_classifier, save_classifier
from xstyle.gan.train import GANConfig, GANTrainer, load_checkpoint
from xstyle.models.shipped import resolve_shipped
from xstyle.stylizer.train import StylizerConfig, export_stylizer, load_stylizer, shipped_stylizers

NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    """Real files: a one-epoch DCGAN trainer checkpoint (with a moving average) and shipped ones."""
    from xstyle.data import DigitData, load_digits

    root = tmp_path_factory.mktemp("sources")
    digits = load_digits("heldout")
    data = DigitData(digits.images[:16], digits.labels[:16], "tiny")
    trainer = GANTrainer(data, config=GANConfig(epochs=1, batch_size=8, seed=0, ema_decay=0.9))
    trainer.fit()
    return {
        "gan": trainer.save_checkpoint(root / "epoch_0001.pt"),
        "release": resolve_shipped("shipped:dcgan", "dcgan"),
        "classifier": resolve_shipped("shipped:digit-classifier", "digit-classifier"),
        "stylizer": shipped_stylizers()["starry_night"],
    }


LOADERS = {
    "gan": load_checkpoint,
    "release": load_checkpoint,
    "classifier": load_classifier,
    "stylizer": load_stylizer,
}
HINTS = {
    "gan": "xstyle gan train",
    "release": "xstyle gan train",
    "classifier": "xstyle gan train-classifier",
    "stylizer": "xstyle stylizer train",
}


def _set(key: str, value):
    def mutate(state):
        state[key] = value

    return mutate


def _set_in(*keys, value):
    def mutate(state):
        for key in keys[:-1]:
            state = state[key]
        state[keys[-1]] = value

    return mutate


def _poison(*keys, value=NAN):
    """Put ``value`` (NaN, inf) into the first element of the tensor at ``keys``."""

    def mutate(state):
        for key in keys[:-1]:
            state = state[key]
        state[keys[-1]] = state[keys[-1]].clone()
        state[keys[-1]].view(-1)[0] = value

    return mutate


def _reshape(*keys, shape):
    def mutate(state):
        for key in keys[:-1]:
            state = state[key]
        state[keys[-1]] = torch.zeros(shape)

    return mutate


def _history_entry(value):
    def mutate(state):
        state["history"] = [value, *state["history"][1:]]

    return mutate


def _history_field(key, value):
    def mutate(state):
        state["history"] = [dict(h) for h in state["history"]]
        state["history"][0][key] = value

    return mutate


def _config(key, value):
    def mutate(state):
        state["config"] = dict(state["config"], **{key: value})

    return mutate


def _arch(key, value):
    def mutate(state):
        state["config"] = dict(state["config"], arch=dict(state["config"]["arch"], **{key: value}))

    return mutate


def _opt_moment(state):
    moments = state["opt_g"]["state"][0]
    moments["exp_avg"] = moments["exp_avg"].clone()
    moments["exp_avg"].view(-1)[0] = NAN


# (source, mutation, what the message must name)
CASES = {
    # DCGAN trainer checkpoint
    "gan-config-string-batch": ("gan", _config("batch_size", "abc"), "field 'config.batch_size'"),
    "gan-config-list": ("gan", _set("config", [1, 2]), "field 'config'"),
    "gan-config-nan-lr": ("gan", _config("lr_g", NAN), "field 'config.lr_g'"),
    "gan-config-short-betas": ("gan", _config("betas", [0.5]), "field 'config.betas'"),
    "gan-config-prior-number": ("gan", _config("prior", 7), "field 'config.prior'"),
    "gan-config-zero-batch": ("gan", _config("batch_size", 0), "batch_size must be an integer >= 1"),
    "gan-generator-tensor": ("gan", _set("generator", torch.zeros(3)), "field 'generator'"),
    "gan-epoch-string": ("gan", _set("epoch", "x"), "field 'epoch'"),
    "gan-epoch-negative": ("gan", _set("epoch", -1), "field 'epoch'"),
    "gan-history-int": ("gan", _set("history", 5), "field 'history'"),
    "gan-history-entry-int": ("gan", _history_entry(5), "field 'history[0]'"),
    "gan-history-loss-string": ("gan", _history_field("d_loss", "x"), "field 'history[0].d_loss'"),
    "gan-history-no-epoch": ("gan", _history_entry({"d_loss": 0.5}), "field 'history[0].epoch'"),
    "gan-nan-weight": ("gan", _poison("generator", "fc.weight"), "field 'generator.fc.weight'"),
    "gan-inf-weight": ("gan", _poison("discriminator", "fc.bias", value=INF), "'discriminator.fc.bias'"),
    "gan-nan-ema": (
        "gan",
        _poison("generator_ema", "deconv3.weight"),
        "field 'generator_ema.deconv3.weight'",
    ),
    "gan-wrong-shape": (
        "gan",
        _reshape("generator", "fc.weight", shape=(12544, 7)),
        "fc.weight is (12544, 7)",
    ),
    "gan-extra-key": (
        "gan",
        _set_in("generator", "extra.weight", value=torch.zeros(2)),
        "unexpected extra.weight",
    ),
    "gan-missing-key": (
        "gan",
        lambda s: s["discriminator"].pop("conv1.weight"),
        "field 'discriminator' does not match the DCGAN architecture (missing conv1.weight",
    ),
    "gan-float-counter": (
        "gan",
        _set_in("generator", "bn0.num_batches_tracked", value=torch.tensor(1.0)),
        "field 'generator.bn0.num_batches_tracked'",
    ),
    "gan-opt-int": ("gan", _set("opt_g", 5), "field 'opt_g'"),
    "gan-opt-nan-moment": ("gan", _opt_moment, "field 'opt_g.state[0].exp_avg'"),
    "gan-opt-lr-string": (
        "gan",
        _set_in("opt_d", "param_groups", 0, "lr", value="x"),
        "opt_d.param_groups[0].lr",
    ),
    "gan-rng-short": ("gan", _set("shuffle_rng", torch.zeros(3, dtype=torch.uint8)), "field 'shuffle_rng'"),
    "gan-ema-count-string": ("gan", _set("ema_n_averaged", "x"), "field 'ema_n_averaged'"),
    # DCGAN release (float16 weights)
    "release-inf-weight": (
        "release",
        _poison("generator", "deconv3.weight", value=INF),
        "'generator.deconv3.weight'",
    ),
    "release-other-latent-dim": (
        "release",
        _reshape("generator", "fc.weight", shape=(12544, 3)),
        "fc.weight is (12544, 3)",
    ),
    # digit classifier (the whole file is a state dict)
    "classifier-nan": ("classifier", _poison("fc1.weight"), "field 'fc1.weight'"),
    "classifier-int-tensor": (
        "classifier",
        _set("conv1.bias", torch.zeros(32, dtype=torch.int64)),
        "'conv1.bias'",
    ),
    # stylizer release
    "stylizer-config-list": ("stylizer", _set("config", [1]), "field 'config'"),
    "stylizer-config-missing": ("stylizer", lambda s: s.pop("config"), "field 'config'"),
    "stylizer-crop-string": ("stylizer", _config("crop_size", "big"), "field 'config.crop_size'"),
    "stylizer-channel-string": (
        "stylizer",
        _arch("channels", [16, "x", 64]),
        "field 'config.arch.channels[1]'",
    ),
    "stylizer-huge-blocks": ("stylizer", _arch("n_residual", 10**9), "n_residual must be a whole number"),
    "stylizer-huge-widths": (
        "stylizer",
        _arch("channels", [4096, 4096, 4096]),  # checked on the meta device: nothing is allocated
        "field 'net' does not match the stylizer architecture",
    ),
    "stylizer-nan-weight": (
        "stylizer",
        _poison("net", "conv_in.conv.weight"),
        "field 'net.conv_in.conv.weight'",
    ),
    "stylizer-style-float": ("stylizer", _set("style", torch.zeros(1, 3, 8, 8)), "field 'style'"),
    "stylizer-style-huge": (
        "stylizer",
        _set("style", torch.zeros(1, 3, 1, 100_000, dtype=torch.uint8)),
        "'style'",
    ),
    "stylizer-meta-name": ("stylizer", _set("meta", {"style_name": 5}), "field 'meta'"),
    "stylizer-meta-tensor": ("stylizer", _set("meta", {"x": torch.zeros(1)}), "field 'meta.x'"),
    "stylizer-history-epoch": ("stylizer", _history_entry({"epoch": "1"}), "field 'history[0].epoch'"),
    "stylizer-seconds-inf": ("stylizer", _set("seconds", INF), "field 'seconds'"),
    "stylizer-step-string": ("stylizer", _set("step", "x"), "field 'step'"),
    "stylizer-epoch-float": ("stylizer", _set("epoch", 1.5), "field 'epoch'"),
}


def _write_mutated(source: Path, mutate, path: Path) -> Path:
    state = torch.load(source, weights_only=True)
    mutate(state)
    torch.save(state, path)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_field_is_one_line_that_names_file_and_field(case, sources, tmp_path):
    source, mutate, names = CASES[case]
    bad = _write_mutated(sources[source], mutate, tmp_path / "bad.pt")
    with pytest.raises(ValueError) as info:
        LOADERS[source](bad)
    message = str(info.value)
    assert "\n" not in message
    assert repr(str(bad)) in message and names in message, message
    assert message.endswith(f"give a .pt file written by `{HINTS[source]}`."), message


@pytest.mark.parametrize(
    ("cls", "data", "names"),
    [
        (GANConfig, [1, 2], "config must be a dict of GANConfig settings; got a list of 2 items."),
        (GANConfig, {"lr_g": "abc"}, "config.lr_g must be a finite number; got 'abc'."),
        (GANConfig, {"ema_decay": "x"}, "config.ema_decay must be a finite number or None; got 'x'."),
        (GANConfig, {"betas": 5}, "config.betas must be a list of 2 numbers; got 5."),
        (StylizerConfig, {"arch": {"channels": 4}}, "config.arch.channels must be a list of 3 integers"),
        (StylizerConfig, {"style_layers": ["relu1_1", 3]}, "config.style_layers[1] must be a string; got 3."),
    ],
)
def test_config_from_dict_rejects_wrong_types_in_one_line(cls, data, names):
    with pytest.raises(ValueError) as info:
        cls.from_dict(data)
    assert str(info.value) == names or str(info.value).startswith(names)


def test_cli_answers_a_bad_checkpoint_with_one_line_and_exit_2(sources, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write_mutated(sources["gan"], _config("batch_size", "abc"), tmp_path / "bad.pt")
    code = main(["-q", "gan", "sample", "--checkpoint", "bad.pt", "-o", "out.png"])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xstyle gan sample: error:"), err
    assert "field 'config.batch_size' must be an integer; got 'abc'" in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "out.png").exists()


def test_cli_stylizer_apply_refuses_nan_weights(sources, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _write_mutated(sources["stylizer"], _poison("net", "up1.conv.weight"), tmp_path / "bad.pt")
    code = main(["-q", "stylizer", "apply", "--model", "bad.pt", "sample:chelsea", "-o", "out.png"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "field 'net.up1.conv.weight'" in err
    assert not (tmp_path / "out.png").exists()


def test_dynamics_reads_only_the_runs_own_checkpoints(tmp_path):
    for name in (
        "epoch_0002.pt",
        "epoch_0001.pt",
        "other.pt",
        "epoch_best.pt",
        "epoch_1.pt",
        "epoch_0003.pt.bak",
    ):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in find_checkpoints(tmp_path)] == ["epoch_0001.pt", "epoch_0002.pt"]
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "other.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"holds no \.pt checkpoint"):
        find_checkpoints(stray)


def test_probe_dynamics_run_dir_ignores_a_stray_pt(sources, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "epoch_0001.pt").write_bytes(Path(sources["gan"]).read_bytes())
    (run / "other.pt").write_text("not a checkpoint")
    (run / "epoch_best.pt").write_text("not a checkpoint either")
    out = tmp_path / "dyn"
    argv = [
        "-q",
        "probe",
        "dynamics",
        "--run-dir",
        str(run),
        "-n",
        "50",
        "--stages",
        "act0",
        "--out",
        str(out),
    ]
    assert main(argv) == 0, capsys.readouterr().err
    data = json.loads((out / "dynamics.json").read_text())
    assert data["epochs"] == [1] and [Path(c).name for c in data["checkpoints"]] == ["epoch_0001.pt"]


class _Killed(BaseException):
    """A kill between the two renames of a checkpoint save."""


def _save_gan(path: Path) -> None:
    from xstyle.data import DigitData, load_digits

    digits = load_digits("heldout")
    GANTrainer(
        DigitData(digits.images[:4], digits.labels[:4], "t"), config=GANConfig(epochs=0)
    ).save_checkpoint(path)


WRITERS = {
    "gan": _save_gan,
    "classifier": lambda path: save_classifier(DigitClassifier(), path, metadata={"note": "x"}),
    "stylizer": lambda path: export_stylizer(shipped_stylizers()["great_wave"], path),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_weights_land_before_their_card(writer, tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    card = path.with_suffix(".json")
    landed: list[str] = []
    replace = os.replace

    def spy(src, dst, *args, **kwargs):
        if Path(dst) in (path, card):
            landed.append(Path(dst).suffix)
        if Path(dst) == card:
            raise _Killed
        return replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", spy)
    with pytest.raises(_Killed):
        WRITERS[writer](path)
    monkeypatch.undo()
    assert landed == [".pt", ".json"]
    assert path.is_file() and not card.exists()  # the weights are there, the card never came
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]  # no temporary file left
    WRITERS[writer](path)  # a later save completes the pair
    assert json.loads(card.read_text())
