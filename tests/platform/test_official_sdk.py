"""The official Python SDK (``smartcar`` 6.19), unchanged, against ``motorpool serve``: pointed at
it by its origin variables, its management and compatibility calls get the answers it reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from ..support.processes import Served

pytestmark = pytest.mark.e2e

#: Runs in a fresh interpreter: the SDK reads its origins once, when it is imported.
SCRIPT = r"""
import json, sys
import smartcar
from smartcar import smartcar as functions

def attempt(call):
    try:
        return {"ok": call()}
    except smartcar.SmartcarException as error:
        return {"error": {"status": error.status_code, "type": error.type, "code": error.code,
                          "description": error.description, "message": error.message}}

amt, vin, user_id, vehicle_id = sys.argv[1:5]
out = {}
listed = smartcar.get_connections(amt, paging={"limit": 2})
out["first_page"] = [c._asdict() for c in listed.connections]
out["cursor"] = listed.paging.cursor
rest = smartcar.get_connections(amt, paging={"limit": 100, "cursor": listed.paging.cursor})
out["rest"] = [c._asdict() for c in rest.connections]
out["rest_cursor"] = rest.paging.cursor
out["request_id"] = listed.meta.request_id
out["by_user"] = [c._asdict() for c in smartcar.get_connections(amt, filter={"user_id": user_id}).connections]
out["wrong_amt"] = attempt(lambda: smartcar.get_connections("not-the-token"))
out["bad_limit"] = attempt(lambda: smartcar.get_connections(amt, paging={"limit": 500}))
out["deleted"] = [c._asdict() for c in smartcar.delete_connections(amt, filter={"vehicle_id": vehicle_id}).connections]
compatibility = smartcar.get_compatibility(vin, ["read_battery", "read_fuel", "read_odometer"])
out["compatibility"] = {"compatible": compatibility.compatible, "reason": compatibility.reason,
                        "capabilities": [c._asdict() for c in compatibility.capabilities]}
out["unknown_vin"] = smartcar.get_compatibility("0SCAUDI037A5ADB1C", ["read_odometer"])._asdict()
out["unknown_vin"].pop("meta")
out["bad_vin"] = attempt(lambda: smartcar.get_compatibility("short", ["read_odometer"]))
matrix = functions.get_compatibility_matrix("US", "TESLA", {"type": "BEV", "scope": ["read_battery"]})
out["matrix"] = {make: [m._asdict() for m in models] for make, models in matrix.items()}
print(json.dumps(out))
"""


def official_sdk(served: Served, *args: str) -> dict[str, Any]:
    env = served.env()
    variables = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SMARTCAR_", "MOTORPOOL_"))},
        "SMARTCAR_API_ORIGIN": served.origin,
        "SMARTCAR_MANAGEMENT_API_ORIGIN": served.origin,
        "SMARTCAR_CLIENT_ID": env["SMARTCAR_CLIENT_ID"],
        "SMARTCAR_CLIENT_SECRET": env["SMARTCAR_CLIENT_SECRET"],
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], env=variables, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_management_and_compatibility_calls(served: Served) -> None:
    env = served.env()
    admin = served.admin_headers()
    base = f"{served.origin}/admin/applications/{env['MOTORPOOL_APPLICATION_ID']}"
    connected = httpx.post(f"{base}/connections", headers=admin, json={"email": "sdk@example.com"}).json()["data"]
    user_id, vehicle_ids = connected["userId"], connected["vehicleIds"]
    fleet = httpx.get(f"{base}/vehicles", headers=admin).json()["data"]
    bev = next(car for car in fleet if car["powertrainType"] == "BEV")

    out = official_sdk(served, env["APPLICATION_MANAGEMENT_TOKEN"], bev["vin"], user_id, vehicle_ids[0])

    assert len(out["first_page"]) == 2 and out["cursor"]
    assert out["rest_cursor"] is None and out["request_id"]
    listed = out["first_page"] + out["rest"]
    assert sorted(c["vehicle_id"] for c in listed) == sorted(vehicle_ids)
    assert all(c["user_id"] == user_id and c["connected_at"] for c in listed)
    assert sorted(c["vehicle_id"] for c in out["by_user"]) == sorted(vehicle_ids)
    assert out["wrong_amt"]["error"]["status"] == 401 and out["wrong_amt"]["error"]["type"] == "AUTHENTICATION"
    assert out["bad_limit"]["error"]["status"] == 400 and out["bad_limit"]["error"]["type"] == "VALIDATION"
    assert out["deleted"] == [{"vehicle_id": vehicle_ids[0], "user_id": user_id, "connected_at": None}]

    compatibility = out["compatibility"]
    assert compatibility["compatible"] is True and compatibility["reason"] is None
    rows = {(c["permission"], c["endpoint"]): (c["capable"], c["reason"]) for c in compatibility["capabilities"]}
    assert rows["read_battery", "/battery"] == (True, None)
    assert rows["read_fuel", "/fuel"] == (False, "VEHICLE_NOT_CAPABLE")
    assert rows["read_odometer", "/odometer"] == (True, None)
    assert out["unknown_vin"] == {"compatible": False, "reason": "MAKE_NOT_COMPATIBLE", "capabilities": []}
    assert out["bad_vin"]["error"]["status"] == 400 and out["bad_vin"]["error"]["type"] == "VALIDATION"
    assert list(out["matrix"]) == ["TESLA"]
    assert [m["model"] for m in out["matrix"]["TESLA"]] == ["Model 3", "Model Y"]
    assert all(m["permissions"] == ["read_battery"] and m["type"] == "BEV" for m in out["matrix"]["TESLA"])

    # The v3 listing sees the removal the SDK made.
    token = served.grant().json()["access_token"]
    left = httpx.get(f"{served.origin}/v3/connections", headers={"Authorization": f"Bearer {token}", "sc-user-id": user_id})
    assert sorted(c["vehicleId"] for c in left.json()["connections"]) == sorted(vehicle_ids[1:])
