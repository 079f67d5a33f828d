"""The tutorial's flow in a real browser: ``motorpool up`` driven with the system Chromium.

Every step is screenshotted into ``test-artifacts/demo/`` (the README's pictures in
``docs/screenshots/`` are copies of good ones)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ..support.browser import MARKS, new_tab, screenshot
from ..support.up import Up

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "demo"

pytestmark = MARKS


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_tab(browser, 1280, 800) as tab:
        yield tab


def shot(page: Page, name: str) -> None:
    screenshot(page, ARTIFACTS, name)


def sign_in_on_connect(page: Page, email: str) -> None:
    """From Connect's first page to its approval page, as an owner clicks through."""
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Select your vehicle's brand")).to_be_visible()
    page.locator(".brand-tile").first.click()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("any password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Allow")).to_be_visible()


def test_owner_connects_and_sees_the_vehicle_table(running: Up, page: Page) -> None:
    page.goto(f"{running.demo}/")
    expect(page.get_by_role("heading", name="See your vehicle, live")).to_be_visible()
    shot(page, "01-home")

    page.get_by_role("main").get_by_role("link", name="Connect a vehicle").click()
    page.wait_for_url(f"{running.platform}/oauth/authorize*")
    shot(page, "02-connect-preamble")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Select your vehicle's brand")).to_be_visible()
    shot(page, "02-connect-brand")
    page.locator(".brand-tile").first.click()
    page.get_by_label("E-mail address").fill("newcomer@example.com")
    page.get_by_label("Password").fill("any password")
    shot(page, "03-connect-sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("group", name="Choose vehicles to share")).to_be_visible()
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    shot(page, "04-connect-approval")

    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{running.demo}/vehicle")
    expect(page.get_by_role("heading", name="Your vehicles")).to_be_visible()

    fleet = running.admin(f"/admin/applications/{running.env['MOTORPOOL_APPLICATION_ID']}/vehicles")
    assert isinstance(fleet, list) and fleet
    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["Make", "Model", "Year", "Charge / fuel", "Range", "Odometer", "Charging", "Doors", "Location", "Actions"]
    )
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(fleet))
    for vehicle in fleet:
        row = table.locator(f'tr[data-vehicle-id="{vehicle["id"]}"]')
        expect(row.locator(".make")).to_have_text(vehicle["make"])
        expect(row.locator(".cell-model")).to_have_text(vehicle["model"])
        expect(row.locator(".cell-year")).to_have_text(str(vehicle["year"]))
        expect(row.locator(".cell-odometer")).to_have_text(re.compile(r"^[\d,.]+ km$"))
        expect(row.locator(".cell-locked")).to_have_text(re.compile(r"^(Locked|Unlocked)$"))
        expect(row.locator(".cell-location")).to_have_text(re.compile(r"^[\d.]+° [NS]\s+[\d.]+° [EW]$"), use_inner_text=True)
        expect(row.locator(".vehicle-id")).to_have_text(vehicle["id"])
        expect(row.get_by_role("button", name="Lock", exact=True)).to_be_visible()
    shot(page, "06-vehicles")


def test_declining_shows_the_friendly_message(running: Up, page: Page) -> None:
    page.goto(f"{running.demo}/login")
    sign_in_on_connect(page, "decliner@example.com")
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{running.demo}/exchange*")
    expect(page.get_by_role("heading", name="No vehicle was connected")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="Connect a vehicle")).to_be_visible()
    shot(page, "07-declined")
    page.goto(f"{running.demo}/vehicle")
    page.wait_for_url(f"{running.platform}/oauth/authorize*")


def test_a_forged_state_is_refused(running: Up, page: Page) -> None:
    page.goto(f"{running.demo}/login")
    page.wait_for_url(f"{running.platform}/oauth/authorize*")
    response = page.goto(f"{running.demo}/exchange?state=forged&user_id=00000000-0000-0000-0000-000000000000")
    assert response is not None and response.status == 400
    expect(page.get_by_role("heading", name="This sign-in was refused")).to_be_visible()
    shot(page, "08-refused")
    page.goto(f"{running.demo}/vehicle")
    page.wait_for_url(f"{running.platform}/oauth/authorize*")
