"""Spending-review scenario files: the YAML schema, loading and validation.

A scenario file (schema_version 1) has these top-level keys; every number marked *quantity*
may be a plain number or a mapping giving its uncertainty for Monte Carlo and tornado runs::

    {value: 5, dist: triangular, low: 2, high: 10}   # mode = value
    {value: 5, dist: uniform, low: 2, high: 10}      # value is the central (deterministic) case
    {value: 5, dist: normal, sd: 1.5}                # tornado uses value ± 1.2816 sd (P10/P90)
    {value: 11.7, dist: uniform, low: 9, high: 14.4, source: "Salford +14.4%; 9-14% observed"}

A quantity's `source` says where its range comes from; without one the range is an assumption
(the tornado shows which). A block (`funding`, `inflation`, `microsoft`) may carry a `source`
that applies to its quantities.

A *path* is one quantity applied to every review year, or a list with one per review year.
Years in events (`year`, `start_year`) count review years: 1 = the first year after baseline.

- schema_version (1), name, title, description, version (the scenario's own version string)
- review_years: number of financial years projected after the baseline year (default 3)
- funding: the IT budget envelope. {basis: cash, change_pct: path} grows it in cash;
  {basis: real, change_pct: path} in real terms on the *central* inflation path, fixed in cash
  when set (a settlement does not move with the inflation that follows);
  {basis: settlement, pass_through_pct: quantity, divergence_sd_pp: number} passes the
  council's own core spending power path through (council profile; else England's final
  settlement as a labelled fallback, with a yearly divergence of sd `divergence_sd_pp`
  percentage points, default 2): years the profile says are fixed in cash carry no
  uncertainty, the pass-through share (default 100%) does
- inflation: {measure: cpi|gdp_deflator|custom, rate_pct: path | reference, sd_pct, correlation}
  drives non-Microsoft costs. `reference` takes each review year's CPI from package data (ONS
  outturn, else the OBR March 2026 forecast; forecast years uncertain with sd `sd_pct`,
  default 1). `correlation` (0 to 0.95) draws the years as a path (an AR(1) Gaussian copula)
  instead of independently; default for `reference` the lag-1 autocorrelation of CPI outturn
- microsoft: {price_change_pct: path, licence_mix_change_pct: path, renewal_uplift_pct:
  quantity} on the Microsoft-licensing part of the baseline. When the council's agreement is
  known (council profile) changes land at its renewal dates: `renewal_uplift_pct` at each EA
  renewal (default: the observed 9-14.4% range), the list change at each CSP anniversary, the
  licence-mix change at the first renewal; `price_change_pct` is then unused. Without an
  agreement the two paths apply year by year (renewal dates unknown: an assumption)
- legacy_replacements: list of {name, year, one_off_cost_gbp, old_run_cost_gbp,
  new_run_cost_gbp, dual_running_years}
- shared_services: list of {name, partners, categories, saving_pct, setup_cost_gbp,
  start_year, ramp_years}
- grants: list of {name, amount_gbp, year, probability}
- match_best_peers: {quantile, gap_closed_pct, start_year, ramp_years}
- monte_carlo: {simulations, seed}
- sources: list of strings (where the numbers come from)
- sized_for_baseline_gbp (optional, > 0): the annual IT baseline the file's cost figures were
  sized for. When given, every cost in £ (legacy one-off/old/new run costs, shared-service
  set-up costs) is scaled by the council's baseline ÷ this figure, so one packaged file fits a
  district and a metropolitan council alike. Grants are never scaled (a fund pays fixed sums).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from spendkit.errors import ReferenceDataError
from spendkit.reference import catalogue

SCENARIO_DIR = catalogue.path("scenarios")
SCHEMA_VERSION = 1
_Z90 = 1.2815515655446004  # standard normal quantile at 0.9: P10/P90 of a normal lever


@dataclass(frozen=True)
class Quantity:
    """One numeric lever: a central value and, optionally, a distribution for Monte Carlo."""

    path: str
    value: float
    dist: str | None = None
    low: float | None = None
    high: float | None = None
    sd: float | None = None
    minimum: float = -math.inf
    maximum: float = math.inf
    source: str = ""  # where the range comes from; "" = an assumption
    note: str = ""  # where the central value comes from, when it differs from the range's

    @property
    def range_basis(self) -> str:
        """'sourced' when the file names where the range comes from, else 'assumption'."""
        return "sourced" if self.source else "assumption"

    @property
    def uncertain(self) -> bool:
        """True when the lever has a distribution of non-zero width."""
        lo, hi = self.bounds()
        return lo != hi

    def bounds(self) -> tuple[float, float]:
        """Low and high values for a tornado run (P10/P90 for a normal lever)."""
        if self.dist is None:
            return self.value, self.value
        if self.dist == "normal":
            sd = self.sd or 0.0
            lo, hi = self.value - _Z90 * sd, self.value + _Z90 * sd
            return max(lo, self.minimum), min(hi, self.maximum)
        assert self.low is not None and self.high is not None
        return self.low, self.high

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` draws (the central value repeated when fixed), clipped to the lever's limits."""
        if self.dist is None or not self.uncertain:
            return np.full(n, self.value, dtype=float)
        if self.dist == "bernoulli":
            return (rng.random(n) < self.value).astype(float)
        if self.dist == "normal":
            draws = rng.normal(self.value, self.sd, n)
        elif self.dist == "uniform":
            draws = rng.uniform(self.low, self.high, n)
        else:
            draws = rng.triangular(self.low, self.value, self.high, n)
        return np.clip(draws, self.minimum, self.maximum)

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        """Values at standard-normal scores `z` (inverse CDF of the lever's distribution).

        Used to draw correlated levers (a Gaussian copula): the same marginal distribution as
        `sample`, with the dependence carried by `z`.
        """
        if self.dist is None or not self.uncertain:
            return np.full(z.shape, self.value, dtype=float)
        if self.dist == "normal":
            return np.clip(self.value + (self.sd or 0.0) * z, self.minimum, self.maximum)
        u = _normal_cdf(z)
        if self.dist == "bernoulli":
            return (u < self.value).astype(float)
        lo, hi, mode = float(self.low), float(self.high), float(self.value)
        if self.dist == "uniform":
            return lo + u * (hi - lo)
        cut = (mode - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (mode - lo))
        right = hi - np.sqrt((1 - u) * (hi - lo) * (hi - mode))
        return np.where(u < cut, left, right)


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    from math import erf, sqrt

    return 0.5 * (1.0 + np.vectorize(erf)(np.asarray(z, dtype=float) / sqrt(2.0)))


@dataclass(frozen=True)
class LegacyReplacement:
    """Replacing a legacy system: one-off cost in `year`, new run cost, dual running."""

    name: str
    year: int
    one_off_cost_gbp: Quantity
    old_run_cost_gbp: Quantity
    new_run_cost_gbp: Quantity
    dual_running_years: int


@dataclass(frozen=True)
class SharedService:
    """Sharing a service or procuring jointly: saving ramps up linearly after set-up."""

    name: str
    partners: tuple[str, ...]
    categories: tuple[str, ...]  # empty = all IT categories
    saving_pct: Quantity
    setup_cost_gbp: Quantity
    start_year: int
    ramp_years: int


@dataclass(frozen=True)
class Grant:
    """A grant (Local Digital Fund-style) received in `year` with a probability."""

    name: str
    amount_gbp: Quantity
    year: int
    probability: Quantity


@dataclass(frozen=True)
class PeerMatch:
    """Close part of the gap to the best peers' IT spend per head (quantile 0.25 = quartile)."""

    quantile: float
    gap_closed_pct: Quantity
    start_year: int
    ramp_years: int


@dataclass(frozen=True)
class ScenarioSpec:
    """A validated scenario: every lever, with its key path for error messages and tornados."""

    name: str
    title: str
    description: str
    version: str
    source: str
    review_years: int
    funding_basis: str
    funding_change_pct: tuple[Quantity, ...]
    inflation_measure: str
    inflation_pct: tuple[Quantity, ...]
    ms_price_change_pct: tuple[Quantity, ...]
    ms_mix_change_pct: tuple[Quantity, ...]
    legacy: tuple[LegacyReplacement, ...] = ()
    shared: tuple[SharedService, ...] = ()
    grants: tuple[Grant, ...] = ()
    peers: PeerMatch | None = None
    simulations: int = 2000
    seed: int = 20260401
    sources: tuple[str, ...] = ()
    quantities: tuple[Quantity, ...] = field(default=(), repr=False)
    sized_for_baseline_gbp: float | None = None
    inflation_reference: bool = False  # rate_pct: reference (bound to CPI per review year)
    inflation_sd_pct: float = 1.0
    inflation_correlation: float | None = None
    ms_renewal_uplift_pct: Quantity | None = None
    funding_pass_through_pct: Quantity | None = None
    funding_divergence_sd_pp: float = 2.0
    funding_divergence_pp: tuple[Quantity, ...] = ()  # bound per review year (settlement)
    certain: bool = False  # every lever fixed (without_uncertainty): defaults bind fixed too

    def cost_scale(self, baseline_gbp: float) -> float:
        """Factor applied to this file's £ costs for a council with `baseline_gbp` (1 if unsized)."""
        if self.sized_for_baseline_gbp is None:
            return 1.0
        return float(baseline_gbp) / self.sized_for_baseline_gbp

    def uncertain_quantities(self) -> tuple[Quantity, ...]:
        """The levers with a distribution (plus grant probabilities strictly between 0 and 1)."""
        return tuple(q for q in self.quantities if q.uncertain)


# --- parsing ---------------------------------------------------------------------------------

_TOP = {"schema_version", "name", "title", "description", "version", "review_years", "funding",
        "inflation", "microsoft", "legacy_replacements", "shared_services", "grants",
        "match_best_peers", "monte_carlo", "sources", "sized_for_baseline_gbp"}
_QTY_KEYS = {"value", "dist", "low", "high", "sd", "source"}
_DISTS = {"triangular", "uniform", "normal"}


class _Parser:
    """Walks the YAML mapping, collecting quantities and raising ReferenceDataError on misfit."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.quantities: list[Quantity] = []

    def fail(self, key: str, problem: str) -> None:
        raise ReferenceDataError(self.source, key, problem)

    def mapping(self, raw: Any, key: str, allowed: set[str],
                required: set[str] = frozenset()) -> dict[str, Any]:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            self.fail(key, f"expected a mapping, found {type(raw).__name__} {raw!r}")
        for k in raw:
            if k not in allowed:
                where = f"{key}.{k}" if key else str(k)
                self.fail(where, f"unknown key {k!r}; expected one of {sorted(allowed)}")
        for k in sorted(required):
            if k not in raw:
                where = f"{key}.{k}" if key else k
                self.fail(where, "required key is missing")
        return dict(raw)

    def number(self, raw: Any, key: str) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            self.fail(key, f"expected a number, found {raw!r}")
        return float(raw)

    def integer(self, raw: Any, key: str, minimum: int, maximum: int | None = None) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.fail(key, f"expected a whole number, found {raw!r}")
        if raw < minimum or (maximum is not None and raw > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            self.fail(key, f"expected a whole number at least {minimum}{upper}, found {raw}")
        return int(raw)

    def text(self, raw: Any, key: str, default: str | None = None) -> str:
        if raw is None and default is not None:
            return default
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            self.fail(key, f"expected text, found {raw!r}")
        return str(raw)

    def choice(self, raw: Any, key: str, options: tuple[str, ...], default: str) -> str:
        value = default if raw is None else raw
        if value not in options:
            self.fail(key, f"expected one of {list(options)}, found {value!r}")
        return value

    def quantity(self, raw: Any, key: str, *, minimum: float = -math.inf,
                 maximum: float = math.inf, what: str = "", source: str = "") -> Quantity:
        limits = _describe(minimum, maximum, what)
        if isinstance(raw, Mapping):
            m = self.mapping(raw, key, _QTY_KEYS, {"value"})
            value = self.number(m["value"], f"{key}.value")
            if "source" in m:
                source = self.text(m["source"], f"{key}.source")
            dist = m.get("dist")
            if dist is not None and dist not in _DISTS:
                self.fail(f"{key}.dist", f"expected one of {sorted(_DISTS)}, found {dist!r}")
            low = self.number(m["low"], f"{key}.low") if "low" in m else None
            high = self.number(m["high"], f"{key}.high") if "high" in m else None
            sd = self.number(m["sd"], f"{key}.sd") if "sd" in m else None
            if dist is None and (low is not None or high is not None or sd is not None):
                self.fail(f"{key}.dist", "low/high/sd given without a dist "
                          f"(expected one of {sorted(_DISTS)})")
            if dist == "normal":
                if sd is None or sd < 0:
                    self.fail(f"{key}.sd", f"a normal lever needs sd >= 0, found {sd!r}")
                if low is not None or high is not None:
                    self.fail(key, "a normal lever takes sd, not low/high")
            elif dist in {"triangular", "uniform"}:
                if low is None or high is None:
                    self.fail(key, f"a {dist} lever needs both low and high")
                if sd is not None:
                    self.fail(f"{key}.sd", f"a {dist} lever takes low/high, not sd")
                if not low <= value <= high:
                    self.fail(key, f"expected low <= value <= high, found low={low:g}, "
                              f"value={value:g}, high={high:g}")
        else:
            value, dist, low, high, sd = self.number(raw, key), None, None, None, None
        for name, v in (("value", value), ("low", low), ("high", high)):
            if v is not None and not minimum <= v <= maximum:
                where = key if name == "value" and not isinstance(raw, Mapping) else f"{key}.{name}"
                self.fail(where, f"expected {limits}, found {v:g}")
        q = Quantity(key, value, dist, low, high, sd, minimum, maximum, source)
        self.quantities.append(q)
        return q

    def path(self, raw: Any, key: str, years: int, **limits: Any) -> tuple[Quantity, ...]:
        if raw is None:
            raw = 0.0
        if isinstance(raw, list):
            if len(raw) != years:
                self.fail(key, f"expected {years} values (one per review year) or a single "
                          f"value, found {len(raw)}")
            return tuple(self.quantity(v, f"{key}[{i + 1}]", **limits)
                         for i, v in enumerate(raw))
        q = self.quantity(raw, key, **limits)
        return (q,) * years

    def items(self, raw: Any, key: str) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.fail(key, f"expected a list, found {type(raw).__name__}")
        return raw


def _describe(minimum: float, maximum: float, what: str) -> str:
    parts = []
    if minimum > -math.inf:
        parts.append(f">= {minimum:g}")
    if maximum < math.inf:
        parts.append(f"<= {maximum:g}")
    rng = " and ".join(parts) if parts else "a number"
    return f"{what} {rng}".strip() if what else rng


def parse_scenario(raw: Any, source: str = "<scenario>") -> ScenarioSpec:
    """Validate a scenario mapping (as read from YAML) into a ScenarioSpec."""
    p = _Parser(source)
    top = p.mapping(raw, "", _TOP, {"schema_version", "name"})
    if top["schema_version"] != SCHEMA_VERSION:
        p.fail("schema_version", f"expected {SCHEMA_VERSION}, found {top['schema_version']!r}")
    name = p.text(top["name"], "name")
    years = p.integer(top.get("review_years", 3), "review_years", 1, 30)
    pct = {"minimum": -100.0, "what": "a % change"}  # below -100% a cost would go negative

    fund = p.mapping(top.get("funding"), "funding", {"basis", "change_pct", "pass_through_pct",
                                                     "divergence_sd_pp", "source"})
    infl = p.mapping(top.get("inflation"), "inflation", {"measure", "rate_pct", "sd_pct",
                                                         "correlation", "source"})
    ms = p.mapping(top.get("microsoft"), "microsoft", {"price_change_pct",
                                                       "licence_mix_change_pct",
                                                       "renewal_uplift_pct", "source"})
    fsrc = p.text(fund.get("source"), "funding.source", default="")
    isrc = p.text(infl.get("source"), "inflation.source", default="")
    msrc = p.text(ms.get("source"), "microsoft.source", default="")
    funding_basis = p.choice(fund.get("basis"), "funding.basis", ("cash", "real", "settlement"),
                             "cash")
    if funding_basis == "settlement" and fund.get("change_pct") is not None:
        p.fail("funding.change_pct", "a settlement basis takes its growth from the council's "
               "core spending power path: give pass_through_pct, not change_pct")
    funding = p.path(fund.get("change_pct"), "funding.change_pct", years, source=fsrc, **pct)
    pass_through = None
    if funding_basis == "settlement":
        pass_through = p.quantity(fund.get("pass_through_pct", 100), "funding.pass_through_pct",
                                  minimum=0.0, maximum=100.0, what="a share %", source=fsrc)
    elif fund.get("pass_through_pct") is not None:
        p.fail("funding.pass_through_pct", "only a settlement basis passes a share through")
    divergence = p.number(fund.get("divergence_sd_pp", 2.0), "funding.divergence_sd_pp")
    if divergence < 0:
        p.fail("funding.divergence_sd_pp", f"expected a number >= 0, found {divergence:g}")
    measure = p.choice(infl.get("measure"), "inflation.measure",
                       ("cpi", "gdp_deflator", "custom"), "custom")
    reference = infl.get("rate_pct") == "reference"
    if reference and measure != "cpi":
        p.fail("inflation.measure", "rate_pct: reference takes CPI: expected measure cpi")
    inflation = ((Quantity("inflation.rate_pct", 0.0),) * years if reference else
                 p.path(infl.get("rate_pct"), "inflation.rate_pct", years, source=isrc, **pct))
    sd_pct = p.number(infl.get("sd_pct", 1.0), "inflation.sd_pct")
    if sd_pct < 0:
        p.fail("inflation.sd_pct", f"expected a number >= 0, found {sd_pct:g}")
    correlation = None
    if infl.get("correlation") is not None:
        correlation = p.number(infl["correlation"], "inflation.correlation")
        if not 0 <= correlation <= 0.95:
            p.fail("inflation.correlation", f"expected a number from 0 to 0.95, found "
                   f"{correlation:g}")
    ms_price = p.path(ms.get("price_change_pct"), "microsoft.price_change_pct", years,
                      source=msrc, **pct)
    ms_mix = p.path(ms.get("licence_mix_change_pct"), "microsoft.licence_mix_change_pct",
                    years, source=msrc, **pct)
    uplift = (p.quantity(ms["renewal_uplift_pct"], "microsoft.renewal_uplift_pct",
                         source=msrc, **pct)
              if ms.get("renewal_uplift_pct") is not None else None)

    cost = {"minimum": 0.0, "what": "a cost in £"}
    legacy = []
    for i, item in enumerate(p.items(top.get("legacy_replacements"), "legacy_replacements")):
        k = f"legacy_replacements[{i + 1}]"
        m = p.mapping(item, k, {"name", "year", "one_off_cost_gbp", "old_run_cost_gbp",
                                "new_run_cost_gbp", "dual_running_years"}, {"name", "year"})
        legacy.append(LegacyReplacement(
            name=p.text(m["name"], f"{k}.name"),
            year=p.integer(m["year"], f"{k}.year", 1, years),
            one_off_cost_gbp=p.quantity(m.get("one_off_cost_gbp", 0), f"{k}.one_off_cost_gbp",
                                        **cost),
            old_run_cost_gbp=p.quantity(m.get("old_run_cost_gbp", 0), f"{k}.old_run_cost_gbp",
                                        **cost),
            new_run_cost_gbp=p.quantity(m.get("new_run_cost_gbp", 0), f"{k}.new_run_cost_gbp",
                                        **cost),
            dual_running_years=p.integer(m.get("dual_running_years", 0),
                                         f"{k}.dual_running_years", 0),
        ))

    shared = []
    for i, item in enumerate(p.items(top.get("shared_services"), "shared_services")):
        k = f"shared_services[{i + 1}]"
        m = p.mapping(item, k, {"name", "partners", "categories", "saving_pct",
                                "setup_cost_gbp", "start_year", "ramp_years"},
                      {"name", "saving_pct"})
        shared.append(SharedService(
            name=p.text(m["name"], f"{k}.name"),
            partners=tuple(p.text(x, f"{k}.partners") for x in p.items(m.get("partners"),
                                                                       f"{k}.partners")),
            categories=tuple(p.text(x, f"{k}.categories")
                             for x in p.items(m.get("categories"), f"{k}.categories")),
            saving_pct=p.quantity(m["saving_pct"], f"{k}.saving_pct", minimum=0.0,
                                  maximum=100.0, what="a saving %"),
            setup_cost_gbp=p.quantity(m.get("setup_cost_gbp", 0), f"{k}.setup_cost_gbp",
                                      **cost),
            start_year=p.integer(m.get("start_year", 1), f"{k}.start_year", 1, years),
            ramp_years=p.integer(m.get("ramp_years", 1), f"{k}.ramp_years", 1),
        ))

    grants = []
    for i, item in enumerate(p.items(top.get("grants"), "grants")):
        k = f"grants[{i + 1}]"
        m = p.mapping(item, k, {"name", "amount_gbp", "year", "probability"},
                      {"name", "amount_gbp", "year"})
        grants.append(Grant(
            name=p.text(m["name"], f"{k}.name"),
            amount_gbp=p.quantity(m["amount_gbp"], f"{k}.amount_gbp", minimum=0.0,
                                  what="an amount in £"),
            year=p.integer(m["year"], f"{k}.year", 1, years),
            probability=_probability(p, m.get("probability", 1.0), f"{k}.probability"),
        ))

    peers = None
    if top.get("match_best_peers") is not None:
        k = "match_best_peers"
        m = p.mapping(top[k], k, {"quantile", "gap_closed_pct", "start_year", "ramp_years"},
                      {"quantile", "gap_closed_pct"})
        qn = p.number(m["quantile"], f"{k}.quantile")
        if not 0 < qn < 1:
            p.fail(f"{k}.quantile", f"expected a quantile between 0 and 1 (0.25 = best "
                   f"quartile, 0.1 = best decile), found {qn:g}")
        peers = PeerMatch(
            quantile=qn,
            gap_closed_pct=p.quantity(m["gap_closed_pct"], f"{k}.gap_closed_pct", minimum=0.0,
                                      maximum=100.0, what="a % of the gap"),
            start_year=p.integer(m.get("start_year", 1), f"{k}.start_year", 1, years),
            ramp_years=p.integer(m.get("ramp_years", 1), f"{k}.ramp_years", 1),
        )

    mc = p.mapping(top.get("monte_carlo"), "monte_carlo", {"simulations", "seed"})
    sized_for = None
    if top.get("sized_for_baseline_gbp") is not None:
        sized_for = p.number(top["sized_for_baseline_gbp"], "sized_for_baseline_gbp")
        if sized_for <= 0:
            p.fail("sized_for_baseline_gbp", f"expected an annual IT baseline in £ above 0, "
                   f"found {sized_for:g}")
    sources = tuple(p.text(s, "sources") for s in p.items(top.get("sources"), "sources"))
    return ScenarioSpec(
        name=name,
        title=p.text(top.get("title"), "title", default=name),
        description=p.text(top.get("description"), "description", default=""),
        version=p.text(top.get("version"), "version", default="1"),
        source=source,
        review_years=years,
        funding_basis=funding_basis,
        funding_change_pct=funding,
        inflation_measure=measure,
        inflation_pct=inflation,
        ms_price_change_pct=ms_price,
        ms_mix_change_pct=ms_mix,
        legacy=tuple(legacy),
        shared=tuple(shared),
        grants=tuple(grants),
        peers=peers,
        simulations=p.integer(mc.get("simulations", 2000), "monte_carlo.simulations", 1,
                              1_000_000),
        seed=p.integer(mc.get("seed", 20260401), "monte_carlo.seed", 0),
        sources=sources,
        quantities=_unique(p.quantities),
        sized_for_baseline_gbp=sized_for,
        inflation_reference=reference,
        inflation_sd_pct=sd_pct,
        inflation_correlation=correlation,
        ms_renewal_uplift_pct=uplift,
        funding_pass_through_pct=pass_through,
        funding_divergence_sd_pp=divergence,
    )


def _probability(p: _Parser, raw: Any, key: str) -> Quantity:
    """A probability in [0, 1]; one strictly between is a Bernoulli lever (uncertain)."""
    q = p.quantity(raw, key, minimum=0.0, maximum=1.0, what="a probability")
    if q.dist is not None:
        p.fail(key, "expected a plain probability between 0 and 1, not a distribution")
    # Received or not: the tornado swings it between 0 and 1; Monte Carlo draws Bernoulli.
    bern = Quantity(key, q.value, "bernoulli" if 0 < q.value < 1 else None,
                    0.0 if 0 < q.value < 1 else None, 1.0 if 0 < q.value < 1 else None,
                    None, 0.0, 1.0)
    p.quantities[-1] = bern
    return bern


def _unique(quantities: list[Quantity]) -> tuple[Quantity, ...]:
    """Quantities in file order, each once (a single value applied to every year is one lever)."""
    seen: dict[str, Quantity] = {}
    for q in quantities:
        seen.setdefault(q.path, q)
    return tuple(seen.values())


def with_review_years(spec: ScenarioSpec, years: int) -> ScenarioSpec:
    """The scenario over `years` review years: paths cut short, or held at their last year.

    A longer horizon repeats the file's last-year lever (the same lever, so Monte Carlo draws
    it once and the tornado moves it as one); events after a shorter horizon fall outside it.
    """
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 30:
        raise ReferenceDataError(spec.source, "review_years",
                                f"expected a whole number from 1 to 30, found {years!r}")
    if years == spec.review_years:
        return spec

    def fit(path: tuple[Quantity, ...]) -> tuple[Quantity, ...]:
        return path[:years] + (path[-1],) * max(0, years - len(path))

    fitted = replace(
        spec, review_years=years,
        funding_change_pct=fit(spec.funding_change_pct),
        inflation_pct=fit(spec.inflation_pct),
        ms_price_change_pct=fit(spec.ms_price_change_pct),
        ms_mix_change_pct=fit(spec.ms_mix_change_pct),
        legacy=tuple(x for x in spec.legacy if x.year <= years),
        shared=tuple(x for x in spec.shared if x.start_year <= years),
        grants=tuple(x for x in spec.grants if x.year <= years),
        peers=spec.peers if spec.peers is None or spec.peers.start_year <= years else None,
    )
    return replace(fitted, quantities=_used_quantities(fitted))


def levers(spec: ScenarioSpec, *, price_path: bool = True,
           renewal_uplift: bool = True) -> list[Quantity]:
    """Every quantity the scenario's levers use, in model order (a shared lever repeats).

    `price_path=False` leaves out the yearly Microsoft price path and `renewal_uplift=False`
    the renewal uplift (which of the two a run uses depends on whether the council's
    agreement is known: see `scenarios.bind`).
    """
    used: list[Quantity] = list(spec.inflation_pct)
    if spec.funding_basis == "settlement":
        if spec.funding_pass_through_pct is not None:
            used.append(spec.funding_pass_through_pct)
        used += list(spec.funding_divergence_pp)
    else:
        used += list(spec.funding_change_pct)
    if price_path:
        used += list(spec.ms_price_change_pct)
    if renewal_uplift and spec.ms_renewal_uplift_pct is not None:
        used.append(spec.ms_renewal_uplift_pct)
    used += list(spec.ms_mix_change_pct)
    for item in spec.legacy:
        used += [item.one_off_cost_gbp, item.old_run_cost_gbp, item.new_run_cost_gbp]
    for s in spec.shared:
        used += [s.saving_pct, s.setup_cost_gbp]
    for g in spec.grants:
        used += [g.amount_gbp, g.probability]
    if spec.peers is not None:
        used.append(spec.peers.gap_closed_pct)
    return used


def _used_quantities(spec: ScenarioSpec) -> tuple[Quantity, ...]:
    """The spec's quantities still referenced by its levers, in file order."""
    paths = {q.path for q in levers(spec)}
    return tuple(q for q in spec.quantities if q.path in paths)


def without_uncertainty(spec: ScenarioSpec) -> ScenarioSpec:
    """The scenario with every lever fixed at its central value (no distributions).

    Monte Carlo on the result must reproduce `project` exactly: the notebook's self-check.
    A grant with probability p then counts as p × amount in every draw, as in `project`.
    """
    fixed = {q.path: replace(q, dist=None, low=None, high=None, sd=None)
             for q in spec.quantities}

    def f(q: Quantity) -> Quantity:
        return fixed.get(q.path, q)

    def path(qs: tuple[Quantity, ...]) -> tuple[Quantity, ...]:
        return tuple(f(q) for q in qs)

    return replace(
        spec,
        funding_change_pct=path(spec.funding_change_pct),
        inflation_pct=path(spec.inflation_pct),
        ms_price_change_pct=path(spec.ms_price_change_pct),
        ms_mix_change_pct=path(spec.ms_mix_change_pct),
        legacy=tuple(replace(x, one_off_cost_gbp=f(x.one_off_cost_gbp),
                             old_run_cost_gbp=f(x.old_run_cost_gbp),
                             new_run_cost_gbp=f(x.new_run_cost_gbp)) for x in spec.legacy),
        shared=tuple(replace(x, saving_pct=f(x.saving_pct), setup_cost_gbp=f(x.setup_cost_gbp))
                     for x in spec.shared),
        grants=tuple(replace(x, amount_gbp=f(x.amount_gbp), probability=f(x.probability))
                     for x in spec.grants),
        peers=None if spec.peers is None else replace(
            spec.peers, gap_closed_pct=f(spec.peers.gap_closed_pct)),
        ms_renewal_uplift_pct=(None if spec.ms_renewal_uplift_pct is None
                               else f(spec.ms_renewal_uplift_pct)),
        funding_pass_through_pct=(None if spec.funding_pass_through_pct is None
                                  else f(spec.funding_pass_through_pct)),
        inflation_sd_pct=0.0,
        funding_divergence_sd_pp=0.0,
        funding_divergence_pp=tuple(f(q) for q in spec.funding_divergence_pp
                                    if q.path in fixed),
        certain=True,
        quantities=tuple(fixed.values()),
    )


def load_scenario(name_or_path: str | Path) -> ScenarioSpec:
    """Load a scenario by packaged name ('flat-cash') or from a user's own YAML file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIO_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            raise ReferenceDataError(str(name_or_path), "name", "no packaged scenario of that "
                                    f"name; expected one of {list_scenarios()} or a .yaml path")
    source = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReferenceDataError(source, "file", "file not found") from None
    except yaml.YAMLError as exc:
        raise ReferenceDataError(source, "file", f"not valid YAML ({exc})") from None
    return parse_scenario(raw, source)


def list_scenarios() -> list[str]:
    """Names of the scenarios shipped as package data, sorted."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
