"""Helpers for the data-overview notebook: what was ingested, and can the numbers be trusted.

Everything here reads the frames `spendkit.datasets` returns (`read_ledger`, `read_rejects`,
`read_transactions`) and returns small tables or figures:

* `files_by_publisher`, `notable_files`, `warning_summary`: the per-file ledger rolled up;
* `reconcile`, `accounting_text`: every row read is kept or rejected, and the dataset holds
  exactly what the ledger says it kept, file by file, to the penny;
* `reject_counts`, `reject_chart`, `duplicate_publications`: what was not kept and why;
* `calendar_heatmap`: the completeness calendar of `spendkit.models.trends` as a heatmap;
* `redaction_summary`, `classification_split`, `basis_chart`, `largest_unclassified`: how much
  spend is withheld, and how much of it the IT classifier could decide.

Money stays exact (Arrow decimal, via whole pence) in every total; float columns are shares.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.errors import InputError
from spendkit.models.trends.base import as_tuple, text_blank
from spendkit.models.trends.completeness import STATUSES
from spendkit.reference import councils
from spendkit.schema import REJECT_REASONS, require_columns
from spendkit.units import periods
from spendkit.units.money import AMOUNT_DTYPE, AMOUNT_TYPE, from_pence, gbp, to_pence
from spendkit.views.html import escape_html
from spendkit.views.plotting import OKABE_ITO, gbp_axis

#: Reason used by the ingest for rows repeating a payment another file already published.
DUPLICATE_REASON = "duplicate_publication"

#: Colour of each completeness status in `calendar_heatmap` (fixed, so charts compare).
STATUS_COLOURS: dict[str, str] = {
    "present": "#009E73",  # bluish green
    "sparse": "#E69F00",  # orange
    "duplicated": "#CC79A7",  # reddish purple
    "missing": "#D55E00",  # vermillion
}

#: Parts of spend in `classification_split`, in the order they are assigned.
SPLIT_PARTS = ("it", "not_it_by_evidence", "redacted", "no_evidence")


# --- parameters -------------------------------------------------------------------------------


def resolve_council(frame: pd.DataFrame, council: str | None) -> str | None:
    """The `publisher_name` that `council` names (see `spendkit.reference.councils`).

    None stays None (all councils). Raises `InputError` listing the known councils
    when nothing matches.
    """
    if council is None:
        return None
    require_columns(frame, ["publisher_name", "publisher_code"], "resolve_council")
    return councils.resolve_council(council, available=frame).name


def check_years(years: Sequence[str] | str | None, available: Sequence[str] | None = None
                ) -> list[str] | None:
    """Financial-year labels ('2024-25') from a years parameter, sorted; None for all years.

    Forgiving like the CLI (`units.periods.parse_years_argument`): '2024/25', 'FY2024',
    '2021-22:2023-24' or a list of these. With `available`, every year must be one of them
    (so a typo does not silently give an empty notebook); the error says what the data holds.
    """
    return periods.parse_years_argument(years, available=None if available is None
                                        else [str(a) for a in available])


def years_span(years: Sequence[str] | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """(1 April of the first year, 1 March of the last year's end) for a calendar span."""
    labels = check_years(years)
    if labels is None:
        return None, None
    start, end = periods.financial_year_window(labels)
    return pd.Timestamp(start), pd.Timestamp(end.replace(day=1))


def calendar_for_years(tx: pd.DataFrame, years: Sequence[str] | None,
                       by: str | Sequence[str] = ("publisher_name",)) -> pd.DataFrame:
    """`completeness_calendar` over the selected financial years (whole years, edges included).

    With `years`, every month of each selected year is listed (so a year published only in
    part shows its missing months), and months of unselected years in between are left out.
    `tx` is payments, or `aggregates.month_totals` of them (the same calendar).
    """
    from spendkit.models.trends.completeness import calendar_from_months, completeness_calendar

    labels = check_years(years)
    start, end = years_span(labels)
    build = calendar_from_months if _is_totals(tx) else completeness_calendar
    calendar = build(tx, by=by, start=start, end=end)
    if labels is None:
        return calendar
    return calendar[calendar["financial_year"].isin(labels)].reset_index(drop=True)


# --- the ledger ---------------------------------------------------------------------------------


def _ledger_amount(values: pd.Series) -> pd.Series:
    """Ledger money text ('1234.56', '' for failed files) as exact decimals."""
    text = values.astype("string").fillna("").str.strip()
    text = text.mask(text.eq(""), "0")
    arr = pc.cast(pa.array(text.to_numpy(dtype=object), pa.string()), AMOUNT_TYPE)
    return pd.Series(arr, index=values.index, dtype=AMOUNT_DTYPE, name=values.name)


def _warning_list(values: pd.Series) -> pd.Series:
    """Each file's warnings as a list (the ledger joins them with ' | ')."""
    text = values.astype("string").fillna("").str.strip()
    return text.str.split(r"\s\|\s", regex=True).map(
        lambda parts: [p for p in parts if p.strip()] if isinstance(parts, list) else [])


def _joined_unique(values: pd.Series) -> str:
    return ", ".join(sorted({str(v) if str(v) else "(none)" for v in values}))


def files_by_publisher(ledger: pd.DataFrame) -> pd.DataFrame:
    """One row per publisher: files, rows read/kept/rejected, totals, encodings, header lines.

    `dataset_total_gbp` is the exact sum of what went into the dataset (kept rows less
    duplicate publications); `warnings` counts warning messages, `files_with_warnings` files.
    Failed files count in `files` and `failed_files` and add no rows.
    """
    require_columns(ledger, ["source_file", "status", "publisher_name", "format", "encoding",
                             "header_line", "rows_read", "rows_kept", "rows_rejected",
                             "duplicate_rows", "dataset_rows", "dataset_total_gbp", "warnings"],
                    "files_by_publisher")
    work = ledger.copy()
    work["publisher_name"] = work["publisher_name"].astype("string").fillna("").mask(
        lambda s: s.eq(""), "(unknown: file not read)")
    work["_pence"] = to_pence(_ledger_amount(work["dataset_total_gbp"]))
    n_warn = _warning_list(work["warnings"]).map(len)
    work["_warnings"] = n_warn
    work["_warned"] = n_warn.gt(0)
    work["_failed"] = work["status"].eq("failed")
    work["_header"] = work["header_line"].astype("int64").astype(str)
    g = work.groupby("publisher_name", sort=True)
    out = g.agg(files=("source_file", "size"), failed_files=("_failed", "sum"),
                formats=("format", _joined_unique), encodings=("encoding", _joined_unique),
                header_lines=("_header", _joined_unique),
                rows_read=("rows_read", "sum"), rows_kept=("rows_kept", "sum"),
                rows_rejected=("rows_rejected", "sum"), duplicate_rows=("duplicate_rows", "sum"),
                dataset_rows=("dataset_rows", "sum"), _pence=("_pence", "sum"),
                files_with_warnings=("_warned", "sum"), warnings=("_warnings", "sum"))
    out = out.reset_index()
    out["dataset_total_gbp"] = from_pence(out.pop("_pence"), out.index)
    ints = ["files", "failed_files", "rows_read", "rows_kept", "rows_rejected", "duplicate_rows",
            "dataset_rows", "files_with_warnings", "warnings"]
    out[ints] = out[ints].astype("int64")
    cols = ["publisher_name", "files", "failed_files", "formats", "encodings", "header_lines",
            "rows_read", "rows_kept", "rows_rejected", "duplicate_rows", "dataset_rows",
            "dataset_total_gbp", "files_with_warnings", "warnings"]
    return out[cols]


def _issue(mask: pd.Series, text: pd.Series | str) -> pd.Series:
    """`text` where `mask`, else '' (one part of the `issues` column)."""
    return pd.Series(np.where(mask, text, ""), index=mask.index, dtype=object)


def _reasons_text(values: pd.Series) -> pd.Series:
    """'{"total_row": 1}' -> '1 total_row' (on the distinct JSON texts)."""
    text = values.astype("string").fillna("")
    mapping = {}
    for v in text.unique():
        parsed = json.loads(v) if v.strip() else {}
        mapping[v] = ", ".join(f"{n} {r}" for r, n in sorted(parsed.items()))
    return text.map(mapping).astype(object)


def notable_files(ledger: pd.DataFrame, council: str | None = None) -> pd.DataFrame:
    """Files that need a look, with what is notable about each in `issues`, in file order.

    A file is notable when it failed, had rows rejected or dropped as duplicates, had its
    header below line 1, or had preamble or blank rows skipped (optionally one publisher's
    files only). `file` is the file name without its folder (the council's).
    """
    require_columns(ledger, ["source_file", "status", "publisher_name", "header_line",
                             "rows_read", "rows_kept", "rows_rejected", "duplicate_rows",
                             "blank_rows_skipped", "preamble_rows_skipped", "rejected_by_reason",
                             "error"], "notable_files")
    work = ledger if council is None else ledger[ledger["publisher_name"].eq(council)]
    work = work.sort_values("source_file", kind="stable")
    parts = [
        _issue(work["status"].eq("failed"), "failed: " + work["error"].astype(str)),
        _issue(work["rows_rejected"].gt(0),
               "rejected " + _reasons_text(work["rejected_by_reason"])),
        _issue(work["duplicate_rows"].gt(0),
               work["duplicate_rows"].astype(str) + " duplicate rows dropped"),
        _issue(work["header_line"].gt(1), "header on line " + work["header_line"].astype(str)),
        _issue(work["preamble_rows_skipped"].gt(0),
               work["preamble_rows_skipped"].astype(str) + " preamble rows skipped"),
        _issue(work["blank_rows_skipped"].gt(0),
               work["blank_rows_skipped"].astype(str) + " blank rows skipped"),
    ]
    issues = pd.concat(parts, axis=1).apply(lambda row: "; ".join(p for p in row if p), axis=1) \
        if len(work) else pd.Series(dtype=object)
    out = pd.DataFrame({
        "publisher_name": work["publisher_name"].astype(str),
        # The file name alone: the folder is the council's.
        "file": work["source_file"].astype(str).str.rsplit("/", n=1).str[-1],
        "rows_read": work["rows_read"].astype("int64"),
        "rows_kept": work["rows_kept"].astype("int64"),
        "issues": issues.astype(str) if len(work) else pd.Series(dtype=str),
    })
    return out[out["issues"].ne("")].reset_index(drop=True)


def warning_summary(ledger: pd.DataFrame, council: str | None = None) -> pd.DataFrame:
    """Distinct loader warnings (numbers replaced by N) with the number of files giving each."""
    require_columns(ledger, ["publisher_name", "source_file", "warnings"], "warning_summary")
    work = ledger if council is None else ledger[ledger["publisher_name"].eq(council)]
    pairs = pd.DataFrame({"publisher_name": work["publisher_name"].to_numpy(),
                          "source_file": work["source_file"].to_numpy(),
                          "warning": _warning_list(work["warnings"]).to_numpy()})
    pairs = pairs.explode("warning").dropna(subset=["warning"])
    if pairs.empty:
        return pd.DataFrame({"publisher_name": pd.Series(dtype=str),
                             "warning": pd.Series(dtype=str),
                             "files": pd.Series(dtype="int64")})
    # Counts become N; digits inside names ('UTF-8', 'column_8') stay.
    pairs["warning"] = pairs["warning"].astype(str).str.replace(r"(?<![\w-])\d+(?!\w)", "N",
                                                                regex=True)
    out = (pairs.groupby(["publisher_name", "warning"], sort=True)["source_file"].nunique()
           .rename("files").reset_index())
    return out.sort_values(["publisher_name", "files", "warning"], ascending=[True, False, True],
                           kind="stable").reset_index(drop=True)


# --- accounting -----------------------------------------------------------------------------


def file_of_rows(source_files: pd.Series, ledger_files: Sequence[str]) -> pd.Series:
    """The ledger file each dataset row came from: itself, or the archive holding the member.

    Rows from a ZIP member carry 'archive.zip/member.csv'; the ledger has one row for the
    archive. Matched on the distinct values, longest ledger path first; NA when none matches.
    """
    known = sorted(set(ledger_files), key=lambda s: (-len(s), s))
    uniques = pd.Series(pd.unique(source_files.astype("string").dropna()), dtype="string")
    mapping: dict[str, str] = {}
    for value in uniques:  # distinct file names (a few hundred), not rows
        for path in known:
            if value == path or value.startswith(path + "/"):
                mapping[value] = path
                break
    return source_files.astype("string").map(mapping).astype("string")


def reconcile(ledger: pd.DataFrame, dataset: pd.DataFrame,
              rejects: pd.DataFrame) -> pd.DataFrame:
    """Per ledger file: the ledger's counts and totals beside what the dataset and rejects hold.

    `dataset` needs `source_file` and `amount_gbp` (all years, all publishers): the rows, or
    sums per file with the row count in `n_payments` (`file_totals`: one query, not every
    row in pandas); `rejects` needs
    `source_file` and `reason`. Check columns (all True when the ingest is sound):
    `read_balances` (rows_read = rows_kept + rows_rejected), `rows_match` (dataset rows =
    ledger dataset_rows = rows_kept - duplicate_rows), `rejects_match` (rejects table rows =
    rows_rejected + duplicate_rows) and `total_matches` (dataset sum = dataset_total_gbp).
    """
    require_columns(ledger, ["source_file", "publisher_name", "status", "rows_read", "rows_kept",
                             "rows_rejected", "duplicate_rows", "dataset_rows",
                             "dataset_total_gbp"], "reconcile ledger")
    require_columns(dataset, ["source_file", "amount_gbp"], "reconcile dataset")
    require_columns(rejects, ["source_file"], "reconcile rejects")
    files = ledger["source_file"].astype(str).tolist()
    rows = pd.DataFrame({"file": file_of_rows(dataset["source_file"], files),
                         "_pence": to_pence(dataset["amount_gbp"]).fillna(0),
                         "_n": (dataset["n_payments"].astype("int64") if _is_totals(dataset)
                                else 1)})
    counted = rows.groupby("file", dropna=False).agg(rows_in_dataset=("_n", "sum"),
                                                     _pence=("_pence", "sum"))
    orphan_rows = int(rows.loc[rows["file"].isna(), "_n"].sum())
    rej = file_of_rows(rejects["source_file"], files).value_counts(dropna=False)
    out = ledger[["source_file", "publisher_name", "status", "rows_read", "rows_kept",
                  "rows_rejected", "duplicate_rows", "dataset_rows"]].copy()
    out["ledger_total_gbp"] = _ledger_amount(ledger["dataset_total_gbp"])
    out = out.merge(counted, left_on="source_file", right_index=True, how="left")
    out["rows_in_dataset"] = out["rows_in_dataset"].fillna(0).astype("int64")
    out["dataset_total_gbp"] = from_pence(out.pop("_pence").fillna(0).astype("int64"),
                                          out.index)
    out["rejects_in_table"] = out["source_file"].map(rej).fillna(0).astype("int64")
    out["read_balances"] = out["rows_read"].eq(out["rows_kept"] + out["rows_rejected"])
    out["rows_match"] = (out["rows_in_dataset"].eq(out["dataset_rows"])
                         & out["dataset_rows"].eq(out["rows_kept"] - out["duplicate_rows"]))
    out["rejects_match"] = out["rejects_in_table"].eq(out["rows_rejected"]
                                                      + out["duplicate_rows"])
    out["total_matches"] = (to_pence(out["dataset_total_gbp"])
                            .eq(to_pence(out["ledger_total_gbp"])).astype(bool))
    # Rows the ledger cannot place (a source file it does not list) would be lost from view.
    out.attrs["orphan_rows"] = orphan_rows
    out.attrs["orphan_rejects"] = int(rej.get(pd.NA, 0)) if rej.index.hasnans else 0
    return out.reset_index(drop=True)


def file_totals(processed=None) -> pd.DataFrame:
    """Per source file of the dataset: `n_payments` and exact `amount_gbp` (dated or not),
    summed where the data is (one DuckDB query): `reconcile`'s dataset side at any size."""
    from spendkit.datasets import query

    return query("SELECT source_file, count(*) AS n_payments, "
                 "coalesce(sum(amount_gbp), 0) AS amount_gbp FROM transactions "
                 "GROUP BY source_file ORDER BY source_file", processed)


def accounting_text(recon: pd.DataFrame) -> str:
    """One line stating the accounting identities over all files (for a checked cell)."""
    n = len(recon)
    read, kept, rejected = (int(recon[c].sum()) for c in ("rows_read", "rows_kept",
                                                          "rows_rejected"))
    dups, in_ds = int(recon["duplicate_rows"].sum()), int(recon["rows_in_dataset"].sum())
    ledger_total = from_pence(pd.Series([int(to_pence(recon["ledger_total_gbp"]).sum())]))[0]
    ds_total = from_pence(pd.Series([int(to_pence(recon["dataset_total_gbp"]).sum())]))[0]
    return (f"{n:,} files: {read:,} rows read = {kept:,} kept + {rejected:,} rejected\n"
            f"{dups:,} duplicate publications dropped: {in_ds:,} rows in the dataset\n"
            f"dataset total {gbp(ds_total)} = ledger total {gbp(ledger_total)}")


# --- rejects and duplicates -------------------------------------------------------------------


def _publisher_of_files(ledger: pd.DataFrame, source_files: pd.Series) -> pd.Series:
    owner = file_of_rows(source_files, ledger["source_file"].astype(str).tolist())
    names = dict(zip(ledger["source_file"].astype(str), ledger["publisher_name"].astype(str),
                     strict=True))
    return owner.map(names).astype("string").fillna("(unknown)")


def reject_counts(rejects: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows per publisher and reason, with the reason's meaning and a first example.

    Columns: publisher_name, reason, description, rows, files, example ('name:line', the
    file name without its folder).
    Duplicate publications are included under their own reason.
    """
    require_columns(rejects, ["source_file", "source_line", "reason"], "reject_counts")
    cols = ["publisher_name", "reason", "description", "rows", "files", "example"]
    if rejects.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("rows", "files") else str)
                             for c in cols})
    work = rejects[["source_file", "source_line", "reason"]].copy()
    work["publisher_name"] = _publisher_of_files(ledger, work["source_file"])
    work = work.sort_values(["publisher_name", "reason", "source_file", "source_line"],
                            kind="stable")
    work["example"] = (work["source_file"].astype(str).str.rsplit("/", n=1).str[-1] + ":"
                       + work["source_line"].astype(str))
    out = work.groupby(["publisher_name", "reason"], sort=True).agg(
        rows=("source_file", "size"), files=("source_file", "nunique"),
        example=("example", "first")).reset_index()
    meanings = {**REJECT_REASONS,
                DUPLICATE_REASON: "The payment was already published in an earlier file."}
    out["description"] = out["reason"].map(meanings).fillna("")
    out[["rows", "files"]] = out[["rows", "files"]].astype("int64")
    return out[cols]


def reject_chart(counts: pd.DataFrame, title: str = "Rejected rows by reason") -> go.Figure:
    """Horizontal stacked bars: rejected rows per reason, one colour per publisher."""
    require_columns(counts, ["publisher_name", "reason", "rows"], "reject_chart")
    reasons = (counts.groupby("reason")["rows"].sum().sort_values(kind="stable")
               .index.tolist())
    short = short_council_names(counts["publisher_name"].astype(str))
    fig = go.Figure()
    for i, (name, part) in enumerate(counts.groupby("publisher_name", sort=True)):
        part = part.set_index("reason").reindex(reasons)
        label = escape_html(short[str(name)])
        fig.add_trace(go.Bar(
            y=reasons, x=part["rows"].fillna(0).astype("int64").tolist(), orientation="h",
            name=label, marker_color=OKABE_ITO[i % len(OKABE_ITO)],
            hovertemplate="%{y}<br>%{x:,} rows<extra>" + label + "</extra>"))
    fig.update_layout(barmode="stack", title=escape_html(title), xaxis_title="rows",
                      yaxis_title=None, height=max(300, 160 + 40 * len(reasons)),
                      legend={"title": {"text": "council"}})
    return fig


def _amount_of_raw(raw: pd.Series) -> pd.Series:
    """The amount at the end of a duplicate reject's raw text ('date|supplier|amount')."""
    text = raw.astype("string").fillna("").str.rsplit("|", n=1).str[-1].str.strip()
    ok = text.str.fullmatch(r"-?\d+(\.\d{1,2})?").fillna(False).astype(bool)
    arr = pc.cast(pa.array(text.where(ok, "0").to_numpy(dtype=object), pa.string()),
                  AMOUNT_TYPE)
    return pd.Series(arr, index=raw.index, dtype=AMOUNT_DTYPE)


def duplicate_publications(rejects: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """Rows dropped as already published: per file, the earlier file it repeats, rows and £.

    The ingest's detail names the earlier file ('repeats a payment in <path>').
    """
    require_columns(rejects, ["source_file", "reason", "detail", "raw"],
                    "duplicate_publications")
    cols = ["publisher_name", "source_file", "repeats_file", "rows", "amount_gbp"]
    dup = rejects[rejects["reason"].eq(DUPLICATE_REASON)]
    if dup.empty:
        return pd.DataFrame({"publisher_name": pd.Series(dtype=str),
                             "source_file": pd.Series(dtype=str),
                             "repeats_file": pd.Series(dtype=str),
                             "rows": pd.Series(dtype="int64"),
                             "amount_gbp": pd.Series(dtype=AMOUNT_DTYPE)})
    repeats = dup["detail"].astype("string").str.extract(r"repeats a payment in (.+)$")[0]
    work = pd.DataFrame({"publisher_name": _publisher_of_files(ledger, dup["source_file"]),
                         "source_file": dup["source_file"].astype(str),
                         "repeats_file": repeats.astype("string").fillna("(unknown)"),
                         "_pence": to_pence(_amount_of_raw(dup["raw"]))})
    out = work.groupby(["publisher_name", "source_file", "repeats_file"], sort=True).agg(
        rows=("_pence", "size"), _pence=("_pence", "sum")).reset_index()
    out["rows"] = out["rows"].astype("int64")
    out["amount_gbp"] = from_pence(out.pop("_pence"), out.index)
    return out[cols]


# --- completeness ---------------------------------------------------------------------------


def calendar_heatmap(calendar: pd.DataFrame, by: str = "publisher_name",
                     title: str = "Months published per council") -> go.Figure:
    """A council x month heatmap coloured by completeness status (fixed colours per status).

    The hover gives the status, payments and source files of each month; the legend lists
    all four statuses even when some do not occur.
    """
    require_columns(calendar, [by, "month", "status", "n_payments", "n_source_files"],
                    "calendar_heatmap")
    codes = {s: i for i, s in enumerate(STATUSES)}
    # The calendar's own months: a selection of non-adjacent years leaves no fake gap columns.
    months = pd.DatetimeIndex(sorted(calendar["month"].unique()))
    rows = sorted(calendar[by].astype(str).unique(), reverse=True)  # first council on top
    work = calendar.assign(_row=calendar[by].astype(str),
                           _code=calendar["status"].astype(str).map(codes))
    z = (work.pivot(index="_row", columns="month", values="_code")
         .reindex(index=rows, columns=months))
    pay = (work.pivot(index="_row", columns="month", values="n_payments")
           .reindex(index=rows, columns=months))
    nfiles = (work.pivot(index="_row", columns="month", values="n_source_files")
              .reindex(index=rows, columns=months))
    status_text = z.apply(lambda col: col.map(
        lambda v: STATUSES[int(v)] if pd.notna(v) else "outside span"))
    hover = (status_text.astype(str) + "<br>" + pay.fillna(0).astype("int64").astype(str)
             + " payments, " + nfiles.fillna(0).astype("int64").astype(str) + " file(s)")
    n = len(STATUSES)
    # A stepped colourscale: status i fills the band [i/n, (i+1)/n].
    scale = []
    for i, s in enumerate(STATUSES):
        scale += [[i / n, STATUS_COLOURS[s]], [(i + 1) / n, STATUS_COLOURS[s]]]
    labels = [pd.Timestamp(m).strftime("%Y-%m") for m in months]
    short = short_council_names(rows) if by == "publisher_name" else {r: r for r in rows}
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(dtype="float64"), x=labels, y=[escape_html(short[r]) for r in rows],
        zmin=-0.5, zmax=n - 0.5, colorscale=scale, xgap=1, ygap=2,
        customdata=hover.to_numpy(dtype=object),
        hovertemplate="%{y}<br>%{x}: %{customdata}<extra></extra>",
        colorbar={"tickvals": list(range(n)), "ticktext": list(STATUSES), "title": "status",
                  "lenmode": "pixels", "len": 150}))
    # Month ticks on top, so the coverage caption under the chart has the bottom to itself.
    fig.update_layout(title={"text": escape_html(title), "y": 0.97, "yanchor": "top"},
                      height=max(380, 190 + 40 * len(rows)),
                      xaxis={"type": "category", "tickangle": -90, "nticks": 24, "side": "top"},
                      yaxis={"automargin": True}, margin={"t": 130, "b": 60})
    return fig


# --- spend, redaction and classification ------------------------------------------------------


def _is_totals(df: pd.DataFrame) -> bool:
    """True for sums of payments (`aggregates.month_totals`, per-file totals), not payments."""
    return "n_payments" in df.columns and "payment_date" not in df.columns


def with_financial_year(months: pd.DataFrame) -> pd.DataFrame:
    """`months` (`aggregates.month_totals`) with the `financial_year` label of each month."""
    require_columns(months, ["month"], "with_financial_year")
    return months.assign(financial_year=periods.financial_year(
        pd.to_datetime(months["month"])).astype(object))


def spend_by_year(tx: pd.DataFrame, by: str = "publisher_name") -> pd.DataFrame:
    """Wide table of exact spend (net of credits): one row per `by`, one column per year.

    Years without payments are NA (not zero: nothing published is not nothing spent). `tx`
    is payments, or month totals with their year (`with_financial_year(month_totals(...))`).
    """
    require_columns(tx, [by, "financial_year", "amount_gbp"], "spend_by_year")
    work = pd.DataFrame({by: tx[by].astype(str), "financial_year": tx["financial_year"].astype(
        str), "_pence": to_pence(tx["amount_gbp"]).fillna(0)})
    sums = work.groupby([by, "financial_year"], sort=True)["_pence"].sum().unstack()
    out = pd.DataFrame(index=sums.index)
    for year in sums.columns:
        out[year] = from_pence(sums[year].astype("Int64"), sums.index)
    out.columns.name = None
    return out


def redaction_summary(tx: pd.DataFrame, by: str | Sequence[str] = ("publisher_name",)
                      ) -> pd.DataFrame:
    """Per group: payments and spend, the redacted part of each, and the redacted shares (%).

    `tx` is payments, or `aggregates.month_totals` (parts "coverage" or more) summing them.
    """
    keys = list(as_tuple(by))
    work = tx[keys].copy()
    if _is_totals(tx):  # `aggregates.month_totals(..., parts="coverage")`: sums per month
        require_columns(tx, [*keys, "amount_gbp", "n_payments", "redacted_payments",
                             "redacted_gbp"], "redaction_summary")
        work["_p"] = to_pence(tx["amount_gbp"]).fillna(0)
        work["_rp"] = to_pence(tx["redacted_gbp"]).fillna(0)
        work["_r"] = tx["redacted_payments"].astype("int64")
        work["_n"] = tx["n_payments"].astype("int64")
    else:
        require_columns(tx, [*keys, "amount_gbp", "is_redacted"], "redaction_summary")
        red = tx["is_redacted"].astype("boolean").fillna(False).astype(bool)
        pence = to_pence(tx["amount_gbp"]).fillna(0)
        work["_p"] = pence
        work["_rp"] = pence.where(red, 0)
        work["_r"] = red.astype("int64")
        work["_n"] = 1
    g = work.groupby(keys, sort=True, dropna=False).agg(
        payments=("_n", "sum"), redacted_payments=("_r", "sum"), _p=("_p", "sum"),
        _rp=("_rp", "sum")).reset_index()
    g["spend_gbp"] = from_pence(g.pop("_p"), g.index)
    g["redacted_gbp"] = from_pence(g.pop("_rp"), g.index)
    spend = to_pence(g["spend_gbp"]).astype("float64")
    g["redacted_spend_pct"] = (to_pence(g["redacted_gbp"]).astype("float64")
                                        / spend.where(spend != 0) * 100)
    g["redacted_payments_pct"] = g["redacted_payments"] / g["payments"] * 100
    g[["payments", "redacted_payments"]] = g[["payments", "redacted_payments"]].astype("int64")
    return g


def _split_masks(tx: pd.DataFrame) -> dict[str, pd.Series]:
    """Disjoint masks: IT, not IT with evidence, redacted, no evidence (assigned in that order)."""
    is_it = tx["is_it"].astype("boolean").fillna(False).astype(bool)
    evidence = ~text_blank(tx["it_basis"])
    red = (tx["is_redacted"].astype("boolean").fillna(False).astype(bool)
           if "is_redacted" in tx.columns else pd.Series(False, index=tx.index))
    red |= text_blank(tx["supplier_canonical"])  # as coverage_report: blank = unclassifiable
    return {"it": is_it, "not_it_by_evidence": ~is_it & evidence,
            "redacted": ~is_it & ~evidence & red, "no_evidence": ~is_it & ~evidence & ~red}


def classification_split(tx: pd.DataFrame, by: str | Sequence[str] = ("publisher_name",)
                         ) -> pd.DataFrame:
    """Per group, all spend split four ways (exact £ and % of spend, summing to 100).

    Parts, assigned in order: `it` (classified IT), `not_it_by_evidence` (not IT, with a rule,
    label or reference entry saying so), `redacted` (supplier withheld or blank, no evidence:
    cannot be classified) and `no_evidence` (a named supplier nothing decided: treated as not
    IT, the part where IT could hide). `tx` is payments, or `aggregates.month_totals` with
    parts="overview" (its `not_it_evidence_gbp` and `unclassifiable_gbp`).
    """
    keys = list(as_tuple(by))
    work = tx[keys].copy()
    if _is_totals(tx):  # `aggregates.month_totals(..., parts="overview")`: sums per month
        require_columns(tx, [*keys, "amount_gbp", "it_gbp", "not_it_evidence_gbp",
                             "unclassifiable_gbp"], "classification_split")
        pence = to_pence(tx["amount_gbp"]).fillna(0)
        for part, column in (("it", "it_gbp"), ("not_it_by_evidence", "not_it_evidence_gbp"),
                             ("redacted", "unclassifiable_gbp")):
            work[part] = to_pence(tx[column]).fillna(0)
        work["no_evidence"] = pence - work["it"] - work["not_it_by_evidence"] - work["redacted"]
    else:
        require_columns(tx, [*keys, "amount_gbp", "is_it", "it_basis", "supplier_canonical"],
                        "classification_split")
        pence = to_pence(tx["amount_gbp"]).fillna(0)
        for part, mask in _split_masks(tx).items():
            work[part] = pence.where(mask, 0)
    work["_total"] = pence
    sums = work.groupby(keys, sort=True, dropna=False)[[*SPLIT_PARTS, "_total"]].sum()
    out = sums.reset_index()[keys]
    total = sums["_total"].astype("float64").to_numpy()
    out["total_gbp"] = from_pence(sums["_total"].to_numpy(), out.index)
    for part in SPLIT_PARTS:
        out[f"{part}_gbp"] = from_pence(sums[part].to_numpy(), out.index)
    for part in SPLIT_PARTS:
        with np.errstate(divide="ignore", invalid="ignore"):
            share = sums[part].astype("float64").to_numpy() / np.where(total != 0, total, np.nan)
        out[f"{part}_pct"] = share * 100
    return out


def basis_chart(coverage: pd.DataFrame, by: str = "publisher_name",
                title: str = "Share of spend classified as IT, by deciding evidence"
                ) -> go.Figure:
    """Stacked bars from `coverage_report`: each bar is the IT share of all spend (%), split
    by the evidence that decided it (expense type, supplier, description, service area)."""
    from spendkit.enrich.coverage import BASES

    require_columns(coverage, [by, "it_share", *[f"it_share_{b}" for b in BASES]],
                    "basis_chart")
    names = coverage[by].astype(str).tolist()
    if by == "publisher_name":
        short = short_council_names(names)
        names = [short[n] for n in names]
    fig = go.Figure()
    for i, basis in enumerate(BASES):
        pct = (coverage["it_share"] * coverage[f"it_share_{basis}"] * 100).round(3)
        fig.add_trace(go.Bar(
            x=[escape_html(n) for n in names], y=pct.tolist(),
            name=basis.replace("_", " "), marker_color=OKABE_ITO[i % len(OKABE_ITO)],
            hovertemplate="%{x}<br>%{y:.2f}% of spend<extra>" + basis.replace("_", " ")
                          + "</extra>"))
    fig.update_layout(barmode="stack", title=escape_html(title), yaxis_title="% of all spend",
                      yaxis={"ticksuffix": "%"}, legend={"title": {"text": "decided by"}})
    return fig


def largest_unclassified(tx: pd.DataFrame, top: int = 10,
                         by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """The largest suppliers of spend nothing classified (not IT, no evidence, not redacted).

    Suppliers are grouped by `supplier_key` (the normalised name), so 'KIER CONSTRUCTION LTD'
    and 'Kier Construction Ltd' are one row, named by the published spelling with most spend.
    Columns: the `by` keys, supplier, spellings, payments, amount_gbp (exact) and
    share_of_spend_pct (of all spend in the group). Top `top` per group, largest first.
    """
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise InputError(f"top: expected a whole number of at least 1, got {top!r}")
    keys = list(as_tuple(by))
    require_columns(tx, [*keys, "amount_gbp", "is_it", "it_basis", "supplier_canonical",
                         "supplier_key", "supplier_name"], "largest_unclassified")
    pence = to_pence(tx["amount_gbp"]).fillna(0)
    totals = (pd.DataFrame({**{k: tx[k] for k in keys}, "_p": pence, "_one": 0})
              .groupby(keys or ["_one"], sort=True, dropna=False)["_p"].sum().rename("_total"))
    mask = _split_masks(tx)["no_evidence"]
    work = tx.loc[mask, keys].copy()
    work["_key"] = tx.loc[mask, "supplier_key"].astype("string").fillna("")
    work["_key"] = work["_key"].mask(work["_key"].str.strip().eq(""),
                                     tx.loc[mask, "supplier_name"].astype("string").str.lower())
    work["_name"] = tx.loc[mask, "supplier_name"].astype("string").fillna("")
    work["_p"] = pence[mask]
    work["_one"] = 0
    gk = keys or ["_one"]
    per_name = (work.groupby([*gk, "_key", "_name"], sort=True, dropna=False)["_p"]
                .agg(["sum", "size"]).reset_index()
                .sort_values([*gk, "_key", "sum", "_name"],
                             ascending=[True] * (len(gk) + 1) + [False, True], kind="stable"))
    per_key = per_name.groupby([*gk, "_key"], sort=False, dropna=False).agg(
        supplier=("_name", "first"), spellings=("_name", "size"), payments=("size", "sum"),
        _p=("sum", "sum")).reset_index()
    per_key = per_key.sort_values([*gk, "_p", "supplier"],
                                  ascending=[True] * len(gk) + [False, True], kind="stable")
    out = per_key.groupby(gk, sort=False, dropna=False).head(top).reset_index(drop=True)
    out = out.merge(totals.reset_index(), on=gk, how="left")
    out["amount_gbp"] = from_pence(out["_p"], out.index)
    out["share_of_spend_pct"] = (out["_p"].astype("float64")
                                 / out["_total"].astype("float64").where(out["_total"] != 0)
                                 * 100)
    out[["spellings", "payments"]] = out[["spellings", "payments"]].astype("int64")
    return out[[*keys, "supplier", "spellings", "payments", "amount_gbp",
                "share_of_spend_pct"]]


_COUNCIL_SUFFIX = re.compile(
    r"\s+(?:Metropolitan\s+)?(?:Borough\s+|City\s+|County\s+|District\s+)?Council$")


def short_council_names(names: Sequence[str]) -> dict[str, str]:
    """Display labels for council names: 'Leeds City Council' -> 'Leeds'.

    Drops a trailing '(Metropolitan) (Borough|City|County|District) Council'; a name that would
    become empty or clash with another's label keeps its full form.
    """
    full = sorted({str(n) for n in names})
    short = {n: _COUNCIL_SUFFIX.sub("", n).strip() or n for n in full}
    counts = pd.Series(list(short.values())).value_counts()
    return {n: (s if counts[s] == 1 else n) for n, s in short.items()}


def money_for_display(df: pd.DataFrame, *, pence: bool = True,
                      index: str | Sequence[str] | None = None,
                      transpose: bool = False) -> pd.DataFrame:
    """Copy for showing: exact money as '£1,234.56' text, `_pct` columns to 1 place.

    `index` names a column to use as the index (council names shortened when it is
    `publisher_name`); `transpose=True` turns a wide table of a few councils into one column per
    council. For display only: totals and checks use the exact columns.
    """
    out = df.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if isinstance(dtype, pd.ArrowDtype) and pa.types.is_decimal(dtype.pyarrow_dtype):
            values = out[col].astype(object)
            out[col] = values.map(lambda v: gbp(v, pence=pence, missing="")).astype(str)
        elif str(col).endswith("_pct"):
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64").round(1)
    return _shape_for_display(out, index, transpose)


def _shape_for_display(out: pd.DataFrame, index: str | Sequence[str] | None,
                       transpose: bool) -> pd.DataFrame:
    if index is not None:
        keys = [index] if isinstance(index, str) else list(index)
        if "publisher_name" in keys:
            names = out["publisher_name"].astype(str)
            out["publisher_name"] = names.map(short_council_names(names))
        out = out.set_index(keys)
    if index is None and out.index.name == "publisher_name":
        names = short_council_names(out.index.astype(str))
        out.index = pd.Index([names[str(v)] for v in out.index], name="publisher_name")
    if transpose:
        out = out.T
        out.columns.name = None
    return out


def coverage_for_display(coverage: pd.DataFrame, *, index: str | Sequence[str] | None = None,
                          transpose: bool = False) -> pd.DataFrame:
    """`coverage_report` output for showing: shares as % to 1 place, money as £ text.

    Drops `top_unclassified` (see `largest_unclassified` for a table of them); `index` and
    `transpose` as in `money_for_display`.
    """
    out = coverage.drop(columns=["top_unclassified"], errors="ignore").copy()
    renames = {}
    for col in out.columns:
        if col.endswith("_share") or "_share_" in col:
            out[col] = (out[col].astype("float64") * 100).round(1)
            renames[col] = f"{col}_pct"
        elif col.endswith("_gbp"):
            out[col] = out[col].map(lambda v: gbp(v, pence=True)).astype(str)
    return _shape_for_display(out.rename(columns=renames), index, transpose)


def spend_chart(wide: pd.DataFrame, title: str = "Spend per council per financial year"
                ) -> go.Figure:
    """Grouped bars from `spend_by_year`: one bar per council within each financial year."""
    fig = go.Figure()
    years = [str(c) for c in wide.columns]
    short = short_council_names(wide.index.astype(str))
    for i, (name, row) in enumerate(wide.iterrows()):  # one trace per council (a handful)
        values = [float(v) if pd.notna(v) else None for v in row.tolist()]
        label = escape_html(short[str(name)])
        fig.add_trace(go.Bar(x=years, y=values, name=label,
                             marker_color=OKABE_ITO[i % len(OKABE_ITO)],
                             hovertemplate="%{x}<br>£%{y:,.0f}<extra>" + label + "</extra>"))
    fig.update_layout(barmode="group", title=escape_html(title), xaxis_title="financial year",
                      legend={"title": {"text": "council"}})
    gbp_axis(fig)
    return fig


def ledger_reject_reasons(ledger: pd.DataFrame) -> dict[str, int]:
    """Loader rejects per reason summed over the ledger's files (to cross-check the rejects)."""
    require_columns(ledger, ["rejected_by_reason"], "ledger_reject_reasons")
    counts = ledger["rejected_by_reason"].astype("string").fillna("").value_counts()
    total: dict[str, int] = {}
    for text, n_files in counts.items():  # distinct JSON texts, not files
        for reason, n in (json.loads(text) if text.strip() else {}).items():
            total[reason] = total.get(reason, 0) + int(n) * int(n_files)
    return dict(sorted(total.items()))


def for_council(df: pd.DataFrame, council: str | None) -> pd.DataFrame:
    """Rows of one publisher (by `publisher_name`), or all rows when `council` is None."""
    if council is None:
        return df
    require_columns(df, ["publisher_name"], "for_council")
    return df[df["publisher_name"].eq(council)]


def total_pence(values: pd.Series) -> int:
    """Exact sum of an amount column in whole pence (missing values count as 0)."""
    return int(to_pence(values.dropna()).sum()) if len(values) else 0


def ledger_dataset_total(ledger: pd.DataFrame) -> int:
    """The ledger's `dataset_total_gbp` summed over all files, in whole pence."""
    require_columns(ledger, ["dataset_total_gbp"], "ledger_dataset_total")
    return total_pence(_ledger_amount(ledger["dataset_total_gbp"]))


def with_short_names(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of `df` with `publisher_name` shortened for display ('Leeds City Council' → 'Leeds')."""
    if "publisher_name" not in df.columns or df.empty:
        return df
    names = df["publisher_name"].astype(str)
    return df.assign(publisher_name=names.map(short_council_names(names)))


def prose(lines: Sequence[str]) -> str:
    """Sentences (which may hold names from the data) as an escaped Markdown list."""
    from spendkit.views.html import escape_markdown

    items = [escape_markdown(line) for text in lines for line in str(text).splitlines()
             if line.strip()]
    return "\n".join(f"- {item}" for item in items)
