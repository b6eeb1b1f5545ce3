"""Size and load time of the verification map of a large synthetic filing, in headless chromium.

    python benchmarks/map.py                    # 100k and 1M rows
    python benchmarks/map.py --rows 20000

For each size: verify the synthetic filing, build the map (``pz.explore``) and
save it (``pz.save_map``), then open it from disk in Debian's chromium
(Playwright, every http(s) request aborted) and time until every facility is
drawn (the canvas layer's table decoded and painted once), with the seconds the
page's main thread was busy meanwhile (Chrome's TaskDuration metric, which
waiting for a shared CPU does not count). Prints a table of
rows, the file's size in MB and bytes per row, the build and save times, the
load time, and the errors, dialogs and network requests the page made.
Build and save times are wall clock with this process's CPU seconds beside
them (the machine may be shared; CPU time is disturbed much less). Nothing is
asserted: these are measurements.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from synthetic import make_filing

import pilotzone as pz

CHROMIUM = "/usr/bin/chromium"
# Resolves once every pilotzone drawing on the page has drawn its facilities.
_DRAWN = """async () => {
    const map = window[Object.keys(window).find((k) => k.startsWith("map_"))];
    await Promise.all(map.pilotzoneLoaded || []);
    return (map.pilotzonePoints || []).reduce((n, layer) => n + layer.count().points, 0);
}"""


def _open(browser: Any, path: Path) -> dict[str, Any]:
    """Open ``path`` offline; the time until the facilities are drawn, and what went wrong."""
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.set_default_timeout(120_000)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda dialog: (problems.append(dialog.message), dialog.dismiss()))

    def route(r: Any) -> None:
        if r.request.url.startswith(("file:", "data:", "about:")):
            r.continue_()
        else:
            problems.append(f"network: {r.request.url}")
            r.abort()

    page.route("**/*", route)
    session = page.context.new_cdp_session(page)
    session.send("Performance.enable")
    start = time.perf_counter()
    page.goto(path.as_uri())
    drawn = page.evaluate(_DRAWN)
    seconds = time.perf_counter() - start
    metrics = {m["name"]: m["value"] for m in session.send("Performance.getMetrics")["metrics"]}
    page.close()
    return {"seconds": seconds, "busy": metrics["TaskDuration"], "drawn": drawn,
            "problems": problems}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    print("| rows | map.html MB | bytes/row | explore s (CPU) | save s (CPU) | load s (busy) "
          "| drawn | problems |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        for rows in args.rows:
            csv = Path(folder) / f"filing-{rows}.csv"
            make_filing(rows).to_csv(csv, index=False)
            result = pz.verify(pz.read_facilities(csv))
            start, cpu = time.perf_counter(), time.process_time()
            m = pz.explore(result)
            built, built_cpu = time.perf_counter() - start, time.process_time() - cpu
            start, cpu = time.perf_counter(), time.process_time()
            path = pz.save_map(m, Path(folder) / f"map-{rows}.html")
            saved, saved_cpu = time.perf_counter() - start, time.process_time() - cpu
            size = path.stat().st_size
            opened = _open(browser, path)
            print(
                f"| {rows:,} | {size / 1e6:.1f} | {size / rows:.1f} "
                f"| {built:.1f} ({built_cpu:.1f}) | {saved:.1f} ({saved_cpu:.1f}) "
                f"| {opened['seconds']:.1f} ({opened['busy']:.1f}) | {opened['drawn']:,} | "
                f"{'; '.join(opened['problems'][:3]) or 'none'} |",
                flush=True,
            )
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
