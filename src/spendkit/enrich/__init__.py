"""Enrichment: supplier keys and clusters, reseller look-through, and IT classification.

Contract (others code against these names):

- `enrich(transactions) -> DataFrame`: a copy of a loaded transactions table with the columns of
  `spendkit.schema.ENRICHMENT_FIELDS` added: supplier_key, supplier_canonical, supplier_role,
  is_it, it_category, it_basis, it_confidence, underlying_vendor. Works on distinct values and
  distinct (supplier_key, expense_type, service_area, description) combinations, mapped back.
  underlying_vendor is "Microsoft" for Microsoft licensing only (named M365/EA/E3…, a direct
  Microsoft payment, or a large unnamed licence payment to a Microsoft LSP); Azure consumption
  paid to Microsoft or a Microsoft reseller is "Microsoft Azure"; a payment naming another
  product (Mimecast, Nutanix, Sophos…) gets that vendor even through a reseller; Azure hosting
  billed by a service provider (Civica) gets "". `enrich(df, detail=True)` adds vendor_basis
  and vendor_rule saying why.
- IT is decided by weighing the evidence of each kind (points per kind in
  `package_data/enrich/evidence_weights.csv`; IT at 2): expense type, supplier (register,
  name, known non-IT organisations, the publisher's own units), description, service area,
  the row's other published columns (`other_text`) and corpus evidence, so no single generic
  or miscoded field decides against the rest; negated IT phrases ('exc. IT') say not IT.
- `it_basis` is the evidence that decided, for IT and not-IT payments alike:
  - IT: the kinds that added points, most first, joined by '+', from expense_type, supplier,
    description, service_area, other_columns, corpus (e.g. "expense_type+supplier");
  - not IT on evidence: "supplier (not IT)" (a name trap such as Phoenix Futures, or a
    non-IT organisation or trade outweighing a generic IT code), "expense_type (not IT)" (a
    not-IT label: 'Residential Care', 'NOT ICT', 'Training', vehicle licences…),
    "description (not IT)" (CCTV, click charges, DBS checks, interpreting…) or the like;
  - "": no evidence either way (counted as not IT).
  So "classified" means `is_it` or a non-empty `it_basis`. Labels with `blocks_it` false in
  `expense_labels.csv` only record not-IT evidence: they never change the verdict.
- `Enricher()`: the same, for many tables (one per file): rules loaded once, supplier names,
  per-field evidence and classified combinations memoised across calls, canonical names
  stable across calls. `Enricher().enrich(df)` equals `enrich(df)`; `enrich_arrow(table)`
  appends the columns to a pyarrow Table with their Arrow types (what ingest uses).
- `published_text(table) -> pa.Array`: each row's published text outside the canonical
  columns (a loaded table's extra columns), the `other_text` input ingest passes to
  `Enricher.enrich_arrow`; `enrich(df)` builds it itself.
- `CorpusEvidence` (`add` enriched batches, `finish` -> evidence table with support) and
  `apply_corpus_evidence(table, evidence)`: suppliers IT on strong evidence in several
  publishers' files carry it to files that lack it (`spendkit.enrich.corpus`).
- `normalise_supplier(names) -> Series` of keys; `cluster_suppliers(names) -> DataFrame` of
  name -> key -> canonical with the evidence for each merge.
- `classify_it(combos) -> DataFrame`: the classifier on distinct combinations, with the
  deciding rule and the vendor's basis as extra columns.
- `coverage_report(enriched, by=("publisher_name", "financial_year")) -> DataFrame`: per
  publisher and UK financial year, total and IT spend, the share of IT spend decided by each
  kind of evidence, the shares of IT spend corroborated by two kinds and decided with low
  confidence, the shares of spend classified (IT or not IT on evidence), with no evidence,
  and redacted (cannot be classified by supplier), and the largest suppliers with no
  evidence.
- `labelling_sample(enriched, n_it=150, n_not_it=300, seed=0) -> DataFrame` and
  `estimate_accuracy(truth, predicted, strata, weights, amounts=None) -> AccuracyEstimate`:
  draw a stratified sample of your own rows to label by hand (blind to the classifier, rules
  in docs/labelling-guide.md), then estimate precision, recall and the share of IT money
  found over the whole table, with intervals, from any strata (`spendkit.enrich.accuracy`).

The rules are package data (`package_data/enrich/it_rules.csv`, `expense_labels.csv`,
`suppliers.csv`, `evidence_weights.csv`, `it_taxonomy.csv`), each row with its source.
"""

from __future__ import annotations

from spendkit.enrich.accuracy import AccuracyEstimate, estimate_accuracy, labelling_sample
from spendkit.enrich.classify import classify_it, load_rules, load_taxonomy
from spendkit.enrich.corpus import CorpusEvidence, apply_corpus_evidence
from spendkit.enrich.coverage import coverage_report
from spendkit.enrich.pipeline import Enricher, enrich, published_text
from spendkit.enrich.suppliers import cluster_suppliers, normalise_supplier

__all__ = [
    "AccuracyEstimate",
    "CorpusEvidence",
    "Enricher",
    "apply_corpus_evidence",
    "classify_it",
    "cluster_suppliers",
    "coverage_report",
    "enrich",
    "estimate_accuracy",
    "labelling_sample",
    "load_rules",
    "load_taxonomy",
    "normalise_supplier",
    "published_text",
]
