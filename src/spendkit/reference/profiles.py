"""Council profiles: what an analyst knows about their own council that the data cannot say.

A profile is a YAML file the analyst owns, `<councils dir>/<slug>.yaml` (default
`data/councils/`, overridable with `SPENDKIT_COUNCILS_DIR`). Every key is optional except
`council`. The licensing and scenario models read it; without one they say which assumption
they use instead and never borrow another council's facts.

    council: Blackburn with Darwen Borough Council   # name or GSS code (resolved)
    vat_basis: net                                   # net | gross | unknown
    microsoft:
      agreements:                                    # oldest first
        - type: EA                                   # EA | MCA-E | CSP | other
          start: 2025-07-01
          term_years: 3
          billing: annual                            # annual | annual_monthly | monthly
          reseller: Phoenix Software
          seats: {Microsoft 365 E5: 1300}            # SKU (aliases such as E3 work) -> seats
          annual_cost_gbp: 670000                    # when published
          source: "infotec.news, 3 Jun 2025"
    it_staff:
      cost_gbp: {2024-25: 2500000}                   # in-house IT staff cost by financial year
      pay_award_pct: {2025-26: 3.2}
      source: "council budget book 2024-25"
    peers: [E06000009, E06000057]                    # chosen peers (GSS codes or names)
    core_spending_power_gbp: {2025-26: 180000000, 2026-27: 190000000}
    settlement_fixed_cash: true                      # a multi-year settlement fixed in cash
    files: ["Sept-25-CVS.csv", "HBC-*.csv"]          # raw files that are this council's
    sources: ["..."]

An agreement whose seat counts are not published lists its SKUs instead (`skus: [E5]`).
Financial years may be written '2024-25', '2024/25' or 'FY2024'.

This module defines the profile's shape (the dataclasses below) and reads and validates the
files (`load_profile`, `read_profile`): errors are `ReferenceDataError(file, key, problem)`.
The format is documented for analysts in `data/councils/README.md`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from spendkit.errors import InputError, ReferenceDataError
from spendkit.reference import councils
from spendkit.settings import get_settings
from spendkit.units.periods import parse_year_argument


@dataclass(frozen=True)
class MicrosoftAgreement:
    """One Microsoft agreement of the council (a term at fixed prices)."""

    type: str  # EA | MCA-E | CSP | other
    start: date
    term_years: int
    seats: dict[str, int]
    billing: str = "annual"
    reseller: str = ""
    annual_cost_gbp: float | None = None
    source: str = ""
    skus: tuple[str, ...] = ()  # SKUs covered, when seat counts are not published


@dataclass(frozen=True)
class ItStaff:
    """In-house IT staff costs, which published payments never include."""

    cost_gbp: dict[str, float]  # financial year label -> cost
    pay_award_pct: dict[str, float] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class CouncilProfile:
    """Everything a profile file says about one council, validated."""

    council: str  # official name, resolved
    gss_code: str
    path: str  # the file it was read from
    vat_basis: str = "unknown"
    microsoft: tuple[MicrosoftAgreement, ...] = ()
    it_staff: ItStaff | None = None
    peers: tuple[str, ...] = ()  # GSS codes
    core_spending_power_gbp: dict[str, float] = field(default_factory=dict)
    settlement_fixed_cash: bool | None = None
    sources: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # file-name patterns of raw files that are this council's

    @property
    def slug(self) -> str:
        """The profile's file stem: 'blackburn-with-darwen-borough-council'."""
        return councils.slugify(self.council)


# --- reading and validating ----------------------------------------------------------------------

_KEYS = ("council", "vat_basis", "microsoft", "it_staff", "peers", "core_spending_power_gbp",
         "settlement_fixed_cash", "sources", "files")
_AGREEMENT_KEYS = ("type", "start", "term_years", "billing", "reseller", "seats", "skus",
                   "annual_cost_gbp", "source")
AGREEMENT_TYPES = ("EA", "MCA-E", "CSP", "other")
BILLING = ("annual", "annual_monthly", "monthly")
VAT_BASES = ("net", "gross", "unknown")


class _Reader:
    """Validates one profile's parsed YAML, raising errors that name the file and key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> ReferenceDataError:
        return ReferenceDataError(str(self.path), key, problem)

    def mapping(self, value: Any, key: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping (key: value lines), got {value!r}")
        return value

    def known(self, value: dict, key: str, allowed: tuple[str, ...]) -> None:
        for k in value:
            if k not in allowed:
                raise self.fail(f"{key}{k}", "unknown key; expected one of "
                                + ", ".join(allowed))

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected text, got {value!r}")
        return value.strip()

    def choice(self, value: Any, key: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(key, f"expected one of {', '.join(allowed)}, got {value!r}")
        return value

    def number(self, value: Any, key: str, *, whole: bool = False) -> float:
        ok = isinstance(value, int) if whole else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok or value < 0:
            kind = "a whole number" if whole else "a number"
            raise self.fail(key, f"expected {kind} >= 0, got {value!r}")
        return value

    def day(self, value: Any, key: str) -> date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            raise self.fail(key, f"expected a date such as 2025-07-01, got {value!r}") from None

    def texts(self, value: Any, key: str) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list of text, got {value!r}")
        return tuple(self.text(v, f"{key}[{i}]") for i, v in enumerate(value))

    def by_year(self, value: Any, key: str) -> dict[str, float]:
        out = {}
        for year, amount in self.mapping(value, key).items():
            try:
                label = parse_year_argument(year, key)
            except InputError as exc:
                raise self.fail(f"{key}.{year}", str(exc)) from None
            out[label] = float(self.number(amount, f"{key}.{year}"))
        return dict(sorted(out.items()))

    def council(self, value: Any, key: str) -> councils.Council:
        try:
            return councils.resolve_council(self.text(value, key))
        except InputError as exc:
            raise self.fail(key, str(exc)) from None

    def sku(self, value: Any, key: str) -> str:
        from spendkit.reference.microsoft import resolve_sku

        try:
            return resolve_sku(self.text(value, key))
        except InputError as exc:
            raise self.fail(key, str(exc)) from None

    def agreement(self, value: Any, key: str) -> MicrosoftAgreement:
        a = self.mapping(value, key)
        self.known(a, f"{key}.", _AGREEMENT_KEYS)
        for required in ("type", "start", "term_years"):
            if required not in a:
                raise self.fail(f"{key}.{required}", "missing (every agreement needs type, "
                                "start and term_years)")
        seats = {self.sku(s, f"{key}.seats.{s}"): int(self.number(n, f"{key}.seats.{s}",
                                                                  whole=True))
                 for s, n in self.mapping(a.get("seats") or {}, f"{key}.seats").items()}
        skus = tuple(self.sku(s, f"{key}.skus[{i}]")
                     for i, s in enumerate(a.get("skus") or ()))
        if not seats and not skus:
            raise self.fail(f"{key}.seats", "expected seats (SKU: count) or, when counts are "
                            "not published, skus (a list of SKUs)")
        term = int(self.number(a["term_years"], f"{key}.term_years", whole=True))
        if term < 1:
            raise self.fail(f"{key}.term_years", f"expected at least 1 year, got {term}")
        cost = a.get("annual_cost_gbp")
        return MicrosoftAgreement(
            type=self.choice(a["type"], f"{key}.type", AGREEMENT_TYPES),
            start=self.day(a["start"], f"{key}.start"), term_years=term, seats=seats,
            billing=self.choice(a.get("billing", "annual"), f"{key}.billing", BILLING),
            reseller=self.text(a["reseller"], f"{key}.reseller") if a.get("reseller") else "",
            annual_cost_gbp=None if cost is None else float(
                self.number(cost, f"{key}.annual_cost_gbp")),
            source=self.text(a["source"], f"{key}.source") if a.get("source") else "",
            skus=skus or tuple(seats))

    def profile(self, raw: Any) -> CouncilProfile:
        data = self.mapping(raw, "(top level)")
        self.known(data, "", _KEYS)
        if "council" not in data:
            raise self.fail("council", "missing: every profile names its council (a name or "
                            "GSS code)")
        who = self.council(data["council"], "council")
        ms = data.get("microsoft") or {}
        if isinstance(ms, dict):
            self.known(ms, "microsoft.", ("agreements",))
            ms = ms.get("agreements") or []
        if not isinstance(ms, list):
            raise self.fail("microsoft.agreements", f"expected a list of agreements, got {ms!r}")
        agreements = tuple(sorted((self.agreement(a, f"microsoft.agreements[{i}]")
                                   for i, a in enumerate(ms)), key=lambda a: a.start))
        staff = None
        if data.get("it_staff") is not None:
            s = self.mapping(data["it_staff"], "it_staff")
            self.known(s, "it_staff.", ("cost_gbp", "pay_award_pct", "source"))
            staff = ItStaff(self.by_year(s.get("cost_gbp") or {}, "it_staff.cost_gbp"),
                            self.by_year(s.get("pay_award_pct") or {}, "it_staff.pay_award_pct"),
                            self.text(s["source"], "it_staff.source") if s.get("source") else "")
        peers = tuple(self.council(p, f"peers[{i}]").code or self.council(p, f"peers[{i}]").name
                      for i, p in enumerate(data.get("peers") or ()))
        fixed = data.get("settlement_fixed_cash")
        if fixed is not None and not isinstance(fixed, bool):
            raise self.fail("settlement_fixed_cash", f"expected true or false, got {fixed!r}")
        return CouncilProfile(
            council=who.name, gss_code=who.code, path=str(self.path),
            vat_basis=self.choice(data.get("vat_basis", "unknown"), "vat_basis", VAT_BASES),
            microsoft=agreements, it_staff=staff, peers=peers,
            core_spending_power_gbp=self.by_year(data.get("core_spending_power_gbp") or {},
                                                 "core_spending_power_gbp"),
            settlement_fixed_cash=fixed,
            sources=self.texts(data.get("sources") or [], "sources"),
            files=self.texts(data.get("files") or [], "files"))


def _parse(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise ReferenceDataError(str(path), where, f"not valid YAML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceDataError(str(path), "(file)", f"cannot be read ({exc})") from None


def read_profile(path: str | Path) -> CouncilProfile:
    """One council profile file, validated (ReferenceDataError naming the file and key)."""
    path = Path(path)
    return _Reader(path).profile(_parse(path))


def _folder(councils_dir: str | Path | None) -> Path:
    return Path(councils_dir) if councils_dir is not None else get_settings().councils_dir


_CACHE: dict[tuple[str, float, int], Any] = {}


def _raw(path: Path) -> Any:
    """Parsed YAML of a profile, cached until the file changes."""
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _CACHE:
        _CACHE[key] = _parse(path)
    return _CACHE[key]


def profile_files(councils_dir: str | Path | None = None) -> list[Path]:
    """The profile files in the councils folder, sorted (none when it does not exist)."""
    folder = _folder(councils_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _find(councils_dir: str | Path | None, wanted: Callable[[Path, Any], bool]
          ) -> CouncilProfile | None:
    for path in profile_files(councils_dir):
        raw = _raw(path)
        if wanted(path, raw):
            return _Reader(path).profile(raw)
    return None


def load_profile(council: str, councils_dir: str | Path | None = None) -> CouncilProfile | None:
    """The profile of `council` (a name, GSS code or slug), or None when there is none.

    Looks for `<slug>.yaml` first, then any profile whose `council` key names the same
    council. Only the profile found is validated: a broken profile of another council does not
    stop this one loading.
    """
    try:
        who = councils.resolve_council(council)
        names = {councils.slugify(who.name), councils.slugify(council)}
        code = who.code
    except InputError:
        names, code = {councils.slugify(council)}, ""
    if code:
        names.add(code.lower())

    def same(path: Path, raw: Any) -> bool:
        if path.stem.lower() in names:
            return True
        named = raw.get("council") if isinstance(raw, dict) else None
        if not isinstance(named, str):
            return False
        if councils.slugify(named) in names or (code and named.strip() == code):
            return True
        try:
            other = councils.resolve_council(named)
        except InputError:
            return False
        return bool(code) and other.code == code

    return _find(councils_dir, same)


def profile_claiming(file_name: str, councils_dir: str | Path | None = None
                     ) -> tuple[CouncilProfile, str] | None:
    """The profile whose `files` patterns match a raw file's name, and the pattern."""
    found: list[str] = []

    def claims(path: Path, raw: Any) -> bool:
        patterns = raw.get("files") if isinstance(raw, dict) else None
        for pattern in patterns if isinstance(patterns, list) else ():
            if isinstance(pattern, str) and fnmatch.fnmatch(file_name.lower(), pattern.lower()):
                found.append(pattern)
                return True
        return False

    prof = _find(councils_dir, claims)
    return (prof, found[0]) if prof is not None else None


__all__ = ["AGREEMENT_TYPES", "BILLING", "VAT_BASES", "CouncilProfile", "ItStaff",
           "MicrosoftAgreement", "load_profile", "profile_claiming", "profile_files",
           "read_profile"]
