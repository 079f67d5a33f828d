"""Edges of commands and the simulation: charge commands without their permission, locking a
car in motion, an accelerated clock, an offline car, and the time headers of a signal list."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from ..support.api import (
    CONTROL,
    HOME,
    READ_ALL,
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
from ..support.processes import Served

#: Everything a Tesla owner can grant but ``control_charge``.
NO_CHARGE_CONTROL = [p for p in CONTROL if p != "control_charge"]


# --- 1. charge commands need control_charge ---------------------------------------------------


async def test_charge_commands_without_control_charge_are_forbidden(platform: PlatformHarness) -> None:
    """Starting a charge or creating a schedule without ``control_charge`` is a 403 PERMISSION that
    leaves the car as it was."""
    user_id, vehicle_id = await connected_vehicle(platform, scope=NO_CHARGE_CONTROL)
    await steer(platform, vehicle_id, "plug", plugged=False)
    await steer(platform, vehicle_id, "plug", plugged=True)
    timers_before = (await signal(platform, user_id, vehicle_id, "charge-chargetimers"))["values"]

    started = assert_error(await command(platform, user_id, vehicle_id, "charge/start"), 403, "PERMISSION")
    assert "control_charge" in started["description"]
    assert started["errors"][0]["resolution"] == {"type": "REAUTHENTICATE"}
    assert started["docURL"].endswith("/permission-errors#null")
    assert (await signal(platform, user_id, vehicle_id, "charge-ischarging"))["value"] is False
    limit_before = await signal(platform, user_id, vehicle_id, "charge-chargelimits")
    for path, body in (("charge/stop", None), ("charge/set-limit", {"data": {"attributes": {"percent": 95}}}),
                       ("charge-port/close", None)):
        assert_error(await command(platform, user_id, vehicle_id, path, body), 403, "PERMISSION")
    assert await signal(platform, user_id, vehicle_id, "charge-chargelimits") == limit_before

    window = {"location": HOME, "startTime": "01:00", "stopTime": "05:00"}
    scheduled = assert_error(await schedule(platform, user_id, vehicle_id, "daily", window), 403, "PERMISSION")
    assert "control_charge" in scheduled["description"]
    assert (await signal(platform, user_id, vehicle_id, "charge-chargetimers"))["values"] == timers_before

    # The same connection may still do what it was granted.
    assert (await command(platform, user_id, vehicle_id, "security/lock")).status_code == 200


# --- 2. locking a car in motion ---------------------------------------------------------------


async def test_lock_while_driving_is_refused_and_the_lock_is_unchanged(platform: PlatformHarness) -> None:
    """Lock (and unlock) of a car on a trip: 409 IN_MOTION, and closure-islocked stays as it was."""
    user_id, vehicle_id = await connected_vehicle(platform)
    await clock(platform, "PUT", rate=0)
    await steer(platform, vehicle_id, "drive", latitude=40.0, longitude=-100.0)
    locked = (await signal(platform, user_id, vehicle_id, "closure-islocked"))["value"]
    assert locked is True  # a car sets off locked
    refused = assert_error(await command(platform, user_id, vehicle_id, "security/lock"), 409, "VEHICLE_STATE",
                           "IN_MOTION")
    assert refused["errors"][0]["code"] == "IN_MOTION"
    assert (await signal(platform, user_id, vehicle_id, "closure-islocked"))["value"] is locked
    assert_error(await command(platform, user_id, vehicle_id, "security/unlock"), 409, "VEHICLE_STATE", "IN_MOTION")
    assert (await signal(platform, user_id, vehicle_id, "closure-islocked"))["value"] is locked


# --- 3. an accelerated clock ------------------------------------------------------------------


def real_ms() -> float:
    """Real epoch milliseconds."""
    return time.time() * 1000


async def timed_clock(platform: PlatformHarness) -> tuple[float, int, float]:
    """Real time (ms) before the read, the clock's simulated now, real time after."""
    before = real_ms()
    now_ms = (await clock(platform))["nowMs"]
    return before, now_ms, real_ms()


def assert_sixty_times(start: tuple[float, int, float], end: tuple[float, int, float]) -> None:
    """Simulated time elapsed between two timed reads lies between 60x the shortest and 60x the
    longest real interval they can have been apart (less rounding to the millisecond)."""
    shortest, longest = end[0] - start[2], end[2] - start[0]
    elapsed = end[1] - start[1]
    assert 60 * shortest - 200 <= elapsed <= 60 * longest + 200, (shortest, longest, elapsed)
    assert elapsed > 40_000  # the second of real time in between is most of a simulated minute


async def test_an_accelerated_clock_runs_sixty_times_real_time(platform: PlatformHarness) -> None:
    """PUT the clock's rate to 60: a real second later, about a simulated minute has passed."""
    set_to = await clock(platform, "PUT", rate=60)
    assert set_to["rate"] == 60.0 and set_to["frozen"] is False and set_to["realTime"] is False
    start = await timed_clock(platform)
    await asyncio.sleep(1.0)
    assert_sixty_times(start, await timed_clock(platform))
    assert (await clock(platform))["offsetSeconds"] > 40


async def test_a_charging_car_charges_at_the_accelerated_pace(platform: PlatformHarness) -> None:
    """At 60x, about three real seconds are three simulated minutes of charging at 7.4 kW."""
    user_id, vehicle_id = await connected_vehicle(platform)
    await clock(platform, "PUT", rate=0)
    await command(platform, user_id, vehicle_id, "charge/set-limit", {"data": {"attributes": {"percent": 100}}})
    await steer(platform, vehicle_id, "plug", plugged=False)
    await steer(platform, vehicle_id, "plug", plugged=True, start=True, kw=7.4)
    assert (await signal(platform, user_id, vehicle_id, "charge-ischarging"))["value"] is True
    first = await signal_meta(platform, user_id, vehicle_id, "charge-energyadded")
    soc_before = (await signal(platform, user_id, vehicle_id, "tractionbattery-stateofcharge"))["value"]

    accelerated_before = real_ms()
    await clock(platform, "PUT", rate=60)
    accelerated_after = real_ms()
    await asyncio.sleep(3.0)
    frozen_before = real_ms()
    await clock(platform, "PUT", rate=0)  # hold still while reading
    frozen_after = real_ms()
    later = await signal_meta(platform, user_id, vehicle_id, "charge-energyadded")
    soc_after = (await signal(platform, user_id, vehicle_id, "tractionbattery-stateofcharge"))["value"]

    # A charging car reports every 30 simulated seconds, so its report may trail the clock by that.
    simulated = later["meta"]["oemUpdatedAt"] - first["meta"]["oemUpdatedAt"]
    shortest, longest = frozen_before - accelerated_after, frozen_after - accelerated_before
    assert 60 * shortest - 30_200 <= simulated <= 60 * longest + 200, (shortest, longest, simulated)
    hours = simulated / 3_600_000
    gained = later["attributes"]["body"]["value"] - first["attributes"]["body"]["value"]
    assert 0.8 * 7.4 * hours - 0.01 <= gained <= 1.05 * 7.4 * hours + 0.01, (gained, hours)
    assert gained > 0.2 and soc_after > soc_before


@pytest.mark.e2e
def test_clock_set_rate_from_the_cli(served: Served) -> None:
    """``motorpool clock set --rate 60`` against a served platform: the clock then runs 60x."""
    env = served.env()
    url = f"{served.origin}/admin/applications/{env['MOTORPOOL_APPLICATION_ID']}/clock"
    admin = served.admin_headers()

    def timed() -> tuple[float, int, float]:
        before = real_ms()
        answer = httpx.get(url, headers=admin)
        assert answer.status_code == 200, answer.text
        return before, int(answer.json()["data"]["nowMs"]), real_ms()

    result = served.cli("clock", "set", "--rate", "60")
    assert result.returncode == 0, result.stderr
    assert "60× real time" in result.stdout
    assert httpx.get(url, headers=admin).json()["data"]["rate"] == 60.0
    start = timed()
    time.sleep(1.0)
    assert_sixty_times(start, timed())
    refused = served.cli("clock", "set", "--rate", "-1")
    assert refused.returncode != 0
    assert httpx.get(url, headers=admin).json()["data"]["rate"] == 60.0


# --- 4. an offline car ------------------------------------------------------------------------


async def test_an_offline_car_reports_unreachable_signals_and_refuses_commands(platform: PlatformHarness) -> None:
    """Offline, every signal of the car is VEHICLE_STATE/UNREACHABLE with its last contact's value
    (a single read too, as a 200), and commands are refused 409 UNREACHABLE."""
    user_id, vehicle_id = await connected_vehicle(platform, scope=[*CONTROL, *READ_ALL])
    await clock(platform, "PUT", rate=0)
    online_odometer = await signal(platform, user_id, vehicle_id, "odometer-traveleddistance")
    await steer(platform, vehicle_id, "online", online=False)
    await clock(platform, "POST", "/advance", by="10m")

    listed = await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id)
    assert listed.status_code == 200, listed.text
    resources = {s["id"]: s["attributes"] for s in listed.json()["data"]}
    live = {"connectivitystatus-isonline", "connectivitystatus-isasleep"}
    failed: dict[str, dict[str, Any]] = {}
    for code, attributes in resources.items():
        status = attributes["status"]
        if code in live:
            assert status == {"value": "SUCCESS"}, code  # about the link, not the car: always current
        elif status["value"] == "ERROR" and status["error"]["type"] == "COMPATIBILITY":
            assert status["error"]["code"] == "VEHICLE_NOT_CAPABLE", code
        else:
            assert status["value"] == "ERROR", code
            assert (status["error"]["type"], status["error"]["code"]) == ("VEHICLE_STATE", "UNREACHABLE"), code
            assert status["error"]["resolution"] == {"type": "RETRY_LATER"}, code
            failed[code] = attributes
    assert {"odometer-traveleddistance", "closure-islocked", "tractionbattery-stateofcharge"} <= failed.keys()
    assert resources["connectivitystatus-isonline"]["body"] == {"value": False}
    assert failed["odometer-traveleddistance"]["body"] == online_odometer  # the value of its last contact

    single = await get(platform, f"/v3/vehicles/{vehicle_id}/signals/odometer-traveleddistance", user_id)
    assert single.status_code == 200, single.text
    odometer = single.json()["data"]
    assert odometer["attributes"]["status"] == failed["odometer-traveleddistance"]["status"]
    assert odometer["attributes"]["body"] == online_odometer  # the value of its last contact

    refused = assert_error(await command(platform, user_id, vehicle_id, "security/lock"), 409, "VEHICLE_STATE",
                           "UNREACHABLE")
    assert refused["docURL"].endswith("/vehicle-state-errors#unreachable")
    assert_error(await command(platform, user_id, vehicle_id, "charge/stop"), 409, "VEHICLE_STATE", "UNREACHABLE")


# --- 5. the time headers of a signal list -----------------------------------------------------


def assert_time_headers(response: Any) -> None:
    """SC-Data-Age is the newest oemUpdatedAt of the page's SUCCESS signals (when it has any);
    SC-Fetched-At is the signals' retrievedAt; both are ISO 8601 UTC with milliseconds."""
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    age, fetched = response.headers["sc-data-age"], response.headers["sc-fetched-at"]
    for header in (age, fetched):
        assert len(header) == 24 and header.endswith("Z") and header[19] == ".", header
    successes = [s["meta"]["oemUpdatedAt"] for s in data if s["attributes"]["status"]["value"] == "SUCCESS"]
    assert {s["meta"]["retrievedAt"] for s in data} == {ms(fetched)}
    if successes:
        assert ms(age) == max(successes)


async def test_signal_list_time_headers_match_the_page(platform: PlatformHarness) -> None:
    """Asleep for hours, the car's values are older than the fetch, while the live connectivity
    signals and the errors carry the fetch instant: the headers must pick the right ones."""
    user_id, vehicle_id = await connected_vehicle(platform, scope=[*CONTROL, *READ_ALL])
    await clock(platform, "PUT", rate=0)
    await steer(platform, vehicle_id, "sleep")
    await clock(platform, "POST", "/advance", by="3h")
    path = f"/v3/vehicles/{vehicle_id}/signals"
    assert_time_headers(await get(platform, path, user_id))

    older_than_the_page = 0
    page, last = 1, 1
    while page <= last:
        response = await get(platform, path, user_id, params={"page": page, "pageSize": 10})
        assert_time_headers(response)
        body = response.json()
        last = -(-body["meta"]["totalCount"] // 10)
        if ms(response.headers["sc-data-age"]) < max(s["meta"]["oemUpdatedAt"] for s in body["data"]):
            older_than_the_page += 1
        page += 1
    assert older_than_the_page, "no page had an ERROR signal newer than its SUCCESS signals"

    single = await get(platform, f"{path}/odometer-traveleddistance", user_id)
    meta = single.json()["data"]["meta"]
    assert ms(single.headers["sc-data-age"]) == meta["oemUpdatedAt"] < meta["retrievedAt"]
    assert ms(single.headers["sc-fetched-at"]) == meta["retrievedAt"]

    # A caller who may not read the live connectivity signals sees them withheld: they must not
    # make the answer look fresher than the values it does read.
    narrow, _ = await platform.connect(email="narrow@example.com", scope=["read_odometer", "read_battery"],
                                       vehicles=[vehicle_id])
    response = await get(platform, path, narrow)
    assert_time_headers(response)
    assert ms(response.headers["sc-data-age"]) < ms(response.headers["sc-fetched-at"])
