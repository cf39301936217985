"""The checkpoint and exact-resume protocol shared by the trainers (GAN, stylizer).

A trainer's checkpoint holds its modules' weights, its optimisers' states and the states of every
random generator it draws from (data order, latents, crops, and the private
:class:`~xstyle.rng.RandomStream` behind initialisation and dropout), so a resumed run ends with
exactly the weights of an uninterrupted one. :func:`pack` and :func:`unpack` move those parts
between a trainer and a state dict; :func:`refuse_mismatch` refuses a resume whose settings differ;
:func:`write_checkpoint` writes the state and its JSON card atomically (weights first).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import torch

from xstyle._runinfo import CARD_VERSION_KEYS, versions
from xstyle.atomic import save_with_card
from xstyle.rng import RandomStream

__all__ = ["Resumable", "pack", "refuse_mismatch", "unpack", "write_checkpoint"]


def refuse_mismatch(
    saved: Any, wanted: Any, keys: Iterable[str], *, hint: str = "use the same value"
) -> None:
    """Raise one line naming the first setting in ``keys`` where two configs differ."""
    for key in keys:
        before, now = getattr(saved, key), getattr(wanted, key)
        if before != now:
            raise ValueError(
                f"cannot resume: the checkpoint was trained with {key}={before}, this run asks for "
                f"{now}; {hint}."
            )


def pack(
    *,
    modules: Mapping[str, torch.nn.Module],
    optimisers: Mapping[str, torch.optim.Optimizer],
    generators: Mapping[str, torch.Generator],
    rng: RandomStream,
) -> dict[str, Any]:
    """The resumable parts of a trainer: weights, optimiser states, generator states and the
    private stream's CPU state (``torch_rng``; ``torch_cuda_rng`` too when it draws on a GPU)."""
    state: dict[str, Any] = {name: m.state_dict() for name, m in modules.items()}
    state.update({name: opt.state_dict() for name, opt in optimisers.items()})
    state.update({name: gen.get_state() for name, gen in generators.items()})
    state["torch_rng"] = rng.state
    if rng.cuda_state is not None:
        state["torch_cuda_rng"] = rng.cuda_state
    return state


def unpack(
    state: Mapping[str, Any],
    *,
    modules: Mapping[str, torch.nn.Module],
    optimisers: Mapping[str, torch.optim.Optimizer],
    generators: Mapping[str, torch.Generator],
    rng: RandomStream,
    param_groups: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Load what :func:`pack` saved into a freshly built trainer. ``param_groups`` (optimiser name ->
    settings such as ``lr``) overrides what the optimiser states bring back, so this run's config
    wins over the saved learning rates."""
    for name, module in modules.items():
        module.load_state_dict(state[name])
    for name, opt in optimisers.items():
        opt.load_state_dict(state[name])
        for group in opt.param_groups:
            group.update((param_groups or {}).get(name, {}))
    for name, gen in generators.items():
        gen.set_state(state[name])
    rng.state = state["torch_rng"]
    if rng.cuda_state is not None and "torch_cuda_rng" in state:
        rng.cuda_state = state["torch_cuda_rng"]


def write_checkpoint(path: str | Path, state: Mapping[str, Any], card: Mapping[str, Any]) -> Path:
    """Write ``state`` (``torch.save``) at ``path`` and ``card`` plus the versions beside it as
    ``.json``, atomically (a failed save keeps the previous pair; the weights land first)."""
    card = {**card, "versions": versions(keys=CARD_VERSION_KEYS)}
    return save_with_card(Path(path), lambda tmp: torch.save(dict(state), tmp), card)


class Resumable:
    """Mixin of a trainer that names its resumable parts in ``RESUMABLE`` (``"modules"``,
    ``"optimisers"``, ``"generators"`` -> attribute names) and keeps its private stream in ``rng``;
    :meth:`pack_state` and :meth:`unpack_state` are :func:`pack` and :func:`unpack` of those parts."""

    RESUMABLE: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    rng: RandomStream

    def _parts(self) -> dict[str, dict[str, Any]]:
        return {kind: {name: getattr(self, name) for name in names} for kind, names in self.RESUMABLE.items()}

    def pack_state(self) -> dict[str, Any]:
        """The trainer's resumable state (see :func:`pack`)."""
        return pack(**self._parts(), rng=self.rng)

    def unpack_state(
        self, state: Mapping[str, Any], *, param_groups: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        """Load what :meth:`pack_state` saved (see :func:`unpack`)."""
        unpack(state, **self._parts(), rng=self.rng, param_groups=param_groups)
