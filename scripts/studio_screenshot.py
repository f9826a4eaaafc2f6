#!/usr/bin/env python3
"""Regenerates docs/studio.png, the studio screenshot in README.md, in headless Chromium.

Starts `ivrc studio examples` on a free loopback port, calls the support flow on a Tuesday
morning (the office is open), presses 2, opens the main menu's state, and saves the page at
1280x800. Needs Debian's chromium (`make browser`) and Playwright (`.[test]`):

    .venv/bin/python scripts/studio_screenshot.py            # writes docs/studio.png
    .venv/bin/python scripts/studio_screenshot.py -o out.png
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(REPO / "docs" / "studio.png"))
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    studio = subprocess.Popen([sys.executable, "-m", "ivrc", "studio", "examples"], cwd=REPO, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        banner = studio.stdout.readline()
        url = re.search(r"http://\S+/", banner)
        if url is None:
            print(f"studio_screenshot: ivrc studio did not start: {banner}", file=sys.stderr)
            return 2
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/*", lambda r: r.continue_() if "127.0.0.1" in r.request.url else r.abort())
            page.goto(url.group(0) + "?flow=support")
            page.wait_for_selector("body[data-ready=true]")
            page.uncheck("#speak")
            page.fill("#now", "2026-03-03T10:00")
            page.click("#dial")
            expect(page.locator("#transcript li.hear").first).to_be_visible()
            page.click("#keypad button[data-key='2']")
            expect(page.locator("#transcript li.transfer")).to_be_visible()
            page.click(".node[data-state=main_menu]")
            expect(page.locator("#state-svaml")).to_contain_text("runMenu")
            page.screenshot(path=args.output)
            browser.close()
    finally:
        studio.terminate()
        studio.wait(timeout=10)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
