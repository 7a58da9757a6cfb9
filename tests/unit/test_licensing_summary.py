"""Notebook helpers of the licensing model: council setup, the council's own deal, the summary."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from spendkit.errors import InputError
from spendkit.models import licensing as L
from spendkit.views import licensing as V


def _ours() -> pd.DataFrame:
    """A council's rows in three financial years (only the columns the setup reads)."""
    return pd.DataFrame({
        "publisher_name": ["Testshire Council"] * 3, "publisher_code": ["E06000999"] * 3,
        "payment_date": [date(2021, 5, 1), date(2022, 5, 1), date(2023, 5, 1)],
        "amount_gbp": [100.0, 200.0, 300.0], "supplier_name": ["A", "B", "C"],
        "underlying_vendor": ["Microsoft", None, "Microsoft"],
        "financial_year": ["2021-22", "2022-23", "2023-24"]})


def _selected() -> pd.DataFrame:
    """The notebook's year-filtered transactions: two of Testshire's years and another council."""
    return pd.DataFrame({"publisher_name": ["Testshire Council", "Other", "Testshire Council"],
                         "financial_year": ["2023-24", "2020-21", "2022-23"]})


def test_council_context_names_years_and_window():
    ctx = V.council_context("E06000999", _selected(), ours=_ours())
    ours, name, gss, years, start, end = ctx
    assert len(ours) == 3 and name == "Testshire Council" and gss == "E06000999"
    # Years come from the selection (sorted, other councils ignored), not from `ours`.
    assert years == ["2022-23", "2023-24"]
    assert (start, end) == (date(2022, 4, 1), date(2024, 3, 31))
    assert ctx.describe() == "Testshire Council (E06000999): financial years 2022-23 to 2023-24"


def test_council_context_reads_every_year_of_the_council(monkeypatch):
    calls = []

    def fake_read(**kwargs):
        calls.append(kwargs)
        return _ours()

    monkeypatch.setattr(V, "read_transactions", fake_read)
    ctx = V.council_context("Testshire Council", _selected())
    # The council is resolved against the ingested publishers, then its rows are read.
    assert calls == [{"columns": ["publisher_name", "publisher_code"]},
                     {"publishers": ["Testshire Council"], "columns": V.COUNCIL_COLUMNS}]
    assert ctx.name == "Testshire Council"


def test_council_context_bad_council_or_years():
    with pytest.raises(InputError, match="council: 'Nowhere' is not a publisher in the data"):
        V.council_context("Nowhere", _selected(), ours=_ours().iloc[0:0])
    other_years = _selected()[_selected()["publisher_name"] == "Other"]
    with pytest.raises(InputError, match="'Testshire Council' has no transactions in the"):
        V.council_context("Testshire Council", other_years, ours=_ours())


def _deal(sku: str | None, annual: float | None) -> pd.DataFrame:
    """One published deal (the catalogue's columns) starting 1 July 2025."""
    d = L.published_deals().iloc[[0]].copy()
    d["council"], d["start"] = "Testshire", pd.Timestamp("2025-07-01")
    d["sku"] = sku
    d["annual_cost_gbp"] = np.nan if annual is None else annual
    d["seats"] = pd.array([pd.NA], dtype="Int64")
    return d


def test_own_deal_prices_a_deal_without_sku_as_the_main_sku():
    a = L.LicenceAgreement(seats={"E5": 900, "E3": 100}, start="2025-07-01",
                           discount=(0.0, 0.15, 0.30))
    deals = pd.concat([_deal(None, 100000.0), _deal(None, 630000.0), _deal(None, None)])
    own = V.own_deal(deals, a)  # the last deal with a cost; E5 list is £52.50 on 1 July 2025
    assert own.sku == "Microsoft 365 E5" and own.seats == 1000
    assert float(own.deal["annual_cost_gbp"].iloc[0]) == 630000.0
    at = own.seats_at.set_index("scenario")["implied_seats"]
    assert at["low"] == pytest.approx(630000 / (12 * 52.50), abs=0.05)          # 1000 seats
    assert at["central"] == pytest.approx(630000 / (12 * 52.50 * 0.85), abs=0.05)  # 1176.5
    assert own.discount_at == pytest.approx(0.0, abs=1e-9)
    at_1200 = V.own_deal(deals, a, seats=1200)
    assert at_1200.discount_at == pytest.approx(1 - 630000 / (12 * 52.50 * 1200), abs=1e-4)
    text = at_1200.text().splitlines()
    assert text[0].split() == ["council", "start", "sku", "annual_cost_gbp",
                               "price_per_user_month", "scenario", "discount", "implied_seats"]
    assert len(text) == 6 and text[4] == ""
    assert text[5] == "At 1,200 seats the deal implies a discount of 16.7% off list."


def test_own_deal_keeps_a_published_sku_and_none_without_cost():
    a = L.LicenceAgreement(seats={"E5": 1000}, start="2025-07-01")
    assert V.own_deal(_deal("Microsoft 365 E3", 397200.0), a).sku is None
    assert V.own_deal(_deal(None, None), a) is None


def _summary_inputs():
    a = L.LicenceAgreement(seats={"E3": 1000}, start="2024-04-01", term_years=1,
                           discount=(0.1, 0.2, 0.3))
    costs = L.annual_cost(a, "2024-04-01", "2025-03-31", period="financial_year")
    bundle = L.bundle_vs_a_la_carte("2025-07-01", seats=1000)
    return a, costs, bundle


def test_summary_lines_model_cost_bundle_and_estimates():
    a, costs, bundle = _summary_inputs()
    lines = V.summary_lines(a, costs, ["2024-25"], bundle, "2025-07-01")
    # E3 list £33.10: 1,000 x 33.10 x 12 = £397,200 list; 20% off = £317,760; 30% / 10% off.
    assert lines[:3] == [
        "Model: 1,000 seats (Microsoft 365 E3), 1-year terms from April 2024, annual billing.",
        "Modelled cost 2024-25 to 2024-25: £318k at 20% off list (range £278k to £357k).",
        "E3 + add-ons on 2025-07-01: £77.26 vs E5 £52.50 per user per month, 1.47x "
        "(1.38-1.51x); £297k a year more at list for 1,000 seats.",
    ]
    assert lines[3] == "E5 alone costs 59% more than E3 at list on 2025-07-01."  # 52.50/33.10
    assert lines[4].startswith("Estimated prices used (5): Microsoft 365 E5 Compliance")
    assert len(lines) == 5  # no paid data and no deal: those sentences are left out


def test_summary_lines_paid_and_deal_sentences():
    a, costs, bundle = _summary_inputs()
    paid = pd.DataFrame({
        "financial_year": ["2023-24", "2024-25", "2025-26"],
        "run_rate_gbp": [300000.0, 360000.0, 999999.0],
        "is_complete": [True, True, False],   # the incomplete year is left out
        "modelled_months": [12, 12, 12],
        "cost_gbp_central": [317760.0, 317760.0, 317760.0],
        "within_range": [True, False, False]})
    deal = V.own_deal(_deal(None, 630000.0),
                      L.LicenceAgreement(seats={"E5": 1000}, start="2025-07-01",
                                         discount=(0.0, 0.15, 0.30)), seats=1200)
    lines = V.summary_lines(a, costs, ["2024-25"], bundle, "2025-07-01", paid=paid, deal=deal)
    # Mean paid 330,000 vs modelled 317,760; ratio 660,000 / 635,520 = 1.04.
    assert lines[3] == ("Paid run-rate in complete, fully modelled years: £330k a year on "
                        "average vs modelled £318k (ratio 1.04); 1 of 2 years within the "
                        "modelled range.")
    assert lines[4] == ("Published deal (Testshire, from Jul 2025): £630k a year buys 1,176 "
                        "Microsoft 365 E5 seats at 15% off list, or implies 16.7% off at "
                        "1,200 seats.")
    assert len(lines) == 7
    no_full = paid.assign(modelled_months=9)
    assert len(V.summary_lines(a, costs, ["2024-25"], bundle, "2025-07-01",
                               paid=no_full)) == 5
