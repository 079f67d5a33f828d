"""The dashboard in a real browser: ``motorpool serve`` as a process, driven with the system
Chromium — sign in, create an application, add a car, plug it in, step the clock, watch the
charge rise and the request log fill. Pages are screenshotted into ``test-artifacts/dashboard/``
(the README's pictures: ``make dashboard-screenshots``)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Browser, Page, expect

from ..support.browser import MARKS, new_tab
from ..support.processes import Served

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"

pytestmark = MARKS


def _soc(page: Page) -> float:
    cell = page.locator('tr[data-code="tractionbattery-stateofcharge"] td.value')
    return float(cell.inner_text())


def screenshot(page: Page, name: str) -> None:
    """What a laptop's window shows of the page, for the README."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _sign_in(page: Page, served: Served) -> None:
    page.goto(f"{served.origin}/dashboard/applications")
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))  # refused without a session
    page.fill("#secret", "wrong-token")
    page.click("button:text('Sign in')")
    expect(page.locator(".error")).to_contain_text("Neither the admin token")
    page.fill("#secret", served.env()["MOTORPOOL_ADMIN_TOKEN"])
    page.click("button:text('Sign in')")
    expect(page).to_have_url(re.compile(r"/dashboard/applications$"))


def test_steer_a_car_through_a_charge_and_watch_the_request_log(browser: Browser, served: Served) -> None:
    with new_tab(browser, 1280, 900) as page:
        _sign_in(page, served)
        page.fill("#name", "Browser app")
        page.click("button:text('Create')")
        secret = page.locator("#new-secret").inner_text()
        client_id = page.locator("dt:text('Client id') + dd code").inner_text()
        application_id = page.locator("dt:text('Application id') + dd code").inner_text()
        page.goto(f"{served.origin}/dashboard/applications/{application_id}")  # the secret was shown once
        expect(page.locator("#new-secret")).to_have_count(0)
        page.click("button:text('Freeze')")

        page.click("a:text('Fleet →')")
        for attempt in range(12):  # a car that is parked and below its charge limit
            page.select_option("#add-powertrain", "BEV")
            page.fill("#add-nickname", f"Dashboard car {attempt}")
            page.click("form.card button:text('Add')")
            expect(page.locator("h1")).to_contain_text("20")
            with page.expect_navigation():
                page.click("button:text('Plug in and charge')")
            if page.locator("#status").inner_text() == "charging":
                break
            page.go_back()
            page.go_back()
        expect(page.locator("#status")).to_have_text("charging")
        vehicle_id = urlsplit(page.url).path.rsplit("/", 1)[1]  # it may carry a notice ("already charging")
        before = _soc(page)

        with page.expect_navigation():
            page.click("button:text('+1 h')")
        expect(page.locator("#status")).to_have_text(re.compile("charging|parked"))
        assert _soc(page) > before
        page.locator("#plots").scroll_into_view_if_needed()
        screenshot(page, "vehicle")

        # The application reads the car's signals: the request log fills.
        with httpx.Client(base_url=served.origin) as api:
            token = api.post("/oauth2/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                    "client_secret": secret}).json()["access_token"]
            connected = api.post(f"/admin/applications/{application_id}/connections", headers=served.admin_headers(),
                                 json={"email": "driver@example.com", "vehicleIds": [vehicle_id]})
            assert connected.status_code == 201, (vehicle_id, connected.text)
            user_id = connected.json()["data"]["userId"]
            read = api.get(f"/v3/vehicles/{vehicle_id}/signals",
                           headers={"Authorization": f"Bearer {token}", "sc-user-id": user_id})
            assert read.status_code == 200
            api.get(f"/v3/vehicles/{vehicle_id}/signals", headers={"Authorization": f"Bearer {token}"})
        page.goto(f"{served.origin}/dashboard/applications/{application_id}/requests")
        rows = page.locator("#requests tbody tr")
        expect(rows.first).to_contain_text("400")  # no sc-user-id: its error body is kept
        expect(page.locator("#requests")).to_contain_text(user_id)
        expect(page.locator("#requests")).to_contain_text("/oauth2/token")
        screenshot(page, "requests")

        page.goto(f"{served.origin}/dashboard/applications/{application_id}/fleet")
        expect(page.locator("#fleet")).to_contain_text("Dashboard car")
        screenshot(page, "fleet")

        page.click("button:text('Sign out')")
        page.goto(f"{served.origin}/dashboard/applications")
        expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))
