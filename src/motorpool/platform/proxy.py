"""The zero-change proxy: an HTTP CONNECT proxy that tunnels connections for Smartcar's host names
to motorpool's own TLS listener, and refuses everything else.

A client told ``HTTPS_PROXY=http://127.0.0.1:4080`` asks ``CONNECT vehicle.api.smartcar.com:443``;
the proxy answers ``200`` and from then on copies bytes between the client and the platform's
HTTPS port. The client's TLS session ends at motorpool, whose certificate names that host (see
:mod:`.tls`), so the client verifies it like the real one once it trusts the local CA. The proxy
never reads inside a tunnel and never opens a connection anywhere but the platform: it cannot
become an open proxy. Another host, another port, or a request that is not CONNECT is refused
with a one-line reason (403, 400), logged.

Small and bounded on purpose: a request head of at most 8 KiB read within 10 s, at most 256
tunnels at once, and nothing but stdlib asyncio. (General-purpose proxy servers can do this with
a plugin, but bring their own process model, options and logging into ``motorpool serve``; the job
here is one rule and a byte copy.)"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterable

from .hostnames import SMARTCAR_HOSTS, split_host

log = logging.getLogger("motorpool.proxy")

MAX_HEAD = 8 * 1024
HEAD_TIMEOUT = 10.0
CONNECT_TIMEOUT = 10.0
#: Seconds a refused client's unread bytes are drained before the connection closes.
LINGER = 1.0
MAX_TUNNELS = 256
_CHUNK = 64 * 1024


class ConnectProxy:
    """Tunnels ``CONNECT <Smartcar host>:443`` to ``target`` (the platform's TLS listener)."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        allowed_hosts: Iterable[str] = SMARTCAR_HOSTS,
        max_tunnels: int = MAX_TUNNELS,
        head_timeout: float = HEAD_TIMEOUT,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.allowed = frozenset(host.lower() for host in allowed_hosts)
        self.head_timeout = head_timeout
        self._slots = asyncio.Semaphore(max_tunnels)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(
        self, host: str | None = None, port: int | None = None, sock: socket.socket | None = None
    ) -> asyncio.Server:
        """Listen on ``host:port``, or on a socket already bound (raises ``OSError`` when it
        cannot)."""
        self._server = await asyncio.start_server(
            self._accept, host, port, sock=sock, limit=MAX_HEAD
        )
        return self._server

    @property
    def port(self) -> int:
        """The port listened on (useful after ``start(host, 0)``)."""
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and end the open tunnels."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            if self._slots.locked():
                reason = "too many tunnels open at once"
                await _refuse(reader, writer, 503, "Service Unavailable", reason)
                return
            async with self._slots:
                await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.head_timeout)
        except (asyncio.LimitOverrunError, ValueError):
            phrase = "Request Header Fields Too Large"
            await _refuse(reader, writer, 431, phrase, "the request head is too long")
            return
        except TimeoutError:
            await _refuse(reader, writer, 408, "Request Timeout", "no request head in time")
            return
        except asyncio.IncompleteReadError:
            return  # the client went away
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, _, rest = request_line.partition(" ")
        target, _, version = rest.partition(" ")
        if method != "CONNECT" or not target or not version.startswith("HTTP/1."):
            shown = request_line[:120]
            log.warning("motorpool proxy: refused %r from %s: not a CONNECT request", shown, peer)
            await _refuse(
                reader, writer, 400, "Bad Request",
                "motorpool's proxy only tunnels HTTPS (CONNECT) to Smartcar's host names",
            )  # fmt: skip
            return
        reason = self._refusal(target)
        if reason is not None:
            shown = target[:120]
            log.warning("motorpool proxy: refused CONNECT %s from %s: %s", shown, peer, reason)
            await _refuse(reader, writer, 403, "Forbidden", reason)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.wait_for(
                asyncio.open_connection(self.target_host, self.target_port), CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError) as exc:
            log.warning("motorpool proxy: the platform at %s:%d did not answer: %s",
                        self.target_host, self.target_port, exc)  # fmt: skip
            reason = "motorpool's TLS listener is not answering"
            await _refuse(reader, writer, 502, "Bad Gateway", reason)
            return
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        try:
            await writer.drain()
            await _splice(reader, writer, upstream_reader, upstream_writer)
        finally:
            upstream_writer.close()
            with contextlib.suppress(Exception):
                await upstream_writer.wait_closed()

    def _refusal(self, target: str) -> str | None:
        """Why a CONNECT to ``target`` is refused, or None when it is tunnelled."""
        try:
            name, port = split_host(target)
        except ValueError:
            return f"{target[:120]!r} is not host:port"
        if name not in self.allowed:
            return f"{name} is not one of Smartcar's host names; motorpool tunnels only those"
        if port != 443:
            return f"only port 443 is tunnelled, not {port}"
        return None


async def _refuse(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int, phrase: str, reason: str
) -> None:
    """Answer ``status`` with ``reason`` as its one-line body, then close gently: what the client
    sent and the proxy did not read is read and dropped for a moment first, since closing a
    socket with unread data resets it, and a reset can destroy the answer before it is read."""
    body = (reason + "\n").encode()
    writer.write(
        b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n%s" % (status, phrase.encode(), len(body), body)
    )
    with contextlib.suppress(ConnectionError, OSError, TimeoutError):
        await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(LINGER):
            dropped = 0
            while dropped < MAX_HEAD * 8 and (chunk := await reader.read(MAX_HEAD)):
                dropped += len(chunk)


async def _splice(
    client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
    upstream_reader: asyncio.StreamReader, upstream_writer: asyncio.StreamWriter,
) -> None:  # fmt: skip
    """Copy bytes both ways until both sides have finished (or one breaks)."""

    async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(_CHUNK):
                sink.write(chunk)
                await sink.drain()
            if sink.can_write_eof():
                sink.write_eof()
        except (ConnectionError, OSError):
            sink.close()

    await asyncio.gather(copy(client_reader, upstream_writer), copy(upstream_reader, client_writer))
