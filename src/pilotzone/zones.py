"""Zone boundaries: the pilot regions, as of a date, from shipped or supplied data.

:func:`load_zones` returns one row per zone with its status on a given date.
Zones are data, never code: a zone is added, suspended or terminated by
editing the data, and this module only reads and checks it.

Where the data comes from
-------------------------
shipped (``boundaries=None``)
    ``pilotzone/_data/boundaries`` inside an installed wheel, else
    ``<repository>/data/boundaries`` in a source checkout: a ``manifest.json``
    and one GeoJSON file per zone, written by ``scripts/build_boundaries.py``.
a folder with its own ``manifest.json``
    The same format (a regulator's or an extended data set). It replaces the
    shipped data entirely.
a boundary file or a GeoDataFrame
    Polygons with a ``zone_id`` column. Its zones replace the shipped zones
    with the same id and add new ids; shipped zones it does not mention are
    kept.

Every file listed in a manifest is checked against the manifest's SHA-256
before it is parsed, and every zone must be a valid (Multi)Polygon in
WGS-84 longitude/latitude (EPSG:4326, x = longitude).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import stat
import warnings
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon

from pilotzone._geodesy import GEOD
from pilotzone._paths import BOUNDARIES_FOLDERS
from pilotzone.errors import BoundaryDataError, InputError, Problem

__all__ = ["BorderPiece", "load_zones"]

logger = logging.getLogger(__name__)

#: Columns of the table :func:`load_zones` returns, in order.
COLUMNS = (
    "zone_id",
    "name_en",
    "name_zh",
    "short_name_en",
    "short_name_zh",
    "status",
    "active",
    "effective_from",
    "effective_to",
    "accuracy_m",
    "area_km2",
    "source",
    "approximate_borders",
    "geometry",
)
#: Statuses that zone data may record. ``load_zones`` adds ``not_yet_effective``
#: (before ``effective_from``) and ``expired`` (on or after ``effective_to``).
STATUSES = ("active", "suspended", "terminated")
#: A boundary file with more vertices than this is refused (simplify it first).
MAX_VERTICES = 5_000_000
#: A boundary file larger than this is refused before it is parsed: even as
#: GeoJSON, MAX_VERTICES vertices fit in a tenth of it.
MAX_BOUNDARY_BYTES = 512 * 1024 * 1024
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
#: Active zones overlapping by more than this many square degrees are reported.
OVERLAP_DEG2 = 1e-10

_ZONE_ID = re.compile(r"[a-z][a-z0-9_]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PACKAGE_DATA, _CHECKOUT_DATA = BOUNDARIES_FOLDERS
_REQUIRED_KEYS = (
    "zone_id",
    "name_en",
    "name_zh",
    "short_name_en",
    "short_name_zh",
    "effective_from",
    "effective_to",
    "status",
    "status_history",
    "file",
    "sha256",
    "area_km2",
    "accuracy_m",
)
_TEXT_COLUMNS = ("name_en", "name_zh", "short_name_en", "short_name_zh", "status", "source")
_MAX_LISTED = 50


@dataclass(frozen=True)
class BorderPiece:
    """A stretch of a zone's border whose accuracy differs from the zone's.

    Attributes
    ----------
    name : str
        What the stretch is, e.g. ``"Lingang canal lines (...)"``.
    accuracy_m : float
        Its estimated positional accuracy in metres.
    geometry : shapely.LineString or shapely.MultiLineString
        The stretch in WGS-84 longitude/latitude (x = longitude).
    """

    name: str
    accuracy_m: float
    geometry: LineString | MultiLineString


@dataclass(frozen=True)
class _Zone:
    """One zone as read, before a date is applied."""

    zone_id: str
    name_en: str
    name_zh: str
    short_name_en: str
    short_name_zh: str
    effective_from: date | None
    effective_to: date | None
    history: tuple[tuple[date, str], ...]  # (from date, status), ascending
    accuracy_m: float
    area_km2: float
    source: str
    approximate_borders: tuple[BorderPiece, ...]
    geometry: MultiPolygon

    def status_on(self, day: date) -> str:
        if self.effective_from is not None and day < self.effective_from:
            return "not_yet_effective"
        if self.effective_to is not None and day >= self.effective_to:
            return "expired"
        status = "active"
        for start, value in self.history:
            if start > day:
                break
            status = value
        return status


def load_zones(
    as_of: date | datetime | str | None = None,
    boundaries: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    *,
    accuracy_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Load the pilot zones and their status on a date.

    Parameters
    ----------
    as_of : datetime.date, datetime.datetime, str or None, default None
        The date statuses are computed for: a date, a datetime (its own
        calendar date is used, whatever its time zone) or an ISO 8601 string
        (``"2025-06-01"``). ``None`` means today's local date.
    boundaries : str, path-like, geopandas.GeoDataFrame or None, default None
        ``None`` for the shipped data. A folder holding a ``manifest.json``
        in the shipped format replaces the shipped data entirely. A boundary
        file (GeoJSON, GeoPackage, Shapefile or FlatGeobuf: see
        :data:`GDAL_FORMATS`) or a GeoDataFrame, with a ``zone_id`` column and polygons, replaces the
        shipped zones it names and adds new ones; see Notes.
    accuracy_m : float, optional
        Accuracy in metres of the supplied boundaries, used for zones whose
        rows have no ``accuracy_m`` value. Only for a boundary file or a
        GeoDataFrame.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per zone, every zone whatever its status, index ``0..n-1``,
        CRS EPSG:4326 (x = longitude). Columns, in order:

        - ``zone_id`` (str): ``beijing``, ``shanghai``, ``hainan``,
          ``shenzhen`` and any zone the data adds;
        - ``name_en``, ``name_zh``, ``short_name_en``, ``short_name_zh`` (str);
        - ``status`` (str): ``active``, ``suspended``, ``terminated``,
          ``not_yet_effective`` or ``expired`` on ``as_of``;
        - ``active`` (bool): ``status == "active"``;
        - ``effective_from``, ``effective_to`` (object): ``datetime.date``,
          or ``None`` for "always" / "no end";
        - ``accuracy_m`` (float): accuracy of the administrative line, in
          metres;
        - ``area_km2`` (float): geodesic area on the WGS-84 ellipsoid;
        - ``source`` (str): where the boundary comes from, in a few words;
        - ``approximate_borders`` (object): a tuple of :class:`BorderPiece`,
          the stretches of border with a larger error (empty if none);
        - ``geometry``: a valid ``MultiPolygon``.

        ``attrs["as_of"]`` is the date used (ISO string),
        ``attrs["boundaries_path"]`` the folder whose manifest was read, and
        ``attrs["boundaries_override"]`` the file (or ``"<GeoDataFrame>"``)
        merged over it, or ``None``.

    Raises
    ------
    BoundaryDataError
        If the data is missing, does not match its manifest's hashes, breaks
        the manifest schema, holds a geometry that is not a usable polygon
        (or has NaN or infinite coordinates), has no coordinate system, is
        too large (:data:`MAX_BOUNDARY_BYTES`, :data:`MAX_VERTICES`), has no
        accuracy, or is a file whose contents are not the format its suffix
        names. Every
        problem found is listed at once.
    InputError
        If ``as_of`` is not a date, or ``accuracy_m`` is not a positive
        number or is given without boundaries it could apply to.

    Notes
    -----
    *Status.* Before ``effective_from`` a zone is ``not_yet_effective``, on
    or after ``effective_to`` it is ``expired``; in between its status is
    that of the last ``status_history`` entry dated on or before ``as_of``
    (``active`` before the first one). A manifest's ``status`` must equal
    its last ``status_history`` entry, so that a zone cannot be suspended by
    editing ``status`` alone and silently stay active.

    *Supplied files and GeoDataFrames.* A CRS is required and never
    assumed, except that GeoJSON is WGS-84 when it declares nothing (RFC
    7946). Boundaries traced on AMap or Baidu maps are in GCJ-02 or BD-09,
    which no file can declare: convert their vertices first, e.g.
    ``shapely.transform(g, lambda xy: np.column_stack(to_wgs84(xy[:, 0],
    xy[:, 1], "gcj02")))`` with :func:`pilotzone.crs.to_wgs84`.
    Geometries are reprojected to EPSG:4326; features sharing a
    ``zone_id`` are unioned; self-intersecting polygons are repaired with
    :func:`shapely.make_valid` (keeping polygonal parts) with a
    ``UserWarning``. Optional columns: ``name_en``, ``name_zh``,
    ``short_name_en``, ``short_name_zh``, ``status`` (applies on every date
    in the zone's effective period), ``effective_from``, ``effective_to``,
    ``accuracy_m`` (the largest value of a zone's features is used),
    ``source`` and ``role`` (rows with ``role == "approximate_border"`` are
    read as :class:`BorderPiece`, as in the shipped files). For a zone id
    that the shipped data has, missing names, dates and status history are
    taken from the shipped zone; for a new id the names default to the id,
    the status to ``active`` and the dates to ``None``. The accuracy is
    never invented: without an ``accuracy_m`` value or argument the data is
    refused. Zone ids match ``^[a-z][a-z0-9_]*$``.

    *Overlaps.* Active zones overlapping by more than ``1e-10`` square
    degrees raise a ``UserWarning``; a point in the overlap is assigned to
    the first of them in table order. The shipped zones come first, in
    manifest order, with replaced zones in place and new ones after them.

    *Caching.* Parsed manifest folders are cached by folder and manifest
    bytes; the files' hashes are checked again on every call, and every call
    returns a new table.

    Examples
    --------
    >>> import shapely
    >>> zones = load_zones(as_of="2024-06-01")
    >>> zones["zone_id"].tolist()
    ['beijing', 'shanghai', 'hainan', 'shenzhen']
    >>> bool(zones["active"].all())
    True
    >>> beijing = zones.geometry[zones["zone_id"] == "beijing"].iloc[0]
    >>> bool(shapely.covers(beijing, shapely.Point(116.3975, 39.9087)))
    True
    >>> load_zones(as_of="2024-04-07")["status"].unique().tolist()
    ['not_yet_effective']
    """
    day = _as_date(as_of)
    accuracy = _accuracy_argument(accuracy_m)
    override: str | None = None
    folder = _shipped_folder() if boundaries is None else _manifest_folder(boundaries)
    if folder is not None:
        if accuracy is not None:
            raise InputError(
                Problem(
                    "accuracy_m",
                    None,
                    None,
                    accuracy_m,
                    "applies only to a boundary file or GeoDataFrame; a manifest folder records "
                    "each zone's accuracy itself",
                )
            )
        zones = _read_folder(folder)
    else:
        folder = _shipped_folder()
        merged = {zone.zone_id: zone for zone in _read_folder(folder)}
        user, override = _read_user(boundaries, accuracy, merged)
        for zone in user:
            merged[zone.zone_id] = zone  # replaced ids keep their place, new ids go last
        zones = list(merged.values())
    frame = _frame(zones, day)
    frame.attrs["as_of"] = day.isoformat()
    frame.attrs["boundaries_path"] = str(folder)
    frame.attrs["boundaries_override"] = override
    _warn_overlaps(frame)
    return frame


# --------------------------------------------------------------------------- arguments


def _as_date(value: Any) -> date:
    if value is None:
        return date.today()
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, datetime):  # also pandas.Timestamp
        if pd.isna(value):
            raise InputError(Problem("as_of", None, None, None, "is NaT, not a date"))
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            raise InputError(
                Problem(
                    "as_of",
                    None,
                    None,
                    value,
                    "is not a date: give an ISO date such as '2025-06-01'",
                )
            ) from None
    raise InputError(
        Problem(
            "as_of",
            None,
            None,
            None,
            f"must be a date, a datetime or an ISO date string, not {type(value).__name__}",
        )
    )


def _accuracy_argument(value: Any) -> float | None:
    if value is None:
        return None
    accuracy = _positive(value)
    if accuracy is None:
        raise InputError(
            Problem("accuracy_m", None, None, value, "must be a positive number of metres")
        )
    return accuracy


def _positive(value: Any) -> float | None:
    """A finite number > 0, or None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _manifest_folder(boundaries: Any) -> Path | None:
    """The folder to read a manifest from, or None for a file or GeoDataFrame."""
    if isinstance(boundaries, (str, os.PathLike)):
        path = Path(boundaries)
        if path.is_dir():
            return path
        if path.name == "manifest.json" and path.is_file():
            return path.parent
    return None


# --------------------------------------------------------------------------- manifest folders


def _shipped_folder() -> Path:
    return shipped_folder(_PACKAGE_DATA, _CHECKOUT_DATA, "zone data", "scripts/build_boundaries.py")


def shipped_folder(package: Path, checkout: Path, what: str, script: str) -> Path:
    """The folder of shipped data: the installed wheel's copy, else the source checkout's.

    Parameters
    ----------
    package, checkout : pathlib.Path
        The folder inside the installed package (``pilotzone/_data/<name>``)
        and in a source checkout (``data/<name>``); the first holding a
        ``manifest.json`` wins.
    what : str
        What the data is, for the error message (``"zone data"``).
    script : str
        The script that builds it, for the error message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    BoundaryDataError
        If neither folder holds a ``manifest.json``.
    """
    for folder in (package, checkout):
        if (folder / "manifest.json").is_file():
            return folder
    raise BoundaryDataError(
        f"pilotzone's {what} is missing: no manifest.json in the installed package "
        f"({package}) nor in a source checkout ({checkout}). Reinstall pilotzone, "
        f"or rebuild the data with {script}."
    )


def _read_folder(folder: Path) -> list[_Zone]:
    manifest_path = folder / "manifest.json"
    try:
        raw = manifest_path.read_bytes()
    except FileNotFoundError:
        raise BoundaryDataError(
            f"no manifest.json in {folder}: a boundaries folder needs the manifest that "
            "scripts/build_boundaries.py writes (pass a boundary file instead to add or "
            "replace single zones)"
        ) from None
    except OSError as error:
        raise BoundaryDataError(f"cannot read {manifest_path}: {error}") from error
    zones, files = _parse_folder(str(folder.resolve()), raw)
    for name, sha256 in files:  # the cache never hides a file changed since it was parsed
        verified_bytes(folder, name, sha256)
    logger.debug("read zone data from %s (%d zones)", folder, len(zones))
    return list(zones)


@functools.lru_cache(maxsize=8)
def _parse_folder(
    folder_name: str, raw: bytes
) -> tuple[tuple[_Zone, ...], tuple[tuple[str, str], ...]]:
    """Zones of a manifest folder, and the (file, sha256) pairs to verify."""
    folder = Path(folder_name)
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BoundaryDataError(f"{manifest_path} is not valid JSON: {error}") from error
    entries = _manifest_entries(manifest, manifest_path)
    zones = []
    for entry in entries:
        data = verified_bytes(folder, entry["file"], entry["sha256"])
        zones.append(_manifest_zone(entry, manifest, folder / entry["file"], data))
    files = tuple((entry["file"], entry["sha256"]) for entry in entries)
    return tuple(zones), files


def verified_bytes(
    folder: Path, name: str, expected: str, script: str = "scripts/build_boundaries.py"
) -> bytes:
    """The bytes of ``folder / name``, refused unless their SHA-256 is ``expected``.

    Parameters
    ----------
    folder : pathlib.Path
        The folder holding the file and its ``manifest.json``.
    name : str
        The file name, as the manifest lists it.
    expected : str
        The manifest's SHA-256 of the file (64 lower-case hex digits).
    script : str, optional
        The script that builds the folder, named in the error message.

    Returns
    -------
    bytes

    Raises
    ------
    BoundaryDataError
        If the file cannot be read or its hash differs.
    """
    path = folder / name
    try:
        size = path.stat().st_size
        if size > MAX_BOUNDARY_BYTES:
            raise BoundaryDataError(
                f"{path}: {size:,} bytes, more than {MAX_BOUNDARY_BYTES:,}; not read"
            )
        data = path.read_bytes()
    except OSError as error:
        raise BoundaryDataError(
            f"{name}, listed in {folder / 'manifest.json'}, cannot be read: {error}"
        ) from error
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise BoundaryDataError(
            f"{path}: its sha256 is {actual} but manifest.json says {expected}. The data was "
            f"changed outside {script}: restore the file or rebuild the "
            "folder with that script."
        )
    return data


def _manifest_entries(manifest: Any, manifest_path: Path) -> list[dict[str, Any]]:
    """Check the manifest schema; return its zone entries. Lists every problem at once."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("zones"), list):
        raise BoundaryDataError(f"{manifest_path}: expected an object with a 'zones' list")
    if not manifest["zones"]:
        raise BoundaryDataError(f"{manifest_path}: the 'zones' list is empty")
    problems: list[str] = []
    seen: set[str] = set()
    for number, entry in enumerate(manifest["zones"], start=1):
        if not isinstance(entry, dict):
            problems.append(f"zone entry {number}: expected an object")
            continue
        zone_id = entry.get("zone_id")
        label = f"zone {zone_id!r}" if isinstance(zone_id, str) else f"zone entry {number}"

        def bad(key: str, reason: str, label: str = label) -> None:
            problems.append(f"{label}, key {key!r}: {reason}")

        missing = [key for key in _REQUIRED_KEYS if key not in entry]
        for key in missing:
            bad(key, "missing")
        if not isinstance(zone_id, str) or not _ZONE_ID.fullmatch(zone_id):
            if "zone_id" not in missing:
                bad("zone_id", f"{zone_id!r} is not an id of the form ^[a-z][a-z0-9_]*$")
        elif zone_id in seen:
            bad("zone_id", "appears twice")
        else:
            seen.add(zone_id)
        for key in ("name_en", "name_zh", "short_name_en", "short_name_zh"):
            if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
                bad(key, "must be a non-empty string")
        name = entry.get("file")
        if "file" in entry and (
            not isinstance(name, str) or Path(name).name != name or name.startswith(".")
        ):
            bad("file", f"{name!r} must be a file name inside the manifest's folder")
        if "sha256" in entry and not (
            isinstance(entry["sha256"], str) and _SHA256.fullmatch(entry["sha256"])
        ):
            bad("sha256", "must be 64 lower-case hex digits")
        if "accuracy_m" in entry and _positive(entry["accuracy_m"]) is None:
            bad("accuracy_m", f"{entry['accuracy_m']!r} is not a positive number of metres")
        area = entry.get("area_km2")
        if "area_km2" in entry and (
            isinstance(area, bool) or not isinstance(area, (int, float)) or not area >= 0
        ):
            bad("area_km2", f"{area!r} is not a non-negative number")
        dates = {}
        for key in ("effective_from", "effective_to"):
            if entry.get(key) is not None:
                dates[key] = _iso_date(entry[key])
                if dates[key] is None:
                    bad(key, f"{entry[key]!r} is not an ISO date (YYYY-MM-DD) or null")
        start, end = dates.get("effective_from"), dates.get("effective_to")
        if start and end and end <= start:
            bad("effective_to", "is not after effective_from")
        status = entry.get("status")
        if "status" in entry and status not in STATUSES:
            bad("status", f"{status!r} is not one of {', '.join(STATUSES)}")
        history = entry.get("status_history")
        if "status_history" in entry:
            for reason in _history_problems(history, status):
                bad("status_history", reason)
        for key, kind in (("components", list), ("approximate_borders", list), ("choices", list)):
            if key in entry and not isinstance(entry[key], kind):
                bad(key, "must be a list")
    if problems:
        raise BoundaryDataError(_listing(f"{manifest_path} breaks the manifest schema", problems))
    entries: list[dict[str, Any]] = manifest["zones"]
    return entries


def _history_problems(history: Any, status: Any) -> list[str]:
    if not isinstance(history, list):
        return ["must be a list of {date, status} objects"]
    problems = []
    previous: date | None = None
    for number, item in enumerate(history, start=1):
        day = _iso_date(item.get("date")) if isinstance(item, dict) else None
        value = item.get("status") if isinstance(item, dict) else None
        if day is None or value not in STATUSES:
            problems.append(
                f"entry {number} must be {{'date': 'YYYY-MM-DD', 'status': one of "
                f"{', '.join(STATUSES)}}}, not {item!r}"
            )
            continue
        if previous is not None and day <= previous:
            problems.append(f"entry {number} ({day}) is not after the one before it")
        previous = day
    if not problems and history and history[-1]["status"] != status:
        problems.append(
            f"ends with {history[-1]['status']!r} from {history[-1]['date']} but 'status' says "
            f"{status!r}: record every change as a dated status_history entry and keep 'status' "
            "equal to the last one"
        )
    return problems


def _iso_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _manifest_zone(
    entry: dict[str, Any], manifest: dict[str, Any], path: Path, data: bytes
) -> _Zone:
    """Parse one zone's GeoJSON file (already hash-checked) into a _Zone."""
    zone_id = entry["zone_id"]
    try:
        collection = json.loads(data.decode("utf-8"))
        features = collection["features"]
        if collection.get("type") != "FeatureCollection" or not isinstance(features, list):
            raise ValueError("not a FeatureCollection")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise BoundaryDataError(
            f"{path.name}: not a GeoJSON FeatureCollection ({error})"
        ) from error
    problems: list[str] = []
    polygons: list[Any] = []
    pieces: list[BorderPiece] = []
    vertices = 0
    for number, feature in enumerate(features, start=1):
        where = f"feature {number}"
        try:
            properties = feature.get("properties") or {}
            geometry = shapely.geometry.shape(feature["geometry"])
        except (
            AttributeError,
            IndexError,
            KeyError,
            TypeError,
            ValueError,
            GEOSException,
        ) as error:
            problems.append(f"{where}: unreadable geometry ({error})")
            continue
        vertices += int(shapely.get_num_coordinates(geometry))
        role = properties.get("role")
        if properties.get("zone_id", zone_id) != zone_id:
            problems.append(f"{where}: zone_id {properties['zone_id']!r}, expected {zone_id!r}")
        if role == "zone":
            reason = _polygon_problem(geometry)
            if reason:
                problems.append(f"{where} (role 'zone'): {reason}")
            else:
                polygons.append(geometry)
        elif role == "approximate_border":
            piece = _border_piece(properties, geometry)
            if isinstance(piece, str):
                problems.append(f"{where} (role 'approximate_border'): {piece}")
            else:
                pieces.append(piece)
        else:
            problems.append(f"{where}: role {role!r} is neither 'zone' nor 'approximate_border'")
    if vertices > MAX_VERTICES:
        raise _too_large(path.name, vertices)
    if len(polygons) != 1 and not problems:
        problems.append(f"has {len(polygons)} features with role 'zone', expected exactly 1")
    if problems:
        raise BoundaryDataError(_listing(f"{path.name} (zone {zone_id!r})", problems))
    return _Zone(
        zone_id=zone_id,
        name_en=entry["name_en"],
        name_zh=entry["name_zh"],
        short_name_en=entry["short_name_en"],
        short_name_zh=entry["short_name_zh"],
        effective_from=_iso_date(entry["effective_from"]),
        effective_to=_iso_date(entry["effective_to"]),
        history=tuple(
            (date.fromisoformat(item["date"]), item["status"]) for item in entry["status_history"]
        ),
        accuracy_m=float(entry["accuracy_m"]),
        area_km2=float(entry["area_km2"]),
        source=_manifest_source(entry, manifest),
        approximate_borders=tuple(pieces),
        geometry=_multipolygon(polygons[0]),
    )


def _manifest_source(entry: dict[str, Any], manifest: dict[str, Any]) -> str:
    """A short readable source from the components' provenance records."""
    if isinstance(entry.get("source"), str):
        return str(entry["source"])
    leaves: list[str] = []
    typed = False

    def walk(source: Any) -> None:
        nonlocal typed
        if not isinstance(source, dict):
            return
        typed = typed or "typed_points" in source or "selector_box" in source
        if isinstance(source.get("district_sources"), list):
            for inner in source["district_sources"]:
                walk(inner)
        elif "version" in source:
            dataset = str(source.get("dataset", ""))
            match = re.search(r"\(([^()]*)\)\s*$", dataset)
            what = match.group(1) if match else dataset
            crs = source.get("crs")
            converted = f" ({crs}, converted)" if crs and crs not in ("WGS-84", "EPSG:4326") else ""
            leaves.append(f"{source['version']}: {what}{converted}")

    for component in entry.get("components") or []:
        if isinstance(component, dict):
            walk(component.get("source"))
    text = "; ".join(dict.fromkeys(leaves)) or str(
        manifest.get("source_package") or "manifest.json"
    )
    return text + ("; plus hand-typed WGS-84 points (see the manifest)" if typed else "")


# --------------------------------------------------------------------------- geometry helpers


def _polygon_problem(geometry: Any) -> str | None:
    if geometry is None or shapely.is_empty(geometry):
        return "empty geometry"
    if not isinstance(geometry, (Polygon, MultiPolygon)):
        return f"a {geometry.geom_type}, not a Polygon or MultiPolygon"
    if not _finite(geometry):
        return "NaN or infinite coordinates"
    if not shapely.is_valid(geometry):
        return f"invalid polygon: {shapely.is_valid_reason(geometry)}"
    return None


def _border_piece(properties: dict[str, Any], geometry: Any) -> BorderPiece | str:
    if not isinstance(geometry, (LineString, MultiLineString)) or shapely.is_empty(geometry):
        return f"a {geometry.geom_type}, not a LineString or MultiLineString"
    if not _finite(geometry):
        return "NaN or infinite coordinates"
    name = properties.get("name")
    accuracy = _positive(properties.get("accuracy_m"))
    if not isinstance(name, str) or not name.strip():
        return "needs a 'name'"
    if accuracy is None:
        return f"accuracy_m {properties.get('accuracy_m')!r} is not a positive number of metres"
    return BorderPiece(name.strip(), accuracy, geometry)


def _finite(geometry: Any) -> bool:
    """Whether every coordinate is a finite number (GEOS fails on NaN and infinity)."""
    return bool(np.isfinite(shapely.get_coordinates(geometry)).all())


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


def _check_boundary_file(path: Path) -> None:
    """Refuse a boundary file too large to parse, or whose contents are not its format."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):  # /dev/zero or a FIFO has no size and no end
            raise BoundaryDataError(f"{path.name}: not a regular file (a device or a pipe)")
        size = status.st_size
        with open(path, "rb") as file:
            head = file.read(16)
    except OSError as error:
        raise BoundaryDataError(f"{path.name}: cannot read it: {error}") from error
    if size > MAX_BOUNDARY_BYTES:
        raise BoundaryDataError(
            f"{path.name} is too large: {size:,} bytes, more than {MAX_BOUNDARY_BYTES:,}. "
            "Simplify it first (e.g. shapely.simplify in a metric CRS, with a tolerance well "
            "under its accuracy)."
        )
    problem = gdal_format_problem(head, path.suffix.lower())
    if problem is None and path.suffix.lower() == ".gpkg":
        try:
            layers = geopackage_layers(path)
        except ValueError as error:
            raise BoundaryDataError(f"{path.name}: {error}") from error
        problem = next(
            (p for p in (geopackage_layer_problem(*layer) for layer in layers) if p), None
        )
    if problem is not None:
        raise BoundaryDataError(f"{path.name}: {problem}")


def _polygonal_parts(geometry: Any) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    if isinstance(geometry, (MultiPolygon, shapely.GeometryCollection)):
        return [p for part in shapely.get_parts(geometry) for p in _polygonal_parts(part)]
    return []


def _multipolygon(geometry: Any) -> MultiPolygon:
    return (
        geometry if isinstance(geometry, MultiPolygon) else MultiPolygon(_polygonal_parts(geometry))
    )


def _too_large(name: str, vertices: int) -> BoundaryDataError:
    return BoundaryDataError(
        f"{name} is too large: {vertices:,} vertices, more than {MAX_VERTICES:,}. Simplify it "
        "first (e.g. shapely.simplify or GeoSeries.simplify in a metric CRS, with a tolerance "
        "well under its accuracy)."
    )


def _listing(head: str, problems: list[str]) -> str:
    shown = "\n".join(f"  - {p}" for p in problems[:_MAX_LISTED])
    more = len(problems) - _MAX_LISTED
    tail = f"\n  ... and {more} more" if more > 0 else ""
    count = len(problems)
    return f"{head}: {count} problem{'s' if count != 1 else ''}\n{shown}{tail}"


# --------------------------------------------------------------------------- user boundaries


def _read_user(
    boundaries: Any, accuracy: float | None, shipped: dict[str, _Zone]
) -> tuple[list[_Zone], str]:
    """Zones from a boundary file or GeoDataFrame; warnings point at load_zones' caller."""
    if isinstance(boundaries, gpd.GeoDataFrame):
        name, frame, is_file = "<GeoDataFrame>", boundaries, False
    elif isinstance(boundaries, (str, os.PathLike)):
        path = Path(boundaries)
        name, is_file = path.name, True
        if not path.exists():
            raise BoundaryDataError(f"boundaries file not found: {path}")
        _check_boundary_file(path)
        try:
            frame = gpd.read_file(path, engine="pyogrio")
        except Exception as error:  # pyogrio raises a zoo of types on unreadable files
            raise BoundaryDataError(
                f"{name}: cannot read it as a boundary file: {error}"
            ) from error
        logger.debug("read user boundaries from %s (%d features)", path, len(frame))
    else:
        raise TypeError(
            "boundaries must be None, a folder or file path, or a GeoDataFrame, not "
            f"{type(boundaries).__name__}"
        )
    try:
        geometries = frame.geometry
    except AttributeError:
        raise BoundaryDataError(f"{name}: has no active geometry column") from None
    if "zone_id" not in frame.columns:
        raise BoundaryDataError(
            f"{name}: no 'zone_id' column. Each feature needs the id of the zone it draws "
            f"(e.g. 'shanghai'); columns found: {', '.join(map(str, frame.columns))}"
        )
    if geometries.crs is None:
        fix = (
            "add a .prj file beside it, or save it as GeoPackage or GeoJSON with its CRS"
            if is_file
            else "set the CRS you know it is in with GeoDataFrame.set_crs(...)"
        )
        raise BoundaryDataError(f"{name}: has no coordinate system, and none is assumed: {fix}")
    values = np.asarray(geometries.array, dtype=object)
    vertices = int(shapely.get_num_coordinates(values).sum())
    if vertices > MAX_VERTICES:
        raise _too_large(name, vertices)
    try:
        wgs84 = np.asarray(geometries.to_crs("EPSG:4326").array, dtype=object)
    except Exception as error:  # pyproj errors on odd CRSs
        raise BoundaryDataError(
            f"{name}: cannot reproject from {geometries.crs} to EPSG:4326: {error}"
        ) from error

    long_names = ("effective_from", "effective_to", "short_name_en", "short_name_zh")
    for column in map(str, frame.columns):
        cut = [k for k in long_names if k != column and len(column) <= 10 and k[:8] == column[:8]]
        if cut:
            warnings.warn(
                f"{name}: column {column!r} is ignored; if it is a cut-down "
                f"{' or '.join(map(repr, cut))} (Shapefile keeps 10 characters of a column "
                "name), save the boundaries as GeoPackage or GeoJSON instead",
                UserWarning,
                stacklevel=3,
            )
    problems: list[str] = []
    roles = frame["role"].tolist() if "role" in frame.columns else [None] * len(frame)
    rows: dict[str, list[int]] = {}
    polygons: dict[str, list[Any]] = {}
    pieces: dict[str, list[BorderPiece]] = {}
    for position, (label, zone_id, role) in enumerate(
        zip(frame.index, frame["zone_id"].tolist(), roles, strict=True)
    ):
        where = f"feature {position + 1}" + ("" if is_file else f" (index {label!r})")
        if not isinstance(zone_id, str) or not _ZONE_ID.fullmatch(zone_id):
            problems.append(
                f"{where}: zone_id {zone_id!r} is not an id of the form ^[a-z][a-z0-9_]*$"
            )
            continue
        where += f", zone_id {zone_id!r}"
        original, geometry = values[position], wgs84[position]
        role = None if _blank(role) else role
        if role == "approximate_border":
            piece = (
                _border_piece(_row(frame, position), geometry)
                if geometry is not None
                else "no geometry"
            )
            if isinstance(piece, str):
                problems.append(f"{where} (role 'approximate_border'): {piece}")
            else:
                pieces.setdefault(zone_id, []).append(piece)
            continue
        if role not in (None, "zone"):
            problems.append(f"{where}: role {role!r} is neither 'zone' nor 'approximate_border'")
            continue
        if original is None or shapely.is_empty(original):
            problems.append(f"{where}: empty or missing geometry")
            continue
        if not isinstance(original, (Polygon, MultiPolygon)):
            problems.append(f"{where}: a {original.geom_type}, not a Polygon or MultiPolygon")
            continue
        if not _finite(original):
            problems.append(f"{where}: NaN or infinite coordinates")
            continue
        lon0, lat0, lon1, lat1 = shapely.bounds(geometry)
        if not (-180 <= lon0 <= lon1 <= 180 and -90 <= lat0 <= lat1 <= 90):
            problems.append(
                f"{where}: coordinates outside longitude/latitude range after conversion from "
                f"{geometries.crs.to_string()}; is that the right CRS?"
            )
            continue
        if not shapely.is_valid(geometry):
            reason = shapely.is_valid_reason(geometry)
            parts = _polygonal_parts(shapely.make_valid(geometry))
            if not parts:
                problems.append(
                    f"{where}: invalid polygon ({reason}) with no area left once repaired"
                )
                continue
            geometry = MultiPolygon(parts)
            warnings.warn(
                f"{name}, {where}: invalid polygon ({reason}) repaired with shapely.make_valid, "
                "keeping its polygonal parts",
                UserWarning,
                stacklevel=3,
            )
        rows.setdefault(zone_id, []).append(position)
        polygons.setdefault(zone_id, []).append(geometry)
    for zone_id in pieces.keys() - polygons.keys():
        problems.append(f"zone_id {zone_id!r}: has approximate_border rows but no polygon")
    zones = []
    for zone_id, positions in rows.items():
        zone = _user_zone(
            zone_id,
            frame,
            positions,
            polygons[zone_id],
            tuple(pieces.get(zone_id, ())),
            name,
            accuracy,
            shipped.get(zone_id),
            problems,
        )
        if zone is not None:
            zones.append(zone)
    if not problems and not zones:
        problems.append("no zone polygons")
    if problems:
        raise BoundaryDataError(_listing(f"{name}: unusable boundaries", problems))
    return zones, str(boundaries) if is_file else name


def _row(frame: pd.DataFrame, position: int) -> dict[str, Any]:
    return {k: v for k, v in frame.iloc[position].items() if not _blank(v)}


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _user_zone(
    zone_id: str,
    frame: pd.DataFrame,
    positions: list[int],
    polygons: list[Any],
    pieces: tuple[BorderPiece, ...],
    name: str,
    accuracy: float | None,
    shipped: _Zone | None,
    problems: list[str],
) -> _Zone | None:
    """One zone from its rows; appends to problems and returns None if unusable."""
    count = len(problems)
    where = (
        f"zone_id {zone_id!r} (feature{'s' if len(positions) > 1 else ''} "
        + ", ".join(str(p + 1) for p in positions)
        + ")"
    )

    def values(column: str) -> list[Any]:
        if column not in frame.columns:
            return []
        return [v for v in frame[column].iloc[positions].tolist() if not _blank(v)]

    def single(column: str, convert: Any) -> Any:
        found = []
        for value in values(column):
            converted = convert(value)
            if converted is None:
                problems.append(f"{where}: {column} {value!r} is not valid")
                return None
            found.append(converted)
        distinct = list(dict.fromkeys(found))
        if len(distinct) > 1:
            problems.append(f"{where}: features disagree on {column} ({distinct!r})")
            return None
        return distinct[0] if distinct else None

    texts = {column: single(column, _text) for column in _TEXT_COLUMNS}
    status = texts["status"]
    if status is not None and status not in STATUSES:
        problems.append(f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
    start = single("effective_from", _cell_date)
    end = single("effective_to", _cell_date)
    accuracies = [_positive(v) for v in values("accuracy_m")]
    if None in accuracies:
        problems.append(
            f"{where}: accuracy_m {values('accuracy_m')!r} must be positive numbers of metres"
        )
    zone_accuracy = max((a for a in accuracies if a is not None), default=accuracy)
    if zone_accuracy is None:
        problems.append(
            f"{where}: no accuracy. Boundaries carry their accuracy and pilotzone never invents "
            "one: add an accuracy_m column (metres) or pass load_zones(..., accuracy_m=...)"
        )
    if shipped is not None and not values("effective_from"):
        start = shipped.effective_from
    if shipped is not None and not values("effective_to"):
        end = shipped.effective_to
    if start is not None and end is not None and end <= start:
        problems.append(f"{where}: effective_to {end} is not after effective_from {start}")
    if len(problems) > count:
        return None
    geometry = polygons[0] if len(polygons) == 1 else shapely.union_all(polygons)
    geometry = _multipolygon(geometry)
    if not geometry.is_valid:  # a union of valid polygons is valid; guard all the same
        problems.append(f"{where}: invalid after union ({shapely.is_valid_reason(geometry)})")
        return None
    if status is not None:
        history: tuple[tuple[date, str], ...] = ((date.min, status),)
    else:
        history = shipped.history if shipped is not None else ()

    def named(column: str, fallback: str) -> str:
        if texts[column] is not None:
            return str(texts[column])
        return getattr(shipped, column) if shipped is not None else fallback

    area, _ = GEOD.geometry_area_perimeter(geometry)
    return _Zone(
        zone_id=zone_id,
        name_en=named("name_en", zone_id),
        name_zh=named("name_zh", zone_id),
        short_name_en=named("short_name_en", zone_id),
        short_name_zh=named("short_name_zh", zone_id),
        effective_from=start,
        effective_to=end,
        history=history,
        accuracy_m=float(zone_accuracy),  # type: ignore[arg-type]
        area_km2=abs(area) / 1e6,
        source=texts["source"] or name,
        approximate_borders=pieces,
        geometry=geometry,
    )


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _cell_date(value: Any) -> date | None:
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for parse in (date.fromisoformat, lambda t: datetime.fromisoformat(t).date()):
            try:
                return parse(text)
            except ValueError:
                pass
    return None


# --------------------------------------------------------------------------- the table


def _frame(zones: Iterable[_Zone], day: date) -> gpd.GeoDataFrame:
    zones = list(zones)
    statuses = [zone.status_on(day) for zone in zones]

    def objects(items: list[Any]) -> pd.Series:
        return pd.Series(items, dtype=object)

    data = {
        "zone_id": [z.zone_id for z in zones],
        "name_en": [z.name_en for z in zones],
        "name_zh": [z.name_zh for z in zones],
        "short_name_en": [z.short_name_en for z in zones],
        "short_name_zh": [z.short_name_zh for z in zones],
        "status": statuses,
        "active": pd.Series([s == "active" for s in statuses], dtype=bool),
        "effective_from": objects([z.effective_from for z in zones]),
        "effective_to": objects([z.effective_to for z in zones]),
        "accuracy_m": pd.Series([z.accuracy_m for z in zones], dtype="float64"),
        "area_km2": pd.Series([z.area_km2 for z in zones], dtype="float64"),
        "source": [z.source for z in zones],
        "approximate_borders": objects([z.approximate_borders for z in zones]),
    }
    geometry = gpd.GeoSeries([z.geometry for z in zones], crs="EPSG:4326")
    return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")[list(COLUMNS)]


def _warn_overlaps(frame: gpd.GeoDataFrame) -> None:
    active = frame[frame["active"]]
    ids = active["zone_id"].tolist()
    geometries = active.geometry.tolist()
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            if not shapely.intersects(geometries[i], geometries[j]):
                continue
            area = shapely.area(shapely.intersection(geometries[i], geometries[j]))
            if area > OVERLAP_DEG2:
                warnings.warn(
                    f"active zones {ids[i]!r} and {ids[j]!r} overlap ({area:.3g} square "
                    f"degrees); a point in the overlap is assigned to {ids[i]!r}, the first in "
                    "table order",
                    UserWarning,
                    stacklevel=3,
                )
