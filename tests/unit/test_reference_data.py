"""Reference data owned by the models: one confidence vocabulary, the new facts present."""

from __future__ import annotations

import pytest

from spendkit.models import licensing as L
from spendkit.reference import catalogue, microsoft


@pytest.mark.parametrize("name", sorted(n for n, r in catalogue.resources().items()
                                        if "confidence" in r.columns))
def test_confidence_uses_one_vocabulary(name: str) -> None:
    assert set(catalogue.read_csv(name)["confidence"]) <= {"high", "medium", "low"}


def test_missing_events_are_in_the_catalogue() -> None:
    ev = L.price_events()
    text = dict(zip(ev["date"].dt.strftime("%Y-%m-%d") + " " + ev.index.astype(str),
                    ev["event"], strict=True))
    joined = " | ".join(f"{k[:10]} {v}" for k, v in text.items())
    for date, words in [("2017-01-01", "+22%"), ("2023-10-01", "Teams"),
                        ("2025-10-14", "Windows 10"), ("2025-11-01", "back on sale"),
                        ("2026-05-01", "E7"), ("2026-07-01", "")]:
        assert any(line.startswith(date) and words in line for line in joined.split(" | ")), \
            date


def test_new_prices_e7_copilot_business() -> None:
    assert L.list_price("Microsoft 365 E7", "2026-05-01", currency="USD").value == 99.0
    cat = L.price_catalogue()
    assert "Microsoft 365 Copilot Business" in set(cat["sku"])


def test_missing_deals_are_in_the_catalogue() -> None:
    d = L.published_deals()
    for council in ("Birmingham", "North Yorkshire", "Gloucestershire", "Dorset"):
        assert council in set(d["council"]), council
    ny = d[d["council"] == "North Yorkshire"].sort_values("start")
    assert len(ny) == 2
    # £15.4m from Jun 2025 to Jun 2028 (37 months): annual ceiling 15.4m / (37 / 12).
    assert ny["annual_cost_gbp"].iloc[1] == pytest.approx(15_400_000 / (37 / 12), abs=0.01)
    bham = d[d["council"] == "Birmingham"].iloc[0]
    assert bham["annual_cost_gbp"] == pytest.approx(8_278_551 / 3, abs=0.01)


def test_renewal_evidence_salford_and_the_range() -> None:
    ev = microsoft.renewal_evidence()
    salford = ev[ev["evidence"].str.startswith("Salford")].iloc[0]
    # 1,265,028 / (2,211,558 / 2) - 1 = 14.40%.
    assert salford["value_high"] == pytest.approx((1_265_028 / (2_211_558 / 2) - 1) * 100,
                                                  abs=0.01)
    rng = ev[ev["evidence"].str.startswith("Observed Enterprise")].iloc[0]
    assert (rng["value_low"], rng["value_high"], rng["confidence"]) == (9.0, 14.0, "low")
    pemb = ev[ev["evidence"].str.startswith("Pembrokeshire")].iloc[0]
    assert pemb["value_low"] == pytest.approx((1 - 18.83 / 33.10) * 100, abs=0.05)  # 43.1
