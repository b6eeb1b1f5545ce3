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
that stretch's accuracy (:func:`pilotzone.locate`'s ``near_border``); inside
the zone only land borders have one, a coast's lies at sea. The feasible area
is the zone minus that band.

It is built in the same azimuthal equidistant projection centred on the zone
that ``locate`` measures in, from the same border pieces (edges cut into
0.005-degree pieces, so that each is straight to a millimetre in lon/lat and
in the projection alike), each buffered by its stretch's accuracy. The
buffer is widened a little so that the area errs on the safe side: by the
projection's largest scale error, by the gap between a buffer's polygonal arcs
and true circles (0.12 % of the band) and by :data:`SAFETY_M`. Every point of
the feasible area is therefore ``compliant`` for ``locate``; a compliant point
may lie outside it by up to about 1.5 m.

Nearest admissible point
------------------------
For a candidate that is not compliant (outside the zone, or inside it but in
the band), ``nearest_lon``/``nearest_lat`` (in the candidate's own coordinate
system; ``nearest_lon_wgs84``/``nearest_lat_wgs84`` in WGS-84) is the nearest point of the
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
from pilotzone._columns import COLUMN_BY_KEY, cell_text, match_key
from pilotzone._readers import read_raw
from pilotzone.crs import from_wgs84, geometry_from_wgs84, normalize_crs, to_wgs84
from pilotzone.errors import CRSError, InputError, Problem
from pilotzone.facilities import FALLBACK_MAX_BYTES
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
    "nearest_lon_wgs84",
    "nearest_lat_wgs84",
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
    crs: Any = None,
    zones: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Judge candidate sites against a target zone: compliant or not, and by what margin.

    Parameters
    ----------
    candidates : DataFrame, GeoDataFrame, str or path-like
        One row per candidate site with ``lon`` and ``lat`` columns (x
        first; the headers :func:`pilotzone.read_facilities` knows, such as
        ``经度``/``纬度``), and optionally a ``crs`` column (``坐标系``); or a
        file of any format ``read_facilities`` reads (CSV, Excel, GeoJSON,
        KML, GeoPackage, Shapefile, Parquet). Other columns (``name``,
        ``cost``, ...) are kept. A GeoDataFrame or spatial file without
        ``lon``/``lat`` columns gives its point coordinates instead.
    zone : str, optional
        The target zone's id (``beijing``, ``shanghai``, ``hainan``,
        ``shenzhen``, or one that ``zones`` adds).
    registration : tuple of float, optional
        The operator's registration address as ``(lon, lat)`` in ``crs``:
        the target is the zone it lies in. Give exactly one of ``zone`` and
        ``registration``.
    crs : str, int or pyproj.CRS, optional
        Coordinate system of ``registration`` and of the candidates whose
        ``crs`` cell is blank (or that have none): ``"wgs84"``, ``"gcj02"``
        (AMap, Tencent), ``"bd09"`` (Baidu), ``"cgcs2000"`` or anything
        pyproj accepts. A row's own ``crs`` cell wins, with a warning where
        it differs. Without it, the file's own CRS (a GeoJSON's WGS-84, a
        GeoDataFrame's) is used; nothing else is assumed.
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
          not compliant, the nearest admissible point (see the module notes)
          in the candidate's own coordinate system, like its ``lon``/``lat``,
          so that it pastes into the map tool the candidate came from; else
          NaN;
        - ``nearest_lon_wgs84``, ``nearest_lat_wgs84`` (float): the same
          point in WGS-84 degrees;
        - ``distance_to_zone_m`` (float): geodesic metres from the candidate
          to that point, the move that would make it compliant; NaN for
          compliant candidates;
        - ``coordinate_issue`` (str): why a coordinate could not be placed,
          as in :func:`pilotzone.locate`; missing for good coordinates;
        - ``geometry``: the candidate as a WGS-84 point (EPSG:4326); None
          where it could not be placed.

        ``attrs`` records ``target_zone``, ``as_of``, ``zones_source`` and
        ``crs`` (the candidates' coordinate system, or a list of them).

    Raises
    ------
    pilotzone.InputError
        If the candidates cannot be read, lack ``lon``/``lat`` or hold values
        that are not numbers or coordinate systems (every such cell is
        listed); if both or neither
        of ``zone`` and ``registration`` are given; if the zone is unknown
        or not active; or if the registration lies in no zone.
    pilotzone.CRSError
        If ``crs`` is unknown, or missing where a candidate has no ``crs``.

    Warns
    -----
    UserWarning
        If candidates name their own coordinate system, other than ``crs``.
        If the registration lies within its zone's review band: the zone it
        is assigned to is then uncertain.

    Notes
    -----
    The result keeps the input order, so it joins straight back to the
    candidates. To rank them, best first::

        ranked = result.sort_values(["compliant", "margin_m"], ascending=False)

    ``margin_m`` alone ranks by clearance from the border; a candidate with a
    positive margin can still be in the band of a wider stretch (the Lingang
    canal lines' 500 m), hence ``compliant`` first. A point on the border is
    inside (``margin_m == 0``).

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
    frame, lon, lat, crs_column, file_crs = _read_candidates(candidates)
    default = crs if crs is not None else file_crs
    codes, names = _row_crs(frame, crs_column, default, crs)
    if zones is None:
        from pilotzone.zones import load_zones

        zones = load_zones()
    target = _target(zones, zone, registration, crs)
    row = zones.iloc[[target]]
    zone_id = str(row["zone_id"].iloc[0])

    n = len(frame)
    zone_found = np.full(n, None, dtype=object)
    issue = np.full(n, None, dtype=object)
    distance = np.full(n, np.nan)
    inside = np.zeros(n, dtype=bool)
    near = np.zeros(n, dtype=bool)
    lon84 = np.full(n, np.nan)
    lat84 = np.full(n, np.nan)
    for code, name in enumerate(names):  # each coordinate system as locate reads it
        rows = np.flatnonzero(codes == code)
        if not rows.size:
            continue
        zone_found[rows] = _objects(locate(lon[rows], lat[rows], crs=name, zones=zones)["zone_id"])
        here = locate(lon[rows], lat[rows], crs=name, zones=row, distance_limit_m=np.inf)
        issue[rows] = here["coordinate_issue"].to_numpy(dtype=object)
        distance[rows] = here["border_distance_m"].to_numpy(dtype=np.float64)
        inside[rows] = here["zone_id"].notna().to_numpy()
        near[rows] = here["near_border"].to_numpy(dtype=bool)
        good = rows[pd.isna(issue[rows])]
        if good.size:
            lon84[good], lat84[good] = to_wgs84(lon[good], lat[good], name)
    placed = pd.isna(issue)
    margin = np.where(inside, distance, -distance)
    margin[~placed] = np.nan
    compliant = placed & inside & ~near

    nearest84 = np.full((2, n), np.nan)
    nearest = np.full((2, n), np.nan)
    moving = np.flatnonzero(placed & ~compliant)
    if moving.size:
        feasible = _feasible(row.iloc[0], band=True)
        nearest84[:, moving] = feasible.nearest(lon84[moving], lat84[moving])
    move = np.full(n, np.nan)
    found = np.isfinite(nearest84[0])
    if found.any():
        _, _, metres = geodesy.GEOD.inv(
            lon84[found], lat84[found], nearest84[0, found], nearest84[1, found]
        )
        move[found] = metres
        for code, name in enumerate(names):  # back into each row's own system
            rows = np.flatnonzero(found & (codes == code))
            if rows.size:
                nearest[:, rows] = from_wgs84(nearest84[0, rows], nearest84[1, rows], name)

    result = frame.drop(columns=[c for c in (*SITE_COLUMNS, "geometry") if c in frame.columns])
    if isinstance(result, gpd.GeoDataFrame):
        result = pd.DataFrame(result.drop(columns=result.geometry.name, errors="ignore"))
    result["target_zone"] = zone_id
    result["zone_id"] = zone_found
    result["compliant"] = compliant
    result["margin_m"] = margin
    result["near_border"] = near & placed
    result["nearest_lon"], result["nearest_lat"] = nearest
    result["nearest_lon_wgs84"], result["nearest_lat_wgs84"] = nearest84
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
        "crs": names[0] if len(names) == 1 else names,
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
    zone: str, *, band: bool = True, zones: gpd.GeoDataFrame | None = None, crs: Any = "wgs84"
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
    crs : str, int or pyproj.CRS, default "wgs84"
        The coordinate system of the geometry: ``"gcj02"`` for AMap and
        Tencent maps, ``"bd09"`` for Baidu, or any that pyproj accepts.

    Returns
    -------
    geopandas.GeoDataFrame
        One row, in ``crs`` (``attrs["crs"]`` names it; the GeoDataFrame's
        own CRS is None for GCJ-02 and BD-09, which pyproj does not know);
        by default EPSG:4326 (x = longitude), ready for
        ``to_file("feasible.geojson")``: ``zone_id``, ``band_m`` (the band
        along the administrative lines, the zone's ``accuracy_m``; 0 without
        band), ``widest_band_m`` (the widest band of any land-border stretch,
        that of an approximate one where the zone has them; coasts have no
        band inside the zone), ``area_km2`` (geodesic area)
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
    [[400.0, 500.0]]
    >>> whole = pz.feasible_area("shanghai", band=False)
    >>> bool(area["area_km2"].iloc[0] < whole["area_km2"].iloc[0])
    True
    """
    if zones is None:
        from pilotzone.zones import load_zones

        zones = load_zones()
    name = normalize_crs(crs)
    feasible = _feasible(zones.iloc[_zone_position(zones, zone)], band=band)
    area, _ = geodesy.GEOD.geometry_area_perimeter(feasible.wgs84)
    result = gpd.GeoDataFrame(
        {
            "zone_id": [feasible.zone_id],
            "band_m": [feasible.band_m],
            "widest_band_m": [feasible.widest_band_m],
            "area_km2": [abs(area) / 1e6],
        },
        geometry=[geometry_from_wgs84(feasible.wgs84, name)],
        crs={"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490", "gcj02": None, "bd09": None}.get(
            name, name
        ),
    )
    result.attrs["crs"] = name
    return result


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
        the nearest points' coordinates to 7 decimals.

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
    places = {
        c: 7 for c in ("nearest_lon", "nearest_lat", "nearest_lon_wgs84", "nearest_lat_wgs84")
    }
    return table.round({"margin_m": 1, "distance_to_zone_m": 1, **places})


# --------------------------------------------------------------------------- inputs


def _read_candidates(
    candidates: Any,
) -> tuple[pd.DataFrame, NDArray[np.float64], NDArray[np.float64], str | None, Any]:
    """The candidates' table, their coordinates as floats, their ``crs`` column and file CRS.

    A file is read by :func:`pilotzone.read_facilities`'s readers (every format ``verify``
    reads); columns match its headers (``经度``, ``纬度``, ``坐标系``). Unusable cells are errors.
    """
    file_crs = None
    if isinstance(candidates, (str, os.PathLike)):
        name = str(candidates)
        frame, x, y, file_crs = _read_file(Path(candidates))
    elif isinstance(candidates, pd.DataFrame):
        name = "<candidates>"
        frame, x, y = candidates, None, None
    else:
        raise InputError(
            Problem(
                "candidates",
                None,
                None,
                type(candidates).__name__,
                "must be a DataFrame, a GeoDataFrame or the path of a file that verify reads",
            )
        )
    meaning = {COLUMN_BY_KEY.get(match_key(c)): c for c in reversed(frame.columns)}
    lon_column, lat_column = meaning.get("lon"), meaning.get("lat")
    crs_column = meaning.get("crs")
    if x is None and lon_column is None and lat_column is None and _has_points(frame):
        geometry = frame.geometry.values
        x = np.where(geometry.isna(), np.nan, shapely.get_x(geometry))
        y = np.where(geometry.isna(), np.nan, shapely.get_y(geometry))
        file_crs = frame.crs
    if x is not None and y is not None:
        return frame, x.astype(np.float64), y.astype(np.float64), crs_column, file_crs
    problems = [
        Problem(
            name,
            None,
            column,
            None,
            "column missing: candidates need lon and lat "
            f"(found {', '.join(map(str, frame.columns))})",
        )
        for column, found in (("lon", lon_column), ("lat", lat_column))
        if found is None
    ]
    if problems:
        raise InputError(problems)
    values = {}
    for column in (lon_column, lat_column):
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
    if not isinstance(candidates, pd.DataFrame):  # read from a file: numbers, blanks as NaN
        frame = frame.copy()
        frame[lon_column], frame[lat_column] = values[lon_column], values[lat_column]
    return frame, values[lon_column], values[lat_column], crs_column, file_crs


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


def _read_file(path: Path) -> tuple[pd.DataFrame, Any, Any, Any]:
    """A candidates file as a table, x and y from its point geometry (if any), and its CRS.

    A column stays text as written unless every cell is a number (blanks aside) and none is
    a code with a leading zero such as "007".
    """
    try:
        raw = read_raw(path, None, FALLBACK_MAX_BYTES)
    except OSError as error:
        raise InputError(
            Problem(str(path), None, None, None, error.strerror or str(error))
        ) from None
    frame = raw.frame.set_axis([str(c).strip() for c in raw.frame.columns], axis=1)
    frame.index = pd.RangeIndex(len(frame))
    renamed = {c: COLUMN_BY_KEY.get(match_key(c)) for c in frame.columns}
    frame = frame.rename(
        columns={c: m for c, m in renamed.items() if m in ("lon", "lat") and m not in frame}
    )
    for column in frame.columns:
        cells = frame[column].map(lambda v: cell_text(v, fold=False))
        number = pd.to_numeric(cells.where(cells != ""), errors="coerce")
        code = cells.str.match(r"^[+-]?0\d")
        if len(frame) and (number.notna() | (cells == "")).all() and not code.any():
            frame[column] = number
        else:
            frame[column] = cells
    x = y = None
    if raw.points is not None:
        x = pd.to_numeric(pd.Series(raw.points.x, dtype=object), errors="coerce").to_numpy()
        y = pd.to_numeric(pd.Series(raw.points.y, dtype=object), errors="coerce").to_numpy()
        if "lon" not in frame.columns and "lat" not in frame.columns:
            frame = frame.assign(lon=x, lat=y)
    return frame, x, y, raw.file_crs


def _row_crs(
    frame: pd.DataFrame, column: str | None, default: Any, argument: Any
) -> tuple[NDArray[np.intp], list[str]]:
    """Each row's coordinate system, as an index into a list of names: its own cell, else default.

    A row's own ``crs`` cell wins, with a warning where it differs from ``crs=`` (a GCJ-02
    filing sited with ``crs="wgs84"``). A cell naming none is an error, as is a row with neither.
    """
    texts = (
        frame[column].map(cell_text).to_numpy(dtype=object)
        if column is not None
        else np.full(len(frame), "", dtype=object)
    )
    if default is None and (not len(frame) or (texts == "").any()):
        raise CRSError("crs is required: give crs= (e.g. 'wgs84', 'gcj02') or a crs column")
    names: list[str] = []
    codes = np.zeros(len(frame), dtype=np.intp)
    problems = []
    seen: dict[str, int] = {}
    for position, text in enumerate(texts):
        if text not in seen:
            try:
                name = normalize_crs(text or default, search_names=not text)
            except (ValueError, RuntimeError):
                problems.append(
                    Problem("<candidates>", position + 1, column, text, "unknown coordinate system")
                )
                continue
            seen[text] = names.index(name) if name in names else len(names)
            names += [] if name in names else [name]
        codes[position] = seen[text]
    if problems:
        raise InputError(problems)
    if argument is not None:
        wanted = normalize_crs(argument)
        own = sorted({names[c] for c in codes[texts != ""]} - {wanted})
        if own:
            warnings.warn(
                f"{int(np.isin(codes, [names.index(o) for o in own]).sum())} candidates name their "
                f"own coordinate system ({', '.join(own)}) in column {column!r}: it is used for "
                f"them, not crs={argument!r}",
                UserWarning,
                stacklevel=3,
            )
    return codes, names or [normalize_crs(default)]


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
        _, accuracy, coast = geodesy.stretch(piece)
        digest.update(f"{accuracy!r}|{coast}".encode() + shapely.to_wkb(piece.geometry))
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
    (:func:`pilotzone._geodesy.local_border`): one lying on a stretch
    (midpoint within 1e-6 degree) has its accuracy, every other one the
    zone's. Coast stretches take off only the safety margin: inside a coast
    is never in the band.
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
    stretches = [geodesy.stretch(piece) for piece in pieces]
    ends, accuracy, coast, _ = geodesy.local_border(centre, geometry, admin, stretches)
    widest = float(accuracy[~coast].max()) if (~coast).any() else 0.0
    # The projection's scale error out to the widest band beyond the border, as locate bounds it.
    rho = float(np.hypot(ends[:, 0], ends[:, 1]).max()) + widest
    accuracy[coast] = 0.0  # a coast's strip is the safety margin alone
    local_starts, local_stops = ends[:, :2], ends[:, 2:]
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
