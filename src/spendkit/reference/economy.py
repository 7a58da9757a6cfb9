"""Reference economic series (GDP deflator, CPI, Core Spending Power) and UK financial years.

The series are package data CSVs re-typed from the project's researched facts, each row with
its `source` and a confidence tag: [S] stated in the source, [P] press/secondary, [I] inferred.

Financial years run April to March and are labelled "2021-22" (starting 1 April 2021).

GDP deflator coverage: outturn 2015-16 to 2024-25 (2024-25 = 100). 2025-26 onward is missing
(the HMT/OBR release of March 2026 was not retrieved). `gdp_deflator(extend_to=...)` fills the
missing years with an *assumed* growth rate (default 2.0% a year) and flags those years in
`gdp_deflator_table()["is_assumption"]`; nothing is extended silently.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from spendkit.errors import NoDataError, SpendkitError
from spendkit.reference import catalogue
from spendkit.units.periods import financial_year_label, parse_financial_year

#: Growth a year assumed for GDP deflator years after the last outturn (an assumption, [I]):
#: the OBR's deflator forecast was not retrieved, so the Bank of England's 2% target stands in.
ASSUMED_DEFLATOR_GROWTH = 0.02



# --- reference series --------------------------------------------------------------------------


@cache
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(catalogue.path(name), dtype={"financial_year": str, "item": str})


def gdp_deflator_table(extend_to: str | None = None,
                       assumed_growth: float = ASSUMED_DEFLATOR_GROWTH) -> pd.DataFrame:
    """The GDP deflator rows (2024-25 = 100) with source, confidence and `is_assumption`.

    With `extend_to`, years after the last outturn up to that label are added at
    `assumed_growth` a year, with `is_assumption=True`, confidence '[I]' and a source saying so.
    """
    table = _read("gdp_deflator").copy()
    table["is_assumption"] = False
    if extend_to is not None:
        last = parse_financial_year(table["financial_year"].iloc[-1])
        target = parse_financial_year(extend_to)
        if target > last:
            n = np.arange(1, target - last + 1)
            base = float(table["index_2024_25"].iloc[-1])
            extra = pd.DataFrame({
                "financial_year": [financial_year_label(last + int(k)) for k in n],
                "index_2024_25": base * (1 + assumed_growth) ** n,
                "yoy_pct": assumed_growth * 100,
                "confidence": "[I]",
                "note": "projection: missing year extended at an assumed growth rate",
                "source": f"assumption: {assumed_growth:.1%} a year after the last outturn "
                          "(OBR/HMT forecast not retrieved)",
                "is_assumption": True,
            })
            table = pd.concat([table, extra], ignore_index=True)
    return table


def gdp_deflator(base_year: str = "2024-25", *, extend_to: str | None = None,
                 assumed_growth: float = ASSUMED_DEFLATOR_GROWTH) -> pd.Series:
    """GDP deflator index by financial year, rebased so `base_year` = 100.

    Outturn covers 2015-16 to 2024-25; later years exist only when `extend_to` asks for them
    (filled at `assumed_growth`; see `gdp_deflator_table` for the flags). Raises
    NoDataError when `base_year` is outside the (extended) series.
    """
    parse_financial_year(base_year)
    table = gdp_deflator_table(extend_to=extend_to, assumed_growth=assumed_growth)
    index = pd.Series(table["index_2024_25"].to_numpy(dtype=float),
                      index=pd.Index(table["financial_year"], name="financial_year"),
                      name=f"gdp_deflator_{base_year.replace('-', '_')}")
    if base_year not in index.index:
        raise NoDataError(
            f"GDP deflator base year {base_year!r} is not in the series "
            f"({index.index[0]} to {index.index[-1]}); pass extend_to={base_year!r} to extend "
            "it at an assumed growth rate"
        )
    return index / index[base_year] * 100.0


def to_real_terms(amounts: pd.Series, years: pd.Series, base_year: str, *,
                  deflator: pd.Series | None = None) -> pd.Series:
    """Convert cash amounts to `base_year` prices: amount × 100 / deflator[year].

    `years` holds financial-year labels aligned with `amounts` (see `financial_year`). Exact
    decimal amounts are converted to float here, as modelling values. `deflator` defaults to
    `gdp_deflator(base_year)`; a year it lacks raises NoDataError naming the years.
    """
    if deflator is None:
        deflator = gdp_deflator(base_year)
    else:
        deflator = deflator / deflator[base_year] * 100.0
    years = pd.Series(years, index=amounts.index) if not isinstance(years, pd.Series) else years
    wanted = pd.Series(years.dropna().unique())
    missing = sorted(set(wanted) - set(deflator.index))
    if missing:
        raise NoDataError(
            f"no deflator for financial year(s) {', '.join(map(str, missing))} "
            f"(series covers {deflator.index[0]} to {deflator.index[-1]}); use "
            "gdp_deflator(base_year, extend_to=...) and pass it as deflator= to extend at an "
            "assumed rate"
        )
    factor = years.map(100.0 / deflator).astype("float64")
    values = pd.to_numeric(amounts.astype("float64"), errors="raise")
    out = values * factor.to_numpy()
    out.name = amounts.name
    return out


def cpi_annual(measure: str = "annual_average", *, include_forecast: bool = False) -> pd.Series:
    """UK CPI rate (%) by calendar year (ONS D7G7 annual average, 2015-2025).

    `measure="september"` gives the September 12-month rates used to uprate RSG/BFL.
    `include_forecast=True` appends the OBR Nov 2025 forecasts (2026, 2027; [P], not outturn).
    """
    table = _read("cpi")
    if measure not in {"annual_average", "september"}:
        raise SpendkitError(
            f"cpi measure {measure!r}: expected 'annual_average' or 'september'"
        )
    keep = table["measure"].eq(measure)
    if include_forecast:
        keep |= table["measure"].eq("obr_forecast")
    rows = table[keep]
    return pd.Series(rows["rate_pct"].to_numpy(dtype=float),
                     index=pd.Index(rows["year"].astype(int).to_numpy(), name="year"),
                     name=f"cpi_{measure}_pct")


def cpi_table() -> pd.DataFrame:
    """All CPI rows (annual average, September, OBR forecast) with source and confidence."""
    return _read("cpi").copy()


def core_spending_power() -> pd.DataFrame:
    """England Core Spending Power (cash £bn) by financial year, with definitional breaks.

    `basis` says what each figure is (as_announced, restated, derived, lower_bound, redefined,
    growth_only); `definition_break=True` marks rows on a different definition from the row
    before (2021-22 restated; 2026-27 onward after fair funding reform) — do not splice a
    growth series across them. 2015-16 to 2018-19 were not retrieved.
    """
    table = _read("core_spending_power").copy()
    table["definition_break"] = table["definition_break"].astype(bool)
    return table


def local_digital_fund() -> pd.DataFrame:
    """Local Digital Fund facts (launch £7.5m, round 1: 16 projects, £1,251,492 …) with sources."""
    return _read("local_digital_fund").copy()
