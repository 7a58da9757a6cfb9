"""Scenario YAML validation: clear errors naming file, key path and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from spendkit.errors import ReferenceDataError, SpendkitError
from spendkit.models.scenarios.spec import load_scenario, parse_scenario

GOOD = """\
schema_version: 1
name: mine
review_years: 2
funding: {basis: real, change_pct: [1, {value: 2, dist: triangular, low: 0, high: 3}]}
grants:
  - {name: LDF, amount_gbp: 100000, year: 2, probability: 0.25}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my-scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_users_own_file_loads(tmp_path: Path) -> None:
    spec = load_scenario(write(tmp_path, GOOD))
    assert spec.name == "mine" and spec.review_years == 2 and spec.funding_basis == "real"
    assert [q.value for q in spec.funding_change_pct] == [1.0, 2.0]
    assert spec.funding_change_pct[1].bounds() == (0.0, 3.0)
    assert spec.grants[0].probability.bounds() == (0.0, 1.0)
    assert spec.title == "mine"


@pytest.mark.parametrize(("extra", "key", "expected"), [
    ("fundng: {}\n", "fundng", "unknown key 'fundng'"),
    ("funding: {basis: cash, chnage_pct: 1}\n", "funding.chnage_pct", "unknown key"),
    ("legacy_replacements:\n  - {name: x, year: 1, one_off_cost_gbp: -5}\n",
     "legacy_replacements[1].one_off_cost_gbp", "expected a cost in £ >= 0, found -5"),
    ("grants:\n  - {name: g, amount_gbp: 1, year: 1, probability: 1.5}\n",
     "grants[1].probability", "expected a probability >= 0 and <= 1, found 1.5"),
    ("funding: {basis: nominal}\n", "funding.basis", "expected one of ['cash', 'real', 'settlement']"),
    ("funding: {change_pct: [1, 2, 3]}\n", "funding.change_pct",
     "expected 2 values (one per review year)"),
    ("inflation: {rate_pct: {value: 5, dist: triangular, low: 6, high: 9}}\n",
     "inflation.rate_pct", "expected low <= value <= high"),
    ("inflation: {rate_pct: {value: 5, dist: lognormal}}\n", "inflation.rate_pct.dist",
     "expected one of"),
    ("inflation: {rate_pct: 'two'}\n", "inflation.rate_pct", "expected a number"),
    ("shared_services:\n  - {name: s, saving_pct: 120}\n", "shared_services[1].saving_pct",
     "<= 100"),
    ("shared_services:\n  - {name: s, saving_pct: 10, start_year: 3}\n",
     "shared_services[1].start_year", "at most 2"),
    ("match_best_peers: {quantile: 1.5, gap_closed_pct: 50}\n", "match_best_peers.quantile",
     "between 0 and 1"),
])
def test_bad_values_name_file_key_and_expectation(tmp_path: Path, extra: str, key: str,
                                                  expected: str) -> None:
    base = "schema_version: 1\nname: bad\nreview_years: 2\n"
    path = write(tmp_path, base + extra)
    with pytest.raises(ReferenceDataError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}: ")
    assert expected in message
    assert isinstance(info.value, SpendkitError)


def test_schema_version_and_required_keys() -> None:
    with pytest.raises(ReferenceDataError, match=r"x.yaml: schema_version: expected 1, found 2"):
        parse_scenario({"schema_version": 2, "name": "n"}, "x.yaml")
    with pytest.raises(ReferenceDataError, match=r"x.yaml: name: required key is missing"):
        parse_scenario({"schema_version": 1}, "x.yaml")
    with pytest.raises(ReferenceDataError, match="expected a mapping"):
        parse_scenario(["not", "a", "mapping"], "x.yaml")


def test_unreadable_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="not valid YAML"):
        load_scenario(write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(ReferenceDataError, match="file not found"):
        load_scenario(tmp_path / "absent.yaml")
    with pytest.raises(ReferenceDataError, match="no packaged scenario"):
        load_scenario("no-such-scenario")
