"""Excel workbooks (XLSX via openpyxl, BIFF8 XLS via xlrd) → per-sheet rows of string cells.

Cells become the strings a CSV export would hold, so one cleaning path serves both: dates as ISO
(`2024-04-09`, or with the time when it is not midnight), numbers via `repr` so float artefacts
such as 1041.4099999999999 reach the amount parser intact (it rounds to the penny and says so).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import numpy as np

from spendkit.errors import UnreadableFileError
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


def read_xlsx(data: bytes, path: str) -> list[SheetRows]:
    """Every worksheet of an XLSX workbook as SheetRows."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UnreadableFileError(path, f"not a readable XLSX workbook ({exc})") from exc
    try:
        return [
            _collect(ws.title, enumerate(ws.iter_rows(values_only=True), start=1))
            for ws in wb.worksheets
        ]
    finally:
        wb.close()


def read_xls(data: bytes, path: str) -> list[SheetRows]:
    """Every worksheet of a BIFF8 (Excel 97-2003) workbook as SheetRows."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data)
    except Exception as exc:  # xlrd raises many types (XLRDError, CompDocError, …)
        raise UnreadableFileError(path, f"not a readable Excel 97-2003 workbook ({exc})") from exc
    sheets = []
    for sheet in book.sheets():
        def rows(sheet=sheet):
            for r in range(sheet.nrows):
                out = []
                for cell in sheet.row(r):
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        out.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                    elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                        out.append(None)
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        out.append(bool(cell.value))
                    else:
                        out.append(cell.value)
                yield r + 1, out
        sheets.append(_collect(sheet.name, rows()))
    return sheets


def grid_from_sheet(sheet: SheetRows, header_pos: int, header_at_end: bool = False) -> Grid:
    """Grid of a sheet's data rows, given the position (in `sheet.rows`) of its header row."""
    header = sheet.rows[header_pos]
    named = [i for i, h in enumerate(header) if h.strip()]
    body_idx = range(header_pos) if header_at_end else range(header_pos + 1, len(sheet.rows))
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
        sheet=sheet.name, blank_rows=sheet.blank_rows,
        preamble_rows=0 if header_at_end else header_pos, rejects=rejects,
    )


def _last_filled(cells: list[str]) -> int:
    for i in range(len(cells) - 1, -1, -1):
        if cells[i].strip():
            return i
    return 0
