"""``GET /admin/vehicles/{id}`` (``motorpool vehicles show``): the operator's view of a car is
the report an application reads, with the car's activity, its queued commands and its pins."""

from __future__ import annotations

from typing import Any

from ..support.api import assert_error, clock, command, connected_vehicle, get, ms, steer
from ..support.harness import PlatformHarness


async def test_the_view_is_what_the_application_reads(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform)
    await clock(platform, "PUT", rate=0)
    await steer(platform, vehicle_id, "plug", plugged=True)
    shown = await platform.admin("GET", f"/admin/vehicles/{vehicle_id}")
    assert (shown["id"], shown["make"], shown["model"]) == (vehicle_id, "TESLA", "Model 3")
    assert shown["applicationId"] == platform.application_id and shown["state"]["plugged"] is True

    resources: list[dict[str, Any]] = []
    for page in (1, 2, 3):
        read = await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id, params={"page": page, "pageSize": 100})
        assert read.status_code == 200, read.text
        resources += read.json()["data"]
    assert len(resources) > 20
    by_code = {s["code"]: s for s in shown["signals"]}
    for resource in resources:
        code = resource["attributes"]["code"]
        if "body" in resource["attributes"]:
            assert by_code[code]["body"] == resource["attributes"]["body"], code
            assert ms(by_code[code]["recordedAt"]) == resource["meta"]["oemUpdatedAt"]
    assert all(s["ageSeconds"] >= 0 for s in shown["signals"])
    assert not any(s["pinned"] for s in shown["signals"])

    await steer(platform, vehicle_id, "open", part="trunk", open=True)
    await platform.admin("PUT", f"/admin/vehicles/{vehicle_id}/signals/odometer-traveleddistance", json={"body": {"value": 1234}})
    shown = await platform.admin("GET", f"/admin/vehicles/{vehicle_id}")
    pinned = {s["code"]: s for s in shown["signals"]}["odometer-traveleddistance"]
    assert pinned["pinned"] is True and pinned["body"]["value"] == 1234
    assert "trunk" in shown["state"]["open"]


async def test_a_sleeping_cars_queued_command_is_shown(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform)
    await clock(platform, "PUT", rate=0)
    await steer(platform, vehicle_id, "sleep")
    assert (await platform.admin("GET", f"/admin/vehicles/{vehicle_id}"))["state"]["asleep"] is True
    sent = await command(platform, user_id, vehicle_id, "security/lock")
    assert sent.status_code == 202, sent.text
    queued = (await platform.admin("GET", f"/admin/vehicles/{vehicle_id}"))["queuedCommands"]
    assert [q["id"] for q in queued] == [sent.json()["data"]["id"]]
    await clock(platform, "POST", "/advance", by="5m")
    later = await platform.admin("GET", f"/admin/vehicles/{vehicle_id}")
    assert later["state"]["locked"] is True


async def test_unknown_malformed_and_unauthorised(platform: PlatformHarness) -> None:
    path = "/admin/vehicles/00000000-0000-0000-0000-000000000000"
    assert_error(await platform.http.get(path, headers=platform.admin_headers), 404, "RESOURCE_NOT_FOUND")
    assert_error(await platform.http.get("/admin/vehicles/not-an-id", headers=platform.admin_headers), 400, "VALIDATION")
    assert (await platform.http.get(path)).status_code == 401
