"""Shared helpers for the trend models: exact money arithmetic, UK periods, column checks.

Money stays an Arrow decimal (`spendkit.schema.AMOUNT_TYPE`) from input to output. Where a
calculation needs integer arithmetic (rolling sums, spreading a lump over months) it runs on
whole pence held as Int64 and converts back, so totals agree with the input to the penny.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pyarrow as pa

from spendkit.errors import InputError
from spendkit.schema import require_columns
from spendkit.units import periods
from spendkit.units.money import AMOUNT_TYPE

#: pandas dtype of every money column this package returns.
AMOUNT_DTYPE = pd.ArrowDtype(AMOUNT_TYPE)

#: Period columns `add_periods` creates and the trend functions accept.
PERIODS = ("month", "quarter", "financial_year")


def as_tuple(by: str | Sequence[str] | None) -> tuple[str, ...]:
    """Normalise a `by` argument (None, one name or several) to a tuple of column names."""
    if by is None:
        return ()
    if isinstance(by, str):
        return (by,)
    return tuple(by)


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
    return periods.financial_year_start_years(to_timestamp(dates))


def fy_label(start_year: pd.Series) -> pd.Series:
    """Financial-year labels like '2024-25' from starting years (NA stays NA)."""
    return periods.labels_for_start_years(start_year)


def fy_label_start(labels: pd.Series) -> pd.Series:
    """Starting year (Int64) of financial-year labels like '2024-25'; bad labels raise."""
    return periods.start_years_of_labels(labels)


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
    out["fy_quarter"] = periods.fy_quarter(ts)
    out["quarter"] = out["financial_year"] + " Q" + out["fy_quarter"].astype("string")
    return out


def ensure_periods(df: pd.DataFrame, period: str) -> pd.DataFrame:
    """`df` with period columns added when `period` is not yet a column; checks `period`."""
    if period not in PERIODS:
        raise InputError(f"period: expected one of {PERIODS}, got {period!r}")
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
            raise InputError("join_extras: extras have more than one row for the same "
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
