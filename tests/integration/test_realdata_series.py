"""The 85 real monthly Hyndburn files (../shared/realdata-series): every line accounted for (by
the loader's ledger, checked against an independent reading) and the money reconciled to an
independent sum.

Expected figures per file live in tests/data/realdata_series_expected.csv (counts and totals,
not rows). Independently of spendkit, each file is read with Python's csv module: its physical
lines must be the lines up to the header plus the lines of the records below it (a record with
quoted line breaks spans several), its non-blank records must be the rows the ledger read, and
the amounts of the rows that carry a date must sum to the kept total.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

import spendkit
from conftest import real_raw_files

EXPECTED_CSV = Path(__file__).resolve().parents[1] / "data" / "realdata_series_expected.csv"
EXPECTED = {row["file"]: row for row in csv.DictReader(EXPECTED_CSV.open(encoding="utf-8"))}
_CODEC = {"cp850": "cp850", "cp1252": "cp1252", "utf-8-sig": "utf-8-sig", "ascii": "ascii",
          "utf-8": "utf-8"}


def _money(text: str) -> Decimal:
    t = text.strip().replace("£", "").replace(",", "").replace(" ", "")
    negative = (t.startswith("(") and t.endswith(")")) or t.endswith("-") or t.startswith("-")
    t = t.strip("()-")
    return -Decimal(t) if negative else Decimal(t)


def independent_reading(path: Path, encoding: str, header_line: int
                        ) -> tuple[int, int, int, Decimal]:
    """(physical lines, continuation lines of multi-line records, non-blank data records, sum
    of dated amounts)."""
    text = path.read_bytes().decode(_CODEC[encoding])
    physical = len(text.splitlines())
    reader = csv.reader(io.StringIO(text, newline=""))
    records = []
    for cells in reader:
        records.append((reader.line_num, cells))
    ends = [n for n, _ in records]
    header_pos = next(i for i, (n, _c) in enumerate(records)
                      if (ends[i - 1] if i else 0) + 1 == header_line)
    header = [c.strip().lower() for c in records[header_pos][1]]
    body = records[header_pos + 1:]
    if not body or all(not "".join(c).strip() for _n, c in body):
        body = records[:header_pos]
    amount = next(i for i, h in enumerate(header) if h.startswith(("net amount", "amount paid")))
    date = next(i for i, h in enumerate(header) if h.startswith("payment date"))
    rows = [c for _n, c in body if "".join(c).strip()]
    total = sum((_money(c[amount]) for c in rows
                 if len(c) > max(amount, date) and c[date].strip() and c[amount].strip()),
                Decimal(0))
    spans = [n - (ends[i - 1] if i else 0) for i, n in enumerate(ends)]
    continuation = sum(s - 1 for s in spans)
    return physical, continuation, len(rows), total


@pytest.fixture(scope="module")
def series_files(realdata_series_dir: Path) -> list[Path]:
    return real_raw_files(realdata_series_dir)


def test_expected_table_covers_the_series(series_files: list[Path],
                                          realdata_series_dir: Path) -> None:
    assert {str(p.relative_to(realdata_series_dir)) for p in series_files} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_series_file_lines_rows_and_money(name: str, realdata_series_dir: Path) -> None:
    path = realdata_series_dir / name
    row = EXPECTED[name]
    ledger = spendkit.load(path).ledger
    got = (ledger.rows_read, ledger.rows_kept, ledger.rows_rejected, ledger.header_line,
           ledger.blank_rows_skipped, ledger.encoding, str(ledger.kept_total_gbp))
    assert got == (int(row["rows_read"]), int(row["rows_kept"]), int(row["rows_rejected"]),
                   int(row["header_line"]), int(row["blank_rows"]), row["encoding"],
                   row["kept_total_gbp"])
    assert ledger.rows_read == ledger.rows_kept + ledger.rows_rejected
    physical, continuation, records, total = independent_reading(path, ledger.encoding,
                                                                 ledger.header_line)
    assert physical == int(row["physical_lines"])
    # The loader's own account of every line (the header, the lines above it, the blank lines,
    # each row read, and the extra lines of rows whose quoted cells hold line breaks) agrees
    # with the csv module's reading.
    above = ledger.header_line - 1 if ledger.header_line < physical else 0
    assert ledger.physical_lines == ledger.lines_accounted == physical
    assert ledger.line_accounting == {
        "above_header": above, "headers": 1, "rows": ledger.rows_read,
        "blank": ledger.blank_rows_skipped, "continuation": continuation, "skipped_tables": 0}
    assert records == ledger.rows_read
    assert total == ledger.kept_total_gbp
