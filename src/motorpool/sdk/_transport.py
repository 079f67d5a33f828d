"""The I/O edge: send one request through a well-kept HTTP library, read one bounded answer.

The clients build a :class:`RawRequest` and read a :class:`RawResponse`; a *sender* does what
lies between, and three exist:

* :class:`~._httpx.HttpxSender`: the sync client's, over an ``httpx.Client``;
* :class:`AiohttpSender`: the async client's default, over an ``aiohttp.ClientSession``
  (measured on a loopback fleet read at about a quarter of the client CPU per request of
  httpx's ``AsyncClient``, see ``bench/sdk_fleet.py``);
* :class:`~._httpx.AsyncHttpxSender`: the async client's with ``http_backend="httpx"``, or when given a
  ``transport`` or an ``http_client`` (the test seam).

The httpx senders live in :mod:`._httpx`, imported when a client that uses them is made: the
async client's default path never loads httpx (about a third of the SDK's import time).

All three share the same rules: redirects are never followed (an API answer is never a
redirect), proxies come from the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``),
certificates are verified against ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set and certifi's
bundle otherwise, the whole exchange has a deadline (connect + read timeout, so a server that
drips its head or its body byte by byte cannot hold a call forever: the async senders run the
exchange under ``asyncio.timeout``, the sync one gives each socket read at most what is left of
it through :class:`DeadlineBackend`), and an answer larger than
``max_response_bytes`` — by its ``Content-Length``, by the bytes that arrive or once inflated —
ends in :class:`~motorpool.ResponseTooLargeError` before it is held in memory.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
import urllib.request
import weakref
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from ._config import Timeout
from ._errors import (
    ConfigurationError,
    ConnectError,
    ReadError,
    RequestTimeoutError,
    ResponseTooLargeError,
    TransportError,
)

if TYPE_CHECKING:
    import aiohttp

#: The largest answer a client reads, after decompression, unless told otherwise. The largest
#: legitimate answer (a page of every signal of a vehicle) is well under a megabyte.
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
#: The encodings :class:`BodyReader` can inflate; sent on every request so a library never
#: advertises one it would decode unbounded (brotli, zstd) on our behalf.
ACCEPT_ENCODING = "gzip, deflate"
#: Raw bytes aiohttp hands over at most at a time (httpx hands over each network read).
_RAW_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A request ready to send: absolute URL, lower-case header names, encoded body."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None = None


@dataclass(frozen=True, slots=True)
class RawResponse:
    """An answer: status, case-insensitive headers, the whole (decoded) body."""

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


# --- shared rules -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _tls_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    if cafile is None and capath is None:
        import certifi

        cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile, capath=capath)


def tls_context() -> ssl.SSLContext:
    """The context that verifies servers: ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set (read
    now, when a client is made), certifi's bundle otherwise."""
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = os.environ.get("SSL_CERT_DIR") or None
    try:
        return _tls_context(cafile, capath)
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(
            f"The certificates of SSL_CERT_FILE={cafile!r} / SSL_CERT_DIR={capath!r} cannot be "
            f"loaded: {error}"
        ) from error


def deadline_of(timeout: Timeout) -> float | None:
    """Seconds the whole exchange may take (None: no limit)."""
    if timeout.read is None:
        return None
    return (timeout.connect or 0.0) + timeout.read


def too_large(limit: int, what: str) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"The answer {what} is larger than max_response_bytes ({limit:,} bytes); it was not read.",
        limit=limit,
    )


def timed_out(seconds: float) -> RequestTimeoutError:
    return RequestTimeoutError(f"No whole answer within {seconds:g} s", request_sent=True)


class BodyReader:
    """Collects an answer's body, inflating gzip or deflate itself, never past ``limit`` bytes.

    The libraries inflate a whole network read at once (a 16 KB deflate chunk can become 16 MB);
    here ``zlib``'s ``max_length`` stops the inflater one byte past the limit.
    """

    __slots__ = ("_chunks", "_inflater", "_limit", "_raw_deflate", "_size")

    def __init__(self, headers: Mapping[str, str], limit: int) -> None:
        self._limit = limit
        self._size = 0
        self._chunks: list[bytes] = []
        length = headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > limit:
            raise too_large(limit, f"announces {int(length):,} bytes and")
        encoding = headers.get("content-encoding", "").strip().lower()
        self._raw_deflate = False
        self._inflater: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            # "deflate" is zlib-wrapped by the standard, raw by some servers: try the first.
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS)
            self._raw_deflate = True

    def feed(self, data: bytes) -> None:
        """Take the next raw bytes of the body."""
        if not data:
            return
        if self._inflater is not None:
            data = self._inflate(data)
        self._add(data)

    def _inflate(self, data: bytes) -> bytes:
        room = self._limit - self._size
        try:
            out: bytes = self._inflater.decompress(data, room + 1)
        except zlib.error as error:
            if self._raw_deflate and self._size == 0:
                self._raw_deflate = False
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._inflate(data)
            raise ReadError(f"The answer's compressed body is corrupt: {error}") from error
        self._raw_deflate = False
        return out

    def _add(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise too_large(self._limit, "is")
        self._chunks.append(data)

    def finish(self) -> bytes:
        """The whole body, decoded."""
        if self._inflater is not None:
            try:
                self._add(self._inflater.flush())
            except zlib.error as error:
                raise ReadError(f"The answer's compressed body is corrupt: {error}") from error
        return b"".join(self._chunks)


# --- aiohttp ------------------------------------------------------------------------------------


def transport_error_from_aiohttp(error: Exception) -> TransportError:
    """The SDK error for an aiohttp failure."""
    import aiohttp

    message = str(error) or type(error).__name__
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return RequestTimeoutError(message, request_sent=False)
    if isinstance(error, aiohttp.ServerTimeoutError):
        return RequestTimeoutError(message, request_sent=True)
    if isinstance(error, aiohttp.ClientConnectorError):
        return ConnectError(message)
    if isinstance(
        error,
        aiohttp.ServerDisconnectedError
        | aiohttp.ClientPayloadError
        | aiohttp.ClientOSError
        | aiohttp.ClientResponseError,
    ):
        return ReadError(message)
    return TransportError(message)


class AiohttpSender:
    """Sends through an ``aiohttp.ClientSession``, one per event loop, made on first use."""

    def __init__(
        self,
        *,
        max_connections: int = 100,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._max_connections = max_connections
        self._limit = max_response_bytes
        # Read now, when the client is made, like every other setting of the environment.
        self._tls = tls_context()
        # Proxies are read here once: aiohttp's trust_env would read the environment and the
        # netrc file on a worker thread for every request (measured: most of its client CPU).
        self._proxies = urllib.request.getproxies_environment()
        self._proxy_by_origin: dict[tuple[str, str], str | None] = {}
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
            weakref.WeakKeyDictionary()
        )

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            import aiohttp

            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, ssl=self._tls),
                auto_decompress=False,
            )
            self._sessions[loop] = session
        return session

    def _proxy(self, url: str) -> str | None:
        """The proxy ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` name for ``url``, unless
        ``NO_PROXY`` exempts its host."""
        if not self._proxies:
            return None
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self._proxy_by_origin:
            proxy = self._proxies.get(parts.scheme) or self._proxies.get("all")
            host = parts.netloc
            if proxy and urllib.request.proxy_bypass(host):
                proxy = None
            self._proxy_by_origin[key] = proxy
        return self._proxy_by_origin[key]

    async def _exchange(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        import aiohttp

        headers = {**request.headers, "accept-encoding": ACCEPT_ENCODING}
        async with self._session().request(
            request.method,
            request.url,
            headers=headers,
            data=request.content,
            allow_redirects=False,
            proxy=self._proxy(request.url),
            timeout=aiohttp.ClientTimeout(connect=timeout.connect, sock_read=timeout.read),
        ) as response:
            reader = BodyReader(response.headers, self._limit)
            async for chunk in response.content.iter_chunked(_RAW_CHUNK):
                reader.feed(chunk)
            return RawResponse(response.status, response.headers, reader.finish())

    async def send(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` and read its answer, or raise a TransportError."""
        import aiohttp

        total = deadline_of(timeout)
        try:
            async with asyncio.timeout(total):
                return await self._exchange(request, timeout)
        except aiohttp.ClientError as error:
            raise transport_error_from_aiohttp(error) from error
        except TimeoutError as error:
            raise timed_out(total or 0.0) from error

    async def aclose(self) -> None:
        """Close the session of the running event loop (the others close with their loop)."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()
