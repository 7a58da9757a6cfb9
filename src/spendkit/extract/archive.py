"""ZIP containers (a ZIP of CSVs, and the ZIP inside every XLSX) opened without trusting them.

A ZIP says how big each member is, but a hostile or damaged one lies: a 2.6 MB archive can
inflate to a gigabyte. So members are inflated in a stream, counting the bytes that actually
come out, and refused as soon as they pass a limit, before they are held in memory:

- `MAX_MEMBER_BYTES` (256 MiB): the largest member read. A council's biggest year of payments
  is well under 100 MiB of CSV; a member this size would take several times that in memory.
- `MAX_TOTAL_BYTES` (512 MiB): all members of one archive together.
- `MAX_RATIO` (200): inflated size over compressed size, for members over `RATIO_FLOOR`
  (1 MiB). Spending CSVs compress 5-20 times; a bomb of zeros or blank lines, 1,000 times.
- `MAX_MEMBERS` (500): files read from one archive. A council's ZIP holds a year of monthly
  files; every part read costs the loader a fixed few milliseconds (a workbook, a child
  process), so 20,000 one-line members took 107 s.

With the loader's allowance per file (`loader.MAX_TEXT_LINES` lines of text or
`extent.MAX_WORKBOOK_CELLS` workbook cells, all parts together), these keep the loader's peak
memory under 1.5 GB whatever the input. Members that are
not read (folders, dot-files and `__MACOSX`, names that climb out of the archive such as
`..\\..\\x.csv`, nested archives) are listed with the reason, for `Ledger.skipped`.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from spendkit.errors import UnreadableFileError

MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_RATIO = 200
MAX_MEMBERS = 500
RATIO_FLOOR = 1024 * 1024
_CHUNK = 1 << 20


@dataclass
class Member:
    """One ZIP member to read, or one skipped (`skip` says why)."""

    name: str
    info: zipfile.ZipInfo
    skip: str = ""


def _unsafe_name(name: str) -> str:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and parts[0].endswith(":")):
        return "a path outside the archive (absolute or with '..')"
    base = parts[-1] if parts else name
    if base.startswith(".") or "__MACOSX" in parts:
        return "a system file (dot-file or __MACOSX)"
    return ""


def list_members(zf: zipfile.ZipFile) -> list[Member]:
    """The archive's file members in name order, each with why it is skipped ('' if read)."""
    out = []
    for info in sorted((i for i in zf.infolist() if not i.is_dir()), key=lambda i: i.filename):
        out.append(Member(info.filename, info, _unsafe_name(info.filename)))
    return out


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str,
                budget: list[int] | None = None) -> bytes:
    """The member's bytes, inflated in a stream and refused past the limits above.

    `budget` (a one-item list of bytes still allowed for the whole archive) is decreased.
    Raises UnreadableFileError naming `where` for a bomb, an encrypted or damaged member.
    """
    return b"".join(_inflate(zf, info, where, budget or [MAX_TOTAL_BYTES]))


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str,
             budget: list[int]) -> Iterator[bytes]:
    """The member's bytes in chunks, stopped with UnreadableFileError at a limit."""
    if info.flag_bits & 0x1:
        raise UnreadableFileError(where, "is encrypted (password-protected ZIP member)")
    limit = min(MAX_MEMBER_BYTES, budget[0])
    if info.file_size > limit:
        raise UnreadableFileError(where, f"declares {info.file_size:,} bytes uncompressed, "
                                  f"more than the limit of {limit:,}")
    total = 0
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise UnreadableFileError(
                        where, f"inflates past {limit:,} bytes (declared {info.file_size:,}): "
                        "refused as a ZIP bomb or a file too large to load")
                if total > RATIO_FLOOR and total > MAX_RATIO * max(info.compress_size, 1):
                    raise UnreadableFileError(
                        where, f"inflates more than {MAX_RATIO} times its compressed size "
                        f"({info.compress_size:,} bytes): refused as a ZIP bomb")
                yield chunk
    except UnreadableFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError,
            NotImplementedError) as exc:
        raise UnreadableFileError(where, f"cannot be extracted ({type(exc).__name__}: "
                                  f"{short(str(exc))})") from exc
    budget[0] -= total


def short(text: str, limit: int = 80) -> str:
    """At most `limit` characters of `text`, escaped (for error messages quoting content)."""
    cut = text[:limit]
    escaped = cut.encode("unicode_escape").decode("ascii")
    return escaped + ("…" if len(text) > limit else "")
