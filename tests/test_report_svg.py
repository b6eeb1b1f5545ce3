"""Tests for pilotzone._report_svg: the report's overview map, one SVG inset per zone (#21).

Results are made here: points around the shipped zones with a status and a
kind each. The SVG is read back with ElementTree and its path data turned into
shapely geometries, so the drawing is checked against shapely, not against
itself.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilotzone._geodesy import GEOD
from pilotzone._report_svg import CELL, HEIGHT, WIDTH, overview
from pilotzone.verify import STATUSES
from pilotzone.zones import load_zones

SVG = "{http://www.w3.org/2000/svg}"
AS_OF = "2025-01-01"
MARK = re.compile(r"M(-?[\d.]+) (-?[\d.]+)h0")


@pytest.fixture(scope="module")
def zones() -> Any:
    return load_zones(as_of=AS_OF)


def result_of(lon: Any, lat: Any, status: Any, kind: Any = None) -> gpd.GeoDataFrame:
    """A verify-shaped result: points (WGS-84), statuses and kinds."""
    n = len(lon)
    kind = ["idc"] * n if kind is None else kind
    return gpd.GeoDataFrame(
        {"status": status, "kind": kind},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def marks(root: ET.Element, status: str) -> list[tuple[float, float]]:
    """The centres of the marks of one status (its coloured layer, the last path of its group)."""
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == status]
    if not groups:
        return []
    (group,) = groups
    data = group.findall(f"{SVG}path")[-1].get("d") or ""
    return [(float(x), float(y)) for x, y in MARK.findall(data)]


def outline(root: ET.Element) -> shapely.Geometry:
    """The zone's drawn outline as a shapely geometry (rings combined even-odd)."""
    (path,) = [p for p in root.iter(f"{SVG}path") if p.get("class") == "zone"]
    rings = []
    for ring in re.findall(r"M([^MZ]+)Z", path.get("d") or ""):
        numbers = [float(v) for v in ring.split()]
        rings.append(shapely.Polygon(list(zip(numbers[::2], numbers[1::2], strict=True))))
    shape = shapely.Polygon()
    for ring in rings:
        shape = shapely.symmetric_difference(shape, shapely.make_valid(ring))
    return shape


def test_one_inset_per_zone_in_the_zones_order(zones: Any) -> None:
    insets, outside = overview(result_of([], [], []), zones)
    assert [i.zone_id for i in insets] == zones["zone_id"].tolist()
    assert outside == 0
    for inset in insets:
        root = parse(inset.svg)
        assert root.get("viewBox") == f"0 0 {WIDTH} {HEIGHT}"
        assert root.get("data-zone") == inset.zone_id
        assert inset.shown == dict.fromkeys(("compliant", "invalid", "review", "violation"), 0)


def test_the_outline_is_the_zone_drawn_to_the_frame(zones: Any) -> None:
    """Differential: the drawn outline's share of the frame matches shapely's area share,
    and a point inside the zone (shapely) is drawn inside the outline."""
    inside = [shapely.point_on_surface(g) for g in zones.geometry]
    result = result_of([p.x for p in inside], [p.y for p in inside], ["violation"] * len(inside))
    insets, _ = overview(result, zones)
    for inset, geometry in zip(insets, zones.geometry, strict=True):
        root = parse(inset.svg)
        drawn = outline(root)
        assert drawn.is_valid and not drawn.is_empty
        assert shapely.box(-1, -1, WIDTH + 1, HEIGHT + 1).contains(drawn)
        (mark,) = marks(root, "violation")
        assert drawn.buffer(CELL).contains(shapely.Point(mark)), inset.zone_id
        # The zone fills the frame's larger side, less the padding, in both directions.
        minx, miny, maxx, maxy = drawn.bounds
        assert max((maxx - minx) / WIDTH, (maxy - miny) / HEIGHT) > 0.8
        # Aspect ratio: drawn width/height against the zone's geodesic width/height.
        west, south, east, north = geometry.bounds
        mid = (south + north) / 2
        wide = GEOD.inv(west, mid, east, mid)[2]
        tall = GEOD.inv(west, south, west, north)[2]
        assert (maxx - minx) / (maxy - miny) == pytest.approx(wide / tall, rel=0.03)


def test_the_scale_bar_is_a_round_length_of_the_right_size(zones: Any) -> None:
    """The bar's length in drawing units against the geodesic size of the zone's box."""
    insets, _ = overview(result_of([], [], []), zones)
    for inset, geometry in zip(insets, zones.geometry, strict=True):
        root = parse(inset.svg)
        (group,) = [g for g in root.iter(f"{SVG}g") if g.get("class") == "scale"]
        label = group.find(f"{SVG}text").text or ""
        value, unit = label.split()
        metres = float(value) * (1000 if unit == "km" else 1)
        assert metres / 10 ** math.floor(math.log10(metres)) in (1, 2, 5)
        bar = float(re.search(r"h([\d.]+)", group.find(f"{SVG}path").get("d") or "").group(1))
        west, south, _, north = geometry.bounds
        tall = GEOD.inv(west, south, west, north)[2]
        _, miny, _, maxy = outline(root).bounds
        assert bar / (maxy - miny) == pytest.approx(metres / tall, rel=0.05)


points = st.lists(
    st.tuples(
        st.sampled_from([(116.40, 39.90), (121.55, 31.22), (110.33, 20.03), (114.06, 22.55)]),
        st.floats(-3, 3),
        st.floats(-3, 3),
        st.sampled_from(STATUSES),
        st.booleans(),
    ),
    max_size=60,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(points=points, unlocated=st.integers(0, 3))
def test_every_located_row_is_in_one_inset_or_counted_outside(
    zones: Any, points: list[Any], unlocated: int
) -> None:
    """The shipped zones' frames do not overlap: each located row is shown once or counted."""
    lon = [c[0] + dx for c, dx, _, _, _ in points] + [math.nan] * unlocated
    lat = [c[1] + dy for c, _, dy, _, _ in points] + [math.nan] * unlocated
    status = [s for *_, s, _ in points] + ["invalid"] * unlocated
    kind = ["registration" if r else "idc" for *_, r in points] + ["idc"] * unlocated
    result = result_of(lon, lat, status, kind)
    result.loc[result.index[len(points) :], "geometry"] = None
    insets, outside = overview(result, zones)
    assert sum(sum(i.shown.values()) for i in insets) + outside == len(points)
    for code in STATUSES:
        assert sum(i.shown[code] for i in insets) <= status.count(code)
    for inset in insets:
        root = parse(inset.svg)
        for code in STATUSES:
            assert bool(marks(root, code)) == bool(inset.shown[code])
            assert len(marks(root, code)) <= inset.shown[code]


def test_marks_are_bounded_whatever_the_row_count(zones: Any) -> None:
    """200,000 facilities in one frame: at most one mark per cell and status, a small SVG."""
    rng = np.random.default_rng(7)
    n = 200_000
    lon = 116.40 + rng.normal(0, 0.4, n)
    lat = 39.90 + rng.normal(0, 0.3, n)
    status = rng.choice(np.array(STATUSES), n)
    kind = np.where(rng.random(n) < 0.02, "registration", "idc")
    insets, _ = overview(result_of(lon, lat, status, kind), zones)
    beijing = insets[0]
    assert sum(beijing.shown.values()) > 150_000
    cells = (WIDTH // CELL + 1) * (HEIGHT // CELL + 1)
    root = parse(beijing.svg)
    for code in STATUSES:
        drawn = marks(root, code)
        assert 0 < len(drawn) <= cells
        assert len(set(drawn)) == len(drawn)
    assert len(beijing.svg) < 400_000


def test_areas_are_drawn_at_a_point_on_them_and_the_result_is_left_alone(zones: Any) -> None:
    """A polygon row is marked at shapely's point on its surface; the caller's geometry stays."""
    square = shapely.box(116.30, 39.80, 116.40, 39.90)
    result = gpd.GeoDataFrame(
        {"status": ["violation"], "kind": ["idc"]}, geometry=[square], crs="EPSG:4326"
    )
    insets, outside = overview(result, zones)
    assert result.geometry.iloc[0].equals(square)
    assert insets[0].shown["violation"] == 1 and outside == 0
    drawn = outline(parse(insets[0].svg))
    assert drawn.buffer(CELL).contains(shapely.Point(marks(parse(insets[0].svg), "violation")[0]))
