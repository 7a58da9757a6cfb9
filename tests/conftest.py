"""Shared fixtures. Real council files are found through `realdata_dir` only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline: timings on shared CI machines vary (a first call that warms Arrow's
# kernels took 300 ms once), and a test that fails on timing alone says nothing about the code.
settings.register_profile("spendkit", deadline=None)
settings.load_profile("spendkit")

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
def realdata_series_dir(realdata_dir: Path) -> Path:
    """../shared/realdata-series (85 real monthly Hyndburn files, 2017-2026); skip when absent."""
    series = realdata_dir.parent / "realdata-series"
    if not (series / "MANIFEST.csv").exists():
        pytest.skip(f"real monthly series not found at {series} (../shared/realdata-series)")
    return series


def real_raw_files(folder: Path) -> list[Path]:
    """Every raw published file under a shared real-data folder: not the MANIFEST or README,
    not other people's cleaned copies (`processed/`) and not `_reference/`."""
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and "processed" not in p.relative_to(folder).parts
                  and "_reference" not in p.relative_to(folder).parts
                  and p.name not in ("MANIFEST.csv", "README.md"))


@pytest.fixture(scope="session")
def reference_dir(realdata_dir: Path) -> Path:
    """../shared/reference (researched facts); skip when absent."""
    ref = realdata_dir.parent / "reference"
    if not ref.is_dir():
        pytest.skip(f"reference facts not found at {ref}")
    return ref


def _load_both(path: Path):
    """(result as shipped, result from the loader's careful path only) for one file."""

    import spendkit

    load_module = spendkit.loader
    fast = spendkit.load(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(load_module, "regular_grid", lambda *args, **kwargs: None)
        careful = spendkit.load(path)
    return fast, careful


def _assert_same(fast, careful) -> None:
    import dataclasses

    assert fast.table.equals(careful.table)
    assert fast.rejects_table.equals(careful.rejects_table)
    a, b = dataclasses.asdict(fast.ledger), dataclasses.asdict(careful.ledger)
    a.pop("parse_path"), b.pop("parse_path")
    assert a == b


@pytest.fixture(scope="session")
def paths_agree():
    """Load a file by the fast and the careful path, assert they agree, return both results."""

    def check(path: Path):
        fast, careful = _load_both(path)
        _assert_same(fast, careful)
        return fast, careful

    return check
