"""Supplier names: a normalised key, clustering of variants, and the supplier reference table.

Everything works on a column's unique values: a file has thousands of rows but a few hundred
distinct suppliers, so each name is normalised once and the result mapped back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz

from spendkit.errors import ReferenceDataError
from spendkit.reference import catalogue

#: Legal-form words dropped from a key wherever they stand as a whole word.
LEGAL_SUFFIXES = frozenset(
    {"LTD", "LIMITED", "PLC", "LLP", "LLC", "INC", "CIC", "CO", "CORP", "GMBH", "SARL", "BV"}
)
#: Words dropped only at the end of a key ('Computacenter (UK) Ltd' = 'Computacenter').
TRAILING_WORDS = frozenset({"UK", "GB", "THE", "AND", "GROUP", "HOLDINGS", "COMPANY"})
#: Words that say nothing about which supplier it is: ignored when comparing two names, so
#: 'Kinetic Systems' and 'Baydale Systems' are compared on 'Kinetic' and 'Baydale'.
GENERIC_WORDS = frozenset(
    {
        "SYSTEMS", "SYSTEM", "SERVICES", "SERVICE", "SOLUTIONS", "SOLUTION", "BANK", "GROUP",
        "TECHNOLOGIES", "TECHNOLOGY", "TECHNICAL", "INTERNATIONAL", "NETWORK", "NETWORKS",
        "COUNCIL", "COUNTY", "CITY", "BOROUGH", "DISTRICT", "METROPOLITAN", "SUPPLIES",
        "SUPPORT", "CARE", "HOMES", "HOME", "TRUST", "ASSOCIATES", "PARTNERS", "PARTNERSHIP",
        "CONSULTING", "CONSULTANCY", "MANAGEMENT", "ENTERPRISES", "ENTERPRISE", "UK", "GB",
        "OF", "THE", "AND", "FOR", "BUSINESS", "PUBLIC", "EUROPE", "NORTH", "SOUTH", "EAST",
        "WEST", "NORTHERN", "SOUTHERN", "DIRECT", "SOFTWARE", "COMPUTER", "DIGITAL",
    }
)

_FORMERLY = re.compile(r"\(\s*(FORMERLY|FORMALLY|PREVIOUSLY|EX)\b[^)]*\)?", re.IGNORECASE)
_ID_IN_BRACKETS = re.compile(r"\(\s*[\d\s/-]+\)")
_TRADING_AS = re.compile(r"\bT\s*/\s*A\b|\bTRADING AS\b", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^0-9A-Z]+")


def _normalise_one(name: str) -> str:
    """Key for one name (see `normalise_supplier`)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper()
    text = _FORMERLY.sub(" ", text)
    text = _ID_IN_BRACKETS.sub(" ", text)
    text = _TRADING_AS.sub(" ", text)
    text = text.replace("&", " AND ").replace("+", " AND ")
    text = text.replace("'", "").replace("\u2019", "")  # "Sainsbury's" = "Sainsburys"
    tokens = _NON_ALNUM.sub(" ", text).split()
    tokens = [t for t in tokens if t not in LEGAL_SUFFIXES]
    while tokens and tokens[-1] in TRAILING_WORDS:
        tokens.pop()
    if tokens and tokens[0] == "THE" and len(tokens) > 1:
        tokens = tokens[1:]
    return " ".join(tokens)


def normalise_supplier(names: pd.Series | Iterable[str]) -> pd.Series:
    """Normalised supplier keys for a column of names: case, punctuation, '&'/'and', suffixes.

    Upper-cases, strips accents, drops '(FORMERLY …)' notes and bracketed account numbers,
    'T/A', legal forms (Ltd, Limited, PLC, LLP…) and trailing 'UK'/'The', turns '&' into 'AND'
    and collapses punctuation and padding. Missing or blank names give "". Each distinct name
    is normalised once.
    """
    s = names if isinstance(names, pd.Series) else pd.Series(list(names), dtype=object)
    s = s.astype(object).where(s.notna(), "")
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    keys = np.array([_normalise_one(str(u)) for u in uniques], dtype=object)
    return pd.Series(keys[codes] if len(codes) else [], index=s.index, dtype=object)


def as_arrow(values: pd.Series) -> pa.Array:
    """A str Series as an Arrow string array (built once, searched by many patterns)."""
    return pa.array(values.astype(object).tolist(), type=pa.string())


def contains(values: pd.Series, pattern: str, arrow: pa.Array | None = None) -> pd.Series:
    """Boolean Series: does `pattern` (a regex) occur in each value? Values must be str."""
    # Arrow's RE2 runs the whole column in C++; patterns use only RE2-compatible syntax.
    arr = as_arrow(values) if arrow is None else arrow
    hits = pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)
    return pd.Series(hits.astype(bool), index=values.index)


#: Batches up to this size are matched with Python's `re` (compiled once): Arrow compiles its
#: RE2 pattern on every call (~3 ms for the reference's alternation), which would be the
#: whole cost of the few new values a file brings.
SMALL_BATCH = 32
#: Hits x patterns up to which the first matching pattern of each hit is found with `re`.
SMALL_RESOLVE = 200_000


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...], any_pattern: str) -> tuple[re.Pattern, list[re.Pattern]]:
    return re.compile(any_pattern), [re.compile(p) for p in patterns]


def first_match(values: list[str], patterns: tuple[str, ...], any_pattern: str,
                *, engine: str = "auto") -> np.ndarray:
    """Index of the first of `patterns` found in each of `values` (-1 when none).

    One pass of the alternation of all patterns (`any_pattern`) finds the values that match
    any; only those are tried pattern by pattern (in order, first wins). engine "arrow" runs
    Arrow's RE2 over the batch in C++, "python" uses `re`; "auto" picks Python for small
    batches. Values are normalised keys and labels (A-Z, 0-9 and single spaces), on which the
    patterns (RE2 syntax, which `re` also accepts) mean the same in both engines.
    """
    out = np.full(len(values), -1, dtype=np.int64)
    if not len(values) or not patterns:
        return out
    if engine == "python" or (engine == "auto" and len(values) <= SMALL_BATCH):
        any_re, each = _compiled(patterns, any_pattern)
        for k, v in enumerate(values):
            if any_re.search(v):
                out[k] = next((i for i, p in enumerate(each) if p.search(v)), -1)
        return out
    arr = pa.array(values, type=pa.string())
    any_hit = pc.match_substring_regex(arr, any_pattern).to_numpy(zero_copy_only=False)
    todo = np.flatnonzero(any_hit)
    if engine == "auto" and len(todo) * len(patterns) <= SMALL_RESOLVE:
        # Few hits: which pattern each hit matched first is quicker in `re` than one Arrow
        # call per pattern (hundreds of register patterns).
        _any_re, each = _compiled(patterns, any_pattern)
        for k in todo.tolist():
            v = values[k]
            out[k] = next((i for i, p in enumerate(each) if p.search(v)), -1)
        return out
    if len(todo) < len(arr):
        arr = arr.take(pa.array(todo))
    for i, pattern in enumerate(patterns):
        if not len(todo):
            break
        hit = pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)
        out[todo[hit]] = i
        keep = ~hit
        todo = todo[keep]
        if len(todo) and not keep.all():
            arr = arr.filter(pa.array(keep))
    return out


# --------------------------------------------------------------------------- reference table

REFERENCE_COLUMNS = (
    "supplier_id", "pattern", "canonical_name", "role", "vendors_sold", "is_it",
    "it_category", "identity", "note", "source",
)
ROLES = frozenset(
    {
        "lsp_reseller", "software_vendor", "saas_cloud", "telecoms", "hardware", "it_services",
        "it_staffing", "social_care_system", "lob_system_vendor", "print_mfd", "other",
    }
)


#: is_it values of the reference: "true" an IT supplier; "partial" sells IT among much else;
#: "unlikely" a known non-IT organisation often paid under IT-looking codes (copiers, alarm
#: signalling, vehicle telematics, interpreting): it outweighs a generic IT code, not an IT
#: description; "false" a name trap that resembles an IT supplier (Phoenix Futures): never IT.
REFERENCE_IS_IT = ("true", "partial", "unlikely", "false")
#: identity values: "strong" for a supplier whose trade is one unmistakable IT product or
#: network (a carrier, an ISP, an SMS gateway, a single-product subscription such as Dropbox or
#: Zoom): it sells nothing a generic not-IT label (training, printing, conferences, licences
#: and fees) could name, so such a label does not outweigh it. "" for every other supplier:
#: resellers sell toner, system vendors run training courses.
REFERENCE_IDENTITY = ("", "strong")
#: Card-payment prefixes in front of the merchant's name ('PAYPAL *DROPBOXINTE', 'SQ *…',
#: 'SP *…' for Shopify, 'DNH*GODADDY'): the register is tried on the name without them when
#: the whole name matches nothing (seen in Leeds' and Birmingham's purchase-card files).
CARD_PREFIX = re.compile(r"^(?:PAYPAL|PP|SQ|SP|SUMUP|IZ|ZETTLE|DNH|WWW|STRIPE|CKO) (?=\S)")


@lru_cache(maxsize=4)
def load_supplier_reference(path: str | None = None) -> pd.DataFrame:
    """The supplier reference table (package data `suppliers.csv`), validated, in file order.

    Rows are tried in order and the first whose `pattern` (a regex on the normalised key)
    matches wins, so the not-IT traps at the top shadow the IT suppliers they resemble.
    """
    file = path or str(catalogue.path("suppliers"))
    ref = pd.read_csv(file, dtype=str, keep_default_na=False)
    missing = set(REFERENCE_COLUMNS) - set(ref.columns)
    if missing:
        raise ReferenceDataError(f"{file}: missing columns {sorted(missing)}")
    for i, row in ref.iterrows():
        where = f"{file}, row {i + 2} ({row['supplier_id']!r})"
        try:
            re.compile(row["pattern"])
        except re.error as exc:
            raise ReferenceDataError(f"{where}: bad pattern {row['pattern']!r}: {exc}") from exc
        if row["role"] not in ROLES:
            raise ReferenceDataError(f"{where}: role {row['role']!r} not in {sorted(ROLES)}")
        if row["is_it"] not in REFERENCE_IS_IT:
            raise ReferenceDataError(f"{where}: is_it {row['is_it']!r}, expected one of "
                                     f"{REFERENCE_IS_IT}")
        if row["identity"] not in REFERENCE_IDENTITY:
            raise ReferenceDataError(f"{where}: identity {row['identity']!r}, expected one of "
                                     f"{REFERENCE_IDENTITY}")
        if row["identity"] == "strong" and row["is_it"] != "true":
            raise ReferenceDataError(f"{where}: a strong identity needs is_it true")
        if not row["source"].strip():
            raise ReferenceDataError(f"{where}: empty source")
    if ref["supplier_id"].duplicated().any():
        dup = ref.loc[ref["supplier_id"].duplicated(), "supplier_id"].tolist()
        raise ReferenceDataError(f"{file}: duplicate supplier_id {dup}")
    return ref


def match_reference(keys: pd.Series, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reference row for each distinct key: first matching pattern wins ("" columns if none).

    A key that matches nothing is tried again without a card-payment prefix (`CARD_PREFIX`:
    'PAYPAL DROPBOXINTE' is Dropbox). Returns one row per distinct key with columns
    supplier_key, supplier_id, canonical_name, role, vendors_sold, ref_is_it, ref_category,
    ref_identity.
    """
    ref = load_supplier_reference() if reference is None else reference
    uniq = pd.unique(keys.astype(object).to_numpy())
    patterns = tuple(ref["pattern"])
    any_pattern = _any_pattern(patterns)
    values = [str(u) for u in uniq]
    which = first_match(values, patterns, any_pattern)
    retry = [k for k in np.flatnonzero(which < 0).tolist() if CARD_PREFIX.match(values[k])]
    if retry:
        again = first_match([CARD_PREFIX.sub("", values[k]) for k in retry], patterns,
                            any_pattern)
        which[np.array(retry, dtype=np.int64)] = again
    cols = ["supplier_id", "canonical_name", "role", "vendors_sold", "is_it", "it_category",
            "identity"]
    # Row len(ref) of the lookup is the "no match" row of empty strings.
    lookup = np.vstack([ref[cols].to_numpy(dtype=object), np.full((1, len(cols)), "", object)])
    picked = lookup[np.where(which < 0, len(ref), which)]
    out = pd.DataFrame({"supplier_key": pd.Series(uniq, dtype=object)})
    for j, col in enumerate(("supplier_id", "canonical_name", "role", "vendors_sold",
                             "ref_is_it", "ref_category", "ref_identity")):
        out[col] = picked[:, j]
    return out


@lru_cache(maxsize=8)
def _any_pattern(patterns: tuple[str, ...]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


# --------------------------------------------------------------------------- clustering

@dataclass(frozen=True)
class _Name:
    key: str
    tokens: tuple[str, ...]
    distinctive: tuple[str, ...]


def _split(key: str) -> _Name:
    tokens = tuple(key.split())
    return _Name(key, tokens, tuple(t for t in tokens if t not in GENERIC_WORDS))


def _merge_reason(a: _Name, b: _Name, threshold: float) -> tuple[float, str] | None:
    """Why two keys are the same supplier, or None. Guards against character-score merges.

    Both must keep at least one distinctive (non-generic) word of 4+ letters; the distinctive
    words must agree except for spelling variants of long words ('CENTRES'/'CENTERS'), so
    'KENT'/'GWENT', initials ('A B SMITH'/'A C SMITH') and shared generic words never merge.
    """
    da, db = a.distinctive, b.distinctive
    if not da or not db:
        return None
    if "".join(da) == "".join(db):
        return 100.0, "same distinctive words"
    if max(len("".join(da)), len("".join(db))) < 5:
        return None  # short names and initials: exact only
    if len(da) != len(db):
        return None  # an extra distinctive word ('CIVICA' vs 'CIVICA ELECTION') is another firm
    score = fuzz.ratio(" ".join(da), " ".join(db))
    if score < threshold:
        return None
    for x, y in zip(da, db, strict=True):
        if x == y:
            continue
        if min(len(x), len(y)) < 7 or fuzz.ratio(x, y) < 85:
            return None  # short differing words are different places or initials
    return float(score), f"spelling variant ({score:.0f})"


def cluster_suppliers(
    names: pd.Series | Iterable[str], *, threshold: float = 90.0
) -> pd.DataFrame:
    """Cluster supplier-name variants; one row per distinct name with its canonical and evidence.

    Keys matched by the supplier reference take the reference's canonical name. The rest are
    blocked by their first distinctive word and merged pairwise when `_merge_reason` allows
    (union-find), so the result does not depend on input order. The canonical name of a fuzzy
    cluster is its most frequent raw name (ties: shortest, then alphabetical).

    Returns columns: supplier_name, supplier_key, supplier_canonical, cluster_size,
    cluster_evidence ("reference:<id>", "exact key", or "key~other key (reason)" per merge).
    """
    s = names if isinstance(names, pd.Series) else pd.Series(list(names), dtype=object)
    s = s.astype(object).where(s.notna(), "")
    counts = s.value_counts(sort=False)
    table = pd.DataFrame({"supplier_name": counts.index.astype(object), "n": counts.to_numpy()})
    table["supplier_key"] = normalise_supplier(table["supplier_name"]).to_numpy()
    ref = match_reference(table["supplier_key"]).set_index("supplier_key")

    keys = sorted(k for k in table["supplier_key"].unique() if k)
    parent = {k: k for k in keys}
    evidence: dict[str, list[str]] = {k: [] for k in keys}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    referenced = set(ref.index[ref["supplier_id"] != ""])
    unref = [k for k in keys if k not in referenced]
    blocks: dict[str, list[_Name]] = {}
    for k in unref:
        nm = _split(k)
        if nm.distinctive:
            blocks.setdefault(nm.distinctive[0][:4], []).append(nm)
    for members in blocks.values():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                why = _merge_reason(a, b, threshold)
                if why is None:
                    continue
                ra, rb = find(a.key), find(b.key)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
                    evidence[a.key].append(f"{a.key}~{b.key} ({why[1]})")
                    evidence[b.key].append(f"{b.key}~{a.key} ({why[1]})")

    root = pd.Series({k: find(k) for k in keys}, dtype=object)
    table["root"] = table["supplier_key"].map(root).fillna("").astype(object)
    # Canonical of a fuzzy cluster: its most-used raw name, deterministic tie-break.
    ranked = table.assign(
        _len=table["supplier_name"].str.len(), _neg=-table["n"]
    ).sort_values(["root", "_neg", "_len", "supplier_name"], kind="stable")
    first = ranked.drop_duplicates("root").set_index("root")["supplier_name"].str.strip()
    canon = table["root"].map(first).astype(object)
    ref_canon = table["supplier_key"].map(ref["canonical_name"]).fillna("").astype(object)
    ref_id = table["supplier_key"].map(ref["supplier_id"]).fillna("").astype(object)
    table["supplier_canonical"] = np.where(ref_canon != "", ref_canon, canon)
    table.loc[table["supplier_key"] == "", "supplier_canonical"] = ""
    sizes = table.groupby("supplier_canonical")["supplier_key"].transform("nunique")
    table["cluster_size"] = sizes.astype("int64")
    ev = table["supplier_key"].map(lambda k: "; ".join(evidence.get(k, [])))
    table["cluster_evidence"] = np.where(
        ref_id != "", "reference:" + ref_id, np.where(ev != "", ev, "exact key")
    )
    table.loc[table["supplier_key"] == "", "cluster_evidence"] = ""
    cols = ["supplier_name", "supplier_key", "supplier_canonical", "cluster_size",
            "cluster_evidence"]
    return table[cols].sort_values("supplier_name", kind="stable").reset_index(drop=True)
