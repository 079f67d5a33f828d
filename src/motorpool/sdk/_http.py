"""The I/O edge: send one request, get one answer, map transport failures to SDK errors.

The clients build a :class:`RawRequest` and read a :class:`RawResponse`; everything between is
a *sender*. Four exist:

* :class:`SocketSender` is the sync client's default and :class:`AsyncioSender` the async
  client's: both speak HTTP/1.1 themselves (:mod:`._wire`), over blocking sockets and over
  asyncio's transports, with kept-alive connections.
* :class:`HttpxSender` and :class:`AsyncHttpxSender` drive an ``httpx.Client`` /
  ``httpx.AsyncClient``. A client uses them when given a ``transport`` (``MockTransport``,
  ``ASGITransport``, a proxy-aware ``HTTPTransport``: the test seam) or an ``http_client``, and
  when the environment names a proxy for one of its origins (httpx speaks to proxies).

Why not a library: a fleet read must never be what limits throughput, and per answer the
libraries cost more than the rest of the SDK together. With 50 requests in flight against a
local server answering a 50 KB signal list, every answer kept, on a two-core machine: httpx
0.28's async pool managed ~400 answers/s, aiohttp ~5,500 at ~180 µs of client CPU each, and the
fleet read over :class:`AsyncioSender` ~12,500 at ~80 µs each (of which ~25 µs is the kernel
handing over fresh memory for the 50 KB kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
import threading
import urllib.request
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from ._config import Timeout
from ._errors import (
    ConfigurationError,
    ConnectError,
    ReadError,
    RequestTimeoutError,
    TransportError,
)
from ._wire import (
    Answer,
    ConnectionClosed,
    Origin,
    ProtocolError,
    ResponseReader,
    encode_head,
    may_resend,
    parse_origin,
    split_url,
    tls_context,
)


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


# --- the default senders: HTTP/1.1 spoken directly (see _wire) ---------------------------------


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class _Endpoints:
    """Origins and request heads, shared by the sync and the async default sender."""

    def __init__(self) -> None:
        self._origins: dict[str, Origin] = {}
        self._tls: ssl.SSLContext | None = None

    def prepare(self, request: RawRequest) -> tuple[str, Origin, bytes]:
        """(origin key, origin, the bytes to send) of ``request``."""
        content = request.content
        try:
            key, target = split_url(request.url)
            origin = self._origins.get(key)
            if origin is None:
                origin = parse_origin(key)
                if len(self._origins) >= 64:
                    self._origins.clear()
                self._origins[key] = origin
            if content is not None:
                length: int | None = len(content)
            else:
                # Servers may refuse a POST that does not say its body is empty (411).
                length = 0 if request.method in _BODY_METHODS else None
            data = encode_head(request.method, target, origin, request.headers, length)
        except ValueError as error:
            raise ConfigurationError(str(error)) from error
        if content:
            data += content
        return key, origin, data

    def tls(self) -> ssl.SSLContext:
        """The TLS context, made on first use (loading the CA bundle takes milliseconds)."""
        if self._tls is None:
            self._tls = tls_context()
        return self._tls


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


class _Connection(asyncio.BufferedProtocol):
    """One kept-alive connection of an :class:`_AsyncPool`; receives into its reader's buffer."""

    def __init__(self, pool: _AsyncPool, key: str) -> None:
        self.pool = pool
        self.key = key
        self.loop = pool.loop
        self.reader = ResponseReader()
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Answer] | None = None
        #: Seconds the answer may keep the connection silent (None: no limit), and when the
        #: connection last received anything; the pool's watchdog compares the two.
        self.read_timeout: float | None = None
        self.last_read = 0.0
        self.closed = False
        #: Whether the pool still counts this connection as open.
        self.counted = True

    # asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.reader.get_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        self.last_read = self.loop.time()
        try:
            answer = self.reader.feed(nbytes)
        except ProtocolError as error:
            self.settle(error)
            self.abort()
            return
        if answer is not None:
            self.settle(answer)

    def eof_received(self) -> bool:
        try:
            answer = self.reader.feed_eof()
        except (ConnectionClosed, ProtocolError) as error:
            self.settle(error)
        else:
            if answer is not None:
                self.settle(answer)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.lost(self)
        if self.waiter is not None:
            self.settle(ConnectionClosed(self.reader.received))

    # the sender's side

    def exchange(self, data: bytes, head_only: bool, read_timeout: float | None) -> asyncio.Future[Answer]:
        """Send a request; the future answers it (or fails with the reason there is no answer)."""
        assert self.transport is not None
        self.reader.expect(head_only=head_only)
        waiter: asyncio.Future[Answer] = self.loop.create_future()
        if self.closed:
            waiter.set_exception(ConnectionClosed(received=False))
            return waiter
        self.waiter = waiter
        self.transport.write(data)
        if read_timeout is not None:
            self.read_timeout = read_timeout
            self.last_read = self.loop.time()
            self.pool.watch(self)
        return waiter

    def settle(self, outcome: Answer | BaseException) -> None:
        """Answer the request in flight (with its answer or the reason there is none)."""
        waiter, self.waiter = self.waiter, None
        if self.read_timeout is not None:
            self.read_timeout = None
            self.pool.watched.discard(self)
        if waiter is None or waiter.done():
            return
        if isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)

    def abort(self) -> None:
        """Drop the connection at once."""
        self.closed = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()


class _AsyncPool:
    """Kept-alive connections of one event loop, at most ``limit`` open at once (all origins).

    Read timeouts are kept by one watchdog for the whole pool rather than a timer per request:
    it wakes every eighth of the shortest timeout in force and fails each request whose
    connection has received nothing for its timeout (so a request fails between one and
    one-and-an-eighth timeouts after the connection fell silent).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int, endpoints: _Endpoints) -> None:
        self.loop = loop
        self.limit = limit
        self.endpoints = endpoints
        self.idle: dict[str, list[_Connection]] = {}
        self.open = 0
        self.waiters: deque[asyncio.Future[None]] = deque()
        self.closed = False
        self.watched: set[_Connection] = set()
        self._watchdog: asyncio.TimerHandle | None = None
        self._watch_every = 0.0

    async def acquire(self, key: str, origin: Origin, connect_timeout: float | None) -> tuple[_Connection, bool]:
        """A connection to ``origin``, and whether it was used before."""
        while True:
            idle = self.idle.get(key)
            while idle:
                connection = idle.pop()
                if not connection.closed:
                    return connection, True
            if self.open < self.limit:
                break
            if self._drop_an_idle_connection():
                continue
            waiter: asyncio.Future[None] = self.loop.create_future()
            self.waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # pass the turn on
                else:
                    with contextlib.suppress(ValueError):
                        self.waiters.remove(waiter)
                raise
        self.open += 1
        connection = _Connection(self, key)
        try:
            await asyncio.wait_for(
                self.loop.create_connection(
                    lambda: connection,
                    origin.host,
                    origin.port,
                    ssl=self.endpoints.tls() if origin.tls else None,
                    server_hostname=origin.host if origin.tls else None,
                ),
                connect_timeout,
            )
        except BaseException:
            self.discard(connection)
            raise
        return connection, False

    def release(self, connection: _Connection) -> None:
        """Keep ``connection`` for the next request, or close it if it cannot carry one."""
        if connection.closed or self.closed or not connection.reader.reusable:
            self.discard(connection)
            return
        self.idle.setdefault(connection.key, []).append(connection)
        if self.waiters:
            self._wake()

    def discard(self, connection: _Connection) -> None:
        """Close ``connection`` and free its place."""
        connection.abort()
        self.lost(connection)

    def lost(self, connection: _Connection) -> None:
        """``connection`` closed: it no longer counts against the limit."""
        if connection.counted:
            connection.counted = False
            self.open -= 1
            self._wake()

    def _drop_an_idle_connection(self) -> bool:
        for connections in self.idle.values():
            while connections:
                connection = connections.pop(0)
                if not connection.closed:
                    self.discard(connection)
                    return True
        return False

    def _wake(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    # read timeouts

    def watch(self, connection: _Connection) -> None:
        """Keep an eye on ``connection`` until its answer is settled."""
        self.watched.add(connection)
        assert connection.read_timeout is not None
        every = connection.read_timeout / 8
        if self._watchdog is None or every < self._watch_every:
            if self._watchdog is not None:
                self._watchdog.cancel()
            self._watch_every = every
            self._watchdog = self.loop.call_at(connection.last_read + every, self._patrol)

    def _patrol(self) -> None:
        self._watchdog = None
        now = self.loop.time()
        shortest: float | None = None
        for connection in list(self.watched):
            timeout = connection.read_timeout
            if timeout is None:
                continue
            if now - connection.last_read >= timeout:
                connection.settle(TimeoutError())
                connection.abort()
            elif shortest is None or timeout < shortest:
                shortest = timeout
        if shortest is not None:
            self._watch_every = shortest / 8
            self._watchdog = self.loop.call_at(now + self._watch_every, self._patrol)

    def close(self) -> None:
        """Close every idle connection; those in use close when they are released."""
        self.closed = True
        if self._watchdog is not None and not self.watched:
            self._watchdog.cancel()
            self._watchdog = None
        for connections in self.idle.values():
            for connection in connections:
                if connection.transport is not None and not connection.transport.is_closing():
                    connection.transport.close()
        self.idle.clear()


class AsyncioSender:
    """The async client's default sender: HTTP/1.1 over asyncio's own transports.

    Measured before choosing it, on a two-core machine with 50 requests in flight against a
    local server answering 50 KB: ~15,000 answers/s kept, about 65 µs of client CPU each, where
    aiohttp managed ~5,500 (~180 µs each) and httpx 0.28's async pool ~400. The answer lands in
    the connection's buffer and becomes its body with one copy; per request there is no URL
    parsing, no header object and no timer beyond one for the read timeout.

    Connections are kept alive, at most ``max_connections`` open at once; one pool belongs to
    one event loop, and a client used from a new loop (a new ``asyncio.run``) starts a new pool.
    A request that finds its kept-alive connection closed by the server before any answer is
    sent again on a new connection when its method is safe (GET, HEAD, OPTIONS).
    """

    def __init__(self, *, max_connections: int = 100) -> None:
        self._max_connections = max_connections
        self._endpoints = _Endpoints()
        self._pool: _AsyncPool | None = None

    def _pool_for_loop(self) -> _AsyncPool:
        loop = asyncio.get_running_loop()
        pool = self._pool
        if pool is None or pool.loop is not loop or pool.closed:
            pool = self._pool = _AsyncPool(loop, self._max_connections, self._endpoints)
        return pool

    async def send(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` and read its answer, or raise a TransportError."""
        pool = self._pool_for_loop()
        key, origin, data = self._endpoints.prepare(request)
        head_only = request.method == "HEAD"
        retried = False
        while True:
            try:
                connection, reused = await pool.acquire(key, origin, timeout.connect)
            except TimeoutError as error:
                raise RequestTimeoutError(
                    f"connecting to {key} took longer than {timeout.connect} s", request_sent=False
                ) from error
            except OSError as error:
                raise ConnectError(f"cannot connect to {key}: {_describe(error)}") from error
            try:
                status, headers, content = await connection.exchange(data, head_only, timeout.read)
            except ConnectionClosed as closed:
                pool.discard(connection)
                if reused and not closed.received and not retried and may_resend(request.method):
                    retried = True
                    continue
                raise ReadError(f"{key}: {closed}") from closed
            except ProtocolError as error:
                pool.discard(connection)
                raise ReadError(f"{key} sent a malformed answer: {error}") from error
            except TimeoutError as error:
                pool.discard(connection)
                raise RequestTimeoutError(
                    f"{key} sent nothing for {timeout.read} s", request_sent=True
                ) from error
            except BaseException:
                pool.discard(connection)  # cancelled mid-answer: the connection is out of step
                raise
            pool.release(connection)
            return RawResponse(status, headers, content)

    async def aclose(self) -> None:
        """Close the connections, if they belong to the running loop."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            running: Any = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is pool.loop:
            pool.close()
            await asyncio.sleep(0)  # let the transports finish closing


class _SocketConnection:
    __slots__ = ("key", "reader", "sock")

    def __init__(self, key: str, sock: socket.socket) -> None:
        self.key = key
        self.sock = sock
        self.reader = ResponseReader()


def _is_readable(sock: socket.socket) -> bool:
    """True when an idle socket has something to read: the server closed it (or misbehaves)."""
    try:
        poller = select.poll()
    except AttributeError:  # pragma: no cover - no poll() on Windows
        return bool(select.select([sock], [], [], 0)[0])
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class SocketSender:
    """The sync client's default sender: HTTP/1.1 over blocking sockets, safe across threads.

    The same reader as :class:`AsyncioSender`; each request takes a kept-alive connection for
    itself, at most ``max_connections`` open at once. An idle connection the server closed is
    noticed before it is used; one that closes just as a request goes out is handled as the
    async sender does.
    """

    def __init__(self, *, max_connections: int = 100) -> None:
        self._max_connections = max_connections
        self._endpoints = _Endpoints()
        self._lock = threading.Lock()
        self._available = threading.Condition(self._lock)
        self._idle: dict[str, list[_SocketConnection]] = {}
        self._open = 0
        self._closed = False

    def send(self, request: RawRequest, timeout: Timeout) -> RawResponse:
        """Send ``request`` and read its answer, or raise a TransportError."""
        key, origin, data = self._endpoints.prepare(request)
        head_only = request.method == "HEAD"
        retried = False
        while True:
            connection, reused = self._acquire(key, origin, timeout)
            try:
                status, headers, content = self._exchange(connection, data, head_only, timeout.read)
            except ConnectionClosed as closed:
                self._discard(connection)
                if reused and not closed.received and not retried and may_resend(request.method):
                    retried = True
                    continue
                raise ReadError(f"{key}: {closed}") from closed
            except ProtocolError as error:
                self._discard(connection)
                raise ReadError(f"{key} sent a malformed answer: {error}") from error
            except TimeoutError as error:
                self._discard(connection)
                raise RequestTimeoutError(f"{key} sent nothing for {timeout.read} s", request_sent=True) from error
            except OSError as error:
                self._discard(connection)
                received = connection.reader.received
                if reused and not received and not retried and may_resend(request.method):
                    retried = True
                    continue
                raise ReadError(f"{key}: {_describe(error)}") from error
            except BaseException:
                self._discard(connection)
                raise
            self._release(connection)
            return RawResponse(status, headers, content)

    @staticmethod
    def _exchange(connection: _SocketConnection, data: bytes, head_only: bool, read_timeout: float | None) -> Answer:
        sock, reader = connection.sock, connection.reader
        reader.expect(head_only=head_only)
        sock.settimeout(read_timeout)
        sock.sendall(data)
        while True:
            count = sock.recv_into(reader.get_buffer())
            answer = reader.feed(count) if count else reader.feed_eof()
            if answer is not None:
                return answer

    def _acquire(self, key: str, origin: Origin, timeout: Timeout) -> tuple[_SocketConnection, bool]:
        with self._available:
            while True:
                idle = self._idle.get(key)
                while idle:
                    connection = idle.pop()
                    if not _is_readable(connection.sock):
                        return connection, True
                    self._forget(connection)
                if self._open < self._max_connections:
                    self._open += 1
                    break
                if not self._drop_an_idle_connection() and not self._available.wait(timeout.read):
                    raise RequestTimeoutError(
                        f"no connection to {key} became free within {timeout.read} s", request_sent=False
                    )
        try:
            return _SocketConnection(key, self._connect(key, origin, timeout.connect)), False
        except BaseException:
            with self._available:
                self._open -= 1
                self._available.notify()
            raise

    def _connect(self, key: str, origin: Origin, connect_timeout: float | None) -> socket.socket:
        try:
            sock = socket.create_connection((origin.host, origin.port), timeout=connect_timeout)
        except TimeoutError as error:
            raise RequestTimeoutError(
                f"connecting to {key} took longer than {connect_timeout} s", request_sent=False
            ) from error
        except OSError as error:
            raise ConnectError(f"cannot connect to {key}: {_describe(error)}") from error
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if origin.tls:
                sock = self._endpoints.tls().wrap_socket(sock, server_hostname=origin.host)
        except TimeoutError as error:
            sock.close()
            raise RequestTimeoutError(
                f"the TLS handshake with {key} took longer than {connect_timeout} s", request_sent=False
            ) from error
        except OSError as error:
            sock.close()
            raise ConnectError(f"cannot connect to {key}: {_describe(error)}") from error
        return sock

    def _release(self, connection: _SocketConnection) -> None:
        with self._available:
            if self._closed or not connection.reader.reusable:
                self._forget(connection)
            else:
                self._idle.setdefault(connection.key, []).append(connection)
            self._available.notify()

    def _discard(self, connection: _SocketConnection) -> None:
        with self._available:
            self._forget(connection)
            self._available.notify()

    def _forget(self, connection: _SocketConnection) -> None:
        """Close ``connection`` (the lock is held)."""
        self._open -= 1
        with contextlib.suppress(OSError):
            connection.sock.close()

    def _drop_an_idle_connection(self) -> bool:
        for connections in self._idle.values():
            if connections:
                self._forget(connections.pop(0))
                return True
        return False

    def close(self) -> None:
        """Close every idle connection; those in use close when they are released."""
        with self._available:
            self._closed = True
            for connections in self._idle.values():
                for connection in connections:
                    self._forget(connection)
            self._idle.clear()
            self._available.notify_all()


def proxy_configured(urls: list[str]) -> bool:
    """True when the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, not bypassed by
    ``NO_PROXY``) sends any of ``urls`` through a proxy; the clients then send through httpx,
    which speaks to proxies."""
    proxies = urllib.request.getproxies_environment()
    if not proxies:
        return False
    for url in urls:
        parts = urlsplit(url)
        if (proxies.get(parts.scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(
            parts.hostname or ""
        ):
            return True
    return False
