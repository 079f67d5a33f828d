"""Pinning a signal is checked against the catalogue: its code, its body's shape, its metric unit
and its range; a refusal is a 400 that says what is wrong, and the car keeps its value."""

from __future__ import annotations

import pytest

from tests.support.harness import PlatformHarness

CASES = [
    ("tractionbattery-stateofcharg", {"value": 50}, "Did you mean tractionbattery-stateofcharge"),
    ("bananas", {"value": 1}, "'bananas' is not a signal code"),
    ("tractionbattery-stateofcharge", {"value": 500}, "from 0 to 100, not 500"),
    ("tractionbattery-stateofcharge", {"value": "bananas"}, "a number of percent, not 'bananas'"),
    ("tractionbattery-stateofcharge", {"value": True}, "a number of percent"),
    ("tractionbattery-stateofcharge", {"unit": "bananas", "value": 50}, "in percent (metric), not 'bananas'"),
    ("odometer-traveleddistance", {"value": -3}, "never negative"),
    ("odometer-traveleddistance", {"unit": "miles", "value": 3}, "in km (metric)"),
    ("closure-islocked", {"locked": True}, 'a body with a value: {"value": ...}'),
    ("charge-chargelimits", {"value": 80}, "a list of values"),
]


@pytest.mark.parametrize(("code", "body", "says"), CASES, ids=[f"{c[0]}={c[1]}" for c in CASES])
async def test_a_bad_pin_is_refused_with_its_reason(
    sqlite_platform: PlatformHarness, code: str, body: dict[str, object], says: str
) -> None:
    car = await sqlite_platform.admin(
        "POST", "/admin/vehicles", json={"applicationId": sqlite_platform.application_id, "powertrainType": "BEV"}
    )
    response = await sqlite_platform.http.put(
        f"/admin/vehicles/{car['id']}/signals/{code}", json={"body": body}, headers=sqlite_platform.admin_headers
    )
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["type"] == "VALIDATION" and says in answer["description"], answer["description"]


async def test_good_pins_still_pass(sqlite_platform: PlatformHarness) -> None:
    car = await sqlite_platform.admin(
        "POST", "/admin/vehicles", json={"applicationId": sqlite_platform.application_id, "powertrainType": "BEV"}
    )
    for code, body in [
        ("tractionbattery-stateofcharge", {"value": 0}),
        ("tractionbattery-stateofcharge", {"unit": "percent", "value": 100}),
        ("odometer-traveleddistance", {"unit": "km", "value": 12345.6}),
        ("closure-islocked", {"value": False}),
        ("charge-chargelimits", {"values": []}),
        ("tractionbattery-stateofcharge", None),
    ]:
        response = await sqlite_platform.http.put(
            f"/admin/vehicles/{car['id']}/signals/{code}", json={"body": body}, headers=sqlite_platform.admin_headers
        )
        assert response.status_code == 200, (code, body, response.text)
