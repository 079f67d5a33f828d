"""The Vehicle API v3: connections, users, vehicles and signals.

Signal reads are the hottest path of the platform: they are plain Starlette routes placed ahead
of FastAPI's routing and answer pre-serialised bodies from the signal service; the FastAPI
declarations further down document the same paths in OpenAPI."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Header, Path, Query, Request
from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..errors import ApiError, NotFound, ValidationFailed
from ..services import connections as connection_rules
from ..services import signals as signal_rules
from ..services.oauth import AccessClaims, authenticate_bearer
from ..services.runtime import Platform
from ..store import repo
from ..store.models import Connection
from . import schemas
from .common import error_response, json_response, platform_of
from .fastlane import AsgiEndpoint

router = APIRouter(prefix="/v3", tags=["Vehicle API"])


def _iso(moment: datetime | None) -> str | None:
    moment = repo.aware(moment)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


def authenticate(request: Request) -> AccessClaims:
    return authenticate_bearer(platform_of(request).tokens, request.headers.get("authorization"))


async def authorize(request: Request, vehicle_id: str | None = None) -> AccessClaims:
    """The caller's claims, once the application's rate limits (if any) let the request in."""
    claims = authenticate(request)
    await platform_of(request).limits.admit(claims.application_id, vehicle_id)
    return claims


def connection_resource(connection: Connection, origin: str) -> dict[str, Any]:
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


def connection_flat(connection: Connection) -> dict[str, Any]:
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
    origin = platform_of(request).settings.origin
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
    filter_mode: Annotated[str | None, Query(alias="filter[vehicle.mode]")] = None,
    filter_external: Annotated[str | None, Query(alias="filter[user.externalId]")] = None,
    page_number: PageNumber = None,
    page_size: PageSize = None,
    sc_user_id: UserHeader = None,
) -> Response:
    """Every connection of the calling application, newest first. Carries the JSON:API
    ``data`` and the flat ``connections`` list."""
    claims = await authorize(request)
    platform = platform_of(request)
    query = dict(request.query_params)
    filters = connection_rules.connection_filter(claims.application_id, query, sc_user_id)
    paging = connection_rules.parse_paging(query)
    async with platform.sessions() as session:
        rows, total = await connection_rules.list_connections(session, filters, paging)
        origin = platform.settings.origin
        body = {
            "data": [connection_resource(c, origin) for c in rows],
            "connections": [connection_flat(c) for c in rows],
            "meta": {
                "page": paging.number,
                "pageNumber": paging.number,
                "pageSize": paging.size,
                "totalCount": total,
                "orderBy": "createdAt",
                "orderDirection": "desc",
            },
            "links": page_links(request, paging.number, paging.size, total),
        }
    return json_response(body)


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
    claims = await authorize(request)
    platform = platform_of(request)
    async with platform.sessions() as session:
        found = await connection_rules.find_connection(
            session, claims.application_id, connection_id, sc_user_id
        )
        body = {
            "data": connection_resource(found[0], platform.settings.origin),
            **connection_flat(found[0]),
        }
    return json_response(body)


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
    claims = await authorize(request)
    async with platform_of(request).sessions() as session, session.begin():
        found = await connection_rules.find_connection(
            session, claims.application_id, connection_id, sc_user_id
        )
        await connection_rules.delete_connections(session, found)
    return Response(status_code=204)


@router.delete("/users/{user_id}", status_code=204, summary="Remove a user", responses=schemas.ERRORS)
async def delete_user(request: Request, user_id: str) -> Response:
    """Deletes the user for this application with all their connections."""
    claims = await authorize(request)
    async with platform_of(request).sessions() as session, session.begin():
        await connection_rules.delete_user(session, claims.application_id, user_id)
    return Response(status_code=204)


# --- vehicles and signals ---------------------------------------------------------------------


async def _vehicle_latency(platform: Platform) -> None:
    delay = platform.settings.vehicle_latency
    if delay:
        await asyncio.sleep(delay)


async def _signal_access(request: Request) -> Any:
    """The checks of every per-vehicle read and command: the bearer token, the vehicle id, the
    ``sc-user-id`` user, the rate limits, and the user's connection to the vehicle."""
    headers = request.headers
    return await _access(
        platform_of(request),
        headers.get("authorization"),
        request.path_params["vehicle_id"],
        headers.get("sc-user-id"),
    )


async def _access(platform: Platform, authorization: str | None, vehicle: str, user: str | None) -> Any:
    claims = authenticate_bearer(platform.tokens, authorization)
    vehicle_id = connection_rules.parse_uuid(vehicle, "vehicleId", parameter="vehicleId")
    if not user:
        raise ValidationFailed(
            "The sc-user-id header is required: send the user_id Connect gave your application.",
            code="MISSING_PARAMETER",
            source={"parameter": "sc-user-id"},
        )
    user_id = connection_rules.parse_uuid(user, "sc-user-id", parameter="sc-user-id")
    await platform.limits.admit(claims.application_id, vehicle_id)
    return await platform.access.get(claims.application_id, user_id, vehicle_id)


def _signal_headers(scope: Scope) -> tuple[str | None, str | None, str | None]:
    """``authorization``, ``sc-user-id`` and ``SC-Unit-System`` straight from the ASGI scope (the
    first of each, as ``Request.headers.get`` would give it, without building a Request)."""
    authorization = user = unit = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if authorization is None:
                authorization = value.decode("latin-1")
        elif name == b"sc-user-id":
            if user is None:
                user = value.decode("latin-1")
        elif name == b"sc-unit-system" and unit is None:
            unit = value.decode("latin-1")
    return authorization, user, unit


async def _signal_read(scope: Scope) -> tuple[Platform, Any, str]:
    """The platform, the caller's access to the vehicle and the unit system of a signal read."""
    platform: Platform = scope["app"].state.platform
    authorization, user, unit = _signal_headers(scope)
    access = await _access(platform, authorization, scope["path_params"]["vehicle_id"], user)
    return platform, access, signal_rules.unit_system(unit)


async def _send_rendered(send: Send, rendered: signal_rules.Rendered) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": list(rendered.raw_headers)})
    await send({"type": "http.response.body", "body": rendered.body})


async def signals_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """``GET /v3/vehicles/{id}/signals`` as a bare ASGI endpoint (the hottest read): the checks
    work on the ASGI scope directly, and a read of an unchanged report answers bytes and headers
    rendered for an earlier read."""
    try:
        platform, access, system = await _signal_read(scope)
        query = scope["query_string"]
        if query:
            paging = connection_rules.parse_paging(
                QueryParams(query), default_size=signal_rules.MAX_SIGNAL_PAGE
            )
            number, size = paging.number, paging.size
        else:
            number, size = 1, signal_rules.MAX_SIGNAL_PAGE
        await _vehicle_latency(platform)
        rendered = platform.signals.list_signals(
            access, await platform.clocks.now_ms(access.application_id), system, number, size
        )
    except ApiError as error:
        await error_response(Request(scope, receive), error)(scope, receive, send)
        return
    await _send_rendered(send, rendered)


async def signal_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    try:
        platform, access, system = await _signal_read(scope)
        await _vehicle_latency(platform)
        rendered = platform.signals.get_signal(
            access, scope["path_params"]["code"], await platform.clocks.now_ms(access.application_id), system
        )
    except ApiError as error:
        await error_response(Request(scope, receive), error)(scope, receive, send)
        return
    await _send_rendered(send, rendered)


FAST_ROUTES = [
    Route("/v3/vehicles/{vehicle_id}/signals", AsgiEndpoint(signals_endpoint), methods=["GET"]),
    Route("/v3/vehicles/{vehicle_id}/signals/{code}", AsgiEndpoint(signal_endpoint), methods=["GET"]),
]

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
    raise AssertionError("served by the fast route")


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
    raise AssertionError("served by the fast route")


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
    claims = await authorize(request)
    platform = platform_of(request)
    vehicle_id = connection_rules.parse_uuid(vehicle_id, "vehicleId", parameter="vehicleId")
    if sc_user_id is not None:
        user_id = connection_rules.parse_uuid(sc_user_id, "sc-user-id", parameter="sc-user-id")
        access = await platform.access.get(claims.application_id, user_id, vehicle_id)
        resource = platform.signals.vehicle_resource(access)
    else:
        async with platform.sessions() as session:
            found = await connection_rules.find_connection(
                session, claims.application_id, vehicle_id, None
            )
        vehicle = found[0].vehicle
        if vehicle.id != vehicle_id:
            raise NotFound(f"No vehicle with id '{vehicle_id}' is connected to this application.")
        resource = platform.signals.vehicle_resource(vehicle)
    await _vehicle_latency(platform)
    return json_response({"data": resource, "id": resource["id"], **resource["attributes"]})


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.fast_routes = [*getattr(app, "fast_routes", []), *FAST_ROUTES]
