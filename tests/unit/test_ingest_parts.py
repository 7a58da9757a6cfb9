"""The ingest's small parts: raw-folder scan, input keys, ledger rows, extras maps."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from spendkit.ingest import ledger, sources, versions, write
from spendkit.loader import Ledger
from spendkit.schema import LEDGER_COLUMNS, LEDGER_FIELDS, REJECT_REASONS, ledger_schema
from spendkit.settings import holds_data_files, is_data_file_name


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_scan_takes_data_files_in_path_order(tmp_path: Path) -> None:
    for rel in ("b/2.csv", "a-b/1.csv", "a/z.xlsx", "a/y.ZIP", "README.md", "a/README.txt",
                "MANIFEST.csv", ".hidden.csv", ".git/x.csv", "notes.pdf", "c/d/e.tsv"):
        _touch(tmp_path / rel)
    found = sources.scan(tmp_path)
    assert [f.rel for f in found.files] == ["a/y.ZIP", "a/z.xlsx", "a-b/1.csv", "b/2.csv",
                                           "c/d/e.tsv"]
    assert found.skipped == []


def test_synthetic_files_are_known_by_name_or_manifest(tmp_path: Path) -> None:
    _touch(tmp_path / "s/SYNTHETIC-a.csv")
    _touch(tmp_path / "s/listed.csv")
    _touch(tmp_path / "s/zz-copy-of-SYNTHETIC-a.csv")
    _touch(tmp_path / "s/real.csv")
    _touch(tmp_path / "s/SYNTHETIC-manifest.csv", "path,council\nlisted.csv,X\n")
    found = sources.scan(tmp_path)
    assert {f.rel: f.is_synthetic for f in found.files} == {
        "s/SYNTHETIC-a.csv": True, "s/listed.csv": True, "s/real.csv": False,
        "s/zz-copy-of-SYNTHETIC-a.csv": True}


def test_settings_know_a_data_file_when_they_see_one(tmp_path: Path) -> None:
    assert not holds_data_files(tmp_path / "missing")
    _touch(tmp_path / "README.md")
    _touch(tmp_path / ".x.csv")
    assert not holds_data_files(tmp_path)
    _touch(tmp_path / "deep/down/Spend.XLSX")
    assert holds_data_files(tmp_path)
    assert is_data_file_name("a.csv") and not is_data_file_name("SYNTHETIC-manifest.csv")


def test_input_key_follows_names_and_contents() -> None:
    base = versions.input_key("code", [("a.csv", "1"), ("b.csv", "2")])
    assert versions.input_key("code", [("b.csv", "2"), ("a.csv", "1")]) == base
    assert versions.input_key("code", [("a2.csv", "1"), ("b.csv", "2")]) != base
    assert versions.input_key("code", [("a.csv", "9"), ("b.csv", "2")]) != base
    assert versions.input_key("code2", [("a.csv", "1"), ("b.csv", "2")]) != base


def test_ledger_fields_are_the_ledger_schema() -> None:
    assert ledger_schema().names == list(LEDGER_COLUMNS)
    assert all(f.description for f in LEDGER_FIELDS)
    for name in ("decisions", "skipped", "is_synthetic", "parts", "duplicate_rows"):
        assert name in LEDGER_COLUMNS
    assert "duplicate_publication" in REJECT_REASONS


def test_ledger_rows_fill_defaults_and_take_the_loader_choices() -> None:
    led = Ledger(source_file="a.csv", source_sha256="ab", format="csv",
                 skipped=[{"name": "x.zip/__MACOSX/a", "what": "member", "reason": "system file"}])
    row = ledger.loaded_row(led, "a.csv", False)
    assert row["decisions"] == "[]"
    assert json.loads(row["skipped"]) == [{"name": "x.zip/__MACOSX/a", "what": "member",
                                           "reason": "system file"}]
    led.decisions = [{"field": "amount_gbp", "chosen": "Net", "basis": "alias"}]
    led.skipped = [{"member": "a/b.zip", "why": "nested archive"}]
    row = ledger.loaded_row(led, "a.csv", True)
    assert json.loads(row["decisions"])[0]["chosen"] == "Net"
    assert json.loads(row["skipped"]) == [{"member": "a/b.zip", "why": "nested archive"}]
    table = ledger.ledger_table([row, ledger.unread_row("b.csv", "failed", "bad\nthing")])
    assert table.schema == ledger_schema()
    failed = table.to_pylist()[1]
    assert failed["error"] == "bad\\nthing" and failed["rows_read"] == 0
    assert failed["parts"] == "[]"


@pytest.mark.parametrize(("text", "expected"), [
    ("plain £5 café", "plain £5 café"),
    ("two\nlines\r", "two\\nlines\\r"),
    ("\x1b[31mred", "\\x1b[31mred"),
    ("x" * 400, "x" * 299 + "…"),
])
def test_one_line_escapes_and_bounds_text(text: str, expected: str) -> None:
    assert ledger.one_line(text) == expected


def test_extras_round_trip_and_name_only_columns_with_a_value() -> None:
    n = 3
    m = write.extras_map({"zeta": pa.array(["a", None, "c"]), "alpha": pa.array([None] * 3,
                                                                                 pa.string())},
                         n)
    assert m.to_pylist()[0] == [("alpha", None), ("zeta", "a")]
    assert write.extras_keys(m) == ("zeta",)  # alpha is empty throughout
    assert write.extras_keys(m.slice(1, 1)) == ()
    other = write.extras_map({"beta": pa.array(["x"])}, 1)
    keys = pa.table({"source_file": ["f"] * 4, "source_sheet": [""] * 4,
                     "source_line": pa.array([2, 3, 4, 2], pa.int64())})
    names = sorted({*write.extras_keys(m), *write.extras_keys(other)})
    table = write.extras_table(keys, [m, other], names)
    assert table.column_names == ["source_file", "source_sheet", "source_line", "beta", "zeta"]
    assert table.column("zeta").to_pylist() == ["a", None, "c", None]
    assert table.column("beta").to_pylist() == [None, None, None, "x"]
    assert write.extras_keys(write.extras_map({}, 1)) == ()
    back = write.map_of_extras(table.slice(0, 3))
    assert back.to_pylist()[2] == [("beta", None), ("zeta", "c")]
    assert write.extras_keys(back) == ("zeta",)
