"""The I/O edge: send one request, get one answer, map transport failures to SDK errors.

The clients build a :class:`RawRequest` and read a :class:`RawResponse`; everything between is
a *sender*. Three exist:

* :class:`HttpxSender` drives an ``httpx.Client``. It is the sync client's only sender, and
  accepts any httpx transport (``MockTransport``, ``ASGITransport``, a proxy-aware
  ``HTTPTransport``), which makes it the test seam.
* :class:`AsyncHttpxSender` does the same for ``httpx.AsyncClient``; the async client uses it
  whenever a transport or an httpx client is passed in.
* :class:`AiohttpSender` is the async client's default. httpx 0.28's async connection pool
  slows down as concurrency grows (50 requests in flight managed ~400 requests/s on loopback,
  fewer than one request at a time), while aiohttp sustains ~8,000 on the same machine; a fleet
  read must never be what limits throughput, so the default async path is aiohttp.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import httpx

from ._config import Timeout
from ._errors import ConnectError, ReadError, RequestTimeoutError, TransportError


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A request ready to send: absolute URL, lower-case header names, encoded body."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None = None


@dataclass(frozen=True, slots=True)
class RawResponse:
    """An answer: status, case-insensitive headers, the whole body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


class SyncSender(Protocol):
    """Sends requests one at a time (safe to call from several threads)."""

    def send(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` and read its answer, or raise a TransportError."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class AsyncSender(Protocol):
    """Sends requests concurrently on the running event loop."""

    async def send(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` and read its answer, or raise a TransportError."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def httpx_timeout(timeout: Timeout) -> httpx.Timeout:
    """The httpx form of a Timeout."""
    return httpx.Timeout(
        connect=timeout.connect, read=timeout.read, write=timeout.read, pool=timeout.read
    )


def transport_error_from_httpx(error: httpx.TransportError) -> TransportError:
    """The SDK error for an httpx transport failure."""
    message = str(error) or type(error).__name__
    if isinstance(error, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return RequestTimeoutError(message, request_sent=False)
    if isinstance(error, httpx.TimeoutException):
        return RequestTimeoutError(message, request_sent=True)
    if isinstance(error, httpx.ConnectError):
        return ConnectError(message)
    if isinstance(error, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.CloseError)):
        return ReadError(message)
    return TransportError(message)


def _build(client: httpx.Client | httpx.AsyncClient, request: RawRequest, timeout: Timeout) -> httpx.Request:
    return client.build_request(
        request.method,
        request.url,
        headers=request.headers,
        content=request.content,
        timeout=httpx_timeout(timeout),
    )


class HttpxSender:
    """Sends through an ``httpx.Client`` (one made around ``transport``, or one passed in)."""

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        max_connections: int = 100,
    ) -> None:
        self._owned = http_client is None
        self._client = http_client or httpx.Client(
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            follow_redirects=False,
        )

    def send(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` and read its answer, or raise a TransportError."""
        try:
            response = self._client.send(_build(self._client, request, timeout))
            response.read()
        except httpx.TransportError as error:
            raise transport_error_from_httpx(error) from error
        return RawResponse(response.status_code, response.headers, response.content)

    def close(self) -> None:
        """Close the httpx client if this sender made it."""
        if self._owned:
            self._client.close()


class AsyncHttpxSender:
    """Sends through an ``httpx.AsyncClient`` (one made around ``transport``, or one passed in)."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        max_connections: int = 100,
    ) -> None:
        self._owned = http_client is None
        self._client = http_client or httpx.AsyncClient(
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            follow_redirects=False,
        )

    async def send(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` and read its answer, or raise a TransportError."""
        try:
            response = await self._client.send(_build(self._client, request, timeout))
            await response.aread()
        except httpx.TransportError as error:
            raise transport_error_from_httpx(error) from error
        return RawResponse(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        """Close the httpx client if this sender made it."""
        if self._owned:
            await self._client.aclose()


def transport_error_from_aiohttp(error: BaseException) -> TransportError:
    """The SDK error for an aiohttp (or asyncio timeout) failure."""
    message = str(error) or type(error).__name__
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return RequestTimeoutError(message, request_sent=False)
    if isinstance(error, (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        return RequestTimeoutError(message, request_sent=True)
    if isinstance(error, aiohttp.ClientConnectorError):
        return ConnectError(message)
    if isinstance(error, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError)):
        return ReadError(message)
    return TransportError(message)


class AiohttpSender:
    """Sends through one ``aiohttp.ClientSession`` per event loop, made on first use.

    A session belongs to the loop it was made on; when the client is used from a new loop (a
    new ``asyncio.run``), a new session is made and the old one is dropped with its loop.
    """

    def __init__(self, *, max_connections: int = 100) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeouts: dict[Timeout, aiohttp.ClientTimeout] = {}

    def _session_for_loop(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0),
                # Cookies are not part of the API; a dummy jar saves work on every answer.
                cookie_jar=aiohttp.DummyCookieJar(),
                # Callers set every header themselves (user agent included).
                skip_auto_headers=("User-Agent",),
                raise_for_status=False,
            )
            self._loop = loop
        return self._session

    def _timeout(self, timeout: Timeout) -> aiohttp.ClientTimeout:
        found = self._timeouts.get(timeout)
        if found is None:
            # sock_connect, not connect: waiting for a free pooled connection is not a failure.
            found = aiohttp.ClientTimeout(
                total=None, sock_connect=timeout.connect, sock_read=timeout.read
            )
            self._timeouts[timeout] = found
        return found

    async def send(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` and read its answer, or raise a TransportError."""
        session = self._session_for_loop()
        try:
            async with session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.content,
                timeout=self._timeout(timeout),
                allow_redirects=False,
            ) as response:
                content = await response.read()
                return RawResponse(response.status, response.headers, content)
        except (TimeoutError, aiohttp.ClientError) as error:
            raise transport_error_from_aiohttp(error) from error

    async def aclose(self) -> None:
        """Close the session if it belongs to the running loop."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            try:
                running: Any = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is self._loop:
                await session.close()
