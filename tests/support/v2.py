"""The Vehicle API v2.0 as the official SDKs call it: a user token from Connect, the vehicle's
paths below ``/v2.0/vehicles/{id}``, and the v3 reads of the same vehicle to compare with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from .api import READ_ALL
from .grants import user_grant
from .harness import PlatformHarness

#: Every permission a v2 test may need: the reads and the controls v2 has commands for.
V2_ALL = [*READ_ALL, "control_security", "control_charge", "control_navigation"]


@dataclass
class V2Vehicle:
    """A user's token and one of their vehicles, to call v2 (and v3) with."""

    platform: PlatformHarness
    token: str
    user_id: str
    vehicle_id: str
    refresh_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str = "", *, imperial: bool = False, **kwargs: Any) -> httpx.Response:
        """GET ``/v2.0/vehicles/{id}{path}`` (``path`` like ``/odometer``; empty for the vehicle)."""
        headers = {**self.headers, "sc-unit-system": "imperial" if imperial else "metric"}
        headers.update(kwargs.pop("headers", {}))
        return await self.platform.http.get(f"/v2.0/vehicles/{self.vehicle_id}{path}", headers=headers, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        """POST a JSON body to ``/v2.0/vehicles/{id}{path}``, as the SDKs send commands."""
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.platform.http.post(
            f"/v2.0/vehicles/{self.vehicle_id}{path}", headers=headers, json=body, **kwargs
        )

    async def signal(self, code: str, *, imperial: bool = False) -> dict[str, Any]:
        """The v3 signal resource of the same vehicle, read with the same user token."""
        response = await self.platform.http.get(
            f"/v3/vehicles/{self.vehicle_id}/signals/{code}",
            headers={**self.headers, "sc-unit-system": "imperial" if imperial else "metric"},
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    async def body(self, code: str, *, imperial: bool = False) -> dict[str, Any]:
        """A v3 signal's body."""
        body: dict[str, Any] = (await self.signal(code, imperial=imperial))["attributes"]["body"]
        return body


async def fleet_vehicle(
    platform: PlatformHarness, make: str = "TESLA", model: str = "Model 3", *, seed: int = 7
) -> str:
    """A new car of the application's fleet; its id."""
    vehicle = await platform.admin(
        "POST",
        "/admin/vehicles",
        json={"applicationId": platform.application_id, "make": make, "model": model, "seed": seed},
    )
    return str(vehicle["id"])


async def v2_vehicle(
    platform: PlatformHarness,
    make: str = "TESLA",
    model: str = "Model 3",
    *,
    seed: int = 7,
    permissions: list[str] | None = None,
    email: str = "owner@example.com",
    vehicle_id: str | None = None,
) -> V2Vehicle:
    """A car of the fleet (a new one unless ``vehicle_id``) shared through Connect in simulated
    mode with ``permissions`` (:data:`V2_ALL` by default, as far as the car can grant them), and
    the user token the code was exchanged for."""
    vehicle_id = vehicle_id or await fleet_vehicle(platform, make, model, seed=seed)
    wanted = permissions if permissions is not None else V2_ALL
    grant = await user_grant(
        platform, mode="simulated", email=email, vehicles=[vehicle_id], scope=" ".join(wanted),
        permissions=None if permissions is None else wanted,
    )
    assert vehicle_id in grant["vehicle_ids"], grant
    return V2Vehicle(platform, grant["access_token"], grant["user_id"], vehicle_id, grant["refresh_token"])


def assert_v2_error(response: httpx.Response, status: int, error_type: str, code: str | None = "any") -> dict[str, Any]:
    """An error answer in the shape the official SDKs parse: the flat v2 fields, the request id
    of the response, and ``code`` as v2 documents it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["type"] == error_type and body["statusCode"] == status, body
    assert body["requestId"] == response.headers["sc-request-id"]
    assert body["docURL"].startswith("https://smartcar.com/docs/") and body["description"]
    assert "type" in body["resolution"] and "error" not in body
    if code != "any":
        assert body["code"] == code, body
    return body
