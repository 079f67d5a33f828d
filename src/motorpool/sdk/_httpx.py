"""The httpx senders: the sync client's, and the async client's on ``http_backend="httpx"`` or a
``transport``/``http_client`` (the test seam). The rules they share with the aiohttp sender are in
:mod:`._transport`; this module is imported only when one of these senders is made."""

from __future__ import annotations

import asyncio
import contextvars
import ssl
import time
from typing import Any

import httpcore
import httpx

from ._config import Timeout
from ._errors import ConnectError, ReadError, RequestTimeoutError, TransportError
from ._transport import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_RESPONSE_BYTES,
    BodyReader,
    RawRequest,
    RawResponse,
    deadline_of,
    timed_out,
    tls_context,
    too_large,
)


def httpx_timeout(timeout: Timeout) -> httpx.Timeout:
    """The httpx form of a Timeout (per operation; the deadline is checked besides)."""
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
    if isinstance(error, httpx.NetworkError | httpx.RemoteProtocolError):
        return ReadError(message)
    return TransportError(message)


#: When the sync exchange under way must be over (``time.monotonic()``), for :class:`DeadlineBackend`.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("motorpool_deadline", default=None)


def _remaining(timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
    """``timeout`` cut to what is left of the exchange's deadline; ``error`` once none is left."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the whole exchange's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the exchange's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, _remaining(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network under the sync client: the connections it opens never wait past the
    deadline :class:`HttpxSender` sets for the exchange under way.

    httpcore takes its read timeout once per phase (the head, then the body), so a server that
    drips its head a byte at a time would otherwise be bounded only per byte; here each socket
    read gets at most what is left of the whole exchange.
    """

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, _remaining(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_unix_socket(path, _remaining(timeout, httpcore.ConnectTimeout), socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _bound_by_deadline(client: httpx.Client) -> None:
    """Put :class:`DeadlineBackend` under the transports httpx made itself (the direct one and
    those of the environment's proxies). httpx takes no network backend of its own, so this reaches
    its connection pools; a transport or client passed in is left as given (the deadline is then
    checked between the body's reads only)."""
    transports: list[Any] = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, DeadlineBackend):
            pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]


def _client_options(transport: object, max_connections: int) -> dict[str, Any]:
    """What the sync and the async httpx clients the senders make share: the pool's size, no
    redirects, and TLS verified against the environment's bundle (a test transport has no TLS)."""
    return {
        "transport": transport,
        "limits": httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        "follow_redirects": False,
        "verify": tls_context() if transport is None else True,
    }


def _already_read(response: httpx.Response, limit: int) -> bytes | None:
    """The body of an answer made in memory (a ``MockTransport`` handler's, already read and
    decoded by httpx), or None for one still to stream from the network."""
    try:
        content = response.content
    except httpx.ResponseNotRead:
        return None
    if len(content) > limit:
        raise too_large(limit, "is")
    return content


class HttpxSender:
    """Sends through an ``httpx.Client`` (one made around ``transport``, or one passed in)."""

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        max_connections: int = 100,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._owned = http_client is None
        self._limit = max_response_bytes
        if http_client is None:
            http_client = httpx.Client(**_client_options(transport, max_connections))
            if transport is None:
                _bound_by_deadline(http_client)
        self._client = http_client

    def send(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` and read its answer, or raise a TransportError."""
        total = deadline_of(timeout)
        deadline = None if total is None else time.monotonic() + total
        headers = {**request.headers, "accept-encoding": ACCEPT_ENCODING}
        bound = _DEADLINE.set(deadline)
        try:
            with self._client.stream(
                request.method,
                request.url,
                headers=headers,
                content=request.content,
                timeout=httpx_timeout(timeout),
                follow_redirects=False,
            ) as response:
                content = _already_read(response, self._limit)
                if content is None:
                    reader = BodyReader(response.headers, self._limit)
                    for chunk in response.iter_raw():
                        reader.feed(chunk)
                        if deadline is not None and time.monotonic() > deadline:
                            raise timed_out(total or 0.0)
                    content = reader.finish()
        except httpx.TimeoutException as error:
            sent = not isinstance(error, httpx.ConnectTimeout | httpx.PoolTimeout)
            if sent and deadline is not None and time.monotonic() >= deadline:
                raise timed_out(total or 0.0) from error
            raise transport_error_from_httpx(error) from error
        except httpx.TransportError as error:
            raise transport_error_from_httpx(error) from error
        finally:
            _DEADLINE.reset(bound)
        return RawResponse(response.status_code, response.headers, content)

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
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._owned = http_client is None
        self._limit = max_response_bytes
        if http_client is None:
            http_client = httpx.AsyncClient(**_client_options(transport, max_connections))
        self._client = http_client

    async def _exchange(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        headers = {**request.headers, "accept-encoding": ACCEPT_ENCODING}
        async with self._client.stream(
            request.method,
            request.url,
            headers=headers,
            content=request.content,
            timeout=httpx_timeout(timeout),
            follow_redirects=False,
        ) as response:
            content = _already_read(response, self._limit)
            if content is None:
                reader = BodyReader(response.headers, self._limit)
                async for chunk in response.aiter_raw():
                    reader.feed(chunk)
                content = reader.finish()
            return RawResponse(response.status_code, response.headers, content)

    async def send(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` and read its answer, or raise a TransportError."""
        total = deadline_of(timeout)
        try:
            async with asyncio.timeout(total):
                return await self._exchange(request, timeout)
        except httpx.TransportError as error:
            raise transport_error_from_httpx(error) from error
        except TimeoutError as error:
            raise timed_out(total or 0.0) from error

    async def aclose(self) -> None:
        """Close the httpx client if this sender made it."""
        if self._owned:
            await self._client.aclose()
