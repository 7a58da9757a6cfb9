"""Seeded fuzzing of `load()` over mutants of the real published files (issue 22): every mutant
loads with a balanced ledger (rows and physical lines) or is refused with a SpendkitError;
nothing else escapes, nothing hangs. `benchmarks/fuzz.py` runs the same mutator longer, each
mutant in a child process, and prints the figures with per-mutant peak memory."""

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
    # Every loaded text accounts for each of its physical lines (issue 22 item 4).
    assert report.unreconciled == [], "\n".join(report.unreconciled[:5])
    # Both outcomes are exercised: the mutator neither breaks everything nor nothing.
    assert report.loaded > MUTANTS // 4 and report.refused > 0
