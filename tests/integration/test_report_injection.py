"""No script or element from the data comes alive in a report (issue 22, item 5).

Seven months of generated spending files put a hostile string in every text field — the
publisher, service area, expense type, supplier, description — and in the folder and file
names. Every notebook is built on them; each page is opened in headless Chromium, and nothing
from the data may have run (the payloads would set `data-pwned` on the body) or appear as a
live element or link.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from spendkit.report import ReportSummary
from spendkit.report.pipeline import build_all

CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None,
                                 reason="no `chromium` on PATH (apt-get install chromium)")]

PAYLOADS = [
    "<img src=x onerror=document.body.dataset.pwned=1>",
    "<script>document.body.dataset.pwned=2</script>",
    "<svg onload=document.body.dataset.pwned=3>",
    "[click](javascript:document.body.dataset.pwned=4)",
    "<iframe src=javascript:document.body.dataset.pwned=6></iframe>",
    '"><b onmouseover=document.body.dataset.pwned=7>x</b>',
]
PUBLISHER = "<img src=x onerror=document.body.dataset.pwned=0> Council"
#: A publisher is named only from the reference lists, never from a cell's text: the files
#: (whose publisher column holds markup) are identified by the council folder above them.
COUNCIL = "Hyndburn Borough Council"
#: What a payload would look like had it become markup in the DOM Chromium dumps.
LIVE = [re.compile(p, re.I) for p in (
    r"<img[^>]*\bsrc=\"x\"", r"<svg[^>]*\bonload=", r"<iframe\b", r"href=\"javascript:",
    r"<b[^>]*\bonmouseover=", r"data-pwned",
)]


def _write_hostile_files(raw: Path) -> None:
    folder = raw / "hyndburn-borough-council" / "<svg onload=document.body.dataset.pwned=9>"
    folder.mkdir(parents=True)
    suppliers = ["Microsoft Ireland Operations Ltd", "Phoenix Software Ltd", "Capita Business",
                 "Kier Construction Ltd"]
    for month in range(4, 11):
        path = folder / f"<b onclick=alert(5)>spend-2024-{month:02d}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["Organisation Label", "Service Area", "Expense Type", "Payment Date",
                        "Transaction Number", "Amount", "Supplier Name", "Description"])
            for i, payload in enumerate(PAYLOADS):
                supplier = f"{suppliers[i % len(suppliers)]} {payload}"
                w.writerow([PUBLISHER, f"ICT {payload}", f"Computer Software {payload}",
                            f"{3 + i:02d}/{month:02d}/2024", f"T{month}-{i}",
                            f"{1000 + 250 * i + month}.50", supplier,
                            f"annual licence renewal {payload}"])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> ReportSummary:
    tmp = tmp_path_factory.mktemp("hostile")
    _write_hostile_files(tmp / "data" / "raw")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPENDKIT_DATA_DIR", str(tmp / "data"))
        return build_all(out_dir=tmp / "reports", progress=False,
                         parameters={"council": COUNCIL}, export=("xlsx", "csv"))


def test_nothing_from_the_data_is_live_in_any_page(hostile: ReportSummary, tmp_path: Path):
    from test_report_browser import open_in_chromium  # same folder (pytest rootdir import)

    pages = [r.html for r in hostile.reports] + [hostile.index]
    assert len(pages) == 5
    for page in pages:
        dom, requests = open_in_chromium(page, tmp_path)
        assert requests == [], page.name
        for pattern in LIVE:
            found = pattern.search(dom)
            assert found is None, (page.name, dom[max(0, found.start() - 200):found.end() + 100])
        raw = page.read_text(encoding="utf-8")
        assert "<script>document.body" not in raw, page.name
    # the data's strings are shown, as text (supplier names in the trends page)
    trends = next(r for r in hostile.reports if r.html.stem.startswith("02"))
    assert "&lt;svg onload=document.body.dataset.pwned=3&gt;" in \
        trends.html.read_text(encoding="utf-8")
