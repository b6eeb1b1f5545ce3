"""Time per stage of verifying a large synthetic filing.

    python benchmarks/verify.py              # 1M rows
    python benchmarks/verify.py --rows 200000 --repeat 5

Stages: read (CSV to a validated GeoDataFrame), convert (every row to WGS-84,
as the reader does for the geometry column), locate (zone and border distance
per row, one call per coordinate system), rules (everything else verify does:
verify's time minus locate's in the same run). Each stage runs --repeat times
and the median is shown.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import pilotzone as pz
from synthetic import make_filing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per stage; the median is shown")
    args = parser.parse_args(argv)
    zones = pz.load_zones()
    pz.locate([116.4], [39.9], crs="wgs84", zones=zones)  # build the indexes before timing
    pz.locate([116.4], [39.9], crs="gcj02", zones=zones)
    pz.locate([116.4], [39.9], crs="bd09", zones=zones)
    times: dict[str, list[float]] = {stage: [] for stage in ("read", "convert", "locate", "rules", "verify")}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "filing.csv"
        make_filing(args.rows).to_csv(path, index=False)
        for _ in range(args.repeat):
            start = time.perf_counter()
            sites = pz.read_facilities(path)
            times["read"].append(time.perf_counter() - start)
    for _ in range(args.repeat):
        start = time.perf_counter()
        for crs in sites["crs"].unique():
            rows = (sites["crs"] == crs).to_numpy()
            pz.to_wgs84(sites["lon"].to_numpy()[rows], sites["lat"].to_numpy()[rows], crs)
        times["convert"].append(time.perf_counter() - start)
        start = time.perf_counter()
        for crs in sites["crs"].unique():
            rows = (sites["crs"] == crs).to_numpy()
            pz.locate(sites["lon"].to_numpy()[rows], sites["lat"].to_numpy()[rows], crs=crs, zones=zones)
        locate = time.perf_counter() - start
        start = time.perf_counter()
        result = pz.verify(sites, zones=zones)
        total = time.perf_counter() - start
        times["locate"].append(locate)
        times["verify"].append(total)
        times["rules"].append(total - locate)  # rules of this run against locate of this run
    median = {stage: statistics.median(values) for stage, values in times.items()}
    print(f"{args.rows:,} rows, {sites['operator_id'].nunique():,} operators; statuses "
          f"{result['status'].value_counts().to_dict()}; median of {args.repeat}")
    print(f"{'stage':<10}{'seconds':>10}{'rows/s':>14}")
    for stage, seconds in median.items():
        print(f"{stage:<10}{seconds:>10.2f}{args.rows / seconds:>14,.0f}")
    ratios = sorted(r / l for r, l in zip(times["rules"], times["locate"], strict=True))
    print(f"rules / locate = {statistics.median(ratios):.2f}  (goal: at most 1; per run: "
          f"{', '.join(f'{r:.2f}' for r in ratios)})")
    return 0 if np.isfinite(median["verify"]) else 1

if __name__ == "__main__":
    raise SystemExit(main())
