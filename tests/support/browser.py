"""What every browser test shares: Debian's Chromium, launched by Playwright, and the marks.

A browser test without Chromium skips with its reason, or fails under ``CI=true`` (the
``chromium`` fixture of ``tests/conftest.py``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MARKS = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def new_tab(browser: Browser, width: int, height: int) -> Iterator[Page]:
    """A tab in a context of its own (its own cookies), closed afterwards."""
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, folder: Path, name: str) -> None:
    """The whole page as ``folder/name.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


class _Landing(BaseHTTPRequestHandler):
    """An application's redirect URI: a blank page, whatever the query."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>callback</title><p>Back at the application.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def served_callback() -> Iterator[str]:
    """A redirect URI served on loopback, ``http://127.0.0.1:<port>/callback``, for a browser
    to land on at the end of Connect as an SDK's end-to-end script waits for it to."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Landing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
