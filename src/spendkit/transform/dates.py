"""Date strings → dates, choosing one format per column by vote over its distinct values.

Why vote: `06/01/2026` is 6 January or 1 June depending on the column; the rest of the column
decides (a `13/01/2026` settles it), once, and a column that never settles it is read day-first
(the UK convention) with a warning. Unambiguous styles (`30-Oct-13`, `3 Apr 2023`, ISO) are
accepted beside the winner, because real files mix them (Hyndburn May 2017: p-card lines in
dd-Mon-yy among dd/mm/yyyy). Month-only values ('Sep 2014') become the month's first day with
`date_precision = 'month'`. Excel serial numbers (a date cell exported as a number) are read too.
Work is done on the distinct values only: a month of data has a few dozen.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# (name, strptime format, family, precision). Families: 'dmy' and 'mdy' exclude each other.
FORMATS: tuple[tuple[str, str, str, str], ...] = (
    ("dd/mm/yyyy", "%d/%m/%Y", "dmy", "day"),
    ("dd/mm/yy", "%d/%m/%y", "dmy", "day"),
    ("dd-mm-yyyy", "%d-%m-%Y", "dmy", "day"),
    ("dd.mm.yyyy", "%d.%m.%Y", "dmy", "day"),
    ("dd.mm.yy", "%d.%m.%y", "dmy", "day"),
    ("dd/mm/yyyy hh:mm:ss", "%d/%m/%Y %H:%M:%S", "dmy", "day"),
    ("dd/mm/yyyy hh:mm", "%d/%m/%Y %H:%M", "dmy", "day"),
    ("mm/dd/yyyy", "%m/%d/%Y", "mdy", "day"),
    ("mm/dd/yy", "%m/%d/%y", "mdy", "day"),
    ("mm/dd/yyyy hh:mm:ss", "%m/%d/%Y %H:%M:%S", "mdy", "day"),
    ("yyyy-mm-dd", "%Y-%m-%d", "iso", "day"),
    ("yyyy-mm-dd hh:mm:ss", "%Y-%m-%d %H:%M:%S", "iso", "day"),
    ("yyyy-mm-ddThh:mm:ss", "%Y-%m-%dT%H:%M:%S", "iso", "day"),
    ("yyyy/mm/dd", "%Y/%m/%d", "iso", "day"),
    ("dd-Mon-yy", "%d-%b-%y", "text", "day"),
    ("dd-Mon-yyyy", "%d-%b-%Y", "text", "day"),
    ("d Mon yyyy", "%d %b %Y", "text", "day"),
    ("d Month yyyy", "%d %B %Y", "text", "day"),
    ("d Mon yy", "%d %b %y", "text", "day"),
    ("dd-Month-yyyy", "%d-%B-%Y", "text", "day"),
    ("Mon yyyy", "%b %Y", "month", "month"),
    ("Month yyyy", "%B %Y", "month", "month"),
    ("Mon-yy", "%b-%y", "month", "month"),
    ("Mon-yyyy", "%b-%Y", "month", "month"),
    ("mm/yyyy", "%m/%Y", "month", "month"),
    ("yyyy-mm", "%Y-%m", "month", "month"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Plausible range for a published payment; outside it a parse is a misreading.
_MIN, _MAX = dt.date(1990, 1, 1), dt.date(2100, 12, 31)


@dataclass
class ParsedDates:
    """Dates per row (None where missing or unparseable), precision and what was decided."""

    dates: pa.Array
    precision: pa.Array
    missing: np.ndarray
    invalid: np.ndarray
    chosen_format: str
    formats_used: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


_DIRECTIVE = {"%d": r"\d{1,2}", "%m": r"\d{1,2}", "%Y": r"\d{4}", "%y": r"\d{2}",
              "%b": r"[A-Za-z]{3}", "%B": r"[A-Za-z]{3,9}", "%H": r"\d{1,2}", "%M": r"\d{2}",
              "%S": r"\d{2}"}


def _shape(fmt: str) -> re.Pattern[str]:
    """A cheap regex a value must match before strptime is tried with `fmt`."""
    out, i = "", 0
    while i < len(fmt):
        if fmt[i] == "%":
            out += _DIRECTIVE[fmt[i:i + 2]]
            i += 2
        else:
            out += re.escape(fmt[i])
            i += 1
    return re.compile(out)


_SHAPES = {fmt: _shape(fmt) for _n, fmt, _f, _p in FORMATS}


_SERIAL = re.compile(r"\d{5}(\.\d+)?")


def _excel_serial(value: str) -> dt.datetime | None:
    if _SERIAL.fullmatch(value) is None:
        return None
    days = int(float(value))
    if not 32874 <= days <= 73051:  # 1990-01-01 .. 2099-12-31
        return None
    return dt.datetime.combine(_EXCEL_EPOCH + dt.timedelta(days=days), dt.time())


_READERS = tuple(name for name, *_ in FORMATS) + ("excel serial",)


@lru_cache(maxsize=100_000)
def _readings(value: str) -> tuple[dt.datetime | None, ...]:
    """The value read in every format (None where it does not fit), in `_READERS` order.

    Cached per distinct string: a corpus repeats the same few hundred dates across files.
    """
    if not value:
        return (None,) * len(_READERS)
    fits = _formats_fitting(value.translate(_SIGNATURE))
    return tuple(_strptime(value, fmt) if fit else None
                 for (_n, fmt, _f, _p), fit in zip(FORMATS, fits, strict=True)) + (
        _excel_serial(value),)


# A value's shape with ASCII digits as '0' and ASCII letters as 'a': the shape regexes only
# tell those classes apart, so they match the signature exactly when they match the value.
_SIGNATURE = str.maketrans(string.digits + string.ascii_letters, "0" * 10 + "a" * 52)


@lru_cache(maxsize=4096)
def _formats_fitting(signature: str) -> tuple[bool, ...]:
    """Which FORMATS' shapes a signature fits (a file has a handful of signatures)."""
    return tuple(_SHAPES[fmt].fullmatch(signature) is not None for _n, fmt, _f, _p in FORMATS)


_FAMILIES = tuple(f for _n, _fmt, f, _p in FORMATS) + ("serial",)
_PRECISIONS = tuple(p for _n, _fmt, _f, p in FORMATS) + ("day",)
_IS_DMY = np.array([f == "dmy" for f in _FAMILIES])
_IS_MDY = np.array([f == "mdy" for f in _FAMILIES])
_READER_BITS = np.int64(1) << np.arange(len(_READERS), dtype=np.int64)


@lru_cache(maxsize=100_000)
def _fit_mask(value: str) -> int:
    """Bit k set where `_readings(value)[k]` is a date (one int per distinct string)."""
    return sum(1 << k for k, r in enumerate(_readings(value)) if r is not None)


def _strptime(value: str, fmt: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.strptime(value, fmt)
    except ValueError:
        return None
    return parsed if _MIN <= parsed.date() <= _MAX else None


def parse_dates(values: pa.Array) -> ParsedDates:
    """Parse a column of date strings, choosing the format by a frequency-weighted vote."""
    codes, uniq, freq = _distinct(values)
    missing = np.asarray([u == "" for u in uniq], dtype=bool)[codes] if len(uniq) else \
        np.zeros(len(values), bool)

    # fits[i, k]: distinct value i reads in reader k; a reader's score is the rows it reads.
    masks = np.fromiter((_fit_mask(u) for u in uniq), np.int64, len(uniq))
    fits = (masks[:, None] & _READER_BITS) != 0
    scores = freq @ fits

    notes: list[str] = []
    dmy, mdy = int(scores[_IS_DMY].sum()), int(scores[_IS_MDY].sum())
    excluded = "mdy" if dmy >= mdy else "dmy"
    if dmy and mdy and dmy == mdy:
        notes.append("day/month order never settled by the data (no day above 12); "
                      "read as dd/mm (UK convention)")
    elif dmy and mdy and excluded == "dmy":
        notes.append("dates read month-first (mm/dd): more values fit that order")
    ranked = sorted((k for k in range(len(_READERS))
                     if _FAMILIES[k] != excluded and scores[k] > 0),
                    key=lambda k: (-int(scores[k]), _READERS[k]))
    chosen = _READERS[ranked[0]] if ranked else ""

    # Each value is read by the best-ranked reader that fits it.
    reader = np.full(len(uniq), -1, np.int64)
    used: dict[str, int] = {}
    for k in ranked:
        take_now = fits[:, k] & (reader < 0) & (freq > 0)
        if take_now.any():
            reader[take_now] = k
            used[_READERS[k]] = int(freq[take_now].sum())
    if len(used) > 1:
        ordered = sorted(used.items(), key=lambda kv: -kv[1])  # stable: ties keep rank order
        notes.append("mixed date formats: " + ", ".join(f"{k} ({v})" for k, v in ordered))
    result = [_readings(u)[k] if k >= 0 else None
              for u, k in zip(uniq, reader.tolist(), strict=True)]
    timed = sum(int(f) for v, f in zip(result, freq, strict=True)
                if v is not None and v.time() != dt.time())
    if timed:
        notes.append(f"{timed} date(s) carried a time of day "
                     "(e.g. 01:00 from a time-zone shift); the date part was kept")

    take = pa.array(codes)
    dates = pa.array([v.date() if v is not None else None for v in result], pa.date32()).take(take)
    precision = pa.array([_PRECISIONS[k] if k >= 0 else None for k in reader.tolist()],
                         pa.string()).take(take)
    invalid = (reader < 0)[codes] & ~missing if len(uniq) else np.zeros(len(codes), bool)
    return ParsedDates(dates, precision, missing, invalid, chosen, used, notes)


def _distinct(values: pa.Array) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(row → distinct index, distinct trimmed values, rows per value) of a text column."""
    if not pa.types.is_dictionary(values.type):
        values = values.cast(pa.string())
        values = pc.dictionary_encode(values.fill_null("") if values.null_count else values)
    trimmed = pc.dictionary_encode(pc.utf8_trim_whitespace(values.dictionary.fill_null("")))
    remap = trimmed.indices.to_numpy(zero_copy_only=False)
    codes = remap[values.indices.to_numpy(zero_copy_only=False)] if len(remap) else \
        np.zeros(len(values), np.int64)
    uniq = trimmed.dictionary.to_pylist()
    return codes, uniq, np.bincount(codes, minlength=len(uniq))
