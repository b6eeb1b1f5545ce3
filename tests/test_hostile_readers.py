"""Hostile filings aimed at the readers: decompression bombs that pass the byte limit,
endless GeoPackage views, ambiguous sheet names, mis-decoded text, and the messages
for files that are broken in one place (issue #17)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from hostile_files import parquet_dictionary_bomb, view_geopackage, xlsx_shared_strings_bomb

from pilotzone.errors import InputError
from pilotzone.facilities import read_facilities

LIMIT = 2**20  # max_bytes for the bombs: 1 MiB, which they pass as files and exceed as data


def refusal(path: Path, **options: object) -> str:
    """The one problem reading ``path`` raises, as text."""
    with pytest.raises(InputError) as caught:
        read_facilities(path, **options)  # type: ignore[arg-type]
    (problem,) = caught.value.problems
    assert problem.file == path.name
    return str(problem)


# --------------------------------------------------------------------------- decompression bombs


def test_a_parquet_dictionary_bomb_is_refused_by_its_decoded_size(tmp_path: Path) -> None:
    path = parquet_dictionary_bomb(tmp_path / "bomb.parquet", length=2**16, uses=100)
    assert path.stat().st_size < 4096
    message = refusal(path, max_bytes=LIMIT)
    assert "column 'name'" in message
    decoded = re.search(r"decodes to at least ([\d,]+) bytes", message)
    assert decoded and int(decoded[1].replace(",", "")) >= 2**16 * 100
    assert f"more than the limit of {LIMIT:,} bytes" in message
    assert "max_bytes=N" in message


def test_a_parquet_file_within_the_limit_is_read(tmp_path: Path) -> None:
    path = parquet_dictionary_bomb(tmp_path / "fine.parquet", length=100, uses=100)
    sites = read_facilities(path, max_bytes=LIMIT)
    assert len(sites) == 100 and sites.loc[99, "name"] == "x" * 100


def test_an_xlsx_shared_strings_bomb_is_refused_by_its_expanded_text(tmp_path: Path) -> None:
    path = xlsx_shared_strings_bomb(tmp_path / "bomb.xlsx", length=2**16, uses=100)
    assert path.stat().st_size < LIMIT // 4  # and it unpacks to less than the limit
    message = refusal(path, max_bytes=LIMIT)
    assert "the text of worksheet 'Sheet1' is at least" in message
    assert f"more than the limit of {LIMIT:,} bytes" in message
    assert "max_bytes=N" in message


def test_an_xlsx_with_shared_strings_within_the_limit_is_read(tmp_path: Path) -> None:
    path = xlsx_shared_strings_bomb(tmp_path / "fine.xlsx", length=100, uses=100)
    sites = read_facilities(path, max_bytes=LIMIT)
    assert len(sites) == 100 and sites.loc[99, "name"] == "x" * 100


# --------------------------------------------------------------------------- GeoPackage layers


def test_a_geopackage_view_is_refused_without_being_read(tmp_path: Path) -> None:
    # A view of 5 rows: were views read, this test would get 5 rows, not hang.
    path = view_geopackage(tmp_path / "view.gpkg", rows=5)
    message = refusal(path, sheet="endless")
    assert "layer 'endless' is an SQL view, not a table" in message


def test_an_endless_recursive_view_is_refused(tmp_path: Path) -> None:
    path = view_geopackage(tmp_path / "endless.gpkg", rows=None)
    assert "layer 'endless' is an SQL view" in refusal(path, sheet=1)


def test_boundaries_with_a_view_are_refused(tmp_path: Path) -> None:
    from pilotzone.errors import BoundaryDataError
    from pilotzone.zones import load_zones

    path = view_geopackage(tmp_path / "zones.gpkg", rows=5)
    with pytest.raises(BoundaryDataError, match=r"zones\.gpkg: layer 'endless' is an SQL view"):
        load_zones(boundaries=path, accuracy_m=10)


def test_a_geopackage_of_several_layers_needs_the_layer_named(tmp_path: Path) -> None:
    path = view_geopackage(tmp_path / "two.gpkg", rows=5)
    message = refusal(path)
    assert "the GeoPackage has 2 layers, ['sites', 'endless']" in message
    assert "--sheet NAME" in message
    assert read_facilities(path, sheet="sites", crs="wgs84")["operator_id"].tolist() == ["A"]
    assert read_facilities(path, sheet=0, crs="wgs84")["operator_id"].tolist() == ["A"]


# --------------------------------------------------------------------------- sheet names


def two_sheets(path: Path, titles: tuple[str, str]) -> Path:
    """A workbook of two sheets, each with one row whose operator_id is the sheet's title."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title in titles:
        sheet = book.create_sheet(title)
        sheet.append(["operator_id", "kind", "lon", "lat", "crs"])
        sheet.append([f"on {title}", "idc", 121.5, 31.2, "wgs84"])
    book.save(path)
    return path


def test_a_sheet_name_wins_over_a_position(tmp_path: Path) -> None:
    from pilotzone.cli import main

    path = two_sheets(tmp_path / "book.xlsx", ("1", "other"))
    assert read_facilities(path, sheet="1")["operator_id"].tolist() == ["on 1"]
    assert read_facilities(path, sheet=1)["operator_id"].tolist() == ["on other"]  # an int
    out = tmp_path / "out"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["verify", str(path), "--sheet", "1", "--out", str(out)]) in (0, 1)
    results = (out / "facilities.geojson").read_text(encoding="utf-8")
    assert "on 1" in results and "on other" not in results


def test_a_number_names_a_position_where_no_sheet_has_it_as_name(tmp_path: Path) -> None:
    path = two_sheets(tmp_path / "book.xlsx", ("first", "second"))
    assert read_facilities(path, sheet="1")["operator_id"].tolist() == ["on second"]
    with pytest.raises(InputError, match="no such worksheet"):
        read_facilities(path, sheet="2")


# --------------------------------------------------------------------------- text encodings

BIG5_HEADER = "operator_id,name,address,kind,lon,lat,crs\n"


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("中華電信機房", "台北市"),  # decodes to private-use characters, kana and box drawing
        ("資料中心", "中心"),  # decodes to kana alone: 戈いみ, いみ
    ],
)
def test_big5_text_decoded_as_gb18030_is_refused(tmp_path: Path, name: str, address: str) -> None:
    body = f"{BIG5_HEADER}中華電信,{name},{address},idc,121.5,25.0,wgs84\n".encode("big5")
    body.decode("gb18030")  # it does decode: only its meaning is wrong
    path = tmp_path / "big5.csv"
    path.write_bytes(body)
    message = refusal(path)
    assert "does not read as Chinese in GBK/GB18030: line 2" in message
    assert "Big5" in message and "save it as UTF-8" in message


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8"])
@pytest.mark.parametrize(
    "text",
    [
        "中華電信機房,台北市信義區",
        "中国电信数据中心,上海市浦东新区",
        "αの机房,北京市海淀区",
    ],  # one kana, one Greek letter,
)
def test_legitimate_chinese_in_gbk_gb18030_and_utf8_is_read(
    tmp_path: Path, encoding: str, text: str
) -> None:
    path = tmp_path / "good.csv"
    path.write_bytes(f"{BIG5_HEADER}A,{text},idc,121.5,31.2,wgs84\n".encode(encoding))
    sites = read_facilities(path)
    assert sites.loc[0, "name"] == text.split(",")[0]


# --------------------------------------------------------------------------- messages

HEADER = b"operator_id,kind,lon,lat,crs,name\n"
ROW = b"A,idc,121.5,31.2,wgs84,fine\n"


@pytest.mark.parametrize(
    ("byte", "shown"), [(b"\x00", "U+0000 (NUL)"), (b"\x1b[2K", "U+001B (ESC)")]
)
def test_a_control_byte_in_one_cell_names_its_row_and_column(
    tmp_path: Path, byte: bytes, shown: str
) -> None:
    path = tmp_path / "control.csv"
    path.write_bytes(HEADER + ROW + b"B,idc,121.5,31.2,wgs84,bad" + byte + b"name\n" + ROW)
    message = refusal(path)
    assert (
        f"control.csv, row 3, column 'name': the cell holds the control character {shown}"
        in message
    )
    assert "binary" not in message


def test_a_cell_over_the_csv_field_limit_names_its_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(HEADER + ROW + b'B,idc,121.5,31.2,wgs84,"' + b"y" * 200_000 + b'"\n')
    message = refusal(path)
    assert "long.csv, row 3, column 'name': a cell is longer than 131,072 characters" in message
    assert "malformed" not in message


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_csv_split_by_semicolons_or_tabs_says_so(tmp_path: Path, separator: str) -> None:
    path = tmp_path / "semi.csv"
    text = "operator_id,kind,lon,lat,crs\nA,idc,121.5,31.2,wgs84\n".replace(",", separator)
    path.write_text(text, encoding="utf-8")
    message = refusal(path)
    assert f"has no commas but is split by {separator!r}" in message
    assert "Save it as CSV UTF-8 (comma delimited)" in message


def test_an_empty_first_sheet_names_the_sheet_with_the_data(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "cover"
    data = book.create_sheet("sites")
    data.append(["operator_id", "kind", "lon", "lat", "crs"])
    data.append(["A", "idc", 121.5, 31.2, "wgs84"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    message = refusal(path)
    assert "the first worksheet, 'cover', is empty; worksheet 'sites' holds data" in message
    assert "--sheet 'sites'" in message
    assert len(read_facilities(path, sheet="sites")) == 1


def test_a_gbk_declared_kml_says_how_to_save_it(tmp_path: Path) -> None:
    path = tmp_path / "gbk.kml"
    path.write_bytes(
        '<?xml version="1.0" encoding="GBK"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        "<Placemark><name>机房</name><Point><coordinates>121.5,31.2</coordinates></Point>"
        "</Placemark></kml>".encode("gbk")
    )
    message = refusal(path)
    assert "the KML is in the GBK encoding" in message and "iconv -f GBK -t UTF-8" in message


def test_kml_multigeometry_and_geometry_less_placemarks_say_what_to_do(tmp_path: Path) -> None:
    data = (
        '<Data name="operator_id"><value>A</value></Data>'
        '<Data name="kind"><value>idc</value></Data>'
    )
    point = "<Point><coordinates>121.5,31.2</coordinates></Point>"
    path = tmp_path / "shapes.kml"
    path.write_text(
        f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<Placemark><ExtendedData>{data}</ExtendedData><MultiGeometry>{point}{point}"
        f"</MultiGeometry></Placemark><Placemark><ExtendedData>{data}</ExtendedData></Placemark>"
        "</Document></kml>",
        encoding="utf-8",
    )
    problems = read_facilities(path)["problems"].tolist()
    assert (
        "not a single Point (MultiGeometry, Point, Point): give each facility a Placemark"
        in problems[0]
    )
    assert "the Placemark has no geometry: give it a <Point>" in problems[1]


def test_a_parquet_file_with_repeated_column_names_names_them(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "twice.parquet"
    columns = [
        pa.array(["A"]),
        pa.array(["B"]),
        pa.array(["idc"]),
        pa.array([121.5]),
        pa.array([31.2]),
    ]
    names = ["operator_id", "operator_id", "kind", "lon", "lat"]
    pq.write_table(pa.Table.from_arrays(columns, names=names), path)
    message = refusal(path, crs="wgs84")
    assert "twice.parquet, column 'operator_id': more than one column has this name" in message
    assert "FieldRef" not in message
