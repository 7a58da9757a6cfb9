"""Build every report page at once, or none: parallel notebooks, an atomic swap, one clear line.

`build_reports` runs the notebooks two at a time (each in its own kernel), exports each page
(report view, and the analyst view with `analyst=True`), lets the notebooks write their
workbooks/CSVs beside the pages (`export=("xlsx", "csv")`), prints PDFs through Chromium
(`pdf=True`), writes `index.html` and `build.log`, all into a staging folder beside the
reports folder; only when every page is built is the staging folder swapped in. A failing
notebook leaves the previous reports untouched: the error is one line naming the notebook, the
cell and the cause, and the traceback goes to `<reports>/build-failed.log`.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from spendkit import __version__
from spendkit.errors import BuildError
from spendkit.report import notebooks as run
from spendkit.report.index import write_index
from spendkit.report.pages import (
    check_offline,
    count_figures,
    count_self_checks,
    export_html,
    header_html,
)
from spendkit.report.results import NotebookReport, ReportSummary
from spendkit.settings import get_settings

#: Export formats a build can ask the notebooks for.
EXPORT_FORMATS = ("xlsx", "csv")
#: Written into every reports folder we build; a folder with it may be replaced whole.
MARKER = ".spendkit-reports"
#: Log of the last failed build, inside the (untouched) reports folder.
FAILED_LOG = "build-failed.log"
#: Suffixes of what an earlier build (before the marker existed) could have left.
_OURS = {".html", ".pdf", ".xlsx", ".csv", ".log"}
#: Notebook parameters the build fills in for notebooks that declare them.
EXPORT_DIR_PARAMETER, EXPORT_FORMATS_PARAMETER = "export_dir", "export_formats"


def _check_list(paths: Sequence[Path]) -> None:
    if not paths:
        raise BuildError("no notebooks to build a report from")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise BuildError(f"notebook(s) not found: {', '.join(missing)}")
    stems = [p.stem for p in paths]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise BuildError(f"two notebooks would write the same report: {', '.join(clashes)}")


def _check_replaceable(out: Path) -> None:
    """Refuse to replace a folder holding anything a report build did not write."""
    if not out.exists():
        return
    if not out.is_dir():
        raise BuildError(f"{out}: expected a folder for the reports, found a file")
    if (out / MARKER).exists():
        return
    foreign = sorted(p.name for p in out.iterdir()
                     if not (p.is_file() and p.suffix.lower() in _OURS)
                     and not (p.is_dir() and (p.name == "analyst" or p.name.endswith("-csv"))))
    if foreign:
        raise BuildError(f"{out}: holds {', '.join(foreign[:5])}, which a report build did not "
                         "write; the build replaces the whole folder, so choose an empty or "
                         "new folder for the reports")


def _parameter_sources(path: Path, passed: Mapping[str, Any]) -> dict[str, str]:
    """Every declared parameter with the value the page was built with, as Python source."""
    out = {}
    for name, default in run.declared_parameters(path).items():
        if name in (EXPORT_DIR_PARAMETER, EXPORT_FORMATS_PARAMETER):
            continue  # where files went is a build detail, not a figure's parameter
        out[name] = repr(passed[name]) if name in passed else str(default)
    return out


def _build_one(path: Path, staging: Path, scratch: Path, parameters: Mapping[str, Any], *,
               analyst: bool, export: Sequence[str], timeout: int, data_date: str | None
               ) -> NotebookReport:
    """Execute one notebook and write its page(s) into `staging`."""
    started = time.perf_counter()
    declared = run.declared_parameters(path)
    passed = {k: v for k, v in parameters.items() if k in declared}
    if export and EXPORT_DIR_PARAMETER in declared:
        passed[EXPORT_DIR_PARAMETER] = str(staging)
        if EXPORT_FORMATS_PARAMETER in declared:
            passed[EXPORT_FORMATS_PARAMETER] = list(export)
    before = set(staging.rglob("*"))
    nb = run.execute_notebook(path, scratch / path.name, passed, timeout=timeout)
    title = run.notebook_title(nb, path.stem)
    checks = count_self_checks(nb)
    sources = _parameter_sources(path, passed)
    html_path = staging / f"{path.stem}.html"
    page = export_html(nb, title, view="report", header=header_html(
        view="report", parameters=sources, self_checks=checks, data_date=data_date))
    check_offline(page, html_path)
    html_path.write_text(page, encoding="utf-8")
    analyst_path = None
    if analyst:
        analyst_path = staging / "analyst" / f"{path.stem}.html"
        analyst_path.parent.mkdir(exist_ok=True)
        code_page = export_html(nb, title, view="analyst", header=header_html(
            view="analyst", parameters=sources, self_checks=checks, data_date=data_date))
        check_offline(code_page, analyst_path)
        analyst_path.write_text(code_page, encoding="utf-8")
    written = sorted(p for p in set(staging.rglob("*")) - before
                     if p.is_file() and p.suffix in (".xlsx", ".csv")
                     and (p.name.startswith(path.stem) or p.parent.name.startswith(path.stem)))
    return NotebookReport(
        notebook=path, html=html_path, title=title, size_bytes=html_path.stat().st_size,
        n_figures=count_figures(page), parameters=passed,
        seconds=round(time.perf_counter() - started, 2), analyst_html=analyst_path,
        exports=tuple(written), self_checks=checks)


def _progress_printer(enabled: bool, total: int, stream: TextIO | None = None
                      ) -> Callable[[str], None]:
    """A function printing one line per finished notebook (to stderr), or doing nothing."""
    out = stream or sys.stderr
    count = {"done": 0}

    def emit(text: str) -> None:
        if not enabled:
            return
        count["done"] += 1
        print(f"report [{count['done']}/{total}] {text}", file=out, flush=True)

    return emit


def _swap_in(staging: Path, out: Path) -> None:
    """Replace `out` by `staging` (two renames in the same folder; the old one is then removed)."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(staging, out)
    except OSError:
        if old.exists():
            os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _remove_stale(out: Path) -> None:
    """Staging folders left by a build that was killed."""
    for stale in out.parent.glob(f".{out.name}.building-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in out.parent.glob(f".{out.name}.old-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _write_failure_log(out: Path, failure: BaseException, finished: Sequence[str]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    log = out / FAILED_LOG
    details = getattr(failure, "details", None) or f"{type(failure).__name__}: {failure}\n"
    log.write_text(
        f"spendkit {__version__}: report build failed; the reports in this folder are the "
        f"previous build's, unchanged.\n\n{details}\n"
        f"pages built before the failure (discarded): {', '.join(finished) or 'none'}\n",
        encoding="utf-8")
    return log


def build_reports(
    notebooks: list[Path] | None = None,
    out_dir: Path | None = None,
    parameters: dict[str, Any] | None = None,
    no_input: bool = True,
    progress: bool = True,
    *,
    summary: Mapping[str, Any] | None = None,
    timeout: int = run.CELL_TIMEOUT,
    analyst: bool = False,
    export: Sequence[str] = (),
    pdf: bool = False,
    jobs: int | None = None,
    data_date: str | None = None,
    title: str = "Spending reports",
) -> ReportSummary:
    """Execute notebooks and export each to offline HTML in `out_dir`, plus `index.html`.

    `notebooks` defaults to the project's `notebooks/*.ipynb`, `out_dir` to `reports/`.
    `parameters` go to the notebooks that declare them; `summary` (data coverage, ledger totals
    …) is shown on the index page as given, escaped. Pages are in the report view; `analyst`
    adds the code view under `analyst/`; `no_input=False` is the old spelling of
    `analyst=True`. `export` asks notebooks declaring `export_dir` for workbooks ('xlsx') and
    CSVs ('csv'); `pdf` prints each page with Chromium (skipped, with the reason in
    `pdf_skipped`, when it is missing). `jobs` notebooks run at once (default: 2, or 1 on one
    core). Raises BuildError with one short line when a notebook fails, leaving `out_dir` as
    it was (the traceback is in `out_dir/build-failed.log`).
    """
    started = time.perf_counter()
    paths = ([Path(p) for p in notebooks] if notebooks is not None
             else run.find_notebooks(run.default_notebooks_dir()))
    _check_list(paths)
    unknown = sorted(set(export) - set(EXPORT_FORMATS))
    if unknown:
        raise BuildError(f"export: unknown format(s) {unknown}; expected some of "
                         f"{', '.join(EXPORT_FORMATS)}")
    analyst = analyst or not no_input
    out = (out_dir if out_dir is not None else get_settings().reports_dir).resolve()
    _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(out)
    parameters = dict(parameters or {})
    workers = jobs if jobs is not None else max(1, min(2, os.cpu_count() or 1, len(paths)))
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the reports folder is not
    emit = _progress_printer(progress, len(paths))
    built: dict[Path, NotebookReport] = {}
    try:
        with (run.kernel_env(report=True),
              tempfile.TemporaryDirectory(prefix="spendkit-executed-") as scratch,
              ThreadPoolExecutor(max_workers=workers) as pool):
            futures: dict[Future, Path] = {
                pool.submit(_build_one, p, staging, Path(scratch), parameters,
                            analyst=analyst, export=tuple(export), timeout=timeout,
                            data_date=data_date): p
                for p in paths}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    error = future.exception()
                    if error is not None:
                        for other in pending:
                            other.cancel()
                        raise error
                    report = future.result()
                    built[futures[future]] = report
                    emit(f"{report.notebook.name}: {report.seconds:.1f} s, "
                         f"{report.size_bytes / 1e6:.2f} MB, {report.n_figures} chart(s)")
        reports = [built[p] for p in paths]
        pdf_skipped = ""
        if pdf:
            from spendkit.report.pdf import print_pdfs

            printed, pdf_skipped = print_pdfs([r.html for r in reports])
            reports = [replace(r, pdf=printed.get(r.html)) for r in reports]
        used = {k for p in paths for k in run.declared_parameters(p)}
        index = write_index(staging, reports, summary, title=title)
        result = ReportSummary(out_dir=out, index=out / index.name, reports=tuple(
            _moved(r, staging, out) for r in reports),
            seconds=round(time.perf_counter() - started, 2),
            unused_parameters=tuple(sorted(set(parameters) - used)), pdf_skipped=pdf_skipped)
        (staging / MARKER).write_text("spendkit reports folder: replaced whole by each build\n",
                                      encoding="utf-8")
        (staging / "build.log").write_text(
            f"spendkit {__version__}: {len(reports)} page(s) in {result.seconds:.1f} s\n"
            + "".join(f"{line}\n" for line in result.lines()), encoding="utf-8")
        _swap_in(staging, out)
        return result
    except run.CellFailure as failure:
        log = _write_failure_log(out, failure, [r.html.name for r in built.values()])
        raise BuildError(f"{failure} (reports unchanged; traceback in {log})") from None
    except BuildError as failure:
        _write_failure_log(out, failure, [r.html.name for r in built.values()])
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _moved(report: NotebookReport, staging: Path, out: Path) -> NotebookReport:
    """The same report with its paths in the final folder instead of the staging one."""
    def move(p: Path | None) -> Path | None:
        return out / p.relative_to(staging) if p is not None else None

    return replace(report, html=move(report.html), analyst_html=move(report.analyst_html),
                   pdf=move(report.pdf), exports=tuple(move(p) for p in report.exports))


__all__ = ["EXPORT_FORMATS", "FAILED_LOG", "MARKER", "NotebookReport", "ReportSummary",
           "build_reports"]
