"""The default senders over real loopback sockets, against the platform served by uvicorn.

The platform app is served by uvicorn on 127.0.0.1 in the test's event loop; the clients use
their default network stacks, exactly as an application would. Transport failures are produced
for real too: a port nobody listens on, a server that hangs up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

import motorpool

from ..support.harness import PlatformHarness
from ..support.processes import free_port


@pytest.fixture
async def served(sqlite_platform: PlatformHarness) -> AsyncIterator[tuple[PlatformHarness, str]]:
    """The platform app on a real loopback port (its lifespan already runs in the fixture)."""
    config = uvicorn.Config(sqlite_platform.app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield sqlite_platform, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_async_client_over_its_default_sender(served: tuple[PlatformHarness, str]) -> None:
    h, origin = served
    user_id, vehicles = await h.connect(email="o@example.com", mode="simulated")
    async with motorpool.AsyncClient(h.client_id, h.client_secret, base_url=origin) as client:
        me = client.user(user_id)
        vehicle = await me.vehicles.get(vehicles[0])
        assert vehicle.id == vehicles[0] and vehicle.meta.request_id
        results = await me.signals.list_many(vehicles * 10, max_in_flight=8)
        assert len(results) == 10 * len(vehicles) and all(r.ok for r in results)
        assert all(r.signals is not None and r.signals.odometer is not None for r in results)
        connections = [c async for c in client.connections.list(user_id=user_id, page_size=1)]
        assert sorted(c.vehicle_id for c in connections) == sorted(vehicles)
        error = None
        try:
            await me.signals.get(vehicles[0], "nope-nope")
        except motorpool.ResourceNotFoundError as caught:
            error = caught
        assert error is not None and error.request_id


async def test_sync_client_over_its_default_sender(served: tuple[PlatformHarness, str]) -> None:
    h, origin = served
    user_id, vehicles = await h.connect(email="o@example.com", mode="simulated")

    def read() -> list[Any]:
        with motorpool.Client(h.client_id, h.client_secret, base_url=origin) as client:
            me = client.user(user_id)
            assert me.vehicles.get(vehicles[0]).id == vehicles[0]
            return me.signals.list_many(vehicles, max_in_flight=3)

    results = await asyncio.to_thread(read)
    assert [r.vehicle_id for r in results] == vehicles and all(r.ok for r in results)


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_nobody_listening_is_a_connect_error_after_retries(flavour: str) -> None:
    origin = f"http://127.0.0.1:{free_port()}"
    policy = motorpool.RetryPolicy(max_retries=1, initial_delay=0.01)
    if flavour == "async":
        client: Any = motorpool.AsyncClient("id", "secret", base_url=origin, retry_policy=policy)
        with pytest.raises(motorpool.ConnectError) as caught:
            await client.vehicles.get("v")
        await client.aclose()
    else:
        sync = motorpool.Client("id", "secret", base_url=origin, retry_policy=policy)
        with pytest.raises(motorpool.ConnectError) as caught:
            await asyncio.to_thread(sync.vehicles.get, "v")
        sync.close()
    assert not caught.value.request_sent


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_a_server_that_hangs_up_is_a_read_error_and_a_slow_one_a_timeout(flavour: str) -> None:
    accepted = 0

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)
        writer.close()

    for handler, error, attempts in ((hang_up, motorpool.ReadError, 3), (never_answer, motorpool.RequestTimeoutError, None)):
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        origin = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        policy = motorpool.RetryPolicy(max_retries=2, initial_delay=0.01)
        options: dict[str, Any] = {"base_url": origin, "retry_policy": policy, "timeout": 0.2}
        accepted = 0
        if flavour == "async":
            client: Any = motorpool.AsyncClient("id", "secret", **options)
            with pytest.raises(error) as caught:
                await client.access_token()
            await client.aclose()
        else:
            sync = motorpool.Client("id", "secret", **options)
            with pytest.raises(error) as caught:
                await asyncio.to_thread(sync.access_token)
            sync.close()
        assert caught.value.request_sent
        if attempts is not None:
            assert accepted == attempts  # the token request is safe to repeat, and was
        server.close()
        await server.wait_closed()
