"""The catalogue of package data: one reader for every reference resource spendkit ships.

`package_data/catalogue.yaml` lists each resource once: its path, the stage it serves, its
columns, source and licence, and whether it changes what the ingest writes. Modules ask for a
resource by name (`read_csv("ms_prices")`, `path("column_aliases")`) instead of building paths,
so a file can move or grow a column in one place, and `ingest_inputs()` gives the files whose
change forces a re-ingest (no hand-kept list).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from spendkit.errors import ReferenceDataError
from spendkit.settings import PACKAGE_DATA

CATALOGUE = PACKAGE_DATA / "catalogue.yaml"


@dataclass(frozen=True)
class Resource:
    """One catalogued file or folder of package data."""

    name: str
    path: Path
    serves: str
    affects_ingest: bool
    description: str
    columns: tuple[str, ...] = ()
    source: str = ""
    licence: str = ""


@cache
def resources() -> dict[str, Resource]:
    """Every catalogued resource by name (files and folders)."""
    raw = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8")) or {}
    out: dict[str, Resource] = {}
    for section in ("resources", "folders"):
        for name, entry in (raw.get(section) or {}).items():
            try:
                out[name] = Resource(
                    name=name, path=PACKAGE_DATA / entry["path"], serves=entry["serves"],
                    affects_ingest=bool(entry.get("affects_ingest", False)),
                    description=entry.get("description", ""),
                    columns=tuple(entry.get("columns") or ()), source=entry.get("source", ""),
                    licence=entry.get("licence", ""))
            except (KeyError, TypeError) as exc:
                raise ReferenceDataError(str(CATALOGUE), f"{section}.{name}",
                                         f"expected path and serves ({exc})") from exc
    return out


def resource(name: str) -> Resource:
    """The catalogue entry `name`; ReferenceDataError naming the known ones otherwise."""
    try:
        return resources()[name]
    except KeyError:
        raise ReferenceDataError(str(CATALOGUE), name, "no such resource; known: "
                                 + ", ".join(sorted(resources()))) from None


def path(name: str) -> Path:
    """Where the resource `name` lives."""
    return resource(name).path


@cache
def _read(name: str) -> pd.DataFrame:
    entry = resource(name)
    table = pd.read_csv(entry.path, dtype=str, keep_default_na=False)
    missing = [c for c in entry.columns if c not in table.columns]
    if missing:
        raise ReferenceDataError(str(entry.path), "header",
                                 f"missing column(s) {missing}; the catalogue expects "
                                 f"{list(entry.columns)}")
    return table


def read_csv(name: str) -> pd.DataFrame:
    """The resource `name` as text columns (empty cells as ''), checked against its columns.

    Returns a copy: callers may type and change it freely.
    """
    return _read(name).copy()


def ingest_inputs() -> list[Path]:
    """Files whose content decides what `spendkit ingest` writes, in a stable order."""
    return sorted(r.path for r in resources().values() if r.affects_ingest)


__all__ = ["Resource", "ingest_inputs", "path", "read_csv", "resource", "resources"]
