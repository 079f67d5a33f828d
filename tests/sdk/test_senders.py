"""The default senders over real loopback sockets: keep-alive, limits, stale connections,
timeouts, cancellation and TLS, for the async (asyncio transports) and the sync (blocking
sockets) sender alike.

The servers are small asyncio servers scripted per test, so each fault happens exactly when the
test says.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import motorpool
from motorpool.sdk._config import Timeout
from motorpool.sdk._http import (
    AsyncHttpxSender,
    AsyncioSender,
    HttpxSender,
    RawRequest,
    RawResponse,
    SocketSender,
)

Answer = Callable[[int, bytes], Awaitable[bytes | None]]  # (request number on the connection, head) -> bytes


class Served:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.requests: list[bytes] = []


@asynccontextmanager
async def serve(answer: Answer, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[Served]:
    """An HTTP/1.1 server whose every answer comes from ``answer`` (None: hang up)."""
    served = Served("")
    writers: set[asyncio.StreamWriter] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        served.connections += 1
        served.open += 1
        served.most_open = max(served.most_open, served.open)
        number = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        await reader.readexactly(int(line.split(b":")[1]))
                served.requests.append(head)
                number += 1
                data = await answer(number, head)
                if data is None:
                    return
                writer.write(data)
                await writer.drain()
        finally:
            served.open -= 1
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_context)
    port = server.sockets[0].getsockname()[1]
    served.origin = f"{'https' if ssl_context else 'http'}://{'localhost' if ssl_context else '127.0.0.1'}:{port}"
    try:
        yield served
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()
        await asyncio.sleep(0)


def ok(body: bytes = b"{}", extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


async def always_ok(number: int, head: bytes) -> bytes:
    return ok(b'{"n":%d}' % number)


TIMEOUT = Timeout(connect=2.0, read=2.0)


class Senders:
    """Drive either sender with one await-able call."""

    def __init__(self, flavour: str, max_connections: int = 100) -> None:
        self.flavour = flavour
        self.sender: Any = AsyncioSender(max_connections=max_connections) if flavour == "async" else SocketSender(max_connections=max_connections)

    async def send(self, request: RawRequest, timeout: Timeout = TIMEOUT) -> RawResponse:
        if self.flavour == "async":
            return await self.sender.send(request, timeout)  # type: ignore[no-any-return]
        return await asyncio.to_thread(self.sender.send, request, timeout)  # type: ignore[no-any-return]

    async def close(self) -> None:
        if self.flavour == "async":
            await self.sender.aclose()
        else:
            self.sender.close()


def get(origin: str, path: str = "/x", method: str = "GET", content: bytes | None = None, **headers: str) -> RawRequest:
    return RawRequest(method, origin + path, {"accept": "application/json", **headers}, content)


async def test_one_connection_carries_request_after_request(flavour: str) -> None:
    async with serve(always_ok) as served:
        senders = Senders(flavour)
        for number in range(1, 6):
            response = await senders.send(get(served.origin, sc_user_id="u"))
            assert response.status_code == 200 and response.content == b'{"n":%d}' % number
            assert response.headers["content-length"] == response.headers["Content-Length"]
        assert served.connections == 1
        assert served.requests[0].startswith(b"GET /x HTTP/1.1\r\nhost: 127.0.0.1:")
        assert b"\r\nsc_user_id: u\r\n" in served.requests[0]
        await senders.close()


async def test_bodies_are_sent_with_their_length(flavour: str) -> None:
    async with serve(always_ok) as served:
        senders = Senders(flavour)
        await senders.send(get(served.origin, method="POST", content=b'{"a":1}'))
        assert b"\r\ncontent-length: 7\r\n" in served.requests[0]
        await senders.send(get(served.origin, method="POST"))  # a command without a body
        assert b"\r\ncontent-length: 0\r\n" in served.requests[1]
        await senders.send(get(served.origin, method="DELETE"))
        assert b"content-length" not in served.requests[2]
        await senders.close()


async def test_connections_stay_within_the_limit(flavour: str) -> None:
    async def slow(number: int, head: bytes) -> bytes:
        await asyncio.sleep(0.01)
        return ok()

    async with serve(slow) as served:
        senders = Senders(flavour, max_connections=3)
        results = await asyncio.gather(*(senders.send(get(served.origin)) for _ in range(20)))
        assert all(r.status_code == 200 for r in results)
        assert served.most_open <= 3 and served.connections <= 3
        await senders.close()


async def test_a_kept_alive_connection_closed_before_answering_is_resent_for_reads_only(flavour: str) -> None:
    # The server drops each connection's second request unanswered: what a client sees when the
    # server times out an idle connection just as the request leaves.
    async def drop_second(number: int, head: bytes) -> bytes | None:
        return None if number == 2 else ok()

    async with serve(drop_second) as served:
        senders = Senders(flavour)
        await senders.send(get(served.origin))
        assert (await senders.send(get(served.origin))).status_code == 200
        assert served.connections == 2
        with pytest.raises(motorpool.ReadError) as caught:
            await senders.send(get(served.origin, method="POST", content=b"{}"))
        assert caught.value.request_sent
        assert served.connections == 2  # not sent again
        await senders.close()


async def test_an_answer_that_stalls_is_a_timeout(flavour: str) -> None:
    async def stall(number: int, head: bytes) -> bytes | None:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"  # and 97 bytes never come

    async with serve(stall) as served:
        senders = Senders(flavour)
        started = asyncio.get_running_loop().time()
        with pytest.raises(motorpool.RequestTimeoutError) as caught:
            await senders.send(get(served.origin), Timeout(connect=1, read=0.2))
        assert 0.2 <= asyncio.get_running_loop().time() - started < 1.0
        assert caught.value.request_sent
        await senders.close()


async def test_an_answer_cut_short_by_the_server_is_a_read_error(flavour: str) -> None:
    async def partial(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(partial, "127.0.0.1", 0)
    origin = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    senders = Senders(flavour)
    with pytest.raises(motorpool.ReadError) as caught:
        await senders.send(get(origin))
    assert caught.value.request_sent and "middle" in str(caught.value)
    await senders.close()
    server.close()
    await server.wait_closed()


async def test_the_read_timeout_counts_silence_not_the_whole_answer(flavour: str) -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n")
        for byte in b"abcdef":
            await asyncio.sleep(0.08)
            writer.write(bytes([byte]))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    origin = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    senders = Senders(flavour)
    # 0.48 s in all, never more than 0.08 s of silence.
    response = await senders.send(get(origin), Timeout(connect=1, read=0.3))
    assert response.content == b"abcdef"
    await senders.close()
    server.close()
    await server.wait_closed()


async def test_a_cancelled_request_gives_its_connection_back(flavour: str) -> None:
    if flavour == "sync":
        pytest.skip("a blocking call cannot be cancelled")
    release = asyncio.Event()

    async def first_waits(number: int, head: bytes) -> bytes:
        if b"/wait" in head:
            await release.wait()
        return ok()

    async with serve(first_waits) as served:
        senders = Senders(flavour, max_connections=1)
        task = asyncio.ensure_future(senders.send(get(served.origin, "/wait")))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        # The only place in the pool is free again, on a new connection.
        assert (await asyncio.wait_for(senders.send(get(served.origin)), 2)).status_code == 200
        assert served.connections == 2
        await senders.close()


async def test_a_server_closing_an_idle_connection_is_noticed(flavour: str) -> None:
    async def close_each(number: int, head: bytes) -> bytes:
        return ok(extra="Connection: close\r\n")

    async with serve(close_each) as served:
        senders = Senders(flavour, max_connections=1)
        for _ in range(3):
            assert (await senders.send(get(served.origin))).status_code == 200
        assert served.connections == 3
        await senders.close()

    async def keep(number: int, head: bytes) -> bytes:
        return ok()

    async with serve(keep) as served:
        senders = Senders(flavour, max_connections=1)
        await senders.send(get(served.origin))
    # The server is gone, its connection with it; a new server on another port.
    async with serve(keep) as other:
        assert (await senders.send(get(other.origin))).status_code == 200
        await senders.close()


async def test_a_connection_the_server_closed_while_idle_is_not_used(flavour: str) -> None:
    async def answer_then_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(ok())  # kept alive, as far as the answer says
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()  # the server's idle timeout

    server = await asyncio.start_server(answer_then_hang_up, "127.0.0.1", 0)
    origin = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    senders = Senders(flavour, max_connections=1)
    for method in ("GET", "POST"):
        assert (await senders.send(get(origin, method=method, content=b"{}"))).status_code == 200
        await asyncio.sleep(0.2)
    await senders.close()
    server.close()
    await server.wait_closed()


async def test_chunked_and_gzip_answers_from_a_server(flavour: str) -> None:
    import gzip

    packed = gzip.compress(b'{"big":"' + b"x" * 100_000 + b'"}')

    async def chunky(number: int, head: bytes) -> bytes:
        out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
        for start in range(0, len(packed), 300):
            part = packed[start : start + 300]
            out += b"%x\r\n" % len(part) + part + b"\r\n"
        return out + b"0\r\n\r\n"

    async with serve(chunky) as served:
        senders = Senders(flavour)
        for _ in range(2):
            response = await senders.send(get(served.origin))
            assert len(response.content) == 100_010 and response.content.endswith(b'x"}')
        assert served.connections == 1
        await senders.close()


async def test_nobody_listening_is_a_connect_error(flavour: str) -> None:
    async with serve(always_ok) as served:
        origin = served.origin
    senders = Senders(flavour)
    with pytest.raises(motorpool.ConnectError) as caught:
        await senders.send(get(origin))
    assert not caught.value.request_sent
    await senders.close()


def make_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


async def test_https_is_verified_against_the_trusted_authorities(
    flavour: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert_file, key_file = make_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    async with serve(always_ok, server_context) as served:
        senders = Senders(flavour)
        with pytest.raises(motorpool.ConnectError):  # not trusted
            await senders.send(get(served.origin))
        await senders.close()
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
        senders = Senders(flavour)
        for _ in range(2):
            assert (await senders.send(get(served.origin))).status_code == 200
        assert served.connections == 1  # kept alive (the refused handshake never reached the handler)
        await senders.close()


async def token_or_ok(number: int, head: bytes) -> bytes:
    if head.startswith(b"POST /oauth2/token "):
        return ok(b'{"access_token":"t","token_type":"Bearer","expires_in":3600}')
    return ok()


async def test_header_injection_is_refused_before_anything_is_sent(flavour: str) -> None:
    async with serve(token_or_ok) as served:
        client: Any = (motorpool.AsyncClient if flavour == "async" else motorpool.Client)("id", "secret", base_url=served.origin)
        view = client.user("u\r\nx-evil: 1")
        with pytest.raises(motorpool.ConfigurationError):
            if flavour == "async":
                await view.vehicles.get("v")
            else:
                await asyncio.to_thread(view.vehicles.get, "v")
        assert not any(b"x-evil" in r for r in served.requests)
        if flavour == "async":
            await client.aclose()
        else:
            client.close()


@pytest.mark.parametrize("flavour", ["async", "sync"])
def test_a_proxy_in_the_environment_sends_through_httpx(flavour: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cls: Any = motorpool.AsyncClient if flavour == "async" else motorpool.Client
    direct = cls("id", "secret", base_url="http://127.0.0.1:9")
    assert isinstance(direct._sender, AsyncioSender if flavour == "async" else SocketSender)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    proxied = cls("id", "secret", base_url="http://127.0.0.1:9")
    assert isinstance(proxied._sender, AsyncHttpxSender if flavour == "async" else HttpxSender)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    bypassed = cls("id", "secret", base_url="http://127.0.0.1:9")
    assert isinstance(bypassed._sender, AsyncioSender if flavour == "async" else SocketSender)


async def test_a_client_used_from_a_second_event_loop_opens_new_connections() -> None:
    async with serve(always_ok) as served:
        origin = served.origin
        client = motorpool.AsyncClient("id", "secret", base_url=origin)

        def other_loop() -> int:
            async def read() -> int:
                status = (await client._sender.send(get(origin), TIMEOUT)).status_code
                await client.aclose()  # closes that loop's connections; the client stays usable
                return status  # type: ignore[no-any-return]

            return asyncio.run(read())

        assert await asyncio.to_thread(other_loop) == 200
        assert (await client._sender.send(get(origin), TIMEOUT)).status_code == 200
        assert served.connections == 2
        await client.aclose()
