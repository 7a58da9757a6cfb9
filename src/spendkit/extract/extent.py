"""How far an XLSX workbook's cells reach, read from its XML before any reader allocates them.

Both XLSX readers hold each sheet as a rectangle from A1 to its furthest cell: calamine
allocates it in one piece as soon as a sheet is opened (about 32 bytes a cell, before a single
value is read) and openpyxl yields every row up to the last, padded to the sheet's width. The
XML says where each cell is (`<c r="B7">`, `<row r="7">`), and a damaged or hostile file can
say anything: one cell at `ZZZZ9` made calamine ask for 760 × 475,254 cells (11 GB), a row
numbered 99,999,999 keeps openpyxl yielding empty rows for minutes, and a shared-string table
declaring 200 million entries makes calamine reserve that many and abort the process when the
allocation fails. So before reading, every reference in every sheet is found (vectorised over
the bytes; the rare irregular ones — `$`, entities, odd spacing — are read one by one) and:

- a reference beyond Excel's grid (1,048,576 rows × 16,384 columns, `XFD1048576`) is refused:
  Excel cannot have written it, and calamine's 32-bit arithmetic wraps past it;
- a workbook whose sheets' rectangles add up to more than `MAX_WORKBOOK_CELLS` is refused
  (`MAX_REFERENCE_CELLS` when openpyxl reads it): the readers hold every sheet at once, and
  at the limit the loader's peak memory stays under 1.5 GB;
- a workbook of more than `MAX_SHEETS` worksheets is refused (each costs a fixed time);
- a shared-string table declaring more entries than it holds is left to openpyxl, which does
  not trust the count.

Cells and rows without a reference (allowed: a reader places them after the previous one) are
counted too, so positional sheets cannot escape the bound.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import unescape

import numpy as np

from spendkit.errors import UnreadableFileError
from spendkit.extract.archive import MAX_TOTAL_BYTES, read_member, short

EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
#: Cells of all sheets of one workbook together, each sheet from A1 to its furthest reference,
#: that calamine may read. Both readers hold every sheet at once, and the loader then holds the
#: rows as text. Measured on 2 cores (Dec 2026): a realistic 500,000-row × 10-column workbook
#: (5M cells) loads with a peak of 0.74 GB, but the worst layout (a distinct string in every
#: cell, every row rejected) peaks at 1.44 GB at 5M cells, so the limit leaves room: 4M cells
#: (400,000 rows × 10 columns). The real workbooks in ../shared/realdata hold under 40,000.
MAX_WORKBOOK_CELLS = 4_000_000
#: The same for openpyxl, the fallback for workbooks calamine cannot read exactly, which takes
#: more memory and time a cell: 3M cells of strings peaked at 0.97 GB.
MAX_REFERENCE_CELLS = 3_000_000
#: Worksheets one workbook may hold: each costs the readers and the loader a fixed ~10 ms
#: (2,000 one-row sheets took 23 s); a council's workbook has one per month or so.
MAX_SHEETS = 500

_QUOTE, _EQUALS, _LT, _GT = ord('"'), ord("="), ord("<"), ord(">")
_SPACE = np.zeros(256, bool)
_SPACE[[9, 10, 13, 32]] = True
_AFTER_NAME = _SPACE.copy()  # what may follow a tag name: white space, '>' or '/'
_AFTER_NAME[[ord(">"), ord("/")]] = True
_WINDOW = 11  # bytes read after `r="`: 3 letters, 7 digits and the closing quote
_BATCH = 1 << 20  # references decoded per numpy pass (bounds the temporary arrays)
_PREFIX = re.compile(rb"<(\w+:)sheetData\b")
# `r` attributes not written `r="` (XML allows spaces around '=' and single quotes)
# (the value stops at any quote or tag edge, so an unclosed one cannot make each search run to
# the end of the sheet)
_ODD_ATTRIBUTE = re.compile(rb"""\sr(?:\s+=\s*|=\s+|=(?='))(["'])([^"'<>]*)\1""")
_A1 = re.compile(r"([A-Za-z]+)(\d+)")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="(?:[^":]*:)?([^"]*)"')
_UNIQUE_COUNT = re.compile(rb"""<(\w+:)?sst\b[^>]*\buniqueCount\s*=\s*["']\s*(\d+)""")


@dataclass
class SheetExtent:
    """How far one sheet part's cells reach."""

    part: str
    rows: int = 0  # furthest row calamine may place a cell holding a value on
    columns: int = 0  # … and column
    all_rows: int = 0  # furthest row of any cell, empty styled ones (`<c r="Z9" s="1"/>`) too
    all_columns: int = 0  # … and column: openpyxl yields those
    dimension_columns: int = 0  # the width openpyxl pads every row to (<dimension ref>)

    @property
    def cells(self) -> int:
        """The rectangle calamine allocates (it skips cells without a value)."""
        return self.rows * self.columns

    @property
    def reference_cells(self) -> int:
        """The rectangle openpyxl yields."""
        return self.all_rows * max(self.all_columns, self.dimension_columns)


@dataclass
class WorkbookExtent:
    """The extent of every sheet part, and whether calamine may open the workbook."""

    sheets: list[SheetExtent] = field(default_factory=list)
    #: '' when calamine may read the workbook, else why not (openpyxl reads it instead)
    calamine_unsafe: str = ""

    def check(self, where: str, reader: str = "calamine", limit: int | None = None) -> int:
        """The cells the sheets span for `reader` ('calamine', or 'openpyxl', which also pads
        every row to the <dimension> width); UnreadableFileError past its limit
        (MAX_WORKBOOK_CELLS or MAX_REFERENCE_CELLS), or past `limit` when smaller (what is left
        of a file's allowance when this workbook is one part of it)."""
        if reader == "calamine":
            size, own = (lambda s: s.cells), MAX_WORKBOOK_CELLS
        else:
            size, own = (lambda s: s.reference_cells), MAX_REFERENCE_CELLS
        allowed = own if limit is None else min(own, limit)
        total = sum(size(s) for s in self.sheets)
        if total > allowed:
            big = max(self.sheets, key=size)
            rows = big.rows if reader == "calamine" else big.all_rows
            raise UnreadableFileError(
                f"{where} (part {big.part!r})",
                f"its cells span {rows:,} rows × {size(big) // max(rows, 1):,} columns "
                f"({total:,} cells in all sheets), more than the limit of {allowed:,} cells "
                + (f"read by {reader}" if allowed == own else
                   "left of what one file may hold (ZIP members together)"))
        return total


def workbook_extent(data: bytes, where: str) -> WorkbookExtent:
    """The extent of every sheet of an XLSX container, refusing any reference beyond Excel's
    grid. Every part is inflated in a stream under the archive limits (`archive.read_member`:
    member and total size, compression ratio) first.

    Every part holding a `sheetData` element is measured, whatever its name: a workbook's
    relationships may point anywhere.
    """
    out = WorkbookExtent()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFileError(where, f"not a readable XLSX workbook ({short(str(exc))})"
                                  ) from exc
    budget = [MAX_TOTAL_BYTES]
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            xml = read_member(zf, info, f"{where} (part {info.filename!r})", budget)
            if b"sheetData" in xml:
                out.sheets.append(sheet_extent(xml, info.filename, where))
                if len(out.sheets) > MAX_SHEETS:
                    raise UnreadableFileError(where, f"holds more than {MAX_SHEETS:,} "
                                              "worksheets, the most one workbook may hold")
            elif not out.calamine_unsafe:
                out.calamine_unsafe = _shared_strings_problem(xml)
    return out


def _shared_strings_problem(xml: bytes) -> str:
    """Why calamine must not open a shared-string table (it reserves room for as many entries
    as `uniqueCount` declares), or ''."""
    declared = _UNIQUE_COUNT.search(xml, 0, 4096)
    if declared is None:
        return ""
    tag = b"<" + (declared.group(1) or b"") + b"si"
    held = sum(xml.count(tag + end) for end in (b">", b" ", b"/", b"\t", b"\n", b"\r"))
    if int(declared.group(2)) > held:
        return (f"the shared-string table declares {int(declared.group(2)):,} entries and "
                f"holds {held:,}")
    return ""


def sheet_extent(xml: bytes, part: str, where: str) -> SheetExtent:
    """How far the cells of one sheet's XML reach; UnreadableFileError beyond Excel's grid."""
    head = xml.find(b"sheetData")
    prefix = _PREFIX.search(xml, max(0, head - 80), head + 16) if head >= 0 else None
    if prefix is not None:  # `<x:c>` cells: measured as `<c>` (rare; costs one copy)
        xml = xml.replace(b"<" + prefix.group(1), b"<")
    buf = np.frombuffer(xml, np.uint8)
    refs = _References(buf, xml)
    cells_unreferenced = refs.cells_without_reference()
    (max_row, max_col, example), (row, col) = refs.furthest(cells_unreferenced.any())
    if max_row > EXCEL_ROWS or max_col > EXCEL_COLUMNS:
        raise UnreadableFileError(
            f"{where} (part {part!r})",
            f"the cell reference '{example}' lies beyond Excel's last cell XFD1048576 "
            "(a damaged workbook)")
    # Cells and rows written without a reference sit after the one before them.
    wider = longer = 0
    if cells_unreferenced.any():
        # …even after an empty styled cell calamine skips: its reference still moves the
        # position, so every reference counts towards where a positional cell may land.
        row, col = max(row, max_row), max(col, max_col)
        wider = int(np.bincount(np.searchsorted(refs.row_tags, refs.cell_tags),
                                minlength=1).max())
    longer = int(refs.rows_without_reference().sum())
    out = SheetExtent(part, row + longer, col + wider, max_row + longer, max_col + wider,
                      _dimension_columns(xml))
    out.rows = max(out.rows, 1 if out.columns else 0)
    out.all_rows = max(out.all_rows, 1 if out.all_columns else 0)
    return out


class _References:
    """The `r` attributes and the `<c>` and `<row>` tags of one sheet's XML, found with numpy."""

    def __init__(self, buf: np.ndarray, xml: bytes) -> None:
        self.buf, self.xml = buf, xml
        n = len(buf)
        r_at = np.flatnonzero(buf == ord("r"))
        r_at = r_at[(r_at > 0) & (r_at + 3 < n)]
        before = buf[r_at - 1]
        rows = r_at[before == _LT]
        self.row_tags = rows[(buf[rows + 1] == ord("o")) & (buf[rows + 2] == ord("w"))
                             & _AFTER_NAME[buf[np.minimum(rows + 3, n - 1)]]] - 1
        attr = r_at[_SPACE[before]]
        plain = (buf[attr + 1] == _EQUALS) & (buf[attr + 2] == _QUOTE)
        self.values = attr[plain] + 3  # where each `r="…"` value starts
        odd_form = _SPACE[buf[attr + 1]] | ((buf[attr + 1] == _EQUALS) & (buf[attr + 2] != _QUOTE))
        self.odd = ([(m.start() + 1, m.group(2)) for m in _ODD_ATTRIBUTE.finditer(xml)]
                    if odd_form.any() else [])
        c_at = np.flatnonzero(buf == ord("c"))
        c_at = c_at[(c_at > 0) & (c_at + 4 < n)]
        self.cell_tags = c_at[(buf[c_at - 1] == _LT) & _AFTER_NAME[buf[c_at + 1]]] - 1
        self.ends = np.flatnonzero(buf == _GT)

    def furthest(self, rows_place_cells: bool) -> tuple[tuple[int, int, str], tuple[int, int]]:
        """((furthest row, furthest column, a reference beyond the grid or '') of every
        reference, (furthest row, furthest column) of the cells calamine keeps: not an empty
        styled cell (`<c r="Z9" s="1"/>`, a self-closing tag), and not a row's own number
        unless some cell without a reference takes its row from it)."""
        after = np.searchsorted(self.ends, self.values)
        closed = after < len(self.ends)
        valued = np.ones(len(self.values), bool)
        valued[closed] = self.buf[self.ends[after[closed]] - 1] != ord("/")
        (max_row, max_col, example), (row, col), odd_at = _decode(
            self.buf, self.values, valued, rows_place_cells)
        for value in [self.xml[at:self.xml.find(b'"', at)] for at in odd_at.tolist()] + \
                [v for _, v in self.odd]:
            r, c = _read_odd_reference(value)
            if (r > EXCEL_ROWS or c > EXCEL_COLUMNS) and not example:
                example = _shown(value)
            max_row, max_col = max(max_row, r), max(max_col, c)
            row, col = max(row, r), max(col, c)  # irregular ones count as holding a value
        return (max_row, max_col, example), (row, col)

    def _lacking(self, tags: np.ndarray, offset: int) -> np.ndarray:
        """For each tag, True when no `r` attribute lies between its name and its '>'."""
        buf = self.buf
        if not len(tags):
            return np.zeros(0, bool)
        # As Excel writes them: `<c r="…` / `<row r="…` (the attribute first).
        at = np.minimum(tags + offset, len(buf) - 3)
        first = _SPACE[buf[at]] & (buf[at + 1] == ord("r")) & (buf[at + 2] == _EQUALS)
        lacking = ~first
        if not lacking.any():
            return lacking
        others = tags[lacking]
        ends = self.ends
        attributes = np.sort(np.concatenate([self.values - 3,
                                             np.array([a for a, _ in self.odd], np.int64)]))
        never = np.iinfo(np.int64).max
        following = np.searchsorted(ends, others)
        close = np.full(len(others), never)
        close[following < len(ends)] = ends[following[following < len(ends)]]
        nxt = np.searchsorted(attributes, others)
        found = np.full(len(others), never)
        found[nxt < len(attributes)] = attributes[nxt[nxt < len(attributes)]]
        lacking[lacking] = found >= close
        return lacking

    def cells_without_reference(self) -> np.ndarray:
        return self._lacking(self.cell_tags, 2)

    def rows_without_reference(self) -> np.ndarray:
        return self._lacking(self.row_tags, 4)


def _decode(buf: np.ndarray, starts: np.ndarray, valued: np.ndarray, row_numbers: bool
            ) -> tuple[tuple[int, int, str], tuple[int, int], np.ndarray]:
    """Over the `r="…"` values at `starts`: (furthest row, furthest column, an example beyond
    the grid) of all, (furthest row, furthest column) of those `valued` (and cell references,
    with letters, unless `row_numbers` count too), and the positions of irregular values.

    A regular value is 0-3 letters then digits closed by a quote within the window; only the
    furthest are turned into numbers (the most digits, then the largest), so a sheet of a
    million cells costs a few passes over small arrays. Irregular values are left for
    `_read_odd_reference`.
    """
    every, held, odd = [0, 0, ""], [0, 0], [np.zeros(0, np.int64)]
    if not len(starts):
        return tuple(every), tuple(held), odd[0]  # type: ignore[return-value]
    width = _WINDOW
    windows = np.lib.stride_tricks.sliding_window_view(
        np.concatenate([buf, np.zeros(width, np.uint8)]), width)
    position = np.arange(width, dtype=np.int8)
    for k in range(0, len(starts), _BATCH):
        at = starts[k:k + _BATCH]
        window = windows[at]
        quote = window == _QUOTE
        end = quote.argmax(axis=1).astype(np.int8)
        end[~quote[np.arange(len(at)), end]] = width  # no quote: too long to be regular
        # uint8 arithmetic wraps below zero, so one comparison tests a range
        letters = (((window | 32) - 97) >= 26).argmax(axis=1).astype(np.int8)
        digits = end - letters
        stray = ((window - 48) >= 10) & (position >= letters[:, None]) \
            & (position < end[:, None])
        regular = (end < width) & (letters <= 3) & (digits >= 1) & ~stray.any(axis=1)
        odd.append(at[~regular])
        counted = regular & valued[k:k + _BATCH]
        if not row_numbers:
            counted &= letters > 0
        for keep, best in ((np.flatnonzero(regular), every), (np.flatnonzero(counted), held)):
            if len(keep):
                row, col, i = _furthest(window, letters, digits, keep)
                if best is every and (row > EXCEL_ROWS or col > EXCEL_COLUMNS) and not every[2]:
                    every[2] = _shown(window[i, :int(end[i])].tobytes())
                best[0], best[1] = max(best[0], row), max(best[1], col)
    return tuple(every), tuple(held), np.concatenate(odd)  # type: ignore[return-value]


def _furthest(window: np.ndarray, letters: np.ndarray, digits: np.ndarray, keep: np.ndarray
              ) -> tuple[int, int, int]:
    """(furthest row, furthest column, the window holding the further past the grid) among
    the regular values `keep`."""
    # The furthest row has the most digits, then the largest digits (same length).
    most = int(digits[keep].max())
    pick = keep[digits[keep] == most]
    rows = np.zeros(len(pick), np.int64)
    for j in range(most):
        rows = rows * 10 + window[pick, letters[pick] + j] - 48
    # The furthest column: the most letters, then the largest (upper-cased) letters.
    widest = int(letters[keep].max())
    pick_c, cols = keep[:1], np.zeros(1, np.int64)
    if widest:
        pick_c = keep[letters[keep] == widest]
        cols = np.zeros(len(pick_c), np.int64)
        for j in range(widest):
            cols = cols * 26 + (window[pick_c, j] | 32) - 96
    row, col = int(rows.max()), int(cols.max())
    i = int(pick[rows.argmax()] if row > EXCEL_ROWS else pick_c[cols.argmax()])
    return row, col, i


def _shown(value: bytes) -> str:
    text = value[:40].decode("utf-8", "replace").encode("unicode_escape").decode("ascii")
    return text + ("…" if len(value) > 40 else "")


_BEYOND = EXCEL_ROWS + 1


def _read_odd_reference(value: bytes) -> tuple[int, int]:
    """(row, column) of an irregular `r` value as the more forgiving reader would take it:
    entities decoded, `$` dropped, a bare number (as Python's int reads it) a row; (0, 0)
    when it is no reference at all (both readers refuse it)."""
    if len(value) > 1000:
        return _BEYOND, 0  # no reader takes this as a reference; calamine's count wraps
    text = value.decode("utf-8", "replace")
    text = re.sub(r"&#(x[0-9A-Fa-f]+|\d+);", lambda m: _char(m.group(1)), unescape(text))
    text = text.replace("$", "").replace("_", "").strip()
    a1 = _A1.fullmatch(text)
    if a1 is not None:
        return _number(a1.group(2)), _column_number(a1.group(1))
    number = _NUMBER.fullmatch(text)
    return (_number(number.group(1)), 0) if number else (0, 0)


_NUMBER = re.compile(r"\+?(\d+)")


def _number(digits: str) -> int:
    return int(digits) if len(digits) <= 12 else _BEYOND


def _char(code: str) -> str:
    try:
        return chr(int(code[1:], 16) if code[0] in "xX" else int(code))
    except (ValueError, OverflowError):
        return "?"


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
        if n > EXCEL_COLUMNS:
            return EXCEL_COLUMNS + 1  # beyond the grid: refused, however far
    return n


def _dimension_columns(xml: bytes) -> int:
    found = _DIMENSION.search(xml, 0, min(len(xml), 8192))
    return _read_odd_reference(found.group(1))[1] if found is not None else 0
