"""The living simulation through the API: clocks, async commands on sleeping cars, the charge
port, navigation, charge schedules, and their effects on signals."""

from __future__ import annotations

import itertools

from ..support.api import (
    ALL_CONTROL,
    HOME,
    assert_error,
    clock,
    command,
    connected_vehicle,
    get,
    ms,
    schedule,
    signal,
    signal_meta,
    steer,
)
from ..support.harness import PlatformHarness

# --- the clock ----------------------------------------------------------------------------------


async def test_a_frozen_clock_stands_still_and_moves_by_hand(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform, scope=ALL_CONTROL)
    assert (await clock(platform))["rate"] == 1.0
    frozen = await clock(platform, "PUT", rate=0)
    assert frozen["frozen"] is True
    first = await signal_meta(platform, user_id, vehicle_id, "odometer-traveleddistance")
    again = await signal_meta(platform, user_id, vehicle_id, "odometer-traveleddistance")
    assert first["meta"] == again["meta"]

    stepped = await clock(platform, "POST", "/advance", by="2h")
    assert stepped["nowMs"] - frozen["nowMs"] == 2 * 3_600_000
    later = await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id)
    assert ms(later.headers["sc-fetched-at"]) > first["meta"]["retrievedAt"] + 3_600_000
    assert (await clock(platform, "POST", "/advance", seconds=90))["nowMs"] == stepped["nowMs"] + 90_000


async def test_charging_follows_the_clock(platform: PlatformHarness) -> None:
    """Plug in, start charging, advance two hours: the battery has filled, up to the limit."""
    user_id, vehicle_id = await connected_vehicle(platform)
    await clock(platform, "PUT", rate=0)
    await steer(platform, vehicle_id, "plug", plugged=False)
    await steer(platform, vehicle_id, "plug", plugged=True, kw=7.4)
    await command(platform, user_id, vehicle_id, "charge/set-limit", {"data": {"attributes": {"percent": 90}}})
    before = (await signal(platform, user_id, vehicle_id, "tractionbattery-stateofcharge"))["value"]
    started = await command(platform, user_id, vehicle_id, "charge/start")
    if before >= 90:
        assert_error(started, 409, "VEHICLE_STATE", "FULLY_CHARGED")
        return
    assert started.status_code == 200, started.text
    assert (await signal(platform, user_id, vehicle_id, "charge-wattage"))["value"] > 6000
    assert (await signal(platform, user_id, vehicle_id, "charge-amperage"))["value"] > 0
    minutes_left = (await signal(platform, user_id, vehicle_id, "charge-timetocomplete"))["value"]
    assert minutes_left > 0

    await clock(platform, "POST", "/advance", by="2h")
    after = (await signal(platform, user_id, vehicle_id, "tractionbattery-stateofcharge"))["value"]
    energy = (await signal(platform, user_id, vehicle_id, "charge-energyadded"))["value"]
    assert before < after <= 90
    assert energy > 5  # about 7 kW for up to two hours, less what the limit cut short
    status = (await signal(platform, user_id, vehicle_id, "charge-detailedchargingstatus"))["value"]
    if minutes_left > 120:
        assert status == "CHARGING"
    else:
        assert status == "FULLY_CHARGED" and after == 90

    await clock(platform, "POST", "/advance", by="2d")
    assert (await signal(platform, user_id, vehicle_id, "tractionbattery-stateofcharge"))["value"] <= 90


async def test_the_clock_never_runs_backwards_and_rejects_nonsense(sqlite_platform: PlatformHarness) -> None:
    now = await clock(sqlite_platform, "PUT", rate=0)
    headers = sqlite_platform.admin_headers
    url = f"/admin/applications/{sqlite_platform.application_id}/clock"
    earlier = await sqlite_platform.http.put(url, headers=headers, json={"now": "2001-01-01T00:00:00Z"})
    assert_error(earlier, 400, "VALIDATION")
    for bad in ({"rate": -1}, {"rate": 1e9}, {"rate": "fast"}, {"colour": "red"}):
        assert_error(await sqlite_platform.http.put(url, headers=headers, json=bad), 400, "VALIDATION")
    for bad_step in ({"by": "soon"}, {"seconds": -5}, {}, {"by": "1h", "seconds": 5}, {"by": "99999d"}):
        response = await sqlite_platform.http.post(url + "/advance", headers=headers, json=bad_step)
        assert_error(response, 400, "VALIDATION")
    assert (await clock(sqlite_platform))["nowMs"] == now["nowMs"]
    missing = await sqlite_platform.http.get(
        "/admin/applications/6f1c1e0a-0000-4000-8000-000000000000/clock", headers=headers)
    assert_error(missing, 404, "RESOURCE_NOT_FOUND")
    jumped = await clock(sqlite_platform, "PUT", now="2030-06-01T12:00:00Z")
    assert jumped["now"].startswith("2030-06-01T12:00:00")
    naive = await clock(sqlite_platform, "PUT", now="2030-06-02T12:00:00")  # no offset: UTC
    assert naive["now"].startswith("2030-06-02T12:00:00")


async def test_each_application_has_its_own_clock(sqlite_platform: PlatformHarness) -> None:
    other = await sqlite_platform.admin("POST", "/admin/applications", json={"name": "Other app"})
    await clock(sqlite_platform, "POST", "/advance", by="3d")
    other_clock = await sqlite_platform.admin("GET", f"/admin/applications/{other['id']}/clock")
    assert abs(other_clock["offsetSeconds"]) < 5
    assert (await clock(sqlite_platform))["offsetSeconds"] >= 3 * 86_400 - 5


# --- sleeping cars and async commands ---------------------------------------------------------


async def test_a_sleeping_car_is_woken_and_the_command_completes_later(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform)
    await clock(platform, "PUT", rate=0)
    await command(platform, user_id, vehicle_id, "security/lock")
    await steer(platform, vehicle_id, "sleep")
    answer = await command(platform, user_id, vehicle_id, "security/unlock")
    assert answer.status_code == 202, answer.text
    data = answer.json()["data"]
    assert data["attributes"]["executionMode"] == "async"
    assert data["attributes"]["status"] == {"value": "PENDING"}
    assert data["meta"]["completedAt"] is None
    execution_path = f"/v3/vehicles/{vehicle_id}/commands/executions/{data['id']}"
    assert data["links"]["self"].endswith(execution_path)

    # Still waking: the execution is pending and the car still reports itself locked.
    pending = await get(platform, execution_path, user_id)
    assert pending.json()["data"]["attributes"]["status"]["value"] == "PENDING"
    assert (await signal(platform, user_id, vehicle_id, "closure-islocked"))["value"] is True

    await clock(platform, "POST", "/advance", by="2m")
    # A read sees the command's effect as soon as its instant has come, before anything is stored.
    assert (await signal(platform, user_id, vehicle_id, "closure-islocked"))["value"] is False
    done = await get(platform, execution_path, user_id)
    assert done.status_code == 200, done.text
    finished = done.json()["data"]
    assert finished["attributes"]["status"] == {"value": "SUCCESS"}
    assert finished["attributes"]["commandType"] == "security-unlock"
    assert 10 <= finished["meta"]["durationInSeconds"] <= 120
    assert (await signal(platform, user_id, vehicle_id, "closure-islocked"))["value"] is False


async def test_an_async_command_fails_when_the_car_cannot_do_it_after_waking(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    await clock(sqlite_platform, "PUT", rate=0)
    await steer(sqlite_platform, vehicle_id, "plug", plugged=False)
    await steer(sqlite_platform, vehicle_id, "sleep")
    answer = await command(sqlite_platform, user_id, vehicle_id, "charge/start")
    assert answer.status_code == 202, answer.text
    execution_id = answer.json()["data"]["id"]
    await clock(sqlite_platform, "POST", "/advance", by="5m")
    done = await get(sqlite_platform, f"/v3/vehicles/{vehicle_id}/commands/executions/{execution_id}", user_id)
    status = done.json()["data"]["attributes"]["status"]
    assert status["value"] == "FAILURE"
    assert status["error"]["type"] == "VEHICLE_STATE" and status["error"]["code"] == "CHARGING_PLUG_NOT_CONNECTED"


async def test_a_maker_that_does_not_wake_its_cars_answers_asleep(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform, "TOYOTA", "RAV4 Prime", seed=11, scope=ALL_CONTROL)
    await steer(sqlite_platform, vehicle_id, "plug", plugged=False)  # a charging car stays awake
    await steer(sqlite_platform, vehicle_id, "sleep")
    assert_error(await command(sqlite_platform, user_id, vehicle_id, "security/lock"), 409, "VEHICLE_STATE", "ASLEEP")
    await steer(sqlite_platform, vehicle_id, "wake")
    assert (await command(sqlite_platform, user_id, vehicle_id, "security/lock")).status_code == 200


async def test_an_offline_car_is_unreachable_for_commands_and_reads(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    await steer(sqlite_platform, vehicle_id, "online", online=False)
    assert_error(await command(sqlite_platform, user_id, vehicle_id, "security/lock"), 409, "VEHICLE_STATE",
                 "UNREACHABLE")
    listed = await get(sqlite_platform, f"/v3/vehicles/{vehicle_id}/signals", sqlite_platform and user_id)
    odometer = next(s for s in listed.json()["data"] if s["id"] == "odometer-traveleddistance")
    assert odometer["attributes"]["status"]["value"] == "ERROR"
    await steer(sqlite_platform, vehicle_id, "online", online=True)
    assert (await command(sqlite_platform, user_id, vehicle_id, "security/lock")).status_code == 200


async def test_executions_are_private_to_their_vehicle_and_application(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    executed = (await command(sqlite_platform, user_id, vehicle_id, "security/lock")).json()["data"]
    path = f"/v3/vehicles/{vehicle_id}/commands/executions/{executed['id']}"
    again = await get(sqlite_platform, path, user_id)
    assert again.status_code == 200 and again.json()["data"] == executed
    assert_error(await get(sqlite_platform, path.replace(executed["id"], "exec_nope"), user_id), 404,
                 "RESOURCE_NOT_FOUND")
    other_user, other_vehicle = await connected_vehicle(sqlite_platform, seed=8)
    assert_error(await get(sqlite_platform, path.replace(vehicle_id, other_vehicle), other_user), 404,
                 "RESOURCE_NOT_FOUND")


# --- charge port and navigation ---------------------------------------------------------------


async def test_the_charge_port_opens_and_closes(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform)
    await steer(platform, vehicle_id, "plug", plugged=False)
    opened = await command(platform, user_id, vehicle_id, "charge-port/open")
    assert opened.status_code == 200, opened.text
    assert opened.json()["data"]["attributes"]["commandType"] == "charge-port-open"
    assert (await signal(platform, user_id, vehicle_id, "charge-ischargingportflapopen"))["value"] is True
    assert (await command(platform, user_id, vehicle_id, "charge-port/close")).status_code == 200
    assert (await signal(platform, user_id, vehicle_id, "charge-ischargingportflapopen"))["value"] is False

    await steer(platform, vehicle_id, "plug", plugged=True)
    assert_error(await command(platform, user_id, vehicle_id, "charge-port/close"), 409, "VEHICLE_STATE")


async def test_a_petrol_car_cannot_charge(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform, "TOYOTA", "Camry", seed=11, scope=ALL_CONTROL)
    for path in ("charge/start", "charge-port/open"):
        assert_error(await command(sqlite_platform, user_id, vehicle_id, path), 501, "COMPATIBILITY",
                     "VEHICLE_NOT_CAPABLE")


async def test_set_destination_is_validated_and_drives_the_next_trip(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform, scope=ALL_CONTROL)
    bad = await command(platform, user_id, vehicle_id, "navigation/set-destination",
                        {"data": {"attributes": {"latitude": 91, "longitude": "west"}}})
    body = assert_error(bad, 400, "VALIDATION")
    pointers = sorted(error["source"]["pointer"] for error in body["errors"])
    assert pointers == ["/data/attributes/latitude", "/data/attributes/longitude"]
    assert_error(await command(platform, user_id, vehicle_id, "navigation/set-destination",
                               {"data": {"attributes": {"latitude": 10}}}), 400, "VALIDATION", "MISSING_PARAMETER")

    here = (await signal(platform, user_id, vehicle_id, "location-preciselocation"))
    target = {"latitude": round(here["latitude"] + 0.05, 5), "longitude": round(here["longitude"] + 0.05, 5)}
    sent = await command(platform, user_id, vehicle_id, "navigation/set-destination", {"data": {"attributes": target}})
    assert sent.status_code == 200, sent.text
    assert sent.json()["data"]["attributes"]["parameters"] == target

    await clock(platform, "PUT", rate=0)
    odometer = (await signal(platform, user_id, vehicle_id, "odometer-traveleddistance"))["value"]
    await steer(platform, vehicle_id, "drive")
    await clock(platform, "POST", "/advance", by="3h")
    arrived = await signal(platform, user_id, vehicle_id, "location-preciselocation")
    assert abs(arrived["latitude"] - target["latitude"]) < 0.01
    assert abs(arrived["longitude"] - target["longitude"]) < 0.01
    assert (await signal(platform, user_id, vehicle_id, "odometer-traveleddistance"))["value"] > odometer


async def test_navigation_needs_its_permission(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    response = await command(sqlite_platform, user_id, vehicle_id, "navigation/set-destination",
                             {"data": {"attributes": {"latitude": 1, "longitude": 2}}})
    assert_error(response, 403, "PERMISSION")


# --- charge schedules -------------------------------------------------------------------------


async def test_charge_schedules_are_created_read_back_and_deleted(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform)
    daily = await schedule(platform, user_id, vehicle_id, "daily",
                           {"location": HOME, "startTime": "01:00", "stopTime": "06:30"})
    assert daily.status_code == 200, daily.text
    data = daily.json()["data"]
    assert data["type"] == "charge-schedule-execution"
    attributes = data["attributes"]
    assert attributes["action"] == "create" and attributes["scheduleType"] == "daily"
    assert attributes["status"] == {"value": "SUCCESS"} and attributes["executionMode"] == "sync"
    assert attributes["scheduleId"].startswith("sched_")
    assert attributes["parameters"] == {"location": HOME, "startTime": "01:00", "stopTime": "06:30"}
    assert data["links"]["schedule"] == f"/vehicles/{vehicle_id}/charge-schedules/{attributes['scheduleId']}"

    weekly = await schedule(platform, user_id, vehicle_id, "weekly", {
        "location": {"latitude": 40.0, "longitude": -105.0},
        "days": {"saturday": {"startTime": "09:00", "stopTime": "11:00"},
                 "monday": {"startTime": "22:00", "stopTime": "23:30"}}})
    assert weekly.status_code == 200, weekly.text
    workweek = await schedule(platform, user_id, vehicle_id, "workweek", {
        "location": {"latitude": 41.0, "longitude": -105.0},
        "weekdays": {"startTime": "00:30", "stopTime": "05:00"}, "weekends": {"startTime": "10:00", "stopTime": "14:00"}})
    assert workweek.status_code == 200, workweek.text

    timers = (await signal(platform, user_id, vehicle_id, "charge-chargetimers"))["values"]
    by_id = {t["scheduleId"]: t for t in timers if t.get("type") == "LOCATION"}
    created = by_id[attributes["scheduleId"]]
    assert created["scheduleType"] == "daily"
    assert created["condition"]["latitude"] == HOME["latitude"]
    assert created["schedules"] == [{"start": "01:00:00", "end": "06:30:00",
                                     "days": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY",
                                              "SATURDAY", "SUNDAY"]}]
    weekly_timer = by_id[weekly.json()["data"]["attributes"]["scheduleId"]]
    assert [s["days"] for s in weekly_timer["schedules"]] == [["MONDAY"], ["SATURDAY"]]
    workweek_timer = by_id[workweek.json()["data"]["attributes"]["scheduleId"]]
    assert [s["days"][0] for s in workweek_timer["schedules"]] == ["MONDAY", "SATURDAY"]

    headers = await platform.auth_headers(user_id)
    path = f"/v3/vehicles/{vehicle_id}/charge-schedules/{attributes['scheduleId']}"
    deleted = await platform.http.delete(path, headers=headers)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"]["attributes"]["action"] == "delete"
    assert deleted.json()["data"]["attributes"]["scheduleType"] == "daily"
    timers = (await signal(platform, user_id, vehicle_id, "charge-chargetimers"))["values"]
    assert attributes["scheduleId"] not in {t.get("scheduleId") for t in timers}
    assert_error(await platform.http.delete(path, headers=headers), 404, "RESOURCE_NOT_FOUND")


async def test_schedules_only_where_the_make_accepts_them(sqlite_platform: PlatformHarness) -> None:
    volvo_user, volvo = await connected_vehicle(sqlite_platform, "VOLVO", "XC40 Recharge", seed=11, scope=ALL_CONTROL)
    window = {"startTime": "01:00", "stopTime": "05:00"}
    assert (await schedule(sqlite_platform, volvo_user, volvo, "daily", {"location": HOME, **window})).status_code == 200
    refused = await schedule(sqlite_platform, volvo_user, volvo, "weekly", {"location": HOME, "days": {"monday": window}})
    assert_error(refused, 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
    ford_user, ford = await connected_vehicle(sqlite_platform, "FORD", "Mustang Mach-E", seed=12, scope=ALL_CONTROL)
    assert_error(await schedule(sqlite_platform, ford_user, ford, "daily", {"location": HOME, **window}), 501,
                 "COMPATIBILITY")


async def test_schedule_bodies_are_validated_field_by_field(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    bad = await schedule(sqlite_platform, user_id, vehicle_id, "daily",
                         {"location": {"latitude": 100, "longitude": 0}, "startTime": "25:00", "stopTime": "6am"})
    pointers = sorted(e["source"]["pointer"] for e in assert_error(bad, 400, "VALIDATION")["errors"])
    assert pointers == ["/data/attributes/location/latitude", "/data/attributes/startTime", "/data/attributes/stopTime"]
    empty_week = await schedule(sqlite_platform, user_id, vehicle_id, "weekly", {"location": HOME, "days": {}})
    assert_error(empty_week, 400, "VALIDATION")
    odd_day = await schedule(sqlite_platform, user_id, vehicle_id, "weekly",
                             {"location": HOME, "days": {"funday": {"startTime": "01:00", "stopTime": "02:00"}}})
    assert_error(odd_day, 400, "VALIDATION")
    headers = await sqlite_platform.auth_headers(user_id)
    not_json = await sqlite_platform.http.post(f"/v3/vehicles/{vehicle_id}/charge-schedules/daily", headers=headers,
                                               content=b"{nope")
    assert_error(not_json, 400, "VALIDATION")
    no_token = await sqlite_platform.http.post(f"/v3/vehicles/{vehicle_id}/charge-schedules/daily",
                                               headers={"sc-user-id": user_id}, json={})
    assert_error(no_token, 401, "AUTHENTICATION")


async def test_commands_are_documented_in_openapi(sqlite_platform: PlatformHarness) -> None:
    spec = (await sqlite_platform.http.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in ("/v3/vehicles/{vehicle_id}/commands/charge-port/open",
                 "/v3/vehicles/{vehicle_id}/commands/navigation/set-destination",
                 "/v3/vehicles/{vehicle_id}/commands/executions/{execution_id}",
                 "/v3/vehicles/{vehicle_id}/charge-schedules/weekly",
                 "/v3/vehicles/{vehicle_id}/charge-schedules/{schedule_id}",
                 "/admin/applications/{application_id}/clock/advance"):
        assert path in paths, path
    body = paths["/v3/vehicles/{vehicle_id}/commands/navigation/set-destination"]["post"]["requestBody"]
    assert body["content"]["application/json"]["example"]["data"]["attributes"]["latitude"] == 37.7749


async def test_a_new_car_starts_its_life_at_the_applications_now(sqlite_platform: PlatformHarness) -> None:
    """Made after the clock moved a month ahead, a car is fresh then, not a month asleep."""
    await clock(sqlite_platform, "POST", "/advance", by="30d")
    user_id, vehicle_id = await connected_vehicle(sqlite_platform, scope=ALL_CONTROL)
    odometer = await signal_meta(sqlite_platform, user_id, vehicle_id, "odometer-traveleddistance")
    assert odometer["meta"]["retrievedAt"] - odometer["meta"]["oemUpdatedAt"] < 60_000
    assert odometer["meta"]["retrievedAt"] > (await clock(sqlite_platform))["nowMs"] - 120_000


async def test_a_car_with_a_door_trunk_or_hood_open_does_not_lock(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform)
    await command(platform, user_id, vehicle_id, "security/unlock")
    for part, code in (("door-0-1", "DOOR_OPEN"), ("trunk", "TRUNK_OPEN"), ("hood", "HOOD_OPEN")):
        await steer(platform, vehicle_id, "open", part=part)
        doors = await signal(platform, user_id, vehicle_id, "closure-doors")
        assert any(d["isOpen"] for d in doors["values"]) == part.startswith("door-")
        assert_error(await command(platform, user_id, vehicle_id, "security/lock"), 409, "VEHICLE_STATE", code)
        await steer(platform, vehicle_id, "open", part=part, open=False)
    assert (await command(platform, user_id, vehicle_id, "security/lock")).status_code == 200
    doors = (await signal(platform, user_id, vehicle_id, "closure-doors"))["values"]
    assert all(d["isLocked"] and not d["isOpen"] for d in doors)
    bad = await platform.http.post(f"/admin/vehicles/{vehicle_id}/open", headers=platform.admin_headers,
                                   json={"part": "door-9-9"})
    assert_error(bad, 400, "VALIDATION")


async def test_a_full_battery_refuses_to_start_charging(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    await clock(sqlite_platform, "PUT", rate=0)
    await steer(sqlite_platform, vehicle_id, "plug", plugged=False)
    await steer(sqlite_platform, vehicle_id, "plug", plugged=True, start=True, kw=11)
    await clock(sqlite_platform, "POST", "/advance", by="2d")
    assert (await signal(sqlite_platform, user_id, vehicle_id, "charge-detailedchargingstatus"))["value"] == "FULLY_CHARGED"
    limit = (await signal(sqlite_platform, user_id, vehicle_id, "charge-chargelimits"))["activeLimit"]
    assert (await signal(sqlite_platform, user_id, vehicle_id, "tractionbattery-stateofcharge"))["value"] == limit
    await steer(sqlite_platform, vehicle_id, "wake")  # two idle days put it to sleep
    assert_error(await command(sqlite_platform, user_id, vehicle_id, "charge/start"), 409, "VEHICLE_STATE",
                 "FULLY_CHARGED")
    # Raising the limit makes room again.
    await command(sqlite_platform, user_id, vehicle_id, "charge/set-limit", {"data": {"attributes": {"percent": 100}}})
    if limit < 100:
        assert (await command(sqlite_platform, user_id, vehicle_id, "charge/start")).status_code == 200


# --- bad input ------------------------------------------------------------------------------------

ODD_BODIES = [
    b"", b"null", b"[]", b"{}", b'{"data": []}', b'{"data": {"attributes": []}}', b'{"data": {"attributes": null}}',
    b'{"data": {"attributes": {"percent": 1e999}}}',
    b'{"data": {"attributes": {"latitude": 1e308, "longitude": -1e308}}}',
    b'{"data": {"attributes": {"location": [], "days": [], "weekdays": "x"}}}', b"\xff\xfe",
    b'{"data": {"attributes": {"location": {"latitude": true, "longitude": null}}}}',
    b'{"data": {"attributes": {"percent": 80, "extra": 1}}}',
]
BODY_PATHS = ["commands/charge/set-limit", "commands/navigation/set-destination", "charge-schedules/daily",
              "charge-schedules/weekly", "charge-schedules/workweek", "commands/security/lock"]


async def test_odd_input_gets_documented_errors_never_a_500(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform, scope=["read_vehicle_info", "control_charge", "control_security", "control_navigation"])
    headers = await sqlite_platform.auth_headers(user_id)
    for path, body in itertools.product(BODY_PATHS, ODD_BODIES):
        r = await sqlite_platform.http.post(f"/v3/vehicles/{vehicle_id}/{path}", headers={**headers, "content-type": "application/json"}, content=body)
        assert r.status_code < 500, (path, body, r.text)
        assert "errors" in r.json() or r.status_code in (200, 202), (path, body, r.text)
    for eid in ["x" * 500, "%00", ".."]:
        r = await sqlite_platform.http.get(f"/v3/vehicles/{vehicle_id}/commands/executions/{eid}", headers=headers)
        assert r.status_code in (404,), (eid, r.status_code, r.text)
    r = await sqlite_platform.http.delete(f"/v3/vehicles/{vehicle_id}/charge-schedules/{'y'*300}", headers=headers)
    assert r.status_code == 404, r.text
    for body in [{"part": 5}, {"part": None}, {}, {"part": "hood", "open": "maybe"}]:
        r = await sqlite_platform.http.post(f"/admin/vehicles/{vehicle_id}/open", headers=sqlite_platform.admin_headers, json=body)
        assert r.status_code == 400, (body, r.text)
    for body in [{"by": "1e400h"}, {"seconds": 1e300}, {"by": ""}, {"by": None, "seconds": None}]:
        r = await sqlite_platform.http.post(f"/admin/applications/{sqlite_platform.application_id}/clock/advance", headers=sqlite_platform.admin_headers, json=body)
        assert r.status_code == 400, (body, r.text)
    for body in [{"now": "9999-12-31T23:59:59Z"}, {"now": "0001-01-01T00:00:00Z"}, {"rate": "NaN"}]:
        r = await sqlite_platform.http.put(f"/admin/applications/{sqlite_platform.application_id}/clock", headers=sqlite_platform.admin_headers, json=body)
        assert r.status_code == 400, (body, r.text)
    r = await sqlite_platform.http.post("/admin/vehicles/not-a-uuid/sleep", headers=sqlite_platform.admin_headers, json={})
    assert r.status_code == 400, r.text
    r = await sqlite_platform.http.post("/admin/vehicles/6f1c1e0a-0000-4000-8000-000000000000/sleep", headers=sqlite_platform.admin_headers, json={})
    assert r.status_code == 404, r.text


async def test_a_schedule_where_the_car_is_plugged_in_decides_when_it_charges(platform: PlatformHarness) -> None:
    """A one-hour nightly window at home: over a day, the car charges about an hour, no more."""
    user_id, vehicle_id = await connected_vehicle(platform, scope=ALL_CONTROL)
    # A fixed instant (and the seed's fixed home city) make the window's local time certain.
    await clock(platform, "PUT", rate=0, now="2030-01-07T12:00:00Z")
    await steer(platform, vehicle_id, "plug", plugged=False)
    here = await signal(platform, user_id, vehicle_id, "location-preciselocation")
    window = {"startTime": "02:00", "stopTime": "03:00"}
    created = await schedule(platform, user_id, vehicle_id, "daily", {
        "location": {"latitude": here["latitude"], "longitude": here["longitude"]}, **window})
    assert created.status_code == 200, created.text
    await command(platform, user_id, vehicle_id, "charge/set-limit", {"data": {"attributes": {"percent": 100}}})
    await steer(platform, vehicle_id, "plug", plugged=True, kw=7.4)
    before = (await signal(platform, user_id, vehicle_id, "tractionbattery-stateofcharge"))["value"]
    await clock(platform, "POST", "/advance", by="1d")
    after = (await signal(platform, user_id, vehicle_id, "tractionbattery-stateofcharge"))["value"]
    # About 7 kWh into a ~60 kWh pack: some 10 points, where a day unscheduled would fill it.
    assert before < after < min(100, before + 25)
    assert (await signal(platform, user_id, vehicle_id, "charge-ischarging"))["value"] is False
    assert 3 < (await signal(platform, user_id, vehicle_id, "charge-energyadded"))["value"] < 9


async def test_test_mode_cars_start_their_life_at_the_applications_now(platform: PlatformHarness) -> None:
    """Test-mode cars are made when their owner first logs in: after the clock moved a month
    ahead, through Connect's pages or the admin API's direct connect, they are fresh then."""
    from urllib.parse import parse_qs, urlsplit

    from tests.platform.test_connect import connect_through

    await clock(platform, "POST", "/advance", by="30d")
    now = (await clock(platform))["nowMs"]
    direct_user, [direct_car, *_] = await platform.connect(email="direct@example.com", mode="test",
                                                           scope=["read_odometer"])
    redirect = await connect_through(platform, email="pages@example.com", mode="test", scope="read_odometer")
    assert redirect.status_code in (302, 303), redirect.text
    pages_user = parse_qs(urlsplit(redirect.headers["location"]).query)["user_id"][0]
    connections = (await get(platform, "/v3/connections", user_id=pages_user)).json()["connections"]
    for user_id, vehicle_id in ((direct_user, direct_car), (pages_user, connections[0]["vehicleId"])):
        odometer = await signal_meta(platform, user_id, vehicle_id, "odometer-traveleddistance")
        assert odometer["meta"]["retrievedAt"] - odometer["meta"]["oemUpdatedAt"] < 60_000
        assert odometer["meta"]["retrievedAt"] >= now - 60_000
