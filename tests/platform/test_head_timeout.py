"""Slow and oversized requests: a request head that does not arrive in time closes its
connection, a body must arrive in its time and within its size; measured on a real uvicorn
server on a loopback socket. Before, a client sending half a head, or a body a byte at a time,
was held open for as long as it liked, and a body of any size was buffered."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from motorpool.platform.head_timeout import HEAD_TIMEOUT, MAX_BODY, HeadTimeoutProtocol

from ..support.processes import Served, free_port

QUICK = 0.5


class QuickProtocol(HeadTimeoutProtocol):
    head_timeout = QUICK


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


SMALL = 1000


class QuickBodyProtocol(HeadTimeoutProtocol):
    head_timeout = 5.0
    body_timeout = QUICK
    max_body = SMALL


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers the length of the body it read (a route that reads its body)."""
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    answer = str(size).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})


def _serve(app: Any, protocol: type[HeadTimeoutProtocol]) -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=protocol, lifespan="off",
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


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    yield from _serve(hello, QuickProtocol)


@pytest.fixture(scope="module")
def body_port() -> Iterator[int]:
    yield from _serve(echo, QuickBodyProtocol)


@pytest.fixture(scope="module")
def unread_body_port() -> Iterator[int]:
    yield from _serve(hello, QuickBodyProtocol)


def _answer(sock: socket.socket, limit: float = 5.0) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(limit)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def _error(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _post(length: int) -> bytes:
    return f"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n\r\n".encode()


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


def test_a_declared_body_over_the_limit_is_413_and_the_connection_closes(body_port: int) -> None:
    with socket.create_connection(("127.0.0.1", body_port)) as sock:
        sock.sendall(_post(SMALL + 1))  # the head only: the answer does not wait for the body
        status, body = _error(_answer(sock))
    assert status == 413
    assert body["errors"][0]["code"] == "PAYLOAD_TOO_LARGE" and body["statusCode"] == 413
    assert str(SMALL) in body["description"]


def test_a_chunked_body_growing_over_the_limit_is_413(body_port: int) -> None:
    with socket.create_connection(("127.0.0.1", body_port)) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(3):
            sock.sendall(b"190\r\n" + b"x" * 400 + b"\r\n")  # 1,200 bytes in all, never ended
        status, body = _error(_answer(sock))
    assert status == 413 and body["type"] == "VALIDATION"


def test_a_body_in_time_and_within_the_limit_is_read_and_the_connection_kept(body_port: int) -> None:
    with socket.create_connection(("127.0.0.1", body_port)) as sock:
        sock.settimeout(5)
        for _ in range(2):
            sock.sendall(_post(SMALL))
            sock.sendall(b"y" * (SMALL // 2))
            time.sleep(QUICK * 0.4)
            sock.sendall(b"y" * (SMALL // 2))
            answer = sock.recv(1024)
            assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(str(SMALL).encode())


def test_a_body_too_slow_is_408_and_the_connection_closes(body_port: int) -> None:
    with socket.create_connection(("127.0.0.1", body_port)) as sock:
        started = time.monotonic()
        sock.sendall(_post(10) + b"12345")  # half the body, then nothing
        status, body = _error(_answer(sock, 10 * QUICK))
        waited = time.monotonic() - started
    assert status == 408 and body["errors"][0]["code"] == "REQUEST_TIMEOUT"
    assert QUICK * 0.8 < waited < 5 * QUICK


def test_a_slow_body_nobody_reads_is_cut_off(unread_body_port: int) -> None:
    with socket.create_connection(("127.0.0.1", unread_body_port)) as sock:
        sock.sendall(_post(10) + b"12345")
        answer = _answer(sock, QUICK + 5)  # answered 200 at once, closed when the time is up
    assert answer.startswith(b"HTTP/1.1 200")


@pytest.mark.e2e
def test_motorpool_serve_refuses_a_body_over_the_limit(served: Served) -> None:
    host, port = served.origin.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode()
        )
        status, body = _error(_answer(sock, 10))
    assert status == 413 and body["errors"][0]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # a method the parser does not know
        b"GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n",  # a header line without a colon
        b"GET / HTTP/9.9.9\r\n\r\n",  # a malformed version
    ],
    ids=["unknown-method", "header-without-colon", "bad-version"],
)
def test_a_request_the_parser_refuses_is_400_in_the_documented_shape(port: int, request_bytes: bytes) -> None:
    """uvicorn answers these with a plain-text "Invalid HTTP request received."; the server
    answers them as it answers every other 400: JSON, v3 errors[] and the flat fields."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request_bytes)
        answer = _answer(sock)
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert b"content-type: application/json" in head and b"connection: close" in head
    status, body = _error(answer)
    assert status == 400
    error = body["errors"][0]
    assert error["status"] == "400" and error["type"] == "VALIDATION" and error["code"] == "INVALID_INPUT_FORMAT"
    assert body["statusCode"] == 400 and body["type"] == "VALIDATION"
    assert f"sc-request-id: {body['requestId']}".encode() in head


@pytest.mark.e2e
def test_motorpool_serve_answers_an_unknown_method_in_the_documented_shape(served: Served) -> None:
    host, port = served.origin.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"FOO /v3/connections HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, body = _error(_answer(sock, 10))
    assert status == 400 and body["errors"][0]["code"] == "INVALID_INPUT_FORMAT"
