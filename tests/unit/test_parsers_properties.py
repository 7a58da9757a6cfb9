"""Property tests: any formatted amount round-trips exactly; no input crashes the parsers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.transform.amounts import parse_amounts
from spendkit.transform.canonical import (
    _REDACTED,
    _REDACTED_WORDS,
    _TOTAL_LABEL,
    _TOTAL_WORDS,
    matches,
)
from spendkit.transform.dates import parse_dates
from spendkit.units.money import decimal_from_pence, format_pence

PENCE = st.integers(min_value=-(10**13), max_value=10**13)


def styles(pence: int) -> list[str]:
    """The ways councils write the same amount."""
    pounds, p = divmod(abs(pence), 100)
    plain = f"{pounds}.{p:02d}"
    grouped = f"{pounds:,}.{p:02d}"
    if pence >= 0:
        return [plain, grouped, f"£{grouped}", f" {plain} ", f"{plain}0", f"£ {grouped}"]
    return [f"-{plain}", f"-£{grouped}", f"({grouped})", f"{grouped}-", f"£({grouped})",
            f"{grouped} CR", f"-{plain}  "]


@given(PENCE)
def test_formatted_amounts_round_trip_exactly(pence: int) -> None:
    cells = styles(pence)
    parsed = parse_amounts(pa.array(cells))
    assert not parsed.invalid.any() and not parsed.missing.any()
    assert (parsed.pence == pence).all()
    assert decimal_from_pence(parsed.pence).to_pylist()[0] == decimal_from_pence(np.array([pence]))[0].as_py()


@given(PENCE)
def test_format_pence_parses_back(pence: int) -> None:
    assert parse_amounts(pa.array([format_pence(pence)])).pence[0] == pence


@given(st.lists(st.text(max_size=30), max_size=20))
@settings(max_examples=300, deadline=None)
def test_amount_parser_never_raises(cells: list[str]) -> None:
    parsed = parse_amounts(pa.array(cells, pa.string()))
    assert len(parsed.pence) == len(cells)
    assert not (parsed.invalid & parsed.missing).any()


@given(st.lists(st.text(max_size=25), max_size=20))
@settings(max_examples=200, deadline=None)
def test_date_parser_never_raises(cells: list[str]) -> None:
    parsed = parse_dates(pa.array(cells, pa.string()))
    assert len(parsed.dates) == len(cells)
    for value, ok in zip(parsed.dates.to_pylist(), ~(parsed.missing | parsed.invalid),
                         strict=True):
        assert (value is not None) == bool(ok)


@given(st.lists(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2068, 12, 31)),
                min_size=1, max_size=30),
       st.sampled_from(["%d/%m/%Y", "%d-%b-%y", "%d %b %Y", "%Y-%m-%d", "%d.%m.%Y"]))
def test_dates_round_trip_in_any_single_format(days: list[dt.date], fmt: str) -> None:
    # Make sure day-first is provable when the format is numeric day/month.
    days = days + [dt.date(2020, 1, 13)]
    cells = [d.strftime(fmt) for d in days]
    parsed = parse_dates(pa.array(cells))
    assert parsed.dates.to_pylist() == days


# Bytes councils' files are made of: ASCII, windows-1252 punctuation and '£', UTF-8 lead and
# continuation bytes, the DOS '£' (0x9C) and bytes windows-1252 leaves undefined.
FILE_BYTES = st.lists(st.sampled_from(
    [*range(32, 127), 10, 13, 0x80, 0x81, 0x85, 0x86, 0x92, 0x96, 0x9C, 0x9D, 0xA0, 0xA3,
     0xBF, 0xC2, 0xC3, 0xE2, 0xE9, 0xFF]), max_size=60).map(bytes)


@settings(max_examples=400)
@given(FILE_BYTES, st.booleans())
def test_fast_decoding_agrees_with_decode_bytes(body: bytes, bom: bool) -> None:
    """decode_to_utf8 (numpy windows-1252, pass-through UTF-8) decides as decode_bytes does."""
    from spendkit.extract.decode import decode_bytes, decode_to_utf8

    data = (b"\xef\xbb\xbf" if bom else b"") + body
    utf8, decided = decode_to_utf8(data)
    ref = decode_bytes(data)
    assert utf8 == ref.text.encode("utf-8")
    assert (decided.encoding, decided.notes, decided.replaced_bytes) == \
        (ref.encoding, ref.notes, ref.replaced_bytes)


@given(st.binary(max_size=40) | st.text(max_size=20).map(lambda t: t.encode("utf-8")))
def test_is_utf8_agrees_with_python(data: bytes) -> None:
    from spendkit.extract.decode import is_utf8

    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert not is_utf8(data)
    else:
        assert is_utf8(data)


_PIECES = [b"a", b"\xc3", b"\x82", b"\xa2", b"\xe2", b"\x80", b"\xa0", b"\xef", b"\xbf", b"\xbd",
           "£".encode(), "†".encode(), "Â".encode(), "\ufffd".encode()]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map(b"".join))
def test_sequences_at_high_bytes_count_as_bytes_count(body: bytes) -> None:
    """Needles matched at the high bytes only are counted as a search of the whole body."""
    from spendkit.extract.decode import _MOJIBAKE_LEADS, _REPLACEMENT, _sequences_at_high_bytes

    needles = (*_MOJIBAKE_LEADS, _REPLACEMENT)
    assert _sequences_at_high_bytes(body, needles) == [body.count(n) for n in needles]


_WORDY = st.text(
    alphabet=st.sampled_from(list("totalTOTALgrandsubforGRANDredactwithheldpersonaldata")
                             + [" ", "\t", "\xa0", ":", "-", "ſ", "K", "İ", "é", "(", "s"]),
    max_size=30)
_LABELS = st.sampled_from(["Total", "GRAND TOTAL", "sub-total:", "Totals for May", "Grand  total",
                           "Redacted", "Personal Data", "perſonal information", "WITHHELD",
                           "third party supplier", " Individual ", "name removed",
                           "Not Disclosed", "confidential", "Total Gas", "ok"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_WORDY, _LABELS), max_size=12))
def test_word_prefilter_gives_the_regex_result(cells: list[str]) -> None:
    """`matches` skips RE2 only where the regex could not have matched anything."""
    values = pa.array(cells, pa.string())
    for pattern, words in ((_TOTAL_LABEL, _TOTAL_WORDS), (_REDACTED, _REDACTED_WORDS)):
        expected = np.asarray(pc.match_substring_regex(values, pattern), dtype=bool)
        assert matches(values, pattern, words).tolist() == expected.tolist()
