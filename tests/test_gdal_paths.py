"""GDAL reads the bytes pilotzone checked, never a path it would read its own way (issue #17).

GDAL takes ``a;b.geojson`` to mean the file ``a``: a filing or boundary file
whose name holds a ``;`` passed the format check on its own bytes while GDAL
read another file beside it, which no check had seen (an OGR VRT, say).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from pilotzone.facilities import read_facilities
from pilotzone.zones import load_zones


def feature_collection(operator: str, lon: float, lat: float) -> str:
    properties = {"operator_id": operator, "kind": "registration", "crs": "wgs84"}
    point = {"type": "Point", "coordinates": [lon, lat]}
    feature = {"type": "Feature", "properties": properties, "geometry": point}
    return json.dumps({"type": "FeatureCollection", "features": [feature]})


@pytest.fixture
def decoy(tmp_path: Path) -> Path:
    """A GeoJSON file named ``semi`` that a path ``semi;colon.*`` would make GDAL read."""
    path = tmp_path / "semi"
    path.write_text(feature_collection("DECOY", 0.0, 0.0), encoding="utf-8")
    return path


def test_a_geojson_filing_named_with_a_semicolon_is_read_itself(
    tmp_path: Path, decoy: Path
) -> None:
    path = tmp_path / "semi;colon.geojson"
    path.write_text(feature_collection("OP1", 116.4, 39.9), encoding="utf-8")
    sites = read_facilities(path)
    assert sites["operator_id"].tolist() == ["OP1"]
    assert sites["lon"].tolist() == [116.4]


def test_a_shapefile_filing_is_read_from_its_own_parts(tmp_path: Path, decoy: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"operator": ["OP1"], "kind": ["registration"], "crs": ["wgs84"]},
        geometry=[shapely.Point(116.4, 39.9)],
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "parts.shp", engine="pyogrio")
    for part in tmp_path.glob("parts.*"):
        part.rename(tmp_path / f"semi;colon{part.suffix}")
    sites = read_facilities(tmp_path / "semi;colon.shp")
    assert sites["operator_id"].tolist() == ["OP1"]
    assert sites["lat"].tolist() == [39.9]


def test_a_boundary_file_named_with_a_semicolon_is_read_itself(tmp_path: Path) -> None:
    square = shapely.box(100.0, 30.0, 101.0, 31.0)  # in no pilot zone
    zone = {"zone_id": "square", "name_en": "Square", "accuracy_m": 100}
    decoy_zone = {**zone, "zone_id": "decoy"}
    gpd.GeoDataFrame([decoy_zone], geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326").to_file(
        tmp_path / "semi", driver="GeoJSON", engine="pyogrio"
    )
    gpd.GeoDataFrame([zone], geometry=[square], crs="EPSG:4326").to_file(
        tmp_path / "zones.geojson", driver="GeoJSON", engine="pyogrio"
    )
    (tmp_path / "zones.geojson").rename(tmp_path / "semi;colon.geojson")
    zones = load_zones(boundaries=tmp_path / "semi;colon.geojson")
    assert "square" in zones["zone_id"].tolist()
    assert "decoy" not in zones["zone_id"].tolist()
