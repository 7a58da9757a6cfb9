"""End to end: a folder of raw files → the processed dataset, as `spendkit ingest` writes it."""

from __future__ import annotations

import hashlib
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

import spendkit.ingest as ingest_mod
import spendkit.ingest.write as write_mod
from spendkit.cli import main
from spendkit.datasets import latest_dir, read_ledger, read_rejects, read_transactions
from spendkit.ingest import ingest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "raw"
COUNCILS = ("hyndburn-borough-council", "trafford-council")


def _copy_sample(dest: Path, councils: tuple[str, ...] = COUNCILS) -> Path:
    for c in councils:
        shutil.copytree(SAMPLE / c, dest / c)
    return dest


def _tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("ingest")
    raw = _copy_sample(base / "raw")
    out = base / "processed"
    ingest(raw, out, progress=False)
    return raw, out


def test_every_file_loaded_and_totals_reconcile(sample_run: tuple[Path, Path]) -> None:
    raw, out = sample_run
    ledger = read_ledger(out)
    assert len(ledger) == len(ingest_mod.raw_files(raw))
    assert set(ledger["status"]) == {"loaded"}
    assert (ledger["rows_read"] == ledger["rows_kept"] + ledger["rows_rejected"]).all()
    tx = read_transactions(out)
    assert len(tx) == ledger["dataset_rows"].sum()
    ledger_total = sum(Decimal(v) for v in ledger["dataset_total_gbp"])
    assert tx["amount_gbp"].sum() == ledger_total
    # Each file's rows in the dataset add up to its ledger line, to the penny.
    # (source_sha256 identifies the raw file; a ZIP's rows name their member in source_file.)
    per_file = tx.groupby("source_sha256")["amount_gbp"].sum()
    for row in ledger.itertuples():
        assert per_file.get(row.source_sha256, Decimal(0)) == Decimal(row.dataset_total_gbp)


def test_manifest_totals_of_the_synthetic_sample(sample_run: tuple[Path, Path]) -> None:
    _raw, out = sample_run
    manifest = pd.read_csv(SAMPLE / "SYNTHETIC-manifest.csv", dtype=str)
    manifest = manifest[manifest["path"].str.startswith(COUNCILS)]
    ledger = read_ledger(out).set_index("source_file")
    for m in manifest.itertuples():
        assert ledger.loc[m.path, "rows_kept"] == int(m.rows), m.path
        assert Decimal(ledger.loc[m.path, "kept_total_gbp"]) == Decimal(m.total_gbp), m.path


def test_partitions_are_plain_hive_parquet(sample_run: tuple[Path, Path]) -> None:
    _raw, out = sample_run
    folder = latest_dir(out) / "transactions"
    parts = sorted(folder.glob("publisher=*/financial_year=*/*.parquet"))
    assert parts and {p.parent.name for p in parts} >= {"financial_year=2021-22",
                                                        "financial_year=2025-26"}
    via_pandas = pd.read_parquet(folder)
    rel = duckdb.sql(
        f"select count(*) n, sum(amount_gbp) total, count(distinct financial_year) n_years "
        f"from read_parquet('{folder}/**/*.parquet', hive_partitioning=true)").fetchall()[0]
    assert rel[0] == len(via_pandas)
    assert Decimal(str(rel[1])) == via_pandas["amount_gbp"].sum()
    assert rel[2] == 5
    one = pq.read_table(parts[0])
    assert one.schema.field("amount_gbp").type == ingest_mod.DATASET_SCHEMA.field(
        "amount_gbp").type


def test_financial_year_partition_matches_dates(sample_run: tuple[Path, Path]) -> None:
    tx = read_transactions(sample_run[1], columns=["payment_date", "financial_year"])
    start = tx["payment_date"].dt.year - (tx["payment_date"].dt.month < 4)
    expected = start.astype(str) + "-" + (start + 1).astype(str).str[2:]
    assert (tx["financial_year"].astype(str) == expected).all()


def test_rerun_is_a_no_op_and_force_is_byte_identical(sample_run: tuple[Path, Path]) -> None:
    raw, out = sample_run
    before = _tree_digest(latest_dir(out))
    again = ingest(raw, out, progress=False)
    assert again.up_to_date
    assert _tree_digest(latest_dir(out)) == before
    forced = ingest(raw, out, force=True, progress=False)
    assert not forced.up_to_date
    assert _tree_digest(latest_dir(out)) == before


def test_new_file_reuses_the_rest_and_duplicates_are_not_counted(tmp_path: Path) -> None:
    raw = _copy_sample(tmp_path / "raw", ("hyndburn-borough-council",))
    out = tmp_path / "out"
    first = ingest(raw, out, progress=False)
    # The same month published again under another name (an 'annual' re-issue).
    src = sorted((raw / "hyndburn-borough-council").glob("*.csv"))[3]
    (raw / "hyndburn-borough-council" / "zz-reissue").mkdir()
    shutil.copy(src, raw / "hyndburn-borough-council" / "zz-reissue" / src.name)
    second = ingest(raw, out, progress=False)
    statuses = {f.path: f.status for f in second.files}
    assert list(statuses.values()).count("loaded") == 1
    assert second.kept_total_gbp == first.kept_total_gbp
    dup_rows = read_ledger(out).set_index("source_file").loc[
        f"hyndburn-borough-council/zz-reissue/{src.name}"]
    assert dup_rows["duplicate_rows"] == dup_rows["rows_kept"] > 0
    rejects = read_rejects(out)
    assert (rejects["reason"] == "duplicate_publication").sum() == dup_rows["duplicate_rows"]


def test_unreadable_files_are_reported_and_the_rest_completes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = _copy_sample(tmp_path / "raw", ("hyndburn-borough-council",))
    (raw / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    (raw / "page.csv").write_text("<!DOCTYPE html><html><body>404</body></html>")
    out = tmp_path / "out"
    code = main(["ingest", str(raw), "--out", str(out), "--quiet", "--allow-sample-mix"])
    assert code == 1
    captured = capsys.readouterr()
    assert "FAILED broken.xlsx" in captured.out and "FAILED page.csv" in captured.out
    ledger = read_ledger(out)
    assert set(ledger.loc[ledger["status"] == "failed", "source_file"]) == {"broken.xlsx",
                                                                            "page.csv"}
    assert (ledger["status"] == "loaded").sum() == len(ledger) - 2
    assert len(read_transactions(out)) > 0


def test_interrupted_run_leaves_previous_dataset_intact(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    raw = _copy_sample(tmp_path / "raw", ("hyndburn-borough-council",))
    out = tmp_path / "out"
    ingest(raw, out, progress=False)
    before_dir = latest_dir(out)
    before = _tree_digest(before_dir)
    shutil.copytree(SAMPLE / "oxford-city-council", raw / "oxford-city-council")
    calls = {"n": 0}
    real = write_mod._write_part

    def crash_on_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(write_mod, "_write_part", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        ingest(raw, out, force=True, progress=False)
    assert latest_dir(out) == before_dir
    assert _tree_digest(before_dir) == before
    assert not list((out / ".versions").glob(".staging-*"))
    assert len(read_transactions(out)) > 0


@pytest.mark.realdata
def test_ingest_of_the_real_files(realdata_dir: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(realdata_dir, raw, ignore=shutil.ignore_patterns("_reference", "*.md"))
    out = tmp_path / "out"
    summary = ingest(raw, out, progress=False)
    assert not summary.failed
    ledger = read_ledger(out).set_index("source_file")
    assert (ledger["rows_read"] == ledger["rows_kept"] + ledger["rows_rejected"]).all()
    tx = read_transactions(out, columns=["amount_gbp", "source_file"])
    assert tx["amount_gbp"].sum() == summary.kept_total_gbp
    assert len(tx) == summary.rows_kept
    # Bradford's two ODI files hold the same payments: the second is a duplicate publication.
    b = ledger.loc["city-of-bradford-mdc/processed/2019-11_processed.csv"]
    assert b["duplicate_rows"] == b["rows_kept"] == 9656
    # The summaries of Lambeth are reported as such, not loaded.
    assert ledger.loc["lambeth-council/2011-06-payments.csv", "file_kind"] == "supplier_summary"
