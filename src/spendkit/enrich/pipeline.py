"""`Enricher` and `enrich`: the whole enrichment on a table, on distinct values only.

An `Enricher` loads the reference tables and rules once and remembers, across calls, every
supplier name it has resolved (key, canonical name, cluster evidence) and the evidence each
distinct expense type, service area, description, other published text and supplier key gave.
Classification depends only on that per-field evidence, so a combination is identified by
five small evidence-class numbers packed into one int64, and a combination seen before costs a
dict look-up. Ingest makes one `Enricher` and calls `enrich_arrow` once per batch of files;
`enrich(df)` is a fresh `Enricher` used once.

Inputs: `supplier_name`, and when present `expense_type`, `service_area`, `description`,
`amount_gbp`, `publisher_name` (to tell the publisher's own units from a supplier whose name
they share) and `other_text`: the row's published text outside the canonical columns (a
cost-centre description, a procurement category loaded as an extra column), one string per
row built by `published_text` from a loaded table's extra columns. `enrich(df)` builds it
itself from the frame's extra columns; ingest passes it (see `published_text`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.enrich.classify import (
    DECISION_COLUMNS,
    DIVISION_MARK,
    MICROSOFT_LICENSING,
    OTHER_TEXT_SEPARATOR,
    combine_evidence,
    field_evidence,
    is_own_body,
    own_body_evidence,
    publisher_initials,
)
from spendkit.enrich.suppliers import (
    _merge_reason,
    _Name,
    _normalise_one,
    _split,
    load_supplier_reference,
)
from spendkit.errors import InputError
from spendkit.schema import ENRICHMENT_FIELDS, TRANSACTION_COLUMNS, require_columns

TEXT_INPUTS = ("supplier_name", "expense_type", "service_area", "description")
#: Further text inputs used when present: the publisher (own units) and the other published
#: text of each row (`published_text`).
OPTIONAL_INPUTS = ("publisher_name", "other_text")
ENRICH_COLUMNS = (
    "supplier_key", "supplier_canonical", "supplier_role", "is_it", "it_category", "it_basis",
    "it_confidence", "underlying_vendor",
)
DETAIL_COLUMNS = ("vendor_basis", "vendor_rule", "it_rule", "cluster_evidence")
#: A software-licence payment at least this big to a reseller whose reference role says it sells
#: Microsoft licensing (role lsp_reseller, Microsoft in vendors_sold), naming no product in its
#: description or expense type, is taken to be Microsoft licensing (vendor_basis
#: "reseller_size", low confidence): Microsoft is the licence councils buy in six figures through
#: an LSP (package_data/sources/facts.md s3), while other vendors' renewals usually name the product. Anything named
#: (Sophos, Nutanix, Azure…) blocks it.
RESELLER_MICROSOFT_MIN_GBP = Decimal("10000")
#: Bits per field in a packed combination code (five fields in an int64). Evidence classes
#: are bounded by the number of rules, mapped labels and register rows, far below 2**12.
_BITS = 12
_EVIDENCE_FIELDS = ("supplier_key", "expense_type", "service_area", "description",
                    "other_text")
#: Per-combination string outputs (detail ones included), kept as Arrow arrays for `take`.
_COMBO_TEXT = ("supplier_role", "it_category", "it_basis", "it_confidence",
               "underlying_vendor", "vendor_basis", "vendor_rule", "it_rule")
_DETAIL_ONLY = ("vendor_basis", "vendor_rule", "it_rule")


class _Classes:
    """Interned evidence tuples of one field: raw value -> class id -> evidence columns."""

    def __init__(self, field: str, corpus: dict[str, str] | None = None) -> None:
        self.field = field
        self.corpus = corpus
        self.columns: tuple[str, ...] = ()
        self.by_value: dict[str, int] = {}
        self.by_tuple: dict[tuple, int] = {}
        self.rows: list[tuple] = []
        self._table: np.ndarray | None = None

    def add(self, values: list[str]) -> None:
        """Compute the evidence of new distinct values (one vectorised batch) and intern it."""
        ev = field_evidence(self.field, values, corpus=self.corpus)
        self.columns = tuple(ev)
        rows = zip(*(v.tolist() for v in ev.values()), strict=True)
        for value, row in zip(values, rows, strict=True):
            self.by_value[value] = self._intern(row)

    def _intern(self, row: tuple) -> int:
        cid = self.by_tuple.get(row)
        if cid is None:
            cid = self.by_tuple[row] = len(self.rows)
            if cid >= 1 << _BITS:
                raise OverflowError(f"more than 2**{_BITS} evidence classes for {self.field}")
            self.rows.append(row)
            self._table = None
        return cid

    def own_body(self, cid: int) -> int:
        """The class of supplier evidence `cid` when the payee is the publisher itself."""
        ev = {c: np.array([v], dtype=bool if c == "own_body" else object)
              for c, v in zip(self.columns, self.rows[cid], strict=True)}
        ev = own_body_evidence(ev, np.array([True]))
        return self._intern(tuple(ev[c][0].item() if c == "own_body" else ev[c][0]
                                  for c in self.columns))

    def ids(self, values: Sequence[str]) -> np.ndarray:
        """Class id of each value, computing the evidence of values not seen before."""
        get = self.by_value.get
        ids = [get(v, -1) for v in values]
        if -1 in ids:
            self.add(list(dict.fromkeys(v for v, i in zip(values, ids, strict=True) if i < 0)))
            ids = [self.by_value[v] for v in values]
        return np.array(ids, dtype=np.int64)

    def evidence(self, class_ids: np.ndarray) -> dict[str, np.ndarray]:
        """Evidence columns for an array of class ids."""
        if self._table is None:
            self._table = np.array(self.rows, dtype=object).reshape(len(self.rows), -1)
        picked = self._table[class_ids]
        return {c: picked[:, j] for j, c in enumerate(self.columns)}


class Enricher:
    """Enrich many tables with one set of loaded rules and a memory of what it has seen.

    `enrich(df)` on a fresh Enricher gives exactly what `spendkit.enrich.enrich(df)` gives.
    Across calls canonical supplier names are stable: a name keeps the canonical it got when
    first seen, and a new name is clustered against every name seen so far (reference names
    first): it joins an existing cluster when `_merge_reason` allows, and never merges two
    existing clusters.
    """

    def __init__(self, *, threshold: float = 90.0,
                 corpus: pd.DataFrame | dict[str, str] | None = None) -> None:
        """`corpus`: corpus evidence (`spendkit.enrich.corpus.CorpusEvidence.finish()`, or a
        dict of supplier key -> IT category) to weigh with each row's own evidence."""
        self.threshold = threshold
        if isinstance(corpus, pd.DataFrame):
            require_columns(corpus, ("supplier_key", "it_category"), "Enricher(corpus=...)")
            corpus = dict(zip(corpus["supplier_key"], corpus["it_category"], strict=True))
        self.corpus = dict(corpus) if corpus else None
        ref = load_supplier_reference()
        self._lsp_ms = frozenset(ref.loc[(ref["role"] == "lsp_reseller")
                                         & ref["vendors_sold"].str.contains("Microsoft"),
                                         "canonical_name"])
        self._classes = {f: _Classes(f, self.corpus if f == "supplier_key" else None)
                         for f in _EVIDENCE_FIELDS}
        # Supplier names, by name id.
        self._name_id: dict[str, int] = {}
        self._name_key: list[str] = []
        self._name_canon: list[str] = []
        self._name_evidence: list[str] = []
        self._name_kclass: list[int] = []
        self._name_lsp: list[bool] = []
        # Clustering state over the unreferenced keys seen so far.
        self._parent: dict[str, str] = {}
        self._key_evidence: dict[str, list[str]] = {}
        self._blocks: dict[str, list[_Name]] = {}
        self._root_canon: dict[str, str] = {}
        # Classified combinations: packed code -> combination id -> decision columns.
        self._combo_id: dict[int, int] = {}
        self._combo: dict[str, list] = {c: [] for c in DECISION_COLUMNS}
        self._combo_np: dict[str, np.ndarray] = {}
        self._combo_arrow: dict[str, pa.Array] = {}

    # ------------------------------------------------------------------ suppliers

    def _find(self, k: str) -> str:
        parent = self._parent
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    def _add_names(self, names: list[str], counts: np.ndarray) -> None:
        """Resolve new distinct names: key, reference, clustering, canonical, evidence."""
        keys = [_normalise_one(n) for n in names]
        sup = self._classes["supplier_key"]
        new_keys = sorted({k for k in keys if k not in sup.by_value})
        if new_keys:
            sup.add(new_keys)
        ref_col = sup.columns.index("supplier_id") if sup.columns else 0
        canon_col = sup.columns.index("canonical_name") if sup.columns else 0

        def ref_of(k: str) -> tuple[str, str]:
            row = sup.rows[sup.by_value[k]]
            return row[ref_col], row[canon_col]

        new_unref = [k for k in new_keys if k and not ref_of(k)[0]]
        touched: dict[str, list[_Name]] = {}
        for k in new_unref:
            self._parent[k] = k
            self._key_evidence[k] = []
            nm = _split(k)
            if nm.distinctive:
                touched.setdefault(nm.distinctive[0][:4], []).append(nm)
        for blk, fresh in touched.items():
            self._cluster_block(blk, fresh)

        # Canonical: reference name, else the fixed canonical of an existing cluster, else
        # (a cluster of new keys only) its most-used raw name in this call.
        pending: dict[str, list[tuple[int, int, str]]] = {}
        for name, key, n in zip(names, keys, counts.tolist(), strict=True):
            if key and not ref_of(key)[0]:
                root = self._find(key)
                if root not in self._root_canon:
                    pending.setdefault(root, []).append((-n, len(name), name))
        for root, ranked in pending.items():
            self._root_canon[root] = min(ranked)[2].strip()
        for name, key in zip(names, keys, strict=True):
            rid, rcanon = ref_of(key)
            if not key:
                canon, evidence = "", ""
            elif rid:
                canon, evidence = rcanon, "reference:" + rid
            else:
                canon = self._root_canon[self._find(key)]
                evidence = "; ".join(self._key_evidence[key]) or "exact key"
            self._name_id[name] = len(self._name_key)
            self._name_key.append(key)
            self._name_canon.append(canon)
            self._name_evidence.append(evidence)
            self._name_kclass.append(sup.by_value[key])
            self._name_lsp.append(canon in self._lsp_ms)

    def _cluster_block(self, blk: str, fresh: list[_Name]) -> None:
        """Merge new keys of one block with each other and with the block's earlier keys.

        Pairs are visited in the order `cluster_suppliers` visits them (sorted keys, i < j),
        skipping pairs of two earlier keys, so a first call reproduces it exactly.
        """
        members = sorted(self._blocks.get(blk, []) + fresh, key=lambda m: m.key)
        self._blocks[blk] = members
        new_set = {m.key for m in fresh}
        new_pos = [i for i, m in enumerate(members) if m.key in new_set]
        for i, a in enumerate(members):
            if a.key in new_set:
                partners = members[i + 1:]
            else:
                partners = [members[j] for j in new_pos[bisect_right(new_pos, i):]]
            for b in partners:
                why = _merge_reason(a, b, self.threshold)
                if why is None:
                    continue
                ra, rb = self._find(a.key), self._find(b.key)
                if ra == rb:
                    continue
                fixed_a, fixed_b = ra in self._root_canon, rb in self._root_canon
                if fixed_a and fixed_b:
                    continue  # two earlier clusters keep their own canonical names
                if fixed_a or fixed_b:
                    # The new key joins the earlier cluster, whose root keeps its canonical.
                    old, new = (ra, rb) if fixed_a else (rb, ra)
                    self._parent[new] = old
                else:
                    self._parent[max(ra, rb)] = min(ra, rb)
                self._key_evidence[a.key].append(f"{a.key}~{b.key} ({why[1]})")
                self._key_evidence[b.key].append(f"{b.key}~{a.key} ({why[1]})")

    def _name_ids(self, names: list[str], indices: np.ndarray,
                  segments: Sequence[int] | None = None) -> np.ndarray:
        """Name id of each distinct name, resolving new names as per-segment calls would.

        `names` is in order of first appearance (Arrow's dictionary order). New names are
        resolved in groups by the segment they first appear in, with their counts in that
        segment, which is what one call per segment would do.
        """
        get = self._name_id.get
        ids = [get(v, -1) for v in names]
        if -1 in ids:
            new = np.array([i for i, x in enumerate(ids) if x < 0], dtype=np.int64)
            if segments is None or len(segments) <= 1:
                counts = np.bincount(indices, minlength=len(names))[new]
                self._add_names([names[i] for i in new.tolist()], counts)
            else:
                self._add_names_by_segment(names, indices, new, segments)
            ids = [self._name_id[v] for v in names]
        return np.array(ids, dtype=np.int64)

    def _add_names_by_segment(self, names: list[str], indices: np.ndarray, new: np.ndarray,
                              segments: Sequence[int]) -> None:
        """`_add_names` once per segment, for the new names first seen in that segment."""
        is_new = np.zeros(len(names), dtype=bool)
        is_new[new] = True
        rows = np.flatnonzero(is_new[indices])
        seg_of_row = np.searchsorted(np.cumsum(segments), rows, side="right")
        codes = indices[rows]
        first_seg = np.empty(len(names), dtype=np.int64)
        uniq, first_at = np.unique(codes, return_index=True)
        first_seg[uniq] = seg_of_row[first_at]
        in_first = seg_of_row == first_seg[codes]
        counts = np.bincount(codes[in_first], minlength=len(names))
        order = np.argsort(first_seg[new], kind="stable")
        new, segs = new[order], first_seg[new][order]
        for group in np.split(new, np.flatnonzero(np.diff(segs)) + 1):
            self._add_names([names[i] for i in group.tolist()], counts[group])

    # ------------------------------------------------------------------ combinations

    def _combos(self, codes: np.ndarray) -> np.ndarray:
        """Combination id of each packed code, classifying codes not seen before."""
        get = self._combo_id.get
        ids = [get(c, -1) for c in codes.tolist()]
        if -1 in ids:
            new = np.array(sorted({c for c, i in zip(codes.tolist(), ids, strict=True)
                                   if i < 0}), dtype=np.int64)
            mask = (1 << _BITS) - 1
            last = len(_EVIDENCE_FIELDS) - 1
            parts = [(new >> (_BITS * (last - j))) & mask for j in range(last + 1)]
            ev = [self._classes[f].evidence(p) for f, p in zip(_EVIDENCE_FIELDS, parts,
                                                               strict=True)]
            decided = combine_evidence(ev[1], ev[3], ev[2], ev[0], ev[4])
            start = len(self._combo["is_it"])
            for col in DECISION_COLUMNS:
                self._combo[col].extend(decided[col].tolist())
            for j, c in enumerate(new.tolist()):
                self._combo_id[c] = start + j
            self._combo_np.clear()
            self._combo_arrow.clear()
            ids = [self._combo_id[c] for c in codes.tolist()]
        return np.array(ids, dtype=np.int64)

    def _combo_column(self, col: str) -> np.ndarray:
        if col not in self._combo_np:
            dtype = bool if col == "is_it" else object
            self._combo_np[col] = np.array(self._combo[col], dtype=dtype)
        return self._combo_np[col]

    def _combo_text(self, col: str) -> pa.Array:
        if col not in self._combo_arrow:
            self._combo_arrow[col] = pa.array(self._combo[col], type=pa.string())
        return self._combo_arrow[col]

    def _own_units(self, name_ids: np.ndarray, name_idx: np.ndarray,
                   publisher: tuple[np.ndarray, list[str]]) -> np.ndarray:
        """Supplier class per row, a publisher's own units ('SCC Communities (SP)' paid by
        Surrey County Council) turned into 'the publisher itself' (`classify.is_own_body`)."""
        kclass = np.array([self._name_kclass[i] for i in name_ids.tolist()], dtype=np.int64)
        pub_idx, publishers = publisher
        if len(publishers) == 1 and not publishers[0].strip():
            return kclass[name_idx]
        pair = pub_idx.astype(np.int64) * len(name_ids) + name_idx
        codes, uniq = pd.factorize(pair, use_na_sentinel=False)
        p, j = np.divmod(uniq.astype(np.int64), len(name_ids))
        # Cheap screen first (the key's first word is the publisher's initials, or the key is
        # the publisher's name), then the exact test on the few pairs that pass.
        initials = np.array([publisher_initials(x) for x in publishers], dtype=object)
        pub_keys = np.array([_normalise_one(x) for x in publishers], dtype=object)
        ids = name_ids[j]
        first = np.array([self._name_key[i].split(" ", 1)[0] for i in ids.tolist()],
                         dtype=object)
        keys = np.array([self._name_key[i] for i in ids.tolist()], dtype=object)
        maybe = np.flatnonzero((first == initials[p]) | (keys == pub_keys[p]))
        mapped = kclass[j]
        sup = self._classes["supplier_key"]
        for u in maybe.tolist():
            if is_own_body(publishers[p[u]], keys[u]):
                mapped[u] = sup.own_body(int(mapped[u]))
        return mapped[codes]

    # ------------------------------------------------------------------ the core

    def _core(self, inputs: dict[str, tuple[np.ndarray, list[str]]], n: int,
              big: np.ndarray | None, detail: bool,
              segments: Sequence[int] | None = None) -> dict[str, pa.Array | np.ndarray]:
        """Enrichment columns from each text input's (dictionary indices, dictionary)."""
        name_idx, names = inputs["supplier_name"]
        name_ids = self._name_ids(names, name_idx, segments)
        row_kclass = self._own_units(name_ids, name_idx, inputs["publisher_name"])
        last = len(_EVIDENCE_FIELDS) - 1
        code = row_kclass << (last * _BITS)
        for j, field in enumerate(_EVIDENCE_FIELDS[1:], start=1):
            idx, values = inputs[field]
            code |= self._classes[field].ids(values)[idx] << (_BITS * (last - j))
        inverse, uniques = pd.factorize(code, use_na_sentinel=False)
        row_combo = pa.array(self._combos(uniques)[inverse] if n else np.zeros(0, np.int64))
        name_take = pa.array(name_idx)

        def per_name(values: list) -> pa.Array:
            return pc.take(pa.array([values[i] for i in name_ids.tolist()], pa.string()),
                           name_take)

        out: dict[str, pa.Array | np.ndarray] = {
            "supplier_key": per_name(self._name_key),
            "supplier_canonical": per_name(self._name_canon),
        }
        for col in _COMBO_TEXT:
            if detail or col not in _DETAIL_ONLY:
                out[col] = pc.take(self._combo_text(col), row_combo)
        combo_np = row_combo.to_numpy()
        is_it = self._combo_column("is_it")[combo_np] if n else np.zeros(0, bool)
        out["is_it"] = is_it
        if big is not None and n:
            # Reseller look-through by role and size: a large licence payment to a Microsoft
            # LSP that names no product (vendor_rule "" means nothing named and no direct vendor).
            eligible = (self._combo_column("is_it") & (self._combo_column("it_category")
                                                       == "software_licences")
                        & (self._combo_column("underlying_vendor") == "")
                        & (self._combo_column("vendor_rule") == ""))
            lsp = np.array([self._name_lsp[i] for i in name_ids.tolist()], dtype=bool)
            mask = eligible[combo_np] & lsp[name_idx] & big
            if mask.any():
                hit = pa.array(mask)
                out["underlying_vendor"] = pc.if_else(hit, MICROSOFT_LICENSING,
                                                      out["underlying_vendor"])
                if detail:
                    out["vendor_basis"] = pc.if_else(hit, "reseller_size", out["vendor_basis"])
                    out["vendor_rule"] = pc.if_else(hit, "reseller_size", out["vendor_rule"])
        if detail:
            out["cluster_evidence"] = per_name(self._name_evidence)
        return out

    # ------------------------------------------------------------------ public

    def sizes(self) -> dict[str, int]:
        """How much has been memoised: distinct names, keys, evidence classes, combinations."""
        return {
            "names": len(self._name_key),
            "keys": len(self._classes["supplier_key"].by_value),
            **{f"{f}_classes": len(c.rows) for f, c in self._classes.items()},
            "combinations": len(self._combo_id),
        }

    def enrich(self, transactions: pd.DataFrame, *, detail: bool = False) -> pd.DataFrame:
        """A copy of `transactions` with the enrichment columns added (see `enrich`)."""
        require_columns(transactions, ("supplier_name",), "enrich")
        n = len(transactions)
        inputs = {c: _encode(_pandas_text(transactions[c]) if c in transactions.columns
                             else None, n) for c in (*TEXT_INPUTS, "publisher_name")}
        other = (_pandas_text(transactions["other_text"]) if "other_text" in transactions.columns
                 else published_text(transactions))
        inputs["other_text"] = _encode(other, n)
        big = None
        if "amount_gbp" in transactions.columns:
            col = transactions["amount_gbp"]
            if isinstance(col.dtype, pd.ArrowDtype):  # e.g. the loader's decimal128
                big = _big(pa.array(col.array))
            else:
                amount = pd.to_numeric(col.astype("float64"), errors="coerce")
                big = (amount.abs() >= float(RESELLER_MICROSOFT_MIN_GBP)).to_numpy()
        cols = self._core(inputs, n, big, detail)
        index = transactions.index
        added: dict[str, pd.Series] = {}
        for name in ENRICH_COLUMNS:
            values = cols[name]
            if name == "is_it":
                added[name] = pd.Series(np.asarray(values, dtype=bool), index=index)
            else:  # pandas' default string dtype, like the loader's
                added[name] = pd.Series(values.to_pandas().array, index=index)
        if detail:
            for name in DETAIL_COLUMNS:
                added[name] = pd.Series(np.asarray(cols[name].to_pylist(), dtype=object),
                                        index=index, dtype=object)
        if transactions.columns.isin(list(added)).any() or not transactions.columns.is_unique:
            out = transactions.copy()
            for name, values in added.items():
                out[name] = values
            return out
        # One concat instead of a column insert per new column (each insert is costly).
        return pd.concat([transactions, pd.DataFrame(added, index=index)], axis=1)

    def enrich_arrow(self, table: pa.Table, *,
                     segments: Sequence[int] | None = None) -> pa.Table:
        """`table` with the ENRICHMENT_FIELDS columns appended (Arrow types of the field list).

        Needs `supplier_name`; `expense_type`, `service_area`, `description`, `amount_gbp`
        (any type castable to float64, e.g. decimal128), `publisher_name` and `other_text` are
        used when present; without `other_text`, the table's columns outside the canonical
        ones are read for it (`published_text`). Nulls count as empty strings. Columns already present under an enrichment name are replaced.
        `segments` (row counts adding up to the table's) gives the same result as one call per
        segment in turn, concatenated, at the cost of one call: ingest enriches many files'
        rows at once that way.
        """
        if segments is not None and sum(segments) != table.num_rows:
            raise InputError(f"enrich_arrow: segments add up to {sum(segments)}, "
                                   f"expected the table's {table.num_rows} rows")
        if "supplier_name" not in table.column_names:
            raise InputError(
                f"enrich_arrow: column 'supplier_name' missing; got {table.column_names}"
            )
        n = table.num_rows
        inputs = {c: _encode(table.column(c) if c in table.column_names else None, n)
                  for c in (*TEXT_INPUTS, "publisher_name")}
        other = (table.column("other_text") if "other_text" in table.column_names
                 else published_text(table))
        inputs["other_text"] = _encode(other, n)
        big = None
        if "amount_gbp" in table.column_names:
            big = _big(table.column("amount_gbp"))
        cols = self._core(inputs, n, big, detail=False, segments=segments)
        for name in ENRICH_COLUMNS:
            values = cols[name]
            arr = pa.array(values, pa.bool_()) if name == "is_it" else values
            i = table.schema.get_field_index(name)
            table = (table.set_column(i, name, arr) if i >= 0
                     else table.append_column(name, arr))
        return table


#: Columns never read as other published text: the canonical and enrichment columns, the
#: classifier's own input, and what ingest, labelling or detail output add.
_NOT_PUBLISHED = frozenset({*TRANSACTION_COLUMNS, *(f.name for f in ENRICHMENT_FIELDS),
                            *DETAIL_COLUMNS, "other_text", "row_fingerprint", "financial_year",
                            "stratum", "weight"})
_WORD = r"[A-Za-z]{3}"
#: Extra columns named like a cost centre or division (`service_division`, a purchase-card
#: file's `trans_cac_desc_2`, 'Cost Centre Description'): their text says which department
#: bought, as `service_area` does. Other extra columns (a supplier's procurement category,
#: a merchant category) count only as support: Trafford's 2026 file files insurers and
#: payment bureaux under ProClass 'ICT : Services'.
_DIVISION_COLUMN = re.compile(
    r"(?i)(servic|divis|depart|direct|cost|cac|(^|_)cc(_|$)|unit|team|section|budget|area"
    r"|portfolio|function|responsib|(^|_)org)")


def published_text(table: pa.Table | pd.DataFrame) -> pa.Array:
    """Each row's published text outside the canonical columns, for the classifier.

    A loaded table keeps every published column the loader could not map to a canonical one
    (a cost-centre description, a ProClass procurement category, a service division…): they
    are evidence too (issue 21: 'Mainframe Associated Costs' sat in such a column). Columns
    whose values are mostly identifiers, numbers, dates or URLs are skipped, as are values
    with no word of three letters. Returns one string per row: the kept values joined by
    `OTHER_TEXT_SEPARATOR` in the order of the column names ("" when none): the order the
    columns were published in does not matter, so ingest (which keeps them as a map, names
    sorted) and a loaded table give the same text. Ingest passes this as the `other_text`
    column of `Enricher.enrich_arrow`, computed per file.
    """
    if isinstance(table, pd.DataFrame):
        names = sorted(c for c in table.columns if isinstance(c, str) and c not in _NOT_PUBLISHED)
        cols = {c: _pandas_text(table[c]) for c in names
                if table[c].dtype == object
                or isinstance(table[c].dtype, (pd.StringDtype, pd.CategoricalDtype))}
        n = len(table)
    else:
        n = table.num_rows
        cols = {c: table.column(c) for c in sorted(table.column_names)
                if c not in _NOT_PUBLISHED}
    # Per kept column: each row's index into that column's kept values (-1: none).
    kept: list[tuple[np.ndarray, list]] = []
    for name, col in cols.items():
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        enc = pc.dictionary_encode(col)
        values = enc.dictionary
        if not len(values):
            continue
        text = pc.and_(pc.match_substring_regex(values, _WORD),
                       pc.invert(pc.match_substring_regex(values, r"^\s*(?i:https?:|www\.)")))
        nonblank = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0)
        n_text = pc.sum(text).as_py() or 0
        if n_text * 2 < (pc.sum(nonblank).as_py() or 0):
            continue  # mostly identifiers, amounts or dates: not text
        is_text = np.asarray(text.to_numpy(zero_copy_only=False), dtype=bool)
        idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        idx = np.where(idx >= 0, np.where(is_text[np.maximum(idx, 0)], idx, -1), -1)
        mark = DIVISION_MARK if _DIVISION_COLUMN.search(name) else ""
        kept.append((idx, [mark + v if v is not None else v for v in values.to_pylist()]))
    if not kept or not n:
        return pa.array([""] * n, type=pa.string())
    # Join each distinct combination of kept values once, then spread to the rows.
    combo = np.zeros(n, dtype=np.int64)
    for idx, _values in kept:
        combo, _ = pd.factorize(combo * (int(idx.max()) + 2) + idx + 1)
    first = np.unique(combo, return_index=True)[1]
    texts = [OTHER_TEXT_SEPARATOR.join(v[i] for i, v in ((int(ix[r]), vs) for ix, vs in kept)
                                       if i >= 0) for r in first.tolist()]
    return pc.take(pa.array(texts, type=pa.string()), pa.array(combo))


def _big(amount: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """|amount| >= RESELLER_MICROSOFT_MIN_GBP per row (False where missing)."""
    hit = pc.greater_equal(pc.abs(pc.cast(amount, pa.float64())),
                           float(RESELLER_MICROSOFT_MIN_GBP))
    return np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)


def _pandas_text(col: pd.Series) -> pa.Array:
    """A pandas text column as an Arrow string array (nulls kept; `_encode` fills them)."""
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        return pa.array(col.array)  # the Arrow data pandas already holds
    values = col.astype(object).where(col.notna(), None)
    return pa.array([v if v is None or isinstance(v, str) else str(v) for v in values],
                    type=pa.string())


def _encode(col: pa.Array | pa.ChunkedArray | None, n: int) -> tuple[np.ndarray, list[str]]:
    """(dictionary indices, dictionary) of a text column, nulls as ""; a missing one is "".

    A dictionary-encoded column whose dictionary is distinct strings, all used, and which has
    no nulls is taken as it is (ingest encodes each column once for several purposes).
    """
    if col is None:
        return np.zeros(n, dtype=np.int64), [""]
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if pa.types.is_dictionary(col.type):
        if _usable_dictionary(col):
            return col.indices.to_numpy(zero_copy_only=False), col.dictionary.to_pylist()
        col = col.cast(col.type.value_type)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = col.cast(pa.string())
    enc = pc.dictionary_encode(pc.fill_null(col, "") if col.null_count else col)
    return enc.indices.to_numpy(zero_copy_only=False), enc.dictionary.to_pylist()


def _usable_dictionary(col: pa.DictionaryArray) -> bool:
    """Is an encoded column what `_encode` would make of it (bar the order of values)?"""
    values = col.dictionary
    if col.null_count or values.null_count or not pa.types.is_string(values.type):
        return False
    if pc.count_distinct(values).as_py() != len(values):
        return False
    used = np.bincount(col.indices.to_numpy(zero_copy_only=False), minlength=len(values))
    return bool(used.all())


def enrich(transactions: pd.DataFrame, *, detail: bool = False) -> pd.DataFrame:
    """Add supplier keys, canonical names, roles and the IT classification to a copy.

    Needs `supplier_name`; `expense_type`, `service_area`, `description` and `amount_gbp` are
    used when present. With `detail=True` also adds vendor_basis (why underlying_vendor:
    description, expense_type, supplier or reseller_size), vendor_rule (the product rule,
    supplier reference or "reseller_size" behind it), it_rule (the deciding rule) and
    cluster_evidence. underlying_vendor "Microsoft" means Microsoft licensing; Azure
    consumption through Microsoft or a Microsoft reseller is "Microsoft Azure". One-off: to enrich many tables (one per
    file) make one `Enricher` and call its `enrich` or `enrich_arrow` for each.
    """
    return Enricher().enrich(transactions, detail=detail)
