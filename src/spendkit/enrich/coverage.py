"""Coverage of the IT classification per publisher and period, so headlines state coverage."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spendkit.enrich.classify import KINDS
from spendkit.errors import InputError
from spendkit.schema import require_columns
from spendkit.units import periods
from spendkit.units.money import from_pence, to_pence

#: The kinds `views.overview.basis_chart` stacks (it reads this name). `coverage_report` has
#: an `it_share_<kind>` column for every kind in `classify.KINDS` (these four, other_columns
#: and corpus); the first component of it_basis is the deciding kind.
BASES = ("expense_type", "supplier", "description", "service_area")


def _amount(df: pd.DataFrame) -> pd.Series:
    """Amounts as whole pence (0 where missing or unreadable), for exact sums."""
    amounts = df["amount_gbp"]
    if not isinstance(amounts.dtype, pd.ArrowDtype):
        amounts = pd.to_numeric(amounts.astype("object"), errors="coerce").round(2)
    return to_pence(amounts).fillna(0).astype("int64")


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

    The work is two steps: `coverage_sums` (exact sums per group, the same table
    `models.trends.aggregates.coverage_report_totals` computes in DuckDB for data too big for
    pandas) and `coverage_report_from_totals` (shares and text from those sums).
    """
    return coverage_report_from_totals(*coverage_sums(enriched, by, top=top), by=by)


def coverage_sums(enriched: pd.DataFrame,
                  by: Sequence[str] = ("publisher_name", "financial_year"), *,
                  top: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The exact sums behind `coverage_report`: (totals, suppliers), as
    `models.trends.aggregates.coverage_report_totals` returns them from DuckDB."""
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
    confidence = (enriched["it_confidence"].astype(object).fillna("")
                  if "it_confidence" in enriched.columns else pd.Series("", index=df.index))
    classified = is_it | basis.ne("")
    unclassified = ~classified & ~redacted
    money = {"total_gbp": amt, "it_gbp": amt.where(is_it, 0)}
    for b in KINDS:
        money[f"it_{b}_gbp"] = amt.where(is_it & primary.eq(b), 0)
    money["it_corroborated_gbp"] = amt.where(is_it & basis.str.contains("+", regex=False), 0)
    money["it_low_gbp"] = amt.where(is_it & confidence.eq("low"), 0)
    money["unclassifiable_gbp"] = amt.where(redacted, 0)
    money["classified_gbp"] = amt.where(classified, 0)
    money["no_evidence_gbp"] = amt.where(unclassified, 0)
    for name, values in money.items():
        df[name] = values
    df["rows"] = 1
    df["it_rows"] = is_it.astype("int64")
    totals = df.groupby(keys, sort=True, dropna=False)[[*money, "rows", "it_rows"]].sum() \
        .reset_index()
    for name in money:
        totals[name] = from_pence(totals[name], totals.index)
    u = df.loc[unclassified, keys].assign(supplier=supplier[unclassified], amt=amt[unclassified])
    tops = (u.groupby([*keys, "supplier"], sort=True)["amt"].sum().reset_index()
            .sort_values([*keys, "amt", "supplier"], ascending=[True] * len(keys) + [False, True],
                         kind="stable"))
    tops = tops.groupby(keys, sort=True).head(top).reset_index(drop=True)
    tops["rank"] = tops.groupby(keys, sort=False).cumcount() + 1
    suppliers = tops[[*keys, "supplier"]].assign(amount_gbp=from_pence(tops["amt"], tops.index),
                                                 rank=tops["rank"])
    return totals, suppliers


def coverage_report_from_totals(totals: pd.DataFrame, suppliers: pd.DataFrame,
                                by: Sequence[str] = ("publisher_name", "financial_year")
                                ) -> pd.DataFrame:
    """`coverage_report` from its sums (`coverage_sums`, or
    `models.trends.aggregates.coverage_report_totals` over the Parquet)."""
    keys = list(by)
    sums = totals.set_index(keys)
    money = {c: sums[c].astype("float64") for c in sums.columns if c.endswith("_gbp")}
    it_total = money["it_gbp"].replace(0.0, np.nan)
    total = money["total_gbp"].replace(0.0, np.nan)
    rep = pd.DataFrame(index=sums.index)
    rep["total_gbp"] = money["total_gbp"].round(2)
    rep["it_gbp"] = money["it_gbp"].round(2)
    rep["it_share"] = (money["it_gbp"] / total).fillna(0.0)
    for b in KINDS:
        rep[f"it_share_{b}"] = (money[f"it_{b}_gbp"] / it_total).fillna(0.0)
    rep["corroborated_share"] = (money["it_corroborated_gbp"] / it_total).fillna(0.0)
    rep["low_confidence_share"] = (money["it_low_gbp"] / it_total).fillna(0.0)
    rep["unclassifiable_share"] = (money["unclassifiable_gbp"] / total).fillna(0.0)
    rep["classified_share"] = (money["classified_gbp"] / total).fillna(0.0)
    rep["no_evidence_share"] = (money["no_evidence_gbp"] / total).fillna(0.0)
    rep["rows"] = sums["rows"].astype("int64")
    rep["it_rows"] = sums["it_rows"].astype("int64")
    text = suppliers.assign(t=suppliers["supplier"].astype(object) + " (£" + suppliers[
        "amount_gbp"].astype("float64").map("{:,.2f}".format) + ")")
    joined = text.groupby(keys, sort=True)["t"].agg("; ".join) if len(text) else \
        pd.Series(dtype=object)
    rep["top_unclassified"] = joined.reindex(rep.index).fillna("").astype(object)
    return rep.reset_index()
