"""Vehicle API v2.0 access: only a user token opens it, and only its user's vehicles; disconnecting;
the rate limits v3 has; errors in v2's vocabulary; the OpenAPI document."""

from __future__ import annotations

import pytest

from ..support.api import assert_error, set_limit
from ..support.grants import refresh
from ..support.harness import PlatformHarness
from ..support.v2 import assert_v2_error, fleet_vehicle, v2_vehicle

OTHER_VEHICLE = "36ab27d0-fd9d-4455-823a-ce30af709ffc"


@pytest.mark.parametrize("bearer", ["application", "management", "refresh", "garbage", "none", "basic"])
async def test_only_a_user_token_opens_v2(platform: PlatformHarness, bearer: str) -> None:
    car = await v2_vehicle(platform)
    app = await platform.admin("GET", f"/admin/applications/{platform.application_id}")
    authorization = {
        "application": f"Bearer {await platform.token()}",
        "management": f"Bearer {app['managementToken']}",
        "refresh": f"Bearer {car.refresh_token}",
        "garbage": "Bearer x.y.z",
        "none": "",
        "basic": f"Basic {car.token}",
    }[bearer]
    headers = {"Authorization": authorization} if authorization else {}
    for path in (f"/v2.0/vehicles/{car.vehicle_id}/odometer", "/v2.0/vehicles", "/v2.0/user"):
        body = assert_v2_error(await platform.http.get(path, headers=headers), 401, "AUTHENTICATION", None)
        assert body["docURL"].endswith("/authentication-errors#null")
    refused = await platform.http.post(f"/v2.0/vehicles/{car.vehicle_id}/security", headers=headers,
                                       json={"action": "UNLOCK"})
    assert_v2_error(refused, 401, "AUTHENTICATION", None)


async def test_a_vehicle_the_user_has_no_connection_to(sqlite_platform: PlatformHarness) -> None:
    mine = await v2_vehicle(sqlite_platform, email="me@example.com")
    theirs = await v2_vehicle(sqlite_platform, email="them@example.com", seed=8)
    for vehicle_id in (theirs.vehicle_id, OTHER_VEHICLE):
        answer = await sqlite_platform.http.get(f"/v2.0/vehicles/{vehicle_id}/odometer", headers=mine.headers)
        body = assert_v2_error(answer, 401, "AUTHENTICATION", None)
        assert vehicle_id in body["description"]
    malformed = await sqlite_platform.http.get("/v2.0/vehicles/not-a-vehicle/odometer", headers=mine.headers)
    assert assert_v2_error(malformed, 400, "VALIDATION", "PARAMETER")["detail"][0]["field"] == "id"


async def test_disconnecting_removes_the_connection_v3_shows(platform: PlatformHarness) -> None:
    kept, dropped = await fleet_vehicle(platform, seed=41), await fleet_vehicle(platform, seed=42)
    car = await v2_vehicle(platform, vehicle_id=dropped, email="leaving@example.com")
    await v2_vehicle(platform, vehicle_id=kept, email="leaving@example.com")
    answer = await platform.http.delete(f"/v2.0/vehicles/{dropped}/application", headers=car.headers)
    assert answer.status_code == 200 and answer.json() == {"status": "success"}, answer.text

    # The token no longer opens the vehicle, in either version; the user's other vehicle stays.
    assert_v2_error(await car.get("/odometer"), 401, "AUTHENTICATION", None)
    again = await platform.http.delete(f"/v2.0/vehicles/{dropped}/application", headers=car.headers)
    assert_v2_error(again, 401, "AUTHENTICATION", None)
    v3 = await platform.http.get(f"/v3/vehicles/{dropped}/signals/odometer-traveleddistance", headers=car.headers)
    assert_error(v3, 404, "RESOURCE_NOT_FOUND")
    listed = (await platform.http.get("/v2.0/vehicles", headers=car.headers)).json()
    assert listed == {"vehicles": [kept], "paging": {"count": 1, "offset": 0}}
    connections = await platform.http.get("/v3/connections", headers=await platform.auth_headers(car.user_id))
    assert [c["vehicleId"] for c in connections.json()["connections"]] == [kept]


async def test_the_last_disconnect_ends_the_refresh_tokens_use(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform)
    assert (await sqlite_platform.http.delete(f"/v2.0/vehicles/{car.vehicle_id}/application",
                                              headers=car.headers)).status_code == 200
    refused = await refresh(sqlite_platform, car.refresh_token)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


async def test_v2_and_v3_share_the_applications_rate_limit(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform)
    assert (await set_limit(sqlite_platform, requests=3, refillPerMinute=1)).status_code == 200
    assert (await car.get("/odometer")).status_code == 200
    assert (await sqlite_platform.http.get("/v2.0/vehicles", headers=car.headers)).status_code == 200
    await car.signal("odometer-traveleddistance")  # a v3 read spends from the same bucket
    refused = await car.post("/security", {"action": "LOCK"})
    body = assert_v2_error(refused, 429, "RATE_LIMIT", "SMARTCAR_API")
    assert int(refused.headers["retry-after"]) >= 1 and body["resolution"] == {"type": "RETRY_LATER"}


async def test_unknown_paths_and_methods(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform)
    assert_v2_error(await car.get("/pizza"), 404, "RESOURCE_NOT_FOUND", "PATH")
    assert_v2_error(await car.get("/tesla/speedometer"), 404, "RESOURCE_NOT_FOUND", "PATH")
    wrong = await sqlite_platform.http.put(f"/v2.0/vehicles/{car.vehicle_id}/odometer", headers=car.headers)
    assert_v2_error(wrong, 405, "VALIDATION", "METHOD_NOT_ALLOWED")
    # A GET with a JSON body (as the Python SDK's request() sends) is still a read.
    answer = await sqlite_platform.http.request(
        "GET", f"/v2.0/vehicles/{car.vehicle_id}/odometer", headers=car.headers, json={}
    )
    assert answer.status_code == 200 and "distance" in answer.json()


async def test_the_v2_routes_are_documented(sqlite_platform: PlatformHarness) -> None:
    spec = (await sqlite_platform.http.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in ("/v2.0/user", "/v2.0/vehicles", "/v2.0/vehicles/{vehicle_id}",
                 "/v2.0/vehicles/{vehicle_id}/odometer", "/v2.0/vehicles/{vehicle_id}/tires/pressure",
                 "/v2.0/vehicles/{vehicle_id}/batch", "/v2.0/vehicles/{vehicle_id}/application",
                 "/v2.0/vehicles/{vehicle_id}/service/history"):
        assert path in paths, path
    security = paths["/v2.0/vehicles/{vehicle_id}/security"]
    assert set(security) == {"get", "post"} and security["get"]["tags"] == ["Vehicle API v2.0"]
    assert security["post"]["requestBody"]["content"]["application/json"]["example"] == {"action": "LOCK"}
    batch = paths["/v2.0/vehicles/{vehicle_id}/batch"]["post"]["requestBody"]["content"]["application/json"]
    items = batch["schema"]["properties"]["requests"]["items"]
    assert items["required"] == ["path"] and "$defs" not in batch["schema"]  # every reference resolves
    odometer = paths["/v2.0/vehicles/{vehicle_id}/odometer"]["get"]
    assert {"200", "400", "401", "403", "409", "429", "501"} <= set(odometer["responses"])
    assert odometer["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/V2ErrorBody")
    assert "Vehicle API v2.0" in [tag["name"] for tag in spec["tags"]]
