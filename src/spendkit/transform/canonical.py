"""Grid + column mapping → canonical transactions and rejects, every row accounted for.

Order of judgement per row (first that applies wins): repeated header, total line, amount
missing/invalid, date missing/invalid. Everything else is kept. Amounts are never changed beyond
reading them to the penny; a supplier cell that is blank or says it was withheld is kept with
`is_redacted = True`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.extract.grid import Grid, RawReject
from spendkit.fields import TRANSACTION_COLUMNS
from spendkit.transform.amounts import format_pence, parse_amounts, to_decimal
from spendkit.transform.columns import ColumnMapping, header_key
from spendkit.transform.dates import parse_dates

_TOTAL_LABEL = r"(?i)^\s*(grand\s*|sub\s*-?\s*)?totals?\b\s*:?\s*(for\b.*)?$|^\s*grand\s+total\b"
_REDACTED = (
    r"(?i)redact|withheld|personal (data|information)|third party supplier|"
    r"^\s*(private individual|individual|name removed|not disclosed|confidential)\s*$"
)
_TEXT_FIELDS = ("supplier_name", "supplier_id", "expense_type", "expense_code", "service_area",
                "description", "transaction_id")


@dataclass
class Canonical:
    """Kept rows as an Arrow table, rejected rows, and what was decided on the way."""

    table: pa.Table
    rejects: list[RawReject]
    date_format: str
    date_formats_used: dict[str, int]
    notes: list[str] = field(default_factory=list)
    redacted: int = 0


def _clean(col: pa.Array) -> pa.Array:
    col = pc.replace_substring(col.cast(pa.string()), "\xa0", " ")
    return pc.utf8_trim_whitespace(col)


def _empty(n: int) -> pa.Array:
    return pa.array([""] * n, pa.string())


def to_canonical(grid: Grid, mapping: ColumnMapping) -> Canonical:
    """Clean a grid into the canonical schema (plus extra published columns)."""
    n = grid.n_rows
    cols = [_clean(c) for c in grid.columns]
    get = mapping.fields.get

    def column(name: str) -> pa.Array:
        idx = get(name)
        return cols[idx] if idx is not None and idx < len(cols) else _empty(n)

    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)

    def mark(mask: np.ndarray, why: str, what: np.ndarray | str = "") -> None:
        new = mask & (reason == "")
        reason[new] = why
        if isinstance(what, str):
            detail[new] = what
        else:
            detail[new] = what[new]

    # Repeated header: most mapped cells equal their header text.
    if n:
        hits = np.zeros(n, np.int64)
        for idx in mapping.fields.values():
            if idx < len(cols) and mapping.headers[idx].strip():
                key = header_key(mapping.headers[idx])
                same = pc.equal(pc.utf8_lower(pc.replace_substring_regex(
                    cols[idx], r"[^0-9A-Za-z]+", "")), key)
                hits += np.asarray(same.fill_null(False), dtype=np.int64)
        mark(hits >= max(2, len(mapping.fields) // 2), "repeated_header")

    # Total lines: a cell that says 'Total'/'Grand Total' (not a supplier called 'Total Gas').
    label = np.zeros(n, bool)
    for c in cols:
        label |= np.asarray(pc.match_substring_regex(c, _TOTAL_LABEL), dtype=bool)
    amounts = parse_amounts(column("amount_gbp"))
    supplier = column("supplier_name")
    supplier_empty = np.asarray(pc.equal(pc.utf8_length(supplier), 0), dtype=bool)
    dates = parse_dates(column("payment_date"))
    raw_amount = np.asarray(column("amount_gbp").to_pylist(), dtype=object) if n else np.array([])
    supplier_label = np.asarray(pc.match_substring_regex(supplier, _TOTAL_LABEL), dtype=bool)
    mark((supplier_label | (label & supplier_empty)) & ~amounts.missing, "total_row",
         "a cell reads 'Total'")

    # A bare sum: no date, no supplier, an amount equal to the sum of the rows above it.
    bare = supplier_empty & dates.missing & ~amounts.missing & ~amounts.invalid & (reason == "")
    if bare.any():
        ok = (reason == "") & ~amounts.missing & ~amounts.invalid & ~bare
        running = np.cumsum(np.where(ok, amounts.pence, 0))
        for i in np.flatnonzero(bare):
            above = running[i - 1] if i else 0
            if above == amounts.pence[i]:
                reason[i] = "total_row"
                detail[i] = f"bare sum {format_pence(above)} equals the rows above"

    mark(amounts.missing, "missing_amount")
    mark(amounts.invalid, "invalid_amount", np.array([f"amount {v!r}" for v in raw_amount],
                                                     dtype=object) if n else "")
    mark(dates.missing, "missing_date")
    if n and dates.invalid.any():
        raw_dates = np.asarray(column("payment_date").to_pylist(), dtype=object)
        mark(dates.invalid, "invalid_date",
             np.array([f"date {v!r} fits no format chosen for the column "
                       f"({dates.chosen_format or 'none'})" for v in raw_dates], dtype=object))

    keep = reason == ""
    rejects = [RawReject(int(grid.lines[i]), str(reason[i]), str(detail[i]), grid.raw_row(i))
               for i in np.flatnonzero(~keep)]
    keep_idx = pa.array(np.flatnonzero(keep))

    redacted_mask = supplier_empty | np.asarray(
        pc.match_substring_regex(supplier, _REDACTED), dtype=bool)
    out: dict[str, pa.Array] = {
        "payment_date": dates.dates.take(keep_idx),
        "date_precision": dates.precision.take(keep_idx),
        "amount_gbp": to_decimal(amounts.pence[keep]),
        "is_redacted": pa.array(redacted_mask[keep]),
        "source_line": pa.array(grid.lines[keep], pa.int64()),
    }
    for name in _TEXT_FIELDS:
        out[name] = column(name).take(keep_idx)
    for name, idx in mapping.fields.items():
        if name not in out and name not in TRANSACTION_COLUMNS and idx < len(cols):
            out[name] = cols[idx].take(keep_idx)
    for name, idx in mapping.extras.items():
        if idx >= len(cols):
            continue
        values = cols[idx].take(keep_idx)
        if name.startswith("column_") and not pc.any(pc.greater(pc.utf8_length(values), 0)).as_py():
            continue  # an unnamed spacer column with nothing in it
        key = f"published_{name}" if name in TRANSACTION_COLUMNS or name in out else name
        out[key] = values
    notes = amounts.notes + dates.notes
    n_red = int(redacted_mask[keep].sum())
    blank_sup = int((supplier_empty & keep).sum())
    if blank_sup:
        notes.append(f"{blank_sup} kept row(s) have a blank supplier: marked is_redacted")
    return Canonical(pa.table(out), rejects, dates.chosen_format, dates.formats_used, notes, n_red)
