"""The admin API's view of connections: every connection of an application, listed or removed
by user or vehicle, without the application's token (``motorpool connections list|delete``).
Connecting is ``POST /admin/applications/{id}/connections`` (``api/admin.py``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from ..errors import ValidationFailed
from ..services.connections import ConnectionRecord
from .admin import ADMIN_ERRORS, require_admin
from .common import json_response, platform_of
from .vehicles import connection_flat

router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_admin)], responses=ADMIN_ERRORS)
#: At most this many in one answer; a fleet's worth of connections is read through the API's pages.
MAX_LISTED = 1000


def connection_view(connection: ConnectionRecord) -> dict[str, Any]:
    vehicle = connection.vehicle
    return connection_flat(connection) | {
        "vehicle": {"make": vehicle.make, "model": vehicle.model, "year": vehicle.year},
    }


@router.get("/applications/{application_id}/connections", summary="List an application's connections")
async def list_connections(
    request: Request,
    application_id: str,
    user_id: Annotated[str | None, Query(alias="userId")] = None,
    vehicle_id: Annotated[str | None, Query(alias="vehicleId")] = None,
) -> Response:
    """Newest first, at most 1000."""
    platform = platform_of(request)
    await platform.admin.application(application_id)
    found = await platform.connections.of_application(
        application_id, user_id=user_id, vehicle_id=vehicle_id, limit=MAX_LISTED
    )
    return json_response({"data": [connection_view(c) for c in found]})


@router.delete("/applications/{application_id}/connections", summary="Disconnect a user or a vehicle")
async def delete_connections(
    request: Request,
    application_id: str,
    user_id: Annotated[str | None, Query(alias="userId")] = None,
    vehicle_id: Annotated[str | None, Query(alias="vehicleId")] = None,
) -> Response:
    """Removes the connections of a user, of a vehicle, or of that user to that vehicle; answers
    what it removed."""
    if user_id is None and vehicle_id is None:
        raise ValidationFailed("Give userId, vehicleId or both: which connections to remove.",
                               source={"parameter": "userId"})  # fmt: skip
    platform = platform_of(request)
    await platform.admin.application(application_id)
    removed = await platform.connections.remove_of_application(
        application_id, user_id=user_id, vehicle_id=vehicle_id
    )
    return json_response({"data": [connection_view(c) for c in removed]})
