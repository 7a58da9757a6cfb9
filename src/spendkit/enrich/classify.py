"""IT classification: evidence per field, weighed together; supplier reference; look-through.

Rules are data (`package_data/enrich/it_rules.csv`, `expense_labels.csv`, `suppliers.csv`,
`evidence_weights.csv`). Each field's distinct values are matched once; the evidence is then
combined per distinct combination of the fields' evidence, all with numpy vectorised choices.

How the evidence combines. Each kind of evidence adds points (`evidence_weights.csv`), and a
payment is IT when they reach `THRESHOLD` (2), so no single generic or miscoded field decides
against the rest:

- expense_type: an IT label +3 (medium +2), a label that says not IT ('NOT ICT', vehicle
  licences, stationery, training) -4; a not-IT label that does not block ('Residential Care',
  'Agency Staff', SeRCOP groups) adds nothing and is only recorded;
- supplier: in the IT register +3, partly IT (Capita Business Services, Amazon) +1, a copier
  / managed-print firm -2; a known not-IT name trap (Phoenix Futures, Oracle Care, Northgate
  Vehicle Hire, BT Redcare) vetoes IT outright. Unregistered names: a name that says IT
  ('… Software Ltd') +2, a name that names a non-IT trade (care, hearing, telematics, fuel) -2.
  A supplier that is the publisher itself ("SCC Communities (SP)" paid by Surrey County
  Council, whose initials collide with the reseller SCC) gives no supplier evidence.
  Identity answers a generic label or narrative: a supplier whose trade is one IT product or
  network (register identity "strong": carriers, ISPs, Dropbox, Zoom) gains +4 under a
  generic not-IT label (training, printing, conferences: the medium-confidence not-IT labels),
  cancelling it; an IT recruitment agency (register role it_staffing, or a name such as
  'IT Works Recruitment') gains +3 against a staffing narrative. The register is also tried
  on a card payment's merchant name without its prefix ('PAYPAL *DROPBOXINTE');
- description: a product or IT purchase named +3 (medium +2); a purchase that is plainly not IT
  (CCTV, click charges, DBS checks, telephone interpreting, printer ink, televisions, document
  storage) -6, staffing narrative and timesheets -3;
- service_area: an ICT cost centre or IT division +2; a CCTV, alarm or telecare cost centre -3;
- other_columns: the row's other published text (a cost-centre description or ProClass
  category loaded as an extra column) +2, read like a label, a cost centre and a narrative;
- corpus: the supplier is IT on strong evidence in other publishers' files
  (`spendkit.enrich.corpus`) +2.

A negated IT phrase ("Learning Resources exc. IT Equipment", "non-ICT", "not IT") is removed
before the rules run, and says not IT when nothing else in that text says IT.

`it_basis` names the kinds that added points, largest first ("expense_type+supplier"); a
not-IT payment names the evidence that outweighed the rest ("supplier (not IT)",
"expense_type (not IT)", "description (not IT)"…), or "expense_type (not IT)" for a
non-blocking not-IT label, or "" when nothing speaks either way. `it_confidence`: the deciding
kind's own confidence (an expense label's, medium for the register and descriptions, low for
cost centres, other columns, supplier names and corpus evidence), one step up when another
kind agrees, one down when any evidence disagrees.

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
#: supplier_key rules with effect "it" read an IT trade in an unregistered supplier's name,
#: with effect "not_it" a non-IT trade.
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
#: Kinds of evidence, in the order `it_basis` lists kinds that add equal points.
KINDS = ("expense_type", "supplier", "description", "service_area", "other_columns", "corpus")
#: Points a payment needs to be IT (see `evidence_weights.csv`).
THRESHOLD = 2
#: The supplier-name rule that reads an IT recruitment agency in a name ('IT Works
#: Recruitment'): its staff are IT staff, so a staffing narrative does not count against it.
STAFFING_NAME_RULE = "sup_it_staffing"
#: The description rule that reads a staffing narrative (agency staff, timesheets).
STAFFING_TEXT_RULE = "desc_not_it_staffing"
#: Separator between the parts of the `other_text` input (one part per extra column).
OTHER_TEXT_SEPARATOR = "\x1f"
#: Leading mark of a part that comes from a cost-centre or division column (its IT evidence
#: counts like a cost centre's; other parts only support).
DIVISION_MARK = "\x1e"
_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
#: A negated IT phrase in normalised text: 'exc. IT Equipment', 'non-ICT', 'Not ICT',
#: 'excluding computer hardware'. The phrase is removed before the rules run.
NEGATED_IT = re.compile(
    r"\b(?:NOT|NON|EXC|EXCL|EXCLUDING|EXCLUDES|EXCLUDED|EXCEPT|OTHER THAN|EXCLUSIVE OF)"
    r" (?:ICT|IT|I T|INFORMATION TECHNOLOGY|COMPUTERS?|COMPUTING|SOFTWARE|HARDWARE"
    r"|TELEPHON[A-Z]*|TELECOM[A-Z]*|DIGITAL|TECHNOLOGY)"
    r"(?: (?:AND|OR) (?:ICT|IT|COMPUTERS?|SOFTWARE|HARDWARE|TELEPHON[A-Z]*|TELECOM[A-Z]*))?"
    r"(?: (?:EQUIPMENT|HARDWARE|SOFTWARE|RELATED|ITEMS|COSTS?|SERVICES?|SUPPLIES|PURCHASES?"
    r"|EXPENDITURE|RESOURCES))*\b")


def normalise_label(text: str) -> str:
    """Upper-case, '&' to AND, every run of punctuation (dots in dotted codes too) to a space."""
    t = str(text).upper().replace("&", " AND ").replace("\u2020", " ")
    return " ".join(_NON_ALNUM.sub(" ", t).split())


def strip_negated(norm: str) -> tuple[str, bool]:
    """(normalised text without its negated IT phrases, whether it had any)."""
    if "NOT" not in norm and "NON" not in norm and "EXC" not in norm and "OTHER" not in norm:
        return norm, False
    out, n = NEGATED_IT.subn(" ", norm)
    return (" ".join(out.split()), True) if n else (norm, False)


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
def _field_rules(field: str, effect: str | None = None
                 ) -> tuple[tuple[str, ...], str, np.ndarray]:
    """(patterns, their alternation, evidence lookup) of the default rules for `field`."""
    return _rule_table(field, load_rules(), effect)


def _rule_table(field: str, rules: pd.DataFrame, effect: str | None = None
                ) -> tuple[tuple[str, ...], str, np.ndarray]:
    sel = rules.loc[rules["field"] == field]
    if effect is not None:
        sel = sel.loc[sel["effect"] == effect]
    patterns = tuple(sel["pattern"])
    # Row len(patterns) of the lookup is the "no rule" row of empty strings.
    lookup = np.vstack([sel[list(EVIDENCE_COLUMNS)].to_numpy(dtype=object),
                        np.full((1, len(EVIDENCE_COLUMNS)), "", dtype=object)])
    return patterns, "|".join(f"(?:{p})" for p in patterns), lookup


def _rule_evidence(norm: list[str], field: str, rules: pd.DataFrame | None = None, *,
                   effect: str | None = None) -> dict[str, np.ndarray]:
    """First matching rule of `field` (of one `effect` if given) per normalised value."""
    patterns, any_pattern, lookup = (_field_rules(field, effect) if rules is None
                                     else _rule_table(field, rules, effect))
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

    A not-IT label that does not block IT (`blocks_it` false) decides nothing: it leaves IT
    rule evidence as it is, clears a not-IT rule's (the map is authoritative for its labels),
    and names itself in `rule_id` when no rule is left; the caller records it as not-IT
    evidence.
    """
    labels = _label_map()
    hit = np.zeros(len(norm), dtype=bool)
    for i, v in enumerate(norm):
        m = labels.get(v)
        if m is None or (it_only and m[0] != "true"):
            continue
        if m[0] == "false" and m[3] == "false":
            # The map is authoritative for the labels it lists: a rule that would say more
            # (block IT) gives way to the label's "records only".
            if ev["effect"][i] == "not_it":
                ev["effect"][i], ev["confidence"][i], ev["it_category"][i] = "", "", ""
                ev["rule_id"][i] = ""
            if ev["rule_id"][i] == "":
                ev["rule_id"][i] = "label:" + v
            continue
        hit[i] = True
        ev["effect"][i] = "it" if m[0] == "true" else "not_it"
        ev["it_category"][i], ev["confidence"][i] = m[1], m[2]
        ev["rule_id"][i] = "label:" + v
    return hit


def _with_product(ev: dict[str, np.ndarray], norm: list[str], *,
                  as_evidence: bool = False) -> dict[str, np.ndarray]:
    """Set `vendor` (and `product_rule`) from the first product rule each value names.

    With `as_evidence`, a named product is also IT evidence (medium: decides when nothing
    says otherwise) where no rule spoke: 'Citrix ADC VPX 200' or 'Red Hat Enterprise Linux
    renewal' from an unknown reseller under a generic label is IT. A rule that said not IT
    ('WatchGuard firewall training', 'Dell toner') keeps its verdict.
    """
    prod = _rule_evidence(norm, "product")
    ev["vendor"] = prod["vendor"]
    ev["product_rule"] = prod["rule_id"]
    if as_evidence:
        named = (prod["rule_id"] != "") & (ev["effect"] == "")
        ev["effect"][named] = "it"
        ev["confidence"][named] = "medium"
        ev["rule_id"][named] = prod["rule_id"][named]
        ev["it_category"][named] = np.where(prod["it_category"][named] == "",
                                            "software_licences", prod["it_category"][named])
    return ev


WEIGHT_COLUMNS = ("kind", "evidence", "points", "reason", "source")
#: Every (kind, evidence) the combination reads from `evidence_weights.csv`.
WEIGHT_KEYS = (
    ("expense_type", "it_high"), ("expense_type", "it_medium"), ("expense_type", "it_low"),
    ("expense_type", "not_it"), ("description", "it_high"), ("description", "it_medium"),
    ("description", "it_low"), ("description", "not_it_high"), ("description", "not_it_medium"),
    ("service_area", "it"), ("service_area", "not_it"), ("other_columns", "it_high"),
    ("other_columns", "it_medium"), ("other_columns", "it_low"), ("other_columns", "not_it"),
    ("supplier", "register_it"), ("supplier", "register_partial"),
    ("supplier", "register_unlikely"), ("supplier", "name_it"), ("supplier", "name_not_it"),
    ("supplier", "strong_over_generic_label"), ("supplier", "it_staffing_over_staffing_text"),
    ("corpus", "it"),
)


@lru_cache(maxsize=4)
def load_weights(path: str | None = None) -> dict[tuple[str, str], int]:
    """Points per (kind, evidence) (package data `evidence_weights.csv`), every key present."""
    file = path or str(catalogue.path("evidence_weights"))
    table = pd.read_csv(file, dtype=str, keep_default_na=False)
    missing = set(WEIGHT_COLUMNS) - set(table.columns)
    if missing:
        raise ReferenceDataError(f"{file}: missing columns {sorted(missing)}")
    out: dict[tuple[str, str], int] = {}
    for i, r in table.iterrows():
        where = f"{file}, row {i + 2} ({r['kind']}, {r['evidence']})"
        if (r["kind"], r["evidence"]) not in WEIGHT_KEYS:
            raise ReferenceDataError(f"{where}: not a known kind and evidence")
        if not re.fullmatch(r"-?\d+", r["points"].strip()):
            raise ReferenceDataError(f"{where}: points {r['points']!r} is not a whole number")
        if not r["source"].strip():
            raise ReferenceDataError(f"{where}: empty source")
        out[(r["kind"], r["evidence"])] = int(r["points"])
    absent = [k for k in WEIGHT_KEYS if k not in out]
    if absent:
        raise ReferenceDataError(f"{file}: no points for {absent}")
    return out


def _negation(ev: dict[str, np.ndarray], negated: list[bool]) -> None:
    """Where a negated IT phrase was removed and nothing left says IT, say not IT."""
    for i, neg in enumerate(negated):
        if neg and ev["effect"][i] != "it":
            ev["effect"][i], ev["rule_id"][i] = "not_it", "negated_it"
            ev["it_category"][i], ev["confidence"][i] = "", "high"


def _stripped(norm: list[str]) -> tuple[list[str], list[bool]]:
    pairs = [strip_negated(v) for v in norm]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _expense_evidence(norm: list[str]) -> dict[str, np.ndarray]:
    """Label map first, then expense_type rules (negated phrases removed): verdict per label.

    `not_it_label` is true where the label says not IT, whether or not it blocks IT evidence.
    """
    text, negated = _stripped(norm)
    ev = _rule_evidence(text, "expense_type")
    _negation(ev, negated)
    _label_evidence(ev, norm, it_only=False)
    labels = _label_map()
    ev["not_it_label"] = np.array(
        [e == "not_it" or labels.get(v, ("",))[0] == "false"
         for e, v in zip(ev["effect"], norm, strict=True)], dtype=bool)
    return _with_product(ev, norm)


def _description_evidence(norm: list[str]) -> dict[str, np.ndarray]:
    """Description rules (negated phrases removed); a description that is exactly a mapped IT
    label counts as one; a named product (the look-through's product rules) counts where no
    rule spoke."""
    text, negated = _stripped(norm)
    ev = _rule_evidence(text, "description")
    _negation(ev, negated)
    _label_evidence(ev, norm, it_only=True)
    return _with_product(ev, norm, as_evidence=True)


def _service_evidence(norm: list[str]) -> dict[str, np.ndarray]:
    """Service-area rules (negated phrases removed)."""
    text, negated = _stripped(norm)
    ev = _rule_evidence(text, "service_area")
    _negation(ev, negated)
    return ev


_CONFIDENCE_RANK = {"high": 3, "medium": 2, "low": 1, "": 0}
OTHER_COLUMNS = ("rule_id", "effect", "it_category", "confidence")


def _other_evidence(values: list[str]) -> dict[str, np.ndarray]:
    """Evidence of the row's other published text: parts joined by OTHER_TEXT_SEPARATOR.

    A part from a cost-centre or division column (marked with DIVISION_MARK) is read as a
    service area (an ICT division says IT; a negated IT phrase says not IT) and for IT
    narrative. Any other part (a procurement or merchant category, an unnamed column) is read
    as an expense label and a narrative for IT evidence only, at low confidence: it supports,
    it does not decide, and says nothing against IT (Trafford's 2026 file files insurers under
    ProClass 'ICT : Services'; a division named 'Highways' says nothing about a purchase).
    The strongest IT part wins; failing that, a division part that says not IT.
    """
    split = [[p for p in v.split(OTHER_TEXT_SEPARATOR) if p.strip()] for v in values]
    parts = list(dict.fromkeys(normalise_label(p) for ps in split for p in ps))
    pos = {p: i for i, p in enumerate(parts)}
    best = {c: np.full(len(values), "", dtype=object) for c in OTHER_COLUMNS}
    if not parts:
        return best
    exp = _expense_evidence(parts)
    svc = _service_evidence(parts)
    desc = _description_evidence(parts)
    for i, ps in enumerate(split):
        top: tuple | None = None
        for p in ps:
            k = pos[normalise_label(p)]
            division = p.startswith(DIVISION_MARK)
            for ev in ((svc, desc) if division else (exp, svc, desc)):
                if ev["effect"][k] == "it":
                    conf = ev["confidence"][k] if division else "low"
                    cand = (_CONFIDENCE_RANK[conf], ev["rule_id"][k], ev["it_category"][k],
                            conf)
                    if top is None or top[0] < 0 or cand[0] > top[0]:
                        top = cand
                    break
            if (division and svc["effect"][k] == "not_it" and top is None):
                top = (-1, svc["rule_id"][k], "", "high")
        if top is not None:
            best["rule_id"][i], best["it_category"][i], best["confidence"][i] = top[1:]
            best["effect"][i] = "it" if top[0] > 0 else "not_it"
    return best


def field_evidence(field: str, values: list[str], *,
                   corpus: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """Evidence for distinct raw values of one input field, in the order given.

    field is "expense_type" (columns rule_id, effect, it_category, confidence, vendor,
    product_rule, not_it_label, has_label), "description" (the first six: vendor and
    product_rule come from the product rules), "service_area" (the first five),
    "other_text" (rule_id, effect, it_category, confidence) or "supplier_key" (the first
    five for the IT supplier-name rules, `trade_rule` for the first not-IT trade rule, the
    reference columns of `match_reference`: supplier_id, canonical_name, role, vendors_sold,
    ref_is_it, ref_category; `corpus_category` from `corpus` (supplier key -> IT category of
    its corpus evidence) and `own_body` (always False here: `own_body_evidence` sets it).
    Classifying a combination needs nothing else, so callers can cache this per value.
    Returns column name -> array aligned with `values`.
    """
    if field == "other_text":
        return _other_evidence([str(v) for v in values])
    norm = [normalise_label(v) for v in values]
    if field == "expense_type":
        ev = _expense_evidence(norm)
        ev["has_label"] = np.array([v.strip() != "" for v in values], dtype=bool)
        return ev
    if field == "description":
        return _description_evidence(norm)
    if field == "service_area":
        return _service_evidence(norm)
    if field == "supplier_key":
        ev = _rule_evidence(norm, "supplier_key", effect="it")
        ev["trade_rule"] = _rule_evidence(norm, "supplier_key", effect="not_it")["rule_id"]
        ref = match_reference(pd.Series(values, dtype=object))
        ref = ref.set_index("supplier_key").reindex(pd.Index(values, dtype=object))
        for col in REF_COLUMNS:
            ev[col] = ref[col].to_numpy(dtype=object)
        got = corpus or {}
        ev["corpus_category"] = np.array([got.get(v, "") for v in values], dtype=object)
        ev["own_body"] = np.zeros(len(values), dtype=bool)
        return ev
    raise ValueError(f"field_evidence: unknown field {field!r}")


REF_COLUMNS = ("supplier_id", "canonical_name", "role", "vendors_sold", "ref_is_it",
               "ref_category", "ref_identity")
#: Supplier evidence columns emptied for a payee that is the publisher itself.
_OWN_BODY_EMPTY = ("rule_id", "effect", "it_category", "confidence", "vendor", "trade_rule",
                   *REF_COLUMNS, "corpus_category")
_PUBLISHER_FILLER = frozenset({"OF", "THE", "AND", "FOR"})


@lru_cache(maxsize=1024)
def publisher_initials(publisher: str) -> str:
    """'Surrey County Council' -> 'SCC' (initials of the name's words bar of/the/and/for)."""
    return "".join(w[0] for w in normalise_label(publisher).split()
                   if w not in _PUBLISHER_FILLER)


def is_own_body(publisher: str, supplier_key: str) -> bool:
    """Is a payee (normalised key) the publisher itself, e.g. 'SCC COMMUNITIES SP' paid by
    Surrey County Council? Its initials followed by more words, or its own name. A bare 'SCC'
    stays the reseller: it is what the reseller is called."""
    tokens = supplier_key.split()
    if not tokens or not publisher.strip():
        return False
    initials = publisher_initials(publisher)
    if len(initials) >= 2 and len(tokens) >= 2 and tokens[0] == initials:
        return True
    return supplier_key == _publisher_key(publisher)


@lru_cache(maxsize=1024)
def _publisher_key(publisher: str) -> str:
    from spendkit.enrich.suppliers import _normalise_one

    return _normalise_one(publisher)


def own_body_evidence(sup: dict[str, np.ndarray], own: np.ndarray) -> dict[str, np.ndarray]:
    """Supplier evidence with the rows in `own` turned into 'the publisher itself'."""
    out = {c: v.copy() for c, v in sup.items()}
    for c in _OWN_BODY_EMPTY:
        out[c][own] = ""
    out["own_body"] = out["own_body"] | own
    return out


#: Columns of `combine_evidence`'s result.
DECISION_COLUMNS = ("is_it", "it_category", "it_basis", "it_confidence", "underlying_vendor",
                    "vendor_basis", "vendor_rule", "supplier_role", "supplier_canonical_ref",
                    "it_rule")


def classify_it(combos: pd.DataFrame, *, corpus: dict[str, str] | None = None) -> pd.DataFrame:
    """Classify distinct combinations of supplier_key, expense_type, service_area, description.

    `other_text` (the row's other published text, see `pipeline.published_text`) and
    `publisher_name` are used when present; `corpus` maps supplier keys to the IT category of
    their corpus evidence. Returns `combos` with is_it, it_category, it_basis, it_confidence,
    underlying_vendor, vendor_basis, vendor_rule (the product rule or supplier reference behind
    the vendor), supplier_role, supplier_canonical_ref and it_rule (the deciding rule ids).
    Missing columns are treated as empty strings.
    """
    df = combos.copy()
    for col in ("supplier_key", "expense_type", "service_area", "description", "other_text",
                "publisher_name"):
        if col not in df.columns:
            df[col] = ""
        df[col] = df[col].astype(object).where(df[col].notna(), "")

    def per_value(col: str) -> dict[str, np.ndarray]:
        codes, uniques = pd.factorize(df[col].map(str), use_na_sentinel=False)
        ev = field_evidence(col, [str(u) for u in uniques],
                            corpus=corpus if col == "supplier_key" else None)
        return {c: v[codes] for c, v in ev.items()}

    exp, desc = per_value("expense_type"), per_value("description")
    svc, sup = per_value("service_area"), per_value("supplier_key")
    other = per_value("other_text")
    pairs = df[["publisher_name", "supplier_key"]].astype(str)
    codes, uniq = pd.factorize(pd.MultiIndex.from_frame(pairs), use_na_sentinel=False)
    own = np.array([is_own_body(p, k) for p, k in uniq], dtype=bool)[codes]
    if own.any():
        sup = own_body_evidence(sup, own)
    decided = combine_evidence(exp, desc, svc, sup, other)
    for col in DECISION_COLUMNS:
        df[col] = decided[col]
    return df


def _points(kind: str, effect: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Points of one kind's evidence: '<effect>_<confidence>' or '<effect>' in the weights."""
    w = load_weights()
    out = np.zeros(len(effect), dtype=np.int64)
    for e in ("it", "not_it"):
        for c in ("high", "medium", "low"):
            pts = w.get((kind, f"{e}_{c}"), w.get((kind, e)))
            if pts is not None:
                out[(effect == e) & (confidence == c)] = pts
    return out


def combine_evidence(
    exp: dict[str, np.ndarray], desc: dict[str, np.ndarray], svc: dict[str, np.ndarray],
    sup: dict[str, np.ndarray], other: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Decide each combination from its fields' evidence (see the module docstring).

    Each argument maps `field_evidence` column names to arrays aligned on the combinations
    (`sup` holds the supplier-name rules, the reference, corpus and own-body columns).
    Returns arrays for DECISION_COLUMNS.
    """
    n = len(exp["effect"])
    w = load_weights()
    if other is None:
        other = {c: np.full(n, "", dtype=object) for c in OTHER_COLUMNS}
    e_it, d_it = exp["effect"] == "it", desc["effect"] == "it"
    o_it = other["effect"] == "it"
    own = sup["own_body"].astype(bool)
    registered = sup["supplier_id"] != ""
    r_it = sup["ref_is_it"] == "true"
    r_trap = (sup["ref_is_it"] == "false") & ~own
    r_unlikely = sup["ref_is_it"] == "unlikely"
    r_part = sup["ref_is_it"] == "partial"
    n_it = (sup["effect"] == "it") & ~registered
    n_trade = (sup["trade_rule"] != "") & ~registered
    # Corpus evidence speaks for suppliers the register does not know (it says the same as
    # the register for those it does: counting both would count one fact twice).
    c_it = (sup["corpus_category"] != "") & ~registered
    e_not_label = exp["not_it_label"].astype(bool)

    # Points per kind (columns in KINDS order).
    pts_s = np.select([r_it, r_unlikely, r_part], [w["supplier", "register_it"],
                      w["supplier", "register_unlikely"], w["supplier", "register_partial"]], 0)
    pts_s = pts_s + np.where(n_it, w["supplier", "name_it"], 0) + np.where(
        n_trade, w["supplier", "name_not_it"], 0)
    # Identity answers a generic not-IT label or narrative: a carrier or a single-product
    # subscription booked under 'Training' or 'Printing' (Dropbox paid by card under 'Best
    # Value Training'), an IT recruitment agency's timesheets. The points cancel the label's.
    strong = (sup["ref_identity"] == "strong") & r_it
    e_generic = (exp["effect"] == "not_it") & (exp["confidence"] == "medium")
    it_staffing = ((sup["role"] == "it_staffing") & r_it) | (
        (sup["rule_id"] == STAFFING_NAME_RULE) & n_it)
    d_staffing = desc["rule_id"] == STAFFING_TEXT_RULE
    pts_s = pts_s + np.where(strong & e_generic, w["supplier", "strong_over_generic_label"], 0)
    pts_s = pts_s + np.where(it_staffing & d_staffing,
                             w["supplier", "it_staffing_over_staffing_text"], 0)
    pts = np.stack([
        _points("expense_type", exp["effect"], exp["confidence"]),
        pts_s,
        _points("description", desc["effect"], desc["confidence"]),
        _points("service_area", svc["effect"], svc["confidence"]),
        _points("other_columns", other["effect"], other["confidence"]),
        np.where(c_it, w["corpus", "it"], 0),
    ], axis=1)
    total = pts.sum(axis=1)
    is_it = ~r_trap & (total >= THRESHOLD)
    positive, negative = pts > 0, pts < 0
    # The deciding kind: most points (first in KINDS on a tie); for a not-IT payment, the
    # kind with the fewest points.
    order = np.arange(len(KINDS))
    top = np.argmax(pts * 16 - order, axis=1) if n else np.zeros(0, np.int64)
    low = np.argmin(pts * 16 + order, axis=1) if n else np.zeros(0, np.int64)

    # Category: the most specific evidence available. The generic ICT rule gives way to
    # description, then supplier reference, then supplier-name evidence.
    d_cat, r_cat = desc["it_category"], sup["ref_category"]
    e_cat, n_cat = exp["it_category"], sup["it_category"]
    o_cat, c_cat = other["it_category"], sup["corpus_category"]
    e_generic = exp["rule_id"] == "exp_ict_generic"
    e_conf = exp["confidence"]
    refined = np.where(d_cat != "", d_cat, np.where(r_cat != "", r_cat, e_cat))
    # Hosting or cloud named in the description is cloud even from a line-of-business vendor
    # (Civica's Azure hosting); otherwise such a vendor's support and licences are the system.
    lob = ((np.isin(sup["role"], ["lob_system_vendor", "social_care_system"]) & r_it)
           | ((r_cat == "line_of_business") & r_part)) & (d_cat != "saas_cloud")
    d_label = np.array([str(r).startswith("label:") for r in desc["rule_id"]], dtype=bool)
    d_specific = d_it & (d_cat != "") & ~d_label
    use_refined = e_generic | ((e_conf != "high") & r_it & (r_cat != ""))
    fallback = np.where(n_cat != "", n_cat, np.where(c_cat != "", c_cat, "it_services"))
    category = np.select(
        [lob, d_specific, e_it & use_refined, e_it, r_it, d_it & (d_cat != ""), r_cat != "",
         o_it & (o_cat != "")],
        [np.full(n, "line_of_business", dtype=object), d_cat, refined, e_cat, r_cat, d_cat,
         r_cat, o_cat],
        default=fallback)

    # Basis. IT: the kinds that added points, most first. Not IT: the trap; else the evidence
    # that outweighed IT evidence or says not IT on its own (a blocking label, a not-IT
    # narrative); else a non-blocking not-IT label; else a soft not-IT sign (a non-IT trade
    # in the supplier's name); else nothing.
    kinds = np.array(KINDS, dtype=object)
    has_pos, has_neg = positive.any(axis=1), negative.any(axis=1)
    blocking = (pts <= -3).any(axis=1)
    decided_not = ~is_it & ~r_trap & has_neg & (has_pos | blocking)
    basis = np.empty(n, dtype=object)
    for i in range(n):
        if is_it[i]:
            ks = sorted(np.flatnonzero(positive[i]).tolist(), key=lambda k, i=i: (-pts[i, k], k))
            basis[i] = "+".join(kinds[ks].tolist())
        elif r_trap[i]:
            basis[i] = "supplier" + NOT_IT_SUFFIX
        elif decided_not[i]:
            basis[i] = kinds[low[i]] + NOT_IT_SUFFIX
        elif e_not_label[i]:
            basis[i] = "expense_type" + NOT_IT_SUFFIX
        elif has_neg[i]:
            basis[i] = kinds[low[i]] + NOT_IT_SUFFIX
        else:
            basis[i] = ""

    # Confidence: the deciding kind's own, one step up with agreement, one down with dissent.
    # Not IT: high for a trap, medium when evidence decided it, "" for want of IT evidence.
    e_rank = np.array([_CONFIDENCE_RANK.get(c, 0) for c in e_conf], dtype=np.int64)
    base_conf = np.select([top == 0, top == 1, top == 2],
                          [e_rank, np.where(registered, 2, 1), np.full(n, 2)], default=1)
    base_conf = np.clip(base_conf + (positive.sum(axis=1) >= 2) - has_neg, 1, 3)
    rank_name = np.array(["", "low", "medium", "high"], dtype=object)
    confidence = np.where(
        is_it, rank_name[base_conf],
        np.where(r_trap, "high", np.where(decided_not, "medium", "")))

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

    ref_rule = np.array(["ref:" + str(s) if s else "" for s in sup["supplier_id"]], dtype=object)
    sup_rule = np.where(registered, ref_rule, np.where(
        n_it & ~n_trade, sup["rule_id"], np.where(n_trade & ~n_it, sup["trade_rule"], np.where(
            n_it, sup["rule_id"], ""))))
    sup_rule = np.where(own & (sup_rule == ""), "own_body", sup_rule)
    rules_by_kind = np.stack([
        exp["rule_id"], sup_rule, desc["rule_id"], svc["rule_id"], other["rule_id"],
        np.where(c_it, "corpus", ""),
    ], axis=1).astype(object)
    rows = np.arange(n)
    low_rule = rules_by_kind[rows, low] if n else np.zeros(0, object)
    rule = np.where(
        is_it, rules_by_kind[rows, top] if n else np.zeros(0, object),
        np.where(r_trap, ref_rule, np.where(decided_not, low_rule, np.where(
            e_not_label, exp["rule_id"], np.where(has_neg, low_rule, "")))))
    return {
        "is_it": is_it.astype(bool),
        "it_category": np.where(is_it, category, "").astype(object),
        "it_basis": basis,
        "it_confidence": np.asarray(confidence, dtype=object),
        "underlying_vendor": vendor.astype(object),
        "vendor_basis": vendor_basis.astype(object),
        "vendor_rule": vendor_rule.astype(object),
        "supplier_role": np.asarray(role, dtype=object),
        "supplier_canonical_ref": np.asarray(sup["canonical_name"], dtype=object),
        "it_rule": np.asarray(rule, dtype=object),
    }
