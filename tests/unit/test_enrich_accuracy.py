"""Stratified labelling sample and weighted precision/recall (spendkit.enrich.accuracy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.enrich.accuracy import STRATA, estimate_accuracy, labelling_sample
from spendkit.errors import InputError

IT, NOT_IT = STRATA


def test_weighted_estimate_by_hand() -> None:
    # Drawn 4 of 40 classified-IT rows (weight 10) and 5 of 500 others (weight 100).
    truth = [True, True, True, False, True, False, False, False, False]
    predicted = [True] * 4 + [False] * 5
    strata = [IT] * 4 + [NOT_IT] * 5
    weights = [10.0] * 4 + [100.0] * 5
    est = estimate_accuracy(truth, predicted, strata, weights)
    # tp = 3*10 = 30, fp = 10, fn = 1*100 = 100
    assert est.precision == pytest.approx(0.75)
    assert est.recall == pytest.approx(30 / 130)
    assert est.it_rows == pytest.approx(130)
    assert est.missed_rows == pytest.approx(100)
    assert (est.labelled, est.labelled_it) == (9, 4)
    assert est.precision_interval[0] <= 0.75 <= est.precision_interval[1]
    assert "precision 75.0%" in est.summary()


def test_a_row_keeps_its_weight_when_the_classifier_changes() -> None:
    # The not-IT side's IT row is now caught: it counts as a true positive with weight 100.
    est = estimate_accuracy([True, False, True], [True, True, True], [IT, IT, NOT_IT],
                            [10.0, 10.0, 100.0])
    assert est.precision == pytest.approx(110 / 120)
    assert est.recall == pytest.approx(1.0)
    assert est.missed_rows == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=40))
def test_equal_weights_give_plain_counts(pairs: list[tuple[bool, bool]]) -> None:
    truth = [t for t, _ in pairs]
    predicted = [p for _, p in pairs]
    est = estimate_accuracy(truth, predicted, [IT] * len(pairs), [1.0] * len(pairs), draws=50)
    tp = sum(t and p for t, p in pairs)
    fp = sum(p and not t for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    if tp + fp:
        assert est.precision == pytest.approx(tp / (tp + fp))
    else:
        assert np.isnan(est.precision)
    if tp + fn:
        assert est.recall == pytest.approx(tp / (tp + fn))
    assert est.it_rows == tp + fn


def _population(n: int = 20_000, seed: int = 1) -> pd.DataFrame:
    """Rows with a known truth: 4% IT; the classifier catches 80% of it, with 90% precision."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.04
    caught = truth & (rng.random(n) < 0.8)
    n_fp = round(caught.sum() / 0.9 * 0.1)
    false_alarm = np.zeros(n, bool)
    false_alarm[rng.choice(np.flatnonzero(~truth), n_fp, replace=False)] = True
    return pd.DataFrame({"is_it": caught | false_alarm, "truth": truth})


def test_intervals_cover_the_known_truth_in_repeated_samples() -> None:
    pop = _population()
    t, p = pop["truth"], pop["is_it"]
    true_precision = (t & p).sum() / p.sum()
    true_recall = (t & p).sum() / t.sum()
    covered_p = covered_r = 0
    for seed in range(20):
        s = labelling_sample(pop, 150, 300, seed=seed)
        est = estimate_accuracy(s["truth"], s["is_it"], s["stratum"], s["weight"], draws=500,
                                seed=seed)
        covered_p += est.precision_interval[0] <= true_precision <= est.precision_interval[1]
        covered_r += est.recall_interval[0] <= true_recall <= est.recall_interval[1]
    # 95% intervals: 20 samples should miss the truth about once each.
    assert covered_p >= 16 and covered_r >= 16, (covered_p, covered_r)


def test_labelling_sample_sizes_weights_and_seed() -> None:
    pop = _population(5_000)
    s = labelling_sample(pop, 50, 80, seed=3)
    assert s["stratum"].value_counts().to_dict() == {NOT_IT: 80, IT: 50}
    assert s.loc[s["stratum"] == IT, "is_it"].all()
    assert not s.loc[s["stratum"] == NOT_IT, "is_it"].any()
    n_it = int(pop["is_it"].sum())
    assert s.loc[s["stratum"] == IT, "weight"].iloc[0] == pytest.approx(n_it / 50)
    assert s["weight"].sum() == pytest.approx(len(pop))  # the weights add up to the table
    assert s.index.is_unique
    pd.testing.assert_frame_equal(s, labelling_sample(pop, 50, 80, seed=3))
    assert not s.index.equals(labelling_sample(pop, 50, 80, seed=4).index)


def test_labelling_sample_takes_a_whole_small_side() -> None:
    df = pd.DataFrame({"is_it": [True, False, False, False]})
    s = labelling_sample(df, 10, 2, seed=0)
    assert (s["stratum"] == IT).sum() == 1
    assert s.loc[s["stratum"] == IT, "weight"].iloc[0] == 1.0
    assert s.loc[s["stratum"] == NOT_IT, "weight"].tolist() == [1.5, 1.5]


@pytest.mark.parametrize(("args", "message"), [
    (([], [], [], []), "not empty"),
    (([True], [True], [""], [1.0]), "needs a stratum name"),
    (([True], [True], [IT], [1.0], [float("nan")]), "finite numbers"),
    (([True], [True], [IT], [0.0]), "positive"),
    (([True, False], [True], [IT], [1.0]), "equally long"),
])
def test_bad_samples_are_named(args: tuple, message: str) -> None:
    with pytest.raises(InputError, match=message):
        estimate_accuracy(*args[:4], amounts=args[4] if len(args) > 4 else None)


def test_any_strata_and_it_money_recall_by_hand() -> None:
    # Three strata, as the dev set's design: classified IT (weight 10), not IT with an IT-looking
    # word (weight 50), the rest (weight 200). One miss in each not-IT stratum.
    truth = [True, True, False, True, False, True, False]
    predicted = [True, True, True, False, False, False, False]
    strata = ["classified_it"] * 3 + ["not_it_hint"] * 2 + ["not_it_other"] * 2
    weights = [10.0] * 3 + [50.0] * 2 + [200.0] * 2
    amounts = [1000.0, -500.0, 20.0, 40.0, 9.0, 10.0, 7.0]
    est = estimate_accuracy(truth, predicted, strata, weights, amounts=amounts, draws=200)
    # tp = 20, fp = 10, fn = 50 + 200
    assert est.precision == pytest.approx(20 / 30)
    assert est.recall == pytest.approx(20 / 270)
    # money found = 10*1000 + 10*500 (credits count by size); missed = 50*40 + 200*10
    assert est.money_recall == pytest.approx(15_000 / 19_000)
    lo, hi = est.money_recall_interval
    assert lo <= est.money_recall <= hi
    assert "IT money found 78.9%" in est.summary()
    conf = est.confusion().set_index("stratum")
    assert conf.loc["classified_it"].tolist() == [3, 2, 1, 0, 0]
    assert conf.loc["not_it_hint"].tolist() == [2, 0, 0, 1, 1]
    assert conf.loc["not_it_other"].tolist() == [2, 0, 0, 1, 1]


def test_without_amounts_money_recall_is_not_claimed() -> None:
    est = estimate_accuracy([True, False], [True, False], [IT, NOT_IT], [1.0, 1.0], draws=20)
    assert np.isnan(est.money_recall) and "money" not in est.summary()


def test_sample_needs_an_enriched_table() -> None:
    with pytest.raises(InputError, match="enrich"):
        labelling_sample(pd.DataFrame({"supplier_name": ["x"]}))
