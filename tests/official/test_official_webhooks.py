"""Smartcar's official Python SDK (``smartcar`` 6.19.1) and webhooks: ``Vehicle.subscribe`` with
the user's token and ``Vehicle.unsubscribe`` with the management token, run unchanged in a
process of its own pointed at motorpool by ``SMARTCAR_API_ORIGIN``; and its ``hash_challenge``
(the receiver's VERIFY answer) and ``verify_payload`` over the exact bytes of real deliveries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import smartcar

from ..support.grants import connect_code, exchange
from ..support.official_sdks import NODE_9, NODE_10, OfficialSdk
from ..support.receiver import Receiver
from ..support.socket_platform import SocketPlatform, platform_on_socket

pytestmark = pytest.mark.e2e

SCRIPT = r"""
import json, sys
import smartcar
action, vehicle_id, token, webhook_id = sys.argv[1:5]
vehicle = smartcar.Vehicle(vehicle_id, token)
if action == "subscribe":
    answer = vehicle.subscribe(webhook_id)
    print(json.dumps({"webhook_id": answer.webhook_id, "vehicle_id": answer.vehicle_id}))
else:
    answer = vehicle.unsubscribe(token, webhook_id)
    print(json.dumps({"status": answer.status}))
"""


@dataclass
class Grantor:
    """What the grant helpers need of a platform, for one on a socket."""

    http: httpx.AsyncClient
    client_id: str
    client_secret: str
    redirect_uri: str


def official(platform: SocketPlatform, *args: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMARTCAR_", "MOTORPOOL_"))}
    env["SMARTCAR_API_ORIGIN"] = platform.origin
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SocketPlatform]:
    with platform_on_socket(Path(tmp_path_factory.mktemp("official-webhooks"))) as platform:
        yield platform


async def test_subscribe_and_unsubscribe_and_the_signature_helpers(served: SocketPlatform) -> None:
    import asyncio

    env = served.env()
    amt = env["APPLICATION_MANAGEMENT_TOKEN"]
    receiver = await Receiver(amt).start()
    try:
        webhook = await served.admin(
            "POST", f"/admin/applications/{served.application_id}/webhooks",
            json={"name": "Official", "callbackUri": receiver.url,
                  "triggers": ["odometer-traveleddistance"], "data": ["odometer-traveleddistance"]},
        )  # fmt: skip
        # VERIFY was answered with the official hash_challenge, so the webhook is verified.
        assert webhook["meta"]["verified"] is True

        async with served.http() as http:
            grantor = Grantor(http, env["SMARTCAR_CLIENT_ID"], env["SMARTCAR_CLIENT_SECRET"], env["SMARTCAR_REDIRECT_URI"])
            code = await connect_code(grantor, mode="simulated", email="official-hooks@example.com")  # type: ignore[arg-type]
            answer = await exchange(grantor, code["code"])  # type: ignore[arg-type]
            assert answer.status_code == 200, answer.text
            token = answer.json()["access_token"]
            vehicles = await http.get("/v2.0/vehicles", headers={"Authorization": f"Bearer {token}"})
            vehicle_id = vehicles.json()["vehicles"][0]

        subscribed = await asyncio.to_thread(official, served, "subscribe", vehicle_id, token, webhook["id"])
        assert subscribed == {"webhook_id": webhook["id"], "vehicle_id": vehicle_id}
        (first,) = await receiver.wait_for(1, "VEHICLE_STATE")
        assert first.event["vehicleId"] == vehicle_id
        assert smartcar.verify_payload(amt, first.headers["sc-signature"], first.raw.decode())
        assert not smartcar.verify_payload(amt, first.headers["sc-signature"], first.raw.decode() + " ")

        # Unsubscribe takes the management token as its bearer (the SDK's first argument).
        gone = await asyncio.to_thread(official, served, "unsubscribe", vehicle_id, amt, webhook["id"])
        assert gone == {"status": "success"}
        listed = await served.admin("GET", f"/admin/webhooks/{webhook['id']}")
        assert listed["meta"]["events"].get("delivered", 0) >= 2
        async with served.http() as http:
            # The user token is not the management token: refused, and nothing changes.
            refused = await http.delete(
                f"/v2.0/vehicles/{vehicle_id}/webhooks/{webhook['id']}", headers={"Authorization": f"Bearer {token}"}
            )
        assert refused.status_code == 401
        assert refused.json()["type"] == "AUTHENTICATION"
    finally:
        await receiver.stop()


async def _user_vehicle(served: SocketPlatform, email: str) -> tuple[str, str]:
    env = served.env()
    async with served.http() as http:
        grantor = Grantor(http, env["SMARTCAR_CLIENT_ID"], env["SMARTCAR_CLIENT_SECRET"], env["SMARTCAR_REDIRECT_URI"])
        code = await connect_code(grantor, mode="simulated", email=email)  # type: ignore[arg-type]
        answer = await exchange(grantor, code["code"])  # type: ignore[arg-type]
        assert answer.status_code == 200, answer.text
        token = str(answer.json()["access_token"])
        vehicles = await http.get("/v2.0/vehicles", headers={"Authorization": f"Bearer {token}"})
    return token, str(vehicles.json()["vehicles"][0])


@pytest.mark.parametrize("sdk", [NODE_9, NODE_10], ids=lambda sdk: sdk.name)
async def test_the_node_sdks_subscribe_unsubscribe_and_verify_real_deliveries(
    served: SocketPlatform, sdk: OfficialSdk
) -> None:
    """``verifyPayload`` signs ``JSON.stringify`` of the parsed body: it verifies only because
    motorpool writes its bodies exactly as JavaScript would (whole numbers without ``.0``)."""
    import asyncio

    sdk.require()
    env = served.env()
    amt = env["APPLICATION_MANAGEMENT_TOKEN"]
    receiver = await Receiver(amt).start()
    try:
        webhook = await served.admin(
            "POST", f"/admin/applications/{served.application_id}/webhooks",
            json={"name": sdk.name, "callbackUri": receiver.url, "triggers": ["odometer-traveleddistance"],
                  "data": ["odometer-traveleddistance", "location-preciselocation"]},
        )  # fmt: skip
        assert webhook["meta"]["verified"] is True
        token, vehicle_id = await _user_vehicle(served, f"official-{sdk.name}@example.com")
        # A delivery with whole-number values in it: a pinned odometer of 5000 km.
        await served.admin("PUT", f"/admin/vehicles/{vehicle_id}/signals/odometer-traveleddistance",
                           json={"body": {"unit": "km", "value": 5000.0}})  # fmt: skip
        async with served.http() as http:
            subscribed = await http.post(
                f"/v2.0/vehicles/{vehicle_id}/webhooks/{webhook['id']}", headers={"Authorization": f"Bearer {token}"}
            )
        assert subscribed.status_code == 200, subscribed.text
        (first,) = await receiver.wait_for(1, "VEHICLE_STATE")
        assert b'"body":{"unit":"km","value":5000}' in first.raw
        async with served.http() as http:  # the SDK subscribes again (answered the same)
            await http.delete(f"/v2.0/vehicles/{vehicle_id}/webhooks/{webhook['id']}",
                              headers={"Authorization": f"Bearer {amt}"})  # fmt: skip
        given = {
            "vehicleId": vehicle_id, "token": token, "webhookId": webhook["id"], "amt": amt,
            "challenge": "a-challenge", "signature": first.headers["sc-signature"], "body": first.raw.decode(),
        }  # fmt: skip
        env_vars = {k: v for k, v in os.environ.items() if not k.startswith(("SMARTCAR_", "MOTORPOOL_"))}
        env_vars.update(sdk.environment(served.origin))
        script = str(Path(sdk.argv[1]).parent / "webhooks.js")
        done = await asyncio.to_thread(
            subprocess.run, ["node", script, sdk.argv[2]], input=json.dumps(given), env=env_vars,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert "error" not in out, out["error"]
        assert out["subscribed"] == {"webhookId": webhook["id"], "vehicleId": vehicle_id}
        assert out["challenge"] == smartcar.hash_challenge(amt, "a-challenge")
        assert out["verified"] is True and out["tampered"] is False
        assert out["unsubscribed"] == {"status": "success"}
    finally:
        await receiver.stop()
