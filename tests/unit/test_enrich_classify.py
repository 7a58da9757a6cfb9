"""IT classification rules, label map, look-through and the enrich/coverage contract."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.enrich import (
    classify_it,
    coverage_report,
    enrich,
    financial_year,
    load_rules,
    normalise_supplier,
)
from spendkit.enrich.classify import apply_rules, normalise_label
from spendkit.enrich.pipeline import EnrichInputError
from spendkit.fields import ENRICHMENT_FIELDS

AMOUNT = pd.ArrowDtype(pa.decimal128(18, 2))


def table(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["supplier_name", "expense_type", "service_area",
                                     "description", "amount_gbp"])
    df["amount_gbp"] = pd.Series([Decimal(a) for a in df["amount_gbp"]], dtype=AMOUNT)
    df["publisher_name"] = "Testshire"
    df["payment_date"] = pd.to_datetime(["2024-03-31"] + ["2024-04-01"] * (len(df) - 1)).date
    return df


@pytest.mark.parametrize("label,category", [
    ("ICT : Software", "software_licences"),
    ("Computer Software & Equipment", "software_licences"),
    ("I T Provision", "it_services"),
    ("Licences Purchase", "software_licences"),
    ("RENTAL & MAINT SOFTWARE MISC", "software_licences"),
    ("COMPUTER EQUIPMENT PURCHASE", "hardware"),
    ("Software Maintenance/Running Costs", "software_licences"),
    ("Network Rental", "telecoms_network"),
    ("Computing Other", "hardware"),
    ("information communication technology.software.commercial off-the-shelf.products",
     "software_licences"),
])
def test_issue_labels_are_it(label: str, category: str) -> None:
    out = classify_it(pd.DataFrame({"supplier_key": ["ACME"], "expense_type": [label]}))
    assert out["is_it"].tolist() == [True]
    assert out["it_category"].tolist() == [category]
    assert out["it_basis"].tolist() == ["expense_type"]


def test_each_rule_stands_alone() -> None:
    rules = load_rules()
    assert list(rules.columns[:5]) == ["rule_id", "order", "field", "pattern", "effect"]
    got = apply_rules(pd.Series([normalise_label("Vehicle Excise Licences"),
                                 normalise_label("LEARNING RESOURCE (NOT ICT) - SCHOOLS"),
                                 normalise_label("Telecoms Voip - Expenditure")]), "expense_type")
    assert got["rule_id"].tolist() == ["exp_vehicle_licence", "exp_not_ict", "exp_telecoms"]
    desc = apply_rules(pd.Series([normalise_label("Annual Renewal of Microsoft Licences"),
                                  normalise_label("CCTV Monitor and Maint")]), "description")
    assert desc["vendor"].tolist() == ["", ""]  # vendors come from the product rules
    prod = apply_rules(pd.Series([normalise_label("Annual Renewal of Microsoft Licences"),
                                  normalise_label("CCTV Monitor and Maint")]), "product")
    assert prod["vendor"].tolist() == ["Microsoft", ""]
    assert prod["rule_id"].tolist() == ["prod_microsoft", ""]
    assert desc["effect"].tolist() == ["it", "not_it"]


def test_enrich_contract_and_look_through() -> None:
    df = table([
        ("Bytes Software Services Ltd", "", "AAD - ICT", "Annual Renewal of Microsoft Licences",
         "65965.65"),
        ("Computacenter (UK) Ltd", "Rents", "", "", "12000.00"),
        ("Phoenix Software Ltd", "Professional & advisory services", "", "", "250000.00"),
        ("PHOENIX FUTURES", "ICT : Software", "", "", "900.00"),
        ("Oracle Care Ltd", "Residential", "", "", "5000.00"),
        ("Microsoft Ireland Operations Ltd", "Supplies & services", "", "", "-100.00"),
        ("", "Agency staff", "", "", "50.00"),
        ("Softcat Ltd", "", "AAD - ICT", "V2 Nutanix Software Subscription", "52586.50"),
    ])
    out = enrich(df)
    for f in ENRICHMENT_FIELDS:
        assert f.name in out.columns
    assert out["is_it"].tolist() == [True, True, True, False, False, True, False, True]
    assert out["underlying_vendor"].tolist() == [
        "Microsoft", "", "Microsoft", "", "", "Microsoft", "", "Nutanix"]
    assert out.loc[1, "it_basis"] == "supplier" and out.loc[1, "it_confidence"] == "medium"
    assert out.loc[0, "it_basis"] == "supplier+description+service_area"
    assert out.loc[3, "it_basis"] == "supplier"  # the trap decided
    assert out.loc[2, "supplier_role"] == "lsp_reseller"
    assert out.loc[6, "supplier_key"] == "" and out.loc[6, "it_category"] == ""
    assert df.columns.tolist() == out.columns.tolist()[: len(df.columns)]
    detail = enrich(df, detail=True)
    assert detail.loc[2, "vendor_basis"] == "reseller_size"
    assert detail.loc[0, "vendor_basis"] == "description"


def test_enrich_is_deterministic_and_row_order_free() -> None:
    df = table([("BT PLC", "Telephones", "", "", "10.00"),
                ("Idox Software Ltd", "DEV CONTROL SYSTEM", "", "", "20.00"),
                ("Tesco", "Food", "", "", "30.00")])
    a = enrich(df)
    b = enrich(df.iloc[::-1].reset_index(drop=True)).iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert a["it_category"].tolist() == ["telecoms_network", "line_of_business", ""]


def test_enrich_needs_supplier_name() -> None:
    with pytest.raises(EnrichInputError, match="supplier_name"):
        enrich(pd.DataFrame({"amount_gbp": [1]}))


def test_financial_year() -> None:
    got = financial_year(pd.Series(pd.to_datetime(["2024-03-31", "2024-04-01", None])))
    assert got.tolist() == ["2023-24", "2024-25", ""]


def test_coverage_report_values() -> None:
    df = table([
        ("Old", "Telephones", "", "", "100.00"),  # 2023-24
        ("BT PLC", "Telephones", "", "", "300.00"),
        ("Computacenter", "Rents", "", "", "100.00"),
        ("", "Agency staff", "", "", "200.00"),
        ("Tesco", "Food", "", "", "400.00"),
    ])
    rep = coverage_report(enrich(df)).set_index("financial_year")
    row = rep.loc["2024-25"]
    assert row["total_gbp"] == 1000.0 and row["it_gbp"] == 400.0
    assert row["it_share_expense_type"] == pytest.approx(0.75)
    assert row["it_share_supplier"] == pytest.approx(0.25)
    assert row["unclassifiable_share"] == pytest.approx(0.2)
    assert row["top_unclassified"] == "Tesco (£400.00)"
    assert rep.loc["2023-24", "it_gbp"] == 100.0


def _all_pattern_sets() -> list[tuple[tuple[str, ...], str]]:
    from spendkit.enrich.classify import _field_rules
    from spendkit.enrich.suppliers import _any_pattern, load_supplier_reference

    sets = [_field_rules(f)[:2] for f in ("expense_type", "description", "service_area",
                                          "supplier_key")]
    ref = tuple(load_supplier_reference()["pattern"])
    return [*sets, (ref, _any_pattern(ref))]


WORDS = ["ICT", "SOFTWARE", "MICROSOFT", "LICENCE", "LICENSE", "VEHICLE", "NOT", "PHOENIX",
         "FUTURES", "SCC", "CAPITA", "CAPITAL", "ORACLE", "CARE", "BT", "APPLE", "COURT", "IT",
         "COMPUTER", "TELEPHONE", "S", "W", "365", "M365", "2024", "NETWORK", "RENTAL", "A"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join),
                min_size=1, max_size=40))
def test_python_and_arrow_regex_engines_agree(values: list[str]) -> None:
    from spendkit.enrich.suppliers import first_match

    for patterns, any_pattern in _all_pattern_sets():
        py = first_match(values, patterns, any_pattern, engine="python")
        ar = first_match(values, patterns, any_pattern, engine="arrow")
        assert py.tolist() == ar.tolist()


def test_regex_engines_agree_on_package_labels_and_names() -> None:
    from spendkit.enrich.classify import load_expense_labels
    from spendkit.enrich.suppliers import first_match, load_supplier_reference

    values = list(load_expense_labels().index)
    values += normalise_supplier(load_supplier_reference()["canonical_name"]).tolist()
    hits = 0
    for patterns, any_pattern in _all_pattern_sets():
        py = first_match(values, patterns, any_pattern, engine="python")
        assert py.tolist() == first_match(values, patterns, any_pattern,
                                          engine="arrow").tolist()
        hits += int((py >= 0).sum())
    assert hits > 100  # the comparison is not vacuous
