"""Tests for spendkit.reference.economy: deflator, CPI, CSP package data."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from spendkit.errors import NoDataError, SpendkitError
from spendkit.reference import economy as e


def test_gdp_deflator_values_and_rebasing() -> None:
    # OBR March 2026 Table 1.7, financial-year index rebased to 2024-25 = 100 (78.275 / 104.95).
    d = e.gdp_deflator()
    assert d["2024-25"] == 100.0
    assert d["2015-16"] == pytest.approx(74.5831)
    assert d["2025-26"] == pytest.approx(103.2388)  # part outturn, part forecast
    assert d.index[0] == "2015-16" and d.index[-1] == "2030-31"
    r = e.gdp_deflator("2021-22")
    assert r["2021-22"] == pytest.approx(100.0)
    assert r["2024-25"] == pytest.approx(100 / 85.3263 * 100)
    status = e.gdp_deflator_table().set_index("financial_year")["status"]
    assert (status["2024-25"], status["2025-26"], status["2026-27"]) == (
        "outturn", "mixed", "forecast")


def test_gdp_deflator_missing_years_are_explicit() -> None:
    with pytest.raises(NoDataError, match="2031-32.*extend_to"):
        e.gdp_deflator("2031-32")
    d = e.gdp_deflator("2031-32", extend_to="2033-34", assumed_growth=0.02)
    assert d["2031-32"] == 100.0
    assert d["2033-34"] / d["2032-33"] == pytest.approx(1.02)
    table = e.gdp_deflator_table(extend_to="2032-33")
    assert table.loc[table["is_assumption"], "financial_year"].tolist() == [
        "2031-32", "2032-33"]
    assert set(table.loc[table["is_assumption"], "confidence"]) == {"low"}
    assert table.loc[table["is_assumption"], "source"].str.contains("assumption").all()
    assert not table.loc[~table["is_assumption"], "source"].isna().any()


def test_to_real_terms_with_decimal_amounts() -> None:
    amounts = pd.Series([Decimal("100.00"), Decimal("100.00")],
                        dtype=pd.ArrowDtype(pa.decimal128(18, 2)))
    years = pd.Series(["2015-16", "2024-25"])
    real = e.to_real_terms(amounts, years, "2024-25")
    assert real.iloc[0] == pytest.approx(100 * 100 / 74.5831)
    assert real.iloc[1] == pytest.approx(100.0)
    # Rebasing: in 2015-16 prices the 2015-16 amount is unchanged.
    assert e.to_real_terms(amounts, years, "2015-16").iloc[0] == pytest.approx(100.0)


def test_to_real_terms_names_missing_years() -> None:
    with pytest.raises(SpendkitError, match="2031-32"):
        e.to_real_terms(pd.Series([1.0]), pd.Series(["2031-32"]), "2024-25")
    # 2026-27 is an OBR forecast year now: no extension needed.
    out = e.to_real_terms(pd.Series([105.3095]), pd.Series(["2026-27"]), "2024-25")
    assert out.iloc[0] == pytest.approx(100.0)
    ext = e.gdp_deflator("2024-25", extend_to="2031-32")
    out = e.to_real_terms(pd.Series([113.6416 * 1.02]), pd.Series(["2031-32"]), "2024-25",
                          deflator=ext)
    assert out.iloc[0] == pytest.approx(100.0)


def test_cpi_series() -> None:
    cpi = e.cpi_annual()
    assert cpi[2022] == 9.1 and cpi.index.min() == 2015 and cpi.index.max() == 2025
    assert e.cpi_annual("september")[2022] == 10.1
    forecast = e.cpi_annual(include_forecast=True)
    assert (forecast[2026], forecast[2027], forecast.index.max()) == (2.3, 2.0, 2030)
    with pytest.raises(SpendkitError, match="expected"):
        e.cpi_annual("monthly")


def test_core_spending_power_flags_breaks() -> None:
    csp = e.core_spending_power()
    row = csp[(csp["financial_year"] == "2023-24")].iloc[0]
    assert row["csp_gbp_bn"] == 59.7 and row["confidence"] == "high"
    breaks = csp.loc[csp["definition_break"], "financial_year"].tolist()
    assert "2026-27" in breaks
    assert csp["source"].notna().all()


def test_local_digital_fund_round_one() -> None:
    ldf = e.local_digital_fund().set_index("item")
    assert ldf.loc["fund_launch", "amount_gbp"] == 7_500_000
    assert ldf.loc["round_1_awards", "count"] == 16
    assert ldf.loc["round_1_awards", "amount_gbp"] == 1_251_492


def test_cpi_for_years_marks_outturn_forecast_and_held() -> None:
    table = e.cpi_for_years(["2025-26", "2026-27", "2027-28", "2031-32"]).set_index(
        "financial_year")
    assert table["rate_pct"].tolist() == [3.4, 2.3, 2.0, 2.0]
    assert table["status"].tolist() == ["outturn", "forecast", "forecast", "held"]
    assert table.loc["2031-32", "confidence"] == "low"
    assert "assumption" in table.loc["2031-32", "source"]


def test_cpi_persistence_is_the_lag_one_autocorrelation() -> None:
    # ONS D7G7 annual averages 2015-2025: 0.0 0.7 2.7 2.5 1.8 0.9 2.6 9.1 7.3 2.5 3.4.
    rho, basis = e.cpi_persistence()
    assert rho == pytest.approx(0.4638, abs=1e-4)
    assert "2015-2025" in basis and "11 years" in basis


def test_england_settlement_fallback_path() -> None:
    path = e.england_settlement_growth().set_index("financial_year")
    assert path.loc["2025-26", "growth_pct"] == 6.8
    # Final settlement 2026-27: (3.9 + 0.74) / (3.9 / 0.058) = 6.90%.
    assert path.loc["2026-27", "growth_pct"] == pytest.approx(6.90, abs=0.005)
    assert path.loc["2026-27", "confidence"] == "low"
    assert "final settlement" in path.loc["2026-27", "basis"]
    assert (path.loc["2027-28", "growth_pct"], path.loc["2028-29", "growth_pct"]) == (4.3, 4.4)
    assert path["source"].str.len().gt(0).all()
