"""Every clue a file gives about who published it, read from its cells and names.

`publisher_of(path, source_name, grids, requested)` reads, cheapest and strongest first:

* columns: codes and names in body-like columns ('Body', 'Body name', 'Organisation Label',
  'Authority Name', 'Name of Body', 'Client', …), ONS and opendatacommunities URIs and GSS
  codes in any column, and a council's full name filling most of any other column;
* header cells ('HBC ref no' carries Hyndburn Borough Council's initials);
* sheet names, the file's name and ZIP member names ('Tameside September 2014.csv');
* the file's folders (the nearest two), and a council profile that lists the file;
* place names in the file's descriptions: read only when a stronger clue is ambiguous, and
  used only to choose among its candidates.

`spendkit.reference.councils.identify_publisher` weighs them; this module only reads. Work is
per column and per distinct value (Arrow value counts), never per row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath

import pyarrow as pa
import pyarrow.compute as pc

from spendkit.extract.grid import Grid
from spendkit.reference import councils, profiles
from spendkit.reference.councils import Clue, Match, Publisher

#: Header spellings (letters only, lower case) of columns that name the publishing body.
BODY_HEADERS = frozenset({
    "body", "bodyname", "nameofbody", "organisation", "organisationname", "organisationlabel",
    "organisationcode", "organisationuri", "organization", "organizationname", "authority",
    "authorityname", "localauthority", "localauthorityname", "laname", "council",
    "councilname", "client", "publisher", "publishername", "entity", "entityname", "orgname",
    "publishingbody", "publicbody", "bodycode", "lacode", "authoritycode", "councilcode",
    "onscode", "gsscode"})
#: Header words of columns that name whom the money went to (never the publisher).
_PAYEE = re.compile(r"supplier|beneficiary|payee|vendor|merchant|creditor|recipient|"
                    r"contractor|company|^name$|^names$|tradingname")
#: Header words of columns with nothing to say about places (dates, amounts, references).
_NOT_TEXT = re.compile(r"date|amount|amt|value|total|net|gross|vat|number|^no$|ref|code|id$|"
                       r"line|period|month|year|invoice|transaction")
#: Words that say a value is a body's full name, so any column may carry it.
_BODY_WORDS = frozenset({"council", "borough", "authority", "commissioner", "corporation",
                         "mbc", "smbc", "cc", "dc", "bc", "rbc", "lbc", "mdc", "fire", "police",
                         "park"})
SAMPLE_ROWS = 2000  # rows read to judge whether a column holds few distinct values
MAX_GRIDS = 3  # tables of a workbook or ZIP read for column clues (they repeat each other)
MAX_DISTINCT = 5000  # distinct descriptions read for place names


def _key(header: str) -> str:
    return re.sub(r"[^a-z]", "", header.lower())


def _strings(col: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return col if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) \
        else col.cast(pa.string())


def _top(col: pa.Array, limit: int) -> list[tuple[str, int]]:
    """The `limit` most frequent non-empty trimmed values and their counts (ties by value)."""
    counts = pc.value_counts(pc.utf8_trim_whitespace(_strings(col)))
    table = pa.table({"values": counts.field("values"), "counts": counts.field("counts")})
    table = table.filter(pc.fill_null(pc.not_equal(table["values"], ""), False))
    top = table.sort_by([("counts", "descending"), ("values", "ascending")]).slice(0, limit)
    return list(zip(top["values"].to_pylist(), top["counts"].to_pylist(), strict=True))


def _text_clues(kind: str, where: str, text: str) -> list[Clue]:
    """Clues from a name (file, sheet, folder): the whole name, else bodies named inside it."""
    spaced = re.sub(r"[-_.]+", " ", text)
    whole = councils.match_value(spaced)
    found = [whole] if whole else councils.find_in_text(spaced)
    return [Clue(kind, where, m) for m in found]


def _value_match(value: str, share: float, body_like: bool) -> Match:
    """What one cell value names: a code or URI anywhere; a name in a body-like column, or a
    full body name ('… Council') in any column; an initialism only where it fills the column
    ('OCC' on every row), never a client's initials among many."""
    match = councils.match_code(value)
    if not match and (body_like or _BODY_WORDS & set(councils.normalise(value).split())):
        match = councils.match_name(value, initials=share >= (0.5 if body_like else 0.9))
    return match


def column_clues(grid: Grid) -> list[Clue]:
    """Codes and names in a table's columns, and bodies named in its header cells."""
    out: list[Clue] = []
    n = grid.n_rows
    for i, header in enumerate(grid.header):
        key = _key(header)
        body_like = key in BODY_HEADERS or "uri" in key
        if header.strip() and not body_like:
            out += [Clue("header", f"header cell {header.strip()!r}", m)
                    for m in councils.find_in_text(header)]
        if (n == 0 or i >= len(grid.columns) or _PAYEE.search(key)
                or (not body_like and _NOT_TEXT.search(key))):
            continue  # payees, dates, amounts and references never name the publisher
        col = grid.columns[i]
        sample = _top(col.slice(0, SAMPLE_ROWS), 5)
        sampled = min(n, SAMPLE_ROWS)
        if not sample or (not body_like and sample[0][1] < 0.5 * sampled):
            continue  # many distinct values: descriptions, not a body's name
        hits = [(value, m) for value, count in sample
                if (m := _value_match(value, count / sampled, body_like))]
        if not hits:
            continue
        # Only a column that names a body is counted in full (most columns never are).
        counts = dict(_top(col, 50)) if n > SAMPLE_ROWS else dict(sample)
        for value, match in hits:
            count = counts.get(value, 0)
            out.append(Clue("column", f"column {header.strip()!r}", match, count, count / n))
    return out


def mention_clues(grids: Sequence[Grid]) -> list[Clue]:
    """Bodies named in the descriptive columns, with the rows naming each (weakest clue)."""
    out: list[Clue] = []
    for grid in grids[:MAX_GRIDS]:
        for i, header in enumerate(grid.header):
            key = _key(header)
            if (i >= len(grid.columns) or grid.n_rows == 0 or _PAYEE.search(key)
                    or _NOT_TEXT.search(key) or key in BODY_HEADERS):
                continue
            rows: dict[frozenset[str], tuple[int, str]] = {}
            for value, count in _top(grid.columns[i], MAX_DISTINCT):
                for m in councils.find_in_text(value, initials=False):
                    seen, text = rows.get(m.keys, (0, m.text))
                    rows[m.keys] = (seen + count, text)
            where = f"column {header.strip()!r}"
            out += [Clue("mention", where, Match(keys, "name", text), count,
                         count / grid.n_rows)
                    for keys, (count, text) in rows.items()]
    return out


def name_clues(path: str, source_name: str, grids: Sequence[tuple[str, Grid]]) -> list[Clue]:
    """Clues from sheet names, the file name, ZIP member names and the file's folders."""
    out: list[Clue] = []
    for sheet in dict.fromkeys(g.sheet for _, g in grids if g.sheet):
        out += _text_clues("sheet name", f"sheet name {sheet!r}", sheet)
    file_name = PurePath(source_name.replace("\\", "/")).name
    out += _text_clues("file name", f"file name {file_name!r}", PurePath(file_name).stem)
    for member in dict.fromkeys(s for s, _ in grids if s != source_name):
        inner = PurePath(member.replace("\\", "/")).name
        if inner != file_name:
            out += _text_clues("file name", f"file name {inner!r}", PurePath(inner).stem)
    # The ingest names files relative to the raw folder: its folders are the user's filing.
    filed = source_name if "/" in source_name.replace("\\", "/") else path
    for folder in councils.file_folders(filed):
        out += _text_clues("folder name", f"folder {folder!r}", folder)
    return out


def gather_clues(path: str, source_name: str, grids: Sequence[tuple[str, Grid]]) -> list[Clue]:
    """Every cheap clue of one file (all but the place names in its descriptions)."""
    clues: list[Clue] = []
    for _, grid in grids[:MAX_GRIDS]:
        clues += column_clues(grid)
    return clues + name_clues(path, source_name, grids)


def publisher_of(path: str, source_name: str, grids: Sequence[tuple[str, Grid]],
                 requested: str | None = None) -> Publisher:
    """Decide who published a file: argument, profile, then its clues (see module docstring);
    the threshold and VAT basis come from its publisher's profile however it was found."""
    return councils.with_profile_facts(_decide_publisher(path, source_name, grids, requested))


def _decide_publisher(path: str, source_name: str, grids: Sequence[tuple[str, Grid]],
                      requested: str | None) -> Publisher:
    csv_profile = councils.profile_for(path)
    if not requested and csv_profile is None:
        file_name = PurePath(source_name.replace("\\", "/")).name
        claim = profiles.profile_claiming(file_name)
        if claim is not None:
            prof, pattern = claim
            return Publisher(prof.council, prof.gss_code,
                             f"council profile {PurePath(prof.path).name} (files: {pattern!r})",
                             prof.vat_basis if prof.vat_basis != "unknown" else "")
    if requested or csv_profile is not None:  # told, not detected: no clue to read
        return councils.identify_publisher([], requested=requested, profile=csv_profile)
    clues = gather_clues(path, source_name, grids)
    pub = councils.identify_publisher(clues)
    if pub.candidates:  # ambiguous: let the place names the file mentions choose
        pub = councils.identify_publisher(clues, mentions=mention_clues([g for _, g in grids]))
    if pub.name == councils.UNKNOWN:
        help_text = councils.unidentified_help({"source_file": source_name,
                                                "publisher_name": pub.name,
                                                "publisher_basis": pub.basis})
        pub = Publisher(pub.name, pub.code, pub.basis, pub.vat_basis, pub.threshold_gbp,
                        (*pub.warnings, help_text), pub.candidates)
    return pub


__all__ = ["BODY_HEADERS", "column_clues", "gather_clues", "mention_clues", "name_clues",
           "publisher_of"]
