"""Microsoft licence price catalogue: dated list prices, SKU names, billing uplifts and GBP parity.

The package data (`package_data/microsoft/*.csv`) is re-typed from the project's
researched facts, each row with its source and a `confidence` of high (stated by Microsoft or
a primary source), medium (press, partners, vendor pages) or low (derived or inferred). Prices are list prices per user per month, ex VAT,
for an annual commitment paid upfront; other billing terms are derived by rule
(`billing_uplift`). A GBP price that is missing is derived from the USD price at Microsoft's
GBP/USD price-list parity (`fx_rates.csv`) and is always flagged as an estimate, with a low-high
range carried alongside the central value.

Public entry points are re-exported from `spendkit.models.licensing`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache

import pandas as pd

from spendkit.errors import InputError
from spendkit.reference import catalogue

CURRENCIES = ("GBP", "USD")

#: Billing terms: annual commitment paid upfront, annual commitment billed monthly, monthly term.
BILLING_TERMS = ("annual", "annual_monthly", "monthly")

#: (billing term, uplift over the annual-upfront price, first date it applies, source).
#: Before the date the term carried no premium (legacy monthly billing): an assumption.
BILLING_UPLIFTS: dict[str, tuple[float, date | None, str]] = {
    "annual": (0.0, None, "list price"),
    "annual_monthly": (
        0.05,
        date(2025, 4, 1),
        "+5% annual term billed monthly from 2025-04-01 (Microsoft Partner Center, Mar 2025; "
        "high)",
    ),
    "monthly": (
        0.20,
        date(2022, 3, 1),
        "+20% monthly term under the New Commerce Experience from 2022-03-01 (agileit.com; "
        "spiretech.com; medium)",
    ),
}

#: Short names people use, mapped to catalogue SKUs (matched case-insensitively).
SKU_ALIASES: dict[str, str] = {
    "e1": "Office 365 E1",
    "o365 e1": "Office 365 E1",
    "o365 e3": "Office 365 E3",
    "o365 e5": "Office 365 E5",
    "e3": "Microsoft 365 E3",
    "m365 e3": "Microsoft 365 E3",
    "e5": "Microsoft 365 E5",
    "m365 e5": "Microsoft 365 E5",
    "e3 no teams": "Microsoft 365 E3 (no Teams)",
    "e5 no teams": "Microsoft 365 E5 (no Teams)",
    "f1": "Microsoft 365 F1",
    "f3": "Microsoft 365 F3",
    "business basic": "Microsoft 365 Business Basic",
    "business standard": "Microsoft 365 Business Standard",
    "business premium": "Microsoft 365 Business Premium",
    "copilot": "Microsoft 365 Copilot (add-on)",
    "e5 security": "Microsoft 365 E5 Security (add-on)",
    "e5 compliance": "Microsoft 365 E5 Compliance (add-on)",
    "teams enterprise": "Microsoft Teams Enterprise",
    "teams phone": "Teams Phone Standard",
    "power bi pro": "Power BI Pro",
    "entra id p1": "Microsoft Entra ID P1",
    "entra id p2": "Microsoft Entra ID P2",
    "defender for endpoint p2": "Microsoft Defender for Endpoint P2",
    "mde p2": "Microsoft Defender for Endpoint P2",
}


@dataclass(frozen=True)
class PriceQuote:
    """A list price per user per month on a date, with its provenance and uncertainty.

    `value` is the central figure; `value_low`/`value_high` differ from it only when the price
    was converted from USD (parity range). `basis` says how it was obtained.
    """

    sku: str
    on: date
    currency: str
    billing: str
    value: float
    value_low: float
    value_high: float
    is_estimate: bool
    confidence: str
    source: str
    basis: str

    @property
    def label(self) -> str:
        """One-line description used in `estimated_inputs` lists."""
        return (f"{self.sku} {self.currency} {self.value:.2f}/user/month on {self.on.isoformat()} "
                f"({self.basis}; [{self.confidence}])")


def _read(name: str) -> pd.DataFrame:
    return catalogue.read_csv(name)


def _dates(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col.replace("", None), format="%Y-%m-%d").astype("datetime64[s]")


def _bools(col: pd.Series) -> pd.Series:
    return col.str.strip().str.lower().map({"true": True, "false": False}).astype(bool)


@cache
def _catalogue() -> pd.DataFrame:
    df = _read("ms_prices")
    df["price_per_user_month"] = df["price_per_user_month"].astype(float)
    df["effective_from"] = _dates(df["effective_from"])
    df["effective_to"] = _dates(df["effective_to"])
    df["is_estimate"] = _bools(df["is_estimate"])
    return df.sort_values(["sku", "currency", "effective_from"], na_position="first",
                          kind="stable").reset_index(drop=True)


def price_catalogue() -> pd.DataFrame:
    """The dated SKU price catalogue (one row per SKU, currency and price period).

    Columns: sku, kind (suite/add-on/standalone), currency, price_per_user_month, billing,
    effective_from, effective_to (NaT = open-ended), is_estimate, confidence (high/medium/low),
    source, note.
    """
    return _catalogue().copy()


@cache
def _fx() -> pd.DataFrame:
    df = _read("fx_rates")
    for c in ("gbp_per_usd_low", "gbp_per_usd_central", "gbp_per_usd_high"):
        df[c] = df[c].astype(float)
    df["effective_from"] = _dates(df["effective_from"])
    df["effective_to"] = _dates(df["effective_to"])
    df["is_estimate"] = _bools(df["is_estimate"])
    return df


def fx_rates() -> pd.DataFrame:
    """GBP per USD at Microsoft's price-list parity, by period, with a low/central/high range."""
    return _fx().copy()


def gbp_per_usd(on: date) -> tuple[float, float, float, str]:
    """(low, central, high, basis) GBP per USD price-list parity in force on a date."""
    fx = _fx()
    row = fx[_covers(fx, on)]
    if row.empty:  # pragma: no cover - the table is open-ended at both ends
        raise InputError(f"fx_rates.csv has no GBP/USD parity for {on.isoformat()}")
    r = row.iloc[0]
    return (float(r["gbp_per_usd_low"]), float(r["gbp_per_usd_central"]),
            float(r["gbp_per_usd_high"]), str(r["basis"]))


def _covers(df: pd.DataFrame, on: date) -> pd.Series:
    ts = pd.Timestamp(on)
    return ((df["effective_from"].isna() | (df["effective_from"] <= ts))
            & (df["effective_to"].isna() | (df["effective_to"] >= ts)))


def _norm(name: str) -> str:
    s = re.sub(r"\s+", " ", name.strip().lower())
    return s.replace("(", "").replace(")", "").replace("-", " ").replace("  ", " ")


@cache
def _sku_index() -> dict[str, str]:
    index = {_norm(s): s for s in _catalogue()["sku"].unique()}
    index.update({_norm(k): v for k, v in SKU_ALIASES.items()})
    return index


def resolve_sku(name: str) -> str:
    """The catalogue SKU for a name or alias ('E5' -> 'Microsoft 365 E5'); case-insensitive."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"SKU must be a non-empty string, got {name!r}")
    index = _sku_index()
    hit = index.get(_norm(name))
    if hit is None:
        close = difflib.get_close_matches(_norm(name), list(index), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(index[c]) for c in close)}?" if close else ""
        raise InputError(
            f"unknown Microsoft SKU {name!r}: expected a name from price_catalogue()['sku'] "
            f"or an alias such as 'E3', 'E5', 'F3', 'Copilot'{hint}")
    return hit


def _as_date(value: object, what: str) -> date:
    if isinstance(value, datetime):  # includes pd.Timestamp
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(f"{what} must be a date (or ISO 'YYYY-MM-DD'), got {value!r}")


def billing_uplift(billing: str, on: date) -> float:
    """Fractional premium over the annual-upfront price for a billing term on a date."""
    if billing not in BILLING_UPLIFTS:
        raise InputError(
            f"unknown billing {billing!r}: expected one of {', '.join(BILLING_TERMS)}")
    uplift, since, _ = BILLING_UPLIFTS[billing]
    return uplift if since is None or on >= since else 0.0


def list_price(sku: str, on: date | str, billing: str = "annual",
               currency: str = "GBP") -> PriceQuote:
    """List price per user per month for a SKU on a date, billing term and currency.

    GBP: the GBP catalogue row in force; failing that, the USD row times the GBP/USD price-list
    parity (flagged estimate, parity range in value_low/value_high). When no row covers the date
    because the last known price has ended without a successor (a change whose new value was not
    retrieved), the last price is carried forward and flagged as an estimate. Raises
    `InputError` before the SKU's first known price.
    """
    sku = resolve_sku(sku)
    on = _as_date(on, "on")
    if currency not in CURRENCIES:
        raise InputError(f"unknown currency {currency!r}: expected one of {CURRENCIES}")
    return _quote(sku, on, billing, currency)


@lru_cache(maxsize=4096)
def _quote(sku: str, on: date, billing: str, currency: str) -> PriceQuote:
    """Cached core of `list_price` for a resolved SKU (package data is read-only)."""
    uplift = 1.0 + billing_uplift(billing, on)
    rows = _catalogue()[_catalogue()["sku"] == sku]
    ts = pd.Timestamp(on)

    def pick(cur: str) -> pd.Series | None:
        hit = rows[(rows["currency"] == cur) & _covers(rows, on)]
        return hit.iloc[0] if not hit.empty else None

    own = pick(currency)
    basis = "list"
    lo_f = mid_f = hi_f = 1.0
    estimate_extra = False
    row = own
    if row is None and currency == "GBP":
        row = pick("USD")
        if row is not None:
            lo_f, mid_f, hi_f, _ = gbp_per_usd(on)
            basis = f"USD {row['price_per_user_month']:.2f} x GBP/USD parity {mid_f:.2f}"
            estimate_extra = True
    if row is None:
        # Carry forward the latest-ending price if the date is after every known period.
        usable = rows if currency == "GBP" else rows[rows["currency"] == currency]
        ended = usable[usable["effective_to"].notna() & (usable["effective_to"] < ts)]
        starts = usable["effective_from"]
        if usable.empty or ended.empty or (starts.notna().all() and (starts > ts).all()):
            first = starts.min()
            when = f"; its first known price starts {first.date().isoformat()}" if pd.notna(
                first) else ""
            raise InputError(
                f"no {currency} list price for {sku!r} on {on.isoformat()}{when} "
                f"(see price_catalogue())")
        ended = ended.assign(_gbp=ended["currency"] == "GBP").sort_values(
            ["effective_to", "_gbp"], kind="stable")
        row = ended.iloc[-1]
        basis = f"carried forward from price ending {row['effective_to'].date().isoformat()}"
        estimate_extra = True
        if row["currency"] != currency:
            lo_f, mid_f, hi_f, _ = gbp_per_usd(on)
            basis += f"; USD x GBP/USD parity {mid_f:.2f}"
    base = float(row["price_per_user_month"]) * uplift
    if billing != "annual" and uplift != 1.0:
        basis += f"; {billing} +{(uplift - 1) * 100:.0f}%"
    return PriceQuote(
        sku=sku, on=on, currency=currency, billing=billing,
        value=base * mid_f, value_low=base * lo_f, value_high=base * hi_f,
        is_estimate=bool(row["is_estimate"]) or estimate_extra,
        confidence="low" if estimate_extra else str(row["confidence"]),
        source=str(row["source"]), basis=basis)


@cache
def _bundles() -> pd.DataFrame:
    return _read("ms_bundles")


def bundle_components(bundle: str = "Microsoft 365 E5", variant: str = "suites") -> pd.DataFrame:
    """Components that reproduce a bundle a la carte (package data `ms_bundles.csv`)."""
    b = _bundles()
    bundle = resolve_sku(bundle)
    out = b[(b["bundle"] == bundle) & (b["variant"] == variant)]
    if out.empty:
        known = sorted({f"{x} / {v}" for x, v in zip(b["bundle"], b["variant"], strict=True)})
        raise InputError(f"no a-la-carte composition for bundle {bundle!r}, variant "
                             f"{variant!r}: expected one of {known}")
    return out.reset_index(drop=True)


def price_events() -> pd.DataFrame:
    """Dated Microsoft price and agreement events (date, event, confidence, source)."""
    df = _read("ms_price_events")
    df["date"] = _dates(df["date"])
    return df


def ccs_agreements() -> pd.DataFrame:
    """CCS–Microsoft public-sector arrangements (PSA12, DTA18, DTA21, SPA24 …) with dates."""
    df = _read("ms_agreements")
    df["start"] = _dates(df["start"])
    df["end"] = _dates(df["end"])
    return df


def ccs_agreement_on(on: date | str) -> str | None:
    """Code of the CCS–Microsoft arrangement in force on a date (e.g. 'DTA21'), or None."""
    on = _as_date(on, "on")
    a = ccs_agreements()
    ts = pd.Timestamp(on)
    hit = a[(a["start"].isna() | (a["start"] <= ts)) & (a["end"].isna() | (a["end"] >= ts))]
    return None if hit.empty else str(hit.iloc[-1]["agreement"])


def renewal_evidence() -> pd.DataFrame:
    """Evidence on Microsoft renewals and discounts (package data `renewal_uplift.csv`).

    One row per piece of evidence: observed renewal uplifts (Salford +14.4% a year; the 9-14%
    range, no named source), list rises applied at renewal (April 2023 GBP alignment, July 2026
    USD rises), and the discounts published deals imply (Pembrokeshire 43% below E3 list;
    Blackburn with Darwen 49-57% below E5 list if every user had E5). `value_low` /
    `value_high` are floats (blank for qualitative rows); `unit` says what they measure.
    """
    df = _read("ms_renewal_uplift")
    for c in ("value_low", "value_high"):
        df[c] = pd.to_numeric(df[c].replace("", None)).astype("float64")
    return df
