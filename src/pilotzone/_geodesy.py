"""Geodesy shared by the engine, siting and the address check: metres on the WGS-84 ellipsoid.

Every distance the package reports is measured on the WGS-84 ellipsoid, either
by a geodesic (:data:`GEOD`) or in a zone's *local plane*: the azimuthal
equidistant projection centred on the zone, computed with geodesics as PROJ
does (a point's local coordinates are its geodesic distance and azimuth from
the centre). Lengths in that plane are true lengths within a factor
:func:`local_distortion` either way, so a planar distance bounds the geodesic
one. :class:`LocalTable` tabulates the plane over a box so that millions of
points reach it by interpolation, with a bound on its error.

A zone's border enters the plane as short lon/lat segments
(:func:`local_border`): cut at :data:`SEGMENTIZE_DEG`, a segment that is
straight in the plane stays within millimetres of the lon/lat edge that
shapely's ``covers`` decides membership with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from pilotzone.crs import geometry_from_wgs84, to_wgs84

__all__ = [
    "GEOD",
    "METRES_PER_DEGREE_AT_60",
    "SEGMENTIZE_DEG",
    "SHIFT_DEG",
    "LocalTable",
    "from_local",
    "from_local_geometry",
    "geometry_in",
    "grown_box",
    "in_wgs84",
    "local_border",
    "local_distortion",
    "metres_per_degree",
    "metres_to_segment",
    "projection_factor",
    "stretch",
    "to_local",
    "to_local_geometry",
    "true_bounds",
]

#: The WGS-84 ellipsoid's geodesics: every metre the package reports is measured on it.
GEOD = pyproj.Geod(ellps="WGS84")
#: Longest lon/lat edge (degrees) before a border is projected or converted into GCJ-02/BD-09:
#: its bends then stay under 1 cm.
SEGMENTIZE_DEG = 0.005
#: An angle this wide spans at least this many metres anywhere south of 60 degrees north.
METRES_PER_DEGREE_AT_60 = 111_320.0 * 0.5
#: More degrees than GCJ-02 or BD-09 moves any point in China from its WGS-84 position.
SHIFT_DEG = 0.03
_POLAR_RADIUS_M = 6_356_752.0
# lattice nodes of a local table (see LocalTable); GCJ-02's and BD-09's offsets bend more, so
# their tables are finer to keep the interpolation within a few tens of centimetres
_LOCAL_NODES = {"wgs84": 20_000, "gcj02": 100_000, "bd09": 100_000}
_LOCAL_STEP_DEG = 0.002


def to_local(
    centre: tuple[float, float], lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates in the local plane around ``centre``, from geodesic distance and azimuth.

    Parameters
    ----------
    centre : tuple of float
        The plane's centre as (lon, lat), WGS-84 degrees.
    lon, lat : ndarray of float64
        WGS-84 degrees, x first.

    Returns
    -------
    x, y : ndarray of float64
        Metres east and north of ``centre`` in the azimuthal equidistant plane.

    Examples
    --------
    >>> x, y = to_local((116.0, 40.0), np.array([116.0]), np.array([40.01]))
    >>> round(float(x[0]), 6), round(float(y[0]), 1)
    (0.0, 1110.3)
    """
    azimuth, _, metres = GEOD.inv(
        np.full(lon.shape, centre[0]), np.full(lon.shape, centre[1]), lon, lat
    )
    azimuth = np.radians(azimuth)
    return metres * np.sin(azimuth), metres * np.cos(azimuth)


def from_local(
    centre: tuple[float, float], x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS-84 lon/lat of points in the local plane around ``centre``: :func:`to_local` undone.

    Parameters
    ----------
    centre : tuple of float
        The plane's centre as (lon, lat), WGS-84 degrees.
    x, y : ndarray of float64
        Metres east and north of ``centre``.

    Returns
    -------
    lon, lat : ndarray of float64
        WGS-84 degrees.
    """
    lon, lat, _ = GEOD.fwd(
        np.full(x.shape, centre[0]),
        np.full(x.shape, centre[1]),
        np.degrees(np.arctan2(x, y)),
        np.hypot(x, y),
    )
    return lon, lat


def local_distortion(rho_m: float) -> float:
    """How far local lengths may differ from true ones, out to ``rho_m`` metres from the centre.

    Parameters
    ----------
    rho_m : float
        The farthest distance from the plane's centre of anything measured.

    Returns
    -------
    float
        A factor k >= 1: a length l in the plane is a true length within
        ``[l / k, l * k]``. It is the projection's transverse scale on a sphere,
        ``1 + (rho/R)^2 / 6``, with the excess doubled for margin.
    """
    return 1.0 + (rho_m / _POLAR_RADIUS_M) ** 2 / 3.0


def true_bounds(
    planar: NDArray[np.float64], error: float, distortion: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bounds of the true distance behind a distance measured in a tabulated local plane.

    Parameters
    ----------
    planar : ndarray of float64
        Metres between points projected through a :class:`LocalTable` and a segment.
    error : float
        The table's ``error`` (metres).
    distortion : float
        :func:`local_distortion` out to the farthest of them.

    Returns
    -------
    low, high : ndarray of float64
        The true (geodesic) distance lies in ``[(planar - error) / distortion,
        (planar + error) * distortion]``.
    """
    return (planar - error) / distortion, (planar + error) * distortion


def metres_per_degree(south: float, north: float) -> tuple[float, float]:
    """Fewest metres a degree of longitude and of latitude spans from ``south`` to ``north``.

    Parameters
    ----------
    south, north : float
        Latitudes (degrees) of a band; one degree beyond it is allowed for.

    Returns
    -------
    tuple of float
        Metres per degree of longitude, then of latitude.
    """
    farthest = min(max(abs(south), abs(north)) + 1.0, 89.0)
    return 111_320.0 * math.cos(math.radians(farthest)), 110_574.0


def grown_box(
    bounds: tuple[float, float, float, float], metres: float
) -> tuple[float, float, float, float]:
    """A lon/lat box grown by at least ``metres`` on every side.

    Parameters
    ----------
    bounds : tuple of float
        West, south, east, north in degrees.
    metres : float
        How far to grow it.

    Returns
    -------
    tuple of float
        West, south, east, north of the grown box (degrees, per :func:`metres_per_degree`).
    """
    west, south, east, north = bounds
    lon_metres, lat_metres = metres_per_degree(south, north)
    return (
        west - metres / lon_metres,
        south - metres / lat_metres,
        east + metres / lon_metres,
        north + metres / lat_metres,
    )


def in_wgs84(
    x: NDArray[np.float64], y: NDArray[np.float64], space: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The points in WGS-84, converted only if they are not already.

    Parameters
    ----------
    x, y : ndarray of float64
        Points in ``space``, x first.
    space : str
        A normalized system name (see :func:`pilotzone.normalize_crs`).

    Returns
    -------
    lon, lat : ndarray of float64
        WGS-84 degrees; the arrays given (not copies) when ``space`` is ``"wgs84"``.
    """
    return (x, y) if space == "wgs84" else to_wgs84(x, y, space)


def geometry_in(geometry: Any, space: str) -> Any:
    """A WGS-84 geometry in ``space``, its edges cut at :data:`SEGMENTIZE_DEG` before converting.

    Parameters
    ----------
    geometry : shapely geometry
        WGS-84 lon/lat.
    space : str
        ``"wgs84"`` (the geometry itself comes back), ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    shapely geometry
        The geometry in ``space``; its converted edges bend by under 1 cm.
    """
    if space == "wgs84":
        return geometry
    return geometry_from_wgs84(shapely.segmentize(geometry, SEGMENTIZE_DEG), space)


def stretch(piece: Any) -> tuple[Any, float, bool]:
    """A border piece as (geometry, accuracy in metres, whether it is a coast).

    ``piece`` is a :class:`pilotzone.zones.BorderPiece` or alike; one without
    ``border`` is a land border. :func:`local_border` takes stretches so.
    """
    return piece.geometry, float(piece.accuracy_m), getattr(piece, "border", "land") == "coast"


def local_border(
    centre: tuple[float, float], geometry: Any, admin_accuracy: float, pieces: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """A zone's border as short segments in the local plane around ``centre``, and their accuracy.

    The border is cut into lon/lat segments no longer than :data:`SEGMENTIZE_DEG`
    before projecting their ends, so that a segment straight in the plane
    stays within millimetres of the lon/lat edge that ``covers()`` decides
    membership with.

    Parameters
    ----------
    centre : tuple of float
        The plane's centre as (lon, lat), WGS-84 degrees.
    geometry : shapely Polygon or MultiPolygon
        The zone, WGS-84.
    admin_accuracy : float
        Accuracy (metres) of the border's lines that no piece covers (land borders).
    pieces : iterable of (geometry, float, bool)
        Stretches of the border (WGS-84) with their own accuracy in metres, and
        whether each is a coast.

    Returns
    -------
    ends : ndarray of float64
        One segment a row: x0, y0, x1, y1 in the local plane (metres).
    accuracy : ndarray of float64
        Per segment: that of the last stretch its lon/lat midpoint lies on
        (within 1e-6 degree), else ``admin_accuracy``.
    coast : ndarray of bool
        Per segment: whether that stretch is a coast.
    covered : ndarray of bool
        Per segment: whether some stretch holds it.
    """
    border = shapely.segmentize(shapely.boundary(geometry), SEGMENTIZE_DEG)
    coords = [shapely.get_coordinates(ring) for ring in shapely.get_parts(border)]
    starts = np.concatenate([c[:-1] for c in coords])
    stops = np.concatenate([c[1:] for c in coords])
    accuracy = np.full(len(starts), admin_accuracy)
    coast = np.zeros(len(starts), dtype=bool)
    covered = np.zeros(len(starts), dtype=bool)
    midpoints = shapely.points((starts + stops) / 2)
    for piece_geometry, piece_accuracy, piece_coast in pieces:
        shapely.prepare(piece_geometry)  # a long stretch is queried once per segment
        on = shapely.dwithin(piece_geometry, midpoints, 1e-6)
        accuracy[on], coast[on], covered[on] = piece_accuracy, piece_coast, True
    sx, sy = to_local(centre, starts[:, 0], starts[:, 1])
    ex, ey = to_local(centre, stops[:, 0], stops[:, 1])
    return np.column_stack([sx, sy, ex, ey]), accuracy, coast, covered


def to_local_geometry(centre: tuple[float, float], geometry: Any) -> Any:
    """A WGS-84 geometry in the local plane around ``centre``, vertex by vertex.

    Parameters
    ----------
    centre : tuple of float
        The plane's centre as (lon, lat), WGS-84 degrees.
    geometry : shapely geometry
        WGS-84 lon/lat; cut long edges first where their bend matters.

    Returns
    -------
    shapely geometry
        The same geometry in metres east and north of ``centre``.
    """
    return shapely.transform(
        geometry, lambda xy: np.column_stack(to_local(centre, xy[:, 0], xy[:, 1]))
    )


def from_local_geometry(centre: tuple[float, float], geometry: Any) -> Any:
    """A geometry in the local plane around ``centre`` back in WGS-84, vertex by vertex.

    Parameters
    ----------
    centre : tuple of float
        The plane's centre as (lon, lat), WGS-84 degrees.
    geometry : shapely geometry
        Metres east and north of ``centre``; cut long edges first where their bend matters.

    Returns
    -------
    shapely geometry
        The same geometry in WGS-84 lon/lat.
    """
    return shapely.transform(
        geometry, lambda xy: np.column_stack(from_local(centre, xy[:, 0], xy[:, 1]))
    )


def projection_factor(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    ax: NDArray[np.float64],
    ay: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Where along each planar segment a to b the nearest point to p lies.

    Parameters
    ----------
    px, py, ax, ay, bx, by : ndarray of float64
        The points p and the segments' ends a and b, in one plane.

    Returns
    -------
    ndarray of float64
        From 0 (at a) to 1 (at b); 0 for a segment of no length.
    """
    dx, dy = bx - ax, by - ay
    squared = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((px - ax) * dx + (py - ay) * dy) / squared
    return np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)


def metres_to_segment(
    centre: tuple[float, float],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    space: str,
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    ends: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Geodesic metres from each point to the nearest point of its segment in the local plane.

    Parameters
    ----------
    centre : tuple of float
        The local plane's centre as (lon, lat), WGS-84 degrees.
    x, y : ndarray of float64
        The points in ``space``, x first.
    space : str
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``: the points are converted to WGS-84 first.
    px, py : ndarray of float64
        The same points in the local plane (metres).
    ends : ndarray of float64
        Each point's segment, one a row: x0, y0, x1, y1 in the local plane.

    Returns
    -------
    ndarray of float64
        Metres on the ellipsoid from each point to the point of its segment
        nearest to it in the plane.
    """
    ax, ay, bx, by = ends.T
    t = projection_factor(px, py, ax, ay, bx, by)
    nlon, nlat = from_local(centre, ax + t * (bx - ax), ay + t * (by - ay))
    return GEOD.inv(*in_wgs84(x, y, space), nlon, nlat)[2]


@dataclass
class LocalTable:
    """The local plane tabulated on a lattice over a box and interpolated bilinearly.

    Bilinear interpolation errs by at most ``h^2 / 8`` times the second
    derivative along each axis; the table measures those from its own second
    differences and keeps twice their sum (plus a millimetre) as ``error``.
    Points outside the box are projected exactly. Points in GCJ-02 or BD-09
    are tabulated in that system (its nodes converted to WGS-84 once), so
    projecting them converts nothing.

    Attributes
    ----------
    centre : tuple of float
        The plane's centre as (lon, lat), WGS-84 degrees.
    space : str
        The system of the lattice and of the points projected through it.
    error : float
        Metres the interpolated coordinates may be off, each of x and y.
    """

    centre: tuple[float, float]
    space: str
    x0: float
    y0: float
    inverse_step: float
    ncols: int
    nrows: int
    px: NDArray[np.float64]
    py: NDArray[np.float64]
    error: float

    @classmethod
    def build(
        cls, centre: tuple[float, float], box: tuple[float, float, float, float], space: str
    ) -> LocalTable:
        """The table of the plane around ``centre`` for points in ``space`` over a WGS-84 ``box``.

        Parameters
        ----------
        centre : tuple of float
            The plane's centre as (lon, lat), WGS-84 degrees.
        box : tuple of float
            West, south, east, north (WGS-84 degrees). In GCJ-02 or BD-09 the
            lattice covers it grown by :data:`SHIFT_DEG`, so that it holds
            the box's points as given in that system.
        space : str
            ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

        Returns
        -------
        LocalTable
            The lattice's local coordinates and their interpolation error.
        """
        grow = 0.0 if space == "wgs84" else SHIFT_DEG
        west, south, east, north = box[0] - grow, box[1] - grow, box[2] + grow, box[3] + grow
        area = (east - west) * (north - south)
        step = max(_LOCAL_STEP_DEG, math.sqrt(area / _LOCAL_NODES[space]))
        ncols = math.ceil((east - west) / step) + 1
        nrows = math.ceil((north - south) / step) + 1
        lon, lat = np.meshgrid(
            west + step * np.arange(ncols + 1), south + step * np.arange(nrows + 1)
        )
        px, py = to_local(centre, *in_wgs84(lon.ravel(), lat.ravel(), space))
        px, py = px.reshape(lon.shape), py.reshape(lon.shape)
        error = 0.001
        for node in (px, py):
            bend = np.abs(np.diff(node, 2, axis=1)).max() + np.abs(np.diff(node, 2, axis=0)).max()
            error += 2 * bend / 8
        lattice = (west, south, 1.0 / step, ncols + 1, nrows + 1)
        return cls(centre, space, *lattice, px.ravel(), py.ravel(), error)

    def project(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Local coordinates of points in the table's system, within ``error`` of the exact ones.

        Parameters
        ----------
        x, y : ndarray of float64
            Points in the table's ``space``, x first.

        Returns
        -------
        x, y : ndarray of float64
            Metres east and north of the centre in the local plane.
        """
        fx = (x - self.x0) * self.inverse_step
        fy = (y - self.y0) * self.inverse_step
        with np.errstate(invalid="ignore"):
            inside = (fx >= 0) & (fx < self.ncols - 1) & (fy >= 0) & (fy < self.nrows - 1)
        col = np.where(inside, fx, 0.0).astype(np.intp)
        row = np.where(inside, fy, 0.0).astype(np.intp)
        tx, ty = fx - col, fy - row
        node = row * self.ncols + col
        px: list[NDArray[np.float64]] = []
        py: list[NDArray[np.float64]] = []
        for table, out in ((self.px, px), (self.py, py)):
            south = table[node] + tx * (table[node + 1] - table[node])
            above = node + self.ncols
            north = table[above] + tx * (table[above + 1] - table[above])
            out.append(south + ty * (north - south))
        outside = np.flatnonzero(~inside)
        if outside.size:
            lon, lat = in_wgs84(x[outside], y[outside], self.space)
            px[0][outside], py[0][outside] = to_local(self.centre, lon, lat)
        return px[0], py[0]
