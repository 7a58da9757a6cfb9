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
    # Written by the ingest, not the loader: the row is kept by its file but not counted twice.
    "duplicate_publication": "The same payment (publisher, date, amount, supplier) was already "
                             "ingested from an earlier file (in path order), which `detail` "
                             "names.",
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


#: The ingest's ledger: one row per raw file (`ledger.parquet`, `ledger.csv`). Counts are whole
#: numbers, money is exact decimal text (as `str(Decimal)`), lists and maps are JSON text.
LEDGER_FIELDS: tuple[Field, ...] = (
    Field("source_file", pa.string(), "Raw file, as a path relative to the raw folder."),
    Field("source_sha256", pa.string(), "SHA-256 of the file's bytes (empty when not read)."),
    Field("status", pa.string(), "'loaded' (read; its rows are accounted for below), 'failed' "
          "(could not be read: see error) or 'skipped' (not read: a symlink leading out of the "
          "raw folder, or not a regular file: see error)."),
    Field("is_synthetic", pa.bool_(), "Part of the SYNTHETIC sample made by `spendkit sample` "
          "(named SYNTHETIC-… or listed in a SYNTHETIC-manifest.csv): invented payments."),
    Field("format", pa.string(), "What the bytes are: csv, xlsx, xls or zip."),
    Field("file_kind", pa.string(), "'transactions' or 'supplier_summary' (not loaded)."),
    Field("encoding", pa.string(), "Text encoding detected (CSV and ZIP members)."),
    Field("delimiter", pa.string(), "Field delimiter detected (CSV and ZIP members)."),
    Field("parse_path", pa.string(), "Which reader parsed the text (fast Arrow path or careful)."),
    Field("publisher_name", pa.string(), "Publisher decided for the file."),
    Field("publisher_code", pa.string(), "Its GSS code, when known."),
    Field("publisher_basis", pa.string(), "Which clue decided the publisher."),
    Field("vat_basis", pa.string(), "VAT basis of the amounts (net, gross or unknown)."),
    Field("threshold_gbp", pa.string(), "Publishing threshold from the profile, if any."),
    Field("header_line", pa.int64(), "1-based line (or sheet row) of the header; 0 if none."),
    Field("sheets", pa.string(), "Worksheets read, joined with '|'."),
    Field("rows_read", pa.int64(), "Raw rows read: rows_kept + rows_rejected."),
    Field("rows_kept", pa.int64(), "Rows the loader kept (before duplicate publications)."),
    Field("rows_rejected", pa.int64(), "Rows the loader rejected (see rejected_by_reason)."),
    Field("rejected_by_reason", pa.string(), "JSON map: reject reason -> rows."),
    Field("blank_rows_skipped", pa.int64(), "Blank lines or rows, not counted as read."),
    Field("preamble_rows_skipped", pa.int64(), "Lines above the header, not counted as read."),
    Field("kept_total_gbp", pa.string(), "Exact sum of the kept rows' amounts."),
    Field("duplicate_rows", pa.int64(), "Kept rows that repeat an earlier file's payments: "
          "rejected as duplicate_publication, not counted twice."),
    Field("dataset_rows", pa.int64(), "Rows in the dataset: rows_kept - duplicate_rows."),
    Field("dataset_total_gbp", pa.string(), "Exact sum of the file's rows in the dataset."),
    Field("date_format", pa.string(), "Date format chosen for the date column."),
    Field("column_mapping", pa.string(), "JSON map: canonical field -> published column."),
    Field("decisions", pa.string(), "JSON list of the loader's choices, with evidence and "
          "runner-up (Ledger.decisions)."),
    Field("skipped", pa.string(), "JSON: ZIP members and sheets not read, with why "
          "(Ledger.skipped)."),
    Field("warnings", pa.string(), "The loader's warnings, joined with ' | '."),
    Field("parts", pa.string(), "JSON list of {path, offset, rows}: where the file's rows are "
          "in the dataset (a Parquet file under transactions/, their first row, how many)."),
    Field("error", pa.string(), "Why a failed or skipped file was not read (one line)."),
)

LEDGER_COLUMNS: tuple[str, ...] = tuple(f.name for f in LEDGER_FIELDS)


def ledger_schema() -> pa.Schema:
    """Arrow schema of the ingest's ledger table."""
    return pa.schema([(f.name, f.type) for f in LEDGER_FIELDS])


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
