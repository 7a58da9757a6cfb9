"""Who published a file, and which council a user means: names, codes and the clues that decide.

Councils come from mySociety's list of UK local authorities (CC BY 4.0, derived copy in
`package_data/reference/mysociety/`, which also holds the combined authorities and the GLA);
other local public bodies that publish the same files (police and crime commissioners, fire
and rescue authorities, national parks, waste and transport bodies) from
`package_data/reference/other_bodies.csv`. Together they are the *bodies* spendkit knows.

Three jobs, one name index:

* `resolve_council(query, available)`: the one resolver for a user's `council` argument
  (forgiving case, 'Council'/'City'/'Borough' words, abbreviations, GSS codes and slugs), with
  one error type (`InputError`) and one message style.
* `identify_publisher(clues, ...)`: decide a file's publisher from the clues the loader read
  (`spendkit.extract.clues`), strongest first, and say which clue decided.
* `package_data/loader/publisher_profiles.csv` (`profile_for`): what detection cannot know
  per publisher (VAT basis, threshold, encoding, header line), matched on the file's folders.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import PurePath
from typing import Any

from spendkit.errors import InputError
from spendkit.reference import catalogue

#: Name used for a file whose publisher the clues do not decide.
UNKNOWN = "Unknown publisher"

# --- normalising names -------------------------------------------------------------------------

#: Phrases that only say what kind of council a name is ("London Borough of Lambeth").
_TYPE_PHRASES = re.compile(
    r"\b(council of the (?:city|borough|county|district|royal borough) of|london borough of|"
    r"royal borough of|city and county of|county borough of|metropolitan borough of|"
    r"borough of|city of|county of|district of)\b")
#: Words and abbreviations that only say what kind of council a name is ('Stockport MBC').
_TYPE_WORDS = frozenset({
    "council", "borough", "city", "county", "district", "metropolitan", "unitary", "authority",
    "the", "mbc", "mdc", "cc", "dc", "bc", "rbc", "lb", "lbc", "ua", "cbc"})
#: Type hints: an abbreviation or word in a query, and the words a matching name may contain.
_HINTS: dict[str, tuple[frozenset[str], ...]] = {
    "county": (frozenset({"county"}),), "city": (frozenset({"city"}),),
    "metropolitan": (frozenset({"metropolitan"}),), "district": (frozenset({"district"}),),
    "borough": (frozenset({"borough"}),), "cc": (frozenset({"county", "city"}),),
    "mbc": (frozenset({"metropolitan", "borough"}),), "mdc": (frozenset({"metropolitan"}),),
    "dc": (frozenset({"district"}),), "bc": (frozenset({"borough"}),),
    "rbc": (frozenset({"borough"}),), "lb": (frozenset({"london"}),),
    "lbc": (frozenset({"london", "borough"}),),
}
#: Council names that are everyday words: found in free text (file names, descriptions) only
#: next to a word that says 'council' ('Reading Borough Council', not 'meter reading').
_COMMON_WORDS = frozenset({"reading", "bury", "hart", "eden", "rugby", "boston", "derby",
                           "halton", "wealden", "central", "north", "south", "east", "west"})
#: Initialisms that name a kind of body, not a body ('PCC' is any police and crime
#: commissioner), or are file-name noise.
_NOT_INITIALISMS = frozenset({"PCC", "OPCC", "PFCC", "FRA", "FRS", "NPA", "MCA", "CCA", "AND",
                              "THE", "CSV", "XLS", "XLSX", "PDF", "VAT", "NET", "ALL", "REF",
                              "LTD", "PLC", "GPC", "NHS"})
#: Small words left out of initialisms ('Blackburn with Darwen Borough Council' -> BDBC).
_SMALL = frozenset({"of", "the", "and", "with", "upon", "on", "in", "under"})


_SAINT = re.compile(r"\bsaint\b")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Lower-case words of a name: '&' as 'and', 'St.'/'Saint' as 'st', punctuation as spaces."""
    t = str(text).lower().replace("&", " and ").replace("\u2019", "").replace("'", "")
    return " ".join(_NOT_WORD.sub(" ", _SAINT.sub("st", t)).split())


@lru_cache(maxsize=65536)
def core_name(text: str) -> str:
    """A name without the words that only say what kind of council it is ('stockport')."""
    key = _TYPE_PHRASES.sub(" ", normalise(text))
    return " ".join(w for w in key.split() if w not in _TYPE_WORDS)


def slugify(text: str) -> str:
    """'Leeds City Council' -> 'leeds-city-council' (the folder and profile file name)."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def _initials(name: str) -> set[str]:
    """Initialisms of a full name: 'Stockport Metropolitan Borough Council' -> SMBC."""
    words = normalise(name).split()
    if len(words) < 2:
        return set()
    out = set()
    for keep_small in (False, True):
        ws = [w for w in words if keep_small or w not in _SMALL]
        out.add("".join(w[0] for w in ws))
        # 'St Helens' is one place: S, as people write 'SMBC' for St Helens MBC too.
        merged = " ".join(ws).replace("st ", "st")
        out.add("".join(w[0] for w in merged.split()))
    return {i.upper() for i in out if len(i) >= 3}


# --- the bodies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """A council or other local public body that can publish a spending file."""

    key: str  # mySociety 3-letter code, or 'other:<slug>'
    name: str  # official name
    code: str  # GSS / ONS code ('' where it has none recorded)
    kind: str  # mySociety type name ('Metropolitan district'), or the other-body kind
    current: bool = True
    nice_name: str = ""

    def label(self) -> str:
        """'Leeds City Council (E08000035)'."""
        return f"{self.name} ({self.code})" if self.code else self.name


@dataclass
class _Index:
    bodies: dict[str, Body]
    exact: dict[str, set[str]]  # normalised name -> keys
    core: dict[str, set[str]]  # core name -> keys
    initials: dict[str, set[str]]  # 'SMBC' -> keys
    codes: dict[str, set[str]]  # GSS (current and former), SNAC and other-body codes -> keys
    words: dict[str, frozenset[str]]  # key -> every word of its names (for type hints)
    longest: int = 1


def _add(index: dict[str, set[str]], name: str, key: str) -> None:
    if name:
        index.setdefault(name, set()).add(key)


_OTHER_VARIANTS = {
    "police_and_crime_commissioner": (
        "{area} pcc", "{area} opcc", "opcc {area}", "opcc for {area}", "{area} pfcc",
        "{area} police and crime commissioner", "police and crime commissioner {area}",
        "office of the police and crime commissioner for {area}",
        "{area} police fire and crime commissioner", "{area} police and crime panel"),
    "fire_and_rescue_authority": (
        "{area} fire and rescue service", "{area} fire and rescue authority",
        "{area} fire authority", "{area} fire and rescue", "{area} frs", "{area} fra",
        "{area} combined fire authority", "{area} fire"),
    "national_park_authority": ("{area} national park authority", "{area} national park",
                                "{area} npa"),
}


@lru_cache(maxsize=1)
def _index() -> _Index:
    bodies: dict[str, Body] = {}
    exact: dict[str, set[str]] = {}
    core: dict[str, set[str]] = {}
    initials: dict[str, set[str]] = {}
    codes: dict[str, set[str]] = {}
    words: dict[str, set[str]] = {}

    def names_of(key: str, names: Iterable[str], with_core: bool = True) -> None:
        for name in names:
            norm = normalise(name)
            if not norm:
                continue
            _add(exact, norm, key)
            words.setdefault(key, set()).update(norm.split())
            if with_core:
                _add(core, core_name(name), key)
            for ini in _initials(name):
                _add(initials, ini, key)

    for row in catalogue.read_csv("mysociety_authorities").to_dict("records"):
        key, gss, kind = row["local-authority-code"], row["gss-code"], row["local-authority-type-name"]
        bodies[key] = Body(key, row["official-name"], gss, kind, row["current-authority"] == "True",
                           row["nice-name"])
        extra = []
        if kind == "Metropolitan district" and "city" not in normalise(row["official-name"]).split():
            # 'St Helens Council' is 'St Helens MBC' to many (but Salford is a city council)
            extra.append(f"{row['nice-name']} Metropolitan Borough Council")
        names_of(key, [row["official-name"], row["nice-name"], *row["alt-names"].split(","),
                       *extra])
        _add(codes, gss, key)
        for former in row["former-gss-codes"].split(","):
            _add(codes, former.strip(), key)
    for row in catalogue.read_csv("mysociety_names").itertuples(index=False):
        if row.local_authority_code in bodies:
            names_of(row.local_authority_code, [row.name])
    for row in catalogue.read_csv("mysociety_gss").itertuples(index=False):
        if row.local_authority_code in bodies:
            _add(codes, row.gss_code, row.local_authority_code)
    for row in catalogue.read_csv("mysociety_snac").itertuples(index=False):
        if row.local_authority_code in bodies:
            _add(codes, row.snac, row.local_authority_code)
    for row in catalogue.read_csv("other_bodies").itertuples(index=False):
        key = f"other:{slugify(row.name)}"
        bodies[key] = Body(key, row.name, row.code, row.kind, True, row.name)
        variants = [v.format(area=row.area) for v in _OTHER_VARIANTS.get(row.kind, ())]
        # Other bodies are named in full only: their bare area ('Lancashire') is a council.
        names_of(key, [row.name, *row.alt_names.split(";"), *variants], with_core=False)
        _add(codes, row.code, key)
    longest = max(len(k.split()) for k in (*exact, *core))
    return _Index(bodies, exact, core, initials, codes,
                  {k: frozenset(v) for k, v in words.items()}, longest)


def bodies() -> dict[str, Body]:
    """Every body spendkit knows, by key."""
    return _index().bodies


def body(key: str) -> Body:
    """The body with this key (mySociety code or 'other:<slug>')."""
    return _index().bodies[key]


# --- matching one value --------------------------------------------------------------------------

_GSS = re.compile(r"\b([EWSN]\d{8})\b")
_SNAC_URI = re.compile(r"statistics\.data\.gov\.uk/(?:id|doc)/local-authority/([0-9A-Z]{4})\b",
                       re.IGNORECASE)
_ODC_URI = re.compile(r"opendatacommunities\.org/(?:id|doc)/([a-z-]+)/([A-Za-z0-9-]+)",
                      re.IGNORECASE)


@dataclass(frozen=True)
class Match:
    """What a text names: candidate body keys and how they were found."""

    keys: frozenset[str]
    via: str  # 'code' | 'name' | 'initials' | ''
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.keys)


_NO_MATCH = Match(frozenset(), "")


def _narrow(keys: set[str], query: str) -> set[str]:
    """Keep the candidates the query's type words fit, then the current ones, where any do."""
    ix = _index()
    for word in normalise(query).split():
        for group in _HINTS.get(word, ()):
            fit = {k for k in keys if ix.words.get(k, frozenset()) & group}
            if fit:
                keys = fit
    if len(keys) > 1:
        current = {k for k in keys if ix.bodies[k].current}
        if current:
            keys = current
    return keys


def match_code(text: str) -> Match:
    """A GSS code, an old ONS code in a statistics.data.gov.uk URI, or an opendatacommunities URI."""
    ix = _index()
    s = str(text).strip()
    m = _SNAC_URI.search(s)
    if m and m.group(1).upper() in ix.codes:
        return Match(frozenset(ix.codes[m.group(1).upper()]), "code", m.group(1).upper())
    m = _GSS.search(s.upper())
    if m and m.group(1) in ix.codes:
        return Match(frozenset(ix.codes[m.group(1)]), "code", m.group(1))
    m = _ODC_URI.search(s)
    if m:
        kind_words = m.group(1).replace("-", " ")
        hit = match_name(f"{m.group(2).replace('-', ' ')} {kind_words}")
        if hit:
            return Match(hit.keys, "code", m.group(0))
    return _NO_MATCH


def match_name(text: str, *, initials: bool = False) -> Match:
    """The bodies a name means: exact variant, then without its type words ('Stockport MBC').

    With `initials`, a capitalised initialism ('SMBC', 'OCC') is tried too; it is often
    ambiguous, so the caller narrows it with other clues.
    """
    ix = _index()
    norm = normalise(text)
    if not norm:
        return _NO_MATCH
    keys = set(ix.exact.get(norm, ()))
    if not keys:
        keys = set(ix.core.get(core_name(text), ())) if core_name(text) else set()
    if keys:
        return Match(frozenset(_narrow(keys, text)), "name", str(text).strip())
    if initials:
        token = re.sub(r"[^A-Za-z]", "", str(text))
        if 3 <= len(token) <= 7 and sum(c.isupper() for c in token) >= 2:
            found = ix.initials.get(token.upper())
            if found and token.upper() not in _NOT_INITIALISMS:
                return Match(frozenset(_narrow(set(found), text)), "initials",
                             str(text).strip())
    return _NO_MATCH


def match_value(text: str, *, initials: bool = False) -> Match:
    """A code or URI first, then a name (and, with `initials`, an initialism)."""
    return match_code(text) or match_name(text, initials=initials)


def find_in_text(text: str, *, initials: bool = True) -> list[Match]:
    """Every body named inside free text (a file, sheet or folder name, a header cell, a
    description), longest name first: 'Tameside September 2014' -> [Tameside MBC]."""
    ix = _index()
    words = normalise(text).split()
    out: list[Match] = []
    i = 0
    while i < len(words):
        for n in range(min(ix.longest, len(words) - i), 0, -1):
            phrase = " ".join(words[i:i + n])
            keys = ix.exact.get(phrase) or ix.core.get(phrase)
            if not keys:
                continue
            if n == 1 and phrase in _COMMON_WORDS and not (
                    i + 1 < len(words) and words[i + 1] in _TYPE_WORDS):
                continue
            if phrase.isdigit():
                continue
            tail = " ".join(words[i + n:i + n + 3])
            out.append(Match(frozenset(_narrow(set(keys), f"{phrase} {tail}")), "name",
                             phrase))
            i += n - 1
            break
        i += 1
    if initials:
        for token in re.findall(r"[A-Za-z]+", str(text)):
            if (3 <= len(token) <= 7 and token.isupper() and token in ix.initials
                    and token not in _NOT_INITIALISMS):
                out.append(Match(frozenset(_narrow(set(ix.initials[token]), token)),
                                 "initials", token))
    return out


def match_authority(text: str) -> tuple[str, str] | None:
    """(official name, GSS code) for a council name, code or folder slug, or None if not unique."""
    hit = match_value(text.replace("-", " ").replace("_", " ") if "/" not in text else text)
    if len(hit.keys) != 1:
        return None
    b = body(next(iter(hit.keys)))
    return b.name, b.code


# --- the one council resolver ----------------------------------------------------------------


@dataclass(frozen=True)
class Council:
    """A council (or other publisher) a user named: its name as in the data and its code."""

    name: str
    code: str

    def label(self) -> str:
        """'Leeds City Council (E08000035)'."""
        return f"{self.name} ({self.code})" if self.code else self.name


def _publisher_pairs(available: Any) -> list[Council]:
    """Distinct (name, code) publishers from a DataFrame, names, or (name, code) pairs."""
    if hasattr(available, "columns"):
        cols = [c for c in ("publisher_name", "publisher_code") if c in available.columns]
        if "publisher_name" not in cols:
            raise InputError("council: the table to choose from has no publisher_name column")
        pairs = available[cols].drop_duplicates()
        rows = pairs.itertuples(index=False, name=None)
        out = {Council(str(r[0]), "" if len(r) < 2 or not isinstance(r[1], str) else r[1])
               for r in rows if isinstance(r[0], str)}
    else:
        out = set()
        for item in available:
            if isinstance(item, Council):
                out.add(item)
            elif isinstance(item, str):
                out.add(Council(item, ""))
            else:
                name, code = item
                out.add(Council(str(name), code if isinstance(code, str) else ""))
    return sorted(out, key=lambda c: (c.name, c.code))


def _listing(choices: Sequence[Any], limit: int = 25) -> str:
    labels = [c.label() for c in choices]
    shown = "; ".join(labels[:limit])
    return shown + (f"; … and {len(labels) - limit} more" if len(labels) > limit else "")


def _reference_keys(query: str) -> set[str]:
    """Bodies a user's text names: code, slug, name, then initialism."""
    text = query.strip()
    hit = match_code(text)
    if not hit:
        hit = match_name(text.replace("-", " ").replace("_", " "), initials=True)
    return set(hit.keys)


def resolve_council(query: Any, available: Any = None) -> Council:
    """The council `query` names: a name in any case, with or without 'Council', 'City',
    'Borough' or 'Metropolitan' (or MBC, CC…), a GSS code, or a slug ('leeds-city-council').

    `available` (a DataFrame with `publisher_name` and `publisher_code`, names, or
    (name, code) pairs) restricts the answer to the publishers in the data, returned as the
    data names them. Raises `InputError` — one message style — when nothing matches (listing
    what would) or the query is ambiguous (listing the candidates).
    """
    if not isinstance(query, str) or not query.strip():
        raise InputError(f"council: expected a council name or GSS code (text), got {query!r}")
    keys = _reference_keys(query)
    if available is None:
        found = sorted({Council(body(k).name, body(k).code) for k in keys},
                       key=lambda c: (c.name, c.code))
        if len(found) == 1:
            return found[0]
        if not found:
            raise InputError(
                f"council: {query!r} is not a council or public body spendkit knows; expected "
                "a name ('Leeds', 'Leeds City Council'), a GSS code ('E08000035') or a slug "
                "('leeds-city-council')")
        raise InputError(f"council: {query!r} is ambiguous; expected one of: {_listing(found)}")

    pairs = _publisher_pairs(available)
    wanted = query.strip()
    folded = normalise(wanted)
    # The data's own names and codes first: a publisher the reference does not know still works.
    direct = [p for p in pairs if normalise(p.name) == folded or slugify(p.name) == slugify(wanted)
              or (p.code and p.code.casefold() == wanted.casefold())]
    if not direct and keys:
        codes = {body(k).code for k in keys if body(k).code}
        names = {normalise(body(k).name) for k in keys}
        direct = [p for p in pairs if (p.code and p.code in codes) or normalise(p.name) in names]
    if not direct:
        core = core_name(wanted)
        direct = [p for p in pairs if core and core_name(p.name) == core]
    if len(direct) == 1:
        return direct[0]
    if len(direct) > 1:
        raise InputError(f"council: {query!r} is ambiguous in the data; expected one of: "
                         f"{_listing(direct)}")
    known = ""
    if len(keys) == 1:
        b = body(next(iter(keys)))
        known = f" ({b.name}, {b.code})" if b.code else f" ({b.name})"
    holds = _listing(pairs) if pairs else "none (nothing ingested?)"
    raise InputError(f"council: {query!r}{known} is not a publisher in the data; expected one "
                     f"of the publishers it holds: {holds}")


# --- publisher profiles (package data) -----------------------------------------------------------


@dataclass(frozen=True)
class Publisher:
    """A resolved publisher: official name, GSS code (may be empty) and how it was found."""

    name: str
    code: str
    basis: str
    vat_basis: str = ""
    threshold_gbp: str = ""
    warnings: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()  # labels, when the clues left several


@dataclass(frozen=True)
class Profile:
    """A row of publisher_profiles.csv."""

    path_pattern: str
    publisher_name: str
    publisher_code: str
    vat_basis: str
    threshold_gbp: str
    encoding: str
    header_line: str
    notes: str
    source: str
    #: column choices the loader must make this way: 'amount_gbp=Net Amount;payment_date=Paid'
    columns: str = ""


@lru_cache(maxsize=1)
def profiles() -> tuple[Profile, ...]:
    """Publisher profiles from package data, in file order (first match wins)."""
    with open(catalogue.path("publisher_profiles"), encoding="utf-8", newline="") as fh:
        return tuple(Profile(**row) for row in csv.DictReader(fh))


#: How many folders above a file count as its own (a project kept in '/home/leeds-fan/…' must
#: not make every file Leeds's): the file's folder and the one above it.
FOLDER_DEPTH = 2


def file_folders(path: str) -> list[str]:
    """The folders a file is filed under, nearest first (at most `FOLDER_DEPTH`)."""
    parts = PurePath(str(path).replace("\\", "/")).parts[:-1]
    return [p for p in reversed(parts) if p not in ("/", "")][:FOLDER_DEPTH]


def profile_for(path: str) -> Profile | None:
    """The first profile whose pattern occurs in the file's own folder names (case-insensitive)."""
    folders = "/".join(f.lower() for f in reversed(file_folders(path)))
    for p in profiles():
        if p.path_pattern and p.path_pattern.lower() in folders:
            return p
    return None


def profile_for_code(code: str) -> Profile | None:
    """The first profile of the publisher with this GSS code: what is known of how it publishes
    (threshold, VAT basis) holds however its file was identified, not only inside its folder."""
    if not code:
        return None
    return next((p for p in profiles() if p.publisher_code == code), None)


def with_profile_facts(pub: Publisher) -> Publisher:
    """`pub` with the threshold and VAT basis its publisher profile gives, where it has none."""
    prof = profile_for_code(pub.code)
    if prof is None or (pub.vat_basis and pub.threshold_gbp):
        return pub
    return replace(pub, vat_basis=pub.vat_basis or prof.vat_basis,
                   threshold_gbp=pub.threshold_gbp or prof.threshold_gbp)


# --- deciding a file's publisher from its clues ----------------------------------------------------

#: Clue kinds, strongest first.
CLUE_KINDS = ("column", "header", "sheet name", "file name", "folder name", "mention")


@dataclass(frozen=True)
class Clue:
    """One thing a file says about who published it, and the bodies it names."""

    kind: str  # one of CLUE_KINDS
    where: str  # "column 'Body name'", "file name 'Tameside September 2014.csv'"
    match: Match
    rows: int = 0  # rows carrying it (column clues and mentions)
    share: float = 1.0  # of the table's rows

    def describe(self) -> str:
        """"column 'Client' reads 'OCC' (2,310 rows)"."""
        rows = f" ({self.rows:,} rows)" if self.rows else ""
        if self.kind == "mention":
            return f"{self.where} names {self.match.text!r}{rows}"
        if self.match.via == "code":
            return f"{self.where} carries the code {self.match.text!r}{rows}"
        return f"{self.where} reads {self.match.text!r}{rows}"


def _strength(clue: Clue) -> tuple[int, int, int]:
    via = {"code": 0, "name": 1, "initials": 2}.get(clue.match.via, 3)
    return CLUE_KINDS.index(clue.kind), via, -clue.rows


def _labels(keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(body(k).label() for k in keys))


def identify_publisher(clues: Sequence[Clue], *, requested: str | None = None,
                       profile: Profile | None = None,
                       mentions: Sequence[Clue] = ()) -> Publisher:
    """Decide a file's publisher: an explicit argument, else a profile, else its clues.

    Clues are taken strongest first (a code or name in the file's columns, its header cells,
    sheet names, file name, folder names); each later clue that fits narrows an ambiguous
    one ('SMBC' and a file named 'Stockport …'), and one that contradicts is reported as the
    runner-up in a warning. Place names in the file's descriptions (`mentions`) only ever
    choose among candidates a stronger clue already gave. Never invents a publisher from an
    unknown abbreviation: an undecided file is `UNKNOWN`, with the reason in its basis.
    """
    vat = profile.vat_basis if profile else ""
    thr = profile.threshold_gbp if profile else ""
    if requested:
        keys = _reference_keys(requested)
        if len(keys) == 1:
            b = body(next(iter(keys)))
            return Publisher(b.name, b.code, "argument", vat, thr)
        return Publisher(requested.strip(), "", "argument (not in the list of bodies spendkit "
                         "knows)" if not keys else "argument (ambiguous; kept as given)",
                         vat, thr)
    if profile:
        return Publisher(profile.publisher_name, profile.publisher_code,
                         f"profile (publisher_profiles.csv, folder pattern "
                         f"{profile.path_pattern!r})", vat, thr)
    ordered = sorted((c for c in clues if c.match), key=_strength)
    chosen: set[str] | None = None
    used: list[Clue] = []
    against: list[Clue] = []
    for clue in ordered:
        keys = set(clue.match.keys)
        if chosen is None:
            chosen, used = keys, [clue]
        elif keys & chosen:
            if not chosen <= keys:
                chosen &= keys
                used.append(clue)
        elif clue.share >= 0.05:  # a cross-charge named in a few rows is not a rival
            against.append(clue)
    if chosen and len(chosen) > 1 and mentions:
        counts = {k: sum(m.rows for m in mentions if k in m.match.keys) for k in chosen}
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        best, second = ranked[0][1], ranked[1][1]
        if best > 0 and best >= 2 * second:
            chosen = {ranked[0][0]}
            hits = [m for m in mentions if ranked[0][0] in m.match.keys]
            used.append(max(hits, key=lambda m: m.rows))
    if not chosen:
        return Publisher(UNKNOWN, "", "unidentified: nothing in the file's columns, header, "
                         "sheet, file or folder names names a council or public body", vat, thr)
    basis = "; ".join(c.describe() for c in used)
    if len(chosen) > 1:
        cands = _labels(chosen)
        return Publisher(UNKNOWN, "", f"ambiguous: {basis}, which could be "
                         + ", ".join(cands), vat, thr, candidates=cands)
    b = body(next(iter(chosen)))
    warnings = []
    if against:
        rival = against[0]
        warnings.append(f"publisher: chose {b.name} from {used[0].describe()}, but "
                        f"{rival.describe()}, which names "
                        + " or ".join(_labels(rival.match.keys))
                        + "; pass publisher= or file it under a folder named after its "
                          "publisher to decide otherwise")
    if used[-1].kind == "mention":
        warnings.append(f"publisher: {b.name} chosen among {len(used[0].match.keys)} bodies "
                        f"that {used[0].match.text!r} may stand for by place names in the "
                        "file's own text; check it")
    return Publisher(b.name, b.code, basis, vat, thr, tuple(warnings))


def unidentified_help(ledger_row: Any) -> str:
    """What to do about a file whose publisher was not found (for the ledger and the ingest
    summary). `ledger_row` is a Ledger, a ledger-table row or a dict with `source_file`,
    `publisher_name` and `publisher_basis`; returns '' when the file's publisher is known."""
    def get(key: str) -> str:
        value = (ledger_row.get(key) if hasattr(ledger_row, "get")
                 else getattr(ledger_row, key, None))
        return "" if value is None else str(value)

    name = get("publisher_name")
    if name and name != UNKNOWN:
        return ""
    source = get("source_file") or "the file"
    basis = get("publisher_basis")
    file_name = PurePath(source.replace("\\", "/")).name
    why = basis.split(": ", 1)[1] if ": " in basis else (basis or "no clue")
    could = re.findall(r"([^,()]+?) \([EWSN]\d{8}\)", basis.partition("could be ")[2])
    example = slugify(could[0]) if could else "<council-slug>"
    return (f"{source}: publisher not identified ({why}). Put it in a folder named after its "
            f"publisher (raw/{example}/{file_name}), or list it in that council's profile "
            f"(councils/{example}.yaml: files: [\"{file_name}\"]), or load it with "
            "spendkit.load(path, publisher=\"<name or GSS code>\").")


def resolve_publisher(path: str, requested: str | None, column_values: list[str]) -> Publisher:
    """Decide a file's publisher from the argument, a profile, column values or folder names.

    Kept for callers that have only a column's values; `spendkit.extract.clues` reads more.
    """
    clues = [Clue("column", "column", match_value(v, initials=True)) for v in column_values]
    clues += [Clue("folder name", f"folder {f!r}", m) for f in file_folders(path)
              for m in find_in_text(f.replace("-", " ").replace("_", " "))[:1]]
    return identify_publisher(clues, requested=requested, profile=profile_for(path))


__all__ = [
    "CLUE_KINDS", "FOLDER_DEPTH", "UNKNOWN", "Body", "Clue", "Council", "Match", "Profile",
    "Publisher", "bodies", "body", "core_name", "file_folders", "find_in_text",
    "identify_publisher", "match_authority", "match_code", "match_name", "match_value",
    "normalise", "profile_for", "profiles", "resolve_council", "resolve_publisher", "slugify",
    "unidentified_help",
]
