"""Benchmark: `spendkit ingest` of a ≥1,000,000-row corpus against reading and writing it bare.

    .venv/bin/python benchmarks/ingest.py [--scale 90] [--keep] [--skip-xlsx] [--reuse-corpus]
                                          [--profile] [--jobs N] [--repeat 3] [--floor]
                                          [--linearity [--copies 10]]

Builds a mixed corpus with the sample generator (CSV in several encodings and layouts, ZIP of
CSVs, XLSX workbooks), then in the same run times:

* parse:  `pyarrow.csv.read_csv` of every CSV (ZIP members included), nothing else;
* write:  the same tables written with `pyarrow.parquet.write_table` (defaults), one file each;
* ingest: `spendkit ingest --force` of the same CSV/ZIP files, in a child process whose peak
          memory (VmHWM) and CPU time are measured;
* full:   the same with the XLSX workbooks too (read by python-calamine, reported apart);
* floor:  with `--floor`, `spendkit.load()` alone over the CSV/ZIP files, dealt out to one
          child process per core, returning nothing: what any ingest built on the loader
          needs at least.

The target (issue 18) is ingest / (parse + write) ≤ 2.0: the cost of reading and writing the
same bytes. The ratio to the bare parse alone is printed for continuity with earlier figures.

`--linearity` also builds a corpus `--copies` times as large (the generator run with as many
seeds: different payments, the same councils) and times the ingest of one copy (≈1M rows)
and of all (≈10M rows): the time ratio should stay ≤ 11 (linear) and the peak memory at 10M
≤ 1.5 GB. Memory is a child's own high-water mark; CPU is the child's user+system time, which
the machine's load disturbs less than the wall time (both are printed, with the load).

Measures are taken in `--repeat` interleaved rounds, each keeping its best: this machine's
timings drift by ±20% over minutes, and drift slows a run, never speeds it. `--profile` adds
the wall-clock seconds per ingest stage (`spendkit.ingest.STAGE_SECONDS`; stages overlap when
files load in parallel). `--reuse-corpus` skips building the corpus when
benchmarks/_corpus/csv_only exists. Not a test: tests stay fast.
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
    """Seconds to write each bare-parsed table to its own Parquet file (pyarrow defaults)."""
    dest.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for i, table in enumerate(tables):
        pq.write_table(table, dest / f"{i:04d}.parquet")
    seconds = time.perf_counter() - start
    shutil.rmtree(dest, ignore_errors=True)
    return seconds


def run_ingest(raw: Path, out: Path, jobs: int | None = None) -> dict:
    """Ingest (forced) in a child process; return its wall and CPU time, peak RSS, summary
    figures and the seconds per stage."""
    code = (
        "import inspect, json, os, resource, sys, time\n"
        "import spendkit.ingest as m\n"
        "kw = {'allow_sample_mix': True} if 'allow_sample_mix' in \\\n"
        "    inspect.signature(m.ingest).parameters else {}  # older revisions (ab.py)\n"
        "def peak_kb():\n"
        "    try:\n"
        "        for line in open('/proc/self/status'):\n"
        "            if line.startswith('VmHWM:'):\n"
        "                return int(line.split()[1])\n"
        "    except OSError:\n"
        "        pass\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "if __name__ == '__main__':\n"
        "    t, c = time.perf_counter(), time.process_time()\n"
        f"    s = m.ingest({str(raw)!r}, {str(out)!r}, force=True, progress=False, "
        f"jobs={jobs!r}, **kw)\n"
        "    print(json.dumps({'seconds': time.perf_counter() - t, 'rows_kept': s.rows_kept,\n"
        "      'rows_rejected': s.rows_rejected, 'files': len(s.files),\n"
        "      'failed': len(s.failed), 'cpu': time.process_time() - c,\n"
        "      'stages': dict(m.STAGE_SECONDS),\n"
        "      'peak_kb': peak_kb()}))\n"
    )
    # The child measures itself, from /proc (VmHWM: its own address space since exec). Linux's
    # ru_maxrss keeps the high-water mark of the memory a child had before exec, i.e. of this
    # parent after building the corpus.
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = result.pop("peak_kb") / 1024
    result["cpu_main"] = result["cpu"]  # name kept for benchmarks/ab.py
    shutil.rmtree(out, ignore_errors=True)
    return result


def load_floor(files: list[Path], processes: int) -> float:
    """Seconds of `spendkit.load()` alone over the files, split across child processes."""
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


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def _csv_copy(files: list[Path], base: Path, dest: Path) -> list[Path]:
    out = []
    for f in files:
        if f.suffix in (".csv", ".zip"):
            target = dest / f.relative_to(base)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, target)
            out.append(target)
    return out


def linearity(work: Path, scale: float, copies: int, jobs: int | None, repeat: int) -> None:
    """Ingest of one corpus copy (≈1M rows) against `copies` copies (≈10M rows)."""
    from spendkit.sample import generate_sample

    big = work / f"x{copies}"
    if not (big / "done").exists():
        shutil.rmtree(big, ignore_errors=True)
        t = time.perf_counter()
        for k in range(copies):
            gen = work / "gen"
            files = generate_sample(gen, seed=20260401 + k, scale=scale)
            _csv_copy(files, gen, big / f"copy{k:02d}")
            shutil.rmtree(gen)
        (big / "done").write_text("ok\n")
        print(f"linearity corpus: {copies} copies built in {time.perf_counter() - t:.0f}s")
    one = work / "x1"
    if one.exists():
        shutil.rmtree(one)
    shutil.copytree(big / "copy00", one / "copy00")
    best: dict[str, dict] = {}
    for _ in range(max(1, repeat)):
        for name, raw in (("1x", one), (f"{copies}x", big)):
            run = run_ingest(raw, work / f"out_{name}", jobs)
            prev = best.get(name)
            if prev is None or run["seconds"] < prev["seconds"]:
                run["peak_rss_mb"] = max(run["peak_rss_mb"], prev["peak_rss_mb"] if prev else 0)
                best[name] = run
            else:
                prev["peak_rss_mb"] = max(prev["peak_rss_mb"], run["peak_rss_mb"])
    a, b = best["1x"], best[f"{copies}x"]
    rows_a = a["rows_kept"] + a["rows_rejected"]
    rows_b = b["rows_kept"] + b["rows_rejected"]
    print(f"ingest {rows_a:,} rows: {a['seconds']:.2f}s wall, {a['cpu']:.2f}s CPU, "
          f"peak memory {a['peak_rss_mb']:.0f} MB")
    print(f"ingest {rows_b:,} rows: {b['seconds']:.2f}s wall, {b['cpu']:.2f}s CPU, "
          f"peak memory {b['peak_rss_mb']:.0f} MB (target <= 1,536 MB), "
          f"{rows_b / b['seconds']:,.0f} rows/s")
    print(f"  {rows_b / rows_a:.2f}x the rows: time ratio {b['seconds'] / a['seconds']:.2f} wall, "
          f"{b['cpu'] / a['cpu']:.2f} CPU (target <= 11)")


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
    ap.add_argument("--linearity", action="store_true",
                    help="also ingest --copies times the corpus (≈10M rows) against one copy")
    ap.add_argument("--copies", type=int, default=10, help="copies for --linearity")
    args = ap.parse_args()

    from spendkit.sample import generate_sample

    print(f"machine: {_load()}")
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
        if csv_only.exists():
            shutil.rmtree(csv_only)
        text = _csv_copy(files, corpus, csv_only)

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
    rows = res["rows_kept"] + res["rows_rejected"]
    print(f"bare pyarrow.csv.read_csv: {bare_rows:,} rows in {bare_s:.2f}s "
          f"({bare_rows / bare_s:,.0f} rows/s; {runs}); bare pyarrow.parquet.write_table of "
          f"the same tables: {write_s:.2f}s")
    print(f"spendkit ingest (same CSV/ZIP files): {rows:,} rows in {res['seconds']:.2f}s "
          f"({rows / res['seconds']:,.0f} rows/s; {res['cpu']:.2f}s CPU), peak memory "
          f"{peak_mb:.0f} MB, {res['failed']} failed")
    print(f"ratio ingest / (parse + write): {res['seconds'] / (bare_s + write_s):.2f} "
          "(target <= 2.0)")
    print(f"ratio ingest / bare parse: {res['seconds'] / bare_s:.2f} (for continuity)")
    if args.floor:
        print(f"  floor: spendkit.load() alone, files split over {cores} processes, nothing "
              f"returned: {floor_s:.2f}s, {floor_s / (bare_s + write_s):.2f}x parse + write")
    if args.profile:
        print("  wall seconds per stage:")
        for stage, secs in sorted(res["stages"].items(), key=lambda kv: -kv[1]):
            print(f"    {secs:7.3f}  {stage}")
    if not args.skip_xlsx:
        full = run_ingest(corpus, work / "out_full")
        rows = full["rows_kept"] + full["rows_rejected"]
        print(f"spendkit ingest (all files incl. XLSX): {rows:,} rows in "
              f"{full['seconds']:.2f}s ({rows / full['seconds']:,.0f} rows/s), "
              f"peak memory {full['peak_rss_mb']:.0f} MB")
    if args.linearity:
        linearity(work, args.scale, args.copies, args.jobs, args.repeat)
    print(f"machine: {_load()}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
