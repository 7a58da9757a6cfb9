"""Council and year arguments forgive, and every resolver speaks one style (issue 17 item 2)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from spendkit.errors import InputError
from spendkit.models import trends
from spendkit.models.scenarios import review
from spendkit.reference.councils import Council, resolve_council
from spendkit.units.periods import parse_year_argument, parse_years_argument
from spendkit.views import licensing, overview

BWD = ("Blackburn with Darwen Borough Council", "E06000008")
LEEDS = ("Leeds City Council", "E08000035")
TRAFFORD = ("Trafford Metropolitan Borough Council", "E08000009")
DATA = pd.DataFrame({"publisher_name": [BWD[0], LEEDS[0], TRAFFORD[0], LEEDS[0]],
                     "publisher_code": [BWD[1], LEEDS[1], TRAFFORD[1], LEEDS[1]]})


@pytest.mark.parametrize(("query", "expected"), [
    ("Blackburn with Darwen", BWD), ("blackburn with darwen borough council", BWD),
    ("BLACKBURN WITH DARWEN COUNCIL", BWD), ("E06000008", BWD), (" e06000008 ", BWD),
    ("blackburn-with-darwen-borough-council", BWD), ("Leeds", LEEDS), ("Leeds CC", LEEDS),
    ("City of Leeds", LEEDS), ("leeds city council", LEEDS), ("Trafford", TRAFFORD),
    ("Trafford Council", TRAFFORD), ("Trafford MBC", TRAFFORD),
    ("Trafford Metropolitan Borough", TRAFFORD),
])
def test_the_readme_councils_are_found_however_written(query, expected) -> None:
    assert resolve_council(query, available=DATA) == Council(*expected)


def test_the_data_names_win_even_when_the_reference_does_not_know_them() -> None:
    data = [("Testshire Council", "E06000999"), ("Police and Crime Commissioner for Lancashire", "")]
    assert resolve_council("testshire", available=data).name == "Testshire Council"
    assert resolve_council("Lancashire PCC", available=data).code == ""
    assert resolve_council("E06000999", available=data).name == "Testshire Council"


def test_without_data_the_reference_answers_and_ambiguity_lists_candidates() -> None:
    assert resolve_council("Stockport MBC") == Council("Stockport Metropolitan Borough Council",
                                                       "E08000007")
    with pytest.raises(InputError, match=r"council: 'SMBC' is ambiguous; expected one of: .*"
                                         r"Sandwell.*Sefton.*Solihull.*St Helens.*Stockport"):
        resolve_council("SMBC")
    with pytest.raises(InputError, match="council: 'Nowhere' is not a council or public body"):
        resolve_council("Nowhere")
    with pytest.raises(InputError, match=r"council: expected a council name or GSS code \(text\)"
                                         r", got 42"):
        resolve_council(42)


def test_a_council_not_in_the_data_names_it_and_lists_the_data() -> None:
    with pytest.raises(InputError, match=r"council: 'Hyndburn' \(Hyndburn Borough Council, "
                                         r"E07000120\) is not a publisher in the data; expected "
                                         r"one of the publishers it holds: Blackburn with Darwen "
                                         r"Borough Council \(E06000008\); Leeds City Council"):
        resolve_council("Hyndburn", available=DATA)
    two = [("Oxford City Council", "E07000178"), ("Oxfordshire County Council", "E10000025")]
    with pytest.raises(InputError, match="'OCC' is ambiguous in the data; expected one of: "
                                         "Oxford City Council"):
        resolve_council("OCC", available=two)


# --- the four call sites --------------------------------------------------------------------------

STYLE = (r"^council: 'Nowhere' is not a publisher in the data; expected one of the publishers it "
         r"holds: Blackburn with Darwen Borough Council \(E06000008\); Leeds City Council "
         r"\(E08000035\); Trafford Metropolitan Borough Council \(E08000009\)$")


def _with_years(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["financial_year"] = "2024-25"
    out["payment_date"] = date(2024, 5, 1)
    return out


@pytest.mark.parametrize("call", [
    lambda q: overview.resolve_council(DATA, q),
    lambda q: review.resolve_publisher(DATA, q),
    lambda q: trends.council_code(DATA, q),
    lambda q: licensing.council_context(q, _with_years(DATA), ours=_with_years(DATA)),
], ids=["overview", "scenarios review", "trends", "licensing"])
def test_the_four_resolvers_agree_and_speak_one_style(call) -> None:
    with pytest.raises(InputError, match=STYLE):
        call("Nowhere")
    result = call("leeds")
    assert result in ("Leeds City Council", "E08000035") or result.name == "Leeds City Council"


# --- years ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2024/25", "2024-25", "FY2024", "2024", 2024, "FY24/25",
                                  "24/25", "2024-2025", "2024\u201325", " fy 2024-25 "])
def test_year_arguments_forgive(text) -> None:
    assert parse_year_argument(text) == "2024-25"


def test_year_lists_ranges_and_the_years_in_the_data() -> None:
    assert parse_years_argument("2021-22:2025-26") == [
        "2021-22", "2022-23", "2023-24", "2024-25", "2025-26"]
    assert parse_years_argument(["2024/25", "FY2023", "2024-25"]) == ["2023-24", "2024-25"]
    assert parse_years_argument("2021/22 to 2022/23, 2025") == ["2021-22", "2022-23", "2025-26"]
    assert parse_years_argument(None) is None
    have = ["2021-22", "2022-23", "2023-24", "2024-25", "2025-26"]
    with pytest.raises(InputError, match=r"years: 2030-31 is not in the data; the data covers "
                                         r"2021-22 to 2025-26 \(5 financial years"):
        parse_years_argument("2030-31", available=have)
    with pytest.raises(InputError, match="the data holds no dated payments"):
        parse_years_argument("2024-25", available=[])


@pytest.mark.parametrize(("bad", "why"), [
    ("2024/26", "does not run from one April to the next"), ("twenty", "is not a financial year"),
    ("2025-26:2021-22", "runs backwards"), (True, "is not a financial year"),
    ("", "expected at least one financial year")])
def test_bad_years_say_what_is_expected(bad, why) -> None:
    with pytest.raises(InputError, match=why):
        parse_years_argument(bad)
