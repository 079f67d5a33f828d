"""Vehicle commands: success, refusals decided by the simulated state, effects on signals."""

from __future__ import annotations

from ..support.api import assert_error, clock, command, connected_vehicle, ms, signal, steer
from ..support.harness import PlatformHarness


async def test_lock_and_unlock_change_the_lock_signal(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform)
    response = await command(platform, user_id, vehicle_id, "security/unlock")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["id"].startswith("exec_") and data["type"] == "command-execution"
    assert data["attributes"]["commandType"] == "security-unlock"
    assert data["attributes"]["status"] == {"value": "SUCCESS"}
    assert data["attributes"]["executionMode"] == "sync"
    assert (await signal(platform, user_id, vehicle_id, "closure-islocked"))["value"] is False
    assert (await command(platform, user_id, vehicle_id, "security/lock")).status_code == 200
    assert (await signal(platform, user_id, vehicle_id, "closure-islocked"))["value"] is True


async def test_a_sync_command_completed_no_later_than_its_answer(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform)
    await clock(platform, "PUT", rate=0)  # simulated time stands still: nothing can be later
    frozen_at = (await clock(platform))["nowMs"]
    response = await command(platform, user_id, vehicle_id, "security/unlock")
    assert response.status_code == 200, response.text
    meta = response.json()["data"]["meta"]
    assert ms(meta["executedAt"]) == frozen_at
    # It took effect at the instant it was asked; reads at that instant already show it.
    assert ms(meta["completedAt"]) == frozen_at and meta["durationInSeconds"] == 0
    assert (await signal(platform, user_id, vehicle_id, "closure-islocked"))["value"] is False

    await clock(platform, "PUT", rate=1)
    response = await command(platform, user_id, vehicle_id, "security/lock")
    answered_by = (await clock(platform))["nowMs"]
    meta = response.json()["data"]["meta"]
    assert ms(meta["executedAt"]) <= ms(meta["completedAt"]) <= answered_by


async def test_charging_starts_and_stops_with_the_plug(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform)
    await steer(platform, vehicle_id, "plug", plugged=False)
    assert_error(await command(platform, user_id, vehicle_id, "charge/start"), 409, "VEHICLE_STATE",
                 "CHARGING_PLUG_NOT_CONNECTED")
    assert_error(await command(platform, user_id, vehicle_id, "charge/stop"), 409, "VEHICLE_STATE", "NOT_CHARGING")

    await steer(platform, vehicle_id, "plug", plugged=True)
    # Room below the limit, so the start is not refused as fully charged.
    await command(platform, user_id, vehicle_id, "charge/set-limit", {"data": {"attributes": {"percent": 100}}})
    started = await command(platform, user_id, vehicle_id, "charge/start")
    assert started.status_code == 200, started.text
    assert started.json()["data"]["attributes"]["commandType"] == "charge-start"
    assert (await signal(platform, user_id, vehicle_id, "charge-ischarging"))["value"] is True
    assert (await signal(platform, user_id, vehicle_id, "charge-detailedchargingstatus"))["value"] == "CHARGING"
    assert_error(await command(platform, user_id, vehicle_id, "charge/start"), 409, "VEHICLE_STATE",
                 "CHARGING_IN_PROGRESS")

    assert (await command(platform, user_id, vehicle_id, "charge/stop")).status_code == 200
    assert (await signal(platform, user_id, vehicle_id, "charge-ischarging"))["value"] is False


async def test_set_limit_is_validated_and_read_back(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform)
    response = await command(platform, user_id, vehicle_id, "charge/set-limit", {"data": {"attributes": {"percent": 80}}})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["parameters"] == {"percent": 80}
    limits = await signal(platform, user_id, vehicle_id, "charge-chargelimits")
    assert {"type": "GLOBAL", "limit": 80, "condition": None} in limits["values"]
    for bad in (49, 101, "80", 80.5, None):
        assert_error(await command(platform, user_id, vehicle_id, "charge/set-limit",
                                   {"data": {"attributes": {"percent": bad}}}), 400, "VALIDATION")
    assert_error(await command(platform, user_id, vehicle_id, "charge/set-limit", {}), 400, "VALIDATION")


async def test_lock_while_driving_is_refused_in_motion(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    await steer(sqlite_platform, vehicle_id, "drive", latitude=40.0, longitude=-100.0)
    assert_error(await command(sqlite_platform, user_id, vehicle_id, "security/unlock"), 409, "VEHICLE_STATE",
                 "IN_MOTION")


async def test_commands_need_their_permission_and_the_user(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform, scope=["read_vehicle_info", "control_charge"])
    assert_error(await command(sqlite_platform, user_id, vehicle_id, "security/lock"), 403, "PERMISSION")
    assert_error(await command(sqlite_platform, None, vehicle_id, "security/lock"), 400, "VALIDATION")  # type: ignore[arg-type]


async def test_admin_steering_answers_and_refuses_cleanly(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    assert (await steer(sqlite_platform, vehicle_id, "sleep"))["activity"] == "parked"
    await steer(sqlite_platform, vehicle_id, "wake")
    assert (await command(sqlite_platform, user_id, vehicle_id, "security/unlock")).status_code == 200
    pinned = await sqlite_platform.admin("PUT", f"/admin/vehicles/{vehicle_id}/signals/closure-islocked",
                                         json={"body": {"value": True}})
    assert pinned["vehicleId"] == vehicle_id
    assert (await signal(sqlite_platform, user_id, vehicle_id, "closure-islocked"))["value"] is True
    headers = sqlite_platform.admin_headers
    bad_drive = await sqlite_platform.http.post(f"/admin/vehicles/{vehicle_id}/drive", headers=headers,
                                                json={"latitude": 91, "longitude": 0})
    assert bad_drive.status_code == 400, bad_drive.text
    assert bad_drive.json()["type"] == "VALIDATION"
    assert (await steer(sqlite_platform, vehicle_id, "online", online=False))["vehicleId"] == vehicle_id


async def test_one_seed_makes_one_vehicle(sqlite_platform: PlatformHarness) -> None:
    await connected_vehicle(sqlite_platform)
    again = await sqlite_platform.http.post("/admin/vehicles", headers=sqlite_platform.admin_headers, json={
        "applicationId": sqlite_platform.application_id, "make": "TESLA", "model": "Model 3", "seed": 7})
    assert_error(again, 409, again.json()["type"])
    assert "seed 7" in again.json()["description"]
