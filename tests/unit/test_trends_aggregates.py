"""The DuckDB aggregates give the row-level trend functions' tables exactly, quirks included."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from spendkit.errors import InputError
from spendkit.models import trends as T
from spendkit.models.trends import aggregates as A

AMOUNT = pd.ArrowDtype(pa.decimal128(18, 2))
BWD, HYN = "E06000008", "E07000120"


def frame(rows: list[dict]) -> pd.DataFrame:
    """Transactions typed as `read_transactions` returns them (dates datetime64[ms])."""
    defaults = dict(publisher_name="Blackburn", publisher_code=BWD, supplier_name="Acme Ltd",
                    supplier_canonical="Acme", supplier_role="", is_redacted=False, is_it=True,
                    it_category="software_licences", it_basis="expense_type",
                    underlying_vendor="", source_file="a.csv")
    out = pd.DataFrame([{**defaults, **r} for r in rows])
    out["payment_date"] = pd.to_datetime(out["payment_date"]).astype("datetime64[ms]")
    out["amount_gbp"] = pd.Series([Decimal(str(a)) for a in out["amount_gbp"]], dtype=AMOUNT)
    for col in ("publisher_name", "publisher_code", "supplier_name", "supplier_canonical",
                "supplier_role", "it_category", "it_basis", "underlying_vendor", "source_file"):
        out[col] = out[col].astype("str")
    out["is_it"] = out["is_it"].astype("boolean")
    out["is_redacted"] = out["is_redacted"].astype("boolean")
    return out


def quirky() -> pd.DataFrame:
    """Two councils, credits, blanks made of unicode whitespace, unknown IT status, a month in
    two files with a payment repeated in both, a missing month, resellers and a role market."""
    rows = []
    for month in ("2024-04", "2024-05", "2024-07", "2024-08", "2025-03", "2025-04"):
        rows += [dict(payment_date=f"{month}-03", amount_gbp="1200.00", source_file=f"{month}.csv"),
                 dict(payment_date=f"{month}-09", amount_gbp="-80.10", is_it=False,
                      it_basis="expense_type (not IT)", it_category="",
                      source_file=f"{month}.csv"),
                 dict(payment_date=f"{month}-20", amount_gbp="499.99", is_it=False, it_basis=" ",
                      it_category="", supplier_canonical="\u00a0", supplier_name=" Bob ",
                      source_file=f"{month}.csv")]
    rows += [
        # A second file for May 2024 repeating one payment of the first, plus its own.
        dict(payment_date="2024-05-03", amount_gbp="1200.00", source_file="2024-05-bis.csv"),
        dict(payment_date="2024-05-04", amount_gbp="310.00", source_file="2024-05-bis.csv",
             supplier_name=None, supplier_canonical=None),
        dict(payment_date="2024-05-05", amount_gbp="55.00", source_file="2024-05-bis.csv",
             is_it=None, it_basis=None, it_category=None),
        dict(payment_date="2024-05-06", amount_gbp="700.00", source_file="2024-05-bis.csv",
             is_redacted=True, supplier_canonical="", supplier_name="REDACTED", is_it=False,
             it_basis="", it_category=""),
        dict(payment_date="2024-06-06", amount_gbp="900.00", source_file="2024-06.csv",
             it_category="\t", supplier_canonical="Phoenix", underlying_vendor=" Microsoft\u2003"),
        dict(payment_date="2024-06-07", amount_gbp="0.00", source_file="2024-06.csv",
             it_category="line_of_business", supplier_role="social_care_system",
             supplier_canonical=" Care Co"),
    ]
    rows += [dict(publisher_name="Hyndburn", publisher_code=HYN, payment_date=f"{m}-11",
                  amount_gbp=a, source_file=f"h-{m}.csv", supplier_canonical=s, it_category=c)
             for m, a, s, c in (("2024-04", "260.00", "Acme", "hardware"),
                                ("2024-05", "130.00", "Zeta", "hardware"),
                                ("2024-06", "150.00", "Acme", "telecoms_network"),
                                ("2024-06", "90.00", "", "telecoms_network"))]
    return frame(rows)


def both_calendars(df: pd.DataFrame, by=("publisher_code",)):
    months = A.month_totals(df)
    return (T.completeness_calendar(df, by),
            T.calendar_from_months(months, A.repeated_rows(df, months, by), by), months)


@pytest.mark.parametrize("by", [("publisher_code",), ("publisher_name",),
                                ("publisher_code", "publisher_name")])
def test_calendar_from_months_is_the_row_calendar(by) -> None:
    rows, aggregated, _ = both_calendars(quirky(), by)
    assert_frame_equal(rows, aggregated)
    may = aggregated[aggregated["month_label"].eq("2024-05")].iloc[0]
    assert may["n_repeated_rows"] == 2 and may["status"] == "duplicated"
    assert aggregated["status"].eq("missing").sum() >= 1


@pytest.mark.parametrize("period", ["financial_year", "month", "quarter"])
def test_it_spend_trend_from_months_is_the_row_trend(period: str) -> None:
    df = quirky()
    cal, cal2, months = both_calendars(df)
    kwargs = {"base_year": "2024-25", "per_resident": True} if period != "quarter" else {}
    a = T.it_spend_trend(df, period=period, calendar=cal, **kwargs)
    b = T.it_spend_trend_from_months(months, cal2, period=period, **kwargs)
    assert_frame_equal(a.table, b.table)
    assert_frame_equal(a.coverage, b.coverage)


@pytest.mark.parametrize(("by", "period"), [((), None), ((), "financial_year"),
                                            (("publisher_name",), "quarter"),
                                            (("publisher_code",), "month")])
def test_coverage_from_months_is_the_row_coverage(by, period) -> None:
    df = quirky()
    cal, cal2, months = both_calendars(df)
    assert_frame_equal(T.coverage_table(df, by, period, calendar=cal),
                       T.coverage_table_from_months(months, by, period, calendar=cal2))
    assert T.coverage(df, cal) == T.coverage_from_months(months, cal2)
    # Blank-looking text counts as no evidence: ' ' and NBSP bases are unclassified.
    cov = T.coverage_from_months(months, cal2)
    assert cov.classified_gbp + cov.unclassified_gbp == cov.total_gbp
    assert cov.unclassified_gbp >= Decimal("499.99") * 6 + Decimal("55.00")


def test_months_coverage_needs_the_calendar() -> None:
    months = A.month_totals(quirky())
    with pytest.raises(InputError, match="calendar"):
        T.coverage_from_months(months)


def test_publisher_facts_and_thresholds_from_months() -> None:
    df = quirky()
    cal, cal2, months = both_calendars(df)
    assert_frame_equal(T.observed_threshold(df), T.observed_threshold_from_months(months))
    assert_frame_equal(T.publisher_facts(df, cal), T.publisher_facts_from_months(months, cal2))


@pytest.mark.parametrize(("by", "use_vendor"), [(("it_category",), False),
                                                (("it_market",), True),
                                                (("publisher_code", "it_category"), True),
                                                ((), False)])
def test_supplier_totals_in_sql_match_pandas(by, use_vendor: bool) -> None:
    df = quirky()
    rows = df.assign(it_market=T.it_market(df)) if "it_market" in by else df
    expected = T.supplier_totals(rows, by, use_vendor=use_vendor)
    got = A.supplier_totals(df, by, use_vendor=use_vendor)
    assert_frame_equal(expected, got)
    assert_frame_equal(T.concentration(rows, by, use_vendor=use_vendor),
                       T.concentration_from_totals(got, by))
    assert_frame_equal(T.top_suppliers(rows, 2, by, use_vendor=use_vendor),
                       T.top_suppliers_from_totals(got, 2, by))
    # Supplier names are trimmed, blanks fall through to the next name, REDACTED is left out.
    assert "REDACTED" not in set(got["supplier"])
    if use_vendor:
        assert "Microsoft" in set(got["supplier"])


def test_it_market_role_narrows_the_category() -> None:
    got = A.supplier_totals(quirky(), ("it_market",))
    assert "social_care_case_management" in set(got["it_market"])
    assert "(uncategorised)" in set(got["it_market"])  # the tab-only category


def test_peer_comparison_runs_on_month_totals() -> None:
    df = quirky()
    cal, cal2, months = both_calendars(df)
    assert_frame_equal(T.peer_comparison(df, calendar=cal), T.peer_comparison(months,
                                                                              calendar=cal2))
    assert_frame_equal(T.period_totals(df, "quarter", it_only=True),
                       T.period_totals(months, "quarter", it_only=True))


def test_publisher_year_totals() -> None:
    months = A.month_totals(quirky())
    out = T.publisher_year_totals(months)
    assert list(out.columns) == ["publisher_code", "publisher_name", "financial_year", "it_gbp",
                                 "total_gbp", "it_payments", "n_payments",
                                 "months_with_payments", "months_with_it"]
    hyn = out[out["publisher_code"].eq(HYN)].iloc[0]
    assert hyn["financial_year"] == "2024-25" and hyn["total_gbp"] == Decimal("630.00")
    assert hyn["months_with_payments"] == 3 and hyn["n_payments"] == 4
    bwd = out[out["publisher_code"].eq(BWD)].set_index("financial_year")
    assert bwd.loc["2025-26", "months_with_payments"] == 1
    assert out["total_gbp"].sum() == quirky()["amount_gbp"].sum()


def test_relation_refuses_other_inputs() -> None:
    with pytest.raises(InputError, match="DuckDB relation"):
        A.month_totals([1, 2, 3])
    with pytest.raises(InputError, match="missing column"):
        A.month_totals(quirky().drop(columns="source_file"))


_TEXT = st.sampled_from(["", " ", "\u00a0", "\t x", "x", "Acme", " Acme ", "\u3000Beta"])


@st.composite
def payments(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    rows = []
    for _ in range(n):
        rows.append(dict(
            publisher_code=draw(st.sampled_from([BWD, HYN])),
            payment_date=f"2024-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}",
            amount_gbp=str(Decimal(draw(st.integers(-50_000, 900_000))) / 100),
            source_file=draw(st.sampled_from(["a.csv", "b.csv", "c.csv"])),
            supplier_name=draw(_TEXT), supplier_canonical=draw(_TEXT),
            underlying_vendor=draw(_TEXT), it_basis=draw(_TEXT), it_category=draw(_TEXT),
            is_it=draw(st.sampled_from([True, False, None])),
            is_redacted=draw(st.sampled_from([True, False, None]))))
    out = frame(rows)
    out["publisher_name"] = out["publisher_code"]
    return out


@settings(max_examples=12)
@given(payments())
def test_aggregates_match_rows_on_random_payments(df: pd.DataFrame) -> None:
    cal, cal2, months = both_calendars(df)
    assert_frame_equal(cal, cal2)
    assert_frame_equal(T.coverage_table(df, calendar=cal),
                       T.coverage_table_from_months(months, calendar=cal2))
    assert_frame_equal(T.supplier_totals(df, ("publisher_code",), use_vendor=True),
                       A.supplier_totals(df, ("publisher_code",), use_vendor=True))
    assert_frame_equal(T.period_totals(df, "month", it_only=True),
                       T.period_totals_from_months(months, "month", it_only=True))


def test_calendar_without_repeated_rows_has_the_same_statuses() -> None:
    df = quirky()
    rows, _, months = both_calendars(df)
    quick = T.calendar_from_months(months)
    assert quick["n_repeated_rows"].isna().all() and str(quick["n_repeated_rows"].dtype) == "Int64"
    assert_frame_equal(rows.drop(columns="n_repeated_rows"),
                       quick.drop(columns="n_repeated_rows"))
    trend = T.it_spend_trend(df, calendar=rows)
    assert_frame_equal(trend.table, T.it_spend_trend_from_months(months, quick).table)


def test_month_totals_parts() -> None:
    df = quirky()
    full = A.month_totals(df, parts="overview")
    light = A.month_totals(df, parts="totals")
    assert list(light.columns) == ["publisher_code", "publisher_name", "month", "source_file",
                                   "n_payments", "amount_gbp", "it_payments", "it_gbp"]
    assert_frame_equal(light, full[light.columns])
    assert_frame_equal(A.month_totals(df), full.drop(columns=list(A.OVERVIEW_AMOUNTS)))
    cal = T.completeness_calendar(df)
    assert_frame_equal(T.peer_comparison(df, calendar=cal),
                       T.peer_comparison(light, calendar=T.calendar_from_months(light,
                           A.repeated_rows(df, light))))
    with pytest.raises(InputError, match="parts"):
        A.month_totals(df, parts="everything")


def test_calendar_from_months_takes_the_calendars_options() -> None:
    import inspect

    from spendkit.models.trends import completeness

    defaults = {k: v.default for k, v in inspect.signature(
        T.completeness_calendar).parameters.items() if k in completeness._CALENDAR_OPTIONS}
    assert defaults == completeness._CALENDAR_OPTIONS
    df = quirky()
    months = A.month_totals(df)
    options = {"start": "2024-01-01", "end": "2025-06-30", "file_share": 0.3, "sparse_share": 0.5}
    assert_frame_equal(T.completeness_calendar(df, **options),
                       T.calendar_from_months(months, A.repeated_rows(df, months), **options))
    with pytest.raises(InputError, match="unknown option"):
        T.calendar_from_months(months, stat=1)
