"""The style report's maps section: where the style and the content live in the image (Captum
maps, their regions and the region test, the maps' numbers and their sanity checks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xstyle.report._common import _Page
from xstyle.report.captions import text
from xstyle.report.writer import Section, Table

if TYPE_CHECKING:
    from xstyle.report.style_stages import StyleRun

__all__ = ["maps_section"]


def _cases_text(cases: dict[str, str | None]) -> str:
    """Which of image and baseline was closer, per total map, in words for the maps' caption."""
    words = {
        "image closer": "the image is closer to the target than its baseline (the map sums to +1)",
        "baseline closer": "the baseline is closer than the image (the map sums to -1)",
        "equal": "image and baseline are equally close",
    }
    parts = [
        f"for the {label} map {words.get(cases.get(name) or '', 'no baseline was used')}"
        for name, label in (("style:total", "total style"), ("content", "content"))
        if name in cases
    ]
    return "; ".join(parts) or "no map"


def maps_section(page: _Page, run: StyleRun) -> None:
    """Section "Where do the style and the content live?": the maps, the regions, their numbers and checks."""
    c, maps = run.c, run.maps
    s = page.report.section(
        "Where do the style and the content live?",
        f"Captum {maps.method.upper()} attributions of the style loss and the content loss of the "
        f"stylised image ({c.maps_size} px, {c.n_steps} integration steps). The style maps start from "
        "the content photo (the layout without the style) and the content map from the painting "
        "resized to the image (the style without the photo's shapes): evidence maps show which pixels "
        "move each loss from there to the stylised image's value.",
    )
    _map_figures(page, s, run)
    _region_table(s, run)
    _attribution_table(s, run)
    _sanity_checks(page, s, run)


def _map_figures(page: _Page, s: Section, run: StyleRun) -> None:
    """The maps, their regions and the region test's curves."""
    from xstyle.explain.style.faithfulness import UNIFORM_GAIN
    from xstyle.explain.style.maps import SIGN_CONVENTION

    save, maps, explained = page.save, run.maps, run.regions
    s.figure(
        save(
            maps.plot(),
            "style_content_maps",
            "style.style_content_maps",
            sign_convention=SIGN_CONVENTION,
            cases=_cases_text(maps.cases),
        )
    )
    regions = explained.regions
    verdict = " ".join(line[0].upper() + line[1:] + "." for line in explained.verdict_lines())
    s.figure(
        save(
            regions.plot(),
            "regions",
            "style.regions",
            n_regions=len(regions.style),
            share=100 * regions.style_share,
            verdict=verdict,
        )
    )
    s.figure(
        save(
            explained.plot(),
            "region_faithfulness",
            "style.region_faithfulness",
            uniform_gain=UNIFORM_GAIN,
            verdict=verdict,
        )
    )


def _region_table(s: Section, run: StyleRun) -> None:
    """The region test of each map: losses at the filler and the image, gain over random orders."""
    explained = run.regions
    s.table(
        Table(
            columns=(
                "map",
                "filler",
                "loss at filler",
                "loss at image",
                "gain over random",
                "95 % CI",
                "passed",
                "best order",
                "spread",
                "verdict",
            ),
            rows=tuple(
                (
                    which,
                    test.filler,
                    test.losses["filler"],
                    test.losses["image"],
                    test.gain,
                    f"{test.gain_ci[0]:+.3f} to {test.gain_ci[1]:+.3f}",
                    test.passed,
                    test.best_gain,
                    test.spread,
                    test.verdict,
                )
                for which, test in (("style", explained.style_test), ("content", explained.content_test))
            ),
            **text("style.table_region_faithfulness"),
        )
    )


def _attribution_table(s: Section, run: StyleRun) -> None:
    """Each map's losses at image and baseline, completeness error and edge/flat ratio."""
    maps = run.maps
    s.table(
        Table(
            columns=("map", "loss at image", "loss at baseline", "completeness error", "edge/flat ratio"),
            rows=tuple(
                (
                    name,
                    maps.losses[name]["image"],
                    maps.losses[name]["baseline"],
                    maps.completeness.get(name),
                    maps.edges.get(name, {}).get("edge_to_flat"),
                )
                for name in maps.losses
            ),
            **text("style.table_attribution_numbers", style_percent=100 * maps.style_share),
        )
    )


def _sanity_checks(page: _Page, s: Section, run: StyleRun) -> None:
    """Deletion/insertion curves and model randomisation of the maps (when they ran), with a table."""
    save, maps = page.save, run.maps
    if maps.deletion or maps.randomisation:
        s.text(
            "Sanity checks: deletion/insertion curves remove (or add) pixels in the map's order and "
            "should change the loss faster than random orders; model randomisation re-initialises "
            "the network block by block from the top, and the maps should stop resembling the trained "
            "network's maps."
        )
    for name, curve in maps.deletion.items():
        s.figure(
            save(
                curve.plot(title=name),
                f"deletion_{name}",
                "style.deletion",
                passed="yes" if curve.passed else "no",
                name=name,
            )
        )
    for name, check in maps.randomisation.items():
        s.figure(
            save(
                check.plot(),
                f"randomisation_{name}",
                "style.randomisation",
                threshold=check.threshold,
                passed="yes" if check.passed else "no",
                name=name,
            )
        )
    rows = [
        (name, "deletion/insertion", curve.deletion_auc, curve.random_deletion_auc, curve.passed)
        for name, curve in maps.deletion.items()
    ] + [
        (name, "randomisation", float(check.spearman_abs[-1]), check.threshold, check.passed)
        for name, check in maps.randomisation.items()
    ]
    if rows:
        s.table(
            Table(
                columns=("map", "check", "value", "reference", "passed"),
                rows=tuple(rows),
                **text("style.table_sanity_checks"),
            )
        )
