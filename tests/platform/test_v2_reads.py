"""Vehicle API v2.0 reads: every endpoint answers from the report v3's signals answer from, at the
same instant and in the same units, in v2's shapes; paging, permissions and compatibility."""

from __future__ import annotations

from typing import Any

import pytest

from ..support.api import clock, ms, steer
from ..support.harness import PlatformHarness
from ..support.v2 import V2Vehicle, assert_v2_error, fleet_vehicle, v2_vehicle

#: A plug-in hybrid that reports nearly everything: battery, charge, fuel, oil, diagnostics,
#: service history, tyres, a sunroof.
PHEV = ("BMW", "X5 xDrive50e")


async def _v2(car: V2Vehicle, path: str, *, imperial: bool = False) -> dict[str, Any]:
    response = await car.get(path, imperial=imperial)
    assert response.status_code == 200, (path, response.text)
    if path not in ("", "/permissions"):  # data reads say in which units they answer
        assert response.headers["sc-unit-system"] == ("imperial" if imperial else "metric")
    body: dict[str, Any] = response.json()
    return body


async def _frozen_phev(platform: PlatformHarness) -> V2Vehicle:
    """The PHEV charging (its seed starts it so), a door and a window open, a trouble code and a
    tyre-pressure alert pinned; the application's clock frozen."""
    car = await v2_vehicle(platform, *PHEV, seed=21)
    await steer(platform, car.vehicle_id, "open", part="door-0-1")
    await steer(platform, car.vehicle_id, "open", part="window-1-0")
    signals = f"/admin/vehicles/{car.vehicle_id}/signals"
    dtcs = {"values": [{"code": "P0420", "timestamp": "2026-03-01T08:00:00.000Z"}]}
    await platform.admin("PUT", f"{signals}/diagnostics-dtclist", json={"body": dtcs})
    alert = {"status": "ALERT", "description": "Left rear tire sensor battery low"}
    await platform.admin("PUT", f"{signals}/diagnostics-tirepressuremonitoring", json={"body": alert})
    await clock(platform, "PUT", rate=0)
    return car


@pytest.mark.parametrize("imperial", [False, True], ids=["metric", "imperial"])
async def test_every_read_agrees_with_v3_to_the_digit(platform: PlatformHarness, imperial: bool) -> None:
    car = await _frozen_phev(platform)

    async def v3(code: str) -> dict[str, Any]:
        return await car.body(code, imperial=imperial)

    async def v2(path: str) -> dict[str, Any]:
        return await _v2(car, path, imperial=imperial)

    assert await v2("/vin") == {"vin": (await v3("vehicleidentification-vin"))["value"]}
    assert await v2("/odometer") == {"distance": (await v3("odometer-traveleddistance"))["value"]}
    where = await v3("location-preciselocation")
    assert await v2("/location") == {"latitude": where["latitude"], "longitude": where["longitude"]}

    battery = await v2("/battery")
    assert round(battery["percentRemaining"] * 100, 6) == (await v3("tractionbattery-stateofcharge"))["value"]
    assert battery["range"] == (await v3("tractionbattery-range"))["value"]
    nominal = await v3("tractionbattery-nominalcapacity")
    assert await v2("/battery/capacity") == {"capacity": nominal["capacity"]}
    assert await v2("/battery/nominal_capacity") == {
        "availableCapacities": nominal["availableCapacities"],
        "capacity": {"nominal": nominal["capacity"], "source": nominal["source"]},
        "url": None,
    }

    assert await v2("/charge") == {
        "isPluggedIn": (await v3("charge-ischargingcableconnected"))["value"],
        "state": (await v3("charge-detailedchargingstatus"))["value"],
    }
    assert (await v2("/charge"))["state"] == "CHARGING"
    limits = await v3("charge-chargelimits")
    assert round((await v2("/charge/limit"))["limit"] * 100) == limits["values"][0]["limit"]

    fuel = await v2("/fuel")
    assert fuel["range"] == (await v3("internalcombustionengine-range"))["value"]
    assert fuel["amountRemaining"] == (await v3("internalcombustionengine-amountremaining"))["value"]
    assert round(fuel["percentRemaining"] * 100, 6) == (await v3("internalcombustionengine-fuellevel"))["value"]
    oil = await v2("/engine/oil")
    assert round(oil["lifeRemaining"] * 100, 6) == (await v3("internalcombustionengine-oillife"))["value"]

    tyres = {(t["row"], t["column"]): t["tirePressure"] for t in (await v3("wheel-tires"))["values"]}
    assert await v2("/tires/pressure") == {
        "frontLeft": tyres[(0, 0)], "frontRight": tyres[(0, 1)], "backLeft": tyres[(1, 0)], "backRight": tyres[(1, 1)],
    }

    security = await v2("/security")
    assert security["isLocked"] == (await v3("closure-islocked"))["value"]
    doors = (await v3("closure-doors"))["values"]
    assert [d["status"] for d in security["doors"]] == ["OPEN" if d["isOpen"] else "CLOSED" for d in doors]
    assert [d["type"] for d in security["doors"]] == ["frontLeft", "frontRight", "backLeft", "backRight"]
    assert [d["status"] for d in security["doors"]] == ["CLOSED", "OPEN", "CLOSED", "CLOSED"]
    assert {"type": "backLeft", "status": "OPEN"} in security["windows"]
    assert security["sunroof"] == [{"type": "sunroof", "status": "CLOSED"}]
    assert security["chargingPort"] == [{"type": "chargingPort", "status": "OPEN"}]  # the cable is in

    systems = {s["systemId"]: s for s in (await v2("/diagnostics/system_status"))["systems"]}
    tpms = await v3("diagnostics-tirepressuremonitoring")
    assert systems["SYSTEM_TPMS"] == {"systemId": "SYSTEM_TPMS", **tpms} and tpms["status"] == "ALERT"
    assert systems["SYSTEM_EV_HV_BATTERY"]["status"] == (await v3("diagnostics-evhvbattery"))["status"]
    assert "SYSTEM_WATER_IN_FUEL" not in systems  # a petrol engine has no water-in-fuel sensor
    dtcs = (await v3("diagnostics-dtclist"))["values"]
    assert await v2("/diagnostics/dtcs") == {"activeCodes": dtcs} and dtcs[0]["code"] == "P0420"

    vehicle = (await platform.http.get(f"/v3/vehicles/{car.vehicle_id}", headers=car.headers)).json()
    assert await v2("") == {key: vehicle[key] for key in ("id", "make", "model", "year")}


async def test_headers_date_the_answer_as_v3_dates_the_signal(sqlite_platform: PlatformHarness) -> None:
    car = await _frozen_phev(sqlite_platform)
    for path, code in (("/odometer", "odometer-traveleddistance"), ("/charge/limit", "charge-chargelimits")):
        answer = await car.get(path)
        meta = (await car.signal(code))["meta"]
        assert ms(answer.headers["sc-fetched-at"]) == meta["retrievedAt"]
        assert ms(answer.headers["sc-data-age"]) == meta["oemUpdatedAt"]
        assert answer.headers["sc-request-id"]
    vehicle = await car.get("")
    assert "sc-data-age" not in vehicle.headers and vehicle.headers["sc-request-id"]


async def test_imperial_units_are_v3s_imperial_units(sqlite_platform: PlatformHarness) -> None:
    car = await _frozen_phev(sqlite_platform)
    metric, imperial = await _v2(car, "/odometer"), await _v2(car, "/odometer", imperial=True)
    assert imperial["distance"] == round(metric["distance"] / 1.609344, 1)
    psi = await _v2(car, "/tires/pressure", imperial=True)
    kpa = await _v2(car, "/tires/pressure")
    assert psi["frontLeft"] == round(kpa["frontLeft"] / 6.894757293168, 1)
    gallons = await _v2(car, "/fuel", imperial=True)
    assert gallons["amountRemaining"] == round((await _v2(car, "/fuel"))["amountRemaining"] / 3.785411784, 2)
    # Fractions and capacities have no unit system.
    assert await _v2(car, "/battery/capacity", imperial=True) == await _v2(car, "/battery/capacity")
    bad = await car.get("/odometer", headers={"sc-unit-system": "furlongs"})
    assert_v2_error(bad, 400, "VALIDATION", "PARAMETER")


async def test_reads_follow_the_simulation_in_both_versions(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform, seed=5)
    await clock(sqlite_platform, "PUT", rate=0)
    before = (await _v2(car, "/odometer"))["distance"]
    await steer(sqlite_platform, car.vehicle_id, "drive", latitude=37.80, longitude=-122.27)
    await clock(sqlite_platform, "POST", "/advance", by="20m")
    after = (await _v2(car, "/odometer"))["distance"]
    assert after > before
    assert after == (await car.body("odometer-traveleddistance"))["value"]


async def test_service_history_is_v3s_records_in_a_date_range(sqlite_platform: PlatformHarness) -> None:
    car = await _frozen_phev(sqlite_platform)
    records = (await car.body("service-records"))["values"]
    assert records, "the car has a service history"
    everything = await car.get("/service/history", params={"startDate": "1990-01-01"})
    assert everything.status_code == 200 and everything.headers["sc-unit-system"] == "metric"
    history = everything.json()
    assert [h["serviceId"] for h in history] == [r["id"] for r in records]
    first, record = history[0], records[0]
    assert first["serviceDate"] == record["time"] and first["odometerDistance"] == record["odometer"]["value"]
    assert [t["taskDescription"] for t in first["serviceTasks"]] == [t["description"] for t in record["tasks"]]
    assert first["serviceCost"] == {"totalCost": record["cost"]["amount"], "currency": record["cost"]["currency"]}

    # Without dates: the last year up to the application's now (the car's history is older).
    now = (await clock(sqlite_platform))["nowMs"]
    recent = [r["id"] for r in records if ms(r["time"]) >= now - 365 * 86_400_000]
    assert 0 < len(recent) < len(records)
    assert [h["serviceId"] for h in (await car.get("/service/history")).json()] == recent
    # Node SDK 10 sends the dates it was not given as the literal "undefined".
    unset = await car.get("/service/history", params={"start_date": "undefined", "end_date": "undefined"})
    assert [h["serviceId"] for h in unset.json()] == recent
    # The Node SDK's start_date/end_date, and a day that ends the range (inclusive).
    day = record["time"][:10]
    node = await car.get("/service/history", params={"start_date": day, "end_date": day})
    assert [h["serviceId"] for h in node.json()] == [record["id"]]
    miles = (await car.get("/service/history", params={"startDate": "1990-01-01"}, imperial=True)).json()
    assert miles[0]["odometerDistance"] == round(record["odometer"]["value"] / 1.609344, 1)

    bad = assert_v2_error(await car.get("/service/history", params={"startDate": "last tuesday"}),
                          400, "VALIDATION", "PARAMETER")
    assert bad["detail"] == [{"field": "startDate", "message": bad["description"]}]
    backwards = await car.get("/service/history", params={"startDate": "2025-02-01", "endDate": "2025-01-01"})
    assert_v2_error(backwards, 400, "VALIDATION", "PARAMETER")


async def test_a_vehicle_that_cannot_report_answers_501(sqlite_platform: PlatformHarness) -> None:
    tesla = await v2_vehicle(sqlite_platform)
    for path in ("/fuel", "/engine/oil", "/diagnostics/system_status", "/diagnostics/dtcs", "/service/history"):
        body = assert_v2_error(await tesla.get(path), 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
        assert body["resolution"] == {"type": "CONTACT_SUPPORT"}
    camry = await v2_vehicle(sqlite_platform, "TOYOTA", "Camry", seed=3, email="camry@example.com")
    for path in ("/battery", "/battery/capacity", "/charge", "/charge/limit"):
        assert_v2_error(await camry.get(path), 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
    security = await _v2(camry, "/security")
    assert security["chargingPort"] == [] and security["storage"] == [{"type": "rear", "status": "CLOSED"}]


async def test_each_endpoint_needs_its_permission(platform: PlatformHarness) -> None:
    car = await v2_vehicle(platform, *PHEV, permissions=["read_vehicle_info", "read_odometer"])
    assert (await car.get("/odometer")).status_code == 200
    assert (await car.get("")).status_code == 200
    for path in ("/location", "/vin", "/battery", "/charge/limit", "/security", "/tires/pressure", "/fuel",
                 "/engine/oil", "/diagnostics/dtcs", "/service/history"):
        body = assert_v2_error(await car.get(path), 403, "PERMISSION", None)
        assert body["resolution"] == {"type": "REAUTHENTICATE"}
    permissions = await _v2(car, "/permissions")
    assert permissions == {"permissions": ["read_odometer", "read_vehicle_info"], "paging": {"count": 2, "offset": 0}}


async def test_an_unreachable_car_is_a_vehicle_state_error(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform, permissions=["read_vehicle_info", "read_odometer"])
    await steer(sqlite_platform, car.vehicle_id, "online", online=False)
    body = assert_v2_error(await car.get("/odometer"), 409, "VEHICLE_STATE", "UNREACHABLE")
    assert body["resolution"] == {"type": "RETRY_LATER"}
    # What the user did not grant is refused before the car is asked; what it cannot do, first.
    assert_v2_error(await car.get("/location"), 403, "PERMISSION", None)
    assert_v2_error(await car.get("/fuel"), 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
    status = (await car.signal("odometer-traveleddistance"))["attributes"]["status"]
    assert status["error"]["code"] == "UNREACHABLE"  # v3 says the same, beside the last value
    assert (await car.get("")).status_code == 200  # what Smartcar knows needs no car


async def test_permissions_page_with_limit_and_offset(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform)
    every = await _v2(car, "/permissions")
    granted = every["permissions"]
    assert granted == sorted(granted) and every["paging"] == {"count": len(granted), "offset": 0}
    page = (await car.get("/permissions", params={"limit": "2", "offset": "1"})).json()
    assert page == {"permissions": granted[1:3], "paging": {"count": len(granted), "offset": 1}}
    bad = assert_v2_error(await car.get("/permissions", params={"limit": "0", "offset": "-1"}),
                          400, "VALIDATION", "PARAMETER")
    assert [d["field"] for d in bad["detail"]] == ["limit", "offset"]
    assert_v2_error(await car.get("/permissions", params={"limit": "many"}), 400, "VALIDATION", "PARAMETER")


async def test_the_user_and_their_vehicles(platform: PlatformHarness) -> None:
    first, second = await fleet_vehicle(platform, seed=31), await fleet_vehicle(platform, "FORD", "F-150", seed=32)
    car = await v2_vehicle(platform, vehicle_id=first, email="two@example.com")
    other = await v2_vehicle(platform, vehicle_id=second, email="two@example.com")
    user = await platform.http.get("/v2.0/user", headers=other.headers)
    assert user.status_code == 200 and user.json() == {"id": other.user_id} and other.user_id == car.user_id

    listed = (await platform.http.get("/v2.0/vehicles", headers=other.headers)).json()
    assert sorted(listed["vehicles"]) == sorted([first, second])
    assert listed["paging"] == {"count": 2, "offset": 0}
    page = (await platform.http.get("/v2.0/vehicles", headers=other.headers, params={"limit": 1, "offset": 1})).json()
    assert page == {"vehicles": listed["vehicles"][1:], "paging": {"count": 2, "offset": 1}}
    empty = (await platform.http.get("/v2.0/vehicles", headers=other.headers, params={"offset": 5})).json()
    assert empty == {"vehicles": [], "paging": {"count": 2, "offset": 5}}
    for params in ({"limit": "51"}, {"limit": "0"}, {"offset": "x"}):
        refused = await platform.http.get("/v2.0/vehicles", headers=other.headers, params=params)
        assert_v2_error(refused, 400, "VALIDATION", "PARAMETER")
    # Someone else's token lists their own vehicles only.
    stranger = await v2_vehicle(platform, email="stranger@example.com")
    theirs = (await platform.http.get("/v2.0/vehicles", headers=stranger.headers)).json()
    assert theirs["vehicles"] == [stranger.vehicle_id]
