"""Amount strings → exact pence, on whole columns.

Styles met in published files: `£2,681.94`, `-£16,902.11`, `"1,534.24"`, `(264,795.53)`,
`16,989.00-` (trailing minus, Hyndburn 2024+), `123.45 CR`, trailing spaces, and Excel float
artefacts such as `1041.4099999999999` (Lancashire PCC), which are £1,041.41. The result is an
int64 count of pence; `to_decimal` makes the Arrow decimal column from it without floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.fields import AMOUNT_TYPE

_NUMBER = r"^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$"
# Values beyond this lose penny precision as float64 (2**53 pence); no council pays £90 trillion.
_MAX_POUNDS = 9e13


@dataclass
class ParsedAmounts:
    """Pence per row, with masks for empty and unparseable cells and notes for the ledger."""

    pence: np.ndarray
    missing: np.ndarray
    invalid: np.ndarray
    notes: list[str] = field(default_factory=list)


def parse_amounts(values: pa.Array) -> ParsedAmounts:
    """Parse a column of amount strings into pence; never raises on a value."""
    s = pc.utf8_trim_whitespace(pc.replace_substring(values.cast(pa.string()), "\xa0", " "))
    missing = pc.equal(pc.utf8_length(s), 0)
    upper = pc.utf8_upper(s)
    paren = pc.match_substring_regex(s, r"^[^(]*\(.*\)\s*$")
    trailing = pc.match_substring_regex(s, r"-\s*$")
    leading = pc.match_substring_regex(s, r"^[£$€]?\s*-|^-")
    credit = pc.match_substring_regex(upper, r"\bCR\.?$|^CR\b")
    body = pc.replace_substring_regex(upper, r"\bCR\.?$|^CR\b|\bDR\.?$|GBP|[£$€,\s()+]", "")
    body = pc.replace_substring_regex(body, r"^-+|-+$", "")
    valid = pc.and_(pc.match_substring_regex(body, _NUMBER), pc.invert(missing))
    safe = pc.if_else(valid, body, "0")
    pounds = pc.cast(safe, pa.float64()).to_numpy(zero_copy_only=False)
    too_big = ~np.isfinite(pounds) | (np.abs(pounds) > _MAX_POUNDS)
    pounds = np.where(too_big, 0.0, pounds)
    scaled = pounds * 100.0
    pence = np.rint(scaled).astype(np.int64)
    neg = np.asarray(pc.or_(pc.or_(paren, trailing), pc.or_(leading, credit)), dtype=bool)
    pence = np.where(neg, -pence, pence)
    invalid = ~np.asarray(valid, dtype=bool) & ~np.asarray(missing, dtype=bool) | too_big
    notes: list[str] = []
    off = np.abs(scaled - np.rint(scaled))
    long_tail = np.asarray(pc.match_substring_regex(body, r"\.\d{3,}"), dtype=bool) & ~invalid
    artefacts = int(np.count_nonzero(long_tail & (off < 1e-6)))
    if artefacts:
        notes.append(f"{artefacts} amount(s) carried binary float artefacts "
                     "(e.g. 1041.4099999999999) and were read to the penny")
    sub_penny = long_tail & (off >= 1e-6)
    if sub_penny.any():
        notes.append(f"{int(sub_penny.sum())} amount(s) had fractions of a penny and were "
                     "rounded half-to-even to the penny")
    styles = {
        "bracketed negatives": paren, "trailing-minus credits": trailing, "CR credits": credit,
    }
    for label, mask in styles.items():
        n = int(np.count_nonzero(np.asarray(mask, dtype=bool) & ~invalid))
        if n:
            notes.append(f"{n} {label} read as negative")
    pence = np.where(invalid, 0, pence)
    return ParsedAmounts(pence, np.asarray(missing, dtype=bool), invalid, notes)


def to_decimal(pence: np.ndarray) -> pa.Array:
    """Arrow decimal128(18, 2) array whose unscaled integers are exactly `pence`."""
    pence = np.ascontiguousarray(pence, dtype=np.int64)
    words = np.empty((len(pence), 2), dtype=np.int64)
    words[:, 0] = pence
    words[:, 1] = np.where(pence < 0, -1, 0)  # sign-extend to 128 bits (little-endian)
    return pa.Array.from_buffers(AMOUNT_TYPE, len(pence), [None, pa.py_buffer(words)])


def format_pence(pence: int) -> str:
    """'£1,234.56' / '-£0.05' for prose and error messages."""
    sign = "-" if pence < 0 else ""
    pounds, p = divmod(abs(int(pence)), 100)
    return f"{sign}£{pounds:,}.{p:02d}"
