"""IT classification measured on the stratified development sets (it_labels_dev*.csv).

Both sets were drawn by one design from every kept row of the real files (141,976 rows) in
three strata by the classifier's answer before issue 21 (classified_it; not_it_hint: not IT
but with an IT-looking word; not_it_other), and labelled by helper agents from the rows' text
and docs/labelling-guide.md only, never the classifier's answers (design in the guide):

- it_labels_dev.csv: 1,300 rows (400 / 500 / 400, seed 20261205). The rules of issue 21's
  first pass were written from it.
- it_labels_dev2.csv: 900 rows (250 / 350 / 300, seed 20261206, disjoint from the first),
  kept from rule writing during the first pass and measured blind then: precision 97.3%
  (95.0-98.9%), recall 87.5% (73.5-99.2%), IT money found 95.6%. The second pass's rules
  were written from its errors, so it is no longer blind either; a fresh blind draw measures
  them.

- it_labels_holdout.csv: 900 rows (300 / 350 / 250, seed 20261207, disjoint from both),
  drawn and labelled (three labellers, 90 rows double-labelled, all agreed) after the second
  pass's rules were written, and kept from rule writing: measured once, blind: precision 98.2%
  (96.6-99.4%), recall 98.8% (97.5-99.7%), IT money found 99.9% (the first pass scored 96.7%
  and 97.1% on it). No rule may be written from it; a future rules pass needs a new blind draw.

The figures printed for the two development sets are what the rules reach on the rows they
were written from; the holdout's are the blind measurement. Thresholds sit just below, so a
regression fails. Each labelled file is loaded and enriched on
its own (`enrich`, as the samples were drawn), without corpus evidence (it needs the whole
ingested dataset).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from labelled_sample import assert_all_found, assert_well_formed, join_answers, read_labels

from spendkit.enrich.accuracy import estimate_accuracy

DATA = Path(__file__).resolve().parents[1] / "data"


@dataclass(frozen=True)
class LabelledSet:
    """A labelled development set: its design and the floors its figures must stay above."""

    file: str
    drawn: dict[str, int]
    population: dict[str, int]
    precision: float
    recall: float
    money_recall: float
    category_agreement: float


SETS = {
    # Measured (Dec 2026, second pass): precision 99.1% (98.2-99.8%), recall 99.8%
    # (99.3-100%), IT money found 100.0%, categories 84.3%; first pass 98.3%, 99.6%, 100.0%;
    # before issue 21: 93.0% (90.5-95.3%), 80.1% (69.7-90.7%), 97.6%.
    "dev": LabelledSet("it_labels_dev.csv",
                       {"not_it_hint": 500, "classified_it": 400, "not_it_other": 400},
                       {"classified_it": 4_345, "not_it_hint": 33_876, "not_it_other": 103_755},
                       precision=0.985, recall=0.99, money_recall=0.995,
                       category_agreement=0.82),
    # Measured (Dec 2026, second pass): precision 100.0% (100-100%), recall 92.4%
    # (78.8-100%), IT money found 98.6% (94.4-100%), categories 81.2%; first pass (blind):
    # 97.3% (95.0-98.9%), 87.5% (73.5-99.2%), 95.6%. The one miss left (a
    # communications-infrastructure site survey under consultants' fees) weighs 344 rows.
    "dev2": LabelledSet("it_labels_dev2.csv",
                        {"not_it_hint": 350, "not_it_other": 300, "classified_it": 250},
                        {"classified_it": 3_945, "not_it_hint": 33_376, "not_it_other": 103_355},
                        precision=0.99, recall=0.92, money_recall=0.98,
                        category_agreement=0.80),
    # Blind (see above): precision 98.2% (96.6-99.4%), recall 98.8% (97.5-99.7%), IT money
    # found 99.9%.
    "holdout": LabelledSet("it_labels_holdout.csv",
                           {"not_it_hint": 350, "classified_it": 300, "not_it_other": 250},
                           {"classified_it": 3_695, "not_it_hint": 33_026,
                            "not_it_other": 103_055},
                           precision=0.97, recall=0.975, money_recall=0.99,
                           category_agreement=0.78),
}


@pytest.fixture(scope="module", params=sorted(SETS))
def labelled(request) -> tuple[LabelledSet, pd.DataFrame]:
    spec = SETS[request.param]
    return spec, read_labels(DATA / spec.file)


@pytest.fixture(scope="module")
def joined(labelled, realdata_dir: Path, realdata_series_dir: Path) -> pd.DataFrame:
    # `file` is relative to ../shared: realdata/… or realdata-series/….
    return join_answers(labelled[1], realdata_dir.parent)


def test_sample_design(labelled) -> None:
    spec, labels = labelled
    assert labels["stratum"].value_counts().to_dict() == spec.drawn
    weights = labels.groupby("stratum")["weight"].sum()
    for stratum, rows in spec.population.items():
        assert weights[stratum] == pytest.approx(rows, abs=1)
    assert_well_formed(labels)


@pytest.mark.parametrize(("first", "second"), [("dev", "dev2"), ("dev", "holdout"),
                                                ("dev2", "holdout")])
def test_the_sets_are_disjoint(first: str, second: str) -> None:
    keys = ["file", "sheet", "source_line"]
    a, b = (read_labels(DATA / SETS[k].file)[keys] for k in (first, second))
    assert a.merge(b, on=keys).empty


def test_every_labelled_row_is_found(joined: pd.DataFrame) -> None:
    assert_all_found(joined)


def test_precision_recall_and_it_money(labelled, joined: pd.DataFrame, record_property) -> None:
    spec = labelled[0]
    truth = joined["is_it"].eq("true")
    now = joined["is_it_now"].astype(bool)
    est = estimate_accuracy(truth, now, joined["stratum"], joined["weight"],
                            amounts=joined["amount"], draws=2000, seed=1)
    print(f"\n{spec.file}: " + est.summary())
    print(est.confusion().to_string(index=False))
    name = spec.file.removeprefix("it_labels_").removesuffix(".csv")
    for what in ("precision", "recall", "money_recall"):
        record_property(f"{name}_{what}", round(getattr(est, what), 4))
    assert est.precision >= spec.precision, est.summary()
    assert est.recall >= spec.recall, est.summary()
    assert est.money_recall >= spec.money_recall, est.summary()
    both = truth & now
    agree = (joined.loc[both, "it_category"] == joined.loc[both, "it_category_now"]).mean()
    print(f"category agreement on rows both call IT: {agree:.1%}")
    assert agree >= spec.category_agreement, agree  # services vs licences is the usual split
