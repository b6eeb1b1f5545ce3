"""What may be handed to GDAL, and how: the format check, the GeoPackage layer check, and bytes.

GDAL picks its driver from a file's contents, not its name; it reads a file
name its own way (``a;b.shp`` opens the file ``a``); and a GeoPackage layer
may be an SQL view whose rows never end. Both the filing readers and the user
boundary reader check a file here, then hand GDAL the bytes they checked
(:func:`gdal_bytes`, :func:`read_gdal`), never a path.
"""

from __future__ import annotations

import io
import sqlite3
import warnings
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Any

#: The spatial formats handed to GDAL, by suffix, and the bytes their files
#: start with. GDAL picks its driver from a file's contents, not its name: a
#: "filing.geojson" holding an OGR VRT document would make it read any file the
#: user can read, or fetch a URL. Only files that start as their suffix says
#: reach GDAL.
GDAL_FORMATS: dict[str, tuple[str, bytes]] = {
    ".geojson": ("GeoJSON", b"{"),
    ".json": ("GeoJSON", b"{"),
    ".gpkg": ("GeoPackage", b"SQLite format 3\x00"),
    ".shp": ("Shapefile", b"\x00\x00\x27\x0a"),
    ".fgb": ("FlatGeobuf", b"fgb\x03"),
}


def gdal_format_problem(head: bytes, suffix: str) -> str | None:
    """Why a file must not be handed to GDAL, or None; see :data:`GDAL_FORMATS`.

    Parameters
    ----------
    head : bytes
        The file's first bytes (16 are enough).
    suffix : str
        Its suffix, lower case, with the dot.
    """
    if suffix not in GDAL_FORMATS:
        return f"unknown file type {suffix or '(no suffix)'!r}; accepted: {', '.join(GDAL_FORMATS)}"
    kind, signature = GDAL_FORMATS[suffix]
    if kind == "GeoJSON":
        head = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if head.startswith(signature):
        return None
    return (
        f"its contents are not {kind}, as its suffix {suffix} says (a {kind} file starts with "
        f"{signature!r}); it is not read, since GDAL would pick a reader from the contents"
    )


def geopackage_layers(path: Path) -> list[tuple[str, str | None]]:
    """The feature and attribute layers of a GeoPackage, each with the SQLite object holding it.

    Read with :mod:`sqlite3`, read-only and without locks, before GDAL opens
    the file: a layer may be an SQL view, whose rows are computed as they
    are read and, from a recursive query, may never end.

    Parameters
    ----------
    path : pathlib.Path
        The GeoPackage.

    Returns
    -------
    list of (str, str or None)
        Each layer's name, in the order ``gpkg_contents`` lists them, and
        ``"table"``, ``"view"`` (or another ``sqlite_master`` type), or
        ``None`` where no such object exists.

    Raises
    ------
    ValueError
        If the file is not an SQLite database with a ``gpkg_contents`` table.
    """
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            rows = db.execute(
                "SELECT c.table_name, m.type FROM gpkg_contents AS c LEFT JOIN sqlite_master AS m "
                "ON m.name = c.table_name WHERE c.data_type IN ('features', 'attributes') "
                "ORDER BY c.rowid"
            ).fetchall()
    except sqlite3.Error as error:
        raise ValueError(f"not a readable GeoPackage: {error}") from error
    return [(str(layer), kind) for layer, kind in rows]


def geopackage_layer_problem(layer: str, kind: str | None) -> str | None:
    """Why a GeoPackage layer (see :func:`geopackage_layers`) must not be read, or None."""
    if kind == "table":
        return None
    what = f"an SQL {kind}" if kind else "a name with no table behind it"
    return (
        f"layer {layer!r} is {what}, not a table. pilotzone reads tables only: the rows of a "
        "view are computed as they are read and may never end. Save the layer as a table "
        "(e.g. ogr2ogr -f GPKG out.gpkg in.gpkg LAYER)"
    )


#: The files of a shapefile besides the ``.shp`` that GDAL reads.
SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg")


def gdal_bytes(path: Path, data: bytes, *, limit: int) -> bytes:
    """The bytes to hand GDAL for a file whose checked contents are ``data``.

    GDAL is never given a path: it reads names its own way (``a;b.geojson``
    opens the file ``a``, which no check has seen). A shapefile's parts beside
    the ``.shp`` (:data:`SHAPEFILE_PARTS`, found whatever the case of their
    suffix) are packed with it into an in-memory ZIP archive, which GDAL
    reads as one dataset.

    Parameters
    ----------
    path : pathlib.Path
        The file, for its suffix and, for a shapefile, its parts.
    data : bytes
        Its contents, as checked by :func:`gdal_format_problem`.
    limit : int
        Most bytes the parts of a shapefile may hold together.

    Returns
    -------
    bytes
        ``data``, or for a shapefile the ZIP archive of its parts.

    Raises
    ------
    ValueError
        If a shapefile's parts hold more than ``limit`` bytes, or one is not a regular file.
    """
    if path.suffix.lower() != ".shp":
        return data
    parts = {".shp": data}
    total = len(data)
    for suffix in SHAPEFILE_PARTS:
        found = [
            c for c in (path.with_suffix(suffix), path.with_suffix(suffix.upper())) if c.exists()
        ]
        if not found:
            continue
        if not found[0].is_file():
            raise ValueError(f"{found[0].name} is not a regular file")
        total += found[0].stat().st_size
        if total > limit:
            raise ValueError(f"the shapefile's parts hold more than {limit:,} bytes")
        parts[suffix] = found[0].read_bytes()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as packed:
        for suffix, content in parts.items():
            packed.writestr(f"layer{suffix}", content)
    return archive.getvalue()


def read_gdal(data: bytes, *, layer: str | None = None) -> Any:
    """A GeoDataFrame read by GDAL (pyogrio) from bytes (see :func:`gdal_bytes`).

    Parameters
    ----------
    data : bytes
        A GeoJSON, GeoPackage or FlatGeobuf file, or a shapefile's ZIP archive.
    layer : str, optional
        The layer to read; default the first.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer's features.
    """
    import geopandas as gpd

    with warnings.catch_warnings():
        # GDAL names the in-memory copy itself, so a GeoPackage's copy lacks its suffix.
        warnings.filterwarnings("ignore", message=".*non conformant file extension")
        return gpd.read_file(io.BytesIO(data), layer=layer, engine="pyogrio")
