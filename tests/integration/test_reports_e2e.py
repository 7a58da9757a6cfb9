"""`spendkit report` end to end on the bundled data: every real notebook → offline HTML.

Builds all notebooks once, with exports and PDFs, then checks each page as a person would see
it: size (≤ 1.5 MB), no network references, plotly.js embedded once, the report view (no code),
no nan; in Chromium (when installed), each page opened alone from an empty folder: every chart
drawn, nothing wider than the page, a screenshot; the workbooks and CSVs open as a finance
colleague would open them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from report_checks import CHROMIUM, browser_check, check_page_basics

from spendkit.report import ReportSummary, find_notebooks
from spendkit.report.pipeline import build_all
from spendkit.settings import get_settings

pytestmark = pytest.mark.slow
YEARS = ["2021-22", "2022-23", "2023-24", "2024-25", "2025-26"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> ReportSummary:
    summary = build_all(out_dir=tmp_path_factory.mktemp("reports") / "reports", progress=False,
                        parameters={"council": "Blackburn with Darwen Borough Council",
                                    "years": YEARS},
                        export=("xlsx", "csv"), pdf=CHROMIUM is not None)
    print(f"\nreport build on the bundled data: {summary.seconds:.1f} s "
          "(before this work: about 33 s first run, 27 s up to date)")
    for line in summary.lines():
        print("  " + line)
    return summary


def test_one_report_per_notebook_and_an_index(reports: ReportSummary) -> None:
    notebooks = find_notebooks(get_settings().notebooks_dir)
    assert len(notebooks) >= 4
    assert [r.notebook.name for r in reports.reports] == [n.name for n in notebooks]
    index = reports.index.read_text(encoding="utf-8")
    for r in reports.reports:
        assert f'href="{r.html.name}"' in index
    assert "Spending reports: Blackburn with Darwen Borough Council" in index
    assert "2021-22 to 2025-26 (60 months of payments)" in index
    assert "rows kept" in index and "spendkit version" in index
    assert "SYNTHETIC data" in index and "`" not in index
    assert (reports.out_dir / "build.log").is_file()


@pytest.mark.parametrize("position", range(4))
def test_each_report_is_light_offline_readable(reports: ReportSummary, position: int) -> None:
    report = reports.reports[position]
    page = report.html.read_text(encoding="utf-8")
    check_page_basics(page, report.html.name)
    assert report.n_figures >= 1
    assert "SYNTHETIC sample data." in page  # provenance says so on the sample, every page
    assert "Report view (code hidden)" in page and "self-checks on this page" in page
    assert "Blackburn with Darwen Borough Council" in page


@pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH (apt-get install chromium)")
def test_pages_draw_fit_and_hide_code_in_chromium(reports: ReportSummary, tmp_path: Path):
    found = browser_check(reports, tmp_path)
    print({name: (p["figures"], p["scrolling_tables"]) for name, p in found.items()})


@pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH (apt-get install chromium)")
def test_pdfs_are_printed(reports: ReportSummary):
    for report in reports.reports:
        assert report.pdf is not None and report.pdf.read_bytes()[:5] == b"%PDF-"
        assert report.pdf.stat().st_size > 20_000


def test_workbooks_are_formatted_and_free_of_formulas(reports: ReportSummary):
    workbooks = [p for r in reports.reports for p in r.exports if p.suffix == ".xlsx"]
    assert {p.stem for p in workbooks} >= {"01-data-overview", "02-it-spend-trends",
                                           "03-microsoft-licensing",
                                           "04-spending-review-scenarios"}
    for path in workbooks:
        wb = openpyxl.load_workbook(path)
        formats = set()
        for ws in wb:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, ws.title, cell.coordinate)
                    formats.add(cell.number_format)
        if path.stem != "04-spending-review-scenarios":  # that workbook is the models' own
            first = wb.worksheets[0]
            assert first.freeze_panes == "A2", path.name
            assert "Notes" in wb.sheetnames
            assert any("£" in f for f in formats), path.name
            assert all(first.column_dimensions[c].width for c in "AB")


def test_csvs_read_back_with_the_pound_sign(reports: ReportSummary):
    csvs = [p for r in reports.reports for p in r.exports if p.suffix == ".csv"]
    assert csvs
    for path in csvs:
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), path.name
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        assert rows and all(h.strip() for h in rows[0]), path.name
    notes = (csvs[0].parent / "notes.txt").read_text(encoding="utf-8-sig")
    assert "SYNTHETIC" in notes


@pytest.mark.parametrize(("parameters", "message"), [
    ({"council": "Nowhere Council"}, "council: 'Nowhere Council' is not a publisher"),
    ({"years": ["2030-31"]}, "years: 2030-31 is not in the data; the data covers 2021-22"),
])
def test_bad_parameters_fail_fast_in_one_line(tmp_path: Path, parameters: dict, message: str):
    import time

    from spendkit.errors import InputError

    started = time.perf_counter()
    with pytest.raises(InputError) as info:
        build_all(out_dir=tmp_path / "reports", progress=False, parameters=parameters)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert time.perf_counter() - started < 30  # no notebook was started
    assert not (tmp_path / "reports").exists()
