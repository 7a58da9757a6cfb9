"""Tables to CSV or Excel for finance colleagues, safe to open in a spreadsheet.

`export_report` writes a page's tables beside the page: one workbook (a sheet per table with
£/%/date number formats, column widths, a frozen header row, human headers, and a Notes sheet
with the sources) and/or one UTF-8-with-BOM CSV per table (so Excel shows £). In workbooks,
text that a spreadsheet would run as a formula is stored as text with Excel's *quote prefix*
style: shown as typed, no visible apostrophe, never evaluated. `export_tables` and
`to_excel_or_csv` are the older one-call writers (apostrophe neutralisation, pandas layout).

Text cells that begin with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) would be
run as formulas by Excel or LibreOffice, so a supplier called "=HYPERLINK(...)" could act on
the reader's machine. Such cells get a leading apostrophe, the usual neutralisation (OWASP
"CSV injection"; the one neutraliser is `spendkit.units.cells.neutralise_formulas`, applied
per column). Numbers stay numbers: a credit of -5.00 is written as a number, not text.
Money is written exactly (Decimal), never through a float.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from spendkit.errors import InputError
from spendkit.units.cells import FORMULA_PREFIXES, neutralise_formulas, safe_cell_text
from spendkit.views.tables import ReportTable, format_value, header_for, table


def _plain_values(df: pd.DataFrame) -> pd.DataFrame:
    """Arrow-backed columns as plain Python values (Decimal, date, str) for the writers."""
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.ArrowDtype):
            out[col] = pd.Series(out[col].astype(object), index=out.index, dtype=object)
            out[col] = out[col].where(out[col].notna(), None)
    return out


def to_excel_or_csv(df: pd.DataFrame, path: str | Path, sheet_name: str = "data") -> Path:
    """Write `df` to `path` as CSV (.csv) or Excel (.xlsx) by suffix, formulas neutralised.

    Returns the path written. The index is written only when it is named (a tidy table's
    RangeIndex is not). Raises `InputError` for any other suffix.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InputError(
            f"{target}: expected a file name ending in .csv or .xlsx, got suffix {suffix!r}")
    keep_index = any(name is not None for name in df.index.names)
    table = _plain_values(neutralise_formulas(df.reset_index() if keep_index else df))
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        table.to_csv(target, index=False, lineterminator="\n")
    else:
        table.to_excel(target, index=False, sheet_name=sheet_name[:31], engine="openpyxl")
    return target


def export_tables(tables: Mapping[str, pd.DataFrame], path: str | Path) -> list[Path]:
    """Write several tables in one call: one .xlsx workbook (a sheet each) or CSVs in a folder.

    `path` ending in .xlsx gives one workbook whose sheets are the table names (cut to
    Excel's 31 characters, which must stay distinct); any other path is a folder that gets
    `<name>.csv` per table. Formulas are neutralised as in `to_excel_or_csv`. Returns the
    files written.
    """
    if not tables:
        raise InputError("export_tables: expected at least one table, got none")
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        if target.suffix:
            raise InputError(
                f"{target}: expected a folder (for CSVs) or a file name ending in .xlsx")
        return [to_excel_or_csv(df, target / f"{name}.csv") for name, df in tables.items()]
    sheets = [name[:31] for name in tables]
    if len(set(sheets)) != len(sheets):
        raise InputError(f"{target}: table names {list(tables)} are not distinct in "
                               "their first 31 characters (Excel sheet names)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for sheet, df in zip(sheets, tables.values(), strict=True):
            keep_index = any(name is not None for name in df.index.names)
            table = _plain_values(neutralise_formulas(df.reset_index() if keep_index else df))
            table.to_excel(writer, index=False, sheet_name=sheet)
    return [target]


# --- formatted workbooks and CSVs for a report page -------------------------------------------

#: Excel number format per table kind (`spendkit.views.tables.KINDS`).
EXCEL_FORMATS: dict[str, str] = {
    "money": '"£"#,##0;-"£"#,##0',
    "pct": "0.0%",
    "share": "0.0%",
    "int": "#,##0",
    "number": "#,##0.00",
    "date": "dd/mm/yyyy",
    "month": "mmm yyyy",
}
MONEY_PENCE_FORMAT = '"£"#,##0.00;-"£"#,##0.00'
#: Widest a column gets (characters); longer text wraps.
MAX_WIDTH = 60
NOTES_SHEET = "Notes"


def _as_table(value: pd.DataFrame | ReportTable) -> ReportTable:
    return value if isinstance(value, ReportTable) else table(value, max_rows=None)


def _cell_value(value: Any, kind: str) -> Any:
    """A value as the workbook stores it: numbers and dates stay typed, missing is empty."""
    if format_value(value, kind) in ("", "–") and kind != "text":
        return None
    if kind == "money":
        return value if isinstance(value, Decimal) else Decimal(str(value))
    if kind == "pct":
        return float(value) / 100
    if kind in ("share", "number"):
        return float(value)
    if kind == "int":
        return int(value)
    if kind in ("date", "month"):
        day = pd.Timestamp(value)
        return day.date() if kind == "date" else dt.date(day.year, day.month, 1)
    if kind == "bool":
        return "yes" if bool(value) else "no"
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


def _unique_sheet_names(names: Sequence[str]) -> list[str]:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, distinct."""
    out: list[str] = []
    for name in names:
        clean = "".join(" " if c in "[]:*?/\\" else c for c in name).strip()[:31] or "Sheet"
        candidate, n = clean, 2
        while candidate.lower() in {o.lower() for o in out} or candidate == NOTES_SHEET:
            suffix = f" {n}"
            candidate, n = clean[:31 - len(suffix)] + suffix, n + 1
        out.append(candidate)
    return out


def write_workbook(tables: Mapping[str, pd.DataFrame | ReportTable], path: str | Path, *,
                   notes: Sequence[str] = ()) -> Path:
    """One .xlsx: a formatted sheet per table (see the module docstring) and a Notes sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    if not tables:
        raise InputError("write_workbook: expected at least one table, got none")
    target = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    names = _unique_sheet_names([header_for(k) for k in tables])
    bold = Font(bold=True)
    for sheet, value in zip(names, tables.values(), strict=True):
        report = _as_table(value)
        frame = report.frame
        ws = wb.create_sheet(sheet)
        ws.append([str(c).strip() for c in frame.columns])
        for cell in ws[1]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        kinds = [report.kinds[c] for c in frame.columns]
        widths = [len(str(c).strip()) for c in frame.columns]
        for row in frame.itertuples(index=False, name=None):
            ws.append([_cell_value(v, k) for v, k in zip(row, kinds, strict=True)])
            r = ws.max_row
            for j, (v, k) in enumerate(zip(row, kinds, strict=True)):
                cell = ws.cell(row=r, column=j + 1)
                if k == "money":
                    cell.number_format = MONEY_PENCE_FORMAT if report.pence else EXCEL_FORMATS[k]
                elif k in EXCEL_FORMATS:
                    cell.number_format = EXCEL_FORMATS[k]
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                    if cell.value.startswith(FORMULA_PREFIXES):
                        cell.quotePrefix = True
                if r <= 201:
                    widths[j] = max(widths[j], len(format_value(v, k, pence=report.pence)))
        for j, width in enumerate(widths):
            letter = get_column_letter(j + 1)
            ws.column_dimensions[letter].width = min(MAX_WIDTH, width + 2)
            if width > MAX_WIDTH:
                for (cell,) in ws.iter_rows(min_row=2, min_col=j + 1, max_col=j + 1):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
        if frame.shape[0] and frame.shape[1]:
            ws.auto_filter.ref = ws.dimensions
    ws = wb.create_sheet(NOTES_SHEET)
    ws.column_dimensions["A"].width = 110
    for line in [*notes, "Money in pounds as published (net of credits); percentages as on the "
                 "page; empty cells are values the data does not give."]:
        ws.append([line])
        cell = ws.cell(row=ws.max_row, column=1)
        cell.data_type = "s"
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if line.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target


def _csv_value(value: Any, kind: str) -> Any:
    stored = _cell_value(value, kind)
    if stored is None:
        return ""
    if kind == "pct":
        return f"{float(value):.10g}"  # as on the page (0-100), not a fraction
    if isinstance(stored, (dt.date, Decimal, int, float)):
        return stored.isoformat() if isinstance(stored, dt.date) else str(stored)
    return safe_cell_text(stored)


def write_csvs(tables: Mapping[str, pd.DataFrame | ReportTable], folder: str | Path
               ) -> list[Path]:
    """One UTF-8 (with BOM, so Excel shows £) CSV per table in `folder`, human headers."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for key, value in tables.items():
        report = _as_table(value)
        frame = report.frame
        kinds = [report.kinds[c] for c in frame.columns]
        path = target / f"{key}.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow([safe_cell_text(str(c).strip()) for c in frame.columns])
            for row in frame.itertuples(index=False, name=None):
                writer.writerow([_csv_value(v, k) for v, k in zip(row, kinds, strict=True)])
        written.append(path)
    return written


def export_report(tables: Mapping[str, pd.DataFrame | ReportTable], *, name: str,
                  folder: str | Path | None, formats: Sequence[str] = ("xlsx",),
                  notes: Sequence[str] = ()) -> list[Path]:
    """Write a page's tables beside it: `<folder>/<name>.xlsx` and/or `<folder>/<name>-csv/`.

    `folder` None writes nothing (a notebook run without an export folder). `notes` (data
    sources, provenance, caveats) go on the workbook's Notes sheet and into `notes.txt`
    beside the CSVs.
    """
    if folder is None:
        return []
    formats = [formats] if isinstance(formats, str) else list(formats)
    unknown = sorted(set(formats) - {"xlsx", "csv"})
    if unknown:
        raise InputError(f"export formats: unknown {unknown}; expected xlsx and/or csv")
    out: list[Path] = []
    if "xlsx" in formats:
        out.append(write_workbook(tables, Path(folder) / f"{name}.xlsx", notes=notes))
    if "csv" in formats:
        csv_dir = Path(folder) / f"{name}-csv"
        out.extend(write_csvs(tables, csv_dir))
        (csv_dir / "notes.txt").write_text("\n".join([*notes, ""]), encoding="utf-8-sig")
    return out
