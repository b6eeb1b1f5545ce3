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
implemented here in numpy, forward and inverse. The inverses are iterative
(Newton's method for GCJ-02): each answer converts forward to the input within
1e-11 degrees (about 1 micrometre), and a round trip from WGS-84 returns its
input to 1e-11 degrees.

Outside China GCJ-02 and BD-09 apply no offset (the convention every public
implementation follows): a point whose WGS-84 coordinates fall outside the box
72.004-137.8347 E, 0.8293-55.8271 N is returned unchanged by the GCJ-02
conversions. Near the box's edges the offset moves some points inside it to
GCJ-02 positions just outside it (up to 0.011 degrees), where a point outside is
not moved: such a position has two WGS-84 answers, and the inverse returns the
one inside China. Nothing here ever assumes a coordinate system: a missing one
is an error.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, NamedTuple

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


#: China's box: longitude min, max, latitude min, max (WGS-84 degrees).
_BOX = (72.004, 137.8347, 0.8293, 55.8271)


def _outside_china(
    lon: NDArray[np.float64], lat: NDArray[np.float64], margin: float = 0.0
) -> NDArray[np.bool_]:
    """Where the points are outside China's box (widened by ``margin`` degrees); NaN is outside."""
    inside = (lon >= _BOX[0] - margin) & (lon <= _BOX[1] + margin)
    inside &= (lat >= _BOX[2] - margin) & (lat <= _BOX[3] + margin)
    return ~inside


# The GCJ-02 offset takes the sines of x = lon - 105 at 6, 2, 1, 1/3, 1/12 and 1/30 times
# pi, and of y = lat - 35 at 1, 1/3, 1/12 and 1/30 times pi, with the sine and cosine of the
# latitude; its Jacobian takes their cosines. numpy's sin costs as much as fifteen
# multiplications, so each axis takes one: the sine of a small base angle (pi x / 120, or
# pi y / 180, whose cosine is then the positive square root of 1 - sin^2), the multiples by
# the double-, triple- and addition-angle identities, and the latitude by adding 35 degrees.
# The identities are products of complex numbers c + i s, which multiply an error in the
# base, whether of its angle or of its length, by the multiple, as an error in the angle
# would be: the sines and cosines of the multiples are within 4 times the error np.sin's of
# the same multiple carries from rounding its argument (2.5e-13 for 6 pi x, 4e-14 for pi y
# where np.sin's are 1e-13 and 1.1e-14), a few 1e-17 degrees of offset
# (tests/test_crs.py checks both).
_Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def _double(s: NDArray[np.float64], c: NDArray[np.float64]) -> _Pair:
    """Sine and cosine of twice an angle, from its own: (c + i s) squared."""
    return 2.0 * s * c, (c - s) * (c + s)


def _triple(s: NDArray[np.float64], c: NDArray[np.float64]) -> _Pair:
    """Sine and cosine of three times an angle, from its own: (c + i s) cubed."""
    s2, c2 = s * s, c * c
    return s * (3.0 * c2 - s2), c * (c2 - 3.0 * s2)


def _add(first: _Pair, second: _Pair) -> _Pair:
    """Sine and cosine of the sum of two angles, from theirs: (c1 + i s1)(c2 + i s2)."""
    return first[0] * second[1] + first[1] * second[0], first[1] * second[1] - first[0] * second[0]


def _small_angle(angle: NDArray[np.float64]) -> _Pair:
    """Sine and cosine of an angle of at most pi/2 in size (its cosine is not negative)."""
    s = np.sin(angle)
    return s, np.sqrt((1.0 - s) * (1.0 + s))


class _Gcj02Terms(NamedTuple):
    """What the GCJ-02 offset and its Jacobian at WGS-84 ``lon, lat`` are made of.

    ``t_lon, t_lat`` are the published formula's polynomials (metre-like units),
    ``k_lon, k_lat`` the factors that turn them into degrees at the latitude;
    ``x_angles`` are sin and cos of pi x times 1/30, 1/12, 1/3, 1, 2 and 6,
    ``y_angles`` of pi y times 1/30, 1/12, 1/3 and 1.
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    x_angles: tuple[_Pair, ...]
    y_angles: tuple[_Pair, ...]
    sqrt_abs_x: NDArray[np.float64]
    t_lon: NDArray[np.float64]
    t_lat: NDArray[np.float64]
    k_lon: NDArray[np.float64]
    k_lat: NDArray[np.float64]
    sin_lat: NDArray[np.float64]
    cos_lat: NDArray[np.float64]
    magic: NDArray[np.float64]


_SIN_35, _COS_35 = np.sin(np.radians(35.0)), np.cos(np.radians(35.0))
_K_LON = 180.0 / (_A * np.pi)
_K_LAT = 180.0 / (_A * (1.0 - _EE) * np.pi)


def _gcj02_terms(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> _Gcj02Terms:
    """The parts of the GCJ-02 offset at ``lon, lat`` (the formula, without China's box)."""
    x = lon - 105.0
    y = lat - 35.0
    a1 = _small_angle(x * (np.pi / 120.0))  # |x| < 33 in China: |angle| < 0.87
    a4 = _double(*_double(*a1))  # pi x / 30
    a10 = _double(*_add(a4, a1))  # pi x / 12
    a40 = _double(*_double(*a10))  # pi x / 3
    a120 = _triple(*a40)  # pi x
    a240 = _double(*a120)  # 2 pi x
    a720 = _triple(*a240)  # 6 pi x
    b1 = _small_angle(y * (np.pi / 180.0))  # the latitude's radians minus 35 degrees'
    b3 = _triple(*b1)
    b6 = _double(*b3)  # pi y / 30
    b15 = _add(_double(*b6), b3)  # pi y / 12
    b60 = _double(*_double(*b15))  # pi y / 3
    b180 = _triple(*b60)  # pi y
    sqrt_abs_x = np.sqrt(np.abs(x))
    # The published polynomials, -100 + 2x + 3y + 0.2y^2 + 0.1xy + 0.2 sqrt|x| and
    # 300 + x + 2y + 0.1x^2 + 0.1xy + 0.1 sqrt|x|, plus 2/3 of their sine terms.
    common = 40.0 / 3.0 * (a720[0] + a240[0])  # (20 sin 6 pi x + 20 sin 2 pi x) 2/3
    t_lat = (0.1 * y + 2.0) * x + (0.2 * y + 3.0) * y + 0.2 * sqrt_abs_x + common - 100.0
    t_lat += 40.0 / 3.0 * b180[0] + 80.0 / 3.0 * b60[0] + 320.0 / 3.0 * b15[0]
    t_lat += 640.0 / 3.0 * b6[0]
    t_lon = (0.1 * x + 0.1 * y + 1.0) * x + 2.0 * y + 0.1 * sqrt_abs_x + common + 300.0
    t_lon += 40.0 / 3.0 * a120[0] + 80.0 / 3.0 * a40[0] + 100.0 * a10[0] + 200.0 * a4[0]
    sin_lat = b1[0] * _COS_35 + b1[1] * _SIN_35
    cos_lat = b1[1] * _COS_35 - b1[0] * _SIN_35
    magic = 1.0 - _EE * sin_lat * sin_lat
    sqrt_magic = np.sqrt(magic)
    return _Gcj02Terms(
        x=x,
        y=y,
        x_angles=(a4, a10, a40, a120, a240, a720),
        y_angles=(b6, b15, b60, b180),
        sqrt_abs_x=sqrt_abs_x,
        t_lon=t_lon,
        t_lat=t_lat,
        k_lon=_K_LON * sqrt_magic / cos_lat,
        k_lat=_K_LAT * magic * sqrt_magic,
        sin_lat=sin_lat,
        cos_lat=cos_lat,
        magic=magic,
    )


def _gcj02_offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 minus WGS-84, in degrees, at WGS-84 ``lon, lat`` (zero outside China)."""
    outside = _outside_china(lon, lat)
    dlon, dlat = _china_offset(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _china_offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The GCJ-02 formula's offset in degrees without China's box (|lon - 105| < 60, lat > -55)."""
    terms = _gcj02_terms(lon, lat)
    return terms.t_lon * terms.k_lon, terms.t_lat * terms.k_lat


def _china_offset_jacobian(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[NDArray[np.float64], ...]]:
    """:func:`_china_offset` and its Jacobian: d dlon / d (lon, lat), d dlat / d (lon, lat).

    At x = lon - 105 = 0 the derivative of sqrt|x|, and so d/d lon, is infinite.
    """
    t = _gcj02_terms(lon, lat)
    x, y = t.x, t.y
    (a4, a10, a40, a120, a240, a720), (b6, b15, b60, b180) = t.x_angles, t.y_angles
    with np.errstate(divide="ignore"):
        d_sqrt = np.copysign(0.5, x) / t.sqrt_abs_x  # d sqrt|x| / dx
    # The derivatives of :func:`_gcj02_terms`' polynomials and sine terms; pi times the
    # multiple times 2/3 of each coefficient is folded into one constant.
    d_common = 80.0 * np.pi * a720[1] + 80.0 * np.pi / 3.0 * a240[1]
    dt_lat_dx = 0.1 * y + 0.2 * d_sqrt + d_common + 2.0
    dt_lat_dy = 0.4 * y + 0.1 * x + 40.0 * np.pi / 3.0 * b180[1] + 80.0 * np.pi / 9.0 * b60[1]
    dt_lat_dy += 80.0 * np.pi / 9.0 * b15[1] + 64.0 * np.pi / 9.0 * b6[1] + 3.0
    dt_lon_dx = 0.2 * x + 0.1 * y + 0.1 * d_sqrt + d_common + 1.0
    dt_lon_dx += 40.0 * np.pi / 3.0 * a120[1] + 80.0 * np.pi / 9.0 * a40[1]
    dt_lon_dx += 25.0 * np.pi / 3.0 * a10[1] + 20.0 * np.pi / 3.0 * a4[1]
    dt_lon_dy = 0.1 * x + 2.0
    # d ln k / d lat: k_lat = c magic^1.5, k_lon = c magic^0.5 / cos(lat), and
    # d magic / d lat = -2 ee sin cos (per radian), 180 / pi degrees to the radian.
    ee_sin_cos = _EE * t.sin_lat * t.cos_lat / t.magic
    dk_lat = t.k_lat * ee_sin_cos * (-3.0 * np.pi / 180.0)
    dk_lon = t.k_lon * (t.sin_lat / t.cos_lat - ee_sin_cos) * (np.pi / 180.0)
    jacobian = (
        t.k_lon * dt_lon_dx,
        t.k_lon * dt_lon_dy + t.t_lon * dk_lon,
        t.k_lat * dt_lat_dx,
        t.k_lat * dt_lat_dy + t.t_lat * dk_lat,
    )
    return t.t_lon * t.k_lon, t.t_lat * t.k_lat, jacobian


def _wgs84_to_gcj02(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def _china_to_gcj02(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`_wgs84_to_gcj02` ignoring China's box: the smooth map the inverse solves."""
    dlon, dlat = _china_offset(lon, lat)
    return lon + dlon, lat + dlat


def _china_to_gcj02_jacobian(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[NDArray[np.float64], ...]]:
    """:func:`_china_to_gcj02` and the Jacobian of its offset (:func:`_china_offset_jacobian`)."""
    dlon, dlat, jacobian = _china_offset_jacobian(lon, lat)
    return lon + dlon, lat + dlat, jacobian


#: Degrees beyond China's box within which a GCJ-02 point may come from a point inside it
#: (the offset is at most 0.011 degrees).
_MARGIN = 0.05


def _gcj02_to_wgs84(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Invert :func:`_wgs84_to_gcj02` by Newton's method (3 evaluations, 2 with the Jacobian).

    The inverse solves the formula without China's box, then applies the box: a
    target whose solution is inside the box gets it (also a target just outside
    the box that a point inside it moves to: both are answers, and the one in
    China is preferred; a solution a hair outside the box's edge whose point on
    the edge is a solution too is moved there). Any other target outside the box is returned
    unchanged, like the forward conversion. A target inside the box that no
    point moves to (a sliver along the box's edges as wide as the offset) gets
    the formula's solution, just outside the box.
    """
    flat_lon, flat_lat = np.ravel(lon), np.ravel(lat)
    near = ~_outside_china(flat_lon, flat_lat, _MARGIN)
    guess = flat_lon if near.all() else np.where(near, flat_lon, np.nan)  # far outside: the target
    x, y = _invert(_china_to_gcj02, _china_to_gcj02_jacobian, flat_lon, flat_lat, guess, flat_lat)
    if _outside_china(x, y).any():  # not a filing from China alone: some solution off the box
        _onto_box_edge(x, y, flat_lon, flat_lat)
        unchanged = _outside_china(x, y) & _outside_china(flat_lon, flat_lat)
        x, y = np.where(unchanged, flat_lon, x), np.where(unchanged, flat_lat, y)
    return x.reshape(np.shape(lon)), y.reshape(np.shape(lat))


def _onto_box_edge(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    target_x: NDArray[np.float64],
    target_y: NDArray[np.float64],
) -> None:
    """Move solutions within 1e-9 degrees outside China's box onto its edge, in place.

    Only where the point on the edge is a solution too (its residual under the
    formula is below the tolerance): at the cusp at lon 105 the solution of a
    point on the edge may come out a few 1e-12 degrees across it.
    """
    on_x, on_y = np.clip(x, _BOX[0], _BOX[1]), np.clip(y, _BOX[2], _BOX[3])
    near = 1e-9
    with np.errstate(invalid="ignore"):  # inf - inf
        rows = np.flatnonzero(
            ((x != on_x) | (y != on_y)) & (np.abs(x - on_x) < near) & (np.abs(y - on_y) < near)
        )
    if rows.size:
        fx, fy = _china_to_gcj02(on_x[rows], on_y[rows])
        exact = (np.abs(fx - target_x[rows]) < _TOLERANCE_DEG) & (
            np.abs(fy - target_y[rows]) < _TOLERANCE_DEG
        )
        x[rows[exact]] = on_x[rows[exact]]
        y[rows[exact]] = on_y[rows[exact]]


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
    return _invert(_gcj02_to_bd09, None, lon, lat, z * np.cos(theta), z * np.sin(theta))


#: Evaluations of an inverse that take a Newton step; later ones take fixed-point steps.
_NEWTON_STEPS = 2
#: Points an inverse iterates on together: their arrays stay in the processor's cache.
_BLOCK = 1 << 14
#: The largest entry of an offset's Jacobian for which a Newton step is taken.
_NEWTON_LIMIT = 0.25


def _invert(
    forward: Any,
    forward_jacobian: Any,
    target_x: NDArray[np.float64],
    target_y: NDArray[np.float64],
    guess_x: NDArray[np.float64],
    guess_y: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve ``forward(x, y) == target`` starting from a guess, point by point.

    ``forward`` is the identity plus a small offset. ``forward_jacobian``, if
    not None, returns ``forward``'s value and the Jacobian of the offset (its
    entries ``d offset_x / dx, d offset_x / dy, d offset_y / dx, d offset_y /
    dy``); the first :data:`_NEWTON_STEPS` evaluations then take Newton's step
    ``p -= J(p)^-1 (forward(p) - target)``, which squares the error (6e-3
    degrees, 1e-6, 1e-14 for GCJ-02). Every other step, and a Newton step where
    an entry of the offset's Jacobian exceeds :data:`_NEWTON_LIMIT` (within a
    micrometre of GCJ-02's sqrt|x| cusp at lon 105, or a bad value), is the
    fixed-point step ``p -= forward(p) - target``: the offsets change by far less
    than their own size per degree, so it contracts too, by a factor of about 300.

    Each point stops at the first evaluation where its own residual
    ``r = forward(p) - target`` is below :data:`_TOLERANCE_DEG` in both axes,
    and takes that evaluation's step ``s`` as its last, so its answer never
    depends on the other points in the batch. The answer's residual is then
    ``offset(p - s) - offset(p)``: about ``J s``, a few percent of ``|s|`` at
    most, or at GCJ-02's cusp up to 0.2 sqrt|s| in the formula's units (6e-12
    degrees), so it is below the tolerance too. Non-finite inputs stay non-finite. The
    points are solved in blocks that stay in the processor's cache; while every
    point of a block is still iterating they are updated in place, without
    indexing.
    """
    shape = np.shape(guess_x)
    x = np.array(guess_x, dtype=np.float64, copy=True, ndmin=1).ravel()
    y = np.array(guess_y, dtype=np.float64, copy=True, ndmin=1).ravel()
    tx = np.broadcast_to(np.asarray(target_x, dtype=np.float64), shape).ravel()
    ty = np.broadcast_to(np.asarray(target_y, dtype=np.float64), shape).ravel()
    for start in range(0, x.size, _BLOCK):
        block = slice(start, start + _BLOCK)
        _refine(forward, forward_jacobian, x[block], y[block], tx[block], ty[block])
    return x.reshape(shape), y.reshape(shape)


def _refine(
    forward: Any,
    forward_jacobian: Any,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    tx: NDArray[np.float64],
    ty: NDArray[np.float64],
) -> None:
    """:func:`_invert`'s iteration on one block of points, in place."""
    finite = np.isfinite(x) & np.isfinite(y)
    rows = None if finite.all() else np.flatnonzero(finite)  # None: every point
    for step in range(_MAX_ITERATIONS):
        if rows is None:
            px, py, qx, qy = x, y, tx, ty
        elif rows.size:
            px, py, qx, qy = x[rows], y[rows], tx[rows], ty[rows]
        else:
            return
        jacobian = None
        if forward_jacobian is not None and step < _NEWTON_STEPS:
            rx, ry, jacobian = forward_jacobian(px, py)
        else:
            rx, ry = forward(px, py)
        rx -= qx
        ry -= qy
        going = (np.abs(rx) >= _TOLERANCE_DEG) | (np.abs(ry) >= _TOLERANCE_DEG)
        if jacobian is not None:
            rx, ry = _newton_step(rx, ry, jacobian)
        if rows is None:
            x -= rx
            y -= ry
            if not going.all():
                rows = np.flatnonzero(going)
        else:
            x[rows] -= rx
            y[rows] -= ry
            rows = rows[going]


def _newton_step(
    rx: NDArray[np.float64], ry: NDArray[np.float64], jacobian: tuple[NDArray[np.float64], ...]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve ``(I + J) step = r`` (Cramer's rule); the step ``r`` where J is not tame.

    Only the x-derivatives are checked: the offsets' y-derivatives are bounded.
    """
    a, b, c, d = jacobian
    tame = (np.abs(a) <= _NEWTON_LIMIT) & (np.abs(c) <= _NEWTON_LIMIT)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # only where not tame
        a = a + 1.0
        d = d + 1.0
        det = a * d - b * c
        sx = (d * rx - b * ry) / det
        sy = (a * ry - c * rx) / det
    return np.where(tame, sx, rx), np.where(tame, sy, ry)
