"""The SDK against the platform's simulated failures: a broken account raises
``ConnectedServicesAccountError`` saying that re-authentication is needed and where; a failing
signal is a per-signal error in a list and raises its own class when read through a view."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import motorpool

from ..support.sdk import Against

ODOMETER = "odometer-traveleddistance"


async def _broken(on: Against, path: str, **body: str) -> None:
    await on.platform.admin("POST", f"/admin/vehicles/{path}", json=body)


async def test_a_broken_account_needs_reauthentication(on: Against) -> None:
    user_id, (vehicle_id,) = await on.platform.connect(
        email="broken@example.com", vehicles=[(await on.platform.admin(
            "POST", "/admin/vehicles", json={"applicationId": on.platform.application_id, "make": "TESLA", "model": "Model 3"}
        ))["id"]], scope=["read_odometer", "read_security", "control_security"],
    )  # fmt: skip
    await _broken(on, f"{vehicle_id}/failures/account")
    me = on.client().user(user_id)
    error = await on.raises(motorpool.ConnectedServicesAccountError, lambda: me.signals.list(vehicle_id))
    assert error.status_code == 400 and error.code == "AUTHENTICATION_FAILED"
    assert error.needs_reauthentication and error.resolution_type == "REAUTHENTICATE"
    url = error.reauthentication_url
    assert url is not None and urlsplit(url).path == "/oauth/reauthenticate"
    link = error.reauthentication_link("https://app.example.com/callback", state="s1")
    assert link is not None
    query = parse_qs(urlsplit(link).query)
    assert query["vehicle_id"] == [vehicle_id] and query["redirect_uri"] == ["https://app.example.com/callback"]
    assert query["state"] == ["s1"] and query["response_type"] == ["vehicle_id"]
    locked = await on.raises(motorpool.ConnectedServicesAccountError, lambda: me.commands.lock(vehicle_id))
    assert locked.needs_reauthentication

    await _broken(on, f"{vehicle_id}/failures/repair")
    await _broken(on, f"{vehicle_id}/failures/account", code="SUBSCRIPTION")
    other = await on.raises(motorpool.ConnectedServicesAccountError, lambda: me.signals.list(vehicle_id))
    assert not other.needs_reauthentication and other.reauthentication_url is None
    assert other.reauthentication_link("https://app.example.com/callback") is None


async def test_a_failing_signal_is_its_own_error(on: Against) -> None:
    made = await on.platform.admin(
        "POST", "/admin/vehicles", json={"applicationId": on.platform.application_id, "make": "TESLA", "model": "Model 3"}
    )
    user_id, (vehicle_id,) = await on.platform.connect(
        email="flaky@example.com", vehicles=[made["id"]], scope=["read_odometer", "read_battery"]
    )
    await _broken(on, f"{vehicle_id}/failures/signals/{ODOMETER}", error="UPSTREAM:NO_RESPONSE")
    me = on.client().user(user_id)
    listing = await on.run(lambda: me.signals.list(vehicle_id))
    failed = listing[ODOMETER].error()
    assert isinstance(failed, motorpool.UpstreamError) and failed.code == "NO_RESPONSE"
    assert listing["tractionbattery-stateofcharge"].error() is None
    raised = await on.raises(motorpool.UpstreamError, lambda: me.signals.odometer(vehicle_id))
    assert raised.code == "NO_RESPONSE"
