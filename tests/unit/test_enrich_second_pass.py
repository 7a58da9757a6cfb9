"""The second pass on issue 21: the error classes the dev2 set showed, one test each.

Hand-written rows with invented payments (real supplier names only where the register is
what is tested). False alarms: printer consumables, televisions, agency timesheets, media
monitoring and document storage under IT codes, a CCTV link under a telephone code. Misses:
an IT recruitment agency under agency pay, a single-product subscription or a carrier under a
generic not-IT label, software licences under a licences-and-fees label.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from spendkit.enrich import enrich
from spendkit.enrich.classify import load_weights
from spendkit.enrich.suppliers import load_supplier_reference, match_reference
from spendkit.errors import ReferenceDataError
from spendkit.units.money import AMOUNT_TYPE

COLUMNS = ["publisher_name", "supplier_name", "expense_type", "service_area", "description"]


def rows(*data: tuple[str, str, str, str]) -> pd.DataFrame:
    df = pd.DataFrame([("Anytown Borough Council", *d) for d in data], columns=COLUMNS)
    df["amount_gbp"] = pd.Series([Decimal("250.00")] * len(df), dtype=pd.ArrowDtype(AMOUNT_TYPE))
    return df


def verdicts(*data: tuple[str, str, str, str]) -> list[bool]:
    return enrich(rows(*data))["is_it"].tolist()


# ------------------------------------------------------------------------------ false alarms

def test_printer_consumables_under_an_it_code_are_not_it() -> None:
    assert verdicts(
        ("Acme Office Supplies Ltd", "IT Purchases", "", "EPSON DURABRITE INK CART CYAN"),
        ("Misco", "Software (Learning R", "", "Canon Ink Multi Pack"),
        ("Acme Office Supplies Ltd", "IT Purchases", "", "HP 305 black cartridge"),
        ("Acme Office Supplies Ltd", "IT Purchases", "", "HP LaserJet Pro printer"),
        ("Acme Office Supplies Ltd", "IT Purchases", "", "LTO-8 data cartridge x 20"),
    ) == [False, False, False, True, True]


def test_televisions_for_rooms_from_an_it_reseller_are_not_it() -> None:
    out = enrich(rows(
        ("Insight Direct (UK) Ltd", "", "AAD - ICT", "2 x Samsung 55in LED Backlit LCD TV"),
        ("Insight Direct (UK) Ltd", "", "AAD - ICT", "Meeting room projector"),
        ("Insight Direct (UK) Ltd", "", "AAD - ICT", "2 x Dell 24in monitors"),
    ))
    assert out["is_it"].tolist() == [False, False, True]
    assert out.loc[0, "it_basis"] == "description (not IT)"


def test_agency_timesheets_under_an_it_code_are_not_it() -> None:
    assert verdicts(
        ("Smith & Jones Recruitment Ltd", "Computer Rental & Maint", "Housing Benefit Admin",
         "TEMP STAFF W/E 17.07.22"),
        ("Smith & Jones Recruitment Ltd", "Computer Rental & Maint", "Housing Benefit Admin",
         "STAFF  WE 03.04.22"),
        ("Smith & Jones Recruitment Ltd", "Computer Rental & Maint", "", "Timesheet 4471"),
    ) == [False, False, False]


def test_information_services_and_document_storage_are_not_it() -> None:
    assert verdicts(
        ("Onclusive", "Computer Licences", "", ""),  # media monitoring
        ("Box-It Document Solutions Ltd", "Computer Software & Equipment", "Landlord", ""),
        ("Northfield Records Management Ltd", "Computer Software & Equipment", "", ""),
        ("Acme Office Supplies Ltd", "IT Services", "", "Off-site storage of archive boxes"),
        ("Datagraphic Group Ltd", "Computer Software & Equipment", "", ""),  # forms printing
    ) == [False] * 5


def test_a_cctv_link_is_not_it_even_under_a_telephone_code() -> None:
    out = enrich(rows(
        ("Hilltop Masts Ltd", "Telephone Lease", "ACC TC CCTV", "Site licence 51792"),
        ("Hilltop Masts Ltd", "Telephone Lease", "Revenues", "Line rental"),
        ("Hilltop Masts Ltd", "Telephone Lease", "ICT and CCTV", "Line rental"),
    ))
    assert out["is_it"].tolist() == [False, True, True]
    assert out.loc[0, "it_basis"] == "service_area (not IT)"


# ------------------------------------------------------------------------------------ misses

def test_an_it_recruitment_agency_is_it_under_agency_pay() -> None:
    assert verdicts(
        ("IT Works Recruitment Ltd", "AGENCY PAY - COMENS", "HR Shared Services",
         "Redacted Personal Data"),
        ("Northern IT Resourcing Ltd", "Agency Staff", "", "Agency staff w/e 12.12.25"),
        ("Harvey Nash IT Consultancy", "Agency Staff", "", "Temp staff w/e 12.12.25"),
        # A technical (not IT) recruiter, and a general one, stay not IT.
        ("Deekay Tech Recruitment Ltd", "Agency Staff", "", "Agency staff w/e 12.12.25"),
        ("Smith & Jones Recruitment Ltd", "AGENCY PAY - COMENS", "", ""),
    ) == [True, True, True, False, False]


def test_a_strong_identity_outweighs_a_generic_label_and_nothing_else() -> None:
    out = enrich(rows(
        ("Paypal *dropboxinte", "Best Value Training", "City Development", ""),
        ("Networking People (North West) Ltd", "PRINTING", "", "PRINTING"),
        ("ZOOM.US 888-799-9666", "Conference Meetings", "", ""),
        # Ordinary identity: a system vendor's course, a reseller's print consumables.
        ("NEC Software Solutions UK Ltd", "Training Expenses (External)", "", ""),
        ("Misco", "Printing", "", ""),
        # A substantive label or a not-IT narrative still outweighs a carrier.
        ("Vodafone Ltd", "Highways subcontractor works", "", ""),
        ("British Telecommunications plc", "Telephone Lease", "", "Line charge for hardwired CCTV"),
    ))
    assert out["is_it"].tolist() == [True, True, True, False, False, False, False]
    assert out.loc[0, "it_basis"] == "supplier"
    assert out.loc[3, "it_basis"] == "expense_type (not IT)"


def test_licences_and_fees_labels_record_only() -> None:
    out = enrich(rows(
        ("Idox Software Ltd", "Licences (Non-Transport)", "Direct Services", ""),
        ("Environment Agency", "Licences (Non-Transport)", "Depot", "Annual permit"),
    ))
    assert out["is_it"].tolist() == [True, False]
    assert out.loc[1, "it_basis"] == "expense_type (not IT)"


def test_names_that_say_telephony_or_networking() -> None:
    assert verdicts(
        ("Acme Voice and Data Ltd", "General Repair & Maint Bldgs", "", "Phone lines down"),
        ("Regional Networking Solutions Ltd", "Main Contractor", "", ""),
        ("Care Network Solutions Ltd", "Residential", "Adults", ""),  # a care trade
    ) == [True, True, False]


# ------------------------------------------------------------------------- register and data

def test_card_payment_prefixes_are_read_through() -> None:
    keys = pd.Series(["PAYPAL DROPBOXINTE", "WWW JIGSAW24 COM", "DNH GODADDY COM",
                      "SQ ACME CAFE", "PAYPAL", "SCC"])
    ref = match_reference(keys).set_index("supplier_key")
    assert ref.loc["PAYPAL DROPBOXINTE", "supplier_id"] == "dropbox"
    assert ref.loc["PAYPAL DROPBOXINTE", "ref_identity"] == "strong"
    assert ref.loc["WWW JIGSAW24 COM", "supplier_id"] == "jigsaw24"
    assert ref.loc["DNH GODADDY COM", "supplier_id"] == "web_hosts"
    assert ref.loc["SQ ACME CAFE", "supplier_id"] == ""
    assert ref.loc["PAYPAL", "supplier_id"] == ""
    assert ref.loc["SCC", "ref_identity"] == ""  # a reseller sells toner too


def test_register_identity_is_validated(tmp_path) -> None:
    ref = load_supplier_reference()
    assert set(ref["identity"]) == {"", "strong"}
    assert ref.loc[ref["identity"] == "strong", "is_it"].eq("true").all()
    assert {"bt", "dropbox", "tnp"} <= set(ref.loc[ref["identity"] == "strong", "supplier_id"])
    bad = ref.head(3).copy()
    bad.loc[0, "identity"] = "very"
    path = tmp_path / "suppliers.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ReferenceDataError, match="identity 'very'"):
        load_supplier_reference(str(path))
    bad.loc[0, "identity"] = "strong"  # the first row is a not-IT trap
    bad.to_csv(path, index=False)
    with pytest.raises(ReferenceDataError, match="strong identity needs is_it true"):
        load_supplier_reference(str(path))


def test_identity_weights_cancel_what_they_answer() -> None:
    w = load_weights()
    assert w["supplier", "strong_over_generic_label"] == -w["expense_type", "not_it"]
    assert w["supplier", "it_staffing_over_staffing_text"] == -w["description", "not_it_medium"]


def test_training_named_in_the_narrative_is_not_it_even_on_it_topics() -> None:
    assert verdicts(
        ("Bytes Software Services Ltd", "Training Expenses", "Human Resources",
         "DYNAMICS 365 - 2 DAY TRAINING"),
        ("Sec-1 Ltd", "Advertising", "Human Resources", "1 WatchGuard firewall training"),
        ("Acme Skills Ltd", "", "Human Resources", "3 Day AutoCad Training - 15-17 April"),
        ("Bytes Software Services Ltd", "Software Licences", "", "Dynamics 365 licences"),
    ) == [False, False, False, True]


def test_a_product_named_in_the_narrative_is_it_evidence() -> None:
    out = enrich(rows(
        ("Cetus Solutions Ltd", "Disaster Planning", "", "CITRIX ADC VPX 200"),
        ("Acme Supplies Ltd", "Equipment", "", "2 x Red Hat Enterprise Linux Server renewal"),
        ("Acme Supplies Ltd", "Equipment", "", "Dell PowerEdge R730 server"),
        ("Acme Supplies Ltd", "Stationery", "", "101-5399 Dell Toner Cyan"),  # a rule says not IT
        ("Acme Supplies Ltd", "Training Expenses", "", "Citrix administration course"),
    ))
    assert out["is_it"].tolist() == [True, True, True, False, False]
    assert out["it_category"].tolist()[:3] == ["software_licences", "software_licences",
                                               "hardware"]
    assert out["underlying_vendor"].tolist()[:2] == ["Citrix", "Red Hat"]
