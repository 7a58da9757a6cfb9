"""Neutralise untrusted text before it goes into a spreadsheet cell (CSV/formula injection).

The neutraliser lives in `spendkit.units.cells` (the ingest's ledger.csv uses it too); this
module keeps the names the views and models import.
"""

from __future__ import annotations

from spendkit.units.cells import FORMULA_PREFIXES, safe_cell_text

__all__ = ["FORMULA_PREFIXES", "safe_cell_text"]
