"""Delimited text → Grid, fast: records are found with numpy, fields parsed by Arrow.

Why not `csv.reader` row by row: a council year is a million rows, and the yardstick is a bare
`pyarrow.csv.read_csv`. So the text is scanned once with numpy to find each record's start line
(quote-aware, so line breaks inside quoted descriptions do not start records), its field count
and whether it is blank; Arrow then parses the well-formed records in bulk. Records with an odd
field count are few and are handled one by one. Where quoting is irregular (a stray `"` inside
an unquoted field) the scan cannot be trusted and the whole file goes through `csv.reader`,
which is exact but slower; the ledger says which path was taken.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from spendkit.extract.grid import Grid, filler, fit_odd_records, string_columns

_DELIMITERS = (",", ";", "\t", "|")
_QUOTE = ord('"')
_NL = ord("\n")


def sniff_delimiter(text: str, sample_lines: int = 60) -> str:
    """Pick the delimiter that gives the most lines the same (>1) field count."""
    head = text[:200_000]
    sample = head.split("\n")[:sample_lines]
    best, best_score = ",", -1
    for delim in _DELIMITERS:
        if delim not in head:
            if not any(sample):
                continue
            score = 1  # every row is one field (what csv.reader would find, without parsing)
        else:
            counts = Counter(len(r) for r in csv.reader(sample, delimiter=delim) if r)
            if not counts:
                continue
            width, freq = counts.most_common(1)[0]
            score = freq * (width > 1) * 1000 + width
        if score > best_score:
            best, best_score = delim, score
    return best


class DelimitedText:
    """A decoded text file (LF line ends) split into records, ready to become a Grid."""

    def __init__(self, text: str, delimiter: str | None = None) -> None:
        self.delimiter = delimiter or sniff_delimiter(text)
        self.data = text.encode("utf-8")
        self.buf = np.frombuffer(self.data, dtype=np.uint8)
        self.regular = self._quotes_regular()
        if self.regular:
            self._scan()
        else:
            self._scan_with_csv_module()

    # -- record scanning ------------------------------------------------------------------
    def _quotes_regular(self) -> bool:
        """True when every quote sits at a field edge, so a parity scan finds records right."""
        buf = self.buf
        q = np.flatnonzero(buf == _QUOTE)
        if len(q) == 0:
            return True
        if len(q) % 2:
            return False
        edge = np.array([ord(self.delimiter), _NL, _QUOTE, ord("\r")], dtype=np.uint8)
        prev_ok = np.ones(len(q), bool)
        inner = q > 0
        prev_ok[inner] = np.isin(buf[q[inner] - 1], edge)
        next_ok = np.ones(len(q), bool)
        inner = q < len(buf) - 1
        next_ok[inner] = np.isin(buf[q[inner] + 1], edge)
        return bool(np.all(prev_ok | next_ok))

    def _scan(self) -> None:
        buf = self.buf
        n = len(buf)
        newlines = np.flatnonzero(buf == _NL)
        quotes = np.flatnonzero(buf == _QUOTE)
        delims = np.flatnonzero(buf == ord(self.delimiter))
        if len(quotes):
            # A position is outside quotes when an even number of quotes precede it.
            ends = newlines[(np.searchsorted(quotes, newlines) & 1) == 0]
            delims = delims[(np.searchsorted(quotes, delims) & 1) == 0]
        else:
            ends = newlines
        self.has_quoted_newlines = len(ends) != len(newlines)
        if n and (len(ends) == 0 or ends[-1] != n - 1):
            ends = np.append(ends, n)  # last record without a final newline
        starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else np.array([], np.int64)
        self.starts = starts.astype(np.int64)
        self.ends = ends.astype(np.int64)
        # Physical line of each record start: number of line breaks before it, plus one.
        self.lines = np.searchsorted(newlines, self.starts, side="left").astype(np.int64) + 1
        rec_of_delim = np.searchsorted(self.ends, delims, side="left")
        self.nfields = np.bincount(rec_of_delim, minlength=len(starts))[: len(starts)] + 1
        # Blank: nothing but delimiters, quotes and white space. Only records short enough
        # to be all filler are looked at byte by byte.
        lengths = self.ends - self.starts
        self.blank = lengths == 0
        maybe = np.flatnonzero((lengths > 0) & (lengths <= 4 * self.nfields + 8))
        if len(maybe):
            blank_chars = filler(self.delimiter).encode()
            data = self.data
            for i in maybe:
                chunk = data[self.starts[i]: self.ends[i]]
                if not chunk.translate(None, blank_chars):
                    self.blank[i] = True
        self.records: list[list[str]] | None = None

    def _scan_with_csv_module(self) -> None:
        text = self.data.decode("utf-8")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        rows, lines = [], []
        prev = 0
        for row in reader:
            lines.append(prev + 1)
            prev = reader.line_num
            rows.append(row)
        self.records = rows
        self.lines = np.array(lines, np.int64)
        self.nfields = np.array([max(len(r), 1) for r in rows], np.int64)
        self.blank = np.array([not "".join(r).strip() for r in rows], bool)
        self.has_quoted_newlines = any(
            "\n" in c for r in rows for c in r) if len(rows) < 1_000_000 else True

    # -- access ---------------------------------------------------------------------------
    @property
    def n_records(self) -> int:
        return len(self.lines)

    def cells(self, i: int) -> list[str]:
        """Cells of record i, parsed exactly (csv module)."""
        if self.records is not None:
            return list(self.records[i])
        chunk = self.data[self.starts[i]: self.ends[i]].decode("utf-8")
        rows = list(csv.reader(io.StringIO(chunk, newline=""), delimiter=self.delimiter))
        return rows[0] if rows else [""]

    def nonblank_indices(self) -> np.ndarray:
        return np.flatnonzero(~self.blank)

    # -- grid -----------------------------------------------------------------------------
    def build_grid(self, header_index: int, header_at_end: bool = False) -> Grid:
        """Grid of the data records (after the header, or before it when it is the last row)."""
        header = self.cells(header_index)
        idx = np.arange(self.n_records)
        if header_at_end:
            data_mask = idx < header_index
            preamble = 0
        else:
            data_mask = idx > header_index
            preamble = int(np.count_nonzero(~self.blank[:header_index]))
        blank_rows = int(np.count_nonzero(self.blank & data_mask))
        if header_at_end:
            blank_rows += int(np.count_nonzero(self.blank & (idx > header_index)))
        data = np.flatnonzero(data_mask & ~self.blank)
        # The header fixes the width: a row with more fields is misaligned (an unquoted
        # '£2,681.94') unless the extra fields are empty padding.
        width = max(len(header), 1)
        counts = self.nfields[data]
        good = data[counts == width]
        odd = data[counts != width]

        kept_odd, rejects, notes = fit_odd_records(
            [(int(i), int(self.lines[i]), self.cells(int(i))) for i in odd], header)

        columns = self._parse_records(good, width)
        lines = self.lines[good]
        if kept_odd:
            extra = string_columns([c for _, c in kept_odd], width)
            columns = [pa.concat_arrays([a, b]) for a, b in zip(columns, extra, strict=True)]
            lines = np.concatenate([lines, self.lines[[i for i, _ in kept_odd]]])
            order = np.argsort(lines, kind="stable")
            columns = [c.take(pa.array(order)) for c in columns]
            lines = lines[order]
        return Grid(
            columns=columns, lines=lines.astype(np.int64), header=header,
            header_line=int(self.lines[header_index]), blank_rows=blank_rows,
            preamble_rows=preamble, rejects=rejects, notes=notes,
        )

    def _parse_records(self, rec: np.ndarray, width: int) -> list[pa.Array]:
        if len(rec) == 0:
            return [pa.array([], pa.string()) for _ in range(width)]
        if self.records is not None:
            return string_columns([self.records[i][:width] for i in rec], width)
        # Keep only the bytes of the chosen records (each with its newline), then parse in bulk.
        starts, ends = self.starts[rec], self.ends[rec]
        contiguous = bool(np.all(starts[1:] == ends[:-1] + 1))
        if contiguous:
            payload = self.data[starts[0]: min(ends[-1] + 1, len(self.data))]
        else:
            mark = np.zeros(len(self.buf) + 2, np.int32)
            np.add.at(mark, starts, 1)
            np.add.at(mark, np.minimum(ends + 1, len(self.buf)), -1)
            keep = np.cumsum(mark[: len(self.buf)]) > 0
            payload = self.buf[keep].tobytes()
        names = [f"c{i}" for i in range(width)]
        table = pacsv.read_csv(
            io.BytesIO(payload),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter, newlines_in_values=self.has_quoted_newlines,
                ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        if table.num_rows != len(rec):
            # The scan and Arrow disagree (unusual quoting): use the exact parser instead.
            rows = [self.cells(int(i)) for i in rec]
            return string_columns([(r + [""] * width)[:width] for r in rows], width)
        return [table.column(i).combine_chunks() for i in range(width)]
