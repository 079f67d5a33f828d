"""Smartcar's official Python SDK (``smartcar`` 6.19), unchanged, against a vehicle whose
connected-services account needs re-authentication and one whose signal fails: it raises its own
``SmartcarException`` with the documented fields (type, code, status, resolution type and URL),
on v2 and on v3, and reads a failing signal's error from the v3 list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from ..support.connect_pages import go_through_connect, query_of
from ..support.processes import Served, serve

pytestmark = pytest.mark.e2e

#: Runs in a fresh interpreter: the SDK reads its origins once, when it is imported.
SCRIPT = r"""
import json, sys
import smartcar

def attempt(call):
    try:
        return {"ok": call()}
    except smartcar.SmartcarException as error:
        return {"error": {"class": type(error).__name__, "status": error.status_code, "type": error.type,
                          "code": error.code, "resolution": error.resolution, "message": error.message,
                          "suggested": error.suggested_user_message}}

token, vehicle_id = sys.argv[1:3]
vehicle = smartcar.Vehicle(vehicle_id, token)
out = {
    "odometer": attempt(lambda: vehicle.odometer().distance),
    "battery": attempt(lambda: vehicle.battery().percent_remaining),
    "lock": attempt(lambda: vehicle.lock().status),
    "signals": attempt(lambda: vehicle.get_signals()["body"]),
}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = serve(tmp_path_factory.mktemp("failures"))
    try:
        yield server
    finally:
        server.stop()


async def user_token(served: Served) -> tuple[str, str, str]:
    """Connect walked as an owner in test mode, the code exchanged: the user token, the user's
    id and the vehicle's."""
    env = served.env()
    async with httpx.AsyncClient(base_url=served.origin) as http:
        first = await http.get("/oauth/authorize", params={
            "response_type": "code", "client_id": env["SMARTCAR_CLIENT_ID"],
            "redirect_uri": env["SMARTCAR_REDIRECT_URI"], "mode": "test", "state": "s",
            "scope": "read_vehicle_info read_odometer read_battery read_security control_security",
        })  # fmt: skip
        # A Tesla: every one is electric, so it has the battery and the lock this test reads.
        query = query_of(await go_through_connect(http, first, email="1-vehicles@smartcar.com", brand="TESLA"))
        token = await http.post("/oauth2/token", auth=(env["SMARTCAR_CLIENT_ID"], env["SMARTCAR_CLIENT_SECRET"]), data={
            "grant_type": "authorization_code", "code": query["code"], "redirect_uri": env["SMARTCAR_REDIRECT_URI"],
        })  # fmt: skip
        assert token.status_code == 200, token.text
        vehicles = await http.get("/v2.0/vehicles", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    return token.json()["access_token"], query["user_id"], vehicles.json()["vehicles"][0]


def official_sdk(served: Served, *args: str) -> dict[str, Any]:
    variables = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SMARTCAR_", "MOTORPOOL_"))},
        "SMARTCAR_API_ORIGIN": served.origin,
        "SMARTCAR_VEHICLE_API_V3_ORIGIN": served.origin,
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], env=variables, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def failures(served: Served, vehicle_id: str, path: str, **body: str) -> None:
    answer = httpx.post(f"{served.origin}/admin/vehicles/{vehicle_id}/failures{path}", headers=served.admin_headers(), json=body)
    assert answer.status_code == 200, answer.text


async def test_the_official_sdk_raises_its_exception_with_the_reauthentication_link(served: Served) -> None:
    token, _user_id, vehicle_id = await user_token(served)
    failures(served, vehicle_id, "/account")
    out = official_sdk(served, token, vehicle_id)
    for call in ("odometer", "battery", "lock", "signals"):
        error = out[call]["error"]
        assert error["class"] == "SmartcarException", (call, error)
        assert (error["status"], error["type"], error["code"]) == (400, "CONNECTED_SERVICES_ACCOUNT", "AUTHENTICATION_FAILED")
        assert error["resolution"]["type"] == "REAUTHENTICATE", (call, error)
        url = urlsplit(error["resolution"]["url"])
        assert url.path == "/oauth/reauthenticate" and f"vehicle_id={vehicle_id}" in url.query
        assert error["message"].startswith("CONNECTED_SERVICES_ACCOUNT:AUTHENTICATION_FAILED - ")
        assert error["suggested"]

    failures(served, vehicle_id, "/repair")
    failures(served, vehicle_id, "/signals/odometer-traveleddistance", error="UPSTREAM:NO_RESPONSE")
    out = official_sdk(served, token, vehicle_id)
    odometer = out["odometer"]["error"]
    assert (odometer["status"], odometer["type"], odometer["code"]) == (502, "UPSTREAM", "NO_RESPONSE")
    assert odometer["resolution"]["type"] == "RETRY_LATER"
    assert out["battery"]["ok"] >= 0 and out["lock"]["ok"]
    listed = {s["id"]: s["attributes"] for s in out["signals"]["ok"]["data"]}
    assert listed["odometer-traveleddistance"]["status"]["error"]["code"] == "NO_RESPONSE"
    assert listed["tractionbattery-stateofcharge"]["status"] == {"value": "SUCCESS"}

