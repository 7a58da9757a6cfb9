"""The python-calamine XLSX reader gives the same SheetRows as the openpyxl reference reader."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from spendkit.errors import UnreadableFileError
from spendkit.extract import excel
from spendkit.extract.excel import SheetRows, read_xlsx, read_xlsx_openpyxl


def _both(data: bytes) -> tuple[list[SheetRows], list[SheetRows]]:
    """(calamine without fallback, openpyxl) SheetRows of one workbook."""
    return excel._read_xlsx_calamine(data), read_xlsx_openpyxl(data, "book.xlsx")


def _saved(wb: openpyxl.Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _error(ws, ref: str, code: str) -> None:
    ws[ref] = code
    ws[ref].data_type = "e"


@pytest.fixture(scope="module")
def mixed_book() -> bytes:
    """Every cell kind the brief lists, blank and styled rows, several sheets."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append([None, "Date", "Amount", "Text", "Flag"])  # column A stays empty
    ws.append([None, dt.date(2024, 4, 9), 1041.41, "a", True])
    ws.append([None, dt.datetime(2024, 4, 9, 13, 5, 7), 0.1 + 0.2, "  pad  ", False])
    ws.append([])  # blank row in the middle
    ws.append([None, dt.datetime(2024, 4, 9, 13, 5, 7, 123456), 5219418, "", None])
    ws.append([None, dt.time(13, 5), -12.5, "=1/0", 1e20])
    ws.append([None, dt.timedelta(days=1, hours=2), 2**52 + 1, "x\ny", 1e-7])
    _error(ws, "B8", "#N/A")
    _error(ws, "C8", "#DIV/0!")
    ws["D8"] = CellRichText([TextBlock(InlineFont(b=True), "bold"), " plain"])
    ws["E8"] = dt.datetime(1900, 1, 1)
    ws["B9"] = dt.datetime(1900, 3, 1)
    ws["C9"] = "tab\there"
    ws["D9"] = -0.0
    ws["E9"] = 123456789012345
    ws["F10"] = "\u3000"  # whitespace only: a blank row, but it widens the used range
    for row in range(12, 15):  # trailing styled empty cells
        ws.cell(row, 3).font = Font(bold=True)
    wb.create_sheet("Empty")
    hidden = wb.create_sheet("Hidden")
    hidden.sheet_state = "hidden"
    hidden["C5"] = "hi"
    hidden.cell(10, 8).fill = PatternFill("solid", fgColor="FF0000")
    chart_sheet = wb.create_chartsheet("Chart")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=3, min_row=1, max_row=3))
    chart_sheet.add_chart(chart)
    late = wb.create_sheet("Late")
    late["D40"] = 3.5
    _error(late, "E41", "#REF!")  # an error cell on the edge of the used range
    return _saved(wb)


def test_mixed_workbook_same_sheet_rows(mixed_book: bytes) -> None:
    fast, ref = _both(mixed_book)
    assert fast == ref
    assert [s.name for s in fast] == ["Data", "Empty", "Hidden", "Late"]  # no chart sheet


def test_mixed_workbook_values(mixed_book: bytes) -> None:
    data, empty, hidden, late = read_xlsx(mixed_book, "book.xlsx")
    assert data.lines == [1, 2, 3, 5, 6, 7, 8, 9]
    assert data.blank_rows == 14 - 8  # row 4, whitespace row 10, 11, styled rows 12-14
    assert data.rows[1] == ["", "2024-04-09", "1041.41", "a", "TRUE", ""]
    assert data.rows[2][1:3] == ["2024-04-09 13:05:07", "0.3"]
    assert data.rows[3][1:3] == ["2024-04-09 13:05:07.123000", "5219418"]
    assert data.rows[4][1:] == ["13:05:00", "-12.5", "", "1e+20", ""]
    assert data.rows[5][1:] == ["1 day, 2:00:00", str(2**52 + 1), "x\ny", "1e-07", ""]
    assert data.rows[6][1:] == ["#N/A", "#DIV/0!", "bold plain", "1900-01-01", ""]
    assert data.rows[7][1:] == ["1900-03-01", "tab\there", "0", "123456789012345", ""]
    assert (empty.rows, empty.blank_rows) == ([], 0)
    assert (hidden.lines, hidden.rows, hidden.blank_rows) == ([5], [["", "", "hi"] + [""] * 5], 9)
    assert late.lines == [40, 41] and late.rows[1] == ["", "", "", "", "#REF!"]


def test_number_formats_and_date_system() -> None:
    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    formats = ["dd/mm/yyyy", "[$-809]dd mmmm yyyy", "mmm-yy", "General", "0.00", "#,##0.00",
               '"£"#,##0.00;[Red]-"£"#,##0.00', "[h]:mm:ss", "mm:ss", "yyyy-mm-dd hh:mm",
               '0.0 "days"', "@", "d-mmm", "hh:mm AM/PM"]
    values = [0.25, 1, 59.5, 60, 61, 45391, 45391.75, 1234.5678, 100.0001, 0]
    for col, fmt in enumerate(formats, start=1):
        for row, value in enumerate(values, start=1):
            cell = ws.cell(row, col, value)
            cell.number_format = fmt
    fast, ref = _both(_saved(wb))
    assert fast == ref
    assert fast[0].rows[5][0] == "2028-04-10"  # serial 45391 is 2024-04-09 in the 1900 system


def _part(xml: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml


def _raw_book(sheet_xml: str, shared: list[str] | None = None, prefix: str = "") -> bytes:
    """A minimal hand-written XLSX (one sheet called S), for layouts openpyxl does not write."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ct = "http://schemas.openxmlformats.org/package/2006/content-types"
    ml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    ns = f'xmlns:{prefix[:-1]}="{main}"' if prefix else f'xmlns="{main}"'
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{ct}"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ml}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ml}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ml}.sharedStrings+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<{prefix}workbook {ns} xmlns:r="{rel}"><{prefix}sheets>'
            f'<{prefix}sheet name="S" sheetId="1" r:id="rId1"/></{prefix}sheets>'
            f"</{prefix}workbook>"),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{pkg}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="/xl/sharedStrings.xml"/>'
            "</Relationships>"),
        "xl/worksheets/sheet1.xml": f"<{prefix}worksheet {ns}>{sheet_xml}</{prefix}worksheet>",
        "xl/sharedStrings.xml": (
            f'<sst xmlns="{main}">'
            + "".join(f'<si><t xml:space="preserve">{s}</t></si>' for s in shared or [])
            + "</sst>"),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, xml in parts.items():
            zf.writestr(name, _part(xml))
    return buf.getvalue()


def test_escapes_in_shared_and_inline_strings() -> None:
    # Excel writes a carriage return as _x000D_; openpyxl keeps that text, and so must we.
    book = _raw_book(
        '<dimension ref="A1:B2"/><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>in_x000D_line</t></is></c>'
        '<c r="B2" t="s"><v>2</v></c></row></sheetData>',
        shared=["a_x000D_b", "only_x005F_x000D_text", "_x000D_"])
    fast, ref = _both(book)
    assert fast == ref
    assert fast[0].rows == [["a_x000D_b", "only_x000D_text"], ["in_x000D_line", "_x000D_"]]


def test_prefixed_xml_without_dimension() -> None:
    # Writers built on the OpenXML SDK use an x: prefix; no <dimension> means rows end at
    # their last cell in openpyxl, so only the trailing "" cells may differ.
    book = _raw_book(
        '<x:sheetData><x:row r="2"><x:c r="B2" t="inlineStr"><x:is><x:t>h</x:t></x:is></x:c>'
        '<x:c r="C2"><x:v>1.5</x:v></x:c></x:row><x:row r="3"><x:c r="B3"><x:v>7</x:v></x:c>'
        '</x:row><x:row r="6" customHeight="1" ht="30"/></x:sheetData>', prefix="x:")
    fast, ref = _both(book)
    assert fast[0].rows == [["", "h", "1.5"], ["", "7", ""]]
    assert ref[0].rows == [["", "h", "1.5"], ["", "7"]]
    assert (fast[0].lines, fast[0].blank_rows) == (ref[0].lines, ref[0].blank_rows) == ([2, 3], 4)


def test_dimension_caps_trailing_rows_but_not_data() -> None:
    # Empty rows past the dimension are not read (as openpyxl); data past it is (openpyxl drops it).
    sheet = ('<dimension ref="A1:A2"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
             '<row r="2"><c r="A2" s="1"/></row><row r="9" ht="30" customHeight="1"/>'
             "</sheetData>")
    fast, ref = _both(_raw_book(sheet))
    assert fast == ref
    assert (fast[0].rows, fast[0].blank_rows) == ([["1"]], 1)
    under = sheet.replace('<row r="9" ht="30" customHeight="1"/>',
                          '<row r="4"><c r="A4"><v>4</v></c></row>')
    fast, ref = _both(_raw_book(under))
    assert (fast[0].rows, fast[0].lines, fast[0].blank_rows) == ([["1"], ["4"]], [1, 4], 2)
    assert (ref[0].rows, ref[0].lines) == ([["1"]], [1])


def test_documented_differences() -> None:
    # A zero fraction written by a non-Excel writer (Excel writes 1234).
    fast, ref = _both(_raw_book('<sheetData><row r="1"><c r="A1"><v>1234.0</v></c>'
                                '<c r="B1"><v>1234</v></c></row></sheetData>'))
    assert fast[0].rows == [["1234", "1234"]]
    assert ref[0].rows == [["1234.0", "1234"]]
    # A negative number in a date format (Excel shows ####): calamine keeps only the time.
    wb = openpyxl.Workbook()
    wb.active["A1"] = -3
    wb.active["A1"].number_format = "dd/mm/yyyy"
    fast, ref = _both(_saved(wb))
    assert (fast[0].rows, ref[0].rows) == ([["00:00:00"]], [["1899-12-27"]])


def test_half_millisecond_times_are_a_documented_difference() -> None:
    """Excel stores a time as a fraction of a day in a double; both readers round it to the
    millisecond. 00:00:00.0455 is stored as 36526.00000052662, which is 45.49997 ms: openpyxl,
    working from the stored number, reads .045 (right for what the file holds); calamine
    multiplies the whole serial by 86,400,000 first, loses the last microsecond and reads .046.
    Payment dates are read to the day, so the loader is not affected."""
    wb = openpyxl.Workbook()
    wb.active.append([dt.datetime(2000, 1, 1, 0, 0, 0, 45500)])
    wb.active.append([dt.datetime(2000, 1, 1, 0, 0, 0, 45000)])
    fast, ref = _both(_saved(wb))
    assert fast[0].rows[0] == ["2000-01-01 00:00:00.046000"]
    assert ref[0].rows[0] == ["2000-01-01 00:00:00.045000"]
    assert fast[0].rows[1] == ref[0].rows[1] == ["2000-01-01 00:00:00.045000"]


def test_edge_whitespace_without_preserve_goes_to_the_reference_reader() -> None:
    # openpyxl writes " " without xml:space="preserve"; calamine would read it as "".
    wb = openpyxl.Workbook()
    wb.active.append(["a", " ", "b "])
    book = _saved(wb)
    with pytest.raises(excel._NeedsReference):
        excel._read_xlsx_calamine(book)
    assert read_xlsx(book, "b.xlsx")[0].rows == [["a", " ", "b "]]
    preserved = _raw_book('<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>',
                          shared=[" trailing and leading "])  # _raw_book writes preserve
    fast, ref = _both(preserved)
    assert fast == ref and fast[0].rows == [[" trailing and leading "]]


def test_rows_without_numbers_go_to_the_reference_reader(monkeypatch) -> None:
    book = _raw_book('<sheetData><row><c><v>1</v></c></row><row><c><v>2</v></c></row>'
                     "</sheetData>")
    with pytest.raises(excel._NeedsReference):
        excel._read_xlsx_calamine(book)
    assert read_xlsx(book, "b.xlsx") == read_xlsx_openpyxl(book, "b.xlsx")
    assert read_xlsx(book, "b.xlsx")[0].rows == [["1"], ["2"]]


def test_fallback_and_unreadable(monkeypatch, mixed_book: bytes) -> None:
    def broken(data: bytes) -> list[SheetRows]:
        raise RuntimeError("calamine cannot read this")

    monkeypatch.setattr(excel, "_read_xlsx_calamine", broken)
    assert read_xlsx(mixed_book, "book.xlsx") == read_xlsx_openpyxl(mixed_book, "book.xlsx")
    monkeypatch.undo()
    with pytest.raises(UnreadableFileError, match=r"^bad\.xlsx: not a readable XLSX workbook"):
        read_xlsx(b"PK\x03\x04 not really a zip", "bad.xlsx")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "a zip, not a workbook")
    with pytest.raises(UnreadableFileError, match=r"^notes\.xlsx: not a readable XLSX workbook"):
        read_xlsx(buf.getvalue(), "notes.xlsx")


_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=8)
_cells = st.one_of(
    st.none(),
    st.sampled_from([" ", "  ", "a ", " a", "\n", "x\ny", "_x000D_", "tab\t", "#N/A"]),
    st.integers(-10**15, 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    _texts,
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 12, 31)),
    # Whole milliseconds: see test_half_millisecond_times_are_a_documented_difference.
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 12, 31)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
)


@settings(max_examples=40)
@given(st.lists(st.lists(_cells, min_size=1, max_size=5), min_size=1, max_size=6))
def test_random_cells_read_back_identically(grid: list[list[object]]) -> None:
    wb = openpyxl.Workbook()
    for row in grid:
        wb.active.append(row)
    book = _saved(wb)
    # read_xlsx, not calamine alone: openpyxl's writer leaves " " without xml:space="preserve",
    # which sends the workbook to the reference reader (see the test above)
    assert read_xlsx(book, "book.xlsx") == read_xlsx_openpyxl(book, "book.xlsx")
