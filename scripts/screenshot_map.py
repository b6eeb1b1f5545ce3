"""Write ``docs/map.png``, the README's picture of the demo's audit map.

    python scripts/screenshot_map.py [--chromium /usr/bin/chromium] [--out docs/map.png]

Runs ``pilotzone demo`` into a temporary folder, opens its ``map.html`` in
headless Chromium with every network request refused (the map is offline),
waits until the facilities are drawn and saves a screenshot, so the picture is
what the code produces today. Needs Playwright and a Chromium (Debian's
``chromium`` package); not part of the test suite.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from pilotzone.cli import main as pilotzone

REPO = Path(__file__).resolve().parents[1]
#: Resolves once every pilotzone drawing on the page has drawn its facilities.
DRAWN = """async () => {
    const map = window[Object.keys(window).find((k) => k.startsWith("map_"))];
    await Promise.all(map.pilotzoneLoaded || []);
}"""


def screenshot(chromium: Path, out: Path, width: int = 1200, height: int = 700) -> None:
    """Run the demo and save its map, as a browser shows it, to ``out``."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        pilotzone(["demo", "--out", folder])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium))
            page = browser.new_page(viewport={"width": width, "height": height})
            page.route("http*://**", lambda route: route.abort())
            page.goto((Path(folder) / "map.html").as_uri())
            page.evaluate(DRAWN)
            page.wait_for_timeout(500)  # let the last tiles of canvas settle
            page.screenshot(path=str(out))
            browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", type=Path, default=Path("/usr/bin/chromium"))
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "map.png")
    args = parser.parse_args()
    screenshot(args.chromium, args.out)
    print(f"wrote {args.out}")
