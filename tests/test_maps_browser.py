"""A saved map in a real browser with the network cut off: Debian's chromium via Playwright.

Every request that is not ``file:``, ``data:`` or ``about:`` is aborted and
counted. The map is the sample filing of test_maps.py (12 located facilities,
three synthetic zones). A screenshot is left in tests/artifacts/map.png for
people to look at.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from test_maps import (
    HOSTILE,
    HOSTILE_OPERATOR,
    LOCATED,
    STATUS_COUNTS,
    TEMPLATE_BREAKER,
    ZONES,
    sample_result,
    synthetic_zones,
    zones_with_components,
)
from test_template_injection import PAYLOADS

from pilotzone.maps import explore, save_map
from pilotzone.rules import describe

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"

# What the map holds, counted through Leaflet's own objects and the facilities' canvas layers
# (everything is drawn on canvas, so there are no SVG paths to count).
COUNT = """() => {
    const map = window[Object.keys(window).find((k) => k.startsWith("map_"))];
    const n = {markers: 0, lines: 0, zones: 0, band: 0};
    map.eachLayer((l) => {
        if (l instanceof L.CircleMarker) n.markers++;
        else if (l instanceof L.Polygon) l.options.interactive === false ? n.band++ : n.zones++;
        else if (l instanceof L.Polyline) n.lines++;
    });
    (map.pilotzonePoints || []).forEach((layer) => {
        const shown = layer.count();
        n.markers += shown.points;
        n.lines += shown.lines;
    });
    return n;
}"""
# Resolves once every pilotzone drawing has drawn its facilities.
DRAWN = """async () => {
    const map = window[Object.keys(window).find((k) => k.startsWith("map_"))];
    await Promise.all(map.pilotzoneLoaded || []);
}"""
# The on-screen position of the marker at a WGS-84 lon/lat, after zooming to it.
ZOOM_TO = """([lat, lon]) => {
    const map = window[Object.keys(window).find((k) => k.startsWith("map_"))];
    map.setView([lat, lon], 15, {animate: false});
    const p = map.latLngToContainerPoint([lat, lon]);
    const box = map.getContainer().getBoundingClientRect();
    return [box.left + p.x, box.top + p.y];
}"""


@pytest.fixture(scope="module")
def saved_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    m = explore(sample_result(), zones=synthetic_zones())
    return save_map(m, tmp_path_factory.mktemp("map") / "map.html")


class Page:
    """A browser page on the saved map that records errors, dialogs and network attempts."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.aborted: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 860})
        self.page.set_default_timeout(5000)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())
        self.page.wait_for_selector(".leaflet-container")
        self.page.evaluate(DRAWN)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"console {message.type}: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(("file:", "data:", "about:")):
            route.continue_()
        else:
            self.aborted.append(route.request.url)
            route.abort()

    def count(self) -> dict[str, int]:
        return dict(self.page.evaluate(COUNT))

    def toggle(self, label: str) -> None:
        control = self.page.locator(".leaflet-control-layers-overlays label", has_text=label)
        control.locator("input").click()

    def open_popup(self, lon: float, lat: float) -> str:
        x, y = self.page.evaluate(ZOOM_TO, [lat, lon])
        self.page.mouse.click(x, y)
        content = self.page.locator(".leaflet-popup-content")
        content.wait_for(state="visible")
        return str(content.inner_text())

    def close_popup(self) -> None:
        """Close the open popup and wait until it has left the page (Leaflet fades it out
        for 200 ms first, so two popups can be in the page for a moment)."""
        self.page.evaluate(CLOSE)
        self.page.locator(".leaflet-popup").first.wait_for(state="detached")

    def hover_tooltip(self, lon: float, lat: float) -> str:
        """The text of the tooltip shown while the mouse is on the marker at lon/lat."""
        self.page.mouse.move(0, 0)
        x, y = self.page.evaluate(ZOOM_TO, [lat, lon])
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        tooltip = self.page.locator(".leaflet-tooltip:not(.pilotzone-zone)")
        # Headless Chromium may deliver a move late, or merge it with the next: keep moving
        # over the point, a pixel at a time, until the tooltip shows (as a hand would).
        for step in range(10):
            self.page.mouse.move(x + step % 3, y)
            with contextlib.suppress(PlaywrightTimeout):
                tooltip.wait_for(state="visible", timeout=500)
                break
        tooltip.wait_for(state="visible")
        return str(tooltip.text_content())

    def clean(self) -> None:
        assert self.errors == []
        assert self.dialogs == []
        assert self.aborted == []


@pytest.fixture
def page(browser: Any, saved_map: Path) -> Iterator[Page]:
    page = Page(browser, saved_map)
    yield page
    page.page.close()


def test_loads_offline_and_draws_everything(page: Page) -> None:
    assert page.page.locator(".leaflet-container").count() == 1
    assert page.page.evaluate("L.version") == "1.9.3"
    assert page.count() == {"markers": LOCATED, "lines": 2, "zones": ZONES, "band": 1}
    assert page.page.locator(".leaflet-overlay-pane canvas").count() == 1
    assert page.page.locator(".leaflet-pilotzonePoints-pane canvas").count() == 1
    legend = page.page.locator(".pilotzone-legend").inner_text()
    assert "Violation (2)" in legend and "Rows without a location (not drawn): 1" in legend
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "map.png"))
    page.clean()


def test_layer_toggles(page: Page) -> None:
    page.toggle(f"Violation ({STATUS_COUNTS['violation']})")
    assert page.count()["markers"] == LOCATED - STATUS_COUNTS["violation"]
    assert page.count()["lines"] == 0
    page.toggle(f"Violation ({STATUS_COUNTS['violation']})")
    assert page.count()["markers"] == LOCATED
    # Operator and status layers combine: a facility shows while both of its layers are on.
    page.toggle("Operator OP-A (5)")
    assert page.count() == {"markers": LOCATED - 5, "lines": 1, "zones": ZONES, "band": 1}
    page.toggle(f"Needs review ({STATUS_COUNTS['review']})")  # 1 of its 4 is OP-A's, hidden
    assert page.count()["markers"] == LOCATED - 5 - 3
    page.toggle("Operator OP-A (5)")
    assert page.count()["markers"] == LOCATED - STATUS_COUNTS["review"]
    page.toggle(f"Needs review ({STATUS_COUNTS['review']})")
    assert page.count()["markers"] == LOCATED
    page.toggle("Pilot zones")
    assert page.count()["zones"] == 0
    page.clean()


def test_popup_opens_on_click(page: Page) -> None:
    text = page.open_popup(121.20, 31.00)
    assert "Beta CDN outside" in text
    assert "Operator: OP-B" in text and "Distance to border: > review band" in text
    assert describe("acceleration_outside_zone") in text
    page.clean()


@pytest.mark.parametrize(
    ("lon", "lat", "name"), [(121.48, 31.12, HOSTILE), (121.42, 31.28, TEMPLATE_BREAKER)]
)
def test_hostile_names_are_text(page: Page, lon: float, lat: float, name: str) -> None:
    text = page.open_popup(lon, lat)
    assert name in text
    assert page.page.locator(".leaflet-popup-content img").count() == 0
    assert page.page.locator(".leaflet-tooltip", has_text=name).count() == 1  # hover tooltip
    control = page.page.locator(".leaflet-control-layers")
    assert HOSTILE_OPERATOR in control.inner_text()
    assert control.locator("script").count() == 0
    page.clean()


# --------------------------------------------------------------------------- hostile names

VIEW = """() => {
    const map = window[Object.keys(window).find((k) => k.startsWith("map_"))];
    const c = map.getCenter();
    return {zoom: map.getZoom(), lat: c.lat, lng: c.lng};
}"""

CLOSE = """() => window[Object.keys(window).find((k) => k.startsWith("map_"))].closePopup()"""


def payload_at(i: int) -> tuple[float, float]:
    return 121.45 + 0.01 * (i % 6), 31.15 + 0.01 * (i // 6)


@pytest.fixture(scope="module")
def hostile_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compliant facility per template payload, the payload as its name and operator."""
    result = sample_result().iloc[:1]
    rows = result.loc[result.index.repeat(len(PAYLOADS))].reset_index(drop=True)
    rows["name"] = rows["operator_id"] = rows["facility_id"] = PAYLOADS
    points = [shapely.Point(payload_at(i)) for i in range(len(PAYLOADS))]
    hostile = gpd.GeoDataFrame(rows.drop(columns="geometry"), geometry=points, crs=4326)
    return save_map(
        explore(hostile, zones=synthetic_zones()), tmp_path_factory.mktemp("h") / "m.html"
    )


@pytest.fixture
def hostile_page(browser: Any, hostile_map: Path) -> Iterator[Page]:
    page = Page(browser, hostile_map)
    yield page
    page.page.close()


def test_template_payloads_are_text_in_the_browser(hostile_page: Page) -> None:
    page = hostile_page
    assert page.count()["markers"] == len(PAYLOADS)
    control = page.page.locator(".leaflet-control-layers-overlays").text_content() or ""
    for i, payload in enumerate(PAYLOADS):
        assert f" Operator {payload} (1)" in control
        popup = page.open_popup(*payload_at(i))
        heading = page.page.locator(".leaflet-popup-content b").first.text_content()
        assert heading == payload and f"Operator: {payload} · Facility: {payload}" in popup
        page.close_popup()
        page.page.locator(".leaflet-popup").wait_for(state="detached")
        assert page.hover_tooltip(*payload_at(i)) == f"{payload} · Compliant"
    page.clean()


@pytest.mark.parametrize("rows", [1, 5], ids=["one facility", "five at one point"])
def test_one_point_opens_with_a_finite_zoom_and_its_legend(
    browser: Any, tmp_path: Path, rows: int
) -> None:
    located = sample_result().iloc[:rows]
    at_one_point = located.set_geometry([shapely.Point(121.5, 31.2)] * rows, crs=4326)
    path = save_map(explore(at_one_point, zones=synthetic_zones()), tmp_path / "one.html")
    page = Page(browser, path)
    view = page.page.evaluate(VIEW)
    assert math.isfinite(view["zoom"]) and 10 <= view["zoom"] <= 18
    assert (view["lat"], view["lng"]) == pytest.approx((31.2, 121.5), abs=1e-3)
    assert page.count()["markers"] == rows
    assert "pilotzone check" in (page.page.locator(".pilotzone-legend").text_content() or "")
    page.clean()
    page.page.close()


# --------------------------------------------------------------------------- thousands of rows


@pytest.fixture(scope="module")
def thousands(tmp_path_factory: pytest.TempPathFactory) -> tuple[gpd.GeoDataFrame, Path]:
    """A map of 3000 generated rows (row numbers as a CSV's: line 2 on), every status."""
    from test_map_points import generated_result

    result = generated_result(3000, seed=1)
    folder = tmp_path_factory.mktemp("thousands")
    return result, save_map(explore(result, zones=synthetic_zones()), folder / "m.html")


def alone(result: gpd.GeoDataFrame, status: str) -> Any:
    """A row of ``status`` with no other facility within 0.003° (some 40 pixels at zoom 15)."""
    x, y = result.geometry.x.to_numpy(), result.geometry.y.to_numpy()
    for k in np.flatnonzero(result["status"].eq(status).to_numpy()):
        others = np.hypot(x - x[k], y - y[k])
        if np.sort(others)[1] > 0.003:
            return result.iloc[k]
    raise AssertionError(f"no {status} row stands alone")


def test_thousands_of_rows_draw_and_open_their_popups(browser: Any, thousands: Any) -> None:
    result, path = thousands
    page = Page(browser, path)
    assert page.count()["markers"] == len(result)
    assert page.page.locator(".leaflet-pilotzonePoints-pane canvas").count() == 1
    compliant = alone(result, "compliant")
    text = page.open_popup(compliant.geometry.x, compliant.geometry.y)
    assert f"Row: {compliant.source_row}\n" in text
    assert f"Operator: {compliant.operator_id} · Facility: {compliant.facility_id}" in text
    assert "Status: Compliant" in text and text.startswith(f"{compliant['name']}\n")
    page.close_popup()
    violation = alone(result, "violation")
    text = page.open_popup(violation.geometry.x, violation.geometry.y)
    assert f"Row: {violation.source_row}\n" in text and "Status: Violation" in text
    assert f"Facility: {violation.facility_id}" in text
    assert describe("facility_outside_registration_zone") in text
    page.close_popup()
    assert page.hover_tooltip(violation.geometry.x, violation.geometry.y) == (
        f"{violation['name']} · Violation"
    )
    page.page.locator(".leaflet-control-layers").hover()  # collapsed: 40 operator layers
    page.toggle(f"Violation ({(result['status'] == 'violation').sum()})")
    assert page.count()["markers"] == (result["status"] != "violation").sum()
    page.clean()
    page.page.close()


def test_a_facility_without_a_name_is_named_by_its_id(browser: Any, tmp_path: Path) -> None:
    unnamed = sample_result().assign(name=None)
    page = Page(browser, save_map(explore(unnamed, zones=synthetic_zones()), tmp_path / "m.html"))
    assert page.hover_tooltip(121.45, 31.15) == "A-IDC1 · Compliant"
    assert page.open_popup(121.45, 31.15).startswith("\nRow: 1\nOperator: OP-A · Facility: A-IDC1")
    page.clean()
    page.page.close()


def test_lines_too_dense_to_draw_are_named_not_drawn(browser: Any, tmp_path: Path) -> None:
    """10,000 violations 1,000 km from their registration: the lines wait for a closer zoom."""
    n = 10_000
    rng = np.random.default_rng(2)
    result = sample_result().iloc[[0]]  # OP-A's registration, near Shanghai
    far = result.loc[result.index.repeat(n)].reset_index(drop=True)
    far = far.assign(facility_id=[f"V{i}" for i in range(n)], kind="idc", status="violation",
                     reasons="facility_outside_registration_zone")  # fmt: skip
    at = gpd.points_from_xy(rng.uniform(116.2, 116.6, n), rng.uniform(39.7, 40.1, n))
    rows = pd.concat(
        [result, gpd.GeoDataFrame(far.drop(columns="geometry"), geometry=at, crs=4326)]
    )
    rows = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326).reset_index(drop=True)
    page = Page(browser, save_map(explore(rows, zones=synthetic_zones()), tmp_path / "m.html"))
    note = page.page.locator(".pilotzone-lines-hidden")
    assert page.count()["lines"] == n  # all of them on, none drawn:
    assert note.is_visible() and "too many in this view" in note.inner_text()
    page.page.evaluate(ZOOM_TO, [39.9, 116.4])
    note.wait_for(state="hidden")
    page.clean()
    page.page.close()


def test_a_hidden_map_draws_nothing_and_draws_again_when_shown(
    browser: Any, saved_map: Path
) -> None:
    """A map with no pixels (hidden, as the report's embedded map is in print) raises nothing."""
    page = Page(browser, saved_map)
    drawn = page.count()["markers"]
    page.page.evaluate(
        """async () => {
            const map = window[Object.keys(window).find((k) => k.startsWith("map_"))];
            map.getContainer().style.display = "none";
            map.invalidateSize();
            map.fire("resize");
            await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 50)));
            map.getContainer().style.display = "";
            map.invalidateSize();
            map.fire("resize");
            await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 50)));
        }"""
    )
    assert page.count()["markers"] == drawn
    page.clean()
    page.page.close()


# --------------------------------------------------------------------------- zone components


def test_components_are_drawn_with_their_readings(browser: Any, tmp_path: Path) -> None:
    zones = zones_with_components(HOSTILE)
    result = sample_result()
    result["component"] = pd.Categorical(["alpha/rest"] * len(result))
    path = save_map(explore(result, zones=zones), tmp_path / "components.html")
    page = Page(browser, path)
    tooltip = page.hover_tooltip(121.30, 31.50)  # in beta/far, read exclude: an outline only
    assert tooltip == "beta/far: Beta far reach (Read as exclude)"
    popup = page.open_popup(121.56, 31.13)  # in alpha/airport, read review, named HOSTILE
    assert popup.splitlines() == [
        "alpha/airport", HOSTILE, "Standing: contested", "Read as: review",
        "Readings offered: include, exclude, review", "Default: review",
    ]  # fmt: skip
    assert page.page.locator(".leaflet-popup-content img").count() == 0
    page.close_popup()
    assert "Component: alpha/rest" in page.open_popup(121.48, 31.12).splitlines()  # C-IDC
    page.close_popup()
    legend = page.page.locator(".pilotzone-legend").text_content() or ""
    assert "Zone component read as exclude (outline only: not in the zone)" in legend
    shapes = page.count()["zones"]
    page.toggle("Zone components")
    assert page.count()["zones"] == shapes - 2
    page.clean()
    page.page.close()
