"""Notebook views and charts of the licensing model: sensitivity, calibration, payments, figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from spendkit.errors import InputError
from spendkit.models import licensing as L
from spendkit.units.money import AMOUNT_TYPE
from spendkit.views import licensing as V
from spendkit.views import licensing_charts as C


def test_numbered_events_window_is_inclusive_and_numbered_in_date_order():
    ev = V.numbered_events("2022-03-01", "2023-04-01")
    assert list(ev["n"]) == [1, 2, 3]
    assert list(ev["date"].dt.strftime("%Y-%m-%d")) == ["2022-03-01", "2022-03-01",
                                                        "2023-04-01"]
    assert len(V.numbered_events()) == len(L.price_events())


def test_scale_seats_keeps_the_mix_and_sums_exactly():
    a = L.LicenceAgreement(seats={"E3": 1000, "F3": 333}, add_ons={"Copilot": 50},
                           start=date(2024, 1, 1))
    s = V.scale_seats(a, 1000)
    assert s.seats == {"Microsoft 365 E3": 750, "Microsoft 365 F3": 250}
    assert s.add_ons == {"Microsoft 365 Copilot (add-on)": 38}  # 50 x 1000/1333 = 37.5 -> 38
    three = L.LicenceAgreement(seats={"E3": 1, "E5": 1, "F3": 1}, start=date(2024, 1, 1))
    assert sum(V.scale_seats(three, 100).seats.values()) == 100
    with pytest.raises(InputError, match="total seats must be a whole number >= 0, got -1"):
        V.scale_seats(a, -1)


def test_sensitivity_grid_matches_hand_arithmetic_and_the_model():
    a = L.LicenceAgreement(seats={"E5": 10}, start=date(2023, 4, 1), term_years=3)
    g = V.sensitivity_grid(a, [1000, 1200], [0.0, 0.2], "2023-04-01")
    assert list(g["seats"]) == [1000, 1000, 1200, 1200]
    row = g[(g["seats"] == 1000) & (g["discount"] == 0.2)].iloc[0]
    assert row["cost_gbp"] == round(1000 * 52.50 * 12 * 0.8, 2) == row["annual_gbp"]
    assert row["months"] == 12 and bool(row["is_estimate"])
    model = L.annual_cost(L.LicenceAgreement(seats={"E5": 1200}, start=date(2023, 4, 1),
                                             term_years=3, discount=0.2),
                          "2023-04-01", "2024-03-31")
    assert g.iloc[3]["cost_gbp"] == pytest.approx(model["cost_gbp_central"].sum(), abs=0.01)
    with pytest.raises(InputError, match="got 1.5"):
        V.sensitivity_grid(a, [10], [1.5], "2023-04-01")


def test_calibrate_deals_implied_seats_and_discounts():
    cal = V.calibrate_deals(since="2020-01-01")
    assert (cal["start"] >= pd.Timestamp("2020-01-01")).all()
    bwd = cal[cal["council"] == "Blackburn with Darwen"].iloc[0]
    assert not bwd["sku_assumed"] and bwd["sku"] == "Microsoft 365 E5"
    # 670,000 / (12 x 52.50 x 0.70) = 1,519.3 seats at the central 30% discount; at the high
    # 55%: 670,000 / (12 x 52.50 x 0.45) = 2,363.3, inside the likely 2,100-2,500 users.
    assert bwd["implied_seats_central_discount"] == 1519.3
    assert bwd["implied_seats_high_discount"] == 2363.3
    assert bwd["implied_seats_low_discount"] == round(670000 / (12 * 52.50), 1)
    assert bool(bwd["is_estimate"])
    pem = cal[cal["council"] == "Pembrokeshire"].iloc[0]
    assert pem["sku_assumed"] and pem["sku"] == "Microsoft 365 E3"
    assert pem["implied_discount_per_user_price"] == round(1 - 18.83 / 33.10, 4)
    # A hand-written deal with published seats gives its implied discount.
    deal = pd.DataFrame([{"council": "X", "gss_code": None, "sku": "E3",
                          "start": pd.Timestamp("2024-01-01"), "end": pd.NaT,
                          "annual_cost_gbp": 300_000.0, "total_cost_gbp": None, "seats": 1000,
                          "per_user_month_gbp": None, "annual_basis": "stated",
                          "agreement": "DTA21", "confidence": "S", "source": "test"}])
    x = V.calibrate_deals(deal, discount=0.1).iloc[0]
    assert x["implied_discount_published_seats"] == round(1 - 300_000 / (12 * 33.10 * 1000), 4)
    assert x["implied_seats_central_discount"] == round(300_000 / (12 * 33.10 * 0.9), 1)
    with pytest.raises(InputError, match="no published deal"):
        V.calibrate_deals(since="2099-01-01")


def test_deals_for_council_matches_joint_codes():
    assert list(V.deals_for_council("E06000064")["council"]) == [
        "Cumberland and Westmorland and Furness"]
    assert len(V.deals_for_council("e06000008")) == 2
    assert V.deals_for_council("E99999999").empty


def test_list_price_table_flags_estimates():
    t = V.list_price_table(["E5", "E3"], ["2023-04-01"])
    assert list(t["price_per_user_month"]) == [52.50, 33.10]
    assert list(t["is_estimate"]) == [True, False]


def _tx(rows):
    df = pd.DataFrame(rows, columns=["publisher_name", "payment_date", "amount_gbp",
                                     "underlying_vendor", "supplier_name"])
    df["payment_date"] = pd.array(df["payment_date"], dtype=pd.ArrowDtype(pa.date32()))
    df["amount_gbp"] = pd.array([Decimal(a) for a in df["amount_gbp"]],
                                dtype=pd.ArrowDtype(AMOUNT_TYPE))
    return df


def test_microsoft_payments_by_year_largest_and_rest_to_the_penny():
    tx = _tx([
        ("A", date(2023, 7, 15), "120000.00", "Microsoft", "Phoenix Software Ltd"),
        ("A", date(2023, 9, 1), "0.10", "Microsoft", "Softcat plc"),
        ("A", date(2023, 10, 1), "0.20", "microsoft", "Bytes"),
        ("A", date(2024, 2, 1), "-1200.00", "Microsoft", "Phoenix Software Ltd"),
        ("A", date(2024, 7, 10), "132000.00", "Microsoft", "Phoenix Software Ltd"),
        ("A", date(2024, 8, 1), "999.00", "Oracle", "Oracle"),
        ("B", date(2024, 8, 1), "5.00", "Microsoft", "Softcat plc"),
    ])
    p = V.microsoft_payments_by_year(tx, "A").set_index("financial_year")
    assert list(p.index) == ["2023-24", "2024-25"]
    assert p.loc["2023-24", "n_payments"] == 4
    assert p.loc["2023-24", "total_gbp"] == 118_800.30
    assert p.loc["2023-24", "largest_gbp"] == 120_000.00
    assert p.loc["2023-24", "other_gbp"] == -1_199.70
    assert p.loc["2024-25", "largest_supplier"] == "Phoenix Software Ltd"
    rr = L.microsoft_paid_run_rate(tx).set_index(["publisher_name", "financial_year"])
    assert rr.loc[("A", "2023-24"), "paid_in_year_gbp"] == p.loc["2023-24", "total_gbp"]
    assert len(V.microsoft_payments_by_year(tx)) == 3
    with pytest.raises(InputError, match="supplier_name"):
        V.microsoft_payments_by_year(tx.drop(columns=["supplier_name"]))


def test_charts_from_model_tables():
    a = L.LicenceAgreement(seats={"E3": 100}, add_ons={"Copilot": 10}, start=date(2024, 1, 1),
                           term_years=1)
    monthly = L.annual_cost(a, "2024-01-01", "2025-03-31", period="month")
    events = V.numbered_events("2023-01-01", "2025-12-31")
    fig = C.cost_over_time_figure(monthly, events, title="<b>x</b>")
    names = [t.name for t in fig.data]
    assert names[:2] == ["Microsoft 365 E3", "Microsoft 365 Copilot (add-on)"]
    assert fig.layout.title.text == "&lt;b&gt;x&lt;/b&gt;"
    # Events inside Jan 2024 - Mar 2025, one line per date.
    inside = events[(events["date"] >= "2024-01-01") & (events["date"] <= "2025-03-01")]
    assert len(fig.layout.shapes) == inside["date"].nunique()
    stacked = sum(fig.data[i].y.sum() for i in range(2))
    assert stacked == pytest.approx(monthly["cost_gbp_central"].sum())

    comp = L.bundle_vs_a_la_carte("2025-07-01", 100)
    bf = C.bundle_figure(comp)
    assert bf.data[0].y[0] == 52.50
    assert sum(t.y[0] for t in bf.data[1:-1]) == pytest.approx(
        comp.summary["a_la_carte_per_user_month"].iloc[0])
    assert "1.47x" in bf.layout.title.text

    grid = V.sensitivity_grid(a, [50, 100], [0.0, 0.3], "2024-01-01")
    sf = C.sensitivity_figure(grid, 10_000.0)
    assert len(sf.data) == 2 and sf.layout.shapes[0].y0 == 10_000.0

    mvp = pd.DataFrame({"financial_year": ["2023-24"], "run_rate_gbp": [100.0],
                        "is_complete": [False], "cost_gbp_low": [80.0],
                        "cost_gbp_central": [90.0], "cost_gbp_high": [110.0]})
    mf = C.modelled_vs_paid_figure(mvp)
    assert list(mf.data[1].error_y.array) == [20.0] and list(mf.data[1].error_y.arrayminus) == [
        10.0]
    with pytest.raises(InputError, match="missing"):
        C.modelled_vs_paid_figure(mvp.drop(columns=["is_complete"]))
