"""A seeded mutator over real published files, and a runner that checks what `load()` does with
each mutant: load it, or refuse it with a SpendkitError; never any other exception, never hang.

Used by tests/integration/test_fuzz_realdata.py (a few hundred mutants, in CI) and by
benchmarks/fuzz.py (a longer run that prints mutants, crashes, hangs and peak memory). Text
files are cut to a window of their first lines before mutating, so a mutant loads in
milliseconds; workbooks and ZIPs are mutated whole, as bytes or inside their XML members.
"""

from __future__ import annotations

import io
import random
import signal
import time
import traceback
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import spendkit
from spendkit.errors import SpendkitError

_WINDOW_LINES = 400
_NASTY = [b'"', b'""', b"\x00", b"\r", b"\n\n\n", b",,,,,,", b"\xff\xfe", b"\xc3", b"\x9c",
          b"1,5", b"9e-3", b"-1e308", b"(", b"\xa3", b"Total", b"Supplier Name,Amount,Date\n",
          b"x" * 140_000, b"00:00:00", b"31/02/2024", b"=HYPERLINK(1)", b"\t"]


@dataclass
class Report:
    """What a fuzz run found."""

    mutants: int = 0
    loaded: int = 0
    refused: int = 0
    crashes: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    slowest: float = 0.0


def _window(data: bytes, rng: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    if len(lines) <= _WINDOW_LINES:
        return data
    start = rng.randrange(1, len(lines) - _WINDOW_LINES)
    # The first lines (preamble and header) stay; a random run of data lines follows.
    return b"".join(lines[:3] + lines[start:start + _WINDOW_LINES])


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not buf:
            buf += rng.choice(_NASTY)
            continue
        at = rng.randrange(len(buf))
        op = rng.randrange(7)
        if op == 0:
            buf[at] = rng.randrange(256)
        elif op == 1:
            buf[at:at] = rng.choice(_NASTY)
        elif op == 2:
            del buf[at:at + rng.randint(1, 2000)]
        elif op == 3:
            buf[at:at] = buf[at:at + rng.randint(1, 5000)]
        elif op == 4:
            del buf[at:]
        elif op == 5:
            buf[at:at] = b'"'
        else:
            line_end = buf.find(b"\n", at)
            if line_end > 0:
                buf[line_end:line_end] = b"\n" + buf[:buf.find(b"\n") + 1]  # header again
    return bytes(buf)


def _mutate_zip(data: bytes, rng: random.Random) -> bytes:
    """A member of a ZIP (or XLSX) changed inside, and the container rebuilt."""
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
        infos = src.infolist()
        target = rng.choice([i for i in infos if not i.is_dir()] or infos)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for info in infos:
                body = src.read(info)
                if info is target:
                    body = _mutate_xml(body, rng) if body.lstrip().startswith(b"<") \
                        else _mutate_bytes(_window(body, rng), rng)
                zf.writestr(info, body)
        return out.getvalue()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return _mutate_bytes(data, rng)


def _mutate_xml(body: bytes, rng: random.Random) -> bytes:
    op = rng.randrange(5)
    if op == 0:  # a value that breaks date conversion
        at = body.find(b"<v>", rng.randrange(max(len(body), 1)))
        if at >= 0:
            end = body.find(b"</v>", at)
            return body[:at + 3] + rng.choice([b"-1e308", b"1e308", b"NaN", b"x", b""]) + body[end:]
    if op == 1:  # a bad cell reference
        return body.replace(b'r="B2"', rng.choice([b'r="!!"', b'r="B0"', b'r="ZZZZ9"']), 1)
    if op == 2:  # a shared string index out of range
        return body.replace(b't="s"><v>', b't="s"><v>99999', 1)
    return _mutate_bytes(body, rng)


def mutants(files: list[Path], count: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """`count` (name, bytes) mutants of the files, the same ones for the same seed."""
    rng = random.Random(seed)
    blobs = {p: p.read_bytes() for p in files}
    for k in range(count):
        path = files[k % len(files)]
        data = blobs[path]
        if data[:2] == b"PK":
            mutated = _mutate_zip(data, rng) if rng.random() < 0.8 else _mutate_bytes(data, rng)
        elif data[:4] == b"\xd0\xcf\x11\xe0":
            mutated = _mutate_bytes(data, rng)
        else:
            mutated = _mutate_bytes(_window(data, rng), rng)
        yield f"{k:04d}-{path.name}", mutated


class _Hang(Exception):
    pass


@contextmanager
def _time_limit(seconds: int):
    def stop(signum, frame):
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(files: list[Path], count: int, seed: int, time_limit: int = 20) -> Report:
    """Load every mutant; count loads, refusals, crashes (other exceptions) and hangs."""
    report = Report()
    start = time.perf_counter()
    for name, data in mutants(files, count, seed):
        report.mutants += 1
        began = time.perf_counter()
        try:
            with _time_limit(time_limit):
                result = spendkit.load(name, data=data, source_name=name)
            ledger = result.ledger
            assert ledger.rows_read == ledger.rows_kept + ledger.rows_rejected
            assert result.table.num_rows == ledger.rows_kept
            report.loaded += 1
        except SpendkitError:
            report.refused += 1
        except _Hang:
            report.hangs.append(name)
        except BaseException as exc:  # noqa: BLE001 - anything else is what we are looking for
            if isinstance(exc, KeyboardInterrupt):
                raise
            report.crashes.append(f"{name}: {type(exc).__name__}: {exc}\n"
                                  + "".join(traceback.format_exception(exc)[-3:]))
        report.slowest = max(report.slowest, time.perf_counter() - began)
    report.seconds = time.perf_counter() - start
    return report
