"""Seconds and rows/s for the XLSX readers (python-calamine and openpyxl) on some workbooks.

    .venv/bin/python benchmarks/xlsx.py [WORKBOOK ...] [--repeat N] [--no-openpyxl]

With no workbooks given, times the .xlsx files of the benchmark corpus
(benchmarks/_corpus/raw). Each reader's time is the best of N runs (default 3; openpyxl runs
once, it takes seconds). Also says whether both readers gave identical SheetRows.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from spendkit.extract.excel import SheetRows, read_xlsx, read_xlsx_openpyxl

CORPUS = Path(__file__).resolve().parent / "_corpus" / "raw"


def best_of(read: Callable[[bytes, str], list[SheetRows]], data: bytes, name: str,
            repeat: int) -> tuple[float, list[SheetRows]]:
    """Best wall-clock seconds of `repeat` reads, and the last result."""
    best, sheets = float("inf"), []
    for _ in range(repeat):
        start = time.perf_counter()
        sheets = read(data, name)
        best = min(best, time.perf_counter() - start)
    return best, sheets


def main() -> None:
    """Time both readers on each workbook and print one line per reader."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbooks", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-openpyxl", action="store_true")
    args = parser.parse_args()
    books = args.workbooks or sorted(CORPUS.rglob("*.xlsx"))
    if not books:
        raise SystemExit(f"no workbooks given and none under {CORPUS}")
    for path in books:
        data = path.read_bytes()
        fast_s, fast = best_of(read_xlsx, data, path.name, args.repeat)
        rows = sum(len(s.rows) + s.blank_rows for s in fast)
        print(f"{path.name}: {len(data) / 1e6:.1f} MB, {len(fast)} sheets, {rows:,} rows")
        print(f"  calamine {fast_s:7.3f} s  {rows / fast_s:12,.0f} rows/s")
        if not args.no_openpyxl:
            ref_s, ref = best_of(read_xlsx_openpyxl, data, path.name, 1)
            print(f"  openpyxl {ref_s:7.3f} s  {rows / ref_s:12,.0f} rows/s"
                  f"  ({ref_s / fast_s:.1f}x; SheetRows {'identical' if fast == ref else 'DIFFER'})")


if __name__ == "__main__":
    main()
