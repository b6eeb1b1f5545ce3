"""Synthetic filings of any size for benchmarks: many operators around the four pilot cities.

    python benchmarks/synthetic.py 1000000 filing-1m.csv

Each operator has one registration near a city and facilities mostly near the
same city (some elsewhere, so that every status occurs); coordinates are in
WGS-84, GCJ-02 or BD-09 in the proportions Chinese filings show (mostly GCJ-02).
Deterministic for a given size and seed.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from pilotzone.crs import from_wgs84

CITIES = np.array([(116.40, 39.90), (121.55, 31.22), (110.33, 20.03), (114.06, 22.55)])
KINDS = np.array(["idc", "cdn", "isp", "server", "other"])
TENURES = np.array(["owned", "rented", "purchased"])
SYSTEMS = np.array(["gcj02", "wgs84", "bd09"])


def make_filing(
    rows: int, *, seed: int = 20240408, facilities_per_operator: int = 50
) -> pd.DataFrame:
    """A filing with ``rows`` rows: one registration per operator, the rest facilities."""
    rng = np.random.default_rng(seed)
    operators = max(rows // facilities_per_operator, 1)
    operator = np.sort(rng.integers(0, operators, rows))
    first = np.r_[True, operator[1:] != operator[:-1]]
    home = rng.integers(0, len(CITIES), operators)[operator]
    elsewhere = rng.random(rows) < 0.05
    city = np.where(elsewhere, rng.integers(0, len(CITIES), rows), home)
    lon = CITIES[city, 0] + rng.normal(0, 0.15, rows)
    lat = CITIES[city, 1] + rng.normal(0, 0.12, rows)
    crs = SYSTEMS[rng.choice(3, rows, p=[0.7, 0.2, 0.1])]
    x, y = lon.copy(), lat.copy()
    for system in ("gcj02", "bd09"):
        rows_in = crs == system
        x[rows_in], y[rows_in] = from_wgs84(lon[rows_in], lat[rows_in], system)
    return pd.DataFrame(
        {
            "operator_id": np.char.add("OP", operator.astype(str)),
            "facility_id": np.arange(rows).astype(str),
            "kind": np.where(first, "registration", KINDS[rng.integers(0, len(KINDS), rows)]),
            "tenure": TENURES[rng.integers(0, len(TENURES), rows)],
            "services": np.where(first, "idc;cdn", ""),
            "lon": x.round(6),
            "lat": y.round(6),
            "crs": crs,
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=20240408)
    args = parser.parse_args(argv)
    make_filing(args.rows, seed=args.seed).to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
