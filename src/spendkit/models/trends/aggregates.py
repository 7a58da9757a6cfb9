"""The trend models' group-bys as DuckDB SQL: every council's payments in bounded memory.

The row-level trend functions (`it_spend_trend`, `coverage_table`, `completeness_calendar`,
`concentration`, ...) take a pandas frame of transactions, which caps them at what fits in
memory. The functions here take the transactions as a DuckDB relation instead (from
`spendkit.datasets.transactions_relation`, which prunes partitions and pushes filters and the
column projection into the Parquet scan) or as a pandas/Arrow frame, run one aggregation where
the data is, and return a small frame:

* `month_totals`   one row per council, month and source file: payments and exact sums of
                   each part (IT, classified, redacted, ...), positive payments per threshold;
* `repeated_rows`  per council and month, rows repeated exactly in another file (the one
                   group-by over single payments, run only for months with two or more files);
* `supplier_totals` spend per supplier within groups (IT market, category, council, ...).

The models finish these small frames with the same code as their row-level twins
(`it_spend_trend_from_months`, `calendar_from_months`, `concentration_from_totals`, ...),
and tests hold both paths to the same numbers, to the penny, on the bundled sample and on real
files. Text tests match pandas: a value is blank when missing or only whitespace (Python's
`str.strip` set), IT when `is_it` is true (missing counts as not IT).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.errors import InputError
from spendkit.models.trends.base import as_tuple, fy_label, fy_start_year
from spendkit.models.trends.completeness import STANDARD_THRESHOLDS
from spendkit.models.trends.suppliers import MARKET_ROLES
from spendkit.units.money import AMOUNT_TYPE, from_pence, to_pence

if TYPE_CHECKING:
    import duckdb

#: Characters `str.strip()` (and pandas' `.str.strip()`) removes: blank tests in SQL use them.
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())

#: Money columns of `month_totals` (exact sums; `min_positive_gbp` is a minimum).
MONTH_AMOUNTS = ("amount_gbp", "it_gbp", "classified_gbp", "unclassified_gbp", "redacted_gbp",
                 "it_uncategorised_gbp")
#: The overview's split, added with `month_totals(..., parts="overview")`.
OVERVIEW_AMOUNTS = ("not_it_evidence_gbp", "unclassifiable_gbp")
#: Count columns of `month_totals`.
MONTH_COUNTS = ("n_payments", "it_payments", "redacted_payments", "n_positive",
                *(f"n_ge_{t}" for t in STANDARD_THRESHOLDS))


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _col(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


_WS_CODES = ", ".join(str(ord(c)) for c in WHITESPACE)


# Trimming with a set of characters costs about 5 s per million rows in DuckDB, so it runs
# only where the first (or last) character is whitespace; CASE, unlike AND, evaluates a
# branch only for the rows that reach it. `x[-1]` is the last code point.
def _blank(expr: str) -> str:
    """True where the text is missing or only whitespace."""
    return (f"(CASE WHEN {expr} IS NULL THEN true WHEN unicode({expr}) IN ({_WS_CODES}) "
            f"THEN trim({expr}, {_lit(WHITESPACE)}) = '' ELSE {expr} = '' END)")


def _stripped(expr: str) -> str:
    """The text without surrounding whitespace, NULL when blank."""
    return (f"(CASE WHEN unicode({expr}) IN ({_WS_CODES}) OR unicode({expr}[-1]) IN "
            f"({_WS_CODES}) THEN nullif(trim({expr}, {_lit(WHITESPACE)}), '') "
            f"ELSE nullif({expr}, '') END)")


_MONTH = "CAST(date_trunc('month', CAST(payment_date AS DATE)) AS DATE)"


def relation(data: duckdb.DuckDBPyRelation | pd.DataFrame | pa.Table) -> duckdb.DuckDBPyRelation:
    """`data` as a DuckDB relation: relations pass through, frames are scanned in place."""
    import duckdb

    if isinstance(data, duckdb.DuckDBPyRelation):
        return data
    if isinstance(data, pd.DataFrame):
        table = pa.Table.from_pandas(data, preserve_index=False)
    elif isinstance(data, pa.Table):
        table = data
    else:
        raise InputError(f"transactions: expected a DuckDB relation, a pandas DataFrame or an "
                         f"Arrow table, got {type(data).__name__}")
    return _frames_connection().from_arrow(table)


_LOCAL = threading.local()


def _frames_connection() -> duckdb.DuckDBPyConnection:
    """This thread's DuckDB connection for in-memory frames (opening one costs ~0.1 s)."""
    import duckdb

    con = getattr(_LOCAL, "con", None)
    if con is None:
        con = _LOCAL.con = duckdb.connect(":memory:")
    return con


def _run(rel: duckdb.DuckDBPyRelation, sql: str) -> pa.Table:
    """Run `sql` with `t` naming the relation; the result as Arrow."""
    return rel.query("t", sql).to_arrow_table()


def _require(rel: duckdb.DuckDBPyRelation, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in rel.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {missing}; expected the canonical columns "
                         f"of spendkit.schema (and enrichment columns), got {rel.columns}")


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow result → pandas: sums as `AMOUNT_TYPE` decimals, counts int64, months datetime."""
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_decimal(col.type):
            cols[name] = pd.Series(pc.cast(col, AMOUNT_TYPE), dtype=pd.ArrowDtype(AMOUNT_TYPE))
        elif pa.types.is_date(col.type):
            cols[name] = pd.Series(col.to_pandas(date_as_object=False)).astype("datetime64[us]")
        elif pa.types.is_integer(col.type):
            cols[name] = pd.Series(col.to_numpy(zero_copy_only=False)).astype("int64") \
                if not col.null_count else pd.Series(col.to_pandas()).astype("Int64")
        else:
            cols[name] = col.to_pandas()
    return pd.DataFrame(cols)


#: What `month_totals` sums, each level adding to the one before.
PARTS = ("totals", "coverage", "overview")


def month_totals(data, by: str | Sequence[str] = ("publisher_code", "publisher_name"),
                 parts: str = "coverage") -> pd.DataFrame:
    """One row per `by` group, month and source file: payments and exact sums of each part.

    Columns by `parts`, each level adding to the one before (the more, the dearer the scan):

    * ``totals``: the `by` keys, `month` (first day), `source_file`, `n_payments`, `amount_gbp`
      (all spend), `it_payments`, `it_gbp`: enough for period totals, calendars and peers;
    * ``coverage`` (default): `classified_gbp` / `unclassified_gbp` (as in `Coverage`),
      `redacted_payments`, `redacted_gbp`, `it_uncategorised_gbp`, `n_positive`, `n_ge_<t>`
      for each of `STANDARD_THRESHOLDS` and `min_positive_gbp`: coverage and publisher facts;
    * ``overview``: `not_it_evidence_gbp` and `unclassifiable_gbp` (not IT, no evidence,
      supplier redacted or blank: the data overview's split, a pass over supplier names).

    Rows without a payment date are left out (no month to put them in). The frame is small
    (councils x months x files) and every trend total rolls up from it.
    """
    if parts not in PARTS:
        raise InputError(f"parts: expected one of {PARTS}, got {parts!r}")
    level = PARTS.index(parts)
    rel = relation(data)
    keys = as_tuple(by)
    _require(rel, [*keys, "payment_date", "amount_gbp", "source_file", "is_it"], "month_totals")
    have = set(rel.columns)
    evidence = f"NOT {_blank('it_basis')}" if "it_basis" in have else "false"
    inputs = {"a": "amount_gbp", "it": "coalesce(is_it, false)"}
    sums = ["count(*) AS n_payments", "coalesce(sum(a), 0) AS amount_gbp",
            "count(*) FILTER (WHERE it) AS it_payments",
            "coalesce(sum(a) FILTER (WHERE it), 0) AS it_gbp"]
    if level >= 1:
        inputs.update(
            classified=f"is_it IS NOT NULL AND {evidence}" if "it_basis" in have
            else "is_it IS NOT NULL",
            red="coalesce(is_redacted, false)" if "is_redacted" in have else "false",
            uncategorised=_blank("it_category") if "it_category" in have else "true")
        sums += ["coalesce(sum(a) FILTER (WHERE classified), 0) AS classified_gbp",
                 "count(*) FILTER (WHERE red) AS redacted_payments",
                 "coalesce(sum(a) FILTER (WHERE red), 0) AS redacted_gbp",
                 "coalesce(sum(a) FILTER (WHERE it AND uncategorised), 0) "
                 "AS it_uncategorised_gbp",
                 "count(*) FILTER (WHERE a > 0) AS n_positive",
                 *(f"count(*) FILTER (WHERE a >= {int(t)}) AS n_ge_{t}"
                   for t in STANDARD_THRESHOLDS),
                 "min(a) FILTER (WHERE a > 0) AS min_positive_gbp"]
    if level >= 2:
        inputs.update(evidence=evidence, supplier_blank=_blank("supplier_canonical")
                      if "supplier_canonical" in have else "false")
        sums += ["coalesce(sum(a) FILTER (WHERE NOT it AND evidence), 0) AS not_it_evidence_gbp",
                 "coalesce(sum(a) FILTER (WHERE NOT it AND NOT evidence AND (red OR "
                 "supplier_blank)), 0) AS unclassifiable_gbp"]
    head = "".join(f"{_col(k)}, " for k in keys)
    sql = (f"SELECT {head}month, source_file, {', '.join(sums)} FROM ("
           f"SELECT {head}{_MONTH} AS month, source_file, "
           + ", ".join(f"{expr} AS {name}" for name, expr in inputs.items())
           + " FROM t WHERE payment_date IS NOT NULL) GROUP BY ALL")
    out = _to_pandas(_run(rel, sql))
    for name in out.columns:
        if name in MONTH_COUNTS:
            out[name] = out[name].astype("int64")
    if level >= 1:
        # The rest of the spend is unclassified (one sum fewer to take over every row).
        unclassified = from_pence(to_pence(out["amount_gbp"]) - to_pence(out["classified_gbp"]),
                                  out.index)
        out.insert(out.columns.get_loc("classified_gbp") + 1, "unclassified_gbp", unclassified)
    order = [*keys, "month", "source_file"]
    return out.sort_values(order, kind="stable").reset_index(drop=True)


def repeated_rows(data, months: pd.DataFrame,
                  by: str | Sequence[str] = ("publisher_code",)) -> pd.DataFrame:
    """Per `by` group and month: rows whose (date, supplier, amount) also appear in another file.

    `months` is `month_totals` of the same data: only groups and months published in two or
    more files are scanned (a row can repeat in another file only there), so this group-by
    over single payments touches a small part of the data. Columns: the `by` keys, `month`,
    `n_repeated_rows` (months without repeats are left out).
    """
    rel = relation(data)
    keys = as_tuple(by)
    _require(rel, [*keys, "payment_date", "amount_gbp", "source_file"], "repeated_rows")
    files = months.groupby([*keys, "month"], dropna=False, observed=True)["source_file"].nunique()
    multi = files[files >= 2].reset_index()[[*keys, "month"]]
    empty = pd.DataFrame({**{k: pd.Series(dtype=months[k].dtype) for k in keys},
                          "month": pd.Series(dtype="datetime64[us]"),
                          "n_repeated_rows": pd.Series(dtype="int64")})
    if multi.empty:
        return empty
    # The months as a literal table; the date range and keys as literal filters DuckDB pushes
    # into the scan (row groups outside them are skipped).
    values = ", ".join(
        "(" + ", ".join([*("NULL" if pd.isna(row[k]) else _lit(row[k]) for k in keys),
                         f"DATE {_lit(row['month'].date().isoformat())}"]) + ")"
        for _, row in multi.iterrows())
    cols = [f"k{i}" for i in range(len(keys))]
    on = " AND ".join([*(f"r.{_col(k)} IS NOT DISTINCT FROM m.{c}" for k, c in zip(keys, cols,
                                                                                    strict=True)),
                       "r.month = m.month"])
    first, last = multi["month"].min(), multi["month"].max() + pd.offsets.MonthEnd(0)
    # Literal filters the scan can use: Parquet statistics skip the parts of other councils,
    # and hive partitions skip other financial years' folders.
    prune = [f"payment_date BETWEEN DATE {_lit(first.date().isoformat())} "
             f"AND DATE {_lit(last.date().isoformat())}"]
    for key in keys:
        distinct = multi[key].dropna().unique()
        if len(distinct) and not multi[key].isna().any():
            prune.append(f"{_col(key)} IN ({', '.join(_lit(v) for v in sorted(distinct))})")
    if "financial_year" in rel.columns:
        labels = fy_label(fy_start_year(multi["month"])).unique()
        prune.append(f"financial_year IN ({', '.join(_lit(v) for v in sorted(labels))})")
    ident = [*keys, "month", "payment_date", "amount_gbp"]
    if "supplier_name" in rel.columns:
        ident.append("supplier_name")
    ident_sql = ", ".join(f"r.{_col(c)}" for c in ident)
    sql = f"""
WITH m({', '.join([*cols, 'month'])}) AS (VALUES {values}),
r AS (
  SELECT {', '.join(_col(c) for c in ident if c != 'month')}, source_file, {_MONTH} AS month
  FROM t
  WHERE {' AND '.join(prune)}
)
SELECT {', '.join(_col(k) for k in keys) + ',' if keys else ''} month,
       sum(n) AS n_repeated_rows
FROM (
  SELECT {ident_sql}, count(*) AS n, count(DISTINCT r.source_file) AS n_files
  FROM r JOIN m ON {on}
  GROUP BY ALL
) WHERE n_files > 1
GROUP BY ALL"""
    out = _to_pandas(_run(rel, sql))
    if out.empty:
        return empty
    out["n_repeated_rows"] = out["n_repeated_rows"].astype("int64")
    return out.sort_values([*keys, "month"], kind="stable").reset_index(drop=True)


def _supplier_sql(have: set[str], use_vendor: bool) -> str:
    cols = (["underlying_vendor"] if use_vendor else []) + ["supplier_canonical", "supplier_name"]
    present = [c for c in cols if c in have]
    if not present:
        raise InputError(f"supplier: expected a 'supplier_canonical' or 'supplier_name' column, "
                         f"got {sorted(have)}")
    return "coalesce(" + ", ".join(_stripped(_col(c)) for c in present) + ")"


def _market_sql(have: set[str], roles: dict[str, str]) -> str:
    market = f"coalesce({_stripped('it_category')}, '(uncategorised)')"
    if "supplier_role" in have and roles:
        cases = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in roles.items())
        market = f"coalesce(CASE supplier_role {cases} END, {market})"
    return f"CASE WHEN coalesce(is_it, false) THEN {market} END"


def supplier_totals(data, by: str | Sequence[str] = ("it_category",), it_only: bool = True,
                    use_vendor: bool = False, roles: dict[str, str] | None = None
                    ) -> pd.DataFrame:
    """Exact spend per supplier within each group, with payment and council counts.

    The SQL twin of `spendkit.models.trends.supplier_totals` (same columns and rules: redacted
    payments and payments with no supplier are left out). A `by` key named `it_market` that
    the data lacks is derived as `it_market` does (`roles`, default `MARKET_ROLES`).
    """
    rel = relation(data)
    keys = as_tuple(by)
    have = set(rel.columns)
    derived = {}
    for key in keys:
        if key == "it_market" and key not in have:
            _require(rel, ["is_it", "it_category"], "it_market")
            derived[key] = _market_sql(have, MARKET_ROLES if roles is None else roles)
        elif key not in have:
            _require(rel, [key], "supplier_totals")
    _require(rel, ["amount_gbp", *(["is_it"] if it_only else [])], "supplier_totals")
    where = ["true"]
    if it_only:
        where.append("coalesce(is_it, false)")
    if "is_redacted" in have:
        where.append("NOT coalesce(is_redacted, false)")
    key_exprs = ", ".join(f"{derived.get(k, _col(k))} AS {_col(k)}" for k in keys)
    councils = "count(DISTINCT publisher_code)" if "publisher_code" in have else "0"
    # Rows are filtered before any supplier text is trimmed (IT is a few % of payments).
    sql = f"""
SELECT {', '.join(_col(k) for k in keys) + ',' if keys else ''} supplier,
       coalesce(sum(amount_gbp), 0) AS amount_gbp, count(*) AS n_payments,
       {councils} AS n_councils
FROM (
  SELECT {key_exprs + ',' if keys else ''} {_supplier_sql(have, use_vendor)} AS supplier,
         amount_gbp {', publisher_code' if 'publisher_code' in have else ''}
  FROM (SELECT * FROM t WHERE {' AND '.join(where)})
) WHERE supplier IS NOT NULL
GROUP BY ALL"""
    out = _to_pandas(_run(rel, sql))
    for name in ("supplier", *derived):  # as `supplier_of` and `it_market` type them
        out[name] = out[name].astype("string")
    # The dtypes of the row-level table (its payment count is a nullable integer).
    out["n_payments"] = out["n_payments"].astype("Int64")
    out["n_councils"] = out["n_councils"].astype("int64")
    out = out.sort_values([*keys, "supplier"], kind="stable").reset_index(drop=True)
    return out[[*keys, "supplier", "n_payments", "n_councils", "amount_gbp"]]


def coverage_report_totals(data, by: Sequence[str] = ("publisher_name", "financial_year"),
                           top: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sums behind `spendkit.enrich.coverage_report`, for data too big for pandas.

    Returns (totals, suppliers). `totals`: per `by` group (missing keys as '', as the report
    has them; `financial_year` from `payment_date` when the data lacks it) the exact
    `total_gbp`, `it_gbp`, `it_<kind>_gbp` per evidence kind of `enrich.classify.KINDS`
    (first part of `it_basis`), `it_corroborated_gbp` (two or more kinds), `it_low_gbp` (low
    confidence), `unclassifiable_gbp` (supplier redacted or blank), `classified_gbp` (IT, or
    any `it_basis`), `no_evidence_gbp` (neither, named supplier), `rows` and `it_rows`.
    `suppliers`: the `top` suppliers of the no-evidence spend per group (`supplier`,
    `amount_gbp`, `rank`; largest first, ties by name). The report's shares are these sums'
    ratios, its money these sums as float pounds.
    """
    from spendkit.enrich.classify import KINDS

    rel = relation(data)
    keys = list(by)
    _require(rel, ["amount_gbp", "is_it", "it_basis", "supplier_canonical"],
              "coverage_report_totals (run spendkit.enrich first)")
    derive_year = "financial_year" in keys and "financial_year" not in rel.columns
    for key in keys:
        if key not in rel.columns and not (key == "financial_year" and derive_year):
            raise InputError(f"coverage_report: group column {key!r} not in the table")
    sql_keys = [k for k in keys if not (k == "financial_year" and derive_year)]
    if derive_year:
        _require(rel, ["payment_date"], "coverage_report_totals")
    group = [*(f"coalesce({_col(k)}, '') AS {_col(k)}" for k in sql_keys),
             *([f"{_MONTH} AS month"] if derive_year else [])]
    names = [*sql_keys, *(["month"] if derive_year else [])]
    red = " OR coalesce(is_redacted, false)" if "is_redacted" in rel.columns else ""
    basis_sums = ",\n".join(
        f"  coalesce(sum(a) FILTER (WHERE it AND primary_basis = {_lit(b)}), 0) AS it_{b}_gbp"
        for b in KINDS)
    low = "coalesce(it_confidence, '') = 'low'" if "it_confidence" in rel.columns else "false"
    inner = f"""
  SELECT {', '.join(group) + ',' if group else ''} amount_gbp AS a,
         coalesce(is_it, false) AS it, split_part(coalesce(it_basis, ''), '+', 1)
           AS primary_basis, contains(coalesce(it_basis, ''), '+') AS corroborated,
         {low} AS low,
         coalesce(is_it, false) OR coalesce(it_basis, '') <> '' AS classified,
         ({_blank('supplier_canonical')}{red}) AS unclassifiable,
         coalesce(supplier_canonical, '') AS supplier
  FROM t"""
    head = ", ".join(_col(n) for n in names)
    totals = _to_pandas(_run(rel, f"""
SELECT {head + ',' if names else ''}
  coalesce(sum(a), 0) AS total_gbp, coalesce(sum(a) FILTER (WHERE it), 0) AS it_gbp,
{basis_sums},
  coalesce(sum(a) FILTER (WHERE it AND corroborated), 0) AS it_corroborated_gbp,
  coalesce(sum(a) FILTER (WHERE it AND low), 0) AS it_low_gbp,
  coalesce(sum(a) FILTER (WHERE unclassifiable), 0) AS unclassifiable_gbp,
  coalesce(sum(a) FILTER (WHERE classified), 0) AS classified_gbp,
  coalesce(sum(a) FILTER (WHERE NOT classified AND NOT unclassifiable), 0) AS no_evidence_gbp,
  count(*) AS rows, count(*) FILTER (WHERE it) AS it_rows
FROM ({inner}) GROUP BY ALL"""))
    suppliers = _to_pandas(_run(rel, f"""
SELECT {head + ',' if names else ''} supplier, sum(a) AS amount_gbp
FROM ({inner}) WHERE NOT classified AND NOT unclassifiable
GROUP BY ALL"""))
    if derive_year:
        for frame in (totals, suppliers):
            frame["financial_year"] = fy_label(fy_start_year(frame["month"])).astype(object)
    money = [c for c in totals.columns if c.endswith("_gbp")]
    totals = _sum_groups(totals, keys, money, ["rows", "it_rows"])
    suppliers = _sum_groups(suppliers, [*keys, "supplier"], ["amount_gbp"], [])
    # Largest first, ties by name: the report's order, on exact sums.
    suppliers["_p"] = suppliers["amount_gbp"].astype("float64")
    suppliers = suppliers.sort_values([*keys, "_p", "supplier"],
                                      ascending=[True] * len(keys) + [False, True],
                                      kind="stable")
    suppliers["rank"] = suppliers.groupby(keys, sort=False).cumcount() + 1 if keys \
        else range(1, len(suppliers) + 1)
    suppliers = suppliers[suppliers["rank"] <= top].drop(columns="_p")
    return totals, suppliers.reset_index(drop=True)


def _sum_groups(frame: pd.DataFrame, keys: list[str], money: list[str],
                counts: list[str]) -> pd.DataFrame:
    """Exact sums of `money` (decimals) and `counts` per `keys`, groups sorted."""
    work = frame[keys].copy() if keys else pd.DataFrame(index=frame.index)
    for col in money:
        work[col] = to_pence(frame[col])
    for col in counts:
        work[col] = frame[col].astype("int64")
    if keys:
        out = work.groupby(keys, sort=True, dropna=False)[[*money, *counts]].sum().reset_index()
    else:
        out = work[[*money, *counts]].sum().to_frame().T
    for col in money:
        out[col] = from_pence(out[col].astype("Int64"), out.index)
    for col in counts:
        out[col] = out[col].astype("int64")
    return out
