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
    load_rules,
    normalise_supplier,
)
from spendkit.enrich.classify import apply_rules, normalise_label
from spendkit.errors import InputError, ReferenceDataError
from spendkit.schema import ENRICHMENT_FIELDS
from spendkit.units import periods

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
    assert out.loc[3, "it_basis"] == "supplier (not IT)"  # the trap decided
    assert out.loc[4, "it_basis"] == "supplier (not IT)"  # Oracle Care: a not-IT trap
    assert out.loc[6, "it_basis"] == "expense_type (not IT)"  # agency staff, redacted payee
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
    with pytest.raises(InputError, match="supplier_name"):
        enrich(pd.DataFrame({"amount_gbp": [1]}))


def test_financial_year() -> None:
    got = periods.financial_year(pd.Series(pd.to_datetime(["2024-03-31", "2024-04-01", None])))
    assert got.fillna("").tolist() == ["2023-24", "2024-25", ""]


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
    # Classified = IT (400) + agency staff decided not IT by its label (200); Tesco has none.
    assert row["classified_share"] == pytest.approx(0.6)
    assert row["no_evidence_share"] == pytest.approx(0.4)
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


def test_not_it_labels_record_their_evidence() -> None:
    df = table([
        ("Abbey Homes Ltd", "Residential Care", "", "", "900.00"),
        ("Kier Ltd", "Building Works - Capital", "", "", "800.00"),
        ("Tesco", "Food", "", "", "30.00"),  # unknown label: no evidence either way
        ("PHOENIX FUTURES", "ICT : Software", "", "", "20.00"),  # trap supplier
        ("Acme", "Learning Resource Not ICT Schools", "", "", "10.00"),  # blocking label
        ("Acme", "Food", "", "Monthly CCTV monitoring", "10.00"),
        ("BT PLC", "Telephones", "", "", "10.00"),
        ("Acme", "EMPLOYEES", "", "", "10.00"),  # SeRCOP group
    ])
    out = classify_it(enrich(df)[["supplier_key", "expense_type", "service_area",
                                  "description"]])
    assert out["it_basis"].tolist() == [
        "expense_type (not IT)", "expense_type (not IT)", "", "supplier (not IT)",
        "expense_type (not IT)", "description (not IT)", "expense_type+supplier",
        "expense_type (not IT)"]
    assert out["is_it"].tolist() == [False] * 6 + [True, False]
    # A non-blocking label decides nothing, so it sets no confidence; the others keep theirs.
    assert out["it_confidence"].tolist() == ["", "", "", "high", "medium", "medium", "high", ""]
    assert out["it_rule"].tolist()[:3] == ["label:RESIDENTIAL CARE",
                                           "label:BUILDING WORKS CAPITAL", ""]
    assert out["it_category"].tolist()[:6] == [""] * 6


def test_non_blocking_not_it_labels_never_change_the_verdict() -> None:
    from spendkit.enrich.classify import load_expense_labels

    labels = load_expense_labels()
    soft = labels.index[labels["blocks_it"].eq("false")].tolist()
    assert len(soft) > 50 and "RESIDENTIAL CARE" in soft and "AGENCY STAFF" in soft
    # IT evidence of every other kind: reseller, supplier name, description, ICT cost centre.
    others = [("COMPUTACENTER", "", ""), ("ACME SOFTWARE", "", ""),
              ("ACME", "", "Microsoft 365 E3 licences"), ("ACME", "ICT", ""),
              ("PHOENIX FUTURES", "", ""), ("ACME", "", "")]
    rows = [(k, lab, svc, d) for lab in [*soft, "ZZZ UNKNOWN LABEL"] for k, svc, d in others]
    out = classify_it(pd.DataFrame(rows, columns=["supplier_key", "expense_type",
                                                  "service_area", "description"]))
    cols = ["is_it", "it_category", "it_confidence", "underlying_vendor"]
    got = out[cols].to_numpy().reshape(len(soft) + 1, len(others), len(cols))
    for i, lab in enumerate(soft):
        assert (got[i] == got[-1]).all(), lab  # same as an unknown label
    # A supplier name saying IT counts when no label says otherwise (issue 21: a software house
    # under a generic label); a trap never; nothing, nothing.
    assert got[-1][:, 0].tolist() == [True, True, True, True, False, False]
    basis = out["it_basis"].to_numpy().reshape(len(soft) + 1, len(others))
    assert basis[0].tolist()[4:] == ["supplier (not IT)", "expense_type (not IT)"]
    assert basis[-1].tolist()[4:] == ["supplier (not IT)", ""]
    assert basis[0].tolist()[0] == basis[-1].tolist()[0] == "supplier"


def test_expense_label_blocks_it_column_is_checked(tmp_path) -> None:
    from spendkit.enrich.classify import load_expense_labels

    bad = tmp_path / "labels.csv"
    bad.write_text("label,is_it,it_category,confidence,blocks_it,source\n"
                   "Care,false,,high,maybe,test\n")
    with pytest.raises(ReferenceDataError, match=r"row 2 \('Care'\): blocks_it"):
        load_expense_labels(str(bad))
    old = tmp_path / "old.csv"
    old.write_text("label,is_it,it_category,confidence,source\n"
                   "Care,false,,high,test\nSoftware,true,software_licences,high,test\n")
    assert load_expense_labels(str(old))["blocks_it"].tolist() == ["true", ""]
    blank = tmp_path / "blank.csv"
    blank.write_text("label,is_it,it_category,confidence,blocks_it,source\n"
                     "Care,false,,high,false, \n")
    with pytest.raises(ReferenceDataError, match="empty source"):
        load_expense_labels(str(blank))


def test_coverage_report_says_what_the_it_money_rests_on() -> None:
    from spendkit.enrich.classify import KINDS

    df = table([
        ("Old", "Telephones", "", "", "100.00"),  # 2023-24
        ("BT PLC", "Telephones", "", "", "300.00"),  # expense type + supplier agree
        ("Acme Ltd", "", "ICT", "", "100.00"),  # a cost centre alone: low confidence
        ("Acme Ltd", "Other costs", "", "", "600.00"),
    ])
    df["service_division"] = ["", "", "", "Information Technology"]
    rep = coverage_report(enrich(df)).set_index("financial_year").loc["2024-25"]
    shares = [f"it_share_{k}" for k in KINDS]
    assert rep[shares].sum() == pytest.approx(1.0)
    assert rep["it_gbp"] == 1000.0
    assert rep["it_share_expense_type"] == pytest.approx(0.3)
    assert rep["it_share_service_area"] == pytest.approx(0.1)
    assert rep["it_share_other_columns"] == pytest.approx(0.6)
    assert rep["corroborated_share"] == pytest.approx(0.3)
    assert rep["low_confidence_share"] == pytest.approx(0.7)
