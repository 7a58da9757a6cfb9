"""Reference economic series (GDP deflator, CPI, Core Spending Power) and UK financial years.

The series are package data CSVs, each row with its `source` and a `confidence` in the one
vocabulary of all package data: high (stated by a primary or official source), medium (a
secondary source: press, vendor or analyst pages), low (derived, inferred or a judgement).
Forecast rows are marked in `status` (outturn / mixed / forecast), not in `confidence`.

Financial years run April to March and are labelled "2021-22" (starting 1 April 2021).

GDP deflator (OBR Economic and fiscal outlook, March 2026, Table 1.7, rebased to 2024-25 = 100):
outturn 2015-16 to 2024-25, 2025-26 part outturn, OBR forecasts 2026-27 to 2030-31.
`gdp_deflator(extend_to=...)` fills years after 2030-31 only, at an *assumed* growth rate
(default 2.0% a year), flagged in `gdp_deflator_table()["is_assumption"]`.

CPI: ONS D7G7 annual rates 2015-2025 (outturn) and the OBR March 2026 forecast for 2026-2030.
`cpi_for_years` gives the rate for each financial year of a projection with its status.

Settlement: England Core Spending Power totals, a labelled fallback for a council whose own
spending-power path is not known (`england_settlement_growth`).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from spendkit.errors import NoDataError, SpendkitError
from spendkit.reference import catalogue
from spendkit.units.periods import financial_year_label, parse_financial_year

#: Growth a year assumed for GDP deflator years after the OBR's last forecast year (2030-31):
#: an assumption (low confidence), the Bank of England's 2% inflation target standing in.
ASSUMED_DEFLATOR_GROWTH = 0.02


# --- reference series --------------------------------------------------------------------------


@cache
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(catalogue.path(name), dtype={"financial_year": str, "item": str})


def gdp_deflator_table(extend_to: str | None = None,
                       assumed_growth: float = ASSUMED_DEFLATOR_GROWTH) -> pd.DataFrame:
    """The GDP deflator rows (2024-25 = 100) with source, confidence and `is_assumption`.

    With `extend_to`, years after the last year in the file (the OBR's last forecast year) up
    to that label are added at `assumed_growth` a year, with `is_assumption=True`, confidence
    'low' and a source saying so.
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
                "confidence": "low",
                "note": "projection: year after the OBR forecast extended at an assumed rate",
                "source": f"assumption: {assumed_growth:.1%} a year after the OBR March 2026 "
                          "forecast's last year",
                "status": "assumption",
                "is_assumption": True,
            })
            table = pd.concat([table, extra], ignore_index=True)
    return table


def gdp_deflator(base_year: str = "2024-25", *, extend_to: str | None = None,
                 assumed_growth: float = ASSUMED_DEFLATOR_GROWTH) -> pd.Series:
    """GDP deflator index by financial year, rebased so `base_year` = 100.

    Outturn covers 2015-16 to 2024-25, OBR forecasts 2025-26 to 2030-31 (`status` in
    `gdp_deflator_table`); later years exist only when `extend_to` asks for them (filled at
    `assumed_growth`; see `gdp_deflator_table` for the flags). Raises
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
    `include_forecast=True` appends the OBR March 2026 forecasts (2026 to 2030; not outturn).
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


def cpi_for_years(financial_years: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """The CPI rate (%) for each financial year of a projection, with its status and source.

    A financial year takes the annual-average rate of the calendar year it starts in
    ('2026-27' -> 2026): ONS outturn where published (`status` 'outturn'), else the OBR March
    2026 forecast ('forecast'), else the last forecast year's rate held ('held', an
    assumption). Columns: financial_year, calendar_year, rate_pct, status, confidence, source.
    """
    table = _read("cpi")
    outturn = table[table["measure"].eq("annual_average")].set_index("year")
    forecast = table[table["measure"].eq("obr_forecast")].set_index("year")
    last = int(forecast.index.max())
    rows = []
    for label in financial_years:
        year = parse_financial_year(label)
        if year in outturn.index:
            r, status = outturn.loc[year], "outturn"
        elif year in forecast.index:
            r, status = forecast.loc[year], "forecast"
        else:
            r, status = forecast.loc[last], "held"
        source = str(r["source"])
        confidence = str(r["confidence"])
        if status == "held":
            source = (f"assumption: the OBR March 2026 forecast's last year ({last}, "
                      f"{float(r['rate_pct']):g}%) held")
            confidence = "low"
        rows.append({"financial_year": label, "calendar_year": year,
                     "rate_pct": float(r["rate_pct"]), "status": status,
                     "confidence": confidence, "source": source})
    return pd.DataFrame(rows)


def cpi_persistence() -> tuple[float, str]:
    """Lag-1 autocorrelation of UK CPI annual averages (ONS D7G7 outturn) and how it was got.

    The year-to-year persistence of inflation, a basis for drawing a projection's inflation
    as a path (correlated years) rather than independent years. A short series: treat it as
    indicative.
    """
    rates = cpi_annual("annual_average")
    values = rates.to_numpy(dtype=float)
    rho = float(np.corrcoef(values[:-1], values[1:])[0, 1])
    return rho, (f"derived: lag-1 autocorrelation of ONS D7G7 CPI annual averages "
                 f"{rates.index.min()}-{rates.index.max()} ({len(values)} years) = {rho:.2f}")


#: Provisional-settlement like-for-like growth of England CSP in 2026-27 (5.8%, +£3.9bn) and
#: the final settlement's addition (+£740m): the final-settlement growth is derived from both.
_PROVISIONAL_2026_27 = (5.8, 3.9)
_FINAL_ADDITION_2026_27_BN = 0.74


def england_settlement_growth() -> pd.DataFrame:
    """England Core Spending Power cash growth by financial year: the labelled fallback path.

    One row per year with a stated or derived like-for-like growth: outturn settlements from
    `core_spending_power.csv`; for 2026-27 the final settlement (9 Feb 2026) growth derived as
    (£3.9bn like-for-like provisional increase + £740m added in the final settlement) / the
    provisional base (£3.9bn / 5.8%); 2027-28 and 2028-29 as stated for the multi-year
    settlement. Councils' own settlements diverge sharply from England's (Medway +16.2% over
    two years), so a council profile's own path replaces this wherever it is known.
    Columns: financial_year, growth_pct, basis, confidence, source.
    """
    csp = core_spending_power()
    rows = []
    for year, group in csp.groupby("financial_year", sort=True):
        usable = group[group["yoy_cash_pct"].notna()]
        if year == "2026-27":
            pct, bn = _PROVISIONAL_2026_27
            base = bn / (pct / 100)
            growth = (bn + _FINAL_ADDITION_2026_27_BN) / base * 100
            final = group[group["basis"].eq("england_fallback_final")]
            source = (str(final["source"].iloc[0]) if len(final) else "") + (
                f"; provisional like-for-like +£{bn}bn ({pct}%): "
                f"{str(usable['source'].iloc[0]) if len(usable) else 'core_spending_power.csv'}")
            rows.append({"financial_year": year, "growth_pct": round(growth, 2),
                         "basis": (f"derived: (£{bn}bn + £{_FINAL_ADDITION_2026_27_BN}bn) / "
                                   f"(£{bn}bn / {pct}%) = {growth:.2f}% (final settlement, "
                                   "like for like)"),
                         "confidence": "low", "source": source})
            continue
        if usable.empty:
            continue
        r = usable.iloc[-1]
        rows.append({"financial_year": year, "growth_pct": float(r["yoy_cash_pct"]),
                     "basis": f"{r['basis']}: {r['note']}", "confidence": str(r["confidence"]),
                     "source": str(r["source"])})
    return pd.DataFrame(rows)


def deflator_note(base_year: str) -> str:
    """Caption text saying how real terms were computed at `base_year` prices, and on what."""
    table = gdp_deflator_table()
    outturn = table.loc[table["status"].eq("outturn"), "financial_year"].max()
    last = table["financial_year"].iloc[-1]
    return (f"Real terms: {base_year} prices, GDP deflator (OBR March 2026: outturn to "
            f"{outturn}, forecast to {last}); later years use an assumed "
            f"{ASSUMED_DEFLATOR_GROWTH:.0%} a year")
