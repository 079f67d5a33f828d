"""``/exchange``: Connect's answer is accepted only for the sign-in this browser started."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from motorpool.demo.app import SESSION_COOKIE

from ..support.connect_pages import go_through_connect
from .conftest import JSON, Demo, login_state


async def signed_in_user(demo: Demo, browser: Any) -> bool:
    answer = await browser.get("/vehicle", follow_redirects=False)
    return bool(answer.status_code == 200)


async def test_a_forged_state_is_refused_and_the_real_one_still_works(demo: Demo) -> None:
    browser = await demo.browser()
    connect_page = await browser.get("/login")
    user_id, _ = await demo.platform.connect(email="victim@example.com")

    forged = await browser.get("/exchange", params={"state": "forged-state", "user_id": user_id, "code": "x"})
    assert forged.status_code == 400
    assert "This sign-in was refused" in forged.text
    assert not await signed_in_user(demo, browser)

    missing = await browser.get("/exchange", params={"user_id": user_id})
    assert missing.status_code == 400
    assert not await signed_in_user(demo, browser)

    # The forged answers did not cancel the sign-in the owner is in the middle of.
    page = await go_through_connect(browser, connect_page)
    assert page.status_code == 200 and page.url.path == "/vehicle"


async def test_a_state_from_another_browser_is_refused(demo: Demo) -> None:
    """Login CSRF: an attacker's own valid state, replayed in the victim's browser, is refused."""
    attacker, victim = await demo.browser(), await demo.browser()
    state = login_state(await attacker.get("/login", follow_redirects=False))
    user_id, _ = await demo.platform.connect(email="attacker@example.com")
    answer = await victim.get("/exchange", params={"state": state, "user_id": user_id})
    assert answer.status_code == 400
    assert not await signed_in_user(demo, victim)
    as_json = await victim.get("/exchange", params={"state": state, "user_id": user_id}, headers=JSON)
    assert as_json.status_code == 400
    assert as_json.json()["error"]["code"] == "state_mismatch"


async def test_a_state_is_used_once(demo: Demo) -> None:
    browser = await demo.browser()
    page = await demo.sign_in(browser)
    exchange = next(step for step in page.history if step.url.path == "/exchange")
    replay = await browser.get(str(exchange.url))
    assert replay.status_code == 400


async def test_declining_on_connect_shows_a_friendly_page(demo: Demo) -> None:
    browser = await demo.browser()
    page = await go_through_connect(browser, await browser.get("/login"), action="deny")
    assert page.url.path == "/exchange"
    assert parse_qs(page.url.query.decode())["error"] == ["access_denied"]
    assert page.status_code == 200
    assert "No vehicle was connected" in page.text
    assert 'href="/login"' in page.text, "offers to try again"
    assert "Traceback" not in page.text
    assert not await signed_in_user(demo, browser)


async def test_connect_errors_are_explained_and_their_description_escaped(demo: Demo) -> None:
    browser = await demo.browser()
    for error, heading in (
        ("access_denied", "No vehicle was connected"),
        ("no_vehicles", "No vehicles found"),
        ("invalid_request", "Connect could not start"),
        ("server_had_a_bad_day", "Connect could not finish"),
    ):
        state = login_state(await browser.get("/login", follow_redirects=False))
        description = f"<script>alert('{error}')</script> & more"
        answer = await browser.get(
            "/exchange", params={"state": state, "error": error, "error_description": description}
        )
        assert answer.status_code == (200 if error == "access_denied" else 400)
        assert heading in answer.text
        assert "<script>alert" not in answer.text
        assert "&lt;script&gt;alert(&#39;" + error + "&#39;)&lt;/script&gt; &amp; more" in answer.text
        assert f"<code>{error}</code>" in answer.text
        assert not await signed_in_user(demo, browser)


@pytest.fixture
def test_mode(demo_settings: dict[str, Any]) -> None:
    demo_settings["mode"] = "test"


@pytest.mark.usefixtures("test_mode")
async def test_an_incompatible_vehicle_is_reported_with_its_details(demo: Demo) -> None:
    vin = "1FTFW1ET5DFC10312"
    browser = await demo.browser()
    page = await go_through_connect(
        browser, await browser.get("/login"), email=f"{vin}@incompatible.smartcar.com"
    )
    assert page.url.path == "/exchange"
    assert page.status_code == 400
    assert "This vehicle is not compatible" in page.text
    assert vin in page.text


@pytest.mark.usefixtures("test_mode")
async def test_test_mode_vehicles_are_listed(demo: Demo) -> None:
    browser = await demo.browser()
    page = await demo.sign_in(browser, email="2-vehicles@smartcar.com")
    assert page.status_code == 200
    vehicles = (await browser.get("/vehicle", headers=JSON)).json()["vehicles"]
    assert len(vehicles) == 2
    assert all(v["make"] and v["model"] and v["year"] for v in vehicles)


async def test_a_hand_typed_user_id_is_refused(demo: Demo) -> None:
    """With the right state but no code from Connect, a user id typed into the address bar
    (someone else's) does not sign anyone in."""
    browser = await demo.browser()
    victim, _ = await demo.platform.connect(email="victim@example.com")
    state = login_state(await browser.get("/login", follow_redirects=False))
    answer = await browser.get("/exchange", params={"state": state, "user_id": victim})
    assert answer.status_code == 400
    assert "could not be verified" in answer.text
    assert not await signed_in_user(demo, browser)


async def test_a_code_for_another_user_is_refused(demo: Demo) -> None:
    """A real code from the attacker's own sign-in does not vouch for the victim's user id."""
    attacker = await demo.browser()
    first = await attacker.get("/login", follow_redirects=False)
    connect_page = await attacker.get(first.headers["location"])
    # Stop at the redirect to /exchange: the code is in it, unredeemed.
    attacker.follow_redirects = False
    last = await go_through_connect(attacker, connect_page, email="attacker@example.com")
    attacker.follow_redirects = True
    query = parse_qs(urlsplit(last.headers["location"]).query)
    victim, _ = await demo.platform.connect(email="victim@example.com")
    answer = await attacker.get(
        "/exchange", params={"state": query["state"][0], "user_id": victim, "code": query["code"][0]}
    )
    assert answer.status_code == 400
    assert not await signed_in_user(demo, attacker)


@pytest.fixture
def trusting(demo_settings: dict[str, Any]) -> None:
    demo_settings["verify_code"] = False


@pytest.mark.usefixtures("trusting")
async def test_without_code_verification_the_user_id_is_taken_as_the_tutorial_does(demo: Demo) -> None:
    """For a service whose redirect carries no code: the state alone guards the answer."""
    browser = await demo.browser()
    answer = await browser.get("/login", follow_redirects=False)
    assert "code_challenge" not in answer.headers["location"]
    user_id, _ = await demo.platform.connect(email="owner@example.com")
    page = await browser.get("/exchange", params={"state": login_state(answer), "user_id": user_id})
    assert page.status_code == 200 and page.url.path == "/vehicle"
    assert len((await browser.get("/vehicle", headers=JSON)).json()["vehicles"]) == 3
    assert demo.sdk_transport.token_grants() == ["client_credentials"]


async def test_an_answer_without_user_id_is_refused(demo: Demo) -> None:
    browser = await demo.browser()
    state = login_state(await browser.get("/login", follow_redirects=False))
    answer = await browser.get("/exchange", params={"state": state, "code": "abc"})
    assert answer.status_code == 400
    assert "without a user id" in answer.text
    assert SESSION_COOKIE in browser.cookies
