"""Plotly figures for the IT spend trends notebook, built from the trends model's tables.

Each function takes aggregated tables from `spendkit.models.trends` (never raw transactions)
and returns a `go.Figure` with a coverage caption; names from data go through `escape_html`.

* `run_rate_chart(run, calendar, ...)` — monthly IT spend as paid and as a run rate with lumps
  spread, and the months missing or incomplete marked on the axis.
* `hhi_chart(markets, coverage)` — concentration (HHI) of each IT market, coloured by how many
  vendors dominate it, with the "highly concentrated" line.
* `peer_chart(peers, bands, ...)` — each council's real IT spend per resident, the chosen one
  highlighted, over the shaded middle half of councils.

`data_note` (e.g. "SYNTHETIC sample data.") ends each caption; it is the caller's to say.
"""

from __future__ import annotations

from itertools import cycle
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from spendkit.models.trends.base import for_plot
from spendkit.models.trends.suppliers import HHI_HIGH
from spendkit.reference.benchmarking import POPULATION_LABEL
from spendkit.schema import require_columns
from spendkit.units.money import gbp
from spendkit.views.html import escape_html
from spendkit.views.plotting import caption, gbp_axis, gbp_hovertemplate

if TYPE_CHECKING:
    from spendkit.models.trends import Coverage

__all__ = ["hhi_chart", "peer_chart", "run_rate_chart"]

#: Colour of the chosen council, of one dominant vendor, and of two dominant vendors.
HIGHLIGHT, ONE_VENDOR, TWO_VENDORS = "#D55E00", "#D55E00", "#E69F00"
#: Colours of the other councils in the peer chart, in turn (Okabe-Ito, red left out).
PEER_COLOURS = ("#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#000000", "#E69F00")


def _tail(data_note: str) -> str:
    return f" {data_note}" if data_note else ""


def run_rate_chart(run: pd.DataFrame, calendar: pd.DataFrame, *, name: str, coverage: Coverage,
                   n_lumps: int, data_note: str = "") -> go.Figure:
    """Monthly IT spend paid (bars) and as a run rate (line), with missing months marked.

    `run` is `spread_lumps(...)` (one council), `calendar` that council's rows of
    `completeness_calendar`. Run rate that falls after the last published month (a lump paid
    near the end of the data) is left off the chart and its total stated in the caption.
    """
    require_columns(run, ["month", "paid_gbp", "run_rate_gbp"], "run_rate_chart run")
    require_columns(calendar, ["month", "is_complete"], "run_rate_chart calendar")
    run = for_plot(run)
    last_month = calendar["month"].max()
    shown = run[run["month"] <= last_month]
    carried = run.loc[run["month"] > last_month, "run_rate_gbp"].sum()
    gaps = calendar[~calendar["is_complete"]]
    month_hover = gbp_hovertemplate(label="%{x|%b %Y}")
    fig = go.Figure([
        go.Bar(x=shown["month"], y=shown["paid_gbp"], name="paid", marker_color="#9ecae1",
               hovertemplate=month_hover),
        go.Scatter(x=shown["month"], y=shown["run_rate_gbp"], name="run rate (lumps spread)",
                   mode="lines", hovertemplate=month_hover),
        go.Scatter(x=gaps["month"], y=[0] * len(gaps), name="month missing or incomplete",
                   mode="markers", marker={"symbol": "x", "size": 10, "color": HIGHLIGHT}),
    ])
    fig.update_layout(title=escape_html(f"{name}: monthly IT spend, paid and as a run rate"),
                      yaxis_title="IT spend a month", legend={"orientation": "h", "y": 1.08})
    gbp_axis(fig)
    caption(fig, f"Coverage: {coverage.caption()}.<br>{n_lumps} lump payments spread over the "
            f"months they cover; {gbp(carried, compact=True)} of run rate falls after "
            f"{last_month:%B %Y}, beyond the data. Cash.{_tail(data_note)}", escape=False)
    return fig


def hhi_chart(markets: pd.DataFrame, coverage: Coverage, *, data_note: str = "") -> go.Figure:
    """Horizontal bars of HHI per market (from `concentration`), least concentrated at the foot.

    Red marks one dominant vendor, orange two (80% or more of the market between them).
    """
    require_columns(markets, ["it_market", "hhi", "dominant_vendors", "market_note"], "hhi_chart")
    plot = markets.sort_values("hhi", kind="stable")
    colour = plot["dominant_vendors"].map({1: ONE_VENDOR, 2: TWO_VENDORS}).fillna("#0072B2")
    fig = go.Figure(go.Bar(
        x=plot["hhi"], y=plot["it_market"].map(escape_html), orientation="h", marker_color=colour,
        customdata=plot["market_note"].map(escape_html),
        hovertemplate="%{y}<br>HHI %{x:,.0f}<br>%{customdata}<extra></extra>"))
    fig.add_vline(x=HHI_HIGH, line_dash="dash", line_color="#555555",
                  annotation_text="highly concentrated")
    fig.update_layout(title="IT markets across the councils in the data: concentration (HHI)",
                      xaxis_title="HHI (0-10,000)", xaxis_range=[0, 10000], margin={"l": 220})
    caption(fig, f"Red: one dominant vendor; orange: two (80% or more of the market). All "
            f"councils in the data, all years, vendors behind resellers.<br>Coverage: "
            f"{coverage.caption().replace('; ', ';<br>')}.{_tail(data_note)}", escape=False)
    return fig


def peer_chart(peers: pd.DataFrame, bands: pd.DataFrame, *, highlight: str, base_year: str,
               coverage: Coverage, deflator_note: str, data_note: str = "") -> go.Figure:
    """Real IT spend per resident of every council, `highlight` (a GSS code) drawn thick in red.

    `peers` is `peer_comparison(...)`, `bands` is `peer_bands(peers)`: its p25 to p75 band is
    shaded. Councils are drawn in code order so colours are stable between runs.
    """
    require_columns(peers, ["publisher_code", "financial_year", "value_per_head", "nice_name"],
                    "peer_chart peers")
    require_columns(bands, ["financial_year", "p25", "p75"], "peer_chart bands")
    fig = go.Figure([
        go.Scatter(x=bands["financial_year"], y=bands["p75"], mode="lines", line={"width": 0},
                   showlegend=False, hoverinfo="skip"),
        go.Scatter(x=bands["financial_year"], y=bands["p25"], mode="lines", line={"width": 0},
                   fill="tonexty", fillcolor="rgba(0,114,178,0.15)",
                   name="middle half of councils", hoverinfo="skip"),
    ])
    others = cycle(PEER_COLOURS)
    for code, g in peers.groupby("publisher_code", sort=True):
        is_me = code == highlight
        fig.add_trace(go.Scatter(
            x=g["financial_year"], y=g["value_per_head"], mode="lines+markers",
            name=escape_html(g["nice_name"].iloc[0]),
            line={"width": 4 if is_me else 1.5, "color": HIGHLIGHT if is_me else next(others)},
            opacity=1 if is_me else 0.7, hovertemplate=gbp_hovertemplate(pence=True)))
    fig.update_layout(title=f"IT spend per resident, real terms ({base_year} prices)",
                      yaxis_title="£ per resident", yaxis_tickprefix="£")
    caption(fig, f"Coverage (all councils): {coverage.caption()}.<br>{deflator_note}; population: "
            f"{POPULATION_LABEL}. Mixed tiers.{_tail(data_note)}", escape=False)
    return fig
