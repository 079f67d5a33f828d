"""The v2 Management API's connections (``/v2.0/management/connections``), as the official SDKs
call it: ``Authorization: Basic base64("default:" + AMT)``, with or without a trailing slash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from ..services.management import MAX_LIMIT, ConnectionRecord
from ..services.vocabulary import MODES
from . import schemas
from .common import json_response, platform_of
from .openapi_types import EMPTY_IS_ABSENT

router = APIRouter(prefix="/v2.0/management", tags=["Management API v2"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.ErrorBody, "description": "VALIDATION: a malformed limit, cursor or id"},
    401: {"model": schemas.ErrorBody, "description": "AUTHENTICATION: a missing or wrong management token"},
}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ManagedConnection(BaseModel):
    userId: str
    vehicleId: str
    connectedAt: str
    createdAt: str
    mode: str


class Paging(BaseModel):
    cursor: str | None


class ConnectionsPage(BaseModel):
    connections: list[ManagedConnection]
    paging: Paging
    model_config = ConfigDict(defer_build=True, json_schema_extra={"example": {
        "connections": [{
            "userId": schemas.UID, "vehicleId": schemas.VID, "connectedAt": "2026-01-01T00:00:00.000Z",
            "createdAt": "2026-01-01T00:00:00.000Z", "mode": "simulated",
        }],
        "paging": {"cursor": "MTc2NzIyNTYwMDAwMDAwMH41ZDRj…"},
    }})  # fmt: skip


class RemovedConnection(BaseModel):
    userId: str
    vehicleId: str


class RemovedConnections(BaseModel):
    connections: list[RemovedConnection]
    model_config = ConfigDict(defer_build=True)


def connection_view(connection: ConnectionRecord) -> dict[str, Any]:
    connected = _iso(connection.created_at)
    return {
        "userId": connection.user_id,
        "vehicleId": connection.vehicle_id,
        "connectedAt": connected,
        "createdAt": connected,
        "mode": connection.mode,
    }


# An empty filter or limit is taken as none given (the document says so: EMPTY_IS_ABSENT).
Limit = Annotated[
    str | None,
    Query(description="Connections per page, 1–100 (default 10)",
          json_schema_extra={"maximum": MAX_LIMIT, EMPTY_IS_ABSENT: True}),
]
Cursor = Annotated[str | None, Query(description="Where a page starts: the `paging.cursor` of the one before")]
UserId = Annotated[str | None, Query(description="Only this user's connections", json_schema_extra={EMPTY_IS_ABSENT: True})]
VehicleId = Annotated[
    str | None, Query(description="Only the connections to this vehicle", json_schema_extra={EMPTY_IS_ABSENT: True})
]
Mode = Annotated[
    str | None,
    Query(description="live, simulated or test", json_schema_extra={"enum": list(MODES), EMPTY_IS_ABSENT: True}),
]


@router.get(
    "/connections",
    summary="List the application's connections",
    response_model=ConnectionsPage,
    responses=ERRORS,
)
@router.get("/connections/", include_in_schema=False)
async def list_connections(
    request: Request,
    limit: Limit = None,
    cursor: Cursor = None,
    user_id: UserId = None,
    vehicle_id: VehicleId = None,
    mode: Mode = None,
) -> Response:
    """Every connection of the application whose management token authenticates the call,
    newest first, a page at a time: pass the answer's `paging.cursor` to read the next page
    (`null` on the last). The same connections as `GET /v3/connections`."""
    page = await platform_of(request).management.list_connections(
        request.headers.get("authorization"), request.query_params
    )
    return json_response({
        "connections": [connection_view(c) for c in page.connections],
        "paging": {"cursor": page.next_cursor},
    })


@router.delete(
    "/connections",
    summary="Remove connections by user and/or vehicle",
    response_model=RemovedConnections,
    responses=ERRORS,
)
@router.delete("/connections/", include_in_schema=False)
async def delete_connections(
    request: Request, user_id: UserId = None, vehicle_id: VehicleId = None
) -> Response:
    """Disconnects every connection of `user_id` and/or `vehicle_id` (one of them is required),
    as `DELETE /v3/connections/{id}` does one, and lists what was removed."""
    removed = await platform_of(request).management.delete_connections(
        request.headers.get("authorization"), request.query_params
    )
    return json_response({
        "connections": [{"userId": c.user_id, "vehicleId": c.vehicle_id} for c in removed]
    })
