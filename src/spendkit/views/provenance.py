"""What a page's figures rest on, read from the ingest ledger and the data — never from prose.

`provenance(tx, ledger, council=..., years=...)` answers: is this the bundled synthetic sample
(or real files, or a mix)? which publishers and how many files? which financial years, and how
many months of payments in each (part-years marked)? from which date to which? Every label a
notebook shows about its data — the header at the top of each page, the "SYNTHETIC sample
data." note under charts, the sources in exports — comes from here, so a real-data report
carries no sample wording and a sample report always says it is invented. Whether a file is
the sample is the ledger's `is_synthetic` (recorded by the ingest), never its name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from spendkit import __version__
from spendkit.schema import require_columns
from spendkit.units import periods
from spendkit.views.html import escape_markdown

#: Months in a financial year; fewer with payments marks a part-year.
MONTHS_IN_YEAR = 12


def _join_names(names: Sequence[str], limit: int = 4) -> str:
    """'A', 'A and B', 'A, B and C', 'A, B, C, D and 3 others'."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    if len(names) > limit:
        rest = len(names) - limit
        return ", ".join(names[:limit]) + f" and {rest} other{'s' if rest > 1 else ''}"
    return ", ".join(names[:-1]) + " and " + names[-1]


def _day(value: dt.date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value is not None else "–"


@dataclass(frozen=True)
class Provenance:
    """Facts about the data behind a page (see the module docstring)."""

    council: str | None
    publishers: tuple[str, ...]
    files: int
    council_files: int
    failed_files: int
    sample_files: int
    months_by_year: dict[str, int] = field(default_factory=dict)
    first_payment: dt.date | None = None
    last_payment: dt.date | None = None
    version: str = __version__

    @property
    def is_sample(self) -> bool:
        """Every file is the bundled synthetic sample."""
        return self.files > 0 and self.sample_files == self.files

    @property
    def mixes_sample(self) -> bool:
        """Sample files sit beside real ones (their figures would be combined)."""
        return 0 < self.sample_files < self.files

    @property
    def years(self) -> tuple[str, ...]:
        """Financial years with payments in the selection, in order."""
        return tuple(self.months_by_year)

    @property
    def months(self) -> int:
        """Months with payments in the selection."""
        return sum(self.months_by_year.values())

    @property
    def part_years(self) -> tuple[str, ...]:
        """Years with payments in fewer than 12 months."""
        return tuple(y for y, n in self.months_by_year.items() if n < MONTHS_IN_YEAR)

    def months_text(self, year: str) -> str:
        """'12 months' or 'part-year: 3 of 12 months' for one financial year."""
        n = self.months_by_year.get(year, 0)
        if n >= MONTHS_IN_YEAR:
            return f"{n} months"
        return f"part-year: {n} of {MONTHS_IN_YEAR} months"

    def years_text(self) -> str:
        """'2021-22 to 2025-26 (60 months of payments)' with any part-years named."""
        if not self.months_by_year:
            return "no payments in the selection"
        years = self.years
        span = years[0] if len(years) == 1 else f"{years[0]} to {years[-1]}"
        unit = "month" if self.months == 1 else "months"
        text = f"{span} ({self.months} {unit} of payments"
        parts = [f"{y}: {self.months_by_year[y]} of {MONTHS_IN_YEAR}" for y in self.part_years]
        if parts:
            label = "part-year" if len(parts) == 1 else "part-years"
            text += f"; {label} {', '.join(parts)} months"
        return text + ")"

    def sources_text(self) -> str:
        """'60 files from Hyndburn Borough Council (238 files from 5 publishers in all)'."""
        noun = "file" if (self.council_files if self.council else self.files) == 1 else "files"
        kind = f"SYNTHETIC sample {noun}" if self.is_sample else noun
        if self.council is not None and len(self.publishers) > 1:
            n = len(self.publishers)
            text = (f"{self.council_files:,} {kind} from {self.council} ({self.files:,} from "
                    f"{n} publishers in all)")
        else:
            who = _join_names(self.publishers) or "no publisher"
            text = f"{self.files:,} {kind} from {who}"
        if self.failed_files:
            text += f" ({self.failed_files:,} could not be read)"
        return text

    def data_note(self) -> str:
        """The note that ends chart captions: 'SYNTHETIC sample data.' only for the sample."""
        if self.is_sample:
            return "SYNTHETIC sample data."
        if self.mixes_sample:
            return "Includes SYNTHETIC sample files."
        return ""

    def header_markdown(self) -> str:
        """The short header at the top of a page: council, years, data, dates, version."""
        council = escape_markdown(self.council) if self.council else "all councils in the data"
        lines = []
        if self.is_sample:
            lines.append("**SYNTHETIC sample data.** Every payment on this page is invented by "
                         "`spendkit sample` (real council names and codes, made-up spending): "
                         "no figure here is any council's real spend. The sample lives in "
                         "`data/sample`; put published files in `data/raw` to analyse real "
                         "councils.")
        elif self.mixes_sample:
            lines.append(f"**Warning: {self.sample_files:,} of the {self.files:,} files are the "
                         "SYNTHETIC sample** and their invented payments are counted with the "
                         "real ones. Remove them from `data/raw`.")
        dates = (f"payments dated {_day(self.first_payment)} to {_day(self.last_payment)}"
                 if self.last_payment else "no payments")
        lines.append(
            f"**Council:** {council} · **Years:** {escape_markdown(self.years_text())} · "
            f"**Data:** {escape_markdown(self.sources_text())}; {dates} · "
            f"spendkit {escape_markdown(self.version)}")
        return "\n\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.header_markdown()


def months_by_year(tx: pd.DataFrame) -> dict[str, int]:
    """Distinct months with payments per financial year, in year order."""
    require_columns(tx, ["payment_date"], "months_by_year")
    dates = pd.to_datetime(tx["payment_date"].astype("object"), errors="coerce").dropna()
    if dates.empty:
        return {}
    months = pd.Series(dates.dt.to_period("M").unique())
    starts = months.dt.year - (months.dt.month < periods.FIRST_MONTH)
    counts = starts.value_counts().sort_index()
    return {periods.financial_year_label(int(y)): int(n) for y, n in counts.items()}


def provenance(tx: pd.DataFrame, ledger: pd.DataFrame, *, council: str | None = None,
               ) -> Provenance:
    """Facts about `tx` (the selected payments) and the ingested files behind it.

    `council` is the resolved `publisher_name` a page focuses on (None: every council); its
    months and dates are the council's own.
    """
    require_columns(ledger, ["source_file", "status", "publisher_name", "is_synthetic"],
                    "provenance ledger")
    require_columns(tx, ["publisher_name", "payment_date"], "provenance")
    # The ingest records which files are the sample (`is_synthetic`): file names are the
    # user's and prove nothing either way.
    sample = ledger["is_synthetic"].astype("boolean").fillna(False).astype(bool)
    loaded = ledger[ledger["status"].ne("failed")]
    publishers = sorted({str(p) for p in loaded["publisher_name"].dropna() if str(p).strip()})
    mine = tx if council is None else tx[tx["publisher_name"].eq(council)]
    council_files = (len(ledger) if council is None
                     else int(ledger["publisher_name"].eq(council).sum()))
    dates = pd.to_datetime(mine["payment_date"].astype("object"), errors="coerce").dropna()
    return Provenance(
        council=council, publishers=tuple(publishers), files=len(ledger),
        council_files=council_files, failed_files=int(ledger["status"].eq("failed").sum()),
        sample_files=int(sample.sum()), months_by_year=months_by_year(mine),
        first_payment=dates.min().date() if len(dates) else None,
        last_payment=dates.max().date() if len(dates) else None)


__all__ = ["MONTHS_IN_YEAR", "Provenance",
           "months_by_year", "provenance"]
