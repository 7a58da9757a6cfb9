"""build_reports and store_notebook end to end on small notebooks (real kernels, no real data).

Kernel start-up and the kernel's pandas/plotly imports dominate: the demo build takes ~5 s.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from plotly.offline import get_plotlyjs

from spendkit.errors import BuildError
from spendkit.report import (
    ReportSummary,
    build_reports,
    count_figures,
    count_plotlyjs,
    external_references,
    store_notebook,
)

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[1] / "data" / "notebooks" / "demo.ipynb"
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
    # plotly.js (4.8 MB) once, plus ~0.3 MB of lab CSS and the notebook itself
    assert 4_500_000 < report.size_bytes < 6_000_000
    assert report.size_bytes == report.html.stat().st_size


def test_no_network_references(page: str):
    assert external_references(page) == []
    lowered = page.lower()
    assert "require.min.js" not in lowered
    assert "mathjax@" not in lowered and "tex-svg" not in lowered and "mathjax.js" not in lowered
    # plotly.js itself carries its CDN URL as a string constant; nothing else may
    assert page.count("cdn.plot.ly") == get_plotlyjs().count("cdn.plot.ly")


def test_plotlyjs_embedded_once_and_figure_present(built: ReportSummary, page: str):
    assert count_plotlyjs(page) == 1
    assert count_figures(page) == 1 == built.reports[0].n_figures
    assert "Plotly.newPlot" in page
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


def test_index_links_reports_and_escapes_summary(built: ReportSummary):
    index = built.index.read_text(encoding="utf-8")
    assert built.index == built.out_dir / "index.html"
    assert '<a href="demo.html">Demo spending report</a>' in index
    assert "<th>data date</th><td>2024-03-31</td>" in index
    assert "<th>2023-24</th><td>12 of 12 months</td>" in index
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in index
    assert "<script" not in index
    assert external_references(index) == []


def test_failing_notebook_names_cell_and_error(tmp_path: Path):
    nb = _write_notebook(tmp_path / "broken.ipynb", [
        new_markdown_cell("# Broken"),
        new_code_cell("divisor = 1", metadata={"tags": ["parameters"]}),
        new_code_cell("total = 10\nshare = total / divisor"),
    ])
    with pytest.raises(BuildError) as info:
        build_reports([nb], tmp_path / "out", parameters={"divisor": 0}, progress=False)
    message = str(info.value)
    assert f"{nb}: cell 3 (In [" in message  # numbered as in the author's notebook
    assert "ZeroDivisionError: division by zero" in message
    assert "share = total / divisor" in message
    assert "\x1b[" not in message  # no terminal colour codes
    assert not (tmp_path / "out" / "broken.html").exists()


def test_no_input_hides_code_and_prompts(tmp_path: Path):
    nb = _write_notebook(tmp_path / "quiet.ipynb", [
        new_markdown_cell("# Quiet"),
        new_code_cell("secret_code_line = 6 * 7\nprint('answer', secret_code_line)"),
    ])
    summary = build_reports([nb], tmp_path / "out", no_input=True, progress=False)
    page = summary.reports[0].html.read_text(encoding="utf-8")
    assert "answer 42" in page
    assert "secret_code_line" not in page
    assert "In&nbsp;[" not in page and "In [1]" not in page
    assert summary.reports[0].n_figures == 0
    assert external_references(page) == []


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
