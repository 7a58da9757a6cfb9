"""A whole spending-review run for one council: baseline, peers, context, scenarios.

`run_review(transactions, council, ["flat-cash", ...], profile=...)` builds the baseline (third-
party IT spend published as payments, with how it was chosen), the like-for-like peer
comparison, the council's context (profile facts: Microsoft agreement, settlement, staff) and
for every scenario the deterministic comparison, Monte Carlo bands and a tornado, in one
`ReviewResult`, which also carries its assumptions table. `gap_drivers` splits each gap into
its causes. What finance colleagues read (narrative, formatted gap table, Excel) is built from
a `ReviewResult` in `spendkit.views.scenarios`.
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
    _complete_months,
    build_baseline,
    compare_scenarios,
    monte_carlo,
    project,
    tornado,
)
from spendkit.models.scenarios.context import BASELINE_NAME, ScenarioContext, scenario_context
from spendkit.models.scenarios.spec import ScenarioSpec, load_scenario, with_review_years
from spendkit.models.trends.peers import PeerMeasure, compare_with_peers, peer_group
from spendkit.reference.councils import resolve_council
from spendkit.reference.profiles import CouncilProfile
from spendkit.units.money import gbp
from spendkit.units.periods import financial_year, shift_financial_year

__all__ = [
    "DRIVERS", "ReviewResult", "council_year_totals", "coverage_by_year", "gap_drivers",
    "lever_label", "publisher_population", "resolve_publisher", "run_review",
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
    peer: PeerMeasure  # like-for-like peers (possibly with none to compare)
    population: float | None
    peer_targets: Mapping[str, float | None]
    comparison: pd.DataFrame  # compare_scenarios() rows for every scenario
    bands: pd.DataFrame  # monte_carlo() rows for every scenario
    tornados: pd.DataFrame  # tornado() rows with scenario and label columns
    simulations: int
    seed: int
    tornado_metric: str
    context: ScenarioContext

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
        return project(self.baseline, self.spec(name), peer_target_gbp=self.peer_targets[name],
                       context=self.context)

    def coverage_text(self) -> str:
        """One line on what the baseline is and rests on, for chart captions."""
        b = self.baseline
        rule = ("scaled up to a full year" if b.scale_factor != 1.0
                else "not scaled" if b.months_present < 12 else "full year")
        return (f"Baseline: {BASELINE_NAME}, {b.publisher}, {b.window}, {b.months_present} of "
                f"12 months present ({rule}); chosen as {b.choice}. IT as classified by "
                "spendkit, net of credits; no in-house staff, no payments below the "
                "publication threshold.")

    def assumptions(self) -> pd.DataFrame:
        """What the run rests on: the context's table plus the baseline's choice and notes."""
        extra = [("Baseline choice", self.baseline.choice, "the ingested dataset", "high")]
        extra += [("Baseline coverage", n, "the ingested dataset", "high")
                  for n in self.baseline.notes]
        extra.append(("Monte Carlo", f"{self.simulations:,} runs, seed {self.seed}",
                      "spendkit", "high"))
        table = pd.concat([pd.DataFrame(extra, columns=["item", "value", "source",
                                                        "confidence"]),
                           self.context.assumptions()], ignore_index=True)
        return table


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
    """Months present and observed IT spend per financial year for one council.

    Months count as the baseline counts them (complete in the completeness calendar when the
    rows carry their source files, else any month with a payment), so this table and the
    baseline's "N of 12 months" agree. A month missing is missing data, not a fall in spend.
    """
    rows = transactions[transactions["publisher_name"] == publisher]
    calendar = _complete_months(rows)
    months = (calendar[calendar["complete"]].groupby("financial_year").size()
              .reindex(sorted(calendar["financial_year"].unique()), fill_value=0)
              .rename("months_present").rename_axis("financial_year").reset_index())
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


def council_year_totals(transactions: pd.DataFrame) -> pd.DataFrame:
    """IT spend per council and financial year (exact) with `is_complete`, for the peers.

    `transactions` is payments, or `aggregates.month_totals` (per council, month and file:
    the whole dataset's peers in one SQL scan, without loading every council's rows).
    Complete means all 12 months present in the completeness calendar when the rows carry
    their source files, else all 12 months with a payment.
    """
    from spendkit.models.trends import _is_month_totals, calendar_from_months
    from spendkit.models.trends import council_year_totals as with_calendar

    if _is_month_totals(transactions):
        return with_calendar(transactions, calendar_from_months(transactions))
    if {"source_file", "publisher_code"} <= set(transactions.columns):
        return with_calendar(transactions)
    code = (transactions["publisher_code"] if "publisher_code" in transactions.columns
            else transactions["publisher_name"]).astype("string")
    fy = financial_year(transactions["payment_date"]).astype("string")
    month = pd.to_datetime(transactions["payment_date"]).dt.to_period("M")
    frame = pd.DataFrame({"publisher_code": code, "financial_year": fy, "month": month,
                          "amount": transactions["amount_gbp"],
                          "it": transactions["is_it"].fillna(False).astype(bool)})
    months = frame.groupby(["publisher_code", "financial_year"])["month"].nunique()
    spend = frame[frame["it"]].groupby(["publisher_code", "financial_year"])["amount"].sum()
    out = months.rename("months").to_frame().join(spend.rename("amount_gbp")).reset_index()
    out["amount_gbp"] = out["amount_gbp"].map(lambda v: 0.0 if pd.isna(v) else float(v))
    out["is_complete"] = out["months"] == 12
    return out


def run_review(transactions: pd.DataFrame, council: str,
               scenarios: str | Path | ScenarioSpec | Sequence[str | Path | ScenarioSpec], *,
               review_years: int | None = None, simulations: int | None = None,
               seed: int | None = None, year: str | None = None, coverage_rule: str = "scale",
               population: pd.DataFrame | None = None, tornado_metric: str = "total_gap",
               profile: CouncilProfile | None = None, peers: Sequence[str] | None = None,
               min_peers: int = 5, outturn: pd.DataFrame | None = None,
               vat_basis: Mapping[str, str] | None = None,
               totals: pd.DataFrame | None = None) -> ReviewResult:
    """Baseline, peers, context, comparison, Monte Carlo bands and tornados for `council`.

    `transactions` are the enriched rows (the peers with data come from them); `council` is a
    publisher name or GSS code. `profile` is the council's profile (or None: each profile
    fact is replaced by a stated assumption, never another council's). Peers are `peers`
    (GSS codes), else the profile's, else the nearest same-tier ONS neighbours; only those
    with data are compared, and with fewer than `min_peers` the match-the-best-peers lever
    saves nothing (said in the narrative); `vat_basis` (GSS code -> 'net' / 'gross') flags
    peers publishing on another VAT basis. `totals` gives the peers' figures without every
    council's rows: per-council year totals (`publisher_code`, `financial_year`, `amount_gbp`,
    `is_complete`) or `aggregates.month_totals` over the dataset; `transactions` then need
    only hold the council's own rows. `review_years`, `simulations` and `seed` override
    the scenario files. Deterministic for a given seed; nothing raises on thin data.
    """
    publisher = resolve_publisher(transactions, council)
    specs = _as_specs(scenarios)
    if review_years is not None:
        specs = [with_review_years(s, review_years) for s in specs]
    base = build_baseline(transactions, publisher=publisher, year=year,
                          coverage_rule=coverage_rule)
    coverage = coverage_by_year(transactions, publisher, base.financial_year)
    own = transactions.loc[transactions["publisher_name"] == publisher]
    code = (str(own["publisher_code"].dropna().iloc[0]) if "publisher_code" in own.columns
            and own["publisher_code"].notna().any() else publisher)
    if totals is None or "is_complete" not in totals.columns:  # rows or month totals
        totals = council_year_totals(transactions if totals is None else totals)
    group = peer_group(code, profile=profile, peers=peers, council_name=publisher)
    complete = totals[(totals["publisher_code"].astype(str) == code) & totals["is_complete"]]
    peer_year = (base.financial_year if base.financial_year in set(complete["financial_year"])
                 else None)
    measure = compare_with_peers(totals, group, year=peer_year, population=population,
                                 outturn=outturn, min_peers=min_peers, vat_basis=vat_basis)
    targets = {s.name: (measure.target_gbp(s.peers.quantile) if s.peers is not None
                        else None) for s in specs}
    context = scenario_context(base.financial_year, max(s.review_years for s in specs),
                               profile=profile, peer=measure)
    comparison = pd.concat([compare_scenarios(base, [s], peer_target_gbp=targets[s.name],
                                              context=context) for s in specs],
                           ignore_index=True)
    n = simulations if simulations is not None else specs[0].simulations
    bands = pd.concat([monte_carlo(base, s, simulations=n, seed=seed,
                                   peer_target_gbp=targets[s.name], context=context)
                       for s in specs], ignore_index=True)
    torn = []
    for s in specs:
        t = tornado(base, s, metric=tornado_metric, peer_target_gbp=targets[s.name],
                    context=context)
        t.insert(0, "scenario", s.name)
        labels = [lever_label(s, p, base.financial_year) for p in t["lever"]]
        plan = context.microsoft
        if plan is not None:  # a mix change lands at the renewal, whatever year the file says
            when = (f"at the {plan.plan.table['financial_year'].iloc[0]} renewal"
                    if plan.n_renewals else "no renewal in the review: cannot happen")
            labels = [f"Microsoft licence mix ({when})"
                      if p.startswith("microsoft.licence_mix_change_pct") else x
                      for p, x in zip(t["lever"], labels, strict=True)]
        t.insert(2, "label", labels)
        # Inputs as applied: file £ costs are scaled to this baseline (grants never are).
        k = np.where(t["lever"].str.endswith(_SCALED), s.cost_scale(base.total_gbp), 1.0)
        t.insert(5, "low_applied", t["low_input"] * k)
        t.insert(6, "high_applied", t["high_input"] * k)
        torn.append(t)
    tornados = pd.concat(torn, ignore_index=True)
    mine = measure.table[measure.table["is_council"]]
    pop = float(mine["population"].iloc[0]) if len(mine) and mine["population"].notna().all() \
        else None
    return ReviewResult(base, tuple(specs), coverage, measure, pop, targets, comparison, bands,
                        tornados, n, seed if seed is not None else specs[0].seed,
                        tornado_metric, context)


#: Lever paths whose £ values `ScenarioSpec.cost_scale` scales (see scenarios._simulate).
_SCALED = ("one_off_cost_gbp", "old_run_cost_gbp", "new_run_cost_gbp", "setup_cost_gbp")

# --- labels and tables -------------------------------------------------------------------------

_PATH = re.compile(r"^(?P<head>\w+)(?:\[(?P<i>\d+)\])?(?:\.(?P<field>\w+))?(?:\[(?P<t>\d+)\])?$")
_HEADS = {"funding": "Funding settlement", "inflation": "Inflation",
          "microsoft": "Microsoft", "match_best_peers": "Match the best peers"}
_WHOLE = {"inflation.rate_pct[all years]": "Inflation, all review years (correlated path)"}
_FIELDS = {"change_pct": "", "rate_pct": "", "price_change_pct": "price rise",
           "licence_mix_change_pct": "licence mix", "one_off_cost_gbp": "one-off cost",
           "old_run_cost_gbp": "old run cost", "new_run_cost_gbp": "new run cost",
           "saving_pct": "saving %", "setup_cost_gbp": "set-up cost", "amount_gbp": "amount",
           "probability": "won or not", "gap_closed_pct": "share of gap closed",
           "renewal_uplift_pct": "uplift at each renewal",
           "pass_through_pct": "share passed to IT",
           "divergence_pp": "council's divergence from England"}


def lever_label(spec: ScenarioSpec, path: str, baseline_year: str | None = None) -> str:
    """Plain-English name of a lever's key path, e.g. 'Microsoft price rise, 2027-28'."""
    if path in _WHOLE:
        return _WHOLE[path]
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
    if head in items or head == "match_best_peers" or (head == "funding" and part):
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


