"""Hostile and broken input (issue #11): nothing crashes, nothing is lost, nothing runs.

Filings come from the enterprises being audited, so every input is untrusted.
The invariant checked over generated filings, in every format the reader takes:
either one :class:`~pilotzone.errors.InputError` whose problems each say where
(file, row, column, value), or a result in which every input row appears exactly
once with a status; never another exception, and never a traceback from the CLI.

Then: output safety (HTML and spreadsheet injection, path traversal, atomic
writes), hostile boundary files, and resource limits. SECURITY.md maps each
threat to the tests here.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilotzone.cli import main
from pilotzone.errors import InputError
from pilotzone.facilities import read_facilities
from pilotzone.verify import STATUSES, verify
from pilotzone.zones import load_zones

AS_OF = "2025-01-01"
SETTINGS = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@functools.cache
def zones() -> gpd.GeoDataFrame:
    return load_zones(as_of=AS_OF)


# --------------------------------------------------------------------------- generated filings

# Any text a filing could hold: every plane of Unicode (no lone surrogates: no file can
# hold them), control characters, bidi overrides, full-width forms, formula starts.
TEXT = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=10),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4),
)
NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e-300, max_value=1e-300),
    st.integers(min_value=-(2**70), max_value=2**70),
)
SPECIAL = st.sampled_from(
    [
        "", " ", "\u3000", "nan", "-inf", "Infinity", "1e999", "-0", "1,5", "１２１．５",
        "121.5", "31.2", "4e-324", "=1+1", "\u202eA", "\ufeffA", "NULL", "None",
        "wgs84", "gcj02", "bd09", "cgcs2000", "EPSG:4547", "EPSG:32650", "EPSG:3857",
        "EPSG:0", "EPSG:99999999", "+proj=bogus", "高德", "百度",
        "registration", "idc", "cdn", "isp", "server", "注册地", "数据中心", "rented",
        "news", "idc;cdn", "A", "B", "甲公司",
    ]
)  # fmt: skip
CELL = st.one_of(st.none(), st.booleans(), TEXT, NUMBER, SPECIAL)
# Plausible values, so that many filings get past the reader and into verify.
PLAUSIBLE = {
    "operator_id": st.sampled_from(["A", "B", "甲公司", ""]),
    "facility_id": st.sampled_from(["1", "2", "1", "X"]),  # duplicates on purpose
    "kind": st.sampled_from(["registration", "idc", "cdn", "isp", "注册地", "数据中心"]),
    "lon": st.one_of(st.floats(70, 140), st.sampled_from(["121.5044", "114.0579", "1e3"])),
    "lat": st.one_of(st.floats(15, 55), st.sampled_from(["31.2397", "22.5431", "-91"])),
    # Mixed coordinate systems row by row, projected and unknown ones included. Not any
    # text: pyproj looks a name up in its database, ~0.5 s for each distinct one (SECURITY.md).
    "crs": st.sampled_from(
        ["wgs84", "gcj02", "bd09", "cgcs2000", "EPSG:4547", "EPSG:3857", "", "EPSG:0",
         "EPSG:99999999", "+proj=bogus", "A", "高德", "百度", None, math.nan]
    ),  # fmt: skip
}
PLAUSIBLE["坐标系"] = PLAUSIBLE["crs"]
EXTRA = ["tenure", "services", "name", "address", "note", "备注"]
HEADERS = [
    *EXTRA, "operator_id", "facility_id", "kind", "lon", "lat", "crs", "运营商", "经度", "纬度",
    "坐标系", "\ufeffoperator_id", "", "problems", "x", "Lon",
]  # fmt: skip
CORE = ["operator_id", "facility_id", "kind", "lon", "lat", "crs"]


@st.composite
def tables(draw: st.DrawFn, *, max_rows: int = 6) -> tuple[list[str], list[list[Any]]]:
    """A header (names may repeat, be blank, reserved or missing) and rows of any cells."""
    if draw(st.integers(0, 3)):  # mostly a header the reader understands
        header = CORE + draw(st.lists(st.sampled_from(EXTRA), unique=True, max_size=2))
    else:
        header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8))
    n = draw(st.integers(min_value=0, max_value=max_rows))
    rows = []
    for _ in range(n):
        rows.append(
            [
                draw(PLAUSIBLE[h])
                if h in ("crs", "坐标系")
                else draw(st.one_of(PLAUSIBLE[h], PLAUSIBLE[h], PLAUSIBLE[h], CELL))
                if h in PLAUSIBLE
                else draw(CELL)
                for h in header
            ]
        )
    return header, rows


def blank(cell: Any) -> bool:
    """What a spreadsheet user sees as an empty cell."""
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    return isinstance(cell, str) and not cell.strip()


def kept_rows(rows: list[list[Any]]) -> int:
    """Rows a CSV or workbook holds: all of them but the blank ones at the very end."""
    n = len(rows)
    while n and all(blank(cell) for cell in rows[n - 1]):
        n -= 1
    return n


def as_text(cell: Any) -> str:
    return "" if cell is None else str(cell)


def csv_bytes(header: list[str], rows: list[list[Any]], encoding: str) -> tuple[bytes, list[list[Any]]]:
    """The CSV bytes, and the rows as they read back (characters the encoding lacks become ?)."""
    import csv

    def fit(cell: Any) -> str:
        return as_text(cell).encode(encoding, "replace").decode(encoding)

    stream = io.StringIO(newline="")
    writer = csv.writer(stream)
    writer.writerow([fit(h) for h in header])
    shown = [[fit(cell) for cell in row] for row in rows]
    writer.writerows(shown)
    return stream.getvalue().encode(encoding, "replace"), shown


def xlsx_bytes(header: list[str], rows: list[list[Any]]) -> tuple[bytes, list[list[Any]]]:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def fit(cell: Any) -> Any:
        if isinstance(cell, str):
            return ILLEGAL_CHARACTERS_RE.sub("", cell)
        if isinstance(cell, int) and not isinstance(cell, bool) and abs(cell) >= 2**53:
            return str(cell)  # Excel has no integers beyond a double's precision
        return cell

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([fit(h) for h in header])
    shown = [[fit(cell) for cell in row] for row in rows]
    for row in shown:
        sheet.append(row)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue(), shown


def geojson_bytes(header: list[str], rows: list[list[Any]], points: list[Any]) -> bytes:
    features = []
    for row, point in zip(rows, points, strict=True):
        properties = {h: cell for h, cell in zip(header, row, strict=True) if h}
        properties = {k: (str(v) if isinstance(v, int) and abs(v) >= 2**63 else v)
                      for k, v in properties.items()}  # fmt: skip
        features.append({"type": "Feature", "properties": properties, "geometry": point})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode("utf-8")


POINT = st.one_of(
    st.none(),
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, NUMBER, NUMBER),
    st.builds(
        lambda x, y: {"type": "Point", "coordinates": [x, y]}, st.floats(70, 140), st.floats(15, 55)
    ),
    st.just({"type": "LineString", "coordinates": [[121, 31], [122, 32]]}),
    st.just({"type": "GeometryCollection", "geometries": []}),
    st.just({"type": "Point", "coordinates": []}),
)


# --------------------------------------------------------------------------- the invariant


def check(source: Any, *, crs: str | None, rows: int | None, at_most: int | None = None) -> None:
    """Read and verify ``source``; assert the invariant of issue #11.

    ``rows`` is the number of rows the result must have where it is known;
    ``at_most`` bounds it where the file was cut.
    """
    name = "<DataFrame>" if isinstance(source, pd.DataFrame) else Path(source).name
    try:
        sites = read_facilities(source, crs=crs)
    except InputError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.file == name
            assert problem.reason
            assert problem.row is None or 0 <= problem.row <= max(rows or 0, at_most or 0, 1)
        assert name in str(error)
        return
    n = len(sites)
    if rows is not None:
        assert n == rows
    if at_most is not None:
        assert n <= at_most
    assert sites["source_row"].tolist() == list(range(1, n + 1))
    result = verify(sites, zones=zones())
    assert len(result) == n
    assert result.index.equals(sites.index)
    assert set(result["status"].astype(str)) <= set(STATUSES)
    marked = (sites["problems"] != "").to_numpy()
    assert (result["status"].astype(str).to_numpy()[marked] == "invalid").all()


@SETTINGS
@given(table=tables(), crs=st.sampled_from([None, "wgs84", "gcj02", "EPSG:4547"]), index=st.booleans())
def test_dataframes(table: tuple[list[str], list[list[Any]]], crs: str | None, index: bool) -> None:
    header, rows = table
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    if index:  # repeated and unordered labels: rows are matched by position, not by label
        frame.index = pd.Index([7, 3, 3, 0, 7, 1][: len(frame)])
    check(frame, crs=crs, rows=len(frame))


@SETTINGS
@given(
    table=tables(),
    crs=st.sampled_from([None, "wgs84", "bd09"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
)
def test_csv_files(
    tmp_path: Path, table: tuple[list[str], list[list[Any]]], crs: str | None, encoding: str
) -> None:
    header, rows = table
    data, shown = csv_bytes(header, rows, encoding)
    path = tmp_path / "filing.csv"
    path.write_bytes(data)
    check(path, crs=crs, rows=kept_rows(shown))


@SETTINGS
@given(table=tables(max_rows=4), crs=st.sampled_from([None, "wgs84"]))
def test_excel_files(tmp_path: Path, table: tuple[list[str], list[list[Any]]], crs: str | None) -> None:
    header, rows = table
    data, shown = xlsx_bytes(header, rows)
    path = tmp_path / "filing.xlsx"
    path.write_bytes(data)
    check(path, crs=crs, rows=kept_rows(shown))


@SETTINGS
@given(data=st.data(), crs=st.sampled_from([None, "gcj02"]))
def test_geojson_files(tmp_path: Path, data: st.DataObject, crs: str | None) -> None:
    header, rows = data.draw(tables(max_rows=4))
    points = data.draw(st.lists(POINT, min_size=len(rows), max_size=len(rows)))
    path = tmp_path / "filing.geojson"
    path.write_bytes(geojson_bytes(header, rows, points))
    check(path, crs=crs, rows=len(rows) or None)


SUFFIXES = [".csv", ".xlsx", ".geojson", ".json", ".kml", ".kmz", ".parquet", ".gpkg", ".shp"]


@SETTINGS
@given(garbage=st.binary(max_size=300), suffix=st.sampled_from(SUFFIXES))
def test_binary_garbage(tmp_path: Path, garbage: bytes, suffix: str) -> None:
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(garbage)
    check(path, crs="wgs84", rows=None, at_most=len(garbage))


VALID_CSV = (
    "operator_id,facility_id,kind,lon,lat,crs,name\n"
    "A,1,registration,121.5044,31.2397,wgs84,总部\n"
    "A,2,idc,121.5500,31.2200,gcj02,\"机房, 二号\"\n"
    "A,3,cdn,114.0579,22.5431,bd09,x\n"
)


def valid_files(tmp_path: Path) -> dict[str, bytes]:
    header = ["operator_id", "facility_id", "kind", "lon", "lat", "crs", "name"]
    rows = [
        ["A", "1", "registration", 121.5044, 31.2397, "wgs84", "总部"],
        ["A", "2", "idc", 121.55, 31.22, "gcj02", "机房, 二号"],
        ["A", "3", "cdn", 114.0579, 22.5431, "bd09", "x"],
    ]
    points = [{"type": "Point", "coordinates": [r[3], r[4]]} for r in rows]
    kml = (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        "<Document>"
        + "".join(
            f"<Placemark><name>{r[1]}</name><ExtendedData><Data name='operator_id'><value>A"
            f"</value></Data><Data name='kind'><value>{r[2]}</value></Data></ExtendedData>"
            f"<Point><coordinates>{r[3]},{r[4]}</coordinates></Point></Placemark>"
            for r in rows
        )
        + "</Document></kml>"
    ).encode("utf-8")
    kmz = io.BytesIO()
    with zipfile.ZipFile(kmz, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", kml)
    parquet = io.BytesIO()
    pd.DataFrame(rows, columns=header).to_parquet(parquet)
    return {
        ".csv": VALID_CSV.encode("utf-8-sig"),
        ".xlsx": xlsx_bytes(header, rows)[0],
        ".geojson": geojson_bytes(header, rows, points),
        ".kml": kml,
        ".kmz": kmz.getvalue(),
        ".parquet": parquet.getvalue(),
    }


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return valid_files(tmp_path_factory.mktemp("valid"))


@SETTINGS
@given(suffix=st.sampled_from([".csv", ".xlsx", ".geojson", ".kml", ".kmz", ".parquet"]), cut=st.floats(0, 1))
def test_truncated_files(tmp_path: Path, valid: dict[str, bytes], suffix: str, cut: float) -> None:
    whole = valid[suffix]
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(whole[: int(len(whole) * cut)])
    check(path, crs="wgs84", rows=None, at_most=3)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".geojson", ".kml", ".kmz", ".parquet"])
def test_valid_files_read_every_row(tmp_path: Path, valid: dict[str, bytes], suffix: str) -> None:
    path = tmp_path / f"whole{suffix}"
    path.write_bytes(valid[suffix])
    check(path, crs="wgs84", rows=3)  # the files the truncation test cuts are themselves good


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf \r\n\t", "empty"),
        (b"operator_id,kind,lon,lat,crs\n", "no data rows"),
        (b"\xef\xbb\xbfoperator_id,kind,lon,lat,crs\r\n\r\n", "no data rows"),
        (b"kind,lon,lat\nidc,1,2\n", "missing required column"),
        (b"operator_id,kind,lon,lat\nA,idc,121,31\n", "no coordinate system"),
        (b"\x00\x01\x02binary", "binary"),
        ("运营商,类型\n".encode("utf-16"), "binary"),
        (b'operator_id,kind\n"A,idc\n', "malformed or truncated"),
    ],
)
def test_whole_file_problems_name_the_file(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad filing.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=reason) as caught:
        read_facilities(path)
    assert {p.file for p in caught.value.problems} == {"bad filing.csv"}


def test_row_problems_name_file_row_column_and_value(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "operator_id,facility_id,kind,lon,lat,crs\n"
        "A,1,registration,121.5,31.2,wgs84\n"
        "A,1,idc,inf,31.2,wgs84\n"
        "A,2,warehouse,121.5,NaN,EPSG:99999999\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_facilities(path, errors="raise")
    found = {(p.file, p.row, p.column, p.value) for p in caught.value.problems}
    assert ("rows.csv", 2, "lon", "inf") in found
    assert ("rows.csv", 2, "facility_id", "1") in found  # duplicate id
    assert ("rows.csv", 3, "kind", "warehouse") in found
    assert ("rows.csv", 3, "lat", "NaN") in found
    assert ("rows.csv", 3, "crs", "EPSG:99999999") in found


# --------------------------------------------------------------------------- the command line


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@settings(SETTINGS, max_examples=25)
@given(
    content=st.one_of(
        st.binary(max_size=200),
        tables().map(lambda t: csv_bytes(*t, "utf-8")[0]),
    ),
    crs=st.sampled_from([[], ["--crs", "wgs84"]]),
)
def test_cli_never_shows_a_traceback(tmp_path: Path, content: bytes, crs: list[str]) -> None:
    path = tmp_path / "hostile filing.csv"
    path.write_bytes(content)
    code, _, err = run_cli("verify", str(path), "--as-of", AS_OF, *crs)
    assert "Traceback" not in err
    assert code in (0, 1, 2), err
    if code == 2:
        assert "hostile filing.csv" in err
        assert err.startswith("pilotzone: error:")


def test_cli_subprocess_on_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.xlsx"
    path.write_bytes(b"PK\x03\x04" + os.urandom(64))
    done = subprocess.run(
        [sys.executable, "-m", "pilotzone", "verify", str(path), "--crs", "wgs84"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "garbage.xlsx" in done.stderr
