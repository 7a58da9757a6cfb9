"""Where spendkit reads and writes: one settings object, overridable by environment variables.

`SPENDKIT_DATA_DIR` points at a folder holding `raw/` (the analyst's published files) and
`processed/` (default: the project's `data/` when running from a checkout, else `./data`).
`SPENDKIT_SAMPLE_DIR` is the bundled SYNTHETIC sample's folder (`raw/` made by `spendkit
sample`, its own `processed/`; default: the checkout's `data/sample`, else `<data>/sample`).
`SPENDKIT_REPORTS_DIR` overrides `reports/`, `SPENDKIT_NOTEBOOKS_DIR` the notebooks folder,
`SPENDKIT_COUNCILS_DIR` the folder of council profiles (default: `councils/` beside the raw
folder in use, so the sample carries its own and a data folder its own).

The sample never mixes with real files: `raw_dir` is the analyst's `data/raw` as soon as it
holds one data file, and the sample's raw folder only while `data/raw` holds none; each has its
own processed folder (`processed_dir_for`). Everything that shows provenance says which it is
(`uses_sample`). No package code builds a path relative to the current directory except
through this module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DATA = Path(__file__).resolve().parent / "package_data"

#: Suffixes of the files a raw folder is read for (whatever their real format turns out to be).
DATA_SUFFIXES = frozenset({".csv", ".txt", ".xls", ".xlsx", ".xlsm", ".zip", ".tsv"})


def is_data_file_name(name: str) -> bool:
    """True for a name the ingest reads: a data suffix, not hidden, not a README or manifest."""
    lower = name.lower()
    return (not name.startswith(".") and Path(lower).suffix in DATA_SUFFIXES
            and not lower.endswith("manifest.csv") and not lower.startswith("readme"))


def holds_data_files(folder: Path) -> bool:
    """True when `folder` (searched recursively, stopping at the first hit) holds a data file."""
    if not folder.is_dir():
        return False
    for _dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if any(is_data_file_name(f) for f in filenames):
            return True
    return False


def _project_root() -> Path | None:
    """The checkout root when spendkit is installed editable from one, else None."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "notebooks").is_dir():
            return parent
    return None


@dataclass(frozen=True)
class Settings:
    """Resolved folders for raw files, processed outputs, the bundled sample and reports."""

    data_dir: Path
    reports_dir: Path
    notebooks_dir: Path
    sample_dir: Path

    @property
    def user_raw_dir(self) -> Path:
        """The analyst's own raw folder (`data/raw`), whether or not it holds files."""
        return self.data_dir / "raw"

    @property
    def sample_raw_dir(self) -> Path:
        """The bundled SYNTHETIC sample's raw files (`data/sample/raw`)."""
        return self.sample_dir / "raw"

    @property
    def uses_sample(self) -> bool:
        """True while `data/raw` holds no data file, so the bundled sample stands in for it."""
        return not holds_data_files(self.user_raw_dir)

    @property
    def raw_dir(self) -> Path:
        """The raw folder to ingest: `data/raw` when it holds data, else the bundled sample."""
        return self.sample_raw_dir if self.uses_sample else self.user_raw_dir

    @property
    def processed_dir(self) -> Path:
        """The processed folder that goes with `raw_dir`."""
        return self.processed_dir_for(self.raw_dir)

    def processed_dir_for(self, raw: Path) -> Path:
        """The processed folder for a raw folder: the sample's own for the sample, else
        `data/processed` (so a sample build never replaces a build of real files)."""
        if Path(raw).resolve() == self.sample_raw_dir.resolve():
            return self.sample_dir / "processed"
        return self.data_dir / "processed"

    @property
    def councils_dir(self) -> Path:
        """Council profiles (`<slug>.yaml`): SPENDKIT_COUNCILS_DIR, else `councils/` beside the
        raw folder in use (`data/councils`, or `data/sample/councils` for the sample)."""
        override = os.environ.get("SPENDKIT_COUNCILS_DIR")
        if override:
            return Path(override).resolve()
        return (self.sample_dir if self.uses_sample else self.data_dir) / "councils"


def get_settings() -> Settings:
    """Resolve the settings from the environment, falling back to the project layout."""
    root = _project_root()
    base = root if root is not None else Path.cwd()
    data = Path(os.environ.get("SPENDKIT_DATA_DIR", base / "data"))
    reports = Path(os.environ.get("SPENDKIT_REPORTS_DIR", base / "reports"))
    notebooks = Path(os.environ.get("SPENDKIT_NOTEBOOKS_DIR", base / "notebooks"))
    sample_default = (root / "data" / "sample") if root is not None else data / "sample"
    sample = Path(os.environ.get("SPENDKIT_SAMPLE_DIR", sample_default))
    return Settings(data_dir=data.resolve(), reports_dir=reports.resolve(),
                    notebooks_dir=notebooks.resolve(), sample_dir=sample.resolve())
