"""UK financial years (1 April to 31 March, labelled '2021-22'), months and quarters.

The one place the April boundary is written: every stage (ingest partitions, trends, licensing,
coverage, scenarios) labels and parses financial years through these functions, for single
values, pandas columns, numpy month indexes and Arrow date columns alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from spendkit.errors import InputError

#: Month of the year (1-based) a financial year starts in.
FIRST_MONTH = 4

_FY_RE = re.compile(r"^(\d{4})-(\d{2})$")


def financial_year_label(start_year: int) -> str:
    """Label ('2021-22') of the financial year starting in April of `start_year`."""
    start_year = int(start_year)
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def parse_financial_year(label: str) -> int:
    """Start year of a label like '2021-22'; raise InputError for anything else."""
    m = _FY_RE.match(str(label).strip()) if label is not None else None
    if m is None:
        raise InputError(
            f"financial year {label!r}: expected a label like '2021-22' (April to March)"
        )
    start = int(m.group(1))
    if (start + 1) % 100 != int(m.group(2)):
        raise InputError(
            f"financial year {label!r}: the second part must be the next year "
            f"(expected {financial_year_label(start)!r})"
        )
    return start


_ARG_FULL = re.compile(r"^(\d{4})(?:-(\d{2}|\d{4}))?$")
_ARG_SHORT = re.compile(r"^(\d{2})(?:-(\d{2}))?$")
_RANGE = re.compile(r"\s*(?::|\.\.|\bto\b)\s*", re.IGNORECASE)


def _year_error(what: str, value: object, problem: str = "") -> InputError:
    return InputError(
        f"{what}: {value!r} {problem or 'is not a financial year'}; expected a label such as "
        "'2024-25' (also '2024/25', 'FY2024', 'FY24/25' or 2024, each meaning April 2024 to "
        "March 2025)")


def parse_year_argument(value: object, what: str = "year") -> str:
    """The label ('2024-25') of a financial year as a person may write it.

    Accepts '2024-25', '2024/25', '2024–25', '2024-2025', '24/25', 'FY2024', 'FY 2024-25',
    'FY24' and 2024 (a year alone is the financial year starting in its April, as in
    `financial_year_label`). Raises InputError naming `what` otherwise.
    """
    if isinstance(value, bool):
        raise _year_error(what, value)
    if isinstance(value, (int, np.integer)):
        if not 1900 <= int(value) <= 2999:
            raise _year_error(what, value)
        return financial_year_label(int(value))
    if not isinstance(value, str):
        raise _year_error(what, value)
    text = value.strip().upper().replace("\u2013", "-").replace("\u2014", "-")
    text = re.sub(r"^FY\s*", "", text).replace("/", "-").replace(" ", "")
    full, short = _ARG_FULL.match(text), _ARG_SHORT.match(text)
    if full:
        start = int(full.group(1))
        end = full.group(2)
    elif short:
        first = int(short.group(1))
        start = (2000 if first < 70 else 1900) + first
        end = short.group(2)
    else:
        raise _year_error(what, value)
    if end is not None and int(end) % (10 ** len(end)) != (start + 1) % (10 ** len(end)):
        raise _year_error(what, value, f"does not run from one April to the next (expected "
                                       f"{financial_year_label(start)!r})")
    return financial_year_label(start)


def parse_years_argument(value: object, available: Iterable[str] | None = None,
                         what: str = "years") -> list[str] | None:
    """Financial-year labels from a person's argument, sorted; None stays None (all years).

    `value` is one year, a list of years, a comma-separated text, or a range
    ('2021-22:2025-26', '2021/22 to 2025/26'); each year as `parse_year_argument` reads it.
    With `available` (the years the data covers), a year outside them raises InputError that
    says which years the data has.
    """
    if value is None:
        return None
    items = re.split(r"[,;]", value) if isinstance(value, str) else list(
        value if isinstance(value, Iterable) else [value])
    starts: set[int] = set()
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        parts = _RANGE.split(item.strip()) if isinstance(item, str) else [item]
        if len(parts) > 2:
            raise _year_error(what, item, "is not a range of two years")
        first, last = (parse_financial_year(parse_year_argument(p, what)) for p in
                       (parts[0], parts[-1]))
        if last < first:
            raise _year_error(what, item, "runs backwards (the first year must come first)")
        starts.update(range(first, last + 1))
    if not starts:
        raise InputError(f"{what}: expected at least one financial year such as '2024-25', or "
                         "None for all years")
    labels = [financial_year_label(s) for s in sorted(starts)]
    if available is not None:
        have = sorted({str(a) for a in available})
        missing = [lab for lab in labels if lab not in have]
        if missing:
            if not have:
                covers = "the data holds no dated payments"
            else:
                covers = (f"the data covers {have[0]} to {have[-1]} ({len(have)} financial "
                          f"year{'s' if len(have) != 1 else ''}: {', '.join(have)})")
            raise InputError(f"{what}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'}"
                             f" not in the data; {covers}")
    return labels


def financial_year_start(label: str) -> date:
    """First day (1 April) of the financial year labelled like '2021-22'."""
    return date(parse_financial_year(label), FIRST_MONTH, 1)


def financial_year_end(label: str) -> date:
    """Last day (31 March) of the financial year labelled like '2021-22'."""
    return date(parse_financial_year(label) + 1, FIRST_MONTH - 1, 31)


def financial_year_window(labels: Sequence[str]) -> tuple[date, date]:
    """(1 April of the first, 31 March after the last) of financial-year labels."""
    if isinstance(labels, str) or len(labels) == 0:
        raise InputError(f"expected a non-empty list of financial years such as ['2021-22'], "
                         f"got {labels!r}")
    starts = sorted(parse_financial_year(str(lab)) for lab in labels)
    return date(starts[0], FIRST_MONTH, 1), date(starts[-1] + 1, FIRST_MONTH - 1, 31)


def shift_financial_year(label: str, years: int) -> str:
    """The label `years` financial years after (or before, if negative) `label`."""
    return financial_year_label(parse_financial_year(label) + years)


def financial_year_of(day: date) -> int:
    """Start year of the financial year a single date falls in."""
    return day.year - (day.month < FIRST_MONTH)


def start_years_of_months(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Start years of the financial years of (calendar year, 1-based month) arrays."""
    return np.asarray(year) - (np.asarray(month) < FIRST_MONTH)


def start_years_of_month_index(months: np.ndarray) -> np.ndarray:
    """Start years for month indexes (year * 12 + month - 1)."""
    months = np.asarray(months)
    return start_years_of_months(months // 12, months % 12 + 1)


def start_years_of_dates(dates: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Start year of the financial year of each Arrow date32 value (2021 for 1 April 2021
    to 31 March 2022), from the days since the epoch: no Python per row."""
    d = dates.cast(pa.int32()).to_numpy(zero_copy_only=False).astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return start_years_of_months(year, month)


def financial_year_start_years(timestamps: pd.Series) -> pd.Series:
    """Starting calendar year (Int64) of the financial year of each datetime64 value."""
    return (timestamps.dt.year - (timestamps.dt.month < FIRST_MONTH).astype("Int64")
            ).astype("Int64")


def labels_for_start_years(start_years: pd.Series | Iterable) -> pd.Series:
    """Financial-year labels like '2024-25' from starting years (NA stays NA)."""
    start = pd.Series(start_years).astype("Int64")
    label = start.astype("string") + "-" + ((start + 1) % 100).astype("string").str.zfill(2)
    return label.astype("string")


def start_years_of_labels(labels: pd.Series | Iterable) -> pd.Series:
    """Starting year (Int64) of financial-year labels like '2024-25'; bad labels raise."""
    text = pd.Series(labels).astype("string")
    parsed = text.str.extract(r"^(\d{4})-(\d{2})$")
    start = pd.to_numeric(parsed[0], errors="coerce").astype("Int64")
    bad = text.notna() & (start.isna() | ((start + 1) % 100 != pd.to_numeric(parsed[1])))
    if bad.any():
        raise InputError(
            f"financial_year: expected labels like '2024-25', got {text[bad].iloc[0]!r}"
        )
    return start


def financial_year(dates: pd.Series | Iterable) -> pd.Series:
    """Financial-year labels ('2021-22') for a column of dates.

    Accepts dates as Arrow date32, datetime64, `datetime.date` objects or ISO strings; missing
    dates give <NA>. The result is a pandas string Series aligned to the input's index.
    """
    s = dates if isinstance(dates, pd.Series) else pd.Series(list(dates), dtype=object)
    if isinstance(s.dtype, pd.ArrowDtype) or s.dtype == object:
        ts = pd.to_datetime(s.astype("object"), errors="raise")
    else:
        ts = pd.to_datetime(s, errors="raise")
    start = financial_year_start_years(ts)
    # Label each distinct start year once, then map: cheap on millions of rows.
    labels = {int(y): financial_year_label(int(y)) for y in start.dropna().unique()}
    out = start.map(labels).astype("string")
    out.index = s.index
    out.name = "financial_year"
    return out


def fy_quarter(timestamps: pd.Series) -> pd.Series:
    """Quarter of the financial year (1 for April-June … 4 for January-March)."""
    return (((timestamps.dt.month - FIRST_MONTH) % 12) // 3 + 1).astype("Int64")


__all__ = [
    "FIRST_MONTH", "financial_year", "financial_year_end", "financial_year_label",
    "financial_year_of", "financial_year_start", "financial_year_start_years",
    "financial_year_window", "fy_quarter", "labels_for_start_years", "parse_financial_year",
    "parse_year_argument", "parse_years_argument",
    "shift_financial_year", "start_years_of_dates", "start_years_of_labels",
    "start_years_of_month_index", "start_years_of_months",
]
