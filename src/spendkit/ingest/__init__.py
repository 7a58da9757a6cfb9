"""A folder of raw files → a partitioned Parquet dataset, a rejects table and a ledger.

Layout written under the processed folder (default `data/processed/`):

    latest -> .versions/v-<hash>        (a symlink, switched atomically at the end)
    .versions/v-<hash>/
        transactions/publisher=<slug>/financial_year=<2021-22>/<sha16>.parquet
        rejects.parquet      every row not kept: file, sheet, line, reason, detail, raw
        ledger.parquet       one row per raw file (ledger.csv too, for spreadsheets)
        extras/<sha16>.parquet  published columns outside the canonical schema, by line
        summary.txt          a short human-readable account

Readers use `latest/` (see `spendkit.datasets`). A version's name is a hash of the input files'
SHA-256s and the spendkit version, so re-running on unchanged input finds the version already
built and does nothing; a file whose SHA-256 was processed before is reused from the previous
version without being loaded again (unless `force=True`). Writes go to a staging folder that
becomes visible only through the final symlink switch, so a crash or Ctrl-C leaves `latest`
pointing at the previous complete version.

The same payments published twice (a month in two files, an annual file beside the monthly
ones) are detected by a fingerprint of (publisher, date, amount, supplier name): transaction
ids are left out because a republication often drops or renumbers them.
Rows of a later file (in path order) that repeat rows already ingested go to the rejects table
as `duplicate_publication`, naming the file they repeat, and are not counted twice.

Files load a few at a time in worker threads (`jobs`), and their rows are then handled in
batches of about BATCH_ROWS rows: fingerprinted, deduplicated, enriched and split into parts
once per batch rather than once per file, with the Parquet writes running in a small thread
pool beside the next batch. Results are taken in path order, so the output does not depend on
timing or on the batch size. Memory stays bounded by one batch, the files loading ahead and
the writes waiting (a few hundred MB for a million rows), not by the size of the raw folder.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import hashlib
import itertools
import json
import multiprocessing
import os
import re
import shutil
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import spendkit
from spendkit.enrich import Enricher
from spendkit.enrich.pipeline import TEXT_INPUTS
from spendkit.errors import BuildError, UnreadableFileError
from spendkit.loader import LoadResult, load
from spendkit.reference import catalogue
from spendkit.schema import (
    ENRICHMENT_FIELDS,
    TRANSACTION_COLUMNS,
    reject_schema,
    transaction_schema,
)
from spendkit.settings import get_settings
from spendkit.transform.text import dictionary_encoded
from spendkit.units.money import pence_from_decimal
from spendkit.units.periods import financial_year_label, start_years_of_dates

RAW_SUFFIXES = {".csv", ".txt", ".xls", ".xlsx", ".xlsm", ".zip", ".tsv"}
#: Optional published fields kept as named columns in the dataset (uniform across files).
OPTIONAL_FIELDS = ("effective_date", "expense_category", "service_division",
                   "procurement_category", "capital_or_revenue", "invoice_number")
PARQUET_OPTIONS = {"compression": "zstd", "use_dictionary": True, "write_statistics": True}
#: Dataset and extras parts: columns with (almost) one value per row get no dictionary (it
#: would be abandoned for plain encoding anyway, after the cost of building it), and min/max
#: statistics only where readers filter or prune (publisher, date, amount, IT flag, file).
#: Together this halves the cost of writing the parts and makes them smaller.
NO_DICTIONARY = frozenset({"amount_gbp", "transaction_id", "invoice_number", "source_line",
                           "row_fingerprint"})
STATISTICS = frozenset({"publisher_name", "publisher_code", "payment_date", "amount_gbp",
                        "is_it", "source_sha256", "source_line"})


def _part_options(names: list[str]) -> dict:
    """pq.write_table options for a part with these columns (see NO_DICTIONARY)."""
    return {"compression": "zstd",
            "use_dictionary": [n for n in names if n not in NO_DICTIONARY],
            "write_statistics": [n for n in names if n in STATISTICS]}


#: Wall-clock seconds per stage of the ingest runs in this process (`benchmarks/ingest.py
#: --profile` prints them). Timings only: nothing written depends on them.
STAGE_SECONDS: dict[str, float] = collections.defaultdict(float)


class _Lap:
    """Charge the time since the previous lap to a stage of STAGE_SECONDS."""

    def __init__(self) -> None:
        self._t = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        STAGE_SECONDS[stage] += now - self._t
        self._t = now


@dataclass
class FileOutcome:
    """What happened to one raw file in an ingest run."""

    path: str
    status: str  # 'loaded', 'reused', 'failed'
    ledger: dict = field(default_factory=dict)
    error: str = ""


@dataclass
class IngestSummary:
    """Result of `ingest`: where the dataset is, and one outcome per raw file."""

    version_dir: Path
    latest: Path
    files: list[FileOutcome]
    rows_kept: int
    rows_rejected: int
    duplicates: int
    kept_total_pence: int
    up_to_date: bool = False

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def kept_total_gbp(self) -> Decimal:
        return Decimal(self.kept_total_pence).scaleb(-2)

    def text(self) -> str:
        """The human-readable summary written to summary.txt."""
        lines = [
            f"spendkit {spendkit.__version__} ingest: {len(self.files)} file(s)",
            f"  kept {self.rows_kept:,} rows, total £{self.kept_total_gbp:,.2f}",
            f"  rejected {self.rows_rejected:,} rows "
            f"(of which {self.duplicates:,} duplicate publications)",
        ]
        by_status: dict[str, int] = {}
        for f in self.files:
            by_status[f.status] = by_status.get(f.status, 0) + 1
        lines.append("  files: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())))
        for f in self.failed:
            lines.append(f"  FAILED {f.path}: {f.error}")
        return "\n".join(lines) + "\n"


def slug(text: str) -> str:
    """'Leeds City Council' → 'leeds-city-council' (partition folder names)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def raw_files(raw_dir: Path) -> list[Path]:
    """Every loadable file under raw_dir, recursively, in a stable order (README/manifests
    excluded)."""
    out = []
    for p in sorted(raw_dir.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        if p.suffix.lower() not in RAW_SUFFIXES or p.name.lower().endswith("manifest.csv"):
            continue
        out.append(p)
    return out


def _dataset_schema() -> pa.Schema:
    fields = list(transaction_schema())
    fields += [pa.field(f.name, f.type) for f in ENRICHMENT_FIELDS]
    fields += [pa.field(n, pa.string()) for n in OPTIONAL_FIELDS]
    fields += [pa.field("row_fingerprint", pa.uint64())]
    return pa.schema(fields)


DATASET_SCHEMA = _dataset_schema()


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads bits so combined keys rarely collide."""
    x = x.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def _string_hashes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Stable 64-bit hash per row of a string column (nulls as ""), computed once per
    distinct value; a dictionary array is taken as already encoded."""
    encoded = dictionary_encoded(values)
    if not len(encoded.dictionary):
        return np.zeros(len(values), np.uint64)
    per_value = np.array(
        [int.from_bytes(hashlib.blake2b(v.encode(), digest_size=8).digest(), "little")
         for v in encoded.dictionary.to_pylist()], dtype=np.uint64)
    return per_value[encoded.indices.to_numpy(zero_copy_only=False)]


def _fingerprints(table: pa.Table, supplier: pa.DictionaryArray | None = None,
                  publisher: pa.DictionaryArray | None = None) -> np.ndarray:
    """Per-row fingerprint of (publisher, date, amount, supplier name in lower case).

    `supplier` and `publisher` are the table's columns already encoded by
    `dictionary_encoded`, if the caller has them (their distinct values are lower-cased and
    hashed, not every row).
    """
    n = table.num_rows
    if n == 0:
        return np.zeros(0, np.uint64)
    if supplier is None:
        supplier = dictionary_encoded(table.column("supplier_name"))
    if publisher is None:
        publisher = dictionary_encoded(table.column("publisher_name"))
    lower = pa.DictionaryArray.from_arrays(supplier.indices, pc.utf8_lower(supplier.dictionary))
    days = table.column("payment_date").cast(pa.int32()).to_numpy(zero_copy_only=False)
    pence = pence_from_decimal(table.column("amount_gbp"))
    fp = _mix(_string_hashes(lower))
    with np.errstate(over="ignore"):
        for part in (_string_hashes(publisher),
                     days.astype(np.int64).view(np.uint64), pence.view(np.uint64)):
            fp = _mix(fp ^ _mix(part + np.uint64(0x9E3779B97F4A7C15)))
    return fp


def _sha256_file(path: Path) -> str:
    # hashlib releases the GIL on large buffers, so a thread pool hashes files in parallel.
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _hash_files(files: list[Path]) -> dict[Path, str]:
    """SHA-256 of every file, a few at a time in threads."""
    workers = max(1, min(os.cpu_count() or 1, 4, len(files)))
    if workers == 1:
        return {p: _sha256_file(p) for p in files}
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return dict(zip(files, pool.map(_sha256_file, files), strict=True))


def _load_job(path: Path, rel: str, sha: str) -> tuple[Path, LoadResult | Exception]:
    """Load one file (in a worker or inline), reusing the SHA-256 computed up front."""
    try:
        result = load(path, source_name=rel, data=path.read_bytes(), sha256=sha)
    except (UnreadableFileError, OSError) as exc:
        return path, (exc if isinstance(exc, UnreadableFileError)
                      else UnreadableFileError(rel, f"cannot be read ({exc})"))
    return path, result


#: How `ingest` runs `load()` in parallel: "thread" (no start-up, no pickling of results, and
#: no `if __name__ == "__main__"` needed in the caller's script; parallel where load() runs in
#: Arrow's C++ kernels, which release the GIL) or "process" (spawned children: parallel
#: Python too, but each imports spendkit and every result is pickled back). On the 2-core
#: benchmark machine processes were the slowest of the two; threads are the default.
WORKER_KIND = "thread"


def _worker_count(n_files: int, total_bytes: int, jobs: int | None) -> int:
    """Workers to load with: parallel only when there is enough work to pay for it."""
    if jobs is not None:
        return max(1, jobs)
    if n_files < 4 or total_bytes < 16_000_000:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


@contextlib.contextmanager
def _loaded(paths: list[Path], raw: Path, shas: dict[Path, str], workers: int,
            kind: str | None = None):
    """Yield an iterator of (path, result or error) in path order.

    With several workers, files load a few at a time ahead of the consumer (memory stays
    bounded by a handful of files); results come back in path order whatever the timing.
    """
    jobs = [(p, p.relative_to(raw).as_posix(), shas[p]) for p in paths]
    if workers <= 1 or len(jobs) <= 1:
        yield (_load_job(*job) for job in jobs)
        return
    if (kind or WORKER_KIND) == "process":
        ctx = multiprocessing.get_context("spawn")  # no fork after Arrow's threads have started
        pool: concurrent.futures.Executor = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=ctx)
    else:
        pool = concurrent.futures.ThreadPoolExecutor(workers)

    def ordered():
        window: collections.deque = collections.deque()
        todo = iter(jobs)
        for job in itertools.islice(todo, 2 * workers):
            window.append(pool.submit(_load_job, *job))
        while window:
            done = window.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                window.append(pool.submit(_load_job, *nxt))
            yield done

    try:
        yield ordered()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _rejects_by_sha(prev_dir: Path) -> dict[str, pa.Table]:
    path = prev_dir / "rejects.parquet"
    if not path.exists():
        return {}
    table = pq.read_table(path)
    return {sha: table.filter(pc.equal(table.column("source_sha256"), sha))
            for sha in pc.unique(table.column("source_sha256")).to_pylist()}


# --------------------------------------------------------------------------------------------
# Duplicate publications: per publisher, the fingerprints kept so far.
#
# State per publisher: (fingerprints, sorted and distinct; times each was kept; the index of
# the first file that kept it). A row of file j is a duplicate iff its occurrence rank among
# the rows of file j with the same fingerprint is below the number of times earlier files
# kept that fingerprint; the row names the first file that kept it.

_State = tuple[np.ndarray, np.ndarray, np.ndarray]
_EMPTY_STATE: _State = (np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.int64))


def _groups(fps: np.ndarray, files: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sort rows by (fingerprint, file, row) and find the runs of equal fingerprints."""
    order = np.argsort(fps, kind="stable")  # rows arrive in (file, row) order already
    sf, sfile = fps[order], files[order]
    new_fp = np.ones(len(sf), bool)
    new_fp[1:] = sf[1:] != sf[:-1]
    return order, sf, sfile, new_fp


def _lookup(state: _State, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in state, found?) of each key (keys sorted, for a cache-friendly search)."""
    known = state[0]
    pos = np.searchsorted(known, keys)
    found = pos < len(known)
    found[found] = known[pos[found]] == keys[found]
    return pos, found


def _updated(state: _State, keys: np.ndarray, pos: np.ndarray, found: np.ndarray,
             times: np.ndarray, first: np.ndarray) -> _State:
    """state with (keys, times, first) set: known keys updated, new ones inserted in order."""
    known, t, f = state
    if found.any():
        t = t.copy()
        t[pos[found]] = times[found]
    new = ~found
    if new.any():
        at = pos[new]
        known = np.insert(known, at, keys[new])
        t = np.insert(t, at, times[new])
        f = np.insert(f, at, first[new])
    return known, t, f


def _dedupe(state: _State | None, fps: np.ndarray,
            files: np.ndarray) -> tuple[np.ndarray, np.ndarray, _State]:
    """(keep mask, file each dropped row repeats or -1, new state) for one publisher's rows.

    `fps` are the rows of several files in path order (`files` their file indices, not
    decreasing); each file is checked against the state and the files before it, as if they
    came one at a time. Most fingerprints occur once and are new: those are kept and added
    with one sort; the rest go through `_dedupe_exact`.
    """
    state = _EMPTY_STATE if state is None else state
    n = len(fps)
    keep = np.ones(n, bool)
    dup_of = np.full(n, -1, np.int64)
    if n == 0:
        return keep, dup_of, state
    order = np.argsort(fps)  # not stable: equal fingerprints are handled exactly below
    sf = fps[order]
    _pos, found = _lookup(state, sf)
    hard = found
    same = sf[1:] == sf[:-1]
    hard[1:] |= same
    hard[:-1] |= same
    if hard.any():
        rows = np.sort(order[hard])
        keep[rows], dup_of[rows], state = _dedupe_exact(state, fps[rows], files[rows])
        easy = ~hard
        order, sf = order[easy], sf[easy]
    # The rest: fingerprints seen once here and never before, kept once by their own file.
    pos, found = _lookup(state, sf)
    state = _updated(state, sf, pos, found, np.ones(len(sf), np.int64), files[order])
    return keep, dup_of, state


def _dedupe_exact(state: _State, fps: np.ndarray,
                  files: np.ndarray) -> tuple[np.ndarray, np.ndarray, _State]:
    """`_dedupe` for any rows. Within a fingerprint, the times kept before file j is the
    running maximum of the per-file counts before it (and of the state's count)."""
    n = len(fps)
    order, sf, sfile, new_fp = _groups(fps, files)
    new_run = new_fp.copy()
    new_run[1:] |= sfile[1:] != sfile[:-1]
    run_start = np.flatnonzero(new_run)
    run_len = np.diff(np.append(run_start, n))
    group = np.cumsum(new_fp) - 1
    run_group = group[run_start]
    group_start = np.flatnonzero(new_fp)
    keys = sf[group_start]
    pos, found = _lookup(state, keys)
    before = np.zeros(len(keys), np.int64)
    before[found] = state[1][pos[found]]
    first = sfile[group_start].astype(np.int64)
    first[found] = state[2][pos[found]]
    # Running max of run lengths within each group: offset each group above all earlier ones.
    offset = run_group * (n + 1)
    incl = np.maximum.accumulate(run_len + offset) - offset
    excl = np.zeros_like(incl)
    excl[1:] = incl[:-1]
    starts_group = new_fp[run_start]
    excl[starts_group] = 0
    times_before = np.maximum(excl, before[run_group])
    rank = np.arange(n) - np.repeat(run_start, run_len)
    dup_sorted = rank < np.repeat(times_before, run_len)
    keep = np.empty(n, bool)
    keep[order] = ~dup_sorted
    dup_of = np.full(n, -1, np.int64)
    dup_of[order] = np.where(dup_sorted, first[group], -1)
    last_run = np.append(starts_group[1:], True)
    times = np.maximum(before, incl[last_run])
    return keep, dup_of, _updated(state, keys, pos, found, times, first)


def _add_kept(state: _State | None, fps: np.ndarray, files: np.ndarray) -> _State:
    """state after files whose rows are all kept (files reused from the previous version)."""
    state = _EMPTY_STATE if state is None else state
    if len(fps) == 0:
        return state
    _order, sf, sfile, new_fp = _groups(fps, files)
    group_start = np.flatnonzero(new_fp)
    keys = sf[group_start]
    counts = np.diff(np.append(group_start, len(sf)))
    pos, found = _lookup(state, keys)
    times = counts.astype(np.int64)
    times[found] += state[1][pos[found]]
    first = sfile[group_start].astype(np.int64)
    first[found] = state[2][pos[found]]
    return _updated(state, keys, pos, found, times, first)


class _Seen:
    """Fingerprints kept so far, per publisher; reused files are read only when needed."""

    def __init__(self) -> None:
        self._state: dict[str, _State] = {}
        self._later: dict[str, list[tuple[int, list[Path]]]] = {}

    def remember(self, publisher: str, file: int, parts: list[Path]) -> None:
        """A reused file's kept rows (its Parquet parts), read at the next dedupe."""
        if parts:
            self._later.setdefault(publisher, []).append((file, parts))

    def dedupe(self, publisher: str, fps: np.ndarray,
               files: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """keep mask and dup_of (file index or -1) of rows of consecutive loaded files."""
        state = self._state.get(publisher)
        later = self._later.pop(publisher, None)
        if later:
            read = [pq.read_table(p, columns=["row_fingerprint"]).column("row_fingerprint")
                    .to_numpy() for _f, parts in later for p in parts]
            which = np.repeat([f for f, parts in later for _p in parts], [len(r) for r in read])
            state = _add_kept(state, np.concatenate(read).astype(np.uint64), which)
        keep, dup_of, self._state[publisher] = _dedupe(state, fps, files)
        return keep, dup_of


# --------------------------------------------------------------------------------------------
# Batches: several loaded files' rows shaped, enriched and split into parts together.

#: Rows gathered from loaded files before they are fingerprinted, deduplicated, enriched and
#: written together (whole-column work costs per batch, not per file). A batch also ends
#: before a reused file. Memory is bounded by one batch (plus one file that alone exceeds
#: it), the files loading ahead and the writes in flight.
BATCH_ROWS = 250_000


@dataclass
class _Loaded:
    index: int  # position in path order
    rel: str
    sha: str
    result: LoadResult


def _canonical(table: pa.Table) -> pa.Table:
    """The dataset's input columns of one loaded file (optional fields as strings or nulls)."""
    n = table.num_rows
    cols = [table.column(c) for c in TRANSACTION_COLUMNS]
    for name in OPTIONAL_FIELDS:
        cols.append(table.column(name).cast(pa.string()) if name in table.column_names
                    else pa.nulls(n, pa.string()))
    return pa.Table.from_arrays(cols, schema=_INPUT_SCHEMA)


_INPUT_SCHEMA = pa.schema(list(transaction_schema())
                          + [pa.field(n, pa.string()) for n in OPTIONAL_FIELDS])


@dataclass
class _Written:
    """What a batch produced for one file."""

    loaded: _Loaded
    parts: list[str]
    duplicates: int
    dataset_pence: int
    dup_rejects: pa.Table | None


def _process_batch(batch: list[_Loaded], seen: _Seen, enricher: Enricher, root: Path,
                   writer: _Writer, rels: list[str]) -> list[_Written]:
    """Fingerprint, deduplicate, enrich and write a batch of loaded files (path order)."""
    lap = _Lap()
    tables = [_canonical(b.result.table) for b in batch]
    lengths = np.array([t.num_rows for t in tables], np.int64)
    table = pa.concat_tables(tables)  # one chunk per file: a file's slice is a chunk
    member = np.repeat(np.arange(len(batch)), lengths)  # batch position of each row
    index = np.array([b.index for b in batch], np.int64)
    # Text columns encoded once, for the fingerprints, the enrichment and the partitions.
    enc = {c: dictionary_encoded(table.column(c)) for c in ("publisher_name", *TEXT_INPUTS)}
    lap("batch: concat")
    fps = _fingerprints(table, enc["supplier_name"], enc["publisher_name"])
    lap("batch: fingerprints")
    keep = np.ones(table.num_rows, bool)
    dup_of = np.full(table.num_rows, -1, np.int64)
    pubs = [b.result.ledger.publisher_name for b in batch]
    pub_codes = {p: k for k, p in enumerate(dict.fromkeys(pubs))}
    row_pub = np.array([pub_codes[p] for p in pubs], np.int64)[member]
    for pub, k in pub_codes.items():
        rows = np.arange(table.num_rows) if len(pub_codes) == 1 else np.flatnonzero(row_pub == k)
        keep[rows], dup_of[rows] = seen.dedupe(pub, fps[rows], index[member[rows]])
    lap("batch: dedupe")

    kept = table
    if not keep.all():
        mask = pa.array(keep)
        kept = table.filter(mask)
        enc = {c: e.filter(mask) for c, e in enc.items()}
    kept_counts = np.bincount(member[keep], minlength=len(batch))
    inputs = pa.table({**{c: enc[c] for c in TEXT_INPUTS},
                       "amount_gbp": kept.column("amount_gbp")})
    enriched = enricher.enrich_arrow(inputs, segments=kept_counts.tolist())
    lap("batch: enrich")
    columns = {**{c: kept.column(c) for c in kept.column_names},
               **{f.name: enriched.column(f.name) for f in ENRICHMENT_FIELDS},
               "row_fingerprint": pa.array(fps[keep], pa.uint64())}
    data = pa.Table.from_arrays([columns[name] for name in DATASET_SCHEMA.names],
                                schema=DATASET_SCHEMA)
    pence = np.concatenate([[0], np.cumsum(pence_from_decimal(data.column("amount_gbp")))])
    bounds = np.concatenate([[0], np.cumsum(kept_counts)])
    lap("batch: shape")

    # Each file's rows go to one part per (publisher, financial year), in their original
    # order. Parts are ranked like their labels "publisher\x00year"; files almost always
    # hold one part, or several in sequence: only a file whose parts interleave is sorted.
    if data.column("payment_date").null_count:
        raise BuildError("a kept row has no payment_date (load() should have rejected it)")
    publishers = enc["publisher_name"].dictionary.to_pylist()
    by_name = sorted(range(len(publishers)), key=publishers.__getitem__)
    pub_rank = np.empty(len(publishers), np.int64)
    pub_rank[by_name] = np.arange(len(publishers))
    fy = start_years_of_dates(data.column("payment_date"))
    fy_min = int(fy.min()) if len(fy) else 0
    span = int(fy.max()) - fy_min + 1 if len(fy) else 1
    row_rank = pub_rank[enc["publisher_name"].indices.to_numpy(zero_copy_only=False)] * span \
        + (fy - fy_min)
    kept_member = member[keep]
    down = np.flatnonzero(row_rank[1:] < row_rank[:-1]) + 1
    interleaved = set(kept_member[down[kept_member[down] == kept_member[down - 1]]].tolist())
    lap("batch: split")

    out = []
    for i, b in enumerate(batch):
        sha16 = b.sha[:16]
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        rows, part_rank = data.slice(lo, hi - lo), row_rank[lo:hi]
        if i in interleaved:
            order = np.argsort(part_rank, kind="stable")
            rows, part_rank = rows.take(pa.array(order)), part_rank[order]
        starts = np.flatnonzero(np.r_[True, part_rank[1:] != part_rank[:-1]]) \
            if hi > lo else np.zeros(0, np.int64)
        ends = np.append(starts[1:], hi - lo) if hi > lo else starts
        parts = []
        for a, z in zip(starts.tolist(), ends.tolist(), strict=True):
            pub, year = divmod(int(part_rank[a]), span)
            rel = (f"transactions/publisher={slug(publishers[by_name[pub]])}/"
                   f"financial_year={financial_year_label(year + fy_min)}/{sha16}.parquet")
            parts.append((rel, rows if z - a == rows.num_rows else rows.slice(a, z - a)))
        written = _write_parts(parts, root, writer)
        lo, hi = int(lengths[:i].sum()), int(lengths[:i + 1].sum())
        file_keep = keep[lo:hi]
        _write_extras(b.result.table, file_keep, root / "extras" / f"{sha16}.parquet", writer)
        n_dup = int(len(file_keep) - file_keep.sum())
        out.append(_Written(
            b, written, n_dup, int(pence[bounds[i + 1]] - pence[bounds[i]]),
            _duplicate_rejects(b.result.table, file_keep, dup_of[lo:hi], rels) if n_dup
            else None))
    lap("batch: per-file parts, extras, rejects")
    return out


def _write_extras(table: pa.Table, keep: np.ndarray, dest: Path, writer: _Writer) -> None:
    """Published columns outside the dataset, of the kept rows, keyed by line."""
    extras_cols = [c for c in table.column_names
                   if c not in TRANSACTION_COLUMNS and c not in OPTIONAL_FIELDS]
    if not extras_cols:
        return
    if not keep.all():
        table = table.filter(pa.array(keep))
    if not table.num_rows:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    writer.write(table.select(["source_file", "source_sheet", "source_line", *extras_cols]),
                 dest)


def _write_parts(parts: list[tuple[str, pa.Table]], root: Path, writer: _Writer) -> list[str]:
    """Write one file's Parquet parts (one per publisher and financial year); return paths."""
    for rel, part in parts:
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        # The financial year lives in the path only (hive style): a column of the same name
        # inside the files makes pandas/pyarrow refuse to merge the two.
        writer.write(part, dest)
    return [rel for rel, _part in parts]


class _Writer:
    """Parquet writes in a small thread pool, beside the next batch's work.

    Parquet encoding releases the GIL, and file contents do not depend on when they are
    written. At most `limit` writes wait at a time, so pending tables do not pile up.
    """

    def __init__(self, threads: int = 2, limit: int = 64) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads)
        self._pending: collections.deque[concurrent.futures.Future] = collections.deque()
        self._limit = limit

    def write(self, table: pa.Table, dest: Path) -> None:
        while len(self._pending) >= self._limit:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(pq.write_table, table, dest,
                                               **_part_options(table.column_names)))

    def drain(self) -> None:
        """Wait for queued writes; re-raise the first error."""
        while self._pending:
            self._pending.popleft().result()

    def close(self, cancel: bool = False) -> None:
        if cancel:
            self._pending.clear()
        self._pool.shutdown(wait=True, cancel_futures=cancel)


def _link_or_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


#: Code that decides the ingest's output (with the package data the catalogue marks
#: `affects_ingest`): a change here means a new build, not stale data.
_INGEST_CODE = ("extract", "transform", "enrich", "units", "loader.py", "ingest", "schema.py",
                "errors.py", "reference/councils.py", "reference/catalogue.py")


def _code_fingerprint() -> str:
    """Hash of the spendkit code and reference data the ingest output depends on."""
    root = Path(spendkit.__file__).resolve().parent
    h = hashlib.sha256(spendkit.__version__.encode())
    files = []
    for name in _INGEST_CODE:
        target = root / name
        files += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    files += catalogue.ingest_inputs()
    for p in files:
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def _version_name(shas: Iterable[str]) -> str:
    h = hashlib.sha256(_code_fingerprint().encode())
    for s in sorted(shas):
        h.update(s.encode())
    return "v-" + h.hexdigest()[:16]


def _previous_state(latest: Path) -> dict[str, dict]:
    """sha256 → ledger row of the files in the current version (for reuse).

    Only a version built by the same code is reused file by file: after a change to the
    loader or the rules every file is loaded again.
    """
    ledger = latest / "ledger.parquet"
    stamp = latest / "CODE"
    if not ledger.exists() or not stamp.exists() or \
            stamp.read_text(encoding="utf-8").strip() != _code_fingerprint():
        return {}
    rows = pq.read_table(ledger).to_pylist()
    return {r["source_sha256"]: r for r in rows if r["status"] != "failed" and r["source_sha256"]}


def ingest(raw_dir: Path | str | None = None, out_dir: Path | str | None = None, *,
           force: bool = False, progress: bool | None = None,
           jobs: int | None = None) -> IngestSummary:
    """Load every raw file under raw_dir and write the processed dataset to out_dir.

    Args:
        raw_dir: folder of published files (default: settings' data/raw).
        out_dir: processed folder (default: settings' data/processed).
        force: reload every file even if its SHA-256 was processed before.
        progress: show a progress bar (default: only when stderr is a terminal).
        jobs: workers loading files at once (threads, see WORKER_KIND; default: one per core
            when there is enough to load, else 1).

    Returns:
        IngestSummary; files that could not be read are listed in `.failed` (the rest of
        the batch is still written).
    """
    settings = get_settings()
    raw = Path(raw_dir) if raw_dir else settings.raw_dir
    out = Path(out_dir) if out_dir else settings.processed_dir
    if not raw.is_dir():
        raise BuildError(f"{raw}: raw folder not found (put published files in it)")
    files = raw_files(raw)
    if not files:
        raise BuildError(f"{raw}: no CSV, XLS, XLSX or ZIP files found")
    out.mkdir(parents=True, exist_ok=True)
    with _lock(out):
        return _ingest_locked(raw, out, files, force, progress, jobs)


@contextlib.contextmanager
def _lock(out: Path):
    """One ingest at a time per processed folder (notebooks may start several at once)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; runs are rarely concurrent there
        yield
        return
    with open(out / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _ingest_locked(raw: Path, out: Path, files: list[Path], force: bool,
                   progress: bool | None, jobs: int | None) -> IngestSummary:
    latest = out / "latest"
    versions = out / ".versions"
    STAGE_SECONDS.clear()
    lap = _Lap()
    blobs = _hash_files(files)
    lap("hash files")
    version = _version_name(blobs.values())
    target = versions / version
    if not force and target.is_dir() and latest.resolve() == target.resolve():
        summary = _summary_from(target)
        summary.up_to_date = True
        return summary

    previous = {} if force else _previous_state(latest)
    prev_dir = latest.resolve() if latest.exists() else None
    staging = versions / f".staging-{version}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)

    show = sys.stderr.isatty() if progress is None else progress
    rels = [p.relative_to(raw).as_posix() for p in files]
    outcomes: list[FileOutcome | None] = [None] * len(files)
    rejects: list[list[pa.Table]] = [[] for _ in files]
    seen = _Seen()
    enricher = Enricher()  # one per run: canonical supplier names stay stable across files
    prev_rejects = _rejects_by_sha(prev_dir) if previous and prev_dir is not None else {}
    reuse = {p for p, rel in zip(files, rels, strict=True)
             if (prior := previous.get(blobs[p])) and prev_dir is not None
             and prior.get("source_file") == rel}
    to_load = [p for p in files if p not in reuse]
    size = sum(p.stat().st_size for p in to_load)
    workers = _worker_count(len(to_load), size, jobs)
    writer = _Writer()
    batch: list[_Loaded] = []
    batch_rows = 0
    lap("setup (previous state, rules)")
    try:
        with _progress(show, len(files)) as bar, \
                _loaded(to_load, raw, blobs, workers) as loaded:
            def flush() -> None:
                nonlocal batch, batch_rows
                if not batch:
                    return
                written = _process_batch(batch, seen, enricher, staging, writer, rels)
                rows_lap = _Lap()
                for w in written:
                    b = w.loaded
                    rej = [_with_sha(b.result.rejects_table, b.sha)]
                    if w.dup_rejects is not None:
                        rej.append(_with_sha(w.dup_rejects, b.sha))
                    rejects[b.index] = rej
                    led = _ledger_row(b.result, b.rel, w.parts, w.duplicates, w.dataset_pence)
                    outcomes[b.index] = FileOutcome(b.rel, "loaded", led)
                    bar.advance(b.rel, b.result.ledger.rows_read)
                rows_lap("batch: ledger rows")
                batch, batch_rows = [], 0

            for i, path in enumerate(files):
                rel, sha = rels[i], blobs[path]
                if path in reuse:
                    flush()  # the files before it decide what its rows repeat
                    lap = _Lap()
                    prior = previous[sha]
                    parts = json.loads(prior.get("parts") or "[]")
                    _reuse(prev_dir, staging, parts, sha[:16])
                    if sha in prev_rejects:
                        rejects[i] = [prev_rejects[sha]]
                    seen.remember(prior["publisher_name"], i, [staging / p for p in parts])
                    outcomes[i] = FileOutcome(rel, "reused", prior)
                    bar.advance(rel, prior.get("rows_read", 0))
                    continue
                lap("ingest loop")
                got_path, result = next(loaded)
                lap("load (waiting for results)")
                assert got_path == path
                if isinstance(result, Exception):
                    outcomes[i] = FileOutcome(rel, "failed", {"source_file": rel,
                                                              "source_sha256": sha},
                                              str(result))
                    bar.advance(rel, 0)
                    continue
                batch.append(_Loaded(i, rel, sha, result))
                batch_rows += result.table.num_rows
                if batch_rows >= BATCH_ROWS:
                    flush()
                    lap = _Lap()
            flush()
            lap = _Lap()
        writer.drain()
        lap("write: drain")
        done = [o for o in outcomes if o is not None]
        duplicates = sum(int(o.ledger.get("duplicate_rows", 0)) for o in done
                         if o.status == "loaded")
        summary = _finish(staging, done, [t for ts in rejects for t in ts], duplicates)
        final = versions / version
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        _switch(latest, final)
        lap("finish: ledger, rejects, switch")
        _prune(versions, keep={final.name, prev_dir.name if prev_dir else ""})
    except BaseException:
        writer.close(cancel=True)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    writer.close()
    summary.version_dir = final
    summary.latest = latest
    return summary


def _with_sha(rejects: pa.Table, sha: str) -> pa.Table:
    return rejects.append_column("source_sha256", pa.array([sha] * rejects.num_rows,
                                                           pa.string()))


def _duplicate_rejects(table: pa.Table, keep: np.ndarray, dup_of: np.ndarray,
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


def _ledger_row(result: LoadResult, rel: str, parts: list[str], duplicates: int,
                dataset_pence: int) -> dict:
    led = result.ledger
    return {
        "source_file": rel, "source_sha256": led.source_sha256, "status": "loaded",
        "format": led.format, "file_kind": led.file_kind, "encoding": led.encoding,
        "delimiter": led.delimiter, "parse_path": led.parse_path,
        "publisher_name": led.publisher_name, "publisher_code": led.publisher_code,
        "publisher_basis": led.publisher_basis, "vat_basis": led.vat_basis,
        "threshold_gbp": led.threshold_gbp, "header_line": led.header_line or 0,
        "sheets": "|".join(led.sheets), "rows_read": led.rows_read, "rows_kept": led.rows_kept,
        "rows_rejected": led.rows_rejected,
        "rejected_by_reason": json.dumps(led.rejected_by_reason, sort_keys=True),
        "blank_rows_skipped": led.blank_rows_skipped,
        "preamble_rows_skipped": led.preamble_rows_skipped,
        "kept_total_gbp": str(led.kept_total_gbp), "duplicate_rows": duplicates,
        "dataset_rows": led.rows_kept - duplicates,
        "dataset_total_gbp": str(Decimal(dataset_pence).scaleb(-2)),
        "date_format": led.date_format,
        "column_mapping": json.dumps(led.column_mapping, ensure_ascii=False),
        "warnings": " | ".join(led.warnings), "parts": json.dumps(parts), "error": "",
    }


def _reuse(prev_dir: Path, staging: Path, parts: list[str], sha16: str) -> None:
    for rel in parts:
        _link_or_copy(prev_dir / rel, staging / rel)
    ex = prev_dir / "extras" / f"{sha16}.parquet"
    if ex.exists():
        _link_or_copy(ex, staging / "extras" / ex.name)


LEDGER_COLUMNS = (
    "source_file", "source_sha256", "status", "format", "file_kind", "encoding", "delimiter",
    "parse_path", "publisher_name", "publisher_code", "publisher_basis", "vat_basis",
    "threshold_gbp", "header_line", "sheets", "rows_read", "rows_kept", "rows_rejected",
    "rejected_by_reason", "blank_rows_skipped", "preamble_rows_skipped", "kept_total_gbp",
    "duplicate_rows", "dataset_rows", "dataset_total_gbp", "date_format", "column_mapping",
    "warnings", "parts", "error",
)
_INT_COLUMNS = {"header_line", "rows_read", "rows_kept", "rows_rejected", "blank_rows_skipped",
                "preamble_rows_skipped", "duplicate_rows", "dataset_rows"}


def _ledger_table(outcomes: list[FileOutcome]) -> pa.Table:
    rows = []
    for o in outcomes:
        row = {c: (0 if c in _INT_COLUMNS else "") for c in LEDGER_COLUMNS}
        row.update({k: v for k, v in o.ledger.items() if k in row})
        row["source_file"], row["status"] = o.path, ("failed" if o.status == "failed"
                                                      else "loaded")
        if o.status == "failed":
            row["error"] = o.error
        rows.append(row)
    schema = pa.schema([(c, pa.int64() if c in _INT_COLUMNS else pa.string())
                        for c in LEDGER_COLUMNS])
    return pa.Table.from_pylist(rows, schema=schema)


def _finish(staging: Path, outcomes: list[FileOutcome], reject_tables: list[pa.Table],
            duplicates: int) -> IngestSummary:
    ledger = _ledger_table(outcomes)
    pq.write_table(ledger, staging / "ledger.parquet", **PARQUET_OPTIONS)
    ledger.to_pandas().to_csv(staging / "ledger.csv", index=False, lineterminator="\n")
    schema = reject_schema().append(pa.field("source_sha256", pa.string()))
    rejects = (pa.concat_tables([t.cast(schema) for t in reject_tables]) if reject_tables
               else schema.empty_table())
    rejects = rejects.sort_by([("source_file", "ascending"), ("source_sheet", "ascending"),
                               ("source_line", "ascending"), ("reason", "ascending")])
    pq.write_table(rejects, staging / "rejects.parquet", **PARQUET_OPTIONS)
    summary = _summary_from_ledger(ledger, staging, outcomes, duplicates)
    (staging / "summary.txt").write_text(summary.text(), encoding="utf-8")
    (staging / "CODE").write_text(_code_fingerprint() + "\n", encoding="utf-8")
    return summary


def _summary_from_ledger(ledger: pa.Table, version: Path, outcomes: list[FileOutcome],
                         duplicates: int) -> IngestSummary:
    rows = ledger.to_pylist()
    kept = sum(r["dataset_rows"] for r in rows)
    rejected = sum(r["rows_rejected"] + r["duplicate_rows"] for r in rows)
    total = sum(int(Decimal(r["dataset_total_gbp"] or "0") * 100) for r in rows)
    return IngestSummary(version, version, outcomes, kept, rejected, duplicates, total)


def _summary_from(version: Path) -> IngestSummary:
    ledger = pq.read_table(version / "ledger.parquet")
    rows = ledger.to_pylist()
    outcomes = [FileOutcome(r["source_file"], "failed" if r["status"] == "failed" else
                            "reused", r, r["error"]) for r in rows]
    dups = sum(r["duplicate_rows"] for r in rows)
    return _summary_from_ledger(ledger, version, outcomes, dups)


def _switch(latest: Path, target: Path) -> None:
    """Point `latest` at target atomically (rename of a fresh symlink over the old one)."""
    tmp = latest.with_name(f".latest-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    rel = os.path.relpath(target, latest.parent)
    try:
        os.symlink(rel, tmp, target_is_directory=True)
        os.replace(tmp, latest)
    except OSError:
        # No symlinks (e.g. Windows without developer mode): fall back to a pointer file.
        if latest.is_symlink():
            latest.unlink()
        (latest.parent / "LATEST").write_text(rel + "\n", encoding="utf-8")


def _prune(versions: Path, keep: set[str]) -> None:
    for p in versions.iterdir():
        if p.name not in keep and not p.name.startswith(".staging-"):
            shutil.rmtree(p, ignore_errors=True)


class _progress:
    """A rich progress bar over files (with rows read), or nothing when not on a terminal."""

    def __init__(self, show: bool, total: int) -> None:
        self.show, self.total, self.rows = show, total, 0
        self._bar = None

    def __enter__(self) -> _progress:
        if self.show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rows]:,} rows  {task.fields[name]}"),
                                 transient=False)
            self._bar.__enter__()
            self._task = self._bar.add_task("ingest", total=self.total, rows=0, name="")
        return self

    def advance(self, name: str, rows: int) -> None:
        self.rows += rows
        if self._bar is not None:
            self._bar.update(self._task, advance=1, rows=self.rows, name=name[-50:])

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
