"""How good is the IT classification on your data? Label a stratified sample, then estimate.

Payments the classifier calls IT are a few per cent of a council's rows, so a plain random
sample holds too few of them to say anything. A sample is drawn in strata (`labelling_sample`
draws two: classified IT and the rest; a design may use more, e.g. splitting the rest into
rows with an IT-looking word and the others) and each drawn row carries its weight: its
stratum's rows in the whole table divided by the rows drawn from it. Someone labels the sample
by hand, without looking at the classifier's answers; `estimate_accuracy` then weighs each
labelled row by its weight (the Horvitz-Thompson estimator), so precision, recall and the
share of IT money found are estimates for the whole table, not for the sample, with
percentile intervals from a bootstrap within each stratum. The weights stay right when the
classifier later changes: a row keeps the weight of the stratum it was drawn from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spendkit.errors import InputError

#: The two strata `labelling_sample` draws from, by the classifier's answer when drawn.
#: `estimate_accuracy` accepts any strata.
STRATA = ("classified_it", "classified_not_it")


@dataclass(frozen=True)
class StratumCounts:
    """Unweighted confusion counts of the labelled rows of one stratum."""

    stratum: str
    rows: int
    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int


@dataclass(frozen=True)
class AccuracyEstimate:
    """Precision, recall and IT-money recall of `is_it` over the whole table, from a sample."""

    precision: float
    precision_interval: tuple[float, float]
    recall: float
    recall_interval: tuple[float, float]
    #: Rows of the table estimated to be IT in truth, and those the classifier missed.
    it_rows: float
    missed_rows: float
    labelled: int
    labelled_it: int
    #: Share of the IT money (|amount|, weighted) that the classifier finds; nan without amounts.
    money_recall: float = float("nan")
    money_recall_interval: tuple[float, float] = (float("nan"), float("nan"))
    by_stratum: tuple[StratumCounts, ...] = field(default=())

    def summary(self) -> str:
        """One line an analyst can quote."""
        p_lo, p_hi = self.precision_interval
        r_lo, r_hi = self.recall_interval
        money = ""
        if np.isfinite(self.money_recall):
            m_lo, m_hi = self.money_recall_interval
            money = f", IT money found {self.money_recall:.1%} ({m_lo:.1%}-{m_hi:.1%})"
        return (f"precision {self.precision:.1%} (95% interval {p_lo:.1%}-{p_hi:.1%}), "
                f"recall {self.recall:.1%} ({r_lo:.1%}-{r_hi:.1%}){money}; from "
                f"{self.labelled} labelled rows ({self.labelled_it} IT), weighted to the whole "
                f"table: about {self.it_rows:,.0f} IT rows, {self.missed_rows:,.0f} of them "
                "missed")

    def confusion(self) -> pd.DataFrame:
        """Per-stratum unweighted confusion counts (rows, tp, fp, fn, tn) as a table."""
        return pd.DataFrame([vars(c) for c in self.by_stratum],
                            columns=["stratum", "rows", "true_positive", "false_positive",
                                     "false_negative", "true_negative"])


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


def _interval(values: np.ndarray) -> tuple[float, float]:
    """2.5 and 97.5 percentiles of the finite bootstrap values (nan, nan when none)."""
    values = values[np.isfinite(values)]
    if not len(values):
        return (float("nan"), float("nan"))
    lo, hi = np.percentile(values, [2.5, 97.5])
    return (float(lo), float(hi))


def estimate_accuracy(truth: Sequence[bool], predicted: Sequence[bool],
                      strata: Sequence[str], weights: Sequence[float], *,
                      amounts: Sequence[float] | None = None,
                      draws: int = 2000, seed: int = 0) -> AccuracyEstimate:
    """Weighted precision, recall (and IT-money recall) of `predicted` against hand labels.

    `strata` and `weights` are the sample's (any stratum names; `weight` is the stratum's rows
    over the rows drawn from it); `predicted` is the classifier's answer now, which may differ
    from the stratum a row was drawn from. With `amounts` (the rows' amounts in pounds) the
    estimate adds `money_recall`: the weighted |amount| of IT rows found over that of all IT
    rows. Intervals: percentile bootstrap, resampling within each stratum.
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
    blank = [i for i, x in enumerate(s.tolist()) if not isinstance(x, str) or not x.strip()]
    if blank:
        raise InputError(f"row {blank[0]}: every row needs a stratum name (got {s[blank[0]]!r})")
    a = None
    if amounts is not None:
        a = np.abs(np.asarray(amounts, dtype=float))
        if len(a) != len(t) or not np.all(np.isfinite(a)):
            raise InputError(f"amounts must be {len(t)} finite numbers, one per labelled row")
    # Per row: tp, fp, fn (row weights), then money found and money missed.
    cells = [w * (t & p), w * (~t & p), w * (t & ~p)]
    if a is not None:
        cells += [w * a * (t & p), w * a * (t & ~p)]
    cell = np.stack(cells)
    sums = cell.sum(axis=1)
    precision, recall = _ratios(sums[0], sums[1], sums[2])
    # Bootstrap within each stratum: resample its rows with replacement, `draws` times.
    rng = np.random.default_rng(seed)
    boot = np.zeros((len(cells), draws))
    names = sorted(set(s.tolist()))
    counts = []
    for stratum in names:
        rows = np.flatnonzero(s == stratum)
        pick = rows[rng.integers(0, len(rows), size=(draws, len(rows)))]
        boot += cell[:, pick].sum(axis=2)
        ts, ps = t[rows], p[rows]
        counts.append(StratumCounts(stratum, len(rows), int((ts & ps).sum()),
                                    int((~ts & ps).sum()), int((ts & ~ps).sum()),
                                    int((~ts & ~ps).sum())))
    b_prec, b_rec = _ratios(boot[0], boot[1], boot[2])
    money, money_interval = float("nan"), (float("nan"), float("nan"))
    if a is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            money = float(sums[3] / (sums[3] + sums[4]))
            money_interval = _interval(boot[3] / (boot[3] + boot[4]))
    return AccuracyEstimate(
        precision=float(precision), precision_interval=_interval(b_prec),
        recall=float(recall), recall_interval=_interval(b_rec),
        it_rows=float(sums[0] + sums[2]), missed_rows=float(sums[2]), labelled=len(t),
        labelled_it=int(t.sum()), money_recall=money, money_recall_interval=money_interval,
        by_stratum=tuple(counts))


__all__ = ["STRATA", "AccuracyEstimate", "InputError", "StratumCounts", "estimate_accuracy",
           "labelling_sample"]
