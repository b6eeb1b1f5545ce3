"""Tests for pilotzone.siting: site() and feasible_area(), and the site map in pilotzone.maps.

Margins are checked against a brute-force geodesic reference (the border
edges near each point densified in lon/lat, then the minimum of
``pyproj.Geod.inv``), signs against ``shapely.covers``, and the feasible area
and the nearest admissible points against :func:`pilotzone.locate` itself:
every point the feasible area holds must be compliant, and no sampled point
of the area may be nearer to a candidate than the one ``site`` proposes.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geodesic_reference import GEOD, edge_metres, reference_distance
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from pilotzone import maps
from pilotzone.crs import from_wgs84
from pilotzone.errors import CRSError, InputError
from pilotzone.locate import locate
from pilotzone.siting import INSET_M, SITE_COLUMNS, feasible_area, site
from pilotzone.zones import load_zones

ZONES = ["beijing", "shanghai", "hainan", "shenzhen"]
# The Jinhui Port canal line, the shipped data's longest edge (25 km, Lingang's west border).
JINHUI_EDGE = ((121.533767, 30.785948), (121.486194, 31.008151))
FAR = {  # WGS-84: far from every border
    "Tiananmen": (116.3975, 39.9087),
    "Lujiazui": (121.5044, 31.2397),
    "Haikou": (110.3312, 20.0311),
    "Futian": (114.0579, 22.5431),
    "Urumqi": (87.6168, 43.8256),
    "Harbin": (126.5349, 45.8038),
}


@functools.cache
def shipped_zones() -> gpd.GeoDataFrame:
    """The shipped zones on a fixed date; for hypothesis tests, which take no fixtures."""
    return load_zones(as_of="2025-01-01")


@pytest.fixture(scope="module")
def shipped() -> gpd.GeoDataFrame:
    return shipped_zones()


@pytest.fixture(scope="module")
def feasible(shipped: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    return {z: feasible_area(z, zones=shipped) for z in ZONES}


# --------------------------------------------------------------------------- helpers


def zone_row(zones: gpd.GeoDataFrame, zone_id: str) -> pd.Series:
    return zones[zones["zone_id"] == zone_id].iloc[0]


def segments_of(geometry: Any) -> NDArray[np.float64]:
    """Edges of a polygon's boundary as rows lon0, lat0, lon1, lat1."""
    rows = []
    for line in shapely.get_parts(shapely.boundary(geometry)):
        xy = shapely.get_coordinates(line)
        rows.append(np.column_stack([xy[:-1], xy[1:]]))
    return np.concatenate(rows)


def values(column: pd.Series) -> list[Any]:
    """A column as a list, with None wherever pandas has a missing value (NaN or None)."""
    return [None if pd.isna(v) else v for v in column]


def candidates_of(lon: Any, lat: Any, **columns: Any) -> pd.DataFrame:
    return pd.DataFrame({"lon": np.asarray(lon, float), "lat": np.asarray(lat, float), **columns})


def offset(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    p_lon, p_lat, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return float(p_lon), float(p_lat)


def band_oracle(row: pd.Series, lon: Any, lat: Any) -> NDArray[np.bool_]:
    """In the review band by the reference: within a stretch's accuracy, a coast's only outside.

    Every edge of a shipped border lies on one of its stretches (see test_locate).
    """
    lon, lat = np.atleast_1d(np.asarray(lon, float)), np.atleast_1d(np.asarray(lat, float))
    outside = ~shapely.intersects_xy(row.geometry, lon, lat)
    near = np.zeros(lon.shape, dtype=bool)
    for piece in row["approximate_borders"]:
        d, _ = reference_distance(lon, lat, lines_of(piece.geometry))
        near |= (d < piece.accuracy_m) & (outside if piece.border == "coast" else True)
    return near


def lines_of(geometry: Any) -> NDArray[np.float64]:
    rows = []
    for line in shapely.get_parts(geometry):
        xy = shapely.get_coordinates(line)
        rows.append(np.column_stack([xy[:-1], xy[1:]]))
    return np.concatenate(rows)


def short_edge(zones: gpd.GeoDataFrame, zone_id: str) -> tuple[float, float, float, float, str]:
    """Midpoint, azimuth, band and kind of a 200 m - 2 km border edge far from other edges'
    bands: a land border where the zone has one, else a coast; the azimuth turned so that
    +90 degrees points into the zone."""
    row = zone_row(zones, zone_id)
    segments = segments_of(row.geometry)
    lengths = edge_metres(segments)
    pieces = [p for p in row["approximate_borders"] if not p.approximate]
    kind = "land" if any(p.border == "land" for p in pieces) else "coast"
    own = max(
        (p for p in pieces if p.border == kind), key=lambda p: GEOD.geometry_length(p.geometry)
    )
    accuracy = own.accuracy_m
    for k in np.argsort(-lengths):
        if not 200.0 < lengths[k] < 2_000.0:
            continue
        m_lon, m_lat = (segments[k, :2] + segments[k, 2:]) / 2
        if not shapely.dwithin(own.geometry, shapely.Point(m_lon, m_lat), 1e-7):
            continue
        azimuth = float(GEOD.inv(*segments[k])[0])
        inner = offset(m_lon, m_lat, azimuth + 90.0, 3 * accuracy)
        outer = offset(m_lon, m_lat, azimuth - 90.0, 3 * accuracy)
        if not shapely.covers(row.geometry, shapely.Point(inner)):
            azimuth += 180.0
            inner, outer = outer, inner
        if not shapely.covers(row.geometry, shapely.Point(inner)) or shapely.covers(
            row.geometry, shapely.Point(outer)
        ):
            continue
        lon, lat = np.array([inner[0], outer[0]]), np.array([inner[1], outer[1]])
        expected, _ = reference_distance(lon, lat, segments)
        # nothing else nearer on either side, and no other stretch's band reaches them
        if np.allclose(expected, 3 * accuracy, rtol=1e-3) and not band_oracle(row, lon, lat).any():
            return float(m_lon), float(m_lat), azimuth, accuracy, kind
    raise AssertionError(f"no clean short edge in {zone_id}")


def short_admin_edge(zones: gpd.GeoDataFrame, zone_id: str) -> tuple[float, float, float]:
    """Midpoint and azimuth (+90 degrees into the zone) of a clean short land-border edge."""
    m_lon, m_lat, azimuth, _, kind = short_edge(zones, zone_id)
    assert kind == "land"
    return m_lon, m_lat, azimuth


# --------------------------------------------------------------------------- margins


@pytest.mark.parametrize("zone_id", ZONES)
def test_inside_near_and_outside_each_zone(shipped: gpd.GeoDataFrame, zone_id: str) -> None:
    """Across a land border the band holds both sides; across a coast (Hainan) only the sea's."""
    row = zone_row(shipped, zone_id)
    m_lon, m_lat, azimuth, accuracy, kind = short_edge(shipped, zone_id)
    assert kind == ("coast" if zone_id == "hainan" else "land")
    # metres across the border, positive into the zone
    across = [3.0, 0.5, 0.0, -0.5, -3.0]
    points = [offset(m_lon, m_lat, azimuth + 90.0, f * accuracy) for f in across]
    points.append(
        shapely.get_coordinates(
            feasible_area(zone_id, zones=shipped).geometry.iloc[0].representative_point()
        )[0]
    )
    lon, lat = np.array(points).T
    result = site(candidates_of(lon, lat), zone=zone_id, crs="wgs84", zones=shipped)

    expected, _ = reference_distance(lon, lat, segments_of(row.geometry))
    inside = shapely.covers(row.geometry, shapely.points(lon, lat))
    signed = np.where(inside, expected, -expected)
    margin = result["margin_m"].to_numpy()
    assert np.all(np.abs(margin - signed) <= np.maximum(0.01 * expected, 1.0))
    assert np.all((margin >= 0) == inside)
    if kind == "land":
        assert result["compliant"].tolist() == [True, False, False, False, False, True]
        assert result["near_border"].tolist() == [False, True, True, True, False, False]
    else:  # on the coast and inland of it: in the zone; offshore within the band: review
        assert result["compliant"].tolist() == [True, True, True, False, False, True]
        assert result["near_border"].tolist() == [False, False, False, True, False, False]
    assert result["near_border"].tolist() == band_oracle(row, lon, lat).tolist()
    assert result["zone_id"].iloc[0] == zone_id and result["zone_id"].iloc[-1] == zone_id
    assert result["margin_m"].iloc[-1] > (accuracy if kind == "land" else 0.0)
    assert (result["target_zone"] == zone_id).all()
    moved = result["nearest_lon"].notna().to_numpy()
    assert moved.tolist() == (~result["compliant"]).tolist()
    assert result["distance_to_zone_m"].notna().tolist() == moved.tolist()


@pytest.mark.parametrize("zone_id", ZONES)
def test_margins_agree_with_geodesic_reference(shipped: gpd.GeoDataFrame, zone_id: str) -> None:
    rng = np.random.default_rng(sum(map(ord, zone_id)))
    row = zone_row(shipped, zone_id)
    segments = segments_of(row.geometry)
    k = rng.integers(0, len(segments), 24)
    t = rng.uniform(0.0, 1.0, k.size)
    lon0 = segments[k, 0] + t * (segments[k, 2] - segments[k, 0])
    lat0 = segments[k, 1] + t * (segments[k, 3] - segments[k, 1])
    reach = np.concatenate(
        [rng.uniform(0.0, 2 * float(row["accuracy_m"]), 16), rng.uniform(0, 30_000, 8)]
    )
    lon, lat, _ = GEOD.fwd(lon0, lat0, rng.uniform(-180.0, 180.0, k.size), reach)
    far = np.array(list(FAR.values()))
    lon, lat = np.concatenate([lon, far[:, 0]]), np.concatenate([lat, far[:, 1]])

    result = site(candidates_of(lon, lat), zone=zone_id, crs="wgs84", zones=shipped)
    expected, _ = reference_distance(lon, lat, segments)
    inside = shapely.covers(row.geometry, shapely.points(lon, lat))
    margin = result["margin_m"].to_numpy()
    error = np.abs(margin - np.where(inside, expected, -expected))
    assert np.all(error <= np.maximum(0.01 * expected, 1.0))
    assert np.all((margin > 0) == inside) or np.all((margin >= 0) == inside)
    assert np.all(np.sign(margin[expected > 1.0]) == np.where(inside, 1, -1)[expected > 1.0])


def test_margins_beside_the_longest_edge(shipped: gpd.GeoDataFrame) -> None:
    # A 25 km edge: its projected chord would be 2.7 m off the lon/lat edge covers() uses.
    (a_lon, a_lat), (b_lon, b_lat) = JINHUI_EDGE
    azimuth = float(GEOD.inv(a_lon, a_lat, b_lon, b_lat)[0])
    m_lon, m_lat = a_lon + 0.5 * (b_lon - a_lon), a_lat + 0.5 * (b_lat - a_lat)
    points = [(m_lon, m_lat)] + [
        offset(m_lon, m_lat, azimuth + side, metres)
        for side in (-90.0, 90.0)
        for metres in (5.0, 50.0, 600.0)
    ]
    lon, lat = np.array(points).T
    result = site(candidates_of(lon, lat), zone="shanghai", crs="wgs84", zones=shipped)
    row = zone_row(shipped, "shanghai")
    expected, _ = reference_distance(lon, lat, segments_of(row.geometry))
    assert expected[0] < 0.01
    inside = shapely.covers(row.geometry, shapely.points(lon, lat))
    np.testing.assert_allclose(result["margin_m"], np.where(inside, expected, -expected), atol=1.0)
    assert result["near_border"].tolist() == [True, True, True, False, True, True, False]
    assert result["compliant"].tolist() == [False] * 6 + [inside[-1]]


def test_boundary_semantics(shipped: gpd.GeoDataFrame) -> None:
    hainan = zone_row(shipped, "hainan").geometry
    vertex = shapely.get_coordinates(hainan.geoms[0].exterior)[0]
    second_part = max(list(hainan.geoms)[1:], key=lambda p: p.area).representative_point()
    lon = [vertex[0], second_part.x]
    lat = [vertex[1], second_part.y]
    result = site(candidates_of(lon, lat), zone="hainan", crs="wgs84", zones=shipped)
    assert result["margin_m"].iloc[0] == pytest.approx(0.0, abs=0.01)  # on the border: inside
    assert result["zone_id"].iloc[0] == "hainan"
    # Hainan's border is all coast: a point on it is in the zone and not in any band
    assert not bool(result["near_border"].iloc[0]) and bool(result["compliant"].iloc[0])
    assert result["zone_id"].iloc[1] == "hainan" and result["margin_m"].iloc[1] > 0


def test_approximate_stretch_band_applies(shipped: gpd.GeoDataFrame) -> None:
    # Inside Lingang, 450 m from the Jinhui Port canal line: clear of the 400 m administrative
    # band, not of the canal's 500 m one.
    (a_lon, a_lat), (b_lon, b_lat) = JINHUI_EDGE
    azimuth = float(GEOD.inv(a_lon, a_lat, b_lon, b_lat)[0])
    m_lon, m_lat = a_lon + 0.3 * (b_lon - a_lon), a_lat + 0.3 * (b_lat - a_lat)
    lon, lat = offset(m_lon, m_lat, azimuth + 90.0, 450.0)
    result = site(candidates_of([lon], [lat]), zone="shanghai", crs="wgs84", zones=shipped)
    assert result["zone_id"].iloc[0] == "shanghai"
    assert result["margin_m"].iloc[0] > 400.0
    assert bool(result["near_border"].iloc[0]) and not bool(result["compliant"].iloc[0])
    area = feasible_area("shanghai", zones=shipped)
    assert not shapely.covers(area.geometry.iloc[0], shapely.Point(lon, lat))
    nearest = result[["nearest_lon", "nearest_lat"]].iloc[0].to_numpy()
    assert shapely.covers(area.geometry.iloc[0], shapely.Point(*nearest))


# --------------------------------------------------------------------------- nearest point


def _boundary_samples(area: Any, lon: float, lat: float, radius_deg: float) -> NDArray[np.float64]:
    """Points of the feasible area's edge within a box around a point, about 20 m apart."""
    window = shapely.box(lon - radius_deg, lat - radius_deg, lon + radius_deg, lat + radius_deg)
    edge = shapely.intersection(shapely.boundary(area), window)
    return shapely.get_coordinates(shapely.segmentize(edge, 0.0002))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    zone_id=st.sampled_from(ZONES),
    where=st.floats(0.0, 1.0),
    azimuth=st.floats(-180.0, 180.0),
    metres=st.floats(0.0, 8_000.0),
)
def test_nearest_admissible_point(
    zone_id: str, where: float, azimuth: float, metres: float
) -> None:
    zones = shipped_zones()
    row = zone_row(zones, zone_id)
    ring = shapely.boundary(row.geometry)
    start = shapely.line_interpolate_point(ring, where, normalized=True)
    lon, lat = offset(start.x, start.y, azimuth, metres)
    result = site(candidates_of([lon], [lat]), zone=zone_id, crs="wgs84", zones=zones).iloc[0]
    area = feasible_area(zone_id, zones=zones).geometry.iloc[0]
    if result["compliant"]:
        assert math.isnan(result["nearest_lon"]) and math.isnan(result["distance_to_zone_m"])
        return
    nearest = (result["nearest_lon"], result["nearest_lat"])
    assert shapely.covers(area, shapely.Point(nearest))
    again = site(candidates_of(*np.array([nearest]).T), zone=zone_id, crs="wgs84", zones=zones)
    assert bool(again["compliant"].iloc[0])
    move = float(GEOD.inv(lon, lat, *nearest)[2])
    assert result["distance_to_zone_m"] == pytest.approx(move, abs=1e-6)
    # no sampled point of the feasible area's edge is nearer (the proposal is INSET_M inside it)
    radius_deg = (move + 100.0) / 90_000.0
    samples = _boundary_samples(area, lon, lat, radius_deg)
    assert len(samples), "the nearest point's neighbourhood holds some of the area's edge"
    sampled = GEOD.inv(np.full(len(samples), lon), np.full(len(samples), lat), *samples.T)[2]
    assert move <= sampled.min() * 1.001 + INSET_M + 0.01


def test_nearest_point_far_away(shipped: gpd.GeoDataFrame, feasible: dict[str, Any]) -> None:
    lon, lat = FAR["Lujiazui"]
    result = site(candidates_of([lon], [lat]), zone="beijing", crs="wgs84", zones=shipped).iloc[0]
    nearest = shapely.Point(result["nearest_lon"], result["nearest_lat"])
    assert shapely.covers(feasible["beijing"].geometry.iloc[0], nearest)
    vertices = shapely.get_coordinates(feasible["beijing"].geometry.iloc[0])
    everywhere = GEOD.inv(np.full(len(vertices), lon), np.full(len(vertices), lat), *vertices.T)[2]
    assert result["distance_to_zone_m"] <= everywhere.min() * 1.001
    assert result["distance_to_zone_m"] >= -result["margin_m"]


# --------------------------------------------------------------------------- the feasible area


@pytest.mark.parametrize("zone_id", ZONES)
def test_feasible_area_is_valid_and_inside_the_zone(
    shipped: gpd.GeoDataFrame, feasible: dict[str, gpd.GeoDataFrame], zone_id: str
) -> None:
    area = feasible[zone_id]
    row = zone_row(shipped, zone_id)
    assert list(area.columns) == ["zone_id", "band_m", "widest_band_m", "area_km2", "geometry"]
    assert len(area) == 1 and area.crs.equals("EPSG:4326")
    shape = area.geometry.iloc[0]
    assert shape.is_valid and not shape.is_empty
    assert shape.geom_type in ("Polygon", "MultiPolygon")
    assert shapely.covers(row.geometry, shape)
    assert area["zone_id"].iloc[0] == zone_id
    assert area["band_m"].iloc[0] == row["accuracy_m"]
    # every shipped edge is on a stretch; coasts have no band inside the zone
    land = [p.accuracy_m for p in row["approximate_borders"] if p.border == "land"]
    assert area["widest_band_m"].iloc[0] == max(land, default=0.0)
    assert 0.8 * row["area_km2"] < area["area_km2"].iloc[0] <= row["area_km2"]
    whole = feasible_area(zone_id, band=False, zones=shipped)
    assert whole["area_km2"].iloc[0] == pytest.approx(row["area_km2"], rel=1e-3)
    assert whole["band_m"].iloc[0] == 0.0
    assert shapely.equals(whole.geometry.iloc[0], row.geometry)


@pytest.mark.parametrize("zone_id", ZONES)
def test_feasible_area_edge_is_just_clear_of_the_band(
    shipped: gpd.GeoDataFrame, feasible: dict[str, gpd.GeoDataFrame], zone_id: str
) -> None:
    """Every point of the area's edge is compliant for locate, and no farther than needed."""
    area = feasible[zone_id]
    edge = shapely.get_coordinates(shapely.boundary(area.geometry.iloc[0]))
    edge = edge[np.random.default_rng(7).choice(len(edge), min(len(edge), 400), replace=False)]
    row = zone_row(shipped, zone_id)
    where = locate(
        edge[:, 0], edge[:, 1], crs="wgs84", zones=shipped.iloc[[row.name]], distance_limit_m=np.inf
    )
    assert (where["zone_id"] == zone_id).all()
    assert not where["near_border"].any()
    distance = where["border_distance_m"].to_numpy()
    # clear of every land border's band; along a coast it keeps (about) the 1 m safety margin
    assert distance.min() > 0.5
    for piece in row["approximate_borders"]:
        if piece.border == "land":
            to_piece, _ = reference_distance(edge[:, 0], edge[:, 1], lines_of(piece.geometry))
            assert to_piece.min() >= piece.accuracy_m, piece.name
    widest = area["widest_band_m"].iloc[0]
    assert distance.max() <= widest * 1.003 + 2.0
    if widest == row["accuracy_m"]:  # one band all round: the edge runs along it
        assert np.median(distance) <= row["accuracy_m"] * 1.003 + 2.0


def test_feasible_area_saves_as_geojson(tmp_path: Path, feasible: dict[str, Any]) -> None:
    path = tmp_path / "shanghai-feasible.geojson"
    feasible["shanghai"].to_file(path, driver="GeoJSON")
    back = gpd.read_file(path)
    assert back.crs.equals("EPSG:4326")
    assert back["zone_id"].tolist() == ["shanghai"]
    assert back["band_m"].iloc[0] == 400.0
    assert (
        shapely.equals_exact(
            back.geometry.iloc[0], feasible["shanghai"].geometry.iloc[0], tolerance=1e-9
        )
        or back.geometry.iloc[0].symmetric_difference(feasible["shanghai"].geometry.iloc[0]).area
        < 1e-12
    )


def test_feasible_area_unknown_zone(shipped: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="unknown zone; the zones are beijing, shanghai"):
        feasible_area("tianjin", zones=shipped)


def test_feasible_area_of_a_zone_narrower_than_its_band() -> None:
    thin = gpd.GeoDataFrame(
        {"zone_id": ["strip"], "accuracy_m": [500.0]},
        geometry=[shapely.box(121.0, 31.0, 121.05, 31.005)],  # about 550 m wide
        crs="EPSG:4326",
    )
    zones = load_zones(boundaries=thin, as_of="2025-01-01")
    zones = zones[zones["zone_id"] == "strip"]
    area = feasible_area("strip", zones=zones)
    assert area.geometry.iloc[0].is_empty and area["area_km2"].iloc[0] == 0.0
    result = site(candidates_of([121.02], [31.0025]), zone="strip", crs="wgs84", zones=zones)
    assert not result["compliant"].iloc[0] and result["near_border"].iloc[0]
    assert math.isnan(result["nearest_lon"].iloc[0])


# --------------------------------------------------------------------------- target zone


def test_registration_gives_the_target(shipped: gpd.GeoDataFrame) -> None:
    frame = candidates_of(
        [FAR["Lujiazui"][0], FAR["Tiananmen"][0]], [FAR["Lujiazui"][1], FAR["Tiananmen"][1]]
    )
    by_zone = site(frame, zone="shanghai", crs="wgs84", zones=shipped)
    by_registration = site(frame, registration=(121.5300, 31.2200), crs="wgs84", zones=shipped)
    pd.testing.assert_frame_equal(by_zone, by_registration)
    assert by_zone.attrs["target_zone"] == "shanghai"
    assert by_zone["compliant"].tolist() == [True, False]


def test_registration_in_gcj02(shipped: gpd.GeoDataFrame) -> None:
    lon, lat = from_wgs84([114.0579], [22.5431], "gcj02")
    result = site(
        candidates_of(lon, lat), registration=(lon[0], lat[0]), crs="gcj02", zones=shipped
    )
    assert result["target_zone"].iloc[0] == "shenzhen" and bool(result["compliant"].iloc[0])


def test_registration_outside_every_zone(shipped: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match=r"registration.*lies in no zone"):
        site(candidates_of([116.4], [39.9]), registration=FAR["Urumqi"], crs="wgs84", zones=shipped)


def test_registration_that_cannot_be_placed(shipped: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="cannot be placed"):
        site(
            candidates_of([116.4], [39.9]),
            registration=(float("nan"), 39.9),
            crs="wgs84",
            zones=shipped,
        )
    with pytest.raises(InputError, match="must be"):
        site(candidates_of([116.4], [39.9]), registration="116.4,39.9", crs="wgs84", zones=shipped)


def test_registration_in_the_band_warns(shipped: gpd.GeoDataFrame) -> None:
    m_lon, m_lat, azimuth = short_admin_edge(shipped, "shenzhen")
    inside = offset(m_lon, m_lat, azimuth + 90.0, 50.0)
    with pytest.warns(UserWarning, match="review band of 'shenzhen'"):
        result = site(
            candidates_of([114.0579], [22.5431]), registration=inside, crs="wgs84", zones=shipped
        )
    assert result["target_zone"].iloc[0] == "shenzhen"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "exactly one of zone"),
        ({"zone": "beijing", "registration": (116.4, 39.9)}, "exactly one of zone"),
        ({"zone": "Beijing"}, "unknown zone"),
        ({"zone": None, "registration": None}, "exactly one of zone"),
    ],
)
def test_bad_target(shipped: gpd.GeoDataFrame, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        site(candidates_of([116.4], [39.9]), crs="wgs84", zones=shipped, **arguments)


def test_target_zone_not_active() -> None:
    before = load_zones(as_of="2024-01-01")
    with pytest.raises(InputError, match=r"not active on 2024-01-01 .*load_zones\(as_of"):
        site(candidates_of([116.4], [39.9]), zone="beijing", crs="wgs84", zones=before)


def test_crs_is_required(shipped: gpd.GeoDataFrame) -> None:
    with pytest.raises(CRSError):
        site(candidates_of([116.4], [39.9]), zone="beijing", crs=None, zones=shipped)
    with pytest.raises(CRSError):  # nor a crs column: nothing is assumed
        site(candidates_of([116.4], [39.9]), zone="beijing", zones=shipped)


# --------------------------------------------------------------------------- input and output


def test_rows_index_and_columns_are_kept(shipped: gpd.GeoDataFrame) -> None:
    lon, lat = np.array(list(FAR.values())).T
    frame = candidates_of(lon, lat, name=list(FAR), cost=np.arange(len(FAR)) * 1.5)
    frame.index = [f"c{i}" for i in range(len(frame))][::-1]
    result = site(frame, zone="shenzhen", crs="wgs84", zones=shipped)
    assert list(result.index) == list(frame.index)
    assert list(result.columns) == ["lon", "lat", "name", "cost", *SITE_COLUMNS, "geometry"]
    assert result.crs.equals("EPSG:4326")
    pd.testing.assert_frame_equal(pd.DataFrame(result[frame.columns]), frame)
    assert values(result["zone_id"]) == ["beijing", "shanghai", "hainan", "shenzhen", None, None]
    assert result["compliant"].tolist() == [False, False, False, True, False, False]
    assert result["compliant"].dtype == bool and result["near_border"].dtype == bool
    np.testing.assert_allclose(shapely.get_x(result.geometry.values), lon)
    # ranking, as the docstring shows
    ranked = result.sort_values(["compliant", "margin_m"], ascending=False)
    assert ranked["name"].tolist() == [
        "Futian",
        "Haikou",
        "Lujiazui",
        "Tiananmen",
        "Harbin",
        "Urumqi",
    ]


def test_its_own_output_can_be_sited_again(shipped: gpd.GeoDataFrame) -> None:
    lon, lat = np.array(list(FAR.values())).T
    first = site(candidates_of(lon, lat), zone="hainan", crs="wgs84", zones=shipped)
    second = site(first, zone="beijing", crs="wgs84", zones=shipped)
    assert list(second.columns) == list(first.columns)
    assert second["target_zone"].eq("beijing").all()
    assert second["compliant"].tolist() == [True, False, False, False, False, False]


def test_coordinates_that_cannot_be_placed(shipped: gpd.GeoDataFrame) -> None:
    frame = candidates_of([116.4, np.nan, 39.9, 500.0], [39.9, 39.9, 116.4, 39.9])
    result = site(frame, zone="beijing", crs="wgs84", zones=shipped)
    assert values(result["coordinate_issue"]) == [
        None,
        "missing",
        "probably_swapped",
        "out_of_range",
    ]
    assert result["compliant"].tolist() == [True, False, False, False]
    assert result["margin_m"].iloc[1:].isna().all() and result["nearest_lon"].iloc[1:].isna().all()
    assert result.geometry.iloc[1:].isna().all()
    assert not result["near_border"].iloc[1:].any()


def test_gcj02_and_projected_input_agree_with_wgs84(shipped: gpd.GeoDataFrame) -> None:
    lon, lat = np.array(list(FAR.values())[:4]).T
    reference = site(candidates_of(lon, lat), zone="shenzhen", crs="wgs84", zones=shipped)
    for crs in ("gcj02", "bd09", "EPSG:32650"):
        x, y = from_wgs84(lon, lat, crs)
        other = site(candidates_of(x, y), zone="shenzhen", crs=crs, zones=shipped)
        # each is within locate's 0.5 m of the geodesic distance; in practice within a few cm
        np.testing.assert_allclose(other["margin_m"], reference["margin_m"], rtol=1e-6, atol=0.05)
        # The nearest points are given in the input's own system, and in WGS-84 by name.
        for axis in ("lon", "lat"):
            np.testing.assert_allclose(
                other[f"nearest_{axis}_wgs84"], reference[f"nearest_{axis}"], atol=1e-7
            )
        back = from_wgs84(reference["nearest_lon"], reference["nearest_lat"], crs)
        np.testing.assert_allclose(other["nearest_lon"], back[0], atol=1e-7, rtol=1e-9)
        np.testing.assert_allclose(other["nearest_lat"], back[1], atol=1e-7, rtol=1e-9)
        np.testing.assert_allclose(shapely.get_x(other.geometry.values), lon, atol=1e-7)
        assert other["compliant"].tolist() == reference["compliant"].tolist()


def test_geodataframe_of_points(shipped: gpd.GeoDataFrame) -> None:
    lon, lat = np.array(list(FAR.values())[:4]).T
    points = gpd.GeoDataFrame(
        {"name": list(FAR)[:4]}, geometry=gpd.points_from_xy(lon, lat), crs=4326
    )
    result = site(points, zone="beijing", crs="wgs84", zones=shipped)
    assert result["compliant"].tolist() == [True, False, False, False]
    assert "lon" not in result.columns and result.geometry.name == "geometry"
    lines = points.set_geometry([shapely.LineString([(0, 0), (1, 1)])] * 4)
    with pytest.raises(InputError, match="must be points"):
        site(lines, zone="beijing", crs="wgs84", zones=shipped)


def test_csv_files(tmp_path: Path, shipped: gpd.GeoDataFrame) -> None:
    text = (
        "编号,名称,LON,Lat,cost,备注\n007,天安门,116.3975,39.9087,12.5,甲\n"
        "008,陆家嘴,121.5044,31.2397,,乙\n009,空,,,3,\n"
    )
    for encoding in ("utf-8-sig", "gb18030"):
        path = tmp_path / f"candidates-{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        result = site(path, zone="beijing", crs="wgs84", zones=shipped)
        assert result["名称"].tolist() == ["天安门", "陆家嘴", "空"]
        assert result["编号"].tolist() == ["007", "008", "009"]  # codes stay text
        assert values(result["cost"]) == [12.5, None, 3.0]
        assert values(result["lon"]) == [116.3975, 121.5044, None]
        assert result["compliant"].tolist() == [True, False, False]
        assert values(result["coordinate_issue"]) == [None, None, "missing"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "name,lon,lat\na,116.4,north\nb,east,39.9\n",
            r"2 problems.*row 1, column 'lat': not a number \(value 'north'\).*row 2, column 'lon'",
        ),
        ("name,east,north\na,116.4,39.9\n", r"column 'lon': column missing.*column 'lat'"),
        ("", "the file is empty"),
    ],
)
def test_bad_csv(tmp_path: Path, shipped: gpd.GeoDataFrame, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=re.compile(message, re.DOTALL)) as error:
        site(path, zone="beijing", crs="wgs84", zones=shipped)
    assert path.name in str(error.value)


def test_missing_and_unsupported_files(tmp_path: Path, shipped: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="No such file"):
        site(tmp_path / "nowhere.csv", zone="beijing", crs="wgs84", zones=shipped)
    with pytest.raises(InputError, match=r"unknown file type '\.doc'"):
        site(tmp_path / "candidates.doc", zone="beijing", crs="wgs84", zones=shipped)
    with pytest.raises(InputError, match="must be a DataFrame"):
        site([(116.4, 39.9)], zone="beijing", crs="wgs84", zones=shipped)  # type: ignore[arg-type]


def test_empty_candidates(shipped: gpd.GeoDataFrame) -> None:
    result = site(candidates_of([], []), zone="beijing", crs="wgs84", zones=shipped)
    assert len(result) == 0 and list(result.columns)[-len(SITE_COLUMNS) - 1 : -1] == list(
        SITE_COLUMNS
    )


# --------------------------------------------------------------------------- the site map


def test_site_map(shipped: gpd.GeoDataFrame, feasible: dict[str, Any], tmp_path: Path) -> None:
    m_lon, m_lat, azimuth = short_admin_edge(shipped, "shenzhen")
    in_band = offset(m_lon, m_lat, azimuth + 90.0, 50.0)
    lon = [FAR["Futian"][0], in_band[0], FAR["Lujiazui"][0], np.nan]
    lat = [FAR["Futian"][1], in_band[1], FAR["Lujiazui"][1], np.nan]
    names = ["Futian DC", "<img src=x onerror=alert(1)>", "Lujiazui `${x}`", "nowhere"]
    result = site(candidates_of(lon, lat, name=names), zone="shenzhen", crs="wgs84", zones=shipped)
    m = maps.explore_sites(result, feasible["shenzhen"], zones=shipped)
    page = m.get_root().render()
    (data,) = map_data(page)
    markup = MAP_DATA.sub("", page)
    assert "<img src=x" not in page and "<img" not in markup and "${x}" not in markup
    popups = {
        "".join(p if isinstance(p, str) else p[0] for p in item[5][0]): item
        for item in data["items"]
        if len(item) > 5
    }
    assert set(popups) == set(names[:3])  # the texts whole, as filed
    assert popups["Lujiazui `${x}`"][4].startswith("Lujiazui `${x}` · -")
    assert data["overlays"][-3:] == ["Compliant", "In the review band", "Outside the zone"]
    legend = legend_of(data)
    for label in (
        "Compliant (1)",
        "In the review band (1)",
        "Outside the zone (1)",
        "Candidates without a location (not drawn): 1",
    ):
        assert label in legend
    kinds = [data["kinds"][item[0]]["type"] for item in data["items"]]
    assert kinds.count("line") == 2  # one move for each candidate that is not compliant
    assert kinds.count("marker") == 3 + 2  # candidates and their nearest points
    assert "+" + f"{result['margin_m'].iloc[0]:,.0f} m" in popups["Futian DC"][4]
    saved = maps.save_map(m, tmp_path / "sites.html")
    assert "https://" not in re.sub(
        r"https://(leafletjs|openstreetmap)[^\"']*", "", saved.read_text()
    )
    zh = maps.explore_sites(result, feasible["shenzhen"], zones=shipped, lang="zh", basemap="gaode")
    legend = legend_of(map_data(zh.get_root().render())[0])
    assert "合规 (1)" in legend and "GCJ-02" in legend


MAP_DATA = re.compile(
    r'<script type="application/json" id="pilotzone_data_[0-9a-f]{32}">(.*?)</script>', re.S
)


def map_data(page: str) -> list[dict[str, Any]]:
    """The data of the pilotzone drawings in a map page, parsed back from their JSON."""
    return [json.loads(text) for text in MAP_DATA.findall(page)]


def legend_of(data: dict[str, Any]) -> str:
    return "\n".join(
        "".join(p if isinstance(p, str) else p[0] for p in line) for _, line in data["legend"]
    )


def test_site_map_needs_site_columns(shipped: gpd.GeoDataFrame, feasible: dict[str, Any]) -> None:
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy([114.0], [22.6]), crs=4326)
    with pytest.raises(
        InputError, match=re.escape("column missing; pass what pilotzone.site returns")
    ):
        maps.explore_sites(points, feasible["shenzhen"], zones=shipped)


# --------------------------------------------------------------------------- command line

AS_OF = "2025-01-01"
CLI_CANDIDATES = (  # GCJ-02, as picked on AMap
    "name,lon,lat,cost\n"
    "DC-1,113.874912,22.576971,10\n"
    "DC-2,114.304855,22.767225,12\n"
    '"=HYPERLINK(""http://x"")",114.075123,22.507300,5\n'
)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from pilotzone.cli import main

    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_site_writes_table_area_and_map(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "candidates.csv"
    path.write_text(CLI_CANDIDATES, encoding="utf-8")
    out = tmp_path / "out"
    status, stdout, err = run_cli(
        capsys,
        "site",
        str(path),
        "--zone",
        "shenzhen",
        "--crs",
        "gcj02",
        "--out",
        str(out),
        "--as-of",
        AS_OF,
    )
    assert status == 1, err  # one candidate is outside Shenzhen
    assert "Sited" in stdout and "compliant 2 / 3" in stdout and "outside the zone" in stdout
    table = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert table["rank"].tolist() == [1, 2, 3]
    assert table["name"].tolist() == ["DC-1", "DC-2", '\'=HYPERLINK("http://x")']  # not a formula
    assert table["compliant"].tolist() == [True, True, False]
    assert table["margin_m"].is_monotonic_decreasing
    assert table[["nearest_lon", "nearest_lat", "distance_to_zone_m"]].iloc[2].notna().all()
    area = gpd.read_file(out / "feasible_area.geojson")
    assert area["zone_id"].tolist() == ["shenzhen"] and area.crs.equals("EPSG:4326")
    page = (out / "sites_map.html").read_text(encoding="utf-8")
    assert "Outside the zone (1)" in page and page.count("L.polyline(") == 1
    assert not list(out.glob(".*"))  # no temporary files left behind


def test_cli_site_exit_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "inside.csv"
    path.write_text("name,lon,lat\nLujiazui,121.5044,31.2397\n", encoding="utf-8")
    common = ["--crs", "wgs84", "--as-of", AS_OF]
    assert run_cli(capsys, "site", str(path), "--zone", "shanghai", *common)[0] == 0
    status, stdout, _ = run_cli(capsys, "site", str(path), "--registration=121.53,31.22", *common)
    assert status == 0 and "(shanghai)" in stdout
    assert run_cli(capsys, "site", str(path), "--zone", "beijing", *common)[0] == 1
    status, _, err = run_cli(capsys, "site", str(path), "--zone", "tianjin", *common)
    assert status == 2 and "unknown zone" in err and "Traceback" not in err
    status, _, err = run_cli(capsys, "site", str(path), "--registration=-74,40.7", *common)
    assert status == 2 and "lies in no zone" in err
    status, _, err = run_cli(capsys, "site", str(path), "--registration", "121.5", *common)
    assert status == 2 and "give LON,LAT" in err
    status, _, err = run_cli(capsys, "site", str(path), "--crs", "wgs84")
    assert status == 2 and "one of the arguments --zone --registration is required" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("name,east,north\na,1,2\n", encoding="utf-8")
    status, _, err = run_cli(capsys, "site", str(bad), "--zone", "shanghai", *common)
    assert status == 2 and "bad.csv, column 'lon': column missing" in err


def test_cli_site_subprocess(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "candidates.csv"
    path.write_text(CLI_CANDIDATES, encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pilotzone",
            "site",
            str(path),
            "--zone",
            "shenzhen",
            "--crs",
            "gcj02",
            "--as-of",
            AS_OF,
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert done.returncode == 1, done.stderr
    assert "DC-1" in done.stdout and (tmp_path / "out" / "sites_map.html").is_file()
