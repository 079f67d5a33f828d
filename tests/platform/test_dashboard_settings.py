"""The dashboard's application settings (default Connect permissions, rate limits), its sessions
ending on the server, and the vehicle page's remaining buttons — over the real app in-process."""

from __future__ import annotations

import asyncio
import json
import re
from html import unescape
from pathlib import Path

import httpx
import pytest

from ..support.databases import SqliteTemplate
from ..support.harness import ADMIN_TOKEN, PlatformHarness, running_platform
from .test_dashboard import CSRF, signed_in


def _csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found is not None
    return unescape(found.group(1))


async def test_default_connect_permissions_are_set_from_the_application_page(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = platform.application_id
    page = await http.get(f"/dashboard/applications/{app_id}")
    assert 'name="permission" value="read_battery"' in page.text
    csrf = _csrf_of(page)
    saved = await http.post(f"/dashboard/applications/{app_id}/connect-permissions",
                            data={"csrf": csrf, "permission": ["read_battery", "read_location"]})
    assert saved.status_code == 303
    stored = await platform.admin("GET", f"/admin/applications/{app_id}/connect-permissions")
    assert stored["permissions"] == ["read_battery", "read_location"]
    assert stored["default"] is False
    # None ticked: refused beside the field, nothing changed.
    empty = await http.post(f"/dashboard/applications/{app_id}/connect-permissions", data={"csrf": csrf})
    assert empty.status_code == 400
    assert 'id="permission-error"' in empty.text and "at least one permission" in empty.text
    # A forged value is refused too, in the page, never a 500.
    forged = await http.post(f"/dashboard/applications/{app_id}/connect-permissions",
                             data={"csrf": csrf, "permission": "<script>alert(1)</script>"})
    assert forged.status_code == 400 and "<script>alert" not in forged.text
    assert "&lt;script&gt;" in forged.text
    # Back to every permission.
    every = await http.post(f"/dashboard/applications/{app_id}/connect-permissions",
                            data={"csrf": csrf, "every": "1"})
    assert every.status_code == 303
    stored = await platform.admin("GET", f"/admin/applications/{app_id}/connect-permissions")
    assert stored["default"] is True
    # Without the CSRF token: 403 and no change.
    refused = await http.post(f"/dashboard/applications/{app_id}/connect-permissions",
                              data={"permission": "read_odometer"})
    assert refused.status_code == 403
    stored = await platform.admin("GET", f"/admin/applications/{app_id}/connect-permissions")
    assert stored["default"] is True


async def test_rate_limits_are_set_and_lifted_from_the_application_page(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = platform.application_id
    path = f"/dashboard/applications/{app_id}/rate-limit"
    csrf = _csrf_of(await http.get(f"/dashboard/applications/{app_id}"))
    saved = await http.post(path, data={"csrf": csrf, "requests": "50", "refillPerMinute": "5.5",
                                        "vehicleRequestsPerMinute": "10"})
    assert saved.status_code == 303
    stored = await platform.admin("GET", f"/admin/applications/{app_id}/rate-limit")
    assert stored == {"applicationId": app_id, "enabled": True, "requests": 50,
                              "refillPerMinute": 5.5, "vehicleRequestsPerMinute": 10}
    page = await http.get(f"/dashboard/applications/{app_id}")
    assert "50 requests, refilling 5.5 per minute" in page.text

    # Each bad field is refused beside that field, keeps what was typed, and changes nothing.
    for data, field, message in (
        ({"requests": "many", "refillPerMinute": "2"}, "requests", "whole number"),
        ({"requests": "0", "refillPerMinute": "2"}, "requests", "from 1 to 1,000,000"),
        ({"requests": "10", "refillPerMinute": "nan"}, "refillPerMinute", "finite"),
        ({"requests": "10", "refillPerMinute": "-1"}, "refillPerMinute", "above 0"),
        ({"requests": "10"}, "requests", "both requests and refillPerMinute"),
        ({"vehicleRequestsPerMinute": "1e9"}, "vehicleRequestsPerMinute", "whole number"),
    ):
        answer = await http.post(path, data={"csrf": csrf, **data})
        assert answer.status_code == 400, data
        error = re.search(rf'id="{field}-error">([^<]*)<', answer.text)
        assert error is not None and message in unescape(error.group(1)), (data, answer.text[-3000:])
        assert f'value="{data.get(field, "")}"' in answer.text
    stored = await platform.admin("GET", f"/admin/applications/{app_id}/rate-limit")
    assert stored["requests"] == 50

    preset = await http.post(path, data={"csrf": csrf, "preset": "smartcar", "requests": "7"})
    assert preset.status_code == 303
    stored = await platform.admin("GET", f"/admin/applications/{app_id}/rate-limit")
    assert (stored["requests"], stored["refillPerMinute"]) == (120, 2.0)
    lifted = await http.post(path, data={"csrf": csrf, "lift": "1"})
    assert lifted.status_code == 303
    stored = await platform.admin("GET", f"/admin/applications/{app_id}/rate-limit")
    assert stored["enabled"] is False
    assert (await http.post(path, data={"requests": "5", "refillPerMinute": "1"})).status_code == 403


async def _sign_in(platform: PlatformHarness, secret: str) -> str:
    """Sign in with ``secret`` and return the session cookie's value."""
    http = httpx.AsyncClient(transport=platform.http._transport, base_url=str(platform.http.base_url))
    csrf = _csrf_of(await http.get("/dashboard/sign-in"))
    answer = await http.post("/dashboard/sign-in", data={"csrf": csrf, "secret": secret})
    assert answer.status_code == 303, answer.text
    return http.cookies["motorpool_dashboard"]


def _with_cookie(platform: PlatformHarness, cookie: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=platform.http._transport, base_url=str(platform.http.base_url),
                             cookies={"motorpool_dashboard": cookie})


async def test_a_copied_session_cookie_stops_working_after_sign_out(platform: PlatformHarness) -> None:
    cookie = await _sign_in(platform, platform.admin_token)
    browser, copy = _with_cookie(platform, cookie), _with_cookie(platform, cookie)
    page = await browser.get("/dashboard/applications")
    assert page.status_code == 200
    assert (await copy.get("/dashboard/applications")).status_code == 200
    assert (await browser.post("/dashboard/sign-out", data={"csrf": _csrf_of(page)})).status_code == 303
    # The copy still sends the old cookie: the server no longer knows the session.
    refused = await copy.get("/dashboard/applications")
    assert refused.status_code == 303 and refused.headers["location"] == "/dashboard/sign-in"
    answer = await copy.post(f"/dashboard/applications/{platform.application_id}/clock",
                             data={"csrf": _csrf_of(page), "action": "freeze"})
    assert answer.status_code == 403
    # Other sessions live on.
    other = _with_cookie(platform, await _sign_in(platform, platform.admin_token))
    assert (await other.get("/dashboard/applications")).status_code == 200


async def test_changing_the_admin_token_or_the_password_ends_sessions(
    sqlite_template: SqliteTemplate, tmp_path: Path
) -> None:
    database = await sqlite_template.copy(tmp_path / "motorpool.db")
    async with running_platform(database.url, first=database.first,
                                dashboard_password="first-password") as platform:
        by_token = await _sign_in(platform, ADMIN_TOKEN)
        by_password = await _sign_in(platform, "first-password")
    # Restarted with the same settings: the sessions live on.
    async with running_platform(database.url, dashboard_password="first-password", first=database.first) as platform:
        for cookie in (by_token, by_password):
            assert (await _with_cookie(platform, cookie).get("/dashboard/applications")).status_code == 200
    # A new password: every session ends, the new password signs in, the old one does not.
    async with running_platform(database.url, dashboard_password="second-password", first=database.first) as platform:
        for cookie in (by_token, by_password):
            assert (await _with_cookie(platform, cookie).get("/dashboard/applications")).status_code == 303
        http = httpx.AsyncClient(transport=platform.http._transport, base_url=str(platform.http.base_url))
        csrf = _csrf_of(await http.get("/dashboard/sign-in"))
        old = await http.post("/dashboard/sign-in", data={"csrf": csrf, "secret": "first-password"})
        assert old.status_code == 400
        by_password = await _sign_in(platform, "second-password")
    # A new admin token: the same.
    async with running_platform(database.url, dashboard_password="second-password", first=database.first,
                                admin_token="adm_another-token-for-the-admin-api") as platform:
        assert (await _with_cookie(platform, by_password).get("/dashboard/applications")).status_code == 303


async def test_the_vehicle_page_starts_and_stops_charging_and_locks(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = platform.application_id
    await platform.admin("PUT", f"/admin/applications/{app_id}/clock", json={"rate": 0})
    for seed in range(40):  # a car that is parked, as a user would pick one
        vehicle = await platform.admin("POST", "/admin/vehicles",
                                       json={"applicationId": app_id, "powertrainType": "BEV", "seed": seed})
        path = f"/dashboard/vehicles/{vehicle['id']}"
        page = await http.get(path)
        if 'class="status parked"' in page.text:
            break
    for label in ("Start charging", "Stop charging", "Lock", "Unlock", "Plug in", "Unplug", "Sleep", "Wake",
                  "Go offline", "Open a door", "Drive there"):
        assert f">{label}</button>" in page.text, label
    csrf = _csrf_of(page)
    await platform.admin("PUT", f"/admin/vehicles/{vehicle['id']}/signals/tractionbattery-stateofcharge",
                         json={"body": None})

    async def act(action: str) -> str | None:
        """Press a button; the notice the page then shows, if any."""
        answer = await http.post(f"{path}/actions", data={"csrf": csrf, "action": action})
        assert answer.status_code == 303
        notice = re.search(r"notice=([^&]+)", answer.headers["location"])
        return httpx.QueryParams(notice.group(0)).get("notice") if notice else None

    async def signal(code: str) -> str:
        text = (await http.get(f"{path}/signals")).text
        row = re.search(rf'data-code="{code}">.*?class="value">([^<]*)<', text, re.DOTALL)
        assert row is not None, code
        return row.group(1)

    await act("unplug")
    refused = await act("start-charging")
    assert refused is not None and refused.startswith("The charging cable is not connected.")
    assert await act("plug") is None
    assert await act("start-charging") is None
    assert 'class="status charging"' in (await http.get(path)).text
    assert await act("stop-charging") is None
    assert 'class="status parked"' in (await http.get(path)).text
    refused = await act("stop-charging")
    assert refused is not None and refused.startswith("The vehicle is not charging.")

    assert await act("lock") is None
    assert await signal("closure-islocked") == "True"
    assert await act("unlock") is None
    assert await signal("closure-islocked") == "False"
    # A car with a door open does not lock: the reason is shown, never a 500.
    assert await act("open-door") is None
    refused = await act("lock")
    assert refused is not None and "open" in refused.lower()
    assert (await http.post(f"{path}/actions", data={"action": "lock"})).status_code == 403


def _events(body: str) -> list[tuple[str, str]]:
    """(event, data) of each server-sent event in a stream's text."""
    found = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields = [line.split(": ", 1) for line in block.split("\n") if ": " in line and not line.startswith(":")]
        names = [value for key, value in fields if key == "event"]
        data = "\n".join(value for key, value in fields if key == "data")
        if names:
            found.append((names[0], data))
    return found


async def test_the_vehicle_page_streams_its_signals_as_server_sent_events(
    platform: PlatformHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from motorpool.platform.api import dashboard

    # A short stream, so the in-process client (which reads a response whole) sees it end.
    monkeypatch.setattr(dashboard, "LIVE_STREAM_S", 0.6)
    monkeypatch.setattr(dashboard, "LIVE_INTERVAL_S", 0.05)
    app_id = platform.application_id
    vehicle = await platform.admin("POST", "/admin/vehicles", json={"applicationId": app_id, "powertrainType": "BEV"})
    events_path = f"/dashboard/vehicles/{vehicle['id']}/events"
    assert (await platform.http.get(events_path)).status_code == 303  # no session, no stream

    cookie = await _sign_in(platform, platform.admin_token)
    http = _with_cookie(platform, cookie)
    page = await http.get(f"/dashboard/vehicles/{vehicle['id']}")
    assert f'data-events="{events_path}"' in page.text
    # A frozen clock: one event, then nothing until something changes.
    await platform.admin("PUT", f"/admin/applications/{app_id}/clock", json={"rate": 0})
    answer = await http.get(events_path)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    sent = _events(answer.text)
    assert [name for name, _ in sent] == ["vehicle"]
    update = json.loads(sent[0][1])
    assert update["status"] in ("parked", "asleep", "driving", "charging", "offline")
    assert 'id="signals"' in update["signals"] and 'data-code="tractionbattery-stateofcharge"' in update["signals"]
    # Signing out ends the stream of a copied cookie too.
    csrf = _csrf_of(page)
    assert (await http.post("/dashboard/sign-out", data={"csrf": csrf})).status_code == 303
    copy = _with_cookie(platform, cookie)
    assert (await copy.get(events_path)).status_code == 303
    # An unknown vehicle is a 404 in the documented error shape, not a stream.
    http = _with_cookie(platform, await _sign_in(platform, platform.admin_token))
    missing = await http.get("/dashboard/vehicles/00000000-0000-4000-8000-000000000000/events")
    assert missing.status_code == 404 and missing.json()["type"] == "RESOURCE_NOT_FOUND"


async def test_an_event_stream_ends_when_its_session_is_signed_out(
    platform: PlatformHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from motorpool.platform.api import dashboard
    from motorpool.platform.services.dashboard import DashboardSessions

    monkeypatch.setattr(dashboard, "LIVE_STREAM_S", 5.0)
    monkeypatch.setattr(dashboard, "LIVE_INTERVAL_S", 0.05)
    app_id = platform.application_id
    vehicle = await platform.admin("POST", "/admin/vehicles", json={"applicationId": app_id, "powertrainType": "BEV"})
    http = _with_cookie(platform, await _sign_in(platform, platform.admin_token))
    page = await http.get(f"/dashboard/vehicles/{vehicle['id']}")
    csrf = _csrf_of(page)
    sessions: DashboardSessions = platform.app.state.dashboard_sessions
    checks = 0
    original = DashboardSessions.nonce

    async def nonce_then_sign_out(self: DashboardSessions, cookie: str | None) -> str | None:
        # Looks 1 and 2 are the page's and the stream's request; the stream then looks once per
        # round, and its second round comes after a sign-out elsewhere.
        nonlocal checks
        checks += 1
        if checks == 4:
            answer = await _with_cookie(platform, cookie or "").post("/dashboard/sign-out", data={"csrf": csrf})
            assert answer.status_code == 303
        return await original(self, cookie)

    monkeypatch.setattr(sessions, "nonce", nonce_then_sign_out.__get__(sessions))
    started = asyncio.get_running_loop().time()
    answer = await http.get(f"/dashboard/vehicles/{vehicle['id']}/events")
    assert asyncio.get_running_loop().time() - started < 4  # ended early, not at the stream's limit
    names = [name for name, _ in _events(answer.text)]
    assert names[0] == "vehicle" and names[-1] == "signed-out"


async def test_a_snapshot_restored_never_revives_a_signed_out_session(platform: PlatformHarness) -> None:
    cookie = await _sign_in(platform, platform.admin_token)
    http = _with_cookie(platform, cookie)
    page = await http.get("/dashboard/applications")
    await platform.admin("POST", "/admin/snapshots", json={"name": "before-sign-out"})
    assert (await http.post("/dashboard/sign-out", data={"csrf": _csrf_of(page)})).status_code == 303
    await platform.admin("POST", "/admin/snapshots/before-sign-out/restore")
    assert (await _with_cookie(platform, cookie).get("/dashboard/applications")).status_code == 303
    # And a reset of the simulation does not sign anyone out.
    other = _with_cookie(platform, await _sign_in(platform, platform.admin_token))
    await platform.admin("POST", "/admin/reset")
    assert (await other.get("/dashboard/applications")).status_code == 200


async def test_the_clock_runs_accelerated_from_the_application_page(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = platform.application_id
    path = f"/dashboard/applications/{app_id}/clock"
    page = await http.get(f"/dashboard/applications/{app_id}")
    assert 'id="clock-rate"' in page.text
    csrf = _csrf_of(page)
    answer = await http.post(path, data={"csrf": csrf, "action": "rate", "rate": "60"})
    assert answer.status_code == 303
    assert (await platform.admin("GET", f"/admin/applications/{app_id}/clock"))["rate"] == 60
    assert "60" in (await http.get(f"/dashboard/applications/{app_id}")).text
    for text, message in (("fast", "must be a number"), ("", "Give a rate"), ("-2", "rate must be from 0"),
                          ("1e12", "rate must be from 0"), ("inf", "finite")):
        refused = await http.post(path, data={"csrf": csrf, "action": "rate", "rate": text})
        assert refused.status_code == 400, text
        error = re.search(r'id="rate-error">([^<]*)<', refused.text)
        assert error is not None and message in unescape(error.group(1)), (text, error)
        assert f'value="{text}"' in refused.text
    assert (await platform.admin("GET", f"/admin/applications/{app_id}/clock"))["rate"] == 60
    assert (await http.post(path, data={"action": "rate", "rate": "2"})).status_code == 403
