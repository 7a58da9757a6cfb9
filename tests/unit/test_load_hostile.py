"""Hostile and damaged input (issue 22, loader parts): every failure is one SpendkitError naming
the file, nothing is swallowed silently, memory stays bounded. Fixtures are made here."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest

import spendkit
from spendkit.errors import SpendkitError, UnreadableFileError
from spendkit.extract import archive

HEADER = "Date,Supplier Name,Amount\n"
BODY = "".join(f"0{1 + i % 9}/05/2019,Acme {i} Ltd,{i}.50\n" for i in range(20))


def load_bytes(name: str, data: bytes) -> spendkit.LoadResult:
    return spendkit.load(name, data=data, source_name=name)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_csv_loads(encoding: str) -> None:
    r = load_bytes("u.csv", (HEADER + BODY + "01/05/2019,Café £ Ltd,1.00\n").encode(encoding))
    assert r.ledger.encoding == encoding and r.ledger.rows_kept == 21
    assert r.ledger.kept_total_gbp == Decimal("201.00")
    assert "Café £ Ltd" in set(r.transactions["supplier_name"])


def test_decimal_comma_and_sub_penny_exponent_are_rejected_with_the_reason() -> None:
    text = HEADER + ('01/05/2019,A Ltd,"1,5"\n01/05/2019,B Ltd,9e-3\n'
                     '01/05/2019,C Ltd,1.5E+3\n01/05/2019,D Ltd,"1,234.50"\n')
    r = load_bytes("c.csv", text.encode())
    assert r.ledger.kept_total_gbp == Decimal("2734.50")
    details = dict(zip(r.rejects["source_line"], r.rejects["detail"], strict=True))
    assert "'1,5'" in details[2] and "thousands separator" in details[2]
    assert "'9e-3'" in details[3] and "whole number of pence" in details[3]
    assert any("exponent notation" in w for w in r.ledger.warnings)


def test_stray_quote_does_not_swallow_the_rows_below() -> None:
    lines = [f"0{1 + i % 9}/05/2019,Acme {i} Ltd,{i}.50" for i in range(100)]
    lines[3] = '01/05/2019,"Acme stray Ltd,3.50'
    r = load_bytes("q.csv", (HEADER + "\n".join(lines) + "\n").encode())
    assert (r.ledger.rows_read, r.ledger.rows_kept) == (100, 99)
    assert r.ledger.kept_total_gbp == Decimal(sum(range(100))) + Decimal("50.00") - Decimal("3.50")
    assert any("stray quote" in w and "lines 5-101" in w for w in r.ledger.warnings)


def test_truncated_mid_quote_warns() -> None:
    text = HEADER + BODY + '01/05/2019,"Acme cut\nshort Ltd'
    r = load_bytes("t.csv", text.encode())
    assert r.ledger.rows_kept == 20
    assert any("ends inside a quoted field" in w for w in r.ledger.warnings)


@pytest.mark.parametrize("quoted", [True, False])
def test_field_over_the_csv_module_limit(quoted: bool) -> None:
    big = "x" * 200_000
    cell = f'"{big}"' if quoted else big
    text = HEADER + BODY + f"01/05/2019,{cell},5.00\n" + "02/05/2019,Last Ltd,1.00\n"
    r = load_bytes("b.csv", text.encode())
    assert r.ledger.rows_read == 22 and r.ledger.rows_read == r.ledger.rows_kept


def test_zip_members_skipped_are_in_the_ledger() -> None:
    buf = io.BytesIO()
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("a.csv", HEADER + BODY)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.csv", HEADER + BODY)
        zf.writestr(".hidden.csv", HEADER + BODY)
        zf.writestr("..\\..\\x.csv", HEADER + BODY)
        zf.writestr("../y.csv", HEADER + BODY)
        zf.writestr("nested.zip", inner.getvalue())
    r = load_bytes("z.zip", buf.getvalue())
    assert r.ledger.rows_kept == 20
    skipped = {s["name"]: s["reason"] for s in r.ledger.skipped}
    assert set(skipped) == {"z.zip/.hidden.csv", "z.zip/..\\..\\x.csv", "z.zip/../y.csv",
                            "z.zip/nested.zip"}
    assert "nested archive" in skipped["z.zip/nested.zip"]
    assert "skipped member z.zip/nested.zip" in r.ledger.summary()


def test_zip_bomb_refused_while_streaming(monkeypatch) -> None:
    # 40 MB of blank lines that compress 1,000 to 1: refused by ratio once past 1 MiB.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, \
            zf.open("bomb.csv", "w") as fh:
        fh.write(HEADER.encode())
        for _ in range(40):
            fh.write(b"\n" * (1 << 20))
    with pytest.raises(UnreadableFileError, match=r"^bomb\.zip/bomb\.csv: .*ZIP bomb"):
        load_bytes("bomb.zip", buf.getvalue())
    # A member that lies about its size is stopped by the bytes that come out.
    monkeypatch.setattr(archive, "MAX_RATIO", 10**9)
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 8 << 20)
    with pytest.raises(UnreadableFileError, match="limit|ZIP bomb"):
        load_bytes("bomb.zip", buf.getvalue())


def _book() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Date", "Supplier Name", "Amount"])
    for i in range(1, 6):
        ws.append([f"0{i}/05/2019", f"Acme {i} Ltd", i * 10.5])
    ws["A3"] = -1e308  # calamine panics on this date cell
    ws["A3"].number_format = "dd/mm/yyyy"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rezip(data: bytes, part: str, change) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            body = src.read(info)
            zf.writestr(info, change(body) if part in info.filename else body)
    return out.getvalue()


@pytest.mark.parametrize("damage", ["none", "xml", "cell_ref", "truncated", "flipped_byte"])
def test_damaged_workbooks_give_spendkit_errors_only(damage: str) -> None:
    data = _book()
    if damage == "xml":
        data = _rezip(data, "sheet1", lambda b: b.replace(b"</sheetData>", b"<row"))
    elif damage == "cell_ref":
        data = _rezip(data, "sheet1", lambda b: b.replace(b'r="B2"', b'r="!!"'))
    elif damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped_byte":
        data = data[:2000] + bytes([data[2000] ^ 0xFF]) + data[2001:]
    try:
        r = load_bytes("book.xlsx", data)
    except SpendkitError as exc:
        assert str(exc).startswith("book.xlsx")
    else:
        assert r.ledger.rows_read == r.ledger.rows_kept + r.ledger.rows_rejected


def test_reader_failures_become_unreadable_file_errors(monkeypatch) -> None:
    from spendkit import loader

    class PanicException(BaseException):  # what pyo3 raises for a Rust panic
        pass

    def panic(*args, **kwargs):
        raise PanicException("TimeDelta::milliseconds out of bounds")

    monkeypatch.setattr(loader, "read_xls", panic)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    with pytest.raises(UnreadableFileError, match=r"^old\.xls: could not be read \(PanicExc"):
        load_bytes("old.xls", ole)


def test_error_messages_quote_only_a_short_escaped_excerpt() -> None:
    secret = "root:$6$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ:19000:0:99999:7:::"
    with pytest.raises(UnreadableFileError) as info:
        load_bytes("shadow", (secret + "\n" + secret.replace("root", "daemon") + "\n").encode())
    message = str(info.value)
    assert secret not in message and len(message) < 300
    assert re.search(r"reads 'root:\$6\$[^']{0,60}…'", message)
