"""Hand-written raw files for the ingest tests (generated in the test, never copied data)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

HEADER = "Organisation Label,Payment Date,Beneficiary Name,Amount,Expense Type\n"
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "raw"


def spend_csv(path: Path, rows: Iterable[tuple[str, str, str, str]],
              council: str = "Hyndburn Borough Council") -> Path:
    """Write a small spending CSV: rows of (dd/mm/yyyy, supplier, amount, expense type)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [HEADER] + [f"{council},{d},{s},{a},{e}\n" for d, s, a, e in rows]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def month_rows(year: int, month: int, n: int = 6, salt: int = 0,
               supplier: str = "Widgets Ltd") -> list[tuple[str, str, str, str]]:
    """n distinct payments in one month (amounts differ by salt, so files do not repeat)."""
    return [(f"{1 + i:02d}/{month:02d}/{year}", f"{supplier} {i % 3}",
             f"{100 + i * 7 + salt * 1000}.{i:02d}", "Stationery") for i in range(n)]


def small_corpus(raw: Path) -> dict[str, Path]:
    """Two councils over two financial years, with supplier spellings whose canonical name
    depends on which file is enriched first (the history trap of issue 22.8)."""
    files = {
        "hyndburn/2023-03.csv": spend_csv(raw / "hyndburn/2023-03.csv", month_rows(2023, 3)),
        "hyndburn/2023-04.csv": spend_csv(
            raw / "hyndburn/2023-04.csv",
            month_rows(2023, 4, salt=1) + [("10/04/2023", "ACME SUPPLIES LTD", "250.00",
                                             "ICT Software")] * 1
            + [("11/04/2023", "ACME SUPPLIES LTD", "251.00", "ICT Software"),
               ("12/04/2023", "ACME SUPPLIES LTD", "252.00", "ICT Software")]),
        "hyndburn/2023-05.csv": spend_csv(
            raw / "hyndburn/2023-05.csv",
            month_rows(2023, 5, salt=2) + [("10/05/2023", "Acme Supplies Limited", "99.00",
                                             "ICT Software")]),
        "oxford/2023-04.csv": spend_csv(raw / "oxford/2023-04.csv",
                                        month_rows(2023, 4, salt=3), "Oxford City Council"),
        "oxford/2024-04.csv": spend_csv(raw / "oxford/2024-04.csv",
                                        month_rows(2024, 4, salt=4), "Oxford City Council"),
    }
    return files


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under a folder (links followed) → its SHA-256."""
    folder = folder.resolve()
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_spendkit(args: list[str], *, preexec=None, env: dict | None = None,
                 code: str | None = None, timeout: float = 120
                 ) -> subprocess.CompletedProcess:
    """Run `spendkit ARGS` (or a Python snippet) in a child process of this interpreter."""
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "spendkit.cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
                                                   **(env or {})})
