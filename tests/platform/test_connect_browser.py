"""Connect in a real browser: the platform as a server process, driven with the system Chromium.

Each page is screenshotted into ``test-artifacts/connect/``. The application's redirect URI
(``http://localhost:8000/exchange``) is not served; the redirect is read from the answer to the
last form."""

from __future__ import annotations

import html
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from ..support.browser import MARKS, new_tab, screenshot, served_callback
from ..support.processes import answers, free_port, read_env_file, stop, wait_until

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "connect"
REDIRECT_URI = "http://localhost:8000/exchange"

pytestmark = MARKS


@dataclass
class Server:
    origin: str
    client_id: str
    client_secret: str
    owner: str
    owner_password: str
    admin_token: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``motorpool serve`` on a free port with a fresh SQLite database."""
    home = tmp_path_factory.mktemp("connect-browser")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    env_file = home / ".env"
    env = os.environ | {
        "MOTORPOOL_ENV_FILE": str(env_file),
        "MOTORPOOL_PUBLIC_URL": origin,
        "MOTORPOOL_PRINT_CREDENTIALS": "false",
    }
    env.pop("MOTORPOOL_DATABASE_URL", None)
    command = [
        sys.executable, "-m", "motorpool.cli", "serve", "--port", str(port),
        "--database-url", f"sqlite+aiosqlite:///{home / 'motorpool.db'}", "--log-level", "warning",
    ]  # fmt: skip
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(
            lambda: answers(f"{origin}/.well-known/jwks.json") and env_file.exists(),
            process, home / "server.log", "motorpool serve",
        )  # fmt: skip
        values = read_env_file(env_file)
        owners = httpx.get(
            f"{origin}/admin/owners",
            headers={"Authorization": f"Bearer {values['MOTORPOOL_ADMIN_TOKEN']}"},
        ).json()["data"]
        yield Server(
            origin,
            values["SMARTCAR_CLIENT_ID"],
            values["SMARTCAR_CLIENT_SECRET"],
            owners[0]["email"],
            values["MOTORPOOL_OWNER_PASSWORD"],
            values["MOTORPOOL_ADMIN_TOKEN"],
        )
    finally:
        stop(process)
        log.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_tab(browser, 1100, 860) as tab:
        yield tab


def authorize_url(server: Server, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": server.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read_vehicle_info required:read_odometer read_location",
        "mode": "test",
        "state": "browser state ✓",
    } | params
    return f"{server.origin}/oauth/authorize?{urlencode(query)}"


def shot(page: Page, name: str) -> None:
    screenshot(page, ARTIFACTS, name)


def redirected_to(page: Page, click: Callable[[], None]) -> dict[str, str]:
    """Click, and answer the query of the redirect the application would receive.

    The redirect target is not served, and Playwright cannot route a redirected request, so the
    form's answer itself is intercepted: it must be a 302 to the registered redirect URI."""
    seen: dict[str, str] = {}

    def answer(route: Route) -> None:
        response = route.fetch(max_redirects=0)
        seen["status"] = str(response.status)
        seen["location"] = response.headers.get("location", "")
        seen["frame"] = response.headers.get("x-frame-options", "")
        route.fulfill(
            status=200,
            content_type="text/html",
            body=f"<!doctype html><title>redirect</title><h1>Redirected to the application</h1>"
            f"<p>{html.escape(seen['location'])}</p>",
        )

    page.route("**/oauth/connect/**", answer)
    try:
        with page.expect_navigation():
            click()
    finally:
        page.unroute("**/oauth/connect/**", answer)
    assert seen["status"] == "302"
    assert seen["frame"] == "DENY"
    location = urlsplit(seen["location"])
    assert location._replace(query="").geturl() == REDIRECT_URI
    return dict(parse_qsl(location.query, keep_blank_values=True))


def test_owner_completes_connect(server: Server, page: Page) -> None:
    response = page.goto(authorize_url(server))
    assert response.status == 200
    assert response.headers["x-frame-options"] == "DENY"
    expect(page.get_by_role("heading", name="Connect your vehicle to Development application")).to_be_visible()
    expect(page.get_by_text("Read the odometer")).to_be_visible()
    shot(page, "00-preamble")

    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Select your vehicle's brand")).to_be_visible()
    shot(page, "01-brand")

    page.locator(".brand-tile").first.click()
    expect(page.get_by_label("E-mail address")).to_be_visible()
    shot(page, "02-login")

    page.get_by_label("E-mail address").fill("3-vehicles@smartcar.com")
    page.get_by_label("Password").fill("any password")
    page.get_by_role("button", name="Sign in").click()
    # One page for the vehicles and the permissions, approved at once, as on Smartcar's Connect.
    expect(page.get_by_role("heading", name="Review permissions")).to_be_visible()
    boxes = page.get_by_role("group", name="Choose vehicles to share").get_by_role("checkbox")
    expect(boxes).to_have_count(3)
    boxes.nth(2).uncheck()
    required = page.get_by_role("checkbox", name="odometer")
    expect(required).to_be_checked()
    expect(required).to_be_disabled()
    shot(page, "03-approval")

    page.get_by_role("checkbox", name="location").uncheck()
    query = redirected_to(page, page.get_by_role("button", name="Allow").click)
    assert query["state"] == "browser state ✓"
    assert query["user_id"] and query["code"]
    assert "error" not in query
    shot(page, "05-redirected")

    # The code from the browser's redirect is redeemable once, for the vehicles chosen.
    redeemed = httpx.post(
        f"{server.origin}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "code": query["code"],
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert redeemed.status_code == 200, redeemed.text
    body = redeemed.json()
    assert body["user_id"] == query["user_id"]
    assert len(body["vehicle_ids"]) == 2
    assert body["scope"].split() == ["read_vehicle_info", "read_odometer"]


#: The scope of the official Python SDK's end-to-end helper (tests/auth_helpers.py).
SDK_E2E_SCOPE = [
    "required:read_vehicle_info", "required:read_location", "required:read_odometer",
    "required:control_security", "required:read_vin", "required:read_fuel", "required:read_battery",
    "read_charge", "required:read_engine_oil", "required:read_tires", "required:read_security",
]  # fmt: skip


def register_redirect_uri(server: Server, uri: str) -> None:
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    apps = httpx.get(f"{server.origin}/admin/applications", headers=admin).json()["data"]
    application_id = next(a["id"] for a in apps if a["clientId"] == server.client_id)
    added = httpx.post(
        f"{server.origin}/admin/applications/{application_id}/redirect-uris",
        headers=admin, json={"uri": uri},
    )  # fmt: skip
    assert added.status_code == 200, added.text


@pytest.mark.parametrize(
    ("brand", "email"),
    [
        # The SDKs' default: a test account under a random e-mail (drawn once, written here,
        # so that every test worker collects the same test).
        ("CHEVROLET", "5d3c1c2e-8f1a-4c55-9d0e-2b7a6a1f4e90@email.com"),
        # Several vehicles: still no page in between. Test cars are drawn in the brand chosen,
        # and a Toyota's can share read_fuel (a Tesla's could not: no car of three would be
        # compatible with this scope).
        ("TOYOTA", "3-vehicles@smartcar.com"),
    ],
)
def test_an_sdk_end_to_end_script_walks_connect_by_its_selectors(
    server: Server, page: Page, brand: str, email: str
) -> None:
    """Connect driven the way the official SDKs' end-to-end helpers drive Smartcar's: by these
    selectors only, in this order, then waiting for the browser to land on the redirect URI."""
    with served_callback() as callback:
        register_redirect_uri(server, callback)
        query = {
            "response_type": "code", "client_id": server.client_id, "redirect_uri": callback,
            "scope": " ".join(SDK_E2E_SCOPE), "mode": "test", "approval_prompt": "force",
            "state": "e2e",
        }  # fmt: skip
        page.goto(f"{server.origin}/oauth/authorize?{urlencode(query)}")
        page.locator("button#continue-button").click()  # the preamble
        page.locator(f"button#{brand}.brand-list-item").click()  # the brand
        page.locator("#username").fill(email)  # the brand's sign-in
        page.locator("#password").fill("password")
        page.locator("#sign-in-button").click()
        page.locator("#approval-button").click()  # the permissions, and the vehicles
        page.wait_for_url(f"{callback}?*")
        shot(page, f"sdk-e2e-{brand.lower()}")

    landed = dict(parse_qsl(urlsplit(page.url).query))
    assert landed["code"] and landed["user_id"] and landed["state"] == "e2e"
    assert "error" not in landed
    redeemed = httpx.post(
        f"{server.origin}/oauth2/token",
        data={
            "grant_type": "authorization_code", "client_id": server.client_id,
            "client_secret": server.client_secret, "code": landed["code"], "redirect_uri": callback,
        },
    )  # fmt: skip
    assert redeemed.status_code == 200, redeemed.text
    body = redeemed.json()
    assert body["user_id"] == landed["user_id"]
    # The compatible vehicles start ticked: the random account's one, some of the three.
    assert 1 <= len(body["vehicle_ids"]) <= (3 if email.startswith("3-") else 1)
    granted = body["scope"].split()
    assert {p.removeprefix("required:") for p in SDK_E2E_SCOPE} <= set(granted)


def test_older_sdk_selectors_and_the_brand_search_work(server: Server, page: Page) -> None:
    """Older helpers pick the brand by ``button.brand-selector-button[data-make=…]``; the Node
    SDK's types into ``input#brand-search`` first, and waits for ``.page-content``."""
    page.goto(authorize_url(server))
    page.locator("button#continue-button").click()
    page.locator("input#brand-search").fill("kia")
    page.keyboard.press("Enter")  # a search without script: the form posts it
    expect(page.locator(".brand-list-item")).to_have_count(1)
    shot(page, "brand-search")
    page.locator('button.brand-selector-button[data-make="KIA"]').click()
    expect(page.get_by_role("heading", name="Sign in to Kia")).to_be_visible()
    page.locator("input[id=username]").fill("someone@example.com")
    page.locator("input[id=password]").fill("password")
    page.locator("button[id=sign-in-button]").click()
    page.locator(".page-content").wait_for()
    query = redirected_to(page, page.locator("button[id=approval-button]").click)
    assert query["code"] and query["user_id"]


def test_owner_declines(server: Server, page: Page) -> None:
    page.goto(authorize_url(server, state="decline-1"))
    page.get_by_role("button", name="Continue").click()
    shot(page, "decline-1-brand")
    page.locator(".brand-tile").first.click()
    page.get_by_label("E-mail address").fill("1-vehicles@smartcar.com")
    page.get_by_label("Password").fill("pw")
    shot(page, "decline-2-login")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Deny")).to_be_visible()
    shot(page, "decline-3-approval")
    query = redirected_to(page, page.get_by_role("button", name="Deny").click)
    assert query["error"] == "access_denied"
    assert query["state"] == "decline-1"
    assert "code" not in query and "user_id" not in query
    shot(page, "06-declined")


def test_incompatible_vehicle_is_shown_and_reported(server: Server, page: Page) -> None:
    vin = "1FTFW1ET5DFC10312"
    page.goto(authorize_url(server, state="incompatible"))
    page.get_by_role("button", name="Continue").click()
    page.locator(".brand-tile").first.click()
    page.get_by_label("E-mail address").fill(f"{vin}@incompatible.smartcar.com")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Not compatible")).to_be_visible()
    expect(page.get_by_role("button", name="Allow")).to_have_count(0)
    shot(page, "07-incompatible")
    query = redirected_to(
        page, page.get_by_role("button", name="Return to Development application").click
    )
    assert query["error"] == "vehicle_incompatible"
    assert query["vin"] == vin and query["state"] == "incompatible"


def test_live_owner_sees_a_wrong_password_message(server: Server, page: Page) -> None:
    page.goto(authorize_url(server, mode="live"))
    page.get_by_role("button", name="Continue").click()
    page.locator(".brand-tile").last.click()
    page.get_by_label("E-mail address").fill(server.owner)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("not correct")
    expect(page.get_by_label("E-mail address")).to_have_attribute("aria-describedby", "login-error")
    shot(page, "08-wrong-password")


def test_unregistered_redirect_uri_shows_an_error_page(server: Server, page: Page) -> None:
    response = page.goto(authorize_url(server, redirect_uri=REDIRECT_URI + "/"))
    assert response.status == 400
    expect(page.get_by_role("heading", name="Unregistered redirect URI")).to_be_visible()
    assert page.url.startswith(server.origin)
    shot(page, "09-error-page")


def test_owner_reauthenticates_and_ends_on_the_completion_page(server: Server, page: Page) -> None:
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    apps = httpx.get(f"{server.origin}/admin/applications", headers=admin).json()["data"]
    application_id = next(a["id"] for a in apps if a["clientId"] == server.client_id)
    connected = httpx.post(
        f"{server.origin}/admin/applications/{application_id}/connections",
        headers=admin,
        json={
            "email": "1-vehicles@smartcar.com",
            "mode": "test",
            "permissions": ["read_odometer", "read_location"],
        },
    )
    assert connected.status_code == 201, connected.text
    vehicle_id = connected.json()["data"]["vehicleIds"][0]
    query = urlencode(
        {"response_type": "none", "client_id": server.client_id, "vehicle_id": vehicle_id}
    )
    page.goto(f"{server.origin}/oauth/reauthenticate?{query}")
    page.get_by_label("E-mail address").fill("1-vehicles@smartcar.com")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Read the odometer")).to_be_visible()
    shot(page, "10-reauthenticate")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", name="Your vehicle is reconnected")).to_be_visible()
    shot(page, "11-reauthenticated")
