"""Every real file in ../shared/realdata loads as a new user would load it.

Expected counts and totals per file live in tests/data/realdata_expected.csv (facts about the
files, not their rows). Each kept total is also checked against a sum computed here by a small,
independent reader (csv module / openpyxl / python-calamine's own API and Decimal) that shares
no code with spendkit.
"""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

import spendkit

EXPECTED_CSV = Path(__file__).resolve().parents[1] / "data" / "realdata_expected.csv"
EXPECTED = list(csv.DictReader(EXPECTED_CSV.open(encoding="utf-8")))
IDS = [row["file"] for row in EXPECTED]
MANIFEST_COUNTS_TOTAL_LINE = {"lambeth-council/2012-06-payments.csv": 1}


@pytest.fixture(scope="module")
def loaded(realdata_dir: Path) -> dict[str, spendkit.LoadResult]:
    return {row["file"]: spendkit.load(realdata_dir / row["file"]) for row in EXPECTED}


def test_expected_table_covers_every_raw_file(realdata_dir: Path) -> None:
    manifest = list(csv.DictReader((realdata_dir / "MANIFEST.csv").open(encoding="utf-8")))
    files = {m["file"] for m in manifest if not m["file"].startswith("_reference")}
    assert files == set(IDS)


@pytest.mark.parametrize("row", EXPECTED, ids=IDS)
def test_ledger_matches_expected(row: dict, loaded: dict) -> None:
    ledger = loaded[row["file"]].ledger
    assert ledger.rows_read == ledger.rows_kept + ledger.rows_rejected
    assert ledger.file_kind == row["file_kind"]
    assert ledger.format == row["format"]
    assert ledger.encoding == row["encoding"]
    assert ledger.header_line == int(row["header_line"])
    assert (ledger.rows_read, ledger.rows_kept, ledger.rows_rejected) == (
        int(row["rows_read"]), int(row["rows_kept"]), int(row["rows_rejected"]))
    reasons = ";".join(f"{k}={v}" for k, v in ledger.rejected_by_reason.items())
    assert reasons == row["rejected_by_reason"]
    assert ledger.kept_total_gbp == Decimal(row["kept_total_gbp"])
    assert ledger.date_format == row["date_format"]
    assert ledger.publisher_code == row["publisher_code"]
    # Every physical line of a text is accounted for (workbooks have no lines to count).
    assert ledger.lines_reconciled is (None if ledger.format in ("xls", "xlsx") else True)


@pytest.mark.parametrize("row", EXPECTED, ids=IDS)
def test_table_agrees_with_ledger_and_manifest(row: dict, loaded: dict, realdata_dir: Path
                                               ) -> None:
    result = loaded[row["file"]]
    df = result.transactions
    assert len(df) == result.ledger.rows_kept
    assert df["amount_gbp"].sum() == result.ledger.kept_total_gbp if len(df) else True
    assert len(result.rejects) == result.ledger.rows_rejected
    assert set(result.rejects["reason"]) <= set(spendkit.schema.REJECT_REASONS)
    manifest = {m["file"]: m for m in csv.DictReader(
        (realdata_dir / "MANIFEST.csv").open(encoding="utf-8"))}
    if row["file_kind"] == "transactions":
        # The manifest counts transaction rows (no header, blanks, preamble or totals) …
        expected_rows = int(manifest[row["file"]]["rows"])
        # … except here, where its 3,156 includes the 'Total' line (3,155 payments + Total).
        expected_rows -= MANIFEST_COUNTS_TOTAL_LINE.get(row["file"], 0)
        assert len(df) == expected_rows
        assert df["payment_date"].notna().all()
        assert (df["source_line"] > int(row["header_line"])).all() or row["header_line"] == "729"
        assert df["source_line"].is_monotonic_increasing or result.ledger.sheets
        assert df["supplier_name"].str.strip().eq(df["supplier_name"]).all()


# ---- an independent reader ---------------------------------------------------------------
_PYTHON_CODEC = {"utf-8-sig": "utf-8-sig", "cp1252": "cp1252", "cp850": "cp850",
                 "ascii": "ascii", "utf-8": "utf-8"}


def _money(text: str) -> Decimal:
    t = text.strip().replace("£", "").replace(",", "").replace(" ", "")
    neg = t.startswith("(") and t.endswith(")") or t.endswith("-") or t.startswith("-")
    t = t.strip("()-")
    return -Decimal(t) if neg else Decimal(t)


def _rows_from_csv_bytes(data: bytes, encoding: str) -> list[list[str]]:
    text = data.decode(_PYTHON_CODEC.get(encoding, "cp1252"), errors="replace")
    return list(csv.reader(io.StringIO(text, newline="")))


def _rows_from_workbook(path: Path) -> list[list[object]]:
    if path.suffix == ".xlsx":
        import openpyxl
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        return [list(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]
    from python_calamine import CalamineWorkbook
    book = CalamineWorkbook.from_path(str(path))
    return [list(r) for name in book.sheet_names
            for r in book.get_sheet_by_name(name).to_python(skip_empty_area=False)]


def independent_total(path: Path, row: dict) -> Decimal:
    """Sum of amounts on rows that carry a date, found by header names alone."""
    data = path.read_bytes()
    if data.startswith(b"PK") and path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            data = zf.read(zf.namelist()[0])
    if path.suffix in (".xlsx",) or data.startswith(b"\xd0\xcf\x11\xe0"):
        rows = [[("" if v is None else v) for v in r] for r in _rows_from_workbook(path)]
    else:
        rows = _rows_from_csv_bytes(data, row["encoding"])
    amount_h, date_h = row["amount_header"], row["date_header"]
    total = Decimal(0)
    a = d = None
    for cells in rows:
        texts = [str(c).replace("Â£", "£").strip() for c in cells]
        if amount_h.strip() in texts and date_h.strip() in texts:
            a, d = texts.index(amount_h.strip()), texts.index(date_h.strip())
            continue
        if a is None and row["header_line"] != "729":
            continue
        if row["header_line"] == "729":  # header is the last line: columns known from it
            a, d = 16, 14
        if len(cells) <= max(a, d) or not str(cells[d]).strip() or str(cells[a]).strip() == "":
            continue
        value = cells[a]
        if isinstance(value, float):
            total += Decimal(repr(value)).quantize(Decimal("0.01"))
        else:
            total += _money(str(value))
    return total


@pytest.mark.parametrize("row", [r for r in EXPECTED if r["file_kind"] == "transactions"],
                         ids=[r["file"] for r in EXPECTED if r["file_kind"] == "transactions"])
def test_kept_total_equals_independent_sum(row: dict, loaded: dict, realdata_dir: Path) -> None:
    assert loaded[row["file"]].ledger.kept_total_gbp == independent_total(
        realdata_dir / row["file"], row)


# ---- ODI Leeds' processed versions of the same months -------------------------------------
ODI_PAIRS = [
    ("leeds-city-council/spending_2012_02.csv", "leeds-city-council/processed/2012-02_clean.csv"),
    ("leeds-city-council/october-2013.csv", "leeds-city-council/processed/2013-10_clean.csv"),
    ("leeds-city-council/Spending_2020_06.csv",
     "leeds-city-council/processed/2020-06_processed.csv"),
    ("manchester-city-council/Manchester September 2014.xls",
     "manchester-city-council/processed/2014-09_clean.csv"),
]


@pytest.mark.parametrize(("raw", "odi"), ODI_PAIRS, ids=[p[0] for p in ODI_PAIRS])
def test_odi_leeds_versions_differ_only_by_lost_minus_signs(raw: str, odi: str, loaded: dict
                                                            ) -> None:
    """ODI Leeds' cleaned files hold the same rows in the same order, but their clean step
    dropped every leading minus (Leeds 2012 '-2681.08' became '2681.08'). So: same count,
    same dates, and their total equals the sum of the absolute values of ours; where we
    read a credit, they read the same amount positive."""
    ours, theirs = loaded[raw].transactions, loaded[odi].transactions
    assert len(ours) == len(theirs)
    assert (ours["payment_date"].to_numpy() == theirs["payment_date"].to_numpy()).all()
    assert theirs["amount_gbp"].sum() == ours["amount_gbp"].abs().sum()
    credits = ours["amount_gbp"] < 0
    assert credits.sum() > 100
    assert (theirs["amount_gbp"] >= 0).all()
    assert (ours["amount_gbp"].abs().to_numpy() == theirs["amount_gbp"].to_numpy()).all()


def test_bradford_bracketed_negatives(loaded: dict) -> None:
    df = loaded["city-of-bradford-mdc/processed/2019-11_clean.csv"].transactions
    assert (df["amount_gbp"] < 0).sum() >= 627
    assert Decimal("-264795.53") in set(df["amount_gbp"])
