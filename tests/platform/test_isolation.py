"""Tenant isolation, as a table: application A, with its own valid credentials, aims every
endpoint at application B's user, vehicle, connection, command execution, charge schedule,
webhook and subscription, and gets nothing (401, 403 or 404; never a 2xx, never a 5xx); and forged tokens open nothing.
A new endpoint is covered by adding one row to ``V3``, ``V2`` or ``MANAGEMENT``."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ..support.grants import user_grant
from ..support.harness import PlatformHarness

REFUSED = {401, 403, 404}
LOCATION = {"latitude": 37.77, "longitude": -122.42}
WINDOW = {"startTime": "01:00", "stopTime": "05:00"}

#: (method, path, body): ``{user}``, ``{vehicle}``, ``{connection}``, ``{execution}``,
#: ``{webhook}``, ``{subscription}`` are B's (in paths and bodies); ``{own_webhook}`` is A's.
V3: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v3/connections?filter[userId]={user}", None),
    ("GET", "/v3/connections?filter[vehicleId]={vehicle}", None),
    ("GET", "/v3/connections/{connection}", None),
    ("DELETE", "/v3/connections/{connection}", None),
    ("DELETE", "/v3/users/{user}", None),
    ("GET", "/v3/vehicles/{vehicle}", None),
    ("GET", "/v3/vehicles/{vehicle}/signals", None),
    ("GET", "/v3/vehicles/{vehicle}/signals/odometer-traveleddistance", None),
    ("POST", "/v3/vehicles/{vehicle}/commands/security/lock", None),
    ("POST", "/v3/vehicles/{vehicle}/commands/security/unlock", None),
    ("POST", "/v3/vehicles/{vehicle}/commands/charge/start", None),
    ("POST", "/v3/vehicles/{vehicle}/commands/charge/stop", None),
    ("POST", "/v3/vehicles/{vehicle}/commands/charge/set-limit", {"percent": 80}),
    ("POST", "/v3/vehicles/{vehicle}/commands/charge-port/open", None),
    ("POST", "/v3/vehicles/{vehicle}/commands/charge-port/close", None),
    ("POST", "/v3/vehicles/{vehicle}/commands/navigation/set-destination", LOCATION),
    ("GET", "/v3/vehicles/{vehicle}/commands/executions/{execution}", None),
    ("POST", "/v3/vehicles/{vehicle}/charge-schedules/daily", {**WINDOW, "location": LOCATION}),
    ("POST", "/v3/vehicles/{vehicle}/charge-schedules/workweek", {"location": LOCATION, "weekdays": WINDOW}),
    ("POST", "/v3/vehicles/{vehicle}/charge-schedules/weekly", {"location": LOCATION, "days": {"MONDAY": WINDOW}}),
    ("GET", "/v3/webhooks/{webhook}", None),
    ("GET", "/v3/webhooks?filter[name]=Tenant", None),
    ("GET", "/v3/webhooks/{webhook}/subscriptions", None),
    ("GET", "/v3/subscriptions?filter[webhookId]={webhook}", None),
    ("GET", "/v3/subscriptions?filter[vehicleId]={vehicle}", None),
    ("GET", "/v3/subscriptions/{subscription}", None),
    ("DELETE", "/v3/subscriptions/{subscription}", None),
    ("DELETE", "/v3/webhooks/{webhook}/subscriptions/{vehicle}", None),
    ("POST", "/v3/subscriptions", {"data": {"type": "subscription", "attributes": {
        "webhookId": "{webhook}", "userId": "{user}", "vehicleId": "{vehicle}"}}}),
    ("POST", "/v3/subscriptions", {"data": {"type": "subscription", "attributes": {
        "webhookId": "{own_webhook}", "userId": "{user}", "vehicleId": "{vehicle}"}}}),
    ("POST", "/v3/webhooks/{webhook}/subscriptions", {"data": {"attributes": {"userId": "{user}", "vehicleId": "{vehicle}"}}}),
    ("POST", "/v3/webhooks/{own_webhook}/subscriptions", {"data": {"attributes": {"userId": "{user}", "vehicleId": "{vehicle}"}}}),
]  # fmt: skip

V2: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v2.0/vehicles/{vehicle}", None),
    ("GET", "/v2.0/vehicles/{vehicle}/permissions", None),
    ("GET", "/v2.0/vehicles/{vehicle}/vin", None),
    ("GET", "/v2.0/vehicles/{vehicle}/odometer", None),
    ("GET", "/v2.0/vehicles/{vehicle}/location", None),
    ("GET", "/v2.0/vehicles/{vehicle}/battery", None),
    ("GET", "/v2.0/vehicles/{vehicle}/charge", None),
    ("POST", "/v2.0/vehicles/{vehicle}/charge", {"action": "START"}),
    ("GET", "/v2.0/vehicles/{vehicle}/security", None),
    ("POST", "/v2.0/vehicles/{vehicle}/security", {"action": "UNLOCK"}),
    ("POST", "/v2.0/vehicles/{vehicle}/batch", {"requests": [{"path": "/odometer"}]}),
    ("POST", "/v2.0/vehicles/{vehicle}/navigation/destination", LOCATION),
    ("DELETE", "/v2.0/vehicles/{vehicle}/application", None),
    ("POST", "/v2.0/vehicles/{vehicle}/webhooks/{webhook}", None),
    ("POST", "/v2.0/vehicles/{vehicle}/webhooks/{own_webhook}", None),
]

MANAGEMENT: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v2.0/management/connections?vehicle_id={vehicle}", None),
    ("DELETE", "/v2.0/management/connections?vehicle_id={vehicle}", None),
    ("DELETE", "/v2.0/management/connections?user_id={user}", None),
]


@dataclass
class Tenant:
    application_id: str
    client_id: str
    client_secret: str
    user: str
    vehicle: str
    connection: str
    execution: str
    webhook: str
    subscription: str
    own_webhook: str = ""


async def _tenant_b(platform: PlatformHarness) -> Tenant:
    created = await platform.http.post(
        "/admin/applications", json={"name": "Tenant B", "redirectUris": ["https://b.example/cb"]},
        headers=platform.admin_headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    app = created.json()["data"]
    connected = await platform.admin(
        "POST", f"/admin/applications/{app['id']}/connections", json={"email": "b-owner@example.com", "mode": "test"}
    )
    token = await platform.token(app["clientId"], app["clientSecret"])
    user, vehicle = connected["userId"], connected["vehicleIds"][0]
    headers = {"Authorization": f"Bearer {token}", "sc-user-id": user}
    lock = await platform.http.post(f"/v3/vehicles/{vehicle}/commands/security/lock", headers=headers)
    assert lock.status_code < 300, lock.text
    execution = lock.json()["data"]["id"] if "data" in lock.json() else lock.json()["id"]
    webhook = await _webhook(platform, app["id"], "Tenant B")
    subscribed = await platform.http.post(
        "/v3/subscriptions", headers=headers, json={"data": {"type": "subscription", "attributes": {
            "webhookId": webhook, "userId": user, "vehicleId": vehicle}}},
    )  # fmt: skip
    assert subscribed.status_code == 202, subscribed.text
    return Tenant(app["id"], app["clientId"], app["clientSecret"], user, vehicle,
                  connected["connectionIds"][0], execution, webhook, subscribed.json()["data"]["id"],
                  await _webhook(platform, platform.application_id, "Tenant A"))  # fmt: skip


async def _webhook(platform: PlatformHarness, application_id: str, name: str) -> str:
    """A webhook of the application (its callback answers nothing: it stays unverified, which
    takes subscriptions all the same)."""
    body = {"name": name, "callbackUri": "http://127.0.0.1:9/hook", "triggers": ["odometer-traveleddistance"]}
    created = await platform.http.post(
        f"/admin/applications/{application_id}/webhooks", json=body, headers=platform.admin_headers
    )
    assert created.status_code == 201, created.text
    return str(created.json()["data"]["id"])


def _fill(path: str, b: Tenant) -> str:
    return path.format(
        user=b.user, vehicle=b.vehicle, connection=b.connection, execution=b.execution,
        webhook=b.webhook, subscription=b.subscription, own_webhook=b.own_webhook,
    )  # fmt: skip


def _fill_body(body: Any, b: Tenant) -> Any:
    if isinstance(body, str):
        return _fill(body, b)
    if isinstance(body, dict):
        return {key: _fill_body(value, b) for key, value in body.items()}
    return body


def _b_ids(b: Tenant) -> tuple[str, ...]:
    return (b.connection, b.vehicle, b.webhook, b.subscription)


async def _b_is_intact(platform: PlatformHarness, b: Tenant) -> None:
    token = await platform.token(b.client_id, b.client_secret)
    headers = {"Authorization": f"Bearer {token}", "sc-user-id": b.user}
    answer = await platform.http.get(f"/v3/connections/{b.connection}", headers=headers)
    assert answer.status_code == 200, answer.text
    answer = await platform.http.get(f"/v3/subscriptions/{b.subscription}", headers=headers)
    assert answer.status_code == 200, answer.text


async def test_application_a_reaches_nothing_of_application_b(platform: PlatformHarness) -> None:
    b = await _tenant_b(platform)
    own_user, _ = await platform.connect()
    a_token = await platform.token()
    leaks: list[str] = []
    for user in (b.user, own_user):  # B's user, and A's own user aimed at B's things
        headers = {"Authorization": f"Bearer {a_token}", "sc-user-id": user}
        for method, path, body in V3:
            answer = await platform.http.request(
                method, _fill(path, b), json=_fill_body(body, b), headers=headers
            )
            if method == "GET" and "?" in path:
                # A listing is A's own: it answers (or refuses the filter) with nothing of B in it.
                listed = str(answer.json().get("data")) + str(answer.json().get("connections"))
                if answer.status_code not in REFUSED | {200, 400} or any(i in listed for i in _b_ids(b)):
                    leaks.append(f"{method} {path} as {user}: {answer.status_code} {answer.text[:200]}")
            elif answer.status_code not in REFUSED:
                leaks.append(f"{method} {path} as {user}: {answer.status_code} {answer.text[:200]}")
    assert not leaks, "\n".join(leaks)
    await _b_is_intact(platform, b)


async def test_a_user_token_of_application_a_reaches_nothing_of_application_b(platform: PlatformHarness) -> None:
    b = await _tenant_b(platform)
    grant = await user_grant(platform)
    headers = {"Authorization": f"Bearer {grant['access_token']}"}
    leaks = []
    for method, path, body in V2 + V3[5:]:
        answer = await platform.http.request(method, _fill(path, b), json=_fill_body(body, b), headers=headers)
        if answer.status_code not in REFUSED:
            leaks.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
    assert not leaks, "\n".join(leaks)
    vehicles = (await platform.http.get("/v2.0/vehicles", headers=headers)).json()
    assert b.vehicle not in str(vehicles)
    await _b_is_intact(platform, b)


async def test_the_management_token_of_a_reaches_nothing_of_b(platform: PlatformHarness) -> None:
    b = await _tenant_b(platform)
    basic = base64.b64encode(f"default:{platform.management_token}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}"}
    for method, path, _ in MANAGEMENT:
        answer = await platform.http.request(method, _fill(path, b), headers=headers)
        assert answer.status_code < 500
        assert b.connection not in answer.text and b.user not in answer.text, (method, path, answer.text)
    # v2's unsubscribe takes the management token as the bearer.
    answer = await platform.http.delete(
        _fill("/v2.0/vehicles/{vehicle}/webhooks/{webhook}", b),
        headers={"Authorization": f"Bearer {platform.management_token}"},
    )
    assert answer.status_code in REFUSED, answer.text
    await _b_is_intact(platform, b)


def _forged(platform: PlatformHarness, real: str) -> list[tuple[str, str]]:
    claims = jwt.decode(real, options={"verify_signature": False})
    header = jwt.get_unverified_header(real)
    other_key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    unsigned = (
        base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=").decode() + "."
        + base64.urlsafe_b64encode(jwt.api_jws.json.dumps(claims).encode()).rstrip(b"=").decode() + "."
    )  # fmt: skip
    return [
        ("another key, same kid", jwt.encode(claims, other_key, "ES256", headers=header)),
        ("alg none", unsigned),
        ("HS256 keyed by the public key", jwt.encode(claims, "x" * 32, "HS256", headers={"kid": header["kid"]})),
        ("expired", jwt.encode({**claims, "exp": now - 10}, other_key, "ES256", headers=header)),
        ("tampered claims", real.split(".")[0] + "." + unsigned.split(".")[1] + "." + real.split(".")[2]),
        ("truncated", real[:-5]),
    ]


@pytest.mark.parametrize("path", ["/v3/connections", "/v3/vehicles/{vehicle}", "/v2.0/vehicles"])
async def test_forged_tokens_open_nothing(sqlite_platform: PlatformHarness, path: str) -> None:
    platform = sqlite_platform
    user, vehicles = await platform.connect()
    real = await platform.token()
    for name, token in _forged(platform, real):
        answer = await platform.http.get(
            path.format(vehicle=vehicles[0]), headers={"Authorization": f"Bearer {token}", "sc-user-id": user}
        )
        assert answer.status_code == 401, (name, answer.status_code, answer.text[:200])
