"""Time per stage of verifying a large synthetic filing.

    python benchmarks/verify.py              # 1M rows
    python benchmarks/verify.py --rows 200000 --repeat 5

Stages: read (CSV to a validated GeoDataFrame), convert (every row to WGS-84,
as the reader does for the geometry column), locate (zone and border distance
per row, one call per coordinate system), address (the address check verify
runs when the filing has an address column; the synthetic filing leaves it
empty, so this is its cost on rows without an address), rules (everything else
verify does: verify's time minus locate's and the address check's in the same run). Each stage runs --repeat times
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
    filing = make_filing(args.rows)
    for crs in filing["crs"].unique():  # build every index (they are built lazily, per zone) before timing
        rows = (filing["crs"] == crs).to_numpy()
        pz.locate(filing["lon"].to_numpy()[rows], filing["lat"].to_numpy()[rows], crs=crs, zones=zones)
    stages = ("read", "convert", "locate", "address", "rules", "verify")
    times: dict[str, list[float]] = {stage: [] for stage in stages}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "filing.csv"
        filing.to_csv(path, index=False)
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
        pz.address_check(sites, zones=zones)
        address = time.perf_counter() - start
        start = time.perf_counter()
        result = pz.verify(sites, zones=zones)
        total = time.perf_counter() - start
        times["locate"].append(locate)
        times["address"].append(address)
        times["verify"].append(total)
        times["rules"].append(total - locate - address)  # rules of this run against locate of this run
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
