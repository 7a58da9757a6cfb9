"""Executed notebook → one offline HTML page, in the report view or the analyst view.

The **report view** (default) is for readers: no code, no prompts, and the cells tagged
`parameters`, `injected-parameters` or `self-check` (and `report-hide`) are left out; a short
header lists the parameters and says the self-checks passed. The **analyst view** keeps the
code and every cell. Both embed plotly.js once, gzip-compressed and base64-encoded: the
cartesian bundle of the same plotly.js version (bar, scatter, heatmap, box, pie, … — 0.66 MB
as embedded, against 4.8 MB for the full bundle), or the full bundle if a chart needs a trace
type the small one lacks. The page decompresses it with the browser's `DecompressionStream`,
so it opens offline from disk with nothing fetched.
"""

from __future__ import annotations

import base64
import gzip
import re
import warnings
from collections.abc import Mapping
from functools import cache
from typing import Any

import nbformat

from spendkit import __version__
from spendkit.errors import BuildError
from spendkit.reference import catalogue
from spendkit.views.html import escape_html
from spendkit.views.plotting import FIGURE_CLASS

TEMPLATES_DIR = catalogue.path("nbconvert_templates")
TEMPLATE_NAME = "offline"
VIEWS = ("report", "analyst")
#: Cells left out of the report view, by tag.
REPORT_HIDDEN_TAGS = ("parameters", "injected-parameters", "self-check", "report-hide")
#: Tag of the cells whose assertions check the page's numbers.
SELF_CHECK_TAG = "self-check"

#: Trace types in plotly.js's cartesian bundle (its README), the bundle the pages embed.
CARTESIAN_TRACES = frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d",
                              "histogram2dcontour", "image", "pie", "scatter",
                              "scatterternary", "violin"})

#: The cartesian bundle's file (gzip -9) in package data; its version must be plotly.py's own
#: plotly.js version (`plotly.offline.get_plotlyjs_version()`), which a test checks.
CARTESIAN_FILE = "plotly-cartesian-4.1.1.min.js.gz"

#: References to the network that an offline page must not contain.
EXTERNAL_REFERENCE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("script src", re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//", re.I)),
    ("link href", re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//", re.I)),
    ("import()", re.compile(r"\bimport\s*\(\s*[\"'`]\s*(?:https?:)?//", re.I)),
)
#: nbconvert's warning when an output has no mimetype the template can show (a missing chart).
UNREPRESENTABLE = "is not able to be represented"
#: Marks of an embedded plotly.js: the bundle element, or plotly.js's own banner (uncompressed).
PLOTLYJS_MARKS = ('id="spendkit-plotlyjs"', "* plotly.js v")
_TRACES = re.compile(r'data-traces="([^"]*)"')


@cache
def _bundle(name: str) -> str:
    """A plotly.js bundle as base64 of its gzip bytes ('cartesian' ships gzipped)."""
    if name == "cartesian":
        raw = (catalogue.path("plotly_bundle") / CARTESIAN_FILE).read_bytes()
    else:
        from plotly.offline import get_plotlyjs

        raw = gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=9, mtime=0)
    return base64.b64encode(raw).decode("ascii")


def page_trace_types(body: str) -> set[str]:
    """Trace types the page's figures use (from each figure div's `data-traces`)."""
    return {t for m in _TRACES.finditer(body) for t in m.group(1).split(",") if t}


def bundle_for(body: str) -> str:
    """'cartesian' when every chart's trace type is in the small bundle, else 'full'."""
    return "cartesian" if page_trace_types(body) <= CARTESIAN_TRACES else "full"


def header_html(*, view: str, parameters: Mapping[str, str], self_checks: int,
                data_date: str | None = None, version: str = __version__) -> str:
    """The short header above a page: view, spendkit version, data date, parameters, checks.

    `parameters` maps each name to its value as Python source (`'"Leeds"'`, `'None'`). Every
    value is escaped. `data_date` is a date taken from the data or the build's inputs (never
    the wall clock), so the same inputs give the same page.
    """
    what = "Report view (code hidden)" if view == "report" else "Analyst view (code shown)"
    built = f"built with spendkit {escape_html(version)}"
    if data_date:
        built += f" from data up to {escape_html(data_date)}"
    lines = [f"<p><strong>{what}</strong> · {built}</p>"]
    if parameters:
        shown = []
        for name, text in parameters.items():
            text = str(text) if len(str(text)) <= 80 else str(text)[:77] + "..."
            shown.append(f"<code>{escape_html(name)} = {escape_html(text)}</code>")
        lines.append("<p>Parameters: " + ", ".join(shown) + "</p>")
    if self_checks:
        unit = "self-check" if self_checks == 1 else "self-checks"
        lines.append(f"<p>All {self_checks} {unit} on this page's numbers passed "
                     "(the build stops at the first that fails).</p>")
    return '<header class="sk-build">' + "".join(lines) + "</header>"


def count_self_checks(nb: nbformat.NotebookNode) -> int:
    """Code cells tagged `self-check`."""
    return sum(1 for c in nb.cells if c.cell_type == "code"
               and SELF_CHECK_TAG in c.get("metadata", {}).get("tags", []))


def _for_view(nb: nbformat.NotebookNode, view: str) -> nbformat.NotebookNode:
    """A copy with the report view's hidden cells (and empty code cells) left out."""
    if view == "analyst":
        return nb
    out = nbformat.from_dict(nb)
    out.cells = [c for c in out.cells
                 if not set(c.get("metadata", {}).get("tags", [])) & set(REPORT_HIDDEN_TAGS)
                 and not (c.cell_type == "code" and not c.get("outputs"))]
    return out


def export_html(nb: nbformat.NotebookNode, title: str, *, no_input: bool = False,
                view: str | None = None, header: str = "") -> str:
    """Render an executed notebook to one offline HTML page; fail on unrepresentable outputs.

    `view` is 'report' or 'analyst' (default: 'report' when `no_input`, else 'analyst');
    `header` is HTML placed above the content (see `header_html`).
    """
    from nbconvert import HTMLExporter

    view = view or ("report" if no_input else "analyst")
    if view not in VIEWS:
        raise BuildError(f"view: expected one of {VIEWS}, got {view!r}")
    hide = view == "report"
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=hide,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    shown = _for_view(nb, view)
    # Figures are scanned first, so the page embeds the bundle its charts need, or none.
    body_outputs = "".join(
        str(o.get("data", {}).get("text/html", "")) for c in shown.cells
        if c.cell_type == "code" for o in c.get("outputs", []))
    has_figures = FIGURE_CLASS in body_outputs
    bundle = bundle_for(body_outputs) if has_figures else ""
    resources = {
        "metadata": {"name": title},
        "spendkit": {"version": __version__, "view": view, "show_code": not hide,
                     "header_html": header, "plotly_bundle": bundle,
                     "plotly_b64": _bundle(bundle) if bundle else ""},
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        page, _ = exporter.from_notebook_node(shown, resources=resources)
    lost = sorted({str(w.message) for w in caught if UNREPRESENTABLE in str(w.message)})
    if lost:
        raise BuildError(f"{title}: output(s) missing from the HTML: {'; '.join(lost)}")
    return page


def external_references(page: str) -> list[str]:
    """Snippets of `page` that would make a browser fetch something from the network."""
    found = []
    for label, pattern in EXTERNAL_REFERENCE_PATTERNS:
        for m in pattern.finditer(page):
            found.append(f"{label}: {page[m.start():m.end() + 60]!r}")
    return found


def count_figures(page: str) -> int:
    """Number of plotly figures (divs) in an exported page."""
    return page.count(f'class="{FIGURE_CLASS}"')


def count_plotlyjs(page: str) -> int:
    """Number of embedded copies of plotly.js in a page (1 for a page with charts)."""
    return sum(page.count(mark) for mark in PLOTLYJS_MARKS)


def check_offline(page: str, where: Any) -> None:
    """Raise BuildError if `page` references the network or has figures without plotly.js."""
    refs = external_references(page)
    if refs:
        raise BuildError(f"{where}: page references the network: " + "; ".join(refs[:5]))
    n_js = count_plotlyjs(page)
    if count_figures(page) and n_js != 1:
        raise BuildError(f"{where}: expected plotly.js embedded once, found {n_js} copies")


__all__ = ["CARTESIAN_TRACES", "REPORT_HIDDEN_TAGS", "SELF_CHECK_TAG", "TEMPLATES_DIR",
           "TEMPLATE_NAME", "VIEWS", "bundle_for", "check_offline", "count_figures",
           "count_plotlyjs", "count_self_checks", "export_html", "external_references",
           "header_html", "page_trace_types"]
