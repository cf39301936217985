"""Report builders: run the analyses of a style pair or a DCGAN and fill a :class:`Report`.

``build_style_report`` stylises a content photo with a painting and explains the result (Captum
maps, channel carriers, Gram entries, sanity checks, Gram spectra, low-rank styles, fingerprints,
channel ablation and the beta/alpha trade-off); ``build_gan_report`` measures a DCGAN checkpoint
(samples, quality, discriminator maps, latent class attribution, the digits of a mixture
prior's components, probes, directions and traversals); ``build_demo_report`` does both.
Each saves its figures under ``root/figures/`` and returns the
:class:`~xstyle.report.writer.Report`; :func:`~xstyle.report.writer.write_report` turns it into
``index.html``, ``report.md`` and ``metrics.json``.

Progress goes to an optional callback (one :class:`ProgressEvent` per stage start, step and end,
with each stage's estimated share of the whole run); nothing here prints.

The builders live by subject in :mod:`xstyle.report.style`, :mod:`xstyle.report.gan` and
:mod:`xstyle.report.demo` (shared progress machinery in :mod:`xstyle.report._common`); this module
re-exports their public names.
"""

from xstyle.report._common import ProgressEvent
from xstyle.report.demo import build_demo_report
from xstyle.report.gan import GANReportConfig, build_gan_report
from xstyle.report.style import StyleReportConfig, build_style_report

__all__ = [
    "GANReportConfig",
    "ProgressEvent",
    "StyleReportConfig",
    "build_demo_report",
    "build_gan_report",
    "build_style_report",
]
