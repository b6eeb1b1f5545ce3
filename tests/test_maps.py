"""Tests for pilotzone.maps: explore() and save_map(), offline, on the rendered HTML.

The result tables are built by hand here (pilotzone.verify's output contract),
over three synthetic zones near Shanghai, where GCJ-02 shifts points by about
500 m. ``sample_result`` and ``synthetic_zones`` are shared with
test_maps_browser.py.
"""

from __future__ import annotations

import base64
import copy
import html
import importlib
import json
import math
import os
import re
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from pilotzone import maps
from pilotzone._map_drawing import Drawing, band_shape, json_for_html, shape_kind
from pilotzone._map_points import pack
from pilotzone._messages import MAP
from pilotzone.crs import from_wgs84, geometry_from_wgs84
from pilotzone.errors import CRSError, InputError, PilotzoneError
from pilotzone.maps import explore, save_map
from pilotzone.rules import describe

HOSTILE = "<img src=x onerror=alert(1)>"
# Closes folium's JS template literals, or is an invalid escape inside one.
TEMPLATE_BREAKER = "Gamma `${alert(2)}` \\u{zz} back"
HOSTILE_OPERATOR = "OP-C <script>alert(3)</script>"
# Text that save_map once rewrote or refused: the URL of each CDN asset folium uses that is
# saved from a local copy (rewritten into a data: URI wherever it stood), and the icon
# library's script name (refused as a folium.Icon marker).
LOCAL_ASSETS = [(name, url) for name, url in [*folium.Map.default_js, *folium.Map.default_css]
                if name in ("leaflet", "jquery", "leaflet_css")]  # fmt: skip
ASSET_TEXTS = [url for _, url in LOCAL_ASSETS] + [
    "L.AwesomeMarkers", "Rack 7 var i = L.AwesomeMarkers.icon({icon: 'cloud'});",
]  # fmt: skip
ASSET_IDS = [name for name, _ in LOCAL_ASSETS] + ["icon_name", "icon_call"]
STATUS_COLORS = {
    "violation": "#d62728",
    "review": "#ff7f0e",
    "invalid": "#7f7f7f",
    "compliant": "#2ca02c",
}
NA = pd.NA
NAN = math.nan
GEOD = pyproj.Geod(ellps="WGS84")

# operator, facility, name, kind, tenure, (lon, lat) WGS-84, zone, registration zone,
# border distance, near border, status, reasons
SAMPLE_ROWS: list[tuple[Any, ...]] = [
    ("OP-A", "A-REG", "Alpha HQ", "registration", "owned", (121.50, 31.20), "alpha", "alpha",
     NAN, False, "compliant", ""),
    ("OP-A", "A-IDC1", "Alpha IDC 1", "idc", "rented", (121.45, 31.15), "alpha", "alpha",
     NAN, False, "compliant", ""),
    ("OP-A", "A-CDN1", "Alpha CDN", "cdn", "purchased", (121.55, 31.25), "alpha", "alpha",
     NAN, False, "compliant", ""),
    ("OP-A", "A-IDC2", "Alpha IDC in Beta", "idc", "rented", (121.00, 31.47), "beta", "alpha",
     NAN, False, "violation", "facility_outside_registration_zone"),
    ("OP-A", "A-SRV", "Alpha edge server", "server", "rented", (121.6005, 31.20), NA, "alpha",
     47.6, True, "review", "near_border"),
    ("OP-B", "B-REG", "Beta HQ", "registration", "owned", (121.05, 31.50), "beta", "beta",
     NAN, False, "compliant", ""),
    ("OP-B", "B-IDC", "Beta IDC", "idc", "owned", (121.20, 31.50), "beta", "beta",
     NAN, False, "compliant", ""),
    ("OP-B", "B-CDN", "Beta CDN outside", "cdn", "rented", (121.20, 31.00), NA, "beta",
     NAN, False, "violation", "acceleration_outside_zone;facility_outside_registration_zone"),
    ("OP-B", "B-ISP", "Beta ISP", "isp", "rented", (120.95, 31.42), "beta", "beta",
     NAN, False, "invalid", "invalid_input"),
    ("OP-B", "B-LOST", "Beta lost", "server", "rented", None, NA, "beta",
     NAN, False, "invalid", "invalid_input"),
    (HOSTILE_OPERATOR, "C-REG1", "Gamma HQ", "registration", "owned", (121.78, 30.90), "gamma",
     NA, NAN, False, "review", "registration_ambiguous"),
    (HOSTILE_OPERATOR, "C-REG2", TEMPLATE_BREAKER, "registration", "owned", (121.42, 31.28),
     "alpha", NA, NAN, False, "review", "registration_ambiguous"),
    (HOSTILE_OPERATOR, "C-IDC", HOSTILE, "idc", "rented", (121.48, 31.12), "alpha", NA,
     NAN, False, "review", "registration_ambiguous"),
]  # fmt: skip
LOCATED = 12
STATUS_COUNTS = {"compliant": 5, "violation": 2, "review": 4, "invalid": 1}
ZONES = 3


def synthetic_zones() -> gpd.GeoDataFrame:
    """Three zones: a square, a two-part multipolygon, and a suspended zone."""
    box = shapely.box
    rows = [
        ("alpha", "Alpha pilot zone", "阿尔法试点区", "Alpha", "阿尔法", "active", True, 500.0,
         shapely.MultiPolygon([box(121.40, 31.10, 121.60, 31.30)])),
        ("beta", "Beta pilot zone", "贝塔试点区", "Beta", "贝塔", "active", True, 100.0,
         shapely.MultiPolygon([box(120.90, 31.40, 121.10, 31.55),
                               box(121.15, 31.45, 121.25, 31.55)])),
        ("gamma", "Gamma <b>zone</b>", "伽马试点区", "Gamma", "伽马", "suspended", False, 150.0,
         shapely.MultiPolygon([box(121.70, 30.85, 121.85, 30.95)])),
    ]  # fmt: skip
    columns = ["zone_id", "name_en", "name_zh", "short_name_en", "short_name_zh", "status",
               "active", "accuracy_m", "geometry"]  # fmt: skip
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry", crs=4326)


def sample_result() -> gpd.GeoDataFrame:
    """A filing as pilotzone.verify returns it: 13 rows, 12 located, three operators."""
    columns = [
        "operator_id", "facility_id", "name", "kind", "tenure", "lonlat", "zone_id",
        "registration_zone", "border_distance_m", "near_border", "status", "reasons",
    ]  # fmt: skip
    frame = pd.DataFrame(SAMPLE_ROWS, columns=columns)
    frame["address"] = "No. 1 Test Road, " + frame["facility_id"]
    frame["message"] = frame["reasons"].str.replace(";", ", ")
    geometry = [shapely.Point(xy) if xy else None for xy in frame.pop("lonlat")]
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


DATA = re.compile(
    r'<script type="application/json" id="(pilotzone_data_[0-9a-f]{32})">(.*?)</script>', re.S
)


def map_data(page: str) -> list[dict[str, Any]]:
    """The data of every pilotzone drawing in a page, parsed back from its JSON element."""
    return [json.loads(match.group(2)) for match in DATA.finditer(page)]


def without_data(page: str) -> str:
    """The page with its data elements emptied: what a browser would run or show as markup."""
    return DATA.sub("", page)


def drawing(m: folium.Map) -> dict[str, Any]:
    """The data of the one pilotzone drawing on ``m``."""
    (data,) = map_data(m.get_root().render())
    return data


def plain(line: list[Any]) -> str:
    """A popup or legend line as the browser shows its text."""
    return "".join(piece if isinstance(piece, str) else piece[0] for piece in line)


def items(data: dict[str, Any], kind: str) -> list[SimpleNamespace]:
    """The markers, lines or shapes of a drawing, with their kind and layer names resolved."""
    found = []
    for item in data["items"]:
        spec = data["kinds"][item[0]]
        if spec["type"] != kind:
            continue
        tooltip = item[4] if len(item) > 4 else None
        popup = item[5] if len(item) > 5 else []
        found.append(SimpleNamespace(
            options=spec["options"], tooltip_options=spec.get("tooltip"),
            overlay=data["overlays"][item[1]],
            switch=data["switches"][item[2]] if item[2] >= 0 else None,
            at=item[3], tooltip=tooltip, popup="\n".join(plain(line) for line in popup),
        ))  # fmt: skip
    return found


def unpack(table: dict[str, Any]) -> tuple[dict[str, NDArray[Any]], dict[str, list[Any]]]:
    """The columns and dictionaries of a table from pilotzone._map_points.pack, decoded here."""
    block = zlib.decompress(base64.b64decode(table["data"], validate=True))
    columns = {}
    for name, kind, offset in table["columns"]:  # byte-shuffled: byte 0 of each value, ...
        size = np.dtype(kind).itemsize
        planes = np.frombuffer(block, np.uint8, table["rows"] * size, offset)
        shuffled = planes.reshape(size, table["rows"]).T.copy()
        columns[name] = shuffled.reshape(-1).view(np.dtype(kind).newbyteorder("<"))
    start, length = table["words"]
    return columns, json.loads(block[start : start + length].decode("utf-8"))


def points(data: dict[str, Any]) -> pd.DataFrame:
    """The facilities of a drawing as its page's canvas layer gets them, one row each.

    Dictionary columns hold their values (the text shown), ``lat``/``lon`` are
    degrees, ``overlay`` and ``switch`` the names of the point's status and
    operator layers, ``color`` its fill.
    """
    spec = data.get("points")
    if spec is None:
        return pd.DataFrame()
    columns, words = unpack(spec["table"])
    frame = pd.DataFrame({
        name: [words[name][c] for c in codes] if name in words else codes
        for name, codes in columns.items()
    })  # fmt: skip
    frame["lat"], frame["lon"] = columns["lat"] / spec["scale"], columns["lon"] / spec["scale"]
    statuses = [spec["statuses"][s] for s in columns["status"]]
    frame["overlay"] = [data["overlays"][s[0]] for s in statuses]
    frame["color"] = [s[1] for s in statuses]
    switches = [spec["switches"][c] for c in columns["operator"]]
    frame["switch"] = [data["switches"][s] if s >= 0 else None for s in switches]
    return frame


def markers_by_facility(m: folium.Map) -> dict[str, SimpleNamespace]:
    """The facilities drawn on ``m`` by facility id, with ``at`` their [lat, lon]."""
    return {
        row["facility"]: SimpleNamespace(at=[row["lat"], row["lon"]], **row)
        for row in points(drawing(m)).to_dict("records")
    }


def legend_text(page: str) -> str:
    """The legend's text, as the page's script writes it (rows joined by newlines)."""
    (data,) = map_data(page)
    return "\n".join(plain(line) for _, line in data["legend"])


def strings(data: Any) -> set[str]:
    """Every string in parsed JSON data."""
    if isinstance(data, str):
        return {data}
    values = data.values() if isinstance(data, dict) else data if isinstance(data, list) else []
    return set().union(*(strings(v) for v in values))


def zone_labels(data: dict[str, Any]) -> list[str]:
    """The permanent labels of the zone outlines."""
    return [
        shape.tooltip
        for shape in items(data, "shape")
        if (shape.tooltip_options or {}).get("className") == "pilotzone-zone"
    ]


@pytest.fixture(scope="module")
def result() -> gpd.GeoDataFrame:
    return sample_result()


@pytest.fixture(scope="module")
def zones() -> gpd.GeoDataFrame:
    return synthetic_zones()


@pytest.fixture(scope="module")
def page(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> str:
    return explore(result, zones=zones).get_root().render()


def test_public_names() -> None:
    assert maps.__all__ == ["explore", "explore_changes", "explore_sites", "save_map"]
    assert issubclass(maps.OfflineError, PilotzoneError)
    assert issubclass(maps.OfflineError, RuntimeError)


def test_draws_zones_band_markers_and_lines(page: str) -> None:
    (data,) = map_data(page)
    assert zone_labels(data) == ["Alpha", "Beta", "Gamma (not active)"]
    # Every located facility is a point of the binary table, none an item of its own; the
    # page draws the lines from registrations (counted in test_maps_browser.py).
    assert len(points(data)) == LOCATED
    assert items(data, "marker") == items(data, "line") == []
    assert "Rows without a location (not drawn): 1" in legend_text(page)


@pytest.mark.parametrize(
    ("facility", "status"),
    [("A-REG", "compliant"), ("A-IDC2", "violation"), ("A-SRV", "review"), ("B-ISP", "invalid")],
)
def test_markers_coloured_by_status(result: gpd.GeoDataFrame, facility: str, status: str) -> None:
    marker = markers_by_facility(explore(result, zones=synthetic_zones()))[facility]
    assert marker.color == STATUS_COLORS[status]
    assert marker.overlay.startswith(MAP["en"][status] + " (")


def test_registrations_drawn_distinctly(result: gpd.GeoDataFrame) -> None:
    rows = markers_by_facility(explore(result, zones=synthetic_zones()))
    assert {f for f, row in rows.items() if row.registration} == {
        "A-REG", "B-REG", "C-REG1", "C-REG2"
    }  # fmt: skip


def test_layer_names(page: str) -> None:
    (data,) = map_data(page)
    assert data["overlays"] + data["switches"] == [
        "Review band (± boundary accuracy along each border)",
        "Pilot zones (display simplified; check used full boundary)",
        "Violation (2)",
        "Needs review (4)",
        "Invalid (1)",
        "Compliant (5)",
        "Operator OP-A (5)",
        "Operator OP-B (4)",
        f"Operator {HOSTILE_OPERATOR} (3)",
    ]
    assert "L.control.layers" not in page  # folium's control pastes names in as HTML


def test_popup_texts(result: gpd.GeoDataFrame) -> None:
    """What each facility's popup shows, as the table carries it (the page writes the lines)."""
    rows = markers_by_facility(explore(result, zones=synthetic_zones()))
    cdn = rows["B-CDN"]
    assert (cdn.name, cdn.operator, cdn.kind, cdn.tenure, cdn.zone, cdn.registration_zone,
            cdn.distance, cdn.row) == ("Beta CDN outside", "OP-B", "cdn", "rented", "-", "beta",
                                       "> review band", 7)  # fmt: skip
    assert cdn.reasons == [
        f"• {describe('acceleration_outside_zone')}",
        f"• {describe('facility_outside_registration_zone')}",
    ]
    assert cdn.message == "acceleration_outside_zone, facility_outside_registration_zone"
    assert rows["A-SRV"].distance == "48 m"
    assert rows["A-REG"].reasons == ["none"]
    assert (rows["C-IDC"].name, rows["C-IDC"].operator) == (HOSTILE, HOSTILE_OPERATOR)  # whole
    assert MAP["en"]["row"] == "Row" and data_words(result)["row"] == "Row"


def data_words(result: gpd.GeoDataFrame, lang: str = "en") -> dict[str, str]:
    """The popup's labels as the page gets them."""
    return dict(drawing(explore(result, zones=synthetic_zones(), lang=lang))["points"]["text"])


def test_chinese(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> None:
    m = explore(result, zones=zones, lang="zh")
    data = drawing(m)
    for expected in ("违规 (2)", "合规 (5)", "运营者 OP-A (5)"):
        assert expected in data["overlays"] + data["switches"]
    assert zone_labels(data) == ["阿尔法", "贝塔", "伽马 (未生效)"]
    rows = markers_by_facility(m)
    cdn = rows["B-CDN"]
    assert f"• {describe('acceleration_outside_zone', 'zh')}" in cdn.reasons
    assert cdn.distance == "> 复核带"
    # Codes from the filing in words, zone ids as zone names.
    shown = (cdn.kind, cdn.tenure, cdn.zone, cdn.registration_zone)
    assert shown == ("CDN节点", "租用", "-", "贝塔")
    registration = rows["A-REG"]
    assert (registration.kind, registration.tenure) == ("注册地址", "自有")
    assert (registration.zone, registration.registration_zone) == ("阿尔法", "阿尔法")
    assert data["points"]["text"]["row"] == "行号" and data["points"]["text"]["facility"] == "设施"


def test_changes_map_in_chinese_and_english(zones: gpd.GeoDataFrame) -> None:
    changes = pd.DataFrame({
        "change": ["new_finding", "facility_moved", "eligibility_changed"],
        "operator_id": ["OP-A", "OP-B", "OP-C"], "facility_id": ["A-1", "B-1", None],
        "name": ["<b>x</b>", "Beta IDC", None],
        "old_lon": [NAN, 121.05, NAN], "old_lat": [NAN, 31.50, NAN],
        "new_lon": [121.10, 121.20, NAN], "new_lat": [31.40, 31.50, NAN],
        "moved_m": [NAN, 14_250.0, NAN], "message": ["", "", ""],
        "description": ["新增问题：x", "位置移动 14,250 米", "试点资格：符合条件 → 不符合条件"],
    })  # fmt: skip
    page = maps.explore_changes(changes, zones=zones, lang="zh").get_root().render()
    legend = legend_text(page)
    for expected in ("pilotzone 核查比对", "新增问题 (1)", "无位置的变化（未绘制）: 1",
                     "位置变动的设施（连线：原位置 → 新位置） (1)"):  # fmt: skip
        assert expected in legend
    (data,) = map_data(page)
    assert data["overlays"][-2:] == ["新增问题 (1)", "位置变动的设施（连线：原位置 → 新位置） (1)"]
    markers = items(data, "marker")
    assert "位置移动 14,250 米" in markers[-1].popup and markers[-2].tooltip == "原位置 · B-1"
    assert markers[0].popup.startswith("<b>x</b>\n")  # filing text, shown as text
    assert "<b>x</b>" not in page
    english = legend_text(maps.explore_changes(changes, zones=zones).get_root().render())
    assert "New findings (1)" in english and "Changes without a location (not drawn): 1" in english
    with pytest.raises(InputError, match="moved_m"):
        maps.explore_changes(changes.drop(columns="moved_m"), zones=zones)


@pytest.mark.parametrize(
    "text",
    [HOSTILE, TEMPLATE_BREAKER, HOSTILE_OPERATOR, "</script><!--", "a & b \u2028 \u2029 {{ x }}"],
)
def test_json_data_cannot_end_its_script_element(text: str) -> None:
    encoded = json_for_html({"name": text})
    assert not set(encoded) & set("<>&\u2028\u2029")
    assert json.loads(encoded) == {"name": text}


@given(st.text(alphabet=st.sampled_from("<>&\u2028\u2029\\\"'a中/ \n")) | st.text())
def test_any_json_data_cannot_end_its_script_element(text: str) -> None:
    encoded = json_for_html({"name": text, text: [text]})
    assert not set(encoded) & set("<>&\u2028\u2029")
    assert json.loads(encoded) == {"name": text, text: [text]}


LOOKALIKES = st.sampled_from(
    ['"points":{"table":{', '"data":""', '"data":"', "</script>", "\u2028"]
)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(LOOKALIKES | st.text(), min_size=1, max_size=4), st.integers(0, 30))
def test_payload_is_the_data_as_json(texts: list[str], rows: int) -> None:
    """Differential: the page's JSON, the facilities' block put in after the rest, is
    json_for_html of the whole data, whatever text the layers and the table hold."""
    drawing = Drawing([])
    for text in texts:
        drawing.switch(text)
        drawing.shape(drawing.overlay(text), {"type": "Point", "coordinates": [0, 0]},
                      shape_kind({"color": "#000"}, {"sticky": True}), label=text)  # fmt: skip
    drawing.legend = [(None, [text]) for text in texts]
    codes = np.arange(rows) % len(texts)
    drawing.points = {"table": pack({}, {"name": (codes, texts)}), "text": {t: t for t in texts},
                      "statuses": [[0, "#000", texts[-1], False]]}  # fmt: skip
    assert drawing.payload() == json_for_html(drawing.data())
    drawing.points = None
    assert drawing.payload() == json_for_html(drawing.data())


def test_hostile_text_never_reaches_the_page_raw(page: str) -> None:
    markup = without_data(page)
    for raw in (HOSTILE, "${alert(2)}", "<script>alert(3)", "<b>zone</b>", "\\u{zz}", "OP-C"):
        assert raw not in markup and html.escape(raw) not in markup
    (data,) = map_data(page)
    texts = strings(data) | strings(unpack(data["points"]["table"])[1])
    for whole in (HOSTILE, TEMPLATE_BREAKER, "Gamma <b>zone</b>"):
        assert whole in texts
    assert f"Operator {HOSTILE_OPERATOR} (3)" in texts
    assert "<" not in DATA.search(page).group(2)  # type: ignore[union-attr]


def band_of(zones: gpd.GeoDataFrame, crs: str = "wgs84") -> Any:
    return shapely.geometry.shape(band_shape(zones, crs))


def moved(lon: float, lat: float, azimuth: float, metres: float) -> shapely.Point:
    """The point ``metres`` from lon/lat along ``azimuth`` (degrees from north), geodesically."""
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return shapely.Point(x, y)


@pytest.mark.parametrize(
    ("lon", "lat", "azimuths"),
    [(121.40, 31.20, (90, 270)), (121.60, 31.20, (90, 270)), (121.40, 31.10, (225,))],
)
def test_review_band_follows_accuracy(
    zones: gpd.GeoDataFrame, lon: float, lat: float, azimuths: tuple[int, ...]
) -> None:
    band = band_of(zones)  # alpha's accuracy is 500 m; the band is drawn to within 50 m
    for azimuth in azimuths:
        assert band.covers(moved(lon, lat, azimuth, 440))
        assert not band.covers(moved(lon, lat, azimuth, 560))
    assert not band.covers(shapely.Point(121.5, 31.2))  # the middle of the zone


def test_review_band_widens_along_approximate_stretches(zones: gpd.GeoDataFrame) -> None:
    line = shapely.LineString([(121.6, 31.1), (121.6, 31.3)])
    stretch = SimpleNamespace(name="east edge", accuracy_m=3000.0, geometry=line)  # a BorderPiece
    wide = zones.assign(approximate_borders=[(stretch,), (), ()])
    band = band_of(wide)
    assert band.covers(moved(121.6, 31.2, 90, 2500))
    assert not band.covers(moved(121.4, 31.2, 270, 2500))  # the west edge stays narrow


def test_review_band_of_a_coast_lies_at_sea(zones: gpd.GeoDataFrame) -> None:
    """Along a coast the band is the sea side only, as locate flags it; the rest keeps its ring."""
    line = shapely.LineString([(121.6, 31.1), (121.6, 31.3)])
    coast = SimpleNamespace(name="east coast", accuracy_m=2000.0, geometry=line, border="coast")
    band = band_of(zones.assign(approximate_borders=[(coast,), (), ()]))
    assert band.covers(moved(121.6, 31.2, 90, 1500))  # offshore
    assert not band.covers(moved(121.6, 31.2, 270, 1000))  # inland of the coast: no band
    assert band.covers(moved(121.4, 31.2, 90, 440))  # the west edge keeps its 500 m both sides
    assert band.covers(moved(121.4, 31.2, 270, 440))


def test_review_band_projects_a_zone_whole_only_for_its_coast(
    zones: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zone itself, in metres, only cuts a coast's strip to the sea side: a zone with
    land borders only is not projected and simplified for it (on the shipped Shanghai zone,
    0.09 s of the 1M-row map)."""
    line = shapely.LineString([(121.6, 31.1), (121.6, 31.3)])
    land = SimpleNamespace(name="east edge", accuracy_m=3000.0, geometry=line)
    coast = SimpleNamespace(name="east coast", accuracy_m=2000.0, geometry=line, border="coast")
    simplified: list[int] = []
    simplify = shapely.simplify

    def counted(*args: Any, **kwargs: Any) -> Any:
        simplified.append(1)
        return simplify(*args, **kwargs)

    monkeypatch.setattr(shapely, "simplify", counted)
    band_of(zones.assign(approximate_borders=[(land,), (), ()]))
    assert len(simplified) == 3  # each zone's band, once
    simplified.clear()
    band_of(zones.assign(approximate_borders=[(coast,), (), ()]))
    assert len(simplified) == 4  # and alpha, whose coast is cut by it


def test_zones_simplified_for_display_only() -> None:
    wiggly = shapely.Polygon(
        [(121.4 + 0.2 * i / 400, 31.1 + (0.0001 if i % 2 else 0)) for i in range(401)]
        + [(121.6, 31.3), (121.4, 31.3)]
    )
    zones = synthetic_zones()
    zones.loc[0, "geometry"] = shapely.MultiPolygon([wiggly])
    drawn = Drawing([])
    maps._draw_zones(drawn, zones, "wgs84", "en")
    (alpha, *_) = items(drawn.data(), "shape")
    shown = shapely.geometry.shape(alpha.at)
    assert shapely.get_num_coordinates(shown) < 20 < shapely.get_num_coordinates(wiggly)
    assert zones.geometry[0].equals(shapely.MultiPolygon([wiggly]))  # input untouched


def test_gcj02_basemap_shifts_every_overlay(
    result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame
) -> None:
    m = explore(result, zones=zones, basemap="gaode")
    page = m.get_root().render()
    assert "webrd0{s}.is.autonavi.com" in page
    rows = markers_by_facility(m)
    for facility_id, point in zip(result["facility_id"], result.geometry, strict=True):
        if point is None:
            continue
        lon, lat = from_wgs84([point.x], [point.y], "gcj02")
        row = rows[facility_id]
        assert row.at == [round(float(lat[0]), 6), round(float(lon[0]), 6)]
        shift_m = math.hypot((row.at[0] - point.y) * 111_320, (row.at[1] - point.x) * 95_000)
        assert 300 < shift_m < 700
    # Zones: the corner of alpha, converted.
    x, y = from_wgs84([121.40], [31.10], "gcj02")
    (alpha, *_) = items(drawing(m), "shape")[1:]
    corner = [round(float(x[0]), 6), round(float(y[0]), 6)]
    assert corner in [list(c) for c in shapely.geometry.shape(alpha.at).exterior.coords]
    # The band moves with them, vertex by vertex.
    shifted = geometry_from_wgs84(band_of(zones), "gcj02")
    assert shapely.hausdorff_distance(band_of(zones, "gcj02"), shifted) < 2e-6
    assert shapely.hausdorff_distance(band_of(zones, "gcj02"), band_of(zones)) > 0.003
    assert "GCJ-02" in legend_text(page)


def test_wgs84_basemaps_do_not_shift(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> None:
    for basemap in (
        "osm",
        {"name": "tianditu", "key": "0123abcd"},
        ("https://t.example/{z}/{x}/{y}.png", "Intranet"),
    ):
        m = explore(result, zones=zones, basemap=basemap)
        assert markers_by_facility(m)["A-REG"].at == [31.2, 121.5]
        assert "GCJ-02" not in legend_text(m.get_root().render())


def test_intranet_gcj02_tiles(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> None:
    spec = {"tiles": "https://gis.local/{z}/{x}/{y}.png", "attribution": "GIS", "crs": "gcj02"}
    row = markers_by_facility(explore(result, zones=zones, basemap=spec))["A-REG"]
    lon, lat = from_wgs84([121.5], [31.2], "gcj02")
    assert row.at == [round(float(lat[0]), 6), round(float(lon[0]), 6)]


def test_basemap_tile_urls(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> None:
    page = (
        explore(result, zones=zones, basemap={"name": "tianditu", "key": "abc123"})
        .get_root()
        .render()
    )
    assert "tianditu.gov.cn/vec_w/wmts" in page and "tianditu.gov.cn/cva_w/wmts" in page
    assert page.count("tk=abc123") == 2
    page = explore(result, zones=zones, basemap="osm").get_root().render()
    assert "tile.openstreetmap.org" in page


@pytest.mark.parametrize(
    ("basemap", "error", "match"),
    [
        ("https://tiles.example/{z}/{x}/{y}.png", ValueError, "attribution"),
        (("https://tiles.example/{z}/{x}/{y}.png", ""), ValueError, "attribution"),
        ("tianditu", ValueError, "key"),
        ({"name": "tianditu"}, ValueError, "key"),
        ({"name": "tianditu", "key": "a'b"}, ValueError, "key"),
        ({"tiles": "https://t/{z}/{x}/{y}", "attribution": "x", "crs": "bd09"}, ValueError, "crs"),
        ("google", ValueError, "unknown basemap"),
        (42, TypeError, "basemap"),
    ],
)
def test_bad_basemaps(
    result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, basemap: Any, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        explore(result, zones=zones, basemap=basemap)


def test_reuses_a_given_map(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> None:
    m = folium.Map(tiles=None, prefer_canvas=True)
    assert explore(result, zones=zones, m=m) is m
    assert explore(result.iloc[:3], zones=zones, m=m) is m
    page = m.get_root().render()
    first, second = map_data(page)
    assert "Compliant (5)" in first["overlays"] and "Compliant (3)" in second["overlays"]
    # Both drawn on this map, each from its own data; one layer control (kept on the map).
    calls = re.findall(
        r"pilotzone_draw\((map_[0-9a-f]{32}), \"(pilotzone_data_[0-9a-f]{32})\"\);", page
    )
    assert len(calls) == 2 and calls[0][0] == calls[1][0] == m.get_name()
    assert [c[1] for c in calls] == [match.group(1) for match in DATA.finditer(page)]
    assert not [c for c in m._children.values() if isinstance(c, folium.LayerControl)]


def test_reprojects_and_rejects_missing_crs(
    result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame
) -> None:
    mercator = explore(result.to_crs(3857), zones=zones.to_crs(3857))
    assert markers_by_facility(mercator)["A-REG"].at == pytest.approx([31.2, 121.5], abs=1e-6)
    with pytest.raises(CRSError, match=r"result has no CRS.*set_crs"):
        explore(result.set_crs(None, allow_override=True), zones=zones)
    with pytest.raises(CRSError, match="zones has no CRS"):
        explore(result, zones=zones.set_crs(None, allow_override=True))


def test_missing_columns_listed(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match=r"2 problems(.|\n)*'status'(.|\n)*'reasons'"):
        explore(result.drop(columns=["status", "reasons"]), zones=zones)


def test_nothing_located_fits_the_zones(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> None:
    lost = result.set_geometry([None] * len(result), crs=4326)
    m = explore(lost, zones=zones)
    assert points(drawing(m)).empty
    (fit,) = [c for c in m._children.values() if isinstance(c, folium.FitBounds)]
    assert np.allclose(fit.bounds, [[30.85, 120.9], [31.55, 121.85]])


def one_place(result: gpd.GeoDataFrame, rows: int) -> gpd.GeoDataFrame:
    """The first ``rows`` located facilities, all moved to one point (A-REG's)."""
    located = result[result.geometry.notna()].iloc[:rows]
    return located.set_geometry([shapely.Point(121.5, 31.2)] * rows, crs=4326)


@pytest.mark.parametrize("rows", [1, 5])
def test_one_point_gives_a_finite_box(
    result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, rows: int
) -> None:
    """A single facility, or all at one point: Leaflet would zoom to infinity on an empty box."""
    m = explore(one_place(result, rows), zones=zones)
    (fit,) = [c for c in m._children.values() if isinstance(c, folium.FitBounds)]
    (south, west), (north, east) = fit.bounds
    assert north - south == pytest.approx(0.01) and east - west == pytest.approx(0.01)
    assert (south + north) / 2 == pytest.approx(31.2) and (west + east) / 2 == pytest.approx(121.5)
    assert len(points(drawing(m))) == rows


def test_na_text_fields(result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> None:
    sparse = result.assign(kind=NA, reasons=NA, message=NA, name=None, tenure=NAN)
    markers = points(drawing(explore(sparse, zones=zones)))
    assert len(markers) == LOCATED and not markers["registration"].any()
    assert set(markers["name"]) == set(markers["message"]) == {""}
    assert set(markers["tenure"]) == {""} and all(r == ["none"] for r in markers["reasons"])


# --- offline ---------------------------------------------------------------------------------


def remote_assets(page: str) -> list[str]:
    found = re.findall(
        r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?([^\"' >]+)", page
    )
    return [url for url in found if re.match(r"(https?:)?//", url, re.IGNORECASE)]


def data_uris(page: str, mime: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(rf"data:{mime};base64,([A-Za-z0-9+/=]+)", page)]


@pytest.fixture
def saved(tmp_path: Path, result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> str:
    return save_map(explore(result, zones=zones), tmp_path / "map.html").read_text("utf-8")


def test_saved_map_is_self_contained(saved: str) -> None:
    assert remote_assets(saved) == []
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", saved, re.IGNORECASE)
    leaflet = Path(importlib.import_module("xstatic.pkg.leaflet").BASE_DIR)
    jquery = Path(importlib.import_module("xstatic.pkg.jquery").BASE_DIR)
    scripts = data_uris(saved, "text/javascript")
    assert (leaflet / "leaflet.js").read_bytes() in scripts
    assert (jquery / "jquery.min.js").read_bytes() in scripts
    (css,) = data_uris(saved, "text/css")
    assert b".leaflet-container" in css
    assert b"url(images/" not in css and b"url(data:image/png;base64," in css
    for dropped in ("bootstrap", "awesome-markers", "fontawesome", "glyphicons"):
        assert dropped not in saved


def test_explored_map_renders_offline_before_saving(page: str) -> None:
    assert remote_assets(page) == []  # e.g. shown in an air-gapped notebook


def test_save_inlines_a_cdn_map(
    tmp_path: Path, result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame
) -> None:
    m = explore(result, zones=zones, offline=False)
    assert "https://cdn.jsdelivr.net/npm/leaflet@" in m.get_root().render()
    saved = save_map(m, tmp_path / "map.html").read_text("utf-8")
    assert remote_assets(saved) == []
    assert len(data_uris(saved, "text/javascript")) == 2
    plain = save_map(folium.Map(tiles=None), tmp_path / "plain.html").read_text("utf-8")
    assert remote_assets(plain) == []


def test_save_online_keeps_cdn_links(tmp_path: Path) -> None:
    saved = save_map(folium.Map(tiles=None), tmp_path / "map.html", offline=False).read_text(
        "utf-8"
    )
    assert "https://cdn.jsdelivr.net/npm/leaflet@" in saved


def add_icon_marker(m: folium.Map) -> None:
    folium.Marker([31.2, 121.5], icon=folium.Icon(color="red")).add_to(m)


def add_geojson_icon_points(m: folium.Map) -> None:
    point = {"type": "Point", "coordinates": [121.5, 31.2]}
    marker = folium.Marker(icon=folium.Icon(color="red"))  # draws the layer's points
    folium.GeoJson(point, marker=marker).add_to(m)


def add_fullscreen_button(m: folium.Map) -> None:
    folium.plugins.Fullscreen().add_to(m)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("add", "match"),
    [(add_icon_marker, "Icon"), (add_geojson_icon_points, "Icon"),
     (add_fullscreen_button, "fullscreen")],
)  # fmt: skip
def test_save_refuses_remote_assets(tmp_path: Path, add: Any, match: str) -> None:
    m = explore(sample_result(), zones=synthetic_zones())
    add(m)
    with pytest.raises(maps.OfflineError, match=rf"would not work offline.*{match}"):
        save_map(m, tmp_path / "map.html")
    assert list(tmp_path.iterdir()) == []
    save_map(m, tmp_path / "online.html", offline=False)


@pytest.mark.parametrize("text", ASSET_TEXTS, ids=ASSET_IDS)
def test_save_keeps_text_shaped_like_an_asset(tmp_path: Path, text: str) -> None:
    """A name, an operator id and zone names equal to an asset URL, or naming the icon library,
    are data: the saved page holds them exactly, fetches nothing and is not refused."""
    result, zones = sample_result(), synthetic_zones()
    result.loc[result["facility_id"] == "B-IDC", "name"] = text
    result.loc[result["operator_id"] == "OP-B", "operator_id"] = text
    zones.loc[zones["zone_id"] == "beta", ["name_en", "short_name_en"]] = text
    saved = save_map(explore(result, zones=zones), tmp_path / "map.html").read_text("utf-8")
    assert remote_assets(saved) == []
    (data,) = map_data(saved)
    (marker,) = [m for m in points(data).itertuples() if m.name == text]
    assert (marker.operator, marker.facility) == (text, "B-IDC")
    assert marker.switch == f"Operator {text} (4)"
    (zone,) = [s for s in items(data, "shape") if s.tooltip == text]
    assert zone.popup == f"{text}\n{text}"
    assert f"{text} ±100 m" in legend_text(saved).split("\n")


def test_tiles_are_not_page_assets(
    tmp_path: Path, result: gpd.GeoDataFrame, zones: gpd.GeoDataFrame
) -> None:
    saved = save_map(explore(result, zones=zones, basemap="gaode"), tmp_path / "m.html").read_text(
        "utf-8"
    )
    assert remote_assets(saved) == [] and "autonavi.com" in saved


def test_folium_class_defaults_untouched(tmp_path: Path) -> None:
    before = (copy.deepcopy(folium.Map.default_js), copy.deepcopy(folium.Map.default_css))
    save_map(explore(sample_result(), zones=synthetic_zones()), tmp_path / "a.html")
    save_map(folium.Map(tiles=None, prefer_canvas=True), tmp_path / "b.html")
    assert (folium.Map.default_js, folium.Map.default_css) == before
    assert "https://cdn.jsdelivr.net/npm/leaflet@" in folium.Map(tiles=None).get_root().render()


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = explore(sample_result(), zones=synthetic_zones())
    target = tmp_path / "map.html"
    target.write_text("old map")
    assert save_map(m, str(target)) == target
    assert target.read_text("utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]
    reference = tmp_path / "reference"
    reference.write_text("")
    assert target.stat().st_mode == reference.stat().st_mode  # not mkstemp's private 0600
    reference.unlink()

    def broken(source: Any, destination: Any) -> None:
        raise OSError("disk full")

    target.write_text("old map")
    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        save_map(m, target)
    assert target.read_text() == "old map"
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


# --- scale -----------------------------------------------------------------------------------


def test_ten_thousand_facilities(
    zones: gpd.GeoDataFrame, record_property: Any, caplog: pytest.LogCaptureFixture
) -> None:
    n = 10_000
    rng = np.random.default_rng(0)
    status = rng.choice(list(STATUS_COLORS), n, p=[0.1, 0.15, 0.05, 0.7])
    frame = pd.DataFrame({
        "operator_id": [f"OP{i:04d}" for i in rng.integers(0, 300, n)],
        "facility_id": [f"F{i:05d}" for i in range(n)],
        "name": [f"Facility {i}" for i in range(n)],
        "address": [f"{i} Century Avenue, Pudong New Area, Shanghai" for i in range(n)],
        "kind": np.where(rng.random(n) < 0.05, "registration", "idc"),
        "tenure": "rented", "zone_id": "alpha", "registration_zone": "alpha",
        "border_distance_m": np.where(status == "review", 120.0, np.nan),
        "near_border": status == "review", "status": status,
        "reasons": np.where(status == "violation", "facility_outside_registration_zone", ""),
        "message": "",
    })  # fmt: skip
    at = gpd.points_from_xy(rng.uniform(121.4, 121.6, n), rng.uniform(31.1, 31.3, n))
    with caplog.at_level("INFO", logger="pilotzone.maps"):
        m = explore(gpd.GeoDataFrame(frame, geometry=at, crs=4326), zones=zones)
    page = m.get_root().render()
    (data,) = map_data(page)
    assert len(points(data)) == n
    per_facility = len(page.encode()) / n
    record_property("html_bytes_per_facility", round(per_facility))
    assert per_facility < 2048
    assert len(data["switches"]) == maps.MAX_OPERATOR_LAYERS
    assert "100 operators have no layer of their own" in caplog.text
    assert "Operators without a layer of their own (layer limit): 100" in legend_text(page)


# --- real zones ------------------------------------------------------------------------------


def test_with_the_shipped_zones(result: gpd.GeoDataFrame) -> None:
    zones_module = pytest.importorskip("pilotzone.zones", reason="pilotzone.zones not written yet")
    zones = zones_module.load_zones()
    page = explore(result).get_root().render()  # zones=None loads the shipped zones
    assert zone_labels(map_data(page)[0]) == zones["short_name_en"].tolist()
    assert remote_assets(page) == []


def test_legend_records_the_readings_of_contested_components(result: gpd.GeoDataFrame) -> None:
    from pilotzone.zones import load_zones

    zones = load_zones(as_of="2025-01-01", readings={"shanghai/lingang-outside-pudong": "exclude"})
    legend = legend_text(explore(result, zones=zones).get_root().render())
    assert "shanghai/lingang-outside-pudong=exclude" in legend
    assert "beijing/daxing-airport=review" in legend


def test_legend_counts_every_row_as_the_terminal_does(result: gpd.GeoDataFrame, page: str) -> None:
    """A row without a location still counts under its status (the demo's 2 invalid rows read
    "Invalid (0)" before); the line of rows not drawn says how many of them are not on the map."""
    from pilotzone._messages import MAP

    legend = legend_text(page)
    for status, n in result["status"].astype(str).value_counts().items():
        assert f"{MAP['en'][status]} ({n})" in legend
    unlocated = int(result.geometry.isna().sum() + result.geometry.is_empty.sum())
    assert unlocated and f"Rows without a location (not drawn): {unlocated}" in legend


def test_legend_gives_the_coast_band_of_each_zone(result: gpd.GeoDataFrame) -> None:
    from pilotzone.zones import load_zones

    legend = legend_text(explore(result, zones=load_zones(as_of="2025-01-01")).get_root().render())
    assert "Hainan ±3000 m; coasts, at sea only, up to ±3000 m" in legend
    assert "Shenzhen ±200 m; coasts, at sea only, up to ±1100 m" in legend


def zones_with_components(name: str = HOSTILE) -> gpd.GeoDataFrame:
    """The synthetic zones with named components: in alpha one contested and read ``review``
    (named ``name``), in beta one settled and included (not drawn) and one read ``exclude``."""
    from pilotzone._zone_record import Component

    def part(cid: str, label: str, standing: str, reading: str, shape: Any) -> Component:
        offered = ("include", "exclude", "review") if standing == "contested" else (reading,)
        return Component(cid, label, standing, offered, "review", reading, shape)

    box = shapely.box
    zones = synthetic_zones()
    zones["components"] = [
        (part("alpha/rest", "Alpha", "settled", "include", None),
         part("alpha/airport", name, "contested", "review",
              shapely.MultiPolygon([box(121.50, 31.10, 121.60, 31.15)]))),
        (part("beta/rest", "Beta", "settled", "include", None),
         part("beta/island", "Beta island", "settled", "include",
              shapely.MultiPolygon([box(121.15, 31.45, 121.25, 31.55)])),
         part("beta/far", "Beta far reach", "contested", "exclude",
              shapely.MultiPolygon([box(121.25, 31.45, 121.35, 31.55)]))),
        (part("gamma/rest", "Gamma", "settled", "include", None),),
    ]  # fmt: skip
    zones.attrs["readings"] = {"alpha/airport": "review", "beta/far": "exclude"}
    return zones


def test_contested_and_excluded_components_are_drawn_with_their_readings(
    result: gpd.GeoDataFrame,
) -> None:
    data = drawing(explore(result, zones=zones_with_components("Alpha airport")))
    drawn = {s.tooltip: s for s in items(data, "shape") if s.overlay == MAP["en"]["components"]}
    assert set(drawn) == {
        "alpha/airport: Alpha airport (Read as review)",
        "beta/far: Beta far reach (Read as exclude)",
    }
    review = drawn["alpha/airport: Alpha airport (Read as review)"]
    assert review.popup.splitlines() == [
        "alpha/airport", "Alpha airport", "Standing: contested", "Read as: review",
        "Readings offered: include, exclude, review", "Default: review",
    ]  # fmt: skip
    assert review.options["dashArray"] and review.options["fillOpacity"] > 0
    excluded = drawn["beta/far: Beta far reach (Read as exclude)"]
    assert excluded.options["fillOpacity"] == 0 and excluded.popup.splitlines()[3:5] == [
        "Read as: exclude", "Readings offered: include, exclude, review",
    ]  # fmt: skip
    outline = shapely.geometry.shape(excluded.at)
    assert outline.equals(shapely.box(121.25, 31.45, 121.35, 31.55))
    assert MAP["en"]["components"] in data["overlays"]
    legend = "\n".join(plain(line) for _, line in data["legend"])
    assert MAP["en"]["component_review"] in legend and MAP["en"]["component_exclude"] in legend
    assert MAP["en"]["component_include"] not in legend


def test_components_in_chinese(result: gpd.GeoDataFrame) -> None:
    data = drawing(explore(result, zones=zones_with_components("大兴机场"), lang="zh"))
    (review,) = [s for s in items(data, "shape") if s.tooltip and s.tooltip.startswith("alpha/")]
    assert (
        "法律地位: 有争议" in review.popup and "可选解读: include, exclude, review" in review.popup
    )
    assert MAP["zh"]["components"] in data["overlays"]


def test_zones_without_contested_components_draw_no_component_layer(page: str) -> None:
    (data,) = map_data(page)
    assert MAP["en"]["components"] not in data["overlays"]


def test_hostile_component_names_stay_data(result: gpd.GeoDataFrame) -> None:
    page = explore(result, zones=zones_with_components(HOSTILE)).get_root().render()
    markup = without_data(page)
    assert HOSTILE not in markup and html.escape(HOSTILE) not in markup
    (data,) = map_data(page)
    assert HOSTILE in strings(data) and "<" not in DATA.search(page).group(2)  # type: ignore[union-attr]


def test_facility_popups_name_their_component(result: gpd.GeoDataFrame) -> None:
    with_component = result.copy()
    with_component["component"] = pd.Categorical(
        ["alpha/rest"] * 4 + [None] * (len(result) - 5) + ["alpha/airport"],
        categories=["alpha/rest", "alpha/airport"],
    )
    data = drawing(explore(with_component, zones=synthetic_zones()))
    assert data["points"]["text"]["component"] == MAP["en"]["component"]
    shown = points(data).set_index("facility")["component"]
    assert shown["A-REG"] == "alpha/rest" and shown["C-IDC"] == "alpha/airport"
    assert shown["B-IDC"] == "-"
    assert "component" not in points(drawing(explore(result, zones=synthetic_zones())))


def test_shipped_components_drawn_under_each_reading(result: gpd.GeoDataFrame) -> None:
    """With the shipped zones: Daxing airport and Lingang outside Pudong (contested) and Sansha
    (read exclude) have outlines and are drawn; the settled, included Xiaoyangshan is not."""
    from pilotzone.zones import load_zones

    for reading in ("include", "exclude", "review"):
        zones = load_zones(
            as_of="2025-01-01", readings={"shanghai/lingang-outside-pudong": reading}
        )
        data = drawing(explore(result, zones=zones))
        drawn = {
            s.popup.splitlines()[0]: s.popup.splitlines()
            for s in items(data, "shape")
            if s.overlay == MAP["en"]["components"]
        }
        assert set(drawn) == {
            "beijing/daxing-airport", "shanghai/lingang-outside-pudong", "hainan/sansha",
        }  # fmt: skip
        assert drawn["shanghai/lingang-outside-pudong"][3] == f"Read as: {reading}"
        assert drawn["hainan/sansha"][3] == "Read as: exclude"
