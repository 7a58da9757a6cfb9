"""IT classification against a blind, stratified sample of real payments (it_labels_blind.csv).

The first labelled set (it_labels.csv) was labelled while seeing the classifier's answers, and
its rows were picked, not drawn, so its precision and recall flatter the classifier. This set
was drawn with `spendkit.enrich.accuracy.labelling_sample`'s design on 2026-11-22 (seed
20261122): 150 rows the classifier then called IT and 300 of the others, from every kept row
of the real files outside `processed/` (copies) and `_reference/`, less the rows of the first
set (115,088 rows: 2,748 called IT, 112,340 not). Two labellers (helper agents, half the rows
each) labelled them from the rows' text and the IT taxonomy alone, never seeing the
classifier's answers or rules. `weight` is each side's rows over the rows drawn from it.

Measured (Horvitz-Thompson over the whole table, 95% bootstrap intervals):
- blind, the classifier as it was when drawn: precision 96.0% (92.7-98.7%), recall 58.5%
  (41.3-87.6%); 6 false alarms of 150, 5 misses of 300.
- after three rule fixes for misses this sample showed (EE's 'EEMP' name, expense types
  'Mobile Communication(s)', Dropbox paid through PayPal), on the same sample, so no longer
  blind: precision 96.9%, recall 75.1% (56.0-100%).
- after issue 21 (evidence weighed together; rules written from the dev set,
  it_labels_dev.csv, under docs/labelling-guide.md): precision 98.2% (95.7-100%), recall
  64.8% (45.8-91.8%). The recall this sample measures fell because its labels predate the
  labelling guide on two points the guide now settles the other way: training courses by IT
  vendors (NEC, Idox) and vehicle telematics (UK Telematics) are not IT; and a training label
  outweighs a known IT supplier (Dropbox under 'Best Value Training'). Four misses weigh 374
  rows each.
- after the second pass (rules written from it_labels_dev2.csv): precision 98.4% (96.1-100%),
  recall 73.1% (54.1-97.8%): a single-product subscription or a carrier now outweighs a generic
  label (Dropbox under 'Best Value Training' is IT again); the thresholds below follow.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from labelled_sample import assert_all_found, assert_well_formed, join_answers, read_labels

from spendkit.enrich.accuracy import STRATA, estimate_accuracy

LABELS = Path(__file__).resolve().parents[1] / "data" / "it_labels_blind.csv"
POPULATION = 115_088


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return read_labels(LABELS)


@pytest.fixture(scope="module")
def joined(labels: pd.DataFrame, realdata_dir: Path) -> pd.DataFrame:
    return join_answers(labels, realdata_dir)


def test_sample_design(labels: pd.DataFrame) -> None:
    assert labels["stratum"].value_counts().to_dict() == {STRATA[1]: 300, STRATA[0]: 150}
    assert labels["weight"].sum() == pytest.approx(POPULATION, abs=1)
    assert_well_formed(labels)


def test_every_labelled_row_is_found(joined: pd.DataFrame) -> None:
    assert_all_found(joined)


def test_weighted_precision_and_recall(joined: pd.DataFrame, record_property) -> None:
    truth = joined["is_it"].eq("true")
    now = joined["is_it_now"].astype(bool)
    est = estimate_accuracy(truth, now, joined["stratum"], joined["weight"], draws=2000,
                            seed=1)
    print("\n" + est.summary())
    record_property("blind_precision", round(est.precision, 4))
    record_property("blind_recall", round(est.recall, 4))
    # Fails when a rule change costs a false alarm or a miss this sample knows of.
    assert est.precision >= 0.975, est.summary()
    assert est.recall >= 0.72, est.summary()
    both = truth & now
    agree = (joined.loc[both, "it_category"] == joined.loc[both, "it_category_now"]).mean()
    assert agree >= 0.80, agree  # 82% measured: labellers differ most on services vs licences
