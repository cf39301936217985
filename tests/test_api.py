"""The public API follows the design's signature rule: data first, options keyword-only."""

import importlib
import inspect
import pkgutil

import xstyle

# the one argument that says *what* to load or list, a network's own hyper-parameter (its latent
# size, dropout rate or architecture, as torch.nn modules take them), or a whole config
ALLOWED = {
    "xstyle.data.list_samples": {"kind"},
    "xstyle.models.shipped.shipped_models": {"kind"},
    "xstyle.models.vgg.load_vgg19": {"weights"},
    "xstyle.data.load_digits": {"split"},
    "xstyle.data.load_emoji": {"split"},
    "xstyle.gan.train.load_gan_data": {"split"},
    "xstyle.stylizer.data.load_content_photos": {"split"},
    "xstyle.explain.style.fingerprint.style_fingerprints": {"images"},
    # what to measure is the call's subject, as layers are a tap's
    "xstyle.explain.gan.measures.measure_images": {"measures"},
    "xstyle.explain.gan.measures.colour_measures": {"names"},
    "xstyle.explain.gan.measures.digit_measures": {"names"},
    "xstyle.cli.main": {"argv"},
    "xstyle.gan.dcgan.Generator": {"latent_dim"},
    "xstyle.gan.dcgan.Discriminator": {"dropout"},
    "xstyle.stylizer.model.TransformNet": {"arch"},
    "xstyle.stylizer.model.PatchDiscriminator": {"arch"},
    "xstyle.report.style.build_style_report": {"config"},
    "xstyle.report.gan.build_gan_report": {"config"},
    "xstyle.report.demo.build_demo_report": {"style", "gan"},
}


def _public_callables():
    names = ["xstyle"] + [m.name for m in pkgutil.walk_packages(xstyle.__path__, "xstyle.")]
    for name in names:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if callable(obj) and getattr(obj, "__module__", "").startswith("xstyle"):
                yield f"{obj.__module__}.{obj.__qualname__}", obj


def test_every_name_in_all_exists_and_options_are_keyword_only():
    offenders = []
    for qualname, obj in _public_callables():
        if inspect.isclass(obj) and hasattr(obj, "__dataclass_fields__"):
            continue  # dataclasses: configs are keyword-only where they have many fields (checked below)
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            continue
        optional = {
            p.name
            for p in sig.parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is not p.empty
        }
        if optional - ALLOWED.get(qualname, set()):
            offenders.append(f"{qualname}: {sorted(optional)}")
    assert offenders == []


def test_configs_are_frozen_and_keyword_only():
    from dataclasses import fields

    configs = [obj for name, obj in _public_callables() if name.endswith("Config")]
    assert len(configs) >= 5
    for cls in configs:
        params = inspect.signature(cls).parameters.values()
        assert all(p.kind is p.KEYWORD_ONLY for p in params), cls
        assert cls.__dataclass_params__.frozen, cls
        assert fields(cls)


def test_dataclasses_holding_tensors_compare_by_identity():
    """``==`` on a dataclass of tensors would raise ("Boolean value of Tensor ... is ambiguous")."""
    import dataclasses

    import torch

    from xstyle.data import DigitData

    kinds = ("Tensor", "ndarray", "Module", "Generator", "Classifier", "Discriminator")
    checked = 0
    for name in ["xstyle"] + [m.name for m in pkgutil.walk_packages(xstyle.__path__, "xstyle.")]:
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if not (isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == name):
                continue
            if any(k in str(f.type) for f in dataclasses.fields(obj) for k in kinds):
                assert obj.__dataclass_params__.eq is False, obj
                checked += 1
    assert checked >= 40
    a = DigitData(torch.zeros(2, 1, 28, 28), torch.zeros(2, dtype=torch.long), "zeros")
    b = DigitData(a.images, a.labels, "zeros")
    assert a == a and a != b and len({a, b}) == 2


def test_every_model_is_found_through_xstyle_models():
    """Networks, generators and shipped files share one package; the old lookups and re-exports are gone."""
    import importlib.util

    import xstyle.models as models

    for name in ("get_network", "list_networks", "get_generator", "list_generators", "shipped_models"):
        assert name in models.__all__ and callable(getattr(models, name)), name
    assert "vgg19-caffe" in models.list_networks()
    assert models.resolve_shipped("shipped:dcgan", "dcgan").is_file()
    assert models.load_vgg19 is importlib.import_module("xstyle.models.vgg").load_vgg19
    gone = (
        "xstyle.shipped",
        "xstyle.gan.shipped",
        "xstyle.report.displays",
        "xstyle.report.attribution_displays",
        "xstyle.report.builders",
    )
    assert [m for m in gone if importlib.util.find_spec(m) is not None] == []
