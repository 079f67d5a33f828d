"""The transports against a misbehaving server on a real loopback socket.

Each fault ends, for the sync client (httpx), the async client's default (aiohttp) and its
httpx backend alike, in a typed SDK error or a documented retry within the configured time,
and no answer is held in memory past ``max_response_bytes``.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

import motorpool

from ..support.faulty_server import BOMB_SIZE, FaultyServer, faulty_server
from ..support.sdk import CLIENT_ID, CLIENT_SECRET

KINDS = ["sync", "async", "async-httpx"]
FAST = motorpool.RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.02)
LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def module_server() -> Iterator[FaultyServer]:
    with faulty_server() as server:
        yield server


@pytest.fixture
def server(module_server: FaultyServer, monkeypatch: pytest.MonkeyPatch) -> FaultyServer:
    # The machine's proxy settings must not route loopback requests elsewhere.
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name)
    module_server.hits.clear()
    module_server.proxied.clear()
    return module_server


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def get(kind: str, origin: str, vehicle: str, **options: Any) -> motorpool.Vehicle:
    """``vehicles.get(vehicle)`` on a fresh client of ``kind``, closed afterwards."""
    options.setdefault("max_retries", 0)
    if kind == "sync":
        with motorpool.Client(CLIENT_ID, CLIENT_SECRET, base_url=origin, **options) as client:
            return client.vehicles.get(vehicle)
    backend = "httpx" if kind == "async-httpx" else "aiohttp"
    async with motorpool.AsyncClient(
        CLIENT_ID, CLIENT_SECRET, base_url=origin, http_backend=backend, **options
    ) as async_client:
        return await async_client.vehicles.get(vehicle)


async def fails(error: type[BaseException], kind: str, origin: str, vehicle: str, **options: Any) -> BaseException:
    with pytest.raises(error) as caught:
        await get(kind, origin, vehicle, **options)
    return caught.value


async def test_a_well_behaved_answer_is_read(server: FaultyServer, kind: str) -> None:
    vehicle = await get(kind, server.origin, "ok")
    assert (vehicle.make, vehicle.year) == ("TESLA", 2022)


async def test_a_huge_content_length_is_refused_before_reading(server: FaultyServer, kind: str) -> None:
    started = time.monotonic()
    error = await fails(motorpool.ResponseTooLargeError, kind, server.origin, "huge-length")
    assert "10,000,000,000" in str(error) and error.limit == 16 * 1024 * 1024  # type: ignore[attr-defined]
    assert isinstance(error, motorpool.ReadError) and time.monotonic() - started < 5


@pytest.mark.parametrize("bomb", ["gzip-bomb", "deflate-bomb"])
async def test_a_compression_bomb_stops_at_the_limit(server: FaultyServer, kind: str, bomb: str) -> None:
    assert len(server.bomb(bomb.split("-")[0])) < 300_000
    tracemalloc.start()
    try:
        error = await fails(
            motorpool.ResponseTooLargeError, kind, server.origin, bomb, max_response_bytes=LIMIT
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.limit == LIMIT  # type: ignore[attr-defined]
    # The bomb inflates to 200 MB; the client never holds more than a few times the limit.
    assert peak < 8 * LIMIT < BOMB_SIZE


async def test_the_limit_applies_to_plain_answers_too(server: FaultyServer, kind: str) -> None:
    await fails(motorpool.ResponseTooLargeError, kind, server.origin, "ok", max_response_bytes=10)


async def test_a_truncated_body_is_a_read_error(server: FaultyServer, kind: str) -> None:
    error = await fails(motorpool.ReadError, kind, server.origin, "truncated")
    assert not isinstance(error, motorpool.ResponseTooLargeError) and error.request_sent  # type: ignore[attr-defined]


async def test_a_slow_drip_ends_at_the_deadline(server: FaultyServer, kind: str) -> None:
    # Each byte comes well within the read timeout; the whole answer would take 20 s.
    started = time.monotonic()
    await fails(
        motorpool.RequestTimeoutError,
        kind,
        server.origin,
        "drip",
        timeout=motorpool.Timeout(connect=0.5, read=1.0),
    )
    assert 1.0 <= time.monotonic() - started < 4


async def test_a_head_dripped_past_the_deadline_ends_at_the_deadline(server: FaultyServer, kind: str) -> None:
    # The status line and headers come a byte every 0.1 s, each well within the 1 s read timeout;
    # the head alone would take 30 s. The deadline (connect + read = 1.5 s) holds for the head too.
    started = time.monotonic()
    error = await fails(
        motorpool.RequestTimeoutError,
        kind,
        server.origin,
        "head-drip",
        timeout=motorpool.Timeout(connect=0.5, read=1.0),
    )
    elapsed = time.monotonic() - started
    assert error.request_sent  # type: ignore[attr-defined]
    assert 1.0 <= elapsed < 1.5 + 0.5, elapsed
    assert server.hits["/v3/vehicles/head-drip"] == 1


async def test_a_reset_connection_is_a_read_error_and_reads_are_retried(server: FaultyServer, kind: str) -> None:
    error = await fails(motorpool.ReadError, kind, server.origin, "reset", retry_policy=FAST, max_retries=None)
    assert error.request_sent  # type: ignore[attr-defined]
    attempts = FAST.max_retries + 1
    if kind == "async":
        # aiohttp itself resends a GET once when the connection drops before the answer.
        assert attempts <= server.hits["/v3/vehicles/reset"] <= 2 * attempts
    else:
        assert server.hits["/v3/vehicles/reset"] == attempts


async def test_a_429_is_retried_after_its_retry_after(server: FaultyServer, kind: str) -> None:
    started = time.monotonic()
    vehicle = await get(kind, server.origin, "rate-limited", retry_policy=FAST, max_retries=None)
    elapsed = time.monotonic() - started
    assert vehicle.make == "TESLA" and server.hits["/v3/vehicles/rate-limited"] == 2
    assert 1.0 <= elapsed < 4


async def test_503s_are_retried_then_raised(server: FaultyServer, kind: str) -> None:
    error = await fails(motorpool.ServerError, kind, server.origin, "unavailable", retry_policy=FAST, max_retries=None)
    assert error.status_code == 503  # type: ignore[attr-defined]
    assert server.hits["/v3/vehicles/unavailable"] == FAST.max_retries + 1


async def test_a_redirect_is_never_followed(server: FaultyServer, kind: str) -> None:
    error = await fails(motorpool.ApiError, kind, server.origin, "redirect", retry_policy=FAST, max_retries=None)
    assert error.status_code == 302  # type: ignore[attr-defined]
    assert server.hits["/v3/vehicles/redirect"] == 1


async def test_proxies_come_from_the_environment(
    server: FaultyServer, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.origin)
    vehicle = await get(kind, "http://vehicles.example", "ok")
    assert vehicle.make == "TESLA"
    assert "http://vehicles.example/v3/vehicles/ok" in server.proxied


async def test_an_unreadable_ssl_cert_file_is_a_configuration_error(
    kind: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("not a certificate")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with pytest.raises(motorpool.ConfigurationError, match="SSL_CERT_FILE"):
        await get(kind, "https://vehicles.example", "ok")
