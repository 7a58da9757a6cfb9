"""Corpus evidence: a supplier that is IT on strong evidence in many publishers' files.

One council books its reseller under 'ICT : Software'; another pays the same reseller under
'Other Costs' with no description. The second file has no evidence, but the corpus does. This
module finds such suppliers across an ingested dataset and lets their evidence count (+2
points, kind "corpus" in `it_basis`) where a row's own evidence is silent or weak.

How it is used (ingest, after its batches):

    corpus = CorpusEvidence()
    for batch in enriched_batches:          # pyarrow Tables or DataFrames, enriched
        corpus.add(batch)
    evidence = corpus.finish()              # one row per supplier key, with its support
    table = apply_corpus_evidence(table, evidence)   # re-decide the rows it concerns

A supplier qualifies when its rows are IT on strong evidence (the deciding evidence is the
expense type or the description: not the supplier register, a cost centre or corpus evidence
itself) in at least `min_publishers` publishers, and at least `min_share` of its rows with
evidence either way are IT. Guards against the known traps: register traps and known non-IT
organisations (Phoenix Futures, Oracle Care, Northgate Vehicle Hire, BT Redcare…) never
qualify, nor redacted or placeholder payees, nor multi-purpose payees whose IT payments say
nothing about their other invoices: suppliers the register calls partly IT (Capita Business
Services, Amazon, Serco) and public bodies (councils, NHS trusts, police, universities).
Evidence is by exact supplier key, so 'PHOENIX FUTURES' never borrows from 'PHOENIX SOFTWARE'.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.enrich.pipeline import ENRICH_COLUMNS, Enricher
from spendkit.enrich.suppliers import match_reference
from spendkit.errors import InputError
from spendkit.schema import require_columns

#: Columns of `CorpusEvidence.finish()`.
EVIDENCE_TABLE_COLUMNS = ("supplier_key", "it_category", "publishers_it", "rows_it",
                          "rows_not_it", "it_share", "support")
#: The deciding evidence that counts as strong (the first kind in `it_basis`).
STRONG_IT = ("expense_type", "description")
#: Not-IT evidence that counts against a supplier (labels, weak or blocking, and narratives).
STRONG_NOT_IT = ("expense_type (not IT)", "description (not IT)")
#: Payees whose IT payments say nothing about their other invoices, or that are no payee.
MULTI_PURPOSE = re.compile(
    r"\b(?:COUNCIL|COUNTY|BOROUGH|NHS|HEALTH|TRUST|UNIVERSITY|COLLEGE|SCHOOL|ACADEMY|POLICE"
    r"|CONSTABULARY|FIRE AND RESCUE|GOVERNMENT|DEPARTMENT|MINISTRY|HM REVENUE|CABINET OFFICE"
    r"|HOME OFFICE|AMAZON|AMZN|EBAY|PAYPAL|REDACTED|WITHHELD|THIRD PARTY|VARIOUS|SUNDRY"
    r"|MISCELLANEOUS|PERSONAL DATA|CONFIDENTIAL|PRIVATE INDIVIDUAL)\b")


class CorpusEvidence:
    """Accumulate enriched batches, then `finish` into the corpus evidence table."""

    def __init__(self, *, min_publishers: int = 2, min_share: float = 0.8) -> None:
        if min_publishers < 1 or not 0 < min_share <= 1:
            raise InputError(f"CorpusEvidence: min_publishers must be at least 1 and min_share "
                             f"in (0, 1]; got {min_publishers}, {min_share}")
        self.min_publishers = min_publishers
        self.min_share = min_share
        self._parts: list[pd.DataFrame] = []

    def add(self, enriched: pa.Table | pd.DataFrame) -> None:
        """Count one enriched batch (needs publisher_name, supplier_key, is_it, it_basis,
        it_category; is_redacted is used when present). Only counts are kept."""
        need = ("publisher_name", "supplier_key", "is_it", "it_basis", "it_category")
        require_columns(enriched, need, "CorpusEvidence.add")
        table = (pa.Table.from_pandas(enriched[[c for c in (*need, "is_redacted")
                                                if c in enriched.columns]],
                                      preserve_index=False)
                 if isinstance(enriched, pd.DataFrame) else enriched)
        if not table.num_rows:
            return
        basis = pc.fill_null(table.column("it_basis").cast(pa.string()), "")
        primary = pc.list_element(pc.split_pattern(basis, "+"), 0)
        is_it = pc.fill_null(table.column("is_it"), False)
        strong_it = pc.and_(is_it, pc.is_in(primary, pa.array(STRONG_IT)))
        strong_not = pc.and_(pc.invert(is_it), pc.is_in(basis, pa.array(STRONG_NOT_IT)))
        keep = pc.or_(strong_it, strong_not)
        if "is_redacted" in table.column_names:
            keep = pc.and_(keep, pc.invert(pc.fill_null(table.column("is_redacted"), False)))
        sub = pa.table({
            "supplier_key": pc.fill_null(table.column("supplier_key").cast(pa.string()), ""),
            "publisher_name": pc.fill_null(table.column("publisher_name").cast(pa.string()), ""),
            "it_category": pc.fill_null(table.column("it_category").cast(pa.string()), ""),
            "it": strong_it,
        }).filter(keep)
        if not sub.num_rows:
            return
        counts = sub.group_by(["supplier_key", "publisher_name", "it", "it_category"]).aggregate(
            [("it", "count")]).to_pandas()
        self._parts.append(counts.rename(columns={"it_count": "rows"}))

    def finish(self) -> pd.DataFrame:
        """The evidence table: one row per qualifying supplier key (EVIDENCE_TABLE_COLUMNS),
        sorted by key. `support` says what the evidence rests on."""
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype=object if c in ("supplier_key",
                                 "it_category", "support") else "float64")
                                 for c in EVIDENCE_TABLE_COLUMNS})
        df = pd.concat(self._parts, ignore_index=True)
        df = df[df["supplier_key"].str.strip() != ""]
        df = df.groupby(["supplier_key", "publisher_name", "it", "it_category"],
                        as_index=False)["rows"].sum()
        it = df[df["it"]]
        per_key = pd.DataFrame({
            "publishers_it": it.groupby("supplier_key")["publisher_name"].nunique(),
            "rows_it": it.groupby("supplier_key")["rows"].sum(),
        })
        per_key["rows_not_it"] = df[~df["it"]].groupby("supplier_key")["rows"].sum()
        per_key = per_key.fillna({"rows_not_it": 0}).fillna(0)
        per_key["it_share"] = per_key["rows_it"] / (per_key["rows_it"] + per_key["rows_not_it"])
        ok = (per_key["publishers_it"] >= self.min_publishers) & (
            per_key["it_share"] >= self.min_share)
        per_key = per_key[ok]
        keys = per_key.index.to_series()
        ref = match_reference(keys.reset_index(drop=True)).set_index("supplier_key")
        guarded = (ref.reindex(keys)["ref_is_it"].isin(["false", "unlikely", "partial"]).to_numpy()
                   | np.array([MULTI_PURPOSE.search(k) is not None for k in keys], dtype=bool))
        per_key = per_key[~guarded]
        # Category: the most frequent among the strong IT rows (ties: alphabetical).
        cats = (it[it["supplier_key"].isin(per_key.index)]
                .groupby(["supplier_key", "it_category"], as_index=False)["rows"].sum()
                .sort_values(["supplier_key", "rows", "it_category"],
                             ascending=[True, False, True], kind="stable")
                .drop_duplicates("supplier_key").set_index("supplier_key")["it_category"])
        out = per_key.assign(it_category=cats.reindex(per_key.index)).reset_index(
            names="supplier_key")
        for c in ("publishers_it", "rows_it", "rows_not_it"):
            out[c] = out[c].astype("int64")
        out["support"] = [
            f"IT on expense-type or description evidence in {p} publishers' files ({r} "
            f"payments; {n} with not-IT evidence)"
            for p, r, n in zip(out["publishers_it"], out["rows_it"], out["rows_not_it"],
                               strict=True)]
        return out[list(EVIDENCE_TABLE_COLUMNS)].sort_values(
            "supplier_key", kind="stable").reset_index(drop=True)


def apply_corpus_evidence(table: pa.Table | pd.DataFrame, evidence: pd.DataFrame
                          ) -> pa.Table | pd.DataFrame:
    """Re-decide the not-IT rows of suppliers in `evidence`, with corpus evidence weighed in.

    `table` is an enriched table (Arrow or pandas) with the classifier's inputs
    (supplier_name, and expense_type, service_area, description, publisher_name, other_text
    when present) and supplier_key. Only those rows change, and only their is_it,
    it_category, it_basis, it_confidence and underlying_vendor (supplier keys and canonical
    names stay); `it_basis` then includes "corpus". Returns the same type.
    """
    require_columns(table, ("supplier_name", "supplier_key", "is_it"), "apply_corpus_evidence")
    require_columns(evidence, ("supplier_key", "it_category"), "apply_corpus_evidence evidence")
    as_pandas = isinstance(table, pd.DataFrame)
    arrow = pa.Table.from_pandas(table, preserve_index=False) if as_pandas else table
    if not len(evidence) or not arrow.num_rows:
        return table
    keys = pa.array(evidence["supplier_key"].astype(str).tolist(), pa.string())
    mask = pc.and_(pc.is_in(pc.fill_null(arrow.column("supplier_key").cast(pa.string()), ""),
                            keys),
                   pc.invert(pc.fill_null(arrow.column("is_it"), False)))
    rows = np.flatnonzero(np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool))
    if not len(rows):
        return table
    inputs = [c for c in ("supplier_name", "expense_type", "service_area", "description",
                          "publisher_name", "other_text", "amount_gbp")
              if c in arrow.column_names]
    sub = arrow.select(inputs).take(pa.array(rows))
    if "other_text" not in sub.column_names:
        sub = sub.append_column("other_text", pa.array([""] * sub.num_rows, pa.string()))
    decided = Enricher(corpus=evidence).enrich_arrow(sub)
    changed = [c for c in ENRICH_COLUMNS
               if c not in ("supplier_key", "supplier_canonical", "supplier_role")]
    if as_pandas:
        out = table.copy()
        pos = out.index[rows]
        for c in changed:
            values = decided.column(c).to_pandas()
            out.loc[pos, c] = values.to_numpy() if c == "is_it" else values.to_numpy(object)
        return out
    # Each changed column: its values, then the re-decided ones, taken back into row order
    # (whole columns: ingest applies this to every row group it writes).
    order = np.arange(arrow.num_rows, dtype=np.int64)
    order[rows] = arrow.num_rows + np.arange(len(rows), dtype=np.int64)
    order = pa.array(order)
    for c in changed:
        kind = arrow.schema.field(c).type
        before = arrow.column(c)
        if pa.types.is_dictionary(kind):
            before = before.cast(kind.value_type)
        merged = pa.chunked_array(before.chunks + decided.column(c).cast(before.type).chunks,
                                  before.type)
        arr = merged.take(order).cast(kind)
        arrow = arrow.set_column(arrow.schema.get_field_index(c), c, arr)
    return arrow
