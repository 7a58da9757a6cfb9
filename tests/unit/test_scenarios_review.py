"""A whole review run: publisher lookup, coverage, peers, drivers, narrative, charts, export."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from openpyxl import load_workbook

from spendkit.errors import InputError, ReferenceDataError
from spendkit.models import scenarios as sc
from spendkit.models.scenarios import review as sr
from spendkit.views import scenarios as vs
from spendkit.views.scenarios_charts import fan_chart, tornado_chart

POP = pd.DataFrame({"gss_code": ["E1", "E2", "E3"], "population": [1000, 2000, 500]})


def _tx() -> pd.DataFrame:
    """Three councils, FY 2024-25. A: 12 months, £1,200 IT a month (£300 Microsoft).
    B: 12 months, £100 IT a month. C: 12 months, £50 a month. Plus non-IT rows."""
    rows = []
    for y, m in [(2024, m) for m in range(4, 13)] + [(2025, m) for m in (1, 2, 3)]:
        d = date(y, m, 10)
        rows += [("A council", "E1", d, Decimal("900.00"), True, "it_services", ""),
                 ("A council", "E1", d, Decimal("300.00"), True, "software_licences", "Microsoft"),
                 ("A council", "E1", d, Decimal("5000.00"), False, "", ""),
                 ("B council", "E2", d, Decimal("100.00"), True, "hardware", ""),
                 ("C council", "E3", d, Decimal("50.00"), True, "hardware", "")]
    # A: a partial earlier year (3 months) that must show as low coverage, not a fall.
    rows += [("A council", "E1", date(2023, m, 5), Decimal("10.00"), True, "hardware", "")
             for m in (4, 5, 6)]
    f = pd.DataFrame(rows, columns=["publisher_name", "publisher_code", "payment_date",
                                    "amount_gbp", "is_it", "it_category", "underlying_vendor"])
    f["payment_date"] = pd.Series(pa.array(f["payment_date"], pa.date32()),
                                  dtype=pd.ArrowDtype(pa.date32()))
    f["amount_gbp"] = pd.Series(pa.array(f["amount_gbp"], pa.decimal128(18, 2)),
                                dtype=pd.ArrowDtype(pa.decimal128(18, 2)))
    return f


TX = _tx()


def spec(**extra: Any) -> sc.ScenarioSpec:
    raw = {"schema_version": 1, "name": extra.pop("name", "t"), "review_years": 3}
    raw.update(extra)
    return sc.parse_scenario(raw, "test.yaml")


FLAT = spec(name="flat", title="Flat <b>cash</b>", inflation={"rate_pct": 2},
            microsoft={"price_change_pct": [0, {"value": 10, "dist": "uniform", "low": 0,
                                                "high": 20}, 0]})
PEERS = spec(name="peers", funding={"basis": "real", "change_pct": 0},
             inflation={"rate_pct": {"value": 2, "dist": "normal", "sd": 1}},
             match_best_peers={"quantile": 0.25, "gap_closed_pct": {
                 "value": 50, "dist": "uniform", "low": 0, "high": 100}, "ramp_years": 1},
             grants=[{"name": "LDF", "amount_gbp": 1000, "year": 1, "probability": 0.5}],
             legacy_replacements=[{"name": "Case system", "year": 2,
                                   "one_off_cost_gbp": 2000}])


def review(**kw: Any) -> sr.ReviewResult:
    # A's like-for-like peers are B and C (given, as a council profile would); 2 with data.
    args = {"simulations": 300, "seed": 5, "population": POP, "peers": ["E2", "E3"],
            "min_peers": 2}
    args.update(kw)
    return sr.run_review(TX, "E1", [FLAT, PEERS], **args)


R = review()


def test_resolve_publisher_by_name_or_gss_code() -> None:
    assert sr.resolve_publisher(TX, "A council") == "A council"
    assert sr.resolve_publisher(TX, "E2") == "B council"
    with pytest.raises(InputError, match=r"council: 'Nowhere' is not a publisher in the data; expected one of the "
                       r"publishers it holds: A council \(E1\)"):
        sr.resolve_publisher(TX, "Nowhere")


def test_baseline_coverage_and_peer_target() -> None:
    b = R.baseline
    assert (b.publisher, b.financial_year, b.total_gbp, b.microsoft_gbp) == (
        "A council", "2024-25", 14_400.0, 3_600.0)
    cov = R.coverage.set_index("financial_year")
    assert cov.loc["2023-24", "months_present"] == 3
    assert cov.loc["2023-24", "it_observed_gbp"] == 30.0
    assert cov["is_baseline"].tolist() == [False, True]
    assert sr.publisher_population(TX, POP) == {"A council": 1000.0, "B council": 2000.0,
                                                "C council": 500.0}
    # Per head: A 14.4, B 0.6, C 1.2. A is never its own peer: the best quartile of its peers
    # [0.6, 1.2] is 0.6 + 0.25 x 0.6 = 0.75 per head, £750 for A's 1,000 residents (with A
    # itself in the group it was £900).
    assert R.peer_targets == {"flat": None, "peers": pytest.approx(750.0)}
    assert R.population == 1000.0
    assert R.peer.n_with_data == 2 and "A council" not in set(R.peer.group.member_names)
    # Without enough peers with data there is no target, and nothing raises.
    alone = review(peers=["E2", "E9"], min_peers=2)
    assert alone.peer_targets["peers"] is None
    assert "1 of 2 peers" in alone.peer.status()


def test_gap_table_and_drivers_add_up() -> None:
    table = vs.gap_table(R, formatted=False)
    assert table["financial_year"].tolist()[:3] == ["2025-26", "2026-27", "2027-28"]
    assert np.allclose(table["gap_to_fund"], table["it_spend"] - table["funding_envelope"])
    assert (table["gap_p10"] <= table["gap_p90"]).all()
    drivers = sr.gap_drivers(R)
    assert list(drivers.index) == list(sr.DRIVERS)
    cumulative = R.comparison.groupby("scenario")["cumulative_gap_gbp"].last()
    for name in R.names:
        assert drivers[name].sum() == pytest.approx(cumulative[name])
    # Flat cash: non-Microsoft £10,800 inflated 2% a year; Microsoft +10% from year 2.
    flat = drivers["flat"]
    assert flat["Inflation on non-Microsoft costs"] == pytest.approx(
        10_800 * (0.02 + (1.02**2 - 1) + (1.02**3 - 1)))
    assert flat["Microsoft price and licence mix"] == pytest.approx(2 * 360.0)
    assert flat["Settlement change"] == 0.0 and not np.signbit(flat["Grants"])
    peers = drivers["peers"]
    assert peers["Grants"] == pytest.approx(-500.0)
    assert peers["One-off costs (replacement, set-up)"] == pytest.approx(2000.0)
    gap0 = 14_400 - 750.0
    assert peers["Match-the-best-peers savings"] == pytest.approx(
        -0.5 * gap0 * (1.02 + 1.02**2 + 1.02**3))
    shown = vs.gap_table(R)
    assert shown.loc[0, "it_spend"].startswith("£")
    assert sr.gap_drivers(R, formatted=True).loc["Grants", "peers"] == "-£500"


def test_same_seed_same_result_and_review_years_override() -> None:
    again = review()
    pd.testing.assert_frame_equal(again.bands, R.bands)
    pd.testing.assert_frame_equal(again.tornados, R.tornados)
    assert not review(seed=6).bands.equals(R.bands)
    longer = review(review_years=5)
    years = longer.comparison.loc[longer.comparison["scenario"] == "flat", "financial_year"]
    assert years.tolist()[-1] == "2029-30"
    assert longer.simulations == 300 and longer.seed == 5


def test_with_review_years_holds_last_year_or_drops_later_events() -> None:
    longer = sc.with_review_years(FLAT, 5)
    assert [q.value for q in longer.ms_price_change_pct] == [0, 10, 0, 0, 0]
    assert longer.ms_price_change_pct[4] is longer.ms_price_change_pct[2]  # one lever
    shorter = sc.with_review_years(PEERS, 1)
    assert shorter.legacy == () and len(shorter.grants) == 1
    assert "legacy_replacements[1].one_off_cost_gbp" not in {q.path for q in
                                                             shorter.quantities}
    assert sc.with_review_years(FLAT, 3) is FLAT
    with pytest.raises(ReferenceDataError, match="test.yaml: review_years: expected a whole"):
        sc.with_review_years(FLAT, 0)


def test_without_uncertainty_makes_monte_carlo_equal_the_deterministic_path() -> None:
    fixed = sc.without_uncertainty(PEERS)
    assert fixed.uncertain_quantities() == ()
    assert PEERS.uncertain_quantities() != ()
    det = sc.project(R.baseline, PEERS, peer_target_gbp=900.0)
    mc = sc.monte_carlo(R.baseline, fixed, simulations=20, seed=1, peer_target_gbp=900.0)
    for m in ("it_spend", "funding_envelope", "gap"):
        got = mc[(mc["measure"] == m) & (mc["basis"] == "cash")]
        assert got["p50"].to_numpy() == pytest.approx(det.loc[det["measure"] == m, "cash_gbp"])
        assert (got["p10"] == got["p90"]).all()


def test_sized_for_baseline_scales_costs_but_not_grants() -> None:
    base = sc.baseline_from_totals({"it": 2_000_000}, financial_year="2024-25")
    raw = {"legacy_replacements": [{"name": "x", "year": 1, "one_off_cost_gbp": 100_000,
                                    "new_run_cost_gbp": 10_000}],
           "shared_services": [{"name": "s", "saving_pct": 0, "setup_cost_gbp": 50_000}],
           "grants": [{"name": "g", "amount_gbp": 7_000, "year": 1}]}
    plain = sc.project(base, spec(**raw))
    sized = sc.project(base, spec(sized_for_baseline_gbp=10_000_000, **raw))
    one_off = lambda f: f.query("measure == 'one_off_costs'")["cash_gbp"].tolist()  # noqa: E731
    assert one_off(plain)[1] == 150_000 and one_off(sized)[1] == pytest.approx(30_000)
    legacy = sized.query("measure == 'legacy_run_change'")["cash_gbp"].tolist()
    assert legacy == pytest.approx([0, 2_000, 2_000, 2_000])
    assert sized.query("measure == 'grants'")["cash_gbp"].tolist()[1] == 7_000
    with pytest.raises(ReferenceDataError,
                       match="sized_for_baseline_gbp: expected an annual IT baseline"):
        spec(sized_for_baseline_gbp=0)


def test_tornado_inputs_as_applied_scale_costs_only() -> None:
    sized = spec(name="sized", sized_for_baseline_gbp=144_000,
                 legacy_replacements=[{"name": "x", "year": 1, "one_off_cost_gbp": {
                     "value": 100, "dist": "uniform", "low": 50, "high": 200}}],
                 grants=[{"name": "g", "amount_gbp": 1000, "year": 1, "probability": 0.5}])
    t = sr.run_review(TX, "E1", [sized], simulations=10, seed=1,
                      population=POP).tornados.set_index("lever")
    cost = t.loc["legacy_replacements[1].one_off_cost_gbp"]
    assert (cost["low_applied"], cost["high_applied"]) == pytest.approx((5.0, 20.0))
    assert cost["swing"] == pytest.approx(15.0)
    grant = t.loc["grants[1].probability"]
    assert (grant["low_applied"], grant["high_applied"]) == (0.0, 1.0)


def test_lever_labels() -> None:
    assert sr.lever_label(PEERS, "grants[1].probability") == "LDF: won or not"
    assert sr.lever_label(PEERS, "legacy_replacements[1].one_off_cost_gbp") == \
        "Case system: one-off cost"
    assert sr.lever_label(FLAT, "microsoft.price_change_pct[2]", "2024-25") == \
        "Microsoft price rise, 2026-27"
    assert sr.lever_label(FLAT, "inflation.rate_pct") == "Inflation"
    assert sr.lever_label(PEERS, "match_best_peers.gap_closed_pct") == \
        "Match the best peers: share of gap closed"
    assert sr.lever_label(FLAT, "weird path!") == "weird path!"


def test_narrative_follows_the_numbers() -> None:
    text = vs.narrative(R)
    assert ("**Baseline: third-party IT spend published as payments.** A council paid £14.4k a "
            "year of third-party IT in 2024-25 (all 12 months present") in text
    assert "£3,600" not in text and "£3.60k (25%) of it was Microsoft licensing" in text
    assert "so it is a floor, not the IT budget" in text
    flat_total = R.comparison.query("scenario == 'flat'")["gap_gbp"].sum()
    assert f"shortfall of £{flat_total / 1000:.2f}k" in text
    assert "inflation on non-Microsoft costs (+£" in text
    assert "matching the best peers (−£" in text
    assert "2 of 2 peers (the 2 peers given for A council) have a complete 2024-25" in text
    assert "decile 10 of 10 among 2 peers" in text  # A spends more per head than both
    assert "renewal dates are not either" in text  # no profile: Microsoft path assumed
    assert "range an assumption" in text
    # A richer settlement turns the shortfall into headroom, and the text says so.
    rich = sr.run_review(TX, "A council", [spec(name="rich", funding={"change_pct": 20})],
                         simulations=10, seed=1, population=POP)
    rich_text = vs.narrative(rich)
    assert "headroom of" in rich_text and "surplus of" in rich_text
    assert "What moves the result most" not in rich_text  # no uncertain levers
    assert "No peer comparison" in rich_text  # fake codes: no ONS peer group


def test_assumptions_table_says_what_rests_on_what() -> None:
    table = vs.assumptions_table(R)
    assert list(table.columns) == ["item", "value", "source", "confidence"]
    assert set(table["confidence"]) <= {"high", "medium", "low"}
    assert table["source"].str.len().gt(0).all()
    items = " | ".join(table["item"])
    assert "Baseline choice" in items and "Microsoft agreement" in items
    assert "Range: Inflation" in items
    assert table.loc[table["item"] == "Microsoft agreement", "source"].iloc[0] == "assumption"


def test_charts_from_aggregates_and_escaped() -> None:
    fig = fan_chart(R)
    assert len(fig.data) == 4 * len(R.names)
    assert "&lt;b&gt;" in fig.layout.annotations[0].text  # scenario title escaped
    median = [t for t in fig.data if t.name == "IT spend, median"][0]
    assert median.y[0] == 14_400
    torn = tornado_chart(R)  # default: the scenario with the most uncertain levers
    assert "what moves the cumulative gap" in torn.layout.title.text
    assert {t.name for t in torn.data} == {"lever at its low", "lever at its high"}
    assert len(torn.data[0].y) == len(R.tornados.query("scenario == 'peers'"))
    with pytest.raises(InputError, match="basis"):
        fan_chart(R, basis="nominal")


def test_export_review_round_trip(tmp_path: Path) -> None:
    path = vs.export_review(R, tmp_path)
    assert path.name == "a-council-2024-25-spending-review-scenarios.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["Comparison", "Monte Carlo", "Tornado", "Assumptions", "Notes"]
    notes = [row[1] for row in wb["Notes"].iter_rows(min_row=2, values_only=True)]
    assert any(str(n).startswith("Baseline: third-party IT spend published as payments. "
                                 "A council paid") for n in notes)
    assert wb["Comparison"].cell(2, 5).number_format.startswith('"£"')


def test_one_month_of_data_is_a_thin_baseline_not_an_error() -> None:
    one = TX[(TX["publisher_name"] == "A council")
             & (pd.to_datetime(TX["payment_date"]).dt.month == 7)]
    r = sr.run_review(one, "A council", [FLAT], simulations=20, seed=1)
    assert (r.baseline.months_present, r.baseline.scale_factor) == (1, 12.0)
    assert "a thin baseline, scaled up from 1 month" in r.coverage_text()
    assert r.peer.status().startswith("No peer comparison")
    assert not re.search(r"\bnan\b", vs.narrative(r), re.IGNORECASE)


def test_peers_from_per_council_totals_need_only_the_councils_own_rows() -> None:
    """The peer baseline takes per-council totals (or month totals from an aggregate query)
    instead of every council's rows: same targets, bands and peer table as with all rows."""
    from spendkit.models.trends import aggregates as A

    own = TX[TX["publisher_name"] == "A council"]
    month = pd.to_datetime(TX["payment_date"].astype("datetime64[s]")).dt.to_period("M")
    by_year = TX[TX["is_it"]].assign(
        financial_year=np.where(month.dt.month >= 4, month.dt.year, month.dt.year - 1)[
            TX["is_it"].to_numpy()])
    totals = (by_year.assign(financial_year=by_year["financial_year"].map(
        lambda y: f"{y}-{(y + 1) % 100:02d}"))
        .groupby(["publisher_code", "financial_year"])["amount_gbp"].sum().map(float)
        .reset_index())
    # Hand-worked: A £14,400 and B £1,200, C £600 in 2024-25 (12 months each); A 2023-24 part.
    totals["is_complete"] = totals["financial_year"] == "2024-25"
    for given in (totals, A.month_totals(TX.assign(source_file="f.csv"), parts="totals")):
        r = sr.run_review(own, "E1", [FLAT, PEERS], simulations=300, seed=5, population=POP,
                          peers=["E2", "E3"], min_peers=2, totals=given)
        assert r.peer_targets == {"flat": None, "peers": pytest.approx(750.0)}
        assert r.peer.n_with_data == 2
        assert r.bands.equals(R.bands) and r.comparison.equals(R.comparison)
        assert r.baseline.total_gbp == 14_400.0


def test_coverage_counts_months_as_the_baseline_does() -> None:
    """A month published only sparsely is not present in the baseline, nor in the coverage
    table beside it: both say the same "N of 12 months"."""
    rows = TX[TX["publisher_name"] == "A council"].assign(source_file="a.csv")
    many = pd.concat([rows] * 20, ignore_index=True)  # 60 payments a month …
    sparse_month = (pd.to_datetime(many["payment_date"]).dt.month == 7).to_numpy()
    keep = ~sparse_month | (many.index.to_numpy() % 20 == 0)  # … but 3 in July 2024
    thin = many[keep].reset_index(drop=True)
    base = sc.build_baseline(thin)
    cov = sr.coverage_by_year(thin, "A council", base.financial_year).set_index("financial_year")
    assert base.months_present == 11
    assert cov.loc["2024-25", "months_present"] == base.months_present
