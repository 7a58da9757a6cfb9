"""Headers → canonical fields, using the alias table in package data (quirks are data, not code).

`package_data/loader/column_aliases.csv` lists normalised header spellings (`alias_key`) for each field,
with a priority: when two published columns could fill one field (Leeds' 'Expenditure Category'
and 'Detailed Expenses Type'), the lower priority number wins and the other is kept under its own
name. Headers not in the table are matched by keyword as a last resort and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spendkit.extract.header import REQUIRED, candidates, header_key


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


def column_candidates(headers: list[str]) -> list[tuple[int, int, str, str]]:
    """(priority, column index, field, 'alias' or 'keyword') for every header cell, best first."""
    cands = []
    for idx, h in enumerate(headers):
        for f, p, how in candidates(header_key(h)):
            cands.append((p, idx, f, how))
    cands.sort()
    return cands


def map_columns(headers: list[str], fixed: dict[str, int] | None = None) -> ColumnMapping:
    """Assign header cells to canonical fields by alias priority; keep the rest as extras.

    `fixed` holds fields already chosen (by `choose.choose_columns`, from the rows' content);
    the other fields take the remaining columns by priority.
    """
    cands = column_candidates(headers)
    fields: dict[str, int] = dict(fixed or {})
    used: set[int] = set(fields.values())
    warnings: list[str] = []
    # Columns competing for one field at one priority (grouped once: a header of thousands of
    # cells must not cost thousands squared).
    alike: dict[tuple[str, int], list[int]] = {}
    for p, idx, f, _how in cands:
        alike.setdefault((f, p), []).append(idx)
    for p, idx, f, how in cands:
        if f in fields or idx in used:
            continue
        rivals = [headers[i] for i in alike[(f, p)] if i != idx and i not in used] \
            if f in REQUIRED else []
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
    suffix: dict[str, int] = {}  # the next number to try for a repeated name
    for idx, h in enumerate(headers):
        if idx in used:
            continue
        name = _snake(h) if h.strip() else f"column_{idx + 1}"
        if not h.strip() or not re.search(r"[0-9A-Za-z]", h):
            unnamed.append(idx)
        base, n = name, suffix.get(name, 2)
        while name in extras or name in fields:
            name, n = f"{base}_{n}", n + 1
        suffix[base] = n
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
