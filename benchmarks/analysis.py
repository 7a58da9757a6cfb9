"""Benchmark: the analysis at national scale, through DuckDB over the processed Parquet.

    .venv/bin/python benchmarks/analysis.py [--rows 10000000] [--rows 100000000]
        [--council "Blackburn with Darwen Borough Council"] [--council "Kent County Council"]
        [--repeat 1] [--keep] [--old]

For each size it writes (or, with --keep, reuses) a SYNTHETIC national dataset
(`spendkit.datasets.synthetic`: 317 real councils, invented payments in proportion to their
mid-2024 populations, ten financial years) under benchmarks/_corpus/national-<rows>/ and then
times, each in a fresh child process whose peak memory is its own VmHWM:

* the notebook-02 chain for one council, aggregate-first: month totals, repeated rows and
  the completeness calendar of every council; publisher facts; the IT spend trend with
  coverage, real terms and per head; the council's own rows (the only rows read into
  pandas) for run rate, rolling 12 months, lumps, recurring/one-off, categories and top
  suppliers; market concentration; the overall coverage; peer comparison; the checks;
* the peer comparison alone (month totals, calendar, `peer_comparison` and `peer_bands`);
* the coverage alone (month totals, calendar, coverage table by council and year, coverage);

each beside its floor: the same figures as hand-written DuckDB queries over the same Parquet
(one query per figure, no calendar, no pandas beyond the result). `--old` also times the
pandas path of today's notebook (read everything, row-level functions) for the smallest size:
it needs about 1.2 GB per million rows. The machine's load is printed before and after, and
each figure comes with the child's CPU seconds (all its threads): on a shared machine wall
time stretches with the load, CPU time much less.
Not a test: tests stay fast (tests/integration/test_national_scale.py checks the same chain
reads only one council's rows).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "benchmarks" / "_corpus"

#: The focus council's columns the notebook-02 chain reads into pandas.
MINE_COLUMNS = ("publisher_name", "publisher_code", "payment_date", "amount_gbp",
                "supplier_name", "expense_type", "description", "is_redacted", "source_file",
                "source_sheet", "source_line", "supplier_canonical", "supplier_role", "is_it",
                "it_category", "it_basis", "underlying_vendor", "financial_year")


def notebook_02(processed, council: str, *, years=None, base_year: str = "2024-25",
                extend_to: str = "2025-26", top_n: int = 5, min_months: int = 4,
                lump_share: float = 50.0) -> dict:
    """The calls of notebooks/02-it-spend-trends, aggregate-first (the wiring sketch)."""
    from decimal import Decimal

    from spendkit import datasets as D
    from spendkit.models import trends as T
    from spendkit.models.trends import aggregates as A
    from spendkit.views.overview import check_years

    # cell 2: every council as aggregates; the focus council's rows only
    years = check_years(years, available=D.financial_years(processed))
    rel = D.transactions_relation(processed, years=years)
    code = T.council_code(D.publishers(processed), council)
    name = str(T.council_info([code])["nice_name"].iloc[0])
    months = A.month_totals(rel)
    calendar = T.calendar_from_months(months)  # repeated rows not counted: no status needs them
    my_calendar = calendar[calendar["publisher_code"] == code]
    mine = D.read_transactions(processed, publishers=[code], years=years,
                               columns=list(MINE_COLUMNS))
    extras = D.read_extras(processed, publishers=[code],
                           source_files=mine["source_file"].unique())
    mine = T.join_extras(mine, extras)
    my_coverage = T.coverage(mine, my_calendar)
    # cell 4
    ledger = D.read_ledger(processed)
    facts = T.publisher_facts_from_months(months, calendar, profiles=T.ledger_profiles(ledger))
    # cells 6-8
    trend = T.it_spend_trend_from_months(months, calendar, base_year=base_year,
                                         per_resident=True, extend_to=extend_to)
    summary = T.trend_summary(trend)
    my_summary = summary[summary["publisher_code"] == code]
    # cells 10-18: the council's own rows
    it_mine = mine[mine["is_it"]]
    run = T.spread_lumps(it_mine, min_months=min_months, lump_share=lump_share)
    monthly = T.rolling_12m(T.monthly_series(mine, it_only=True, calendar=my_calendar))
    lumps = T.classify_payments(it_mine, min_months=min_months, lump_share=lump_share)
    lumps = lumps[lumps["payment_kind"] == "lump"]
    kinds = T.recurring_vs_oneoff(it_mine, min_months=min_months, lump_share=lump_share)
    by_kind = T.payment_kind_totals(kinds, by="financial_year")
    shares = T.category_shares(mine)
    top = T.top_suppliers(mine, n=top_n)
    # cells 20-21: every council's IT market, and the overall coverage
    markets = T.concentration_from_totals(
        A.supplier_totals(rel, by=("it_market",), use_vendor=True), "it_market")
    all_coverage = T.coverage_from_months(months, calendar)
    # cells 23-25
    peers = T.peer_comparison(months, base_year=base_year, calendar=calendar,
                              extend_to=extend_to)
    bands = T.peer_bands(peers)
    # cell 27: the checks (the month totals against the ledger: every row was summed)
    it_total = months["it_gbp"].sum()
    assert trend.table["amount_gbp"].sum() == it_total
    assert my_summary["amount_gbp"].sum() == mine.loc[mine["is_it"], "amount_gbp"].sum()
    if years is None:
        ledger_total = sum(Decimal(v) for v in ledger["dataset_total_gbp"])
        assert months["amount_gbp"].sum() == ledger_total
    assert all_coverage.classified_gbp + all_coverage.unclassified_gbp == all_coverage.total_gbp
    return {"council": name, "council_rows": len(mine), "rows": int(months["n_payments"].sum()),
            "councils": int(months["publisher_code"].nunique()), "facts": len(facts),
            "it_gbp": str(it_total), "my_coverage": my_coverage.caption(),
            "tables": {"summary": len(summary), "run": len(run), "monthly": len(monthly),
                       "lumps": len(lumps), "by_kind": len(by_kind), "shares": len(shares),
                       "top": len(top), "markets": len(markets), "peers": len(peers),
                       "bands": len(bands)}}


def peers_chain(processed, base_year: str = "2024-25", extend_to: str = "2025-26") -> dict:
    """Peer comparison of every council from the aggregates."""
    from spendkit import datasets as D
    from spendkit.models import trends as T
    from spendkit.models.trends import aggregates as A

    rel = D.transactions_relation(processed)
    months = A.month_totals(rel, parts="totals")  # peers need spend and months, no coverage
    calendar = T.calendar_from_months(months)
    peers = T.peer_comparison(months, base_year=base_year, calendar=calendar,
                              extend_to=extend_to)
    bands = T.peer_bands(peers)
    totals = T.publisher_year_totals(months)
    return {"peers": len(peers), "bands": len(bands), "publisher_years": len(totals)}


def coverage_chain(processed) -> dict:
    """Coverage of every council by financial year, and overall, from the aggregates."""
    from spendkit import datasets as D
    from spendkit.models import trends as T
    from spendkit.models.trends import aggregates as A

    rel = D.transactions_relation(processed)
    months = A.month_totals(rel)
    calendar = T.calendar_from_months(months)
    table = T.coverage_table_from_months(months, calendar=calendar)
    overall = T.coverage_from_months(months, calendar)
    return {"coverage_rows": len(table), "classified_pct": round(overall.classified_pct, 3)}


def _floor_sql(processed) -> dict[str, str]:
    """Hand-written DuckDB queries giving the same figures (no calendar, no pandas)."""
    from spendkit.datasets import latest_dir

    scan = (f"read_parquet('{latest_dir(processed)}/transactions/*/*/*.parquet', "
            "hive_partitioning = true)")
    by_year = f"""
        SELECT publisher_code, financial_year, sum(amount_gbp) AS total,
               sum(amount_gbp) FILTER (WHERE is_it) AS it, count(*) AS n,
               count(DISTINCT date_trunc('month', payment_date)) AS months
        FROM {scan} GROUP BY ALL"""
    coverage = f"""
        SELECT publisher_code, financial_year, count(*) AS n, sum(amount_gbp) AS total,
               sum(amount_gbp) FILTER (WHERE is_it) AS it,
               sum(amount_gbp) FILTER (WHERE it_basis <> '') AS classified,
               sum(amount_gbp) FILTER (WHERE it_basis = '') AS unclassified,
               sum(amount_gbp) FILTER (WHERE is_redacted) AS redacted,
               sum(amount_gbp) FILTER (WHERE is_it AND it_category = '') AS uncategorised,
               count(DISTINCT date_trunc('month', payment_date)) AS months
        FROM {scan} GROUP BY ALL"""
    markets = f"""
        SELECT coalesce(nullif(it_category, ''), '(uncategorised)') AS market,
               coalesce(nullif(underlying_vendor, ''), nullif(supplier_canonical, ''),
                        supplier_name) AS supplier, sum(amount_gbp) AS spend
        FROM {scan} WHERE is_it AND NOT is_redacted GROUP BY ALL"""
    return {"by_year": by_year, "coverage": coverage, "markets": markets}


def floor(processed, which: str, council: str | None = None) -> dict:
    """Run the hand-written queries for `which` ('chain', 'peers', 'coverage')."""
    import duckdb

    from spendkit.datasets import latest_dir

    con = duckdb.connect()
    sql = _floor_sql(processed)
    wanted = {"chain": ["coverage", "markets"], "peers": ["by_year"],
              "coverage": ["coverage"]}[which]
    out = {name: con.sql(sql[name]).to_arrow_table().num_rows for name in wanted}
    if which == "chain":
        root = latest_dir(processed)
        rows = con.sql(
            f"SELECT {', '.join(MINE_COLUMNS)} FROM read_parquet("
            f"'{root}/transactions/*/*/*.parquet', hive_partitioning = true) "
            "WHERE publisher_name = $name OR publisher_code = $name",
            params={"name": council}).to_arrow_table()
        out["council_rows"] = rows.num_rows
    return out


def old_chain(processed, council: str) -> dict:
    """Today's notebook-02 calls: every row into pandas, row-level functions."""
    from spendkit import datasets as D
    from spendkit.models import trends as T
    from spendkit.views.trends import prepare_trends

    tx = D.read_transactions(processed)
    setup = prepare_trends(tx, council, base_year="2024-25",
                           extras=D.read_extras(processed))
    tx, calendar = setup.tx, setup.calendar
    T.publisher_facts(tx, calendar, profiles=T.ledger_profiles(D.read_ledger(processed)))
    trend = T.it_spend_trend(tx, base_year="2024-25", per_resident=True, calendar=calendar,
                             extend_to="2025-26")
    T.trend_summary(trend)
    T.concentration(tx.assign(it_market=T.it_market(tx)), by="it_market", use_vendor=True)
    T.coverage(tx, calendar)
    T.peer_comparison(tx, base_year="2024-25", calendar=calendar, extend_to="2025-26")
    return {"rows": len(tx), "council_rows": len(setup.mine)}


TASKS = {"chain": notebook_02, "peers": peers_chain, "coverage": coverage_chain,
         "floor": floor, "old": old_chain}


def _child(task: str, processed: str, args: list[str]) -> None:
    """Run one task in this (fresh) process and print its seconds, peak memory and figures."""
    sys.path.insert(0, str(ROOT / "src"))
    start, cpu = time.perf_counter(), time.process_time()
    result = TASKS[task](processed, *args)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_kb = 0
    with open("/proc/self/status") as fh:  # this process's own high-water mark since exec
        for line in fh:
            if line.startswith("VmHWM:"):
                peak_kb = int(line.split()[1])
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak_kb / 1024,
                      "result": result}))


def run(task: str, processed: Path, *args: str) -> dict:
    """`task` in a child process: its wall seconds (imports excluded), peak MB and result."""
    proc = subprocess.run([sys.executable, __file__, "--child", task, str(processed), *args],
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{task} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"


def dataset(rows: int, keep: bool) -> tuple[Path, str]:
    """The national dataset of `rows` (reused when kept), and how it was made."""
    from spendkit.datasets.synthetic import write_national_dataset

    folder = CORPUS / f"national-{rows}"
    if keep and (folder / "latest").exists():
        return folder, "reused"
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    summary = write_national_dataset(folder, rows)
    seconds = time.perf_counter() - start
    size = sum(p.stat().st_size for p in (folder / "latest" / "transactions").rglob("*.parquet"))
    return folder, (f"written in {seconds:.1f}s ({summary.rows / seconds:,.0f} rows/s), "
                    f"{summary.councils} councils, {summary.files:,} synthetic source files, "
                    f"{size / 1e6:,.0f} MB of Parquet")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, action="append",
                    help="dataset size(s) in payments (default 10,000,000)")
    ap.add_argument("--council", action="append",
                    help="focus council(s) of the notebook-02 chain (default Blackburn with "
                         "Darwen and the largest, Kent)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds; each figure keeps its best")
    ap.add_argument("--keep", action="store_true",
                    help="keep (and reuse) the datasets in benchmarks/_corpus")
    ap.add_argument("--old", action="store_true",
                    help="also time today's pandas path on the smallest size")
    ap.add_argument("--only", choices=["chain", "peers", "coverage"], action="append",
                    help="time only these figures (default all)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.child[2:])
        return
    sizes = sorted(args.rows or [10_000_000])
    councils = args.council or ["Blackburn with Darwen Borough Council", "Kent County Council"]
    print(f"machine: {load()}")
    seconds_by_size: dict[int, float] = {}
    for rows in sizes:
        processed, how = dataset(rows, args.keep)
        print(f"\n== {rows:,} rows: SYNTHETIC national dataset {how}; {load()}")
        jobs = [(f"notebook-02 chain, {c}", ("chain", c), ("floor", "chain", c))
                for c in councils]
        jobs += [("peer comparison", ("peers",), ("floor", "peers")),
                 ("coverage", ("coverage",), ("floor", "coverage"))]
        if args.only:
            jobs = [job for job in jobs if job[1][0] in args.only]
        for label, ours_args, floor_args in jobs:
            best: dict = {}
            best_floor: dict = {}
            for _ in range(max(1, args.repeat)):
                ours = run(ours_args[0], processed, *ours_args[1:])
                base = run(floor_args[0], processed, *floor_args[1:])
                if not best or ours["seconds"] < best["seconds"]:
                    best = {**ours, "peak_mb": max(ours["peak_mb"], best.get("peak_mb", 0))}
                if not best_floor or base["seconds"] < best_floor["seconds"]:
                    best_floor = base
            ratio = best["seconds"] / best_floor["seconds"]
            print(f"{label}: {best['seconds']:.2f}s (CPU {best['cpu']:.1f}s), peak "
                  f"{best['peak_mb']:.0f} MB | hand-written DuckDB {best_floor['seconds']:.2f}s "
                  f"(CPU {best_floor['cpu']:.1f}s), peak {best_floor['peak_mb']:.0f} MB | "
                  f"ratio {ratio:.2f} (CPU {best['cpu'] / best_floor['cpu']:.2f})")
            print(f"    {json.dumps(best['result'])}")
            if label.startswith("notebook-02") and label.endswith(councils[0]):
                seconds_by_size[rows] = best["seconds"]
        print(f"  {load()}")
        if args.old and rows == sizes[0]:
            old = run("old", processed, councils[0])
            print(f"today's pandas path (read everything): {old['seconds']:.2f}s (CPU "
                  f"{old['cpu']:.1f}s), peak "
                  f"{old['peak_mb']:.0f} MB; {json.dumps(old['result'])}")
        if not args.keep:
            shutil.rmtree(processed, ignore_errors=True)
    if len(seconds_by_size) > 1:
        small, large = min(seconds_by_size), max(seconds_by_size)
        print(f"\nlinearity: notebook-02 chain {seconds_by_size[large] / seconds_by_size[small]:.1f}x "
              f"the time for {large / small:.0f}x the rows")
    print(f"machine: {load()}")


if __name__ == "__main__":
    main()
