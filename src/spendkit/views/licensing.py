"""Notebook-ready tables for the Microsoft licensing model: sensitivity, calibration, payments.

Built on `spendkit.models.licensing`; each function returns a tidy DataFrame that a notebook can
show or plot in a line or two (figures are in `spendkit.views.licensing_charts`):

* `numbered_events(start, end)` — price and agreement events in a window, numbered for charts.
* `scale_seats(agreement, total)` and `sensitivity_grid(agreement, seat_counts, discounts, start)`
  — modelled cost of 12 months for a grid of seat counts and discounts.
* `calibrate_deals(deals, discount, default_sku)` — implied seats at each discount and implied
  discount at any published seat count or per-user price, one row per published deal.
* `microsoft_payments_by_year(enriched)` — the cash behind the paid run-rate: per council and
  financial year of payment, the largest Microsoft payment (usually the annual renewal) and
  everything else the enrichment attributed to Microsoft.
* `council_context(council, selected)` — a notebook's setup: the council's rows in every year,
  its name, GSS code, selected financial years and their date window.
* `own_deal(deals, agreement)` — the council's latest published deal with a cost, with the seats
  it implies at each discount and the discount it implies at the modelled seat count.
* `summary_lines(...)` — the plain-English summary of a licensing analysis, one sentence a line.
* `licensing_setup(profile, council_name, ...)` — the agreements to model and the sentence
  saying where they come from: the council profile, else the notebook's parameters labelled
  as an illustration, else nothing (never another council's facts).
* `deal_reading_lines(...)` — which seat counts, mixes and discounts a published annual cost
  allows (`models.licensing.renewals.deal_readings`) as sentences.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from spendkit.datasets import read_transactions
from spendkit.errors import InputError
from spendkit.models.licensing import (
    DEFAULT_DISCOUNT,
    BundleComparison,
    DiscountRange,
    LicenceAgreement,
    annual_cost,
    estimated_inputs,
    implied_discount,
    implied_seats,
    published_deals,
    total_cost,
)
from spendkit.models.licensing.renewals import (
    agreements_from_profile,
    deal_readings,
    licensing_assumptions,
)
from spendkit.reference.councils import resolve_council
from spendkit.reference.microsoft import _as_date, list_price, price_events, resolve_sku
from spendkit.reference.profiles import CouncilProfile
from spendkit.schema import require_columns
from spendkit.units.money import gbp
from spendkit.units.periods import financial_year, financial_year_window

__all__ = [
    "COUNCIL_COLUMNS",
    "model_window",
    "paid_caption",
    "profile_file",
    "summary_without_model",
    "CIRCULAR_SAMPLE_NOTE",
    "CouncilContext",
    "LicensingSetup",
    "OwnDeal",
    "deal_reading_lines",
    "licensing_setup",
    "calibrate_deals",
    "council_context",
    "deals_for_council",
    "list_price_table",
    "microsoft_payments_by_year",
    "numbered_events",
    "own_deal",
    "scale_seats",
    "sensitivity_grid",
    "summary_lines",
]


def deals_for_council(gss_code: str, deals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Published deals of a council by GSS code (joint deals list several codes joined by ';')."""
    d = published_deals() if deals is None else deals
    codes = d["gss_code"].fillna("").astype(str).str.split(";")
    hit = codes.map(lambda cs: gss_code.strip().upper() in {c.strip().upper() for c in cs})
    return d[hit.astype(bool)].reset_index(drop=True)


def numbered_events(start: date | str | None = None,
                    end: date | str | None = None) -> pd.DataFrame:
    """`price_events()` between two dates (inclusive), numbered 1.. in date order.

    Columns: n, date, event, confidence, source. Events on the same date keep their own rows
    and numbers (a chart groups them by date).
    """
    ev = price_events().sort_values("date", kind="stable")
    if start is not None:
        ev = ev[ev["date"] >= pd.Timestamp(_as_date(start, "start"))]
    if end is not None:
        ev = ev[ev["date"] <= pd.Timestamp(_as_date(end, "end"))]
    ev = ev.reset_index(drop=True)
    ev.insert(0, "n", np.arange(1, len(ev) + 1))
    return ev[["n", "date", "event", "confidence", "source"]]


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers proportional to `weights` that sum exactly to `total`."""
    exact = weights / weights.sum() * total
    out = np.floor(exact).astype(int)
    short = total - out.sum()
    # Stable order: biggest remainder first, ties to the earlier line.
    order = np.argsort(-(exact - out), kind="stable")
    out[order[:short]] += 1
    return out


def scale_seats(agreement: LicenceAgreement, total: int) -> LicenceAgreement:
    """The same agreement with its licence seats scaled to sum to `total`, keeping the mix.

    Licence lines are scaled in proportion (largest-remainder rounding, so they sum exactly to
    `total`); add-on seats scale by the same factor, rounded half up.
    """
    if isinstance(total, bool) or not isinstance(total, int | np.integer) or total < 0:
        raise InputError(f"total seats must be a whole number >= 0, got {total!r}")
    skus = list(agreement.seats)
    current = np.array([agreement.seats[s] for s in skus], dtype=float)
    if current.sum() <= 0:
        raise InputError("cannot scale an agreement with no licence seats "
                             f"(seats={dict(agreement.seats)!r})")
    seats = dict(zip(skus, (int(v) for v in _largest_remainder(current, int(total))),
                     strict=True))
    factor = int(total) / current.sum()
    add_ons = {s: int(np.floor(n * factor + 0.5)) for s, n in agreement.add_ons.items()}
    return dataclasses.replace(agreement, seats=seats, add_ons=add_ons)


def sensitivity_grid(agreement: LicenceAgreement, seat_counts: Sequence[int],
                     discounts: Sequence[float], start: date | str,
                     months: int = 12) -> pd.DataFrame:
    """Modelled cost of `months` months from `start` for each seat count and discount.

    The agreement is rescaled with `scale_seats` to each total and costed by `annual_cost`
    (prices, price protection and billing as in the model) at list, then each discount is
    applied as the model does: cost = list x (1 - discount).
    Columns: seats, discount, months, cost_gbp, annual_gbp (cost per 12 months), is_estimate.
    """
    s = _as_date(start, "start")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise InputError(f"months must be a whole number >= 1, got {months!r}")
    end_month = s.month - 1 + months
    end = date(s.year + end_month // 12, end_month % 12 + 1, 1)
    rows = []
    for n in seat_counts:
        # One model run per seat count at list price; the discount is a flat fraction off list
        # in the model (cost = list x (1 - discount)), so each discount is a rescale.
        costs = annual_cost(dataclasses.replace(scale_seats(agreement, n), discount=0.0),
                            s, end, period="month")
        n_months = int(costs["period"].nunique())
        list_total = float(costs["list_cost_gbp"].sum())
        estimate = bool(costs["is_estimate"].any())
        for d in discounts:
            DiscountRange.of(float(d))  # validates 0 <= d < 1 with the model's message
            total = list_total * (1 - float(d))
            rows.append({"seats": int(n), "discount": float(d), "months": n_months,
                         "cost_gbp": round(total, 2),
                         "annual_gbp": round(total / n_months * 12, 2),
                         "is_estimate": estimate})
    return pd.DataFrame(rows)


def calibrate_deals(deals: pd.DataFrame | None = None,
                    discount: DiscountRange | tuple[float, float, float] = DEFAULT_DISCOUNT,
                    default_sku: str = "Microsoft 365 E3",
                    since: date | str | None = None) -> pd.DataFrame:
    """Implied seats and discounts for published deals, one row per deal with a cost.

    Deals without a published SKU are priced as `default_sku` (`sku_assumed` is true): their
    cost often covers more than one product (Azure, server licences, support), so their implied
    seats are an upper bound on seats of that SKU. `since` drops deals starting earlier (the
    catalogue's earliest prices are carried back to them otherwise). Implied seats use the
    list price on the deal start; `implied_discount_published_seats` needs a published seat
    count, `implied_discount_per_user_price` a published per-user-month price.
    """
    d = published_deals() if deals is None else deals.copy()
    d = d[d["annual_cost_gbp"].notna() & d["start"].notna()]
    if since is not None:
        d = d[d["start"] >= pd.Timestamp(_as_date(since, "since"))]
    d = d.reset_index(drop=True)
    if d.empty:
        raise InputError("no published deal with a cost and start date to calibrate against")
    default = resolve_sku(default_sku)
    d["sku_assumed"] = d["sku"].isna()
    d["sku"] = d["sku"].fillna(default)
    dr = DiscountRange.of(discount)
    seats = implied_seats(d, dr)
    wide = seats.pivot_table(index=["council", "start"], columns="scenario",
                             values="implied_seats", sort=False).reset_index()
    wide = wide.rename(columns={k: f"implied_seats_{k}_discount"
                                for k in ("low", "central", "high")})
    first = seats.drop_duplicates(["council", "start"])[
        ["council", "start", "price_per_user_month", "is_estimate", "estimated_inputs"]]
    out = d[["council", "start", "end", "sku", "sku_assumed", "annual_cost_gbp",
             "annual_basis", "seats", "per_user_month_gbp", "agreement", "confidence",
             "source"]].merge(first, on=["council", "start"]).merge(wide,
                                                                   on=["council", "start"])
    with_seats = d[d["seats"].notna()]
    if not with_seats.empty:
        disc = implied_discount(with_seats)[["council", "start", "implied_discount"]]
        out = out.merge(disc.rename(columns={"implied_discount":
                                             "implied_discount_published_seats"}),
                        on=["council", "start"], how="left")
    else:
        out["implied_discount_published_seats"] = np.nan
    out["implied_discount_per_user_price"] = (
        1 - out["per_user_month_gbp"] / out["price_per_user_month"]).round(4)
    out["discount_low"], out["discount_central"], out["discount_high"] = (
        dr.low, dr.central, dr.high)
    cols = ["council", "start", "end", "sku", "sku_assumed", "annual_cost_gbp", "annual_basis",
            "price_per_user_month", "discount_low", "discount_central", "discount_high",
            "implied_seats_low_discount", "implied_seats_central_discount",
            "implied_seats_high_discount", "seats", "implied_discount_published_seats",
            "per_user_month_gbp", "implied_discount_per_user_price", "agreement", "confidence",
            "is_estimate", "estimated_inputs", "source"]
    return out[cols].sort_values(["start", "council"], kind="stable").reset_index(drop=True)


def list_price_table(skus: Sequence[str], dates: Sequence[date | str],
                     billing: str = "annual") -> pd.DataFrame:
    """GBP list prices of SKUs on dates (one row per pair), with estimate flags and basis."""
    rows = []
    for sku in skus:
        for when in dates:
            q = list_price(sku, when, billing=billing, currency="GBP")
            rows.append({"sku": q.sku, "on": pd.Timestamp(q.on), "billing": billing,
                         "price_per_user_month": round(q.value, 4),
                         "is_estimate": q.is_estimate, "confidence": q.confidence,
                         "basis": q.basis})
    return pd.DataFrame(rows)


def microsoft_payments_by_year(enriched: pd.DataFrame, publisher: str | None = None,
                               vendor: str = "Microsoft") -> pd.DataFrame:
    """Microsoft payments per council and financial year of payment: largest and the rest.

    The largest payment of a year is usually the annual licence renewal; `other_gbp` is
    everything else the enrichment attributed to `vendor` (true-ups, add-ons, and also Azure
    consumption or other products bought through the same reseller). `total_gbp` is exact to
    the penny (summed as decimals) and matches `microsoft_paid_run_rate`'s `paid_in_year_gbp`.
    """
    need = ["publisher_name", "payment_date", "amount_gbp", "underlying_vendor", "supplier_name"]
    require_columns(enriched, need, "microsoft_payments_by_year")
    is_ms = (enriched["underlying_vendor"].astype("string").str.strip().str.casefold()
             == vendor.casefold()).fillna(False).to_numpy(dtype=bool)
    ms = enriched.loc[is_ms & enriched["amount_gbp"].notna().to_numpy()
                      & enriched["payment_date"].notna().to_numpy(), need]
    if publisher is not None:
        ms = ms[ms["publisher_name"] == publisher]
    cols = ["publisher_name", "financial_year", "n_payments", "total_gbp", "largest_gbp",
            "largest_supplier", "largest_date", "other_gbp", "largest_share"]
    if ms.empty:
        return pd.DataFrame(columns=cols)
    ms = ms.assign(financial_year=financial_year(ms["payment_date"]).to_numpy(),
                   amount=ms["amount_gbp"].astype(object))
    # Largest first within each year; ties broken by date then supplier for a stable pick.
    ms = ms.sort_values(["publisher_name", "financial_year", "amount_gbp", "payment_date",
                         "supplier_name"], ascending=[True, True, False, True, True],
                        kind="stable")
    g = ms.groupby(["publisher_name", "financial_year"], sort=True)
    top = g.head(1).set_index(["publisher_name", "financial_year"])
    out = g.agg(n_payments=("amount", "size"), total=("amount", "sum")).join(
        top[["amount", "supplier_name", "payment_date"]]).reset_index()
    out["total_gbp"] = out["total"].astype(float).round(2)
    out["largest_gbp"] = out["amount"].astype(float).round(2)
    out["other_gbp"] = (out["total"] - out["amount"]).astype(float).round(2)
    out["largest_supplier"] = out["supplier_name"]
    out["largest_date"] = pd.to_datetime(out["payment_date"]).astype("datetime64[s]")
    out["largest_share"] = (out["largest_gbp"] / out["total_gbp"].where(out["total_gbp"] != 0)
                            ).round(4)
    return out[cols]


# Columns `council_context` reads for the council: enough for `microsoft_paid_run_rate`
# (the description says when a payment covers "3 years").
COUNCIL_COLUMNS = ["publisher_name", "publisher_code", "payment_date", "amount_gbp",
                   "supplier_name", "underlying_vendor", "description", "financial_year"]


class CouncilContext(NamedTuple):
    """A council's transactions in every ingested year and the financial years selected for it.

    A tuple, so a notebook can unpack it: `ours, name, gss, years, start, end = ctx`.
    """

    ours: pd.DataFrame
    name: str
    gss_code: str
    financial_years: list[str]
    window_start: date
    window_end: date

    def describe(self) -> str:
        """One line: 'Name (GSS): financial years 2021-22 to 2025-26'."""
        fy = self.financial_years
        return f"{self.name} ({self.gss_code}): financial years {fy[0]} to {fy[-1]}"


def council_context(council: str, selected: pd.DataFrame,
                    ours: pd.DataFrame | None = None) -> CouncilContext:
    """The council's rows in every year, its name and GSS code, and the years selected for it.

    `council` is a publisher name or GSS code; `selected` is the notebook's transactions (already
    filtered to the chosen years) and gives the financial years and their window. `ours` defaults
    to the council's ingested rows in *every* year (`COUNCIL_COLUMNS`): an annual renewal paid in
    one year spreads into the next, so the paid run-rate needs the years around the selection.
    """
    if ours is None:
        known = read_transactions(columns=["publisher_name", "publisher_code"])
        council = resolve_council(council, available=known).name
        ours = read_transactions(publishers=[council], columns=COUNCIL_COLUMNS)
    else:
        council = resolve_council(council, available=ours).name
    ours = ours[ours["publisher_name"] == council]
    name, gss = str(ours["publisher_name"].iloc[0]), str(ours["publisher_code"].iloc[0])
    in_selection = selected["publisher_name"] == name
    years = sorted(str(y) for y in selected.loc[in_selection, "financial_year"].unique())
    if not years:
        raise InputError(f"council {name!r} has no transactions in the selected financial "
                             "years: expected years = None or years the data covers")
    start, end = financial_year_window(years)
    return CouncilContext(ours, name, gss, years, start, end)


@dataclasses.dataclass(frozen=True)
class OwnDeal:
    """A council's published deal priced by the model, for the seats and discount it implies.

    `sku` is the SKU the deal is priced as (None: the deal's own published SKU); `seats_at` is
    `implied_seats` at the low, central and high discount; `discount_at` the discount off list
    the deal implies at `seats` (None when no seat count is modelled).
    """

    deal: pd.DataFrame
    sku: str | None
    seats: int | None
    seats_at: pd.DataFrame
    discount_at: float | None

    def text(self) -> str:
        """The implied seats as a fixed-width table, then the implied discount as a sentence."""
        table = self.seats_at[["council", "start", "sku", "annual_cost_gbp",
                               "price_per_user_month", "scenario", "discount",
                               "implied_seats"]].to_string(index=False)
        return f"{table}\n\n{self.lines()[-1]}"

    def lines(self) -> list[str]:
        """Plain-English sentences: what the annual cost buys at each discount, and the
        discount it implies at the modelled seat count."""
        s = self.seats_at
        first = s.iloc[0]
        # Whole seats the money buys (rounded down, as the tables show them).
        buys = "; ".join(f"{int(r.implied_seats):,} seats at {r.discount:.0%} off"
                         for r in s.itertuples())
        out = [f"{first['council']}'s published deal from {first['start']:%B %Y}, "
               f"{gbp(first['annual_cost_gbp'], compact=True)} a year, priced as "
               f"{first['sku']} at {gbp(first['price_per_user_month'])} per user per month "
               f"(list on that date): it buys {buys}."]
        if self.discount_at is not None and self.seats:
            out.append(f"At {self.seats:,} seats the deal implies a discount of "
                       f"{self.discount_at:.1%} off list.")
        else:
            out.append("No seat count is modelled, so no discount is implied: give the "
                       "council's seats (profile or parameters) to read one.")
        return out


def own_deal(deals: pd.DataFrame, agreement: LicenceAgreement | None = None,
             seats: int | None = None, *, sku: str | None = None,
             discount: DiscountRange | tuple[float, float, float] = DEFAULT_DISCOUNT
             ) -> OwnDeal | None:
    """The last deal in `deals` with an annual cost, priced for `agreement` (None if no such deal).

    A deal without a published SKU is priced as the agreement's main SKU (the one with the most
    seats; the first on a tie), else as `sku`, else as Microsoft 365 E3. `seats` defaults to
    the agreement's licence seats; with neither, no discount is implied. The discount range is
    the agreement's, else `discount`.
    """
    costed = deals[deals["annual_cost_gbp"].notna()]
    if costed.empty:
        return None
    n = (sum(agreement.seats.values()) if agreement is not None else None) if seats is None \
        else seats
    deal = costed.iloc[[-1]]
    if deal["sku"].notna().all():
        price_as = None
    elif agreement is not None:
        price_as = max(agreement.seats, key=agreement.seats.get)
    else:
        price_as = resolve_sku(sku or "Microsoft 365 E3")
    rng = agreement.discount if agreement is not None else DiscountRange.of(discount)
    seats_at = implied_seats(deal, rng, sku=price_as)
    disc = (float(implied_discount(deal, seats=n, sku=price_as)["implied_discount"].iloc[0])
            if n else None)
    return OwnDeal(deal, price_as, int(n) if n else None, seats_at, disc)


#: Said wherever the paid-vs-modelled check is shown on the bundled sample.
CIRCULAR_SAMPLE_NOTE = ("on the synthetic sample this check is circular: the sample's "
                        "payments were written to fit the published deal")


def summary_lines(agreement: LicenceAgreement, costs: pd.DataFrame,
                  financial_years: Sequence[str], bundle: BundleComparison,
                  bundle_on: date | str, paid: pd.DataFrame | None = None,
                  deal: OwnDeal | None = None, sample: bool = False) -> list[str]:
    """The plain-English summary of a licensing analysis, one sentence per line.

    `costs` is `annual_cost(..., period="financial_year")` for `financial_years`; `bundle` is the
    `bundle_vs_a_la_carte` comparison made on `bundle_on`; `paid` is `modelled_vs_paid` (its
    complete, fully modelled years are compared); `deal` is `own_deal(...)`. The sentences on
    paid and on the deal are left out when there is nothing to say. `sample=True` (the data is
    the synthetic sample) adds that the paid-vs-modelled check is circular there. The last
    line lists every estimated price behind the figures.
    """
    seats = sum(agreement.seats.values())
    d = agreement.discount
    per_year = total_cost(costs)
    s = bundle.summary.iloc[0]

    def m(value: object) -> str:
        return gbp(value, compact=True)

    lines = [
        f"Model: {seats:,} seats ({', '.join(agreement.seats)}), {agreement.term_years}-year "
        f"terms from {agreement.start:%B %Y}, {agreement.billing} billing.",
        f"Modelled cost {financial_years[0]} to {financial_years[-1]}: "
        f"{m(per_year['cost_gbp_central'].sum())} at {d.central:.0%} off list (range "
        f"{m(per_year['cost_gbp_low'].sum())} to {m(per_year['cost_gbp_high'].sum())}).",
        f"E3 + add-ons on {bundle_on}: {gbp(s['a_la_carte_per_user_month'])} vs E5 "
        f"{gbp(s['bundle_per_user_month'])} per user per month, {s['ratio']:.2f}x "
        f"({s['ratio_low']:.2f}-{s['ratio_high']:.2f}x); {m(s['difference_annual_gbp'])} "
        f"a year more at list for {seats:,} seats.",
    ]
    full = (paid[paid["is_complete"] & (paid["modelled_months"] == 12)] if paid is not None
            else pd.DataFrame())
    if not full.empty:
        lines.append(
            f"Paid run-rate in complete, fully modelled years: {m(full['run_rate_gbp'].mean())} "
            f"a year on average vs modelled {m(full['cost_gbp_central'].mean())} "
            f"(ratio {full['run_rate_gbp'].sum() / full['cost_gbp_central'].sum():.2f}); "
            f"{int(full['within_range'].sum())} of {len(full)} years within the modelled range"
            + (f" ({CIRCULAR_SAMPLE_NOTE})." if sample else "."))
    if deal is not None:
        c = deal.seats_at.loc[deal.seats_at["scenario"] == "central"].iloc[0]
        lines.append(
            f"Published deal ({c['council']}, from {c['start']:%b %Y}): "
            f"{m(c['annual_cost_gbp'])} a year buys {c['implied_seats']:,.0f} {c['sku']} seats "
            f"at {c['discount']:.0%} off list, or implies {deal.discount_at:.1%} off at "
            f"{deal.seats:,} seats.")
    e3 = list_price("E3", bundle_on).value
    lines.append(f"E5 alone costs {s['bundle_per_user_month'] / e3 - 1:.0%} more than E3 at list "
                 f"on {bundle_on}.")
    flagged = sorted(set(estimated_inputs(costs)) | set(estimated_inputs(bundle.summary)))
    lines.append(f"Estimated prices used ({len(flagged)}): " + "; ".join(flagged))
    return lines


@dataclasses.dataclass(frozen=True)
class LicensingSetup:
    """The agreements a licensing notebook models, where they come from, and what they rest on."""

    agreements: list[LicenceAgreement]
    basis: str  # one sentence for the page
    from_profile: bool
    assumptions: pd.DataFrame

    @property
    def agreement(self) -> LicenceAgreement | None:
        """The current (latest) agreement, or None when there is nothing to model."""
        return self.agreements[-1] if self.agreements else None


def licensing_setup(profile: CouncilProfile | None, council_name: str, *,
                    seats: dict[str, int] | None = None, start: date | str | None = None,
                    term_years: int = 3, billing: str = "annual",
                    discount: DiscountRange | tuple[float, float, float] = DEFAULT_DISCOUNT,
                    add_ons: dict[str, int] | None = None) -> LicensingSetup:
    """The agreements to model for `council_name`: its profile's, else the parameters', else none.

    With a profile that gives seats, its agreements are modelled (`agreements_from_profile`).
    Without one, `seats` and `start` (the notebook's parameters) are modelled and the basis
    says plainly they are an illustration, not the council's facts. With neither, nothing is
    modelled and the basis says what to give.
    """
    agreements, notes = agreements_from_profile(profile, discount)
    if agreements:
        basis = (f"Agreements from {council_name}'s council profile "
                 f"({profile_file(profile)}): "  # type: ignore[arg-type]
                 + "; ".join(f"{sum(a.seats.values()):,} seats "
                             f"({', '.join(a.seats)}) from {a.start:%B %Y}, {a.term_years}-year "
                             f"terms" for a in agreements) + ".")
        return LicensingSetup(agreements, basis, True,
                              licensing_assumptions(agreements, None, profile, notes))
    if seats and start is not None:
        a = LicenceAgreement(seats=seats, add_ons=add_ons or {}, start=start,
                             term_years=term_years, billing=billing,
                             discount=DiscountRange.of(discount), name=council_name)
        why = ("no council profile" if profile is None else
               f"the council profile ({profile_file(profile)}) gives no agreement with seats")
        basis = (f"{why[0].upper()}{why[1:]}: the model uses the parameters' "
                 f"{sum(a.seats.values()):,} seats ({', '.join(a.seats)}) from {a.start:%B %Y} "
                 f"as an illustration, not {council_name}'s own agreement.")
        return LicensingSetup([a], basis, False,
                              licensing_assumptions([a], None, None, [*notes, basis]))
    basis = (f"No licence model for {council_name}: " + "; ".join(notes)
             + "; or give seats and a start date as parameters.")
    return LicensingSetup([], basis, False, licensing_assumptions([], None, profile, notes))


def deal_reading_lines(annual_cost_gbp: float, on: date | str, users: int | Sequence[int],
                       **kwargs: object) -> list[str]:
    """`deal_readings(...).lines()`: which seats, mixes and discounts a published cost allows.

    `users` is one whole number or a list of them (the council's user counts); anything else
    (e.g. the text "[2100, 2500]" that `papermill -p` passes) fails with one clear line.
    """
    counts = [users] if isinstance(users, int) and not isinstance(users, bool) else users
    if (isinstance(counts, str) or not isinstance(counts, Sequence) or not counts
            or not all(isinstance(u, int | np.integer) and not isinstance(u, bool) and u > 0
                       for u in counts)):
        raise InputError(f"users: expected whole numbers of users above 0 such as [2100, 2500] "
                         f"(with papermill use -y, not -p), got {users!r}")
    return deal_readings(annual_cost_gbp, on, [int(u) for u in counts],
                         **kwargs).lines()  # type: ignore[arg-type]


def profile_file(profile: CouncilProfile) -> str:
    """The profile's file as a reader knows it ('councils/<slug>.yaml'), not a machine path."""
    path = Path(profile.path)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def model_window(agreements: Sequence[LicenceAgreement], data_start: date, data_end: date
                 ) -> tuple[date, date, str | None]:
    """The dates to cost: the data's window from the first agreement's start; a sentence when
    the data ends before the agreement starts (then its first year is costed instead)."""
    first = agreements[0].start
    start, end = max(data_start, first), data_end
    if start <= end:
        return start, end, None
    end = date(first.year + 1, first.month, 1) - timedelta(days=1)
    return first, end, (f"The data ({financial_year_label_of(data_start)} to "
                        f"{financial_year_label_of(data_end)}) ends before the modelled agreement "
                        f"starts ({first:%-d %B %Y}): its first year is costed, and there is no "
                        "paid figure to compare it with.")


def financial_year_label_of(day: date) -> str:
    """'2025-26' for a date in that financial year."""
    return str(financial_year(pd.Series([pd.Timestamp(day)])).iloc[0])


def paid_caption(run_rate: pd.DataFrame, *, chart: bool = True) -> str:
    """What the paid run-rate rests on: spreading, multi-year payments and VAT basis.

    `chart=False` words it for a table (incomplete years flagged, not drawn pale)."""
    multi = int(run_rate["n_multi_year"].sum()) if "n_multi_year" in run_rate else 0
    text = ("Paid: payments attributed to Microsoft, each spread over the months it buys (the "
            "term the description or the council profile gives, else 12 months); "
            + ("pale = year not fully covered by the data." if chart else
               "a year is complete when the data covers the months it could spread from."))
    if multi:
        text += (f" {multi} payment{'s' if multi != 1 else ''} spread over more than 12 months "
                 "(an upfront multi-year payment).")
    basis = sorted(set(run_rate["vat_basis"].dropna().astype(str))) if "vat_basis" in run_rate \
        else []
    if run_rate.attrs.get("mixed_vat_basis"):
        text += " Councils publishing net and gross of VAT are mixed: totals not comparable."
    elif basis and basis != ["unknown"]:
        text += f" Payments published {' / '.join(basis)} of VAT."
    else:
        text += " Whether payments are net or gross of VAT is not known."
    return text


def summary_without_model(council_name: str, basis: str, deal: OwnDeal | None,
                          payments: pd.DataFrame, financial_years: Sequence[str],
                          run_rate: pd.DataFrame | None = None) -> list[str]:
    """The plain-English summary when no agreement can be costed: what is known instead.

    `run_rate` (`microsoft_paid_run_rate` for the council) adds the paid run-rate of its
    latest complete year, or says no year is complete."""
    lines = [basis]
    if deal is not None:
        lines += deal.lines()
    else:
        lines.append(f"No published Microsoft deal with a cost for {council_name}.")
    span = (financial_years[0] if len(financial_years) == 1
            else f"{financial_years[0]} to {financial_years[-1]}")
    if len(payments):
        total = float(payments["total_gbp"].sum())
        n = int(payments["n_payments"].sum())
        lines.append(f"Microsoft payments found in {span}: {gbp(total, compact=True)} in {n:,} "
                     f"payment{'s' if n != 1 else ''} (direct or through a reseller).")
        if run_rate is not None and len(run_rate):
            done = run_rate[run_rate["is_complete"].astype(bool)]
            if len(done):
                last = done.iloc[-1]
                lines.append(f"Paid run-rate in {last['financial_year']}, the latest complete "
                             f"year: {gbp(last['run_rate_gbp'], compact=True)} a year.")
            else:
                lines.append("No financial year is fully covered by the data, so no annual "
                             "paid run-rate is stated.")
    else:
        lines.append(f"No payments attributed to Microsoft in {span}: licences may be bought "
                     "through a supplier the enrichment does not recognise, or paid below the "
                     "publication threshold.")
    return lines

