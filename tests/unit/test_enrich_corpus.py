"""Corpus evidence: accumulate per batch, finish into a table with its support, apply."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from spendkit.enrich import Enricher, enrich
from spendkit.enrich.corpus import (
    EVIDENCE_TABLE_COLUMNS,
    CorpusEvidence,
    apply_corpus_evidence,
)
from spendkit.errors import InputError
from spendkit.units.money import AMOUNT_TYPE


def batch(publisher: str, *data: tuple[str, str, str]) -> pd.DataFrame:
    """Enriched rows of one publisher: (supplier_name, expense_type, description)."""
    df = pd.DataFrame(list(data), columns=["supplier_name", "expense_type", "description"])
    df["publisher_name"] = publisher
    df["amount_gbp"] = pd.Series([Decimal("500.00")] * len(df), dtype=pd.ArrowDtype(AMOUNT_TYPE))
    return enrich(df)


def corpus_of(*batches: pd.DataFrame, **kw) -> pd.DataFrame:
    c = CorpusEvidence(**kw)
    for b in batches:
        c.add(b)
    return c.finish()


A = batch("A Council", ("Zeta Digital Ltd", "ICT : Software", ""),
          ("Zeta Digital Ltd", "Computer Software", ""),
          ("PHOENIX FUTURES", "ICT : Software", ""),  # a trap: never carried
          ("Leeds City Council", "ICT Recharges", ""),  # a public body: never carried
          ("Capita Business Services Ltd", "ICT : Software", ""),  # partly IT: never carried
          ("Mixed Trading Ltd", "ICT : Software", ""),
          ("Solo Systems Ltd", "Software Licences", ""))
B = batch("B Council", ("ZETA DIGITAL LIMITED", "IT Hardware", ""),
          ("PHOENIX FUTURES", "Computer Software", ""),
          ("Leeds City Council", "Computer Hardware", ""),
          ("Capita Business Services Ltd", "Software Maintenance", ""),
          ("Mixed Trading Ltd", "Computer Software", ""),
          ("Mixed Trading Ltd", "Residential Care", ""),
          ("Mixed Trading Ltd", "Building Works", ""))


def test_a_supplier_it_on_strong_evidence_in_two_publishers_qualifies_with_support() -> None:
    ev = corpus_of(A, B)
    assert list(ev.columns) == list(EVIDENCE_TABLE_COLUMNS)
    assert ev["supplier_key"].tolist() == ["ZETA DIGITAL"]
    row = ev.iloc[0]
    assert (row["publishers_it"], row["rows_it"], row["rows_not_it"]) == (2, 3, 0)
    assert row["it_category"] == "software_licences"  # 2 of its 3 strong rows
    assert "2 publishers" in row["support"] and "3 payments" in row["support"]


def test_guards_single_publisher_mixed_share_traps_public_bodies_and_partly_it() -> None:
    ev = corpus_of(A, B).set_index("supplier_key")
    assert "SOLO SYSTEMS" not in ev.index  # one publisher only
    assert "MIXED TRADING" not in ev.index  # 2 IT of 4 with evidence: below 80%
    assert "PHOENIX FUTURES" not in ev.index
    assert "LEEDS CITY COUNCIL" not in ev.index
    assert "CAPITA BUSINESS SERVICES" not in ev.index
    relaxed = corpus_of(A, B, min_share=0.5).set_index("supplier_key")
    assert "MIXED TRADING" in relaxed.index
    one = corpus_of(A, B, min_publishers=1)["supplier_key"].tolist()
    assert one == ["SOLO SYSTEMS", "ZETA DIGITAL"]


def test_rows_decided_by_the_register_or_a_cost_centre_are_not_strong_evidence() -> None:
    c = batch("C Council", ("Zeta Digital Ltd", "", ""))  # no evidence at all
    d = pd.DataFrame({"supplier_name": ["Zeta Digital Ltd"], "service_area": ["ICT"],
                      "publisher_name": ["D Council"]})
    ev = corpus_of(A, c, enrich(d))
    assert ev.empty and list(ev.columns) == list(EVIDENCE_TABLE_COLUMNS)


def test_evidence_carries_to_a_file_that_lacks_it_and_shows_in_the_basis() -> None:
    ev = corpus_of(A, B)
    c = batch("C Council", ("Zeta Digital Ltd", "Other costs", ""),
              ("Zeta Digital Ltd", "Residential Care", ""),  # a weak not-IT label: still IT
              ("Zeta Digital Ltd", "Training", ""),  # a blocking label outweighs it
              ("Zeta Digital Ltd", "Other costs", "CCTV maintenance"),
              ("Acme Ltd", "Other costs", ""))
    assert c["is_it"].tolist() == [False] * 5
    out = apply_corpus_evidence(c, ev)
    assert out["is_it"].tolist() == [True, True, False, False, False]
    assert out["it_basis"].tolist()[:2] == ["corpus", "corpus"]
    assert out["it_category"].tolist()[:2] == ["software_licences"] * 2
    assert out["it_confidence"].tolist()[:2] == ["low", "low"]
    # Only the verdict columns change; keys and canonical names stay.
    pd.testing.assert_series_equal(out["supplier_canonical"], c["supplier_canonical"])
    # The Arrow path gives the same, and so does an Enricher given the evidence.
    arrow = apply_corpus_evidence(pa.Table.from_pandas(c, preserve_index=False), ev)
    assert arrow.column("is_it").to_pylist() == out["is_it"].tolist()
    assert arrow.column("it_basis").to_pylist() == out["it_basis"].tolist()
    direct = Enricher(corpus=ev).enrich(c[["supplier_name", "expense_type", "description",
                                           "publisher_name", "amount_gbp"]])
    assert direct["is_it"].tolist() == out["is_it"].tolist()


def test_batches_accumulate_like_one_table() -> None:
    whole = CorpusEvidence()
    whole.add(pd.concat([A, B], ignore_index=True))
    pd.testing.assert_frame_equal(whole.finish(), corpus_of(A, B))
    arrow = CorpusEvidence()
    arrow.add(pa.Table.from_pandas(A, preserve_index=False))
    arrow.add(pa.Table.from_pandas(B, preserve_index=False))
    pd.testing.assert_frame_equal(arrow.finish(), corpus_of(A, B))


def test_bad_inputs_are_named() -> None:
    with pytest.raises(InputError, match="min_share"):
        CorpusEvidence(min_share=0)
    with pytest.raises(InputError, match="it_basis"):
        CorpusEvidence().add(pd.DataFrame({"supplier_key": ["X"]}))
    assert apply_corpus_evidence(A, corpus_of()).equals(A)
