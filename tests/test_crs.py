"""Tests for pilotzone.crs: named systems, GCJ-02 / BD-09, and pyproj systems.

GCJ-02 and BD-09 have no EPSG code and PROJ cannot convert them, so pilotzone
implements them itself. They are checked here against two independent public
implementations installed with the ``test`` extra:

- ``prcoords`` (PRCoords, CC0/GPLv3): ``wgs_gcj``, ``wgs_bd`` forward and the
  iterative ("bored") inverses ``gcj_wgs_bored`` and ``bd_wgs_bored``. Its
  tuples are ``(lat, lon)``.
- ``coordTransform`` (coordtransform on PyPI): ``wgs84_to_gcj02(lng, lat)``
  and friends, ``(lon, lat)`` order. Its ``gcj02_to_wgs84`` is the one-step
  approximation, metres off, which is why pilotzone iterates.

Distances between two conversions are geodesic metres (``pyproj.Geod``), never
degrees. Offline and deterministic.
"""

from __future__ import annotations

import warnings
from typing import Any

import coordTransform
import numpy as np
import prcoords
import pyproj
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from shapely.geometry import Polygon

from pilotzone import CRSError
from pilotzone import crs as crs_module
from pilotzone.crs import (
    NAMED_CRS,
    from_wgs84,
    geometry_from_wgs84,
    is_lonlat,
    normalize_crs,
    to_wgs84,
)

GEOD = pyproj.Geod(ellps="WGS84")
CM = 0.01

# WGS-84 positions of the four pilot cities' centres.
PILOT_CITIES = {
    "Beijing, Tiananmen": (116.3975, 39.9087),
    "Shanghai, Lujiazui": (121.4997, 31.2397),
    "Haikou": (110.3312, 20.0311),
    "Shenzhen, Futian": (114.0550, 22.5410),
}
# coordTransform applies its offsets only strictly inside 73.66-135.05 E, 3.86-53.55 N, a
# smaller box than pilotzone's and prcoords' (72.004-137.8347 E, 0.8293-55.8271 N); the
# grid keeps to points all three treat as China.
_LON, _LAT = np.meshgrid(np.arange(73.0, 135.001, 0.5), np.arange(18.0, 53.001, 0.5))
_IN_BOTH = (_LON > 73.66) & (_LON < 135.05) & (_LAT > 3.86) & (_LAT < 53.55)
GRID_LON = np.concatenate([_LON[_IN_BOTH], [p[0] for p in PILOT_CITIES.values()]])
GRID_LAT = np.concatenate([_LAT[_IN_BOTH], [p[1] for p in PILOT_CITIES.values()]])


def metres(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> NDArray[np.float64]:
    """Geodesic distance in metres between two sets of WGS-84-like lon/lat points."""
    lon1, lat1, lon2, lat2 = (
        np.broadcast_to(np.asarray(a, dtype=float), np.shape(lon1))
        for a in (lon1, lat1, lon2, lat2)
    )
    _, _, distance = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(distance)


def prcoords_lonlat(
    function: Any, lon: NDArray[np.float64], lat: NDArray[np.float64], **kwargs: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Apply a prcoords function (which takes and returns (lat, lon)) to lon/lat arrays."""
    out = np.array(
        [function((float(b), float(a)), **kwargs) for a, b in zip(lon, lat, strict=True)]
    )
    return out[:, 1], out[:, 0]


def coordtransform_lonlat(
    function: Any, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Apply a coordTransform function point by point (its pure-Python scalar path)."""
    out = np.array([function(float(a), float(b)) for a, b in zip(lon, lat, strict=True)])
    return out[:, 0], out[:, 1]


@pytest.fixture
def exact_prcoords(monkeypatch: pytest.MonkeyPatch) -> Any:
    """prcoords with its iterative inverses run to convergence.

    prcoords stops iterating once a correction step is under ``PRC_EPS`` = 1e-5
    degrees (about 1 m), which leaves its own BD-09 inverse up to 1.7 cm from a
    point whose forward conversion returns the input: too coarse for a 1 cm
    oracle. Its algorithm is unchanged; only the stopping tolerance is tightened.
    """
    monkeypatch.setattr(prcoords, "PRC_EPS", 1e-12)
    return prcoords


# --------------------------------------------------------------------------- normalize_crs


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("wgs84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("wgs_84", "wgs84"),
        (" WGS 84 ", "wgs84"),
        ("GPS", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("epsg:4326", "wgs84"),
        (4326, "wgs84"),
        (pyproj.CRS.from_epsg(4326), "wgs84"),
        ("cgcs2000", "cgcs2000"),
        ("EPSG:4490", "cgcs2000"),
        (4490, "cgcs2000"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("gaode", "gcj02"),
        ("AMap", "gcj02"),
        ("tencent", "gcj02"),
        ("火星坐标", "gcj02"),
        ("bd09", "bd09"),
        ("BD-09", "bd09"),
        ("bd09ll", "bd09"),
        ("baidu", "bd09"),
        ("百度", "bd09"),
        ("EPSG:32650", "EPSG:32650"),
        (32650, "EPSG:32650"),
        (pyproj.CRS.from_epsg(32650), "EPSG:32650"),
        ("EPSG:4547", "EPSG:4547"),
    ],
)
def test_normalize_crs(given: Any, expected: str) -> None:
    assert normalize_crs(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        None,
        float("nan"),
        "",
        "   ",
        "foo",
        # Baidu's Mercator metres: a different system from BD-09 lon/lat, which pilotzone
        # does not implement. Refusing it beats treating metres as degrees.
        "bd09mc",
        "EPSG:999999",
    ],
)
def test_normalize_crs_refuses_missing_or_unknown(bad: Any) -> None:
    with pytest.raises(
        CRSError, match=r"Use one of 'wgs84', 'cgcs2000', 'gcj02', 'bd09'"
    ) as caught:
        normalize_crs(bad)
    assert isinstance(caught.value, ValueError)  # callers may catch the builtin
    assert "'GCJ-02'" in str(caught.value) and "'baidu'" in str(caught.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("GCJ-02", "gcj02"), ("epsg:4547", "EPSG:4547"), ("4326", "wgs84"),
     ("urn:ogc:def:crs:EPSG::4490", "cgcs2000"), ("+proj=utm +zone=50 +ellps=WGS84", None)],
)  # fmt: skip
def test_normalize_crs_without_name_search_keeps_codes_and_definitions(
    given: str, expected: str | None
) -> None:
    name = normalize_crs(given, search_names=False)
    assert name == (expected or normalize_crs(given))


@pytest.mark.parametrize("name", ["WGS 84 / UTM zone 50N", "Shanghai", "甲公司"])
def test_normalize_crs_without_name_search_refuses_names(name: str) -> None:
    # Untrusted files must not make PROJ search its database (up to a second a value);
    # the same names still resolve when a person passes them as an argument.
    with pytest.raises(CRSError, match="not an alias, 'AUTHORITY:CODE'"):
        normalize_crs(name, search_names=False)
    assert normalize_crs("WGS 84 / UTM zone 50N") == "EPSG:32650"


def test_crs_error_is_a_value_error() -> None:
    assert issubclass(CRSError, ValueError)
    with pytest.raises(ValueError, match="no coordinate system was given"):
        to_wgs84([116.0], [40.0], crs=None)


def test_named_crs() -> None:
    assert NAMED_CRS == ("wgs84", "cgcs2000", "gcj02", "bd09")
    assert all(normalize_crs(name) == name for name in NAMED_CRS)


@pytest.mark.parametrize(
    ("crs", "expected"),
    [
        ("wgs84", True),
        ("cgcs2000", True),
        ("gcj02", True),
        ("bd09", True),
        ("EPSG:4326", True),
        (4490, True),
        ("EPSG:4214", True),  # Beijing 1954, geographic
        ("EPSG:32650", False),  # UTM 50N, metres
        ("EPSG:4547", False),  # CGCS2000 3-degree Gauss-Kruger CM 114E, metres
    ],
)
def test_is_lonlat(crs: Any, expected: bool) -> None:
    assert is_lonlat(crs) is expected


def test_is_lonlat_refuses_unknown() -> None:
    with pytest.raises(CRSError):
        is_lonlat("foo")


# --------------------------------------------------------------------------- GCJ-02 / BD-09 forward


@pytest.mark.parametrize(
    ("target", "prcoords_forward", "coordtransform_forward"),
    [
        ("gcj02", prcoords.wgs_gcj, coordTransform.wgs84_to_gcj02),
        ("bd09", prcoords.wgs_bd, coordTransform.wgs84_to_bd09),
    ],
)
def test_forward_agrees_with_two_implementations(
    target: str, prcoords_forward: Any, coordtransform_forward: Any
) -> None:
    x, y = from_wgs84(GRID_LON, GRID_LAT, target)
    for name, (ox, oy) in {
        "prcoords": prcoords_lonlat(prcoords_forward, GRID_LON, GRID_LAT),
        "coordTransform": coordtransform_lonlat(coordtransform_forward, GRID_LON, GRID_LAT),
    }.items():
        error = metres(x, y, ox, oy)
        assert error.max() < CM, (name, GRID_LON[error.argmax()], GRID_LAT[error.argmax()])


def test_grid_covers_china() -> None:
    assert GRID_LON.size > 8000
    assert GRID_LON.min() <= 74 and GRID_LON.max() >= 135
    assert GRID_LAT.min() == 18.0 and GRID_LAT.max() == 53.0


def test_tiananmen_anchor() -> None:
    # The WGS-84 position of Tiananmen often quoted with its GCJ-02 twin. The commonly
    # published GCJ-02 figure (116.397511, 39.909005) is about 13 m south of what the
    # algorithm gives; both oracles agree with the digits below, which are used instead.
    lon, lat = 116.391275, 39.907723
    gx, gy = from_wgs84([lon], [lat], "gcj02")
    assert gx[0] == pytest.approx(116.3975162, abs=1e-7)
    assert gy[0] == pytest.approx(39.9091243, abs=1e-7)
    p_lat, p_lon = prcoords.wgs_gcj((lat, lon))
    c_lon, c_lat = coordTransform.wgs84_to_gcj02(lon, lat)
    assert metres(gx, gy, p_lon, p_lat)[0] < CM
    assert metres(gx, gy, c_lon, c_lat)[0] < CM
    # the published pair is within ~15 m: same place, coarser figures
    assert metres(gx, gy, 116.397511, 39.909005)[0] < 15
    wx, wy = to_wgs84(gx, gy, "gcj02")
    assert metres(wx, wy, lon, lat)[0] < 1e-6


@pytest.mark.parametrize(
    ("name", "lon", "lat"),
    [(k, *v) for k, v in PILOT_CITIES.items()]
    + [
        ("Shenzhen, Shenzhen Bay", 114.0579, 22.5431),
        ("Shanghai, People's Square", 121.4737, 31.2304),
    ],
)
def test_offset_in_pilot_cities_is_hundreds_of_metres(name: str, lon: float, lat: float) -> None:
    gx, gy = from_wgs84([lon], [lat], "gcj02")
    assert 100 < metres(gx, gy, lon, lat)[0] < 700, name
    bx, by = from_wgs84([lon], [lat], "bd09")  # Baidu adds roughly another 0.006 degrees
    assert 100 < metres(bx, by, gx, gy)[0] < 1000, name


def test_offset_is_under_700_m_across_china() -> None:
    gx, gy = from_wgs84(GRID_LON, GRID_LAT, "gcj02")
    offset = metres(gx, gy, GRID_LON, GRID_LAT)
    assert offset.max() < 700
    # Not 100 m everywhere: the shift shrinks to about 40 m in Qinghai (96.5 E, 37 N).
    assert offset.min() > 30


# --------------------------------------------------------------------------- inverses


@pytest.mark.parametrize(
    ("source", "oracle"), [("gcj02", "gcj_wgs_bored"), ("bd09", "bd_wgs_bored")]
)
def test_inverse_agrees_with_iterative_oracle(
    source: str, oracle: str, exact_prcoords: Any
) -> None:
    x, y = from_wgs84(GRID_LON, GRID_LAT, source)
    lon, lat = to_wgs84(x, y, source)
    o_lon, o_lat = prcoords_lonlat(getattr(exact_prcoords, oracle), x, y)
    error = metres(lon, lat, o_lon, o_lat)
    assert error.max() < CM, (GRID_LON[error.argmax()], GRID_LAT[error.argmax()])


def test_one_step_inverse_is_materially_worse() -> None:
    """coordTransform's gcj02_to_wgs84 subtracts the offset once: metres off, not millimetres."""
    gx, gy = from_wgs84(GRID_LON, GRID_LAT, "gcj02")
    lon, lat = to_wgs84(gx, gy, "gcj02")
    a_lon, a_lat = coordtransform_lonlat(coordTransform.gcj02_to_wgs84, gx, gy)
    approximation_error = metres(a_lon, a_lat, GRID_LON, GRID_LAT)
    assert approximation_error.max() > 0.5  # so the exact inverse makes a difference
    assert approximation_error.max() < 5.0
    assert metres(lon, lat, GRID_LON, GRID_LAT).max() < 1e-4  # ours: sub-millimetre


lons = st.floats(min_value=73.0, max_value=135.0, allow_nan=False)
lats = st.floats(min_value=18.0, max_value=53.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    points=st.lists(st.tuples(lons, lats), min_size=1, max_size=20),
    system=st.sampled_from(["gcj02", "bd09"]),
)
def test_round_trip(points: list[tuple[float, float]], system: str) -> None:
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    x, y = from_wgs84(lon, lat, system)
    back_lon, back_lat = to_wgs84(x, y, system)
    assert np.abs(back_lon - lon).max() < 1e-9
    assert np.abs(back_lat - lat).max() < 1e-9
    assert metres(back_lon, back_lat, lon, lat).max() < CM


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_nan_in_nan_out(system: str) -> None:
    lon = np.array([116.4, np.nan, 121.5, 114.0, np.nan])
    lat = np.array([39.9, 31.2, np.nan, 22.5, np.nan])
    missing = np.isnan(lon) | np.isnan(lat)
    for convert in (from_wgs84, to_wgs84):
        x, y = convert(lon, lat, system)
        assert np.all(np.isnan(x[np.isnan(lon)])) and np.all(np.isnan(y[np.isnan(lat)]))
        assert np.all(np.isnan(x[missing]) | np.isnan(y[missing]))
        # the good points in the same batch are converted as if alone
        for i in np.flatnonzero(~missing):
            alone_x, alone_y = convert(lon[i : i + 1], lat[i : i + 1], system)
            assert metres(x[i], y[i], alone_x[0], alone_y[0]) < 1e-6


OUTSIDE_CHINA = {
    "Tokyo": (139.69, 35.69),
    "London": (-0.1276, 51.5072),
    "Sydney": (151.2093, -33.8688),
    "Seoul": (126.978, 37.5665),  # inside the box: GCJ-02 shifts it, like every implementation
}


@pytest.mark.parametrize(
    ("name", "lon", "lat"), [(k, *v) for k, v in OUTSIDE_CHINA.items() if k != "Seoul"]
)
def test_no_gcj02_offset_outside_china(name: str, lon: float, lat: float) -> None:
    for convert in (from_wgs84, to_wgs84):
        x, y = convert([lon], [lat], "gcj02")
        assert (x[0], y[0]) == (lon, lat), name


@pytest.mark.parametrize(
    ("lon", "lat", "shifted"),
    [
        # The documented box, 72.004-137.8347 E, 0.8293-55.8271 N, edge by edge.
        (72.0039, 40.0, False),
        (72.0041, 40.0, True),
        (137.8346, 40.0, True),
        (137.8348, 40.0, False),
        (110.0, 0.8292, False),
        (110.0, 0.8294, True),
        (110.0, 55.8270, True),
        (110.0, 55.8272, False),
        (126.978, 37.5665, True),  # Seoul is inside the box
    ],
)
def test_china_box(lon: float, lat: float, shifted: bool) -> None:
    x, y = from_wgs84([lon], [lat], "gcj02")
    assert ((x[0], y[0]) != (lon, lat)) is shifted
    p_lat, p_lon = prcoords.wgs_gcj((lat, lon)) if shifted else (lat, lon)
    assert metres(x, y, p_lon, p_lat)[0] < CM


@pytest.mark.parametrize(("name", "lon", "lat"), [(k, *v) for k, v in OUTSIDE_CHINA.items()])
def test_bd09_outside_china_is_baidus_shift_alone(name: str, lon: float, lat: float) -> None:
    # Baidu's own shift has no China test in any implementation: outside the box BD-09 is
    # GCJ-02 (= WGS-84 there) plus Baidu's shift, as both oracles compute it.
    x, y = from_wgs84([lon], [lat], "bd09")
    c_lon, c_lat = coordTransform.wgs84_to_bd09(lon, lat)
    if name != "Seoul":  # coordTransform's box leaves Seoul out; prcoords' keeps it in
        assert metres(x, y, c_lon, c_lat)[0] < CM
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prcoords warns about non-Chinese coordinates
        p_lat, p_lon = prcoords.wgs_bd((lat, lon))
    assert metres(x, y, p_lon, p_lat)[0] < CM
    back_lon, back_lat = to_wgs84(x, y, "bd09")
    assert metres(back_lon, back_lat, lon, lat)[0] < 1e-6


# --------------------------------------------------------------------------- pyproj systems


@pytest.mark.parametrize(
    ("crs", "lon", "lat"),
    [
        ("EPSG:32650", [116.3975, 117.2009, 114.9], [39.9087, 39.0842, 22.3]),  # UTM 50N
        ("EPSG:4547", [114.0550, 113.7518, 114.5], [22.5410, 23.0207, 30.6]),  # CGCS2000 GK CM 114E
        (32650, [116.3975], [39.9087]),
    ],
)
def test_pyproj_systems_agree_with_pyproj(crs: Any, lon: list[float], lat: list[float]) -> None:
    forward = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = from_wgs84(lon, lat, crs)
    ex, ey = forward.transform(lon, lat)
    np.testing.assert_allclose(x, ex, rtol=0, atol=1e-6)
    np.testing.assert_allclose(y, ey, rtol=0, atol=1e-6)
    assert np.all(np.abs(np.asarray(x)) > 1000)  # metres, not degrees
    back_lon, back_lat = to_wgs84(x, y, crs)
    np.testing.assert_allclose(back_lon, lon, rtol=0, atol=1e-9)
    np.testing.assert_allclose(back_lat, lat, rtol=0, atol=1e-9)
    inverse = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    ilon, ilat = inverse.transform(ex, ey)
    np.testing.assert_allclose(to_wgs84(ex, ey, crs)[0], ilon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(to_wgs84(ex, ey, crs)[1], ilat, rtol=0, atol=1e-12)


@pytest.mark.parametrize("crs", ["cgcs2000", "EPSG:4490", "wgs84", "EPSG:4326"])
def test_cgcs2000_and_wgs84_are_identity(crs: str) -> None:
    lon = np.array([116.3975, 121.4997])
    lat = np.array([39.9087, 31.2397])
    for convert in (from_wgs84, to_wgs84):
        x, y = convert(lon, lat, crs)
        np.testing.assert_array_equal(x, lon)
        np.testing.assert_array_equal(y, lat)
        assert x is not lon  # a copy: callers may modify the result


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09", "EPSG:32650"])
def test_shape_mismatch_raises(crs: str) -> None:
    for convert in (from_wgs84, to_wgs84):
        with pytest.raises(ValueError, match="differ in shape"):
            convert([116.0, 117.0], [40.0], crs)


@pytest.mark.parametrize("crs", ["wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:32650"])
def test_list_and_integer_input_give_float64(crs: str) -> None:
    for convert in (from_wgs84, to_wgs84):
        x, y = convert([116, 117], [40, 39], crs)
        assert isinstance(x, np.ndarray) and x.dtype == np.float64 and x.shape == (2,)
        assert isinstance(y, np.ndarray) and y.dtype == np.float64 and y.shape == (2,)


@pytest.mark.parametrize("crs", ["wgs84", "cgcs2000", "EPSG:32650"])
def test_scalar_input_pyproj_and_identity(crs: str) -> None:
    x, y = from_wgs84(116.3975, 39.9087, crs)
    assert np.shape(x) == () and np.asarray(x).dtype == np.float64
    lon, lat = to_wgs84(x, y, crs)
    assert float(lon) == pytest.approx(116.3975, abs=1e-9)
    assert float(lat) == pytest.approx(39.9087, abs=1e-9)


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_scalar_input_gcj02_bd09(crs: str) -> None:
    x, y = from_wgs84(116.3975, 39.9087, crs)
    lon, lat = to_wgs84(x, y, crs)
    assert float(lon) == pytest.approx(116.3975, abs=1e-9)
    assert float(lat) == pytest.approx(39.9087, abs=1e-9)


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_inverse_is_elementwise(system: str) -> None:
    rng = np.random.default_rng(1)
    lon = rng.uniform(73.0, 135.0, 500)
    lat = rng.uniform(18.0, 53.0, 500)
    x, y = from_wgs84(lon, lat, system)
    batch_lon, batch_lat = to_wgs84(x, y, system)
    alone = np.array(
        [np.concatenate(to_wgs84(x[i : i + 1], y[i : i + 1], system)) for i in range(x.size)]
    )
    np.testing.assert_array_equal(batch_lon, alone[:, 0])
    np.testing.assert_array_equal(batch_lat, alone[:, 1])


# --------------------------------------------------------------------------- geometries


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "EPSG:32650"])
def test_geometry_from_wgs84_moves_vertices_like_from_wgs84(crs: str) -> None:
    shell = [(116.30, 39.85), (116.50, 39.85), (116.50, 40.00), (116.30, 40.00), (116.30, 39.85)]
    hole = [(116.38, 39.90), (116.42, 39.90), (116.42, 39.94), (116.38, 39.90)]
    polygon = Polygon(shell, [hole])
    moved = geometry_from_wgs84(polygon, crs)
    assert moved.geom_type == "Polygon" and len(moved.interiors) == 1
    before = shapely.get_coordinates(polygon)
    after = shapely.get_coordinates(moved)
    x, y = from_wgs84(before[:, 0], before[:, 1], crs)
    np.testing.assert_array_equal(after[:, 0], x)
    np.testing.assert_array_equal(after[:, 1], y)
    if crs != "EPSG:32650":
        shift = metres(after[:, 0], after[:, 1], before[:, 0], before[:, 1])
        assert np.all((shift > 100) & (shift < 1500))


def test_geometry_from_wgs84_arrays_and_identity() -> None:
    points = shapely.points([116.3975, 121.4997], [39.9087, 31.2397])
    moved = geometry_from_wgs84(points, "gcj02")
    x, y = from_wgs84([116.3975, 121.4997], [39.9087, 31.2397], "gcj02")
    np.testing.assert_array_equal(shapely.get_x(moved), x)
    np.testing.assert_array_equal(shapely.get_y(moved), y)
    assert shapely.equals_exact(geometry_from_wgs84(points, "wgs84"), points, tolerance=0).all()


@pytest.mark.parametrize(
    ("given", "expected"),
    [("高德坐标", "gcj02"), ("高德", "gcj02"), ("腾讯坐标", "gcj02"), ("腾讯", "gcj02"),
     ("火星坐标", "gcj02"), ("国测局坐标", "gcj02"), ("高德地图坐标系", "gcj02"),
     ("GCJ-02坐标", "gcj02"), ("百度坐标", "bd09"), ("百度", "bd09"), ("百度坐标系", "bd09"),
     ("GPS", "wgs84"), ("GPS坐标", "wgs84"), ("WGS84坐标", "wgs84"), ("WGS-84坐标系", "wgs84"),
     ("ＧＰＳ", "wgs84"), ("2000国家大地坐标系", "cgcs2000"), ("CGCS2000坐标系", "cgcs2000")],
)  # fmt: skip
def test_chinese_spellings_name_their_system(given: str, expected: str) -> None:
    # Read from a filing's crs column (no name search) as well as given by the user (#19).
    assert normalize_crs(given, search_names=False) == expected
    assert normalize_crs(given) == expected


@pytest.mark.parametrize("bad", ["谷歌坐标", "坐标", "百度墨卡托", "北京54坐标"])
def test_an_unknown_spelling_is_refused_with_the_list(bad: str) -> None:
    with pytest.raises(CRSError) as caught:
        normalize_crs(bad, search_names=False)
    text = str(caught.value)
    assert repr(bad) in text
    for name in ("'高德'", "'腾讯'", "'百度'", "'gps'", "'tencent'", "坐标系"):
        assert name in text


# --------------------------------------------------------------------------- GCJ-02 internals (#21)
# The inverse is Newton's method on the offset's analytic Jacobian, and the offset takes one
# np.sin per axis (multiple-angle identities for the rest): checked here against the plain
# published formula, central differences, extended precision and round trips.

BOX = (72.004, 137.8347, 0.8293, 55.8271)  # China's box: lon min, max, lat min, max
box_lons = st.floats(min_value=BOX[0], max_value=BOX[1], allow_nan=False)
box_lats = st.floats(min_value=BOX[2], max_value=BOX[3], allow_nan=False)
near_105 = st.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False).map(lambda d: 105.0 + d)


def plain_gcj02_offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The published GCJ-02 offset written out with one np.sin per term (inside China)."""
    x, y = lon - 105.0, lat - 35.0

    def sin_pi(v: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.sin(v * np.pi)

    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * sin_pi(6.0 * x) + 20.0 * sin_pi(2.0 * x)) * 2.0 / 3.0
    dlat += (20.0 * sin_pi(y) + 40.0 * sin_pi(y / 3.0)) * 2.0 / 3.0
    dlat += (160.0 * sin_pi(y / 12.0) + 320.0 * sin_pi(y / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * sin_pi(6.0 * x) + 20.0 * sin_pi(2.0 * x)) * 2.0 / 3.0
    dlon += (20.0 * sin_pi(x) + 40.0 * sin_pi(x / 3.0)) * 2.0 / 3.0
    dlon += (150.0 * sin_pi(x / 12.0) + 300.0 * sin_pi(x / 30.0)) * 2.0 / 3.0
    a, ee = 6378245.0, 0.00669342162296594323
    rad = lat / 180.0 * np.pi
    magic = 1.0 - ee * np.sin(rad) ** 2
    dlat = dlat * 180.0 / ((a * (1.0 - ee)) / (magic * np.sqrt(magic)) * np.pi)
    dlon = dlon * 180.0 / (a / np.sqrt(magic) * np.cos(rad) * np.pi)
    return dlon, dlat


def random_china(n: int, seed: int = 0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    return rng.uniform(BOX[0], BOX[1], n), rng.uniform(BOX[2], BOX[3], n)


@settings(max_examples=100, deadline=None)
@given(points=st.lists(st.tuples(box_lons | near_105, box_lats), min_size=1, max_size=50))
def test_offset_is_the_published_formula(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    dlon, dlat = crs_module._gcj02_offset(lon, lat)
    plain_lon, plain_lat = plain_gcj02_offset(lon, lat)
    np.testing.assert_allclose(dlon, plain_lon, rtol=0, atol=1e-15)
    np.testing.assert_allclose(dlat, plain_lat, rtol=0, atol=1e-15)


def test_multiple_angles_are_as_exact_as_np_sin() -> None:
    # The identities' sines and cosines of pi x * (1/30 ... 6) and pi y * (1/30 ... 1),
    # against extended precision, within 4 times np.sin's own error on the same multiple
    # (which comes from rounding the argument) plus a few ulps.
    lon, lat = random_china(100_000)
    terms = crs_module._gcj02_terms(lon, lat)
    pi = np.longdouble("3.14159265358979323846264338327950288")
    for d, angles, multiples in (
        (lon - 105.0, terms.x_angles, (1 / 30, 1 / 12, 1 / 3, 1, 2, 6)),
        (lat - 35.0, terms.y_angles, (1 / 30, 1 / 12, 1 / 3, 1)),
    ):
        for (s, c), multiple in zip(angles, multiples, strict=True):
            angle = d.astype(np.longdouble) * pi * np.longdouble(multiple)
            np_sin_error = np.abs(np.sin(d * np.pi * multiple) - np.sin(angle)).max()
            bound = 4.0 * float(np_sin_error) + 1e-15
            assert float(np.abs(s - np.sin(angle)).max()) < bound, multiple
            assert float(np.abs(c - np.cos(angle)).max()) < bound, multiple


@settings(max_examples=100, deadline=None)
@given(lon=box_lons, lat=box_lats)
def test_jacobian_matches_central_differences(lon: float, lat: float) -> None:
    if abs(lon - 105.0) < 0.01:  # sqrt|lon - 105| has a cusp there
        lon += 0.02
    h = 1e-5
    _, _, jacobian = crs_module._china_offset_jacobian(np.array([lon]), np.array([lat]))
    # the offset at lon + h, lon - h (same lat), then at lat + h, lat - h (same lon)
    dlon, dlat = crs_module._china_offset(
        np.array([lon + h, lon - h, lon, lon]), np.array([lat, lat, lat + h, lat - h])
    )
    differences = [
        (dlon[0] - dlon[1]) / (2 * h),  # d dlon / d lon
        (dlon[2] - dlon[3]) / (2 * h),  # d dlon / d lat
        (dlat[0] - dlat[1]) / (2 * h),  # d dlat / d lon
        (dlat[2] - dlat[3]) / (2 * h),  # d dlat / d lat
    ]
    np.testing.assert_allclose(np.concatenate(jacobian), differences, rtol=1e-6, atol=1e-10)


@settings(max_examples=300, deadline=None)
@given(
    points=st.lists(st.tuples(box_lons | near_105, box_lats), min_size=1, max_size=30),
    system=st.sampled_from(["gcj02", "bd09"]),
)
@example(points=[(137.8347, 53.0), (137.833, 55.8271), (105.0, 0.8293), (72.004, 20.0)],
         system="gcj02")  # fmt: skip
@example(points=[(137.8347, 53.0), (105.0, 55.8271), (105.0, 40.0)], system="bd09")
def test_round_trip_is_exact_everywhere_in_china(
    points: list[tuple[float, float]], system: str
) -> None:
    # Up to the box's edges, where a point's GCJ-02 twin may lie just outside the box, and
    # at lon 105, where the offset's sqrt|lon - 105| has a cusp.
    lon, lat = np.array(points).T
    x, y = from_wgs84(lon, lat, system)
    back_lon, back_lat = to_wgs84(x, y, system)
    assert np.abs(back_lon - lon).max() < 1e-11
    assert np.abs(back_lat - lat).max() < 1e-11
    if system == "gcj02":  # the inverse's own promise: the answer converts back to the input
        gx, gy = from_wgs84(back_lon, back_lat, system)
        assert np.abs(gx - x).max() < crs_module._TOLERANCE_DEG
        assert np.abs(gy - y).max() < crs_module._TOLERANCE_DEG


def test_the_inverse_prefers_the_point_inside_the_box() -> None:
    # A GCJ-02 point just outside the box is both itself (outside, not shifted) and the twin
    # of a point inside: the inverse returns the one inside. Far outside: unchanged.
    lon, lat = np.array([137.8340]), np.array([53.0])
    x, y = from_wgs84(lon, lat, "gcj02")
    assert x[0] > BOX[1]  # pushed out of the box
    assert to_wgs84(x, y, "gcj02")[0][0] == pytest.approx(lon[0], abs=1e-11)
    far = to_wgs84([137.9, 150.0], [53.0, 53.0], "gcj02")
    np.testing.assert_array_equal(far[0], [137.9, 150.0])


def test_inverse_takes_three_evaluations(monkeypatch: pytest.MonkeyPatch) -> None:
    # Newton's method: 3 evaluations of the forward conversion (2 of them with the
    # Jacobian) for at least 99% of points; the fixed-point iteration took 5. The points
    # are one batch, so the k-th call evaluates the points that needed k evaluations.
    sizes: list[int] = []

    def counted(function: Any) -> Any:
        def call(*args: Any) -> Any:
            sizes.append(np.size(args[0]))
            return function(*args)

        return call

    original = crs_module._invert

    def invert(*args: Any) -> Any:
        return original(*(counted(a) if callable(a) else a for a in args))

    monkeypatch.setattr(crs_module, "_invert", invert)
    lon, lat = random_china(5000)
    lon[:50] = 105.0 + np.linspace(-1e-6, 1e-6, 50)  # around the cusp
    x, y = from_wgs84(lon, lat, "gcj02")
    to_wgs84(x, y, "gcj02")
    assert sizes[0] == lon.size
    assert len(sizes) <= 3 or sizes[3] <= 0.01 * lon.size, sizes


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_inverse_keeps_shapes_and_non_finite_values(system: str) -> None:
    lon, lat = random_china(12, seed=3)
    lon[[2, 7]] = [np.nan, np.inf]
    lat[[5]] = [-np.inf]
    x, y = from_wgs84(lon, lat, system)
    flat_lon, flat_lat = to_wgs84(x, y, system)
    finite = np.isfinite(flat_lon) & np.isfinite(flat_lat)
    np.testing.assert_array_equal(np.flatnonzero(~finite), [2, 5, 7])
    for order in ("C", "F"):
        grid = to_wgs84(
            np.asarray(x.reshape(3, 4), order=order),
            np.asarray(y.reshape(3, 4), order=order),
            system,
        )
        assert grid[0].shape == grid[1].shape == (3, 4)
        np.testing.assert_array_equal(grid[0].ravel(), flat_lon)
        np.testing.assert_array_equal(grid[1].ravel(), flat_lat)
    one = to_wgs84(x[0], y[0], system)
    assert np.shape(one[0]) == np.shape(one[1]) == ()
    assert (float(one[0]), float(one[1])) == (flat_lon[0], flat_lat[0])


def test_newton_step_solves_where_the_jacobian_is_tame_and_falls_back_elsewhere() -> None:
    # Entries (d offset_x/dx, d offset_x/dy, d offset_y/dx, d offset_y/dy) per point: tame;
    # an x-derivative infinite (at lon 105 exactly); one above the limit (within ~1e-11
    # degrees of lon 105). The last two take the fixed-point step r itself.
    a = np.array([3e-3, np.inf, 0.5])
    b, c, d = np.array([1e-3, 1e-3, 1e-3]), np.array([-2e-3, np.inf, 0.3]), np.full(3, 4e-3)
    rx, ry = np.array([5e-3, 5e-3, 5e-3]), np.array([-2e-3, -2e-3, -2e-3])
    sx, sy = crs_module._newton_step(rx, ry, (a, b, c, d))
    jacobian = np.array([[1 + a[0], b[0]], [c[0], 1 + d[0]]])
    np.testing.assert_allclose(jacobian @ [sx[0], sy[0]], [rx[0], ry[0]], rtol=1e-14)
    np.testing.assert_array_equal(sx[1:], rx[1:])
    np.testing.assert_array_equal(sy[1:], ry[1:])
