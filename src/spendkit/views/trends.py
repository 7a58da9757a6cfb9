"""One call that prepares the IT spend trends notebook for a council: `prepare_trends`.

It joins the published narrative (the lump rule reads it), resolves the council, builds the
calendar of published months and the council's coverage, and returns them in a `TrendsSetup`
so the notebook's setup cell stays a few lines. Nothing here changes a number: it only wires
together `spendkit.models.trends` functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from spendkit.models.trends import (
    Coverage,
    completeness_calendar,
    council_code,
    council_info,
    coverage,
    join_extras,
)
from spendkit.reference.economy import deflator_note

__all__ = ["TrendsSetup", "deflator_note", "prepare_trends"]


@dataclass(frozen=True)
class TrendsSetup:
    """What the trends notebook needs about the data and the chosen council."""

    tx: pd.DataFrame            # all transactions, with the extras columns joined
    code: str                   # GSS code of the council
    name: str                   # the council's display name
    mine: pd.DataFrame          # the council's transactions
    calendar: pd.DataFrame      # published months of every council
    my_calendar: pd.DataFrame   # published months of the council
    my_coverage: Coverage       # the council's coverage, for chart captions
    deflator_note: str          # how real terms were computed, for chart captions

    def headline(self) -> str:
        """One line: the council's payments and years, and the size of the whole data."""
        return (f"{self.name} ({self.code}): {len(self.mine):,} payments, "
                f"{self.mine['financial_year'].nunique()} financial years; {len(self.tx):,} "
                f"payments from {self.tx['publisher_code'].nunique()} councils in all")


def prepare_trends(tx: pd.DataFrame, council: str, *, base_year: str,
                   extras: pd.DataFrame | None = None) -> TrendsSetup:
    """Resolve `council` in `tx` and compute the calendar and coverage the notebook reuses.

    `extras` is `datasets.read_extras()` (the published 'Purpose' narrative feeds the lump
    rule); None joins nothing and leaves `purpose` blank. `council` is a `publisher_name` or a
    GSS code in `tx` (`InputError` listing the councils otherwise).
    """
    tx = join_extras(tx, extras if extras is not None else pd.DataFrame())
    code = council_code(tx, council)
    mine = tx[tx["publisher_code"] == code]
    calendar = completeness_calendar(tx)
    my_calendar = calendar[calendar["publisher_code"] == code]
    return TrendsSetup(
        tx=tx, code=code, name=str(council_info([code])["nice_name"].iloc[0]), mine=mine,
        calendar=calendar, my_calendar=my_calendar, my_coverage=coverage(mine, my_calendar),
        deflator_note=deflator_note(base_year))
