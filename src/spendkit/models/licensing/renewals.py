"""The council's own Microsoft contracts: its agreements, their renewal dates, its published deal.

A council buys Microsoft 365 under an agreement whose prices are fixed for a term: an
Enterprise Agreement (EA) or MCA-E for its term (usually three years), a CSP subscription for
12 months. A list-price change (the July 2026 rise: E5 +5.3%, E3 +8.3% in USD) reaches the
council only when its term renews, and a licence-mix change (fewer E5 seats) can only be made
then. This module reads the agreements from the council profile (`reference.profiles`) and says
what lands when:

* `agreements_from_profile(profile)` — the profile's agreements as `LicenceAgreement`s (oldest
  first, each ending where the next starts, the last renewing on its term); `annual_cost_of`
  costs such a sequence.
* `renewal_plan(agreement, first, last)` — the renewal dates between two dates with the list
  change of the council's seat mix at each (from the price catalogue, estimates flagged).
* `deal_readings(annual_cost, on, users)` — which seat counts, licence mixes and discounts a
  published annual cost allows, each reading set against the public discount evidence.
* `licensing_assumptions(...)` — the table of what a licensing result rests on.

Without a profile nothing here guesses: callers get None or an empty plan and a sentence
saying which assumption they use instead; no council borrows another council's facts.
Money: list prices and modelled costs are floats (modelled quantities, not ledger amounts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from spendkit.errors import InputError
from spendkit.models.licensing import (
    DEFAULT_DISCOUNT,
    DISCOUNT_EVIDENCE,
    DiscountRange,
    LicenceAgreement,
    annual_cost,
    estimated_inputs,
    list_price,
)
from spendkit.reference.microsoft import _as_date, renewal_evidence, resolve_sku
from spendkit.reference.profiles import CouncilProfile, MicrosoftAgreement
from spendkit.units.periods import financial_year_label, financial_year_start_years

__all__ = [
    "DISCOUNT_BANDS", "DealReadings", "RenewalPlan", "agreements_from_profile",
    "annual_cost_of", "deal_readings", "licensing_assumptions", "renewal_dates",
    "renewal_plan",
]

#: Agreement types whose prices hold for the whole term; a CSP subscription holds 12 months.
TERM_PRICED = ("EA", "MCA-E", "other")

#: How a discount implied by a published cost reads against the public evidence (fractions):
#: up to Pembrokeshire's 43% below E3 list it is within what other councils published; up to
#: 60% it is deeper than any other published deal (an unpublished CCS discount would be
#: needed); beyond, implausible (a judgement).
DISCOUNT_BANDS = ((0.0, "above list price: not this estate alone (more seats or other "
                        "products in the price)"),
                  (0.4311, "within published evidence (up to Pembrokeshire's 43% below E3 "
                           "list)"),
                  (0.60, "deeper than any other published deal (needs an unpublished CCS "
                         "discount)"),
                  (1.0, "implausibly deep: not this estate"))


def _band(discount: float) -> str:
    if discount < 0:
        return DISCOUNT_BANDS[0][1]
    for limit, words in DISCOUNT_BANDS[1:]:
        if discount <= limit:
            return words
    return DISCOUNT_BANDS[-1][1]


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


# --- agreements from the profile ---------------------------------------------------------------


def agreements_from_profile(profile: CouncilProfile | None,
                            discount: DiscountRange | float | tuple[float, float, float]
                            = DEFAULT_DISCOUNT) -> tuple[list[LicenceAgreement], list[str]]:
    """The profile's agreements as costable `LicenceAgreement`s, and notes on what was left out.

    Oldest first; every agreement but the last stops where the next one starts (renew=False),
    the last renews on its own term. An agreement with no seats (seats not published) cannot
    be costed and is named in the notes. No profile gives ([], [why]).
    """
    if profile is None or not profile.microsoft:
        who = "no council profile" if profile is None else f"{profile.path}: no Microsoft agreement"
        return [], [f"{who}: no agreement to cost; give one in the council profile "
                    "(microsoft.agreements) rather than borrowing another council's"]
    ordered = sorted(profile.microsoft, key=lambda a: a.start)
    out, notes = [], []
    for i, a in enumerate(ordered):
        seats = {k: v for k, v in a.seats.items() if v}
        label = f"{a.type} from {a.start.isoformat()}"
        if not seats:
            notes.append(f"{label}: seats not given, so it is not costed (its dates and type "
                         "still set the renewals)")
            continue
        last = i == len(ordered) - 1
        term = a.term_years if a.type in TERM_PRICED else 1
        out.append(LicenceAgreement(seats=seats, start=a.start, term_years=term,
                                    billing=a.billing, discount=discount, renew=last,
                                    name=f"{profile.council}: {label}"))
    for prev, nxt in zip(out, out[1:], strict=False):
        if prev.end > nxt.start:  # the next agreement replaced this one early
            notes.append(f"{prev.name} ends early, at {nxt.start.isoformat()}")
    return out, notes


def annual_cost_of(agreements: Sequence[LicenceAgreement], start: date | str,
                   end: date | str, period: str = "financial_year") -> pd.DataFrame:
    """`annual_cost` over a sequence of agreements, each covering up to the next one's start."""
    s, e = _as_date(start, "start"), _as_date(end, "end")
    frames = []
    for i, a in enumerate(agreements):
        stop = agreements[i + 1].start if i + 1 < len(agreements) else e
        lo, hi = max(s, a.start), min(e, stop)
        if hi <= lo or (not a.renew and lo >= a.end):
            continue
        frames.append(annual_cost(a, lo, hi, period=period))
    if not frames:
        raise InputError(f"no agreement covers {s.isoformat()} to {e.isoformat()}")
    return pd.concat(frames, ignore_index=True)


# --- renewals ----------------------------------------------------------------------------------


def _term_months(agreement: MicrosoftAgreement | LicenceAgreement) -> int:
    kind = getattr(agreement, "type", "EA")
    return 12 if kind == "CSP" else 12 * int(agreement.term_years)


def renewal_dates(agreement: MicrosoftAgreement | LicenceAgreement, start: date | str,
                  end: date | str) -> list[date]:
    """Dates in [start, end) on which the agreement's prices reset: each term's anniversary
    (every 12 months for a CSP subscription)."""
    s, e = _as_date(start, "start"), _as_date(end, "end")
    step = _term_months(agreement) // 12
    out, k = [], 1
    while True:
        d = _add_years(agreement.start, k * step)
        if d >= e:
            return out
        if d >= s:
            out.append(d)
        k += 1


def _mix(agreement: MicrosoftAgreement | LicenceAgreement) -> dict[str, int]:
    """SKU -> seats; a profile agreement whose counts are not published lists `skus` (0 seats)."""
    seats = {k: int(v) for k, v in agreement.seats.items()}
    if not any(seats.values()):
        seats.update({s: 0 for s in getattr(agreement, "skus", ()) if s not in seats})
    if not seats:
        raise InputError("the agreement names no SKU: give seats or skus in the profile")
    return seats


def _mix_price(seats: Mapping[str, int], on: date) -> tuple[float, bool, list[str]]:
    """Seat-weighted list price of a mix on a date (equal weights when no seat counts)."""
    skus = {resolve_sku(k): v for k, v in seats.items()}
    weights = np.array([max(int(v), 0) for v in skus.values()], dtype=float)
    if weights.sum() <= 0:
        weights = np.ones(len(skus))
    quotes = [list_price(s, on) for s in skus]
    value = float(np.dot(weights, [q.value for q in quotes]) / weights.sum())
    return value, any(q.is_estimate for q in quotes), [q.label for q in quotes if q.is_estimate]


@dataclass(frozen=True)
class RenewalPlan:
    """When a council's Microsoft prices reset and by how much list moves for its seat mix."""

    agreement_type: str
    term_years: int
    billing: str
    seats: Mapping[str, int]
    table: pd.DataFrame  # renewal_date, financial_year, list_before, list_after, list_change_pct,
    #                       is_estimate, estimated_inputs
    source: str = ""
    notes: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """One line: the agreement, and the renewals in the window."""
        if self.table.empty:
            when = "no renewal in the period"
        else:
            when = "renews " + ", ".join(
                f"{d:%-d %b %Y} (list {c:+.1f}% for its mix{', estimate' if e else ''})"
                for d, c, e in zip(self.table["renewal_date"], self.table["list_change_pct"],
                                   self.table["is_estimate"], strict=True))
        term = "12-month terms" if self.agreement_type == "CSP" else f"{self.term_years}-year term"
        kind = ("agreement of unpublished type" if self.agreement_type == "other"
                else self.agreement_type)
        return f"{kind}, {term}, {self.billing} billing; {when}"


def renewal_plan(agreement: MicrosoftAgreement | LicenceAgreement, first: date | str,
                 last: date | str) -> RenewalPlan:
    """The renewals of `agreement` in [first, last) and the list change of its mix at each.

    The list change compares the mix's list price on the renewal date with the price the
    expiring term was fixed at (its start), so a rise in the middle of a term (July 2026)
    shows in full at the next renewal, and never before it.
    """
    seats = _mix(agreement)
    kind = getattr(agreement, "type", "EA")
    dates = renewal_dates(agreement, first, last)
    rows = []
    step = _term_months(agreement) // 12
    for d in dates:
        fixed_on = _add_years(d, -step)
        before, est0, in0 = _mix_price(seats, fixed_on)
        after, est1, in1 = _mix_price(seats, d)
        fy = int(financial_year_start_years(pd.Series([pd.Timestamp(d)])).iloc[0])
        rows.append({"renewal_date": d, "financial_year": financial_year_label(fy),
                     "list_before": round(before, 4), "list_after": round(after, 4),
                     "list_change_pct": round((after / before - 1) * 100, 2),
                     "is_estimate": est0 or est1,
                     "estimated_inputs": " | ".join(sorted(set(in0 + in1)))})
    table = pd.DataFrame(rows, columns=["renewal_date", "financial_year", "list_before",
                                        "list_after", "list_change_pct", "is_estimate",
                                        "estimated_inputs"])
    notes = []
    if not any(seats.values()):
        notes.append("seat counts not given: the list change weighs the SKUs equally")
    return RenewalPlan(kind, int(agreement.term_years), agreement.billing, seats, table,
                       getattr(agreement, "source", ""), tuple(notes))


# --- what a published deal allows ----------------------------------------------------------------


@dataclass(frozen=True)
class DealReadings:
    """The readings a published annual cost allows: seats, licence mix and discount."""

    annual_cost_gbp: float
    on: date
    prices: pd.DataFrame  # sku, price_per_user_month, is_estimate, confidence, basis
    single_sku: pd.DataFrame  # users, sku, per_user_month_gbp, implied_discount, reading
    mixes: pd.DataFrame  # users, frontline_share, discount, top_share, possible, reading

    def lines(self) -> list[str]:
        """Plain-English readings, one sentence a line."""
        s = self.single_sku
        users = sorted(s["users"].unique())
        lo, hi = users[0], users[-1]
        per = s.drop_duplicates("users").set_index("users")["per_user_month_gbp"]
        out = [f"£{self.annual_cost_gbp:,.0f} a year over {lo:,}-{hi:,} users is "
               f"£{per[hi]:.2f}-£{per[lo]:.2f} per user per month (list prices on "
               f"{self.on:%-d %b %Y})."]
        for sku, g in s.groupby("sku", sort=False):
            d = g["implied_discount"]
            out.append(f"If every user had {sku}: {d.min():.0%}-{d.max():.0%} below list, "
                       f"{_band(float(d.min()))}.")
        top, base, front = self.prices["sku"]
        for f, part in self.mixes.groupby("frontline_share", sort=True):
            who = ("no frontline licences" if f == 0
                   else f"{f:.0%} of users on {front}")
            ok = part[part["possible"]]
            for disc, g in ok.groupby("discount", sort=True):
                share = g["top_share"]
                span = (f"{share.min():.0%}" if np.isclose(share.min(), share.max())
                        else f"{share.min():.0%}-{share.max():.0%}")
                where = ("" if len(g) == len(users) else " (only at " + ", ".join(
                    f"{u:,}" for u in g["users"]) + " users)")
                out.append(f"With {who}, at {disc:.0%} off list: {span} of the other users "
                           f"on {top}, the rest on {base}{where}; {_band(float(disc))}.")
            bad = sorted(set(part["discount"]) - set(ok["discount"]))
            if bad:
                out.append(f"With {who}, not possible at " + ", ".join(
                    f"{d:.0%}" for d in bad) + " off list for any of these user counts.")
        return out


def deal_readings(annual_cost_gbp: float, on: date | str, users: Sequence[int],
                  discounts: Sequence[float] = (0.0, 0.15, 0.30, 0.43, 0.55),
                  top: str = "E5", base: str = "E3", frontline: str = "F3",
                  frontline_shares: Sequence[float] = (0.0, 0.2)) -> DealReadings:
    """Which readings of a published annual cost are possible for the council's `users`.

    `users` is the council's own user (staff) counts to try, e.g. a low and high estimate: no
    default, so no council is read with another's headcount. For each user count: the discount implied if every user had `top` (E5) or `base` (E3),
    read against `DISCOUNT_BANDS`. For each user count, frontline share (users on `frontline`,
    F3) and discount: the share of the other users on `top` (the rest on `base`) that makes
    the list cost less the discount equal the annual cost,
        top_share = (annual / (12 (1 - d)) - f U P_F - (1 - f) U P_B) / ((1 - f) U (P_T - P_B)),
    possible when it lies in [0, 1]. List prices are those on `on` (GBP, estimates flagged).
    """
    on = _as_date(on, "on")
    if not annual_cost_gbp > 0:
        raise InputError(f"annual_cost_gbp: expected a cost above 0, got {annual_cost_gbp!r}")
    skus = [resolve_sku(x) for x in (top, base, frontline)]
    quotes = [list_price(s, on) for s in skus]
    prices = pd.DataFrame({"sku": skus, "price_per_user_month": [q.value for q in quotes],
                           "is_estimate": [q.is_estimate for q in quotes],
                           "confidence": [q.confidence for q in quotes],
                           "basis": [q.basis for q in quotes]})
    p_top, p_base, p_front = (q.value for q in quotes)
    single = []
    for u in users:
        per_user = annual_cost_gbp / 12 / u
        for sku, price in ((skus[0], p_top), (skus[1], p_base)):
            d = 1 - per_user / price
            single.append({"users": int(u), "sku": sku, "per_user_month_gbp": per_user,
                           "implied_discount": d, "reading": _band(d)})
    mixes = []
    for u in users:
        for f in frontline_shares:
            knowledge = (1 - f) * u
            for d in discounts:
                DiscountRange.of(float(d))
                budget = annual_cost_gbp / (12 * (1 - d))
                share = (budget - f * u * p_front - knowledge * p_base) / (
                    knowledge * (p_top - p_base))
                possible = 0.0 <= share <= 1.0
                if share < 0:
                    reading = (f"not possible: even with no {skus[0]} it costs more than the "
                               "deal at this discount")
                elif share > 1:
                    reading = (f"not possible: even all {skus[0]} costs less than the deal "
                               "(more seats or other products in the price)")
                else:
                    reading = f"possible: {share:.0%} on {skus[0]}; {_band(float(d))}"
                mixes.append({"users": int(u), "frontline_share": float(f),
                              "discount": float(d), "top_share": share, "possible": possible,
                              "reading": reading})
    return DealReadings(float(annual_cost_gbp), on, prices, pd.DataFrame(single),
                        pd.DataFrame(mixes))


# --- assumptions ---------------------------------------------------------------------------------


def licensing_assumptions(agreements: Sequence[LicenceAgreement], costs: pd.DataFrame | None,
                          profile: CouncilProfile | None = None,
                          notes: Sequence[str] = ()) -> pd.DataFrame:
    """What a licensing result rests on: item, value, source (or 'assumption'), confidence."""
    rows: list[tuple[str, str, str, str]] = []
    if profile is not None and profile.microsoft:
        for a in sorted(profile.microsoft, key=lambda x: x.start):
            seats = ", ".join(f"{n:,} {k}" for k, n in a.seats.items() if n) or (
                ", ".join(getattr(a, "skus", ())) + " (seats not published)")
            rows.append((f"Agreement from {a.start.isoformat()}",
                         f"{a.type}, {a.term_years} years, {a.billing} billing; {seats}"
                         + (f"; £{a.annual_cost_gbp:,.0f} a year" if a.annual_cost_gbp else ""),
                         a.source or profile.path, "high" if a.source else "medium"))
    else:
        for a in agreements:
            seats = ", ".join(f"{n:,} {k}" for k, n in a.seats.items())
            rows.append((f"Agreement from {a.start.isoformat()}",
                         f"{a.term_years}-year terms, {a.billing} billing; {seats}",
                         "assumption (parameters, not the council's profile)", "low"))
    if agreements:
        d = agreements[-1].discount
        rows.append(("Discount off list (low / central / high)",
                     f"{d.low:.0%} / {d.central:.0%} / {d.high:.0%}",
                     DISCOUNT_EVIDENCE if d == DEFAULT_DISCOUNT else "assumption (given)",
                     "low"))
    if costs is not None and "estimated_inputs" in costs.columns:
        for item in estimated_inputs(costs):
            rows.append(("Estimated list price", item, "price catalogue (estimate)", "low"))
    ev = renewal_evidence()
    for r in ev[ev["value_low"].notna()].itertuples():
        value = (f"{r.value_low:g}" if r.value_low == r.value_high
                 else f"{r.value_low:g}-{r.value_high:g}")
        rows.append(("Evidence: " + r.evidence.split(":")[0][:80], f"{value} {r.unit}",
                     r.source, r.confidence))
    rows += [("Note", n, "spendkit", "high") for n in notes]
    return pd.DataFrame(rows, columns=["item", "value", "source", "confidence"])


def with_discount(agreements: Sequence[LicenceAgreement],
                  discount: DiscountRange | float | tuple[float, float, float]
                  ) -> list[LicenceAgreement]:
    """The same agreements at another discount range."""
    return [replace(a, discount=DiscountRange.of(discount)) for a in agreements]
