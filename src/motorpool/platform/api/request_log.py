"""The request log's HTTP side: a pure ASGI middleware that times the logged requests (the
Vehicle, Management and token APIs), keeps a failure's body, and hands what it saw to the
:class:`~..services.request_log.RequestLog` (FastAPI-free: it wraps the hot routes too; the
admin API's read of the log is in :mod:`.admin_requests`)."""

from __future__ import annotations

import time

from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..services.request_log import BODY_LIMIT, TOKEN_PATHS, RequestLog, Seen, logged
from .common import REQUEST_ID


def request_log_of(state: State) -> RequestLog | None:
    """The process's request log, made with the platform (None before the platform started)."""
    found: RequestLog | None = getattr(state, "request_log", None)
    if found is None:
        platform = getattr(state, "platform", None)
        if platform is None:
            return None
        found = state.request_log = RequestLog(
            platform.settings.request_log_size, platform.tokens, platform.clients, platform.sessions
        )
    return found


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not logged(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        at_ms = int(time.time() * 1000)
        status = 500
        error = bytearray()
        body = bytearray()
        token_request = scope["path"] in TOKEN_PATHS

        async def receive_body() -> Message:
            message = await receive()
            if token_request and message["type"] == "http.request" and len(body) < BODY_LIMIT:
                body.extend(message.get("body", b"")[: BODY_LIMIT - len(body)])
            return message

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status >= 400 and len(error) < BODY_LIMIT:
                error.extend(message.get("body", b"")[: BODY_LIMIT - len(error)])
            await send(message)

        try:
            await self.app(scope, receive_body if token_request else receive, send_status)
        finally:
            log = request_log_of(scope["app"].state) if "app" in scope else None
            if log is not None:
                headers = dict(scope["headers"])
                authorization = headers.get(b"authorization")
                user = headers.get(b"sc-user-id")
                await log.record(Seen(
                    at_ms=at_ms, method=scope["method"], path=scope["path"], status=status,
                    latency_ms=(time.perf_counter() - started) * 1000, request_id=scope.get(REQUEST_ID),
                    authorization=authorization.decode("latin-1") if authorization else None,
                    user_header=user.decode("latin-1") if user else None,
                    body=bytes(body), error=bytes(error) if status >= 400 else None,
                ))  # fmt: skip
