"""A small application built on motorpool's SDK: it tells a driver whether their car needs a
charge, and keeps the low-battery alerts that Smartcar's webhooks bring.

It knows nothing of motorpool's platform: the same code runs against Smartcar itself. Its tests
(``test_app.py``) run it against a real motorpool platform with the ``motorpool_platform``
fixture."""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, HTTPException, Request

import motorpool

#: Below this state of charge (percent) a car needs a charge.
LOW = 20.0


def create_app(client: motorpool.Client, management_token: str) -> FastAPI:
    app = FastAPI(title="battery app")
    alerts: list[dict[str, Any]] = []

    @app.get("/users/{user_id}/vehicles/{vehicle_id}/battery")
    def battery(user_id: str, vehicle_id: str) -> dict[str, Any]:
        try:
            charge = client.user(user_id).signals.state_of_charge(vehicle_id)
        except motorpool.ApiError as error:  # the message reads TYPE:CODE - description
            raise HTTPException(error.status_code or 502, str(error)) from None
        return {"percent": charge.percent, "needsCharge": charge.percent < LOW}

    @app.post("/webhooks/smartcar")
    async def webhook(request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            event = motorpool.construct_event(raw, request.headers.get("SC-Signature"), management_token)
        except motorpool.SignatureVerificationError:
            raise HTTPException(401, "bad signature") from None
        if isinstance(event, motorpool.VerifyEvent):
            return event.respond(management_token)
        if isinstance(event, motorpool.VehicleStateEvent):
            signal = event.signal("tractionbattery-stateofcharge")
            value = (signal.body or {}).get("value") if signal is not None else None
            if isinstance(value, int | float) and value < LOW:
                alerts.append({"vehicleId": event.vehicle_id, "percent": value})
        return {"ok": True}

    @app.get("/alerts")
    def list_alerts() -> list[dict[str, Any]]:
        return alerts

    return app


def app_from_environment() -> FastAPI:
    """``uvicorn --factory battery:app_from_environment``, configured as the tutorial's apps are."""
    client = motorpool.Client(
        os.environ["SMARTCAR_CLIENT_ID"],
        os.environ["SMARTCAR_CLIENT_SECRET"],
        base_url=os.environ.get("MOTORPOOL_URL"),  # unset: Smartcar's own hosts
    )
    return create_app(client, os.environ["APPLICATION_MANAGEMENT_TOKEN"])
