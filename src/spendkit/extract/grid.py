"""The grid: every source a loader reads (CSV text, Excel sheet) becomes rows of string cells.

A `Grid` holds the data rows below (or above) the header as string columns, each row's source
line, and the rows rejected while shaping it. The transform stage works only on grids, so CSV,
Excel and ZIP members share one cleaning path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Widest table read: Excel's last column (XFD). A wider header is not a list of payments, and
#: every column costs the loader a fixed ~0.2 ms (a 200,000-field header ran for minutes).
MAX_COLUMNS = 16_384


def filler(delimiter: str) -> str:
    """Characters a blank record may hold: the delimiter, quotes and white space."""
    return delimiter + '" \t\r'


@dataclass(slots=True)
class RawReject:
    """A row not kept, as read: where it was and why (slots: a hostile file can have millions)."""

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
    #: Text tables only (None for a worksheet): physical lines beyond the first of this table's
    #: records (header, rows, blank lines) whose quoted cells hold line breaks, …
    continuation_lines: int | None = None
    #: … those records as {first line: lines spanned}, and the first lines of its blank
    #: records; with the row lines they say which physical line went where.
    multiline: dict[int, int] = field(default_factory=dict)
    blank_lines: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    def raw_rows(self, rows: np.ndarray) -> list[str]:
        """The cells of each data row in `rows` joined with '|', trailing empty cells dropped
        (for the rejects table); joined by Arrow, no Python per cell."""
        if not len(rows):
            return []
        if not self.columns:
            return [""] * len(rows)
        take = pa.array(np.asarray(rows, np.int64))
        cells = []
        for col in self.columns:
            picked = col.take(take)
            if pa.types.is_dictionary(picked.type):
                picked = picked.dictionary_decode()
            cells.append(pc.fill_null(picked.cast(pa.string()), ""))
        joined = pc.binary_join_element_wise(*cells, "|") if len(cells) > 1 else cells[0]
        return pc.utf8_rtrim(joined, characters="|").to_pylist()


def string_columns(rows: list[list[str]], width: int) -> list[pa.Array]:
    """Turn row lists (already of `width` cells) into `width` Arrow string arrays."""
    if not rows:
        return [pa.array([], pa.string()) for _ in range(width)]
    cols = list(zip(*rows, strict=True))
    return [pa.array(c, pa.string()) for c in cols]


def fit_odd_records(records: list[tuple[int, int, list[str]]], header: list[str],
                    ) -> tuple[list[tuple[int, list[str]]], list[RawReject], list[str]]:
    """Records whose field count differs from the header's: kept or rejected.

    A record is kept, cut or padded to the header's width, when the difference is only empty
    padding: extra fields that are all empty, or missing fields whose header is unnamed. Any
    other is rejected as `wrong_field_count` (an unquoted '£2,681.94' shifts every column).
    `records` are (key, line, cells); kept ones come back as (key, cells), with a ledger note.
    """
    width = max(len(header), 1)
    unnamed_tail = [not h.strip() for h in header]
    kept: list[tuple[int, list[str]]] = []
    rejects: list[RawReject] = []
    details: dict[int, str] = {}  # one detail string per field count
    for key, line, cells in records:
        if len(cells) > width and not any(c.strip() for c in cells[width:]):
            kept.append((key, cells[:width]))
        elif len(cells) < width and all(unnamed_tail[len(cells):]):
            kept.append((key, cells + [""] * (width - len(cells))))
        else:
            detail = details.get(len(cells))
            if detail is None:
                detail = details[len(cells)] = f"expected {width} fields, found {len(cells)}"
            rejects.append(RawReject(line, "wrong_field_count", detail, "|".join(cells)))
    notes = [f"{len(kept)} row(s) had empty padding fields beyond or short of the header "
             "(ignored)"] if kept else []
    return kept, rejects, notes
