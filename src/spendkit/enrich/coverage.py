"""Coverage of the IT classification per publisher and period, so headlines state coverage."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spendkit.enrich.classify import KINDS
from spendkit.errors import InputError
from spendkit.schema import require_columns
from spendkit.units import periods

#: The kinds `views.overview.basis_chart` stacks (it reads this name). `coverage_report` has
#: an `it_share_<kind>` column for every kind in `classify.KINDS` (these four, other_columns
#: and corpus); the first component of it_basis is the deciding kind.
BASES = ("expense_type", "supplier", "description", "service_area")


def _amount(df: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(df["amount_gbp"].astype("float64"), errors="coerce").fillna(0.0)


def coverage_report(
    enriched: pd.DataFrame,
    by: Sequence[str] = ("publisher_name", "financial_year"),
    *,
    top: int = 5,
) -> pd.DataFrame:
    """Per group: total and IT spend, what the IT spend rests on, classified shares, top
    unclassified.

    `financial_year` in `by` is derived from `payment_date` when the column is absent. Shares
    are of spend (net of credits): `it_share_<basis>` is the share of IT spend decided first by
    that kind of evidence (expense_type, supplier, description, service_area, other_columns,
    corpus; they sum to 1); `corroborated_share` the share of IT spend on which two or more
    kinds agree, `low_confidence_share` the share decided with low confidence (one weak kind:
    a cost centre, another column, a supplier's name or corpus evidence), so a reader sees how
    firm the IT total is; `classified_share` is the share of all spend decided IT or not IT on
    evidence (IT, or a non-empty `it_basis` such as "expense_type (not IT)");
    `no_evidence_share` the share with no evidence either way and a named supplier (counted as
    not IT: where IT could hide); `unclassifiable_share` the share with a redacted or blank
    supplier (some of it may still be classified by its expense type), so classified,
    no-evidence and unclassified redacted spend sum to the total. `top_unclassified` lists the
    largest suppliers of the no-evidence spend as 'name (£amount)' joined by '; '.
    Money columns are float pounds rounded to pence (report figures, not ledger values).
    """
    require_columns(enriched, ("amount_gbp", "is_it", "it_basis", "supplier_canonical"),
                    "coverage_report (run spendkit.enrich first)")
    df = pd.DataFrame(index=enriched.index)
    keys = list(by)
    for k in keys:
        if k in enriched.columns:
            df[k] = enriched[k].astype(object).where(enriched[k].notna(), "")
        elif k == "financial_year" and "payment_date" in enriched.columns:
            dates = pd.to_datetime(enriched["payment_date"].astype("object"), errors="coerce")
            df[k] = periods.financial_year(dates).fillna("").astype(object)
        else:
            raise InputError(f"coverage_report: group column {k!r} not in the table")
    amt = _amount(enriched)
    is_it = enriched["is_it"].astype(bool)
    basis = enriched["it_basis"].astype(object).fillna("")
    primary = basis.str.split("+").str[0]
    supplier = enriched["supplier_canonical"].astype(object).fillna("")
    redacted = supplier.str.strip().eq("")
    if "is_redacted" in enriched.columns:
        redacted |= enriched["is_redacted"].fillna(False).astype(bool)
    df["total_gbp"] = amt
    df["it_gbp"] = amt.where(is_it, 0.0)
    for b in KINDS:
        df[f"_it_{b}"] = amt.where(is_it & primary.eq(b), 0.0)
    df["_it_corroborated"] = amt.where(is_it & basis.str.contains("+", regex=False), 0.0)
    confidence = (enriched["it_confidence"].astype(object).fillna("")
                  if "it_confidence" in enriched.columns else pd.Series("", index=df.index))
    df["_it_low"] = amt.where(is_it & confidence.eq("low"), 0.0)
    df["unclassifiable_gbp"] = amt.where(redacted, 0.0)
    classified = is_it | basis.ne("")
    unclassified = ~classified & ~redacted
    df["classified_gbp"] = amt.where(classified, 0.0)
    df["no_evidence_gbp"] = amt.where(unclassified, 0.0)
    df["rows"] = 1
    df["it_rows"] = is_it.astype(int)
    g = df.groupby(keys, sort=True, dropna=False)
    sums = g[["total_gbp", "it_gbp", "unclassifiable_gbp", "classified_gbp",
              "no_evidence_gbp", "rows", "it_rows", "_it_corroborated", "_it_low"]
             + [f"_it_{b}" for b in KINDS]].sum()
    it_total = sums["it_gbp"].replace(0.0, np.nan)
    total = sums["total_gbp"].replace(0.0, np.nan)
    rep = pd.DataFrame(index=sums.index)
    rep["total_gbp"] = sums["total_gbp"].round(2)
    rep["it_gbp"] = sums["it_gbp"].round(2)
    rep["it_share"] = (sums["it_gbp"] / total).fillna(0.0)
    for b in KINDS:
        rep[f"it_share_{b}"] = (sums[f"_it_{b}"] / it_total).fillna(0.0)
    rep["corroborated_share"] = (sums["_it_corroborated"] / it_total).fillna(0.0)
    rep["low_confidence_share"] = (sums["_it_low"] / it_total).fillna(0.0)
    rep["unclassifiable_share"] = (sums["unclassifiable_gbp"] / total).fillna(0.0)
    rep["classified_share"] = (sums["classified_gbp"] / total).fillna(0.0)
    rep["no_evidence_share"] = (sums["no_evidence_gbp"] / total).fillna(0.0)
    rep["rows"] = sums["rows"].astype("int64")
    rep["it_rows"] = sums["it_rows"].astype("int64")

    u = df.loc[unclassified, keys].assign(supplier=supplier[unclassified], amt=amt[unclassified])
    tops = (
        u.groupby([*keys, "supplier"], sort=True)["amt"].sum().reset_index()
        .sort_values([*keys, "amt", "supplier"], ascending=[True] * len(keys) + [False, True],
                     kind="stable")
    )
    tops = tops.groupby(keys, sort=True).head(top)
    text = tops.assign(t=tops["supplier"] + " (£" + tops["amt"].map("{:,.2f}".format) + ")")
    joined = text.groupby(keys, sort=True)["t"].agg("; ".join)
    rep["top_unclassified"] = joined.reindex(rep.index).fillna("").astype(object)
    return rep.reset_index()
