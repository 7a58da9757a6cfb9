"""Microsoft price catalogue package data and list-price look-ups (spendkit.models.licensing)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.errors import InputError, SpendkitError
from spendkit.models import licensing as L

CAT = L.price_catalogue()


def test_catalogue_rows_are_sourced_typed_and_positive():
    assert len(CAT) >= 80
    assert CAT["source"].str.len().gt(0).all()
    assert set(CAT["confidence"]) <= {"high", "medium", "low"}
    assert set(CAT["currency"]) == {"GBP", "USD"}
    assert set(CAT["billing"]) == {"annual"}
    assert set(CAT["kind"]) <= {"suite", "add-on", "standalone"}
    assert (CAT["price_per_user_month"] > 0).all()
    both = CAT.dropna(subset=["effective_from", "effective_to"])
    assert (both["effective_from"] <= both["effective_to"]).all()


def test_catalogue_periods_do_not_overlap_per_sku_and_currency():
    lo, hi = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")
    for (_, _), g in CAT.groupby(["sku", "currency"]):
        g = g.assign(f=g["effective_from"].fillna(lo), t=g["effective_to"].fillna(hi))
        g = g.sort_values("f")
        assert (g["f"].iloc[1:].to_numpy() > g["t"].iloc[:-1].to_numpy()).all(), g["sku"].iloc[0]


def test_inferred_gbp_prices_are_flagged_as_estimates():
    derived = CAT[(CAT["confidence"] == "low") & CAT["note"].str.contains("x|×|derived")]
    assert len(derived) >= 6
    assert CAT.loc[CAT["currency"].eq("GBP") & CAT["confidence"].eq("low"), "is_estimate"].all()
    e5 = CAT[(CAT["sku"] == "Microsoft 365 E5") & (CAT["currency"] == "GBP")]
    assert e5["is_estimate"].all()  # 52.50 is low confidence, 50.28 derived from it
    assert set(e5["confidence"]) == {"low"}


def test_gbp_list_prices_at_the_change_dates():
    assert L.list_price("Microsoft 365 E3", date(2022, 2, 28)).value == 28.10
    assert L.list_price("E3", date(2022, 3, 1)).value == 31.70
    assert L.list_price("E3", date(2023, 3, 31)).value == 31.70
    q = L.list_price("E3", date(2023, 4, 1))
    assert (q.value, q.is_estimate, q.confidence) == (33.10, False, "medium")
    e5 = L.list_price("E5", date(2024, 1, 1))
    assert (e5.value, e5.is_estimate, e5.currency) == (52.50, True, "GBP")
    assert "ArcKit" in e5.source
    # Before April 2023 E5 steps in proportion to E3 (+4.4%): 52.50 x 31.70 / 33.10 = 50.28,
    # not 48.20 (which made E5 step +8.9% while E3 stepped +4.4%).
    before = L.list_price("E5", date(2023, 3, 31))
    assert (before.value, before.is_estimate, before.confidence) == (50.28, True, "low")
    assert 52.50 / before.value == pytest.approx(33.10 / 31.70, abs=1e-4)
    # July 2026: the GBP rows are estimates from the USD rises at each SKU's own parity.
    july = L.list_price("E5", date(2026, 7, 1))
    assert (july.value, july.is_estimate) == (55.26, True)
    assert L.list_price("E3", date(2026, 7, 1)).value == 35.86


def test_usd_price_converted_at_parity_is_flagged_with_a_range():
    q = L.list_price("Teams Phone", date(2024, 6, 1))
    assert q.sku == "Teams Phone Standard"
    assert q.value == pytest.approx(8.00 * 0.92)
    assert (q.value_low, q.value_high) == (pytest.approx(8.00 * 0.82), pytest.approx(8.00 * 0.96))
    assert q.is_estimate and q.confidence == "low" and "parity" in q.basis
    assert "Teams Phone Standard GBP 7.36" in q.label
    usd = L.list_price("Teams Phone", date(2024, 6, 1), currency="USD")
    assert (usd.value, usd.is_estimate) == (8.00, False)


def test_billing_uplifts_reproduce_reported_monthly_prices():
    # Reported NCE monthly-term price for M365 E3: USD 43.20 (= 36 x 1.2).
    assert L.list_price("E3", date(2023, 1, 1), "monthly", "USD").value == pytest.approx(43.20)
    # Annual term billed monthly: +5% only from 1 April 2025 (Business Standard 13.125).
    bs = "Microsoft 365 Business Standard"
    assert L.list_price(bs, date(2025, 3, 31), "annual_monthly", "USD").value == 12.50
    assert L.list_price(bs, date(2025, 4, 1), "annual_monthly", "USD").value == pytest.approx(13.125)
    assert L.billing_uplift("monthly", date(2022, 2, 28)) == 0.0
    assert L.billing_uplift("monthly", date(2022, 3, 1)) == 0.20


def test_price_after_an_unretrieved_change_is_carried_forward_and_flagged():
    q = L.list_price("E3 no Teams", date(2026, 1, 1), currency="USD")
    assert q.value == 33.75 and q.is_estimate
    assert "carried forward from price ending 2025-10-31" in q.basis


def test_no_price_before_a_sku_went_on_sale():
    with pytest.raises(InputError, match=r"Copilot.*2023-10-31.*2023-11-01"):
        L.list_price("Copilot", date(2023, 10, 31))
    assert L.list_price("Copilot", date(2023, 11, 1)).value == 24.70


def test_unknown_sku_error_names_the_value_and_suggests():
    with pytest.raises(InputError, match="'Microsoft 365 E9'") as err:
        L.list_price("Microsoft 365 E9", date(2024, 1, 1))
    assert "did you mean" in str(err.value)
    assert isinstance(err.value, SpendkitError)
    with pytest.raises(InputError, match="non-empty"):
        L.resolve_sku("")


def test_bad_currency_billing_and_date_are_named():
    with pytest.raises(InputError, match="'EUR'"):
        L.list_price("E3", date(2024, 1, 1), currency="EUR")
    with pytest.raises(InputError, match="'quarterly'.*annual, annual_monthly, monthly"):
        L.list_price("E3", date(2024, 1, 1), billing="quarterly")
    with pytest.raises(InputError, match="'01/04/2024'"):
        L.list_price("E3", "01/04/2024")
    assert L.list_price("E3", "2024-04-01").value == 33.10


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(CAT["sku"].unique())), st.sampled_from(["lower", "upper", "pad"]))
def test_every_catalogue_name_resolves_to_itself_in_any_case(sku, style):
    name = {"lower": sku.lower(), "upper": sku.upper(), "pad": f"  {sku}  "}[style]
    assert L.resolve_sku(name) == sku


def test_fx_parity_table_is_ordered_and_contiguous():
    fx = L.fx_rates()
    assert (fx["gbp_per_usd_low"] <= fx["gbp_per_usd_central"]).all()
    assert (fx["gbp_per_usd_central"] <= fx["gbp_per_usd_high"]).all()
    assert fx["is_estimate"].all()
    assert fx["effective_to"].iloc[0] + pd.Timedelta(days=1) == fx["effective_from"].iloc[1]
    assert L.gbp_per_usd(date(2023, 4, 1))[1] == 0.92
    assert L.gbp_per_usd(date(2023, 3, 31))[1] == 0.88


def test_ccs_agreements_and_deal_agreements_agree():
    assert L.ccs_agreement_on(date(2021, 7, 1)) == "DTA21"
    assert L.ccs_agreement_on("2024-10-31") == "DTA21"
    assert L.ccs_agreement_on("2024-11-01") == "SPA24"
    deals = L.published_deals()
    named = deals[deals["agreement"].notna() & deals["start"].notna()]
    assert len(named) >= 10
    assert [L.ccs_agreement_on(d) for d in named["start"]] == list(named["agreement"])


def test_bundle_components_are_known_skus():
    for variant in ("suites", "components"):
        comps = L.bundle_components("E5", variant)
        assert comps["component"].iloc[0] == "Microsoft 365 E3"
        assert [L.resolve_sku(c) for c in comps["component"]] == list(comps["component"])
    with pytest.raises(InputError, match="'everything'"):
        L.bundle_components("E5", "everything")


def test_price_events_cover_the_issue_timeline():
    ev = L.price_events()
    dates = set(ev["date"].dt.strftime("%Y-%m-%d"))
    assert {"2021-05-01", "2022-03-01", "2023-04-01", "2024-04-01", "2024-11-01",
            "2025-04-01", "2026-07-01"} <= dates
    assert ev["source"].str.len().gt(0).all()
