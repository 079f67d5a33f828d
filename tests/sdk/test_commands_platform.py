"""The SDK's commands and charge schedules against the real platform, sync and async mirrored.

Every answer comes from motorpool's simulation: refusals are decided by the simulated car's
state, and a sleeping car's command completes later, on the application's clock."""

from __future__ import annotations

import motorpool

from ..support.api import HOME, connected_vehicle, steer
from ..support.sdk import SDK_CONTROL, Against


async def test_lock_unlock_and_the_lock_signal(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, "TESLA", "Model 3", seed=21, scope=SDK_CONTROL)
    me = on.client().user(user_id)
    unlocked = await on.run(lambda: me.commands.unlock(vehicle_id))
    assert isinstance(unlocked, motorpool.CommandExecution)
    assert unlocked.succeeded and unlocked.command_type == "security-unlock"
    assert unlocked.execution_mode == "sync" and unlocked.id.startswith("exec_")
    assert unlocked.meta.request_id
    assert (await on.run(lambda: me.signals.get(vehicle_id, "closure-islocked"))).body["value"] is False
    assert (await on.run(lambda: me.commands.lock(vehicle_id))).succeeded
    again = await on.run(lambda: me.commands.get_execution(vehicle_id, unlocked.id))
    assert again.id == unlocked.id and again.succeeded


async def test_charging_commands_and_their_refusals(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, "TESLA", "Model Y", seed=22, scope=SDK_CONTROL)
    me = on.client().user(user_id)
    await steer(on.platform, vehicle_id, "plug", plugged=False)
    refused = await on.raises(motorpool.VehicleStateError, lambda: me.commands.start_charge(vehicle_id))
    assert refused.status_code == 409 and refused.code == "CHARGING_PLUG_NOT_CONNECTED"
    assert (await on.raises(motorpool.VehicleStateError, lambda: me.commands.stop_charge(vehicle_id))).code == "NOT_CHARGING"

    await steer(on.platform, vehicle_id, "plug", plugged=True)
    limit = await on.run(lambda: me.commands.set_charge_limit(vehicle_id, 100))
    assert limit.parameters == {"percent": 100}
    assert (await on.run(lambda: me.commands.start_charge(vehicle_id))).succeeded
    assert (await on.raises(motorpool.VehicleStateError, lambda: me.commands.start_charge(vehicle_id))).code == "CHARGING_IN_PROGRESS"
    assert (await on.run(lambda: me.signals.get(vehicle_id, "charge-ischarging"))).body["value"] is True
    assert (await on.run(lambda: me.commands.stop_charge(vehicle_id))).succeeded
    invalid = await on.raises(motorpool.ValidationError, lambda: me.commands.set_charge_limit(vehicle_id, 20))
    assert invalid.status_code == 400


async def test_charge_port_and_navigation(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, "TESLA", "Model 3", seed=23, scope=SDK_CONTROL)
    me = on.client().user(user_id)
    await steer(on.platform, vehicle_id, "plug", plugged=False)
    assert (await on.run(lambda: me.commands.open_charge_port(vehicle_id))).command_type == "charge-port-open"
    assert (await on.run(lambda: me.signals.get(vehicle_id, "charge-ischargingportflapopen"))).body["value"] is True
    assert (await on.run(lambda: me.commands.close_charge_port(vehicle_id))).succeeded
    sent = await on.run(lambda: me.commands.set_destination(vehicle_id, 37.8, -122.3))
    assert sent.parameters == {"latitude": 37.8, "longitude": -122.3}
    bad = await on.raises(motorpool.ValidationError, lambda: me.commands.set_destination(vehicle_id, 95.0, 0.0))
    assert bad.status_code == 400


async def test_a_sleeping_car_answers_pending_and_completes_on_the_clock(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, "TESLA", "Model 3", seed=24, scope=SDK_CONTROL)
    me = on.client().user(user_id)
    clock = f"/admin/applications/{on.platform.application_id}/clock"
    await on.platform.admin("PUT", clock, json={"rate": 0})
    await steer(on.platform, vehicle_id, "sleep")
    pending = await on.run(lambda: me.commands.lock(vehicle_id))
    assert pending.is_pending and pending.execution_mode == "async"
    await on.platform.admin("POST", clock + "/advance", json={"by": "3m"})
    done = await on.run(lambda: me.commands.get_execution(vehicle_id, pending.id))
    assert done.succeeded and done.completed_at is not None

    toyota_user, toyota = await connected_vehicle(on.platform, "TOYOTA", "RAV4 Prime", seed=25, scope=SDK_CONTROL)
    await steer(on.platform, toyota, "sleep")
    owner = on.client().user(toyota_user)
    asleep = await on.raises(motorpool.VehicleStateError, lambda: owner.commands.lock(toyota))
    assert asleep.code == "ASLEEP"


async def test_charge_schedules_create_read_back_and_delete(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, "TESLA", "Model 3", seed=26, scope=SDK_CONTROL)
    me = on.client().user(user_id)
    daily = await on.run(lambda: me.charge_schedules.set_daily(
        vehicle_id, latitude=HOME["latitude"], longitude=HOME["longitude"], start_time="01:00", stop_time="06:00"))
    assert daily.succeeded and daily.action == "create" and daily.schedule_type == "daily"
    weekly = await on.run(lambda: me.charge_schedules.set_weekly(
        vehicle_id, latitude=40.0, longitude=-105.0, days={"Monday": ("22:00", "23:00")}))
    workweek = await on.run(lambda: me.charge_schedules.set_workweek(
        vehicle_id, latitude=41.0, longitude=-105.0, weekdays=("00:30", "05:00"), weekends=("10:00", "12:00")))
    timers = (await on.run(lambda: me.signals.get(vehicle_id, "charge-chargetimers"))).body["values"]
    ids = {t.get("scheduleId") for t in timers}
    assert {daily.schedule_id, weekly.schedule_id, workweek.schedule_id} <= ids

    removed = await on.run(lambda: me.charge_schedules.delete(vehicle_id, daily.schedule_id))
    assert isinstance(removed, motorpool.CommandExecution) and removed.action == "delete"
    gone = await on.raises(motorpool.ResourceNotFoundError,
                           lambda: me.charge_schedules.delete(vehicle_id, daily.schedule_id))
    assert gone.status_code == 404

    ford_user, ford = await connected_vehicle(on.platform, "FORD", "Mustang Mach-E", seed=27, scope=SDK_CONTROL)
    ford_owner = on.client().user(ford_user)
    incapable = await on.raises(motorpool.CompatibilityError, lambda: ford_owner.charge_schedules.set_daily(
        ford, latitude=1.0, longitude=2.0, start_time="01:00", stop_time="02:00"))
    assert incapable.status_code == 501 and incapable.code == "VEHICLE_NOT_CAPABLE"


async def test_command_permissions_and_motion(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, "TESLA", "Model 3", seed=28, scope=["read_vehicle_info", "control_charge"])
    me = on.client().user(user_id)
    denied = await on.raises(motorpool.PermissionDeniedError, lambda: me.commands.lock(vehicle_id))
    assert denied.status_code == 403
    mover_user, mover = await connected_vehicle(on.platform, "TESLA", "Model 3", seed=29, scope=SDK_CONTROL)
    await steer(on.platform, mover, "drive", latitude=38.5, longitude=-121.5)
    driver = on.client().user(mover_user)
    moving = await on.raises(motorpool.VehicleStateError, lambda: driver.commands.unlock(mover))
    assert moving.code == "IN_MOTION"


async def test_a_full_battery_refuses_to_start_charging(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, "TESLA", "Model 3", seed=30, scope=SDK_CONTROL)
    me = on.client().user(user_id)
    await on.platform.admin("PUT", f"/admin/applications/{on.platform.application_id}/clock", json={"rate": 0})
    assert (await on.run(lambda: me.commands.set_charge_limit(vehicle_id, 80))).succeeded
    await steer(on.platform, vehicle_id, "plug", plugged=False)
    await steer(on.platform, vehicle_id, "plug", plugged=True, start=True, kw=11)
    await on.platform.admin("POST", f"/admin/applications/{on.platform.application_id}/clock/advance", json={"by": "2d"})
    await steer(on.platform, vehicle_id, "wake")  # two idle days put it to sleep
    status = await on.run(lambda: me.signals.get(vehicle_id, "charge-detailedchargingstatus"))
    assert status.body["value"] == "FULLY_CHARGED"

    full = await on.raises(motorpool.VehicleStateError, lambda: me.commands.start_charge(vehicle_id))
    assert (full.status_code, full.type, full.code) == (409, "VEHICLE_STATE", "FULLY_CHARGED")
    assert full.request_id
    # Raising the limit makes room again: the refusal was the limit's.
    assert (await on.run(lambda: me.commands.set_charge_limit(vehicle_id, 100))).succeeded
    assert (await on.run(lambda: me.commands.start_charge(vehicle_id))).succeeded


async def test_an_offline_car_is_unreachable_for_commands(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, "TESLA", "Model 3", seed=31, scope=SDK_CONTROL)
    me = on.client().user(user_id)
    await steer(on.platform, vehicle_id, "online", online=False)
    unreachable = await on.raises(motorpool.VehicleStateError, lambda: me.commands.lock(vehicle_id))
    assert (unreachable.status_code, unreachable.type, unreachable.code) == (409, "VEHICLE_STATE", "UNREACHABLE")
    assert unreachable.request_id
    await steer(on.platform, vehicle_id, "online", online=True)
    assert (await on.run(lambda: me.commands.lock(vehicle_id))).succeeded


async def test_a_car_with_a_door_open_does_not_lock(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, "TESLA", "Model 3", seed=32, scope=SDK_CONTROL)
    me = on.client().user(user_id)
    assert (await on.run(lambda: me.commands.unlock(vehicle_id))).succeeded
    await steer(on.platform, vehicle_id, "open", part="door-0-1")
    door = await on.raises(motorpool.VehicleStateError, lambda: me.commands.lock(vehicle_id))
    assert (door.status_code, door.type, door.code) == (409, "VEHICLE_STATE", "DOOR_OPEN")
    assert door.request_id
    assert (await on.run(lambda: me.signals.get(vehicle_id, "closure-islocked"))).body["value"] is False
    await steer(on.platform, vehicle_id, "open", part="door-0-1", open=False)
    assert (await on.run(lambda: me.commands.lock(vehicle_id))).succeeded


async def test_a_command_the_car_cannot_do_is_incompatible(on: Against) -> None:
    user_id, truck = await connected_vehicle(on.platform, "FORD", "F-150", seed=33, scope=SDK_CONTROL)
    me = on.client().user(user_id)
    for call in (lambda: me.commands.start_charge(truck), lambda: me.commands.set_charge_limit(truck, 80)):
        incapable = await on.raises(motorpool.CompatibilityError, call)
        assert (incapable.status_code, incapable.type, incapable.code) == (501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
        assert incapable.request_id
    assert (await on.run(lambda: me.commands.lock(truck))).succeeded  # what it can do, it does


async def test_a_pending_command_fails_when_the_car_cannot_do_it_on_waking(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, "TESLA", "Model 3", seed=34, scope=SDK_CONTROL)
    me = on.client().user(user_id)
    clock = f"/admin/applications/{on.platform.application_id}/clock"
    await on.platform.admin("PUT", clock, json={"rate": 0})
    await steer(on.platform, vehicle_id, "plug", plugged=False)
    await steer(on.platform, vehicle_id, "plug", plugged=True)
    await steer(on.platform, vehicle_id, "sleep")
    pending = await on.run(lambda: me.commands.start_charge(vehicle_id))
    assert pending.is_pending and pending.execution_mode == "async" and pending.status_error is None
    await steer(on.platform, vehicle_id, "plug", plugged=False)  # unplugged before the car is awake
    await on.platform.admin("POST", clock + "/advance", json={"by": "5m"})

    failed = await on.run(lambda: me.commands.get_execution(vehicle_id, pending.id))
    assert failed.id == pending.id and failed.command_type == "charge-start"
    assert failed.status == "FAILURE" and not failed.succeeded and not failed.is_pending
    assert failed.completed_at is not None
    assert failed.status_error is not None
    assert (failed.status_error.type, failed.status_error.code) == ("VEHICLE_STATE", "CHARGING_PLUG_NOT_CONNECTED")
    assert failed.status_error.description
    assert (await on.run(lambda: me.signals.get(vehicle_id, "charge-ischarging"))).body["value"] is False
