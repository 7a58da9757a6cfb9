"""One ingest at a time per processed folder (notebooks may start several at once)."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".lock"


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the processed folder's advisory lock (no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; runs are rarely concurrent there
        yield
        return
    try:
        fh = open(out / LOCK_NAME, "a")  # noqa: SIM115 - held for the whole block
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        # A read-only processed folder: nobody can write it, so nothing to lock against; an
        # up-to-date check still works, and a build fails when it tries to write.
        yield
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
