"""Excel export round-trip and formula neutralising."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from spendkit.models import scenarios as sc
from spendkit.views.safe import safe_cell_text
from spendkit.views.scenarios_excel import export_comparison


@pytest.mark.parametrize(("raw", "expected"), [
    ("=SUM(A1:A2)", "'=SUM(A1:A2)"), ("+44 20", "'+44 20"), ("-1", "'-1"),
    ("@cmd", "'@cmd"), ("\tTab Ltd", "'\tTab Ltd"), ("\rCR", "'\rCR"),
    ("Microsoft Ltd", "Microsoft Ltd"), ("", ""), (12.5, 12.5), (None, None),
])
def test_safe_cell_text(raw: object, expected: object) -> None:
    assert safe_cell_text(raw) == expected


@settings(max_examples=50)
@given(st.text())
def test_safe_cell_text_never_leaves_a_formula_start(text: str) -> None:
    out = safe_cell_text(text)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert out.endswith(text)


def test_export_round_trip_keeps_formula_like_names_as_text(tmp_path: Path) -> None:
    base = sc.baseline_from_totals({"it_services": 1_000_000}, financial_year="2024-25",
                                   publisher="=HYPERLINK(\"http://x\")")
    spec = sc.parse_scenario({"schema_version": 1, "name": "=1+1", "title": "@evil",
                              "inflation": {"rate_pct": {"value": 2, "dist": "normal",
                                                         "sd": 1}}}, "evil.yaml")
    table = sc.compare_scenarios(base, [spec])
    path = export_comparison(tmp_path / "out" / "scenarios.xlsx", table, specs=[spec],
                             baseline=base,
                             monte_carlo=sc.monte_carlo(base, spec, simulations=50),
                             tornado=sc.tornado(base, spec), notes=["-note"])
    wb = load_workbook(path)
    assert wb.sheetnames == ["Comparison", "Monte Carlo", "Tornado", "Notes"]
    ws = wb["Comparison"]
    assert ws["A1"].value == "Scenario"
    assert ws["A2"].value == "'=1+1" and ws["A2"].data_type == "s"
    assert ws["B2"].value == "'@evil"
    header = [c.value for c in ws[1]]
    spend = header.index("Third-party IT spend published as payments (£, cash)") + 1
    assert ws.cell(row=2, column=spend).value == pytest.approx(1_000_000)
    assert "£" in ws.cell(row=3, column=spend).number_format
    assert ws.column_dimensions["A"].width >= 10
    assert ws.max_row == 1 + len(table)
    notes = [r[1] for r in wb["Notes"].iter_rows(min_row=2, values_only=True)]
    assert any(str(n).startswith("'=HYPERLINK") for n in notes)
    assert "'-note" in notes
    assert all(not str(c.value).startswith("=") for row in wb["Notes"].iter_rows()
               for c in row if c.value is not None)
