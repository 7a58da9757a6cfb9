"""The ingest's corpus pass: supplier evidence gathered across every publisher (issue 21).

A supplier that is IT on strong evidence (an informative expense type, a named product) in
several publishers' files carries that evidence to publishers whose files lack it
(`spendkit.enrich.corpus`). The evidence depends on the whole dataset, so it is computed from
every row of every build, whatever was reused: `observe` counts each enriched batch, `finish`
turns the counts into the evidence table (stored with its support as EVIDENCE_FILE in the
version folder), and `apply` re-decides a partition's rows with it as they are written. A
partition whose rows come out exactly as in the previous version is linked, not rewritten
(`write.PartitionStore`).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from spendkit.enrich.corpus import EVIDENCE_TABLE_COLUMNS, CorpusEvidence, apply_corpus_evidence
from spendkit.errors import BuildError

#: The evidence table in a version folder (one row per supplier key, with its support).
EVIDENCE_FILE = "supplier_evidence.parquet"
EVIDENCE_SCHEMA = pa.schema([
    ("supplier_key", pa.string()), ("it_category", pa.string()),
    ("publishers_it", pa.int64()), ("rows_it", pa.int64()), ("rows_not_it", pa.int64()),
    ("it_share", pa.float64()), ("support", pa.string())])
assert tuple(EVIDENCE_SCHEMA.names) == EVIDENCE_TABLE_COLUMNS


class SupplierEvidencePass:
    """`batches.CorpusPass` that carries strong supplier evidence across publishers."""

    def __init__(self) -> None:
        self._corpus = CorpusEvidence()
        self._evidence: pd.DataFrame | None = None
        self._lock = threading.Lock()

    def observe(self, data: pa.Table) -> None:
        """Count a batch's strong evidence per supplier key and publisher."""
        if self._evidence is not None:
            raise BuildError("corpus pass: a batch arrived after the evidence was computed")
        self._corpus.add(data)

    def finish(self) -> pd.DataFrame:
        """The evidence table, once every batch has been observed."""
        with self._lock:
            if self._evidence is None:
                self._evidence = self._corpus.finish()
            return self._evidence

    def apply(self, partition: pa.Table, other_text: pa.ChunkedArray) -> pa.Table:
        """A partition's rows with the evidence weighed in (same rows, same columns)."""
        evidence = self.finish()
        if not len(evidence):
            return partition
        with_text = partition.append_column("other_text", other_text)
        out = apply_corpus_evidence(with_text, evidence)
        return out.drop_columns(["other_text"]) if out is not with_text else partition

    def write(self, folder: Path) -> Path:
        """Store the evidence table in a build folder (sorted by key: the same bytes for the
        same inputs)."""
        table = pa.Table.from_pandas(self.finish(), schema=EVIDENCE_SCHEMA,
                                     preserve_index=False).replace_schema_metadata(None)
        dest = folder / EVIDENCE_FILE
        pq.write_table(table, dest, compression="zstd")
        return dest


__all__ = ["EVIDENCE_FILE", "EVIDENCE_SCHEMA", "SupplierEvidencePass"]
