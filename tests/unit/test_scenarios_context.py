"""The council's facts in a scenario run: renewal timing, settlement, correlated inflation, staff."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest

from spendkit.models import scenarios as sc
from spendkit.reference.profiles import CouncilProfile, ItStaff, MicrosoftAgreement

BASE = sc.baseline_from_totals(
    {"it_services": 900_000, "software_licensing": 100_000},
    microsoft_gbp={"software_licensing": 100_000}, financial_year="2025-26")


def spec(**extra: Any) -> sc.ScenarioSpec:
    raw = {"schema_version": 1, "name": extra.pop("name", "t"), "review_years": 3}
    raw.update(extra)
    return sc.parse_scenario(raw, "test.yaml")


def profile(**kw: Any) -> CouncilProfile:
    return CouncilProfile(council="Test council", gss_code="E06000008", path="test.yaml", **kw)


def values(frame, measure: str, column: str = "cash_gbp") -> list[float]:
    return frame.loc[frame["measure"] == measure, column].tolist()


def ctx(p: CouncilProfile | None, years: int = 3) -> sc.ScenarioContext:
    return sc.scenario_context("2025-26", years, profile=p)


EA = MicrosoftAgreement("EA", date(2025, 7, 1), 3, {"E5": 1000}, billing="annual",
                        source="infotec.news")


def test_microsoft_changes_land_at_the_ea_renewal_not_before() -> None:
    s = spec(microsoft={"renewal_uplift_pct": 10,
                        "price_change_pct": [0, 10, 0],  # unused: renewal dates are known
                        "licence_mix_change_pct": [-20, 0, 0]})
    out = sc.project(BASE, s, context=ctx(profile(microsoft=(EA,))))
    # The EA from 1 Jul 2025 runs to 30 Jun 2028: nothing moves in 2026-27 or 2027-28; the
    # renewal on 1 Jul 2028 (paid annually in advance) brings +10% and the E5 -> E3 mix -20%:
    # 100,000 x 1.10 x 0.80 = 88,000 in 2028-29.
    assert values(out, "microsoft_licensing") == pytest.approx([100_000, 100_000, 100_000,
                                                               88_000])
    # Without the agreement the same file moves Microsoft year by year (an assumption).
    plain = sc.project(BASE, s)
    assert values(plain, "microsoft_licensing") == pytest.approx([100_000, 80_000, 88_000,
                                                                 88_000])


def test_monthly_billing_spreads_the_renewal_over_the_months_after_it() -> None:
    monthly = MicrosoftAgreement("EA", date(2025, 7, 1), 3, {"E5": 1000}, billing="monthly")
    out = sc.project(BASE, spec(microsoft={"renewal_uplift_pct": 10}),
                     context=ctx(profile(microsoft=(monthly,)), 4))
    # 1 Jul 2028 renewal: 9 of 2028-29's 12 months at +10% (+7.5%), the whole of 2029-30.
    s4 = sc.with_review_years(spec(microsoft={"renewal_uplift_pct": 10}), 4)
    out = sc.project(BASE, s4, context=ctx(profile(microsoft=(monthly,)), 4))
    assert values(out, "microsoft_licensing") == pytest.approx(
        [100_000, 100_000, 100_000, 107_500, 110_000])


def test_default_renewal_uplift_comes_from_the_evidence() -> None:
    bound = sc.bind(spec(), BASE, ctx(profile(microsoft=(EA,))))
    q = bound.ms_renewal_uplift_pct
    # Observed EA uplifts 9-14% (low end) to Salford's +14.4% a year; central the midpoint.
    assert (q.low, q.value, q.high, q.dist) == (9.0, pytest.approx(11.7), 14.4, "uniform")
    assert q.range_basis == "sourced" and "Salford" in q.source
    assert "microsoft.price_change_pct" not in {x.path for x in bound.quantities}
    torn = sc.tornado(BASE, spec(), context=ctx(profile(microsoft=(EA,))))
    row = torn.set_index("lever").loc["microsoft.renewal_uplift_pct"]
    assert row["basis"] == "sourced"
    # One renewal (2028-29) at 9% vs 14.4% on £100k: a swing of £5,400 in the cumulative gap.
    assert row["swing"] == pytest.approx(5_400)


def test_a_csp_subscription_takes_the_list_change_at_each_anniversary() -> None:
    csp = MicrosoftAgreement("CSP", date(2025, 9, 1), 1, {"E3": 500})
    out = sc.project(BASE, spec(), context=ctx(profile(microsoft=(csp,))))
    # 1 Sep 2026: E3 list 33.10 -> 35.86 (the July 2026 rise, estimate): +8.34% from 2026-27.
    rise = 35.86 / 33.10
    assert values(out, "microsoft_licensing") == pytest.approx(
        [100_000, 100_000 * rise, 100_000 * rise, 100_000 * rise], rel=1e-4)


def test_the_councils_own_settlement_is_fixed_in_cash() -> None:
    csp = {"2025-26": 100e6, "2026-27": 105e6, "2027-28": 108.15e6, "2028-29": 110e6}
    fixed = profile(core_spending_power_gbp=csp, settlement_fixed_cash=True)
    s = spec(funding={"basis": "settlement"},
             inflation={"rate_pct": {"value": 2, "dist": "normal", "sd": 1}})
    out = sc.project(BASE, s, context=ctx(fixed))
    # Growth 5%, 3%, 110 / 108.15 - 1 = 1.71%, passed through in full.
    assert values(out, "settlement") == pytest.approx([1e6, 1.05e6, 1.0815e6, 1.1e6])
    mc = sc.monte_carlo(BASE, s, simulations=400, seed=3, context=ctx(fixed))
    env = mc[(mc["measure"] == "funding_envelope") & (mc["basis"] == "cash")]
    assert (env["p10"] == env["p90"]).all()  # fixed in cash: no spread
    spend = mc[(mc["measure"] == "it_spend") & (mc["basis"] == "cash")]
    assert (spend["p90"] - spend["p10"]).iloc[-1] > 0  # while inflation still moves costs
    # England's path as a fallback: growth from reference data, with its own uncertainty.
    fallback = sc.monte_carlo(BASE, s, simulations=400, seed=3, context=ctx(None))
    env = fallback[(fallback["measure"] == "funding_envelope") & (fallback["basis"] == "cash")]
    assert (env["p90"] - env["p10"]).iloc[1:].gt(0).all()
    det = sc.project(BASE, s, context=ctx(None))
    # 2026-27 from the final settlement (derived 6.90%), then 4.3% and 4.4%.
    assert values(det, "settlement")[1:] == pytest.approx(
        [1e6 * 1.069, 1e6 * 1.069 * 1.043, 1e6 * 1.069 * 1.043 * 1.044], rel=1e-3)
    assert "England" in ctx(None).settlement.describe()
    assert ctx(fixed).settlement.fixed == {"2026-27", "2027-28", "2028-29"}


def test_pass_through_share_is_the_settlement_scenarios_own_uncertainty() -> None:
    csp = {"2025-26": 100e6, "2026-27": 110e6, "2027-28": 110e6, "2028-29": 110e6}
    s = spec(funding={"basis": "settlement", "pass_through_pct": {
        "value": 100, "dist": "triangular", "low": 50, "high": 100}})
    c = ctx(profile(core_spending_power_gbp=csp, settlement_fixed_cash=True))
    torn = sc.tornado(BASE, s, context=c).set_index("lever")
    # Half of the 10% growth reaching IT instead of all of it: 3 years x £50k.
    assert torn.loc["funding.pass_through_pct", "swing"] == pytest.approx(150_000)
    assert torn.loc["funding.pass_through_pct", "basis"] == "assumption"


def test_a_flat_real_envelope_is_fixed_in_cash_and_carries_inflation_risk() -> None:
    s = spec(funding={"basis": "real", "change_pct": 0},
             inflation={"rate_pct": {"value": 2, "dist": "normal", "sd": 1}})
    mc = sc.monte_carlo(BASE, s, simulations=500, seed=1)
    env = mc[(mc["measure"] == "funding_envelope") & (mc["basis"] == "cash")]
    # Set on the central 2%: 1.02, 1.0404, 1.0612 x £1m, whatever inflation turns out to be.
    assert env["p10"].tolist() == pytest.approx([1e6, 1.02e6, 1.0404e6, 1.061208e6])
    assert (env["p10"] == env["p90"]).all()
    gap = mc[(mc["measure"] == "gap") & (mc["basis"] == "cash")]
    assert (gap["p90"] - gap["p10"]).iloc[-1] > 0


def test_inflation_years_are_drawn_as_a_correlated_path() -> None:
    yearly = [{"value": 2.0, "dist": "normal", "sd": 1.0},
              {"value": 2.0, "dist": "triangular", "low": 0.0, "high": 5.0},
              {"value": 2.0, "dist": "uniform", "low": 0.0, "high": 4.0}]
    corr = spec(inflation={"rate_pct": yearly, "correlation": 0.8})
    draws = sc._draws(corr, 20_000, 11)
    a, b, c = (draws[f"inflation.rate_pct[{i}]"] for i in (1, 2, 3))
    # Neighbouring years correlate about 0.8 (rank correlation of the AR(1) scores), years
    # two apart about 0.64; each keeps its own distribution.
    rank = lambda x: np.argsort(np.argsort(x))  # noqa: E731
    assert np.corrcoef(rank(a), rank(b))[0, 1] == pytest.approx(0.79, abs=0.03)
    assert np.corrcoef(rank(a), rank(c))[0, 1] == pytest.approx(0.62, abs=0.03)
    assert a.std() == pytest.approx(1.0, abs=0.03)
    assert b.mean() == pytest.approx((0 + 2 + 5) / 3, abs=0.03)  # triangular mean
    assert c.min() >= 0 and c.max() <= 4 and c.mean() == pytest.approx(2.0, abs=0.03)
    free = sc._draws(spec(inflation={"rate_pct": yearly}), 20_000, 11)
    assert abs(np.corrcoef(free["inflation.rate_pct[1]"],
                           free["inflation.rate_pct[2]"])[0, 1]) < 0.03
    # A path moves together, so the cumulative cost spread is wider than with independent
    # years; the tornado swings the path as one lever.
    def spread(s: sc.ScenarioSpec) -> float:
        mc = sc.monte_carlo(BASE, s, simulations=4000, seed=2)
        last = mc[(mc["measure"] == "it_spend") & (mc["basis"] == "cash")].iloc[-1]
        return last["p90"] - last["p10"]
    assert spread(corr) > 1.2 * spread(spec(inflation={"rate_pct": yearly}))
    torn = sc.tornado(BASE, corr)
    assert sc.INFLATION_PATH in set(torn["lever"])
    assert not torn["lever"].str.startswith("inflation.rate_pct[1").any()


def test_reference_cpi_binds_per_review_year_and_marks_its_basis() -> None:
    bound = sc.bind(spec(inflation={"measure": "cpi", "rate_pct": "reference"}), BASE, ctx(None))
    rates = [q.value for q in bound.inflation_pct]
    # Review years 2026-27, 2027-28, 2028-29 take OBR March 2026 CPI for 2026, 2027, 2028.
    assert rates == [2.3, 2.0, 2.0]
    assert all(q.dist == "normal" and q.sd == 1.0 for q in bound.inflation_pct)
    assert all("OBR" in q.note and q.range_basis == "assumption" for q in bound.inflation_pct)
    assert bound.inflation_correlation == pytest.approx(0.46)
    older = sc.baseline_from_totals({"x": 1.0}, financial_year="2023-24")
    past = sc.bind(spec(inflation={"measure": "cpi", "rate_pct": "reference"}), older,
                   sc.scenario_context("2023-24", 3))
    # 2024 and 2025 are outturn (fixed), 2026 a forecast.
    assert [q.value for q in past.inflation_pct] == [2.5, 3.4, 2.3]
    assert [q.dist for q in past.inflation_pct] == [None, None, "normal"]


def test_staff_costs_are_added_beside_the_payments_with_their_pay_award() -> None:
    staff = ItStaff(cost_gbp={"2025-26": 500_000}, pay_award_pct={"2026-27": 3.2},
                    source="budget book")
    c = ctx(profile(it_staff=staff))
    s = spec(inflation={"rate_pct": 2}, funding={"basis": "cash", "change_pct": 0})
    out = sc.project(BASE, s, context=c)
    # 2026-27 the given 3.2% award; later years follow the scenario's inflation (2%).
    assert values(out, "in_house_staff") == pytest.approx(
        [500_000, 516_000, 516_000 * 1.02, 516_000 * 1.02**2])
    assert values(out, "total_it_cost") == pytest.approx(
        np.add(values(out, "it_spend"), values(out, "in_house_staff")))
    assert values(out, "envelope_with_staff") == pytest.approx([1.5e6] * 4)
    table = sc.compare_scenarios(BASE, [s], context=c)
    assert {"in_house_staff_gbp", "gap_with_staff_gbp",
            "cumulative_gap_with_staff_gbp"} <= set(table.columns)
    notes = c.assumptions()
    assert notes.loc[notes["item"] == "Pay award 2027-28", "source"].iloc[0] == "assumption"
    assert "staff" not in " ".join(sc.compare_scenarios(BASE, [s]).columns)


@pytest.mark.parametrize("name", sc.list_scenarios())
def test_packaged_scenarios_fixed_equal_their_deterministic_path(name: str) -> None:
    # The notebook's self-check: every lever fixed, Monte Carlo reproduces `project`, for the
    # packaged files (reference CPI, settlement basis, renewal uplift from evidence).
    s = sc.load_scenario(name)
    for context in (ctx(None), ctx(profile(microsoft=(EA,)))):
        det = sc.project(BASE, s, peer_target_gbp=900_000, context=context)
        mc = sc.monte_carlo(BASE, sc.without_uncertainty(s), simulations=20, seed=1,
                            peer_target_gbp=900_000, context=context)
        for m in ("it_spend", "funding_envelope", "gap"):
            got = mc[(mc["measure"] == m) & (mc["basis"] == "cash")]
            assert got["p50"].to_numpy() == pytest.approx(values(det, m))
            assert (got["p10"] == got["p90"]).all(), (name, m)
