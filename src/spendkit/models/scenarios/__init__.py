"""Spending-review scenarios: an IT baseline from spend data, projections, Monte Carlo, tornado.

Flow: `build_baseline(transactions)` → `load_scenario("flat-cash")` (or a user's YAML file; see
`scenarios_spec` for the schema) → `project(baseline, spec)` for the deterministic path,
`monte_carlo(...)` for P10/P50/P90 bands, `tornado(...)` for sensitivity and
`compare_scenarios(...)` for the table finance colleagues read (`export_comparison` writes it
to Excel). All outputs are tidy DataFrames.

Model (per review year t = 1..N, cash £; year 0 is the baseline year):

- price index P_t = Π(1 + inflation_s); Microsoft index M_t = Π(1 + price_s)(1 + mix_s)
- run cost = non-Microsoft baseline × P_t + Microsoft baseline × M_t
- costs in £ from the file (legacy, set-up) × k, k = baseline ÷ sized_for_baseline_gbp (1
  when the file does not say what baseline it was sized for)
- legacy replacement: one-off cost in its year; new run cost (× P_t) from that year; the old
  run cost (inside the baseline) stops after `dual_running_years`
- shared service: saving % × the covered categories' cost × ramp, ramp = min(1, (t − start +
  1) / ramp_years); set-up cost as a one-off in the start year. Several shared services each
  apply to the un-shared cost (they add, not compound).
- match the best peers: gap = max(0, baseline − peer target); saving = gap × gap_closed % ×
  ramp × P_t (the target is held in real terms)
- IT spend = run cost + legacy run change − savings + one-off costs
- settlement = baseline IT spend × Π(1 + funding_s) (cash basis) or × Π((1 + funding_s)(1 +
  inflation_s)) (real basis); grants are added as amount × probability (deterministic) or
  amount × Bernoulli(probability) (Monte Carlo); funding envelope = settlement + grants
- gap to fund = IT spend − funding envelope (positive = shortfall)
- real terms = cash / P_t, i.e. in baseline-year prices on the scenario's own inflation path
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spendkit.errors import InputError, NoDataError
from spendkit.models.scenarios.spec import (
    Quantity,
    ScenarioSpec,
    list_scenarios,
    load_scenario,
    parse_scenario,
    with_review_years,
    without_uncertainty,
)
from spendkit.schema import require_columns
from spendkit.units.periods import financial_year, shift_financial_year
from spendkit.views.safe import safe_cell_text

__all__ = [
    "MEASURES", "Baseline", "NoDataError", "ReferenceDataError", "InputError",
    "ScenarioSpec", "baseline_from_totals", "build_baseline", "compare_scenarios",
    "export_comparison", "list_scenarios", "load_scenario", "monte_carlo", "parse_scenario",
    "peer_benchmark", "peer_target_gbp", "project", "safe_cell_text", "tornado",
    "with_review_years", "without_uncertainty",
]

#: Measures in the projection output, in display order.
MEASURES: tuple[str, ...] = (
    "run_cost", "microsoft_licensing", "legacy_run_change", "one_off_costs",
    "shared_service_savings", "peer_savings", "it_spend", "settlement", "grants",
    "funding_envelope", "gap",
)


# --- baseline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """A council's IT run-rate by category for one financial year, with its coverage."""

    publisher: str
    financial_year: str
    months_present: int
    coverage_rule: str
    scale_factor: float
    by_category: pd.DataFrame  # it_category, observed_gbp, run_rate_gbp, microsoft_gbp
    notes: tuple[str, ...] = field(default=())

    @property
    def total_gbp(self) -> float:
        """Annual IT run-rate (£, after any coverage scaling)."""
        return float(self.by_category["run_rate_gbp"].sum())

    @property
    def microsoft_gbp(self) -> float:
        """Microsoft-licensing part of the run-rate (£)."""
        return float(self.by_category["microsoft_gbp"].sum())

    def split(self, categories: Sequence[str]) -> tuple[float, float]:
        """(non-Microsoft £, Microsoft £) of the run-rate in `categories` (empty = all)."""
        rows = self.by_category
        if categories:
            rows = rows[rows["it_category"].isin(list(categories))]
        ms = float(rows["microsoft_gbp"].sum())
        return float(rows["run_rate_gbp"].sum()) - ms, ms


def baseline_from_totals(by_category: Mapping[str, float], *, financial_year: str,
                         microsoft_gbp: Mapping[str, float] | None = None,
                         publisher: str = "council") -> Baseline:
    """A Baseline from known annual totals by IT category (for budgets held outside the data)."""
    ms = microsoft_gbp or {}
    unknown = sorted(set(ms) - set(by_category))
    if unknown:
        raise InputError(f"microsoft_gbp categories {unknown} are not in by_category")
    cats = sorted(by_category)
    frame = pd.DataFrame({
        "it_category": cats,
        "observed_gbp": [float(by_category[c]) for c in cats],
        "run_rate_gbp": [float(by_category[c]) for c in cats],
        "microsoft_gbp": [float(ms.get(c, 0.0)) for c in cats],
    })
    return Baseline(publisher, financial_year, 12, "given", 1.0, frame,
                    ("baseline given as totals, not derived from transactions",))


def _months_by_year(dates: pd.Series) -> pd.DataFrame:
    """Distinct calendar months with any payment, counted per financial year."""
    ts = pd.to_datetime(dates)
    months = pd.DataFrame({"financial_year": financial_year(ts),
                           "month": ts.dt.year * 100 + ts.dt.month}).dropna().drop_duplicates()
    return months.groupby("financial_year").size().rename("months_present").reset_index()


def build_baseline(transactions: pd.DataFrame, *, publisher: str | None = None,
                   year: str | None = None, coverage_rule: str = "scale",
                   min_months: int = 6) -> Baseline:
    """IT run-rate by `it_category` for one council's latest complete financial year.

    Coverage is the number of calendar months in the year with *any* payment (IT or not): a
    month with no rows at all is missing data, not a fall. The year used is `year`, else the
    latest with 12 months, else the latest with at least `min_months`. With fewer than 12
    months, `coverage_rule="scale"` multiplies by 12 / months (stated in `notes`);
    `coverage_rule="flag"` keeps the observed sums and says so. Below `min_months`,
    NoDataError. Money is summed exactly, then converted to float for modelling.
    """
    if coverage_rule not in {"scale", "flag"}:
        raise InputError(f"coverage_rule {coverage_rule!r}: expected 'scale' or 'flag'")
    require_columns(transactions, ("publisher_name", "payment_date", "amount_gbp", "is_it",
                                   "it_category", "underlying_vendor"), "build_baseline")
    publishers = sorted(transactions["publisher_name"].dropna().unique())
    if publisher is None:
        if len(publishers) != 1:
            raise InputError(f"transactions hold {len(publishers)} publishers "
                                     f"{publishers[:5]}; pass publisher=")
        publisher = publishers[0]
    rows = transactions[transactions["publisher_name"] == publisher]
    if rows.empty:
        raise InputError(f"publisher {publisher!r} not in transactions "
                                 f"(found {publishers[:5]})")
    coverage = _months_by_year(rows["payment_date"])
    if year is None:
        full = coverage[coverage["months_present"] >= 12]
        pool = full if not full.empty else coverage[coverage["months_present"] >= min_months]
        if pool.empty:
            raise NoDataError(f"{publisher}: no financial year has at least {min_months} "
                                f"months of payments (coverage {coverage.to_dict('records')})")
        year = str(pool["financial_year"].max())
    got = coverage.loc[coverage["financial_year"] == year, "months_present"]
    months = int(got.iloc[0]) if not got.empty else 0
    if months < min_months:
        raise NoDataError(f"{publisher} {year}: {months} of 12 months have payments; "
                            f"expected at least {min_months} for a baseline")
    fy = financial_year(rows["payment_date"])
    it = rows[(fy == year).fillna(False).to_numpy() & rows["is_it"].fillna(False).to_numpy()]
    cat = it["it_category"].fillna("").replace("", "uncategorised")
    is_ms = it["underlying_vendor"].fillna("").eq("Microsoft").to_numpy()
    frame = pd.DataFrame({"it_category": cat.to_numpy(), "amount": it["amount_gbp"].to_numpy(),
                          "ms": is_ms})
    # Sum in exact decimal, convert once per category.
    total = frame.groupby("it_category", sort=True)["amount"].sum()
    ms_total = frame[frame["ms"]].groupby("it_category", sort=True)["amount"].sum()
    observed = pd.Series(total, dtype=object).map(float)
    ms_obs = pd.Series(ms_total, dtype=object).map(float).reindex(observed.index, fill_value=0.0)
    scale = 12.0 / months if coverage_rule == "scale" and months < 12 else 1.0
    notes = [f"{publisher} {year}: {months} of 12 months have payments"]
    if months < 12:
        notes.append(f"scaled up by 12/{months} = {scale:.3f}" if scale != 1.0
                     else "partial year NOT scaled (coverage_rule='flag'): run-rate understated")
    by_cat = pd.DataFrame({
        "it_category": observed.index.astype(str),
        "observed_gbp": observed.to_numpy(dtype=float),
        "run_rate_gbp": observed.to_numpy(dtype=float) * scale,
        "microsoft_gbp": ms_obs.to_numpy(dtype=float) * scale,
    }).reset_index(drop=True)
    return Baseline(publisher, year, months, coverage_rule, scale, by_cat, tuple(notes))


# --- peers -------------------------------------------------------------------------------------


def peer_benchmark(transactions: pd.DataFrame, population: Mapping[str, float] | pd.Series, *,
                   year: str | None = None, min_months: int = 6) -> pd.DataFrame:
    """IT spend per head for every council in the data (annualised by coverage), sorted.

    `population` maps publisher_name → residents (e.g. from package_data/reference/population.csv).
    Councils without a population or with fewer than `min_months` are left out (listed in
    `.attrs["excluded"]`). Columns: publisher_name, financial_year, months_present,
    it_spend_gbp, population, it_spend_per_head_gbp.
    """
    pop = pd.Series(population, dtype=float)
    out, excluded = [], []
    for name in sorted(transactions["publisher_name"].dropna().unique()):
        try:
            b = build_baseline(transactions, publisher=name, year=year, min_months=min_months)
        except NoDataError:
            excluded.append(name)
            continue
        if name not in pop.index or not pop[name] > 0:
            excluded.append(name)
            continue
        out.append((name, b.financial_year, b.months_present, b.total_gbp, float(pop[name])))
    table = pd.DataFrame(out, columns=["publisher_name", "financial_year", "months_present",
                                       "it_spend_gbp", "population"])
    table["it_spend_per_head_gbp"] = table["it_spend_gbp"] / table["population"]
    table = table.sort_values(["it_spend_per_head_gbp", "publisher_name"], ignore_index=True)
    table.attrs["excluded"] = excluded
    return table


def peer_target_gbp(benchmark: pd.DataFrame, quantile: float, population: float) -> float:
    """Annual IT spend this council would have at the peers' `quantile` of spend per head.

    Lower spend per head is "best": quantile 0.25 is the best quartile, 0.1 the best decile.
    """
    if benchmark.empty:
        raise InputError("peer benchmark is empty: no councils to compare with")
    per_head = float(np.quantile(benchmark["it_spend_per_head_gbp"].to_numpy(), quantile))
    return per_head * float(population)


# --- projection engine ---------------------------------------------------------------------------


def _central(spec: ScenarioSpec) -> dict[str, np.ndarray]:
    return {q.path: np.array([q.value]) for q in spec.quantities}


def _simulate(b: Baseline, spec: ScenarioSpec, v: Mapping[str, np.ndarray],
              peer_target: float | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every measure as an (n, N+1) array (column 0 = baseline year), and the price index."""
    n = max(len(a) for a in v.values()) if v else 1
    years = np.arange(1, spec.review_years + 1)

    def path(qs: Iterable[Quantity]) -> np.ndarray:
        return np.stack([np.broadcast_to(v[q.path], (n,)) for q in qs], axis=1) / 100.0

    def col(q: Quantity) -> np.ndarray:
        return np.broadcast_to(v[q.path], (n,))[:, None]

    infl = path(spec.inflation_pct)
    price = np.cumprod(1 + infl, axis=1)
    ms_index = np.cumprod((1 + path(spec.ms_price_change_pct))
                          * (1 + path(spec.ms_mix_change_pct)), axis=1)
    fund = path(spec.funding_change_pct)
    if spec.funding_basis == "real":
        fund = (1 + fund) * (1 + infl) - 1
    total0, ms0 = b.total_gbp, b.microsoft_gbp
    settlement = total0 * np.cumprod(1 + fund, axis=1)
    microsoft = ms0 * ms_index
    run = (total0 - ms0) * price + microsoft
    zeros = np.zeros((n, spec.review_years))
    one_off, legacy_run, shared_sav, peer_sav, grants = (zeros.copy() for _ in range(5))

    k = spec.cost_scale(total0)  # file £ costs sized for another baseline (1 if unsized)
    for item in spec.legacy:
        one_off[:, item.year - 1] += k * col(item.one_off_cost_gbp)[:, 0]
        new_on = years >= item.year
        old_off = years >= item.year + item.dual_running_years
        legacy_run += k * (col(item.new_run_cost_gbp) * new_on
                           - col(item.old_run_cost_gbp) * old_off) * price
    for item in spec.shared:
        other, ms = b.split(item.categories)
        covered = other * price + ms * ms_index
        ramp = np.clip((years - item.start_year + 1) / item.ramp_years, 0.0, 1.0)
        shared_sav += col(item.saving_pct) / 100.0 * ramp * covered
        one_off[:, item.start_year - 1] += k * col(item.setup_cost_gbp)[:, 0]
    for item in spec.grants:
        grants[:, item.year - 1] += (col(item.amount_gbp) * col(item.probability))[:, 0]
    if spec.peers is not None:
        if peer_target is None:
            raise InputError(
                f"{spec.source}: match_best_peers needs peer_target_gbp (see peer_benchmark "
                "and peer_target_gbp)")
        gap0 = max(0.0, total0 - float(peer_target))
        ramp = np.clip((years - spec.peers.start_year + 1) / spec.peers.ramp_years, 0.0, 1.0)
        peer_sav += col(spec.peers.gap_closed_pct) / 100.0 * gap0 * ramp * price

    it_spend = run + legacy_run - shared_sav - peer_sav + one_off
    envelope = settlement + grants
    measures = {
        "run_cost": run, "microsoft_licensing": microsoft, "legacy_run_change": legacy_run,
        "one_off_costs": one_off, "shared_service_savings": shared_sav,
        "peer_savings": peer_sav, "it_spend": it_spend, "settlement": settlement,
        "grants": grants, "funding_envelope": envelope, "gap": it_spend - envelope,
    }
    year0 = {"run_cost": total0, "microsoft_licensing": ms0, "it_spend": total0,
             "settlement": total0, "funding_envelope": total0}
    full = {k: np.concatenate([np.full((n, 1), year0.get(k, 0.0)), a], axis=1)
            for k, a in measures.items()}
    price_full = np.concatenate([np.ones((n, 1)), price], axis=1)
    return full, price_full


def _years(b: Baseline, spec: ScenarioSpec) -> list[str]:
    return [shift_financial_year(b.financial_year, t) for t in range(spec.review_years + 1)]


def project(baseline: Baseline, spec: ScenarioSpec, *,
            peer_target_gbp: float | None = None) -> pd.DataFrame:
    """Deterministic projection (every lever at its central value), tidy.

    Columns: scenario, financial_year, year_index (0 = baseline year), measure, cash_gbp,
    real_gbp (baseline-year prices on the scenario's inflation path). Sorted by year, then
    measure in MEASURES order.
    """
    measures, price = _simulate(baseline, spec, _central(spec), peer_target_gbp)
    labels = _years(baseline, spec)
    frames = [pd.DataFrame({"scenario": spec.name, "financial_year": labels,
                            "year_index": np.arange(len(labels)), "measure": m,
                            "cash_gbp": measures[m][0], "real_gbp": measures[m][0] / price[0]})
              for m in MEASURES]
    out = pd.concat(frames, ignore_index=True)
    out["measure"] = pd.Categorical(out["measure"], categories=list(MEASURES), ordered=True)
    return out.sort_values(["year_index", "measure"], ignore_index=True)


def _draws(spec: ScenarioSpec, n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    # File order fixes which draws each lever gets, so the same seed gives the same output.
    return {q.path: q.sample(rng, n) for q in spec.quantities}


def monte_carlo(baseline: Baseline, spec: ScenarioSpec, *, simulations: int | None = None,
                seed: int | None = None, peer_target_gbp: float | None = None,
                measures: Sequence[str] = ("it_spend", "funding_envelope", "gap"),
                ) -> pd.DataFrame:
    """Monte Carlo percentile bands (P10/P50/P90 and mean) per year, cash and real, tidy.

    Draws every uncertain lever from its distribution with a seeded numpy Generator
    (`seed` defaults to the file's monte_carlo.seed). Columns: scenario, financial_year,
    year_index, measure, basis ('cash'/'real'), p10, p50, p90, mean.
    """
    n = simulations if simulations is not None else spec.simulations
    if n < 1:
        raise InputError(f"simulations must be at least 1, found {n}")
    unknown = sorted(set(measures) - set(MEASURES))
    if unknown:
        raise InputError(f"unknown measure(s) {unknown}; expected some of {MEASURES}")
    values, price = _simulate(baseline, spec, _draws(spec, n, spec.seed if seed is None
                                                     else seed), peer_target_gbp)
    labels = _years(baseline, spec)
    frames = []
    for m in measures:
        for basis, arr in (("cash", values[m]), ("real", values[m] / price)):
            p10, p50, p90 = np.percentile(arr, [10, 50, 90], axis=0)
            frames.append(pd.DataFrame({
                "scenario": spec.name, "financial_year": labels,
                "year_index": np.arange(len(labels)), "measure": m, "basis": basis,
                "p10": p10, "p50": p50, "p90": p90, "mean": arr.mean(axis=0)}))
    return pd.concat(frames, ignore_index=True)


_METRICS = ("total_gap", "final_year_gap", "total_it_spend")


def _metric(values: Mapping[str, np.ndarray], metric: str) -> np.ndarray:
    if metric == "total_gap":
        return values["gap"][:, 1:].sum(axis=1)
    if metric == "final_year_gap":
        return values["gap"][:, -1]
    return values["it_spend"][:, 1:].sum(axis=1)


def tornado(baseline: Baseline, spec: ScenarioSpec, *, metric: str = "total_gap",
            peer_target_gbp: float | None = None) -> pd.DataFrame:
    """Sensitivity: each uncertain lever at its low and high with the others central.

    `metric`: 'total_gap' (cash gap summed over the review years), 'final_year_gap' or
    'total_it_spend'. Columns: lever, low_input, high_input, central, at_low, at_high, swing;
    sorted by swing (largest first), then lever name.
    """
    if metric not in _METRICS:
        raise InputError(f"metric {metric!r}: expected one of {list(_METRICS)}")
    central_values = _central(spec)
    central = float(_metric(_simulate(baseline, spec, central_values, peer_target_gbp)[0],
                            metric)[0])
    rows = []
    for q in spec.uncertain_quantities():
        lo, hi = q.bounds()
        results = []
        for x in (lo, hi):
            vals = dict(central_values)
            vals[q.path] = np.array([x])
            results.append(float(_metric(_simulate(baseline, spec, vals, peer_target_gbp)[0],
                                         metric)[0]))
        rows.append((q.path, lo, hi, central, results[0], results[1],
                     abs(results[1] - results[0])))
    table = pd.DataFrame(rows, columns=["lever", "low_input", "high_input", "central",
                                        "at_low", "at_high", "swing"])
    table.attrs["metric"] = metric
    return table.sort_values(["swing", "lever"], ascending=[False, True], ignore_index=True)


def compare_scenarios(baseline: Baseline, specs: Sequence[ScenarioSpec], *,
                      peer_target_gbp: float | None = None) -> pd.DataFrame:
    """One row per scenario and year: IT spend, funding envelope, gap (cash and real).

    Also the cumulative cash gap from the first review year. Scenarios keep the order given;
    years ascend. Scenario names must be unique.
    """
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise InputError(f"scenario names must be unique, found {names}")
    rows = []
    for spec in specs:
        long = project(baseline, spec, peer_target_gbp=peer_target_gbp)
        keep = long[long["measure"].isin(["it_spend", "funding_envelope", "grants", "gap"])]
        wide = keep.pivot_table(index=["financial_year", "year_index"], columns="measure",
                                values=["cash_gbp", "real_gbp"], observed=True)
        flat = pd.DataFrame({
            "scenario": spec.name,
            "title": spec.title,
            "financial_year": wide.index.get_level_values(0),
            "year_index": wide.index.get_level_values(1),
            "it_spend_gbp": wide[("cash_gbp", "it_spend")].to_numpy(),
            "funding_envelope_gbp": wide[("cash_gbp", "funding_envelope")].to_numpy(),
            "grants_gbp": wide[("cash_gbp", "grants")].to_numpy(),
            "gap_gbp": wide[("cash_gbp", "gap")].to_numpy(),
            "it_spend_real_gbp": wide[("real_gbp", "it_spend")].to_numpy(),
            "funding_envelope_real_gbp": wide[("real_gbp", "funding_envelope")].to_numpy(),
            "gap_real_gbp": wide[("real_gbp", "gap")].to_numpy(),
        }).sort_values("year_index", ignore_index=True)
        flat["cumulative_gap_gbp"] = flat["gap_gbp"].cumsum()
        rows.append(flat)
    return pd.concat(rows, ignore_index=True)


def export_comparison(path: str | Path, comparison: pd.DataFrame, **kwargs: Any) -> Path:
    """Write the comparison to Excel (see `scenarios_excel.export_comparison`)."""
    from spendkit.views.scenarios_excel import export_comparison as _export

    return _export(path, comparison, **kwargs)
