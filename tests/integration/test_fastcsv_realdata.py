"""On every real published file, the fast path and the careful path give the same result."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

EXPECTED_CSV = Path(__file__).resolve().parents[1] / "data" / "realdata_expected.csv"
FILES = [row["file"] for row in csv.DictReader(EXPECTED_CSV.open(encoding="utf-8"))]


@pytest.mark.parametrize("name", FILES)
def test_fast_and_careful_paths_agree(realdata_dir: Path, name: str, paths_agree) -> None:
    paths_agree(realdata_dir / name)


def test_most_real_text_files_take_the_fast_path(realdata_dir: Path) -> None:
    import spendkit

    paths = [spendkit.load(realdata_dir / n).ledger.parse_path for n in FILES
             if n.lower().endswith(".csv")]
    assert paths.count("arrow") >= 0.8 * len(paths)
