"""Fuzz `spendkit.load` over seeded mutants of the real files: mutants, crashes, hangs, memory.

    .venv/bin/python benchmarks/fuzz.py [--mutants 2000] [--seed 7] [--folder ../shared/realdata]
                                        [--worst 10] [--csv out.csv] [--dump DIR]

Uses the mutator of tests/fuzzing.py (the CI test runs 240 of the same kind). Each mutant is
loaded in a forked child of its own (`fuzzing.run_isolated`), so every mutant has its own peak
memory (the child's maximum resident set, which starts at the parent's and includes the XLS
reader's process) and time. A crash is any exception other than SpendkitError, a ledger that
does not balance, a child that dies, or one past --memory-cap MB (killed, to spare the machine);
a hang is a mutant taking more than --time-limit seconds (it is killed). Prints the figures and the worst mutants by memory and by time;
`--csv` writes every mutant's outcome, `--dump` writes the worst mutants' bytes to a folder
(to replay them with `spendkit load`). Not a test.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import real_raw_files  # noqa: E402
from fuzzing import Outcome, mutants, run_isolated  # noqa: E402


def _line(o: Outcome) -> str:
    return (f"  {o.name:<70.70} {o.size:>9,} B  {o.result:<7} {o.seconds:7.2f} s "
            f"{o.peak_mb:8,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=60)
    parser.add_argument("--memory-cap", type=float, default=6000,
                        help="MB: a child past this is killed and counted as a crash")
    parser.add_argument("--folder", type=Path, default=ROOT.parent / "shared" / "realdata")
    parser.add_argument("--worst", type=int, default=10, help="how many worst mutants to list")
    parser.add_argument("--csv", type=Path, help="write every mutant's outcome here")
    parser.add_argument("--dump", type=Path, help="write the worst mutants' bytes here")
    parser.add_argument("--progress", action="store_true", help="print each mutant")
    args = parser.parse_args()
    files = real_raw_files(args.folder)
    if not files:
        sys.exit(f"no real files under {args.folder}")

    def progress(o: Outcome) -> None:
        print(_line(o), flush=True)

    report = run_isolated(files, args.mutants, args.seed, args.time_limit,
                          progress if args.progress else None, args.memory_cap)
    print(f"files {len(files)}, seed {args.seed}")
    print(f"mutants {report.mutants}: loaded {report.loaded}, refused {report.refused}, "
          f"crashes {len(report.crashes)}, hangs {len(report.hangs)}; texts whose lines did "
          f"not reconcile (each warned) {len(report.unreconciled)}")
    print(f"time {report.seconds:.1f} s (slowest mutant {report.slowest:.2f} s); peak memory "
          f"of any mutant {report.peak_mb:,.0f} MB (each child starts at the parent's "
          f"{report.base_mb:,.0f} MB)")
    big = [o for o in report.outcomes if o.size >= 100_000]
    if big:
        worst = max(big, key=lambda o: o.seconds / o.size)
        print(f"worst time per MB of input (mutants of 100 kB or more) "
              f"{worst.seconds / worst.size * 1e6:.2f} s/MB ({worst.name})")
    print(f"worst {args.worst} by peak memory:")
    for o in report.worst("peak_mb", args.worst):
        print(_line(o))
    print(f"worst {args.worst} by time:")
    for o in report.worst("seconds", args.worst):
        print(_line(o))
    for crash in report.crashes[:20]:
        print("CRASH", crash)
    for hang in report.hangs[:20]:
        print("HANG", hang)
    for text in report.unreconciled[:20]:
        print("LINES", text)
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(asdict(report.outcomes[0])))
            writer.writeheader()
            writer.writerows(asdict(o) for o in report.outcomes)
    if args.dump:
        wanted = {o.name for key in ("peak_mb", "seconds") for o in report.worst(key, args.worst)}
        wanted |= {h for h in report.hangs} | {c.split(":")[0] for c in report.crashes}
        args.dump.mkdir(parents=True, exist_ok=True)
        for name, data in mutants(files, args.mutants, args.seed):
            if name in wanted:
                (args.dump / name).write_bytes(data)
    sys.exit(1 if report.crashes or report.hangs else 0)


if __name__ == "__main__":
    main()
