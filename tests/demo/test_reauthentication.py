"""A vehicle whose connected-services account needs re-authentication: the vehicle page says so
and links to Connect's re-authentication, which mends the account and comes back to the page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ..support.connect_pages import step_of, submit
from .conftest import DEMO_ORIGIN, Demo


async def test_a_broken_account_links_to_reauthentication_which_mends_it(demo: Demo) -> None:
    browser = await demo.browser()
    await demo.sign_in(browser)
    car = next(iter(await demo.admin_vehicles()))
    await demo.platform.admin("POST", f"/admin/vehicles/{car}/failures/account", json={})

    page = await browser.get("/vehicle")
    assert f'href="/vehicle/{car}/reauthenticate"' in page.text
    assert page.text.count("/reauthenticate\"") == 1  # only the broken car offers it
    raw = (await browser.get("/vehicle?format=json")).json()
    (broken,) = [v for v in raw["vehicles"] if v["needsReauthentication"]]
    assert broken["id"] == car and broken["reauthenticate"] == f"/vehicle/{car}/reauthenticate"

    sent = await browser.get(f"/vehicle/{car}/reauthenticate", follow_redirects=False)
    assert sent.status_code == 302
    link = urlsplit(sent.headers["location"])
    query = parse_qs(link.query)
    assert link.path == "/oauth/reauthenticate" and query["vehicle_id"] == [car]
    assert query["redirect_uri"] == [demo.settings.redirect_uri] and query["state"][0]

    login = await browser.get(sent.headers["location"])
    assert step_of(login) == "login"
    confirm = await submit(browser, login, {"email": "owner@example.com", "password": "pw"})
    assert step_of(confirm) == "confirm"
    back = await submit(browser, confirm, {"action": "approve"})
    assert str(back.url).startswith(f"{DEMO_ORIGIN}/vehicle")
    assert "/reauthenticate\"" not in back.text and "Could not read" not in back.text
    assert (await demo.platform.admin("GET", f"/admin/vehicles/{car}/failures"))["account"] is None


async def test_reauthenticating_a_working_vehicle_or_signed_out_says_so(demo: Demo) -> None:
    stranger = await demo.browser()
    car = next(iter(await demo.admin_vehicles()))
    refused = await stranger.get(f"/vehicle/{car}/reauthenticate", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/login"
    browser = await demo.browser()
    await demo.sign_in(browser)
    working = await browser.get(f"/vehicle/{car}/reauthenticate", follow_redirects=False)
    assert working.status_code == 200 and "nothing to re-authenticate" in working.text
    await demo.platform.admin("POST", f"/admin/vehicles/{car}/failures/account", json={"code": "SUBSCRIPTION"})
    other = await browser.get(f"/vehicle/{car}/reauthenticate", follow_redirects=False)
    assert other.status_code == 502 and "CONNECTED_SERVICES_ACCOUNT" in other.text and "Traceback" not in other.text
    assert f'href="/vehicle/{car}/reauthenticate"' not in (await browser.get("/vehicle")).text
