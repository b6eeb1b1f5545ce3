"""One row numbering everywhere (issue 19, item 1).

The number every output gives a row is the one the user's program shows for it: the line
of a CSV where the record starts, the row of a worksheet (counting title rows and the
header), the feature number of a GeoJSON file. Each test opens the file itself to find where
a facility really is, and checks that findings.csv, findings.xlsx, ``pz.findings()``, the
InputError and the terminal all point there.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import pilotzone as pz
from pilotzone.cli import main
from pilotzone.errors import InputError

AS_OF = "2025-01-01"
COLUMNS = ["operator_id", "facility_id", "name", "kind", "tenure", "lon", "lat", "crs", "services"]
ROWS = [
    # a name over two lines: in a CSV, the records below start a line later than they count
    ["OP-A", "A-REG", "Alpha\nHQ", "registration", "owned", 121.5044, 31.2397, "wgs84", "idc;cdn"],
    ["OP-A", "A-IDC", "IDC one", "idc", "rented", 121.55, 31.22, "wgs84", ""],
    ["OP-C", "C-REG", "Gamma HQ", "registration", "owned", 114.0579, 22.5431, "wgs84", "cdn"],
    ["OP-A", "A-CDN", "Alpha CDN", "cdn", "rented", 114.0579, 22.5431, "wgs84", ""],  # violation
    ["OP-C", "C-BAD", "broken", "idc", "owned", None, 22.54, "wgs84", ""],  # cannot be checked
]
VIOLATION, PROBLEM = "A-CDN", "C-BAD"


def _write(folder: Path, fmt: str) -> Path:
    path = folder / f"filing.{fmt}"
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows([["abc" if v is None else v for v in row] for row in ROWS])
    elif fmt == "xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["2024 年增值电信业务试点备案"])  # a title row, then a blank row
        sheet.append([])
        sheet.append(COLUMNS)
        for row in ROWS:
            sheet.append(["abc" if v is None else v for v in row])
        book.save(path)
    else:
        features = [
            {
                "type": "Feature",
                "properties": dict(zip(COLUMNS[:5] + COLUMNS[8:], row[:5] + row[8:], strict=True)),
                "geometry": None
                if row[5] is None
                else {"type": "Point", "coordinates": [row[5], row[6]]},
            }
            for row in ROWS
        ]
        collection = {"type": "FeatureCollection", "features": features}
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def _where(path: Path, facility_id: str) -> int:
    """Where the file holds ``facility_id``, as its program shows it, found without pilotzone."""
    if path.suffix == ".csv":
        lines = path.read_text(encoding="utf-8").split("\n")
        return next(n for n, line in enumerate(lines, 1) if f",{facility_id}," in line)
    if path.suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path).active
        return next(c.row for row in sheet.iter_rows() for c in row if c.value == facility_id)
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    ids = [feature["properties"]["facility_id"] for feature in features]
    return ids.index(facility_id) + 1


@pytest.fixture(params=["csv", "xlsx", "geojson"])
def filing(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return _write(tmp_path, request.param)


def test_the_rows_are_where_the_test_says(filing: Path) -> None:
    """The fixture itself: the numbers differ from every 0- or 1-based count of data rows."""
    violation, problem = _where(filing, VIOLATION), _where(filing, PROBLEM)
    expected = {".csv": (6, 7), ".xlsx": (7, 8), ".geojson": (4, 5)}[filing.suffix]
    assert (violation, problem) == expected


def test_result_and_findings_number_rows_as_the_file_does(filing: Path) -> None:
    result = pz.verify(pz.read_facilities(filing), zones=pz.load_zones(as_of=AS_OF))
    by_id = result.set_index("facility_id")
    assert by_id.loc[VIOLATION, "status"] == "violation"
    assert by_id.loc[PROBLEM, "status"] == "invalid"
    assert by_id.loc[VIOLATION, "source_row"] == _where(filing, VIOLATION)
    assert by_id.loc[PROBLEM, "source_row"] == _where(filing, PROBLEM)
    found = pz.findings(result)
    assert set(found.loc[found["facility_id"] == VIOLATION, "row"]) == {_where(filing, VIOLATION)}
    for facility_id, row in zip(found["facility_id"], found["row"], strict=True):
        assert row == _where(filing, facility_id)


def test_the_input_error_names_the_row_as_the_file_does(filing: Path) -> None:
    with pytest.raises(InputError) as caught:
        pz.read_facilities(filing, errors="raise")
    rows = {problem.row for problem in caught.value.problems}
    assert rows == {_where(filing, PROBLEM)}
    assert f"row {_where(filing, PROBLEM)}" in str(caught.value)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_outputs_number_rows_as_the_file_does(
    filing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    out = tmp_path / "out"
    status = main(["verify", str(filing), "--as-of", AS_OF, "--out", str(out), "--lang", lang])
    terminal = capsys.readouterr().out
    assert status != 2
    problem, violation = _where(filing, PROBLEM), _where(filing, VIOLATION)
    cited = f"row {problem}" if lang == "en" else f"第 {problem} 行"
    assert cited in terminal
    row, facility = ("row", "facility_id") if lang == "en" else ("行号", "设施编号")
    for table in (
        pd.read_csv(out / "findings.csv", dtype=str),
        pd.read_excel(out / "findings.xlsx", dtype=str, engine="openpyxl"),
    ):
        assert row in table.columns
        numbers = dict(zip(table[facility], table[row].astype(int), strict=False))
        assert numbers[VIOLATION] == violation
        for facility_id, number in numbers.items():
            assert number == _where(filing, facility_id)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert f"<th>{'Row' if lang == 'en' else '行号'}</th>" in report
    assert f'{VIOLATION} · Alpha CDN</td><td class="row">{violation}</td>' in report
    properties = {
        f["properties"]["facility_id"]: f["properties"]["source_row"]
        for f in json.loads((out / "facilities.geojson").read_text(encoding="utf-8"))["features"]
    }
    assert properties[VIOLATION] == violation
    assert properties[PROBLEM] == problem
