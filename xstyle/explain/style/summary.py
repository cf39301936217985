"""Where a style lives, in one place: the answer the style report opens with.

:func:`summarise_style` gathers the headline of each analysis of one stylised image — the regions
(with their faithfulness test), the layers, the carrier channels and the Gram components — and the
sanity checks that say how far each can be trusted. It computes nothing new; it reads the Results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from xstyle._json import field_dict
from xstyle._plotting import Plottable
from xstyle.explain.style.ablation import AblationResult
from xstyle.explain.style.faithfulness import RegionExplanation
from xstyle.explain.style.gram import GramDecomposition
from xstyle.explain.style.maps import ChannelCarriersResult, StyleContentResult
from xstyle.explain.style.plots import StyleSummaryDisplay

__all__ = ["StyleSummary", "summarise_style"]


@dataclass(frozen=True, eq=False)
class StyleSummary(Plottable):
    """The answer, per question, with its check.

    Attributes:
        regions: the region evidence and both faithfulness tests.
        layer_share: style layer -> its share of the style loss's drop from the maps' baseline to
            the stylised image (signed; the shares sum to 1).
        verdict: {"style": ..., "content": ...}: what each map's region test says it can answer
            (``"localised"``, ``"uniform"``, ``"failed"``; see
            :mod:`~xstyle.explain.style.faithfulness`).
        channel_share: layer -> share of the layer's style attribution (|channel scores|) held by
            its ``top_k`` channels; top_channels: layer -> those channels, strongest first;
            n_channels: layer -> C.
        components_90: style layer -> eigencomponents of the style's Gram matrix that hold 90 % of
            its energy (trace).
        ablation: the causal check of the carriers at one count (None without an ablation):
            layer, count, and the relative style and content change when the top channels (by Gram
            energy) or random channels are removed.
        checks: check name -> passed (True/False), None when not run.
    """

    display: ClassVar[type[StyleSummaryDisplay]] = StyleSummaryDisplay

    regions: RegionExplanation
    layer_share: dict[str, float]
    channel_share: dict[str, float]
    top_channels: dict[str, list[int]]
    n_channels: dict[str, int]
    components_90: dict[str, int]
    top_k: int
    ablation: dict[str, Any] | None
    checks: dict[str, bool | None]

    @property
    def verdict(self) -> dict[str, str]:
        """{"style": ..., "content": ...}: the region tests' verdicts."""
        return self.regions.verdict

    def rows(self) -> list[tuple[str, str, str]]:
        """(question, answer, check) rows of the report's opening table."""
        r = self.regions
        s, c = r.style_test, r.content_test
        main_layer = max(self.layer_share, key=self.layer_share.get)
        dense = max(self.channel_share, key=self.channel_share.get)
        rows = [
            (
                "Which regions carry the style?",
                f"the style dominates {100 * r.regions.style_share:.0f} % of the image's area "
                f"({len(r.regions.style)} {r.regions.method} regions)",
                f"style map beats random insertion: {_verdict(s.passed)} (gain {s.gain:+.3f}, "
                f"95 % CI {s.gain_ci[0]:+.3f} to {s.gain_ci[1]:+.3f}; {s.verdict}); content map: "
                f"{_verdict(c.passed)} (gain {c.gain:+.3f}, CI {c.gain_ci[0]:+.3f} to {c.gain_ci[1]:+.3f}; "
                f"{c.verdict})",
            ),
            (
                "Which layers carry it?",
                f"{main_layer} accounts for {100 * self.layer_share[main_layer]:.0f} % of the style loss's "
                "drop; "
                + ", ".join(f"{k} {100 * v:.0f} %" for k, v in self.layer_share.items() if k != main_layer),
                "model randomisation of the style map: " + _verdict(self.checks.get("style randomisation")),
            ),
            (
                "Which channels?",
                f"the top {self.top_k} channels of {dense} hold {100 * self.channel_share[dense]:.0f} % of "
                f"its style attribution (channels {', '.join(map(str, self.top_channels[dense]))})",
                self._ablation_text(),
            ),
            (
                "How many Gram components?",
                "90 % of the style's Gram energy: "
                + ", ".join(
                    f"{k} {v} of {self.n_channels.get(k, '?')}" for k, v in self.components_90.items()
                ),
                "deletion/insertion of the style map: "
                + _verdict(self.checks.get("style deletion/insertion")),
            ),
        ]
        return rows

    def _ablation_text(self) -> str:
        a = self.ablation
        if a is None:
            return "no ablation run"
        top, rnd = a["style_change_top"], a["style_change_random"]
        if top is None or rnd is None:
            return f"removing {a['count']} channels of {a['layer']}: no change measurable"
        return (
            f"removing the top {a['count']} channels of {a['layer']} changes the style loss by "
            f"{100 * top:+.0f} % (random channels: {100 * rnd:+.0f} %)"
        )

    def to_dict(self) -> dict[str, Any]:
        return field_dict(self, rows=self.rows(), verdict=self.verdict)


def _verdict(passed: bool | None) -> str:
    return "not run" if passed is None else ("passes" if passed else "fails")


def summarise_style(
    *,
    regions: RegionExplanation,
    maps: StyleContentResult,
    carriers: ChannelCarriersResult,
    decomposition: GramDecomposition,
    ablation: AblationResult | None = None,
    top_k: int = 5,
) -> StyleSummary:
    """Gather the headline of each analysis of one stylised image (see :class:`StyleSummary`).

    ``maps`` gives the per-layer style losses at the image and at its baseline; ``carriers`` the
    channel scores; ``decomposition`` the style's Gram spectra; ``ablation`` (optional) the causal
    check, read at its middle count.
    """
    if top_k < 1:
        raise ValueError(f"top_k must be a whole number >= 1; got {top_k!r}.")
    drops = {}
    for name, loss in maps.losses.items():
        if name.startswith("style:") and name != "style:total" and loss.get("baseline") is not None:
            drops[name[len("style:") :]] = loss["baseline"] - loss["image"]
    total = sum(drops.values())
    layer_share = {k: (v / total if total else 0.0) for k, v in drops.items()}
    channel_share, top_channels, n_channels = {}, {}, {}
    for layer, scores in carriers.style_scores.items():
        v = np.abs(scores.detach().double().numpy())
        order = np.argsort(-v, kind="stable")[:top_k]
        channel_share[layer] = float(v[order].sum() / v.sum()) if v.sum() > 0 else 0.0
        top_channels[layer] = [int(i) for i in order]
        n_channels[layer] = int(v.size)
    components_90 = {k: decomposition.spectra[k].components_for(0.9) for k in decomposition.layers}
    n_channels.update({k: decomposition.spectra[k].n_channels for k in decomposition.layers})
    summary_ablation = None
    if ablation is not None:
        mid = len(ablation.counts) // 2

        def change(ranking: str) -> float | None:
            if ranking not in ablation.style_after:
                return None
            value = float(ablation.relative("style", ranking)[mid])
            return None if np.isnan(value) else value

        summary_ablation = {
            "layer": ablation.layer,
            "count": int(ablation.counts[mid]),
            "style_change_top": change("gram"),
            "style_change_random": change("random"),
        }
    checks: dict[str, bool | None] = {
        "style regions": regions.style_test.passed,
        "content regions": regions.content_test.passed,
        "style randomisation": _passed(maps.randomisation.get("style:total")),
        "content randomisation": _passed(maps.randomisation.get("content")),
        "style deletion/insertion": _passed(maps.deletion.get("style:total")),
        "content deletion/insertion": _passed(maps.deletion.get("content")),
    }
    return StyleSummary(
        regions=regions,
        layer_share=layer_share,
        channel_share=channel_share,
        top_channels=top_channels,
        n_channels=n_channels,
        components_90=components_90,
        top_k=top_k,
        ablation=summary_ablation,
        checks=checks,
    )


def _passed(check: Any) -> bool | None:
    return None if check is None else bool(check.passed)
