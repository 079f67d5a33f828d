"""The dashboard's pages over the real app in-process: sign-in, sessions, CSRF, escaping, the
fleet table and a vehicle's controls."""

from __future__ import annotations

import asyncio
import re
from html import unescape

import httpx

from ..support.harness import PlatformHarness

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def _csrf(http: httpx.AsyncClient, path: str) -> str:
    page = await http.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None
    return unescape(found.group(1))


async def signed_in(platform: PlatformHarness) -> httpx.AsyncClient:
    """A client of its own (its own cookies) signed in with the admin token."""
    http = httpx.AsyncClient(transport=platform.http._transport, base_url=str(platform.http.base_url))
    token = await _csrf(http, "/dashboard/sign-in")
    answer = await http.post("/dashboard/sign-in", data={"csrf": token, "secret": platform.admin_token})
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard/applications"
    return http


async def test_pages_are_refused_without_a_session(platform: PlatformHarness) -> None:
    app_id = platform.application_id
    for path in ("/dashboard", "/dashboard/applications", f"/dashboard/applications/{app_id}",
                 f"/dashboard/applications/{app_id}/fleet"):
        answer = await platform.http.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/dashboard/sign-in"
    # A form without a session is refused, and nothing is created.
    answer = await platform.http.post("/dashboard/applications", data={"name": "sneaky", "csrf": "x"})
    assert answer.status_code == 403
    names = [a["name"] for a in await platform.admin("GET", "/admin/applications")]
    assert "sneaky" not in names


async def test_sign_in_sets_a_strict_http_only_cookie_and_refuses_framing(platform: PlatformHarness) -> None:
    http = httpx.AsyncClient(transport=platform.http._transport, base_url=str(platform.http.base_url))
    page = await http.get("/dashboard/sign-in")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    token = unescape(CSRF.search(page.text).group(1))  # type: ignore[union-attr]
    wrong = await http.post("/dashboard/sign-in", data={"csrf": token, "secret": "not-the-token"})
    assert wrong.status_code == 400 and "Neither the admin token" in wrong.text
    token = unescape(CSRF.search(wrong.text).group(1))  # type: ignore[union-attr]
    right = await http.post("/dashboard/sign-in", data={"csrf": token, "secret": platform.admin_token})
    session = next(c for c in right.headers.get_list("set-cookie") if c.startswith("motorpool_dashboard="))
    assert "httponly" in session.lower() and "samesite=strict" in session.lower()
    apps = await http.get("/dashboard/applications")
    assert apps.status_code == 200 and platform.client_id in apps.text
    # Signing out needs the CSRF token too; afterwards the pages are refused again.
    csrf = unescape(CSRF.search(apps.text).group(1))  # type: ignore[union-attr]
    assert (await http.post("/dashboard/sign-out", data={"csrf": "forged"})).status_code == 403
    assert (await http.post("/dashboard/sign-out", data={"csrf": csrf})).status_code == 303
    assert (await http.get("/dashboard/applications")).status_code == 303


async def test_a_wrong_csrf_token_is_403(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = platform.application_id
    for token in ("", "forged"):
        answer = await http.post(f"/dashboard/applications/{app_id}/clock",
                                 data={"csrf": token, "action": "freeze"})
        assert answer.status_code == 403
    clock = await platform.admin("GET", f"/admin/applications/{app_id}/clock")
    assert clock["rate"] != 0


async def test_a_script_in_a_nickname_shows_as_text(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = platform.application_id
    nickname = "<script>alert(1)</script>"
    vehicle = await platform.admin("POST", "/admin/vehicles",
                                   json={"applicationId": app_id, "nickname": nickname, "make": "TESLA"})
    page = await http.get(f"/dashboard/vehicles/{vehicle['id']}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    fleet = await http.get(f"/dashboard/applications/{app_id}/fleet", params={"search": "<SCRIPT"})
    assert "&lt;script&gt;" in fleet.text and "<script>alert" not in fleet.text


async def test_the_fleet_pages_by_keyset_and_filters(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    created = await platform.admin("POST", "/admin/applications", json={"name": "paging"})
    app_id = created["id"]
    await platform.admin("POST", f"/admin/applications/{app_id}/fleet", json={"count": 120, "seed": 7})
    seen: list[str] = []
    path = f"/dashboard/applications/{app_id}/fleet"
    params: dict[str, str] = {}
    for _ in range(5):
        page = await http.get(path, params=params)
        assert page.status_code == 200
        seen += re.findall(r'href="/dashboard/vehicles/([0-9a-f-]+)"', page.text)
        after = re.search(r'href="\?[^"]*after=([0-9a-f-]+)"', page.text)
        if after is None:
            break
        params = {"after": after.group(1)}
    assert len(seen) == 120 and len(set(seen)) == 120 and seen == sorted(seen)
    only_bev = await http.get(path, params={"powertrain": "BEV"})
    assert "ICE</td>" not in only_bev.text and "BEV</td>" in only_bev.text
    bad = await http.get(path, params={"status": "flying"})
    assert bad.status_code == 400 and "status must be one of" in bad.text


async def test_steering_a_car_from_its_page(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = platform.application_id
    await platform.admin("PUT", f"/admin/applications/{app_id}/clock", json={"rate": 0})
    for seed in range(40):  # a car that is parked and not full, as a user would pick one
        vehicle = await platform.admin("POST", "/admin/vehicles",
                                       json={"applicationId": app_id, "powertrainType": "BEV", "seed": seed})
        page_path = f"/dashboard/vehicles/{vehicle['id']}"
        page = await http.get(page_path)
        if 'class="status parked"' in page.text:
            break
    csrf = await _csrf(http, page_path)
    await http.post(f"{page_path}/actions", data={"csrf": csrf, "action": "unplug"})
    await platform.admin("PUT", f"/admin/vehicles/{vehicle['id']}/signals/tractionbattery-stateofcharge",
                         json={"body": None})
    answer = await http.post(f"{page_path}/actions", data={"csrf": csrf, "action": "charge"})
    assert answer.status_code == 303 and "notice" not in answer.headers["location"]
    page = await http.get(page_path)
    assert 'class="status charging"' in page.text

    def soc(text: str) -> float:
        row = re.search(r'data-code="tractionbattery-stateofcharge">.*?class="value">([^<]+)<', text, re.DOTALL)
        assert row is not None
        return float(row.group(1))

    before = soc((await http.get(f"{page_path}/signals")).text)
    step = await http.post(f"/dashboard/applications/{app_id}/clock",
                           data={"csrf": csrf, "action": "step", "by": "1h", "next": page_path})
    assert step.headers["location"] == page_path
    after = soc((await http.get(f"{page_path}/signals")).text)
    assert after > before
    # The plot of the charge climbs over the hour (SVG y grows downwards).
    page = await http.get(page_path)
    points = re.search(r'<polyline points="([^"]+)" class="soc"', page.text)
    assert points is not None
    ys = [float(pair.split(",")[1]) for pair in points.group(1).split()]
    assert len(ys) > 10 and ys[-1] < ys[0]
    assert "The last 60 minutes" in page.text
    # A trip is drawn as a line.
    await http.post(f"{page_path}/actions", data={"csrf": csrf, "action": "unplug"})
    drive = await http.post(f"{page_path}/actions", data={"csrf": csrf, "action": "drive",
                                                          "latitude": "59.40", "longitude": "18.10"})
    assert "notice" not in drive.headers["location"], unescape(drive.headers["location"])
    await http.post(f"/dashboard/applications/{app_id}/clock", data={"csrf": csrf, "action": "step", "by": "15m"})
    page = await http.get(page_path)
    track = re.search(r'class="track"[^>]*>\s*<polyline points="([^"]+)"', page.text)
    assert track is not None and len(set(track.group(1).split())) > 5
    # A refused action is shown on the page, not answered 500.
    drive = await http.post(f"{page_path}/actions", data={"csrf": csrf, "action": "drive",
                                                          "latitude": "north", "longitude": "1"})
    assert drive.status_code == 303 and "notice=" in drive.headers["location"]


async def test_creating_an_application_shows_its_secret_once(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    csrf = await _csrf(http, "/dashboard/applications")
    created = await http.post("/dashboard/applications", data={"csrf": csrf, "name": "From the dashboard"})
    assert created.status_code == 200
    secret = re.search(r'id="new-secret">([^<]+)<', created.text)
    assert secret is not None
    app_id = re.search(r"/dashboard/applications/([0-9a-f-]{36})/fleet", created.text).group(1)  # type: ignore[union-attr]
    again = await http.get(f"/dashboard/applications/{app_id}")
    assert secret.group(1) not in again.text
    token = (await platform.admin("GET", f"/admin/applications/{app_id}"))["managementToken"]
    assert token not in again.text  # shown only on demand
    shown = await http.get(f"/dashboard/applications/{app_id}", params={"token": "show"})
    assert f'id="management-token">{token}<' in shown.text


async def test_the_request_log_keeps_an_applications_requests(platform: PlatformHarness) -> None:
    app_id = platform.application_id
    headers = await platform.auth_headers()  # a token request, logged under the application
    missing = "00000000-0000-4000-8000-000000000000"
    failed = await platform.http.get(f"/v3/vehicles/{missing}", headers=headers)
    assert failed.status_code >= 400
    await platform.http.get("/v3/connections", headers=headers)
    # A request with a token that does not verify is attributed to no application.
    await platform.http.get("/v3/connections", headers={"Authorization": "Bearer forged"})
    log = await platform.admin("GET", f"/admin/applications/{app_id}/requests")
    paths = [entry["path"] for entry in log]
    assert paths[:3] == ["/v3/connections", f"/v3/vehicles/{missing}", "/oauth2/token"]
    assert len([p for p in paths if p == "/v3/connections"]) == 1
    vehicle_read = log[1]
    assert vehicle_read["vehicleId"] == missing and vehicle_read["status"] == failed.status_code
    assert '"errors"' in vehicle_read["error"] and vehicle_read["latencyMs"] >= 0
    errors = await platform.admin("GET", f"/admin/applications/{app_id}/requests", params={"status": "4xx"})
    assert [e["path"] for e in errors] == [f"/v3/vehicles/{missing}"]
    other = await platform.admin("POST", "/admin/applications", json={"name": "another"})
    assert await platform.admin("GET", f"/admin/applications/{other['id']}/requests") == []
    http = await signed_in(platform)
    page = await http.get(f"/dashboard/applications/{app_id}/requests", params={"status": "error"})
    assert page.status_code == 200 and f"/v3/vehicles/{missing}" in page.text
    assert "/v3/connections</code>" not in page.text


async def test_the_request_log_is_bounded(platform: PlatformHarness) -> None:
    from motorpool.platform.api.request_log import request_log_of

    log = request_log_of(platform.app.state)
    assert log is not None
    log.size = 5
    log._rings.clear()
    headers = await platform.auth_headers()
    for _ in range(8):
        await platform.http.get("/v3/connections", headers=headers)
    entries = await platform.admin("GET", f"/admin/applications/{platform.application_id}/requests")
    assert len(entries) == 5


async def test_the_webhooks_page_verifies_tests_and_redelivers(platform: PlatformHarness) -> None:
    from ..support.receiver import Receiver

    receiver = await Receiver(platform.management_token).start()
    try:
        hook = await platform.admin("POST", f"/admin/applications/{platform.application_id}/webhooks", json={
            "name": "<b>Trips</b>", "callbackUri": receiver.url,
            "triggers": ["odometer-traveleddistance"], "data": ["odometer-traveleddistance"],
        })  # fmt: skip
        http = await signed_in(platform)
        listing = await http.get(f"/dashboard/applications/{platform.application_id}/webhooks")
        assert "&lt;b&gt;Trips&lt;/b&gt;" in listing.text
        path = f"/dashboard/applications/{platform.application_id}/webhooks/{hook['id']}"
        csrf = await _csrf(http, path)
        verified = await http.post(f"{path}/actions", data={"csrf": csrf, "action": "verify"})
        assert "notice=Verified" in verified.headers["location"]
        tested = await http.post(f"{path}/actions", data={"csrf": csrf, "action": "test"})
        assert "queued" in unescape(tested.headers["location"])
        for _ in range(100):  # the worker sends it within moments
            page = await http.get(path)
            if "VEHICLE_STATE" in page.text:
                break
            await asyncio.sleep(0.05)
        assert "VEHICLE_STATE" in page.text and 'value="redeliver"' in page.text
        event = re.search(r'name="event" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        again = await http.post(f"{path}/actions", data={"csrf": csrf, "action": "redeliver", "event": event})
        assert "redelivery" in again.headers["location"]
        assert (await http.post(f"{path}/actions", data={"csrf": "x", "action": "test"})).status_code == 403
    finally:
        await receiver.stop()


async def test_signing_in_needs_the_forms_own_token(platform: PlatformHarness) -> None:
    # A form posted from elsewhere has no sign-in cookie, and a token of another visitor's form
    # does not fit this visitor's cookie.
    other = httpx.AsyncClient(transport=platform.http._transport, base_url=str(platform.http.base_url))
    token = await _csrf(other, "/dashboard/sign-in")
    answer = await platform.http.post("/dashboard/sign-in", data={"csrf": token, "secret": platform.admin_token})
    assert answer.status_code == 403
    mine = httpx.AsyncClient(transport=platform.http._transport, base_url=str(platform.http.base_url))
    await mine.get("/dashboard/sign-in")
    answer = await mine.post("/dashboard/sign-in", data={"csrf": token, "secret": platform.admin_token})
    assert answer.status_code == 403
