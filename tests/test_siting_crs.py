"""Siting speaks the input's coordinate system (issue 19, item 6).

Every coordinate column :func:`pilotzone.site` writes is in the input's own
system unless its name ends in ``_wgs84``; a row's own ``crs`` cell wins over
``crs=`` (and a warning says so); ``site`` reads every format ``verify``
reads; a candidate in the review band is "review" on either side of the
border, as :func:`pilotzone.locate` says; and :func:`pilotzone.feasible_area`
gives its area in GCJ-02 on request.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from pilotzone._paths import sample_filing
from pilotzone.cli import main
from pilotzone.crs import from_wgs84, geometry_from_wgs84
from pilotzone.errors import InputError
from pilotzone.locate import locate
from pilotzone.siting import feasible_area, site
from pilotzone.zones import load_zones

AS_OF = "2025-01-01"
# WGS-84: Futian (inside Shenzhen), Tiananmen and Lujiazui (outside it)
LON = np.array([114.0579, 116.3975, 121.5044])
LAT = np.array([22.5431, 39.9087, 31.2397])


@pytest.fixture(scope="module")
def zones() -> gpd.GeoDataFrame:
    return load_zones(as_of=AS_OF)


def test_nearest_point_is_in_the_inputs_system(zones: gpd.GeoDataFrame) -> None:
    """A suggestion pasted into AMap (GCJ-02) lands in the zone: sited again, it is compliant."""
    x, y = from_wgs84(LON, LAT, "gcj02")
    result = site(pd.DataFrame({"lon": x, "lat": y}), zone="shenzhen", crs="gcj02", zones=zones)
    assert result["compliant"].tolist() == [True, False, False]
    moved = result.iloc[1:]
    again = site(
        pd.DataFrame({"lon": moved["nearest_lon"], "lat": moved["nearest_lat"]}),
        zone="shenzhen",
        crs="gcj02",
        zones=zones,
    )
    assert again["compliant"].all()
    back = from_wgs84(moved["nearest_lon_wgs84"], moved["nearest_lat_wgs84"], "gcj02")
    np.testing.assert_allclose(moved["nearest_lon"], back[0], atol=1e-9)
    np.testing.assert_allclose(moved["nearest_lat"], back[1], atol=1e-9)
    assert result.attrs["crs"] == "gcj02"


def test_a_rows_own_crs_wins(zones: gpd.GeoDataFrame) -> None:
    """The README's example: a GCJ-02 filing sited with crs="wgs84" is read as GCJ-02, loudly."""
    filing = pd.read_csv(sample_filing(), dtype=str, keep_default_na=False)
    filing = filing[filing["crs"] == "gcj02"]
    assert len(filing) > 10
    with pytest.warns(UserWarning, match=rf"{len(filing)} candidates .* \(gcj02\).*crs='wgs84'"):
        told_wgs84 = site(filing, zone="shanghai", crs="wgs84", zones=zones)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_filed = site(filing, zone="shanghai", crs="gcj02", zones=zones)
        no_argument = site(filing, zone="shanghai", crs=None, zones=zones)
    for other in (as_filed, no_argument):
        np.testing.assert_array_equal(told_wgs84["margin_m"], other["margin_m"])
        assert told_wgs84["compliant"].tolist() == other["compliant"].tolist()
    # a mixed table: each row in its own system, blanks in crs=
    x, y = from_wgs84(LON, LAT, "gcj02")
    mixed = pd.DataFrame(
        {"经度": [x[0], LON[1], LON[2]], "纬度": [y[0], LAT[1], LAT[2]], "坐标系": ["高德", "", ""]}
    )
    with pytest.warns(UserWarning, match=r"1 candidates .* \(gcj02\) in column '坐标系'"):
        result = site(mixed, zone="shenzhen", crs="wgs84", zones=zones)
    np.testing.assert_allclose(shapely.get_x(result.geometry.values), LON, atol=1e-7)
    assert result["compliant"].tolist() == [True, False, False]
    np.testing.assert_allclose(result["nearest_lon"].iloc[1:], result["nearest_lon_wgs84"].iloc[1:])
    with pytest.raises(InputError, match=r"row 2, column '坐标系': unknown coordinate system"):
        site(
            mixed.assign(坐标系=["gcj02", "nowhere", ""]), zone="shenzhen", crs="wgs84", zones=zones
        )


def test_site_reads_what_verify_reads(tmp_path: Path, zones: gpd.GeoDataFrame) -> None:
    """Excel with Chinese headers and GeoJSON, as read_facilities reads them."""
    x, y = from_wgs84(LON, LAT, "gcj02")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["名称", "经度", "纬度", "坐标系"])
    for name, lon, lat in zip(["福田", "天安门", "陆家嘴"], x, y, strict=True):
        sheet.append([name, float(lon), float(lat), "gcj02"])
    book.save(tmp_path / "候选.xlsx")
    features = [
        {
            "type": "Feature",
            "properties": {"name": name},
            "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
        }
        for name, lon, lat in zip(["a", "b", "c"], LON, LAT, strict=True)
    ]
    geojson = tmp_path / "candidates.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    excel = site(tmp_path / "候选.xlsx", zone="shenzhen", crs=None, zones=zones)
    spatial = site(geojson, zone="shenzhen", crs=None, zones=zones)
    for result in (excel, spatial):
        assert result["compliant"].tolist() == [True, False, False]
        np.testing.assert_allclose(shapely.get_x(result.geometry.values), LON, atol=1e-7)
    np.testing.assert_allclose(excel["lon"], x)  # as filed, in GCJ-02
    np.testing.assert_allclose(spatial["lon"], LON)  # a GeoJSON's points, in WGS-84
    assert excel["名称"].tolist() == ["福田", "天安门", "陆家嘴"]


def test_outside_in_the_band_is_review_as_locate_says(
    tmp_path: Path, zones: gpd.GeoDataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    """North from Futian across Shenzhen's border: the first point outside but in the band."""
    row = zones[zones["zone_id"] == "shenzhen"]
    lat = np.arange(22.55, 22.90, 0.00005)
    lon = np.full(lat.shape, 114.0579)
    here = locate(lon, lat, crs="wgs84", zones=row, distance_limit_m=np.inf)
    outside = np.flatnonzero(here["zone_id"].isna().to_numpy() & here["near_border"].to_numpy())
    assert outside.size
    k = int(outside[0])
    path = tmp_path / "border.csv"
    path.write_text(f"name,lon,lat\nedge,{float(lon[k])!r},{float(lat[k])!r}\n", encoding="utf-8")
    result = site(path, zone="shenzhen", crs="wgs84", zones=zones)
    assert result["margin_m"].iloc[0] < 0 and bool(result["near_border"].iloc[0])
    status = main(["site", str(path), "--zone", "shenzhen", "--crs", "wgs84", "--as-of", AS_OF])
    out = capsys.readouterr().out
    assert status == 1
    assert "in the review band" in out and "outside the zone" not in out


def test_feasible_area_in_gcj02(zones: gpd.GeoDataFrame) -> None:
    wgs84 = feasible_area("shenzhen", zones=zones)
    gcj02 = feasible_area("shenzhen", zones=zones, crs="gcj02")
    assert gcj02.crs is None and gcj02.attrs["crs"] == "gcj02"
    assert wgs84.attrs["crs"] == "wgs84" and wgs84.crs.equals("EPSG:4326")
    assert gcj02["area_km2"].iloc[0] == wgs84["area_km2"].iloc[0]
    expected = geometry_from_wgs84(wgs84.geometry.iloc[0], "gcj02")
    assert shapely.equals_exact(gcj02.geometry.iloc[0], expected, tolerance=1e-12)
    # Futian in GCJ-02 lies in the GCJ-02 area (the offset is ~500 m here)
    point = shapely.Point(*(float(v[0]) for v in from_wgs84([LON[0]], [LAT[0]], "gcj02")))
    assert gcj02.geometry.iloc[0].contains(point)
    projected = feasible_area("shenzhen", zones=zones, crs="EPSG:32650")
    assert projected.crs.equals("EPSG:32650") and projected.geometry.iloc[0].area > 1e8
