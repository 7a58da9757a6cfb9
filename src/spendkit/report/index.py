"""The reports' front page: what the pages cover, links to each, and the run summary.

Everything on it is escaped, and nothing on it comes from the clock, so the same inputs write
the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spendkit import __version__
from spendkit.report.results import NotebookReport
from spendkit.views.html import escape_html

_INDEX_CSS = """
body{font-family:Segoe UI,Helvetica Neue,Arial,sans-serif;margin:2rem auto;max-width:60rem;
color:#1f2328;padding:0 1rem;line-height:1.5}h1{font-size:1.6rem;margin-bottom:.2rem}
h2{font-size:1.2rem;margin-top:2rem}p.lead{color:#59636e;margin-top:0}
table{border-collapse:collapse}th,td{text-align:left;padding:.3rem .8rem;
border-bottom:1px solid #d8dee4;vertical-align:top}table.nested th,table.nested td{border:0;
padding:.1rem .6rem .1rem 0}td.num{text-align:right}footer{margin-top:3rem;color:#59636e;
font-size:.85rem}.warn{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .8rem}
"""


def _summary_value(value: Any) -> str:
    """HTML for one summary value: nested mappings become a small table, lists are joined."""
    if isinstance(value, Mapping):
        rows = "".join(f"<tr><th>{escape_html(k)}</th><td>{_summary_value(v)}</td></tr>"
                       for k, v in value.items())
        return f"<table class='nested'>{rows}</table>"
    if isinstance(value, (list, tuple)):
        return ", ".join(_summary_value(v) for v in value)
    return escape_html(value)


def _links(report: NotebookReport, out_dir: Path) -> str:
    extra = []
    if report.analyst_html is not None:
        extra.append(f'<a href="{escape_html(report.analyst_html.relative_to(out_dir))}">'
                     "with code</a>")
    if report.pdf is not None:
        extra.append(f'<a href="{escape_html(report.pdf.name)}">PDF</a>')
    for path in report.exports:
        if path.suffix == ".xlsx":
            extra.append(f'<a href="{escape_html(path.relative_to(out_dir))}">Excel</a>')
    if any(p.suffix == ".csv" for p in report.exports):
        folder = next(p for p in report.exports if p.suffix == ".csv").parent
        extra.append(f'<a href="{escape_html(folder.relative_to(out_dir))}/">CSV files</a>')
    return " · ".join(extra)


def write_index(out_dir: Path, reports: Sequence[NotebookReport],
                summary: Mapping[str, Any] | None = None, *,
                title: str = "Spending reports", lead: str = "") -> Path:
    """Write `out_dir/index.html`: links to each report and the run summary (all escaped)."""
    summary = dict(summary or {})
    warning = summary.pop("SYNTHETIC data", None)
    lead = lead or str(summary.pop("covers", ""))
    links = [_links(r, out_dir) for r in reports]
    also = any(links)  # no empty "Also" column when nothing else was written
    items = "".join(
        f"<tr><td><a href=\"{escape_html(r.html.name)}\">{escape_html(r.title)}</a></td>"
        f"<td>{escape_html(r.notebook.name)}</td><td class='num'>{r.n_figures}</td>"
        + (f"<td>{extra}</td>" if also else "") + "</tr>"
        for r, extra in zip(reports, links, strict=True)
    )
    summary_rows = "".join(
        f"<tr><th>{escape_html(k)}</th><td>{_summary_value(v)}</td></tr>"
        for k, v in summary.items()
    )
    summary_html = f"<h2>Run summary</h2><table>{summary_rows}</table>" if summary_rows else ""
    warning_html = (f"<p class='warn'><strong>SYNTHETIC data.</strong> {escape_html(warning)}</p>"
                    if warning else "")
    lead_html = f"<p class='lead'>{escape_html(lead)}</p>" if lead else ""
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape_html(title)}</title><style>{_INDEX_CSS}</style></head><body>"
        f"<h1>{escape_html(title)}</h1>{lead_html}{warning_html}"
        "<table><tr><th>Report</th><th>Notebook</th><th>Charts</th>"
        + ("<th>Also</th>" if also else "") + "</tr>"
        f"{items}</table>{summary_html}"
        f"<footer>Built with spendkit {escape_html(__version__)}. Each report opens offline: "
        "charts and tables are embedded in the page.</footer></body></html>\n"
    )
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


__all__ = ["write_index"]
