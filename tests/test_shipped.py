"""The shipped models (:mod:`xstyle.models.shipped`) and the ``shipped:NAME`` spec every loader takes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import xstyle
from xstyle.models.shipped import KINDS, SHIPPED_PREFIX, resolve_shipped, shipped_model, shipped_models

ENTRIES = list(shipped_models().values())


def test_the_registry_lists_every_kind_and_the_expected_names():
    assert {m.kind for m in ENTRIES} == set(KINDS)
    names = {m.name for m in ENTRIES}
    assert {"vgg19-caffe", "dcgan", "digit-classifier", "starry_night", "great_wave"} <= names
    for kind in KINDS:
        assert all(m.kind == kind for m in shipped_models(kind).values())


@pytest.mark.parametrize("model", ENTRIES, ids=lambda m: m.name)
def test_every_entry_resolves_to_an_existing_file_and_its_card_parses(model):
    path = resolve_shipped(model.spec, model.kind)
    assert path.is_file() and path == model.path
    assert model.spec == SHIPPED_PREFIX + model.name
    if model.card is not None:
        card = model.read_card()
        assert isinstance(card, dict) and card


def test_gan_models_have_cards():
    assert shipped_models("dcgan")["dcgan"].card is not None
    assert shipped_models("digit-classifier")["digit-classifier"].card is not None


@pytest.mark.parametrize(
    ("spec", "kind"), [("shipped:nope", None), ("shipped:nope", "dcgan"), ("shipped:dcgan", "stylizer")]
)
def test_an_unknown_name_is_a_one_line_error_listing_the_choices(spec, kind):
    with pytest.raises(ValueError, match="is not shipped; choose one of") as info:
        resolve_shipped(spec, kind)
    message = str(info.value)
    assert "\n" not in message
    for name in shipped_models(kind):
        assert SHIPPED_PREFIX + name in message


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        shipped_models("gan")


def test_file_stems_are_aliases():
    assert shipped_model("shipped:dcgan_mnist", "dcgan").name == "dcgan"
    assert shipped_model("shipped:digit_classifier", "digit-classifier").name == "digit-classifier"


def test_the_table_imports_no_torch():
    code = "import sys, xstyle.models.shipped as s; s.shipped_models(); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_gan_loaders_accept_shipped_specs():
    from xstyle.gan.classifier import DigitClassifier, load_classifier
    from xstyle.gan.train import load_checkpoint

    ckpt = load_checkpoint("shipped:dcgan")
    assert ckpt.epoch == load_checkpoint(resolve_shipped("shipped:dcgan", "dcgan")).epoch
    assert isinstance(load_classifier("shipped:digit-classifier"), DigitClassifier)
    with pytest.raises(ValueError, match="not shipped"):
        load_checkpoint("shipped:digit-classifier")
    with pytest.raises(ValueError, match="not shipped"):
        load_classifier("shipped:dcgan")


def test_the_stylizer_loader_accepts_shipped_specs():
    from xstyle.stylizer.train import load_stylizer, shipped_stylizers

    assets = Path(xstyle.__file__).parent / "assets" / "stylizers"
    assert shipped_stylizers() == {p.stem: p for p in sorted(assets.glob("*.pt"))}
    for name in shipped_stylizers():
        assert load_stylizer(f"shipped:{name}").config == load_stylizer(shipped_stylizers()[name]).config


def test_vgg_accepts_shipped_vgg19_caffe_as_the_caffe_source():
    import torch

    from xstyle.models.vgg import load_vgg19

    a = load_vgg19("shipped:vgg19-caffe", last_layer="relu1_1")
    b = load_vgg19("caffe", last_layer="relu1_1")
    assert torch.equal(a.conv1_1.weight, b.conv1_1.weight) and torch.equal(a.mean, b.mean)
    with pytest.raises(ValueError, match="not shipped; choose one of shipped:vgg19-caffe"):
        load_vgg19("shipped:vgg19-imagenet")
