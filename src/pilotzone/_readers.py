"""Reading a filing: the format chosen by suffix, each file checked against the size limit.

Owns the accepted suffixes and the checks made before any reader runs (a
regular file, its size, what an archive or Parquet file unpacks to); the
readers per format are ``read_csv``, ``read_excel``, ``read_kml`` and
``_read_geo``.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from pilotzone._formats import gdal_bytes, gdal_format_problem, read_gdal
from pilotzone._messages import Reason
from pilotzone._raw import BYTES_PER_CELL, Raw, too_large, whole
from pilotzone._read_csv import read_csv
from pilotzone._read_excel import read_excel
from pilotzone._read_geo import from_frame, geopackage_layer, read_parquet
from pilotzone._read_kml import read_kml
from pilotzone.errors import InputError

# fmt: off
SUFFIXES = (".csv", ".xlsx", ".xlsm", ".geojson", ".json", ".gpkg", ".shp", ".kml", ".kmz",
             ".parquet", ".geoparquet")
# fmt: on
#: What a spreadsheet pilotzone does not read is, by suffix.
_HINTS = {
    ".xls": "an Excel 97-2003 workbook",
    ".xlsb": "an Excel binary workbook",
    ".et": "a WPS workbook",
    ".ods": "an OpenDocument spreadsheet",
}  # fmt: skip
#: The first bytes of an OLE2 compound file: an Excel 97-2003 workbook, whatever its suffix.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_raw(source: Any, sheet: str | int | None, limit: int) -> Raw:
    """A file (its format chosen by suffix) or a DataFrame -> Raw, within ``limit`` bytes."""
    if isinstance(source, pd.DataFrame):
        if sheet is not None:
            raise ValueError("sheet= applies to Excel workbooks and GeoPackages, not to DataFrames")
        return from_frame(source, "<DataFrame>", source.index, implied_crs=False)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a file path or a DataFrame, not {type(source).__name__}")
    path = Path(source)
    name = path.name
    suffix = path.suffix.lower()
    if suffix in _HINTS:
        raise whole(name, Reason("old_spreadsheet", {"what": _HINTS[suffix], "suffix": suffix}))
    if suffix not in SUFFIXES:
        raise whole(
            name,
            Reason(
                "unknown_type",
                {"suffix": suffix or "(no suffix)", "accepted": ", ".join(SUFFIXES)},
            ),
        )
    if sheet is not None and suffix not in (".xlsx", ".xlsm", ".gpkg"):
        raise ValueError(
            f"sheet= applies to Excel workbooks and GeoPackages, not to {suffix} files"
        )
    _check_size(path, name, limit)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise whole(name, f"cannot read the file: {error}") from error
    if not re.search(rb"[^ \t\r\n\xef\xbb\xbf]", data):  # data.strip() would copy a large file
        raise whole(name, Reason("file_empty"))
    _check_unpacked(data, name, suffix, limit)
    # hashlib lets go of the GIL: the file is hashed on a thread of its own while it is read.
    hashing = ThreadPoolExecutor(1)
    digest = hashing.submit(lambda: hashlib.sha256(data).hexdigest())
    hashing.shutdown(wait=False)  # the thread ends with its one task
    raw = _read_file(path, data, suffix, sheet, limit)
    raw.sha256 = digest.result()
    return raw


def _read_file(path: Path, data: bytes, suffix: str, sheet: str | int | None, limit: int) -> Raw:
    """The bytes ``data`` of the file ``path`` -> Raw, by the reader of its suffix."""
    name = path.name
    try:
        if suffix == ".csv":
            return read_csv(data, name)
        if suffix in (".xlsx", ".xlsm"):
            if data.startswith(_OLE2):
                raise whole(name, Reason("renamed_xls", {"suffix": suffix}))
            return read_excel(data, name, sheet, limit)
        if suffix in (".kml", ".kmz"):
            return read_kml(data, name, zipped=suffix == ".kmz")
        if suffix in (".parquet", ".geoparquet"):
            return read_parquet(data, name, limit)
        unsafe = gdal_format_problem(data[:16], suffix)
        if unsafe is not None:
            raise whole(name, unsafe)
        layer = geopackage_layer(path, name, sheet) if suffix == ".gpkg" else None
        frame = read_gdal(gdal_bytes(path, data, limit=limit), layer=layer)
        implied = suffix in (".geojson", ".json")
        return from_frame(frame, name, pd.RangeIndex(len(frame)), implied_crs=implied)
    except InputError:
        raise
    except Exception as error:  # readers raise a zoo of types on corrupt files
        raise whole(name, f"cannot read the file as {suffix}: {error}") from error


def _check_size(path: Path, name: str, limit: int) -> None:
    """Refuse a file larger than ``limit``, or not a regular file, before reading any of it."""
    try:
        status = path.stat()
    except OSError as error:
        raise whole(name, f"cannot read the file: {error}") from error
    if not stat.S_ISREG(status.st_mode):  # /dev/zero or a FIFO has no size and no end
        raise whole(name, "not a regular file (a device, a pipe or a folder)")
    if status.st_size > limit:
        raise too_large(name, Reason("size_file"), status.st_size, limit)


def _check_unpacked(data: bytes, name: str, suffix: str, limit: int) -> None:
    """Refuse an archive (.xlsx, .kmz) or Parquet file that unpacks to more than ``limit``.

    The sizes are those the file declares; no reader unpacks more than that
    (zipfile stops at the declared size, and its CRC check then fails). A
    file too broken to declare them is left to its reader to refuse.
    """
    if suffix in (".xlsx", ".xlsm", ".kmz"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                size = sum(entry.file_size for entry in archive.infolist())
        except (zipfile.BadZipFile, ValueError, EOFError):
            return
        what = Reason("size_unpacked")
    elif suffix in (".parquet", ".geoparquet"):
        try:
            import pyarrow.parquet as pq

            metadata = pq.read_metadata(io.BytesIO(data))
            groups = range(metadata.num_row_groups)
            encoded = sum(metadata.row_group(i).total_byte_size for i in groups)
            cells = metadata.num_rows * metadata.num_columns
        except Exception:  # pyarrow raises a zoo of types; the reader reports them
            return
        size = max(encoded, cells * BYTES_PER_CELL)  # dictionary encoding hides repeats
        what = Reason("size_data")
    else:
        return
    if size > limit:
        raise too_large(name, what, size, limit)
