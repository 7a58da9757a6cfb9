"""Where spendkit reads and writes: one settings object, overridable by environment variables.

`SPENDKIT_DATA_DIR` points at a folder holding `raw/` and `processed/` (default: the project's
`data/` when running from a checkout, else `./data`). `SPENDKIT_REPORTS_DIR` overrides
`reports/`, `SPENDKIT_NOTEBOOKS_DIR` the notebooks folder, `SPENDKIT_COUNCILS_DIR` the folder
of council profiles (default `<data dir>/councils`, so a data folder carries its own).
No package code builds a path relative to the current directory except through this module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DATA = Path(__file__).resolve().parent / "package_data"


def _project_root() -> Path | None:
    """The checkout root when spendkit is installed editable from one, else None."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "notebooks").is_dir():
            return parent
    return None


@dataclass(frozen=True)
class Settings:
    """Resolved folders for raw files, processed outputs and reports."""

    data_dir: Path
    reports_dir: Path
    notebooks_dir: Path

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def processed_dir(self) -> Path:
        return self.data_dir / "processed"

    @property
    def councils_dir(self) -> Path:
        """Council profiles (`<slug>.yaml`): SPENDKIT_COUNCILS_DIR, else `<data dir>/councils`."""
        override = os.environ.get("SPENDKIT_COUNCILS_DIR")
        return Path(override).resolve() if override else self.data_dir / "councils"


def get_settings() -> Settings:
    """Resolve the settings from the environment, falling back to the project layout."""
    root = _project_root()
    base = root if root is not None else Path.cwd()
    data = Path(os.environ.get("SPENDKIT_DATA_DIR", base / "data"))
    reports = Path(os.environ.get("SPENDKIT_REPORTS_DIR", base / "reports"))
    notebooks = Path(os.environ.get("SPENDKIT_NOTEBOOKS_DIR", base / "notebooks"))
    return Settings(data_dir=data.resolve(), reports_dir=reports.resolve(),
                    notebooks_dir=notebooks.resolve())
