"""Microsoft licensing cost model for councils: list prices, agreements, deals and what was paid.

Councils buy Microsoft 365 through resellers under unpublished CCS discounts (DTA21 from May 2021,
SPA24 from Nov 2024), at list prices that moved several times. This module turns a seat mix
into a dated cost with the uncertainty kept visible:

* `price_catalogue()`, `list_price(sku, on, billing, currency)` — dated list prices with sources;
  a GBP price derived from USD, or carried forward past a change whose new value is unknown, is
  flagged `is_estimate` (see `spendkit.reference.microsoft`).
* `LicenceAgreement` + `annual_cost(agreement, start, end, period)` — cost per financial year
  (April–March), calendar year or month, per SKU: prices are fixed at the agreement start for the
  whole term (price protection) and reset at each renewal; billing uplifts (annual billed monthly
  +5% from 1 Apr 2025, monthly term +20%) apply from the price date; the unpublished discount is a
  `DiscountRange` (low/central/high) carried into `cost_gbp_low/central/high`.
* `bundle_vs_a_la_carte(on, seats)` — E5 against E3 plus the add-ons that make up E5's extras.
* `published_deals()`, `implied_seats(deal, discount)`, `implied_discount(deal, seats)` —
  calibration against council deals with sources.
* `microsoft_paid_run_rate(enriched)` and `modelled_vs_paid(run_rate, agreements)` — what the
  spending data shows was actually paid, beside the model.

Every output row carries `is_estimate` and `estimated_inputs` (the estimated prices it used), so a
notebook can show which figures rest on estimates. Money is float GBP rounded to the penny: these
are modelled figures, not ledger amounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from spendkit.errors import InputError
from spendkit.models.trends.suppliers import cover_months
from spendkit.reference.microsoft import (
    BILLING_TERMS,
    PriceQuote,
    _as_date,
    _dates,
    _read,
    billing_uplift,
    bundle_components,
    ccs_agreement_on,
    ccs_agreements,
    fx_rates,
    gbp_per_usd,
    list_price,
    price_catalogue,
    price_events,
    resolve_sku,
)
from spendkit.reference.profiles import CouncilProfile
from spendkit.schema import require_columns
from spendkit.units.periods import (
    FIRST_MONTH,
    financial_year_label,
    start_years_of_month_index,
    start_years_of_months,
)

__all__ = [
    "BILLING_TERMS",
    "DEFAULT_DISCOUNT",
    "DISCOUNT_EVIDENCE",
    "BundleComparison",
    "DiscountRange",
    "LicenceAgreement",
    "InputError",
    "PriceQuote",
    "annual_cost",
    "billing_uplift",
    "bundle_components",
    "bundle_vs_a_la_carte",
    "ccs_agreement_on",
    "ccs_agreements",
    "estimated_inputs",
    "fx_rates",
    "gbp_per_usd",
    "implied_discount",
    "implied_seats",
    "list_price",
    "microsoft_paid_run_rate",
    "modelled_vs_paid",
    "price_catalogue",
    "price_events",
    "published_deals",
    "resolve_sku",
    "total_cost",
]

PERIODS = ("financial_year", "calendar_year", "month")
_SEP = " | "


# --- parameters ---------------------------------------------------------------------------------


#: Why the default discount range is (0%, 30%, 55%): CCS and Microsoft do not publish the
#: DTA21/SPA24 discount levels, and the public evidence sits above the old 0-30% range.
DISCOUNT_EVIDENCE = (
    "low 0%: list price (no discount), the dearest case; high 55%: public evidence runs to "
    "Pembrokeshire's blended £18.83 per user per month, 43% below the £33.10 Microsoft 365 E3 "
    "list (Western Telegraph 2024), and Blackburn with Darwen's £670,000 a year over its "
    "likely 2,100-2,500 users, 49-57% below the £52.50 E5 list if every user had E5 "
    "(infotec.news 2025; Lancashire Telegraph), less for a mixed estate; central 30%: an "
    "assumption between list and the evidence (renewal_uplift.csv rows, low confidence)")


@dataclass(frozen=True)
class DiscountRange:
    """Unpublished discount off list price as a fraction: low, central and high scenarios.

    The default (0%, 30%, 55%) rests on the public evidence in `DISCOUNT_EVIDENCE` and is not
    a published figure: CCS and Microsoft do not publish DTA21/SPA24 discount levels. The high
    discount gives the low cost.
    """

    low: float = 0.0
    central: float = 0.30
    high: float = 0.55

    def __post_init__(self) -> None:
        for name in ("low", "central", "high"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v < 1.0:
                raise InputError(
                    f"discount {name} must be a fraction from 0 up to (not including) 1, "
                    f"e.g. 0.15 for 15%; got {v!r}")
        if not self.low <= self.central <= self.high:
            raise InputError(
                f"discount range must satisfy low <= central <= high, got low={self.low}, "
                f"central={self.central}, high={self.high}")

    @classmethod
    def of(cls, value: float | DiscountRange | tuple[float, float, float]) -> DiscountRange:
        """A range from a single fraction (all three equal), a (low, central, high) tuple or a range."""
        if isinstance(value, DiscountRange):
            return value
        if isinstance(value, tuple):
            if len(value) != 3:
                raise InputError(f"discount tuple must be (low, central, high), got {value!r}")
            return cls(*value)
        return cls(value, value, value)


DEFAULT_DISCOUNT = DiscountRange()


def _check_seats(mapping: Mapping[str, int], what: str) -> dict[str, int]:
    if not isinstance(mapping, Mapping):
        raise InputError(f"{what} must be a mapping of SKU to seat count, got {mapping!r}")
    out: dict[str, int] = {}
    for name, n in mapping.items():
        sku = resolve_sku(name)
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise InputError(
                f"{what} for {sku!r} must be a whole number of seats >= 0, got {n!r}")
        out[sku] = out.get(sku, 0) + int(n)
    return out


@dataclass(frozen=True)
class LicenceAgreement:
    """A council's licence agreement: seats by SKU, add-ons, start, term, billing and discount.

    Prices are fixed at `start` for `term_years` (price protection) and reset at each renewal on
    the same anniversary; with `renew=False` costs stop at the end of the first term. SKU names
    may be aliases ('E5'); they are resolved to catalogue names.
    """

    seats: Mapping[str, int]
    start: date
    term_years: int = 3
    billing: str = "annual"
    discount: DiscountRange | float | tuple[float, float, float] = DEFAULT_DISCOUNT
    add_ons: Mapping[str, int] = field(default_factory=dict)
    name: str = ""
    renew: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "seats", _check_seats(self.seats, "seats"))
        object.__setattr__(self, "add_ons", _check_seats(self.add_ons, "add_ons"))
        if not self.seats and not self.add_ons:
            raise InputError("an agreement needs at least one SKU in seats or add_ons")
        object.__setattr__(self, "start", _as_date(self.start, "agreement start"))
        if (isinstance(self.term_years, bool) or not isinstance(self.term_years, int)
                or self.term_years < 1):
            raise InputError(
                f"term_years must be a whole number of years >= 1, got {self.term_years!r}")
        if self.billing not in BILLING_TERMS:
            raise InputError(
                f"unknown billing {self.billing!r}: expected one of {', '.join(BILLING_TERMS)}")
        object.__setattr__(self, "discount", DiscountRange.of(self.discount))

    @property
    def end(self) -> date:
        """First day after the first term (exclusive end)."""
        return _add_years(self.start, self.term_years)

    def lines(self) -> pd.DataFrame:
        """Seat lines: sku, line ('licence' or 'add-on'), seats."""
        rows = [(s, "licence", n) for s, n in self.seats.items()]
        rows += [(s, "add-on", n) for s, n in self.add_ons.items()]
        return pd.DataFrame(rows, columns=["sku", "line", "seats"])


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February into a non-leap year
        return d.replace(year=d.year + years, day=28)


# --- month arithmetic (month index = year * 12 + month - 1) -------------------------------------


def _mi(d: date) -> int:
    return d.year * 12 + d.month - 1


def _period_columns(months: np.ndarray, period: str) -> pd.DataFrame:
    year, month = months // 12, months % 12 + 1
    if period == "financial_year":
        start_year = start_years_of_months(year, month)
        labels = {int(y): financial_year_label(int(y)) for y in np.unique(start_year)}
        label = pd.Series(start_year).map(labels)
        start = pd.to_datetime(pd.DataFrame({"year": start_year, "month": FIRST_MONTH,
                                             "day": 1}))
    elif period == "calendar_year":
        label = pd.Series(year).astype(str)
        start = pd.to_datetime(pd.DataFrame({"year": year, "month": 1, "day": 1}))
    elif period == "month":
        label = pd.Series([f"{y}-{m:02d}" for y, m in zip(year, month, strict=True)])
        start = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": 1}))
    else:
        raise InputError(f"unknown period {period!r}: expected one of {', '.join(PERIODS)}")
    return pd.DataFrame({"period": label.astype(str).to_numpy(),
                         "period_start": start.astype("datetime64[s]").to_numpy()})


# --- cost model ---------------------------------------------------------------------------------


def _quote_table(pairs: pd.DataFrame, billing: str) -> pd.DataFrame:
    """GBP quotes for the unique (sku, price_date) pairs."""
    quotes = [list_price(s, d, billing=billing, currency="GBP")
              for s, d in zip(pairs["sku"], pairs["price_date"], strict=True)]
    return pairs.assign(
        price_per_user_month=[q.value for q in quotes],
        price_low=[q.value_low for q in quotes],
        price_high=[q.value_high for q in quotes],
        is_estimate=[q.is_estimate for q in quotes],
        estimated_inputs=[q.label if q.is_estimate else "" for q in quotes],
    )


def annual_cost(agreement: LicenceAgreement, start: date | str | None = None,
                end: date | str | None = None, period: str = "financial_year") -> pd.DataFrame:
    """Modelled cost of an agreement per period and SKU, with list, low, central and high GBP.

    Costs accrue by calendar month: a month counts when its first day lies in
    [first day of `start`'s month, `end`) — so `end` may be the last day covered or the first day
    after it. Defaults: the agreement's first term (12 x term_years months from its start month,
    even when it starts mid-month). Months before the agreement start are not
    costed. `period` is 'financial_year' (April–March, labelled '2025-26'), 'calendar_year' or
    'month'. One row per (period, sku, line, price_date): a renewal inside a period splits it.

    cost_gbp_low uses the high discount and the low GBP/USD parity; cost_gbp_high the reverse.
    """
    if not isinstance(agreement, LicenceAgreement):
        raise InputError(f"agreement must be a LicenceAgreement, got {type(agreement).__name__}")
    s = agreement.start if start is None else _as_date(start, "start")
    e = agreement.end if end is None else _as_date(end, "end")
    if e <= s:
        raise InputError(f"end {e.isoformat()} must be after start {s.isoformat()}")
    a0 = _mi(agreement.start)
    m0 = max(_mi(s), a0)
    term_months = 12 * agreement.term_years
    # Default end: exactly the first term's months, even when the start is mid-month.
    m1 = a0 + term_months - 1 if end is None else _mi(e) - (1 if e.day == 1 else 0)
    if not agreement.renew:
        m1 = min(m1, a0 + term_months - 1)
    months = np.arange(m0, m1 + 1)
    if months.size == 0:
        raise InputError(
            f"no months of agreement {agreement.name or agreement.start.isoformat()} between "
            f"{s.isoformat()} and {e.isoformat()} (agreement starts {agreement.start.isoformat()}"
            f"{'' if agreement.renew else ', ends ' + agreement.end.isoformat()})")
    term = (months - a0) // term_months
    grid = pd.DataFrame({"month": months, "term": term})
    grid = pd.concat([grid, _period_columns(months, period)], axis=1)
    lines = agreement.lines()
    grid = grid.merge(lines, how="cross")

    # Price protection: one quote per (sku, term), at the term's start date.
    pairs = grid[["sku", "term"]].drop_duplicates().reset_index(drop=True)
    pairs["price_date"] = [_add_years(agreement.start, int(k) * agreement.term_years)
                           for k in pairs["term"]]
    grid = grid.merge(_quote_table(pairs, agreement.billing), on=["sku", "term"], how="left")

    d = agreement.discount
    grid["list_cost_gbp"] = grid["seats"] * grid["price_per_user_month"]
    grid["cost_gbp_low"] = grid["seats"] * grid["price_low"] * (1 - d.high)
    grid["cost_gbp_central"] = grid["seats"] * grid["price_per_user_month"] * (1 - d.central)
    grid["cost_gbp_high"] = grid["seats"] * grid["price_high"] * (1 - d.low)

    keys = ["period", "period_start", "sku", "line", "price_date"]
    money = ["list_cost_gbp", "cost_gbp_low", "cost_gbp_central", "cost_gbp_high"]
    out = grid.groupby(keys, sort=False, as_index=False).agg(
        seats=("seats", "first"), months=("month", "size"),
        price_per_user_month=("price_per_user_month", "first"),
        is_estimate=("is_estimate", "first"), estimated_inputs=("estimated_inputs", "first"),
        **{c: (c, "sum") for c in money})
    out["price_date"] = pd.to_datetime(out["price_date"]).astype("datetime64[s]")
    out["cost_per_seat_gbp"] = (out["cost_gbp_central"]
                                / out["seats"].where(out["seats"] > 0)).round(2)
    out[money] = out[money].round(2)
    out["price_per_user_month"] = out["price_per_user_month"].round(4)
    out.insert(0, "agreement", agreement.name)
    out["billing"] = agreement.billing
    out["discount_low"], out["discount_central"], out["discount_high"] = d.low, d.central, d.high
    cols = ["agreement", "period", "period_start", "sku", "line", "seats", "months", "price_date",
            "billing", "price_per_user_month", "discount_low", "discount_central",
            "discount_high", *money, "cost_per_seat_gbp", "is_estimate", "estimated_inputs"]
    order = {"licence": 0, "add-on": 1}
    out = out.sort_values(["period_start", "line", "sku", "price_date"],
                          key=lambda c: c.map(order) if c.name == "line" else c, kind="stable")
    return out[cols].reset_index(drop=True)


def _join_inputs(values: pd.Series) -> str:
    parts = sorted({p for v in values for p in str(v).split(_SEP) if p})
    return _SEP.join(parts)


def total_cost(costs: pd.DataFrame, by: str | list[str] = "period") -> pd.DataFrame:
    """Sum an `annual_cost` table over SKUs (default: one row per period), keeping the flags."""
    keys = [by] if isinstance(by, str) else list(by)
    if "period" in keys and "period_start" not in keys:
        keys.append("period_start")
    money = ["list_cost_gbp", "cost_gbp_low", "cost_gbp_central", "cost_gbp_high"]
    missing = [c for c in [*keys, *money, "is_estimate", "estimated_inputs"]
               if c not in costs.columns]
    if missing:
        raise InputError(f"total_cost needs an annual_cost() table; missing columns {missing}")
    out = costs.groupby(keys, sort=True, as_index=False).agg(
        **{c: (c, "sum") for c in money}, is_estimate=("is_estimate", "any"),
        estimated_inputs=("estimated_inputs", _join_inputs))
    out[money] = out[money].round(2)
    return out


def estimated_inputs(table: pd.DataFrame) -> list[str]:
    """The distinct estimated inputs behind any result table with an `estimated_inputs` column."""
    if "estimated_inputs" not in table.columns:
        raise InputError("table has no 'estimated_inputs' column")
    return _join_inputs(table["estimated_inputs"]).split(_SEP) if table[
        "estimated_inputs"].str.len().gt(0).any() else []


# --- bundle vs a la carte -----------------------------------------------------------------------


@dataclass(frozen=True)
class BundleComparison:
    """E5 (or another bundle) against its a-la-carte build: `table` of lines, `summary` of totals."""

    table: pd.DataFrame
    summary: pd.DataFrame

    @property
    def ratio(self) -> float:
        """A-la-carte cost divided by bundle cost (central prices)."""
        return float(self.summary["ratio"].iloc[0])


def bundle_vs_a_la_carte(on: date | str, seats: int = 1000, bundle: str = "Microsoft 365 E5",
                         variant: str = "suites", billing: str = "annual",
                         discount: float = 0.0) -> BundleComparison:
    """Compare a bundle with the base suite plus the add-ons that give its extra capability.

    variant 'suites' = E3 + E5 Security + E5 Compliance + Power BI Pro + Teams Phone Standard;
    'components' = E3 + each Entra/Defender/Purview/Power BI/Teams Phone standalone. The same
    discount applies to both sides, so the ratio does not depend on it; the ratio's range comes
    from the GBP/USD parity of converted prices (all at the low, then all at the high parity).
    """
    on = _as_date(on, "on")
    n = _check_seats({bundle: seats}, "seats")[resolve_sku(bundle)]
    dr = DiscountRange.of(discount)
    comps = bundle_components(bundle, variant)
    skus = [resolve_sku(bundle), *comps["component"]]
    quotes = [list_price(s, on, billing=billing, currency="GBP") for s in skus]
    factor = 12 * n * (1 - dr.central)
    table = pd.DataFrame({
        "role": ["bundle"] + ["component"] * len(comps),
        "sku": skus,
        "price_per_user_month": [round(q.value, 4) for q in quotes],
        "price_low": [round(q.value_low, 4) for q in quotes],
        "price_high": [round(q.value_high, 4) for q in quotes],
        "annual_cost_gbp": [round(q.value * factor, 2) for q in quotes],
        "is_estimate": [q.is_estimate for q in quotes],
        "confidence": [q.confidence for q in quotes],
        "basis": [q.basis for q in quotes],
        "source": [q.source for q in quotes],
        "composition_source": [""] + list(comps["source"]),
    })
    b, parts = quotes[0], quotes[1:]
    alc = sum(q.value for q in parts)
    r_lo = sum(q.value_low for q in parts) / b.value_low
    r_hi = sum(q.value_high for q in parts) / b.value_high
    summary = pd.DataFrame([{
        "on": pd.Timestamp(on), "seats": n, "bundle": b.sku, "variant": variant,
        "billing": billing, "discount": dr.central,
        "bundle_per_user_month": round(b.value, 4), "a_la_carte_per_user_month": round(alc, 4),
        "bundle_annual_gbp": round(b.value * factor, 2),
        "a_la_carte_annual_gbp": round(alc * factor, 2),
        "difference_annual_gbp": round((alc - b.value) * factor, 2),
        "ratio": round(alc / b.value, 4), "ratio_low": round(min(r_lo, r_hi), 4),
        "ratio_high": round(max(r_lo, r_hi), 4),
        "is_estimate": any(q.is_estimate for q in quotes),
        "estimated_inputs": _SEP.join(q.label for q in quotes if q.is_estimate),
    }])
    return BundleComparison(table=table, summary=summary)


# --- published deals and calibration -----------------------------------------------------------


def published_deals() -> pd.DataFrame:
    """Published council Microsoft licensing deals with sources (package data `ms_deals.csv`).

    `annual_cost_gbp` is as stated where a council gave an annual figure, else the total divided
    by the term in years (`annual_basis` says which); `agreement` is the CCS arrangement in force
    at the start (inferred from the dates where the notice does not say). `seats`/`sku` are
    blank where not published. `gss_code` is checked against
    the mySociety local-authority register (CC BY 4.0); a joint deal lists codes joined by ';'.
    """
    df = _read("ms_deals")
    df["start"] = _dates(df["start"])
    df["end"] = _dates(df["end"])
    for c in ("annual_cost_gbp", "total_cost_gbp", "per_user_month_gbp"):
        df[c] = pd.to_numeric(df[c].replace("", None)).astype("float64")
    df["seats"] = pd.to_numeric(df["seats"].replace("", None)).astype("Int64")
    for c in ("sku", "gss_code", "reseller", "agreement", "route"):
        df[c] = df[c].replace("", None)
    months = ((df["end"].dt.year - df["start"].dt.year) * 12
              + df["end"].dt.month - df["start"].dt.month + 1)
    df["term_months"] = months.astype("Int64")
    stated = df["annual_cost_gbp"].notna()
    derived = df["total_cost_gbp"] / (df["term_months"].astype("float64") / 12)
    df["annual_basis"] = np.where(stated, "stated",
                                  np.where(derived.notna(), "total / years", None))
    df["annual_cost_gbp"] = df["annual_cost_gbp"].fillna(derived.round(2))
    return df


def _deals(deal: str | pd.Series | pd.DataFrame | Mapping[str, object]) -> pd.DataFrame:
    if isinstance(deal, pd.DataFrame):
        return deal.reset_index(drop=True)
    if isinstance(deal, pd.Series):
        return deal.to_frame().T.reset_index(drop=True)
    if isinstance(deal, Mapping):
        return pd.DataFrame([dict(deal)])
    if isinstance(deal, str):
        d = published_deals()
        hit = d[d["council"].str.casefold() == deal.strip().casefold()]
        if hit.empty:
            raise InputError(f"no published deal for council {deal!r}: expected one of "
                                 f"{sorted(d['council'].unique())}")
        # A council name means its deals with a published cost (others cannot calibrate).
        costed = hit[hit["annual_cost_gbp"].notna()]
        if costed.empty:
            raise InputError(f"no published deal for {deal!r} states a cost")
        return costed.reset_index(drop=True)
    raise InputError(f"deal must be a council name, a deal row or a DataFrame, got {deal!r}")


def _deal_inputs(deals: pd.DataFrame, sku: str | None, on: date | str | None,
                 billing: str) -> pd.DataFrame:
    """Per deal: council, start, sku, on, annual cost, list price and its flags."""
    rows = []
    for _, r in deals.iterrows():
        name = f"{r.get('council', '?')} (start {pd.Timestamp(r.get('start')).date()})" \
            if pd.notna(r.get("start")) else str(r.get("council", "?"))
        deal_sku = sku if sku is not None else r.get("sku")
        if deal_sku is None or pd.isna(deal_sku):
            raise InputError(f"deal {name} has no published SKU: pass sku=, e.g. sku='E3'")
        annual = r.get("annual_cost_gbp")
        if annual is None or pd.isna(annual):
            raise InputError(f"deal {name} has no annual or total cost to calibrate against")
        when = on if on is not None else r.get("start")
        if when is None or pd.isna(when):
            raise InputError(f"deal {name} has no start date: pass on=")
        q = list_price(str(deal_sku), _as_date(when, "on"), billing=billing, currency="GBP")
        rows.append({"council": r.get("council"), "start": r.get("start"), "sku": q.sku,
                     "on": pd.Timestamp(q.on), "annual_cost_gbp": float(annual),
                     "price_per_user_month": q.value, "is_estimate": q.is_estimate,
                     "estimated_inputs": q.label if q.is_estimate else ""})
    return pd.DataFrame(rows)


def _scenarios(discount: float | DiscountRange | tuple[float, float, float]) -> pd.DataFrame:
    if isinstance(discount, int | float) and not isinstance(discount, bool):
        return pd.DataFrame({"scenario": ["given"], "discount": [DiscountRange.of(discount).low]})
    d = DiscountRange.of(discount)
    return pd.DataFrame({"scenario": ["low", "central", "high"],
                         "discount": [d.low, d.central, d.high]})


def implied_seats(deal: str | pd.Series | pd.DataFrame | Mapping[str, object],
                  discount: float | DiscountRange | tuple[float, float, float] = DEFAULT_DISCOUNT,
                  *, sku: str | None = None, on: date | str | None = None,
                  billing: str = "annual") -> pd.DataFrame:
    """Seats a deal's annual cost buys at a discount: annual / (12 x list price x (1 - discount)).

    `deal` is a council name (all its published deals), a row of `published_deals()` or a table
    of them. The list price is the deal SKU's (or `sku`'s) on the deal start (or `on`), as price
    protection fixes it for the term. A single discount gives one row per deal ('given'); a
    `DiscountRange` gives low/central/high rows.
    """
    base = _deal_inputs(_deals(deal), sku, on, billing)
    out = base.merge(_scenarios(discount), how="cross")
    out["implied_seats"] = (out["annual_cost_gbp"]
                            / (12 * out["price_per_user_month"] * (1 - out["discount"]))).round(1)
    out["price_per_user_month"] = out["price_per_user_month"].round(4)
    cols = ["council", "start", "sku", "on", "annual_cost_gbp", "price_per_user_month",
            "scenario", "discount", "implied_seats", "is_estimate", "estimated_inputs"]
    return out[cols]


def implied_discount(deal: str | pd.Series | pd.DataFrame | Mapping[str, object],
                     seats: int | None = None, *, sku: str | None = None,
                     on: date | str | None = None, billing: str = "annual") -> pd.DataFrame:
    """Discount off list that a deal's annual cost implies for a seat count.

    implied_discount = 1 - annual / (12 x list price x seats). Negative means the deal costs more
    than list for those seats (`above_list`): more seats, add-ons or support are in the price.
    `seats` defaults to the deal's published seat count.
    """
    base = _deal_inputs(_deals(deal), sku, on, billing)
    if seats is None:
        published = _deals(deal).get("seats")
        if published is None or published.isna().any():
            raise InputError("seats not published for this deal: pass seats=, e.g. seats=1200")
        n = published.astype("float64").to_numpy()
    else:
        if isinstance(seats, bool) or not isinstance(seats, int | np.integer) or seats <= 0:
            raise InputError(f"seats must be a whole number > 0, got {seats!r}")
        n = np.full(len(base), float(seats))
    base["seats"] = n
    base["implied_discount"] = (1 - base["annual_cost_gbp"]
                                / (12 * base["price_per_user_month"] * base["seats"])).round(4)
    base["above_list"] = base["implied_discount"] < 0
    base["price_per_user_month"] = base["price_per_user_month"].round(4)
    cols = ["council", "start", "sku", "on", "annual_cost_gbp", "price_per_user_month", "seats",
            "implied_discount", "above_list", "is_estimate", "estimated_inputs"]
    return base[cols]


# --- what was actually paid ---------------------------------------------------------------------

_PAID_COLUMNS = ("publisher_name", "payment_date", "amount_gbp", "underlying_vendor")

#: A payment this many times the profile's annual cost (or more) is taken to be an upfront
#: payment for the agreement's whole term.
UPFRONT_MULTIPLE = 1.5
_UNSTATED = 121


def _profile_for(profiles: Sequence[CouncilProfile], name: str, code: str | None
                 ) -> CouncilProfile | None:
    for p in profiles:
        if (code and p.gss_code == code) or p.council == name:
            return p
    return None


def _cover_from_profile(profile: CouncilProfile | None, when: pd.Series,
                        amount: np.ndarray) -> np.ndarray:
    """Months each payment covers by the profile: the agreement's term for an upfront payment."""
    out = np.zeros(len(amount), dtype="int64")
    if profile is None or not profile.microsoft:
        return out
    for a in sorted(profile.microsoft, key=lambda x: x.start):
        if not a.annual_cost_gbp:
            continue
        term = 12 if a.type == "CSP" else 12 * a.term_years
        active = (when >= pd.Timestamp(a.start)).to_numpy()
        upfront = active & (amount >= UPFRONT_MULTIPLE * a.annual_cost_gbp)
        out = np.where(upfront, term, np.where(active, 0, out))
    return out


def microsoft_paid_run_rate(enriched: pd.DataFrame, vendor: str = "Microsoft", *,
                            profiles: CouncilProfile | Sequence[CouncilProfile] | None = None,
                            vat_basis: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Annual run-rate of Microsoft licensing paid per council and financial year.

    Spreading rule: every payment whose `underlying_vendor` is `vendor` (case-insensitive; direct
    or through a reseller) covers a number of calendar months from its payment month, an equal
    share in each:
      1. the "N years" / "N months" its `description` (or `purpose`) states;
      2. else, when the council's profile gives the agreement's annual cost and the payment is
         at least `UPFRONT_MULTIPLE` times it, the agreement's term (an upfront multi-year
         payment);
      3. else 12 months (an annual renewal paid as a lump; 12 monthly payments give the same
         yearly total, smoothed and lagged).
    Credits (negative amounts) net off the same way. `run_rate_gbp` sums the shares falling in
    each financial year; `paid_in_year_gbp` is the unspread cash (sums exact, then float);
    `n_multi_year` counts the year's payments spread over more than 12 months.

    `months_observed` counts the financial year's months inside the publisher's published data
    (first to last `payment_date` of *any* vendor in `enriched`), and `is_complete` is true when
    the data also covers the months before the year that a payment could spread from (11, or
    the longest cover used for that council less one). Pass the whole enriched table, not only
    Microsoft rows, so coverage is right. `vat_basis` (publisher_name or GSS code -> 'net' /
    'gross' / 'unknown', e.g. from the ledger; a profile's `vat_basis` is used otherwise) adds
    the `vat_basis` column, and `attrs["mixed_vat_basis"]` is true when the table mixes net- and
    gross-publishing councils, whose totals are not comparable.
    """
    require_columns(enriched, _PAID_COLUMNS, "microsoft_paid_run_rate (underlying_vendor is "
                    "added by spendkit.enrich)")
    cols = ["publisher_name", "financial_year", "fy_start", "run_rate_gbp", "paid_in_year_gbp",
            "n_payments", "n_multi_year", "months_observed", "is_complete", "vat_basis"]
    plist: list[CouncilProfile] = ([] if profiles is None else [profiles]
                                   if isinstance(profiles, CouncilProfile) else list(profiles))
    dates = pd.to_datetime(enriched["payment_date"])
    mi_all = (dates.dt.year * 12 + dates.dt.month - 1).astype("Int64")
    pub = enriched["publisher_name"].astype("string")
    coverage = (pd.DataFrame({"publisher_name": pub, "mi": mi_all}).dropna()
                .groupby("publisher_name")["mi"].agg(["min", "max"]))
    is_ms = (enriched["underlying_vendor"].astype("string").str.strip().str.casefold()
             == vendor.casefold()).fillna(False).to_numpy(dtype=bool)
    ok = is_ms & mi_all.notna().to_numpy() & enriched["amount_gbp"].notna().to_numpy()
    if not ok.any():
        out = pd.DataFrame(columns=cols)
        out.attrs["mixed_vat_basis"] = False
        return out
    amount = enriched.loc[ok, "amount_gbp"].astype("float64").to_numpy()
    mi = mi_all[ok].astype("int64").to_numpy()
    who = pub[ok].to_numpy()
    text = pd.Series("", index=enriched.index[ok], dtype="string")
    for col in ("description", "purpose"):
        if col in enriched.columns:
            text = text.str.cat(enriched.loc[ok, col].astype("string").fillna(""), sep=" ")
    # A sentinel beyond any stated cover ("9 years" is 108 months) marks "not stated".
    stated = cover_months(text, default=_UNSTATED, maximum=_UNSTATED).to_numpy()
    cover = np.where(stated == _UNSTATED, 0, np.minimum(stated, 60))
    codes = (enriched.loc[ok, "publisher_code"].astype("string")
             if "publisher_code" in enriched.columns else pd.Series(pd.NA, index=text.index))
    if plist:
        when = dates[ok]
        for name in pd.unique(who):
            rows = who == name
            code = codes[rows].dropna()
            prof = _profile_for(plist, str(name), str(code.iloc[0]) if len(code) else None)
            by_profile = _cover_from_profile(prof, when[rows], amount[rows])
            cover[rows] = np.where(cover[rows] > 0, cover[rows], by_profile)
    cover = np.where(cover > 0, cover, 12).astype("int64")

    offsets = np.arange(cover.sum()) - np.repeat(np.cumsum(cover) - cover, cover)
    spread = pd.DataFrame({
        "publisher_name": np.repeat(who, cover),
        "mi": np.repeat(mi, cover) + offsets,
        "share": np.repeat(amount / cover, cover),
    })
    spread["fy"] = start_years_of_month_index(spread["mi"].to_numpy())
    cash = pd.DataFrame({"publisher_name": who, "fy": start_years_of_month_index(mi),
                         "amount": amount, "multi": cover > 12})
    lookback = cash.assign(cover=cover).groupby("publisher_name")["cover"].max()
    out = (spread.groupby(["publisher_name", "fy"])["share"].sum().rename("run_rate_gbp")
           .to_frame()
           .join(cash.groupby(["publisher_name", "fy"]).agg(
               sum=("amount", "sum"), size=("amount", "size"), multi=("multi", "sum")),
                 how="left")
           .reset_index())
    out["paid_in_year_gbp"] = out["sum"].fillna(0.0).round(2)
    out["n_payments"] = out["size"].fillna(0).astype("int64")
    out["n_multi_year"] = out["multi"].fillna(0).astype("int64")
    out["run_rate_gbp"] = out["run_rate_gbp"].round(2)
    fy_first = out["fy"] * 12 + FIRST_MONTH - 1  # month index of each year's April
    cov = coverage.reindex(out["publisher_name"]).astype("int64").to_numpy()
    lo, hi = cov[:, 0], cov[:, 1]
    back = lookback.reindex(out["publisher_name"]).to_numpy() - 1
    out["months_observed"] = np.clip(np.minimum(hi, fy_first + 11) - np.maximum(lo, fy_first) + 1,
                                     0, 12)
    out["is_complete"] = (lo <= fy_first - back) & (hi >= fy_first + 11)
    labels = {int(y): financial_year_label(int(y)) for y in out["fy"].unique()}
    out["financial_year"] = out["fy"].map(labels)
    out["fy_start"] = pd.to_datetime(pd.DataFrame({"year": out["fy"], "month": FIRST_MONTH,
                                                   "day": 1})
                                     ).astype("datetime64[s]")
    basis = {}
    for name in out["publisher_name"].unique():
        code = codes[who == name].dropna()
        code = str(code.iloc[0]) if len(code) else None
        prof = _profile_for(plist, str(name), code)
        given = (vat_basis or {})
        basis[name] = given.get(str(name)) or (given.get(code) if code else None) or (
            prof.vat_basis if prof is not None else "unknown")
    out["vat_basis"] = out["publisher_name"].map(basis)
    out = out.sort_values(["publisher_name", "fy"], kind="stable")[cols].reset_index(drop=True)
    out.attrs["mixed_vat_basis"] = {"net", "gross"} <= set(basis.values())
    return out


def modelled_vs_paid(run_rate: pd.DataFrame,
                     agreements: Mapping[str, LicenceAgreement]) -> pd.DataFrame:
    """Set each council's paid run-rate beside the model's cost for the same financial years.

    `run_rate` is `microsoft_paid_run_rate(...)`; `agreements` maps publisher_name to the
    modelled `LicenceAgreement`. Councils without an agreement are left out. `within_range` is
    true when the paid run-rate lies between the model's low and high costs; `modelled_months`
    < 12 marks a year the agreement only partly covers.
    """
    need = {"publisher_name", "financial_year", "fy_start", "run_rate_gbp", "is_complete"}
    if missing := sorted(need - set(run_rate.columns)):
        raise InputError(f"run_rate lacks columns {missing}: pass microsoft_paid_run_rate()")
    frames = []
    for publisher, agreement in agreements.items():
        paid = run_rate[run_rate["publisher_name"] == publisher]
        if paid.empty:
            continue
        first = pd.Timestamp(paid["fy_start"].min()).date()
        last = _add_years(pd.Timestamp(paid["fy_start"].max()).date(), 1)
        covered_until = None if agreement.renew else agreement.end
        if last <= agreement.start or (covered_until is not None and first >= covered_until):
            model = pd.DataFrame(columns=["period", "list_cost_gbp", "cost_gbp_low",
                                          "cost_gbp_central", "cost_gbp_high", "is_estimate",
                                          "estimated_inputs", "modelled_months"])
        else:
            costs = annual_cost(agreement, first, last, period="financial_year")
            model = total_cost(costs).merge(
                costs[costs["line"] == "licence"].groupby("period", as_index=False)["months"]
                .max().rename(columns={"months": "modelled_months"}), on="period", how="left")
        merged = paid.merge(model.drop(columns=["period_start"], errors="ignore"),
                            left_on="financial_year", right_on="period", how="left")
        merged["agreement"] = agreement.name
        frames.append(merged)
    cols = ["publisher_name", "financial_year", "agreement", "run_rate_gbp", "is_complete",
            "modelled_months", "list_cost_gbp", "cost_gbp_low", "cost_gbp_central",
            "cost_gbp_high", "paid_to_modelled", "within_range", "is_estimate",
            "estimated_inputs"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    out["modelled_months"] = out["modelled_months"].astype("Int64")
    money = ["list_cost_gbp", "cost_gbp_low", "cost_gbp_central", "cost_gbp_high"]
    out[money] = out[money].astype("float64")
    central = out["cost_gbp_central"]
    out["paid_to_modelled"] = (out["run_rate_gbp"] / central.where(central > 0)).round(4)
    out["within_range"] = ((out["run_rate_gbp"] >= out["cost_gbp_low"])
                           & (out["run_rate_gbp"] <= out["cost_gbp_high"]))
    out["is_estimate"] = out["is_estimate"].fillna(False).astype(bool)
    out["estimated_inputs"] = out["estimated_inputs"].fillna("")
    return out[cols].sort_values(["publisher_name", "financial_year"],
                                 kind="stable").reset_index(drop=True)
