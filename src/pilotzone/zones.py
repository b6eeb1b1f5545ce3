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

This module owns :func:`load_zones`, the zone manifest's schema and the zone
table. Below it: ``_zone_record`` (a zone as read and the checks every source
shares), ``_components`` (a zone's named components, their readings
applied), ``_manifest`` (data folders, the one ``manifest.json`` parser,
files checked against their hashes), ``_user_boundaries`` (a boundary file
or GeoDataFrame) and ``_formats`` (what may be handed to GDAL).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon

from pilotzone._codes import ZONE_STATUSES as STATUSES
from pilotzone._components import apply_readings, component_problems, manifest_components
from pilotzone._formats import GDAL_FORMATS as GDAL_FORMATS
from pilotzone._manifest import MAX_BOUNDARY_BYTES as MAX_BOUNDARY_BYTES
from pilotzone._manifest import manifest_bytes, parse_manifest, shipped_folder, verified_bytes
from pilotzone._paths import BOUNDARIES_FOLDERS, BOUNDARIES_MANIFEST_SHA256
from pilotzone._user_boundaries import read_user
from pilotzone._zone_record import (
    ZONE_ID,
    BorderPiece,
    Component,
    Zone,
    border_piece,
    finite,
    listing,
    multipolygon,
    positive,
    too_many_vertices,
)
from pilotzone.errors import BoundaryDataError, InputError, Problem

__all__ = ["BorderPiece", "Component", "load_zones"]

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
    "components",
    "active_from",
    "geometry",
)
#: A boundary file with more vertices than this is refused (simplify it first).
MAX_VERTICES = 5_000_000
#: Active zones overlapping by more than this many square degrees are reported.
OVERLAP_DEG2 = 1e-10

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


def load_zones(
    as_of: date | datetime | str | None = None,
    boundaries: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    *,
    accuracy_m: float | None = None,
    readings: Mapping[str, str] | None = None,
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
        :data:`GDAL_FORMATS`) or a GeoDataFrame, with a ``zone_id`` column and polygons, replaces
        the shipped zones it names and adds new ones; see Notes.
    accuracy_m : float, optional
        Accuracy in metres of the supplied boundaries, used for zones whose
        rows have no ``accuracy_m`` value. Only for a boundary file or a
        GeoDataFrame.
    readings : mapping of str to str, optional
        The reading of each named zone component to apply, e.g.
        ``{"shanghai/lingang-outside-pudong": "exclude"}``: ``include`` (in
        the zone), ``exclude`` (out of it) or ``review`` (in the zone, and a
        facility whose verdict depends on it is ``review``). Components not
        named take the manifest's default. See Notes.

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
          the stretches of border with their own accuracy and kind (``land``
          or ``coast``): the approximate ones and, in the shipped files, every
          measured stretch (empty if none; the rest of the border is a land
          border of the zone's ``accuracy_m``);
        - ``components`` (object): a tuple of :class:`Component`, the zone's
          named parts with the reading applied (empty for supplied files);
        - ``active_from`` (object): the ``datetime.date`` the zone came into
          force after being announced (its implementing plan's approval), or
          ``None``;
        - ``geometry``: a valid ``MultiPolygon``, the extent under the
          readings applied.

        ``attrs["as_of"]`` is the date used (ISO string),
        ``attrs["readings"]`` the reading applied to every component that
        is contested or offers more than one reading (component id to
        reading),
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
        If ``as_of`` is not a date, ``accuracy_m`` is not a positive
        number or is given without boundaries it could apply to, or
        ``readings`` names a component or a reading the zones do not offer
        (the message lists those that are).

    Notes
    -----
    *Status.* Before ``effective_from`` a zone is ``not_yet_effective``, on
    or after ``effective_to`` it is ``expired``; in between its status is
    that of the last ``status_history`` entry dated on or before ``as_of``
    (``active`` before the first one). A manifest's ``status`` must equal
    its last ``status_history`` entry, so that a zone cannot be suspended by
    editing ``status`` alone and silently stay active.

    *Components and readings.* A manifest lists each zone's components
    (``component_id``, ``standing``: ``settled`` or ``contested``, the
    ``readings`` it offers with their sources, the ``default`` and why). The
    zone's file holds its default extent (``role: "zone"``) and the outline
    of every component but the first (``role: "component"``); the first is
    the rest of the zone. A component whose reading leaves its default
    extent (or enters it) is cut from (or added to) the zone, on the 1e-6°
    grid the data is snapped to, and approximate border stretches marked
    with its ``component_id`` go with it. The shipped ``manifest.json`` is
    pinned by its SHA-256; a supplied folder's areas are recomputed from its
    geometry and must agree with the manifest to within its rounding.

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
    ``source`` and ``role`` (rows with ``role`` ``"border"`` or
    ``"approximate_border"`` are read as :class:`BorderPiece`, as in the
    shipped files, with a ``border`` column of ``"land"`` (the default) or
    ``"coast"``: a coast's band lies only outside the zone). For a zone id
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
    >>> zones = load_zones(as_of="2024-10-23")
    >>> zones["zone_id"].tolist()
    ['beijing', 'shanghai', 'hainan', 'shenzhen']
    >>> bool(zones["active"].all())
    True
    >>> load_zones(as_of="2024-06-01")["status"].unique().tolist()
    ['announced']
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
        zones = _read_folder(folder, pinned=boundaries is None)
    else:
        folder = _shipped_folder()
        merged = {zone.zone_id: zone for zone in _read_folder(folder, pinned=True)}
        user, override = read_user(boundaries, accuracy, merged, MAX_VERTICES)
        for zone in user:
            merged[zone.zone_id] = zone  # replaced ids keep their place, new ids go last
        zones = list(merged.values())
    zones, applied = apply_readings(zones, readings)
    frame = _frame(zones, day)
    frame.attrs["as_of"] = day.isoformat()
    frame.attrs["readings"] = applied
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
    accuracy = positive(value)
    if accuracy is None:
        raise InputError(
            Problem("accuracy_m", None, None, value, "must be a positive number of metres")
        )
    return accuracy


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


def _read_folder(folder: Path, *, pinned: bool = False) -> list[Zone]:
    """The zones of a manifest folder; ``pinned``: the shipped folder, whose manifest is pinned."""
    raw = manifest_bytes(
        folder,
        "a boundaries folder needs the manifest that scripts/build_boundaries.py writes (pass "
        "a boundary file instead to add or replace single zones)",
    )
    if pinned:
        actual = hashlib.sha256(raw).hexdigest()
        if actual != BOUNDARIES_MANIFEST_SHA256:
            raise BoundaryDataError(
                f"{folder / 'manifest.json'}: its sha256 is {actual}, but pilotzone ships "
                f"{BOUNDARIES_MANIFEST_SHA256}. The shipped manifest (accuracies, areas, "
                "readings) was changed outside scripts/build_boundaries.py: restore it or "
                "rebuild the folder with that script; to use other data, pass boundaries= "
                "with a folder of your own."
            )
    zones, files = _parse_folder(str(folder.resolve()), raw)
    for name, sha256 in files:  # the cache never hides a file changed since it was parsed
        verified_bytes(folder, name, sha256)
    logger.debug("read zone data from %s (%d zones)", folder, len(zones))
    return list(zones)


@functools.lru_cache(maxsize=8)
def _parse_folder(
    folder_name: str, raw: bytes
) -> tuple[tuple[Zone, ...], tuple[tuple[str, str], ...]]:
    """Zones of a manifest folder, and the (file, sha256) pairs to verify."""
    folder = Path(folder_name)
    manifest_path = folder / "manifest.json"
    manifest = parse_manifest(raw, manifest_path)
    entries = _manifest_entries(manifest, manifest_path)
    zones = []
    for entry in entries:
        data = verified_bytes(folder, entry["file"], entry["sha256"])
        zones.append(_manifest_zone(entry, manifest, folder / entry["file"], data))
    files = tuple((entry["file"], entry["sha256"]) for entry in entries)
    return tuple(zones), files


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
        if not isinstance(zone_id, str) or not ZONE_ID.fullmatch(zone_id):
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
        if "accuracy_m" in entry and positive(entry["accuracy_m"]) is None:
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
        for key, kind in (("components", list), ("approximate_borders", list)):
            if key in entry and not isinstance(entry[key], kind):
                bad(key, "must be a list")
        if isinstance(entry.get("components"), list) and isinstance(zone_id, str):
            for reason in component_problems(entry["components"], zone_id):
                bad("components", reason)
    if problems:
        raise BoundaryDataError(listing(f"{manifest_path} breaks the manifest schema", problems))
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
) -> Zone:
    """Parse one zone's GeoJSON file (already hash-checked) into a Zone."""
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
    outlines: dict[str, Any] = {}
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
        elif role in ("approximate_border", "border"):
            piece = border_piece(properties, geometry, approximate=role == "approximate_border")
            if isinstance(piece, str):
                problems.append(f"{where} (role {role!r}): {piece}")
            else:
                pieces.append(piece)
        elif role == "component":
            reason = _polygon_problem(geometry)
            if reason:
                problems.append(f"{where} (role 'component'): {reason}")
            else:
                outlines[str(properties.get("component_id"))] = multipolygon(geometry)
        else:
            problems.append(
                f"{where}: role {role!r} is none of 'zone', 'component', 'border' and "
                "'approximate_border'"
            )
    if vertices > MAX_VERTICES:
        raise too_many_vertices(path.name, vertices, MAX_VERTICES)
    if len(polygons) != 1 and not problems:
        problems.append(f"has {len(polygons)} features with role 'zone', expected exactly 1")
    components: tuple[Component, ...] = ()
    if not problems:
        components = manifest_components(entry, outlines, polygons[0], problems)
    if problems:
        raise BoundaryDataError(listing(f"{path.name} (zone {zone_id!r})", problems))
    return Zone(
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
        geometry=multipolygon(polygons[0]),
        components=components,
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
    if not finite(geometry):
        return "NaN or infinite coordinates"
    if not shapely.is_valid(geometry):
        return f"invalid polygon: {shapely.is_valid_reason(geometry)}"
    return None


# --------------------------------------------------------------------------- user boundaries


# --------------------------------------------------------------------------- the table


def _frame(zones: Iterable[Zone], day: date) -> gpd.GeoDataFrame:
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
        "components": objects([z.components for z in zones]),
        "active_from": objects([z.active_from() for z in zones]),
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
