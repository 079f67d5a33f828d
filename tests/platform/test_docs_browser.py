"""The platform's pages for people in Chromium with every request outside loopback blocked: the
landing page, Swagger UI at /docs and ReDoc at /redoc render from packaged assets."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from motorpool.testing import MotorpoolPlatform

from ..support.browser import MARKS, new_tab

pytestmark = MARKS
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def mp() -> Iterator[MotorpoolPlatform]:
    with MotorpoolPlatform() as platform:
        yield platform


@pytest.fixture
def offline(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A tab whose requests off loopback are aborted, and the list of those it tried."""
    blocked: list[str] = []
    with new_tab(browser, 1280, 900) as page:

        def route(route: Route) -> None:
            if urlsplit(route.request.url).hostname in LOOPBACK:
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        page.route("**/*", route)
        yield page, blocked


def test_swagger_ui_renders_offline(mp: MotorpoolPlatform, offline: tuple[Page, list[str]]) -> None:
    page, blocked = offline
    page.goto(mp.url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("motorpool", timeout=20_000)
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    expect(page.get_by_text("/v3/vehicles/{vehicle_id}/signals", exact=True).first).to_be_attached()
    assert blocked == []


def test_redoc_renders_offline(mp: MotorpoolPlatform, offline: tuple[Page, list[str]]) -> None:
    page, blocked = offline
    page.goto(mp.url + "/redoc")
    expect(page.locator("h1").first).to_contain_text("motorpool", timeout=20_000)
    expect(page.get_by_text("Vehicle API v2.0").first).to_be_attached()
    assert blocked == []


def test_the_landing_page_links_to_the_docs_and_to_connect(
    mp: MotorpoolPlatform, offline: tuple[Page, list[str]]
) -> None:
    page, blocked = offline
    page.goto(mp.url + "/")
    expect(page.locator("h1")).to_have_text("motorpool")
    expect(page.get_by_text(mp.client_id)).to_be_visible()
    assert mp.client_secret not in page.content()
    page.get_by_role("link", name="Connect in test mode").first.click()
    # Connect's first page, not an error page.
    expect(page.locator("body")).not_to_contain_text("refused")
    assert urlsplit(page.url).path.startswith("/oauth/")
    page.goto(mp.url + "/")
    page.get_by_role("link", name="Interactive API reference").click()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("motorpool", timeout=20_000)
    assert blocked == []
