"""Versions of the processed dataset, and publishing a new one so that a crash never shows.

    latest -> .versions/v-<key>-<n>     (a symlink, switched atomically)
    .versions/v-<key>-<n>/              one complete build, never modified once published
        MANIFEST.json                   every file's size; each Parquet file's rows and pence
    .versions/.staging-<pid>-<n>/       a build in progress (removed at the next start)

A build is written into a staging folder, flushed to disk (fsync), renamed to a new version
folder (never over an existing one), and only then does `latest` move to it, by `os.replace`
of a fresh symlink: a reader, or a crash at any point, sees the previous complete version or
the new complete version, never a mix. Older versions are removed after the switch (the
previous one is kept for readers still using it). On start, stale staging folders are removed
and `latest` is checked against its own manifest (file sizes, row counts and penny totals); a
version that does not match is not trusted: the ingest rebuilds from the raw files.

Publishing calls `stages.step` at each step (tests kill the process there).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import spendkit
from spendkit.ingest.stages import Lap, step
from spendkit.reference import catalogue
from spendkit.units.money import sum_pence

MANIFEST_NAME = "MANIFEST.json"
MANIFEST_FORMAT = 1
VERSIONS = ".versions"
STAGING_PREFIX = ".staging-"
LATEST = "latest"

#: Code that decides the ingest's output (with the package data the catalogue marks
#: `affects_ingest`): a change here means a new build, not stale data.
_INGEST_CODE = ("extract", "transform", "enrich", "units", "loader.py", "ingest", "schema.py",
                "errors.py", "settings.py", "reference/councils.py", "reference/catalogue.py")


def code_fingerprint() -> str:
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


def input_key(code: str, entries: Iterable[tuple[str, ...]]) -> str:
    """Hash of the code and of every raw entry (name, content hash or skip reason, flags):
    the same inputs give the same key, a renamed or changed file a new one."""
    h = hashlib.sha256(code.encode())
    for entry in sorted(entries):
        h.update(json.dumps(list(entry), ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


@dataclass
class Version:
    """A published, verified version: its folder and its manifest."""

    path: Path
    manifest: dict

    @property
    def code(self) -> str:
        return self.manifest.get("code", "")

    @property
    def input_key(self) -> str:
        return self.manifest.get("input_key", "")


def latest_target(out: Path) -> Path | None:
    """The folder `latest` points at (symlink, or the LATEST pointer file), if any."""
    link = out / LATEST
    if link.is_symlink() or link.exists():
        return link.resolve() if link.exists() else None
    pointer = out / "LATEST"
    if pointer.exists():
        return (out / pointer.read_text(encoding="utf-8").strip()).resolve()
    return None


def parquet_facts(path: Path) -> dict:
    """Rows and penny total of a dataset Parquet file (as its manifest records them)."""
    f = pq.ParquetFile(path)
    facts: dict = {"rows": f.metadata.num_rows}
    if "amount_gbp" in f.schema_arrow.names:
        facts["pence"] = sum_pence(f.read(columns=["amount_gbp"]).column("amount_gbp"))
    return facts


def verify(folder: Path) -> str | None:
    """None when `folder` matches its manifest, else what does not (one line)."""
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "it has no manifest"
    except (OSError, ValueError) as exc:
        return f"its manifest cannot be read ({exc})"
    if manifest.get("format") != MANIFEST_FORMAT:
        return "its manifest is of another format"
    for rel, want in sorted(manifest.get("files", {}).items()):
        path = folder / rel
        try:
            if path.stat().st_size != want["bytes"]:
                return f"{rel} has {path.stat().st_size:,} bytes, the manifest says {want['bytes']:,}"
            if "rows" in want:
                got = parquet_facts(path)
                if got["rows"] != want["rows"] or got.get("pence") != want.get("pence"):
                    return (f"{rel} holds {got['rows']:,} rows and {got.get('pence')} pence, "
                            f"the manifest says {want['rows']:,} and {want.get('pence')}")
        except FileNotFoundError:
            return f"{rel} is missing"
        except (OSError, pa.ArrowException) as exc:
            return f"{rel} cannot be read ({exc})"
    return None


def current(out: Path) -> tuple[Version | None, str]:
    """The verified latest version, or (None, why it is not used; '' when there is none)."""
    target = latest_target(out)
    if target is None:
        if (out / LATEST).is_symlink():
            return None, "`latest` pointed at a folder that does not exist"
        return None, ""
    if not target.is_dir():
        return None, f"`latest` pointed at {target.name}, which is missing"
    problem = verify(target)
    if problem:
        return None, f"`latest` ({target.name}) did not match its manifest: {problem}"
    manifest = json.loads((target / MANIFEST_NAME).read_text(encoding="utf-8"))
    return Version(target, manifest), ""


def clean_stale(out: Path) -> None:
    """Remove what killed runs left behind: staging folders, versions half removed (no
    manifest) or not pruned, and temporary links. `latest` and the newest other complete
    version (readers may still have it open) stay."""
    versions = out / VERSIONS
    live = latest_target(out)
    if versions.is_dir():
        others = []
        for p in versions.iterdir():
            if p.name.startswith(STAGING_PREFIX) or (
                    p.is_dir() and p != live and not (p / MANIFEST_NAME).exists()):
                shutil.rmtree(p, ignore_errors=True)
            elif p.is_dir() and p != live:
                others.append(p)
        others.sort(key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
        for p in others[1:]:
            _remove_version(p)
    for p in out.glob(f".{LATEST}-*"):
        if p.is_symlink() or p.is_file():
            p.unlink(missing_ok=True)


def new_staging(out: Path) -> Path:
    """A fresh staging folder for a build."""
    versions = out / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    n = 0
    while True:
        path = versions / f"{STAGING_PREFIX}{os.getpid()}-{n}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1


def write_manifest(staging: Path, input_key_: str, code: str, facts: dict[str, dict],
                   partitions: dict[str, list]) -> None:
    """Record every file of the build: bytes, and rows/pence for the dataset's Parquet files
    (`facts`, by path relative to the build, as the writers computed them); `partitions`
    gives each partition file's sources ([rel, sha, rows] per segment, in order), which the
    next build compares to link the partitions that did not change."""
    files = {}
    for p in sorted(staging.rglob("*")):
        if p.is_file() and p.name != MANIFEST_NAME:
            rel = p.relative_to(staging).as_posix()
            files[rel] = {"bytes": p.stat().st_size, **facts.get(rel, {})}
    manifest = {"format": MANIFEST_FORMAT, "spendkit": spendkit.__version__,
                "input_key": input_key_, "code": code, "files": files,
                "partitions": partitions}
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n",
                                         encoding="utf-8")


def fsync_file(path: Path | str) -> None:
    """Flush one file's bytes to disk (the writers call it as each file is written, so the
    flushing overlaps other work; `publish` flushes everything again, cheaply, before it)."""
    if os.name == "nt":  # fsync needs a writable handle there; the rename is the barrier
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder of a build to disk before it is published."""
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            fsync_file(os.path.join(dirpath, name))
        _fsync_dir(Path(dirpath))


def _fsync_dir(folder: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _switch(out: Path, target: Path) -> None:
    """Point `latest` at target atomically (rename of a fresh symlink over the old one)."""
    latest = out / LATEST
    tmp = out / f".{LATEST}-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    rel = os.path.relpath(target, out)
    try:
        os.symlink(rel, tmp, target_is_directory=True)
    except OSError:
        # No symlinks (e.g. Windows without developer mode): a pointer file, replaced atomically.
        pointer = out / f".LATEST-{os.getpid()}"
        pointer.write_text(rel + "\n", encoding="utf-8")
        os.replace(pointer, out / "LATEST")
        return
    os.replace(tmp, latest)


def publish(staging: Path, out: Path, keep: Path | None = None) -> Path:
    """Make a finished staging folder the latest version; return its folder.

    The version is named after its input key (`manifest['input_key']`) with a number that no
    existing folder has, so nothing published is ever written over. Versions other than the
    new one and `keep` (the one readers may still have open) are removed after the switch.
    """
    step("written")
    lap = Lap()
    _fsync_tree(staging)
    lap("publish: fsync")
    step("synced")
    manifest = json.loads((staging / MANIFEST_NAME).read_text(encoding="utf-8"))
    versions = staging.parent
    stem = f"v-{manifest['input_key'][:16]}"
    n = 0
    while (versions / f"{stem}-{n}").exists():
        n += 1
    final = versions / f"{stem}-{n}"
    os.rename(staging, final)
    _fsync_dir(versions)
    step("renamed")
    _switch(out, final)
    _fsync_dir(out)
    lap("publish: rename, switch")
    step("switched")
    for p in sorted(versions.iterdir()):
        if p.name.startswith(STAGING_PREFIX) or p == final or (keep and p == keep):
            continue
        _remove_version(p)
    lap("publish: prune old versions")
    step("pruned")
    return final


def _remove_version(folder: Path) -> None:
    """Delete an old version, its manifest first: a version left half deleted by a crash has
    no manifest, and the next start removes it (step 'pruning' once the manifest is gone)."""
    with contextlib.suppress(OSError):
        os.unlink(folder / MANIFEST_NAME)
    step("pruning")
    shutil.rmtree(folder, ignore_errors=True)
