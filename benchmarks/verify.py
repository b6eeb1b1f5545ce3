"""Time per stage of verifying a large synthetic filing.

    python benchmarks/verify.py              # 1M rows
    python benchmarks/verify.py --rows 200000 --repeat 5

Stages: read (CSV to a validated GeoDataFrame), convert (every row to WGS-84,
as the reader does for the geometry column), then the parts of one verify call:
locate (placing every row: grouping the rows by coordinate system, one
``pz.locate`` call per system, and writing zone_id, border_distance_m and
near_border back to the filing's rows), locate() (those calls alone, part of
the locate stage), address (the address check verify runs when the filing has
an address column; the synthetic filing leaves it empty, so this is its cost
on rows without an address), rules (everything else verify does) and verify
(the whole call). Each stage runs --repeat times and the median is shown.

The benchmark times the functions verify itself calls (``_place``,
``locate``, ``address_check``); rules is the rest of the same call. Timing
locate apart, in a call of its own, would let the machine's noise between
calls decide the ratio. The goal is rules / locate at most 1; rules /
locate() is printed too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from synthetic import make_filing

import pilotzone as pz


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per stage; the median is shown")
    args = parser.parse_args(argv)
    zones = pz.load_zones()
    filing = make_filing(args.rows)
    for crs in filing[
        "crs"
    ].unique():  # build every index (they are built lazily, per zone) before timing
        rows = (filing["crs"] == crs).to_numpy()
        pz.locate(
            filing["lon"].to_numpy()[rows], filing["lat"].to_numpy()[rows], crs=crs, zones=zones
        )
    stages = ("read", "convert", "locate", "locate()", "address", "rules", "verify")
    times: dict[str, list[float]] = {stage: [] for stage in stages}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "filing.csv"
        filing.to_csv(path, index=False)
        for _ in range(args.repeat):
            start = time.perf_counter()
            sites = pz.read_facilities(path)
            times["read"].append(time.perf_counter() - start)
    pz.verify(
        sites, zones=zones
    )  # load the divisions table once, as every later call finds it loaded
    spent = _time_calls_in_verify(("locate", "_place", "address_check"))
    for _ in range(args.repeat):
        start = time.perf_counter()
        for crs in sites["crs"].unique():
            rows = (sites["crs"] == crs).to_numpy()
            pz.to_wgs84(sites["lon"].to_numpy()[rows], sites["lat"].to_numpy()[rows], crs)
        times["convert"].append(time.perf_counter() - start)
        spent.clear()
        start = time.perf_counter()
        result = pz.verify(sites, zones=zones)
        total = time.perf_counter() - start
        times["locate"].append(spent["_place"])
        times["locate()"].append(spent["locate"])
        times["address"].append(spent["address_check"])
        times["verify"].append(total)
        times["rules"].append(total - spent["_place"] - spent["address_check"])
    median = {stage: statistics.median(values) for stage, values in times.items()}
    print(
        f"{args.rows:,} rows, {sites['operator_id'].nunique():,} operators; statuses "
        f"{result['status'].value_counts().to_dict()}; median of {args.repeat}"
    )
    print(f"{'stage':<10}{'seconds':>10}{'rows/s':>14}")
    for stage, seconds in median.items():
        print(f"{stage:<10}{seconds:>10.2f}{args.rows / seconds:>14,.0f}")
    for against, note in (
        ("locate", "goal: at most 1"),
        ("locate()", "the calls alone, for reference"),
    ):
        ratios = sorted(
            rules / base for rules, base in zip(times["rules"], times[against], strict=True)
        )
        print(
            f"rules / {against} = {statistics.median(ratios):.2f}  ({note}; per run: "
            f"{', '.join(f'{r:.2f}' for r in ratios)})"
        )
    return 0 if np.isfinite(median["verify"]) else 1


def _time_calls_in_verify(names: tuple[str, ...]) -> dict[str, float]:
    """Wrap the functions ``names`` as verify calls them.

    Their seconds accumulate in the dict returned.
    """
    module = sys.modules["pilotzone.verify"]  # the module, which pz.verify (the function) hides
    spent: dict[str, float] = defaultdict(float)
    for name in names:
        function = getattr(module, name)

        def timed(
            *args: Any, _function: Callable[..., Any] = function, _name: str = name, **kwargs: Any
        ) -> Any:
            start = time.perf_counter()
            try:
                return _function(*args, **kwargs)
            finally:
                spent[_name] += time.perf_counter() - start

        setattr(module, name, timed)
    return spent


if __name__ == "__main__":
    raise SystemExit(main())
