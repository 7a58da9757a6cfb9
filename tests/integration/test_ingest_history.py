"""The same inputs give the same bytes whatever the history (issue 22.8, issue 18).

Fresh, incremental (files added, removed, renamed) and forced builds of the same raw folder
write identical versions; an incremental build reads only new files and rewrites only the
partitions they touch; counts and names never come from an earlier run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ingest_helpers import month_rows, small_corpus, spend_csv, tree_digest

import spendkit.ingest.batches as batches_mod
import spendkit.ingest.sources as sources_mod
import spendkit.ingest.write as write_mod
from spendkit.datasets import latest_dir, read_ledger, read_transactions
from spendkit.ingest import ingest


def _fresh(raw: Path, tmp_path: Path, name: str) -> dict[str, str]:
    out = tmp_path / name
    ingest(raw, out, progress=False)
    return tree_digest(latest_dir(out))


def test_fresh_incremental_and_forced_builds_are_byte_identical(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    files = small_corpus(raw)
    expected = _fresh(raw, tmp_path, "fresh")

    # History: the later files first, then the earlier ones added (the canonical supplier
    # spelling of the first file seen changes), then a forced rebuild.
    held = tmp_path / "held"
    for rel in ("hyndburn/2023-03.csv", "hyndburn/2023-04.csv"):
        (held / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(files[rel], held / rel)
    out = tmp_path / "incremental"
    ingest(raw, out, progress=False)
    for rel in ("hyndburn/2023-03.csv", "hyndburn/2023-04.csv"):
        shutil.move(held / rel, files[rel])
    second = ingest(raw, out, progress=False)
    assert sorted(f.status for f in second.files).count("reused") == 3
    assert tree_digest(latest_dir(out)) == expected
    ingest(raw, out, progress=False, force=True)
    assert tree_digest(latest_dir(out)) == expected

    # One spelling per supplier key, whatever the order files arrived in.
    tx = read_transactions(out, columns=["supplier_key", "supplier_canonical"])
    spellings = tx.groupby("supplier_key")["supplier_canonical"].nunique()
    assert (spellings == 1).all(), spellings[spellings > 1]

    # A file removed and put back: the same bytes again.
    os.replace(files["oxford/2023-04.csv"], tmp_path / "away.csv")
    ingest(raw, out, progress=False)
    os.replace(tmp_path / "away.csv", files["oxford/2023-04.csv"])
    ingest(raw, out, progress=False)
    assert tree_digest(latest_dir(out)) == expected


def test_incremental_build_rewrites_only_the_partitions_it_touches(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    small_corpus(raw)
    out = tmp_path / "out"
    ingest(raw, out, progress=False)
    before = latest_dir(out)
    spend_csv(raw / "oxford/2024-05.csv", month_rows(2024, 5, salt=9), "Oxford City Council")
    summary = ingest(raw, out, progress=False)
    after = latest_dir(out)
    assert after != before
    assert [f.path for f in summary.files if f.status == "loaded"] == ["oxford/2024-05.csv"]
    changed = {p.relative_to(after).as_posix() for p in (after / "transactions").rglob("*.parquet")
               if not os.path.samefile(p, before / p.relative_to(after))
               } if (before / "transactions").is_dir() else set()
    # Only Oxford's 2024-25 partition was written again; the others are the same inodes.
    assert changed == {"transactions/publisher=oxford-city-council/financial_year=2024-25/"
                       "part-0.parquet"}
    assert tree_digest(after) == _fresh(raw, tmp_path, "fresh")


def test_an_unchanged_folder_is_not_read_again_but_a_changed_file_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    files = small_corpus(raw)
    out = tmp_path / "out"
    ingest(raw, out, progress=False)
    hashed: list[str] = []
    real = sources_mod._sha256_file
    monkeypatch.setattr(sources_mod, "_sha256_file", lambda p: hashed.append(p.name) or real(p))
    assert ingest(raw, out, progress=False).up_to_date
    assert hashed == []
    # Same size, new content: its times changed, so it is hashed again and rebuilt.
    path = files["oxford/2023-04.csv"]
    path.write_text(path.read_text().replace("100.00", "900.00"))
    again = ingest(raw, out, progress=False)
    assert hashed == ["2023-04.csv"] and not again.up_to_date
    assert tree_digest(latest_dir(out)) == _fresh(raw, tmp_path, "fresh")


def test_a_renamed_file_carries_its_new_name(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    files = small_corpus(raw)
    out = tmp_path / "out"
    ingest(raw, out, progress=False)
    files["oxford/2023-04.csv"].rename(raw / "oxford/april-2023.csv")
    summary = ingest(raw, out, progress=False)
    assert not summary.up_to_date
    ledger = read_ledger(out)
    assert "oxford/april-2023.csv" in set(ledger["source_file"])
    assert "oxford/2023-04.csv" not in set(ledger["source_file"])
    tx = read_transactions(out, columns=["source_file"])
    assert "oxford/2023-04.csv" not in set(tx["source_file"])
    assert (tx["source_file"] == "oxford/april-2023.csv").sum() == 6
    assert tree_digest(latest_dir(out)) == _fresh(raw, tmp_path, "fresh")


def test_duplicate_publications_are_counted_in_every_summary(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    small_corpus(raw)
    shutil.copy(raw / "oxford/2023-04.csv", raw / "oxford/zz-republished-2023-04.csv")
    out = tmp_path / "out"
    first = ingest(raw, out, progress=False)
    assert first.duplicates == 6
    spend_csv(raw / "hyndburn/2024-06.csv", month_rows(2024, 6, salt=5))
    second = ingest(raw, out, progress=False)  # the republication's original is reused
    again = ingest(raw, out, progress=False)
    assert again.up_to_date
    for summary in (second, again):
        assert summary.duplicates == 6
        assert "(of which 6 duplicate publications)" in summary.text()
    assert "(of which 6 duplicate publications)" in (latest_dir(out) / "summary.txt").read_text()


def test_partitions_are_one_file_per_publisher_and_year(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    small_corpus(raw)
    out = tmp_path / "out"
    ingest(raw, out, progress=False)
    parts = sorted(p.relative_to(latest_dir(out)).as_posix()
                   for p in (latest_dir(out) / "transactions").rglob("*.parquet"))
    assert parts == [
        "transactions/publisher=hyndburn-borough-council/financial_year=2022-23/part-0.parquet",
        "transactions/publisher=hyndburn-borough-council/financial_year=2023-24/part-0.parquet",
        "transactions/publisher=oxford-city-council/financial_year=2023-24/part-0.parquet",
        "transactions/publisher=oxford-city-council/financial_year=2024-25/part-0.parquet",
    ]
    # The ledger says where each file's rows are.
    ledger = read_ledger(out).set_index("source_file")
    import json

    where = json.loads(ledger.loc["hyndburn/2023-05.csv", "parts"])
    assert where == [{"offset": 9, "path": parts[1], "rows": 7}]
    table = pq.ParquetFile(latest_dir(out) / parts[1]).read()
    assert set(table.column("source_file").slice(9, 7).to_pylist()) == {"hyndburn/2023-05.csv"}


def test_parts_depend_on_the_rows_only_not_on_batches_or_history(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A partition whose files lie in several places of the raw folder is a few parts, cut
    where it was idle for IDLE_ROWS rows (or reached PART_ROWS): the same cuts whatever the
    batch size, spilling or what earlier runs built."""
    monkeypatch.setattr(write_mod, "IDLE_ROWS", 10)
    monkeypatch.setattr(write_mod, "PART_ROWS", 8)
    raw = tmp_path / "raw"
    small_corpus(raw)
    spend_csv(raw / "hyndburn/zz-annual.csv", month_rows(2023, 2, salt=6))  # 2022-23 again
    spend_csv(raw / "zz-late/oxford.csv", month_rows(2023, 6, salt=7), "Oxford City Council")
    expected = _fresh(raw, tmp_path, "fresh")
    parts = sorted(k for k in expected if k.startswith("transactions/"))
    assert "transactions/publisher=hyndburn-borough-council/financial_year=2022-23/" \
        "part-1.parquet" in parts  # the annual file came after 10+ rows of others
    assert "transactions/publisher=hyndburn-borough-council/financial_year=2023-24/" \
        "part-1.parquet" in parts  # 9 rows, then 7: cut at 8
    monkeypatch.setattr(batches_mod, "BATCH_ROWS", 1)
    monkeypatch.setattr(write_mod, "SPILL_BYTES", 1)
    assert _fresh(raw, tmp_path, "one_by_one") == expected
    out = tmp_path / "incremental"
    late = raw / "zz-late/oxford.csv"
    late.rename(tmp_path / "late.csv")
    ingest(raw, out, progress=False)
    (tmp_path / "late.csv").rename(late)
    ingest(raw, out, progress=False)
    assert tree_digest(latest_dir(out)) == expected
    tx = read_transactions(out)
    assert len(tx) == sum(f.rows_kept for f in [ingest(raw, out, progress=False)])


@pytest.mark.realdata
def test_real_files_in_two_steps_equal_one_fresh_build(realdata_dir: Path,
                                                       realdata_series_dir: Path,
                                                       tmp_path: Path) -> None:
    """The real Hyndburn months (three finance-system layouts) ingested in two steps, the
    later years first, give the bytes of one fresh build."""
    raw = tmp_path / "raw"
    src = sorted(p for p in realdata_series_dir.rglob("*")
                 if p.is_file() and p.suffix.lower() in (".csv", ".xlsx", ".xls"))
    assert len(src) >= 80
    for p in src:
        dest = raw / p.relative_to(realdata_series_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dest)
    expected = _fresh(raw, tmp_path, "fresh")
    later = sorted(raw.rglob("*.*"))[len(src) // 2:]
    held = tmp_path / "held"
    moved = []
    for p in sorted(raw.rglob("*")):
        if p.is_file() and p not in later and p.suffix.lower() != ".md" \
                and p.name != "MANIFEST.csv":
            dest = held / p.relative_to(raw)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(p, dest)
            moved.append(dest)
    out = tmp_path / "two-steps"
    ingest(raw, out, progress=False)
    for dest in moved:
        shutil.move(dest, raw / dest.relative_to(held))
    ingest(raw, out, progress=False)
    assert tree_digest(latest_dir(out)) == expected
