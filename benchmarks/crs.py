"""GCJ-02 and BD-09 to WGS-84: pilotzone's inverse against the fixed-point one it replaced.

    python benchmarks/crs.py                      # the 1M-row synthetic filing's points
    python benchmarks/crs.py --rows 200000 --repeat 3

The points are the GCJ-02 rows (about 700k) and the BD-09 rows (about 100k) of
``synthetic.make_filing(--rows)``. For each system it prints wall and CPU
seconds (best of ``--repeat`` after a warm-up) of ``pilotzone.to_wgs84``
(Newton's method with the offset's analytic Jacobian, 3 evaluations per point),
of the fixed-point inverse pilotzone used before (a copy kept below, only here,
as the reference: 5 evaluations of an offset with 8 transcendental calls), and
of pyproj converting the same points from EPSG:4326 to EPSG:3857 (Web Mercator:
a standard tool's speed for a simple closed-form conversion), with the ratios.
It also prints the largest difference between the two inverses in degrees.
"""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Callable

import numpy as np
import pyproj
from numpy.typing import NDArray
from read import best
from synthetic import make_filing

import pilotzone as pz

Array = NDArray[np.float64]

# --------------------------------------------------------------------------- the reference
# pilotzone's inverse before #21 (crs.py at commit f5b6b6b), kept only as the benchmark's baseline.

_A = 6378245.0
_EE = 0.00669342162296594323
_BD_PI = np.pi * 3000.0 / 180.0


def old_offset(lon: Array, lat: Array) -> tuple[Array, Array]:
    x = lon - 105.0
    y = lat - 35.0
    third = x * (np.pi / 3.0)
    s3, c3 = np.sin(third), np.cos(third)
    s1 = s3 * (3.0 - 4.0 * s3 * s3)
    c1 = c3 * (4.0 * c3 * c3 - 3.0)
    s2 = 2.0 * s1 * c1
    s6 = s2 * (3.0 - 4.0 * s2 * s2)
    y3 = np.sin(y * (np.pi / 3.0))
    y1 = y3 * (3.0 - 4.0 * y3 * y3)
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * s6 + 20.0 * s2) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * y1 + 40.0 * y3) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y * (np.pi / 12.0)) + 320.0 * np.sin(y * (np.pi / 30.0))) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * s1 + 40.0 * s3) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x * (np.pi / 12.0)) + 300.0 * np.sin(x * (np.pi / 30.0))) * 2.0 / 3.0
    sin_lat = np.sin(np.radians(lat))
    magic = 1.0 - _EE * sin_lat * sin_lat
    sqrt_magic = np.sqrt(magic)
    cos_lat = np.sqrt(1.0 - sin_lat * sin_lat)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * cos_lat * np.pi)
    outside = ~((lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271))
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def old_to_gcj02(lon: Array, lat: Array) -> tuple[Array, Array]:
    dlon, dlat = old_offset(lon, lat)
    return lon + dlon, lat + dlat


def old_gcj02_to_bd09(lon: Array, lat: Array) -> tuple[Array, Array]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def old_invert(
    forward: Callable[[Array, Array], tuple[Array, Array]],
    target_x: Array,
    target_y: Array,
    guess_x: Array,
    guess_y: Array,
) -> tuple[Array, Array]:
    x = np.array(guess_x, dtype=np.float64, copy=True, ndmin=1)
    y = np.array(guess_y, dtype=np.float64, copy=True, ndmin=1)
    tx = np.broadcast_to(np.asarray(target_x, dtype=np.float64), x.shape).ravel()
    ty = np.broadcast_to(np.asarray(target_y, dtype=np.float64), y.shape).ravel()
    flat_x, flat_y = x.ravel(), y.ravel()
    active = np.flatnonzero(np.isfinite(flat_x) & np.isfinite(flat_y))
    for _ in range(30):
        if not active.size:
            break
        fx, fy = forward(flat_x[active], flat_y[active])
        ex = fx - tx[active]
        ey = fy - ty[active]
        flat_x[active] -= ex
        flat_y[active] -= ey
        active = active[(np.abs(ex) >= 1e-11) | (np.abs(ey) >= 1e-11)]
    shape = np.shape(guess_x)
    return flat_x.reshape(shape), flat_y.reshape(shape)


def old_to_wgs84(x: Array, y: Array, crs: str) -> tuple[Array, Array]:
    if crs == "bd09":
        u, v = x - 0.0065, y - 0.006
        z = np.hypot(u, v) - 0.00002 * np.sin(v * _BD_PI)
        theta = np.arctan2(v, u) - 0.000003 * np.cos(u * _BD_PI)
        x, y = old_invert(old_gcj02_to_bd09, x, y, z * np.cos(theta), z * np.sin(theta))
    return old_invert(old_to_gcj02, x, y, x, y)


# --------------------------------------------------------------------------- the benchmark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    filing = make_filing(args.rows)
    mercator = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
        f"{platform.python_version()}, numpy {np.__version__}, pyproj {pyproj.__version__} "
        f"(PROJ {pyproj.proj_version_str}); load average {os.getloadavg()[0]:.1f}"
    )
    print("ratios: the fixed-point inverse's seconds over each method's, wall / cpu")
    print(
        f"{'system':<7}{'points':>10}  {'method':<34}{'wall s':>8}{'cpu s':>8}"
        f"{'points/s':>13}{'vs fixed-point':>16}"
    )
    for system in ("gcj02", "bd09"):
        rows = (filing["crs"] == system).to_numpy()
        x = filing["lon"].to_numpy()[rows]
        y = filing["lat"].to_numpy()[rows]
        new = pz.to_wgs84(x, y, system)
        old = old_to_wgs84(x, y, system)
        difference = max(np.abs(new[0] - old[0]).max(), np.abs(new[1] - old[1]).max())
        methods = {
            "pilotzone.to_wgs84 (Newton)": lambda x=x, y=y, s=system: pz.to_wgs84(x, y, s),
            "fixed-point inverse (before #21)": lambda x=x, y=y, s=system: old_to_wgs84(x, y, s),
            "pyproj EPSG:4326 -> EPSG:3857": lambda x=x, y=y: mercator.transform(x, y),
        }
        times = {name: best(run, args.repeat) for name, run in methods.items()}
        base = times["fixed-point inverse (before #21)"]
        for name, (wall, cpu) in times.items():
            print(
                f"{system:<7}{x.size:>10,}  {name:<34}{wall:>8.3f}{cpu:>8.3f}"
                f"{x.size / wall:>13,.0f}{base[0] / wall:>9.1f}x /{base[1] / cpu:>4.1f}x",
                flush=True,
            )
        print(f"{system:<7}{'':>10}  largest difference between the inverses: {difference:.1e} deg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
