"""build_reports and store_notebook end to end on small notebooks (real kernels, no real data).

Kernel start-up and the kernel's pandas/plotly imports dominate: the demo build takes ~5 s.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from spendkit.errors import BuildError
from spendkit.report import (
    FAILED_LOG,
    ReportSummary,
    build_reports,
    count_figures,
    count_plotlyjs,
    external_references,
    store_notebook,
)

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[1] / "data" / "notebooks" / "demo.ipynb"
MAX_PAGE_BYTES = 1_500_000
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _write_notebook(path: Path, cells: list) -> Path:
    nb = new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def built(demo_report: ReportSummary) -> ReportSummary:
    """The demo report, built once per session by the root conftest."""
    return demo_report


@pytest.fixture(scope="module")
def page(built: ReportSummary) -> str:
    return built.reports[0].html.read_text(encoding="utf-8")


def test_html_written_with_expected_size(built: ReportSummary):
    (report,) = built.reports
    assert report.html == built.out_dir / "demo.html"
    assert report.html.is_file()
    assert report.title == "Demo spending report"
    # the cartesian plotly.js bundle once (0.66 MB as gzip+base64), a small stylesheet, the page
    assert 600_000 < report.size_bytes <= MAX_PAGE_BYTES
    assert report.size_bytes == report.html.stat().st_size


def test_no_network_references(page: str):
    assert external_references(page) == []
    lowered = page.lower()
    assert "require.min.js" not in lowered
    assert "mathjax@" not in lowered and "tex-svg" not in lowered and "mathjax.js" not in lowered
    # plotly.js is embedded compressed, so not even its own CDN string constant is readable
    assert "cdn.plot.ly" not in page


def test_plotlyjs_embedded_once_and_figure_present(built: ReportSummary, page: str):
    assert count_plotlyjs(page) == 1
    assert 'data-bundle="cartesian"' in page
    assert count_figures(page) == 1 == built.reports[0].n_figures
    assert "Plotly.newPlot" in page and 'spendkitPlot("spendkit-figure-1"' in page
    assert 'id="spendkit-figure-1"' in page  # counter, not a random uuid: same bytes each build


def test_hostile_supplier_names_are_text(page: str):
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    assert "<script>alert(1)</script>" not in page
    assert '<td>=HYPERLINK("http://x","y")</td>' in page
    assert 'href="http://x"' not in page


def test_parameters_passed_only_where_declared(built: ReportSummary, page: str):
    assert built.reports[0].parameters == {"council": "Testshire"}
    assert built.unused_parameters == ("not_declared",)
    assert "council=Testshire financial_year=2023-24 top_n=5" in page
    assert "not_declared" not in page
    # the report view hides the parameters cell and lists the values in its header instead
    assert "<code>council = 'Testshire'</code>" in page
    assert "<code>top_n = 5</code>" in page
    assert "hl-ipython3" not in page and "In&nbsp;[" not in page


def test_index_links_reports_and_escapes_summary(built: ReportSummary):
    index = built.index.read_text(encoding="utf-8")
    assert built.index == built.out_dir / "index.html"
    assert '<a href="demo.html">Demo spending report</a>' in index
    assert "<th>data date</th><td>2024-03-31</td>" in index
    assert "<th>2023-24</th><td>12 of 12 months</td>" in index
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in index
    assert "<script" not in index
    assert external_references(index) == []


def test_failing_notebook_is_one_line_and_leaves_previous_reports(tmp_path: Path, capsys):
    good = _write_notebook(tmp_path / "good.ipynb", [
        new_markdown_cell("# Good"), new_code_cell("print('first build')")])
    out = tmp_path / "out"
    build_reports([good], out, progress=True)
    assert "report [1/1] good.ipynb:" in capsys.readouterr().err  # one progress line each
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = _write_notebook(tmp_path / "broken.ipynb", [
        new_markdown_cell("# Broken"),
        new_code_cell("divisor = 1", metadata={"tags": ["parameters"]}),
        new_code_cell("total = 10\nshare = total / divisor"),
    ])
    with pytest.raises(BuildError) as info:
        build_reports([good, broken], out, parameters={"divisor": 0}, progress=False)
    message = str(info.value)
    assert message.startswith("broken.ipynb, cell 3: ZeroDivisionError: division by zero")
    assert "\n" not in message and "\x1b[" not in message  # one line, no colour codes
    log = out / FAILED_LOG
    assert str(log) in message
    details = log.read_text(encoding="utf-8")
    assert "share = total / divisor" in details and "ZeroDivisionError" in details
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.name != FAILED_LOG}
    assert after == before  # the previous build's pages, untouched
    assert not (out / "broken.html").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_report_view_hides_code_and_analyst_view_keeps_it(tmp_path: Path):
    nb = _write_notebook(tmp_path / "quiet.ipynb", [
        new_markdown_cell("# Quiet"),
        new_code_cell("secret_code_line = 6 * 7\nprint('answer', secret_code_line)"),
        new_code_cell("assert secret_code_line == 42\nprint('checked')",
                      metadata={"tags": ["self-check"]}),
    ])
    summary = build_reports([nb], tmp_path / "out", analyst=True, progress=False)
    (report,) = summary.reports
    page = report.html.read_text(encoding="utf-8")
    assert "answer 42" in page
    assert "secret_code_line" not in page and "checked" not in page
    assert "In&nbsp;[" not in page and "In [1]" not in page
    assert "All 1 self-check on this page" in page
    assert report.n_figures == 0 and "spendkit-plotlyjs" not in page  # no charts, no plotly.js
    assert external_references(page) == []
    code_page = report.analyst_html.read_text(encoding="utf-8")
    assert report.analyst_html == tmp_path / "out" / "analyst" / "quiet.html"
    assert "secret_code_line" in code_page and "checked" in code_page


def test_a_folder_of_other_files_is_not_replaced(tmp_path: Path):
    nb = _write_notebook(tmp_path / "a.ipynb", [new_markdown_cell("# A")])
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("precious")
    with pytest.raises(BuildError, match="thesis.docx, which a report build did not write"):
        build_reports([nb], tmp_path / "mine", progress=False)
    assert (tmp_path / "mine" / "thesis.docx").read_text() == "precious"


def test_store_notebook_is_deterministic_and_not_in_report_mode(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SPENDKIT_REPORT", "1")
    nb = _write_notebook(tmp_path / "stored.ipynb", [
        new_code_cell("n = 3", metadata={"tags": ["parameters"]}),
        new_code_cell("import os\nprint(os.environ.get('SPENDKIT_REPORT'), n * 2)"),
    ])
    store_notebook(nb)
    first = nb.read_bytes()
    store_notebook(nb)
    assert nb.read_bytes() == first
    stored = nbformat.read(str(nb), as_version=4)
    assert stored.cells[1].outputs[0].text == "None 6\n"
    assert stored.cells[0].metadata == {"tags": ["parameters"]}
    assert all("execution" not in c.metadata for c in stored.cells)
    assert set(stored.metadata) == {"kernelspec", "language_info"}
    assert first.endswith(b"\n")


def test_same_inputs_give_the_same_page(built: ReportSummary, tmp_path: Path):
    again = build_reports([DEMO], tmp_path / "again", parameters={"council": "Testshire"},
                          progress=False)
    assert again.reports[0].html.read_bytes() == built.reports[0].html.read_bytes()
