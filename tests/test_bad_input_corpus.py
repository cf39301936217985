"""A corpus of bad inputs run through every CLI command, in-process via ``xstyle.cli.main(argv)``.

Every case must be refused at argument or input checking, before any real work:

* exit code 2 (1 for the disk-full cases, :data:`DISK_FULL_CASES`: a machine's failure, not bad input);
* stderr is exactly one non-empty line starting with ``xstyle `` (no progress bar, no warning, no
  log line before it) and no ``Traceback`` anywhere;
* nothing written: the case's folder (the working directory, holding any user files the case put
  there) has the same paths and the same SHA-256 for every file before and after, and the shared
  corpus of bad inputs is untouched (no hostile pickle ran: its marker file never appears);
* quick: over 20 s means real work ran (a refusal takes well under a second; modules, VGG19 and the
  shipped models are loaded once beforehand, by the session fixture; the margin absorbs a busy
  2-core machine). A case still running after 60 s is stopped, and the address
  space is capped for the duration, so a huge allocation fails in-process instead of waking the
  OOM killer.

The bad inputs themselves are built by ``tests/corpus_inputs.py``. Options after the bad one keep
the work small (``--size 32``, ``--steps 1``, ...) so that a case which wrongly runs stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import resource
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from corpus_inputs import BAD_IMAGES, MANIFESTS, MARKER_NAME, SHIPPED_GAN, build_corpus, png_bytes

from xstyle.cli import main

CASE_LIMIT_S = 20.0  # a refusal takes well under a second; more means work ran
HARD_STOP_S = 60.0  # stop a case that started real work
MEMORY_HEADROOM = 6 << 30  # bytes of address space a case may add before allocations fail

C, S = "sample:chelsea", "sample:starry_night"
SHIPPED_STYLIZER = "shipped:starry_night"


# ------------------------------------------------------------------------------------------ corpus


class Corpus:
    """The bad inputs: ``c["name"]`` is a Path; ``c.image(kind)`` an image argument."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files
        self.marker = files["marker"]
        self.root = self.marker.parent

    def __getitem__(self, name: str) -> Path:
        return self.files[name]

    def image(self, kind: str) -> str | Path:
        name = BAD_IMAGES[kind]
        return name if name.startswith("sample:") else self[name]


def _warm_up() -> None:
    """Import what the commands import lazily and load VGG19 and the shipped models once, so the
    per-case time limit measures the case, not the first load."""
    import importlib

    import torch

    for name in (
        "matplotlib.pyplot",
        "tqdm.auto",
        "torchvision.utils",
        "xstyle.transfer",
        "xstyle.gan.metrics",
        "xstyle.explain.gan.probes",
        "xstyle.explain.style.gram",
        "xstyle.explain.style.lowrank",
        "xstyle.explain.style.fingerprint",
        "xstyle.explain.style.ablation",
        "xstyle.explain.style.tradeoff",
        "xstyle.explain.style.maps",
        "xstyle.explain.gan.gan_maps",
        "xstyle.explain.gan.directions",
        "xstyle.explain.gan.traversal",
        "xstyle.explain.gan.dynamics",
        "xstyle.explain.gan.prior",
        "xstyle.report.style",
        "xstyle.report.gan",
        "xstyle.report.writer",
        "xstyle.stylizer",
        "xstyle.explain.style.stylizer",
    ):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    from xstyle.data import load_digits, resolve_image
    from xstyle.gan.classifier import load_classifier
    from xstyle.gan.train import load_checkpoint
    from xstyle.models.vgg import load_vgg19
    from xstyle.stylizer import load_stylizer

    vgg = load_vgg19("caffe", last_layer="relu5_1")
    with torch.no_grad():
        vgg(resolve_image(C, size=32))  # starts the thread pools too
    resolve_image(S, size=32)
    load_checkpoint(SHIPPED_GAN)
    load_classifier("shipped:digit-classifier")
    load_stylizer(SHIPPED_STYLIZER)
    load_digits("heldout")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    c = Corpus(build_corpus(tmp_path_factory.mktemp("bad-input-corpus")))
    _warm_up()
    return c


# --------------------------------------------------------------------------- argv and user files


def cmd(*parts: str | Path | list[str]) -> list[str]:
    """An argv from readable parts: a str is split on spaces (``"gan sample -n 4"``), a Path (a
    corpus file or a user file, whatever its name) stays one argument, a list is spliced in."""
    argv: list[str] = []
    for part in parts:
        if isinstance(part, Path):
            argv.append(str(part))
        elif isinstance(part, list):
            argv += part
        else:
            argv += part.split()
    return argv


USER_FILES = {"metrics.json": b'{"my": "numbers"}\n', "photo.png": png_bytes(), "notes.md": b"# my notes\n"}


def user_file(path: Path, data: bytes = b"mine, not xstyle's\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def user_folder(folder: Path, files: dict[str, bytes] = USER_FILES) -> Path:
    """A folder holding user files (metrics.json, photo.png, notes.md by default)."""
    for name, data in files.items():
        user_file(folder / name, data)
    return folder


def xstyle_folder_plus(folder: Path, *, add: str | None = None, edit: str | None = None) -> Path:
    """A folder xstyle wrote (with its ``.xstyle-output`` manifest), then a user added or edited a file."""
    from xstyle.atomic import OUTPUT_MARKER, atomic_dir

    with atomic_dir(folder) as tmp:
        (tmp / "result.json").write_text('{"from": "xstyle"}\n')
        (tmp / "figure.png").write_bytes(png_bytes())
    assert (folder / OUTPUT_MARKER).is_file()
    if add:
        user_file(folder / add)
    if edit:
        user_file(folder / edit, b'{"edited": "by me"}\n')
    return folder


def xstyle_folder_forged(folder: Path, rel: str) -> Path:
    """A folder xstyle wrote, then a user file ``rel`` added and listed in its ``.xstyle-output`` with
    its correct SHA-256, size and modification time (what an earlier xstyle trusted)."""
    from xstyle.atomic import OUTPUT_MARKER

    xstyle_folder_plus(folder, add=rel)
    data = (folder / rel).read_bytes()
    marker = json.loads((folder / OUTPUT_MARKER).read_text())
    entry = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    marker["files"][rel] = {**entry, "mtime_ns": (folder / rel).stat().st_mtime_ns}
    (folder / OUTPUT_MARKER).write_text(json.dumps(marker))
    return folder


def xstyle_folder_old_list(folder: Path) -> Path:
    """A folder listed by an older xstyle (hashes only): a user's file among its files."""
    from xstyle.atomic import OUTPUT_MARKER

    user_folder(folder)
    listed = {n: {"sha256": hashlib.sha256((folder / n).read_bytes()).hexdigest()} for n in USER_FILES}
    (folder / OUTPUT_MARKER).write_text(json.dumps({"format": "xstyle-output/2", "files": listed}))
    return folder


def xstyle_folder_copied(case: Path, name: str) -> Path:
    """A copy of a folder xstyle wrote (new files: it cannot be told from a forged one)."""
    import shutil

    xstyle_folder_plus(case / "original")
    shutil.copytree(case / "original", case / name)
    return case / name


#: lock files of "other runs" written by cases, removed after each test
_FAKE_LOCKS: list[Path] = []


def being_written(path: Path) -> Path:
    """``path`` as while another xstyle run writes it: its lock held by a running process (PID 1)."""
    from xstyle import atomic

    record = {**atomic._lock_record(path), "pid": 1, "start": atomic._process_start(1)}
    lock = atomic._lock_dir() / f"{atomic._lock_key(path)}.lock"
    lock.write_text(json.dumps({**record, "command": "xstyle batch paintings ... (another run)"}))
    _FAKE_LOCKS.append(lock)
    return path


@pytest.fixture(autouse=True)
def _remove_fake_locks():
    yield
    while _FAKE_LOCKS:
        _FAKE_LOCKS.pop().unlink(missing_ok=True)


def after(_setup: object, *parts: str | Path | list[str]) -> list[str]:
    """``cmd(*parts)``, once the setup given first (user files put in the way) is done."""
    return cmd(*parts)


# ----------------------------------------------------------------------------------- cheap options
# appended so that a case which wrongly starts work stays small (none of them is the bad input)

TRANSFER_CHEAP = cmd("--size 32 --steps 1")
GAN_TRAIN_CHEAP = cmd("--epochs 1 --no-metrics")
STYLIZER_TRAIN_CHEAP = cmd(
    "--epochs 1 --steps-per-epoch 1 --batch-size 1 --crop-size 32 --style-size 32 --patch-size 16 "
    "--eval-size 32"
)
LATENT_CHEAP = cmd("-n 50 --n-traverse 2 --components 1 --methods interfacegan")
GAN_ATTR_CHEAP = cmd("--digits 2 -n 10 --n-steps 2 --no-sanity")
GRAM_CHEAP = cmd("--size 32 --lowrank-steps 0 --fingerprint-size 32")
ABLATION_CHEAP = cmd("--layer relu1_1 --size 32 --steps 1 --counts 1")
ATTR_CHEAP = cmd("--size 32 --steps 1 --n-steps 2 --top-pairs 1 --no-sanity")
STYLIZER_EXPLAIN_CHEAP = cmd("--size 32 --n-steps 2 --no-channels")


# ------------------------------------------------------------------------------------------- cases

Build = Callable[["Corpus", Path], list[str]]  # (corpus, case folder) -> argv; may put user files there

GAN_CHECKPOINTS = {  # kind -> corpus file
    "not-torch": "not-torch.pt",
    "os-system": "os-system.pt",
    "os-system-zip": "os-system-zip.pt",
    "truncated-zip": "gan-truncated.pt",
    "config-list": "gan-config-list.pt",
    "batch-size-string": "gan-batch-size-string.pt",
    "generator-tensor": "gan-generator-tensor.pt",
    "history-int": "gan-history-int.pt",
    "nan-weights": "gan-nan-weights.pt",
    "huge-prior": "gan-huge-prior.pt",
}
CLASSIFIERS = {
    "os-system": "os-system.pt",
    "list": "classifier-list.pt",
    "non-tensor": "classifier-non-tensor.pt",
    "wrong-shape": "classifier-wrong-shape.pt",
    "nan-weights": "classifier-nan-weights.pt",
}
STYLIZERS = {
    "os-system": "os-system.pt",
    "truncated-zip": "stylizer-truncated.pt",
    "config-list": "stylizer-config-list.pt",
    "net-tensor": "stylizer-net-tensor.pt",
    "history-int": "stylizer-history-int.pt",
    "nan-weights": "stylizer-nan-weights.pt",
    "style-string": "stylizer-style-string.pt",
    "huge-residual-blocks": "stylizer-huge-residual-blocks.pt",
}
APPLY = cmd("stylizer apply --model", SHIPPED_STYLIZER)
STYLIZER_TRAIN = cmd("stylizer train --style", S, "--out run")
STYLIZER_EXPLAIN = cmd("stylizer explain --model", SHIPPED_STYLIZER, STYLIZER_EXPLAIN_CHEAP)
ABLATION = cmd("explain ablation --content", C, "--style", S, ABLATION_CHEAP)

IMAGE_CASES: list[tuple[str, Build]] = [
    *[
        (f"transfer/content-{k}", lambda c, t, k=k: cmd("transfer", c.image(k), S, "-o out.png"))
        for k in BAD_IMAGES
    ],
    *[(f"stylizer-apply/{k}", lambda c, t, k=k: cmd(APPLY, c.image(k), "-o styled")) for k in BAD_IMAGES],
    ("demo/content-text-png", lambda c, t: cmd("demo --content", c["text.png"], "--out out")),
    ("explain-gram/style-zero-byte", lambda c, t: cmd("explain gram --style", c["empty.png"], "--out out")),
    (
        "explain-gram/with-truncated-png",
        lambda c, t: cmd("explain gram --style", S, "--with", c["truncated.png"], "--out out"),
    ),
    (
        "explain-ablation/content-dir-named-png",
        lambda c, t: cmd(
            "explain ablation --content", c["folder.png"], "--style", S, ABLATION_CHEAP, "--out out"
        ),
    ),
    (
        "explain-tradeoff/style-text-png",
        lambda c, t: cmd("explain tradeoff --content", C, "--style", c["text.png"], "--out out"),
    ),
    (
        "explain-attribution/content-unknown-sample",
        lambda c, t: cmd("explain attribution --content sample:no_such_photo --out out"),
    ),
    (
        "explain-attribution/stylized-truncated-png",
        lambda c, t: cmd("explain attribution --stylized", c["truncated.png"], ATTR_CHEAP, "--out out"),
    ),
    (
        "report-style/content-missing",
        lambda c, t: cmd("report style --fast --content", c["missing.png"], "--out out"),
    ),
    ("report-demo/style-text-png", lambda c, t: cmd("report demo --fast --style", c["text.png"])),
    (
        "stylizer-train/style-truncated-png",
        lambda c, t: cmd("stylizer train --style", c["truncated.png"], "--out run", STYLIZER_TRAIN_CHEAP),
    ),
    (
        "stylizer-train/content-dir-empty",
        lambda c, t: cmd(STYLIZER_TRAIN, "--content-dir", c["empty-dir"], STYLIZER_TRAIN_CHEAP),
    ),
    (
        "stylizer-train/content-dir-with-broken-photo",
        lambda c, t: cmd(STYLIZER_TRAIN, "--content-dir", c["bad-photos"], STYLIZER_TRAIN_CHEAP),
    ),
    ("stylizer-apply/folder-with-broken-photo", lambda c, t: cmd(APPLY, c["bad-photos"], "-o styled")),
    (
        "stylizer-explain/content-zero-byte",
        lambda c, t: cmd(STYLIZER_EXPLAIN, "--content", c["empty.png"], "--out out"),
    ),
]

VGG_WEIGHTS_CASES: list[tuple[str, Build]] = [
    (
        "transfer/weights-not-torch",
        lambda c, t: cmd("transfer", C, S, "-o o.png --weights", c["not-torch.pt"], TRANSFER_CHEAP),
    ),
    (
        "transfer/weights-os-system",
        lambda c, t: cmd("transfer", C, S, "-o o.png --weights", c["os-system.pt"], TRANSFER_CHEAP),
    ),
    (
        "explain-ablation/weights-os-system-zip",
        lambda c, t: cmd(ABLATION, "--weights", c["os-system-zip.pt"], "--out out"),
    ),
    (
        "stylizer-train/weights-truncated-zip",
        lambda c, t: cmd(STYLIZER_TRAIN, "--weights", c["gan-truncated.pt"], STYLIZER_TRAIN_CHEAP),
    ),
]


def _gan_cases(prefix: str, kinds: list[str], *parts: str | list[str]) -> list[tuple[str, Build]]:
    """One case per kind of bad DCGAN checkpoint, named PREFIX + kind; CKPT in ``parts`` is the file."""
    return [
        (
            f"{prefix}{k}",
            lambda c, t, k=k: [str(c[GAN_CHECKPOINTS[k]]) if a == "CKPT" else a for a in cmd(*parts)],
        )
        for k in kinds
    ]


GAN_CHECKPOINT_CASES: list[tuple[str, Build]] = [
    *_gan_cases("gan-sample/", list(GAN_CHECKPOINTS), "gan sample --checkpoint CKPT -n 4 -o g.png"),
    *_gan_cases(
        "gan-eval/",
        ["config-list", "history-int", "nan-weights"],
        "gan eval --checkpoint CKPT --n-samples 200",
    ),
    *_gan_cases(
        "gan-export/", ["not-torch", "batch-size-string", "nan-weights"], "gan export CKPT -o release.pt"
    ),
    *_gan_cases(
        "gan-train/resume-",
        ["os-system", "config-list"],
        "gan train --out run --resume CKPT",
        GAN_TRAIN_CHEAP,
    ),
    *_gan_cases(
        "explain-latent/",
        ["generator-tensor", "nan-weights"],
        "explain latent --checkpoint CKPT --out out",
        LATENT_CHEAP,
    ),
    *_gan_cases(
        "explain-gan-attribution/",
        ["config-list"],
        "explain gan-attribution --checkpoint CKPT --out out",
        GAN_ATTR_CHEAP,
    ),
    *_gan_cases(
        "probe-attributes/",
        ["batch-size-string"],
        "probe attributes --checkpoint CKPT -n 50 --pca 2 --out out",
    ),
    *_gan_cases(
        "probe-directions/", ["generator-tensor"], "probe directions --checkpoint CKPT -n 50 --out out"
    ),
    *_gan_cases(
        "probe-traverse/", ["history-int"], "probe traverse --checkpoint CKPT -n 50 --n-traverse 2 --out out"
    ),
    *_gan_cases(
        "probe-components/", ["huge-prior"], "probe components --checkpoint CKPT --per-component 10 --out out"
    ),
    *_gan_cases("probe-dynamics/", ["truncated-zip"], "probe dynamics --checkpoints CKPT -n 50 --out out"),
    *_gan_cases("report-gan/", ["os-system-zip"], "report gan --fast --checkpoint CKPT --out out"),
    *_gan_cases("report-demo/", ["config-list"], "report demo --fast --checkpoint CKPT --out out"),
]

CLASSIFIER_CASES: list[tuple[str, Build]] = [
    *[
        (
            f"gan-eval/classifier-{k}",
            lambda c, t, k=k: cmd("gan eval --n-samples 200 --classifier", c[CLASSIFIERS[k]]),
        )
        for k in CLASSIFIERS
    ],
    (
        "gan-eval/classifier-is-a-dcgan",
        lambda c, t: cmd("gan eval --n-samples 200 --classifier", SHIPPED_GAN),
    ),
    (
        "explain-latent/classifier-nan-weights",
        lambda c, t: cmd(
            "explain latent --classifier", c["classifier-nan-weights.pt"], LATENT_CHEAP, "--out out"
        ),
    ),
    (
        "probe-components/classifier-wrong-shape",
        lambda c, t: cmd("probe components -n 10 --out out --classifier", c["classifier-wrong-shape.pt"]),
    ),
    (
        "gan-train/classifier-os-system",
        lambda c, t: cmd("gan train --out run --epochs 1 --classifier", c["os-system.pt"]),
    ),
    (
        "report-gan/classifier-non-tensor",
        lambda c, t: cmd("report gan --fast --out out --classifier", c["classifier-non-tensor.pt"]),
    ),
]

STYLIZER_MODEL_CASES: list[tuple[str, Build]] = [
    *[
        (
            f"stylizer-apply/model-{k}",
            lambda c, t, k=k: cmd("stylizer apply --model", c[STYLIZERS[k]], C, "-o o.png --size 32"),
        )
        for k in STYLIZERS
    ],
    (
        "stylizer-apply/model-unknown-shipped",
        lambda c, t: cmd("stylizer apply --model shipped:no_such_style", C, "-o o.png"),
    ),
    (
        "stylizer-apply/model-is-a-dcgan",
        lambda c, t: cmd("stylizer apply --model", SHIPPED_GAN, C, "-o o.png --size 32"),
    ),
    *[
        (
            f"stylizer-explain/model-{k}",
            lambda c, t, k=k: cmd(
                "stylizer explain --model",
                c[STYLIZERS[k]],
                "--content",
                C,
                STYLIZER_EXPLAIN_CHEAP,
                "--out out",
            ),
        )
        for k in ("config-list", "nan-weights")
    ],
    (
        "stylizer-train/resume-os-system",
        lambda c, t: cmd(STYLIZER_TRAIN, "--resume", c["os-system.pt"], STYLIZER_TRAIN_CHEAP),
    ),
    (
        "report-style/fast-model-history-int",
        lambda c, t: cmd("report style --fast --out out --fast-model", c["stylizer-history-int.pt"]),
    ),
]

SEED_23_DIGITS = "12345678901234567890123"
TRANSFER = cmd("transfer", C, S, "-o o.png")

NUMBER_CASES: list[tuple[str, Build]] = [
    ("transfer/size-100000", lambda c, t: cmd(TRANSFER, "--steps 1 --size 100000")),
    ("transfer/size-minus-5", lambda c, t: cmd(TRANSFER, "--size -5")),
    ("transfer/seed-23-digits", lambda c, t: cmd(TRANSFER, TRANSFER_CHEAP, "--seed", SEED_23_DIGITS)),
    ("transfer/seed-minus-1", lambda c, t: cmd(TRANSFER, TRANSFER_CHEAP, "--seed -1")),
    ("transfer/beta-1e308", lambda c, t: cmd(TRANSFER, TRANSFER_CHEAP, "--beta 1e308")),
    ("transfer/alpha-0-beta-0", lambda c, t: cmd(TRANSFER, TRANSFER_CHEAP, "--alpha 0 --beta 0")),
    ("transfer/alpha-nan", lambda c, t: cmd(TRANSFER, "--alpha nan")),
    ("transfer/beta-inf", lambda c, t: cmd(TRANSFER, "--beta inf")),
    ("gan-sample/n-100000000", lambda c, t: cmd("gan sample -n 100000000 -o g.png")),
    ("gan-sample/n-minus-5", lambda c, t: cmd("gan sample -n -5 -o g.png")),
    ("gan-sample/seed-23-digits", lambda c, t: cmd("gan sample -n 4 -o g.png --seed", SEED_23_DIGITS)),
    ("gan-sample/seed-minus-1", lambda c, t: cmd("gan sample -n 4 -o g.png --seed -1")),
    ("gan-eval/n-samples-1000000000", lambda c, t: cmd("gan eval --n-samples 1000000000")),
    (
        "gan-train/prior-mixture-1000000000",
        lambda c, t: cmd("gan train --out run", GAN_TRAIN_CHEAP, "--prior mixture:1000000000:4:1"),
    ),
    ("gan-train/lr-nan", lambda c, t: cmd("gan train --out run", GAN_TRAIN_CHEAP, "--lr nan")),
    ("gan-train/epochs-minus-5", lambda c, t: cmd("gan train --out run --epochs -5")),
    ("gan-train-classifier/epochs-minus-5", lambda c, t: cmd("gan train-classifier -o clf.pt --epochs -5")),
    ("explain-latent/n-100000000", lambda c, t: cmd("explain latent -n 100000000 --out out")),
    (
        "explain-gan-attribution/digits-100000",
        lambda c, t: cmd("explain gan-attribution -n 10 --n-steps 2 --no-sanity --digits 100000 --out out"),
    ),
    (
        "explain-gram/size-100000",
        lambda c, t: cmd("explain gram --style", S, GRAM_CHEAP, "--size 100000 --out out"),
    ),
    (
        "explain-gram/lowrank-steps-minus-5",
        lambda c, t: cmd(
            "explain gram --style", S, GRAM_CHEAP, "--lowrank-size 32 --lowrank-steps -5 --out out"
        ),
    ),
    ("explain-ablation/rerun-steps-minus-5", lambda c, t: cmd(ABLATION, "--rerun-steps -5 --out out")),
    (
        "explain-tradeoff/ratios-with-nan",
        lambda c, t: cmd("explain tradeoff --content", C, "--style", S, "--ratios 1,nan,3 --out out"),
    ),
    (
        "probe-attributes/n-samples-1000000000",
        lambda c, t: cmd("probe attributes --n-samples 1000000000 --out out"),
    ),
    (
        "probe-directions/components-100000",
        lambda c, t: cmd("probe directions -n 50 --components 100000 --out out"),
    ),
    (
        "probe-traverse/sigma-inf",
        lambda c, t: cmd("probe traverse -n 50 --n-traverse 2 --sigma inf --out out"),
    ),
    (
        "probe-dynamics/threshold-nan",
        lambda c, t: cmd("probe dynamics -n 50 --threshold nan --out out --checkpoints", SHIPPED_GAN),
    ),
    ("report-gan/n-minus-5", lambda c, t: cmd("report gan --fast -n -5 --out out")),
    ("stylizer-apply/size-100000", lambda c, t: cmd(APPLY, C, "-o o.png --size 100000")),
    (
        "stylizer-train/residual-blocks-100000",
        lambda c, t: cmd(STYLIZER_TRAIN, STYLIZER_TRAIN_CHEAP, "--residual-blocks 100000"),
    ),
    (
        "stylizer-train/alpha-0-beta-0",
        lambda c, t: cmd(STYLIZER_TRAIN, STYLIZER_TRAIN_CHEAP, "--alpha 0 --beta 0"),
    ),
    (
        "stylizer-train/max-minutes-inf",
        lambda c, t: cmd(STYLIZER_TRAIN, STYLIZER_TRAIN_CHEAP, "--max-minutes inf"),
    ),
]

EPOCH_1_FILES = {"epoch_0001.json": b"{}\n", "samples/epoch_0001.png": png_bytes()}

OUTPUT_CASES: list[tuple[str, Build]] = [
    (
        "transfer/out-png-exists",
        lambda c, t: cmd("transfer", C, S, "-o", user_file(t / "out.png", png_bytes()), TRANSFER_CHEAP),
    ),
    (
        "transfer/out-json-sibling-exists",
        lambda c, t: after(user_file(t / "out.json"), "transfer", C, S, "-o out.png", TRANSFER_CHEAP),
    ),
    (
        "transfer/output-below-a-file",
        lambda c, t: after(
            user_file(t / "notes.md"), "transfer", C, S, "-o notes.md/out.png", TRANSFER_CHEAP
        ),
    ),
    ("transfer/output-in-proc", lambda c, t: cmd("transfer", C, S, "-o /proc/xyz.png", TRANSFER_CHEAP)),
    ("demo/out-holds-user-files", lambda c, t: cmd("demo --out", user_folder(t / "out"), TRANSFER_CHEAP)),
    (
        "demo/default-out-holds-user-files",
        lambda c, t: after(user_folder(t / "reports/transfer_demo"), "demo", TRANSFER_CHEAP),
    ),
    (
        "gan-sample/out-png-exists",
        lambda c, t: cmd("gan sample -n 4 -o", user_file(t / "grid.png", png_bytes())),
    ),
    (
        "gan-sample/output-is-a-folder",
        lambda c, t: after(user_folder(t / "grid.png"), "gan sample -n 4 -o grid.png"),
    ),
    (
        "gan-train-classifier/out-pt-exists",
        lambda c, t: cmd("gan train-classifier --epochs 1 -o", user_file(t / "clf.pt")),
    ),
    (
        "gan-train-classifier/out-json-sibling-exists",
        lambda c, t: after(user_file(t / "clf.json"), "gan train-classifier --epochs 1 -o clf.pt"),
    ),
    (
        "gan-export/out-pt-exists",
        lambda c, t: cmd("gan export", SHIPPED_GAN, "-o", user_file(t / "release.pt")),
    ),
    (
        "gan-export/out-json-sibling-exists",
        lambda c, t: after(user_file(t / "release.json"), "gan export", SHIPPED_GAN, "-o release.pt"),
    ),
    (
        "gan-eval/json-exists",
        lambda c, t: cmd("gan eval --n-samples 200 --json", user_file(t / "metrics.json")),
    ),
    (
        "gan-train/out-holds-user-epoch-files",
        lambda c, t: cmd("gan train", GAN_TRAIN_CHEAP, "--out", user_folder(t / "run", EPOCH_1_FILES)),
    ),
    ("gan-train/out-in-proc", lambda c, t: cmd("gan train", GAN_TRAIN_CHEAP, "--out /proc/xyz")),
    (
        "explain-gram/out-holds-user-files",
        lambda c, t: cmd("explain gram --style", S, GRAM_CHEAP, "--out", user_folder(t / "out")),
    ),
    (
        "explain-latent/out-marker-plus-user-file",
        lambda c, t: cmd(
            "explain latent", LATENT_CHEAP, "--out", xstyle_folder_plus(t / "out", add="notes.md")
        ),
    ),
    (
        "explain-attribution/out-is-cwd",
        lambda c, t: after(user_file(t / "notes.md"), "explain attribution", ATTR_CHEAP, "--out ."),
    ),
    (
        "explain-ablation/out-below-a-file",
        lambda c, t: after(user_file(t / "notes.md"), ABLATION, "--out notes.md/out"),
    ),
    (
        "probe-attributes/out-marker-plus-user-file",
        lambda c, t: cmd(
            "probe attributes -n 50 --pca 2 --out", xstyle_folder_plus(t / "out", add="photo.png")
        ),
    ),
    (
        "probe-dynamics/out-marker-plus-edited-file",
        lambda c, t: cmd(
            "probe dynamics -n 50 --checkpoints",
            SHIPPED_GAN,
            "--out",
            xstyle_folder_plus(t / "out", edit="result.json"),
        ),
    ),
    ("probe-components/out-in-proc", lambda c, t: cmd("probe components -n 10 --out /proc/xyz")),
    (
        "report-style/out-holds-user-files",
        lambda c, t: cmd("report style --fast --out", user_folder(t / "out")),
    ),
    (
        "report-gan/out-marker-plus-user-file",
        lambda c, t: cmd("report gan --fast --out", xstyle_folder_plus(t / "out", add="metrics.json")),
    ),
    (
        "report-demo/default-out-holds-user-files",
        lambda c, t: after(user_folder(t / "reports/demo"), "report demo --fast"),
    ),
    (
        "stylizer-train/out-holds-user-model-pt",
        lambda c, t: cmd(
            "stylizer train --style",
            S,
            STYLIZER_TRAIN_CHEAP,
            "--out",
            user_folder(t / "run", {"model.pt": b"my model\n"}),
        ),
    ),
    (
        "stylizer-train/out-holds-user-losses-png",
        lambda c, t: cmd(
            "stylizer train --style",
            S,
            STYLIZER_TRAIN_CHEAP,
            "--out",
            user_folder(t / "run", {"losses.png": png_bytes()}),
        ),
    ),
    (
        "stylizer-apply/out-folder-has-stylized-png",
        lambda c, t: after(
            user_folder(t / "styled", {"chelsea_stylized.png": png_bytes()}), APPLY, C, "-o styled --size 32"
        ),
    ),
    (
        "stylizer-apply/out-png-exists",
        lambda c, t: cmd(APPLY, C, "--size 32 -o", user_file(t / "o.png", png_bytes())),
    ),
    (
        "stylizer-explain/out-marker-plus-user-file",
        lambda c, t: cmd(
            STYLIZER_EXPLAIN, "--content", C, "--out", xstyle_folder_plus(t / "out", add="notes.md")
        ),
    ),
]

GUARD_CASES: list[tuple[str, Build]] = [  # forged output lists, two runs on one folder
    (
        "explain-gram/out-forged-list",
        lambda c, t: cmd(
            "explain gram --style", S, GRAM_CHEAP, "--out", xstyle_folder_forged(t / "out", "notes.md")
        ),
    ),
    (
        "explain-gram/out-forged-list-subfolder",
        lambda c, t: cmd(
            "explain gram --style",
            S,
            GRAM_CHEAP,
            "--out",
            xstyle_folder_forged(t / "out", "figures/mine.png"),
        ),
    ),
    (
        "report-gan/out-older-hash-only-list",
        lambda c, t: cmd("report gan --fast --out", xstyle_folder_old_list(t / "out")),
    ),
    (
        "probe-attributes/out-copied-xstyle-folder",
        lambda c, t: cmd("probe attributes -n 50 --pca 2 --out", xstyle_folder_copied(t, "out")),
    ),
    (
        "explain-gram/out-being-written",
        lambda c, t: cmd("explain gram --style", S, GRAM_CHEAP, "--out", being_written(t / "out")),
    ),
    ("report-gan/out-being-written", lambda c, t: cmd("report gan --fast --out", being_written(t / "out"))),
    (
        "batch-paintings/out-being-written",
        lambda c, t: cmd("batch paintings", S, "--no-report --out", being_written(t / "out")),
    ),
]

BATCH_PAINTINGS = cmd("batch paintings", S, "--no-report --out out")

BATCH_CASES: list[tuple[str, Build]] = [
    *[
        (
            f"batch-manifest/{name.rsplit('.', 1)[0]}",
            lambda c, t, name=name: cmd("batch manifest", c[name], "--out out"),
        )
        for name in MANIFESTS
    ],
    ("batch-paintings/ray-nonsense", lambda c, t: cmd(BATCH_PAINTINGS, "--ray nonsense")),
    ("batch-paintings/ray-port-99999", lambda c, t: cmd(BATCH_PAINTINGS, "--ray ray://head:99999")),
    ("batch-paintings/ray-closed-port", lambda c, t: cmd(BATCH_PAINTINGS, "--ray 127.0.0.1:1")),
    ("batch-paintings/workers-10000", lambda c, t: cmd(BATCH_PAINTINGS, "--workers 10000")),
    ("batch-paintings/threads-1000", lambda c, t: cmd(BATCH_PAINTINGS, "--threads 1000")),
]

OTHER_CASES: list[tuple[str, Build]] = [
    ("samples/kind-bogus", lambda c, t: cmd("samples --kind sculpture")),
    (
        "gan-train/data-mnist-missing-root",
        lambda c, t: cmd("gan train --out run", GAN_TRAIN_CHEAP, "--data mnist:/no/such/root"),
    ),
    ("gan-train-classifier/data-bogus", lambda c, t: cmd("gan train-classifier -o c.pt --data bogus")),
    ("explain-latent/methods-bogus", lambda c, t: cmd("explain latent -n 50 --methods stylegan --out out")),
    ("stylizer-apply/two-inputs-one-png", lambda c, t: cmd(APPLY, C, S, "-o o.png")),
]

CASES: list[tuple[str, Build]] = [
    *IMAGE_CASES,
    *VGG_WEIGHTS_CASES,
    *GAN_CHECKPOINT_CASES,
    *CLASSIFIER_CASES,
    *STYLIZER_MODEL_CASES,
    *NUMBER_CASES,
    *OUTPUT_CASES,
    *GUARD_CASES,
    *BATCH_CASES,
    *OTHER_CASES,
]


# --------------------------------------------------------------------------------------- the check


class CaseTimeout(BaseException):
    """Raised in a case still running after HARD_STOP_S (a BaseException: the CLI must not catch it)."""


def _vm_size() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


@contextmanager
def _bounded() -> Iterator[None]:
    """Stop the case after HARD_STOP_S; cap the address space so a huge allocation fails in-process."""

    def stop(signum, frame):
        raise CaseTimeout(f"still running after {HARD_STOP_S:.0f} s")

    old_handler = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, HARD_STOP_S)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = _vm_size()
    if used is not None:
        cap = used + MEMORY_HEADROOM
        for limit in (soft, hard):
            if limit != resource.RLIM_INFINITY:
                cap = min(cap, limit)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def snapshot(root: Path, *, hashes: bool = True) -> dict[str, str]:
    """Every path below ``root``: 'folder', 'link -> target', or the file's SHA-256 (or size and
    mtime with ``hashes=False``, for the large shared corpus)."""
    tree = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                tree[rel] = f"link -> {os.readlink(path)}"
            elif path.is_dir():
                tree[rel] = "folder"
            elif path.is_file():
                st = path.stat()
                tree[rel] = _sha256(path) if hashes else f"{st.st_size} bytes, mtime {st.st_mtime_ns}"
            else:
                tree[rel] = "special file"
    return tree


def _diff(before: dict[str, str], after: dict[str, str]) -> str:
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    parts = [
        f"{what} {names[:4]}"
        for what, names in (("new", added), ("gone", removed), ("changed", changed))
        if names
    ]
    return "; ".join(parts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:160]}" if text else type(exc).__name__


def run_case(argv: list[str], tmp: Path, *, capsys, corpus: Corpus, code: int = 2) -> str:
    """Run ``xstyle ARGV`` in ``tmp`` (the working directory) and check it was refused cleanly
    (exit ``code``, one line, nothing changed); returns that line."""
    expected = code
    before, corpus_before = snapshot(tmp), snapshot(corpus.root, hashes=False)
    capsys.readouterr()
    # a real run prints warnings and log records on stderr: count them as stderr lines here too
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    raised = None
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with _bounded():
                    code = main(argv)
            except (Exception, CaseTimeout, SystemExit) as exc:  # any escape is a finding
                code, raised = None, exc
    finally:
        logging.getLogger().removeHandler(handler)
    seconds = time.perf_counter() - t0
    out, err = capsys.readouterr()

    problems = []
    if raised is not None:
        problems.append(f"raised {_first_line(raised)}")
    elif code != expected:
        problems.append(f"exit {code}")
    lines = err.splitlines()
    if len(lines) != 1 or not lines[0].strip() or not lines[0].startswith("xstyle "):
        shown = next((ln for ln in lines if ln.strip()), "")
        problems.append(f"stderr has {len(lines)} lines, first {shown[:200]!r}")
    if "Traceback" in out + err:
        problems.append("a Traceback was printed")
    if caught:
        w = caught[0]
        problems.append(f"{len(caught)} warning(s), first {w.category.__name__}: {str(w.message)[:120]}")
    if seconds > CASE_LIMIT_S:
        problems.append(f"took {seconds:.1f} s (> {CASE_LIMIT_S:.0f} s: real work ran)")
    changed = _diff(before, snapshot(tmp))
    if changed:
        problems.append(f"case folder changed: {changed}")
    if corpus.marker.exists():
        problems.append(f"the os.system pickle RAN: {MARKER_NAME} exists")
        corpus.marker.unlink()
    changed = _diff(corpus_before, snapshot(corpus.root, hashes=False))
    if changed:
        problems.append(f"corpus changed: {changed}")
    if problems:
        pytest.fail(" | ".join(problems), pytrace=False)
    return lines[0]


@pytest.mark.parametrize("build", [pytest.param(build, id=name) for name, build in CASES])
def test_bad_input_is_refused_early_in_one_line(build, corpus, tmp_path, monkeypatch, capsys):
    case = tmp_path / "case"
    case.mkdir()
    monkeypatch.chdir(case)
    argv = build(corpus, case)
    run_case(argv, case, capsys=capsys, corpus=corpus)


# ------------------------------------------------------------------------------------ a full disk


def _fill_the_disk(monkeypatch) -> None:
    """Writes into xstyle's temporaries (``.NAME.xs-...``) write half their bytes, then find the disk
    full (ENOSPC), as on a file system with too little space left."""
    import errno

    real_bytes, real_text = Path.write_bytes, Path.write_text

    def write_bytes(self, data):
        if ".xs-" not in str(self):
            return real_bytes(self, data)
        real_bytes(self, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    def write_text(self, data, encoding=None, errors=None, newline=None):
        if ".xs-" not in str(self):
            return real_text(self, data, encoding=encoding, errors=errors, newline=newline)
        return write_bytes(self, data.encode(encoding or "utf-8"))

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    monkeypatch.setattr(Path, "write_text", write_text)


def _earlier_batch(case: Path) -> Path:
    """A batch folder (and its collection report) written by an earlier run: two items whose
    files are missing (they fail without a worker process starting)."""
    manifest = user_file(case / "m.csv", b"kind,painting\npainting,gone1.png\npainting,gone2.png\n")
    assert main(["-q", "batch", "manifest", str(manifest), "--out", str(case / "out")]) == 1
    assert (case / "out" / "report" / "index.html").is_file()
    return manifest


DISK_FULL_CASES: list[tuple[str, Build]] = [
    ("batch-report/disk-full", lambda c, t: after(_earlier_batch(t), "batch report out")),
    (
        "batch-manifest/disk-full-on-resume",
        lambda c, t: cmd("batch manifest", _earlier_batch(t), "--out out"),
    ),
]


@pytest.mark.parametrize("build", [pytest.param(build, id=name) for name, build in DISK_FULL_CASES])
def test_a_full_disk_is_one_line_and_keeps_the_previous_output(build, corpus, tmp_path, monkeypatch, capsys):
    """Exit 1, one line (``no space left on ... while writing ...; free N MB``), the earlier batch
    and report byte for byte as they were, no temporary left (the case folder is unchanged)."""
    case = tmp_path / "case"
    case.mkdir()
    monkeypatch.chdir(case)
    argv = build(corpus, case)
    _fill_the_disk(monkeypatch)
    line = run_case(argv, case, capsys=capsys, corpus=corpus, code=1)
    assert ": error: no space left on '/" in line and " while writing 'out" in line, line
    assert re.search(r"; free \d+ MB, then run it again$", line), line


def test_case_ids_are_unique_and_the_corpus_is_large():
    names = [name for name, _ in CASES + DISK_FULL_CASES]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert 80 <= len(names) <= 200, len(names)
