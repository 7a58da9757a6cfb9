"""Tests for spendkit.reference.economy: deflator, CPI, CSP package data."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from spendkit.errors import NoDataError, SpendkitError
from spendkit.reference import economy as e


def test_gdp_deflator_values_and_rebasing() -> None:
    d = e.gdp_deflator()
    assert d["2024-25"] == 100.0
    assert d["2015-16"] == pytest.approx(74.53)
    assert d.index[0] == "2015-16" and d.index[-1] == "2024-25"
    r = e.gdp_deflator("2021-22")
    assert r["2021-22"] == pytest.approx(100.0)
    assert r["2024-25"] == pytest.approx(100 / 84.76 * 100)


def test_gdp_deflator_missing_years_are_explicit() -> None:
    with pytest.raises(NoDataError, match="2025-26.*extend_to"):
        e.gdp_deflator("2025-26")
    d = e.gdp_deflator("2025-26", extend_to="2027-28", assumed_growth=0.02)
    assert d["2025-26"] == 100.0
    assert d["2027-28"] / d["2026-27"] == pytest.approx(1.02)
    table = e.gdp_deflator_table(extend_to="2027-28")
    assert table.loc[table["is_assumption"], "financial_year"].tolist() == [
        "2025-26", "2026-27", "2027-28"]
    assert table.loc[table["is_assumption"], "source"].str.contains("assumption").all()
    assert not table.loc[~table["is_assumption"], "source"].isna().any()


def test_to_real_terms_with_decimal_amounts() -> None:
    amounts = pd.Series([Decimal("100.00"), Decimal("100.00")],
                        dtype=pd.ArrowDtype(pa.decimal128(18, 2)))
    years = pd.Series(["2015-16", "2024-25"])
    real = e.to_real_terms(amounts, years, "2024-25")
    assert real.iloc[0] == pytest.approx(100 * 100 / 74.53)
    assert real.iloc[1] == pytest.approx(100.0)
    # Rebasing: in 2015-16 prices the 2015-16 amount is unchanged.
    assert e.to_real_terms(amounts, years, "2015-16").iloc[0] == pytest.approx(100.0)


def test_to_real_terms_names_missing_years() -> None:
    with pytest.raises(SpendkitError, match="2026-27"):
        e.to_real_terms(pd.Series([1.0]), pd.Series(["2026-27"]), "2024-25")
    ext = e.gdp_deflator("2024-25", extend_to="2026-27")
    out = e.to_real_terms(pd.Series([104.04]), pd.Series(["2026-27"]), "2024-25", deflator=ext)
    assert out.iloc[0] == pytest.approx(100.0)


def test_cpi_series() -> None:
    cpi = e.cpi_annual()
    assert cpi[2022] == 9.1 and cpi.index.min() == 2015 and cpi.index.max() == 2025
    assert e.cpi_annual("september")[2022] == 10.1
    assert e.cpi_annual(include_forecast=True)[2027] == 2.0
    with pytest.raises(SpendkitError, match="expected"):
        e.cpi_annual("monthly")


def test_core_spending_power_flags_breaks() -> None:
    csp = e.core_spending_power()
    row = csp[(csp["financial_year"] == "2023-24")].iloc[0]
    assert row["csp_gbp_bn"] == 59.7 and row["confidence"] == "[S]"
    breaks = csp.loc[csp["definition_break"], "financial_year"].tolist()
    assert "2026-27" in breaks
    assert csp["source"].notna().all()


def test_local_digital_fund_round_one() -> None:
    ldf = e.local_digital_fund().set_index("item")
    assert ldf.loc["fund_launch", "amount_gbp"] == 7_500_000
    assert ldf.loc["round_1_awards", "count"] == 16
    assert ldf.loc["round_1_awards", "amount_gbp"] == 1_251_492
