"""Read facility filings into one validated table.

:func:`read_facilities` turns a filing (CSV, Excel, GeoJSON, GeoPackage,
Shapefile, KML/KMZ, Parquet, or a DataFrame) into a GeoDataFrame with English
column names, typed values, a WGS-84 point per row and a ``problems`` column.

Two levels of failure:

* whole-input problems (unreadable, empty or binary file, unknown suffix,
  missing or duplicated columns, no coordinate system at all) raise one
  :class:`~pilotzone.errors.InputError` that lists every one of them;
* row problems (a bad number, an unknown kind, a duplicate id, ...) mark the
  row: it is kept, its ``problems`` say why, and its geometry is ``None``
  where its coordinates cannot be used. ``errors="raise"`` turns them into one
  :class:`~pilotzone.errors.InputError` instead.

Every input row comes out exactly once, in input order.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import decimal
import hashlib
import io
import logging
import math
import numbers
import os
import re
import stat
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from numpy.typing import NDArray

from pilotzone.crs import is_lonlat, normalize_crs, to_wgs84
from pilotzone.rules import FACILITY_KINDS
from pilotzone.errors import InputError, Problem
from pilotzone.zones import gdal_format_problem, geopackage_layer_problem, geopackage_layers

__all__ = ["read_facilities"]

logger = logging.getLogger(__name__)

#: The default ``max_crs`` of :func:`read_facilities`: the most distinct ``crs`` values in one
#: filing. A real filing uses a handful; each new one costs PROJ 20-40 ms to build.
MAX_CRS = 32

#: Values of the ``kind`` column (the rules define them).
KINDS = FACILITY_KINDS
#: Values of the ``tenure`` column.
TENURES = ("owned", "rented", "purchased")

# Canonical column -> accepted headers. Headers are compared after NFKC,
# lower-casing and removing spaces, underscores and hyphens (see _key).
# fmt: off
_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "operator_id": ("operator_id", "operator", "operator name", "运营商", "运营商编号",
                    "运营商名称", "企业", "企业名称", "企业编号", "company", "company name", "公司",
                    "公司名称"),
    "facility_id": ("facility_id", "id", "site_id", "设施编号", "编号", "设施id"),
    "name": ("name", "facility name", "site name", "名称", "设施名称"),
    "address": ("address", "addr", "地址", "详细地址", "设施地址"),
    "kind": ("kind", "type", "facility type", "类型", "设施类型"),
    "tenure": ("tenure", "ownership", "权属", "产权"),
    "services": ("services", "service", "业务", "业务种类", "经营业务"),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "crs": ("crs", "coordinate_system", "coordinate system", "srs", "坐标系", "坐标系统"),
}
_KIND_ALIASES: dict[str, tuple[str, ...]] = {
    "registration": ("registration", "registered address", "registration address",
                     "注册地", "注册地址"),
    "idc": ("idc", "data center", "data centre", "datacenter", "数据中心", "机房",
            "互联网数据中心"),
    "cdn": ("cdn", "cdn node", "cdn节点", "节点", "加速节点", "加速设施", "acceleration node"),
    "isp": ("isp", "access point", "isp access point", "service point", "接入点", "服务点"),
    "server": ("server", "server room", "服务器", "服务器机房"),
    "other": ("other", "其他", "其它"),
}
_TENURE_ALIASES: dict[str, tuple[str, ...]] = {
    "owned": ("owned", "own", "自有", "自建"),
    "rented": ("rented", "rent", "leased", "lease", "租用", "租赁"),
    "purchased": ("purchased", "purchase", "bought", "购买", "外购"),
}
_SERVICE_ALIASES: dict[str, tuple[str, ...]] = {
    "idc": ("idc", "internet data center", "互联网数据中心", "互联网数据中心业务"),
    "cdn": ("cdn", "content delivery network", "内容分发网络", "内容分发网络业务"),
    "isp": ("isp", "internet access", "互联网接入服务", "互联网接入服务业务"),
    "data_processing": ("data_processing", "online data processing", "在线数据处理",
                        "在线数据处理与交易处理", "在线数据处理与交易处理业务"),
    "information_publishing": ("information_publishing", "信息发布平台和递送服务",
                               "信息发布平台和递送服务业务"),
    "information_protection": ("information_protection", "信息保护和处理服务",
                               "信息保护和处理服务业务"),
    "news": ("news", "internet news", "互联网新闻信息", "互联网新闻信息服务"),
    "publishing": ("publishing", "online publishing", "网络出版", "网络出版服务"),
    "audio_video": ("audio_video", "online audio video", "网络视听", "网络音视频",
                    "网络视听节目服务"),
    "internet_culture": ("internet_culture", "互联网文化", "互联网文化活动", "网络文化"),
}
_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".geojson", ".json", ".gpkg", ".shp", ".kml", ".kmz",
             ".parquet", ".geoparquet")
# fmt: on
_RESERVED = ("source_row", "problems", "geometry")
_MAX_KML_BYTES = 256 * 1024 * 1024
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:inf(?:inity)?|nan)", re.IGNORECASE)
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20)])
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f]")
_CONTROL_NAMES = {0x00: " (NUL)", 0x07: " (BEL)", 0x08: " (backspace)", 0x1B: " (ESC)"}
# Private use (where GBK decodes Big5's lead bytes 0xAA-0xAF, 0xF8-0xFE) and U+FFFD.
_NEVER_CHINESE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff\ufffd]")
# Box drawing, kana and bopomofo: where GBK decodes Big5's commonest characters.
_RARELY_CHINESE = re.compile("[\u2500-\u257f\u3040-\u30ff\u3100-\u312f]")
_SERVICE_SEPARATORS = re.compile(r"[;,、/]+")  # after NFKC has folded the full-width forms


def _key(label: object) -> str:
    """Matching key of a header or a coded value: NFKC, lower case, no spaces/_/-."""
    text = unicodedata.normalize("NFKC", str(label)).lower()
    return re.sub(r"[\s_\-]+", "", text)


def _index(aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_key(alias): canonical for canonical, names in aliases.items() for alias in names}


_COLUMN_BY_KEY = _index(_COLUMN_ALIASES)
_KIND_BY_KEY = _index(_KIND_ALIASES)
_TENURE_BY_KEY = _index(_TENURE_ALIASES)
_SERVICE_BY_KEY = _index(_SERVICE_ALIASES)
_RESERVED_KEYS = {_key(name): name for name in _RESERVED}


@dataclass
class _Points:
    """Coordinates carried by a geometry (spatial files, KML) rather than by columns."""

    label: str  # how problems name it: "geometry" or "coordinates"
    x: list[Any]
    y: list[Any]
    missing: list[str | None]  # why a row has no usable point, None where it has one


@dataclass
class _Raw:
    """An input as read, before any column is interpreted."""

    name: str
    sha256: str | None
    frame: pd.DataFrame  # one column per input column, in input order (labels may repeat)
    index: pd.Index
    points: _Points | None = None
    file_crs: Any = None  # the CRS the file declares, or its format implies
    crs_implied: bool = False  # True where file_crs comes from the format (GeoJSON, KML)
    broken_rows: dict[int, str] = field(default_factory=dict)  # position -> reason


def read_facilities(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    crs: Any = None,
    sheet: str | int | None = None,
    errors: Literal["mark", "raise"] = "mark",
    max_bytes: int | None = None,
    max_crs: int = MAX_CRS,
    first_row: int = 1,
) -> gpd.GeoDataFrame:
    """Read a facility filing into a validated GeoDataFrame.

    Parameters
    ----------
    source : str, path-like, pandas.DataFrame or geopandas.GeoDataFrame
        A file, its format chosen by suffix: ``.csv`` (UTF-8, UTF-8 with BOM,
        or GBK/GB18030), ``.xlsx``/``.xlsm``, ``.geojson``/``.json``,
        ``.gpkg``, ``.shp``, ``.kml``, ``.kmz``, ``.parquet``/``.geoparquet``
        (plain or GeoParquet); or a DataFrame, which is not modified.
    crs : str, int or pyproj.CRS, optional
        Coordinate system of the coordinates where a row has no ``crs`` value
        of its own: ``"wgs84"``, ``"gcj02"`` (AMap/Gaode, Tencent),
        ``"bd09"`` (Baidu), ``"cgcs2000"`` or an EPSG code; see
        :func:`pilotzone.crs.normalize_crs`. A row's own ``crs`` wins over it,
        and it wins over the CRS a file declares (GCJ-02 and BD-09 cannot be
        declared in any file format). Never guessed: without a ``crs``
        column, this argument or a CRS declared by the file, the input is
        rejected.
    sheet : str or int, optional
        Excel worksheet or GeoPackage layer: its name, or its 0-based
        position. A name wins: ``"1"`` is the sheet named "1" where there is
        one, else the second; an int is always a position. By default the
        first worksheet, or a GeoPackage's only layer (a GeoPackage of
        several layers needs it). Not accepted for other sources.
    errors : {"mark", "raise"}, default "mark"
        ``"mark"`` keeps rows with problems and describes them in
        ``problems``; ``"raise"`` raises one :class:`InputError` listing every
        row problem instead.
    max_bytes : int, optional
        The largest file, in bytes, that is read; also the most that the
        contents of an ``.xlsx``/``.kmz`` archive or the data of a Parquet
        file may unpack to, that the text of a worksheet may add up to (a
        shared string counted at every cell that uses it), and that the
        columns of a Parquet file may decode to (a dictionary value counted
        at every row that uses it); divided by 8, the most cells a worksheet
        may hold. Default: the memory available now (``MemAvailable`` in
        ``/proc/meminfo``, else ``os.sysconf``) divided by
        :data:`MEMORY_PER_FILE_BYTE`, or :data:`FALLBACK_MAX_BYTES` where it
        cannot be read. A larger input raises :class:`InputError`, naming the
        file, its size and the limit, rather than exhausting memory.
    max_crs : int, default :data:`MAX_CRS`
        The most distinct values the ``crs`` column may hold (blank cells and
        different spellings of one system each count as written). Each new
        coordinate system costs PROJ tens of milliseconds to build, so a
        filing of thousands would take minutes; it raises
        :class:`InputError` before any of them is built.
    first_row : int, default 1
        The number of the first data row, in ``source_row`` and in problems:
        for a piece of a larger filing (a Dask partition), its position in
        the whole.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per input row, in input order; a fresh RangeIndex for files,
        the caller's index for DataFrames. Columns: ``operator_id``,
        ``facility_id``, ``name``, ``address``, ``kind`` (one of
        ``registration, idc, cdn, isp, server, other``), ``tenure``
        (``owned, rented, purchased``), ``services`` (sorted names joined by
        ``;``), ``lon``, ``lat`` (as filed, x first, in the row's own system:
        degrees, or easting/northing for projected systems), ``crs`` (the
        row's system, normalised). ``kind``, ``tenure`` and ``crs`` are
        categorical: the accepted values first (an unknown value, kept as
        written on an invalid row, is an extra category), so a column of a
        few values costs a byte per row and checks need not hash its text.
        Then ``source_row`` (1-based data row; the
        header is row 0), ``problems`` (``""`` for a good row), then the other
        input columns unchanged, then ``geometry``: the WGS-84 point
        (EPSG:4326, x = longitude), ``None`` where the row cannot be located.
        ``attrs["source"]`` is the file name (``"<DataFrame>"``) and
        ``attrs["source_sha256"]`` the SHA-256 of the file's bytes (``None``
        for DataFrames).

    Raises
    ------
    InputError
        For whole-input problems, all listed at once; with
        ``errors="raise"``, also for row problems.
    pilotzone.errors.CRSError
        If the ``crs`` argument is not a coordinate system.
    ValueError
        If ``errors`` is not ``"mark"`` or ``"raise"``, ``sheet`` is given
        for a source without sheets or layers, or ``max_bytes`` or
        ``max_crs`` or ``first_row`` is not a positive integer.

    Notes
    -----
    Headers are matched after Unicode NFKC normalisation (full-width to
    half-width), lower-casing and removing spaces, underscores and hyphens;
    common Chinese headers are accepted (运营商, 类型, 经度, 纬度, 坐标系, ...).
    ``kind`` and ``tenure`` values are matched the same way, with Chinese
    aliases (数据中心 -> ``idc``, 租用 -> ``rented``, ...); ``tenure``
    defaults to ``owned``. Unknown service names are kept, normalised, for the
    rules to report as not covered by the pilot. Where a spatial file has
    both a point geometry and coordinate columns, the geometry is used and a
    row whose columns disagree with it is marked. Excel formulas are read as
    their cached values. KML documents with a DOCTYPE are refused, so no
    entity, internal or external, is ever expanded.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame(
    ...     {"运营商": ["A"], "类型": ["数据中心"], "经度": [121.5065], "纬度": [31.245]}
    ... )
    >>> sites = read_facilities(table, crs="gcj02")
    >>> sites.loc[0, "kind"], sites.loc[0, "crs"], sites.loc[0, "problems"]
    ('idc', 'gcj02', '')
    >>> round(float(sites.geometry.x[0]), 4)
    121.5021
    """
    if errors not in ("mark", "raise"):
        raise ValueError(f"errors must be 'mark' or 'raise', not {errors!r}")
    if isinstance(first_row, bool) or not isinstance(first_row, numbers.Integral) or first_row < 1:
        raise ValueError(f"first_row must be a positive integer, not {first_row!r}")
    if isinstance(max_crs, bool) or not isinstance(max_crs, numbers.Integral) or max_crs < 1:
        raise ValueError(f"max_crs must be a positive integer, not {max_crs!r}")
    crs_argument = None if crs is None else normalize_crs(crs)
    limit = _max_bytes_argument(max_bytes)
    raw = _read(source, sheet, limit)
    return _build(raw, crs_argument, errors, first_row, int(max_crs))


# --------------------------------------------------------------------------- resource limits

#: Peak memory of reading and verifying a filing, per byte of its file: measured 37-46
#: for CSVs of 20 MB of short cells (the worst case), with a margin; see SECURITY.md.
MEMORY_PER_FILE_BYTE = 48
#: The default limit where available memory cannot be read (not Linux, no sysconf).
FALLBACK_MAX_BYTES = 256 * 1024 * 1024
#: A cell of a worksheet costs at least this many bytes once read (a pointer).
_BYTES_PER_CELL = 8


def _default_max_bytes() -> int:
    """The default ``max_bytes`` of :func:`read_facilities`: a share of available memory."""
    available = _available_memory()
    return FALLBACK_MAX_BYTES if available is None else available // MEMORY_PER_FILE_BYTE


def _available_memory() -> int | None:
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo", encoding="ascii") as info:
        for line in info:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(AttributeError, OSError, ValueError):
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    return None


def _max_bytes_argument(value: int | None) -> int:
    if value is None:
        return _default_max_bytes()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"max_bytes must be a positive integer, not {value!r}")
    return int(value)


def _too_large(name: str, what: str, size: int, limit: int) -> InputError:
    return _whole(
        name,
        f"{what} {size:,} bytes, more than the limit of {limit:,} bytes, set so that "
        "reading it cannot exhaust this machine's memory. If the machine has the memory, "
        "raise the limit: read_facilities(..., max_bytes=N). Otherwise split the filing, or "
        "check it in parts as Parquet files: pilotzone verify 'dir/*.parquet' --workers N",
    )


def _check_size(path: Path, name: str, limit: int) -> None:
    """Refuse a file larger than ``limit``, or not a regular file, before reading any of it."""
    try:
        status = path.stat()
    except OSError as error:
        raise _whole(name, f"cannot read the file: {error}") from error
    if not stat.S_ISREG(status.st_mode):  # /dev/zero or a FIFO has no size and no end
        raise _whole(name, "not a regular file (a device, a pipe or a folder)")
    if status.st_size > limit:
        raise _too_large(name, "the file is", status.st_size, limit)


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
        what = "its contents unpack to"
    elif suffix in (".parquet", ".geoparquet"):
        try:
            import pyarrow.parquet as pq

            metadata = pq.read_metadata(io.BytesIO(data))
            groups = range(metadata.num_row_groups)
            encoded = sum(metadata.row_group(i).total_byte_size for i in groups)
            cells = metadata.num_rows * metadata.num_columns
        except Exception:  # pyarrow raises a zoo of types; the reader reports them
            return
        size = max(encoded, cells * _BYTES_PER_CELL)  # dictionary encoding hides repeats
        what = "its data unpacks to at least"
    else:
        return
    if size > limit:
        raise _too_large(name, what, size, limit)


def _check_cells(rows: int, width: int, name: str, limit: int) -> None:
    """Refuse a worksheet of more than ``limit / 8`` cells (rows x widest row so far)."""
    cells = limit // _BYTES_PER_CELL
    if rows * width > cells:
        raise _whole(
            name,
            f"the worksheet has more than {cells:,} cells ({rows:,} rows of up to {width:,} "
            f"cells so far): more than max_bytes={limit:,} allows at {_BYTES_PER_CELL} bytes a "
            "cell. If the machine has the memory, raise the limit: read_facilities(..., "
            "max_bytes=N); otherwise save only the rows and columns in use, or save as CSV",
        )


# --------------------------------------------------------------------------- reading


def _read(source: Any, sheet: str | int | None, limit: int) -> _Raw:
    if isinstance(source, pd.DataFrame):
        if sheet is not None:
            raise ValueError("sheet= applies to Excel workbooks and GeoPackages, not to DataFrames")
        return _from_frame(source, "<DataFrame>", None, source.index, implied_crs=False)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a file path or a DataFrame, not {type(source).__name__}")
    path = Path(source)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise _whole(
            name,
            f"unknown file type {suffix or '(no suffix)'!r}; accepted: {', '.join(_SUFFIXES)}",
        )
    if sheet is not None and suffix not in (".xlsx", ".xlsm", ".gpkg"):
        raise ValueError(
            f"sheet= applies to Excel workbooks and GeoPackages, not to {suffix} files"
        )
    _check_size(path, name, limit)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise _whole(name, f"cannot read the file: {error}") from error
    if not re.search(rb"[^ \t\r\n\xef\xbb\xbf]", data):  # data.strip() would copy a large file
        raise _whole(name, "the file is empty")
    _check_unpacked(data, name, suffix, limit)
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        if suffix == ".csv":
            return _read_csv(data, name, sha256)
        if suffix in (".xlsx", ".xlsm"):
            return _read_excel(data, name, sha256, sheet, limit)
        if suffix in (".kml", ".kmz"):
            return _read_kml(data, name, sha256, zipped=suffix == ".kmz")
        if suffix in (".parquet", ".geoparquet"):
            return _read_parquet(data, name, sha256, limit)
        unsafe = gdal_format_problem(data[:16], suffix)
        if unsafe is not None:
            raise _whole(name, unsafe)
        layer = _layer(path, name, sheet) if suffix == ".gpkg" else None
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
        implied = suffix in (".geojson", ".json")
        return _from_frame(frame, name, sha256, pd.RangeIndex(len(frame)), implied_crs=implied)
    except InputError:
        raise
    except Exception as error:  # readers raise a zoo of types on corrupt files
        raise _whole(name, f"cannot read the file as {suffix}: {error}") from error


def _whole(name: str, reason: str) -> InputError:
    """An error for a problem with the whole file."""
    return InputError(Problem(name, None, None, None, reason))


# ZIP (.xlsx, .kmz), old .xls, UTF-16 text
_BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _binary_problem(data: bytes, name: str) -> InputError:
    """Not text: many control bytes (a few are named cell by cell), or a ZIP or .xls archive."""
    hint = ""
    if data.startswith(b"PK\x03\x04"):
        hint = " (it looks like a ZIP archive: an .xlsx workbook or a .kmz?)"
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        hint = " (it looks like an old .xls workbook: save it as .xlsx)"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        hint = " (it looks like UTF-16 text: save it as UTF-8)"
    return _whole(name, f"binary data, not CSV text{hint}")


def _read_csv(data: bytes, name: str, sha256: str) -> _Raw:
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    # Not text with a few stray control bytes, each named by its cell below.
    many = controls > max(16, len(data) // 100) or controls * 10 > len(data)
    if many or data.startswith(_BINARY_MAGIC):
        raise _binary_problem(data, name)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _whole(name, "not UTF-8 or GBK/GB18030 text")
    misdecoded = _misdecoded(text) if encoding == "gb18030" else None
    if misdecoded is not None:
        raise _whole(name, misdecoded)
    first = text[: min((at for at in (text.find("\n"), text.find("\r")) if at >= 0), default=None)]
    separator = next((s for s in (";", "\t") if s in first and "," not in first), None)
    if separator is not None:
        raise _whole(
            name,
            f"the header {first[:60]!r} has no commas but is split by {separator!r}: the file "
            "is not comma-separated (Excel saves so in some locales). Save it as CSV UTF-8 "
            "(comma delimited), or in LibreOffice choose ',' as the field delimiter",
        )
    logger.debug("%s: decoded as %s", name, encoding)
    # Control bytes mean the same in UTF-8 and GB18030, whose multi-byte sequences never use them.
    utf8 = data.removeprefix(codecs.BOM_UTF8) if encoding == "utf-8-sig" else text.encode("utf-8")
    table = None if controls else _plain_csv(utf8)
    if table is not None:
        return _from_table(table, name, sha256)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[Any]] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise _long_cell(utf8, name, len(rows)) from error
        reason = f"malformed or truncated CSV (line {reader.line_num}): {error}"
        raise _whole(name, reason) from error
    if controls:
        raise _control_cells(rows, name)
    return _from_rows(rows, name, sha256, text=True)


def _control_cells(rows: list[list[str]], name: str) -> InputError:
    """One problem for each cell of a CSV that holds a control character (NUL, ESC, ...)."""
    header = rows[0] if rows else []
    problems = []
    for number, row in enumerate(rows):
        for position, cell in enumerate(row):
            found = _CONTROL.search(cell)
            if found is None:
                continue
            code = ord(found[0])
            label = header[position] if position < len(header) else f"column_{position + 1}"
            problems.append(
                Problem(
                    name,
                    number,
                    label,
                    None,
                    f"the cell holds the control character U+{code:04X}"
                    f"{_CONTROL_NAMES.get(code, '')}, which no filing needs and a terminal "
                    "would act on; remove it",
                )
            )
    return InputError(problems)


def _long_cell(utf8: bytes, name: str, row: int) -> InputError:
    """The problem of a CSV whose row ``row`` (0: the header) has a cell over the csv module's
    limit; pyarrow, which has no such limit, finds the cell's column where it can."""
    import pyarrow.csv as pa_csv

    limit = csv.field_size_limit()
    column = None
    with contextlib.suppress(pa.ArrowInvalid):
        table = pa_csv.read_csv(
            io.BytesIO(utf8),
            read_options=pa_csv.ReadOptions(
                autogenerate_column_names=True, block_size=len(utf8) + 1
            ),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={}, strings_can_be_null=False, auto_dict_encode=False
            ),
        )
        header = table.slice(0, 1).to_pylist()[0]
        cells = table.slice(row, 1).to_pylist()[0]
        column = next((str(header[k]) for k, v in cells.items() if len(str(v)) > limit), None)
    return InputError(
        Problem(
            name,
            row,
            column,
            None,
            f"a cell is longer than {limit:,} characters, the most a CSV cell may hold; no "
            "filing text needs so much: check that its quotes are balanced",
        )
    )


def _misdecoded(text: str) -> str | None:
    """Why text decoded as GB18030 is not plausibly what was written, or None.

    Any byte pairs decode as GB18030, so a file in another encoding passes
    as text. Big5 (Traditional Chinese) decodes to private-use characters
    and to kana, bopomofo and box drawing in place of the commonest
    characters; legitimate GBK/GB18030 Chinese has no private-use or
    replacement characters, and those others are rare in it.
    """
    found = _NEVER_CHINESE.search(text)
    if found is None:
        foreign = len(_RARELY_CHINESE.findall(text))
        non_ascii = len(text) - len(text.encode("ascii", "ignore"))
        if foreign >= 2 and foreign * 20 >= non_ascii:
            found = _RARELY_CHINESE.search(text)
    if found is None:
        return None
    start = text.rfind("\n", 0, found.start()) + 1
    end = text.find("\n", found.start())
    line = text[start : end if end >= 0 else len(text)].strip()
    number = text.count("\n", 0, start) + 1
    return (
        f"the text does not read as Chinese in GBK/GB18030: line {number} reads {line[:40]!r}. "
        "The file is probably in another encoding, such as Big5 (Traditional Chinese): save it "
        "as UTF-8 (in Excel: Save As, CSV UTF-8) and read it again"
    )


def _read_excel(
    data: bytes, name: str, sha256: str, sheet: str | int | None, limit: int
) -> _Raw:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheets = book.worksheets
        names = [ws.title for ws in sheets]
        worksheet = sheets[0 if sheet is None else _position(names, sheet, name, "worksheet")]
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
                what = f"the text of worksheet {worksheet.title!r} is at least"
                raise _too_large(name, what, text, limit)
        if sheet is None and all(_is_blank(cell) for row in rows for cell in row):
            filled = next((ws.title for ws in sheets[1:] if _holds_data(ws)), None)
            if filled is not None:
                raise _whole(
                    name,
                    f"the first worksheet, {names[0]!r}, is empty; worksheet {filled!r} holds "
                    f"data: read it with read_facilities(..., sheet={filled!r}) or pilotzone "
                    f"verify FILE --sheet {filled!r}",
                )
    finally:
        book.close()
    return _from_rows([row + [None] * (width - len(row)) for row in rows], name, sha256, text=False)


def _holds_data(worksheet: Any) -> bool:
    """Whether a read-only worksheet has a cell that is not blank (read up to the first)."""
    worksheet.reset_dimensions()
    return any(not _is_blank(c) for row in worksheet.iter_rows(values_only=True) for c in row)


def _position(names: list[str], sheet: str | int, name: str, what: str) -> int:
    """Where the worksheet or layer ``sheet`` is in ``names``.

    A name wins over a position: ``"1"`` is the one named "1" where there is
    one, else the second; an int is always a position.
    """
    if isinstance(sheet, str) and sheet in names:
        return names.index(sheet)
    position = int(sheet) if isinstance(sheet, str) and re.fullmatch("[0-9]+", sheet) else sheet
    if isinstance(position, int) and not isinstance(position, bool):
        if -len(names) <= position < len(names):
            return position % len(names)
    raise InputError(Problem(name, None, None, sheet, f"no such {what}; the file has {names}"))


def _layer(path: Path, name: str, sheet: str | int | None) -> str:
    """The GeoPackage layer to read: ``sheet``, or the only one; never an SQL view."""
    try:
        layers = geopackage_layers(path)
    except ValueError as error:
        raise _whole(name, f"cannot read the file as .gpkg: {error}") from error
    names = [layer for layer, _ in layers]
    if not names:
        raise _whole(name, "the GeoPackage has no feature or attribute layer")
    if sheet is None and len(names) > 1:
        raise _whole(
            name,
            f"the GeoPackage has {len(names)} layers, {names}; say which one holds the "
            "filing: read_facilities(..., sheet=NAME) or pilotzone verify FILE --sheet NAME",
        )
    layer, kind = layers[0 if sheet is None else _position(names, sheet, name, "layer")]
    problem = geopackage_layer_problem(layer, kind)
    if problem is not None:
        raise _whole(name, problem)
    return layer


def _is_blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _from_rows(rows: list[list[Any]], name: str, sha256: str, *, text: bool) -> _Raw:
    """Header row + data rows (CSV, Excel) -> _Raw; blank rows at the end are not data.

    ``text`` says that every cell is a str, as in a CSV file.
    """
    while rows and all(_is_blank(cell) for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise _whole(name, "the file is empty")
    header, body = rows[0], rows[1:]
    if all(_is_blank(cell) for cell in header):
        raise InputError(
            Problem(name, 0, None, None, "the first row is empty: it must name the columns")
        )
    width = len(header)
    broken: dict[int, str] = {}
    cells: list[list[Any]] = body
    if any(len(row) != width for row in body):
        cells = []
        for position, row in enumerate(body):
            if len(row) > width and not all(_is_blank(cell) for cell in row[width:]):
                broken[position] = f"the row has {len(row)} cells but the header has {width}"
            cells.append(list(row[:width]) + [""] * (width - len(row)))
    columns = list(zip(*cells, strict=True)) if cells else [()] * width
    return _framed(header, columns, name, sha256, broken, text=text)


def _framed(
    header: Sequence[Any],
    columns: Sequence[Sequence[Any] | pa.ChunkedArray],
    name: str,
    sha256: str,
    broken: dict[int, str],
    *,
    text: bool,
) -> _Raw:
    """The header and columns of a CSV or worksheet -> _Raw; unnamed empty columns are dropped."""

    def cells(column: Sequence[Any] | pa.ChunkedArray) -> Sequence[Any]:
        return column.to_pylist() if isinstance(column, pa.ChunkedArray) else column

    width = len(header)
    keep = [
        i
        for i in range(width)
        if not _is_blank(header[i]) or any(not _is_blank(cell) for cell in cells(columns[i]))
    ]
    labels = [
        f"column_{i + 1}" if _is_blank(header[i]) else str(header[i]).strip("\ufeff") for i in keep
    ]
    frame = pd.DataFrame(
        {j: _cells(columns[i], text=text) for j, i in enumerate(keep)},
        index=pd.RangeIndex(len(columns[0]) if columns else 0),
    )
    frame.columns = labels
    return _Raw(name, sha256, frame, pd.RangeIndex(len(frame)), broken_rows=broken)


def _plain_csv(data: bytes) -> pa.Table | None:
    """A CSV without quotes, each of whose lines has as many cells as the first, read by pyarrow
    (all cells text, the first row included); None for any other CSV, which the csv module reads.

    Without quotes the csv module only splits lines at line breaks and cells at commas, which
    pyarrow does the same way, far faster.
    """
    if b'"' in data:
        return None
    import pyarrow.csv as pa_csv

    ends = [at for at in (data.find(b"\n"), data.find(b"\r")) if at >= 0]
    width = data[: min(ends, default=len(data))].count(b",") + 1
    names = [f"c{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:  # a row with another number of cells, blank lines, ...
        return None
    longest = max((pc.max(pc.utf8_length(c)).as_py() or 0 for c in table.columns), default=0)
    if longest > csv.field_size_limit():  # the csv module refuses such a file
        return None
    return table


def _from_table(table: pa.Table, name: str, sha256: str) -> _Raw:
    """:func:`_from_rows` for a table from :func:`_plain_csv`."""
    n = table.num_rows
    while n > 1 and all(not str(v).strip() for v in table.slice(n - 1, 1).to_pylist()[0].values()):
        n -= 1  # blank rows at the end are not data
    header = [str(table.column(i)[0].as_py()) for i in range(table.num_columns)]
    if n == 1 and all(not cell.strip() for cell in header):
        raise _whole(name, "the file is empty")
    if all(not cell.strip() for cell in header):
        raise InputError(
            Problem(name, 0, None, None, "the first row is empty: it must name the columns")
        )
    columns = [table.column(i).slice(1, n - 1) for i in range(table.num_columns)]
    return _framed(header, columns, name, sha256, {}, text=True)


def _cells(column: Sequence[Any] | pa.ChunkedArray, *, text: bool) -> Any:
    """One column of a CSV (``text``: every cell a str) or worksheet as pandas would infer it."""
    if isinstance(column, pa.ChunkedArray):
        return pd.array(column, dtype=_STR) if _STR != object else pd.Series(column.to_pylist()).array
    if _STR != object and text:
        return pd.array(pa.array(column, type=pa.large_string()), dtype=_STR)
    return pd.Series(list(column)).array


def _read_parquet(data: bytes, name: str, sha256: str, limit: int) -> _Raw:
    try:
        import pyarrow.parquet as pq
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("reading Parquet needs pyarrow: pip install pyarrow") from error
    schema = pq.read_schema(io.BytesIO(data))
    repeated = [label for label, count in Counter(schema.names).items() if count > 1]
    if repeated:
        raise InputError(
            [
                Problem(name, None, label, None, "more than one column has this name; "
                        "rename the others, since a column is found by its name")
                for label in repeated
            ]
        )
    _check_parquet_data(data, name, limit)
    metadata = schema.metadata or {}
    if b"geo" in metadata:
        frame: pd.DataFrame = gpd.read_parquet(io.BytesIO(data))
    else:
        frame = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    if not isinstance(frame.index, pd.RangeIndex):  # a stored index is data: keep it as columns
        frame = frame.reset_index()
    return _from_frame(frame, name, sha256, pd.RangeIndex(len(frame)), implied_crs=False)


def _check_parquet_data(data: bytes, name: str, limit: int) -> None:
    """Refuse a Parquet file whose columns decode to more than ``limit`` bytes.

    Text and binary columns are read as dictionaries, one column of one row
    group at a time, so a value stored once and used by many rows is counted
    at every use without being copied. The file's own metadata is not trusted.
    """
    import pyarrow.parquet as pq

    layout = pq.ParquetFile(io.BytesIO(data)).schema
    leaves = [layout.column(i) for i in range(len(layout))]
    text = [leaf.path for leaf in leaves if leaf.physical_type == "BYTE_ARRAY"]
    file = pq.ParquetFile(io.BytesIO(data), read_dictionary=text)
    sizes: Counter[str] = Counter()
    for group in range(file.num_row_groups):
        for label in file.schema_arrow.names:
            column = file.read_row_group(group, columns=[label]).column(0)
            sizes[label] += sum(_decoded_bytes(chunk) for chunk in column.chunks)
            total = sum(sizes.values())
            if total > limit:
                largest = sizes.most_common(1)[0][0]
                what = f"its data (most of it in column {largest!r}) decodes to at least"
                raise _too_large(name, what, total, limit)


def _decoded_bytes(array: pa.Array) -> int:
    """Bytes ``array`` takes once every dictionary value is copied to each row using it."""
    if isinstance(array, pa.DictionaryArray):
        used = pc.take(pc.binary_length(array.dictionary), array.indices)
        return int(pc.sum(used).as_py() or 0) + array.indices.nbytes
    if isinstance(array, (pa.ListArray, pa.LargeListArray, pa.FixedSizeListArray)):
        return array.offsets.nbytes + _decoded_bytes(array.flatten())
    if isinstance(array, pa.StructArray):
        return sum(_decoded_bytes(child) for child in array.flatten())
    return array.nbytes


def _from_frame(
    frame: pd.DataFrame, name: str, sha256: str | None, index: pd.Index, *, implied_crs: bool
) -> _Raw:
    """A (Geo)DataFrame -> _Raw; an active point geometry becomes the coordinates."""
    geometry = None
    if isinstance(frame, gpd.GeoDataFrame):
        try:
            geometry = frame.geometry
        except AttributeError:  # a GeoDataFrame without an active geometry column
            geometry = None
    if geometry is None:
        return _Raw(name, sha256, pd.DataFrame(frame), index)
    position = list(frame.columns).index(geometry.name)
    plain = pd.DataFrame(frame.iloc[:, [i for i in range(frame.shape[1]) if i != position]])
    values = np.asarray(geometry.array, dtype=object)
    single = shapely.get_type_id(values) == 4  # MultiPoint
    single &= shapely.get_num_geometries(values) == 1
    values = np.where(single, shapely.get_geometry(values, 0), values)
    kind = shapely.get_type_id(values)
    is_point = (kind == 0) & ~shapely.is_empty(values)
    x = np.where(is_point, shapely.get_x(values), np.nan)
    y = np.where(is_point, shapely.get_y(values), np.nan)
    missing: list[str | None] = [
        None
        if ok
        else (
            "no point geometry"
            if g is None or shapely.is_empty(g)
            else f"the geometry is a {g.geom_type}, not a point"
        )
        for ok, g in zip(is_point.tolist(), values.tolist(), strict=True)
    ]
    points = _Points("geometry", x.tolist(), y.tolist(), missing)
    return _Raw(name, sha256, plain, index, points, geometry.crs, crs_implied=implied_crs)


class _DoctypeForbidden(Exception):
    pass


class _NoDoctype(ET.TreeBuilder):
    """Tree builder that refuses DOCTYPE, so entities are never declared or expanded."""

    def doctype(self, name: str, pubid: str, system: str) -> None:
        raise _DoctypeForbidden(name)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _read_kml(data: bytes, name: str, sha256: str, *, zipped: bool) -> _Raw:
    if zipped:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = [i for i in archive.infolist() if i.filename.lower().endswith(".kml")]
            if not entries:
                raise _whole(name, "the KMZ holds no .kml document")
            entries.sort(key=lambda i: (i.filename.lower() != "doc.kml", i.filename.count("/")))
            if entries[0].file_size > _MAX_KML_BYTES:
                raise _whole(name, "the KML inside the KMZ is too large")
            data = archive.read(entries[0])
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(data)
        root = parser.close()
    except _DoctypeForbidden:
        raise _whole(name, "the KML has a DOCTYPE, which pilotzone refuses to read") from None
    except ET.ParseError as error:
        raise _whole(name, f"not well-formed XML (truncated?): {error}") from error
    except ValueError as error:  # expat reads UTF-8, UTF-16 and Latin-1 only
        declared = re.match(rb"\s*<\?xml[^>]*?encoding=[\"']([^\"']{1,40})", data)
        encoding = declared[1].decode("ascii", "replace") if declared else "unknown"
        raise _whole(
            name,
            f"the KML is in the {encoding} encoding, which pilotzone does not read: KML is UTF-8. "
            f"Save it as UTF-8 (e.g. iconv -f {encoding} -t UTF-8) and change "
            f"encoding=\"{encoding}\" to encoding=\"UTF-8\" in its first line",
        ) from error
    placemarks: list[tuple[dict[str, str], dict[str, str]]] = []
    xs: list[Any] = []
    ys: list[Any] = []
    missing: list[str | None] = []
    for placemark in (e for e in root.iter() if _local(e.tag) == "Placemark"):
        own: dict[str, str] = {}
        extended: dict[str, str] = {}
        for child in placemark:
            if _local(child.tag) in ("name", "description"):
                own[_local(child.tag)] = (child.text or "").strip()
        for element in placemark.iter():
            tag, key = _local(element.tag), element.get("name")
            if tag == "Data" and key is not None:
                value = next((c.text for c in element if _local(c.tag) == "value"), None)
                extended[key] = (value or "").strip()
            elif tag == "SimpleData" and key is not None:
                extended[key] = (element.text or "").strip()
        placemarks.append((own, extended))
        x, y, why = _kml_point(placemark)
        xs.append(x)
        ys.append(y)
        missing.append(why)
    # <name>/<description> give way, as kml_name/kml_description, to ExtendedData meaning the same.
    meanings = {_meaning(k) for _, extended in placemarks for k in extended}
    rows: list[dict[str, str]] = []
    for own, extended in placemarks:
        row = {(f"kml_{k}" if _meaning(k) in meanings else k): v for k, v in own.items()}
        row.update(extended)
        rows.append(row)
    labels: list[str] = list(dict.fromkeys(k for row in rows for k in row))
    frame = pd.DataFrame([[row.get(k, "") for k in labels] for row in rows], columns=labels)
    points = _Points("coordinates", xs, ys, missing)
    return _Raw(name, sha256, frame, pd.RangeIndex(len(rows)), points, "wgs84", crs_implied=True)


def _meaning(label: str) -> str:
    key = _key(label)
    return _COLUMN_BY_KEY.get(key, key)


def _kml_point(placemark: ET.Element) -> tuple[Any, Any, str | None]:
    """x, y (as text) of a Placemark's single Point, or why there is none."""
    geometries = [
        _local(e.tag)
        for e in placemark.iter()
        if _local(e.tag)
        in ("MultiGeometry", "Point", "LineString", "LinearRing", "Polygon", "Model", "Track")
    ]
    if not geometries:
        return None, None, "the Placemark has no geometry: give it a <Point> with lon,lat"
    if geometries != ["Point"]:
        found = ", ".join(geometries)
        return None, None, (
            f"the Placemark is not a single Point ({found}): give each facility a Placemark of "
            "its own, with one <Point>"
        )
    point = next(e for e in placemark.iter() if _local(e.tag) == "Point")
    element = next((e for e in point if _local(e.tag) == "coordinates"), None)
    text = re.sub(r"\s*,\s*", ",", (element.text or "") if element is not None else "").strip()
    parts = text.split(",")
    if not text or len(text.split()) != 1 or len(parts) not in (2, 3):
        return None, None, f"Point coordinates {text!r} are not 'lon,lat[,alt]'"
    return parts[0], parts[1], None


# --------------------------------------------------------------------------- cells


def _text(value: Any, *, fold: bool = True) -> str:
    """A cell as text: '' for missing, integral floats without '.0', NFKC when ``fold``."""
    if _is_blank(value):
        return ""
    if isinstance(value, float | np.floating):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
    text = str(value).strip()
    return unicodedata.normalize("NFKC", text) if fold else text


def _number(value: Any) -> tuple[float, str | None]:
    """A cell as a finite float, or NaN and the reason it is not one."""
    if _is_blank(value):
        return math.nan, "missing"
    if isinstance(value, bool | np.bool_):
        return math.nan, "not a number"
    if isinstance(value, numbers.Real | decimal.Decimal):
        number = float(value)
        return (number, None) if math.isfinite(number) else (math.nan, "not a finite number")
    if not isinstance(value, str):
        return math.nan, "not a number"
    text = unicodedata.normalize("NFKC", value).strip().replace("\u2212", "-")
    if "," in text:
        return math.nan, "not a number: write decimals with a point, without thousands separators"
    if _NOT_FINITE.fullmatch(text):
        return math.nan, "not a finite number"
    if not _NUMBER.fullmatch(text):
        return math.nan, "not a number"
    return float(text), None


def _services(value: Any) -> str:
    """Declared services -> sorted canonical names joined by ';' (unknown names kept).

    Pieces between ``; , 、 /`` are split further on whitespace, matching the
    longest run of words that names a service, so "information publishing"
    stays one name and "idc cdn" becomes two.
    """
    found: set[str] = set()
    for piece in _SERVICE_SEPARATORS.split(_text(value)):
        words = piece.split()
        start = 0
        while start < len(words):
            for end in range(len(words), start, -1):
                known = _SERVICE_BY_KEY.get(_key(" ".join(words[start:end])))
                if known is not None:
                    found.add(known)
                    start = end
                    break
            else:
                found.add(re.sub(r"-+", "_", words[start].lower()))
                start += 1
    return ";".join(sorted(found))


@dataclass
class _CRSInfo:
    name: str | None  # normalised, or None where unknown
    lonlat: bool = False
    reason: str | None = None


def _crs_info(value: str) -> _CRSInfo:
    try:
        # No name search in PROJ's database for a file's cells: a junk value would cost up to a second.
        name = normalize_crs(value, search_names=False)
        return _CRSInfo(name, is_lonlat(name))
    except (ValueError, RuntimeError):  # CRSError, or pyproj failing on an odd CRS
        return _CRSInfo(
            None,
            reason="unknown coordinate system, expected wgs84|cgcs2000|gcj02|bd09 "
            "or an EPSG code such as EPSG:4547",
        )


# --------------------------------------------------------------------------- validation


def _match_columns(raw: _Raw) -> tuple[dict[str, int], list[int], list[Problem]]:
    """Canonical name -> column position, extra column positions, whole-input problems."""
    labels = list(raw.frame.columns)
    canonical: dict[str, int] = {}
    extras: list[int] = []
    problems: list[Problem] = []
    for position, label in enumerate(labels):
        key = _key(label)
        meaning = _COLUMN_BY_KEY.get(key)
        if key in _RESERVED_KEYS:
            problems.append(
                Problem(
                    raw.name,
                    None,
                    str(label),
                    None,
                    f"{_RESERVED_KEYS[key]!r} is a column pilotzone writes; rename or remove it",
                )
            )
        elif meaning is None:
            extras.append(position)
        elif meaning in canonical:
            first = labels[canonical[meaning]]
            problems.append(
                Problem(
                    raw.name,
                    None,
                    str(label),
                    None,
                    f"columns {str(first)!r} and {str(label)!r} both mean {meaning!r}; keep one",
                )
            )
        else:
            canonical[meaning] = position
    counts = Counter(labels[i] for i in extras)
    for label, count in counts.items():
        if count > 1:
            problems.append(
                Problem(raw.name, None, str(label), None, f"the column name appears {count} times")
            )

    def require(column: str) -> None:
        accepted = ", ".join(dict.fromkeys(_COLUMN_ALIASES[column]))
        found = ", ".join(repr(str(label)) for label in labels) or "none"
        problems.append(
            Problem(
                raw.name,
                None,
                column,
                None,
                f"missing required column (accepted headers: {accepted}; found: {found})",
            )
        )

    for column in ("operator_id", "kind"):
        if column not in canonical:
            require(column)
    has_lon, has_lat = "lon" in canonical, "lat" in canonical
    if has_lon != has_lat or (not has_lon and raw.points is None):
        for column in ("lon", "lat"):
            if column not in canonical:
                require(column)
    return canonical, extras, problems


def _build(
    raw: _Raw, crs_argument: str | None, errors: str, first_row: int, max_crs: int
) -> gpd.GeoDataFrame:
    columns, extras, whole = _match_columns(raw)
    name = raw.name
    if len(raw.frame) == 0:
        whole.append(Problem(name, None, None, None, "no data rows: nothing to check"))
    file_crs: str | None = None
    if raw.file_crs is not None:
        try:
            file_crs = normalize_crs(raw.file_crs)
        except ValueError as error:
            whole.append(Problem(name, None, None, None, f"the file's coordinate system: {error}"))
    if "crs" not in columns and crs_argument is None and raw.file_crs is None:
        whole.append(
            Problem(
                name,
                None,
                "crs",
                None,
                "no coordinate system: add a 'crs' column (坐标系) or pass crs=, e.g. "
                "crs='gcj02' for AMap/Tencent, crs='bd09' for Baidu, crs='wgs84' for GPS",
            )
        )
    if whole:
        raise InputError(whole)
    if crs_argument is not None and file_crs not in (None, crs_argument) and not raw.crs_implied:
        logger.warning("%s declares %s; crs=%r is used instead", name, file_crs, crs_argument)
    default_crs = crs_argument or file_crs

    frame = raw.frame
    n = len(frame)
    rows = np.arange(first_row, first_row + n)
    label = {c: str(frame.columns[i]) for c, i in columns.items()}

    def column(name: str) -> pd.Series:
        if name in columns:
            return frame.iloc[:, columns[name]]
        return pd.Series(np.full(n, None, dtype=object), copy=False)

    problems: dict[int, list[Problem]] = {}

    def mark(position: int, column: str | None, value: Any, reason: str) -> None:
        problems.setdefault(position, []).append(
            Problem(name, int(rows[position]), column, value, reason)
        )

    for position, reason in raw.broken_rows.items():
        mark(position, None, None, reason)

    operator_ids = _text_column(column("operator_id"))
    no_operator = np.flatnonzero(pc.equal(operator_ids, _EMPTY).to_numpy(zero_copy_only=False))
    for i in no_operator.tolist():
        mark(i, label["operator_id"], None, "missing")
    facility_ids = _text_column(column("facility_id"))
    no_id = pc.equal(facility_ids, _EMPTY)
    if pc.any(no_id).as_py():
        facility_ids = pc.replace_with_mask(
            facility_ids,
            no_id,
            pa.array(rows[no_id.to_numpy(zero_copy_only=False)].astype(str), type=pa.large_string()),
        )
    names = _text_column(column("name"), fold=False)
    addresses = _text_column(column("address"), fold=False)
    kinds = _coded(column("kind"), _KIND_BY_KEY, None, "kind", KINDS, label["kind"], mark)
    tenures = _coded(
        column("tenure"),
        _TENURE_BY_KEY,
        "owned",
        "tenure",
        TENURES,
        label.get("tenure", "tenure"),
        mark,
    )
    cell, cells = _distinct(column("services"))
    service_names = _labels([_services(v) for v in cells], cell)

    lon, lat, usable = _coordinates(raw, columns, label, column, mark)
    where = raw.points.label if raw.points is not None else "lon"
    lon_label, lat_label = label.get("lon", where), label.get("lat", where)
    crs_code, crs_names, lonlat = _row_crs(
        column("crs"), default_crs, label.get("crs", "crs"), usable, mark, (name, max_crs)
    )
    with np.errstate(invalid="ignore"):
        bad_lat = lonlat & (np.abs(lat) > 90.0)
        bad_lon = lonlat & (np.abs(lon) > 180.0)
    for i in np.flatnonzero(bad_lat).tolist():
        swapped = abs(lat[i]) <= 180.0 and abs(lon[i]) <= 90.0
        hint = " (longitude and latitude swapped?)" if swapped else ""
        mark(i, lat_label, float(lat[i]), f"latitude outside [-90, 90]{hint}")
    for i in np.flatnonzero(bad_lon).tolist():
        mark(i, lon_label, float(lon[i]), "longitude outside [-180, 180]")
    usable &= ~(bad_lat | bad_lon)
    geometry = _wgs84_points(lon, lat, crs_code, crs_names, usable, lon_label, mark)

    for i, first in _repeats(operator_ids, facility_ids):
        mark(
            i,
            label.get("facility_id", "facility_id"),
            facility_ids[i].as_py(),
            f"duplicate of row {rows[first]} (same operator_id and facility_id)",
        )

    for i in _blank_rows(frame, raw.points, no_operator):
        problems[i] = [Problem(name, int(rows[i]), None, None, "empty row")]
        geometry[i] = None

    marked = sorted(problems)
    if errors == "raise":
        found = [p for i in marked for p in problems[i]]
        if found:
            raise InputError(found)
    described = np.zeros(n, dtype=np.intp)
    described[marked] = np.arange(1, len(marked) + 1)

    data: dict[Hashable, Any] = {
        "operator_id": _column(operator_ids),
        "facility_id": _column(facility_ids),
        "name": _column(names),
        "address": _column(addresses),
        "kind": kinds,
        "tenure": tenures,
        "services": service_names,
        "lon": lon,
        "lat": lat,
        "crs": _category(crs_names, crs_code),
        "source_row": rows,
        "problems": _labels(
            ["", *("; ".join(_describe(p) for p in problems[i]) for i in marked)], described
        ),
    }
    for position in extras:
        data[frame.columns[position]] = frame.iloc[:, position].array
    result = pd.DataFrame(data, index=raw.index)
    result["geometry"] = geometry
    out = gpd.GeoDataFrame(result, geometry="geometry", crs="EPSG:4326")
    out.attrs["source"] = name
    out.attrs["source_sha256"] = raw.sha256
    logger.debug("%s: %d rows, %d with problems", name, n, len(marked))
    return out


def _describe(problem: Problem) -> str:
    value = problem.value
    shown = "" if value is None or (isinstance(value, str) and not value) else f" ({value!r:.80})"
    if problem.column is None:
        return f"{problem.reason}{shown}"
    return f"column {problem.column!r}: {problem.reason}{shown}"


_Mark = Callable[[int, str | None, Any, str], None]


def _coded(
    values: pd.Series,
    by_key: dict[str, str],
    default: str | None,
    what: str,
    accepted: Sequence[str],
    column: str,
    mark: _Mark,
) -> Any:
    """Map coded cells (kind, tenure) to canonical values; unknown ones keep their text."""
    cell, cells = _distinct(values)
    coded: list[str] = []
    unknown: list[str | None] = []  # the text of an unknown value, None for a known one
    for value in cells:
        text = _text(value)
        known = by_key.get(_key(text)) if text else default
        coded.append(known if known is not None else text)
        unknown.append(None if known is not None else text)
    bad = np.array([u is not None for u in unknown] + [False], dtype=bool)
    for i in np.flatnonzero(bad[cell]).tolist():
        text = unknown[cell[i]]
        if text == "":
            mark(i, column, None, "missing")
        else:
            mark(i, column, text, f"unknown {what}, expected {'|'.join(accepted)}")
    return _category(coded, cell, accepted)


def _coordinates(
    raw: _Raw,
    columns: dict[str, int],
    label: dict[str, str],
    column: Callable[[str], pd.Series],
    mark: _Mark,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """lon, lat as filed and whether they are usable; geometry first, then columns."""
    n = len(raw.frame)
    usable = np.ones(n, dtype=bool)
    usable[list(raw.broken_rows)] = False
    has_columns = "lon" in columns
    points = raw.points
    if points is None:
        lon, lon_bad = _numbers(column("lon"))
        lat, lat_bad = _numbers(column("lat"))
        # A row's problems are listed lon first, then lat.
        for i, value, reason, axis in sorted(
            [(i, v, r, 0) for i, v, r in lon_bad] + [(i, v, r, 1) for i, v, r in lat_bad],
            key=lambda found: (found[0], found[3]),
        ):
            mark(i, label["lon" if axis == 0 else "lat"], value, reason)
            usable[i] = False
        return lon, lat, usable
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    column_x = column("lon").tolist() if has_columns else [None] * n
    column_y = column("lat").tolist() if has_columns else [None] * n
    for i in range(n):
        from_geometry = points.missing[i] is None
        if not from_geometry and not has_columns:
            mark(i, points.label, None, points.missing[i] or "no point")
            usable[i] = False
            continue
        if from_geometry:
            sources = ((points.x[i], points.label, 0), (points.y[i], points.label, 1))
        else:
            sources = ((column_x[i], label["lon"], 0), (column_y[i], label["lat"], 1))
        for value, name, axis in sources:
            number, reason = _number(value)
            (lon if axis == 0 else lat)[i] = number
            if reason is not None:
                mark(i, name, value, reason)
                usable[i] = False
        if from_geometry and has_columns and usable[i]:
            for value, name, filed in (
                (column_x[i], label["lon"], lon[i]),
                (column_y[i], label["lat"], lat[i]),
            ):
                number, reason = _number(value)
                if reason is None and not math.isclose(number, filed, rel_tol=1e-6, abs_tol=1e-6):
                    mark(i, name, value, f"differs from the point geometry ({filed!r})")
                    usable[i] = False
    return lon, lat, usable


def _row_crs(
    values: pd.Series,
    default: str | None,
    column: str,
    usable: NDArray[np.bool_],
    mark: _Mark,
    limit: tuple[str, int],
) -> tuple[NDArray[np.intp], list[str], NDArray[np.bool_]]:
    """Each row's CRS (an index into the list of normalised names: the row's value, else the
    default), that list, and whether each row's CRS is lon/lat.

    ``limit`` is the file's name and the most distinct values allowed, checked before any
    value is parsed: PROJ takes 20-40 ms to build each new coordinate system.
    """
    cell, cells = _distinct(values)
    texts = {_text(value) for value in cells} - {""}
    file, max_crs = limit
    if len(texts) > max_crs:
        reason = (
            f"{len(texts):,} distinct coordinate systems, more than the limit of {max_crs:,} "
            "(a filing normally uses a handful, and each costs PROJ time to set up). Write one "
            "spelling per system, or raise the limit: read_facilities(..., max_crs=N), or "
            "pilotzone verify --max-crs N"
        )
        raise InputError(Problem(file, None, column, None, reason))
    cache: dict[str, _CRSInfo] = {}
    names: list[str] = []
    lonlat: list[bool] = []
    reasons: list[tuple[str | None, str] | None] = []  # (value, reason) of a cell that is no CRS
    for value in cells:
        text = _text(value)
        if not text:
            if default is None:
                names.append("")
                lonlat.append(False)
                reasons.append((None, "no coordinate system for this row (and no crs= given)"))
                continue
            text = default
        info = cache.get(text)
        if info is None:
            info = cache[text] = _crs_info(text)
        names.append(info.name or text)
        lonlat.append(info.name is not None and info.lonlat)
        if info.name is None:
            reasons.append((text, info.reason or "unknown coordinate system"))
        else:
            reasons.append(None)
    bad = np.array([r is not None for r in reasons] + [False], dtype=bool)
    for i in np.flatnonzero(bad[cell]).tolist():
        value, reason = reasons[cell[i]]  # type: ignore[misc]
        mark(i, column, value, reason)
        usable[i] = False
    return cell, names, np.array(lonlat + [False], dtype=bool)[cell]


def _wgs84_points(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    crs_code: NDArray[np.intp],
    crs_names: list[str],
    usable: NDArray[np.bool_],
    column: str,
    mark: _Mark,
) -> NDArray[np.object_]:
    """WGS-84 points for usable rows, converted once per distinct CRS."""
    geometry = np.full(len(lon), None, dtype=object)
    for code in dict.fromkeys(crs_code[usable].tolist()):
        crs_name = crs_names[code]
        rows = np.flatnonzero(usable & (crs_code == code))
        try:
            lon84, lat84 = to_wgs84(lon[rows], lat[rows], crs_name)
        except (ValueError, RuntimeError) as error:  # pyproj cannot build this transformation
            for i in rows:
                mark(
                    int(i),
                    column,
                    (float(lon[i]), float(lat[i])),
                    f"cannot convert from {crs_name} to WGS-84: {str(error).splitlines()[0]}",
                )
            continue
        good = (
            np.isfinite(lon84)
            & np.isfinite(lat84)
            & (np.abs(lon84) <= 180.0)
            & (np.abs(lat84) <= 90.0)
        )
        for i in rows[~good]:
            mark(
                int(i),
                column,
                (float(lon[i]), float(lat[i])),
                f"cannot be converted from {crs_name} to WGS-84 (outside the system's area?)",
            )
        geometry[rows[good]] = shapely.points(lon84[good], lat84[good])
    return geometry


def _repeats(operator_ids: pa.Array, facility_ids: pa.Array) -> list[tuple[int, int]]:
    """(position, position of its first occurrence) of every repeated (operator_id, facility_id)
    pair after the first; rows without an operator id take no part."""
    has = np.flatnonzero(pc.not_equal(operator_ids, _EMPTY).to_numpy(zero_copy_only=False))
    if len(has) < len(operator_ids):
        operator_ids, facility_ids = operator_ids.take(has), facility_ids.take(has)
    facility = pc.dictionary_encode(facility_ids)
    if len(facility.dictionary) == len(has):  # every facility id differs
        return []
    operator = pc.dictionary_encode(operator_ids).indices.to_numpy()
    width = max(len(facility.dictionary), 1)
    pair, _ = pd.factorize(operator.astype(np.int64) * width + facility.indices.to_numpy())
    # factorize numbers pairs in order of first appearance: a pair is new where its number
    # exceeds every number before it.
    new = np.ones(len(pair), dtype=bool)
    new[1:] = pair[1:] > np.maximum.accumulate(pair)[:-1]
    first = has[new]  # position of the first occurrence of pair k is first[k]
    return [(int(has[j]), int(first[pair[j]])) for j in np.flatnonzero(~new).tolist()]


def _blank_rows(frame: pd.DataFrame, points: _Points | None, candidates: NDArray[np.intp]) -> list[int]:
    """Those of ``candidates`` whose cells are all blank and that have no point geometry."""
    rows = [i for i in candidates.tolist() if points is None or points.missing[i] is not None]
    for position in range(frame.shape[1]):
        if not rows:
            break
        column = frame.iloc[rows, position].tolist()
        rows = [i for i, value in zip(rows, column, strict=True) if _is_blank(value)]
    return rows


# --------------------------------------------------------------------------- columns


#: The dtype pandas gives a column of text: ``str`` (pyarrow) from pandas 3, ``object`` before.
_STR = pd.Series(["text"]).dtype


def _distinct(values: pd.Series | pd.Index | NDArray[Any]) -> tuple[NDArray[np.intp], list[Any]]:
    """Each cell's position in a list of the distinct cells, and that list.

    Cells that Python considers equal but that differ in type (``1``,
    ``1.0``, ``True``) or that cannot be hashed stay apart, so a function of
    the cell computed once per distinct cell is the function of every cell.
    Missing cells (``None``, NaN, ``pd.NA``) are distinct cells too.
    """
    series = pd.Series(values, copy=False) if not isinstance(values, pd.Series) else values
    if series.dtype != object or pd.api.types.infer_dtype(series, skipna=False) == "string":
        codes, uniques = pd.factorize(series, use_na_sentinel=False)
        return codes, pd.Series(uniques, dtype=series.dtype).tolist()
    seen: dict[tuple[type, Any], int] = {}
    cells: list[Any] = []
    codes = np.empty(len(series), dtype=np.intp)
    for i, value in enumerate(series.tolist()):
        try:
            code = seen.setdefault((type(value), value), len(cells))
        except TypeError:  # unhashable: a distinct cell of its own
            code = len(cells)
        if code == len(cells):
            cells.append(value)
        codes[i] = code
    return codes, cells


def _labels(names: Sequence[Any], codes: NDArray[np.integer]) -> Any:
    """``names[codes]`` as a text column (missing where a code is -1), built from the names."""
    if _STR == object:
        table = np.empty(len(names) + 1, dtype=object)
        table[: len(names)] = names
        table[-1] = None
        return table[codes]
    return pd.array(_arrow(names, codes), dtype=_STR)


def _category(names: Sequence[Any], codes: NDArray[np.integer], first: Sequence[str] = ()) -> pd.Categorical:
    """``names[codes]`` as a categorical, missing where a code is -1 or the name is None.

    Its categories are ``first``, then the other names some row has, in order of first
    mention, each once (names may repeat). A column of a few distinct texts stores each once,
    and code that reads it need not hash its text again.
    """
    names = np.asarray(names, dtype=object)
    codes = np.asarray(codes, dtype=np.intp)
    used = (np.bincount(codes + 1, minlength=len(names) + 1)[1:] > 0) & pd.notna(names)
    position, categories = pd.factorize(np.concatenate([np.asarray(first, dtype=object), names[used]]))
    lookup = np.full(len(names) + 1, -1, dtype=np.intp)  # the last entry: code -1
    lookup[np.flatnonzero(used)] = position[len(first):]
    dtype = pd.CategoricalDtype(pd.Index(categories, dtype=_STR))
    return pd.Categorical.from_codes(lookup[codes], dtype=dtype, validate=False)


# "" as a large_string: compared with a plain string scalar, pyarrow would cast the whole column.
_EMPTY = pa.scalar("", type=pa.large_string())
# What str.strip() removes from ASCII text, and an ASCII number as _number accepts it.
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_ASCII_NUMBER = (
    r"^[ \t\n\r\x0b\x0c\x1c-\x1f]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"[ \t\n\r\x0b\x0c\x1c-\x1f]*$"
)


def _arrow_text(values: pd.Series) -> pa.Array | None:
    """A column of text (missing cells allowed) as a pyarrow string array; None for other cells."""
    if isinstance(values.dtype, pd.StringDtype) or (
        values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")
    ):
        array = pa.array(values, type=pa.large_string(), from_pandas=True)
        return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return None


def _text_column(values: pd.Series, *, fold: bool = True) -> pa.Array:
    """:func:`_text` of every cell: ASCII text trimmed by pyarrow, other cells once per distinct cell."""
    text = _arrow_text(values)
    if text is None:
        cell, cells = _distinct(values)
        return _arrow([_text(v, fold=fold) for v in cells], cell)
    # NFKC leaves ASCII unchanged; a missing cell is "" whatever it is.
    ascii_text = pc.fill_null(pc.string_is_ascii(text), True)
    out = pc.utf8_trim(pc.fill_null(text, ""), characters=_ASCII_SPACE)
    slow = np.flatnonzero(~ascii_text.to_numpy(zero_copy_only=False))
    if len(slow) == 0:
        return out
    cell, cells = _distinct(values.iloc[slow])
    return pc.replace_with_mask(out, pc.invert(ascii_text), _arrow([_text(v, fold=fold) for v in cells], cell))


def _numbers(values: pd.Series) -> tuple[NDArray[np.float64], list[tuple[int, Any, str]]]:
    """:func:`_number` of every cell: the numbers, and (position, cell, reason) where there is none.

    Float columns and ASCII decimal text are converted by numpy and pyarrow; other cells once
    per distinct cell.
    """
    n = len(values)
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":
        numbers = values.to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(numbers))
        cells = values.iloc[bad].tolist()
        found = [
            (int(i), v, "missing" if math.isnan(v) else "not a finite number")
            for i, v in zip(bad.tolist(), cells, strict=True)
        ]
        return np.where(np.isfinite(numbers), numbers, np.nan), found
    numbers = np.full(n, np.nan)
    text = _arrow_text(values)
    if text is None:
        slow = np.arange(n)
    else:
        try:  # pyarrow parses what float() parses, and "inf"/"nan", which are not finite
            parsed = pc.cast(pc.utf8_trim(text, characters=_ASCII_SPACE), pa.float64())
            ok = pc.fill_null(pc.is_finite(parsed), False).to_numpy(zero_copy_only=False)
            numbers[ok] = parsed.to_numpy(zero_copy_only=False)[ok]
        except pa.ArrowInvalid:  # some cell is no number to pyarrow: find the ASCII decimals
            fast = pc.fill_null(pc.match_substring_regex(text, _ASCII_NUMBER), False)
            ok = fast.to_numpy(zero_copy_only=False)
            trimmed = pc.utf8_trim(pc.filter(text, fast), characters=_ASCII_SPACE)
            numbers[ok] = pc.cast(trimmed, pa.float64()).to_numpy()
        slow = np.flatnonzero(~ok)
    found: list[tuple[int, Any, str]] = []
    if len(slow):
        cell, cells = _distinct(values.iloc[slow])
        parsed = [_number(v) for v in cells]
        numbers[slow] = np.array([number for number, _ in parsed])[cell]
        for j, i in enumerate(slow.tolist()):
            reason = parsed[cell[j]][1]
            if reason is not None:
                found.append((i, cells[cell[j]], reason))
    return numbers, found


def _arrow(names: Sequence[Any], codes: NDArray[np.integer]) -> pa.Array:
    """``names[codes]`` as a pyarrow string array (null where a code is -1)."""
    table = pa.array([*names, None], type=pa.large_string())
    return table.take(np.where(codes < 0, len(names), codes))


def _column(text: pa.Array) -> Any:
    """A pyarrow string array as the text column pandas makes by default."""
    if _STR == object:
        return np.asarray(text.to_pylist(), dtype=object)
    return pd.array(text, dtype=_STR)
