"""Supplier views of IT spend: top suppliers, market concentration, recurring vs one-off, lumps.

Rules (documented here so an analyst can quote them):

* **Supplier** is `supplier_canonical` (falling back to `supplier_name`); with
  ``use_vendor=True`` it is the `underlying_vendor` behind a reseller where one is known
  (Microsoft rather than Phoenix Software), which is the right view of a software market.
  Redacted payments (`is_redacted`) have no supplier and are left out of supplier tables; the
  coverage functions report how much that is.
* **Concentration** uses each supplier's net spend in the group; suppliers whose net is zero or a
  credit are dropped. HHI is the sum of squared percentage shares (0-10,000; a 50/50 market is
  5,000). `is_highly_concentrated` uses HHI > 2,000, the level the CMA's merger assessment
  guidelines call highly concentrated. `dominant_vendors` is 1 or 2 when that many suppliers
  hold at least `dominant_share` (default 80%) of the market, the "effectively two suppliers"
  pattern reported for social-care case management.
* **Payment kinds** within a council, supplier and financial year:
  ``lump`` - a single positive payment of at least `lump_share` (default 50%) of the supplier's
  positive spend that year whose description or expense type says annual / renewal /
  subscription / yearly / per annum (in `description`, `purpose` or `expense_type`); it pays for `cover_months` months (default 12, or "N
  months" / "N years" found in the text, at most 60). ``recurring`` - otherwise, when the
  supplier was paid in at least `min_months` (default 4, i.e. quarterly billing) distinct months
  of the year. ``one_off`` - the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from spendkit.errors import InputError
from spendkit.models.trends.base import add_periods, as_tuple, text_blank
from spendkit.schema import require_columns
from spendkit.units.money import from_pence, to_pence

#: Words that mark a payment as an annual renewal or subscription.
LUMP_PATTERN = r"(?i)\b(?:annual|annually|renewal|renew|subscription|yearly|per annum)\b"

#: HHI above which a market is highly concentrated (CMA merger assessment guidelines).
HHI_HIGH = 2000.0


def supplier_of(df: pd.DataFrame, use_vendor: bool = False) -> pd.Series:
    """The supplier each payment counts towards (see module docstring), as strings."""
    cols = (["underlying_vendor"] if use_vendor else []) + ["supplier_canonical", "supplier_name"]
    present = [c for c in cols if c in df.columns]
    if not present:
        raise InputError(
            f"supplier: expected a 'supplier_canonical' or 'supplier_name' column, got "
            f"{list(df.columns)}"
        )
    out = pd.Series(pd.NA, index=df.index, dtype="string")
    for col in present:
        values = df[col].astype("string").str.strip()
        out = out.mask(out.isna() & ~text_blank(values), values)
    return out


#: The IT market a supplier role stands for, where it is narrower than the IT category.
MARKET_ROLES = {"social_care_system": "social_care_case_management"}


def it_market(df: pd.DataFrame, roles: dict[str, str] | None = None) -> pd.Series:
    """The market each IT payment belongs to: `it_category`, narrowed by `supplier_role`.

    Social-care case-management vendors (role ``social_care_system``) form their own market
    inside ``line_of_business``, the one reported as effectively two suppliers nationally.
    Non-IT rows get NA. `roles` maps supplier roles to market names (default `MARKET_ROLES`).
    """
    require_columns(df, ["is_it", "it_category"], "it_market")
    mapping = MARKET_ROLES if roles is None else roles
    market = df["it_category"].astype("string").str.strip()
    market = market.mask(text_blank(market), "(uncategorised)")
    if "supplier_role" in df.columns:
        by_role = df["supplier_role"].astype("string").map(mapping).astype("string")
        market = market.mask(by_role.notna(), by_role)
    is_it = df["is_it"].astype("boolean").fillna(False).astype(bool)
    return market.where(is_it).astype("string").rename("it_market")


def _it_rows(df: pd.DataFrame, it_only: bool) -> pd.DataFrame:
    if not it_only:
        return df
    require_columns(df, ["is_it"], "it_only=True")
    return df[df["is_it"].astype("boolean").fillna(False).astype(bool)]


def _named(df: pd.DataFrame, use_vendor: bool) -> pd.DataFrame:
    """Rows with a known supplier, with a `supplier` column and exact `_pence`."""
    out = df.assign(supplier=supplier_of(df, use_vendor), _pence=to_pence(df["amount_gbp"]))
    if "is_redacted" in out.columns:
        out = out[~out["is_redacted"].astype("boolean").fillna(False).astype(bool)]
    return out[out["supplier"].notna()]


def supplier_totals(df: pd.DataFrame, by: str | Sequence[str] = ("it_category",),
                    it_only: bool = True, use_vendor: bool = False) -> pd.DataFrame:
    """Exact spend per supplier within each group, with payment and council counts."""
    keys = as_tuple(by)
    require_columns(df, [*keys, "amount_gbp"], "supplier_totals")
    named = _named(_it_rows(df, it_only), use_vendor)
    if "publisher_code" not in named.columns:
        named = named.assign(publisher_code=pd.NA)
    grouped = named.groupby([*keys, "supplier"], dropna=False, observed=True)
    out = grouped.agg(_pence=("_pence", "sum"), n_payments=("_pence", "size"),
                      n_councils=("publisher_code", "nunique")).reset_index()
    out["amount_gbp"] = from_pence(out.pop("_pence"), out.index)
    return out


def top_suppliers(df: pd.DataFrame, n: int = 10, by: str | Sequence[str] = ("it_category",),
                  it_only: bool = True, use_vendor: bool = False) -> pd.DataFrame:
    """The `n` largest suppliers in each group with their share of the group's named spend.

    Columns: the `by` keys, `rank` (1 = largest; ties broken by name), `supplier`, `amount_gbp`,
    `share_pct` (of the group's spend with a known supplier), `n_payments`, `n_councils`.
    """
    if n < 1:
        raise InputError(f"top_suppliers n: expected a positive count, got {n!r}")
    keys = as_tuple(by)
    return top_suppliers_from_totals(supplier_totals(df, keys, it_only, use_vendor), n, keys)


def top_suppliers_from_totals(totals: pd.DataFrame, n: int = 10,
                              by: str | Sequence[str] = ("it_category",)) -> pd.DataFrame:
    """`top_suppliers` from a `supplier_totals` table (or `aggregates.supplier_totals`)."""
    if n < 1:
        raise InputError(f"top_suppliers n: expected a positive count, got {n!r}")
    keys = as_tuple(by)
    require_columns(totals, [*keys, "supplier", "amount_gbp", "n_payments", "n_councils"],
                    "top_suppliers_from_totals")
    totals = totals.copy()
    pence = totals["amount_gbp"].astype("float64")
    group_total = pence.groupby([totals[k] for k in keys], dropna=False).transform("sum") \
        if keys else pd.Series(pence.sum(), index=totals.index)
    totals["share_pct"] = pence / group_total * 100
    totals["_neg"] = -pence
    totals = totals.sort_values([*keys, "_neg", "supplier"], kind="stable")
    totals["rank"] = (totals.groupby(list(keys), dropna=False).cumcount() + 1 if keys
                      else np.arange(1, len(totals) + 1))
    out = totals[totals["rank"] <= n]
    cols = [*keys, "rank", "supplier", "amount_gbp", "share_pct", "n_payments", "n_councils"]
    return out[cols].reset_index(drop=True)


def concentration(df: pd.DataFrame, by: str | Sequence[str] = ("it_category",),
                  it_only: bool = True, use_vendor: bool = False,
                  dominant_share: float = 80.0, hhi_high: float = HHI_HIGH) -> pd.DataFrame:
    """Market concentration per group: HHI (0-10,000), top-1/top-5 shares, dominant vendors.

    `by=()` gives one row for all the (IT) spend. Columns: the `by` keys, `n_suppliers`,
    `amount_gbp` (net spend of suppliers with positive net), `hhi`, `top1_supplier`,
    `top1_share_pct`, `top2_supplier`, `top2_share_pct`, `top5_share_pct`,
    `is_highly_concentrated`, `dominant_vendors` (1, 2 or NA) and `market_note`.
    """
    keys = as_tuple(by)
    return concentration_from_totals(supplier_totals(df, keys, it_only, use_vendor), keys,
                                     dominant_share, hhi_high)


def concentration_from_totals(totals: pd.DataFrame, by: str | Sequence[str] = ("it_category",),
                              dominant_share: float = 80.0,
                              hhi_high: float = HHI_HIGH) -> pd.DataFrame:
    """`concentration` from a `supplier_totals` table (or `aggregates.supplier_totals`)."""
    if not 0 < dominant_share <= 100:
        raise InputError(
            f"dominant_share: expected a percentage in (0, 100], got {dominant_share!r}")
    keys = as_tuple(by)
    require_columns(totals, [*keys, "supplier", "amount_gbp"], "concentration_from_totals")
    totals = totals.copy()
    totals["_p"] = totals["amount_gbp"].astype("float64")
    totals = totals[totals["_p"] > 0].copy()
    gkeys = list(keys) or ["_all"]
    totals["_all"] = 0
    totals = totals.sort_values([*gkeys, "_p", "supplier"], ascending=[True] * len(gkeys)
                                + [False, True], kind="stable")
    totals["_share"] = totals["_p"] / totals.groupby(gkeys, dropna=False)["_p"].transform("sum") \
        * 100
    totals["_rank"] = totals.groupby(gkeys, dropna=False).cumcount() + 1
    totals["_sq"] = totals["_share"] ** 2
    grouped = totals.groupby(gkeys, dropna=False, sort=True)
    out = grouped.agg(n_suppliers=("supplier", "size"), hhi=("_sq", "sum"))
    out["amount_gbp"] = from_pence(
        to_pence(totals["amount_gbp"]).groupby([totals[k] for k in gkeys], dropna=False).sum()
    ).values
    first = totals[totals["_rank"] == 1].set_index(gkeys)
    second = totals[totals["_rank"] == 2].set_index(gkeys)
    out["top1_supplier"] = first["supplier"].reindex(out.index)
    out["top1_share_pct"] = first["_share"].reindex(out.index)
    out["top2_supplier"] = second["supplier"].reindex(out.index)
    out["top2_share_pct"] = second["_share"].reindex(out.index).fillna(0.0)
    out["top5_share_pct"] = totals[totals["_rank"] <= 5].groupby(gkeys, dropna=False)[
        "_share"].sum().reindex(out.index)
    out["hhi"] = out["hhi"].round(6)
    out["is_highly_concentrated"] = out["hhi"] > hhi_high
    top2 = out["top1_share_pct"] + out["top2_share_pct"]
    dominant = pd.Series(pd.NA, index=out.index, dtype="Int64")
    dominant = dominant.mask(top2 >= dominant_share, 2).mask(
        out["top1_share_pct"] >= dominant_share, 1)
    out["dominant_vendors"] = dominant
    note = pd.Series("competitive", index=out.index, dtype="string")
    note = note.mask(out["is_highly_concentrated"], "highly concentrated")
    note = note.mask(dominant.eq(2).fillna(False),
                     "two dominant suppliers: " + out["top1_supplier"].astype("string")
                     + " and " + out["top2_supplier"].astype("string"))
    note = note.mask(dominant.eq(1).fillna(False),
                     "one dominant supplier: " + out["top1_supplier"].astype("string"))
    out["market_note"] = note
    out = out.reset_index()
    if not keys:
        out = out.drop(columns=["_all"])
    cols = [*keys, "n_suppliers", "amount_gbp", "hhi", "top1_supplier", "top1_share_pct",
            "top2_supplier", "top2_share_pct", "top5_share_pct", "is_highly_concentrated",
            "dominant_vendors", "market_note"]
    return out[cols]


def hhi(shares: Sequence[float] | pd.Series) -> float:
    """Herfindahl-Hirschman index of market shares given as fractions or amounts (0-10,000)."""
    values = pd.Series(shares, dtype="float64")
    if (values < 0).any() or values.sum() <= 0:
        raise InputError(f"hhi shares: expected non-negative values with a positive sum, "
                               f"got {list(values)}")
    pct = values / values.sum() * 100
    return float((pct**2).sum())


def _description(df: pd.DataFrame) -> pd.Series:
    """The text a payment describes itself with (description and expense type)."""
    # `purpose` is where some publishers (the LGTC 2015 'Purpose' column) put the narrative.
    parts = [df[c].astype("string").fillna("") for c in ("description", "purpose",
                                                          "expense_type") if c in df.columns]
    if not parts:
        return pd.Series("", index=df.index, dtype="string")
    text = parts[0]
    for part in parts[1:]:
        text = text + " " + part
    return text


def cover_months(text: pd.Series, default: int = 12, maximum: int = 60) -> pd.Series:
    """Months a payment pays for, from "N months" / "N years" in its text, else `default`."""
    text = text.astype("string").fillna("")
    months = pd.to_numeric(text.str.extract(r"(?i)\b(\d{1,2})[\s-]*(?:months?|mths?)\b")[0],
                           errors="coerce")
    years = pd.to_numeric(text.str.extract(r"(?i)\b(\d)[\s-]*(?:years?|yrs?)\b")[0],
                          errors="coerce") * 12
    out = months.fillna(years).fillna(default).clip(lower=1, upper=maximum)
    return out.astype("int64")


def classify_payments(df: pd.DataFrame, by: str | Sequence[str] = ("publisher_code",),
                      min_months: int = 4, lump_share: float = 50.0,
                      lump_pattern: str = LUMP_PATTERN, use_vendor: bool = False) -> pd.DataFrame:
    """Copy of the named-supplier rows with `supplier`, `payment_kind` and `cover_months`.

    `payment_kind` is ``lump``, ``recurring`` or ``one_off`` per the module docstring, judged
    within each `by` group (a council), supplier and financial year.
    """
    if min_months < 1 or min_months > 12:
        raise InputError(f"min_months: expected 1-12, got {min_months!r}")
    keys = as_tuple(by)
    require_columns(df, [*keys, "payment_date", "amount_gbp"], "classify_payments")
    work = add_periods(_named(df, use_vendor))
    group = [*keys, "supplier", "fy_start"]
    positive = work["_pence"].where(work["_pence"] > 0, 0)
    year_positive = positive.groupby([work[c] for c in group], dropna=False).transform("sum")
    paid_month = work["month"].where(work["_pence"] > 0)
    months_paid = paid_month.groupby([work[c] for c in group], dropna=False).transform("nunique")
    text = _description(work)
    is_lump = ((work["_pence"] > 0) & (positive >= lump_share / 100 * year_positive)
               & text.str.contains(lump_pattern, regex=True).fillna(False))
    kind = np.select([is_lump, months_paid >= min_months], ["lump", "recurring"], "one_off")
    work["payment_kind"] = pd.Series(kind, index=work.index, dtype="string")
    work["months_paid"] = months_paid.astype("int64")
    work["cover_months"] = cover_months(text).where(is_lump, 1).astype("int64")
    return work.drop(columns=["_pence"])


def recurring_vs_oneoff(df: pd.DataFrame, by: str | Sequence[str] = ("publisher_code",),
                        min_months: int = 4, lump_share: float = 50.0,
                        use_vendor: bool = False) -> pd.DataFrame:
    """Per council, supplier and financial year: recurring, lump and one-off spend (exact).

    Columns: the `by` keys, `supplier`, `financial_year`, `months_paid`, `recurring_gbp`,
    `lump_gbp`, `one_off_gbp`, `amount_gbp` (their sum) and `supplier_kind` ('recurring' when
    recurring plus lump spend is at least half the total, else 'one_off').
    """
    keys = as_tuple(by)
    work = classify_payments(df, keys, min_months, lump_share, use_vendor=use_vendor)
    work["_pence"] = to_pence(work["amount_gbp"])
    group = [*keys, "supplier", "fy_start", "financial_year"]
    table = (work.groupby([*group, "payment_kind"], dropna=False, observed=True)["_pence"].sum()
             .unstack("payment_kind", fill_value=0)
             .reindex(columns=["recurring", "lump", "one_off"], fill_value=0))
    months = work.groupby(group, dropna=False, observed=True)["months_paid"].max()
    out = table.join(months).reset_index()
    out.columns.name = None
    total = out["recurring"] + out["lump"] + out["one_off"]
    regular = out["recurring"] + out["lump"]
    out["supplier_kind"] = pd.Series(np.where(2 * regular >= total, "recurring", "one_off"),
                                     dtype="string")
    for kind in ("recurring", "lump", "one_off"):
        out[f"{kind}_gbp"] = from_pence(out.pop(kind), out.index)
    out["amount_gbp"] = from_pence(total, out.index)
    out = out.sort_values([*keys, "fy_start", "supplier"], kind="stable")
    cols = [*keys, "supplier", "financial_year", "months_paid", "recurring_gbp", "lump_gbp",
            "one_off_gbp", "amount_gbp", "supplier_kind"]
    return out[cols].reset_index(drop=True)


def spread_lumps(df: pd.DataFrame, by: str | Sequence[str] = ("publisher_code",),
                 min_months: int = 4, lump_share: float = 50.0,
                 use_vendor: bool = False) -> pd.DataFrame:
    """Monthly run rate: each lump spread evenly over the months it covers, the rest as paid.

    Columns: the `by` keys, `month`, `paid_gbp` (as paid) and `run_rate_gbp` (lumps spread from
    the payment month on). A lump is split into whole pence with the odd pennies in its first
    months, so both columns total the named-supplier input to the penny; the run rate may run
    past the last month of data.
    """
    keys = as_tuple(by)
    work = classify_payments(df, keys, min_months, lump_share, use_vendor=use_vendor)
    pence = to_pence(work["amount_gbp"]).fillna(0).astype("int64").to_numpy()
    span = work["cover_months"].to_numpy()
    rows = np.repeat(np.arange(len(work)), span)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(span) - span, span)
    base, remainder = np.divmod(pence[rows], span[rows])  # floor division keeps the sum exact
    spread = base + (offset < remainder)
    months = work["month"].to_numpy()[rows].astype("datetime64[M]") + offset.astype(
        "timedelta64[M]")
    run = pd.DataFrame({k: work[k].to_numpy()[rows] for k in keys})
    run["month"] = months.astype("datetime64[ns]")
    run["_run"] = spread
    paid = pd.DataFrame({k: work[k].to_numpy() for k in keys})
    paid["month"] = work["month"].to_numpy()
    paid["_paid"] = pence
    gkeys = [*keys, "month"]
    out = (run.groupby(gkeys, dropna=False)["_run"].sum().to_frame()
           .join(paid.groupby(gkeys, dropna=False)["_paid"].sum(), how="outer")
           .fillna(0).reset_index())
    out["paid_gbp"] = from_pence(out.pop("_paid").astype("int64"), out.index)
    out["run_rate_gbp"] = from_pence(out.pop("_run").astype("int64"), out.index)
    return out.sort_values(gkeys, kind="stable").reset_index(drop=True)


def payment_kind_totals(table: pd.DataFrame,
                        by: str | Sequence[str] = ("financial_year",)) -> pd.DataFrame:
    """Roll a `recurring_vs_oneoff` table up to `by`: exact spend by kind and the regular share.

    Columns: the `by` keys, `recurring_gbp`, `lump_gbp`, `one_off_gbp`, `amount_gbp` (exact,
    in `AMOUNT_DTYPE`) and `recurring_or_lump_pct` (float, of `amount_gbp`).
    """
    keys = list(as_tuple(by))
    parts = ["recurring_gbp", "lump_gbp", "one_off_gbp", "amount_gbp"]
    require_columns(table, [*keys, *parts], "payment_kind_totals")
    pence = pd.DataFrame({c: to_pence(table[c]) for c in parts}, index=table.index)
    pence[keys] = table[keys]
    out = (pence.groupby(keys, sort=True, dropna=False, observed=True)[parts].sum().reset_index()
           if keys else pence[parts].sum().to_frame().T)
    regular = (out["recurring_gbp"] + out["lump_gbp"]).astype("float64")
    total = out["amount_gbp"].astype("float64")
    for col in parts:
        out[col] = from_pence(out[col].astype("Int64"), out.index)
    out["recurring_or_lump_pct"] = regular / total.where(total != 0) * 100
    return out
