"""Who published a file, from every clue it gives (issue 16 item 7, issue 17 item 1).

Each fixture is a small hand-written file whose columns, header, sheet, file or folder name
carry (or fail to carry) its publisher; the files are placed loose or in named folders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import spendkit
from spendkit.reference import councils
from spendkit.reference.councils import UNKNOWN

HEADER = "Payment Date,Supplier Name,Amount,Description"
ROWS = ["01/04/2024,Acme Ltd,100.00,Stationery", "02/04/2024,Beta Ltd,250.00,Repairs",
        "03/04/2024,Gamma plc,75.50,Catering"]


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


def with_column(header: str, value: str, rows: list[str] = ROWS) -> str:
    """A small CSV whose first column is `header`, holding `value` on every row."""
    return "\n".join([f"{header},{HEADER}", *(f'"{value}",{r}' for r in rows)]) + "\n"


def ledger_of(path: Path, **kw):
    return spendkit.load(path, **kw).ledger


# --- a name or code in the file's own columns ----------------------------------------------------


@pytest.mark.parametrize(("header", "value", "name", "code"), [
    ("Name of Body", "Devon County Council", "Devon County Council", "E10000008"),
    ("Authority Name", "Stockport MBC", "Stockport Metropolitan Borough Council", "E08000007"),
    ("Organisation Label", "Tameside Metropolitan Borough Council",
     "Tameside Metropolitan Borough Council", "E08000008"),
    ("Body name", "Trafford", "Trafford Metropolitan Borough Council", "E08000009"),
    ("Client", "Oxford City Council", "Oxford City Council", "E07000178"),
    ("Body", "http://statistics.data.gov.uk/id/local-authority/00BU",
     "Trafford Metropolitan Borough Council", "E08000009"),
    ("OrganisationURI", "http://opendatacommunities.org/id/metropolitan-district-council/leeds",
     "Leeds City Council", "E08000035"),
    ("Organisation Code", "E06000008", "Blackburn with Darwen Borough Council", "E06000008"),
    ("Authority", "Lancashire Fire and Rescue Service", "Lancashire Combined Fire Authority", ""),
    ("Body", "Police and Crime Commissioner for Lancashire",
     "Police and Crime Commissioner for Lancashire", "E23000003"),
])
def test_loose_file_named_by_its_columns(tmp_path: Path, header, value, name, code) -> None:
    led = ledger_of(write(tmp_path, "payments.csv", with_column(header, value)))
    assert (led.publisher_name, led.publisher_code) == (name, code)
    assert led.publisher_basis.startswith(f"column {header!r}")
    assert led.rows_kept == 3  # the clue column does not disturb the table


def test_a_file_identified_by_its_columns_keeps_its_publishers_known_threshold(
        tmp_path: Path) -> None:
    """The profile's threshold and VAT basis follow the publisher, not the folder name."""
    loose = ledger_of(write(tmp_path / "downloads", "payments.csv",
                            with_column("Body name", "Hyndburn Borough Council")))
    filed = ledger_of(write(tmp_path / "hyndburn", "payments.csv", with_column("x", "y")))
    assert loose.publisher_code == filed.publisher_code == "E07000120"
    assert loose.threshold_gbp == filed.threshold_gbp == "250"
    assert loose.vat_basis == filed.vat_basis
    unknown = ledger_of(write(tmp_path / "other", "payments.csv", with_column("x", "y")))
    assert unknown.threshold_gbp == ""  # no publisher, no borrowed threshold


def test_a_full_council_name_in_any_column_counts(tmp_path: Path) -> None:
    led = ledger_of(write(tmp_path, "x.csv", with_column("Entity Label", "Sefton MBC")))
    assert led.publisher_name == "Sefton Metropolitan Borough Council"


@pytest.mark.parametrize("abbreviation", ["SMBC", "OCC"])
def test_an_ambiguous_abbreviation_is_never_a_publisher(tmp_path: Path, abbreviation) -> None:
    led = ledger_of(write(tmp_path, "spend.csv", with_column("Client", abbreviation)))
    assert led.publisher_name == UNKNOWN and led.publisher_code == ""
    assert led.publisher_basis.startswith("ambiguous: column 'Client' reads "
                                          f"'{abbreviation}'")
    expected = {"SMBC": ["Stockport", "Sefton", "Solihull", "Sandwell", "St Helens"],
                "OCC": ["Oxford City Council", "Oxfordshire County Council"]}[abbreviation]
    for name in expected:
        assert name in led.publisher_basis
    assert any("Put it in a folder named after its publisher" in w for w in led.warnings)


def test_an_abbreviation_is_decided_by_the_file_name(tmp_path: Path) -> None:
    led = ledger_of(write(tmp_path, "Stockport spend April 2024.csv",
                          with_column("Body", "SMBC")))
    assert led.publisher_name == "Stockport Metropolitan Borough Council"
    assert "column 'Body' reads 'SMBC'" in led.publisher_basis
    assert "file name 'Stockport spend April 2024.csv'" in led.publisher_basis


def test_an_abbreviation_is_decided_by_the_folder(tmp_path: Path) -> None:
    led = ledger_of(write(tmp_path / "oxfordshire", "q1.csv", with_column("Client", "OCC")))
    assert led.publisher_name == "Oxfordshire County Council"
    assert "folder 'oxfordshire'" in led.publisher_basis


def test_initials_in_a_header_are_decided_by_place_names_in_the_descriptions(
        tmp_path: Path) -> None:
    # Hyndburn's layout (the README's Sept-25-CVS.csv): 'HBC Ref No.' and the header last.
    rows = ["01/09/2025,Grounds Ltd,Grass cutting in Hyndburn parks,INV1,500.00",
            "02/09/2025,Trakm8 plc,Vehicle tracking,INV2,133.43",
            "03/09/2025,Oyster Partnership,Agency costs,INV3,715.73"]
    text = "\n".join([*rows, "Payment Date,Name:  ,Description,HBC Ref No.,Amount Paid"]) + "\n"
    led = ledger_of(write(tmp_path, "Sept-25-CVS.csv", text))
    assert (led.publisher_name, led.publisher_code) == ("Hyndburn Borough Council", "E07000120")
    assert led.publisher_basis == ("header cell 'HBC Ref No.' reads 'HBC'; column 'Description' "
                                   "names 'hyndburn' (1 rows)")
    assert any("chosen among" in w and "check it" in w for w in led.warnings)


def test_initials_alone_leave_the_file_unidentified_with_the_candidates(tmp_path: Path) -> None:
    text = "Payment Date,Name,HBC ref no,Amount\n01/09/2025,Acme Ltd,INV1,500.00\n"
    led = ledger_of(write(tmp_path, "March-2023.csv", text))
    assert led.publisher_name == UNKNOWN
    assert "Hyndburn Borough Council (E07000120)" in led.publisher_basis
    assert "Halton Borough Council (E06000006)" in led.publisher_basis
    help_text = councils.unidentified_help(led)
    assert "(raw/halton-borough-council/March-2023.csv)" in help_text


def test_file_and_sheet_names(tmp_path: Path) -> None:
    body = "\n".join([HEADER, *ROWS]) + "\n"
    led = ledger_of(write(tmp_path, "Tameside September 2014.csv", body))
    assert led.publisher_name == "Tameside Metropolitan Borough Council"
    assert led.publisher_basis == "file name 'Tameside September 2014.csv' reads 'tameside'"

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sefton MBC Apr 2024"
    ws.append(HEADER.split(","))
    for r in ROWS:
        ws.append(r.split(","))
    wb.save(tmp_path / "payments.xlsx")
    led = ledger_of(tmp_path / "payments.xlsx")
    assert led.publisher_name == "Sefton Metropolitan Borough Council"
    assert led.publisher_basis.startswith("sheet name 'Sefton MBC Apr 2024'")


def test_a_fire_authority_in_a_folder_named_after_it(tmp_path: Path) -> None:
    body = "\n".join([HEADER, *ROWS]) + "\n"
    for folder in ("lancashire-fire-and-rescue-service", "Lancashire Fire Authority"):
        led = ledger_of(write(tmp_path / folder, "2024-04.csv", body))
        assert led.publisher_name == "Lancashire Combined Fire Authority"
        assert led.publisher_basis.startswith(f"folder {folder!r}")
    led = ledger_of(write(tmp_path / "lancashire-pcc", "2024-04.csv", body))
    assert led.publisher_name == "Police and Crime Commissioner for Lancashire"


def test_content_outranks_names_and_the_runner_up_is_warned(tmp_path: Path) -> None:
    led = ledger_of(write(tmp_path, "Bradford 2024.csv",
                          with_column("Organisation Label", "Leeds City Council")))
    assert led.publisher_name == "Leeds City Council"
    rival = [w for w in led.warnings if w.startswith("publisher: chose Leeds City Council")]
    assert rival and "Bradford" in rival[0]


def test_a_project_folder_far_above_the_file_is_not_a_clue(tmp_path: Path) -> None:
    body = "\n".join([HEADER, *ROWS]) + "\n"
    led = ledger_of(write(tmp_path / "leeds-analysis" / "data" / "raw", "2024-04.csv", body))
    assert led.publisher_name == UNKNOWN
    assert led.publisher_basis.startswith("unidentified")
    help_text = councils.unidentified_help(led)
    assert help_text.startswith("2024-04.csv: publisher not identified")
    assert "raw/<council-slug>/2024-04.csv" in help_text and "files:" in help_text
    assert councils.unidentified_help({"publisher_name": "Leeds City Council"}) == ""


def test_the_argument_and_a_council_profile_claim_a_file(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    body = "\n".join([HEADER, *ROWS]) + "\n"
    path = write(tmp_path / "raw", "Sept-25-CVS.csv", body)
    assert ledger_of(path, publisher="hyndburn").publisher_name == "Hyndburn Borough Council"
    councils_dir = tmp_path / "councils"
    write(councils_dir, "hyndburn-borough-council.yaml",
          'council: Hyndburn\nvat_basis: net\nfiles: ["sept-25-*.csv"]\n')
    monkeypatch.setenv("SPENDKIT_COUNCILS_DIR", str(councils_dir))
    led = ledger_of(path)
    assert (led.publisher_name, led.publisher_code, led.vat_basis) == (
        "Hyndburn Borough Council", "E07000120", "net")
    assert led.publisher_basis == ("council profile hyndburn-borough-council.yaml (files: "
                                   "'sept-25-*.csv')")


def test_a_cross_charge_in_a_few_rows_is_not_a_rival(tmp_path: Path) -> None:
    rows = [f'"Leeds City Council",{r}' for r in ROWS * 10] + [f'"Bradford Council",{ROWS[0]}']
    text = "\n".join([f"Body name,{HEADER}", *rows]) + "\n"
    led = ledger_of(write(tmp_path, "x.csv", text))
    assert led.publisher_name == "Leeds City Council"
    assert not [w for w in led.warnings if w.startswith("publisher:")]


# --- the name index ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "name"), [
    ("Stockport MBC", "Stockport Metropolitan Borough Council"),
    ("Bradford MDC", "City of Bradford Metropolitan District Council"),
    ("LB Lambeth", "London Borough of Lambeth"),
    ("Council of the Borough of Kirklees", "Kirklees Council"),
    ("City of York", "City of York Council"),
    ("Devon CC", "Devon County Council"),
    ("Oxford CC", "Oxford City Council"),
    ("Somerset County Council", "Somerset County Council"),  # the abolished one, by its name
    ("Somerset", "Somerset Council"),  # the current one
    ("Croydon LBC", "London Borough of Croydon"),
    ("Peak District National Park", "Peak District National Park Authority"),
])
def test_names_with_abbreviations_and_suffixes(text: str, name: str) -> None:
    hit = councils.match_value(text)
    assert [councils.body(k).name for k in hit.keys] == [name]


def test_find_in_text_skips_everyday_words() -> None:
    assert councils.find_in_text("meter reading april") == []
    assert [m.text for m in councils.find_in_text("Reading Borough Council spend")] == [
        "reading borough council"]
