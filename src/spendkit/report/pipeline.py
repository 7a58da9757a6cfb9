"""The whole path in one call: raw files → processed dataset → notebooks → offline reports.

The CLI (`spendkit report`) and `python3 dev.py report` call `build_all`; each stage can also be
run on its own (`spendkit.ingest.ingest`, `spendkit.report.build_reports`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spendkit import __version__
from spendkit.datasets import read_ledger, transactions_dataset
from spendkit.ingest import IngestSummary, ingest
from spendkit.report import ReportSummary, build_reports


def run_summary(summary: IngestSummary, processed: Path | None = None) -> dict[str, Any]:
    """Facts for the report index: coverage, ledger totals, dates of the data, version."""
    import pyarrow.compute as pc

    ledger = read_ledger(processed)
    table = transactions_dataset(processed).to_table(columns=["payment_date", "is_it",
                                                              "amount_gbp", "publisher_name"])
    first = pc.min(table.column("payment_date")).as_py() if table.num_rows else None
    last = pc.max(table.column("payment_date")).as_py() if table.num_rows else None
    it = table.filter(pc.field("is_it"))
    it_total = pc.sum(it.column("amount_gbp")).as_py() if it.num_rows else 0
    publishers = sorted(set(table.column("publisher_name").to_pylist()))
    synthetic = int(ledger["source_file"].str.contains("SYNTHETIC", regex=False).sum())
    facts: dict[str, Any] = {}
    if synthetic:
        facts["SYNTHETIC data"] = (f"{synthetic} of {len(ledger)} raw files are the synthetic "
                                   "sample made by `spendkit sample`: invented payments, not "
                                   "any council's real spend")
    return facts | {
        "spendkit version": __version__,
        "data": f"{len(ledger)} raw file(s) from {len(publishers)} publisher(s): "
                + ", ".join(publishers),
        "payments dated": f"{first} to {last}" if first else "none",
        "rows kept": f"{summary.rows_kept:,}",
        "rows rejected": f"{summary.rows_rejected:,} (of which {summary.duplicates:,} "
                         "duplicate publications)",
        "total kept": f"£{summary.kept_total_gbp:,.2f}",
        "classified as IT": f"£{it_total:,.2f}",
        "files that could not be read": str(len(summary.failed)),
    }


def build_all(*, raw_dir: Path | None = None, processed: Path | None = None,
              parameters: dict[str, Any] | None = None, no_input: bool = False,
              force_ingest: bool = False, progress: bool = True,
              notebooks: list[Path] | None = None, out_dir: Path | None = None
              ) -> ReportSummary:
    """Ingest (skipped when the raw files are unchanged), then build every report."""
    summary = ingest(raw_dir, processed, force=force_ingest, progress=None if progress else False)
    return build_reports(notebooks, out_dir, parameters or {}, no_input, progress,
                         summary=run_summary(summary, processed))
