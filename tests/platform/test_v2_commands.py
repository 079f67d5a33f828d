"""Vehicle API v2.0 commands: v3's actions on the same state, seen across versions, with v3's
refusals; sleeping cars; bad bodies change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from ..support.api import clock, steer
from ..support.harness import PlatformHarness
from ..support.v2 import V2Vehicle, assert_v2_error, v2_vehicle

SENT = {"status": "success", "message": "Successfully sent request to vehicle"}


async def _v3_command(car: V2Vehicle, path: str, attributes: dict[str, Any] | None = None) -> Any:
    body = None if attributes is None else {"data": {"attributes": attributes}}
    return await car.platform.http.post(
        f"/v3/vehicles/{car.vehicle_id}/commands/{path}", headers=car.headers, json=body
    )


async def _locked(car: V2Vehicle) -> bool:
    return bool((await car.body("closure-islocked"))["value"])


async def test_a_lock_through_one_version_is_seen_through_the_other(platform: PlatformHarness) -> None:
    car = await v2_vehicle(platform)
    await clock(platform, "PUT", rate=0)
    unlocked = await car.post("/security", {"action": "UNLOCK"})
    assert unlocked.status_code == 200 and unlocked.json() == SENT, unlocked.text
    assert await _locked(car) is False
    assert (await car.get("/security")).json()["isLocked"] is False
    assert (await _v3_command(car, "security/lock")).status_code == 200
    assert (await car.get("/security")).json()["isLocked"] is True
    assert (await car.post("/security", {"action": "UNLOCK"})).status_code == 200
    assert await _locked(car) is False


async def test_charging_and_its_limit_across_versions(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform, seed=5)
    await clock(sqlite_platform, "PUT", rate=0)
    await steer(sqlite_platform, car.vehicle_id, "plug")
    assert (await car.post("/charge", {"action": "START"})).json() == SENT
    assert (await car.body("charge-ischarging"))["value"] is True
    assert (await car.get("/charge")).json() == {"isPluggedIn": True, "state": "CHARGING"}
    assert (await car.post("/charge", {"action": "STOP"})).json() == SENT
    assert (await car.get("/charge")).json()["state"] == "NOT_CHARGING"

    assert (await car.post("/charge/limit", {"limit": 0.65})).json() == SENT
    assert (await car.body("charge-chargelimits"))["values"][0]["limit"] == 65
    # The Node SDK sends the limit as a string; the nearest whole percent is set.
    assert (await car.post("/charge/limit", {"limit": "0.904"})).status_code == 200
    assert (await car.get("/charge/limit")).json() == {"limit": 0.9}
    assert (await _v3_command(car, "charge/set-limit", {"percent": 70})).status_code == 200
    assert (await car.get("/charge/limit")).json() == {"limit": 0.7}


async def test_a_destination_is_v3s_destination(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform)
    await clock(sqlite_platform, "PUT", rate=0)
    here = (await car.get("/location")).json()
    there = {"latitude": round(here["latitude"] + 0.06, 4), "longitude": round(here["longitude"] - 0.04, 4)}
    sent = await car.post("/navigation/destination", there)
    assert sent.status_code == 200 and sent.json() == SENT
    # The car drives to the destination last sent to its navigation, as after v3's command.
    trip = await steer(sqlite_platform, car.vehicle_id, "drive")
    assert trip["activity"] == "driving"
    await clock(sqlite_platform, "POST", "/advance", by="3h")
    where = (await car.get("/location")).json()
    assert abs(where["latitude"] - there["latitude"]) < 0.01 and abs(where["longitude"] - there["longitude"]) < 0.01


async def test_refusals_are_v3s_refusals(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform, seed=5)
    await steer(sqlite_platform, car.vehicle_id, "plug", plugged=False)
    v2 = assert_v2_error(await car.post("/charge", {"action": "START"}), 409, "VEHICLE_STATE")
    v3 = (await _v3_command(car, "charge/start")).json()
    assert v2["code"] == v3["code"] == "CHARGING_PLUG_NOT_CONNECTED"
    await steer(sqlite_platform, car.vehicle_id, "drive", latitude=37.80, longitude=-122.27)
    was_locked = await _locked(car)
    assert_v2_error(await car.post("/security", {"action": "UNLOCK"}), 409, "VEHICLE_STATE", "IN_MOTION")
    assert await _locked(car) is was_locked


async def test_a_car_woken_for_a_command_carries_it_out_later(platform: PlatformHarness) -> None:
    car = await v2_vehicle(platform)
    await clock(platform, "PUT", rate=0)
    assert (await car.post("/security", {"action": "LOCK"})).status_code == 200
    await steer(platform, car.vehicle_id, "sleep")
    # v2 has no 202: the command was sent on to the car being woken, which is what it says.
    answer = await car.post("/security", {"action": "UNLOCK"})
    assert answer.status_code == 200 and answer.json() == SENT
    assert (await car.get("/security")).json()["isLocked"] is True  # still waking
    await clock(platform, "POST", "/advance", by="2m")
    assert (await car.get("/security")).json()["isLocked"] is False
    assert await _locked(car) is False


async def test_a_maker_that_does_not_wake_its_cars_answers_asleep(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform, "TOYOTA", "Camry", seed=3)
    await steer(sqlite_platform, car.vehicle_id, "sleep")
    was_locked = await _locked(car)
    assert_v2_error(await car.post("/security", {"action": "UNLOCK"}), 409, "VEHICLE_STATE", "ASLEEP")
    assert await _locked(car) is was_locked


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        ("/security", {"action": "OPEN"}, ["action"]),
        ("/security", {"action": "lock"}, ["action"]),
        ("/security", {}, ["action"]),
        ("/charge", {"action": "BEGIN"}, ["action"]),
        ("/charge/limit", {"limit": 0.49}, ["limit"]),
        ("/charge/limit", {"limit": 1.01}, ["limit"]),
        ("/charge/limit", {"limit": True}, ["limit"]),
        ("/charge/limit", {"limit": "most"}, ["limit"]),
        ("/charge/limit", {"limit": "NaN"}, ["limit"]),
        ("/navigation/destination", {"latitude": 91, "longitude": -181}, ["latitude", "longitude"]),
        ("/navigation/destination", {"latitude": "north"}, ["latitude", "longitude"]),
    ],
)
async def test_a_bad_body_is_refused_and_changes_nothing(
    sqlite_platform: PlatformHarness, path: str, body: dict[str, Any], fields: list[str]
) -> None:
    car = await v2_vehicle(sqlite_platform, seed=5)
    await clock(sqlite_platform, "PUT", rate=0)
    before = (await car.get("/security")).json(), (await car.get("/charge/limit")).json()
    error = assert_v2_error(await car.post(path, body), 400, "VALIDATION", "PARAMETER")
    assert [entry["field"] for entry in error["detail"]] == fields
    assert len(error["errors"]) == len(fields)
    assert ((await car.get("/security")).json(), (await car.get("/charge/limit")).json()) == before


async def test_a_body_that_is_not_json_is_malformed(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform)
    for content in (b"{nope", b'"LOCK"', b""):
        answer = await sqlite_platform.http.post(
            f"/v2.0/vehicles/{car.vehicle_id}/security",
            headers={**car.headers, "content-type": "application/json"}, content=content,
        )
        error = assert_v2_error(answer, 400, "VALIDATION", None)
        assert error["description"].startswith("The request body")
    # Authentication comes first: no token is a 401 whatever the body.
    no_token = await sqlite_platform.http.post(f"/v2.0/vehicles/{car.vehicle_id}/security", content=b"{nope")
    assert_v2_error(no_token, 401, "AUTHENTICATION", None)


async def test_commands_need_their_permission_and_a_capable_car(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform, permissions=["read_vehicle_info", "read_security", "read_charge"])
    was_locked = await _locked(car)
    for path, body in (("/security", {"action": "UNLOCK"}), ("/charge/limit", {"limit": 0.6}),
                       ("/navigation/destination", {"latitude": 1, "longitude": 2})):
        assert_v2_error(await car.post(path, body), 403, "PERMISSION", None)
    assert await _locked(car) is was_locked
    camry = await v2_vehicle(sqlite_platform, "TOYOTA", "Camry", seed=3, email="camry@example.com")
    assert_v2_error(await camry.post("/charge", {"action": "START"}), 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
