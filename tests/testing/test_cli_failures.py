"""``motorpool failures …`` against a real platform, and ``MotorpoolPlatform``'s failure helpers:
a broken account, a failing signal, their repair, and bad input with a clear message."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from motorpool import cli
from motorpool.testing import MotorpoolPlatform, PlatformError

ODOMETER = "odometer-traveleddistance"


def _connected(mp: MotorpoolPlatform) -> tuple[str, str]:
    (vehicle_id,) = mp.fleet(1, make="TESLA", model="Model 3", seed=3)
    user_id = mp.connect("failing@example.com", vehicle_ids=[vehicle_id], permissions=["read_odometer", "read_battery"])
    return user_id, vehicle_id


def _read(mp: MotorpoolPlatform, user_id: str, vehicle_id: str) -> httpx.Response:
    token = httpx.post(
        f"{mp.url}/oauth2/token", data={"grant_type": "client_credentials"}, auth=(mp.client_id, mp.client_secret)
    ).json()["access_token"]
    return httpx.get(
        f"{mp.url}/v3/vehicles/{vehicle_id}/signals",
        headers={"Authorization": f"Bearer {token}", "sc-user-id": user_id},
    )


def test_failures_commands_break_fail_and_repair(runner: CliRunner, mp: MotorpoolPlatform) -> None:
    mp.reset()
    user_id, vehicle_id = _connected(mp)
    admin = ["--url", mp.url, "--admin-token", mp.admin_token]
    app = ["--application", mp.application_id]

    def run(*args: str) -> Any:
        answered = runner.invoke(cli.app, ["failures", *args, *admin, "--json"])
        assert answered.exit_code == 0, (args, answered.output)
        return json.loads(answered.stdout)

    broken = run("break-account", vehicle_id, *app)
    assert broken["account"]["code"] == "AUTHENTICATION_FAILED"
    assert "/oauth/reauthenticate?" in broken["account"]["reauthenticationUrl"]
    refused = _read(mp, user_id, vehicle_id)
    assert refused.status_code == 400 and refused.json()["resolution"]["type"] == "REAUTHENTICATE"

    failing = run("fail-signal", vehicle_id, ODOMETER, "--error", "UPSTREAM:NO_RESPONSE")
    assert failing["signals"][0]["code"] == ODOMETER and failing["signals"][0]["errorCode"] == "NO_RESPONSE"
    text = runner.invoke(cli.app, ["failures", "show", vehicle_id, *admin])
    assert text.exit_code == 0
    assert "re-authenticate at" in text.output and f"{ODOMETER} fails with UPSTREAM/NO_RESPONSE" in text.output

    account_mended = run("repair", vehicle_id, "--signal", ODOMETER)
    assert account_mended["signals"] == [] and account_mended["account"] is not None
    assert run("repair", vehicle_id)["account"] is None
    assert _read(mp, user_id, vehicle_id).status_code == 200


def test_failures_commands_say_what_is_wrong(runner: CliRunner, mp: MotorpoolPlatform) -> None:
    mp.reset()
    _, vehicle_id = _connected(mp)
    admin = ["--url", mp.url, "--admin-token", mp.admin_token]
    wrong = runner.invoke(cli.app, ["failures", "fail-signal", vehicle_id, ODOMETER, "--error", "WEATHER", *admin])
    assert wrong.exit_code == 1 and "400 VALIDATION" in wrong.output and "UPSTREAM" in wrong.output
    other = ["--application", "a0000000-0000-4000-8000-000000000000"]
    elsewhere = runner.invoke(cli.app, ["failures", "break-account", vehicle_id, *other, *admin])
    assert elsewhere.exit_code == 1 and "404 RESOURCE_NOT_FOUND" in elsewhere.output


def test_the_test_platforms_helpers(mp: MotorpoolPlatform) -> None:
    mp.reset()
    user_id, vehicle_id = _connected(mp)
    assert mp.break_account(vehicle_id)["account"]["code"] == "AUTHENTICATION_FAILED"
    assert mp.fail_signal(vehicle_id, ODOMETER, "VEHICLE_STATE:ASLEEP")["signals"][0]["type"] == "VEHICLE_STATE"
    assert mp.repair(vehicle_id, ODOMETER)["signals"] == []
    assert mp.repair(vehicle_id)["account"] is None
    with pytest.raises(PlatformError, match="400"):
        mp.break_account(vehicle_id, "NOT_A_CODE")
    mp.fail_signal(vehicle_id, ODOMETER)
    read = _read(mp, user_id, vehicle_id)
    assert read.status_code == 200
    statuses = {s["id"]: s["attributes"]["status"]["value"] for s in read.json()["data"]}
    assert statuses[ODOMETER] == "ERROR" and statuses["tractionbattery-stateofcharge"] == "SUCCESS"
