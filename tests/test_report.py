"""Tests for pilotzone.report.write_report: files, atomic writes, safety, reproducibility.

Filings are small CSVs written here, with points well inside the shipped zones
(Lujiazui, Tiananmen, Futian) so that the results do not depend on the border
accuracy; the audit date is fixed.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import html
import importlib.util
import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_maps import map_data, points

import pilotzone
from pilotzone import _report_html, errors, report
from pilotzone import _tables as tables
from pilotzone._files import write_atomic
from pilotzone._messages import REPORT
from pilotzone.audit import check_folder
from pilotzone.errors import CRSError
from pilotzone.facilities import read_facilities
from pilotzone.report import FILES, write_report
from pilotzone.rules import RULES, describe
from pilotzone.verify import STATUSES, findings, row_numbers, verify
from pilotzone.zones import load_zones

AS_OF = "2025-01-01"
HOSTILE = "<img src=x onerror=alert(1)>"
FORMULAS = ["=1+2", "+SUM(A1:A2)", "-2+3", "@cmd", '=HYPERLINK("http://x")']
QUOTED_HYPERLINK = '"' + FORMULAS[4].replace('"', '""') + '"'  # CSV quoting
HEADER = "operator_id,facility_id,name,address,kind,tenure,lon,lat,crs,services"
# Lujiazui (Shanghai), Tiananmen (Beijing), Futian (Shenzhen): far from every border.
SHANGHAI, SHANGHAI_2 = "121.5044,31.2397", "121.5500,31.2200"
BEIJING, SHENZHEN = "116.3975,39.9087", "114.0579,22.5431"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def write_filing(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def sample_rows() -> list[str]:
    return [
        f"OP-A,A-REG,Alpha HQ,上海市浦东新区,registration,owned,{SHANGHAI},wgs84,idc;cdn",
        f"OP-A,A-IDC,数据中心一号,浦东,idc,rented,{SHANGHAI_2},wgs84,",
        f'OP-A,A-CDN,"{FORMULAS[0]}",x,cdn,rented,{SHENZHEN},wgs84,',
        f'OP-A,A-X1,"{FORMULAS[1]}",x,server,owned,{BEIJING},wgs84,',
        f'OP-A,A-X2,"{FORMULAS[2]}",x,server,owned,{BEIJING},wgs84,',
        f'OP-A,A-X3,"{FORMULAS[3]}",x,server,owned,{BEIJING},wgs84,',
        f"OP-A,A-X4,{QUOTED_HYPERLINK},x,server,owned,{BEIJING},wgs84,",
        f'OP-B,B-REG,{HOSTILE},"<b>addr</b>",registration,owned,{BEIJING},wgs84,news',
        "OP-B,B-BAD,broken,x,idc,owned,abc,39.9,wgs84,",
        f"OP-C,C-REG,Gamma HQ,x,registration,owned,{SHENZHEN},wgs84,cdn",
    ]


@pytest.fixture(scope="module")
def zones() -> Any:
    return load_zones(as_of=AS_OF)


@pytest.fixture(scope="module")
def filing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_filing(tmp_path_factory.mktemp("filing") / "filing.csv", sample_rows())


@pytest.fixture(scope="module")
def result(filing: Path, zones: Any) -> Any:
    return verify(read_facilities(filing), zones=zones)


@pytest.fixture(scope="module")
def written(result: Any, zones: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_report(result, tmp_path_factory.mktemp("report") / "out", zones=zones)


def blank_timestamp(data: bytes) -> bytes:
    return re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"<generated_at>", data)


class Tags(HTMLParser):
    """Every start tag of a page, and the srcdoc of every iframe (attribute-unescaped)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(page)
    return parser.tags


# --------------------------------------------------------------------------- the files


def test_every_file_is_written_and_no_temporary_file_is_left(written: dict[str, Path]) -> None:
    assert list(written) == list(FILES)
    folder = written["summary.json"].parent
    for name, path in written.items():
        assert path == folder / name
        assert path.stat().st_size > 0, name
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)


def test_the_result_is_not_modified(filing: Path, zones: Any, tmp_path: Path) -> None:
    result = verify(read_facilities(filing), zones=zones)
    before = result.copy()
    write_report(result, tmp_path / "out", zones=zones)
    pd.testing.assert_frame_equal(result, before)


def test_geojson_has_every_row_with_its_result(written: dict[str, Path], result: Any) -> None:
    data = json.loads(written["facilities.geojson"].read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    features = data["features"]
    assert len(features) == len(result)
    assert [f["properties"]["facility_id"] for f in features] == result["facility_id"].tolist()
    assert [f["properties"]["status"] for f in features] == result["status"].astype(str).tolist()
    first = features[0]
    assert first["geometry"] == {"type": "Point", "coordinates": [121.5044, 31.2397]}
    assert list(first["properties"])[:3] == ["operator_id", "facility_id", "name"]
    assert "geometry" not in first["properties"]
    broken = next(f for f in features if f["properties"]["facility_id"] == "B-BAD")
    assert broken["geometry"] is None
    assert broken["properties"]["status"] == "invalid"
    assert broken["properties"]["lon"] is None  # NaN becomes null, never NaN
    assert broken["properties"]["border_distance_m"] is None
    hostile = next(f for f in features if f["properties"]["facility_id"] == "B-REG")
    assert hostile["properties"]["name"] == HOSTILE  # data, not HTML: kept as it is


def test_geojson_leaves_out_columns_json_cannot_hold(
    result: Any, zones: Any, tmp_path: Path
) -> None:
    extra = result.copy()
    extra["blob"] = [object()] * len(extra)
    extra["when"] = pd.Timestamp("2025-01-02 03:04:05")
    extra.attrs = dict(result.attrs)
    paths = write_report(extra, tmp_path, zones=zones)
    properties = json.loads(paths["facilities.geojson"].read_text("utf-8"))["features"][0][
        "properties"
    ]
    assert "blob" not in properties
    assert properties["when"] == "2025-01-02T03:04:05"


def test_summary_json(written: dict[str, Path], result: Any, filing: Path, zones: Any) -> None:
    summary = json.loads(written["summary.json"].read_text(encoding="utf-8"))
    assert TIMESTAMP.fullmatch(summary["generated_at"])
    assert summary["pilotzone_version"] == pilotzone.__version__
    assert summary["input"] == {
        "file": "filing.csv",
        "sha256": hashlib.sha256(filing.read_bytes()).hexdigest(),
    }
    assert summary["as_of"] == AS_OF
    manifest = json.loads((Path(zones.attrs["boundaries_path"]) / "manifest.json").read_bytes())
    assert summary["zone_data"]["zones"] == {z["zone_id"]: z["sha256"] for z in manifest["zones"]}
    assert set(summary["zone_data"]["zones"]) == {"beijing", "shanghai", "hainan", "shenzhen"}
    assert summary["rows"] == len(result) == 10
    assert summary["by_status"] == {"invalid": 1, "violation": 6, "review": 0, "compliant": 3}
    assert summary["all_compliant"] is False
    assert summary["by_zone"] == {
        "beijing": 5,
        "shanghai": 2,
        "hainan": 0,
        "shenzhen": 2,
        "(outside every zone)": 0,
        "(not checked)": 1,
    }
    assert list(summary["by_rule"]) == list(RULES)
    assert summary["by_rule"]["facility_outside_registration_zone"] == 5
    assert summary["by_rule"]["acceleration_outside_zone"] == 1
    assert summary["by_rule"]["service_excluded"] == 1
    assert summary["by_rule"]["invalid_input"] == 1
    operators = {op["operator_id"]: op for op in summary["operators"]}
    assert list(operators) == ["OP-A", "OP-B", "OP-C"]
    assert operators["OP-A"] == {
        "operator_id": "OP-A",
        "registration_zone": "shanghai",
        "eligibility": "not_eligible",
        "eligibility_reasons": "violation",
        "eligibility_reason": "rows in violation",
        "eligible": False,
        "needs_review": False,
        "rows": 7,
        "invalid": 0,
        "violation": 5,
        "review": 0,
        "compliant": 2,
    }
    assert operators["OP-C"]["eligible"] is True
    assert operators["OP-B"]["eligible"] is False
    assert {o: op["eligibility"] for o, op in operators.items()} == {
        "OP-A": "not_eligible",
        "OP-B": "not_eligible",
        "OP-C": "eligible",
    }


def test_summary_records_a_boundary_override(result: Any, tmp_path: Path) -> None:
    shipped = load_zones(as_of=AS_OF)
    box = shipped[shipped["zone_id"] == "shenzhen"][["zone_id", "geometry"]].copy()
    box["accuracy_m"] = 300.0
    override = tmp_path / "shenzhen.geojson"
    box.to_file(override, driver="GeoJSON")
    zones = load_zones(as_of=AS_OF, boundaries=override)
    summary = json.loads(
        write_report(result, tmp_path / "out", zones=zones)["summary.json"].read_bytes()
    )
    assert summary["zone_data"]["override"] == {
        "file": "shenzhen.geojson",
        "sha256": hashlib.sha256(override.read_bytes()).hexdigest(),
    }


# --------------------------------------------------------------------------- spreadsheets


def test_csv_is_utf8_with_bom_and_holds_every_finding(
    written: dict[str, Path], result: Any
) -> None:
    data = written["findings.csv"].read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    expected = findings(result)
    assert len(rows) == len(expected)
    assert list(rows[0]) == list(expected.columns)
    assert [r["rule"] for r in rows] == expected["rule"].tolist()
    hostile = next(r for r in rows if r["facility_id"] == "B-REG")
    assert hostile["name"] == HOSTILE
    assert "数据中心一号" not in {r["name"] for r in rows}  # compliant: no finding
    invalid = next(r for r in rows if r["rule"] == "invalid_input")
    assert invalid["article"] == "-"  # a lone "-" cannot be a formula: left readable


@pytest.mark.parametrize("text", FORMULAS)
def test_csv_neutralises_formulas(written: dict[str, Path], text: str) -> None:
    rows = list(csv.reader(io.StringIO(written["findings.csv"].read_text("utf-8-sig"), newline="")))
    names = [row[3] for row in rows[1:]]
    assert "'" + text in names
    assert text not in names


def test_xlsx_neutralises_formulas_and_keeps_numbers(written: dict[str, Path], result: Any) -> None:
    book = openpyxl.load_workbook(written["findings.xlsx"])
    sheet = book["findings"]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert list(header) == list(findings(result).columns)
    names = [row[header.index("name")] for row in body]
    for text in FORMULAS:
        assert "'" + text in names
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert all(isinstance(row[header.index("row")], int) for row in body)
    assert HOSTILE in names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("-", "-"),
        ("", ""),
        (-3.5, -3.5),
        (-2, -2),
        (float("nan"), None),
        (None, None),
        (True, True),
    ],
)
def test_neutralised(value: Any, expected: Any) -> None:
    assert tables.neutralised(value) == expected


def test_negative_numbers_stay_numbers_in_csv_and_xlsx(tmp_path: Path) -> None:
    table = pd.DataFrame({"text": ["-3.5", "=A1", "\tx"], "number": [-3.5, 2.0, float("nan")]})
    path = tmp_path / "t.csv"
    write_atomic(path, lambda f: tables.write_csv(table, f))
    assert path.read_text("utf-8-sig").splitlines() == [
        "text,number",
        "'-3.5,-3.5",
        "'=A1,2.0",
        "'\tx,",
    ]
    workbook = tmp_path / "t.xlsx"
    write_atomic(workbook, lambda f: tables.write_xlsx(table, AS_OF, "findings", f))
    rows = list(openpyxl.load_workbook(workbook)["findings"].iter_rows(values_only=True))
    assert rows[1:] == [("'-3.5", -3.5), ("'=A1", 2), ("'\tx", None)]


# --------------------------------------------------------------------------- report.html


def test_report_html_escapes_input_text(written: dict[str, Path]) -> None:
    page = written["report.html"].read_text(encoding="utf-8")
    assert HOSTILE not in page
    assert "<b>addr</b>" not in page
    assert html.escape(HOSTILE) in page
    found = tags(page)
    assert not [t for t, _ in found if t in ("img", "b", "script")]
    # The embedded map: its srcdoc, once the attribute is unescaped, is the map page
    # itself, whose own escaping must hold as well.
    frames = [a for t, a in found if t == "iframe"]
    assert len(frames) == 1
    srcdoc = frames[0]["srcdoc"]
    assert srcdoc == written["map.html"].read_text(encoding="utf-8")
    assert frames[0]["sandbox"] == "allow-scripts"
    assert HOSTILE not in srcdoc
    assert not [t for t, _ in tags(srcdoc) if t == "img"]


def test_report_html_contents(written: dict[str, Path], filing: Path, zones: Any) -> None:
    page = written["report.html"].read_text(encoding="utf-8")
    assert "<h1>Pilot zone compliance report</h1>" in page
    assert AS_OF in page
    assert "filing.csv" in page
    assert hashlib.sha256(filing.read_bytes()).hexdigest() in page
    manifest = json.loads((Path(zones.attrs["boundaries_path"]) / "manifest.json").read_bytes())
    for zone in manifest["zones"]:
        assert zone["sha256"] in page
    for operator in ("OP-A", "OP-B", "OP-C"):
        assert f"<h3>Operator {operator}</h3>" in page
    assert describe("facility_outside_registration_zone") in page
    assert "Annex II.2" in page
    assert "@media print" in page
    assert '<a href="map.html">' in page
    assert len(TIMESTAMP.findall(page)) == 1
    assert re.search(r'<span id="generated-at">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</span>', page)


def test_report_html_explains_eligibility(result: Any, zones: Any, tmp_path: Path) -> None:
    """Each operator's eligibility in words, coloured by state, with its reason (#19 item 7)."""
    page = write_report(result, tmp_path / "en", zones=zones)["report.html"].read_text("utf-8")
    assert "<th>Eligibility</th><th>Why</th>" in page
    assert '<td class="violation">not eligible</td><td>rows in violation</td>' in page
    assert '<td class="compliant">eligible</td><td>every row compliant</td>' in page
    zh = write_report(result, tmp_path / "zh", zones=zones, lang="zh")["report.html"]
    page = zh.read_text("utf-8")
    assert '<td class="violation">不符合条件</td><td>存在违规行</td>' in page
    assert "<th>试点资格</th><th>原因</th>" in page


def test_report_in_chinese(result: Any, zones: Any, tmp_path: Path) -> None:
    paths = write_report(result, tmp_path, zones=zones, lang="zh")
    page = paths["report.html"].read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    assert "试点地区合规核查报告" in page
    assert describe("facility_outside_registration_zone", "zh") in page
    assert "上海（浦东+临港）" in page
    assert "<td>有效</td>" in page  # zone status
    assert "未核查（无效行）" in page
    rows = list(csv.DictReader(io.StringIO(paths["findings.csv"].read_text("utf-8-sig"))))
    assert describe("service_excluded", "zh") in {r["问题"] for r in rows}
    assert rows[0]["规则代码"] in RULES  # rule codes stay as they are: scripts rely on them
    assert {r["严重程度"] for r in rows} <= {"违规", "需复核", "无效"}
    assert "《试点方案》二（二）" in {r["条款"] for r in rows} and "《试点方案》二（二）" in page
    assert "<td>Annex II.2</td>" not in page  # articles cited as the Chinese text numbers them


def test_report_fully_chinese_when_verified_in_chinese(
    filing: Path, zones: Any, tmp_path: Path
) -> None:
    result = verify(read_facilities(filing), zones=zones, lang="zh")
    paths = write_report(result, tmp_path, zones=zones, lang="zh")
    page = paths["report.html"].read_text(encoding="utf-8")
    book = openpyxl.load_workbook(paths["findings.xlsx"], read_only=True)
    header = next(book["findings"].iter_rows(values_only=True))
    assert header == ("行号", "运营者", "设施编号", "名称", "地址", "类型", "使用方式", "经度",
                      "纬度", "坐标系", "所在区县", "所在地区", "注册地区", "距边界（米）",
                      "规则代码", "严重程度", "条款", "问题", "说明")  # fmt: skip
    messages = [r[-1] for r in book["findings"].iter_rows(min_row=2, values_only=True)]
    assert messages and all("（《试点方案》" in m or m.startswith("无法核查") for m in messages)
    for english in ("This ", "registered in", "Located ", "Cannot be checked"):
        assert english not in page


def test_report_lists_at_most_so_many_findings_per_operator(
    result: Any, zones: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "MAX_FINDINGS_PER_OPERATOR", 2)
    page = write_report(result, tmp_path, zones=zones)["report.html"].read_text("utf-8")
    assert "… 4 more findings, listed in findings.csv" in page  # OP-A has 6 findings


def test_a_large_map_is_linked_not_embedded(
    result: Any, zones: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "MAX_EMBEDDED_MAP_CHARS", 1000)
    page = write_report(result, tmp_path, zones=zones)["report.html"].read_text("utf-8")
    assert "<iframe" not in page
    assert '<a href="map.html">' in page
    assert "too large to embed" in page


def test_report_has_an_overview_map_with_one_inset_per_zone(
    written: dict[str, Path], zones: Any
) -> None:
    """A static SVG per zone, inline (no network), for the printed report (#21)."""
    page = written["report.html"].read_text(encoding="utf-8")
    drawn = [a["data-zone"] for t, a in tags(page) if t == "svg" and a.get("class") == "inset"]
    assert drawn == zones["zone_id"].tolist()
    assert "<h2>Overview map</h2>" in page
    for name in zones["short_name_en"]:
        assert f"<figcaption><strong>{html.escape(name)} (active)</strong>" in page
    assert "@page{size:A4" in page and "thead{display:table-header-group}" in page
    assert not re.search(r"\b(src|href)=\"https?:", page)


def test_report_counts_rows_by_zone_and_status(written: dict[str, Path]) -> None:
    page = written["report.html"].read_text(encoding="utf-8")
    assert (
        "<thead><tr><th>Zone</th><th>Rows</th><th>invalid</th><th>violation</th>"
        "<th>review</th><th>compliant</th></tr></thead>"
    ) in page
    summary = json.loads(written["summary.json"].read_bytes())
    section = page.split("<h3>Rows by zone</h3>")[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([^<]*)</td>((?:<td class=\"n\">\d+</td>)+)</tr>", section)
    assert len(rows) == len(summary["by_zone"])
    for _, cells in rows:
        total, *by_status = map(int, re.findall(r">(\d+)<", cells))
        assert total == sum(by_status)
    assert sum(int(re.findall(r">(\d+)<", cells)[0]) for _, cells in rows) == summary["rows"]


def test_report_in_chinese_translates_kind_tenure_zone_and_status(
    result: Any, zones: Any, tmp_path: Path
) -> None:
    """#19: the enumerations in Chinese, as the map's popups word them."""
    page = write_report(result, tmp_path, zones=zones, lang="zh")["report.html"].read_text("utf-8")
    cdn = page.split("A-CDN")[1].split("</tr>")[0]  # rented CDN node in Shenzhen, OP-A's violation
    assert '<td class="violation">违规</td>' in page.split("A-CDN")[0].rsplit("<tr>", 1)[1]
    assert "<td>CDN节点<br>租用</td><td>深圳</td>" in cdn
    assert "<th>类型 · 使用方式</th><th>地区</th>" in page
    bad = page.split("B-BAD")[1].split("</tr>")[0]
    assert "<td>互联网数据中心（IDC）<br>自有</td><td>未核查（无效行）</td>" in bad
    for english in (">cdn<", ">rented<", ">Shenzhen<", ">violation<"):
        assert english not in page


def test_chinese_findings_file_gives_each_rule_its_chinese_title(
    result: Any, zones: Any, tmp_path: Path
) -> None:
    table = findings(result)
    paths = write_report(result, tmp_path, zones=zones, lang="zh")
    with paths["findings.csv"].open(encoding="utf-8-sig", newline="") as file:
        written = list(csv.reader(file))[1:]
    title = list(table.columns).index("title")
    assert len(written) == len(table) and table["rule"].nunique() >= 3
    assert [row[title] for row in written] == [describe(r, "zh") for r in table["rule"]]


def test_report_shows_each_facility_where_filed(result: Any, zones: Any) -> None:
    """#19: the findings carry the district and the coordinates as filed; the report shows them."""
    table = findings(result)
    rows = row_numbers(result)
    filed = table.drop_duplicates("row").set_index("row")[list(_report_html.FILED_COLUMNS)]
    assert set(_report_html.FILED_COLUMNS) <= set(table.columns)
    page = report_page(result, table, zones)
    assert "<th>District · Coordinates as filed</th>" in page
    lon, lat = SHENZHEN.split(",")
    cdn = page.split("A-CDN")[1].split("</tr>")[0]
    district = filed.loc[int(rows[result["facility_id"] == "A-CDN"].iloc[0]), "district"]
    assert district and isinstance(district, str)
    assert f'<td>{district}<br><span class="at">{lon}, {lat} (wgs84)</span></td>' in cdn
    bad = page.split("B-BAD")[1].split("</tr>")[0]  # no coordinate: the cell is there, empty
    assert '<td><br><span class="at"> (wgs84)</span></td>' in bad
    # Without those columns (findings of an older result) the columns are left out.
    older = table.drop(columns=list(_report_html.FILED_COLUMNS))
    assert "District" not in report_page(result, older, zones)


def report_page(result: Any, table: pd.DataFrame, zones: Any, page: str = "", **limits: int) -> str:
    """report.html's text for a result and its findings, without writing the other files."""
    summary = report.build_summary(
        report.tally(result),
        pilotzone.summarize(result),
        zones,
        generated_at="2025-01-01T00:00:00Z",
        source={"file": "filing.csv", "sha256": "0" * 64},
        as_of=AS_OF,
        renamed={},
    )
    bounds = {
        "max_findings": report.MAX_FINDINGS_LISTED,
        "max_findings_per_operator": report.MAX_FINDINGS_PER_OPERATOR,
        "max_operators": report.MAX_OPERATORS_LISTED,
        "max_map_chars": report.MAX_EMBEDDED_MAP_CHARS,
    }
    return _report_html.report_html(
        result, table, summary, zones, page, "en", text=REPORT["en"], **(bounds | limits)
    )


def test_report_lists_the_most_serious_findings_up_to_a_bound(
    result: Any, zones: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#21: operators most serious first, the findings up to a bound, the rest counted."""
    monkeypatch.setattr(report, "MAX_FINDINGS_LISTED", 3)
    monkeypatch.setattr(report, "MAX_FINDINGS_PER_OPERATOR", 2)
    monkeypatch.setattr(report, "MAX_OPERATORS_LISTED", 2)
    page = write_report(result, tmp_path, zones=zones)["report.html"].read_text("utf-8")
    total = len(findings(result))
    assert f"Listed here: 3 of {total} findings, most serious first" in page
    assert "(at most 3 in all and 2 per operator)" in page
    assert "… 1 more operators, with fewer findings: every operator is in summary.json." in page
    sections = re.findall(r"<h3>Operator ([^<]+)</h3>", page)
    assert sections == ["OP-A", "OP-B"]  # OP-C, all compliant, is counted, not listed
    operators = page.split("<h2>Operators</h2>")[1].split("</table>")[0]
    assert re.findall(r"<tr><td>(OP-[ABC])</td>", operators) == ["OP-A", "OP-B"]
    op_a = page.split("<h3>Operator OP-A</h3>")[1].split("</section>")[0]
    op_b = page.split("<h3>Operator OP-B</h3>")[1].split("</section>")[0]
    assert op_a.count('<td class="row">') == 2 and op_b.count('<td class="row">') == 1
    assert '<td class="invalid">invalid</td>' in op_b  # its most serious first (STATUSES order)
    # With the bound reached, an operator's findings are counted in one line, not sectioned.
    monkeypatch.setattr(report, "MAX_FINDINGS_LISTED", 2)
    page = write_report(result, tmp_path / "b", zones=zones)["report.html"].read_text("utf-8")
    assert re.findall(r"<h3>Operator ([^<]+)</h3>", page) == ["OP-A"]
    unlisted = len(findings(result).query("operator_id == 'OP-B'"))
    assert f"1 more operators have findings not listed here ({unlisted} in all)" in page


def synthetic(rows: int) -> Any:
    """benchmarks/synthetic.py's filing of ``rows`` rows (50 facilities per operator)."""
    path = Path(__file__).parents[1] / "benchmarks" / "synthetic.py"
    spec = importlib.util.spec_from_file_location("synthetic", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_filing(rows)


def test_report_size_does_not_grow_with_the_rows(zones: Any, tmp_path: Path) -> None:
    """#21: report.html at most 5 MB for 1M rows. Measured on 25k and 50k synthetic rows (500 and
    1,000 operators) with a map too large to embed, and extrapolated linearly to 1M rows."""
    sizes = {}
    for rows in (25_000, 50_000):
        path = tmp_path / f"{rows}.csv"
        synthetic(rows).to_csv(path, index=False)
        result = verify(read_facilities(path), zones=zones)
        big_map = "x" * (report.MAX_EMBEDDED_MAP_CHARS + 1)
        page = report_page(result, findings(result), zones, big_map)
        assert "<iframe" not in page
        assert page.count('<td class="row">') == report.MAX_FINDINGS_LISTED
        sizes[rows] = len(page.encode("utf-8"))
    per_row = max(sizes[50_000] - sizes[25_000], 0) / 25_000
    assert sizes[50_000] + per_row * 950_000 <= 5_000_000, sizes


# --------------------------------------------------------------------------- reproducible


def test_same_input_gives_the_same_bytes(
    result: Any, zones: Any, written: dict[str, Path], tmp_path: Path
) -> None:
    again = write_report(result, tmp_path / "again", zones=zones)
    manifests = [json.loads(paths["manifest.json"].read_bytes()) for paths in (written, again)]
    assert manifests[0]["run_id"] != manifests[1]["run_id"]  # the manifest records the run
    for name in FILES[:-1]:
        if name not in ("summary.json", "report.html"):
            assert manifests[0]["files"][name] == manifests[1]["files"][name], name
        first, second = written[name].read_bytes(), again[name].read_bytes()
        if name in ("summary.json", "report.html"):
            assert len(TIMESTAMP.findall(first.decode("utf-8"))) == 1, name
            first, second = blank_timestamp(first), blank_timestamp(second)
        assert first == second, name


def test_map_ids_are_renumbered(written: dict[str, Path]) -> None:
    page = written["map.html"].read_text(encoding="utf-8")
    assert "map_00000000000000000000000000000000" in page
    ids = set(re.findall(r"_([0-9a-f]{32})(?![0-9A-Za-z])", page))
    assert ids == {f"{i:032x}" for i in range(len(ids))}


def test_map_ids_in_the_data_are_text(result: Any, zones: Any, tmp_path: Path) -> None:
    """A name that looks like a folium id is data: it is not renumbered with the ids."""
    name = "x_" + "ab" * 16
    named = result.assign(name=[name] * len(result))
    page = write_report(named, tmp_path, zones=zones)["map.html"].read_text(encoding="utf-8")
    assert "map_00000000000000000000000000000000" in page
    (data,) = map_data(page)
    assert (points(data)["name"] == name).sum() == len(named[named.geometry.notna()])


FOLIUM_IDS = ["3f" * 16, "0123456789abcdef" * 2, "e" * 32]  # the first two are elements


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(
        st.sampled_from(["_", "__", "-", "x", "Z", "9", "a", " ", "map", *FOLIUM_IDS]),
        max_size=12,
    )
)
def test_stable_ids_as_the_look_behind_renumbered_them(pieces: list[str]) -> None:
    """Differential: the ids are renumbered as the look-behind pattern
    ``(?<=_)[0-9a-f]{32}(?![0-9A-Za-z])`` found them, in the same places."""
    page, ids = "".join(pieces), set(FOLIUM_IDS[:2])
    seen: dict[str, str] = {}

    def renumbered(match: re.Match[str]) -> str:
        found = match.group(0)
        return seen.setdefault(found, f"{len(seen):032x}") if found in ids else found

    expected = re.sub(r"(?<=_)[0-9a-f]{32}(?![0-9A-Za-z])", renumbered, page)
    assert report._stable_ids(page, ids) == expected


def test_map_with_a_basemap_is_reproducible_too(result: Any, zones: Any, tmp_path: Path) -> None:
    pages = [
        write_report(result, tmp_path / str(i), zones=zones, basemap="osm")["map.html"].read_bytes()
        for i in range(2)
    ]
    assert pages[0] == pages[1]
    assert b"tile.openstreetmap.org" in pages[0]


# --------------------------------------------------------------------------- atomic


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp")


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_a_crash_midway_leaves_no_partial_file(
    result: Any, zones: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    def rows_then_crash(table: pd.DataFrame, file: Any) -> None:
        file.write(b"first row,written\r\n")
        raise error

    monkeypatch.setattr(report, "write_csv", rows_then_crash)
    with pytest.raises(type(error)):
        write_report(result, tmp_path, zones=zones)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["facilities.parquet"]  # written before


def test_a_crash_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "findings.csv"
    path.write_bytes(b"previous run\n")

    def half_then_crash(file: Any) -> None:
        file.write(b"half of a ")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomic(path, half_then_crash)
    assert path.read_bytes() == b"previous run\n"
    assert leftovers(tmp_path) == []


def test_a_failing_map_writes_neither_map_nor_report(
    result: Any, zones: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pilotzone import maps

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise maps.OfflineError("the map would not work offline")

    monkeypatch.setattr(maps, "save_map", refuse)
    with pytest.raises(maps.OfflineError):
        write_report(result, tmp_path, zones=zones)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES[: FILES.index("map.html")])


# --------------------------------------------------------------------------- arguments


def test_zones_default_to_those_the_result_was_checked_against(result: Any, tmp_path: Path) -> None:
    summary = json.loads(write_report(result, tmp_path)["summary.json"].read_bytes())
    assert summary["as_of"] == AS_OF


def test_a_result_without_crs_is_refused(result: Any, tmp_path: Path) -> None:
    no_crs = gpd.GeoDataFrame(
        pd.DataFrame(result.drop(columns="geometry")), geometry=list(result.geometry), crs=None
    )
    with pytest.raises(CRSError, match="no CRS"):
        write_report(no_crs, tmp_path)


def test_unknown_language_is_refused(result: Any, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lang"):
        write_report(result, tmp_path, lang="fr")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- filed columns


def test_filed_columns_verify_writes_reach_the_files_renamed(
    zones: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "filing.csv"
    path.write_text(
        "operator_id,facility_id,kind,lon,lat,crs,status,message,zone_id\n"
        f"OP-A,R,registration,{SHANGHAI},wgs84,approved,see file 7,Z9\n"
        f"OP-A,C,cdn,{SHENZHEN},wgs84,approved,,Z9\n",
        encoding="utf-8",
    )
    with caplog.at_level("WARNING", logger="pilotzone"):
        result = verify(read_facilities(path), zones=zones)
        written = write_report(result, tmp_path / "out", zones=zones)
    assert sum("renamed" in r.getMessage() for r in caplog.records) == 1
    features = json.loads(written["facilities.geojson"].read_bytes())["features"]
    properties = [f["properties"] for f in features]
    assert [p["filed_status"] for p in properties] == ["approved", "approved"]
    assert [p["status"] for p in properties] == ["compliant", "violation"]
    assert [p["filed_message"] for p in properties] == ["see file 7", ""]
    assert [p["filed_zone_id"] for p in properties] == ["Z9", "Z9"]
    assert [p["zone_id"] for p in properties] == ["shanghai", "shenzhen"]
    summary = json.loads(written["summary.json"].read_bytes())
    assert summary["renamed_columns"] == {
        "status": "filed_status", "message": "filed_message", "zone_id": "filed_zone_id",
    }  # fmt: skip
    assert summary["by_status"]["violation"] == 1


def test_summary_says_when_nothing_was_renamed(written: dict[str, Path]) -> None:
    assert json.loads(written["summary.json"].read_bytes())["renamed_columns"] == {}


# --------------------------------------------------------------------------- one unit


def test_the_manifest_names_every_file_with_its_sha256(written: dict[str, Path]) -> None:
    manifest = json.loads(written[report.MANIFEST].read_bytes())
    assert list(manifest["files"]) == list(FILES[:-1])
    for name, entry in manifest["files"].items():
        data = written[name].read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}, name
    assert manifest["writer"] == "write_report" and manifest["run_id"]
    assert check_folder(written[report.MANIFEST].parent)["run_id"] == manifest["run_id"]


def test_a_run_that_stops_half_way_leaves_no_manifest(
    result: Any, zones: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pilotzone import maps

    write_report(result, tmp_path, zones=zones)
    assert (tmp_path / report.MANIFEST).is_file()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise maps.OfflineError("the map would not work offline")

    monkeypatch.setattr(maps, "save_map", refuse)
    with pytest.raises(maps.OfflineError):
        write_report(result, tmp_path, zones=zones)  # new summary.json, old map.html
    assert not (tmp_path / report.MANIFEST).exists()
    with pytest.raises(pilotzone.InputError, match=r"manifest\.json: missing"):
        check_folder(tmp_path)


def test_a_file_from_another_run_is_refused_by_name(
    result: Any, zones: Any, tmp_path: Path
) -> None:
    one = write_report(result, tmp_path / "one", zones=zones)
    two = write_report(result.iloc[:3], tmp_path / "two", zones=zones)
    one["summary.json"].write_bytes(two["summary.json"].read_bytes())
    with pytest.raises(pilotzone.InputError, match=r"summary\.json: differs from"):
        check_folder(tmp_path / "one")
    one["summary.json"].unlink()
    with pytest.raises(pilotzone.InputError, match=r"summary\.json: missing, though"):
        check_folder(tmp_path / "one")


@pytest.mark.parametrize(
    "manifest",
    [b"not json", b"[]", b'{"files": {"../x": {"sha256": "0", "bytes": 1}}}'],
)
def test_a_broken_manifest_is_refused(tmp_path: Path, manifest: bytes) -> None:
    (tmp_path / report.MANIFEST).write_bytes(manifest)
    with pytest.raises(pilotzone.InputError, match=r"manifest\.json: (not a pilot|names a file)"):
        check_folder(tmp_path)


def test_stale_temporaries_are_removed_and_nothing_else(
    result: Any, zones: Any, tmp_path: Path
) -> None:
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = int(gone.stdout)  # a process that has ended
    stale = [f".summary.json.{dead}.0123abcd.tmp", f".map.html.{dead}.89abcdef.tmp"]
    kept = [
        f".summary.json.{os.getpid()}.0123abcd.tmp",  # a live run's (this one)
        f".notes.txt.{dead}.0123abcd.tmp",  # not a pilotzone output name
        ".summary.json.tmp", "summary.json.bak", "notes.txt",
    ]  # fmt: skip
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"x")
    write_report(result, tmp_path, zones=zones)
    left = {p.name for p in tmp_path.iterdir()}
    assert left == set(FILES) | set(kept)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_names_the_file(
    result: Any, zones: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def full(table: Any, file: Any) -> None:
        file.write(b"x" * 10)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(report, "write_csv", full)
    with pytest.raises(errors.OutputError) as raised:
        write_report(result, tmp_path, zones=zones)
    error = raised.value
    assert isinstance(error, OSError) and isinstance(error, pilotzone.PilotzoneError)
    assert error.errno == code and error.filename == str(tmp_path / "facilities.csv")
    assert str(tmp_path / "facilities.csv") in str(error) and "bytes free" in str(error)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["facilities.parquet"]  # no manifest


def test_a_full_disk_says_how_many_bytes_were_to_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(report.os, "fsync", full)
    with pytest.raises(errors.OutputError, match=r"summary\.json: No space left.*\(1,234 bytes"):
        write_atomic(tmp_path / "summary.json", b"x" * 1234)
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_names_the_file_on_a_full_disk(
    filing: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pilotzone.cli import main

    def full(table: Any, file: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(report, "write_csv", full)
    out = tmp_path / "out"
    assert main(["verify", str(filing), "--as-of", AS_OF, "--out", str(out)]) == 2
    assert f"cannot write {out / 'facilities.csv'}: No space left" in capsys.readouterr().err


def test_write_sites_writes_a_manifest_last(zones: Any, tmp_path: Path) -> None:
    import pilotzone as pz

    candidates = pd.DataFrame(
        {"name": ["a", "b"], "lon": [121.5044, 121.55], "lat": [31.2397, 31.22]}
    )
    sites = pz.site(candidates, zone="shanghai", crs="wgs84", zones=zones)
    feasible = pz.feasible_area("shanghai", zones=zones)
    (tmp_path / "sites_manifest.json").write_text("{}")  # a previous run's
    paths = report.write_sites(
        pd.DataFrame(sites.drop(columns="geometry")), sites, feasible, tmp_path, zones=zones
    )
    assert [p.name for p in paths] == list(report.SITE_FILES)
    manifest = check_folder(
        tmp_path, manifest="sites_manifest.json", required=report.SITE_FILES[:-1]
    )
    assert list(manifest["files"]) == list(report.SITE_FILES[:-1])


def component_rows(page: str) -> list[list[str]]:
    """The rows of the report's table of zone components, as cell texts."""
    table = re.search(r'<table class="components">(.*?)</table>', page, re.S)
    assert table, "no table of zone components"
    body = table.group(1).split("<tbody>")[1]
    return [
        [html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_tables_each_component_under_the_readings_used(
    filing: Path, tmp_path: Path, lang: str
) -> None:
    """One row per component of every zone, with the reading used (here not the default)."""
    zones = load_zones(as_of=AS_OF, readings={"shanghai/lingang-outside-pudong": "include"})
    result = verify(read_facilities(filing), zones=zones)
    page = write_report(result, tmp_path, zones=zones, lang=lang)["report.html"].read_text("utf-8")
    text = REPORT[lang]
    assert f"<h3>{text['components']}</h3>" in page
    heads = ("component", "component_name", "standing", "reading_used", "readings_offered",
             "default")  # fmt: skip
    assert "".join(f"<th>{text[h]}</th>" for h in heads) in page
    expected = [
        [c.component_id, c.name, text[c.standing], c.reading, ", ".join(c.readings), c.default]
        for components in zones["components"]
        for c in components
    ]
    rows = component_rows(page)
    assert rows == expected and len(rows) == sum(len(c) for c in zones["components"])
    by_id = {row[0]: row for row in rows}
    assert by_id["shanghai/lingang-outside-pudong"][2:] == [
        text["contested"], "include", "include, exclude, review", "review",
    ]  # fmt: skip
    assert by_id["beijing/daxing-airport"][3] == "review"


def test_report_escapes_component_names(result: Any, zones: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    hostile = zones.copy()
    hostile["components"] = [
        tuple(replace(c, name=HOSTILE) for c in components) for components in zones["components"]
    ]
    page = write_report(result, tmp_path, zones=hostile)["report.html"].read_text("utf-8")
    assert HOSTILE not in page
    assert {row[1] for row in component_rows(page)} == {HOSTILE}


@pytest.fixture(scope="module")
def sample_result(zones: Any) -> Any:
    """The bundled sample filing, verified: every status and most rules occur in it."""
    return verify(read_facilities(Path(pilotzone.__file__).parents[2] / "data/samples/filing.csv"))


def _tally_row_by_row(result: Any) -> pd.DataFrame:
    """The tally as it was counted row by row, before it was counted per distinct value."""
    status = result["status"].astype(str)
    zone = pd.Series(
        [
            _report_html.zone_key(z, s)
            for z, s in zip(result["zone_id"].tolist(), status.tolist(), strict=True)
        ],
        dtype=object,
    )
    codes = result["reasons"].astype(object).str.split(";").explode()
    tables = {"status": status, "zone": zone, "rule": codes[codes != ""]}
    frames = [
        pd.DataFrame({"what": what, "key": values.astype(object).to_numpy()})
        for what, values in tables.items()
    ]
    both = pd.concat(frames, ignore_index=True)
    counted = both.groupby(["what", "key"]).size().rename("count").reset_index()
    return counted.astype({"what": object, "key": object, "count": "int64"})


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_tally_and_rule_counts_equal_counting_every_row(sample_result: Any, data: Any) -> None:
    """Counted once per distinct value, the tally and the rule counts are the row-by-row ones.

    The rule counts are those of findings' ``rule`` column, which the terminal summary used
    to build for them.
    """
    from pilotzone._results import rule_counts

    rows = data.draw(st.lists(st.integers(0, len(sample_result) - 1), max_size=60, unique=True))
    part = sample_result.iloc[rows]
    pd.testing.assert_frame_equal(report.tally(part), _tally_row_by_row(part))
    table = findings(part)
    expected = table["rule"].value_counts().to_dict() if len(part) else {}
    assert rule_counts(part) == expected
    # findings come sorted as sort_values sorts them: most serious first, operator, row
    rank = {s: i for i, s in enumerate(STATUSES)}
    resorted = table.sort_values(
        ["severity", "operator_id", "row"],
        key=lambda s: s.map(rank) if s.name == "severity" else s,
        kind="stable",
    )
    pd.testing.assert_frame_equal(table, resorted.reset_index(drop=True))
