"""One-call export of any table to CSV or Excel, safe to open in a spreadsheet.

Text cells that begin with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) would be
run as formulas by Excel or LibreOffice, so a supplier called "=HYPERLINK(...)" could act on
the reader's machine. Such cells get a leading apostrophe, the usual neutralisation (OWASP
"CSV injection"; the one neutraliser is `spendkit.units.cells.neutralise_formulas`, applied
per column). Numbers stay numbers: a credit of -5.00 is written as a number, not text.
Money is written exactly (Decimal), never through a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from spendkit.errors import InputError
from spendkit.units.cells import neutralise_formulas


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
