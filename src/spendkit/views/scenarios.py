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
  one Excel workbook.
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
from spendkit.units.money import gbp
from spendkit.views.scenarios_excel import export_comparison

__all__ = ["DRIVERS", "assumptions_table", "export_review", "gap_drivers", "gap_table",
           "narrative", "run_review"]


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


def assumptions_table(result: ReviewResult) -> pd.DataFrame:
    """Every assumption of the run (item, value, source, confidence) and each lever's range."""
    levers = result.tornados.drop_duplicates("lever")
    rows = pd.DataFrame({
        "item": "Range: " + levers["label"],
        "value": [f"{lo:,.4g} to {hi:,.4g}" for lo, hi in
                  zip(levers["low_applied"], levers["high_applied"], strict=True)],
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
    if ctx.microsoft is not None:
        lines.append(f"**Microsoft.** Changes land at renewal dates: {ctx.microsoft.describe()}"
                     ".")
    else:
        lines.append("**Microsoft.** The council's agreement is not known (no council "
                     "profile), so its renewal dates are not either: the scenarios' yearly "
                     "price path is an assumption.")
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
