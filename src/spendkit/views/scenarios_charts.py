"""Plotly figures for a spending-review run: fan chart per scenario and a lever tornado.

Both are built from the aggregated tables in a `ReviewResult` (a few dozen numbers), never
from simulation draws, so a notebook stays small. Text from scenario files goes through
`escape_html` (plotly draws a subset of HTML in titles and labels).
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from spendkit.errors import InputError
from spendkit.models.scenarios.review import ReviewResult
from spendkit.units.money import gbp
from spendkit.views.html import escape_html
from spendkit.views.plotting import OKABE_ITO, caption, gbp_axis

__all__ = ["fan_chart", "tornado_chart"]

_BAND = "rgba(0, 114, 178, 0.18)"  # Okabe–Ito blue, light
_MEDIAN = OKABE_ITO[0]
_ENVELOPE = OKABE_ITO[7]


def fan_chart(result: ReviewResult, *, basis: str = "cash") -> go.Figure:
    """IT spend P10–P90 band and median per scenario (one panel each) against the envelope.

    The envelope line is the Monte Carlo median of the funding envelope (settlement plus
    grants). `basis` is 'cash' or 'real' (baseline-year prices).
    """
    if basis not in {"cash", "real"}:
        raise InputError(f"basis {basis!r}: expected 'cash' or 'real'")
    bands = result.bands[result.bands["basis"] == basis]
    names = result.names
    titles = [escape_html(result.spec(n).title) for n in names]
    fig = make_subplots(rows=1, cols=len(names), shared_yaxes=True, subplot_titles=titles,
                        horizontal_spacing=0.04)
    for j, name in enumerate(names, start=1):
        spend = bands[(bands["scenario"] == name) & (bands["measure"] == "it_spend")]
        env = bands[(bands["scenario"] == name) & (bands["measure"] == "funding_envelope")]
        years = spend["financial_year"].tolist()
        first = j == 1
        fig.add_trace(go.Scatter(x=years, y=spend["p90"].round(0).tolist(), mode="lines",
                                 line={"width": 0}, showlegend=False, hoverinfo="skip",
                                 legendgroup="band"), row=1, col=j)
        fig.add_trace(go.Scatter(
            x=years, y=spend["p10"].round(0).tolist(), mode="lines", line={"width": 0},
            fill="tonexty", fillcolor=_BAND, name="IT spend, P10–P90", legendgroup="band",
            showlegend=first, customdata=spend["p90"].round(0).tolist(),
            hovertemplate="%{x}<br>P10 £%{y:,.0f} – P90 £%{customdata:,.0f}<extra></extra>"),
            row=1, col=j)
        fig.add_trace(go.Scatter(
            x=years, y=spend["p50"].round(0).tolist(), mode="lines+markers",
            line={"color": _MEDIAN, "width": 2.5}, name="IT spend, median",
            legendgroup="median", showlegend=first,
            hovertemplate="%{x}<br>median IT spend £%{y:,.0f}<extra></extra>"), row=1, col=j)
        fig.add_trace(go.Scatter(
            x=years, y=env["p50"].round(0).tolist(), mode="lines",
            line={"color": _ENVELOPE, "width": 2, "dash": "dash"}, name="Funding envelope",
            legendgroup="envelope", showlegend=first,
            hovertemplate="%{x}<br>envelope £%{y:,.0f}<extra></extra>"), row=1, col=j)
    b = result.baseline
    prices = "cash £" if basis == "cash" else f"£ in {b.financial_year} prices"
    fig.update_layout(
        title=escape_html(f"{b.publisher}: third-party IT spend (published payments) under "
                          f"each scenario vs funding ({prices})"),
        legend={"orientation": "h", "yanchor": "bottom", "y": -0.32, "x": 0},
        height=470, hovermode="x unified", margin={"t": 90})
    fig.update_xaxes(type="category", tickangle=0)
    gbp_axis(fig)
    caption(fig, f"{result.coverage_text()} Band: {result.simulations:,} Monte Carlo runs, "
            f"seed {result.seed}.")
    fig.update_annotations(selector={"name": "spendkit-caption"}, yshift=-95)
    lines = 1 + sum(a.text.count("<br>") for a in fig.layout.annotations
                    if a.name == "spendkit-caption")
    fig.update_layout(margin={"b": 150 + 14 * (lines - 1)})
    return fig


def tornado_chart(result: ReviewResult, scenario: str | None = None, *,
                  top: int = 10) -> go.Figure:
    """Tornado of one scenario's uncertain levers: the gap metric at each lever's low and high.

    `scenario` defaults to the one with the most uncertain levers. Bars start at the central
    result; the largest swing is at the top.
    """
    torn = result.tornados
    if scenario is None:
        counts = torn["scenario"].value_counts()
        if counts.empty:
            raise InputError("no scenario in this review has uncertain levers")
        order = {n: i for i, n in enumerate(result.names)}
        scenario = min(counts.index, key=lambda n: (-counts[n], order[n]))
    spec = result.spec(scenario)
    rows = torn[torn["scenario"] == scenario].head(top).iloc[::-1]  # largest at the top
    if rows.empty:
        raise InputError(f"scenario {scenario!r} has no uncertain levers to swing")
    central = float(rows["central"].iloc[0])
    basis = rows["basis"] if "basis" in rows.columns else ["assumption"] * len(rows)
    labels = [escape_html(f"{x} ({'sourced' if b == 'sourced' else 'assumed'} range)")
              for x, b in zip(rows["label"], basis, strict=True)]
    fig = go.Figure()
    for side, colour, name in (("low", OKABE_ITO[2], "lever at its low"),
                               ("high", OKABE_ITO[3], "lever at its high")):
        fig.add_trace(go.Bar(
            y=labels, x=(rows[f"at_{side}"] - central).round(0).tolist(), base=round(central),
            orientation="h", name=name, marker_color=colour,
            customdata=list(zip(rows[f"{side}_applied"].round(3), rows[f"at_{side}"].round(0),
                                strict=True)),
            hovertemplate=("%{y}<br>input %{customdata[0]:,}<br>gap over the review "
                           "£%{customdata[1]:,.0f}<extra></extra>")))
    fig.add_vline(x=central, line={"color": "#555555", "width": 1})
    b = result.baseline
    metric = {"total_gap": "cumulative gap to fund", "final_year_gap": "final-year gap",
              "total_it_spend": "total IT spend"}[result.tornado_metric]
    fig.update_layout(
        title=escape_html(f"{spec.title}: what moves the {metric} (cash £, "
                          f"{spec.review_years} years from {b.financial_year})"),
        barmode="overlay", height=max(320, 90 + 38 * len(rows)),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        margin={"l": 320, "t": 100})
    gbp_axis(fig, "x")
    caption(fig, f"Each lever moved to its low and high (P10/P90 for a normal lever) with the "
            f"others central; central case {gbp(central, pence=False)}. £ inputs as applied "
            "to this council's baseline. 'Sourced range': its range comes from published "
            "evidence or reference data; 'assumed': an assumption to replace with your own.")
    return fig
