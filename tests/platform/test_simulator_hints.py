"""A command a simulated car refuses for a reason the control plane can change says how."""

from __future__ import annotations

from ..support.api import command, connected_vehicle, steer
from ..support.harness import PlatformHarness


async def test_an_unplugged_car_says_how_to_plug_it_in(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    await steer(sqlite_platform, vehicle_id, "plug", plugged=False)
    refused = await command(sqlite_platform, user_id, vehicle_id, "charge/start")
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "CHARGING_PLUG_NOT_CONNECTED"
    assert "motorpool vehicles plug VEHICLE_ID" in body["description"]
    assert "POST /admin/vehicles/VEHICLE_ID/plug" in body["errors"][0]["detail"]


async def test_an_open_trunk_says_how_to_close_it(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    await steer(sqlite_platform, vehicle_id, "open", part="trunk")
    refused = await command(sqlite_platform, user_id, vehicle_id, "security/lock")
    assert refused.status_code == 409 and refused.json()["code"] == "TRUNK_OPEN"
    assert "motorpool vehicles open VEHICLE_ID trunk --close" in refused.json()["description"]
