"""Council profiles: data the analyst owns, validated with errors naming the file and key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from spendkit.errors import ReferenceDataError
from spendkit.reference import catalogue
from spendkit.reference.profiles import (
    MicrosoftAgreement,
    load_profile,
    profile_claiming,
    read_profile,
)
from spendkit.sample import BWD_M365_PRE_RENEWAL_PENCE, BWD_M365_RENEWAL_PENCE, sample_profiles

ROOT = Path(__file__).resolve().parents[2]

FULL = """\
council: Leeds
vat_basis: net
microsoft:
  agreements:
    - type: EA
      start: 2025-07-01
      term_years: 3
      billing: annual_monthly
      reseller: Softcat
      seats: {E5: 1000, Microsoft 365 F3: 200}
      annual_cost_gbp: 1500000
      source: "minutes, 1 May 2025"
    - {type: CSP, start: "2022-07-01", term_years: 3, skus: [E3]}
it_staff:
  cost_gbp: {2024/25: 2500000, FY2025: 2600000}
  pay_award_pct: {2025-26: 3.2}
  source: budget book
peers: [Bradford, E08000036]
core_spending_power_gbp: {2025-26: 180000000}
settlement_fixed_cash: true
files: ["Spending_*.csv"]
sources: [minutes]
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def test_a_full_profile_reads_into_the_agreed_shape(tmp_path: Path) -> None:
    p = read_profile(write(tmp_path, "leeds-city-council.yaml", FULL))
    assert (p.council, p.gss_code, p.vat_basis) == ("Leeds City Council", "E08000035", "net")
    assert p.microsoft[0] == MicrosoftAgreement(
        type="CSP", start=date(2022, 7, 1), term_years=3, seats={}, skus=("Microsoft 365 E3",))
    ea = p.microsoft[1]
    assert ea.seats == {"Microsoft 365 E5": 1000, "Microsoft 365 F3": 200}
    assert (ea.billing, ea.reseller, ea.annual_cost_gbp) == ("annual_monthly", "Softcat",
                                                             1_500_000.0)
    assert p.it_staff.cost_gbp == {"2024-25": 2_500_000.0, "2025-26": 2_600_000.0}
    assert p.peers == ("E08000032", "E08000036")
    assert p.settlement_fixed_cash is True and p.files == ("Spending_*.csv",)
    assert p.slug == "leeds-city-council"


@pytest.mark.parametrize(("text", "key", "problem"), [
    ("vat_basis: net\n", "council", "missing"),
    ("council: Nowhere Council\n", "council", "is not a council or public body"),
    ("council: Leeds\nvat: net\n", "vat", "unknown key; expected one of council, vat_basis"),
    ("council: Leeds\nvat_basis: excl\n", "vat_basis", "expected one of net, gross, unknown"),
    ("council: Leeds\nmicrosoft: {agreements: [{type: EA, start: 2025-07-01}]}\n",
     "microsoft.agreements[0].term_years", "missing"),
    ("council: Leeds\nmicrosoft: {agreements: [{type: EA, start: July 2025, term_years: 3, "
     "skus: [E5]}]}\n", "microsoft.agreements[0].start", "expected a date such as 2025-07-01"),
    ("council: Leeds\nmicrosoft: {agreements: [{type: EA, start: 2025-07-01, term_years: three, "
     "skus: [E5]}]}\n", "microsoft.agreements[0].term_years", "expected a whole number"),
    ("council: Leeds\nmicrosoft: {agreements: [{type: EA, start: 2025-07-01, term_years: 3, "
     "seats: {E9: 10}}]}\n", "microsoft.agreements[0].seats.E9", "E9"),
    ("council: Leeds\nmicrosoft: {agreements: [{type: EA, start: 2025-07-01, term_years: 3}]}\n",
     "microsoft.agreements[0].seats", "expected seats (SKU: count) or"),
    ("council: Leeds\nit_staff: {cost_gbp: {2024-26: 5}}\n", "it_staff.cost_gbp.2024-26",
     "does not run from one April to the next"),
    ("council: Leeds\nsettlement_fixed_cash: maybe\n", "settlement_fixed_cash",
     "expected true or false"),
    ("council: Leeds\nsources: [\n", "line 3", "not valid YAML"),
    ("- just a list\n", "(top level)", "expected a mapping"),
])
def test_mistakes_name_the_file_and_the_key(tmp_path: Path, text, key, problem) -> None:
    path = write(tmp_path, "x.yaml", text)
    with pytest.raises(ReferenceDataError) as err:
        read_profile(path)
    assert (err.value.source, err.value.key) == (str(path), key)
    assert problem in err.value.problem
    assert str(err.value).startswith(f"{path}: {key}: ")


def test_load_profile_by_any_name_and_only_the_one_found_is_validated(tmp_path: Path) -> None:
    write(tmp_path, "my-leeds.yaml", FULL)
    write(tmp_path, "broken.yaml", "council: Bradford\nvat_basis: excl\n")
    for query in ("Leeds", "leeds city council", "E08000035", "leeds-city-council"):
        assert load_profile(query, tmp_path).council == "Leeds City Council"
    assert load_profile("Trafford", tmp_path) is None
    assert load_profile("Leeds", tmp_path / "missing") is None
    with pytest.raises(ReferenceDataError, match="broken.yaml: vat_basis"):
        load_profile("Bradford", tmp_path)
    prof, pattern = profile_claiming("Spending_2020_06.csv", tmp_path)
    assert (prof.council, pattern) == ("Leeds City Council", "Spending_*.csv")
    assert profile_claiming("other.csv", tmp_path) is None


def test_the_councils_dir_is_one_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from spendkit.settings import get_settings

    monkeypatch.setenv("SPENDKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SPENDKIT_COUNCILS_DIR", raising=False)
    # No raw files of the analyst's yet: the bundled sample and its own profiles stand in.
    assert get_settings().councils_dir == get_settings().sample_dir / "councils"
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "spend.csv").write_text("Supplier,Amount\nA Ltd,1\n")
    assert get_settings().councils_dir == (tmp_path / "data" / "councils").resolve()
    monkeypatch.setenv("SPENDKIT_COUNCILS_DIR", str(tmp_path / "elsewhere"))
    assert get_settings().councils_dir == (tmp_path / "elsewhere").resolve()
    write(tmp_path / "elsewhere", "leeds.yaml", FULL)
    assert load_profile("Leeds").vat_basis == "net"


def test_the_sample_ships_blackburn_with_darwens_published_facts(tmp_path: Path) -> None:
    name = "blackburn-with-darwen-borough-council.yaml"
    assert set(sample_profiles()) == {name}
    p = read_profile(catalogue.path("sample_council_profiles") / name)
    first, renewal = p.microsoft
    assert (first.start, first.term_years, first.skus, first.annual_cost_gbp) == (
        date(2021, 7, 1), 4, ("Microsoft 365 E5",), None)
    assert (renewal.start, renewal.term_years, renewal.reseller, renewal.annual_cost_gbp) == (
        date(2025, 7, 1), 3, "Phoenix Software", 670_000.0)
    assert "infotec.news" in renewal.source
    # The sample's payments follow the profile; the earlier amount is the sample's assumption.
    assert round(renewal.annual_cost_gbp * 100) == BWD_M365_RENEWAL_PENCE
    assert BWD_M365_PRE_RENEWAL_PENCE < BWD_M365_RENEWAL_PENCE
    deals = catalogue.read_csv("ms_deals")
    published = deals[(deals["gss_code"] == p.gss_code) & (deals["annual_cost_gbp"] != "")]
    assert published["annual_cost_gbp"].astype(float).tolist() == [670_000.0]
    # The copy in the project's councils folder is the shipped one.
    assert (ROOT / "data" / "sample" / "councils" / name).read_bytes() == sample_profiles()[name]
