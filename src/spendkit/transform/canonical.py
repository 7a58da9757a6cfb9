"""Grid + column mapping → canonical transactions and rejects, every row accounted for.

Order of judgement per row (first that applies wins): repeated header, total line, amount
missing/invalid, date missing/invalid. Everything else is kept. Amounts are never changed beyond
reading them to the penny; a supplier cell that is blank or says it was withheld is kept with
`is_redacted = True`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.extract.grid import Grid, RawReject
from spendkit.extract.header import header_key
from spendkit.schema import REJECT_REASONS, TRANSACTION_COLUMNS
from spendkit.transform.amounts import parse_amounts
from spendkit.transform.columns import ColumnMapping
from spendkit.transform.dates import ParsedDates, parse_dates
from spendkit.transform.period import find_period, period_column
from spendkit.transform.text import clean_text, dictionary_encoded, text_bytes
from spendkit.units.money import decimal_from_pence, format_pence

_TOTAL_LABEL = r"(?i)^\s*(grand\s*|sub\s*-?\s*)?totals?\b\s*:?\s*(for\b.*)?$|^\s*grand\s+total\b"
#: Redaction, one list: phrases that mark a withheld supplier wherever they stand in the cell
#: (as whole words: 'Redactive Publishing Ltd' is a supplier), and phrases that must be the
#: whole cell ('Individual', not 'Individual Care Services Ltd'). The matcher and its word
#: prefilter are both built from these.
REDACTION_PHRASES = ("redact", "redacted", "redaction", "withheld", "personal data",
                     "personal information", "personal details", "third party supplier")
REDACTION_WHOLE_CELLS = ("private individual", "individual", "name removed", "not disclosed",
                         "confidential")


def _phrases(phrases: tuple[str, ...]) -> str:
    return "|".join(r"\s+".join(map(re.escape, p.split())) for p in phrases)


_REDACTED = (rf"(?i)\b(?:{_phrases(REDACTION_PHRASES)})\b|"
             rf"^\s*(?:{_phrases(REDACTION_WHOLE_CELLS)})\s*$")
# Words every match of the pattern contains, in lower case: a dictionary without any of them
# cannot match, and is not run through RE2 (which compiles the pattern on every call).
_TOTAL_WORDS = ("total",)
_REDACTED_WORDS = tuple(sorted({p.split()[0] for p in REDACTION_PHRASES + REDACTION_WHOLE_CELLS}))
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
    decisions: list[dict] = field(default_factory=list)


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


def to_canonical(grid: Grid, mapping: ColumnMapping, *, file_name: str = "",
                 vat_basis: str = "unknown") -> Canonical:
    """Clean a grid into the canonical schema (plus extra published columns).

    `file_name` (and the grid's sheet name) may give the period of rows without a usable date
    (`spendkit.transform.period`); `vat_basis` is written on every kept row.
    """
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
        texts: dict = {}  # one string per distinct value: a column of one bad value is common
        out = {}
        for i, v in zip(where.tolist(), values.take(pa.array(where)).to_pylist(), strict=True):
            text = texts.get(v)
            if text is None:
                text = texts[v] = template.format(v)
            out[i] = text
        return out

    if amounts.invalid.any():
        for why, mask in amounts.reasons.items():
            mark(mask & amounts.invalid, "invalid_amount",
                 described(mask & amounts.invalid, column("amount_gbp"), "amount {!r}: " + why))
        mark(amounts.invalid, "invalid_amount",
             described(amounts.invalid, column("amount_gbp"), "amount {!r}"))

    # Rows without a usable date: real money when the file says which period they belong to.
    basis_codes = np.zeros(n, np.int8)  # index into _DATE_BASES; 0 = published
    notes_dates: list[str] = []
    decisions: list[dict] = []
    undated = (dates.missing | dates.invalid) & (reason == 0)
    named = ~supplier_empty
    if undated.any():
        for name in ("description", "expense_type"):
            if get(name) is not None:
                named |= np.asarray(pc.greater(pc.utf8_length(column(name)), 0), dtype=bool)
        dates, fill = _undated_periods(dates, undated & named, grid, mapping, col, file_name)
        basis_codes = fill.codes
        notes_dates, decisions = fill.notes, fill.decisions
        why_not = fill.why_not
    else:
        why_not = ""
    suffix = f"; no period found ({why_not})" if why_not else ""
    if undated.any():
        mark(dates.missing & ~named, "missing_date",
             "no date, and no supplier, description or expense type naming the payment")
    mark(dates.missing, "missing_date", "no date" + suffix if suffix else "")
    if dates.invalid.any():
        fmt = dates.chosen_format or "none"
        mark(dates.invalid, "invalid_date",
             described(dates.invalid, column("payment_date"),
                       "date {!r} fits no format chosen for the column (" + fmt + ")"
                       + suffix))

    keep = reason == 0
    gone = np.flatnonzero(~keep)
    rejects = [RawReject(int(grid.lines[i]), _REASON_NAMES[int(reason[i])],
                         str(details.get(int(i), "")), raw)
               for i, raw in zip(gone.tolist(), grid.raw_rows(gone), strict=True)]
    all_kept = bool(keep.all())
    keep_idx = pa.array(np.flatnonzero(keep))

    def kept(values: pa.Array) -> pa.Array:
        return values if all_kept else values.take(keep_idx)

    redacted_mask = supplier_empty | per_row(
        matches(supplier.dictionary, _REDACTED, _REDACTED_WORDS), supplier)
    n_kept = int(keep.sum())
    out: dict[str, pa.Array] = {
        "payment_date": kept(dates.dates),
        "date_precision": kept(dates.precision),
        "date_basis": pa.DictionaryArray.from_arrays(pa.array(basis_codes[keep]),
                                                     pa.array(_DATE_BASES)),
        "amount_gbp": decimal_from_pence(amounts.pence[keep]),
        "vat_basis": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n_kept, np.int8)),
                                                    pa.array([vat_basis or "unknown"])),
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
    notes = amounts.notes + dates.notes + notes_dates
    n_red = int(redacted_mask[keep].sum())
    blank_sup = int((supplier_empty & keep).sum())
    if blank_sup:
        notes.append(f"{blank_sup} kept row(s) have a blank supplier: marked is_redacted")
    return Canonical(pa.table(out), rejects, dates.chosen_format, dates.formats_used, notes, n_red,
                     decisions)


_DATE_BASES = ("published", "period_column", "sheet_name", "file_name", "other_rows")


@dataclass
class _Fill:
    codes: np.ndarray  # per row: index into _DATE_BASES
    notes: list[str]
    decisions: list[dict]
    why_not: str  # what was tried, when some undated rows got no period


def _undated_periods(dates: ParsedDates, wanted: np.ndarray, grid: Grid, mapping: ColumnMapping,
                     col, file_name: str) -> tuple[ParsedDates, _Fill]:
    """Dates for the `wanted` rows (no usable date of their own) from the file's period clues.

    Returns the dates with those rows filled (their missing/invalid flags cleared) and what
    was decided. Rows not in `wanted`, or for which no period is found, stay as they were.
    """
    n = len(wanted)
    codes = np.zeros(n, np.int8)
    notes: list[str] = []
    decisions: list[dict] = []
    day = np.asarray(dates.dates.cast(pa.int32()).fill_null(0), dtype=np.int32).copy()
    months_of = np.full(n, -1, np.int64)
    precision = dates.precision.to_pylist()
    published = pc.if_else(pa.array(dates.missing | dates.invalid), pa.scalar(None, pa.date32()),
                           dates.dates)
    # 1. A column of yyyymm periods, per row.
    date_idx = mapping.fields.get("payment_date")
    skip = {mapping.fields.get(f) for f in ("amount_gbp", "supplier_name", "payment_date")}
    width = len(grid.columns)
    periodish = {i: col(i) for i in range(width) if i not in skip and (
        re.search(r"period|month|yyyymm", header_key(grid.header[i]))
        or i == date_idx)}
    found = period_column(periodish, grid.header, published) if periodish else None
    if found is not None:
        idx, months, evidence = found
        use = wanted & (months >= 0)
        months_of[use] = months[use]
        codes[use] = _DATE_BASES.index("period_column")
        if use.any():
            decisions.append({"field": "payment_date period", "chosen": grid.header[idx],
                              "basis": "period_column", "evidence": evidence, "runner_up": ""})
            notes.append(f"{int(use.sum())} row(s) without a usable date were dated by their "
                         f"period: {evidence}")
    # 2.-4. The sheet name, the file name, the other rows' month.
    rest = wanted & (months_of < 0)
    why_not = ""
    if rest.any():
        period, tried = find_period(published.drop_null(), grid.sheet, file_name)
        if period is not None:
            start = period.start.year * 12 + period.start.month - 1
            months_of[rest] = start
            codes[rest] = _DATE_BASES.index(period.basis)
            decisions.append({"field": "payment_date period", "chosen": period.label,
                              "basis": period.basis, "evidence": period.evidence,
                              "runner_up": "; ".join(tried)})
            notes.append(f"{int(rest.sum())} row(s) without a usable date were given the "
                         f"period {period.label} ({period.precision}): {period.evidence}")
            for i in np.flatnonzero(rest):
                precision[i] = period.precision
        else:
            why_not = "; ".join(tried)
    filled = months_of >= 0
    if filled.any():
        for i in np.flatnonzero(filled & (codes == _DATE_BASES.index("period_column"))):
            precision[i] = "month"
        first = np.array(months_of[filled] // 12 * 10000 + months_of[filled] % 12 * 100 + 101)
        as_dates = [dt.date(int(v) // 10000, int(v) // 100 % 100, 1) for v in first]
        day[filled] = np.asarray(pa.array(as_dates, pa.date32()).cast(pa.int32()))
        valid = ~(dates.missing | dates.invalid) | filled
        new_dates = pa.array(day, pa.int32()).cast(pa.date32())
        new_dates = pc.if_else(pa.array(valid), new_dates, pa.scalar(None, pa.date32()))
        dates = ParsedDates(new_dates, pa.array(precision, pa.string()),
                            dates.missing & ~filled, dates.invalid & ~filled,
                            dates.chosen_format, dates.formats_used, dates.notes)
    return dates, _Fill(codes, notes, decisions, why_not)
