"""The demo's report-sized settings: what `xstyle report demo` runs, and what its summary says it left out."""

from __future__ import annotations

from dataclasses import fields

import pytest

from xstyle.cli._main import build_parser
from xstyle.cli.report import _gan_report_config, _style_report_config
from xstyle.report.demo import _full_report_note
from xstyle.report.gan import GANReportConfig
from xstyle.report.style import StyleReportConfig


@pytest.mark.parametrize("cls", [StyleReportConfig, GANReportConfig])
def test_demo_changes_only_its_table_and_user_changes_win(cls):
    full, demo = cls(), cls.demo()
    changed = {f.name for f in fields(cls) if getattr(full, f.name) != getattr(demo, f.name)}
    assert changed == set(cls._DEMO)
    assert cls.demo(seed=7).seed == 7


def test_demo_is_cheaper_than_the_full_style_report():
    full, demo = StyleReportConfig(), StyleReportConfig.demo()
    assert demo.maps_size < full.maps_size and not demo.sanity and full.sanity
    assert len(demo.ranks) < len(full.ranks)


def _args(*argv):
    args, _ = build_parser().parse_known_args(["report", *argv])
    return args


def test_cli_demo_runs_the_demo_settings_and_style_runs_the_full_ones():
    assert _style_report_config(_args("demo")) == StyleReportConfig.demo()
    assert _gan_report_config(_args("demo")) == GANReportConfig.demo()
    assert _style_report_config(_args("style")) == StyleReportConfig()
    assert _style_report_config(_args("demo", "--n-steps", "4")).n_steps == 4


def test_demo_summary_names_the_full_reports_when_checks_are_left_out():
    assert "xstyle report style" in _full_report_note(StyleReportConfig.demo())
    assert _full_report_note(StyleReportConfig()) == ""
