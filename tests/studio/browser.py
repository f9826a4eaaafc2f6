"""A real `ivrc studio` process and headless Chromium (Debian's package, driven by Playwright) for the browser tests."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
# Nothing but the studio on loopback: no GPU, no updates, no sync, no QUIC, no background traffic.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}


def launch(playwright):
    """Debian's chromium; a machine without it fails here, loudly (`make browser` installs it)."""
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is missing: the studio's browser tests need Debian's chromium package "
                           "(`make browser`, or apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class Studio:
    """`ivrc studio PATH` running in its own process, as a user starts it."""

    process: subprocess.Popen
    url: str
    banner: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_studio(*paths: Path, extra: tuple[str, ...] = (), env: dict[str, str] | None = None) -> Studio:
    """Starts the studio on a free port and reads the address it prints."""
    env = {**(env or os.environ), "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    process = subprocess.Popen([sys.executable, "-m", "ivrc", "studio", *map(str, paths), *extra],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env)
    banner = process.stdout.readline()  # blocks until the banner, or returns "" if the process died
    found = re.search(r"http://127\.0\.0\.1:\d+/", banner)
    if found is None:
        rest = process.communicate(timeout=10)[0] if process.poll() is not None else ""
        process.kill()
        raise RuntimeError(f"ivrc studio did not start: {banner}{rest}")
    return Studio(process, found.group(0), banner)


@dataclass
class Outside:
    """Requests the page tried to make to anywhere but the studio (blocked: nothing is fetched at run time)."""

    urls: list[str] = field(default_factory=list)


def open_page(browser, studio: Studio, query: str = ""):
    """A 1280x800 page on the studio; any request off loopback is refused and recorded."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(20_000)  # a cap on each wait, not a delay
    page = context.new_page()
    outside = Outside()
    errors: list[str] = []

    def route(r):
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith("data:") or host == "127.0.0.1":
            r.continue_()
        else:
            outside.urls.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(studio.url + query)
    page.wait_for_selector("body[data-ready=true]")
    page.outside = outside
    page.errors = errors
    return page
