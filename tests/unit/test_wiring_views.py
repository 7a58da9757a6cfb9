"""Notebook 03/04 helpers: what a page says with and without a council profile, on thin data."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest
from test_scenarios_review import FLAT, PEERS, POP, TX

from spendkit.models import licensing as L
from spendkit.models.scenarios import review as sr
from spendkit.reference.profiles import CouncilProfile, ItStaff, MicrosoftAgreement
from spendkit.views import licensing as V
from spendkit.views import scenarios as vs


def _deal(annual: float) -> pd.DataFrame:
    d = L.published_deals().iloc[[0]].copy()
    d["council"], d["start"] = "Testshire", pd.Timestamp("2025-07-01")
    d["sku"], d["annual_cost_gbp"] = None, annual
    d["seats"] = pd.array([pd.NA], dtype="Int64")
    return d


def test_own_deal_without_an_agreement_gives_seats_at_each_discount_and_no_discount():
    # £630,000 a year at the E5 list of £52.50 on 1 July 2025: 630000 / (12 x 52.50) = 1,000
    # seats at list, 1,000 / 0.7 = 1,428.6 at 30% off, 1,000 / 0.45 = 2,222.2 at 55% off.
    own = V.own_deal(_deal(630_000.0), None, sku="E5")
    assert own.sku == "Microsoft 365 E5" and own.seats is None and own.discount_at is None
    at = own.seats_at.set_index("scenario")["implied_seats"]
    assert at.tolist() == pytest.approx([1000.0, 1428.6, 2222.2], abs=0.05)  # one decimal
    lines = own.lines()
    assert "it buys 1,000 seats at 0% off; 1,428 seats at 30% off; 2,222 seats at 55% off" \
        in lines[0]
    assert lines[1].startswith("No seat count is modelled")
    # Without a SKU anywhere the deal is priced as E3 (the catalogue's usual reading).
    assert V.own_deal(_deal(630_000.0)).sku == "Microsoft 365 E3"


def test_model_window_costs_the_first_year_when_the_data_ends_before_the_agreement():
    a = L.LicenceAgreement(seats={"E5": 10}, start="2025-07-01")
    assert V.model_window([a], date(2024, 4, 1), date(2026, 3, 31)) == (
        date(2025, 7, 1), date(2026, 3, 31), None)
    start, end, note = V.model_window([a], date(2023, 4, 1), date(2024, 3, 31))
    assert (start, end) == (date(2025, 7, 1), date(2026, 6, 30))
    assert note.startswith("The data (2023-24 to 2023-24) ends before the modelled agreement "
                           "starts (1 July 2025)")


def test_paid_caption_says_multi_year_payments_and_vat_basis():
    rr = pd.DataFrame({"n_multi_year": [0, 2], "vat_basis": ["net", "net"]})
    text = V.paid_caption(rr)
    assert "2 payments spread over more than 12 months" in text
    assert text.endswith("Payments published net of VAT.")
    rr.attrs["mixed_vat_basis"] = True
    assert "net and gross of VAT are mixed" in V.paid_caption(rr)
    unknown = V.paid_caption(pd.DataFrame({"n_multi_year": [0], "vat_basis": ["unknown"]}))
    assert "not known" in unknown and "spread over more" not in unknown


def test_summary_without_model_says_what_is_known():
    pay = pd.DataFrame({"total_gbp": [1000.0, 2500.0], "n_payments": [1, 2]})
    lines = V.summary_without_model("Testshire", "No licence model for Testshire.", None, pay,
                                    ["2023-24", "2024-25"])
    assert lines == ["No licence model for Testshire.",
                     "No published Microsoft deal with a cost for Testshire.",
                     "Microsoft payments found in 2023-24 to 2024-25: £3.50k in 3 payments "
                     "(direct or through a reseller)."]
    none = V.summary_without_model("Testshire", "x", None, pay.iloc[0:0], ["2024-25"])
    assert none[-1].startswith("No payments attributed to Microsoft in 2024-25")


def test_licensing_setup_names_the_profile_file_not_a_machine_path():
    prof = CouncilProfile(council="Mixed council", gss_code="E06000001",
                          path="/home/someone/data/councils/mixed.yaml",
                          microsoft=(MicrosoftAgreement("EA", date(2025, 7, 1), 3,
                                                        {"E5": 300}),))
    setup = V.licensing_setup(prof, "Mixed council")
    assert "(councils/mixed.yaml)" in setup.basis and "/home/" not in setup.basis


RESULT = sr.run_review(TX, "E1", [FLAT, PEERS], simulations=200, seed=5, population=POP,
                       peers=["E2", "E3"], min_peers=2)


def test_scenario_page_without_profile_says_each_assumption():
    assert "none for A council" in vs.profile_line(None, "A council")
    text = vs.baseline_text(RESULT)
    assert "resting on **12 of 12 months**" in text and "not scaled" in text
    assert "thin baseline" not in text
    ctx = vs.context_text(RESULT)
    assert "not known" in ctx and "floor of the IT budget" in ctx and "**Peers:**" in ctx


def test_scenario_page_on_one_month_says_it_is_thin_and_scaled():
    one = TX[(TX["publisher_name"] == "A council")
             & (pd.to_datetime(TX["payment_date"].astype("datetime64[s]")).dt.month == 9)]
    r = sr.run_review(one, "E1", [FLAT], simulations=50, seed=1, population=POP)
    text = vs.baseline_text(r)
    assert "**1 of 12 months**" in text and "scaled up by 12/1" in text
    assert "**A thin baseline:**" in text
    assert r.baseline.total_gbp == pytest.approx(1200.0 * 12)


def test_scenario_page_with_staff_shows_the_staff_columns():
    prof = CouncilProfile(council="A council", gss_code="E1", path="/x/councils/a.yaml",
                          it_staff=ItStaff({"2024-25": 50_000.0}, source="budget book"))
    r = sr.run_review(TX, "E1", [FLAT], simulations=50, seed=1, population=POP,
                      profile=prof, peers=["E2", "E3"], min_peers=2)
    assert r"councils/a\.yaml" in vs.profile_line(prof, "A council")  # Markdown-escaped
    assert "in-house IT staff costs" in vs.profile_line(prof, "A council")
    gaps = vs.gap_report(r).frame
    assert {"In-house IT staff", "Gap with staff"} <= set(gaps.columns)
    assert r"£50.0k in 2024\-25 (budget book)" in vs.context_text(r)


def test_reports_use_the_shared_table_helper():
    for report in (vs.coverage_report(RESULT), vs.category_report(RESULT),
                   vs.gap_report(RESULT), vs.drivers_report(RESULT),
                   vs.assumptions_report(RESULT)):
        html = report._repr_html_()
        assert 'class="sk-table"' in html and not re.search(r"\bnan\b|NaN|<NA>", html)
    drivers = vs.drivers_report(RESULT).frame
    assert list(drivers.columns) == ["What makes up the cumulative gap", "Flat <b>cash</b>",
                                     PEERS.title]
    assert "Flat &lt;b&gt;cash&lt;/b&gt;" in vs.drivers_report(RESULT)._repr_html_()


def test_summary_without_model_states_the_latest_complete_paid_year():
    pay = pd.DataFrame({"total_gbp": [1000.0], "n_payments": [1]})
    rr = pd.DataFrame({"financial_year": ["2023-24", "2024-25", "2025-26"],
                       "run_rate_gbp": [900.0, 92_642.0, 22_825.0],
                       "is_complete": [True, True, False]})
    lines = V.summary_without_model("T", "x", None, pay, ["2024-25"], rr)
    assert lines[-1] == "Paid run-rate in 2024-25, the latest complete year: £92.6k a year."
    thin = V.summary_without_model("T", "x", None, pay, ["2025-26"], rr.iloc[[2]])
    assert thin[-1].startswith("No financial year is fully covered")
    assert "pale" not in V.paid_caption(rr.assign(n_multi_year=0, vat_basis="net"), chart=False)


def test_lever_ranges_read_as_money_or_plain_numbers():
    table = vs.assumptions_table(RESULT)
    ranges = dict(zip(table["item"], table["value"], strict=True))
    assert ranges["Range: Microsoft price rise, 2026-27"] == "0 to 20"
    assert ranges["Range: Inflation"] == "0.7184 to 3.282"
    assert not any("e+" in str(v) for v in table["value"])
    # £ levers (file costs scaled to the baseline) read as money, never 6.995e+04.
    assert vs._number(69_950.4, True) == "£69,950" and vs._number(149_200.0, False) == "149,200"


def test_paid_figure_without_a_model_draws_the_paid_bars_only():
    from spendkit.views.licensing_charts import modelled_vs_paid_figure
    from spendkit.views.plotting import figure_has_data

    rr = pd.DataFrame({"financial_year": ["2023-24", "2024-25"], "run_rate_gbp": [40_299.0,
                                                                                   92_642.0],
                       "is_complete": [True, False]})
    fig = modelled_vs_paid_figure(rr, title="Hyndburn <b>paid</b>")
    assert [t.type for t in fig.data] == ["bar"] and figure_has_data(fig)
    assert list(fig.data[0].marker.opacity) == [1.0, 0.45]
    assert "&lt;b&gt;" in fig.layout.title.text


def test_deal_readings_take_user_counts_and_refuse_text_in_one_line():
    from spendkit.errors import InputError

    lines = V.deal_reading_lines(670_000, "2025-07-01", [2100, 2500])
    # £670,000 / 12 / 2,500 = £22.33 and / 2,100 = £26.59 per user per month.
    assert lines[0].startswith("£670,000 a year over 2,100-2,500 users is £22.33-£26.59 per "
                               "user per month")
    assert V.deal_reading_lines(670_000, "2025-07-01", 2300)[0].startswith(
        "£670,000 a year over 2,300-2,300 users")
    with pytest.raises(InputError, match=r"users: expected whole numbers .* got '\[2100, 2500\]'"):
        V.deal_reading_lines(670_000, "2025-07-01", "[2100, 2500]")
