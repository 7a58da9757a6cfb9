"""Checks shared by the end-to-end report tests: what a reader sees on each built page."""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

from spendkit.report import ReportSummary, count_plotlyjs, external_references

CHROMIUM = shutil.which("chromium")
MAX_PAGE_BYTES = 1_500_000
#: Set to a folder to keep the screenshots the browser checks take (to look at them).
SCREENSHOTS_ENV = "SPENDKIT_SCREENSHOTS"

_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")


def visible_text(page: str) -> str:
    """The text a reader sees: no scripts, styles or tags; entities decoded."""
    return html.unescape(_TAG.sub(" ", _SCRIPT_OR_STYLE.sub(" ", page)))


def check_page_basics(page: str, name: str) -> None:
    """Size, offline, report view, no nan: what every built page must satisfy."""
    size = len(page.encode("utf-8"))
    assert size <= MAX_PAGE_BYTES, f"{name}: {size:,} bytes"
    assert external_references(page) == [], name
    if 'class="plotly-graph-div"' in page:
        assert count_plotlyjs(page) == 1, name
    assert "hl-ipython3" not in page and "class=\"jp-InputArea-editor" not in page, name
    text = visible_text(page)
    for bad in ("nan%", " nan ", "NaN", "<NA>", "NaT", "None%", "Traceback"):
        assert bad not in text, f"{name}: {bad!r} on the page"


def browser_check(reports: ReportSummary, scratch: Path, *, min_figures: int = 1,
                  screenshots: bool = True) -> dict:
    """Open each page alone in Chromium: charts drawn, nothing wider than the page, no code.

    Returns the probe's findings per page; saves a screenshot of each page (in
    $SPENDKIT_SCREENSHOTS when set, else in `scratch`) unless `screenshots` is False and
    $SPENDKIT_SCREENSHOTS is not set.
    """
    from test_report_browser import probe_page  # same folder (pytest rootdir import)

    wanted = os.environ.get(SCREENSHOTS_ENV)
    shots = Path(wanted or scratch)
    shots.mkdir(parents=True, exist_ok=True)
    found = {}
    for report in reports.reports:
        png = shots / f"{report.html.stem}.png" if (screenshots or wanted) else None
        probe, requests = probe_page(report.html, scratch, screenshot=png)
        name = report.html.name
        assert requests == [], name
        assert probe["figures"] == report.n_figures, (name, probe)
        assert probe["drawn"] == probe["figures"], (name, probe)
        assert probe["overflow"] == [], (name, probe["overflow"][:5])
        assert probe["visible_code"] == 0, name
        assert png is None or (png.is_file() and png.stat().st_size > 10_000), name
        found[name] = probe
    assert sum(p["figures"] for p in found.values()) >= min_figures
    return found
