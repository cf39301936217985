"""The single-scale transfer config shared by the analyses that run many short transfers
(ablation, low-rank styles, the alpha/beta trade-off)."""

from __future__ import annotations

from xstyle.transfer import TransferConfig


def sweep_config(config: TransferConfig | None, *, steps: int, what: str) -> TransferConfig:
    """``config``, checked to have one pyramid level; None gives the sweeps' default,
    ``TransferConfig(size=128, steps=(steps,), optimizer="adam")`` (single-scale L-BFGS from the
    content diverges at >= 128 px with the seed's losses; Adam descends steadily).

    ``what`` names the analysis in the error (``"ablations"``, ``"a low-rank sweep"``).
    """
    if config is None:
        return TransferConfig(size=128, steps=(steps,), optimizer="adam")
    if len(config.steps) != 1:
        raise ValueError(
            f"config.steps must have one pyramid level for {what}; got {config.steps}. "
            f"Hint: TransferConfig(steps=({sum(config.steps)},))."
        )
    return config
