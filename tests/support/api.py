"""Calls the platform tests make again and again: Vehicle API reads and commands as a connected
application, the admin API's steering, clock and rate limits, and the error-body check."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from .harness import PlatformHarness

#: What a Tesla owner grants in most command tests.
CONTROL = [
    "read_vehicle_info",
    "read_battery",
    "read_charge",
    "read_security",
    "control_security",
    "control_charge",
]
#: CONTROL, and what navigation and the car's whereabouts need.
ALL_CONTROL = [*CONTROL, "control_navigation", "read_location", "read_odometer"]
#: Every read permission.
READ_ALL = [
    "read_vehicle_info", "read_odometer", "read_battery", "read_charge", "read_location",
    "read_security", "read_fuel", "read_tires", "read_vin", "read_engine_oil", "read_thermometer",
    "read_speedometer", "read_climate", "read_diagnostics", "read_service_history",
    "read_charge_records", "read_compass", "read_extended_vehicle_info", "read_user_profile",
    "read_alerts", "read_charge_locations", "read_charge_events",
]  # fmt: skip
HOME = {"latitude": 37.7749, "longitude": -122.4194}


class Administered(Protocol):
    """A platform whose admin API a test reaches: in-process (:class:`PlatformHarness`) or on a
    socket (``support.socket_platform``)."""

    @property
    def application_id(self) -> str: ...

    async def admin(self, method: str, path: str, **kwargs: Any) -> Any: ...


def ms(stamp: str) -> int:
    """Epoch milliseconds of an ISO 8601 instant (``...Z`` or with an offset)."""
    return round(datetime.fromisoformat(stamp).timestamp() * 1000)


async def connected_vehicle(
    platform: PlatformHarness,
    make: str = "TESLA",
    model: str = "Model 3",
    *,
    seed: int = 7,
    scope: list[str] | None = None,
) -> tuple[str, str]:
    """A car of the application's fleet, connected with ``scope`` (:data:`CONTROL` by default):
    the user's id and the vehicle's. A fixed seed, so that the state it starts in (plugged in,
    charging, …) is the same on every run."""
    vehicle = await platform.admin(
        "POST",
        "/admin/vehicles",
        json={"applicationId": platform.application_id, "make": make, "model": model, "seed": seed},
    )
    user_id, vehicle_ids = await platform.connect(scope=scope or CONTROL, vehicles=[vehicle["id"]])
    return user_id, vehicle_ids[0]


async def fleet(platform: PlatformHarness) -> dict[str, dict[str, Any]]:
    """The application's fleet (the first start's cars), by powertrain."""
    vehicles = await platform.admin(
        "GET", f"/admin/applications/{platform.application_id}/vehicles"
    )
    return {v["powertrainType"]: v for v in vehicles}


async def get(
    platform: PlatformHarness, path: str, user_id: str | None = None, **kwargs: Any
) -> Any:
    """A Vehicle API GET as the application (for ``user_id`` when given)."""
    headers = await platform.auth_headers(user_id)
    headers.update(kwargs.pop("headers", {}))
    return await platform.http.get(path, headers=headers, **kwargs)


async def command(
    platform: PlatformHarness,
    user_id: str,
    vehicle_id: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> Any:
    """POST ``/v3/vehicles/{vehicle_id}/commands/{path}`` for ``user_id``."""
    headers = await platform.auth_headers(user_id)
    return await platform.http.post(
        f"/v3/vehicles/{vehicle_id}/commands/{path}", headers=headers, json=body
    )


async def schedule(
    platform: PlatformHarness, user_id: str, vehicle_id: str, kind: str, attributes: dict[str, Any]
) -> Any:
    """Create a charge schedule of ``kind`` (``daily``, …) for ``user_id``."""
    headers = await platform.auth_headers(user_id)
    return await platform.http.post(
        f"/v3/vehicles/{vehicle_id}/charge-schedules/{kind}",
        headers=headers,
        json={"data": {"attributes": attributes}},
    )


async def signal_meta(
    platform: PlatformHarness, user_id: str, vehicle_id: str, code: str
) -> dict[str, Any]:
    """A signal resource, read successfully: its attributes and meta."""
    response = await get(platform, f"/v3/vehicles/{vehicle_id}/signals/{code}", user_id)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def signal(
    platform: PlatformHarness, user_id: str, vehicle_id: str, code: str
) -> dict[str, Any]:
    """A signal's body, read successfully."""
    body: dict[str, Any] = (await signal_meta(platform, user_id, vehicle_id, code))["attributes"][
        "body"
    ]
    return body


async def steer(platform: Administered, vehicle_id: str, action: str, **body: Any) -> Any:
    """Steer a simulated car through the admin API (``plug``, ``drive``, ``sleep``, …)."""
    return await platform.admin("POST", f"/admin/vehicles/{vehicle_id}/{action}", json=body)


async def clock(
    platform: Administered, method: str = "GET", path: str = "", **body: Any
) -> dict[str, Any]:
    """The application's clock: read it, or PUT/POST ``body`` to it (``path`` ``/advance``)."""
    url = f"/admin/applications/{platform.application_id}/clock{path}"
    data: dict[str, Any] = await platform.admin(
        method, url, **({"json": body} if method != "GET" else {})
    )
    return data


async def set_limit(
    platform: PlatformHarness, application_id: str | None = None, **body: Any
) -> Any:
    """PUT an application's rate limit; answers the response."""
    url = f"/admin/applications/{application_id or platform.application_id}/rate-limit"
    return await platform.http.put(url, headers=platform.admin_headers, json=body)


def assert_error(
    response: Any, status: int, error_type: str, code: str | None = "any"
) -> dict[str, Any]:
    """Check an error answer's status, type and code and its v3 and v2 shape; answer its body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["errors"][0]["status"] == str(status)
    assert body["errors"][0]["type"] == error_type
    assert body["type"] == error_type and body["statusCode"] == status
    assert body["requestId"] == response.headers["sc-request-id"]
    assert body["docURL"].startswith("https://")
    if code != "any":
        assert body["code"] == code
    return body
