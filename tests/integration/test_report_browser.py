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
    "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=15000", "--dump-dom",
]


def open_in_chromium(page: Path, scratch: Path, extra: list[str] | None = None
                     ) -> tuple[str, list[str]]:
    """Load `page` from file://; return the DOM after scripts ran and the page's http(s) requests."""
    profile = scratch / f"profile-{page.stem}"
    net_log = scratch / f"net-{page.stem}.json"
    run = subprocess.run(
        [CHROMIUM, *FLAGS, *(extra or []), f"--user-data-dir={profile}",
         f"--log-net-log={net_log}", page.resolve().as_uri()],
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


#: Appended to a copy of a page: once the charts are drawn (or after ~8 s of virtual time), it
#: measures the layout and writes what it found into <body data-probe="...">.
PROBE = """<script>
(function () {
  var tries = 0;
  function measure() {
    var figs = document.querySelectorAll('.plotly-graph-div');
    var drawn = [].filter.call(figs, function (f) {
      return f.getAttribute('data-drawn') === 'true' && f.querySelector('.main-svg'); }).length;
    if (drawn < figs.length && tries++ < 40) { setTimeout(measure, 200); return; }
    var main = document.querySelector('main');
    var style = getComputedStyle(main);
    var limit = main.getBoundingClientRect().right - parseFloat(style.paddingRight) + 1;
    var over = [];
    document.querySelectorAll('main *').forEach(function (el) {
      var box = el.parentElement && el.parentElement.closest('.sk-table, .plotly-graph-div');
      if (box) { return; }  // inside a box that wraps or scrolls on its own
      var r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > limit) {
        over.push(el.tagName + '.' + el.className + ' right=' + Math.round(r.right));
      }
    });
    var scrolling = [].filter.call(document.querySelectorAll('.sk-table'), function (t) {
      return t.scrollWidth > t.clientWidth + 1; }).length;
    var code = [].filter.call(document.querySelectorAll('.jp-InputArea-editor'), function (e) {
      return e.offsetParent !== null; }).length;
    document.body.setAttribute('data-probe', JSON.stringify({
      figures: figs.length, drawn: drawn, overflow: over, scrolling_tables: scrolling,
      visible_code: code, content_width: Math.round(limit)}));
  }
  window.addEventListener('load', function () { setTimeout(measure, 100); });
})();
</script>"""


def probe_page(page: Path, scratch: Path, screenshot: Path | None = None
               ) -> tuple[dict, list[str]]:
    """Open a copy of `page` alone in an empty folder; return the probe's findings and requests.

    With `screenshot`, also saves a PNG of the page (1280 px wide) there.
    """
    import html as html_lib
    import re

    alone = scratch / f"alone-{page.stem}"
    alone.mkdir(parents=True, exist_ok=True)
    copy = alone / page.name
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                    encoding="utf-8")
    dom, requests = open_in_chromium(copy, scratch, extra=["--window-size=1280,2000"])
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, f"{page.name}: the probe did not run"
    if screenshot is not None:
        subprocess.run(
            [CHROMIUM, *[f for f in FLAGS if f != "--dump-dom"], "--hide-scrollbars",
             f"--user-data-dir={scratch / ('shot-' + page.stem)}", "--window-size=1280,3000",
             f"--screenshot={screenshot}", page.resolve().as_uri()],
            capture_output=True, timeout=60, check=False)
    return json.loads(html_lib.unescape(found.group(1))), requests


@pytest.fixture(scope="module")
def built(demo_report: ReportSummary) -> ReportSummary:
    """The demo report, built once per session by the root conftest."""
    return demo_report


def test_every_chart_draws_and_nothing_is_fetched(built: ReportSummary, tmp_path: Path):
    (report,) = built.reports
    dom, requests = open_in_chromium(report.html, tmp_path)
    assert requests == []
    assert report.n_figures == 1
    assert 'data-drawn="true"' in dom  # plotly.js was decompressed in the page and drew
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


def test_probe_sees_an_overflow_and_visible_code(tmp_path: Path):
    """Self-check: the probe reports an element wider than the page and a visible code cell."""
    bad = tmp_path / "wide.html"
    bad.write_text('<!DOCTYPE html><html><body><main style="max-width:600px">'
                   '<div style="width:2000px">wide</div><div class="jp-InputArea-editor">x = 1'
                   "</div></main></body></html>", encoding="utf-8")
    found, _ = probe_page(bad, tmp_path)
    assert found["overflow"] and found["visible_code"] == 1 and found["figures"] == 0
