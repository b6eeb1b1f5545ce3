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
import datetime as dt
import io
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pilotzone as pz
from pilotzone import _tables as tables
from pilotzone import report
from pilotzone._files import plain
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


def test_articles_are_cited_once_per_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 21: citing each of the 656,575 findings' rules took 1.7 s of the Chinese
    findings.csv; a rule is cited once, whatever the number of its findings."""
    codes: list[str] = []
    original = tables.cite

    def spy(code: str, lang: Any = "en") -> str:
        codes.append(code)
        return original(code, lang)

    monkeypatch.setattr(tables, "cite", spy)
    rules = ["zone_outside", "registration_outside"] * 50 + ["not_a_rule"]
    found = pd.DataFrame({"rule": rules, "article": ""})
    shown = tables.localised(found, "zh")
    assert sorted(codes) == sorted(set(rules))
    assert shown[_column("zh", "article")].tolist() == [original(r, "zh") for r in rules]


def test_chinese_codes_stay_categorical(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 21: translated, the facilities table's categorical codes (kind, status, zone)
    became text, which the CSV writer formats row by row; renamed, each category's cell
    is made once. Categories whose renamed cells would clash stay text."""
    table = pd.DataFrame({
        "kind": pd.Categorical(["idc", "cdn", None, "idc"]),
        "zone_id": pd.Categorical(["a", "b", "c", "a"]),
        "status": pd.Categorical(["=x", "'=x", "ok", "ok"]),  # both written '=x as text
    })  # fmt: skip
    shown = tables.localised(table, "zh", {"a": "甲", "b": "乙"})
    kind, zone = shown[_column("zh", "kind")], shown[_column("zh", "zone_id")]
    assert isinstance(kind.dtype, pd.CategoricalDtype)
    assert kind.tolist()[:2] == [FILING["zh"]["idc"], FILING["zh"]["cdn"]]
    assert isinstance(zone.dtype, pd.CategoricalDtype) and zone.tolist() == ["甲", "乙", "c", "甲"]
    status = shown[_column("zh", "status")]
    assert not isinstance(status.dtype, pd.CategoricalDtype)
    written = io.BytesIO()
    tables.write_csv(shown, written)
    lines = written.getvalue().decode("utf-8-sig").split("\r\n")[1:-1]
    assert [line.split(",")[2] for line in lines] == ["'=x", "'=x", "ok", "ok"]


def _to_csv_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lengths of the frames pandas' to_csv is called with, from now on."""
    calls: list[int] = []
    original = pd.DataFrame.to_csv

    def spy(self: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", spy)
    return calls


def test_a_column_of_nothing_is_written_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 21: the Chinese facilities.csv's address_zone (no address checked: all None)
    went through pandas' to_csv, 0.4 s of 1M rows."""
    calls = _to_csv_calls(monkeypatch)
    table = pd.DataFrame({"a": [1, 2, 3], "b": pd.Series([None, np.nan, pd.NA], dtype=object)})
    written = io.BytesIO()
    tables.write_csv(table, written)
    assert calls == []
    assert written.getvalue() == "\ufeffa,b\r\n1,\r\n2,\r\n3,\r\n".encode()


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
    original = tables._csv_lines

    def spy(chunk: pd.DataFrame, *args: Any) -> Any:
        sizes.append(len(chunk))
        return original(chunk, *args)

    monkeypatch.setattr(tables, "_csv_lines", spy)
    tables.write_csv(pd.DataFrame({"a": range(10)}), io.BytesIO(), chunk_rows=3)
    assert sizes == [3, 3, 3, 1]


def test_the_audit_tables_dtypes_are_written_without_pandas_to_csv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 21: pandas' to_csv took 10 of the 22 s that the 1M-row tables took to write."""
    calls = _to_csv_calls(monkeypatch)
    table = pd.DataFrame({
        "row": [2, 3, 4],
        "name": pd.array(["=a", None, "b,c"], dtype="str"),
        "kind": pd.Categorical(["x", None, "-"]),
        "lon": [116.4, None, 1e-07],
        "near_border": [True, False, True],
        "address_agrees": pd.array([True, None, False], dtype="boolean"),
    })  # fmt: skip
    written = io.BytesIO()
    tables.write_csv(table, written, chunk_rows=2)
    assert calls == []
    assert written.getvalue().decode("utf-8-sig").split("\r\n") == [
        "row,name,kind,lon,near_border,address_agrees",
        "2,'=a,x,116.4,True,True",
        "3,,,,False,",
        '4,"b,c",-,1e-07,True,False',
        "",
    ]


# ------------------------------------------------------------------------ write_csv, differential
# The oracle: write_csv as it was before issue 21 made it write with pyarrow compute
# (pandas' to_csv of each neutralised chunk), kept here so that every byte stays the same.

_OLD_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _old_neutralised(value: Any) -> Any:
    try:
        value = plain(value)
    except TypeError:
        value = str(value)
    if isinstance(value, str) and value.startswith(_OLD_FORMULA_START) and value != "-":
        return "'" + value
    return value


def _old_unique(names: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for name in names:
        while name in seen:
            name = "'" + name
        seen.add(name)
        out.append(name)
    return out


def _old_neutralised_column(column: pd.Series) -> pd.Series:
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        if categories.dtype.kind in "OUT" or pd.api.types.is_string_dtype(categories.dtype):
            names = _old_unique([_old_neutralised(c) for c in categories])
            return column.cat.rename_categories(names)
        return column
    if pd.api.types.is_string_dtype(column.dtype) or column.dtype == object:
        codes, values = pd.factorize(column, use_na_sentinel=True)
        shown = np.array([_old_neutralised(v) for v in values] + [None], dtype=object)
        return pd.Series(shown[codes], index=column.index, name=column.name)
    return column


def _old_write_csv(table: pd.DataFrame, file: Any, *, chunk_rows: int = 50_000) -> None:
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="", write_through=True)
    try:
        csv.writer(text, lineterminator="\r\n").writerow(
            [_old_neutralised(str(c)) for c in table.columns]
        )
        for start in range(0, len(table), chunk_rows):
            chunk = table.iloc[start : start + chunk_rows]
            shown = pd.DataFrame(
                {i: _old_neutralised_column(chunk[c]) for i, c in enumerate(chunk.columns)}
            )
            shown.to_csv(text, header=False, index=False, lineterminator="\r\n", na_rep="")
        text.flush()
    finally:
        text.detach()


#: Text a spreadsheet or a CSV reader trips on: quotes, commas, line ends, formula starts.
NASTY = st.one_of(
    st.sampled_from([
        "", "-", "--", "=1", "=1+1", "+86", "-1", "@SUM(A1)", "\tx", "\rx", "a,b", 'say "hi"', '"',
        "a\r\nb", "a\nb", "\r", " lead", "trail ", "'", "'=1", "北京市朝阳区", "，全角",
        "=HYPERLINK(\"http://x\")", "1e-07", "True", "nan", "NA", "None",
    ]),
    st.text(alphabet=st.sampled_from(list("ab=+-@,\"\r\n\t' 北京０１")), max_size=6),
)  # fmt: skip
MISSING = st.sampled_from([None, np.nan, pd.NA])
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 2.0, 1e-07, 0.1, 1e16, 123456789.125, 5e-324]),
)


@st.composite
def csv_columns(draw: st.DrawFn, rows: int) -> pd.Series:
    """A column of one of the dtypes the audit tables hold, and the odd ones they might."""
    kind = draw(st.sampled_from([
        "str", "str_python", "object_text", "object_mixed", "category", "category_numbers",
        "float", "float32", "int", "Int64", "bool", "boolean", "datetime", "Float64",
            "Int32", "int64[pyarrow]", "bool[pyarrow]",
    ]))  # fmt: skip
    text_or_missing = st.one_of(NASTY, MISSING)
    if kind in ("str", "str_python"):
        values = draw(st.lists(text_or_missing, min_size=rows, max_size=rows))
        storage = "pyarrow" if kind == "str" else "python"
        return pd.Series(values, dtype=pd.StringDtype(storage, na_value=np.nan))
    if kind == "object_text":
        return pd.Series(
            draw(st.lists(text_or_missing, min_size=rows, max_size=rows)), dtype=object
        )
    if kind == "object_mixed":
        cell = st.one_of(NASTY, MISSING, FLOATS, st.integers(-(10**20), 10**20), st.booleans())
        return pd.Series(draw(st.lists(cell, min_size=rows, max_size=rows)), dtype=object)
    if kind == "category":
        names = draw(st.lists(NASTY, min_size=1, max_size=6, unique=True))
        values = draw(
            st.lists(st.one_of(st.sampled_from(names), st.none()), min_size=rows, max_size=rows)
        )
        return pd.Series(pd.Categorical(values, categories=names))
    if kind == "category_numbers":
        values = draw(
            st.lists(st.one_of(st.integers(-5, 5), st.none()), min_size=rows, max_size=rows)
        )
        return pd.Series(pd.Categorical(values))
    if kind in ("float", "float32", "Float64"):
        floats = st.floats(width=32) if kind == "float32" else FLOATS
        values = draw(st.lists(floats, min_size=rows, max_size=rows))
        dtype = {"float": "float64", "float32": "float32", "Float64": "Float64"}[kind]
        if kind == "Float64":
            values = [None if math.isnan(v) else v for v in values]
        return pd.Series(values, dtype=dtype)
    if kind in ("Int32", "int64[pyarrow]"):
        cell = st.one_of(st.integers(-(2**31), 2**31 - 1), st.none())
        return pd.Series(draw(st.lists(cell, min_size=rows, max_size=rows)), dtype=kind)
    if kind == "bool[pyarrow]":
        cell = st.one_of(st.booleans(), st.none())
        return pd.Series(draw(st.lists(cell, min_size=rows, max_size=rows)), dtype=kind)
    if kind == "int":
        return pd.Series(
            draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=rows, max_size=rows)),
            dtype="int64",
        )
    if kind == "Int64":
        cell = st.one_of(st.integers(-(2**63), 2**63 - 1), st.none())
        return pd.Series(draw(st.lists(cell, min_size=rows, max_size=rows)), dtype="Int64")
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype=bool)
    if kind == "boolean":
        cell = st.one_of(st.booleans(), st.none())
        return pd.Series(draw(st.lists(cell, min_size=rows, max_size=rows)), dtype="boolean")
    stamps = st.one_of(
        st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2262, 1, 1)),
        st.none(),
    )
    return pd.Series(draw(st.lists(stamps, min_size=rows, max_size=rows)), dtype="datetime64[ns]")


@st.composite
def csv_tables(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 8))
    width = draw(st.integers(0, 4))
    names = draw(st.lists(NASTY, min_size=width, max_size=width, unique=True))
    return pd.DataFrame({name: draw(csv_columns(rows)) for name in names}, index=range(rows))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=csv_tables(), chunk_rows=st.integers(1, 9))
def test_write_csv_writes_what_pandas_to_csv_wrote(table: pd.DataFrame, chunk_rows: int) -> None:
    """Byte for byte the file of the pandas writer it replaced, whatever the dtypes and text."""
    old, new = io.BytesIO(), io.BytesIO()
    _old_write_csv(table, old, chunk_rows=chunk_rows)
    tables.write_csv(table, new, chunk_rows=chunk_rows)
    assert new.getvalue() == old.getvalue()


def test_text_to_quote_is_quoted_once_per_distinct_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 21: quoting findings.csv's messages cell by cell took 0.5 s of 656,575 rows;
    they repeat, so each distinct message is quoted once."""
    seen: list[list[str]] = []
    original = tables._quoted_each

    def spy(values: Any) -> Any:
        seen.append(values.to_pylist())
        return original(values)

    monkeypatch.setattr(tables, "_quoted_each", spy)
    messages = ["outside, by 3 km", 'say "hi"', "inside"] * 40
    written = io.BytesIO()
    tables.write_csv(pd.DataFrame({"row": range(120), "message": messages}), written)
    assert [sorted(cells) for cells in seen] == [sorted(set(messages))]
    lines = written.getvalue().decode("utf-8-sig").split("\r\n")
    assert lines[1:4] == ['0,"outside, by 3 km"', '1,"say ""hi"""', "2,inside"]


def test_adjacent_categorical_columns_are_joined_once_per_combination(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 21: joining facilities.csv's 31 columns row by row cost per column, and 19 of
    them are categorical; adjacent ones are written as one cell, taken from the text of
    each combination of their categories (the product kept small)."""
    widths: list[int] = []
    original = tables.pc.binary_join_element_wise

    def spy(*strings: Any, **kwargs: Any) -> Any:
        widths.append(len(strings) - 1)  # the last is the separator
        return original(*strings, **kwargs)

    monkeypatch.setattr(tables.pc, "binary_join_element_wise", spy)
    monkeypatch.setattr(tables, "MAX_JOINED_CATEGORIES", 9)
    table = pd.DataFrame({
        "row": [1, 2, 3],
        "kind": pd.Categorical(["idc", "cdn", None]),
        "tenure": pd.Categorical(["=x", None, "a,b"]),
        "status": pd.Categorical(["ok", "ok", "no"]),
        "message": pd.Categorical(["fine", 'say "no"', None]),
    })  # fmt: skip
    written = io.BytesIO()
    tables.write_csv(table, written)
    # 3 x 3 cells (the empty one included) are joined, 3 x 3 x 3 are not.
    assert max(widths) == 3  # row, kind and tenure, status and message
    assert written.getvalue().decode("utf-8-sig").split("\r\n") == [
        "row,kind,tenure,status,message",
        "1,idc,'=x,ok,fine",
        '2,cdn,,ok,"say ""no"""',
        '3,,"a,b",no,',
        "",
    ]


def test_a_categorical_last_column_ends_the_lines_from_its_labels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 21: a second join of each whole line to its CRLF copied facilities.csv once
    more (274 MB); its last column (message) is categorical, so its labels end the line."""
    calls: list[int] = []
    original = tables.pc.binary_join_element_wise

    def spy(*strings: Any, **kwargs: Any) -> Any:
        calls.append(len(strings))
        return original(*strings, **kwargs)

    monkeypatch.setattr(tables.pc, "binary_join_element_wise", spy)
    table = pd.DataFrame({"row": range(5), "message": pd.Categorical(["a", None, "b,c", "a", "a"])})
    written = io.BytesIO()
    tables.write_csv(table, written, chunk_rows=1)
    assert len(calls) == 2 + 5  # the labels quoted and ended once, then one join a chunk
    assert (
        written.getvalue() == '\ufeffrow,message\r\n0,a\r\n1,\r\n2,"b,c"\r\n3,a\r\n4,a\r\n'.encode()
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    columns=st.lists(
        st.lists(st.one_of(NASTY, st.none()), min_size=5, max_size=5), min_size=1, max_size=7
    ),
    limit=st.integers(1, 40),
    chunk_rows=st.integers(1, 6),
)
def test_joined_categorical_columns_are_written_as_pandas_wrote_them(
    columns: list[list[Any]], limit: int, chunk_rows: int
) -> None:
    table = pd.DataFrame({f"c{i}": pd.Categorical(c) for i, c in enumerate(columns)})
    old, new = io.BytesIO(), io.BytesIO()
    _old_write_csv(table, old, chunk_rows=chunk_rows)
    original = tables.MAX_JOINED_CATEGORIES
    try:
        tables.MAX_JOINED_CATEGORIES = limit
        tables.write_csv(table, new, chunk_rows=chunk_rows)
    finally:
        tables.MAX_JOINED_CATEGORIES = original
    assert new.getvalue() == old.getvalue()


def _objects(column: pd.Series) -> list[Any]:
    """A column's values as Python objects, None where missing."""
    cells = column.astype(object)
    return cells.where(cells.notna(), None).tolist()


def _old_translated(column: pd.Series, words: dict[str, Any]) -> pd.Series:
    """localised's translation before issue 21 made it in arrow: the oracle."""
    codes, values = pd.factorize(column, use_na_sentinel=True)
    shown = np.array(
        [words.get(v, v) if isinstance(v, str) else v for v in values] + [None], dtype=object
    )
    return pd.Series(shown[codes], index=column.index, name=column.name)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.one_of(NASTY, MISSING, st.integers(-3, 3)), max_size=12),
    kind=st.sampled_from(["str", "object", "category"]),
    words=st.dictionaries(NASTY, st.one_of(NASTY, st.integers(0, 3)), max_size=6),
)
def test_translated_columns_are_what_pandas_made(
    values: list[Any], kind: str, words: dict[str, Any]
) -> None:
    """The same values as the per-row translation it replaced, written to the same cells;
    the same dtype, unless text categories stay categories."""
    if kind == "str":
        values = [v for v in values if not isinstance(v, int)]
    column = pd.Series(
        values, dtype=None if kind == "object" else kind, index=range(3, 3 + len(values))
    )
    column.name = "kind"
    new = tables._translated(column, lambda text: words.get(text, text))
    old = _old_translated(column, words)
    if isinstance(new.dtype, pd.CategoricalDtype):
        assert kind == "category"
        assert new.index.equals(old.index) and new.name == old.name
        assert _objects(new) == _objects(old)
    else:
        pd.testing.assert_series_equal(new, old)
    new_csv, old_csv = io.BytesIO(), io.BytesIO()
    tables.write_csv(pd.DataFrame({"kind": new, "n": 1}), new_csv)
    _old_write_csv(pd.DataFrame({"kind": old, "n": 1}), old_csv)
    assert new_csv.getvalue() == old_csv.getvalue()
    assert tables._cells(new) == tables._cells(old)


def _around(value: float) -> list[float]:
    """A float64, its two neighbours on each side, and their negatives."""
    near = [np.nextafter(np.nextafter(value, 0), 0), np.nextafter(value, 0), value]
    near += [np.nextafter(value, np.inf), np.nextafter(np.nextafter(value, np.inf), np.inf)]
    return [float(sign * v) for v in near for sign in (1, -1)]


#: Where pyarrow's float text and numpy's part: the ends of the range it is used in,
#: integral values, and the ends of each side's positional range.
FLOAT_EDGES = [v for edge in (1e-4, 1e10, 1e-6, 1e16, 1.0, 0.5, 5e-324) for v in _around(edge)]
#: Floats as the audit tables hold them (coordinates, metres), and any float64.
AUDIT_FLOATS = st.one_of(
    st.floats(min_value=1e-4, max_value=1e10),
    st.floats(min_value=-1e10, max_value=-1e-4),
    st.sampled_from(FLOAT_EDGES),
    st.integers(-(10**12), 10**12).map(float),
    st.floats(),
)


@settings(max_examples=1000, deadline=None)
@given(values=st.lists(AUDIT_FLOATS, min_size=1, max_size=40))
def test_float_cells_are_numpy_text(values: list[float]) -> None:
    """Issue 21: pyarrow's cast writes the in-range floats; every cell stays numpy's text."""
    numbers = np.array(values, dtype=np.float64)
    texts = numbers.astype(str)
    expected = ["" if math.isnan(v) else t for v, t in zip(values, texts, strict=True)]
    assert tables._float_cells(pd.Series(numbers)).to_pylist() == expected


@settings(max_examples=300, deadline=None)
@given(values=st.lists(AUDIT_FLOATS, min_size=0, max_size=12), chunk_rows=st.integers(1, 5))
def test_float_columns_are_written_as_pandas_wrote_them(
    values: list[float], chunk_rows: int
) -> None:
    table = pd.DataFrame({"lon": pd.Series(values, dtype=np.float64), "n": range(len(values))})
    old, new = io.BytesIO(), io.BytesIO()
    _old_write_csv(table, old, chunk_rows=chunk_rows)
    tables.write_csv(table, new, chunk_rows=chunk_rows)
    assert new.getvalue() == old.getvalue()


def test_only_floats_pyarrow_writes_otherwise_take_numpys_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 21: numpy's astype(str) took ~2 s of the two 1M-row CSV files; pyarrow's cast
    takes an eighth of that. Coordinates and distances never reach numpy's formatter."""
    seen: list[list[float]] = []
    original = tables._numpy_cells

    def spy(numbers: np.ndarray) -> Any:
        seen.append(numbers.tolist())
        return original(numbers)

    monkeypatch.setattr(tables, "_numpy_cells", spy)
    table = pd.DataFrame({
        "lon": [116.4, 121.5089, None, 2.0, 1e-07, -0.0],
        "border_distance_m": [None, 1234.5, 0.25, None, 1e16, 12345678901.5],
    })  # fmt: skip
    written = io.BytesIO()
    tables.write_csv(table, written)
    assert seen == [[2.0, 1e-07, -0.0], [1e16, 12345678901.5]]
    assert written.getvalue().decode("utf-8-sig").split("\r\n")[1:] == [
        "116.4,", "121.5089,1234.5", ",0.25", "2.0,", "1e-07,1e+16", "-0.0,12345678901.5", "",
    ]  # fmt: skip


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
