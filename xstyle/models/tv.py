"""torchvision's classification models as feature networks: ``torchvision:NAME``, ``resnet18-random``.

``torchvision:NAME`` builds ``torchvision.models.get_model(NAME)`` and loads, by ``weights``:
None, the model's default ImageNet weights through torchvision's weights API (its cache, or a
download once: like ``vgg19-imagenet`` it needs the network the first time); ``"random"``,
torchvision's own initialisation seeded; a file, a state dict checked key by key. Input:
ImageNet normalisation. torchvision's in-place ReLUs become out-of-place in xstyle's copy, and its
ResNets reuse one ``relu`` module per block, tapped per call (``"layer1.0.relu:1"``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["resnet18_random_spec", "torchvision_spec"]

_CITATION = (
    "torchvision: S. Marcel and Y. Rodriguez, 'Torchvision the machine-vision package of Torch', ACM MM 2010."
)


def _classification_models() -> list[str]:
    import torchvision.models as tvm

    return sorted(tvm.list_models(module=tvm))


def _builder(name: str):
    def build(*, weights: str | None = None, seed: int = 0):
        import torch
        import torchvision.models as tvm

        from xstyle.models.registry import NetworkError, load_checked_state, seeded

        model = seeded(lambda: tvm.get_model(name, weights=None), seed)
        if weights == "random":
            return model
        if weights is not None:
            load_checked_state(model, weights, network=f"torchvision:{name}")
            return model
        enum = tvm.get_model_weights(name).DEFAULT
        hub_dir = Path(torch.hub.get_dir()) / "checkpoints"
        try:
            state = enum.get_state_dict(progress=False, check_hash=True, weights_only=True)
        except Exception as exc:  # urllib raises several types when offline
            raise NetworkError(
                f"network 'torchvision:{name}' needs torchvision's weights file {enum.url}; it is not in "
                f"{hub_dir} and could not be downloaded ({type(exc).__name__}); download it there, or use "
                "weights='random' or weights=FILE."
            ) from None
        model.load_state_dict(state)
        return model

    return build


def torchvision_spec(name: str):
    """The spec of ``torchvision:NAME`` (a classification model of ``torchvision.models``)."""
    import difflib

    from xstyle.models.registry import NetworkError, NetworkSpec

    known = _classification_models()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr('torchvision:' + c) for c in close)}?" if close else ""
        raise NetworkError(
            f"network 'torchvision:{name}': torchvision has no classification model {name!r} "
            f"(torchvision.models.list_models(module=torchvision.models) lists {len(known)}).{hint}"
        )
    return NetworkSpec(
        name=f"torchvision:{name}",
        family="torchvision",
        factory=_builder(name),
        description=f"torchvision's {name} (default ImageNet weights, 'random' or a state dict file)",
        offline=False,
        license="the weights' (see torchvision's weights documentation)",
        citation=_CITATION,
    )


def resnet18_random_spec():
    """``resnet18-random``: torchvision's ResNet-18 with seeded random weights, a residual control."""
    from dataclasses import replace

    base = torchvision_spec("resnet18")
    build = base.factory

    def factory(*, weights: str | None = None, seed: int = 0):
        return build(weights="random" if weights is None else weights, seed=seed)

    return replace(
        base,
        name="resnet18-random",
        factory=factory,
        description="torchvision's ResNet-18 with seeded random weights (a residual control; offline)",
        offline=True,
        license="n/a",
        citation=(
            "K. He, X. Zhang, S. Ren and J. Sun, 'Deep Residual Learning for Image Recognition', CVPR 2016."
        ),
    )
