"""Headers → canonical fields, using the alias table in package data (quirks are data, not code).

`package_data/column_aliases.csv` lists normalised header spellings (`alias_key`) for each field,
with a priority: when two published columns could fill one field (Leeds' 'Expenditure Category'
and 'Detailed Expenses Type'), the lower priority number wins and the other is kept under its own
name. Headers not in the table are matched by keyword as a last resort and reported.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache

from spendkit.settings import PACKAGE_DATA

#: Fields a transaction list must have, and those that make a file look like one.
REQUIRED = ("amount_gbp", "supplier_name")
#: Keyword fallbacks for headers never seen before: (regex on the key, field, priority).
_KEYWORDS = (
    (re.compile(r"amount|value|nett?$|gross"), "amount_gbp", 60),
    (re.compile(r"supplier|beneficiary|payee|vendor|merchant|creditor"), "supplier_name", 60),
    (re.compile(r"date"), "payment_date", 60),
    (re.compile(r"expen|subjective|account"), "expense_type", 70),
    (re.compile(r"service|department|directorate|division|costcent"), "service_area", 70),
    (re.compile(r"description|narrative|purpose|details"), "description", 70),
    (re.compile(r"transaction|reference|refno|docno"), "transaction_id", 70),
)


@lru_cache(maxsize=50_000)
def header_key(text: str) -> str:
    """Normalise a header cell: lower case, letters and digits only ('Net Amount(£)' → 'netamount')."""
    key = re.sub(r"[^0-9a-z]+", "", text.lower())
    return re.sub(r"(gbp|inc?vat|exvat)$", "", key) if len(key) > 6 else key


@lru_cache(maxsize=1)
def alias_table() -> dict[str, list[tuple[str, int]]]:
    """alias_key → [(field, priority)] from package_data/column_aliases.csv."""
    table: dict[str, list[tuple[str, int]]] = {}
    with open(PACKAGE_DATA / "column_aliases.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            table.setdefault(row["alias_key"], []).append((row["field"], int(row["priority"])))
    return table


@lru_cache(maxsize=50_000)
def _candidates(key: str) -> tuple[tuple[str, int, str], ...]:
    """(field, priority, how) candidates for one header key."""
    exact = alias_table().get(key)
    if exact:
        return tuple((f, p, "alias") for f, p in exact)
    return tuple((f, p, "keyword") for rx, f, p in _KEYWORDS if key and rx.search(key))


def header_score(cells: list[str]) -> tuple[int, bool]:
    """How much a row looks like a header: distinct fields matched exactly, and whether it could
    be a transaction header (has amount and supplier fields)."""
    fields = set()
    for c in cells:
        for f, _p, how in _candidates(header_key(c)):
            if how == "alias":
                fields.add(f)
    return len(fields), all(f in fields for f in REQUIRED)


@dataclass
class ColumnMapping:
    """Which source column fills each canonical field, and what else was published."""

    fields: dict[str, int]
    extras: dict[str, int]
    headers: list[str]
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, str]:
        """{canonical field or kept name: source header as written}."""
        out = {f: self.headers[i] for f, i in self.fields.items()}
        out.update({name: self.headers[i] or f"(column {i + 1})" for name, i in self.extras.items()})
        return out


def _snake(text: str) -> str:
    s = re.sub(r"[^0-9a-zA-Z]+", "_", text.strip()).strip("_").lower()
    return s or "unnamed"


def map_columns(headers: list[str]) -> ColumnMapping:
    """Assign header cells to canonical fields by alias priority; keep the rest as extras."""
    cands = []
    for idx, h in enumerate(headers):
        for f, p, how in _candidates(header_key(h)):
            cands.append((p, idx, f, how))
    cands.sort()
    fields: dict[str, int] = {}
    used: set[int] = set()
    warnings: list[str] = []
    for p, idx, f, how in cands:
        if f in fields or idx in used:
            continue
        rivals = [headers[i] for q, i, g, _ in cands if g == f and q == p and i != idx and i not in used]
        if rivals and f in REQUIRED:
            warnings.append(
                f"ambiguous {f}: columns {headers[idx]!r} and {', '.join(map(repr, rivals))} "
                f"both fit; used {headers[idx]!r} (the first)")
        if how == "keyword":
            warnings.append(f"header {headers[idx]!r} is not in the alias table; "
                            f"taken as {f} by keyword")
        fields[f] = idx
        used.add(idx)
    extras: dict[str, int] = {}
    unnamed = []
    for idx, h in enumerate(headers):
        if idx in used:
            continue
        name = _snake(h) if h.strip() else f"column_{idx + 1}"
        if not h.strip() or not re.search(r"[0-9A-Za-z]", h):
            unnamed.append(idx)
        base, n = name, 2
        while name in extras or name in fields:
            name, n = f"{base}_{n}", n + 1
        extras[name] = idx
    named_extras = [headers[i] for i in extras.values() if i not in unnamed]
    if named_extras:
        warnings.append("not mapped to a canonical field (kept under their own names): "
                        + ", ".join(repr(h) for h in named_extras))
    if unnamed:
        warnings.append(
            f"{len(unnamed)} column(s) without a usable header name at position(s) "
            f"{', '.join(str(i + 1) for i in unnamed[:10])}{' …' if len(unnamed) > 10 else ''}"
            ": kept as column_N where they hold data, dropped where empty")
    return ColumnMapping(fields, extras, list(headers), warnings)
