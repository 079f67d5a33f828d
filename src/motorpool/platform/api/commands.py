"""Vehicle API v3 commands: route glue over ``services.commands``."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..errors import ValidationFailed
from ..services import commands as command_rules
from ..sim import plans
from .common import json_response, platform_of
from .vehicles import _signal_access

router = APIRouter(prefix="/v3", tags=["Vehicle API: commands"])


async def _run(request: Request, permission: str, command_type: str, plan: command_rules.Plan,
               parameters: dict[str, Any] | None = None) -> Response:
    access = await _signal_access(request)
    command_rules.require_permission(access, permission)
    started_ms = int(time.time() * 1000)
    await command_rules.apply_plan(platform_of(request).sessions, access.vehicle_id, plan, started_ms)
    return json_response(command_rules.command_execution(command_type, started_ms, parameters))


async def _percent(request: Request) -> int:
    try:
        body = await request.json()
        percent = body["data"]["attributes"]["percent"]
    except Exception:
        percent = None
    if isinstance(percent, bool) or not isinstance(percent, int) or not 50 <= percent <= 100:
        raise ValidationFailed(
            "data.attributes.percent must be an integer from 50 to 100.",
            source={"pointer": "/data/attributes/percent"},
        )
    return percent


@router.post("/vehicles/{vehicle_id}/commands/security/lock", summary="Lock the vehicle")
async def lock(vehicle_id: str, request: Request) -> Response:
    return await _run(request, "control_security", "security-lock", partial(plans.set_locked, locked=True))


@router.post("/vehicles/{vehicle_id}/commands/security/unlock", summary="Unlock the vehicle")
async def unlock(vehicle_id: str, request: Request) -> Response:
    return await _run(request, "control_security", "security-unlock", partial(plans.set_locked, locked=False))


@router.post("/vehicles/{vehicle_id}/commands/charge/start", summary="Start charging")
async def charge_start(vehicle_id: str, request: Request) -> Response:
    return await _run(request, "control_charge", "charge-start", plans.start_charging)


@router.post("/vehicles/{vehicle_id}/commands/charge/stop", summary="Stop charging")
async def charge_stop(vehicle_id: str, request: Request) -> Response:
    return await _run(request, "control_charge", "charge-stop", plans.stop_charging)


@router.post("/vehicles/{vehicle_id}/commands/charge/set-limit", summary="Set the charge limit (50–100 %)")
async def charge_set_limit(vehicle_id: str, request: Request) -> Response:
    percent = await _percent(request)
    return await _run(request, "control_charge", "charge-set-limit",
                      partial(plans.set_charge_limit, percent=percent), {"percent": percent})
