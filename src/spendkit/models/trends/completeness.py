"""Completeness calendar: which months each council published, missed, sparsely or twice.

A trend must not read a missing month as a fall. `completeness_calendar` lists every month in a
council's span with a status:

* ``present``    - published once;
* ``missing``    - no payment dated in the month;
* ``sparse``     - fewer payments than `sparse_share` (default 25%) of the council's median
  month: a part-published month (Hyndburn's September 2022 file holds 14 rows);
* ``duplicated`` - two or more source files each publish the month, i.e. each holds at least
  `file_share` (default 10%) of its payments. The share rule keeps a few late-dated rows in the
  next month's file from counting as an overlap. `n_repeated_rows` counts rows repeated exactly
  (same date, supplier, amount) in more than one file, the strongest sign of double counting.

Only ``present`` months are complete. `year_completeness` rolls the calendar up to financial
years (a year is complete when all 12 months are), and `flag_incomplete` / `exclude_incomplete`
mark or drop the incomplete months or years of any trend table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from spendkit.errors import InputError
from spendkit.models.trends.base import (
    add_periods,
    as_tuple,
    fy_label,
    fy_label_start,
    fy_start_year,
)
from spendkit.schema import require_columns
from spendkit.units.money import from_pence, to_pence

#: Month statuses in `completeness_calendar`, best first.
STATUSES = ("present", "sparse", "duplicated", "missing")

#: Common publication thresholds (GBP) tried by `observed_threshold`, highest first.
STANDARD_THRESHOLDS = (500, 250, 100)


def completeness_calendar(
    df: pd.DataFrame,
    by: str | Sequence[str] = ("publisher_code",),
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    file_share: float = 0.10,
    sparse_share: float = 0.25,
) -> pd.DataFrame:
    """One row per council and month from its first to last month (or `start`..`end`).

    Columns: the `by` keys, `month` (first day), `month_label`, `financial_year`, `n_payments`,
    `amount_gbp` (exact), `n_source_files`, `source_files` ('; '-joined), `n_publishing_files`,
    `n_repeated_rows`, `status` (see module docstring) and `is_complete`.
    """
    keys = as_tuple(by)
    require_columns(df, [*keys, "payment_date", "amount_gbp", "source_file"],
                    "completeness_calendar")
    _check_file_share(file_share)
    work = add_periods(df[[*keys, "payment_date", "amount_gbp", "source_file",
                           *[c for c in ("supplier_name",) if c in df.columns]]])
    work = work[work["month"].notna()]
    per_file = (work.assign(_pence=to_pence(work["amount_gbp"]))
                .groupby([*keys, "month", "source_file"], dropna=False, observed=True)
                .agg(n_rows=("_pence", "size"), _pence=("_pence", "sum")).reset_index())
    return _calendar(per_file, _repeated_rows(work, keys), keys, start, end, file_share,
                     sparse_share)


def calendar_from_months(months: pd.DataFrame, repeated: pd.DataFrame | None = None,
                         by: str | Sequence[str] = ("publisher_code",),
                         **options: Any) -> pd.DataFrame:
    """`completeness_calendar` from `aggregates.month_totals` and `aggregates.repeated_rows`.

    `options` are `completeness_calendar`'s: `start`, `end`, `file_share`, `sparse_share`.

    Same columns and statuses as the row-level calendar of the same payments; `months` may be
    keyed more finely than `by` (e.g. by code and name), and `repeated` must be keyed by `by`.
    Without `repeated` (it costs a second scan) `n_repeated_rows` is NA, "not counted": no
    status depends on it, so completeness flags, trends and peers are the same.
    """
    keys = as_tuple(by)
    require_columns(months, [*keys, "month", "source_file", "n_payments", "amount_gbp"],
                    "calendar_from_months")
    counted = repeated is not None
    if counted:
        require_columns(repeated, [*keys, "month", "n_repeated_rows"], "calendar_from_months")
    else:
        repeated = pd.DataFrame({**{k: pd.Series(dtype=months[k].dtype) for k in keys},
                                 "month": pd.Series(dtype=months["month"].dtype),
                                 "n_repeated_rows": pd.Series(dtype="int64")})
    unknown = sorted(set(options) - set(_CALENDAR_OPTIONS))
    if unknown:
        raise InputError(f"calendar_from_months: unknown option(s) {unknown}; expected "
                         f"{list(_CALENDAR_OPTIONS)}")
    settings = {**_CALENDAR_OPTIONS, **options}
    _check_file_share(settings["file_share"])
    per_file = (months.assign(_pence=to_pence(months["amount_gbp"]))
                .groupby([*keys, "month", "source_file"], dropna=False, observed=True)
                .agg(n_rows=("n_payments", "sum"), _pence=("_pence", "sum")).reset_index())
    out = _calendar(per_file, repeated[[*keys, "month", "n_repeated_rows"]], keys,
                    settings["start"], settings["end"], settings["file_share"],
                    settings["sparse_share"])
    if not counted:
        out["n_repeated_rows"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    return out


#: `completeness_calendar`'s options and their defaults, for `calendar_from_months`.
_CALENDAR_OPTIONS = {"start": None, "end": None, "file_share": 0.10, "sparse_share": 0.25}


def _check_file_share(file_share: float) -> None:
    if not 0 < file_share <= 0.5:
        raise InputError(f"file_share: expected a fraction in (0, 0.5], got {file_share!r}")


def _calendar(per_file: pd.DataFrame, repeated: pd.DataFrame, keys: tuple[str, ...],
              start, end, file_share: float, sparse_share: float) -> pd.DataFrame:
    """The calendar from payments and pence per key, month and source file (`n_rows`,
    `_pence`) and repeated rows per key and month."""
    per_month = (per_file.groupby([*keys, "month"], sort=True, dropna=False, observed=True)
                 .agg(_pence=("_pence", "sum"), n_payments=("n_rows", "sum")).reset_index())
    per_month["amount_gbp"] = from_pence(per_month.pop("_pence"), per_month.index)
    files = per_file[[*keys, "month", "source_file", "n_rows"]].merge(
        per_month[[*keys, "month", "n_payments"]], on=[*keys, "month"])
    files["publishes"] = files["n_rows"] >= file_share * files["n_payments"]
    files = files.sort_values([*keys, "month", "source_file"])
    file_stats = (files.groupby([*keys, "month"], dropna=False, observed=True)
                  .agg(n_source_files=("source_file", "size"),
                       n_publishing_files=("publishes", "sum"))
                  .reset_index())
    file_stats["source_files"] = _joined_files(files, keys, file_stats)
    present = (per_month.merge(file_stats, on=[*keys, "month"], how="left")
               .merge(repeated, on=[*keys, "month"], how="left"))

    full = _full_calendar(present, keys, start, end)
    out = full.merge(present, on=[*keys, "month"], how="left")
    out["n_payments"] = out["n_payments"].fillna(0).astype("int64")
    for col in ("n_source_files", "n_publishing_files", "n_repeated_rows"):
        out[col] = out[col].fillna(0).astype("int64")
    out["source_files"] = out["source_files"].astype("string").fillna("")

    median = (out[out["n_payments"] > 0].groupby(list(keys), dropna=False, observed=True)
              ["n_payments"].median().rename("_median")) if keys else None
    if keys:
        out = out.merge(median.reset_index(), on=list(keys), how="left")
    else:
        out["_median"] = out.loc[out["n_payments"] > 0, "n_payments"].median()
    status = np.select(
        [out["n_payments"] == 0,
         out["n_publishing_files"] >= 2,
         out["n_payments"] < sparse_share * out["_median"]],
        ["missing", "duplicated", "sparse"], default="present")
    out["status"] = pd.Series(status, index=out.index, dtype="string")
    out["is_complete"] = out["status"].eq("present")
    out["month_label"] = out["month"].dt.strftime("%Y-%m").astype("string")
    out["financial_year"] = fy_label(fy_start_year(out["month"]))
    cols = [*keys, "month", "month_label", "financial_year", "n_payments", "amount_gbp",
            "n_source_files", "source_files", "n_publishing_files", "n_repeated_rows",
            "status", "is_complete"]
    return out[cols].sort_values([*keys, "month"], kind="stable").reset_index(drop=True)


def _repeated_rows(work: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Per key and month: rows whose (date, supplier, amount) also appear in another file."""
    ident = [*keys, "month", "payment_date", "amount_gbp"]
    if "supplier_name" in work.columns:
        ident.append("supplier_name")
    frame = work[[*ident, "source_file"]].copy()
    frame["amount_gbp"] = to_pence(frame["amount_gbp"])
    n_files = frame.groupby(ident, dropna=False, observed=True)["source_file"].transform("nunique")
    frame["_repeated"] = n_files > 1
    return (frame.groupby([*keys, "month"], dropna=False, observed=True)["_repeated"].sum()
            .rename("n_repeated_rows").reset_index())


def _joined_files(files: pd.DataFrame, keys: tuple[str, ...],
                  file_stats: pd.DataFrame) -> pd.Series:
    """'; '-joined source files per key and month (`files` sorted as `file_stats`); most
    months have one file, so only the others are joined in Python."""
    names = files["source_file"].map(str).to_numpy(dtype=object)
    counts = file_stats["n_source_files"].to_numpy()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    out = names[starts] if len(names) else np.array([], dtype=object)
    for i in np.flatnonzero(counts > 1):
        out[i] = "; ".join(names[starts[i]:starts[i] + counts[i]])
    return pd.Series(out, index=file_stats.index, dtype=object)


def _full_calendar(present: pd.DataFrame, keys: tuple[str, ...], start, end) -> pd.DataFrame:
    """Every month from each group's first (or `start`) to last (or `end`) month."""
    start_ts = pd.Timestamp(start).to_period("M").to_timestamp() if start is not None else None
    end_ts = pd.Timestamp(end).to_period("M").to_timestamp() if end is not None else None
    if keys:
        spans = present.groupby(list(keys), dropna=False, observed=True)["month"].agg(["min", "max"])
    else:
        spans = pd.DataFrame({"min": [present["month"].min()], "max": [present["month"].max()]})
    frames = []
    for key, row in spans.iterrows():  # one row per council, not per payment
        first = start_ts if start_ts is not None else row["min"]
        last = end_ts if end_ts is not None else row["max"]
        months = pd.date_range(first, last, freq="MS")
        frame = pd.DataFrame({"month": months})
        key_values = key if isinstance(key, tuple) else (key,)
        for name, value in zip(keys, key_values, strict=False):
            frame[name] = value
        frames.append(frame)
    if not frames:
        return pd.DataFrame({**{k: [] for k in keys}, "month": pd.to_datetime([])})
    full = pd.concat(frames, ignore_index=True)
    for name in keys:
        full[name] = full[name].astype(present[name].dtype)
    return full[[*keys, "month"]]


def year_completeness(calendar: pd.DataFrame,
                      by: str | Sequence[str] = ("publisher_code",)) -> pd.DataFrame:
    """Financial-year summary of a calendar: months present, missing, sparse, duplicated.

    A year is complete (`is_complete`) only when all 12 of its months are ``present``; a year
    at the edge of the data counts the months outside the span as missing.
    """
    keys = as_tuple(by)
    require_columns(calendar, [*keys, "financial_year", "status"], "year_completeness")
    counts = (pd.crosstab([calendar[k] for k in keys] + [calendar["financial_year"]],
                          calendar["status"]).reindex(columns=list(STATUSES), fill_value=0))
    counts.columns = [f"months_{s}" for s in STATUSES]
    counts = counts.reset_index()
    listed = counts[[f"months_{s}" for s in STATUSES]].sum(axis=1)
    # Months before the first / after the last published month are unknown: count as missing.
    counts["months_missing"] += 12 - listed
    counts["is_complete"] = counts["months_present"].eq(12)
    return counts.sort_values([*keys, "financial_year"], kind="stable").reset_index(drop=True)


def flag_incomplete(table: pd.DataFrame, calendar: pd.DataFrame,
                    by: str | Sequence[str] = ("publisher_code",)) -> pd.DataFrame:
    """`table` with `is_complete` from the calendar, for its `month` or `financial_year` rows.

    A table keyed by `month` takes the month's status; one keyed by `financial_year` (and no
    `month`) takes the year's; one keyed by `quarter` is complete when its three months are.
    Rows the calendar does not know are incomplete.
    """
    keys = as_tuple(by)
    out = table.drop(columns=["is_complete"], errors="ignore")
    # The calendar is per council; a table over several councils is complete only where
    # every council in it is.
    cal_keys = [*keys, *(["publisher_code"] if "publisher_code" in calendar.columns
                         and "publisher_code" not in keys else [])]
    if "month" in out.columns:
        flags = calendar[[*cal_keys, "month", "is_complete"]]
        on = [*keys, "month"]
    elif "quarter" in out.columns:
        cal = add_periods(calendar.assign(payment_date=calendar["month"]).drop(
            columns=["financial_year"]))
        flags = (cal.groupby([*cal_keys, "quarter"], dropna=False, observed=True)["is_complete"]
                 .agg(lambda s: bool(s.all()) and len(s) == 3).reset_index())
        on = [*keys, "quarter"]
    elif "financial_year" in out.columns:
        flags = year_completeness(calendar, cal_keys)[[*cal_keys, "financial_year",
                                                       "is_complete"]]
        on = [*keys, "financial_year"]
        if "fy_start" not in out.columns:
            fy_label_start(out["financial_year"])  # validates the labels
    else:
        raise InputError(
            "flag_incomplete: table needs a 'month', 'quarter' or 'financial_year' column, "
            f"got {list(table.columns)}"
        )
    flags = flags.groupby(on, dropna=False, observed=True)["is_complete"].all().reset_index()
    require_columns(out, on, "flag_incomplete")
    merged = out.merge(flags, on=on, how="left")
    merged["is_complete"] = merged["is_complete"].astype("boolean").fillna(False).astype(bool)
    merged.index = out.index
    return merged


def exclude_incomplete(table: pd.DataFrame, calendar: pd.DataFrame,
                       by: str | Sequence[str] = ("publisher_code",)) -> pd.DataFrame:
    """Only the rows of `table` whose month, quarter or financial year is complete."""
    flagged = flag_incomplete(table, calendar, by)
    return flagged[flagged["is_complete"]].drop(columns=["is_complete"])


def observed_threshold(df: pd.DataFrame, by: str | Sequence[str] = ("publisher_code",),
                       tolerance: float = 0.01) -> pd.DataFrame:
    """Per council, the reporting threshold the payments suggest, and the smallest payment.

    The inferred threshold is the highest of 500, 250 and 100 that at least 1 - `tolerance` of
    positive payments reach (0 = "all payments"); it is an inference from the data, not the
    council's stated policy (see `publisher_facts` for stated values).
    """
    keys = as_tuple(by)
    require_columns(df, [*keys, "amount_gbp"], "observed_threshold")
    group_keys = list(keys) or ["_all"]
    work = df[list(keys)].assign(_all=0, _pence=to_pence(df["amount_gbp"]))
    work = work[work["_pence"] > 0]
    for limit in STANDARD_THRESHOLDS:
        work[f"_ge{limit}"] = (work["_pence"] >= limit * 100).astype("float64")
    agg = work.groupby(group_keys, dropna=False, observed=True).agg(
        _min=("_pence", "min"), **{f"_ge{v}": (f"_ge{v}", "mean") for v in STANDARD_THRESHOLDS})
    return _thresholds(agg, keys, tolerance)


def observed_threshold_from_months(months: pd.DataFrame,
                                   by: str | Sequence[str] = ("publisher_code",),
                                   tolerance: float = 0.01) -> pd.DataFrame:
    """`observed_threshold` from `aggregates.month_totals` (positive payments per threshold)."""
    keys = as_tuple(by)
    counts = [f"n_ge_{v}" for v in STANDARD_THRESHOLDS]
    require_columns(months, [*keys, "n_positive", "min_positive_gbp", *counts],
                    "observed_threshold_from_months")
    group_keys = list(keys) or ["_all"]
    work = months[[*keys, "n_positive", *counts]].assign(
        _all=0, _min=to_pence(months["min_positive_gbp"]))
    sums = work.groupby(group_keys, dropna=False, observed=True).agg(
        _min=("_min", "min"), n_positive=("n_positive", "sum"),
        **{c: (c, "sum") for c in counts})
    sums = sums[sums["n_positive"] > 0]
    agg = pd.DataFrame({"_min": sums["_min"], **{
        f"_ge{v}": sums[f"n_ge_{v}"].astype("float64") / sums["n_positive"].astype("float64")
        for v in STANDARD_THRESHOLDS}}, index=sums.index)
    return _thresholds(agg, keys, tolerance)


def _thresholds(agg: pd.DataFrame, keys: tuple[str, ...], tolerance: float) -> pd.DataFrame:
    """The inferred threshold per group from its smallest positive payment (`_min`, pence)
    and the share of positive payments reaching each standard threshold (`_ge<limit>`)."""
    inferred = pd.Series(0, index=agg.index, dtype="int64")
    for limit in reversed(STANDARD_THRESHOLDS):  # the highest qualifying limit wins
        inferred = inferred.mask(agg[f"_ge{limit}"] >= 1 - tolerance, limit)
    out = pd.DataFrame({"observed_threshold_gbp": inferred,
                        "share_below_500_pct": (1 - agg["_ge500"]) * 100,
                        "min_positive_gbp": agg["_min"].astype("float64") / 100})
    return out.reset_index() if keys else out.reset_index(drop=True)


def publisher_facts(df: pd.DataFrame, calendar: pd.DataFrame | None = None,
                    profiles: pd.DataFrame | None = None,
                    by: str | Sequence[str] = ("publisher_code",)) -> pd.DataFrame:
    """Per council: span, months present/missing/sparse/duplicated, threshold and VAT basis.

    `profiles` (optional) gives what is known from the publisher's own statements, with columns
    `threshold_gbp` and/or `vat_basis` keyed like `by`; without it those are reported as
    unknown ('unknown' / NA) and only the observed threshold is given.
    """
    keys = as_tuple(by)
    cal = calendar if calendar is not None else completeness_calendar(df, keys)
    return _publisher_facts(cal, observed_threshold(df, keys), profiles, keys)


def publisher_facts_from_months(months: pd.DataFrame, calendar: pd.DataFrame,
                                profiles: pd.DataFrame | None = None,
                                by: str | Sequence[str] = ("publisher_code",)) -> pd.DataFrame:
    """`publisher_facts` from `aggregates.month_totals` and a calendar of the same data."""
    keys = as_tuple(by)
    return _publisher_facts(calendar, observed_threshold_from_months(months, keys), profiles,
                            keys)


def _publisher_facts(cal: pd.DataFrame, thresholds: pd.DataFrame,
                     profiles: pd.DataFrame | None, keys: tuple[str, ...]) -> pd.DataFrame:
    counts = (pd.crosstab([cal[k] for k in keys], cal["status"])
              .reindex(columns=list(STATUSES), fill_value=0))
    counts.columns = [f"months_{s}" for s in STATUSES]
    spans = cal[cal["n_payments"] > 0].groupby(list(keys), observed=True)["month_label"].agg(
        first_month="min", last_month="max")
    out = spans.join(counts, how="outer").reset_index()
    out = out.merge(thresholds, on=list(keys), how="left")
    if profiles is not None:
        require_columns(profiles, keys, "publisher_facts profiles")
        known = [c for c in ("threshold_gbp", "vat_basis", "threshold_changes")
                 if c in profiles.columns]
        out = out.merge(profiles[[*keys, *known]].drop_duplicates(list(keys)), on=list(keys),
                        how="left")
    if "threshold_gbp" not in out.columns:
        out["threshold_gbp"] = pd.NA
    if "vat_basis" not in out.columns:
        out["vat_basis"] = "unknown"
    out["vat_basis"] = out["vat_basis"].astype("string").fillna("unknown")
    return out.sort_values(list(keys), kind="stable").reset_index(drop=True)


def _in_file_order(values: pd.Series) -> str:
    """Distinct non-blank values in order of first appearance, joined ' then '."""
    text = values.astype("string").str.strip()
    text = text[text.notna() & text.ne("")]
    return " then ".join(dict.fromkeys(text)) if len(text) else ""


def ledger_profiles(ledger: pd.DataFrame, by: str = "publisher_code") -> pd.DataFrame:
    """Per council, the reporting threshold and VAT basis the ingest recorded for its files.

    `ledger` is `spendkit.datasets.read_ledger()`. Values are taken in file-name order, so a
    change shows as '500 then 250'; `threshold_changes` is True when there was one. Blank VAT
    bases are 'unknown'. The result is the `profiles` argument of `publisher_facts`.
    """
    require_columns(ledger, [by, "source_file", "threshold_gbp", "vat_basis"], "ledger_profiles")
    work = ledger[ledger[by].astype("string").str.strip().ne("").fillna(False)]
    work = work.sort_values([by, "source_file"], kind="stable")
    grouped = work.groupby(by, sort=True, observed=True)
    out = pd.DataFrame({
        "threshold_gbp": grouped["threshold_gbp"].agg(_in_file_order),
        "vat_basis": grouped["vat_basis"].agg(_in_file_order),
        "n_files": grouped.size(),
    })
    out["threshold_changes"] = out["threshold_gbp"].str.contains(" then ", regex=False)
    out["threshold_gbp"] = out["threshold_gbp"].replace("", "unknown")
    out["vat_basis"] = out["vat_basis"].replace("", "unknown")
    return out.reset_index()
