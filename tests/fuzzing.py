"""A seeded mutator over real published files, and runners that check what `load()` does with
each mutant: load it, or refuse it with a SpendkitError; never any other exception, never hang.

Used by tests/integration/test_fuzz_realdata.py (`run`: a few hundred mutants in this process,
in CI) and by benchmarks/fuzz.py (`run_isolated`: each mutant in a forked child, so each has its
own peak memory and time, and a mutant that blows up cannot hide behind another). Text files
are cut to a window of their first lines before mutating, so a mutant loads in milliseconds;
workbooks and ZIPs are mutated whole, as bytes or inside their XML members.
"""

from __future__ import annotations

import io
import json
import os
import random
import select
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
class Outcome:
    """What one mutant did: 'loaded', 'refused', 'crash' or 'hang', in how long and how much
    memory (the peak resident set of the process that loaded it, in MB; 0 when not measured)."""

    name: str
    size: int
    result: str
    seconds: float
    peak_mb: float = 0.0
    detail: str = ""
    #: a loaded text whose physical lines the ledger does not account for (it must warn)
    unreconciled: bool = False


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
    outcomes: list[Outcome] = field(default_factory=list)
    #: resident set of the process the children were forked from (their starting point), MB
    base_mb: float = 0.0
    #: loaded texts whose lines did not reconcile (each warned; listed to find the cause)
    unreconciled: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        """Count one mutant's outcome."""
        self.mutants += 1
        self.outcomes.append(outcome)
        if outcome.unreconciled:
            self.unreconciled.append(f"{outcome.name}: {outcome.detail}")
        if outcome.result == "loaded":
            self.loaded += 1
        elif outcome.result == "refused":
            self.refused += 1
        elif outcome.result == "hang":
            self.hangs.append(outcome.name)
        else:
            self.crashes.append(f"{outcome.name}: {outcome.detail}")
        self.slowest = max(self.slowest, outcome.seconds)

    @property
    def peak_mb(self) -> float:
        """The largest peak memory of any mutant."""
        return max((o.peak_mb for o in self.outcomes), default=0.0)

    def worst(self, key: str, n: int = 10) -> list[Outcome]:
        """The n mutants with the most `key` ('peak_mb' or 'seconds'), worst first."""
        return sorted(self.outcomes, key=lambda o: (-getattr(o, key), o.name))[:n]


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


def _outcome(name: str, data: bytes) -> tuple[str, str, bool]:
    """('loaded' | 'refused' | 'crash', detail, lines unreconciled) for one mutant loaded in
    this process. A text whose lines do not reconcile must say so in a warning."""
    try:
        result = spendkit.load(name, data=data, source_name=name)
        ledger = result.ledger
        assert ledger.rows_read == ledger.rows_kept + ledger.rows_rejected
        assert result.table.num_rows == ledger.rows_kept
        if ledger.lines_reconciled is False:
            warned = [w for w in ledger.warnings if "line" in w and (
                "physical" in w or "counted twice" in w)]
            assert warned, "lines do not reconcile and no warning says so"
            return "loaded", warned[0][:300], True
        return "loaded", "", False
    except SpendkitError as exc:
        return "refused", str(exc)[:200], False
    except _Hang:
        raise
    except BaseException as exc:  # noqa: BLE001 - anything else is what we are looking for
        if isinstance(exc, KeyboardInterrupt):
            raise
        return "crash", (f"{type(exc).__name__}: {exc}\n"
                         + "".join(traceback.format_exception(exc)[-3:])), False


def run(files: list[Path], count: int, seed: int, time_limit: int = 20) -> Report:
    """Load every mutant in this process; count loads, refusals, crashes (other exceptions) and
    hangs."""
    report = Report()
    start = time.perf_counter()
    for name, data in mutants(files, count, seed):
        began = time.perf_counter()
        try:
            with _time_limit(time_limit):
                result, detail, unreconciled = _outcome(name, data)
        except _Hang:
            result, detail, unreconciled = "hang", f"over {time_limit} s", False
        report.add(Outcome(name, len(data), result, time.perf_counter() - began, 0.0, detail,
                           unreconciled))
    report.seconds = time.perf_counter() - start
    return report


def _resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _resident_mb_of(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _in_child(name: str, data: bytes, time_limit: float, memory_cap_mb: float) -> Outcome:
    """Load one mutant in a forked child; its peak memory is the child's maximum resident set
    (the pages it touched, its own and those shared with the parent, and the peak of any reader
    process it waited for). A child past `time_limit` seconds is killed as a hang, one past
    `memory_cap_mb` (checked every 20 ms) as a crash, to spare the machine."""
    read_end, write_end = os.pipe()
    began = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: load, report, leave without running the parent's cleanup
        code = 0
        try:
            os.close(read_end)
            os.write(write_end, json.dumps(_outcome(name, data)).encode())
        except BaseException:  # noqa: BLE001 - the parent reports a silent death
            code = 70
        finally:
            os._exit(code)
    os.close(write_end)
    message, killed = b"", ""
    deadline = began + time_limit
    with os.fdopen(read_end, "rb") as pipe:
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                killed = "hang"
            elif _resident_mb_of(pid) > memory_cap_mb:
                killed = "memory"
            if killed:
                os.kill(pid, signal.SIGKILL)
                break
            ready, _, _ = select.select([pipe], [], [], min(left, 0.02))
            if ready:
                chunk = os.read(pipe.fileno(), 1 << 16)
                if not chunk:
                    break
                message += chunk
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - began
    peak = usage.ru_maxrss / 1024
    if killed == "hang":
        return Outcome(name, len(data), "hang", seconds, peak, f"over {time_limit} s")
    if killed:
        return Outcome(name, len(data), "crash", seconds, peak,
                       f"killed past the memory cap of {memory_cap_mb:,.0f} MB")
    if not message:
        how = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exit {os.WEXITSTATUS(status)}")
        return Outcome(name, len(data), "crash", seconds, peak, f"the process died ({how})")
    result, detail, unreconciled = json.loads(message)
    return Outcome(name, len(data), result, seconds, peak, detail, unreconciled)


def run_isolated(files: list[Path], count: int, seed: int, time_limit: float = 60,
                 progress=None, memory_cap_mb: float = 6000) -> Report:
    """Load every mutant in a child process of its own (forked, so spendkit is imported once):
    each outcome carries that child's peak memory and time; a hang, or a child past
    `memory_cap_mb`, is killed and counted.

    `progress(outcome)` is called after each mutant, if given.
    """
    # Warm the parent (imports, reference data, Arrow kernels) so children start ready and a
    # mutant's time is its own; the children inherit this state.
    warm = b"Date,Supplier Name,Amount\n01/05/2019,Acme Ltd,1.50\n"
    spendkit.load("warm.csv", data=warm, source_name="warm.csv")
    report = Report(base_mb=_resident_mb())
    start = time.perf_counter()
    for name, data in mutants(files, count, seed):
        outcome = _in_child(name, data, time_limit, memory_cap_mb)
        report.add(outcome)
        if progress is not None:
            progress(outcome)
    report.seconds = time.perf_counter() - start
    return report
