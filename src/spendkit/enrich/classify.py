"""IT classification: expense-type label map, ordered rules, supplier reference, look-through.

Rules are data (`package_data/it_rules.csv`, `expense_labels.csv`, `suppliers.csv`). Each
field's distinct values are matched once; the evidence is then combined per distinct
(supplier_key, expense_type, service_area, description) combination, all with numpy
vectorised choices.

How the evidence combines (first that applies):

1. supplier is a known not-IT trap (Phoenix Futures, Northgate Vehicle Hire…) -> not IT;
2. expense label says IT -> IT, "expense_type" (+supplier/+description when they agree), high;
3. the label map or an expense rule says explicitly not IT (vehicle licences, 'NOT ICT'…), or
   the description names non-IT work (CCTV, copier charges, postage…) -> not IT;
4. supplier reference says IT -> IT, "supplier", medium (high with an agreeing description
   or ICT cost centre). A generic label ('Rents', 'Professional fees') does not block it: the
   mislabelled reseller is the case this exists for;
5. description rule says IT -> IT, "description", medium (low when the label says not IT);
6. ICT cost centre, and the label does not say not-IT -> IT, "service_area", low (medium with a
   partly-IT supplier such as a copier firm in the ICT cost centre);
7. supplier's name says IT ("… Software Ltd") and no expense label -> IT, "supplier", low;
8. otherwise not IT.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from spendkit.enrich.suppliers import (
    ReferenceDataError,
    as_arrow,
    contains,
    match_reference,
)
from spendkit.settings import PACKAGE_DATA

RULE_FIELDS = ("expense_type", "description", "service_area", "supplier_key")
RULE_COLUMNS = (
    "rule_id", "order", "field", "pattern", "effect", "it_category", "confidence", "vendor",
    "basis", "note", "source",
)
CONFIDENCES = ("high", "medium", "low")
_NON_ALNUM = re.compile(r"[^0-9A-Z]+")


def normalise_label(text: str) -> str:
    """Upper-case, '&' to AND, every run of punctuation (dots in dotted codes too) to a space."""
    t = str(text).upper().replace("&", " AND ").replace("\u2020", " ")
    return " ".join(_NON_ALNUM.sub(" ", t).split())


def _normalise_column(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, normalised uniques) for a text column: each distinct value normalised once."""
    s = values.astype(object).where(values.notna(), "")
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    norm = pd.Series([normalise_label(u) for u in uniques], dtype=object)
    return codes, norm


@lru_cache(maxsize=1)
def load_taxonomy() -> pd.DataFrame:
    """The IT categories with descriptions (package data `it_taxonomy.csv`)."""
    return pd.read_csv(PACKAGE_DATA / "it_taxonomy.csv", dtype=str, keep_default_na=False)


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> pd.DataFrame:
    """The ordered IT rules (package data `it_rules.csv`), validated and sorted by field, order."""
    file = path or str(PACKAGE_DATA / "it_rules.csv")
    rules = pd.read_csv(file, dtype=str, keep_default_na=False)
    missing = set(RULE_COLUMNS) - set(rules.columns)
    if missing:
        raise ReferenceDataError(f"{file}: missing columns {sorted(missing)}")
    cats = set(load_taxonomy()["it_category"]) | {""}
    for i, r in rules.iterrows():
        where = f"{file}, row {i + 2} ({r['rule_id']!r})"
        if r["field"] not in RULE_FIELDS:
            raise ReferenceDataError(f"{where}: field {r['field']!r} not in {RULE_FIELDS}")
        if r["effect"] not in ("it", "not_it"):
            raise ReferenceDataError(f"{where}: effect {r['effect']!r}, expected it/not_it")
        if r["it_category"] not in cats:
            raise ReferenceDataError(f"{where}: it_category {r['it_category']!r} not in taxonomy")
        if r["confidence"] not in CONFIDENCES:
            raise ReferenceDataError(f"{where}: confidence {r['confidence']!r}")
        if not r["order"].isdigit():
            raise ReferenceDataError(f"{where}: order {r['order']!r} is not a whole number")
        try:
            re.compile(r["pattern"])
        except re.error as exc:
            raise ReferenceDataError(f"{where}: bad pattern {r['pattern']!r}: {exc}") from exc
    if rules["rule_id"].duplicated().any():
        raise ReferenceDataError(f"{file}: duplicate rule_id")
    rules["order"] = rules["order"].astype(int)
    return rules.sort_values(["field", "order"], kind="stable").reset_index(drop=True)


@lru_cache(maxsize=4)
def load_expense_labels(path: str | None = None) -> pd.DataFrame:
    """The expense-type label map (package data `expense_labels.csv`), keyed by normalised label."""
    file = path or str(PACKAGE_DATA / "expense_labels.csv")
    labels = pd.read_csv(file, dtype=str, keep_default_na=False)
    cats = set(load_taxonomy()["it_category"]) | {""}
    bad = labels[~labels["is_it"].isin(["true", "false"]) | ~labels["it_category"].isin(cats)]
    if len(bad):
        raise ReferenceDataError(
            f"{file}, row {bad.index[0] + 2}: is_it must be true/false and it_category one of "
            f"{sorted(cats)}; got {bad.iloc[0]['is_it']!r}, {bad.iloc[0]['it_category']!r}"
        )
    labels["label"] = labels["label"].map(normalise_label)
    if labels["label"].duplicated().any():
        dup = labels.loc[labels["label"].duplicated(), "label"].tolist()
        raise ReferenceDataError(f"{file}: duplicate labels after normalising: {dup}")
    return labels.set_index("label")


def apply_rules(values: pd.Series, field: str, rules: pd.DataFrame | None = None) -> pd.DataFrame:
    """First matching rule of `field` for each value (already normalised text).

    Returns a frame aligned with `values`: rule_id, effect ("it"/"not_it"/""), it_category,
    confidence, vendor. Usable on its own to test one rule against sample labels.
    """
    rules = load_rules() if rules is None else rules
    out = pd.DataFrame(
        {c: pd.Series("", index=values.index, dtype=object)
         for c in ("rule_id", "effect", "it_category", "confidence", "vendor")}
    )
    todo = pd.Series(True, index=values.index)
    text = values.astype(object).fillna("")
    arr = as_arrow(text)
    for r in rules[rules["field"] == field].itertuples(index=False):
        if not todo.any():
            break
        hit = todo & contains(text, r.pattern, arr)
        if hit.any():
            out.loc[hit, ["rule_id", "effect", "it_category", "confidence", "vendor"]] = (
                r.rule_id, r.effect, r.it_category, r.confidence, r.vendor,
            )
            todo &= ~hit
    return out


def _expense_evidence(norm: pd.Series) -> pd.DataFrame:
    """Label map first, then expense_type rules: verdict per normalised label."""
    labels = load_expense_labels()
    ev = apply_rules(norm, "expense_type")
    in_map = norm.isin(labels.index)
    mapped = labels.reindex(norm[in_map])
    ev.loc[in_map, "effect"] = np.where(mapped["is_it"].to_numpy() == "true", "it", "not_it")
    ev.loc[in_map, "it_category"] = mapped["it_category"].to_numpy()
    ev.loc[in_map, "confidence"] = mapped["confidence"].to_numpy()
    ev.loc[in_map, "rule_id"] = "label:" + norm[in_map]
    # Microsoft named in a mapped label still gives the vendor.
    ev.loc[in_map & contains(norm, r"\bMICROSOFT\b|\bM365\b"), "vendor"] = "Microsoft"
    return ev


def _description_evidence(norm: pd.Series) -> pd.DataFrame:
    """Description rules; a description that is exactly a mapped IT label counts as one."""
    labels = load_expense_labels()
    ev = apply_rules(norm, "description")
    hit = norm.isin(labels.index[labels["is_it"] == "true"])
    mapped = labels.reindex(norm[hit])
    ev.loc[hit, "effect"] = "it"
    ev.loc[hit, "it_category"] = mapped["it_category"].to_numpy()
    ev.loc[hit, "confidence"] = mapped["confidence"].to_numpy()
    ev.loc[hit, "rule_id"] = "label:" + norm[hit]
    return ev


def classify_it(combos: pd.DataFrame) -> pd.DataFrame:
    """Classify distinct combinations of supplier_key, expense_type, service_area, description.

    Returns `combos` with is_it, it_category, it_basis, it_confidence, underlying_vendor,
    vendor_basis, supplier_role, supplier_canonical_ref and it_rule (the deciding rule ids).
    Missing columns are treated as empty strings.
    """
    df = combos.copy()
    for col in ("supplier_key", "expense_type", "service_area", "description"):
        if col not in df.columns:
            df[col] = ""
        df[col] = df[col].astype(object).where(df[col].notna(), "")
    n = len(df)

    def per_value(col: str, fn) -> pd.DataFrame:
        codes, norm = _normalise_column(df[col])
        ev = fn(norm)
        return ev.iloc[codes].reset_index(drop=True) if n else ev.iloc[:0]

    exp = per_value("expense_type", _expense_evidence)
    desc = per_value("description", _description_evidence)
    svc = per_value("service_area", lambda v: apply_rules(v, "service_area"))
    sname = per_value("supplier_key", lambda v: apply_rules(v, "supplier_key"))
    codes, ukeys = pd.factorize(df["supplier_key"], use_na_sentinel=False)
    ref = match_reference(pd.Series(ukeys, dtype=object)).set_index("supplier_key")
    ref = ref.reindex(pd.Series(ukeys, dtype=object)).iloc[codes].reset_index(drop=True)

    e_it, e_not = exp["effect"].eq("it").to_numpy(), exp["effect"].eq("not_it").to_numpy()
    d_it, d_not = desc["effect"].eq("it").to_numpy(), desc["effect"].eq("not_it").to_numpy()
    a_it = svc["effect"].eq("it").to_numpy()
    n_it = sname["effect"].eq("it").to_numpy()
    r_it = ref["ref_is_it"].eq("true").to_numpy()
    r_trap = ref["ref_is_it"].eq("false").to_numpy()
    r_part = ref["ref_is_it"].eq("partial").to_numpy()
    has_label = (df["expense_type"].str.strip() != "").to_numpy()

    conds = [
        r_trap,
        e_it,
        e_not | d_not,
        r_it,
        d_it,
        a_it & ~e_not,
        n_it & ~has_label & ~e_not,
    ]
    case = np.select(conds, np.arange(1, len(conds) + 1), default=0)
    is_it = np.isin(case, [2, 4, 5, 6, 7])

    # Category: the most specific evidence available. The generic ICT rule gives way to
    # description, then supplier reference, then supplier-name evidence.
    d_cat, r_cat = desc["it_category"].to_numpy(), ref["ref_category"].to_numpy()
    e_cat, n_cat = exp["it_category"].to_numpy(), sname["it_category"].to_numpy()
    e_generic = exp["rule_id"].isin(["exp_ict_generic"]).to_numpy()
    refined = np.where(d_cat != "", d_cat, np.where(r_cat != "", r_cat, e_cat))
    # A label gives the category unless a line-of-business vendor (its support and licences
    # are the system) or a more specific description says otherwise.
    e_conf_arr = exp["confidence"].to_numpy()
    lob = np.isin(ref["role"].to_numpy(), ["lob_system_vendor", "social_care_system"]) & r_it
    d_specific = d_cat != ""
    cat_e = np.where(lob, "line_of_business", np.where(
        d_specific & ~desc["rule_id"].str.startswith("label:").to_numpy(), d_cat,
        np.where(e_generic | ((e_conf_arr != "high") & r_it & (r_cat != "")), refined, e_cat)))
    cat_r = np.where(lob, "line_of_business", np.where(d_cat != "", d_cat, r_cat))
    cat_a = np.where(d_cat != "", d_cat, np.where(r_cat != "", r_cat,
                     np.where(n_cat != "", n_cat, "it_services")))
    category = np.select(
        [case == 2, case == 4, case == 5, case == 6, case == 7],
        [cat_e, cat_r, d_cat, cat_a, n_cat], default="",
    )

    def plus(base: str, *extra: tuple[np.ndarray, str]) -> np.ndarray:
        out = np.full(n, base, dtype=object)
        for mask, name in extra:
            out = np.where(mask, out + "+" + name, out)
        return out

    basis = np.select(
        [case == 1, case == 2, case == 3, case == 4, case == 5, case == 6, case == 7],
        [
            np.full(n, "supplier", dtype=object),
            plus("expense_type", (r_it, "supplier"), (d_it, "description")),
            np.where(e_not, "expense_type", "description").astype(object),
            plus("supplier", (d_it, "description"), (a_it, "service_area")),
            plus("description", (a_it, "service_area")),
            plus("service_area", (r_part, "supplier")),
            np.full(n, "supplier", dtype=object),
        ],
        default="",
    )
    e_conf = exp["confidence"].to_numpy()
    confidence = np.select(
        [case == 1, case == 2, case == 3, case == 4, case == 5, case == 6, case == 7],
        [
            np.full(n, "high", dtype=object),
            np.where((e_conf == "high") | r_it | d_it, "high", "medium"),
            np.full(n, "medium", dtype=object),
            np.where(d_it | a_it, "high", "medium"),
            np.where(e_not, "low", np.where(a_it, "high", "medium")),
            np.where(r_part, "medium", "low"),
            np.full(n, "low", dtype=object),
        ],
        default="",
    )

    # Underlying vendor: a direct vendor payment, or a product named in label / description.
    role = ref["role"].to_numpy()
    vendors = ref["vendors_sold"].to_numpy()
    direct = np.isin(role, ["software_vendor", "saas_cloud", "hardware"]) & r_it & (
        np.char.find(vendors.astype(str), ";") < 0) & (vendors != "")
    d_vendor, e_vendor = desc["vendor"].to_numpy(), exp["vendor"].to_numpy()
    vendor = np.where(d_vendor != "", d_vendor, np.where(e_vendor != "", e_vendor,
                      np.where(direct, vendors, "")))
    vendor_basis = np.where(d_vendor != "", "description", np.where(
        e_vendor != "", "expense_type", np.where(direct, "supplier", "")))
    vendor = np.where(is_it, vendor, "")
    vendor_basis = np.where(is_it, vendor_basis, "")

    rule = np.select(
        [case == 1, case == 2, case == 3, case == 4, case == 5, case == 6, case == 7],
        [
            ("ref:" + ref["supplier_id"]).to_numpy(),
            exp["rule_id"].to_numpy(),
            np.where(e_not, exp["rule_id"], desc["rule_id"]),
            ("ref:" + ref["supplier_id"]).to_numpy(),
            desc["rule_id"].to_numpy(),
            svc["rule_id"].to_numpy(),
            sname["rule_id"].to_numpy(),
        ],
        default="",
    )
    df["is_it"] = is_it.astype(bool)
    df["it_category"] = np.where(is_it, category, "").astype(object)
    df["it_basis"] = basis.astype(object)
    df["it_confidence"] = confidence.astype(object)
    df["underlying_vendor"] = vendor.astype(object)
    df["vendor_basis"] = vendor_basis.astype(object)
    df["supplier_role"] = ref["role"].to_numpy().astype(object)
    df["supplier_canonical_ref"] = ref["canonical_name"].to_numpy().astype(object)
    df["it_rule"] = np.asarray(rule, dtype=object)
    return df
