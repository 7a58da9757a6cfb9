"""Plotly set-up for spendkit notebooks: one renderer policy, one template, money formatting.

Notebooks call `setup_plotly()` once at the top. By default figures are stored as the plotly
mimetype only (small .ipynb, stable under nbval, drawn by JupyterLab's bundled extension). When
the environment has `SPENDKIT_REPORT=1` (set by `spendkit.report.build_reports`), figures also
carry offline HTML so nbconvert can export them, with plotly.js embedded once per page and no
MathJax or CDN reference.
"""

from __future__ import annotations

import html
import os
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.io._base_renderers import NotebookRenderer  # private, but the documented way in

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

# plotly.js goes into the page once per kernel; a second setup_plotly() call must not repeat it.
_plotlyjs_injected = False
# Figures get div ids from a per-kernel counter rather than plotly's random uuid, so the same
# notebook exports to the same HTML bytes.
_figure_count = 0


class OfflineHtmlRenderer(NotebookRenderer):
    """plotly's NotebookRenderer without CDN MathJax: each figure is a div plus a small script.

    `activate()` (run by plotly before the first figure after the renderer becomes default)
    embeds plotly.js once; figures then reference the global `Plotly`.
    """

    def __init__(self) -> None:
        super().__init__(connected=False, include_plotlyjs=False)

    def activate(self) -> None:
        """Embed plotly.js in the page, the first time only."""
        global _plotlyjs_injected
        if _plotlyjs_injected:
            return
        super().activate()
        _plotlyjs_injected = True

    def to_mimebundle(self, fig_dict: dict) -> dict[str, str]:
        """Return `{'text/html': <div + script>}` with no plotly.js and no MathJax tag."""
        global _figure_count
        _figure_count += 1
        html_div = pio.to_html(
            fig_dict,
            config=self.config,
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            default_width="100%",
            default_height=480,
            validate=False,
            div_id=f"spendkit-figure-{_figure_count}",
        )
        return {"text/html": html_div}


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


def caption(fig: go.Figure, text: str, *, escape: bool = True) -> go.Figure:
    """Put a small grey note (data coverage, source) under the chart, left-aligned.

    The text is HTML-escaped by default (plotly draws a subset of HTML tags in annotations);
    pass `escape=False` for trusted text that uses `<br>` or `<i>`.
    """
    shown = html.escape(text, quote=False) if escape else text
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
    fig.update_layout(margin={"b": max(bottom, 100)})
    return fig
