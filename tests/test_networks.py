"""The network registry: specs, building, layer names, defaults, weights files and bad specs."""

from __future__ import annotations

import sys
import textwrap

import pytest
import torch

from xstyle.hooks import FeatureTap, assert_no_hooks
from xstyle.models import (
    NetworkError,
    NetworkSpec,
    check_network_layers,
    get_network,
    get_network_spec,
    list_networks,
    network_defaults,
    network_layers,
)
from xstyle.models._adapt import adapt, default_layers, probe_calls

#: a tiny network with known layers; ``act`` runs twice per forward pass (a reused module). Written
#: into the user's module file by the fixtures, as a user's own code would be.
STUB_SOURCE = textwrap.dedent(
    """
    import torch
    from torch import nn


    class StubNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 4, 3, padding=1)
            self.act = nn.ReLU(inplace=True)
            self.down = nn.Conv2d(4, 6, 3, stride=2, padding=1)
            self.relu2 = nn.ReLU(inplace=True)
            self.down2 = nn.Conv2d(6, 8, 3, stride=2, padding=1)
            self.relu3 = nn.ReLU()
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            x = self.act(self.stem(x))
            x = self.act(x + 0.1)  # the same module again
            x = self.relu2(self.down(x))
            x = self.relu3(self.down2(x))
            return self.fc(self.pool(x).flatten(1))


    def stub():
        torch.manual_seed(0)
        return StubNet()


    def stub2():
        torch.manual_seed(1)
        return StubNet()


    def bad():
        return 42
    """
)
_NS: dict = {}
exec(compile(STUB_SOURCE, "<stub>", "exec"), _NS)
StubNet = _NS["StubNet"]
make_stub = _NS["stub"]


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """An importable module ``xs_user_nets`` with ``stub()`` (the StubNet) and ``bad()`` (no module)."""
    (tmp_path / "xs_user_nets.py").write_text(STUB_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "xs_user_nets"
    sys.modules.pop("xs_user_nets", None)


def test_list_networks_has_the_registered_names():
    names = list_networks()
    for name in ("vgg19-caffe", "vgg19-imagenet", "vgg19-random", "efficientnet-lite0", "resnet18-random"):
        assert name in names
    assert names[0] == "vgg19-caffe"


def test_vgg19_caffe_spec_is_the_gatys_network():
    spec = get_network_spec("vgg19-caffe")
    assert network_defaults(spec) == (("relu4_2",), ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"))
    assert get_network_spec("shipped:vgg19-caffe") is spec
    assert network_layers("vgg19-caffe")[0] == "conv1_1" and len(network_layers("vgg19-caffe")) == 37


def test_default_layers_rule_gives_gatys_layers_on_vgg19(random_vgg):
    # planted answer: the generic rule picks exactly Gatys et al.'s layers on VGG19
    assert default_layers(random_vgg, probe_calls(random_vgg)) == (
        ("relu4_2",),
        ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
    )


def test_adapt_copies_normalises_and_never_mutates_the_users_module():
    user = make_stub().train()
    net = adapt(user, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    assert user.act.inplace and user.training and user.stem.weight.requires_grad  # untouched
    assert not net.act.inplace and not net.training and not net.stem.weight.requires_grad
    assert isinstance(net, StubNet) and set(net.state_dict()) == set(user.state_dict())
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(net(x), user.eval()((x - 0.5) / 0.25), atol=1e-6)
    with pytest.raises(ValueError, match=r"RGB images \(N, 3, H, W\)"):
        net(torch.rand(1, 1, 8, 8))


def test_user_callable_network_layers_defaults_and_taps(user_module):
    spec = f"{user_module}:stub"
    names = network_layers(spec)
    assert names == ("stem", "act:0", "act:1", "down", "relu2", "down2", "relu3", "pool", "fc")
    # resolutions 16, 8, 4 px at the 64 px probe: first activation of each; content: the deepest group's
    assert network_defaults(spec) == (("relu3",), ("act:0", "relu2", "relu3"))
    net = get_network(spec)
    x = torch.rand(1, 3, 16, 16)
    with FeatureTap(net, ["act:1", "relu2"], stop_after_last=True) as tap:
        feats = tap.run(x)
    stem = torch.relu(net.stem((x - net.xstyle_mean) / net.xstyle_std))
    assert torch.allclose(feats["act:1"], torch.relu(stem + 0.1))
    assert_no_hooks(net)


def test_check_network_layers_suggests_the_networks_close_names(user_module):
    spec = f"{user_module}:stub"
    assert check_network_layers(spec, ["relu2"], param="style_layers") == ("relu2",)
    with pytest.raises(
        NetworkError, match=r"style_layers must be layer names of the network .*'relu22'.*'relu2'"
    ):
        check_network_layers(spec, ["relu22"], param="style_layers")
    with pytest.raises(ValueError, match=r"content_layers must be VGG19 layer names"):
        check_network_layers("vgg19-caffe", ["layer1.0.relu"], param="content_layers")


def test_weights_file_is_loaded_weights_only_and_checked_key_by_key(user_module, tmp_path):
    spec = f"{user_module}:stub"
    other = make_stub()
    with torch.no_grad():
        other.fc.bias.fill_(3.0)
    good = tmp_path / "good.pt"
    torch.save(other.state_dict(), good)
    net = get_network(spec, weights=good)
    assert torch.equal(net.fc.bias, torch.full((3,), 3.0))
    assert not torch.equal(get_network(spec).fc.bias, net.fc.bias)  # the user's module kept its own
    bad = tmp_path / "bad.pt"
    torch.save(
        {k: v for k, v in other.state_dict().items() if k != "fc.bias"} | {"extra": torch.zeros(1)}, bad
    )
    with pytest.raises(NetworkError, match=r"do not fit the network .*missing 'fc.bias'; unexpected 'extra'"):
        get_network(spec, weights=bad)
    shape = tmp_path / "shape.pt"
    torch.save(other.state_dict() | {"fc.bias": torch.zeros(4)}, shape)
    with pytest.raises(NetworkError, match=r"fc.bias has shape \(4,\), expected \(3,\)"):
        get_network(spec, weights=shape)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("vgg19-cafe", r"'vgg19-cafe' is not known; choose one of .*Did you mean 'vgg19-caffe'"),
        ("no_such_module_xs:net", r"cannot import 'no_such_module_xs'"),
        ("os.path:nonexistent_callable", r"has no callable 'nonexistent_callable'"),
        ("xs_user_nets:bad", r"returned a int, not a torch.nn.Module"),
        ("torchvision:resnet1800", r"no classification model 'resnet1800'.*Did you mean"),
        ("", r"network must be a name"),
    ],
)
def test_bad_specs_are_one_line_errors(spec, match, user_module):
    with pytest.raises(NetworkError, match=match) as info:
        get_network_spec(spec)
    assert "\n" not in str(info.value)


def test_hubconf_folder_is_a_network(tmp_path):
    (tmp_path / "hubconf.py").write_text("dependencies = ['torch']\n" + STUB_SOURCE)
    assert network_layers(f"{tmp_path}:stub")[:3] == ("stem", "act:0", "act:1")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NetworkError, match=r"has no hubconf.py"):
        get_network_spec(f"{tmp_path / 'empty'}:stub")


def test_torchvision_random_weights_are_seeded_and_leave_the_global_rng_alone():
    state = torch.random.get_rng_state()
    a = get_network("resnet18-random", seed=1)
    b = get_network("torchvision:resnet18", weights="random", seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(a.conv1.weight, b.conv1.weight)
    assert not a.relu.inplace  # torchvision's in-place ReLU is out-of-place in xstyle's copy
    assert network_defaults("resnet18-random")[1][:2] == ("relu", "layer1.0.relu:0")


def test_torchvision_default_weights_load_from_the_cache_offline(tmp_path, monkeypatch):
    """The default weights come through torchvision's weights API from $TORCH_HOME (a file placed
    by hand, as on an offline machine); without the file and without a network: one line."""
    import torchvision.models as tvm

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # follow TORCH_HOME whatever set_dir said before
    enum = tvm.get_model_weights("squeezenet1_0").DEFAULT
    cached = tmp_path / "hub" / "checkpoints" / enum.url.rsplit("/", 1)[1]

    def offline(*args, **kwargs):
        raise OSError("no network here")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(NetworkError, match=r"needs torchvision's weights file .*squeezenet1_0") as info:
        get_network("torchvision:squeezenet1_0")
    assert "\n" not in str(info.value) and "OSError" in str(info.value)
    with torch.random.fork_rng():
        torch.manual_seed(3)
        placed = tvm.squeezenet1_0()
    cached.parent.mkdir(parents=True, exist_ok=True)
    torch.save(placed.state_dict(), cached)
    net = get_network("torchvision:squeezenet1_0")
    assert torch.equal(net.features[0].weight, placed.features[0].weight)
    assert not torch.equal(
        net.features[0].weight, get_network("torchvision:squeezenet1_0", weights="random").features[0].weight
    )


def test_a_network_spec_object_is_accepted():
    spec = NetworkSpec(
        name="stub-spec", family="user", factory=lambda **kw: make_stub(), mean=(0, 0, 0), std=(1, 1, 1)
    )
    net = get_network(spec)
    assert net.xstyle_network == "stub-spec" and network_layers("stub-spec")[0] == "stem"


def test_vgg19_named_weights_refuse_another_file(tmp_path):
    with pytest.raises(NetworkError, match=r"'vgg19-caffe' has its own weights; .*network 'vgg19'"):
        get_network("vgg19-caffe", weights=tmp_path / "x.pt")


@pytest.mark.slow
def test_efficientnet_lite0_classifies_sample_photos():
    """The shipped ImageNet weights work: top-1 on photos whose ImageNet class is known."""
    import torch.nn.functional as F
    from torchvision.models import ResNet18_Weights

    from xstyle.data import load_sample

    categories = ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    net = get_network("efficientnet-lite0")
    expected = {
        "chelsea": {"tabby", "tiger cat", "Egyptian cat"},
        "coffee": {"espresso", "cup", "coffee mug"},
        "grace_hopper": {"military uniform"},
    }
    for name, classes in expected.items():
        x = F.interpolate(load_sample(name), size=(224, 224), mode="bilinear", antialias=True)
        with torch.no_grad():
            top1 = categories[int(net(x).argmax())]
        assert top1 in classes, (name, top1)
    assert "Apache-2.0" in get_network_spec("efficientnet-lite0").license


# --- every style analysis on a registered network: the transfer ----------------------------------


def test_transfer_config_takes_the_networks_defaults_and_validates_its_names(user_module):
    from xstyle.transfer import TransferConfig

    spec = f"{user_module}:stub"
    config = TransferConfig(network=spec, size=32, steps=(3,))
    assert (config.content_layers, config.style_layers) == network_defaults(spec)
    assert config.deepest_layer == "relu3" and config.network_name == spec
    assert TransferConfig().content_layers == ("relu4_2",)  # VGG19 unchanged
    with pytest.raises(ValueError, match=r"style_layers must be layer names of .*got 'act:2'.*'act:0'"):
        TransferConfig(network=spec, style_layers=("act:2",))
    with pytest.raises(ValueError, match=r"weights='imagenet' chooses VGG19's weights; .*network_weights"):
        TransferConfig(network=spec, weights="imagenet")
    with pytest.raises(ValueError, match=r"feature_transform must be one of"):
        TransferConfig(feature_transform="relu")


def test_transfer_runs_on_a_user_network_and_lowers_its_loss(user_module):
    from xstyle.transfer import TransferConfig, style_transfer

    torch.manual_seed(0)
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    config = TransferConfig(network=f"{user_module}:stub", size=32, steps=(15,), init="noise")
    result = style_transfer(content, style, config=config)
    assert result.image.shape == (1, 3, 32, 32)
    assert result.final["total"] < 0.5 * result.history[0].total
    assert result.meta["network"] == f"{user_module}:stub"
    assert set(result.final["style_per_layer"]) == set(config.style_layers)


def test_softmax_transform_mean_one_and_peaky_layers_become_sparse():
    from xstyle.losses import transform_features

    flat = torch.zeros(1, 2, 4, 4)
    peaky = flat.clone()
    peaky[0, 1, 2, 2] = 20.0  # one large activation, as a residual network's deep layers
    out = transform_features({"flat": flat, "peaky": peaky}, kind="softmax", temperature=1.0)
    assert torch.allclose(out["flat"], torch.ones_like(flat))  # planted: a flat layer -> 1 everywhere
    assert torch.allclose(out["peaky"].mean(), torch.tensor(1.0))
    assert out["peaky"][0, 1, 2, 2] > 0.99 * 32  # nearly all the mass at the peak
    hot = transform_features({"peaky": peaky}, kind="softmax", temperature=100.0)["peaky"]
    assert hot.max() < 2.0  # a high temperature flattens it
    assert transform_features({"x": peaky}, kind=None)["x"] is peaky


def test_transfer_with_softmax_transform_changes_the_losses(user_module):
    from xstyle.transfer import StyleObjective, TransferConfig

    torch.manual_seed(0)
    content, style, image = (torch.rand(1, 3, 32, 32) for _ in range(3))
    spec = f"{user_module}:stub"
    plain = TransferConfig(network=spec, size=32, steps=(1,))
    soft = TransferConfig(network=spec, size=32, steps=(1,), feature_transform="softmax")
    net = plain.load_network()
    _, c0, s0 = StyleObjective(net, content, style, plain)(image)
    _, c1, s1 = StyleObjective(net, content, style, soft)(image)
    assert not torch.allclose(s0.total, s1.total) and not torch.allclose(c0.total, c1.total)
    _, c_self, _ = StyleObjective(net, content, style, soft)(content)
    assert float(c_self.total) == pytest.approx(0.0, abs=1e-6)  # content loss still 0 at the content


# --- every style analysis on a user's network (the stub: layers and answers known) ---------------


@pytest.fixture
def stub_setup(user_module):
    from xstyle.transfer import TransferConfig

    spec = f"{user_module}:stub"
    torch.manual_seed(1)
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    config = TransferConfig(network=spec, size=32, steps=(4,), optimizer="adam")
    return spec, get_network(spec), content, style, config


def test_gram_spectra_and_fingerprints_take_the_networks_default_layers(stub_setup):
    from xstyle.explain.style.fingerprint import style_fingerprints
    from xstyle.explain.style.gram import compare_grams, decompose_gram

    spec, net, content, style, _ = stub_setup
    defaults = network_defaults(spec)[1]
    assert decompose_gram(style, model=net).layers == defaults
    assert decompose_gram(style, network=spec).layers == defaults
    same = compare_grams(style, style, model=net)
    assert same.total == pytest.approx(0.0, abs=1e-12)  # planted: an image against itself
    assert compare_grams(content, style, network=spec).total > 0
    images = {"a": content, "b": style, "c": content.flip(-1)}
    fp = style_fingerprints(images, model=net, size=32, max_positions=64)
    assert list(fp.to_dict()["meta"]["layers"]) == list(defaults)


def test_channel_carriers_on_a_user_network_order_layers_by_the_network(stub_setup):
    from xstyle.explain.style.maps import channel_carriers

    _, net, content, style, _ = stub_setup
    r = channel_carriers(content.clone(), content=content, style=style, model=net, n_steps=4)
    assert list(r.score) == ["act:0", "relu2", "relu3"]  # the network's order, per-call names
    assert_no_hooks(net)


def test_ablating_a_dead_channel_changes_no_loss_on_a_user_network(stub_setup):
    from xstyle.explain.style.ablation import ablate_channels

    _, net, content, style, config = stub_setup
    with torch.no_grad():  # planted: relu2's channel 0 is dead (its conv's bias far below zero)
        net.down.weight[0].zero_()
        net.down.bias[0] = -100.0
    dead = ablate_channels(
        content, style, layer="relu2", channels=[0], image=content, config=config, model=net
    )
    assert dead.style_after == pytest.approx(dead.style_before, rel=1e-6)
    live = ablate_channels(
        content, style, layer="relu2", channels=[1], image=content, config=config, model=net
    )
    assert live.style_after != pytest.approx(live.style_before, rel=1e-6)


def test_lowrank_and_tradeoff_sweeps_run_on_a_user_network(stub_setup):
    from dataclasses import replace

    from xstyle.explain.style.lowrank import lowrank_style_sweep
    from xstyle.explain.style.tradeoff import tradeoff_sweep

    spec, _, content, style, config = stub_setup
    low = lowrank_style_sweep(content, style, ranks=(1, None), config=config)
    assert len(low.images) == 2 and low.config.network == spec
    trade = tradeoff_sweep(content, style, ratios=(1.0, 1e3), config=replace(config, steps=(3,)))
    assert len(trade.ratios) == 2


def test_randomisation_check_groups_by_the_networks_blocks(stub_setup):
    from xstyle.explain.attribution.sanity import randomisation_check
    from xstyle.explain.attribution.targets import StyleLossTarget

    _, net, content, style, _ = stub_setup
    target = StyleLossTarget(net, style)
    assert target.layers == ["act:0", "relu2", "relu3"]  # the network's defaults, not VGG19's
    r = randomisation_check(target, content, method="saliency")
    assert r.stages == ["fc", "down2", "down", "stem"]  # top first, one stage per block
    assert_no_hooks(net)


def test_feature_visualisation_on_a_per_call_layer(stub_setup):
    from xstyle.explain.style.featurevis import visualize_channels

    _, net, _, _, _ = stub_setup
    r = visualize_channels(net, "act:1", [0, 2], size=32, steps=4)
    assert r.images.shape[0] == 2


# --- the CLI: --network and --network-weights --------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "command", "match"),
    [
        (
            ["transfer", "sample:chelsea", "sample:poppies", "-o", "x.png", "--network", "vgg19-cafe"],
            "transfer",
            "Did you mean 'vgg19-caffe'",
        ),
        (
            ["transfer", "sample:chelsea", "sample:poppies", "-o", "x.png", "--network", "no_mod_xs:net"],
            "transfer",
            "cannot import 'no_mod_xs'",
        ),
        (
            ["transfer", "sample:chelsea", "sample:poppies", "-o", "x.png", "--network", "xs_user_nets:bad"],
            "transfer",
            "returned a int, not a torch.nn.Module",
        ),
        (
            [
                "transfer",
                "sample:chelsea",
                "sample:poppies",
                "-o",
                "x.png",
                "--network",
                "xs_user_nets:stub",
                "--style-layers",
                "relu9",
            ],
            "transfer",
            "style_layers must be layer names of the network",
        ),
        (
            [
                "transfer",
                "sample:chelsea",
                "sample:poppies",
                "-o",
                "x.png",
                "--network",
                "xs_user_nets:stub",
                "--network-weights",
                "w.pt",
                "--size",
                "32",
                "--steps",
                "1",
            ],
            "transfer",
            "not a PyTorch file",
        ),
        (
            ["explain", "gram", "--style", "sample:poppies", "--network", "xs_user_nets:stub", "--out", "o"],
            "explain gram",
            "not a PyTorch file",
        ),
        (
            [
                "explain",
                "ablation",
                "--content",
                "sample:chelsea",
                "--style",
                "sample:poppies",
                "--layer",
                "relu22",
                "--network",
                "xs_user_nets:stub",
                "--out",
                "o",
            ],
            "explain ablation",
            "Did you mean 'relu2'",
        ),
        (
            ["explain", "carriers", "--network", "resnet18-randon", "--out", "o"],
            "explain carriers",
            "Did you mean 'resnet18-random'",
        ),
    ],
)
def test_cli_bad_networks_are_one_line_exit_2_nothing_written(
    argv, command, match, expect_cli_error, user_module
):
    files = {"w.pt": "not weights"}
    if command == "explain gram":  # the weights file of the gram command's network is the bad part
        argv = [*argv, "--network-weights", "w.pt"]
    expect_cli_error(argv, command=command, match=match, files=files)


def test_cli_transfer_on_a_user_network_writes_its_name(tmp_path, user_module):
    import json

    from xstyle.cli import main

    out = tmp_path / "out.png"
    argv = [
        "-q",
        "transfer",
        "sample:chelsea",
        "sample:poppies",
        "-o",
        str(out),
        "--network",
        f"{user_module}:stub",
        "--size",
        "32",
        "--steps",
        "3",
        "--precision",
        "float32",
    ]
    assert main(argv) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["meta"]["network"] == f"{user_module}:stub"
    assert data["config"]["style_layers"] == list(network_defaults(f"{user_module}:stub")[1])


# --- compare_networks: statistics, cross-judging, the comparison ------------------------------


def test_activation_statistics_planted_flat_and_spike():
    from xstyle.explain.style.networks import activation_statistics

    flat = torch.ones(1, 4, 8, 8)
    spike = torch.zeros(1, 4, 8, 8)
    spike[0, 2, 3, 3] = 5.0
    stats = activation_statistics({"flat": flat, "spike": spike})
    assert stats["flat"]["max_over_mean"] == pytest.approx(1.0)
    assert stats["flat"]["activation_entropy"] == pytest.approx(1.0)
    assert stats["spike"]["max_over_mean"] == pytest.approx(4 * 8 * 8)
    assert stats["spike"]["activation_entropy"] == pytest.approx(0.0)
    # a rank-1 Gram (every channel equal, or one channel on): participation ratio 1 channel of 4
    assert stats["flat"]["participation_ratio"] == pytest.approx(0.25)
    assert stats["spike"]["participation_ratio"] == pytest.approx(0.25)
    assert stats["flat"]["gram_entropy"] == pytest.approx(1.0)  # all 16 Gram entries equal
    assert stats["spike"]["gram_entropy"] == pytest.approx(0.0)  # one non-zero entry


def test_cross_judge_planted_zero_for_the_images_themselves(user_module):
    from xstyle.explain.style.networks import cross_judge

    spec = f"{user_module}:stub"
    torch.manual_seed(0)
    contents = [torch.rand(1, 3, 32, 32) for _ in range(2)]
    styles = [torch.rand(1, 3, 32, 32) for _ in range(2)]
    other = NetworkSpec(
        name="stub-b", family="user", factory=lambda **kw: make_stub(), mean=(0, 0, 0), std=(1, 1, 1)
    )
    judges = {"stub": get_network(spec), "other": get_network(other)}
    layers = {"stub": network_defaults(spec), "other": (("relu2",), ("act:1", "relu3"))}
    images = {"style": styles, "content": contents}
    style_d, content_d = cross_judge(images, contents, styles, judges, layers=layers)
    for judge in judges:
        assert style_d["style"][judge] == pytest.approx([0.0, 0.0], abs=1e-6)
        assert content_d["content"][judge] == pytest.approx([0.0, 0.0], abs=1e-6)
        assert min(style_d["content"][judge]) > 0 and min(content_d["style"][judge]) > 0


def test_compare_networks_on_two_networks(user_module):
    from xstyle.explain import compare_networks

    torch.manual_seed(0)
    pair = (torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
    get_network_spec(NetworkSpec(name="stub-c", family="user", factory=lambda **kw: make_stub()))
    nets = (f"{user_module}:stub", "stub-c")
    r = compare_networks([pair], networks=nets, size=32, steps=3, feature_transform="softmax")
    assert r.networks == nets and set(r.statistics[nets[0]]) == set(network_defaults(nets[0])[1])
    assert set(r.style_distance) == {*nets, "photo (no transfer)"}
    assert all(set(row) == set(nets) for row in r.style_distance.values())
    assert r.content_distance["photo (no transfer)"][nets[0]] == pytest.approx(0.0, abs=1e-6)
    assert r.images[nets[1]][0].shape == (1, 3, 32, 32)
    data = r.to_dict()
    assert data["feature_transform"] == "softmax" and "images" not in data
    assert "| photo (no transfer) |" in r.table("style")
    for kind in ("statistics", "transfers", "judging"):
        assert r.plot(kind=kind).figure_ is not None
    with pytest.raises(ValueError, match="distinct network specs"):
        compare_networks([pair], networks=(nets[0], nets[0]))


def test_cli_explain_networks_writes_the_tables_and_refuses_bad_networks(
    tmp_path, user_module, expect_cli_error
):
    import json

    from xstyle.cli import main

    nets = f"{user_module}:stub,{user_module}:stub2"
    out = tmp_path / "o"
    argv = [
        "-q",
        "explain",
        "networks",
        "--networks",
        nets,
        "--pair",
        "sample:chelsea,sample:poppies",
        "--size",
        "32",
        "--steps",
        "2",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    data = json.loads((out / "networks.json").read_text())
    assert data["networks"] == nets.split(",") and (out / "judging_style.png").is_file()
    expect_cli_error(
        ["explain", "networks", "--networks", "vgg19-caffe,vgg19-cafe", "--out", "x"],
        command="explain networks",
        match="Did you mean 'vgg19-caffe'",
    )
    expect_cli_error(
        ["explain", "networks", "--networks", "vgg19-caffe", "--out", "x"],
        command="explain networks",
        match="two or more distinct networks",
    )


def test_style_report_config_carries_vgg19_layer_names_to_another_network(user_module):
    from xstyle.models.registry import translate_gatys_layers
    from xstyle.report.style import StyleReportConfig

    spec = f"{user_module}:stub"
    assert translate_gatys_layers(spec, ("relu1_1", "relu3_1", "relu4_2")) == ("act:0", "relu3", "relu3")
    assert translate_gatys_layers("vgg19-caffe", "relu3_1") == "relu3_1"
    config = StyleReportConfig(network=spec)
    assert config.carrier_layers == ("act:0", "relu2", "relu3") and config.ablation_layer == "relu3"
    assert StyleReportConfig().carrier_layers == ("relu1_1", "relu2_1", "relu3_1")  # VGG19 unchanged
    with pytest.raises(ValueError, match=r"carrier_layers must be layer names of the network"):
        StyleReportConfig(network=spec, carrier_layers=("relu9",))


@pytest.mark.slow
def test_efficientnet_lite0_transfer_carriers_and_report_at_64px(tmp_path):
    """The real non-VGG network end to end: transfer, channel carriers and the fast style report."""
    from xstyle.cli import main
    from xstyle.explain.style.maps import channel_carriers
    from xstyle.transfer import TransferConfig, style_transfer

    config = TransferConfig(network="efficientnet-lite0", size=64, steps=(20,))
    result = style_transfer("sample:chelsea", "sample:starry_night", config=config)
    assert result.final["style"] < result.history[0].style
    net = config.load_network()
    from xstyle.data import resolve_image

    content, style = resolve_image("sample:chelsea", size=64), resolve_image("sample:starry_night", size=64)
    carriers = channel_carriers(result.image, content=content, style=style, model=net, n_steps=2)
    assert next(iter(carriers.score)) == "_swish:0" and "_blocks.6._swish:0" in carriers.score
    out = tmp_path / "report"
    assert (
        main(["-q", "report", "style", "--fast", "--network", "efficientnet-lite0", "--out", str(out)]) == 0
    )
    assert (out / "index.html").is_file()


def test_batch_settings_and_workers_take_a_network(user_module):
    from xstyle.batch.tasks import BatchSettings, WorkerState

    with pytest.raises(ValueError, match=r"'vgg19-cafe' is not known.*Did you mean 'vgg19-caffe'"):
        BatchSettings(network="vgg19-cafe")
    settings = BatchSettings(network=f"{user_module}:stub")
    assert settings.to_dict()["network"] == f"{user_module}:stub"
    net = WorkerState(network=settings.network).vgg()
    assert net.xstyle_network == f"{user_module}:stub" and not net.act.inplace


def test_stylizer_perceptual_loss_on_a_user_network(user_module):
    from xstyle.stylizer.train import StylizerConfig

    spec = f"{user_module}:stub"
    config = StylizerConfig(network=spec)
    assert (config.content_layers, config.style_layers) == network_defaults(spec)
    assert config.deepest_layer == "relu3" and config.load_network().xstyle_network == spec
    assert StylizerConfig().style_layers[0] == "relu1_1" and StylizerConfig().network_name == "vgg19-caffe"
    with pytest.raises(ValueError, match=r"style_layers must be layer names of the network"):
        StylizerConfig(network=spec, style_layers=("relu9",))
