"""The demo in-process against the real platform in-process.

The demo's SDK clients reach the platform through ``httpx.ASGITransport``; a test "browser" is
an ``httpx.AsyncClient`` that routes each host to its app and keeps cookies per host, as a real
browser would for the platform's origin and the demo's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from motorpool.demo.app import create_app
from motorpool.demo.settings import DemoSettings

from ..support.connect_pages import go_through_connect
from ..support.harness import PlatformHarness

DEMO_ORIGIN = "http://localhost:8000"
#: The headers of a request that asks the demo for JSON rather than a page.
JSON = {"accept": "application/json"}
Responder = Callable[[httpx.Request], httpx.Response | None]


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests on to ``inner``, remembering each one; ``intercept`` may answer instead."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.intercept: Responder | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.intercept is not None:
            answer = self.intercept(request)
            if answer is not None:
                return answer
        return await self.inner.handle_async_request(request)

    def token_grants(self) -> list[str]:
        """The ``grant_type`` of every request made to the token endpoint."""
        grants = []
        for request in self.requests:
            if request.url.path == "/oauth2/token":
                grants.append(parse_qs(request.content.decode())["grant_type"][0])
        return grants


class HostRouter(httpx.AsyncBaseTransport):
    """Sends each request to the app serving its host, like DNS and two servers would."""

    def __init__(self, routes: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.routes = routes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.routes.get(request.url.netloc.decode())
        assert transport is not None, f"no server at {request.url}"
        return await transport.handle_async_request(request)


@dataclass
class Demo:
    """A running demo app wired to the platform, and a way to open browsers on it."""

    app: FastAPI
    settings: DemoSettings
    platform: PlatformHarness
    sdk_transport: RecordingTransport
    _routes: dict[str, httpx.AsyncBaseTransport]
    _stack: AsyncExitStack
    browsers: list[httpx.AsyncClient] = field(default_factory=list)

    async def browser(self) -> httpx.AsyncClient:
        """A new browser (its own cookies) that follows redirects between the two servers."""
        client = httpx.AsyncClient(
            transport=HostRouter(self._routes), base_url=DEMO_ORIGIN, follow_redirects=True
        )
        await self._stack.enter_async_context(client)
        return client

    async def sign_in(
        self, browser: httpx.AsyncClient, email: str = "owner@example.com", password: str = "pw"
    ) -> httpx.Response:
        """``/login`` → Connect → ``/exchange`` → the page it ends on."""
        first_page = await browser.get("/login")
        return await go_through_connect(browser, first_page, email=email, password=password)

    async def admin_vehicles(self) -> dict[str, dict[str, Any]]:
        """The development application's simulated fleet, by vehicle id (from the admin API)."""
        fleet = await self.platform.admin(
            "GET", f"/admin/applications/{self.platform.application_id}/vehicles"
        )
        return {vehicle["id"]: vehicle for vehicle in fleet}


def login_state(response: httpx.Response) -> str:
    """The ``state`` of the Connect URL a ``/login`` answer redirects to."""
    location = response.headers["location"]
    return parse_qs(urlsplit(location).query)["state"][0]


@pytest.fixture
def demo_settings(sqlite_platform: PlatformHarness, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Settings for the demo; a test may change them before asking for ``demo``."""
    yield {
        "client_id": sqlite_platform.client_id,
        "client_secret": sqlite_platform.client_secret,
        "redirect_uri": sqlite_platform.redirect_uri,
        "base_url": sqlite_platform.base_url,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        "mode": "simulated",
    }


@pytest.fixture
async def demo(
    sqlite_platform: PlatformHarness, demo_settings: dict[str, Any]
) -> AsyncIterator[Demo]:
    settings = DemoSettings(**demo_settings)
    sdk_transport = RecordingTransport(httpx.ASGITransport(app=sqlite_platform.app))
    app = create_app(settings, transport=sdk_transport)
    platform_host = urlsplit(sqlite_platform.base_url).netloc
    routes: dict[str, httpx.AsyncBaseTransport] = {
        platform_host: httpx.ASGITransport(app=sqlite_platform.app),
        urlsplit(DEMO_ORIGIN).netloc: httpx.ASGITransport(app=app),
    }
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        yield Demo(app, settings, sqlite_platform, sdk_transport, routes, stack)
