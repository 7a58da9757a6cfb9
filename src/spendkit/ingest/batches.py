"""Files → rows in batches: load (or reuse), deduplicate, enrich, and cut into segments.

Files load a few at a time in worker threads (`jobs`), and are taken in path order. A file
whose path and SHA-256 were ingested by the same code before, with no duplicate rows then, is
not read again: its rows come back from the previous version's partition files. Every file's
rows, loaded or reused, then go the same way, so the output cannot depend on what was reused:
rows of about BATCH_ROWS at a time are fingerprinted, deduplicated (`dedupe`), enriched
(`spendkit.enrich.Enricher`, one per run, fed in path order) and cut into segments (one file's
rows in one partition) for `write.PartitionStore`. A file's rows are kept in partition order
(publisher, financial year; their own order within each), the order they have in the dataset.

`CORPUS_PASS` is the one place for a pass over the whole corpus (e.g. evidence about suppliers
gathered across every council): it sees every batch once enriched and every partition before
it is written.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import hashlib
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.enrich import Enricher
from spendkit.enrich.pipeline import TEXT_INPUTS, published_text
from spendkit.errors import SpendkitError, UnreadableFileError
from spendkit.ingest.dedupe import Seen, fingerprints, months_of
from spendkit.ingest.evidence import SupplierEvidencePass
from spendkit.ingest.stages import Lap
from spendkit.ingest.write import (
    CONSTANT_COLUMNS,
    DATASET_SCHEMA,
    ENRICHMENT_COLUMNS,
    EXTRAS,
    EXTRAS_TYPE,
    HELD_SCHEMA,
    OPTIONAL_FIELDS,
    OTHER_TEXT,
    OldRows,
    Segment,
    extras_columns,
    extras_keys,
    extras_map,
    partition_path,
    slug,
)
from spendkit.loader import LoadResult, load
from spendkit.schema import TRANSACTION_COLUMNS, reject_schema, transaction_schema
from spendkit.transform.text import dictionary_encoded
from spendkit.units.money import pence_from_decimal
from spendkit.units.periods import financial_year_label, start_years_of_dates

#: Rows gathered from files before they are fingerprinted, deduplicated, enriched and cut
#: together (whole-column work costs per batch, not per file). Memory is bounded by one batch
#: (plus one file that alone exceeds it) and the files loading ahead.
BATCH_ROWS = 250_000

#: How `ingest` runs `load()` in parallel: "thread" (no start-up, no pickling of results, and
#: no `if __name__ == "__main__"` needed in the caller's script; parallel where load() runs in
#: Arrow's C++ kernels, which release the GIL) or "process" (spawned children: parallel
#: Python too, but each imports spendkit and every result is pickled back). On the 2-core
#: benchmark machine processes were the slowest of the two; threads are the default.
WORKER_KIND = "thread"

#: Columns a file brings to a batch: the canonical ones, the optional published fields, the
#: other published columns as one map (`write.extras_map`), and the classifier's reading of
#: all those (`other_text_of`).
INPUT_SCHEMA = pa.schema(list(transaction_schema())
                         + [pa.field(n, pa.string()) for n in OPTIONAL_FIELDS]
                         + [pa.field(EXTRAS, EXTRAS_TYPE), pa.field(OTHER_TEXT, pa.string())])


class CorpusPass(Protocol):
    """A pass over the whole corpus: sees each enriched batch, then rewrites partitions."""

    def observe(self, data: pa.Table) -> None:
        """Take note of a batch's rows (DATASET_SCHEMA, enriched) as they are cut."""

    def finish(self) -> object:
        """Called once every batch has been observed, before any partition is written."""

    def apply(self, partition: pa.Table, other_text: pa.ChunkedArray) -> pa.Table:
        """A partition's rows as they should be written (same rows, same order); other_text
        is the rows' other published text (`enrich.pipeline.published_text`)."""

    def write(self, folder: Path) -> object:
        """Store what the pass found in the build folder."""


#: Factory of the corpus pass, or None (no pass). The default carries strong supplier
#: evidence across publishers (`ingest.evidence`). Partitions whose rows come out as in the
#: previous version are linked from it instead of being written again, with or without.
CORPUS_PASS: Callable[[], CorpusPass] | None = SupplierEvidencePass


# --------------------------------------------------------------------------- loading

def worker_count(n_files: int, total_bytes: int, jobs: int | None) -> int:
    """Workers to load with: parallel only when there is enough work to pay for it."""
    if jobs is not None:
        return max(1, jobs)
    if n_files < 4 or total_bytes < 16_000_000:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def describe_failure(rel: str, exc: BaseException) -> UnreadableFileError:
    """Any failure to read a file as a SpendkitError naming it (one line)."""
    if isinstance(exc, UnreadableFileError):
        return exc
    if isinstance(exc, SpendkitError):
        return UnreadableFileError(rel, str(exc))
    if isinstance(exc, OSError):
        return UnreadableFileError(rel, f"cannot be read ({exc.strerror or exc})")
    # A reader's own failure (a panic, a parse error the loader did not turn into a
    # SpendkitError): contained here, so one bad file never stops the others.
    return UnreadableFileError(rel, f"could not be read: {type(exc).__name__}: {exc}")


def load_job(path: Path, rel: str, sha: str | None
             ) -> tuple[Path, str | None, LoadResult | UnreadableFileError, pa.Table | None]:
    """Load one file (in a worker or inline): (path, its SHA-256, result or failure, its
    rows as batch input in dataset order).

    The SHA-256 is computed here from the bytes read when it was not known up front (a
    first build hashes in the loading threads, not before), and the rows are shaped here
    too, beside the batch work of the main thread.
    """
    try:
        data = path.read_bytes()
        sha = sha or hashlib.sha256(data).hexdigest()
        result = load(path, source_name=rel, data=data, sha256=sha)
        rows = in_dataset_order(canonical_input(result.table))
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - e.g. pyo3's PanicException is a BaseException
        return path, sha, describe_failure(rel, exc), None
    return path, sha, result, rows


@contextlib.contextmanager
def loaded_in_order(jobs: list[tuple[Path, str, str | None]], workers: int,
                    kind: str | None = None) -> Iterator[Iterator[tuple]]:
    """Yield an iterator of `load_job` results for (path, rel, sha) jobs, in their order.

    With several workers, files load a few at a time ahead of the consumer (memory stays
    bounded by a handful of files); results come back in order whatever the timing.
    """
    if workers <= 1 or len(jobs) <= 1:
        yield (load_job(*job) for job in jobs)
        return
    if (kind or WORKER_KIND) == "process":
        ctx = multiprocessing.get_context("spawn")  # no fork after Arrow's threads have started
        pool: concurrent.futures.Executor = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=ctx)
    else:
        pool = concurrent.futures.ThreadPoolExecutor(workers)

    def ordered() -> Iterator[tuple]:
        window: collections.deque = collections.deque()
        todo = iter(jobs)
        for job in itertools.islice(todo, 2 * workers):
            window.append(pool.submit(load_job, *job))
        while window:
            done = window.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                window.append(pool.submit(load_job, *nxt))
            yield done

    try:
        yield ordered()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- one file's rows

@dataclass
class FileRows:
    """One file's rows entering a batch (INPUT_SCHEMA, in dataset order)."""

    index: int  # position in path order
    rel: str
    sha: str
    publisher: str
    table: pa.Table
    ledger: dict  # the loader's part of the ledger row
    rejects: pa.Table  # the loader's rejects (with source_sha256)
    #: Reused files: the enrichment the previous version gave these rows, and where they were.
    old_enrichment: pa.Table | None = None
    old_parts: list[dict] | None = None


def _partition_rank(table: pa.Table) -> tuple[np.ndarray, list[str], int, int]:
    """Per row, a number ordering (publisher slug, financial year); the slugs; year span."""
    publisher = dictionary_encoded(table.column("publisher_name"))
    slugs = [slug(p or "") for p in publisher.dictionary.to_pylist()]
    names = sorted(set(slugs))
    rank_of = np.array([names.index(s) for s in slugs], np.int64) if slugs \
        else np.zeros(0, np.int64)
    years = start_years_of_dates(table.column("payment_date")).astype(np.int64)
    first = int(years.min()) if len(years) else 0
    span = int(years.max()) - first + 1 if len(years) else 1
    rows = rank_of[publisher.indices.to_numpy(zero_copy_only=False)] if len(years) \
        else np.zeros(0, np.int64)
    return rows * span + (years - first), names, first, span


def in_dataset_order(table: pa.Table) -> pa.Table:
    """A file's rows in partition order (stable: their own order within a partition).

    The loader gives a file one publisher, so its partitions are its financial years.
    """
    if table.num_rows < 2:
        return table
    years = start_years_of_dates(table.column("payment_date"))
    if (years[1:] >= years[:-1]).all():
        return table
    return table.take(pa.array(np.argsort(years, kind="stable")))


def canonical_input(table: pa.Table) -> pa.Table:
    """The dataset's input columns of one loaded file (optional fields as strings or nulls,
    other published columns as the extras map)."""
    n = table.num_rows
    cols = [table.column(c) for c in TRANSACTION_COLUMNS]
    for name in OPTIONAL_FIELDS:
        cols.append(table.column(name).cast(pa.string()) if name in table.column_names
                    else pa.nulls(n, pa.string()))
    extras = [c for c in table.column_names
              if c not in TRANSACTION_COLUMNS and c not in OPTIONAL_FIELDS]
    cols.append(extras_map({c: table.column(c) for c in extras}, n))
    cols.append(pa.nulls(n, pa.string()))
    return with_other_text(pa.Table.from_arrays(cols, schema=INPUT_SCHEMA))


def with_other_text(table: pa.Table) -> pa.Table:
    """One file's input rows with `other_text` (the published text outside the canonical
    columns, `enrich.pipeline.published_text`) computed from their optional fields and
    extras: per file, as `enrich(load(path).transactions)` reads it, and the same whether the
    file was loaded or its rows read back from a previous version."""
    published = {n: table.column(n) for n in OPTIONAL_FIELDS}
    published.update(extras_columns(table.column(EXTRAS)))
    text = published_text(pa.table(published))
    return table.set_column(table.schema.get_field_index(OTHER_TEXT), OTHER_TEXT, text)


def with_sha(rejects: pa.Table, sha: str) -> pa.Table:
    """A loader rejects table with the file's SHA-256 as a column."""
    return rejects.append_column("source_sha256", pa.array([sha] * rejects.num_rows,
                                                           pa.string()))


def rows_from_previous(old: OldRows, parts: list[dict]) -> tuple[pa.Table, pa.Table]:
    """A reused file's rows (INPUT_SCHEMA) and their enrichment, from the previous version."""
    pieces = [old.rows(p["path"], p["offset"], p["rows"]) for p in parts]
    if not pieces:
        return INPUT_SCHEMA.empty_table(), DATASET_SCHEMA.empty_table().select(
            list(ENRICHMENT_COLUMNS))
    table = pa.concat_tables(pieces)
    table = table.append_column(OTHER_TEXT, pa.nulls(table.num_rows, pa.string()))
    return (with_other_text(table.select(INPUT_SCHEMA.names).cast(INPUT_SCHEMA)),
            table.select(list(ENRICHMENT_COLUMNS)))


# --------------------------------------------------------------------------- a batch

@dataclass
class FileDone:
    """What a batch made of one file."""

    rows: FileRows
    segments: list[Segment]
    duplicates: int
    dataset_pence: int
    dup_rejects: pa.Table | None


def duplicate_rejects(table: pa.Table, keep: np.ndarray, dup_of: np.ndarray,
                      rels: list[str]) -> pa.Table:
    """Reject rows for a file's duplicate publications, naming the file each repeats."""
    idx = np.flatnonzero(~keep)
    t = table.take(pa.array(idx))
    return pa.table({
        "source_file": t.column("source_file"),
        "source_sheet": t.column("source_sheet"),
        "source_line": t.column("source_line"),
        "reason": pa.array(["duplicate_publication"] * len(idx), pa.string()),
        "detail": pa.array([f"repeats a payment in {rels[int(i)]}" for i in dup_of[idx]],
                           pa.string()),
        "raw": pc.binary_join_element_wise(
            t.column("payment_date").cast(pa.string()), t.column("supplier_name"),
            t.column("amount_gbp").cast(pa.string()), "|"),
    }, schema=reject_schema())


def without_rows(data: pa.Table, keep: np.ndarray) -> pa.Table:
    """`data` without the rows where `keep` is False. Duplicates are few (a thousand in 10M
    rows) but turn up in most batches of a large corpus: filtering every column copied the
    whole batch each time (at 10M rows, more CPU than the enrichment), so the rows kept are
    taken as zero-copy slices between the dropped ones instead."""
    drop = np.flatnonzero(~keep)
    n = len(keep)
    if len(drop) * 64 > n:  # many dropped: one filter is cheaper than many slices
        return data.filter(pa.array(keep))
    starts = np.concatenate([[0], drop + 1])
    ends = np.concatenate([drop, [n]])
    pieces = [data.slice(int(a), int(z - a)) for a, z in zip(starts, ends, strict=True)
              if z > a]
    return pa.concat_tables(pieces) if pieces else data.slice(0, 0)


def _changes(column: pa.ChunkedArray) -> np.ndarray:
    """Per row, a number that changes exactly where the column's value does (a run id):
    neighbours compared, no hashing (the constant columns are long, repeated strings)."""
    n = len(column)
    if n < 2:
        return np.zeros(n, np.int64)
    after, before = column.slice(1), column.slice(0, n - 1)
    differs = pc.not_equal(after, before)
    if differs.null_count:  # null next to null is no change; null next to a value is
        differs = pc.if_else(pc.is_null(differs),
                             pc.xor(pc.is_null(after), pc.is_null(before)), differs)
    differs = differs.to_numpy(zero_copy_only=False)
    return np.concatenate([[0], np.cumsum(differs)])


def _run_starts(*keys: np.ndarray) -> np.ndarray:
    """Indices where any of the equally long integer arrays changes value (0 included)."""
    n = len(keys[0])
    change = np.zeros(n, bool)
    if n:
        change[0] = True
        for k in keys:
            change[1:] |= k[1:] != k[:-1]
    return np.flatnonzero(change)


def process_batch(batch: list[FileRows], seen: Seen, enricher: Enricher, rels: list[str],
                  corpus: CorpusPass | None = None) -> list[FileDone]:
    """Fingerprint, deduplicate, enrich and cut a batch of files (in path order)."""
    lap = Lap()
    lengths = np.array([b.table.num_rows for b in batch], np.int64)
    table = pa.concat_tables([b.table for b in batch])  # one chunk per file
    member = np.repeat(np.arange(len(batch)), lengths)  # batch position of each row
    index = np.array([b.index for b in batch], np.int64)
    # Text columns encoded once, for the fingerprints and the enrichment.
    enc = {c: dictionary_encoded(table.column(c)) for c in ("publisher_name", *TEXT_INPUTS)}
    lap("batch: concat")
    fps = fingerprints(table, enc["supplier_name"], enc["publisher_name"])
    months = months_of(table.column("payment_date"))
    lap("batch: fingerprints")
    keep = np.ones(table.num_rows, bool)
    dup_of = np.full(table.num_rows, -1, np.int64)
    pub_codes = {p: k for k, p in enumerate(dict.fromkeys(b.publisher for b in batch))}
    row_pub = np.array([pub_codes[b.publisher] for b in batch], np.int64)[member]
    for pub, k in pub_codes.items():
        rows = np.arange(table.num_rows) if len(pub_codes) == 1 else np.flatnonzero(row_pub == k)
        keep[rows], dup_of[rows] = seen.dedupe(pub, fps[rows], index[member[rows]], months[rows])
    lap("batch: dedupe")

    kept = table
    if not keep.all():
        kept = without_rows(table, keep)
        mask = pa.array(keep)  # the encoded columns: only their indices are copied
        enc = {c: e.filter(mask) for c, e in enc.items()}
    kept_member = member[keep]
    kept_counts = np.bincount(kept_member, minlength=len(batch))
    lap("batch: drop duplicates")
    # The classifier's inputs: the text columns, the publisher (its own units are not
    # suppliers) and the row's other published text, as `enrich(load(path).transactions)`.
    inputs = pa.table({**{c: enc[c] for c in (*TEXT_INPUTS, "publisher_name")},
                       OTHER_TEXT: kept.column(OTHER_TEXT),
                       "amount_gbp": kept.column("amount_gbp")})
    enriched = enricher.enrich_arrow(inputs, segments=kept_counts.tolist())
    lap("batch: enrich")
    columns = {**{c: kept.column(c) for c in kept.column_names},
               **{c: enriched.column(c) for c in ENRICHMENT_COLUMNS},
               "row_fingerprint": pa.array(fps[keep], pa.uint64())}
    data = pa.Table.from_arrays([columns[name] for name in DATASET_SCHEMA.names],
                                schema=DATASET_SCHEMA)
    if corpus is not None:
        corpus.observe(data)
    data = data.append_column(pa.field(EXTRAS, EXTRAS_TYPE), kept.column(EXTRAS))
    data = data.append_column(pa.field(OTHER_TEXT, pa.string()), kept.column(OTHER_TEXT))
    pence = np.concatenate([[0], np.cumsum(pence_from_decimal(data.column("amount_gbp")))])
    bounds = np.concatenate([[0], np.cumsum(kept_counts)])
    lap("batch: shape")

    # Segments: runs of rows of one file with one partition and one value of every constant
    # column (a ZIP's members, a workbook's sheets are runs of their own).
    if data.column("payment_date").null_count:
        raise SpendkitError("a kept row has no payment_date (load() should have rejected it)")
    rank, slugs, first_year, span = _partition_rank(data)
    starts = _run_starts(kept_member, rank,
                         *(_changes(data.column(c)) for c in CONSTANT_COLUMNS))
    ends = np.append(starts[1:], data.num_rows) if len(starts) else starts
    held = data.select(HELD_SCHEMA.names)
    lap("batch: split")

    segments: list[list[Segment]] = [[] for _ in batch]
    for a, z in zip(starts.tolist(), ends.tolist(), strict=True):
        i = int(kept_member[a])
        pub, year = divmod(int(rank[a]), span)
        consts = {c: data.column(c)[a].as_py() or "" for c in CONSTANT_COLUMNS}
        rows = held.slice(a, z - a).combine_chunks().to_batches()[0]
        segments[i].append(Segment(
            partition_path(slugs[pub], financial_year_label(year + first_year)), consts,
            z - a, int(pence[z] - pence[a]), rows,
            extras_keys=extras_keys(rows.column(EXTRAS))))

    out = []
    lo = 0
    for i, b in enumerate(batch):
        hi = lo + int(lengths[i])
        file_keep = keep[lo:hi]
        n_dup = int(len(file_keep) - file_keep.sum())
        segs = segments[i]
        if b.old_parts is not None and n_dup == 0:
            if corpus is not None:
                # Where the rows were; they stay held: the pass decides at the end whether
                # their partition comes out as before (then linked) or is written again.
                _point_at_previous(segs, b.old_parts, release=False)
            elif data.slice(int(bounds[i]), int(kept_counts[i])).select(
                    list(ENRICHMENT_COLUMNS)).equals(b.old_enrichment):
                _point_at_previous(segs, b.old_parts)
        out.append(FileDone(
            b, segs, n_dup, int(pence[bounds[i + 1]] - pence[bounds[i]]),
            duplicate_rejects(b.table, file_keep, dup_of[lo:hi], rels) if n_dup else None))
        lo = hi
    lap("batch: segments, rejects")
    return out


def _point_at_previous(segments: list[Segment], parts: list[dict], release: bool = True
                       ) -> None:
    """Rows of a reused file: note where they are in the previous version (its parts, in
    order, hold the file's segments one after another) and, when they are unchanged
    (`release`), let go of them."""
    where: list[tuple[str, int]] = []
    i, used = 0, 0
    for seg in segments:
        while i < len(parts) and used == parts[i]["rows"]:
            i, used = i + 1, 0
        if i == len(parts) or not parts[i]["path"].startswith(seg.partition + "/") \
                or used + seg.rows > parts[i]["rows"]:
            return  # not laid out as expected: keep the rows, the part is written again
        where.append((parts[i]["path"], parts[i]["offset"] + used))
        used += seg.rows
    for seg, old in zip(segments, where, strict=True):
        seg.old = old
        if release:
            seg.batch = None


__all__ = ["BATCH_ROWS", "CORPUS_PASS", "CorpusPass", "FileDone", "FileRows", "INPUT_SCHEMA",
           "canonical_input", "in_dataset_order", "load_job",
           "loaded_in_order", "process_batch", "rows_from_previous", "worker_count",
           "with_sha"]
