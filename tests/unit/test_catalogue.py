"""The package-data catalogue describes every file spendkit ships, and each file fits it."""

from __future__ import annotations

import csv

import pytest

from spendkit.errors import ReferenceDataError
from spendkit.reference import catalogue
from spendkit.settings import PACKAGE_DATA


def test_every_package_data_file_is_catalogued() -> None:
    covered = set()
    for res in catalogue.resources().values():
        covered |= {res.path} if res.path.is_file() else set(res.path.rglob("*"))
    shipped = {p for p in PACKAGE_DATA.rglob("*") if p.is_file()
               and p.name not in ("catalogue.yaml", "README.md")}
    assert not sorted(shipped - covered), f"not in catalogue.yaml: {sorted(shipped - covered)}"


@pytest.mark.parametrize("name", sorted(n for n, r in catalogue.resources().items()
                                        if r.path.suffix == ".csv"))
def test_each_csv_has_its_catalogued_columns_and_a_source(name: str) -> None:
    res = catalogue.resource(name)
    with open(res.path, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == res.columns
    assert res.source and res.licence and res.description
    table = catalogue.read_csv(name)
    assert len(table) > 0
    if "source" in table.columns:
        assert (table["source"].str.strip() != "").all(), f"{name}: a row without a source"


def test_unknown_resource_names_the_known_ones() -> None:
    with pytest.raises(ReferenceDataError, match="no such resource; known: .*column_aliases"):
        catalogue.path("no_such_table")


def test_ingest_inputs_are_the_loader_and_enrich_tables() -> None:
    names = {p.name for p in catalogue.ingest_inputs()}
    assert {"column_aliases.csv", "it_rules.csv", "suppliers.csv"} <= names
    assert "prices.csv" not in names  # Microsoft prices never change what the ingest writes
