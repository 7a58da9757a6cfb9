"""Read what `spendkit ingest` wrote: transactions, rejects and the per-file ledger.

Notebooks and models read through these functions, never by path, so the layout of
`data/processed` (see `spendkit.ingest`) can change in one place. Two ways in:

* **pandas, for what fits:** `read_transactions` (one council's rows, a few columns, a year),
  `read_ledger`, `read_rejects`, `read_extras`. Filters prune whole partitions first
  (publisher and financial-year folders), so one council's rows cost that council's files,
  not the dataset.
* **DuckDB, for everything else:** `transactions_relation` and `query` run SQL over the
  Parquet in place (embedded, no server), with the same filters and a column projection
  pushed into the scan; `spendkit.datasets.aggregates` holds the group-bys behind the
  notebooks and returns small frames. A national dataset (100 million rows) is analysed this
  way in bounded memory; only results and the focus council's rows become pandas.

The processed transactions are plain hive-partitioned Parquet
(`transactions/publisher=<slug>/financial_year=<2024-25>/*.parquet`, columns in
`spendkit.ingest.DATASET_SCHEMA`), so any engine that reads Parquet runs the same SQL.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from spendkit.errors import NoDataError, SpendkitError
from spendkit.ingest import slug
from spendkit.loader import arrow_to_pandas
from spendkit.reference.councils import resolve_council
from spendkit.settings import get_settings
from spendkit.units.periods import parse_years_argument

if TYPE_CHECKING:
    import duckdb

#: Hive partition columns of the transactions (their values live in the folder names).
PARTITIONS = ("publisher", "financial_year")
#: Order of `read_transactions` rows: council, date, then where each row was published.
ROW_ORDER = ("publisher_name", "payment_date", "source_file", "source_sheet", "source_line")
#: DuckDB's memory ceiling for one query (it spills to disk beyond it); `SPENDKIT_DUCKDB_MEMORY`
#: overrides it. A national aggregation needs far less: most group-bys here keep a few
#: thousand groups.
DEFAULT_MEMORY_LIMIT = "1GB"


def latest_dir(processed: Path | str | None = None) -> Path:
    """The folder of the latest complete ingest (follows `latest`, or the LATEST pointer)."""
    base = Path(processed) if processed else get_settings().processed_dir
    link = base / "latest"
    if link.exists():
        return link.resolve()
    pointer = base / "LATEST"
    if pointer.exists():
        return (base / pointer.read_text(encoding="utf-8").strip()).resolve()
    raise NoDataError(
        f"{base}: no processed data found; run `spendkit ingest` (or `python3 dev.py report`) "
        "first")


def _partitioning() -> ds.Partitioning:
    return ds.partitioning(pa.schema([(name, pa.string()) for name in PARTITIONS]),
                           flavor="hive")


def transactions_dataset(processed: Path | str | None = None) -> ds.Dataset:
    """The transactions as a pyarrow dataset (hive partitions: publisher, financial_year)."""
    return ds.dataset(latest_dir(processed) / "transactions", format="parquet",
                      partitioning=_partitioning())


# --- which files hold which rows ------------------------------------------------------------------


def publishers(processed: Path | str | None = None) -> pd.DataFrame:
    """The councils in the data: `publisher_name`, `publisher_code` and their `partition` folder.

    Read from the ledger (one row per raw file, so instant at any size); a dataset without a
    ledger is asked with one DuckDB query over its publisher columns.
    """
    root = latest_dir(processed)
    ledger = root / "ledger.parquet"
    if ledger.exists():
        table = pq.read_table(ledger, columns=["publisher_name", "publisher_code", "status",
                                                "dataset_rows"]).to_pandas()
        table = table[table["status"].eq("loaded") & table["dataset_rows"].gt(0)]
        pairs = table[["publisher_name", "publisher_code"]]
    else:
        pairs = _fetch(connect().sql(
            f"SELECT DISTINCT publisher_name, publisher_code FROM {_scan_sql(root)}"))
    pairs = pairs.astype("string").fillna("").drop_duplicates()
    pairs["partition"] = pairs["publisher_name"].map(slug).astype("string")
    return pairs.sort_values(["publisher_name", "publisher_code"], kind="stable").reset_index(
        drop=True)


def financial_years(processed: Path | str | None = None) -> list[str]:
    """The financial years in the data ('2024-25', ...), from the partition folders alone."""
    root = latest_dir(processed) / "transactions"
    return sorted({p.name.split("=", 1)[1] for p in root.glob("publisher=*/financial_year=*")
                   if any(p.glob("*.parquet"))})


def resolve_selection(processed: Path | str | None = None, *,
                      publishers: Sequence[str] | str | None = None,
                      years: Sequence[str] | str | None = None
                      ) -> tuple[list[str] | None, list[str] | None]:
    """Publisher and year arguments as the data names them, or one InputError line.

    Forgiving: 'Leeds', 'leeds city council', a GSS code or a slug each name the publisher
    (`reference.councils.resolve_council` against the publishers in the data); '2024/25',
    'FY2024', '2021-22:2023-24' name years (`units.periods.parse_years_argument` against the
    years in the data). A name or year the data does not hold raises InputError listing what
    it does hold, so a filter never silently selects nothing. Returns (names, year labels);
    None stays None (everything).
    """
    names = None
    if publishers:
        wanted = [publishers] if isinstance(publishers, str) else list(publishers)
        known = _known_publishers(processed)
        exact = set(known["publisher_name"]) | set(known["publisher_code"]) - {""}
        names = []
        for item in wanted:
            key = str(item).strip()
            if key in exact:
                names.append(key)  # as stored: no lookup needed
            else:
                names.append(resolve_council(key, available=known).name)
        names = list(dict.fromkeys(names))
    labels = None
    if years:
        have = financial_years(processed) if _has_data(processed) else []
        labels = parse_years_argument(years, available=have)
    return names, labels


def _known_publishers(processed: Path | str | None) -> pd.DataFrame:
    try:
        return publishers(processed)
    except NoDataError:
        return pd.DataFrame({"publisher_name": pd.Series(dtype="string"),
                             "publisher_code": pd.Series(dtype="string")})


def _has_data(processed: Path | str | None) -> bool:
    try:
        latest_dir(processed)
    except NoDataError:
        return False
    return True


def transaction_files(processed: Path | str | None = None, *,
                      publishers: Sequence[str] | None = None,
                      years: Sequence[str] | None = None) -> list[Path]:
    """The Parquet parts that can hold rows of these publishers (names or GSS codes) and years.

    Only folders are listed and matched: `publisher=<slug>` for the councils the ledger names,
    `financial_year=<label>` for the years. Rows still need the column filter (a slug could in
    principle be shared); without a ledger every publisher folder is kept.
    """
    root = latest_dir(processed) / "transactions"
    folders = _publisher_folders(root, publishers, processed)
    wanted_years = {f"financial_year={y}" for y in years} if years else None
    files = []
    for folder in folders:
        for year_dir in sorted(folder.iterdir()) if folder.is_dir() else ():
            if wanted_years is None or year_dir.name in wanted_years:
                files.extend(sorted(year_dir.glob("*.parquet")))
    return files


def _publisher_folders(root: Path, wanted: Sequence[str] | None,
                       processed: Path | str | None) -> list[Path]:
    all_folders = sorted(p for p in root.glob("publisher=*") if p.is_dir()) \
        if root.is_dir() else []
    if not wanted:
        return all_folders
    keys = {str(w).strip() for w in wanted}
    try:
        known = publishers(processed)
    except NoDataError:
        return all_folders
    hit = known[known["publisher_name"].isin(keys) | known["publisher_code"].isin(keys)]
    named = {str(w) for w in keys} - set(known["publisher_name"]) - set(known["publisher_code"])
    if named and not (root.parent / "ledger.parquet").exists():
        return all_folders  # nothing to map names with: keep every folder, filter rows
    folders = {f"publisher={p}" for p in hit["partition"]}
    return [p for p in all_folders if p.name in folders]


# --- DuckDB ---------------------------------------------------------------------------------------

_LOCAL = threading.local()


def connect(*, memory_limit: str | None = None, threads: int | None = None
            ) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection set up for spendkit (one per thread, reused).

    `memory_limit` (default `DEFAULT_MEMORY_LIMIT` or `SPENDKIT_DUCKDB_MEMORY`) caps what a
    query holds before spilling to a temporary folder; `threads` defaults to every core.
    Insertion order is not preserved (aggregations need less memory); every function here
    sorts its result itself. Parquet metadata is cached for the connection's life.
    """
    import duckdb

    limit = memory_limit or os.environ.get("SPENDKIT_DUCKDB_MEMORY", DEFAULT_MEMORY_LIMIT)
    key = (limit, threads)
    cons = getattr(_LOCAL, "connections", None)
    if cons is None:
        cons = _LOCAL.connections = {}
    if key not in cons:
        spill = Path(tempfile.gettempdir()) / f"spendkit-duckdb-{os.getpid()}"
        # Parquet footers are cached between queries: a chain of aggregations over thousands
        # of parts reads each footer once.
        config = {"memory_limit": limit, "preserve_insertion_order": False,
                  "temp_directory": str(spill)}
        if threads:
            config["threads"] = int(threads)
        con = duckdb.connect(":memory:", config=config)
        con.execute("SET parquet_metadata_cache = true")
        cons[key] = con
    return cons[key]


def sql_literal(value: str) -> str:
    """`value` as a SQL string literal (quotes doubled), for filters DuckDB can push down."""
    return "'" + str(value).replace("'", "''") + "'"


def _scan_sql(root: Path, files: Sequence[Path] | None = None) -> str:
    """read_parquet(...) over the transactions (all parts, or `files`) with hive partitions."""
    if files is None:
        paths = sql_literal(str(root / "transactions" / "*" / "*" / "*.parquet"))
    else:
        paths = "[" + ", ".join(sql_literal(str(f)) for f in files) + "]"
    return (f"read_parquet({paths}, hive_partitioning = true, "
            "hive_types = {'publisher': VARCHAR, 'financial_year': VARCHAR})")


def transactions_sql(processed: Path | str | None = None, *,
                     publishers: Sequence[str] | None = None,
                     years: Sequence[str] | None = None, it_only: bool = False,
                     columns: Sequence[str] | None = None) -> str:
    """A SELECT over the selected transactions (DuckDB SQL), for use as a subquery.

    Partitions are pruned by folder and the remaining filters are literals DuckDB pushes into
    the Parquet scan (row groups whose statistics rule them out are skipped).
    """
    root = latest_dir(processed)
    publishers, years = resolve_selection(processed, publishers=publishers, years=years)
    files = transaction_files(processed, publishers=publishers, years=years) \
        if publishers or years else None
    if files is not None and not files:
        source = f"(SELECT * FROM {_scan_sql(root)} LIMIT 0)" \
            if any((root / "transactions").glob("*/*/*.parquet")) else None
        if source is None:
            raise NoDataError(f"{root}: the processed data holds no transactions")
    else:
        source = _scan_sql(root, files)
    where = []
    if publishers:
        names = ", ".join(sql_literal(str(p).strip()) for p in publishers)
        where.append(f"(publisher_name IN ({names}) OR publisher_code IN ({names}))")
    if years:
        where.append("financial_year IN (" + ", ".join(sql_literal(y) for y in years) + ")")
    if it_only:
        where.append("coalesce(is_it, false)")
    select = ", ".join(_ident(c) for c in columns) if columns else "*"
    return (f"SELECT {select} FROM {source}"
            + (" WHERE " + " AND ".join(where) if where else ""))


def _ident(name: str) -> str:
    """A column name as a quoted SQL identifier (names come from callers, so quote them)."""
    return '"' + str(name).replace('"', '""') + '"'


def transactions_relation(processed: Path | str | None = None, *,
                          publishers: Sequence[str] | None = None,
                          years: Sequence[str] | None = None, it_only: bool = False,
                          columns: Sequence[str] | None = None,
                          con: duckdb.DuckDBPyConnection | None = None
                          ) -> duckdb.DuckDBPyRelation:
    """The selected transactions as a lazy DuckDB relation: nothing is read until it runs.

    Chain DuckDB's relational API (`.filter`, `.aggregate`, `.order`) or `.to_arrow_table()`;
    `query` runs a SQL text over the same selection.
    """
    con = con or connect()
    return con.sql(transactions_sql(processed, publishers=publishers, years=years,
                                    it_only=it_only, columns=columns))


def query(sql: str, processed: Path | str | None = None, *,
          publishers: Sequence[str] | None = None, years: Sequence[str] | None = None,
          it_only: bool = False, params: dict | None = None,
          con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """Run `sql` in which `transactions` names the selected rows; return the result as pandas.

    Money stays exact (DuckDB decimals become `AMOUNT_TYPE`-compatible Arrow decimals), e.g.
    ``query("SELECT publisher_name, sum(amount_gbp) AS spend FROM transactions GROUP BY 1")``.
    """
    con = con or connect()
    selection = transactions_sql(processed, publishers=publishers, years=years,
                                 it_only=it_only)
    return _fetch(con.sql(f"WITH transactions AS ({selection}) {sql}", params=params))


def _fetch(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A (small) DuckDB result as pandas, decimals exact, dates as datetime64."""
    return arrow_to_pandas(relation.to_arrow_table())


# --- pandas readers -------------------------------------------------------------------------------


def read_transactions(processed: Path | str | None = None, *,
                      publishers: Sequence[str] | None = None,
                      years: Sequence[str] | None = None,
                      columns: Sequence[str] | None = None,
                      it_only: bool = False) -> pd.DataFrame:
    """Ingested transactions as pandas, optionally filtered (amount_gbp stays exact).

    Rows come in `ROW_ORDER` (council, payment date, source file, sheet, line). Publisher and
    year filters open only the matching partitions, so one council's rows cost that council's
    files; read everything only when it fits in memory (`spendkit.datasets.aggregates` sums
    the whole dataset without loading it).

    Args:
        publishers: publishers to keep: names as in `publisher_name`, GSS codes, or any
            form `resolve_selection` forgives ('Leeds', 'leeds-city-council').
        years: financial years to keep ('2021-22', '2021/22', 'FY2021'...).
        columns: columns to read (default all).
        it_only: keep only rows classified as IT.
    """
    root = latest_dir(processed)
    publishers, years = resolve_selection(processed, publishers=publishers, years=years)
    if publishers or years:
        files = transaction_files(processed, publishers=publishers, years=years)
        dataset = ds.dataset([str(f) for f in files], format="parquet",
                             partitioning=_partitioning(),
                             partition_base_dir=str(root / "transactions")) if files \
            else None
        if dataset is None:
            # Nothing matches: an empty frame with the columns (and types) of the data.
            dataset = transactions_dataset(processed)
            return arrow_to_pandas(dataset.to_table(
                columns=list(columns) if columns else None, filter=pc.scalar(False)))
    else:
        dataset = transactions_dataset(processed)
    cond = None

    def both(a, b):
        return b if a is None else a & b

    if publishers:
        wanted = [str(p).strip() for p in publishers]
        cond = both(cond, pc.field("publisher_name").isin(wanted)
                    | pc.field("publisher_code").isin(wanted))
    if years:
        cond = both(cond, pc.field("financial_year").isin(list(years)))
    if it_only:
        cond = both(cond, pc.field("is_it"))
    wanted_cols = list(columns) if columns else None
    sort = [c for c in ROW_ORDER if wanted_cols is None or c in wanted_cols]
    table = dataset.to_table(columns=wanted_cols, filter=cond)
    if sort and table.num_rows > 1:
        table = table.take(pa.array(row_order(table, sort)))
    return arrow_to_pandas(table)


def row_order(table: pa.Table, columns: Iterable[str]) -> np.ndarray:
    """Indices that sort `table` by `columns` ascending, nulls last, ties in table order.

    Text is ranked once per distinct value (dictionary encoding, then the sorted dictionary),
    so the sort itself runs on integers: the same order as Arrow's stable multi-key string
    sort, at a fraction of its cost.
    """
    keys = []
    for name in columns:
        col = table.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) \
                or pa.types.is_dictionary(col.type):
            keys.append(_text_rank(col))
        else:
            keys.append(_number_key(col))
    # np.lexsort sorts by the last key first and is stable.
    return np.lexsort(keys[::-1])


def _text_rank(column: pa.ChunkedArray) -> np.ndarray:
    encoded = column.combine_chunks()
    if not pa.types.is_dictionary(encoded.type):
        encoded = encoded.dictionary_encode()
    dictionary = encoded.dictionary
    rank = np.empty(len(dictionary) + 1, np.int64)
    rank[pc.array_sort_indices(dictionary).to_numpy()] = np.arange(len(dictionary))
    rank[-1] = len(dictionary)  # nulls last
    indices = encoded.indices.fill_null(len(dictionary)).to_numpy(zero_copy_only=False)
    return rank[indices]


def _number_key(column: pa.ChunkedArray) -> np.ndarray:
    arr = column.combine_chunks()
    if pa.types.is_date32(arr.type):
        arr = arr.cast(pa.int32())
    elif pa.types.is_timestamp(arr.type) or pa.types.is_date64(arr.type):
        arr = arr.cast(pa.int64())
    elif pa.types.is_boolean(arr.type):
        arr = arr.cast(pa.int8())
    values = arr.to_numpy(zero_copy_only=False)
    if arr.null_count:
        values = values.astype("float64")
        values[arr.is_null().to_numpy(zero_copy_only=False)] = np.inf  # nulls last
    return values


def read_ledger(processed: Path | str | None = None) -> pd.DataFrame:
    """One row per raw file: what was read, kept, rejected, and what was detected."""
    return pq.read_table(latest_dir(processed) / "ledger.parquet").to_pandas()


def read_rejects(processed: Path | str | None = None) -> pd.DataFrame:
    """Every row not kept, with file, sheet, line, reason, detail and raw text."""
    return pq.read_table(latest_dir(processed) / "rejects.parquet").to_pandas()


def read_extras(processed: Path | str | None = None, *,
                publishers: Sequence[str] | None = None,
                source_files: Sequence[str] | None = None) -> pd.DataFrame:
    """Published columns outside the canonical schema, keyed by source file, sheet and line.

    `publishers` (names or GSS codes) keeps only their partition folders; `source_files` only
    those files' rows (e.g. the focus council's), each part's statistics read first so row
    groups of other files are skipped.
    """
    folder = latest_dir(processed) / "extras"
    publishers, _ = resolve_selection(processed, publishers=publishers)
    empty = pd.DataFrame(columns=["source_file", "source_sheet", "source_line"])
    if not folder.is_dir():
        return empty
    roots = _publisher_folders(folder, publishers, processed) if publishers else [folder]
    wanted = sorted({str(f) for f in source_files}) if source_files is not None else None
    tables = []
    for path in sorted(p for root in roots for p in root.rglob("*.parquet")):
        if wanted is None:
            tables.append(pq.read_table(path))
        elif wanted:
            part = pq.read_table(path, filters=[("source_file", "in", wanted)])
            if part.num_rows:
                tables.append(part)
    return pa.concat_tables(tables, promote_options="permissive").to_pandas() if tables \
        else empty


def ensure_processed(raw: Path | str | None = None, processed: Path | str | None = None,
                     *, strict: bool = True) -> Path:
    """Ingest the raw folder if the processed data is missing or stale; return its folder.

    Quiet and quick when nothing changed (the ingest finds its version already built), so
    notebooks call it first and always read data that matches `data/raw`. With strict=False
    files that cannot be read are left for the ledger to report instead of raising.
    """
    from spendkit.ingest import ingest

    summary = ingest(raw, processed, progress=False)
    if summary.failed and strict:
        names = ", ".join(f.path for f in summary.failed)
        raise SpendkitError(f"some raw files could not be read ({names}); see "
                            f"{summary.latest / 'summary.txt'}")
    return latest_dir(processed)


__all__ = ["DEFAULT_MEMORY_LIMIT", "PARTITIONS", "ROW_ORDER", "connect",
           "ensure_processed", "financial_years", "latest_dir", "publishers", "query", "read_extras",
           "read_ledger", "read_rejects", "read_transactions", "resolve_selection", "row_order",
           "sql_literal",
           "transaction_files", "transactions_dataset", "transactions_relation",
           "transactions_sql"]
