"""Enricher: memoised, incremental enrichment equals one-off `enrich`; the Arrow entry point."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.enrich import Enricher, enrich
from spendkit.errors import InputError
from spendkit.schema import ENRICHMENT_FIELDS
from spendkit.units.money import AMOUNT_TYPE

AMOUNT = pd.ArrowDtype(AMOUNT_TYPE)
#: Columns that do not depend on clustering order, so chunked must equal whole.
STABLE = ["supplier_key", "supplier_role", "is_it", "it_category", "it_basis", "it_confidence",
          "underlying_vendor"]
ROWS = [
    ("Bytes Software Services Ltd", "", "AAD - ICT", "Annual Renewal of Microsoft Licences",
     "65965.65"),
    ("Computacenter (UK) Ltd", "Rents", "", "", "12000.00"),
    ("Phoenix Software Ltd", "Professional & advisory services", "", "", "250000.00"),
    ("Phoenix Software Ltd", "Professional & advisory services", "", "", "9999.99"),
    ("PHOENIX FUTURES", "ICT : Software", "", "", "900.00"),
    ("Oracle Care Ltd", "Residential", "", "", "5000.00"),
    ("Microsoft Ireland Operations Ltd", "Supplies & services", "", "", "-100.00"),
    ("", "Agency staff", "", "", "50.00"),
    ("Softcat Ltd", "", "AAD - ICT", "V2 Nutanix Software Subscription", "52586.50"),
    ("Facultatieve Technologies Ltd", "Computer Software & Equipment", "", "", "700.00"),
    ("Facultative Technologies", "Computer Software & Equipment", "", "", "710.00"),
    ("Facultative Technologies", "Computer Software & Equipment", "", "", "720.00"),
    ("FACULTATIVE TECHNOLOGIES LTD", "Telephones", "ICT", "", "730.00"),
    ("Kent County Council", "Grants", "", "", "100.00"),
    ("Gwent County Council", "Grants", "", "", "100.00"),
    ("Tesco", "Food", "", "", "30.00"),
    ("BT PLC", "Telephones", "", "", "10.00"),
    ("Idox Software Ltd", "DEV CONTROL SYSTEM", "", "", "20.00"),
]


def table(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["supplier_name", "expense_type", "service_area",
                                     "description", "amount_gbp"])
    df["amount_gbp"] = pd.Series([Decimal(a) for a in df["amount_gbp"]], dtype=AMOUNT)
    return df


def chunked(df: pd.DataFrame, cuts: list[int], enricher: Enricher | None = None) -> pd.DataFrame:
    e = enricher or Enricher()
    bounds = [0, *sorted(set(cuts)), len(df)]
    parts = [e.enrich(df.iloc[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return pd.concat(parts)


def test_fresh_enricher_equals_enrich_including_detail() -> None:
    df = table(ROWS)
    pd.testing.assert_frame_equal(Enricher().enrich(df, detail=True), enrich(df, detail=True))


def test_chunks_equal_whole_table() -> None:
    df = table(ROWS)
    whole = enrich(df)
    parts = chunked(df, [3, 10, 11])
    pd.testing.assert_frame_equal(parts[STABLE], whole[STABLE])
    assert whole["underlying_vendor"].tolist()[:4] == ["Microsoft", "", "Microsoft", ""]
    # Reference names and single-spelling suppliers keep the same canonical in any order.
    same = ~df["supplier_name"].str.contains("acultat", case=False)
    assert parts.loc[same, "supplier_canonical"].tolist() == (
        whole.loc[same, "supplier_canonical"].tolist())


def test_canonical_is_stable_across_calls() -> None:
    df = table(ROWS)
    whole = enrich(df).set_index("supplier_name")["supplier_canonical"]
    # Whole table: the most-used spelling wins.
    assert whole["Facultatieve Technologies Ltd"] == "Facultative Technologies"
    e = Enricher()
    first = e.enrich(df.iloc[9:10])
    later = e.enrich(df.iloc[10:13])
    # Chunked: the spelling seen first keeps its canonical and later variants join it.
    assert first["supplier_canonical"].tolist() == ["Facultatieve Technologies Ltd"]
    assert later["supplier_canonical"].tolist() == ["Facultatieve Technologies Ltd"] * 3
    assert "FACULTATIEVE TECHNOLOGIES" in e.enrich(df.iloc[10:11], detail=True)[
        "cluster_evidence"].iloc[0]
    # Guards still hold against names seen earlier.
    kg = e.enrich(df.iloc[13:15])
    assert kg["supplier_canonical"].tolist() == ["Kent County Council", "Gwent County Council"]


def test_seen_values_are_looked_up_not_reclassified() -> None:
    df = table(ROWS)
    e = Enricher()
    a = e.enrich(df)
    before = e.sizes()
    assert before["names"] == df["supplier_name"].nunique()
    b = e.enrich(df.iloc[::-1])
    assert e.sizes() == before
    pd.testing.assert_frame_equal(b.iloc[::-1], a)


def test_enrich_arrow_equals_enrich_with_arrow_types() -> None:
    df = table(ROWS)
    tab = pa.table({
        "supplier_name": pa.array([r[0] for r in ROWS] + [None], pa.string()),
        "expense_type": pa.array([r[1] for r in ROWS] + ["Telephones"], pa.string()),
        "service_area": pa.array([r[2] for r in ROWS] + [None], pa.string()),
        "description": pa.array([r[3] for r in ROWS] + [None], pa.string()),
        "amount_gbp": pa.array([Decimal(r[4]) for r in ROWS] + [None], AMOUNT_TYPE),
    })
    got = Enricher().enrich_arrow(tab)
    assert got.column_names[:5] == tab.column_names
    for f in ENRICHMENT_FIELDS:
        assert got.schema.field(f.name).type == f.type, f.name
    with_null = pd.concat([df, table([("", "Telephones", "", "", "0")])], ignore_index=True)
    want = enrich(with_null)
    for f in ENRICHMENT_FIELDS:
        assert got.column(f.name).to_pylist() == want[f.name].tolist(), f.name
    # A missing supplier is "" and the expense label still decides.
    assert got.column("supplier_key").to_pylist()[-1] == ""
    assert got.column("it_category").to_pylist()[-1] == "telecoms_network"


def test_enrich_arrow_empty_and_missing_columns() -> None:
    got = Enricher().enrich_arrow(pa.table({"supplier_name": pa.array(["BT PLC"], pa.string())}))
    assert got.column("supplier_role").to_pylist() == ["telecoms"]
    assert got.column("is_it").to_pylist() == [True]
    empty = Enricher().enrich_arrow(pa.table({"supplier_name": pa.array([], pa.string())}))
    assert empty.num_rows == 0 and empty.schema.field("is_it").type == pa.bool_()
    with pytest.raises(InputError, match="supplier_name"):
        Enricher().enrich_arrow(pa.table({"amount_gbp": pa.array([1])}))


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(ROWS) - 1), max_size=5),
       st.permutations(range(len(ROWS))))
def test_any_chunking_and_order_gives_the_same_classification(cuts: list[int],
                                                              order: list[int]) -> None:
    df = table([ROWS[i] for i in order])
    pd.testing.assert_frame_equal(chunked(df, cuts)[STABLE], enrich(df)[STABLE])
