"""An input as read, before any column is interpreted, and what every reader shares.

Owns :class:`Raw` (and :class:`Points`, coordinates carried by a geometry),
the whole-file error, the size refusal message, and the framing of a header
row and data rows (CSV, worksheets) into a :class:`Raw`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from pilotzone._columns import COLUMN_BY_KEY, TEXT_DTYPE, TEXT_IS_OBJECT, is_blank, match_key
from pilotzone._messages import Reason
from pilotzone.errors import InputError, Problem

#: A cell of a worksheet costs at least this many bytes once read (a pointer).
BYTES_PER_CELL = 8


@dataclass
class Points:
    """Coordinates carried by a geometry (spatial files, KML) rather than by columns."""

    label: str  # how problems name it: "geometry" or "coordinates"
    x: list[Any]
    y: list[Any]
    missing: list[str | None]  # why a row has no usable point, None where it has one


@dataclass
class Raw:
    """An input as read, before any column is interpreted."""

    name: str
    sha256: str | None  # of the file's bytes, set once it is read; None for a DataFrame
    frame: pd.DataFrame  # one column per input column, in input order (labels may repeat)
    index: pd.Index
    points: Points | None = None
    file_crs: Any = None  # the CRS the file declares, or its format implies
    crs_implied: bool = False  # True where file_crs comes from the format (GeoJSON, KML)
    broken_rows: dict[int, str] = field(default_factory=dict)  # position -> reason
    header_row: int = 1  # the row (from 1) that names the columns: below any title rows
    #: The number the user's program shows for each data row (a CSV's line where the record
    #: starts, a worksheet's row), counting the header and any title rows; None where that is
    #: the position from 1 (a feature of a spatial file, a row of a DataFrame).
    numbers: Sequence[int] | None = None


def whole(name: str, reason: str) -> InputError:
    """An error for a problem with the whole file."""
    return InputError(Problem(name, None, None, None, reason))


def too_large(name: str, what: str, size: int, limit: int) -> InputError:
    """The error for an input of ``size`` bytes over the ``max_bytes`` limit."""
    return whole(
        name,
        Reason("too_large", {"what": what, "size": size, "limit": limit}),
    )


def sheet_position(names: list[str], sheet: str | int, name: str, what: str) -> int:
    """Where the worksheet or layer ``sheet`` is in ``names``.

    A name wins over a position: ``"1"`` is the one named "1" where there is
    one, else the second; an int is always a position.
    """
    if isinstance(sheet, str) and sheet in names:
        return names.index(sheet)
    position = int(sheet) if isinstance(sheet, str) and re.fullmatch("[0-9]+", sheet) else sheet
    if (
        isinstance(position, int)
        and not isinstance(position, bool)
        and -len(names) <= position < len(names)
    ):
        return position % len(names)
    raise InputError(Problem(name, None, None, sheet, f"no such {what}; the file has {names}"))


#: How many rows from the top may hold the header (title rows above it are skipped).
HEADER_SEARCH_ROWS = 20
_REQUIRED = frozenset({"operator_id", "kind"})


def header_position(rows: Sequence[Sequence[Any]]) -> int:
    """Where the header is: the first of the first rows that names the required columns.

    0 where none does (the first row is then the header, and reading reports the
    columns it lacks). Government workbooks often put a title row or two above it.
    """
    for position, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        named = {COLUMN_BY_KEY.get(match_key(cell)) for cell in row if not is_blank(cell)}
        if _REQUIRED <= named:
            return position
    return 0


def from_rows(
    rows: list[list[Any]],
    name: str,
    *,
    text: bool,
    numbers: Sequence[int] | None = None,
) -> Raw:
    """Header row + data rows (CSV, Excel) -> Raw; blank rows at the end are not data.

    ``text`` says that every cell is a str, as in a CSV file. ``numbers`` is
    the number the user's program shows for each of ``rows`` (a CSV's line
    where the record starts); by default its position from 1 (a worksheet's row).
    """
    while rows and all(is_blank(cell) for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise whole(name, Reason("file_empty"))
    shown = list(numbers) if numbers is not None else list(range(1, len(rows) + 1))
    top = header_position(rows)
    header, body = rows[top], rows[top + 1 :]
    if all(is_blank(cell) for cell in header):
        raise InputError(Problem(name, shown[top], None, None, Reason("header_empty")))
    width = len(header)
    broken: dict[int, str] = {}
    cells: list[list[Any]] = body
    if any(len(row) != width for row in body):
        cells = []
        for position, row in enumerate(body):
            if len(row) > width and not all(is_blank(cell) for cell in row[width:]):
                broken[position] = Reason("row_cells", {"cells": len(row), "width": width})
            cells.append(list(row[:width]) + [""] * (width - len(row)))
    columns = list(zip(*cells, strict=True)) if cells else [()] * width
    raw = _framed(header, columns, name, broken, text=text, header_row=shown[top])
    raw.numbers = shown[top + 1 : top + 1 + len(body)]
    return raw


def _framed(
    header: Sequence[Any],
    columns: Sequence[Sequence[Any] | pa.ChunkedArray],
    name: str,
    broken: dict[int, str],
    *,
    text: bool,
    header_row: int = 1,
) -> Raw:
    """The header and columns of a CSV or worksheet -> Raw; unnamed empty columns are dropped."""

    def cells(column: Sequence[Any] | pa.ChunkedArray) -> Sequence[Any]:
        return column.to_pylist() if isinstance(column, pa.ChunkedArray) else column

    width = len(header)
    keep = [
        i
        for i in range(width)
        if not is_blank(header[i]) or any(not is_blank(cell) for cell in cells(columns[i]))
    ]
    labels = [
        f"column_{i + 1}" if is_blank(header[i]) else str(header[i]).strip("\ufeff") for i in keep
    ]
    frame = pd.DataFrame(
        {j: _cells(columns[i], text=text) for j, i in enumerate(keep)},
        index=pd.RangeIndex(len(columns[0]) if columns else 0),
    )
    frame.columns = labels
    return Raw(
        name, None, frame, pd.RangeIndex(len(frame)), broken_rows=broken, header_row=header_row
    )


def from_table(table: pa.Table, name: str) -> Raw:
    """:func:`from_rows` for a table from :func:`plain_csv`."""
    n = table.num_rows
    while n > 1 and all(not str(v).strip() for v in table.slice(n - 1, 1).to_pylist()[0].values()):
        n -= 1  # blank rows at the end are not data
    top = header_position(
        [list(row.values()) for row in table.slice(0, HEADER_SEARCH_ROWS).to_pylist()]
    )
    header = [str(table.column(i)[top].as_py()) for i in range(table.num_columns)]
    if n == 1 and all(not cell.strip() for cell in header):
        raise whole(name, Reason("file_empty"))
    if all(not cell.strip() for cell in header):
        raise InputError(Problem(name, top + 1, None, None, Reason("header_empty")))
    columns = [table.column(i).slice(top + 1, n - top - 1) for i in range(table.num_columns)]
    raw = _framed(header, columns, name, {}, text=True, header_row=top + 1)
    raw.numbers = range(top + 2, n + 1)  # without quotes, each record is one line
    return raw


def _cells(column: Sequence[Any] | pa.ChunkedArray, *, text: bool) -> Any:
    """One column of a CSV (``text``: every cell a str) or worksheet as pandas would infer it."""
    if isinstance(column, pa.ChunkedArray):
        return (
            pd.array(column, dtype=TEXT_DTYPE)
            if not TEXT_IS_OBJECT
            else pd.Series(column.to_pylist()).array
        )
    if not TEXT_IS_OBJECT and text:
        return pd.array(pa.array(column, type=pa.large_string()), dtype=TEXT_DTYPE)
    return pd.Series(list(column)).array
