"""``GET /admin/applications/{id}/requests``: the admin API's read of the request log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from .admin import ADMIN_ERRORS, require_admin
from .common import json_response, platform_of
from .request_log import request_log_of

router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_admin)], responses=ADMIN_ERRORS)


@router.get("/applications/{application_id}/requests", summary="Read an application's request log")
async def list_requests(
    request: Request,
    application_id: str,
    method: str | None = Query(default=None, description="GET, POST, …"),
    path: str | None = Query(default=None, description="Part of the path"),
    status: str | None = Query(default=None, description="A status (404), a class (4xx) or 'error'"),
    vehicle_id: str | None = Query(default=None, alias="vehicleId"),
    user_id: str | None = Query(default=None, alias="userId"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> Response:
    """The application's recent Vehicle API, Management API and token requests, newest first:
    time (epoch ms), method, path, status, latency, user, vehicle and a failure's body. Kept in
    memory, the newest ``MOTORPOOL_REQUEST_LOG_SIZE`` per application in each process."""
    await platform_of(request).admin.application(application_id)  # 404 for an unknown one
    log = request_log_of(request.app.state)
    entries = log.entries(application_id, method=method, path=path, status=status, vehicle_id=vehicle_id,
                          user_id=user_id, limit=limit) if log else []
    data: list[dict[str, Any]] = [entry.to_dict() for entry in entries]
    return json_response({"data": data})
