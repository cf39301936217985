import pytest
import torch
from torch import nn

from xstyle.hooks import (
    FeatureTap,
    Intervention,
    StopForward,
    assert_no_hooks,
    frozen,
    list_calls,
    list_layers,
)


def _net():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3, padding=1), nn.ReLU(), nn.Flatten()
    )


def test_list_layers_names_every_submodule_in_order():
    assert list_layers(_net()) == ["0", "1", "2", "3", "4"]


def test_tap_records_exact_outputs_and_removes_hooks():
    net, x = _net(), torch.rand(2, 3, 8, 8)
    with FeatureTap(net, ["1", "3"]) as tap:
        feats = tap.run(x)
    assert_no_hooks(net)
    assert torch.equal(feats["1"], net[1](net[0](x)))
    assert feats["3"].shape == (2, 5, 8, 8)
    assert not feats["1"].requires_grad


def test_tap_keeps_graph_when_not_detached():
    net, x = _net(), torch.rand(1, 3, 8, 8, requires_grad=True)
    with FeatureTap(net, "3", detach=False) as tap:
        feats = tap.run(x)
    feats["3"].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_stop_after_last_skips_later_layers():
    net = _net()
    calls = []
    net[4].register_forward_hook(lambda *a: calls.append(1))
    with FeatureTap(net, ["1"], stop_after_last=True) as tap:
        tap.run(torch.rand(1, 3, 8, 8))
    assert calls == []
    assert list(net[1]._forward_hooks) == []  # our hook is gone, the user's one on net[4] stays
    assert len(net[4]._forward_hooks) == 1


def test_unknown_layer_lists_close_matches(caffe_vgg):
    with pytest.raises(ValueError, match=r"got 'relu9_1'.*Did you mean .*relu"):
        FeatureTap(caffe_vgg, ["relu9_1"])


def test_hooks_removed_when_forward_raises():
    net = _net()
    with pytest.raises(RuntimeError, match="boom"):
        with FeatureTap(net, ["1", "3"]) as tap:
            net[2].register_forward_pre_hook(_raise_boom)
            tap.run(torch.rand(1, 3, 8, 8))
    net[2]._forward_pre_hooks.clear()
    assert_no_hooks(net)
    with pytest.raises(RuntimeError, match="boom"):
        with Intervention(net, {"1": {"mask": 1.0}}):
            net[2].register_forward_pre_hook(_raise_boom)
            net(torch.rand(1, 3, 8, 8))
    net[2]._forward_pre_hooks.clear()
    assert_no_hooks(net)


def _raise_boom(module, args):
    raise RuntimeError("boom")


def test_assert_no_hooks_detects_a_leak():
    net = _net()
    handle = net[0].register_forward_hook(lambda *a: None)
    with pytest.raises(AssertionError, match="'0'"):
        assert_no_hooks(net)
    handle.remove()
    assert_no_hooks(net)


def test_stop_forward_is_not_swallowed_outside_run():
    net = _net()
    with FeatureTap(net, ["1"], stop_after_last=True):
        with pytest.raises(StopForward):
            net(torch.rand(1, 3, 8, 8))
    assert_no_hooks(net)


def test_run_outside_with_block_is_an_error():
    with pytest.raises(RuntimeError, match="inside its `with` block"):
        FeatureTap(_net(), ["1"]).run(torch.rand(1, 3, 8, 8))


def test_intervention_formula_per_channel():
    net, x = _net(), torch.rand(1, 3, 8, 8)
    ref = net[1](net[0](x))
    mask = torch.tensor([1.0, 0.0, 0.5, 0.0])
    value = torch.tensor([2.0, 9.0, 4.0, 9.0])
    bias = torch.tensor([0.0, 1.0, 0.0, 0.0])
    with Intervention(net, {"1": {"mask": mask, "value": value, "bias": bias}}), FeatureTap(net, "1") as tap:
        got = tap.run(x)["1"]
    expected = ref * (1 - mask.view(1, -1, 1, 1)) + (value * mask).view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.all(got[:, 0] == 2.0)
    assert_no_hooks(net)


def test_intervention_zero_ablation_changes_downstream_only_through_channel():
    net, x = _net(), torch.rand(1, 3, 8, 8)
    base = net(x)
    with Intervention(net, {"3": {"mask": torch.tensor([0, 0, 1.0, 0, 0])}}):
        out = net(x).view(1, 5, 8, 8)
    base = base.view(1, 5, 8, 8)
    assert torch.all(out[:, 2] == 0)
    assert torch.equal(out[:, [0, 1, 3, 4]], base[:, [0, 1, 3, 4]])
    assert torch.equal(net(x).view(1, 5, 8, 8), base)  # gone after the block


def test_intervention_rejects_bad_specs():
    net = _net()
    with pytest.raises(ValueError, match="unknown keys"):
        Intervention(net, {"1": {"scale": 1.0}})
    with pytest.raises(ValueError, match="non-empty dict"):
        Intervention(net, {})
    with pytest.raises(ValueError, match="'value' without a 'mask'"):
        Intervention(net, {"1": {"value": 2.0}})
    with pytest.raises(ValueError, match=r"4 channels|outputs 4"):
        with Intervention(net, {"1": {"mask": torch.ones(3)}}):
            net(torch.rand(1, 3, 8, 8))
    assert_no_hooks(net)


def test_frozen_restores_each_submodules_mode_and_each_parameters_flag_even_on_error():
    net = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    other = nn.Linear(2, 2)
    net.train()
    net[1].eval()  # a caller may keep one part in another mode
    net[0].weight.requires_grad_(False)
    other.eval()
    x = torch.ones(5, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="inside"), frozen(net, other):
        assert not any(m.training for m in [*net.modules(), other])
        assert not any(p.requires_grad for p in [*net.parameters(), *other.parameters()])
        out = other(net(x)).sum()
        out.backward()  # gradients still reach the input
        assert x.grad is not None and x.grad.abs().sum() > 0
        raise RuntimeError("error inside the block")
    assert net.training and not net[1].training and net[2].training and not other.training
    assert not net[0].weight.requires_grad and net[0].bias.requires_grad and net[2].weight.requires_grad
    assert all(p.grad is None for p in net.parameters())


def test_frozen_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match=r"frozen\(\) takes torch.nn.Module objects; got list"):
        with frozen([nn.Linear(1, 1)]):
            pass


class _Reuser(nn.Module):
    """Runs one ReLU twice (as torchvision's ResNet blocks do): conv -> relu -> conv -> relu."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        return self.head(self.relu(self.conv2(self.relu(self.conv1(x)))))


@pytest.mark.parametrize("stop", [False, True])
def test_reused_module_plain_name_is_refused_naming_the_per_call_names(stop):
    net, x = _Reuser(), torch.rand(1, 3, 8, 8)
    with FeatureTap(net, ["relu"], stop_after_last=stop) as tap:
        with pytest.raises(ValueError, match=r"'relu' runs 2 times.*'relu:0' \.\. 'relu:1'"):
            tap.run(x)
    assert_no_hooks(net)


@pytest.mark.parametrize("stop", [False, True])
def test_reused_module_per_call_names_record_the_right_call(stop):
    net, x = _Reuser(), torch.rand(1, 3, 8, 8)
    first = torch.relu(net.conv1(x))
    second = torch.relu(net.conv2(first))
    with FeatureTap(net, ["relu:1", "relu:0"], stop_after_last=stop) as tap:
        feats = tap.run(x)
    assert torch.equal(feats["relu:0"], first) and torch.equal(feats["relu:1"], second)
    with FeatureTap(net, ["relu:0"], stop_after_last=stop) as tap:  # the first call alone
        assert torch.equal(tap.run(x)["relu:0"], first)
    assert_no_hooks(net)


def test_stop_after_last_stops_after_the_named_call():
    net = _Reuser()
    calls = []
    net.head.register_forward_hook(lambda *a: calls.append(1))
    with FeatureTap(net, ["relu:1"], stop_after_last=True) as tap:
        tap.run(torch.rand(1, 3, 8, 8))
    assert calls == []


def test_call_index_past_the_last_call_says_how_many_there_are():
    net = _Reuser()
    with FeatureTap(net, ["relu:2"]) as tap, pytest.raises(RuntimeError, match=r"runs 2 time.*relu:1"):
        tap.run(torch.rand(1, 3, 8, 8))


def test_list_calls_names_reused_modules_per_call_in_execution_order():
    assert list_calls(_Reuser(), torch.rand(1, 3, 8, 8)) == ["conv1", "relu:0", "conv2", "relu:1", "head"]


def test_intervention_edits_one_call_of_a_reused_module():
    net, x = _Reuser(), torch.rand(1, 3, 8, 8)
    with Intervention(net, {"relu:1": {"mask": 1.0}}):  # zero the second call only
        out = net(x)
    assert torch.equal(out, net.head(torch.zeros_like(net.conv2(torch.relu(net.conv1(x))))))
    with Intervention(net, {"relu:0": {"mask": 1.0}}):
        out0 = net(x)
    assert torch.equal(out0, net.head(torch.relu(net.conv2(torch.zeros(1, 4, 8, 8)))))
    assert_no_hooks(net)


class _InPlaceAdd(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        out = self.bn(self.conv(x))
        out += x  # what torchvision's BasicBlock does to its bn2 output
        return out


def test_output_changed_in_place_later_is_refused():
    net = _InPlaceAdd().eval()
    with FeatureTap(net, ["bn"]) as tap, pytest.raises(ValueError, match=r"'bn' was changed in place"):
        tap.run(torch.rand(1, 3, 4, 4))
    with FeatureTap(net, ["conv"]) as tap:  # untouched outputs are fine
        assert tap.run(torch.rand(1, 3, 4, 4))["conv"].shape == (1, 3, 4, 4)


class _Unshared(_Reuser):
    """The same network with one ReLU module per call: the reference for per-call attribution."""

    def __init__(self):
        super().__init__()
        self.relu_b = nn.ReLU()

    def forward(self, x):
        return self.head(self.relu_b(self.conv2(self.relu(self.conv1(x)))))


class _SumTarget:
    def __init__(self, model):
        self.model = model

    def __call__(self, x):
        return self.model(x).sum(dim=(1, 2, 3))


def test_layer_attribution_on_one_call_of_a_reused_module_matches_an_unshared_copy():
    from xstyle.explain.attribution.engine import attribute

    shared, unshared, x = _Reuser(), _Unshared(), torch.rand(1, 3, 8, 8)
    for layer, reference in (("relu:1", "relu_b"), ("relu:0", "relu")):
        got = attribute(_SumTarget(shared), x, method="layer_ig", layer=layer, n_steps=8)
        want = attribute(_SumTarget(unshared), x, method="layer_ig", layer=reference, n_steps=8)
        assert torch.allclose(got.attributions, want.attributions, atol=1e-6)
    with pytest.raises(ValueError, match=r"layer: layer 'relu' runs 2 times.*'relu:0'"):
        attribute(_SumTarget(shared), x, method="layer_ig", layer="relu", n_steps=8)
    assert_no_hooks(shared)


def test_a_tap_records_every_forward_pass_of_a_reused_module_not_only_the_first():
    """Calls are counted per forward pass of the whole model: a second batch through the same tap
    (features cleared by hand between batches, as a batched caller does) records its calls too."""
    import torch
    from torch import nn

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.Tanh()

        def forward(self, x):
            return self.act(self.act(x) * 2)

    model = Twice()
    a, b = torch.full((1, 2), 0.5), torch.full((1, 2), -0.25)
    with FeatureTap(model, ["act:0", "act:1"]) as tap:
        for x in (a, b):
            tap.features = {}
            model(x)
            assert torch.allclose(tap.features["act:0"], torch.tanh(x))
            assert torch.allclose(tap.features["act:1"], torch.tanh(2 * torch.tanh(x)))
