"""The demo report: the style report and the GAN report in one page, under one progress plan."""

from __future__ import annotations

import os
from pathlib import Path

from xstyle.report._common import ProgressCallback, _new_report, _Runner
from xstyle.report.gan import _GAN_SUMMARY, GANReportConfig, _gan_part, _gan_plan
from xstyle.report.style import _STYLE_SUMMARY, StyleReportConfig, _style_part, _style_plan
from xstyle.report.writer import Report

__all__ = ["build_demo_report"]


def build_demo_report(
    style: StyleReportConfig | None = None,
    gan: GANReportConfig | None = None,
    *,
    root: str | os.PathLike,
    progress: ProgressCallback | None = None,
    title: str = "xstyle demo report: style transfer and a DCGAN, explained",
) -> Report:
    """Both reports in one page (the style part first); one plan, so progress covers the whole run.

    ``style``/``gan`` default to the demo's report-sized settings (``StyleReportConfig.demo()``,
    ``GANReportConfig.demo()``: a few minutes on a 2-core CPU); the summary says what the full
    reports add.
    """
    s, g = style or StyleReportConfig.demo(), gan or GANReportConfig.demo()
    runner = _Runner(_style_plan(s) + _gan_plan(g), progress)
    report = _new_report(
        title,
        _STYLE_SUMMARY + "\n\n" + _GAN_SUMMARY + _full_report_note(s),
        s.seed,
        {"kind": "demo", "style": s.to_dict(), "gan": g.to_dict()},
    )
    report.log = runner.log
    metrics = {"style": _style_part(runner, s, Path(root), report, "style_")}
    metrics["gan"] = _gan_part(runner, g, Path(root), report, "gan_")
    report.metrics = metrics
    return report


def _full_report_note(style: StyleReportConfig) -> str:
    """What the demo leaves to the full reports, and the commands that run them."""
    if style.sanity:
        return ""
    return (
        "\n\nThe demo runs report-sized settings to answer in minutes; `xstyle report style` adds the "
        "deletion/insertion curves and the model-randomisation check of the maps, and `xstyle report "
        "gan` scores more digits."
    )
