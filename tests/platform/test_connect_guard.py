"""Connect against guessing and replay: failed sign-ins end a flow and pause an e-mail address,
and a consent form is accepted once. Before these rules, 40 wrong passwords on one flow were
answered one by one and the right one was still accepted after them, and the consent form posted
again minted a new authorization code each time."""

from __future__ import annotations

import asyncio

import httpx

from motorpool.platform.services.connect_guard import MAX_EMAIL_FAILURES, MAX_FLOW_FAILURES

from ..support.connect_pages import checked, query_of, step_of, submit
from ..support.harness import PlatformHarness
from .test_connect import until_step


async def _wrong(platform: PlatformHarness, page: httpx.Response, email: str) -> httpx.Response:
    return await submit(platform.http, page, {"email": email, "password": "not-the-password"})


async def test_failed_sign_ins_end_the_flow(platform: PlatformHarness) -> None:
    page = await until_step(platform, "login", mode="live")
    owner = platform.first.owners[0]
    # Different e-mails, so that only the flow's own count can end it.
    for attempt in range(MAX_FLOW_FAILURES - 1):
        again = await _wrong(platform, page, f"guess{attempt}@example.com")
        assert again.status_code == 401 and "not correct" in again.text
    ended = await _wrong(platform, page, "last-guess@example.com")
    assert ended.status_code == 429 and "Too many sign-in attempts" in ended.text
    # The same form, even with the right password, opens nothing any more.
    right = await submit(platform.http, page, {"email": owner, "password": platform.first.owner_password})
    assert right.status_code == 429 and "Too many sign-in attempts" in right.text
    # A new flow works.
    fresh = await until_step(platform, "login", mode="live")
    done = await submit(platform.http, fresh, {"email": owner, "password": platform.first.owner_password})
    assert done.status_code == 200 and step_of(done) == "permissions"


async def test_failed_sign_ins_for_one_address_pause_it(platform: PlatformHarness) -> None:
    owner = platform.first.owners[0]
    for _ in range(MAX_EMAIL_FAILURES):
        page = await until_step(platform, "login", mode="live")
        assert (await _wrong(platform, page, owner.upper())).status_code == 401
    page = await until_step(platform, "login", mode="live")
    paused = await submit(platform.http, page, {"email": owner, "password": platform.first.owner_password})
    assert paused.status_code == 429 and "Sign-in paused" in paused.text
    assert step_of(paused) == "login"
    # An address nobody guessed at is not paused.
    await platform.admin("POST", "/admin/owners", json={"email": "calm@example.com", "password": "long enough pw"})
    other = await submit(platform.http, page, {"email": "calm@example.com", "password": "long enough pw"})
    assert query_of(other)["error"] == "no_vehicles"  # signed in; the account holds no car


async def test_unknown_addresses_are_paused_alike(platform: PlatformHarness) -> None:
    """Whether an address has an account does not change what guessing at it earns."""
    for _ in range(MAX_EMAIL_FAILURES):
        page = await until_step(platform, "login", mode="live")
        assert (await _wrong(platform, page, "nobody@example.com")).status_code == 401
    page = await until_step(platform, "login", mode="live")
    assert (await _wrong(platform, page, "nobody@example.com")).status_code == 429


async def _consent_page(platform: PlatformHarness) -> tuple[httpx.Response, dict[str, object]]:
    page = await until_step(platform, "permissions")
    return page, {"action": "approve", "permission": checked(page, "permission")}


async def test_a_consent_form_is_accepted_once(platform: PlatformHarness) -> None:
    page, fields = await _consent_page(platform)
    first = await submit(platform.http, page, fields)
    assert first.status_code in (302, 303) and "code" in query_of(first)
    again = await submit(platform.http, page, fields)
    assert again.status_code == 409 and "already" in again.text
    assert "location" not in again.headers


async def test_a_consent_form_posted_many_times_at_once_gives_one_code(platform: PlatformHarness) -> None:
    page, fields = await _consent_page(platform)
    answers = await asyncio.gather(*(submit(platform.http, page, fields) for _ in range(8)))
    codes = [query_of(a)["code"] for a in answers if a.status_code in (302, 303)]
    assert len(codes) == 1
    assert sorted(a.status_code for a in answers if a.status_code not in (302, 303)) == [409] * 7



async def test_a_reconnect_confirmation_is_accepted_once(platform: PlatformHarness) -> None:
    from .test_connect import _connected_vehicle, reauth

    _, vehicle_id = await _connected_vehicle(platform)
    page = await reauth(platform, vehicle_id=vehicle_id)
    page = await submit(platform.http, page, {"email": "1-vehicles@smartcar.com", "password": "pw"})
    assert step_of(page) == "confirm"
    done = await submit(platform.http, page, {"action": "approve"})
    assert query_of(done)["vehicle_id"] == vehicle_id
    again = await submit(platform.http, page, {"action": "approve"})
    assert again.status_code == 409 and "location" not in again.headers
