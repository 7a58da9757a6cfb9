"""What a scenario run knows about the council beyond its payments, and where each fact comes from.

A spending-review projection starts from the council's *third-party IT spend published as
payments* (the baseline) and needs four facts the payments cannot give:

* its Microsoft agreement (council profile): when prices reset, so that a list rise or a
  licence-mix change lands at a renewal date (`MicrosoftPlan`, from
  `models.licensing.renewals`);
* its settlement: its own core spending power path (council profile), fixed in cash where the
  profile says a multi-year settlement fixed it; else England's path from the final settlement,
  labelled as a fallback and given a yearly divergence (`SettlementPath`);
* its in-house IT staff cost and pay-award path (council profile), which published payments
  never include (`StaffPath`);
* its like-for-like peers (`models.trends.peers.PeerMeasure`).

`scenario_context(baseline, review_years, profile, peer)` gathers them; without a profile each
says which assumption stands in, and never borrows another council's facts. `assumptions()`
lists what a run rests on: item, value, source (or "assumption") and confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from spendkit.models.licensing.renewals import RenewalPlan, renewal_plan
from spendkit.models.trends.peers import PeerMeasure
from spendkit.reference import economy
from spendkit.reference.microsoft import renewal_evidence
from spendkit.reference.profiles import CouncilProfile
from spendkit.units.periods import (
    financial_year_end,
    financial_year_label,
    financial_year_start,
    parse_financial_year,
    shift_financial_year,
)

__all__ = ["BASELINE_NAME", "MicrosoftPlan", "ScenarioContext", "SettlementPath", "StaffPath",
           "default_renewal_uplift", "scenario_context"]

#: What the scenario baseline is, in every output: not the council's whole IT budget.
BASELINE_NAME = "third-party IT spend published as payments"


def _review_years(baseline_year: str, n: int) -> list[str]:
    return [shift_financial_year(baseline_year, t) for t in range(1, n + 1)]


# --- Microsoft ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MicrosoftPlan:
    """When the council's Microsoft prices reset within the review, and how much of each reset
    falls in each review year (`weights`, one row per renewal, one column per review year)."""

    plan: RenewalPlan
    weights: np.ndarray
    source: str

    @property
    def agreement_type(self) -> str:
        """EA, MCA-E, CSP or other."""
        return self.plan.agreement_type

    @property
    def n_renewals(self) -> int:
        """Renewals inside the review years."""
        return int(self.weights.shape[0])

    def describe(self) -> str:
        """One line for captions: the agreement and its renewals in the review."""
        return self.plan.describe()


def _microsoft_plan(profile: CouncilProfile | None, years: list[str]) -> MicrosoftPlan | None:
    if profile is None or not profile.microsoft:
        return None
    current = max(profile.microsoft, key=lambda a: a.start)
    first, last = financial_year_start(years[0]), financial_year_end(years[-1])
    plan = renewal_plan(current, first, date.fromordinal(last.toordinal() + 1))
    weights = np.zeros((len(plan.table), len(years)))
    for i, when in enumerate(plan.table["renewal_date"]):
        t = years.index(str(plan.table["financial_year"].iloc[i]))
        if current.billing == "annual":
            # Paid in advance at each anniversary: the whole year's change is cash in the
            # financial year the renewal falls in.
            weights[i, t:] = 1.0
        else:
            end = financial_year_end(years[t])
            months = (end.year - when.year) * 12 + end.month - when.month + 1
            weights[i, t] = months / 12
            weights[i, t + 1:] = 1.0
    source = current.source or profile.path
    return MicrosoftPlan(plan, weights, source)


def default_renewal_uplift() -> tuple[float, float, float, str]:
    """(low, central, high, source) of the uplift at an EA renewal, from the evidence file.

    Low: the bottom of the observed 9-14% range; high: Salford's +14.4% a year; central: the
    midpoint. Both pieces of evidence are low confidence (`renewal_uplift.csv`).
    """
    ev = renewal_evidence()
    observed = ev[ev["evidence"].str.startswith("Observed Enterprise")].iloc[0]
    salford = ev[ev["evidence"].str.startswith("Salford")].iloc[0]
    low, high = float(observed["value_low"]), float(salford["value_high"])
    source = (f"observed EA renewal uplifts {observed['value_low']:g}-"
              f"{observed['value_high']:g}% (no named source, low confidence) and Salford "
              f"+{salford['value_high']:g}% a year (derived from two decision records, low)")
    return low, (low + high) / 2, high, source


# --- settlement --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementPath:
    """Core spending power cash growth per review year, with its source and certainty."""

    growth_pct: dict[str, float]
    fixed: frozenset[str]  # years fixed in cash: no divergence drawn
    basis: dict[str, str]  # year -> 'profile' | 'england_fallback' | 'held'
    source: dict[str, str]
    confidence: dict[str, str]

    def describe(self) -> str:
        """One line: whose path, and which years are fixed."""
        kinds = set(self.basis.values())
        if kinds == {"profile"}:
            who = "the council's own core spending power path (council profile)"
        elif "profile" in kinds:
            who = ("the council's own core spending power path where its profile gives it, "
                   "England's elsewhere (fallback)")
        else:
            who = ("England's core spending power growth (fallback: no council path in a "
                   "profile; final settlement for 2026-27)")
        fixed = (f"; fixed in cash: {', '.join(sorted(self.fixed))}" if self.fixed else "")
        return f"{who[0].upper()}{who[1:]}{fixed}."


def _settlement(profile: CouncilProfile | None, baseline_year: str,
                years: list[str]) -> SettlementPath:
    england = economy.england_settlement_growth().set_index("financial_year")
    own = dict(profile.core_spending_power_gbp) if profile is not None else {}
    fixed_cash = bool(profile is not None and profile.settlement_fixed_cash)
    growth, fixed, basis, source, conf = {}, set(), {}, {}, {}
    previous = baseline_year
    for fy in years:
        if fy in own and previous in own and own[previous]:
            growth[fy] = (own[fy] / own[previous] - 1) * 100
            basis[fy], source[fy], conf[fy] = "profile", profile.path, "high"  # type: ignore[union-attr]
            if fixed_cash:
                fixed.add(fy)
        elif fy in england.index:
            r = england.loc[fy]
            growth[fy] = float(r["growth_pct"])
            basis[fy] = "england_fallback"
            source[fy] = f"England fallback: {r['basis']} ({r['source']})"
            conf[fy] = str(r["confidence"])
        else:
            known = [y for y in england.index if parse_financial_year(y)
                     <= parse_financial_year(fy)]
            last = known[-1] if known else england.index[0]
            growth[fy] = float(england.loc[last, "growth_pct"])
            basis[fy] = "held"
            source[fy] = (f"assumption: no settlement for {fy}; England's {last} growth "
                          f"({growth[fy]:g}%) held")
            conf[fy] = "low"
        previous = fy
    return SettlementPath(growth, frozenset(fixed), basis, source, conf)


# --- staff -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffPath:
    """In-house IT staff cost in the baseline year and the pay awards given for review years."""

    baseline_gbp: float
    pay_award_pct: dict[str, float]
    source: str
    notes: tuple[str, ...] = field(default=())


def _staff(profile: CouncilProfile | None, baseline_year: str) -> StaffPath | None:
    if profile is None or profile.it_staff is None or not profile.it_staff.cost_gbp:
        return None
    staff = profile.it_staff
    costs = {y: float(v) for y, v in staff.cost_gbp.items()}
    awards = {y: float(v) for y, v in staff.pay_award_pct.items()}
    notes: list[str] = []
    if baseline_year in costs:
        base = costs[baseline_year]
    else:
        # The nearest year given, moved to the baseline year by the pay awards given (or CPI).
        nearest = min(costs, key=lambda y: abs(parse_financial_year(y)
                                              - parse_financial_year(baseline_year)))
        base, n0 = costs[nearest], parse_financial_year(nearest)
        nt = parse_financial_year(baseline_year)

        def rate(year: int) -> float:
            label = financial_year_label(year)
            if label in awards:
                return awards[label]
            cpi = float(economy.cpi_for_years([label])["rate_pct"].iloc[0])
            notes.append(f"{label}: no pay award given, CPI {cpi:g}% used")
            return cpi

        if nt > n0:
            for year in range(n0 + 1, nt + 1):
                base *= 1 + rate(year) / 100
        else:
            for year in range(n0, nt, -1):
                base /= 1 + rate(year) / 100
        notes.insert(0, f"staff cost for {baseline_year} moved from {nearest}'s "
                        f"£{costs[nearest]:,.0f}")
    return StaffPath(base, awards, staff.source or profile.path, tuple(notes))


# --- the context -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioContext:
    """Everything a scenario run knows about the council besides its payments."""

    baseline_year: str
    review_years: int
    microsoft: MicrosoftPlan | None
    settlement: SettlementPath
    staff: StaffPath | None
    peer: PeerMeasure | None
    profile_path: str | None
    notes: tuple[str, ...] = field(default=())

    @property
    def years(self) -> list[str]:
        """The review years' labels."""
        return _review_years(self.baseline_year, self.review_years)

    def assumptions(self) -> pd.DataFrame:
        """What the run rests on: item, value, source ('assumption' when none), confidence."""
        rows = [("Baseline", f"{BASELINE_NAME} (payments over the publication threshold; no "
                 "in-house staff, no payments below the threshold)", "the ingested dataset",
                 "high")]
        if self.staff is not None:
            rows.append(("In-house IT staff", f"£{self.staff.baseline_gbp:,.0f} in "
                         f"{self.baseline_year}", self.staff.source, "high"))
            for y in self.years:
                if y in self.staff.pay_award_pct:
                    rows.append((f"Pay award {y}", f"{self.staff.pay_award_pct[y]:g}%",
                                 self.staff.source, "high"))
                else:
                    rows.append((f"Pay award {y}", "follows the scenario's inflation",
                                 "assumption", "low"))
        else:
            rows.append(("In-house IT staff", "not included (no staff costs in a council "
                         "profile): the baseline is a floor of the IT budget", "assumption",
                         "low"))
        if self.microsoft is not None:
            rows.append(("Microsoft agreement", self.microsoft.describe(),
                         self.microsoft.source, "high"))
        else:
            rows.append(("Microsoft agreement", "not known (no council profile): renewal "
                         "dates unknown, the scenario's yearly price path is used",
                         "assumption", "low"))
        s = self.settlement
        for y in self.years:
            fixed = " (fixed in cash)" if y in s.fixed else ""
            rows.append((f"Core spending power growth {y}", f"{s.growth_pct[y]:.2f}%{fixed}",
                         s.source[y], s.confidence[y]))
        if self.peer is not None:
            rows.append(("Peers", self.peer.status(), self.peer.group.source or "assumption",
                         "high" if self.peer.group.basis == "ons_nearest_neighbours"
                         else "medium"))
        rows += [("Note", n, "spendkit", "high") for n in self.notes]
        return pd.DataFrame(rows, columns=["item", "value", "source", "confidence"])


def scenario_context(baseline_year: str, review_years: int, *,
                     profile: CouncilProfile | None = None,
                     peer: PeerMeasure | None = None) -> ScenarioContext:
    """The council's facts for a run from `baseline_year` over `review_years` years."""
    years = _review_years(baseline_year, review_years)
    notes: list[str] = []
    if profile is None:
        notes.append("no council profile: Microsoft renewal dates, the council's own "
                     "settlement and in-house staff costs are not known; each line says "
                     "which assumption stands in")
    staff = _staff(profile, baseline_year)
    if staff is not None:
        notes += list(staff.notes)
    return ScenarioContext(baseline_year, review_years, _microsoft_plan(profile, years),
                           _settlement(profile, baseline_year, years), staff, peer,
                           profile.path if profile is not None else None, tuple(notes))
