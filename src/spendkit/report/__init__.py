"""Notebooks → self-contained offline HTML reports a finance committee can read.

* `notebooks`: find notebooks, read their `parameters`, run them with papermill (quiet
  kernels), store them for nbval (`store_notebook`);
* `pages`: one executed notebook → one page, in the report view (no code, parameters or
  self-checks; a short header instead) or the analyst view (code shown), plotly.js embedded
  once, compressed; offline checks;
* `build`: every page at once or none — notebooks two at a time, staging folder swapped in
  when all are built, one line per notebook, exports (xlsx/csv) and PDFs beside the pages;
* `index`: the front page; `pdf`: printing through headless Chromium;
* `pipeline`: raw files → ingest → reports in one call (`spendkit report`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from spendkit.report.build import (
    EXPORT_FORMATS,
    FAILED_LOG,
    NotebookReport,
    ReportSummary,
    build_reports,
)
from spendkit.report.index import write_index
from spendkit.report.notebooks import (
    CELL_TIMEOUT,
    CellFailure,
    declared_parameters,
    default_notebooks_dir,
    execute_notebook,
    find_notebooks,
    notebook_title,
    store_notebook,
)
from spendkit.report.pages import (
    TEMPLATE_NAME,
    TEMPLATES_DIR,
    check_offline,
    count_figures,
    count_plotlyjs,
    export_html,
    external_references,
)

__all__ = [
    "CELL_TIMEOUT", "EXPORT_FORMATS", "FAILED_LOG", "TEMPLATES_DIR", "TEMPLATE_NAME",
    "CellFailure", "NotebookReport", "ReportSummary", "build_reports", "check_offline",
    "count_figures", "count_plotlyjs", "declared_parameters", "default_notebooks_dir",
    "execute_notebook", "export_html", "external_references", "find_notebooks",
    "notebook_title", "store_notebook", "write_index",
]


if __name__ == "__main__":  # pragma: no cover - `python -m spendkit.report NB...` for quick use
    s = build_reports([Path(a) for a in sys.argv[1:]] or None)
    print("\n".join(s.lines()))
    print(f"{s.index} ({s.seconds}s)")
