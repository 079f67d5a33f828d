"""State control through the admin API: reset to first start, named snapshots, scenarios."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.harness import PlatformHarness

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "commuters.toml"
SOC = "tractionbattery-stateofcharge"


async def _soc(harness: PlatformHarness, user_id: str, vehicle_id: str) -> httpx.Response:
    headers = await harness.auth_headers(user_id)
    return await harness.http.get(f"/v3/vehicles/{vehicle_id}/signals/{SOC}", headers=headers)


async def test_a_snapshot_brings_back_vehicles_connections_and_pinned_signals(
    platform: PlatformHarness,
) -> None:
    vehicle = await platform.admin(
        "POST", "/admin/vehicles", json={"applicationId": platform.application_id, "powertrainType": "BEV"}
    )
    user_id, _ = await platform.connect("kept@example.com", vehicles=[vehicle["id"]])
    await platform.admin("PUT", f"/admin/vehicles/{vehicle['id']}/signals/{SOC}", json={"body": {"value": 40}})
    saved = await platform.admin("POST", "/admin/snapshots", json={"name": "before"})
    assert saved["name"] == "before" and saved["rows"]["connections"] >= 1

    # Everything after the snapshot: a new pin, a new car and its connection.
    await platform.admin("PUT", f"/admin/vehicles/{vehicle['id']}/signals/{SOC}", json={"body": {"value": 90}})
    assert (await _soc(platform, user_id, vehicle["id"])).json()["data"]["attributes"]["body"]["value"] == 90
    other = await platform.admin(
        "POST", "/admin/vehicles", json={"applicationId": platform.application_id, "powertrainType": "BEV"}
    )
    later_user, _ = await platform.connect("later@example.com", vehicles=[other["id"]])
    assert (await _soc(platform, later_user, other["id"])).status_code == 200

    restored = await platform.admin("POST", "/admin/snapshots/before/restore")
    assert restored["name"] == "before"
    assert (await _soc(platform, user_id, vehicle["id"])).json()["data"]["attributes"]["body"]["value"] == 40
    # The later car is gone, and so is its connection.
    assert (await _soc(platform, later_user, other["id"])).status_code in (403, 404)
    fleet = await platform.admin("GET", f"/admin/applications/{platform.application_id}/vehicles")
    assert other["id"] not in {v["id"] for v in fleet}
    # The application's credentials outlive a restore: they were part of the snapshot.
    assert await platform.token()

    listed = await platform.admin("GET", "/admin/snapshots")
    assert [s["name"] for s in listed] == ["before"]
    deleted = await platform.http.delete("/admin/snapshots/before", headers=platform.admin_headers)
    assert deleted.status_code == 204
    missing = await platform.http.post("/admin/snapshots/before/restore", headers=platform.admin_headers)
    assert missing.status_code == 404 and "before" in missing.json()["description"]


@pytest.mark.parametrize("name", ["../etc", "before\n", ".hidden"])
async def test_a_snapshot_name_is_checked(sqlite_platform: PlatformHarness, name: str) -> None:
    response = await sqlite_platform.http.post(
        "/admin/snapshots", json={"name": name}, headers=sqlite_platform.admin_headers
    )
    assert response.status_code == 400
    assert response.json()["type"] == "VALIDATION" and "snapshot name" in response.json()["description"]


async def test_reset_returns_to_a_first_start_with_new_credentials(platform: PlatformHarness) -> None:
    await platform.admin("POST", "/admin/applications", json={"name": "Mine", "redirectUris": []})
    await platform.admin("POST", "/admin/owners", json={"email": "x@example.com", "password": "longenough"})
    credentials = await platform.admin("POST", "/admin/reset")
    assert credentials["SMARTCAR_CLIENT_ID"] != platform.client_id
    apps = await platform.admin("GET", "/admin/applications")
    assert [a["name"] for a in apps] == ["Development application"]
    assert apps[0]["id"] == credentials["MOTORPOOL_APPLICATION_ID"]
    owners = await platform.admin("GET", "/admin/owners")
    assert "x@example.com" not in {o["email"] for o in owners} and len(owners) == 3
    fleet = await platform.admin("GET", f"/admin/applications/{apps[0]['id']}/vehicles")
    assert len(fleet) == 3
    # The old secret is gone with its application; the new one works.
    old = await platform.http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": platform.client_id,
              "client_secret": platform.client_secret},
    )  # fmt: skip
    assert old.status_code == 401
    token = await platform.token(credentials["SMARTCAR_CLIENT_ID"], credentials["SMARTCAR_CLIENT_SECRET"])
    assert token
    # The admin token is the instance's, not the state's: it still works (the calls above).


async def test_the_example_scenario_loads_from_toml(platform: PlatformHarness) -> None:
    response = await platform.http.post(
        "/admin/scenario",
        content=EXAMPLE.read_bytes(),
        headers={**platform.admin_headers, "Content-Type": "application/toml"},
    )
    assert response.status_code == 201, response.text
    made = response.json()["data"]
    assert made["applicationId"] == platform.application_id
    ada = made["users"]["ada@example.com"]
    (tesla,) = made["vehicles"]["ada-car"]
    assert (await _soc(platform, ada, tesla)).json()["data"]["attributes"]["body"]["value"] == 12
    vehicle = await platform.http.get(f"/v3/vehicles/{tesla}", headers=await platform.auth_headers(ada))
    assert vehicle.json()["make"] == "TESLA"
    clock = await platform.admin("GET", f"/admin/applications/{platform.application_id}/clock")
    assert clock["rate"] == 0 and clock["now"].startswith("2030-01-07T08:00")
    # Grace granted three permissions: her Ford's odometer is readable, its location is not
    # pinned, and nothing beyond what she granted is.
    grace = made["users"]["grace@example.com"]
    (ford,) = made["vehicles"]["grace-car"]
    headers = await platform.auth_headers(grace)
    odometer = await platform.http.get(f"/v3/vehicles/{ford}/signals/odometer-traveleddistance", headers=headers)
    assert odometer.status_code == 200
    locked = await platform.http.get(f"/v3/vehicles/{ford}/signals/closure-islocked", headers=headers)
    assert locked.status_code == 403 and locked.json()["type"] == "PERMISSION"


async def test_the_same_scenario_in_yaml_and_json(sqlite_platform: PlatformHarness) -> None:
    yaml_text = "fleets:\n  - name: pair\n    count: 2\n    powertrain: PHEV\n"
    response = await sqlite_platform.http.post(
        "/admin/scenario", content=yaml_text,
        headers={**sqlite_platform.admin_headers, "Content-Type": "application/yaml"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert len(response.json()["data"]["vehicles"]["pair"]) == 2
    response = await sqlite_platform.http.post(
        "/admin/scenario", json={"applications": [{"name": "Second app"}]},
        headers=sqlite_platform.admin_headers,
    )  # fmt: skip
    second = response.json()["data"]["applications"]["Second app"]
    assert second["clientSecret"] and second["id"] != sqlite_platform.application_id


async def test_a_bad_scenario_says_where_and_creates_nothing(sqlite_platform: PlatformHarness) -> None:
    harness = sqlite_platform
    cases = [
        ("application/toml", "fleets = [ { name = 'a', count = 0 } ]", "/fleets/0/count"),
        ("application/toml", "[[connections]]\nemail='a@b.c'\nvehicles=['nope']", "fleet 'nope'"),
        ("application/toml", "this is = = not toml", "not valid TOML"),
        ("application/yaml", "- just\n- a list", "a table"),
        ("application/json", '{"fleets": [{"colour": "red"}]}', "/fleets/0/colour"),
        ("application/json", ('{"fleets": [{"name": "f"}], "signals": [{"vehicles": "f", '
         '"code": "tractionbattery-stateofcharge", "body": {"value": 500}}]}'), "from 0 to 100"),
        ("text/plain", "name = 'x'", "TOML, YAML or JSON"),
    ]
    before = await harness.admin("GET", f"/admin/applications/{harness.application_id}/vehicles")
    for media, body, says in cases:
        response = await harness.http.post(
            "/admin/scenario", content=body, headers={**harness.admin_headers, "Content-Type": media}
        )
        assert response.status_code == 400, (body, response.text)
        assert says in response.json()["description"], response.json()["description"]
    after = await harness.admin("GET", f"/admin/applications/{harness.application_id}/vehicles")
    assert len(after) == len(before)


async def test_state_control_needs_the_admin_token(sqlite_platform: PlatformHarness) -> None:
    for method, path in [("POST", "/admin/reset"), ("GET", "/admin/snapshots"), ("POST", "/admin/scenario")]:
        response = await sqlite_platform.http.request(method, path)
        assert response.status_code == 401, path
