"""The grid: every source a loader reads (CSV text, Excel sheet) becomes rows of string cells.

A `Grid` holds the data rows below (or above) the header as string columns, each row's source
line, and the rows rejected while shaping it. The transform stage works only on grids, so CSV,
Excel and ZIP members share one cleaning path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa


@dataclass
class RawReject:
    """A row not kept, as read: where it was and why."""

    line: int
    reason: str
    detail: str
    raw: str


@dataclass
class Grid:
    """String cells of one table (a CSV file or one sheet), with source lines."""

    columns: list[pa.Array]
    lines: np.ndarray
    header: list[str]
    header_line: int
    sheet: str = ""
    blank_rows: int = 0
    preamble_rows: int = 0
    rejects: list[RawReject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    def raw_row(self, i: int) -> str:
        """The cells of data row i joined with '|' (for the rejects table)."""
        return "|".join(str(col[i].as_py() or "") for col in self.columns).rstrip("|")


def string_columns(rows: list[list[str]], width: int) -> list[pa.Array]:
    """Turn row lists (already of `width` cells) into `width` Arrow string arrays."""
    if not rows:
        return [pa.array([], pa.string()) for _ in range(width)]
    cols = list(zip(*rows, strict=True))
    return [pa.array(c, pa.string()) for c in cols]
