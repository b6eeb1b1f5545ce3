"""The map's binary table of facilities: the encoder, what a map carries, and its size.

The table is decoded here independently of the page (zlib, base64 and numpy,
in test_maps.unpack) and compared with what was put in: the encoder's round
trip with hypothesis, and a map's facilities against the result GeoDataFrame
they were drawn from. The page's own decoder is exercised in
test_maps_browser.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_maps import STATUS_COLORS, drawing, points, synthetic_zones, unpack

from pilotzone._map_drawing import Drawing, as_text, as_texts
from pilotzone._map_facilities import as_strings, draw_facilities
from pilotzone._map_points import SCALE, coded, degrees, distinct, pack
from pilotzone._messages import MAP
from pilotzone.maps import explore, save_map

TYPES = ("int8", "uint8", "int16", "uint16", "int32", "uint32")
GEOD = pyproj.Geod(ellps="WGS84")
#: Half a millionth of a degree each way (latitude and longitude), in metres: 5.6 cm along a
#: meridian, at most as much along a parallel, under 8 cm together.
PRECISION_M = 0.08


@st.composite
def tables(draw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Integer columns of every allowed type and dictionary columns of any text or JSON value."""
    n = draw(st.integers(0, 40))
    numbers = {}
    for k, kind in enumerate(draw(st.lists(st.sampled_from(TYPES), max_size=4))):
        info = np.iinfo(kind)
        values = draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=n, max_size=n))
        numbers[f"n{k}"] = np.array(values, dtype=kind)
    dictionaries = {}
    value = st.one_of(st.text(), st.lists(st.text(), max_size=3), st.integers(-(2**40), 2**40))
    for k in range(draw(st.integers(0, 3))):
        words = draw(st.lists(value, min_size=1, max_size=300))
        codes = draw(st.lists(st.integers(0, len(words) - 1), min_size=n, max_size=n))
        dictionaries[f"d{k}"] = (np.array(codes, dtype=np.int64), words)
    return numbers, dictionaries


@settings(max_examples=150, deadline=None, derandomize=True)
@given(tables())
def test_pack_round_trip(table: tuple[dict[str, Any], dict[str, Any]]) -> None:
    numbers, dictionaries = table
    packed = pack(numbers, dictionaries)
    columns, words = unpack(packed)
    assert set(columns) == set(numbers) | set(dictionaries)
    for name, values in numbers.items():
        assert columns[name].dtype == values.dtype
        np.testing.assert_array_equal(columns[name], values)
    for name, (codes, values) in dictionaries.items():
        assert words[name] == values
        assert columns[name].dtype.kind == "u"
        assert columns[name].dtype.itemsize == (1 if len(values) <= 256 else 2)
        np.testing.assert_array_equal(columns[name], codes)


@pytest.mark.parametrize(
    ("numbers", "dictionaries", "match"),
    [
        ({"a": np.zeros(2, np.int32), "b": np.zeros(3, np.int32)}, {}, "differ in length"),
        ({"a": np.zeros(2, np.int64)}, {}, "int64, not one of"),
        ({"a": np.zeros(2, np.float32)}, {}, "float32, not one of"),
        ({}, {"d": (np.array([0, 2]), ["x", "y"])}, "outside its dictionary"),
        ({}, {"d": (np.array([-1]), ["x"])}, "outside its dictionary"),
        ({"d": np.zeros(1, np.uint8)}, {"d": (np.array([0]), ["x"])}, "given twice"),
    ],
)
def test_pack_refuses(numbers: dict[str, Any], dictionaries: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pack(numbers, dictionaries)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.floats(-180, 180), min_size=1, max_size=50))
def test_degrees_within_half_a_millionth(values: list[float]) -> None:
    stored = degrees(np.array(values))
    assert stored.dtype == np.int32
    assert np.abs(stored / SCALE - np.array(values)).max() <= 0.5 / SCALE + 1e-12


def test_coded_keeps_one_missing_value() -> None:
    codes, values = coded(
        ["a", None, np.nan, pd.NA, "a", "b"], lambda v: v if isinstance(v, str) else ""
    )
    assert values[codes[0]] == values[codes[4]] == "a" and values[codes[5]] == "b"
    assert {values[c] for c in codes[1:4]} == {""}


def generated_result(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """A verification result of ``n`` rows near Shanghai, every status, CSV line numbers."""
    rng = np.random.default_rng(seed)
    status = rng.choice(list(STATUS_COLORS), n, p=[0.1, 0.15, 0.05, 0.7])
    frame = pd.DataFrame({
        "operator_id": [f"OP{i:03d}" for i in rng.integers(0, 40, n)],
        "facility_id": [f"F{i:06d}" for i in range(n)],
        "name": [f"Facility {i}" for i in range(n)],
        "address": [f"{i} Century Avenue, Pudong New Area, Shanghai" for i in range(n)],
        "kind": np.where(rng.random(n) < 0.02, "registration", "idc"),
        "tenure": "rented", "zone_id": "alpha", "registration_zone": "alpha",
        "border_distance_m": np.where(status == "review", rng.uniform(0, 500, n).round(1), np.nan),
        "near_border": status == "review", "status": status,
        "reasons": np.where(status == "violation", "facility_outside_registration_zone", ""),
        "message": "", "source_row": np.arange(n) + 2,
    })  # fmt: skip
    at = gpd.points_from_xy(rng.uniform(121.4, 121.6, n), rng.uniform(31.1, 31.3, n))
    return gpd.GeoDataFrame(frame, geometry=at, crs=4326)


def test_the_table_is_the_result() -> None:
    """Differential: every located row of the result is one point, at its place, with its codes."""
    result = generated_result(2000)
    result.loc[[5, 17], "geometry"] = None  # not located: counted in the legend, not drawn
    table = points(drawing(explore(result, zones=synthetic_zones())))
    drawn = table.set_index("row")
    located = result[result.geometry.notna()].set_index("source_row")
    assert sorted(drawn.index) == sorted(located.index)
    drawn = drawn.loc[located.index]
    _, _, metres = GEOD.inv(
        located.geometry.x.to_numpy(), located.geometry.y.to_numpy(),
        drawn["lon"].to_numpy(), drawn["lat"].to_numpy(),
    )  # fmt: skip
    assert metres.max() <= PRECISION_M
    words = {"compliant": "Compliant", "violation": "Violation", "review": "Needs review",
             "invalid": "Invalid"}  # fmt: skip
    assert (drawn["overlay"].str.split(" [(]").str[0] == located["status"].map(words)).all()
    assert (drawn["color"] == located["status"].map(STATUS_COLORS)).all()
    assert (drawn["operator"] == located["operator_id"]).all()
    assert (drawn["facility"] == located["facility_id"]).all()
    assert (drawn["name"] == located["name"]).all()
    assert (drawn["registration"].astype(bool) == located["kind"].eq("registration")).all()
    review = located["status"] == "review"
    expected = located.loc[review, "border_distance_m"].map(lambda d: f"{d:,.0f} m")
    assert (drawn.loc[review, "distance"] == expected).all()
    # Drawn in order: compliant first, violations last (on top).
    rank = {
        STATUS_COLORS[s]: k for k, s in enumerate(("compliant", "invalid", "review", "violation"))
    }
    assert table["color"].map(rank).is_monotonic_increasing


def test_twenty_thousand_facilities_fit_the_budget(tmp_path: Path, record_property: Any) -> None:
    """The saved offline map, Leaflet and zones included, at most 40 bytes per facility."""
    n = 20_000
    path = save_map(explore(generated_result(n), zones=synthetic_zones()), tmp_path / "m.html")
    per_facility = path.stat().st_size / n
    record_property("map_bytes_per_facility", round(per_facility, 1))
    assert per_facility <= 40


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_whole_metres_format_as_the_distance_itself(metres: float) -> None:
    """The map formats border distances after rounding them to whole metres (far fewer
    distinct values): the text is the one the unrounded distance gives."""
    assert f"{float(np.rint(metres)):,.0f} m" == f"{metres:,.0f} m"


# The facilities' columns are turned to text once per distinct value, or all at once for a
# string column (a million distinct ids would otherwise be a million Python calls); these
# agree with the per-value conversion they replace.
TEXT_VALUES = st.one_of(
    st.none(), st.just(np.nan), st.text(max_size=4), st.sampled_from(["a", "", "1", "nan"])
)
MIXED_VALUES = st.one_of(
    TEXT_VALUES, st.integers(-3, 3), st.booleans(), st.floats(-2, 2), st.just(1.0)
)
TEXT_DTYPES = ("str", "string[pyarrow]", "string[python]", "object", "category")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(TEXT_VALUES, max_size=30), st.sampled_from(TEXT_DTYPES))
def test_as_texts_is_as_text_of_each_value(values: list[Any], dtype: str) -> None:
    codes, uniques = distinct(pd.Series(values, dtype=dtype))
    texts = as_texts(uniques)
    listed = texts.to_pylist() if isinstance(texts, pa.Array) else texts
    assert listed == [as_text(value) for value in uniques.tolist()]
    assert codes.tolist() == coded(pd.Series(values, dtype=dtype), as_text)[0].tolist()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(MIXED_VALUES, max_size=30), st.sampled_from(("object", "category", "str")))
def test_as_strings_is_astype_str(values: list[Any], dtype: str) -> None:
    """Differential: the distinct texts taken by code are ``astype(str)`` row by row."""
    if dtype == "str":
        values = [v if v is None or isinstance(v, str) else str(v) for v in values]
    series = pd.Series(values, dtype=dtype)
    codes, texts = as_strings(series)
    expected = series.astype(str).tolist()
    got = [texts[c] for c in codes]
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        assert mine == theirs or (pd.isna(mine) and pd.isna(theirs))
    assert pd.Index(texts, dtype=object).is_unique  # one code per text
    first = list(dict.fromkeys(codes.tolist()))
    assert first == list(range(len(texts)))  # in the order they first appear


ESCAPED_TEXT = st.text(alphabet=st.sampled_from('a中"\\\x00\x1f\n\t\u2028\x7f /<')) | st.text()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(st.none() | ESCAPED_TEXT, max_size=12),
    st.sampled_from([pa.string(), pa.large_string()]),
)
def test_arrow_dictionaries_pack_as_lists_do(values: list[str | None], kind: pa.DataType) -> None:
    """Differential: a dictionary given as an Arrow string array (joined by Arrow where no
    value needs escaping) packs to the bytes of the same values given as a list (json)."""
    codes = np.arange(len(values)) % max(len(values), 1)
    codes = codes[: len(values)]
    numbers = {"n": np.arange(len(values), dtype=np.int32)}
    arrow = pack(numbers, {"d": (codes, pa.array(values, type=kind)), "e": (codes, values)})
    assert arrow == pack(numbers, {"d": (codes, values), "e": (codes, values)})


def test_no_python_call_per_facility(monkeypatch: pytest.MonkeyPatch) -> None:
    """The facilities are drawn with Python calls per distinct value, not per row: three
    times the rows (every id, name and address distinct) make no more calls."""
    calls: list[int] = []

    def count(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            calls[-1] += 1

    def drawn(n: int) -> int:
        result = generated_result(n)
        result["border_distance_m"] = result["border_distance_m"].round(-2)  # a few values
        zones = synthetic_zones()
        calls.append(0)
        sys.setprofile(count)
        try:
            draw_facilities(
                Drawing([]), result, np.ones(n, dtype=bool), result.geometry.y.to_numpy(),
                result.geometry.x.to_numpy(), MAP["en"], "en", {},
            )  # fmt: skip
        finally:
            sys.setprofile(None)
        assert len(zones)
        return calls[-1]

    drawn(500)  # imports and caches
    small, large = drawn(1000), drawn(3000)
    assert large - small < 200, (small, large)


@pytest.mark.parametrize("dtype", ["category", "string[pyarrow]", "string[python]", "object"])
def test_the_table_is_the_same_whatever_the_column_types(dtype: str) -> None:
    """The text columns (and status, kind) drawn from categories, Arrow or Python strings or
    objects give the table of ``str`` columns: the fast paths per type agree."""
    result = generated_result(300, seed=3)
    text = ["operator_id", "facility_id", "name", "address", "kind", "zone_id", "status",
            "reasons", "message"]  # fmt: skip
    result["name"] = result["name"].where(result.index % 7 != 0, None)
    result["address"] = result["address"].where(result.index % 5 != 0, "")
    result["zone_id"] = result["zone_id"].where(result.index % 3 != 0, None)
    result["border_distance_m"] = result["border_distance_m"].astype(object)
    expected = points(drawing(explore(result, zones=synthetic_zones())))
    typed = result.astype(dict.fromkeys(text, dtype))
    assert points(drawing(explore(typed, zones=synthetic_zones()))).equals(expected)
