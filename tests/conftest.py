"""Shared fixtures. Real council files are found through `realdata_dir` only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("SPENDKIT_REALDATA", ROOT.parent / "shared" / "realdata"))


@pytest.fixture(scope="session")
def realdata_dir() -> Path:
    """The folder of real published files (../shared/realdata); skip when it is absent."""
    if not (REALDATA / "MANIFEST.csv").exists():
        pytest.skip(
            f"real council files not found at {REALDATA} (they live in ../shared/realdata "
            "beside the project; set SPENDKIT_REALDATA to point elsewhere)"
        )
    return REALDATA


@pytest.fixture(scope="session")
def reference_dir(realdata_dir: Path) -> Path:
    """../shared/reference (researched facts); skip when absent."""
    ref = realdata_dir.parent / "reference"
    if not ref.is_dir():
        pytest.skip(f"reference facts not found at {ref}")
    return ref
