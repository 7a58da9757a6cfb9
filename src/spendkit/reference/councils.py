"""Who published a file: council names, GSS codes and optional publisher profiles.

Names and codes come from mySociety's list of UK local authorities (CC BY 4.0, derived copy in
`package_data/reference/mysociety/`). `package_data/loader/publisher_profiles.csv` holds what detection cannot
know (VAT basis, reporting threshold) and overrides what it gets wrong, matched on the path.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

from spendkit.reference import catalogue

_SUFFIXES = re.compile(
    r"\b(city|borough|county|district|metropolitan|mdc|council|of|the|london|royal|"
    r"unitary|authority|ua)\b")


@dataclass(frozen=True)
class Publisher:
    """A resolved publisher: official name, GSS code (may be empty) and how it was found."""

    name: str
    code: str
    basis: str
    vat_basis: str = ""
    threshold_gbp: str = ""


@dataclass(frozen=True)
class Profile:
    """A row of publisher_profiles.csv."""

    path_pattern: str
    publisher_name: str
    publisher_code: str
    vat_basis: str
    threshold_gbp: str
    encoding: str
    header_line: str
    notes: str
    source: str
    #: column choices the loader must make this way: 'amount_gbp=Net Amount;payment_date=Paid'
    columns: str = ""


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9]+", " ", text.lower())).strip()


@lru_cache(maxsize=1)
def _authorities() -> dict[str, tuple[str, str]]:
    """3-letter code → (official name, GSS code)."""
    out = {}
    with open(catalogue.path("mysociety_authorities"), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["local-authority-code"]] = (row["official-name"], row["gss-code"])
    return out


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    """Normalised name variant → 3-letter code (exact variants, then suffix-stripped ones)."""
    index: dict[str, str] = {}
    stripped: dict[str, set[str]] = {}
    with open(catalogue.path("mysociety_names"), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = _norm(row["name"])
            index.setdefault(key, row["local_authority_code"])
            short = _SUFFIXES.sub(" ", key).split()
            if short:
                stripped.setdefault(" ".join(short), set()).add(row["local_authority_code"])
    for key, codes in stripped.items():
        if len(codes) == 1:  # 'oxford' is the city, 'oxfordshire' the county: only unique keys
            index.setdefault(key, next(iter(codes)))
    return index


def match_authority(text: str) -> tuple[str, str] | None:
    """(official name, GSS code) for a council name or folder slug, or None if not unique."""
    key = _norm(text)
    if not key:
        return None
    code = _name_index().get(key)
    if code is None:
        short = " ".join(_SUFFIXES.sub(" ", key).split())
        code = _name_index().get(short)
    return _authorities().get(code) if code else None


@lru_cache(maxsize=1)
def profiles() -> tuple[Profile, ...]:
    """Publisher profiles from package data, in file order (first match wins)."""
    with open(catalogue.path("publisher_profiles"), encoding="utf-8", newline="") as fh:
        return tuple(Profile(**row) for row in csv.DictReader(fh))


def profile_for(path: str) -> Profile | None:
    """The first profile whose pattern occurs in the path's folder names (case-insensitive)."""
    folders = "/".join(path.replace("\\", "/").lower().split("/")[:-1])
    for p in profiles():
        if p.path_pattern and p.path_pattern.lower() in folders:
            return p
    return None


def resolve_publisher(path: str, requested: str | None, column_values: list[str]) -> Publisher:
    """Decide a file's publisher from the argument, a profile, the data, or the folder name."""
    prof = profile_for(path)
    vat = prof.vat_basis if prof else ""
    thr = prof.threshold_gbp if prof else ""
    if requested:
        hit = match_authority(requested)
        by_code = [v for v in _authorities().values() if v[1] == requested.strip()]
        if by_code:
            hit = by_code[0]
        if hit:
            return Publisher(hit[0], hit[1], "argument", vat, thr)
        return Publisher(requested.strip(), "", "argument (not in the local authority list)",
                         vat, thr)
    if prof:
        return Publisher(prof.publisher_name, prof.publisher_code, "profile", vat, thr)
    for value in column_values:
        hit = match_authority(value)
        if hit:
            return Publisher(hit[0], hit[1], "column", vat, thr)
    parts = path.replace("\\", "/").split("/")[:-1]
    for folder in reversed(parts):
        hit = match_authority(folder.replace("-", " ").replace("_", " "))
        if hit:
            return Publisher(hit[0], hit[1], "folder name", vat, thr)
    if column_values:
        return Publisher(column_values[0], "", "column (not in the local authority list)", vat, thr)
    return Publisher("Unknown publisher", "", "unknown", vat, thr)
