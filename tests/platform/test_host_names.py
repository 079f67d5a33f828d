"""Every surface on every host name: a request is served by its path whatever its ``Host``, the
links of an answer use the Smartcar host the request came on (any other ``Host`` gets the public
origin), and tokens carry one issuer, so a token asked for at ``iam.smartcar.com`` works at
``vehicle.api.smartcar.com`` and at the platform's own address alike."""

from __future__ import annotations

import jwt
import pytest

from motorpool.platform.hostnames import (
    hosts_block,
    is_smartcar_host,
    link_origin,
    split_host,
    with_hosts_block,
    without_hosts_block,
)

from ..support.api import CONTROL, READ_ALL, connected_vehicle
from ..support.harness import BASE_URL, PlatformHarness

IAM = "iam.smartcar.com"
VEHICLE_API = "vehicle.api.smartcar.com"


async def token_at(platform: PlatformHarness, host: str) -> str:
    answer = await platform.http.post("/oauth2/token", headers={"Host": host}, data={
        "grant_type": "client_credentials",
        "client_id": platform.client_id,
        "client_secret": platform.client_secret,
    })  # fmt: skip
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


async def test_a_token_asked_at_iam_works_at_the_vehicle_api_and_at_the_platforms_own_address(
    sqlite_platform: PlatformHarness,
) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    token = await token_at(sqlite_platform, IAM)
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == BASE_URL
    assert jwt.decode(await token_at(sqlite_platform, "localhost:4000"), options={"verify_signature": False})["iss"] == BASE_URL
    for host in (VEHICLE_API, "api.smartcar.com", "motorpool.test"):
        answer = await sqlite_platform.http.get(
            f"/v3/vehicles/{vehicle_id}",
            headers={"Host": host, "Authorization": f"Bearer {token}", "sc-user-id": user_id},
        )
        assert answer.status_code == 200, (host, answer.text)


async def test_links_use_the_smartcar_host_the_request_came_on(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    headers = {"Authorization": f"Bearer {await token_at(sqlite_platform, IAM)}", "sc-user-id": user_id}
    on_smartcar = {**headers, "Host": VEHICLE_API}

    connections = (await sqlite_platform.http.get("/v3/connections", headers=on_smartcar)).json()
    assert connections["links"]["self"].startswith(f"http://{VEHICLE_API}/v3/connections?")
    related = connections["data"][0]["relationships"]["vehicle"]["links"]["related"]
    assert related == f"http://{VEHICLE_API}/v3/vehicles/{vehicle_id}"

    vehicle = (await sqlite_platform.http.get(f"/v3/vehicles/{vehicle_id}", headers=on_smartcar)).json()
    assert vehicle["data"]["links"]["self"] == f"http://{VEHICLE_API}/v3/vehicles/{vehicle_id}"

    executed = await sqlite_platform.http.post(
        f"/v3/vehicles/{vehicle_id}/commands/security/unlock", headers=on_smartcar
    )
    link = executed.json()["data"]["links"]["self"]
    assert link.startswith(f"http://{VEHICLE_API}/v3/vehicles/{vehicle_id}/commands/executions/exec_")
    again = await sqlite_platform.http.get(link.removeprefix(f"http://{VEHICLE_API}"), headers=on_smartcar)
    assert again.json()["data"]["links"]["self"] == link

    # A port the client used stays in the links.
    with_port = {**headers, "Host": f"{VEHICLE_API}:8443"}
    vehicle = (await sqlite_platform.http.get(f"/v3/vehicles/{vehicle_id}", headers=with_port)).json()
    assert vehicle["data"]["links"]["self"] == f"http://{VEHICLE_API}:8443/v3/vehicles/{vehicle_id}"


async def test_other_hosts_get_the_public_origin(sqlite_platform: PlatformHarness) -> None:
    """A Host header is the client's to write: only Smartcar's names change the links."""
    user_id, vehicle_id = await connected_vehicle(sqlite_platform)
    headers = {"Authorization": f"Bearer {await token_at(sqlite_platform, IAM)}", "sc-user-id": user_id}
    for host in ("evil.example", "localhost:4000", f"{VEHICLE_API}:443/evil", f"{VEHICLE_API}.evil.example"):
        vehicle = await sqlite_platform.http.get(f"/v3/vehicles/{vehicle_id}", headers={**headers, "Host": host})
        assert vehicle.status_code == 200, (host, vehicle.text)
        assert vehicle.json()["data"]["links"]["self"] == f"{BASE_URL}/v3/vehicles/{vehicle_id}", host


async def test_signal_links_follow_the_host_and_renderings_do_not_mix(sqlite_platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(sqlite_platform, scope=[*CONTROL, *READ_ALL])
    headers = {"Authorization": f"Bearer {await token_at(sqlite_platform, IAM)}", "sc-user-id": user_id}
    path = f"/v3/vehicles/{vehicle_id}/signals"
    # The same snapshot read on two hosts, in turn: each answer carries its own host's links.
    for host, origin in ((VEHICLE_API, f"http://{VEHICLE_API}"), ("motorpool.test", BASE_URL),
                         (VEHICLE_API, f"http://{VEHICLE_API}")):  # fmt: skip
        listed = (await sqlite_platform.http.get(path, headers={**headers, "Host": host})).json()
        assert listed["links"]["self"].startswith(f"{origin}{path}?")
        assert listed["included"]["vehicle"]["links"]["self"] == f"{origin}/v3/vehicles/{vehicle_id}"
        first = listed["data"][0]
        assert first["links"]["self"] == f"{origin}{path}/{first['attributes']['code']}"
        one = (await sqlite_platform.http.get(f"{path}/odometer-traveleddistance",
                                              headers={**headers, "Host": host})).json()  # fmt: skip
        assert one["data"]["links"]["self"] == f"{origin}{path}/odometer-traveleddistance"
        assert one["data"]["links"]["vehicle"] == f"{origin}/v3/vehicles/{vehicle_id}"


async def test_server_metadata_names_endpoints_on_the_host_and_one_issuer(sqlite_platform: PlatformHarness) -> None:
    on_iam = await sqlite_platform.http.get("/.well-known/oauth-authorization-server", headers={"Host": IAM})
    assert on_iam.json()["token_endpoint"] == f"http://{IAM}/oauth2/token"
    assert on_iam.json()["issuer"] == BASE_URL
    plain = await sqlite_platform.http.get("/.well-known/oauth-authorization-server")
    assert plain.json()["token_endpoint"] == f"{BASE_URL}/oauth2/token"


async def test_every_surface_answers_on_every_smartcar_host(sqlite_platform: PlatformHarness) -> None:
    """Served by path: Connect on iam's name, IAM on the Vehicle API's, and so on."""
    query = {"response_type": "code", "client_id": sqlite_platform.client_id, "mode": "test"}
    for host in ("iam.smartcar.com", "vehicle.api.smartcar.com", "management.api.smartcar.com"):
        page = await sqlite_platform.http.get("/oauth/authorize", params=query, headers={"Host": host})
        assert page.status_code == 200, (host, page.text)
        assert (await token_at(sqlite_platform, host)).count(".") == 2


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("iam.smartcar.com", ("iam.smartcar.com", None)),
        ("IAM.Smartcar.com.:443", ("iam.smartcar.com", 443)),
        ("[::1]:4000", ("::1", 4000)),
        ("::1", ("::1", None)),
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
    ],
)
def test_split_host(host: str, expected: tuple[str, int | None]) -> None:
    assert split_host(host) == expected


@pytest.mark.parametrize("host", ["iam.smartcar.com:http", "iam.smartcar.com:0", "iam.smartcar.com:70000", "[::1]x"])
def test_split_host_refuses_what_is_not_host_and_port(host: str) -> None:
    with pytest.raises(ValueError):
        split_host(host)


def test_link_origin() -> None:
    assert link_origin("https", "vehicle.api.smartcar.com", "https://127.0.0.1:4000") == "https://vehicle.api.smartcar.com"
    assert link_origin("https", "VEHICLE.api.smartcar.com:443", "x") == "https://vehicle.api.smartcar.com:443"
    assert link_origin("https", "smartcar.com", "https://127.0.0.1:4000") == "https://127.0.0.1:4000"
    assert link_origin("https", None, "https://127.0.0.1:4000") == "https://127.0.0.1:4000"
    assert is_smartcar_host("connect.smartcar.com:443") and not is_smartcar_host("connect.smartcar.com.evil")


def test_the_hosts_block_is_added_once_and_taken_out_leaving_the_rest() -> None:
    original = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n"
    applied = with_hosts_block(original)
    assert applied.startswith(original) and applied.endswith(hosts_block())
    assert "127.0.0.1 vehicle.api.smartcar.com\n" in applied and "127.0.0.1 iam.smartcar.com\n" in applied
    assert with_hosts_block(applied) == applied
    assert without_hosts_block(applied) == original
    assert without_hosts_block(original) == original
    moved = with_hosts_block(applied, "10.0.0.2")
    assert "10.0.0.2 iam.smartcar.com" in moved and "127.0.0.1 iam.smartcar.com" not in moved
