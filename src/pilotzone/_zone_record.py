"""A zone as read, before a date is applied, and the checks every source of zones shares.

Owns :class:`Zone`, :class:`Component` and :class:`BorderPiece`, the
statuses zone data may record, and the geometry checks and problem listing
used for manifest folders and user boundary files alike.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon

from pilotzone._geodesy import GEOD
from pilotzone.errors import BoundaryDataError

#: A zone id: a lower-case letter, then lower-case letters, digits and underscores.
ZONE_ID = re.compile(r"[a-z][a-z0-9_]*")
_MAX_LISTED = 50


#: The kinds of border stretch: beyond a land border lies another division, beyond a coast the sea.
BORDER_KINDS = ("land", "coast")


@dataclass(frozen=True)
class BorderPiece:
    """A stretch of a zone's border with its own accuracy and kind.

    Attributes
    ----------
    name : str
        What the stretch is, e.g. ``"Lingang canal lines (...)"``.
    accuracy_m : float
        Its estimated positional accuracy in metres.
    geometry : shapely.LineString or shapely.MultiLineString
        The stretch in WGS-84 longitude/latitude (x = longitude).
    border : str
        ``"land"`` (another division lies beyond it: points within its
        accuracy on either side are near it) or ``"coast"`` (the sea lies
        beyond it: only points outside the zone are near it).
    approximate : bool
        Whether the stretch is drawn coarser than its source (a
        ``role: "approximate_border"`` feature) rather than measured from it
        (``role: "border"``).
    component_id : str or None
        The zone component the stretch belongs to, when it belongs to one
        (excluding the component drops the stretch).
    """

    name: str
    accuracy_m: float
    geometry: LineString | MultiLineString
    border: str = "land"
    approximate: bool = True
    component_id: str | None = None


@dataclass(frozen=True)
class Component:
    """A named part of a zone, with its legal standing and the reading applied.

    Attributes
    ----------
    component_id : str
        ``"<zone_id>/<name>"``, e.g. ``"shanghai/lingang-outside-pudong"``.
    name : str
        What it is, in words.
    standing : str
        ``"settled"`` or ``"contested"`` (:data:`pilotzone._codes.STANDINGS`).
    readings : tuple of str
        The readings that can be applied (``include``, ``exclude``, ``review``):
        a component without geometry offers only its default.
    default : str
        The manifest's default reading.
    reading : str
        The reading applied: ``include`` puts it in the zone, ``exclude`` leaves
        it out, ``review`` puts it in the zone and makes a verdict that depends
        on it ``review``.
    geometry : shapely.MultiPolygon or None
        Its outline (WGS-84), or None for the rest of the zone (the first
        component) and for a judgement without geometry.
    """

    component_id: str
    name: str
    standing: str
    readings: tuple[str, ...]
    default: str
    reading: str
    geometry: MultiPolygon | None


@dataclass(frozen=True)
class Zone:
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
    components: tuple[Component, ...] = ()

    def active_from(self) -> date | None:
        """The first date of an ``active`` status_history entry after a non-active one, if any."""
        for (start, value), (_, before) in zip(self.history[1:], self.history[:-1], strict=True):
            if value == "active" and before != "active":
                return start
        return None

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


def area_km2(geometry: Any) -> float:
    """The geodesic area of a (Multi)Polygon in WGS-84, on the WGS-84 ellipsoid, in km²."""
    area, _ = GEOD.geometry_area_perimeter(geometry)
    return abs(area) / 1e6


def positive(value: Any) -> float | None:
    """A finite number > 0, or None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def border_piece(
    properties: dict[str, Any], geometry: Any, *, approximate: bool = True
) -> BorderPiece | str:
    """The stretch a feature's ``properties`` and ``geometry`` describe, or what is wrong with it.

    ``border`` defaults to ``"land"`` where the properties have none.
    """
    if not isinstance(geometry, (LineString, MultiLineString)) or shapely.is_empty(geometry):
        return f"a {geometry.geom_type}, not a LineString or MultiLineString"
    if not finite(geometry):
        return "NaN or infinite coordinates"
    name = properties.get("name")
    accuracy = positive(properties.get("accuracy_m"))
    if not isinstance(name, str) or not name.strip():
        return "needs a 'name'"
    if accuracy is None:
        return f"accuracy_m {properties.get('accuracy_m')!r} is not a positive number of metres"
    component = properties.get("component_id")
    if component is not None and not isinstance(component, str):
        return f"component_id {component!r} is not a string"
    kind = properties.get("border", "land")
    if kind not in BORDER_KINDS:
        return f"border {kind!r} is neither 'land' nor 'coast'"
    return BorderPiece(name.strip(), accuracy, geometry, kind, approximate, component)


def finite(geometry: Any) -> bool:
    """Whether every coordinate is a finite number (GEOS fails on NaN and infinity)."""
    return bool(np.isfinite(shapely.get_coordinates(geometry)).all())


def polygonal_parts(geometry: Any) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    if isinstance(geometry, (MultiPolygon, shapely.GeometryCollection)):
        return [p for part in shapely.get_parts(geometry) for p in polygonal_parts(part)]
    return []


def multipolygon(geometry: Any) -> MultiPolygon:
    return (
        geometry if isinstance(geometry, MultiPolygon) else MultiPolygon(polygonal_parts(geometry))
    )


def too_many_vertices(name: str, vertices: int, limit: int) -> BoundaryDataError:
    """The error for a boundary file of ``vertices`` vertices, more than ``limit``."""
    return BoundaryDataError(
        f"{name} is too large: {vertices:,} vertices, more than {limit:,}. Simplify it "
        "first (e.g. shapely.simplify or GeoSeries.simplify in a metric CRS, with a tolerance "
        "well under its accuracy)."
    )


def listing(head: str, problems: list[str]) -> str:
    shown = "\n".join(f"  - {p}" for p in problems[:_MAX_LISTED])
    more = len(problems) - _MAX_LISTED
    tail = f"\n  ... and {more} more" if more > 0 else ""
    count = len(problems)
    return f"{head}: {count} problem{'s' if count != 1 else ''}\n{shown}{tail}"
