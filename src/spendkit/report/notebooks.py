"""Run notebooks: find them, read their parameters, execute them (papermill), store them.

A failing cell becomes one `BuildError` naming the notebook, the cell as the author numbers it
and the cause; `CellFailure` keeps the full traceback for the build log. Kernels run with
their log level at CRITICAL, so ipykernel's "running over TCP without encryption" warning (and
other start-up noise) never reaches the terminal.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

from spendkit.errors import BuildError
from spendkit.settings import get_settings
from spendkit.views.plotting import REPORT_ENV

#: Seconds one cell may run before the report (or store) fails.
CELL_TIMEOUT = 600
#: Arguments for every kernel we start: nothing on the terminal (cell errors reach the notebook itself).
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class CellFailure(BuildError):
    """A notebook cell raised: `str()` is one short line; `details` holds source and traceback."""

    def __init__(self, notebook: Path, cell_number: int, ename: str, evalue: str,
                 source: str, traceback: Sequence[str]) -> None:
        self.notebook = notebook
        self.cell_number = cell_number
        self.ename = ename
        self.evalue = evalue
        first = (evalue.strip().splitlines() or [""])[0]
        if len(first) > 240:
            first = first[:237] + "..."
        super().__init__(f"{notebook.name}, cell {cell_number}: {ename}: {first}")
        tb = _ANSI.sub("", "\n".join(traceback)).rstrip()
        self.details = (f"{notebook}: cell {cell_number} raised {ename}: {evalue}\n\n"
                        f"cell source:\n{_indent(source)}\n\ntraceback:\n{_indent(tb)}\n")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def default_notebooks_dir() -> Path:
    """The project's `notebooks/` folder in a checkout, else `./notebooks`."""
    return get_settings().notebooks_dir


def find_notebooks(folder: Path) -> list[Path]:
    """The notebooks in `folder`, sorted by name; names starting with `_` or `.` are skipped."""
    if not folder.is_dir():
        raise BuildError(f"{folder}: notebooks folder not found (expected a folder of .ipynb)")
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith(("_", ".")))


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


def declared_parameters(path: Path) -> dict[str, Any]:
    """Names assigned in the notebook's cell tagged `parameters`, with their default source."""
    import papermill

    return {name: info.get("default") for name, info in
            papermill.inspect_notebook(str(path)).items()}


@contextlib.contextmanager
def kernel_env(report: bool) -> Iterator[None]:
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


def _author_cell_number(source_nb: nbformat.NotebookNode, index: int, injected: bool) -> int:
    """1-based number of a cell as the author sees it (papermill's injected cell not counted)."""
    if injected:
        tagged = [i for i, c in enumerate(source_nb.cells)
                  if "parameters" in c.get("metadata", {}).get("tags", [])]
        if tagged and index > tagged[-1]:
            index -= 1
    return index + 1


def execute_notebook(path: Path, output: Path, parameters: Mapping[str, Any] | None = None,
                     *, timeout: int = CELL_TIMEOUT) -> nbformat.NotebookNode:
    """Run `path` with papermill in its own folder, writing the executed copy to `output`.

    Only the parameters the notebook declares are injected. The caller sets the kernel
    environment (`kernel_env`). A failing cell raises `CellFailure`.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    path = path.resolve()
    source_nb = nbformat.read(path, as_version=4)
    declared = declared_parameters(path)
    params = {k: v for k, v in (parameters or {}).items() if k in declared}
    try:
        return papermill.execute_notebook(
            str(path), str(output.resolve()), parameters=params, cwd=str(path.parent),
            progress_bar=False, log_output=False, execution_timeout=timeout,
            extra_arguments=KERNEL_ARGUMENTS,
        )
    except PapermillExecutionError as exc:
        number = _author_cell_number(source_nb, exc.cell_index, bool(params))
        raise CellFailure(path, number, exc.ename, exc.evalue, exc.source,
                          exc.traceback) from None


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
                            extra_arguments=KERNEL_ARGUMENTS,
                            resources={"metadata": {"path": str(path.parent)}})
    with kernel_env(report=False):
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
            raise CellFailure(path, index + 1, err.ename, err.evalue, cell.source,
                              err.traceback) from None
    cleaner = ClearMetadataPreprocessor(
        enabled=True,
        preserve_cell_metadata_mask={"tags"},
        preserve_nb_metadata_mask={"kernelspec", "language_info"},
    )
    nb, _ = cleaner.preprocess(nb, {})
    nbformat.validate(nb)
    nbformat.write(nb, str(path))  # sorted keys, indent 1, trailing newline: same as JupyterLab
    return path


__all__ = ["CELL_TIMEOUT", "CellFailure", "declared_parameters", "default_notebooks_dir",
           "execute_notebook", "find_notebooks", "kernel_env", "notebook_title",
           "store_notebook"]
