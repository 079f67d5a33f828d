"""Simulated failures: a connected-services account that needs re-authentication and failing
signals — what the Vehicle API v3 and v2 answer, the admin API's bad input, Connect mending the
account, and the webhooks' VEHICLE_ERROR and VEHICLE_STATE."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ..support.api import assert_error, clock, command, connected_vehicle, get
from ..support.connect_pages import query_of, step_of, submit
from ..support.harness import PlatformHarness
from ..support.receiver import Receiver
from ..support.v2 import v2_vehicle
from .test_connect import _connected_vehicle
from .test_webhooks import LOCATION, ODOMETER, create_webhook, subscribe
from .test_webhooks import connected_vehicle as hooked_vehicle

ODOMETER_READ = "read_odometer"


async def failures(platform: PlatformHarness, vehicle_id: str, path: str = "", **body: Any) -> dict[str, Any]:
    """POST to the vehicle's failures (``path`` ``/account``, ``/signals/CODE``, ``/repair``)."""
    data: dict[str, Any] = await platform.admin("POST", f"/admin/vehicles/{vehicle_id}/failures{path}", json=body)
    return data


def assert_reauthenticate(response: Any, application_id: str, vehicle_id: str) -> str:
    """A CONNECTED_SERVICES_ACCOUNT / AUTHENTICATION_FAILED answer, in the v3 and v2 shapes, whose
    resolution is REAUTHENTICATE with the re-authentication link; answers the link."""
    body = assert_error(response, 400, "CONNECTED_SERVICES_ACCOUNT", "AUTHENTICATION_FAILED")
    resolution = body["resolution"]
    assert resolution["type"] == "REAUTHENTICATE"
    assert body["errors"][0]["resolution"] == resolution
    url = urlsplit(resolution["url"])
    assert url.path == "/oauth/reauthenticate"
    assert parse_qs(url.query) == {
        "response_type": ["vehicle_id"], "application_id": [application_id], "vehicle_id": [vehicle_id],
    }  # fmt: skip
    assert body["docURL"].endswith("connected-services-account-errors#authentication-failed")
    return str(resolution["url"])


async def test_a_broken_account_refuses_v3_reads_and_commands_until_repaired(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform, scope=["read_odometer", "read_security", "control_security"])
    broken = await failures(platform, vehicle_id, "/account")
    assert broken["account"]["code"] == "AUTHENTICATION_FAILED"
    assert broken["account"]["reauthenticationUrl"].endswith(f"vehicle_id={vehicle_id}")
    listed = await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id)
    assert_reauthenticate(listed, platform.application_id, vehicle_id)
    one = await get(platform, f"/v3/vehicles/{vehicle_id}/signals/odometer-traveleddistance", user_id)
    assert_reauthenticate(one, platform.application_id, vehicle_id)
    locked = await command(platform, user_id, vehicle_id, "security/lock")
    assert_reauthenticate(locked, platform.application_id, vehicle_id)

    shown = await platform.admin("GET", f"/admin/vehicles/{vehicle_id}/failures")
    assert shown["account"]["type"] == "CONNECTED_SERVICES_ACCOUNT"
    repaired = await failures(platform, vehicle_id, "/repair")
    assert repaired["account"] is None and repaired["signals"] == []
    assert (await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id)).status_code == 200
    assert (await command(platform, user_id, vehicle_id, "security/lock")).status_code == 200


async def test_an_account_issue_that_is_not_reauthentication_has_no_link(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform)
    await failures(platform, vehicle_id, "/account", code="subscription")
    body = assert_error(
        await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id), 400, "CONNECTED_SERVICES_ACCOUNT", "SUBSCRIPTION"
    )
    assert body["resolution"] == {"type": None}


async def test_a_failing_signal_reads_with_its_error_and_the_others_normally(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform, scope=["read_odometer", "read_battery"])
    data = await failures(platform, vehicle_id, "/signals/odometer-traveleddistance", error="upstream:no_response")
    assert data["signals"] == [
        {"code": "odometer-traveleddistance", "type": "UPSTREAM", "errorCode": "NO_RESPONSE", "since": data["signals"][0]["since"]}
    ]
    listed = await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id)
    assert listed.status_code == 200, listed.text
    by_code = {s["id"]: s["attributes"] for s in listed.json()["data"]}
    odometer = by_code["odometer-traveleddistance"]
    assert odometer["status"]["value"] == "ERROR" and "body" not in odometer
    assert odometer["status"]["error"]["type"] == "UPSTREAM"
    assert odometer["status"]["error"]["code"] == "NO_RESPONSE"
    assert odometer["status"]["error"]["resolution"] == {"type": "RETRY_LATER"}
    battery = by_code["tractionbattery-stateofcharge"]
    assert battery["status"] == {"value": "SUCCESS"} and battery["body"]["value"] >= 0
    one = await get(platform, f"/v3/vehicles/{vehicle_id}/signals/odometer-traveleddistance", user_id)
    assert one.status_code == 200 and one.json()["data"]["attributes"]["status"]["value"] == "ERROR"

    await failures(platform, vehicle_id, "/repair", signal="odometer-traveleddistance")
    again = await get(platform, f"/v3/vehicles/{vehicle_id}/signals/odometer-traveleddistance", user_id)
    assert again.json()["data"]["attributes"]["status"] == {"value": "SUCCESS"}


async def test_v2_answers_its_documented_errors(sqlite_platform: PlatformHarness) -> None:
    car = await v2_vehicle(sqlite_platform)
    await failures(sqlite_platform, car.vehicle_id, "/signals/odometer-traveleddistance")
    odometer = await car.get("/odometer")
    body = assert_error(odometer, 502, "UPSTREAM", "UNKNOWN_ISSUE")
    assert body["resolution"] == {"type": "RETRY_LATER"}
    assert (await car.get("/battery")).status_code == 200

    await failures(sqlite_platform, car.vehicle_id, "/account")
    for answer in (await car.get("/battery"), await car.post("/security", {"action": "LOCK"})):
        assert_reauthenticate(answer, sqlite_platform.application_id, car.vehicle_id)
    batch = await car.post("/batch", {"requests": [{"path": "/battery"}]})
    assert batch.status_code == 200
    (item,) = batch.json()["responses"]
    assert item["code"] == 400 and item["body"]["resolution"]["type"] == "REAUTHENTICATE"


async def test_bad_input_gets_clear_errors(sqlite_platform: PlatformHarness) -> None:
    platform = sqlite_platform
    _, vehicle_id = await connected_vehicle(platform)
    base = f"/admin/vehicles/{vehicle_id}/failures"
    headers = platform.admin_headers

    async def post(path: str, body: Any = None, **params: str) -> Any:
        return await platform.http.post(base + path, json=body, headers=headers, params=params)

    assert_error(await post("/signals/odometer-traveleddistance", {"error": "WEATHER:RAIN"}), 400, "VALIDATION")
    assert "UPSTREAM" in (await post("/signals/odometer-traveleddistance", {"error": "UPSTREAM:RAIN"})).text
    assert_error(await post("/signals/odometer-traveleddistance", {"error": "UPSTREAM"}), 400, "VALIDATION")
    assert_error(await post("/signals/no-such-signal"), 400, "VALIDATION")
    assert_error(await post("/signals/internalcombustionengine-fuellevel"), 400, "VALIDATION")  # a Tesla
    assert_error(await post("/account", {"code": "NOT_A_CODE"}), 400, "VALIDATION")
    assert_error(await post("/repair", {"signal": "no-such-signal"}), 400, "VALIDATION")
    assert_error(await post("/account", {"unknown": 1}), 400, "VALIDATION")
    assert_error(await post("/account", application="a0000000-0000-4000-8000-000000000000"), 404, "RESOURCE_NOT_FOUND")
    assert_error(await post("/account", application="nope"), 400, "VALIDATION")
    missing = "/admin/vehicles/a0000000-0000-4000-8000-000000000000/failures/account"
    assert_error(await platform.http.post(missing, headers=headers), 404, "RESOURCE_NOT_FOUND")
    assert_error(await platform.http.post("/admin/vehicles/nope/failures/repair", headers=headers), 400, "VALIDATION")
    assert_error(await platform.http.post(base + "/account"), 401, "AUTHENTICATION")
    # Nothing of it stuck: the vehicle has no failure.
    shown = await platform.admin("GET", base, params={"application": platform.application_id})
    assert shown["account"] is None and shown["signals"] == []


async def test_reauthenticating_through_connect_mends_the_account(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await _connected_vehicle(platform)
    await failures(platform, vehicle_id, "/account")
    refused = await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id)
    link = urlsplit(assert_reauthenticate(refused, platform.application_id, vehicle_id))
    # The link is partial, as Smartcar's: the application adds its redirect URI and state.
    added = urlencode({"redirect_uri": platform.redirect_uri, "state": "fix"})
    page = await platform.http.get(f"{link.path}?{link.query}&{added}")
    assert page.status_code == 200 and step_of(page) == "login"
    page = await submit(platform.http, page, {"email": "1-vehicles@smartcar.com", "password": "pw"})
    done = await submit(platform.http, page, {"action": "approve"})
    assert query_of(done) == {"vehicle_id": vehicle_id, "state": "fix"}
    assert (await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id)).status_code == 200
    shown = await platform.admin("GET", f"/admin/vehicles/{vehicle_id}/failures")
    assert shown["account"] is None


async def test_webhooks_send_vehicle_error_and_resolved_and_the_failed_signal(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    webhook = await create_webhook(platform, receiver.url)
    user_id, vehicle_id = await hooked_vehicle(platform, seed=21)
    assert (await subscribe(platform, webhook["id"], user_id, vehicle_id)).status_code == 202
    await receiver.wait_for(1, "VEHICLE_STATE")

    await failures(platform, vehicle_id, "/account")
    (error,) = await receiver.wait_for(1, "VEHICLE_ERROR")
    (detail,) = error.event["data"]["errors"]
    assert (detail["type"], detail["code"], detail["state"]) == (
        "CONNECTED_SERVICES_ACCOUNT", "AUTHENTICATION_FAILED", "ERROR"
    )
    # The re-authentication link, as the Vehicle API's error carries it.
    assert detail["resolution"]["type"] == "REAUTHENTICATE"
    link = urlsplit(detail["resolution"]["url"])
    assert link.path == "/oauth/reauthenticate"
    assert parse_qs(link.query) == {
        "response_type": ["vehicle_id"], "application_id": [platform.application_id], "vehicle_id": [vehicle_id],
    }  # fmt: skip
    assert {s["code"] for s in detail["signals"]} == {ODOMETER, LOCATION}
    await failures(platform, vehicle_id, "/repair")
    errors = await receiver.wait_for(2, "VEHICLE_ERROR")
    assert errors[1].event["data"]["errors"][0]["state"] == "RESOLVED"
    assert errors[1].event["data"]["errors"][0]["type"] == "CONNECTED_SERVICES_ACCOUNT"

    await failures(platform, vehicle_id, f"/signals/{LOCATION}", error="VEHICLE_STATE:REMOTE_ACCESS_DISABLED")
    errors = await receiver.wait_for(3, "VEHICLE_ERROR")
    (detail,) = errors[2].event["data"]["errors"]
    assert (detail["type"], detail["code"], detail["state"]) == ("VEHICLE_STATE", "REMOTE_ACCESS_DISABLED", "ERROR")
    assert [s["code"] for s in detail["signals"]] == [LOCATION]
    # The odometer still changes (a trip), and VEHICLE_STATE carries the failed signal's error.
    seen = len(receiver.events("VEHICLE_STATE"))
    await clock(platform, "PUT", rate=0)
    await platform.admin("POST", f"/admin/vehicles/{vehicle_id}/drive", json={"latitude": 37.80, "longitude": -122.27})
    await clock(platform, "POST", "/advance", by="1m")
    states = await receiver.wait_for(seen + 1, "VEHICLE_STATE")
    signals = {s["code"]: s for s in states[-1].event["data"]["signals"]}
    assert signals[LOCATION]["status"] == {
        "value": "ERROR", "error": {"type": "VEHICLE_STATE", "code": "REMOTE_ACCESS_DISABLED"}
    }
    assert "body" not in signals[LOCATION] and signals[ODOMETER]["status"] == {"value": "SUCCESS"}
    await failures(platform, vehicle_id, "/repair", signal=LOCATION)
    errors = await receiver.wait_for(4, "VEHICLE_ERROR")
    assert errors[3].event["data"]["errors"][0]["state"] == "RESOLVED"


async def test_a_failing_signal_is_reported_beside_a_broken_account_not_masked_by_it(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    webhook = await create_webhook(platform, receiver.url)
    user_id, vehicle_id = await hooked_vehicle(platform, seed=22)
    assert (await subscribe(platform, webhook["id"], user_id, vehicle_id)).status_code == 202
    await receiver.wait_for(1, "VEHICLE_STATE")

    # A signal fails, then the account breaks: the signal's condition stays open (no RESOLVED).
    await failures(platform, vehicle_id, f"/signals/{LOCATION}", error="VEHICLE_STATE:REMOTE_ACCESS_DISABLED")
    await receiver.wait_for(1, "VEHICLE_ERROR")
    await failures(platform, vehicle_id, "/account")
    errors = await receiver.wait_for(2, "VEHICLE_ERROR")
    (account,) = errors[1].event["data"]["errors"]
    assert (account["type"], account["state"]) == ("CONNECTED_SERVICES_ACCOUNT", "ERROR")
    # A second signal fails while the account is broken: its error is reported too.
    await failures(platform, vehicle_id, f"/signals/{ODOMETER}", error="UPSTREAM:NO_RESPONSE")
    errors = await receiver.wait_for(3, "VEHICLE_ERROR")
    (signal,) = errors[2].event["data"]["errors"]
    assert (signal["type"], signal["code"], signal["state"]) == ("UPSTREAM", "NO_RESPONSE", "ERROR")
    assert [s["code"] for s in signal["signals"]] == [ODOMETER]
    # Repaired: each of the three conditions resolves, once.
    await failures(platform, vehicle_id, "/repair")
    errors = await receiver.wait_for(6, "VEHICLE_ERROR")
    states = [(e["type"], e["state"]) for d in errors for e in d.event["data"]["errors"]]
    assert sorted(states) == sorted([
        ("VEHICLE_STATE", "ERROR"), ("CONNECTED_SERVICES_ACCOUNT", "ERROR"), ("UPSTREAM", "ERROR"),
        ("VEHICLE_STATE", "RESOLVED"), ("CONNECTED_SERVICES_ACCOUNT", "RESOLVED"), ("UPSTREAM", "RESOLVED"),
    ])  # fmt: skip


SCENARIO = """
[[fleets]]
name = "teslas"
make = "TESLA"
model = "Model 3"
count = 2

[[connections]]
email = "broken@example.com"
vehicles = ["teslas"]
permissions = ["read_odometer", "read_battery"]

[[failures]]
vehicles = "teslas"
account = "AUTHENTICATION_FAILED"
signal = "odometer-traveleddistance"
error = "UPSTREAM:NO_RESPONSE"
"""


async def test_a_scenarios_failures_table(sqlite_platform: PlatformHarness) -> None:
    platform = sqlite_platform
    headers = {**platform.admin_headers, "Content-Type": "application/toml"}
    made = await platform.http.post("/admin/scenario", content=SCENARIO, headers=headers)
    assert made.status_code == 201, made.text
    user_id = made.json()["data"]["users"]["broken@example.com"]
    for vehicle_id in made.json()["data"]["vehicles"]["teslas"]:
        assert_reauthenticate(
            await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id), platform.application_id, vehicle_id
        )
        shown = await platform.admin("GET", f"/admin/vehicles/{vehicle_id}/failures")
        assert shown["signals"][0]["errorCode"] == "NO_RESPONSE"

    before = await platform.admin("GET", f"/admin/applications/{platform.application_id}/vehicles")
    for bad, says in [
        ("[[failures]]\nvehicles = 'teslas'\naccount = 'WHAT'", "CONNECTED_SERVICES_ACCOUNT code"),
        ("[[failures]]\nvehicles = 'teslas'", "breaks the account"),
        ("[[failures]]\nvehicles = 'nope'\naccount = 'PERMISSION'", "fleet 'nope'"),
        ("[[failures]]\nvehicles = 'teslas'\nsignal = 'odometer-traveleddistance'\nerror = 'X:Y'", "signal error type"),
    ]:
        fleet = "[[fleets]]\nname = 'teslas'\n"
        response = await platform.http.post("/admin/scenario", content=fleet + bad, headers=headers)
        assert_error(response, 400, "VALIDATION")
        assert says in response.json()["description"], response.text
    assert await platform.admin("GET", f"/admin/applications/{platform.application_id}/vehicles") == before
