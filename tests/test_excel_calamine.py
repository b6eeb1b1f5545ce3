"""Excel through python-calamine (issue #21): openpyxl's values, the sheet's own rows, and the
limits counted from the worksheet's XML before calamine builds anything.

The reference is the reader before #21 (openpyxl read-only, every row from sheet row 1);
workbooks come from openpyxl, pandas and hand-written XML, and hypothesis draws their cells.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hostile_files import xlsx_shared_strings_bomb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from pilotzone import _read_excel, _readers
from pilotzone._columns import is_blank
from pilotzone._raw import Raw, from_rows
from pilotzone.errors import InputError
from pilotzone.facilities import read_facilities

LIMIT = 2**30
HEADER = ["operator_id", "facility_id", "kind", "lon", "lat", "crs", "name", "capacity"]
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def openpyxl_read_excel(data: bytes, name: str, sheet: str | int | None, limit: int) -> Raw:
    """The values as the reader before #21 read them: openpyxl, read-only, from sheet row 1."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        worksheet = book.worksheets[0] if sheet is None else book[str(sheet)]
        worksheet.reset_dimensions()
        rows = [list(row) for row in worksheet.iter_rows(values_only=True)]
    finally:
        book.close()
    width = max((len(row) for row in rows), default=1)
    return from_rows([row + [None] * (width - len(row)) for row in rows], name, text=False)


def typed(raw: Raw) -> list[list[tuple[str, Any]]]:
    """Each cell of a Raw's frame with its type: 1 and 1.0 differ, as do a date and datetime.

    Text of only spaces is None: calamine reads it as empty, and it is blank to every check.
    """
    return [
        [
            ("NoneType", None)
            if is_blank(v) and not isinstance(v, float)
            else (type(v).__name__, "NaN" if v != v else v)
            for v in raw.frame.iloc[:, i]
        ]
        for i in range(raw.frame.shape[1])
    ]


def assert_same_reading(data: bytes, tmp_path: Path) -> None:
    """calamine and openpyxl read ``data`` alike: the raw cells and read_facilities' frame."""
    new = _read_excel.read_excel(data, "filing.xlsx", None, LIMIT)
    old = openpyxl_read_excel(data, "filing.xlsx", None, LIMIT)
    assert list(new.frame.columns) == list(old.frame.columns)
    assert typed(new) == typed(old)
    assert (new.header_row, list(new.numbers or [])) == (old.header_row, list(old.numbers or []))
    path = tmp_path / "filing.xlsx"
    path.write_bytes(data)
    outcomes = []
    for reader in (_read_excel.read_excel, openpyxl_read_excel):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_readers, "read_excel", reader)
            try:
                outcomes.append(read_facilities(path, max_bytes=LIMIT))
            except InputError as error:
                outcomes.append(str(error))
    if isinstance(outcomes[0], str) or isinstance(outcomes[1], str):
        assert outcomes[0] == outcomes[1]
        return
    pd.testing.assert_frame_equal(outcomes[0], outcomes[1])
    assert outcomes[0].attrs["header_row"] == outcomes[1].attrs["header_row"]


def saved(book: openpyxl.Workbook) -> bytes:
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


# --------------------------------------------------------------------------- values

TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from("中国电信机房　Ａ１"),
    max_size=12,
).map(lambda text: ILLEGAL_CHARACTERS_RE.sub("", text))
CELL = st.one_of(
    st.none(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    TEXT,
    st.sampled_from(["", " ", "1", "1.0", "0001", "#N/A", "=1+1", "114.1", "wgs84", "idc"]),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.times().map(lambda t: t.replace(microsecond=0)),
    st.sampled_from([("error", "#N/A"), ("error", "#DIV/0!"), ("error", "#VALUE!")]),
)


#: Cells as a plain sheet holds them, read by the byte searches: no error, no number written
#: with an exponent or a point before zeros, none beyond a double's precision.
PLAIN_CELL = st.one_of(
    st.none(),
    st.integers(-(10**15) + 1, 10**15 - 1),
    st.floats(-1e6, 1e6).filter(lambda f: not f.is_integer() and "e" not in repr(f)),
    st.booleans(),
    TEXT.filter(lambda text: not text.isspace()),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)),
)


@st.composite
def workbooks(draw: st.DrawFn, cells: st.SearchStrategy[Any] = CELL) -> bytes:
    """A filing worksheet: title and empty rows above the header, cells of every kind."""
    book = openpyxl.Workbook()
    sheet = book.active
    top = draw(st.integers(0, 3))  # title or empty rows above the header
    left = draw(st.integers(0, 2))  # empty columns left of the table
    if top and draw(st.booleans()):
        sheet.cell(1, left + 1, "2024 年增值电信业务试点备案")
    for column, label in enumerate(HEADER):
        sheet.cell(top + 1, left + column + 1, label)
    for row in range(draw(st.integers(0, 5))):
        for column in range(len(HEADER)):
            value = draw(cells)
            cell = sheet.cell(top + row + 2, left + column + 1)
            if isinstance(value, tuple):  # an error cell, as a spreadsheet program saves it
                cell.value, cell.data_type = value[1], "e"
            elif value is not None:
                cell.value = value
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # the text, not a formula
    return saved(book)


@SETTINGS
@given(data=st.one_of(workbooks(), workbooks(PLAIN_CELL)))
def test_calamine_reads_what_openpyxl_reads(tmp_path: Path, data: bytes) -> None:
    assert_same_reading(data, tmp_path)


@pytest.mark.parametrize(
    "value",
    [1, -3, 0, 2**53, -(2**40), 1.5, 1e20, 1e-7, 0.1 + 0.2, True, False, "中国电信", "",
     dt.date(2024, 4, 8), dt.datetime(2024, 4, 8, 12, 30, 15), dt.time(13, 45, 30)],
)  # fmt: skip
def test_each_kind_of_value_reads_as_openpyxl_reads_it(tmp_path: Path, value: Any) -> None:
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(["OP1", value, "idc", 121.5, 31.2, "wgs84", value, value])
    assert_same_reading(saved(book), tmp_path)


def test_a_workbook_written_by_pandas_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "operator_id": ["OP1", "OP2", "OP3"],
            "facility_id": [1, 2, 12345678901234],
            "kind": ["idc", "cdn", "isp"],
            "lon": [121.5, 114, -0.5],
            "lat": [31.2, 22, 0.0],
            "crs": ["wgs84", "gcj02", "bd09"],
            "name": ["机房", None, ""],
            "capacity": [1.0, 2.5, float("nan")],
            "filed": [dt.datetime(2024, 4, 8), dt.datetime(2024, 4, 9, 10), None],
        }
    )
    stream = io.BytesIO()
    frame.to_excel(stream, index=False)
    assert_same_reading(stream.getvalue(), tmp_path)


def with_sheet_xml(data: bytes, change: Any, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    """The workbook ``data`` with its worksheet XML passed through ``change``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry)
            target.writestr(entry, change(content) if entry.filename == part else content)
    return stream.getvalue()


def test_numbers_as_written_in_the_xml(tmp_path: Path) -> None:
    """openpyxl reads "1.0" and "1E3" as floats and a 20-digit integer exactly; calamine gives
    doubles for all three: the reader gives what openpyxl gives."""
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(["OP1", 7, "idc", 121.5, 31.2, "wgs84", 8, 9])
    data = with_sheet_xml(
        saved(book),
        lambda xml: (
            xml.replace(b"<v>7</v>", b"<v>12345678901234567890</v>")
            .replace(b"<v>8</v>", b"<v>1.0</v>")
            .replace(b"<v>9</v>", b"<v>1E3</v>")
        ),
    )
    raw = _read_excel.read_excel(data, "f.xlsx", None, LIMIT)
    assert raw.frame["facility_id"].tolist() == [12345678901234567890]
    assert [type(v) for v in raw.frame[["name", "capacity"]].iloc[0]] == [float, float]
    assert_same_reading(data, tmp_path)


def test_error_cells_read_as_their_text(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(["OP1", "F1", "idc", "#N/A", "#DIV/0!", "wgs84"])
    for cell in ("D2", "E2"):
        book.active[cell].data_type = "e"
    data = saved(book)
    raw = _read_excel.read_excel(data, "f.xlsx", None, LIMIT)
    assert raw.frame[["lon", "lat"]].iloc[0].tolist() == ["#N/A", "#DIV/0!"]
    assert_same_reading(data, tmp_path)


# --------------------------------------------------------------------------- rows and columns


def test_a_table_below_and_right_of_a1_keeps_the_sheets_row_numbers(tmp_path: Path) -> None:
    """calamine's used range starts at the first cell in use (C4 here): the rows still count
    from sheet row 1, as openpyxl counted them."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.cell(4, 3, "operator_id")
    for column, label in enumerate(HEADER[1:], start=4):
        sheet.cell(4, column, label)
    for row in (5, 7):
        for column, value in enumerate(["OP1", f"F{row}", "idc", 121.5, 31.2, "wgs84"], start=3):
            sheet.cell(row, column, value)
    path = tmp_path / "offset.xlsx"
    book.save(path)
    sites = read_facilities(path)
    assert sites.attrs["header_row"] == 4
    assert sites["source_row"].tolist() == [5, 6, 7]
    assert_same_reading(path.read_bytes(), tmp_path)


# --------------------------------------------------------------------------- limits


#: One value in XFD1048576: calamine would build 17 billion cells.
FAR_ROW = b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>'


def plain_workbook(rows: int = 3) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    for i in range(rows):
        book.active.append(["OP1", f"F{i}", "idc", 121.5, 31.2, "wgs84", "机房", i])
    return saved(book)


#: Ways of writing the same worksheet that the byte searches do not read: the cell-by-cell
#: scan counts them, and the values are those of the plain form.
UNPLAIN = {
    "no cell references": lambda xml: re.sub(rb'<c r="[A-Z]+[0-9]+"', b"<c", xml),
    "single quotes": lambda xml: re.sub(rb'\b([rt])="([^"]*)"', rb"\1='\2'", xml),
    "a namespace prefix": lambda xml: re.sub(rb"<(/?)(c|v|is|t|row)\b", rb"<\1x:\2", xml).replace(
        b"<worksheet ",
        b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ',
    ),
    "a non-ASCII prefix": lambda xml: re.sub(
        rb"<(/?)(c|v|is|t|row)\b", "<\\1é:\\2".encode(), xml
    ).replace(
        b"<worksheet ",
        '<worksheet xmlns:é="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '.encode(),
    ),
    "a comment": lambda xml: xml.replace(b"<sheetData>", b"<sheetData><!-- c -->"),
    "a space before >": lambda xml: re.sub(rb"(<c [^>]*?[^/ ])>", rb"\1 >", xml),
}


@pytest.mark.parametrize("change", UNPLAIN.values(), ids=UNPLAIN.keys())
def test_worksheets_written_otherwise_read_alike_by_the_cell_scan(
    change: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = plain_workbook()
    data = with_sheet_xml(plain, change)
    xml = zipfile.ZipFile(io.BytesIO(plain)).read("xl/worksheets/sheet1.xml")
    assert _read_excel._plain_bounds(xml, _read_excel._Strings()) == (4, 8, len(xml))
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert _read_excel._plain_bounds(xml, _read_excel._Strings()) is None
    assert typed(_read_excel.read_excel(data, "f.xlsx", None, LIMIT)) == typed(
        _read_excel.read_excel(plain, "f.xlsx", None, LIMIT)
    )


@SETTINGS
@given(data=st.one_of(workbooks(), workbooks(PLAIN_CELL)))
def test_the_byte_searches_bound_what_the_cell_scan_counts(data: bytes) -> None:
    """Where the byte searches read a worksheet, their rows, columns and text are at least
    those the cell-by-cell scan counts, and those at least openpyxl's rows, widest row and
    text."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    xml = archive.read("xl/worksheets/sheet1.xml")
    strings = _read_excel._shared_strings(archive, _read_excel._entries(archive, "f"), "f")
    scan = _read_excel._SheetScan(strings, "f.xlsx", "Sheet", LIMIT)
    _read_excel._parse(xml, scan.start, scan.data, "f.xlsx", "sheet1.xml")
    scan.finish()
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    book.active.reset_dimensions()
    rows = [row for row in book.active.iter_rows(values_only=True)]
    text = sum(len(cell) for row in rows for cell in row if isinstance(cell, str))
    assert (scan.height, scan.width) == (len(rows), max(map(len, rows)))
    assert scan.text >= text
    bounds = _read_excel._plain_bounds(xml, strings)
    if bounds is not None:
        assert bounds[0] >= scan.height and bounds[1] >= scan.width and bounds[2] >= scan.text


class NeverBuilt:
    """Stands in for python-calamine's workbook: names the sheets, refuses to build one."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def from_filelike(self, source: Any) -> Any:
        book = self.real.from_filelike(source)

        class Book:
            sheets_metadata = book.sheets_metadata

            def get_sheet_by_name(self, name: str) -> Any:
                raise AssertionError("calamine built a worksheet that is over the limits")

            def close(self) -> None:
                book.close()

        return Book()


def never_build_a_sheet(patch: pytest.MonkeyPatch) -> None:
    """From now on python-calamine names a workbook's sheets but refuses to build one."""
    import python_calamine

    patch.setattr(python_calamine, "CalamineWorkbook", NeverBuilt(python_calamine.CalamineWorkbook))


@pytest.mark.parametrize("change", [None, *UNPLAIN.values()], ids=["plain", *UNPLAIN.keys()])
def test_a_shared_strings_bomb_is_refused_before_calamine_builds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Any
) -> None:
    path = xlsx_shared_strings_bomb(tmp_path / "bomb.xlsx", length=2**16, uses=100)
    if change is not None:
        path.write_bytes(with_sheet_xml(path.read_bytes(), change))
    never_build_a_sheet(monkeypatch)
    with pytest.raises(InputError, match="the text of worksheet 'Sheet1' is at least"):
        read_facilities(path, max_bytes=2**20)


def test_a_bomb_behind_a_short_first_value_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """calamine takes a cell's last value: "<v>6</v><v>9</v>" reads the long string 9."""
    path = xlsx_shared_strings_bomb(tmp_path / "bomb.xlsx", length=2**16, uses=100)
    path.write_bytes(
        with_sheet_xml(path.read_bytes(), lambda xml: xml.replace(b"<v>9</v>", b"<v>6</v><v>9</v>"))
    )
    never_build_a_sheet(monkeypatch)
    with pytest.raises(InputError, match="the text of worksheet 'Sheet1' is at least"):
        read_facilities(path, max_bytes=2**20)


def test_a_shared_string_inside_another_bounds_every_string() -> None:
    """Nested strings may be numbered otherwise by calamine: each is bounded by them all."""
    table = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>a</t><si><t>bb</t></si></si><si><t>ccc</t></si></sst>"
    )
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("xl/sharedStrings.xml", table)
    archive = zipfile.ZipFile(stream)
    strings = _read_excel._shared_strings(archive, _read_excel._entries(archive, "f"), "f")
    assert strings.lengths == [6, 6, 6]


def test_a_far_cell_is_refused_before_calamine_builds_the_grid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One value in XFD1048576 would make calamine allocate 17 billion cells."""
    for name, change in [("plain", None), *UNPLAIN.items()]:
        data = plain_workbook()
        if change is not None:
            data = with_sheet_xml(data, change)
        data = with_sheet_xml(data, lambda xml: xml.replace(b"</sheetData>", FAR_ROW))
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        with monkeypatch.context() as patch:
            never_build_a_sheet(patch)
            with pytest.raises(InputError, match="the worksheet has more than"):
                read_facilities(path, max_bytes=2**30)


@pytest.mark.parametrize(
    ("target", "read"),
    [
        ("/xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
        ("worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
        ("xl/worksheets/sheet1.xml", "xl/xl/worksheets/sheet1.xml"),
        ("/worksheets/sheet1.xml", "worksheets/sheet1.xml"),
    ],
)
def test_the_sheet_bounded_is_the_one_calamine_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, read: str
) -> None:
    """A workbook may hold a harmless sheet where a reader might look and a far cell where
    calamine looks: the part bounded is calamine's, so the far cell is refused."""
    data = plain_workbook()
    far = with_sheet_xml(data, lambda xml: xml.replace(b"</sheetData>", FAR_ROW))
    sheet = zipfile.ZipFile(io.BytesIO(far)).read("xl/worksheets/sheet1.xml")
    stream = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(stream, "w") as target_zip:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "xl/_rels/workbook.xml.rels":
                content = re.sub(
                    rb'Target="[^"]*sheet1.xml"', f'Target="{target}"'.encode(), content
                )
            if entry.filename != read:
                target_zip.writestr(entry, content)
        target_zip.writestr(read, sheet)
    path = tmp_path / "two.xlsx"
    path.write_bytes(stream.getvalue())
    never_build_a_sheet(monkeypatch)
    with pytest.raises(InputError, match="the worksheet has more than"):
        read_facilities(path, max_bytes=2**30)


def test_a_sheet_is_found_by_the_id_calamine_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """calamine takes a sheet's last attribute named id, whatever its prefix: with r:id
    naming a harmless part and x:id after it a far cell, the far cell is refused."""
    data = plain_workbook()
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    data = with_sheet_xml(
        data,
        lambda xml: re.sub(rb"(<sheet [^>]*?)\s*/>", rb'\1 xmlns:x="urn:x" x:id="rId9" />', xml),
        part="xl/workbook.xml",
    )
    data = with_sheet_xml(
        data,
        lambda xml: xml.replace(
            b"</Relationships>",
            b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/worksheet" Target="/xl/worksheets/far.xml" Id="rId9" />'
            b"</Relationships>",
        ),
        part="xl/_rels/workbook.xml.rels",
    )
    stream = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(stream, "w") as target:
        for entry in source.infolist():
            target.writestr(entry, source.read(entry))
        target.writestr("xl/worksheets/far.xml", sheet.replace(b"</sheetData>", FAR_ROW))
    path = tmp_path / "ids.xlsx"
    path.write_bytes(stream.getvalue())
    never_build_a_sheet(monkeypatch)
    with pytest.raises(InputError, match="the worksheet has more than"):
        read_facilities(path, max_bytes=2**30)


def test_two_parts_whose_names_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    """calamine finds a part ignoring case and takes the last that matches: with
    xl/worksheets/SHEET1.xml after sheet1.xml it reads the second, whatever the scan read."""
    data = plain_workbook()
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    stream = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(stream, "w") as target:
        for entry in source.infolist():
            target.writestr(entry, source.read(entry))
        target.writestr("xl/worksheets/SHEET1.xml", sheet.replace(b"</sheetData>", FAR_ROW))
    path = tmp_path / "case.xlsx"
    path.write_bytes(stream.getvalue())
    with pytest.raises(InputError, match="names that readers may take for one"):
        read_facilities(path, max_bytes=2**30)


def test_a_worksheet_in_utf16_without_a_bom_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its bytes start with "<" and hold no "<c" a byte search would see."""

    def utf16(xml: bytes) -> bytes:
        text = xml.decode("utf-8").replace("</sheetData>", FAR_ROW.decode())
        text = re.sub(r"^<\?xml[^>]*\?>", "", text)
        return ('<?xml version="1.0" encoding="UTF-16"?>' + text).encode("utf-16-le")

    path = tmp_path / "utf16.xlsx"
    path.write_bytes(with_sheet_xml(plain_workbook(), utf16))
    never_build_a_sheet(monkeypatch)
    with pytest.raises(InputError, match="the worksheet has more than"):
        read_facilities(path, max_bytes=2**30)


def test_two_sheets_of_one_name_are_refused(tmp_path: Path) -> None:
    """calamine would read the first, and a lookup by name perhaps the second."""
    twice = with_sheet_xml(
        plain_workbook(),
        lambda xml: re.sub(rb"(<sheets>)(.*?)(</sheets>)", rb"\1\2\2\3", xml),
        part="xl/workbook.xml",
    )
    path = tmp_path / "twice.xlsx"
    path.write_bytes(twice)
    with pytest.raises(InputError, match="the workbook has two sheets named 'Sheet'"):
        read_facilities(path)


def test_a_worksheet_with_a_doctype_is_refused(tmp_path: Path) -> None:
    data = with_sheet_xml(
        plain_workbook(),
        lambda xml: re.sub(
            rb"^(<\?xml[^>]*\?>)?", rb'\1<!DOCTYPE worksheet [<!ENTITY x "xx">]>', xml, count=1
        ),
    )
    path = tmp_path / "doctype.xlsx"
    path.write_bytes(data)
    with pytest.raises(InputError, match=r"doctype\.xlsx: .*DOCTYPE, which pilotzone refuses"):
        read_facilities(path)


def test_a_workbook_without_formulas_is_read_without_openpyxl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openpyxl reads a sheet at about a tenth of calamine's speed: it only checks formulas."""
    path = tmp_path / "plain.xlsx"
    path.write_bytes(plain_workbook())

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("openpyxl read the workbook")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    assert read_facilities(path)["facility_id"].tolist() == ["F0", "F1", "F2"]
