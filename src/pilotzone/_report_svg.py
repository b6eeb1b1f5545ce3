"""The report's static overview map: one SVG inset per zone, drawn from the geometries.

Each inset frames one zone (its outline simplified to about half a drawing
unit, so the outline costs the same at any zoom) with the facilities around it
as small marks coloured by status. Marks are binned to cells of
:data:`CELL` drawing units, one mark per status and cell, so an inset has at
most ``(WIDTH / CELL) * (HEIGHT / CELL)`` marks per layer whatever the number
of rows: the report stays small for a million rows. Violations are drawn last
and outlined, registrations get a hollow square around their dot, and each
inset has its own scale bar. Names and other text are the caller's (captions
in HTML); the SVG holds numbers and codes only.

Coordinates: the result's points and the zones in WGS-84 (EPSG:4326),
longitude first; each inset draws an equirectangular view centred on its frame.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from pilotzone._geodesy import GEOD

__all__ = ["CELL", "HEIGHT", "WIDTH", "Inset", "overview"]

#: The drawing box of an inset, in SVG units (the page scales it to its width).
WIDTH, HEIGHT = 360, 270
#: Marks are binned to square cells of this many units: one mark per status and cell.
CELL = 4
#: The frame around a zone, as a fraction of its larger side on each side.
_PAD = 0.06
#: Statuses in drawing order: the most serious on top.
_DRAW_ORDER = ("compliant", "invalid", "review", "violation")
_DOT_WIDTH = {"compliant": 3.2, "invalid": 3.2, "review": 4.2, "violation": 5.0}
_OUTLINE = "#111111"
#: A layer with more occupied cells than this is dense: its marks shrink to the cell, unoutlined,
#: so that a crowd reads as a texture instead of one blot.
_DENSE = 400


@dataclass(frozen=True)
class Inset:
    """One zone's overview.

    Attributes
    ----------
    zone_id : str
        The zone framed.
    svg : str
        The ``<svg>`` element (numbers and codes only; no text from the data).
    shown : dict of str to int
        Facilities inside the frame, by status.
    """

    zone_id: str
    svg: str
    shown: dict[str, int]


@dataclass(frozen=True)
class _View:
    """An equirectangular view of a lon/lat box fitted into the drawing box."""

    west: float
    north: float
    east: float
    south: float
    kx: float  # cos(latitude): a degree of longitude against one of latitude
    scale: float  # drawing units per degree of latitude

    @classmethod
    def of(cls, bounds: tuple[float, float, float, float]) -> _View:
        west, south, east, north = bounds
        pad = _PAD * max(east - west, north - south, 0.01)
        west, south, east, north = west - pad, south - pad, east + pad, north + pad
        kx = math.cos(math.radians((south + north) / 2))
        scale = min(WIDTH / ((east - west) * kx), HEIGHT / (north - south))
        x0 = (WIDTH - (east - west) * kx * scale) / 2
        y0 = (HEIGHT - (north - south) * scale) / 2
        # The frame is the whole drawing box, which is wider or taller than the zone's box.
        west -= x0 / (kx * scale)
        east += x0 / (kx * scale)
        north += y0 / scale
        south -= y0 / scale
        return cls(west, north, east, south, kx, scale)

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Drawing coordinates of WGS-84 longitudes and latitudes."""
        return (lon - self.west) * self.kx * self.scale, (self.north - lat) * self.scale

    def inside(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Whether each point lies in the frame (missing coordinates do not)."""
        with np.errstate(invalid="ignore"):
            return (
                (lon >= self.west) & (lon <= self.east) & (lat >= self.south) & (lat <= self.north)
            )

    def metres_per_unit(self) -> float:
        """Metres one drawing unit spans along the meridian through the frame's centre."""
        lon = (self.west + self.east) / 2
        lat = (self.south + self.north) / 2
        _, _, metres = GEOD.inv(lon, lat - 0.5 / self.scale, lon, lat + 0.5 / self.scale)
        return float(metres)


def _number(value: float) -> str:
    """A coordinate to one decimal, without a trailing ``.0``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _outline(geometry: shapely.Geometry, view: _View) -> str:
    """SVG path data of a zone, simplified to half a drawing unit."""
    drawn = shapely.transform(geometry, lambda c: np.column_stack(view.xy(c[:, 0], c[:, 1])))
    drawn = shapely.simplify(drawn, 0.5, preserve_topology=True)
    parts: list[str] = []
    polygons = shapely.get_parts(shapely.get_parts(drawn))
    for polygon in polygons:
        if shapely.get_type_id(polygon) != 3:  # collections may hold lines or points
            continue
        rings = [polygon.exterior, *polygon.interiors]
        for ring in rings:
            coords = np.asarray(ring.coords)[:-1]
            if len(coords) < 3:
                continue
            points = " ".join(f"{_number(x)} {_number(y)}" for x, y in coords)
            parts.append(f"M{points}Z")
    return "".join(parts)


def _cells(x: np.ndarray, y: np.ndarray) -> list[tuple[int, int]]:
    """The centres of the occupied cells, in order."""
    column = np.floor(x / CELL).astype(np.int64)
    row = np.floor(y / CELL).astype(np.int64)
    keys = np.unique(column * 100_000 + row)
    half = CELL // 2
    return [(int(k // 100_000) * CELL + half, int(k % 100_000) * CELL + half) for k in keys]


def _dots(cells: list[tuple[int, int]], color: str, width: float) -> str:
    data = "".join(f"M{x} {y}h0" for x, y in cells)
    return f'<path d="{data}" stroke="{color}" stroke-width="{width}" stroke-linecap="round"/>'


def _squares(cells: list[tuple[int, int]]) -> str:
    half, width = (4, 1.3) if len(cells) <= _DENSE else (2, 0.8)
    side = 2 * half
    data = "".join(f"M{x - half} {y - half}h{side}v{side}h-{side}z" for x, y in cells)
    return f'<path d="{data}" fill="none" stroke="{_OUTLINE}" stroke-width="{width}"/>'


def _scale_bar(view: _View) -> str:
    """A scale bar of a round length, about a quarter of the inset wide, bottom left."""
    per_unit = view.metres_per_unit()
    target = WIDTH / 4 * per_unit
    power = 10 ** math.floor(math.log10(target))
    metres = max(m * power for m in (1, 2, 5) if m * power <= target)
    length = metres / per_unit
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    x, y = 10, HEIGHT - 10
    return (
        f'<g class="scale"><rect x="{x - 4}" y="{y - 17}" width="{_number(length + 8)}" '
        f'height="21" fill="#ffffff" fill-opacity=".8"/>'
        f'<path d="M{x} {y - 5}v5h{_number(length)}v-5" fill="none" stroke="{_OUTLINE}" '
        f'stroke-width="1.2"/><text x="{x}" y="{y - 7}" font-size="10">{label}</text></g>'
    )


def _inset(
    zone_id: str,
    geometry: shapely.Geometry,
    active: bool,
    lon: np.ndarray,
    lat: np.ndarray,
    status: np.ndarray,
    registration: np.ndarray,
) -> tuple[Inset, np.ndarray]:
    """One zone's inset, and which rows its frame holds; ``status`` indexes :data:`_DRAW_ORDER`."""
    # The map's colours; its module loads folium, which ``import pilotzone`` must not.
    from pilotzone._map_drawing import STATUS_COLORS, ZONE_COLOR

    west, south, east, north = (float(v) for v in shapely.bounds(geometry))
    view = _View.of((west, south, east, north))
    inside = view.inside(lon, lat)
    x, y = view.xy(lon[inside], lat[inside])
    kept = status[inside]
    dash = "" if active else ' stroke-dasharray="6 4"'
    layers = [
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fbfbf8" stroke="#999999"/>',
        f'<path class="zone" d="{_outline(geometry, view)}" fill="{ZONE_COLOR}" '
        f'fill-opacity=".10" fill-rule="evenodd" stroke="{ZONE_COLOR}" stroke-width="1.4"{dash}/>',
    ]
    shown: dict[str, int] = {}
    for index, code in enumerate(_DRAW_ORDER):
        these = kept == index
        shown[code] = int(these.sum())
        if code == "violation":  # registrations under the violations, which stay on top
            registered = registration[inside]
            if registered.any():
                layers.append(_squares(_cells(x[registered], y[registered])))
        if not shown[code]:
            continue
        cells = _cells(x[these], y[these])
        width = _DOT_WIDTH[code] if len(cells) <= _DENSE else CELL * 0.8
        outline = ""
        if code == "violation" and len(cells) <= _DENSE:
            outline = _dots(cells, _OUTLINE, width + 2.0)
        dots = _dots(cells, STATUS_COLORS[code], width)
        layers.append(f'<g class="{code}">{outline}{dots}</g>')
    layers.append(_scale_bar(view))
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="inset" '
        f'data-zone="{html.escape(zone_id, quote=True)}" role="img">{"".join(layers)}</svg>'
    )
    return Inset(zone_id, svg, shown), inside


def overview(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> tuple[list[Inset], int]:
    """One inset per zone, and how many located facilities no inset frames.

    Parameters
    ----------
    result : geopandas.GeoDataFrame
        What :func:`pilotzone.verify` returns: point geometries (any CRS; drawn
        in WGS-84), ``status`` and ``kind``.
    zones : geopandas.GeoDataFrame
        The zones, in their order; ``zone_id`` and ``active`` are used.

    Returns
    -------
    list of Inset
        One per zone, in the zones' order.
    int
        Located facilities outside every inset's frame (drawn on map.html only).
    """
    frame = result if result.crs is None or result.crs.equals("EPSG:4326") else result.to_crs(4326)
    shapes = np.array(frame.geometry.values, dtype=object)  # a copy: points replace areas below
    located = ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))
    areal = located & (shapely.get_type_id(shapes) != 0)  # anything not a point: a point on it
    shapes[areal] = shapely.point_on_surface(shapes[areal])
    lon = np.where(located, shapely.get_x(shapes), np.nan)
    lat = np.where(located, shapely.get_y(shapes), np.nan)
    status = np.full(len(frame), -1, dtype=np.int8)  # index into _DRAW_ORDER
    for index, code in enumerate(_DRAW_ORDER):
        status[(frame["status"] == code).to_numpy(dtype=bool)] = index
    registration = (frame["kind"] == "registration").to_numpy(dtype=bool, na_value=False)
    zones = zones if zones.crs is None or zones.crs.equals("EPSG:4326") else zones.to_crs(4326)
    framed = np.zeros(len(frame), dtype=bool)
    insets = []
    for zone_id, geometry, active in zip(
        zones["zone_id"], zones.geometry, zones["active"], strict=True
    ):
        inset, inside = _inset(str(zone_id), geometry, bool(active), lon, lat, status, registration)
        insets.append(inset)
        framed |= inside
    return insets, int((located & ~framed).sum())
