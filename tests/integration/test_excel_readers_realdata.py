"""Real XLSX files read the same through python-calamine as through openpyxl, and load the same.

The real workbooks come from ../shared/realdata (via the `realdata_dir` fixture); the bundled
sample's workbooks from data/sample/raw.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest

import spendkit
import spendkit.loader
from spendkit.extract import excel

SAMPLE_RAW = Path(__file__).resolve().parents[2] / "data" / "sample" / "raw"


def _workbooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".xlsx", ".xlsm"))


@pytest.fixture(scope="module")
def real_workbooks(realdata_dir: Path) -> list[Path]:
    books = _workbooks(realdata_dir)
    assert books, f"no XLSX files under {realdata_dir}"
    return books


def _sample_workbooks() -> list[Path]:
    books = _workbooks(SAMPLE_RAW) if SAMPLE_RAW.is_dir() else []
    if not books:
        pytest.skip(f"no bundled sample workbooks under {SAMPLE_RAW}")
    return books


@pytest.fixture(scope="module")
def reference_rows() -> dict[bytes, list[excel.SheetRows]]:
    """openpyxl's SheetRows per workbook content, so each workbook is read by openpyxl once."""
    return {}


def _reference(data: bytes, cache: dict[bytes, list[excel.SheetRows]]) -> list[excel.SheetRows]:
    if data not in cache:
        cache[data] = excel.read_xlsx_openpyxl(data, "reference.xlsx")
    return copy.deepcopy(cache[data])


def _assert_same_rows(path: Path, cache: dict) -> list[excel.SheetRows]:
    data = path.read_bytes()
    fast = excel._read_xlsx_calamine(data)  # no fallback: calamine must read it
    assert fast == _reference(data, cache), path
    return fast


def _assert_same_load(path: Path, cache: dict,
                      monkeypatch: pytest.MonkeyPatch) -> spendkit.LoadResult:
    fast = spendkit.load(path)
    load_module = spendkit.loader
    with monkeypatch.context() as mp:
        mp.setattr(load_module, "read_xlsx",
                   lambda data, name, cell_limit=None: _reference(data, cache))
        ref = spendkit.load(path)
    assert fast.table.equals(ref.table), path
    assert fast.rejects_table.equals(ref.rejects_table), path
    assert dataclasses.asdict(fast.ledger) == dataclasses.asdict(ref.ledger), path
    return fast


def test_real_workbooks_same_sheet_rows(real_workbooks: list[Path], reference_rows: dict) -> None:
    for path in real_workbooks:
        sheets = _assert_same_rows(path, reference_rows)
        assert sum(len(s.rows) for s in sheets) > 0, path
        if path.name == "pcc-2024-25.xlsx":
            assert [s.name for s in sheets][:2] == ["APR 24", "MAY 24"] and len(sheets) == 10
            assert sheets[0].lines[:2] == [1, 2] and sheets[0].rows[1][1] == "2024-04-09"


def test_real_workbooks_load_the_same(real_workbooks: list[Path], reference_rows: dict,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for path in real_workbooks:
        result = _assert_same_load(path, reference_rows, monkeypatch)
        assert result.ledger.rows_kept > 0, path


def test_sample_workbooks_same_rows_and_load(reference_rows: dict,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    for path in _sample_workbooks():
        _assert_same_rows(path, reference_rows)
        _assert_same_load(path, reference_rows, monkeypatch)
