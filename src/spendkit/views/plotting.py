"""Plotly set-up for spendkit notebooks: one renderer policy, one template, money formatting.

Notebooks call `setup_plotly()` once at the top. By default figures are stored as the plotly
mimetype only (small .ipynb, stable under nbval, drawn by JupyterLab's bundled extension). When
the environment has `SPENDKIT_REPORT=1` (set by `spendkit.report.build_reports`), figures also
carry a small HTML div and script so nbconvert can export them; the report page embeds plotly.js
once (see `spendkit.report`), with no MathJax or CDN reference.
"""

from __future__ import annotations

import html
import os
import textwrap
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.io._base_renderers import NotebookRenderer  # private, but the documented way in
from plotly.io.json import to_json_plotly

#: Okabe–Ito colour-blind-safe palette, ordered so the first colours contrast best on white
#: (yellow last but one: it is hard to read on a white background).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

TEMPLATE_NAME = "spendkit"
RENDERER_NAME = "spendkit_offline"
MIMETYPE_RENDERER = "plotly_mimetype"
REPORT_RENDERER = f"{MIMETYPE_RENDERER}+{RENDERER_NAME}"
REPORT_ENV = "SPENDKIT_REPORT"

_FONT = "Segoe UI, Helvetica Neue, Arial, sans-serif"

# Figures get div ids from a per-kernel counter rather than plotly's random uuid, so the same
# notebook exports to the same HTML bytes.
_figure_count = 0

#: Class of every figure div in a report page (the report build counts and checks them).
FIGURE_CLASS = "plotly-graph-div"
#: Page-level JavaScript function each figure's script calls; the report template defines it
#: (it loads the page's one embedded, compressed plotly.js, then draws).
DRAW_FUNCTION = "spendkitPlot"

# Characters that could end a <script> element or start markup inside JSON: written as JSON
# unicode escapes, so no text from the data can break out of a figure's script.
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                 "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _script_safe_json(value: Any) -> str:
    """`value` as JSON (plotly's encoder) that is safe inside an HTML <script> element."""
    text = to_json_plotly(value)
    for char, escaped in _JSON_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def _prune_template(fig_dict: dict) -> dict:
    """Drop the template's per-trace defaults for trace types the figure does not use.

    plotly copies the whole template (defaults for ~50 trace types, ~8 KB) into every figure;
    only the used types' entries change what is drawn.
    """
    layout = fig_dict.get("layout") or {}
    template = layout.get("template")
    if not isinstance(template, dict) or not isinstance(template.get("data"), dict):
        return fig_dict
    used = {trace.get("type", "scatter") for trace in fig_dict.get("data") or []}
    data = {k: v for k, v in template["data"].items() if k in used}
    return {**fig_dict, "layout": {**layout, "template": {**template, "data": data}}}


def trace_types(fig_dict: dict) -> list[str]:
    """The distinct trace types of a figure (dict form), sorted."""
    return sorted({trace.get("type", "scatter") for trace in fig_dict.get("data") or []})


def figure_html(fig_dict: dict, div_id: str, *, height: int = 480,
                config: dict | None = None) -> str:
    """One figure as a div and a one-line script calling the page's `spendkitPlot`.

    No plotly.js and no MathJax: the report page embeds plotly.js once. The div records the
    figure's trace types (`data-traces`) so the build can check the embedded bundle has them.
    """
    fig_dict = _prune_template(fig_dict)
    figure = {"data": fig_dict.get("data") or [], "layout": fig_dict.get("layout") or {},
              "config": {"responsive": True, "displaylogo": False, **(config or {})}}
    layout_height = figure["layout"].get("height")
    px = int(layout_height) if isinstance(layout_height, (int, float)) else height
    return (f'<div class="{FIGURE_CLASS}" id="{div_id}" '
            f'data-traces="{",".join(trace_types(fig_dict))}" '
            f'style="height:{px}px; width:100%;"></div>'
            f'<script type="text/javascript">{DRAW_FUNCTION}("{div_id}", '
            f"{_script_safe_json(figure)});</script>")


class OfflineHtmlRenderer(NotebookRenderer):
    """Report renderer: each figure is a div plus a small script; no plotly.js, no MathJax.

    The report build embeds plotly.js (a compressed, smaller bundle) once per page and defines
    `spendkitPlot`, which draws each figure once plotly.js is loaded.
    """

    def __init__(self) -> None:
        super().__init__(connected=False, include_plotlyjs=False)

    def activate(self) -> None:
        """Nothing to inject: the report template embeds plotly.js once per page."""

    def to_mimebundle(self, fig_dict: dict) -> dict[str, str]:
        """Return `{'text/html': <div + script>}` for one figure."""
        global _figure_count
        _figure_count += 1
        return {"text/html": figure_html(fig_dict, f"spendkit-figure-{_figure_count}",
                                         config=self.config)}


def _build_template() -> go.layout.Template:
    """The shared `spendkit` template: readable titles, Okabe–Ito colours, light grid."""
    return go.layout.Template(
        layout=go.Layout(
            font={"family": _FONT, "size": 13, "color": "#222222"},
            title={"font": {"size": 18}, "x": 0.0, "xanchor": "left", "pad": {"l": 4}},
            colorway=list(OKABE_ITO),
            margin={"l": 70, "r": 30, "t": 70, "b": 70},
            hoverlabel={"font": {"family": _FONT}},
            legend={"title": {"font": {"size": 12}}},
            separators=".,",  # decimal point, thousands comma (UK)
        )
    )


def setup_plotly() -> str:
    """Register the spendkit template and renderer; set the defaults; return the renderer used.

    Idempotent. `SPENDKIT_REPORT=1` in the environment selects the report renderer.
    """
    pio.templates[TEMPLATE_NAME] = _build_template()
    pio.templates.default = f"plotly_white+{TEMPLATE_NAME}"
    if RENDERER_NAME not in pio.renderers:
        pio.renderers[RENDERER_NAME] = OfflineHtmlRenderer()
    name = REPORT_RENDERER if os.environ.get(REPORT_ENV) == "1" else MIMETYPE_RENDERER
    pio.renderers.default = name
    return name


def gbp_hovertemplate(field: str = "y", *, label: str = "%{x}", pence: bool = False) -> str:
    """A plotly hovertemplate showing `field` as pounds, e.g. `%{x}<br>£%{y:,.0f}`."""
    fmt = ",.2f" if pence else ",.0f"
    return f"{label}<br>£%{{{field}:{fmt}}}<extra></extra>"


def gbp_axis(fig: go.Figure, axis: str = "y", *, compact: bool = True) -> go.Figure:
    """Format a figure's value axis in pounds: `£1.5M`/`£2B` ticks (compact) or `£1,234,567`."""
    if axis not in {"x", "y"}:
        raise ValueError(f"gbp_axis(): axis must be 'x' or 'y', got {axis!r}")
    settings: dict[str, Any] = {"tickprefix": "£"}
    if compact:
        # "B" exponent format writes billions as B rather than SI's G.
        settings.update(tickformat="", exponentformat="B", showexponent="all")
    else:
        settings.update(tickformat=",.0f")
    if axis == "y":
        fig.update_yaxes(**settings)
    else:
        fig.update_xaxes(**settings)
    return fig


#: Characters per caption line (11 px text beside up to 320 px of axis labels).
CAPTION_WIDTH = 110


def caption(fig: go.Figure, text: str, *, escape: bool = True) -> go.Figure:
    """Put a small grey note (data coverage, source) under the chart, left-aligned.

    The text is HTML-escaped by default (plotly draws a subset of HTML tags in annotations);
    pass `escape=False` for trusted text that uses `<br>` or `<i>`.
    """
    # Plotly does not wrap annotations: a long caption ran off the page's right edge, so it is
    # broken into lines that fit beside a wide left margin (a tornado's labels).
    shown = ("<br>".join(html.escape(line, quote=False)
                         for line in textwrap.wrap(text, CAPTION_WIDTH)) if escape else text)
    extra = 14 * shown.count("<br>")
    fig.add_annotation(
        text=shown,
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        xanchor="left",
        yanchor="top",
        yshift=-45,
        showarrow=False,
        align="left",
        font={"size": 11, "color": "#555555"},
        name="spendkit-caption",
    )
    bottom = fig.layout.margin.b if fig.layout.margin.b is not None else 70
    fig.update_layout(margin={"b": max(bottom, 100 + extra)})
    return fig


def _has_values(values: Any) -> bool:
    """True when a trace's x/y/z holds at least one real (non-missing, finite) value."""
    if values is None:
        return False
    if isinstance(values, dict):  # plotly's typed-array form {"dtype": ..., "bdata": ...}
        return bool(values.get("bdata") or values.get("shape"))
    try:
        flat = np.asarray(values, dtype=object).ravel()
    except (TypeError, ValueError):
        return True
    for v in flat:
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            continue
        if type(v).__name__ == "NAType":
            continue
        return True
    return False


def figure_has_data(fig: go.Figure) -> bool:
    """True when at least one trace has a value to draw (not only axes and annotations)."""
    for trace in fig.data:
        kind = getattr(trace, "type", "")
        if kind == "heatmap":
            key = "z"
        elif kind == "pie":
            key = "values"
        else:  # the value axis: x for horizontal bars, else y
            key = "x" if getattr(trace, "orientation", None) == "h" else "y"
        if _has_values(getattr(trace, key, None)):
            return True
    return False


def show_figure(fig: go.Figure, missing: str) -> None:
    """Show `fig`, or, when it has nothing to draw, a sentence saying what is missing.

    `missing` completes "No chart: …" (e.g. "no IT payments in the selected months"); it is
    escaped, so it may carry names from the data.
    """
    from IPython.display import Markdown, display

    if figure_has_data(fig):
        fig.show()
        return
    from spendkit.views.html import escape_markdown

    display(Markdown(f"*No chart: {escape_markdown(missing)}.*"))
