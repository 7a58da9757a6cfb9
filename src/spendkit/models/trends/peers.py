"""Like-for-like peers: who a council is compared with, and where it sits among them.

A comparison is a *measure* over a *peer group*, in the manner of OpenPrescribing's measures:

* the numerator is the council's IT spend published as payments in one complete financial year
  (payments over the publication threshold only: in-house staff and small payments are not in
  it, so every figure is a floor);
* the denominators are residents (ONS mid-2024 estimates) and net current service expenditure
  (MHCLG revenue outturn 2024-25, RSX line C7), giving "per head" and "share of spend";
* the peer group is like for like: the council's nearest statistical neighbours *of its own
  tier* (ONS nearest neighbours 2025) or the peers chosen in its council profile, and never the
  council itself. A district (no social care, no schools) is never ranked against unitaries.

`compare_with_peers` takes a small per-council, per-year totals table (aggregate first, e.g.
from DuckDB) and says where the council sits among the peers that have data (percentile and
decile, lowest spend = 1st decile), the peers' deciles, and what the council would spend at
the peers' best decile. Peers without data in the ingested dataset are counted and named, not
guessed: with fewer than `min_peers` peers with data there are no deciles, and with none there
is no comparison; both are said in words, never raised.

Money: the numerator is summed exactly upstream (units.money) and converted to float here for
the ratios; per-head values, shares and targets are modelled quantities (floats).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spendkit.errors import InputError
from spendkit.reference import benchmarking, catalogue
from spendkit.reference.profiles import CouncilProfile
from spendkit.schema import require_columns

__all__ = [
    "MEASURES", "PeerGroup", "PeerMeasure", "add_population", "compare_with_peers",
    "council_info", "load_local_authorities", "load_population", "peer_group", "per_head",
]

#: The measures compared: column in `PeerMeasure.table`, words, unit.
MEASURES: dict[str, tuple[str, str]] = {
    "per_head": ("IT spend per resident", "£ per resident"),
    "share_of_spend": ("IT spend as a share of net current service expenditure", "%"),
}
DECILES = tuple(range(10, 100, 10))
_TIER_WORDS = {"lower": "district (lower-tier)", "upper": "county (upper-tier)",
               "single": "single-tier", "unknown": ""}


# --- reference tables, per head ------------------------------------------------------------------


def load_population() -> pd.DataFrame:
    """Package population table (ONS mid-2024): gss_code, name, population, year, basis, source."""
    return benchmarking.population()


def load_local_authorities() -> pd.DataFrame:
    """English local authorities (mySociety, CC BY 4.0): GSS code, names, type, tier, region."""
    return catalogue.read_csv("local_authorities")


def council_info(codes: pd.Series | Sequence[str]) -> pd.DataFrame:
    """Name, type, tier and region for GSS codes (NA for codes not in the reference list)."""
    wanted = pd.DataFrame({"gss_code": pd.Series(codes, dtype="string").unique()})
    ref = load_local_authorities()[["gss_code", "nice_name", "type_name", "tier", "region"]]
    return wanted.merge(ref.astype("string"), on="gss_code", how="left")


def add_population(table: pd.DataFrame, population: pd.DataFrame | None = None,
                   code: str = "publisher_code") -> pd.DataFrame:
    """Add `population`, `population_year` and `population_source` by GSS code (NA if unknown).

    `population` defaults to the package table (`load_population`, ONS mid-2024); pass your own
    frame with `gss_code` and `population` (and optionally `year`, `source`) to use others.
    """
    require_columns(table, [code], "add_population")
    pop = load_population() if population is None else population
    require_columns(pop, ["gss_code", "population"], "population table")
    ref = pd.DataFrame({
        code: pop["gss_code"].astype("string"),
        "population": pd.to_numeric(pop["population"]).astype("Int64"),
        "population_year": (pd.to_numeric(pop["year"]).astype("Int64") if "year" in pop
                            else pd.Series(pd.NA, index=pop.index, dtype="Int64")),
        "population_source": (pop["source"].astype("string") if "source" in pop
                              else pd.Series(pd.NA, index=pop.index, dtype="string")),
    }).drop_duplicates(code)
    out = table.drop(columns=["population", "population_year", "population_source"],
                     errors="ignore")
    merged = out.assign(_code=out[code].astype("string")).merge(
        ref.rename(columns={code: "_code"}), on="_code", how="left").drop(columns="_code")
    merged.index = out.index
    return merged


def per_head(table: pd.DataFrame, values: Sequence[str] = ("amount_gbp",),
             population: pd.DataFrame | None = None,
             code: str = "publisher_code") -> pd.DataFrame:
    """Add `<value>_per_head` (float GBP per resident) for each of `values`; NA without a population."""
    out = table if "population" in table.columns else add_population(table, population, code)
    out = out.copy()
    residents = out["population"].astype("float64")
    for value in values:
        require_columns(out, [value], "per_head")
        out[f"{value}_per_head"] = out[value].astype("float64") / residents
    return out


# --- the peer group ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerGroup:
    """Who a council is compared with: GSS codes nearest first, never the council itself."""

    council_code: str
    council_name: str
    tier: str  # lower | upper | single | unknown
    members: tuple[str, ...]
    member_names: tuple[str, ...]
    basis: str  # 'ons_nearest_neighbours' | 'profile' | 'given' | 'none'
    model: str | None = None  # the ONS model for basis 'ons_nearest_neighbours'
    source: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def size(self) -> int:
        """Number of peers in the group (the council not counted)."""
        return len(self.members)

    def describe(self) -> str:
        """The group in words, for every caption: who, how many, chosen how."""
        if self.basis == "ons_nearest_neighbours":
            tier = _TIER_WORDS.get(self.tier, self.tier)
            model = (self.model or "").replace("_", "-")
            return (f"the {self.size} nearest {tier} neighbours of {self.council_name} "
                    f"({benchmarking.NEIGHBOURS_LABEL}, {model} model)")
        if self.basis == "profile":
            return f"the {self.size} peers chosen in {self.council_name}'s council profile"
        if self.basis == "given":
            return f"the {self.size} peers given for {self.council_name}"
        return f"no peer group for {self.council_name}"


def _names(codes: Sequence[str]) -> dict[str, str]:
    table = benchmarking.classification().set_index("gss_code")["name"]
    return {c: str(table.get(c, c)) for c in codes}


def _tier(code: str) -> str:
    try:
        return benchmarking.tier_of(code)
    except InputError:
        return "unknown"


def peer_group(council_code: str, *, profile: CouncilProfile | None = None,
               peers: Sequence[str] | None = None, size: int = 15,
               model: str | None = None, council_name: str | None = None) -> PeerGroup:
    """The like-for-like peer group of a council (by GSS code).

    In order: `peers` given (GSS codes), the profile's chosen `peers`, else the `size` nearest
    same-tier ONS neighbours (`model` overrides the default model for the tier). The council
    is always left out of its own group (a note says so if it was listed). A code that is not
    an English council gets an empty group with a note, not an error.
    """
    code = str(council_code).strip()
    name = council_name or _names([code])[code]
    tier = _tier(code)
    notes: list[str] = []
    if peers is not None or (profile is not None and profile.peers):
        chosen = list(peers) if peers is not None else list(profile.peers)  # type: ignore[union-attr]
        basis = "given" if peers is not None else "profile"
        source = "given by the caller" if peers is not None else profile.path  # type: ignore[union-attr]
        if code in chosen:
            notes.append(f"{name} was listed among its own peers and is left out")
        members = list(dict.fromkeys(c for c in chosen if c != code))
        other = sorted({_tier(c) for c in members} - {tier})
        if members and other and tier != "unknown":
            notes.append(f"the chosen peers include councils of another tier ({', '.join(other)}"
                         f"): {name} is {tier}-tier, so spend is not like for like")
        names = _names(members)
        return PeerGroup(code, name, tier, tuple(members), tuple(names[c] for c in members),
                         basis, None, source, tuple(notes))
    if tier == "unknown":
        return PeerGroup(code, name, tier, (), (), "none", None, "", (
            f"{name} ({code}) is not one of the 317 English councils in the ONS "
            "nearest-neighbour models: list its peers in the council profile",))
    table = benchmarking.nearest_neighbours(code, model=model, n=size)
    members = tuple(table["neighbour_gss_code"])
    used = str(table["model"].iloc[0]) if len(table) else (model or "")
    source = (f"{benchmarking.NEIGHBOURS_LABEL}, {used} model: same-tier neighbours ranked by "
              "statistical distance (package data nearest_neighbours.csv)")
    return PeerGroup(code, name, tier, members, tuple(table["name"].astype(str)),
                     "ons_nearest_neighbours", used, source, tuple(notes))


# --- the comparison ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerMeasure:
    """Where a council sits among its peers on IT spend per resident and as a share of spend."""

    group: PeerGroup
    financial_year: str | None
    table: pd.DataFrame  # one row per council (the council first), see compare_with_peers
    deciles: pd.DataFrame  # measure, p10 .. p90 over the peers with data (empty: too few)
    position: pd.DataFrame  # measure, council_value, percentile, decile, best_decile_value,
    #                          spend_at_best_decile_gbp, saving_at_best_decile_gbp, n_peers
    min_peers: int
    notes: tuple[str, ...] = field(default=())

    @property
    def n_with_data(self) -> int:
        """Peers (not the council) with a complete year of payments in the data."""
        t = self.table
        return int((t["has_data"] & ~t["is_council"]).sum())

    @property
    def comparable(self) -> bool:
        """True when the council has a value and at least `min_peers` peers have data."""
        return (self.financial_year is not None and self.n_with_data >= self.min_peers
                and bool(self.table.loc[self.table["is_council"], "has_data"].any()))

    def _values(self, measure: str) -> np.ndarray:
        col = _MEASURE_COLUMNS[measure]
        t = self.table
        return t.loc[t["has_data"] & ~t["is_council"], col].dropna().to_numpy(dtype=float)

    def target_gbp(self, quantile: float = 0.1, measure: str = "per_head") -> float | None:
        """The council's annual IT spend at the peers' `quantile` of the measure (0.1 = best
        decile, 0.25 = best quartile: lower spend is better); None when not comparable."""
        if measure not in MEASURES:
            raise InputError(f"measure: expected one of {list(MEASURES)}, got {measure!r}")
        if not 0 < quantile < 1:
            raise InputError(f"quantile: expected a fraction between 0 and 1, got {quantile!r}")
        if not self.comparable:
            return None
        values = self._values(measure)
        if values.size < self.min_peers:
            return None
        mine = self.table[self.table["is_council"]].iloc[0]
        denominator = (mine["population"] if measure == "per_head"
                       else mine["net_current_expenditure_gbp"] / 100)
        if pd.isna(denominator):
            return None
        return float(np.quantile(values, quantile)) * float(denominator)

    def status(self) -> str:
        """One sentence: how many peers have data, and what the comparison can say."""
        g = self.group
        if g.size == 0:
            return f"No peer comparison: {'; '.join(g.notes) or 'no peer group'}."
        have = self.n_with_data
        year = self.financial_year
        if year is None:
            return (f"No peer comparison: {g.council_name} has no complete financial year of "
                    "payments in the data.")
        head = (f"{have} of {g.size} peers ({g.describe()}) have a complete {year} in the "
                "data")
        if have == 0:
            return f"No peer comparison: {head.replace(f'{have} of', 'none of', 1)}."
        if have < self.min_peers:
            return (f"{head}: too few for deciles (at least {self.min_peers} needed); their "
                    "values are shown beside the council's, nothing more.")
        return f"{head}; the comparison uses only those {have}."

    def summary(self) -> str:
        """Where the council sits and what the best decile would mean, in plain English."""
        lines = [self.status()]
        if self.comparable:
            for r in self.position.itertuples():
                words, unit = MEASURES[r.measure]
                value = (f"£{r.council_value:,.2f}" if unit.startswith("£")
                         else f"{r.council_value:.2f}%")
                best = (f"£{r.best_decile_value:,.2f}" if unit.startswith("£")
                        else f"{r.best_decile_value:.2f}%")
                saving = ("" if pd.isna(r.saving_at_best_decile_gbp) else
                          f"; at the peers' best decile ({best}) it would spend "
                          f"£{r.spend_at_best_decile_gbp:,.0f}, "
                          + (f"£{r.saving_at_best_decile_gbp:,.0f} less" if
                             r.saving_at_best_decile_gbp > 0.5 else "no less than now"))
                lines.append(f"{words}: {value}, decile {int(r.decile)} of 10 among "
                             f"{int(r.n_peers)} peers (1 = lowest spend; percentile "
                             f"{r.percentile:.0f}){saving}.")
        lines += list(self.notes)
        return " ".join(lines)

    def caption(self) -> str:
        """Short caption naming the peer group and its data, for a chart or table."""
        year = f", {self.financial_year}" if self.financial_year else ""
        return (f"Peers: {self.group.describe()}{year}; {self.n_with_data} of "
                f"{self.group.size} with data. IT spend published as payments over the "
                f"threshold; residents: {benchmarking.POPULATION_LABEL}; spend: "
                f"{benchmarking.OUTTURN_LABEL}.")

    def assumptions(self) -> pd.DataFrame:
        """What the comparison rests on: item, value, source (or 'assumption'), confidence."""
        rows = [
            ("Peer group", self.group.describe(), self.group.source or "assumption",
             "high" if self.group.basis == "ons_nearest_neighbours" else "medium"),
            ("Peers with data", f"{self.n_with_data} of {self.group.size}",
             "the ingested dataset (complete financial years only)", "high"),
            ("Numerator", "IT spend published as payments over the threshold (a floor: no "
             "in-house staff, no payments below the threshold)", "spendkit classification of "
             "the published payments", "medium"),
            ("Residents", benchmarking.POPULATION_LABEL + " for every year",
             "ONS MYE2 mid-2024 (package data population.csv)", "high"),
            ("Spend", benchmarking.OUTTURN_LABEL + " for every year",
             "MHCLG RSX 2024-25 (package data revenue_outturn.csv)", "high"),
            ("Minimum peers for deciles", str(self.min_peers), "assumption", "low"),
        ]
        return pd.DataFrame(rows, columns=["item", "value", "source", "confidence"])


_MEASURE_COLUMNS = {"per_head": "per_head_gbp", "share_of_spend": "share_of_spend_pct"}


def _percentile(values: np.ndarray, x: float) -> float:
    """Share of `values` below `x` (ties count half), 0-100: the council's place among peers."""
    below = float((values < x).sum()) + 0.5 * float((values == x).sum())
    return 100.0 * below / values.size


def compare_with_peers(totals: pd.DataFrame, group: PeerGroup, *, year: str | None = None,
                       population: pd.DataFrame | None = None,
                       outturn: pd.DataFrame | None = None, min_peers: int = 5,
                       best: float = 0.1,
                       vat_basis: Mapping[str, str] | None = None) -> PeerMeasure:
    """Where `group`'s council sits among its peers with data, per resident and share of spend.

    `totals` has one row per council and financial year: `publisher_code`, `financial_year`,
    `amount_gbp` (IT spend, exact or float) and `is_complete`. The year is `year`, else the
    council's latest complete year; only complete years count, for the council and its peers.
    `best` is the quantile read as "best" (0.1 = best decile). `vat_basis` maps GSS code to
    'net'/'gross'/'unknown' (ledger or profiles); a group mixing net and gross publishers gets
    a note. Table columns: gss_code, name, tier, is_council, has_data, financial_year,
    amount_gbp (float), population, per_head_gbp, net_current_expenditure_gbp,
    share_of_spend_pct.
    """
    require_columns(totals, ["publisher_code", "financial_year", "amount_gbp", "is_complete"],
                    "compare_with_peers totals")
    if isinstance(min_peers, bool) or not isinstance(min_peers, int) or min_peers < 1:
        raise InputError(f"min_peers: expected a whole number >= 1, got {min_peers!r}")
    codes = (group.council_code, *group.members)
    data = totals[totals["publisher_code"].astype("string").isin(codes)
                  & totals["is_complete"].astype("boolean").fillna(False)]
    data = data.assign(publisher_code=data["publisher_code"].astype(str),
                       financial_year=data["financial_year"].astype(str))
    own_years = sorted(data.loc[data["publisher_code"] == group.council_code,
                                "financial_year"].unique())
    if year is None:
        year = own_years[-1] if own_years else None
    notes: list[str] = list(group.notes)
    amounts = (data[data["financial_year"] == year]
               .groupby("publisher_code")["amount_gbp"].sum() if year else pd.Series(dtype=float))
    pop = load_population() if population is None else population
    pop_map = dict(zip(pop["gss_code"].astype(str), pd.to_numeric(pop["population"]),
                       strict=True))
    out_tab = benchmarking.revenue_outturn() if outturn is None else outturn
    nce_map = dict(zip(out_tab["gss_code"].astype(str),
                       pd.to_numeric(out_tab["net_current_expenditure_gbp"]), strict=True))
    names = dict(zip(codes, (group.council_name, *group.member_names), strict=True))
    rows = []
    for code in codes:
        amount = float(amounts[code]) if code in amounts.index else np.nan
        residents = float(pop_map.get(code, np.nan))
        nce = float(nce_map.get(code, np.nan))
        rows.append({
            "gss_code": code, "name": names[code], "tier": _tier(code),
            "is_council": code == group.council_code, "has_data": not np.isnan(amount),
            "financial_year": year, "amount_gbp": amount, "population": residents,
            "per_head_gbp": amount / residents if residents > 0 else np.nan,
            "net_current_expenditure_gbp": nce,
            "share_of_spend_pct": amount / nce * 100 if nce > 0 else np.nan,
        })
    table = pd.DataFrame(rows)
    if vat_basis:
        bases = {vat_basis.get(c, "unknown") for c in table.loc[table["has_data"], "gss_code"]}
        if {"net", "gross"} <= bases:
            notes.append("the councils compared publish on different VAT bases (net and "
                         "gross): their totals are not like for like")
    measure = PeerMeasure(group, year, table, pd.DataFrame(), pd.DataFrame(), min_peers,
                          tuple(notes))
    peers_with = measure.n_with_data
    deciles, position = [], []
    mine = table.iloc[0]
    for name, col in _MEASURE_COLUMNS.items():
        values = measure._values(name)
        if values.size >= min_peers:
            deciles.append({"measure": name, **{f"p{d}": float(np.percentile(values, d))
                                                 for d in DECILES}})
        if values.size >= min_peers and not pd.isna(mine[col]):
            pct = _percentile(values, float(mine[col]))
            best_value = float(np.quantile(values, best))
            denominator = (mine["population"] if name == "per_head"
                           else mine["net_current_expenditure_gbp"] / 100)
            spend_at = best_value * float(denominator)
            position.append({"measure": name, "council_value": float(mine[col]),
                             "percentile": pct, "decile": min(10, int(pct // 10) + 1),
                             "best_decile_value": best_value,
                             "spend_at_best_decile_gbp": spend_at,
                             "saving_at_best_decile_gbp": max(0.0, mine["amount_gbp"] - spend_at),
                             "n_peers": int(values.size)})
    if peers_with and mine["has_data"] and pd.isna(mine["share_of_spend_pct"]):
        notes.append(f"{group.council_name} has no 2024-25 revenue outturn (return not "
                     "received): no share of spend")
    return PeerMeasure(group, year, table,
                       pd.DataFrame(deciles, columns=["measure", *[f"p{d}" for d in DECILES]]),
                       pd.DataFrame(position, columns=[
                           "measure", "council_value", "percentile", "decile",
                           "best_decile_value", "spend_at_best_decile_gbp",
                           "saving_at_best_decile_gbp", "n_peers"]),
                       min_peers, tuple(notes))
