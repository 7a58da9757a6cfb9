"""One way to show a table to a reader: used by every notebook, the exports and the reports.

`table(df, ...)` returns a `ReportTable`: the full table with human headers and a *kind* per
column (money, pct, share, int, number, date, month, bool, text). It shows in a notebook or a
report page as a compact HTML table: money as `£1,234,567` (`pence=True` for `£1,234,567.89`),
percentages with one decimal, `yes`/`no` for flags, `–` for a missing value (never `nan` or
`<NA>`), no index, at most `max_rows` rows with "Top N of M …" underneath, every cell escaped,
and a box that wraps long text so the table fits the page (or scrolls inside its own box).
`spendkit.views.exports` writes the same table to Excel/CSV with matching number formats.

Kinds are inferred from column names and dtypes (`*_gbp` and exact decimals are money,
`*_pct` percentages already in 0–100, `*_share` fractions 0–1 shown as %, `is_*` flags …) and
can be set with `kinds=`. Headers come from `HEADERS`, then from the name itself
(`months_missing` → "Months missing", `it_pct` → "IT %").
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa

from spendkit.errors import InputError
from spendkit.units.money import gbp
from spendkit.views.html import escape_html

#: What a column holds, which decides how it is shown and exported.
KINDS = ("money", "pct", "share", "int", "number", "date", "month", "bool", "text")
#: Shown for a missing value in any column.
MISSING = "–"
#: Columns where 0 is not an amount but a finding, and the words shown for it.
ZERO_MEANS: dict[str, str] = {"observed_threshold_gbp": "none (all sizes)"}
#: Rows shown by default; the rest are counted in the note (and kept for exports).
DEFAULT_MAX_ROWS = 20

#: Headers for column names used across the notebooks (others are derived from the name).
HEADERS: dict[str, str] = {
    "publisher_name": "Council",
    "publisher_code": "GSS code",
    "nice_name": "Council",
    "council": "Council",
    "financial_year": "Financial year",
    "amount_gbp": "Amount",
    "amount_gbp_real": "Real terms",
    "amount_gbp_per_head": "Per resident",
    "amount_gbp_real_per_head": "Real, per resident",
    "value_per_head": "Per resident (real)",
    "supplier_name": "Supplier",
    "supplier": "Supplier",
    "source_file": "File",
    "file": "File",
    "it_category": "IT category",
    "it_market": "IT market",
    "hhi": "HHI",
    "n_suppliers": "Suppliers",
    "n_peers": "Councils",
    "n_payments": "Payments",
    "payments": "Payments",
    "rows": "Rows",
    "files": "Files",
    "first_month": "First month",
    "last_month": "Last month",
    "threshold_gbp": "Threshold",
    "observed_threshold_gbp": "Observed threshold",
    "vat_basis": "VAT basis",
    "tier": "Tier",
    "is_complete": "Complete year",
    "is_estimate": "Estimate",
    "change_pct": "Change on year",
    "months_missing": "Months missing",
    "months_present": "Months published",
    "months_sparse": "Months sparse",
    "months_duplicated": "Months duplicated",
    "payment_date": "Date",
    "month": "Month",
    "reason": "Reason",
    "description": "Description",
    "warning": "Warning",
    "issues": "Issues",
    "scenario": "Scenario",
}

_WORDS = {"it": "IT", "gss": "GSS", "vat": "VAT", "hhi": "HHI", "ms": "Microsoft", "fy": "FY",
          "p10": "P10", "p25": "P25", "p50": "P50", "p75": "P75", "p90": "P90", "pct": "%",
          "sku": "SKU", "yoy": "year on year", "id": "ID", "uk": "UK", "ccs": "CCS",
          "e3": "E3", "e5": "E5", "saas": "SaaS and"}
_DROP_WORDS = {"gbp"}


def header_for(name: Any) -> str:
    """A reader's header for a column name: `HEADERS`, else words from the snake_case name."""
    text = str(name)
    if text in HEADERS:
        return HEADERS[text]
    words = [w for w in text.split("_") if w and w not in _DROP_WORDS] or [text]
    shown = [_WORDS.get(w.lower(), w) for w in words]
    first = shown[0]
    if first == words[0]:
        first = first[:1].upper() + first[1:]
    return " ".join([first, *shown[1:]])


def value_label(value: Any) -> str:
    """A code-like value for a reader: 'software_licences' → 'Software licences' (as headers)."""
    if isinstance(value, str) and value and (value == value.lower()) and " " not in value:
        return header_for(value)
    return str(value)


def _is_decimal(dtype: Any) -> bool:
    return isinstance(dtype, pd.ArrowDtype) and pa.types.is_decimal(dtype.pyarrow_dtype)


def infer_kind(name: Any, values: pd.Series) -> str:
    """The kind of a column from its name and dtype (see the module docstring)."""
    text = str(name)
    dtype = values.dtype
    if _is_decimal(dtype) or text.endswith("_gbp") or "_gbp_" in text:
        return "money"
    if text.endswith("_pct") or text.endswith("_percent"):
        return "pct"
    if text.endswith("_share") or "_share_" in text or text.startswith("share_of"):
        return "share"
    if pd.api.types.is_bool_dtype(dtype) or text.startswith(("is_", "has_")):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "month" if "month" in text else "date"
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_date(dtype.pyarrow_dtype):
        return "date"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype) or (isinstance(dtype, pd.ArrowDtype)
                                               and pa.types.is_floating(dtype.pyarrow_dtype)):
        return "number"
    if pd.api.types.is_object_dtype(dtype):
        sample = values.dropna()
        if len(sample) and sample.map(lambda v: isinstance(v, Decimal)).all():
            return "money"
        if len(sample) and sample.map(lambda v: isinstance(v, (dt.date, pd.Timestamp))).all():
            return "date"
    return "text"


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT or type(value).__name__ == "NAType":
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, Decimal) and value.is_nan():
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_value(value: Any, kind: str, *, pence: bool = False, decimals: int = 2,
                 signed: bool = False) -> str:
    """One value as a reader sees it (`MISSING` for a missing one, never 'nan').

    `signed` puts a + before positive percentages (a change on the year before). A word in a
    number column ('unknown' for a threshold nobody recorded) is shown as it is.
    """
    if _missing(value):
        return MISSING if kind != "text" else ""
    if isinstance(value, str) and kind in ("money", "pct", "share", "int", "number"):
        try:
            Decimal(value.strip().replace(",", "").lstrip("£"))
        except ArithmeticError:
            return value
    if kind == "money":
        return gbp(value, pence=pence, missing=MISSING)
    if kind in ("pct", "share"):
        number = float(value) * (100 if kind == "share" else 1)
        if not math.isfinite(number):
            return MISSING
        return f"{number:+,.1f}%" if signed and round(number, 1) != 0 else f"{number:,.1f}%"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "number":
        number = float(value)
        if not math.isfinite(number):
            return MISSING
        return f"{number:,.0f}" if number.is_integer() else f"{number:,.{decimals}f}"
    if kind in ("date", "month"):
        day = pd.Timestamp(value)
        return f"{day:%b %Y}" if kind == "month" else f"{day.day} {day:%b %Y}"
    if kind == "bool":
        return "yes" if bool(value) else "no"
    return str(value)


@dataclass(frozen=True)
class ReportTable:
    """A table for a reader: every row, human headers, a kind per column, and how to show it.

    `frame` keeps the original values (exact money, floats) under the human headers, so an
    export writes numbers, not text; `shown` rows are displayed, the note tells how many more.
    """

    frame: pd.DataFrame
    kinds: dict[str, str]
    shown: int
    note: str = ""
    pence: bool = False
    transpose: bool = False
    decimals: dict[str, int] = field(default_factory=dict)
    signed: frozenset[str] = frozenset()

    def formatted(self) -> pd.DataFrame:
        """The rows shown, every cell formatted as text (the frame the page displays)."""
        head = self.frame.head(self.shown)
        out = pd.DataFrame(index=range(len(head)))
        for col in head.columns:
            kind = self.kinds[col]
            places = self.decimals.get(col, 2)
            sign = col in self.signed
            out[col] = [format_value(v, kind, pence=self.pence, decimals=places, signed=sign)
                        for v in head[col].tolist()]
        if self.transpose and len(out.columns) > 1:
            first = out.columns[0]
            flipped = out.set_index(first).T
            flipped.insert(0, "", list(flipped.index))
            flipped.columns = ["", *[str(c) for c in flipped.columns[1:]]]
            return flipped.reset_index(drop=True)
        return out

    def _numeric_columns(self) -> set[str]:
        if self.transpose:
            return set(self.formatted().columns[1:])
        return {c for c, k in self.kinds.items() if k not in ("text", "bool", "date", "month")}

    def _repr_html_(self) -> str:
        if self.shown == 0:  # nothing to tabulate: say so, without an empty grid
            return (f'<div class="sk-table"><p class="sk-table-note">{escape_html(self.note)}'
                    "</p></div>")
        shown = self.formatted()
        numeric = self._numeric_columns()
        num = ' class="num"'
        head = "".join(f"<th{num if c in numeric else ''}>{escape_html(c)}</th>"
                       for c in shown.columns)
        rows = []
        for values in shown.itertuples(index=False, name=None):
            cells = []
            for i, (col, value) in enumerate(zip(shown.columns, values, strict=True)):
                tag = "th" if self.transpose and i == 0 else "td"
                cls = num if col in numeric and tag == "td" else ""
                cells.append(f"<{tag}{cls}>{escape_html(value)}</{tag}>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        note = f'<p class="sk-table-note">{escape_html(self.note)}</p>' if self.note else ""
        return ('<div class="sk-table" style="max-width:100%;overflow-x:auto">'
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
                f"{note}</div>")

    def __repr__(self) -> str:
        shown = self.formatted()
        text = shown.to_string(index=False) if len(shown) else "(no rows)"
        return f"{text}\n{self.note}" if self.note else text

    def to_frame(self) -> pd.DataFrame:
        """Every row with its original values under the human headers (for exports)."""
        return self.frame.copy()


def table(df: pd.DataFrame, *, columns: Sequence[str] | Mapping[str, str] | None = None,
          kinds: Mapping[str, str] | None = None, pence: bool = False,
          max_rows: int | None = DEFAULT_MAX_ROWS, sort_by: str | None = None,
          ascending: bool = False, what: str = "rows", note: str = "",
          transpose: bool = False, decimals: Mapping[str, int] | None = None,
          readable: Sequence[str] = ("it_category", "it_market", "reason", "payment_kind",
                                     "band")) -> ReportTable:
    """`df` as a `ReportTable` a reader can take in (see the module docstring).

    Args:
        columns: the columns to show, in order; a mapping gives each its header.
        kinds: a kind per (source) column name where inference would be wrong.
        pence: show money to the penny (default whole pounds).
        max_rows: rows shown (None for all); the note says "Top N of M <what>".
        sort_by: source column to sort by before cutting (largest first unless `ascending`).
        what: the noun for the rows in the note ("suppliers", "files").
        note: a sentence added under the table.
        transpose: show one column per row of `df` (its first column becomes the header).
        decimals: places for `number` columns (default 2).
        readable: columns whose code-like values ('software_licences') are shown as words.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"table(): expected a pandas DataFrame, got {type(df).__name__}")
    if max_rows is not None and (not isinstance(max_rows, int) or max_rows < 1):
        raise InputError(f"max_rows: expected a whole number of at least 1, got {max_rows!r}")
    work = df
    if any(name is not None for name in work.index.names):
        work = work.reset_index()
    if columns is not None:
        names = list(columns.keys()) if isinstance(columns, Mapping) else list(columns)
        unknown = [c for c in names if c not in work.columns]
        if unknown:
            raise InputError(f"table(): column(s) {unknown} not in the table; it has "
                             f"{[str(c) for c in work.columns]}")
        work = work[names]
    labels = dict(columns) if isinstance(columns, Mapping) else {}
    if sort_by is not None:
        if sort_by not in work.columns:
            raise InputError(f"table(): sort_by {sort_by!r} is not a column")
        work = work.sort_values(sort_by, ascending=ascending, kind="stable",
                                na_position="last")
    work = work.reset_index(drop=True)
    for col in readable:
        if col in work.columns and not pd.api.types.is_numeric_dtype(work[col].dtype):
            work[col] = work[col].map(lambda v: v if _missing(v) else value_label(v))
    for col, words in ZERO_MEANS.items():  # "£0" would read as an amount
        if col in work.columns and pd.api.types.is_numeric_dtype(work[col].dtype):
            work[col] = work[col].astype(object).where(work[col] != 0, words)
    given = dict(kinds or {})
    bad = {k: v for k, v in given.items() if v not in KINDS}
    if bad:
        raise InputError(f"table(): unknown kind(s) {bad}; expected one of {KINDS}")
    headers: dict[Any, str] = {}
    for col in work.columns:
        header = labels.get(col) or header_for(col)
        while header in headers.values():  # two columns must not share a header
            header += " "
        headers[col] = header
    column_kinds = {headers[c]: given.get(str(c)) or infer_kind(c, work[c]) for c in work.columns}
    frame = work.rename(columns=headers)
    total = len(frame)
    shown = total if max_rows is None else min(total, max_rows)
    parts = []
    if shown < total:
        lead = "Top" if sort_by is not None else "First"
        order = f", by {headers[sort_by].strip().lower()}" if sort_by is not None else ""
        parts.append(f"{lead} {shown:,} of {total:,} {what}{order}.")
    elif total == 0:
        parts.append(f"No {what}.")
    if note:
        parts.append(note)
    places = {headers[c]: n for c, n in (decimals or {}).items() if c in headers}
    signed = frozenset(headers[c] for c in work.columns if "change" in str(c))
    return ReportTable(frame=frame, kinds=column_kinds, shown=shown, note=" ".join(parts),
                       pence=pence, transpose=transpose, decimals=places, signed=signed)


__all__ = ["DEFAULT_MAX_ROWS", "HEADERS", "KINDS", "MISSING", "ZERO_MEANS", "ReportTable",
           "format_value", "header_for", "infer_kind", "table", "value_label"]
