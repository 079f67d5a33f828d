"""The application management token and the v2 Management API's connections."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from ..support.api import assert_error, get
from ..support.harness import PlatformHarness

CONNECTIONS = "/v2.0/management/connections"


def amt_headers(token: str, user: str = "default") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


async def managed(
    platform: PlatformHarness, method: str = "GET", token: str | None = None, path: str = CONNECTIONS, **params: str
) -> Any:
    """A management API call with the development application's token (or ``token``)."""
    headers = amt_headers(token or platform.management_token)
    return await platform.http.request(method, path, headers=headers, params=params)


def assert_v2_error(response: Any, status: int, error_type: str) -> dict[str, Any]:
    body = assert_error(response, status, error_type)
    assert body["description"] and body["resolution"] == {"type": None}
    return body


async def every_page(platform: PlatformHarness, limit: int, **params: str) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = {"limit": str(limit), **params, **({"cursor": cursor} if cursor else {})}
        body = (await managed(platform, **query)).json()
        pages.append(body["connections"])
        cursor = body["paging"]["cursor"]
        if cursor is None:
            return pages


# --- the token ------------------------------------------------------------------------------------


async def test_the_token_is_shown_and_rotated_through_the_admin_api(platform: PlatformHarness) -> None:
    app_path = f"/admin/applications/{platform.application_id}"
    assert (await platform.admin("GET", app_path))["managementToken"] == platform.management_token
    assert (await managed(platform)).status_code == 200

    rotated = await platform.admin("POST", f"{app_path}/management-token")
    new_token = rotated["managementToken"]
    assert new_token != platform.management_token and len(new_token) == 64
    assert rotated["id"] == platform.application_id and rotated["clientId"] == platform.client_id
    assert (await platform.admin("GET", app_path))["managementToken"] == new_token
    assert_v2_error(await managed(platform), 401, "AUTHENTICATION")
    assert (await managed(platform, token=new_token)).status_code == 200
    # The client credentials are untouched.
    assert await platform.token()


async def test_rotating_an_unknown_application_changes_nothing(sqlite_platform: PlatformHarness) -> None:
    response = await sqlite_platform.http.post(
        f"/admin/applications/{uuid.uuid4()}/management-token", headers=sqlite_platform.admin_headers
    )
    assert_error(response, 404, "RESOURCE_NOT_FOUND")
    unauthorised = await sqlite_platform.http.post(
        f"/admin/applications/{sqlite_platform.application_id}/management-token"
    )
    assert_error(unauthorised, 401, "AUTHENTICATION")
    assert (await managed(sqlite_platform)).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer whatever",
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "wrong-user",
        "wrong-token",
    ],
)
async def test_a_wrong_token_is_refused(sqlite_platform: PlatformHarness, authorization: str | None) -> None:
    if authorization == "wrong-user":
        headers = amt_headers(sqlite_platform.management_token, user="admin")
    elif authorization == "wrong-token":
        headers = amt_headers("0" * 64)
    else:
        headers = {"Authorization": authorization} if authorization else {}
    for method in ("GET", "DELETE"):
        response = await sqlite_platform.http.request(method, CONNECTIONS, headers=headers, params={"user_id": str(uuid.uuid4())})
        body = assert_v2_error(response, 401, "AUTHENTICATION")
        assert body["code"] is None
        assert response.headers["www-authenticate"].startswith("Basic")


async def test_each_application_sees_its_own_connections(platform: PlatformHarness) -> None:
    mine, _ = await platform.connect("mine@example.com")
    other = await platform.admin("POST", "/admin/applications", json={"name": "Other", "redirectUris": []})
    # The other application has no fleet: its owner brings a test-mode car.
    theirs, _ = await platform.connect("theirs@example.com", mode="test", client_id=other["clientId"])
    ours = (await managed(platform, limit="100")).json()["connections"]
    assert {c["userId"] for c in ours} == {mine}
    seen = (await managed(platform, token=other["managementToken"], limit="100")).json()["connections"]
    assert {c["userId"] for c in seen} == {theirs}
    # Another application's user cannot be removed with this token.
    removed = (await managed(platform, "DELETE", user_id=theirs)).json()
    assert removed == {"connections": []}
    assert len((await managed(platform, token=other["managementToken"])).json()["connections"]) == 1


# --- listing --------------------------------------------------------------------------------------


async def test_the_list_is_the_v3_connections_in_v2_shape(platform: PlatformHarness) -> None:
    user_id, vehicle_ids = await platform.connect("list@example.com", mode="simulated")
    v3 = (await get(platform, "/v3/connections")).json()["connections"]
    for path in (CONNECTIONS, CONNECTIONS + "/"):  # the Python SDK asks with a trailing slash
        response = await managed(platform, path=path)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"connections", "paging"} and body["paging"] == {"cursor": None}
        assert [(c["userId"], c["vehicleId"]) for c in body["connections"]] == [
            (c["userId"], c["vehicleId"]) for c in v3
        ]
        first = body["connections"][0]
        assert set(first) == {"userId", "vehicleId", "connectedAt", "createdAt", "mode"}
        assert first["connectedAt"] == v3[0]["connectedAt"] and first["mode"] == "simulated"
    assert {c["vehicleId"] for c in v3} == set(vehicle_ids) and {c["userId"] for c in v3} == {user_id}


async def test_cursor_pages_are_stable(platform: PlatformHarness) -> None:
    for n in range(4):
        await platform.connect(f"pager{n}@example.com")  # 4 users × 3 fleet cars, 3 at a time
    v3 = (await get(platform, "/v3/connections", params={"page[size]": "100"})).json()["connections"]
    pages = await every_page(platform, limit=5)
    assert [len(page) for page in pages] == [5, 5, 2]
    assert [(c["userId"], c["vehicleId"]) for page in pages for c in page] == [
        (c["userId"], c["vehicleId"]) for c in v3
    ]
    assert (await managed(platform)).json()["connections"] == pages[0] + pages[1][:5]  # default 10

    # A connection made and one removed while paging shift nothing.
    first = (await managed(platform, limit="4")).json()
    await platform.connect("newcomer@example.com")
    await managed(platform, "DELETE", user_id=first["connections"][0]["userId"])
    rest = (await managed(platform, limit="100", cursor=first["paging"]["cursor"])).json()
    seen = [(c["userId"], c["vehicleId"]) for c in first["connections"] + rest["connections"]]
    assert seen == [(c["userId"], c["vehicleId"]) for c in v3]
    assert rest["paging"]["cursor"] is None


async def test_filters(platform: PlatformHarness) -> None:
    ada, ada_vehicles = await platform.connect("ada@example.com")
    bob, _ = await platform.connect("bob@example.com", mode="test")
    by_user = (await managed(platform, user_id=ada)).json()["connections"]
    assert {c["userId"] for c in by_user} == {ada} and len(by_user) == 3
    by_vehicle = (await managed(platform, vehicle_id=ada_vehicles[0])).json()["connections"]
    assert [c["vehicleId"] for c in by_vehicle] == [ada_vehicles[0]]
    test_mode = (await managed(platform, mode="test")).json()["connections"]
    assert {(c["userId"], c["mode"]) for c in test_mode} == {(bob, "test")}
    both = (await managed(platform, user_id=bob, vehicle_id=ada_vehicles[0])).json()
    assert both == {"connections": [], "paging": {"cursor": None}}
    paged = await every_page(platform, limit=1, user_id=ada)
    assert [c["vehicleId"] for page in paged for c in page] == [c["vehicleId"] for c in by_user]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"cursor": "not a cursor"},
        {"cursor": base64.urlsafe_b64encode(b"123~not-a-uuid").decode()},
        {"cursor": base64.urlsafe_b64encode(b"soon~" + str(uuid.uuid4()).encode()).decode()},
        {"user_id": "someone"},
        {"vehicle_id": "12"},
        {"mode": "sandbox"},
    ],
)
async def test_bad_parameters_are_validation_errors(sqlite_platform: PlatformHarness, params: dict[str, str]) -> None:
    body = assert_v2_error(await managed(sqlite_platform, **params), 400, "VALIDATION")
    assert body["errors"][0]["source"]["parameter"] == next(iter(params))


# --- removing -------------------------------------------------------------------------------------


async def test_delete_by_user_disconnects_like_v3(platform: PlatformHarness) -> None:
    gone, vehicle_ids = await platform.connect("gone@example.com", scope=["read_odometer"])
    kept, _ = await platform.connect("kept@example.com", scope=["read_odometer"])
    # Warm the read path's caches first: removing must reach them.
    assert (await get(platform, f"/v3/vehicles/{vehicle_ids[0]}/signals", user_id=gone)).status_code == 200

    response = await managed(platform, "DELETE", path=CONNECTIONS + "/", user_id=gone)
    assert response.status_code == 200, response.text
    removed = response.json()["connections"]
    assert sorted(c["vehicleId"] for c in removed) == sorted(vehicle_ids)
    assert all(set(c) == {"userId", "vehicleId"} and c["userId"] == gone for c in removed)

    # The user stays (as after DELETE /v3/connections/{id}); their access is gone at once.
    assert_error(await get(platform, f"/v3/vehicles/{vehicle_ids[0]}/signals", user_id=gone), 403, "PERMISSION")
    assert (await managed(platform, user_id=gone)).json()["connections"] == []
    assert {c["userId"] for c in (await get(platform, "/v3/connections")).json()["connections"]} == {kept}
    assert (await managed(platform, "DELETE", user_id=gone)).json() == {"connections": []}


async def test_delete_by_vehicle_and_by_both(platform: PlatformHarness) -> None:
    ada, vehicles = await platform.connect("ada@example.com")
    bob, _ = await platform.connect("bob@example.com")
    # Vehicle 0 is connected to both users: by vehicle removes both connections.
    removed = (await managed(platform, "DELETE", vehicle_id=vehicles[0])).json()["connections"]
    assert sorted(c["userId"] for c in removed) == sorted([ada, bob])
    both = (await managed(platform, "DELETE", user_id=ada, vehicle_id=vehicles[1])).json()["connections"]
    assert both == [{"userId": ada, "vehicleId": vehicles[1]}]
    left = (await get(platform, "/v3/connections")).json()["connections"]
    assert sorted((c["userId"], c["vehicleId"]) for c in left) == sorted(
        [(ada, vehicles[2]), (bob, vehicles[1]), (bob, vehicles[2])]
    )


async def test_a_refused_delete_removes_nothing(sqlite_platform: PlatformHarness) -> None:
    user_id, _ = await sqlite_platform.connect("stays@example.com")
    assert_v2_error(await managed(sqlite_platform, "DELETE"), 400, "VALIDATION")
    assert_v2_error(await managed(sqlite_platform, "DELETE", user_id="nope"), 400, "VALIDATION")
    assert_v2_error(await managed(sqlite_platform, "DELETE", token="f" * 64, user_id=user_id), 401, "AUTHENTICATION")
    assert len((await managed(sqlite_platform)).json()["connections"]) == 3


async def test_the_openapi_document_describes_the_management_api(sqlite_platform: PlatformHarness) -> None:
    paths = (await sqlite_platform.http.get("/openapi.json")).json()["paths"]
    operations = paths[CONNECTIONS]
    assert {"get", "delete"} <= set(operations)
    assert {"200", "400", "401"} <= set(operations["get"]["responses"])
    assert CONNECTIONS + "/" not in paths
