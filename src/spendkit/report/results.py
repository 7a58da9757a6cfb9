"""What a report build produced: one `NotebookReport` per page and the `ReportSummary`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class NotebookReport:
    """One exported report: where it came from, where it went, and what it holds."""

    notebook: Path
    html: Path
    title: str
    size_bytes: int
    n_figures: int
    parameters: dict[str, Any]
    seconds: float
    analyst_html: Path | None = None
    pdf: Path | None = None
    exports: tuple[Path, ...] = ()
    self_checks: int = 0


@dataclass(frozen=True)
class ReportSummary:
    """What `build_reports` produced: the index page and one entry per notebook."""

    out_dir: Path
    index: Path
    reports: tuple[NotebookReport, ...]
    seconds: float
    unused_parameters: tuple[str, ...] = field(default=())
    pdf_skipped: str = ""

    def lines(self) -> list[str]:
        """One line per page (size, charts, time) for the terminal and build.log."""
        out = []
        for r in self.reports:
            extra = f", {len(r.exports)} export file(s)" if r.exports else ""
            extra += ", PDF" if r.pdf else ""
            out.append(f"{r.html.name}: {r.size_bytes / 1e6:.2f} MB, {r.n_figures} chart(s), "
                       f"{r.seconds:.1f} s{extra}")
        return out


__all__ = ["NotebookReport", "ReportSummary"]
