"""One field dictionary: every canonical column's name, dtype and meaning.

Schema checks (`spendkit.schema`), documentation and the Parquet writer all read this module,
so a column is defined once. Names follow PUDL's conventions: snake_case, units as suffixes
(`amount_gbp`), `is_` booleans, `_date`, `_code`, `_name`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from spendkit.errors import InputError
from spendkit.units.money import AMOUNT_TYPE


@dataclass(frozen=True)
class Field:
    """A canonical column: its name, Arrow type and a one-line description."""

    name: str
    type: pa.DataType
    description: str


TRANSACTION_FIELDS: tuple[Field, ...] = (
    Field("publisher_name", pa.string(), "Publishing body, e.g. 'Leeds City Council'."),
    Field("publisher_code", pa.string(), "GSS code of the publisher where known (E08000035)."),
    Field("payment_date", pa.date32(), "Date paid (or the month's first day; see date_precision)."),
    Field("date_precision", pa.string(), "'day', 'month' (a file that gives only 'Sep 2014', or a "
          "period found for a row without a usable date) or 'quarter' (a quarter's period)."),
    Field("date_basis", pa.string(), "Where payment_date came from: 'published' (the row's own "
          "date), or, for a row without a usable date, 'period_column', 'other_rows', "
          "'sheet_name' or 'file_name'."),
    Field("amount_gbp", AMOUNT_TYPE, "Amount as published, exact to the penny; credits negative."),
    Field("vat_basis", pa.string(), "What amount_gbp includes: 'net' (excluding recoverable VAT, "
          "as the Transparency Code asks), 'gross' (including VAT) or 'unknown'; from the "
          "amount column's header, or the publisher profile."),
    Field("supplier_name", pa.string(), "Supplier / beneficiary as published, whitespace trimmed."),
    Field("supplier_id", pa.string(), "Publisher's own supplier reference, if given."),
    Field("expense_type", pa.string(), "Subjective/expense label (e.g. 'ICT : Software')."),
    Field("expense_code", pa.string(), "Publisher's expense/account code, if given."),
    Field("service_area", pa.string(), "Directorate / service / cost centre label."),
    Field("description", pa.string(), "Free-text narrative or purpose, if given."),
    Field("transaction_id", pa.string(), "Publisher's transaction / invoice reference."),
    Field("is_redacted", pa.bool_(), "Supplier withheld (redacted, personal data or blank)."),
    Field("source_file", pa.string(), "File the row came from ('a.zip/inner.csv' for a member)."),
    Field("source_sheet", pa.string(), "Worksheet name for Excel files, empty for text files."),
    Field("source_sha256", pa.string(), "SHA-256 of the source file's bytes."),
    Field("source_line", pa.int64(), "1-based physical line (CSV) or sheet row (Excel)."),
)

REJECT_FIELDS: tuple[Field, ...] = (
    Field("source_file", pa.string(), "File the row came from ('a.zip/inner.csv' for a member)."),
    Field("source_sheet", pa.string(), "Worksheet name for Excel files, empty for text files."),
    Field("source_line", pa.int64(), "1-based physical line or sheet row."),
    Field("reason", pa.string(), "Why the row was not kept (see REJECT_REASONS)."),
    Field("detail", pa.string(), "What was found, e.g. the unparseable value."),
    Field("raw", pa.string(), "The row's cells joined with '|', as read."),
)

#: The controlled vocabulary of reject reasons.
REJECT_REASONS: dict[str, str] = {
    "total_row": "A total or sub-total line ('Total', 'Grand Total', or a bare sum).",
    "repeated_header": "The header row repeated inside the data.",
    "missing_amount": "No amount on a row that is not blank.",
    "invalid_amount": "An amount that is not a number in any known style.",
    "missing_date": "No payment date.",
    "invalid_date": "A date that fits no format chosen for the column.",
    "wrong_field_count": "The line has a different number of fields from the header.",
    "not_transaction_list": "The file is a summary (e.g. a supplier pivot), not transactions.",
}

#: Columns added by the enrichment stage (`spendkit.enrich`).
ENRICHMENT_FIELDS: tuple[Field, ...] = (
    Field("supplier_key", pa.string(), "Normalised supplier name (case, suffixes, punctuation)."),
    Field("supplier_canonical", pa.string(), "Clustered supplier name shared by variants."),
    Field("supplier_role", pa.string(), "Role from the supplier reference (reseller, telecoms…)."),
    Field("is_it", pa.bool_(), "Payment classified as IT spend."),
    Field("it_category", pa.string(), "IT taxonomy category, empty when not IT."),
    Field("it_basis", pa.string(), "Evidence that decided: the kinds that added to an IT "
          "verdict, most first, joined with '+' ('expense_type', 'supplier', 'description', "
          "'service_area', 'other_columns', 'corpus'); for a payment not IT, the kind that "
          "outweighed the rest with ' (not IT)'; '' when there is no evidence either way."),
    Field("it_confidence", pa.string(), "'high', 'medium' or 'low'."),
    Field("underlying_vendor", pa.string(), "Vendor behind a reseller payment (e.g. 'Microsoft')."),
)


def require_columns(table: Any, columns: Iterable[str], what: str) -> None:
    """Raise `InputError` naming `what` and the missing columns when `table` (a pandas or Arrow
    table) lacks any of `columns`; the one input check every stage uses."""
    have = list(table.column_names) if hasattr(table, "column_names") else list(table.columns)
    missing = [c for c in columns if c not in have]
    if missing:
        raise InputError(
            f"{what}: missing column(s) {missing}; expected the canonical columns of "
            f"spendkit.schema (and enrichment columns where needed), got {have}"
        )


def transaction_schema() -> pa.Schema:
    """Arrow schema of the canonical columns of `LoadResult.transactions`."""
    return pa.schema([(f.name, f.type) for f in TRANSACTION_FIELDS])


def reject_schema() -> pa.Schema:
    """Arrow schema of `LoadResult.rejects`."""
    return pa.schema([(f.name, f.type) for f in REJECT_FIELDS])


TRANSACTION_COLUMNS: tuple[str, ...] = tuple(f.name for f in TRANSACTION_FIELDS)
