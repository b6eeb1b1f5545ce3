"""Throughput of pilotzone.locate against the standard tools, in one process.

    python benchmarks/locate.py                          # 100k, 1M and 10M points
    python benchmarks/locate.py --sizes 2000000          # the issue's 2M comparison

For each size and layout (uniform over the zones' bounding boxes; clustered
around the four cities) it prints points per second, the ratio to the
baseline a user of the standard tools would run, and the peak memory that
numpy and the libraries allocated beyond the inputs (tracemalloc). WGS-84
methods are compared with ``geopandas.sjoin(points, zones, predicate="within")``,
GeoDataFrame construction included; GCJ-02 methods with converting the points
to WGS-84 first and then calling sjoin, as a user of sjoin must. Each figure
is the median of ``--repeat`` runs after one warm-up, in wall-clock and in
CPU seconds (the CPU ratio is the steadier one when other jobs share the
machine); above ``--slow-above`` points the standard tools run
``--slow-repeat`` times instead. Building the zone index (once per zone set,
cached) is timed apart, before the table.
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
from pilotzone.locate import _INDEX_CACHE

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


def uniform(
    n: int, rng: np.random.Generator, zones: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.array([g.bounds for g in zones.geometry])
    which = rng.integers(0, len(bounds), n)
    b = bounds[which]
    return rng.uniform(b[:, 0], b[:, 2]), rng.uniform(b[:, 1], b[:, 3])


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of ``repeat`` runs after a warm-up.

    Also the peak traced memory of one more run.
    """
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(wall), statistics.median(cpu), peak


def setup_seconds(zones: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds to build the zone index from scratch.

    WGS-84 first, then GCJ-02's on top of it.
    """
    _INDEX_CACHE.clear()
    seconds = {}
    for crs in ("wgs84", "gcj02"):
        start, start_cpu = time.perf_counter(), time.process_time()
        pz.locate([116.4], [39.9], crs=crs, zones=zones)
        seconds[crs] = (time.perf_counter() - start, time.process_time() - start_cpu)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--slow-above",
        type=int,
        default=2_000_000,
        help="sizes above this run the standard tools --slow-repeat times",
    )
    parser.add_argument("--slow-repeat", type=int, default=1)
    parser.add_argument(
        "--layouts", nargs="+", default=["clustered", "uniform"], choices=["clustered", "uniform"]
    )
    args = parser.parse_args(argv)
    zones = pz.load_zones()
    zone_frame = zones[["zone_id", "geometry"]]
    prepared = list(zones.geometry)
    for geometry in prepared:
        shapely.prepare(geometry)
    rng = np.random.default_rng(20240408)
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
        f"geopandas {gpd.__version__}"
    )
    setups = [setup_seconds(zones) for _ in range(3)]
    print(
        "setup (zone index, built once per zone set and cached; median of 3, wall / CPU): "
        + ", ".join(
            f"{label} {statistics.median(s[crs][0] for s in setups):.2f} / "
            f"{statistics.median(s[crs][1] for s in setups):.2f} s"
            for crs, label in (("wgs84", "wgs84"), ("gcj02", "gcj02 on top"))
        )
    )
    print("ratio: WGS-84 rows against geopandas.sjoin; GCJ-02 rows against convert gcj02 + sjoin")
    print(
        "cpu ratio: the same from CPU seconds (time.process_time), "
        "steadier than wall time on a loaded machine"
    )
    print(
        f"{'layout':<10}{'points':>12}  {'method':<30}{'points/s':>14}{'ratio':>9}{'cpu ratio':>10}"
        f"{'peak MB':>10}{'B/point':>9}"
    )
    for n in args.sizes:
        slow_repeat = args.slow_repeat if n > args.slow_above else args.repeat
        for layout in args.layouts:
            lon, lat = clustered(n, rng) if layout == "clustered" else uniform(n, rng, zones)
            glon, glat = pz.from_wgs84(lon, lat, "gcj02")
            methods: dict[str, tuple[Callable[[], Any], int, str]] = {
                "pilotzone.locate wgs84": (
                    lambda lon=lon, lat=lat: pz.locate(lon, lat, crs="wgs84", zones=zones),
                    args.repeat,
                    "geopandas.sjoin",
                ),
                "shapely.contains_xy prepared": (
                    lambda lon=lon, lat=lat: [shapely.contains_xy(g, lon, lat) for g in prepared],
                    slow_repeat,
                    "geopandas.sjoin",
                ),
                "geopandas.sjoin": (
                    lambda lon=lon, lat=lat: gpd.sjoin(
                        gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326),
                        zone_frame,
                        how="left",
                        predicate="within",
                    ),
                    slow_repeat,
                    "geopandas.sjoin",
                ),
                "pilotzone.locate gcj02": (
                    lambda glon=glon, glat=glat: pz.locate(glon, glat, crs="gcj02", zones=zones),
                    args.repeat,
                    "convert gcj02 + sjoin",
                ),
                "convert gcj02 + sjoin": (
                    lambda glon=glon, glat=glat: gpd.sjoin(
                        gpd.GeoDataFrame(
                            geometry=gpd.points_from_xy(*pz.to_wgs84(glon, glat, "gcj02")), crs=4326
                        ),
                        zone_frame,
                        how="left",
                        predicate="within",
                    ),
                    slow_repeat,
                    "convert gcj02 + sjoin",
                ),
            }
            results = {name: timed(fn, repeat) for name, (fn, repeat, _) in methods.items()}
            for name, (seconds, cpu, peak) in results.items():
                baseline = results[methods[name][2]]
                print(
                    f"{layout:<10}{n:>12,}  {name:<30}{n / seconds:>14,.0f}"
                    f"{baseline[0] / seconds:>8.1f}x{baseline[1] / cpu:>9.1f}x"
                    f"{peak / 1e6:>10.1f}{peak / n:>9.1f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
