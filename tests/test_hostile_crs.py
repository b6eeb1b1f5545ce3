"""Hostile coordinate systems and hostile text on the terminal (issue #17).

* many distinct ``crs`` values: refused before PROJ builds any of them, and every value PROJ
  does build is built once;
* systems that are no 2D position (``EPSG:-4326``, geocentric, vertical, 3D, compound,
  engineering) are refused; a point PROJ sends off the globe cannot be placed;
* filing text reaches the terminal as printable text only;
* Python warnings reach the terminal as the CLI's own one-line notes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import pytest

import pilotzone as pz
from pilotzone import _terminal
from pilotzone.cli import main
from pilotzone.errors import CRSError, InputError
from pilotzone.facilities import MAX_CRS

AS_OF = "2025-01-01"
SHANGHAI = (121.5044, 31.2397)
# An equidistant cylindrical projection with +over: PROJ inverts x = 5e7 m to longitude 449.
OFF_GLOBE = ("+proj=eqc +datum=WGS84 +over", 5e7, 1e6)
UNPRINTABLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def tmerc(i: int) -> str:
    """A distinct, valid PROJ string for each ``i``."""
    return f"+proj=tmerc +lon_0={100 + i * 0.01:.2f} +k=1 +x_0=500000 +ellps=GRS80 +units=m"


def filing(crs_values: list[Any]) -> pd.DataFrame:
    n = len(crs_values)
    return pd.DataFrame(
        {
            "operator_id": ["OP"] * n,
            "kind": ["idc"] * n,
            "lon": [500000.0] * n,
            "lat": [3456000.0] * n,
            "crs": crs_values,
        }
    )


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every value pyproj is asked to parse into a CRS, in order."""
    calls: list[Any] = []
    original = pyproj.CRS.from_user_input

    def counting(value: Any, **kwargs: Any) -> pyproj.CRS:
        calls.append(value)
        return original(value, **kwargs)

    monkeypatch.setattr(pyproj.CRS, "from_user_input", staticmethod(counting))
    return calls


# --------------------------------------------------------------------------- many systems


def test_too_many_distinct_crs_values_are_refused_before_any_is_parsed(parses: list[Any]) -> None:
    values = [tmerc(i) for i in range(MAX_CRS + 1)]
    with pytest.raises(InputError) as caught:
        pz.read_facilities(filing(values))
    assert parses == []
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.column) == ("<DataFrame>", None, "crs")
    assert f"{MAX_CRS + 1:,} distinct coordinate systems" in problem.reason
    assert f"limit of {MAX_CRS}" in problem.reason
    assert "max_crs=N" in problem.reason and "--max-crs N" in problem.reason


def test_the_limit_counts_distinct_values_not_rows() -> None:
    values = [tmerc(i % MAX_CRS) for i in range(10 * MAX_CRS)]  # many rows, MAX_CRS systems
    sites = pz.read_facilities(filing(values))
    assert (sites["problems"] == "").all()
    assert sites["crs"].nunique() == MAX_CRS


def test_max_crs_raises_and_lowers_the_limit() -> None:
    values = [tmerc(i) for i in range(5)]
    with pytest.raises(InputError, match="5 distinct coordinate systems, more than the limit of 4"):
        pz.read_facilities(filing(values), max_crs=4)
    assert (pz.read_facilities(filing(values), max_crs=5)["problems"] == "").all()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "32"])
def test_max_crs_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_crs must be a positive integer"):
        pz.read_facilities(filing(["wgs84"]), max_crs=bad)


def test_each_coordinate_system_is_parsed_once(parses: list[Any]) -> None:
    value = tmerc(7777)  # a value no other test uses

    def use() -> None:
        pz.crs.normalize_crs(value)
        pz.crs.is_lonlat(value)
        pz.to_wgs84([500000.0], [3456000.0], crs=value)
        pz.locate([500000.0], [3456000.0], crs=value)

    def ours() -> list[Any]:  # geopandas parses EPSG:4326 for every frame it makes
        return [p for p in parses if "177.77" in str(p)]

    use()
    assert ours()
    parses.clear()
    use()  # the system, its normalised name and its transformer are built already
    assert ours() == []


def test_the_cli_refuses_too_many_systems_and_takes_max_crs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "many.csv"
    filing([tmerc(i) for i in range(40)]).to_csv(path, index=False)
    assert main(["verify", str(path), "--as-of", AS_OF]) == 2
    err = capsys.readouterr().err
    assert "many.csv, column 'crs': 40 distinct coordinate systems" in err
    assert "limit of 32" in err and "--max-crs N" in err
    assert main(["verify", str(path), "--as-of", AS_OF, "--max-crs", "40"]) == 1
    assert "Checked many.csv: 40 rows" in capsys.readouterr().out
    assert main(["verify", str(path), "--max-crs", "0"]) == 2
    assert "--max-crs: '0' is not a whole number of at least 1" in capsys.readouterr().err


# --------------------------------------------------------------------------- what is a position


@pytest.mark.parametrize(
    "value", ["EPSG:-4326", "epsg: -4326", "EPSG:－4326", "-4326", "EPSG:-4490"]
)
def test_a_negative_code_is_no_coordinate_system(value: str) -> None:
    with pytest.raises(CRSError):
        pz.crs.normalize_crs(value)
    with pytest.raises(CRSError):
        pz.crs.normalize_crs(value, search_names=False)


def test_a_negative_code_in_a_cell_makes_the_row_invalid() -> None:
    sites = pz.read_facilities(filing(["EPSG:-4326"]).assign(lon=SHANGHAI[0], lat=SHANGHAI[1]))
    assert sites.geometry.isna().all()
    problems = sites["problems"].iloc[0]
    assert problems.startswith("column 'crs': unknown coordinate system") and "-4326" in problems
    assert pz.verify(sites, as_of=AS_OF)["status"].tolist() == ["invalid"]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("EPSG:4978", "Geocentric CRS"),
        ("+proj=geocent +datum=WGS84 +units=m", "Geocentric CRS"),
        ("EPSG:5773", "Vertical CRS"),  # EGM96 height
        ("EPSG:4979", "Geographic 3D CRS"),
        ("EPSG:9518", "Compound CRS"),  # WGS 84 + EGM2008 height
        ('ENGCRS["site grid",EDATUM["x"],CS[Cartesian,2],AXIS["e",east,LENGTHUNIT["metre",1]],'
         'AXIS["n",north,LENGTHUNIT["metre",1]]]', "Engineering CRS"),
    ],
)  # fmt: skip
def test_systems_that_are_no_position_on_the_map_are_refused(value: str, kind: str) -> None:
    with pytest.raises(CRSError, match=f"it is a {kind}; pilotzone takes 2D"):
        pz.crs.normalize_crs(value)
    with pytest.raises(CRSError, match=kind):
        pz.to_wgs84([1.0], [2.0], crs=value)
    with pytest.raises(CRSError, match=kind):
        pz.locate([1.0], [2.0], crs=value)
    sites = pz.read_facilities(filing([value]))
    assert sites.geometry.isna().all()
    assert "unknown coordinate system" in sites["problems"].iloc[0]
    assert pz.verify(sites, as_of=AS_OF)["status"].tolist() == ["invalid"]


@pytest.mark.parametrize(
    "value",
    [
        "EPSG:4547",  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
        "EPSG:32651",
        "+proj=longlat +datum=WGS84",
        "+proj=longlat +ellps=krass +towgs84=15.8,-154.4,-82.3",  # a bound CRS (Beijing 1954)
        "EPSG:4214",  # Beijing 1954
    ],
)
def test_geographic_2d_and_projected_systems_are_still_accepted(value: str) -> None:
    x, y = pz.crs.from_wgs84([SHANGHAI[0]], [SHANGHAI[1]], crs=value)
    lon, lat = pz.to_wgs84(x, y, crs=value)
    assert np.allclose([lon[0], lat[0]], SHANGHAI, atol=1e-6)


def test_a_point_projected_off_the_globe_cannot_be_placed() -> None:
    crs, x, y = OFF_GLOBE
    lon, lat = pz.to_wgs84([x, 0.0], [y, 0.0], crs=crs)
    assert np.isinf(lon[0]) and np.isinf(lat[0])
    assert (lon[1], lat[1]) == (0.0, 0.0)
    found = pz.locate([x], [y], crs=crs)
    assert found["coordinate_issue"].tolist() == ["transform_failed"]
    assert found["zone_id"].isna().all()


@pytest.mark.parametrize(
    ("crs", "x", "y"),
    [
        OFF_GLOBE,
        ("EPSG:32650", 1e12, 1e12),
        ("+proj=ortho +lat_0=30 +lon_0=120 +datum=WGS84", 9e6, 0),
    ],
)
def test_a_point_that_cannot_be_transformed_is_invalid_not_a_violation(
    crs: str, x: float, y: float
) -> None:
    table = pd.DataFrame(
        {
            "operator_id": ["OP", "OP"],
            "kind": ["registration", "idc"],
            "lon": [SHANGHAI[0], x],
            "lat": [SHANGHAI[1], y],
            "crs": ["wgs84", crs],
        }
    )
    sites = pz.read_facilities(table)
    assert "cannot be converted" in sites["problems"].iloc[1]
    result = pz.verify(sites, as_of=AS_OF)
    assert result["status"].tolist() == ["compliant", "invalid"]


# --------------------------------------------------------------------------- the terminal

HOSTILE_IDS = {
    "erase": "OP\x1b[2K\x1b[1AEVIL",  # erase the line, cursor up
    "title": "T\x1b]0;pwned\x07",  # set the window title (OSC)
    "c1": "C1\x9b31mRED",  # CSI as a C1 control
    "bidi": "RLO\u202eDI",
    "controls": "BS\x08CR\rLS\u2028END",
}


def hostile_filing(path: Path) -> Path:
    """A GeoJSON filing (its text may hold any character) with hostile operator and facility
    ids, CJK and full-width ones, and an invalid row whose facility id is hostile."""
    rows: list[tuple[str, str, str, float | None]] = [
        ("中国电信", "机房一号", "registration", SHANGHAI[0]),
        ("ＷＩＤＥ全角", "F0", "registration", SHANGHAI[0]),
    ]
    rows += [(text, f"F-{name}", "idc", SHANGHAI[0]) for name, text in HOSTILE_IDS.items()]
    rows.append(("OP-X", "BAD\x1b[2J", "idc", None))
    features = [
        {
            "type": "Feature",
            "properties": {
                "operator_id": o,
                "facility_id": f,
                "kind": k,
                "lon": lon,
                "lat": SHANGHAI[1],
            },
            "geometry": None,
        }
        for o, f, k, lon in rows
    ]
    collection = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def assert_printable(text: str) -> None:
    shown = {c for c in text if c != "\n" and unicodedata.category(c) in UNPRINTABLE}
    assert not shown, sorted(shown)


def test_filing_text_reaches_the_terminal_printable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = hostile_filing(tmp_path / "filing\x1b[2K\u202e.geojson")
    status = main(["verify", str(path), "--as-of", AS_OF, "--crs", "wgs84"])
    out = capsys.readouterr().out
    assert status == 1
    assert_printable(out)
    # The summary names the file, escaped.
    assert "Checked filing\\x1b[2K\\u202e.geojson: 8 rows" in out
    # The operators table: every id escaped, CJK and full-width text whole, columns aligned.
    escaped = ["OP\\x1b[2K\\x1b[1AEVIL", "T\\x1b]0;pwned\\x07", "C1\\x9b31mRED", "RLO\\u202eDI"]
    assert all(text in out for text in escaped)
    assert "BS\\x08CR\\rLS\\u2028END" in out
    assert "中国电信" in out
    lines = out.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("operator ")))
    column = lines[header].index("registration zone")
    table = lines[header + 2 : header + 2 + 8]
    assert any("中国电信" in line for line in table)
    for line in table:  # the second column starts where its header does
        operator, rest = line.split("  ", 1)
        assert _terminal.width(operator) + 2 + len(rest) - len(rest.lstrip(" ")) == column, line
    # The rows that cannot be checked: the file named, escaped.
    assert "filing\\x1b[2K\\u202e.geojson, row 8: column 'lon': missing" in out


def test_error_messages_reach_the_terminal_printable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad\x1b[2K\u202e.csv"
    path.write_text("operator_id,kind\nOP,idc\n", encoding="utf-8")
    assert main(["verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert_printable(err)
    assert "bad\\x1b[2K\\u202e.csv" in err
    assert main(["locate", "1", "2", "--crs", "EPSG:4978\x1b[1A"]) == 2
    err = capsys.readouterr().err
    assert_printable(err)
    assert "EPSG:4978\\x1b[1A" in err


def test_printable_keeps_printable_text_and_escapes_the_rest() -> None:
    printable = "中国 ＡＢＣ\u3000é e\u0301 a-b"
    assert _terminal.printable(printable) == printable
    assert _terminal.printable("\x1b[2K\x07\x9b\u202e\u200b\ue000\n") == (
        "\\x1b[2K\\x07\\x9b\\u202e\\u200b\\ue000\\n"
    )


# --------------------------------------------------------------------------- warnings


BOW_TIE = [[121.4, 31.1], [121.6, 31.3], [121.6, 31.1], [121.4, 31.3], [121.4, 31.1]]


def test_warnings_are_one_line_notes_not_python_warnings(tmp_path: Path) -> None:
    feature = {
        "type": "Feature",
        "properties": {"zone_id": "shanghai", "accuracy_m": 10},
        "geometry": {"type": "Polygon", "coordinates": [BOW_TIE]},
    }
    path = tmp_path / "bow\x1b[2Ktie.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    env = {**os.environ, "PYTHONPATH": str(Path(pz.__file__).parents[1]), "PYTHONWARNINGS": ""}
    done = subprocess.run(
        [sys.executable, "-m", "pilotzone", "zones", "--boundaries", str(path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    notes = done.stderr.splitlines()
    assert notes == [
        "pilotzone: note: bow\\x1b[2Ktie.geojson, feature 1, zone_id 'shanghai': invalid polygon "
        "(Self-intersection[121.5 31.2]) repaired with shapely.make_valid, keeping its polygonal "
        "parts"
    ]
    assert "Warning" not in done.stderr and ".py:" not in done.stderr
