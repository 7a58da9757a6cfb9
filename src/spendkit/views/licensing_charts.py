"""Plotly figures for the Microsoft licensing notebook, built from the model's aggregated tables.

Each function takes a table from `spendkit.models.licensing` / `licensing_views` (never raw
transactions) and returns a `go.Figure` using the spendkit template; text from data (SKU and
council names, event descriptions) is HTML-escaped before it reaches a title or a hover.

* `cost_over_time_figure(monthly, events)` — modelled monthly cost stacked by SKU, with the
  low–high discount band and numbered vertical lines at price and agreement events.
* `bundle_figure(comparison)` — per-user-month price of the bundle beside its a-la-carte build.
* `sensitivity_figure(grid, reference_gbp)` — annual cost against seats, one line per discount,
  with a published deal's annual cost as a horizontal line.
* `modelled_vs_paid_figure(table)` — paid run-rate bars beside the modelled low–central–high
  (the bars alone when there is no model).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from spendkit.errors import InputError
from spendkit.views.html import escape_html
from spendkit.views.plotting import OKABE_ITO, gbp_axis

__all__ = [
    "bundle_figure",
    "cost_over_time_figure",
    "modelled_vs_paid_figure",
    "sensitivity_figure",
]

_GREY = "#777777"


def _need(table: pd.DataFrame, columns: list[str], what: str) -> None:
    if missing := [c for c in columns if c not in table.columns]:
        raise InputError(f"{what} needs columns {columns}; missing {missing}")


def cost_over_time_figure(monthly: pd.DataFrame, events: pd.DataFrame | None = None,
                          title: str = "Modelled licence cost per month") -> go.Figure:
    """Monthly central cost stacked by SKU, total low–high band, numbered event lines.

    `monthly` is `annual_cost(..., period="month")`; `events` is `numbered_events(...)` (events
    on the same date share one line labelled e.g. '2,3'; the full text is in the hover).
    """
    _need(monthly, ["period_start", "sku", "cost_gbp_central", "cost_gbp_low", "cost_gbp_high"],
          "cost_over_time_figure")
    by_sku = (monthly.groupby(["sku", "period_start"], sort=False, as_index=False)
              ["cost_gbp_central"].sum())
    fig = go.Figure()
    for sku in by_sku["sku"].drop_duplicates():  # model order: licences before add-ons
        part = by_sku[by_sku["sku"] == sku]
        name = escape_html(sku)
        fig.add_trace(go.Scatter(
            x=part["period_start"], y=part["cost_gbp_central"], name=name, mode="lines",
            stackgroup="sku", line={"width": 1},
            hovertemplate=f"{name}<br>%{{x|%b %Y}}: £%{{y:,.0f}}<extra></extra>"))
    total = (monthly.groupby("period_start", as_index=False)[["cost_gbp_low", "cost_gbp_high"]]
             .sum())
    for col, label in (("cost_gbp_high", "total at low discount"),
                       ("cost_gbp_low", "total at high discount")):
        fig.add_trace(go.Scatter(
            x=total["period_start"], y=total[col], name=label, mode="lines",
            line={"color": _GREY, "dash": "dot", "width": 1.5},
            hovertemplate=f"{label}<br>%{{x|%b %Y}}: £%{{y:,.0f}}<extra></extra>"))
    if events is not None and not events.empty:
        _need(events, ["n", "date", "event"], "cost_over_time_figure events")
        lo, hi = monthly["period_start"].min(), monthly["period_start"].max()
        shown = events[(events["date"] >= lo) & (events["date"] <= hi)]
        for when, grp in shown.groupby("date", sort=True):
            fig.add_shape(type="line", x0=when, x1=when, xref="x", y0=0, y1=1, yref="paper",
                          line={"color": _GREY, "dash": "dash", "width": 1})
            text = "<br>".join(f"{n}. {escape_html(e)}" for n, e in
                               zip(grp["n"], grp["event"], strict=True))
            fig.add_annotation(
                x=when, y=1.0, xref="x", yref="paper", yanchor="bottom", showarrow=False,
                text=",".join(str(n) for n in grp["n"]), hovertext=text,
                font={"size": 11, "color": "#333333"}, bgcolor="#F2F2F2")
    fig.update_layout(title=escape_html(title), hovermode="closest",
                      yaxis_title="£ per month", margin={"t": 90})
    gbp_axis(fig)
    return fig


def bundle_figure(comparison: object, title: str | None = None) -> go.Figure:
    """Bundle price beside its a-la-carte build, per user per month (stacked components).

    `comparison` is `bundle_vs_a_la_carte(...)`. The a-la-carte bar carries an error bar for the
    GBP/USD parity range of converted prices.
    """
    table, summary = comparison.table, comparison.summary  # type: ignore[attr-defined]
    _need(table, ["role", "sku", "price_per_user_month", "price_low", "price_high"],
          "bundle_figure")
    s = summary.iloc[0]
    bundle = table[table["role"] == "bundle"].iloc[0]
    parts = table[table["role"] == "component"]
    left = escape_html(f"{bundle['sku']} (bundle)")
    base = str(parts["sku"].iloc[0]).replace("Microsoft 365 ", "") if len(parts) else ""
    right = escape_html(f"{base} + add-ons (à la carte)")
    fig = go.Figure()
    fig.add_trace(go.Bar(x=[left], y=[bundle["price_per_user_month"]],
                         name=escape_html(bundle["sku"]), marker_color=OKABE_ITO[0],
                         hovertemplate="%{x}<br>£%{y:.2f}/user/month<extra></extra>"))
    colours = OKABE_ITO[1:] + OKABE_ITO
    for i, (_, r) in enumerate(parts.iterrows()):
        name = escape_html(r["sku"]) + (" *" if r.get("is_estimate", False) else "")
        fig.add_trace(go.Bar(x=[right], y=[r["price_per_user_month"]], name=name,
                             marker_color=colours[i % len(colours)],
                             hovertemplate=f"{name}<br>£%{{y:.2f}}/user/month<extra></extra>"))
    total = parts["price_per_user_month"].sum()
    fig.add_trace(go.Scatter(
        x=[right], y=[total], mode="markers", marker={"color": "#000000", "size": 1},
        showlegend=False, hovertemplate="range £%{customdata[0]:.2f}–£%{customdata[1]:.2f}"
        "<extra></extra>", customdata=[[parts["price_low"].sum(), parts["price_high"].sum()]],
        error_y={"type": "data", "symmetric": False,
                 "array": [parts["price_high"].sum() - total],
                 "arrayminus": [total - parts["price_low"].sum()], "color": "#000000"}))
    ratio = float(s["ratio"])
    fig.update_layout(
        barmode="stack", yaxis_title="£ per user per month (list, ex VAT)",
        title=escape_html(title or f"{bundle['sku']} vs à la carte on "
                          f"{pd.Timestamp(s['on']).day} {pd.Timestamp(s['on']):%b %Y}: "
                          f"à la carte costs {ratio:.2f}x the bundle"),
        legend={"traceorder": "normal"})
    fig.update_yaxes(tickprefix="£")
    return fig


def sensitivity_figure(grid: pd.DataFrame, reference_gbp: float | None = None,
                       reference_label: str = "published deal",
                       title: str = "Annual cost by seats and discount") -> go.Figure:
    """Annual cost against seat count, one line per discount; optional published-cost line.

    `grid` is `sensitivity_grid(...)`. Where a line crosses the reference, that discount implies
    that seat count for the published cost.
    """
    _need(grid, ["seats", "discount", "annual_gbp"], "sensitivity_figure")
    fig = go.Figure()
    for i, (d, part) in enumerate(grid.groupby("discount", sort=True)):
        label = f"{d:.0%} discount"
        fig.add_trace(go.Scatter(
            x=part["seats"], y=part["annual_gbp"], mode="lines+markers", name=label,
            line={"color": OKABE_ITO[i % len(OKABE_ITO)]},
            hovertemplate=f"{label}<br>%{{x:,}} seats: £%{{y:,.0f}} a year<extra></extra>"))
    if reference_gbp is not None:
        fig.add_hline(y=reference_gbp, line={"color": "#000000", "dash": "dash", "width": 1})
        fig.add_annotation(x=0, xref="paper", y=reference_gbp, yanchor="bottom", xanchor="left",
                           showarrow=False, text=escape_html(
                               f"{reference_label}: £{reference_gbp:,.0f} a year"))
    fig.update_layout(title=escape_html(title), xaxis_title="seats",
                      yaxis_title="£ a year", hovermode="closest")
    gbp_axis(fig)
    return fig


def modelled_vs_paid_figure(table: pd.DataFrame,
                            title: str = "Paid run-rate vs modelled cost") -> go.Figure:
    """Paid run-rate per financial year (bars; pale when the year is incomplete) beside the
    modelled central cost with its low–high range (markers with error bars).

    `table` is `modelled_vs_paid(...)` for one council, or its `microsoft_paid_run_rate`
    alone (no cost columns: no model to compare with, the paid bars only).
    """
    _need(table, ["financial_year", "run_rate_gbp", "is_complete"], "modelled_vs_paid_figure")
    modelled = {"cost_gbp_low", "cost_gbp_central", "cost_gbp_high"} <= set(table.columns)
    t = table.sort_values("financial_year", kind="stable")
    complete = t["is_complete"].fillna(False).astype(bool)
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=t["financial_year"], y=t["run_rate_gbp"], name="paid (run-rate)",
        marker={"color": OKABE_ITO[0], "opacity": [1.0 if c else 0.45 for c in complete]},
        hovertemplate="%{x} paid run-rate<br>£%{y:,.0f}<extra></extra>"))
    if not modelled:
        fig.update_layout(title=escape_html(title), yaxis_title="£ a year")
        gbp_axis(fig)
        return fig
    central = t["cost_gbp_central"].astype("float64")
    fig.add_trace(go.Scatter(
        x=t["financial_year"], y=central, mode="markers", name="modelled (central; low–high)",
        marker={"color": OKABE_ITO[3], "size": 11, "symbol": "diamond"},
        error_y={"type": "data", "symmetric": False,
                 "array": (t["cost_gbp_high"].astype("float64") - central).to_numpy(),
                 "arrayminus": (central - t["cost_gbp_low"].astype("float64")).to_numpy(),
                 "color": OKABE_ITO[3]},
        hovertemplate="%{x} modelled<br>£%{y:,.0f}<extra></extra>"))
    fig.update_layout(title=escape_html(title), yaxis_title="£ a year")
    gbp_axis(fig)
    return fig
