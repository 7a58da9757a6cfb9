"""Ingest output does not depend on how files are batched or how many workers load them."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

import spendkit.ingest.batches as batches_mod
import spendkit.ingest.write as write_mod
from spendkit.datasets import latest_dir, read_ledger
from spendkit.ingest import ingest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "raw"


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("batches") / "raw"
    shutil.copytree(SAMPLE / "hyndburn-borough-council", dest / "hyndburn-borough-council")
    # A republished month: every row of the copy is a duplicate publication of the original.
    first = sorted((dest / "hyndburn-borough-council").glob("*.csv"))[0]
    shutil.copy(first, dest / "hyndburn-borough-council" / f"zz-republished-{first.name}")
    return dest


def test_batch_size_workers_and_spilling_do_not_change_the_output(
        raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(raw, tmp_path / "whole", progress=False, jobs=1)
    monkeypatch.setattr(batches_mod, "BATCH_ROWS", 1)  # every file a batch of its own
    monkeypatch.setattr(write_mod, "SPILL_BYTES", 1)  # every file's segments spilled to disk
    ingest(raw, tmp_path / "one_by_one", progress=False, jobs=2)
    whole = _digest(latest_dir(tmp_path / "whole"))
    assert whole == _digest(latest_dir(tmp_path / "one_by_one"))
    ledger = read_ledger(tmp_path / "whole").set_index("source_file")
    copy = ledger.filter(like="zz-republished", axis=0).iloc[0]
    assert copy["duplicate_rows"] == copy["rows_kept"] > 0
    assert copy["dataset_rows"] == 0 and copy["parts"] == "[]"
    # One Parquet file per publisher and financial year, not one per raw file.
    parts = sorted((latest_dir(tmp_path / "whole") / "transactions").rglob("*.parquet"))
    assert [p.parent.name for p in parts] == [f"financial_year={y}" for y in
                                              ("2021-22", "2022-23", "2023-24", "2024-25",
                                               "2025-26")]
