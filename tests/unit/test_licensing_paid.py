"""What councils actually paid Microsoft: run-rate spreading and modelled-vs-paid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.errors import InputError
from spendkit.models import licensing as L
from spendkit.units.money import AMOUNT_TYPE


def _tx(rows):
    """Enriched transactions with the canonical dtypes (date32 dates, decimal amounts)."""
    df = pd.DataFrame(rows, columns=["publisher_name", "payment_date", "amount_gbp",
                                     "underlying_vendor"])
    df["payment_date"] = pd.array(df["payment_date"], dtype=pd.ArrowDtype(pa.date32()))
    df["amount_gbp"] = pd.array([Decimal(str(a)) for a in df["amount_gbp"]],
                                dtype=pd.ArrowDtype(AMOUNT_TYPE))
    return df


def _fixture():
    rows = [
        # Council A: annual renewals paid as lumps through a reseller.
        ("A", date(2023, 7, 15), "120000.00", "Microsoft"),
        ("A", date(2024, 7, 10), "132000.00", "microsoft"),
        ("A", date(2024, 9, 1), "-1200.00", "Microsoft"),  # credit note
        # Other suppliers give A's data coverage: Jan 2022 to Jun 2025.
        ("A", date(2022, 1, 5), "999.00", "Oracle"),
        ("A", date(2025, 6, 30), "500.00", None),
    ]
    # Council B pays monthly, Apr 2022 to Mar 2025.
    months = pd.date_range("2022-04-01", "2025-03-01", freq="MS")
    rows += [("B", m.date(), "1000.00", "Microsoft") for m in months]
    return _tx(rows)


def test_annual_lumps_are_spread_over_the_12_months_they_cover():
    rr = L.microsoft_paid_run_rate(_fixture())
    a = rr[rr["publisher_name"] == "A"].set_index("financial_year")
    assert list(a.index) == ["2023-24", "2024-25", "2025-26"]
    # Jul 2023 lump: 9 months in 2023-24, 3 in 2024-25; Jul 2024 lump: 9 + 3; Sep credit: 7 + 5.
    assert a.loc["2023-24", "run_rate_gbp"] == 90_000.00
    assert a.loc["2024-25", "run_rate_gbp"] == 30_000.00 + 99_000.00 - 700.00
    assert a.loc["2025-26", "run_rate_gbp"] == 33_000.00 - 500.00
    assert a.loc["2024-25", "paid_in_year_gbp"] == 130_800.00
    assert a.loc["2024-25", "n_payments"] == 2
    assert a.loc["2025-26", "n_payments"] == 0
    # Spreading moves money between years but never creates or loses it.
    assert a["run_rate_gbp"].sum() == pytest.approx(a["paid_in_year_gbp"].sum())


def test_coverage_flags_complete_years():
    rr = L.microsoft_paid_run_rate(_fixture()).set_index(["publisher_name", "financial_year"])
    assert rr.loc[("A", "2023-24"), "is_complete"]
    assert rr.loc[("A", "2024-25"), "is_complete"]
    assert not rr.loc[("A", "2025-26"), "is_complete"]
    assert rr.loc[("A", "2025-26"), "months_observed"] == 3
    assert rr.loc[("A", "2024-25"), "months_observed"] == 12


def test_monthly_payments_give_the_full_annual_total_in_steady_state():
    rr = L.microsoft_paid_run_rate(_fixture()).set_index(["publisher_name", "financial_year"])
    assert rr.loc[("B", "2023-24"), "run_rate_gbp"] == 12_000.00
    assert rr.loc[("B", "2023-24"), "is_complete"]
    # First year: the spread of early payments is still running into the next year.
    assert rr.loc[("B", "2022-23"), "run_rate_gbp"] == 6_500.00  # 1000 x 78/12
    assert not rr.loc[("B", "2022-23"), "is_complete"]


def test_missing_columns_and_no_microsoft_rows():
    with pytest.raises(InputError, match=r"missing column\(s\) \['underlying_vendor'\]"):
        L.microsoft_paid_run_rate(_fixture().drop(columns=["underlying_vendor"]))
    none = L.microsoft_paid_run_rate(_fixture(), vendor="Oracle Corp")
    assert none.empty and "run_rate_gbp" in none.columns


def test_modelled_vs_paid_sets_run_rate_beside_the_model():
    rr = L.microsoft_paid_run_rate(_fixture())
    ag = L.LicenceAgreement(seats={"E3": 300}, start=date(2023, 4, 1), term_years=3,
                            discount=L.DiscountRange(0.0, 0.1, 0.2), name="A E3")
    mv = L.modelled_vs_paid(rr, {"A": ag, "Nowhere": ag}).set_index("financial_year")
    assert list(mv.index) == ["2023-24", "2024-25", "2025-26"]
    central = round(300 * 33.10 * 12 * 0.9, 2)  # 107,244.00
    assert mv.loc["2023-24", "cost_gbp_central"] == central
    assert mv.loc["2023-24", "list_cost_gbp"] == round(300 * 33.10 * 12, 2)
    assert mv.loc["2023-24", "paid_to_modelled"] == round(90_000 / central, 4)
    assert not mv.loc["2023-24", "within_range"]  # 90,000 < low 95,328
    assert not mv.loc["2024-25", "within_range"]  # 128,300 > high 119,160
    assert mv.loc["2024-25", "paid_to_modelled"] == round(128_300 / central, 4)
    assert mv.loc["2024-25", "modelled_months"] == 12
    assert (mv["agreement"] == "A E3").all() and not mv["is_estimate"].any()


def test_modelled_vs_paid_partial_year_and_bad_input():
    rr = L.microsoft_paid_run_rate(_fixture())
    late = L.LicenceAgreement(seats={"E3": 10}, start=date(2024, 10, 1), term_years=1)
    mv = L.modelled_vs_paid(rr, {"A": late}).set_index("financial_year")
    assert pd.isna(mv.loc["2023-24", "cost_gbp_central"])
    assert mv.loc["2024-25", "modelled_months"] == 6
    ended = L.LicenceAgreement(seats={"E3": 10}, start=date(2020, 4, 1), term_years=1,
                               renew=False)
    gone = L.modelled_vs_paid(rr, {"A": ended})
    assert len(gone) == 3 and gone["cost_gbp_central"].isna().all()
    with pytest.raises(InputError, match="run_rate lacks columns"):
        L.modelled_vs_paid(pd.DataFrame({"x": [1]}), {"A": late})


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.dates(date(2019, 1, 1), date(2026, 12, 31)),
                          st.integers(-500_000, 5_000_000)), min_size=1, max_size=30))
def test_spreading_never_creates_or_loses_money(payments):
    df = _tx([("C", d, f"{p / 100:.2f}", "Microsoft") for d, p in payments])
    rr = L.microsoft_paid_run_rate(df)
    total = sum(p for _, p in payments) / 100
    assert rr["run_rate_gbp"].sum() == pytest.approx(total, abs=0.01 * len(rr) + 0.01)
    assert rr["paid_in_year_gbp"].sum() == pytest.approx(total, abs=0.01)
    assert rr["n_payments"].sum() == len(payments)
    assert rr["months_observed"].between(0, 12).all()
