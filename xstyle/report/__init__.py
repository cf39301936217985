"""Reports: run the analyses of a style pair, a generator or a batch folder and write them out.

One module per subject, imported by name: :mod:`xstyle.report.style` (``build_style_report``,
``StyleReportConfig``), :mod:`xstyle.report.gan` (``build_gan_report``, ``GANReportConfig``),
:mod:`xstyle.report.demo` (``build_demo_report``), :mod:`xstyle.report.collection` (a batch
folder's report) and :mod:`xstyle.report.writer` (``Report`` -> HTML, Markdown, JSON, figures).
The pictures are the ``*Display`` classes beside their results (the ``plots`` modules).
"""

__all__: list[str] = []
