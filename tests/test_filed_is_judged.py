"""What is filed is what is judged (issue 19, items 2-4 and title rows).

Every header pilotzone writes reads back in; a defaulted column is announced; service lists
are lists, whatever the format; an unknown service, kind or tenure is bad input naming the
value, never a violation; a title row above the header is skipped and reported.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pilotzone as pz
from pilotzone._columns import COLUMN_ALIASES
from pilotzone._messages import HEADERS_ZH
from pilotzone.facilities import read_facilities

LUJIAZUI = (121.5044, 31.2397)  # Shanghai (Pudong), inside the pilot zone
AS_OF = "2025-01-01"


def _zones() -> pd.DataFrame:
    return pz.load_zones(as_of=AS_OF)


# --------------------------------------------------------------------------- item 2: headers


def test_every_header_pilotzone_writes_in_chinese_reads_back() -> None:
    """使用方式 and 运营者 (findings.csv in Chinese) name tenure and operator_id."""
    table = pd.DataFrame(
        {
            HEADERS_ZH["operator_id"]: ["A", "A"],
            HEADERS_ZH["facility_id"]: ["F1", "F2"],
            HEADERS_ZH["kind"]: ["注册地", "数据中心"],
            HEADERS_ZH["tenure"]: ["租用", "购买"],
            "经度": [121.5, 121.5],
            "纬度": [31.2, 31.2],
        }
    )
    facilities = read_facilities(table, crs="wgs84")
    assert facilities["problems"].tolist() == ["", ""]
    assert facilities["operator_id"].tolist() == ["A", "A"]
    assert facilities["facility_id"].tolist() == ["F1", "F2"]
    assert facilities["tenure"].tolist() == ["rented", "purchased"]
    assert facilities.attrs["defaulted"] == {}


def test_headers_come_from_the_catalogue() -> None:
    for column, names in COLUMN_ALIASES.items():
        assert column in names
        if column in HEADERS_ZH:
            assert HEADERS_ZH[column] in names


def test_unknown_columns_are_kept() -> None:
    table = pd.DataFrame(
        {"运营者": ["A"], "类型": ["注册地"], "经度": [121.5], "纬度": [31.2], "备注": ["x"]}
    )
    facilities = read_facilities(table, crs="wgs84")
    assert facilities["备注"].tolist() == ["x"]
    result = pz.verify(facilities, zones=_zones())
    assert result["备注"].tolist() == ["x"]


def test_defaulted_tenure_is_announced(caplog: pytest.LogCaptureFixture) -> None:
    table = pd.DataFrame({"operator_id": ["A", "A"], "kind": ["registration", "idc"]})
    table["facility_id"] = ["R", "I"]  # filed: only tenure is defaulted here
    table["lon"], table["lat"] = 121.5, 31.2
    with caplog.at_level(logging.WARNING, logger="pilotzone"):
        facilities = read_facilities(table, crs="wgs84")
    assert facilities["tenure"].tolist() == ["owned", "owned"]
    assert facilities.attrs["defaulted"] == {"tenure": {"default": "owned", "rows": 2}}
    said = [r.getMessage() for r in caplog.records if "tenure" in r.getMessage()]
    assert len(said) == 1 and "'owned'" in said[0] and "2 row" in said[0]


def test_blank_tenure_cells_are_counted(caplog: pytest.LogCaptureFixture) -> None:
    table = pd.DataFrame(
        {"operator_id": ["A", "A"], "kind": ["registration", "idc"], "tenure": ["", "rented"]}
    )
    table["facility_id"] = ["R", "I"]  # filed: only tenure is defaulted here
    table["lon"], table["lat"] = 121.5, 31.2
    with caplog.at_level(logging.WARNING, logger="pilotzone"):
        facilities = read_facilities(table, crs="wgs84")
    assert facilities.attrs["defaulted"] == {"tenure": {"default": "owned", "rows": 1}}
    assert any("'tenure'" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- item 3: lists


def _registration_geojson(path: Path, services: object) -> Path:
    feature = {
        "type": "Feature",
        "properties": {"operator_id": "A", "kind": "registration", "services": services},
        "geometry": {"type": "Point", "coordinates": list(LUJIAZUI)},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def test_geojson_service_arrays_are_lists(tmp_path: Path) -> None:
    path = _registration_geojson(tmp_path / "f.geojson", ["idc", "cdn"])
    facilities = read_facilities(path)
    assert facilities["services"].tolist() == ["cdn;idc"]
    assert facilities["problems"].tolist() == [""]
    result = pz.verify(path, zones=_zones())
    assert result["reasons"].tolist() == [""]
    assert result["status"].tolist() == ["compliant"]


def test_parquet_list_columns_are_lists(tmp_path: Path) -> None:
    table = pa.table(
        {
            "operator_id": ["A"],
            "kind": ["registration"],
            "lon": [LUJIAZUI[0]],
            "lat": [LUJIAZUI[1]],
            "crs": ["wgs84"],
            "services": pa.array([["idc", "isp"]], type=pa.list_(pa.string())),
        }
    )
    pq.write_table(table, tmp_path / "f.parquet")
    facilities = read_facilities(tmp_path / "f.parquet")
    assert facilities["services"].tolist() == ["idc;isp"]
    assert facilities["problems"].tolist() == [""]


@pytest.mark.parametrize(
    "text", ["idc;cdn", "idc,cdn", "idc、cdn", "idc，cdn", "idc/cdn", "idc cdn", "IDC；CDN"]
)
def test_text_service_lists_split(text: str) -> None:
    table = pd.DataFrame(
        {"operator_id": ["A"], "kind": ["registration"], "services": [text], "lon": [121.5]}
    )
    table["lat"] = 31.2
    assert read_facilities(table, crs="wgs84")["services"].tolist() == ["cdn;idc"]


# --------------------------------------------------------------------------- item 4: typos


def _one_registration(**extra: object) -> pd.DataFrame:
    row = {"operator_id": "A", "kind": "registration", "lon": LUJIAZUI[0], "lat": LUJIAZUI[1]}
    return pd.DataFrame([{**row, "crs": "wgs84", **extra}])


def test_a_service_typo_is_invalid_input_naming_it() -> None:
    result = pz.verify(_one_registration(services="IDC;CND"), zones=_zones())
    assert result["status"].tolist() == ["invalid"]
    assert result["reasons"].tolist() == ["invalid_input"]
    message = result["message"].iloc[0]
    assert "CND" in message and "did you mean 'cdn'" in message
    assert "information_protection" in message  # the known names


def test_excluded_services_stay_violations() -> None:
    result = pz.verify(_one_registration(services="idc;news"), zones=_zones())
    assert result["reasons"].tolist() == ["service_excluded"]


def test_an_invalid_registration_does_not_judge_the_operator() -> None:
    table = pd.concat(
        [_one_registration(services="idc;cnd"), _one_registration(services="idc")],
        ignore_index=True,
    )
    table.loc[1, "facility_id"] = "second"
    result = pz.verify(table, zones=_zones())
    assert result["reasons"].tolist() == ["invalid_input", ""]


def test_an_operators_table_with_a_typo_is_refused() -> None:
    operators = pd.DataFrame({"operator_id": ["A"], "services": ["idc;cnd"]})
    with pytest.raises(pz.InputError, match="cnd"):
        pz.verify(_one_registration(services="idc"), operators=operators, zones=_zones())


@pytest.mark.parametrize(
    ("column", "value", "close"),
    [("kind", "regstration", "registration"), ("tenure", "rentd", "rented")],
)
def test_unknown_kind_and_tenure_are_invalid_with_a_suggestion(
    column: str, value: str, close: str
) -> None:
    facilities = read_facilities(_one_registration(**{column: value}))
    problem = facilities["problems"].iloc[0]
    assert value in problem and f"did you mean {close!r}" in problem


# --------------------------------------------------------------------------- title rows


def test_a_title_row_above_the_header_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2024年增值电信业务试点设施备案表"])
    sheet.append([])
    sheet.append(["运营者", "设施编号", "类型", "使用方式", "经度", "纬度", "坐标系", "业务种类"])
    sheet.append(["A", "F1", "注册地", "租用", LUJIAZUI[0], LUJIAZUI[1], "wgs84", "IDC、CDN"])
    book.save(tmp_path / "f.xlsx")
    with caplog.at_level(logging.WARNING, logger="pilotzone"):
        facilities = read_facilities(tmp_path / "f.xlsx")
    assert facilities["problems"].tolist() == [""]
    assert facilities["tenure"].tolist() == ["rented"]
    assert facilities["services"].tolist() == ["cdn;idc"]
    assert facilities.attrs["header_row"] == 3
    assert any("row 3" in r.getMessage() for r in caplog.records)


def test_a_title_row_in_a_csv_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("备案表,,,,\noperator_id,kind,lon,lat,crs\nA,registration,121.5,31.2,wgs84\n")
    facilities = read_facilities(path)
    assert facilities["operator_id"].tolist() == ["A"]
    assert facilities.attrs["header_row"] == 2


def test_kind_and_tenure_labels_pilotzone_writes_read_back() -> None:
    """The Chinese outputs write kinds and tenures as FILING["zh"] labels; they read back."""
    from pilotzone._messages import FILING

    kinds = list(pz.rules.FACILITY_KINDS)
    tenures = ["owned", "rented", "purchased"] * 2
    table = pd.DataFrame(
        {
            "运营者": [f"OP{i}" for i in range(len(kinds))],
            "类型": [FILING["zh"][k] for k in kinds],
            "使用方式": [FILING["zh"][t] for t in tenures],
            "经度": 121.5,
            "纬度": 31.2,
        }
    )
    facilities = read_facilities(table, crs="wgs84")
    assert facilities["problems"].tolist() == [""] * len(kinds)
    assert facilities["kind"].tolist() == kinds
    assert facilities["tenure"].tolist() == tenures
