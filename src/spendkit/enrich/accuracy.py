"""How good is the IT classification on your data? Label a stratified sample, then estimate.

Payments the classifier calls IT are a few per cent of a council's rows, so a plain random
sample holds too few of them to say anything. `labelling_sample` draws a fixed number from
each side (classified IT, and the rest) and gives each drawn row its weight: the rows of its
side in the whole table divided by the rows drawn from that side. Someone labels the sample by
hand, without looking at the classifier's answers; `estimate_accuracy` then weighs each
labelled row by its weight (the Horvitz-Thompson estimator), so precision and recall are
estimates for the whole table, not for the sample, with percentile intervals from a bootstrap
within each side. The weights stay right when the classifier later changes: a row keeps the
weight of the side it was drawn from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spendkit.errors import InputError

#: The two sides a sample is drawn from, by the classifier's answer when it was drawn.
STRATA = ("classified_it", "classified_not_it")


@dataclass(frozen=True)
class AccuracyEstimate:
    """Precision and recall of `is_it` over the whole table, from a labelled sample."""

    precision: float
    precision_interval: tuple[float, float]
    recall: float
    recall_interval: tuple[float, float]
    #: Rows of the table estimated to be IT in truth, and those the classifier missed.
    it_rows: float
    missed_rows: float
    labelled: int
    labelled_it: int

    def summary(self) -> str:
        """One line an analyst can quote."""
        p_lo, p_hi = self.precision_interval
        r_lo, r_hi = self.recall_interval
        return (f"precision {self.precision:.1%} (95% interval {p_lo:.1%}-{p_hi:.1%}), "
                f"recall {self.recall:.1%} ({r_lo:.1%}-{r_hi:.1%}); from {self.labelled} "
                f"labelled rows ({self.labelled_it} IT), weighted to the whole table: about "
                f"{self.it_rows:,.0f} IT rows, {self.missed_rows:,.0f} of them missed")


def labelling_sample(enriched: pd.DataFrame, n_it: int = 150, n_not_it: int = 300, *,
                     seed: int = 0) -> pd.DataFrame:
    """A stratified random sample of rows to label by hand, with `stratum` and `weight` added.

    Draws `n_it` rows the classifier calls IT and `n_not_it` of the others (all of a side when
    it has fewer), in their original order. `weight` is the side's rows over the rows drawn.
    """
    if "is_it" not in enriched.columns:
        raise InputError("labelling_sample needs an enriched table (no 'is_it' column); "
                                  "run spendkit.enrich.enrich on it first")
    rng = np.random.default_rng(seed)
    is_it = enriched["is_it"].fillna(False).astype(bool).to_numpy()
    parts = []
    for stratum, side, n in ((STRATA[0], is_it, n_it), (STRATA[1], ~is_it, n_not_it)):
        rows = np.flatnonzero(side)
        take = np.sort(rng.choice(rows, size=min(n, len(rows)), replace=False))
        if len(take):
            parts.append(enriched.iloc[take].assign(stratum=stratum,
                                                    weight=len(rows) / len(take)))
    return pd.concat(parts) if parts else enriched.iloc[:0].assign(stratum="", weight=0.0)


def _ratios(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return tp / (tp + fp), tp / (tp + fn)


def estimate_accuracy(truth: Sequence[bool], predicted: Sequence[bool],
                      strata: Sequence[str], weights: Sequence[float], *,
                      draws: int = 2000, seed: int = 0) -> AccuracyEstimate:
    """Weighted precision and recall of `predicted` against hand labels `truth`, with intervals.

    `strata` and `weights` are the sample's (`labelling_sample`); `predicted` is the
    classifier's answer now, which may differ from the side a row was drawn from.
    """
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    s = np.asarray(strata, dtype=object)
    w = np.asarray(weights, dtype=float)
    if not (len(t) == len(p) == len(s) == len(w)) or not len(t):
        raise InputError(f"truth, predicted, strata and weights must be equally long "
                                  f"and not empty (got {len(t)}, {len(p)}, {len(s)}, {len(w)})")
    if not np.all(np.isfinite(w) & (w > 0)):
        raise InputError("every weight must be a positive number")
    unknown = sorted(set(s) - set(STRATA))
    if unknown:
        raise InputError(f"unknown stratum {unknown[0]!r}; expected one of {STRATA}")
    cells = np.stack([w * (t & p), w * (~t & p), w * (t & ~p)])  # tp, fp, fn per row
    tp, fp, fn = cells.sum(axis=1)
    precision, recall = _ratios(tp, fp, fn)
    # Bootstrap within each side: resample its rows with replacement, `draws` times.
    rng = np.random.default_rng(seed)
    boot = np.zeros((3, draws))
    for stratum in STRATA:
        rows = np.flatnonzero(s == stratum)
        if len(rows):
            pick = rows[rng.integers(0, len(rows), size=(draws, len(rows)))]
            boot += cells[:, pick].sum(axis=2)
    b_prec, b_rec = _ratios(*boot)

    def interval(values: np.ndarray) -> tuple[float, float]:
        values = values[np.isfinite(values)]
        if not len(values):
            return (float("nan"), float("nan"))
        lo, hi = np.percentile(values, [2.5, 97.5])
        return (float(lo), float(hi))

    return AccuracyEstimate(
        precision=float(precision), precision_interval=interval(b_prec),
        recall=float(recall), recall_interval=interval(b_rec),
        it_rows=float(tp + fn), missed_rows=float(fn), labelled=len(t), labelled_it=int(t.sum()))


__all__ = ["STRATA", "AccuracyEstimate", "InputError", "estimate_accuracy",
           "labelling_sample"]
