"""Filing text is data, never code (issue #17): template syntax through every map and report.

branca renders a MacroElement's output a second time as a Jinja2 template, so
text that reached a folium element was evaluated: ``NAME{{7*7}}END`` showed as
``NAME49END``, ``2号机房{#B区`` crashed the run, and an expression reaching
``lipsum.__globals__.os`` ran Python. Here every payload goes through every text
field (operator_id, facility_id, name, address, a KML ``<name>``, a siting
candidate's name, zone names in a ``--boundaries`` file, the filings given to
``diff``) and every entry point (``pz.explore``, ``pz.write_report``, ``pilotzone
verify/site/diff --out``, ``--boundaries``, and the CSV, XLSX, GeoJSON, Parquet
and KML readers). Each test parses the page's JSON data back and compares
exact strings, and checks that the payload which would create a folder did not.
"""

from __future__ import annotations

import html
import html.parser
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import geopandas as gpd
import pandas as pd
import pytest
from test_maps import ASSET_IDS, ASSET_TEXTS, points, unpack

import pilotzone as pz
from pilotzone.cli import main

AS_OF = "2025-01-01"
MARKER_VARIABLE = "PILOTZONE_TEST_EVALUATED"
# Creates the folder named by the environment variable if Jinja2 evaluates it: no quotes,
# no <, > or &.
MAKEDIRS = (
    "{{ lipsum.__globals__.os.makedirs(lipsum.__globals__.os.environ.PILOTZONE_TEST_EVALUATED) }}"
)
PAYLOADS = [
    "NAME{{7*7}}END", "{% raw %}", "2号机房{#B区", "Rack {{A}}", "{{", "}}", "{%", "#}",
    "${alert(1)}", "{{ 7*7 }}{% endraw %}", "a {# b", MAKEDIRS,
]  # fmt: skip
IDS = [f"p{i}" for i in range(len(PAYLOADS))]
LUJIAZUI = (121.5044, 31.2397)
BEIJING = (116.3975, 39.9087)
DATA = re.compile(
    r'<script type="application/json" id="pilotzone_data_[0-9a-f]{32}">(.*?)</script>', re.S
)


@pytest.fixture(scope="module", autouse=True)
def marker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where MAKEDIRS would create a folder; no test may leave one there."""
    path = tmp_path_factory.mktemp("marker") / "evaluated"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(MARKER_VARIABLE, str(path))
        yield path


@pytest.fixture(autouse=True)
def nothing_evaluated(marker: Path) -> Iterator[None]:
    yield
    assert not marker.exists(), "a template payload was evaluated"


# --------------------------------------------------------------------------- reading pages


class Frames(html.parser.HTMLParser):
    """The srcdoc of every iframe of a page, attribute-unescaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.srcdocs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.srcdocs += [value or "" for name, value in attrs if name == "srcdoc"]


def embedded_map(report: str) -> str:
    parser = Frames()
    parser.feed(report)
    (page,) = parser.srcdocs
    return page


def map_data(page: str) -> dict[str, Any]:
    """The one pilotzone drawing of a map page, parsed back from its JSON element."""
    (data,) = [json.loads(text) for text in DATA.findall(page)]
    assert "NAME49END" not in page
    if data.get("points"):  # the facilities' text, compressed in the page
        assert "NAME49END" not in json.dumps(unpack(data["points"]["table"])[1])
    return dict(data)


def lines(popup: list[Any]) -> list[str]:
    return ["".join(p if isinstance(p, str) else p[0] for p in line) for line in popup]


def facility_named(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The one facility of a verification map with this name, from the decoded table."""
    drawn = points(data)
    (found,) = drawn[drawn["name"] == name].to_dict("records")
    return dict(found)


def assert_facility(data: dict[str, Any], payload: str) -> None:
    """The payload as operator, facility id, name and address, each exactly as filed."""
    found = facility_named(data, payload)
    assert found["switch"] == f"Operator {payload} (2)"
    assert found["overlay"].startswith("Compliant (")
    assert [found[k] for k in ("operator", "facility", "address")] == [payload] * 3


def no_evaluation_anywhere(folder: Path) -> None:
    for path in folder.iterdir():
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert "NAME49END" not in text and "Rack A" not in text, path.name


# --------------------------------------------------------------------------- filings


def filing(texts: list[str] = PAYLOADS) -> pd.DataFrame:
    """Per text an operator of that id, registered in Pudong, with one compliant IDC whose
    id, name and address are the text too."""
    rows = []
    for i, text in enumerate(texts):
        rows.append((text, f"R{i}", f"R{i}", f"R{i}", "registration", *LUJIAZUI))
        rows.append((text, text, text, text, "idc", LUJIAZUI[0] + 0.002 * (i + 1), LUJIAZUI[1]))
    columns = ["operator_id", "facility_id", "name", "address", "kind", "lon", "lat"]
    return pd.DataFrame(rows, columns=columns)


def kml(frame: pd.DataFrame) -> str:
    placemarks = []
    for row in frame.itertuples(index=False):
        data = "".join(
            f'<Data name="{key}"><value>{escape(str(getattr(row, key)))}</value></Data>'
            for key in ("operator_id", "facility_id", "address", "kind")
        )
        placemarks.append(
            f"<Placemark><name>{escape(row.name)}</name><ExtendedData>{data}</ExtendedData>"
            f"<Point><coordinates>{row.lon},{row.lat},0</coordinates></Point></Placemark>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document>{''.join(placemarks)}</Document></kml>"
    )


def write_filing(folder: Path, suffix: str) -> Path:
    frame = filing()
    path = folder / f"filing{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".geojson":
        points = gpd.points_from_xy(frame.pop("lon"), frame.pop("lat"))
        path.write_text(gpd.GeoDataFrame(frame, geometry=points, crs=4326).to_json(drop_id=True))
    else:
        path.write_text(kml(frame), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def result() -> gpd.GeoDataFrame:
    checked = pz.verify(pz.read_facilities(filing(), crs="wgs84"), as_of=AS_OF)
    assert set(checked["status"].astype(str)) == {"compliant"}
    return checked


# --------------------------------------------------------------------------- the API


@pytest.fixture(scope="module")
def explored(result: gpd.GeoDataFrame) -> dict[str, Any]:
    return map_data(pz.explore(result).get_root().render())


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_explore(explored: dict[str, Any], payload: str) -> None:
    assert_facility(explored, payload)


@pytest.fixture(scope="module")
def reported(result: gpd.GeoDataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    pz.write_report(result, folder)
    no_evaluation_anywhere(folder)
    return folder


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_write_report(reported: Path, payload: str) -> None:
    page = (reported / "map.html").read_text(encoding="utf-8")
    assert_facility(map_data(page), payload)
    report = (reported / "report.html").read_text(encoding="utf-8")
    assert embedded_map(report) == page
    assert f"<h3>Operator {html.escape(payload)}</h3>" in report
    assert f"<td>{html.escape(payload)}</td>" in report  # the operators table


# --------------------------------------------------------------------------- the command line


def run(*argv: str) -> int:
    return main([*argv, "--as-of", AS_OF])


@pytest.fixture(scope="module", params=[".csv", ".xlsx", ".geojson", ".parquet", ".kml"])
def verified(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp(request.param.strip("."))
    path = write_filing(folder, request.param)
    assert run("verify", str(path), "--crs", "wgs84", "--out", str(folder / "out")) == 0
    no_evaluation_anywhere(folder / "out")
    return folder / "out"


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_verify_out_for_every_reader(verified: Path, payload: str) -> None:
    page = (verified / "map.html").read_text(encoding="utf-8")
    assert_facility(map_data(page), payload)
    assert f"<h3>Operator {html.escape(payload)}</h3>" in (verified / "report.html").read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_a_payload_alone_does_not_crash_verify(tmp_path: Path, payload: str) -> None:
    """One row, the payload as its name: the crash issue #17 reported (exit 3)."""
    path = tmp_path / "one.csv"
    pd.DataFrame(
        [("OP", "F1", payload, "registration", *LUJIAZUI)],
        columns=["operator_id", "facility_id", "name", "kind", "lon", "lat"],
    ).to_csv(path, index=False)
    assert run("verify", str(path), "--crs", "wgs84", "--out", str(tmp_path / "out")) == 0
    found = facility_named(map_data((tmp_path / "out" / "map.html").read_text("utf-8")), payload)
    assert found["overlay"].startswith("Compliant (")


@pytest.fixture(scope="module")
def sited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("site")
    return site_map(folder, PAYLOADS)


def site_map(folder: Path, texts: list[str]) -> dict[str, Any]:
    """``pilotzone site --out`` of candidates in Pudong named by the texts: its map's data."""
    rows = [(text, LUJIAZUI[0] + 0.002 * i, LUJIAZUI[1]) for i, text in enumerate(texts)]
    path = folder / "candidates.csv"
    pd.DataFrame(rows, columns=["name", "lon", "lat"]).to_csv(path, index=False)
    out = folder / "out"
    assert run("site", str(path), "--zone", "shanghai", "--crs", "wgs84", "--out", str(out)) == 0
    no_evaluation_anywhere(out)
    return map_data((out / "sites_map.html").read_text(encoding="utf-8"))


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_site_out(sited: dict[str, Any], payload: str) -> None:
    (found,) = [item for item in sited["items"] if len(item) > 5 and lines(item[5])[0] == payload]
    assert found[4].startswith(f"{payload} · +")  # its permanent label: name and margin


@pytest.fixture(scope="module")
def diffed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The old filing has each operator's registration; the new one adds a CDN in Beijing."""
    folder = tmp_path_factory.mktemp("diff")
    old = filing()
    old = old[old["kind"] == "registration"].assign(crs="wgs84")
    new = old.assign(kind="cdn", lon=BEIJING[0], lat=BEIJING[1])
    new["facility_id"] = new["name"] = new["address"] = new["operator_id"]
    old.to_csv(folder / "old.csv", index=False)
    pd.concat([old, new]).to_csv(folder / "new.csv", index=False)
    out = folder / "out"
    status = run("diff", str(folder / "old.csv"), str(folder / "new.csv"), "--out", str(out))
    assert status == 1  # new violations
    no_evaluation_anywhere(out)
    return map_data((out / "changes_map.html").read_text(encoding="utf-8"))


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_diff_out(diffed: dict[str, Any], payload: str) -> None:
    popups = [lines(item[5]) for item in diffed["items"] if len(item) > 5]
    found = [p for p in popups if p[0] == payload]
    assert found and all(p[1] == f"Operator: {payload} · Facility: {payload}" for p in found)
    assert f"{payload} · New findings" in {item[4] for item in diffed["items"] if len(item) > 4}


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A boundary file adding one zone per payload, every name of it the payload."""
    folder = tmp_path_factory.mktemp("boundaries")
    boundaries = write_boundaries(folder, PAYLOADS)
    path = folder / "filing.csv"
    pd.DataFrame(
        [("OP", "R", "HQ", "registration", *LUJIAZUI)],
        columns=["operator_id", "facility_id", "name", "kind", "lon", "lat"],
    ).to_csv(path, index=False)
    out = folder / "out"
    argv = ["verify", str(path), "--crs", "wgs84", "--boundaries", str(boundaries)]
    assert run(*argv, "--out", str(out)) == 0
    assert run("site", str(path), "--zone", "zone0", "--crs", "wgs84",
               "--boundaries", str(boundaries), "--out", str(folder / "site")) == 1  # fmt: skip
    no_evaluation_anywhere(out)
    no_evaluation_anywhere(folder / "site")
    return folder


def write_boundaries(folder: Path, texts: list[str]) -> Path:
    """A boundary file adding one zone per text, west of the shipped zones, every name of it
    the text."""
    features = []
    for i, text in enumerate(texts):
        x, y = 100 + i * 0.2, 40.0
        square = [[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]
        names = dict.fromkeys(("name_en", "name_zh", "short_name_en", "short_name_zh"), text)
        features.append({
            "type": "Feature", "properties": {"zone_id": f"zone{i}", **names, "accuracy_m": 100},
            "geometry": {"type": "Polygon", "coordinates": [square]},
        })  # fmt: skip
    boundaries = folder / "zones.geojson"
    boundaries.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return boundaries


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_zone_names_from_a_boundaries_file(bounded: Path, payload: str) -> None:
    data = map_data((bounded / "out" / "map.html").read_text(encoding="utf-8"))
    shapes = [item for item in data["items"] if len(item) > 5 and item[4] == payload]
    assert len(shapes) == 1 and lines(shapes[0][5]) == [payload, payload]  # label and popup
    assert f"{payload} ±100 m" in lines([row[1] for row in data["legend"]])
    report = (bounded / "out" / "report.html").read_text(encoding="utf-8")
    zeros = '<td class="n">0</td>' * 5  # by zone: rows, then rows by status
    assert f"<tr><td>{html.escape(payload)}</td>{zeros}</tr>" in report
    assert f"<figcaption><strong>{html.escape(payload)} (active)</strong>" in report  # overview


def test_a_zone_name_as_the_site_maps_target(bounded: Path) -> None:
    data = map_data((bounded / "site" / "sites_map.html").read_text(encoding="utf-8"))
    assert data["overlays"][0] == f"{PAYLOADS[0]}: Target zone"
    title = lines([data["legend"][0][1]])[0]
    assert title == f"pilotzone siting: {PAYLOADS[0]}"


# -------------------------------------------------------------------------- text shaped like assets


@pytest.mark.parametrize("text", ASSET_TEXTS, ids=ASSET_IDS)
def test_text_shaped_like_an_asset_through_verify_and_site_out(tmp_path: Path, text: str) -> None:
    """A CDN asset URL or the icon library's name as operator, facility, name, address, zone name
    from a boundaries file and candidate name: saving the maps offline once rewrote such text
    in their data into a data: URI, or refused the run; now each comes back exactly."""
    path = tmp_path / "filing.csv"
    filing([text]).to_csv(path, index=False)
    boundaries = write_boundaries(tmp_path, [text])
    out = tmp_path / "out"
    argv = ["verify", str(path), "--crs", "wgs84", "--boundaries", str(boundaries)]
    assert run(*argv, "--out", str(out)) == 0
    page = (out / "map.html").read_text(encoding="utf-8")
    data = map_data(page)
    assert_facility(data, text)
    shapes = [item for item in data["items"] if len(item) > 5 and item[4] == text]
    assert len(shapes) == 1 and lines(shapes[0][5]) == [text, text]  # the zone: label and popup
    assert embedded_map((out / "report.html").read_text(encoding="utf-8")) == page

    (tmp_path / "site").mkdir()
    sites = site_map(tmp_path / "site", [text])
    (candidate,) = [item for item in sites["items"] if len(item) > 5]
    assert lines(candidate[5])[0] == text and candidate[4].startswith(f"{text} · +")
