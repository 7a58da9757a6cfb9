"""Reports on real councils' files only: nine years of Hyndburn, and one real month.

The real files are copied into a temporary data folder in the test (never into the repo); the
bundled sample is not there. Each built page must name the publisher, say which years and how
many months stand behind it, carry no sample wording, print no nan, and draw every chart.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from report_checks import CHROMIUM, browser_check, check_page_basics, visible_text

from conftest import real_raw_files
from spendkit.report import ReportSummary
from spendkit.report.pipeline import build_all

pytestmark = [pytest.mark.slow, pytest.mark.realdata]
HYNDBURN = "Hyndburn Borough Council"
FOLDER = "hyndburn-borough-council"
SAMPLE_WORDS = re.compile(r"synthetic|sample", re.I)


def _hyndburn_files(realdata_dir: Path, realdata_series_dir: Path) -> list[Path]:
    files = [p for folder in (realdata_dir / FOLDER, realdata_series_dir / FOLDER)
             for p in real_raw_files(folder)]
    assert len(files) >= 90, len(files)
    return files


def _build(tmp: Path, files: list[Path], *, loose: bool, council: str,
           notebooks: list[Path] | None = None) -> ReportSummary:
    raw = tmp / "data" / "raw" if loose else tmp / "data" / "raw" / FOLDER
    raw.mkdir(parents=True)
    for path in files:
        shutil.copy2(path, raw / path.name)
    return _build_in(tmp, council=council, n_files=len(files), notebooks=notebooks)


def _build_in(tmp: Path, *, council: str, n_files: int,
              notebooks: list[Path] | None = None) -> ReportSummary:
    """Build the reports of the data folder `tmp/data` (ingested first if needed)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPENDKIT_DATA_DIR", str(tmp / "data"))  # the kernels inherit it
        summary = build_all(out_dir=tmp / "reports", progress=False,
                            parameters={"council": council}, notebooks=notebooks)
    print(f"\n{n_files} real file(s): built in {summary.seconds:.1f} s")
    for line in summary.lines():
        print("  " + line)
    return summary


def _check_real_pages(summary: ReportSummary, years: tuple[str, str], months_text: str) -> None:
    for report in summary.reports:
        page = report.html.read_text(encoding="utf-8")
        name = report.html.name
        check_page_basics(page, name)
        text = visible_text(page)
        assert HYNDBURN in text, name
        assert years[0] in text and years[1] in text, name
        assert months_text in text, name
        assert not SAMPLE_WORDS.search(text), (name, SAMPLE_WORDS.search(text).group(0),
                                               text[max(0, SAMPLE_WORDS.search(text).start() - 80):
                                                    SAMPLE_WORDS.search(text).end() + 80])
    index = visible_text(summary.index.read_text(encoding="utf-8"))
    assert HYNDBURN in index and not SAMPLE_WORDS.search(index)


@pytest.fixture(scope="module")
def hyndburn(realdata_dir: Path, realdata_series_dir: Path,
             tmp_path_factory: pytest.TempPathFactory) -> ReportSummary:
    files = _hyndburn_files(realdata_dir, realdata_series_dir)
    return _build(tmp_path_factory.mktemp("hyndburn"), files, loose=False, council=HYNDBURN)


def test_nine_years_of_hyndburn(hyndburn: ReportSummary, tmp_path: Path):
    _check_real_pages(hyndburn, ("2017-18", "2025-26"), "months of payments")
    trends = next(r for r in hyndburn.reports if r.html.stem == "02-it-spend-trends")
    assert trends.n_figures >= 5
    if CHROMIUM:
        browser_check(hyndburn, tmp_path, min_figures=10, screenshots=False)


@pytest.fixture(scope="module")
def one_month(realdata_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ReportSummary:
    only = realdata_dir / FOLDER / "Sept-25-CVS.csv"
    return _build(tmp_path_factory.mktemp("one-month"), [only], loose=False, council=HYNDBURN)


def test_one_real_month(one_month: ReportSummary, tmp_path: Path):
    _check_real_pages(one_month, ("2025-26", "2025-26"), "part-year 2025-26: 1 of 12 months")
    # The scenario baseline rests on one month: the page must say so and how it chose.
    scenarios = next(r for r in one_month.reports if r.html.stem.startswith("04"))
    text = " ".join(visible_text(scenarios.html.read_text(encoding="utf-8")).split())
    assert re.search(r"thin baseline, scaled up from 1 month", text), "no baseline choice"
    trends = next(r for r in one_month.reports if r.html.stem.startswith("02"))
    assert "1 of 12 months" in visible_text(trends.html.read_text(encoding="utf-8"))
    if CHROMIUM:
        browser_check(one_month, tmp_path, screenshots=False)


def test_loose_hyndburn_files_and_a_short_council_name(realdata_dir: Path,
                                                       realdata_series_dir: Path, tmp_path: Path):
    from spendkit.ingest import ingest
    from spendkit.report.pipeline import data_provenance

    files = _hyndburn_files(realdata_dir, realdata_series_dir)
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    for path in files:
        shutil.copy2(path, raw / path.name)
    # Cheap checks first (a few seconds): every loose file identified, the short name accepted.
    ingest(raw, tmp_path / "data" / "processed", progress=False)
    prov = data_provenance({"council": "Hyndburn"}, tmp_path / "data" / "processed")
    assert prov.publishers == (HYNDBURN,)
    # The same data folder: the build finds the ingest up to date.
    summary = _build_in(tmp_path, council="Hyndburn", n_files=len(files))
    _check_real_pages(summary, ("2017-18", "2025-26"), "months of payments")


#: Three real months of 2025-26 (April, June, July) from the Hyndburn series.
PART_YEAR = ("April-25-CSV.csv", "Spend-Over-250-June-25.csv", "Spend-over-250.00-July-25.csv")


def test_a_real_part_year_in_notebooks_01_and_02(realdata_series_dir: Path, tmp_path: Path):
    from spendkit.report.notebooks import default_notebooks_dir, find_notebooks

    files = [realdata_series_dir / FOLDER / name for name in PART_YEAR]
    pages = [p for p in find_notebooks(default_notebooks_dir()) if p.stem[:2] in ("01", "02")]
    summary = _build(tmp_path, files, loose=True, council="Hyndburn", notebooks=pages)
    _check_real_pages(summary, ("2025-26", "2025-26"), "part-year 2025-26: 3 of 12 months")
    trends = next(r for r in summary.reports if r.html.stem.startswith("02"))
    text = " ".join(visible_text(trends.html.read_text(encoding="utf-8")).split())
    assert "from 3 of 12 months of payments (a part-year" in text  # stated, not scaled up
    assert "No peer comparison" in text and "Burnley" in text  # peers named, none in the data
    assert "+nan" not in text and "£-1" not in text
