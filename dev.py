#!/usr/bin/env python3
"""Set up the project's environment and run its main jobs, with nothing but Python 3.11+.

    python3 dev.py report   # create .venv if needed, ingest data/raw, build reports/
                            # (data/raw empty: the bundled SYNTHETIC sample, data/sample/raw)
    python3 dev.py test     # create .venv if needed, run ruff and the whole test suite
    python3 dev.py setup    # only create/refresh .venv

Extra arguments after the job name go to the underlying command (pytest or spendkit report).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".spendkit-installed"


def _run(cmd: list[str], **kwargs) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kwargs)


def setup() -> None:
    """Create .venv and install the project with its dev extras when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit(f"spendkit needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists() and not (BIN / "python.exe").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == want:
        return
    py = BIN / "python"
    if _run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"]) != 0:
        sys.exit("could not upgrade pip in .venv")
    if _run([py, "-m", "pip", "install", "-q", "-e", ".[dev]"]) != 0:
        sys.exit("could not install spendkit and its dependencies into .venv")
    STAMP.write_text(want)


def main(argv: list[str]) -> int:
    job = argv[0] if argv else "help"
    rest = argv[1:]
    if job == "setup":
        setup()
        return 0
    if job == "test":
        setup()
        if _run([BIN / "ruff", "check", "src", "tests", "benchmarks", "dev.py"]) != 0:
            return 1
        return _run([BIN / "python", "-m", "pytest", *rest])
    if job == "report":
        setup()
        return _run([BIN / "spendkit", "report", *rest])
    print(__doc__)
    return 0 if job in {"help", "-h", "--help"} else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
