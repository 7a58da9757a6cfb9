"""Arithmetic of the scenario engine: baseline, projection, Monte Carlo, tornado, comparison."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.errors import InputError, NoDataError
from spendkit.models import scenarios as sc

BASE = sc.baseline_from_totals(
    {"it_services": 600_000, "hardware": 200_000, "software_licensing": 200_000},
    microsoft_gbp={"software_licensing": 100_000}, financial_year="2024-25")


def spec(**extra: Any) -> sc.ScenarioSpec:
    raw = {"schema_version": 1, "name": extra.pop("name", "t"), "review_years": 3}
    raw.update(extra)
    return sc.parse_scenario(raw, "test.yaml")


def values(frame: pd.DataFrame, measure: str, column: str = "cash_gbp") -> list[float]:
    return frame.loc[frame["measure"] == measure, column].tolist()


def test_zero_path_keeps_spend_flat_in_real_terms() -> None:
    # Microsoft prices move by their own events, so here they follow the same path as CPI.
    s = spec(inflation={"rate_pct": [3.0, 5.0, 2.0]}, funding={"basis": "real", "change_pct": 0},
             microsoft={"price_change_pct": [3.0, 5.0, 2.0]})
    out = sc.project(BASE, s)
    assert values(out, "it_spend", "real_gbp") == pytest.approx([1_000_000] * 4)
    assert values(out, "funding_envelope", "real_gbp") == pytest.approx([1_000_000] * 4)
    assert values(out, "it_spend") == pytest.approx(
        [1e6, 1.03e6, 1.03e6 * 1.05, 1.03e6 * 1.05 * 1.02])
    assert out["financial_year"].unique().tolist() == ["2024-25", "2025-26", "2026-27",
                                                       "2027-28"]


def test_cash_funding_path_and_gap_is_spend_minus_envelope() -> None:
    s = spec(inflation={"rate_pct": 2}, funding={"basis": "cash", "change_pct": [-5, 0, 10]},
             grants=[{"name": "g", "amount_gbp": 50_000, "year": 2, "probability": 0.5}])
    out = sc.project(BASE, s)
    env = values(out, "funding_envelope")
    assert env == pytest.approx([1e6, 0.95e6, 0.95e6 + 25_000, 0.95e6 * 1.1])
    gap = np.array(values(out, "gap"))
    assert gap == pytest.approx(np.array(values(out, "it_spend")) - np.array(env))
    table = sc.compare_scenarios(BASE, [s])
    assert (table["gap_gbp"] == table["it_spend_gbp"] - table["funding_envelope_gbp"]).all()
    assert table["cumulative_gap_gbp"].iloc[-1] == pytest.approx(gap.sum())


def test_microsoft_price_and_mix_apply_only_to_microsoft_part() -> None:
    s = spec(microsoft={"price_change_pct": [10, 0, 0], "licence_mix_change_pct": [0, -20, 0]})
    out = sc.project(BASE, s)
    assert values(out, "microsoft_licensing") == pytest.approx([1e5, 1.1e5, 0.88e5, 0.88e5])
    assert values(out, "it_spend") == pytest.approx([1e6, 1.01e6, 0.988e6, 0.988e6])


def test_one_off_cost_lands_in_its_year_and_dual_running() -> None:
    s = spec(legacy_replacements=[{"name": "case system", "year": 2, "one_off_cost_gbp": 300_000,
                                   "old_run_cost_gbp": 100_000, "new_run_cost_gbp": 60_000,
                                   "dual_running_years": 1}])
    out = sc.project(BASE, s)
    assert values(out, "one_off_costs") == [0, 0, 300_000, 0]
    # Year 2: new system added while the old still runs; year 3: old one switched off.
    assert values(out, "legacy_run_change") == pytest.approx([0, 0, 60_000, -40_000])
    assert values(out, "it_spend") == pytest.approx([1e6, 1e6, 1.36e6, 0.96e6])


def test_shared_service_ramp_and_setup() -> None:
    s = spec(shared_services=[{"name": "desk", "categories": ["it_services"], "saving_pct": 10,
                               "setup_cost_gbp": 20_000, "start_year": 1, "ramp_years": 2}])
    out = sc.project(BASE, s)
    assert values(out, "shared_service_savings") == pytest.approx([0, 30_000, 60_000, 60_000])
    assert values(out, "one_off_costs") == [0, 20_000, 0, 0]


def test_peer_savings_need_a_target_and_close_the_gap() -> None:
    s = spec(match_best_peers={"quantile": 0.25, "gap_closed_pct": 50, "ramp_years": 2})
    # No like-for-like target (too few peers with data): the lever saves nothing, and says so.
    none = sc.project(BASE, s)
    assert values(none, "peer_savings") == [0, 0, 0, 0]
    assert "no like-for-like peer target" in " ".join(none.attrs["notes"])
    out = sc.project(BASE, s, peer_target_gbp=800_000)
    assert values(out, "peer_savings") == pytest.approx([0, 50_000, 100_000, 100_000])
    # A council already below the target saves nothing.
    out = sc.project(BASE, s, peer_target_gbp=2_000_000)
    assert values(out, "peer_savings") == [0, 0, 0, 0]


UNCERTAIN = {
    "inflation": {"rate_pct": {"value": 2, "dist": "normal", "sd": 1}},
    "microsoft": {"price_change_pct": [0, {"value": 5, "dist": "uniform", "low": 0, "high": 10},
                                       0]},
    "legacy_replacements": [{"name": "x", "year": 1, "one_off_cost_gbp":
                             {"value": 100_000, "dist": "triangular", "low": 50_000,
                              "high": 250_000}}],
    "grants": [{"name": "g", "amount_gbp": 40_000, "year": 1, "probability": 0.4}],
}


def test_monte_carlo_equals_deterministic_when_no_uncertainty() -> None:
    certain = {
        "inflation": {"rate_pct": [2, 3, 4]},
        "legacy_replacements": [{"name": "x", "year": 1, "one_off_cost_gbp": 100_000}],
        "grants": [{"name": "g", "amount_gbp": 40_000, "year": 1, "probability": 1}],
    }
    s = spec(**certain)
    det = sc.project(BASE, s)
    mc = sc.monte_carlo(BASE, s, simulations=200, seed=1)
    for m in ("it_spend", "funding_envelope", "gap"):
        got = mc[(mc["measure"] == m) & (mc["basis"] == "cash")]
        assert got["p50"].tolist() == values(det, m)
        assert got["p10"].tolist() == got["p90"].tolist()


def test_monte_carlo_percentiles_ordered_and_seeded() -> None:
    s = spec(**UNCERTAIN)
    a = sc.monte_carlo(BASE, s, simulations=500, seed=7)
    b = sc.monte_carlo(BASE, s, simulations=500, seed=7)
    c = sc.monte_carlo(BASE, s, simulations=500, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert (a["p10"] <= a["p50"]).all() and (a["p50"] <= a["p90"]).all()
    year1 = a[(a["measure"] == "it_spend") & (a["year_index"] == 1) & (a["basis"] == "cash")]
    assert year1["p90"].iloc[0] > year1["p10"].iloc[0]
    # Grant drawn as won/not: the envelope's P10 is without it, the P90 with it.
    env = a[(a["measure"] == "funding_envelope") & (a["year_index"] == 1)
            & (a["basis"] == "cash")].iloc[0]
    assert env["p90"] - env["p10"] == pytest.approx(40_000)


def test_tornado_swings_each_lever_with_others_central() -> None:
    s = spec(**UNCERTAIN)
    t = sc.tornado(BASE, s, metric="total_it_spend")
    assert t["swing"].is_monotonic_decreasing
    one_off = t.set_index("lever").loc["legacy_replacements[1].one_off_cost_gbp"]
    assert one_off["at_high"] - one_off["at_low"] == pytest.approx(200_000)
    assert one_off["central"] == pytest.approx(
        sc.project(BASE, s).query("measure == 'it_spend' and year_index > 0")["cash_gbp"].sum())
    grant = t.set_index("lever").loc["grants[1].probability"]
    assert grant["swing"] == 0  # a grant changes the envelope, not the spend
    assert "inflation.rate_pct" in set(t["lever"])
    with pytest.raises(InputError, match="metric"):
        sc.tornado(BASE, s, metric="nope")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=3, max_size=3),
       st.lists(st.floats(-20, 20), min_size=3, max_size=3))
def test_real_funding_path_is_independent_of_inflation(infl: list[float],
                                                       fund: list[float]) -> None:
    s = spec(inflation={"rate_pct": infl}, funding={"basis": "real", "change_pct": fund})
    real = values(sc.project(BASE, s), "settlement", "real_gbp")
    assert real == pytest.approx(1e6 * np.cumprod([1] + [1 + f / 100 for f in fund]))


def _transactions() -> pd.DataFrame:
    # Council A: 2023-24 complete (12 months), 2024-25 only 9 months (Apr-Dec).
    months = [date(2023, m, 15) for m in range(4, 13)] + [date(2024, m, 15) for m in (1, 2, 3)]
    months += [date(2024, m, 15) for m in range(4, 13)]
    rows = []
    for d in months:
        rows.append(("A", d, Decimal("1000.10"), True, "it_services", ""))
        rows.append(("A", d, Decimal("500.00"), True, "software_licensing", "Microsoft"))
        rows.append(("A", d, Decimal("9999.99"), False, "", ""))
    rows.append(("B", date(2024, 5, 1), Decimal("10.00"), True, "hardware", ""))
    frame = pd.DataFrame(rows, columns=["publisher_name", "payment_date", "amount_gbp", "is_it",
                                        "it_category", "underlying_vendor"])
    frame["payment_date"] = pd.Series(pa.array(frame["payment_date"], pa.date32()),
                                      dtype=pd.ArrowDtype(pa.date32()))
    frame["amount_gbp"] = pd.Series(pa.array(frame["amount_gbp"], pa.decimal128(18, 2)),
                                    dtype=pd.ArrowDtype(pa.decimal128(18, 2)))
    return frame


def test_baseline_prefers_the_latest_twelve_months_and_scales_only_when_it_must() -> None:
    tx = _transactions()
    # 2023-24 is complete, 2024-25 has Apr-Dec: the latest 12 months present (Jan-Dec 2024)
    # are a fuller, more recent run-rate than 2023-24, and are 2024-25's.
    b = sc.build_baseline(tx, publisher="A")
    assert (b.financial_year, b.months_present, b.scale_factor) == ("2024-25", 12, 1.0)
    assert b.window == "Jan 2024 to Dec 2024" and "12 consecutive months" in b.choice
    assert b.total_gbp == pytest.approx(12 * 1500.10)
    assert b.microsoft_gbp == pytest.approx(6000.0)
    assert b.label == "third-party IT spend published as payments"
    partial = sc.build_baseline(tx, publisher="A", year="2024-25")
    assert partial.months_present == 9
    assert partial.total_gbp == pytest.approx(9 * 1500.10 * 12 / 9)
    assert "12/9" in " ".join(partial.notes)
    flagged = sc.build_baseline(tx, publisher="A", year="2024-25", coverage_rule="flag")
    assert flagged.total_gbp == pytest.approx(9 * 1500.10)
    assert "NOT scaled" in " ".join(flagged.notes)
    # Thin data is a valid input: one month is scaled and said to be thin, never raised.
    thin = sc.build_baseline(tx, publisher="B")
    assert (thin.financial_year, thin.months_present) == ("2024-25", 1)
    assert thin.total_gbp == pytest.approx(120.0) and "thin baseline" in thin.choice
    # Only an impossible request raises: a year with no month of data.
    with pytest.raises(NoDataError, match="B 2023-24: no month"):
        sc.build_baseline(tx, publisher="B", year="2023-24")
    with pytest.raises(InputError, match="2 publishers"):
        sc.build_baseline(tx)


def _monthly(months: list[tuple[int, int]], amount: str = "100.00") -> pd.DataFrame:
    rows = [("H", date(y, m, 10), Decimal(amount), True, "it_services", "") for y, m in months]
    frame = pd.DataFrame(rows, columns=["publisher_name", "payment_date", "amount_gbp", "is_it",
                                        "it_category", "underlying_vendor"])
    frame["amount_gbp"] = pd.Series(pa.array(frame["amount_gbp"], pa.decimal128(18, 2)),
                                    dtype=pd.ArrowDtype(pa.decimal128(18, 2)))
    return frame


def test_baseline_of_a_gappy_series_takes_the_fuller_of_the_two_latest_years() -> None:
    # Like Hyndburn's real series: 2023-24 misses Feb; 2024-25 misses Nov and Mar (10 months);
    # 2025-26 has 7 months; so no 12 consecutive months in the last two years.
    fy = lambda y: [(y, m) for m in range(4, 13)] + [(y + 1, m) for m in (1, 2, 3)]  # noqa: E731
    months = [m for m in fy(2023) if m != (2024, 2)]
    months += [m for m in fy(2024) if m not in ((2024, 11), (2025, 3))]
    months += [(2025, 4), (2025, 6), (2025, 7), (2025, 9), (2025, 10), (2025, 11), (2026, 1)]
    b = sc.build_baseline(_monthly(months))
    assert (b.financial_year, b.months_present) == ("2024-25", 10)
    assert b.scale_factor == pytest.approx(1.2) and b.total_gbp == pytest.approx(1200.0)
    assert "two latest financial years" in b.choice


def test_baseline_counts_only_complete_months_when_files_are_known() -> None:
    # A month with 2 payments where the others have 20 is sparse (part-published): not present.
    rows = []
    for y, m in [(2024, m) for m in range(4, 13)] + [(2025, m) for m in (1, 2, 3)]:
        n = 2 if (y, m) == (2024, 9) else 20
        rows += [("H", "E1", date(y, m, 1 + k), Decimal("10.00"), True, "it_services", "",
                  f"{y}-{m}.csv") for k in range(n)]
    frame = pd.DataFrame(rows, columns=["publisher_name", "publisher_code", "payment_date",
                                        "amount_gbp", "is_it", "it_category",
                                        "underlying_vendor", "source_file"])
    frame["amount_gbp"] = pd.Series(pa.array(frame["amount_gbp"], pa.decimal128(18, 2)),
                                    dtype=pd.ArrowDtype(pa.decimal128(18, 2)))
    b = sc.build_baseline(frame)
    assert b.months_present == 11 and b.scale_factor == pytest.approx(12 / 11)


def test_packaged_scenarios_load_and_run() -> None:
    names = sc.list_scenarios()
    assert {"flat-cash", "settlement-2026", "modernise-and-share"} <= set(names)
    specs = [sc.load_scenario(n) for n in names]
    table = sc.compare_scenarios(BASE, specs, peer_target_gbp=900_000)
    assert table["scenario"].unique().tolist() == names
    assert len(table) == 4 * len(names)
    flat = table[table["scenario"] == "flat-cash"]
    assert (flat["funding_envelope_gbp"] == 1e6).all()
    for s in specs:  # every quantity's range says where it comes from or that it is assumed
        bound = sc.bind(s, BASE, sc.scenario_context(BASE.financial_year, s.review_years))
        assert {q.range_basis for q in bound.quantities} <= {"sourced", "assumption"}
