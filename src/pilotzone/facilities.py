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
import shapely
from numpy.typing import NDArray

from pilotzone.crs import is_lonlat, normalize_crs, to_wgs84
from pilotzone.rules import FACILITY_KINDS
from pilotzone.errors import InputError, Problem

__all__ = ["read_facilities"]

logger = logging.getLogger(__name__)

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
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
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
        Excel worksheet (name or 0-based index) or GeoPackage layer; the first
        one by default. Not accepted for other sources.
    errors : {"mark", "raise"}, default "mark"
        ``"mark"`` keeps rows with problems and describes them in
        ``problems``; ``"raise"`` raises one :class:`InputError` listing every
        row problem instead.

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
        row's system, normalised), ``source_row`` (1-based data row; the
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
        If ``errors`` is not ``"mark"`` or ``"raise"``, or ``sheet`` is given
        for a source without sheets or layers.

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
    crs_argument = None if crs is None else normalize_crs(crs)
    raw = _read(source, sheet)
    return _build(raw, crs_argument, errors)


# --------------------------------------------------------------------------- reading


def _read(source: Any, sheet: str | int | None) -> _Raw:
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
    try:
        data = path.read_bytes()
    except OSError as error:
        raise _whole(name, f"cannot read the file: {error}") from error
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise _whole(name, "the file is empty")
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        if suffix == ".csv":
            return _read_csv(data, name, sha256)
        if suffix in (".xlsx", ".xlsm"):
            return _read_excel(data, name, sha256, sheet)
        if suffix in (".kml", ".kmz"):
            return _read_kml(data, name, sha256, zipped=suffix == ".kmz")
        if suffix in (".parquet", ".geoparquet"):
            return _read_parquet(data, name, sha256)
        frame = gpd.read_file(path, layer=sheet, engine="pyogrio")
        implied = suffix in (".geojson", ".json")
        return _from_frame(frame, name, sha256, pd.RangeIndex(len(frame)), implied_crs=implied)
    except InputError:
        raise
    except Exception as error:  # readers raise a zoo of types on corrupt files
        raise _whole(name, f"cannot read the file as {suffix}: {error}") from error


def _whole(name: str, reason: str) -> InputError:
    """An error for a problem with the whole file."""
    return InputError(Problem(name, None, None, None, reason))


def _binary_problem(data: bytes, name: str) -> InputError:
    hint = ""
    if data.startswith(b"PK\x03\x04"):
        hint = " (it looks like a ZIP archive: an .xlsx workbook or a .kmz?)"
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        hint = " (it looks like an old .xls workbook: save it as .xlsx)"
    return _whole(name, f"binary data, not CSV text{hint}")


def _read_csv(data: bytes, name: str, sha256: str) -> _Raw:
    if b"\x00" in data:
        raise _binary_problem(data, name)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _whole(name, "not UTF-8 or GBK/GB18030 text")
    if _CONTROL.search(text):
        raise _binary_problem(data, name)
    logger.debug("%s: decoded as %s", name, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows: list[list[Any]] = list(reader)
    except csv.Error as error:
        reason = f"malformed or truncated CSV (line {reader.line_num}): {error}"
        raise _whole(name, reason) from error
    return _from_rows(rows, name, sha256)


def _read_excel(data: bytes, name: str, sha256: str, sheet: str | int | None) -> _Raw:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheets = book.worksheets
        names = [ws.title for ws in sheets]
        if sheet is None:
            sheet = 0
        if (
            isinstance(sheet, int)
            and not isinstance(sheet, bool)
            and -len(sheets) <= sheet < len(sheets)
        ):
            worksheet = sheets[sheet]
        elif isinstance(sheet, str) and sheet in names:
            worksheet = sheets[names.index(sheet)]
        else:
            raise InputError(
                Problem(name, None, None, sheet, f"no such worksheet; the workbook has {names}")
            )
        rows = [list(row) for row in worksheet.iter_rows(values_only=True)]
    finally:
        book.close()
    return _from_rows(rows, name, sha256)


def _is_blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _from_rows(rows: list[list[Any]], name: str, sha256: str) -> _Raw:
    """Header row + data rows (CSV, Excel) -> _Raw; blank rows at the end are not data."""
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
    cells: list[list[Any]] = []
    for position, row in enumerate(body):
        if len(row) > width and not all(_is_blank(cell) for cell in row[width:]):
            broken[position] = f"the row has {len(row)} cells but the header has {width}"
        cells.append(list(row[:width]) + [""] * (width - len(row)))
    keep = [
        i
        for i in range(width)
        if not _is_blank(header[i]) or any(not _is_blank(row[i]) for row in cells)
    ]
    labels = [
        f"column_{i + 1}" if _is_blank(header[i]) else str(header[i]).strip("\ufeff") for i in keep
    ]
    frame = pd.DataFrame([[row[i] for i in keep] for row in cells], columns=labels)
    return _Raw(name, sha256, frame, pd.RangeIndex(len(frame)), broken_rows=broken)


def _read_parquet(data: bytes, name: str, sha256: str) -> _Raw:
    try:
        import pyarrow.parquet as pq
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("reading Parquet needs pyarrow: pip install pyarrow") from error
    metadata = pq.read_schema(io.BytesIO(data)).metadata or {}
    if b"geo" in metadata:
        frame: pd.DataFrame = gpd.read_parquet(io.BytesIO(data))
    else:
        frame = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    if not isinstance(frame.index, pd.RangeIndex):  # a stored index is data: keep it as columns
        frame = frame.reset_index()
    return _from_frame(frame, name, sha256, pd.RangeIndex(len(frame)), implied_crs=False)


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
        if _local(e.tag) in ("Point", "LineString", "LinearRing", "Polygon", "Model", "Track")
    ]
    if geometries != ["Point"]:
        found = ", ".join(geometries) if geometries else "no geometry"
        return None, None, f"the Placemark is not a single Point ({found})"
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
        name = normalize_crs(value)
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


def _build(raw: _Raw, crs_argument: str | None, errors: str) -> gpd.GeoDataFrame:
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
    rows = np.arange(1, n + 1)
    label = {c: str(frame.columns[i]) for c, i in columns.items()}

    def cells(column: str) -> list[Any]:
        return frame.iloc[:, columns[column]].tolist() if column in columns else [None] * n

    problems: list[list[Problem]] = [[] for _ in range(n)]

    def mark(position: int, column: str | None, value: Any, reason: str) -> None:
        problems[position].append(Problem(name, int(rows[position]), column, value, reason))

    for position, reason in raw.broken_rows.items():
        mark(position, None, None, reason)

    operator_ids = [_text(v) for v in cells("operator_id")]
    for i, value in enumerate(operator_ids):
        if not value:
            mark(i, label["operator_id"], None, "missing")
    facility_ids = [_text(v) or str(rows[i]) for i, v in enumerate(cells("facility_id"))]
    names = [_text(v, fold=False) for v in cells("name")]
    addresses = [_text(v, fold=False) for v in cells("address")]
    kinds = _coded(cells("kind"), _KIND_BY_KEY, None, "kind", KINDS, label["kind"], mark)
    tenures = _coded(
        cells("tenure"),
        _TENURE_BY_KEY,
        "owned",
        "tenure",
        TENURES,
        label.get("tenure", "tenure"),
        mark,
    )
    service_names = [_services(v) for v in cells("services")]

    lon, lat, usable = _coordinates(raw, columns, label, cells, mark)
    where = raw.points.label if raw.points is not None else "lon"
    lon_label, lat_label = label.get("lon", where), label.get("lat", where)
    crs_names, lonlat = _row_crs(cells("crs"), default_crs, label.get("crs", "crs"), usable, mark)
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
    geometry = _wgs84_points(lon, lat, crs_names, usable, lon_label, mark)

    first_row: dict[tuple[str, str], int] = {}
    for i, pair in enumerate(zip(operator_ids, facility_ids, strict=True)):
        if not pair[0]:
            continue
        if pair in first_row:
            mark(
                i,
                label.get("facility_id", "facility_id"),
                pair[1],
                f"duplicate of row {first_row[pair]} (same operator_id and facility_id)",
            )
        else:
            first_row[pair] = int(rows[i])

    no_operator = [i for i, value in enumerate(operator_ids) if not value]
    for i in _blank_rows(frame, raw.points, no_operator):
        problems[i] = [Problem(name, int(rows[i]), None, None, "empty row")]
        geometry[i] = None

    if errors == "raise":
        found = [p for row in problems for p in row]
        if found:
            raise InputError(found)

    data: dict[Hashable, Any] = {
        "operator_id": operator_ids,
        "facility_id": facility_ids,
        "name": names,
        "address": addresses,
        "kind": kinds,
        "tenure": tenures,
        "services": service_names,
        "lon": lon,
        "lat": lat,
        "crs": crs_names,
        "source_row": rows,
        "problems": ["; ".join(_describe(p) for p in row) for row in problems],
    }
    for position in extras:
        data[frame.columns[position]] = frame.iloc[:, position].array
    result = pd.DataFrame(data, index=raw.index)
    result["geometry"] = geometry
    out = gpd.GeoDataFrame(result, geometry="geometry", crs="EPSG:4326")
    out.attrs["source"] = name
    out.attrs["source_sha256"] = raw.sha256
    logger.debug("%s: %d rows, %d with problems", name, n, sum(bool(p) for p in problems))
    return out


def _describe(problem: Problem) -> str:
    value = problem.value
    shown = "" if value is None or (isinstance(value, str) and not value) else f" ({value!r:.80})"
    if problem.column is None:
        return f"{problem.reason}{shown}"
    return f"column {problem.column!r}: {problem.reason}{shown}"


_Mark = Callable[[int, str | None, Any, str], None]


def _coded(
    values: list[Any],
    by_key: dict[str, str],
    default: str | None,
    what: str,
    accepted: Sequence[str],
    column: str,
    mark: _Mark,
) -> list[str]:
    """Map coded cells (kind, tenure) to canonical values; unknown ones keep their text."""
    out: list[str] = []
    seen: dict[Any, tuple[str, str | None]] = {}  # cell -> (value, text of an unknown one)
    for i, value in enumerate(values):
        try:
            coded, unknown = seen[type(value), value]
        except (KeyError, TypeError):  # not seen yet, or unhashable
            text = _text(value)
            known = by_key.get(_key(text)) if text else default
            coded, unknown = (known, None) if known is not None else (text, text)
            with contextlib.suppress(TypeError):
                seen[type(value), value] = coded, unknown
        if unknown == "":
            mark(i, column, None, "missing")
        elif unknown is not None:
            mark(i, column, unknown, f"unknown {what}, expected {'|'.join(accepted)}")
        out.append(coded)
    return out


def _coordinates(
    raw: _Raw,
    columns: dict[str, int],
    label: dict[str, str],
    cells: Callable[[str], list[Any]],
    mark: _Mark,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """lon, lat as filed and whether they are usable; geometry first, then columns."""
    n = len(raw.frame)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    usable = np.ones(n, dtype=bool)
    usable[list(raw.broken_rows)] = False
    has_columns = "lon" in columns
    column_x, column_y = (cells("lon"), cells("lat")) if has_columns else ([None] * n, [None] * n)
    points = raw.points
    for i in range(n):
        from_geometry = points is not None and points.missing[i] is None
        if points is not None and not from_geometry and not has_columns:
            mark(i, points.label, None, points.missing[i] or "no point")
            usable[i] = False
            continue
        if from_geometry:
            assert points is not None
            sources = ((points.x[i], points.label, 0), (points.y[i], points.label, 1))
        else:
            sources = ((column_x[i], label["lon"], 0), (column_y[i], label["lat"], 1))
        for value, column, axis in sources:
            number, reason = _number(value)
            (lon if axis == 0 else lat)[i] = number
            if reason is not None:
                mark(i, column, value, reason)
                usable[i] = False
        if from_geometry and has_columns and usable[i]:
            for value, column, filed in (
                (column_x[i], label["lon"], lon[i]),
                (column_y[i], label["lat"], lat[i]),
            ):
                number, reason = _number(value)
                if reason is None and not math.isclose(number, filed, rel_tol=1e-6, abs_tol=1e-6):
                    mark(i, column, value, f"differs from the point geometry ({filed!r})")
                    usable[i] = False
    return lon, lat, usable


def _row_crs(
    values: list[Any],
    default: str | None,
    column: str,
    usable: NDArray[np.bool_],
    mark: _Mark,
) -> tuple[list[str], NDArray[np.bool_]]:
    """Each row's normalised CRS name (row value, else the default) and whether it is lon/lat."""
    cache: dict[str, _CRSInfo] = {}
    names: list[str] = []
    lonlat = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        text = _text(value)
        if not text:
            if default is None:
                mark(i, column, None, "no coordinate system for this row (and no crs= given)")
                usable[i] = False
                names.append("")
                continue
            text = default
        info = cache.get(text)
        if info is None:
            info = cache[text] = _crs_info(text)
        if info.name is None:
            mark(i, column, text, info.reason or "unknown coordinate system")
            usable[i] = False
            names.append(text)
            continue
        names.append(info.name)
        lonlat[i] = info.lonlat
    return names, lonlat


def _wgs84_points(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    crs_names: list[str],
    usable: NDArray[np.bool_],
    column: str,
    mark: _Mark,
) -> NDArray[np.object_]:
    """WGS-84 points for usable rows, converted once per distinct CRS."""
    geometry = np.full(len(lon), None, dtype=object)
    names = np.asarray(crs_names, dtype=object)
    for crs_name in dict.fromkeys(names[usable].tolist()):
        rows = np.flatnonzero(usable & (names == crs_name))
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


def _blank_rows(frame: pd.DataFrame, points: _Points | None, candidates: list[int]) -> list[int]:
    """Those of ``candidates`` whose cells are all blank and that have no point geometry."""
    rows = [i for i in candidates if points is None or points.missing[i] is not None]
    for position in range(frame.shape[1]):
        if not rows:
            break
        column = frame.iloc[:, position].to_numpy()
        rows = [i for i in rows if _is_blank(column[i])]
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
    table = np.empty(len(names) + 1, dtype=object)
    table[: len(names)] = names
    table[-1] = None
    if _STR == object:
        return table[codes]
    positions = np.where(codes < 0, len(names), codes)
    return pd.array(pa.array(table, type=pa.large_string()).take(positions), dtype=_STR)
