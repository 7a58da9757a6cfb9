"""Every failure contained, nothing let in (issue 22.2, 22.6, 22.7, 22.8 — the ingest side).

- A file whose reader fails in any way (a Rust panic is a BaseException) is recorded as failed
  in the ledger and the summary; the other files are ingested; the command exits non-zero
  with one line per failed file.
- A read-only or full processed folder ends in one clear line, and the previous version stays.
- Symlinks leading out of the raw folder and special files are skipped and listed, and no byte
  of what they point at is copied anywhere.
- ledger.csv neutralises formula-like text (file, sheet, publisher names, errors) and starts
  with a BOM; summary lines cannot be forged by a file name.
"""

from __future__ import annotations

import csv
import io
import os
import random
import resource
import shutil
import signal
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pandas as pd
import pytest
from ingest_helpers import month_rows, run_spendkit, small_corpus, spend_csv, tree_digest

import spendkit.ingest.batches as batches_mod
from spendkit.cli import main
from spendkit.datasets import latest_dir, read_ledger, read_rejects, read_transactions
from spendkit.errors import BuildError, SpendkitError
from spendkit.ingest import ingest, versions
from spendkit.units.cells import FORMULA_PREFIXES


class PanicException(BaseException):
    """Stands in for pyo3_runtime.PanicException (calamine's Rust panic), a BaseException."""


FAILURES = {
    "panic.csv": PanicException("called `Option::unwrap()` on a `None` value"),
    "xml.csv": ET.ParseError("not well-formed (invalid token): line 1, column 0"),
    "value.csv": ValueError("Invalid cell reference\nsecond line"),
    "index.csv": IndexError("list index out of range"),
    "zlib.csv": zlib.error("Error -3 while decompressing data: invalid distance too far back"),
    "csvlimit.csv": csv.Error("field larger than field limit (131072)"),
    "memory.csv": MemoryError(),
}


@pytest.mark.parametrize("jobs", [1, 2])
def test_any_reader_failure_is_a_failed_file_and_the_rest_is_ingested(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], jobs: int) -> None:
    raw = tmp_path / "raw"
    small_corpus(raw)
    for name in FAILURES:
        spend_csv(raw / "bad" / name, month_rows(2023, 6))
    real_load = batches_mod.load

    def flaky_load(path, *args, **kwargs):
        exc = FAILURES.get(Path(path).name)
        if exc is not None:
            raise exc
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(batches_mod, "load", flaky_load)
    out = tmp_path / "out"
    code = main(["ingest", str(raw), "--out", str(out), "--quiet", "--jobs", str(jobs)])
    assert code == 1
    captured = capsys.readouterr()
    failed_lines = [line for line in captured.out.splitlines() if "FAILED" in line]
    assert len(failed_lines) == len(FAILURES)  # one line each, even for a two-line message
    for name, exc in FAILURES.items():
        line = next(li for li in failed_lines if f"bad/{name}" in li)
        assert type(exc).__name__ in line
    assert "7 of 12 file(s) could not be read" in captured.err
    ledger = read_ledger(out).set_index("source_file")
    assert set(ledger.index[ledger["status"] == "failed"]) == {f"bad/{n}" for n in FAILURES}
    assert (ledger.loc[ledger["status"] == "failed", "error"].str.count("\n") == 0).all()
    assert (ledger["status"] == "loaded").sum() == 5
    assert len(read_transactions(out)) == ledger["dataset_rows"].sum() == 34
    assert "FAILED bad/panic.csv" in (latest_dir(out) / "summary.txt").read_text()


@pytest.mark.realdata
def test_mutants_of_real_files_never_stop_the_ingest(realdata_dir: Path, tmp_path: Path) -> None:
    """Seeded mutants (bytes flipped, cut, duplicated, spliced) of real files: each loads or
    fails on its own; the ingest finishes, accounts for every row and raises nothing."""
    from conftest import real_raw_files

    rng = random.Random(20260401)
    sources = [p for p in real_raw_files(realdata_dir) if p.stat().st_size < 400_000]
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(40):
        data = bytearray(rng.choice(sources).read_bytes())
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(max(1, len(data)))
            kind = rng.randrange(4)
            if kind == 0:
                data[at:at + 8] = bytes(rng.randrange(256) for _ in range(8))
            elif kind == 1:
                del data[at:]
            elif kind == 2:
                data[at:at] = data[at:at + rng.randint(1, 5000)]
            else:
                data[at:at] = rng.choice([b'"', b"\r", b"\x00", b"\n\n", b",", b"\xff\xfe"])
        suffix = rng.choice([".csv", ".xlsx", ".xls", ".zip"])
        (raw / f"mutant-{i:02d}{suffix}").write_bytes(bytes(data))
    summary = ingest(raw, tmp_path / "out", progress=False)
    ledger = read_ledger(tmp_path / "out")
    assert len(ledger) == 40
    assert set(ledger["status"]) <= {"loaded", "failed"}
    loaded = ledger[ledger["status"] == "loaded"]
    assert (loaded["rows_read"] == loaded["rows_kept"] + loaded["rows_rejected"]).all()
    assert len(read_transactions(tmp_path / "out")) == summary.rows_kept
    assert len(read_rejects(tmp_path / "out")) == summary.rows_rejected


@pytest.fixture
def read_only():
    """Make a folder (recursively) unwritable: chmod where that binds, else chattr +i."""
    done: list[tuple[str, Path]] = []

    def make(folder: Path) -> None:
        paths = [folder, *folder.rglob("*")]
        if os.geteuid() != 0:
            for p in paths:
                if not p.is_symlink():
                    p.chmod(0o555 if p.is_dir() else 0o444)
            done.append(("chmod", folder))
            return
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a folder read-only")
        done.append(("chattr", folder))
        targets = [str(p) for p in paths if not p.is_symlink()]
        subprocess.run(["chattr", "+i", *targets], capture_output=True)
        try:
            (folder / "probe").write_text("x")
        except OSError:
            return
        pytest.skip("chattr +i does not bind on this file system")

    yield make
    for how, folder in done:
        if how == "chattr":
            subprocess.run(["chattr", "-i", *(str(p) for p in [folder, *folder.rglob("*")]
                                              if not p.is_symlink())], capture_output=True)
        else:
            for p in [folder, *folder.rglob("*")]:
                if not p.is_symlink():
                    p.chmod(0o755 if p.is_dir() else 0o644)


def test_a_read_only_processed_folder_is_one_clear_error(tmp_path: Path, read_only,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    raw = tmp_path / "raw"
    small_corpus(raw)
    out = tmp_path / "out"
    ingest(raw, out, progress=False)
    before = tree_digest(latest_dir(out))
    spend_csv(raw / "oxford/2024-05.csv", month_rows(2024, 5, salt=8), "Oxford City Council")
    read_only(out)
    with pytest.raises(BuildError, match="cannot write the processed data") as info:
        ingest(raw, out, progress=False)
    assert "the previous version, if any, is untouched" in str(info.value)
    assert main(["ingest", str(raw), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("spendkit: ") and "Traceback" not in err[0]
    assert tree_digest(latest_dir(out)) == before
    # Nothing to build: a read-only folder that is up to date is fine to read from.
    (raw / "oxford/2024-05.csv").unlink()
    assert ingest(raw, out, progress=False).up_to_date


FSIZE_LIMIT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (2000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
from spendkit.cli import main
sys.exit(main(["ingest", sys.argv[1], "--out", sys.argv[2], "--quiet"]))
"""


def test_a_full_disk_is_one_clear_error_and_the_next_run_succeeds(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    small_corpus(raw)
    out = tmp_path / "out"
    ingest(raw, out, progress=False)
    before = tree_digest(latest_dir(out))
    spend_csv(raw / "oxford/2024-05.csv", month_rows(2024, 5, salt=8) * 40,
              "Oxford City Council")
    # Files may not grow beyond 2,000 bytes in the child: writes fail as on a full disk.
    child = run_spendkit([str(raw), str(out)], code=FSIZE_LIMIT)
    assert child.returncode == 2, (child.stdout, child.stderr)
    err = child.stderr.strip().splitlines()
    assert len(err) == 1 and "cannot write the processed data" in err[0], child.stderr
    assert tree_digest(latest_dir(out)) == before
    assert versions.verify(latest_dir(out)) is None
    assert not list((out / versions.VERSIONS).glob(f"{versions.STAGING_PREFIX}*"))
    ingest(raw, out, progress=False)
    assert tree_digest(latest_dir(out)) != before


def test_symlinks_out_of_the_raw_folder_and_special_files_are_skipped(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    small_corpus(raw)
    secret = tmp_path / "outside" / "shadow"
    secret.parent.mkdir()
    secret.write_text("root:$6$SECRETHASH:19000:0:99999:7:::\n")
    spend_csv(tmp_path / "outside" / "real.csv", month_rows(2024, 7))
    os.symlink(secret, raw / "shadow.csv")
    os.symlink(tmp_path / "outside" / "real.csv", raw / "elsewhere.csv")
    os.symlink(tmp_path / "outside", raw / "linked-folder")
    os.symlink(raw / "oxford" / "2023-04.csv", raw / "oxford" / "zz-same-file.csv")  # inside
    os.mkfifo(raw / "pipe.csv")
    summary = ingest(raw, tmp_path / "out", progress=False)
    skipped = {f.path: f.error for f in summary.skipped}
    assert set(skipped) == {"shadow.csv", "elsewhere.csv", "linked-folder", "pipe.csv"}
    assert "out of the raw folder" in skipped["shadow.csv"]
    assert "not a regular file" in skipped["pipe.csv"]
    text = summary.text()
    assert "SKIPPED shadow.csv" in text and "SKIPPED pipe.csv" in text
    ledger = read_ledger(tmp_path / "out").set_index("source_file")
    assert ledger.loc["shadow.csv", "status"] == "skipped"
    # The link inside the raw folder is read: a second name for the same payments.
    assert ledger.loc["oxford/zz-same-file.csv", "duplicate_rows"] == 6
    everything = b"".join(p.read_bytes() for p in latest_dir(tmp_path / "out").rglob("*")
                          if p.is_file())
    assert b"SECRETHASH" not in everything and b"root:" not in everything


def test_ledger_csv_is_safe_in_a_spreadsheet(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    for name in ("=HYPERLINK(1).csv", "@SUM(1)+cmd.csv", "+44.csv", "-5.csv"):
        spend_csv(raw / name, month_rows(2023, 4, salt=len(name)))
    spend_csv(raw / "=evil council" / "a.csv", month_rows(2023, 5), council="=cmd|' /C calc'!A0")
    (raw / "=broken.xlsx").write_bytes(b"PK\x03\x04 =1+1 not a workbook")
    ingest(raw, tmp_path / "out", progress=False)
    data = (latest_dir(tmp_path / "out") / "ledger.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel shows £
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = rows[0]
    cells = [cell for row in rows[1:] for cell in row]
    assert len(rows) == 7
    for cell in cells:
        if cell.startswith(FORMULA_PREFIXES):
            float(cell)  # only numbers (a credit, -5.00) may start like a formula
    names = [dict(zip(header, r, strict=True))["source_file"] for r in rows[1:]]
    assert "'=HYPERLINK(1).csv" in names and "'@SUM(1)+cmd.csv" in names
    # Money columns are numbers in the CSV, exact to the penny.
    frame = pd.read_csv(io.StringIO(data.decode("utf-8-sig")))
    assert frame["kept_total_gbp"].dtype.kind == "f"


def test_summary_lines_cannot_be_forged_by_a_file_name(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    small_corpus(raw)
    (raw / "x\nFAILED nothing: forged\r.csv").write_bytes(b"\x00\x01binary")
    summary = ingest(raw, tmp_path / "out", progress=False)
    lines = summary.text().splitlines()
    assert [li for li in lines if "FAILED" in li] == [
        next(li for li in lines if li.startswith("  FAILED x\\nFAILED nothing: forged\\r.csv"))]


def test_the_cli_reports_a_user_error_in_one_line(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(tmp_path / "nowhere"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "raw folder not found" in err[0]
    assert issubclass(BuildError, SpendkitError)


def test_a_killed_child_is_not_a_user_error() -> None:
    # Guard for the helpers above: RLIMIT and signals are available on this platform.
    assert hasattr(resource, "RLIMIT_FSIZE") and hasattr(signal, "SIGXFSZ")


def test_files_without_a_publisher_are_named_with_what_to_do(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    small_corpus(raw)
    for name in ("payments-1.csv", "payments-2.csv"):
        (raw / name).write_text("Date,Supplier,Amount\n01/05/2024,Widgets Ltd,12.50\n")
    text = ingest(raw, tmp_path / "out", progress=False).text()
    at = text.index("PUBLISHER NOT IDENTIFIED in 2 file(s): ")
    assert "folder named after the council" in text[at:].splitlines()[0] \
        or "profile" in text[at:].splitlines()[0]
    assert text[at:].splitlines()[1:3] == ["    payments-1.csv", "    payments-2.csv"]
