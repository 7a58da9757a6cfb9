"""The ingest's ledger (one row per raw file, columns from `spendkit.schema.LEDGER_FIELDS`) and
its human-readable summary.

`ledger.parquet` is the table; `ledger.csv` is the same for spreadsheets: UTF-8 with a BOM (so
Excel shows £), money as numbers, and every text cell that a spreadsheet would run as a
formula neutralised (`spendkit.units.cells`) — file, sheet and publisher names come from the
data. `summary.txt` says what was kept and rejected, lists every file that failed or was
skipped (one escaped line each) and says loudly when the data is the SYNTHETIC sample. Both
depend only on the inputs, never on the history of runs, so the same raw files give the same
bytes.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import spendkit
from spendkit.loader import Ledger
from spendkit.schema import LEDGER_COLUMNS, LEDGER_FIELDS, ledger_schema
from spendkit.units.cells import neutralise_formulas

LEDGER_PARQUET = "ledger.parquet"
LEDGER_CSV = "ledger.csv"
SUMMARY_TXT = "summary.txt"
#: Longest error text kept in the ledger and the summary (the loader's own excerpts are
#: shorter; this bounds whatever an unexpected exception says).
MAX_ERROR_CHARS = 300
_MONEY = ("kept_total_gbp", "dataset_total_gbp", "threshold_gbp")
_DEFAULTS = {f.name: (0 if pa.types.is_integer(f.type) else False if pa.types.is_boolean(f.type)
                      else "") for f in LEDGER_FIELDS}
_DEFAULTS.update({"decisions": "[]", "skipped": "{}", "parts": "[]", "rejected_by_reason": "{}",
                  "column_mapping": "{}", "kept_total_gbp": "0", "dataset_total_gbp": "0"})
UNKNOWN_PUBLISHER = "Unknown publisher"


def one_line(text: object, limit: int = MAX_ERROR_CHARS) -> str:
    """`text` on one line: control characters escaped, at most `limit` characters."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029":
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    line = "".join(out)
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass
class FileOutcome:
    """What happened to one raw file in an ingest run.

    status: 'loaded' (read now), 'reused' (its rows taken from the previous version, not read
    again), 'failed' or 'skipped'; the ledger says 'loaded' for both of the first two.
    """

    path: str
    status: str
    ledger: dict = field(default_factory=dict)
    error: str = ""


@dataclass
class IngestSummary:
    """Result of `ingest`: where the dataset is, and one outcome per raw file."""

    version_dir: Path
    latest: Path
    files: list[FileOutcome]
    rows_kept: int
    rows_rejected: int
    duplicates: int
    kept_total_pence: int
    up_to_date: bool = False
    raw_dir: Path | None = None
    #: What this run found about earlier ones (e.g. a damaged `latest` rebuilt); not written
    #: to summary.txt, which depends only on the inputs.
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def skipped(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "skipped"]

    @property
    def reused(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "reused"]

    @property
    def synthetic_files(self) -> int:
        return sum(bool(f.ledger.get("is_synthetic")) for f in self.files)

    @property
    def is_synthetic(self) -> bool:
        """True when every file is the SYNTHETIC sample."""
        return bool(self.files) and self.synthetic_files == len(self.files)

    @property
    def kept_total_gbp(self) -> Decimal:
        return Decimal(self.kept_total_pence).scaleb(-2)

    def text(self, history: bool = False) -> str:
        """The human-readable summary (summary.txt); with history=True also what this run
        reused or repaired (for the terminal)."""
        n = len(self.files)
        lines = [f"spendkit {spendkit.__version__} ingest: {n} file(s)"]
        syn = self.synthetic_files
        if syn and syn == n:
            lines.append(f"  *** SYNTHETIC SAMPLE: all {n} files are the invented sample made by "
                         "`spendkit sample`, not any council's real spend. Put published files "
                         "in data/raw to analyse real councils. ***")
        elif syn:
            lines.append(f"  *** MIXED: {syn} of {n} files are the SYNTHETIC sample (invented "
                         "payments), ingested beside real files on request. ***")
        lines += [
            f"  kept {self.rows_kept:,} rows, total £{self.kept_total_gbp:,.2f}",
            f"  rejected {self.rows_rejected:,} rows "
            f"(of which {self.duplicates:,} duplicate publications)",
        ]
        by_status: dict[str, int] = {}
        for f in self.files:
            status = "loaded" if f.status == "reused" else f.status
            by_status[status] = by_status.get(status, 0) + 1
        lines.append("  files: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())))
        for f in self.failed:
            lines.append(f"  FAILED {one_line(f.path)}: {one_line(f.error)}")
        for f in self.skipped:
            lines.append(f"  SKIPPED {one_line(f.path)}: {one_line(f.error)}")
        unknown = [f.path for f in self.files
                   if f.status in ("loaded", "reused") and _unidentified(f.ledger)]
        if unknown:
            # Each file's own reason and candidates are in its ledger warnings
            # (councils.unidentified_help); the summary names the files and the remedy.
            lines.append(f"  PUBLISHER NOT IDENTIFIED in {len(unknown)} file(s): put each in a "
                         "folder named after its publisher, or list it in that council's "
                         "profile (councils/<slug>.yaml: files: [...])")
            lines += [f"    {one_line(p)}" for p in unknown]
        if history:
            if self.reused:
                lines.append(f"  ({len(self.reused)} file(s) unchanged since the previous "
                             "version: their rows were reused, not read again)")
            lines += [f"  note: {one_line(note, 1000)}" for note in self.notes]
        return "\n".join(lines) + "\n"


def _unidentified(row: dict) -> bool:
    return (row.get("publisher_name") in ("", UNKNOWN_PUBLISHER)
            or row.get("publisher_basis") == "unknown")


def loaded_row(led: Ledger, rel: str, is_synthetic: bool) -> dict:
    """The loader's part of a loaded file's ledger row (the dataset part comes later)."""
    skipped = led.skipped
    return {
        "source_file": rel, "source_sha256": led.source_sha256, "status": "loaded",
        "is_synthetic": is_synthetic,
        "format": led.format, "file_kind": led.file_kind, "encoding": led.encoding,
        "delimiter": led.delimiter, "parse_path": led.parse_path,
        "publisher_name": led.publisher_name, "publisher_code": led.publisher_code,
        "publisher_basis": led.publisher_basis, "vat_basis": led.vat_basis,
        "threshold_gbp": str(led.threshold_gbp or ""), "header_line": led.header_line or 0,
        "sheets": "|".join(led.sheets), "rows_read": led.rows_read, "rows_kept": led.rows_kept,
        "rows_rejected": led.rows_rejected,
        "rejected_by_reason": json.dumps(led.rejected_by_reason, sort_keys=True),
        "blank_rows_skipped": led.blank_rows_skipped,
        "preamble_rows_skipped": led.preamble_rows_skipped,
        "kept_total_gbp": str(led.kept_total_gbp),
        "date_format": led.date_format,
        "column_mapping": json.dumps(led.column_mapping, ensure_ascii=False),
        "decisions": json.dumps(led.decisions, ensure_ascii=False,
                                sort_keys=True, default=str),
        "skipped": json.dumps(skipped, ensure_ascii=False, sort_keys=True, default=str),
        "warnings": " | ".join(led.warnings), "error": "",
    }


def unread_row(rel: str, status: str, error: str, sha: str = "",
               is_synthetic: bool = False) -> dict:
    """Ledger row of a file that failed or was skipped."""
    return {"source_file": rel, "source_sha256": sha, "status": status,
            "is_synthetic": is_synthetic, "error": one_line(error)}


def ledger_table(rows: list[dict]) -> pa.Table:
    """The ledger table (LEDGER_FIELDS order and types) from one dict per file."""
    full = [{c: row.get(c, _DEFAULTS[c]) if row.get(c) is not None else _DEFAULTS[c]
             for c in LEDGER_COLUMNS} for row in rows]
    return pa.Table.from_pylist(full, schema=ledger_schema())


def write_ledger(table: pa.Table, folder: Path, parquet_options: dict) -> None:
    """ledger.parquet, and ledger.csv for spreadsheets (BOM, numbers, formulas neutralised)."""
    pq.write_table(table, folder / LEDGER_PARQUET, **parquet_options)
    df = table.to_pandas()
    for col in _MONEY:
        df[col] = [Decimal(v) if v else None for v in df[col]]
    neutralise_formulas(df).to_csv(folder / LEDGER_CSV, index=False, lineterminator="\n",
                                   encoding="utf-8-sig")


def summary_from_rows(rows: list[dict], outcomes: list[FileOutcome], version: Path,
                      raw: Path | None = None) -> IngestSummary:
    """Totals of a ledger: rows in the dataset, rejected (duplicates included), pence."""
    kept = sum(int(r.get("dataset_rows") or 0) for r in rows)
    dups = sum(int(r.get("duplicate_rows") or 0) for r in rows)
    rejected = sum(int(r.get("rows_rejected") or 0) for r in rows) + dups
    total = sum(int(Decimal(r.get("dataset_total_gbp") or "0").scaleb(2)) for r in rows)
    return IngestSummary(version, version, outcomes, kept, rejected, dups, total, raw_dir=raw)


def summary_of_version(version: Path, raw: Path | None = None) -> IngestSummary:
    """The summary of a published version, from its ledger (nothing is read again)."""
    rows = pq.read_table(version / LEDGER_PARQUET).to_pylist()
    outcomes = [FileOutcome(r["source_file"], r["status"], r, r["error"]) for r in rows]
    return summary_from_rows(rows, outcomes, version, raw)
