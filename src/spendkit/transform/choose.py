"""Which column fills each required field, chosen by evidence over the rows, not by header alone.

Headers propose candidates (`columns.column_candidates`: the alias table, then keywords). For
the three fields a transaction list cannot do without, the rows decide among them:

- `amount_gbp`: the share of filled cells that read as money. Among columns that read about as
  well as the best, a net column beats one of unknown basis, which beats a gross one (the
  Transparency Code asks for amounts excluding recoverable VAT); a VAT-only column is never the
  amount. The unchosen ones stay in the table under their own names.
- `payment_date`: the share of filled cells that read as dates between 1990 and 2100. A column
  that reads for 0% never beats one that reads (a `Period` of `201204` loses to `Updated`).
- `supplier_name`: the share of distinct values that look like organisations (Ltd, plc,
  Council, Trust, …) or redactions.

When no header names a field, every column no header claims for another field is scored and
the best that passes a floor is taken, *inferred*, with a warning. Each choice is returned as a
decision (field, chosen, basis, evidence, runner-up) for the ledger. A publisher profile can
name the header to use for a field (`columns` in publisher_profiles.csv); that wins, as basis
'profile'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.extract.grid import Grid
from spendkit.extract.header import candidates, header_key
from spendkit.transform.amounts import parse_amounts
from spendkit.transform.columns import ColumnMapping, column_candidates, map_columns
from spendkit.transform.dates import parse_dates
from spendkit.transform.text import clean_text

#: Rows read to score a candidate (spread evenly over the table).
SAMPLE_ROWS = 5000
#: Floors below which content does not make a column the field (inference only).
_MIN_AMOUNT_SHARE = 0.8
_MIN_DATE_SHARE = 0.8
_MIN_SUPPLIER_SHARE = 0.1
#: A candidate reading at least this share of the best one's is 'about as good'.
_CLOSE = 0.9

_ORGANISATION = re.compile(
    r"(?i)\b(ltd|limited|plc|llp|lp|inc|cic|co|company|corporation|council|trust|services?|"
    r"group|association|society|partnership|charity|university|college|school|academy|nhs|"
    r"borough|county|authority|consult\w*|solutions|systems|uk|church|centre|center|"
    r"foundation|housing|care|homes?|properties|construction|engineering|supplies|"
    r"redacted|withheld|personal data|individual|confidential)\b|&")
_VAT_ONLY = re.compile(r"(?i)\bvat\b|vatamount|vatamt|^vat")
_NET = re.compile(r"(?i)\bnett?\b|\bexcl?\b|exclud|\bex\.?\s*vat|exvat|net of vat|before vat|"
                  r"pre[- ]?vat|less vat|without vat")
_GROSS = re.compile(r"(?i)\bgross\b|\bincl?\b|includ|inc\.?\s*vat|incvat|with vat|plus vat")
_ROLE_RANK = {"net": 0, "unknown": 1, "gross": 2}


@dataclass
class Choice:
    """A scored candidate column for one field."""

    index: int
    header: str
    how: str  # 'alias', 'keyword', 'inferred' or 'profile'
    priority: int
    share: float  # share of filled sampled cells that read as the field
    filled: int  # filled sampled cells
    role: str = ""  # amount columns: 'net', 'gross', 'unknown' or 'vat'

    def describe(self) -> str:
        """'Net Amount' (column 7, alias; 99.8% of 5,000 filled cells read as money)."""
        return f"{self.header!r} (column {self.index + 1}, {self.how})"


def vat_role(header: str) -> str:
    """'net', 'gross', 'vat' (a VAT amount alone) or 'unknown', from an amount header's words."""
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", header).replace("_", " ")
    key = header_key(header)
    net = bool(_NET.search(words)) or bool(re.match(r"(sumof)?nett?(amount|amt|value|total)", key))
    gross = bool(_GROSS.search(words)) or "gross" in key
    if net and not gross:
        return "net"
    if gross and not net:
        return "gross"
    if _VAT_ONLY.search(words) or "vat" in key and not (net or gross):
        return "vat"
    return "unknown"


def _sample(col: pa.Array, n: int) -> pa.Array:
    if n <= SAMPLE_ROWS:
        return col
    return col.take(pa.array(np.linspace(0, n - 1, SAMPLE_ROWS).astype(np.int64)))


class _Scorer:
    """Content scores of a grid's columns, each computed once on an even sample of rows."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.cache: dict[tuple[str, int], tuple[float, int]] = {}
        self.text: dict[int, pa.Array] = {}

    def column(self, idx: int) -> pa.Array:
        if idx not in self.text:
            self.text[idx] = clean_text(_sample(self.grid.columns[idx], self.grid.n_rows))
        return self.text[idx]

    def plausible(self, field: str, idx: int) -> bool:
        """Extra evidence an unnamed column needs to be inferred as a field: amounts that
        show pence or a '£' (not bare integers, which are references), dates that are not
        only Excel serial numbers (which five-digit references also read as), several
        distinct supplier names."""
        col = self.column(idx)
        if field == "amount_gbp":
            money = pc.match_substring_regex(col, r"\.\d{1,2}\s*\)?-?$|£")
            return (pc.sum(money).as_py() or 0) >= 0.1 * max(self.score(field, idx)[1], 1)
        if field == "payment_date":
            return parse_dates(col).chosen_format not in ("", "excel serial")
        # Suppliers: several different names, not one repeated label.
        return len(pc.unique(col)) >= min(3, self.score(field, idx)[1])

    def score(self, field: str, idx: int) -> tuple[float, int]:
        """(share of filled cells that read as `field`, filled cells) of column idx."""
        key = (field, idx)
        if key not in self.cache:
            self.cache[key] = self._score(field, self.column(idx))
        return self.cache[key]

    @staticmethod
    def _score(field: str, col: pa.Array) -> tuple[float, int]:
        filled_mask = np.asarray(pc.greater(pc.utf8_length(col), 0), dtype=bool)
        filled = int(filled_mask.sum())
        if not filled:
            return 0.0, 0
        if field == "amount_gbp":
            parsed = parse_amounts(col)
            good = int((~parsed.invalid & ~parsed.missing).sum())
        elif field == "payment_date":
            parsed_dates = parse_dates(col)
            good = int((~parsed_dates.invalid & ~parsed_dates.missing).sum())
        else:
            uniq = pc.unique(col.filter(pa.array(filled_mask))).to_pylist()
            as_money = parse_amounts(pa.array(uniq, pa.string()))
            if (~as_money.invalid).mean() > 0.5:
                return 0.0, filled  # numbers, not names
            org = sum(1 for u in uniq if _ORGANISATION.search(u))
            return org / len(uniq), filled
        return good / filled, filled


def choose_columns(grid: Grid, overrides: dict[str, str] | None = None,
                   ) -> tuple[ColumnMapping, list[dict]]:
    """The column mapping of a grid, its required fields chosen by evidence, and the decisions.

    `overrides` maps a field to the header (as published) a publisher profile says fills it.
    """
    headers = grid.header
    cands = column_candidates(headers)
    scorer = _Scorer(grid)
    fixed: dict[str, int] = {}
    decisions: list[dict] = []
    warnings: list[str] = []
    for field in ("amount_gbp", "payment_date", "supplier_name"):
        choice, runner_up, evidence = _choose(field, grid, cands, scorer, fixed, overrides or {})
        if choice is None:
            continue
        fixed[field] = choice.index
        decisions.append({"field": field, "chosen": choice.header, "basis": choice.how,
                          "evidence": evidence,
                          "runner_up": runner_up.describe() if runner_up else ""})
        if choice.how == "keyword":
            warnings.append(f"header {choice.header!r} is not in the alias table; "
                            f"taken as {field} by keyword")
        if choice.how == "inferred":
            warnings.append(f"no header names {field}; column {choice.header!r} was inferred "
                            f"from its content ({evidence})")
    mapping = map_columns(headers, fixed=fixed)
    mapping.warnings[:0] = warnings
    return mapping, decisions


def _choose(field: str, grid: Grid, cands, scorer: _Scorer, fixed: dict[str, int],
            overrides: dict[str, str]) -> tuple[Choice | None, Choice | None, str]:
    taken = set(fixed.values())
    width = len(grid.columns)
    if field in overrides:
        want = header_key(overrides[field])
        hits = [i for i, h in enumerate(grid.header) if header_key(h) == want and i < width]
        if hits:
            share, filled = scorer.score(field, hits[0])
            pick = Choice(hits[0], grid.header[hits[0]], "profile", 0, share, filled)
            return pick, None, (f"the publisher profile names {overrides[field]!r}; "
                                + _share_text(field, share, filled))
    named: dict[int, Choice] = {}
    for priority, idx, f, how in cands:
        if f == field and idx < width and idx not in taken and idx not in named:
            share, filled = scorer.score(field, idx) if grid.n_rows else (1.0, 0)
            named[idx] = Choice(idx, grid.header[idx], how, priority, share, filled,
                                vat_role(grid.header[idx]) if field == "amount_gbp" else "")
    options = [c for c in named.values() if c.role != "vat"]
    if field == "supplier_name" and any(c.how == "alias" for c in options):
        # A header naming the supplier is trusted: names alone cannot disprove it.
        usable = [c for c in options if c.how == "alias"]
    else:
        usable = [c for c in options if c.share > 0 or not c.filled]
    if not usable and grid.n_rows:
        # No header names the field, or what they name never reads as it: infer from content.
        claimed = {idx for _p, idx, f, how in cands if how == "alias" and f != field}
        inferred = []
        for idx in range(width):
            if idx in taken or idx in claimed or idx in named:
                continue
            share, filled = scorer.score(field, idx)
            if filled and share >= _floor(field) and scorer.plausible(field, idx):
                inferred.append(Choice(idx, grid.header[idx] or f"(column {idx + 1})",
                                       "inferred", 99, share, filled))
        if not inferred:
            if not options:
                return None, None, ""
            # Nothing reads better: the header's choice stands, with what its content showed.
            options.sort(key=lambda c: (_ROLE_RANK.get(c.role, 1), c.priority, c.index))
            pick = options[0]
            runner = options[1] if len(options) > 1 else None
            return pick, runner, (_share_text(field, pick.share, pick.filled)
                                  + "; no other column reads better")
        inferred.sort(key=lambda c: (-c.share, -c.filled, c.index))
        pick = inferred[0]
        runner = inferred[1] if len(inferred) > 1 else max(options, key=lambda c: c.share,
                                                              default=None)
        return pick, runner, _share_text(field, pick.share, pick.filled)
    if not usable:
        return None, None, ""
    best = max(c.share for c in usable)
    close = [c for c in usable if c.share >= best * _CLOSE]
    close.sort(key=lambda c: (_ROLE_RANK.get(c.role, 1), c.priority, -c.share, c.index))
    pick = close[0]
    rest = sorted((c for c in named.values() if c is not pick),
                  key=lambda c: (c.role == "vat", -c.share, c.priority, c.index))
    runner = rest[0] if rest else None
    evidence = _share_text(field, pick.share, pick.filled)
    if field == "amount_gbp" and pick.role in ("net", "gross"):
        evidence += f"; header says {pick.role}"
    if runner is not None:
        evidence += (f"; runner-up reads {runner.share:.1%}"
                     + (f" ({runner.role})" if runner.role and runner.role != "unknown" else ""))
    return pick, runner, evidence


def _floor(field: str) -> float:
    return {"amount_gbp": _MIN_AMOUNT_SHARE, "payment_date": _MIN_DATE_SHARE}.get(
        field, _MIN_SUPPLIER_SHARE)


def _share_text(field: str, share: float, filled: int) -> str:
    what = {"amount_gbp": "read as money", "payment_date": "read as dates in 1990-2100",
            "supplier_name": "of distinct values look like organisations"}[field]
    return f"{share:.1%} {what} ({filled:,} filled cells sampled)"


def vat_basis_decision(mapping: ColumnMapping, profile_basis: str) -> dict:
    """The VAT basis of the chosen amount column, as a ledger decision (profile overrides)."""
    idx = mapping.fields.get("amount_gbp")
    header = mapping.headers[idx] if idx is not None else ""
    role = vat_role(header) if header else "unknown"
    detected = role if role in ("net", "gross") else "unknown"
    others = [h for i, h in enumerate(mapping.headers) if i != idx and h.strip()
              and vat_role(h) in ("net", "gross", "vat")
              and any(f == "amount_gbp" for f, _p, _how in candidates(header_key(h)))]
    evidence = f"amount column {header!r} " + (
        f"says {detected}" if detected != "unknown" else "does not say net or gross")
    if others:
        evidence += "; also published: " + ", ".join(repr(o) for o in others)
    if profile_basis:
        return {"field": "vat_basis", "chosen": profile_basis, "basis": "profile",
                "evidence": f"publisher profile says {profile_basis}; {evidence}",
                "runner_up": detected if detected != profile_basis else ""}
    return {"field": "vat_basis", "chosen": detected, "basis": "header" if header else "none",
            "evidence": evidence, "runner_up": ""}
