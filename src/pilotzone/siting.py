"""Siting: how well candidate sites clear a target zone's border, and where the admissible area is.

:func:`site` answers a planner's question about a list of candidate sites:
which of them may host a facility of an operator registered in a given zone,
by how much each one clears that zone's border, and, for those that may not,
the nearest point where one could. :func:`feasible_area` is that admissible
area as a polygon a planner can open in QGIS. :func:`rank_sites` orders a
:func:`site` result best first, as ``pilotzone site`` prints and writes it.

Both build on :func:`pilotzone.locate`, so they agree with
:func:`pilotzone.verify` on every point: a candidate is ``compliant`` exactly
when ``verify`` would find a facility there in the target zone and clear of
its border.

The feasible area
-----------------
A zone's *review band* is everything closer to a stretch of its border than
that stretch's accuracy: the zone's ``accuracy_m`` along its administrative
lines, and each approximate stretch's own accuracy (the Lingang canal lines,
Xiaoyangshan). It is :func:`pilotzone.locate`'s ``near_border``. The feasible
area is the zone minus that band.

It is built in the same azimuthal equidistant projection centred on the zone
that ``locate`` measures in, from the same border pieces (edges cut into
0.005-degree pieces, so that each is straight to a millimetre in lon/lat and
in the projection alike), each buffered by its stretch's accuracy. The
buffer is widened a little so that the area errs on the safe side: by the
projection's largest scale error, by the gap between a buffer's polygonal arcs
and true circles (0.12 % of the band) and by :data:`SAFETY_M`. Every point of
the feasible area is therefore ``compliant`` for ``locate``; a compliant point
may lie outside it by up to about 1.5 m (5 m next to Xiaoyangshan's 3 km band).

Nearest admissible point
------------------------
For a candidate that is not compliant (outside the zone, or inside it but in
the band), ``nearest_lon``/``nearest_lat`` is the nearest point of the
feasible area, moved :data:`INSET_M` (10 cm) on into it so that it is
inside the polygon :func:`feasible_area` returns whatever the rounding, and
``distance_to_zone_m`` is the geodesic distance to it: how far the site would
have to move. The point is the nearest one in the zone's projection, which is
the nearest on the ellipsoid to within the projection's scale error (a few
parts in 10,000 within a few hundred kilometres of the zone). Past a sharp
corner of the area the point is taken from the area shrunk by 10 cm instead,
which puts it up to 0.1 m / sin(angle / 2) from the corner: under a metre
unless the corner is sharper than 11 degrees.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from pilotzone import _geodesy as geodesy
from pilotzone.crs import to_wgs84
from pilotzone.errors import InputError, Problem
from pilotzone.locate import locate

__all__ = ["SITE_COLUMNS", "feasible_area", "rank_sites", "site"]

log = logging.getLogger(__name__)

#: Columns that :func:`site` adds to the candidates' own, in order (then ``geometry``).
SITE_COLUMNS = (
    "target_zone",
    "zone_id",
    "compliant",
    "margin_m",
    "near_border",
    "nearest_lon",
    "nearest_lat",
    "distance_to_zone_m",
    "coordinate_issue",
)
#: Metres added to every band so that the feasible area errs on the safe side.
SAFETY_M = 1.0
#: Nearest admissible points lie this many metres inside the feasible area's edge.
INSET_M = 0.1

_QUAD_SEGS = 16  # buffer arcs: 16 chords per quarter circle
_CHORD = math.cos(math.pi / (4 * _QUAD_SEGS))  # chord midpoints lie this fraction of the radius out
_DENSIFY_M = 200.0  # edges of the feasible area before it leaves the projection: bends under 1 mm
_CACHE: OrderedDict[str, _Feasible] = OrderedDict()
_CACHE_SIZE = 8
# None as a value of an object array, as numpy.where takes it (its stubs want arrays, not None)
_NONE = np.array(None, dtype=object)


def site(
    candidates: pd.DataFrame | str | os.PathLike[str],
    *,
    zone: str | None = None,
    registration: tuple[float, float] | None = None,
    crs: Any,
    zones: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Judge candidate sites against a target zone: compliant or not, and by what margin.

    Parameters
    ----------
    candidates : DataFrame, GeoDataFrame, str or path-like
        One row per candidate site with ``lon`` and ``lat`` columns (x
        first), in ``crs``; or a CSV file with them (UTF-8 or GB18030).
        Other columns (``name``, ``cost``, ...) are kept. A GeoDataFrame
        without ``lon``/``lat`` columns gives its point coordinates instead,
        which must then be in ``crs`` too.
    zone : str, optional
        The target zone's id (``beijing``, ``shanghai``, ``hainan``,
        ``shenzhen``, or one that ``zones`` adds).
    registration : tuple of float, optional
        The operator's registration address as ``(lon, lat)`` in ``crs``:
        the target is the zone it lies in. Give exactly one of ``zone`` and
        ``registration``.
    crs : str, int or pyproj.CRS
        Coordinate system of the candidates and of ``registration``:
        ``"wgs84"``, ``"gcj02"`` (AMap, Tencent), ``"bd09"`` (Baidu),
        ``"cgcs2000"`` or anything pyproj accepts. Required: nothing is
        assumed.
    zones : GeoDataFrame, optional
        Zones from :func:`pilotzone.load_zones`; default the shipped zones
        in force today. The target zone must be active in it.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per candidate, with the candidates' index, order and columns,
        then (replacing columns of the same name):

        - ``target_zone`` (str): the zone sited for;
        - ``zone_id`` (str): the zone the candidate lies in, whichever it is;
          missing where it lies in none;
        - ``compliant`` (bool): inside the target zone and clear of its
          review band (the place could host the operator's facility);
        - ``margin_m`` (float): signed geodesic distance to the target zone's
          border, positive inside it and negative outside; accurate to 1 %.
          NaN where the coordinate could not be placed;
        - ``near_border`` (bool): within the target zone's review band, on
          either side of the border;
        - ``nearest_lon``, ``nearest_lat`` (float): for a candidate that is
          not compliant, the nearest admissible point (WGS-84 degrees; see
          the module notes), else NaN;
        - ``distance_to_zone_m`` (float): geodesic metres from the candidate
          to that point, the move that would make it compliant; NaN for
          compliant candidates;
        - ``coordinate_issue`` (str): why a coordinate could not be placed,
          as in :func:`pilotzone.locate`; missing for good coordinates;
        - ``geometry``: the candidate as a WGS-84 point (EPSG:4326); None
          where it could not be placed.

        ``attrs`` records ``target_zone``, ``as_of`` and ``zones_source``.

    Raises
    ------
    pilotzone.InputError
        If the candidates cannot be read, lack ``lon``/``lat`` or hold values
        that are not numbers (every such cell is listed); if both or neither
        of ``zone`` and ``registration`` are given; if the zone is unknown
        or not active; or if the registration lies in no zone.
    pilotzone.CRSError
        If ``crs`` is missing or unknown.

    Warns
    -----
    UserWarning
        If the registration lies within its zone's review band: the zone it
        is assigned to is then uncertain.

    Notes
    -----
    The result keeps the input order, so it joins straight back to the
    candidates. To rank them, best first::

        ranked = result.sort_values(["compliant", "margin_m"], ascending=False)

    ``margin_m`` alone ranks by clearance from the border; a candidate with a
    positive margin can still be in the band where the border is approximate
    (Shanghai's Xiaoyangshan stretch has a 3 km band), hence ``compliant``
    first. A point on the border is inside (``margin_m == 0``).

    Examples
    --------
    >>> import pandas as pd, pilotzone as pz
    >>> candidates = pd.DataFrame({"name": ["Tiananmen", "Lujiazui"],
    ...                            "lon": [116.3975, 121.5044], "lat": [39.9087, 31.2397]})
    >>> result = pz.site(candidates, zone="beijing", crs="wgs84")
    >>> result["compliant"].tolist()
    [True, False]
    >>> bool(result["margin_m"].iloc[1] < -900_000)
    True
    """
    frame, lon, lat = _read_candidates(candidates)
    if zones is None:
        from pilotzone.zones import load_zones

        zones = load_zones()
    target = _target(zones, zone, registration, crs)
    row = zones.iloc[[target]]
    zone_id = str(row["zone_id"].iloc[0])

    anywhere = locate(lon, lat, crs=crs, zones=zones)
    here = locate(lon, lat, crs=crs, zones=row, distance_limit_m=np.inf)
    issue = here["coordinate_issue"].to_numpy(dtype=object)
    placed = pd.isna(issue)
    inside = here["zone_id"].notna().to_numpy()
    distance = here["border_distance_m"].to_numpy(dtype=np.float64)
    near = here["near_border"].to_numpy(dtype=bool)
    margin = np.where(inside, distance, -distance)
    margin[~placed] = np.nan
    compliant = placed & inside & ~near

    lon84 = np.full(len(frame), np.nan)
    lat84 = np.full(len(frame), np.nan)
    if placed.any():
        lon84[placed], lat84[placed] = to_wgs84(lon[placed], lat[placed], crs)
    nearest_lon = np.full(len(frame), np.nan)
    nearest_lat = np.full(len(frame), np.nan)
    moving = np.flatnonzero(placed & ~compliant)
    if moving.size:
        feasible = _feasible(row.iloc[0], band=True)
        nearest_lon[moving], nearest_lat[moving] = feasible.nearest(lon84[moving], lat84[moving])
    move = np.full(len(frame), np.nan)
    found = np.isfinite(nearest_lon)
    if found.any():
        _, _, metres = geodesy.GEOD.inv(
            lon84[found], lat84[found], nearest_lon[found], nearest_lat[found]
        )
        move[found] = metres

    result = frame.drop(columns=[c for c in (*SITE_COLUMNS, "geometry") if c in frame.columns])
    if isinstance(result, gpd.GeoDataFrame):
        result = pd.DataFrame(result.drop(columns=result.geometry.name, errors="ignore"))
    result["target_zone"] = zone_id
    result["zone_id"] = _objects(anywhere["zone_id"])
    result["compliant"] = compliant
    result["margin_m"] = margin
    result["near_border"] = near & placed
    result["nearest_lon"] = nearest_lon
    result["nearest_lat"] = nearest_lat
    result["distance_to_zone_m"] = move
    result["coordinate_issue"] = np.where(placed, _NONE, issue)
    points = np.asarray(shapely.points(lon84, lat84))
    points[~placed] = None
    out = gpd.GeoDataFrame(
        result, geometry=gpd.GeoSeries(points, index=result.index), crs="EPSG:4326"
    )
    out.attrs = {
        "target_zone": zone_id,
        "as_of": zones.attrs.get("as_of"),
        "zones_source": zones.attrs.get("boundaries_path"),
    }
    log.info(
        "site: %d candidates for %s, %d compliant, %d not placed",
        len(out),
        zone_id,
        int(compliant.sum()),
        int((~placed).sum()),
    )
    return out


def feasible_area(
    zone: str, *, band: bool = True, zones: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """The part of a zone where a facility is compliant: the zone minus its review band.

    Parameters
    ----------
    zone : str
        The zone's id.
    band : bool, default True
        Take the review band off (see the module notes). ``False`` gives the
        zone itself, for comparison.
    zones : GeoDataFrame, optional
        Zones from :func:`pilotzone.load_zones`; default the shipped zones in
        force today. The zone need not be active.

    Returns
    -------
    geopandas.GeoDataFrame
        One row, CRS EPSG:4326 (x = longitude), ready for
        ``to_file("feasible.geojson")``: ``zone_id``, ``band_m`` (the band
        along the administrative lines, the zone's ``accuracy_m``; 0 without
        band), ``widest_band_m`` (the widest band of any stretch, that of an
        approximate one where the zone has them), ``area_km2`` (geodesic area)
        and ``geometry``, a valid (Multi)Polygon inside the zone; empty if
        the zone is narrower than twice its band.

    Raises
    ------
    pilotzone.InputError
        If the zone is unknown.

    Examples
    --------
    >>> import pilotzone as pz
    >>> area = pz.feasible_area("shanghai")
    >>> area[["band_m", "widest_band_m"]].to_numpy().tolist()
    [[400.0, 3000.0]]
    >>> whole = pz.feasible_area("shanghai", band=False)
    >>> bool(area["area_km2"].iloc[0] < whole["area_km2"].iloc[0])
    True
    """
    if zones is None:
        from pilotzone.zones import load_zones

        zones = load_zones()
    feasible = _feasible(zones.iloc[_zone_position(zones, zone)], band=band)
    area, _ = geodesy.GEOD.geometry_area_perimeter(feasible.wgs84)
    return gpd.GeoDataFrame(
        {
            "zone_id": [feasible.zone_id],
            "band_m": [feasible.band_m],
            "widest_band_m": [feasible.widest_band_m],
            "area_km2": [abs(area) / 1e6],
        },
        geometry=[feasible.wgs84],
        crs="EPSG:4326",
    )


def rank_sites(result: gpd.GeoDataFrame) -> pd.DataFrame:
    """A siting result best first, numbered, without geometry.

    Parameters
    ----------
    result : GeoDataFrame
        What :func:`site` returns.

    Returns
    -------
    pandas.DataFrame
        The compliant candidates first, then by ``margin_m`` (largest first,
        candidates that cannot be placed last; ties keep their order), with
        ``rank`` (1, 2, ...) as the first column and no geometry column.
        ``margin_m`` and ``distance_to_zone_m`` are rounded to 0.1 m,
        ``nearest_lon`` and ``nearest_lat`` to 7 decimals.

    Examples
    --------
    >>> import pilotzone as pz
    >>> from pilotzone.siting import rank_sites
    >>> candidates = {"lon": [121.5044, 114.0579], "lat": [31.2397, 22.5431]}
    >>> result = pz.site(pd.DataFrame(candidates), zone="shanghai", crs="wgs84")
    >>> rank_sites(result)["rank"].tolist()
    [1, 2]
    """
    ranked = result.sort_values(
        ["compliant", "margin_m"], ascending=False, kind="stable", na_position="last"
    )
    table = ranked.drop(columns=ranked.geometry.name)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.round({"margin_m": 1, "distance_to_zone_m": 1, "nearest_lon": 7, "nearest_lat": 7})


# --------------------------------------------------------------------------- inputs


def _read_candidates(
    candidates: Any,
) -> tuple[pd.DataFrame, NDArray[np.float64], NDArray[np.float64]]:
    """The candidates' table and their ``lon``/``lat`` as floats; unusable cells are errors."""
    if isinstance(candidates, (str, os.PathLike)):
        name = str(candidates)
        frame = _read_csv(Path(candidates))
    elif isinstance(candidates, pd.DataFrame):
        name = "<candidates>"
        frame = candidates
    else:
        raise InputError(
            Problem(
                "candidates",
                None,
                None,
                type(candidates).__name__,
                "must be a DataFrame, a GeoDataFrame or the path of a CSV file",
            )
        )
    if "lon" not in frame.columns and "lat" not in frame.columns and _has_points(frame):
        geometry = frame.geometry.values
        x = np.where(geometry.isna(), np.nan, shapely.get_x(geometry))
        y = np.where(geometry.isna(), np.nan, shapely.get_y(geometry))
        return frame, x.astype(np.float64), y.astype(np.float64)
    problems = [
        Problem(
            name,
            None,
            column,
            None,
            "column missing: candidates need lon and lat "
            f"(found {', '.join(map(str, frame.columns))})",
        )
        for column in ("lon", "lat")
        if column not in frame.columns
    ]
    if problems:
        raise InputError(problems)
    values = {}
    for column in ("lon", "lat"):
        raw = frame[column]
        number = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        blank = raw.isna().to_numpy() | raw.astype(str).str.strip().eq("").to_numpy()
        for position in np.flatnonzero(np.isnan(number) & ~blank):
            problems.append(
                Problem(name, int(position) + 1, column, raw.iloc[position], "not a number")
            )
        values[column] = number
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise InputError(problems)
    if not isinstance(candidates, pd.DataFrame):  # read from text: numbers, blanks as NaN
        frame = frame.assign(lon=values["lon"], lat=values["lat"])
    return frame, values["lon"], values["lat"]


def _has_points(frame: pd.DataFrame) -> TypeGuard[gpd.GeoDataFrame]:
    if not isinstance(frame, gpd.GeoDataFrame) or frame._geometry_column_name not in frame.columns:
        return False
    kinds = set(frame.geometry.dropna().geom_type)
    if not kinds <= {"Point"}:
        raise InputError(
            Problem(
                "<candidates>",
                None,
                frame.geometry.name,
                sorted(kinds),
                "candidates must be points; give lon and lat columns instead",
            )
        )
    return True


def _read_csv(path: Path) -> pd.DataFrame:
    if path.suffix.lower() not in (".csv", ".txt"):
        raise InputError(Problem(str(path), None, None, None, "candidates must be a CSV file"))
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(
            Problem(str(path), None, None, None, error.strerror or str(error))
        ) from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else "no data"
            raise InputError(
                Problem(str(path), None, None, None, f"not a readable CSV: {reason}")
            ) from None
        frame.columns = [str(c).strip() for c in frame.columns]
        frame = frame.rename(
            columns={c: c.lower() for c in frame.columns if c.lower() in ("lon", "lat")}
        )
        # Other columns stay text as written, unless every cell is a number (blanks aside) and
        # none is a code with a leading zero such as "007".
        for column in frame.columns:
            if column in ("lon", "lat"):
                continue
            cells = frame[column].str.strip()
            number = pd.to_numeric(cells.where(cells != ""), errors="coerce")
            code = cells.str.match(r"^[+-]?0\d")
            if len(frame) and (number.notna() | (cells == "")).all() and not code.any():
                frame[column] = number
        return frame
    raise InputError(Problem(str(path), None, None, None, "not UTF-8 or GB18030 text"))


def _target(zones: gpd.GeoDataFrame, zone: Any, registration: Any, crs: Any) -> int:
    """The target zone's position in ``zones``."""
    if (zone is None) == (registration is None):
        raise InputError(
            Problem(
                "zone/registration",
                None,
                None,
                None,
                "give exactly one of zone= (a zone id) and registration=(lon, lat)",
            )
        )
    if zone is not None:
        position = _zone_position(zones, zone)
    else:
        try:
            lon, lat = (float(v) for v in registration)
        except (TypeError, ValueError):
            raise InputError(
                Problem("registration", None, None, registration, "must be (lon, lat): two numbers")
            ) from None
        found = locate([lon], [lat], crs=crs, zones=zones).iloc[0]
        if pd.notna(found["coordinate_issue"]):
            raise InputError(
                Problem(
                    "registration",
                    None,
                    None,
                    (lon, lat),
                    f"cannot be placed ({found['coordinate_issue']}); it is (lon, lat) in {crs!r}",
                )
            )
        if pd.isna(found["zone_id"]):
            raise InputError(
                Problem(
                    "registration",
                    None,
                    None,
                    (lon, lat),
                    f"lies in no zone ({', '.join(map(str, zones['zone_id']))}): an operator "
                    "registered there cannot use the pilot; check the address and its crs "
                    f"({crs!r})",
                )
            )
        position = _zone_position(zones, str(found["zone_id"]))
        if bool(found["near_border"]):
            warnings.warn(
                f"the registration ({lon}, {lat}) lies within the review band of "
                f"{found['zone_id']!r} ({found['border_distance_m']:.0f} m from a border): its "
                "zone is uncertain",
                UserWarning,
                stacklevel=3,
            )
    row = zones.iloc[position]
    if "active" in zones.columns and not bool(row["active"]):
        raise InputError(
            Problem(
                "zone",
                None,
                None,
                row["zone_id"],
                f"is not active on {zones.attrs.get('as_of', 'the zones date')} (status "
                f"{row.get('status', 'inactive')}); to plan for another date pass "
                "zones=pilotzone.load_zones(as_of=...)",
            )
        )
    return position


def _zone_position(zones: gpd.GeoDataFrame, zone: Any) -> int:
    ids = [str(z) for z in zones["zone_id"]]
    if not isinstance(zone, str) or zone not in ids:
        raise InputError(
            Problem("zone", None, None, zone, f"unknown zone; the zones are {', '.join(ids)}")
        )
    return ids.index(zone)


def _objects(values: pd.Series) -> NDArray[np.object_]:
    """A categorical column as Python objects, with None (not NaN) where missing."""
    return np.where(values.isna().to_numpy(), _NONE, values.astype(object).to_numpy())


# --------------------------------------------------------------------------- the feasible area


@dataclass(frozen=True)
class _Feasible:
    """A zone's feasible area, in the zone's local projection and in WGS-84."""

    zone_id: str
    band_m: float
    widest_band_m: float
    centre: tuple[float, float]
    local: Any
    inset: Any
    wgs84: Any

    def nearest(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The nearest admissible point to each point outside the area (NaN if the area is empty).

        That is the nearest point of the area, moved :data:`INSET_M` on in the
        same direction, into the area. Where that does not leave it clear of
        the edge (past a sharp corner), the nearest point of the area shrunk
        by :data:`INSET_M` is taken instead.
        """
        if self.local.is_empty:
            return np.full(lon.shape, np.nan), np.full(lon.shape, np.nan)
        x, y = geodesy.to_local(self.centre, lon, lat)
        start = np.column_stack([x, y])
        lines = shapely.shortest_line(shapely.points(start), self.local)
        edge = shapely.get_coordinates(shapely.get_point(lines, 1))
        step = edge - start
        length = np.hypot(step[:, 0], step[:, 1])[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            inward = edge + INSET_M * np.where(length > 0, step / length, 0.0)
        moved = shapely.points(inward)
        clear = shapely.contains(self.local, moved) & ~shapely.dwithin(
            shapely.boundary(self.local), moved, INSET_M / 2
        )
        if not clear.all() and not self.inset.is_empty:
            lines = shapely.shortest_line(shapely.points(start[~clear]), self.inset)
            inward[~clear] = shapely.get_coordinates(shapely.get_point(lines, 1))
        return geodesy.from_local(self.centre, inward[:, 0], inward[:, 1])


def _feasible(row: Any, *, band: bool) -> _Feasible:
    """The cached feasible area of one zone row (a Series or a namedtuple with zone columns)."""
    key = _fingerprint(row, band)
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        return cached
    built = _build(row, band)
    _CACHE[key] = built
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return built


def _fingerprint(row: Any, band: bool) -> str:
    digest = hashlib.sha1(f"{row['zone_id']}|{float(row['accuracy_m'])!r}|{band}|".encode())
    digest.update(shapely.to_wkb(row["geometry"]))
    for piece in _pieces(row):
        digest.update(f"{piece.accuracy_m!r}".encode())
        digest.update(shapely.to_wkb(piece.geometry))
    return digest.hexdigest()


def _pieces(row: Any) -> tuple[Any, ...]:
    pieces = row.get("approximate_borders", ())
    return (
        ()
        if pieces is None or (not isinstance(pieces, tuple) and pd.isna(pieces))
        else tuple(pieces)
    )


def _build(row: Any, band: bool) -> _Feasible:
    """Buffer each class of border segments by its accuracy in the zone's projection; take them off.

    The segments are those :func:`pilotzone.locate` measures to
    (:func:`pilotzone._geodesy.local_border`): one lying on an approximate
    stretch (midpoint within 1e-6 degree) has its accuracy, every other one
    the zone's.
    """
    zone_id, geometry = str(row["zone_id"]), row["geometry"]
    admin = float(row["accuracy_m"])
    pieces = _pieces(row)
    centroid = geometry.centroid
    centre = (centroid.x, centroid.y)
    local = geodesy.to_local_geometry(centre, shapely.segmentize(geometry, geodesy.SEGMENTIZE_DEG))
    if not band:
        return _Feasible(
            zone_id, 0.0, 0.0, centre, local, shapely.buffer(local, -INSET_M), geometry
        )

    # The border in the segments locate measures to, then projected.
    ends, accuracy = geodesy.local_border(
        centre, geometry, admin, [(piece.geometry, float(piece.accuracy_m)) for piece in pieces]
    )
    local_starts, local_stops = ends[:, :2], ends[:, 2:]
    widest = float(accuracy.max())
    # The projection's scale error out to the widest band beyond the border, as locate bounds it.
    rho = float(np.hypot(local_starts[:, 0], local_starts[:, 1]).max()) + widest
    distortion = geodesy.local_distortion(rho)
    strips = []
    for value in np.unique(accuracy):
        mine = accuracy == value
        segments = np.asarray(
            shapely.linestrings(np.stack([local_starts[mine], local_stops[mine]], axis=1))
        )
        lines = shapely.line_merge(shapely.multilinestrings(segments))
        radius = value * distortion / _CHORD + SAFETY_M
        strips.append(shapely.buffer(lines, radius, quad_segs=_QUAD_SEGS))
    feasible = shapely.difference(local, shapely.union_all(strips))
    feasible = _polygonal(shapely.make_valid(feasible))
    back = geodesy.from_local_geometry(centre, shapely.segmentize(feasible, _DENSIFY_M))
    back = _polygonal(shapely.make_valid(back))
    if back.is_empty:
        log.warning(
            "zone %s is nowhere wider than twice its review band: no feasible area", zone_id
        )
    inset = shapely.buffer(feasible, -INSET_M, quad_segs=_QUAD_SEGS)
    return _Feasible(zone_id, admin, widest, centre, feasible, inset, back)


def _polygonal(geometry: Any) -> Any:
    """The polygons of a geometry as one MultiPolygon (empty if none)."""
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type in ("Polygon", "MultiPolygon")]
    polygons = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polygons)
