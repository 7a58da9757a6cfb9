"""Notebooks → self-contained offline HTML reports, plus an index page; and notebook storing.

`build_reports` runs each notebook with papermill (kernel cwd = the notebook's folder,
`SPENDKIT_REPORT=1` so `spendkit.views.plotting` embeds figures as offline HTML), passes each notebook
only the parameters its `parameters` cell declares, exports it with the offline nbconvert
template shipped in `package_data/templates/nbconvert/offline`, checks that the page references
nothing on the network, and writes `index.html` linking the reports with a run summary.

`store_notebook` executes a notebook in place without the report renderer and strips volatile
metadata, so stored outputs are stable under nbval and diff cleanly.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from spendkit import __version__
from spendkit.errors import BuildError
from spendkit.reference import catalogue
from spendkit.settings import get_settings
from spendkit.views.html import escape_html
from spendkit.views.plotting import REPORT_ENV

TEMPLATES_DIR = catalogue.path("nbconvert_templates")
TEMPLATE_NAME = "offline"
#: Seconds one cell may run before the report (or store) fails.
CELL_TIMEOUT = 600

#: References to the network that an offline page must not contain.
EXTERNAL_REFERENCE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("script src", re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//", re.I)),
    ("link href", re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//", re.I)),
    ("import()", re.compile(r"\bimport\s*\(\s*[\"'`]\s*(?:https?:)?//", re.I)),
)
#: nbconvert's warning when an output has no mimetype the template can show (a missing chart).
UNREPRESENTABLE = "is not able to be represented"
#: The banner at the top of plotly.js: counts how many copies a page embeds.
PLOTLYJS_BANNER = "* plotly.js v"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class NotebookReport:
    """One exported report: where it came from, where it went, and what it holds."""

    notebook: Path
    html: Path
    title: str
    size_bytes: int
    n_figures: int
    parameters: dict[str, Any]
    seconds: float


@dataclass(frozen=True)
class ReportSummary:
    """What `build_reports` produced: the index page and one entry per notebook."""

    out_dir: Path
    index: Path
    reports: tuple[NotebookReport, ...]
    seconds: float
    unused_parameters: tuple[str, ...] = field(default=())


def default_notebooks_dir() -> Path:
    """The project's `notebooks/` folder in a checkout, else `./notebooks`."""
    return get_settings().notebooks_dir


def find_notebooks(folder: Path) -> list[Path]:
    """The notebooks in `folder`, sorted by name; names starting with `_` or `.` are skipped."""
    if not folder.is_dir():
        raise BuildError(f"{folder}: notebooks folder not found (expected a folder of .ipynb)")
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith(("_", ".")))


@contextlib.contextmanager
def _kernel_env(report: bool) -> Iterator[None]:
    """Set (or unset) SPENDKIT_REPORT for kernels started inside the block, then restore it.

    jupyter_client copies os.environ when it launches a kernel, and papermill offers no other
    way to pass the kernel an environment.
    """
    before = os.environ.get(REPORT_ENV)
    if report:
        os.environ[REPORT_ENV] = "1"
    else:
        os.environ.pop(REPORT_ENV, None)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(REPORT_ENV, None)
        else:
            os.environ[REPORT_ENV] = before


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first Markdown `# heading` of a notebook, else `fallback`."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                title = line.lstrip("#").strip()
                if title:
                    return title
    return fallback


def declared_parameters(path: Path) -> list[str]:
    """Names assigned in the notebook's cell tagged `parameters` (none if there is no such cell)."""
    import papermill

    return list(papermill.inspect_notebook(str(path)))


def _excerpt(source: str, max_lines: int = 12) -> str:
    lines = source.splitlines()
    shown = lines[:max_lines]
    if len(lines) > max_lines:
        shown.append(f"... ({len(lines) - max_lines} more lines)")
    return "\n".join("    " + line for line in shown)


def _cell_error(notebook: Path, cell_number: int, exec_count: Any, source: str, ename: str,
                evalue: str, traceback: Sequence[str]) -> BuildError:
    """A BuildError naming the notebook, the 1-based cell number, its source and the error."""
    tb = _ANSI.sub("", "\n".join(traceback)).strip().splitlines()
    tail = "\n".join("    " + line for line in tb[-8:])
    return BuildError(
        f"{notebook}: cell {cell_number} (In [{exec_count}]) raised {ename}: {evalue}\n"
        f"  cell source:\n{_excerpt(source)}\n"
        f"  traceback (last lines):\n{tail}"
    )


def execute_notebook(path: Path, output: Path, parameters: Mapping[str, Any] | None = None,
                     *, report: bool = True, timeout: int = CELL_TIMEOUT) -> nbformat.NotebookNode:
    """Run `path` with papermill in its own folder, writing the executed copy to `output`.

    Only the parameters the notebook declares are injected. A failing cell raises BuildError.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    path = path.resolve()
    source_nb = nbformat.read(path, as_version=4)
    declared = set(declared_parameters(path))
    params = {k: v for k, v in (parameters or {}).items() if k in declared}
    with _kernel_env(report):
        try:
            return papermill.execute_notebook(
                str(path), str(output.resolve()), parameters=params, cwd=str(path.parent),
                progress_bar=False, log_output=False, execution_timeout=timeout,
            )
        except PapermillExecutionError as exc:
            # papermill counts its injected-parameters cell; number cells as the author sees them.
            index = exc.cell_index
            if params:
                tagged = [i for i, c in enumerate(source_nb.cells)
                          if "parameters" in c.get("metadata", {}).get("tags", [])]
                if tagged and index > tagged[-1]:
                    index -= 1
            raise _cell_error(path, index + 1, exc.exec_count, exc.source, exc.ename,
                              exc.evalue, exc.traceback) from None


def export_html(nb: nbformat.NotebookNode, title: str, *, no_input: bool = False) -> str:
    """Render an executed notebook to one offline HTML page; fail on unrepresentable outputs."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=no_input,
        exclude_input_prompt=no_input,
        exclude_output_prompt=no_input,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    lost = sorted({str(w.message) for w in caught if UNREPRESENTABLE in str(w.message)})
    if lost:
        raise BuildError(f"{title}: output(s) missing from the HTML: {'; '.join(lost)}")
    return body


def external_references(page: str) -> list[str]:
    """Snippets of `page` that would make a browser fetch something from the network."""
    found = []
    for label, pattern in EXTERNAL_REFERENCE_PATTERNS:
        for m in pattern.finditer(page):
            found.append(f"{label}: {page[m.start():m.end() + 60]!r}")
    return found


def count_figures(page: str) -> int:
    """Number of plotly figures (divs) in an exported page."""
    return page.count('class="plotly-graph-div"')


def count_plotlyjs(page: str) -> int:
    """Number of embedded copies of plotly.js in a page (1 for a page with charts)."""
    return page.count(PLOTLYJS_BANNER)


def check_offline(page: str, where: Path | str) -> None:
    """Raise BuildError if `page` references the network or has figures without plotly.js."""
    refs = external_references(page)
    if refs:
        raise BuildError(f"{where}: page references the network: " + "; ".join(refs[:5]))
    n_js = count_plotlyjs(page)
    if count_figures(page) and n_js != 1:
        raise BuildError(f"{where}: expected plotly.js embedded once, found {n_js} copies")


def _summary_value(value: Any) -> str:
    """HTML for one summary value: nested mappings become a small table, lists are joined."""
    if isinstance(value, Mapping):
        rows = "".join(f"<tr><th>{escape_html(k)}</th><td>{_summary_value(v)}</td></tr>"
                       for k, v in value.items())
        return f"<table class='nested'>{rows}</table>"
    if isinstance(value, (list, tuple)):
        return ", ".join(_summary_value(v) for v in value)
    return escape_html(value)


_INDEX_CSS = """
body{font-family:Segoe UI,Helvetica Neue,Arial,sans-serif;margin:2rem auto;max-width:60rem;
color:#222;padding:0 1rem}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse}th,td{text-align:left;padding:.3rem .8rem;
border-bottom:1px solid #ddd;vertical-align:top}table.nested th,table.nested td{border:0;
padding:.1rem .6rem .1rem 0}footer{margin-top:3rem;color:#666;font-size:.85rem}
"""


def write_index(out_dir: Path, reports: Sequence[NotebookReport],
                summary: Mapping[str, Any] | None = None) -> Path:
    """Write `out_dir/index.html`: links to each report and the run summary (all escaped)."""
    items = "".join(
        f"<tr><td><a href=\"{escape_html(r.html.name)}\">{escape_html(r.title)}</a></td>"
        f"<td>{escape_html(r.notebook.name)}</td><td>{r.n_figures}</td></tr>"
        for r in reports
    )
    summary_rows = "".join(
        f"<tr><th>{escape_html(k)}</th><td>{_summary_value(v)}</td></tr>"
        for k, v in (summary or {}).items()
    )
    summary_html = (f"<h2>Run summary</h2><table>{summary_rows}</table>" if summary_rows else "")
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Spending reports</title><style>{_INDEX_CSS}</style></head><body>"
        "<h1>Spending reports</h1>"
        "<table><tr><th>Report</th><th>Notebook</th><th>Charts</th></tr>"
        f"{items}</table>{summary_html}"
        f"<footer>Built with spendkit {escape_html(__version__)}. Each report opens offline: "
        "charts and tables are embedded in the page.</footer></body></html>\n"
    )
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def build_reports(
    notebooks: list[Path] | None = None,
    out_dir: Path | None = None,
    parameters: dict[str, Any] | None = None,
    no_input: bool = False,
    progress: bool = True,
    *,
    summary: Mapping[str, Any] | None = None,
    timeout: int = CELL_TIMEOUT,
) -> ReportSummary:
    """Execute notebooks and export each to offline HTML in `out_dir`, plus `index.html`.

    `notebooks` defaults to the project's `notebooks/*.ipynb`, `out_dir` to `reports/`.
    `parameters` go to the notebooks that declare them; `summary` (data coverage, ledger totals,
    date of the data …) is shown on the index page as given, escaped. Raises BuildError naming
    the notebook and cell when a notebook fails, or when a page would reach the network.
    """
    started = time.perf_counter()
    paths = [Path(p) for p in notebooks] if notebooks is not None else find_notebooks(
        default_notebooks_dir())
    if not paths:
        raise BuildError("no notebooks to build a report from")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise BuildError(f"notebook(s) not found: {', '.join(missing)}")
    stems = [p.stem for p in paths]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise BuildError(f"two notebooks would write the same report: {', '.join(clashes)}")
    out = (out_dir if out_dir is not None else get_settings().reports_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    parameters = dict(parameters or {})
    used: set[str] = set()
    built: list[NotebookReport] = []

    with _progress(progress, len(paths)) as advance, tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            advance(path.name)
            t0 = time.perf_counter()
            declared = set(declared_parameters(path))
            passed = {k: v for k, v in parameters.items() if k in declared}
            used.update(passed)
            nb = execute_notebook(path, Path(tmp) / path.name, passed, timeout=timeout)
            title = notebook_title(nb, path.stem)
            page = export_html(nb, title, no_input=no_input)
            html_path = out / f"{path.stem}.html"
            check_offline(page, html_path)
            html_path.write_text(page, encoding="utf-8")
            built.append(NotebookReport(
                notebook=path, html=html_path, title=title,
                size_bytes=html_path.stat().st_size, n_figures=count_figures(page),
                parameters=passed, seconds=round(time.perf_counter() - t0, 2),
            ))
        advance(None)

    index = write_index(out, built, summary)
    return ReportSummary(
        out_dir=out, index=index, reports=tuple(built),
        seconds=round(time.perf_counter() - started, 2),
        unused_parameters=tuple(sorted(set(parameters) - used)),
    )


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Any]:
    """Yield `advance(name)`: a rich progress bar on a terminal, a no-op otherwise."""
    from rich.console import Console

    console = Console(stderr=True)
    if not (enabled and console.is_terminal):
        yield lambda name: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]report[/bold] {task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console, transient=False) as bar:
        task = bar.add_task("starting", total=total)
        state = {"started": False}

        def advance(name: str | None) -> None:
            if state["started"]:
                bar.advance(task)
            state["started"] = True
            bar.update(task, description=name or "done")

        yield advance


def store_notebook(path: Path, *, timeout: int = CELL_TIMEOUT) -> Path:
    """Execute a notebook in place (in its folder, report mode off) and strip volatile metadata.

    Keeps cell tags, the kernelspec and language_info; drops execution timings, papermill and
    other per-run metadata, so a re-run that changes nothing gives an identical file. The
    equivalent command line is:

        jupyter nbconvert --to notebook --execute --inplace
          --ExecutePreprocessor.record_timing=False --ClearMetadataPreprocessor.enabled=True
          --ClearMetadataPreprocessor.preserve_cell_metadata_mask=tags
          --ClearMetadataPreprocessor.preserve_nb_metadata_mask=kernelspec
          --ClearMetadataPreprocessor.preserve_nb_metadata_mask=language_info NOTEBOOK
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert.preprocessors import ClearMetadataPreprocessor

    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    with _kernel_env(report=False):
        try:
            client.execute()
        except CellExecutionError as exc:
            index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                          and any(o.get("output_type") == "error" for o in c.get("outputs", []))),
                         None)
            if index is None:
                raise BuildError(f"{path}: {exc}") from None
            cell = nb.cells[index]
            err = next(o for o in cell.outputs if o.get("output_type") == "error")
            raise _cell_error(path, index + 1, cell.execution_count, cell.source, err.ename,
                              err.evalue, err.traceback) from None
    cleaner = ClearMetadataPreprocessor(
        enabled=True,
        preserve_cell_metadata_mask={"tags"},
        preserve_nb_metadata_mask={"kernelspec", "language_info"},
    )
    nb, _ = cleaner.preprocess(nb, {})
    nbformat.validate(nb)
    nbformat.write(nb, str(path))  # sorted keys, indent 1, trailing newline: same as JupyterLab
    return path


if __name__ == "__main__":  # pragma: no cover - `python -m spendkit.report NB...` for quick use
    s = build_reports([Path(a) for a in sys.argv[1:]] or None)
    for r in s.reports:
        print(f"{r.html} {r.size_bytes:,} bytes, {r.n_figures} figure(s), {r.seconds}s")
    print(f"{s.index} ({s.seconds}s)")
