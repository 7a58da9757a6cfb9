"""Chart builders of the trends notebook on small hand-written tables."""

from __future__ import annotations

import pandas as pd
import pytest
from test_trends import LEEDS, frame, months

from spendkit.errors import InputError
from spendkit.models import trends as t
from spendkit.views.trends import HIGHLIGHT, hhi_chart, peer_chart, run_rate_chart


def caption_text(fig) -> str:
    return next(a.text for a in fig.layout.annotations if a.name == "spendkit-caption")


@pytest.fixture
def cov() -> t.Coverage:
    return t.coverage(frame(months(LEEDS, "2024-04-01", 3)))


def test_run_rate_chart_cuts_at_last_month_and_marks_gaps(cov):
    month = pd.to_datetime(["2024-04-01", "2024-05-01", "2024-06-01", "2024-07-01"])
    run = pd.DataFrame({"month": month, "paid_gbp": t.as_amount(pd.Series([1200, 0, 0, 0])),
                        "run_rate_gbp": t.as_amount(pd.Series([300] * 4))})
    calendar = pd.DataFrame({"month": month[:3], "is_complete": [True, False, True]})
    fig = run_rate_chart(run, calendar, name="A & B", coverage=cov, n_lumps=1,
                         data_note="Test data.")
    paid, rate, gaps = fig.data
    assert list(paid.y) == [1200.0, 0.0, 0.0] and list(rate.y) == [300.0, 300.0, 300.0]
    assert list(gaps.x) == [pd.Timestamp("2024-05-01")] and list(gaps.y) == [0]
    assert fig.layout.title.text == "A &amp; B: monthly IT spend, paid and as a run rate"
    text = caption_text(fig)
    assert "1 lump payments spread" in text and "after June 2024, beyond the data" in text
    assert "£300" in text and text.endswith("Cash. Test data.")


def test_run_rate_chart_needs_run_columns(cov):
    with pytest.raises(InputError, match="run_rate_gbp"):
        run_rate_chart(pd.DataFrame({"month": [], "paid_gbp": []}),
                       pd.DataFrame({"month": [], "is_complete": []}),
                       name="x", coverage=cov, n_lumps=0)


def test_hhi_chart_sorts_by_hhi_and_colours_dominant_vendors(cov):
    markets = pd.DataFrame({"it_market": ["telecoms", "<care>", "hardware"],
                            "hhi": [1500.0, 9000.0, 4000.0], "dominant_vendors": [0, 1, 2],
                            "market_note": ["a", "b", "c"]})
    fig = hhi_chart(markets, cov)
    bar = fig.data[0]
    assert list(bar.x) == [1500.0, 4000.0, 9000.0]
    assert list(bar.y) == ["Telecoms", "Hardware", "&lt;care&gt;"]  # code-like names read as words
    assert list(bar.marker.color) == ["#0072B2", "#E69F00", "#D55E00"]
    assert fig.layout.shapes[0].x0 == t.HHI_HIGH
    assert caption_text(fig).endswith("missing or incomplete.")  # no data note asked for


def test_peer_chart_highlights_the_council_in_code_order(cov):
    peers = pd.DataFrame({"publisher_code": ["E2", "E2", "E1", "E1"],
                          "financial_year": ["2023-24", "2024-25"] * 2,
                          "value_per_head": [10.0, 12.0, 20.0, 21.0],
                          "nice_name": ["Two", "Two", "One", "One"]})
    bands = pd.DataFrame({"financial_year": ["2023-24", "2024-25"], "p25": [10.0, 12.0],
                          "p75": [20.0, 21.0]})
    fig = peer_chart(peers, bands, highlight="E2", base_year="2024-25", coverage=cov,
                     deflator_note="Real terms: note", data_note="Test data.")
    upper, lower, one, two = fig.data
    assert list(upper.y) == [20.0, 21.0] and lower.fill == "tonexty"
    assert (one.name, one.line.width, one.line.color) == ("One", 1.5, "#0072B2")
    assert (two.name, two.line.width, two.line.color) == ("Two", 4, HIGHLIGHT)
    assert list(two.y) == [10.0, 12.0]
    assert fig.layout.title.text == "IT spend per resident, real terms (2024-25 prices)"
    assert caption_text(fig).endswith("Real terms: note; population: ONS mid-2024 population "
                                      "estimates. Mixed tiers. Test data.")
