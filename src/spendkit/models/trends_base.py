"""Shared helpers for the trend models: exact money arithmetic, UK periods, column checks.

Money stays an Arrow decimal (`spendkit.fields.AMOUNT_TYPE`) from input to output. Where a
calculation needs integer arithmetic (rolling sums, spreading a lump over months) it runs on
whole pence held as Int64 and converts back, so totals agree with the input to the penny.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.errors import SpendkitError
from spendkit.fields import AMOUNT_TYPE

#: pandas dtype of every money column this package returns.
AMOUNT_DTYPE = pd.ArrowDtype(AMOUNT_TYPE)

#: Period columns `add_periods` creates and the trend functions accept.
PERIODS = ("month", "quarter", "financial_year")


class TrendsInputError(SpendkitError):
    """Bad input to a trend function: names the argument or column and what was expected."""


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise `TrendsInputError` naming the missing columns when `df` lacks any of `columns`."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TrendsInputError(
            f"{what}: missing column(s) {missing}; expected the canonical columns of "
            f"spendkit.fields (and enrichment columns where needed), got {list(df.columns)}"
        )


def as_tuple(by: str | Sequence[str] | None) -> tuple[str, ...]:
    """Normalise a `by` argument (None, one name or several) to a tuple of column names."""
    if by is None:
        return ()
    if isinstance(by, str):
        return (by,)
    return tuple(by)


def as_amount(values: pd.Series, name: str = "amount_gbp") -> pd.Series:
    """Return `values` as exact pence decimals (`AMOUNT_DTYPE`), accepting decimals or numbers.

    Floats are rounded to the penny first (a hand-made frame may use them); text is refused.
    """
    if isinstance(values.dtype, pd.ArrowDtype) and pa.types.is_decimal(values.dtype.pyarrow_dtype):
        if values.dtype == AMOUNT_DTYPE:
            return values
        arr = pa.array(values)
        return pd.Series(pc.cast(pc.round(arr, 2), AMOUNT_TYPE), index=values.index,
                         dtype=AMOUNT_DTYPE, name=values.name)
    if pd.api.types.is_numeric_dtype(values.dtype):
        as_float = pd.to_numeric(values).astype("float64").round(2)
        arr = pc.cast(pa.array(as_float, from_pandas=True), AMOUNT_TYPE, safe=False)
        return pd.Series(arr, index=values.index, dtype=AMOUNT_DTYPE, name=values.name)
    if values.dtype == object and values.dropna().map(type).eq(Decimal).all():
        arr = pc.cast(pa.array(values, from_pandas=True), AMOUNT_TYPE)
        return pd.Series(arr, index=values.index, dtype=AMOUNT_DTYPE, name=values.name)
    raise TrendsInputError(
        f"column {name!r}: expected an exact decimal amount (pd.ArrowDtype(decimal128(18, 2))) "
        f"or numbers, got dtype {values.dtype}"
    )


def to_pence(values: pd.Series) -> pd.Series:
    """Exact amounts as whole pence (nullable Int64), for integer arithmetic."""
    arr = pa.array(as_amount(values))
    pence = pc.cast(pc.multiply(arr, pa.scalar(100, pa.int64())), pa.int64())
    ints = pd.array(pd.arrays.ArrowExtensionArray(pence)).astype("Int64")
    return pd.Series(ints, index=values.index, name=values.name)


def from_pence(pence: pd.Series | np.ndarray, index: pd.Index | None = None) -> pd.Series:
    """Whole pence (ints, NA allowed) back to exact amounts (`AMOUNT_DTYPE`)."""
    if isinstance(pence, pd.Series):
        # Positional: the caller's `index` labels the values, it does not select them.
        series = pd.Series(pence.to_numpy(), index=pence.index if index is None else index)
    else:
        series = pd.Series(pence, index=index)
    series = series.astype("Int64")
    arr = pc.cast(pa.array(series, from_pandas=True, type=pa.int64()), pa.decimal128(20, 0))
    exact = pc.multiply(arr, pa.scalar(Decimal("0.01"), pa.decimal128(3, 2)))
    return pd.Series(pc.cast(exact, AMOUNT_TYPE), index=series.index, dtype=AMOUNT_DTYPE)


def sum_amounts(df: pd.DataFrame, by: Sequence[str], column: str = "amount_gbp",
                count_name: str | None = "n_payments") -> pd.DataFrame:
    """Exact sum of `column` per group of `by` (groups sorted), with a payment count."""
    work = df[[*by]].copy()
    work["_pence"] = to_pence(df[column])
    if by:
        grouped = work.groupby(list(by), sort=True, dropna=False, observed=True)["_pence"]
        out = grouped.agg(["sum", "size"]).reset_index()
    else:
        out = pd.DataFrame({"sum": [work["_pence"].sum()], "size": [len(work)]})
    out[column] = from_pence(out.pop("sum"), out.index)
    size = out.pop("size")
    if count_name:
        out[count_name] = size.astype("int64")
    return out


def to_timestamp(dates: pd.Series) -> pd.Series:
    """Dates (Arrow date32, datetime or ISO text) as pandas datetime64 values."""
    if isinstance(dates.dtype, pd.ArrowDtype) or dates.dtype == object:
        return pd.to_datetime(dates.astype("object"), errors="raise")
    return pd.to_datetime(dates)


def month_start(dates: pd.Series) -> pd.Series:
    """The first day of each date's calendar month, as datetime64 (plots as a time axis)."""
    ts = to_timestamp(dates)
    return ts.dt.to_period("M").dt.to_timestamp()


def fy_start_year(dates: pd.Series) -> pd.Series:
    """Starting calendar year of the UK financial year (1 April - 31 March) of each date."""
    from spendkit.models.economy import financial_year_start_years

    return financial_year_start_years(to_timestamp(dates))


def fy_label(start_year: pd.Series) -> pd.Series:
    """Financial-year labels like '2024-25' from starting years (NA stays NA)."""
    start = pd.Series(start_year).astype("Int64")
    label = start.astype("string") + "-" + ((start + 1) % 100).astype("string").str.zfill(2)
    return label.astype("string")


def fy_label_start(labels: pd.Series) -> pd.Series:
    """Starting year (Int64) of financial-year labels like '2024-25'; bad labels raise."""
    text = pd.Series(labels).astype("string")
    parsed = text.str.extract(r"^(\d{4})-(\d{2})$")
    start = pd.to_numeric(parsed[0], errors="coerce").astype("Int64")
    bad = text.notna() & (start.isna() | ((start + 1) % 100 != pd.to_numeric(parsed[1])))
    if bad.any():
        raise TrendsInputError(
            f"financial_year: expected labels like '2024-25', got {text[bad].iloc[0]!r}"
        )
    return start


def add_periods(df: pd.DataFrame, date_col: str = "payment_date") -> pd.DataFrame:
    """Copy of `df` with UK period columns: month, fy_start, financial_year, fy_quarter, quarter.

    `month` is the month's first day (datetime64); `financial_year` runs 1 April to 31 March and
    is labelled '2024-25'; `fy_quarter` is 1 for April-June through 4 for January-March, and
    `quarter` combines both ('2024-25 Q1').
    """
    require_columns(df, [date_col], "add_periods")
    out = df.copy()
    ts = to_timestamp(out[date_col])
    out["month"] = ts.dt.to_period("M").dt.to_timestamp()
    out["fy_start"] = fy_start_year(ts)
    out["financial_year"] = fy_label(out["fy_start"])
    out["fy_quarter"] = (((ts.dt.month - 4) % 12) // 3 + 1).astype("Int64")
    out["quarter"] = out["financial_year"] + " Q" + out["fy_quarter"].astype("string")
    return out


def ensure_periods(df: pd.DataFrame, period: str) -> pd.DataFrame:
    """`df` with period columns added when `period` is not yet a column; checks `period`."""
    if period not in PERIODS:
        raise TrendsInputError(f"period: expected one of {PERIODS}, got {period!r}")
    if period in df.columns and "fy_start" in df.columns:
        return df
    return add_periods(df)


def month_label(months: pd.Series) -> pd.Series:
    """'2024-04' labels for month-start timestamps."""
    return pd.to_datetime(months).dt.strftime("%Y-%m").astype("string")


def text_blank(values: pd.Series) -> pd.Series:
    """True where a text value is missing or only whitespace."""
    return values.isna() | values.astype("string").str.strip().eq("").fillna(True)


def for_plot(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of `df` with decimal money columns as float64, for charts (never for totals)."""
    out = df.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if isinstance(dtype, pd.ArrowDtype) and pa.types.is_decimal(dtype.pyarrow_dtype):
            out[col] = out[col].astype("float64")
    return out


#: Columns that identify a published row in the transactions and in `read_extras()`.
ROW_KEYS = ("source_file", "source_sheet", "source_line")


def join_extras(df: pd.DataFrame, extras: pd.DataFrame,
                columns: Sequence[str] = ("purpose",)) -> pd.DataFrame:
    """`df` with published non-canonical `columns` (from `datasets.read_extras()`) added by row.

    Rows are matched on source file, sheet and line; rows without extras get NA. The row
    count and order of `df` never change (each published row has at most one extras row).
    Columns absent from `extras` are added as all-NA, so a notebook works on any ingest.
    """
    require_columns(df, ROW_KEYS, "join_extras")
    present = [c for c in columns if c in extras.columns]
    out = df.drop(columns=[c for c in columns if c in df.columns])
    if present:
        require_columns(extras, ROW_KEYS, "join_extras extras")
        right = extras[[*ROW_KEYS, *present]].copy()
        right = right[right[present].notna().any(axis=1)]
        for key in ROW_KEYS:
            right[key] = right[key].astype(df[key].dtype)
        if right.duplicated(list(ROW_KEYS)).any():
            raise TrendsInputError("join_extras: extras have more than one row for the same "
                                   "source_file, source_sheet and source_line")
        merged = out.merge(right, on=list(ROW_KEYS), how="left", validate="many_to_one")
        merged.index = out.index
        out = merged
    for col in columns:
        if col not in out.columns:
            out[col] = pd.Series(pd.NA, index=out.index, dtype="string")
        else:
            out[col] = out[col].astype("string")
    return out
