"""``GET /admin/vehicles/{id}``: a vehicle as the control plane sees it — what it is doing, what
waits for it, what is pinned, and every signal of its latest report (``motorpool vehicles show``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ..services.clocks import iso_ms
from ..services.inspection import VehicleView
from .admin import ADMIN_ERRORS, require_admin
from .common import json_response, platform_of

router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_admin)], responses=ADMIN_ERRORS)


def vehicle_view(view: VehicleView) -> dict[str, Any]:
    return {
        "id": view.vehicle_id, "applicationId": view.application_id, "mode": view.mode,
        "make": view.make, "model": view.model, "year": view.year, "powertrainType": view.powertrain,
        "vin": view.vin, "nickname": view.nickname, "now": iso_ms(view.now_ms),
        "reportedAt": iso_ms(view.reported_at_ms),
        "state": {
            "activity": view.activity,
            "activityEndsAt": None if view.activity_ends_ms is None else iso_ms(view.activity_ends_ms),
            "asleep": view.asleep, "online": view.online, "plugged": view.plugged, "locked": view.locked,
            "open": list(view.open_parts),
        },
        "queuedCommands": [{"id": id_, "command": command, "dueAt": iso_ms(due)} for id_, command, due in view.queued],
        "signals": [
            {"code": line.code, "body": line.body, "recordedAt": iso_ms(line.recorded_at_ms),
             "ageSeconds": round((view.now_ms - line.recorded_at_ms) / 1000, 3), "error": line.error,
             "pinned": line.pinned}
            for line in view.signals
        ],
    }  # fmt: skip


@router.get("/vehicles/{vehicle_id}", summary="A vehicle's state, plan and signals")
async def show_vehicle(request: Request, vehicle_id: str) -> Response:
    """At its application's simulated now; the signals are those of its latest report, as an
    application would read them (metric units), each with its age."""
    view = await platform_of(request).inspector.inspect(vehicle_id)
    return json_response({"data": vehicle_view(view)})
