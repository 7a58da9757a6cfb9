"""A/B: `spendkit ingest` of the benchmark corpus at two git revisions, runs interleaved.

    .venv/bin/python benchmarks/ab.py BASE [HEAD] [--runs 5]

This machine's timings drift by ±20% over minutes (shared cores), so two benchmark runs made
minutes apart do not compare; runs that alternate A, B, A, B… do. Each revision is checked out
in a temporary git worktree (HEAD defaults to the working tree as it is) and imported from
there (PYTHONPATH) by the same child process as `benchmarks/ingest.py`, on the corpus that
`benchmarks/ingest.py --keep` left in benchmarks/_corpus/csv_only. Prints the median wall and
CPU seconds of each side, and B's change against A. Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import ROOT, run_ingest  # noqa: E402


def _worktree(rev: str, parent: Path) -> Path:
    dest = parent / rev.replace("/", "_")
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(dest), rev],
                   check=True)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("base", help="git revision A (e.g. main~3)")
    ap.add_argument("head", nargs="?", default=None, help="revision B (default: working tree)")
    ap.add_argument("--runs", type=int, default=5, help="runs of each side (default 5)")
    args = ap.parse_args()
    corpus = ROOT / "benchmarks" / "_corpus" / "csv_only"
    if not corpus.is_dir():
        sys.exit(f"{corpus} is missing: run `benchmarks/ingest.py --keep` once to build it")
    with tempfile.TemporaryDirectory() as tmp:
        parent = Path(tmp)
        sides = {"A " + args.base: _worktree(args.base, parent),
                 "B " + (args.head or "working tree"):
                     _worktree(args.head, parent) if args.head else ROOT}
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in sides}
        try:
            for i in range(args.runs):
                for label, tree in sides.items():
                    os.environ["PYTHONPATH"] = str(tree / "src")
                    res = run_ingest(corpus, parent / "out")
                    times[label].append((res["seconds"], res["cpu_main"]))
                    print(f"run {i + 1} {label}: {res['seconds']:.2f} s wall, "
                          f"{res['cpu_main']:.2f} s CPU", flush=True)
        finally:
            os.environ.pop("PYTHONPATH", None)
            for tree in sides.values():
                if tree != ROOT:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                    str(tree)], check=False)
    medians = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
               for k, v in times.items()}
    for label, (wall, cpu) in medians.items():
        print(f"{label}: median {wall:.2f} s wall, {cpu:.2f} s CPU")
    (wa, ca), (wb, cb) = medians.values()
    print(f"B against A: wall {100 * (wb / wa - 1):+.0f}%, CPU {100 * (cb / ca - 1):+.0f}%")


if __name__ == "__main__":
    main()
