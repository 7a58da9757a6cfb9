"""Writing the dataset: Parquet files per publisher × financial year, extras and rejects.

Rows reach the writer as *segments*: the rows of one file that fall in one partition and share
the same source file/sheet and publisher (held without those constant columns, and with their
published columns outside the canonical schema as one map column, `extras`). A partition's
segments, in path order, make its *parts*: a part ends when its partition has received nothing
for IDLE_ROWS input rows (a council's folder is over) or holds PART_ROWS rows. Both rules look
only at the rows in path order, so what is written depends only on the inputs, never on how
files were batched, how many workers loaded them or what earlier runs built: most partitions
are one part (`part-0.parquet`); a partition published in several places of the raw folder
(the same council in many folders) is a few.

A part is written as soon as it ends, by a writer thread, one row group at a time, while later
files load; segments of parts still open wait in memory, and beyond SPILL_BYTES they are
spilled to uncompressed Arrow IPC files in the build folder and read back when written, so
memory stays bounded whatever the size of the raw folder or of one partition. A part whose
segments are exactly those of the previous version, with the same rows and enrichment, is not
written again: its file is hard-linked from the previous version.

    transactions/publisher=<slug>/financial_year=<2021-22>/part-<k>.parquet
    extras/publisher=<slug>/financial_year=<2021-22>/part-<k>.parquet
                             the same rows' published columns outside the canonical schema
                             (source_file, source_sheet, source_line, then the columns by
                             name; a column only where one of its files published it)
    rejects.parquet          every row not kept
"""

from __future__ import annotations

import collections
import concurrent.futures
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from spendkit.ingest.stages import step
from spendkit.ingest.versions import fsync_file
from spendkit.loader import repeat_string
from spendkit.schema import ENRICHMENT_FIELDS, reject_schema, transaction_schema

#: Optional published fields kept as named columns in the dataset (uniform across files).
OPTIONAL_FIELDS = ("effective_date", "expense_category", "service_division",
                   "procurement_category", "capital_or_revenue", "invoice_number")
PARQUET_OPTIONS = {"compression": "zstd", "use_dictionary": True, "write_statistics": True}
#: Dataset and extras files: columns with (almost) one value per row get no dictionary (it
#: would be abandoned for plain encoding anyway, after the cost of building it), and min/max
#: statistics only where readers filter or prune (publisher, date, amount, IT flag, file).
NO_DICTIONARY = frozenset({"amount_gbp", "transaction_id", "invoice_number", "source_line",
                           "row_fingerprint"})
STATISTICS = frozenset({"publisher_name", "publisher_code", "payment_date", "amount_gbp",
                        "is_it", "source_sha256", "source_line"})
#: Rows per Parquet row group of a partition file (a fixed count, so row groups do not depend
#: on batching; small enough for readers to prune and parallelise).
ROW_GROUP_ROWS = 131_072
#: Segment bytes held in memory before they are spilled to disk.
SPILL_BYTES = 384 * 1024 * 1024
#: A part ends when its partition has received nothing for this many input rows...
IDLE_ROWS = 250_000
#: ... or when it holds this many rows.
PART_ROWS = 8 * ROW_GROUP_ROWS
#: Columns constant within a segment, held once per segment rather than per row.
CONSTANT_COLUMNS = ("publisher_name", "publisher_code", "source_file", "source_sheet",
                    "source_sha256")


def _dataset_schema() -> pa.Schema:
    fields = list(transaction_schema())
    fields += [pa.field(f.name, f.type) for f in ENRICHMENT_FIELDS]
    fields += [pa.field(n, pa.string()) for n in OPTIONAL_FIELDS]
    fields += [pa.field("row_fingerprint", pa.uint64())]
    return pa.schema(fields)


DATASET_SCHEMA = _dataset_schema()
#: A row's published columns outside the canonical schema: name → text, names sorted.
EXTRAS = "extras"
EXTRAS_TYPE = pa.map_(pa.string(), pa.string())
#: The classifier's reading of a row's published text outside the canonical columns
#: (`enrich.pipeline.published_text`): held with the rows for a corpus pass, not written.
OTHER_TEXT = "other_text"
#: What a held segment keeps per row.
HELD_SCHEMA = pa.schema([f for f in DATASET_SCHEMA if f.name not in CONSTANT_COLUMNS]
                        + [pa.field(EXTRAS, EXTRAS_TYPE), pa.field(OTHER_TEXT, pa.string())])
ENRICHMENT_COLUMNS = tuple(f.name for f in ENRICHMENT_FIELDS)
EXTRAS_KEYS = ("source_file", "source_sheet", "source_line")


def part_options(names: list[str]) -> dict:
    """pq.write_table options for a dataset or extras file with these columns."""
    return {"compression": "zstd",
            "use_dictionary": [n for n in names if n not in NO_DICTIONARY],
            "write_statistics": [n for n in names if n in STATISTICS]}


def slug(text: str) -> str:
    """'Leeds City Council' → 'leeds-city-council' (partition folder names)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def partition_path(publisher_slug: str, year_label: str) -> str:
    """A partition's folder, relative to the build folder."""
    return f"transactions/publisher={publisher_slug}/financial_year={year_label}"


def part_path(partition: str, number: int) -> str:
    """Path of a partition's part file."""
    return f"{partition}/part-{number}.parquet"


def extras_path(part: str) -> str:
    """Path of the extras file that goes with a part file."""
    return "extras/" + part.removeprefix("transactions/")


def extras_map(columns: dict[str, pa.Array | pa.ChunkedArray], n: int) -> pa.MapArray:
    """One map per row from published columns (name → text; every row the same names,
    sorted; nulls kept: `extras_keys` names the columns with a value in a segment)."""
    names = sorted(columns)
    k = len(names)
    offsets = pa.array(np.arange(0, n * k + 1, k) if k else np.zeros(n + 1, np.int64),
                       pa.int32())
    if not k or not n:
        return pa.MapArray.from_arrays(offsets, pa.array([], pa.string()),
                                       pa.array([], pa.string()))
    stacked = pa.concat_arrays([
        (c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c).cast(pa.string())
        for c in (columns[name] for name in names)])
    order = (np.arange(n)[:, None] + np.arange(k)[None, :] * n).ravel()
    keys = pa.array(names * n, pa.string())
    return pa.MapArray.from_arrays(offsets, keys, stacked.take(pa.array(order)))


def _unmap(extras: pa.MapArray) -> dict[str, pa.Array]:
    """A segment's map column back to columns (every row holds the same names)."""
    n = len(extras)
    if not n:
        return {}
    start = extras.offsets[0].as_py()
    k = int(extras.offsets[1].as_py() - start)
    if not k:
        return {}
    keys = extras.keys.slice(start, k).to_pylist()
    items = extras.items.slice(start, n * k)
    return {name: items.take(pa.array(np.arange(n) * k + j)) for j, name in enumerate(keys)}


def extras_columns(extras: pa.MapArray | pa.ChunkedArray) -> dict[str, pa.Array]:
    """Any rows' map column as columns, names sorted (null where a row lacks the name): rows
    may hold different names (a reused file's rows read back from several parts)."""
    if isinstance(extras, pa.ChunkedArray):
        if not extras.num_chunks:
            return {}
        extras = extras.combine_chunks() if extras.num_chunks != 1 else extras.chunk(0)
    n = len(extras)
    offsets = extras.offsets.to_numpy(zero_copy_only=False).astype(np.int64) if n else None
    if offsets is None or offsets[-1] == offsets[0]:
        return {}
    start, total = int(offsets[0]), int(offsets[-1] - offsets[0])
    parents = np.repeat(np.arange(n), np.diff(offsets))
    keys = pc.dictionary_encode(extras.keys.slice(start, total))
    items = extras.items.slice(start, total)
    codes = keys.indices.to_numpy(zero_copy_only=False)
    out = {}
    for j, name in sorted(enumerate(keys.dictionary.to_pylist()), key=lambda t: t[1]):
        at = np.flatnonzero(codes == j)
        where = np.full(n, -1, np.int64)
        where[parents[at]] = np.arange(len(at))
        out[name] = items.take(pa.array(at)).take(pa.array(where, mask=where < 0))
    return out


def extras_keys(extras: pa.MapArray) -> tuple[str, ...]:
    """The names in a segment's map column that have a value in at least one row."""
    n = len(extras)
    if not n:
        return ()
    start = extras.offsets[0].as_py()
    k = int(extras.offsets[1].as_py() - start)
    if not k:
        return ()
    keys = extras.keys.slice(start, k).to_pylist()
    items = extras.items.slice(start, n * k)
    null = np.asarray(items.is_null().to_numpy(zero_copy_only=False)).reshape(n, k)
    return tuple(name for name, empty in zip(keys, null.all(axis=0), strict=True)
                 if not empty)


def extras_table(keys: pa.Table, maps: list[pa.MapArray], names: list[str]) -> pa.Table:
    """Rows' published extra columns `names` (nulls where a segment has no such column)."""
    per_segment = [_unmap(m) for m in maps]
    columns = {name: pa.chunked_array([cols.get(name, pa.nulls(len(m), pa.string()))
                                       for cols, m in zip(per_segment, maps, strict=True)],
                                      pa.string()) for name in names}
    return pa.table({**{k: keys.column(k) for k in EXTRAS_KEYS}, **columns})


def map_of_extras(table: pa.Table) -> pa.MapArray:
    """An extras file's rows back as the map column (every column of the file)."""
    names = [c for c in table.column_names if c not in EXTRAS_KEYS]
    return extras_map({c: table.column(c) for c in names}, table.num_rows)


@dataclass
class Segment:
    """Rows of one file in one partition, with the columns constant over them.

    `batch` (HELD_SCHEMA) is None when the rows are unchanged from the previous version,
    which holds them at `old` = (part file, first row).
    """

    partition: str
    constants: dict[str, str]
    rows: int
    pence: int
    batch: pa.RecordBatch | None = None
    old: tuple[str, int] | None = None
    extras_keys: tuple[str, ...] = ()


def full_batch(held: pa.RecordBatch, constants: dict[str, str]
               ) -> tuple[pa.RecordBatch, pa.MapArray, pa.Array]:
    """A held segment with its constant columns back (DATASET_SCHEMA), its extras and its
    other published text."""
    n = held.num_rows
    cols = []
    for f in DATASET_SCHEMA:
        if f.name in constants:
            cols.append(repeat_string(constants[f.name], n))
        else:
            cols.append(held.column(f.name))
    return (pa.RecordBatch.from_arrays(cols, schema=DATASET_SCHEMA),
            held.column(EXTRAS), held.column(OTHER_TEXT))


class Writer:
    """Parquet writes in a small thread pool, beside other work (encoding releases the GIL).

    At most `limit` writes wait at a time, so pending tables do not pile up.
    """

    def __init__(self, threads: int = 2, limit: int = 16) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads)
        self._pending: collections.deque[concurrent.futures.Future] = collections.deque()
        self._limit = limit

    def submit(self, fn: Callable, *args) -> None:
        while len(self._pending) >= self._limit:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(fn, *args))


    def drain(self) -> None:
        """Wait for queued writes; re-raise the first error."""
        while self._pending:
            self._pending.popleft().result()

    def close(self, cancel: bool = False) -> None:
        if cancel:
            for f in self._pending:
                f.cancel()
            self._pending.clear()
        self._pool.shutdown(wait=True, cancel_futures=cancel)


def link_or_copy(src: Path, dest: Path) -> None:
    """Hard-link a published file into a new build (copy where links are not possible),
    through a temporary name: whatever `dest` was is replaced, never written into."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copy2(src, tmp)
    os.replace(tmp, dest)


class OldRows:
    """Rows of the previous version's part files, read a row group at a time (cached; the
    writer threads and the main thread share it)."""

    def __init__(self, folder: Path, cache_bytes: int = 256 * 1024 * 1024) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._files: dict[str, pq.ParquetFile] = {}
        self._cache: collections.OrderedDict[tuple[str, int], pa.Table] = \
            collections.OrderedDict()
        self._cache_bytes = cache_bytes
        self._held = 0

    def _file(self, rel: str) -> pq.ParquetFile:
        f = self._files.get(rel)
        if f is None:
            f = self._files[rel] = pq.ParquetFile(self.folder / rel)
        return f

    def _group(self, rel: str, i: int) -> pa.Table:
        key = (rel, i)
        got = self._cache.get(key)
        if got is not None:
            self._cache.move_to_end(key)
            return got
        got = self._file(rel).read_row_group(i)
        self._cache[key] = got
        self._held += got.nbytes
        while self._held > self._cache_bytes and len(self._cache) > 1:
            _k, old = self._cache.popitem(last=False)
            self._held -= old.nbytes
        return got

    def rows(self, rel: str, offset: int, count: int) -> pa.Table:
        """Rows [offset, offset + count) of a part file (DATASET_SCHEMA), with their
        extras (a map column) from the extras file that goes with it."""
        with self._lock:
            return self._rows(rel, offset, count)

    def _rows(self, rel: str, offset: int, count: int) -> pa.Table:
        table = self._slice(rel, offset, count).cast(DATASET_SCHEMA)
        ex = extras_path(rel)
        if (self.folder / ex).exists():
            extras = map_of_extras(self._slice(ex, offset, count))
        else:
            extras = extras_map({}, count)
        return table.append_column(pa.field(EXTRAS, EXTRAS_TYPE), extras)

    def _slice(self, rel: str, offset: int, count: int) -> pa.Table:
        meta = self._file(rel).metadata
        pieces, start = [], 0
        for i in range(meta.num_row_groups):
            n = meta.row_group(i).num_rows
            lo, hi = max(offset, start), min(offset + count, start + n)
            if lo < hi:
                pieces.append(self._group(rel, i).slice(lo - start, hi - lo))
            start += n
            if start >= offset + count:
                break
        if not pieces:
            return self._file(rel).schema_arrow.empty_table()
        return pa.concat_tables(pieces)


@dataclass
class _Entry:
    """A segment as stored: in memory, in a spill file, or in the previous version."""

    segment: Segment
    file_index: int
    rel: str
    sha: str
    spill: tuple[int, int] | None = None  # (spill file, batch) once spilled
    closed: bool = False  # its part has ended (never spilled after that)


@dataclass
class _Part:
    """One part of a partition: its file, its segments, when it last received rows."""

    path: str
    entries: list[_Entry] = field(default_factory=list)
    rows: int = 0
    last: int = 0


@dataclass
class PartitionFacts:
    """What a written (or linked) part file holds, for the manifest and the ledger."""

    rows: int
    pence: int | None  # None for an extras file
    sources: list[tuple[str, str, int]] = field(default_factory=list)  # (rel, sha, rows)


class PartitionStore:
    """Segments of every partition, in path order, cut into parts written as they end."""

    def __init__(self, root: Path, previous: dict | None = None, old: OldRows | None = None,
                 apply: Callable[[pa.Table, pa.ChunkedArray], pa.Table] | None = None,
                 spill_bytes: int | None = None) -> None:
        self.root = root
        self._previous = (previous or {}).get("partitions", {})
        self._old = old
        self._apply = apply
        self._spill_dir = root / ".spill"
        self._spill_bytes = SPILL_BYTES if spill_bytes is None else spill_bytes
        self._open: dict[str, _Part] = {}  # partition → its part still taking rows
        self._numbers: collections.Counter[str] = collections.Counter()
        self._parts: list[_Part] = []  # ended, in the order they ended
        self._deferred: list[_Part] = []  # ended, to write once a corpus pass has seen all
        self._in_memory: dict[int, _Entry] = {}  # id → open parts' entries held in memory
        self._held = 0
        self._spills: list[Path] = []
        self._clock = 0  # rows added so far
        self.facts: dict[str, PartitionFacts] = {}
        # Parts are written by two threads (both cores), at most four waiting: a part waiting
        # holds its segments, which would otherwise be spilled.
        self._writer = Writer(threads=2, limit=4)
        self._stepped = False

    def add(self, file_index: int, rel: str, sha: str, segments: list[Segment]) -> None:
        """Take one file's segments (files must come in path order)."""
        for seg in segments:
            part = self._open.get(seg.partition)
            if part is not None and self._ended(part):
                self._end(seg.partition)
                part = None
            if part is None:
                number = self._numbers[seg.partition]
                self._numbers[seg.partition] += 1
                part = self._open[seg.partition] = _Part(part_path(seg.partition, number))
            entry = _Entry(seg, file_index, rel, sha)
            part.entries.append(entry)
            part.rows += seg.rows
            self._clock += seg.rows
            part.last = self._clock
            if seg.batch is not None:
                self._in_memory[id(entry)] = entry
                self._held += seg.batch.nbytes
        if self._held > self._spill_bytes:
            self._spill()

    def _ended(self, part: _Part) -> bool:
        return self._clock - part.last >= IDLE_ROWS or part.rows >= PART_ROWS

    def end_idle(self) -> None:
        """End (and write) the parts that no later segment could join (see module doc)."""
        for partition in sorted(self._open):
            if self._ended(self._open[partition]):
                self._end(partition)

    def _end(self, partition: str) -> None:
        part = self._open.pop(partition)
        self._parts.append(part)
        if self._apply is None:
            for e in part.entries:
                e.closed = True
                if self._in_memory.pop(id(e), None) is not None:
                    self._held -= e.segment.batch.nbytes
        # With a corpus pass the part waits for `finish`: its rows stay spillable till then.
        sources = [(e.rel, e.sha, e.segment.rows) for e in part.entries]
        self.facts[part.path] = PartitionFacts(
            part.rows, sum(e.segment.pence for e in part.entries), sources)
        if self._apply is not None:
            self._deferred.append(part)
        elif not self._link(part):
            self._submit(part)

    def _as_before(self, part: _Part) -> bool:
        """Are the part's segments those of the previous version's file at the same path?"""
        return (self._old is not None
                and all(e.segment.old is not None for e in part.entries)
                and [[e.rel, e.sha, e.segment.rows] for e in part.entries]
                == self._previous.get(part.path))

    def _link(self, part: _Part) -> bool:
        """Link the previous version's file (and extras) when the part is unchanged."""
        old = self._old
        if old is None or not self._as_before(part):
            return False
        if self._apply is not None and not _applied_as_before(
                part, self._spills, old, self._apply):
            return False
        ex = extras_path(part.path)
        link_or_copy(old.folder / part.path, self.root / part.path)
        if (old.folder / ex).exists():
            link_or_copy(old.folder / ex, self.root / ex)
            self.facts[ex] = PartitionFacts(part.rows, None)
        return True

    def _submit(self, part: _Part) -> None:
        names = sorted({k for e in part.entries for k in e.segment.extras_keys})
        if names:
            self.facts[extras_path(part.path)] = PartitionFacts(part.rows, None)
        self._writer.submit(_write_part, self.root, part.path, list(part.entries), names,
                            list(self._spills), self._old, self._apply)
        if not self._stepped:
            self._stepped = True
            step("writing")

    def _spill(self) -> None:
        """Write every held segment of the open parts to one IPC file and let go of it."""
        self._spill_dir.mkdir(exist_ok=True)
        number = len(self._spills)
        path = self._spill_dir / f"{number}.arrow"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, HELD_SCHEMA) as writer:
            for count, entry in enumerate(self._in_memory.values()):
                writer.write_batch(entry.segment.batch)
                entry.spill = (number, count)
                entry.segment.batch = None
        self._spills.append(path)
        self._in_memory, self._held = {}, 0

    def discard(self) -> None:
        """Let go of every held segment, stop the writes and remove the spill files."""
        self._writer.close(cancel=True)
        self._open.clear()
        self._parts.clear()
        self._in_memory, self._held = {}, 0
        shutil.rmtree(self._spill_dir, ignore_errors=True)

    def offsets(self) -> dict[int, list[dict]]:
        """file index → its parts: [{path, offset, rows}] in path order (for the ledger)."""
        out: dict[int, list[dict]] = collections.defaultdict(list)
        for part in sorted(self._parts, key=lambda p: p.path):
            at = 0
            for e in part.entries:
                parts = out[e.file_index]
                if parts and parts[-1]["path"] == part.path:
                    parts[-1]["rows"] += e.segment.rows
                else:
                    parts.append({"path": part.path, "offset": at, "rows": e.segment.rows})
                at += e.segment.rows
        return out

    def finish(self) -> dict[str, PartitionFacts]:
        """End every part, wait for the writes; return every file's facts by path."""
        for partition in sorted(self._open):
            self._end(partition)
        for part in self._deferred:
            if not self._link(part):
                self._submit(part)
        try:
            self._writer.drain()
        finally:
            self._writer.close()
        shutil.rmtree(self._spill_dir, ignore_errors=True)
        return dict(sorted(self.facts.items()))


def _segments(entries: list[_Entry], spills: list[Path], old: OldRows | None):
    """(rows in DATASET_SCHEMA, extras map, other text or None) of each entry, read back where
    it is kept (rows in the previous version come without other text: only a corpus pass
    needs it, and with one every segment is held)."""
    readers: dict[int, pa.ipc.RecordBatchFileReader] = {}
    for e in entries:
        seg = e.segment
        batch = seg.batch
        if batch is None and e.spill is not None:
            number, i = e.spill
            if number not in readers:
                readers[number] = pa.ipc.open_file(pa.OSFile(str(spills[number])))
            batch = readers[number].get_batch(i)
        if batch is not None:
            yield full_batch(batch, seg.constants)
            continue
        assert seg.old is not None and old is not None
        table = old.rows(seg.old[0], seg.old[1], seg.rows).combine_chunks()
        extras = table.column(EXTRAS).chunk(0) if table.num_rows else extras_map({}, 0)
        batches = table.drop_columns([EXTRAS]).to_batches()
        yield ((batches[0] if batches else DATASET_SCHEMA.empty_table().to_batches()[0]),
               extras, None)


def _row_groups(entries: list[_Entry], spills: list[Path], old: OldRows | None):
    """The part's rows as tables of exactly ROW_GROUP_ROWS rows (the last shorter), each with
    its extras maps and its other text (None when a piece came from the previous version)."""
    rows: list[pa.RecordBatch] = []
    maps: list[pa.MapArray] = []
    texts: list[pa.Array] = []
    have, held = 0, True
    for batch, extras, text in _segments(entries, spills, old):
        at = 0
        held = held and text is not None
        while at < batch.num_rows:
            take = min(batch.num_rows - at, ROW_GROUP_ROWS - have)
            rows.append(batch.slice(at, take))
            maps.append(extras.slice(at, take))
            if text is not None:
                texts.append(text.slice(at, take))
            have += take
            at += take
            if have == ROW_GROUP_ROWS:
                yield (pa.Table.from_batches(rows, schema=DATASET_SCHEMA), maps,
                       pa.chunked_array(texts, pa.string()) if held else None)
                rows, maps, texts, have, held = [], [], [], 0, text is not None
    if have:
        yield (pa.Table.from_batches(rows, schema=DATASET_SCHEMA), maps,
               pa.chunked_array(texts, pa.string()) if held else None)


def _applied_as_before(part: _Part, spills: list[Path], old: OldRows,
                       apply: Callable[[pa.Table, pa.ChunkedArray], pa.Table]) -> bool:
    """Does the corpus pass leave the part's rows exactly as the previous version wrote
    them (its enrichment columns; the rest came from there)? Stops at the first change."""
    file = pq.ParquetFile(old.folder / part.path)
    names = list(ENRICHMENT_COLUMNS)
    groups = _row_groups(part.entries, spills, None)
    for i in range(file.metadata.num_row_groups):
        got = next(groups, None)
        if got is None or got[2] is None:
            return False
        table = apply(got[0], got[2]).select(names)
        if not table.equals(file.read_row_group(i, columns=names).cast(table.schema)):
            return False
    return next(groups, None) is None


def _write_part(root: Path, path: str, entries: list[_Entry], names: list[str],
                spills: list[Path], old: OldRows | None,
                apply: Callable[[pa.Table, pa.ChunkedArray], pa.Table] | None) -> None:
    """Write one part file (and its extras file), a row group at a time."""
    dest, ex = root / path, root / extras_path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp, ex_tmp = dest.with_name(f".{dest.name}.tmp"), ex.with_name(f".{ex.name}.tmp")
    writer = pq.ParquetWriter(tmp, DATASET_SCHEMA, **part_options(DATASET_SCHEMA.names))
    ex_writer = None
    try:
        for table, maps, text in _row_groups(entries, spills, old):
            if apply is not None:
                if text is None:
                    raise AssertionError("a corpus pass needs every segment held in the build")
                table = apply(table, text)
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            if names:
                extras = extras_table(table, maps, names)
                if ex_writer is None:
                    ex.parent.mkdir(parents=True, exist_ok=True)
                    ex_writer = pq.ParquetWriter(ex_tmp, extras.schema,
                                                 **part_options(extras.schema.names))
                ex_writer.write_table(extras, row_group_size=ROW_GROUP_ROWS)
    finally:
        writer.close()
        if ex_writer is not None:
            ex_writer.close()
        for e in entries:  # written (or failed): its rows are not needed in memory any more
            e.segment.batch = None
    # Written beside and renamed over: a file already there may be a hard link to the
    # previous version's, which must never be truncated.
    for written, final in ((tmp, dest), (ex_tmp, ex)):
        if written.exists():
            fsync_file(written)
            os.replace(written, final)


REJECTS_SCHEMA = reject_schema().append(pa.field("source_sha256", pa.string()))


def write_rejects(tables: list[pa.Table], dest: Path) -> int:
    """All rejected rows in one file, in (file, sheet, line, reason) order; return the count."""
    rejects = (pa.concat_tables([t.cast(REJECTS_SCHEMA) for t in tables]) if tables
               else REJECTS_SCHEMA.empty_table())
    rejects = rejects.sort_by([("source_file", "ascending"), ("source_sheet", "ascending"),
                               ("source_line", "ascending"), ("reason", "ascending")])
    pq.write_table(rejects, dest, **PARQUET_OPTIONS)
    return rejects.num_rows


__all__ = ["DATASET_SCHEMA", "EXTRAS_TYPE", "HELD_SCHEMA", "OPTIONAL_FIELDS", "OldRows",
           "PartitionFacts", "PartitionStore", "Segment", "Writer", "extras_map", "part_options",
           "partition_path", "slug", "write_rejects"]
