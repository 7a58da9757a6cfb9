"""spendkit.report's checks and helpers that need no kernel: offline scan, export, index."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from spendkit.errors import BuildError
from spendkit.report import (
    TEMPLATES_DIR,
    NotebookReport,
    build_reports,
    check_offline,
    count_figures,
    count_plotlyjs,
    export_html,
    external_references,
    find_notebooks,
    notebook_title,
    write_index,
)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://cdn.plot.ly/plotly-4.1.1.min.js"></script>',
        "<SCRIPT type='text/javascript' SRC='http://x.org/a.js'></SCRIPT>",
        '<script src="//cdnjs.cloudflare.com/require.js"></script>',
        '<link rel="stylesheet" href="https://fonts.example/a.css">',
        '<script type="module">import("https://cdn.jsdelivr.net/npm/mermaid.esm.min.mjs")</script>',
    ],
)
def test_external_references_found(snippet: str):
    page = f"<html><head>{snippet}</head><body></body></html>"
    assert len(external_references(page)) == 1
    with pytest.raises(BuildError, match="references the network"):
        check_offline(page, "r.html")


def test_local_and_inline_references_pass():
    page = ('<html><head><script src="plotly.min.js"></script><link href="style.css">'
            '<script>var u = "https://example.org/licence";</script></head>'
            '<body><a href="https://example.org">source</a></body></html>')
    assert external_references(page) == []
    check_offline(page, "r.html")


def test_figures_need_exactly_one_plotlyjs():
    fig = '<div id="a" class="plotly-graph-div" style="height:480px"></div>'
    assert count_figures(fig * 2) == 2
    with pytest.raises(BuildError, match="plotly.js embedded once, found 0"):
        check_offline(fig, "r.html")
    banner = "<script>/**\n* plotly.js v4.1.1\n*/</script>"
    assert count_plotlyjs(banner * 2) == 2
    check_offline(banner + fig * 2, "r.html")
    with pytest.raises(BuildError, match="found 2 copies"):
        check_offline(banner * 2 + fig, "r.html")


def _nb_with_outputs(*outputs) -> nbformat.NotebookNode:
    cell = new_code_cell("fig", execution_count=1)
    cell.outputs = list(outputs)
    return new_notebook(cells=[new_markdown_cell("## Spend <by> year\nText"), cell])


def test_export_fails_when_a_chart_cannot_be_shown():
    nb = _nb_with_outputs(new_output("display_data",
                                     data={"application/vnd.plotly.v1+json": {"data": []}}))
    with pytest.raises(BuildError, match="missing from the HTML.*is not able to be represented"):
        export_html(nb, "Spend")


def test_export_uses_offline_template():
    nb = _nb_with_outputs(new_output("display_data", data={"text/html": "<b>ok</b>",
                                                           "text/plain": "ok"}))
    page = export_html(nb, "Spend & co")
    assert "<b>ok</b>" in page
    assert "<title>Spend &amp; co</title>" in page
    assert external_references(page) == []
    assert "require.min.js" not in page and "MathJax.js" not in page
    assert (TEMPLATES_DIR / "offline" / "conf.json").is_file()


def test_notebook_title():
    assert notebook_title(_nb_with_outputs(), "fallback") == "Spend <by> year"
    assert notebook_title(new_notebook(cells=[new_markdown_cell("no heading")]), "nb") == "nb"


def test_find_notebooks(tmp_path: Path):
    for name in ["02-b.ipynb", "01-a.ipynb", "_draft.ipynb", "notes.txt"]:
        (tmp_path / name).write_text("{}")
    assert [p.name for p in find_notebooks(tmp_path)] == ["01-a.ipynb", "02-b.ipynb"]
    with pytest.raises(BuildError, match="notebooks folder not found"):
        find_notebooks(tmp_path / "missing")


def test_build_reports_rejects_bad_lists_before_running(tmp_path: Path):
    with pytest.raises(BuildError, match="not found: .*nope.ipynb"):
        build_reports([tmp_path / "nope.ipynb"], tmp_path, progress=False)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.ipynb").write_text("{}")
    with pytest.raises(BuildError, match="same report: same"):
        build_reports([tmp_path / "a" / "same.ipynb", tmp_path / "b" / "same.ipynb"], tmp_path,
                      progress=False)
    with pytest.raises(BuildError, match="no notebooks"):
        build_reports([], tmp_path, progress=False)


def test_write_index_escapes_everything(tmp_path: Path):
    report = NotebookReport(
        notebook=Path("nb/01-<x>.ipynb"), html=tmp_path / "01-<x>.html", title="IT & <b>spend</b>",
        size_bytes=1, n_figures=2, parameters={}, seconds=0.0,
    )
    index = write_index(tmp_path, [report], {"ledger <total>": {"2023-24": "£1,234"},
                                             "councils": ["Leeds", "<York>"]})
    text = index.read_text(encoding="utf-8")
    assert '<a href="01-&lt;x&gt;.html">IT &amp; &lt;b&gt;spend&lt;/b&gt;</a>' in text
    assert "<th>ledger &lt;total&gt;</th>" in text
    assert "<th>2023-24</th><td>£1,234</td>" in text
    assert "Leeds, &lt;York&gt;" in text
    assert "<td class='num'>2</td>" in text
    # no wall-clock value: the same input writes the same bytes
    again = write_index(tmp_path, [report], {"ledger <total>": {"2023-24": "£1,234"},
                                             "councils": ["Leeds", "<York>"]})
    assert again.read_text(encoding="utf-8") == text
    assert "<th>Also</th>" not in text  # nothing else was written: no empty column
    with_pdf = NotebookReport(
        notebook=report.notebook, html=report.html, title="t", size_bytes=1, n_figures=2,
        parameters={}, seconds=0.0, pdf=tmp_path / "01.pdf")
    text = write_index(tmp_path, [report, with_pdf]).read_text(encoding="utf-8")
    assert text.count("<th>Also</th>") == 1 and '<a href="01.pdf">PDF</a>' in text
    assert text.count("<td></td></tr>") == 1  # the report without one has an empty cell


def test_pdf_skipped_with_a_clear_reason_without_chromium(monkeypatch, tmp_path: Path):
    from spendkit.report import pdf

    monkeypatch.setattr(pdf, "find_chromium", lambda: None)
    printed, reason = pdf.print_pdfs([tmp_path / "a.html"])
    assert printed == {} and reason.startswith("PDFs skipped: no Chromium found")


def test_plotly_bundle_matches_plotly_py_and_is_small():
    from plotly.offline import get_plotlyjs_version

    from spendkit.report.pages import CARTESIAN_FILE, _bundle

    assert f"plotly-cartesian-{get_plotlyjs_version()}.min.js.gz" == CARTESIAN_FILE
    assert len(_bundle("cartesian")) < 700_000 < len(_bundle("full"))


def test_header_lists_parameters_escaped_and_says_checks_passed():
    from spendkit.report.pages import header_html

    head = header_html(view="report", parameters={"council": "'<b>Leeds</b>'", "top_n": "5"},
                       self_checks=3, data_date="31 March 2026")
    assert "<code>council = &#x27;&lt;b&gt;Leeds&lt;/b&gt;&#x27;</code>" in head
    assert "All 3 self-checks" in head and "from data up to 31 March 2026" in head
