"""Excel formulas: pilotzone reads the result a workbook saved, and names a formula that has none.

A workbook written by a program (openpyxl, many exporters) holds formulas whose
results were never computed; Excel and LibreOffice store the result when they
save. Issue #17: such cells used to read as blank, so a row became invalid for
"lon missing" with no word of the formula.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pilotzone.errors import InputError
from pilotzone.facilities import read_facilities

HEADER = ["operator_id", "facility_id", "kind", "lon", "lat", "crs"]


def workbook(path: Path, *, cached: dict[str, str] | None = None) -> Path:
    """A filing whose facility row computes lon (D3) and lat (E3) by formulas.

    ``cached`` maps a cell to the result to store beside its formula, as a
    spreadsheet program does on saving; cells not in it keep no result.
    """
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["OP1", "REG", "registration", 116.4, 39.9, "wgs84"])
    sheet.append(["OP1", "F1", "idc", "=D2+0.1", "=E2", "wgs84"])
    buffer = io.BytesIO()
    book.save(buffer)
    if not cached:
        path.write_bytes(buffer.getvalue())
        return path
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                for cell, value in cached.items():
                    data = re.sub(
                        rf'(<c r="{cell}"[^>]*>)<f>([^<]*)</f>(<v\s*/>|<v></v>)?'.encode(),
                        rf"\1<f>\2</f><v>{value}</v>".encode(),
                        data,
                    )
            target.writestr(item, data)
    return path


def test_a_formula_without_a_saved_result_is_named_by_row_column_and_cell(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_facilities(workbook(tmp_path / "computed.xlsx"))
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems[1:]] == [(3, "lon"), (3, "lat")]
    assert "cell D3 holds a formula with no saved result" in problems[1].reason
    assert "cell E3" in problems[2].reason
    assert problems[0].row is None
    assert "2 formula cells have no saved result" in problems[0].reason
    assert "save it" in problems[0].reason


def test_a_formula_with_a_saved_result_reads_the_result(tmp_path: Path) -> None:
    path = workbook(tmp_path / "saved.xlsx", cached={"D3": "116.5", "E3": "39.9"})
    sites = read_facilities(path)
    assert sites["problems"].tolist() == ["", ""]
    assert sites["lon"].tolist() == [116.4, 116.5]


def test_one_formula_without_a_result_among_saved_ones(tmp_path: Path) -> None:
    path = workbook(tmp_path / "half.xlsx", cached={"D3": "116.5"})
    with pytest.raises(InputError, match="1 formula cell has no saved result") as caught:
        read_facilities(path)
    assert [(p.row, p.column) for p in caught.value.problems[1:]] == [(3, "lat")]


def test_the_command_line_says_so_in_one_paragraph(tmp_path: Path, capsys) -> None:
    from pilotzone.cli import main

    assert main(["verify", str(workbook(tmp_path / "computed.xlsx"))]) == 2
    err = capsys.readouterr().err
    assert "computed.xlsx, row 3, column 'lon': cell D3 holds a formula" in err
    assert "Traceback" not in err
