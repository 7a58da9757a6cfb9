"""`enrich`: the whole enrichment on a transactions table, on distinct values only."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from spendkit.enrich.classify import classify_it
from spendkit.enrich.suppliers import cluster_suppliers, load_supplier_reference
from spendkit.errors import SpendkitError

TEXT_INPUTS = ("supplier_name", "expense_type", "service_area", "description")
ENRICH_COLUMNS = (
    "supplier_key", "supplier_canonical", "supplier_role", "is_it", "it_category", "it_basis",
    "it_confidence", "underlying_vendor",
)
#: A reseller's software-licence payment at least this big, naming no product, is taken to be
#: Microsoft licensing (low confidence): Microsoft is the licence councils buy in six figures
#: through an LSP (facts.md s3), while other vendors' renewals name the product.
RESELLER_MICROSOFT_MIN_GBP = Decimal("10000")


class EnrichInputError(SpendkitError):
    """The table given to `enrich` lacks a column it needs."""


def _text(col: pd.Series) -> pd.Series:
    return col.astype(object).where(col.notna(), "")


def enrich(transactions: pd.DataFrame, *, detail: bool = False) -> pd.DataFrame:
    """Add supplier keys, canonical names, roles and the IT classification to a copy.

    Needs `supplier_name`; `expense_type`, `service_area`, `description` and `amount_gbp` are
    used when present. With `detail=True` also adds vendor_basis (why underlying_vendor),
    it_rule (the deciding rule) and cluster_evidence.
    """
    if "supplier_name" not in transactions.columns:
        raise EnrichInputError(
            f"enrich: column 'supplier_name' missing; got {list(transactions.columns)}"
        )
    out = transactions.copy()
    text = {c: _text(out[c]) if c in out.columns else pd.Series("", index=out.index,
                                                                   dtype=object)
            for c in TEXT_INPUTS}

    # Suppliers: one pass over distinct names.
    clusters = cluster_suppliers(text["supplier_name"]).set_index("supplier_name")
    name_codes, name_uniques = pd.factorize(text["supplier_name"], use_na_sentinel=False)
    per_name = clusters.reindex(pd.Index(name_uniques, dtype=object))
    key = per_name["supplier_key"].to_numpy()[name_codes]
    canonical = per_name["supplier_canonical"].to_numpy()[name_codes]

    # Distinct (key, expense, service, description) combinations, classified once each.
    codes = [pd.factorize(pd.Series(key, dtype=object), use_na_sentinel=False)[0]]
    codes += [pd.factorize(text[c], use_na_sentinel=False)[0] for c in TEXT_INPUTS[1:]]
    # Fold the four code columns into one combination code, pairwise so it never overflows.
    inverse = np.zeros(len(out), dtype=np.int64)
    for c in codes:
        folded = inverse * (int(c.max()) + 1 if len(c) else 1) + c
        inverse = pd.factorize(folded, sort=True)[0].astype(np.int64)
    n_combos = int(inverse.max()) + 1 if len(inverse) else 0
    first = np.zeros(n_combos, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]  # first row of each combination
    combos = pd.DataFrame({
        "supplier_key": key[first],
        **{c: text[c].to_numpy()[first] for c in TEXT_INPUTS[1:]},
    })
    cls = classify_it(combos)

    def back(col: str) -> np.ndarray:
        return cls[col].to_numpy()[inverse]

    out["supplier_key"] = pd.Series(key, index=out.index, dtype=object)
    out["supplier_canonical"] = pd.Series(canonical, index=out.index, dtype=object)
    out["supplier_role"] = pd.Series(back("supplier_role"), index=out.index, dtype=object)
    out["is_it"] = pd.Series(back("is_it").astype(bool), index=out.index)
    for col in ("it_category", "it_basis", "it_confidence", "underlying_vendor"):
        out[col] = pd.Series(back(col), index=out.index, dtype=object)
    vendor_basis = pd.Series(back("vendor_basis"), index=out.index, dtype=object)

    # Reseller look-through by role and size: a large licence payment to a Microsoft LSP
    # that names no product.
    if "amount_gbp" in out.columns and len(out):
        ref = load_supplier_reference()
        lsp_ms = set(ref.loc[(ref["role"] == "lsp_reseller")
                             & ref["vendors_sold"].str.contains("Microsoft"), "canonical_name"])
        amount = pd.to_numeric(out["amount_gbp"].astype("float64"), errors="coerce")
        big = amount.abs() >= float(RESELLER_MICROSOFT_MIN_GBP)
        mask = (out["supplier_canonical"].isin(lsp_ms) & out["is_it"]
                & out["it_category"].eq("software_licences")
                & out["underlying_vendor"].eq("") & big)
        out.loc[mask, "underlying_vendor"] = "Microsoft"
        vendor_basis[mask] = "reseller_size"
    if detail:
        out["vendor_basis"] = vendor_basis
        out["it_rule"] = pd.Series(back("it_rule"), index=out.index, dtype=object)
        ev = clusters["cluster_evidence"].reindex(pd.Index(name_uniques, dtype=object))
        out["cluster_evidence"] = pd.Series(ev.to_numpy()[name_codes], index=out.index,
                                            dtype=object)
    for col in ("supplier_key", "supplier_canonical", "supplier_role", "it_category",
                "it_basis", "it_confidence", "underlying_vendor"):
        out[col] = out[col].astype("str")  # pandas' default string dtype, like the loader's
    return out
