"""Fuzz `spendkit.load` over seeded mutants of the real files: mutants, crashes, hangs, memory.

    .venv/bin/python benchmarks/fuzz.py [--mutants 2000] [--seed 1] [--folder ../shared/realdata]

Uses the mutator of tests/fuzzing.py (the CI test runs 240 of the same kind). A crash is any
exception other than SpendkitError (or a ledger that does not balance); a hang is a mutant
taking more than --time-limit seconds. Peak memory is this process's maximum RSS. Prints
figures; not a test.
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import real_raw_files  # noqa: E402
from fuzzing import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=int, default=60)
    parser.add_argument("--folder", type=Path, default=ROOT.parent / "shared" / "realdata")
    args = parser.parse_args()
    files = real_raw_files(args.folder)
    if not files:
        sys.exit(f"no real files under {args.folder}")
    report = run(files, args.mutants, args.seed, args.time_limit)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"files {len(files)}, seed {args.seed}")
    print(f"mutants {report.mutants}: loaded {report.loaded}, refused {report.refused}, "
          f"crashes {len(report.crashes)}, hangs {len(report.hangs)}")
    print(f"time {report.seconds:.1f} s (slowest mutant {report.slowest:.2f} s); peak memory "
          f"{peak_mb:,.0f} MB (XLS reader children {children_mb:,.0f} MB)")
    for crash in report.crashes[:20]:
        print("CRASH", crash)
    for hang in report.hangs[:20]:
        print("HANG", hang)
    sys.exit(1 if report.crashes or report.hangs else 0)


if __name__ == "__main__":
    main()
