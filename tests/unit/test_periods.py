"""Tests for spendkit.units.periods: the one home of the financial-year rule."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spendkit.errors import InputError
from spendkit.units import periods as e


def test_financial_year_boundaries_and_missing_on_arrow_dates() -> None:
    s = pd.Series(pa.array([date(2021, 3, 31), date(2021, 4, 1), None, date(2022, 12, 1)]),
                  dtype=pd.ArrowDtype(pa.date32()), index=[10, 11, 12, 13])
    out = e.financial_year(s)
    assert out.tolist()[:2] == ["2020-21", "2021-22"]
    assert pd.isna(out.iloc[2])
    assert out.iloc[3] == "2022-23"
    assert list(out.index) == [10, 11, 12, 13]


def test_financial_year_century_and_inputs() -> None:
    assert e.financial_year([date(2000, 1, 1), "2099-04-01"]).tolist() == ["1999-00", "2099-00"]
    assert e.financial_year(pd.Series([], dtype="datetime64[s]")).tolist() == []


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_financial_year_round_trips_with_start(d: date) -> None:
    label = e.financial_year([d]).iloc[0]
    start = e.financial_year_start(label)
    assert start <= d < date(start.year + 1, 4, 1)
    assert start == date(start.year, 4, 1)
    # The day before 1 April belongs to the previous year.
    assert e.financial_year([start - timedelta(days=1)]).iloc[0] == e.shift_financial_year(
        label, -1)


@pytest.mark.parametrize("bad", ["2021-23", "2021/22", "21-22", "", "abcd-ef"])
def test_financial_year_start_rejects_bad_labels(bad: str) -> None:
    with pytest.raises(InputError, match="financial year"):
        e.financial_year_start(bad)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_every_form_of_the_april_rule_agrees(d: date) -> None:
    start = e.financial_year_of(d)
    assert e.financial_year([d]).iloc[0] == e.financial_year_label(start)
    assert int(e.start_years_of_dates(pa.array([d], pa.date32()))[0]) == start
    assert int(e.start_years_of_month_index(np.array([d.year * 12 + d.month - 1]))[0]) == start
    assert e.start_years_of_labels(pd.Series([e.financial_year_label(start)])).iloc[0] == start
    window = e.financial_year_window([e.financial_year_label(start)])
    assert window[0] <= d <= window[1]


def test_financial_year_window_and_bad_input():
    assert e.financial_year_window(["2025-26", "2021-22"]) == (date(2021, 4, 1),
                                                               date(2026, 3, 31))
    with pytest.raises(InputError, match="non-empty list of financial years"):
        e.financial_year_window("2021-22")
