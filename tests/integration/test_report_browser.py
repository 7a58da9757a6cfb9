"""Open the generated reports in headless Chromium from file://: charts draw, nothing is fetched.

Skipped when no `chromium` is on PATH (CI installs Debian's chromium in .ci/run). Network
requests are read from Chromium's net log: requests the page started have an opaque (`null`)
initiator, while Chromium's own background requests (update checks, account probes) are
marked 'not an origin' and are ignored. DNS is mapped to nothing, so no request leaves anyway.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from spendkit.report import ReportSummary

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH (apt-get install chromium)"),
]

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=5000", "--dump-dom",
]


def open_in_chromium(page: Path, scratch: Path) -> tuple[str, list[str]]:
    """Load `page` from file://; return the DOM after scripts ran and the page's http(s) requests."""
    profile = scratch / f"profile-{page.stem}"
    net_log = scratch / f"net-{page.stem}.json"
    run = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--log-net-log={net_log}",
         page.resolve().as_uri()],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requests = sorted({
        e["params"]["url"] for e in log["events"]
        if e["type"] == start_job
        and e.get("params", {}).get("url", "").startswith(("http://", "https://"))
        and e["params"].get("initiator") != "not an origin"  # Chromium's own, not the page's
    })
    return run.stdout, requests


@pytest.fixture(scope="module")
def built(demo_report: ReportSummary) -> ReportSummary:
    """The demo report, built once per session by the root conftest."""
    return demo_report


def test_every_chart_draws_and_nothing_is_fetched(built: ReportSummary, tmp_path: Path):
    (report,) = built.reports
    dom, requests = open_in_chromium(report.html, tmp_path)
    assert requests == []
    assert report.n_figures == 1
    # plotly adds the js-plotly-plot class and its main-svg layers only when it has drawn
    assert dom.count("js-plotly-plot") >= report.n_figures
    assert dom.count('class="main-svg"') >= report.n_figures
    assert "spend by payment size" in dom  # the title drawn as SVG text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


def test_index_opens_offline(built: ReportSummary, tmp_path: Path):
    dom, requests = open_in_chromium(built.index, tmp_path)
    assert requests == []
    assert 'href="demo.html"' in dom


def test_detector_sees_page_requests(tmp_path: Path):
    """Self-check: a page with CDN references does show up as requests in the net log."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><script src="https://cdn.example.com/x.js"></script>'
        '</head><body><img src="http://img.example.com/p.png"></body></html>',
        encoding="utf-8",
    )
    _, requests = open_in_chromium(bad, tmp_path)
    assert requests == ["http://img.example.com/p.png", "https://cdn.example.com/x.js"]
