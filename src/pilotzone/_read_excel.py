"""The Excel reader (.xlsx, .xlsm): one worksheet's cached values, within the size limit."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from pilotzone._columns import is_blank
from pilotzone._messages import Reason
from pilotzone._raw import BYTES_PER_CELL, Raw, from_rows, sheet_position, too_large, whole
from pilotzone.errors import InputError, Problem

#: A formula element in a worksheet's XML (``<f>``, ``<f t="shared" .../>``, ``<x:f>``).
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def read_excel(data: bytes, name: str, sheet: str | int | None, limit: int) -> Raw:
    """An .xlsx/.xlsm workbook's bytes -> Raw, from one worksheet's cached values."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheets = book.worksheets
        names = [ws.title for ws in sheets]
        position = 0 if sheet is None else sheet_position(names, sheet, name, "worksheet")
        worksheet = sheets[position]
        # The sheet's declared dimension is not trusted: openpyxl would pad every row to
        # it, and "A1:XFD1048576" in a file of a few kB means 17 billion cells.
        worksheet.reset_dimensions()
        rows: list[list[Any]] = []
        width = 1
        text = 0  # characters of text, each shared string counted at every cell that uses it
        for row in worksheet.iter_rows(values_only=True):
            rows.append(list(row))
            width = max(width, len(row))
            _check_cells(len(rows), width, name, limit)
            # The cells of a shared string are one str object until they are copied into
            # columns, so the text is counted here, before anything copies it.
            text += sum(len(cell) for cell in row if isinstance(cell, str))
            if text > limit:
                what = Reason("size_sheet", {"sheet": worksheet.title})
                raise too_large(name, what, text, limit)
        if sheet is None and all(is_blank(cell) for row in rows for cell in row):
            filled = next((ws.title for ws in sheets[1:] if _holds_data(ws)), None)
            if filled is not None:
                raise whole(
                    name,
                    f"the first worksheet, {names[0]!r}, is empty; worksheet {filled!r} holds "
                    f"data: read it with read_facilities(..., sheet={filled!r}) or pilotzone "
                    f"verify FILE --sheet {filled!r}",
                )
    finally:
        book.close()
    if _has_formulas(data):
        _check_cached_values(data, position, rows, name)
    return from_rows([row + [None] * (width - len(row)) for row in rows], name, text=False)


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of the workbook holds a formula (its XML, searched as bytes)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = (n for n in archive.namelist() if n.startswith("xl/worksheets/"))
        return any(_FORMULA.search(archive.read(n)) for n in sheets if n.endswith(".xml"))


def _check_cached_values(data: bytes, position: int, rows: list[list[Any]], name: str) -> None:
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
        worksheet = book.worksheets[position]
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


def _holds_data(worksheet: Any) -> bool:
    """Whether a read-only worksheet has a cell that is not blank (read up to the first)."""
    worksheet.reset_dimensions()
    return any(not is_blank(c) for row in worksheet.iter_rows(values_only=True) for c in row)


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
