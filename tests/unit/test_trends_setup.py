"""prepare_trends and deflator_note on hand-written frames with known answers."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from test_trends import HYNDBURN, LEEDS, frame, months

from spendkit.errors import InputError
from spendkit.models import trends as t
from spendkit.views.trends import TrendsSetup, deflator_note, prepare_trends


def two_councils() -> pd.DataFrame:
    """Leeds paid in 14 months (Aug 2024 missing), Hyndburn in 3; rows numbered per file."""
    rows = (months(LEEDS, "2024-04-01", 15, "100.00", skip=("2024-08",),
                   publisher_name="Leeds City Council")
            + months(HYNDBURN, "2024-04-01", 3, "50.00", publisher_name="Hyndburn"))
    df = t.add_periods(frame(rows))
    df["source_sheet"] = ""
    df["source_line"] = 2
    return df


def test_prepare_trends_resolves_council_by_name_and_by_code():
    df = two_councils()
    by_name = prepare_trends(df, "Leeds City Council", base_year="2024-25")
    by_code = prepare_trends(df, LEEDS, base_year="2024-25")
    assert isinstance(by_name, TrendsSetup)
    assert (by_name.code, by_name.name) == (by_code.code, by_code.name) == (LEEDS, "Leeds")
    assert len(by_name.mine) == 14 and set(by_name.mine["publisher_code"]) == {LEEDS}
    assert len(by_name.tx) == 17


def test_prepare_trends_calendar_and_coverage_are_the_councils():
    setup = prepare_trends(two_councils(), LEEDS, base_year="2024-25")
    assert set(setup.calendar["publisher_code"]) == {LEEDS, HYNDBURN}
    assert set(setup.my_calendar["publisher_code"]) == {LEEDS}
    assert setup.my_coverage == t.coverage(setup.mine, setup.my_calendar)
    assert setup.my_coverage.total_gbp == Decimal("1400.00")
    assert setup.my_coverage.months_present == 14
    assert setup.my_coverage.months_missing == (f"{LEEDS} 2024-08",)


def test_prepare_trends_joins_extras_purpose():
    df = two_councils()
    first = df.iloc[0]
    extras = pd.DataFrame({"source_file": [first["source_file"]], "source_sheet": [""],
                           "source_line": [2], "purpose": ["Annual renewal"]})
    setup = prepare_trends(df, LEEDS, base_year="2024-25", extras=extras)
    assert setup.tx["purpose"].iloc[0] == "Annual renewal"
    assert setup.tx["purpose"].iloc[1:].isna().all()
    # No extras: the column is there, all blank, so the lump rule still runs.
    assert prepare_trends(df, LEEDS, base_year="2024-25").tx["purpose"].isna().all()


def test_headline_counts_payments_years_and_councils():
    setup = prepare_trends(two_councils(), LEEDS, base_year="2024-25")
    assert setup.headline() == ("Leeds (E08000035): 14 payments, 2 financial years; "
                                "17 payments from 2 councils in all")


def test_prepare_trends_unknown_council_names_the_councils():
    with pytest.raises(InputError, match="council: 'Nowhere' is not a publisher in the data; .*Hyndburn .E07000120"):
        prepare_trends(two_councils(), "Nowhere", base_year="2024-25")


def test_deflator_note_names_base_year_last_outturn_and_assumed_growth():
    assert deflator_note("2023-24") == (
        "Real terms: 2023-24 prices, GDP deflator (OBR March 2026: outturn to 2024-25, "
        "forecast to 2030-31); later years use an assumed 2% a year")
