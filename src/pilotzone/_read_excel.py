"""The Excel reader (.xlsx, .xlsm): one worksheet's cached values, within the size limit.

The values are read by python-calamine (Rust), which builds a whole worksheet
at once and copies a shared string into every cell that uses it. So the
worksheet's XML is bounded first, against the limits of before (rows x widest
row, and the text with each shared string counted at every cell using it):
by byte searches where the XML is written plainly (:func:`_plain_bounds`),
else by an expat scan cell by cell, no DOCTYPE (:class:`_SheetScan`), which
also notes the cells calamine reads otherwise than openpyxl (an error's text,
a number written with a point or an exponent or beyond a double's precision,
text of only spaces). The values are those openpyxl gives (:func:`_value`):
the integer the XML holds, a date as datetime, an empty cell as None.
openpyxl only checks formulas, where the chosen sheet has one.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any
from xml.parsers import expat

from pilotzone._columns import is_blank
from pilotzone._messages import Reason
from pilotzone._raw import BYTES_PER_CELL, Raw, from_rows, sheet_position, too_large, whole
from pilotzone.errors import InputError, Problem

#: A formula element in a worksheet's XML (``<f>``, ``<f t="shared" .../>``, ``<x:f>``).
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
#: Where calamine finds the shared strings, the workbook and its relationships.
_STRINGS = "xl/sharedStrings.xml"
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
#: Digits beyond which a double does not hold every integer (2**53 has 16).
_EXACT_DIGITS = 15


def read_excel(data: bytes, name: str, sheet: str | int | None, limit: int) -> Raw:
    """An .xlsx/.xlsm workbook's bytes -> Raw, from one worksheet's cached values."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            names = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
            if not names:
                raise whole(name, "the workbook has no worksheet")
            position = 0 if sheet is None else sheet_position(names, sheet, name, "worksheet")
            entries = _entries(archive, name)
            parts = _sheet_parts(archive, entries, name)
            strings = _shared_strings(archive, entries, name)
            rows, formulas = _values(book, archive, parts, names[position], strings, name, limit)
            if sheet is None and not _holds_data(rows):
                filled = next(
                    (
                        other
                        for other in names[1:]
                        if _holds_data(
                            _values(book, archive, parts, other, strings, name, limit)[0]
                        )
                    ),
                    None,
                )
                if filled is not None:
                    raise whole(
                        name,
                        f"the first worksheet, {names[0]!r}, is empty; worksheet {filled!r} "
                        f"holds data: read it with read_facilities(..., sheet={filled!r}) or "
                        f"pilotzone verify FILE --sheet {filled!r}",
                    )
        finally:
            book.close()
    if formulas:
        _check_cached_values(data, names[position], rows, name)
    return from_rows(rows, name, text=False)


def _values(
    book: Any,
    archive: zipfile.ZipFile,
    parts: dict[str, str],
    title: str,
    strings: _Strings,
    name: str,
    limit: int,
) -> tuple[list[list[Any]], bool]:
    """The worksheet ``title``'s values (from sheet row 1, column A); whether it has a formula.

    Its XML is scanned, and refused over the limits, before calamine builds it.
    """
    part = parts.get(title)
    if not part:
        raise whole(name, f"the workbook names no part for worksheet {title!r}")
    xml = archive.read(part)  # its unpacked size is within the limit (_check_unpacked)
    exact: dict[tuple[int, int], Any] = {}
    bounds = _plain_bounds(xml, strings)
    if bounds is None or bounds[0] * bounds[1] > limit // BYTES_PER_CELL or bounds[2] > limit:
        scan = _SheetScan(strings, name, title, limit)
        _parse(xml, scan.start, scan.data, name, part)
        scan.finish()
        exact = scan.exact
    rows = book.get_sheet_by_name(title).to_python(skip_empty_area=False)
    values = [list(map(_value, row)) for row in rows]
    for (row, column), value in exact.items():
        cells = values[row - 1] if row <= len(values) else []
        # an error's text; a number as written, where calamine read a number (not a date)
        if column <= len(cells) and (
            isinstance(value, str) or type(cells[column - 1]) in (int, float)
        ):
            cells[column - 1] = value
    return values, _FORMULA.search(xml) is not None


# What :func:`_plain_bounds` reads: the rows of <sheetData> as Excel, LibreOffice, openpyxl
# and XlsxWriter write them, every byte in this grammar. No "<" lies outside a tag it names
# (text and attributes exclude it), so each cell calamine can see is one of its cells.
_REF = rb"[A-Z]{1,3}[1-9][0-9]{0,6}"
_TEXT = rb'<t(?: xml:space="preserve")?>[^<]*+</t>'
_RUN = rb"<r>(?:<rPr>(?:<[A-Za-z]++(?: [^<>]*+)?/>)*+</rPr>)?" + _TEXT + rb"</r>"
_CELL = (
    rb'<c r="' + _REF + rb'"(?: s="[0-9]{1,6}")?(?:'
    rb' t="s"(?: ?/>|><v>[0-9]{1,9}</v></c>)'  # one index, then the end: see _SHARED
    rb'| t="inlineStr"(?: ?/>|><is>(?:' + _TEXT + rb"|(?:" + _RUN + rb")++)</is></c>)"
    rb'|(?: t="(?:n|b|str|d)")?(?: ?/>|>(?:<f(?: [^<>]*+)?(?:/>|>[^<]*+</f>))?'
    rb"(?:<v>[^<]*+</v>)?</c>))"
)
_PLAIN_ROWS = re.compile(
    rb'(?:<row r="[1-9][0-9]{0,6}"(?: [^<>]*+)?(?:/>|>(?:' + _CELL + rb")*+</row>))*+"
)
#: Values calamine reads otherwise than openpyxl: a number written with a point or an
#: exponent or beyond a double's precision, text of only spaces (calamine reads it as empty).
_UNPLAIN_VALUES = (
    re.compile(rb"<v>(?:[^<]*[eE]|-?[0-9]+\.0*<|-?[0-9]{16})"),
    re.compile(rb"<([tv])(?: [^>]*)?>\s+</\1>"),
)
_COLUMNS = re.compile(rb'<c r="([A-Z]{1,3})')
_ROWS = re.compile(rb'<row r="([1-9][0-9]{0,6})"')
_SHARED = re.compile(rb' t="s"><v>([0-9]{1,9})</v></c>')
_DECLARATION = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["'][^>]*\?>""")


class _Found(Exception):
    pass


def _sheet_data(xml: bytes) -> tuple[int, int] | None:
    """Where the content of a worksheet's first ``<sheetData>`` starts and ends.

    The first is the only one calamine reads; expat finds its start, past any
    comment or prefixed element. None where it is written otherwise than
    ``<sheetData>``, or there is none.
    """
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_doctype
    where: list[int] = []

    def start(tag: str, _: dict[str, str]) -> None:
        if tag.rpartition(":")[2] == "sheetData":
            where.append(parser.CurrentByteIndex)
            raise _Found

    parser.StartElementHandler = start
    try:
        parser.Parse(xml, True)
    except _Found:
        pass
    except (expat.ExpatError, _DoctypeForbidden, ValueError):
        return None
    if not where or not xml.startswith(b"<sheetData>", where[0]):
        return None
    start_at = where[0] + len(b"<sheetData>")
    end = xml.find(b"</sheetData>", start_at)
    return None if end < 0 else (start_at, end)


def _plain_bounds(xml: bytes, strings: _Strings) -> tuple[int, int, int] | None:
    """Upper bounds of a worksheet's rows, columns and text, read without parsing each cell.

    Searches of the XML as bytes, each run in C, once its ``<sheetData>`` is
    found all in the grammar above: the rows and the columns are the largest
    references, the text is the shared strings' lengths at every cell that
    uses them plus the XML's own size (a bound of its other text). None where
    the XML is not UTF-8, not in the grammar, or holds a value calamine reads
    otherwise than openpyxl: the cell-by-cell scan then runs.
    """
    declared = _DECLARATION.match(xml)
    if declared and declared[1].lower() not in (b"utf-8", b"utf8"):
        return None
    if b"\x00" in xml:  # UTF-16 (expat would decode it, the searches would not)
        return None
    region = _sheet_data(xml)
    if region is None or not _PLAIN_ROWS.fullmatch(xml, *region):
        return None
    if any(p.search(xml, *region) for p in _UNPLAIN_VALUES):
        return None
    shared = list(map(int, _SHARED.findall(xml, *region)))
    if strings.spaces and not strings.spaces.keys().isdisjoint(shared):
        return None
    try:
        text = sum(map(strings.lengths.__getitem__, shared))
    except IndexError:
        return None
    letters = set(_COLUMNS.findall(xml, *region))
    width = max((_column_number(c.decode()) for c in letters), default=0)
    height = max(map(int, _ROWS.findall(xml, *region)), default=0)
    # A cell below the lowest row element has a row number of at least as many digits.
    longer = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{%d,7})"' % max(len(str(height)), 1))
    height = max([height, *map(int, longer.findall(xml, *region))])
    return height, width, text + len(xml)


def _value(cell: Any) -> Any:
    """A calamine cell as openpyxl gives it: an integral number as int, a date as datetime."""
    kind = type(cell)
    if kind is float:
        return int(cell) if cell.is_integer() else cell
    if kind is str:
        return cell if cell else None  # calamine gives '' for an empty or error cell
    if kind is dt.date:
        return dt.datetime(cell.year, cell.month, cell.day)
    return cell


def _holds_data(rows: list[list[Any]]) -> bool:
    """Whether a worksheet's values have a cell that is not blank."""
    return any(not is_blank(cell) for row in rows for cell in row)


class _SheetScan:
    """Counts a worksheet's cells and text from its XML, and notes the cells to read exactly.

    The handlers of an expat parser. A cell's position is its reference
    (``r="B7"``), else the next column of the current row, as calamine places it;
    a row without ``r`` follows the previous one.
    """

    def __init__(self, strings: _Strings, name: str, title: str, limit: int) -> None:
        self.lengths, self.spaces = strings.lengths, strings.spaces
        self.name, self.title, self.limit = name, title, limit
        self.height = 0  # the lowest row seen (from 1), with or without cells
        self.width = 0  # the rightmost column seen (from 1)
        self.text = 0  # characters of text, each shared string counted at every cell using it
        self.row = 0
        self.row_text = ""  # the current row's r attribute, as written
        self.column = 0
        self.columns: dict[str, int] = {}  # column letters -> number
        self.where = (0, 0)
        self.kind = "n"
        self.collect = False
        self.pieces: list[str] = []
        #: Cells whose value is not calamine's: the text of error cells, numbers as written.
        self.exact: dict[tuple[int, int], Any] = {}

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        """An element starts: a row, a cell, or the value or text of a cell."""
        if ":" in tag:
            tag = tag.rpartition(":")[2]
        if tag == "v" or tag == "t":
            if tag == "v":
                self.finish()  # a cell of several values: each is counted
            self.collect = True
            return
        self.collect = False
        if tag == "c":
            self.finish()
            reference = attributes.get("r")
            if reference:
                letters = reference.rstrip("0123456789")
                digits = reference[len(letters) :]
                row = self.row if digits == self.row_text else _number(digits, self.row, self)
                column = self.columns.get(letters) if letters else self.column + 1
                if column is None:
                    if not (letters.isascii() and letters.isalpha()):
                        raise whole(self.name, f"worksheet {self.title!r}: bad cell {reference!r}")
                    column = self.columns[letters] = _column_number(letters)
            else:
                row, column = self.row, self.column + 1
            self.column = column
            self.where = (row, column)
            self.kind = attributes.get("t", "n")
            if column > self.width or row > self.height:
                self.width, self.height = max(self.width, column), max(self.height, row)
                _check_cells(self.height, self.width, self.name, self.limit)
        elif tag == "row":
            self.finish()
            number = attributes.get("r")
            self.row = _number(number, self.row, self) if number else self.row + 1
            self.row_text = number or ""
            self.column = 0
            if self.row > self.height:
                self.height = self.row
                _check_cells(self.height, max(self.width, 1), self.name, self.limit)

    def data(self, text: str) -> None:
        """Character data: kept where it is a cell's value or text."""
        if self.collect:
            self.pieces.append(text)

    def finish(self) -> None:
        """The cell before ends: count its text, note its value where calamine's differs."""
        if not self.pieces:
            return
        value = "".join(self.pieces)
        self.pieces = []
        kind = self.kind
        if kind == "s":
            index = int(value) if value.strip().isdigit() else -1
            self.text += self.lengths[index] if 0 <= index < len(self.lengths) else 0
            if index in self.spaces:
                self.exact[self.where] = self.spaces[index]
        elif kind == "e":
            self.text += len(value)
            self.exact[self.where] = value
        elif kind in ("n", "") and value:
            if "." in value or "e" in value or "E" in value:
                number = _float(value)
                if number is not None and number.is_integer():
                    self.exact[self.where] = number  # openpyxl keeps a float where "1.0" is written
            elif (
                len(value.strip().lstrip("+-")) > _EXACT_DIGITS
                and value.strip().lstrip("+-").isdigit()
            ):
                self.exact[self.where] = int(value)  # the integer written, not its double
        elif kind != "b":
            self.text += len(value)  # inline strings, formula strings
            if value.isspace():
                self.exact[self.where] = value  # calamine reads text of only spaces as empty
        if self.text > self.limit:
            what = Reason("size_sheet", {"sheet": self.title})
            raise too_large(self.name, what, self.text, self.limit)


def _float(text: str) -> float | None:
    """A number's text as a float; None where it is not one."""
    try:
        return float(text)
    except ValueError:
        return None


def _number(digits: str, default: int, scan: _SheetScan) -> int:
    """A row number as written in a reference; ``default`` where none is written."""
    if not digits:
        return default
    if not digits.strip().isdigit():
        raise whole(scan.name, f"worksheet {scan.title!r}: bad row number {digits!r}")
    return int(digits)


def _column_number(letters: str) -> int:
    """A column's letters -> its number from 1 (``A`` 1, ``AB`` 28)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


class _DoctypeForbidden(Exception):
    pass


def _refuse_doctype(*_: Any) -> None:
    raise _DoctypeForbidden


def _parse(
    source: IO[bytes] | bytes,
    start: Any,
    data: Any,
    name: str,
    part: str,
    *,
    end: Any = None,
) -> None:
    """Stream the XML ``part`` of a workbook through the handlers; refuse a DOCTYPE."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if data is not None:
        parser.CharacterDataHandler = data
    try:
        if isinstance(source, bytes):
            parser.Parse(source, True)
        else:
            parser.ParseFile(source)
    except _DoctypeForbidden:
        raise whole(name, f"{part} has a DOCTYPE, which pilotzone refuses to read") from None
    except expat.ExpatError as error:
        raise whole(name, f"{part} is not well-formed XML: {error}") from error


@dataclass
class _Strings:
    """The shared-string table as far as the limits and values need it."""

    lengths: list[int] = field(default_factory=list)  # each string's length, every <t> counted
    #: The strings of only spaces (calamine reads them as empty where openpyxl keeps them).
    spaces: dict[int, str] = field(default_factory=dict)


def _shared_strings(archive: zipfile.ZipFile, entries: dict[str, str], name: str) -> _Strings:
    """The length of each shared string, in the table's order, and the strings of only spaces.

    A string inside another (``<si>`` in ``<si>``) may be numbered otherwise by
    calamine: every length is then the whole table's, a bound whatever the numbering.
    """
    strings = _Strings()
    part = entries.get(_STRINGS.lower())
    if part is None:
        return strings
    lengths, spaces = strings.lengths, strings.spaces
    inside = [False]
    depth = [0, 0]  # strings open now, the most ever open at once

    def start(tag: str, _: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        inside[0] = local == "t"
        if local == "si":
            lengths.append(0)
            spaces[len(lengths) - 1] = ""
            depth[0] += 1
            depth[1] = max(depth)

    def end(tag: str) -> None:
        if tag.rpartition(":")[2] == "si":
            depth[0] -= 1

    def data(text: str) -> None:
        if inside[0] and lengths:
            lengths[-1] += len(text)
            index = len(lengths) - 1
            if index in spaces:
                if text.isspace():
                    spaces[index] += text
                else:
                    del spaces[index]

    with archive.open(part) as source:
        _parse(source, start, data, name, part, end=end)
    if depth[1] > 1:
        lengths[:] = [sum(lengths)] * len(lengths)
        spaces.clear()
    for index in [i for i, text in spaces.items() if not text]:
        del spaces[index]
    return strings


def _entries(archive: zipfile.ZipFile, name: str) -> dict[str, str]:
    """The archive's entries by their names in lower case, as calamine finds them.

    calamine looks a part up ignoring case, and takes the last of several that match:
    two names that differ only in case are refused, so that the part bounded is the
    part calamine reads.
    """
    entries: dict[str, str] = {}
    for entry in archive.namelist():
        key = entry.lower()
        if key in entries:
            raise whole(
                name,
                f"the archive holds both {entries[key]!r} and {entry!r}, names that readers "
                "may take for one",
            )
        entries[key] = entry
    return entries


def _sheet_parts(archive: zipfile.ZipFile, entries: dict[str, str], name: str) -> dict[str, str]:
    """Each sheet's name -> its XML part, resolved as calamine resolves it ('' for none)."""
    workbook = entries.get(_WORKBOOK.lower())
    rels = entries.get(_WORKBOOK_RELS.lower())
    if workbook is None or rels is None:
        raise whole(name, f"the workbook has no {_WORKBOOK} or no {_WORKBOOK_RELS}")
    sheets: dict[str, str] = {}
    targets: dict[str, str] = {}

    def sheet(tag: str, attributes: dict[str, str]) -> None:
        if tag.rpartition(":")[2] == "sheet":
            # calamine takes the last attribute named id, whatever its prefix
            ids = [v for k, v in attributes.items() if k.rpartition(":")[2] == "id"]
            title = attributes.get("name")
            if title in sheets:  # calamine would read one, and this scan perhaps the other
                raise whole(name, f"the workbook has two sheets named {title!r}")
            if ids and title is not None:
                sheets[title] = ids[-1]

    def relationship(tag: str, attributes: dict[str, str]) -> None:
        if tag.rpartition(":")[2] == "Relationship" and "Id" in attributes:
            targets[attributes["Id"]] = attributes.get("Target", "")

    _parse(archive.read(workbook), sheet, None, name, workbook)
    _parse(archive.read(rels), relationship, None, name, rels)
    # "/xl/worksheets/sheet1.xml" from the archive's root, else from xl/: "xl/worksheets/..."
    # is xl/xl/worksheets/... to calamine, and so it is here.
    parts = {}
    for title, rel in sheets.items():
        target = targets.get(rel, "")
        path = target[1:] if target.startswith("/") else f"xl/{target}"
        parts[title] = entries.get(path.lower(), "")
    return parts


def _check_cached_values(data: bytes, title: str, rows: list[list[Any]], name: str) -> None:
    """Refuse formula cells that have no saved result, naming each one's row, column and cell.

    A workbook written by a program (not saved by Excel or LibreOffice) may hold
    formulas whose results were never computed: their cached value, the only
    value pilotzone reads, is empty. Read as blank, such a cell would make a
    row invalid for a missing coordinate with no word of why.
    """
    import openpyxl
    from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        worksheet = book[title]
        worksheet.reset_dimensions()
        header = rows[0] if rows else []
        problems: list[Problem] = []
        for index, (values, cells) in enumerate(zip(rows, worksheet.iter_rows(), strict=False)):
            for column, cell in enumerate(cells):
                formula = getattr(cell, "value", None)
                is_formula = isinstance(formula, str) and formula.startswith("=")
                if not (is_formula or isinstance(formula, ArrayFormula | DataTableFormula)):
                    continue
                if column < len(values) and values[column] is not None:
                    continue  # the formula has a saved result: that is what is read
                label = header[column] if column < len(header) else None
                where = str(label) if not is_blank(label) else cell.column_letter
                reason = Reason("formula", {"cell": cell.coordinate})
                problems.append(Problem(name, index + 1, where, None, reason))  # sheet row
    finally:
        book.close()
    if problems:
        plural = " has" if len(problems) == 1 else "s have"
        hint = Reason("formulas", {"count": len(problems), "s": plural})
        raise InputError([Problem(name, None, None, None, hint), *problems])


def _check_cells(rows: int, width: int, name: str, limit: int) -> None:
    """Refuse a worksheet of more than ``limit / 8`` cells (rows x widest row so far)."""
    cells = limit // BYTES_PER_CELL
    if rows * width > cells:
        raise whole(
            name,
            f"the worksheet has more than {cells:,} cells ({rows:,} rows of up to {width:,} "
            f"cells so far): more than max_bytes={limit:,} allows at {BYTES_PER_CELL} bytes a "
            "cell. If the machine has the memory, raise the limit: read_facilities(..., "
            "max_bytes=N); otherwise save only the rows and columns in use, or save as CSV",
        )
