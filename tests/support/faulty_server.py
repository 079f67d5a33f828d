"""A small misbehaving HTTP server on 127.0.0.1, for the SDK's transport tests.

It speaks just enough HTTP/1.1 over plain sockets to answer the token endpoint and then
misbehave in one way per vehicle id (``GET /v3/vehicles/{fault}``): an announced body of 10 GB,
a gzip or deflate bomb, a truncated body, a slow drip of the body or of the head, a reset connection, a 429 with
``retry-after``, 503s, a redirect loop. Every connection is closed after one answer, every
drip is bounded in bytes and time, and the server stops with its context.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

#: What a bomb inflates to, and its compressed size (about 200 KB).
BOMB_SIZE = 200 * 1024 * 1024

TOKEN = json.dumps({"access_token": "tok", "token_type": "Bearer", "expires_in": 3600}).encode()
VEHICLE = json.dumps(
    {"id": "ok", "type": "vehicle", "attributes": {"make": "TESLA", "model": "Model 3", "year": 2022}}
).encode()


@cache
def _compress(wbits: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(1024 * 1024)
    return b"".join(packer.compress(block) for _ in range(BOMB_SIZE // len(block))) + packer.flush()


@dataclass
class FaultyServer:
    """Serves one fault per path; ``hits`` counts the requests each path received."""

    port: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    proxied: list[str] = field(default_factory=list)
    drip_interval: float = 0.1

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def bomb(encoding: str) -> bytes:
        return _compress(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)

    def handle(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                head += chunk
            head, _, body = head.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            # Read the whole request: closing with unread bytes would send a RST.
            while len(body) < length:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                body += chunk
            request_line = head.split(b"\r\n", 1)[0].decode()
            target = request_line.split(" ")[1]
            # A request through a proxy names the whole URL (absolute form).
            if not target.startswith("/"):
                self.proxied.append(target)
            path = urlsplit(target).path
            self.hits[path] += 1
            if path == "/oauth2/token":
                self._answer(connection, 200, TOKEN)
                return
            fault = path.rsplit("/", 1)[-1]
            getattr(self, "_" + fault.replace("-", "_"))(connection, path)

    @staticmethod
    def _answer(connection: socket.socket, status: int, body: bytes, headers: str = "", length: int | None = None) -> None:
        size = len(body) if length is None else length
        connection.sendall(
            f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n"
            f"connection: close\r\n{headers}\r\n".encode()
            + body
        )

    def _ok(self, connection: socket.socket, path: str) -> None:
        self._answer(connection, 200, VEHICLE)

    def _huge_length(self, connection: socket.socket, path: str) -> None:
        connection.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10000000000\r\n\r\n"
            + b"{" * 1024
        )
        time.sleep(0.2)

    def _gzip_bomb(self, connection: socket.socket, path: str) -> None:
        self._answer(connection, 200, self.bomb("gzip"), "content-encoding: gzip\r\n")

    def _deflate_bomb(self, connection: socket.socket, path: str) -> None:
        self._answer(connection, 200, self.bomb("deflate"), "content-encoding: deflate\r\n")

    def _truncated(self, connection: socket.socket, path: str) -> None:
        self._answer(connection, 200, VEHICLE[:20], length=len(VEHICLE))

    def _drip(self, connection: socket.socket, path: str) -> None:
        body = b" " * 200 + VEHICLE
        connection.sendall(f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n\r\n".encode())
        # At most 200 bytes, 20 s: the client gives up long before.
        for byte in body[:200]:
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(self.drip_interval)

    def _head_drip(self, connection: socket.socket, path: str) -> None:
        # The head itself, a byte at a time: every byte well within a read timeout, the whole
        # head (300 bytes) 30 s at the default interval.
        head = (
            f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-padding: {'p' * 220}\r\n"
            f"content-length: {len(VEHICLE)}\r\n\r\n"
        ).encode()
        for byte in head:
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(self.drip_interval)
        connection.sendall(VEHICLE)

    def _reset(self, connection: socket.socket, path: str) -> None:
        # SO_LINGER with a zero timeout: close() sends a RST instead of a FIN.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _rate_limited(self, connection: socket.socket, path: str) -> None:
        if self.hits[path] == 1:
            body = json.dumps({"type": "RATE_LIMIT", "code": "VEHICLE", "statusCode": 429}).encode()
            self._answer(connection, 429, body, "retry-after: 1\r\n")
        else:
            self._answer(connection, 200, VEHICLE)

    def _unavailable(self, connection: socket.socket, path: str) -> None:
        body = json.dumps({"type": "SERVER", "code": "INTERNAL", "statusCode": 503}).encode()
        self._answer(connection, 503, body)

    def _redirect(self, connection: socket.socket, path: str) -> None:
        self._answer(connection, 302, b"", f"location: {path}\r\n")


@contextmanager
def faulty_server() -> Iterator[FaultyServer]:
    """A FaultyServer listening on a free loopback port, one thread per connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    server = FaultyServer(port=listener.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=server.handle, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
