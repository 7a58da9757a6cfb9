"""IT classification: expense-type label map, ordered rules, supplier reference, look-through.

Rules are data (`package_data/enrich/it_rules.csv`, `expense_labels.csv`, `suppliers.csv`). Each
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

`it_basis` names the evidence that decided, for not-IT payments too, so coverage can tell
"checked: not IT" from "no evidence": "supplier (not IT)" (case 1), "expense_type (not IT)"
or "description (not IT)" (case 3), and in case 8 "expense_type (not IT)" when the expense
type is a known not-IT label, else "" (no evidence either way). Not-IT labels come in two
strengths (`expense_labels.csv` column `blocks_it`): "true" labels ('NOT ICT', vehicle
licences) decide not IT over weaker IT evidence (case 3); "false" labels ('Residential Care',
'Building Works', SeRCOP groups such as Employees) only record the evidence for a payment
nothing else calls IT, so a mislabelled IT reseller still comes out IT (case 4).

Underlying vendor (the reseller look-through) is decided apart from the IT verdict, by the
`product` rules of `it_rules.csv` run on the description and on the expense type (some
councils publish the narrative there). Each text names at most one product: the first product
rule that matches, and the rules list every non-Microsoft product before Microsoft's, so
"Veeam Backup for Microsoft 365" is Veeam. Across the two texts a non-Microsoft product beats
Azure, which beats Microsoft licensing (description first on a tie). Then:

- a non-Microsoft product named -> that vendor, never Microsoft, whoever was paid;
- Microsoft licensing named (M365, Office, EA, E3/E5, Windows, Dynamics, Azure AD…) ->
  "Microsoft" (`MICROSOFT_LICENSING`), when paid to Microsoft, to a supplier whose reference
  `vendors_sold` includes Microsoft, or to a supplier not in the reference; a known supplier
  that does not sell Microsoft (Civica's "SharePoint integration consultancy") gets "";
- Azure named -> "Microsoft Azure" (`MICROSOFT_AZURE`) when paid to Microsoft or to a supplier
  whose reference `vendors_sold` includes Microsoft: Microsoft spend, but consumption, not the
  per-user licensing the licensing notebook models, so it is kept apart from "Microsoft".
  Azure hosting billed by anyone else (Civica's hosted systems) is that provider's own
  service: underlying_vendor "" (the payment stays IT, SaaS/cloud);
- nothing named -> the supplier's own vendor for a single-vendor software / SaaS / hardware
  supplier (a direct Microsoft payment is "Microsoft"), else "".

`vendor_rule` records the deciding product rule (or `ref:<supplier_id>`), so a payment that
names a product, even one that yields no vendor, is never given Microsoft by the reseller size
pattern of `pipeline.Enricher`.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from spendkit.enrich.suppliers import first_match, match_reference
from spendkit.errors import ReferenceDataError
from spendkit.reference import catalogue

#: Fields a rule can apply to. "product" rules run on description and expense type and give
#: the vendor a payment names (the look-through); the others decide IT or not IT.
RULE_FIELDS = ("expense_type", "description", "service_area", "supplier_key", "product")
#: underlying_vendor for Microsoft licensing (what the licensing notebook compares) and for
#: Azure consumption paid to Microsoft or a Microsoft reseller (Microsoft spend, not licensing).
MICROSOFT_LICENSING = "Microsoft"
MICROSOFT_AZURE = "Microsoft Azure"
RULE_COLUMNS = (
    "rule_id", "order", "field", "pattern", "effect", "it_category", "confidence", "vendor",
    "basis", "note", "source",
)
CONFIDENCES = ("high", "medium", "low")
#: Appended to the evidence kind in `it_basis` of a payment that evidence says is not IT.
NOT_IT_SUFFIX = " (not IT)"
_NON_ALNUM = re.compile(r"[^0-9A-Z]+")


def normalise_label(text: str) -> str:
    """Upper-case, '&' to AND, every run of punctuation (dots in dotted codes too) to a space."""
    t = str(text).upper().replace("&", " AND ").replace("\u2020", " ")
    return " ".join(_NON_ALNUM.sub(" ", t).split())


@lru_cache(maxsize=1)
def load_taxonomy() -> pd.DataFrame:
    """The IT categories with descriptions (package data `it_taxonomy.csv`)."""
    return pd.read_csv(catalogue.path("it_taxonomy"), dtype=str, keep_default_na=False)


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> pd.DataFrame:
    """The ordered IT rules (package data `it_rules.csv`), validated and sorted by field, order."""
    file = path or str(catalogue.path("it_rules"))
    rules = pd.read_csv(file, dtype=str, keep_default_na=False)
    missing = set(RULE_COLUMNS) - set(rules.columns)
    if missing:
        raise ReferenceDataError(f"{file}: missing columns {sorted(missing)}")
    cats = set(load_taxonomy()["it_category"]) | {""}
    for i, r in rules.iterrows():
        where = f"{file}, row {i + 2} ({r['rule_id']!r})"
        if r["field"] not in RULE_FIELDS:
            raise ReferenceDataError(f"{where}: field {r['field']!r} not in {RULE_FIELDS}")
        if r["field"] == "product":
            if r["effect"] or not r["vendor"]:
                raise ReferenceDataError(
                    f"{where}: a product rule needs a vendor and an empty effect; got "
                    f"vendor {r['vendor']!r}, effect {r['effect']!r}")
        elif r["vendor"]:
            raise ReferenceDataError(
                f"{where}: vendor {r['vendor']!r} on a {r['field']} rule; vendors come from "
                "product rules only")
        elif r["effect"] not in ("it", "not_it"):
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
    """The expense-type label map (package data `expense_labels.csv`), keyed by normalised label.

    Columns: is_it (true/false), it_category, confidence, blocks_it ("" for IT labels; for
    not-IT labels "true" when the label overrides weaker IT evidence, "false" when it only
    records not-IT evidence for a payment nothing calls IT; absent column = "true"), source.
    """
    file = path or str(catalogue.path("expense_labels"))
    labels = pd.read_csv(file, dtype=str, keep_default_na=False)
    cats = set(load_taxonomy()["it_category"]) | {""}
    bad = labels[~labels["is_it"].isin(["true", "false"]) | ~labels["it_category"].isin(cats)]
    if len(bad):
        raise ReferenceDataError(
            f"{file}, row {bad.index[0] + 2}: is_it must be true/false and it_category one of "
            f"{sorted(cats)}; got {bad.iloc[0]['is_it']!r}, {bad.iloc[0]['it_category']!r}"
        )
    if "blocks_it" not in labels.columns:
        labels["blocks_it"] = labels["is_it"].map({"true": "", "false": "true"})
    ok = labels["blocks_it"].where(labels["is_it"].eq("false"), "") == labels["blocks_it"]
    ok &= labels["blocks_it"].isin(["", "true", "false"]) & (
        labels["is_it"].eq("true") | labels["blocks_it"].ne(""))
    if not ok.all():
        i = int((~ok).to_numpy().argmax())
        raise ReferenceDataError(
            f"{file}, row {i + 2} ({labels['label'].iloc[i]!r}): blocks_it must be empty for an "
            f"IT label and true/false for a not-IT one; got {labels['blocks_it'].iloc[i]!r}")
    if "source" in labels.columns and labels["source"].str.strip().eq("").any():
        i = int(labels["source"].str.strip().eq("").to_numpy().argmax())
        raise ReferenceDataError(f"{file}, row {i + 2} ({labels['label'].iloc[i]!r}): empty source")
    labels["label"] = labels["label"].map(normalise_label)
    if labels["label"].duplicated().any():
        dup = labels.loc[labels["label"].duplicated(), "label"].tolist()
        raise ReferenceDataError(f"{file}: duplicate labels after normalising: {dup}")
    return labels.set_index("label")


EVIDENCE_COLUMNS = ("rule_id", "effect", "it_category", "confidence", "vendor")


@lru_cache(maxsize=16)
def _field_rules(field: str) -> tuple[tuple[str, ...], str, np.ndarray]:
    """(patterns, their alternation, evidence lookup) of the default rules for `field`."""
    return _rule_table(field, load_rules())


def _rule_table(field: str, rules: pd.DataFrame) -> tuple[tuple[str, ...], str, np.ndarray]:
    sel = rules.loc[rules["field"] == field]
    patterns = tuple(sel["pattern"])
    # Row len(patterns) of the lookup is the "no rule" row of empty strings.
    lookup = np.vstack([sel[list(EVIDENCE_COLUMNS)].to_numpy(dtype=object),
                        np.full((1, len(EVIDENCE_COLUMNS)), "", dtype=object)])
    return patterns, "|".join(f"(?:{p})" for p in patterns), lookup


def _rule_evidence(norm: list[str], field: str, rules: pd.DataFrame | None = None
                   ) -> dict[str, np.ndarray]:
    """First matching rule of `field` per normalised value, as evidence column arrays."""
    patterns, any_pattern, lookup = (_field_rules(field) if rules is None
                                     else _rule_table(field, rules))
    which = first_match(norm, patterns, any_pattern)
    picked = lookup[np.where(which < 0, len(patterns), which)]
    return {c: picked[:, j].copy() for j, c in enumerate(EVIDENCE_COLUMNS)}


def apply_rules(values: pd.Series, field: str, rules: pd.DataFrame | None = None) -> pd.DataFrame:
    """First matching rule of `field` for each value (already normalised text).

    Returns a frame aligned with `values`: rule_id, effect ("it"/"not_it"/""), it_category,
    confidence, vendor. Usable on its own to test one rule against sample labels.
    """
    text = values.astype(object).where(values.notna(), "").tolist()
    return pd.DataFrame(_rule_evidence(text, field, rules), index=values.index)


@lru_cache(maxsize=1)
def _label_map() -> dict[str, tuple[str, str, str, str]]:
    """Normalised label -> (is_it, it_category, confidence, blocks_it) of the default map."""
    labels = load_expense_labels()
    return dict(zip(labels.index, zip(labels["is_it"], labels["it_category"],
                                      labels["confidence"], labels["blocks_it"], strict=True),
                    strict=True))


def _label_evidence(ev: dict[str, np.ndarray], norm: list[str], *, it_only: bool) -> np.ndarray:
    """Overwrite `ev` where the value is a mapped label (only IT ones if `it_only`).

    A not-IT label that does not block IT (`blocks_it` false) leaves the rule evidence as it
    is (it decides nothing) and only names itself in `rule_id` when no rule matched; the
    caller records it as not-IT evidence.
    """
    labels = _label_map()
    hit = np.zeros(len(norm), dtype=bool)
    for i, v in enumerate(norm):
        m = labels.get(v)
        if m is None or (it_only and m[0] != "true"):
            continue
        if m[0] == "false" and m[3] == "false":
            if ev["rule_id"][i] == "":
                ev["rule_id"][i] = "label:" + v
            continue
        hit[i] = True
        ev["effect"][i] = "it" if m[0] == "true" else "not_it"
        ev["it_category"][i], ev["confidence"][i] = m[1], m[2]
        ev["rule_id"][i] = "label:" + v
    return hit


def _with_product(ev: dict[str, np.ndarray], norm: list[str]) -> dict[str, np.ndarray]:
    """Set `vendor` (and `product_rule`) from the first product rule each value names."""
    prod = _rule_evidence(norm, "product")
    ev["vendor"] = prod["vendor"]
    ev["product_rule"] = prod["rule_id"]
    return ev


def _expense_evidence(norm: list[str]) -> dict[str, np.ndarray]:
    """Label map first, then expense_type rules: verdict per normalised label.

    `not_it_label` is true where the label says not IT, whether or not it blocks IT evidence.
    """
    ev = _rule_evidence(norm, "expense_type")
    _label_evidence(ev, norm, it_only=False)
    labels = _label_map()
    ev["not_it_label"] = np.array(
        [e == "not_it" or labels.get(v, ("",))[0] == "false"
         for e, v in zip(ev["effect"], norm, strict=True)], dtype=bool)
    return _with_product(ev, norm)


def _description_evidence(norm: list[str]) -> dict[str, np.ndarray]:
    """Description rules; a description that is exactly a mapped IT label counts as one."""
    ev = _rule_evidence(norm, "description")
    _label_evidence(ev, norm, it_only=True)
    return _with_product(ev, norm)


def field_evidence(field: str, values: list[str]) -> dict[str, np.ndarray]:
    """Evidence for distinct raw values of one input field, in the order given.

    field is "expense_type" (columns rule_id, effect, it_category, confidence, vendor,
    product_rule, not_it_label, has_label), "description" (the first six: vendor and product_rule come from
    the product rules), "service_area" (the first five), or "supplier_key" (those
    five for the supplier-name rules, plus the reference columns of `match_reference`:
    supplier_id, canonical_name, role, vendors_sold, ref_is_it, ref_category). Classifying a
    combination needs nothing else, so callers can cache this per value. Returns column name
    -> array aligned with `values`.
    """
    norm = [normalise_label(v) for v in values]
    if field == "expense_type":
        ev = _expense_evidence(norm)
        ev["has_label"] = np.array([v.strip() != "" for v in values], dtype=bool)
        return ev
    if field == "description":
        return _description_evidence(norm)
    if field == "service_area":
        return _rule_evidence(norm, "service_area")
    if field == "supplier_key":
        ev = _rule_evidence(norm, "supplier_key")
        ref = match_reference(pd.Series(values, dtype=object))
        ref = ref.set_index("supplier_key").reindex(pd.Index(values, dtype=object))
        for col in REF_COLUMNS:
            ev[col] = ref[col].to_numpy(dtype=object)
        return ev
    raise ValueError(f"field_evidence: unknown field {field!r}")


REF_COLUMNS = ("supplier_id", "canonical_name", "role", "vendors_sold", "ref_is_it",
               "ref_category")
#: Columns of `combine_evidence`'s result.
DECISION_COLUMNS = ("is_it", "it_category", "it_basis", "it_confidence", "underlying_vendor",
                    "vendor_basis", "vendor_rule", "supplier_role", "supplier_canonical_ref",
                    "it_rule")


def classify_it(combos: pd.DataFrame) -> pd.DataFrame:
    """Classify distinct combinations of supplier_key, expense_type, service_area, description.

    Returns `combos` with is_it, it_category, it_basis, it_confidence, underlying_vendor,
    vendor_basis, vendor_rule (the product rule or supplier reference behind the vendor),
    supplier_role, supplier_canonical_ref and it_rule (the deciding rule ids).
    Missing columns are treated as empty strings.
    """
    df = combos.copy()
    for col in ("supplier_key", "expense_type", "service_area", "description"):
        if col not in df.columns:
            df[col] = ""
        df[col] = df[col].astype(object).where(df[col].notna(), "")

    def per_value(col: str) -> dict[str, np.ndarray]:
        codes, uniques = pd.factorize(df[col].map(str), use_na_sentinel=False)
        ev = field_evidence(col, [str(u) for u in uniques])
        return {c: v[codes] for c, v in ev.items()}

    exp, desc = per_value("expense_type"), per_value("description")
    svc, sup = per_value("service_area"), per_value("supplier_key")
    decided = combine_evidence(exp, desc, svc, sup)
    for col in DECISION_COLUMNS:
        df[col] = decided[col]
    return df


def combine_evidence(
    exp: dict[str, np.ndarray], desc: dict[str, np.ndarray], svc: dict[str, np.ndarray],
    sup: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Decide each combination from its fields' evidence (see the module docstring).

    Each argument maps `field_evidence` column names to arrays aligned on the combinations
    (`sup` holds both the supplier-name rule and the reference columns). Returns arrays for
    DECISION_COLUMNS.
    """
    n = len(exp["effect"])
    e_it, e_not = exp["effect"] == "it", exp["effect"] == "not_it"
    d_it, d_not = desc["effect"] == "it", desc["effect"] == "not_it"
    a_it = svc["effect"] == "it"
    n_it = sup["effect"] == "it"
    r_it = sup["ref_is_it"] == "true"
    r_trap = sup["ref_is_it"] == "false"
    r_part = sup["ref_is_it"] == "partial"
    has_label = exp["has_label"].astype(bool)
    e_not_label = exp["not_it_label"].astype(bool)

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
    d_cat, r_cat = desc["it_category"], sup["ref_category"]
    e_cat, n_cat = exp["it_category"], sup["it_category"]
    e_generic = exp["rule_id"] == "exp_ict_generic"
    refined = np.where(d_cat != "", d_cat, np.where(r_cat != "", r_cat, e_cat))
    # A label gives the category unless a line-of-business vendor (its support and licences
    # are the system) or a more specific description says otherwise.
    e_conf = exp["confidence"]
    # ... except hosting or cloud named in the description (Civica's Azure hosting is cloud).
    lob = (np.isin(sup["role"], ["lob_system_vendor", "social_care_system"]) & r_it
           & (d_cat != "saas_cloud"))
    d_specific = d_cat != ""
    d_label = np.array([str(r).startswith("label:") for r in desc["rule_id"]], dtype=bool)
    cat_e = np.where(lob, "line_of_business", np.where(
        d_specific & ~d_label, d_cat,
        np.where(e_generic | ((e_conf != "high") & r_it & (r_cat != "")), refined, e_cat)))
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

    cases = [case == k for k in range(1, 8)]
    # Not-IT payments name their evidence too ("" = none either way): coverage counts them.
    not_it = NOT_IT_SUFFIX
    basis = np.select(
        [*cases, case == 0],
        [
            np.full(n, "supplier" + not_it, dtype=object),
            plus("expense_type", (r_it, "supplier"), (d_it, "description")),
            np.where(e_not, "expense_type" + not_it, "description" + not_it).astype(object),
            plus("supplier", (d_it, "description"), (a_it, "service_area")),
            plus("description", (a_it, "service_area")),
            plus("service_area", (r_part, "supplier")),
            np.full(n, "supplier", dtype=object),
            np.where(e_not_label, "expense_type" + not_it, "").astype(object),
        ],
        default="",
    )
    confidence = np.select(
        cases,
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

    # Underlying vendor (see the module docstring): a product named in the description or the
    # expense type (non-Microsoft > Azure > Microsoft licensing), else a direct vendor payment.
    role, vendors = sup["role"], sup["vendors_sold"]
    single = np.array([";" not in str(v) for v in vendors], dtype=bool)
    direct = np.isin(role, ["software_vendor", "saas_cloud", "hardware"]) & r_it & single & (
        vendors != "")
    sells_ms = np.array(["Microsoft" in str(v).split(";") for v in vendors], dtype=bool) & r_it
    d_vendor, e_vendor = desc["vendor"], exp["vendor"]

    def rank(v: np.ndarray) -> np.ndarray:
        return np.select([v == "", v == MICROSOFT_LICENSING, v == MICROSOFT_AZURE], [3, 2, 1], 0)

    use_d = (d_vendor != "") & (rank(d_vendor) <= rank(e_vendor))
    named = np.where(use_d, d_vendor, e_vendor)
    named_basis = np.where(use_d, "description", np.where(e_vendor != "", "expense_type", ""))
    named_rule = np.where(use_d, desc["product_rule"], exp["product_rule"])
    # A Microsoft product billed by a known supplier that does not sell Microsoft (Civica's
    # Azure hosting, its SharePoint consultancy) is that supplier's own service. Licensing
    # named to an unknown payee still counts; Azure needs Microsoft or a Microsoft seller.
    unknown = sup["supplier_id"] == ""
    named = np.where(((named == MICROSOFT_AZURE) & ~sells_ms)
                     | ((named == MICROSOFT_LICENSING) & ~sells_ms & ~unknown), "", named)
    has_named = named_rule != ""
    vendor = np.where(has_named, named, np.where(direct, vendors, ""))
    vendor_basis = np.where(vendor == "", "", np.where(has_named, named_basis, "supplier"))
    vendor_rule = np.where(has_named, named_rule, np.where(
        direct, np.array(["ref:" + str(s) for s in sup["supplier_id"]], dtype=object), ""))
    vendor = np.where(is_it, vendor, "")
    vendor_basis = np.where(is_it, vendor_basis, "")
    vendor_rule = np.where(is_it, vendor_rule, "")

    ref_rule = np.array(["ref:" + str(s) for s in sup["supplier_id"]], dtype=object)
    rule = np.select(
        [*cases, case == 0],
        [
            ref_rule,
            exp["rule_id"],
            np.where(e_not, exp["rule_id"], desc["rule_id"]),
            ref_rule,
            desc["rule_id"],
            svc["rule_id"],
            sup["rule_id"],
            np.where(e_not_label, exp["rule_id"], "").astype(object),
        ],
        default="",
    )
    return {
        "is_it": is_it.astype(bool),
        "it_category": np.where(is_it, category, "").astype(object),
        "it_basis": np.asarray(basis, dtype=object),
        "it_confidence": np.asarray(confidence, dtype=object),
        "underlying_vendor": vendor.astype(object),
        "vendor_basis": vendor_basis.astype(object),
        "vendor_rule": vendor_rule.astype(object),
        "supplier_role": np.asarray(role, dtype=object),
        "supplier_canonical_ref": np.asarray(sup["canonical_name"], dtype=object),
        "it_rule": np.asarray(rule, dtype=object),
    }
