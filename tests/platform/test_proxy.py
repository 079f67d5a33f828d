"""The CONNECT proxy of zero-change mode, on loopback sockets: it tunnels Smartcar's host names on
port 443 to the platform's listener (here an echo server: the tunnel is a byte copy), and refuses
anything else with a one-line reason — it never becomes an open proxy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from motorpool.platform.proxy import ConnectProxy


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


@pytest.fixture
async def platform_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def running_proxy(target_port: int, **options: float) -> ConnectProxy:
    proxy = ConnectProxy("127.0.0.1", target_port, **options)  # type: ignore[arg-type]
    await proxy.start("127.0.0.1", 0)
    return proxy


async def ask(proxy: ConnectProxy, head: bytes) -> tuple[bytes, asyncio.StreamReader, asyncio.StreamWriter]:
    """Send ``head`` to the proxy; its answer's head, and the open connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(head)
    await writer.drain()
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    return answer, reader, writer


async def refused(proxy: ConnectProxy, head: bytes) -> tuple[str, str]:
    """The status line and body of a refusal; the proxy closes the connection after it."""
    answer, reader, writer = await ask(proxy, head)
    body = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer.split(b"\r\n", 1)[0].decode(), body.decode()


async def test_a_smartcar_host_is_tunnelled_to_the_platform(platform_port: int) -> None:
    proxy = await running_proxy(platform_port)
    try:
        for host in ("vehicle.api.smartcar.com", "IAM.smartcar.com", "connect.smartcar.com."):
            answer, reader, writer = await ask(proxy, f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
            assert answer.startswith(b"HTTP/1.1 200"), answer
            sent = b"\x16\x03\x01 a TLS hello, or anything: bytes go through as they are"
            writer.write(sent)
            await writer.drain()
            assert await asyncio.wait_for(reader.readexactly(len(sent)), 5) == sent
            writer.close()
    finally:
        await proxy.close()


@pytest.mark.parametrize(
    ("head", "status", "reason"),
    [
        (b"CONNECT example.com:443 HTTP/1.1\r\n\r\n", "403", "example.com is not one of Smartcar's host names"),
        (b"CONNECT 127.0.0.1:443 HTTP/1.1\r\n\r\n", "403", "not one of Smartcar's host names"),
        (b"CONNECT smartcar.com.evil.example:443 HTTP/1.1\r\n\r\n", "403", "not one of Smartcar's"),
        (b"CONNECT iam.smartcar.com:4000 HTTP/1.1\r\n\r\n", "403", "only port 443 is tunnelled, not 4000"),
        (b"CONNECT iam.smartcar.com HTTP/1.1\r\n\r\n", "403", "only port 443 is tunnelled"),
        (b"CONNECT iam.smartcar.com:https HTTP/1.1\r\n\r\n", "403", "is not host:port"),
        (b"GET http://iam.smartcar.com/oauth2/token HTTP/1.1\r\nHost: iam.smartcar.com\r\n\r\n", "400",
         "only tunnels HTTPS (CONNECT)"),
        (b"hello\r\n\r\n", "400", "only tunnels HTTPS"),
    ],
)
async def test_everything_else_is_refused_with_a_reason_and_logged(
    platform_port: int, head: bytes, status: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = await running_proxy(platform_port)
    try:
        with caplog.at_level(logging.WARNING, logger="motorpool.proxy"):
            line, body = await refused(proxy, head)
    finally:
        await proxy.close()
    assert line.split()[1] == status, line
    assert reason in body and body.count("\n") == 1, body
    assert "refused" in caplog.text


async def test_a_head_too_long_or_too_slow_is_refused(platform_port: int) -> None:
    proxy = await running_proxy(platform_port, head_timeout=0.3)
    try:
        line, _ = await refused(proxy, b"CONNECT iam.smartcar.com:443 HTTP/1.1\r\nX-Filler: " + b"x" * 9000 + b"\r\n\r\n")
        assert line.startswith("HTTP/1.1 431")
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"CONNECT iam.smartcar.com:443 HTTP/1.1\r\n")  # and never the blank line
        answer = await asyncio.wait_for(reader.read(), 5)
        assert answer.startswith(b"HTTP/1.1 408")
        writer.close()
    finally:
        await proxy.close()


async def test_the_platform_not_answering_is_a_bad_gateway(platform_port: int) -> None:
    proxy = await running_proxy(1)  # nothing listens on port 1
    try:
        line, body = await refused(proxy, b"CONNECT iam.smartcar.com:443 HTTP/1.1\r\n\r\n")
    finally:
        await proxy.close()
    assert line.startswith("HTTP/1.1 502") and "not answering" in body


async def test_tunnels_are_bounded(platform_port: int) -> None:
    proxy = await running_proxy(platform_port, max_tunnels=1)
    try:
        answer, _, first = await ask(proxy, b"CONNECT iam.smartcar.com:443 HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200")
        line, body = await refused(proxy, b"CONNECT iam.smartcar.com:443 HTTP/1.1\r\n\r\n")
        assert line.startswith("HTTP/1.1 503") and "too many tunnels" in body
        first.close()
        await asyncio.sleep(0.1)
        answer, _, again = await ask(proxy, b"CONNECT iam.smartcar.com:443 HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200"), "a closed tunnel frees its place"
        again.close()
    finally:
        await proxy.close()


async def test_closing_the_proxy_ends_its_tunnels(platform_port: int) -> None:
    proxy = await running_proxy(platform_port)
    answer, reader, writer = await ask(proxy, b"CONNECT iam.smartcar.com:443 HTTP/1.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")
    await asyncio.wait_for(proxy.close(), 5)
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
