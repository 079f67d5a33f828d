"""The vehicle page's failure buttons: fail a signal, break the account, repair — each form
with its CSRF token, bad input answered beside the page, never a 500."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ..support.api import connected_vehicle, get
from ..support.harness import PlatformHarness
from .test_dashboard import _csrf, signed_in

ODOMETER = "odometer-traveleddistance"


def notice_of(answer: object) -> str:
    location = answer.headers["location"]  # type: ignore[attr-defined]
    return parse_qs(urlsplit(location).query).get("notice", [""])[0]


async def test_the_failure_buttons_break_fail_and_repair(platform: PlatformHarness) -> None:
    user_id, vehicle_id = await connected_vehicle(platform, scope=["read_odometer", "read_battery"])
    http = await signed_in(platform)
    page_path = f"/dashboard/vehicles/{vehicle_id}"
    page = await http.get(page_path)
    assert 'id="failures"' in page.text and "No signal is failing" in page.text
    assert 'value="UPSTREAM:UNKNOWN_ISSUE"' in page.text and 'value="AUTHENTICATION_FAILED"' in page.text
    csrf = await _csrf(http, page_path)
    url = f"{page_path}/failures"

    failed = await http.post(url, data={"csrf": csrf, "action": "fail-signal", "code": ODOMETER, "error": "UPSTREAM:NO_RESPONSE"})
    assert failed.status_code == 303 and notice_of(failed) == f"{ODOMETER} now fails with UPSTREAM/NO_RESPONSE."
    page = await http.get(page_path)
    assert f"<code>{ODOMETER}</code> (UPSTREAM/NO_RESPONSE)" in page.text
    listed = await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id)
    odometer = next(s for s in listed.json()["data"] if s["id"] == ODOMETER)
    assert odometer["attributes"]["status"]["error"]["code"] == "NO_RESPONSE"

    broken = await http.post(url, data={"csrf": csrf, "action": "break-account", "account_code": "AUTHENTICATION_FAILED"})
    assert "CONNECTED_SERVICES_ACCOUNT/AUTHENTICATION_FAILED" in notice_of(broken)
    assert (await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id)).status_code == 400

    one = await http.post(url, data={"csrf": csrf, "action": "repair", "code": ODOMETER})
    assert notice_of(one) == f"{ODOMETER} repaired."
    everything = await http.post(url, data={"csrf": csrf, "action": "repair", "code": ""})
    assert notice_of(everything) == "Every failure repaired."
    assert (await get(platform, f"/v3/vehicles/{vehicle_id}/signals", user_id)).status_code == 200
    assert "No signal is failing" in (await http.get(page_path)).text


async def test_failure_forms_need_csrf_and_say_what_is_wrong(platform: PlatformHarness) -> None:
    _, vehicle_id = await connected_vehicle(platform)
    http = await signed_in(platform)
    page_path = f"/dashboard/vehicles/{vehicle_id}"
    url = f"{page_path}/failures"
    forged = await http.post(url, data={"csrf": "forged", "action": "break-account"})
    assert forged.status_code == 403
    stranger = await platform.http.post(url, data={"action": "break-account"})
    assert stranger.status_code == 403
    assert (await platform.admin("GET", f"/admin/vehicles/{vehicle_id}/failures"))["account"] is None

    csrf = await _csrf(http, page_path)
    for data, says in [
        ({"action": "fail-signal", "code": ODOMETER, "error": "<script>x</script>"}, "signal error type"),
        ({"action": "fail-signal", "code": "nope", "error": ""}, "no signal"),
        ({"action": "break-account", "account_code": "WHATEVER"}, "CONNECTED_SERVICES_ACCOUNT code"),
        ({"action": "explode"}, "Unknown action"),
    ]:
        answer = await http.post(url, data={"csrf": csrf, **data})
        assert answer.status_code == 303 and says in notice_of(answer), (data, notice_of(answer))
    shown = await http.get(page_path + "?notice=" + "%3Cscript%3Ex%3C%2Fscript%3E")
    assert "<script>x</script>" not in shown.text
    missing = await http.post("/dashboard/vehicles/a0000000-0000-4000-8000-000000000000/failures",
                              data={"csrf": csrf, "action": "break-account"})  # fmt: skip
    assert missing.status_code == 303 and "No vehicle" in notice_of(missing)
