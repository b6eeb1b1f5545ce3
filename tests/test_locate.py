"""Tests for pilotzone.locate: zones, border distances and coordinate issues per point.

The oracle for zones is ``shapely.covers`` (through ``intersects_xy``, the same
predicate for points) on the zones' WGS-84 geometries, first zone in table order
winning; GCJ-02, BD-09 and projected input are converted first (GCJ-02/BD-09
with pilotzone's exact inverse, projected systems with pyproj directly). The
oracle for distances is a brute-force geodesic minimum over the border
densified to 0.2 m (tests/geodesic_reference.py, shared with the siting
tests). Synthetic zones are built in code. Offline, deterministic
(seeded generators, hypothesis with fixed budgets), no wall-clock assertions.
"""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from geodesic_reference import GEOD, reference_distance
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from shapely.geometry import LineString, MultiPolygon, Polygon, box

from pilotzone import CRSError
from pilotzone.crs import from_wgs84, to_wgs84
from pilotzone.locate import _INDEX_CACHE, COORDINATE_ISSUES, _fingerprint, locate
from pilotzone.zones import BorderPiece, load_zones

ZONE_IDS = ["beijing", "shanghai", "hainan", "shenzhen"]
GEOGRAPHIC = ["wgs84", "gcj02", "bd09"]
# The Jinhui Port canal line, the shipped data's longest edge (25 km, Lingang's west border).
JINHUI_EDGE = ((121.533767, 30.785948), (121.486194, 31.008151))
LONG_EDGE_M = 5_000.0


@pytest.fixture(scope="module")
def shipped() -> gpd.GeoDataFrame:
    return load_zones(as_of="2025-01-01")


# --------------------------------------------------------------------------- helpers


def oracle(zones: gpd.GeoDataFrame, lon: Any, lat: Any) -> NDArray[np.object_]:
    """Zone id of each WGS-84 point by covers(), first zone in table order; None if none."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    out = np.full(lon.shape, None, dtype=object)
    for zone_id, geometry in zip(zones["zone_id"], zones.geometry, strict=True):
        hit = shapely.intersects_xy(geometry, lon, lat) & pd.isna(out)
        out[hit] = zone_id
    return out


def zone_ids(result: pd.DataFrame) -> NDArray[np.object_]:
    column = result["zone_id"].astype(object)
    return column.where(column.notna(), None).to_numpy()


def assert_same_zones(
    result: pd.DataFrame, expected: NDArray[np.object_], lon: Any, lat: Any
) -> None:
    got = zone_ids(result)
    wrong = np.flatnonzero(got != expected)
    shown = [
        (float(np.ravel(lon)[i]), float(np.ravel(lat)[i]), got[i], expected[i]) for i in wrong[:5]
    ]
    assert wrong.size == 0, f"{wrong.size} of {got.size} points differ from covers(): {shown}"


def oracle_in(zones: gpd.GeoDataFrame, x: Any, y: Any, crs: str) -> NDArray[np.object_]:
    """The oracle for points given in ``crs``: convert with pilotzone's exact inverse first."""
    if crs == "wgs84":
        return oracle(zones, x, y)
    lon, lat = to_wgs84(x, y, crs)
    return oracle(zones, lon, lat)


def geometry_of(zones: gpd.GeoDataFrame, zone_id: str) -> Any:
    return zones.geometry[zones["zone_id"] == zone_id].iloc[0]


def segments_of(geometry: Any) -> NDArray[np.float64]:
    """Edges of a geometry's boundary (or of lines) as rows lon0, lat0, lon1, lat1."""
    lines = shapely.get_parts(
        shapely.boundary(geometry) if geometry.geom_type.endswith("Polygon") else geometry
    )
    rows = []
    for line in lines:
        xy = shapely.get_coordinates(line)
        rows.append(np.column_stack([xy[:-1], xy[1:]]))
    return np.concatenate(rows)


def offset_points(
    rng: np.random.Generator, segments: NDArray[np.float64], n: int, max_m: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points up to ``max_m`` from random points on random edges, in random directions."""
    k = rng.integers(0, len(segments), n)
    t = rng.uniform(0.0, 1.0, n)
    start_lon = segments[k, 0] + t * (segments[k, 2] - segments[k, 0])
    start_lat = segments[k, 1] + t * (segments[k, 3] - segments[k, 1])
    lon, lat, _ = GEOD.fwd(
        start_lon, start_lat, rng.uniform(-180.0, 180.0, n), rng.uniform(0.0, max_m, n)
    )
    return np.asarray(lon), np.asarray(lat)


def synthetic(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """A zone table in the shape locate() reads: zone_id, accuracy_m, approximate_borders."""
    for row in rows:
        row.setdefault("accuracy_m", 100.0)
        row.setdefault("approximate_borders", ())
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


# --------------------------------------------------------------------------- differential: zones


unit_interval = st.floats(0.0, 1.0, allow_nan=False)
small_offset = st.floats(-1e-4, 1e-4, allow_nan=False)  # about 10 m


@settings(max_examples=100, deadline=None)
@given(
    zone=st.sampled_from(ZONE_IDS),
    crs=st.sampled_from(GEOGRAPHIC),
    anywhere=st.lists(st.tuples(unit_interval, unit_interval), min_size=1, max_size=40),
    beside_vertex=st.lists(
        st.tuples(st.integers(0, 10**6), small_offset, small_offset), max_size=20
    ),
)
def test_zone_equals_covers_hypothesis(
    shipped: gpd.GeoDataFrame,
    zone: str,
    crs: str,
    anywhere: list[tuple[float, float]],
    beside_vertex: list[tuple[int, float, float]],
) -> None:
    """Points over the zone's bounding box (+ 5 km), and points within ~10 m of vertices."""
    west, south, east, north = geometry_of(shipped, zone).bounds
    margin = 0.05  # more than the GCJ-02/BD-09 shift
    vertices = shapely.get_coordinates(shapely.boundary(geometry_of(shipped, zone)))
    x = np.array(
        [west - margin + u * (east - west + 2 * margin) for u, _ in anywhere]
        + [vertices[i % len(vertices), 0] + dx for i, dx, _ in beside_vertex]
    )
    y = np.array(
        [south - margin + v * (north - south + 2 * margin) for _, v in anywhere]
        + [vertices[i % len(vertices), 1] + dy for i, _, dy in beside_vertex]
    )
    result = locate(x, y, crs=crs, zones=shipped)
    assert_same_zones(result, oracle_in(shipped, x, y, crs), x, y)


@pytest.mark.parametrize("crs", GEOGRAPHIC)
@pytest.mark.parametrize("zone", ZONE_IDS)
def test_zone_equals_covers_uniform(shipped: gpd.GeoDataFrame, zone: str, crs: str) -> None:
    rng = np.random.default_rng(ZONE_IDS.index(zone) * 10 + GEOGRAPHIC.index(crs))
    west, south, east, north = geometry_of(shipped, zone).bounds
    x = rng.uniform(west - 0.02, east + 0.02, 50_000)
    y = rng.uniform(south - 0.02, north + 0.02, 50_000)
    result = locate(x, y, crs=crs, zones=shipped)
    expected = oracle_in(shipped, x, y, crs)
    assert_same_zones(result, expected, x, y)
    assert 0.05 < np.mean(expected == zone) < 0.95  # both sides are exercised


@pytest.mark.parametrize("crs", GEOGRAPHIC)
@pytest.mark.parametrize("zone", ZONE_IDS)
def test_zone_equals_covers_at_the_border(shipped: gpd.GeoDataFrame, zone: str, crs: str) -> None:
    """Jittered points around border vertices, the vertices themselves, and edge midpoints."""
    rng = np.random.default_rng(100 + ZONE_IDS.index(zone) * 10 + GEOGRAPHIC.index(crs))
    segments = segments_of(geometry_of(shipped, zone))
    pick = rng.integers(0, len(segments), 5_000)
    jittered_lon = segments[pick, 0] + rng.normal(0.0, 3e-5, pick.size)
    jittered_lat = segments[pick, 1] + rng.normal(0.0, 3e-5, pick.size)
    midpoints = (segments[:, :2] + segments[:, 2:]) / 2
    for name, lon, lat in [
        ("jittered", jittered_lon, jittered_lat),
        ("vertices", segments[:, 0], segments[:, 1]),
        ("midpoints", midpoints[:, 0], midpoints[:, 1]),
    ]:
        # The same WGS-84 points, given in the input system (for GCJ-02/BD-09 inputs a
        # vertex lands within ~1e-14 degrees of the vertex, on either side).
        x, y = (lon, lat) if crs == "wgs84" else from_wgs84(lon, lat, crs)
        result = locate(x, y, crs=crs, zones=shipped)
        assert_same_zones(result, oracle_in(shipped, x, y, crs), x, y)
        if crs == "wgs84" and name == "vertices":
            assert (zone_ids(result) == zone).all(), "a vertex of a zone is in the zone"


@pytest.mark.parametrize("zone", ["hainan", "shenzhen"])
def test_zone_equals_covers_projected_input(shipped: gpd.GeoDataFrame, zone: str) -> None:
    """UTM 49N (EPSG:32649) eastings/northings; the oracle converts them with pyproj."""
    rng = np.random.default_rng(7 + ZONE_IDS.index(zone))
    west, south, east, north = geometry_of(shipped, zone).bounds
    segments = segments_of(geometry_of(shipped, zone))
    pick = rng.integers(0, len(segments), 5_000)
    lon = np.concatenate(
        [
            rng.uniform(west - 0.02, east + 0.02, 20_000),
            segments[pick, 0] + rng.normal(0.0, 3e-5, pick.size),
        ]
    )
    lat = np.concatenate(
        [
            rng.uniform(south - 0.02, north + 0.02, 20_000),
            segments[pick, 1] + rng.normal(0.0, 3e-5, pick.size),
        ]
    )
    easting, northing = pyproj.Transformer.from_crs(
        "EPSG:4326", "EPSG:32649", always_xy=True
    ).transform(lon, lat)
    back_lon, back_lat = pyproj.Transformer.from_crs(
        "EPSG:32649", "EPSG:4326", always_xy=True
    ).transform(easting, northing)
    result = locate(easting, northing, crs="EPSG:32649", zones=shipped)
    assert_same_zones(result, oracle(shipped, back_lon, back_lat), easting, northing)
    assert result["coordinate_issue"].isna().all()


def test_zone_does_not_depend_on_the_rest_of_the_batch() -> None:
    # q converges slowly (far north-east); search for a point p whose conversion alone and
    # next to q differ in the last bits, then put a zone edge exactly on p's lone value.
    q_x, q_y = from_wgs84([135.0], [55.0], "gcj02")
    rng = np.random.default_rng(5)
    for _ in range(2_000):
        p_x, p_y = from_wgs84([rng.uniform(100.0, 101.0)], [rng.uniform(30.0, 31.0)], "gcj02")
        alone, _ = to_wgs84(p_x, p_y, "gcj02")
        together, _ = to_wgs84(np.append(p_x, q_x), np.append(p_y, q_y), "gcj02")
        if alone[0] != together[0]:
            break
    else:
        return  # every candidate converts the same in any batch: nothing can differ
    edge = max(alone[0], together[0])
    zones = synthetic(
        [
            {"zone_id": "p_zone", "geometry": box(edge, 30.0, edge + 0.25, 31.0)},
            {
                "zone_id": "q_zone",
                "geometry": box(134.5, 54.5, 135.0, 55.0),
            },  # keeps q near a border
        ]
    )
    by_itself = locate(p_x, p_y, crs="gcj02", zones=zones)["zone_id"].iloc[0]
    in_company = locate(np.append(p_x, q_x), np.append(p_y, q_y), crs="gcj02", zones=zones)[
        "zone_id"
    ].iloc[0]
    assert by_itself == in_company or (pd.isna(by_itself) and pd.isna(in_company))


# --------------------------------------------------------------------------- boundary semantics


SQUARE = Polygon(
    [(100.0, 30.0), (100.5, 30.0), (100.5, 30.5), (100.0, 30.5)],
    [[(100.125, 30.125), (100.375, 30.125), (100.375, 30.375), (100.125, 30.375)]],
)
TWO_PARTS = MultiPolygon([box(101.0, 30.0, 101.25, 30.25), box(101.5, 30.0, 101.75, 30.25)])
FIRST = box(102.0, 30.0, 102.5, 30.5)
SECOND = box(102.25, 30.0, 102.75, 30.5)


@pytest.fixture(scope="module")
def zoo() -> gpd.GeoDataFrame:
    return synthetic(
        [
            {"zone_id": "square", "geometry": SQUARE},
            {"zone_id": "two_parts", "geometry": TWO_PARTS},
            {"zone_id": "first", "geometry": FIRST},
            {"zone_id": "second", "geometry": SECOND},
        ]
    )


@pytest.mark.parametrize(
    ("what", "lon", "lat", "expected"),
    [
        ("inside", 100.0625, 30.0625, "square"),
        ("on an edge", 100.25, 30.0, "square"),
        ("on a vertex", 100.5, 30.5, "square"),
        ("on the hole's edge", 100.25, 30.125, "square"),
        ("on the hole's vertex", 100.375, 30.375, "square"),
        ("in the hole", 100.25, 30.25, None),
        ("just outside", 100.5 + 1e-9, 30.25, None),
        ("first part", 101.125, 30.125, "two_parts"),
        ("second part", 101.625, 30.125, "two_parts"),
        ("second part's edge", 101.75, 30.125, "two_parts"),
        ("between the parts", 101.375, 30.125, None),
        ("overlap: first in table order", 102.375, 30.25, "first"),
        ("overlap edge", 102.25, 30.25, "first"),
        ("only the second", 102.625, 30.25, "second"),
        ("second's east edge", 102.75, 30.25, "second"),
    ],
)
def test_boundary_semantics(
    zoo: gpd.GeoDataFrame, what: str, lon: float, lat: float, expected: str | None
) -> None:
    result = locate([lon], [lat], crs="wgs84", zones=zoo)
    assert zone_ids(result)[0] == expected, what
    assert oracle(zoo, [lon], [lat])[0] == expected, what  # the oracle agrees
    if what.startswith("on ") and "vertex" in what:
        assert result["border_distance_m"].iloc[0] == pytest.approx(0.0, abs=0.01)
    if what.startswith("on "):  # on an edge: see test_point_on_a_long_edge_is_on_the_border
        assert bool(result["near_border"].iloc[0])


def test_point_on_a_long_edge_is_on_the_border() -> None:
    zones = synthetic(
        [{"zone_id": "precise", "geometry": box(100.0, 30.0, 100.5, 30.5), "accuracy_m": 10.0}]
    )
    # on the south and north edges (parallels) and on the east edge (a meridian)
    result = locate([100.25, 100.25, 100.5], [30.0, 30.5, 30.25], crs="wgs84", zones=zones)
    assert zone_ids(result).tolist() == ["precise"] * 3
    assert result["near_border"].tolist() == [True, True, True]
    np.testing.assert_allclose(result["border_distance_m"], 0.0, atol=0.01)


def test_overlap_follows_table_order(zoo: gpd.GeoDataFrame) -> None:
    reordered = zoo.iloc[[0, 1, 3, 2]].reset_index(drop=True)
    result = locate(
        [102.375, 102.125, 102.625], [30.25, 30.25, 30.25], crs="wgs84", zones=reordered
    )
    assert zone_ids(result).tolist() == ["second", "first", "second"]


def test_zoo_matches_covers_everywhere(zoo: gpd.GeoDataFrame) -> None:
    rng = np.random.default_rng(11)
    lon = rng.uniform(99.9, 102.9, 20_000)
    lat = rng.uniform(29.9, 30.6, 20_000)
    # and points exactly on every vertex and edge midpoint of the zoo
    for geometry in zoo.geometry:
        segments = segments_of(geometry)
        lon = np.concatenate([lon, segments[:, 0], (segments[:, 0] + segments[:, 2]) / 2])
        lat = np.concatenate([lat, segments[:, 1], (segments[:, 1] + segments[:, 3]) / 2])
    for crs in GEOGRAPHIC:
        x, y = (lon, lat) if crs == "wgs84" else from_wgs84(lon, lat, crs)
        assert_same_zones(locate(x, y, crs=crs, zones=zoo), oracle_in(zoo, x, y, crs), x, y)


def test_zone_smaller_than_an_overview_cell() -> None:
    """A zone far smaller than one cell of the overview grid, beside a zone making that grid coarse.

    The overview (one grid over every zone) can only send such a zone's points
    on to its own grid; points beyond the overview's extent, anywhere on Earth,
    fall on its outermost cells and must come out in no zone.
    """
    tiny = box(100.0, 30.0, 100.0005, 30.0004)
    zones = synthetic(
        [
            {"zone_id": "tiny", "geometry": tiny, "accuracy_m": 10.0},
            {"zone_id": "wide", "geometry": box(105.0, 33.0, 125.0, 50.0)},
        ]
    )
    rng = np.random.default_rng(3)
    lon = np.concatenate([rng.uniform(99.998, 100.0025, 20_000), rng.uniform(104.9, 125.1, 20_000)])
    lat = np.concatenate([rng.uniform(29.998, 30.0024, 20_000), rng.uniform(32.9, 50.1, 20_000)])
    segments = segments_of(tiny)
    corners = np.repeat(segments[:, :2], 50, axis=0) + rng.normal(
        0.0, 2e-6, (len(segments) * 50, 2)
    )
    lon = np.concatenate(
        [lon, segments[:, 0], (segments[:, 0] + segments[:, 2]) / 2, corners[:, 0]]
    )
    lat = np.concatenate(
        [lat, segments[:, 1], (segments[:, 1] + segments[:, 3]) / 2, corners[:, 1]]
    )
    beyond = (
        np.array([0.0, -179.9, 179.9, 99.0, 126.0, 100.0]),
        np.array([0.0, -89.9, 89.9, 30.0, 40.0, 51.0]),
    )
    lon, lat = np.concatenate([lon, beyond[0]]), np.concatenate([lat, beyond[1]])
    for crs in GEOGRAPHIC:
        x, y = (lon, lat) if crs == "wgs84" else from_wgs84(lon, lat, crs)
        result = locate(x, y, crs=crs, zones=zones)
        expected = oracle_in(zones, x, y, crs)
        assert_same_zones(result, expected, x, y)
        assert (expected == "tiny").sum() > 100 and (expected == "wide").sum() > 10_000
        assert result["zone_id"].iloc[-len(beyond[0]) :].isna().all()


def test_approximate_stretch_has_its_own_band() -> None:
    """A zone whose east edge is approximate (2 km) while the rest is good to 100 m."""
    east_edge = LineString([(103.5, 30.0), (103.5, 30.5)])
    zones = synthetic(
        [
            {
                "zone_id": "banded",
                "geometry": box(103.0, 30.0, 103.5, 30.5),
                "accuracy_m": 100.0,
                "approximate_borders": (BorderPiece("east edge, approximate", 2000.0, east_edge),),
            }
        ]
    )
    lon_east, _, _ = GEOD.fwd(103.5, 30.25, 90.0, 1000.0)  # 1 km east of the approximate edge
    lon_west, _, _ = GEOD.fwd(103.0, 30.25, -90.0, 1000.0)  # 1 km west of the 100 m edge
    lon_in, _, _ = GEOD.fwd(103.5, 30.25, -90.0, 50.0)  # 50 m inside the approximate edge
    lon_in_admin, _, _ = GEOD.fwd(103.0, 30.25, 90.0, 50.0)  # 50 m inside the 100 m edge
    lon_in_deep, _, _ = GEOD.fwd(103.5, 30.25, -90.0, 1500.0)  # 1.5 km in from the approximate edge
    result = locate(
        [lon_east, lon_west, lon_in, lon_in_admin, lon_in_deep],
        [30.25] * 5,
        crs="wgs84",
        zones=zones,
    )
    assert zone_ids(result).tolist() == [None, None, "banded", "banded", "banded"]
    assert result["near_border"].tolist() == [True, False, True, True, True]
    distance = result["border_distance_m"].to_numpy()
    assert distance[0] == pytest.approx(1000.0, abs=0.5)  # inside the 2 km band: measured
    assert np.isnan(distance[1])  # beyond the 100 m horizon
    assert distance[2] == pytest.approx(50.0, abs=0.5)
    assert distance[3] == pytest.approx(50.0, abs=0.5)
    assert distance[4] == pytest.approx(1500.0, abs=0.5)


def test_wide_band_reports_the_nearest_border_of_any_stretch() -> None:
    """Inside a wide approximate band, the distance is to the nearest border, wherever it is.

    Each accuracy class is searched only as far as its own band; here the nearest
    border is a 100 m edge 600 m away, beyond that edge's search, while the point
    lies in the 2 km band of an approximate edge 1 km away: the 600 m must win.
    """
    zone = box(103.0, 30.0, 103.5, 30.5)
    east_edge = LineString([(103.5, 30.0), (103.5, 30.5)])
    zones = synthetic(
        [
            {
                "zone_id": "banded",
                "geometry": zone,
                "accuracy_m": 100.0,
                "approximate_borders": (BorderPiece("east edge, approximate", 2000.0, east_edge),),
            }
        ]
    )
    _, lat, _ = GEOD.fwd(103.5, 30.0, 0.0, 600.0)  # 600 m north of the (100 m) south edge
    lon, _, _ = GEOD.fwd(103.5, lat, -90.0, 1000.0)  # and 1 km west of the approximate edge
    expected, _ = reference_distance(np.array([lon]), np.array([lat]), segments_of(zone))
    for crs in GEOGRAPHIC:
        x, y = (
            ([lon], [lat]) if crs == "wgs84" else from_wgs84(np.array([lon]), np.array([lat]), crs)
        )
        result = locate(x, y, crs=crs, zones=zones)
        assert zone_ids(result).tolist() == ["banded"]
        assert bool(result["near_border"].iloc[0])
        assert result["border_distance_m"].iloc[0] == pytest.approx(expected[0], abs=0.5)
        assert expected[0] == pytest.approx(600.0, abs=5.0)


# --------------------------------------------------------------------------- distances


@pytest.fixture(scope="module")
def near_border_sample(shipped: gpd.GeoDataFrame) -> dict[str, Any]:
    """Points up to 10.5 km from every zone's border, with reference distances and flags."""
    rng = np.random.default_rng(2024)
    lon_parts, lat_parts, zone_of = [], [], []
    for zone in ZONE_IDS:
        segments = segments_of(geometry_of(shipped, zone))
        for n, max_m in ((50, 1_500.0), (30, 10_500.0)):
            lon, lat = offset_points(rng, segments, n, max_m)
            lon_parts.append(lon)
            lat_parts.append(lat)
            zone_of += [zone] * n
    for piece in geometry_of_pieces(shipped, "shanghai"):  # around each approximate stretch
        if not piece.approximate:
            continue
        lon, lat = offset_points(rng, segments_of(piece.geometry), 30, 4_000.0)
        lon_parts.append(lon)
        lat_parts.append(lat)
        zone_of += ["shanghai"] * 30
    lon, lat = np.concatenate(lon_parts), np.concatenate(lat_parts)
    zone_of_arr = np.array(zone_of)
    distance = np.full(lon.size, np.nan)
    edge_m = np.full(lon.size, np.nan)
    near = np.zeros(lon.size, dtype=bool)
    ambiguous = np.zeros(lon.size, dtype=bool)  # within 1 m of a threshold
    for zone in ZONE_IDS:
        mine = np.flatnonzero(zone_of_arr == zone)
        d, e = reference_distance(lon[mine], lat[mine], segments_of(geometry_of(shipped, zone)))
        distance[mine], edge_m[mine] = d, e
        outside = ~shapely.intersects_xy(geometry_of(shipped, zone), lon[mine], lat[mine])
        # every stretch of a shipped border is a piece (test_every_edge_is_in_one_stretch): a
        # land border's band holds both sides, a coast's only the sea side
        for piece in geometry_of_pieces(shipped, zone):
            dp, _ = reference_distance(lon[mine], lat[mine], segments_of(piece.geometry))
            holds = outside if piece.border == "coast" else True
            near[mine] |= (dp < piece.accuracy_m) & holds
            ambiguous[mine] |= np.abs(dp - piece.accuracy_m) < 1.0
    accuracy_of = dict(zip(shipped["zone_id"], shipped["accuracy_m"], strict=True))
    return {
        "lon": lon,
        "lat": lat,
        "zone": zone_of_arr,
        "accuracy_m": np.array([accuracy_of[z] for z in zone_of_arr]),
        "distance": distance,
        "edge_m": edge_m,
        "near": near,
        "ambiguous": ambiguous,
    }


def geometry_of_pieces(zones: gpd.GeoDataFrame, zone_id: str) -> tuple[BorderPiece, ...]:
    pieces: tuple[BorderPiece, ...] = zones["approximate_borders"][
        zones["zone_id"] == zone_id
    ].iloc[0]
    return pieces


def test_sample_is_meaningful(near_border_sample: dict[str, Any]) -> None:
    s = near_border_sample
    assert s["distance"].max() < 10_600 and (s["distance"] > 9_000).any()
    assert 0.2 < s["near"].mean() < 0.8
    # Long edges (the canal lines, some coastline) are tested on their own below.
    assert (s["edge_m"] <= LONG_EDGE_M).mean() > 0.9


def test_distance_agrees_with_geodesic_reference(
    shipped: gpd.GeoDataFrame, near_border_sample: dict[str, Any]
) -> None:
    s = near_border_sample
    result = locate(s["lon"], s["lat"], crs="wgs84", zones=shipped, distance_limit_m=10_000)
    got = result["border_distance_m"].to_numpy()
    inside_horizon = s["distance"] < 10_000 - 1
    assert np.isfinite(got[inside_horizon]).all()
    assert np.isnan(got[s["distance"] > 10_000 + 1]).all()
    short = inside_horizon & (s["edge_m"] <= LONG_EDGE_M)
    error = np.abs(got[short] - s["distance"][short])
    assert error.max() < 1.0, (s["lon"][short][error.argmax()], s["lat"][short][error.argmax()])
    # the zone is still covers()'s, and the flag does not depend on the horizon
    assert_same_zones(result, oracle(shipped, s["lon"], s["lat"]), s["lon"], s["lat"])
    default = locate(s["lon"], s["lat"], crs="wgs84", zones=shipped)
    assert (default["near_border"] == result["near_border"]).all()


@pytest.mark.parametrize("crs", GEOGRAPHIC)
def test_default_horizon_is_the_review_band(
    shipped: gpd.GeoDataFrame, near_border_sample: dict[str, Any], crs: str
) -> None:
    """Within the review band distances are planar where provably within 0.5 m, else geodesic.

    GCJ-02 and BD-09 points go through their own tabulated projections, so they
    are checked against the same WGS-84 reference.
    """
    s = near_border_sample
    x, y = (s["lon"], s["lat"]) if crs == "wgs84" else from_wgs84(s["lon"], s["lat"], crs)
    result = locate(x, y, crs=crs, zones=shipped)
    got = result["border_distance_m"].to_numpy()
    clear = ~s["ambiguous"] & (s["edge_m"] <= LONG_EDGE_M)
    measured = s["near"]  # every shipped stretch is a piece: the horizon is the bands
    assert np.isfinite(got[clear & measured]).all()
    assert np.isnan(got[clear & ~measured]).all()
    error = np.abs(got - s["distance"])[clear & measured]
    assert error.max() < 0.5 + 0.02, error.max()  # locate's bound, plus the reference's own error
    assert (~measured[clear]).sum() > 50  # points beyond the horizon were tested


@pytest.mark.parametrize("crs", GEOGRAPHIC)
def test_near_border_is_distance_under_the_stretchs_accuracy(
    shipped: gpd.GeoDataFrame, near_border_sample: dict[str, Any], crs: str
) -> None:
    s = near_border_sample
    x, y = (s["lon"], s["lat"]) if crs == "wgs84" else from_wgs84(s["lon"], s["lat"], crs)
    result = locate(x, y, crs=crs, zones=shipped)
    clear = ~s["ambiguous"] & (s["edge_m"] <= LONG_EDGE_M)
    assert result["near_border"].dtype == bool
    np.testing.assert_array_equal(result["near_border"].to_numpy()[clear], s["near"][clear])
    # the approximate stretches widen the band: some points are near although farther
    # from the border than the zone's accuracy
    widened = clear & s["near"] & (s["distance"] > s["accuracy_m"] + 1)
    assert widened.sum() >= 10


def test_distance_on_long_edges_agrees_with_geodesic_reference(shipped: gpd.GeoDataFrame) -> None:
    (a_lon, a_lat), (b_lon, b_lat) = JINHUI_EDGE
    azimuth, _, _ = GEOD.inv(a_lon, a_lat, b_lon, b_lat)
    lon, lat = [], []
    for fraction in (0.3, 0.5, 0.7):
        m_lon, m_lat = a_lon + fraction * (b_lon - a_lon), a_lat + fraction * (b_lat - a_lat)
        lon.append(m_lon)
        lat.append(m_lat)
        for side in (-90.0, 90.0):
            for offset in (50.0, 300.0, 1_000.0):
                p_lon, p_lat, _ = GEOD.fwd(m_lon, m_lat, azimuth + side, offset)
                lon.append(p_lon)
                lat.append(p_lat)
    lon_arr, lat_arr = np.array(lon), np.array(lat)
    expected, _ = reference_distance(
        lon_arr, lat_arr, segments_of(geometry_of(shipped, "shanghai"))
    )
    got = locate(lon_arr, lat_arr, crs="wgs84", zones=shipped, distance_limit_m=10_000)[
        "border_distance_m"
    ]
    assert np.abs(got.to_numpy() - expected).max() < 1.0


FAR_POINTS = {  # WGS-84
    "Urumqi": (87.6168, 43.8256),
    "Lhasa": (91.1172, 29.6469),
    "Harbin": (126.5349, 45.8038),
    "Tianjin": (117.2009, 39.0842),
    "Dongguan": (113.7518, 23.0207),
    "Yongxing Island": (112.3350, 16.8340),
    "Tiananmen": (116.3975, 39.9087),
}


def test_unlimited_horizon_measures_every_valid_point(shipped: gpd.GeoDataFrame) -> None:
    lon = np.array([p[0] for p in FAR_POINTS.values()] + [np.nan, 116.4])
    lat = np.array([p[1] for p in FAR_POINTS.values()] + [39.9, 95.0])
    result = locate(lon, lat, crs="wgs84", zones=shipped, distance_limit_m=np.inf)
    distance = result["border_distance_m"].to_numpy()
    valid = result["coordinate_issue"].isna().to_numpy()
    assert valid.tolist() == [True] * len(FAR_POINTS) + [False, False]
    assert np.isfinite(distance[valid]).all() and (distance[valid] > 0).all()
    assert np.isnan(distance[~valid]).all()
    assert distance[0] > 2_000_000  # Urumqi is over 2,000 km from Beijing
    # within a few hundred kilometres the distance is still exact
    close = [i for i, name in enumerate(FAR_POINTS) if name not in ("Urumqi", "Lhasa", "Harbin")]
    expected, _ = reference_distance(
        lon[close], lat[close], segments_of(shapely.union_all(shipped.geometry.values))
    )
    np.testing.assert_allclose(distance[close], expected, rtol=0, atol=1.0)
    assert result["near_border"].tolist() == [False] * len(lon)


@pytest.mark.parametrize(
    ("what", "lon", "lat", "reference_m", "near", "measured"),
    [
        # At sea 1.5 km south of Xiaoyangshan: beyond the island coast's own band (950 m,
        # measured on its source outline, no longer a 3,000 m approximate outline).
        ("Xiaoyangshan, 1.5 km off", 122.07, 30.595, 1496.4, False, False),
        # In Puxi, 457 m from Pudong's Huangpu line: beyond its 400 m band and horizon.
        ("Huangpu admin line, 457 m", 121.4905, 31.23, 457.3, False, False),
        ("Huangpu admin line, 265 m", 121.4935, 31.23, 264.7, True, True),
    ],
)
def test_shanghai_bands(
    shipped: gpd.GeoDataFrame,
    what: str,
    lon: float,
    lat: float,
    reference_m: float,
    near: bool,
    measured: bool,
) -> None:
    expected, _ = reference_distance(
        np.array([lon]), np.array([lat]), segments_of(geometry_of(shipped, "shanghai"))
    )
    assert expected[0] == pytest.approx(reference_m, abs=0.5), "the point is where the test says"
    result = locate([lon], [lat], crs="wgs84", zones=shipped)
    assert zone_ids(result)[0] is None, what
    assert bool(result["near_border"].iloc[0]) is near, what
    if measured:
        assert result["border_distance_m"].iloc[0] == pytest.approx(expected[0], abs=1.0)
    else:
        assert np.isnan(result["border_distance_m"].iloc[0])


@pytest.mark.parametrize("offset_m", [300.0, 450.0])
@pytest.mark.parametrize(("side", "zone"), [(-90.0, None), (90.0, "shanghai")])
def test_lingang_canal_band(
    shipped: gpd.GeoDataFrame, offset_m: float, side: float, zone: str | None
) -> None:
    """Beside the Jinhui Port canal line (500 m band), far from administrative lines (400 m)."""
    (a_lon, a_lat), (b_lon, b_lat) = JINHUI_EDGE
    m_lon, m_lat = a_lon + 0.3 * (b_lon - a_lon), a_lat + 0.3 * (b_lat - a_lat)
    azimuth, _, _ = GEOD.inv(a_lon, a_lat, b_lon, b_lat)  # roughly north-north-west
    lon, lat, _ = GEOD.fwd(m_lon, m_lat, azimuth + side, offset_m)  # -90: west, outside
    result = locate([lon], [lat], crs="wgs84", zones=shipped)
    assert zone_ids(result)[0] == zone
    assert bool(result["near_border"].iloc[0])
    # within 5 m: see test_distance_on_long_edges_agrees_with_geodesic_reference
    assert result["border_distance_m"].iloc[0] == pytest.approx(offset_m, abs=5.0)
    canal = next(p for p in geometry_of_pieces(shipped, "shanghai") if p.accuracy_m == 500)
    to_canal, _ = reference_distance(np.array([lon]), np.array([lat]), segments_of(canal.geometry))
    to_border, _ = reference_distance(
        np.array([lon]), np.array([lat]), segments_of(geometry_of(shipped, "shanghai"))
    )
    assert to_canal[0] == pytest.approx(offset_m, abs=0.5)
    assert to_border[0] == pytest.approx(to_canal[0], abs=1e-6)  # the canal is the nearest border


# --------------------------------------------------------------------------- coasts

COAST_BAND_M, LAND_BAND_M = 800.0, 300.0


def coastal_zone() -> gpd.GeoDataFrame:
    """A square whose west edge is a land border (the zone's 300 m) and the rest a coast (800 m)."""
    sea_edges = LineString([(103.0, 30.0), (103.5, 30.0), (103.5, 30.5), (103.0, 30.5)])
    return synthetic(
        [
            {
                "zone_id": "coastal",
                "geometry": box(103.0, 30.0, 103.5, 30.5),
                "accuracy_m": LAND_BAND_M,
                "approximate_borders": (
                    BorderPiece("south, east and north: coast", COAST_BAND_M, sea_edges, "coast"),
                ),
            }
        ]
    )


@pytest.mark.parametrize("crs", GEOGRAPHIC)
def test_coast_band_holds_only_the_sea_side(crs: str) -> None:
    zones = coastal_zone()
    points = [  # (metres east of the east coast, or of the west land border), zone, near
        (103.5, -500.0, "coastal", False),  # inland near the coast: in, no review
        (103.5, 500.0, None, True),  # just offshore: a facility the coastline misses
        (103.5, 1000.0, None, False),  # beyond the coast's band
        (103.0, 200.0, "coastal", True),  # near the land border: review on both sides
        (103.0, -200.0, None, True),
    ]
    lon = np.array([GEOD.fwd(edge, 30.25, 90.0, metres)[0] for edge, metres, _, _ in points])
    lat = np.full(lon.size, 30.25)
    x, y = (lon, lat) if crs == "wgs84" else from_wgs84(lon, lat, crs)
    result = locate(x, y, crs=crs, zones=zones)
    assert zone_ids(result).tolist() == [p[2] for p in points]
    assert result["near_border"].tolist() == [p[3] for p in points]
    distance = result["border_distance_m"].to_numpy()
    assert distance[1] == pytest.approx(500.0, abs=0.5)
    assert distance[3] == pytest.approx(200.0, abs=0.5)


@settings(max_examples=60, deadline=None)
@given(
    crs=st.sampled_from(GEOGRAPHIC),
    starts=st.lists(
        st.tuples(unit_interval, st.floats(-180.0, 180.0), st.floats(0.0, 1_500.0)),
        min_size=1,
        max_size=30,
    ),
)
def test_coast_rule_agrees_with_geodesic_distances(
    crs: str, starts: list[tuple[float, float, float]]
) -> None:
    """near_border is (near the land border) or (outside and near the coast), by the reference."""
    zones = coastal_zone()
    zone = geometry_of(zones, "coastal")
    ring = shapely.get_coordinates(zone.exterior)
    perimeter = shapely.line_interpolate_point(
        zone.exterior, [u for u, _, _ in starts], normalized=True
    )
    lon, lat, _ = GEOD.fwd(
        shapely.get_x(perimeter),
        shapely.get_y(perimeter),
        [a for _, a, _ in starts],
        [m for _, _, m in starts],
    )
    x, y = (np.asarray(lon), np.asarray(lat)) if crs == "wgs84" else from_wgs84(lon, lat, crs)
    lon, lat = (x, y) if crs == "wgs84" else to_wgs84(x, y, crs)  # the points as locate sees them
    west = np.array([[103.0, 30.0, 103.0, 30.5]])
    to_land, _ = reference_distance(lon, lat, west)
    to_sea, _ = reference_distance(
        lon, lat, segments_of(zones["approximate_borders"][0][0].geometry)
    )
    outside = ~shapely.intersects_xy(zone, lon, lat)
    expected = (to_land < LAND_BAND_M) | (outside & (to_sea < COAST_BAND_M))
    clear = (np.abs(to_land - LAND_BAND_M) > 1.0) & (np.abs(to_sea - COAST_BAND_M) > 1.0)
    result = locate(x, y, crs=crs, zones=zones)
    assert len(ring) == 5
    assert_same_zones(result, oracle(zones, lon, lat), lon, lat)
    np.testing.assert_array_equal(result["near_border"].to_numpy()[clear], expected[clear])


SHIPPED_COAST_CASES = [  # what, lon, lat, metres from the zone's border, zone, near
    ("Haikou, 900 m inland from the shore", 110.33, 20.1065, 896.9, "hainan", False),
    ("500 m off Sanya's shore", 109.50, 18.1679, 495.7, None, True),
    ("Sanya, 500 m inland", 109.50, 18.1769, 498.9, "hainan", False),
    ("Shenzhen side of the Dongguan border", 113.993673, 22.769687, 100.0, "shenzhen", True),
    ("Dongguan side", 113.994547, 22.771301, 100.0, None, True),
    ("Shenzhen side of the Shenzhen River (Lo Wu)", 114.118051, 22.535352, 100.0, "shenzhen", True),
    ("Hong Kong side of the Shenzhen River", 114.118468, 22.533587, 100.0, None, True),
]


@pytest.mark.parametrize(("what", "lon", "lat", "metres", "zone", "near"), SHIPPED_COAST_CASES)
def test_shipped_coasts_and_land_borders(
    shipped: gpd.GeoDataFrame,
    what: str,
    lon: float,
    lat: float,
    metres: float,
    zone: str | None,
    near: bool,
) -> None:
    zone_id = "hainan" if lon < 111 else "shenzhen"
    expected, _ = reference_distance(
        np.array([lon]), np.array([lat]), segments_of(geometry_of(shipped, zone_id))
    )
    assert expected[0] == pytest.approx(metres, abs=0.5), "the point is where the test says"
    result = locate([lon], [lat], crs="wgs84", zones=shipped)
    assert zone_ids(result)[0] == zone, what
    assert bool(result["near_border"].iloc[0]) is near, what
    if near:
        assert result["border_distance_m"].iloc[0] == pytest.approx(expected[0], abs=0.5)


def test_yangshan_port_is_in_the_zone(shipped: gpd.GeoDataFrame) -> None:
    """Xiaoyangshan has its source outline and accuracy: the port is no longer all review."""
    x, y = np.meshgrid(np.arange(122.0, 122.14, 0.002), np.arange(30.6, 30.67, 0.002))
    result = locate(x.ravel(), y.ravel(), crs="wgs84", zones=shipped)
    inside = (zone_ids(result) == "shanghai").sum()
    assert inside > 800
    assert result["near_border"].to_numpy()[zone_ids(result) == "shanghai"].sum() == 0


def test_fengxian_triangle_by_the_huangpu_is_in_the_zone(shipped: gpd.GeoDataFrame) -> None:
    """Fengxian east of the Jinhui line, up to the Huangpu, between the canals' sluices."""
    result = locate([121.4870, 121.4860], [31.0150, 31.0130], crs="wgs84", zones=shipped)
    assert zone_ids(result).tolist() == ["shanghai", "shanghai"]


def test_every_shipped_edge_is_in_one_stretch(shipped: gpd.GeoDataFrame) -> None:
    """Each zone's outline is split into stretches, none shorter than 10 m."""
    for row in shipped.itertuples():
        pieces = row.approximate_borders
        assert {p.border for p in pieces} <= {"land", "coast"}
        edges = segments_of(row.geometry)
        midpoints = shapely.points((edges[:, :2] + edges[:, 2:]) / 2)
        held = np.zeros(len(edges), dtype=int)
        for piece in pieces:
            held += shapely.dwithin(midpoints, piece.geometry, 1e-6)
            lengths = [GEOD.geometry_length(p) for p in shapely.get_parts(piece.geometry)]
            assert min(lengths) >= 10.0, (row.zone_id, piece.name)
        assert (held >= 1).all(), row.zone_id
    hainan = geometry_of_pieces(shipped, "hainan")
    assert [p.border for p in hainan] == ["coast"]


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_bad_distance_limit(shipped: gpd.GeoDataFrame, bad: float) -> None:
    with pytest.raises(ValueError, match="distance_limit_m must be a non-negative number"):
        locate([116.0], [40.0], crs="wgs84", zones=shipped, distance_limit_m=bad)


# --------------------------------------------------------------------------- coordinate issues


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_coordinate_issues_in_a_batch(shipped: gpd.GeoDataFrame, crs: str) -> None:
    rows = [
        (116.3975, 39.9087, "beijing", None),
        (np.nan, 39.9, None, "missing"),
        (121.5055, 31.2397, "shanghai", None),
        (116.4, np.nan, None, "missing"),
        (np.inf, 39.9, None, "not_finite"),
        (116.4, -np.inf, None, "not_finite"),
        (np.nan, np.inf, None, "missing"),
        (116.4, 95.0, None, "out_of_range"),
        (200.0, 39.9, None, "out_of_range"),
        (39.9087, 116.3975, None, "probably_swapped"),  # Beijing as (lat, lon)
        (22.5410, 114.0550, None, "probably_swapped"),  # Shenzhen as (lat, lon)
        (40.0, 80.0, None, "probably_swapped"),  # Xinjiang as (lat, lon): latitude in range
        (114.0550, 22.5410, "shenzhen", None),
        (-0.1276, 51.5072, None, None),  # London: fine, just in no zone
    ]
    x = np.array([r[0] for r in rows])
    y = np.array([r[1] for r in rows])
    good = np.array([r[3] is None for r in rows])
    if crs != "wgs84":  # good points in the input's system; bad ones given as they are
        x[good], y[good] = from_wgs84(x[good], y[good], crs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no exception, and no numpy noise either
        result = locate(x, y, crs=crs, zones=shipped)
    assert len(result) == len(rows)
    assert result.index.equals(pd.RangeIndex(len(rows)))
    issues = result["coordinate_issue"].astype(object)
    assert issues.where(issues.notna(), None).tolist() == [r[3] for r in rows]
    assert zone_ids(result).tolist() == [r[2] for r in rows]
    assert np.isnan(result["border_distance_m"].to_numpy()[~good]).all()
    assert not result["near_border"].to_numpy()[~good].any()


def test_projected_input_issues(shipped: gpd.GeoDataFrame) -> None:
    easting, northing = pyproj.Transformer.from_crs(
        "EPSG:4326", "EPSG:32650", always_xy=True
    ).transform(116.3975, 39.9087)
    result = locate(
        [easting, np.nan, np.inf, 1e30], [northing, 4e6, 4e6, 4e6], crs="EPSG:32650", zones=shipped
    )
    issues = result["coordinate_issue"].astype(object)
    assert issues.where(issues.notna(), None).tolist() == [
        None,
        "missing",
        "not_finite",
        "transform_failed",
    ]
    assert zone_ids(result).tolist() == ["beijing", None, None, None]


def test_result_columns_and_types(shipped: gpd.GeoDataFrame) -> None:
    result = locate([116.3975, 121.4737], [39.9087, 31.2304], crs="wgs84", zones=shipped)
    assert list(result.columns) == [
        "zone_id",
        "component",
        "border_distance_m",
        "near_border",
        "coordinate_issue",
    ]
    assert result["component"].tolist() == ["beijing/municipality", np.nan]
    assert isinstance(result["zone_id"].dtype, pd.CategoricalDtype)
    assert list(result["zone_id"].cat.categories) == ZONE_IDS
    assert isinstance(result["coordinate_issue"].dtype, pd.CategoricalDtype)
    assert tuple(result["coordinate_issue"].cat.categories) == COORDINATE_ISSUES
    assert result["border_distance_m"].dtype == np.float64
    assert result["near_border"].dtype == bool


def test_series_keep_their_index(shipped: gpd.GeoDataFrame) -> None:
    index = pd.Index(["site-7", "site-3", "site-9"], name="site")
    lon = pd.Series([116.3975, np.nan, 114.0550], index=index)
    lat = pd.Series([39.9087, 31.0, 22.5410], index=index)
    result = locate(lon, lat, crs="gcj02", zones=shipped)
    assert result.index.equals(index)
    assert result.loc["site-3", "coordinate_issue"] == "missing"
    assert result.loc["site-9", "zone_id"] == "shenzhen"
    joined = pd.DataFrame({"name": ["a", "b", "c"]}, index=index).join(result)
    assert len(joined) == 3


def test_empty_input(shipped: gpd.GeoDataFrame) -> None:
    result = locate([], [], crs="wgs84", zones=shipped)
    assert len(result) == 0
    assert list(result.columns) == [
        "zone_id",
        "component",
        "border_distance_m",
        "near_border",
        "coordinate_issue",
    ]
    assert isinstance(result["zone_id"].dtype, pd.CategoricalDtype)


def test_mismatched_lengths(shipped: gpd.GeoDataFrame) -> None:
    with pytest.raises(ValueError, match="differ in length: 2 and 1"):
        locate([116.0, 117.0], [40.0], crs="wgs84", zones=shipped)


@pytest.mark.parametrize("crs", [None, "", "foo"])
def test_missing_or_unknown_crs(shipped: gpd.GeoDataFrame, crs: Any) -> None:
    with pytest.raises(CRSError, match="Use one of 'wgs84'"):
        locate([116.0], [40.0], crs=crs, zones=shipped)


def test_crs_is_required(shipped: gpd.GeoDataFrame) -> None:
    with pytest.raises(TypeError, match="crs"):
        locate([116.0], [40.0], zones=shipped)  # type: ignore[call-arg]


# --------------------------------------------------------------------------- index cache


def test_second_call_is_served_from_the_cache(shipped: gpd.GeoDataFrame) -> None:
    cache = _INDEX_CACHE  # imported by name: the attribute pilotzone.locate is the function
    key = (_fingerprint(shipped), 0.0)  # the shipped zones, default horizon
    locate([116.3975], [39.9087], crs="gcj02", zones=shipped)
    first = dict(cache)  # the index objects themselves, kept alive for the comparison
    assert key in first and "gcj02" in first[key].grids
    grids = dict(first[key].grids)
    # a fresh table with the same content is the same zone set: nothing is built again
    locate([121.5055, 116.0], [31.2397, 40.0], crs="gcj02", zones=load_zones(as_of="2025-01-01"))
    assert list(cache) == list(first)
    assert all(cache[k] is index for k, index in first.items())
    assert all(cache[key].grids[space] is grid for space, grid in grids.items())
    assert next(reversed(cache)) == key  # and it is the most recently used


# --------------------------------------------------------------------------- landmarks


LANDMARKS = [  # WGS-84 (GPS) positions
    ("Tiananmen", 116.3975, 39.9087, "beijing"),
    ("Lujiazui", 121.4997, 31.2397, "shanghai"),
    ("Dishui Lake, Lingang", 121.9290, 30.9000, "shanghai"),
    ("Haikou", 110.3312, 20.0311, "hainan"),
    ("Sanya", 109.5119, 18.2528, "hainan"),
    ("Futian, Shenzhen", 114.0550, 22.5410, "shenzhen"),
    ("Tianjin", 117.2009, 39.0842, None),
    ("People's Square, Puxi", 121.4737, 31.2304, None),
    ("Nanqiao, Fengxian, west of Jinhui Port", 121.4580, 30.9190, None),
    ("Dongguan", 113.7518, 23.0207, None),
    ("Hong Kong, Central", 114.1588, 22.2830, None),
    ("Yongxing Island, Sansha", 112.3350, 16.8340, None),
]


@pytest.mark.parametrize("crs", GEOGRAPHIC)
def test_landmarks(shipped: gpd.GeoDataFrame, crs: str) -> None:
    lon = np.array([m[1] for m in LANDMARKS])
    lat = np.array([m[2] for m in LANDMARKS])
    x, y = (lon, lat) if crs == "wgs84" else from_wgs84(lon, lat, crs)
    result = locate(x, y, crs=crs, zones=shipped)
    assert dict(zip([m[0] for m in LANDMARKS], zone_ids(result), strict=True)) == {
        m[0]: m[3] for m in LANDMARKS
    }
    assert not result["near_border"].any()  # all of them are clear of every review band


def test_default_zones_are_the_shipped_ones() -> None:
    result = locate([m[1] for m in LANDMARKS], [m[2] for m in LANDMARKS], crs="wgs84")
    assert zone_ids(result).tolist() == [m[3] for m in LANDMARKS]


# Points in each named component (WGS-84): the rest of a zone is its first component.
COMPONENT_PROBES = {
    "beijing/municipality": (116.3975, 39.9087),  # Tiananmen
    "beijing/daxing-airport": (116.410556, 39.509167),  # aerodrome reference point, in Hebei
    "shanghai/pudong": (121.5044, 31.2397),  # Lujiazui
    "shanghai/lingang-outside-pudong": (121.60, 30.90),  # Fengxian east of Jinhui Port
    "shanghai/xiaoyangshan": (122.06, 30.63),
    "hainan/island": (110.33, 20.03),  # Haikou
    "hainan/sansha": (112.34, 16.83),  # Yongxing island
    "shenzhen/city": (114.0579, 22.5431),
}


@pytest.mark.parametrize("space", ["wgs84", "gcj02"])
@pytest.mark.parametrize(
    "readings",
    [
        None,
        {
            "shanghai/lingang-outside-pudong": "exclude",
            "beijing/daxing-airport": "exclude",
            "hainan/sansha": "include",
        },
    ],
)
def test_component_of_each_point_whatever_its_reading(
    space: str, readings: dict[str, str] | None
) -> None:
    zones = load_zones(as_of="2025-01-01", readings=readings)
    lon, lat = np.array(list(COMPONENT_PROBES.values())).T
    x, y = from_wgs84(lon, lat, space) if space != "wgs84" else (lon, lat)
    found = locate(np.append(x, 100.0), np.append(y, 30.0), crs=space, zones=zones)
    assert found["component"].tolist() == [*COMPONENT_PROBES, np.nan]
    out = {c for c, r in zones.attrs["readings"].items() if r == "exclude"}
    expected_zone = [np.nan if c in out else c.split("/")[0] for c in COMPONENT_PROBES]
    assert found["zone_id"].tolist()[:-1] == expected_zone
    # the component is shapely's answer on the component outlines
    for component, (x0, y0) in COMPONENT_PROBES.items():
        parts = {c.component_id: c for row in zones["components"] for c in row}
        if parts[component].geometry is not None:
            assert shapely.covers(parts[component].geometry, shapely.Point(x0, y0))


@pytest.mark.parametrize("space", ["wgs84", "gcj02"])
@pytest.mark.parametrize(
    "component", ["shanghai/lingang-outside-pudong", "beijing/daxing-airport", "hainan/sansha"]
)
def test_component_agrees_with_shapely_on_its_outline(space: str, component: str) -> None:
    zones = load_zones(as_of="2025-01-01")
    (part,) = [c for row in zones["components"] for c in row if c.component_id == component]
    west, south, east, north = part.geometry.bounds
    rng = np.random.default_rng(7)
    lon = rng.uniform(west - 0.02, east + 0.02, 20_000)
    lat = rng.uniform(south - 0.02, north + 0.02, 20_000)
    if component == "hainan/sansha":  # its reefs are small: aim half the points at its vertices
        corners = shapely.get_coordinates(part.geometry)
        pick = corners[rng.integers(0, len(corners), 10_000)]
        lon[:10_000] = pick[:, 0] + rng.normal(0, 0.01, 10_000)
        lat[:10_000] = pick[:, 1] + rng.normal(0, 0.01, 10_000)
    x, y = from_wgs84(lon, lat, space) if space != "wgs84" else (lon, lat)
    found = locate(x, y, crs=space, zones=zones)
    zone = component.split("/")[0]
    # the zone holds it (read as review), or, excluded, it is outside every zone
    mine = found["zone_id"] == zone if part.reading != "exclude" else found["zone_id"].isna()
    covered = shapely.covers(part.geometry, shapely.points(lon, lat))
    got = (found["component"] == component).to_numpy()
    assert got[mine.to_numpy()].tolist() == covered[mine.to_numpy()].tolist()
    assert got.sum() > 100  # the test saw the component


# In Hebei, about 980 m east of the Daxing band's edge and 2,480 m from the Beijing line
BEYOND_THE_DAXING_BAND = (116.465484, 39.502656)


@pytest.mark.parametrize(
    ("reading", "near"), [(None, True), ("include", True), ("review", True), ("exclude", False)]
)
def test_the_daxing_band_edge_has_the_bands_accuracy(reading: str | None, near: bool) -> None:
    """The band's outer edge is a construction (1,500 m approximate), not the 200 m Beijing line;
    excluding the band drops its edge with it, and the Beijing line is 200 m again."""
    readings = None if reading is None else {"beijing/daxing-airport": reading}
    zones = load_zones(as_of="2025-01-01", readings=readings)
    lon, lat = BEYOND_THE_DAXING_BAND
    found = locate([lon], [lat], crs="wgs84", zones=zones, distance_limit_m=np.inf)
    assert found["zone_id"].isna().all()
    assert found["near_border"].tolist() == [near]
    # 980 m from the band's edge; 2,480 m from the Beijing line once the band is out
    expected = 2480.4 if reading == "exclude" else 980.4
    assert found["border_distance_m"].iloc[0] == pytest.approx(expected, abs=1.0)
