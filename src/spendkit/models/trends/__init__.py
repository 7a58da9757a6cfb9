"""IT spend trends: periods, totals, year-on-year, rolling 12 months, real terms, per head, peers.

Input is a transactions DataFrame with the canonical columns of `spendkit.schema` plus the
enrichment columns (`is_it`, `it_category`, `it_basis`, `supplier_canonical`, ...). Outputs are
tidy DataFrames (one row per group and period) that plot in a few lines; money columns stay
exact decimals (`for_plot` converts them for charts) and totals equal the input to the penny.

Every headline comes with its coverage (`coverage_table`, or a `Coverage` for one figure):
how much of the spend was classified, unclassified and redacted, and which months are missing,
so a reader can tell a fall in spend from a gap in publication. Missing months are never
filled with zero: they are NA in `monthly_series`, break `rolling_12m`, and make `yoy_change`
NA when a table carries `is_complete` (see `trends_completeness`).

Submodules: `completeness` (calendar of months), `suppliers` (top suppliers, concentration,
recurring vs one-off, lump spreading), `peers` (like-for-like peer groups, per head and share of
spend, deciles). Their public functions are re-exported here. Writing tables to CSV/Excel is
presentation: `spendkit.views.exports`.

At national scale the payments do not fit in pandas: `aggregates` runs the group-bys as DuckDB
SQL over a relation (`spendkit.datasets.transactions_relation`) and returns small frames, and
the `*_from_months` / `*_from_totals` twins here finish them with the same code as the
row-level functions (`it_spend_trend_from_months`, `calendar_from_months`,
`coverage_table_from_months`, `concentration_from_totals`, ...; `period_totals`, and what builds
on it, takes month totals directly). Each twin gives the row-level table exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd

from spendkit.errors import InputError
from spendkit.models.trends.base import (
    PERIODS,
    add_periods,
    as_tuple,
    ensure_periods,
    for_plot,
    fy_label,
    fy_label_start,
    fy_start_year,
    join_extras,
    text_blank,
)
from spendkit.models.trends.completeness import (
    calendar_from_months,
    completeness_calendar,
    exclude_incomplete,
    flag_incomplete,
    ledger_profiles,
    observed_threshold,
    observed_threshold_from_months,
    publisher_facts,
    publisher_facts_from_months,
    year_completeness,
)
from spendkit.models.trends.peers import (
    PeerGroup,
    PeerMeasure,
    add_population,
    compare_with_peers,
    council_info,
    load_local_authorities,
    load_population,
    peer_group,
    per_head,
)
from spendkit.models.trends.suppliers import (
    HHI_HIGH,
    classify_payments,
    concentration,
    concentration_from_totals,
    cover_months,
    hhi,
    it_market,
    payment_kind_totals,
    recurring_vs_oneoff,
    spread_lumps,
    supplier_of,
    supplier_totals,
    top_suppliers,
    top_suppliers_from_totals,
)
from spendkit.reference.councils import resolve_council
from spendkit.reference.profiles import CouncilProfile
from spendkit.schema import require_columns
from spendkit.units.money import AMOUNT_DTYPE, as_amount, from_pence, sum_amounts, to_pence

__all__ = [
    "AMOUNT_DTYPE", "Coverage", "HHI_HIGH", "PERIODS", "PeerGroup", "PeerMeasure", "TrendResult",
    "InputError", "add_periods", "add_population", "as_amount", "category_shares",
    "classify_payments", "compare_with_peers", "completeness_calendar", "concentration",
    "council_code", "council_info", "council_year_totals", "cover_months", "coverage",
    "coverage_table", "exclude_incomplete", "flag_incomplete", "for_plot", "hhi", "it_market",
    "it_spend_trend", "join_extras", "ledger_profiles", "load_local_authorities",
    "load_population", "monthly_series", "observed_threshold", "payment_kind_totals",
    "peer_bands", "peer_comparison", "peer_group", "peer_measure", "per_head", "period_totals",
    "publisher_facts", "real_terms", "recurring_vs_oneoff", "rolling_12m", "spread_lumps",
    "supplier_of", "supplier_totals", "top_suppliers", "trend_summary", "year_completeness",
    "yoy_change",
    # aggregate-first twins: the same tables from `aggregates` (DuckDB) results
    "COVERAGE_PARTS", "calendar_from_months", "concentration_from_totals",
    "coverage_from_months", "coverage_table_from_months", "it_spend_trend_from_months",
    "monthly_series_from_months", "observed_threshold_from_months", "period_totals_from_months",
    "publisher_facts_from_months", "publisher_year_totals", "top_suppliers_from_totals",
]


def _is_it(df: pd.DataFrame) -> pd.Series:
    require_columns(df, ["is_it"], "IT spend")
    return df["is_it"].astype("boolean").fillna(False).astype(bool)


def _select(df: pd.DataFrame, it_only: bool) -> pd.DataFrame:
    return df[_is_it(df)] if it_only else df


# --- totals by period --------------------------------------------------------------------------


def period_totals(df: pd.DataFrame, period: str = "financial_year",
                  by: str | Sequence[str] = ("publisher_code",),
                  it_only: bool = False) -> pd.DataFrame:
    """Exact spend and payment count per group and `period` ('month', 'quarter', 'financial_year').

    Only periods with payments appear; use `monthly_series` for a gap-aware monthly series.
    `df` is payments, or `aggregates.month_totals` (no `payment_date`; `month`, `n_payments`
    and `it_payments` columns), so what builds on this (peer comparisons) runs on national
    aggregates unchanged.
    """
    if _is_month_totals(df):
        return period_totals_from_months(df, period, by, it_only)
    keys = as_tuple(by)
    require_columns(df, [*keys, "payment_date", "amount_gbp"], "period_totals")
    work = ensure_periods(_select(df, it_only), period)
    extra = ["fy_start"] if period == "financial_year" else []
    out = sum_amounts(work, [*keys, period, *extra])
    return out.drop(columns=extra)


def _is_month_totals(df: pd.DataFrame) -> bool:
    """True for an `aggregates.month_totals` table (payments summed per month), not payments."""
    return "payment_date" not in df.columns and {"month", "n_payments", "it_payments",
                                                 "it_gbp"} <= set(df.columns)


def period_totals_from_months(months: pd.DataFrame, period: str = "financial_year",
                              by: str | Sequence[str] = ("publisher_code",),
                              it_only: bool = False) -> pd.DataFrame:
    """`period_totals` from `aggregates.month_totals` (same columns, groups and sums)."""
    keys = as_tuple(by)
    value, count = ("it_gbp", "it_payments") if it_only else ("amount_gbp", "n_payments")
    require_columns(months, [*keys, "month", value, count], "period_totals_from_months")
    work = months[months[count] > 0] if it_only else months
    work = ensure_periods(work[[*keys, "month", count]].assign(
        _pence=to_pence(work[value]), payment_date=work["month"]), period)
    extra = ["fy_start"] if period == "financial_year" else []
    out = (work.groupby([*keys, period, *extra], sort=True, dropna=False, observed=True)
           .agg(_pence=("_pence", "sum"), n_payments=(count, "sum")).reset_index())
    out["amount_gbp"] = from_pence(out.pop("_pence"), out.index)
    return out[[*keys, period, "amount_gbp", "n_payments"]]


def publisher_year_totals(months: pd.DataFrame) -> pd.DataFrame:
    """Per council and financial year: IT and all spend, payments, months with payments.

    The table peer comparisons rank, from `aggregates.month_totals` (one SQL scan of every
    council's payments). Columns: `publisher_code`, `publisher_name`, `financial_year`,
    `it_gbp`, `total_gbp` (exact), `it_payments`, `n_payments`, `months_with_payments` and
    `months_with_it` (distinct months with any / with IT payments). Completeness is the
    calendar's to judge (`flag_incomplete`), not the month count's.
    """
    keys = ["publisher_code", "publisher_name"]
    require_columns(months, [*keys, "month", "n_payments", "amount_gbp", "it_payments",
                             "it_gbp"], "publisher_year_totals")
    work = add_periods(months[[*keys, "month", "n_payments", "it_payments"]].assign(
        payment_date=months["month"], _total=to_pence(months["amount_gbp"]),
        _it=to_pence(months["it_gbp"])))
    per_month = (work.groupby([*keys, "fy_start", "financial_year", "month"], sort=True,
                              dropna=False, observed=True)
                 [["_total", "_it", "n_payments", "it_payments"]].sum().reset_index())
    per_month["_paid"] = per_month["n_payments"].gt(0)
    per_month["_paid_it"] = per_month["it_payments"].gt(0)
    out = (per_month.groupby([*keys, "fy_start", "financial_year"], sort=True, dropna=False,
                             observed=True)
           .agg(_it=("_it", "sum"), _total=("_total", "sum"), it_payments=("it_payments", "sum"),
                n_payments=("n_payments", "sum"), months_with_payments=("_paid", "sum"),
                months_with_it=("_paid_it", "sum"))
           .reset_index().drop(columns="fy_start"))
    out.insert(3, "it_gbp", from_pence(out.pop("_it"), out.index))
    out.insert(4, "total_gbp", from_pence(out.pop("_total"), out.index))
    for col in ("it_payments", "n_payments", "months_with_payments", "months_with_it"):
        out[col] = out[col].astype("int64")
    return out


def monthly_series(df: pd.DataFrame, by: str | Sequence[str] = ("publisher_code",),
                   it_only: bool = False, calendar: pd.DataFrame | None = None) -> pd.DataFrame:
    """Spend per group and month over each group's whole span, missing months as NA (not 0).

    Columns: the `by` keys, `month`, `financial_year`, `amount_gbp` (NA where nothing was
    published), `n_payments` and, when a completeness `calendar` keyed by the same `by` is given,
    `status` and `is_complete` from it. With a calendar the span is the calendar's.
    """
    keys = as_tuple(by)
    return _monthly(period_totals(df, "month", keys, it_only), keys, calendar)


def monthly_series_from_months(months: pd.DataFrame,
                               by: str | Sequence[str] = ("publisher_code",),
                               it_only: bool = False,
                               calendar: pd.DataFrame | None = None) -> pd.DataFrame:
    """`monthly_series` from `aggregates.month_totals`."""
    keys = as_tuple(by)
    return _monthly(period_totals_from_months(months, "month", keys, it_only), keys, calendar)


def _monthly(totals: pd.DataFrame, keys: tuple[str, ...],
             calendar: pd.DataFrame | None) -> pd.DataFrame:
    """A gap-aware monthly series from `period_totals(..., "month")`."""
    if calendar is not None:
        require_columns(calendar, [*keys, "month", "status", "is_complete"], "calendar")
        frame = calendar[[*keys, "month", "status", "is_complete"]]
        if frame.duplicated([*keys, "month"]).any():  # per-council calendar, wider grouping
            frame = frame.groupby([*keys, "month"], dropna=False).agg(
                status=("status", lambda s: s[s.ne("present")].min()
                        if s.ne("present").any() else "present"),
                is_complete=("is_complete", "all")).reset_index()
    else:
        frame = _month_grid(totals, keys)
    out = frame.merge(totals, on=[*keys, "month"], how="left")
    out["n_payments"] = out["n_payments"].fillna(0).astype("int64")
    if calendar is not None:
        # A month the calendar has but with no IT payment is a true zero, not a gap.
        published = out["status"].ne("missing")
        out["amount_gbp"] = out["amount_gbp"].mask(published & out["amount_gbp"].isna(),
                                                   Decimal("0.00"))
    out["financial_year"] = fy_label(fy_start_year(out["month"]))
    cols = [*keys, "month", "financial_year", "amount_gbp", "n_payments",
            *[c for c in ("status", "is_complete") if c in out.columns]]
    return out[cols].sort_values([*keys, "month"], kind="stable").reset_index(drop=True)


def _month_grid(totals: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Every month between each group's first and last month with payments."""
    gkeys = list(keys) or ["_all"]
    spans = totals.assign(_all=0).groupby(gkeys, dropna=False)["month"].agg(["min", "max"])
    lengths = ((spans["max"].dt.year - spans["min"].dt.year) * 12
               + spans["max"].dt.month - spans["min"].dt.month + 1).to_numpy()
    starts = spans["min"].to_numpy().astype("datetime64[M]")
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    months = np.repeat(starts, lengths) + offsets.astype("timedelta64[M]")
    grid = spans.index.to_frame(index=False).loc[np.repeat(np.arange(len(spans)), lengths)]
    grid = grid.reset_index(drop=True)
    grid["month"] = months.astype("datetime64[ns]")
    for name in keys:
        grid[name] = grid[name].astype(totals[name].dtype)
    return grid.drop(columns=["_all"], errors="ignore")


def category_shares(df: pd.DataFrame, period: str = "financial_year",
                    by: str | Sequence[str] = ("publisher_code",)) -> pd.DataFrame:
    """IT spend per `it_category` within each group and period, with `share_pct` (sums to 100).

    Uncategorised IT spend is shown as category '(uncategorised)'.
    """
    keys = as_tuple(by)
    require_columns(df, [*keys, "it_category"], "category_shares")
    it = _select(df, True).copy()
    it["it_category"] = it["it_category"].astype("string").mask(
        text_blank(it["it_category"]), "(uncategorised)")
    work = ensure_periods(it, period)
    out = sum_amounts(work, [*keys, period, "it_category"])
    pence = to_pence(out["amount_gbp"]).astype("float64")
    total = pence.groupby([out[c] for c in (*keys, period)], dropna=False).transform("sum")
    out["share_pct"] = (pence / total.where(total != 0) * 100).astype("float64")
    return out


# --- change over time ----------------------------------------------------------------------------


def _previous_key(table: pd.DataFrame, period: str) -> pd.Series:
    """The key of the same period one year earlier."""
    if period == "month":
        return pd.to_datetime(table["month"]) - pd.DateOffset(years=1)
    if period == "financial_year":
        return fy_label(fy_label_start(table["financial_year"]) - 1)
    if period == "quarter":
        parts = table["quarter"].astype("string").str.extract(r"^(\d{4}-\d{2}) (Q[1-4])$")
        if parts[0].isna().any():
            raise InputError("quarter: expected labels like '2024-25 Q1', got "
                                   f"{table['quarter'][parts[0].isna()].iloc[0]!r}")
        return fy_label(fy_label_start(parts[0]) - 1) + " " + parts[1]
    raise InputError(f"period: expected one of {PERIODS}, got {period!r}")


def yoy_change(table: pd.DataFrame, period: str = "financial_year",
               by: str | Sequence[str] = ("publisher_code",),
               value: str = "amount_gbp") -> pd.DataFrame:
    """Year-on-year change: each period against the same period a year earlier.

    Adds `previous_gbp`, `change_gbp` (exact) and `change_pct` (float). When the table has
    `is_complete`, a change involving an incomplete period is NA, so a gap never reads as a fall.
    """
    keys = as_tuple(by)
    require_columns(table, [*keys, period, value], "yoy_change")
    out = table.copy()
    prev = table[[*keys, period, value]].copy()
    if "is_complete" in table.columns:
        prev["_prev_complete"] = table["is_complete"].astype(bool)
    prev = prev.rename(columns={period: "_prev_key", value: "previous_gbp"})
    out["_prev_key"] = _previous_key(out, period)
    if period == "month":
        prev["_prev_key"] = pd.to_datetime(prev["_prev_key"])
    merged = out.merge(prev, on=[*keys, "_prev_key"], how="left")
    merged.index = out.index
    current = to_pence(merged[value])
    previous = to_pence(merged["previous_gbp"])
    change = current - previous
    if "is_complete" in table.columns:
        ok = merged["is_complete"].astype(bool) & merged["_prev_complete"].astype(
            "boolean").fillna(False).astype(bool)
        change = change.where(ok)
        previous = previous.where(ok)
    out["previous_gbp"] = from_pence(previous, out.index)
    out["change_gbp"] = from_pence(change, out.index)
    ratio = change.astype("float64") / previous.astype("float64").where(previous != 0)
    out["change_pct"] = (ratio * 100).astype("float64")
    return out.drop(columns=["_prev_key"])


def rolling_12m(monthly: pd.DataFrame, by: str | Sequence[str] = ("publisher_code",),
                value: str = "amount_gbp") -> pd.DataFrame:
    """Rolling 12-month total (exact) ending in each month: NA unless all 12 months are known.

    `monthly` is a `monthly_series` table (one row per group and month, gaps as NA). Months
    with `is_complete` False, if that column is present, count as unknown.
    """
    keys = as_tuple(by)
    require_columns(monthly, [*keys, "month", value], "rolling_12m")
    out = monthly.sort_values([*keys, "month"], kind="stable").copy()
    pence = to_pence(out[value]).astype("float64")  # exact: pence well below 2**53
    if "is_complete" in out.columns:
        pence = pence.where(out["is_complete"].astype(bool))
    month_no = out["month"].dt.year * 12 + out["month"].dt.month
    gkeys = [out[k] for k in keys]
    if keys:
        gap = month_no.groupby(gkeys, dropna=False).diff().fillna(1).ne(1)
        roll = pence.groupby(gkeys, dropna=False).transform(
            lambda s: s.rolling(12, min_periods=12).sum())
        # A jump in the month sequence means the window is not 12 consecutive months.
        breaks = gap.astype("int64").groupby(gkeys, dropna=False).transform(
            lambda s: s.rolling(11, min_periods=1).sum())
    else:
        gap = month_no.diff().fillna(1).ne(1)
        roll = pence.rolling(12, min_periods=12).sum()
        breaks = gap.astype("int64").rolling(11, min_periods=1).sum()
    roll = roll.where(breaks.eq(0))
    out["rolling_12m_gbp"] = from_pence(roll.round().astype("Int64"), out.index)
    return out.reset_index(drop=True)


# --- real terms, population, councils ----------------------------------------------------------


def real_terms(table: pd.DataFrame, base_year: str, value: str = "amount_gbp",
               year: str = "financial_year", extend_to: str | None = None,
               missing: str = "na") -> pd.DataFrame:
    """Add `<value>_real` (float, `base_year` prices) via `spendkit.reference.economy`.

    Uses the GDP deflator (`economy.gdp_deflator(base_year, extend_to=...)`). Years the deflator
    lacks give NA (`missing='na'`, the default; `real_terms_known` says which) or raise
    (`missing='raise'`).
    """
    from spendkit.reference import economy  # imported here: economy is optional for cash trends

    if missing not in ("na", "raise"):
        raise InputError(f"missing: expected 'na' or 'raise', got {missing!r}")
    require_columns(table, [value, year], "real_terms")
    deflator = economy.gdp_deflator(base_year, extend_to=extend_to)
    out = table.copy()
    years = out[year].astype("string")
    known = years.isin(deflator.index)
    if missing == "raise" or known.all():
        real = economy.to_real_terms(out[value], years, base_year, deflator=deflator)
    else:
        real = pd.Series(np.nan, index=out.index)
        if known.any():
            real[known] = economy.to_real_terms(out.loc[known, value], years[known],
                                                base_year, deflator=deflator)
    out[f"{value}_real"] = real.astype("float64").round(2)
    out["real_terms_base"] = base_year
    out["real_terms_known"] = known.to_numpy()
    return out


# --- coverage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """What a headline figure rests on: spend classified, unclassified, redacted; months missing.

    Amounts are exact net sums. A payment is *classified* when evidence decided it IT or not
    IT (`is_it` known and, when the frame has `it_basis`, a non-empty basis such as
    "expense_type" or "expense_type (not IT)"), and *unclassified* when there is no evidence
    either way (`is_it` missing or `it_basis` ""; such spend is counted as not IT). Redacted
    spend is reported apart and may overlap either. Shares are of `total_gbp` (net, so credits
    count against the share they sit in).
    """

    total_gbp: Decimal
    n_payments: int
    it_gbp: Decimal
    classified_gbp: Decimal
    unclassified_gbp: Decimal
    redacted_gbp: Decimal
    it_uncategorised_gbp: Decimal
    months_present: int
    months_missing: tuple[str, ...]
    months_incomplete: tuple[str, ...]

    def _pct(self, part: Decimal) -> float:
        return float(part / self.total_gbp * 100) if self.total_gbp else float("nan")

    @property
    def classified_pct(self) -> float:
        """Share of spend whose IT / not-IT status was decided on evidence."""
        return self._pct(self.classified_gbp)

    @property
    def unclassified_pct(self) -> float:
        """Share of spend with no classification evidence."""
        return self._pct(self.unclassified_gbp)

    @property
    def redacted_pct(self) -> float:
        """Share of spend whose supplier was withheld."""
        return self._pct(self.redacted_gbp)

    def as_dict(self) -> dict[str, object]:
        """Fields and percentages as a plain dict (for a one-row table or a caption)."""
        out = asdict(self)
        out.update(classified_pct=self.classified_pct, unclassified_pct=self.unclassified_pct,
                   redacted_pct=self.redacted_pct)
        return out

    def caption(self) -> str:
        """One line to print under a chart: coverage in words."""
        gaps = len(self.months_missing) + len(self.months_incomplete)
        # Spend with no evidence is counted as not IT by default; say so, or a reader takes
        # it for spend of unknown kind.
        return (f"{self.classified_pct:.1f}% of spend classified on evidence (IT or not IT), "
                f"{self.unclassified_pct:.1f}% no evidence either way (counted as not IT), "
                f"{self.redacted_pct:.1f}% redacted; {self.months_present} months present, "
                f"{gaps} missing or incomplete")


def _coverage_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Per-payment pence columns for each coverage part."""
    require_columns(df, ["amount_gbp", "is_it"], "coverage")
    pence = to_pence(df["amount_gbp"]).fillna(0)
    is_it_known = df["is_it"].notna()
    classified = is_it_known & ~text_blank(df["it_basis"]) if "it_basis" in df.columns \
        else is_it_known
    is_it = _is_it(df)
    redacted = (df["is_redacted"].astype("boolean").fillna(False).astype(bool)
                if "is_redacted" in df.columns else pd.Series(False, index=df.index))
    uncategorised = is_it & (text_blank(df["it_category"]) if "it_category" in df.columns
                             else True)
    zero = pd.Series(0, index=df.index, dtype="Int64")
    return pd.DataFrame({
        "total": pence, "it": pence.where(is_it, zero),
        "classified": pence.where(classified, zero),
        "unclassified": pence.where(~classified, zero),
        "redacted": pence.where(redacted, zero),
        "it_uncategorised": pence.where(uncategorised, zero),
    }, index=df.index)


def coverage_table(df: pd.DataFrame, by: str | Sequence[str] = ("publisher_code",),
                   period: str | None = "financial_year",
                   calendar: pd.DataFrame | None = None) -> pd.DataFrame:
    """Coverage of all spend per group (and period): classified, unclassified, redacted, months.

    Columns: keys, `total_gbp`, `it_gbp`, `classified_gbp`, `unclassified_gbp`, `redacted_gbp`,
    `it_uncategorised_gbp` (exact), their `_pct` of total, `n_payments` and, from the
    completeness `calendar` (built from `df` when not given; keyed by `publisher_code`),
    `months_present`, `months_missing` (missing, sparse or duplicated months) per group.
    """
    keys = as_tuple(by)
    gkeys = [*keys, *([period] if period else [])]
    work = ensure_periods(df, period) if period else df
    parts = _coverage_columns(work)
    parts[gkeys] = work[gkeys]
    grouped = parts.groupby(gkeys, dropna=False, sort=True) if gkeys else None
    sums = (grouped[list(parts.columns.difference(gkeys))].sum().reset_index() if gkeys
            else parts.drop(columns=gkeys).sum().to_frame().T)
    sums["n_payments"] = (grouped.size().to_numpy() if gkeys else len(parts))
    cal = None
    if "publisher_code" in df.columns and "source_file" in df.columns:
        cal = calendar if calendar is not None else completeness_calendar(df)
    return _coverage_finish(sums, keys, period, cal)


#: Coverage parts: `month_totals` column of each (`total` is all spend).
COVERAGE_PARTS = {"total": "amount_gbp", "it": "it_gbp", "classified": "classified_gbp",
                  "unclassified": "unclassified_gbp", "redacted": "redacted_gbp",
                  "it_uncategorised": "it_uncategorised_gbp"}


def coverage_table_from_months(months: pd.DataFrame,
                               by: str | Sequence[str] = ("publisher_code",),
                               period: str | None = "financial_year",
                               calendar: pd.DataFrame | None = None) -> pd.DataFrame:
    """`coverage_table` from `aggregates.month_totals`; `calendar` (of the same data, e.g.
    `calendar_from_months`) is required when the months carry `publisher_code`."""
    keys = as_tuple(by)
    gkeys = [*keys, *([period] if period else [])]
    require_columns(months, [*keys, "month", "n_payments", *COVERAGE_PARTS.values()],
                    "coverage_table_from_months")
    work = ensure_periods(months.assign(payment_date=months["month"]), period) if period \
        else months
    parts = pd.DataFrame({part: to_pence(work[col]) for part, col in COVERAGE_PARTS.items()})
    parts["n_payments"] = work["n_payments"]
    parts[gkeys] = work[gkeys]
    if gkeys:
        sums = parts.groupby(gkeys, dropna=False, sort=True)[
            sorted(COVERAGE_PARTS)].sum().reset_index()
        sums["n_payments"] = parts.groupby(gkeys, dropna=False, sort=True)[
            "n_payments"].sum().to_numpy()
    else:
        sums = parts[sorted(COVERAGE_PARTS)].sum().to_frame().T
        sums["n_payments"] = int(parts["n_payments"].sum())
    return _coverage_finish(sums, keys, period,
                            _needs_calendar(months, calendar, "coverage_table_from_months"))


def _needs_calendar(months: pd.DataFrame, calendar: pd.DataFrame | None,
                    what: str) -> pd.DataFrame | None:
    """The calendar a months-based coverage needs (none without `publisher_code`)."""
    if "publisher_code" not in months.columns:
        return None
    if calendar is None:
        raise InputError(f"{what}: calendar: expected the completeness calendar of the same "
                         "data (calendar_from_months), got None")
    return calendar


def _coverage_finish(sums: pd.DataFrame, keys: tuple[str, ...], period: str | None,
                     cal: pd.DataFrame | None) -> pd.DataFrame:
    """Shares and months present/missing from the summed coverage parts (pence) per group."""
    gkeys = [*keys, *([period] if period else [])]
    total = sums["total"].astype("float64")
    for part in ("total", "it", "classified", "unclassified", "redacted", "it_uncategorised"):
        if part != "total":
            sums[f"{part}_pct"] = sums[part].astype("float64") / total.where(total != 0) * 100
        sums[f"{part}_gbp"] = from_pence(sums.pop(part).astype("Int64"), sums.index)
    if cal is not None:
        months = cal.assign(_ok=cal["is_complete"], _gap=~cal["is_complete"])
        mkeys = [k for k in gkeys if k in months.columns]
        counts = months.groupby(mkeys, dropna=False)[["_ok", "_gap"]].sum().reset_index() \
            if mkeys else pd.DataFrame({"_ok": [months["_ok"].sum()],
                                        "_gap": [months["_gap"].sum()]})
        counts = counts.rename(columns={"_ok": "months_present", "_gap": "months_missing"})
        sums = sums.merge(counts, on=mkeys, how="left") if mkeys else sums.assign(
            months_present=counts["months_present"].iloc[0],
            months_missing=counts["months_missing"].iloc[0])
        if period == "financial_year" and "publisher_code" in keys:
            # A year's months outside the published span are missing too.
            sums["months_missing"] = 12 - sums["months_present"].fillna(0)
    return sums


def coverage(df: pd.DataFrame, calendar: pd.DataFrame | None = None) -> Coverage:
    """The `Coverage` of one headline figure computed from all of `df`."""
    parts = _coverage_columns(df).sum()
    cal = None
    if "source_file" in df.columns and "publisher_code" in df.columns and len(df):
        cal = calendar if calendar is not None else completeness_calendar(df)
    return _coverage_of({part: int(parts[part]) for part in COVERAGE_PARTS}, len(df), cal)


def coverage_from_months(months: pd.DataFrame,
                         calendar: pd.DataFrame | None = None) -> Coverage:
    """The `Coverage` of all the payments in `aggregates.month_totals` (`calendar` of the same
    data required when the months carry `publisher_code`)."""
    require_columns(months, ["n_payments", *COVERAGE_PARTS.values()], "coverage_from_months")
    pence = {part: int(to_pence(months[col]).sum()) for part, col in COVERAGE_PARTS.items()}
    cal = _needs_calendar(months, calendar, "coverage_from_months") if len(months) else None
    return _coverage_of(pence, int(months["n_payments"].sum()), cal)


def _coverage_of(pence: dict[str, int], n_payments: int, cal: pd.DataFrame | None) -> Coverage:
    def gbp(name: str) -> Decimal:
        return Decimal(pence[name]) / 100

    missing: tuple[str, ...] = ()
    incomplete: tuple[str, ...] = ()
    present = 0
    if cal is not None:
        label = cal["publisher_code"].astype("string") + " " + cal["month_label"]
        missing = tuple(label[cal["status"].eq("missing")])
        incomplete = tuple(label[cal["status"].isin(["sparse", "duplicated"])])
        present = int(cal["is_complete"].sum())
    return Coverage(total_gbp=gbp("total"), n_payments=n_payments, it_gbp=gbp("it"),
                    classified_gbp=gbp("classified"), unclassified_gbp=gbp("unclassified"),
                    redacted_gbp=gbp("redacted"), it_uncategorised_gbp=gbp("it_uncategorised"),
                    months_present=present, months_missing=missing,
                    months_incomplete=incomplete)


# --- headline tables -----------------------------------------------------------------------------


class TrendResult(NamedTuple):
    """A headline table and the coverage of the spend behind it (same keys and periods)."""

    table: pd.DataFrame
    coverage: pd.DataFrame


def it_spend_trend(df: pd.DataFrame, period: str = "financial_year",
                   by: str | Sequence[str] = ("publisher_code",), base_year: str | None = None,
                   per_resident: bool = False, calendar: pd.DataFrame | None = None,
                   extend_to: str | None = None) -> TrendResult:
    """IT spend per council and period with completeness, year-on-year change and coverage.

    Table columns: keys, `period`, `amount_gbp`, `n_payments`, `is_complete`, `previous_gbp`,
    `change_gbp`, `change_pct`; plus `amount_gbp_real` with `base_year` and
    `amount_gbp_per_head` (and `amount_gbp_real_per_head`) with `per_resident`. Change is NA
    where either year is incomplete. `extend_to` lets real terms reach years after the
    deflator's last outturn at its assumed growth (see `economy.gdp_deflator`).
    """
    keys = as_tuple(by)
    if calendar is not None:
        cal = calendar
    else:  # completeness is judged per council (its own files), whatever the grouping
        cal = completeness_calendar(df, "publisher_code" if "publisher_code" in df.columns
                                    else keys)
    if period == "month":
        table = monthly_series(df, keys, it_only=True, calendar=cal)
    else:
        table = flag_incomplete(period_totals(df, period, keys, it_only=True), cal, keys)
    cov = coverage_table(df, keys, period if period != "month" else None, calendar=cal)
    return _trend(table, cov, period, keys, base_year, per_resident, extend_to)


def it_spend_trend_from_months(months: pd.DataFrame, calendar: pd.DataFrame,
                               period: str = "financial_year",
                               by: str | Sequence[str] = ("publisher_code",),
                               base_year: str | None = None, per_resident: bool = False,
                               extend_to: str | None = None) -> TrendResult:
    """`it_spend_trend` from `aggregates.month_totals` and the calendar of the same data."""
    keys = as_tuple(by)
    if period == "month":
        table = monthly_series_from_months(months, keys, it_only=True, calendar=calendar)
    else:
        table = flag_incomplete(period_totals_from_months(months, period, keys, it_only=True),
                                calendar, keys)
    cov = coverage_table_from_months(months, keys, period if period != "month" else None,
                                     calendar=calendar)
    return _trend(table, cov, period, keys, base_year, per_resident, extend_to)


def _trend(table: pd.DataFrame, cov: pd.DataFrame, period: str, keys: tuple[str, ...],
           base_year: str | None, per_resident: bool, extend_to: str | None) -> TrendResult:
    """Year-on-year change, real terms and per-head values on a flagged totals table."""
    table = yoy_change(table, period, keys)
    values = ["amount_gbp"]
    if base_year is not None:
        year_col = "financial_year"
        table = real_terms(table, base_year, year=year_col, extend_to=extend_to)
        values.append("amount_gbp_real")
    if per_resident:
        table = per_head(table, values)
    return TrendResult(table.reset_index(drop=True), cov)


def council_year_totals(df: pd.DataFrame, calendar: pd.DataFrame | None = None,
                        it_only: bool = True) -> pd.DataFrame:
    """IT spend per council and financial year (exact) with `is_complete`: the peers' input.

    Columns: `publisher_code`, `financial_year`, `amount_gbp`, `n_payments`, `is_complete`
    (all 12 months present in the completeness calendar).
    """
    cal = calendar if calendar is not None else completeness_calendar(df)
    return flag_incomplete(period_totals(df, "financial_year", "publisher_code", it_only), cal)


def peer_measure(df: pd.DataFrame, council: str, *, profile: CouncilProfile | None = None,
                 peers: Sequence[str] | None = None, year: str | None = None,
                 calendar: pd.DataFrame | None = None, min_peers: int = 5,
                 totals: pd.DataFrame | None = None,
                 vat_basis: Mapping[str, str] | None = None) -> PeerMeasure:
    """Where `council` (a GSS code or publisher name in `df`) sits among its like-for-like peers.

    The peer group is `peers`, else the profile's chosen peers, else the council's nearest
    same-tier ONS neighbours (`peers.peer_group`); only peers with a complete year in `df`
    are compared (`peers.compare_with_peers`). `totals` (from `council_year_totals`, or an
    aggregate query) skips the aggregation over `df`. `vat_basis` (GSS code -> 'net' /
    'gross', from the ledger or profiles) flags a comparison across publishing bases.
    """
    code = council_code(df, council)
    names = df.loc[df["publisher_code"].astype("string") == code, "publisher_name"]
    name = str(names.iloc[0]) if len(names) else None
    group = peer_group(code, profile=profile, peers=peers, council_name=name)
    table = totals if totals is not None else council_year_totals(df, calendar)
    return compare_with_peers(table, group, year=year, min_peers=min_peers,
                              vat_basis=vat_basis)


def peer_comparison(df: pd.DataFrame, base_year: str | None = None,
                    population: pd.DataFrame | None = None,
                    calendar: pd.DataFrame | None = None, it_only: bool = True,
                    complete_only: bool = True, extend_to: str | None = None,
                    council: str | None = None, profile: CouncilProfile | None = None,
                    peers: Sequence[str] | None = None) -> pd.DataFrame:
    """Councils against each other per financial year, per head (ONS mid-2024 population).

    Columns: `publisher_code`, `financial_year`, `amount_gbp`, `is_complete`, council name/type/
    tier/region, population, `value_per_head` (real terms in `base_year` prices when given, else
    cash), `n_peers` (councils ranked that year), `percentile` (0 = lowest, 100 = highest, the
    share of the *other* ranked councils below) and `band` ('lowest quarter' .. 'highest
    quarter'). With `complete_only`, incomplete years are kept but not ranked (band
    'incomplete year'); councils without a population get 'no population'.

    With `council` (GSS code or publisher name), only that council and its like-for-like peer
    group with data are kept (`peer_group`: the `peers` given, the profile's, or the nearest
    same-tier ONS neighbours), `is_council` marks it and `attrs["peer_group"]` describes the
    group. Without `council` every council in the data is compared with every other, of mixed
    tier: compare `tier` before reading much into a rank.
    """
    cal = calendar if calendar is not None else completeness_calendar(df)
    table = council_year_totals(df, cal, it_only)
    group = None
    if council is not None:
        code = council_code(df, council)
        names = df.loc[df["publisher_code"].astype("string") == code, "publisher_name"]
        group = peer_group(code, profile=profile, peers=peers,
                           council_name=str(names.iloc[0]) if len(names) else None)
        keep = {group.council_code, *group.members}
        table = table[table["publisher_code"].astype("string").isin(keep)]
    value = "amount_gbp"
    if base_year is not None:
        table = real_terms(table, base_year, extend_to=extend_to)
        value = "amount_gbp_real"
    table = per_head(table, [value], population)
    table["value_per_head"] = table[f"{value}_per_head"]
    info = council_info(table["publisher_code"]).rename(columns={"gss_code": "publisher_code"})
    table = table.assign(publisher_code=table["publisher_code"].astype("string")).merge(
        info, on="publisher_code", how="left")
    rankable = table["value_per_head"].notna()
    if complete_only:
        rankable &= table["is_complete"]
    ranked = table[rankable]
    rank = ranked.groupby("financial_year")["value_per_head"].rank(method="average")
    n = ranked.groupby("financial_year")["value_per_head"].transform("size")
    table["n_peers"] = n.reindex(table.index).astype("Int64")
    table["percentile"] = ((rank - 1) / (n - 1).where(n > 1) * 100).reindex(table.index)
    bands = pd.cut(table["percentile"], [-0.1, 25, 50, 75, 100],
                   labels=["lowest quarter", "second quarter", "third quarter",
                           "highest quarter"]).astype("string")
    bands = bands.mask(table["n_peers"].eq(1).fillna(False), "no peers")
    bands = bands.mask(table["value_per_head"].isna(), "no population")
    if complete_only:
        bands = bands.mask(~table["is_complete"], "incomplete year")
    table["band"] = bands
    if group is not None:
        table["is_council"] = table["publisher_code"].eq(group.council_code)
    out = table.sort_values(["financial_year", "publisher_code"], kind="stable").reset_index(
        drop=True)
    out.attrs["peer_group"] = (group.describe() if group is not None else
                               "every council in the data (mixed tiers)")
    return out


def peer_bands(peers: pd.DataFrame, value: str = "value_per_head") -> pd.DataFrame:
    """Per financial year, the spread of the ranked councils in a `peer_comparison` table.

    Columns: `financial_year`, `n_peers`, `min`, `p25`, `median`, `p75`, `max` of `value`
    (linear-interpolated percentiles) over councils with a rank that year; years with none
    are left out.
    """
    require_columns(peers, ["financial_year", value, "percentile"], "peer_bands")
    ranked = peers[peers["percentile"].notna()]
    grouped = ranked.groupby("financial_year", sort=True)[value]
    out = pd.DataFrame({
        "n_peers": grouped.size(),
        "min": grouped.min(),
        "p25": grouped.quantile(0.25),
        "median": grouped.median(),
        "p75": grouped.quantile(0.75),
        "max": grouped.max(),
    })
    return out.reset_index()


def trend_summary(result: TrendResult, period: str = "financial_year") -> pd.DataFrame:
    """A headline table with its coverage alongside: one row per group and period.

    Joins `it_spend_trend`'s table and coverage on their keys and period, keeping the spend
    columns (cash, real, per head, change) and the coverage shares (IT share of all spend,
    classified, unclassified, redacted) and months present / missing.
    """
    table, cov = result
    keys = [c for c in cov.columns if c in table.columns and c != "n_payments"]
    if period not in keys:
        raise InputError(f"trend_summary: period {period!r} is not a key of both tables "
                               f"(keys {keys})")
    spend = [c for c in ("amount_gbp", "amount_gbp_real", "amount_gbp_per_head",
                         "amount_gbp_real_per_head", "n_payments", "change_gbp", "change_pct",
                         "is_complete") if c in table.columns]
    shares = [c for c in ("it_pct", "classified_pct", "unclassified_pct", "redacted_pct",
                          "months_present", "months_missing") if c in cov.columns]
    return table[[*keys, *spend]].merge(cov[[*keys, *shares]], on=keys, how="left",
                                        validate="one_to_one")


def council_code(df: pd.DataFrame, council: str) -> str:
    """The GSS code of `council` (a `publisher_name` or GSS code present in `df`).

    Raises `InputError` listing the councils in the data when it is not one of them.
    """
    require_columns(df, ["publisher_name", "publisher_code"], "council_code")
    found = resolve_council(council, available=df)
    if not found.code:
        raise InputError(f"council: {council!r} ({found.name}) has no GSS code in the data; "
                         "expected a publisher with a code (a profile line can give one)")
    return found.code
