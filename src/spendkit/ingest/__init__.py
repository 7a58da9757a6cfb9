"""A folder of raw files → a partitioned Parquet dataset, a rejects table and a ledger.

Layout written under the processed folder (default `data/processed/`, or the sample's own
`data/sample/processed/` while the bundled SYNTHETIC sample stands in for `data/raw`):

    latest -> .versions/v-<key>-<n>     (a symlink, switched atomically at the end)
    .versions/v-<key>-<n>/
        transactions/publisher=<slug>/financial_year=<2021-22>/part-<k>.parquet
                             one file per publisher × financial year (a few when its files
                             lie far apart in the raw folder), rows in path order
        extras/publisher=<slug>/financial_year=<2021-22>/part-<k>.parquet
                             the same rows' published columns outside the canonical schema
        rejects.parquet      every row not kept: file, sheet, line, reason, detail, raw
        supplier_evidence.parquet
                             corpus evidence: suppliers IT on strong evidence in several
                             publishers' files, with its support (rows re-decided with it
                             say 'corpus' in it_basis)
        ledger.parquet       one row per raw file (ledger.csv too, for spreadsheets)
        summary.txt          a short human-readable account
        MANIFEST.json        every file's size; each partition's rows, pence and sources

Readers use `latest/` (see `spendkit.datasets`). The modules, one job each:

- `run`: `ingest()`, the steps in order;
- `sources`: which raw files are read, skipped (symlinks out of the folder) or SYNTHETIC;
- `batches`: loading in worker threads, reusing unchanged files, a batch's rows cut into
  segments (and `CORPUS_PASS`, the one place for a pass over the whole corpus);
- `evidence`: the corpus pass run by default, supplier evidence carried across publishers;
- `dedupe`: duplicate publications (the same payment in two files) counted once;
- `write`: Parquet parts per publisher × financial year, extras and rejects;
- `ledger`: the ledger table (`spendkit.schema.LEDGER_FIELDS`) and summary.txt;
- `versions`: manifests, verification of `latest`, and crash-safe publishing;
- `lock`: one ingest at a time per processed folder.

Re-running on unchanged input finds the latest version built from the same inputs and does
nothing. Otherwise a new version is built: files unchanged since the previous version are not
read again, and parts whose rows did not change are linked, not rewritten. What is written
depends only on the inputs: fresh, incremental and forced builds give the same bytes.
"""

from pathlib import Path

from spendkit.ingest.batches import CorpusPass
from spendkit.ingest.ledger import FileOutcome, IngestSummary
from spendkit.ingest.run import ingest
from spendkit.ingest.sources import scan
from spendkit.ingest.stages import STAGE_SECONDS
from spendkit.ingest.write import DATASET_SCHEMA, OPTIONAL_FIELDS, slug


def raw_files(raw_dir: Path | str) -> list[Path]:
    """Every file the ingest reads under raw_dir, in path order."""
    return [f.path for f in scan(Path(raw_dir)).files]


__all__ = ["DATASET_SCHEMA", "OPTIONAL_FIELDS", "STAGE_SECONDS", "CorpusPass", "FileOutcome",
           "IngestSummary", "ingest", "raw_files", "slug"]
