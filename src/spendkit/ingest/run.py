"""`ingest()`: a raw folder → a new published version of the processed dataset.

The steps, each in its own module: find the raw files (`sources`), take the lock (`lock`),
check the latest version against its manifest (`versions`), load or reuse every file and cut
its rows into segments (`batches`, `dedupe`), write one Parquet file per publisher × financial
year with the extras and rejects (`write`), the ledger and summary (`ledger`), and publish the
build atomically (`versions`). The output depends only on the inputs (the raw files' paths and
bytes, the code and its reference data): a fresh build, an incremental one and a forced one
give the same bytes.
"""

from __future__ import annotations

import json
import shutil
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from spendkit.enrich import Enricher
from spendkit.errors import BuildError, UnreadableFileError
from spendkit.ingest import batches, siblings, sources, versions
from spendkit.ingest.batches import FileDone, FileRows
from spendkit.ingest.dedupe import Seen
from spendkit.ingest.ledger import (
    SUMMARY_TXT,
    FileOutcome,
    IngestSummary,
    ledger_table,
    loaded_row,
    summary_from_rows,
    summary_of_version,
    unread_row,
    write_ledger,
)
from spendkit.ingest.lock import locked
from spendkit.ingest.stages import STAGE_CPU, STAGE_SECONDS, Lap
from spendkit.ingest.write import (
    PARQUET_OPTIONS,
    OldRows,
    PartitionFacts,
    PartitionStore,
    write_rejects,
)
from spendkit.loader import LoadResult
from spendkit.schema import reject_schema
from spendkit.settings import get_settings


def ingest(raw_dir: Path | str | None = None, out_dir: Path | str | None = None, *,
           force: bool = False, progress: bool | None = None, jobs: int | None = None,
           allow_sample_mix: bool = False) -> IngestSummary:
    """Load every raw file under raw_dir and publish the processed dataset in out_dir.

    Args:
        raw_dir: folder of published files (default: `data/raw` when it holds any data
            file, else the bundled SYNTHETIC sample; see `spendkit.settings`).
        out_dir: processed folder (default: the one that goes with the raw folder).
        force: read every file again, even those unchanged since the previous version.
        progress: show a progress bar (default: only when stderr is a terminal).
        jobs: workers loading files at once (threads; default: one per core when there is
            enough to load, else 1).
        allow_sample_mix: ingest SYNTHETIC sample files found beside real files (refused
            otherwise: their invented payments would add to the real ones).

    Returns:
        IngestSummary; files that could not be read are listed in `.failed` and files not
        read (symlinks out of the raw folder, special files) in `.skipped` (the rest is still
        written).

    Raises:
        BuildError: no raw folder or no file in it, sample files mixed with real ones, or the
            processed folder cannot be written (read-only, full); the previous version is then
            untouched.
    """
    settings = get_settings()
    raw = Path(raw_dir) if raw_dir else settings.raw_dir
    out = Path(out_dir) if out_dir else settings.processed_dir_for(raw)
    if not raw.is_dir():
        raise BuildError(f"{raw}: raw folder not found (put published files in it)")
    found = sources.scan(raw)
    if not found.files and not found.skipped:
        raise BuildError(f"{raw}: no CSV, XLS, XLSX or ZIP files found")
    sources.check_not_mixed(found, allow_sample_mix)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with locked(out):
            return _ingest_locked(found, out, force, progress, jobs)
    except OSError as exc:
        where = exc.filename or out
        raise BuildError(
            f"{out}: cannot write the processed data ({where}: {exc.strerror or exc}); "
            "the previous version, if any, is untouched") from exc


def _ingest_locked(found: sources.Sources, out: Path, force: bool, progress: bool | None,
                   jobs: int | None) -> IngestSummary:
    STAGE_SECONDS.clear()
    STAGE_CPU.clear()
    lap = Lap()
    versions.clean_stale(out)
    previous, note = versions.current(out)
    notes = [note + "; rebuilt from the raw files"] if note else []
    code = versions.code_fingerprint()
    shas: dict[str, str | OSError | None] = {}
    if previous is not None and not force:
        # Is it up to date? Files unchanged since they were last hashed are not read again.
        shas.update(sources.known_hashes(found.files, out))
        shas.update(sources.hash_files([f for f in found.files if f.rel not in shas]))
        key = _input_key(code, found, shas)
        lap("hash files")
        if previous.input_key == key:
            summary = summary_of_version(previous.path, found.raw)
            summary.latest = out / versions.LATEST
            summary.up_to_date = True
            return summary
    # Otherwise files are hashed as they load, in the loading threads.
    reusable = previous if previous is not None and previous.code == code and not force \
        else None

    staging = versions.new_staging(out)
    try:
        summary, facts = _build(found, shas, staging, reusable, progress, jobs)
        lap = Lap()
        key = _input_key(code, found, shas)
        versions.write_manifest(
            staging, key, code,
            {p: {"rows": f.rows} | ({"pence": f.pence} if f.pence is not None else {})
             for p, f in facts.items()},
            {p: [list(s) for s in f.sources] for p, f in facts.items() if f.sources})
        final = versions.publish(staging, out, keep=previous.path if previous else None)
        lap("finish: publish")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    sources.remember_hashes(found.files, shas, out)
    summary.notes = notes
    summary.version_dir = final
    summary.latest = out / versions.LATEST
    return summary


def _input_key(code: str, found: sources.Sources, shas: dict) -> str:
    """The build's input key: code, every file's name and hash (or why it was not read)."""
    entries = [(f.rel, shas[f.rel] if isinstance(shas.get(f.rel), str) else "unreadable",
                str(f.is_synthetic)) for f in found.files]
    entries += [(s.rel, "skipped: " + s.reason, str(s.is_synthetic)) for s in found.skipped]
    return versions.input_key(code, entries)


def _old_ledger(previous: versions.Version | None) -> dict[tuple[str, str], dict]:
    """(rel, sha) → previous ledger row of the files that can be reused."""
    if previous is None:
        return {}
    rows = pq.read_table(previous.path / "ledger.parquet").to_pylist()
    return {(r["source_file"], r["source_sha256"]): r for r in rows
            if r["status"] == "loaded" and not r["duplicate_rows"] and r["source_sha256"]}


def _old_rejects(previous: versions.Version | None) -> dict[str, pa.Table]:
    """sha → the loader's rejects of the previous version (duplicates are made anew)."""
    if previous is None or not (previous.path / "rejects.parquet").exists():
        return {}
    table = pq.read_table(previous.path / "rejects.parquet")
    table = table.filter(pc.not_equal(table.column("reason"), "duplicate_publication"))
    # Grouped by one stable sort, then sliced: not one filter of the whole table per file.
    table = table.take(pc.sort_indices(table, [("source_sha256", "ascending")]))
    shas = table.column("source_sha256").to_numpy(zero_copy_only=False)
    starts = [0] + [i for i in range(1, len(shas)) if shas[i] != shas[i - 1]]
    ends = starts[1:] + [len(shas)]
    return {shas[a]: table.slice(a, z - a) for a, z in zip(starts, ends, strict=True)
            if len(shas)}


def _own_rejects(rejects: pa.Table, rel: str) -> pa.Table:
    """Rows of a rejects table that belong to file `rel` (a ZIP's members included)."""
    names = rejects.column("source_file")
    mine = pc.or_(pc.equal(names, rel), pc.starts_with(names, rel + "/"))
    return rejects.filter(mine)


def _build(found: sources.Sources, shas: dict, staging: Path,
           previous: versions.Version | None, progress: bool | None,
           jobs: int | None) -> tuple[IngestSummary, dict[str, PartitionFacts]]:
    """Write a whole build into `staging`; return its summary and its partitions' facts."""
    lap = Lap()
    files = found.files
    rels = [f.rel for f in files]
    old_rows = _old_ledger(previous)
    old_rejects = _old_rejects(previous)
    old = OldRows(previous.path) if previous is not None else None
    reuse = {i for i, f in enumerate(files) if (f.rel, shas.get(f.rel)) in old_rows}
    unreadable = {f.rel for f in files if isinstance(shas.get(f.rel), OSError)}
    to_load = [(f.path, f.rel, shas.get(f.rel)) for i, f in enumerate(files)
               if i not in reuse and f.rel not in unreadable]
    size = sum(p.stat().st_size for p, _rel, _sha in to_load if p.exists())
    workers = batches.worker_count(len(to_load), size, jobs)
    show = sys.stderr.isatty() if progress is None else progress
    outcomes: list[FileOutcome | None] = [None] * len(files)
    ledger_rows: list[dict | None] = [None] * len(files)
    rejects: list[list[pa.Table]] = [[] for _ in files]
    seen = Seen()
    enricher = Enricher()  # one per run, fed in path order: canonical names follow the inputs
    corpus = batches.CORPUS_PASS() if batches.CORPUS_PASS is not None else None
    store = PartitionStore(staging, previous.manifest if previous else None, old,
                           corpus.apply if corpus is not None else None)
    pending: list[FileRows] = []
    pending_rows = 0
    deferred: list[FileRows] = []  # ambiguous publishers, settled by their folder at the end
    identified: dict[str, dict[tuple[str, str], int]] = {}
    lap("setup (previous state, rules)")

    def flush() -> None:
        nonlocal pending, pending_rows
        if not pending:
            return
        for done in batches.process_batch(pending, seen, enricher, rels, corpus):
            _take(done, store, rejects, ledger_rows)
            bar.advance(done.rows.rel, int(done.rows.ledger.get("rows_read") or 0))
        pending, pending_rows = [], 0
        store.end_idle()

    try:
        with _progress(show, len(files)) as bar, \
                batches.loaded_in_order(to_load, workers) as loaded:
            for i, f in enumerate(files):
                sha = shas.get(f.rel)
                if isinstance(sha, OSError):
                    err = batches.describe_failure(f.rel, sha)
                    outcomes[i] = FileOutcome(f.rel, "failed", error=str(err))
                    ledger_rows[i] = unread_row(f.rel, "failed", str(err), "", f.is_synthetic)
                    bar.advance(f.rel, 0)
                    continue
                lap = Lap()
                if i in reuse:
                    rows = _reused(i, f, sha, old_rows[(f.rel, sha)], old, old_rejects)
                    outcomes[i] = FileOutcome(f.rel, "reused")
                    lap("reuse: read previous rows")
                else:
                    got_path, sha, result, shaped = next(loaded)
                    lap("load (waiting for results)")
                    assert got_path == f.path
                    shas[f.rel] = sha
                    if isinstance(result, UnreadableFileError):
                        outcomes[i] = FileOutcome(f.rel, "failed", error=str(result))
                        ledger_rows[i] = unread_row(f.rel, "failed", str(result), sha or "",
                                                    f.is_synthetic)
                        bar.advance(f.rel, 0)
                        continue
                    rows = _loaded(i, f, sha, result, shaped)
                    outcomes[i] = FileOutcome(f.rel, "loaded")
                    lap("load: ledger row")
                if siblings.is_ambiguous(rows):  # its folder-mates decide, once all are read
                    deferred.append(rows)
                    continue
                siblings.note_identified(identified, rows)
                pending.append(rows)
                pending_rows += rows.table.num_rows
                if pending_rows >= batches.BATCH_ROWS:
                    flush()
            pending.extend(siblings.settle(deferred, identified))
            flush()
        lap = Lap()
        if corpus is not None:
            corpus.finish()
            lap("corpus pass: evidence")
        facts = store.finish()
        if corpus is not None:
            corpus.write(staging)
        lap("write: partitions")
    except BaseException:
        store.discard()
        raise

    for i, where in store.offsets().items():
        ledger_rows[i]["parts"] = json.dumps(where, sort_keys=True)
    summary = _finish(found, outcomes, ledger_rows, rejects, staging)
    lap("finish: ledger, rejects, summary")
    return summary, facts


def _finish(found: sources.Sources, outcomes: list, ledger_rows: list,
            rejects: list[list[pa.Table]], staging: Path) -> IngestSummary:
    """The ledger (skipped files included, path order), rejects and summary of a build."""
    outcomes = list(outcomes)
    ledger_rows = list(ledger_rows)
    for s in found.skipped:
        outcomes.append(FileOutcome(s.rel, "skipped", error=s.reason))
        ledger_rows.append(unread_row(s.rel, "skipped", s.reason, "", s.is_synthetic))
    order = sorted(range(len(ledger_rows)),
                   key=lambda k: sources.path_key(ledger_rows[k]["source_file"]))
    rows = [ledger_rows[k] for k in order]
    done = [outcomes[k] for k in order]
    for outcome, row in zip(done, rows, strict=True):
        outcome.ledger = row
    table = ledger_table(rows)
    write_ledger(table, staging, PARQUET_OPTIONS)
    (staging / "transactions").mkdir(exist_ok=True)  # readers find a dataset, if an empty one
    write_rejects([t for ts in rejects for t in ts], staging / "rejects.parquet")
    summary = summary_from_rows(table.to_pylist(), done, staging, found.raw)
    (staging / SUMMARY_TXT).write_text(summary.text(), encoding="utf-8")
    return summary


def _loaded(i: int, f: sources.RawFile, sha: str, result: LoadResult,
            table: pa.Table) -> FileRows:
    """A freshly loaded file as batch input (`table`: its rows shaped by `load_job`)."""
    return FileRows(i, f.rel, sha, result.ledger.publisher_name, table,
                    loaded_row(result.ledger, f.rel, f.is_synthetic),
                    batches.with_sha(result.rejects_table, sha))


def _reused(i: int, f: sources.RawFile, sha: str, old_row: dict, old: OldRows,
            old_rejects: dict[str, pa.Table]) -> FileRows:
    """A file unchanged since the previous version, its rows read back from there."""
    parts = json.loads(old_row.get("parts") or "[]")
    table, enrichment = batches.rows_from_previous(old, parts)
    row = {k: v for k, v in old_row.items()
           if k not in ("duplicate_rows", "dataset_rows", "dataset_total_gbp", "parts")}
    row["is_synthetic"] = f.is_synthetic
    rej = old_rejects.get(sha)
    rej = _own_rejects(rej, f.rel) if rej is not None else batches.with_sha(
        reject_schema().empty_table(), sha)
    return FileRows(i, f.rel, sha, old_row["publisher_name"], table, row, rej,
                    old_enrichment=enrichment, old_parts=parts)


def _take(done: FileDone, store: PartitionStore, rejects: list[list[pa.Table]],
          ledger_rows: list[dict | None]) -> None:
    """File a processed file's segments, rejects and ledger figures."""
    b = done.rows
    store.add(b.index, b.rel, b.sha, done.segments)
    rejects[b.index] = [b.rejects] + ([batches.with_sha(done.dup_rejects, b.sha)]
                                      if done.dup_rejects is not None else [])
    row = dict(b.ledger)
    row["duplicate_rows"] = done.duplicates
    row["dataset_rows"] = int(row.get("rows_kept") or 0) - done.duplicates
    row["dataset_total_gbp"] = str(Decimal(done.dataset_pence).scaleb(-2))
    ledger_rows[b.index] = row


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


__all__ = ["ingest"]
