"""A file whose own clues are ambiguous takes the publisher of the files filed beside it.

Seen in Hyndburn's monthly files: two months carry only a column headed 'HBC ref no', and
'HBC' could be six borough councils; dropped loose into `data/raw` beside eighty files that
each name Hyndburn, they should not become "Unknown publisher". The rule, applied by the
ingest after every file is loaded: a file left ambiguous by its own clues, whose candidates
include the one publisher every identified file in the same folder has, is that publisher.
The evidence is recorded in the ledger (`publisher_basis` keeps the ambiguity and adds the
choice) and a warning asks the analyst to check it; with no such folder-mates, or
folder-mates of several publishers, the file stays unidentified with its help text.

Ambiguous files are settled after the others in every run (fresh or incremental, reused
files included), so the order rows reach the batches does not depend on the history.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from spendkit.ingest.batches import FileRows
from spendkit.loader import repeat_string
from spendkit.reference.councils import UNKNOWN, profile_for_code

#: How the loader words an ambiguous publisher (`reference.councils.identify_publisher`).
AMBIGUOUS = "ambiguous:"
#: What this module adds to the basis when it chooses.
CHOSEN = "; chosen by folder: "
_CANDIDATE = re.compile(r"([^,()]+?) \(([EWSN]\d{8})\)")


def is_ambiguous(rows: FileRows) -> bool:
    """True for a file whose own clues named several possible publishers (settled later)."""
    return str(rows.ledger.get("publisher_basis") or "").startswith(AMBIGUOUS)


def _folder(rel: str) -> str:
    return str(PurePosixPath(rel.replace("\\", "/")).parent)


def _candidates(basis: str) -> set[tuple[str, str]]:
    own = basis.split(CHOSEN, 1)[0]
    return {(m.group(1).strip(), m.group(2))
            for m in _CANDIDATE.finditer(own.partition("could be ")[2])}


def settle(deferred: list[FileRows], identified: dict[str, dict[tuple[str, str], int]]
           ) -> list[FileRows]:
    """The `deferred` ambiguous files, each given its folder's one publisher where it fits.

    `identified` maps a folder (relative to the raw folder) to the (name, code) publishers of
    its identified files and how many files each has.
    """
    out = []
    for rows in deferred:
        basis = str(rows.ledger.get("publisher_basis") or "")
        found = identified.get(_folder(rows.rel), {})
        fits = _candidates(basis)
        if len(found) == 1 and next(iter(found)) in fits:
            (name, code), n = next(iter(found.items()))
            out.append(_relabel(rows, name, code, basis.split(CHOSEN, 1)[0] + CHOSEN
                                + f"every other identified file in its folder ({n}) is {name}",
                                f"publisher: {name} chosen among {len(fits)} possible "
                                f"publishers because the {n} other identified file(s) in the "
                                "same folder are all theirs; check it, or pass publisher= or "
                                "a folder named after the publisher to decide otherwise"))
        else:
            out.append(rows)
    return out


def _relabel(rows: FileRows, name: str, code: str, basis: str, warning: str) -> FileRows:
    table = rows.table
    for column, value in (("publisher_name", name), ("publisher_code", code)):
        i = table.schema.get_field_index(column)
        field = table.schema.field(i)
        table = table.set_column(i, field, repeat_string(value, table.num_rows).cast(field.type))
    notes = [w for w in str(rows.ledger.get("warnings") or "").split(" | ")
             if w and "publisher not identified" not in w and not w.startswith(warning[:30])]
    ledger = {**rows.ledger, "publisher_name": name, "publisher_code": code,
              "publisher_basis": basis, "warnings": " | ".join([warning, *notes])}
    profile = profile_for_code(code)  # its publisher's known threshold holds here too
    if profile is not None and not ledger.get("threshold_gbp"):
        ledger["threshold_gbp"] = profile.threshold_gbp
    return FileRows(rows.index, rows.rel, rows.sha, name, table, ledger, rows.rejects,
                    rows.old_enrichment, rows.old_parts)


def note_identified(identified: dict[str, dict[tuple[str, str], int]], rows: FileRows) -> None:
    """Count `rows`' publisher for its folder when the file named it itself."""
    name = str(rows.ledger.get("publisher_name") or "")
    if not name or name == UNKNOWN or is_ambiguous(rows):
        return
    key = (name, str(rows.ledger.get("publisher_code") or ""))
    folder = identified.setdefault(_folder(rows.rel), {})
    folder[key] = folder.get(key, 0) + 1


__all__ = ["AMBIGUOUS", "CHOSEN", "is_ambiguous", "note_identified", "settle"]
