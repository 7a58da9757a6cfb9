"""Reseller look-through: which payments get underlying_vendor "Microsoft" and which do not."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from spendkit.enrich import Enricher, enrich, load_rules
from spendkit.enrich.classify import MICROSOFT_AZURE, MICROSOFT_LICENSING
from spendkit.errors import ReferenceDataError
from spendkit.units.money import AMOUNT_TYPE

COLUMNS = ["supplier_name", "expense_type", "service_area", "description", "amount_gbp"]


def table(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["amount_gbp"] = pd.Series([Decimal(a) for a in df["amount_gbp"]],
                                 dtype=pd.ArrowDtype(AMOUNT_TYPE))
    return df


def vendors(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    return enrich(table(rows), detail=True)[
        ["is_it", "it_category", "underlying_vendor", "vendor_basis", "vendor_rule"]]


@pytest.mark.parametrize("text,vendor", [
    ("Mimecast email security renewal", "Mimecast"),
    ("Nutanix licences", "Nutanix"),
    ("Sophos endpoint protection renewal", "Sophos"),
    ("Veeam backup licences renewal", "Veeam"),
    ("VMware vSphere support renewal", "VMware"),
    ("Adobe Acrobat Pro licences", "Adobe"),
    ("Citrix Virtual Apps licences", "Citrix"),
    ("Cisco Meraki licences", "Cisco"),
    ("Oracle database support", "Oracle"),
    ("Veeam Backup for Microsoft 365", "Veeam"),  # the other product wins over Microsoft
    ("Mimecast for Microsoft 365 - annual", "Mimecast"),
])
@pytest.mark.parametrize("where", ["description", "expense_type"])
def test_named_product_through_a_reseller_is_never_microsoft(text: str, vendor: str,
                                                              where: str) -> None:
    # £50,000 to a Microsoft LSP: the size pattern would say Microsoft if nothing were named.
    desc, exp = (text, "Software") if where == "description" else ("", text)
    got = vendors([("Softcat plc", exp, "", desc, "50000.00"),
                   ("Bytes Software Services Ltd", exp, "", desc, "24781.20")])
    assert got["is_it"].tolist() == [True, True]
    assert got["underlying_vendor"].tolist() == [vendor, vendor]
    assert got["vendor_basis"].tolist() == [where, where]


def test_azure_hosting_by_a_service_provider_is_cloud_not_microsoft() -> None:
    got = vendors([
        ("Civica Uk Limited", "", "AAD - ICT", "Annual Azure Hosting Year 2 01.10.25 - 30.09.26",
         "3900.00"),
        ("CIVICA UK LIMITED", "COMPUTER RENTAL & MAINT", "", "AZURE HOSTING SERVICES", "2899.10"),
    ])
    assert got["is_it"].tolist() == [True, True]
    assert got["it_category"].tolist() == ["saas_cloud", "saas_cloud"]
    assert got["underlying_vendor"].tolist() == ["", ""]
    assert got["vendor_rule"].tolist() == ["prod_ms_azure", "prod_ms_azure"]


def test_azure_through_microsoft_or_a_reseller_is_microsoft_azure_not_licensing() -> None:
    got = vendors([
        ("Bytes Software Services Ltd", "IT Software Licences", "", "Microsoft Azure consumption",
         "31143.21"),
        ("Softcat plc", "Microsoft Azure consumption", "", "", "21679.82"),
        ("Microsoft Ireland Operations Ltd", "", "", "Azure subscription", "500.00"),
        ("Bytes Software Services Ltd", "", "", "Azure AD Premium P1 licences", "12000.00"),
    ])
    assert got["underlying_vendor"].tolist() == [MICROSOFT_AZURE, MICROSOFT_AZURE,
                                                 MICROSOFT_AZURE, MICROSOFT_LICENSING]
    assert got["it_category"].tolist()[:3] == ["saas_cloud"] * 3
    assert got["it_category"].tolist()[3] == "software_licences"
    assert MICROSOFT_LICENSING == "Microsoft" and MICROSOFT_AZURE == "Microsoft Azure"


def test_microsoft_licensing_named_or_direct_stays_microsoft() -> None:
    got = vendors([
        ("Bytes Software Services Ltd", "", "AAD - ICT", "Annual Renewal of Microsoft Licences",
         "65965.65"),
        ("BYTES SOFTWARE SERVICES LTD", "RENTAL & MAINT SOFTWARE MISC", "", "20 E3 LICENCES",
         "2312.80"),
        ("Phoenix Software Ltd", "IT MAINT SOFTWARE - copilot365 licenses", "", "", "4569.60"),
        ("Phoenix Software Ltd", "IT MAINT SOFTWARE - Power Apps per App Subscription", "", "",
         "579.60"),
        ("Microsoft Ireland Operations Ltd", "Furniture And Equipment", "", "", "23418.72"),
        ("Small Licensing Co Ltd", "Software", "", "Microsoft 365 E3 licences", "900.00"),
    ])
    assert got["underlying_vendor"].tolist() == ["Microsoft"] * 6
    assert got["vendor_basis"].tolist() == ["description", "description", "expense_type",
                                            "expense_type", "supplier", "description"]


def test_microsoft_product_in_a_known_non_reseller_service_is_not_licensing() -> None:
    got = vendors([("Civica Uk Limited", "", "", "SharePoint integration consultancy",
                    "3000.00")])
    assert got["is_it"].tolist() == [True]
    assert got["underlying_vendor"].tolist() == [""]


def test_size_pattern_only_for_microsoft_lsps_and_only_when_nothing_is_named() -> None:
    got = vendors([
        ("Softcat plc", "Computer Software & Equipment - Expenditure", "", "", "24000.00"),
        ("Bytes Software Services Ltd", "Software Purchase", "", "", "111000.00"),
        ("Bytes Software Services Ltd", "Software Purchase", "", "", "9999.99"),  # too small
        ("Bytes Software Services Ltd", "Sophos endpoint protection renewal", "", "",
         "33666.86"),                                                            # named
        ("Civica Uk Limited", "Software Purchase", "", "Azure hosting", "50000.00"),  # named
        ("CDW Ltd", "Software Purchase", "", "", "50000.00"),        # not a Microsoft LSP
        ("Acme Widgets Ltd", "Software Purchase", "", "", "50000.00"),  # unknown supplier
    ])
    assert got["underlying_vendor"].tolist() == ["Microsoft", "Microsoft", "", "Sophos", "",
                                                 "", ""]
    assert got["vendor_basis"].tolist()[:2] == ["reseller_size", "reseller_size"]
    assert got["vendor_rule"].tolist()[:2] == ["reseller_size", "reseller_size"]


def test_arrow_entry_point_agrees_on_the_look_through() -> None:
    df = table([
        ("Softcat plc", "Mimecast email security renewal", "", "", "26628.13"),
        ("Softcat plc", "Computer Software & Equipment - Expenditure", "", "", "26628.13"),
        ("Civica Uk Limited", "", "", "Azure hosting services", "2744.66"),
        ("Bytes Software Services Ltd", "", "", "Microsoft Azure consumption", "10713.16"),
    ])
    want = enrich(df)["underlying_vendor"].tolist()
    got = Enricher().enrich_arrow(pa.Table.from_pandas(df, preserve_index=False))
    assert got.column("underlying_vendor").to_pylist() == want == [
        "Mimecast", "Microsoft", "", "Microsoft Azure"]


def test_product_rules_are_data_and_validated(tmp_path: Path) -> None:
    rules = load_rules()
    prod = rules[rules["field"] == "product"]
    assert len(prod) >= 30 and (prod["vendor"] != "").all() and (prod["effect"] == "").all()
    assert (rules.loc[rules["field"] != "product", "vendor"] == "").all()
    # Every non-Microsoft product comes before Microsoft's own rules.
    ms = prod["vendor"].str.startswith("Microsoft")
    assert prod.loc[~ms, "order"].max() < prod.loc[ms, "order"].min()

    header = ("rule_id,order,field,pattern,effect,it_category,confidence,vendor,basis,note,"
              "source\n")
    bad = tmp_path / "no_vendor.csv"
    bad.write_text(header + "p1,10,product,\\bFOO\\b,,,high,,product,n,s\n")
    with pytest.raises(ReferenceDataError, match="product rule needs a vendor"):
        load_rules(str(bad))
    bad2 = tmp_path / "vendor_on_desc.csv"
    bad2.write_text(header + "d1,10,description,\\bFOO\\b,it,,high,Foo,description,n,s\n")
    with pytest.raises(ReferenceDataError, match="vendors come from product rules"):
        load_rules(str(bad2))
