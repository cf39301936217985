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
    """Both reports in one page (the style part first); one plan, so progress covers the whole run."""
    s, g = style or StyleReportConfig(), gan or GANReportConfig()
    runner = _Runner(_style_plan(s) + _gan_plan(g), progress)
    report = _new_report(
        title,
        _STYLE_SUMMARY + "\n\n" + _GAN_SUMMARY,
        s.seed,
        {"kind": "demo", "style": s.to_dict(), "gan": g.to_dict()},
    )
    report.log = runner.log
    metrics = {"style": _style_part(runner, s, Path(root), report, "style_")}
    metrics["gan"] = _gan_part(runner, g, Path(root), report, "gan_")
    report.metrics = metrics
    return report
