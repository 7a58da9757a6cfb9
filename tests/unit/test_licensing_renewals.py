"""The council's own contracts: profile agreements, renewal timing, deal readings, run rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from spendkit.models import licensing as L
from spendkit.models.licensing import renewals as R
from spendkit.reference.profiles import CouncilProfile, MicrosoftAgreement
from spendkit.units.money import AMOUNT_TYPE

BWD = CouncilProfile(
    council="Blackburn with Darwen Borough Council", gss_code="E06000008", path="bwd.yaml",
    vat_basis="net",
    microsoft=(MicrosoftAgreement("EA", date(2021, 7, 1), 4, {"E5": 0}),
               MicrosoftAgreement("EA", date(2025, 7, 1), 3, {"E5": 0},
                                  reseller="Phoenix Software", annual_cost_gbp=670_000,
                                  source="infotec.news 2025-06-03")))
MIXED = CouncilProfile(
    council="Mixed council", gss_code="E06000001", path="mixed.yaml",
    microsoft=(MicrosoftAgreement("EA", date(2025, 7, 1), 3,
                                  {"E5": 300, "E3": 1500, "F3": 400}),))


def test_the_july_2026_rise_reaches_an_ea_only_at_its_renewal() -> None:
    plan = R.renewal_plan(BWD.microsoft[-1], date(2026, 4, 1), date(2029, 4, 1))
    # Term fixed on 1 Jul 2025 at the E5 list of £52.50; the July 2026 rise (to an estimated
    # £55.26 = 60 x 52.50 / 57) lands on 1 Jul 2028, in 2028-29, not in 2026-27.
    assert plan.table["renewal_date"].tolist() == [date(2028, 7, 1)]
    assert plan.table["financial_year"].tolist() == ["2028-29"]
    row = plan.table.iloc[0]
    assert (row["list_before"], row["list_after"]) == (52.50, 55.26)
    assert row["list_change_pct"] == pytest.approx((55.26 / 52.50 - 1) * 100, abs=0.005)
    assert row["is_estimate"]
    assert "renews 1 Jul 2028" in plan.describe()
    assert R.renewal_plan(BWD.microsoft[-1], date(2026, 4, 1), date(2028, 4, 1)).table.empty


def test_a_csp_subscription_reprices_every_twelve_months() -> None:
    csp = MicrosoftAgreement("CSP", date(2025, 9, 1), 1, {"E3": 100})
    plan = R.renewal_plan(csp, date(2026, 4, 1), date(2028, 4, 1))
    assert plan.table["renewal_date"].tolist() == [date(2026, 9, 1), date(2027, 9, 1)]
    # 1 Sep 2026 reprices at the July 2026 E3 estimate (£35.86 = 39 x 33.10 / 36): +8.33%.
    assert plan.table["list_change_pct"].tolist() == [
        pytest.approx((35.86 / 33.10 - 1) * 100, abs=0.005), 0.0]


def test_agreements_from_profile_cost_a_mixed_estate() -> None:
    agreements, notes = R.agreements_from_profile(MIXED, discount=0.0)
    assert len(agreements) == 1 and not notes
    costs = R.annual_cost_of(agreements, "2025-07-01", "2026-07-01")
    # 12 x (300 x 52.50 + 1,500 x 33.10 + 400 x 7.36) = £820,128 a year at list; 9 months in
    # 2025-26, 3 in 2026-27.
    per_year = L.total_cost(costs).set_index("period")["list_cost_gbp"]
    assert per_year["2025-26"] == pytest.approx(820_128 * 9 / 12, abs=0.01)
    assert per_year.sum() == pytest.approx(820_128, abs=0.01)
    assert set(costs["sku"]) == {"Microsoft 365 E5", "Microsoft 365 E3", "Microsoft 365 F3"}


def test_agreements_without_seats_are_named_not_costed_and_no_profile_borrows_nothing() -> None:
    agreements, notes = R.agreements_from_profile(BWD)
    assert agreements == [] and len(notes) == 2 and "seats not given" in notes[0]
    agreements, notes = R.agreements_from_profile(None)
    assert agreements == [] and "no council profile" in notes[0]


def test_deal_readings_for_670k_worked_by_hand() -> None:
    r = R.deal_readings(670_000, "2025-07-01", users=(2100, 2500), discounts=(0.0, 0.30),
                        frontline_shares=(0.0,))
    single = r.single_sku.set_index(["users", "sku"])["implied_discount"]
    # 670,000 / 12 / 2,100 = £26.59 a user a month: 1 - 26.59 / 52.50 = 49.4% off E5 list.
    assert single[(2100, "Microsoft 365 E5")] == pytest.approx(1 - 670_000 / 12 / 2100 / 52.50)
    assert single[(2500, "Microsoft 365 E5")] == pytest.approx(0.5746, abs=1e-4)
    assert single[(2100, "Microsoft 365 E3")] == pytest.approx(0.1968, abs=1e-4)
    mix = r.mixes.set_index(["users", "discount"])
    # At 30% off, 2,100 users: (670,000 / 8.4 / 2,100 - 33.10) / (52.50 - 33.10) = 25.2% on E5.
    share = (670_000 / (12 * 0.7) / 2100 - 33.10) / (52.50 - 33.10)
    assert mix.loc[(2100, 0.30), "top_share"] == pytest.approx(share)
    assert bool(mix.loc[(2100, 0.30), "possible"])
    assert not bool(mix.loc[(2500, 0.30), "possible"])  # even all E3 costs more
    assert not bool(mix.loc[(2100, 0.0), "possible"])
    text = " ".join(r.lines())
    assert "49%-57% below list" in text and "deeper than any other published deal" in text


def _tx(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["publisher_name", "publisher_code", "payment_date",
                                     "amount_gbp", "underlying_vendor", "description"])
    df["payment_date"] = pd.array(df["payment_date"], dtype=pd.ArrowDtype(pa.date32()))
    df["amount_gbp"] = pd.array([Decimal(str(a)) for a in df["amount_gbp"]],
                                dtype=pd.ArrowDtype(AMOUNT_TYPE))
    return df


def test_an_upfront_multi_year_payment_is_spread_over_its_stated_years() -> None:
    tx = _tx([("C", "E1", date(2024, 7, 15), "360000.00", "Microsoft", "Microsoft EA 3 years"),
              ("C", "E1", date(2021, 1, 5), "10.00", "Other", ""),
              ("C", "E1", date(2028, 1, 5), "10.00", "Other", "")])
    rr = L.microsoft_paid_run_rate(tx).set_index("financial_year")
    # £360,000 over 36 months from Jul 2024 is £10,000 a month: 9 months in 2024-25, 12, 12,
    # then 3 in 2027-28.
    assert rr["run_rate_gbp"].to_dict() == {"2024-25": 90_000.0, "2025-26": 120_000.0,
                                            "2026-27": 120_000.0, "2027-28": 30_000.0}
    assert rr.loc["2024-25", "n_multi_year"] == 1
    # Complete only when the data reaches back over the 35 months a payment can spread from.
    assert rr.loc["2025-26", "is_complete"] and not rr.loc["2027-28", "is_complete"]


def test_an_upfront_payment_is_spread_over_the_profiles_term() -> None:
    prof = CouncilProfile(council="D", gss_code="E2", path="d.yaml", vat_basis="gross",
                          microsoft=(MicrosoftAgreement("EA", date(2024, 7, 1), 3, {"E3": 250},
                                                        annual_cost_gbp=100_000),))
    tx = _tx([("D", "E2", date(2024, 7, 10), "300000.00", "Microsoft", "licences"),
              ("D", "E2", date(2021, 7, 10), "100000.00", "Microsoft", "licences")])
    rr = L.microsoft_paid_run_rate(tx, profiles=prof).set_index("financial_year")
    # The 2021 payment predates the agreement: 12 months. The £300,000 (3 x the annual cost)
    # covers the 3-year term: £8,333.33 a month, 9 months in 2024-25.
    assert rr.loc["2021-22", "run_rate_gbp"] == pytest.approx(75_000.0)
    assert rr.loc["2024-25", "run_rate_gbp"] == pytest.approx(75_000.0, abs=0.01)
    assert rr.loc["2025-26", "run_rate_gbp"] == pytest.approx(100_000.0, abs=0.01)
    assert (rr["vat_basis"] == "gross").all()
    # Without the profile the same payment is one year's licences.
    plain = L.microsoft_paid_run_rate(tx).set_index("financial_year")
    assert plain.loc["2024-25", "run_rate_gbp"] == pytest.approx(225_000.0)


def test_net_and_gross_publishers_mixed_are_flagged() -> None:
    tx = _tx([("C", "E1", date(2024, 7, 15), "1200.00", "Microsoft", ""),
              ("D", "E2", date(2024, 7, 15), "1440.00", "Microsoft", "")])
    rr = L.microsoft_paid_run_rate(tx, vat_basis={"C": "net", "E2": "gross"})
    assert rr.set_index("publisher_name")["vat_basis"].drop_duplicates().to_dict() == {
        "C": "net", "D": "gross"}
    assert rr.attrs["mixed_vat_basis"]
    assert not L.microsoft_paid_run_rate(tx).attrs["mixed_vat_basis"]


def test_licensing_assumptions_say_what_rests_on_what() -> None:
    agreements, notes = R.agreements_from_profile(MIXED)
    costs = R.annual_cost_of(agreements, "2025-07-01", "2026-07-01")
    table = R.licensing_assumptions(agreements, costs, MIXED, notes)
    assert list(table.columns) == ["item", "value", "source", "confidence"]
    assert table["source"].str.len().gt(0).all()
    assert set(table["confidence"]) <= {"high", "medium", "low"}
    disc = table[table["item"].str.startswith("Discount")].iloc[0]
    assert disc["value"] == "0% / 30% / 55%" and "Pembrokeshire" in disc["source"]
    assert table["item"].str.startswith("Estimated list price").any()


def test_licensing_setup_never_borrows_another_councils_agreement() -> None:
    from spendkit.views import licensing as V

    own = V.licensing_setup(MIXED, "Mixed council")
    assert own.from_profile and own.agreement is not None
    assert own.basis.startswith("Agreements from Mixed council's council profile (mixed.yaml)")
    illustration = V.licensing_setup(None, "Leeds City Council", seats={"E5": 1300},
                                     start="2021-07-01", term_years=4)
    assert not illustration.from_profile
    assert illustration.basis.startswith("No council profile: the model uses the parameters'")
    assert "not Leeds City Council's own agreement" in illustration.basis
    assert (illustration.assumptions["source"].str.startswith("assumption")).any()
    nothing = V.licensing_setup(None, "Leeds City Council")
    assert nothing.agreement is None and nothing.basis.startswith("No licence model")
    # BwD's profile gives dates and cost but no seats: nothing costed, the dates still known.
    bwd = V.licensing_setup(BWD, "Blackburn with Darwen Borough Council")
    assert bwd.agreement is None and "seats not given" in bwd.basis


def test_summary_says_the_sample_check_is_circular() -> None:
    from test_licensing_summary import _summary_inputs

    from spendkit.views import licensing as V

    a, costs, bundle = _summary_inputs()
    paid = pd.DataFrame({"financial_year": ["2024-25"], "run_rate_gbp": [300000.0],
                         "is_complete": [True], "modelled_months": [12],
                         "cost_gbp_central": [300000.0], "within_range": [True]})
    real = V.summary_lines(a, costs, ["2024-25"], bundle, "2025-07-01", paid=paid)
    sample = V.summary_lines(a, costs, ["2024-25"], bundle, "2025-07-01", paid=paid,
                             sample=True)
    assert real[3].endswith("1 of 1 years within the modelled range.")
    assert sample[3].endswith("1 of 1 years within the modelled range (on the synthetic "
                              "sample this check is circular: the sample's payments were "
                              "written to fit the published deal).")


def test_the_sample_profile_of_blackburn_with_darwen_renews_in_july_2028() -> None:
    from spendkit.reference.profiles import read_profile
    from spendkit.settings import PACKAGE_DATA

    path = PACKAGE_DATA / "sample" / "councils" / "blackburn-with-darwen-borough-council.yaml"
    bwd = read_profile(path)
    current = max(bwd.microsoft, key=lambda a: a.start)
    # Seat counts are not published (skus only): the plan still knows the dates and the SKU.
    plan = R.renewal_plan(current, date(2026, 4, 1), date(2029, 4, 1))
    assert plan.table["renewal_date"].tolist() == [date(2028, 7, 1)]
    assert plan.table["list_change_pct"].iloc[0] == pytest.approx(5.26, abs=0.01)
    agreements, notes = R.agreements_from_profile(bwd)
    assert agreements == [] and all("seats not given" in n for n in notes)
    table = R.licensing_assumptions(agreements, None, bwd, notes)
    assert "Microsoft 365 E5 (seats not published)" in " ".join(table["value"])
