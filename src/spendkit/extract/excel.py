"""Excel workbooks (XLSX and BIFF8 XLS, both via python-calamine) → per-sheet rows of string cells.

Cells become the strings a CSV export would hold, so one cleaning path serves both: dates as ISO
(`2024-04-09`, or with the time when it is not midnight), numbers via `repr` so float artefacts
such as 1041.4099999999999 reach the amount parser intact (it rounds to the penny and says so).

XLSX is read by python-calamine (Rust; 15x faster than openpyxl on a 60,000-row workbook) and
made to give the same `SheetRows` as `read_xlsx_openpyxl`, the reference reader, which is also
the fallback when calamine cannot read a workbook. Before either reads, `extent.py` measures how
far the cells reach (a damaged reference such as `ZZZZ9` would make them allocate billions). What calamine does not report (error cells,
`_xHHHH_` escapes as openpyxl leaves them, rows after the last value) is taken from one scan of
each sheet's XML; see `read_xlsx` for the cases where the two readers still differ.

XLS (Excel 97-2003) is read by calamine too: on the real `.xls` files it gives the same cells as
xlrd did, except that whole numbers read '60' (as a CSV export shows them) where xlrd's floats
read '60.0', and it is 1.2 to 6 times faster.

Every failure of a reader (calamine's Rust panics, which are BaseExceptions, openpyxl's
ParseError, ValueError or IndexError while reading rows, a damaged ZIP part) becomes an
`UnreadableFileError` naming the file and, where known, the sheet. Before an XLSX container is
read, `extent.workbook_extent` streams every part through the archive limits (size and
compression ratio) and measures how far its cells reach (beyond Excel's grid, or past
`MAX_WORKBOOK_CELLS` in all, it is refused).
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from xml.etree import ElementTree

import numpy as np

from spendkit.errors import SpendkitError, UnreadableFileError
from spendkit.extract.archive import short
from spendkit.extract.extent import (
    MAX_SHEETS,
    MAX_WORKBOOK_CELLS,
    WorkbookExtent,
    workbook_extent,
)
from spendkit.extract.grid import Grid, RawReject, string_columns


@dataclass
class SheetRows:
    """One worksheet's non-empty rows as strings, with their 1-based sheet row numbers."""

    name: str
    rows: list[list[str]]
    lines: list[int]
    blank_rows: int


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _collect(name: str, row_iter) -> SheetRows:
    rows, lines, blank = [], [], 0
    for number, values in row_iter:
        cells = [_cell_text(v) for v in values]
        if any(c.strip() for c in cells):
            rows.append(cells)
            lines.append(number)
        else:
            blank += 1
    return SheetRows(name, rows, lines, blank)


def read_xlsx_openpyxl(data: bytes, path: str, extent: WorkbookExtent | None = None,
                       cell_limit: int | None = None) -> list[SheetRows]:
    """Every worksheet of an XLSX workbook as SheetRows, read by openpyxl (the reference reader).

    Rows run from 1 to the last `<row>` element of the sheet XML (capped by the sheet's
    `<dimension>` when it has one); rows with no visible text count as `blank_rows`. A
    workbook whose cells reach too far (`extent.MAX_REFERENCE_CELLS` or `cell_limit`, rows
    padded to the `<dimension>` width as openpyxl does) is refused before reading; `extent` is
    the workbook's, if already measured.
    """
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    if extent is None:
        extent = workbook_extent(data, path)
    extent.check(path, "openpyxl", cell_limit)

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise UnreadableFileError(path, f"not a readable XLSX workbook ({short(str(exc))})"
                                  ) from exc
    except Exception as exc:  # ParseError, zlib.error, IndexError …: a damaged workbook
        raise UnreadableFileError(path, f"not a readable XLSX workbook "
                                  f"({type(exc).__name__}: {short(str(exc))})") from exc
    sheets, title = [], ""
    try:
        for ws in wb.worksheets:
            title = ws.title
            sheets.append(_collect(title, enumerate(ws.iter_rows(values_only=True), start=1)))
    except Exception as exc:  # rows are parsed lazily: a bad cell or XML fails only here
        raise UnreadableFileError(f"{path} (sheet {title!r})", f"cannot be read "
                                  f"({type(exc).__name__}: {short(str(exc))})") from exc
    finally:
        wb.close()
    return sheets


def read_xlsx(data: bytes, path: str, cell_limit: int | None = None) -> list[SheetRows]:
    """Every worksheet of an XLSX workbook as SheetRows, read by python-calamine.

    Refused before reading when its cells reach beyond Excel's grid or past
    `extent.MAX_WORKBOOK_CELLS` (or `cell_limit`, when smaller): see `extent.py`.

    Gives the same SheetRows as `read_xlsx_openpyxl` (same sheets in the same order, hidden ones
    included and chart sheets left out; same cell strings, 1-based `lines` and `blank_rows`),
    15 to 20 times faster. Falls back to `read_xlsx_openpyxl` when calamine (or the scan of the
    sheet XML) cannot read the workbook; if openpyxl cannot either, its `UnreadableFileError`
    names the file.

    The readers still differ in these cases (non-Excel writers, or values Excel shows as ####):
    - a number written with a zero fraction (`<v>1234.0</v>`, from some non-Excel writers) reads
      "1234" here and "1234.0" in openpyxl, because calamine gives every number as a float and an
      integral float is taken to be an integer as Excel writes it (`<v>1234</v>`); integers of
      1e16 or more, written without an exponent, read as floats ("1e+16") here and digits there;
    - a `<dimension>` smaller than the data: openpyxl stops at it, dropping the rows and columns
      beyond; calamine reads them (so `rows`, `lines` and `blank_rows` then differ);
    - a sheet without `<dimension>`: openpyxl ends each row at that row's last XML cell, here every
      row has the sheet's width, so rows may differ by trailing "" cells (nothing downstream
      reads them: `grid_from_sheet` pads rows to the header's width);
    - a number in a date format that is not a date Excel can show (it shows ####): negative
      (calamine gives only its time of day, openpyxl a date before 1900), after 9999-12-31
      (calamine gives the number, openpyxl "#VALUE!"), or under half a millisecond short of
      1.0 (calamine "00:00:00", openpyxl "1900-01-01"); a duration too long for Python's
      timedelta makes calamine fail, so openpyxl reads that workbook;
    - a time within a microsecond of half a millisecond: both round to the millisecond, but
      calamine scales the whole serial first and can round the other way (.046 for a stored
      45.49997 ms, where openpyxl reads .045); payment dates are read to the day;
    - a string holding a `_xHHHH_` escape and the same character written literally: openpyxl keeps
      the escape as text, here both become the escape text;
    - an inline (not shared) string containing `_x005F_`: openpyxl keeps it, here it is "_".

    Strings with whitespace at an edge but no `xml:space="preserve"` (openpyxl's own writer does
    that for whitespace-only strings such as " ") are trimmed by calamine, so such workbooks are
    read by openpyxl (identical output, openpyxl's speed).
    """
    extent = workbook_extent(data, path)  # every part inflated under the archive limits
    if not extent.calamine_unsafe:
        extent.check(path, "calamine", cell_limit)
        try:
            return _read_xlsx_calamine(data)
        except SpendkitError:
            raise
        except BaseException as exc:
            if not (isinstance(exc, Exception) or is_panic(exc)):
                raise  # KeyboardInterrupt, SystemExit
    # Anything calamine or the XML scan cannot handle goes to the reference reader, which
    # either reads the workbook or raises the UnreadableFileError that names the file.
    return read_xlsx_openpyxl(data, path, extent, cell_limit)


def is_panic(exc: BaseException) -> bool:
    """True for a Rust panic surfacing from calamine (pyo3's PanicException, a BaseException)."""
    return type(exc).__name__ == "PanicException"


class _NeedsReference(Exception):
    """A workbook layout this reader does not reproduce exactly; openpyxl reads it instead."""


@dataclass
class _SheetXml:
    """What calamine does not report about a sheet, from one scan of its XML."""

    last_row: int = 0  # 1-based number of the last <row> element (openpyxl reads up to it)
    dim_rows: int | None = None  # rows in <dimension ref>; openpyxl stops there
    dim_cols: int | None = None  # columns in <dimension ref>; openpyxl pads rows to it
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row0, col0) -> "#N/A"
    escapes: dict[int, str] = field(default_factory=dict)  # char -> "_x000D_" as written


_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([^"]*)"')
_ROW_NUMBER = re.compile(rb'\sr="(\d+)"')
# An error cell with content (a self-closing one has no value): `<c r="B8" t="e"><v>#N/A</v></c>`.
# The content may not run past another cell's tag (possessive, so it never backtracks): in a
# damaged sheet of 100,000 unclosed error cells a lazy `.*?` searched to the end for each.
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\s([^>]*?\bt="e"[^>/]*)>'
                         rb'((?:[^<]|<(?!/?(?:\w+:)?c[\s>/]))*+)</(?:\w+:)?c>')
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_ESCAPE = re.compile(rb"_x([0-9A-Fa-f]{4})_")
# calamine trims a string's edge whitespace unless its <t> says xml:space="preserve"; openpyxl
# keeps it. Excel always says so, openpyxl's writer not for whitespace-only strings (" ").
_EDGE_SPACE_HINTS = {b" ": (b"> ", b" </")} | {c: (b">" + c, c + b"</") for c in (b"\t", b"\n", b"\r")}
_EDGE_SPACE_TEXT = re.compile(rb"<(?:\w+:)?t>(?:[ \t\r\n]|[^<]*[ \t\r\n]</)")
_XML_ENTITIES = {b"&amp;": b"&", b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"'"}


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _escapes(xml: bytes, start: int = 0, end: int | None = None) -> dict[int, str]:
    # Excel writes control characters as _xHHHH_; openpyxl keeps that text, calamine decodes it.
    # `_x005F_` (an escaped underscore) is left out: openpyxl drops it from shared strings too.
    end = len(xml) if end is None else end
    if xml.find(b"_x", start, end) == -1:
        return {}
    found: dict[int, str] = {}
    for m in _ESCAPE.finditer(xml, start, end):
        found.setdefault(int(m.group(1), 16), m.group(0).decode("ascii"))
    found.pop(0x5F, None)
    return found


def _check_edge_spaces(xml: bytes, start: int = 0, end: int | None = None) -> None:
    """Raise _NeedsReference if a string has edge whitespace calamine would trim."""
    end = len(xml) if end is None else end
    # Cheap substring tests first (tabs and line breaks are rare in XML: one memchr each).
    hinted = any(
        xml.find(hint, start, end) != -1
        for char, hints in _EDGE_SPACE_HINTS.items()
        if char == b" " or xml.find(char, start, end) != -1
        for hint in hints
    )
    if hinted and _EDGE_SPACE_TEXT.search(xml, start, end):
        raise _NeedsReference("edge whitespace in a string without xml:space='preserve'")


def _scan_sheet(xml: bytes) -> _SheetXml:
    """Last row number, dimension width, error cells and `_xHHHH_` escapes of one sheet XML."""
    facts = _SheetXml()
    m = _SHEET_DATA.search(xml)
    if m is None:
        return facts
    dim = _DIMENSION.search(xml, 0, m.start())
    if dim is not None:
        corner = re.fullmatch(rb"([A-Z]{1,3})(\d+)", dim.group(1).split(b":")[-1])
        if corner is None:
            raise _NeedsReference(f"dimension {dim.group(1)!r}")
        facts.dim_cols = _column_number(corner.group(1))
        facts.dim_rows = int(corner.group(2))
    prefix = m.group(1) or b""
    start = m.end()
    end = xml.find(b"</" + prefix + b"sheetData>", start)
    if end == -1:  # <sheetData/>: no rows
        return facts
    last = xml.rfind(b"<" + prefix + b"row", start, end)
    if last != -1:
        number = _ROW_NUMBER.search(xml[last:xml.find(b">", last)])
        if number is None:  # rows numbered by position only: openpyxl counts them
            raise _NeedsReference("row without r attribute")
        facts.last_row = int(number.group(1))
    if xml.find(b't="e"', start, end) != -1:
        for cell in _ERROR_CELL.finditer(xml, start, end):
            ref = _CELL_REF.search(cell.group(1))
            value = _VALUE.search(cell.group(2))
            if ref is None:
                raise _NeedsReference("error cell without r attribute")
            if value is not None:
                text = value.group(1)
                for entity, char in _XML_ENTITIES.items():
                    text = text.replace(entity, char)
                key = (int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1)
                facts.errors[key] = text.decode("utf-8")
    facts.escapes = _escapes(xml, start, end)
    _check_edge_spaces(xml, start, end)
    return facts


class _Layout:
    """Sheet name → its XML part, and the shared strings' `_xHHHH_` escapes, of one workbook."""

    def __init__(self, data: bytes) -> None:
        self.zf = zipfile.ZipFile(io.BytesIO(data))
        book = "xl/workbook.xml"
        for rel in self._rels("_rels/.rels"):
            if rel.get("Type", "").endswith("/officeDocument"):
                book = self._resolve("", rel.get("Target", ""))
        folder = posixpath.dirname(book)
        rels_part = posixpath.join(folder, "_rels", posixpath.basename(book) + ".rels")
        targets, self.string_escapes = {}, {}
        for rel in self._rels(rels_part):
            target = self._resolve(folder, rel.get("Target", ""))
            targets[rel.get("Id")] = target
            if rel.get("Type", "").endswith("/sharedStrings"):
                strings = self.zf.read(target)
                self.string_escapes = _escapes(strings)
                _check_edge_spaces(strings)
        self.parts: dict[str, str] = {}
        for el in ElementTree.fromstring(self.zf.read(book)).iter():
            if el.tag.endswith("}sheet"):
                rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
                if rid in targets:
                    self.parts[el.get("name", "")] = targets[rid]

    def _rels(self, part: str) -> Iterable[ElementTree.Element]:
        root = ElementTree.fromstring(self.zf.read(part))
        return [el for el in root if el.tag.endswith("}Relationship")]

    @staticmethod
    def _resolve(folder: str, target: str) -> str:
        if target.startswith("/"):
            return target[1:]
        return posixpath.normpath(posixpath.join(folder, target))

    def sheet(self, name: str) -> _SheetXml:
        """The XML facts of the worksheet called `name`."""
        if name not in self.parts:
            raise _NeedsReference(f"no XML part for sheet {name!r}")
        facts = _scan_sheet(self.zf.read(self.parts[name]))
        facts.escapes = self.string_escapes | facts.escapes
        return facts


def _read_xlsx_calamine(data: bytes) -> list[SheetRows]:
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    with CalamineWorkbook.from_filelike(io.BytesIO(data)) as wb, \
            ThreadPoolExecutor(max_workers=1) as pool:
        # openpyxl's wb.worksheets leaves chart sheets out too
        names = [m.name for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        # The XML scan (mostly zlib, which releases the GIL) runs while calamine parses.
        layout = pool.submit(_Layout, data)
        scans = [pool.submit(lambda name: layout.result().sheet(name), n) for n in names]
        out = []
        for name, scan in zip(names, scans, strict=True):
            values = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            out.append(_sheet_rows(name, values, scan.result()))
    return out


_STR = frozenset({str})
_NUMBERS = frozenset({int, float})


def _float_text(value: float) -> str:
    # Calamine gives every number as a float; Excel writes integers without '.', which openpyxl
    # reads as int, so an integral float below 1e16 (where repr would still print digits) is one.
    if value.is_integer() and -1e16 < value < 1e16:
        return str(int(value))
    return repr(value)


def _value_text(value: object) -> str:
    if value.__class__ is float:
        return _float_text(value)  # type: ignore[arg-type]
    return _cell_text(value)


def _column_text(column: tuple) -> Sequence[str]:
    """One column's cells as strings, each distinct value converted once."""
    kinds = set(map(type, column))
    if kinds == _STR:  # calamine gives "" for empty cells
        return column
    if bool in kinds and kinds & _NUMBERS:  # True == 1 == 1.0 would share one dict key
        return [_value_text(v) for v in column]
    # Dates, amounts and codes repeat down a column: convert the distinct values only.
    texts: dict = dict.fromkeys(column)
    for value in texts:
        texts[value] = value if value.__class__ is str else _value_text(value)
    return list(map(texts.__getitem__, column))


def _sheet_rows(name: str, values: list[list], facts: _SheetXml) -> SheetRows:
    """SheetRows from calamine's cells (rows from A1) and the facts its XML scan found."""
    height = len(values)
    width = len(values[0]) if values else 0
    columns: list[Sequence[str]] = [_column_text(c) for c in zip(*values, strict=True)]
    if height and facts.dim_cols is not None and facts.dim_cols > width:
        # openpyxl pads every row to the <dimension> width (styled empty cells widen it)
        columns += [("",) * height] * (facts.dim_cols - width)
    rows = list(map(list, zip(*columns, strict=True))) if columns else [[]] * height
    for (r, c), text in facts.errors.items():
        if r >= height or c >= len(rows[r]):
            raise _NeedsReference(f"error cell outside calamine's range in sheet {name!r}")
        rows[r][c] = text  # calamine reads error cells as ""
    if facts.escapes:
        table = facts.escapes
        rows = [[c.translate(table) for c in row] for row in rows]
    keep = [i for i, row in enumerate(rows) if "".join(row).strip()]
    # openpyxl yields rows up to the last <row> element, or to the <dimension> if that ends
    # first; data below an understated dimension is kept here (see read_xlsx).
    last = facts.last_row if facts.dim_rows is None else min(facts.last_row, facts.dim_rows)
    total = max(last, height)
    return SheetRows(name, [rows[i] for i in keep], [i + 1 for i in keep], total - len(keep))


#: Memory a child process reading an XLS may use (its address space).
XLS_CHILD_MEMORY = 1 << 30
XLS_CHILD_SECONDS = 120
# The child reads the workbook from stdin and writes its sheets' cells to stdout. BIFF records
# carry sizes a damaged file can set to anything, and calamine then asks for that much memory:
# a failed allocation aborts the whole process, which no `except` can catch. So the reading
# happens in a process of its own, with an address-space limit; and sheets passing
# MAX_WORKBOOK_CELLS in all are refused there, before their cells are sent back.
_XLS_CHILD = """
import io, pickle, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
from python_calamine import CalamineWorkbook, SheetTypeEnum
data, limit, most = sys.stdin.buffer.read(), int(sys.argv[2]), int(sys.argv[3])
out, name, cells = [], "", 0
try:
    with CalamineWorkbook.from_filelike(io.BytesIO(data)) as wb:
        if len(wb.sheets_metadata) > most:
            raise OverflowError(f"holds {len(wb.sheets_metadata):,} sheets, more than the "
                                f"{most:,} one workbook may hold")
        for meta in wb.sheets_metadata:
            if meta.typ == SheetTypeEnum.WorkSheet:
                name = meta.name
                sheet = wb.get_sheet_by_name(name)
                start = sheet.start or (0, 0)  # the rows come back from A1
                cells += (start[0] + sheet.height) * (start[1] + sheet.width)
                if cells > limit:
                    raise OverflowError(f"its cells span {start[0] + sheet.height:,} rows × "
                                      f"{start[1] + sheet.width:,} columns ({cells:,} cells in "
                                      f"all sheets), more than the limit of {limit:,} cells")
                out.append((name, sheet.to_python(skip_empty_area=False)))
    result = ("ok", out)
except OverflowError as exc:
    result = ("too large", name, "", str(exc))
except BaseException as exc:
    result = ("error", name, type(exc).__name__, str(exc)[:200])
sys.stdout.buffer.write(pickle.dumps(result))
"""


def read_xls(data: bytes, path: str, cell_limit: int | None = None) -> list[SheetRows]:
    """Every worksheet of a BIFF8 (Excel 97-2003) workbook as SheetRows, read by calamine in a
    child process (see `_XLS_CHILD`)."""
    import pickle
    import subprocess
    import sys

    try:
        proc = subprocess.run([sys.executable, "-c", _XLS_CHILD, str(XLS_CHILD_MEMORY),
                               str(min(MAX_WORKBOOK_CELLS, cell_limit or MAX_WORKBOOK_CELLS)),
                               str(MAX_SHEETS)],
                              input=data, capture_output=True, timeout=XLS_CHILD_SECONDS,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise UnreadableFileError(path, "not a readable Excel 97-2003 workbook (reading it "
                                  f"took over {XLS_CHILD_SECONDS} s)") from exc
    try:
        result = pickle.loads(proc.stdout) if proc.returncode == 0 else None
    except Exception:  # a child that died mid-write
        result = None
    if result is None:
        raise UnreadableFileError(path, "not a readable Excel 97-2003 workbook (the reader "
                                  f"failed: exit {proc.returncode}, likely a damaged size "
                                  "field asking for more memory than allowed)")
    if result[0] != "ok":
        status, name, kind, message = result
        where = f"{path} (sheet {name!r})" if name else path
        if status == "too large":
            raise UnreadableFileError(where, message)
        raise UnreadableFileError(where, "not a readable Excel 97-2003 workbook "
                                  f"({kind}: {short(message)})")
    return [_sheet_rows(name, values, _SheetXml()) for name, values in result[1]]


def grid_from_sheet(sheet: SheetRows, header_pos: int, header_at_end: bool = False,
                    stop: int | None = None, first: bool = True) -> Grid:
    """Grid of a sheet's data rows, given the position (in `sheet.rows`) of its header row.

    `stop` ends the data before that position (the next header of a stacked table); the
    sheet's blank and preamble rows are counted in its `first` grid only.
    """
    header = sheet.rows[header_pos]
    named = [i for i, h in enumerate(header) if h.strip()]
    end = len(sheet.rows) if stop is None else stop
    body_idx = range(header_pos) if header_at_end else range(header_pos + 1, end)
    body = [sheet.rows[i] for i in body_idx]
    width = max([named[-1] + 1 if named else 1] + [_last_filled(r) + 1 for r in body])
    rejects: list[RawReject] = []
    rows, lines = [], []
    for i in body_idx:
        cells = sheet.rows[i]
        rows.append((cells + [""] * width)[:width])
        lines.append(sheet.lines[i])
    return Grid(
        columns=string_columns(rows, width), lines=np.array(lines, np.int64),
        header=(header + [""] * width)[:width], header_line=sheet.lines[header_pos],
        sheet=sheet.name, blank_rows=sheet.blank_rows if first else 0,
        preamble_rows=0 if header_at_end or not first else header_pos, rejects=rejects,
    )


def _last_filled(cells: list[str]) -> int:
    for i in range(len(cells) - 1, -1, -1):
        if cells[i].strip():
            return i
    return 0
