"""The audit folder's tables: GeoParquet, GeoJSON, CSV and Excel, written in bounded memory.

Every table is written from the result as it is, column by column or chunk by
chunk: no output holds a second copy of a large result as text.

``facilities.parquet`` (GeoParquet) holds every input row with its result,
always. ``facilities.geojson`` and the Excel workbooks are written up to
:data:`MAX_GEOJSON_ROWS` and :data:`MAX_XLSX_ROWS` rows: above that, a GeoJSON
file is too large for the desktop tools that open one (about 900 bytes a
row), and a workbook takes minutes to write and to open (Excel itself stops at
:data:`EXCEL_MAX_ROWS` rows). Such a file is not written, and ``summary.json``
says so (``skipped``); the same rows are in ``facilities.parquet`` and the
CSV files, which are streamed at any size. Nothing is ever cut short.

Cells whose text a spreadsheet would run as a formula get a leading ``'``
(OWASP, "CSV injection"); numbers stay numbers. Chinese tables translate the
headers and the coded values (kind, tenure, status, severity, zone); text from
the filing is written as filed.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable
from functools import partial
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from pilotzone._files import plain
from pilotzone._messages import FILING, HEADERS_ZH, REPORT
from pilotzone.rules import cite
from pilotzone.verify import row_numbers

__all__ = [
    "EXCEL_MAX_ROWS",
    "MAX_GEOJSON_ROWS",
    "MAX_XLSX_ROWS",
    "facilities_table",
    "localised",
    "write_csv",
    "write_geojson",
    "write_parquet",
    "write_xlsx",
]

log = logging.getLogger(__name__)

#: facilities.geojson is written for results of at most this many rows (about 90 MB).
MAX_GEOJSON_ROWS = 100_000
#: A workbook (findings.xlsx, facilities.xlsx) is written for tables of at most this many rows
#: (openpyxl writes about 4,000 rows of 30 columns a CPU second: 50,000 rows take ~12 s).
MAX_XLSX_ROWS = 50_000
#: The rows of an Excel sheet, its header included.
EXCEL_MAX_ROWS = 1_048_576
#: Rows of a CSV file formatted at a time.
CSV_CHUNK_ROWS = 50_000
#: Adjacent text categorical columns of a CSV file are written as one while their
#: categories have at most this many combinations (:func:`_column_groups`).
MAX_JOINED_CATEGORIES = 65_536

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The first bytes of formula-like text (:data:`_FORMULA_START`, all ASCII), as a table.
_FORMULA_BYTES = np.isin(np.arange(256), [ord(c) for c in _FORMULA_START])
#: The bytes that make the csv module quote a cell: the delimiter, the quote, CR and LF.
_QUOTED_BYTES = np.isin(np.arange(256), [ord(c) for c in ',"\r\n'])
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Columns of coded values a Chinese table translates, and where their words are.
_CODED = {
    "kind": FILING,
    "tenure": FILING,
    "status": REPORT,
    "severity": REPORT,
    "old_status": REPORT,
    "new_status": REPORT,
}


# --------------------------------------------------------------------------- what is written


def facilities_table(result: pd.DataFrame) -> pd.DataFrame:
    """Every row of a result without its geometry, its row number first as ``row``.

    The reader's own columns (``source_row``, ``problems``: the message says
    why a row cannot be checked) are left out, so that the table reads back
    as a filing. The columns are shared with ``result``, not copied.
    """
    own = (result.geometry.name, "source_row", "problems", "row")
    columns = [c for c in result.columns if c not in own]
    table = result[columns].copy(deep=False)
    table.insert(0, "row", row_numbers(result).to_numpy())
    return table


def localised(
    table: pd.DataFrame, lang: str, zone_names: dict[str, str] | None = None
) -> pd.DataFrame:
    """A table as written for readers of ``lang``: headers and coded values in their words.

    Kinds and tenures take the words the map's popups use (and that the reader
    reads back), statuses and severities the report's, articles the Chinese
    numbering, zones their names (``zone_names``). Rule and change codes stay
    as they are: scripts and audit comparisons rely on them. Text from the
    filing is left as filed.
    """
    if lang == "en":
        return table
    out = table.copy(deep=False)
    for column, words in _CODED.items():
        if column in out:
            out[column] = _translated(out[column], _word_in(words[lang]))
    for column in ("zone_id", "registration_zone", "address_zone"):
        if zone_names and column in out:
            out[column] = _translated(out[column], _word_in(zone_names))
    if "article" in out and "rule" in out:
        out["article"] = _translated(out["rule"], partial(cite, lang=lang))  # type: ignore[arg-type]
    return out.rename(columns=HEADERS_ZH)


def _word_in(words: dict[str, str]) -> Callable[[str], str]:
    """A text's word in ``words``, or the text itself."""
    return lambda text: words.get(text, text)


def _translated(column: pd.Series, word: Callable[[str], str]) -> pd.Series:
    """``column`` with each text replaced by its ``word``; other values as they are.

    ``word`` is called once per distinct text. Text categories are renamed where
    the tables write the renamed column as they write its text (:func:`_cells_distinct`),
    so that a CSV file takes each category's cell once; otherwise the column's dtype is
    the one pandas infers for the new values (text taken into arrow's storage directly).
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = list(column.cat.categories)
        if all(isinstance(c, str) for c in categories):
            words = [word(c) for c in categories]
            if all(isinstance(w, str) for w in words) and _cells_distinct(words):
                return column.cat.rename_categories(words)
    codes, values = pd.factorize(column, use_na_sentinel=True)
    shown = [word(v) if isinstance(v, str) else v for v in values]
    if shown and all(isinstance(v, str) for v in shown):  # text: made as pandas stores it
        dtype = pd.Series(np.array(shown[:1], dtype=object)).dtype
        if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
            labels = pa.array([*shown, None], pa.large_string())
            taken = labels.take(np.where(codes < 0, len(shown), codes))
            text = pd.array(taken, dtype=dtype)  # arrow's text kept, not copied
            return pd.Series(text, index=column.index, name=column.name)
    cells = np.array([*shown, None], dtype=object)[codes]
    return pd.Series(cells, index=column.index, name=column.name)


# --------------------------------------------------------------------------- facilities.parquet


def write_parquet(result: gpd.GeoDataFrame, file: IO[bytes]) -> None:
    """Every row of a result as GeoParquet (WGS-84 points), its index and dtypes kept.

    A column of Python objects Arrow cannot hold is written as their text, with a warning.
    """
    frame = result
    for label in result.columns:
        if result[label].dtype != object or label == result.geometry.name:
            continue
        try:
            pa.array(result[label], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            log.warning("facilities.parquet: column %r written as text", label)
            if frame is result:
                frame = result.copy(deep=False)
            frame[label] = result[label].map(lambda v: None if v is None else str(v))
    frame.to_parquet(file, compression="zstd")


# --------------------------------------------------------------------------- facilities.geojson


def _properties(result: gpd.GeoDataFrame) -> tuple[list[str], list[list[Any]]]:
    """Column names and JSON values, result column order; columns JSON cannot hold are dropped."""
    names: list[str] = []
    columns: list[list[Any]] = []
    for label in result.columns:
        if label == result.geometry.name:
            continue
        try:
            values = _json_column(result[label])
        except TypeError as error:
            log.warning("facilities.geojson: column %r left out (%s)", label, error)
            continue
        names.append(str(label))
        columns.append(values)
    return names, columns


def _json_column(column: pd.Series) -> list[Any]:
    """JSON values of a column: whole-column conversions for the usual dtypes, else per cell."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype) and not column.hasnans:
        return [bool(v) for v in column.to_numpy()]
    if pd.api.types.is_integer_dtype(dtype) and not column.hasnans:
        return [int(v) for v in column.to_numpy()]
    if pd.api.types.is_float_dtype(dtype):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        values = numbers.astype(object)
        values[~np.isfinite(numbers)] = None
        return values.tolist()
    if pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        cells = column.astype(object)
        texts = cells.where(cells.notna(), None).tolist()
        if all(v is None or isinstance(v, str) for v in texts):
            return texts
    return [plain(v) for v in column.astype(object).tolist()]


def write_geojson(result: gpd.GeoDataFrame, file: IO[bytes]) -> None:
    """Every row of a result as a GeoJSON feature, WGS-84, ``null`` geometry where it has none."""
    frame = result if result.crs.equals("EPSG:4326") else result.to_crs("EPSG:4326")
    names, columns = _properties(frame)
    shapes = np.asarray(frame.geometry.values, dtype=object)
    missing = shapely.is_missing(shapes) | shapely.is_empty(shapes)
    points = ~missing & (shapely.get_type_id(shapes) == 0)
    x, y = shapely.get_x(shapes), shapely.get_y(shapes)
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    file.write(b'{\n"type": "FeatureCollection",\n"features": [\n')
    for i in range(len(frame)):
        if missing[i]:
            geometry = None
        elif points[i]:  # the usual case, without a round trip through GeoJSON text
            geometry = {"type": "Point", "coordinates": [float(x[i]), float(y[i])]}
        else:
            geometry = json.loads(shapely.to_geojson(shapes[i]))
        properties = dict(zip(names, (column[i] for column in columns), strict=True))
        feature = {"type": "Feature", "properties": properties, "geometry": geometry}
        file.write(dumps(feature).encode("utf-8") + (b",\n" if i < len(frame) - 1 else b"\n"))
    file.write(b"]\n}\n")


# --------------------------------------------------------------------------- CSV and Excel


def neutralised(value: Any) -> Any:
    """A spreadsheet cell: text that a spreadsheet would run as a formula gets a leading '.

    A value that is neither a number, a truth value nor text is written as its text.
    """
    try:
        value = plain(value)
    except TypeError:
        value = str(value)
    # A lone "-" (a common "none") cannot be a formula; it stays readable.
    if isinstance(value, str) and value.startswith(_FORMULA_START) and value != "-":
        return "'" + value
    return value


def _neutralised_column(column: pd.Series) -> pd.Series:
    """A column with :func:`neutralised` text, done once per distinct text."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        if categories.dtype.kind in "OUT" or pd.api.types.is_string_dtype(categories.dtype):
            return column.cat.rename_categories(_unique([neutralised(c) for c in categories]))
        return column
    if pd.api.types.is_string_dtype(column.dtype) or column.dtype == object:
        codes, values = pd.factorize(column, use_na_sentinel=True)
        shown = np.array([neutralised(v) for v in values] + [None], dtype=object)
        return pd.Series(shown[codes], index=column.index, name=column.name)
    return column


def _cells_distinct(texts: list[str]) -> bool:
    """Whether texts stay distinct once neutralised: as categories, they write as text does.

    Categories written to a CSV file are kept distinct (:func:`_unique`), text cells
    are not: the two agree where no two texts have the same :func:`neutralised` cell.
    """
    return len({neutralised(text) for text in texts}) == len(texts)


def _unique(names: list[Any]) -> list[Any]:
    """Category names stay distinct: a text and its neutralised twin both filed cannot clash."""
    seen: set[Any] = set()
    out = []
    for name in names:
        while name in seen:
            name = "'" + name
        seen.add(name)
        out.append(name)
    return out


def write_csv(table: pd.DataFrame, file: IO[bytes], *, chunk_rows: int = CSV_CHUNK_ROWS) -> None:
    """A table as UTF-8 CSV with a byte order mark (Excel reads Chinese right), in chunks.

    Formula-like text is neutralised; missing cells are empty; lines end in CRLF. The
    bytes are those of :meth:`pandas.DataFrame.to_csv` (``csv`` module quoting, numbers as
    pandas writes them) on the :func:`_neutralised_column` of each column, formatted with
    pyarrow compute a chunk of ``chunk_rows`` rows at a time (:func:`_csv_lines`).
    """
    header = io.StringIO()
    csv.writer(header, lineterminator="\r\n").writerow([neutralised(str(c)) for c in table.columns])
    file.write(("\ufeff" + header.getvalue()).encode("utf-8"))
    groups = _column_groups(table)  # each category's text once for the whole table
    for start in range(0, len(table), chunk_rows):
        file.write(_csv_lines(table.iloc[start : start + chunk_rows], groups))


def _column_groups(table: pd.DataFrame) -> list[tuple[list[int], pa.Array | None]]:
    """The table's columns as written: runs of adjacent text categorical columns as one.

    Each group is its column positions and, for text categorical columns, the CSV
    text of every combination of their categories (:func:`_every_pair`), the empty
    cell last in each; None for any other column. A run is joined while it has at
    most :data:`MAX_JOINED_CATEGORIES` combinations: rows join fewer, wider cells.
    Where :func:`_labels_end_lines`, the last group's text ends with the line's CRLF.
    """
    groups: list[tuple[list[int], pa.Array | None]] = []
    for i in range(len(table.columns)):
        column = table.iloc[:, i]
        cells = None
        if isinstance(column.dtype, pd.CategoricalDtype):
            cells = _category_cells(column.cat.categories)
        joined = groups[-1][1] if groups else None
        if cells is None or joined is None or len(joined) * len(cells) > MAX_JOINED_CATEGORIES:
            groups.append(([i], cells))
        else:
            groups[-1] = ([*groups[-1][0], i], _every_pair(joined, cells))
    if _labels_end_lines(groups, len(table.columns)):
        positions, joined = groups[-1]
        groups[-1] = (positions, pc.binary_join_element_wise(joined, _text("\r\n"), _text("")))
    return groups


def _labels_end_lines(groups: list[tuple[list[int], pa.Array | None]], width: int) -> bool:
    """Whether the last group's category text holds the line end: once for all rows.

    Not for a table of one column, whose empty cell the csv module quotes.
    """
    return bool(groups) and groups[-1][1] is not None and width > 1


def _every_pair(left: pa.Array, right: pa.Array) -> pa.Array:
    """Each left cell, a comma, each right cell: at ``i * len(right) + j`` for cells i, j."""
    pairs = np.arange(len(left) * len(right))
    return pc.binary_join_element_wise(
        left.take(pairs // len(right)), right.take(pairs % len(right)), _text(",")
    )


def _csv_lines(chunk: pd.DataFrame, groups: list[tuple[list[int], pa.Array | None]]) -> memoryview:
    """The CSV lines of a chunk, CRLF-ended, as UTF-8 bytes.

    ``groups``: the columns as :func:`_column_groups` writes them.
    """
    if not len(chunk.columns):  # as pandas writes a frame of no columns: nothing
        return memoryview(b"")
    cells = [_group_cells(chunk, positions, joined) for positions, joined in groups]
    if len(chunk.columns) == 1:  # the csv module quotes a row that is one empty cell
        cells = [pc.if_else(pc.equal(cells[0], ""), _text('""'), cells[0])]
    if not _labels_end_lines(groups, len(chunk.columns)):  # the last cells end the line
        cells[-1] = pc.binary_join_element_wise(cells[-1], _text("\r\n"), _text(""))
    lines = pc.binary_join_element_wise(*cells, _text(","))
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return memoryview(lines.buffers()[2])[start:end] if end > start else memoryview(b"")


def _group_cells(chunk: pd.DataFrame, positions: list[int], joined: pa.Array | None) -> pa.Array:
    """The cells of a group of columns (:func:`_column_groups`) in a chunk."""
    if joined is None:
        return _csv_cells(chunk.iloc[:, positions[0]])
    combination = np.zeros(len(chunk), dtype=np.int64)
    for i in positions:  # the first column's category varies slowest
        column = chunk.iloc[:, i]
        size = len(column.cat.categories) + 1  # the empty cell: the last
        codes = column.cat.codes.to_numpy()
        combination = combination * size + np.where(codes < 0, size - 1, codes)
    return joined.take(combination)


def _csv_cells(column: pd.Series) -> pa.Array:
    """A column's CSV cells as large strings, each as ``to_csv`` writes it (missing: empty).

    Text, integers, truth values and floats are formatted here; any other dtype
    goes through :meth:`pandas.DataFrame.to_csv` itself (:func:`_pandas_cells`).
    """
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):  # text categories are written by group
        return _pandas_cells(column)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":  # as pandas: numpy's own text
        return _float_cells(column)
    if pd.api.types.is_integer_dtype(dtype):  # numpy, nullable or pyarrow integers
        values = pa.array(column, from_pandas=True)
        return pc.cast(values, pa.large_string()).fill_null("")
    if pd.api.types.is_bool_dtype(dtype):  # numpy, nullable or pyarrow truth values
        values = pa.array(column, from_pandas=True)
        return pc.if_else(values, _text("True"), _text("False")).fill_null("")
    if pd.api.types.is_string_dtype(dtype) or dtype == np.dtype(object):
        try:
            values = pa.array(column, from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            return _pandas_cells(column)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_null(values.type):  # every cell missing (a column of None)
            return pa.repeat(_text(""), len(values))
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            return _quoted(_neutralised_text(values.cast(pa.large_string()).fill_null("")))
    return _pandas_cells(column)


def _float_cells(column: pd.Series) -> pa.Array:
    """A numpy float column's cells: numpy's text of each number, as pandas writes it.

    pyarrow's cast writes the numbers of :func:`_arrow_writes_as_numpy` as numpy does,
    about eight times faster; the others are numpy's own text (:func:`_numpy_cells`).
    Missing numbers are empty cells.
    """
    numbers = column.to_numpy()
    fast = _arrow_writes_as_numpy(numbers)
    if fast.any():
        cells = pc.cast(pa.array(numbers, mask=~fast), pa.large_string())
    else:  # none in range; never for float32 or float16, whose shortest text differs
        cells = pa.nulls(len(numbers), pa.large_string())
    slow = ~fast & ~np.isnan(numbers)
    if slow.any():
        cells = pc.replace_with_mask(cells, pa.array(slow), _numpy_cells(numbers[slow]))
    return cells.fill_null("")


def _arrow_writes_as_numpy(numbers: np.ndarray) -> np.ndarray:
    """Where pyarrow's float-to-text cast gives numpy's (and Python's ``repr``) text.

    Both write the shortest digits that read back as the same float64, positional
    where the decimal exponent is within their ranges: numpy's and Python's from
    1e-4 up to 1e16, pyarrow's from 1e-6 up to 1e10 (``arrow/util/formatting.cc``).
    pyarrow writes integral values without ``.0`` ("2", "-0"), so they are left out.
    """
    if numbers.dtype != np.float64:
        return np.zeros(len(numbers), dtype=bool)
    size = np.abs(numbers)
    with np.errstate(invalid="ignore"):  # NaN compares false: not fast
        return (size >= 1e-4) & (size < 1e10) & (numbers != np.trunc(numbers))


def _numpy_cells(numbers: np.ndarray) -> pa.Array:
    """Numbers (none missing) as numpy's text, :meth:`numpy.ndarray.astype` ``str``.

    That text is ASCII (digits, ``.-+e``, ``inf``), so its UTF-32 code points are its
    UTF-8 bytes: the fixed-width text of numpy becomes arrow's without a decoder.
    """
    text = numbers.astype(str)
    width = text.dtype.itemsize // 4
    points = text.view(np.uint32).reshape(-1, width).astype(np.uint8)
    filled = points != 0  # numpy pads text with NULs, which no number's text holds
    offsets = np.zeros(len(numbers) + 1, dtype=np.int64)
    np.cumsum(np.count_nonzero(filled, axis=1), out=offsets[1:])
    data = pa.py_buffer(points[filled])
    return pa.LargeStringArray.from_buffers(len(numbers), pa.py_buffer(offsets), data)


def _neutralised_text(values: pa.Array) -> pa.Array:
    """Text (no nulls) as :func:`neutralised` shows it: a ' before a formula-like start.

    Every formula start is one ASCII byte, so the first byte of each cell decides.
    """
    data, offsets = _utf8(values)
    lengths = np.diff(offsets)
    first = np.zeros(len(values), dtype=np.uint8)
    filled = lengths > 0
    first[filled] = data[offsets[:-1][filled]]
    formula = _FORMULA_BYTES[first] & filled & ~((lengths == 1) & (first == ord("-")))
    if not formula.any():
        return values
    marked = pc.binary_join_element_wise(_text("'"), values.filter(formula), _text(""))
    return pc.replace_with_mask(values, formula, marked)


def _quoted(values: pa.Array) -> pa.Array:
    """Text (no nulls) quoted as the csv module's QUOTE_MINIMAL does: where , " CR or LF is.

    A column with such text is quoted once per distinct text (messages repeat: the
    656,575 findings of the 1M-row audit have about 4,600), then taken back by row.
    """
    data, offsets = _utf8(values)
    raw = data[offsets[0] : offsets[-1]].tobytes()  # a copy, searched at memchr speed
    if not any(byte in raw for byte in (b",", b'"', b"\r", b"\n")):
        return values
    encoded = pc.dictionary_encode(values)
    return _quoted_each(encoded.dictionary).take(encoded.indices)


def _quoted_each(values: pa.Array) -> pa.Array:
    """Text (no nulls) with each cell that holds , " CR or LF quoted, its quotes doubled."""
    data, offsets = _utf8(values)
    hits = np.flatnonzero(_QUOTED_BYTES[data[offsets[0] : offsets[-1]]]) + offsets[0]
    special = np.zeros(len(values), dtype=bool)
    special[np.searchsorted(offsets, hits, side="right") - 1] = True
    doubled = pc.replace_substring(values.filter(special), '"', '""')
    wrapped = pc.binary_join_element_wise(_text('"'), doubled, _text('"'), _text(""))
    return pc.replace_with_mask(values, special, wrapped)


def _utf8(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A large-string array's UTF-8 bytes and its ``len + 1`` offsets into them."""
    _, offsets, data = values.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64)[values.offset : values.offset + len(values) + 1]
    return np.frombuffer(data, dtype=np.uint8) if data else np.zeros(0, np.uint8), ends


def _text(value: str) -> pa.Scalar:
    """A large-string scalar, to join with the large-string cells."""
    return pa.scalar(value, pa.large_string())


def _category_cells(categories: pd.Index) -> pa.Array | None:
    """The CSV cells of text categories (neutralised, kept distinct), then the empty one.

    None when a category is not text.
    """
    if not all(isinstance(c, str) for c in categories):
        return None
    names = pa.array([*_unique([neutralised(c) for c in categories]), ""], pa.large_string())
    return _quoted(names)


def _pandas_cells(column: pd.Series) -> pa.Array:
    """A column's CSV cells written by pandas itself, for the dtypes not formatted here.

    A second column keeps a row of one empty cell unquoted; the csv module reads the
    cells back and :func:`_quoted` quotes them again as it wrote them.
    """
    frame = pd.DataFrame({0: _neutralised_column(column).reset_index(drop=True), 1: 0})
    text = frame.to_csv(header=False, index=False, lineterminator="\r\n", na_rep="")
    shown = [row[0] for row in csv.reader(io.StringIO(text, newline=""))]
    return _quoted(pa.array(shown, pa.large_string()))


def _cells(column: pd.Series) -> list[Any]:
    """A column's workbook cells, each distinct value converted once.

    Python values, None for missing, text neutralised (:func:`neutralised`) and
    without the control characters a workbook cannot hold.
    """
    values: Any
    try:
        codes, values = pd.factorize(column, use_na_sentinel=True)
    except TypeError:  # unhashable cells: one at a time
        codes, values = np.arange(len(column)), column.to_numpy(dtype=object)
    shown = np.empty(len(values) + 1, dtype=object)  # the last one: missing
    for i, value in enumerate(values):
        cell = neutralised(value)
        shown[i] = _XLSX_ILLEGAL.sub("\ufffd", cell) if isinstance(cell, str) else cell
    return list(shown[codes])


def write_xlsx(table: pd.DataFrame, as_of: str | None, sheet_name: str, file: IO[bytes]) -> None:
    """A table as a one-sheet workbook with a frozen header, fixed dates and zip entries.

    Raises
    ------
    ValueError
        If the table has more rows than a sheet holds (:data:`EXCEL_MAX_ROWS`
        with the header): the caller writes such a table elsewhere.
    """
    import openpyxl

    if len(table) + 1 > EXCEL_MAX_ROWS:
        raise ValueError(f"{len(table):,} rows do not fit in one Excel sheet")
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    widths = {"message": 80, "title": 50, "name": 24, "rule": 30, "article": 16, "address": 36}
    widths |= {HEADERS_ZH[c]: w for c, w in widths.items() if c in HEADERS_ZH}
    for position, column in enumerate(table.columns, start=1):
        letter = openpyxl.utils.get_column_letter(position)
        sheet.column_dimensions[letter].width = widths.get(column, 14)
    sheet.freeze_panes = "A2"
    sheet.append([str(c) for c in table.columns])
    columns = [_cells(table[c]) for c in table.columns] if len(table.columns) else []
    for row in zip(*columns, strict=True):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    file.write(_stable_zip(buffer.getvalue(), as_of))


def _stable_zip(data: bytes, as_of: str | None) -> bytes:
    """The same workbook with fixed zip entry times and document dates.

    openpyxl stamps the zip entries and ``docProps/core.xml`` with the time of
    saving; the document dates become the audit date instead.
    """
    day = as_of or "2024-04-08"
    stamp = f"{day}T00:00:00Z".encode()
    core = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "docProps/core.xml":
                content = core.sub(lambda m: m.group(1) + stamp + m.group(3), content)
            info = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            target.writestr(info, content)
    return out.getvalue()
