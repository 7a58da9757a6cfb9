"""One small hand-written file per quirk the loader must survive."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import spendkit
from spendkit.errors import UnreadableFileError

HEADER = "Payment Date,Supplier Name,Expense Type,Amount\n"


def write(tmp_path: Path, name: str, content: bytes | str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return p


def amounts(result: spendkit.LoadResult) -> list[Decimal]:
    return list(result.transactions["amount_gbp"])


def test_plain_csv_reads_columns_and_lines(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", HEADER + "01/04/2024,Acme Ltd,ICT : Software,1234.50\n"
              "02/04/2024,  Beta plc ,Telephones,99\n")
    r = spendkit.load(p, publisher="Leeds")
    df = r.transactions
    assert list(df["supplier_name"]) == ["Acme Ltd", "Beta plc"]
    assert amounts(r) == [Decimal("1234.50"), Decimal("99.00")]
    assert list(df["source_line"]) == [2, 3]
    assert list(df["payment_date"].dt.date) == [dt.date(2024, 4, 1), dt.date(2024, 4, 2)]
    assert df["publisher_code"].iloc[0] == "E08000035"
    assert r.ledger.column_mapping["amount_gbp"] == "Amount"
    assert r.ledger.kept_total_gbp == Decimal("1333.50")


@pytest.mark.parametrize(("raw", "expected"), [
    ('"£2,681.94"', "2681.94"), ('"-£16,902.11"', "-16902.11"), ('"1,534.24"', "1534.24"),
    ('"(264,795.53)"', "-264795.53"), ('"16,989.00-"', "-16989.00"), ("123.45 CR", "-123.45"),
    ("1041.4099999999999", "1041.41"), ("500 ", "500.00"), ("0.00", "0.00"),
])
def test_amount_styles(tmp_path: Path, raw: str, expected: str) -> None:
    p = write(tmp_path, "a.csv", HEADER + f"01/04/2024,Acme,X,{raw}\n", "cp1252")
    assert amounts(spendkit.load(p)) == [Decimal(expected)]


def test_cp1252_pound_and_dos_pound(tmp_path: Path) -> None:
    p = write(tmp_path, "w.csv", b"Date,Name,Net Amount(\xa3)\n01/03/2017,A,\xa310.00\n")
    r = spendkit.load(p)
    assert r.ledger.encoding == "cp1252" and amounts(r) == [Decimal("10.00")]
    p = write(tmp_path, "d.csv", b"Date,Name,Net Amount(\x9c)\n01/03/2017,A,10.00\n")
    r = spendkit.load(p)
    assert r.ledger.encoding == "cp850"
    assert r.ledger.column_mapping["amount_gbp"] == "Net Amount(£)"


def test_utf8_with_stray_bytes_and_mojibake(tmp_path: Path) -> None:
    content = (HEADER + "01/04/2024,Caf\u00e9 Ltd,X,1\n").encode() + \
        b"02/04/2024,Women\xbfs Aid\xa0,X,2\n" + "03/04/2024,Â£ Co,X,3\n".encode()
    r = spendkit.load(write(tmp_path, "m.csv", content))
    assert r.ledger.encoding == "utf-8+cp1252"
    assert list(r.transactions["supplier_name"]) == ["Café Ltd", "Women¿s Aid", "£ Co"]
    assert any("not valid UTF-8" in w for w in r.ledger.warnings)


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_endings_and_quoted_line_breaks(tmp_path: Path, newline: str) -> None:
    text = (HEADER + '01/04/2024,Acme,"two\nlines",5\n02/04/2024,Beta,X,6\n')
    p = write(tmp_path, "n.csv", text.replace("\n", newline))
    r = spendkit.load(p)
    assert list(r.transactions["source_line"]) == [2, 4]
    assert r.transactions["expense_type"].iloc[0] == "two\nlines"


def test_header_after_preamble_and_total_and_blank_rows(tmp_path: Path) -> None:
    text = ("Council Invoices Over 500,,,\n,,,\nReport Date: 02/07/2012,,,\n"
            + HEADER + "01/04/2024,A,X,10\n,,,\n02/04/2024,B,X,20\nTotal,,,30\n,,,\n,,,\n")
    r = spendkit.load(write(tmp_path, "p.csv", text))
    assert r.ledger.header_line == 4
    assert r.ledger.rows_kept == 2 and r.ledger.rejected_by_reason == {"total_row": 1}
    assert r.ledger.blank_rows_skipped == 3 and r.ledger.preamble_rows_skipped == 2
    assert r.rejects["source_line"].tolist() == [8]


def test_bare_sum_at_the_end_is_a_total(tmp_path: Path) -> None:
    text = HEADER + "01/04/2024,A,X,10.50\n02/04/2024,B,X,20\n,,,30.50\n"
    r = spendkit.load(write(tmp_path, "s.csv", text))
    assert r.ledger.rejected_by_reason == {"total_row": 1}
    assert "bare sum" in r.rejects["detail"].iloc[0]


def test_header_as_last_line(tmp_path: Path) -> None:
    text = "01/04/2024,A,X,10\n02/04/2024,B,X,20\n" + HEADER
    r = spendkit.load(write(tmp_path, "h.csv", text))
    assert r.ledger.header_line == 3 and r.ledger.rows_kept == 2
    assert any("last line" in w for w in r.ledger.warnings)


def test_padding_columns_and_trailing_commas(tmp_path: Path) -> None:
    text = ",,,,,,,,\nDate,,Name,,Amount,,,,\n01/04/2024,,A,,10,,,,\n,,,,,,,,\n"
    r = spendkit.load(write(tmp_path, "pad.csv", text))
    assert r.ledger.header_line == 2 and r.ledger.rows_kept == 1
    assert not [c for c in r.transactions.columns if c.startswith("column_")]


def test_unquoted_thousands_separator_is_not_misread(tmp_path: Path) -> None:
    text = HEADER + "01/04/2024,A,X,10\n02/04/2024,B,X,£2,681.94\n"
    r = spendkit.load(write(tmp_path, "u.csv", text))
    assert amounts(r) == [Decimal("10.00")]
    assert r.ledger.rejected_by_reason == {"wrong_field_count": 1}


def test_wrong_field_count_is_rejected_with_line(tmp_path: Path) -> None:
    text = HEADER + "01/04/2024,A,X,10\n02/04/2024,B,X,20,oops,more\n03/04/2024,C,X,30\n"
    r = spendkit.load(write(tmp_path, "w.csv", text))
    assert r.ledger.rejected_by_reason == {"wrong_field_count": 1}
    assert r.rejects.iloc[0]["source_line"] == 3
    assert "expected 4 fields, found 6" in r.rejects.iloc[0]["detail"]


@pytest.mark.parametrize(("cells", "expected", "precision"), [
    (["30-Oct-13", "1-Nov-13"], [dt.date(2013, 10, 30), dt.date(2013, 11, 1)], "day"),
    (["3 Apr 2023", "13 Apr 2023"], [dt.date(2023, 4, 3), dt.date(2023, 4, 13)], "day"),
    (["01.09.2014", "30.09.2014"], [dt.date(2014, 9, 1), dt.date(2014, 9, 30)], "day"),
    (["06/01/26", "13/01/26"], [dt.date(2026, 1, 6), dt.date(2026, 1, 13)], "day"),
    (["2024-04-09 01:00:00", "2024-04-10"], [dt.date(2024, 4, 9), dt.date(2024, 4, 10)], "day"),
    (["Sep 2014", "Oct 2014"], [dt.date(2014, 9, 1), dt.date(2014, 10, 1)], "month"),
    (["41892", "41893"], [dt.date(2014, 9, 10), dt.date(2014, 9, 11)], "day"),
    (["12/31/2024", "01/02/2025"], [dt.date(2024, 12, 31), dt.date(2025, 1, 2)], "day"),
])
def test_date_styles(tmp_path: Path, cells: list[str], expected: list, precision: str) -> None:
    text = HEADER + "".join(f"{c},A,X,1\n" for c in cells)
    r = spendkit.load(write(tmp_path, "d.csv", text))
    df = r.transactions
    assert list(df["payment_date"].dt.date) == expected
    assert set(df["date_precision"]) == {precision}


def test_day_month_order_decided_once_for_the_column(tmp_path: Path) -> None:
    text = HEADER + "05/04/2024,A,X,1\n13/04/2024,A,X,1\n"
    df = spendkit.load(write(tmp_path, "o.csv", text)).transactions
    assert list(df["payment_date"].dt.date) == [dt.date(2024, 4, 5), dt.date(2024, 4, 13)]


def test_invalid_date_and_amount_rejected_with_reason(tmp_path: Path) -> None:
    # Dated rows in three months and a file name without a period: no period for the bad date.
    text = HEADER + "01/04/2024,A,X,1\nnot a date,B,X,2\n02/05/2024,C,X,abc\n03/06/2024,D,X,\n"
    r = spendkit.load(write(tmp_path, "bad.csv", text))
    assert r.ledger.rejected_by_reason == {"invalid_amount": 1, "invalid_date": 1,
                                           "missing_amount": 1}
    assert r.ledger.rows_read == 4 and r.ledger.rows_kept == 1
    detail = r.rejects.set_index("source_line").loc[3, "detail"]
    assert "'not a date'" in detail and "no period found" in detail


def test_redactions_kept_and_flagged(tmp_path: Path) -> None:
    text = HEADER + "01/04/2024,REDACTED,X,1\n01/04/2024,,X,2\n01/04/2024,Acme,X,3\n"
    df = spendkit.load(write(tmp_path, "r.csv", text)).transactions
    assert list(df["is_redacted"]) == [True, True, False]


def test_csv_with_xls_name_zip_and_workbook(tmp_path: Path) -> None:
    body = HEADER + "01/04/2024,A,X,1\n"
    assert spendkit.load(write(tmp_path, "lies.xls", body)).ledger.format == "csv"
    zpath = tmp_path / "bundle.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("april.csv", body)
        zf.writestr("may.csv", body.replace("01/04", "01/05"))
    r = spendkit.load(zpath)
    assert r.ledger.rows_kept == 2
    assert sorted(set(r.transactions["source_file"])) == ["bundle.zip/april.csv",
                                                           "bundle.zip/may.csv"]
    wb = openpyxl.Workbook()
    for title, day in (("APR 24", 9), ("May 24", 10)):
        ws = wb.create_sheet(title)
        ws.append(["* Date", "* SUPPLIER FINAL", "TOTAL"])
        ws.append([dt.datetime(2024, 4, day), "Vodafone", 1041.4099999999999])
    del wb["Sheet"]
    buf = io.BytesIO()
    wb.save(buf)
    r = spendkit.load(write(tmp_path, "book.xlsx", buf.getvalue()))
    assert r.ledger.sheets == ["APR 24", "May 24"]
    assert amounts(r) == [Decimal("1041.41")] * 2
    assert list(r.transactions["source_line"]) == [2, 2]


def test_supplier_summary_is_recognised(tmp_path: Path) -> None:
    text = "Sum of Invoice Nett Amount,\nSupplier Name,Total\nAcme,\"£1,000.00\"\nGrand Total,£1000\n"
    r = spendkit.load(write(tmp_path, "pivot.csv", text))
    assert r.ledger.file_kind == "supplier_summary"
    assert r.ledger.rows_kept == 0
    assert r.ledger.rejected_by_reason == {"not_transaction_list": 1, "total_row": 1}


@pytest.mark.parametrize(("content", "message"), [
    (b"<!DOCTYPE html><html><body>Not found</body></html>", "HTML page"),
    (b"", "empty"),
    (b"PK\x03\x04garbage", "damaged ZIP"),
    (b"just,some,words\nand,more,words\n", "no recognisable header"),
    (b"Date,Description,Amount\n01/01/2024,thing,1\n", "has no supplier column"),
])
def test_bad_input_gives_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    p = write(tmp_path, "bad.csv", content)
    with pytest.raises(UnreadableFileError, match=message) as info:
        spendkit.load(p)
    assert "bad.csv" in str(info.value)


def test_no_amount_column_is_an_error_naming_it(tmp_path: Path) -> None:
    p = write(tmp_path, "na.csv", "Payment Date,Supplier Name,Expense Type,Cost Centre\n"
              "01/04/2024,A,X,Y\n")
    with pytest.raises(UnreadableFileError, match="no recognisable header|no amount"):
        spendkit.load(p)


def test_encrypted_workbook(tmp_path: Path) -> None:
    blob = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "EncryptedPackage".encode(
        "utf-16-le")
    with pytest.raises(UnreadableFileError, match="password-protected"):
        spendkit.load(write(tmp_path, "locked.xlsx", blob))


def test_irregular_quotes_take_the_exact_path(tmp_path: Path) -> None:
    text = HEADER + '01/04/2024,Acme 12" screens,X,10\n02/04/2024,"Beta, Ltd",X,20\n'
    r = spendkit.load(write(tmp_path, "q.csv", text))
    assert r.ledger.parse_path.startswith("csv-module")
    assert list(r.transactions["supplier_name"]) == ['Acme 12" screens', "Beta, Ltd"]


def test_unmapped_headers_warned_and_kept(tmp_path: Path) -> None:
    text = "Payment Date,Supplier Name,Amount,Widget Colour\n01/04/2024,A,1,blue\n"
    r = spendkit.load(write(tmp_path, "x.csv", text))
    assert any("'Widget Colour'" in w for w in r.ledger.warnings)
    assert r.transactions["widget_colour"].tolist() == ["blue"]


def test_publisher_profile_overrides_encoding_and_header(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from spendkit.reference import councils as publishers

    profile = publishers.Profile("testshire", "Testshire County Council", "E10000099", "net",
                                 "500", "cp437", "3", "", "hand-written test profile")
    monkeypatch.setattr(publishers, "profiles", lambda: (profile,))
    folder = tmp_path / "testshire"
    folder.mkdir()
    # Line 2 would also pass for a header; the profile says line 3. 0x9C is '£' in cp437.
    content = b"Report,,\nDate,Name,Amount\nDate,Name,Net \x9c\n01/04/2024,A,5\n"
    r = spendkit.load(write(folder, "f.csv", content))
    assert r.ledger.encoding == "cp437" and r.ledger.header_line == 3
    assert r.ledger.column_mapping["amount_gbp"] == "Net £"
    assert (r.ledger.publisher_name, r.ledger.vat_basis, r.ledger.threshold_gbp) == (
        "Testshire County Council", "net", "500")
    assert r.ledger.rows_kept == 1
