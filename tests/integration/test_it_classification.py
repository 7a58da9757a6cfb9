"""IT classification against the hand-labelled set of real payments (tests/data/it_labels.csv)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import spendkit
from spendkit.enrich import Enricher, enrich
from spendkit.schema import ENRICHMENT_FIELDS

LABELS = Path(__file__).resolve().parents[1] / "data" / "it_labels.csv"


@pytest.fixture(scope="module")
def loaded(realdata_dir: Path) -> dict[str, spendkit.LoadResult]:
    """Each labelled file, loaded once."""
    labels = pd.read_csv(LABELS, dtype=str, keep_default_na=False)
    return {file: spendkit.load(realdata_dir / file) for file in sorted(set(labels["file"]))}


@pytest.fixture(scope="module")
def per_file(loaded: dict[str, spendkit.LoadResult]) -> dict[str, pd.DataFrame]:
    """Each labelled file enriched on its own (`enrich`, a fresh Enricher per file)."""
    return {file: enrich(result.transactions) for file, result in loaded.items()}


@pytest.fixture(scope="module")
def joined(per_file: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The labelled rows joined to the enriched loaded rows on (sheet, line)."""
    labels = pd.read_csv(LABELS, dtype=str, keep_default_na=False)
    labels["source_line"] = labels["source_line"].astype(int)
    parts = []
    for file, lab in labels.groupby("file", sort=True):
        tx = per_file[file]
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


def test_one_enricher_over_files_equals_per_file_enrich(
        loaded: dict[str, spendkit.LoadResult], per_file: dict[str, pd.DataFrame]) -> None:
    """Ingest's way (one Enricher, one call per file, Arrow in and out) changes no verdict."""
    enricher = Enricher()
    stable = [f.name for f in ENRICHMENT_FIELDS if f.name != "supplier_canonical"]
    got_all, want_all = [], []
    for file, result in loaded.items():
        got = enricher.enrich_arrow(result.table)
        want = per_file[file]
        for name in stable:
            assert got.column(name).to_pylist() == want[name].tolist(), (file, name)
        got_all.append(got.select(["supplier_key", "supplier_canonical", "supplier_role"])
                       .to_pandas())
        want_all.append(want[["supplier_key", "supplier_canonical", "supplier_role"]])
    got_df, want_df = pd.concat(got_all), pd.concat(want_all)
    assert len(got_df) > 10_000
    # Reference suppliers get the reference's canonical either way.
    ref = (got_df["supplier_role"] != "").to_numpy()
    assert ref.sum() > 1_000
    assert (got_df["supplier_canonical"].to_numpy()[ref]
            == want_df["supplier_canonical"].to_numpy()[ref]).all()
    # Across files one Enricher gives each supplier key one canonical; per-file calls do not.
    assert got_df.groupby("supplier_key")["supplier_canonical"].nunique().max() == 1
    assert want_df.groupby("supplier_key")["supplier_canonical"].nunique().max() > 1


def test_microsoft_look_through_precision_recall(joined: pd.DataFrame, record_property) -> None:
    """underlying_vendor == "Microsoft" (licensing) against the rows that carry a vendor label.

    The label is a vendor name, "none" (no vendor behind the payment, e.g. Civica's own Azure
    hosting, or not IT), or empty (not labelled: e.g. undescribed reseller payments whose
    product cannot be known from the file).
    """
    j = joined[joined["underlying_vendor"].ne("") & joined["is_it_p"].notna()]
    assert len(j) >= 40
    truth = j["underlying_vendor"].eq("Microsoft")
    got = j["underlying_vendor_p"].astype(object).fillna("")
    pred = got.eq("Microsoft")
    tp, fp, fn = int((truth & pred).sum()), int((~truth & pred).sum()), int((truth & ~pred).sum())
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    named = j["underlying_vendor"].ne("none") & ~truth
    other_ok = float((got[named] == j.loc[named, "underlying_vendor"]).mean())
    msg = (f"vendor-labelled={len(j)} microsoft={int(truth.sum())} tp={tp} fp={fp} fn={fn} "
           f"look_through_precision={precision:.3f} recall={recall:.3f} "
           f"other_vendor_accuracy={other_ok:.3f}")
    print("\n" + msg)
    record_property("look_through_precision", round(precision, 4))
    record_property("look_through_recall", round(recall, 4))
    assert precision >= 0.95, (msg, j.loc[~truth & pred, ["file", "source_line"]])
    assert recall >= 0.90, (msg, j.loc[truth & ~pred, ["file", "source_line"]])
    # Nothing labelled as another vendor, or as none, is any kind of Microsoft.
    assert not got[~truth].str.startswith("Microsoft").any(), msg
    assert other_ok == 1.0, msg
