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
    cleaned: dict[int, pa.Array] = {}

    def col(idx: int) -> pa.Array:
        # Clean lazily: padded files carry dozens of empty spacer columns nobody reads.
        if idx not in cleaned:
            cleaned[idx] = _clean(grid.columns[idx])
        return cleaned[idx]

    get = mapping.fields.get
    width = len(grid.columns)

    def column(name: str) -> pa.Array:
        idx = get(name)
        return col(idx) if idx is not None and idx < width else _empty(n)

    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)

    def mark(mask: np.ndarray, why: str, what: np.ndarray | str = "") -> None:
        new = mask & (reason == "")
        reason[new] = why
        if isinstance(what, str):
            detail[new] = what
        else:
            detail[new] = what[new]

    amounts = parse_amounts(column("amount_gbp"))
    supplier = column("supplier_name")
    supplier_empty = np.asarray(pc.equal(pc.utf8_length(supplier), 0), dtype=bool)
    dates = parse_dates(column("payment_date"))

    # Repeated header: a row whose amount is not a number and whose mapped cells mostly
    # equal their header text. Only rows with an unreadable amount can be one.
    suspects = np.flatnonzero(amounts.invalid)
    if len(suspects):
        take = pa.array(suspects)
        hits = np.zeros(len(suspects), np.int64)
        for idx in mapping.fields.values():
            if idx < width and mapping.headers[idx].strip():
                key = header_key(mapping.headers[idx])
                cells = col(idx).take(take).to_pylist()
                hits += np.array([header_key(c or "") == key for c in cells], dtype=np.int64)
        repeated = np.zeros(n, bool)
        repeated[suspects[hits >= max(2, len(mapping.fields) // 2)]] = True
        mark(repeated, "repeated_header")

    # Total lines: the supplier cell says 'Total'/'Grand Total' (not a supplier called
    # 'Total Gas'), or any cell does on a row with no supplier.
    supplier_label = np.asarray(pc.match_substring_regex(supplier, _TOTAL_LABEL), dtype=bool)
    label = np.zeros(n, bool)
    no_supplier = np.flatnonzero(supplier_empty & ~amounts.missing)
    if len(no_supplier):
        take = pa.array(no_supplier)
        for idx in range(width):
            hit = pc.match_substring_regex(grid.columns[idx].take(take), _TOTAL_LABEL)
            label[no_supplier[np.asarray(hit.fill_null(False), dtype=bool)]] = True
    mark((supplier_label | label) & ~amounts.missing, "total_row", "a cell reads 'Total'")

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
    def described(mask: np.ndarray, values: pa.Array, template: str) -> np.ndarray:
        """Reject details quoting the offending cell, built only for the rows that need one."""
        out = np.full(n, "", dtype=object)
        where = np.flatnonzero(mask)
        for i, v in zip(where, values.take(pa.array(where)).to_pylist(), strict=True):
            out[i] = template.format(v)
        return out

    if amounts.invalid.any():
        mark(amounts.invalid, "invalid_amount",
             described(amounts.invalid, column("amount_gbp"), "amount {!r}"))
    mark(dates.missing, "missing_date")
    if dates.invalid.any():
        fmt = dates.chosen_format or "none"
        mark(dates.invalid, "invalid_date",
             described(dates.invalid, column("payment_date"),
                       "date {!r} fits no format chosen for the column (" + fmt + ")"))

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
        if name not in out and name not in TRANSACTION_COLUMNS and idx < width:
            out[name] = col(idx).take(keep_idx)
    for name, idx in mapping.extras.items():
        if idx >= width:
            continue
        raw = grid.columns[idx]
        if name.startswith("column_") and not pc.any(pc.greater(pc.utf8_length(raw), 0)).as_py():
            continue  # an unnamed spacer column with nothing in it
        values = col(idx).take(keep_idx)
        key = f"published_{name}" if name in TRANSACTION_COLUMNS or name in out else name
        out[key] = values
    notes = amounts.notes + dates.notes
    n_red = int(redacted_mask[keep].sum())
    blank_sup = int((supplier_empty & keep).sum())
    if blank_sup:
        notes.append(f"{blank_sup} kept row(s) have a blank supplier: marked is_redacted")
    return Canonical(pa.table(out), rejects, dates.chosen_format, dates.formats_used, notes, n_red)
