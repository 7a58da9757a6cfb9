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
from spendkit.errors import SpendkitError, UnreadableFileError
from spendkit.fields import (
    ENRICHMENT_FIELDS,
    TRANSACTION_COLUMNS,
    reject_schema,
    transaction_schema,
)
from spendkit.load import LoadResult, load
from spendkit.settings import get_settings

RAW_SUFFIXES = {".csv", ".txt", ".xls", ".xlsx", ".xlsm", ".zip", ".tsv"}
#: Optional published fields kept as named columns in the dataset (uniform across files).
OPTIONAL_FIELDS = ("effective_date", "expense_category", "service_division",
                   "procurement_category", "capital_or_revenue", "invoice_number")
PARQUET_OPTIONS = {"compression": "zstd", "use_dictionary": True, "write_statistics": True}


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


class IngestError(SpendkitError):
    """The raw folder cannot be ingested at all (missing, empty)."""


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


def financial_year_labels(dates: pa.Array) -> pa.Array:
    """'2021-22' for dates from 1 April 2021 to 31 March 2022 (Arrow, on whole columns)."""
    year = pc.year(dates)
    start = pc.if_else(pc.less(pc.month(dates), 4), pc.subtract(year, 1), year)
    nxt = pc.cast(pc.add(start, 1), pa.string())
    return pc.binary_join_element_wise(
        pc.cast(start, pa.string()), pc.utf8_slice_codeunits(nxt, 2, 4), "-")


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


def _string_hashes(values: pa.Array) -> np.ndarray:
    """Stable 64-bit hash per row of a string column, computed once per distinct value."""
    encoded = pc.dictionary_encode(values.fill_null(""))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    per_value = np.array(
        [int.from_bytes(hashlib.blake2b(v.encode(), digest_size=8).digest(), "little")
         for v in encoded.dictionary.to_pylist()], dtype=np.uint64)
    return per_value[encoded.indices.to_numpy(zero_copy_only=False)] if len(per_value) else \
        np.zeros(len(values), np.uint64)


def _fingerprints(table: pa.Table) -> np.ndarray:
    """Per-row fingerprint of (publisher, date, amount, supplier name in lower case)."""
    n = table.num_rows
    if n == 0:
        return np.zeros(0, np.uint64)
    days = table.column("payment_date").cast(pa.int32()).to_numpy(zero_copy_only=False)
    pence = _pence(table.column("amount_gbp"))
    fp = _mix(_string_hashes(pc.utf8_lower(table.column("supplier_name"))))
    with np.errstate(over="ignore"):
        for part in (_string_hashes(table.column("publisher_name")),
                     days.astype(np.int64).view(np.uint64), pence.view(np.uint64)):
            fp = _mix(fp ^ _mix(part + np.uint64(0x9E3779B97F4A7C15)))
    return fp


def _pence(amounts: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """int64 pence from a decimal128(18, 2) column, read straight from its buffer."""
    arr = amounts.combine_chunks() if isinstance(amounts, pa.ChunkedArray) else amounts
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    return words[2 * arr.offset: 2 * (arr.offset + len(arr)): 2].copy()


def _load_job(path: Path, rel: str) -> tuple[Path, LoadResult | Exception, np.ndarray | None]:
    """Load one file (in a worker process or inline) and fingerprint its rows."""
    try:
        result = load(path, source_name=rel, data=path.read_bytes())
    except (UnreadableFileError, OSError) as exc:
        return path, (exc if isinstance(exc, UnreadableFileError)
                      else UnreadableFileError(rel, f"cannot be read ({exc})")), None
    return path, result, _fingerprints(result.table)


def _worker_count(n_files: int, total_bytes: int, jobs: int | None) -> int:
    """Processes to load with: parallel only when there is enough work to pay for start-up."""
    if jobs is not None:
        return max(1, jobs)
    if n_files < 4 or total_bytes < 16_000_000:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


@contextlib.contextmanager
def _loaded(paths: list[Path], raw: Path, workers: int):
    """Yield an iterator of (path, result, fingerprints) in path order.

    With several workers, files load in child processes a few at a time (memory stays bounded
    by a handful of files); the parent keeps the order, so output does not depend on timing.
    """
    rels = [p.relative_to(raw).as_posix() for p in paths]
    if workers <= 1:
        yield (_load_job(p, r) for p, r in zip(paths, rels, strict=True))
        return
    ctx = multiprocessing.get_context("spawn")  # no fork after Arrow's threads have started
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        def ordered():
            window: collections.deque = collections.deque()
            jobs = iter(zip(paths, rels, strict=True))
            for p, r in itertools.islice(jobs, 2 * workers):
                window.append(pool.submit(_load_job, p, r))
            while window:
                done = window.popleft().result()
                nxt = next(jobs, None)
                if nxt is not None:
                    window.append(pool.submit(_load_job, *nxt))
                yield done
        yield ordered()


def _rejects_by_sha(prev_dir: Path) -> dict[str, pa.Table]:
    path = prev_dir / "rejects.parquet"
    if not path.exists():
        return {}
    table = pq.read_table(path)
    return {sha: table.filter(pc.equal(table.column("source_sha256"), sha))
            for sha in pc.unique(table.column("source_sha256")).to_pylist()}


def _shape(result: LoadResult, fingerprints: np.ndarray, keep: np.ndarray,
           enricher: Enricher) -> tuple[pa.Table, pa.Table]:
    """(dataset rows, extras) from a loaded file, dropping duplicate rows."""
    table = result.table.filter(pa.array(keep)) if not keep.all() else result.table
    fps = fingerprints[keep]
    extras_cols = [c for c in table.column_names
                   if c not in TRANSACTION_COLUMNS and c not in OPTIONAL_FIELDS]
    extras = table.select(["source_file", "source_sheet", "source_line", *extras_cols])
    data = enricher.enrich_arrow(table.select(list(TRANSACTION_COLUMNS)))
    n = data.num_rows
    for name in OPTIONAL_FIELDS:
        col = table.column(name) if name in table.column_names else pa.nulls(n, pa.string())
        data = data.append_column(name, col.cast(pa.string()))
    data = data.append_column("row_fingerprint", pa.array(fps, pa.uint64()))
    return data.select(DATASET_SCHEMA.names).cast(DATASET_SCHEMA), extras


def _write_parts(data: pa.Table, root: Path, sha16: str,
                 writer: concurrent.futures.Executor | None = None) -> list[str]:
    """Write one Parquet file per (publisher, financial year) present; return relative paths.

    With a writer (a thread pool) the writes run beside the next file's work: Parquet
    encoding releases the GIL, and file contents do not depend on when they are written.
    """
    written = []
    if data.num_rows == 0:
        return written
    keys = pc.binary_join_element_wise(data.column("publisher_name"),
                                       financial_year_labels(data.column("payment_date")), "\x00")
    encoded = pc.dictionary_encode(keys)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    labels = encoded.dictionary.to_pylist()
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for rows in sorted(np.split(order, bounds), key=lambda r: labels[codes[r[0]]]):
        pub, year = labels[codes[rows[0]]].split("\x00")
        part = data.take(pa.array(rows)) if len(rows) != data.num_rows else data
        rel = f"transactions/publisher={slug(pub)}/financial_year={year}/{sha16}.parquet"
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        # The financial year lives in the path only (hive style): a column of the same name
        # inside the files makes pandas/pyarrow refuse to merge the two.
        if writer is None:
            pq.write_table(part, dest, **PARQUET_OPTIONS)
        else:
            _pending.append(writer.submit(pq.write_table, part, dest, **PARQUET_OPTIONS))
        written.append(rel)
    return written


_pending: list[concurrent.futures.Future] = []


def _drain() -> None:
    """Wait for queued writes; re-raise the first error."""
    while _pending:
        _pending.pop(0).result()


def _link_or_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


#: What decides the ingest's output: a change here means a new build, not stale data.
_INGEST_CODE = ("extract", "transform", "enrich", "load.py", "ingest.py", "fields.py",
                "publishers.py", "package_data/column_aliases.csv",
                "package_data/publisher_profiles.csv", "package_data/mysociety",
                "package_data/suppliers.csv", "package_data/it_rules.csv",
                "package_data/expense_labels.csv", "package_data/it_taxonomy.csv")


def _code_fingerprint() -> str:
    """Hash of the spendkit code and reference data the ingest output depends on."""
    root = Path(spendkit.__file__).resolve().parent
    h = hashlib.sha256(spendkit.__version__.encode())
    for name in _INGEST_CODE:
        target = root / name
        files = sorted(target.rglob("*")) if target.is_dir() else [target]
        for p in files:
            if p.is_file() and p.suffix in (".py", ".csv") and "__pycache__" not in p.parts:
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
        jobs: processes to load files with (default: one per core when the batch is large
            enough to pay for starting them, else 1).

    Returns:
        IngestSummary; files that could not be read are listed in `.failed` (the rest of
        the batch is still written).
    """
    settings = get_settings()
    raw = Path(raw_dir) if raw_dir else settings.raw_dir
    out = Path(out_dir) if out_dir else settings.processed_dir
    if not raw.is_dir():
        raise IngestError(f"{raw}: raw folder not found (put published files in it)")
    files = raw_files(raw)
    if not files:
        raise IngestError(f"{raw}: no CSV, XLS, XLSX or ZIP files found")
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
    blobs = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
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
    outcomes: list[FileOutcome] = []
    reject_tables: list[pa.Table] = []
    seen: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # publisher → (sorted fps, files)
    seen_files: list[str] = []
    duplicates = 0
    enricher = Enricher()  # one per run: canonical supplier names stay stable across files
    prev_rejects = _rejects_by_sha(prev_dir) if previous and prev_dir is not None else {}
    reuse = {p for p in files if (prior := previous.get(blobs[p])) and prev_dir is not None
             and prior.get("source_file") == p.relative_to(raw).as_posix()}
    to_load = [p for p in files if p not in reuse]
    size = sum(p.stat().st_size for p in to_load)
    workers = _worker_count(len(to_load), size, jobs)
    writer = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    try:
        with _progress(show, len(files)) as bar, _loaded(to_load, raw, workers) as loaded:
            for path in files:
                rel = path.relative_to(raw).as_posix()
                sha = blobs[path]
                sha16 = sha[:16]
                if path in reuse:
                    prior = previous[sha]
                    _reuse(prev_dir, staging, prior, sha16)
                    if sha in prev_rejects:
                        reject_tables.append(prev_rejects[sha])
                    _remember(seen, seen_files, staging, prior, rel)
                    outcomes.append(FileOutcome(rel, "reused", prior))
                    bar.advance(rel, prior.get("rows_read", 0))
                    continue
                got_path, result, fps = next(loaded)
                assert got_path == path
                if isinstance(result, Exception):
                    outcomes.append(FileOutcome(rel, "failed", {"source_file": rel,
                                                                "source_sha256": sha},
                                                str(result)))
                    bar.advance(rel, 0)
                    continue
                keep, dup_of = _dedupe(seen, fps, result.ledger.publisher_name)
                dup_rejects = _duplicate_rejects(result, keep, dup_of, seen_files)
                duplicates += int((~keep).sum())
                data, extras = _shape(result, fps, keep, enricher)
                parts = _write_parts(data, staging, sha16, writer)
                if extras.num_columns > 3 and extras.num_rows:
                    ex = staging / "extras" / f"{sha16}.parquet"
                    ex.parent.mkdir(parents=True, exist_ok=True)
                    pq.write_table(extras, ex, **PARQUET_OPTIONS)
                rej = _with_sha(result.rejects_table, sha)
                if dup_rejects is not None:
                    rej = pa.concat_tables([rej, _with_sha(dup_rejects, sha)])
                reject_tables.append(rej)
                led = _ledger_row(result, rel, parts, int((~keep).sum()),
                                  int(_sum_pence(data)))
                outcomes.append(FileOutcome(rel, "loaded", led))
                _add_seen(seen, seen_files, result.ledger.publisher_name, fps[keep], rel)
                bar.advance(rel, result.ledger.rows_read)
        _drain()
        summary = _finish(staging, outcomes, reject_tables, duplicates)
        final = versions / version
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        _switch(latest, final)
        _prune(versions, keep={final.name, prev_dir.name if prev_dir else ""})
    except BaseException:
        _pending.clear()
        writer.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    writer.shutdown(wait=True)
    summary.version_dir = final
    summary.latest = latest
    return summary


def _with_sha(rejects: pa.Table, sha: str) -> pa.Table:
    return rejects.append_column("source_sha256", pa.array([sha] * rejects.num_rows,
                                                           pa.string()))


def _sum_pence(data: pa.Table) -> int:
    return int(_pence(data.column("amount_gbp")).sum()) if data.num_rows else 0


def _dedupe(seen: dict, fps: np.ndarray, publisher: str) -> tuple[np.ndarray, np.ndarray]:
    """keep mask, and the index (into seen_files) of the file each dropped row repeats."""
    keep = np.ones(len(fps), bool)
    dup_of = np.full(len(fps), -1, np.int64)
    prior = seen.get(publisher)
    if prior is None or len(fps) == 0 or len(prior[0]) == 0:
        return keep, dup_of
    known, owner = prior
    left = np.searchsorted(known, fps, side="left")
    times_seen = np.searchsorted(known, fps, side="right") - left
    # Multiset: a payment repeated k times here is a duplicate only up to the times seen.
    order = np.argsort(fps, kind="stable")
    sorted_fps = fps[order]
    starts = np.r_[0, np.flatnonzero(sorted_fps[1:] != sorted_fps[:-1]) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(fps)]))
    ranks = np.empty(len(fps), np.int64)
    ranks[order] = np.arange(len(fps)) - run_start
    dup = ranks < times_seen
    keep[dup] = False
    dup_of[dup] = owner[left[dup]]
    return keep, dup_of


def _add_seen(seen: dict, seen_files: list[str], publisher: str, fps: np.ndarray,
              rel: str) -> None:
    seen_files.append(rel)
    idx = np.full(len(fps), len(seen_files) - 1, np.int64)
    if publisher in seen:
        known, owner = seen[publisher]
        fps = np.concatenate([known, fps])
        idx = np.concatenate([owner, idx])
    order = np.argsort(fps, kind="stable")
    seen[publisher] = (fps[order], idx[order])


def _remember(seen: dict, seen_files: list[str], staging: Path, prior: dict, rel: str) -> None:
    parts = json.loads(prior.get("parts") or "[]")
    if not parts:
        seen_files.append(rel)
        return
    table = pa.concat_tables([pq.read_table(staging / p, columns=["row_fingerprint"])
                              for p in parts])
    fps = table.column("row_fingerprint").to_numpy()
    _add_seen(seen, seen_files, prior["publisher_name"], fps, rel)


def _duplicate_rejects(result: LoadResult, keep: np.ndarray, dup_of: np.ndarray,
                       seen_files: list[str]) -> pa.Table | None:
    if keep.all():
        return None
    idx = np.flatnonzero(~keep)
    t = result.table.take(pa.array(idx))
    return pa.table({
        "source_file": t.column("source_file"),
        "source_sheet": t.column("source_sheet"),
        "source_line": t.column("source_line"),
        "reason": pa.array(["duplicate_publication"] * len(idx), pa.string()),
        "detail": pa.array([f"repeats a payment in {seen_files[int(i)]}"
                            for i in dup_of[idx]], pa.string()),
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


def _reuse(prev_dir: Path, staging: Path, prior: dict, sha16: str) -> None:
    for rel in json.loads(prior.get("parts") or "[]"):
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
