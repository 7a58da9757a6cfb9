"""Ingest classifies every row as `enrich(load(path).transactions)` does (issue 21).

The classifier reads more than the canonical columns: the publisher's name (its own units,
such as 'SCC Communities' paid by Surrey, are not the IT reseller SCC) and the row's other
published text (a cost-centre description loaded as an extra column). Ingest must pass both,
so a file classifies the same whether it is ingested or loaded and enriched on its own; rows
that corpus evidence re-decides are compared with the stored evidence applied to the
one-off enrichment.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from ingest_helpers import SAMPLE

from conftest import real_raw_files
from spendkit.datasets import latest_dir
from spendkit.enrich import enrich
from spendkit.enrich.corpus import apply_corpus_evidence
from spendkit.ingest import ingest
from spendkit.ingest.evidence import EVIDENCE_FILE
from spendkit.loader import load

KEYS = ["source_file", "source_sheet", "source_line"]
VERDICT = ["supplier_key", "is_it", "it_category", "it_basis", "it_confidence",
           "underlying_vendor"]


def ingested_against_one_off(raw: Path, out: Path) -> tuple[int, int, int]:
    """Ingest `raw`, then compare every kept row's verdict with load + enrich (+ the stored
    corpus evidence) of its file; return (rows compared, IT rows, corpus rows)."""
    summary = ingest(raw, out, progress=False)
    assert not summary.failed
    version = latest_dir(out)
    got = pq.read_table(version / "transactions", columns=KEYS + VERDICT).to_pandas()
    evidence = pq.read_table(version / EVIDENCE_FILE).to_pandas()
    ledger = pq.read_table(version / "ledger.parquet").to_pandas()
    expected = []
    for rel in ledger.loc[ledger["status"] == "loaded", "source_file"]:
        tx = load(raw / rel, source_name=rel).transactions
        expected.append(apply_corpus_evidence(enrich(tx), evidence)[KEYS + VERDICT])
    want = pd.concat(expected, ignore_index=True)
    for frame in (got, want):
        frame["source_sheet"] = frame["source_sheet"].fillna("").astype(str)
        frame["source_file"] = frame["source_file"].astype(str)
        frame["source_line"] = frame["source_line"].astype("int64")
    both = got.merge(want, on=KEYS, how="left", suffixes=("", "_one_off"), indicator=True)
    assert (both["_merge"] == "both").all(), "ingested rows missing from their file's load"
    assert len(both) == len(got)
    for col in VERDICT:
        a = both[col].astype(object).where(both[col].notna(), "").astype(str)
        b = both[col + "_one_off"].astype(object).where(both[col + "_one_off"].notna(),
                                                           "").astype(str)
        differ = both.loc[a != b, KEYS + [col, col + "_one_off"]]
        assert differ.empty, f"{col} differs on {len(differ)} rows:\n{differ.head(10)}"
    corpus = int(got["it_basis"].astype(str).str.contains("corpus").sum())
    return len(got), int(got["is_it"].sum()), corpus


def test_sample_ingest_classifies_like_load_and_enrich(tmp_path: Path) -> None:
    rows, it_rows, corpus = ingested_against_one_off(SAMPLE, tmp_path / "out")
    assert rows > 10_000 and it_rows > 100
    assert corpus == 0  # one publisher per council: no supplier has evidence in several


@pytest.mark.realdata
def test_real_files_ingest_classifies_like_load_and_enrich(realdata_dir: Path,
                                                           realdata_series_dir: Path,
                                                           tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    for folder, name in ((realdata_dir, "breadth"), (realdata_series_dir, "series")):
        for f in real_raw_files(folder):
            dest = raw / name / f.relative_to(folder)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, dest)
    rows, it_rows, _corpus = ingested_against_one_off(raw, tmp_path / "out")
    assert rows > 50_000 and it_rows > 500
