"""report.html printed in a real browser, the network cut off: Debian's chromium via Playwright.

The report of the shipped sample filing, and of a synthetic 50,000-row filing,
are opened with every ``http*`` request aborted, laid out for print and
printed to A4 PDF (#21): the overview map's insets are there and fit the page,
no table is wider than the page, headers repeat and rows do not split, and the
page count stays sane at any size. A screenshot of the printed layout is left
in tests/artifacts/report.png for people to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from test_maps_browser import ARTIFACTS
from test_report import AS_OF, report_page, synthetic

from pilotzone import report
from pilotzone._paths import sample_filing
from pilotzone.facilities import read_facilities
from pilotzone.report import write_report
from pilotzone.verify import findings, verify
from pilotzone.zones import load_zones

pytestmark = pytest.mark.browser

#: What the printed layout shows: the insets' boxes, the widest table and the print styles.
LAYOUT = """() => {
    const body = document.body.getBoundingClientRect();
    const style = (selector, property) => {
        const element = document.querySelector(selector);
        return element ? getComputedStyle(element)[property] : null;
    };
    return {
        body: body.width,
        insets: [...document.querySelectorAll("svg.inset")].map((s) => {
            const box = s.getBoundingClientRect();
            return {zone: s.dataset.zone, left: box.left, right: box.right, width: box.width,
                    height: box.height, marks: s.querySelectorAll("path").length};
        }),
        widest: Math.max(...[...document.querySelectorAll("table")].map(
            (t) => t.getBoundingClientRect().right)),
        thead: style("thead", "display"),
        row: style("tbody tr", "breakInside"),
        figure: style("figure", "breakInside"),
        map: style("section.map", "display"),
    };
}"""
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")


def printed(browser: Any, path: Path, screenshot: Path | None = None) -> tuple[dict[str, Any], int]:
    """The print layout of a saved report, and the page count of its A4 PDF; offline."""
    errors: list[str] = []
    aborted: list[str] = []
    page = browser.new_page(viewport={"width": 703, "height": 1000})  # A4 less margins, 96 dpi
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.route("http*://**", lambda route: (aborted.append(route.request.url), route.abort()))
    page.goto(path.as_uri())
    page.emulate_media(media="print")
    layout = dict(page.evaluate(LAYOUT))
    if screenshot:
        screenshot.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(screenshot), clip={"x": 0, "y": 0, "width": 703, "height": 2000})
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    page.close()
    assert errors == [] and aborted == []
    return layout, len(PDF_PAGE.findall(pdf))


def check_layout(layout: dict[str, Any], zones: Any) -> None:
    assert [i["zone"] for i in layout["insets"]] == zones["zone_id"].tolist()
    for inset in layout["insets"]:
        assert inset["width"] > 250 and inset["height"] > 180, inset  # two to a row, readable
        assert inset["left"] >= 0 and inset["right"] <= layout["body"] + 1, inset
        assert inset["marks"] >= 2  # the zone and the scale bar at least
    assert layout["widest"] <= layout["body"] + 1  # no table cut at the page's edge
    assert layout["thead"] == "table-header-group"  # headers repeat on every page
    assert layout["row"] == "avoid" and layout["figure"] == "avoid"  # rows, insets not split
    assert layout["map"] == "none"  # the interactive map is for the screen


def test_the_sample_report_prints_on_a4_with_its_overview_map(browser: Any, tmp_path: Path) -> None:
    zones = load_zones(as_of=AS_OF)
    result = verify(read_facilities(sample_filing()), zones=zones)
    path = write_report(result, tmp_path / "out", zones=zones)["report.html"]
    layout, pages = printed(browser, path, ARTIFACTS / "report.png")
    check_layout(layout, zones)
    print(f"sample report: {pages} A4 pages")
    assert 3 <= pages <= 15, pages


def test_a_large_report_prints_in_a_bounded_number_of_pages(browser: Any, tmp_path: Path) -> None:
    """50,000 rows, 1,000 operators, every one with findings: the listed findings are bounded,
    so the printout is too."""
    zones = load_zones(as_of=AS_OF)
    filing = tmp_path / "filing.csv"
    synthetic(50_000).to_csv(filing, index=False)
    result = verify(read_facilities(filing), zones=zones)
    path = tmp_path / "report.html"
    path.write_text(report_page(result, findings(result), zones), encoding="utf-8")
    layout, pages = printed(browser, path)
    check_layout(layout, zones)
    assert sum(i["marks"] for i in layout["insets"]) > 4 * 4
    print(f"50k-row report: {pages} A4 pages")
    assert report.MAX_FINDINGS_LISTED == 200 and pages <= 45, pages
