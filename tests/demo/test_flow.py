"""The tutorial's flow through the demo: /login → Connect → /exchange → /vehicle."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from motorpool.demo.app import SESSION_COOKIE

from ..support.connect_pages import go_through_connect
from .conftest import DEMO_ORIGIN, JSON, Demo, login_state


def vehicle_rows(page: str) -> dict[str, dict[str, str]]:
    """The vehicle table's rows by vehicle id: each cell's text by its class."""
    rows: dict[str, dict[str, str]] = {}
    for vehicle_id, body in re.findall(r'<tr data-vehicle-id="([^"]+)">(.*?)</tr>', page, re.DOTALL):
        cells = re.findall(r'<td[^>]*class="(?:cell-)?([\w-]+)"[^>]*>(.*?)</td>', body, re.DOTALL)
        rows[vehicle_id] = {
            name: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()) for name, text in cells
        }
    return rows


async def test_login_redirects_to_connect_with_a_state_bound_to_the_session(demo: Demo) -> None:
    browser = await demo.browser()
    answer = await browser.get("/login", follow_redirects=False)
    assert answer.status_code == 302
    target = urlsplit(answer.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{demo.platform.base_url}/oauth/authorize"
    query = {key: values[0] for key, values in parse_qs(target.query).items()}
    assert query["client_id"] == demo.platform.client_id
    assert query["redirect_uri"] == "http://localhost:8000/exchange"
    assert query["mode"] == "simulated"
    assert query["response_type"] == "code"
    assert {"read_vehicle_info", "read_odometer", "read_location"} <= set(query["scope"].split())
    assert len(query["state"]) >= 32
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]

    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie

    again = await browser.get("/login", follow_redirects=False)
    assert login_state(again) != query["state"], "every /login makes a fresh state"
    assert browser.cookies[SESSION_COOKIE] == answer.cookies[SESSION_COOKIE], "same browser, same session"


async def test_owner_connects_and_sees_their_vehicles(demo: Demo) -> None:
    browser = await demo.browser()
    page = await demo.sign_in(browser)
    assert page.status_code == 200, page.text
    assert str(page.url) == f"{DEMO_ORIGIN}/vehicle"
    exchange = next(step for step in page.history if step.url.path == "/exchange")
    assert exchange.status_code == 303 and exchange.headers["location"] == "/vehicle"

    fleet = await demo.admin_vehicles()
    rows = vehicle_rows(page.text)
    assert set(rows) == set(fleet)
    for vehicle_id, row in rows.items():
        expected = fleet[vehicle_id]
        assert row["make"].startswith(expected["make"])
        assert row["model"] == expected["model"]
        assert row["year"] == str(expected["year"])
        assert re.fullmatch(r"[\d,.]+ km", row["odometer"]), row
        assert row["locked"] in ("Locked", "Unlocked")
        assert re.fullmatch(r"[\d.]+° [NS] [\d.]+° [EW]", row["location"]), row
        powertrain = expected["powertrainType"]
        if powertrain in ("BEV", "PHEV"):
            assert "battery" in row["energy"]
            assert re.match(r"(Charging|Fully charged|Not charging) (plugged in|unplugged)", row["charging"])
        if powertrain in ("ICE", "PHEV"):
            assert "fuel" in row["energy"]
        if powertrain == "ICE":
            assert row["charging"].startswith("—"), "a petrol car has no charging state"
    assert "Traceback" not in page.text


async def test_vehicle_as_json_mirrors_the_tutorial(demo: Demo) -> None:
    browser = await demo.browser()
    await demo.sign_in(browser)
    answer = await browser.get("/vehicle", headers=JSON)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    vehicles = body["vehicles"]
    # The tutorial's /vehicle answers {"make", "model", "year"} of the first vehicle.
    assert {key: body[key] for key in ("make", "model", "year")} == {
        key: vehicles[0][key] for key in ("make", "model", "year")
    }
    fleet = await demo.admin_vehicles()
    assert {v["id"] for v in vehicles} == set(fleet)
    for vehicle in vehicles:
        expected = fleet[vehicle["id"]]
        assert (vehicle["make"], vehicle["model"], vehicle["year"]) == (
            expected["make"],
            expected["model"],
            expected["year"],
        )
        assert vehicle["odometer"]["unit"] == "km" and vehicle["odometer"]["value"] >= 0
        assert -90 <= vehicle["location"]["latitude"] <= 90
        assert isinstance(vehicle["isLocked"], bool)
        if expected["powertrainType"] in ("BEV", "PHEV"):
            assert 0 <= vehicle["stateOfCharge"]["value"] <= 100
            assert vehicle["batteryRange"]["value"] >= 0
            assert vehicle["chargingState"] in ("CHARGING", "NOT_CHARGING", "FULLY_CHARGED")
        else:
            assert vehicle["stateOfCharge"] is None and vehicle["chargingState"] is None
            assert "charging" in vehicle["unavailable"]
        if expected["powertrainType"] in ("ICE", "PHEV"):
            assert 0 <= vehicle["fuelLevel"]["value"] <= 100
            assert vehicle["fuelRange"]["value"] >= 0


async def test_values_match_what_the_vehicle_api_reports(demo: Demo) -> None:
    """The page shows the platform's values, not made-up ones: make, model and year match the
    Vehicle API exactly and the odometer matches the signal read just before."""
    browser = await demo.browser()
    page = await demo.sign_in(browser)
    exchange = next(step for step in page.history if step.url.path == "/exchange")
    user_id = parse_qs(urlsplit(str(exchange.url)).query)["user_id"][0]
    headers = await demo.platform.auth_headers(user_id)
    body = (await browser.get("/vehicle", headers=JSON)).json()
    for vehicle in body["vehicles"]:
        described = (await demo.platform.http.get(f"/v3/vehicles/{vehicle['id']}", headers=headers)).json()
        assert (described["make"], described["model"], described["year"]) == (
            vehicle["make"],
            vehicle["model"],
            vehicle["year"],
        )
        odometer = await demo.platform.http.get(
            f"/v3/vehicles/{vehicle['id']}/signals/odometer-traveleddistance", headers=headers
        )
        reported = odometer.json()["data"]["attributes"]["body"]["value"]
        # A simulated car may drive on between the two reads, never backwards.
        assert 0 <= reported - vehicle["odometer"]["value"] < 5


async def test_a_visitor_who_has_not_signed_in_is_sent_to_login(demo: Demo) -> None:
    browser = await demo.browser()
    answer = await browser.get("/vehicle", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    # Having started a login is not being signed in.
    await browser.get("/login", follow_redirects=False)
    answer = await browser.get("/vehicle", headers=JSON, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    # An unknown session id is no better.
    stranger = await demo.browser()
    stranger.cookies.set(SESSION_COOKIE, "made-up-session-id", domain="localhost")
    answer = await stranger.get("/vehicle", follow_redirects=False)
    assert answer.status_code == 303


async def test_signing_in_changes_the_session_id_and_signing_out_ends_it(demo: Demo) -> None:
    browser = await demo.browser()
    before = (await browser.get("/login", follow_redirects=False)).cookies[SESSION_COOKIE]
    browser.cookies.clear()
    await demo.sign_in(browser)
    signed_in = browser.cookies[SESSION_COOKIE]
    assert signed_in != before
    assert (await browser.get("/vehicle")).status_code == 200

    answer = await browser.post("/logout", follow_redirects=False)
    assert answer.status_code == 303
    assert SESSION_COOKIE not in browser.cookies
    # The old id is dead on the server too, not only forgotten by this browser.
    replay = await demo.browser()
    replay.cookies.set(SESSION_COOKIE, signed_in, domain="localhost")
    assert (await replay.get("/vehicle", follow_redirects=False)).status_code == 303


@pytest.fixture
def live_mode(demo_settings: dict[str, Any]) -> None:
    demo_settings["mode"] = "live"


@pytest.mark.usefixtures("live_mode")
async def test_two_owners_in_two_browsers_at_the_same_time(demo: Demo) -> None:
    ada, grace = "ada@owners.motorpool.test", "grace@owners.motorpool.test"
    password = demo.platform.first.owner_password
    first, second = await demo.browser(), await demo.browser()
    # Both browsers are on Connect at the same time, each with its own pending state.
    ada_connect, grace_connect = await asyncio.gather(first.get("/login"), second.get("/login"))
    ada_page, grace_page = await asyncio.gather(
        go_through_connect(first, ada_connect, email=ada, password=password),
        go_through_connect(second, grace_connect, email=grace, password=password),
    )
    assert ada_page.status_code == grace_page.status_code == 200
    ada_json, grace_json = await asyncio.gather(
        first.get("/vehicle", headers=JSON), second.get("/vehicle", headers=JSON)
    )
    ada_ids = {v["id"] for v in ada_json.json()["vehicles"]}
    grace_ids = {v["id"] for v in grace_json.json()["vehicles"]}
    assert len(ada_ids) == 2 and len(grace_ids) == 1
    assert not ada_ids & grace_ids
    assert vehicle_rows(ada_page.text).keys() == ada_ids
    assert vehicle_rows(grace_page.text).keys() == grace_ids


async def test_the_application_token_is_fetched_once_for_many_pages(demo: Demo) -> None:
    first, second = await demo.browser(), await demo.browser()
    await demo.sign_in(first)
    await demo.sign_in(second, email="someone-else@example.com")
    for _ in range(5):
        assert (await first.get("/vehicle")).status_code == 200
        assert (await second.get("/vehicle", headers=JSON)).status_code == 200
    await asyncio.gather(*(first.get("/vehicle") for _ in range(10)))
    grants = demo.sdk_transport.token_grants()
    assert grants.count("client_credentials") == 1, grants
    # The code of each sign-in is redeemed once, to prove the redirect came from Connect.
    assert grants.count("authorization_code") == 2
    reads = [r for r in demo.sdk_transport.requests if r.url.path.startswith("/v3/")]
    assert len(reads) > 17 * 3, "every page load really read the vehicles"


def test_json_is_only_for_clients_that_ask_for_it() -> None:
    from starlette.requests import Request

    from motorpool.demo.pages import wants_json as _wants_json

    def asking(accept: str) -> bool:
        return _wants_json(Request({"type": "http", "headers": [(b"accept", accept.encode())]}))

    assert asking("application/json")
    assert not asking("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert not asking("*/*")
    assert not asking("")
