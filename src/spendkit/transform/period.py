"""The period a file (or sheet) covers, for rows that carry no usable date of their own.

A row without a usable date is still real money (a quarter's payments all dated `00:00:00`, a
month's housing-benefit total on an undated last line). Its period is taken from what the file
says, in this order, and the row is kept with `date_precision` 'month' or 'quarter' and a
`date_basis` naming the clue:

1. `period_column`: a column of `yyyymm` values (`201204`), per row; read as calendar months
   unless the dated rows show financial periods (period 04 of 2012 = July 2012).
2. `sheet_name`: 'APR 24', 'September 2014'.
3. `file_name`: 'Tameside September 2014.csv', '…-apr-jun-2014.csv' (a quarter), '201306',
   'Spending_2020_06.csv'.
4. `other_rows`: the one calendar month that nine in ten of the dated rows fall in.

A name's period is used only when the dated rows (if any) agree with it. No clue: the row is
rejected, and the reason says that no period was found.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MONTHS = {"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
           "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8,
           "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10,
           "nov": 11, "november": 11, "dec": 12, "december": 12}
_MON = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")"
_SEP = r"[\s_.\-']*"
_YEAR = r"((?:19|20)\d{2}|\d{2})"
_QUARTER = re.compile(rf"(?<![a-z]){_MON}{_SEP}(?:to{_SEP})?{_MON}{_SEP}{_YEAR}(?!\d)")
_MONTH_YEAR = re.compile(rf"(?<![a-z]){_MON}(?![a-z]){_SEP}{_YEAR}(?!\d)")
_YEAR_MONTH_WORD = re.compile(rf"(?<!\d)((?:19|20)\d{{2}}){_SEP}{_MON}(?![a-z])")
_YYYYMM = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_/.]?(0[1-9]|1[0-2])(?!\d)")
_PERIOD_VALUE = r"^(19|20)\d{2}(0[1-9]|1[0-2])$"
#: Share of dated rows that must agree with a clue for it to be used.
_AGREE = 0.5
_ONE_MONTH = 0.9


@dataclass(frozen=True)
class Period:
    """A month or quarter: its first day, precision, where it was found and the evidence."""

    start: dt.date
    precision: str  # 'month' or 'quarter'
    basis: str  # 'sheet_name', 'file_name' or 'other_rows'
    evidence: str

    @property
    def label(self) -> str:
        """'2014-09' for a month, '2014-04..2014-06' for a quarter."""
        if self.precision == "month":
            return f"{self.start:%Y-%m}"
        end = _add_months(self.start, 2)
        return f"{self.start:%Y-%m}..{end:%Y-%m}"

    def contains(self, day: dt.date) -> bool:
        """True when `day` falls in the period."""
        months = 1 if self.precision == "month" else 3
        return self.start <= day < _add_months(self.start, months)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _year(text: str) -> int:
    return int(text) if len(text) == 4 else 2000 + int(text)


def period_in_name(text: str) -> tuple[dt.date, str] | None:
    """(first day, 'month' or 'quarter') named in a file or sheet name, or None.

    None too when the name names several different periods.
    """
    name = PurePath(text.replace("\\", "/")).name.lower() if text else ""
    name = re.sub(r"\.(csv|xlsx?|xlsm|zip|txt|tsv)$", "", name)
    found: set[tuple[dt.date, str]] = set()
    for m in _QUARTER.finditer(name):
        first, last = _MONTHS[m.group(1)], _MONTHS[m.group(2)]
        if (last - first) % 12 == 2:
            year = _year(m.group(3)) - (1 if last < first else 0)
            found.add((dt.date(year, first, 1), "quarter"))
    if not found:
        for m in _MONTH_YEAR.finditer(name):
            found.add((dt.date(_year(m.group(2)), _MONTHS[m.group(1)], 1), "month"))
        for m in _YEAR_MONTH_WORD.finditer(name):
            found.add((dt.date(int(m.group(1)), _MONTHS[m.group(2)], 1), "month"))
        if not found:
            for m in _YYYYMM.finditer(name):
                found.add((dt.date(int(m.group(1)), int(m.group(2)), 1), "month"))
    return found.pop() if len(found) == 1 else None


def _agreement(period: tuple[dt.date, str], dated: list[dt.date]) -> float:
    if not dated:
        return 1.0
    p = Period(period[0], period[1], "", "")
    return sum(1 for d in dated if p.contains(d)) / len(dated)


def find_period(dated: pa.Array, sheet: str, file_name: str) -> tuple[Period | None, list[str]]:
    """The period for undated rows from the sheet name, the file name or the dated rows.

    `dated` holds the published dates (date32) of the rows that have one. Returns the period
    (or None) and what was tried, for the ledger.
    """
    days = [d for d in pa.array(dated).to_pylist() if d is not None]
    sample = days if len(days) <= 20_000 else days[:: len(days) // 20_000 + 1]
    tried: list[str] = []
    for basis, text in (("sheet_name", sheet), ("file_name", file_name)):
        if not text:
            continue
        hit = period_in_name(text)
        if hit is None:
            tried.append(f"{basis} {PurePath(text).name!r} names no single period")
            continue
        share = _agreement(hit, sample)
        period = Period(hit[0], hit[1], basis, "")
        if share < _AGREE:
            tried.append(f"{basis} {PurePath(text).name!r} says {period.label}, but only "
                         f"{share:.0%} of the dated rows fall in it")
            continue
        evidence = f"{basis.replace('_', ' ')} {PurePath(text).name!r} says {period.label}"
        if sample:
            evidence += f"; {share:.0%} of the dated rows fall in it"
        return Period(hit[0], hit[1], basis, evidence), tried
    if sample:
        months = np.array([d.year * 12 + d.month - 1 for d in sample])
        values, counts = np.unique(months, return_counts=True)
        top = int(np.argmax(counts))
        share = counts[top] / len(sample)
        start = dt.date(int(values[top]) // 12, int(values[top]) % 12 + 1, 1)
        if share >= _ONE_MONTH:
            return Period(start, "month", "other_rows",
                          f"{share:.0%} of the {len(days):,} dated rows are in {start:%Y-%m}"), tried
        tried.append(f"the dated rows span {len(values)} months ({share:.0%} in {start:%Y-%m})")
    else:
        tried.append("no row has a usable date")
    return None, tried


def period_column(columns: dict[int, pa.Array], headers: list[str],
                  published: pa.Array) -> tuple[int, np.ndarray, str] | None:
    """A column of `yyyymm` periods: (index, months since year 0 per row, -1 where none,
    evidence), or None.

    `columns` are the candidate text columns (cleaned) by index; `published` the rows'
    published dates (null where none), used to tell calendar months from financial periods.
    """
    for idx, col in columns.items():
        filled = pc.greater(pc.utf8_length(col), 0)
        n_filled = pc.sum(filled).as_py() or 0
        if not n_filled:
            continue
        is_period = pc.match_substring_regex(col, _PERIOD_VALUE)
        if (pc.sum(is_period).as_py() or 0) < 0.9 * n_filled:
            continue
        ok = np.asarray(is_period.fill_null(False), dtype=bool)
        text = pc.if_else(is_period, col, "000000")
        year = np.asarray(pc.cast(pc.utf8_slice_codeunits(text, 0, 4), pa.int64()))
        month = np.asarray(pc.cast(pc.utf8_slice_codeunits(text, 4, 6), pa.int64()))
        calendar = year * 12 + month - 1
        financial = calendar + 3  # period 1 of the year starting April yyyy is April
        months = calendar
        how = "calendar months (yyyymm)"
        have = ok & ~np.asarray(pc.is_null(published), dtype=bool)
        if have.any():
            pub = np.asarray(pc.cast(published, pa.date32()).fill_null(dt.date(1970, 1, 1))
                             .cast(pa.int32()), dtype=np.int64)
            pub_dates = np.array(pub[have], dtype="datetime64[D]")
            pub_months = (pub_dates.astype("datetime64[M]").astype(np.int64)) + 1970 * 12
            as_calendar = float(np.mean(calendar[have] == pub_months))
            as_financial = float(np.mean(financial[have] == pub_months))
            if as_financial > as_calendar:
                months, how = financial, "financial periods (period 1 = April)"
            how += f"; checked on {int(have.sum()):,} dated rows ({max(as_calendar, as_financial):.0%} agree)"
        months = np.where(ok, months, -1)
        return idx, months, f"column {headers[idx]!r} holds {how}"
    return None
