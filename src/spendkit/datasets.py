"""Read what `spendkit ingest` wrote: transactions, rejects and the per-file ledger.

Notebooks and models read through these functions, never by path, so the layout of
`data/processed` (see `spendkit.ingest`) can change in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from spendkit.errors import NoDataError, SpendkitError
from spendkit.loader import arrow_to_pandas
from spendkit.settings import get_settings


def latest_dir(processed: Path | str | None = None) -> Path:
    """The folder of the latest complete ingest (follows `latest`, or the LATEST pointer)."""
    base = Path(processed) if processed else get_settings().processed_dir
    link = base / "latest"
    if link.exists():
        return link.resolve()
    pointer = base / "LATEST"
    if pointer.exists():
        return (base / pointer.read_text(encoding="utf-8").strip()).resolve()
    raise NoDataError(
        f"{base}: no processed data found; run `spendkit ingest` (or `python3 dev.py report`) "
        "first")


def transactions_dataset(processed: Path | str | None = None) -> ds.Dataset:
    """The transactions as a pyarrow dataset (hive partitions: publisher, financial_year)."""
    part = ds.partitioning(pa.schema([("publisher", pa.string()),
                                      ("financial_year", pa.string())]), flavor="hive")
    return ds.dataset(latest_dir(processed) / "transactions", format="parquet",
                      partitioning=part)


def read_transactions(processed: Path | str | None = None, *,
                      publishers: Sequence[str] | None = None,
                      years: Sequence[str] | None = None,
                      columns: Sequence[str] | None = None,
                      it_only: bool = False) -> pd.DataFrame:
    """Ingested transactions as pandas, optionally filtered (amount_gbp stays exact).

    Args:
        publishers: publisher names (as in `publisher_name`) or GSS codes to keep.
        years: financial-year labels such as '2021-22' to keep.
        columns: columns to read (default all).
        it_only: keep only rows classified as IT.
    """
    dataset = transactions_dataset(processed)
    cond = None

    def both(a, b):
        return b if a is None else a & b

    if publishers:
        wanted = list(publishers)
        cond = both(cond, pc.field("publisher_name").isin(wanted)
                    | pc.field("publisher_code").isin(wanted))
    if years:
        cond = both(cond, pc.field("financial_year").isin(list(years)))
    if it_only:
        cond = both(cond, pc.field("is_it"))
    table = dataset.to_table(columns=list(columns) if columns else None, filter=cond)
    sort = [c for c in ("publisher_name", "payment_date", "source_file", "source_sheet",
                        "source_line") if c in table.column_names]
    if sort:
        table = table.sort_by([(c, "ascending") for c in sort])
    return arrow_to_pandas(table)


def read_ledger(processed: Path | str | None = None) -> pd.DataFrame:
    """One row per raw file: what was read, kept, rejected, and what was detected."""
    return pq.read_table(latest_dir(processed) / "ledger.parquet").to_pandas()


def read_rejects(processed: Path | str | None = None) -> pd.DataFrame:
    """Every row not kept, with file, sheet, line, reason, detail and raw text."""
    return pq.read_table(latest_dir(processed) / "rejects.parquet").to_pandas()


def read_extras(processed: Path | str | None = None) -> pd.DataFrame:
    """Published columns outside the canonical schema, keyed by source file, sheet and line."""
    folder = latest_dir(processed) / "extras"
    if not folder.is_dir():
        return pd.DataFrame(columns=["source_file", "source_sheet", "source_line"])
    tables = [pq.read_table(p) for p in sorted(folder.rglob("*.parquet"))]
    return pa.concat_tables(tables, promote_options="permissive").to_pandas() if tables \
        else pd.DataFrame()


def ensure_processed(raw: Path | str | None = None, processed: Path | str | None = None,
                     *, strict: bool = True) -> Path:
    """Ingest the raw folder if the processed data is missing or stale; return its folder.

    Quiet and quick when nothing changed (the ingest finds its version already built), so
    notebooks call it first and always read data that matches `data/raw`. With strict=False
    files that cannot be read are left for the ledger to report instead of raising.
    """
    from spendkit.ingest import ingest

    summary = ingest(raw, processed, progress=False)
    if summary.failed and strict:
        names = ", ".join(f.path for f in summary.failed)
        raise SpendkitError(f"some raw files could not be read ({names}); see "
                            f"{summary.latest / 'summary.txt'}")
    return latest_dir(processed)
