"""The Vehicle API v3: connections, users, vehicles and signals."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ..support.api import ALL_CONTROL, READ_ALL, assert_error, connected_vehicle, fleet, get
from ..support.harness import PlatformHarness

# --- connections --------------------------------------------------------------------------------


async def test_connections_list_has_data_and_flat_forms(platform: PlatformHarness) -> None:
    user_id, vehicle_ids = await platform.connect("tutorial@example.com", scope=["read_vehicle_info", "read_odometer"])
    response = await get(platform, "/v3/connections")
    assert response.status_code == 200
    body = response.json()
    assert len(body["data"]) == len(vehicle_ids) == 3
    first = body["data"][0]
    assert first["type"] == "connection"
    assert first["relationships"]["user"]["data"] == {"id": user_id, "type": "user"}
    assert first["relationships"]["vehicle"]["data"]["id"] in vehicle_ids
    assert set(first["attributes"]["vehicle"]) >= {"make", "model", "year", "mode", "powertrainType"}
    assert first["attributes"]["permissions"] == ["read_vehicle_info", "read_odometer"]
    flat = body["connections"][0]
    assert flat["vehicleId"] == first["relationships"]["vehicle"]["data"]["id"]
    assert flat["userId"] == user_id and flat["mode"] == "simulated"
    assert flat["connectedAt"] == first["meta"]["createdAt"]
    assert body["meta"]["totalCount"] == 3 and body["meta"]["page"] == 1
    assert body["links"]["previous"] is None and body["links"]["next"] is None


async def test_connections_newest_first_and_paginated(platform: PlatformHarness) -> None:
    for n in range(3):
        await platform.connect(f"owner{n}@example.com")
    # 3 users x 3 fleet vehicles
    every = (await get(platform, "/v3/connections", params={"page[size]": "100"})).json()
    created = [c["meta"]["createdAt"] for c in every["data"]]
    assert created == sorted(created, reverse=True)
    assert every["meta"]["totalCount"] == 9

    page2 = (await get(platform, "/v3/connections", params={"page[number]": "2", "page[size]": "4"})).json()
    assert [c["id"] for c in page2["data"]] == [c["id"] for c in every["data"][4:8]]
    assert page2["links"]["previous"] and page2["links"]["next"]
    assert "page%5Bnumber%5D=3" in page2["links"]["last"]
    legacy = (await get(platform, "/v3/connections", params={"page": "3", "pageSize": "4"})).json()
    assert [c["id"] for c in legacy["data"]] == [c["id"] for c in every["data"][8:]]
    assert legacy["links"]["next"] is None
    beyond = (await get(platform, "/v3/connections", params={"page[number]": "9"})).json()
    assert beyond["data"] == [] and beyond["meta"]["totalCount"] == 9


@pytest.mark.parametrize(
    "params",
    [{"page[size]": "0"}, {"page[size]": "101"}, {"page[number]": "0"}, {"page[number]": "x"}, {"pageSize": "-1"}],
)
async def test_connections_page_out_of_range(sqlite_platform: PlatformHarness, params: dict[str, str]) -> None:
    assert_error(await get(sqlite_platform, "/v3/connections", params=params), 400, "VALIDATION")


async def test_connections_filters(platform: PlatformHarness) -> None:
    ada, ada_vehicles = await platform.connect("ada@example.com", external_id="crm-17")
    bob, _ = await platform.connect("bob@example.com", mode="test")
    by_user = (await get(platform, "/v3/connections", params={"filter[userId]": ada})).json()
    assert {c["userId"] for c in by_user["connections"]} == {ada}
    by_header = (await get(platform, "/v3/connections", user_id=bob)).json()
    assert {c["userId"] for c in by_header["connections"]} == {bob}
    by_vehicle = (await get(platform, "/v3/connections", params={"filter[vehicleId]": ada_vehicles[0]})).json()
    assert [c["vehicleId"] for c in by_vehicle["connections"]] == [ada_vehicles[0]]
    test_mode = (await get(platform, "/v3/connections", params={"filter[vehicle.mode]": "test"})).json()
    assert {c["userId"] for c in test_mode["connections"]} == {bob}
    external = (await get(platform, "/v3/connections", params={"filter[user.externalId]": "crm-17"})).json()
    assert {c["userId"] for c in external["connections"]} == {ada}
    assert external["data"][0]["attributes"]["externalId"] == "crm-17"
    assert_error(await get(platform, "/v3/connections", params={"filter[userId]": "nope"}), 400, "VALIDATION", "INVALID_INPUT_FORMAT")
    assert_error(await get(platform, "/v3/connections", params={"filter[vehicle.mode]": "bogus"}), 400, "VALIDATION")


async def test_get_and_delete_connection(platform: PlatformHarness) -> None:
    user_id, _ = await platform.connect("del@example.com")
    listed = (await get(platform, "/v3/connections", user_id=user_id)).json()
    connection_id = listed["connections"][0]["id"]
    one = (await get(platform, f"/v3/connections/{connection_id}")).json()
    assert one["data"]["id"] == connection_id and one["vehicleId"] == listed["connections"][0]["vehicleId"]
    by_vehicle = (await get(platform, f"/v3/connections/{one['vehicleId']}", user_id=user_id)).json()
    assert by_vehicle["id"] == connection_id

    headers = await platform.auth_headers()
    assert (await platform.http.delete(f"/v3/connections/{connection_id}", headers=headers)).status_code == 204
    assert_error(await get(platform, f"/v3/connections/{connection_id}"), 404, "RESOURCE_NOT_FOUND")
    # addressed by vehicle id, as the announcement writes it
    other_vehicle = listed["connections"][1]["vehicleId"]
    assert (await platform.http.delete(f"/v3/connections/{other_vehicle}", headers=headers)).status_code == 204
    remaining = (await get(platform, "/v3/connections", user_id=user_id)).json()
    assert len(remaining["connections"]) == 1
    assert_error(await get(platform, "/v3/connections/not-a-uuid"), 400, "VALIDATION")
    assert_error(await get(platform, f"/v3/connections/{uuid.uuid4()}"), 404, "RESOURCE_NOT_FOUND")


async def test_delete_user_removes_everything(platform: PlatformHarness) -> None:
    user_id, vehicle_ids = await platform.connect("gone@example.com", scope=["read_odometer"])
    headers = await platform.auth_headers()
    signals = await get(platform, f"/v3/vehicles/{vehicle_ids[0]}/signals", user_id=user_id)
    assert signals.status_code == 200
    assert (await platform.http.delete(f"/v3/users/{user_id}", headers=headers)).status_code == 204
    assert (await get(platform, "/v3/connections", user_id=user_id)).json()["connections"] == []
    assert_error(await get(platform, f"/v3/vehicles/{vehicle_ids[0]}/signals", user_id=user_id), 404, "RESOURCE_NOT_FOUND")
    assert_error(await platform.http.delete(f"/v3/users/{user_id}", headers=headers), 404, "RESOURCE_NOT_FOUND")
    # the same owner connecting again gets the same kind of access back, as a new user
    again, _ = await platform.connect("gone@example.com")
    assert again != user_id


async def test_applications_are_isolated(platform: PlatformHarness) -> None:
    user_id, vehicle_ids = await platform.connect("mine@example.com")
    other = await platform.admin("POST", "/admin/applications", json={"name": "Other", "redirectUris": []})
    other_token = await platform.token(other["clientId"], other["clientSecret"])
    headers = {"Authorization": f"Bearer {other_token}"}
    listed = (await platform.http.get("/v3/connections", headers=headers)).json()
    assert listed["data"] == [] and listed["connections"] == []
    vehicle = await platform.http.get(f"/v3/vehicles/{vehicle_ids[0]}", headers=headers)
    assert_error(vehicle, 404, "RESOURCE_NOT_FOUND")
    signals = await platform.http.get(
        f"/v3/vehicles/{vehicle_ids[0]}/signals", headers={**headers, "sc-user-id": user_id}
    )
    assert_error(signals, 404, "RESOURCE_NOT_FOUND")
    connection_id = (await get(platform, "/v3/connections")).json()["data"][0]["id"]
    assert_error(await platform.http.get(f"/v3/connections/{connection_id}", headers=headers), 404, "RESOURCE_NOT_FOUND")
    assert_error(await platform.http.delete(f"/v3/users/{user_id}", headers=headers), 404, "RESOURCE_NOT_FOUND")


async def test_users_are_isolated(platform: PlatformHarness) -> None:
    ada, ada_vehicles = await platform.connect("ada@example.com", mode="test")
    bob, _ = await platform.connect("bob@example.com", mode="test")
    refused = await get(platform, f"/v3/vehicles/{ada_vehicles[0]}/signals", user_id=bob)
    assert_error(refused, 403, "PERMISSION")
    assert_error(await get(platform, f"/v3/vehicles/{ada_vehicles[0]}", user_id=bob), 403, "PERMISSION")
    assert (await get(platform, f"/v3/vehicles/{ada_vehicles[0]}", user_id=ada)).status_code == 200


# --- vehicles -----------------------------------------------------------------------------------


async def test_get_vehicle_has_data_and_flat_members(platform: PlatformHarness) -> None:
    await platform.connect("v@example.com")
    cars = await fleet(platform)
    response = await get(platform, f"/v3/vehicles/{cars['BEV']['id']}")
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["type"] == "vehicle" and body["data"]["id"] == cars["BEV"]["id"]
    attributes = body["data"]["attributes"]
    assert attributes["make"] == body["make"] == cars["BEV"]["make"]
    assert body["model"] == cars["BEV"]["model"] and body["year"] == cars["BEV"]["year"]
    assert body["powertrainType"] == "BEV" and body["mode"] == "simulated"
    assert body["id"] == cars["BEV"]["id"]
    assert response.headers["sc-request-id"]
    assert_error(await get(platform, "/v3/vehicles/12345"), 400, "VALIDATION", "INVALID_INPUT_FORMAT")
    assert_error(await get(platform, f"/v3/vehicles/{uuid.uuid4()}"), 404, "RESOURCE_NOT_FOUND")


async def test_a_trailing_slash_is_served_not_redirected(sqlite_platform: PlatformHarness) -> None:
    platform = sqlite_platform
    user_id, vehicle = await connected_vehicle(platform, scope=ALL_CONTROL)
    for path in (
        f"/v3/vehicles/{vehicle}",
        f"/v3/vehicles/{vehicle}/signals",
        f"/v3/vehicles/{vehicle}/signals/odometer-traveleddistance",
        "/v3/connections",
    ):
        plain = await get(platform, path, user_id)
        slashed = await get(platform, path + "/", user_id)
        assert plain.status_code == 200, plain.text
        assert slashed.status_code == 200, f"{path}/ answered {slashed.status_code}"
        assert "location" not in slashed.headers
        assert slashed.json()["data"] == plain.json()["data"]
    # A command, whose body a redirect could lose, is carried out at its slashed path too.
    headers = await platform.auth_headers(user_id)
    locked = await platform.http.post(
        f"/v3/vehicles/{vehicle}/commands/security/lock/", headers=headers
    )
    assert locked.status_code == 200, locked.text
    assert locked.json()["data"]["attributes"]["commandType"] == "security-lock"
    # The admin API is served the same way; a path that does not exist is still a 404.
    listed = await platform.http.get("/admin/applications/", headers=platform.admin_headers)
    assert listed.status_code == 200 and listed.json()["data"]
    assert_error(await get(platform, f"/v3/vehicles/{vehicle}/nowhere/"), 404, "RESOURCE_NOT_FOUND")


async def test_a_method_a_path_does_not_answer_is_405(sqlite_platform: PlatformHarness) -> None:
    response = await sqlite_platform.http.put("/v3/connections", headers=await sqlite_platform.auth_headers())
    body = assert_error(response, 405, "VALIDATION", "METHOD_NOT_ALLOWED")
    assert body["errors"][0]["title"] == "Method Not Allowed"
    assert "PUT" in body["description"]
    assert response.headers["allow"] == "GET"


async def test_the_nickname_signal_reports_the_stored_nickname(sqlite_platform: PlatformHarness) -> None:
    platform = sqlite_platform
    car = {"applicationId": platform.application_id, "make": "TESLA", "model": "Model 3"}
    named = await platform.admin("POST", "/admin/vehicles", json=car | {"seed": 7, "nickname": "Ada's car"})
    unnamed = await platform.admin("POST", "/admin/vehicles", json=car | {"seed": 11})
    user_id, _ = await platform.connect(scope=["read_vehicle_info"], vehicles=[named["id"], unnamed["id"]])
    fleet_names = {v["id"]: v["nickname"] for v in await platform.admin(
        "GET", f"/admin/applications/{platform.application_id}/vehicles"
    )}
    for vehicle, stored in ((named, "Ada's car"), (unnamed, unnamed["nickname"])):
        path = f"/v3/vehicles/{vehicle['id']}/signals/vehicleidentification-nickname"
        reported = (await get(platform, path, user_id)).json()["data"]["attributes"]["body"]["value"]
        assert reported == stored == fleet_names[vehicle["id"]]


# --- signals ------------------------------------------------------------------------------------


async def test_signals_require_sc_user_id(platform: PlatformHarness) -> None:
    _, vehicle_ids = await platform.connect("s@example.com")
    body = assert_error(await get(platform, f"/v3/vehicles/{vehicle_ids[0]}/signals"), 400, "VALIDATION", "MISSING_PARAMETER")
    assert "sc-user-id" in body["description"]
    one = await get(platform, f"/v3/vehicles/{vehicle_ids[0]}/signals/odometer-traveleddistance")
    assert_error(one, 400, "VALIDATION", "MISSING_PARAMETER")
    malformed = await get(platform, f"/v3/vehicles/{vehicle_ids[0]}/signals", headers={"sc-user-id": "x"})
    assert_error(malformed, 400, "VALIDATION", "INVALID_INPUT_FORMAT")
    unknown_user = await get(platform, f"/v3/vehicles/{vehicle_ids[0]}/signals", user_id=str(uuid.uuid4()))
    assert_error(unknown_user, 404, "RESOURCE_NOT_FOUND")


async def test_signal_list_shape_and_headers(platform: PlatformHarness) -> None:
    cars = await fleet(platform)
    user_id, _ = await platform.connect("shape@example.com", scope=READ_ALL)
    response = await get(platform, f"/v3/vehicles/{cars['BEV']['id']}/signals", user_id=user_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["totalCount"] == len(body["data"]) >= 85
    assert body["included"]["vehicle"]["id"] == cars["BEV"]["id"]
    assert body["included"]["vehicle"]["attributes"]["make"] == cars["BEV"]["make"]
    by_code = {s["id"]: s for s in body["data"]}
    groups = {s["attributes"]["group"] for s in body["data"]}
    assert len(groups) == 19
    odometer = by_code["odometer-traveleddistance"]
    assert odometer["type"] == "signal"
    assert odometer["attributes"]["code"] == "odometer-traveleddistance"
    assert odometer["attributes"]["name"] == "TraveledDistance"
    assert odometer["attributes"]["group"] == "Odometer"
    assert odometer["attributes"]["status"] == {"value": "SUCCESS"}
    assert odometer["attributes"]["body"]["unit"] == "km" and odometer["attributes"]["body"]["value"] > 0
    meta = odometer["meta"]
    assert isinstance(meta["retrievedAt"], int) and meta["retrievedAt"] > 1_700_000_000_000
    assert meta["oemUpdatedAt"] <= meta["retrievedAt"]
    assert odometer["links"]["self"].endswith(f"/v3/vehicles/{cars['BEV']['id']}/signals/odometer-traveleddistance")
    soc = by_code["tractionbattery-stateofcharge"]["attributes"]["body"]
    assert soc["unit"] == "percent" and 0 <= soc["value"] <= 100
    assert by_code["tractionbattery-stateofcharge"]["attributes"]["status"] == {"value": "SUCCESS"}
    fuel = by_code["internalcombustionengine-fuellevel"]["attributes"]["status"]["error"]
    assert fuel["type"] == "COMPATIBILITY", "a BEV has no fuel tank"
    for code, signal in by_code.items():
        assert code == signal["attributes"]["code"] == (signal["attributes"]["group"] + "-" + signal["attributes"]["name"]).lower()
    assert response.headers["sc-unit-system"] == "metric"
    assert response.headers["sc-fetched-at"].endswith("Z") and response.headers["sc-data-age"].endswith("Z")
    assert response.headers["sc-request-id"]
    # fetched-at is the retrievedAt the body reports
    from datetime import datetime

    fetched = datetime.fromisoformat(response.headers["sc-fetched-at"])
    assert int(fetched.timestamp() * 1000) == meta["retrievedAt"]


async def test_signal_values_are_consistent(platform: PlatformHarness) -> None:
    cars = await fleet(platform)
    user_id, _ = await platform.connect("consistent@example.com", scope=READ_ALL)
    body = (await get(platform, f"/v3/vehicles/{cars['BEV']['id']}/signals", user_id=user_id)).json()
    by_code = {s["id"]: s["attributes"] for s in body["data"]}
    soc = by_code["tractionbattery-stateofcharge"]["body"]["value"]
    range_km = by_code["tractionbattery-range"]["body"]["value"]
    assert range_km > 0 and (soc == 0 or range_km / soc > 1), "range follows the state of charge"
    location = by_code["location-preciselocation"]["body"]
    assert -90 <= location["latitude"] <= 90 and -180 <= location["longitude"] <= 180
    again = (await get(platform, f"/v3/vehicles/{cars['BEV']['id']}/signals", user_id=user_id)).json()
    assert {s["id"]: s["attributes"].get("body") for s in again["data"]} == {c: a.get("body") for c, a in by_code.items()}


async def test_signal_without_permission(platform: PlatformHarness) -> None:
    cars = await fleet(platform)
    user_id, _ = await platform.connect("narrow@example.com", scope=["read_vehicle_info", "read_odometer"])
    body = (await get(platform, f"/v3/vehicles/{cars['BEV']['id']}/signals", user_id=user_id)).json()
    soc = next(s for s in body["data"] if s["id"] == "tractionbattery-stateofcharge")
    assert soc["attributes"]["status"]["value"] == "ERROR"
    assert soc["attributes"]["status"]["error"]["type"] == "PERMISSION"
    assert "body" not in soc["attributes"] or soc["attributes"]["body"] is None
    odometer = next(s for s in body["data"] if s["id"] == "odometer-traveleddistance")
    assert odometer["attributes"]["status"]["value"] == "SUCCESS"
    alone = await get(platform, f"/v3/vehicles/{cars['BEV']['id']}/signals/tractionbattery-stateofcharge", user_id=user_id)
    assert_error(alone, 403, "PERMISSION")
    allowed = await get(platform, f"/v3/vehicles/{cars['BEV']['id']}/signals/odometer-traveleddistance", user_id=user_id)
    assert allowed.status_code == 200
    assert allowed.json()["data"]["attributes"]["body"] == odometer["attributes"]["body"]


async def test_signal_the_vehicle_cannot_provide(platform: PlatformHarness) -> None:
    cars = await fleet(platform)
    user_id, _ = await platform.connect("ice@example.com", scope=READ_ALL)
    ice = cars["ICE"]["id"]
    body = (await get(platform, f"/v3/vehicles/{ice}/signals", user_id=user_id)).json()
    soc = next(s for s in body["data"] if s["id"] == "tractionbattery-stateofcharge")
    assert soc["attributes"]["status"]["value"] == "ERROR"
    assert soc["attributes"]["status"]["error"] == soc["attributes"]["status"]["error"] | {
        "type": "COMPATIBILITY", "code": "VEHICLE_NOT_CAPABLE"
    }
    fuel = next(s for s in body["data"] if s["id"] == "internalcombustionengine-fuellevel")
    assert fuel["attributes"]["status"]["value"] == "SUCCESS"
    alone = await get(platform, f"/v3/vehicles/{ice}/signals/tractionbattery-stateofcharge", user_id=user_id)
    assert_error(alone, 501, "COMPATIBILITY", "VEHICLE_NOT_CAPABLE")


async def test_unknown_signal_and_vehicle(platform: PlatformHarness) -> None:
    user_id, vehicle_ids = await platform.connect("unknown@example.com")
    assert_error(await get(platform, f"/v3/vehicles/{vehicle_ids[0]}/signals/odometer-nope", user_id=user_id), 404, "RESOURCE_NOT_FOUND")
    assert_error(await get(platform, f"/v3/vehicles/{uuid.uuid4()}/signals", user_id=user_id), 404, "RESOURCE_NOT_FOUND")
    assert_error(await get(platform, "/v3/vehicles/xyz/signals", user_id=user_id), 400, "VALIDATION", "INVALID_INPUT_FORMAT")
    assert_error(await get(platform, "/v3/odometer"), 404, "RESOURCE_NOT_FOUND")


async def test_imperial_units(platform: PlatformHarness) -> None:
    cars = await fleet(platform)
    user_id, _ = await platform.connect("imperial@example.com", scope=READ_ALL)
    path = f"/v3/vehicles/{cars['BEV']['id']}/signals/odometer-traveleddistance"
    metric = (await get(platform, path, user_id=user_id)).json()["data"]["attributes"]["body"]
    response = await get(platform, path, user_id=user_id, headers={"SC-Unit-System": "imperial"})
    imperial = response.json()["data"]["attributes"]["body"]
    assert response.headers["sc-unit-system"] == "imperial"
    assert imperial["unit"] == "miles"
    assert imperial["value"] == pytest.approx(metric["value"] / 1.609344, rel=1e-3)
    listed = (await get(platform, f"/v3/vehicles/{cars['BEV']['id']}/signals", user_id=user_id, headers={"SC-Unit-System": "imperial"})).json()
    tires = next(s for s in listed["data"] if s["id"] == "wheel-tires")["attributes"]
    if tires["status"]["value"] == "SUCCESS":
        assert all(0 < t["tirePressure"] < 100 for t in tires["body"]["values"]), "psi"
    assert_error(await get(platform, path, user_id=user_id, headers={"SC-Unit-System": "furlongs"}), 400, "VALIDATION")


async def test_signal_pagination(platform: PlatformHarness) -> None:
    user_id, vehicle_ids = await platform.connect("pages@example.com", scope=READ_ALL)
    path = f"/v3/vehicles/{vehicle_ids[0]}/signals"
    every = (await get(platform, path, user_id=user_id)).json()
    page = (await get(platform, path, user_id=user_id, params={"page": "2", "pageSize": "10"})).json()
    assert [s["id"] for s in page["data"]] == [s["id"] for s in every["data"][10:20]]
    assert page["meta"] == page["meta"] | {"page": 2, "pageSize": 10, "totalCount": every["meta"]["totalCount"]}
    assert page["links"]["previous"] and page["links"]["next"]
    assert_error(await get(platform, path, user_id=user_id, params={"pageSize": "0"}), 400, "VALIDATION")
    assert_error(await get(platform, path, user_id=user_id, params={"page": "-3"}), 400, "VALIDATION")


async def test_openapi_documents_every_endpoint(sqlite_platform: PlatformHarness) -> None:
    spec = (await sqlite_platform.http.get("/openapi.json")).json()
    paths = spec["paths"]
    # Bad input is a 400 in the error shape everywhere; FastAPI's 422 is never answered.
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    command = paths["/v3/vehicles/{vehicle_id}/commands/charge/set-limit"]["post"]["responses"]["400"]
    assert command["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    for path in (
        "/oauth2/token",
        "/v3/connections",
        "/v3/connections/{connection_id}",
        "/v3/users/{user_id}",
        "/v3/vehicles/{vehicle_id}",
        "/v3/vehicles/{vehicle_id}/signals",
        "/v3/vehicles/{vehicle_id}/signals/{code}",
    ):
        assert path in paths, path
    signals = paths["/v3/vehicles/{vehicle_id}/signals"]["get"]
    assert {"200", "400", "401", "403", "404"} <= set(signals["responses"])
    docs = await sqlite_platform.http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


# --- the read path's caches ---------------------------------------------------------------------


async def test_listed_signals_are_the_single_signal_resources(platform: PlatformHarness) -> None:
    """The list body is put together from pre-rendered resources: each equals the one-signal
    answer, and the whole is compact JSON."""
    import orjson

    cars = await fleet(platform)
    user_id, _ = await platform.connect("pieces@example.com", scope=READ_ALL)
    for system in ("metric", "imperial"):
        path = f"/v3/vehicles/{cars['PHEV']['id']}/signals"
        listed = await get(platform, path, user_id=user_id, headers={"SC-Unit-System": system})
        assert listed.content == orjson.dumps(listed.json())
        for signal in listed.json()["data"][:40]:
            one = await get(platform, f"{path}/{signal['id']}", user_id=user_id, headers={"SC-Unit-System": system})
            if signal["attributes"]["status"].get("error", {}).get("type") == "COMPATIBILITY":
                assert one.status_code == 501
            else:
                assert one.status_code == 200 and one.json()["data"] == signal


async def test_a_fleet_does_not_report_in_lockstep() -> None:
    """Vehicles seeded together have consecutive seeds; their reports still spread over the
    interval, so their cached readings do not all expire in the same second."""
    from motorpool.platform.services.access import report_phase_ms

    for interval in (10_000, 30_000, 60_000):
        phases = sorted(report_phase_ms(seed, interval) for seed in range(123_456_789, 123_456_789 + 500))
        seconds = {phase // 1000 for phase in phases}
        assert len(seconds) == interval // 1000, "every second of the interval has reports"
        assert all(0 <= phase < interval for phase in phases)


async def test_concurrent_cold_reads_share_one_lookup(
    platform: PlatformHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cache misses that come in together are looked up in one query; refusals are still told
    apart, and a reader that goes away does not spoil the answer for the others."""
    import asyncio

    from motorpool.platform.errors import NotFound, PermissionDenied
    from motorpool.platform.store import repo

    user_id, vehicle_ids = await platform.connect("burst@example.com", scope=READ_ALL)
    other_user, _ = await platform.connect("other@example.com", scope=READ_ALL, vehicles=vehicle_ids[:1])
    cache = platform.platform.access
    calls: list[list[str]] = []
    real = repo.access_rows

    async def counting(db: Any, application_id: str, user: str, ids: Any) -> Any:
        calls.append(list(ids))
        return await real(db, application_id, user, ids)

    monkeypatch.setattr(repo, "access_rows", counting)
    cache.invalidate()
    app_id = platform.application_id
    results = await asyncio.gather(
        *(cache.get(app_id, user_id, vid) for vid in [*vehicle_ids, *vehicle_ids]),
        cache.get(app_id, user_id, str(uuid.uuid4())),
        cache.get(app_id, other_user, vehicle_ids[1]),
        return_exceptions=True,
    )
    twice = len(vehicle_ids) * 2
    assert [r.vehicle_id for r in results[:twice]] == [*vehicle_ids, *vehicle_ids]  # type: ignore[union-attr]
    assert isinstance(results[twice], NotFound)
    assert isinstance(results[twice + 1], PermissionDenied)
    assert sorted(len(c) for c in calls) == [1, len(vehicle_ids) + 1], "one query per user"

    # A reader cancelled mid-lookup: the others still get their answer.
    cache.invalidate()
    calls.clear()
    first = asyncio.ensure_future(cache.get(app_id, user_id, vehicle_ids[0]))
    second = asyncio.ensure_future(cache.get(app_id, user_id, vehicle_ids[0]))
    await asyncio.sleep(0)
    first.cancel()
    assert (await second).vehicle_id == vehicle_ids[0]
    assert first.cancelled() and len(calls) == 1
    assert cache.cached(app_id, user_id, vehicle_ids[0]) is not None


async def test_a_lookup_overtaken_by_a_change_is_not_cached(
    platform: PlatformHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from motorpool.platform.store import repo

    user_id, vehicle_ids = await platform.connect("race@example.com", scope=READ_ALL)
    cache = platform.platform.access
    real = repo.access_rows

    async def changed_meanwhile(db: Any, application_id: str, user: str, ids: Any) -> Any:
        rows = await real(db, application_id, user, ids)
        cache.invalidate()  # as a commit that changed connections would, while the query ran
        return rows

    monkeypatch.setattr(repo, "access_rows", changed_meanwhile)
    cache.invalidate()
    access = await cache.get(platform.application_id, user_id, vehicle_ids[0])
    assert access.vehicle_id == vehicle_ids[0]
    assert cache.cached(platform.application_id, user_id, vehicle_ids[0]) is None


async def test_a_local_change_is_not_dropped_twice(platform: PlatformHarness) -> None:
    """A change made here empties the cache once; the once-a-second poll then finds nothing new.
    A change another process made (the counter moved under us) empties it on the next poll."""
    from sqlalchemy import text

    user_id, vehicle_ids = await platform.connect("poll@example.com", scope=READ_ALL)
    cache = platform.platform.access
    app_id = platform.application_id
    await platform.connect("another-change@example.com", scope=READ_ALL)  # a local commit
    await cache.get(app_id, user_id, vehicle_ids[0])
    await cache.poll()
    assert cache.cached(app_id, user_id, vehicle_ids[0]) is not None

    async with platform.platform.engine.begin() as connection:
        await connection.execute(text("UPDATE cache_generations SET value = value + 1 WHERE name = 'access'"))
    await cache.poll()
    assert cache.cached(app_id, user_id, vehicle_ids[0]) is None
