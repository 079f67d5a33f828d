"""The dashboard's settings forms, the vehicle page's buttons and live updates, the fleet's state
filter and the end of a session, in Chromium against ``motorpool serve`` as a process."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Browser, Page, expect

from ..support.browser import MARKS, new_tab
from ..support.processes import Served
from .test_dashboard_browser import _sign_in, _soc, screenshot

pytestmark = MARKS


def _new_application(page: Page, name: str) -> str:
    page.fill("#name", name)
    page.click("button:text-is('Create')")
    return page.locator("dt:text('Application id') + dd code").inner_text()


def test_application_settings_show_errors_beside_their_fields(browser: Browser, served: Served) -> None:
    with new_tab(browser, 1280, 900) as page:
        _sign_in(page, served)
        application_id = _new_application(page, "Settings app")
        page.goto(f"{served.origin}/dashboard/applications/{application_id}")

        # No permission ticked: refused beside the checkboxes.
        form = page.locator("#connect-permissions")
        for box in form.locator("input[type=checkbox]").all():
            box.uncheck()
        form.locator("button:text-is('Save permissions')").click()
        expect(page.locator("#permission-error")).to_contain_text("at least one permission")
        form = page.locator("#connect-permissions")
        form.locator("input[value='read_battery']").check()
        form.locator("input[value='read_location']").check()
        form.locator("button:text-is('Save permissions')").click()
        expect(page.locator(".notice")).to_have_text("Connect permissions saved.")
        expect(page.locator("#connect-permissions input[value='read_battery']")).to_be_checked()
        expect(page.locator("#connect-permissions input[value='read_odometer']")).not_to_be_checked()

        # A word where a number belongs: the message is beside that field, the input kept.
        page.fill("#limit-requests", "lots")
        page.fill("#limit-refillPerMinute", "3")
        page.click("button:text-is('Save limits')")
        expect(page.locator("#requests-error")).to_contain_text("whole number")
        expect(page.locator("#limit-requests")).to_have_value("lots")
        expect(page.locator("#limit-requests")).to_have_attribute("aria-invalid", "true")
        page.locator("#rate-limit").scroll_into_view_if_needed()
        screenshot(page, "application-settings")
        page.fill("#limit-requests", "40")
        page.click("button:text-is('Save limits')")
        expect(page.locator("#rate-limit-now")).to_contain_text("40 requests, refilling 3.0 per minute")
        page.click("button:text-is('Lift every limit')")
        expect(page.locator("#rate-limit-now")).to_contain_text("no limits")

    with httpx.Client(base_url=served.origin, headers=served.admin_headers()) as admin:
        stored = admin.get(f"/admin/applications/{application_id}/connect-permissions").json()["data"]
        assert stored["permissions"] == ["read_battery", "read_location"]


def test_a_car_charges_and_locks_live_and_the_fleet_filters_by_state(browser: Browser, served: Served) -> None:
    with new_tab(browser, 1280, 900) as page:
        _sign_in(page, served)
        application_id = _new_application(page, "Live app")
        page.click("button:text-is('Freeze')")
        page.click("a:text('Fleet →')")
        for attempt in range(12):  # a car that is parked and below its charge limit
            page.select_option("#add-powertrain", "BEV")
            page.fill("#add-nickname", f"Live car {attempt}")
            page.click("form.card button:text-is('Add')")
            expect(page.locator("h1")).to_contain_text("20")
            with page.expect_navigation():
                page.click("button:text-is('Plug in')")
            with page.expect_navigation():
                page.click("button:text-is('Start charging')")
            if page.locator("#status").inner_text() == "charging":
                break
            page.goto(f"{served.origin}/dashboard/applications/{application_id}/fleet")
        expect(page.locator("#status")).to_have_text("charging")
        vehicle_id = urlsplit(page.url).path.rsplit("/", 1)[1]

        # The page holds an event stream; a clock step made elsewhere shows without a reload.
        expect(page.locator("#signals-box")).to_have_attribute("data-live", "events")
        before = _soc(page)
        with httpx.Client(base_url=served.origin, headers=served.admin_headers()) as admin:
            stepped = admin.post(f"/admin/applications/{application_id}/clock/advance", json={"by": "1h"})
            assert stepped.status_code == 200, stepped.text
        expect(page.locator('tr[data-code="tractionbattery-stateofcharge"] td.value')).not_to_have_text(
            str(before), timeout=10_000)
        assert _soc(page) > before

        with page.expect_navigation():
            page.click("button:text-is('Stop charging')")
        expect(page.locator("#status")).to_have_text("parked")
        with page.expect_navigation():
            page.click("button:text-is('Lock')")
        expect(page.locator('tr[data-code="closure-islocked"] td.value')).to_have_text("True")
        with page.expect_navigation():
            page.click("button:text-is('Open a door')")
        with page.expect_navigation():
            page.click("button:text-is('Lock')")
        expect(page.locator(".notice")).to_be_visible()  # refused, and said why
        with page.expect_navigation():
            page.click("button:text-is('Unlock')")
        expect(page.locator('tr[data-code="closure-islocked"] td.value')).to_have_text("False")
        with page.expect_navigation():
            page.click("button:text-is('Go offline')")
        expect(page.locator("#status")).to_have_text("offline")

        page.goto(f"{served.origin}/dashboard/applications/{application_id}/fleet")
        page.select_option("select[name=status]", "offline")
        page.click("button:text-is('Filter')")
        expect(page.locator(f'#fleet a[href="/dashboard/vehicles/{vehicle_id}"]')).to_have_count(1)
        expect(page.locator("#fleet .status")).to_have_text(["offline"] * page.locator("#fleet .status").count())
        page.select_option("select[name=status]", "charging")
        page.click("button:text-is('Filter')")
        expect(page.locator(f'#fleet a[href="/dashboard/vehicles/{vehicle_id}"]')).to_have_count(0)


def test_signing_out_ends_a_copied_session(browser: Browser, served: Served) -> None:
    with new_tab(browser, 1280, 900) as page:
        _sign_in(page, served)
        cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "motorpool_dashboard")
        with httpx.Client(base_url=served.origin, cookies={"motorpool_dashboard": cookie}) as copy:
            assert copy.get("/dashboard/applications").status_code == 200
            page.click("button:text-is('Sign out')")
            expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))
            refused = copy.get("/dashboard/applications")
            assert refused.status_code == 303 and refused.headers["location"] == "/dashboard/sign-in"
