"""The audit folder at scale: read, verify, every output file, peak memory, the map in a browser.

    python benchmarks/audit.py                       # 100,000 and 1,000,000 rows
    python benchmarks/audit.py --sizes 100000 --workdir /tmp/audit-bench

For each size, in one run, on the synthetic filing of ``benchmarks/synthetic.py``:

* read: :func:`pilotzone.read_facilities` against ``pyarrow.csv.read_csv`` on the
  same file, in this process, and their ratio;
* verify: :func:`pilotzone.verify` on the rows read, in this process;
* ``pilotzone verify FILE`` and ``pilotzone verify FILE --out DIR``, each in a
  child process of its own: wall time, peak resident memory (``ru_maxrss`` of
  that child, from :func:`os.wait4`) and their ratio;
* each output file of ``--out``: its size, and its write time, the time from the
  previous file written to this one (so the work that builds a file, such as the
  findings table or the map page, counts towards it; the first file also counts
  verify's end);
* map.html opened in headless chromium (``/usr/bin/chromium`` through
  Playwright, every http(s) request aborted): time to the ``load`` event and to
  the map's container, and the page errors and console errors and warnings.

Timings are single runs on whatever machine runs this: compare the ratios, which
are measured side by side, more than the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.csv as pv

import pilotzone as pz

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")


def child_out(filing: str, out: str, tables_only: bool = False) -> None:
    """In a child: ``pilotzone verify FILE --out DIR``, printing when each file was written.

    ``tables_only``: map.html and report.html are written empty, so that the
    figures are those of verify and the tables alone.
    """
    from pilotzone import report
    from pilotzone.cli import main

    if tables_only:
        report._map_page = lambda *args, **kwargs: ""  # type: ignore[attr-defined]
        report.report_html = lambda *args, **kwargs: ""  # type: ignore[assignment]

    marks: list[tuple[str, float]] = []
    write = report.OutputRun.write

    def timed(self: Any, name: str, content: Any) -> Path:
        path = write(self, name, content)
        marks.append((name, time.perf_counter()))
        return path

    report.OutputRun.write = timed  # type: ignore[method-assign]
    start = time.perf_counter()
    code = main(["verify", filing, "--out", out])
    times, previous = {}, start
    for name, at in marks:
        times[name] = at - previous
        previous = at
    print(json.dumps({"code": code, "times": times, "total": time.perf_counter() - start}))


def run_child(argv: list[str]) -> tuple[float, float, str]:
    """Run a child process: its wall seconds, its peak resident memory in MB, its stdout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent / "src"), str(HERE)])}
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert child.stdout is not None
    output = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):
        raise RuntimeError(f"{argv} exited {child.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024, output


def open_map(path: Path) -> dict[str, Any]:
    """Load time and errors of a saved map in headless chromium, network cut off."""
    if not CHROMIUM.exists():
        return {"skipped": "no /usr/bin/chromium"}
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    aborted: list[str] = []

    def route(request: Any) -> None:
        if request.request.url.startswith(("file:", "data:", "about:", "blob:")):
            request.continue_()
        else:
            aborted.append(request.request.url)
            request.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.set_default_timeout(600_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda m: (
                errors.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.route("**/*", route)
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        loaded = time.perf_counter() - start
        page.wait_for_selector(".leaflet-container")
        shown = time.perf_counter() - start
        browser.close()
    return {"load_s": loaded, "shown_s": shown, "errors": errors, "aborted": aborted}


def measure(rows: int, workdir: Path, tables_only: bool = False) -> dict[str, Any]:
    """Every figure of one size."""
    from synthetic import make_filing

    filing = workdir / f"filing-{rows}.csv"
    if not filing.exists():
        make_filing(rows).to_csv(filing, index=False)
    figures: dict[str, Any] = {"rows": rows, "filing_mb": filing.stat().st_size / 1e6}
    start = time.perf_counter()
    pv.read_csv(filing)
    figures["pyarrow_read_s"] = time.perf_counter() - start
    start = time.perf_counter()
    sites = pz.read_facilities(filing)
    figures["read_s"] = time.perf_counter() - start
    start = time.perf_counter()
    pz.verify(sites)
    figures["verify_s"] = time.perf_counter() - start
    del sites
    wall, rss, _ = run_child(["-m", "pilotzone", "verify", str(filing)])
    figures["cli_verify_s"], figures["cli_verify_mb"] = wall, rss
    out = workdir / f"out-{rows}"
    script = f"import audit; audit.child_out({str(filing)!r}, {str(out)!r}, {tables_only})"
    wall, rss, output = run_child(["-c", script])
    child = json.loads(output.strip().splitlines()[-1])
    figures["cli_out_s"], figures["cli_out_mb"] = wall, rss
    figures["files"] = {
        name: {"s": seconds, "mb": (out / name).stat().st_size / 1e6}
        for name, seconds in child["times"].items()
    }
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    figures["skipped"] = [entry["file"] for entry in summary.get("skipped", [])]
    figures["map"] = {"skipped": "--tables-only"} if tables_only else open_map(out / "map.html")
    return figures


def machine() -> str:
    import numpy
    import pandas
    import pyarrow

    return (
        f"{platform.machine()}, {os.cpu_count()} cpu, python {platform.python_version()}, "
        f"numpy {numpy.__version__}, pandas {pandas.__version__}, pyarrow {pyarrow.__version__}, "
        f"pilotzone {pz.__version__}"
    )


def show(all_figures: list[dict[str, Any]]) -> None:
    """The tables."""
    print(f"machine: {machine()}")
    print(
        f"{'rows':>10} {'CSV MB':>7} {'pa.read':>8} {'read':>7} {'read/pa':>8} {'verify':>7} "
        f"{'cli':>7} {'cli MB':>7} {'--out':>7} {'--out MB':>9} {'--out/cli':>9}"
    )
    for f in all_figures:
        print(
            f"{f['rows']:>10,} {f['filing_mb']:>7.1f} {f['pyarrow_read_s']:>7.2f}s "
            f"{f['read_s']:>6.2f}s {f['read_s'] / f['pyarrow_read_s']:>7.1f}x "
            f"{f['verify_s']:>6.2f}s "
            f"{f['cli_verify_s']:>6.1f}s {f['cli_verify_mb']:>7,.0f} {f['cli_out_s']:>6.1f}s "
            f"{f['cli_out_mb']:>9,.0f} {f['cli_out_s'] / f['cli_verify_s']:>8.1f}x"
        )
    print()
    print(f"{'rows':>10} {'file':<20} {'write s':>8} {'MB':>9}")
    for f in all_figures:
        for name, entry in f["files"].items():
            print(f"{f['rows']:>10,} {name:<20} {entry['s']:>8.2f} {entry['mb']:>9.2f}")
        for name in f["skipped"]:
            print(f"{f['rows']:>10,} {name:<20} {'skipped (row limit; see summary.json)':>18}")
    print()
    for f in all_figures:
        m = f["map"]
        if "skipped" in m:
            print(f"{f['rows']:>10,} map.html: not opened ({m['skipped']})")
            continue
        print(
            f"{f['rows']:>10,} map.html in chromium: load {m['load_s']:.2f} s, "
            f"map shown {m['shown_s']:.2f} s, {len(m['errors'])} errors, "
            f"{len(m['aborted'])} network requests aborted"
        )
        for error in m["errors"][:5]:
            print(f"{'':>12}{error[:160]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, help="keep the filings and folders here")
    parser.add_argument(
        "--tables-only",
        action="store_true",
        help="write map.html and report.html empty: time and memory of verify and the tables",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pilotzone-audit-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        show([measure(rows, workdir, args.tables_only) for rows in args.sizes])
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
