"""Shared by the blind-sample tests: read a labelled sample, join it to today's answers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import spendkit
from spendkit.enrich import enrich


def read_labels(path: Path) -> pd.DataFrame:
    """A labelled sample (file, sheet, source_line, stratum, weight, is_it, it_category…)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return df.assign(source_line=df["source_line"].astype(int),
                     weight=df["weight"].astype(float))


def join_answers(labels: pd.DataFrame, base: Path) -> pd.DataFrame:
    """Each labelled row with the classifier's answer now (is_it_now, it_category_now) and
    the row's amount; every labelled file (relative to `base`) loaded and enriched alone."""
    parts = []
    for file, lab in labels.groupby("file", sort=True):
        tx = enrich(spendkit.load(base / file).transactions)
        tx = pd.DataFrame({"sheet": tx["source_sheet"].astype(object).fillna(""),
                           "source_line": tx["source_line"].astype("int64"),
                           "is_it_now": tx["is_it"].astype(bool),
                           "it_category_now": tx["it_category"].astype(object),
                           "amount": tx["amount_gbp"].astype("float64")})
        parts.append(lab.merge(tx, on=["sheet", "source_line"], how="left", validate="1:1"))
    return pd.concat(parts, ignore_index=True)


def assert_well_formed(labels: pd.DataFrame) -> None:
    """Labels are true/false, a category exactly on IT rows, one label per row."""
    assert labels["is_it"].isin(["true", "false"]).all()
    assert (labels["it_category"] != "").eq(labels["is_it"] == "true").all()
    assert not labels.duplicated(["file", "sheet", "source_line"]).any()


def assert_all_found(joined: pd.DataFrame) -> None:
    """Every labelled row is still a kept row of its file."""
    missing = joined[joined["is_it_now"].isna()]
    assert missing.empty, missing[["file", "sheet", "source_line"]].head()
