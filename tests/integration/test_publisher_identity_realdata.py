"""Every real file placed loose (no council folder) is identified from its content and name.

The files are copied into a temporary folder (never into the project); the expected publisher
and the kind of clue that decided are kept in tests/data/publisher_identity_realdata.csv.
A file nothing names is left as 'Unknown publisher' with its reason, never given a wrong or
invented publisher ('OCC', 'HBC').
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

import spendkit
from conftest import real_raw_files
from spendkit.reference.councils import UNKNOWN, profile_for, unidentified_help

EXPECTED_CSV = Path(__file__).resolve().parents[1] / "data" / "publisher_identity_realdata.csv"
COLUMNS = ["folder", "file", "publisher_name", "publisher_code", "decided_by"]


def decided_by(basis: str) -> str:
    """The kind of clue that decided ('column', 'header cell', 'file name', …, 'ambiguous')."""
    for kind in ("unidentified", "ambiguous", "column", "header cell", "sheet name", "file name",
                 "folder", "council profile", "profile"):
        if basis.startswith(kind):
            return kind
    return basis


def identify_loose(folders: list[Path], tmp: Path) -> list[dict[str, str]]:
    rows = []
    for folder in folders:
        for path in real_raw_files(folder):
            loose = tmp / path.name
            shutil.copyfile(path, loose)
            led = spendkit.load(loose).ledger
            rows.append({"folder": folder.name, "file": path.relative_to(folder).as_posix(),
                         "publisher_name": led.publisher_name,
                         "publisher_code": led.publisher_code,
                         "decided_by": decided_by(led.publisher_basis)})
            if led.publisher_name == UNKNOWN:
                assert unidentified_help(led) in led.warnings
            loose.unlink()
    return rows


def test_real_files_placed_loose_are_identified(realdata_dir: Path, realdata_series_dir: Path,
                                                tmp_path: Path) -> None:
    got = identify_loose([realdata_dir, realdata_series_dir], tmp_path)
    expected = list(csv.DictReader(EXPECTED_CSV.open(encoding="utf-8")))
    assert got == expected
    identified = [r for r in got if r["publisher_name"] != UNKNOWN]
    assert len(got) == 110 and len(identified) == 101
    # Nothing wrong: every identified file is the publisher its shared folder's profile names.
    wrong = [r for r in identified if profile_for(r["file"]).publisher_code != r["publisher_code"]]
    assert not wrong


@pytest.mark.parametrize("name", ["Sept-25-CVS.csv"])
def test_the_readme_example_names_its_publisher(realdata_dir: Path, tmp_path: Path,
                                                name: str) -> None:
    loose = tmp_path / name
    shutil.copyfile(realdata_dir / "hyndburn-borough-council" / name, loose)
    led = spendkit.load(loose).ledger
    assert (led.publisher_name, led.publisher_code) == ("Hyndburn Borough Council", "E07000120")
    assert "publisher: Unknown" not in led.summary()
