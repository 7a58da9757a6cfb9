"""What finance colleagues read from a spending-review run (notebook 04): tables, words, Excel.

Built on `spendkit.models.scenarios` (the numbers) and nothing here changes a figure:

* `run_review`, `gap_drivers` — re-exported from `models.scenarios.review`, so the notebook
  needs one module;
* `gap_table(result)` — the gap to fund per scenario and year with its P10-P90 range (and the
  gap including in-house staff when the council profile gives staff costs);
* `assumptions_table(result)` — what every figure rests on: value, source or "assumption",
  confidence;
* `narrative(result)` — a plain-English Markdown summary generated from the numbers, naming
  the baseline for what it is (third-party IT spend published as payments), the peer group,
  the settlement path and the Microsoft renewals;
* `export_review(result, folder)` — the comparison, bands, tornados, assumptions and notes in
  one Excel workbook;
* `profile_line`, `baseline_text`, `context_text` — the notebook's sentences on the council
  profile, how the baseline was chosen and what it rests on, and the council's context
  (settlement, Microsoft renewals, staff, peers), data values escaped for Markdown;
* `coverage_report`, `category_report`, `gap_report`, `drivers_report`,
  `assumptions_report` — the same tables as `ReportTable`s (`spendkit.views.tables`) with
  human headers and £ formats.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from spendkit.models.scenarios.context import BASELINE_NAME
from spendkit.models.scenarios.review import (
    DRIVERS,
    ReviewResult,
    gap_drivers,
    run_review,
)
from spendkit.reference.profiles import CouncilProfile
from spendkit.units.money import gbp
from spendkit.views.html import escape_markdown
from spendkit.views.licensing import profile_file
from spendkit.views.scenarios_excel import export_comparison
from spendkit.views.tables import ReportTable, table

__all__ = ["DRIVERS", "GAP_HEADERS", "assumptions_report", "assumptions_table",
           "baseline_text", "category_report", "context_text", "coverage_report",
           "drivers_report", "export_review", "gap_drivers", "gap_report", "gap_table",
           "narrative", "profile_line", "run_review"]


def _fmt(values: pd.Series) -> pd.Series:
    return values.map(lambda v: gbp(v, pence=False))


def gap_table(result: ReviewResult, *, formatted: bool = True) -> pd.DataFrame:
    """Gap to fund per review year per scenario: IT spend, envelope, gap with its P10-P90.

    `it_spend` is third-party IT spend published as payments. With in-house staff (council
    profile) the staff cost and the gap including it follow. Cash £; `formatted=True` gives £
    strings for display, False keeps floats.
    """
    cmp = result.comparison[result.comparison["year_index"] > 0]
    gap = result.bands[(result.bands["measure"] == "gap") & (result.bands["basis"] == "cash")]
    out = cmp.merge(gap[["scenario", "year_index", "p10", "p90"]],
                    on=["scenario", "year_index"], how="left", validate="one_to_one")
    table = pd.DataFrame({
        "scenario": out["scenario"], "financial_year": out["financial_year"],
        "it_spend": out["it_spend_gbp"], "funding_envelope": out["funding_envelope_gbp"],
        "gap_to_fund": out["gap_gbp"], "gap_p10": out["p10"], "gap_p90": out["p90"],
        "cumulative_gap": out["cumulative_gap_gbp"]})
    if "in_house_staff_gbp" in out.columns:
        table["in_house_staff"] = out["in_house_staff_gbp"]
        table["gap_with_staff"] = out["gap_with_staff_gbp"]
        table["cumulative_gap_with_staff"] = out["cumulative_gap_with_staff_gbp"]
    if formatted:
        money = table.columns[2:]
        table[money] = table[money].apply(_fmt)
    return table.reset_index(drop=True)


def _number(value: float, money: bool) -> str:
    """A lever bound as a reader writes it: '£69,950' for money, '1.018' or '-2.563' else."""
    if money:
        return gbp(value, pence=False)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def assumptions_table(result: ReviewResult) -> pd.DataFrame:
    """Every assumption of the run (item, value, source, confidence) and each lever's range."""
    levers = result.tornados.drop_duplicates("lever")
    rows = pd.DataFrame({
        "item": "Range: " + levers["label"],
        "value": [f"{_number(lo, money)} to {_number(hi, money)}" for lo, hi, money in
                  zip(levers["low_applied"], levers["high_applied"],
                      levers["lever"].str.contains("_gbp"), strict=True)],
        "source": levers["source"],
        "confidence": np.where(levers["basis"] == "sourced", "medium", "low"),
    })
    return pd.concat([result.assumptions(), rows], ignore_index=True)


_PHRASES = {
    "Inflation on non-Microsoft costs": "inflation on non-Microsoft costs",
    "Microsoft price and licence mix": "Microsoft price and licence-mix changes",
    "Legacy replacement: run-cost change": "the legacy replacement's run-cost change",
    "One-off costs (replacement, set-up)": "one-off replacement and set-up costs",
    "Shared-service savings": "shared-service savings",
    "Match-the-best-peers savings": "matching the best peers",
    "Settlement change": "the settlement change",
    "Grants": "grants",
}


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _gap_words(gap: float) -> str:
    """'a gap to fund of £61.1k', 'a surplus of £137k' or 'no gap'."""
    if abs(gap) < 0.5:
        return "no gap"
    word = "a gap to fund of" if gap > 0 else "a surplus of"
    return f"{word} {gbp(abs(gap), compact=True)}"


def narrative(result: ReviewResult, *, top: int = 2) -> str:
    """A plain-English Markdown summary of what drives the result, generated from the numbers.

    Covers what the baseline is and how it was chosen, in-house staff when given, each
    scenario's final-year position and cumulative gap with the Monte Carlo range, the biggest
    drivers, the levers that move the result most (sourced or assumed), the Microsoft
    renewals and the settlement path, and the like-for-like peer comparison.
    """
    b = result.baseline
    ctx = result.context
    lines = []
    cover = ("all 12 months present" if b.months_present == 12 and b.scale_factor == 1.0
             else f"{b.months_present} of 12 months present, "
                  + ("scaled up to a year" if b.scale_factor != 1.0 else "not scaled"))
    ms_share = b.microsoft_gbp / b.total_gbp if b.total_gbp else 0.0
    lines.append(
        f"**Baseline: {BASELINE_NAME}.** {b.publisher} paid "
        f"{gbp(b.total_gbp, compact=True)} a year of third-party IT in {b.window} ({cover}; "
        f"chosen as {b.choice}); {gbp(b.microsoft_gbp, compact=True)} ({_pct(ms_share)}) of "
        "it was Microsoft licensing. In-house IT staff, usually the largest part of a "
        "council's IT cost, and payments below the publication threshold are not in it"
        + (f": the council profile adds {gbp(ctx.staff.baseline_gbp, compact=True)} of "
           f"in-house IT staff, shown beside." if ctx.staff is not None
           else ", so it is a floor, not the IT budget."))
    drivers = gap_drivers(result)
    table = gap_table(result, formatted=False)
    for spec in result.specs:
        rows = table[table["scenario"] == spec.name]
        last = rows.iloc[-1]
        total = float(rows["gap_to_fund"].sum())
        kind = "a shortfall" if total > 0.5 else "headroom" if total < -0.5 else "no gap"
        col = drivers[spec.name]
        big = col.reindex(col.abs().sort_values(ascending=False, kind="stable").index)
        big = big[big.abs() >= 0.5].head(top)
        why = " and ".join(f"{_PHRASES[d]} ({'+' if v > 0 else '−'}"
                           f"{gbp(abs(v), compact=True)})" for d, v in big.items())
        spread = ("" if np.isclose(last["gap_p10"], last["gap_p90"]) else
                  f" (gap P10–P90: {gbp(last['gap_p10'], compact=True)} to "
                  f"{gbp(last['gap_p90'], compact=True)})")
        staff = ""
        if "gap_with_staff" in rows.columns:
            staff = (f" With in-house staff the cumulative position is "
                     f"{_gap_words(float(rows['gap_with_staff'].sum()))}.")
        lines.append(
            f"**{spec.title}** (`{spec.name}`): by {last['financial_year']} third-party IT "
            f"spend is {gbp(last['it_spend'], compact=True)} against an envelope of "
            f"{gbp(last['funding_envelope'], compact=True)}, "
            f"{_gap_words(last['gap_to_fund'])}{spread}. Over the "
            f"{len(rows)} review years that is {kind} of {gbp(abs(total), compact=True)}"
            + (f", mainly from {why}." if why else ".") + staff)
    torn = result.tornados
    if not torn.empty:
        biggest = torn.sort_values(["swing", "scenario", "lever"], ascending=[False, True, True],
                                   kind="stable").head(3)
        parts = [f"{r.label} in `{r.scenario}` ({gbp(r.swing, compact=True)} between its low "
                 f"and high; range {'sourced' if r.basis == 'sourced' else 'an assumption'})"
                 for r in biggest.itertuples()]
        lines.append("**What moves the result most.** Of the uncertain levers, the cumulative "
                     "gap is most sensitive to " + "; then ".join(parts) + ".")
    lines.append(f"**Microsoft.** {_microsoft_sentence(result)}")
    lines.append(f"**Settlement.** {ctx.settlement.describe()}" if any(
        s.funding_basis == "settlement" for s in result.specs) else "")
    lines.append(f"**Peers.** {result.peer.summary()}")
    peer_specs = [s for s in result.specs if s.peers is not None]
    if peer_specs:
        s = peer_specs[0]
        target = result.peer_targets[s.name]
        if target is None:
            lines.append(f"So `{s.name}`'s match-the-best-peers lever saves nothing.")
        elif b.total_gbp > target:
            lines.append(f"In `{s.name}`, closing {s.peers.gap_closed_pct.value:g}% of the "
                         f"{gbp(b.total_gbp - target, compact=True)} difference to the peers' "
                         f"{'best quartile' if s.peers.quantile == 0.25 else f'{s.peers.quantile:g} quantile'}"
                         " is the scenario's assumption.")
        else:
            lines.append(f"{b.publisher} is already at or below the peers' "
                         f"{s.peers.quantile:g} quantile, so `{s.name}`'s peer lever saves "
                         "nothing.")
    return "\n\n".join(x for x in lines if x)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "council"


def export_review(result: ReviewResult, folder: str | Path) -> Path:
    """Write the comparison, Monte Carlo bands, tornados, assumptions and notes to one workbook.

    The file is `<council>-<baseline year>-spending-review-scenarios.xlsx` in `folder`; returns
    its path.
    """
    b = result.baseline
    path = Path(folder) / f"{_slug(b.publisher)}-{b.financial_year}-spending-review-scenarios.xlsx"
    notes = [f"Monte Carlo: {result.simulations} simulations, seed {result.seed}; tornado "
             f"metric {result.tornado_metric} (cash £ over the review years)"]
    notes += [re.sub(r"[*`]", "", para) for para in narrative(result).split("\n\n")]
    return export_comparison(path, result.comparison, specs=result.specs, baseline=b,
                             monte_carlo=result.bands, tornado=result.tornados, notes=notes,
                             assumptions=assumptions_table(result))


# --- what notebook 04 shows ----------------------------------------------------------------------

#: Headers of `gap_table` columns on a page.
GAP_HEADERS = {"scenario": "Scenario", "financial_year": "Financial year",
               "it_spend": "Third-party IT spend", "funding_envelope": "Funding envelope",
               "gap_to_fund": "Gap to fund", "gap_p10": "Gap P10", "gap_p90": "Gap P90",
               "cumulative_gap": "Cumulative gap", "in_house_staff": "In-house IT staff",
               "gap_with_staff": "Gap with staff",
               "cumulative_gap_with_staff": "Cumulative gap with staff"}


def profile_line(profile: CouncilProfile | None, council: str) -> str:
    """One Markdown sentence: which council profile the page uses, or that there is none."""
    who = escape_markdown(council)
    if profile is None:
        return (f"**Council profile:** none for {who}. The Microsoft agreement, in-house IT "
                "staff, chosen peers and the council's own settlement are not known: each is "
                "replaced by a stated assumption (see the assumptions table), never by another "
                "council's facts. Add `data/councils/<council>.yaml` to give them.")
    given = [what for what, has in (
        ("Microsoft agreement", bool(profile.microsoft)), ("in-house IT staff costs",
                                                           profile.it_staff is not None),
        ("chosen peers", bool(profile.peers)),
        ("core spending power", bool(profile.core_spending_power_gbp))) if has]
    return (f"**Council profile:** {escape_markdown(profile_file(profile))}, giving "
            + (", ".join(given) if given else "none of the facts the scenarios use") + ".")


def baseline_text(result: ReviewResult) -> str:
    """How the baseline was chosen and how many months it rests on, as Markdown."""
    b = result.baseline
    scaled = (f"scaled up by 12/{b.months_present} to a full year" if b.scale_factor != 1.0
              else "not scaled")
    thin = b.months_present < 12
    lines = [f"**Baseline:** {BASELINE_NAME}, {escape_markdown(b.publisher)}, "
             f"{escape_markdown(b.window)}: {gbp(b.total_gbp, compact=True)} a year, resting on "
             f"**{b.months_present} of 12 months** of payments ({scaled}; observed "
             f"{gbp(b.observed_gbp, compact=True)}).",
             f"**How it was chosen:** {escape_markdown(b.choice)}."]
    if thin:
        lines.append("**A thin baseline:** with fewer than 12 months every figure below is an "
                     "extrapolation; an annual payment (a licence renewal) in or out of the "
                     "months present moves it a lot. Add more months of published files for a "
                     "firmer one.")
    return "\n\n".join(lines)


def _microsoft_sentence(result: ReviewResult) -> str:
    """When Microsoft changes can land: the agreement's renewals, or that they are unknown."""
    plan = result.context.microsoft
    if plan is not None:
        return f"Changes land at renewal dates: {plan.describe()}."
    return ("The council's agreement is not known (no agreement in a council profile), so its "
            "renewal dates are not either: the scenarios' yearly price path is an assumption.")


def context_text(result: ReviewResult) -> str:
    """The settlement path, Microsoft plan, in-house staff and peer group, as Markdown."""
    ctx = result.context
    lines = [f"- **Settlement:** {escape_markdown(ctx.settlement.describe())}"]
    lines.append(f"- **Microsoft agreement:** {escape_markdown(_microsoft_sentence(result))}")
    if ctx.staff is not None:
        lines.append(f"- **In-house IT staff:** {gbp(ctx.staff.baseline_gbp, compact=True)} in "
                     f"{escape_markdown(ctx.baseline_year)} "
                     f"({escape_markdown(ctx.staff.source or 'council profile')}); shown beside "
                     "the third-party spend in the gap table.")
    else:
        lines.append("- **In-house IT staff:** not included (no staff costs in a council "
                     "profile), so the baseline is a floor of the IT budget, not the budget.")
    lines.append(f"- **Peers:** {escape_markdown(result.peer.summary())}")
    return "\n".join(lines)


def coverage_report(result: ReviewResult) -> ReportTable:
    """Months with payments and observed IT per financial year, the baseline year marked."""
    return table(result.coverage, columns={
        "financial_year": "Financial year", "months_present": "Months with payments",
        "it_observed_gbp": "IT observed", "is_baseline": "Baseline year"},
        kinds={"it_observed_gbp": "money", "months_present": "int", "is_baseline": "bool"},
        what="years", max_rows=None)


def category_report(result: ReviewResult) -> ReportTable:
    """The baseline by IT category: observed, annual run-rate and the Microsoft part."""
    b = result.baseline
    return table(b.by_category, columns={
        "it_category": "IT category", "observed_gbp": "Observed",
        "run_rate_gbp": "Annual run-rate", "microsoft_gbp": "of which Microsoft"},
        kinds={"observed_gbp": "money", "run_rate_gbp": "money", "microsoft_gbp": "money"},
        what="categories", max_rows=None,
        note=f"{BASELINE_NAME[0].upper()}{BASELINE_NAME[1:]}, {b.window} "
             f"({b.months_present} of 12 months).")


def gap_report(result: ReviewResult) -> ReportTable:
    """`gap_table` for a page: £ columns, human headers, staff columns when the profile has them."""
    gaps = gap_table(result, formatted=False)
    money = {c: "money" for c in gaps.columns if c not in ("scenario", "financial_year")}
    return table(gaps, columns={c: GAP_HEADERS[c] for c in gaps.columns}, kinds=money,
                 what="scenario-years", max_rows=60)


def drivers_report(result: ReviewResult) -> ReportTable:
    """`gap_drivers` for a page: one row per driver, one £ column per scenario."""
    drivers = gap_drivers(result).reset_index()
    titles = {"driver": "What makes up the cumulative gap"} | {
        n: result.spec(n).title for n in result.names}
    return table(drivers, columns=titles, kinds={n: "money" for n in result.names},
                 what="drivers", max_rows=None,
                 note="Cash £ over the review years; each column adds up to the scenario's "
                      "cumulative gap (costs add, savings, settlement growth and grants take "
                      "away).")


def assumptions_report(result: ReviewResult) -> ReportTable:
    """`assumptions_table` for a page: item, value, source (or 'assumption'), confidence."""
    return table(assumptions_table(result), columns={
        "item": "Item", "value": "Value", "source": "Source", "confidence": "Confidence"},
        kinds={"value": "text"}, what="assumptions", max_rows=None)
