"""Licensing cost model: arithmetic, price protection, billing, discount range and bad input."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.errors import InputError
from spendkit.models import licensing as L


def _fy(costs, label):
    return costs[costs["period"] == label]


def test_1000_e5_seats_at_52_50_for_12_months_is_630000_before_discount():
    a = L.LicenceAgreement(seats={"E5": 1000}, start=date(2023, 4, 1), term_years=1, discount=0.0)
    c = L.annual_cost(a)
    assert list(c["period"]) == ["2023-24"]
    row = c.iloc[0]
    assert (row["months"], row["price_per_user_month"]) == (12, 52.50)
    assert row["list_cost_gbp"] == 630_000.00
    assert row["cost_gbp_central"] == 630_000.00
    assert row["cost_per_seat_gbp"] == 630.00


def test_discount_range_is_carried_into_low_central_high():
    a = L.LicenceAgreement(seats={"E5": 1000}, start=date(2023, 4, 1), term_years=1,
                           discount=L.DiscountRange(0.10, 0.20, 0.30))
    row = L.annual_cost(a).iloc[0]
    assert row["list_cost_gbp"] == 630_000.00
    assert row["cost_gbp_central"] == 504_000.00  # 630,000 x 0.8
    assert row["cost_gbp_low"] == 441_000.00  # high discount 30%
    assert row["cost_gbp_high"] == 567_000.00  # low discount 10%
    assert (row["discount_low"], row["discount_high"]) == (0.10, 0.30)


def test_price_protection_keeps_the_start_price_until_renewal():
    # M365 E3 GBP: 31.70 from Mar 2022, 33.10 from Apr 2023. Agreement from 1 Apr 2022, 3 years.
    a = L.LicenceAgreement(seats={"E3": 100}, start=date(2022, 4, 1), term_years=3,
                           discount=0.0)
    c = L.annual_cost(a, "2022-04-01", "2026-04-01")
    assert list(c["period"]) == ["2022-23", "2023-24", "2024-25", "2025-26"]
    assert list(c["price_per_user_month"]) == [31.70, 31.70, 31.70, 33.10]
    assert list(c["price_date"].dt.strftime("%Y-%m-%d")) == ["2022-04-01"] * 3 + ["2025-04-01"]
    assert _fy(c, "2023-24")["list_cost_gbp"].item() == round(100 * 31.70 * 12, 2)
    # Without renewal the model stops at the end of the first term.
    once = L.LicenceAgreement(seats={"E3": 100}, start=date(2022, 4, 1), term_years=3,
                              renew=False)
    assert list(L.annual_cost(once, "2022-04-01", "2027-04-01")["period"]) == [
        "2022-23", "2023-24", "2024-25"]


def test_renewal_inside_a_financial_year_splits_the_year():
    a = L.LicenceAgreement(seats={"E5": 1000}, start=date(2021, 7, 1), term_years=4,
                           discount=0.0)
    c = L.annual_cost(a, "2025-04-01", "2026-04-01")
    assert list(c["months"]) == [3, 9]
    assert list(c["price_per_user_month"]) == [50.28, 52.50]
    total = L.total_cost(c)
    assert total["list_cost_gbp"].item() == round(1000 * (3 * 50.28 + 9 * 52.50), 2)


def test_monthly_billing_uplift_applies_only_to_terms_priced_from_1_april_2025():
    before = L.LicenceAgreement(seats={"E3": 10}, start=date(2025, 3, 1), term_years=1,
                                billing="annual_monthly", discount=0.0)
    after = L.LicenceAgreement(seats={"E3": 10}, start=date(2025, 4, 1), term_years=1,
                               billing="annual_monthly", discount=0.0)
    assert L.total_cost(L.annual_cost(before, period="calendar_year"))["list_cost_gbp"].sum() \
        == round(10 * 33.10 * 12, 2)
    assert L.annual_cost(after)["price_per_user_month"].item() == pytest.approx(33.10 * 1.05)
    assert L.annual_cost(after)["list_cost_gbp"].item() == round(10 * 33.10 * 1.05 * 12, 2)
    monthly = L.LicenceAgreement(seats={"E3": 10}, start=date(2024, 1, 1), term_years=1,
                                 billing="monthly", discount=0.0)
    assert L.annual_cost(monthly, period="calendar_year")["list_cost_gbp"].item() == \
        round(10 * 33.10 * 1.2 * 12, 2)


def test_add_ons_calendar_years_months_and_end_semantics():
    a = L.LicenceAgreement(seats={"E3": 100}, add_ons={"Copilot": 10}, start=date(2024, 1, 1),
                           term_years=1, discount=0.0, name="test")
    c = L.annual_cost(a, period="calendar_year")
    assert list(zip(c["sku"], c["line"], strict=True)) == [
        ("Microsoft 365 E3", "licence"), ("Microsoft 365 Copilot (add-on)", "add-on")]
    assert c.loc[c["line"] == "add-on", "list_cost_gbp"].item() == round(10 * 24.70 * 12, 2)
    assert (c["agreement"] == "test").all()
    by_month = L.annual_cost(a, "2024-01-01", "2024-03-31", period="month")
    assert list(by_month["period"].unique()) == ["2024-01", "2024-02", "2024-03"]
    same = L.annual_cost(a, "2024-01-01", "2024-04-01", period="month")
    assert by_month.equals(same)


def test_estimates_are_flagged_and_listed():
    e5 = L.LicenceAgreement(seats={"E5": 5, "E3": 5}, start=date(2023, 4, 1), term_years=1)
    c = L.annual_cost(e5)
    flags = dict(zip(c["sku"], c["is_estimate"], strict=True))
    assert flags == {"Microsoft 365 E3": False, "Microsoft 365 E5": True}
    inputs = L.estimated_inputs(c)
    assert len(inputs) == 1 and inputs[0].startswith("Microsoft 365 E5 GBP 52.50/user/month")
    total = L.total_cost(c)
    assert total["is_estimate"].item() and "E5 GBP 52.50" in total["estimated_inputs"].item()


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"seats": {"E5": -5}}, r"'Microsoft 365 E5' must be a whole number of seats >= 0, got -5"),
    ({"seats": {"E5": 2.5}}, r"got 2\.5"),
    ({"seats": {"E9": 5}}, r"unknown Microsoft SKU 'E9'"),
    ({"seats": {}}, r"at least one SKU"),
    ({"discount": 1.5}, r"from 0 up to \(not including\) 1.*got 1\.5"),
    ({"discount": -0.1}, r"got -0\.1"),
    ({"discount": (0.3, 0.2, 0.1)}, r"low <= central <= high"),
    ({"term_years": 0}, r"term_years must be a whole number of years >= 1, got 0"),
    ({"billing": "weekly"}, r"unknown billing 'weekly'"),
    ({"start": "July 2021"}, r"agreement start must be a date.*'July 2021'"),
])
def test_bad_agreement_inputs_give_clear_errors(kwargs, pattern):
    base = {"seats": {"E5": 10}, "start": date(2023, 4, 1)}
    with pytest.raises(InputError, match=pattern):
        L.LicenceAgreement(**{**base, **kwargs})


def test_bad_cost_ranges_and_periods():
    a = L.LicenceAgreement(seats={"E5": 10}, start=date(2023, 4, 1))
    with pytest.raises(InputError, match="end 2023-01-01 must be after start 2024-01-01"):
        L.annual_cost(a, "2024-01-01", "2023-01-01")
    with pytest.raises(InputError, match="unknown period 'fortnight'"):
        L.annual_cost(a, period="fortnight")
    with pytest.raises(InputError, match="no months of agreement"):
        L.annual_cost(a, "2020-01-01", "2021-01-01")


@settings(max_examples=10, deadline=None)
@given(seats=st.integers(0, 50_000), d=st.tuples(*[st.floats(0, 0.95)] * 3),
       start=st.dates(date(2021, 1, 1), date(2027, 12, 31)), term=st.integers(1, 3))
def test_cost_invariants(seats, d, start, term):
    lo, mid, hi = sorted(d)
    a = L.LicenceAgreement(seats={"E3": seats}, start=start, term_years=term,
                           discount=(lo, mid, hi))
    c = L.annual_cost(a)
    assert c["months"].sum() == 12 * term
    assert (c["cost_gbp_low"] <= c["cost_gbp_central"] + 0.01).all()
    assert (c["cost_gbp_central"] <= c["cost_gbp_high"] + 0.01).all()
    assert (c["cost_gbp_high"] <= c["list_cost_gbp"] * 1.05 + 0.01).all()  # parity high 0.96/0.92
    assert c["list_cost_gbp"].sum() == pytest.approx(
        (c["seats"] * c["months"] * c["price_per_user_month"]).sum(), abs=0.01 * len(c))


def test_bundle_vs_a_la_carte_july_2021():
    b = L.bundle_vs_a_la_carte(date(2021, 7, 1), seats=1000)
    t = b.table
    assert list(t["role"]) == ["bundle"] + ["component"] * 5
    assert t["price_per_user_month"].tolist() == pytest.approx(
        [50.28, 28.10, 12 * 0.88, 12 * 0.88, 10 * 0.88, 8 * 0.88])
    s = b.summary.iloc[0]
    alc = 28.10 + 0.88 * (12 + 12 + 10 + 8)  # 65.06
    assert s["a_la_carte_per_user_month"] == pytest.approx(alc)
    assert s["bundle_annual_gbp"] == 603_360.00  # 1000 x 50.28 x 12
    assert s["a_la_carte_annual_gbp"] == pytest.approx(alc * 12_000)
    assert b.ratio == pytest.approx(round(alc / 50.28, 4))
    assert s["ratio_low"] < s["ratio"] <= s["ratio_high"]
    assert s["is_estimate"] and "E5 Security" in s["estimated_inputs"]


def test_bundle_components_variant_and_discount_leaves_ratio_unchanged():
    a = L.bundle_vs_a_la_carte("2025-07-01", 100, variant="components")
    b = L.bundle_vs_a_la_carte("2025-07-01", 100, variant="components", discount=0.2)
    assert len(a.table) == 10
    assert a.ratio == b.ratio
    assert b.summary["bundle_annual_gbp"].item() == round(100 * 52.50 * 12 * 0.8, 2)


def test_implied_seats_blackburn_with_darwen_by_hand():
    # £670,000 a year / (12 x £52.50 x (1 - 0.2)) = 670,000 / 504 = 1,329.37 seats.
    one = L.implied_seats("Blackburn with Darwen", 0.2)
    row = one[one["start"] == "2025-07-01"].iloc[0]
    assert (row["sku"], row["price_per_user_month"], row["scenario"]) == (
        "Microsoft 365 E5", 52.50, "given")
    assert row["implied_seats"] == 1329.4
    assert row["is_estimate"] and "52.50" in row["estimated_inputs"]
    rng = L.implied_seats(L.published_deals().iloc[[1]], L.DiscountRange(0.0, 0.15, 0.30))
    assert rng["implied_seats"].tolist() == [1063.5, 1251.2, 1519.3]


def test_implied_discount_by_hand_and_errors():
    # 1 - 670,000 / (12 x 52.50 x 1,200) = 1 - 670,000 / 756,000 = 0.1138
    d = L.implied_discount(L.published_deals().iloc[[1]], 1200)
    assert d["implied_discount"].item() == 0.1138 and not d["above_list"].item()
    assert L.implied_discount(L.published_deals().iloc[[1]], 1000)["above_list"].item()
    vog = L.implied_discount("Vale of Glamorgan", sku="E3", on="2014-01-01")  # 2,000 published
    assert vog["seats"].item() == 2000
    assert vog["implied_discount"].item() == round(1 - 102_282 / (12 * 28.10 * 2000), 4)
    with pytest.raises(InputError, match=r"Salford \(start 2023-06-01\) has no published SKU"):
        L.implied_seats("Salford", 0.1)
    with pytest.raises(InputError, match="seats must be a whole number > 0, got 0"):
        L.implied_discount("Bradford", 0)
    with pytest.raises(InputError, match="no published deal for council 'Atlantis'"):
        L.implied_seats("Atlantis", 0.1)
    with pytest.raises(InputError, match="seats not published"):
        L.implied_discount("Bradford")


def test_published_deals_annual_cost_is_stated_or_total_over_years():
    d = L.published_deals().set_index(["council", "start"])
    salford = d.loc[("Salford", "2023-06-01")]
    assert salford["annual_cost_gbp"] == 1_105_779.00 and salford["annual_basis"] == "total / years"
    bwd = d.loc[("Blackburn with Darwen", "2025-07-01")]
    assert (bwd["annual_cost_gbp"], bwd["annual_basis"], bwd["gss_code"]) == (
        670_000.0, "stated", "E06000008")
    assert d["source"].str.len().gt(0).all()


@settings(max_examples=20, deadline=None)
@given(d=st.floats(0, 0.9), annual=st.floats(10_000, 5_000_000),
       start=st.dates(date(2021, 1, 1), date(2026, 6, 30)), sku=st.sampled_from(["E3", "E5"]))
def test_implied_discount_inverts_implied_seats(d, annual, start, sku):
    deal = {"council": "X", "sku": sku, "start": start, "annual_cost_gbp": annual}
    seats = L.implied_seats(deal, d)
    q = L.list_price(sku, start)
    assert seats["implied_seats"].item() == pytest.approx(annual / (12 * q.value * (1 - d)),
                                                          abs=0.05)
    exact = annual / (12 * q.value * (1 - d))
    n = max(1, round(exact))
    back = L.implied_discount(deal, n)["implied_discount"].item()
    # Whole seats move the discount by at most half a seat's share; output has 4 decimals.
    assert abs(back - d) <= (1 - d) * 0.5 / n * 1.01 + 1e-4
