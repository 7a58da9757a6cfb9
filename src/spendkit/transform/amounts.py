"""Amount strings → exact pence, on whole columns.

Styles met in published files: `£2,681.94`, `-£16,902.11`, `"1,534.24"`, `(264,795.53)`,
`16,989.00-` (trailing minus, Hyndburn 2024+), `123.45 CR`, trailing spaces, and Excel float
artefacts such as `1041.4099999999999` (Lancashire PCC), which are £1,041.41. Never guessed: a
comma that is not a thousands separator (`1,5`: a decimal comma, or a typo) and a number in
exponent notation that is not a whole number of pence (`9e-3`) are invalid, with the reason
(`ParsedAmounts.reasons`), not read as £15.00 or rounded to £0.01. The result is an
int64 count of pence; `spendkit.units.money.decimal_from_pence` makes the Arrow decimal column
from it without floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.transform.text import clean_text, text_bytes
from spendkit.units.money import AMOUNT_TYPE

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
    #: why some invalid values are invalid: explanation → rows it applies to
    reasons: dict[str, np.ndarray] = field(default_factory=dict)


_PLAIN = r"^-?\d{1,13}(\.\d{1,2})?$"  # '1234.5', '-£1,234.56' once '£' and ',' are gone
_STYLES = ("bracketed negatives", "trailing-minus credits", "CR credits")
# Commas only as thousands separators: '1,234.56', '(264,795.53)', '-£16,902.11', '16,989.00-'.
_GROUPED = r"^[^,\d]*\d{1,3}(,\d{3})+(\.\d*)?[^,\d]*$"
_EXPONENT = r"\d[eE][-+]?\d"
#: Explanations of invalid amounts (ParsedAmounts.reasons keys).
BAD_COMMA = "a comma that is not a thousands separator (a decimal comma?)"
SUB_PENNY_EXPONENT = "exponent notation that is not a whole number of pence"


def parse_amounts(values: pa.Array) -> ParsedAmounts:
    """Parse a column of amount strings into pence; never raises on a value.

    A dictionary-encoded column is parsed once per distinct value.
    """
    if pa.types.is_dictionary(values.type):
        per_value = _parse_values(values.dictionary)
        codes = values.indices.to_numpy(zero_copy_only=False)
        weights = np.bincount(codes, minlength=len(values.dictionary))
        pence, missing, invalid = (a[codes] for a in per_value[:3])
    else:
        per_value = _parse_values(values)
        weights = np.ones(len(values), np.int64)
        pence, missing, invalid = per_value[:3]
    counts = {label: int(weights[mask].sum()) for label, mask in per_value[3].items()}
    reasons = {why: per_value[3][why][codes] if pa.types.is_dictionary(values.type)
               else per_value[3][why] for why in (BAD_COMMA, SUB_PENNY_EXPONENT)
               if counts[why]}
    notes: list[str] = []
    if counts["artefacts"]:
        notes.append(f"{counts['artefacts']} amount(s) carried binary float artefacts "
                     "(e.g. 1041.4099999999999) and were read to the penny")
    if counts["sub_penny"]:
        notes.append(f"{counts['sub_penny']} amount(s) had fractions of a penny and were "
                     "rounded half-to-even to the penny")
    for label in _STYLES:
        if counts[label]:
            notes.append(f"{counts[label]} {label} read as negative")
    if counts["exponent"]:
        notes.append(f"{counts['exponent']} amount(s) in exponent notation (e.g. 1.5E+3) "
                     "read exactly")
    for why in reasons:
        notes.append(f"{counts[why]} amount(s) rejected: {why}")
    return ParsedAmounts(pence, missing, invalid, notes, reasons)


def _parse_values(values: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                              dict[str, np.ndarray]]:
    """(pence, missing, invalid, masks for the ledger notes) of each value.

    Plain numbers (after dropping '£' and thousands commas) are read by one cast of the
    column; only the rest go through the style-by-style reading.
    """
    s = clean_text(values)
    n = len(s)
    data = text_bytes(s)
    stripped = s
    for sign in ("£", ","):  # literal replaces, only when needed: 4x cheaper than a regex
        if sign.encode() in data:
            stripped = pc.replace_substring(stripped, sign, "")
    pence = np.zeros(n, np.int64)
    missing = np.zeros(n, bool)
    invalid = np.zeros(n, bool)
    masks = {k: np.zeros(n, bool) for k in ("artefacts", "sub_penny", "exponent", *_STYLES,
                                            BAD_COMMA, SUB_PENNY_EXPONENT)}
    # Exponent notation is read by the style-by-style path, which checks it is whole pence.
    exponent = (np.asarray(pc.match_substring_regex(s, _EXPONENT), dtype=bool)
                if (b"e" in data or b"E" in data) else np.zeros(n, bool))
    try:  # one float cast reads a whole clean column; it raises if any value is not a number
        pounds = pc.cast(stripped, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        plain = np.asarray(pc.match_substring_regex(stripped, _PLAIN), dtype=bool)
        if plain.any():
            rows = np.flatnonzero(plain)
            simple = stripped if plain.all() else stripped.take(pa.array(rows))
            pence[rows] = _decimal_pence(pc.cast(simple, AMOUNT_TYPE))
    else:
        # At most two decimals and in range: then rint(pounds * 100) is exact to the penny.
        dot = np.asarray(pc.find_substring(stripped, "."))
        decimals = np.asarray(pc.binary_length(stripped)) - dot - 1
        with np.errstate(invalid="ignore"):
            plain = np.isfinite(pounds) & (np.abs(pounds) <= _MAX_POUNDS) & (
                (dot < 0) | (decimals <= 2)) & ~exponent
        pence[plain] = np.rint(pounds[plain] * 100.0).astype(np.int64)
    if not plain.all():
        rows = np.flatnonzero(~plain)
        rest = _parse_styled(s.take(pa.array(rows)))
        pence[rows], missing[rows], invalid[rows] = rest[:3]
        for k, mask in rest[3].items():
            masks[k][rows] = mask
    if b"," in data:
        bad = np.asarray(pc.and_(pc.match_substring(s, ","),
                                 pc.invert(pc.match_substring_regex(s, _GROUPED))), dtype=bool)
        if bad.any():
            invalid |= bad
            pence[bad] = 0
            for k in masks:
                masks[k] &= ~bad
            masks[BAD_COMMA] = bad
    return pence, missing, invalid, masks


def _decimal_pence(arr: pa.Array) -> np.ndarray:
    """int64 pence from a decimal128(18, 2) array (the low word of each 128-bit value)."""
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    return words[2 * arr.offset: 2 * (arr.offset + len(arr)): 2].copy()


def _parse_styled(s: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                         dict[str, np.ndarray]]:
    """Every amount style: brackets, trailing minus, CR, currency signs, float artefacts."""
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
    off = np.abs(scaled - np.rint(scaled))
    exponent = np.asarray(pc.match_substring_regex(body, _EXPONENT), dtype=bool) & ~invalid
    # An exponent hides the digits: '9e-3' is £0.009, which is not rounded but rejected.
    odd_exponent = exponent & (off >= 1e-6)
    invalid |= odd_exponent
    exponent &= ~odd_exponent
    long_tail = np.asarray(pc.match_substring_regex(body, r"\.\d{3,}"), dtype=bool) & ~invalid
    masks = {
        "exponent": exponent,
        SUB_PENNY_EXPONENT: odd_exponent,
        "artefacts": long_tail & (off < 1e-6),
        "sub_penny": long_tail & (off >= 1e-6),
        "bracketed negatives": np.asarray(paren, dtype=bool) & ~invalid,
        "trailing-minus credits": np.asarray(trailing, dtype=bool) & ~invalid,
        "CR credits": np.asarray(credit, dtype=bool) & ~invalid,
    }
    pence = np.where(invalid, 0, pence)
    return pence, np.asarray(missing, dtype=bool), invalid, masks


