"""When the platform fails, the demo says so in words, never with a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from motorpool.demo.app import DemoConfigurationError, create_app
from motorpool.demo.settings import DemoSettings

from .conftest import JSON, Demo, login_state


def api_error(status: int, type_: str, code: str, description: str, **headers: str) -> httpx.Response:
    """An error answer in the platform's wire shape (v3 ``errors[]`` plus the flat fields)."""
    body = {
        "errors": [{"status": str(status), "type": type_, "code": code, "detail": description}],
        "type": type_,
        "code": code,
        "description": description,
        "statusCode": status,
        "requestId": "req-injected",
    }
    return httpx.Response(status, json=body, headers=headers)


async def signed_in(demo: Demo) -> httpx.AsyncClient:
    browser = await demo.browser()
    page = await demo.sign_in(browser)
    assert page.status_code == 200
    return browser


def assert_readable(page: httpx.Response, status: int, *phrases: str) -> None:
    assert page.status_code == status, page.text
    assert page.headers["content-type"].startswith("text/html")
    for phrase in phrases:
        assert phrase in page.text
    assert "Traceback" not in page.text and "Internal Server Error" not in page.text


async def test_the_platform_being_unreachable(demo: Demo) -> None:
    browser = await signed_in(demo)

    def refuse(request: httpx.Request) -> None:
        raise httpx.ConnectError("connection refused", request=request)

    demo.sdk_transport.intercept = refuse
    page = await browser.get("/vehicle")
    assert_readable(page, 502, "The vehicle platform cannot be reached", "connection refused")
    as_json = await browser.get("/vehicle", headers=JSON)
    assert as_json.status_code == 502
    assert as_json.json()["error"]["code"] == "platform_unreachable"


async def test_a_server_error_of_the_platform(demo: Demo) -> None:
    browser = await signed_in(demo)
    demo.sdk_transport.intercept = lambda request: api_error(
        500, "SERVER", "INTERNAL", "The platform tripped over something."
    )
    page = await browser.get("/vehicle")
    assert_readable(page, 502, "answered with an error", "The platform tripped over something.", "req-injected")


async def test_rate_limited_by_the_platform(demo: Demo) -> None:
    browser = await signed_in(demo)
    demo.sdk_transport.intercept = lambda request: api_error(
        429, "RATE_LIMIT", "VEHICLE", "Too many requests for this vehicle.", **{"retry-after": "120"}
    )
    page = await browser.get("/vehicle")
    assert_readable(page, 429, "Too many requests for this vehicle.")
    assert page.headers["retry-after"] == "120"


async def test_one_vehicle_failing_leaves_the_others_shown(demo: Demo) -> None:
    browser = await signed_in(demo)
    fleet = await demo.admin_vehicles()
    asleep = min(fleet)

    def asleep_vehicle(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == f"/v3/vehicles/{asleep}/signals":
            return api_error(409, "VEHICLE_STATE", "ASLEEP", "The vehicle is asleep and did not answer.")
        return None

    demo.sdk_transport.intercept = asleep_vehicle
    page = await browser.get("/vehicle")
    assert page.status_code == 200
    assert "Could not read" in page.text and "The vehicle is asleep" in page.text
    vehicles = {v["id"]: v for v in (await browser.get("/vehicle", headers=JSON)).json()["vehicles"]}
    assert vehicles[asleep]["error"] == "The vehicle is asleep and did not answer."
    assert vehicles[asleep]["make"] == fleet[asleep]["make"], "what is known is still shown"
    assert all(v["error"] is None and v["odometer"] for k, v in vehicles.items() if k != asleep)


async def test_an_answer_that_is_not_json(demo: Demo) -> None:
    browser = await signed_in(demo)

    def garbage(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/v3/connections":
            return httpx.Response(200, content=b"<html>a proxy's login page</html>")
        return None

    demo.sdk_transport.intercept = garbage
    page = await browser.get("/vehicle")
    assert_readable(page, 502, "could not be understood")


@pytest.fixture
def wrong_secret(demo_settings: dict[str, Any]) -> None:
    demo_settings["client_secret"] = "scs_not-the-secret"
    demo_settings["verify_code"] = False


@pytest.mark.usefixtures("wrong_secret")
async def test_credentials_the_platform_refuses(demo: Demo) -> None:
    browser = await demo.browser()
    state = login_state(await browser.get("/login", follow_redirects=False))
    user_id, _ = await demo.platform.connect()
    page = await browser.get("/exchange", params={"state": state, "user_id": user_id})
    assert_readable(page, 502, "refused this app&#39;s credentials", "invalid_client", "SMARTCAR_CLIENT_SECRET")
    as_json = await browser.get("/vehicle", headers=JSON)
    assert as_json.status_code == 502
    assert as_json.json()["error"]["code"] == "invalid_client"


def test_the_demo_will_not_start_without_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMARTCAR_CLIENT_ID", "SMARTCAR_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(DemoConfigurationError, match="SMARTCAR_CLIENT_ID and SMARTCAR_CLIENT_SECRET"):
        create_app(DemoSettings(database_url=f"sqlite:///{tmp_path / 'demo.db'}"))


async def test_settings_come_from_the_tutorials_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same app points at the real service unless told otherwise; the environment says
    where Connect is, with the names the official SDK reads."""
    monkeypatch.setenv("SMARTCAR_CLIENT_ID", "client_from_env")
    monkeypatch.setenv("SMARTCAR_CLIENT_SECRET", "secret_from_env")
    monkeypatch.setenv("SMARTCAR_REDIRECT_URI", "http://localhost:9000/exchange")
    monkeypatch.setenv("MOTORPOOL_DEMO_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("SMARTCAR_MODE", "test")
    monkeypatch.setenv("MOTORPOOL_DEMO_SCOPE", "read_vehicle_info, read_odometer")
    for name in ("MOTORPOOL_URL", "SMARTCAR_CONNECT_ORIGIN", "MOTORPOOL_DEMO_MODE"):
        monkeypatch.delenv(name, raising=False)

    async def login_target() -> tuple[str, dict[str, str]]:
        app = create_app()
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost:9000") as browser:
                answer = await browser.get("/login")
        target = urlsplit(answer.headers["location"])
        query = dict(part.split("=", 1) for part in target.query.split("&"))
        return f"{target.scheme}://{target.netloc}{target.path}", query

    url, query = await login_target()
    assert url == "https://connect.smartcar.com/oauth/authorize"
    assert query["client_id"] == "client_from_env"
    assert query["redirect_uri"] == "http%3A%2F%2Flocalhost%3A9000%2Fexchange"
    assert query["mode"] == "test"
    assert query["scope"] == "read_vehicle_info%20read_odometer"

    monkeypatch.setenv("SMARTCAR_CONNECT_ORIGIN", "http://127.0.0.1:4999")
    assert (await login_target())[0] == "http://127.0.0.1:4999/oauth/authorize"
    monkeypatch.setenv("MOTORPOOL_URL", "http://127.0.0.1:4000")
    assert (await login_target())[0] == "http://127.0.0.1:4000/oauth/authorize"
