"""Signal reads, the hottest path of the platform: bare ASGI endpoints ahead of the FastAPI app.

They read their headers straight off the ASGI scope and send the bytes and headers the signal
service rendered (once per vehicle report, for every caller that reads it). Failures are raised
as ``ApiError`` and answered by the platform's error handlers. Their OpenAPI declarations live in
:mod:`.vehicles`."""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..services.access import VehicleRequest
from ..services.signals import Rendered
from .common import AsgiEndpoint, first_headers, origin_of, scope_platform


def _vehicle_request(scope: Scope) -> tuple[VehicleRequest, str | None]:
    """The request's credentials (and the origin of its links) and its ``SC-Unit-System``."""
    authorization, user, unit, host = first_headers(
        scope, b"authorization", b"sc-user-id", b"sc-unit-system", b"host"
    )
    vehicle_id = scope["path_params"]["vehicle_id"]
    return VehicleRequest(authorization, vehicle_id, user, origin_of(scope, host)), unit


async def _send(send: Send, rendered: Rendered) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": list(rendered.raw_headers)})
    await send({"type": "http.response.body", "body": rendered.body})


async def list_signals(scope: Scope, receive: Receive, send: Send) -> None:
    request, unit = _vehicle_request(scope)
    query = scope["query_string"]
    signals = scope_platform(scope).signals
    await _send(send, await signals.read_list(request, unit, QueryParams(query) if query else None))


async def get_signal(scope: Scope, receive: Receive, send: Send) -> None:
    request, unit = _vehicle_request(scope)
    signals = scope_platform(scope).signals
    await _send(send, await signals.read_one(request, scope["path_params"]["code"], unit))


ROUTES = [
    Route("/v3/vehicles/{vehicle_id}/signals", AsgiEndpoint(list_signals), methods=["GET"]),
    Route("/v3/vehicles/{vehicle_id}/signals/{code}", AsgiEndpoint(get_signal), methods=["GET"]),
]
