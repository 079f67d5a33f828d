"""Helpers of the SDK's tests: a scripted network, wire bodies, sync/async adapters, and
:class:`Against`, which runs one flavour of client against the real platform.

``Fake`` is a scripted stand-in for the *network* (not for motorpool): an httpx handler that
answers the token endpoint and whatever a test scripts, and records every request. Fault cases
the platform cannot produce (503 bursts, dropped connections) are scripted through it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

import motorpool

from .harness import PlatformHarness

BASE = "http://mp.test"
CLIENT_ID = "client_test"
CLIENT_SECRET = "scs_test"

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Fake:
    """Answers requests from scripted handlers; records them all."""

    requests: list[httpx.Request] = field(default_factory=list)
    routes: dict[tuple[str, str], list[Handler | httpx.Response]] = field(default_factory=dict)
    token_counter: int = 0
    token_lifetime: int = 3600
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, method: str, path: str, *answers: Handler | httpx.Response) -> None:
        """Answer ``method path`` with these, in order; the last one repeats."""
        self.routes[(method, path)] = list(answers)

    def token(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.token_counter += 1
            number = self.token_counter
        return httpx.Response(
            200,
            json={"access_token": f"token-{number}", "token_type": "Bearer", "expires_in": self.token_lifetime},
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        key = (request.method, request.url.path)
        answers = self.routes.get(key)
        if answers is None:
            if key == ("POST", "/oauth2/token"):
                return self.token(request)
            return httpx.Response(404, json=not_found(f"no route {key}"))
        with self.lock:
            answer = answers[0] if len(answers) == 1 else answers.pop(0)
        if isinstance(answer, httpx.Response):
            # A response is consumed when read: hand out a fresh copy each time it repeats.
            answer.read()
            return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)
        return answer(request)

    def sent(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        """The recorded requests, filtered."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.url.path == path)
        ]

    @property
    def token_requests(self) -> int:
        return len(self.sent("POST", "/oauth2/token"))


def not_found(detail: str) -> dict[str, Any]:
    return {
        "errors": [{"status": "404", "type": "RESOURCE_NOT_FOUND", "code": "PATH", "title": "Not Found", "detail": detail}],
        "type": "RESOURCE_NOT_FOUND",
        "code": "PATH",
        "description": detail,
        "statusCode": 404,
    }


def error_body(status: int, error_type: str, code: str | None, description: str, **extra: Any) -> dict[str, Any]:
    """A body in motorpool's shape: v3 ``errors[]`` plus the flat v2 fields."""
    return {
        "errors": [
            {
                "status": str(status),
                "type": error_type,
                "code": code,
                "title": "Error",
                "detail": description,
                "resolution": {"type": extra.get("resolution")},
                "suggestedUserMessage": extra.get("suggested", "Something went wrong."),
                "meta": {"requestId": "req-1"},
            }
        ],
        "type": error_type,
        "code": code,
        "description": description,
        "statusCode": status,
        "requestId": "req-1",
        "resolution": {"type": extra.get("resolution")},
        "suggestedUserMessage": extra.get("suggested", "Something went wrong."),
        "docURL": "https://smartcar.com/docs/errors",
    }


def signal_item(code: str, body: dict[str, Any] | None, status: str = "SUCCESS", error: dict[str, Any] | None = None) -> dict[str, Any]:
    group, _, name = code.partition("-")
    status_body: dict[str, Any] = {"value": status}
    if error is not None:
        status_body["error"] = error
    attributes: dict[str, Any] = {"code": code, "name": name.title(), "group": group.title(), "status": status_body}
    if body is not None:
        attributes["body"] = body
    return {
        "id": code,
        "type": "signal",
        "attributes": attributes,
        "meta": {"retrievedAt": 1752104218549, "oemUpdatedAt": 1752104118549},
        "links": {"self": f"{BASE}/v3/vehicles/v/signals/{code}"},
    }


def signals_body(items: list[dict[str, Any]], *, page: int = 1, size: int = 100, total: int | None = None, next_link: str | None = None) -> dict[str, Any]:
    return {
        "data": items,
        "meta": {"page": page, "pageSize": size, "totalCount": len(items) if total is None else total},
        "links": {"self": "s", "first": "f", "previous": None, "next": next_link, "last": "l"},
        "included": {"vehicle": {"id": "v", "type": "vehicle", "attributes": {"make": "TESLA", "model": "Model 3", "year": 2022}}},
    }


#: What the owners grant in the SDK's command tests against the platform.
SDK_CONTROL = ["read_vehicle_info", "read_battery", "read_charge", "read_security", "read_location",
               "control_security", "control_charge", "control_navigation"]
FAST_RETRIES = motorpool.RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.002)


async def resolve(value: Any) -> Any:
    """The result of a client call, whichever client made it."""
    if inspect.isawaitable(value):
        return await value
    return value


async def resolve_error(value: Callable[[], Any], error: type[BaseException]) -> BaseException:
    """Run a client call and return the exception it raised (failing if none or another)."""
    with pytest.raises(error) as caught:
        await resolve(value())
    return caught.value


def json_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


class SyncBridge(httpx.BaseTransport):
    """A sync transport into an ASGI app served by an event loop running in another thread.

    The sync client is blocking, and the platform app lives on the test's event loop; the sync
    client runs in a worker thread and each request is handed to the loop, through httpx's own
    ASGITransport. Nothing is answered here: the app answers.
    """

    def __init__(self, app: Any, loop: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def forward() -> tuple[int, httpx.Headers, bytes]:
            copy = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            response = await self._inner.handle_async_request(copy)
            return response.status_code, response.headers, await response.aread()

        status, headers, content = asyncio.run_coroutine_threadsafe(forward(), self._loop).result()
        return httpx.Response(status, headers=headers, content=content)


class Counting(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """Passes every request on unchanged and counts them by path (wraps a real transport)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.paths: list[str] = []

    def count(self, path: str) -> int:
        return self.paths.count(path)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        response: httpx.Response = await self.inner.handle_async_request(request)
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        response: httpx.Response = self.inner.handle_request(request)
        return response


@dataclass
class Against:
    """Makes clients of one flavour wired to the platform, and runs their calls."""

    flavour: str
    platform: PlatformHarness

    def transport(self) -> Any:
        if self.flavour == "sync":
            return SyncBridge(self.platform.app, asyncio.get_running_loop())
        return httpx.ASGITransport(app=self.platform.app)

    def client(self, transport: Any = None, **options: Any) -> Any:
        cls = motorpool.Client if self.flavour == "sync" else motorpool.AsyncClient
        options.setdefault("client_id", self.platform.client_id)
        options.setdefault("client_secret", self.platform.client_secret)
        return cls(base_url=self.platform.base_url, transport=transport or self.transport(), **options)

    async def run(self, call: Callable[[], Any]) -> Any:
        """``call()`` made on this flavour's client: awaited, or run in a worker thread."""
        if self.flavour == "sync":
            return await asyncio.to_thread(call)
        result = call()
        return await result if isinstance(result, Awaitable) else result

    async def all_items(self, listing: Callable[[], Any]) -> list[Any]:
        """Every item of a paged listing, walking its pages."""
        if self.flavour == "sync":
            return await asyncio.to_thread(lambda: list(listing()))
        return [item async for item in listing()]

    async def raises(self, error: type[BaseException], call: Callable[[], Any]) -> Any:
        with pytest.raises(error) as caught:
            await self.run(call)
        return caught.value


class _FakeHandler(BaseHTTPRequestHandler):
    """Hands each request to the server's Fake, as an httpx.Request on ``BASE``."""

    protocol_version = "HTTP/1.1"
    server: FakeHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the Fake records what matters."""

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        request = httpx.Request(self.command, BASE + self.path, headers=list(self.headers.items()), content=body)
        try:
            response = self.server.fake(request)
        except httpx.TransportError:
            # A scripted network failure: hang up with a RST, no answer at all.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        content = response.read()
        self.send_response(response.status_code)
        for name, value in response.headers.multi_items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class FakeHTTPServer(ThreadingHTTPServer):
    """A :class:`Fake` served over a real loopback socket, for the clients' default transports."""

    daemon_threads = True

    def __init__(self, fake: Fake) -> None:
        super().__init__(("127.0.0.1", 0), _FakeHandler)
        self.fake = fake

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"
