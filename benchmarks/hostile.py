"""Hostile filings at full size: is each refused or checked within 10 s and 1 GB?

    python benchmarks/hostile.py
    python benchmarks/hostile.py --timeout 120 --keep /tmp/hostile

Builds in a temporary folder the attacks of issue #17 that cost far more than
their size:

* parquet-bomb: a Parquet file whose ``name`` is one 1 MiB dictionary string
  used by 6,000 rows (6 GB once decoded);
* xlsx-bomb: a workbook whose ``name`` cells all refer to one 1 MiB shared
  string (6,000 rows);
* proj-3000: a CSV of 3,000 rows, each with its own PROJ string in ``crs``;
* epsg-2000: a CSV of 2,000 rows, each with its own valid EPSG code;
* endless-view: a GeoPackage whose layer ``endless`` is a recursive SQL view
  without end, read with ``--sheet endless``;

then runs ``python -m pilotzone verify FILE`` on each in a fresh child
process, killed after ``--timeout`` seconds, and prints its exit status, wall
time and peak memory (the child's maximum resident set, from ``os.wait4``).
A case is OK when the child refused the file or finished (exit 0, 1 or 2)
within 10 s and 1 GB. Each child's address space is capped (``--cap``), so
an attack that is not defended fails with MemoryError instead of taking the
machine down.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hostile_files import (
    parquet_dictionary_bomb,
    view_geopackage,
    xlsx_shared_strings_bomb,
)

MAX_SECONDS = 10.0
MAX_BYTES = 2**30
MIB = 2**20


def proj_strings_csv(path: Path, rows: int = 3000) -> Path:
    """A CSV whose every row has its own PROJ string.

    Each is a transverse Mercator, its false easting varied.
    """
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["operator_id", "kind", "lon", "lat", "crs"])
        for i in range(rows):
            crs = (
                f"+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0={500000 + i} +y_0=0 "
                "+ellps=GRS80 +units=m +no_defs"
            )
            writer.writerow([f"OP{i}", "idc", 651000 + i, 3457000, crs])
    return path


def epsg_codes_csv(path: Path, rows: int = 2000) -> Path:
    """A CSV whose every row has its own valid EPSG code, geographic or projected."""
    from pyproj.database import query_crs_info

    codes = [
        info.code
        for info in query_crs_info(
            auth_name="EPSG", pj_types=["GEOGRAPHIC_2D_CRS", "PROJECTED_CRS"]
        )
        if not info.deprecated
    ][:rows]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["operator_id", "kind", "lon", "lat", "crs"])
        for i, code in enumerate(codes):
            writer.writerow([f"OP{i}", "idc", 121.5, 31.2, f"EPSG:{code}"])
    return path


CASES: dict[str, tuple[str, Callable[[Path], Path], list[str]]] = {
    "parquet-bomb": (
        "bomb.parquet",
        lambda p: parquet_dictionary_bomb(p, length=MIB, uses=6000),
        [],
    ),
    "xlsx-bomb": ("bomb.xlsx", lambda p: xlsx_shared_strings_bomb(p, length=MIB, uses=6000), []),
    "proj-3000": ("proj.csv", proj_strings_csv, []),
    "epsg-2000": ("epsg.csv", epsg_codes_csv, []),
    "endless-view": ("view.gpkg", lambda p: view_geopackage(p, rows=None), ["--sheet", "endless"]),
}


def run(command: list[str], timeout: float, cap: int) -> tuple[int | str, float, int]:
    """Exit status (or "timeout"), wall seconds and peak resident bytes of one child."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    start = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limit
    )
    assert child.stderr is not None
    os.set_blocking(child.stderr.fileno(), False)
    timed_out = False
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > timeout:
            child.send_signal(signal.SIGKILL)
            pid, status, usage = os.wait4(child.pid, 0)
            timed_out = True
            break
        child.stderr.read()  # drain, so a chatty child never blocks on a full pipe
        time.sleep(0.05)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
    code: int | str = "timeout" if timed_out else child.returncode
    return code, wall, usage.ru_maxrss * 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds before a child is killed"
    )
    parser.add_argument(
        "--cap", type=int, default=8 * 2**30, help="address space of a child, bytes"
    )
    parser.add_argument("--keep", type=Path, help="build the files here and keep them")
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"some of {', '.join(CASES)}")
    args = parser.parse_args()
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown cases {unknown}; choose from {list(CASES)}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"{'case':<14}{'file':>12}{'exit':>9}{'wall s':>9}{'peak MB':>9}  verdict")
        failed = 0
        for case in args.cases or CASES:
            file_name, build, options = CASES[case]
            path = build(folder / file_name)
            command = [sys.executable, "-m", "pilotzone", "verify", str(path), *options]
            code, wall, peak = run(command, args.timeout, args.cap)
            ok = code in (0, 1, 2) and wall <= MAX_SECONDS and peak <= MAX_BYTES
            failed += not ok
            size = path.stat().st_size
            print(
                f"{case:<14}{size:>12,}{code!s:>9}{wall:>9.1f}{peak / 2**20:>9.0f}  "
                f"{'OK' if ok else 'FAIL'}",
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
