"""What may be handed to GDAL: the format check and the GeoPackage layer check.

GDAL picks its driver from a file's contents, not its name, and a GeoPackage
layer may be an SQL view whose rows never end. Both the filing readers and
the user boundary reader check a file here before GDAL opens it.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

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
