"""What one file may hold, so the loader's memory and time stay bounded whatever the input
(issue 22 item 3): lines of text and workbook cells share one allowance per file (a line
counts as two cells), headers are at most Excel's width, archives hold at most MAX_MEMBERS
files to read. Each is refused before the costly step, with one message naming the file.
Limits are lowered here so the fixtures stay small."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

import spendkit
from spendkit import loader
from spendkit.errors import UnreadableFileError
from spendkit.extract.grid import MAX_COLUMNS

HEADER = "Date,Supplier Name,Amount\n"


def rows(n: int) -> str:
    return "".join(f"0{1 + i % 9}/05/2019,Acme {i} Ltd,{i}.50\n" for i in range(n))


def load(name: str, data: bytes) -> spendkit.LoadResult:
    return spendkit.load(name, data=data, source_name=name)


@pytest.fixture
def allowance_of_100_lines(monkeypatch):
    monkeypatch.setattr(loader, "MAX_WORKBOOK_CELLS", 200)


@pytest.mark.parametrize("careful", [False, True])
def test_text_past_the_allowance_is_refused_before_parsing(careful, allowance_of_100_lines,
                                                           monkeypatch):
    assert load("ok.csv", (HEADER + rows(99)).encode()).ledger.rows_read == 99
    text = HEADER + rows(100)
    if careful:  # a blank line mid-file sends it down the careful path
        text = HEADER + "\n" + rows(99)

    def parsed(*args, **kwargs):
        raise AssertionError("the text was parsed")

    monkeypatch.setattr(loader, "regular_grid", parsed)
    monkeypatch.setattr(loader, "DelimitedText", parsed)
    with pytest.raises(UnreadableFileError,
                       match=r"^big\.csv: has 101 lines, more than the 100 one file may hold"):
        load("big.csv", text.encode())


def test_zip_members_share_one_allowance(allowance_of_100_lines):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", HEADER + rows(59))  # 60 lines
        zf.writestr("b.csv", HEADER + rows(59))
    with pytest.raises(UnreadableFileError, match=r"^z\.zip/b\.csv: has 60 lines, more than the "
                                                  r"40 left of the 100 lines one file"):
        load("z.zip", buf.getvalue())


def test_a_workbook_in_an_archive_gets_what_the_texts_left(allowance_of_100_lines):
    book = openpyxl.Workbook()
    for i in range(30):
        book.active.append(["01/05/2019", f"Acme {i}", 1.5])
    xlsx = io.BytesIO()
    book.save(xlsx)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", HEADER + rows(79))  # 80 lines: 160 of the 200 cells
        zf.writestr("b.xlsx", xlsx.getvalue())  # 30 rows × 3 columns = 90 cells
    with pytest.raises(UnreadableFileError, match=r"more than the limit of 40 cells left of what "
                                                  r"one file may hold"):
        load("z.zip", buf.getvalue())


def test_a_header_wider_than_excel_allows_is_refused():
    header = "Date,Supplier Name,Amount" + ",x" * (MAX_COLUMNS - 2) + "\n"
    with pytest.raises(UnreadableFileError, match=r"^w\.csv, line 2: the header has 16,385 "
                                                  r"fields, more than the limit of 16,384"):
        load("w.csv", ("Payments\n" + header + rows(3)).encode())


def test_an_archive_of_too_many_files_is_refused_before_reading_them(monkeypatch):
    monkeypatch.setattr(loader, "MAX_MEMBERS", 3)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(3):
            zf.writestr(f"m{i}.csv", HEADER + rows(2))
        zf.writestr(".hidden.csv", HEADER + rows(2))  # skipped, so not counted
    assert load("z.zip", buf.getvalue()).ledger.rows_read == 6
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("m3.csv", HEADER + rows(2))
    with pytest.raises(UnreadableFileError, match=r"^z\.zip: holds 4 files to read, more than "
                                                  r"the limit of 3"):
        load("z.zip", buf.getvalue())


def test_many_rejected_rows_are_recorded_in_bulk():
    # 20,000 rows whose amount reads as nothing: each rejected with its raw cells, quickly.
    text = HEADER + "".join(f"01/05/2019,Acme {i},n/a\n" for i in range(20_000))
    r = load("r.csv", text.encode())
    assert r.ledger.rejected_by_reason == {"invalid_amount": 20_000}
    rejects = r.rejects_table
    assert rejects.column("raw")[7].as_py() == "01/05/2019|Acme 7|n/a"
    assert rejects.column("source_line").to_pylist()[:2] == [2, 3]
    assert len(set(rejects.column("detail").to_pylist())) == 1
