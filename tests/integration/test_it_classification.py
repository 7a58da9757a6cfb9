"""IT classification against the hand-labelled set of real payments (tests/data/it_labels.csv)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import spendkit
from spendkit.enrich import enrich

LABELS = Path(__file__).resolve().parents[1] / "data" / "it_labels.csv"


@pytest.fixture(scope="module")
def joined(realdata_dir: Path) -> pd.DataFrame:
    """The labelled rows joined to the enriched loaded rows on (sheet, line)."""
    labels = pd.read_csv(LABELS, dtype=str, keep_default_na=False)
    labels["source_line"] = labels["source_line"].astype(int)
    parts = []
    for file, lab in labels.groupby("file", sort=True):
        tx = enrich(spendkit.load(realdata_dir / file).transactions)
        tx = tx.assign(
            source_sheet=tx["source_sheet"].astype(object).fillna(""),
            source_line=tx["source_line"].astype("int64"),
        )
        m = lab.merge(tx, left_on=["sheet", "source_line"],
                      right_on=["source_sheet", "source_line"], how="left", suffixes=("", "_p"))
        m = m.drop_duplicates(["file", "sheet", "source_line"])
        parts.append(m)
    return pd.concat(parts, ignore_index=True)


def test_labelled_set_is_big_enough() -> None:
    labels = pd.read_csv(LABELS, dtype=str, keep_default_na=False)
    assert len(labels) >= 300
    assert labels["is_it"].isin(["true", "false"]).all()
    assert not labels.duplicated(["file", "sheet", "source_line"]).any()


def test_precision_recall_and_category_accuracy(joined: pd.DataFrame, record_property) -> None:
    found = joined["is_it_p"].notna()
    assert found.mean() >= 0.95, joined.loc[~found, ["file", "sheet", "source_line"]].head(20)
    j = joined[found]
    truth = j["is_it"].eq("true")
    pred = j["is_it_p"].astype(bool)
    tp, fp, fn = int((truth & pred).sum()), int((~truth & pred).sum()), int((truth & ~pred).sum())
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    both = truth & pred
    accuracy = float((j.loc[both, "it_category"] == j.loc[both, "it_category_p"]).mean())
    msg = (f"labelled={len(joined)} joined={len(j)} tp={tp} fp={fp} fn={fn} "
           f"precision={precision:.3f} recall={recall:.3f} category_accuracy={accuracy:.3f}")
    print("\n" + msg)
    for name, value in (("precision", precision), ("recall", recall),
                        ("category_accuracy", accuracy)):
        record_property(name, round(value, 4))
    assert precision >= 0.95, msg
    assert recall >= 0.90, msg
