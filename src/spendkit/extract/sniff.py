"""What a file really is, from its bytes: extensions lie (Manchester's CSV is named `.xls`)."""

from __future__ import annotations

import io
import re
import zipfile

from spendkit.extract.decode import utf16_encoding

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


def sniff_kind(data: bytes) -> str:
    """Classify bytes as 'xlsx', 'xls', 'zip', 'encrypted-office', 'html', 'pdf', 'empty', 'text'.

    'binary' is returned for bytes that are none of these and do not look like text.
    """
    if not data or data.isspace():  # isspace stops at the first other byte; strip copies
        return "empty"
    if data.startswith(OLE_MAGIC):
        # An encrypted OOXML workbook is an OLE container holding 'EncryptedPackage'.
        if "EncryptedPackage".encode("utf-16-le") in data[:200_000] or b"EncryptedPackage" in data:
            return "encrypted-office"
        return "xls"
    if data.startswith(ZIP_MAGIC) or data.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile:
            return "corrupt-zip"
        if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
            return "xlsx"
        return "zip"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and utf16_encoding(data):
        return "text"  # UTF-16 with a byte-order mark (checked before HTML: '<' is 2 bytes)
    if data.startswith(b"%PDF"):
        return "pdf"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if re.match(rb"<(!doctype html|html|\?xml|head|body|table|div|meta)", head):
        return "html"
    if b"\x00" in data[:4096]:
        return "text" if utf16_encoding(data) else "binary"
    return "text"
