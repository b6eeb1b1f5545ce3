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

This module owns the public entry, its constants and the default size limit.
Below it: ``_readers`` (the format by suffix, the checks before reading) over
the readers per format ``_read_csv``, ``_read_excel``, ``_read_kml`` and
``_read_geo``, which share ``_raw``; ``_validate`` (columns matched, every row
checked); and ``_columns`` (the filing's vocabulary and the column helpers that
:mod:`pilotzone.verify` and :mod:`pilotzone.address` use too).
"""

from __future__ import annotations

import contextlib
import numbers
import os
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from pilotzone._codes import TENURES as TENURES
from pilotzone._columns import KINDS as KINDS
from pilotzone._readers import read_raw
from pilotzone._validate import build
from pilotzone.crs import normalize_crs

__all__ = ["read_facilities"]

#: The default ``max_crs`` of :func:`read_facilities`: the most distinct ``crs`` values in one
#: filing. A real filing uses a handful; each new one costs PROJ 20-40 ms to build.
MAX_CRS = 32


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
        The number of the first row of a DataFrame, in ``source_row`` and in
        problems: for a piece of a larger filing (a Dask partition), its
        position in the whole. A file's rows are numbered as its program
        shows them, whatever this is.

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
        Then ``source_row`` (the number the user's program shows for the
        row: a worksheet's row and a CSV's line where the record starts, both
        counting the header and any title rows; a feature's number from 1 in
        GeoJSON, KML, GeoPackage, Parquet; the position from 1 in a DataFrame;
        the number problems, findings' ``row`` and the CLI cite; a row with no
        facility id takes it as its ``facility_id``), ``problems`` (``""``
        for a good row), then the other input columns unchanged, then ``geometry``: the WGS-84 point
        (EPSG:4326, x = longitude), ``None`` where the row cannot be located.
        ``attrs["source"]`` is the file name (``"<DataFrame>"``) and
        ``attrs["source_sha256"]`` the SHA-256 of the file's bytes (``None``
        for DataFrames); where rows have problems, ``attrs["problems_zh"]``
        maps each ``problems`` text to its Chinese, for ``verify(lang="zh")``.

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
    aliases (数据中心 -> ``idc``, 租用 -> ``rented``, ...). Every header
    pilotzone writes in its own outputs, English or Chinese (使用方式, 运营者,
    ...), reads back in; columns it does not know are kept. ``tenure``
    defaults to ``owned`` and ``facility_id`` to the row number: where one
    does, a warning names the column, the default and the number of rows,
    and ``attrs["defaulted"]`` records them (``{"tenure": {"default":
    "owned", "rows": n}, "facility_id": {"default": "row number", "rows":
    m}}``, else ``{}``). Services
    are an array (GeoJSON, Parquet list columns) or text split on
    ``; , 、 ， /`` and whitespace; a name pilotzone does not know, like an
    unknown ``kind`` or ``tenure``, marks the row (naming the value, the
    known names and the closest one), so a typo is never judged a
    violation. The header of a CSV or worksheet is the first of its first 20
    rows that names ``operator_id`` and ``kind``: title rows above it are
    skipped, with a warning, and ``attrs["header_row"]`` is its row number
    (from 1). Where a spatial file has
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
    raw = read_raw(source, sheet, limit)
    return build(raw, crs_argument, errors, first_row, int(max_crs))


# --------------------------------------------------------------------------- resource limits

#: Peak memory of reading and verifying a filing, per byte of its file: measured 37-46
#: for CSVs of 20 MB of short cells (the worst case), with a margin; see SECURITY.md.
MEMORY_PER_FILE_BYTE = 48
#: The default limit where available memory cannot be read (not Linux, no sysconf).
FALLBACK_MAX_BYTES = 256 * 1024 * 1024


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
