"""Spreadsheet-safe text: the one neutraliser of formula-like cells (CSV/formula injection).

A supplier called ``=HYPERLINK(...)``, a file named ``@SUM(1)+cmd.csv`` or a publisher name
starting with ``+`` would be run as a formula by Excel or LibreOffice when a CSV/XLSX the
project writes is opened. Text cells that begin with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return get a leading apostrophe, the usual neutralisation (OWASP "CSV injection").
Numbers stay numbers: a credit of -5.00 held as a number is not touched. Every CSV/XLSX writer
(`spendkit.views.exports`, the ingest's `ledger.csv`) goes through here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported when a table is neutralised, not on import
    import pandas as pd

#: First characters that make a spreadsheet treat a cell as a formula (OWASP list).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def safe_cell_text(value: Any) -> Any:
    """Return `value` with a leading ``'`` if it is text starting like a formula, else as is.

    Non-strings (numbers, dates, None) pass through unchanged so numeric cells stay numeric.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of `df` where text cells starting with a formula character get a leading "'"."""
    import pandas as pd
    import pyarrow as pa

    out = df.copy()
    for col in out.columns:
        series = out[col]
        is_text = (pd.api.types.is_string_dtype(series.dtype)
                   or (isinstance(series.dtype, pd.ArrowDtype)
                       and pa.types.is_string(series.dtype.pyarrow_dtype)))
        if series.dtype == object:
            is_str = series.map(lambda v: isinstance(v, str))
            if not is_str.any():
                continue
            text = series.where(is_str).astype("string")
        elif is_text:
            text = series.astype("string")
        else:
            continue
        risky = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
        if risky.any():
            fixed = series.astype(object).copy()
            fixed[risky] = "'" + text[risky]
            out[col] = fixed
    return out


__all__ = ["FORMULA_PREFIXES", "neutralise_formulas", "safe_cell_text"]
