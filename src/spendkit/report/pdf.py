"""Print report pages to PDF with headless Chromium (Debian's `chromium`).

Charts are drawn before printing (Chromium runs the page's scripts under a virtual time
budget); the pages' print stylesheet starts each section on a new page and keeps tables and
charts whole. Where no Chromium is installed the PDFs are skipped with a clear reason, never
with a traceback.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from spendkit.errors import BuildError

#: Executables tried, in order.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Flags that work as root in a container with no display (see the notes on the Jupyter stack).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--host-resolver-rules=MAP * ~NOTFOUND")
#: Milliseconds of virtual time a page gets to decompress plotly.js and draw its charts.
VIRTUAL_TIME_MS = 20000


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable on PATH, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(page: Path, pdf: Path, chromium: str, *, timeout: int = 120) -> Path:
    """Print one HTML page to `pdf`; BuildError with Chromium's last words on failure."""
    with tempfile.TemporaryDirectory(prefix="spendkit-chromium-") as profile:
        try:
            run = subprocess.run(
                [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                 f"--virtual-time-budget={VIRTUAL_TIME_MS}", "--no-pdf-header-footer",
                 f"--print-to-pdf={pdf}", page.resolve().as_uri()],
                capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BuildError(f"{page.name}: Chromium could not print it ({exc})") from None
    if run.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = " ".join(run.stderr.strip().splitlines()[-2:])
        raise BuildError(f"{page.name}: Chromium could not print it ({tail})")
    return pdf


def print_pdfs(pages: Sequence[Path]) -> tuple[dict[Path, Path], str]:
    """Print each page beside itself as .pdf; returns ({page: pdf}, reason skipped or '')."""
    chromium = find_chromium()
    if chromium is None:
        return {}, ("PDFs skipped: no Chromium found (install Debian's `chromium`, e.g. "
                    "`apt-get install chromium`)")
    printed = {}
    for page in pages:
        printed[page] = print_pdf(page, page.with_suffix(".pdf"), chromium)
    return printed, ""


__all__ = ["CHROMIUM_FLAGS", "find_chromium", "print_pdf", "print_pdfs"]
