"""Input no request may turn into a 500, and tokens that open nothing: each case a failure an
audit of the platform found."""

from __future__ import annotations

import uuid

import pytest

from motorpool.platform.services.params import MAX_OFFSET

from ..support.api import assert_error
from ..support.grants import user_grant
from ..support.harness import PlatformHarness
from ..support.v2 import assert_v2_error, v2_vehicle

HUGE = "4611686018427387904"


@pytest.mark.parametrize(
    "query",
    [f"page[number]={HUGE}", "page=99999999999999999999999", "page=1e30", "page[size]=1e30", "page=-1"],
)
async def test_connection_pages_out_of_range_are_refused(platform: PlatformHarness, query: str) -> None:
    response = await platform.http.get(f"/v3/connections?{query}", headers=await platform.auth_headers())
    assert_error(response, 400, "VALIDATION")


@pytest.mark.parametrize("query", [f"page={HUGE}", "page=1e30", "pageSize=1e30", "pageSize=0"])
async def test_signal_pages_out_of_range_are_refused(sqlite_platform: PlatformHarness, query: str) -> None:
    user_id, vehicle_ids = await sqlite_platform.connect()
    response = await sqlite_platform.http.get(
        f"/v3/vehicles/{vehicle_ids[0]}/signals?{query}", headers=await sqlite_platform.auth_headers(user_id)
    )
    assert_error(response, 400, "VALIDATION")


@pytest.mark.parametrize("body", [{"seconds": 1e308}, {"seconds": 10 * 366 * 86_400 + 1}, {"by": "1e308s"}])
async def test_clock_steps_out_of_range_are_refused(sqlite_platform: PlatformHarness, body: dict[str, object]) -> None:
    response = await sqlite_platform.http.post(
        f"/admin/applications/{sqlite_platform.application_id}/clock/advance",
        json=body, headers=sqlite_platform.admin_headers,
    )
    assert_error(response, 400, "VALIDATION")


async def test_a_token_of_an_application_that_does_not_exist_opens_nothing(platform: PlatformHarness) -> None:
    user_id, vehicle_ids = await platform.connect()
    tokens = platform.platform.tokens
    ghost_app, _ = tokens.issue(str(uuid.uuid4()), "client_" + uuid.uuid4().hex)
    ghost_user, _, _ = tokens.issue_user(
        str(uuid.uuid4()), "client_" + uuid.uuid4().hex, user_id, ["read_odometer"]
    )
    wrong_pair, _ = tokens.issue(str(uuid.uuid4()), platform.client_id)  # a real client, another application
    for token in (ghost_app, wrong_pair):
        headers = {"Authorization": f"Bearer {token}", "sc-user-id": user_id}
        assert_error(await platform.http.get(f"/v3/vehicles/{vehicle_ids[0]}/signals", headers=headers), 401, "AUTHENTICATION")
        assert_error(await platform.http.get("/v3/connections", headers=headers), 401, "AUTHENTICATION")
    user_headers = {"Authorization": f"Bearer {ghost_user}"}
    assert (await platform.http.get("/v2.0/user", headers=user_headers)).status_code == 401
    assert (await platform.http.get(f"/v3/vehicles/{vehicle_ids[0]}", headers=user_headers)).status_code == 401
    real = await user_grant(platform)
    assert (await platform.http.get("/v2.0/user", headers={"Authorization": f"Bearer {real['access_token']}"})).status_code == 200


@pytest.mark.parametrize("offset", ["95538688869330052972544", HUGE, "100000001"])
async def test_v2_offsets_out_of_range_are_refused(platform: PlatformHarness, offset: str) -> None:
    """An offset past the database's integers was a 500 (found by the fuzz run); past the
    documented bound it is a 400, and the bound itself is served."""
    car = await v2_vehicle(platform, email="offset@example.com")
    response = await platform.http.get("/v2.0/vehicles", headers=car.headers, params={"offset": offset})
    assert_v2_error(response, 400, "VALIDATION", "PARAMETER")
    permissions = await car.get("/permissions", params={"offset": offset})
    assert_v2_error(permissions, 400, "VALIDATION", "PARAMETER")
    furthest = await platform.http.get("/v2.0/vehicles", headers=car.headers, params={"offset": str(MAX_OFFSET)})
    assert furthest.status_code == 200 and furthest.json()["vehicles"] == []
