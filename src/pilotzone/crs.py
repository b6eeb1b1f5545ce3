"""Coordinate systems: the only module that knows about them.

pilotzone works in WGS-84 longitude/latitude (EPSG:4326, x = longitude). Input
coordinates may be given in:

``"wgs84"``
    WGS-84 longitude/latitude, as from GPS (EPSG:4326).
``"cgcs2000"``
    China Geodetic Coordinate System 2000 (EPSG:4490). It differs from WGS-84
    by a few centimetres, far below any boundary's accuracy, and is treated as
    identical to it, as PROJ itself does (its transformation is a null one).
``"gcj02"``
    The obfuscated "Mars" system that Chinese law requires of published maps:
    AMap/Gaode, Tencent and most Chinese map pickers. Shifted 100-700 m from
    WGS-84 inside China.
``"bd09"``
    Baidu's system, a further shift on top of GCJ-02.
anything :func:`pyproj.CRS.from_user_input` accepts
    EPSG codes (``"EPSG:4547"``, ``32650``), projected CGCS2000 Gauss-Kruger
    zones, UTM, WKT, PROJ strings. Converted with pyproj, ``always_xy=True``.

GCJ-02 and BD-09 have no EPSG code and PROJ cannot convert them; they are
implemented here in numpy, forward and inverse. The inverses are iterative and
reproduce the input of a round trip to well under 1 mm.

Outside China GCJ-02 and BD-09 apply no offset (the convention every public
implementation follows): a point whose WGS-84 coordinates fall outside the box
72.004-137.8347 E, 0.8293-55.8271 N is returned unchanged by the GCJ-02
conversions. Nothing here ever assumes a coordinate system: a missing one is an
error.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from pilotzone._messages import Reason
from pilotzone.errors import CRSError

__all__ = [
    "NAMED_CRS",
    "from_wgs84",
    "geometry_from_wgs84",
    "is_lonlat",
    "normalize_crs",
    "to_wgs84",
]

#: The coordinate systems that have a name of their own in pilotzone.
NAMED_CRS = ("wgs84", "cgcs2000", "gcj02", "bd09")

_ALIASES = {
    "wgs84": "wgs84",
    "wgs1984": "wgs84",
    "gps": "wgs84",
    "epsg4326": "wgs84",
    "cgcs2000": "cgcs2000",
    "epsg4490": "cgcs2000",
    "2000国家大地坐标系": "cgcs2000",
    "国家2000": "cgcs2000",
    "天地图": "cgcs2000",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "tencent": "gcj02",
    "mars": "gcj02",
    "高德": "gcj02",
    "高德地图": "gcj02",
    "腾讯": "gcj02",
    "腾讯地图": "gcj02",
    "火星": "gcj02",
    "国测局": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
    "百度": "bd09",
    "百度地图": "bd09",
}
#: What Chinese spellings add to a name: "高德坐标", "WGS84坐标系" name "高德", "WGS84".
_SUFFIXES = ("坐标系", "坐标")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_BD_PI = np.pi * 3000.0 / 180.0
_MAX_ITERATIONS = 30
_TOLERANCE_DEG = 1e-11  # about 1 micrometre


def normalize_crs(crs: Any, *, search_names: bool = True) -> str:
    """Return pilotzone's canonical name for a coordinate system.

    Parameters
    ----------
    crs : str, int or pyproj.CRS
        ``"wgs84"``, ``"gcj02"``, ``"bd09"``, ``"cgcs2000"`` (case, hyphens,
        spaces and underscores ignored; common aliases such as ``"GCJ-02"``,
        ``"gaode"`` or ``"baidu"`` accepted), or anything
        :func:`pyproj.CRS.from_user_input` accepts.
    search_names : bool, default True
        Let PROJ search its database for a coordinate system by name (such as
        ``"WGS 84 / UTM zone 50N"``). A search costs up to a second, so values
        read from untrusted files are normalised with ``False``: then only the
        aliases above, ``"AUTHORITY:CODE"`` strings, bare EPSG numbers, WKT,
        PROJ strings and pyproj objects are accepted.

    Returns
    -------
    str
        One of :data:`NAMED_CRS`, or an authority string such as
        ``"EPSG:32650"`` (WKT where the CRS has no authority code).

    Raises
    ------
    CRSError
        If ``crs`` is missing or not a coordinate system, or one whose points
        are not 2D positions on the map: geocentric, vertical, geographic 3D,
        compound and engineering systems are refused. The message lists the
        accepted names.
    """
    if crs is None or (isinstance(crs, float) and np.isnan(crs)):
        raise CRSError(_unknown_message(crs, Reason("crs_none")))
    if isinstance(crs, str):
        folded = unicodedata.normalize("NFKC", crs)  # full-width letters and signs as ASCII
        key = _alias_key(folded)
        if key in _ALIASES and not _SIGNED_NUMBER.search(folded):  # "EPSG:-4326" is no alias
            return _ALIASES[key]
        if not key:
            raise CRSError(_unknown_message(crs, Reason("crs_empty")))
        if not search_names and not _NOT_A_NAME.match(crs.strip()):
            raise CRSError(_unknown_message(crs, Reason("crs_not_name")))
    return _normalize_pyproj(crs)


def _alias_key(text: str) -> str:
    """The key of a spelling (NFKC) in :data:`_ALIASES`: lower case, no ``-_ :``, no 坐标(系)."""
    key = "".join(ch for ch in text.lower() if ch not in "-_ :")
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and key[: -len(suffix)] in _ALIASES:
            return key[: -len(suffix)]
    return key


#: Coordinate-system text PROJ parses without searching its database by name.
_NOT_A_NAME = re.compile(
    r"^(?:[A-Za-z]+:\d+|\d+|urn:ogc:def:crs:\S+|\+proj=.*|[A-Z]+(?:CRS)?\[.*)$", re.DOTALL
)
#: A number with a sign that does not join two words (the "-" of "EPSG:-4326", not of "GCJ-02").
_SIGNED_NUMBER = re.compile(r"(?:^|[^0-9A-Za-z])[-+]\s*\d")
#: How many coordinate systems, and transformers between two of them, are kept once built.
_CACHE_SIZE = 256


def _normalize_pyproj(crs: Any) -> str:
    if isinstance(crs, str | int) and not isinstance(crs, bool):
        return _normalize_value(crs)
    return _normalize_parsed(crs)


@lru_cache(maxsize=_CACHE_SIZE)
def _normalize_value(crs: str | int) -> str:
    """:func:`_normalize_parsed` once per distinct text or code: parsing one costs ~20 ms."""
    return _normalize_parsed(crs)


def _normalize_parsed(crs: Any) -> str:
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as error:
        raise CRSError(_unknown_message(crs, str(error).split("\n")[0])) from None
    horizontal = parsed.is_geographic or parsed.is_projected
    if parsed.is_compound or len(parsed.axis_info) != 2 or not horizontal:
        raise CRSError(
            _unknown_message(
                crs,
                f"it is a {parsed.type_name}; pilotzone takes 2D longitude/latitude (geographic) "
                "or easting/northing (projected) coordinates, not geocentric, vertical, 3D, "
                "compound or engineering ones",
            )
        )
    code = parsed.to_epsg(min_confidence=90)
    if code == 4326:
        return "wgs84"
    if code == 4490:
        return "cgcs2000"
    authority = parsed.to_authority(min_confidence=90)
    return f"{authority[0]}:{authority[1]}" if authority else parsed.to_wkt()


def _unknown_message(crs: Any, why: str) -> Reason:
    by_system = "; ".join(
        f"{name}: {', '.join(repr(a) for a, n in _ALIASES.items() if n == name and a != name)}"
        for name in NAMED_CRS
    )
    names = ", ".join(repr(n) for n in NAMED_CRS)
    return Reason("crs_unknown", {"crs": crs, "why": why, "names": names, "by_system": by_system})


def is_lonlat(crs: Any) -> bool:
    """Tell whether a coordinate system's axes are longitude and latitude in degrees."""
    name = normalize_crs(crs)
    return name in NAMED_CRS or _parsed(name).is_geographic


@lru_cache(maxsize=_CACHE_SIZE)
def _parsed(name: str) -> pyproj.CRS:
    """The pyproj CRS of a normalised name, built once."""
    return pyproj.CRS.from_user_input(name)


def to_wgs84(
    x: ArrayLike, y: ArrayLike, crs: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert coordinates to WGS-84 longitude/latitude.

    Parameters
    ----------
    x, y : array_like
        Coordinates in ``crs``, x first: longitude and latitude for the
        geographic systems, easting and northing for projected ones.
    crs : str, int or pyproj.CRS
        The coordinate system of ``x, y``; see :func:`normalize_crs`. Required.

    Returns
    -------
    lon, lat : ndarray of float64
        WGS-84 degrees. NaN in, NaN out; coordinates PROJ cannot transform, or
        transforms to a longitude or latitude out of range (off the globe), come
        out as ``inf``.

    Examples
    --------
    >>> lon, lat = to_wgs84([121.5065], [31.2450], crs="gcj02")
    >>> round(float(lon[0]), 4), round(float(lat[0]), 4)
    (121.502, 31.2469)
    """
    name = normalize_crs(crs)
    x_arr, y_arr = _as_float_arrays(x, y)
    if name in ("wgs84", "cgcs2000"):
        return x_arr.copy(), y_arr.copy()
    if name == "gcj02":
        return _gcj02_to_wgs84(x_arr, y_arr)
    if name == "bd09":
        return _gcj02_to_wgs84(*_bd09_to_gcj02(x_arr, y_arr))
    lon, lat = _transformer(name, "EPSG:4326").transform(x_arr, y_arr)
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    # PROJ returns inf where it cannot transform, but a finite answer off the globe where a
    # projection is inverted far outside its area (+over, +lon_wrap): both are no position.
    with np.errstate(invalid="ignore"):
        off_globe = (np.abs(lon) > 180.0) | (np.abs(lat) > 90.0)
    lon[off_globe] = lat[off_globe] = np.inf
    return lon, lat


def from_wgs84(
    lon: ArrayLike, lat: ArrayLike, crs: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS-84 longitude/latitude into another coordinate system.

    Parameters
    ----------
    lon, lat : array_like
        WGS-84 degrees, longitude first.
    crs : str, int or pyproj.CRS
        The target system; see :func:`normalize_crs`.

    Returns
    -------
    x, y : ndarray of float64
        Coordinates in ``crs``, x (longitude or easting) first.
    """
    name = normalize_crs(crs)
    lon_arr, lat_arr = _as_float_arrays(lon, lat)
    if name in ("wgs84", "cgcs2000"):
        return lon_arr.copy(), lat_arr.copy()
    if name == "gcj02":
        return _wgs84_to_gcj02(lon_arr, lat_arr)
    if name == "bd09":
        return _gcj02_to_bd09(*_wgs84_to_gcj02(lon_arr, lat_arr))
    x, y = _transformer("EPSG:4326", name).transform(lon_arr, lat_arr)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def geometry_from_wgs84(geometry: Any, crs: Any) -> Any:
    """Convert shapely geometries from WGS-84 into ``crs``, vertex by vertex.

    Straight edges are not curved to follow the conversion: segmentize long
    edges first where that matters (GCJ-02's offset bends a 10 km edge by a few
    metres, a 500 m edge by under a centimetre).
    """
    return shapely.transform(
        geometry, lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], crs))
    )


def _as_float_arrays(x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x_arr = np.asarray(x, dtype=np.float64)
    y_arr = np.asarray(y, dtype=np.float64)
    if x_arr.shape != y_arr.shape:
        raise ValueError(f"x and y differ in shape: {x_arr.shape} and {y_arr.shape}")
    return x_arr, y_arr


@lru_cache(maxsize=_CACHE_SIZE)
def _transformer(source: str, target: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def _outside_china(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    return ~((lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271))


def _gcj02_offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 minus WGS-84, in degrees, at WGS-84 ``lon, lat`` (zero outside China).

    The published formula's sines of x = lon - 105 at 6, 2, 1, 1/3, 1/12 and 1/30 times
    pi, and of y = lat - 35 at 1, 1/3, 1/12 and 1/30 times pi, with the sine and cosine of
    the latitude; the multiple angles come from the third ones by the triple- and
    double-angle identities (a few units in the last place apart), and the cosine of the
    latitude from its sine: 8 transcendental functions per point where the formula has 12,
    which is most of the cost of converting a filing from GCJ-02 or BD-09.
    """
    x = lon - 105.0
    y = lat - 35.0
    third = x * (np.pi / 3.0)
    s3, c3 = np.sin(third), np.cos(third)  # of pi x / 3
    s1 = s3 * (3.0 - 4.0 * s3 * s3)  # sin(pi x)
    c1 = c3 * (4.0 * c3 * c3 - 3.0)  # cos(pi x)
    s2 = 2.0 * s1 * c1  # sin(2 pi x)
    s6 = s2 * (3.0 - 4.0 * s2 * s2)  # sin(6 pi x)
    y3 = np.sin(y * (np.pi / 3.0))
    y1 = y3 * (3.0 - 4.0 * y3 * y3)  # sin(pi y)
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * s6 + 20.0 * s2) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * y1 + 40.0 * y3) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y * (np.pi / 12.0)) + 320.0 * np.sin(y * (np.pi / 30.0))) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * s1 + 40.0 * s3) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x * (np.pi / 12.0)) + 300.0 * np.sin(x * (np.pi / 30.0))) * 2.0 / 3.0
    sin_lat = np.sin(np.radians(lat))
    magic = 1.0 - _EE * sin_lat * sin_lat
    sqrt_magic = np.sqrt(magic)
    cos_lat = np.sqrt(1.0 - sin_lat * sin_lat)  # |lat| <= 90: the cosine is not negative
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * cos_lat * np.pi)
    outside = _outside_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _wgs84_to_gcj02(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj02_to_wgs84(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Invert :func:`_wgs84_to_gcj02` by fixed-point iteration (converges in 3-6 steps)."""
    return _invert(_wgs84_to_gcj02, lon, lat, lon, lat)


def _gcj02_to_bd09(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Baidu's published approximate inverse, refined by iteration to be exact."""
    x = lon - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_PI)
    return _invert(_gcj02_to_bd09, lon, lat, z * np.cos(theta), z * np.sin(theta))


def _invert(
    forward: Any,
    target_x: NDArray[np.float64],
    target_y: NDArray[np.float64],
    guess_x: NDArray[np.float64],
    guess_y: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve ``forward(x, y) == target`` starting from a guess, point by point.

    The offsets are smooth and change by far less than one part in a thousand
    per degree, so the fixed-point step ``p -= forward(p) - target`` contracts
    fast. Each point stops as soon as its own step is below the tolerance, so
    its answer never depends on the other points in the batch. Non-finite
    inputs stay non-finite.
    """
    x = np.array(guess_x, dtype=np.float64, copy=True, ndmin=1)
    y = np.array(guess_y, dtype=np.float64, copy=True, ndmin=1)
    tx = np.broadcast_to(np.asarray(target_x, dtype=np.float64), x.shape).ravel()
    ty = np.broadcast_to(np.asarray(target_y, dtype=np.float64), y.shape).ravel()
    flat_x, flat_y = x.ravel(), y.ravel()
    active = np.flatnonzero(np.isfinite(flat_x) & np.isfinite(flat_y))
    for _ in range(_MAX_ITERATIONS):
        if not active.size:
            break
        fx, fy = forward(flat_x[active], flat_y[active])
        ex = fx - tx[active]
        ey = fy - ty[active]
        flat_x[active] -= ex
        flat_y[active] -= ey
        active = active[(np.abs(ex) >= _TOLERANCE_DEG) | (np.abs(ey) >= _TOLERANCE_DEG)]
    shape = np.shape(guess_x)
    return flat_x.reshape(shape), flat_y.reshape(shape)
