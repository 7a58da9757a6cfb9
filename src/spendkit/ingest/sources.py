"""The raw folder: which files are read, which are skipped and why, and which are SYNTHETIC.

Files are taken recursively in a stable path order. Hidden files and folders, READMEs and
manifests are not data. A symlink is followed only when it leads to a regular file inside the
raw folder: one leading out of it (the raw folder can be shared, and `/etc/shadow` must not
end up in a ledger) or to a folder, and anything that is not a regular file (a FIFO would hang
the read), is skipped and listed in the ledger and the summary with what to do.

The bundled sample is SYNTHETIC: its files are named `SYNTHETIC-…` and listed in a
`SYNTHETIC-manifest.csv` (a file is taken as synthetic when either says so, or when its name
holds `SYNTHETIC-`, as a renamed copy would). A raw folder holding both sample files and real files would add
invented payments to real ones, so `check_not_mixed` refuses it unless asked to allow it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import hashlib
import io
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from spendkit.errors import BuildError
from spendkit.settings import get_settings, is_data_file_name

SYNTHETIC_PREFIX = "SYNTHETIC-"
SYNTHETIC_MANIFEST = "SYNTHETIC-manifest.csv"


@dataclass(frozen=True)
class RawFile:
    """A file the ingest reads: its path, its name relative to the raw folder (posix)."""

    path: Path
    rel: str
    is_synthetic: bool


@dataclass(frozen=True)
class SkippedFile:
    """A data-like entry the ingest does not read, and why (one line, with what to do)."""

    rel: str
    reason: str
    is_synthetic: bool = False


@dataclass
class Sources:
    """What a raw folder holds, in path order."""

    raw: Path
    files: list[RawFile]
    skipped: list[SkippedFile]

    @property
    def synthetic(self) -> list[RawFile]:
        return [f for f in self.files if f.is_synthetic]

    @property
    def real(self) -> list[RawFile]:
        return [f for f in self.files if not f.is_synthetic]


def path_key(rel: str) -> list[str]:
    """Sort key of a relative path: folder by folder (the ingest's path order)."""
    return rel.split("/")


def _inside(target: str, root: str) -> bool:
    return target == root or target.startswith(root.rstrip(os.sep) + os.sep)


def _synthetic_listed(raw: Path) -> set[str]:
    """Paths (relative to raw) listed in any SYNTHETIC-manifest.csv under it."""
    listed: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(raw):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if SYNTHETIC_MANIFEST not in filenames:
            continue
        manifest = Path(dirpath) / SYNTHETIC_MANIFEST
        if manifest.is_symlink():
            continue
        base = manifest.parent.relative_to(raw).as_posix()
        try:
            text = manifest.read_text(encoding="utf-8-sig", errors="replace")
        except OSError:
            continue
        for row in csv.DictReader(io.StringIO(text)):
            path = (row.get("path") or "").strip()
            if path:
                listed.add(path if base == "." else f"{base}/{path}")
    return listed


def scan(raw: Path) -> Sources:
    """Every data file under `raw` (recursively, path order) and every data-like entry skipped."""
    root = os.path.realpath(raw)
    listed = _synthetic_listed(raw)
    files: list[RawFile] = []
    skipped: list[SkippedFile] = []

    def synthetic(rel: str) -> bool:
        return rel in listed or SYNTHETIC_PREFIX in rel.rsplit("/", 1)[-1]

    for dirpath, dirnames, filenames in os.walk(raw, followlinks=False):
        here = Path(dirpath)
        keep_dirs = []
        for d in sorted(dirnames):
            if d.startswith("."):
                continue
            full = here / d
            if full.is_symlink():
                rel = full.relative_to(raw).as_posix()
                where = ("inside" if _inside(os.path.realpath(full), root)
                         else "out of")
                skipped.append(SkippedFile(rel, f"a symlink to a folder {where} the raw folder, "
                                                "not followed (copy or move the files in)"))
                continue
            keep_dirs.append(d)
        dirnames[:] = keep_dirs
        for name in filenames:
            if not is_data_file_name(name):
                continue
            full = here / name
            rel = full.relative_to(raw).as_posix()
            try:
                info = os.lstat(full)
                if stat.S_ISLNK(info.st_mode):
                    target = os.path.realpath(full)
                    if not _inside(target, root):
                        skipped.append(SkippedFile(
                            rel, "a symlink leading out of the raw folder, not followed "
                                 "(copy the file into the raw folder to ingest it)",
                            synthetic(rel)))
                        continue
                    info = os.stat(full)
            except OSError as exc:
                skipped.append(SkippedFile(rel, f"cannot be examined ({exc.strerror or exc})",
                                           synthetic(rel)))
                continue
            if not stat.S_ISREG(info.st_mode):
                skipped.append(SkippedFile(rel, "not a regular file (a pipe, socket or device)",
                                           synthetic(rel)))
                continue
            files.append(RawFile(full, rel, synthetic(rel)))
    files.sort(key=lambda f: path_key(f.rel))
    skipped.sort(key=lambda s: path_key(s.rel))
    return Sources(raw, files, skipped)


def check_not_mixed(sources: Sources, allow: bool) -> None:
    """Refuse a raw folder that holds SYNTHETIC sample files beside real ones (unless allowed)."""
    synthetic, real = sources.synthetic, sources.real
    if allow or not synthetic or not real:
        return
    sample_raw = get_settings().sample_raw_dir
    raise BuildError(
        f"{sources.raw}: holds {len(synthetic)} file(s) of the SYNTHETIC sample (e.g. "
        f"{synthetic[0].rel!r}) beside {len(real)} real file(s) (e.g. {real[0].rel!r}); "
        "ingesting both would add invented payments to real ones. Remove the sample files "
        f"(the bundled sample lives in {sample_raw} and is used only while data/raw holds no "
        "data file), or pass --allow-sample-mix (allow_sample_mix=True) to ingest both.")


def _sha256_file(path: Path) -> str:
    # hashlib releases the GIL on large buffers, so a thread pool hashes files in parallel.
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _sha256_or_error(path: Path) -> str | OSError:
    try:
        return _sha256_file(path)
    except OSError as exc:
        return exc


def hash_files(files: list[RawFile]) -> dict[str, str | OSError]:
    """SHA-256 of every file by its rel name (an OSError where it cannot be read), in threads."""
    workers = max(1, min(os.cpu_count() or 1, 4, len(files)))
    paths = [f.path for f in files]
    if workers == 1:
        digests = [_sha256_or_error(p) for p in paths]
    else:
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            digests = list(pool.map(_sha256_or_error, paths))
    return {f.rel: d for f, d in zip(files, digests, strict=True)}


#: Where the processed folder remembers each raw file's SHA-256 with its size, times and
#: inode, so an unchanged raw folder is not read again to be found unchanged (like git's
#: index: a file whose size, mtime, ctime or inode differs is hashed again). Not part of any
#: version: it only saves time.
HASH_CACHE = ".raw-hashes.json"


def _stat_key(path: Path) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def known_hashes(files: list[RawFile], out: Path) -> dict[str, str]:
    """SHA-256s remembered for files whose size, times and inode have not changed."""
    try:
        cache = json.loads((out / HASH_CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    known = {}
    for f in files:
        entry = cache.get(str(f.path))
        if not entry:
            continue
        with contextlib.suppress(OSError):
            if entry[:4] == _stat_key(f.path):
                known[f.rel] = entry[4]
    return known


def remember_hashes(files: list[RawFile], shas: dict[str, str | OSError | None],
                    out: Path) -> None:
    """Save the hashes of this run's files (best effort: a failure only costs time later)."""
    cache = {}
    for f in files:
        sha = shas.get(f.rel)
        if isinstance(sha, str):
            with contextlib.suppress(OSError):
                cache[str(f.path)] = [*_stat_key(f.path), sha]
    tmp = out / f".{HASH_CACHE}.{os.getpid()}"
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps(cache, sort_keys=True), encoding="utf-8")
        os.replace(tmp, out / HASH_CACHE)
