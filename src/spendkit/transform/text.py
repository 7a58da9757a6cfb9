"""Text cells cleaned the same way everywhere: no-break spaces as spaces, white space trimmed.

Checks on the column's bytes (one memchr-speed pass) pick the cheapest kernel that gives the
same result: ASCII trimming when the column is ASCII, the no-break-space pass only when one is
there.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

_NBSP = "\xa0".encode()
# ASCII characters Unicode calls white space but ascii_trim_whitespace does not trim.
_UNICODE_ONLY_SPACE = (b"\x1c", b"\x1d", b"\x1e", b"\x1f")


def text_bytes(values: pa.Array) -> bytes:
    """The bytes of a string column's data buffer (all of it, if the array is a slice)."""
    buf = values.buffers()[2] if len(values.buffers()) > 2 else None
    return b"" if buf is None else buf.to_pybytes()


def clean_text(values: pa.Array) -> pa.Array:
    """No-break spaces as spaces, white space trimmed (on the distinct values if encoded)."""
    if pa.types.is_dictionary(values.type):
        return pa.DictionaryArray.from_arrays(values.indices, clean_text(values.dictionary))
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    data = text_bytes(values)
    if data.isascii() and not any(c in data for c in _UNICODE_ONLY_SPACE):
        return pc.ascii_trim_whitespace(values)
    if _NBSP in data:
        values = pc.replace_substring(values, "\xa0", " ")
    return pc.utf8_trim_whitespace(values)


def dictionary_encoded(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """A text column dictionary-encoded, nulls as "", to work once per distinct value.

    A column already encoded is returned as it is (its dictionary may repeat values).
    """
    if not pa.types.is_dictionary(values.type):
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            values = values.cast(pa.string())
        values = pc.dictionary_encode(pc.fill_null(values, "") if values.null_count else values)
    # One hash table across chunks: combining only unifies the dictionaries' prefixes.
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
