"""The Vehicle API v3 through FastAPI: connections, users and vehicles, and the OpenAPI
declarations of the signal reads (which :mod:`.signals` answers ahead of FastAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Path, Query, Request
from starlette.responses import Response

from ..services.connections import ConnectionRecord
from ..services.signals import vehicle_resource
from ..services.vocabulary import MODES
from . import schemas
from .common import json_response, platform_of, request_origin

router = APIRouter(prefix="/v3", tags=["Vehicle API"])


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def connection_resource(connection: ConnectionRecord, origin: str) -> dict[str, Any]:
    vehicle = connection.vehicle
    return {
        "id": connection.id,
        "type": "connection",
        "attributes": {
            "permissions": list(connection.permissions),
            "externalId": connection.external_id,
            "vehicle": {
                "make": vehicle.make,
                "model": vehicle.model,
                "year": vehicle.year,
                "mode": vehicle.mode,
                "powertrainType": vehicle.powertrain,
            },
        },
        "relationships": {
            "vehicle": {
                "data": {"id": vehicle.id, "type": "vehicle"},
                "links": {"related": f"{origin}/v3/vehicles/{vehicle.id}"},
            },
            "user": {"data": {"id": connection.user_id, "type": "user"}},
        },
        "meta": {"createdAt": _iso(connection.created_at), "updatedAt": _iso(connection.updated_at)},
        "links": {"self": f"{origin}/v3/connections/{connection.id}"},
    }


def connection_flat(connection: ConnectionRecord) -> dict[str, Any]:
    """The flat member the tutorial's code reads (``connections[0].vehicleId``)."""
    return {
        "id": connection.id,
        "vehicleId": connection.vehicle_id,
        "userId": connection.user_id,
        "connectedAt": _iso(connection.created_at),
        "mode": connection.mode,
        "permissions": list(connection.permissions),
        "externalId": connection.external_id,
    }


def page_links(request: Request, number: int, size: int, total: int) -> dict[str, str | None]:
    origin = request_origin(request)
    kept = [(k, v) for k, v in request.query_params.multi_items() if not k.startswith("page")]
    last = max(1, -(-total // size))

    def link(page: int) -> str:
        query = urlencode([*kept, ("page[number]", str(page)), ("page[size]", str(size))])
        return f"{origin}{request.url.path}?{query}"

    previous = link(number - 1) if number > 1 else None
    following = link(number + 1) if number < last else None
    return {
        "self": link(number),
        "first": link(1),
        "previous": previous,
        "prev": previous,
        "next": following,
        "last": link(last),
    }


PageNumber = Annotated[str | None, Query(alias="page[number]", description="Page, from 1 (alias: page)")]
PageSize = Annotated[str | None, Query(alias="page[size]", description="1–100, default 10 (alias: pageSize)")]
UserHeader = Annotated[str | None, Header(alias="sc-user-id", description="Limit to this user")]


@router.get(
    "/connections",
    summary="List connections",
    response_model=schemas.ConnectionList,
    responses=schemas.ERRORS,
)
async def list_connections(
    request: Request,
    filter_user: Annotated[str | None, Query(alias="filter[userId]")] = None,
    filter_vehicle: Annotated[str | None, Query(alias="filter[vehicleId]")] = None,
    filter_mode: Annotated[
        str | None, Query(alias="filter[vehicle.mode]", json_schema_extra={"enum": list(MODES)})
    ] = None,
    filter_external: Annotated[str | None, Query(alias="filter[user.externalId]")] = None,
    page_number: PageNumber = None,
    page_size: PageSize = None,
    sc_user_id: UserHeader = None,
) -> Response:
    """Every connection of the calling application, newest first. Carries the JSON:API
    ``data`` and the flat ``connections`` list."""
    platform = platform_of(request)
    page = await platform.connections.list(
        request.headers.get("authorization"), dict(request.query_params), sc_user_id
    )
    origin = request_origin(request)
    number, size = page.paging.number, page.paging.size
    return json_response({
        "data": [connection_resource(c, origin) for c in page.connections],
        "connections": [connection_flat(c) for c in page.connections],
        "meta": {
            "page": number,
            "pageNumber": number,
            "pageSize": size,
            "totalCount": page.total,
            "orderBy": "createdAt",
            "orderDirection": "desc",
        },
        "links": page_links(request, number, size, page.total),
    })


@router.get(
    "/connections/{connection_id}",
    summary="Get a connection",
    response_model=schemas.ConnectionSingle,
    responses=schemas.ERRORS,
)
async def get_connection(
    request: Request,
    connection_id: Annotated[str, Path(description="A connection id, or a connected vehicle's id")],
    sc_user_id: UserHeader = None,
) -> Response:
    platform = platform_of(request)
    found = await platform.connections.get(request.headers.get("authorization"), connection_id, sc_user_id)
    return json_response(
        {"data": connection_resource(found, request_origin(request)), **connection_flat(found)}
    )


@router.delete(
    "/connections/{connection_id}",
    status_code=204,
    summary="Remove a connection",
    responses=schemas.ERRORS,
)
async def delete_connection(
    request: Request,
    connection_id: Annotated[str, Path(description="A connection id, or a connected vehicle's id")],
    sc_user_id: UserHeader = None,
) -> Response:
    """Disconnects the vehicle. Addressed by vehicle id it removes the vehicle's connections to
    this application (narrowed to one user by ``sc-user-id``)."""
    await platform_of(request).connections.delete(
        request.headers.get("authorization"), connection_id, sc_user_id
    )
    return Response(status_code=204)


@router.delete("/users/{user_id}", status_code=204, summary="Remove a user", responses=schemas.ERRORS)
async def delete_user(request: Request, user_id: str) -> Response:
    """Deletes the user for this application with all their connections."""
    await platform_of(request).connections.delete_user(request.headers.get("authorization"), user_id)
    return Response(status_code=204)


# --- vehicles and signals ---------------------------------------------------------------------

SignalUserHeader = Annotated[str, Header(alias="sc-user-id", description="The user's id, from Connect")]
UnitHeader = Annotated[
    str | None, Header(alias="SC-Unit-System", description="metric (default) or imperial")
]


@router.get(
    "/vehicles/{vehicle_id}/signals",
    summary="List a vehicle's signals",
    response_model=schemas.SignalList,
    responses=schemas.SIGNAL_ERRORS,
)
async def _doc_signals(
    vehicle_id: str,
    sc_user_id: SignalUserHeader,
    unit_system: UnitHeader = None,
    page: Annotated[int | None, Query(ge=1, description="alias: page[number]")] = None,
    page_size: Annotated[int | None, Query(alias="pageSize", ge=1, le=100, description="default 100; alias: page[size]")] = None,
) -> Response:
    """Every signal of the catalogue. A signal whose permission was not granted is listed with
    ``status.value: ERROR`` and a ``PERMISSION`` error; one the vehicle cannot provide with
    ``COMPATIBILITY``/``VEHICLE_NOT_CAPABLE``. Headers ``SC-Data-Age``, ``SC-Fetched-At`` and
    ``SC-Unit-System`` tell when the data was recorded, fetched, and in which units."""
    raise AssertionError("answered by api.signals, ahead of FastAPI")


@router.get(
    "/vehicles/{vehicle_id}/signals/{code}",
    summary="Get one signal",
    response_model=schemas.SignalSingle,
    responses=schemas.SIGNAL_ERRORS,
)
async def _doc_signal(
    vehicle_id: str, code: str, sc_user_id: SignalUserHeader, unit_system: UnitHeader = None
) -> Response:
    """One signal, wrapped in ``data``. 403 when its permission was not granted, 501 when the
    vehicle cannot provide it, 404 for an unknown code."""
    raise AssertionError("answered by api.signals, ahead of FastAPI")


@router.get(
    "/vehicles/{vehicle_id}",
    summary="Get a vehicle",
    response_model=schemas.VehicleSingle,
    responses=schemas.ERRORS,
)
async def get_vehicle(request: Request, vehicle_id: str, sc_user_id: UserHeader = None) -> Response:
    """The vehicle's make, model, year, mode and powertrain: in ``data`` and at the top level.
    The vehicle must be connected to the calling application (to the ``sc-user-id`` user, when
    given)."""
    platform = platform_of(request)
    vehicle = await platform.connections.vehicle(request.headers.get("authorization"), vehicle_id, sc_user_id)
    resource = vehicle_resource(vehicle, request_origin(request))
    return json_response({"data": resource, "id": resource["id"], **resource["attributes"]})
