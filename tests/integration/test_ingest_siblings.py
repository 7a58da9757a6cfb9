"""An ambiguous loose file takes the one publisher of the identified files beside it.

Hand-written files modelled on Hyndburn's: a column headed 'HBC ref no' ('HBC' could be six
borough councils) and nothing else naming the council, except in some files' names.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from spendkit.datasets import read_ledger, read_transactions
from spendkit.errors import InputError
from spendkit.ingest import ingest
from spendkit.reference.councils import UNKNOWN
from spendkit.report.pipeline import choose_parameters, data_provenance

HYNDBURN = "Hyndburn Borough Council"
HEADER = "Payment date,Name,Net Amount,HBC ref no\n"


def _write(folder: Path, name: str, month: int, header: str = HEADER) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(header + f"03/{month:02d}/2024,Acme Ltd,1200.00,1\n"
                               f"14/{month:02d}/2024,Bytes Software,800.00,2\n",
                               encoding="utf-8")


def _publishers(processed: Path) -> dict[str, str]:
    ledger = read_ledger(processed)
    return dict(zip(ledger["source_file"], ledger["publisher_name"], strict=True))


def test_ambiguous_file_takes_its_folders_publisher(tmp_path: Path):
    raw = tmp_path / "raw"
    _write(raw, "hyndburn-2024-04.csv", 4)
    _write(raw, "hyndburn-2024-05.csv", 5)
    _write(raw, "June-24.csv", 6)
    ingest(raw, tmp_path / "processed", progress=False)
    assert _publishers(tmp_path / "processed") == {
        "June-24.csv": HYNDBURN, "hyndburn-2024-04.csv": HYNDBURN,
        "hyndburn-2024-05.csv": HYNDBURN}
    row = read_ledger(tmp_path / "processed").set_index("source_file").loc["June-24.csv"]
    assert row["publisher_code"] == "E07000120"
    assert row["publisher_basis"].startswith("ambiguous: header cell 'HBC ref no'")
    assert "chosen by folder: every other identified file in its folder (2)" in \
        row["publisher_basis"]
    assert "check it" in row["warnings"] and "not identified" not in row["warnings"]
    assert str(row["threshold_gbp"]) == "250"  # Hyndburn's known threshold follows the choice
    tx = read_transactions(tmp_path / "processed")
    assert set(tx["publisher_name"]) == {HYNDBURN} and len(tx) == 6


def test_same_result_whatever_the_history(tmp_path: Path):
    raw = tmp_path / "raw"
    _write(raw, "hyndburn-2024-04.csv", 4)
    _write(raw, "June-24.csv", 6)
    ingest(raw, tmp_path / "stepwise", progress=False)
    _write(raw, "hyndburn-2024-05.csv", 5)
    ingest(raw, tmp_path / "stepwise", progress=False)  # June-24.csv reused
    ingest(raw, tmp_path / "fresh", progress=False)
    for processed in ("stepwise", "fresh"):
        assert set(_publishers(tmp_path / processed).values()) == {HYNDBURN}
    cols = ["publisher_name", "publisher_code", "source_file", "amount_gbp"]
    assert read_transactions(tmp_path / "stepwise", columns=cols).equals(
        read_transactions(tmp_path / "fresh", columns=cols))
    basis = [read_ledger(tmp_path / p).set_index("source_file").loc["June-24.csv",
                                                                     "publisher_basis"]
             for p in ("stepwise", "fresh")]
    assert basis[0] == basis[1]


def test_no_guess_without_one_fitting_folder_publisher(tmp_path: Path):
    alone = tmp_path / "alone"
    _write(alone, "June-24.csv", 6)
    ingest(alone, tmp_path / "p1", progress=False)
    assert _publishers(tmp_path / "p1") == {"June-24.csv": UNKNOWN}
    # Folder-mates of a publisher 'HBC' cannot stand for: still unidentified, with help.
    leeds = tmp_path / "other"
    _write(leeds, "leeds-2024-04.csv", 4, header="Payment date,Name,Net Amount,Ref\n")
    shutil.copy2(alone / "June-24.csv", leeds / "June-24.csv")
    ingest(leeds, tmp_path / "p2", progress=False)
    got = _publishers(tmp_path / "p2")
    assert got["June-24.csv"] == UNKNOWN and got["leeds-2024-04.csv"] == "Leeds City Council"
    # A file in another folder is no evidence: folders are the analyst's filing.
    split = tmp_path / "split"
    _write(split / "a", "hyndburn-2024-04.csv", 4)
    _write(split / "b", "June-24.csv", 6)
    ingest(split, tmp_path / "p3", progress=False)
    assert _publishers(tmp_path / "p3")["b/June-24.csv"] == UNKNOWN


def test_reports_on_an_unidentified_file_say_what_to_do(tmp_path: Path):
    """With only a file nobody could name, the report stops before any notebook runs, in one
    line saying how to name its publisher."""
    _write(tmp_path / "raw", "June-24.csv", 6)
    ingest(tmp_path / "raw", tmp_path / "processed", progress=False)
    params = choose_parameters({}, [], tmp_path / "processed")
    assert params["council"] == UNKNOWN
    with pytest.raises(InputError, match=r"publisher of these files was not identified\. "
                       r"June-24\.csv: .*could be .*Hyndburn.*Put it in a folder named after"):
        data_provenance(params, tmp_path / "processed")
