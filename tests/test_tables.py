"""The audit folder's tables (issues 19 and 21): every row kept, bounded, re-readable.

``facilities.parquet`` holds every input row with its result; ``facilities.csv`` and
``facilities.xlsx`` every row with its status; GeoJSON and workbooks stop at a documented
row limit, said in summary.json, never cut short; the CSV files are written in chunks.
Every table reads back with :func:`pilotzone.read_facilities`, in English and in Chinese,
and every row number opens the filed row. Chinese tables translate the coded values and
show the filing's own text as filed.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

import pilotzone as pz
from pilotzone import _tables as tables
from pilotzone import report
from pilotzone._messages import FILING, STATUS
from pilotzone.audit import check_folder
from pilotzone.cli import main
from pilotzone.zones import load_zones

AS_OF = "2025-01-01"
TITLE = "2024年增值电信业务扩大开放试点 设施备案表"
HEADERS = [
    "运营者",
    "设施编号",
    "名称",
    "类型",
    "使用方式",
    "经度",
    "纬度",
    "坐标系",
    "业务种类",
    "地址",
]
# GCJ-02 points: Lujiazui and Zhangjiang (Shanghai), Futian (Shenzhen), Tiananmen (Beijing).
ROWS = [
    ["临港云科技", "REG-1", "临港云科技有限公司", "注册地", "自有", 121.5089, 31.2378, "gcj02",
     "互联网数据中心；内容分发网络", "上海市浦东新区陆家嘴环路1000号"],
    ["临港云科技", "IDC-1", "ＡＢＣ数据中心（一号）", "数据中心", "租用", 121.5545, 31.2180,
     "gcj02", "", "上海市浦东新区张江路１２号"],
    ["临港云科技", "CDN-1", "-2+3", "CDN节点", "购买", 114.0628, 22.5403, "gcj02",
     "", "广东省深圳市福田区"],
    ["京华数据", "REG-1", "京华数据", "注册地", "自有", 116.4037, 39.9101, "gcj02",
     "互联网数据中心", "北京市东城区"],
    ["京华数据", "IDC-2", "京华二号机房", "数据中心", "租用", 116.4037, "abc", "gcj02", "",
     "北京市东城区"],
]  # fmt: skip
TABLES = ("findings.csv", "findings.xlsx", "facilities.csv", "facilities.xlsx")


def _excel_filing(folder: Path) -> Path:
    path = folder / "备案.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([TITLE])  # a title row above the header, as government workbooks have
    sheet.append(HEADERS)
    for row in ROWS:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def filing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _excel_filing(tmp_path_factory.mktemp("filing"))


@pytest.fixture(scope="module", params=["en", "zh"])
def audit(
    request: pytest.FixtureRequest, filing: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    lang = request.param
    out = tmp_path_factory.mktemp(f"audit-{lang}")
    assert main(["verify", str(filing), "--as-of", AS_OF, "--out", str(out), "--lang", lang]) == 1
    return lang, out


def _table(path: Path) -> pd.DataFrame:
    """A written table as text cells, header from its first row."""
    if path.suffix == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
    else:
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        rows = [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    return pd.DataFrame(rows[1:], columns=rows[0])


def _column(lang: str, name: str) -> str:
    from pilotzone._messages import HEADERS_ZH

    return HEADERS_ZH.get(name, name) if lang == "zh" else name


# --------------------------------------------------------------------------- every row kept


def test_facilities_parquet_holds_every_input_row_with_its_result(audit: tuple[str, Path]) -> None:
    _, out = audit
    saved = gpd.read_parquet(out / "facilities.parquet")
    assert saved["source_row"].tolist() == [3, 4, 5, 6, 7]  # the title row and header above
    assert saved.crs.equals("EPSG:4326")
    assert saved["status"].astype(str).tolist() == [
        "compliant", "compliant", "violation", "compliant", "invalid",
    ]  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert set(manifest["files"]) >= {"facilities.parquet", "facilities.csv", "facilities.xlsx"}


def test_facilities_tables_hold_every_row_with_its_status(audit: tuple[str, Path]) -> None:
    lang, out = audit
    for name in ("facilities.csv", "facilities.xlsx"):
        table = _table(out / name)
        assert table[_column(lang, "row")].tolist() == ["3", "4", "5", "6", "7"]
        shown = [STATUS[lang][s] if lang == "zh" else s for s in ("compliant", "violation")]
        assert set(table[_column(lang, "status")]) >= set(shown)


def test_every_row_number_opens_the_filed_row(audit: tuple[str, Path], filing: Path) -> None:
    lang, out = audit
    sheet = openpyxl.load_workbook(filing).active
    for name in TABLES:
        table = _table(out / name)
        assert len(table)
        for row, facility, operator in zip(
            table[_column(lang, "row")],
            table[_column(lang, "facility_id")],
            table[_column(lang, "operator_id")],
            strict=True,
        ):
            assert sheet.cell(int(row), 2).value == facility, name
            assert sheet.cell(int(row), 1).value == operator, name


# --------------------------------------------------------------------------- read back


@pytest.mark.parametrize("name", TABLES)
def test_each_table_reads_back_as_filed(audit: tuple[str, Path], name: str, filing: Path) -> None:
    _, out = audit
    original = pz.read_facilities(filing)
    back = pz.read_facilities(out / name)
    assert len(back)
    key = ["operator_id", "facility_id"]
    merged = back.merge(original, on=key, suffixes=("", "_filed"))
    assert len(merged) == len(back)
    for column in ("kind", "tenure", "crs"):
        assert merged[column].astype(str).tolist() == merged[f"{column}_filed"].astype(str).tolist()
    # text a spreadsheet would run as a formula comes back with the ' that disarmed it
    assert merged["name"].tolist() == [tables.neutralised(n) for n in merged["name_filed"]]
    for column in ("lon", "lat"):
        both = merged[[column, f"{column}_filed"]].dropna()
        assert (both[column] == both[f"{column}_filed"]).all()


def test_reverifying_the_facilities_table_gives_the_same_verdicts(
    audit: tuple[str, Path],
) -> None:
    _, out = audit
    again = pz.verify(out / "facilities.xlsx", as_of=AS_OF)
    saved = gpd.read_parquet(out / "facilities.parquet")
    assert again["status"].astype(str).tolist() == saved["status"].astype(str).tolist()


# --------------------------------------------------------------------------- Chinese outputs


def test_chinese_tables_translate_codes_and_keep_filed_text(audit: tuple[str, Path]) -> None:
    lang, out = audit
    names = {row[2] for row in ROWS}
    addresses = {row[9] for row in ROWS}
    zones = load_zones(as_of=AS_OF)
    for name in TABLES:
        table = _table(out / name)
        shown_names = set(table[_column(lang, "name")])
        assert shown_names <= {*names, "'" + ROWS[2][2]}  # a formula is neutralised, not changed
        assert set(table[_column(lang, "address")]) <= addresses  # full-width kept as filed
        kinds, tenures = set(table[_column(lang, "kind")]), set(table[_column(lang, "tenure")])
        zone_ids = set(table[_column(lang, "zone_id")]) - {""}
        if lang == "zh":
            assert kinds <= {FILING["zh"][k] for k in ("registration", "idc", "cdn")}
            assert tenures <= {FILING["zh"][t] for t in ("owned", "rented", "purchased")}
            assert zone_ids <= set(zones["short_name_zh"])
        else:
            assert kinds <= {"registration", "idc", "cdn"}
            assert zone_ids <= set(zones["zone_id"])
    assert "ＡＢＣ数据中心（一号）" in set(_table(out / "facilities.csv")[_column(lang, "name")])


# --------------------------------------------------------------------------- bounded


def test_tables_above_their_row_limit_are_skipped_and_said(
    filing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "facilities.geojson").write_text("an earlier run's", encoding="utf-8")
    monkeypatch.setattr(report, "MAX_GEOJSON_ROWS", 4)
    monkeypatch.setattr(report, "MAX_XLSX_ROWS", 4)
    result = pz.verify(filing, as_of=AS_OF)
    paths = report.write_report(result, tmp_path)
    summary = json.loads(paths["summary.json"].read_text("utf-8"))
    assert summary["outputs_limited"] is True
    assert summary["skipped"] == [
        {"file": "facilities.geojson", "rows": 5, "limit": 4, "instead": "facilities.parquet"},
        {"file": "facilities.xlsx", "rows": 5, "limit": 4, "instead": "facilities.csv"},
    ]
    assert not (tmp_path / "facilities.geojson").exists()  # no stale file passes for this run
    assert not (tmp_path / "facilities.xlsx").exists()
    assert (tmp_path / "findings.xlsx").exists()  # 2 findings: under the limit
    assert len(_table(tmp_path / "facilities.csv")) == 5  # every row, whatever the limit
    check_folder(tmp_path)


def test_a_sheet_never_holds_more_rows_than_excel_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "EXCEL_MAX_ROWS", 3)
    with pytest.raises(ValueError, match="do not fit"):
        tables.write_xlsx(pd.DataFrame({"a": [1, 2, 3]}), AS_OF, "t", io.BytesIO())


@pytest.mark.parametrize("chunk_rows", [1, 2, 7])
def test_csv_written_in_chunks_reads_as_one(chunk_rows: int) -> None:
    table = pd.DataFrame({
        "text": pd.Categorical(["=1", "a", "=1", "-", None, "b", "@x"]),
        "name": pd.array(["x", "+y", None, "z", "w", "-1", "v"], dtype="str"),
        "number": [1.5, -2.0, None, 3.0, 4.0, 5.0, 6.0],
    })  # fmt: skip
    whole, chunked = io.BytesIO(), io.BytesIO()
    tables.write_csv(table, whole, chunk_rows=len(table))
    tables.write_csv(table, chunked, chunk_rows=chunk_rows)
    assert chunked.getvalue() == whole.getvalue()
    rows = list(csv.reader(io.StringIO(whole.getvalue().decode("utf-8-sig"), newline="")))
    assert [r[0] for r in rows[1:]] == ["'=1", "a", "'=1", "-", "", "b", "'@x"]
    assert [r[1] for r in rows[1:]] == ["x", "'+y", "", "z", "w", "'-1", "v"]


def test_write_csv_streams_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """findings.csv is formatted a chunk at a time, never as one string of the whole table."""
    sizes: list[int] = []
    original = pd.DataFrame.to_csv

    def spy(self: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        sizes.append(len(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", spy)
    tables.write_csv(pd.DataFrame({"a": range(10)}), io.BytesIO(), chunk_rows=3)
    assert sizes == [3, 3, 3, 1]


def test_workbook_cells_keep_numbers_and_write_other_values_as_text(tmp_path: Path) -> None:
    table = pd.DataFrame({
        "services": [["idc", "cdn"], ["=1"], None],
        "n": [1.5, None, -2.0],
        "text": ["a\x01b", "@x", "a"],
    })  # fmt: skip
    path = tmp_path / "t.xlsx"
    with path.open("wb") as file:
        tables.write_xlsx(table, AS_OF, "t", file)
    rows = list(openpyxl.load_workbook(path)["t"].iter_rows(values_only=True))
    assert rows[1:] == [
        ("['idc', 'cdn']", 1.5, "a\ufffdb"),
        ("['=1']", None, "'@x"),
        (None, -2, "a"),
    ]
