"""Write a scenario comparison to an Excel workbook for finance colleagues.

Sheets: "Comparison" (one row per scenario and year, £ formats), optional "Monte Carlo",
"Tornado" and "Assumptions" (item, value, source or 'assumption', confidence), and "Notes"
(baseline coverage, each scenario's description, version and sources, reference-series
sources). Every text cell passes through `safe_cell_text`, so a supplier or
scenario name like "=cmd|..." stays text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from spendkit.models.scenarios import Baseline
from spendkit.models.scenarios.spec import ScenarioSpec
from spendkit.views.safe import safe_cell_text

GBP_FORMAT = '"£"#,##0;[Red]-"£"#,##0'
NUMBER_FORMAT = "#,##0.00"

_HEADERS = {
    "scenario": "Scenario", "title": "Title", "financial_year": "Financial year",
    "year_index": "Review year",
    "it_spend_gbp": "Third-party IT spend published as payments (£, cash)",
    "funding_envelope_gbp": "Funding envelope (£, cash)", "grants_gbp": "of which grants (£)",
    "gap_gbp": "Gap to fund (£, cash)", "it_spend_real_gbp": "IT spend (£, real)",
    "funding_envelope_real_gbp": "Funding envelope (£, real)",
    "gap_real_gbp": "Gap to fund (£, real)", "cumulative_gap_gbp": "Cumulative gap (£, cash)",
    "in_house_staff_gbp": "In-house IT staff (£, cash; council profile)",
    "total_it_cost_gbp": "Total IT cost with staff (£, cash)",
    "envelope_with_staff_gbp": "Funding envelope with staff (£, cash)",
    "gap_with_staff_gbp": "Gap to fund with staff (£, cash)",
    "cumulative_gap_with_staff_gbp": "Cumulative gap with staff (£, cash)",
}


def _write_frame(ws: Worksheet, frame: pd.DataFrame, money: set[str]) -> None:
    """Header row in bold, values below; £ format on money columns; widths fit the text."""
    columns = list(frame.columns)
    ws.append([safe_cell_text(_HEADERS.get(c, c)) for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for record in frame.itertuples(index=False, name=None):
        ws.append([_cell(v) for v in record])
    for j, name in enumerate(columns, start=1):
        letter = get_column_letter(j)
        if name in money:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = GBP_FORMAT
        texts = [str(_HEADERS.get(name, name))] + [str(v) for v in frame[name].head(500)]
        width = max(len(t) for t in texts)
        ws.column_dimensions[letter].width = min(max(10, width + 2), 60)
    ws.freeze_panes = "A2"


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar → Python
        value = value.item()
    return safe_cell_text(value) if isinstance(value, str) else value


def export_comparison(path: str | Path, comparison: pd.DataFrame, *,
                      specs: Sequence[ScenarioSpec] = (), baseline: Baseline | None = None,
                      monte_carlo: pd.DataFrame | None = None,
                      tornado: pd.DataFrame | None = None,
                      notes: Sequence[str] = (),
                      assumptions: pd.DataFrame | None = None) -> Path:
    """Write the comparison (and optional Monte Carlo, tornado and assumptions) to `path`."""
    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "Comparison"
    money = {c for c in comparison.columns if c.endswith("_gbp")}
    _write_frame(ws, comparison, money)
    if monte_carlo is not None:
        _write_frame(wb.create_sheet("Monte Carlo"), monte_carlo,
                     {"p10", "p50", "p90", "mean"})
    if tornado is not None:
        money_cols = {"central", "at_low", "at_high", "swing"}
        _write_frame(wb.create_sheet("Tornado"), tornado, money_cols)
    if assumptions is not None:
        _write_frame(wb.create_sheet("Assumptions"), assumptions, set())
    _write_notes(wb.create_sheet("Notes"), specs, baseline, notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _write_notes(ws: Worksheet, specs: Sequence[ScenarioSpec], baseline: Baseline | None,
                 extra: Sequence[str]) -> None:
    rows: list[tuple[str, str]] = [
        ("About", "Spending-review scenarios from spendkit. Cash £ are nominal; real £ are in "
                  "baseline-year prices on each scenario's own inflation path."),
        ("Gap", "Gap to fund = IT spend − funding envelope (settlement + grants); positive is "
                "a shortfall."),
        ("Grants", "Deterministic figures count a grant at amount × probability; the Monte "
                   "Carlo sheet draws it as won or not."),
    ]
    if baseline is not None:
        rows.append(("Baseline", f"{baseline.publisher}, {baseline.window}: "
                                 f"£{baseline.total_gbp:,.0f} a year of {baseline.label}, of "
                                 f"which £{baseline.microsoft_gbp:,.0f} Microsoft licensing; "
                                 "no in-house staff, no payments below the threshold"))
        rows += [("Coverage", n) for n in baseline.notes]
    for spec in specs:
        rows.append((f"Scenario {spec.name}", f"{spec.title} (version {spec.version}, file "
                                              f"{Path(spec.source).name}): {spec.description}"))
        rows += [(f"Source ({spec.name})", s) for s in spec.sources]
    rows += [
        ("Source", "CPI: ONS D7G7 outturn and OBR March 2026 forecast (spendkit "
                   "package_data/reference/cpi.csv)"),
        ("Source", "Settlement: the council's core spending power path (council profile); "
                   "else England's, MHCLG final settlement 9 Feb 2026 "
                   "(package_data/reference/core_spending_power.csv), a labelled fallback; "
                   "note the 2026-27 redefinition"),
        ("Source", "Local Digital Fund: localdigital.gov.uk, PublicTechnology "
                   "(package_data/local_digital_fund.csv)"),
    ]
    rows += [("Note", n) for n in extra]
    ws.append(["Item", "Detail"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for key, text in rows:
        ws.append([safe_cell_text(key), safe_cell_text(text)])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    for (cell,) in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
