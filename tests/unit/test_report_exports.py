"""Workbooks and CSVs for finance colleagues: formats, widths, frozen header, no formulas."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pytest

from spendkit.errors import InputError
from spendkit.views.exports import export_report
from spendkit.views.html import escape_markdown, markdown_with_data
from spendkit.views.tables import table

MONEY = pd.ArrowDtype(pa.decimal128(18, 2))
HOSTILE = ['=HYPERLINK("http://x","y")', "+44 20 7946 0000", "-5 credit", "@SUM(1)+cmd"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "supplier": [*HOSTILE, "Café £ Ltd"],
        "amount_gbp": pd.Series([Decimal("950974.07"), Decimal("-12.50"), None,
                                 Decimal("0.01"), Decimal("4.54")], dtype=MONEY),
        "change_pct": [4.545454545454541, None, 0.0, -3.25, 100.0],
        "payment_date": pd.to_datetime(["2024-04-01"] * 5),
        "payments": [1, 2, 3, 4, 5],
    })


@pytest.fixture()
def written(tmp_path: Path) -> list[Path]:
    return export_report({"top_suppliers": _frame(), "pence": table(_frame(), pence=True)},
                         name="02-page", folder=tmp_path, formats=["xlsx", "csv"],
                         notes=["Data: 3 files from Hyndburn Borough Council.", "=cmd|' /C calc'!A0"])


def test_workbook_has_formats_widths_frozen_header_and_notes(written: list[Path]):
    wb = openpyxl.load_workbook(written[0])
    assert wb.sheetnames == ["Top suppliers", "Pence", "Notes"]
    ws = wb["Top suppliers"]
    assert [c.value for c in ws[1]] == ["Supplier", "Amount", "Change on year", "Date", "Payments"]
    assert ws.freeze_panes == "A2"
    assert ws["B2"].number_format == '"£"#,##0;-"£"#,##0' and ws["B2"].value == pytest.approx(950974.07)
    assert wb["Pence"]["B2"].number_format == '"£"#,##0.00;-"£"#,##0.00'
    assert ws["C2"].number_format == "0.0%" and ws["C2"].value == pytest.approx(0.04545454545)
    assert ws["D2"].number_format == "dd/mm/yyyy"
    assert ws["E2"].number_format == "#,##0"
    assert ws["B4"].value is None  # a missing amount is an empty cell, not 'nan'
    assert all(ws.column_dimensions[c].width and ws.column_dimensions[c].width >= 8 for c in "ABCDE")
    assert ws.column_dimensions["A"].width >= len('=HYPERLINK("http://x","y")')
    notes = [r[0] for r in wb["Notes"].iter_rows(values_only=True)]
    assert notes[0] == "Data: 3 files from Hyndburn Borough Council."


def test_no_formulas_and_no_visible_apostrophes(written: list[Path]):
    wb = openpyxl.load_workbook(written[0])
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                assert not (isinstance(cell.value, str) and cell.value.startswith("'")), cell.value
    ws = wb["Top suppliers"]
    assert [ws.cell(row=r, column=1).value for r in range(2, 6)] == HOSTILE
    assert all(ws.cell(row=r, column=1).quotePrefix for r in range(2, 6))
    assert not ws["A6"].quotePrefix


def test_csvs_are_utf8_with_bom_and_keep_the_pound_sign(written: list[Path]):
    path = next(p for p in written if p.name == "top_suppliers.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["Supplier", "Amount", "Change on year", "Date", "Payments"]
    assert rows[5][0] == "Café £ Ltd"
    assert rows[1][1] == "950974.07" and rows[3][1] == ""
    assert rows[1][0].startswith("'=")  # CSV has no quote-prefix style: OWASP apostrophe
    assert (path.parent / "notes.txt").read_text(encoding="utf-8-sig").startswith("Data: 3 files")


def test_no_folder_writes_nothing_and_bad_formats_fail(tmp_path: Path):
    assert export_report({"t": _frame()}, name="p", folder=None) == []
    with pytest.raises(InputError, match="unknown"):
        export_report({"t": _frame()}, name="p", folder=tmp_path, formats=["pdf"])


@pytest.mark.parametrize("hostile", [
    "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "![x](http://e/x.png)",
    "http://evil.example/x", "*bold* `code` # heading", "<script>alert(1)</script>",
])
def test_markdown_escaping_leaves_nothing_live(hostile: str):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    for text in (escape_markdown(hostile), markdown_with_data(f"**{hostile}** spent £1")):
        html = markdown2html_mistune(text)
        assert "<img" not in html and "<script" not in html and "<a " not in html, html
