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
from spendkit.extract.header import header_key
from spendkit.schema import REJECT_REASONS, TRANSACTION_COLUMNS
from spendkit.transform.amounts import parse_amounts
from spendkit.transform.columns import ColumnMapping
from spendkit.transform.dates import parse_dates
from spendkit.transform.text import clean_text, dictionary_encoded, text_bytes
from spendkit.units.money import decimal_from_pence, format_pence

_TOTAL_LABEL = r"(?i)^\s*(grand\s*|sub\s*-?\s*)?totals?\b\s*:?\s*(for\b.*)?$|^\s*grand\s+total\b"
_REDACTED = (
    r"(?i)redact|withheld|personal (data|information)|third party supplier|"
    r"^\s*(private individual|individual|name removed|not disclosed|confidential)\s*$"
)
# Words every match of the pattern contains, in lower case: a dictionary without any of them
# cannot match, and is not run through RE2 (which compiles the pattern on every call).
_TOTAL_WORDS = ("total",)
_REDACTED_WORDS = ("redact", "withheld", "personal", "third party supplier", "individual",
                   "name removed", "not disclosed", "confidential")
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


def per_row(mask_of_values: pa.Array | np.ndarray, col: pa.DictionaryArray) -> np.ndarray:
    """A boolean per distinct value, spread to one per row."""
    return np.asarray(mask_of_values, dtype=bool)[codes(col)]


def codes(col: pa.DictionaryArray) -> np.ndarray:
    """The dictionary indices of a column as a numpy array."""
    return col.indices.to_numpy(zero_copy_only=False)


def matches(values: pa.Array, pattern: str, words: tuple[str, ...]) -> np.ndarray:
    """`pc.match_substring_regex(values, pattern)` as booleans, skipped when no value holds
    any of `words` (which every match must contain).

    The check lower-cases the values' text and reads 'ſ' as 's': beyond ASCII, RE2's (?i)
    folds only 'ſ' to 's' and 'K' (Kelvin) to 'k', and str.lower() keeps every ASCII letter.
    """
    text = text_bytes(values).decode("utf-8", errors="replace").lower().replace("ſ", "s")
    if not any(w in text for w in words):
        return np.zeros(len(values), bool)
    return np.asarray(pc.match_substring_regex(values, pattern).fill_null(False), dtype=bool)


def is_total_label(values: pa.Array) -> np.ndarray:
    """True for each cell that is a total label ('Total', 'Grand Total', 'Sub-total for …'),
    not a supplier whose name starts with the word ('Total Gas & Power')."""
    return matches(_decoded(values), _TOTAL_LABEL, _TOTAL_WORDS)


def _decoded(values: pa.Array) -> pa.Array:
    """A text column as plain strings (dictionary-encoded ones decoded)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values if pa.types.is_string(values.type) else values.cast(pa.string())


def _empty(n: int) -> pa.Array:
    """n empty strings, built from buffers: all offsets zero, no character data."""
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(np.zeros(n + 1, np.int32)),
                                                  pa.py_buffer(b"")])


_REASON_CODES = {r: i + 1 for i, r in enumerate(REJECT_REASONS)}
_REASON_NAMES = {i: r for r, i in _REASON_CODES.items()}


def to_canonical(grid: Grid, mapping: ColumnMapping) -> Canonical:
    """Clean a grid into the canonical schema (plus extra published columns)."""
    n = grid.n_rows
    cleaned: dict[int, pa.Array] = {}

    def col(idx: int) -> pa.Array:
        # Clean lazily: padded files carry dozens of empty spacer columns nobody reads.
        if idx not in cleaned:
            cleaned[idx] = clean_text(grid.columns[idx])
        return cleaned[idx]

    get = mapping.fields.get
    width = len(grid.columns)

    def column(name: str) -> pa.Array:
        idx = get(name)
        return col(idx) if idx is not None and idx < width else _empty(n)

    reason = np.zeros(n, np.int8)  # 0: kept; else a _REASON_CODES value
    details: dict[int, str] = {}

    def mark(mask: np.ndarray, why: str, what: dict[int, str] | str = "") -> None:
        new = mask & (reason == 0)
        rows = np.flatnonzero(new)
        if not len(rows):
            return
        reason[rows] = _REASON_CODES[why]
        for i in rows:
            details[int(i)] = what if isinstance(what, str) else what[int(i)]

    amounts = parse_amounts(column("amount_gbp"))
    supplier = dictionary_encoded(column("supplier_name"))
    supplier_empty = per_row(pc.equal(pc.utf8_length(supplier.dictionary), 0), supplier)
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
    supplier_label = per_row(matches(supplier.dictionary, _TOTAL_LABEL, _TOTAL_WORDS), supplier)
    label = np.zeros(n, bool)
    no_supplier = np.flatnonzero(supplier_empty & ~amounts.missing)
    if len(no_supplier) and width:
        take = pa.array(no_supplier)
        # Every column's cells of those rows in one array: one regex compile, not one a column.
        cells = pa.concat_arrays([_decoded(grid.columns[idx].take(take)) for idx in range(width)])
        hit = matches(cells, _TOTAL_LABEL, _TOTAL_WORDS).reshape(width, len(no_supplier)).any(axis=0)
        label[no_supplier[hit]] = True
    mark((supplier_label | label) & ~amounts.missing, "total_row", "a cell reads 'Total'")

    # A bare sum: no date, no supplier, an amount equal to the sum of the rows above it.
    bare = supplier_empty & dates.missing & ~amounts.missing & ~amounts.invalid & (reason == 0)
    if bare.any():
        ok = (reason == 0) & ~amounts.missing & ~amounts.invalid & ~bare
        running = np.cumsum(np.where(ok, amounts.pence, 0))
        for i in np.flatnonzero(bare):
            above = running[i - 1] if i else 0
            if above == amounts.pence[i]:
                reason[i] = _REASON_CODES["total_row"]
                details[int(i)] = f"bare sum {format_pence(above)} equals the rows above"

    mark(amounts.missing, "missing_amount")
    def described(mask: np.ndarray, values: pa.Array, template: str) -> dict[int, str]:
        """Reject details quoting the offending cell, built only for the rows that need one."""
        where = np.flatnonzero(mask)
        return {int(i): template.format(v)
                for i, v in zip(where, values.take(pa.array(where)).to_pylist(), strict=True)}

    if amounts.invalid.any():
        mark(amounts.invalid, "invalid_amount",
             described(amounts.invalid, column("amount_gbp"), "amount {!r}"))
    mark(dates.missing, "missing_date")
    if dates.invalid.any():
        fmt = dates.chosen_format or "none"
        mark(dates.invalid, "invalid_date",
             described(dates.invalid, column("payment_date"),
                       "date {!r} fits no format chosen for the column (" + fmt + ")"))

    keep = reason == 0
    rejects = [RawReject(int(grid.lines[i]), _REASON_NAMES[int(reason[i])],
                         str(details.get(int(i), "")), grid.raw_row(i))
               for i in np.flatnonzero(~keep)]
    all_kept = bool(keep.all())
    keep_idx = pa.array(np.flatnonzero(keep))

    def kept(values: pa.Array) -> pa.Array:
        return values if all_kept else values.take(keep_idx)

    redacted_mask = supplier_empty | per_row(
        matches(supplier.dictionary, _REDACTED, _REDACTED_WORDS), supplier)
    out: dict[str, pa.Array] = {
        "payment_date": kept(dates.dates),
        "date_precision": kept(dates.precision),
        "amount_gbp": decimal_from_pence(amounts.pence[keep]),
        "is_redacted": pa.array(redacted_mask[keep]),
        "source_line": pa.array(grid.lines[keep], pa.int64()),
    }
    for name in _TEXT_FIELDS:
        out[name] = kept(column(name))
    for name, idx in mapping.fields.items():
        if name not in out and name not in TRANSACTION_COLUMNS and idx < width:
            out[name] = kept(col(idx))
    for name, idx in mapping.extras.items():
        if idx >= width:
            continue
        raw = grid.columns[idx]
        if pa.types.is_dictionary(raw.type):
            raw = raw.dictionary.take(pa.array(np.unique(codes(raw))))
        if name.startswith("column_") and not pc.any(pc.greater(pc.utf8_length(raw), 0)).as_py():
            continue  # an unnamed spacer column with nothing in it
        values = kept(col(idx))
        key = f"published_{name}" if name in TRANSACTION_COLUMNS or name in out else name
        out[key] = values
    notes = amounts.notes + dates.notes
    n_red = int(redacted_mask[keep].sum())
    blank_sup = int((supplier_empty & keep).sum())
    if blank_sup:
        notes.append(f"{blank_sup} kept row(s) have a blank supplier: marked is_redacted")
    return Canonical(pa.table(out), rejects, dates.chosen_format, dates.formats_used, notes, n_red)
