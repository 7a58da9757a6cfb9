"""Regular delimited files → Grid straight from Arrow's CSV reader, no Python per row.

Most published files are regular: a header near the top, one record per line, no line breaks
inside quoted cells, no blank lines between records. For those the UTF-8 bytes go to
`pyarrow.csv.read_csv` once (every column read as strings), records of the wrong width come
back through Arrow's invalid-row handler with their line numbers, and a line count checks the
result: every physical line of the data must be a record, a rejected record or a trailing
blank line. Anything else (quoted line breaks, blank lines mid-file, a header at the end, a
profile naming the header line) returns None and the caller takes the careful path in
`delimited.py`, which decides the same things record by record.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from spendkit.extract.delimited import sniff_delimiter
from spendkit.extract.grid import MAX_COLUMNS, Grid, filler, fit_odd_records
from spendkit.extract.header import HEAD_ROWS, TAIL_ROWS

_HEAD_BYTES = 150_000  # where the header and the delimiter sample must lie
_SNIFF_LINES = 60  # lines the delimiter is sniffed on (as `sniff_delimiter` reads them)
_LINE_END = re.compile(rb"\r\n|\r|\n")


def _cells(line: bytes, delimiter: str) -> list[str]:
    text = line.decode("utf-8", errors="replace")
    try:
        rows = list(csv.reader([text], delimiter=delimiter))
    except csv.Error:  # a field over the csv module's limit
        return text.split(delimiter)
    return rows[0] if rows else [""]


def _line_spans(data: bytes, limit: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each complete line in data[:limit]; the file's last line even if unended."""
    start = 0
    for m in _LINE_END.finditer(data, 0, limit):
        yield start, m.start()
        start = m.end()
    if limit == len(data) and start < len(data):
        yield start, len(data)


def _ends(data: bytes, start: int, end: int) -> int:
    """Line ends (CRLF, LF or CR) in data[start:end]."""
    if end <= start:
        return 0
    return (data.count(b"\n", start, end) + data.count(b"\r", start, end)
            - data.count(b"\r\n", start, end))


class _Blank:
    """A line (or cell) holding nothing but delimiters, quotes and white space."""

    def __init__(self, delimiter: str) -> None:
        self.filler = filler(delimiter).encode()

    def __call__(self, raw: bytes) -> bool:
        return not raw.translate(None, self.filler)


def _empty_or_starting_with(col: pa.Array, first: bytes) -> np.ndarray:
    """Rows of a string column (no nulls) whose cell is empty or starts with a byte of `first`."""
    offsets = np.frombuffer(col.buffers()[1], np.int32)[col.offset:col.offset + len(col) + 1]
    data = col.buffers()[2]
    starts, lengths = offsets[:-1], np.diff(offsets)
    hit = lengths == 0
    if data is not None and data.size:
        wanted = np.zeros(256, bool)
        wanted[list(first)] = True
        filled = np.flatnonzero(~hit)
        hit[filled] = wanted[np.frombuffer(data, np.uint8)[starts[filled]]]
    return np.flatnonzero(hit)


def regular_grid(body: bytes, endings: dict[str, int],
                 find_header) -> tuple[Grid, str] | None:
    """(Grid, delimiter) of a regular file's UTF-8 bytes, or None when it needs the careful path.

    `body` must be valid UTF-8 (`decode.decode_to_utf8` checks or produces it; Arrow does not
    check it again).

    `endings` are the body's line-end counts (`decode.line_ending_counts`), counted once by the
    caller; `find_header(rows)` is the loader's header chooser over candidate rows (head then
    tail).
    """
    if body.count(b'"') % 2:
        return None  # a quote never closed (a stray quote, or a file cut short): careful path
    limit = min(len(body), _HEAD_BYTES)
    lines = _line_spans(body, limit)
    spans = list(itertools.islice(lines, _SNIFF_LINES))  # physical lines, ends excluded
    if not spans or (len(spans) < _SNIFF_LINES and limit < len(body)):
        return None  # very long lines: let the careful path read them
    sample = body[:spans[-1][1]].decode("utf-8", errors="ignore")
    delimiter = sniff_delimiter(sample.replace("\r\n", "\n").replace("\r", "\n"))
    blank = _Blank(delimiter)
    head_rows: list[tuple[int, list[str]]] = []  # (line index, cells) of non-blank lines
    for i, (a, b) in enumerate(itertools.chain(spans, lines)):
        if i >= len(spans):
            spans.append((a, b))
        raw = body[a:b]
        if raw.count(b'"') % 2:
            return None  # a quoted line break near the top
        if blank(raw):
            continue
        head_rows.append((i, _cells(raw, delimiter)))
        if len(head_rows) >= HEAD_ROWS:
            break
    else:  # every line up to the limit was read
        if limit < len(body):
            return None  # fewer than HEAD_ROWS rows in the first _HEAD_BYTES: careful path
    if not head_rows:
        return None
    head_end = spans[head_rows[-1][0]][1]
    # The last non-blank lines below the head rows: a header can be the file's last line.
    tail_from = max(head_end, len(body) - 4096)
    tail = body[tail_from:]
    tail_spans = list(_line_spans(tail, len(tail)))
    if tail_from > head_end:
        tail_spans = tail_spans[1:]  # the first may be cut short
    tail_lines = [body[tail_from + a:tail_from + b] for a, b in tail_spans]
    tail_rows = [_cells(r, delimiter) for r in [t for t in tail_lines if not blank(t)][-TAIL_ROWS:]]
    found = find_header([c for _, c in head_rows] + tail_rows)
    if found is None or found[0] >= len(head_rows):
        return None  # no header, or a header below the data: the careful path explains
    pos = found[0]
    if pos == len(head_rows) - 1 and pos and not tail_rows:
        return None  # the last non-blank line: a header below the data
    line_index, header = head_rows[pos]
    if len(header) > MAX_COLUMNS:
        return None  # the careful path refuses it before building a table that wide
    header_line = line_index + 1
    start = spans[line_index][1]
    start += 2 if body[start:start + 2] == b"\r\n" else (1 if start < len(body) else 0)
    end = len(body)
    while end > start and body[end - 1] in b"\r\n":
        end -= 1
    trailing_ends = _ends(body, end, len(body))
    # A data line owns the first line end after it; each further one ends a blank line.
    blank_rows = max(trailing_ends - 1, 0) if end > start else trailing_ends
    # Lines of the data: all the body's line ends less those above it and below it.
    data_lines = sum(endings.values()) - _ends(body, 0, start) - _ends(body, end, len(body))
    data_lines += 1 if end > start else 0  # the last data line has its end below it
    return _parse(body, start, end, data_lines, header, header_line, delimiter, blank,
                  blank_rows, pos)


def _read(body: bytes, start: int, end: int, names: list[str], delimiter: str,
          on_invalid) -> pa.Table:
    """Arrow's CSV reader over body[start:end] (no copy), every column as strings."""
    size = end - start
    return pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(body).slice(start, size)),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=False,
                                       block_size=max(size + 1, 1 << 20)),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid,
                                         newlines_in_values=body.find(b'"', start) >= 0),
        # check_utf8 off: the body is UTF-8 by construction (decode_to_utf8 verified or
        # produced it), and a second validation is ~15% of the read.
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=False,
                                             quoted_strings_can_be_null=False,
                                             check_utf8=False))


def _parse(body: bytes, start: int, end: int, data_lines: int, header: list[str],
           header_line: int,
           delimiter: str, blank: _Blank, blank_rows: int,
           preamble: int) -> tuple[Grid, str] | None:
    width = max(len(header), 1)
    names = [f"c{i}" for i in range(width)]
    odd: list[tuple[int, str]] = []

    def on_invalid(row) -> str:
        odd.append((row.number, row.text))
        return "skip"

    try:
        table = _read(body, start, end, names, delimiter, on_invalid) if end > start else None
    except pa.ArrowInvalid:
        return None  # a parse Arrow refuses: the careful path explains

    n_lines = 0
    if table is not None:
        n_lines = table.num_rows + len(odd)
        if n_lines != data_lines or any(n is None or "\ufffd" in t for n, t in odd):
            return None  # a record spans lines, or a blank line mid-file: careful path
        # One block, so one chunk each: taken as it is (combine_chunks would copy it).
        columns = [c.chunk(0) if c.num_chunks == 1 else c.combine_chunks()
                   for c in table.columns]
    else:
        columns = [pa.array([], pa.string()) for _ in range(width)]
    odd_numbers = np.array([n for n, _ in odd], np.int64)
    lines = np.delete(np.arange(1, n_lines + 1, dtype=np.int64), odd_numbers - 1) + header_line
    # The blank lines below the data, then those among it, by physical line.
    below = header_line + data_lines + 1
    blank_at = [np.arange(below, below + blank_rows, dtype=np.int64)]

    # Records parsed at full width but holding only filler are blank lines too.
    if len(lines):
        blank_chars = filler(delimiter)

        def only_filler(col: pa.Array) -> np.ndarray:
            # Trimming the filler characters is ~6x cheaper than a regex per cell.
            return np.asarray(pc.equal(pc.binary_length(pc.ascii_ltrim(col, blank_chars)), 0),
                              dtype=bool)

        # Only a cell that is empty or starts with a filler character can be all filler:
        # the first bytes (read off the buffers) narrow column 0 to those rows at once.
        empty = _empty_or_starting_with(columns[0], blank_chars.encode())
        if len(empty):
            empty = empty[only_filler(columns[0].take(pa.array(empty)))]
        for col in columns[1:]:
            if not len(empty):
                break
            empty = empty[only_filler(col.take(pa.array(empty)))]
        if len(empty):
            blank_rows += len(empty)
            blank_at.append(lines[empty])
            keep = pa.array(np.delete(np.arange(len(lines)), empty))
            columns = [c.take(keep) for c in columns]
            lines = np.delete(lines, empty)

    records = []
    for number, text in odd:
        if blank(text.encode("utf-8")):
            blank_rows += 1
            blank_at.append(np.array([header_line + number], np.int64))
        else:
            line = header_line + number
            records.append((line, line, _cells(text.encode("utf-8"), delimiter)))
    kept_odd, rejects, notes = fit_odd_records(records, header)
    if kept_odd:
        merged = np.concatenate([lines, np.array([ln for ln, _ in kept_odd], np.int64)])
        order = pa.array(np.argsort(merged, kind="stable"))
        columns = [pa.concat_arrays([c, pa.array([cells[j] for _, cells in kept_odd],
                                                 pa.string())]).take(order)
                   for j, c in enumerate(columns)]
        lines = np.sort(merged, kind="stable")
    return Grid(columns=columns, lines=lines, header=header, header_line=header_line,
                blank_rows=blank_rows, preamble_rows=preamble, rejects=rejects,
                notes=notes, continuation_lines=0,
                blank_lines=np.sort(np.concatenate(blank_at))), delimiter
