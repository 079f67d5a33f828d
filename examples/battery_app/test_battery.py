"""The battery app's tests, against a real motorpool platform (``motorpool_platform``: reset for
every test, clock frozen). Run them with ``pytest examples/battery_app``."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
from battery import create_app
from fastapi.testclient import TestClient

import motorpool
from motorpool.testing import MotorpoolPlatform

SOC = "tractionbattery-stateofcharge"


@pytest.fixture
def app(motorpool_platform: MotorpoolPlatform) -> Iterator[TestClient]:
    mp = motorpool_platform
    sdk = motorpool.Client(mp.client_id, mp.client_secret, base_url=mp.url)
    with sdk, TestClient(create_app(sdk, mp.management_token)) as client:
        yield client


def test_a_nearly_empty_car_needs_a_charge(motorpool_platform: MotorpoolPlatform, app: TestClient) -> None:
    (car,) = motorpool_platform.fleet(make="TESLA", powertrain="BEV")
    user = motorpool_platform.connect("driver@example.com", vehicle_ids=[car])
    motorpool_platform.pin(car, SOC, {"value": 12})
    answer = app.get(f"/users/{user}/vehicles/{car}/battery")
    assert answer.json() == {"percent": 12, "needsCharge": True}


@pytest.mark.motorpool_scenario("../scenarios/commuters.toml")
def test_the_commuters_scenario(motorpool_platform: MotorpoolPlatform, app: TestClient) -> None:
    made = motorpool_platform.loaded["commuters.toml"]
    (car,) = made["vehicles"]["ada-car"]
    answer = app.get(f"/users/{made['users']['ada@example.com']}/vehicles/{car}/battery")
    assert answer.json()["needsCharge"] is True


def test_a_car_charges_as_the_clock_moves(motorpool_platform: MotorpoolPlatform, app: TestClient) -> None:
    # A seed makes the same car every run: this one is parked, unplugged, at about 30 %.
    (car,) = motorpool_platform.fleet(powertrain="BEV", seed=7)
    user = motorpool_platform.connect("driver@example.com", vehicle_ids=[car])
    motorpool_platform.admin("POST", f"/admin/vehicles/{car}/plug", json={"plugged": True, "start": True, "kw": 11})
    before = app.get(f"/users/{user}/vehicles/{car}/battery").json()["percent"]
    # The clock is frozen: nothing changes until the test moves it.
    assert app.get(f"/users/{user}/vehicles/{car}/battery").json()["percent"] == before
    motorpool_platform.advance("1h")
    after = app.get(f"/users/{user}/vehicles/{car}/battery").json()["percent"]
    assert after > before


def test_a_car_not_connected_is_refused(motorpool_platform: MotorpoolPlatform, app: TestClient) -> None:
    (car,) = motorpool_platform.fleet(powertrain="BEV")
    user = motorpool_platform.connect("someone@example.com", vehicle_ids=motorpool_platform.fleet())
    assert app.get(f"/users/{user}/vehicles/{car}/battery").status_code in (403, 404)


def _signed(body: dict[str, object], token: str) -> dict[str, object]:
    raw = json.dumps(body).encode()
    signature = hmac.new(token.encode(), raw, hashlib.sha256).hexdigest()
    return {"content": raw, "headers": {"SC-Signature": signature, "Content-Type": "application/json"}}


def test_a_low_battery_webhook_raises_an_alert(motorpool_platform: MotorpoolPlatform, app: TestClient) -> None:
    event = {
        "eventId": "evt-1", "eventType": "VEHICLE_STATE", "vehicleId": "car-1",
        "data": {"signals": [{"code": SOC, "name": "StateOfCharge", "group": "TractionBattery",
                              "body": {"value": 9, "unit": "percent"}}]},
    }  # fmt: skip
    assert app.post("/webhooks/smartcar", **_signed(event, motorpool_platform.management_token)).status_code == 200
    assert app.get("/alerts").json() == [{"vehicleId": "car-1", "percent": 9}]
    forged = _signed(event, "not-the-management-token")
    assert app.post("/webhooks/smartcar", **forged).status_code == 401
