"""Tests for pilotzone.facilities.read_facilities."""

from __future__ import annotations

import hashlib
import math
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilotzone import _columns as column_helpers
from pilotzone import _read_csv as csv_reader
from pilotzone import facilities
from pilotzone.crs import from_wgs84, to_wgs84
from pilotzone.errors import CRSError, InputError
from pilotzone.facilities import __all__ as facilities_all
from pilotzone.facilities import read_facilities

FILINGS = Path(__file__).parent / "data" / "filings"

OUTPUT_COLUMNS = [
    "operator_id",
    "facility_id",
    "name",
    "address",
    "kind",
    "tenure",
    "services",
    "lon",
    "lat",
    "crs",
    "source_row",
    "problems",
]

# GCJ-02 coordinates of Lujiazui (Pudong, Shanghai) and of Lingang.
LUJIAZUI = (121.5065, 31.2450)
LINGANG = (121.9300, 30.9000)

CSV_TEXT = (
    "运营商,类型,经度,纬度,坐标系,备注\n"
    "甲公司,注册地,121.5065,31.2450,gcj02,总部\n"
    "甲公司,数据中心,121.9300,30.9000,gcj02,\n"
)


def table(**columns: list[Any]) -> pd.DataFrame:
    """A filing DataFrame with sensible defaults for the columns not given."""
    n = len(next(iter(columns.values())))
    base: dict[str, list[Any]] = {
        "operator_id": ["A"] * n,
        "kind": ["idc"] * n,
        "lon": [LUJIAZUI[0]] * n,
        "lat": [LUJIAZUI[1]] * n,
    }
    base.update(columns)
    return pd.DataFrame(base)


def problems_of(result: gpd.GeoDataFrame) -> list[str]:
    return result["problems"].tolist()


# --------------------------------------------------------------------------- shape of the result


def test_public_names() -> None:
    assert facilities_all == ["read_facilities"]


def test_columns_index_and_attrs_for_a_file(tmp_path: Path) -> None:
    path = tmp_path / "filing.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    result = read_facilities(path)
    assert isinstance(result, gpd.GeoDataFrame)
    assert list(result.columns) == [*OUTPUT_COLUMNS, "备注", "geometry"]
    assert isinstance(result.index, pd.RangeIndex)
    assert result.crs.to_epsg() == 4326
    assert result["source_row"].tolist() == [2, 3]  # the lines of the file
    assert result["facility_id"].tolist() == ["2", "3"]  # none filed: the row number
    assert result["kind"].tolist() == ["registration", "idc"]
    assert result["tenure"].tolist() == ["owned", "owned"]
    assert result["备注"].tolist() == ["总部", ""]
    assert problems_of(result) == ["", ""]
    assert result.attrs["source"] == "filing.csv"
    assert result.attrs["source_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_dataframe_keeps_caller_index_and_is_not_modified() -> None:
    frame = table(operator_id=["A", "B", "C"], extra=[1, 2, 3])
    frame.index = pd.Index([30, 10, 20], name="mine")
    before = frame.copy(deep=True)
    result = read_facilities(frame, crs="gcj02")
    pd.testing.assert_frame_equal(frame, before)
    assert result.index.equals(frame.index)
    assert result["source_row"].tolist() == [1, 2, 3]
    assert result["operator_id"].tolist() == ["A", "B", "C"]
    assert result["extra"].tolist() == [1, 2, 3]
    assert result.attrs == {
        "source": "<DataFrame>",
        "source_sha256": None,
        "header_row": 1,
        "defaulted": {  # neither filed: both announced (#19)
            "tenure": {"default": "owned", "rows": 3},
            "facility_id": {"default": "row number", "rows": 3},
        },
    }


def test_gcj02_and_bd09_geometry_is_to_wgs84_of_the_filed_coordinates() -> None:
    frame = table(crs=["gcj02", "bd09", "wgs84"], lon=[LUJIAZUI[0]] * 3, lat=[LUJIAZUI[1]] * 3)
    result = read_facilities(frame)
    for row, system in enumerate(["gcj02", "bd09", "wgs84"]):
        lon, lat = to_wgs84([LUJIAZUI[0]], [LUJIAZUI[1]], system)
        point = result.geometry.iloc[row]
        assert (point.x, point.y) == (lon[0], lat[0])
        assert (result["lon"].iloc[row], result["lat"].iloc[row]) == LUJIAZUI  # stored as filed
    # GCJ-02 is hundreds of metres off WGS-84 in Shanghai: the conversion happened.
    assert abs(result.geometry.iloc[0].x - LUJIAZUI[0]) > 1e-3


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "filing.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    result = read_facilities(path)
    assert result["operator_id"].tolist() == ["甲公司", "甲公司"]
    assert list(result.columns)[len(OUTPUT_COLUMNS)] == "备注"  # no BOM left in a header
    assert result["crs"].tolist() == ["gcj02", "gcj02"]
    assert problems_of(result) == ["", ""]


@given(
    st.one_of(
        st.binary(max_size=40),
        st.text(max_size=20).map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.tuples(st.text(max_size=10), st.binary(max_size=4), st.text(max_size=10)).map(
            lambda parts: parts[0].encode() + parts[1] + parts[2].encode()
        ),
    )
)
def test_utf8_check_agrees_with_pythons_decoder(data: bytes) -> None:
    """pyarrow's in-place check (which spares a CSV its decoding) is Python's strict UTF-8."""
    from pilotzone._read_csv import _is_utf8

    try:
        data.decode("utf-8")
        decodes = True
    except UnicodeDecodeError:
        decodes = False
    assert _is_utf8(data) is decodes


def test_gbk_fixture_with_chinese_headers_and_full_width_digits() -> None:
    result = read_facilities(FILINGS / "gbk_chinese_headers.csv")
    assert problems_of(result) == ["", "", ""]
    assert result["facility_id"].tolist() == ["R1", "D1", "C1"]
    assert result["name"].tolist() == ["注册地", "临港数据中心", "深圳加速节点"]
    assert result["address"].iloc[0] == "上海市浦东新区陆家嘴"
    assert result["kind"].tolist() == ["registration", "idc", "cdn"]
    assert result["tenure"].tolist() == ["owned", "rented", "purchased"]
    assert result["crs"].tolist() == ["gcj02", "gcj02", "bd09"]
    assert (result["lon"].iloc[0], result["lat"].iloc[0]) == LUJIAZUI
    assert result["备注"].tolist() == ["", "租期三年", ""]


def test_excel_sheets_numbers_and_blank_rows(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    first = book.active
    first.title = "说明"
    first.append(["this sheet is notes"])
    sheet = book.create_sheet("设施")
    sheet.append(["企业名称", "编号", "设施类型", "经度", "纬度", "坐标系", "备注"])
    sheet.append(["甲公司", 1001, "机房", 121.5065, 31.245, "GCJ-02", None])
    sheet.append([None] * 7)  # a blank row inside the data: kept and numbered
    sheet.append(["甲公司", 1002.0, "CDN节点", "121.93", "30.9", "gcj02", "text"])
    sheet.append([None] * 7)  # blank rows after the data are not data
    path = tmp_path / "filing.xlsx"
    book.save(path)

    for selector in ("设施", 1, -1):
        result = read_facilities(path, sheet=selector)
        assert result["source_row"].tolist() == [2, 3, 4]  # the rows of the sheet
        assert result["facility_id"].tolist() == ["1001", "3", "1002"]
        assert result["kind"].tolist() == ["idc", "", "cdn"]
        assert problems_of(result) == ["", "empty row", ""]
        assert result.geometry.iloc[1] is None
        assert result["lon"].iloc[2] == 121.93

    with pytest.raises(InputError, match="missing required column") as info:
        read_facilities(path)  # the first sheet holds notes
    assert {p.column for p in info.value.problems} >= {"operator_id", "kind", "lon", "lat"}
    with pytest.raises(InputError, match="no such worksheet"):
        read_facilities(path, sheet="nope")
    with pytest.raises(InputError, match="no such worksheet"):
        read_facilities(path, sheet=5)


def test_geojson_is_wgs84_unless_told_otherwise(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"operator": ["A", "A"], "type": ["registration", "cdn"]},
        geometry=[shapely.Point(LUJIAZUI), shapely.Point(LINGANG)],
        crs="EPSG:4326",
    )
    path = tmp_path / "sites.geojson"
    frame.to_file(path, driver="GeoJSON")

    result = read_facilities(path)
    assert result["crs"].tolist() == ["wgs84", "wgs84"]
    assert result.geometry.iloc[0].equals_exact(shapely.Point(LUJIAZUI), 1e-12)
    assert (result["lon"].iloc[1], result["lat"].iloc[1]) == LINGANG
    assert result["source_row"].tolist() == [1, 2]

    # GCJ-02 cannot be declared in a GeoJSON; crs= says what the numbers are.
    shifted = read_facilities(path, crs="gcj02")
    lon, lat = to_wgs84([LUJIAZUI[0]], [LUJIAZUI[1]], "gcj02")
    assert shifted["crs"].tolist() == ["gcj02", "gcj02"]
    assert shifted.geometry.iloc[0].equals_exact(shapely.Point(lon[0], lat[0]), 1e-12)


def test_geopackage_in_a_projected_crs(tmp_path: Path) -> None:
    x, y = from_wgs84([LUJIAZUI[0]], [LUJIAZUI[1]], "EPSG:32651")
    frame = gpd.GeoDataFrame(
        {"运营商": ["A"], "类型": ["idc"]}, geometry=[shapely.Point(x[0], y[0])], crs="EPSG:32651"
    )
    path = tmp_path / "sites.gpkg"
    frame.to_file(path, layer="filing", driver="GPKG")
    for sheet in (None, "filing"):
        result = read_facilities(path, sheet=sheet)
        assert result["crs"].tolist() == ["EPSG:32651"]
        assert result["lon"].iloc[0] == pytest.approx(x[0])  # easting, as filed
        assert result.geometry.iloc[0].x == pytest.approx(LUJIAZUI[0], abs=1e-9)
        assert result.geometry.iloc[0].y == pytest.approx(LUJIAZUI[1], abs=1e-9)
        assert problems_of(result) == [""]


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_shapefile_without_prj_needs_a_crs(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"operator": ["A"], "kind": ["idc"]}, geometry=[shapely.Point(LUJIAZUI)], crs=None
    )
    path = tmp_path / "sites.shp"
    frame.to_file(path)
    with pytest.raises(InputError, match="no coordinate system"):
        read_facilities(path)
    result = read_facilities(path, crs="gcj02")
    assert result["crs"].tolist() == ["gcj02"]
    assert problems_of(result) == [""]


def expected_kml_rows(result: gpd.GeoDataFrame) -> None:
    assert result["source_row"].tolist() == [1, 2, 3]
    assert result["operator_id"].tolist() == ["示例科技有限公司"] * 3
    assert result["name"].tolist() == ["浦东注册地", "临港机房", "光缆路由"]
    assert result["kind"].tolist() == ["registration", "idc", "other"]
    assert result["tenure"].tolist() == ["owned", "rented", "owned"]
    assert result["services"].iloc[0] == "cdn;idc"
    assert result["crs"].tolist() == ["wgs84"] * 3
    assert (result["lon"].iloc[0], result["lat"].iloc[0]) == LUJIAZUI
    assert (result["lon"].iloc[1], result["lat"].iloc[1]) == LINGANG
    assert result["description"].iloc[0] == "registration address, Lujiazui"
    assert problems_of(result)[:2] == ["", ""]
    assert "not a single Point (LineString)" in result["problems"].iloc[2]
    assert result.geometry.iloc[2] is None


def test_kml_from_google_earth() -> None:
    result = read_facilities(FILINGS / "google_earth.kml")
    expected_kml_rows(result)
    assert result.geometry.iloc[0].equals_exact(shapely.Point(LUJIAZUI), 0)


def test_kmz(tmp_path: Path) -> None:
    path = tmp_path / "sites.kmz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("files/icon.txt", "not a kml")
        archive.write(FILINGS / "google_earth.kml", "doc.kml")
    expected_kml_rows(read_facilities(path))


def test_kml_with_gcj02_coordinates_and_crs_argument() -> None:
    result = read_facilities(FILINGS / "google_earth.kml", crs="GCJ-02")
    lon, lat = to_wgs84([LUJIAZUI[0]], [LUJIAZUI[1]], "gcj02")
    assert result["crs"].iloc[0] == "gcj02"
    assert result.geometry.iloc[0].equals_exact(shapely.Point(lon[0], lat[0]), 0)


def test_kml_doctype_and_entities_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.kml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name>'
        "<Point><coordinates>121.5,31.2</coordinates></Point></Placemark></kml>",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="DOCTYPE"):
        read_facilities(path)


def test_truncated_kml(tmp_path: Path) -> None:
    text = (FILINGS / "google_earth.kml").read_text(encoding="utf-8")
    path = tmp_path / "cut.kml"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(InputError, match="not well-formed XML"):
        read_facilities(path)


def test_kml_name_gives_way_to_extended_data_with_the_same_meaning(tmp_path: Path) -> None:
    path = tmp_path / "named.kml"
    path.write_text(
        "<kml><Document><Placemark><name>pin 1</name><ExtendedData>"
        "<Data name='运营商'><value>A</value></Data><Data name='类型'><value>idc</value></Data>"
        "<Data name='设施名称'><value>临港机房</value></Data></ExtendedData>"
        "<Point><coordinates>121.93,30.9</coordinates></Point></Placemark></Document></kml>",
        encoding="utf-8",
    )
    result = read_facilities(path)
    assert result["name"].tolist() == ["临港机房"]
    assert result["kml_name"].tolist() == ["pin 1"]
    assert problems_of(result) == [""]


def test_kml_bad_coordinates(tmp_path: Path) -> None:
    placemark = (
        "<Placemark><ExtendedData><Data name='operator'><value>A</value></Data>"
        "<Data name='kind'><value>idc</value></Data></ExtendedData>"
        "<Point><coordinates>{}</coordinates></Point></Placemark>"
    )
    body = "".join(placemark.format(c) for c in ["121.5,abc", "121.5", "121.5,31.2 121.6,31.3"])
    path = tmp_path / "bad.kml"
    path.write_text(f"<kml xmlns='http://www.opengis.net/kml/2.2'>{body}</kml>", encoding="utf-8")
    result = read_facilities(path)
    assert problems_of(result)[0] == "column 'coordinates': not a number ('abc')"
    assert "are not 'lon,lat[,alt]'" in problems_of(result)[1]
    assert "are not 'lon,lat[,alt]'" in problems_of(result)[2]
    assert result.geometry.isna().all()


@pytest.mark.parametrize("geo", [False, True])
def test_parquet(tmp_path: Path, geo: bool) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "sites.parquet"
    if geo:
        frame: pd.DataFrame = gpd.GeoDataFrame(
            {"operator_id": ["A"], "kind": ["isp"]}, geometry=[shapely.Point(LUJIAZUI)], crs=4326
        )
        frame.to_parquet(path)
        result = read_facilities(path)
    else:
        frame = table(kind=["isp"], crs=["gcj02"])
        frame.to_parquet(path)
        result = read_facilities(path)
    assert result["kind"].tolist() == ["isp"]
    assert problems_of(result) == [""]
    assert result.geometry.iloc[0] is not None
    assert result.attrs["source_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_plain_parquet_needs_a_crs(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "sites.parquet"
    table(kind=["isp"]).to_parquet(path)
    with pytest.raises(InputError, match="no coordinate system"):
        read_facilities(path)


@pytest.mark.parametrize("epsg", [4326, 32650])
def test_geodataframe(epsg: int) -> None:
    lon, lat = 114.0579, 22.5431  # Shenzhen, in UTM zone 50N
    x, y = from_wgs84([lon], [lat], f"EPSG:{epsg}")
    frame = gpd.GeoDataFrame(
        {"company": ["A", "B"], "type": ["cdn", "server"], "extra": ["e1", "e2"]},
        geometry=[shapely.Point(x[0], y[0]), None],
        crs=epsg,
        index=["a", "b"],
    )
    result = read_facilities(frame)
    assert list(result.index) == ["a", "b"]
    assert list(result.columns) == [*OUTPUT_COLUMNS, "extra", "geometry"]
    assert result["crs"].iloc[0] == ("wgs84" if epsg == 4326 else "EPSG:32650")
    assert result["lon"].iloc[0] == pytest.approx(x[0])
    assert result.geometry.iloc[0].x == pytest.approx(lon, abs=1e-9)
    assert result.geometry.iloc[0].y == pytest.approx(lat, abs=1e-9)
    assert problems_of(result) == ["", "column 'geometry': no point geometry"]
    assert frame.geometry.iloc[0] is not None and frame.crs.to_epsg() == epsg  # untouched


def test_geodataframe_non_point_and_single_multipoint() -> None:
    frame = gpd.GeoDataFrame(
        {"operator_id": ["A", "A"], "kind": ["idc", "idc"]},
        geometry=[shapely.box(121, 31, 122, 32), shapely.MultiPoint([LUJIAZUI])],
        crs=4326,
    )
    result = read_facilities(frame)
    assert problems_of(result) == ["column 'geometry': the geometry is a Polygon, not a point", ""]
    assert result.geometry.iloc[1].equals_exact(shapely.Point(LUJIAZUI), 0)


def test_geometry_and_coordinate_columns_must_agree() -> None:
    frame = gpd.GeoDataFrame(
        {
            "operator_id": ["A", "A"],
            "kind": ["idc", "idc"],
            "lng": [121.5065, 121.5],
            "lat": [31.245] * 2,
        },
        geometry=[shapely.Point(LUJIAZUI), shapely.Point(LUJIAZUI)],
        crs=4326,
    )
    result = read_facilities(frame)
    assert result["problems"].iloc[0] == ""
    assert result["problems"].iloc[1].startswith("column 'lng': differs from the point geometry")
    assert result.geometry.iloc[1] is None


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "filing.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0whatever")
    # An old workbook is no unknown type: it gets a hint (issue #19).
    with pytest.raises(InputError, match=r"filing\.xls.*Excel 97-2003.*save it as \.xlsx"):
        read_facilities(path)
    other = tmp_path / "filing.txt"
    other.write_bytes(b"operator_id")
    with pytest.raises(InputError, match=r"filing\.txt.*unknown file type '\.txt'.*\.xlsx"):
        read_facilities(other)
    with pytest.raises(InputError, match="cannot read the file"):
        read_facilities(tmp_path / "absent.csv")


# --------------------------------------------------------------------------- whole-input problems


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("blank.csv", b"\xef\xbb\xbf \r\n\r\n", "the file is empty"),
        ("header.csv", "运营商,类型,经度,纬度,坐标系\n".encode(), "no data rows"),
        ("garbage.csv", bytes(range(256)) * 4, "binary data"),
        ("workbook.csv", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "looks like a ZIP archive"),
        (
            "quote.csv",
            b'operator,kind,lon,lat,crs\nA,idc,121,31,"wgs84\n',
            "malformed or truncated",
        ),
        ("latin.csv", b"operator,kind\n\x80\xff\x80,idc\n", "not UTF-8 or GBK/GB18030"),
        ("empty.kml", b"", "the file is empty"),
        ("garbage.xlsx", b"PK\x03\x04 truncated", "cannot read the file as .xlsx"),
        ("garbage.geojson", b"{not json", "cannot read the file as .geojson"),
        ("garbage.gpkg", b"SQLite format 3\x00" + bytes(100), "cannot read the file as .gpkg"),
        ("garbage.parquet", b"PAR1 not really", "cannot read the file as .parquet"),
        ("garbage.kmz", b"PK\x03\x04 truncated", "cannot read the file as .kmz"),
    ],
)
@pytest.mark.filterwarnings("ignore:GPKG:RuntimeWarning")
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_facilities(path, crs="wgs84")
    assert all(p.file == name for p in info.value.problems)


def test_every_whole_input_problem_is_listed_at_once(tmp_path: Path) -> None:
    path = tmp_path / "filing.csv"
    path.write_text("company,经度,lon,problems\nA,1,2,x\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_facilities(path)
    reasons = [(p.column, p.reason) for p in info.value.problems]
    assert ("lon", "columns '经度' and 'lon' both mean 'lon'; keep one") in reasons
    assert any(c == "problems" and "pilotzone writes" in r for c, r in reasons)
    assert any(c == "kind" and r.startswith("missing required column") for c, r in reasons)
    assert any(c == "lat" and r.startswith("missing required column") for c, r in reasons)
    assert any(c == "crs" and r.startswith("no coordinate system") for c, r in reasons)
    assert all(p.row is None for p in info.value.problems)


def test_repeated_extra_column_name(tmp_path: Path) -> None:
    path = tmp_path / "filing.csv"
    path.write_text("operator,kind,lon,lat,note,note\nA,idc,121,31,a,b\n", encoding="utf-8")
    with pytest.raises(InputError, match="the column name appears 2 times"):
        read_facilities(path, crs="wgs84")


def test_missing_crs_without_column_or_argument() -> None:
    with pytest.raises(InputError, match="no coordinate system: add a 'crs' column"):
        read_facilities(table(operator_id=["A"]))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="errors must be"):
        read_facilities(table(operator_id=["A"]), crs="wgs84", errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(CRSError, match="not a coordinate system pilotzone knows"):
        read_facilities(table(operator_id=["A"]), crs="mercator-ish")
    with pytest.raises(ValueError, match="sheet= applies"):
        read_facilities(table(operator_id=["A"]), crs="wgs84", sheet=0)
    with pytest.raises(TypeError, match="file path or a DataFrame"):
        read_facilities(42, crs="wgs84")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- row problems


def test_per_row_crs_wins_over_argument_and_missing_crs_is_a_row_problem() -> None:
    frame = table(operator_id=["A", "B", "C"], 坐标系=["BD-09", "", "mars"])
    result = read_facilities(frame, crs="wgs84")
    assert result["crs"].tolist() == ["bd09", "wgs84", "gcj02"]
    assert problems_of(result) == ["", "", ""]

    result = read_facilities(frame)  # no argument: the empty cell has no system
    assert result["crs"].tolist() == ["bd09", "", "gcj02"]
    assert problems_of(result)[1].startswith("column '坐标系': no coordinate system for this row")
    assert result.geometry.iloc[1] is None
    assert result.geometry.iloc[0] is not None


def test_unknown_crs_on_a_row() -> None:
    result = read_facilities(table(operator_id=["A", "B"], crs=["EPSG:999999", "UTM50"]))
    for text in problems_of(result):
        assert text.startswith("column 'crs': unknown coordinate system")
    assert result["crs"].tolist() == ["EPSG:999999", "UTM50"]  # as filed, to show the user
    assert result.geometry.isna().all()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "not a number ('abc')"),
        ("121,5", "not a number: write decimals with a point"),
        (" 1,121.5", "not a number: write decimals with a point, without thousands separators"),
        ("NaN", "not a finite number ('NaN')"),
        ("-inf", "not a finite number"),
        (math.nan, "missing"),
        (math.inf, "not a finite number (inf)"),
        ("", "missing"),
        (None, "missing"),
        (True, "not a number (True)"),
        ("121.5°", "not a number"),
        ("1_21.5", "not a number"),
    ],
)
def test_bad_numbers(value: Any, reason: str) -> None:
    result = read_facilities(table(lon=[value]), crs="wgs84")
    assert problems_of(result)[0].startswith(f"column 'lon': {reason}")
    assert math.isnan(result["lon"].iloc[0])
    assert result.geometry.iloc[0] is None


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("１２１．５", 121.5),
        (" 121.5 ", 121.5),
        ("+1.215e2", 121.5),
        (np.float32(121.5), 121.5),
        (121, 121.0),
    ],
)
def test_good_numbers(value: Any, number: float) -> None:
    result = read_facilities(table(lon=[value]), crs="wgs84")
    assert problems_of(result) == [""]
    assert result["lon"].iloc[0] == number


def test_coordinate_ranges() -> None:
    frame = table(
        operator_id=["A", "B", "C", "D"],
        lon=[121.5, 31.2, 200.0, 500000.0],
        lat=[95.0, 121.5, 31.0, 3450000.0],
        crs=["wgs84", "gcj02", "wgs84", "EPSG:32651"],
    )
    result = read_facilities(frame)
    assert problems_of(result)[0] == "column 'lat': latitude outside [-90, 90] (95.0)"
    assert problems_of(result)[1] == (
        "column 'lat': latitude outside [-90, 90] (longitude and latitude swapped?) (121.5)"
    )
    assert problems_of(result)[2] == "column 'lon': longitude outside [-180, 180] (200.0)"
    assert problems_of(result)[3] == ""  # projected: metres, no degree range
    assert result.geometry.isna().tolist() == [True, True, True, False]


def test_duplicate_ids_mark_every_repeat_after_the_first() -> None:
    frame = table(
        operator_id=["A", "A", "B", "A", "A"],
        facility_id=["F1", "F1", "F1", "F1", ""],
    )
    result = read_facilities(frame, crs="wgs84")
    repeat = "column 'facility_id': duplicate of row 1 (same operator_id and facility_id) ('F1')"
    assert problems_of(result) == ["", repeat, "", repeat, ""]
    assert result["facility_id"].tolist() == ["F1", "F1", "F1", "F1", "5"]
    assert result.geometry.notna().all()  # a duplicate can still be located


def test_first_row_numbers_a_piece_of_a_larger_filing() -> None:
    frame = table(
        operator_id=["A", "A", "A"], facility_id=["F1", "F1", ""], lon=[116.4, 999.0, 116.4]
    )
    result = read_facilities(frame, crs="wgs84", first_row=101)
    assert result["source_row"].tolist() == [101, 102, 103]
    assert "duplicate of row 101" in result["problems"].iloc[1]
    assert result["facility_id"].iloc[2] == "103"  # the default id is the row's number in the whole
    with pytest.raises(InputError) as caught:
        read_facilities(frame, crs="wgs84", first_row=101, errors="raise")
    assert {p.row for p in caught.value.problems} == {102}


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("注册地址", "registration"),
        ("Registration", "registration"),
        ("数据中心", "idc"),
        ("机房", "idc"),
        ("Data Center", "idc"),
        ("data-center", "idc"),
        ("ＩＤＣ", "idc"),
        ("CDN节点", "cdn"),
        ("加速节点", "cdn"),
        ("节点", "cdn"),
        ("接入点", "isp"),
        ("服务器", "server"),
        ("其他", "other"),
    ],
)
def test_kind_aliases(value: str, kind: str) -> None:
    result = read_facilities(table(kind=[value]), crs="wgs84")
    assert result["kind"].tolist() == [kind]
    assert problems_of(result) == [""]


@pytest.mark.parametrize(
    ("value", "tenure"),
    [
        (None, "owned"),
        ("", "owned"),
        ("自有", "owned"),
        ("租用", "rented"),
        ("租赁", "rented"),
        ("RENTED", "rented"),
        ("购买", "purchased"),
    ],
)
def test_tenure_aliases_and_default(value: Any, tenure: str) -> None:
    result = read_facilities(table(权属=[value]), crs="wgs84")
    assert result["tenure"].tolist() == [tenure]
    assert problems_of(result) == [""]


def test_unknown_kind_and_tenure_and_missing_operator() -> None:
    frame = table(operator_id=["", "A"], kind=["warehouse", ""], tenure=["borrowed", "owned"])
    result = read_facilities(frame, crs="wgs84")
    assert problems_of(result) == [
        "column 'operator_id': missing; "
        "column 'kind': unknown kind, expected registration|idc|cdn|isp|server|other "
        "('warehouse'); "
        "column 'tenure': unknown tenure, expected owned|rented|purchased ('borrowed')",
        "column 'kind': missing",
    ]
    assert result["kind"].tolist() == ["warehouse", ""]  # as filed, for the reader of the report
    assert result.geometry.notna().all()  # located, though the rows are marked
    # Categorical: the accepted values first, then what was filed instead, each once.
    assert list(result["kind"].cat.categories) == [*facilities.KINDS, "warehouse", ""]
    assert list(result["tenure"].cat.categories) == ["owned", "rented", "purchased", "borrowed"]


@pytest.mark.parametrize(
    ("value", "services"),
    [
        ("互联网数据中心、内容分发网络", "cdn;idc"),
        ("IDC；CDN，isp/Data-Processing", "cdn;data_processing;idc;isp"),
        ("idc cdn idc", "cdn;idc"),
        ("在线数据处理与交易处理", "data_processing"),
        (
            "信息发布平台和递送服务;信息保护和处理服务",
            "information_protection;information_publishing",
        ),
        ("information publishing", "information_publishing"),
        (
            "互联网新闻信息,网络出版,网络视听,互联网文化",
            "audio_video;internet_culture;news;publishing",
        ),
        ("网络音视频", "audio_video"),
        ("Online-Gaming 网络游戏", "online_games"),
        ("", ""),
        (None, ""),
    ],
)
def test_services(value: Any, services: str) -> None:
    result = read_facilities(table(kind=["registration"], 经营业务=[value]), crs="wgs84")
    assert result["services"].tolist() == [services]
    assert problems_of(result) == [""]


def test_csv_rows_with_too_many_cells_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "filing.csv"
    path.write_text(
        "operator,kind,lon,lat,address\n"
        "A,idc,121.5,31.2,Pudong\n"
        "A,idc,121.5,31.2,Pudong, Shanghai\n"  # unquoted comma: the cells shifted
        "\n"
        "A,cdn,121.6,31.3,Pudong,,\n"  # trailing empty cells are harmless
        "B,isp,121.6,31.3\n"  # a short row: the missing cells are empty
        "\n\n",
        encoding="utf-8",
    )
    result = read_facilities(path, crs="wgs84")
    assert result["source_row"].tolist() == [2, 3, 4, 5, 6]  # the lines of the file
    assert problems_of(result) == [
        "",
        "the row has 6 cells but the header has 5",
        "empty row",
        "",
        "",
    ]
    assert result.geometry.isna().tolist() == [False, True, True, False, False]


def test_errors_raise_lists_every_row_problem() -> None:
    frame = table(
        operator_id=["A", "", "A"],
        lat=[31.2, "abc", 95.0],
        kind=["idc", "idc", "warehouse"],
        facility_id=["1", "2", "1"],
    )
    assert len(read_facilities(frame, crs="wgs84")) == 3  # marked by default
    with pytest.raises(InputError, match=r"5 problems in the input") as info:
        read_facilities(frame, crs="wgs84", errors="raise")
    found = [(p.row, p.column, p.value) for p in info.value.problems]
    assert found == [
        (2, "operator_id", None),
        (2, "lat", "abc"),
        (3, "kind", "warehouse"),
        (3, "lat", 95.0),
        (3, "facility_id", "1"),
    ]
    message = str(info.value)
    assert "<DataFrame>, row 2, column 'lat': not a number (value 'abc')" in message
    assert "row 3, column 'kind': unknown kind" in message
    assert (
        read_facilities(table(operator_id=["A"]), crs="wgs84", errors="raise")["problems"].iloc[0]
        == ""
    )


def test_errors_raise_reports_duplicates_with_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "filing.csv"
    path.write_text("operator,id,kind,lon,lat\nA,1,idc,121,31\nA,1,idc,121,31\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"filing\.csv, row 3, column 'id': duplicate of row 2"):
        read_facilities(path, crs="wgs84", errors="raise")


# --------------------------------------------------------------------------- every row out

CELLS = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "wgs84",
            "gcj02",
            "bd09",
            "EPSG:32650",
            "idc",
            "注册地",
            "rented",
            "121.5",
            "31.2",
            "A",
            "",
        ]
    ),
)
COLUMNS = ["operator_id", "facility_id", "kind", "tenure", "services", "lon", "lat", "crs", "note"]


@st.composite
def filings(draw: st.DrawFn) -> pd.DataFrame:
    names = draw(st.lists(st.sampled_from(COLUMNS), unique=True, min_size=1))
    n = draw(st.integers(min_value=0, max_value=6))
    data = {name: draw(st.lists(CELLS, min_size=n, max_size=n)) for name in names}
    frame = pd.DataFrame(data, index=pd.Index(range(100, 100 - n, -1)), dtype=object)
    return frame


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(frame=filings(), crs=st.sampled_from([None, "wgs84", "gcj02"]))
def test_every_row_comes_out_once(frame: pd.DataFrame, crs: str | None) -> None:
    before = frame.copy(deep=True)
    try:
        result = read_facilities(frame, crs=crs)
    except InputError as error:
        assert error.problems
        return
    finally:
        pd.testing.assert_frame_equal(frame, before)
    assert len(result) == len(frame)
    assert result.index.equals(frame.index)
    assert result["source_row"].tolist() == list(range(1, len(frame) + 1))
    assert list(result.columns[: len(OUTPUT_COLUMNS)]) == OUTPUT_COLUMNS
    located = result.geometry.notna().to_numpy()
    good = (result["problems"] == "").to_numpy()
    assert (good <= located).all()  # a row without problems is located


# --------------------------------------------------------------------------- fast paths


def read_both(path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> tuple[Any, Any]:
    """read_facilities(path) as it is, and with every CSV read by the csv module."""

    def outcome() -> Any:
        try:
            return read_facilities(path, **kwargs)
        except InputError as error:
            return str(error)

    fast = outcome()
    with monkeypatch.context() as patched:
        patched.setattr(csv_reader, "plain_csv", lambda data: None)
        slow = outcome()
    return fast, slow


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    body=st.text(alphabet=st.sampled_from(list("ab1.5,,\n\r \t注-+e")), max_size=60),
    header=st.sampled_from(
        ["operator,kind,lon,lat", "operator,kind,lon,lat,", ",operator,kind,lon,lat"]
    ),
)
def test_csv_without_quotes_reads_as_the_csv_module_reads_it(body: str, header: str) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as monkeypatch:
        path = Path(folder) / "filing.csv"
        path.write_text(f"{header}\nA,idc,121.5,31.2\n{body}", encoding="utf-8")
        fast, slow = read_both(path, monkeypatch, crs="wgs84")
    if isinstance(slow, str):
        assert fast == slow
    else:
        pd.testing.assert_frame_equal(fast, slow)


def test_csv_fast_path_is_taken_and_equal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "filing.csv"
    text = CSV_TEXT.replace("总部", " 总部\u3000") + ",,,,,\n"  # a blank row at the end: not data
    path.write_text(text, encoding="gb18030")
    assert csv_reader.plain_csv(text.encode()) is not None
    fast, slow = read_both(path, monkeypatch)
    assert len(fast) == 2
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["备注"].tolist() == [" 总部\u3000", ""]


CELL_TEXT = st.one_of(
    st.text(max_size=8),
    st.text(alphabet=st.sampled_from(list("0123456789.+-eE \t\u3000１,")), max_size=10),
    st.sampled_from(["121.5", " 1e3 ", "+.5", "5.", "nan", "-inf", "1_0", "٣", "１２１．５"]),
    st.sampled_from(["Infinity", "+inf", "1e999", "-.5e-3", "5.e3", "0.", "+-1", "1e", "\t7\n"]),
)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(cells=st.lists(st.one_of(st.none(), CELL_TEXT), max_size=12))
def test_vectorised_cells_equal_the_per_cell_functions(cells: list[Any]) -> None:
    # Columns where every cell is a number to pyarrow take its fast path: try those too.
    parsable = [c for c in cells if isinstance(c, str) and c.strip(" \t\n") and c.isascii()]
    for values in (
        pd.Series(cells, dtype=object),
        pd.Series(cells, dtype=object).astype("str"),
        pd.Series(parsable, dtype=object),
    ):
        numbers, bad = column_helpers.cell_numbers(values)
        reasons = dict((i, (v, r)) for i, v, r in bad)
        for i, value in enumerate(values.tolist()):
            number, reason = column_helpers.cell_number(value)
            assert (math.isnan(number) and math.isnan(numbers[i])) or number == numbers[i]
            if reason is None:
                assert i not in reasons
            else:
                assert reasons[i][1] == reason
                assert reasons[i][0] is value or reasons[i][0] == value or math.isnan(reasons[i][0])
        for fold in (True, False):
            texts = column_helpers.text_column(values, fold=fold).to_pylist()
            assert texts == [column_helpers.cell_text(v, fold=fold) for v in values.tolist()]


@given(
    names=st.lists(
        st.one_of(st.none(), st.sampled_from(["", "a", "b", "长城", "a;b"])), max_size=8
    ),
    data=st.data(),
    first=st.lists(st.sampled_from(["b", "z"]), unique=True),
)
def test_category_holds_the_named_values_and_only_used_categories(
    names: list[Any], data: Any, first: list[str]
) -> None:
    codes = np.array(
        data.draw(st.lists(st.integers(-1, len(names) - 1), max_size=30)) if names else [],
        dtype=np.intp,
    )
    column = column_helpers.category(names, codes, first)
    expected = [None if c < 0 or names[c] is None else names[c] for c in codes.tolist()]
    assert [None if pd.isna(v) else v for v in column] == expected
    categories = list(column.categories)
    assert categories[: len(first)] == first and len(set(categories)) == len(categories)
    assert set(categories[len(first) :]) == {v for v in expected if v is not None} - set(first)


def test_conversion_in_blocks_on_threads_equals_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows converted in blocks (on threads) give the points and problems of one conversion."""
    from pilotzone import _validate

    rng = np.random.default_rng(3)
    n = 60
    lon, lat = 116.4 + rng.normal(0, 0.2, n), 39.9 + rng.normal(0, 0.2, n)
    systems = np.array(["gcj02", "bd09", "wgs84", "EPSG:32650"])[rng.integers(0, 4, n)]
    x, y = lon.copy(), lat.copy()
    for system in ("gcj02", "bd09", "EPSG:32650"):
        rows = systems == system
        x[rows], y[rows] = from_wgs84(lon[rows], lat[rows], system)
    x[np.flatnonzero(systems == "EPSG:32650")[-1]] = 1e30  # no point: marked in its block
    table = pd.DataFrame(
        {"operator_id": "A", "facility_id": np.arange(n).astype(str), "kind": "idc",
         "lon": x, "lat": y, "crs": systems}
    )  # fmt: skip
    whole = facilities.read_facilities(table)
    monkeypatch.setattr(_validate, "_CONVERT_ROWS", 7)
    blocks = facilities.read_facilities(table)
    pd.testing.assert_frame_equal(blocks, whole)
    assert blocks["problems"].str.contains("WGS-84").sum() == 1
    for system in ("gcj02", "bd09", "wgs84"):
        rows = np.flatnonzero(systems == system)
        ex, ey = to_wgs84(x[rows], y[rows], system)
        assert np.array_equal(shapely.get_x(blocks.geometry.to_numpy()[rows]), ex)
        assert np.array_equal(shapely.get_y(blocks.geometry.to_numpy()[rows]), ey)


@pytest.mark.parametrize("paused_before", [False, True])
def test_points_are_made_with_the_collector_paused(
    monkeypatch: pytest.MonkeyPatch, paused_before: bool
) -> None:
    """The cyclic collector is off while points are made, then as the caller had it."""
    import gc

    from pilotzone import _validate

    seen: list[bool] = []
    make = shapely.points

    def points(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return make(*args, **kwargs)

    monkeypatch.setattr(_validate.shapely, "points", points)
    table = pd.DataFrame(
        {"operator_id": "A", "facility_id": ["1", "2"], "kind": "idc",
         "lon": [121.5, 116.4], "lat": [31.2, 39.9], "crs": ["gcj02", "wgs84"]}
    )  # fmt: skip
    enabled = gc.isenabled()
    try:
        if paused_before:
            gc.disable()
        facilities.read_facilities(table)
        assert seen == [False, False]
        assert gc.isenabled() is not paused_before
    finally:
        if enabled:
            gc.enable()


def test_a_rows_problems_follow_its_columns() -> None:
    """Problems are listed operator, kind, tenure, services, coordinates, system, duplicate."""
    table = pd.DataFrame(
        {
            "operator_id": ["", "A", "A"],
            "facility_id": ["1", "2", "2"],
            "kind": ["warehouse", "idc", "satellite"],
            "tenure": ["borrowed", "owned", "leased?"],
            "services": ["idc", "idc", "teleport"],
            "lon": ["x", "121.5", "500"],
            "lat": ["31.2", "31.2", "31.2"],
            "crs": ["wgs84", "wgs84", "martian"],
        }
    )
    problems = facilities.read_facilities(table)["problems"].tolist()
    columns = [re.findall(r"column '([^']+)'", text) for text in problems]
    assert columns[0] == ["operator_id", "kind", "tenure", "lon"]
    assert columns[1] == []
    assert columns[2] == ["kind", "tenure", "services", "crs", "facility_id"]
