"""Spending-review scenarios: a baseline from spend data, projections, Monte Carlo, tornado.

Flow: `build_baseline(transactions)` → `load_scenario("flat-cash")` (or a user's YAML file; see
`scenarios.spec` for the schema) → `scenario_context(...)` (the council's profile facts:
Microsoft agreement, settlement path, in-house staff, peers; see `scenarios.context`) →
`project(baseline, spec, context=...)` for the deterministic path, `monte_carlo(...)` for
P10/P50/P90 bands, `tornado(...)` for sensitivity and `compare_scenarios(...)` for the table
finance colleagues read. All outputs are tidy DataFrames; presentation (narrative, formatted
tables, Excel) is in `spendkit.views.scenarios`.

The baseline is **third-party IT spend published as payments** (`BASELINE_NAME`): payments
over the publication threshold classified as IT. In-house IT staff, the largest part of a
council's IT cost, and payments below the threshold are not in it; a council profile's staff
cost and pay-award path are added beside it when given (`in_house_staff`, `total_it_cost`,
`gap_with_staff`), both shown.

Model (per review year t = 1..N, cash £; year 0 is the baseline year):

- price index P_t = Π(1 + inflation_s); inflation years are drawn as a correlated path when
  the file gives a correlation (default for CPI from reference data: its lag-1
  autocorrelation)
- Microsoft: with the council's agreement known, the Microsoft part of the baseline changes
  only at its renewals: × (1 + uplift × w_r,t) per renewal r (an EA: the renewal-uplift lever,
  default 9-14.4% from evidence; a CSP: the list change of its seat mix at each anniversary),
  and the licence-mix change × (1 + mix × w_1,t) from the first renewal; w is 1 from the
  financial year of the renewal for annual billing (paid in advance) and pro rata by month
  otherwise. Without an agreement: M_t = Π(1 + price_s)(1 + mix_s) (renewal dates unknown)
- run cost = non-Microsoft baseline × P_t + Microsoft baseline × M_t
- costs in £ from the file (legacy, set-up) × k, k = baseline ÷ sized_for_baseline_gbp
- legacy replacement, shared services, grants: as described in `scenarios.spec`
- match the best peers: gap = max(0, baseline − peer target), the target from like-for-like
  peers with data (`models.trends.peers`); no target, no saving (said in `notes`)
- IT spend = run cost + legacy run change − savings + one-off costs
- settlement = baseline × Π(1 + g_s): cash (the file's path), real (the file's path on the
  *central* inflation: fixed in cash when set) or settlement (the council's core spending
  power growth × pass-through share, with a drawn divergence in years not fixed in cash);
  envelope = settlement + grants (amount × probability; Bernoulli in Monte Carlo)
- gap to fund = IT spend − envelope; with staff: (IT spend + staff) − (envelope on both)
- real terms = cash / P_t (baseline-year prices on the scenario's own inflation path)

Money: the baseline is summed exactly (decimal) from the payments and converted to float once;
every projected figure is a modelled quantity (float £).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from spendkit.errors import InputError, NoDataError
from spendkit.models.scenarios.context import (
    BASELINE_NAME,
    ScenarioContext,
    default_renewal_uplift,
    scenario_context,
)
from spendkit.models.scenarios.spec import (
    Quantity,
    ScenarioSpec,
    levers,
    list_scenarios,
    load_scenario,
    parse_scenario,
    with_review_years,
    without_uncertainty,
)
from spendkit.models.trends.completeness import completeness_calendar
from spendkit.reference import economy
from spendkit.schema import require_columns
from spendkit.units.periods import financial_year, shift_financial_year

__all__ = [
    "BASELINE_NAME", "MEASURES", "STAFF_MEASURES", "Baseline", "NoDataError", "InputError",
    "ScenarioContext", "ScenarioSpec", "baseline_from_totals", "bind", "build_baseline",
    "compare_scenarios", "list_scenarios", "load_scenario", "monte_carlo", "parse_scenario",
    "project", "scenario_context", "tornado", "with_review_years", "without_uncertainty",
]

#: Measures in the projection output, in display order.
MEASURES: tuple[str, ...] = (
    "run_cost", "microsoft_licensing", "legacy_run_change", "one_off_costs",
    "shared_service_savings", "peer_savings", "it_spend", "settlement", "grants",
    "funding_envelope", "gap",
)
#: Measures added when the council profile gives in-house staff costs.
STAFF_MEASURES: tuple[str, ...] = ("in_house_staff", "total_it_cost", "envelope_with_staff",
                                   "gap_with_staff")


# --- baseline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """A council's third-party IT spend published as payments, by category, for one year."""

    publisher: str
    financial_year: str
    months_present: int
    coverage_rule: str
    scale_factor: float
    by_category: pd.DataFrame  # it_category, observed_gbp, run_rate_gbp, microsoft_gbp
    notes: tuple[str, ...] = field(default=())
    choice: str = ""  # how this year (or window) was chosen, in words
    window: str = ""  # the months the run-rate rests on, e.g. '2025-26' or 'Feb 2025-Jan 2026'

    @property
    def label(self) -> str:
        """What the baseline is: third-party IT spend published as payments."""
        return BASELINE_NAME

    @property
    def total_gbp(self) -> float:
        """Annual run-rate (£, after any coverage scaling)."""
        return float(self.by_category["run_rate_gbp"].sum())

    @property
    def observed_gbp(self) -> float:
        """The payments actually observed in the baseline months (£, before scaling)."""
        return float(self.by_category["observed_gbp"].sum())

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
                    ("baseline given as totals, not derived from transactions",),
                    "given as totals", financial_year)


def _complete_months(rows: pd.DataFrame) -> pd.DataFrame:
    """month (first day), financial_year, complete: complete months from the completeness
    calendar when the rows carry their source files, else every month with a payment."""
    if {"source_file", "publisher_code"} <= set(rows.columns):
        cal = completeness_calendar(rows)
        return pd.DataFrame({"month": cal["month"].to_numpy(),
                             "financial_year": cal["financial_year"].astype(str).to_numpy(),
                             "complete": cal["is_complete"].to_numpy(dtype=bool)})
    ts = pd.to_datetime(rows["payment_date"])
    months = ts.dt.to_period("M").dt.to_timestamp().dropna().drop_duplicates().sort_values()
    return pd.DataFrame({"month": months.to_numpy(),
                         "financial_year": financial_year(months).astype(str).to_numpy(),
                         "complete": True})


def _trailing_window(months: pd.DataFrame) -> pd.Timestamp | None:
    """The last month ending 12 consecutive complete months, within two years of the data's end."""
    if months.empty:
        return None
    complete = set(pd.to_datetime(months.loc[months["complete"], "month"]))
    last = pd.Timestamp(months["month"].max())
    for back in range(24):
        end = last - pd.DateOffset(months=back)
        if all(end - pd.DateOffset(months=k) in complete for k in range(12)):
            return end
    return None


def build_baseline(transactions: pd.DataFrame, *, publisher: str | None = None,
                   year: str | None = None, coverage_rule: str = "scale",
                   min_months: int = 6) -> Baseline:
    """Third-party IT spend published as payments, by `it_category`, for the best year there is.

    Months count as present when complete in the completeness calendar (a sparse or
    duplicated month is not), or, without source files, when they have any payment. The
    baseline is, in order:

    1. `year` when given (scaled to 12 months if partial; NoDataError only when it has none);
    2. the latest financial year in the data, when all 12 of its months are present;
    3. else the latest 12 consecutive present months (within two years of the data's end),
       labelled with the financial year they end in: a full year of actual payments;
    4. else, of the two latest financial years, the one with more present months (at least
       `min_months`), scaled up by 12 / months;
    5. else the financial year with the most present months (the latest on a tie), scaled,
       and said to be thin.

    `coverage_rule="flag"` keeps partial-year sums unscaled and says so. `choice` says which
    rule chose and why; nothing raises on thin data. Money is summed exactly, then converted to
    float once per category.
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
        raise InputError(f"publisher {publisher!r} not in transactions (found {publishers[:5]})")
    months = _complete_months(rows)
    per_year = (months[months["complete"]].groupby("financial_year").size()
                .reindex(sorted(months["financial_year"].unique()), fill_value=0))
    fy = financial_year(rows["payment_date"]).astype("string")
    paid_month = pd.to_datetime(rows["payment_date"]).dt.to_period("M").dt.to_timestamp()
    window_end = None
    if year is not None:
        n = int(per_year.get(year, 0))
        if n == 0:
            raise NoDataError(f"{publisher} {year}: no month of that financial year is present "
                              f"in the data (years with months: "
                              f"{', '.join(y for y, k in per_year.items() if k) or 'none'})")
        choice = f"{year}: the financial year asked for"
    else:
        latest = per_year.index[-1]
        end = _trailing_window(months)
        if per_year[latest] == 12:
            year, n = latest, 12
            choice = f"{year}: the latest financial year, all 12 months present"
        elif end is not None and (per_year[per_year == 12].empty or end > pd.Timestamp(
                f"{int(per_year[per_year == 12].index[-1][:4]) + 1}-03-01")):
            window_end = end
            year, n = str(financial_year(pd.Series([end])).iloc[0]), 12
            start = end - pd.DateOffset(months=11)
            choice = (f"the 12 months {start:%b %Y} to {end:%b %Y} (the latest 12 consecutive "
                      f"months present; {latest} has {per_year[latest]} of 12), as {year}'s "
                      "run-rate")
        else:
            recent = per_year.iloc[-2:]
            pick = recent[recent == recent.max()].index[-1]
            if per_year[pick] >= min_months:
                year, n = pick, int(per_year[pick])
                choice = (f"{year}: of the two latest financial years the one with more "
                          f"months present ({n} of 12), scaled up")
            else:
                best = per_year[per_year == per_year.max()].index[-1]
                year, n = best, int(per_year[best])
                choice = (f"{year}: the financial year with the most months present ({n} of "
                          f"12): a thin baseline, scaled up from "
                          f"{n} month{'' if n == 1 else 's'}")
    if window_end is not None:
        start = window_end - pd.DateOffset(months=11)
        in_window = ((paid_month >= start) & (paid_month <= window_end)).to_numpy()
        window = f"{start:%b %Y} to {window_end:%b %Y}"
    else:
        in_window = (fy == year).fillna(False).to_numpy()
        window = year
    it = rows[in_window & rows["is_it"].fillna(False).to_numpy()]
    cat = it["it_category"].fillna("").replace("", "uncategorised")
    is_ms = it["underlying_vendor"].fillna("").eq("Microsoft").to_numpy()
    frame = pd.DataFrame({"it_category": cat.to_numpy(), "amount": it["amount_gbp"].to_numpy(),
                          "ms": is_ms})
    total = frame.groupby("it_category", sort=True)["amount"].sum()
    ms_total = frame[frame["ms"]].groupby("it_category", sort=True)["amount"].sum()
    observed = pd.Series(total, dtype=object).map(float)
    ms_obs = pd.Series(ms_total, dtype=object).map(float).reindex(observed.index, fill_value=0.0)
    scale = 12.0 / n if coverage_rule == "scale" and n < 12 else 1.0
    notes = [f"{publisher} {window}: {n} of 12 months present"]
    if n < 12:
        notes.append(f"scaled up by 12/{n} = {scale:.3f}; annual payments (licence renewals) "
                     "in or out of those months move the run-rate" if scale != 1.0
                     else "partial year NOT scaled (coverage_rule='flag'): run-rate "
                          "understated")
    by_cat = pd.DataFrame({
        "it_category": observed.index.astype(str),
        "observed_gbp": observed.to_numpy(dtype=float),
        "run_rate_gbp": observed.to_numpy(dtype=float) * scale,
        "microsoft_gbp": ms_obs.to_numpy(dtype=float) * scale,
    }).reset_index(drop=True)
    return Baseline(publisher, str(year), n, coverage_rule, scale, by_cat, tuple(notes), choice,
                    window)


# --- binding a scenario to a council -------------------------------------------------------------


def _years(b: Baseline, n: int) -> list[str]:
    return [shift_financial_year(b.financial_year, t) for t in range(n + 1)]


def bind(spec: ScenarioSpec, baseline: Baseline, context: ScenarioContext) -> ScenarioSpec:
    """The scenario with its reference-driven levers made concrete for this council and years.

    CPI from reference data per review year (outturn fixed; forecast years uncertain), the EA
    renewal uplift from evidence when the agreement is known, the settlement's divergence in
    years not fixed in cash; `quantities` keeps only the levers this run uses (so a yearly
    Microsoft price path is not swung when the renewal dates are known).
    """
    years = _years(baseline, spec.review_years)[1:]
    changes: dict[str, object] = {}
    if spec.inflation_reference:
        cpi = economy.cpi_for_years(years)
        path = []
        for i, r in enumerate(cpi.itertuples(), start=1):
            uncertain = r.status != "outturn" and spec.inflation_sd_pct > 0
            path.append(Quantity(
                f"inflation.rate_pct[{i}]", float(r.rate_pct),
                "normal" if uncertain else None, None, None,
                spec.inflation_sd_pct if uncertain else None, -100.0, np.inf, "",
                f"CPI {r.calendar_year} {r.status}: {r.source[:120]}"))
        changes["inflation_pct"] = tuple(path)
        if spec.inflation_correlation is None:
            changes["inflation_correlation"] = round(economy.cpi_persistence()[0], 2)
    plan = context.microsoft
    if plan is not None and plan.agreement_type != "CSP" and spec.ms_renewal_uplift_pct is None:
        low, mid, high, source = default_renewal_uplift()
        changes["ms_renewal_uplift_pct"] = (
            Quantity("microsoft.renewal_uplift_pct", mid, minimum=-100.0, source=source)
            if spec.certain else
            Quantity("microsoft.renewal_uplift_pct", mid, "uniform", low, high, None, -100.0,
                     np.inf, source))
    if spec.funding_basis == "settlement":
        changes["funding_divergence_pp"] = tuple(
            Quantity(f"funding.divergence_pp[{i}]", 0.0,
                     "normal" if spec.funding_divergence_sd_pp > 0 else None, None, None,
                     spec.funding_divergence_sd_pp or None, -100.0, np.inf, "",
                     "council growth against England's: Medway +16.2% 2024-25 to 2026-27")
            for i, y in enumerate(years, start=1) if y not in context.settlement.fixed
            and context.settlement.basis[y] != "profile")
    bound = replace(spec, **changes)  # type: ignore[arg-type]
    used = levers(bound, price_path=plan is None,
                  renewal_uplift=plan is not None and plan.agreement_type != "CSP")
    seen: dict[str, Quantity] = {}
    for q in used:
        seen.setdefault(q.path, q)
    # File order first (draws keep their order across versions), then the bound levers.
    order = {q.path: i for i, q in enumerate(spec.quantities)}
    ranked = sorted(seen.values(), key=lambda q: (order.get(q.path, len(order)), q.path))
    return replace(bound, quantities=tuple(ranked))


def _context(baseline: Baseline, spec: ScenarioSpec,
             context: ScenarioContext | None) -> ScenarioContext:
    if context is not None and context.baseline_year == baseline.financial_year \
            and context.review_years >= spec.review_years:
        return context
    if context is not None:
        raise InputError(f"context is for {context.review_years} years from "
                         f"{context.baseline_year}; the run needs {spec.review_years} from "
                         f"{baseline.financial_year}: build it with scenario_context()")
    return scenario_context(baseline.financial_year, spec.review_years)


# --- projection engine ---------------------------------------------------------------------------


def _central(spec: ScenarioSpec) -> dict[str, np.ndarray]:
    return {q.path: np.array([q.value]) for q in spec.quantities}


def _simulate(b: Baseline, spec: ScenarioSpec, v: Mapping[str, np.ndarray],
              peer_target: float | None, ctx: ScenarioContext
              ) -> tuple[dict[str, np.ndarray], np.ndarray, list[str]]:
    """Every measure as an (n, N+1) array (column 0 = baseline year), the price index, notes."""
    n = max((len(a) for a in v.values()), default=1)
    N = spec.review_years
    years = np.arange(1, N + 1)
    labels = _years(b, N)[1:]
    notes: list[str] = []

    def val(q: Quantity) -> np.ndarray:
        return np.broadcast_to(v.get(q.path, np.array([q.value])), (n,))

    def path(qs: Iterable[Quantity]) -> np.ndarray:
        return np.stack([val(q) for q in qs], axis=1) / 100.0

    def col(q: Quantity) -> np.ndarray:
        return val(q)[:, None]

    infl = path(spec.inflation_pct)
    price = np.cumprod(1 + infl, axis=1)
    central_infl = np.array([q.value for q in spec.inflation_pct]) / 100.0

    mix = path(spec.ms_mix_change_pct)
    plan = ctx.microsoft
    if plan is None:
        ms_index = np.cumprod((1 + path(spec.ms_price_change_pct)) * (1 + mix), axis=1)
    else:
        weights = plan.weights[:, :N]
        ms_index = np.ones((n, N))
        changes = plan.plan.table["list_change_pct"].to_numpy(dtype=float) / 100.0
        for r in range(plan.n_renewals):
            if plan.agreement_type == "CSP" or spec.ms_renewal_uplift_pct is None:
                uplift = np.full((n, 1), changes[r])
            else:
                uplift = col(spec.ms_renewal_uplift_pct) / 100.0
            ms_index = ms_index * (1 + uplift * weights[r])
        mix_total = np.prod(1 + mix, axis=1, keepdims=True) - 1
        if plan.n_renewals:
            ms_index = ms_index * (1 + mix_total * weights[0])
        elif np.any(mix_total != 0):
            notes.append("the licence-mix change cannot happen: the agreement does not renew "
                         "within the review years")
    total0, ms0 = b.total_gbp, b.microsoft_gbp
    microsoft = ms0 * ms_index
    run = (total0 - ms0) * price + microsoft
    zeros = np.zeros((n, N))
    one_off, legacy_run, shared_sav, peer_sav, grants = (zeros.copy() for _ in range(5))

    k = spec.cost_scale(total0)
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
            notes.append("match the best peers saves nothing: no like-for-like peer target "
                         "(too few peers with data)")
        else:
            gap0 = max(0.0, total0 - float(peer_target))
            ramp = np.clip((years - spec.peers.start_year + 1) / spec.peers.ramp_years, 0.0,
                           1.0)
            peer_sav += col(spec.peers.gap_closed_pct) / 100.0 * gap0 * ramp * price

    if spec.funding_basis == "cash":
        fund = path(spec.funding_change_pct)
    elif spec.funding_basis == "real":
        # Set in cash at planning time on the central inflation path: it does not move with
        # the inflation that follows, so the envelope carries inflation risk, not cancels it.
        fund = (1 + path(spec.funding_change_pct)) * (1 + central_infl) - 1
    else:
        growth = np.array([ctx.settlement.growth_pct[y] for y in labels]) / 100.0
        divergence = {q.path: q for q in spec.funding_divergence_pp}
        extra = np.zeros((n, N))
        for t in range(N):
            q = divergence.get(f"funding.divergence_pp[{t + 1}]")
            if q is not None:
                extra[:, t] = val(q) / 100.0
        share = (col(spec.funding_pass_through_pct) / 100.0
                 if spec.funding_pass_through_pct is not None else 1.0)
        fund = share * (growth + extra)
    growth_index = np.cumprod(1 + fund, axis=1)
    settlement = total0 * growth_index

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
    staff = ctx.staff
    if staff is not None:
        pay = np.stack([np.full(n, staff.pay_award_pct[y] / 100.0)
                        if y in staff.pay_award_pct else infl[:, t]
                        for t, y in enumerate(labels)], axis=1)
        staff_cost = staff.baseline_gbp * np.cumprod(1 + pay, axis=1)
        envelope_staff = (total0 + staff.baseline_gbp) * growth_index + grants
        measures.update({
            "in_house_staff": staff_cost, "total_it_cost": it_spend + staff_cost,
            "envelope_with_staff": envelope_staff,
            "gap_with_staff": it_spend + staff_cost - envelope_staff})
        both = total0 + staff.baseline_gbp
        year0.update({"in_house_staff": staff.baseline_gbp, "total_it_cost": both,
                      "envelope_with_staff": both})
    full = {k: np.concatenate([np.full((n, 1), year0.get(k, 0.0)), a], axis=1)
            for k, a in measures.items()}
    price_full = np.concatenate([np.ones((n, 1)), price], axis=1)
    return full, price_full, notes


def _measures(ctx: ScenarioContext) -> tuple[str, ...]:
    return MEASURES + (STAFF_MEASURES if ctx.staff is not None else ())


def project(baseline: Baseline, spec: ScenarioSpec, *, peer_target_gbp: float | None = None,
            context: ScenarioContext | None = None) -> pd.DataFrame:
    """Deterministic projection (every lever at its central value), tidy.

    Columns: scenario, financial_year, year_index (0 = baseline year), measure, cash_gbp,
    real_gbp (baseline-year prices on the scenario's inflation path). Sorted by year, then
    measure in MEASURES (+ STAFF_MEASURES with staff) order. `attrs["notes"]` says what a
    lever could not do (no peer target; no renewal for a licence-mix change).
    """
    ctx = _context(baseline, spec, context)
    spec = bind(spec, baseline, ctx)
    measures, price, notes = _simulate(baseline, spec, _central(spec), peer_target_gbp, ctx)
    labels = _years(baseline, spec.review_years)
    names = _measures(ctx)
    frames = [pd.DataFrame({"scenario": spec.name, "financial_year": labels,
                            "year_index": np.arange(len(labels)), "measure": m,
                            "cash_gbp": measures[m][0], "real_gbp": measures[m][0] / price[0]})
              for m in names]
    out = pd.concat(frames, ignore_index=True)
    out["measure"] = pd.Categorical(out["measure"], categories=list(names), ordered=True)
    out = out.sort_values(["year_index", "measure"], ignore_index=True)
    out.attrs["notes"] = notes
    return out


def _draws(spec: ScenarioSpec, n: int, seed: int) -> dict[str, np.ndarray]:
    """Seeded draws of every lever, in file order; correlated inflation years as one path."""
    rng = np.random.default_rng(seed)
    rho = spec.inflation_correlation or 0.0
    inflation = [q for q in dict.fromkeys(spec.inflation_pct) if q.uncertain]
    group = {q.path for q in inflation} if rho > 0 and len(inflation) > 1 else set()
    out: dict[str, np.ndarray] = {}
    for q in spec.quantities:
        if q.path in out:
            continue
        if q.path in group:
            # An AR(1) path in normal scores: each year keeps its own distribution, and a
            # high year tends to follow a high year (correlation rho between neighbours).
            z = np.empty((n, len(inflation)))
            z[:, 0] = rng.standard_normal(n)
            for t in range(1, len(inflation)):
                z[:, t] = rho * z[:, t - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
            for t, member in enumerate(inflation):
                out[member.path] = member.from_normal(z[:, t])
            continue
        out[q.path] = q.sample(rng, n)
    return out


def monte_carlo(baseline: Baseline, spec: ScenarioSpec, *, simulations: int | None = None,
                seed: int | None = None, peer_target_gbp: float | None = None,
                measures: Sequence[str] = ("it_spend", "funding_envelope", "gap"),
                context: ScenarioContext | None = None) -> pd.DataFrame:
    """Monte Carlo percentile bands (P10/P50/P90 and mean) per year, cash and real, tidy.

    Draws every uncertain lever from its distribution with a seeded numpy Generator
    (`seed` defaults to the file's monte_carlo.seed); inflation years correlated as a path
    when the scenario says so. Columns: scenario, financial_year, year_index, measure, basis
    ('cash'/'real'), p10, p50, p90, mean.
    """
    n = simulations if simulations is not None else spec.simulations
    if n < 1:
        raise InputError(f"simulations must be at least 1, found {n}")
    ctx = _context(baseline, spec, context)
    known = _measures(ctx)
    unknown = sorted(set(measures) - set(known))
    if unknown:
        raise InputError(f"unknown measure(s) {unknown}; expected some of {known}")
    spec = bind(spec, baseline, ctx)
    values, price, _ = _simulate(baseline, spec, _draws(spec, n, spec.seed if seed is None
                                                        else seed), peer_target_gbp, ctx)
    labels = _years(baseline, spec.review_years)
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
#: The tornado's single lever for a correlated inflation path.
INFLATION_PATH = "inflation.rate_pct[all years]"


def _metric(values: Mapping[str, np.ndarray], metric: str) -> np.ndarray:
    if metric == "total_gap":
        return values["gap"][:, 1:].sum(axis=1)
    if metric == "final_year_gap":
        return values["gap"][:, -1]
    return values["it_spend"][:, 1:].sum(axis=1)


def tornado(baseline: Baseline, spec: ScenarioSpec, *, metric: str = "total_gap",
            peer_target_gbp: float | None = None,
            context: ScenarioContext | None = None) -> pd.DataFrame:
    """Sensitivity: each uncertain lever at its low and high with the others central.

    A correlated inflation path swings as one lever (every year at its low, then its high).
    `metric`: 'total_gap' (cash gap summed over the review years), 'final_year_gap' or
    'total_it_spend'. Columns: lever, low_input, high_input, central, at_low, at_high, swing,
    basis ('sourced' when the file or reference data names where the range comes from, else
    'assumption'), source; sorted by swing (largest first), then lever name.
    """
    if metric not in _METRICS:
        raise InputError(f"metric {metric!r}: expected one of {list(_METRICS)}")
    ctx = _context(baseline, spec, context)
    spec = bind(spec, baseline, ctx)
    central_values = _central(spec)

    def run(values: Mapping[str, np.ndarray]) -> float:
        return float(_metric(_simulate(baseline, spec, values, peer_target_gbp, ctx)[0],
                             metric)[0])

    central = run(central_values)
    uncertain = list(spec.uncertain_quantities())
    levers: list[tuple[str, list[Quantity]]] = []
    inflation = [q for q in dict.fromkeys(spec.inflation_pct) if q.uncertain]
    grouped = (spec.inflation_correlation or 0) > 0 and len(inflation) > 1
    for q in uncertain:
        if grouped and q in inflation:
            if q is inflation[0]:
                levers.append((INFLATION_PATH, inflation))
            continue
        levers.append((q.path, [q]))
    rows = []
    for name, members in levers:
        results = []
        for side in (0, 1):
            vals = dict(central_values)
            for q in members:
                vals[q.path] = np.array([q.bounds()[side]])
            results.append(run(vals))
        lo = members[0].bounds()[0]
        hi = members[0].bounds()[1]
        sourced = all(q.source for q in members)
        source = "; ".join(dict.fromkeys(q.source for q in members if q.source)) or (
            "assumption" + (f" (central: {members[0].note})" if members[0].note else ""))
        rows.append((name, lo, hi, central, results[0], results[1],
                     abs(results[1] - results[0]), "sourced" if sourced else "assumption",
                     source))
    table = pd.DataFrame(rows, columns=["lever", "low_input", "high_input", "central",
                                        "at_low", "at_high", "swing", "basis", "source"])
    table.attrs["metric"] = metric
    return table.sort_values(["swing", "lever"], ascending=[False, True], ignore_index=True)


def compare_scenarios(baseline: Baseline, specs: Sequence[ScenarioSpec], *,
                      peer_target_gbp: float | None = None,
                      context: ScenarioContext | None = None) -> pd.DataFrame:
    """One row per scenario and year: IT spend, funding envelope, gap (cash and real).

    Also the cumulative cash gap from the first review year, and with in-house staff (council
    profile) the staff cost, total IT cost and gap including staff. Scenarios keep the order
    given; years ascend. Scenario names must be unique.
    """
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise InputError(f"scenario names must be unique, found {names}")
    rows = []
    for spec in specs:
        long = project(baseline, spec, peer_target_gbp=peer_target_gbp, context=context)
        keep = long[long["measure"].isin(["it_spend", "funding_envelope", "grants", "gap",
                                          *STAFF_MEASURES])]
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
        })
        if ("cash_gbp", "in_house_staff") in wide.columns:
            for m in STAFF_MEASURES:
                flat[f"{m}_gbp"] = wide[("cash_gbp", m)].to_numpy()
        flat = flat.sort_values("year_index", ignore_index=True)
        flat["cumulative_gap_gbp"] = flat["gap_gbp"].cumsum()
        if "gap_with_staff_gbp" in flat.columns:
            flat["cumulative_gap_with_staff_gbp"] = flat["gap_with_staff_gbp"].cumsum()
        rows.append(flat)
    return pd.concat(rows, ignore_index=True)
