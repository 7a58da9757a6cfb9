"""Trend functions on hand-written frames with known answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.errors import InputError, NoDataError
from spendkit.models import trends as t
from spendkit.reference import economy
from spendkit.units import periods

AMOUNT = pd.ArrowDtype(pa.decimal128(18, 2))
DATE = pd.ArrowDtype(pa.date32())
LEEDS, HYNDBURN, OXFORD = "E08000035", "E07000120", "E07000178"


def frame(rows: list[dict]) -> pd.DataFrame:
    """Transactions with canonical dtypes; unspecified columns get plain defaults."""
    defaults = dict(publisher_name="Council", publisher_code=LEEDS, date_precision="day",
                    supplier_name="Acme Ltd", supplier_canonical="Acme", is_redacted=False,
                    is_it=True, it_category="software", it_basis="expense_type",
                    underlying_vendor=None, description="", source_file=None)
    out = pd.DataFrame([{**defaults, **r} for r in rows])
    out["payment_date"] = pd.Series([pd.Timestamp(d).date() for d in out["payment_date"]],
                                    dtype=DATE)
    out["amount_gbp"] = pd.Series([Decimal(str(a)) for a in out["amount_gbp"]], dtype=AMOUNT)
    # Default source file: one file per council and month, as publishers do.
    missing_file = out["source_file"].isna()
    out.loc[missing_file, "source_file"] = (
        out["publisher_code"] + "_" + out["payment_date"].astype(str).str[:7] + ".csv")[
        missing_file]
    return out


def months(code: str, first: str, n: int, amount: str = "100.00", skip=(), **extra) -> list:
    """One payment on the 15th of each of `n` months from `first`, skipping `skip` months."""
    start = pd.Timestamp(first)
    out = []
    for k in range(n):
        day = (start + pd.DateOffset(months=k)).replace(day=15)
        if day.strftime("%Y-%m") in skip:
            continue
        out.append(dict(publisher_code=code, payment_date=day, amount_gbp=amount, **extra))
    return out


# --- periods ------------------------------------------------------------------------------------


def test_financial_year_boundary_31_march_1_april():
    df = frame([dict(payment_date="2024-03-31", amount_gbp="1.00"),
                dict(payment_date="2024-04-01", amount_gbp="2.00"),
                dict(payment_date="2025-01-01", amount_gbp="3.00")])
    out = t.add_periods(df)
    assert list(out["financial_year"]) == ["2023-24", "2024-25", "2024-25"]
    assert list(out["fy_quarter"]) == [4, 1, 4]
    assert list(out["quarter"]) == ["2023-24 Q4", "2024-25 Q1", "2024-25 Q4"]
    assert list(out["month"]) == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-01"),
                                  pd.Timestamp("2025-01-01")]
    # The same labels as the economy module's financial_year.
    assert list(out["financial_year"]) == list(periods.financial_year(df["payment_date"]))


@settings(max_examples=12, deadline=None)
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31)))
def test_financial_year_matches_definition(day):
    out = t.add_periods(frame([dict(payment_date=day, amount_gbp="1")]))
    start = day.year if day.month >= 4 else day.year - 1
    assert out["financial_year"].iloc[0] == f"{start}-{(start + 1) % 100:02d}"
    assert 1 <= out["fy_quarter"].iloc[0] <= 4


def test_period_totals_equal_input_to_the_penny():
    rows = [dict(payment_date=f"2024-{m:02d}-10", amount_gbp=a)
            for m, a in [(3, "0.01"), (4, "1234.56"), (4, "-0.02"), (7, "99999.99"), (1, "0.10")]]
    df = frame(rows)
    for period in ("month", "quarter", "financial_year"):
        out = t.period_totals(df, period)
        assert out["amount_gbp"].dtype == AMOUNT
        assert out["amount_gbp"].sum() == Decimal("101234.64")
        assert out["n_payments"].sum() == 5
    fy = t.period_totals(df, "financial_year")
    assert dict(zip(fy["financial_year"], fy["amount_gbp"], strict=True)) == {
        "2023-24": Decimal("0.11"), "2024-25": Decimal("101234.53")}


@settings(max_examples=6, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 800), st.integers(-10**9, 10**9)), min_size=1,
                max_size=40))
def test_totals_exact_for_any_amounts(items):
    base = dt.date(2020, 1, 1)
    df = frame([dict(payment_date=base + dt.timedelta(days=d),
                     amount_gbp=Decimal(p) / 100) for d, p in items])
    expected = Decimal(sum(p for _, p in items)) / 100
    assert t.period_totals(df, "month")["amount_gbp"].sum() == expected
    assert t.period_totals(df, "financial_year")["amount_gbp"].sum() == expected


def test_it_only_and_bad_period():
    df = frame([dict(payment_date="2024-05-01", amount_gbp="10"),
                dict(payment_date="2024-05-02", amount_gbp="5", is_it=False)])
    assert t.period_totals(df, it_only=True)["amount_gbp"].sum() == Decimal("10")
    with pytest.raises(InputError, match="period"):
        t.period_totals(df, "week")
    with pytest.raises(InputError, match="amount_gbp"):
        t.period_totals(df.drop(columns=["amount_gbp"]))


# --- monthly series, rolling, yoy ----------------------------------------------------------------


def test_monthly_series_keeps_gap_as_na_not_zero():
    df = frame(months(LEEDS, "2024-01-01", 4, skip=("2024-02",)))
    out = t.monthly_series(df)
    assert list(out["month"].dt.strftime("%Y-%m")) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert out["amount_gbp"].isna().tolist() == [False, True, False, False]
    assert list(out["n_payments"]) == [1, 0, 1, 1]


def test_rolling_12m_sums_and_breaks_on_gap():
    amounts = [str(k) for k in range(1, 16)]  # 1..15 over 15 months
    rows = [dict(publisher_code=LEEDS, payment_date=pd.Timestamp("2023-04-15")
                 + pd.DateOffset(months=k), amount_gbp=a) for k, a in enumerate(amounts)]
    out = t.rolling_12m(t.monthly_series(frame(rows)))
    rolled = out["rolling_12m_gbp"]
    assert rolled.iloc[:11].isna().all()
    assert rolled.iloc[11] == Decimal(sum(range(1, 13)))  # 78
    assert rolled.iloc[14] == Decimal(sum(range(4, 16)))  # 114
    # A missing month blanks every window that contains it.
    gap = frame([r for r in rows if pd.Timestamp(r["payment_date"]).month != 6])
    out_gap = t.rolling_12m(t.monthly_series(gap))
    assert out_gap["rolling_12m_gbp"].isna().all()


def test_rolling_12m_per_council_independent():
    df = frame(months(LEEDS, "2023-04-01", 12, "10") + months(OXFORD, "2023-04-01", 12, "1"))
    out = t.rolling_12m(t.monthly_series(df))
    last = out.groupby("publisher_code")["rolling_12m_gbp"].last()
    assert last[LEEDS] == Decimal("120.00") and last[OXFORD] == Decimal("12.00")


def test_yoy_change_financial_year_and_month():
    df = frame(months(LEEDS, "2023-04-01", 12, "100") + months(LEEDS, "2024-04-01", 12, "110"))
    fy = t.yoy_change(t.period_totals(df, "financial_year"), "financial_year")
    assert fy["change_gbp"].iloc[1] == Decimal("120.00")
    assert fy["change_pct"].iloc[1] == pytest.approx(10.0)
    assert pd.isna(fy["change_gbp"].iloc[0])
    monthly = t.yoy_change(t.monthly_series(df), "month")
    assert monthly["change_gbp"].iloc[12] == Decimal("10.00")
    quarters = t.yoy_change(t.period_totals(df, "quarter"), "quarter")
    assert list(quarters["change_gbp"].iloc[4:]) == [Decimal("30.00")] * 4


def test_missing_month_is_not_read_as_a_fall():
    df = frame(months(LEEDS, "2023-04-01", 12, "100")
               + months(LEEDS, "2024-04-01", 12, "100", skip=("2024-09",)))
    result = t.it_spend_trend(df)
    table = result.table.set_index("financial_year")
    assert table.loc["2024-25", "amount_gbp"] == Decimal("1100.00")
    assert not table.loc["2024-25", "is_complete"]
    assert pd.isna(table.loc["2024-25", "change_gbp"])  # not a -100 fall
    cov = result.coverage.set_index("financial_year")
    assert cov.loc["2024-25", "months_missing"] == 1
    assert t.exclude_incomplete(t.period_totals(df), t.completeness_calendar(df))[
        "financial_year"].tolist() == ["2023-24"]


# --- real terms, per head, councils -------------------------------------------------------------


def test_real_terms_uses_economy_deflator():
    df = frame(months(LEEDS, "2023-04-01", 24, "100"))
    out = t.real_terms(t.period_totals(df), "2024-25")
    deflator = economy.gdp_deflator("2024-25")
    assert out["amount_gbp_real"].iloc[0] == pytest.approx(1200 * 100 / deflator["2023-24"],
                                                           abs=0.01)
    assert out["amount_gbp_real"].iloc[1] == pytest.approx(1200.0)
    assert out["real_terms_known"].all()


def test_real_terms_unknown_year_na_or_raise():
    df = frame(months(LEEDS, "2010-04-01", 2, "100"))
    out = t.real_terms(t.period_totals(df), "2024-25")
    assert out["amount_gbp_real"].isna().all() and not out["real_terms_known"].any()
    with pytest.raises(NoDataError):
        t.real_terms(t.period_totals(df), "2024-25", missing="raise")


def test_population_and_per_head():
    pop = t.load_population().set_index("gss_code")
    for code in (LEEDS, HYNDBURN, OXFORD, "E06000008", "E08000009", "E08000003", "E09000022",
                 "E08000025", "E08000032"):
        assert pop.loc[code, "population"] > 10_000
        assert pop.loc[code, "year"] == 2024
        assert "ONS" in pop.loc[code, "source"] and "mid-2024" in pop.loc[code, "source"]
    # ONS MYE2 mid-2024, all ages (the 2020 mySociety figures were up to 22% off).
    assert pop.loc["E06000008", "population"] == 162_540
    assert pop.loc[HYNDBURN, "population"] == 86_058
    assert len(pop) == 317
    table = pd.DataFrame({"publisher_code": [LEEDS, "E99999999"],
                          "amount_gbp": pd.Series([Decimal("798786.00"), Decimal("1")],
                                                  dtype=AMOUNT)})
    custom = pd.DataFrame({"gss_code": [LEEDS], "population": [798786], "year": [2020]})
    out = t.per_head(table, population=custom)
    assert out["amount_gbp_per_head"].iloc[0] == pytest.approx(1.0)
    assert pd.isna(out["amount_gbp_per_head"].iloc[1])


def test_council_info_tiers():
    info = t.council_info([LEEDS, HYNDBURN, "E99999999"]).set_index("gss_code")
    assert info.loc[LEEDS, "tier"] == "unitary"
    assert info.loc[HYNDBURN, "tier"] == "lower tier"
    assert info.loc[HYNDBURN, "region"] == "North West"
    assert pd.isna(info.loc["E99999999", "tier"])
    las = t.load_local_authorities()
    assert las["gss_code"].is_unique and las["source"].str.contains("mySociety").all()


# --- coverage, shares, peers --------------------------------------------------------------------


def test_coverage_parts_and_shares():
    df = frame([
        dict(payment_date="2024-04-10", amount_gbp="600"),
        dict(payment_date="2024-04-11", amount_gbp="100", is_it=False, it_basis=""),
        dict(payment_date="2024-04-12", amount_gbp="200", is_redacted=True, is_it=False,
             it_basis="expense_type", it_category=""),
        dict(payment_date="2024-04-13", amount_gbp="100", it_category=""),
    ])
    cov = t.coverage(df)
    assert cov.total_gbp == Decimal("1000.00")
    assert cov.it_gbp == Decimal("700.00")
    assert cov.unclassified_gbp == Decimal("100.00")
    assert cov.classified_pct + cov.unclassified_pct == pytest.approx(100.0)
    assert cov.redacted_pct == pytest.approx(20.0)
    assert cov.it_uncategorised_gbp == Decimal("100.00")
    assert cov.months_present == 1 and cov.months_missing == ()
    assert "90.0% of spend classified" in cov.caption()
    table = t.coverage_table(df)
    assert table["classified_gbp"].iloc[0] == Decimal("900.00")
    assert table["classified_pct"].iloc[0] + table["unclassified_pct"].iloc[0] == \
        pytest.approx(100.0)


def test_coverage_counts_not_it_evidence_as_classified():
    df = frame([
        dict(payment_date="2024-04-10", amount_gbp="100"),  # IT
        dict(payment_date="2024-04-11", amount_gbp="500", is_it=False, it_category="",
             it_basis="expense_type (not IT)"),  # 'Residential Care'
        dict(payment_date="2024-04-12", amount_gbp="150", is_it=False, it_category="",
             it_basis="supplier (not IT)"),  # a not-IT trap supplier
        dict(payment_date="2024-04-13", amount_gbp="250", is_it=False, it_category="",
             it_basis=""),  # no evidence either way
    ])
    cov = t.coverage(df)
    assert cov.classified_gbp == Decimal("750.00")
    assert cov.unclassified_gbp == Decimal("250.00")
    assert cov.caption().startswith(
        "75.0% of spend classified on evidence (IT or not IT), "
        "25.0% no evidence either way (counted as not IT), 0.0% redacted;")


def test_category_shares_sum_to_100():
    df = frame([dict(payment_date="2024-05-01", amount_gbp="300", it_category="software"),
                dict(payment_date="2024-05-02", amount_gbp="100", it_category="telecoms"),
                dict(payment_date="2024-05-03", amount_gbp="100", it_category=""),
                dict(payment_date="2024-05-04", amount_gbp="77", is_it=False)])
    out = t.category_shares(df)
    assert out["share_pct"].sum() == pytest.approx(100.0)
    assert dict(zip(out["it_category"], out["share_pct"], strict=True)) == pytest.approx(
        {"(uncategorised)": 20.0, "software": 60.0, "telecoms": 20.0})
    assert out["amount_gbp"].sum() == Decimal("500.00")


def test_peer_comparison_percentiles_per_head():
    df = frame(months(LEEDS, "2023-04-01", 12, "1000") + months(HYNDBURN, "2023-04-01", 12, "500")
               + months(OXFORD, "2023-04-01", 12, "50"))
    out = t.peer_comparison(df, base_year="2024-25").set_index("publisher_code")
    assert (out["n_peers"] == 3).all()
    # Per head (ONS mid-2024): Hyndburn 6000/86058 > Leeds 12000/845189 > Oxford 600/166034.
    assert out.loc[HYNDBURN, "percentile"] == 100.0
    assert out.loc[LEEDS, "percentile"] == 50.0
    assert out.loc[OXFORD, "band"] == "lowest quarter"
    assert out.loc[HYNDBURN, "band"] == "highest quarter"
    assert out.loc[LEEDS, "tier"] == "unitary"
    assert out.loc[LEEDS, "value_per_head"] == pytest.approx(
        12000 * 100 / economy.gdp_deflator("2024-25")["2023-24"] / 845189, rel=1e-3)


def test_peer_comparison_incomplete_year_not_ranked():
    df = frame(months(LEEDS, "2023-04-01", 12) + months(OXFORD, "2023-04-01", 12,
                                                        skip=("2023-08",)))
    out = t.peer_comparison(df).set_index("publisher_code")
    assert out.loc[OXFORD, "band"] == "incomplete year"
    assert out.loc[LEEDS, "band"] == "no peers"


def test_it_spend_trend_per_head_and_real():
    df = frame(months(LEEDS, "2023-04-01", 24, "100"))
    result = t.it_spend_trend(df, base_year="2024-25", per_resident=True)
    assert {"amount_gbp_real", "amount_gbp_per_head", "amount_gbp_real_per_head"} <= set(
        result.table.columns)
    assert result.table["amount_gbp"].sum() == df["amount_gbp"].sum()
    assert list(result.coverage["it_pct"]) == [100.0, 100.0]
    monthly = t.it_spend_trend(df, period="month")
    assert len(monthly.table) == 24 and monthly.table["is_complete"].all()
    assert t.for_plot(monthly.table)["amount_gbp"].dtype == "float64"


def test_combined_trend_judges_completeness_per_council():
    df = frame(months(LEEDS, "2023-04-01", 24, "100")
               + months(OXFORD, "2023-04-01", 24, "10", skip=("2024-06",)))
    table = t.it_spend_trend(df, period="quarter", by=()).table.set_index("quarter")
    # Two councils' files in one month are not a duplicate; Oxford's gap blanks only 2024-25 Q1.
    assert table["is_complete"].sum() == 7
    assert pd.isna(table.loc["2024-25 Q1", "change_gbp"])
    assert table.loc["2024-25 Q2", "change_gbp"] == Decimal("0.00")
    monthly = t.it_spend_trend(df, period="month", by=()).table
    assert monthly["is_complete"].sum() == 23 and len(monthly) == 24


def test_join_extras_adds_purpose_by_row_without_changing_rows():
    df = frame([dict(payment_date="2024-04-01", amount_gbp="1.00"),
                dict(payment_date="2024-04-02", amount_gbp="2.00")])
    df["source_sheet"] = ""
    df["source_line"] = [2, 3]
    extras = pd.DataFrame({"source_file": [df["source_file"].iloc[0]], "source_sheet": [""],
                           "source_line": [3], "purpose": ["Annual renewal"], "other": [None]})
    out = t.join_extras(df, extras, ("purpose", "absent"))
    assert len(out) == 2 and list(out.index) == list(df.index)
    assert out["purpose"].isna().iloc[0] and out["purpose"].iloc[1] == "Annual renewal"
    assert out["absent"].isna().all()
    with pytest.raises(InputError, match="more than one row"):
        t.join_extras(df, pd.concat([extras, extras]))


def test_trend_summary_peer_bands_and_extend_to():
    rows = (months(LEEDS, "2024-04-01", 24, amount="1000.00")
            + months(HYNDBURN, "2024-04-01", 24, amount="100.00")
            + months(OXFORD, "2024-04-01", 24, amount="500.00"))
    df = frame(rows)
    result = t.it_spend_trend(df, base_year="2024-25", per_resident=True, extend_to="2025-26")
    summary = t.trend_summary(result)
    assert len(summary) == 6 and summary["amount_gbp_real"].notna().all()
    assert summary["classified_pct"].eq(100).all() and summary["months_missing"].eq(0).all()
    deflator = economy.gdp_deflator("2024-25", extend_to="2025-26")
    leeds_25 = summary[(summary["publisher_code"] == LEEDS)
                       & (summary["financial_year"] == "2025-26")].iloc[0]
    assert leeds_25["amount_gbp_real"] == pytest.approx(12000 * 100 / deflator["2025-26"],
                                                        abs=0.01)
    peers = t.peer_comparison(df, base_year="2024-25", extend_to="2025-26")
    bands = t.peer_bands(peers)
    assert list(bands["financial_year"]) == ["2024-25", "2025-26"]
    per_head = peers[peers["financial_year"] == "2024-25"].set_index("publisher_code")[
        "value_per_head"]
    first = bands.iloc[0]
    assert first["n_peers"] == 3 and first["median"] == pytest.approx(per_head.median())
    assert first["min"] == pytest.approx(per_head.min())
    assert first["max"] == pytest.approx(per_head.max())
    assert "of spend classified on evidence" in t.coverage(df).caption()


def test_council_code_by_name_or_code_and_clear_error():
    df = frame([dict(payment_date="2024-04-01", amount_gbp="1.00", publisher_name="Leeds CC"),
                dict(payment_date="2024-04-01", amount_gbp="1.00", publisher_code=OXFORD,
                     publisher_name="Oxford CC")])
    assert t.council_code(df, "Leeds CC") == LEEDS
    assert t.council_code(df, f" {OXFORD} ") == OXFORD
    with pytest.raises(InputError, match=r"council: 'Nowhere' is not a publisher in the data; .*Leeds CC \(E08000035\)"):
        t.council_code(df, "Nowhere")
