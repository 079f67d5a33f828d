"""The vehicle page's ids, raw-JSON link and buttons: lock, unlock and charge sent through the
Vehicle API for the signed-in user, the car's state changing on the platform, a refusal shown
as the platform's own error."""

from __future__ import annotations

import re

from .conftest import DEMO_ORIGIN, Demo


async def _car(demo: Demo, powertrain: str) -> str:
    fleet = await demo.admin_vehicles()
    car = next(vid for vid, vehicle in fleet.items() if vehicle["powertrainType"] == powertrain)
    await demo.platform.admin("POST", f"/admin/vehicles/{car}/wake", json={})
    return car


async def test_the_page_shows_the_user_the_vehicle_ids_and_a_raw_json_link(demo: Demo) -> None:
    browser = await demo.browser()
    page = await demo.sign_in(browser)
    user_id = re.search(r'<code class="user-id">([^<]+)</code>', page.text)
    assert user_id is not None
    connections = await demo.platform.admin("GET", f"/admin/applications/{demo.platform.application_id}/connections")
    assert {c["userId"] for c in connections} == {user_id.group(1)}
    for vehicle_id in await demo.admin_vehicles():
        assert f"<code>{vehicle_id}</code>" in page.text
        assert f'action="/vehicle/{vehicle_id}/lock"' in page.text
    assert 'href="/vehicle?format=json"' in page.text
    raw = await browser.get("/vehicle?format=json")
    assert raw.headers["content-type"] == "application/json"
    assert {v["id"] for v in raw.json()["vehicles"]} == set(await demo.admin_vehicles())


async def test_lock_and_unlock_change_the_car(demo: Demo) -> None:
    browser = await demo.browser()
    await demo.sign_in(browser)
    car = await _car(demo, "BEV")
    locked = await browser.post(f"/vehicle/{car}/lock")
    assert locked.status_code == 200 and str(locked.url).startswith(f"{DEMO_ORIGIN}/vehicle?sent=lock")
    assert "SUCCESS" in locked.text and "exec_" in locked.text
    assert (await demo.platform.admin("GET", f"/admin/vehicles/{car}"))["state"]["locked"] is True
    await browser.post(f"/vehicle/{car}/unlock")
    assert (await demo.platform.admin("GET", f"/admin/vehicles/{car}"))["state"]["locked"] is False


async def test_charging_an_unplugged_car_shows_the_platforms_refusal(demo: Demo) -> None:
    browser = await demo.browser()
    await demo.sign_in(browser)
    car = await _car(demo, "BEV")
    await demo.platform.admin("POST", f"/admin/vehicles/{car}/plug", json={"plugged": False})
    refused = await browser.post(f"/vehicle/{car}/start-charge")
    assert refused.status_code >= 400
    assert "CHARGING_PLUG_NOT_CONNECTED" in refused.text and "Traceback" not in refused.text
    await demo.platform.admin("POST", f"/admin/vehicles/{car}/plug", json={"plugged": True})
    started = await browser.post(f"/vehicle/{car}/start-charge")
    assert "SUCCESS" in started.text or "FULLY_CHARGED" in started.text


async def test_buttons_refuse_other_sites_unknown_actions_and_strangers(demo: Demo) -> None:
    browser = await demo.browser()
    await demo.sign_in(browser)
    car = await _car(demo, "BEV")
    forged = await browser.post(f"/vehicle/{car}/lock", headers={"origin": "https://evil.example"})
    assert forged.status_code == 403
    unknown = await browser.post(f"/vehicle/{car}/self-destruct")
    assert unknown.status_code == 404
    stranger = await demo.browser()
    sent = await stranger.post(f"/vehicle/{car}/lock", follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/login"
