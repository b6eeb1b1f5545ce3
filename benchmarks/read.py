"""Reading a filing: read_facilities against the standard readers of the same file, same run.

    python benchmarks/read.py                              # 1M-row CSV, 100k-row worksheet
    python benchmarks/read.py --csv-rows 100000 --excel-rows 0

CSV: ``pilotzone.read_facilities`` (decode, checks, every cell validated,
WGS-84 points) against ``pyarrow.csv.read_csv`` (text to typed columns, no
checks) on one synthetic filing (``synthetic.make_filing``). Excel: the
worksheet's values read by openpyxl in read-only mode (what pilotzone used
before #21) and by python-calamine (what it uses since), the two ways
pilotzone bounds a worksheet's XML before calamine builds it (byte searches
for a plainly written sheet, else an expat scan cell by cell; both unzip the
sheet), then read_facilities. Each
figure is the best of ``--repeat`` runs, wall and CPU seconds (CPU of every
thread: pyarrow reads on all cores, pilotzone converts coordinates on all
cores). The machine's load average is printed: other processes take cores.

``--floor`` adds the parts of reading that any reader returning read_facilities' table must
do, each timed alone on the same file: a shapely point per row (with the cyclic collector
paused, as read_facilities makes them; it holds the GIL, so threads do not share it), the
exact WGS-84 of the GCJ-02 and BD-09 rows, and the hashing of every facility id that the
duplicate check needs. Their sum against three times pyarrow's read says how near the
issue's target a reader can come on this machine.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import shapely
from synthetic import make_filing

import pilotzone as pz


def best(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """The best wall and CPU seconds of ``repeat`` runs, after one warm-up."""
    run()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def row(rows: int, what: str, seconds: tuple[float, float], base: tuple[float, float]) -> None:
    wall, cpu = seconds
    print(
        f"{rows:>10,}  {what:<34}{wall:>7.2f}{cpu:>7.2f}{rows / wall:>12,.0f}"
        f"{wall / base[0]:>8.1f}x{cpu / base[1]:>7.1f}x",
        flush=True,
    )


def openpyxl_values(path: Path) -> int:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def calamine_values(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    return len(CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python())


def floor(path: Path, rows: int, repeat: int, base: tuple[float, float]) -> None:
    """The parts every reader returning read_facilities' table must do, each timed alone."""
    table = pa_csv.read_csv(path)
    lon, lat = table["lon"].to_numpy(), table["lat"].to_numpy()
    systems = np.asarray(table["crs"].to_pylist())
    ids = table["facility_id"].cast("large_string")

    def wgs84() -> None:
        for system in ("gcj02", "bd09"):
            pz.to_wgs84(lon[systems == system], lat[systems == system], system)

    def points() -> None:
        enabled = gc.isenabled()
        gc.disable()
        try:
            shapely.points(lon, lat)
        finally:
            if enabled:
                gc.enable()

    parts = [
        ("  a shapely point per row", best(points, repeat)),
        ("  GCJ-02, BD-09 rows to WGS-84", best(wgs84, repeat)),
        ("  hashing the facility ids", best(lambda: pc.unique(ids), repeat)),
    ]
    for what, seconds in parts:
        row(rows, what, seconds, base)
    total = (base[0] + sum(wall for _, (wall, _) in parts), base[1] + sum(c for _, (_, c) in parts))
    row(rows, "  pyarrow's read + these, in turn", total, base)


def bounds_scans(path: Path) -> tuple[Callable[[], Any], Callable[[], Any]] | None:
    """pilotzone's two ways of bounding a worksheet before calamine builds it: byte searches
    (what a plainly written sheet takes) and the expat scan cell by cell (any other sheet);
    None before pilotzone read Excel through calamine."""
    import zipfile

    from pilotzone import _read_excel

    if not hasattr(_read_excel, "_plain_bounds"):
        return None
    archive = zipfile.ZipFile(path)
    strings = _read_excel._shared_strings(archive, _read_excel._entries(archive, ""), "")

    def plain() -> Any:
        xml = archive.read("xl/worksheets/sheet1.xml")
        assert _read_excel._plain_bounds(xml, strings) is not None

    def cells() -> Any:
        xml = archive.read("xl/worksheets/sheet1.xml")
        scan = _read_excel._SheetScan(strings, path.name, "Sheet1", 2**40)
        _read_excel._parse(xml, scan.start, scan.data, path.name, "sheet1.xml")

    return plain, cells


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--excel-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--floor", action="store_true", help="time the parts every reader does")
    args = parser.parse_args(argv)
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    print(f"{'rows':>10}  {'reader':<34}{'wall':>7}{'cpu':>7}{'rows/s':>12}{'wall':>9}{'cpu':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.csv_rows:
            path = Path(tmp) / "filing.csv"
            make_filing(args.csv_rows).to_csv(path, index=False)
            base = best(lambda: pa_csv.read_csv(path), args.repeat)
            row(args.csv_rows, "pyarrow.csv.read_csv", base, base)
            took = best(lambda: pz.read_facilities(path), args.repeat)
            row(args.csv_rows, "pilotzone.read_facilities", took, base)
            if args.floor:
                floor(path, args.csv_rows, args.repeat, base)
        if args.excel_rows:
            path = Path(tmp) / "filing.xlsx"
            make_filing(args.excel_rows).to_excel(path, index=False)
            base = best(lambda: openpyxl_values(path), args.repeat)
            row(args.excel_rows, "openpyxl read-only values", base, base)
            try:
                took = best(lambda: calamine_values(path), args.repeat)
                row(args.excel_rows, "python-calamine values", took, base)
            except ImportError:
                print("(python-calamine is not installed)")
            scans = bounds_scans(path)
            if scans is not None:
                took = best(scans[0], args.repeat)
                row(args.excel_rows, "pilotzone bounds: byte searches", took, base)
                took = best(scans[1], args.repeat)
                row(args.excel_rows, "pilotzone bounds: cell scan", took, base)
            took = best(lambda: pz.read_facilities(path), args.repeat)
            row(args.excel_rows, "pilotzone.read_facilities", took, base)
    print("ratios: against the first reader of each format (pyarrow; openpyxl)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
