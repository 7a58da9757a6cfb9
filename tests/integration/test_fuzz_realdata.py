"""Seeded fuzzing of `load()` over mutants of the real published files (issue 22): every mutant
loads with a balanced ledger or is refused with a SpendkitError; nothing else escapes, nothing
hangs. `benchmarks/fuzz.py` runs the same mutator longer and prints the figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import real_raw_files
from fuzzing import run

MUTANTS = 240
SEED = 20261201


@pytest.mark.slow
def test_mutants_of_real_files_load_or_are_refused_cleanly(realdata_dir: Path) -> None:
    files = real_raw_files(realdata_dir)
    report = run(files, MUTANTS, SEED, time_limit=30)
    assert report.mutants == MUTANTS
    assert report.crashes == [], "\n".join(report.crashes[:5])
    assert report.hangs == []
    # Both outcomes are exercised: the mutator neither breaks everything nor nothing.
    assert report.loaded > MUTANTS // 4 and report.refused > 0
