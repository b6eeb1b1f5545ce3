"""Throughput of verify on a local Dask cluster of 1 and 2 workers, against in-memory verify.

    python benchmarks/scale.py                       # 20M rows in 40 files, 1M in memory
    python benchmarks/scale.py --rows 4000000 --memory-rows 500000
    python benchmarks/scale.py --rows 0              # only the in-memory comparison

A synthetic filing (``synthetic.make_filing``, one chunk per Parquet file, so
memory stays bounded while it is written) is verified end to end as
``pilotzone verify 'DIR/*.parquet' --workers N --out OUT`` does it: read and
validate every partition, resolve registrations across partitions, verify,
write partitioned results and summary.json. The first ``--memory-rows`` rows
(whole files) are also read, verified and written in memory (read_facilities +
verify of the concatenated files, then facilities.parquet, findings.parquet and the tallies
summary.json is built from, as ``pilotzone verify --out`` and verify_files both make them)
and on each cluster size, in the same process, so that the ratios compare like
with like: the per-worker ratio (one worker's rows/s against in memory) and the
speed-up from 1 to 2 workers. Clusters are started and warmed before the clock
starts. The machine's load average is printed: other processes take cores.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
from synthetic import make_filing

import pilotzone as pz
from pilotzone.parallel import verify_files
from pilotzone.report import tally


def write_files(folder: Path, rows: int, per_file: int) -> list[Path]:
    """``rows`` rows in files of ``per_file``; each file holds whole operators, named apart."""
    paths = []
    for i in range(math.ceil(rows / per_file)):
        chunk = make_filing(min(per_file, rows - i * per_file), seed=20240408 + i)
        chunk["operator_id"] = f"F{i}-" + chunk["operator_id"]
        chunk["facility_id"] = f"F{i}-" + chunk["facility_id"]
        paths.append(folder / f"part-{i:04d}.parquet")
        chunk.to_parquet(paths[-1], index=False)
    return paths


def in_memory(paths: list[Path], out: Path, zones: pd.DataFrame) -> float:
    """Seconds to read, verify and write ``paths`` in this process, as verify_files does."""
    start = time.perf_counter()
    filing = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    result = pz.verify(pz.read_facilities(filing), zones=zones)
    out.mkdir()
    result.to_parquet(out / "facilities.parquet")
    pz.findings(result).to_parquet(out / "findings.parquet")
    tally(result), pz.summarize(result)  # what summary.json is built from
    assert len(result) == len(filing)
    return time.perf_counter() - start


def on_dask(paths: list[Path], out: Path, workers: int, zones: pd.DataFrame) -> float:
    """Seconds verify_files takes on a running local cluster of ``workers`` single-threaded
    processes (started, and warmed with one small run, before the clock starts)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        address = client.scheduler.address
        verify_files(paths[0], out.with_name(out.name + "-warm"), scheduler=address, zones=zones)
        start = time.perf_counter()
        summary = verify_files(
            paths[0].parent / "part-*.parquet", out, scheduler=address, zones=zones
        )
        seconds = time.perf_counter() - start
    assert summary["rows"] == sum(pd.read_parquet(p, columns=["kind"]).shape[0] for p in paths)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--per-file", type=int, default=500_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    zones = pz.load_zones()
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}", flush=True)
    header = f"{'rows':>12}  {'engine':<16}{'seconds':>9}{'rows/s':>11}  ratio"
    with tempfile.TemporaryDirectory() as tmp:
        small_folder, big_folder = Path(tmp) / "small", Path(tmp) / "big"
        small_folder.mkdir()
        big_folder.mkdir()
        small = write_files(small_folder, args.memory_rows, args.per_file)
        print(header, flush=True)
        base = in_memory(small, Path(tmp) / "out-memory", zones)
        report(args.memory_rows, "in memory", base, base)
        seconds = {}
        for workers in args.workers:
            seconds[workers] = on_dask(small, Path(tmp) / f"out-small-{workers}", workers, zones)
            report(args.memory_rows, f"dask {workers} worker(s)", seconds[workers], base)
        print("ratio: in-memory seconds / these seconds (rows/s against in memory)")
        if 1 in seconds:
            print(f"per-worker throughput, 1 worker against in memory: {base / seconds[1]:.2f}x")
        for workers in args.workers:
            if workers > 1 and 1 in seconds:
                print(
                    f"speed-up 1 -> {workers} workers: {seconds[1] / seconds[workers]:.2f}x",
                    flush=True,
                )
        if args.rows:
            start = time.perf_counter()
            big = write_files(big_folder, args.rows, args.per_file)
            print(
                f"(wrote {args.rows:,} rows in {len(big)} files "
                f"in {time.perf_counter() - start:.0f} s)",
                flush=True,
            )
            first = None
            for workers in args.workers:
                took = on_dask(big, Path(tmp) / f"out-big-{workers}", workers, zones)
                first = first or took
                report(args.rows, f"dask {workers} worker(s)", took, first)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


def report(rows: int, engine: str, seconds: float, base: float) -> None:
    print(
        f"{rows:>12,}  {engine:<16}{seconds:>9.1f}{rows / seconds:>11,.0f}  {base / seconds:.2f}x",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
