"""Reference data for like-for-like comparison of councils: population, tier, neighbours, outturn.

Every table is package data read through the catalogue, each row with its source and a
confidence (high / medium / low):

* `population()` — ONS mid-2024 resident population of all 317 English councils.
* `classification()` — each council's type, tier (lower = district, upper = county, single =
  unitary, metropolitan or London borough), region, parent county and MHCLG class.
* `nearest_neighbours(code)` — the council's nearest statistical neighbours *of its own tier*
  in the ONS 2025 nearest-neighbour models (lower-tier model for districts, upper-tier model for
  counties and, by default, single-tier councils, whose spending is dominated by the
  upper-tier services: social care and education).
* `revenue_outturn()` — net current service expenditure (RSX line C7) per council, 2024-25,
  the denominator for "IT as a share of spend" (net, not gross: gross counts the same money
  twice where councils recharge each other).
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from spendkit.errors import InputError, ReferenceDataError
from spendkit.reference import catalogue

#: The ONS model each tier is compared in by default (see module docstring).
DEFAULT_MODEL = {"lower": "lower_tier", "upper": "upper_tier", "single": "upper_tier"}
MODELS = ("lower_tier", "upper_tier")
#: Where the population figures come from, for captions.
POPULATION_LABEL = "ONS mid-2024 population estimates"
NEIGHBOURS_LABEL = "ONS nearest neighbours (2025)"
OUTTURN_LABEL = "MHCLG revenue outturn 2024-25 (RSX C7 net current expenditure)"


@cache
def _population() -> pd.DataFrame:
    out = catalogue.read_csv("population")
    out["population"] = out["population"].astype("int64")
    out["year"] = out["year"].astype("int64")
    return out


def population() -> pd.DataFrame:
    """Resident population per council: gss_code, name, population, year, basis, source, confidence."""
    return _population().copy()


@cache
def _classification() -> pd.DataFrame:
    return catalogue.read_csv("council_classification")


def classification() -> pd.DataFrame:
    """Type, tier, region, parent county and MHCLG class of every English council."""
    return _classification().copy()


def tier_of(code: str) -> str:
    """'lower', 'upper' or 'single' for a council's GSS code; InputError for an unknown code."""
    table = _classification().set_index("gss_code")
    if code not in table.index:
        raise InputError(f"{code!r} is not the GSS code of a current English council "
                         "(package data council_classification.csv lists all 317)")
    return str(table.loc[code, "tier"])


@cache
def _neighbours() -> pd.DataFrame:
    out = catalogue.read_csv("nearest_neighbours")
    out["rank"] = out["rank"].astype("int64")
    out["rank_all"] = out["rank_all"].astype("int64")
    out["distance"] = out["distance"].astype(float)
    return out


def nearest_neighbours(code: str, *, model: str | None = None, n: int = 15) -> pd.DataFrame:
    """The `n` nearest councils of the same tier as `code`, nearest first, never `code` itself.

    `model` is 'lower_tier' or 'upper_tier' (default: by tier, `DEFAULT_MODEL`). Columns:
    neighbour_gss_code, name, tier, rank (same-tier rank), rank_all (the ONS rank among every
    council in the model), distance, model, source. At most 15 are kept per council.
    """
    tier = tier_of(code)
    model = model or DEFAULT_MODEL[tier]
    if model not in MODELS:
        raise InputError(f"model: expected one of {MODELS}, got {model!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"n: expected a whole number of neighbours >= 1, got {n!r}")
    table = _neighbours()
    rows = table[(table["gss_code"] == code) & (table["model"] == model)]
    if rows.empty:
        raise ReferenceDataError(str(catalogue.path("nearest_neighbours")), code,
                                 f"no rows in the {model} model; a {tier}-tier council is in "
                                 f"{[m for m in MODELS if DEFAULT_MODEL.get(tier) == m]}")
    names = _classification()[["gss_code", "name", "tier"]].rename(
        columns={"gss_code": "neighbour_gss_code"})
    out = rows.sort_values("rank").head(n).merge(names, on="neighbour_gss_code", how="left")
    return out[["neighbour_gss_code", "name", "tier", "rank", "rank_all", "distance", "model",
                "source"]].reset_index(drop=True)


@cache
def _outturn() -> pd.DataFrame:
    out = catalogue.read_csv("revenue_outturn")
    for col in ("net_current_expenditure_gbp_thousands",
                "total_service_expenditure_gbp_thousands"):
        out[col] = pd.to_numeric(out[col].replace("", None)).astype("float64")
    out["net_current_expenditure_gbp"] = out["net_current_expenditure_gbp_thousands"] * 1000
    return out


def revenue_outturn() -> pd.DataFrame:
    """Net current service expenditure per council, 2024-25 (£ and £ thousand as published).

    `net_current_expenditure_gbp` is blank for the councils whose return was not received
    (`data_status` says so).
    """
    return _outturn().copy()


__all__ = ["DEFAULT_MODEL", "MODELS", "NEIGHBOURS_LABEL", "OUTTURN_LABEL", "POPULATION_LABEL",
           "classification", "nearest_neighbours", "population", "revenue_outturn", "tier_of"]
