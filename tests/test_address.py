"""address_check: the district an address names against the county its coordinate lies in.

Every coordinate here is made from the shipped divisions table (a county's
representative point, or a point found next to a district line), never typed.
tests/data/addresses.csv holds the hand-written addresses and the district each
row's coordinate is taken from.
"""

from __future__ import annotations

import shutil
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import pilotzone as pz
from pilotzone import address as address_module
from pilotzone.crs import from_wgs84
from pilotzone.errors import BoundaryDataError, InputError
from pilotzone.rules import RULES

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[1]
ZONE_CITIES = ("110100", "310100", "440300")  # Beijing, Shanghai, Shenzhen: every district
ROADS = "建设路1号"


@pytest.fixture(scope="module")
def table() -> gpd.GeoDataFrame:
    return address_module._load().table


@pytest.fixture(scope="module")
def counties(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = table[table["level"] == "county"].copy()
    frame["point"] = shapely.point_on_surface(frame.geometry.to_numpy())
    return frame.set_index("adcode", drop=False)


def rows_at(counties: gpd.GeoDataFrame, addresses: list, adcodes: list[str]) -> pd.DataFrame:
    points = counties.loc[adcodes, "point"].to_numpy()
    return pd.DataFrame(
        {
            "address": addresses,
            "lon": shapely.get_x(points),
            "lat": shapely.get_y(points),
            "crs": "wgs84",
        }
    )


def zone_districts(counties: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every county of Beijing, Shanghai, Shenzhen and Hainan, and their land neighbours."""
    own = counties["city_adcode"].isin(ZONE_CITIES) | (counties["province_adcode"] == "460000")
    inside = counties[own]
    touching = shapely.STRtree(inside.geometry.to_numpy()).query(
        counties.geometry.to_numpy(), predicate="intersects"
    )[0]
    neighbour = np.zeros(len(counties), dtype=bool)
    neighbour[touching] = True
    return counties[own | neighbour]


def full_address(row: pd.Series) -> str:
    return "".join(dict.fromkeys([row["province_name"], row["city_name"], row["name"]])) + ROADS


# --------------------------------------------------------------------------- every district


def test_every_zone_district_and_neighbour_agrees_in_every_form(counties: gpd.GeoDataFrame) -> None:
    districts = zone_districts(counties)
    assert len(districts) > 90
    forms: dict[str, list[str]] = {
        "full": [full_address(r) for _, r in districts.iterrows()],
        "without province": [
            "".join(dict.fromkeys([r["city_name"], r["name"]])) + ROADS
            for _, r in districts.iterrows()
        ],
        "full-width": [
            "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in full_address(r)).replace(
                r["name"], "\u3000" + r["name"] + "\u3000"
            )
            for _, r in districts.iterrows()
        ],
    }
    for form, addresses in forms.items():
        checked = pz.address_check(rows_at(counties, addresses, districts.index.tolist()))
        wrong = checked["address_check"] != "agrees"
        assert not wrong.any(), (form, [a for a, w in zip(addresses, wrong, strict=True) if w])
        assert checked["address_adcode"].tolist() == districts.index.tolist(), form
        assert checked["address_agrees"].all()
    assert unicodedata.normalize("NFKC", forms["full-width"][0]) != forms["full-width"][0]


def test_english_names_agree_with_their_city(
    counties: gpd.GeoDataFrame, table: gpd.GeoDataFrame
) -> None:
    districts = counties[
        counties["name_en"].notna()
        & counties["city_adcode"].isin((*ZONE_CITIES, "460100", "460200"))
    ]
    city_en = dict(
        zip(
            table.loc[table["level"] == "city", "adcode"],
            table.loc[table["level"] == "city", "name_en"],
            strict=True,
        )
    )
    addresses = [
        f"No. 1 Jianshe Road, {r['name_en']}, {city_en[r['city_adcode']]}"
        for _, r in districts.iterrows()
    ]
    checked = pz.address_check(rows_at(counties, addresses, districts.index.tolist()))
    assert (checked["address_check"] == "agrees").all(), checked.loc[
        checked["address_check"] != "agrees"
    ]
    assert checked["address_adcode"].tolist() == districts.index.tolist()


@pytest.mark.parametrize(
    ("adcode", "zone", "status"),
    [
        ("310115", "shanghai", "inside"),  # Pudong
        ("310104", None, "outside"),  # Xuhui
        ("310120", None, "partial"),  # Fengxian: Lingang east of Jinhui Port only
        ("310112", None, "partial"),  # Minhang: the Pujiang sliver only
        ("330922", None, "partial"),  # Shengsi: Xiaoyangshan only
        ("441900", None, "outside"),  # Dongguan
        ("460108", "hainan", "inside"),  # Haikou Meilan
    ],
)
def test_zone_implied_by_the_address(
    counties: gpd.GeoDataFrame, adcode: str, zone: str | None, status: str
) -> None:
    checked = pz.address_check(rows_at(counties, [full_address(counties.loc[adcode])], [adcode]))
    assert checked["address_zone_status"].iloc[0] == status
    implied = checked["address_zone"].iloc[0]
    assert (implied if isinstance(implied, str) else None) == zone
    if status == "partial":
        assert "cannot be decided" in checked["address_message"].iloc[0]


def test_every_beijing_and_shenzhen_district_implies_its_zone(counties: gpd.GeoDataFrame) -> None:
    districts = counties[counties["city_adcode"].isin(["110100", "440300"])]
    checked = pz.address_check(
        rows_at(
            counties, [full_address(r) for _, r in districts.iterrows()], districts.index.tolist()
        )
    )
    expected = np.where(districts["city_adcode"] == "110100", "beijing", "shenzhen")
    assert checked["address_zone"].tolist() == expected.tolist()


# --------------------------------------------------------------------------- hand-written cases


CASES = pd.read_csv(DATA / "addresses.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("case", CASES.to_dict("records"), ids=CASES["case"].tolist())
def test_written_cases(counties: gpd.GeoDataFrame, case: dict[str, str]) -> None:
    address = case["address"] or None
    checked = pz.address_check(rows_at(counties, [address], [case["coordinate_adcode"]]))
    assert checked["address_check"].iloc[0] == case["expected"], checked["address_message"].iloc[0]
    agrees = checked["address_agrees"].iloc[0]
    assert (agrees is pd.NA) == (case["expected"] not in ("agrees", "mismatch"))
    if case["expected"] == "mismatch":
        message = checked["address_message"].iloc[0]
        assert checked["coordinate_district"].iloc[0] in message
        assert checked["address_distance_m"].iloc[0] > 0


def test_ambiguous_names_both_candidates(counties: gpd.GeoDataFrame) -> None:
    checked = pz.address_check(rows_at(counties, ["朝阳区建国路88号"], ["110105"]))
    message = checked["address_message"].iloc[0]
    assert "北京市朝阳区" in message and "吉林省长春市朝阳区" in message
    assert pd.isna(checked["address_adcode"].iloc[0])


def test_gcj02_declared_as_wgs84_near_a_district_line_is_not_a_mismatch(
    counties: gpd.GeoDataFrame,
) -> None:
    """A Huangpu site next to the river, filed in GCJ-02 but declared WGS-84, shifts into Pudong."""
    huangpu, pudong = counties.loc["310101", "geometry"], counties.loc["310115", "geometry"]
    line = shapely.intersection(shapely.boundary(huangpu), shapely.boundary(pudong))
    metres = 111_320 * np.cos(np.radians(31.2))
    found = None
    for fraction in np.linspace(0.05, 0.95, 91):
        on = shapely.line_interpolate_point(line, fraction, normalized=True)
        true = shapely.Point(on.x - 150 / metres, on.y)  # 150 m west, on the Huangpu side
        if not shapely.covers(huangpu, true):
            continue
        gx, gy = from_wgs84([true.x], [true.y], "gcj02")
        if shapely.covers(pudong, shapely.Point(gx[0], gy[0])):
            found = true, gx[0], gy[0]
            break
    assert found is not None
    true, gx, gy = found
    rows = pd.DataFrame(
        {
            "address": ["上海市黄浦区中山东一路"] * 2,
            "lon": [gx, gx],
            "lat": [gy, gy],
            "crs": ["gcj02", "wgs84"],
        }
    )
    checked = pz.address_check(rows)
    assert checked["address_check"].tolist() == ["agrees", "near_district_border"]
    assert checked["coordinate_adcode"].tolist() == ["310101", "310115"]
    assert checked["address_agrees"].isna().tolist() == [False, True]
    assert 0 < checked["address_distance_m"].iloc[1] < counties.loc["310115", "accuracy_m"]


# --------------------------------------------------------------------------- inputs


def test_keeps_the_index_and_reads_point_geometry(counties: gpd.GeoDataFrame) -> None:
    plain = rows_at(counties, ["深圳市南山区", "上海市浦东新区"], ["440305", "310104"])
    plain.index = [10, 20]
    frame = gpd.GeoDataFrame(
        {"address": plain["address"]},
        geometry=gpd.points_from_xy(plain["lon"], plain["lat"]),
        crs="EPSG:4326",
    )
    for filed in (plain, frame):
        checked = pz.address_check(filed)
        assert checked.index.tolist() == [10, 20]
        assert checked["address_check"].tolist() == ["agrees", "mismatch"]
    assert list(pz.address_check(plain).columns) == list(address_module.ADDRESS_COLUMNS)


def test_rows_without_a_usable_coordinate(counties: gpd.GeoDataFrame) -> None:
    rows = pd.DataFrame(
        {
            "address": ["深圳市南山区", "深圳市南山区"],
            "lon": [np.nan, 0.0],
            "lat": [22.5, 0.0],
            "crs": "wgs84",
        }
    )
    checked = pz.address_check(rows)
    assert checked["address_check"].tolist() == ["not_located", "not_located"]
    assert checked["address_agrees"].isna().all()


def test_needs_an_address_column_and_a_crs() -> None:
    with pytest.raises(InputError, match="address"):
        pz.address_check(pd.DataFrame({"lon": [1.0], "lat": [1.0], "crs": ["wgs84"]}))
    with pytest.raises(InputError, match="coordinate system"):
        pz.address_check(pd.DataFrame({"address": ["深圳市"], "lon": [114.0], "lat": [22.5]}))


# --------------------------------------------------------------------------- verify


def test_verify_flags_a_mismatch_for_review_and_names_both_districts(
    counties: gpd.GeoDataFrame,
) -> None:
    points = counties.loc[["310115", "310104", "310115"], "point"].to_numpy()
    filing = pd.DataFrame(
        {
            "operator_id": ["A", "A", "A"],
            "kind": ["registration", "idc", "server"],
            "address": ["上海市浦东新区世纪大道100号", "上海市浦东新区张江路", None],
            "lon": shapely.get_x(points),
            "lat": shapely.get_y(points),
            "crs": "wgs84",
        }
    )
    result = pz.verify(filing, as_of="2025-01-01")
    facility = result.iloc[1]
    assert "address_district_mismatch" in facility["reasons"].split(";")
    assert "上海市浦东新区" in facility["message"] and "上海市徐汇区" in facility["message"]
    assert result["address_check"].tolist() == ["agrees", "mismatch", "no_address"]
    # Xuhui is outside the zone: the facility is a violation, which outranks review
    assert facility["status"] == "violation"
    assert result.iloc[0]["status"] == "compliant"
    assert "address_district_mismatch" not in result.iloc[2]["reasons"]


def test_verify_mismatch_alone_makes_review(counties: gpd.GeoDataFrame) -> None:
    points = counties.loc[["110105", "110108"], "point"].to_numpy()
    filing = pd.DataFrame(
        {
            "operator_id": ["A", "A"],
            "kind": ["registration", "idc"],
            "address": ["北京市朝阳区建国路88号", "北京市朝阳区酒仙桥路"],
            "lon": shapely.get_x(points),
            "lat": shapely.get_y(points),
            "crs": "wgs84",
        }
    )
    result = pz.verify(filing, as_of="2025-01-01")
    assert result["status"].tolist() == ["compliant", "review"]
    assert result["reasons"].iloc[1] == "address_district_mismatch"
    assert RULES["address_district_mismatch"].severity == "review"


def test_messages_in_chinese(counties: gpd.GeoDataFrame) -> None:
    points = counties.loc[["110105", "110108", "110105"], "point"].to_numpy()
    filing = pd.DataFrame(
        {
            "operator_id": ["A", "A", "A"],
            "kind": ["registration", "idc", "cdn"],
            "address": ["北京市朝阳区建国路88号", "北京市朝阳区酒仙桥路", None],
            "lon": shapely.get_x(points),
            "lat": shapely.get_y(points),
            "crs": "wgs84",
        }
    )
    checked = pz.address_check(filing, lang="zh")["address_message"].tolist()
    assert checked[0] == "坐标位于北京市朝阳区，与地址一致。按地址应属北京试点地区。"
    assert checked[1].startswith("地址写明北京市朝阳区，但坐标位于北京市海淀区，距其")
    assert checked[2] == "未填写地址。"
    result = pz.verify(filing, as_of="2025-01-01", lang="zh")
    assert "坐标位于北京市海淀区" in result["message"].iloc[1]
    assert not any(c.isascii() and c.isalpha() for c in result["message"].iloc[1])
    with pytest.raises(ValueError, match="lang"):
        pz.address_check(filing, lang="fr")  # type: ignore[arg-type]


def test_verify_without_addresses_says_so_and_locates_nothing(counties: gpd.GeoDataFrame) -> None:
    # The columns follow the schema (the reader always has an address column), so every part of a
    # filing verified piecewise, as on Dask, has the same columns.
    point = counties.loc["110105", "point"]
    filing = pd.DataFrame(
        {
            "operator_id": ["A"],
            "kind": ["registration"],
            "lon": [point.x],
            "lat": [point.y],
            "crs": "wgs84",
        }
    )
    result = pz.verify(filing, as_of="2025-01-01")
    assert result["address_check"].tolist() == ["no_address"]
    assert result["coordinate_district"].isna().all() and result["status"].iloc[0] == "compliant"


# --------------------------------------------------------------------------- the data


def test_table_counts_and_hierarchy(table: gpd.GeoDataFrame) -> None:
    counts = table["level"].value_counts()
    assert (counts["province"], counts["city"], counts["county"]) == (34, 370, 2875)
    assert not table.duplicated(["level", "adcode"]).any()
    counties = table[table["level"] == "county"]
    cities = set(table.loc[table["level"] == "city", "adcode"])
    assert set(counties["city_adcode"]) <= cities
    assert (
        counties.geometry.notna().all()
        and table.loc[table["level"] != "county"].geometry.isna().all()
    )
    assert shapely.coverage_is_valid(counties.geometry.to_numpy())
    assert (counties["accuracy_m"] >= counties["simplification_m"]).all()


def test_tampered_divisions_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "divisions"
    shutil.copytree(REPO / "data" / "divisions", folder)
    data = bytearray((folder / "divisions.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "divisions.parquet").write_bytes(bytes(data))
    monkeypatch.setattr(address_module, "_PACKAGE", folder)
    with pytest.raises(BoundaryDataError, match="sha256"):
        pz.address_check(
            pd.DataFrame({"address": ["深圳市"], "lon": [114.0], "lat": [22.5], "crs": "wgs84"})
        )


def test_import_does_not_read_the_table() -> None:
    import subprocess
    import sys

    code = "import pilotzone.address as a; print(len(a._PARSED))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout == "0\n" and run.stderr == ""


# --------------------------------------------------------------------------- oracles and invariants


def test_coordinate_district_matches_a_geopandas_spatial_join(counties: gpd.GeoDataFrame) -> None:
    rng = np.random.default_rng(12)
    lon, lat = rng.uniform(73.5, 135.0, 3000), rng.uniform(18.0, 53.5, 3000)
    rows = pd.DataFrame({"address": "深圳市", "lon": lon, "lat": lat, "crs": "wgs84"})
    checked = pz.address_check(rows)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(
        points, counties[["adcode", "geometry"]].reset_index(drop=True), predicate="intersects"
    )
    oracle = (
        joined.sort_values("adcode").groupby(level=0)["adcode"].first().reindex(range(len(rows)))
    )
    assert checked["coordinate_adcode"].isna().tolist() == oracle.isna().tolist()
    assert checked["coordinate_adcode"].dropna().tolist() == oracle.dropna().tolist()
    assert oracle.notna().sum() > 500


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from([*"上海市浦东新区北京朝阳深圳南山路号 ,Ａ１", "Pudong", "Shanghai "]),
            max_size=12,
        ).map("".join)
        | st.none(),
        min_size=1,
        max_size=5,
    )
)
def test_every_row_comes_out_with_a_known_outcome(addresses: list[str | None]) -> None:
    rows = pd.DataFrame(
        {"address": addresses, "lon": 121.5, "lat": 31.2, "crs": "gcj02"},
        index=range(100, 100 + len(addresses)),
    )
    checked = pz.address_check(rows)
    assert checked.index.tolist() == rows.index.tolist()
    assert checked["address_check"].notna().all()
    assert set(checked["address_check"]) <= set(address_module.ADDRESS_CHECKS)
    decided = checked["address_check"].isin(["agrees", "mismatch"])
    assert checked["address_agrees"].notna().tolist() == decided.tolist()


def test_district_of_points_on_district_lines_matches_a_spatial_join(
    table: gpd.GeoDataFrame, counties: gpd.GeoDataFrame
) -> None:
    # Vertices of Shanghai's district lines lie on two or more districts: the first in
    # adcode order wins, as a spatial join sorted by adcode has it.
    shanghai = counties[counties["city_adcode"] == "310100"]
    vertices = shapely.get_coordinates(shapely.boundary(shanghai.geometry.to_numpy()))
    lon, lat = vertices[:, 0], vertices[:, 1]
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(
        points, counties[["adcode", "geometry"]].reset_index(drop=True), predicate="intersects"
    )
    first = joined.sort_values("adcode").groupby(level=0)["adcode"].first()
    full_name = pd.Series(address_module._load().full_names, index=table["adcode"])
    oracle = full_name[first.reindex(range(len(lon))).to_numpy()].tolist()
    assert len(lon) > 2000 and (joined.index.value_counts() >= 2).sum() > 1000
    assert address_module.district_of(lon, lat).tolist() == oracle


def test_district_of_from_several_threads_at_once(table: gpd.GeoDataFrame) -> None:
    # A fresh table: GEOS builds each prepared county's index on first use, from one thread.
    divisions = address_module._Divisions(table)
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(113.7, 114.7, 20000), rng.uniform(22.4, 22.9, 20000)
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda _: address_module._county_rows(divisions, lon, lat), range(8)))
    alone = address_module._county_rows(address_module._Divisions(table), lon, lat)
    assert (alone >= 0).sum() > 10000
    assert all((rows == alone).all() for rows in found)
