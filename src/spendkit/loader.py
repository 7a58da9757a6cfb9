"""Load one published spending file into the canonical table: `load(path) -> LoadResult`.

Detects rather than configures: what the file is (CSV, XLS, XLSX, ZIP, whatever the extension
says), its encoding and line endings, delimiter, where the header is (near the top after a
preamble, or the last line), which columns mean what, the date format by vote, and every amount
style. Every raw row ends up kept or rejected with a reason; the ledger says what was decided.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.errors import SpendkitError, UnreadableFileError
from spendkit.extract.archive import MAX_MEMBERS, MAX_TOTAL_BYTES, list_members, read_member, short
from spendkit.extract.clues import publisher_of
from spendkit.extract.decode import (
    DecodedText,
    decode_bytes,
    decode_to_utf8,
    line_ending_counts,
    normalise_newlines,
    utf16_encoding,
)
from spendkit.extract.delimited import DelimitedText
from spendkit.extract.excel import SheetRows, grid_from_sheet, read_xls, read_xlsx
from spendkit.extract.extent import MAX_WORKBOOK_CELLS
from spendkit.extract.fastcsv import regular_grid
from spendkit.extract.grid import MAX_COLUMNS, Grid, RawReject
from spendkit.extract.header import HEAD_ROWS, REQUIRED, TAIL_ROWS, find_header, header_score
from spendkit.extract.sniff import sniff_kind
from spendkit.reference.councils import Profile, Publisher, profile_for
from spendkit.schema import TRANSACTION_COLUMNS, reject_schema, transaction_schema
from spendkit.transform.canonical import is_total_label, to_canonical
from spendkit.transform.choose import choose_columns, vat_basis_decision
from spendkit.transform.columns import map_columns
from spendkit.units.money import sum_pence

if TYPE_CHECKING:  # pandas is imported when a result is asked for as a DataFrame: ingest
    import pandas as pd  # workers that only load files start ~0.4 s sooner without it

_TABULAR = {"text", "xlsx", "xls", "zip"}
_WHAT = {
    "html": "an HTML page (a web page saved under a data file name), not CSV or Excel",
    "pdf": "a PDF document, not CSV or Excel",
    "empty": "empty (no bytes, or only white space)",
    "encrypted-office": "a password-protected (encrypted) Office workbook; save it unprotected",
    "corrupt-zip": "a damaged ZIP/XLSX container (truncated download?)",
    "binary": "binary data that is neither Excel nor text",
}


@dataclass
class PartLedger:
    """What happened to one table: a CSV file, a ZIP member or one worksheet."""

    source_file: str
    sheet: str
    file_kind: str
    header_line: int | None
    rows_read: int
    rows_kept: int
    rows_rejected: int
    rejected_by_reason: dict[str, int]
    blank_rows_skipped: int
    preamble_rows_skipped: int
    kept_total_pence: int
    column_mapping: dict[str, str]
    date_format: str
    date_formats_used: dict[str, int]
    warnings: list[str]
    decisions: list[dict] = field(default_factory=list)
    vat_basis: str = ""
    #: text tables: physical lines beyond the first of records holding quoted line breaks
    continuation_lines: int | None = None


@dataclass
class Ledger:
    """Account of one loaded file: rows read == rows kept + rows rejected, always."""

    source_file: str
    source_sha256: str
    format: str
    encoding: str = ""
    line_endings: dict[str, int] = field(default_factory=dict)
    delimiter: str = ""
    parse_path: str = ""
    publisher_name: str = ""
    publisher_code: str = ""
    publisher_basis: str = ""
    vat_basis: str = ""
    threshold_gbp: str = ""
    file_kind: str = "transactions"
    rows_read: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    blank_rows_skipped: int = 0
    preamble_rows_skipped: int = 0
    kept_total_pence: int = 0
    header_line: int | None = None
    sheets: list[str] = field(default_factory=list)
    column_mapping: dict[str, str] = field(default_factory=dict)
    date_format: str = ""
    warnings: list[str] = field(default_factory=list)
    #: every choice the loader made: {field, chosen, basis ('alias', 'keyword', 'inferred',
    #: 'profile', 'header', 'file_name', …), evidence, runner_up, part (sheet or member)}
    decisions: list[dict] = field(default_factory=list)
    #: ZIP members, sheets and tables not read: {name, what ('member', 'sheet', 'table'), reason}
    skipped: list[dict] = field(default_factory=list)
    #: Delimited text only (None for workbooks): the physical lines of the text (CRLF, LF or
    #: CR ended), counted from its bytes apart from any CSV parsing, and the lines the ledger
    #: accounts for; they must be equal (a warning names any line range that is not).
    physical_lines: int | None = None
    lines_accounted: int | None = None
    #: where the accounted lines went: above_header (preamble and blank lines above the first
    #: header), headers, rows (read: kept or rejected), blank, continuation (further lines of
    #: records whose quoted cells hold line breaks), skipped_tables (rows of tables not read)
    line_accounting: dict[str, int] = field(default_factory=dict)
    parts: list[PartLedger] = field(default_factory=list)

    @property
    def lines_reconciled(self) -> bool | None:
        """True when every physical line of the text is accounted for (None for workbooks)."""
        if self.physical_lines is None:
            return None
        return self.physical_lines == self.lines_accounted

    @property
    def inferred_fields(self) -> list[str]:
        """Fields whose column was inferred from content (no header named them)."""
        return sorted({d["field"] for d in self.decisions if d["basis"] == "inferred"})

    @property
    def kept_total_gbp(self) -> Decimal:
        """Sum of kept amounts, exact."""
        return Decimal(self.kept_total_pence).scaleb(-2)

    def to_dict(self) -> dict:
        """Plain-data form (for JSON, the ingest ledger table and tests)."""
        d = asdict(self)
        d["kept_total_gbp"] = str(self.kept_total_gbp)
        return d

    def summary(self) -> str:
        """A few lines an analyst can read."""
        rej = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected_by_reason.items())) or "none"
        lines = [
            f"{self.source_file}: {self.file_kind}, {self.format}"
            + (f" ({self.encoding})" if self.encoding else ""),
            f"  publisher: {self.publisher_name} [{self.publisher_code or 'no GSS code'}] "
            f"from {self.publisher_basis}",
            f"  rows read {self.rows_read:,} = kept {self.rows_kept:,} + rejected "
            f"{self.rows_rejected:,} ({rej}); blank {self.blank_rows_skipped:,}",
            f"  kept total £{self.kept_total_gbp:,.2f}; header line {self.header_line}; "
            f"dates {self.date_format or '-'}",
        ]
        if self.physical_lines is not None:
            a = self.line_accounting
            lines.append(
                f"  lines {self.physical_lines:,} "
                f"{'=' if self.lines_reconciled else '!= accounted'} "
                f"{a.get('above_header', 0):,} above the header + {a.get('headers', 0):,} "
                f"header + {a.get('rows', 0):,} rows + {a.get('blank', 0):,} blank + "
                f"{a.get('continuation', 0):,} continuation"
                + (f" + {a['skipped_tables']:,} in skipped tables"
                   if a.get("skipped_tables") else ""))
        lines += [f"  warning: {w}" for w in self.warnings]
        lines += [f"  skipped {s['what']} {s['name']}: {s['reason']}" for s in self.skipped]
        return "\n".join(lines)


@dataclass
class LoadResult:
    """The canonical transactions, the rejected rows and the ledger of one file."""

    table: pa.Table
    rejects_table: pa.Table
    ledger: Ledger

    @property
    def transactions(self) -> pd.DataFrame:
        """Kept rows as pandas (amount_gbp exact decimal, payment_date datetime64)."""
        return arrow_to_pandas(self.table)

    @property
    def rejects(self) -> pd.DataFrame:
        """Rejected rows: source_file, source_sheet, source_line, reason, detail, raw."""
        return self.rejects_table.to_pandas()

    def __repr__(self) -> str:
        return f"<LoadResult {self.ledger.source_file}: {self.ledger.rows_kept} kept, " \
               f"{self.ledger.rows_rejected} rejected>"


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """pandas view of a canonical Arrow table, with amounts kept as exact decimals.

    Decimals become ArrowDtype columns, dates datetime64, strings pandas' default str dtype.
    """
    import pandas as pd

    def mapper(t: pa.DataType):
        if pa.types.is_decimal(t):
            return pd.ArrowDtype(t)
        return None

    return table.to_pandas(types_mapper=mapper, date_as_object=False)


# --------------------------------------------------------------------------------------------
def load(path: str | Path, publisher: str | None = None, *, source_name: str | None = None,
         data: bytes | None = None, sha256: str | None = None) -> LoadResult:
    """Load one published spending file (CSV, XLS, XLSX or ZIP) into the canonical table.

    Args:
        path: the file to read.
        publisher: council name or GSS code, overriding what the file and profiles say.
        source_name: name recorded in `source_file` (default: the file's name); `spendkit
            ingest` passes the path relative to the raw folder.
        data: the file's bytes, if already read.
        sha256: their SHA-256 hex digest, if already computed (saves hashing them twice).

    Raises:
        UnreadableFileError: the file is not spending data (HTML, PDF, empty, encrypted,
            corrupt, too large once inflated, or no recognisable header), naming the file (and
            sheet or line where known) and what was found. Nothing else escapes: a reader's own
            failure (a Rust panic, an XML or ZIP error) is reported the same way.
    """
    path = Path(path)
    name = source_name or path.name
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableFileError(str(path), f"cannot be read ({exc.strerror})") from exc
    try:
        return _load(path, name, data, sha256, publisher)
    except SpendkitError:
        raise
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        # A reader's own failure (calamine's PanicException is a BaseException): one message
        # naming the file, quoting at most a short escaped excerpt of what the reader said.
        raise UnreadableFileError(name, f"could not be read ({type(exc).__name__}: "
                                  f"{short(str(exc))})") from exc


def _load(path: Path, name: str, data: bytes, sha256: str | None,
          publisher: str | None) -> LoadResult:
    sha = sha256 or hashlib.sha256(data).hexdigest()
    kind = sniff_kind(data)
    ledger = Ledger(source_file=name, source_sha256=sha, format=kind if kind != "text" else "csv")
    if kind not in _TABULAR:
        raise UnreadableFileError(name, f"is {_WHAT.get(kind, kind)}")
    profile = profile_for(str(path))
    grids: list[tuple[str, Grid]] = []
    texts: dict[str, _TextLines] = {}
    allowance = _Allowance()
    if kind == "text":
        grids += [(name, g) for g in _text_grids(data, name, ledger, profile, texts, allowance)]
    elif kind in ("xlsx", "xls"):
        grids += [(name, g) for g in _excel_grids(data, name, kind, ledger, allowance)]
    else:
        grids += _zip_grids(data, name, ledger, texts, allowance)
    if not grids:
        raise UnreadableFileError(name, "holds no sheet or member with a transaction header")
    return _assemble(grids, name, sha, publisher, str(path), ledger, profile, texts)


#: Lines of delimited text one file may hold (ZIP members together). A line costs the loader
#: about what two workbook cells do (text read record by record, or rejected row by row, costs
#: up to ~0.7 KB a line), so a file holds `extent.MAX_WORKBOOK_CELLS` cells or this many lines
#: of text, or a mix: 2,000,000 lines (a council's year is 10,000-300,000) keep the worst text
#: layouts under 1.5 GB.
MAX_TEXT_LINES = MAX_WORKBOOK_CELLS // 2


@dataclass
class _Allowance:
    """What one file may still hold, in workbook cells (a line of text counts as two)."""

    cells: int = field(default_factory=lambda: MAX_WORKBOOK_CELLS)

    def take_lines(self, lines: int, name: str) -> None:
        """Count a text's lines against the allowance; UnreadableFileError past it."""
        if 2 * lines > self.cells:
            whole = self.cells == MAX_WORKBOOK_CELLS
            raise UnreadableFileError(
                name, f"has {lines:,} lines, more than the {self.cells // 2:,} "
                + ("one file may hold: split it (by month or quarter)" if whole else
                   f"left of the {MAX_WORKBOOK_CELLS // 2:,} lines one file (all its ZIP "
                   "members together) may hold"))
        self.cells -= 2 * lines

    def take_cells(self, sheets: list[SheetRows]) -> None:
        """Count what a workbook's sheets took (each from A1 to its last cell)."""
        self.cells -= sum((s.lines[-1] if s.lines else 0)
                          * max((len(r) for r in s.rows), default=0) for s in sheets)
        self.cells = max(self.cells, 0)


@dataclass
class _TextLines:
    """One delimited text's physical lines (counted from its line ends, not by a CSV parser)
    and the lines above its first header (0 when the header is the last line)."""

    physical: int
    above_header: int


def _physical_lines(endings: dict[str, int], last: bytes | str) -> int:
    """Lines of a text from its line-end counts and its last character (an unended last line
    is a line too)."""
    return sum(endings.values()) + (1 if last and last not in ("\n", "\r", b"\n", b"\r") else 0)


def _no_header(name: str, first: list[str]) -> UnreadableFileError:
    return UnreadableFileError(
        name, "no recognisable header row: expected a row naming at least an amount and a "
        f"supplier column (e.g. 'Amount', 'Supplier Name') near the top or at the end; "
        f"the first row reads '{short('|'.join(first), 60)}'", line=1)


def _regular_text_grid(data: bytes, ledger: Ledger, encoding: str | None, name: str,
                       allowance: _Allowance) -> tuple[Grid, int] | None:
    """The fast path (Arrow over the file's UTF-8 bytes) and the text's physical lines, or None
    when the file needs care."""
    body, decoded = decode_to_utf8(data, encoding)
    if not body or body.isspace():
        return None
    endings = line_ending_counts(body)
    allowance.take_lines(_physical_lines(endings, body[-1:]), name)
    fast = regular_grid(body, endings, find_header)
    if fast is None:
        return None
    grid, ledger.delimiter = fast
    ledger.encoding = decoded.encoding
    ledger.line_endings = {k: v for k, v in endings.items() if v}
    ledger.warnings += decoded.notes
    ledger.parse_path = "arrow"
    return grid, _physical_lines(endings, body[-1:])


def _text_grids(data: bytes, name: str, ledger: Ledger, profile: Profile | None = None,
                texts: dict[str, _TextLines] | None = None,
                allowance: _Allowance | None = None) -> list[Grid]:
    """The grids of a delimited text file: one, or one per table when tables are stacked.

    `texts[name]` gets the text's physical lines, for the ledger's line account; they are
    counted against `allowance` before the text is parsed."""
    texts = {} if texts is None else texts
    allowance = _Allowance() if allowance is None else allowance
    utf16 = utf16_encoding(data)
    if utf16:
        # Excel's "Unicode Text" export: transcoded once, then read as UTF-8.
        try:
            data = data.decode(utf16).lstrip("\ufeff").encode("utf-8")
        except UnicodeDecodeError:
            data = data.decode(utf16, errors="replace").lstrip("\ufeff").encode("utf-8")
    if profile is None or not profile.header_line:
        spare = _Allowance(allowance.cells)  # the careful path counts the same lines again
        fast = _regular_text_grid(data, ledger, profile.encoding if profile else None, name,
                                  spare)
        if fast is not None:
            _check_width(name, fast[0].header, fast[0].header_line)
        if fast is not None and not _stacked_headers(fast[0]):
            allowance.cells = spare.cells
            grid, physical = fast
            _note_utf16(ledger, utf16)
            texts[name] = _TextLines(physical, grid.header_line - 1)
            return [grid]
        ledger.parse_path = ""
    if profile is not None and profile.encoding:
        # The publisher's profile knows better than detection (e.g. a DOS code page).
        decoded = DecodedText(data.decode(profile.encoding, errors="replace").lstrip("\ufeff"),
                              profile.encoding, notes=[f"encoding {profile.encoding} from the "
                                                       "publisher profile"])
    else:
        decoded = decode_bytes(data)
    text, endings = normalise_newlines(decoded.text)
    physical = _physical_lines(endings, decoded.text[-1:])
    allowance.take_lines(physical, name)
    ledger.encoding = decoded.encoding
    ledger.line_endings = {k: v for k, v in endings.items() if v}
    ledger.warnings = [w for w in ledger.warnings if w not in decoded.notes] + decoded.notes
    _note_utf16(ledger, utf16)
    if not text.strip():
        raise UnreadableFileError(name, "is empty (no rows after decoding)")
    doc = DelimitedText(text)
    ledger.delimiter = doc.delimiter
    ledger.parse_path = ("record scan + arrow" if doc.regular
                         else "csv-module (irregular quoting)")
    nonblank = doc.nonblank_indices()
    if len(nonblank) == 0:
        raise UnreadableFileError(name, "has no non-blank rows")
    if profile is not None and profile.header_line:
        # The profile names the header's physical line.
        want = int(profile.header_line)
        hits = [int(i) for i in nonblank if int(doc.lines[i]) == want]
        if not hits:
            raise UnreadableFileError(name, f"the publisher profile puts the header on line "
                                      f"{want}, but that line is blank or inside a record",
                                      line=want)
        index = hits[0]
        ledger.warnings.append(f"header line {want} from the publisher profile")
    else:
        head = list(nonblank[:HEAD_ROWS])
        tail = [i for i in nonblank[-TAIL_ROWS:] if i not in set(head)]
        cand = head + tail
        found = find_header([doc.cells(int(i)) for i in cand])
        if found is None:
            raise _no_header(name, doc.cells(int(nonblank[0])))
        index = int(cand[found[0]])
    _check_width(name, doc.cells(index), int(doc.lines[index]))
    at_end = index == int(nonblank[-1]) and index != int(nonblank[0])
    texts[name] = _TextLines(physical, 0 if at_end else int(doc.lines[index]) - 1)
    if at_end:
        if not profile or not profile.header_line:
            ledger.warnings.append(f"header found on the last line ({int(doc.lines[index])}), "
                                   "below the data")
        return [doc.build_grid(index, header_at_end=True)]
    first = doc.build_grid(index)
    lines = _stacked_headers(first)
    if not lines:
        return [first]
    starts = [index] + [int(np.searchsorted(doc.lines, ln)) for ln in lines]
    return [doc.build_grid(s, stop=e) for s, e in zip(starts, starts[1:] + [None], strict=True)]


def _check_width(name: str, header: list[str], line: int) -> None:
    if len(header) > MAX_COLUMNS:
        raise UnreadableFileError(name, f"the header has {len(header):,} fields, more than "
                                  f"the limit of {MAX_COLUMNS:,} (the widest sheet Excel "
                                  "allows)", line=line)


def _note_utf16(ledger: Ledger, utf16: str | None) -> None:
    if utf16:
        ledger.encoding = utf16
        ledger.warnings.append(f"UTF-16 text ({utf16}) transcoded to UTF-8")


def _stacked_headers(grid: Grid) -> list[int]:
    """Source lines of rows inside a grid (or among its rejected rows) that are headers of a
    further table stacked below the first: a repeated header, or a new one whose columns
    moved. Only rows whose amount cell holds no digit are looked at."""
    if grid.n_rows == 0 and not grid.rejects:
        return []
    amount = map_columns(grid.header).fields.get("amount_gbp")
    rows: list[tuple[int, list[str]]] = []
    if grid.n_rows:
        if amount is not None and amount < len(grid.columns):
            col = grid.columns[amount]
            if pa.types.is_dictionary(col.type):
                col = col.dictionary_decode()
            digit = np.asarray(pc.match_substring_regex(col, r"\d").fill_null(False), dtype=bool)
            suspects = np.flatnonzero(~digit)[:_MAX_HEADER_SUSPECTS]
        else:
            suspects = np.arange(min(grid.n_rows, _MAX_HEADER_SUSPECTS))
        if len(suspects):
            take = pa.array(suspects)
            cols = [c.take(take).to_pylist() for c in grid.columns]
            for k, i in enumerate(suspects.tolist()):
                rows.append((int(grid.lines[i]), [str(c[k] or "") for c in cols]))
    rows += [(r.line, r.raw.split("|")) for r in grid.rejects
             if r.reason == "wrong_field_count"][:_MAX_HEADER_SUSPECTS]
    found = []
    for line, cells in rows:
        score, full = header_score(cells)
        if score >= 2 and (full or score >= 3):
            found.append(line)
    return sorted(set(found))


_MAX_HEADER_SUSPECTS = 20_000


def _sheet_grids(sheet: SheetRows, ledger: Ledger) -> list[Grid]:
    """The grids of one worksheet: none (no header), one, or one per stacked table."""
    if not sheet.rows:
        ledger.skipped.append({"name": sheet.name, "what": "sheet", "reason": "empty"})
        return []
    head = list(range(min(HEAD_ROWS, len(sheet.rows))))
    tail = [i for i in range(max(0, len(sheet.rows) - TAIL_ROWS), len(sheet.rows))
            if i not in head]
    cand = head + tail
    found = find_header([sheet.rows[i] for i in cand])
    if found is None:
        ledger.skipped.append({"name": sheet.name, "what": "sheet", "reason":
                               f"no transaction header ({len(sheet.rows)} non-empty rows "
                               "not read)"})
        return []
    pos = cand[found[0]]
    at_end = pos == len(sheet.rows) - 1 and pos != 0
    grid = grid_from_sheet(sheet, pos, header_at_end=at_end)
    lines = [] if at_end else _stacked_headers(grid)
    if not lines:
        return [grid]
    where = {line: i for i, line in enumerate(sheet.lines)}
    starts = [pos] + [where[ln] for ln in lines]
    return [grid_from_sheet(sheet, s, stop=e, first=(k == 0))
            for k, (s, e) in enumerate(zip(starts, starts[1:] + [None], strict=True))]


def _excel_grids(data: bytes, name: str, kind: str, ledger: Ledger,
                 allowance: _Allowance | None = None) -> list[Grid]:
    allowance = _Allowance() if allowance is None else allowance
    reader = read_xlsx if kind == "xlsx" else read_xls
    sheets: list[SheetRows] = reader(data, name, allowance.cells)
    allowance.take_cells(sheets)
    grids = []
    for sheet in sheets:
        grids += _sheet_grids(sheet, ledger)
    if not grids and sheets:
        first = sheets[0].rows[0] if sheets[0].rows else []
        raise _no_header(name, first)
    return grids


def _zip_grids(data: bytes, name: str, ledger: Ledger, texts: dict[str, _TextLines],
               allowance: _Allowance) -> list[tuple[str, Grid]]:
    out = []
    budget = [MAX_TOTAL_BYTES]
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFileError(name, f"is a damaged ZIP archive ({short(str(exc))})") from exc
    with zf:
        members = list_members(zf)
        wanted = sum(1 for m in members if not m.skip)
        if wanted > MAX_MEMBERS:
            raise UnreadableFileError(name, f"holds {wanted:,} files to read, more than the "
                                      f"limit of {MAX_MEMBERS:,} one archive may hold")
        for m in members:
            member = f"{name}/{m.name}"
            if m.skip:
                ledger.skipped.append({"name": member, "what": "member", "reason": m.skip})
                continue
            blob = read_member(zf, m.info, member, budget)
            kind = sniff_kind(blob)
            if kind == "text":
                sub = Ledger(source_file=member, source_sha256="", format="csv")
                out += [(member, g) for g in _text_grids(blob, member, sub, texts=texts,
                                                         allowance=allowance)]
                ledger.encoding = ledger.encoding or sub.encoding
                ledger.delimiter = ledger.delimiter or sub.delimiter
                ledger.parse_path = ledger.parse_path or sub.parse_path
                ledger.warnings += [f"{m.name}: {w}" for w in sub.warnings]
            elif kind in ("xlsx", "xls"):
                sub = Ledger(source_file=member, source_sha256="", format=kind)
                out += [(member, g) for g in _excel_grids(blob, member, kind, sub, allowance)]
                ledger.skipped += [dict(s, name=f"{member}: {s['name']}") for s in sub.skipped]
            elif kind in ("zip", "corrupt-zip"):
                ledger.skipped.append({"name": member, "what": "member", "reason":
                                       "a nested archive (not opened)"})
            else:
                ledger.skipped.append({"name": member, "what": "member",
                                       "reason": f"not tabular ({kind})"})
    return out


def _overrides(profile: Profile | None) -> dict[str, str]:
    """{field: header} from a profile's `columns` ('amount_gbp=Net Amount;payment_date=Paid')."""
    text = getattr(profile, "columns", "") or ""
    pairs = (item.split("=", 1) for item in text.split(";") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs if k.strip() and v.strip()}


def _missing_error(source_file: str, grid: Grid, missing: list[str]) -> UnreadableFileError:
    return UnreadableFileError(
        source_file, "has no " + " and no ".join(
            {"amount_gbp": "amount", "supplier_name": "supplier"}[m] for m in missing)
        + " column: no header names one and no column's content reads as one (header on "
        f"line {grid.header_line}" + (f" of sheet {grid.sheet!r}" if grid.sheet else "")
        + f" reads '{short('|'.join(grid.header), 150)}')", line=grid.header_line)


def _assemble(grids: list[tuple[str, Grid]], name: str, sha: str, publisher: str | None,
              path: str, ledger: Ledger, profile: Profile | None = None,
              texts: dict[str, _TextLines] | None = None) -> LoadResult:
    tables, rejects = [], []
    pub = publisher_of(path, name, grids, publisher)  # every clue; the ledger says which decided
    ledger.warnings += list(pub.warnings)
    overrides = _overrides(profile)
    errors: list[UnreadableFileError] = []
    read: list[tuple[str, Grid, int]] = []  # (source, grid, rows read; -1 if not read)
    for source_file, grid in grids:
        mapping, decisions = choose_columns(grid, overrides)
        part_warn = list(grid.notes) + mapping.warnings
        missing = [f for f in REQUIRED if f not in mapping.fields]
        if missing:
            error = _missing_error(source_file, grid, missing)
            if grid.n_rows == 0 and not grid.rejects:
                missing = []  # an empty stacked table: nothing to lose
            else:
                errors.append(error)
                where = f"{source_file}: sheet {grid.sheet}" if grid.sheet else source_file
                ledger.skipped.append({"name": where, "what": "table", "reason": error.problem})
                read.append((source_file, grid, -1))
                continue
        where = grid.sheet or (source_file if source_file != ledger.source_file else "")
        vat = vat_basis_decision(mapping, pub.vat_basis)
        if "payment_date" not in mapping.fields or "amount_gbp" not in mapping.fields:
            # A supplier summary (Lambeth 2011: 'Supplier Name, Total' under 'Sum of …').
            kind = "supplier_summary"
            total_label = (is_total_label(grid.columns[mapping.fields["supplier_name"]])
                           if "supplier_name" in mapping.fields else np.zeros(grid.n_rows, bool))
            part_rejects = [
                RawReject(int(grid.lines[i]), "total_row", "a cell reads 'Total'", raw)
                if total_label[i] else
                RawReject(int(grid.lines[i]), "not_transaction_list",
                          "file is a summary without payment dates", raw)
                for i, raw in enumerate(grid.raw_rows(np.arange(grid.n_rows)))]
            part_rejects += grid.rejects
            kept = 0
            total = 0
            date_format, used, notes = "", {}, []
        else:
            kind = "transactions"
            canon = to_canonical(grid, mapping, file_name=source_file,
                                 vat_basis=vat["chosen"])
            decisions += [vat] + canon.decisions
            part_rejects = grid.rejects + canon.rejects
            table = _finish(canon.table, source_file, grid.sheet, sha, pub)
            tables.append(table)
            kept = table.num_rows
            total = sum_pence(table.column("amount_gbp"))
            date_format, used, notes = canon.date_format, canon.date_formats_used, canon.notes
        rejects.append(_reject_table(source_file, grid.sheet, part_rejects))
        reasons = Counter(r.reason for r in part_rejects)
        part = PartLedger(
            source_file=source_file, sheet=grid.sheet, file_kind=kind,
            header_line=grid.header_line, rows_read=kept + len(part_rejects), rows_kept=kept,
            rows_rejected=len(part_rejects), rejected_by_reason=dict(sorted(reasons.items())),
            blank_rows_skipped=grid.blank_rows, preamble_rows_skipped=grid.preamble_rows,
            kept_total_pence=total, column_mapping=mapping.describe(), date_format=date_format,
            date_formats_used=used, warnings=part_warn + notes,
            decisions=[dict(d, part=where) for d in decisions],
            vat_basis=vat["chosen"] if kind == "transactions" else "",
            continuation_lines=grid.continuation_lines)
        ledger.parts.append(part)
        read.append((source_file, grid, part.rows_read))
    if not ledger.parts and errors:
        raise errors[0]
    _roll_up(ledger, pub)
    table = _concat(tables)
    if texts:
        _account_lines(ledger, texts, read, table, rejects)
    rej = pa.concat_tables(rejects) if rejects else reject_schema().empty_table()
    return LoadResult(table, rej.sort_by([("source_file", "ascending"), ("source_sheet",
                                                                       "ascending"),
                                          ("source_line", "ascending")]), ledger)


def _reject_table(source_file: str, sheet: str, rows: list[RawReject]) -> pa.Table:
    """One part's rejected rows as an Arrow table (reject_schema)."""
    n = len(rows)
    return pa.table([repeat_string(source_file, n), repeat_string(sheet, n),
                     pa.array([r.line for r in rows], pa.int64()),
                     pa.array([r.reason for r in rows], pa.string()),
                     pa.array([r.detail for r in rows], pa.string()),
                     pa.array([r.raw for r in rows], pa.string())], schema=reject_schema())


def _account_lines(ledger: Ledger, texts: dict[str, _TextLines],
                   read: list[tuple[str, Grid, int]], table: pa.Table,
                   rejects: list[pa.Table]) -> None:
    """Reconcile every delimited text's physical lines with what the ledger says became of
    them: lines = above the header + headers + rows read + blank + continuation (+ rows of
    tables not read). A difference is a warning naming the lines (issue 22: rows must not
    vanish while rows read = kept + rejected still holds)."""
    account = dict.fromkeys(("above_header", "headers", "rows", "blank", "continuation",
                             "skipped_tables"), 0)
    for text in texts.values():
        account["above_header"] += text.above_header
    for source, grid, rows in read:
        if source not in texts or grid.continuation_lines is None:
            continue
        account["headers"] += 1
        account["blank"] += grid.blank_rows
        account["continuation"] += grid.continuation_lines
        if rows >= 0:
            account["rows"] += rows
        else:
            account["skipped_tables"] += grid.n_rows + len(grid.rejects)
    ledger.line_accounting = account
    ledger.physical_lines = sum(t.physical for t in texts.values())
    ledger.lines_accounted = sum(account.values())
    if ledger.lines_reconciled:
        return
    for source, text in sorted(texts.items()):
        grids = [g for s, g, _ in read if s == source]
        kept = table.filter(pc.equal(table.column("source_file"), source)).column(
            "source_line").to_numpy() if table.num_rows else np.zeros(0, np.int64)
        rejected = np.concatenate([np.zeros(0, np.int64)] + [
            t.filter(pc.equal(t.column("source_file"), source)).column("source_line").to_numpy()
            for t in rejects if t.num_rows])
        gaps, doubled = _line_coverage(text, grids, np.concatenate([kept, rejected]))
        where = f"{source}: " if source != ledger.source_file else ""
        if gaps:
            ledger.warnings.append(
                f"{where}{sum(b - a + 1 for a, b in gaps):,} of {text.physical:,} physical "
                "line(s) are neither a header, a row read, a blank line nor part of one, at "
                f"lines {_ranges(gaps)}: their content is not in the data or the rejects")
        if doubled:
            ledger.warnings.append(
                f"{where}line(s) {_ranges(doubled)} are counted twice in the ledger")
    if not any(w for w in ledger.warnings if "physical line" in w or "counted twice" in w):
        ledger.warnings.append(
            f"{ledger.physical_lines:,} physical lines but the ledger accounts for "
            f"{ledger.lines_accounted:,}")


def _line_coverage(text: _TextLines, grids: list[Grid], row_lines: np.ndarray
                   ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(ranges of lines nothing accounts for, ranges accounted twice) of one text."""
    starts = [np.arange(1, text.above_header + 1, dtype=np.int64), row_lines.astype(np.int64)]
    multiline: dict[int, int] = {}
    for grid in grids:
        starts.append(np.array([grid.header_line], np.int64))
        if grid.blank_lines is not None:
            starts.append(grid.blank_lines.astype(np.int64))
        multiline.update(grid.multiline)
    first = np.concatenate(starts)
    first = first[(first >= 1) & (first <= text.physical)]
    spans = np.ones(len(first), np.int64)
    if multiline:
        spans = np.array([multiline.get(int(v), 1) for v in first], np.int64)
    change = np.zeros(text.physical + 2, np.int64)
    np.add.at(change, first, 1)
    np.add.at(change, np.minimum(first + spans, text.physical + 1), -1)
    cover = np.cumsum(change)[1:text.physical + 1]
    return _runs(np.flatnonzero(cover == 0) + 1), _runs(np.flatnonzero(cover > 1) + 1)


def _runs(lines: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive runs of sorted line numbers as (first, last)."""
    if not len(lines):
        return []
    breaks = np.flatnonzero(np.diff(lines) != 1)
    firsts = np.concatenate([[lines[0]], lines[breaks + 1]])
    lasts = np.concatenate([lines[breaks], [lines[-1]]])
    return [(int(a), int(b)) for a, b in zip(firsts, lasts, strict=True)]


def _ranges(runs: list[tuple[int, int]], shown: int = 5) -> str:
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:shown])
    return text + (f" and {len(runs) - shown} more" if len(runs) > shown else "")


def _finish(table: pa.Table, source_file: str, sheet: str, sha: str, pub: Publisher) -> pa.Table:
    n = table.num_rows
    const = {
        "publisher_name": repeat_string(pub.name, n),
        "publisher_code": repeat_string(pub.code, n),
        "source_file": repeat_string(source_file, n),
        "source_sheet": repeat_string(sheet, n),
        "source_sha256": repeat_string(sha, n),
    }
    schema = transaction_schema()
    cols, names = [], []
    for f in schema:
        col = const[f.name] if f.name in const else table.column(f.name)
        cols.append(col.cast(f.type) if col.type != f.type else col)
        names.append(f.name)
    for extra in table.column_names:
        if extra not in TRANSACTION_COLUMNS:
            col = table.column(extra)
            cols.append(col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col)
            names.append(extra)
    return pa.table(cols, names=names)


def repeat_string(value: str, n: int) -> pa.Array:
    """A string column holding one value n times, built from its buffers (no per-row work)."""
    raw = value.encode("utf-8")
    if len(raw) * n >= 2**31:
        return pa.array([value] * n, pa.large_string()).cast(pa.string())
    offsets = np.arange(0, (n + 1) * len(raw), len(raw) or 1, dtype=np.int32)[: n + 1] \
        if raw else np.zeros(n + 1, np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets),
                                                  pa.py_buffer(raw * n)])


def _concat(tables: list[pa.Table]) -> pa.Table:
    if not tables:
        return transaction_schema().empty_table()
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="permissive")


def _roll_up(ledger: Ledger, pub: Publisher | None) -> None:
    parts = ledger.parts
    if pub:
        ledger.publisher_name, ledger.publisher_code = pub.name, pub.code
        ledger.publisher_basis = pub.basis
        ledger.threshold_gbp = pub.threshold_gbp
    bases = sorted({p.vat_basis for p in parts if p.vat_basis})
    ledger.vat_basis = bases[0] if len(bases) == 1 else ("mixed" if bases else "")
    ledger.decisions = [d for p in parts for d in p.decisions]
    ledger.rows_read = sum(p.rows_read for p in parts)
    ledger.rows_kept = sum(p.rows_kept for p in parts)
    ledger.rows_rejected = sum(p.rows_rejected for p in parts)
    reasons: Counter[str] = Counter()
    for p in parts:
        reasons.update(p.rejected_by_reason)
    ledger.rejected_by_reason = dict(sorted(reasons.items()))
    ledger.blank_rows_skipped = sum(p.blank_rows_skipped for p in parts)
    ledger.preamble_rows_skipped = sum(p.preamble_rows_skipped for p in parts)
    ledger.kept_total_pence = sum(p.kept_total_pence for p in parts)
    kinds = {p.file_kind for p in parts}
    ledger.file_kind = "transactions" if "transactions" in kinds else "supplier_summary"
    ledger.sheets = [p.sheet for p in parts if p.sheet]
    if parts:
        first = parts[0]
        ledger.header_line = first.header_line
        ledger.column_mapping = first.column_mapping
        ledger.date_format = first.date_format
        for p in parts:
            prefix = f"{p.sheet}: " if p.sheet else (
                f"{p.source_file}: " if p.source_file != ledger.source_file else "")
            ledger.warnings += [prefix + w for w in p.warnings]
    assert ledger.rows_read == ledger.rows_kept + ledger.rows_rejected


__all__ = ["Ledger", "LoadResult", "PartLedger", "arrow_to_pandas", "load"]
