"""Slow clients: a request head that does not arrive in time closes its connection; measured on
a real uvicorn server on a loopback socket. Before, a client sending half a head was held open
for as long as it liked."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from motorpool.platform.head_timeout import HEAD_TIMEOUT, HeadTimeoutProtocol

from ..support.processes import Served, free_port

QUICK = 0.5


class QuickProtocol(HeadTimeoutProtocol):
    head_timeout = QUICK


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(hello, host="127.0.0.1", port=port, http=QuickProtocol, lifespan="off",
                            log_level="warning", timeout_keep_alive=30)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield port
    server.should_exit = True
    thread.join(10)


def _closed_after(sock: socket.socket, limit: float) -> float | None:
    """Seconds until the server closed ``sock`` (None: still open after ``limit``)."""
    started = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(1024):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def test_a_partial_head_is_cut_off(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: the head never ends
        waited = _closed_after(sock, 10 * QUICK)
    assert waited is not None and waited < 5 * QUICK


def test_a_silent_connection_is_cut_off(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        waited = _closed_after(sock, 10 * QUICK)
    assert waited is not None and waited < 5 * QUICK


def test_a_head_in_time_is_answered_and_the_next_request_gets_its_own_time(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for _ in range(2):
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            time.sleep(QUICK * 0.6)
            sock.sendall(b"\r\n")
            sock.settimeout(5)
            assert sock.recv(1024).startswith(b"HTTP/1.1 200")
            time.sleep(QUICK * 0.6)  # longer, across both, than one head's time


@pytest.mark.e2e
def test_motorpool_serve_cuts_off_a_partial_head(served: Served) -> None:
    host, port = served.origin.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /v3/connections HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        waited = _closed_after(sock, HEAD_TIMEOUT + 10)
    assert waited is not None and waited >= HEAD_TIMEOUT - 1
