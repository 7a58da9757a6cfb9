"""The SYNTHETIC national dataset, and the notebook-02 chain on it never reading it whole."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spendkit import datasets as D
from spendkit.datasets import synthetic
from spendkit.errors import InputError
from spendkit.ingest import DATASET_SCHEMA, ingest
from spendkit.models.trends import aggregates as A

ROOT = Path(__file__).resolve().parents[2]
ROWS, COUNCILS = 40_000, 20


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("national")
    summary = synthetic.write_national_dataset(out, ROWS, councils=COUNCILS, workers=1)
    assert summary.rows == ROWS and summary.councils == COUNCILS
    return out


def test_the_frame_is_every_english_council() -> None:
    councils = synthetic.national_councils()
    assert len(councils) == 317
    assert len({c["gss_code"] for c in councils}) == 317
    assert {c["tier"] for c in councils} == {"single", "upper", "lower"}
    kent = next(c for c in councils if c["gss_code"] == "E10000016")
    assert kent["name"] == "Kent County Council" and kent["population"] > 1_500_000


def test_written_like_an_ingest(national: Path, tmp_path: Path) -> None:
    table = D.transactions_dataset(national).to_table()
    assert table.num_rows == ROWS
    own = pa.schema([f for f in table.schema if f.name not in D.PARTITIONS])
    assert own.equals(DATASET_SCHEMA)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "one.csv").write_text("Date,Supplier,Amount\n01/04/2024,Acme,10.00\n",
                                 encoding="utf-8")
    ingest(raw, tmp_path / "out", progress=False)
    real_ledger = pq.read_schema(D.latest_dir(tmp_path / "out") / "ledger.parquet")
    assert pq.read_schema(D.latest_dir(national) / "ledger.parquet").remove_metadata().equals(
        real_ledger.remove_metadata())
    assert (D.latest_dir(national) / "SYNTHETIC.md").read_text().startswith("SYNTHETIC")
    assert all(f.startswith("SYNTHETIC-") for f in D.read_ledger(national)["source_file"])


def test_rows_follow_population_and_the_ledger_balances(national: Path) -> None:
    councils = synthetic.national_councils()[:COUNCILS]
    months = A.month_totals(D.transactions_relation(national))
    rows = months.groupby("publisher_code")["n_payments"].sum()
    population = np.array([c["population"] for c in councils], np.float64)
    expected = synthetic._shares(ROWS, population)
    assert [int(rows[c["gss_code"]]) for c in councils] == expected.tolist()
    ledger = D.read_ledger(national)
    assert sum(Decimal(v) for v in ledger["dataset_total_gbp"]) == months["amount_gbp"].sum()
    assert int(ledger["dataset_rows"].sum()) == ROWS
    it_share = months["it_payments"].sum() / ROWS
    assert 0.015 < it_share < 0.035


def test_seeded(tmp_path: Path) -> None:
    a = synthetic.write_national_dataset(tmp_path / "a", 2_000, councils=3, workers=1)
    b = synthetic.write_national_dataset(tmp_path / "b", 2_000, councils=3, workers=2)
    assert a.total_pence == b.total_pence
    assert D.read_transactions(tmp_path / "a").equals(D.read_transactions(tmp_path / "b"))
    with pytest.raises(InputError, match="already exists"):
        synthetic.write_national_dataset(tmp_path / "a", 2_000, councils=3, workers=1)


def _benchmark():
    spec = importlib.util.spec_from_file_location("analysis_benchmark",
                                                  ROOT / "benchmarks" / "analysis.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebook_02_chain_reads_only_the_focus_councils_rows(
        national: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every payment row that reaches pandas is the focus council's; DuckDB holds the rest in
    a memory cap far below the data (every other frame is an aggregate)."""
    monkeypatch.setenv("SPENDKIT_DUCKDB_MEMORY", "48MB")
    frames: list[tuple[str, int]] = []
    real_read, real_fetch, real_to_pandas = (D.read_transactions, D._fetch, A._to_pandas)

    def read(*args, **kwargs):
        out = real_read(*args, **kwargs)
        frames.append((f"read_transactions {kwargs.get('publishers')}", len(out)))
        return out

    def fetch(relation):
        out = real_fetch(relation)
        frames.append(("query", len(out)))
        return out

    def to_pandas(table):
        frames.append(("aggregate", table.num_rows))
        return real_to_pandas(table)

    monkeypatch.setattr(D, "read_transactions", read)
    monkeypatch.setattr(D, "_fetch", fetch)
    monkeypatch.setattr(A, "_to_pandas", to_pandas)
    bench = _benchmark()
    council = "Blackburn with Darwen Borough Council"
    councils = [c["name"] for c in synthetic.national_councils()[:COUNCILS]]
    if council not in councils:
        council = councils[-1]
    result = bench.notebook_02(national, council)
    assert result["rows"] == ROWS
    reads = [(what, n) for what, n in frames if what.startswith("read_transactions")]
    assert reads and all("None" not in what for what, _ in reads)
    assert max(n for _, n in reads) == result["council_rows"] < ROWS / 10
    aggregates = [n for what, n in frames if not what.startswith("read_transactions")]
    # Council-months x files at most: a small fraction of the rows.
    assert max(aggregates) < ROWS / 5
