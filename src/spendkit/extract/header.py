"""Which row is the header, and which canonical field each header cell names.

The vocabulary is data: `package_data/loader/column_aliases.csv` lists normalised header spellings
(`alias_key`) for each canonical field, with a priority. A row is a header when several of its
cells are known aliases; a transaction header names at least an amount and a supplier. The
header is searched for among the first `HEAD_ROWS` non-blank rows (after any report preamble)
and the last `TAIL_ROWS` (some files put it on the last line). `spendkit.transform.columns`
maps the chosen header's cells to fields with the same vocabulary.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache

from spendkit.reference import catalogue

HEAD_ROWS = 40  # the header must be among the first 40 non-blank rows …
TAIL_ROWS = 3  # … or the last 3 (Hyndburn Sept 2025 has it as the last line)

#: Fields a transaction list must have, and those that make a file look like one.
REQUIRED = ("amount_gbp", "supplier_name")
#: Keyword fallbacks for headers never seen before: (regex on the key, field, priority).
_KEYWORDS = (
    (re.compile(r"amount|amt$|value|nett?$|gross"), "amount_gbp", 60),
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
    """alias_key → [(field, priority)] from package_data/loader/column_aliases.csv."""
    table: dict[str, list[tuple[str, int]]] = {}
    with open(catalogue.path("column_aliases"), encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            table.setdefault(row["alias_key"], []).append((row["field"], int(row["priority"])))
    return table


@lru_cache(maxsize=50_000)
def candidates(key: str) -> tuple[tuple[str, int, str], ...]:
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
        for f, _p, how in candidates(header_key(c)):
            if how == "alias":
                fields.add(f)
    return len(fields), all(f in fields for f in REQUIRED)


def find_header(rows: list[list[str]]) -> tuple[int, bool] | None:
    """Position of the best header among candidate rows, and whether it is a transaction one.

    A row naming two or more fields by alias wins; failing that, a plain row of text labels
    above figures (`_plain_label_row`)."""
    best, best_key = None, (0, False, 0)
    for pos, cells in enumerate(rows):
        score, full = header_score(cells)
        key = (int(full), score, -pos)
        if score >= 2 and key > best_key:
            best, best_key = pos, key
        if best is not None and best_key[0] and pos >= best + 3:
            break  # a full header, and the next rows are data: no need to read further
    if best is None:
        return _plain_label_row(rows)
    return best, bool(best_key[0])


def _plain_label_row(rows: list[list[str]]) -> tuple[int, bool] | None:
    """A header the alias table barely knows: the first row of at least three text labels
    (no digits), one of them a known alias or keyword, above a row of as many cells that
    holds figures. The columns are then chosen from the rows' content."""
    for pos, cells in enumerate(rows[:-1]):
        labels = [c for c in cells if c.strip()]
        if len(labels) < 3 or any(_DIGIT.search(c) for c in labels):
            continue
        if not any(candidates(header_key(c)) for c in labels):
            continue
        below = [c for c in rows[pos + 1] if c.strip()]
        if len(below) >= len(labels) - 1 and any(_DIGIT.search(c) for c in below):
            return pos, False
    return None


_DIGIT = re.compile(r"\d")


