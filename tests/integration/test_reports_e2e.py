"""`spendkit report` end to end on the bundled data: every real notebook → offline HTML.

Builds all notebooks once (about a minute), then checks each page as a person would see it:
size, no network references, plotly.js embedded once, and (when Chromium is installed) that
every chart drew in a real browser with no request leaving the page.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from spendkit.report import ReportSummary, count_plotlyjs, external_references, find_notebooks
from spendkit.report.pipeline import build_all
from spendkit.settings import get_settings

pytestmark = pytest.mark.slow
MAX_REPORT_BYTES = 6_000_000


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> ReportSummary:
    return build_all(out_dir=tmp_path_factory.mktemp("reports"), progress=False, no_input=True,
                     parameters={"council": "Blackburn with Darwen Borough Council",
                                 "years": ["2021-22", "2022-23", "2023-24", "2024-25",
                                           "2025-26"]})


def test_one_report_per_notebook_and_an_index(reports: ReportSummary) -> None:
    notebooks = find_notebooks(get_settings().notebooks_dir)
    assert len(notebooks) >= 4
    assert [r.notebook.name for r in reports.reports] == [n.name for n in notebooks]
    index = reports.index.read_text(encoding="utf-8")
    for r in reports.reports:
        assert f'href="{r.html.name}"' in index
    assert "rows kept" in index and "spendkit version" in index
    assert "SYNTHETIC data" in index


@pytest.mark.parametrize("position", range(4))
def test_each_report_is_offline_small_and_has_charts(reports: ReportSummary, position: int
                                                     ) -> None:
    report = reports.reports[position]
    page = report.html.read_text(encoding="utf-8")
    assert report.size_bytes <= MAX_REPORT_BYTES, f"{report.html.name}: {report.size_bytes:,} B"
    assert external_references(page) == []
    assert report.n_figures >= 1
    assert count_plotlyjs(page) == 1
    assert "SYNTHETIC" in page.upper()
    # --no-input: no code is shown (markdown cells keep their input area: that is the prose)
    code_cells = re.findall(r'<div class="(jp-Cell jp-CodeCell[^"]*)"', page)
    assert code_cells and all("jp-mod-noInput" in c for c in code_cells)
    assert "hl-ipython3" not in page


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="no `chromium` on PATH (apt-get install chromium)")
def test_reports_draw_in_chromium_without_network(reports: ReportSummary, tmp_path: Path
                                                  ) -> None:
    from test_report_browser import open_in_chromium  # same folder (pytest rootdir import)

    for report in reports.reports:
        dom, requests = open_in_chromium(report.html, tmp_path)
        assert requests == [], report.html.name
        assert dom.count('class="main-svg"') >= report.n_figures, report.html.name
    dom, requests = open_in_chromium(reports.index, tmp_path)
    assert requests == []
