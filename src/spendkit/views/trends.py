"""The IT spend trends notebook (02): its set-up, its charts and its plain-English sentences.

* `load_trends` (aggregate-first: month totals of every council, rows of the chosen one) and
  `prepare_trends` (from rows in hand) resolve the council and build the calendar and coverage
  the page reuses;
* charts from the trends model's tables (never raw transactions), each with a coverage caption
  ending in the provenance note (`data_note`, e.g. "SYNTHETIC sample data." for the sample
  only): `year_chart`, `run_rate_chart`, `rolling_chart`, `category_chart`, `hhi_chart`,
  `peer_chart`;
* `trend_sentences` and `peer_sentence`: what a paper can quote, saying how many months stand
  behind each figure, marking part-years, and never printing nan.

Nothing here changes a number: it wires together `spendkit.models.trends` functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import cycle
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from spendkit.datasets import publishers, read_extras, read_transactions, transactions_relation
from spendkit.models.trends import (
    Coverage,
    PeerMeasure,
    calendar_from_months,
    completeness_calendar,
    council_code,
    council_info,
    coverage,
    join_extras,
)
from spendkit.models.trends.aggregates import month_totals
from spendkit.models.trends.base import for_plot
from spendkit.models.trends.suppliers import HHI_HIGH
from spendkit.reference.benchmarking import POPULATION_LABEL
from spendkit.reference.economy import deflator_note
from spendkit.schema import require_columns
from spendkit.units.money import gbp
from spendkit.views.html import escape_html, escape_markdown
from spendkit.views.plotting import caption, gbp_axis, gbp_hovertemplate
from spendkit.views.tables import value_label

__all__ = ["PEER_MEASURE_COLUMNS", "TrendsSetup", "load_trends", "no_peer_chart_text",
           "peer_measure_text", "category_chart", "deflator_note", "hhi_chart", "peer_chart",
           "peer_sentence", "prepare_trends", "rolling_chart", "run_rate_chart",
           "trend_sentences", "year_chart"]


@dataclass(frozen=True)
class TrendsSetup:
    """What the trends notebook needs about the data and the chosen council."""

    tx: pd.DataFrame | None     # all transactions with extras joined (None: aggregate-first)
    code: str                   # GSS code of the council
    name: str                   # the council's display name
    publisher: str              # the council's publisher_name in the data
    mine: pd.DataFrame          # the council's transactions
    calendar: pd.DataFrame      # published months of every council
    my_calendar: pd.DataFrame   # published months of the council
    my_coverage: Coverage       # the council's coverage, for chart captions
    deflator_note: str          # how real terms were computed, for chart captions
    months: pd.DataFrame | None = None  # every council's month totals (`load_trends`)
    years: list[str] | None = None      # the selected financial years (None: all)

    def headline(self) -> str:
        """One line: the council's payments and years, and the size of the whole data."""
        if self.months is not None:
            rows = int(self.months["n_payments"].sum())
            councils = self.months["publisher_code"].nunique()
        else:
            rows, councils = len(self.tx), self.tx["publisher_code"].nunique()
        return (f"{self.name} ({self.code}): {len(self.mine):,} payments, "
                f"{self.mine['financial_year'].nunique()} financial years; {rows:,} "
                f"payments from {councils} council{'s' if councils != 1 else ''} in all")


def prepare_trends(tx: pd.DataFrame, council: str, *, base_year: str,
                   extras: pd.DataFrame | None = None) -> TrendsSetup:
    """Resolve `council` in `tx` and compute the calendar and coverage the notebook reuses.

    `extras` is `datasets.read_extras()` (the published 'Purpose' narrative feeds the lump
    rule); None joins nothing and leaves `purpose` blank. `council` is a `publisher_name` or a
    GSS code in `tx` (`InputError` listing the councils otherwise).
    """
    tx = join_extras(tx, extras if extras is not None else pd.DataFrame())
    code = council_code(tx, council)
    mine = tx[tx["publisher_code"] == code]
    calendar = completeness_calendar(tx)
    my_calendar = calendar[calendar["publisher_code"] == code]
    publisher = str(mine["publisher_name"].iloc[0]) if len(mine) else code
    return TrendsSetup(
        tx=tx, code=code, name=str(council_info([code])["nice_name"].iloc[0]), mine=mine,
        publisher=publisher,
        calendar=calendar, my_calendar=my_calendar, my_coverage=coverage(mine, my_calendar),
        deflator_note=deflator_note(base_year))


def load_trends(council: str, *, years: list[str] | None, base_year: str,
                processed: Path | str | None = None) -> TrendsSetup:
    """The trends notebook's data, aggregate-first: every council as month totals (one DuckDB
    scan of the Parquet), the chosen council's own rows (its partitions only) with their
    published extras, and the calendar and coverage built from those.

    `council` is any form `reference.councils.resolve_council` forgives; `years` are labels
    already checked (`views.overview.check_years`). pandas never holds every council's rows.
    """
    rel = transactions_relation(processed, years=years)
    months = month_totals(rel)
    calendar = calendar_from_months(months)
    code = council_code(publishers(processed), council)
    mine = read_transactions(processed, publishers=[code], years=years)
    extras = read_extras(processed, publishers=[code], source_files=mine["source_file"].unique())
    mine = join_extras(mine, extras)
    my_calendar = calendar[calendar["publisher_code"] == code]
    publisher = str(mine["publisher_name"].iloc[0]) if len(mine) else code
    return TrendsSetup(
        tx=None, code=code, name=str(council_info([code])["nice_name"].iloc[0]), mine=mine,
        publisher=publisher, calendar=calendar, my_calendar=my_calendar,
        my_coverage=coverage(mine, my_calendar), deflator_note=deflator_note(base_year),
        months=months, years=years)


#: Width of a monthly bar on a date axis (milliseconds: 25 days), so one month is not a hairline.
MONTH_BAR_MS = 25 * 24 * 3600 * 1000
#: Colour of the chosen council, of one dominant vendor, and of two dominant vendors.
HIGHLIGHT, ONE_VENDOR, TWO_VENDORS = "#D55E00", "#D55E00", "#E69F00"
#: Colours of the other councils in the peer chart, in turn (Okabe-Ito, red left out).
PEER_COLOURS = ("#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#000000", "#E69F00")


def _tail(data_note: str) -> str:
    return f" {escape_html(data_note)}" if data_note else ""


def _finite(value: object) -> bool:
    try:
        return value is not None and pd.notna(value) and float(value) == float(value)
    except (TypeError, ValueError):
        return False


def year_labels(summary: pd.DataFrame) -> list[str]:
    """Financial-year labels with part-years marked: '2025-26 (3 of 12 months)'."""
    require_columns(summary, ["financial_year", "months_present"], "year_labels")
    return [y if int(n) >= 12 else f"{y} ({int(n)} of 12 months)"
            for y, n in zip(summary["financial_year"], summary["months_present"], strict=True)]


def year_chart(summary: pd.DataFrame, *, name: str, base_year: str, coverage: Coverage,
               deflator_note: str, data_note: str = "") -> go.Figure:
    """IT spend by financial year, cash bars and real-terms line; part-years labelled."""
    require_columns(summary, ["financial_year", "amount_gbp", "amount_gbp_real",
                              "months_present"], "year_chart")
    plot = for_plot(summary)
    # Part-years on a second line, never slanted: slanted labels of ten years ran into the
    # caption under the chart (seen on nine years of real Hyndburn data).
    x = [y if int(n) >= 12 else f"{y}<br>{int(n)}/12 months"
         for y, n in zip(plot["financial_year"], plot["months_present"], strict=True)]
    fig = go.Figure([
        go.Bar(x=x, y=plot["amount_gbp"], name="cash", hovertemplate=gbp_hovertemplate()),
        go.Scatter(x=x, y=plot["amount_gbp_real"], name=f"real terms ({base_year} prices)",
                   mode="lines+markers", hovertemplate=gbp_hovertemplate()),
    ])
    fig.update_layout(title=escape_html(f"{name}: IT spend by financial year"),
                      xaxis_type="category", xaxis_tickangle=0,
                      yaxis_title="IT spend", legend={"orientation": "h", "y": 1.08})
    gbp_axis(fig)
    part = ("<br>A part-year (n/12 months with payments) is as paid in its months, not "
            "scaled to a year."
            if (plot["months_present"] < 12).any() else "")
    caption(fig, f"Coverage: {escape_html(coverage.caption())}.<br>"
            f"{escape_html(deflator_note)}.{part}{_tail(data_note)}", escape=False)
    return fig


def rolling_chart(monthly: pd.DataFrame, *, name: str, n_gaps: int, data_note: str = ""
                  ) -> go.Figure:
    """IT spend over the previous 12 months, blank where any of them is missing."""
    require_columns(monthly, ["month", "rolling_12m_gbp"], "rolling_chart")
    fig = go.Figure(go.Scatter(
        x=monthly["month"], y=monthly["rolling_12m_gbp"], mode="lines", name="rolling 12 months",
        hovertemplate=gbp_hovertemplate(label="12 months to %{x|%b %Y}")))
    fig.update_layout(title=escape_html(f"{name}: IT spend over the previous 12 months"),
                      yaxis_title="IT spend, 12 months")
    gbp_axis(fig)
    caption(fig, f"Blank where any of the 12 months is missing or incomplete ({n_gaps} such "
            f"months). Cash, as paid.{_tail(data_note)}", escape=False)
    return fig


def category_chart(shares: pd.DataFrame, *, name: str, coverage: Coverage,
                   data_note: str = "") -> go.Figure:
    """IT spend by category and financial year, stacked (from `category_shares`)."""
    require_columns(shares, ["financial_year", "it_category", "amount_gbp", "share_pct"],
                    "category_chart")
    fig = go.Figure([
        go.Bar(x=g["financial_year"], y=g["amount_gbp"].astype("float64"),
               name=escape_html(value_label(cat)), customdata=g["share_pct"],
               hovertemplate=(f"{escape_html(value_label(cat))} %{{x}}<br>£%{{y:,.0f}} "
                              "(%{customdata:.1f}%)<extra></extra>"))
        for cat, g in shares.groupby("it_category", sort=True)
    ])
    fig.update_layout(barmode="stack", title=escape_html(f"{name}: IT spend by category"),
                      yaxis_title="IT spend", xaxis_type="category")
    gbp_axis(fig)
    caption(fig, f"Coverage: {escape_html(coverage.caption())}.<br>Uncategorised IT spend "
            f"{gbp(coverage.it_uncategorised_gbp, compact=True)}. Cash.{_tail(data_note)}",
            escape=False)
    return fig


def trend_sentences(summary: pd.DataFrame, *, name: str, base_year: str) -> str:
    """What a paper can quote about the latest year, as Markdown (every value from the data).

    Says how many months of payments stand behind the latest figure, compares years only
    when both are complete, and leaves out what the data cannot give (no nan).
    """
    who = escape_markdown(name)
    if summary.empty:
        return f"{who} has no payments classified as IT in the selected years."
    latest, first = summary.iloc[-1], summary.iloc[0]
    year, months = str(latest["financial_year"]), int(latest["months_present"])
    basis = ("" if months >= 12 else
             f", from {months} of 12 months of payments (a part-year, not scaled up)")
    per_head = (f"{gbp(latest['amount_gbp_per_head'])} per resident; "
                if _finite(latest.get("amount_gbp_per_head")) else "")
    share = (f"{float(latest['it_pct']):.1f}% of all its published spend"
             if _finite(latest.get("it_pct")) else "")
    detail = f" ({per_head}{share})" if per_head or share else ""
    lines = [f"{who} spent **{gbp(latest['amount_gbp'], compact=True)}** on IT in {year}"
             f"{basis}{detail}."]
    complete = summary[summary["is_complete"].astype("boolean").fillna(False).astype(bool)]
    if len(summary) == 1:
        lines.append("The data covers one financial year, so there is no trend to state.")
    elif bool(latest["is_complete"]) and bool(first["is_complete"]) and _finite(
            first["amount_gbp_real"]) and float(first["amount_gbp_real"]) != 0:
        change = (float(latest["amount_gbp_real"]) / float(first["amount_gbp_real"]) - 1) * 100
        lines.append(f"In real terms ({base_year} prices) that is {change:+.1f}% against "
                     f"{first['financial_year']} ({gbp(first['amount_gbp_real'], compact=True)}"
                     f" then, {gbp(latest['amount_gbp_real'], compact=True)} now).")
    elif len(complete) >= 2:
        a, b = complete.iloc[0], complete.iloc[-1]
        change = (float(b["amount_gbp_real"]) / float(a["amount_gbp_real"]) - 1) * 100
        lines.append(f"Between the complete years {a['financial_year']} and "
                     f"{b['financial_year']}, IT spend moved {change:+.1f}% in real terms "
                     f"({base_year} prices); incomplete years are not compared.")
    else:
        lines.append("Fewer than two complete years: no change over time is stated.")
    if _finite(latest.get("change_pct")):
        lines.append(f"In cash that is {float(latest['change_pct']):+.1f}% on the year before.")
    cover = [f"{float(latest[c]):.1f}% {label}" for c, label in
             (("classified_pct", "of spend classified on evidence"),
              ("unclassified_pct", "unclassified (counted as not IT)"),
              ("redacted_pct", "redacted")) if _finite(latest.get(c))]
    missing = int(latest["months_missing"]) if _finite(latest.get("months_missing")) else 0
    cover.append(f"{missing} of 12 months missing")
    lines.append(f"Coverage {year}: " + ", ".join(cover) + ".")
    return " ".join(lines)


def peer_sentence(my_peers: pd.DataFrame, bands: pd.DataFrame, *, name: str,
                  group: str | None = None) -> str:
    """Where the council ranks among its peers (`group`: the peer group in words; None: the
    councils in the data, of mixed tier), or why it is not ranked."""
    who = escape_markdown(name)
    among = (f"its peers ({escape_markdown(group)})" if group
             else "the councils in the data")
    ranked = my_peers[my_peers["percentile"].notna()] if "percentile" in my_peers else my_peers
    if ranked.empty:
        n = int(my_peers["n_peers"].max()) if len(my_peers) and _finite(
            my_peers["n_peers"].max()) else 0
        reason = (f"no other council of {among} has data" if n <= 1
                  else "none of its years is complete")
        return f"{who} is not ranked against {among}: {reason}."
    row = ranked.iloc[-1]
    median = bands.set_index("financial_year").loc[row["financial_year"], "median"]
    tail = "" if group else "; mixed tiers"
    return (f"In {row['financial_year']} {who} spent {gbp(row['value_per_head'])} per resident "
            f"on IT in real terms: {escape_markdown(row['band'])} of the {int(row['n_peers'])} "
            f"councils ranked, {among} with the council (median {gbp(median)}{tail}).")


def peer_measure_text(measure: PeerMeasure) -> str:
    """The peer comparison in words (Markdown): the group, who has data, where the council
    sits, or plainly that there is no comparison and why; then the council's own measures."""
    lines = [escape_markdown(measure.summary())]
    mine = measure.table[measure.table["is_council"] & measure.table["has_data"]]
    if len(mine):
        row = mine.iloc[0]
        parts = []
        if _finite(row["per_head_gbp"]):
            parts.append(f"{gbp(row['per_head_gbp'])} of IT spend per resident")
        if _finite(row["share_of_spend_pct"]):
            parts.append(f"{float(row['share_of_spend_pct']):.2f}% of its net current "
                         "expenditure")
        if parts:
            lines.append(f"{escape_markdown(measure.group.council_name)} in "
                         f"{row['financial_year']}: {' and '.join(parts)}.")
    if measure.group.size:
        with_data = measure.table[~measure.table["is_council"] & measure.table["has_data"]]
        names = ", ".join(escape_markdown(str(n)) for n in with_data["name"])
        lines.append(f"Peers with data: {names}." if names else
                     "Peers: " + ", ".join(escape_markdown(str(n))
                                           for n in measure.group.member_names)
                     + " (none of them in the data).")
    return "\n\n".join(lines)


def no_peer_chart_text(measure: PeerMeasure) -> str:
    """Why the peer chart is not drawn (only the council itself would be on it), in Markdown."""
    g = measure.group
    if g.size == 0:
        return f"*No peer chart: {escape_markdown(g.council_name)} has no peer group.*"
    return (f"*No peer chart: none of the {g.size} peers of {escape_markdown(g.council_name)} "
            "has a complete financial year in the data, and a chart of the council alone "
            "compares nothing.*")


#: Columns of `PeerMeasure.table` as a reader sees them.
PEER_MEASURE_COLUMNS = {"name": "Council", "tier": "Tier", "financial_year": "Financial year",
                        "amount_gbp": "IT spend (cash)", "population": "Residents",
                        "per_head_gbp": "IT spend per resident (£)",
                        "net_current_expenditure_gbp": "Net current expenditure",
                        "share_of_spend_pct": "IT share of net current expenditure"}


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
               hovertemplate=month_hover, width=MONTH_BAR_MS),
        go.Scatter(x=shown["month"], y=shown["run_rate_gbp"], name="run rate (lumps spread)",
                   mode="lines+markers" if len(shown) < 13 else "lines",
                   hovertemplate=month_hover),
        go.Scatter(x=gaps["month"], y=[0] * len(gaps), name="month missing or incomplete",
                   mode="markers", marker={"symbol": "x", "size": 10, "color": HIGHLIGHT}),
    ])
    fig.update_layout(title=escape_html(f"{name}: monthly IT spend, paid and as a run rate"),
                      yaxis_title="IT spend a month", legend={"orientation": "h", "y": 1.08},
                      xaxis={"tickformat": "%b %Y"})
    if len(shown) and shown["month"].nunique() < 6:  # a few months: show whole months around them
        first, last = pd.Timestamp(shown["month"].min()), pd.Timestamp(shown["month"].max())
        fig.update_xaxes(range=[first - pd.DateOffset(months=1), last + pd.DateOffset(months=2)],
                         dtick="M1")
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
        x=plot["hhi"], y=plot["it_market"].map(lambda m: escape_html(value_label(m))),
        orientation="h", marker_color=colour,
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
               coverage: Coverage, deflator_note: str, data_note: str = "",
               group: str | None = None) -> go.Figure:
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
    who = f"Peers: {escape_html(group)}." if group else "Mixed tiers."
    caption(fig, f"Coverage (all councils): {coverage.caption()}.<br>{deflator_note}; population: "
            f"{POPULATION_LABEL}. {who}{_tail(data_note)}", escape=False)
    return fig
