"""A whole spending-review run for one council, as the notebook and the Excel export read it.

`run_review(transactions, council, ["flat-cash", ...])` builds the baseline (with coverage),
the peer benchmark, and for every scenario the deterministic comparison, Monte Carlo bands and
a tornado, in one `ReviewResult`. `gap_table`, `gap_drivers` and `narrative` turn it into what
finance colleagues read; `export_review` writes it to Excel in one call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spendkit.errors import InputError
from spendkit.models.scenarios import (
    Baseline,
    _months_by_year,
    build_baseline,
    compare_scenarios,
    monte_carlo,
    peer_benchmark,
    peer_target_gbp,
    project,
    tornado,
)
from spendkit.models.scenarios.spec import ScenarioSpec, load_scenario, with_review_years
from spendkit.reference.councils import resolve_council
from spendkit.units.money import gbp
from spendkit.units.periods import financial_year, shift_financial_year

__all__ = [
    "DRIVERS", "ReviewResult", "coverage_by_year", "export_review", "gap_drivers", "gap_table",
    "lever_label", "narrative", "publisher_population", "resolve_publisher", "run_review",
]

#: Parts of the gap to fund, in display order (see `gap_drivers`).
DRIVERS: tuple[str, ...] = (
    "Inflation on non-Microsoft costs",
    "Microsoft price and licence mix",
    "Legacy replacement: run-cost change",
    "One-off costs (replacement, set-up)",
    "Shared-service savings",
    "Match-the-best-peers savings",
    "Settlement change",
    "Grants",
)


@dataclass(frozen=True)
class ReviewResult:
    """Everything one spending-review run produced, as tidy DataFrames."""

    baseline: Baseline
    specs: tuple[ScenarioSpec, ...]
    coverage: pd.DataFrame  # financial_year, months_present, it_observed_gbp, is_baseline
    benchmark: pd.DataFrame  # peer_benchmark() for the baseline year
    population: float | None
    peer_targets: Mapping[str, float | None]
    comparison: pd.DataFrame  # compare_scenarios() rows for every scenario
    bands: pd.DataFrame  # monte_carlo() rows for every scenario
    tornados: pd.DataFrame  # tornado() rows with scenario and label columns
    simulations: int
    seed: int
    tornado_metric: str

    @property
    def names(self) -> list[str]:
        """Scenario names in the order given."""
        return [s.name for s in self.specs]

    def spec(self, name: str) -> ScenarioSpec:
        """The scenario called `name`."""
        for s in self.specs:
            if s.name == name:
                return s
        raise InputError(f"scenario {name!r} not in this review; found {self.names}")

    def project(self, name: str) -> pd.DataFrame:
        """The deterministic projection (`scenarios.project`) of one scenario."""
        return project(self.baseline, self.spec(name), peer_target_gbp=self.peer_targets[name])

    def coverage_text(self) -> str:
        """One line on what the baseline rests on, for chart captions."""
        b = self.baseline
        rule = ("scaled up to a full year" if b.scale_factor != 1.0
                else "not scaled" if b.months_present < 12 else "full year")
        return (f"Baseline: {b.publisher}, {b.financial_year}, {b.months_present} of 12 months "
                f"with payments ({rule}); IT spend as classified by spendkit, net of credits.")


def resolve_publisher(transactions: pd.DataFrame, council: str) -> str:
    """The `publisher_name` for a council given by name or GSS code (clear error if absent)."""
    return resolve_council(council, available=transactions).name


def publisher_population(transactions: pd.DataFrame,
                         population: pd.DataFrame | None = None) -> dict[str, float]:
    """publisher_name → residents, matched by GSS code (`publisher_code`) to the package table.

    `population` (columns gss_code, population) defaults to package_data/reference/population.csv.
    Councils without a GSS code or population are left out.
    """
    if population is None:
        from spendkit.models.trends import load_population

        population = load_population()
    pop = dict(zip(population["gss_code"].astype(str),
                   pd.to_numeric(population["population"]).astype(float), strict=True))
    if "publisher_code" not in transactions.columns:
        return {}
    pairs = transactions[["publisher_name", "publisher_code"]].dropna().drop_duplicates()
    return {str(n): pop[str(c)] for n, c in sorted(pairs.itertuples(index=False, name=None))
            if str(c) in pop}


def coverage_by_year(transactions: pd.DataFrame, publisher: str,
                     baseline_year: str | None = None) -> pd.DataFrame:
    """Months with any payment and observed IT spend per financial year for one council.

    A month with no rows at all is missing data, not a fall in spend: read IT totals for years
    with fewer than 12 months with that in mind.
    """
    rows = transactions[transactions["publisher_name"] == publisher]
    months = _months_by_year(rows["payment_date"])
    it = rows[rows["is_it"].fillna(False).to_numpy()]
    fy = financial_year(it["payment_date"])
    # Exact sums per year, converted to float once for display.
    spend = it["amount_gbp"].groupby(fy.to_numpy()).sum()
    out = months.assign(it_observed_gbp=months["financial_year"].map(
        pd.Series(spend, dtype=object).map(float)).fillna(0.0).astype(float))
    out["is_baseline"] = out["financial_year"] == baseline_year
    return out.sort_values("financial_year", ignore_index=True)


def _as_specs(scenarios: str | Path | ScenarioSpec | Sequence[str | Path | ScenarioSpec]
              ) -> list[ScenarioSpec]:
    if isinstance(scenarios, str | Path | ScenarioSpec):
        scenarios = [scenarios]
    specs = [s if isinstance(s, ScenarioSpec) else load_scenario(s) for s in scenarios]
    if not specs:
        raise InputError("no scenarios given; expected names such as 'flat-cash' or "
                                 "paths to YAML files")
    return specs


def run_review(transactions: pd.DataFrame, council: str,
               scenarios: str | Path | ScenarioSpec | Sequence[str | Path | ScenarioSpec], *,
               review_years: int | None = None, simulations: int | None = None,
               seed: int | None = None, year: str | None = None, coverage_rule: str = "scale",
               population: pd.DataFrame | None = None,
               tornado_metric: str = "total_gap") -> ReviewResult:
    """Baseline, peers, comparison, Monte Carlo bands and tornados for `council`.

    `transactions` are all councils' enriched rows (the peers come from them); `council` is
    a publisher name or GSS code. `review_years`, `simulations` and `seed` override the
    scenario files (None keeps each file's own). Deterministic for a given seed.
    """
    publisher = resolve_publisher(transactions, council)
    specs = _as_specs(scenarios)
    if review_years is not None:
        specs = [with_review_years(s, review_years) for s in specs]
    base = build_baseline(transactions, publisher=publisher, year=year,
                          coverage_rule=coverage_rule)
    coverage = coverage_by_year(transactions, publisher, base.financial_year)
    pops = publisher_population(transactions, population)
    bench = peer_benchmark(transactions, pops, year=base.financial_year)
    targets: dict[str, float | None] = {}
    for s in specs:
        if s.peers is None:
            targets[s.name] = None
        elif publisher not in pops:
            raise InputError(f"{s.source}: match_best_peers needs {publisher}'s "
                                     "population (no GSS code match in population.csv)")
        else:
            targets[s.name] = peer_target_gbp(bench, s.peers.quantile, pops[publisher])
    comparison = pd.concat([compare_scenarios(base, [s], peer_target_gbp=targets[s.name])
                            for s in specs], ignore_index=True)
    n = simulations if simulations is not None else specs[0].simulations
    bands = pd.concat([monte_carlo(base, s, simulations=n, seed=seed,
                                   peer_target_gbp=targets[s.name]) for s in specs],
                      ignore_index=True)
    torn = []
    for s in specs:
        t = tornado(base, s, metric=tornado_metric, peer_target_gbp=targets[s.name])
        t.insert(0, "scenario", s.name)
        t.insert(2, "label", [lever_label(s, p, base.financial_year) for p in t["lever"]])
        # Inputs as applied: file £ costs are scaled to this baseline (grants never are).
        k = np.where(t["lever"].str.endswith(_SCALED), s.cost_scale(base.total_gbp), 1.0)
        t.insert(5, "low_applied", t["low_input"] * k)
        t.insert(6, "high_applied", t["high_input"] * k)
        torn.append(t)
    tornados = pd.concat(torn, ignore_index=True)
    return ReviewResult(base, tuple(specs), coverage, bench, pops.get(publisher), targets,
                        comparison, bands, tornados, n,
                        seed if seed is not None else specs[0].seed, tornado_metric)


#: Lever paths whose £ values `ScenarioSpec.cost_scale` scales (see scenarios._simulate).
_SCALED = ("one_off_cost_gbp", "old_run_cost_gbp", "new_run_cost_gbp", "setup_cost_gbp")

# --- labels and tables -------------------------------------------------------------------------

_PATH = re.compile(r"^(?P<head>\w+)(?:\[(?P<i>\d+)\])?(?:\.(?P<field>\w+))?(?:\[(?P<t>\d+)\])?$")
_HEADS = {"funding": "Funding settlement", "inflation": "Inflation",
          "microsoft": "Microsoft", "match_best_peers": "Match the best peers"}
_FIELDS = {"change_pct": "", "rate_pct": "", "price_change_pct": "price rise",
           "licence_mix_change_pct": "licence mix", "one_off_cost_gbp": "one-off cost",
           "old_run_cost_gbp": "old run cost", "new_run_cost_gbp": "new run cost",
           "saving_pct": "saving %", "setup_cost_gbp": "set-up cost", "amount_gbp": "amount",
           "probability": "won or not", "gap_closed_pct": "share of gap closed"}


def lever_label(spec: ScenarioSpec, path: str, baseline_year: str | None = None) -> str:
    """Plain-English name of a lever's key path, e.g. 'Microsoft price rise, 2027-28'."""
    m = _PATH.match(path)
    if m is None:
        return path
    head, i, fld, t = m.group("head"), m.group("i"), m.group("field"), m.group("t")
    items = {"legacy_replacements": spec.legacy, "shared_services": spec.shared,
             "grants": spec.grants}
    if head in items and i is not None and int(i) <= len(items[head]):
        name = items[head][int(i) - 1].name
    else:
        name = _HEADS.get(head, head.replace("_", " ").capitalize())
    part = _FIELDS.get(fld or "", (fld or "").replace("_", " "))
    if head in items or head == "match_best_peers":
        text = f"{name}: {part}"
    else:
        text = " ".join(x for x in (name, part) if x)
    if t is not None:
        when = (shift_financial_year(baseline_year, int(t)) if baseline_year
                else f"year {t}")
        text = f"{text}, {when}"
    return text


def _fmt(values: pd.Series) -> pd.Series:
    return values.map(lambda v: gbp(v, pence=False))


def gap_table(result: ReviewResult, *, formatted: bool = True) -> pd.DataFrame:
    """Gap to fund per review year per scenario: IT spend, envelope, gap with its P10–P90.

    Cash £. `formatted=True` gives £ strings for display; False keeps floats.
    """
    cmp = result.comparison[result.comparison["year_index"] > 0]
    gap = result.bands[(result.bands["measure"] == "gap") & (result.bands["basis"] == "cash")]
    out = cmp.merge(gap[["scenario", "year_index", "p10", "p90"]],
                    on=["scenario", "year_index"], how="left", validate="one_to_one")
    out = pd.DataFrame({
        "scenario": out["scenario"], "financial_year": out["financial_year"],
        "it_spend": out["it_spend_gbp"], "funding_envelope": out["funding_envelope_gbp"],
        "gap_to_fund": out["gap_gbp"], "gap_p10": out["p10"], "gap_p90": out["p90"],
        "cumulative_gap": out["cumulative_gap_gbp"]})
    if formatted:
        money = out.columns[2:]
        out[money] = out[money].apply(_fmt)
    return out.reset_index(drop=True)


def gap_drivers(result: ReviewResult, *, formatted: bool = False) -> pd.DataFrame:
    """What makes up each scenario's gap to fund, summed over the review years (cash £).

    Rows are DRIVERS; columns are scenarios. Each column sums to the scenario's cumulative gap
    (costs add to it, savings, settlement growth and grants take away). Inflation on
    non-Microsoft costs = run cost − Microsoft licensing − the non-Microsoft baseline.
    `formatted=True` gives £ strings for display.
    """
    b = result.baseline
    total0, ms0 = b.total_gbp, b.microsoft_gbp
    cols = {}
    for name in result.names:
        long = result.project(name)
        wide = (long[long["year_index"] > 0]
                .pivot_table(index="year_index", columns="measure", values="cash_gbp",
                             observed=True, aggfunc="sum").sum())
        cols[name] = [
            wide["run_cost"] - wide["microsoft_licensing"]
            - (total0 - ms0) * result.spec(name).review_years,
            wide["microsoft_licensing"] - ms0 * result.spec(name).review_years,
            wide["legacy_run_change"],
            wide["one_off_costs"],
            -wide["shared_service_savings"],
            -wide["peer_savings"],
            -(wide["settlement"] - total0 * result.spec(name).review_years),
            -wide["grants"],
        ]
    # + 0.0 turns the -0.0 of a negated zero into 0.0 for display.
    out = pd.DataFrame(cols, index=pd.Index(DRIVERS, name="driver")) + 0.0
    return out.apply(_fmt) if formatted else out


# --- narrative ---------------------------------------------------------------------------------


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

    Covers the baseline and its coverage, each scenario's final-year position and cumulative
    gap with the Monte Carlo range, the biggest drivers of each gap, the levers that move the
    result most (tornado), and the peer comparison when a scenario uses it.
    """
    b = result.baseline
    lines = []
    cover = ("all 12 months have payments" if b.months_present == 12
             else f"only {b.months_present} of 12 months have payments, "
                  + ("scaled up to a year" if b.scale_factor != 1.0 else "not scaled"))
    ms_share = b.microsoft_gbp / b.total_gbp if b.total_gbp else 0.0
    lines.append(f"**Baseline.** {b.publisher} spent {gbp(b.total_gbp, compact=True)} on IT in "
                 f"{b.financial_year} ({cover}); {gbp(b.microsoft_gbp, compact=True)} "
                 f"({_pct(ms_share)}) of it was Microsoft licensing, so Microsoft price and "
                 "licence-mix changes weigh heavily.")
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
        lines.append(
            f"**{spec.title}** (`{spec.name}`): by {last['financial_year']} IT spend is "
            f"{gbp(last['it_spend'], compact=True)} against an envelope of "
            f"{gbp(last['funding_envelope'], compact=True)}, "
            f"{_gap_words(last['gap_to_fund'])}{spread}. Over the "
            f"{len(rows)} review years that is {kind} of {gbp(abs(total), compact=True)}"
            + (f", mainly from {why}." if why else "."))
    torn = result.tornados
    if not torn.empty:
        biggest = torn.sort_values(["swing", "scenario", "lever"], ascending=[False, True, True],
                                   kind="stable").head(3)
        parts = [f"{r.label} in `{r.scenario}` ({gbp(r.swing, compact=True)} between its low "
                 "and high)" for r in biggest.itertuples()]
        lines.append("**What moves the result most.** Of the uncertain levers, the cumulative "
                     "gap is most sensitive to " + "; then ".join(parts) + ".")
    peer_specs = [s for s in result.specs if s.peers is not None]
    if peer_specs and result.population:
        s = peer_specs[0]
        target = result.peer_targets[s.name] or 0.0
        own = b.total_gbp / result.population
        best = target / result.population
        k = len(result.benchmark)
        if own > best:
            gap_text = (f"closing {s.peers.gap_closed_pct.value:g}% of the "
                        f"{gbp(b.total_gbp - target, compact=True)} difference is the "
                        "scenario's assumption")
        else:
            gap_text = "it is already at or below that level, so the lever saves nothing"
        lines.append(
            f"**Peers.** {b.publisher} spends £{own:,.2f} per resident on IT; the best "
            f"{'quartile' if s.peers.quantile == 0.25 else f'{s.peers.quantile:g} quantile'} "
            f"of the {k} councils in the data spends £{best:,.2f}; {gap_text}. Councils of "
            "different types (districts without social care, unitaries, metropolitan "
            "boroughs) are compared as they are.")
    return "\n\n".join(lines)


# --- export ------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "council"


def export_review(result: ReviewResult, folder: str | Path) -> Path:
    """Write the comparison, Monte Carlo bands, tornados and notes to one Excel file in `folder`.

    The file is `<council>-<baseline year>-spending-review-scenarios.xlsx`; returns its path.
    """
    from spendkit.views.scenarios_excel import export_comparison

    b = result.baseline
    path = Path(folder) / f"{_slug(b.publisher)}-{b.financial_year}-spending-review-scenarios.xlsx"
    notes = [f"Monte Carlo: {result.simulations} simulations, seed {result.seed}; tornado "
             f"metric {result.tornado_metric} (cash £ over the review years)"]
    notes += [re.sub(r"[*`]", "", para) for para in narrative(result).split("\n\n")]
    return export_comparison(path, result.comparison, specs=result.specs, baseline=b,
                             monte_carlo=result.bands, tornado=result.tornados, notes=notes)
