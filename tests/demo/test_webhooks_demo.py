"""The demo's webhook receiver, with real deliveries: the platform in-process posts over a real
loopback socket to the demo served by uvicorn in the same loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from motorpool.demo.app import create_app
from motorpool.demo.settings import DemoSettings

from ..support.harness import PlatformHarness
from ..support.v2 import fleet_vehicle


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def demo_url(sqlite_platform: PlatformHarness, tmp_path: Path) -> AsyncIterator[str]:
    settings = DemoSettings(
        client_id=sqlite_platform.client_id,
        client_secret=sqlite_platform.client_secret,
        base_url=sqlite_platform.base_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        management_token=sqlite_platform.management_token,
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _events(demo_url: str, vehicle_id: str, count: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            found = (await http.get(f"{demo_url}/webhooks")).json().get(vehicle_id, [])
            if len(found) >= count:
                return list(found)
            await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} events for {vehicle_id}")


async def test_the_demo_verifies_receives_once_and_refuses_bad_signatures(
    sqlite_platform: PlatformHarness, demo_url: str
) -> None:
    platform = sqlite_platform
    webhook = await platform.admin(
        "POST", f"/admin/applications/{platform.application_id}/webhooks",
        json={"name": "demo", "callbackUri": f"{demo_url}/webhooks",
              "triggers": ["odometer-traveleddistance"], "data": ["odometer-traveleddistance"]},
    )  # fmt: skip
    assert webhook["meta"]["verified"] is True, webhook
    vehicle_id = await fleet_vehicle(platform, seed=21)
    user_id, _ = await platform.connect(email="demo-hooks@example.com", vehicles=[vehicle_id])
    subscribed = await platform.http.post(
        "/v3/subscriptions", headers=await platform.auth_headers(),
        json={"data": {"attributes": {"webhookId": webhook["id"], "userId": user_id, "vehicleId": vehicle_id}}},
    )  # fmt: skip
    assert subscribed.status_code == 202
    (first,) = await _events(demo_url, vehicle_id, 1)
    assert first["eventType"] == "VEHICLE_STATE" and first["triggers"] == ["FIRST_DELIVERY"]

    # Sent again with its eventId (a retry, or redeliver): delivered, and kept once.
    await platform.admin("POST", f"/admin/events/{first['eventId']}/redeliver")
    for _ in range(200):
        log = await platform.admin("GET", f"/admin/webhooks/{webhook['id']}/deliveries")
        if sum(d["eventId"] == first["eventId"] for d in log) == 2:
            break
        await asyncio.sleep(0.05)
    again = [d for d in log if d["eventId"] == first["eventId"]]
    assert [d["statusCode"] for d in again] == [200, 200]
    assert len(await _events(demo_url, vehicle_id, 1)) == 1

    async with httpx.AsyncClient() as http:
        body = again[0]["requestBody"].encode()
        forged = await http.post(f"{demo_url}/webhooks", content=body, headers={"SC-Signature": "0" * 64})
        unsigned = await http.post(f"{demo_url}/webhooks", content=body)
    assert forged.status_code == 401 and unsigned.status_code == 401
