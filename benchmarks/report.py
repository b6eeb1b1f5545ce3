"""report.html at scale (issue #21): its size and build time against the rows.

    PYTHONPATH=src python benchmarks/report.py               # 100k and 1M rows
    PYTHONPATH=src python benchmarks/report.py 50000 --pdf   # and print it to A4 in chromium

For each size: the synthetic filing (benchmarks/synthetic.py: 50 facilities per
operator around the four pilot cities) is read and verified, then report.html
is built (the map linked, as it is above ``MAX_EMBEDDED_MAP_CHARS``) and its
size taken. The standard tool beside it, in the same process: pandas'
``DataFrame.to_html`` of every finding, which is what a report listing every
finding would weigh at least. ``--pdf`` prints the page in Debian's headless
chromium (``/usr/bin/chromium``, every http request aborted) and counts the A4
pages. Times are wall-clock seconds of one run (the build is done once).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

from synthetic import make_filing

import pilotzone as pz
from pilotzone import report
from pilotzone._messages import REPORT
from pilotzone._report_html import report_html
from pilotzone._report_svg import overview


def _pdf_pages(path: Path) -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
        )
        page = browser.new_page()
        page.route("http*://**", lambda route: route.abort())
        page.goto(path.as_uri())
        pdf = page.pdf(format="A4", prefer_css_page_size=True)
        browser.close()
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--pdf", action="store_true", help="print to A4 PDF and count the pages")
    args = parser.parse_args(argv)
    zones = pz.load_zones(as_of="2025-01-01")
    print(
        "| rows | findings | verify s | overview s | report.html s | report.html MB "
        "| to_html(all findings) s | to_html MB | size ratio | A4 pages |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            path = Path(folder) / f"{rows}.csv"
            make_filing(rows).to_csv(path, index=False)
            facilities = pz.read_facilities(path)
            start = time.perf_counter()
            result = pz.verify(facilities, zones=zones)
            verify_s = time.perf_counter() - start
            table = pz.findings(result)
            summary = report.build_summary(
                report.tally(result),
                pz.summarize(result),
                zones,
                generated_at="2025-01-01T00:00:00Z",
                source={"file": path.name, "sha256": None},
                as_of="2025-01-01",
                renamed={},
            )
            start = time.perf_counter()
            overview(result, zones)
            overview_s = time.perf_counter() - start
            start = time.perf_counter()
            page = report_html(
                result,
                table,
                summary,
                zones,
                "x" * (report.MAX_EMBEDDED_MAP_CHARS + 1),
                "en",
                text=REPORT["en"],
                max_findings=report.MAX_FINDINGS_LISTED,
                max_findings_per_operator=report.MAX_FINDINGS_PER_OPERATOR,
                max_operators=report.MAX_OPERATORS_LISTED,
                max_map_chars=report.MAX_EMBEDDED_MAP_CHARS,
            )
            report_s = time.perf_counter() - start
            size = len(page.encode("utf-8"))
            start = time.perf_counter()
            everything = table.to_html()
            pandas_s = time.perf_counter() - start
            pandas_size = len(everything.encode("utf-8"))
            pages = "-"
            if args.pdf:
                html_path = Path(folder) / "report.html"
                html_path.write_text(page, encoding="utf-8")
                pages = str(_pdf_pages(html_path))
            print(
                f"| {rows:,} | {len(table):,} | {verify_s:.2f} | {overview_s:.2f} | {report_s:.2f} "
                f"| {size / 1e6:.2f} | {pandas_s:.2f} | {pandas_size / 1e6:.1f} "
                f"| {size / pandas_size:.3f} | {pages} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
