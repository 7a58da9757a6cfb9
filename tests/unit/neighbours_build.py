"""Derive the same-tier nearest-neighbour table (package data) from ONS's published workbook.

ONS publishes, for each council, the full ranking of every other council by statistical
distance in two models: lower tier (districts and single-tier councils, Tables 1-2) and upper
tier (counties and single-tier councils, Tables 3-4). A like-for-like peer group needs
councils of the same tier, and a district's 20 nearest often include only one or two districts,
so the package keeps each council's nearest `KEEP` neighbours *of its own tier* from the full
ranking. `tests/unit/test_peers_reference.py` re-derives the file from the raw workbook and
compares (skipped when ../shared/reference is absent).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

KEEP = 15
RELEASE = "ONS LA nearest neighbours, England, 1 Oct 2025 (localauthoritynearestneighboursengland.xlsx)"
MODELS = {"lower_tier": ("Table 1", "Table 2", {"lower", "single"}),
          "upper_tier": ("Table 3", "Table 4", {"upper", "single"})}


def derive(xlsx: Path, tiers: dict[str, str]) -> pd.DataFrame:
    """Same-tier nearest neighbours for every council in both models, nearest first."""
    book = CalamineWorkbook.from_path(str(xlsx))
    rows = []
    for model, (rank_sheet, dist_sheet, allowed) in MODELS.items():
        ranks = book.get_sheet_by_name(rank_sheet).to_python()
        dists = book.get_sheet_by_name(dist_sheet).to_python()
        head = [str(c) for c in dists[3]]
        assert head[0].endswith("code") or "code" in head[0].lower(), head[0]
        col_of = {code: j for j, code in enumerate(head) if j >= 2}
        dist_rows = {str(r[0]): (i, r) for i, r in enumerate(dists) if i >= 4 and r[0]}
        for i, r in enumerate(ranks):
            if i < 4 or not r[0]:
                continue
            code = str(r[0])
            assert tiers[code] in allowed, (model, code)
            di, drow = dist_rows[code]
            k = 0
            for j in range(2, len(r)):
                other = str(r[j])
                if not other or tiers[other] != tiers[code]:
                    continue
                k += 1
                dj = col_of[other]
                rows.append({
                    "gss_code": code, "model": model, "rank": k, "neighbour_gss_code": other,
                    "rank_all": j - 1, "distance": float(drow[dj]),
                    "source": (f"{RELEASE}: rank '{rank_sheet}'!{get_column_letter(j + 1)}{i + 1},"
                               f" distance '{dist_sheet}'!{get_column_letter(dj + 1)}{di + 1};"
                               " same-tier rank derived (tier: council_classification.csv); OGL v3"),
                    "confidence": "high"})
                if k == KEEP:
                    break
    out = pd.DataFrame(rows)
    return out.sort_values(["model", "gss_code", "rank"], kind="stable").reset_index(drop=True)
