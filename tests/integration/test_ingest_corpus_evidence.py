"""Corpus evidence in the ingest (issue 21): a supplier that is IT on strong evidence in
several publishers' files carries it to a publisher whose file lacks it, stored with its
support and named in `it_basis`; the known traps never gain it; and the output is the same
bytes whatever the history (fresh, incremental, forced), partitions the evidence leaves alone
being linked from the previous version.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
from ingest_helpers import spend_csv, tree_digest

from spendkit.datasets import latest_dir
from spendkit.ingest import ingest
from spendkit.ingest.evidence import EVIDENCE_FILE

TRAPS = ("Phoenix Futures", "Oracle Care Ltd", "Northgate Vehicle Hire")


def corpus(raw: Path) -> dict[str, Path]:
    """Three councils: Zeta Digital (and the traps) on IT expense labels in two of them, on
    a label that says nothing in the third."""
    def it_rows(month: int, label: str, salt: int) -> list[tuple[str, str, str, str]]:
        rows = [(f"0{1 + i}/{month:02d}/2023", "Zeta Digital Ltd", f"{1200 + salt + i}.00",
                 label) for i in range(3)]
        rows += [(f"1{i}/{month:02d}/2023", name, f"{900 + salt + i}.00", label)
                 for i, name in enumerate(TRAPS)]
        return rows + [(f"20/{month:02d}/2023", "Paper Mill Ltd", f"{600 + salt}.00",
                        "Stationery")]

    silent = [("02/06/2023", "ZETA DIGITAL LIMITED", "4500.00", "Other Costs"),
              ("03/06/2023", "Zeta Digital Ltd", "730.00", "Other Costs")]
    silent += [(f"1{i}/06/2023", name, f"{800 + i}.00", "Other Costs")
               for i, name in enumerate(TRAPS)]
    silent += [("21/06/2023", "Paper Mill Ltd", "640.00", "Other Costs")]
    return {
        "hyndburn/2023-04.csv": spend_csv(raw / "hyndburn/2023-04.csv",
                                          it_rows(4, "ICT Software", 0)),
        "oxford/2023-05.csv": spend_csv(raw / "oxford/2023-05.csv",
                                        it_rows(5, "Computer Hardware", 10),
                                        "Oxford City Council"),
        "leeds/2023-06.csv": spend_csv(raw / "leeds/2023-06.csv", silent,
                                       "Leeds City Council"),
        "leeds/2022-06.csv": spend_csv(raw / "leeds/2022-06.csv",
                                       [("05/06/2022", "Paper Mill Ltd", "610.00",
                                         "Stationery")], "Leeds City Council"),
    }


def _rows(out: Path, publisher: str) -> list[dict]:
    table = pq.read_table(latest_dir(out) / "transactions",
                          columns=["publisher_name", "supplier_name", "is_it", "it_basis",
                                   "it_category", "source_line"]).to_pylist()
    return sorted((r for r in table if r["publisher_name"] == publisher),
                  key=lambda r: r["source_line"])


def test_evidence_carries_to_the_silent_publisher_and_traps_never_gain_it(
        tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    corpus(raw)
    out = tmp_path / "out"
    ingest(raw, out, progress=False)

    evidence = pq.read_table(latest_dir(out) / EVIDENCE_FILE).to_pylist()
    assert [e["supplier_key"] for e in evidence] == ["ZETA DIGITAL"]
    zeta = evidence[0]
    assert (zeta["publishers_it"], zeta["rows_it"], zeta["rows_not_it"]) == (2, 6, 0)
    assert "2 publishers" in zeta["support"] and "6 payments" in zeta["support"]

    leeds = {r["supplier_name"] + r["it_basis"]: r for r in _rows(out, "Leeds City Council")}
    got = {(r["supplier_name"], r["is_it"], r["it_basis"]) for r in leeds.values()}
    assert ("ZETA DIGITAL LIMITED", True, "corpus") in got
    assert ("Zeta Digital Ltd", True, "corpus") in got
    for row in leeds.values():
        if row["supplier_name"] in (*TRAPS, "Paper Mill Ltd"):
            assert not row["is_it"], row
            assert "corpus" not in row["it_basis"], row
    # The publishers with evidence of their own keep their own basis.
    assert all("corpus" not in r["it_basis"]
               for r in _rows(out, "Oxford City Council") if r["is_it"])


def test_the_same_bytes_whatever_the_history(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    files = corpus(raw)
    fresh = tmp_path / "fresh"
    ingest(raw, fresh, progress=False)
    expected = tree_digest(latest_dir(fresh))
    assert EVIDENCE_FILE in expected

    # Oxford's file arrives last: before it, Zeta Digital is IT in one publisher only (no
    # evidence); its arrival must re-decide Leeds's rows, which were reused.
    away = tmp_path / "away.csv"
    os.replace(files["oxford/2023-05.csv"], away)
    out = tmp_path / "incremental"
    ingest(raw, out, progress=False)
    assert not any(r["is_it"] for r in _rows(out, "Leeds City Council"))
    before = latest_dir(out)
    os.replace(away, files["oxford/2023-05.csv"])
    second = ingest(raw, out, progress=False)
    assert [f.path for f in second.files if f.status == "loaded"] == ["oxford/2023-05.csv"]
    assert tree_digest(latest_dir(out)) == expected
    after = latest_dir(out)
    linked = {p.relative_to(after).as_posix()
              for p in (after / "transactions").rglob("*.parquet")
              if (before / p.relative_to(after)).exists()
              and os.path.samefile(p, before / p.relative_to(after))}
    # Leeds 2023-24 (re-decided) and Oxford (new) written; Leeds 2022-23 and Hyndburn linked.
    assert linked == {
        "transactions/publisher=leeds-city-council/financial_year=2022-23/part-0.parquet",
        "transactions/publisher=hyndburn-borough-council/financial_year=2023-24/"
        "part-0.parquet"}

    ingest(raw, out, progress=False, force=True)
    assert tree_digest(latest_dir(out)) == expected

    # The evidence taken away again (Oxford removed) and put back: the same bytes each time.
    os.replace(files["oxford/2023-05.csv"], away)
    ingest(raw, out, progress=False)
    assert not any(r["is_it"] for r in _rows(out, "Leeds City Council"))
    no_oxford = tmp_path / "no-oxford"
    shutil.copytree(raw, tmp_path / "raw-no-oxford")
    ingest(tmp_path / "raw-no-oxford", no_oxford, progress=False)
    assert tree_digest(latest_dir(out)) == tree_digest(latest_dir(no_oxford))
    os.replace(away, files["oxford/2023-05.csv"])
    ingest(raw, out, progress=False)
    assert tree_digest(latest_dir(out)) == expected


def test_the_same_bytes_when_every_file_is_a_batch_and_every_segment_spilled(
        tmp_path: Path, monkeypatch) -> None:
    import spendkit.ingest.batches as batches_mod
    import spendkit.ingest.write as write_mod

    raw = tmp_path / "raw"
    corpus(raw)
    ingest(raw, tmp_path / "plain", progress=False)
    expected = tree_digest(latest_dir(tmp_path / "plain"))
    monkeypatch.setattr(batches_mod, "BATCH_ROWS", 1)
    monkeypatch.setattr(write_mod, "SPILL_BYTES", 1)
    ingest(raw, tmp_path / "spilled", progress=False)
    assert tree_digest(latest_dir(tmp_path / "spilled")) == expected
    assert any(r["it_basis"] == "corpus"
               for r in _rows(tmp_path / "spilled", "Leeds City Council"))
