"""The report writer: a small Report / Section / Figure / Table model and its HTML, Markdown and JSON.

A report lives in one folder::

    index.html     one readable page: sections, every figure with its caption, tables, configuration
    report.md      the same in Markdown
    metrics.json   every number, machine-readable, with the configuration, versions and seed
    figures/       PNG (and SVG where useful), referenced by relative paths only

Every piece of text is HTML-escaped when the page is written (titles, captions, table cells, file
names: anything may come from the user), and every figure path must be relative and resolve inside
the report folder (``..``, absolute paths and links that leave it are refused with ``ValueError``).
A table cell may be a :class:`Link` (a relative link to a file the report sits beside, such as
``../items/x/result.json``); :func:`write_report` checks that it exists inside the folder it is told
(``links_inside``, default the report folder). A table made with ``sortable=True`` sorts by a click
on a column header in the browser, without any script (radio buttons and CSS ``order``; see
:func:`_sortable_table_html`): the pages stay script-free.
:func:`write_report` writes into an existing folder; build the folder with
:func:`xstyle.atomic.atomic_dir` so a failed run leaves no half-written report.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from xstyle._json import jsonable  # re-exported: the reports' JSON conversion
from xstyle._runinfo import versions  # re-exported: the report's versions table
from xstyle.atomic import atomic_path

__all__ = [
    "Figure",
    "Link",
    "Report",
    "Section",
    "Table",
    "check_inside",
    "format_value",
    "jsonable",
    "render_html",
    "render_markdown",
    "safe_name",
    "save_figure",
    "save_image_figure",
    "versions",
    "write_report",
]

FIGURES = "figures"
_PATH = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]*")


def safe_name(text: str, *, default: str = "figure") -> str:
    """A file-name stem made of ``[A-Za-z0-9_.-]`` only (no path separators, no leading dot)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("._-")
    return stem[:80] or default


def check_inside(root: str | os.PathLike, relative: str) -> Path:
    """The absolute path of ``relative`` under ``root``; ValueError unless it stays inside ``root``.

    ``relative`` must be a relative POSIX path (as written into the page); ``..`` segments,
    absolute paths, drive letters and symbolic links that resolve outside ``root`` are refused.
    """
    text = str(relative)
    pure = PurePosixPath(text)
    if not _PATH.fullmatch(text) or pure.is_absolute() or ".." in pure.parts:
        raise ValueError(
            "report paths must be relative paths inside the report folder made of letters, digits "
            f"and _ . - / (like figures/x.png); got {text!r}."
        )
    base = Path(root).resolve()
    target = (base / Path(*pure.parts)).resolve()
    if target != base and base not in target.parents:
        raise ValueError(f"report path {text!r} resolves outside the report folder {str(base)!r}.")
    return target


@dataclass(frozen=True)
class Figure:
    """A figure file of the report with what it shows and how to read it.

    Attributes:
        path: relative path inside the report folder (``figures/name.png``).
        title: short title; caption: what the figure shows and how to read it (plain text).
        svg: optional relative path of a vector version (linked beside the image).
        alt: alternative text (default: the title).
        width: display width in CSS pixels (default: the file's own, at most the page's width).
    """

    path: str
    title: str
    caption: str
    svg: str | None = None
    alt: str | None = None
    width: int | None = None


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class Link:
    """A table cell that links to a file beside or below the report folder.

    Attributes:
        text: what the cell shows (escaped like any text).
        href: a relative POSIX path from the report folder (``../items/x/result.json``); ``..``
            segments are allowed here, but :func:`write_report` refuses a link whose target does not
            exist inside its ``links_inside`` folder. Absolute paths, URLs (``scheme:``), backslashes
            and control characters are refused at once with ``ValueError``. The page writes the path
            percent-encoded.
    """

    text: str
    href: str

    def __post_init__(self) -> None:
        href = self.href
        if (
            not isinstance(href, str)
            or not href
            or href.startswith("/")
            or "\\" in href
            or _SCHEME.match(href)
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in href)
        ):
            raise ValueError(
                f"a report link must be a relative path with / separators (like ../items/x/result.json); "
                f"got {href!r}."
            )

    @property
    def url(self) -> str:
        """The href as written into the page: percent-encoded, ``/`` kept."""
        return urllib.parse.quote(self.href, safe="/")


@dataclass(frozen=True)
class Table:
    """A small table of key numbers; cells are formatted with :func:`format_value`.

    A cell may be a :class:`Link`. ``sortable=True``: the HTML table sorts by a click on a column
    header (ascending, then descending; empty cells last), without scripts.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    title: str = ""
    caption: str = ""
    sortable: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "rows", tuple(tuple(r) for r in self.rows))
        bad = [i for i, r in enumerate(self.rows) if len(r) != len(self.columns)]
        if bad:
            raise ValueError(
                f"every table row must have {len(self.columns)} cells (the columns); rows {bad} do not."
            )


@dataclass
class Section:
    """A titled part of the report: paragraphs, figures and tables, in the order added."""

    title: str
    intro: str = ""
    blocks: list[str | Figure | Table] = field(default_factory=list)

    def text(self, paragraph: str) -> Section:
        self.blocks.append(paragraph)
        return self

    def figure(self, figure: Figure) -> Section:
        self.blocks.append(figure)
        return self

    def table(self, table: Table) -> Section:
        self.blocks.append(table)
        return self

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]


@dataclass
class Report:
    """Everything one report shows.

    Attributes:
        title, summary: page title and a short paragraph under it.
        sections: in page order.
        metrics: every number (JSON-ready after :func:`jsonable`), written to ``metrics.json``.
        config: the options of the run; versions: package versions; seed: the random seed.
        log: what ran: one dict per stage (``stage``, ``seconds``, ``status``, ``detail``).
    """

    title: str
    summary: str = ""
    sections: list[Section] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    seed: int | None = None
    log: list[dict[str, Any]] = field(default_factory=list)

    def section(self, title: str, intro: str = "") -> Section:
        """Append and return a new section."""
        section = Section(title, intro)
        self.sections.append(section)
        return section

    @property
    def figures(self) -> list[Figure]:
        return [f for s in self.sections for f in s.figures]

    def to_dict(self) -> dict[str, Any]:
        """The content of ``metrics.json``."""
        return jsonable(
            {
                "title": self.title,
                "seed": self.seed,
                "config": self.config,
                "versions": self.versions,
                "metrics": self.metrics,
                "figures": [
                    {"path": f.path, "svg": f.svg, "title": f.title, "caption": f.caption}
                    for f in self.figures
                ],
                "log": self.log,
            }
        )


def format_value(value: Any) -> str:
    """A table cell: floats with 4 significant digits, None as an en dash, booleans as yes/no."""
    if value is None:
        return "–"
    if isinstance(value, Link):
        return str(value.text)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "n/a"
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def _sentence(title: str) -> str:
    """A figure title ending in one full stop (none added after ?, ! or .)."""
    return title if title.rstrip().endswith((".", "?", "!")) else f"{title}."


def save_figure(
    figure: Any,
    root: str | os.PathLike,
    name: str,
    *,
    title: str,
    caption: str,
    svg: bool = False,
    dpi: int = 110,
    close: bool = True,
) -> Figure:
    """Save a matplotlib figure (or a Display with ``figure_``) as ``figures/<name>.png`` under ``root``.

    ``name`` is reduced to a safe file-name stem; ``svg=True`` also writes a vector copy. Returns the
    :class:`Figure` entry (relative paths) to add to a section.
    """
    fig = getattr(figure, "figure_", figure)
    stem = safe_name(name)
    rel = f"{FIGURES}/{stem}.png"
    target = check_inside(root, rel)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(target) as tmp:
            fig.savefig(tmp, dpi=dpi, format="png")
        rel_svg = None
        if svg:
            rel_svg = f"{FIGURES}/{stem}.svg"
            with atomic_path(check_inside(root, rel_svg)) as tmp:
                fig.savefig(tmp, format="svg")
    finally:
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return Figure(path=rel, title=title, caption=caption, svg=rel_svg)


def save_image_figure(
    image: Any, root: str | os.PathLike, name: str, *, title: str, caption: str, width: int | None = None
) -> Figure:
    """Save an image tensor (1, 3, H, W) in [0, 1] as ``figures/<name>.png`` and return its entry.

    ``width``: display width on the page in CSS pixels (small images are shown enlarged).
    """
    from xstyle.images import save_image

    rel = f"{FIGURES}/{safe_name(name)}.png"
    target = check_inside(root, rel)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_image(image, target)
    return Figure(path=rel, title=title, caption=caption, width=width)


# ------------------------------------------------------------------------------------------ HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:62rem;margin:2rem auto;
padding:0 1rem;line-height:1.5;color:#1d1d1f;background:#fff}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{margin-top:2.5rem;border-bottom:1px solid #ddd}
h3{margin-bottom:.3rem}
figure{margin:1.5rem 0;padding:.8rem;border:1px solid #e3e3e3;border-radius:6px;background:#fafafa}
figure img{max-width:100%;height:auto;display:block;margin:0 auto;background:#fff}
figcaption{font-size:.92rem;color:#333;margin-top:.5rem}
table{border-collapse:collapse;margin:.8rem 0 1.4rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
nav ol{columns:2;font-size:.95rem}pre{background:#f6f6f6;padding:.8rem;overflow-x:auto;font-size:.8rem}
.caption-title{font-weight:600}.muted{color:#666;font-size:.9rem}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _anchor(i: int) -> str:
    return f"s{i + 1}"


def _paragraphs_html(text: str) -> str:
    return "".join(f"<p>{_e(p.strip())}</p>\n" for p in text.split("\n\n") if p.strip())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell_html(value: Any) -> str:
    cls = ' class="num"' if _is_number(value) else ""
    if isinstance(value, Link):
        return f'<td><a href="{_e(value.url)}">{_e(value.text)}</a></td>'
    return f"<td{cls}>{_e(format_value(value))}</td>"


def _table_html(table: Table, sort_id: int | None = None) -> str:
    out = []
    if table.title:
        out.append(f"<h3>{_e(table.title)}</h3>")
    if sort_id is not None and table.rows:
        out.append(_sortable_table_html(table, sort_id))
    else:
        out.append("<table>")
        out.append("<thead><tr>" + "".join(f"<th>{_e(c)}</th>" for c in table.columns) + "</tr></thead>")
        out.append("<tbody>")
        for row in table.rows:
            out.append("<tr>" + "".join(_cell_html(v) for v in row) + "</tr>")
        out.append("</tbody></table>")
    if table.caption:
        out.append(f'<p class="muted">{_e(table.caption)}</p>')
    return "\n".join(out) + "\n"


def _sort_key(value: Any) -> tuple:
    """Order of a cell: numbers by value, then text in natural order (``c2`` before ``c10``);
    empty cells (None, NaN) are ranked apart (always last)."""
    if isinstance(value, Link):
        value = value.text
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return (2,)
    if isinstance(value, int | float):  # numbers, booleans as 0 and 1
        return (0, float(value))
    parts = re.split(r"(\d+(?:\.\d+)?)", format_value(value).casefold())
    return (1, tuple((0, float(p), "") if i % 2 else (1, 0.0, p) for i, p in enumerate(parts) if p))


def _ranks(values: Sequence[Any]) -> tuple[list[int], list[int]]:
    """Ascending and descending positions of each value; ties keep the table's order and empty
    cells come last in both directions."""
    keys = [_sort_key(v) for v in values]
    index = range(len(keys))
    filled = [i for i in index if keys[i] != (2,)]
    empty = [i for i in index if keys[i] == (2,)]
    up = sorted(filled, key=lambda i: keys[i])
    down = sorted(filled, key=lambda i: keys[i], reverse=True)  # a stable sort: ties keep their order
    asc, desc = [0] * len(keys), [0] * len(keys)
    for position, i in enumerate(up + empty):
        asc[i] = position
    for position, i in enumerate(down + empty):
        desc[i] = position
    return asc, desc


def _sortable_table_html(table: Table, sort_id: int) -> str:
    """A table that sorts by a click on a header, with no script.

    Two hidden radio buttons per column (ascending, descending) precede the table; each header holds
    two labels, one per button, and CSS shows the one that sorts next. Every row carries its
    positions under each ordering as custom properties (``--aK``, ``--dK``), and the table is a CSS
    grid whose cells take ``order`` from the checked button (``thead``, ``tbody`` and ``tr`` use
    ``display: contents``), so the browser reorders the rows itself. Without CSS the radio buttons
    and the plain table still read correctly.
    """
    name = f"sort{sort_id}"
    n = len(table.columns)
    ranks = [_ranks([row[k] for row in table.rows]) for k in range(n)]
    out = [f'<div class="sortable" style="--c:{n}">']
    for k in range(n):
        for d in ("a", "d"):
            out.append(
                f'<input type="radio" name="{name}" id="{name}-{d}{k}" class="s{d}{k}" '
                f'aria-label="sort by {_e(table.columns[k])}, {"ascending" if d == "a" else "descending"}">'
            )
    out.append('<table class="sorted">')
    heads = "".join(
        f'<th><label for="{name}-a{k}" class="la la{k}">{_e(c)}</label>'
        f'<label for="{name}-d{k}" class="ld ld{k}">{_e(c)}</label></th>'
        for k, c in enumerate(table.columns)
    )
    out.append(f"<thead><tr>{heads}</tr></thead>")
    out.append("<tbody>")
    for i, row in enumerate(table.rows):
        style = ";".join(f"--a{k}:{ranks[k][0][i]};--d{k}:{ranks[k][1][i]}" for k in range(n))
        out.append(f'<tr style="{style}">' + "".join(_cell_html(v) for v in row) + "</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


_SORT_CSS = """
.sortable{position:relative;overflow-x:auto;margin:.8rem 0 1.4rem;padding:0 1px 1px 0}
.sortable>input{position:absolute;opacity:0;width:1px;height:1px;margin:0;pointer-events:none}
.sortable table{display:grid;grid-template-columns:repeat(var(--c),auto);width:fit-content;margin:0}
.sortable thead,.sortable tbody,.sortable tr{display:contents}
.sortable th,.sortable td{margin:0 -1px -1px 0}.sortable th{order:-1}
.sortable th label{cursor:pointer;display:block}.sortable th label::after{content:" \\2195";color:#999}
.sortable th .ld{display:none}
.sortable>input:focus-visible~table{outline:2px solid #4a90d9}
"""


def _sort_css(n_columns: int) -> str:
    """The sortable tables' style sheet, with the per-column rules up to ``n_columns`` columns."""
    rules = [_SORT_CSS]
    for k in range(n_columns):
        on_a, on_d = f".sortable>input.sa{k}:checked~table", f".sortable>input.sd{k}:checked~table"
        rules.append(
            f"{on_a} td{{order:var(--a{k})}}{on_d} td{{order:var(--d{k})}}"
            f"{on_a} .la{k}{{display:none}}{on_a} .ld{k}{{display:block}}"
            f'{on_a} .ld{k}::after{{content:" \\25B2";color:#333}}'
            f'{on_d} .la{k}::after{{content:" \\25BC";color:#333}}\n'
        )
    return "".join(rules)


def _figure_html(figure: Figure, number: int) -> str:
    svg = f' <a href="{_e(figure.svg)}">(SVG)</a>' if figure.svg else ""
    size = f' style="width:{int(figure.width)}px"' if figure.width else ""
    return (
        "<figure>\n"
        f'<a href="{_e(figure.path)}"><img src="{_e(figure.path)}" alt="{_e(figure.alt or figure.title)}"'
        f'{size} loading="eager"></a>\n'
        f'<figcaption><span class="caption-title">Figure {number}. {_e(_sentence(figure.title))}</span> '
        f"{_e(figure.caption)}{svg}</figcaption>\n"
        "</figure>\n"
    )


def _kv_table(mapping: Mapping[str, Any], *, title: str) -> Table:
    rows = [
        (k, json.dumps(jsonable(v)) if isinstance(v, Mapping | list | tuple) else v)
        for k, v in mapping.items()
    ]
    return Table(columns=("key", "value"), rows=tuple(rows), title=title)


def _provenance(report: Report) -> Section:
    """The closing section: configuration, versions, seed and the log of what ran."""
    section = Section("Configuration, versions and run log")
    section.text(
        "Everything below is also in metrics.json. Re-running the same command with the same seed "
        "and versions gives the same numbers (up to floating-point differences between machines)."
    )
    section.table(Table(columns=("setting", "value"), rows=(("seed", report.seed),), title="Seed"))
    flat: dict[str, Any] = {}
    for key, value in report.config.items():
        if isinstance(value, Mapping):
            for k, v in value.items():
                flat[f"{key}.{k}"] = v
        else:
            flat[key] = value
    section.table(_kv_table(flat, title="Configuration"))
    section.table(_kv_table(report.versions, title="Versions"))
    if report.log:
        section.table(
            Table(
                columns=("stage", "seconds", "status", "detail"),
                rows=tuple(
                    (r.get("stage", ""), r.get("seconds"), r.get("status", ""), r.get("detail", ""))
                    for r in report.log
                ),
                title="What ran",
            )
        )
    return section


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (figures referenced by relative paths)."""
    sections = [*report.sections, _provenance(report)]
    tables = [b for s in sections for b in s.blocks if isinstance(b, Table)]
    widest = max((len(t.columns) for t in tables if t.sortable and t.rows), default=0)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(report.title)}</title>",
        f"<style>{_CSS}{_sort_css(widest)}</style>" if widest else f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(report.title)}</h1>",
        _paragraphs_html(report.summary),
        "<nav><h2>Contents</h2><ol>",
        *(f'<li><a href="#{_anchor(i)}">{_e(s.title)}</a></li>' for i, s in enumerate(sections)),
        "</ol></nav>",
    ]
    number = 0
    n_sortable = 0
    for i, section in enumerate(sections):
        parts.append(f'<section id="{_anchor(i)}">')
        parts.append(f"<h2>{_e(section.title)}</h2>")
        parts.append(_paragraphs_html(section.intro))
        for block in section.blocks:
            if isinstance(block, Figure):
                number += 1
                parts.append(_figure_html(block, number))
            elif isinstance(block, Table):
                sort_id = n_sortable if block.sortable and block.rows else None
                n_sortable += sort_id is not None
                parts.append(_table_html(block, sort_id))
            else:
                parts.append(_paragraphs_html(block))
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


# -------------------------------------------------------------------------------------- Markdown


def _md(text: Any, *, cell: bool = False) -> str:
    """One line of text made inert in Markdown: HTML escaped, no links, code, emphasis or table cells.

    Underscores inside words stay as they are (GitHub Markdown does not emphasise them).
    """
    text = html.escape(str(text), quote=False).replace("\n", " ")
    text = re.sub(r"([\\`*\[\]|])", r"\\\1", text)
    text = re.sub(r"(^|\s)_|_(\s|$)", lambda m: m.group(0).replace("_", "\\_"), text)
    return "\\" + text if not cell and text.startswith(("#", "-", "+", "=", ">")) else text


def _md_cell(value: Any) -> str:
    if isinstance(value, Link):
        return f"[{_md(value.text, cell=True)}](<{value.url}>)"
    return _md(format_value(value), cell=True)


def _md_table(table: Table) -> str:
    out = []
    if table.title:
        out.append(f"**{_md(table.title)}**\n")
    out.append("| " + " | ".join(_md(c, cell=True) for c in table.columns) + " |")
    out.append("| " + " | ".join("---" for _ in table.columns) + " |")
    for row in table.rows:
        out.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    if table.caption:
        out.append(f"\n*{_md(table.caption)}*")
    return "\n".join(out) + "\n"


def render_markdown(report: Report) -> str:
    """The report in Markdown (figures as relative image links)."""
    parts = [f"# {_md(report.title)}\n"]
    if report.summary:
        parts += [_md(p.strip()) + "\n" for p in report.summary.split("\n\n") if p.strip()]
    number = 0
    for section in [*report.sections, _provenance(report)]:
        parts.append(f"## {_md(section.title)}\n")
        if section.intro:
            parts += [_md(p.strip()) + "\n" for p in section.intro.split("\n\n") if p.strip()]
        for block in section.blocks:
            if isinstance(block, Figure):
                number += 1
                svg = f" ([SVG](<{block.svg}>))" if block.svg else ""
                parts.append(f"![{_md(block.alt or block.title)}](<{block.path}>)\n")
                parts.append(f"*Figure {number}. {_md(_sentence(block.title))}* {_md(block.caption)}{svg}\n")
            elif isinstance(block, Table):
                parts.append(_md_table(block))
            else:
                parts += [_md(p.strip()) + "\n" for p in block.split("\n\n") if p.strip()]
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------- writing


def _check_links(report: Report, folder: Path, inside: Path) -> None:
    """ValueError unless every :class:`Link` cell of ``report`` resolves (from ``folder``) to an
    existing file or folder inside ``inside``."""
    base, root = inside.resolve(), folder.resolve()
    for section in report.sections:
        for block in section.blocks:
            if not isinstance(block, Table):
                continue
            for row in block.rows:
                for cell in row:
                    if not isinstance(cell, Link):
                        continue
                    target = (root / Path(*PurePosixPath(cell.href).parts)).resolve()
                    if target != base and base not in target.parents:
                        raise ValueError(
                            f"report link {cell.href!r} resolves outside {str(base)!r}, the folder links "
                            "may point into."
                        )
                    if not target.exists():
                        raise ValueError(
                            f"report link {cell.href!r} points to nothing (from {str(folder)!r})."
                        )


def write_report(
    report: Report, folder: str | os.PathLike, *, links_inside: str | os.PathLike | None = None
) -> Path:
    """Write ``index.html``, ``report.md`` and ``metrics.json`` of ``report`` into ``folder``.

    Every figure (and SVG) path must be relative, resolve inside ``folder`` and exist; every
    :class:`Link` in a table must resolve (from ``folder``) to something that exists inside
    ``links_inside`` (default: ``folder`` itself; a collection report beside its batch's items passes
    the batch folder). Otherwise ValueError is raised before anything is written. Returns the path
    of ``index.html``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"report folder {str(folder)!r} does not exist or is not a folder.")
    for figure in report.figures:
        for rel in (figure.path, *([figure.svg] if figure.svg is not None else [])):
            target = check_inside(folder, rel)
            if not target.is_file():
                raise ValueError(f"report figure {rel!r} does not exist in {str(folder)!r}.")
    _check_links(report, folder, Path(links_inside) if links_inside is not None else folder)
    data = json.dumps(report.to_dict(), indent=2, allow_nan=False)
    pages = {
        "index.html": render_html(report),
        "report.md": render_markdown(report),
        "metrics.json": data + "\n",
    }
    for name, text in pages.items():
        with atomic_path(folder / name) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return folder / "index.html"


def figure_list(figures: Sequence[Figure]) -> list[str]:
    """Relative paths of ``figures`` (PNG and SVG)."""
    return [p for f in figures for p in (f.path, f.svg) if p]
