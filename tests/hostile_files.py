"""Builders of hostile filings, shared by the tests and benchmarks/hostile.py.

Each builder writes a small file that would cost far more than its size to read
naively; the sizes are arguments, so tests build them small and the benchmark
at full size.
"""

from __future__ import annotations

import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

HEADER = ["operator_id", "name", "kind", "lon", "lat", "crs"]


def parquet_dictionary_bomb(path: Path, *, length: int, uses: int) -> Path:
    """A Parquet file whose ``name`` is one ``length``-character string used by ``uses`` rows:
    stored once in the column's dictionary, it decodes to ``length * uses`` bytes."""
    table = pa.table(
        {
            "operator_id": ["A"] * uses,
            "name": pa.array(["x" * length] * uses).dictionary_encode(),
            "kind": ["idc"] * uses,
            "lon": [121.5] * uses,
            "lat": [31.2] * uses,
            "crs": ["wgs84"] * uses,
        }
    )
    pq.write_table(table, path, compression="zstd", use_dictionary=True)
    return path


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)  # fmt: skip
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    "</Relationships>"
)  # fmt: skip
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/>'
    "</Relationships>"
)  # fmt: skip


def xlsx_shared_strings_bomb(path: Path, *, length: int, uses: int) -> Path:
    """A workbook whose ``name`` cells all refer to one shared string of ``length`` characters:
    stored once, it expands to ``length * uses`` characters."""
    strings = [*HEADER, "A", "idc", "wgs84", "x" * length]
    shared = "".join(f"<si><t>{text}</t></si>" for text in strings)
    index = {text: i for i, text in enumerate(strings)}

    def cell(column: str, row: int, text: str) -> str:
        return f'<c r="{column}{row}" t="s"><v>{index[text]}</v></c>'

    rows = [
        '<row r="1">' + "".join(cell("ABCDEF"[i], 1, h) for i, h in enumerate(HEADER)) + "</row>"
    ]
    for r in range(2, uses + 2):
        rows.append(
            f'<row r="{r}">{cell("A", r, "A")}{cell("B", r, "x" * length)}{cell("C", r, "idc")}'
            f'<c r="D{r}"><v>121.5</v></c><c r="E{r}"><v>31.2</v></c>{cell("F", r, "wgs84")}</row>'
        )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(rows)}</sheetData></worksheet>"
    )
    strings_part = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">{shared}</sst>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", strings_part)
    return path


def view_geopackage(path: Path, *, rows: int | None) -> Path:
    """A GeoPackage with a point layer ``sites`` and a layer ``endless`` that is an SQL view
    computed by a recursive query: of ``rows`` rows, or without end where ``rows`` is None."""
    frame = gpd.GeoDataFrame(
        {"operator_id": ["A"], "kind": ["idc"]}, geometry=[shapely.Point(121.5, 31.2)], crs=4326
    )
    frame.to_file(path, layer="sites", engine="pyogrio")
    limit = "" if rows is None else f" LIMIT {rows}"
    with closing(sqlite3.connect(path)) as db:
        db.execute(
            "CREATE VIEW endless AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
            f"FROM r{limit}) SELECT n AS fid, 'A' AS operator_id, 'idc' AS kind, 121.5 AS lon, "
            "31.2 AS lat, 'wgs84' AS crs FROM r"
        )
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier) "
            "VALUES ('endless', 'attributes', 'endless')"
        )
        db.commit()
    return path
