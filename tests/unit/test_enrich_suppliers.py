"""Supplier keys, clustering guards and the supplier reference table."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from spendkit.enrich import cluster_suppliers, normalise_supplier
from spendkit.enrich.suppliers import load_supplier_reference, match_reference


def test_normalise_suffixes_case_punctuation() -> None:
    names = pd.Series([
        "Capita  Business Services Ltd", "CAPITA BUSINESS SERVICES LIMITED",
        "Computacenter (UK) Ltd", "VODAFONE LTD (215385)", "Marks & Spencer PLC",
        "NEC SOFTWARE SOLUTIONS (FORMERLY NORTHGATE PUBLIC SERVICES (UK) LTD)",
        "Network Ventures Ltd T/A Topcare", None, "  ",
    ])
    assert normalise_supplier(names).tolist() == [
        "CAPITA BUSINESS SERVICES", "CAPITA BUSINESS SERVICES", "COMPUTACENTER", "VODAFONE",
        "MARKS AND SPENCER", "NEC SOFTWARE SOLUTIONS", "NETWORK VENTURES TOPCARE", "", "",
    ]


@given(st.lists(st.text(max_size=40), max_size=20))
def test_normalise_is_idempotent_and_clean(names: list[str]) -> None:
    keys = normalise_supplier(pd.Series(names, dtype=object))
    again = normalise_supplier(keys)
    assert keys.tolist() == again.tolist()
    for k in keys:
        assert k == k.strip() and "  " not in k
        assert not k.endswith((" LTD", " LIMITED", " PLC"))


def test_reference_traps_shadow_it_suppliers() -> None:
    keys = normalise_supplier(pd.Series([
        "PHOENIX FUTURES", "Phoenix Software Ltd", "HEATHCOTES (PHOENIX COTTAGES LTD)",
        "NORTHGATE VEHICLE HIRE LTD", "Northgate Information Solutions UK", "Oracle Care Ltd",
        "SCC CONSULTANCY LIMITED", "SCC", "Capita Resourcing Ltd", "Capita Symonds",
        "Capital Cars Ltd", "APPLE COURT", "applegreen", "Microsoft Ireland Operations Ltd",
    ]))
    ref = match_reference(keys).set_index("supplier_key")
    got = ref.loc[keys, "ref_is_it"].tolist()
    assert got == ["false", "true", "false", "false", "true", "false", "false", "true",
                   "false", "false", "false", "false", "false", "true"]
    assert ref.loc["PHOENIX SOFTWARE", "role"] == "lsp_reseller"
    assert "Microsoft" in ref.loc["PHOENIX SOFTWARE", "vendors_sold"]


def test_reference_rows_all_have_sources() -> None:
    ref = load_supplier_reference()
    assert (ref["source"].str.strip() != "").all()
    assert ref["supplier_id"].is_unique


def test_cluster_merges_spelling_variants_with_evidence() -> None:
    names = pd.Series(["Kinetic Systems Support Llp", "KINETIC SYSTEMS SUPPORT LLP",
                       "Facultatieve Technologies Ltd", "FACULTATIEVE TECHNOLOGIES LTD",
                       "Facultatieve Technologies Ltd", "Facultative Technologies"])
    c = cluster_suppliers(names).set_index("supplier_name")
    assert c.loc["Facultative Technologies", "supplier_canonical"] == (
        "Facultatieve Technologies Ltd")  # the most-used raw name
    assert "FACULTATIEVE TECHNOLOGIES" in c.loc["Facultative Technologies", "cluster_evidence"]
    assert c.loc["KINETIC SYSTEMS SUPPORT LLP", "cluster_evidence"] == "exact key"


def test_cluster_guards_against_false_merges() -> None:
    names = pd.Series(["Kent County Council", "Gwent County Council", "Baydale Systems Ltd",
                       "Kinetic Systems Ltd", "A B Smith", "A C Smith", "Lloyds Bank",
                       "Barclays Bank", "Civica UK Ltd", "Civica Election Services"])
    c = cluster_suppliers(names).set_index("supplier_name")
    assert c["supplier_canonical"].nunique() == len(names)


def test_cluster_reference_canonical() -> None:
    names = pd.Series(["SCC (SPECIALIST COMPUTER CENTRES PLC)", "Specialist Computer Centers Plc",
                       "Specialist Computer Centres Plc"])
    c = cluster_suppliers(names)
    assert set(c["supplier_canonical"]) == {"Specialist Computer Centres (SCC)"}
    assert (c["cluster_evidence"] == "reference:scc").all()
