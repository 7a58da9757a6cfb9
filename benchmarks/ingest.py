"""Benchmark: `spendkit ingest` on a ≥1,000,000-row corpus against a bare pyarrow CSV parse.

    .venv/bin/python benchmarks/ingest.py [--scale 90] [--keep] [--skip-xlsx] [--reuse-corpus]
                                          [--profile] [--jobs N] [--repeat 3] [--floor]

Builds a mixed corpus with the sample generator (CSV in several encodings and layouts, ZIP of
CSVs, XLSX workbooks), then in the same run times:

* bare:   `pyarrow.csv.read_csv` of every CSV (ZIP members included), nothing else (and,
          for reference, the same tables written to Parquet with pyarrow's defaults);
* ingest: `spendkit ingest` of the same CSV/ZIP files into a fresh folder, in a child process
          whose peak memory (max RSS) is measured;
* full:   the same with the XLSX workbooks too (read by python-calamine, reported apart);
* floor:  with `--floor`, `spendkit.load()` alone over the CSV/ZIP files, dealt out to one
          child process per core, returning nothing: what any ingest built on the loader
          needs at least.

Parse, write, ingest and floor are timed in `--repeat` interleaved rounds, each keeping its
best. It prints rows/s, peak memory, the ratio ingest / bare, and what the bare parse plus a
bare Parquet write alone come to against the bare parse. `--profile` adds the wall-clock
seconds per ingest stage (`spendkit.ingest.STAGE_SECONDS`; stages overlap when files load in
parallel, so "load (waiting for results)" is the time the ingest side stood idle) and the
process CPU time. `--reuse-corpus` skips building the corpus when benchmarks/_corpus/csv_only
exists. Not a test: tests stay fast.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]


def bare_parse(files: list[Path]) -> tuple[float, int, list[pa.Table]]:
    """Seconds, rows and tables of pyarrow.csv.read_csv over the CSV files (and ZIP members)."""
    tables = []
    start = time.perf_counter()
    for f in files:
        if f.suffix == ".zip":
            with zipfile.ZipFile(f) as zf:
                for name in zf.namelist():
                    tables.append(pacsv.read_csv(io.BytesIO(zf.read(name))))
        else:
            try:
                tables.append(pacsv.read_csv(f))
            except Exception:  # noqa: BLE001 - a file pyarrow cannot parse bare is skipped
                continue
    return time.perf_counter() - start, sum(t.num_rows for t in tables), tables


def bare_write(tables: list[pa.Table], dest: Path) -> float:
    """Seconds to write each bare-parsed table to its own Parquet file (pyarrow defaults).

    A second yardstick, for reference only: the ingest also writes every row it reads to
    Parquet, which the bare parse alone leaves out.
    """
    dest.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for i, table in enumerate(tables):
        pq.write_table(table, dest / f"{i:04d}.parquet")
    seconds = time.perf_counter() - start
    shutil.rmtree(dest, ignore_errors=True)
    return seconds


def run_ingest(raw: Path, out: Path, jobs: int | None = None) -> dict:
    """Ingest in a child process; return its wall time, peak RSS, summary figures and the
    seconds per stage."""
    code = (
        "import json, os, resource, sys, time\n"
        "import spendkit.ingest as m\n"
        "def peak_kb():\n"
        "    try:\n"
        "        for line in open('/proc/self/status'):\n"
        "            if line.startswith('VmHWM:'):\n"
        "                return int(line.split()[1])\n"
        "    except OSError:\n"
        "        pass\n"
        "    return max(resource.getrusage(w).ru_maxrss\n"
        "               for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))\n"
        "if __name__ == '__main__':\n"
        "    t, c = time.perf_counter(), time.process_time()\n"
        f"    s = m.ingest({str(raw)!r}, {str(out)!r}, force=True, progress=False, "
        f"jobs={jobs!r})\n"
        "    print(json.dumps({'seconds': time.perf_counter() - t, 'rows_kept': s.rows_kept,\n"
        "      'rows_rejected': s.rows_rejected, 'files': len(s.files),\n"
        "      'failed': len(s.failed), 'cpu_main': time.process_time() - c,\n"
        "      'stages': dict(m.STAGE_SECONDS),\n"
        "      'peak_kb': peak_kb()}))\n"
    )
    # The child measures itself, from /proc (VmHWM: its own address space since exec). Linux's
    # ru_maxrss keeps the high-water mark of the memory a child had before exec, i.e. of this
    # parent after building the corpus (1,056 MB reported where the ingest used ~490 MB).
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = result.pop("peak_kb") / 1024
    return result


def load_floor(files: list[Path], processes: int) -> float:
    """Seconds of `spendkit.load()` alone over the files, split across child processes.

    Files are dealt out by size, and each child times its own loop after its imports and
    reads, returning nothing: the wall time any ingest built on this loader needs at least,
    before it enriches, dedupes or writes a row.
    """
    shares: list[list[str]] = [[] for _ in range(processes)]
    for i, f in enumerate(sorted(files, key=lambda f: -f.stat().st_size)):
        shares[i % processes].append(str(f))
    code = (
        "import json, sys, time\n"
        "from spendkit import load\n"
        "files = json.loads(sys.stdin.readline())\n"
        "datas = [(f, open(f, 'rb').read()) for f in files]\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "t = time.perf_counter()\n"
        "for f, d in datas:\n"
        "    load(f, data=d)\n"
        "print(time.perf_counter() - t, flush=True)\n"
    )
    # Children import and read at their own pace, then start their timed loops together.
    procs = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in shares]
    for proc, share in zip(procs, shares, strict=True):
        proc.stdin.write(json.dumps(share) + "\n")
        proc.stdin.flush()
    for proc in procs:
        proc.stdout.readline()  # 'ready'
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outs = [proc.communicate() for proc in procs]
    return max(float(out.strip().splitlines()[-1]) for out, _ in outs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=90.0, help="sample scale (90 ≈ 1M rows)")
    ap.add_argument("--keep", action="store_true", help="keep the corpus in benchmarks/_corpus")
    ap.add_argument("--skip-xlsx", action="store_true", help="do not time the full corpus")
    ap.add_argument("--reuse-corpus", action="store_true",
                    help="use benchmarks/_corpus/csv_only as it is (implies --keep --skip-xlsx)")
    ap.add_argument("--profile", action="store_true", help="print seconds per ingest stage")
    ap.add_argument("--jobs", type=int, default=None, help="ingest's jobs (default: auto)")
    ap.add_argument("--floor", action="store_true",
                    help="also time load() alone, files split over one process per core")
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds of every measure, each keeping its best (default 3)")
    args = ap.parse_args()

    from spendkit.sample import generate_sample

    work = ROOT / "benchmarks" / "_corpus" if args.keep or args.reuse_corpus \
        else Path(tempfile.mkdtemp())
    corpus = work / "raw"
    csv_only = work / "csv_only"
    if args.reuse_corpus and csv_only.is_dir():
        args.keep = args.skip_xlsx = True
        text = sorted(f for f in csv_only.rglob("*") if f.suffix in (".csv", ".zip"))
        print(f"corpus: {len(text)} files reused from {csv_only}")
    else:
        if corpus.exists():
            shutil.rmtree(corpus)
        t = time.perf_counter()
        files = generate_sample(corpus, seed=20260401, scale=args.scale)
        print(f"corpus: {len(files)} files, built in {time.perf_counter() - t:.1f}s "
              f"({sum(f.stat().st_size for f in files) / 1e6:.0f} MB)")
        text = [f for f in files if f.suffix in (".csv", ".zip")]
        if csv_only.exists():
            shutil.rmtree(csv_only)
        for f in text:
            dest = csv_only / f.relative_to(corpus)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, dest)

    # Rounds interleave every measure (parse, write, ingest, floor), and each keeps its best:
    # this machine's timings drift by ±20% over minutes, and drift slows a run, never speeds it.
    cores = os.cpu_count() or 1
    bare_s = write_s = floor_s = float("inf")
    peak_mb = 0.0
    res: dict = {}
    for _ in range(max(1, args.repeat)):
        seconds, bare_rows, bare_tables = bare_parse(text)
        bare_s = min(bare_s, seconds)
        write_s = min(write_s, bare_write(bare_tables, work / "bare_parquet"))
        del bare_tables
        run = run_ingest(csv_only, work / "out_csv", args.jobs)
        peak_mb = max(peak_mb, run["peak_rss_mb"])  # memory: the worst round, not the best
        if not res or run["seconds"] < res["seconds"]:
            res = run
        if args.floor:
            floor_s = min(floor_s, load_floor(text, cores))
    runs = f"best of {args.repeat}" if args.repeat > 1 else "one run"
    print(f"bare pyarrow.csv.read_csv: {bare_rows:,} rows in {bare_s:.2f}s "
          f"({bare_rows / bare_s:,.0f} rows/s; {runs})")
    rows = res["rows_kept"] + res["rows_rejected"]
    print(f"spendkit ingest (same CSV/ZIP files): {rows:,} rows in {res['seconds']:.2f}s "
          f"({rows / res['seconds']:,.0f} rows/s), peak memory {peak_mb:.0f} MB, "
          f"{res['failed']} failed")
    print(f"ratio ingest / bare parse: {res['seconds'] / bare_s:.2f} (target <= 2.0)")
    print(f"  for reference: bare parse + bare Parquet write {bare_s + write_s:.2f}s, "
          f"ratio ingest / (parse + write) {res['seconds'] / (bare_s + write_s):.2f}")
    print(f"  floor: bare parse + bare Parquet write alone is {(bare_s + write_s) / bare_s:.2f}x "
          "the bare parse")
    if args.floor:
        print(f"  floor: spendkit.load() alone, files split over {cores} processes, nothing "
              f"returned: {floor_s:.2f}s, {floor_s / bare_s:.2f}x the bare parse")
    if args.profile:
        print(f"  main process CPU {res['cpu_main']:.2f}s; wall seconds per stage:")
        for stage, secs in sorted(res["stages"].items(), key=lambda kv: -kv[1]):
            print(f"    {secs:7.3f}  {stage}")
    if not args.skip_xlsx:
        full = run_ingest(corpus, work / "out_full")
        rows = full["rows_kept"] + full["rows_rejected"]
        print(f"spendkit ingest (all files incl. XLSX): {rows:,} rows in "
              f"{full['seconds']:.2f}s ({rows / full['seconds']:,.0f} rows/s), "
              f"peak memory {full['peak_rss_mb']:.0f} MB")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
