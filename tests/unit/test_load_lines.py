"""Every physical line of a delimited text is accounted for in the ledger (issue 22 item 4):
lines = above the header + headers + rows read + blank + continuation lines of quoted line
breaks (+ rows of tables not read), counted apart from the CSV parser; a difference is a warning
naming the lines. Fixtures are written here."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

import spendkit
from spendkit import loader

HEADER = "Date,Supplier Name,Amount,Description\n"


def rows(n: int, start: int = 0) -> str:
    return "".join(f"0{1 + i % 9}/05/2019,Acme {i} Ltd,{i}.50,Widgets\n"
                   for i in range(start, start + n))


def load_text(text: str, name: str = "t.csv", careful: bool = False,
              monkeypatch: pytest.MonkeyPatch | None = None) -> spendkit.LoadResult:
    if careful:
        assert monkeypatch is not None
        monkeypatch.setattr(loader, "regular_grid", lambda *args, **kwargs: None)
    return spendkit.load(name, data=text.encode(), source_name=name)


def account(r: spendkit.LoadResult) -> tuple:
    a = r.ledger.line_accounting
    return (r.ledger.physical_lines, a["above_header"], a["headers"], a["rows"], a["blank"],
            a["continuation"], a["skipped_tables"])


@pytest.mark.parametrize("careful", [False, True])
def test_regular_file_with_preamble_filler_rows_and_trailing_blanks(careful, monkeypatch):
    text = ("Payments over £500\n\n" + HEADER + rows(5) + ",,,\n" + rows(3, 5)
            + '"",,,\n' + "\n\n")
    r = load_text(text, careful=careful, monkeypatch=monkeypatch)
    # 2 above + header + 8 rows + 2 filler rows + 2 trailing blank lines
    assert account(r) == (15, 2, 1, 8, 4, 0, 0)
    assert r.ledger.lines_accounted == 15 and r.ledger.lines_reconciled
    assert r.ledger.parse_path == ("arrow" if not careful else "record scan + arrow")
    assert "lines 15 = 2 above the header + 1 header + 8 rows + 4 blank + 0 continuation" \
        in r.ledger.summary()


def test_quoted_line_breaks_blank_lines_mid_file_and_cr_endings():
    body = (rows(2) + '01/05/2019,Acme Ltd,3.50,"three\nline\ndescription"\n' + "\n"
            + rows(2, 10))
    text = ("Spend report\n" + HEADER + body).replace("\n", "\r")  # CR-only line ends
    text = text[:-1]  # and no line end after the last line
    r = load_text(text)
    # 1 above + header + 5 rows (one spanning 3 lines) + 1 blank + 2 continuation lines
    assert account(r) == (10, 1, 1, 5, 1, 2, 0)
    assert r.ledger.lines_reconciled
    assert r.ledger.parts[0].continuation_lines == 2


def test_header_on_the_last_line():
    text = rows(4) + "\n" + HEADER + "\n"
    r = load_text(text)
    assert r.ledger.header_line == 6
    assert account(r) == (7, 0, 1, 4, 2, 0, 0)
    assert r.ledger.lines_reconciled


def test_stacked_tables_in_one_text():
    text = HEADER + rows(3) + "\n" + "Supplier Name,Amount,Date\n" + \
        "Beta Ltd,7.00,02/05/2019\nGamma Ltd,8.00,03/05/2019\n"
    r = load_text(text)
    assert len(r.ledger.parts) == 2
    assert account(r) == (8, 0, 2, 5, 1, 0, 0)
    assert r.ledger.lines_reconciled


def test_stray_quote_lines_are_each_read_and_accounted():
    lines = rows(100).splitlines()
    lines[3] = '01/05/2019,"Acme stray Ltd,3.50,Widgets'
    r = load_text(HEADER + "\n".join(lines) + "\n")
    assert (r.ledger.rows_read, r.ledger.rows_kept) == (100, 99)
    assert account(r) == (101, 0, 1, 100, 0, 0, 0)
    assert any("stray quote" in w and "lines 5-" in w for w in r.ledger.warnings)


def workbook() -> bytes:
    """A one-row XLSX."""
    book = openpyxl.Workbook()
    book.active.append(["Date", "Supplier Name", "Amount"])
    book.active.append(["01/05/2019", "Acme", 2.5])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_zip_members_are_counted_text_by_text():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.csv", "Notes\n" + HEADER + rows(3))
        zf.writestr("b.csv", HEADER + rows(2) + "\n")
        zf.writestr("c.xlsx", workbook())
    r = spendkit.load("z.zip", data=buf.getvalue(), source_name="z.zip")
    assert r.ledger.rows_read == 6  # 3 + 2 from the texts, 1 from the workbook
    assert account(r) == (9, 1, 2, 5, 1, 0, 0)
    assert r.ledger.lines_reconciled


def test_table_not_read_is_accounted_as_skipped():
    text = HEADER + rows(2) + "\n" + ("Supplier Name,Payment Date,Reference\n"
                                       "Beta Ltd,02/05/2019,X1\nGamma Ltd,03/05/2019,X2\n")
    r = load_text(text)
    assert any(s["what"] == "table" for s in r.ledger.skipped)
    assert account(r)[-1] == 2 and r.ledger.lines_reconciled


def test_workbooks_have_no_line_count():
    r = spendkit.load("b.xlsx", data=workbook(), source_name="b.xlsx")
    assert r.ledger.physical_lines is None and r.ledger.lines_reconciled is None
    assert "  lines " not in r.ledger.summary()


def test_a_row_lost_after_parsing_is_named_by_line(monkeypatch):
    """The count is not circular: a row that vanishes between the parser and the ledger (here a
    transform made to drop one without rejecting it) leaves read = kept + rejected balanced but
    its line unaccounted for, and the warning names it."""
    real = loader.to_canonical

    def losing(grid, *args, **kwargs):
        canon = real(grid, *args, **kwargs)
        canon.table = canon.table.take([0, 1, 3, 4])  # the row from line 4 disappears
        return canon

    monkeypatch.setattr(loader, "to_canonical", losing)
    r = load_text(HEADER + rows(5) + "\n")
    assert r.ledger.rows_read == r.ledger.rows_kept + r.ledger.rows_rejected == 4
    assert r.ledger.kept_total_gbp == Decimal("0.50") + Decimal("1.50") + Decimal("3.50") \
        + Decimal("4.50")
    assert r.ledger.lines_reconciled is False
    assert (r.ledger.physical_lines, r.ledger.lines_accounted) == (7, 6)
    warning = next(w for w in r.ledger.warnings if "physical line" in w)
    assert "1 of 7 physical line(s)" in warning and "at lines 4:" in warning
    assert "lines 7 != accounted" in r.ledger.summary()
