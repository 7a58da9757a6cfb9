"""Delimited text → Grid, fast: records are found with numpy, fields parsed by Arrow.

Why not `csv.reader` row by row: a council year is a million rows, and the yardstick is a bare
`pyarrow.csv.read_csv`. So the text is scanned once with numpy to find each record's start line
(quote-aware, so line breaks inside quoted descriptions do not start records), its field count
and whether it is blank; Arrow then parses the well-formed records in bulk. Records with an odd
field count are few and are handled one by one. Where quoting is irregular (a stray `"` inside
an unquoted field) the scan cannot be trusted and the whole file goes through `csv.reader`,
which is exact but slower; the ledger says which path was taken.

A quote that never closes must not swallow the file: a record may span at most
`MAX_RECORD_LINES` physical lines and hold at most `MAX_FIELD_CHARS` characters in a field. A
record beyond either is taken to start with a stray quote: its first line is read alone, reading
resumes on the next line, and a note gives the line range, so every line's money is parsed or
rejected on its own. A file that ends inside a quoted field (cut short) gets a note too.
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
#: Longest plausible record, in physical lines (a description with a few line breaks) …
MAX_RECORD_LINES = 30
#: … and field, in characters (the csv module refuses fields over 131,072 by default).
MAX_FIELD_CHARS = 100_000
_QUOTE = ord('"')
_NL = ord("\n")


def sniff_delimiter(text: str, sample_lines: int = 60) -> str:
    """Pick the delimiter that gives the most lines the same (>1) field count."""
    head = text[:200_000]
    # Lines cut at 20,000 characters: a huge field must not break the sniffing.
    sample = [line[:20_000] for line in head.split("\n")[:sample_lines]]
    best, best_score = ",", -1
    for delim in _DELIMITERS:
        if delim not in head:
            if not any(sample):
                continue
            score = 1  # every row is one field (what csv.reader would find, without parsing)
        else:
            try:
                counts = Counter(len(r) for r in csv.reader(sample, delimiter=delim) if r)
            except csv.Error:
                continue
            if not counts:
                continue
            width, freq = counts.most_common(1)[0]
            score = freq * (width > 1) * 1000 + width
        if score > best_score:
            best, best_score = delim, score
    return best


def _one_line(line: str, delimiter: str) -> list[str]:
    """A physical line read alone as a record (an unclosed quote runs to its end)."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:  # a field over the csv module's limit
        return line.split(delimiter)


def read_records(physical: list[str], delimiter: str,
                 ) -> tuple[list[list[str]], list[int], list[str]]:
    """(cells, first physical line) of each record in LF-split lines, and notes.

    The csv module reads the records; one spanning more than MAX_RECORD_LINES lines, or with a
    field over MAX_FIELD_CHARS (or the module's own limit), is read line by line instead.
    """
    rows: list[list[str]] = []
    starts: list[int] = []
    notes: list[str] = []
    n = len(physical)
    pos = 0

    def feed():
        nonlocal pos
        while pos < n:
            pos += 1
            yield physical[pos - 1] + "\n"

    split_ranges: list[tuple[int, int]] = []
    while pos < n:
        reader = csv.reader(feed(), delimiter=delimiter)
        while pos < n:
            start = pos
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error:
                row = None
            used = pos - start
            if row is None or used > MAX_RECORD_LINES or any(
                    len(c) > MAX_FIELD_CHARS for c in row):
                split_ranges.append((start + 1, pos))
                rows.append(_one_line(physical[start], delimiter))
                starts.append(start + 1)
                pos = start + 1  # resume with a fresh reader on the next line
                break
            rows.append(row)
            starts.append(start + 1)
    if split_ranges:
        shown = ", ".join(f"{a}-{b}" for a, b in split_ranges[:5])
        notes.append(f"{len(split_ranges)} quoted field(s) ran past {MAX_RECORD_LINES} lines or "
                     f"{MAX_FIELD_CHARS:,} characters (a stray quote?) at lines {shown}"
                     f"{' …' if len(split_ranges) > 5 else ''}: each of those lines was read "
                     "as its own record")
    if starts and _ends_in_quote(physical[starts[-1] - 1:], delimiter):
        notes.append(f"the file ends inside a quoted field opened on line {starts[-1]} "
                     "(cut short?): its last record is read as far as it goes")
    return rows, starts, notes


def _ends_in_quote(lines: list[str], delimiter: str) -> bool:
    try:
        list(csv.reader(["\n".join(lines)], delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


class DelimitedText:
    """A decoded text file (LF line ends) split into records, ready to become a Grid."""

    def __init__(self, text: str, delimiter: str | None = None) -> None:
        self.delimiter = delimiter or sniff_delimiter(text)
        self.data = text.encode("utf-8")
        self.buf = np.frombuffer(self.data, dtype=np.uint8)
        self.notes: list[str] = []
        # Physical lines (LF-ended; the last may be unended): each record spans the lines from
        # its first to the next record's first.
        self.physical_lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
        self.regular = self._quotes_regular()
        if self.regular:
            self._scan()
            if self._too_long():
                self.regular = False
        if not self.regular:
            self._scan_with_csv_module()
        self.spans = np.diff(np.append(self.lines, self.physical_lines + 1))

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

    def _too_long(self) -> bool:
        """True when a record found by the parity scan spans or holds more than the limits."""
        if not self.has_quoted_newlines or not len(self.lines):
            return False
        total = int(np.count_nonzero(self.buf == _NL)) + 1
        spans = np.diff(np.append(self.lines, total + 1))
        return bool((spans > MAX_RECORD_LINES).any()
                    or ((self.ends - self.starts) > MAX_FIELD_CHARS).any())

    def _scan_with_csv_module(self) -> None:
        text = self.data.decode("utf-8")
        physical = text.split("\n")
        if physical and physical[-1] == "":
            physical.pop()  # the final line break ends the last line, it does not start one
        rows, lines, self.notes = read_records(physical, self.delimiter)
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
        try:
            rows = list(csv.reader(io.StringIO(chunk, newline=""), delimiter=self.delimiter))
        except csv.Error:  # a field over the csv module's limit
            return chunk.split(self.delimiter)
        return rows[0] if rows else [""]

    def nonblank_indices(self) -> np.ndarray:
        return np.flatnonzero(~self.blank)

    # -- grid -----------------------------------------------------------------------------
    def build_grid(self, header_index: int, header_at_end: bool = False,
                   stop: int | None = None) -> Grid:
        """Grid of the data records (after the header, or before it when it is the last row).

        `stop` ends the data before that record (the next header of a stacked table).
        """
        header = self.cells(header_index)
        idx = np.arange(self.n_records)
        if header_at_end:
            data_mask = idx < header_index
            preamble = 0
        else:
            data_mask = (idx > header_index) & (idx < (self.n_records if stop is None else stop))
            preamble = int(np.count_nonzero(~self.blank[:header_index]))
        blank_rows = int(np.count_nonzero(self.blank & data_mask))
        if header_at_end:
            blank_rows += int(np.count_nonzero(self.blank & (idx > header_index)))
        data = np.flatnonzero(data_mask & ~self.blank)
        # Every record of this table (header, rows, blank lines), for the ledger's line count.
        region = np.ones(self.n_records, bool) if header_at_end else \
            (idx >= header_index) & (idx < (self.n_records if stop is None else stop))
        multi = np.flatnonzero(region & (self.spans > 1))
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
            preamble_rows=preamble, rejects=rejects, notes=self.notes + notes,
            continuation_lines=int((self.spans[multi] - 1).sum()),
            multiline=dict(zip(self.lines[multi].tolist(), self.spans[multi].tolist(),
                               strict=True)),
            blank_lines=self.lines[region & self.blank],
        )

    def _parse_records(self, rec: np.ndarray, width: int) -> list[pa.Array]:
        if len(rec) == 0:
            return [pa.array([], pa.string()) for _ in range(width)]
        if self.records is not None:
            # `rec` holds records of exactly `width` fields: taken as they are, not copied.
            records = self.records
            return string_columns([records[i] for i in rec.tolist()], width)
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
            # One block at least as large as any record: a record across two blocks fails.
            read_options=pacsv.ReadOptions(column_names=names,
                                           block_size=min(max(1 << 24, len(payload) + 1),
                                                          (1 << 31) - 1)),
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
