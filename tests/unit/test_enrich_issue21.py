"""Issue 21's error classes, one test each, on hand-written rows (no real files).

Each class was seen on publishers the rules had never been written from: name collisions,
negation, an IT code or cost centre on a purchase that is not IT, IT bought under generic
expense types, and evidence in columns the classifier did not read.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from spendkit.enrich import Enricher, classify_it, enrich
from spendkit.enrich.classify import (
    OTHER_TEXT_SEPARATOR,
    is_own_body,
    load_weights,
    publisher_initials,
    strip_negated,
)
from spendkit.enrich.pipeline import published_text
from spendkit.errors import ReferenceDataError
from spendkit.units.money import AMOUNT_TYPE

COLUMNS = ["publisher_name", "supplier_name", "expense_type", "service_area", "description"]


def rows(*data: tuple[str, str, str, str, str]) -> pd.DataFrame:
    df = pd.DataFrame(list(data), columns=COLUMNS)
    df["amount_gbp"] = pd.Series([Decimal("100.00")] * len(df), dtype=pd.ArrowDtype(AMOUNT_TYPE))
    return df


def verdicts(df: pd.DataFrame) -> list[bool]:
    return enrich(df)["is_it"].tolist()


# ----------------------------------------------------------------------------- name collisions

def test_a_councils_own_unit_is_not_the_reseller_with_its_initials() -> None:
    df = rows(
        ("Surrey County Council", "SCC Communities (SP)", "", "", ""),
        ("Surrey County Council", "SCC", "", "", ""),  # the reseller's own name
        ("Kent County Council", "SCC Communities (SP)", "", "", ""),  # not Surrey's initials
        ("Surrey County Council", "Specialist Computer Centres plc", "Rents", "", ""),
    )
    out = enrich(df)
    assert out["is_it"].tolist() == [False, True, True, True]
    assert out.loc[0, "supplier_role"] == "" and out.loc[1, "supplier_role"] == "lsp_reseller"
    assert publisher_initials("London Borough of Lambeth") == "LBL"
    assert is_own_body("Leeds City Council", "LCC CATERING")
    assert not is_own_body("Leeds City Council", "LCC")
    assert is_own_body("Leeds City Council", "LEEDS CITY COUNCIL")


def test_the_publishers_own_units_through_the_arrow_entry_point() -> None:
    df = rows(("Surrey County Council", "SCC Communities (SP)", "", "", ""),
              ("Surrey County Council", "SCC", "", "", ""),
              ("Kent County Council", "SCC Communities (SP)", "", "", ""))
    table = pa.Table.from_pandas(df, preserve_index=False)
    got = Enricher().enrich_arrow(table).column("is_it").to_pylist()
    assert got == verdicts(df) == [False, True, True]


def test_telephone_interpreting_is_not_telecoms() -> None:
    df = rows(
        ("X Council", "Acme Ltd", "Telephone Interpreting", "", ""),
        ("X Council", "Acme Ltd", "Telephones", "", "Telephone interpreting - Polish"),
        ("X Council", "LanguageLine Solutions Ltd", "Telephones", "", ""),
        ("X Council", "Acme Ltd", "Telephones", "", ""),  # a plain telephone label stays IT
        ("X Council", "BT plc", "Professional Fees - telephone interpreter Arabic", "", ""),
    )
    assert verdicts(df) == [False, False, False, True, False]


def test_known_not_it_names_resembling_it_suppliers() -> None:
    df = rows(
        ("X Council", "PHOENIX FUTURES", "ICT : Software", "", ""),
        ("X Council", "Oracle Care Ltd", "Computer Software", "", ""),
        ("X Council", "NORTHGATE VEHICLE HIRE LTD", "IT Hardware", "", ""),
        ("X Council", "BT Redcare", "Computer Maintenance", "", ""),  # alarm signalling
        ("X Council", "BT Redcare", "Computer Maintenance", "", "Replacement laptops"),
    )
    out = enrich(df)
    assert out["is_it"].tolist() == [False, False, False, False, True]
    assert out["it_basis"].tolist()[:4] == ["supplier (not IT)"] * 4


# ----------------------------------------------------------------------------- negation

@pytest.mark.parametrize("label", [
    "Learning Resources exc. IT Equipment", "Learning Resources (excluding IT)",
    "Non-ICT equipment", "Equipment - not ICT", "Furniture other than computers",
])
def test_a_negated_it_phrase_says_not_it(label: str) -> None:
    out = enrich(rows(("X Council", "Acme Ltd", label, "", "")))
    assert out["is_it"].tolist() == [False]
    assert out["it_basis"].tolist() == ["expense_type (not IT)"]


def test_negation_removes_only_the_negated_phrase() -> None:
    assert strip_negated("SOFTWARE LICENCES NOT HARDWARE") == ("SOFTWARE LICENCES", True)
    assert strip_negated("LEARNING RESOURCES EXC IT EQUIPMENT") == ("LEARNING RESOURCES", True)
    assert strip_negated("NOTICE BOARDS") == ("NOTICE BOARDS", False)
    df = rows(("X Council", "Acme Ltd", "Software licences (not hardware)", "", ""),
              ("X Council", "Acme Ltd", "", "", "Books, excluding IT equipment"),
              ("X Council", "Acme Ltd", "", "ICT", "Desks - non IT"))
    assert verdicts(df) == [True, False, False]


# ----------------------------------------------------------- IT code, purchase plainly not IT

def test_an_it_code_or_cost_centre_on_a_purchase_that_is_not_it() -> None:
    df = rows(
        ("X Council", "Acme Office Supplies", "", "ICT Services", "Stationery for the team"),
        ("X Council", "Acme Print", "", "ICT", "Printing plates"),
        ("X Council", "Acme Scientific Ltd", "IT MAINT SOFTWARE", "", "Laboratory analysis"),
        ("X Council", "Northern Coachbuilders Ltd", "ICT Hardware", "", ""),
        ("X Council", "Acme Alarms Ltd", "Computer Maintenance", "", ""),
        ("X Council", "Acme Ltd", "Computer Maintenance", "", "Alarm monitoring Q3"),
        ("X Council", "Masternaut Ltd", "Computer Maintenance", "", ""),
        ("X Council", "Acme Ltd", "Computer Maintenance", "", "Vehicle tracking units"),
        ("X Council", "Openreach", "Highways Subcontractors", "", ""),
        ("X Council", "Virgin Media Ltd", "Other costs", "", "Diversion of apparatus, A6"),
        ("X Council", "Acme Recruitment", "Computer Rental & Maint", "Housing Benefit",
         "Agency staff w/e 10.7.22"),
        ("X Council", "Acme Background Screening", "IT MAINT SOFTWARE", "", "DBS checks"),
    )
    out = enrich(df)
    assert out["is_it"].tolist() == [False] * len(df)
    assert (out["it_basis"].str.endswith("(not IT)")).all()


def test_the_same_codes_stay_it_when_nothing_says_otherwise() -> None:
    df = rows(
        ("X Council", "Acme Ltd", "", "ICT Services", "Annual support renewal"),
        ("X Council", "Acme Ltd", "IT MAINT SOFTWARE", "", ""),
        ("X Council", "Acme Ltd", "ICT Hardware", "", ""),
        ("X Council", "Openreach", "Telephones", "", ""),
        ("X Council", "Acme Recruitment", "", "Information Technology", "Agency staff"),
    )
    # The last: agency staffing narrative (-3) outweighs an IT division (+2) alone.
    assert verdicts(df) == [True, True, True, True, False]


def test_no_single_generic_field_outweighs_two_others() -> None:
    df = rows(
        # IT label + ICT cost centre outweigh a non-IT trade in the name.
        ("X Council", "Acme Care Ltd", "Computer Software", "ICT", ""),
        # A named product outweighs a copier firm.
        ("X Council", "Ricoh UK Ltd", "Hardware Rental", "", "Dell laptops x 10"),
        # A copier firm under an IT label alone: not IT (rentals and click charges).
        ("X Council", "Ricoh UK Ltd", "Hardware Rental", "", ""),
    )
    assert verdicts(df) == [True, True, False]


# ---------------------------------------------------------------- IT under generic expense types

def test_it_bought_under_generic_expense_types() -> None:
    df = rows(
        ("X Council", "Experis Ltd", "Agency Staff", "", ""),  # an IT recruitment agency
        ("X Council", "Hays Specialist Recruitment", "Agency Staff", "", ""),  # not IT
        ("X Council", "Stark Software International", "", "Business Improvement", ""),
        ("X Council", "Home Office", "Police - Other Costs", "", "PNC charges 2024/25"),
        ("X Council", "Home Office", "Police - Other Costs", "", "Passport checks"),
        ("X Council", "Computacenter (UK) Ltd", "Rents", "", ""),  # a mislabelled reseller
    )
    out = enrich(df)
    assert out["is_it"].tolist() == [True, False, True, True, False, True]
    assert out.loc[0, "it_category"] == "consultancy"
    assert out.loc[3, "it_category"] == "line_of_business"


# ---------------------------------------------------------- evidence in other published columns

def test_text_in_an_extra_column_reaches_the_classifier() -> None:
    df = rows(("X Council", "Acme Ltd", "Purchase card", "", ""),
              ("X Council", "Acme Ltd", "Purchase card", "", ""))
    df["cost_centre_description"] = ["Mainframe Associated Costs", "Refuse collection"]
    df["card_number"] = ["************1234", "************9876"]
    out = enrich(df, detail=True)
    assert out["is_it"].tolist() == [True, False]
    assert out.loc[0, "it_basis"] == "other_columns"
    assert verdicts(df.drop(columns=["cost_centre_description"])) == [False, False]
    # The Arrow entry point reads the same columns, or an `other_text` column given to it.
    table = pa.Table.from_pandas(df, preserve_index=False)
    assert Enricher().enrich_arrow(table).column("is_it").to_pylist() == [True, False]
    inputs = table.select(["supplier_name", "expense_type"]).append_column(
        "other_text", published_text(table))
    assert Enricher().enrich_arrow(inputs).column("is_it").to_pylist() == [True, False]


def test_published_text_keeps_words_and_skips_identifiers() -> None:
    df = pd.DataFrame({
        "supplier_name": ["A", "B", "C"],
        "procurement_category": ["ICT : Software", None, "Not Classified"],
        "vat_registration_number": ["GB123456789", "GB987654321", ""],
        "body_uri": ["http://x.gov.uk/a", "http://x.gov.uk/a", "http://x.gov.uk/a"],
        "service_division": ["Information Technology", "Highways", ""],
        "amount": [1.0, 2.0, 3.0],  # not text
    })
    got = published_text(df).to_pylist()
    parts = [g.split(OTHER_TEXT_SEPARATOR) for g in got]
    assert parts[0] == ["ICT : Software", "\x1eInformation Technology"]
    assert parts[1] == ["\x1eHighways"]
    assert parts[2] == ["Not Classified"]


def test_a_category_column_supports_but_does_not_decide() -> None:
    # A supplier-level procurement category ('ICT : Services' on an insurer) is support only;
    # a division column decides like a cost centre; a 'Highways' division says nothing.
    df = rows(("X Council", "Acme Insurance Brokers", "Premiums", "", ""),
              ("X Council", "Acme Ltd", "Other costs", "", ""),
              ("X Council", "Acme Ltd", "Other costs", "", ""),
              ("X Council", "Vodafone Ltd", "Other costs", "", ""))
    df["procurement_category"] = ["ICT : Services", "ICT : Services", "", ""]
    df["service_division"] = ["", "", "Information Technology", "Highways and Transportation"]
    assert verdicts(df) == [False, False, True, True]


# ----------------------------------------------------------------------------- the weights

def test_weights_are_data_and_checked(tmp_path) -> None:
    w = load_weights()
    assert w["expense_type", "it_high"] == 3 and w["service_area", "it"] == 2
    bad = tmp_path / "w.csv"
    bad.write_text("kind,evidence,points,reason,source\nexpense_type,it_high,three,x,y\n")
    with pytest.raises(ReferenceDataError, match="not a whole number"):
        load_weights(str(bad))
    bad.write_text("kind,evidence,points,reason,source\nexpense_type,it_high,3,x,y\n")
    with pytest.raises(ReferenceDataError, match="no points for"):
        load_weights(str(bad))


def test_classify_it_reads_publisher_and_other_text() -> None:
    combos = pd.DataFrame({
        "supplier_key": ["SCC COMMUNITIES SP", "ACME"],
        "publisher_name": ["Surrey County Council", ""],
        "other_text": ["", "\x1eICT Operations"],
    })
    out = classify_it(combos)
    assert out["is_it"].tolist() == [False, True]
    assert out.loc[1, "it_basis"] == "other_columns"
