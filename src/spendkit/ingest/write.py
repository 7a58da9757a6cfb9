"""Writing the dataset: one Parquet file per publisher × financial year, extras and rejects.

Rows reach the writer as *segments*: the rows of one file that fall in one partition and share
the same source file/sheet and publisher (held without those constant columns, and with their
published columns outside the canonical schema as one map column, `extras`). A partition's
file is its segments in path order, so what it holds depends only on the inputs, never on how
files were batched, how many workers loaded them or what earlier runs built. Segments wait in
memory until every file has been seen (a partition is complete only then), and beyond
`SPILL_BYTES` they are spilled to uncompressed Arrow IPC files in the build folder and read
back when their partition is written, so memory stays bounded whatever the size of the raw
folder. A partition whose segments are exactly those of the previous version, with the same
rows and enrichment, is not written again: its file is hard-linked from the previous version.

    transactions/publisher=<slug>/financial_year=<2021-22>/part-0.parquet
    extras/publisher=<slug>/financial_year=<2021-22>/part-0.parquet
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
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
#: Columns constant within a segment, held once per segment rather than per row.
CONSTANT_COLUMNS = ("publisher_name", "publisher_code", "source_file", "source_sheet",
                    "source_sha256")
PARTITION_FILE = "part-0.parquet"


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
#: What a held segment keeps per row.
HELD_SCHEMA = pa.schema([f for f in DATASET_SCHEMA if f.name not in CONSTANT_COLUMNS]
                        + [pa.field(EXTRAS, EXTRAS_TYPE)])
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
    """Path of a partition's file, relative to the build folder."""
    return (f"transactions/publisher={publisher_slug}/financial_year={year_label}/"
            f"{PARTITION_FILE}")


def extras_path(partition: str) -> str:
    """Path of the extras file that goes with a partition's file."""
    return "extras/" + partition.removeprefix("transactions/")


def extras_map(columns: dict[str, pa.Array | pa.ChunkedArray], n: int) -> pa.MapArray:
    """One map per row from published columns (name → text; every row the same names,
    sorted; nulls kept: `extras_table` drops columns that are null throughout a segment)."""
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
    """A segment's map column back to columns (every row holds the same names), keeping
    only the columns with a value somewhere in the segment."""
    n = len(extras)
    if not n:
        return {}
    k = int(extras.offsets[1].as_py() - extras.offsets[0].as_py())
    if not k:
        return {}
    start = extras.offsets[0].as_py()
    keys = extras.keys.slice(start, k).to_pylist()
    items = extras.items.slice(start, n * k)
    out = {}
    for j, name in enumerate(keys):
        col = items.take(pa.array(np.arange(n) * k + j))
        if col.null_count < n:
            out[name] = col
    return out


def extras_table(keys: pa.Table, maps: list[pa.MapArray]) -> pa.Table | None:
    """The extras file of a partition (None when no row has a published extra value)."""
    per_segment = [_unmap(m) for m in maps]
    names = sorted({name for cols in per_segment for name in cols})
    if not names:
        return None
    columns = {}
    for name in names:
        columns[name] = pa.chunked_array(
            [cols.get(name, pa.nulls(len(m), pa.string()))
             for cols, m in zip(per_segment, maps, strict=True)], pa.string())
    return pa.table({**{k: keys.column(k) for k in EXTRAS_KEYS}, **columns})


def map_of_extras(table: pa.Table) -> pa.MapArray:
    """An extras file's rows back as the map column (every column of the file)."""
    names = [c for c in table.column_names if c not in EXTRAS_KEYS]
    return extras_map({c: table.column(c) for c in names}, table.num_rows)


@dataclass
class Segment:
    """Rows of one file in one partition, with the columns constant over them.

    `batch` (HELD_SCHEMA) is None when the rows are unchanged from the previous version,
    which holds them at `old` = (partition file, first row).
    """

    partition: str
    constants: dict[str, str]
    rows: int
    pence: int
    batch: pa.RecordBatch | None = None
    old: tuple[str, int] | None = None


def full_batch(held: pa.RecordBatch, constants: dict[str, str]
               ) -> tuple[pa.RecordBatch, pa.MapArray]:
    """A held segment with its constant columns back (DATASET_SCHEMA), and its extras."""
    n = held.num_rows
    cols = []
    for f in DATASET_SCHEMA:
        if f.name in constants:
            cols.append(repeat_string(constants[f.name], n))
        else:
            cols.append(held.column(f.name))
    return (pa.RecordBatch.from_arrays(cols, schema=DATASET_SCHEMA),
            held.column(EXTRAS))


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

    def write(self, table: pa.Table, dest: Path, **options) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.submit(_write_table, table, dest, options or part_options(table.column_names))

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


def _write_table(table: pa.Table, dest: Path, options: dict) -> None:
    # Written beside and renamed over: a file already there may be a hard link to the
    # previous version's, which must never be truncated.
    tmp = dest.with_name(f".{dest.name}.tmp")
    pq.write_table(table, tmp, **options)
    fsync_file(tmp)
    os.replace(tmp, dest)


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
    """Rows of the previous version's partition files, read a row group at a time (cached)."""

    def __init__(self, folder: Path, cache_bytes: int = 256 * 1024 * 1024) -> None:
        self.folder = folder
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
        """Rows [offset, offset + count) of a partition file (DATASET_SCHEMA), with their
        extras (a map column) from the extras file that goes with it."""
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
    """A segment as stored: in memory, in a spill file, in the previous version, or in this
    build's own file of its partition (written early, then reopened)."""

    segment: Segment
    file_index: int
    rel: str
    sha: str
    spill: tuple[int, int] | None = None  # (spill file, batch) once spilled
    staged: int | None = None  # first row in this build's early file of the partition


@dataclass
class PartitionFacts:
    """What a written (or linked) partition file holds, for the manifest and the ledger."""

    rows: int
    pence: int | None  # None for an extras file
    sources: list[tuple[str, str, int]] = field(default_factory=list)  # (rel, sha, rows)


class PartitionStore:
    """Segments of every partition, in path order; each partition written once complete.

    A partition is complete when every file has been seen. Most raw folders hold a council's
    files together, so a partition that has received nothing for IDLE_ROWS input rows is
    written early, while later files load (both cores busy). Should a later file bring it
    more rows after all, it is written again at the end (and only then: a folder of months
    holding every council's file would otherwise rewrite each partition month after month),
    its early rows read back: the result is the same either way, only the time differs.
    """

    def __init__(self, root: Path, previous: dict | None = None, old: OldRows | None = None,
                 apply: Callable[[pa.Table], pa.Table] | None = None,
                 spill_bytes: int | None = None) -> None:
        self.root = root
        self._previous = (previous or {}).get("partitions", {})
        self._old = old
        self._apply = apply
        self._spill_dir = root / ".spill"
        self._spill_bytes = SPILL_BYTES if spill_bytes is None else spill_bytes
        self._entries: dict[str, list[_Entry]] = collections.defaultdict(list)
        self._in_memory: list[_Entry] = []
        self._held = 0
        self._spills: list[Path] = []
        self._readers: dict[int, pa.ipc.RecordBatchFileReader] = {}
        self._clock = 0  # rows added so far
        self._last: dict[str, int] = {}  # partition → clock when it last received rows
        self._done: set[str] = set()  # partitions written (or linked) and not reopened
        self._early: set[str] = set()  # partitions with an early file in this build
        self._reopened: set[str] = set()  # written early, then given more rows
        self.facts: dict[str, PartitionFacts] = {}
        # Two partitions encode at a time (both cores), and no more wait: each is a whole
        # partition in memory.
        self._writer = Writer(threads=2, limit=2)
        self._stepped = False

    def add(self, file_index: int, rel: str, sha: str, segments: list[Segment]) -> None:
        """Take one file's segments (files must come in path order)."""
        for seg in segments:
            entry = _Entry(seg, file_index, rel, sha)
            self._entries[seg.partition].append(entry)
            if seg.partition in self._done:  # written early after all: reopened, and from
                self._done.discard(seg.partition)  # now on written only at the end
                self._reopened.add(seg.partition)
            self._clock += seg.rows
            self._last[seg.partition] = self._clock
            if seg.batch is not None:
                self._in_memory.append(entry)
                self._held += seg.batch.nbytes
        if self._held > self._spill_bytes:
            self._spill()

    def flush_idle(self, idle_rows: int) -> None:
        """Write the partitions that received nothing for `idle_rows` rows (see class doc)."""
        for partition in sorted(self._entries):
            if partition not in self._done and partition not in self._reopened \
                    and self._last[partition] <= self._clock - idle_rows:
                self._write(partition)

    def _spill(self) -> None:
        """Write every held segment to one IPC file and let go of it."""
        self._spill_dir.mkdir(exist_ok=True)
        number = len(self._spills)
        path = self._spill_dir / f"{number}.arrow"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, HELD_SCHEMA) as writer:
            count = 0
            for entry in self._in_memory:
                if entry.segment.batch is None:  # its partition was written since
                    continue
                writer.write_batch(entry.segment.batch)
                entry.spill = (number, count)
                entry.segment.batch = None
                count += 1
        self._spills.append(path)
        self._in_memory, self._held = [], 0

    def _held_batch(self, entry: _Entry, early: pa.Table | None
                    ) -> tuple[pa.RecordBatch, pa.MapArray]:
        seg = entry.segment
        if seg.batch is not None:
            return full_batch(seg.batch, seg.constants)
        if entry.spill is not None:
            number, i = entry.spill
            reader = self._readers.get(number)
            if reader is None:
                reader = self._readers[number] = pa.ipc.open_file(
                    pa.OSFile(str(self._spills[number])))
            return full_batch(reader.get_batch(i), seg.constants)
        if entry.staged is not None:
            assert early is not None
            table = early.slice(entry.staged, seg.rows)
        else:
            assert seg.old is not None and self._old is not None
            table = self._old.rows(seg.old[0], seg.old[1], seg.rows)
        table = table.combine_chunks()
        extras = table.column(EXTRAS).chunk(0) if table.num_rows else extras_map({}, 0)
        batch = table.drop_columns([EXTRAS]).to_batches()
        return (batch[0] if batch else DATASET_SCHEMA.empty_table().to_batches()[0]), extras

    def discard(self) -> None:
        """Let go of every held segment, stop the writes and remove the spill files."""
        self._writer.close(cancel=True)
        self._entries.clear()
        self._in_memory, self._held = [], 0
        self._readers.clear()
        shutil.rmtree(self._spill_dir, ignore_errors=True)

    def partitions(self) -> list[str]:
        return sorted(self._entries)

    def sources(self, partition: str) -> list[tuple[str, str, int]]:
        return [(e.rel, e.sha, e.segment.rows) for e in self._entries[partition]]

    def offsets(self) -> dict[int, list[dict]]:
        """file index → its parts: [{path, offset, rows}] in partition order (for the ledger)."""
        out: dict[int, list[dict]] = collections.defaultdict(list)
        for partition in self.partitions():
            at = 0
            for e in self._entries[partition]:
                parts = out[e.file_index]
                if parts and parts[-1]["path"] == partition:
                    parts[-1]["rows"] += e.segment.rows
                else:
                    parts.append({"path": partition, "offset": at, "rows": e.segment.rows})
                at += e.segment.rows
        return out

    def _write(self, partition: str) -> None:
        """Write (or link) one partition's file and its extras from its segments so far."""
        entries = self._entries[partition]
        sources = self.sources(partition)
        rows = sum(s[2] for s in sources)
        self.facts[partition] = PartitionFacts(rows, sum(e.segment.pence for e in entries),
                                               sources)
        ex = extras_path(partition)
        self.facts.pop(ex, None)
        old = self._old
        unchanged = (old is not None and self._apply is None
                     and all(e.segment.old is not None for e in entries)
                     and [list(s) for s in sources] == self._previous.get(partition))
        self._done.add(partition)
        if partition in self._early:
            self._writer.drain()  # this build's early file is complete before it is replaced
        if unchanged:
            assert old is not None
            self._early.discard(partition)  # the file is the previous version's again
            for e in entries:
                e.staged = None
            link_or_copy(old.folder / partition, self.root / partition)
            if (old.folder / ex).exists():
                link_or_copy(old.folder / ex, self.root / ex)
                self.facts[ex] = PartitionFacts(rows, None)
            elif (self.root / ex).exists():
                (self.root / ex).unlink()
            return
        early = None
        if partition in self._early and any(e.staged is not None for e in entries):
            early = _read_back(self.root / partition, self.root / ex)
        held = [self._held_batch(e, early) for e in entries]
        at = 0
        for e in entries:  # this build's file holds them from now on
            if e.segment.batch is not None:
                self._held -= e.segment.batch.nbytes
            e.segment.batch, e.spill, e.staged = None, None, at
            at += e.segment.rows
        table = pa.Table.from_batches([b for b, _x in held], schema=DATASET_SCHEMA)
        if self._apply is not None:
            table = self._apply(table)
        self._writer.write(table, self.root / partition, row_group_size=ROW_GROUP_ROWS,
                           **part_options(table.column_names))
        self._early.add(partition)
        if not self._stepped:
            self._stepped = True
            step("writing")
        extras = extras_table(table, [x for _b, x in held])
        if extras is not None:
            self.facts[ex] = PartitionFacts(extras.num_rows, None)
            self._writer.write(extras, self.root / ex, row_group_size=ROW_GROUP_ROWS,
                               **part_options(extras.column_names))
        elif (self.root / ex).exists():
            (self.root / ex).unlink()

    def write_all(self) -> dict[str, PartitionFacts]:
        """Write (or link) every partition not written yet; return all their facts by path.

        A partition whose sources are those of the previous version, all come through
        unchanged, is hard-linked from it. The corpus pass, if any (see
        `spendkit.ingest.batches.CorpusPass`), sees each partition before it is written.
        """
        for partition in self.partitions():
            if partition not in self._done:
                self._write(partition)
        try:
            self._writer.drain()
        finally:
            self._writer.close()
        self._readers.clear()
        shutil.rmtree(self._spill_dir, ignore_errors=True)
        return dict(sorted(self.facts.items()))


def _read_back(path: Path, extras: Path) -> pa.Table:
    """This build's early file of a partition, with its extras as the map column."""
    table = pq.ParquetFile(path).read().cast(DATASET_SCHEMA)
    ex = map_of_extras(pq.ParquetFile(extras).read()) if extras.exists() \
        else extras_map({}, table.num_rows)
    return table.append_column(pa.field(EXTRAS, EXTRAS_TYPE), ex)


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
