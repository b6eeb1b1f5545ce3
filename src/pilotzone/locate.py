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

Above those grids sits one coarse *overview* grid over all zones, classified
the same way: a point in an overview cell clear of every border is answered
there (no zone, or the one zone that holds the cell), in one lookup; only the
points in overview cells near some border consult the zones' own grids.

Points in outside and inside cells are answered by lookup. Points in near
cells are measured; points in border cells are also tested with
``shapely.intersects_xy`` against the zone's WGS-84 geometry (after
converting just those points to WGS-84).

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
``border_distance_m`` is the distance on the WGS-84 ellipsoid to the nearest
point of any zone's border, within 0.5 m of the geodesic one. The border
segments live in the zone's local plane (:mod:`pilotzone._geodesy`: an
azimuthal equidistant projection centred on the zone), bucketed on a square
grid in that plane; each bucket keeps only the segments that can be nearest for
some point in it, so finding a point's nearest segment is a vectorised
minimum over a few candidates. Points reach that plane through a table of the
projection over the zone (in the points' own system), whose error e is bounded;
the planar distance d then lies within ``[(d - e) / k, (d + e) * k]`` of the
true one, k the projection's distortion. Where d is surely within 0.5 m and
those bounds do not straddle a stretch's accuracy or the horizon, d is
given; elsewhere the point is converted to WGS-84 and measured with
:meth:`pyproj.Geod.inv` to the nearest point of that segment. So
``near_border`` and the horizon decide exactly as a geodesic would.

Distances are computed for points within the *distance horizon* of a border
(by default the border's accuracy, the review band) and are NaN farther
away; pass ``distance_limit_m`` to widen it (``numpy.inf`` for every point).

``near_border`` is True where the point is closer to some stretch of border
than that stretch's accuracy: each stretch the zone data marks (``border`` and
``approximate_border`` features) has its own, and the lines no stretch holds
the zone's ``accuracy_m``. A stretch is a land border or a coast: near a land
border a point on either side is near; near a coast only a point outside the
zone is (inside lies the zone's land; beyond, the sea, where a facility is
one the coastline misses). So the distance of a point inside the zone near a
coast is NaN unless ``distance_limit_m`` reaches it.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from pilotzone import _geodesy as geodesy
from pilotzone._codes import COORDINATE_ISSUES
from pilotzone._grids import ASK, BORDER, IN, NEAR_IN, NEAR_OUT, Grid, Overview, Stretch
from pilotzone.crs import is_lonlat, normalize_crs, to_wgs84

__all__ = ["COORDINATE_ISSUES", "component_ids", "locate"]

log = logging.getLogger(__name__)

_MISSING, _NOT_FINITE, _OUT_OF_RANGE, _SWAPPED, _TRANSFORM_FAILED = range(1, 6)
_CHINA = (73.4, 3.8, 135.1, 53.6)  # lon/lat box that holds China, Sansha's reefs included
_MEASURE, _TEST = np.uint8(1), np.uint8(2)  # per point: measure the distance; test the zone exactly
_MAX_ZONES = 254  # overview codes: 0, a zone, or ASK
_CELLS_PER_ZONE = 1 << 22
_ALL_CELLS = 1 << 24
_OVERVIEW_CELLS = 1 << 22
_CHUNK = 1 << 16
_INDEX_CACHE: OrderedDict[tuple[str, float], _ZoneIndex] = OrderedDict()
_INDEX_CACHE_SIZE = 8
_COMPONENT_GRIDS: OrderedDict[tuple[int, str], tuple[Any, Grid]] = OrderedDict()
_CELLS_PER_COMPONENT = 1 << 18
_FINGERPRINTS: OrderedDict[tuple[Any, ...], tuple[str, list[Any]]] = OrderedDict()
_BUCKETS_PER_ZONE = 1 << 20
_PLANAR_TOLERANCE_M = 0.5  # a planar distance is given when it is surely this close to the true one
_Nearest = tuple[
    NDArray[np.intp], NDArray[np.float64]
]  # segment per point (-1: none), distance (inf: none)
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
        for a projected system. Pandas Series keep their index in the result.
        In memory only: :func:`pilotzone.locate` also takes Dask Series.
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
        where the point is in no zone), ``component`` (categorical: the named
        zone component the point lies in, whatever its reading, e.g.
        ``shanghai/lingang-outside-pudong``; a point in a zone and in none of
        its outlined components is in its first component, the rest of the
        zone; missing where the point is in no zone and no component, or
        the zones name none), ``border_distance_m`` (metres to the
        nearest zone border, within 0.5 m of the geodesic distance; NaN beyond
        the horizon), ``near_border``
        (closer to a border than that stretch's accuracy) and
        ``coordinate_issue`` (categorical, missing for good points; one of
        :data:`COORDINATE_ISSUES`).

    Examples
    --------
    >>> import pilotzone as pz
    >>> pz.locate([116.3975, 121.4737], [39.9087, 31.2304], crs="wgs84")["zone_id"].tolist()
    ['beijing', nan]
    """
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
    code, distance, near = zone_index.locate(x, y, space, issue == 0 if issue.any() else None)
    zone_ids = pd.Categorical.from_codes(
        np.subtract(code, 1, dtype=np.int16),
        dtype=pd.CategoricalDtype(zone_index.zone_ids),
        validate=False,
    )
    issues = pd.Categorical.from_codes(
        issue - 1, dtype=pd.CategoricalDtype(list(COORDINATE_ISSUES)), validate=False
    )
    component = _components_of(zones, x, y, space, code, issue == 0)
    columns = {
        "zone_id": zone_ids,
        "component": pd.Categorical.from_codes(
            component, dtype=pd.CategoricalDtype(component_ids(zones)), validate=False
        ),
        "border_distance_m": distance,
        "near_border": near,
        "coordinate_issue": issues,
    }
    return pd.DataFrame(
        columns, index=index, copy=False
    )  # every column is freshly made: no need to copy


def component_ids(zones: Any) -> list[str]:
    """The ids of every named component of ``zones`` (a :func:`pilotzone.load_zones` table)."""
    if "components" not in zones.columns:
        return []
    return [c.component_id for parts in zones["components"] for c in parts]


def _components_of(
    zones: Any,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    space: str,
    code: NDArray[np.uint8],
    valid: NDArray[np.bool_],
) -> NDArray[np.int16]:
    """Each point's component, as an index into :func:`component_ids` (-1: none).

    A point in zone k is in the first of k's outlined components (read in the
    zone) that covers it, else in k's first component; a point in no zone is
    in the first excluded outline that covers it. Only points inside a
    component's box are converted to WGS-84 and tested.
    """
    result = np.full(x.shape, -1, dtype=np.int16)
    if "components" not in zones.columns:
        return result
    shift = geodesy.SHIFT_DEG if space != "wgs84" else 0.0
    outside: NDArray[np.intp] | None = None  # valid points in no zone, found once if needed
    number = 0
    for k, parts in enumerate(zones["components"], start=1):
        rows = np.flatnonzero(code == k) if parts else np.empty(0, dtype=np.intp)
        result[rows] = number
        for offset, part in enumerate(parts):
            if part.geometry is None:
                continue
            if part.reading == "exclude":
                if outside is None:
                    outside = np.flatnonzero(valid & (code == 0))
                pool = outside[result[outside] < 0]
            else:
                pool = rows[result[rows] == number]  # the first outline that covers a point wins
            pool = pool[_in_box(x[pool], y[pool], part.geometry.bounds, shift)]
            if not pool.size:
                continue
            where, found = _component_grid(part.geometry, space).lookup(x[pool], y[pool])
            result[pool[where[(found == IN) | (found == NEAR_IN)]]] = number + offset
            ask = pool[where[found == BORDER]]  # the outline passes within a cell: test exactly
            lon, lat = geodesy.in_wgs84(x[ask], y[ask], space)
            shapely.prepare(part.geometry)
            result[ask[shapely.intersects_xy(part.geometry, lon, lat)]] = number + offset
        number += len(parts)
    return result


def _component_grid(geometry: Any, space: str) -> Grid:
    """The grid of a component's outline in ``space``, cached: most points need no geometry."""
    key = (id(geometry), space)
    cached = _COMPONENT_GRIDS.get(key)
    if cached is not None and cached[0] is geometry:
        _COMPONENT_GRIDS.move_to_end(key)
        return cached[1]
    shape = geodesy.geometry_in(geometry, space)
    grid = Grid.build(shape, [(shapely.boundary(shape), 0.0, False)], _CELLS_PER_COMPONENT)
    _COMPONENT_GRIDS[key] = (geometry, grid)  # the geometry kept alive: its id stays its own
    if len(_COMPONENT_GRIDS) > 4 * _INDEX_CACHE_SIZE:
        _COMPONENT_GRIDS.popitem(last=False)
    return grid


def _coordinate_issues(
    x: NDArray[np.float64], y: NDArray[np.float64], *, lonlat: bool
) -> NDArray[np.int8]:
    issue = np.zeros(x.shape, dtype=np.int8)
    west, south, east, north = _CHINA
    if (
        lonlat
        and x.size
        and x.min() >= west
        and x.max() <= east
        and y.min() >= south
        and y.max() <= north
    ):
        return issue  # all in China as given (NaN fails every comparison): nothing to flag
    if lonlat:
        with np.errstate(invalid="ignore"):
            in_range = (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
            swapped = _in_box(y, x, _CHINA, 0.0) & ~_in_box(x, y, _CHINA, 0.0)
        issue[~in_range] = _OUT_OF_RANGE
        issue[swapped] = _SWAPPED
    issue[np.isinf(x) | np.isinf(y)] = _NOT_FINITE
    issue[np.isnan(x) | np.isnan(y)] = _MISSING
    return issue


def _in_box(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    box: tuple[float, float, float, float],
    grow: float,
) -> NDArray[np.bool_]:
    return (x >= box[0] - grow) & (x <= box[2] + grow) & (y >= box[1] - grow) & (y <= box[3] + grow)


def _index_for(zones: Any, distance_limit_m: float | None) -> _ZoneIndex:
    """The cached index of a zone set for a distance horizon."""
    limit = 0.0 if distance_limit_m is None else float(distance_limit_m)
    if not limit >= 0:
        raise ValueError(
            f"distance_limit_m must be a non-negative number, got {distance_limit_m!r}"
        )
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
    """A digest of the zones' ids, accuracies and geometries (WKB), remembered per geometry object.

    Shapely geometries are immutable, so the same objects always give the same
    digest; the memo keeps them alive, so their ids cannot be reused by others.
    """
    rows = [
        (
            str(row.zone_id),
            float(row.accuracy_m),
            row.geometry,
            tuple(
                (f"{accuracy!r}|{coast}", geometry)
                for geometry, accuracy, coast in map(geodesy.stretch, row.approximate_borders)
            ),
        )
        for row in zones.itertuples(index=False)
    ]
    identity = tuple(
        (zone_id, accuracy, id(geometry), tuple((a, id(g)) for a, g in pieces))
        for zone_id, accuracy, geometry, pieces in rows
    )
    memo = _FINGERPRINTS.get(identity)
    if memo is not None:
        return memo[0]
    digest = hashlib.sha1()
    for zone_id, accuracy, geometry, pieces in rows:
        digest.update(f"{zone_id}|{accuracy!r}|".encode())
        digest.update(shapely.to_wkb(geometry))
        for piece_accuracy, piece_geometry in pieces:
            digest.update(piece_accuracy.encode())
            digest.update(shapely.to_wkb(piece_geometry))
    _FINGERPRINTS[identity] = (digest.hexdigest(), rows)
    if len(_FINGERPRINTS) > _INDEX_CACHE_SIZE:
        _FINGERPRINTS.popitem(last=False)
    return digest.hexdigest()


@dataclass
class _Zone:
    """One zone's exact geometry and its border segments in its local plane (see ``_geodesy``).

    Segments are bucketed on a square grid in that plane so that a point's
    candidate segments are one slice of an array (see :class:`_Buckets`), each
    accuracy class as far as its own reach. Where a point's nearest segment found lies beyond some
    class's reach, a nearer segment of that class may have gone unseen: those
    few points (and, for an unbounded horizon, points beyond every reach) ask
    a tree of all segments.
    """

    zone_id: str
    geometry: Any
    horizon_m: float
    band_m: float
    bounds: tuple[float, float, float, float]
    centre: tuple[float, float]
    distortion: float
    box: tuple[float, float, float, float]
    ends: NDArray[np.float64]
    accuracy: NDArray[np.float64]
    buckets: _Buckets
    tree: shapely.STRtree | None
    coast: NDArray[np.bool_]
    stretches: list[Stretch]
    locals: dict[str, geodesy.LocalTable] = field(default_factory=dict)

    @classmethod
    def build(cls, row: Any, limit_m: float) -> _Zone:
        geometry = row.geometry
        shapely.prepare(geometry)
        admin_accuracy = float(row.accuracy_m)
        pieces = [geodesy.stretch(piece) for piece in row.approximate_borders]
        centroid = geometry.centroid
        centre = (centroid.x, centroid.y)
        ends, accuracy, coast, covered = geodesy.local_border(
            centre, geometry, admin_accuracy, pieces
        )
        # the zone's own accuracy is the band of the lines no stretch holds, if there are any
        horizon = limit_m if covered.all() else max(limit_m, admin_accuracy)
        band = float(accuracy.max())
        # farthest a measured point needs its segment
        span = band if math.isinf(horizon) else max(horizon, band)
        # local lengths are true ones within a factor ``distortion``, to ``span`` past the border
        rho = float(np.hypot(ends[:, 0::2], ends[:, 1::2]).max()) + 2 * span
        distortion = geodesy.local_distortion(rho)
        # each class (accuracy, coast or not) is searched as far as the widest band or the horizon
        # reaches, so that the nearest segment of any class within a band is always seen; for an
        # unbounded horizon, each class as far as its own band (the tree finds the rest)
        kinds, classes = np.unique(np.column_stack([accuracy, coast]), axis=0, return_inverse=True)
        levels = kinds[:, 0]
        reach = (
            levels if math.isinf(horizon) else np.full(levels.shape, max(band, horizon))
        ) * distortion * 1.01 + 10.0
        margin = span * distortion * 1.01 / geodesy.METRES_PER_DEGREE_AT_60
        west, south, east, north = geometry.bounds
        return cls(
            zone_id=str(row.zone_id),
            geometry=geometry,
            horizon_m=horizon,
            band_m=band,
            bounds=tuple(geometry.bounds),
            centre=centre,
            distortion=distortion,
            box=(west - margin, south - margin, east + margin, north + margin),
            ends=ends,
            accuracy=accuracy,
            coast=coast,
            buckets=_Buckets.build(ends, classes.ravel(), reach),
            tree=shapely.STRtree(_segments(ends)) if math.isinf(horizon) else None,
            stretches=[(shapely.boundary(geometry), horizon, False), *pieces],
        )

    def local(self, space: str) -> geodesy.LocalTable:
        """The local projection of points in ``space``, tabulated over the zone's box (cached)."""
        if space not in self.locals:
            self.locals[space] = geodesy.LocalTable.build(self.centre, self.box, space)
        return self.locals[space]

    def measure(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        space: str,
        inside: NDArray[np.bool_],
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Distance to this zone's border and the band flag, for points in ``space``.

        ``inside`` says which points are in this zone: a coast's band holds
        only the others (inside a coast lies land of the zone, beyond it the sea).

        The distance is NaN beyond the horizon. The nearest segment in the local
        plane gives a planar distance d, and the true distance lies within
        ``[(d - e) / k, (d + e) * k]`` (k the projection's distortion, e the
        error of the tabulated projection).
        Where d is surely within ``_PLANAR_TOLERANCE_M`` of the truth and that interval does
        not straddle the stretch's accuracy or the horizon, d is the answer;
        elsewhere the point is measured with a geodesic to the nearest point
        of that segment. Another stretch's band can hold the point only if
        its own nearest segment is barely farther, and the same rule decides.
        Only the points measured with a geodesic are converted to WGS-84.
        """
        local = self.local(space)
        px, py = local.project(x, y)
        (nearest, planar), by_class = self.buckets.nearest(px, py)
        if self.tree is not None:
            unseen = planar > self.buckets.reach.min()
            if not math.isinf(
                self.horizon_m
            ):  # beyond every reach: in no band and beyond the horizon
                unseen &= nearest >= 0
            far = np.flatnonzero(unseen)
            (point_idx, segment), metres = self.tree.query_nearest(
                shapely.points(px[far], py[far]), all_matches=False, return_distance=True
            )
            nearest[far[point_idx]], planar[far[point_idx]] = segment, metres
        found = nearest >= 0
        own = np.zeros(x.shape)
        own[found] = self.accuracy[nearest[found]]
        low, high = geodesy.true_bounds(planar, local.error, self.distortion)
        with np.errstate(
            invalid="ignore"
        ):  # inf - inf where no segment was found: not settled anyway
            wide = np.maximum(high - planar, planar - low) > _PLANAR_TOLERANCE_M
        settle = found & (wide | _straddles(low, high, own) | _straddles(low, high, self.horizon_m))
        distance = np.where(found, planar, np.nan)
        ask = np.flatnonzero(settle)
        distance[ask] = geodesy.metres_to_segment(
            self.centre, x[ask], y[ask], space, px[ask], py[ask], self.ends[nearest[ask]]
        )
        near = (distance < own) & ~(inside & self.coast[np.maximum(nearest, 0)])
        for segment, planar_c in by_class:
            accuracy = np.zeros(x.shape)
            accuracy[segment >= 0] = self.accuracy[segment[segment >= 0]]
            low, high = geodesy.true_bounds(planar_c, local.error, self.distortion)
            other = ~near & (segment >= 0) & (segment != nearest)
            other &= ~(inside & self.coast[np.maximum(segment, 0)])
            near |= other & (high < accuracy)
            ask = np.flatnonzero(other & _straddles(low, high, accuracy))
            if ask.size:
                metres = geodesy.metres_to_segment(
                    self.centre, x[ask], y[ask], space, px[ask], py[ask], self.ends[segment[ask]]
                )
                near[ask] = metres < accuracy[ask]
        with np.errstate(invalid="ignore"):
            distance[~near & ~(distance <= self.horizon_m)] = (
                np.nan
            )  # inside a wider stretch's band: kept
        return distance, near


def _straddles(
    low: NDArray[np.float64], high: NDArray[np.float64], threshold: float | NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Whether a distance known to lie in [low, high] may be on either side of ``threshold``."""
    return (low < threshold) & (high >= threshold)


def _segments(ends: NDArray[np.float64]) -> NDArray[np.object_]:
    """The segments ``ends`` (one a row: x0, y0, x1, y1) as shapely LineStrings."""
    # shapely's stubs type linestrings() as "LineString | array"; (n, 2, 2) coordinates give
    # an array
    return cast("NDArray[np.object_]", shapely.linestrings(ends.reshape(-1, 2, 2)))


@dataclass
class _Buckets:
    """Border segments bucketed on a square grid; a bucket holds every segment that may be nearest.

    For a bucket with centre c and half-diagonal h, a segment is kept if it
    lies within ``reach + h`` of c (the reach of its accuracy class) and
    within ``d + 2h`` of c, where d is the distance from c to the nearest
    segment of the same class: no point of the bucket can have a farther
    segment of that class as its nearest. So a point's nearest segment of
    each class, whenever it is within that class's ``reach``, is the nearest
    among its bucket's few candidates.
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
    reach: NDArray[np.float64]

    @classmethod
    def build(
        cls, ends: NDArray[np.float64], classes: NDArray[np.intp], reach: NDArray[np.float64]
    ) -> _Buckets:
        """Buckets of ``ends`` (a segment a row: x0, y0, x1, y1), ``reach`` metres per class."""
        farthest = float(reach.max())
        west, south = ends[:, 0::2].min() - farthest, ends[:, 1::2].min() - farthest
        east, north = ends[:, 0::2].max() + farthest, ends[:, 1::2].max() + farthest
        size = math.sqrt((east - west) * (north - south) / _BUCKETS_PER_ZONE)
        spans = np.abs(ends[:, 2:] - ends[:, :2]) + 2 * reach[classes, None]
        while ((spans[:, 0] / size + 3) * (spans[:, 1] / size + 3)).sum() > _PAIRS_AT_BUILD:
            size *= 1.25
        half = size * math.sqrt(0.5)
        ncols, nrows = int((east - west) / size) + 1, int((north - south) / size) + 1
        # every (bucket, segment) pair whose bucket centre is within reach + half of the segment's
        # box
        grow = reach[classes] + half
        c0 = np.clip(
            np.floor((np.minimum(ends[:, 0], ends[:, 2]) - grow - west) / size - 0.5), 0, ncols - 1
        )
        c1 = np.clip(
            np.ceil((np.maximum(ends[:, 0], ends[:, 2]) + grow - west) / size - 0.5), 0, ncols - 1
        )
        r0 = np.clip(
            np.floor((np.minimum(ends[:, 1], ends[:, 3]) - grow - south) / size - 0.5), 0, nrows - 1
        )
        r1 = np.clip(
            np.ceil((np.maximum(ends[:, 1], ends[:, 3]) + grow - south) / size - 0.5), 0, nrows - 1
        )
        width, height = (c1 - c0 + 1).astype(np.int64), (r1 - r0 + 1).astype(np.int64)
        segment = np.repeat(np.arange(len(ends)), width * height)
        step = np.arange(segment.size) - np.repeat(
            np.cumsum(width * height) - width * height, width * height
        )
        col = c0.astype(np.int64)[segment] + step % width[segment]
        row = r0.astype(np.int64)[segment] + step // width[segment]
        cx, cy = west + (col + 0.5) * size, south + (row + 0.5) * size
        ax, ay, bx, by = ends[segment].T
        t = geodesy.projection_factor(cx, cy, ax, ay, bx, by)
        d = np.hypot(ax + t * (bx - ax) - cx, ay + t * (by - ay) - cy)
        keep = d <= grow[segment]
        segment, bucket, d = segment[keep], (row * ncols + col)[keep], d[keep]
        nclasses = reach.size
        key = bucket * nclasses + classes[segment]
        closest = np.full(ncols * nrows * nclasses, np.inf)
        np.minimum.at(closest, key, d)
        keep = d <= closest[key] + 2 * half
        # by bucket, then class, then segment
        order = np.lexsort((segment[keep], classes[segment[keep]], bucket[keep]))
        segment, bucket = segment[keep][order], bucket[keep][order]
        offsets = np.zeros(ncols * nrows + 1, dtype=np.int64)
        np.cumsum(np.bincount(bucket, minlength=ncols * nrows), out=offsets[1:])
        members = segment.astype(np.int32)
        return cls(
            west, south, size, ncols, nrows, offsets, members, classes, nclasses, ends, reach
        )

    def nearest(
        self, px: NDArray[np.float64], py: NDArray[np.float64]
    ) -> tuple[_Nearest, list[_Nearest]]:
        """Each point's nearest segment within its class's ``reach`` and its distance.

        -1 and inf if none; and the same per accuracy class when there are several.
        """
        col = np.clip(((px - self.x0) / self.size).astype(np.int64), 0, self.ncols - 1)
        row = np.clip(((py - self.y0) / self.size).astype(np.int64), 0, self.nrows - 1)
        inside = (px >= self.x0) & (px < self.x0 + self.ncols * self.size)
        inside &= (py >= self.y0) & (py < self.y0 + self.nrows * self.size)
        bucket = row * self.ncols + col
        start, count = self.offsets[bucket], self.offsets[bucket + 1] - self.offsets[bucket]
        count[~inside] = 0
        point = np.repeat(np.arange(px.size), count)
        first = np.cumsum(count) - count
        segment = self.members[np.arange(point.size) - np.repeat(first - start, count)].astype(
            np.intp
        )
        ax, ay, bx, by = self.ends[segment].T
        qx, qy = px[point], py[point]
        t = geodesy.projection_factor(qx, qy, ax, ay, bx, by)
        d = np.hypot(ax + t * (bx - ax) - qx, ay + t * (by - ay) - qy)
        of_class = self.classes[segment]
        d[d > self.reach[of_class]] = np.inf
        if self.nclasses == 1:
            return _argmin_per_point(d, point, first, count, segment), []
        # a bucket lists its segments class by class, so a point's pairs of one class are
        # consecutive: one pass finds every class's nearest
        lowest = np.full((self.nclasses, px.size), np.inf)
        best = np.full((self.nclasses, px.size), -1, dtype=np.intp)
        if point.size:
            runs = np.flatnonzero(
                np.r_[True, (point[1:] != point[:-1]) | (of_class[1:] != of_class[:-1])]
            )
            lowest[of_class[runs], point[runs]] = np.minimum.reduceat(d, runs)
            hit = np.flatnonzero(np.isfinite(d) & (d == lowest[of_class, point]))[::-1]
            best[of_class[hit], point[hit]] = segment[hit]  # the first of equal ones wins
        which = np.argmin(lowest, axis=0)
        every = np.arange(px.size)
        return (best[which, every], lowest[which, every]), list(zip(best, lowest, strict=True))


def _argmin_per_point(
    d: NDArray[np.float64],
    point: NDArray[np.intp],
    first: NDArray[np.int64],
    count: NDArray[np.int64],
    segment: NDArray[np.intp],
) -> _Nearest:
    """The segment of each point's smallest finite ``d`` and that ``d``, else -1 and inf.

    The pairs are grouped by point: ``count`` of them from ``first``.
    """
    best = np.full(count.size, -1, dtype=np.intp)
    lowest = np.full(count.size, np.inf)
    some = count > 0
    if not some.any():
        return best, lowest
    lowest[some] = np.minimum.reduceat(d, first[some])
    hit = np.flatnonzero(np.isfinite(d) & (d == lowest[point]))
    best[point[hit[::-1]]] = segment[hit[::-1]]  # the first of equal ones wins
    return best, lowest


@dataclass
class _ZoneIndex:
    zone_ids: list[str]
    zones: list[_Zone]
    measure_everything: bool
    grids: dict[str, tuple[Overview, list[Grid]]] = field(default_factory=dict)

    @classmethod
    def build(cls, zones: Any, limit_m: float) -> _ZoneIndex:
        if len(zones) > _MAX_ZONES:
            raise ValueError(f"at most {_MAX_ZONES} zones can be located at once, got {len(zones)}")
        built = [_Zone.build(row, limit_m) for row in zones.itertuples(index=False)]
        return cls([z.zone_id for z in built], built, measure_everything=math.isinf(limit_m))

    def grids_for(self, space: str) -> tuple[Overview, list[Grid]]:
        if space not in self.grids:
            shapes = [
                (
                    geodesy.geometry_in(zone.geometry, space),
                    [(geodesy.geometry_in(line, space), r, c) for line, r, c in zone.stretches],
                )
                for zone in self.zones
            ]
            cells = min(_CELLS_PER_ZONE, _ALL_CELLS // max(len(self.zones), 1))
            self.grids[space] = (
                Overview.build(shapes, _OVERVIEW_CELLS),
                [Grid.build(shape, stretches, cells) for shape, stretches in shapes],
            )
        return self.grids[space]

    def locate(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        space: str,
        valid: NDArray[np.bool_] | None,
    ) -> tuple[NDArray[np.uint8], NDArray[np.float64], NDArray[np.bool_]]:
        """Zone codes (0: none), distances and band flags.

        ``valid`` None means every point is valid.
        """
        if self.measure_everything:
            code = np.zeros(x.shape, dtype=np.uint8)
            todo = np.full(x.shape, _MEASURE | _TEST, dtype=np.uint8)
        else:
            code, todo = self._classify(x, y, space, valid)
        if valid is not None:
            todo[~valid] = 0
            code[~valid] = 0
        distance = np.full(x.shape, np.nan)
        near = np.zeros(x.shape, dtype=bool)
        exact = np.flatnonzero(todo)
        if exact.size:
            code[exact], distance[exact], near[exact] = self._exact(
                x[exact], y[exact], space, code[exact], (todo[exact] & _TEST) > 0
            )
        return code, distance, near

    def _classify(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        space: str,
        valid: NDArray[np.bool_] | None,
    ) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        """Zone codes from the grids, and which points need measuring and testing exactly."""
        overview, grids = self.grids_for(space)
        code = np.empty(x.shape, dtype=np.uint8)
        for start in range(0, x.size, _CHUNK):  # in pieces that stay in the cache
            part = slice(start, start + _CHUNK)
            px, py = x[part], y[part]
            if (
                valid is not None
            ):  # bad coordinates may be NaN: put them anywhere, they are cleared later
                px, py = (
                    np.where(valid[part], px, overview.x0),
                    np.where(valid[part], py, overview.y0),
                )
            code[part] = overview.lookup(px, py)
        todo = np.zeros(x.shape, dtype=np.uint8)
        ask = np.flatnonzero(code == ASK)
        if not ask.size:
            return code, todo
        ax, ay = x[ask], y[ask]
        here, here_todo = np.zeros(ask.size, dtype=np.uint8), np.zeros(ask.size, dtype=np.uint8)
        for k, grid in enumerate(grids, start=1):
            where, found = grid.lookup(ax, ay)
            zone, zone_todo = here[where], here_todo[where]
            inside = (found == IN) | (found == NEAR_IN)
            zone[inside & (zone == 0)] = k
            zone_todo[found >= NEAR_OUT] |= _MEASURE
            zone_todo[(found == BORDER) | (inside & (zone != k))] |= _MEASURE | _TEST
            here[where], here_todo[where] = zone, zone_todo
        code[ask], todo[ask] = here, here_todo
        return code, todo

    def _exact(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        space: str,
        code: NDArray[np.uint8],
        test: NDArray[np.bool_],
    ) -> tuple[NDArray[np.uint8], NDArray[np.float64], NDArray[np.bool_]]:
        """Zones by exact test where ``test``, and distances, of points in ``space``."""
        code[test] = 0
        tested = np.flatnonzero(test)
        lon, lat = geodesy.in_wgs84(x[tested], y[tested], space)
        distance = np.full(x.shape, np.inf)
        near = np.zeros(x.shape, dtype=bool)
        for k, zone in enumerate(self.zones, start=1):
            reach = max(zone.horizon_m, zone.band_m) / geodesy.METRES_PER_DEGREE_AT_60 * 1.01
            open_ = np.flatnonzero((code[tested] == 0) & _in_box(lon, lat, zone.bounds, reach))
            hit = shapely.intersects_xy(zone.geometry, lon[open_], lat[open_])
            code[tested[open_[hit]]] = k
            shift = geodesy.SHIFT_DEG if space != "wgs84" else 0.0
            candidates = np.flatnonzero(_in_box(x, y, zone.bounds, reach + shift))
            if candidates.size:
                zone_distance, zone_near = zone.measure(
                    x[candidates], y[candidates], space, code[candidates] == k
                )
                distance[candidates] = np.fmin(distance[candidates], zone_distance)
                near[candidates] |= zone_near
        distance[np.isinf(distance)] = np.nan
        return code, distance, near
