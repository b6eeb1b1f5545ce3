"""Zones from a user boundary file or GeoDataFrame: read, checked, merged by zone id."""

from __future__ import annotations

import logging
import os
import stat
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from pilotzone._codes import ZONE_STATUSES
from pilotzone._formats import (
    gdal_bytes,
    gdal_format_problem,
    geopackage_layer_problem,
    geopackage_layers,
    read_gdal,
)
from pilotzone._geodesy import GEOD
from pilotzone._manifest import MAX_BOUNDARY_BYTES
from pilotzone._zone_record import (
    ZONE_ID,
    BorderPiece,
    Zone,
    border_piece,
    finite,
    listing,
    multipolygon,
    polygonal_parts,
    positive,
    too_many_vertices,
)
from pilotzone.errors import BoundaryDataError

logger = logging.getLogger(__name__)

_TEXT_COLUMNS = ("name_en", "name_zh", "short_name_en", "short_name_zh", "status", "source")


def read_user(
    boundaries: Any, accuracy: float | None, shipped: dict[str, Zone], max_vertices: int
) -> tuple[list[Zone], str]:
    """Zones from a boundary file or GeoDataFrame; warnings point at load_zones' caller.

    ``shipped`` are the shipped zones by id, whose names, dates and history a
    zone of the same id takes where it has none; a file of more than
    ``max_vertices`` vertices is refused.
    """
    if isinstance(boundaries, gpd.GeoDataFrame):
        name, frame, is_file = "<GeoDataFrame>", boundaries, False
    elif isinstance(boundaries, (str, os.PathLike)):
        path = Path(boundaries)
        name, is_file = path.name, True
        if not path.exists():
            raise BoundaryDataError(f"boundaries file not found: {path}")
        data = _check_boundary_file(path)
        try:
            frame = read_gdal(gdal_bytes(path, data, limit=MAX_BOUNDARY_BYTES))
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
    if vertices > max_vertices:
        raise too_many_vertices(name, vertices, max_vertices)
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
        if not isinstance(zone_id, str) or not ZONE_ID.fullmatch(zone_id):
            problems.append(
                f"{where}: zone_id {zone_id!r} is not an id of the form ^[a-z][a-z0-9_]*$"
            )
            continue
        where += f", zone_id {zone_id!r}"
        original, geometry = values[position], wgs84[position]
        role = None if _blank(role) else role
        if role in ("approximate_border", "border"):
            piece = (
                border_piece(
                    _row(frame, position), geometry, approximate=role == "approximate_border"
                )
                if geometry is not None
                else "no geometry"
            )
            if isinstance(piece, str):
                problems.append(f"{where} (role {role!r}): {piece}")
            else:
                pieces.setdefault(zone_id, []).append(piece)
            continue
        if role == "component":  # a shipped file's component outline: without its manifest it
            continue  # has no readings, and the zone row already holds the extent
        if role not in (None, "zone"):
            problems.append(
                f"{where}: role {role!r} is none of 'zone', 'component', 'border' and "
                "'approximate_border'"
            )
            continue
        if original is None or shapely.is_empty(original):
            problems.append(f"{where}: empty or missing geometry")
            continue
        if not isinstance(original, (Polygon, MultiPolygon)):
            problems.append(f"{where}: a {original.geom_type}, not a Polygon or MultiPolygon")
            continue
        if not finite(original):
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
            parts = polygonal_parts(shapely.make_valid(geometry))
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
        raise BoundaryDataError(listing(f"{name}: unusable boundaries", problems))
    return zones, str(boundaries) if is_file else name


def _row(frame: pd.DataFrame, position: int) -> dict[str, Any]:
    # Properties are named by text; border_piece reads only "name", "accuracy_m" and "border".
    return {k: v for k, v in frame.iloc[position].items() if isinstance(k, str) and not _blank(v)}


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
    shipped: Zone | None,
    problems: list[str],
) -> Zone | None:
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
    if status is not None and status not in ZONE_STATUSES:
        problems.append(f"{where}: status {status!r} is not one of {', '.join(ZONE_STATUSES)}")
    start = single("effective_from", _cell_date)
    end = single("effective_to", _cell_date)
    accuracies = [positive(v) for v in values("accuracy_m")]
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
    geometry = multipolygon(geometry)
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
    return Zone(
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


def _check_boundary_file(path: Path) -> bytes:
    """A boundary file's bytes; refused if too large to parse, or not its format."""
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):  # /dev/zero or a FIFO has no size and no end
            raise BoundaryDataError(f"{path.name}: not a regular file (a device or a pipe)")
        size = status.st_size
        if size > MAX_BOUNDARY_BYTES:
            raise BoundaryDataError(
                f"{path.name} is too large: {size:,} bytes, more than {MAX_BOUNDARY_BYTES:,}. "
                "Simplify it first (e.g. shapely.simplify in a metric CRS, with a tolerance well "
                "under its accuracy)."
            )
        with open(path, "rb") as file:
            data = file.read(MAX_BOUNDARY_BYTES + 1)
    except OSError as error:
        raise BoundaryDataError(f"{path.name}: cannot read it: {error}") from error
    problem = gdal_format_problem(data[:16], path.suffix.lower())
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
    return data
