"""Throughput of pilotzone.locate against the standard tools, in one process.

    python benchmarks/locate.py                  # 100k, 1M and 10M points
    python benchmarks/locate.py --sizes 2000000  # the issue's 2M comparison

For each size and layout (uniform over the zones' bounding boxes; clustered
around the four cities) it prints points per second, the ratio to
``geopandas.sjoin(points, zones, predicate="within")`` (GeoDataFrame
construction included, as a user would pay it), and the peak memory that
numpy allocated beyond the inputs. Each figure is the median of ``--repeat``
runs after one warm-up (which builds and caches the zone index). The standard
tools are given WGS-84 points; ``locate gcj02`` gets the same points in GCJ-02
and the "convert + sjoin" row converts them first, as a user of sjoin must.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

import pilotzone as pz

CITIES = {  # lon, lat, spread in degrees
    "beijing": (116.40, 39.90, 0.25),
    "shanghai": (121.50, 31.20, 0.20),
    "hainan": (110.33, 20.03, 0.30),
    "shenzhen": (114.06, 22.55, 0.15),
}


def clustered(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    which = rng.integers(0, len(CITIES), n)
    centres = np.array(list(CITIES.values()))
    lon = centres[which, 0] + rng.normal(0, 1, n) * centres[which, 2]
    lat = centres[which, 1] + rng.normal(0, 1, n) * centres[which, 2]
    return lon, lat


def uniform(n: int, rng: np.random.Generator, zones: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.array([g.bounds for g in zones.geometry])
    which = rng.integers(0, len(bounds), n)
    b = bounds[which]
    return rng.uniform(b[:, 0], b[:, 2]), rng.uniform(b[:, 1], b[:, 3])


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, int]:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-sjoin-above", type=int, default=2_000_000,
                        help="sizes above this skip the slow standard tools")
    args = parser.parse_args(argv)
    zones = pz.load_zones()
    zone_frame = zones[["zone_id", "geometry"]]
    prepared = list(zones.geometry)
    for geometry in prepared:
        shapely.prepare(geometry)
    rng = np.random.default_rng(20240408)
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}, "
          f"numpy {np.__version__}, shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
          f"geopandas {gpd.__version__}")
    print(f"{'layout':<10}{'points':>12}  {'method':<28}{'points/s':>14}{'vs sjoin':>10}{'peak MB':>10}{'B/point':>9}")
    for n in args.sizes:
        for layout in ("clustered", "uniform"):
            lon, lat = clustered(n, rng) if layout == "clustered" else uniform(n, rng, zones)
            glon, glat = pz.from_wgs84(lon, lat, "gcj02")
            methods: dict[str, Callable[[], Any]] = {
                "pilotzone.locate wgs84": lambda: pz.locate(lon, lat, crs="wgs84", zones=zones),
                "pilotzone.locate gcj02": lambda: pz.locate(glon, glat, crs="gcj02", zones=zones),
            }
            if n <= args.skip_sjoin_above:
                methods["shapely.contains_xy prepared"] = lambda: [
                    shapely.contains_xy(g, lon, lat) for g in prepared
                ]
                methods["geopandas.sjoin"] = lambda: gpd.sjoin(
                    gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326),
                    zone_frame, how="left", predicate="within",
                )
                methods["convert gcj02 + sjoin"] = lambda: gpd.sjoin(
                    gpd.GeoDataFrame(geometry=gpd.points_from_xy(*pz.to_wgs84(glon, glat, "gcj02")), crs=4326),
                    zone_frame, how="left", predicate="within",
                )
            results = {name: timed(fn, args.repeat) for name, fn in methods.items()}
            baseline = results.get("geopandas.sjoin", (float("nan"), 0))[0]
            for name, (seconds, peak) in results.items():
                ratio = baseline / seconds
                print(f"{layout:<10}{n:>12,}  {name:<28}{n / seconds:>14,.0f}{ratio:>9.1f}x"
                      f"{peak / 1e6:>10.1f}{peak / n:>9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
