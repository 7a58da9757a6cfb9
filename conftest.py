"""Project-root pytest hooks and fixtures shared across test folders.

tests/conftest.py holds the data fixtures; this file anchors nbval's sanitize file and builds
the demo report once per session for tests/integration/test_report*.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEMO_NOTEBOOK = Path(__file__).resolve().parent / "tests" / "data" / "notebooks" / "demo.ipynb"


def pytest_configure(config: pytest.Config) -> None:
    """Anchor `--nbval-sanitize-with` to the project root: nbval opens it relative to the cwd."""
    path = getattr(config.option, "nbval_sanitize_with", None)
    if path and not os.path.isabs(path):
        config.option.nbval_sanitize_with = str(config.rootpath / path)


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory: pytest.TempPathFactory):
    """The demo notebook built once into a temporary reports folder (a ReportSummary).

    Built with parameters (one declared, one not) and a run summary holding hostile text;
    building costs ~5 s (kernel start and the kernel's pandas/plotly imports).
    """
    from spendkit.report import build_reports

    return build_reports(
        [DEMO_NOTEBOOK], tmp_path_factory.mktemp("reports"),
        parameters={"council": "Testshire", "not_declared": 1}, progress=False,
        summary={"data date": "2024-03-31", "coverage": {"2023-24": "12 of 12 months"},
                 "supplier": "<script>alert(2)</script>"},
    )
