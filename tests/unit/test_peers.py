"""Like-for-like peers: tier-matched groups that never hold the council, deciles, best decile."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from spendkit.models import trends as T
from spendkit.models.trends import peers as P
from spendkit.reference import benchmarking as B
from spendkit.reference.profiles import CouncilProfile

BWD, HYNDBURN, LEEDS, TRAFFORD, OXFORD = ("E06000008", "E07000120", "E08000035", "E08000009",
                                          "E07000178")


# --- reference tables ------------------------------------------------------------------------


def test_population_is_ons_mid_2024_and_adds_up_to_england() -> None:
    pop = B.population().set_index("gss_code")
    tiers = B.classification().set_index("gss_code")["tier"]
    assert len(pop) == 317 and set(pop["year"]) == {2024}
    # Districts and single-tier councils partition England (counties double count): ONS MYE2
    # England row, mid-2024 = 58,620,101.
    assert pop.loc[tiers[tiers != "upper"].index, "population"].sum() == 58_620_101
    assert (pop.loc[BWD, "population"], pop.loc[HYNDBURN, "population"]) == (162_540, 86_058)


def test_classification_tiers_and_corrected_regions() -> None:
    c = B.classification().set_index("gss_code")
    assert c["tier"].value_counts().to_dict() == {"lower": 164, "single": 132, "upper": 21}
    assert (c.loc[BWD, "tier"], c.loc[HYNDBURN, "tier"]) == ("single", "lower")
    # mySociety puts Derbyshire and Lincolnshire in the wrong region; ONS says East Midlands.
    assert c.loc["E10000007", "region"] == c.loc["E10000019", "region"] == "East Midlands"
    las = T.load_local_authorities().set_index("gss_code")
    assert las.loc["E10000007", "region"] == las.loc["E10000019", "region"] == "East Midlands"


def test_revenue_outturn_net_current_expenditure() -> None:
    ro = B.revenue_outturn().set_index("gss_code")
    # RSX 2024-25 line C7, £ thousand: Blackburn with Darwen 348,215.3; Hyndburn 18,726.0.
    assert ro.loc[BWD, "net_current_expenditure_gbp"] == pytest.approx(348_215_300)
    assert ro.loc[HYNDBURN, "net_current_expenditure_gbp"] == pytest.approx(18_726_000)
    assert ro["net_current_expenditure_gbp"].isna().sum() == 9  # returns not received
    assert (ro.loc[ro["net_current_expenditure_gbp"].isna(), "data_status"]
            .str.startswith("not_received").all())


def test_nearest_neighbours_are_same_tier_and_never_the_council() -> None:
    nn = pd.read_csv(P.catalogue.path("nearest_neighbours"), dtype={"gss_code": str})
    tiers = B.classification().set_index("gss_code")["tier"]
    assert (nn["gss_code"] != nn["neighbour_gss_code"]).all()
    assert (nn["gss_code"].map(tiers) == nn["neighbour_gss_code"].map(tiers)).all()
    sizes = nn.groupby(["model", "gss_code"]).size()
    assert (sizes == 15).all() and len(sizes) == 296 + 153
    ordered = nn.groupby(["model", "gss_code"])["distance"].apply(
        lambda s: s.is_monotonic_increasing)
    assert ordered.all()


def test_nearest_neighbours_rederive_from_the_ons_workbook(reference_dir: Path) -> None:
    raw = reference_dir / "2026-12" / "raw" / "localauthoritynearestneighboursengland.xlsx"
    if not raw.exists():
        pytest.skip(f"ONS nearest-neighbour workbook not found at {raw}")
    sys.path.insert(0, str(Path(__file__).parent))
    from neighbours_build import derive

    tiers = dict(zip(B.classification()["gss_code"], B.classification()["tier"], strict=True))
    rebuilt = derive(raw, tiers)
    shipped = pd.read_csv(P.catalogue.path("nearest_neighbours"), dtype={"gss_code": str})
    pd.testing.assert_frame_equal(rebuilt.reset_index(drop=True), shipped, check_dtype=False)


# --- the peer group ---------------------------------------------------------------------------


def test_unitary_peers_are_single_tier_neighbours_from_the_upper_tier_model() -> None:
    g = P.peer_group(BWD)
    assert (g.tier, g.basis, g.model, g.size) == ("single", "ons_nearest_neighbours",
                                                  "upper_tier", 15)
    assert BWD not in g.members
    assert g.members[:3] == ("E08000005", "E08000032", "E08000028")  # Rochdale, Bradford, Sandwell
    assert {B.tier_of(c) for c in g.members} == {"single"}
    assert g.describe() == ("the 15 nearest single-tier neighbours of Blackburn with Darwen "
                            "(ONS nearest neighbours (2025), upper-tier model)")


def test_district_peers_are_districts_only() -> None:
    # Hyndburn's 20 nearest in the ONS lower-tier model hold only two districts (Burnley,
    # Redditch) among 18 unitary and metropolitan councils; its like-for-like group is the 15
    # nearest districts, read from the full ranking.
    g = P.peer_group(HYNDBURN)
    assert (g.tier, g.model) == ("lower", "lower_tier")
    assert g.members[:2] == ("E07000117", "E07000236")
    assert {B.tier_of(c) for c in g.members} == {"lower"}
    assert BWD not in g.members and HYNDBURN not in g.members


def test_profile_peers_leave_out_the_council_and_flag_other_tiers() -> None:
    profile = CouncilProfile(council="Hyndburn Borough Council", gss_code=HYNDBURN,
                             path="data/councils/hyndburn.yaml",
                             peers=(HYNDBURN, "E07000117", BWD))
    g = P.peer_group(HYNDBURN, profile=profile)
    assert g.basis == "profile" and g.members == ("E07000117", BWD)
    assert any("left out" in n for n in g.notes)
    assert any("another tier (single)" in n for n in g.notes)
    assert g.source == "data/councils/hyndburn.yaml"


def test_a_body_outside_the_ons_models_gets_an_empty_group_not_an_error() -> None:
    g = P.peer_group("E31000023", council_name="Lancashire Fire")
    assert g.size == 0 and g.basis == "none"
    m = P.compare_with_peers(_totals({}), g)
    assert not m.comparable and m.status().startswith("No peer comparison")


# --- the comparison ---------------------------------------------------------------------------


def _totals(amounts: dict[str, float], year: str = "2024-25",
            incomplete: tuple[str, ...] = ()) -> pd.DataFrame:
    return pd.DataFrame({
        "publisher_code": list(amounts), "financial_year": year,
        "amount_gbp": pd.Series([Decimal(str(v)) for v in amounts.values()],
                                dtype=pd.ArrowDtype(pa.decimal128(18, 2))),
        "is_complete": [c not in incomplete for c in amounts]})


PEERS = ("P1", "P2", "P3", "P4", "P5", "P6", "P7")
POP = pd.DataFrame({"gss_code": ["C", *PEERS], "population": [100] * 8})
OUT = pd.DataFrame({"gss_code": ["C", *PEERS], "net_current_expenditure_gbp": [100_000.0] * 8})
GROUP = P.peer_group("C", peers=PEERS, council_name="Our council")


def test_decile_position_and_spend_at_the_best_decile_worked_by_hand() -> None:
    # Council 10/head; peers with data 2, 4, 6, 8, 12, 14 per head (P7 has none).
    totals = _totals({"C": 1000, "P1": 200, "P2": 400, "P3": 600, "P4": 800, "P5": 1200,
                      "P6": 1400})
    m = P.compare_with_peers(totals, GROUP, population=POP, outturn=OUT)
    assert (m.financial_year, m.n_with_data, m.comparable) == ("2024-25", 6, True)
    pos = m.position.set_index("measure")
    # 4 of 6 peers below 10: percentile 66.7, 7th decile (1 = lowest spend).
    assert pos.loc["per_head", "percentile"] == pytest.approx(400 / 6)
    assert pos.loc["per_head", "decile"] == 7
    # Best decile of [2, 4, 6, 8, 12, 14]: 2 + 0.5 x 2 = 3.0 per head -> £300 for 100 residents.
    assert pos.loc["per_head", "best_decile_value"] == pytest.approx(3.0)
    assert pos.loc["per_head", "spend_at_best_decile_gbp"] == pytest.approx(300.0)
    assert pos.loc["per_head", "saving_at_best_decile_gbp"] == pytest.approx(700.0)
    # Share of spend: 1,000 / 100,000 = 1.0%; best decile 0.3% of £100,000 = £300.
    assert pos.loc["share_of_spend", "council_value"] == pytest.approx(1.0)
    assert pos.loc["share_of_spend", "spend_at_best_decile_gbp"] == pytest.approx(300.0)
    d = m.deciles.set_index("measure")
    assert d.loc["per_head", "p50"] == pytest.approx(7.0)
    assert m.target_gbp(0.25) == pytest.approx(np.quantile([2, 4, 6, 8, 12, 14], 0.25) * 100)
    assert "6 of 7 peers (the 7 peers given for Our council) have a complete 2024-25" in \
        m.status()
    assert "decile 7 of 10 among 6 peers" in m.summary()
    assert set(m.table.loc[m.table["is_council"], "gss_code"]) == {"C"}


def test_too_few_peers_with_data_give_values_but_no_deciles() -> None:
    totals = _totals({"C": 1000, "P1": 200, "P2": 400, "P3": 600,
                      "P4": 800}, incomplete=("P4",))
    m = P.compare_with_peers(totals, GROUP, population=POP, outturn=OUT)
    assert m.n_with_data == 3 and not m.comparable
    assert m.deciles.empty and m.position.empty and m.target_gbp() is None
    assert "3 of 7 peers" in m.status() and "too few for deciles" in m.status()


def test_no_peer_with_data_says_so() -> None:
    m = P.compare_with_peers(_totals({"C": 1000, "Z": 5}), GROUP, population=POP, outturn=OUT)
    assert m.n_with_data == 0 and m.target_gbp() is None
    assert m.status().startswith("No peer comparison: none of 7 peers")


def test_only_complete_years_and_the_councils_latest_one_count() -> None:
    both = pd.concat([_totals({"C": 500, **{p: 100 for p in PEERS}}, "2023-24"),
                      _totals({"C": 1000, **{p: 100 for p in PEERS[:2]}}, "2024-25"),
                      _totals({"C": 1000}, "2025-26", incomplete=("C",))])
    m = P.compare_with_peers(both, GROUP, population=POP, outturn=OUT)
    assert m.financial_year == "2024-25" and m.n_with_data == 2
    m = P.compare_with_peers(both, GROUP, year="2023-24", population=POP, outturn=OUT)
    assert m.n_with_data == 7 and m.comparable


def test_mixed_vat_basis_is_flagged() -> None:
    totals = _totals({"C": 1000, **{p: 100 * (i + 1) for i, p in enumerate(PEERS)}})
    m = P.compare_with_peers(totals, GROUP, population=POP, outturn=OUT,
                             vat_basis={"C": "net", "P1": "gross"})
    assert any("net and gross" in n for n in m.notes)


def _payments(code: str, name: str, amount: str) -> list[dict]:
    return [{"publisher_code": code, "publisher_name": name, "payment_date": date(2024, m, 1)
             if m >= 4 else date(2025, m, 1), "amount_gbp": Decimal(amount), "is_it": True,
             "source_file": f"{code}-{m}.csv"} for m in range(1, 13)]


def test_peer_measure_on_the_sample_councils_compares_bwd_with_nobody() -> None:
    # The synthetic sample holds Blackburn with Darwen, Leeds, Trafford, Hyndburn and Oxford:
    # none is among Blackburn with Darwen's 15 nearest single-tier neighbours.
    rows = (_payments(BWD, "Blackburn with Darwen Borough Council", "100")
            + _payments(LEEDS, "Leeds City Council", "900")
            + _payments(TRAFFORD, "Trafford Council", "300")
            + _payments(HYNDBURN, "Hyndburn Borough Council", "50"))
    df = pd.DataFrame(rows)
    df["amount_gbp"] = pd.Series(pa.array(df["amount_gbp"], pa.decimal128(18, 2)),
                                 dtype=pd.ArrowDtype(pa.decimal128(18, 2)))
    m = T.peer_measure(df, BWD)
    assert m.group.size == 15 and m.n_with_data == 0
    assert "none of 15 peers" in m.status()
    # The all-councils table is still there, labelled mixed; the council view keeps BwD only.
    mixed = T.peer_comparison(df)
    assert mixed.attrs["peer_group"].endswith("(mixed tiers)")
    own = T.peer_comparison(df, council=BWD)
    assert own["publisher_code"].tolist() == [BWD] and own["is_council"].all()
    assert own["band"].tolist() == ["no peers"]
    given = T.peer_comparison(df, council=BWD, peers=[LEEDS, TRAFFORD])
    assert sorted(given["publisher_code"]) == sorted([BWD, LEEDS, TRAFFORD])
    assert given.attrs["peer_group"].startswith("the 2 peers given")
