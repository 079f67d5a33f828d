"""Vehicle API v2.0 batch requests: each item is what its own GET answers, all from one report;
item errors, rate limits per item, and malformed batches."""

from __future__ import annotations

import pytest

from ..support.api import clock, set_limit, steer
from ..support.harness import PlatformHarness
from ..support.v2 import assert_v2_error, v2_vehicle

#: Every GET path a batch serves ("/" is the vehicle itself).
READS = [
    "/", "/vin", "/odometer", "/location", "/battery", "/battery/capacity", "/battery/nominal_capacity",
    "/charge", "/charge/limit", "/fuel", "/engine/oil", "/tires/pressure", "/security",
    "/diagnostics/system_status", "/diagnostics/dtcs", "/service/history", "/permissions",
]  # fmt: skip


@pytest.mark.parametrize("imperial", [False, True], ids=["metric", "imperial"])
async def test_each_item_is_what_its_own_call_answers(platform: PlatformHarness, imperial: bool) -> None:
    car = await v2_vehicle(platform, "BMW", "X5 xDrive50e", seed=21)
    await steer(platform, car.vehicle_id, "drive", latitude=59.95, longitude=10.80)
    await clock(platform, "PUT", rate=0)
    answer = await car.post(
        "/batch", {"requests": [{"path": p} for p in READS]},
        headers={"sc-unit-system": "imperial" if imperial else "metric"},
    )
    assert answer.status_code == 200, answer.text
    items = answer.json()["responses"]
    assert [item["path"] for item in items] == READS
    for item in items:
        single = await car.get("" if item["path"] == "/" else item["path"], imperial=imperial)
        assert (item["code"], item["body"]) == (single.status_code, single.json()), item["path"]
        assert item["headers"] == {k: v for k, v in single.headers.items() if k in item["headers"]}
        if item["path"] not in ("/", "/permissions"):
            assert set(item["headers"]) == {"sc-data-age", "sc-fetched-at", "sc-unit-system"}, item
    # A driving car reports often: every item of the batch comes from one of its reports.
    assert len({item["headers"].get("sc-fetched-at") for item in items if item["headers"]}) == 1


async def test_an_item_that_fails_fails_alone(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform, permissions=["read_vehicle_info", "read_odometer"])
    paths = ["/odometer", "/LOCATIONNNNNNNN", "/location", "/fuel", "odometer", "/odometer?x=1", "/"]
    answer = await car.post("/batch", {"requests": [{"path": p} for p in paths]})
    assert answer.status_code == 200, answer.text
    items = {item["path"]: item for item in answer.json()["responses"]}
    assert items["/odometer"]["code"] == 200 and items["/odometer"]["body"]["distance"] > 0
    assert items["/odometer?x=1"]["body"] == items["/odometer"]["body"]
    assert items["/"]["body"]["id"] == car.vehicle_id
    for path, status, error_type in (
        ("/LOCATIONNNNNNNN", 400, "VALIDATION"),
        ("odometer", 400, "VALIDATION"),
        ("/location", 403, "PERMISSION"),
        ("/fuel", 501, "COMPATIBILITY"),
    ):
        item = items[path]
        assert item["code"] == status and item["headers"] == {}, item
        body = item["body"]
        assert (body["type"], body["statusCode"]) == (error_type, status), body
        assert body["requestId"] == answer.headers["sc-request-id"] and body["description"]
    assert items["/LOCATIONNNNNNNN"]["body"]["code"] == "PARAMETER"
    assert items["/LOCATIONNNNNNNN"]["body"]["detail"][0]["message"].startswith("'/LOCATIONNNNNNNN'")


async def test_each_item_counts_against_the_vehicles_rate_limit(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform)
    assert (await set_limit(sqlite_platform, vehicleRequestsPerMinute=3)).status_code == 200
    answer = await car.post("/batch", {"requests": [{"path": "/odometer"}] * 5})
    assert answer.status_code == 200, answer.text
    items = answer.json()["responses"]
    assert [item["code"] for item in items] == [200, 200, 200, 429, 429]
    refused = items[3]
    assert (refused["body"]["type"], refused["body"]["code"]) == ("RATE_LIMIT", "VEHICLE")
    # Python's SDK reads "Retry-After" from the item's headers, Node's "retry-after".
    assert int(refused["headers"]["Retry-After"]) >= 1 and refused["headers"]["retry-after"] == refused["headers"]["Retry-After"]
    assert_v2_error(await car.get("/odometer"), 429, "RATE_LIMIT", "VEHICLE")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{nope", None),
        (b"[]", None),
        (b"{}", "PARAMETER"),
        (b'{"requests": []}', "PARAMETER"),
        (b'{"requests": [{"path": 7}]}', "PARAMETER"),
        (b'{"requests": [{"url": "/odometer"}]}', "PARAMETER"),
        (b'{"requests": "/odometer"}', "PARAMETER"),
    ],
)
async def test_a_malformed_batch_is_a_validation_error(
    sqlite_platform: PlatformHarness, body: bytes, code: str | None
) -> None:
    car = await v2_vehicle(sqlite_platform)
    answer = await sqlite_platform.http.post(
        f"/v2.0/vehicles/{car.vehicle_id}/batch", headers={**car.headers, "content-type": "application/json"},
        content=body,
    )
    error = assert_v2_error(answer, 400, "VALIDATION", code)
    assert error["detail"] and all(entry["message"] for entry in error["detail"])
    no_token = await sqlite_platform.http.post(f"/v2.0/vehicles/{car.vehicle_id}/batch", content=body)
    assert_v2_error(no_token, 401, "AUTHENTICATION", None)
