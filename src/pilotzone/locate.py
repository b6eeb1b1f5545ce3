"""Which zone each point lies in, and how far it is from a zone border.

How it stays exact and fast
---------------------------
A zone set is indexed once per coordinate system the points arrive in
(WGS-84, GCJ-02 or BD-09; other systems are converted to WGS-84 first) and
cached. The index is a grid over each zone, built in the input's system.
Each cell is outside, inside, *near* (within the distance horizon of some
border stretch, plus one cell: its points need a distance) or *border* (the
boundary comes within one cell: its points also need the exact zone test).
Cells the boundary does not cross are classified one row-run at a time: a run
of such cells is all inside or all outside, so one point test per run does.

Points in outside and inside cells are answered by lookup. Points in near
cells are converted to WGS-84 and measured; points in border cells are also
tested with ``shapely.intersects_xy`` against the zone's WGS-84 geometry.

Boundary semantics: a point on a border belongs to the zone (shapely's
``covers``, not ``contains``). Where zones overlap, the first zone in table
order wins.

Because every cell that a border, or its image in the input's system, comes
within a cell of is a border cell, the grid is never asked about a point whose
answer could differ from the exact test: the zone of every point equals
``shapely.covers`` on the WGS-84 zones after converting that point, whatever
system it came in. GCJ-02 input is indexed against the zones converted into
GCJ-02, so the millions of far-from-border points are never converted at all.

Border distances
----------------
``border_distance_m`` is the geodesic distance on the WGS-84 ellipsoid to the
nearest point of any zone's border: the nearest point is found on the border
segments in an azimuthal equidistant projection centred on the zone, then
measured with :meth:`pyproj.Geod.inv`. The segments are bucketed on a square
grid in that plane; each bucket keeps only the segments that can be nearest
for some point in it, so finding a point's nearest segment is a vectorised
minimum over a few candidates. It is computed for points within the
*distance horizon* of a border (by default the border's accuracy, the review
band) and is NaN farther away; pass ``distance_limit_m`` to widen it
(``numpy.inf`` for every point).

``near_border`` is True where the point is closer to some stretch of border
than that stretch's accuracy: the zone's ``accuracy_m`` for its administrative
lines, and each approximate stretch's own accuracy (the Lingang canal lines,
Xiaoyangshan) where the zone data marks one.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from pilotzone.crs import geometry_from_wgs84, is_lonlat, normalize_crs, to_wgs84

__all__ = ["COORDINATE_ISSUES", "locate"]

log = logging.getLogger(__name__)

#: Reasons a coordinate could not be placed, in the ``coordinate_issue`` column.
COORDINATE_ISSUES = ("missing", "not_finite", "out_of_range", "probably_swapped", "transform_failed")
_MISSING, _NOT_FINITE, _OUT_OF_RANGE, _SWAPPED, _TRANSFORM_FAILED = range(1, 6)
_CHINA = (73.4, 3.8, 135.1, 53.6)  # lon/lat box that holds China, Sansha's reefs included
_OUT, _IN, _NEAR_OUT, _NEAR_IN, _BORDER = (np.uint8(code) for code in range(5))  # grid cell codes
_MEASURE, _TEST = np.uint8(1), np.uint8(2)  # per point: measure the distance; test the zone exactly
_MAX_ZONES = 254
_CELLS_PER_ZONE = 1 << 21
_ALL_CELLS = 1 << 24
_MIN_CELL_DEG = 0.0002
_METRES_PER_DEGREE_AT_60 = 111_320.0 * 0.5  # an angle this wide spans that many metres anywhere below 60 N
_CHUNK = 1 << 16
_SEGMENTIZE_DEG = 0.005  # before converting zones into GCJ-02/BD-09: bends stay under 1 cm
_GEOD = pyproj.Geod(ellps="WGS84")
_INDEX_CACHE: OrderedDict[tuple[str, float], _ZoneIndex] = OrderedDict()
_INDEX_CACHE_SIZE = 8
_BUCKETS_PER_ZONE = 1 << 20
_PAIRS_AT_BUILD = 1 << 21  # (bucket, segment) pairs examined per zone while bucketing


def locate(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    crs: Any,
    zones: Any = None,
    distance_limit_m: float | None = None,
) -> pd.DataFrame:
    """Find the zone of every point and its distance to the nearest zone border.

    Parameters
    ----------
    lon, lat : array_like
        Longitude and latitude (x first), in ``crs``; eastings and northings
        for a projected system. Pandas Series keep their index in the result;
        Dask Series give a lazy result (:mod:`pilotzone.parallel`).
    crs : str, int or pyproj.CRS
        Coordinate system of the points: ``"wgs84"``, ``"gcj02"``, ``"bd09"``,
        ``"cgcs2000"`` or anything pyproj accepts. Required: nothing is assumed.
    zones : GeoDataFrame, optional
        Zones as returned by :func:`pilotzone.load_zones`; default the shipped
        zones in force today.
    distance_limit_m : float, optional
        Distance horizon for ``border_distance_m``. By default each border's
        own review band; ``numpy.inf`` measures every point (slower).

    Returns
    -------
    pandas.DataFrame
        One row per point, in input order: ``zone_id`` (categorical, missing
        where the point is in no zone), ``border_distance_m`` (geodesic metres
        to the nearest zone border, NaN beyond the horizon), ``near_border``
        (closer to a border than that stretch's accuracy) and
        ``coordinate_issue`` (categorical, missing for good points; one of
        :data:`COORDINATE_ISSUES`).

    Examples
    --------
    >>> import pilotzone as pz
    >>> pz.locate([116.3975, 121.4737], [39.9087, 31.2304], crs="wgs84")["zone_id"].tolist()
    ['beijing', nan]
    """
    if _is_dask(lon):
        from pilotzone import parallel

        return parallel.locate(lon, lat, crs=crs, zones=zones, distance_limit_m=distance_limit_m)
    index = lon.index if isinstance(lon, pd.Series) else None
    x = np.asarray(lon, dtype=np.float64).ravel()
    y = np.asarray(lat, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"lon and lat differ in length: {x.size} and {y.size}")
    space = normalize_crs(crs)
    issue = _coordinate_issues(x, y, lonlat=is_lonlat(space))
    if space == "cgcs2000":
        space = "wgs84"
    if space not in ("wgs84", "gcj02", "bd09"):
        good = issue == 0
        x, y = x.copy(), y.copy()
        x[good], y[good] = to_wgs84(x[good], y[good], space)
        issue[good & ~(np.isfinite(x) & np.isfinite(y))] = _TRANSFORM_FAILED
        space = "wgs84"
    if zones is None:
        from pilotzone.zones import load_zones

        zones = load_zones()
    zone_index = _index_for(zones, distance_limit_m)
    code, distance, near = zone_index.locate(x, y, space, issue == 0)
    zone_ids = pd.Categorical.from_codes(code.astype(np.int16) - 1, categories=zone_index.zone_ids)
    issues = pd.Categorical.from_codes(issue.astype(np.int8) - 1, categories=COORDINATE_ISSUES)
    return pd.DataFrame(
        {"zone_id": zone_ids, "border_distance_m": distance, "near_border": near, "coordinate_issue": issues},
        index=index,
    )


def _is_dask(data: Any) -> bool:
    """Whether ``data`` is a Dask collection, told without importing dask (an optional extra)."""
    return type(data).__module__.startswith(("dask.", "dask_geopandas"))


def _coordinate_issues(x: NDArray[np.float64], y: NDArray[np.float64], *, lonlat: bool) -> NDArray[np.int8]:
    issue = np.zeros(x.shape, dtype=np.int8)
    if lonlat:
        with np.errstate(invalid="ignore"):
            in_range = (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
            swapped = _in_china(y, x) & ~_in_china(x, y)
        issue[~in_range] = _OUT_OF_RANGE
        issue[swapped] = _SWAPPED
    issue[np.isinf(x) | np.isinf(y)] = _NOT_FINITE
    issue[np.isnan(x) | np.isnan(y)] = _MISSING
    return issue


def _in_china(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
    return (x >= _CHINA[0]) & (x <= _CHINA[2]) & (y >= _CHINA[1]) & (y <= _CHINA[3])


def _index_for(zones: Any, distance_limit_m: float | None) -> _ZoneIndex:
    """The cached index of a zone set for a distance horizon."""
    limit = 0.0 if distance_limit_m is None else float(distance_limit_m)
    if not limit >= 0:
        raise ValueError(f"distance_limit_m must be a non-negative number, got {distance_limit_m!r}")
    key = (_fingerprint(zones), limit)
    cached = _INDEX_CACHE.get(key)
    if cached is not None:
        _INDEX_CACHE.move_to_end(key)
        return cached
    built = _ZoneIndex.build(zones, limit)
    _INDEX_CACHE[key] = built
    if len(_INDEX_CACHE) > _INDEX_CACHE_SIZE:
        _INDEX_CACHE.popitem(last=False)
    return built


def _fingerprint(zones: Any) -> str:
    digest = hashlib.sha1()
    for row in zones.itertuples(index=False):
        digest.update(f"{row.zone_id}|{float(row.accuracy_m)!r}|".encode())
        digest.update(shapely.to_wkb(row.geometry))
        for piece in row.approximate_borders:
            digest.update(f"{piece.accuracy_m!r}".encode())
            digest.update(shapely.to_wkb(piece.geometry))
    return digest.hexdigest()


@dataclass
class _Zone:
    """One zone's exact geometry and its border segments in a local metric projection.

    The projection is the azimuthal equidistant one centred on the zone,
    computed with geodesics (as PROJ does): a point's local coordinates are
    its geodesic distance and azimuth from the centre. Segments are bucketed
    on a square grid in that plane so that a point's candidate segments are
    one slice of an array (see :class:`_Buckets`). Only an unbounded horizon
    needs more: points beyond the buckets' reach ask a tree of all segments.
    """

    zone_id: str
    geometry: Any
    horizon_m: float
    band_m: float
    bounds: tuple[float, float, float, float]
    centre: tuple[float, float]
    distortion: float
    ends: NDArray[np.float64]
    accuracy: NDArray[np.float64]
    buckets: _Buckets
    tree: shapely.STRtree | None
    stretches: list[tuple[Any, float]]

    @classmethod
    def build(cls, row: Any, limit_m: float) -> _Zone:
        geometry = row.geometry
        shapely.prepare(geometry)
        admin_accuracy = float(row.accuracy_m)
        pieces = [(piece.geometry, float(piece.accuracy_m)) for piece in row.approximate_borders]
        centroid = geometry.centroid
        centre = (centroid.x, centroid.y)
        # Short pieces in lon/lat, so that a straight piece in the local projection stays within
        # millimetres of the lon/lat edge that covers() decides membership with.
        border = shapely.segmentize(shapely.boundary(geometry), _SEGMENTIZE_DEG)
        coords = [shapely.get_coordinates(ring) for ring in shapely.get_parts(border)]
        starts = np.concatenate([c[:-1] for c in coords])
        stops = np.concatenate([c[1:] for c in coords])
        accuracy = np.full(len(starts), admin_accuracy)
        midpoints = shapely.points((starts + stops) / 2)
        for piece_geometry, piece_accuracy in pieces:
            accuracy[shapely.dwithin(midpoints, piece_geometry, 1e-6)] = piece_accuracy
        sx, sy = _to_local(centre, starts[:, 0], starts[:, 1])
        ex, ey = _to_local(centre, stops[:, 0], stops[:, 1])
        ends = np.column_stack([sx, sy, ex, ey])
        horizon = max(limit_m, admin_accuracy)
        band = float(accuracy.max())
        span = band if math.isinf(horizon) else max(horizon, band)  # farthest a measured point needs its segment
        # Local lengths are true lengths within a factor ``distortion`` either way, out to ``span`` beyond the
        # border: the transverse scale of the projection, 1 + (rho/R)^2/6 on a sphere, doubled for margin.
        rho = float(np.hypot(ends[:, 0::2], ends[:, 1::2]).max()) + 2 * span
        distortion = 1.0 + (rho / 6_356_752.0) ** 2 / 3.0
        reach = span * distortion * 1.01 + 10.0
        _, classes = np.unique(accuracy, return_inverse=True)
        return cls(
            zone_id=str(row.zone_id),
            geometry=geometry,
            horizon_m=horizon,
            band_m=band,
            bounds=tuple(geometry.bounds),
            centre=centre,
            distortion=distortion,
            ends=ends,
            accuracy=accuracy,
            buckets=_Buckets.build(ends, classes.ravel(), reach),
            tree=shapely.STRtree(shapely.linestrings(ends.reshape(-1, 2, 2))) if math.isinf(horizon) else None,
            stretches=[(shapely.boundary(geometry), horizon)] + pieces,
        )

    def measure(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Geodesic distance to this zone's border (NaN beyond the horizon) and the band flag.

        The nearest segment gives the distance and settles the band flag for
        its own stretch. Another stretch's band can hold the point only if
        that stretch is barely farther than the nearest segment (within the
        projection's distortion), so only those points are measured again,
        against that stretch's nearest segment.
        """
        px, py = _to_local(self.centre, lon, lat)
        nearest, by_class = self.buckets.nearest(px, py)
        if self.tree is not None:  # unbounded horizon: beyond the buckets' reach, ask the tree
            far = np.flatnonzero(nearest < 0)
            point_idx, segment = self.tree.query_nearest(shapely.points(px[far], py[far]), all_matches=False)
            nearest[far[point_idx]] = segment
        found = nearest >= 0
        distance = np.full(lon.shape, np.nan)
        distance[found] = self._metres(lon[found], lat[found], px[found], py[found], nearest[found])
        own = np.zeros(lon.shape)
        own[found] = self.accuracy[nearest[found]]
        near = distance < own
        if by_class is not None:
            for segment in by_class:
                accuracy = np.zeros(lon.shape)
                accuracy[segment >= 0] = self.accuracy[segment[segment >= 0]]
                ask = np.flatnonzero(
                    ~near & (segment >= 0) & (segment != nearest) & ~(distance >= accuracy * self.distortion**2)
                )
                if ask.size:
                    metres = self._metres(lon[ask], lat[ask], px[ask], py[ask], segment[ask])
                    near[ask] = metres < accuracy[ask]
        with np.errstate(invalid="ignore"):
            distance[~near & ~(distance <= self.horizon_m)] = np.nan  # inside a wider stretch's band: kept
        return distance, near

    def _metres(
        self,
        lon: NDArray[np.float64],
        lat: NDArray[np.float64],
        px: NDArray[np.float64],
        py: NDArray[np.float64],
        segment: NDArray[np.intp],
    ) -> NDArray[np.float64]:
        """Geodesic metres from each point to the nearest point of its local ``segment``."""
        ax, ay, bx, by = self.ends[segment].T
        t = _projection_factor(px, py, ax, ay, bx, by)
        nlon, nlat = _from_local(self.centre, ax + t * (bx - ax), ay + t * (by - ay))
        return _GEOD.inv(lon, lat, nlon, nlat)[2]


def _projection_factor(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    ax: NDArray[np.float64],
    ay: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Where along each segment a to b the nearest point to p lies, from 0 (at a) to 1 (at b)."""
    dx, dy = bx - ax, by - ay
    squared = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((px - ax) * dx + (py - ay) * dy) / squared
    return np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)


@dataclass
class _Buckets:
    """Border segments bucketed on a square grid, each bucket holding every segment that can be nearest.

    For a bucket with centre c and half-diagonal h, a segment is kept if it
    lies within ``reach + h`` of c and within ``d + 2h`` of c, where d is the
    distance from c to the nearest segment of the same accuracy class: no
    point of the bucket can have a farther segment of that class as its
    nearest. So a point's nearest segment of each class, whenever it is
    within ``reach``, is the nearest among its bucket's few candidates.
    """

    x0: float
    y0: float
    size: float
    ncols: int
    nrows: int
    offsets: NDArray[np.int64]
    members: NDArray[np.int32]
    classes: NDArray[np.intp]
    nclasses: int
    ends: NDArray[np.float64]
    reach: float

    @classmethod
    def build(cls, ends: NDArray[np.float64], classes: NDArray[np.intp], reach: float) -> _Buckets:
        west, south = ends[:, 0::2].min() - reach, ends[:, 1::2].min() - reach
        east, north = ends[:, 0::2].max() + reach, ends[:, 1::2].max() + reach
        size = math.sqrt((east - west) * (north - south) / _BUCKETS_PER_ZONE)
        spans = np.abs(ends[:, 2:] - ends[:, :2]) + 2 * reach
        while ((spans[:, 0] / size + 3) * (spans[:, 1] / size + 3)).sum() > _PAIRS_AT_BUILD:
            size *= 1.25
        half = size * math.sqrt(0.5)
        ncols, nrows = int((east - west) / size) + 1, int((north - south) / size) + 1
        # every (bucket, segment) pair whose bucket centre is within reach + half of the segment's box
        grow = reach + half
        c0 = np.clip(np.floor((np.minimum(ends[:, 0], ends[:, 2]) - grow - west) / size - 0.5), 0, ncols - 1)
        c1 = np.clip(np.ceil((np.maximum(ends[:, 0], ends[:, 2]) + grow - west) / size - 0.5), 0, ncols - 1)
        r0 = np.clip(np.floor((np.minimum(ends[:, 1], ends[:, 3]) - grow - south) / size - 0.5), 0, nrows - 1)
        r1 = np.clip(np.ceil((np.maximum(ends[:, 1], ends[:, 3]) + grow - south) / size - 0.5), 0, nrows - 1)
        width, height = (c1 - c0 + 1).astype(np.int64), (r1 - r0 + 1).astype(np.int64)
        segment = np.repeat(np.arange(len(ends)), width * height)
        step = np.arange(segment.size) - np.repeat(np.cumsum(width * height) - width * height, width * height)
        col = c0.astype(np.int64)[segment] + step % width[segment]
        row = r0.astype(np.int64)[segment] + step // width[segment]
        cx, cy = west + (col + 0.5) * size, south + (row + 0.5) * size
        ax, ay, bx, by = ends[segment].T
        t = _projection_factor(cx, cy, ax, ay, bx, by)
        d = np.hypot(ax + t * (bx - ax) - cx, ay + t * (by - ay) - cy)
        keep = d <= grow
        segment, bucket, d = segment[keep], (row * ncols + col)[keep], d[keep]
        nclasses = int(classes.max()) + 1
        key = bucket * nclasses + classes[segment]
        closest = np.full(ncols * nrows * nclasses, np.inf)
        np.minimum.at(closest, key, d)
        keep = d <= closest[key] + 2 * half
        order = np.argsort(bucket[keep], kind="stable")
        segment, bucket = segment[keep][order], bucket[keep][order]
        offsets = np.zeros(ncols * nrows + 1, dtype=np.int64)
        np.cumsum(np.bincount(bucket, minlength=ncols * nrows), out=offsets[1:])
        return cls(west, south, size, ncols, nrows, offsets, segment.astype(np.int32), classes, nclasses, ends, reach)

    def nearest(
        self, px: NDArray[np.float64], py: NDArray[np.float64]
    ) -> tuple[NDArray[np.intp], list[NDArray[np.intp]] | None]:
        """Each point's nearest segment within ``reach`` (-1 if none), and per class when there are several."""
        col = np.clip(((px - self.x0) / self.size).astype(np.int64), 0, self.ncols - 1)
        row = np.clip(((py - self.y0) / self.size).astype(np.int64), 0, self.nrows - 1)
        inside = (px >= self.x0) & (px < self.x0 + self.ncols * self.size)
        inside &= (py >= self.y0) & (py < self.y0 + self.nrows * self.size)
        bucket = row * self.ncols + col
        start, count = self.offsets[bucket], self.offsets[bucket + 1] - self.offsets[bucket]
        count[~inside] = 0
        point = np.repeat(np.arange(px.size), count)
        first = np.cumsum(count) - count
        segment = self.members[np.arange(point.size) - np.repeat(first - start, count)].astype(np.intp)
        ax, ay, bx, by = self.ends[segment].T
        qx, qy = px[point], py[point]
        t = _projection_factor(qx, qy, ax, ay, bx, by)
        d = np.hypot(ax + t * (bx - ax) - qx, ay + t * (by - ay) - qy)
        d[d > self.reach] = np.inf
        overall = _argmin_per_point(d, point, first, count, segment)
        if self.nclasses == 1:
            return overall, None
        of_class = self.classes[segment]
        by_class = [_argmin_per_point(np.where(of_class == c, d, np.inf), point, first, count, segment)
                    for c in range(self.nclasses)]
        return overall, by_class


def _argmin_per_point(
    d: NDArray[np.float64],
    point: NDArray[np.intp],
    first: NDArray[np.int64],
    count: NDArray[np.int64],
    segment: NDArray[np.intp],
) -> NDArray[np.intp]:
    """For pairs grouped by point (``count`` of them from ``first``): the segment of each point's
    smallest finite ``d``, else -1."""
    best = np.full(count.size, -1, dtype=np.intp)
    lowest = np.full(count.size, np.inf)
    some = count > 0
    if not some.any():
        return best
    lowest[some] = np.minimum.reduceat(d, first[some])
    hit = np.flatnonzero(np.isfinite(d) & (d == lowest[point]))
    best[point[hit[::-1]]] = segment[hit[::-1]]  # the first of equal ones wins
    return best


def _to_local(
    centre: tuple[float, float], lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Azimuthal equidistant coordinates (metres) around ``centre``, from geodesic distance and azimuth."""
    azimuth, _, metres = _GEOD.inv(np.full(lon.shape, centre[0]), np.full(lon.shape, centre[1]), lon, lat)
    azimuth = np.radians(azimuth)
    return metres * np.sin(azimuth), metres * np.cos(azimuth)


def _from_local(
    centre: tuple[float, float], x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon, lat, _ = _GEOD.fwd(
        np.full(x.shape, centre[0]), np.full(x.shape, centre[1]), np.degrees(np.arctan2(x, y)), np.hypot(x, y)
    )
    return lon, lat


@dataclass
class _Grid:
    """One zone's cells in one coordinate system, coded ``_OUT`` ... ``_BORDER``.

    The grid covers the zone's bounding box grown by its widest horizon, with
    cells sized to that box. A cell is near (its points need measuring) when a
    border stretch, grown by that stretch's horizon plus one cell, reaches it;
    it is a border cell (its points also need the exact zone test) when the
    zone's boundary comes within a cell of it. Every other cell lies wholly on
    one side of the boundary and is classified by its centre.
    """

    x0: float
    y0: float
    x1: float
    y1: float
    inverse_cell: float
    ncols: int
    codes: NDArray[np.uint8]

    @classmethod
    def build(cls, zone: _Zone, space: str, cells: int) -> _Grid:
        shape = _in_space(zone.geometry, space)
        stretches = [(_in_space(line, space), radius) for line, radius in zone.stretches]
        west, south, east, north = shape.bounds
        lon_metres = 111_320.0 * math.cos(math.radians(min(max(abs(south), abs(north)) + 1.0, 89.0)))
        lat_metres = 110_574.0
        reach = max(radius for _, radius in stretches)
        cell = max(_MIN_CELL_DEG, math.sqrt((east - west + 0.02) * (north - south + 0.02) / cells))
        x0 = west - reach / lon_metres - 3 * cell
        y0 = south - reach / lat_metres - 3 * cell
        ncols = int(math.ceil((east + reach / lon_metres + 3 * cell - x0) / cell))
        nrows = int(math.ceil((north + reach / lat_metres + 3 * cell - y0) / cell))
        near = np.zeros((nrows, ncols), dtype=bool)
        for k, (line, radius) in enumerate(stretches):
            touched = _touched(line, x0, y0, cell, near.shape)
            if k == 0:  # the whole boundary: every cell it passes through is within one cell of a touched one
                border = _dilate(touched, 1, 1)
            rows = int(math.ceil(radius / lat_metres / cell)) + 1
            cols = int(math.ceil(radius / lon_metres / cell)) + 1
            near |= _dilate(touched, rows, cols)
        inside = _inside_by_runs(shape, ~border, x0, y0, cell)
        codes = np.where(border, _BORDER, np.where(near, _NEAR_OUT, _OUT) + inside.astype(np.uint8))
        log.debug("grid %s %s: %d x %d cells of %.5f deg", zone.zone_id, space, ncols, nrows, cell)
        return cls(x0, y0, x0 + ncols * cell, y0 + nrows * cell, 1.0 / cell, ncols, codes.ravel())

    def lookup(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.intp], NDArray[np.uint8]]:
        """Positions of the points inside the grid, and their cell codes."""
        with np.errstate(invalid="ignore"):
            where = np.flatnonzero((x >= self.x0) & (x < self.x1) & (y >= self.y0) & (y < self.y1))
        col = x[where] - self.x0
        col *= self.inverse_cell
        row = y[where] - self.y0
        row *= self.inverse_cell
        flat = row.astype(np.intp)
        flat *= self.ncols
        flat += col.astype(np.intp)
        np.minimum(flat, self.codes.size - 1, out=flat)
        return where, self.codes[flat]


def _in_space(geometry: Any, space: str) -> Any:
    if space == "wgs84":
        return geometry
    return geometry_from_wgs84(shapely.segmentize(geometry, _SEGMENTIZE_DEG), space)


def _touched(line: Any, x0: float, y0: float, cell: float, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Cells within one cell of ``line``: its points every half cell, then their cells."""
    xy = shapely.get_coordinates(shapely.segmentize(line, cell / 2))
    cols = np.clip(((xy[:, 0] - x0) / cell).astype(np.intp), 0, shape[1] - 1)
    rows = np.clip(((xy[:, 1] - y0) / cell).astype(np.intp), 0, shape[0] - 1)
    mask = np.zeros(shape, dtype=bool)
    mask[rows, cols] = True
    return mask


def _inside_by_runs(
    shape: Any, clear: NDArray[np.bool_], x0: float, y0: float, cell: float
) -> NDArray[np.bool_]:
    """Whether each ``clear`` cell (one the border does not pass through) lies inside ``shape``.

    Along a row, a run of clear cells is all inside or all outside: the border
    would have to pass through one of them to separate two. So one point test
    per run, at its first cell's centre, classifies the whole run.
    """
    nrows, ncols = clear.shape
    starts = clear.copy()
    starts[:, 1:] &= ~clear[:, :-1]
    rows, cols = np.nonzero(starts)
    run_inside = shapely.contains_xy(shape, x0 + (cols + 0.5) * cell, y0 + (rows + 0.5) * cell)
    run = np.cumsum(starts.ravel()) - 1
    return (clear.ravel() & run_inside[np.maximum(run, 0)]).reshape(nrows, ncols)


def _dilate(mask: NDArray[np.bool_], rows: int, cols: int) -> NDArray[np.bool_]:
    """Grow ``mask`` by ``rows`` cells up and down and ``cols`` cells sideways."""
    grown = mask
    for axis, radius in ((0, rows), (1, cols)):
        width = [(0, 0), (0, 0)]
        width[axis] = (radius, radius)
        grown = _any_in_window(np.pad(grown, width), 2 * radius + 1, axis)
    return grown


def _any_in_window(mask: NDArray[np.bool_], window: int, axis: int) -> NDArray[np.bool_]:
    """``out[i] = mask[i : i + window].any()`` along ``axis``, by doubling the window (log2 passes)."""

    def shifted(a: NDArray[np.bool_], by: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        head = [slice(None)] * a.ndim
        tail = [slice(None)] * a.ndim
        head[axis], tail[axis] = slice(0, a.shape[axis] - by), slice(by, None)
        return a[tuple(head)], a[tuple(tail)]

    span = 1
    while 2 * span <= window:
        first, second = shifted(mask, span)
        mask = first | second
        span *= 2
    if span < window:
        first, second = shifted(mask, window - span)
        mask = first | second
    return mask


@dataclass
class _ZoneIndex:
    zone_ids: list[str]
    zones: list[_Zone]
    measure_everything: bool
    grids: dict[str, list[_Grid]] = field(default_factory=dict)

    @classmethod
    def build(cls, zones: Any, limit_m: float) -> _ZoneIndex:
        if len(zones) > _MAX_ZONES:
            raise ValueError(f"at most {_MAX_ZONES} zones can be located at once, got {len(zones)}")
        built = [_Zone.build(row, limit_m) for row in zones.itertuples(index=False)]
        return cls([z.zone_id for z in built], built, measure_everything=math.isinf(limit_m))

    def grids_for(self, space: str) -> list[_Grid]:
        if space not in self.grids:
            cells = min(_CELLS_PER_ZONE, _ALL_CELLS // max(len(self.zones), 1))
            self.grids[space] = [_Grid.build(zone, space, cells) for zone in self.zones]
        return self.grids[space]

    def locate(
        self, x: NDArray[np.float64], y: NDArray[np.float64], space: str, valid: NDArray[np.bool_]
    ) -> tuple[NDArray[np.uint8], NDArray[np.float64], NDArray[np.bool_]]:
        code = np.zeros(x.shape, dtype=np.uint8)
        if self.measure_everything:
            todo = np.where(valid, _MEASURE | _TEST, 0).astype(np.uint8)
        else:
            todo = np.zeros(x.shape, dtype=np.uint8)
            grids = self.grids_for(space)
            for start in range(0, x.size, _CHUNK):
                part, part_todo = code[start : start + _CHUNK], todo[start : start + _CHUNK]
                for k, grid in enumerate(grids):
                    where, found = grid.lookup(x[start : start + _CHUNK], y[start : start + _CHUNK])
                    here, here_todo = part[where], part_todo[where]
                    inside = (found == _IN) | (found == _NEAR_IN)
                    here[inside & (here == 0)] = k + 1
                    here_todo[found >= _NEAR_OUT] |= _MEASURE
                    here_todo[(found == _BORDER) | (inside & (here != k + 1))] |= _MEASURE | _TEST
                    part[where], part_todo[where] = here, here_todo
            todo[~valid] = 0
            code[~valid] = 0
        distance = np.full(x.shape, np.nan)
        near = np.zeros(x.shape, dtype=bool)
        exact = np.flatnonzero(todo)
        if exact.size:
            lon, lat = (x[exact], y[exact]) if space == "wgs84" else to_wgs84(x[exact], y[exact], space)
            code[exact], distance[exact], near[exact] = self._exact(lon, lat, code[exact], (todo[exact] & _TEST) > 0)
        return code, distance, near

    def _exact(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], code: NDArray[np.uint8], test: NDArray[np.bool_]
    ) -> tuple[NDArray[np.uint8], NDArray[np.float64], NDArray[np.bool_]]:
        code[test] = 0
        distance = np.full(lon.shape, np.inf)
        near = np.zeros(lon.shape, dtype=bool)
        for k, zone in enumerate(self.zones):
            reach = max(zone.horizon_m, zone.band_m) / _METRES_PER_DEGREE_AT_60 * 1.01
            west, south, east, north = zone.bounds
            candidates = np.flatnonzero(
                (lon >= west - reach) & (lon <= east + reach) & (lat >= south - reach) & (lat <= north + reach)
            )
            if not candidates.size:
                continue
            unassigned = candidates[test[candidates] & (code[candidates] == 0)]
            hit = shapely.intersects_xy(zone.geometry, lon[unassigned], lat[unassigned])
            code[unassigned[hit]] = k + 1
            zone_distance, zone_near = zone.measure(lon[candidates], lat[candidates])
            distance[candidates] = np.fmin(distance[candidates], zone_distance)
            near[candidates] |= zone_near
        distance[np.isinf(distance)] = np.nan
        return code, distance, near
