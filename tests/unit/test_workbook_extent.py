"""Workbooks whose cells reach too far are refused before any reader allocates them (issue 22
item 3, the loader's memory bound): a damaged cell reference such as `ZZZZ9` made calamine ask
for 760 × 475,254 cells (over 6 GB). Fixtures are hand-written XML, made here."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spendkit
from spendkit.errors import UnreadableFileError
from spendkit.extract import excel, extent

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
ML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
HEAD = ('<row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Supplier Name</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>Amount</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>01/05/2019</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>Acme Ltd</t></is></c><c r="C2"><v>12.5</v></c></row>')


def book(rows: str, unique_count: str = "1") -> bytes:
    """A one-sheet XLSX whose <sheetData> holds `rows`, written by hand."""
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{TYPES}"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ML}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ML}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ML}.sharedStrings+xml"/>'
            "</Types>"),
        "_rels/.rels": (f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
                        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="S" '
                            'sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData>'
                                    "</worksheet>",
        "xl/sharedStrings.xml": (f'<sst xmlns="{MAIN}" count="1" uniqueCount="{unique_count}">'
                                 "<si><t>Beta Ltd</t></si></sst>"),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, xml in parts.items():
            zf.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + xml)
    return buf.getvalue()


@pytest.fixture
def readers_must_not_run(monkeypatch):
    """Fail if either XLSX reader is reached: the refusal must come first."""

    def reached(*args, **kwargs):
        raise AssertionError("a reader was reached")

    monkeypatch.setattr(excel, "_read_xlsx_calamine", reached)
    monkeypatch.setattr(excel, "read_xlsx_openpyxl", reached)


@pytest.mark.parametrize(("cell", "shown"), [
    ('<c r="ZZZZ9"><v>1</v></c>', "ZZZZ9"),  # the fuzzed mutant: four letters
    ('<c r="zzzz9"><v>1</v></c>', "zzzz9"),  # calamine reads lower case too
    ('<c r="XFE3"><v>1</v></c>', "XFE3"),  # one column past Excel's last
    ('<c r="A1048577"><v>1</v></c>', "A1048577"),  # one row past
    ('<c r="A4294967297"><v>1</v></c>', "A4294967297"),  # wraps to row 1 in 32 bits
    ('<c r="$ZZ$99999999"><v>1</v></c>', "$ZZ$99999999"),  # openpyxl drops the $
    ('<c r="&#65;99999999"><v>1</v></c>', "&#65;99999999"),  # an entity openpyxl decodes
    ("<c r = 'ZZZZ9'><v>1</v></c>", "ZZZZ9"),  # XML allows spaces and single quotes
    ('<c r="A' + "9" * 3000 + '"><v>1</v></c>', "A999"),  # far too long to be a number
])
def test_reference_beyond_excels_grid_is_refused_before_reading(cell, shown,
                                                               readers_must_not_run):
    data = book(HEAD + f'<row r="3">{cell}</row>')
    with pytest.raises(UnreadableFileError, match=r"beyond Excel's last cell XFD1048576") as e:
        spendkit.load("b.xlsx", data=data, source_name="b.xlsx")
    message = str(e.value)
    assert message.startswith("b.xlsx (part 'xl/worksheets/sheet1.xml'): the cell reference")
    assert f"'{shown}" in message and len(message) < 250


@pytest.mark.parametrize("row", ['<row r="99999999"><c><v>1</v></c></row>',
                                 '<row r="\u0669\u0669\u0669\u0669\u0669\u0669\u0669\u0669">'
                                 "<c><v>1</v></c></row>"])
def test_row_numbers_beyond_the_grid_are_refused(row, readers_must_not_run):
    # openpyxl would yield 99,999,999 empty rows (Python's int reads Arabic-Indic digits too).
    with pytest.raises(UnreadableFileError, match="beyond Excel's last cell"):
        spendkit.load("b.xlsx", data=book(HEAD + row), source_name="b.xlsx")


def test_workbook_past_the_cell_limit_is_refused(monkeypatch, readers_must_not_run):
    monkeypatch.setattr(extent, "MAX_WORKBOOK_CELLS", 500)
    with pytest.raises(UnreadableFileError, match=r"span 200 rows × 3 columns \(600 cells in "
                                                  r"all sheets\), more than the limit of 500"):
        spendkit.load("b.xlsx", data=book(HEAD + '<row r="200"><c r="C200"><v>1</v></c></row>'),
                      source_name="b.xlsx")


def test_cells_without_references_are_counted_by_position(monkeypatch, readers_must_not_run):
    # 20,000 unreferenced cells in one row sit in columns C to beyond XFD: with 30 rows that
    # is a rectangle of 30 × 20,003 cells.
    wide = ('<row r="3">' + "<c><v>1</v></c>" * 20_000 + "</row>"
            + "<row><c><v>2</v></c></row>" * 27)
    found = extent.workbook_extent(book(HEAD + wide), "b.xlsx")
    assert (found.sheets[0].rows, found.sheets[0].columns) == (30, 20_003)
    monkeypatch.setattr(extent, "MAX_WORKBOOK_CELLS", 500_000)
    with pytest.raises(UnreadableFileError, match=r"\(600,090 cells in all sheets\), more than"):
        spendkit.load("b.xlsx", data=book(HEAD + wide), source_name="b.xlsx")


def test_a_shared_string_table_declaring_more_than_it_holds_goes_to_openpyxl(monkeypatch):
    # calamine reserves room for uniqueCount strings first: 4e9 of them aborts the process.
    def calamine(*args, **kwargs):
        raise AssertionError("calamine must not open this workbook")

    monkeypatch.setattr(excel, "_read_xlsx_calamine", calamine)
    rows = HEAD + '<row r="3"><c r="A3" t="inlineStr"><is><t>02/05/2019</t></is></c>' \
        '<c r="B3" t="s"><v>0</v></c><c r="C3"><v>7</v></c></row>'
    r = spendkit.load("b.xlsx", data=book(rows, unique_count="4000000000"),
                      source_name="b.xlsx")
    assert list(r.transactions["supplier_name"]) == ["Acme Ltd", "Beta Ltd"]


def test_excel_written_sheets_are_measured_exactly():
    rows = HEAD + '<row r="7"><c r="AB7"><v>1</v></c></row>'
    assert extent.workbook_extent(book(rows), "b.xlsx").sheets[0].cells == 7 * 28


def test_empty_styled_cells_count_for_openpyxl_only(monkeypatch):
    # Formatting a range writes `<c r="…" s="1"/>` for each cell: calamine skips them (no
    # value), openpyxl yields their rows.
    rows = HEAD + '<row r="90000"><c r="Z90000" s="1"/></row>'
    sheet = extent.workbook_extent(book(rows), "b.xlsx").sheets[0]
    assert (sheet.rows, sheet.columns, sheet.all_rows, sheet.all_columns) == (2, 3, 90000, 26)
    monkeypatch.setattr(extent, "MAX_REFERENCE_CELLS", 1000)
    with pytest.raises(UnreadableFileError, match="read by openpyxl"):
        excel.read_xlsx_openpyxl(book(rows), "b.xlsx")
    assert spendkit.load("b.xlsx", data=book(rows), source_name="b.xlsx").ledger.rows_kept == 1


_ref = st.tuples(st.integers(1, 60), st.integers(1, 40))


@settings(max_examples=100)
@given(st.lists(st.tuples(st.booleans(), st.lists(st.tuples(st.booleans(), _ref), min_size=1,
                                                    max_size=6)), min_size=1, max_size=8))
def test_the_measured_extent_never_falls_short_of_calamines(layout):
    """Rows and cells with or without references, some empty, in any order: calamine's
    rectangle (from A1) always fits inside the measured extent."""
    from python_calamine import CalamineWorkbook

    def letters(n: int) -> str:
        out = ""
        while n:
            n, k = divmod(n - 1, 26)
            out = chr(65 + k) + out
        return out

    xml = ""
    for row_numbered, cells in layout:
        row_at = max(r for _, (r, _c) in cells)
        xml += f'<row r="{row_at}">' if row_numbered else "<row>"
        for k, (numbered, (r, c)) in enumerate(cells):
            if numbered and k % 3 == 2:  # an empty styled cell: calamine skips it
                xml += f'<c r="{letters(c)}{r}" s="1"/>'
            else:
                xml += (f'<c r="{letters(c)}{r}"><v>1</v></c>' if numbered
                        else "<c><v>1</v></c>")
        xml += "</row>"
    data = book(xml)
    measured = extent.workbook_extent(data, "b.xlsx").sheets[0]
    try:
        values = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(
            "S").to_python(skip_empty_area=False)
    except Exception:  # noqa: BLE001 - a layout calamine refuses allocates nothing
        return
    if values:
        assert len(values) <= measured.rows and len(values[0]) <= measured.columns


def test_a_workbook_of_too_many_sheets_is_refused(monkeypatch, readers_must_not_run):
    import openpyxl

    monkeypatch.setattr(extent, "MAX_SHEETS", 2)
    wb = openpyxl.Workbook()
    for i in range(2):
        wb.create_sheet(f"S{i}")
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(UnreadableFileError, match=r"^b\.xlsx: holds more than 2 worksheets"):
        spendkit.load("b.xlsx", data=buf.getvalue(), source_name="b.xlsx")


def test_unclosed_error_cells_do_not_make_the_sheet_scan_quadratic():
    # 20,000 error cells with no closing tag (varied, so they are not refused as a ZIP bomb):
    # the scan of error cells once searched to the end of the sheet for each.
    cells = "".join(f'<c r="A{(i * 7919) % 9973 + 3}" t="e">x{i * 104729 % 1000003}'
                    for i in range(20_000))
    with pytest.raises(UnreadableFileError, match="not a readable XLSX workbook"):
        spendkit.load("b.xlsx", data=book(HEAD + f'<row r="3">{cells}</row>'),
                      source_name="b.xlsx")
    # … while well-formed error cells are still found
    assert excel._ERROR_CELL.findall(b'<c r="B8" t="e"><v>#N/A</v></c><c r="C8"><v>1</v></c>'
                                     ) == [(b'r="B8" t="e"', b"<v>#N/A</v>")]
