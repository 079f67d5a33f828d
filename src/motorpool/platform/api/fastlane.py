"""The platform's ASGI entry point: the lifespan, the fast lane, and FastAPI behind them.

The fast lane: FastAPI's middleware stack (error, telemetry, body-limit, exception and exit-stack
layers) and its router cost tens of microseconds per request; the token grant and signal reads
are answered many thousands of times a second, so they skip it. A fast-lane handler is a plain
Starlette endpoint that does its own checks and writes errors in the documented shape itself;
everything else goes through FastAPI as usual. Each fast path keeps a FastAPI declaration so it
stays documented in OpenAPI.

Start-up pays only for what the first answers need. FastAPI itself (a tenth of a second to
import) is built by the first request the fast lane does not answer, and the routes come in lazy
groups: importing a group (its pydantic models, Jinja2, the rules behind it) is a large share of
the start-up time, and a run may never call some groups, so each is installed on first use — the
first request under one of its path prefixes, or the OpenAPI document."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from starlette._utils import get_route_path  # the path the router matches (FastAPI uses it too)
from starlette.applications import Starlette
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ServerError
from .common import tag_request

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

log = logging.getLogger("motorpool")


class AsgiEndpoint:
    """Marks a coroutine ``(scope, receive, send)`` as a raw ASGI endpoint for a Route (Starlette
    would otherwise call a plain function with a Request)."""

    def __init__(self, handler: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handler(scope, receive, send)


async def serve_fast(owner: Starlette, route: Route, scope: Scope, receive: Receive, send: Send) -> None:
    """Run a fast-lane endpoint with a request id and a last-resort error answer."""
    scope["app"] = owner
    started = False

    async def noting_start(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    request_id, send_with_id = tag_request(scope, noting_start)

    try:
        await route.handle(scope, receive, send_with_id)
    except Exception:
        log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
        if started:
            raise
        payload = orjson.dumps(ServerError("An unexpected error occurred on the server.").body(request_id))
        await send_with_id(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send_with_id({"type": "http.response.body", "body": payload})


@dataclass(frozen=True)
class LazyRoutes:
    """A group of routes installed on first use. ``prefixes`` must cover every path its routes
    answer (a test checks it): a request under none of them does not install the group."""

    prefixes: tuple[str, ...]
    install: Callable[[PlatformApp], None]


class PlatformApp(Starlette):
    """The lifespan and the fast lane, in front of FastAPI (``api``), which is built on first use
    and given the lazy groups of routes as requests need them. Both apps share one ``state``;
    routers and mounts go to FastAPI, fast routes to ``fast_routes``. (Its own router and
    middleware serve only the lifespan.)"""

    def __init__(
        self,
        build_api: Callable[[PlatformApp], FastAPI],
        lifespan: Callable[[PlatformApp], AbstractAsyncContextManager[None]],
    ) -> None:
        super().__init__(lifespan=lifespan)
        self.fast_routes: list[Route] = []
        self.lazy_routes: list[LazyRoutes] = []
        self._build_api = build_api
        self._api: FastAPI | None = None

    @property
    def api(self) -> FastAPI:
        """The FastAPI app behind the fast lane: every route it does not answer."""
        if self._api is None:
            self._api = self._build_api(self)
        return self._api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # the lifespan
            return
        found = self._fast_route(scope)
        if found is None and self.lazy_routes and self.install_lazy_routes(get_route_path(scope)):
            found = self._fast_route(scope)  # a group just installed may bring fast routes
        if found is not None:
            route, child = found
            await serve_fast(self, route, {**scope, **child}, receive, send)
            return
        await self.api(scope, receive, send)

    def include_router(self, router: APIRouter, **options: Any) -> None:
        self.api.include_router(router, **options)

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        self.api.mount(path, app, name=name)

    def _fast_route(self, scope: Scope) -> tuple[Route, Scope] | None:
        for route in self.fast_routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return route, child
        return None

    def install_lazy_routes(self, path: str | None = None) -> bool:
        """Install the lazy groups whose prefixes ``path`` starts with (every group without a
        path); True when one was installed.

        Synchronous on purpose: concurrent first requests cannot see a group half-installed."""
        installed = False
        for group in list(self.lazy_routes):
            if path is None or path.startswith(group.prefixes):
                group.install(self)
                self.lazy_routes.remove(group)
                installed = True
        return installed

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of every route, as ``/openapi.json`` answers it."""
        return self.api.openapi()
