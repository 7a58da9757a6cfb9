"""Neutralise untrusted text before it goes into a spreadsheet cell (CSV/formula injection).

A supplier name such as ``=HYPERLINK(...)`` or ``+44 20 ...`` would be read by Excel as a
formula; prefixing a single quote makes it plain text. Used by every Excel/CSV writer.
"""

from __future__ import annotations

from typing import Any

#: First characters that make a spreadsheet treat a cell as a formula (OWASP list).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def safe_cell_text(value: Any) -> Any:
    """Return `value` with a leading ``'`` if it is text starting like a formula, else as is.

    Non-strings (numbers, dates, None) pass through unchanged so numeric cells stay numeric.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
