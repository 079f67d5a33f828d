"""Vehicle API rate limits: off by default, set per application, answered 429 with retry-after."""

from __future__ import annotations

import asyncio

from ..support.api import CONTROL, assert_error, connected_vehicle, get, set_limit
from ..support.harness import PlatformHarness


async def test_no_limits_until_an_application_gets_some(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform, scope=CONTROL)
    view = await platform.admin("GET", f"/admin/applications/{platform.application_id}/rate-limit")
    assert view["enabled"] is False
    for _ in range(130):  # past Smartcar's default bucket of 120
        assert (await get(platform, f"/v3/vehicles/{vehicle_id}/signals/closure-islocked", user_id)).status_code == 200


async def test_the_application_bucket_empties_and_refills(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform, scope=CONTROL)
    answer = await set_limit(platform, requests=3, refillPerMinute=120)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == {"applicationId": platform.application_id, "enabled": True, "requests": 3,
                                     "refillPerMinute": 120.0, "vehicleRequestsPerMinute": None}
    paths = ["/v3/connections", f"/v3/vehicles/{vehicle_id}", f"/v3/vehicles/{vehicle_id}/signals"]
    for path in paths:
        assert (await get(platform, path, user_id)).status_code == 200
    refused = await get(platform, f"/v3/vehicles/{vehicle_id}/signals/closure-islocked", user_id)
    body = assert_error(refused, 429, "RATE_LIMIT", "SMARTCAR_API")
    assert refused.headers["retry-after"] == "1"
    assert body["resolution"] == {"type": "RETRY_LATER"}
    await asyncio.sleep(0.6)  # two requests a second come back
    assert (await get(platform, f"/v3/vehicles/{vehicle_id}/signals/closure-islocked", user_id)).status_code == 200


async def test_each_vehicle_is_throttled_on_its_own(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform, scope=CONTROL)
    other_user, other_vehicle = await connected_vehicle(sqlite_platform, scope=CONTROL, seed=8)
    assert (await set_limit(sqlite_platform, vehicleRequestsPerMinute=2)).status_code == 200
    path = f"/v3/vehicles/{vehicle_id}/signals/closure-islocked"
    assert (await get(sqlite_platform, path, user_id)).status_code == 200
    assert (await get(sqlite_platform, path, user_id)).status_code == 200
    refused = await get(sqlite_platform, path, user_id)
    assert_error(refused, 429, "RATE_LIMIT", "VEHICLE")
    assert 1 <= int(refused.headers["retry-after"]) <= 30
    headers = await sqlite_platform.auth_headers(user_id)
    command = await sqlite_platform.http.post(f"/v3/vehicles/{vehicle_id}/commands/security/lock", headers=headers)
    assert_error(command, 429, "RATE_LIMIT", "VEHICLE")
    assert (await get(sqlite_platform, f"/v3/vehicles/{other_vehicle}/signals", other_user)).status_code == 200
    assert (await get(sqlite_platform, "/v3/connections", user_id)).status_code == 200  # not a vehicle read

    lifted = await set_limit(sqlite_platform)
    assert lifted.json()["data"]["enabled"] is False
    assert (await get(sqlite_platform, path, user_id)).status_code == 200


async def test_limits_belong_to_one_application(sqlite_platform: PlatformHarness) -> None:
    other = await sqlite_platform.admin("POST", "/admin/applications", json={"name": "Other"})
    assert (await set_limit(sqlite_platform, other["id"], preset="smartcar")).json()["data"]["requests"] == 120
    user_id, _vehicle_id = await connected_vehicle(sqlite_platform, scope=CONTROL)
    assert (await set_limit(sqlite_platform, requests=1, refillPerMinute=1)).status_code == 200
    assert (await get(sqlite_platform, "/v3/connections", user_id)).status_code == 200
    assert_error(await get(sqlite_platform, "/v3/connections", user_id), 429, "RATE_LIMIT")
    view = await sqlite_platform.admin("GET", f"/admin/applications/{other['id']}/rate-limit")
    assert view["enabled"] is True and view["refillPerMinute"] == 2.0


async def test_bad_limits_are_refused(sqlite_platform: PlatformHarness) -> None:
    for body in ({"requests": 10}, {"requests": 0, "refillPerMinute": 1}, {"requests": 5, "refillPerMinute": -1},
                 {"vehicleRequestsPerMinute": 0}, {"preset": "generous"}, {"burst": 3}):
        assert_error(await set_limit(sqlite_platform, **body), 400, "VALIDATION")
    missing = await set_limit(sqlite_platform, "6f1c1e0a-0000-4000-8000-000000000000", requests=1, refillPerMinute=1)
    assert_error(missing, 404, "RESOURCE_NOT_FOUND")
    unknown = await sqlite_platform.http.get("/admin/applications/6f1c1e0a-0000-4000-8000-000000000000/rate-limit",
                                             headers=sqlite_platform.admin_headers)
    assert_error(unknown, 404, "RESOURCE_NOT_FOUND")
