"""The fast lane: the hottest routes served straight from the app's ASGI entry point.

FastAPI's middleware stack (error, telemetry, body-limit, exception and exit-stack layers) and its
router cost tens of microseconds per request; the token grant and signal reads are answered
many thousands of times a second, so they skip it. A fast-lane handler is a plain Starlette
endpoint that does its own checks and writes errors in the documented shape itself; everything
else, lifespan included, goes through FastAPI as usual. Each fast path keeps a FastAPI
declaration so it stays documented in OpenAPI."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson

from fastapi import FastAPI
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

from ..errors import ServerError
from .common import tag_request

log = logging.getLogger("motorpool")


class AsgiEndpoint:
    """Marks a coroutine ``(scope, receive, send)`` as a raw ASGI endpoint for a Route (Starlette
    would otherwise call a plain function with a Request)."""

    def __init__(self, handler: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handler(scope, receive, send)


async def serve_fast(owner: FastAPI, route: Route, scope: Scope, receive: Receive, send: Send) -> None:
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


class PlatformApp(FastAPI):
    """FastAPI with a fast lane in front of everything it does per request."""

    fast_routes: list[Route]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in getattr(self, "fast_routes", ()):
                match, child = route.matches(scope)
                if match is Match.FULL:
                    await serve_fast(self, route, {**scope, **child}, receive, send)
                    return
        await super().__call__(scope, receive, send)
