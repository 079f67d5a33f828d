"""The Vehicle API v2.0 (``/v2.0/...``): route glue over ``services.v2``.

Every route parses its request, calls the v2 service and renders what it answers; errors are
v3's, turned into v2's vocabulary on the way out (:class:`V2Route`). Bodies are checked after the
caller is admitted, so a bad token is a 401 whatever the body, and a refused body changes
nothing."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal, TypeVar

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from starlette.responses import Response

from ..errors import ApiError, ValidationFailed
from ..services import v2 as rules
from ..services.access import VehicleAccess
from . import v2_schemas as schemas
from .common import inline_schema, json_response, platform_of, request_id


class V2Route(APIRoute):
    """A route whose errors are answered in v2's vocabulary (``services.v2.as_v2``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def in_v2_terms(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as error:
                raise rules.as_v2(error) from None

        return in_v2_terms


router = APIRouter(prefix="/v2.0", tags=["Vehicle API v2.0"], route_class=V2Route)

Model = TypeVar("Model", bound=BaseModel)


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        # pydantic turns a ValueError into a validation problem (a TypeError would escape).
        raise ValueError("a boolean is not a number")  # noqa: TRY004
    return value


#: A number, or a string holding one (the Node SDK sends the charge limit as a string).
Number = Annotated[float, BeforeValidator(_not_a_boolean), Field(allow_inf_nan=False)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SecurityAction(_Body):
    action: Literal["LOCK", "UNLOCK"]


class ChargeAction(_Body):
    action: Literal["START", "STOP"]


class ChargeLimit(_Body):
    limit: Annotated[Number, Field(ge=0.5, le=1.0, description="0.5–1, the fraction to charge to")]


class Destination(_Body):
    latitude: Annotated[Number, Field(ge=-90, le=90)]
    longitude: Annotated[Number, Field(ge=-180, le=180)]


class BatchItem(_Body):
    path: str = Field(description="A GET path of the vehicle, e.g. /odometer (/ is the vehicle)")


class BatchRequest(_Body):
    requests: list[BatchItem] = Field(min_length=1, max_length=100)


async def _body(request: Request, model: type[Model]) -> Model:
    """The JSON body as ``model``, or one VALIDATION error per bad field."""
    try:
        body = orjson.loads(await request.body() or b"null")
    except orjson.JSONDecodeError:
        raise ValidationFailed("The request body is not valid JSON.", code="BAD_REQUEST") from None
    if not isinstance(body, dict):
        raise ValidationFailed("The request body must be a JSON object.", code="BAD_REQUEST")
    try:
        return model.model_validate(body)
    except ValidationError as invalid:
        problems: list[ApiError] = [
            ValidationFailed(
                f"{'.'.join(str(p) for p in problem['loc']) or 'body'}: {problem['msg']}",
                code="MISSING_PARAMETER" if problem["type"] == "missing" else "INVALID_INPUT_FORMAT",
                source={"pointer": "".join(f"/{p}" for p in problem["loc"])},
            )
            for problem in invalid.errors()
        ]
        first = problems[0]
        first.extra_errors = problems[1:]
        raise first from None


def _example_body(example: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a JSON body (read by hand, after the caller is admitted)."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": inline_schema(model), "example": example}}}}


def _authorization(request: Request) -> str | None:
    return request.headers.get("authorization")


async def _read(request: Request, vehicle_id: str, path: str) -> Response:
    answer = await platform_of(request).v2.read(
        _authorization(request), vehicle_id, path, request.headers.get("sc-unit-system"),
        dict(request.query_params),
    )
    return json_response(answer.body, answer.status, answer.headers)


async def _admit(request: Request, vehicle_id: str) -> VehicleAccess:
    return await platform_of(request).v2.admit(_authorization(request), vehicle_id)


async def _execute(request: Request, access: VehicleAccess, command: rules.V2Command) -> Response:
    return json_response(await platform_of(request).v2.execute(access, command))


Limit = Annotated[
    str | None, Query(description="How many to answer (at most 50)", json_schema_extra={"maximum": rules.MAX_VEHICLES_PAGE})
]
PermissionsLimit = Annotated[
    str | None, Query(description="How many to answer (at most 100)", json_schema_extra={"maximum": rules.MAX_PERMISSIONS_PAGE})
]
Offset = Annotated[str | None, Query(description="Where in the list to start, from 0")]


# --- the user and their vehicles ----------------------------------------------------------------


@router.get("/user", summary="The user of the access token", response_model=schemas.User,
            responses=schemas.ERRORS)
async def get_user(request: Request) -> Response:
    return json_response(await platform_of(request).v2.user(_authorization(request)))


@router.get("/vehicles", summary="The user's vehicles", response_model=schemas.Vehicles,
            responses=schemas.ERRORS)
async def list_vehicles(request: Request, limit: Limit = None, offset: Offset = None) -> Response:
    """The ids of the vehicles the user connected to this application, newest connection first;
    `limit` 1–50 (default 10) and `offset`."""
    return json_response(
        await platform_of(request).v2.vehicles(_authorization(request), dict(request.query_params))
    )


@router.get("/vehicles/{vehicle_id}", summary="Vehicle attributes", response_model=schemas.Attributes,
            responses=schemas.ERRORS)
async def attributes(vehicle_id: str, request: Request) -> Response:
    """Needs `read_vehicle_info`."""
    return await _read(request, vehicle_id, "")


@router.get("/vehicles/{vehicle_id}/permissions", summary="The permissions the user granted",
            response_model=schemas.Permissions, responses=schemas.ERRORS)
async def permissions(vehicle_id: str, request: Request, limit: PermissionsLimit = None, offset: Offset = None) -> Response:
    """`limit` 1–100 (default 25) and `offset`."""
    return await _read(request, vehicle_id, "permissions")


@router.delete("/vehicles/{vehicle_id}/application", summary="Disconnect the vehicle",
               response_model=schemas.Status, responses=schemas.ERRORS)
async def disconnect(vehicle_id: str, request: Request) -> Response:
    """Removes the user's connection to the vehicle, as `DELETE /v3/connections/{vehicle id}`
    does; the access token no longer opens this vehicle."""
    return json_response(await platform_of(request).v2.disconnect(_authorization(request), vehicle_id))


# --- reads --------------------------------------------------------------------------------------


def _data_read(path: str, summary: str, model: type[BaseModel], permission: str) -> None:
    """Declare ``GET /vehicles/{vehicle_id}/{path}``, a read of the vehicle's report."""

    async def read(vehicle_id: str, request: Request) -> Response:
        return await _read(request, vehicle_id, path)

    read.__doc__ = (
        f"Needs `{permission}`; 501 when the vehicle cannot report it. The same report, at the "
        "same instant, as the v3 signals. `SC-Unit-System: imperial` answers miles, gallons and psi."
    )
    router.add_api_route(
        f"/vehicles/{{vehicle_id}}/{path}", read, methods=["GET"], summary=summary,
        response_model=model, responses=schemas.DATA_ERRORS,
        operation_id=f"v2_get_{path.replace('/', '_')}", name=f"v2_{path.replace('/', '_')}",
    )


for _path, _summary, _model in (
    ("vin", "VIN", schemas.Vin),
    ("odometer", "Odometer", schemas.Odometer),
    ("location", "Location", schemas.Location),
    ("battery", "EV battery level", schemas.Battery),
    ("battery/capacity", "EV battery capacity", schemas.BatteryCapacity),
    ("battery/nominal_capacity", "EV nominal battery capacity", schemas.NominalCapacity),
    ("charge", "EV charging status", schemas.Charge),
    ("charge/limit", "EV charge limit", schemas.ChargeLimit),
    ("fuel", "Fuel tank", schemas.Fuel),
    ("engine/oil", "Engine oil life", schemas.EngineOil),
    ("tires/pressure", "Tire pressure", schemas.TirePressure),
    ("security", "Lock status", schemas.LockStatus),
    ("diagnostics/system_status", "Diagnostic system status", schemas.SystemStatus),
    ("diagnostics/dtcs", "Diagnostic trouble codes", schemas.TroubleCodes),
):
    _data_read(_path, _summary, _model, rules.DATA_ENDPOINTS[_path].permission)


@router.get("/vehicles/{vehicle_id}/service/history", summary="Service history",
            response_model=list[schemas.ServiceRecord], responses=schemas.DATA_ERRORS)
async def service_history(
    vehicle_id: str,
    request: Request,
    start_date: Annotated[str | None, Query(alias="startDate", description="YYYY-MM-DD or ISO 8601")] = None,
    end_date: Annotated[str | None, Query(alias="endDate", description="YYYY-MM-DD or ISO 8601")] = None,
) -> Response:
    """Needs `read_service_history`. Without dates, the last year's records."""
    return await _read(request, vehicle_id, "service/history")


@router.post("/vehicles/{vehicle_id}/batch", summary="Several reads in one request",
             response_model=schemas.BatchResponse, responses=schemas.ERRORS,
             openapi_extra=_example_body({"requests": [{"path": "/odometer"}, {"path": "/location"}]}, BatchRequest))
async def batch(vehicle_id: str, request: Request) -> Response:
    """Each item is answered exactly as its own GET would be, all from one report; each counts
    against the rate limits. A path the batch does not serve is that item's 400."""
    v2 = platform_of(request).v2
    access = await v2.admit(_authorization(request), vehicle_id, spend=False)
    parsed = await _body(request, BatchRequest)
    answer = await v2.batch(
        access, request.headers.get("sc-unit-system"), [item.path for item in parsed.requests],
        request_id(request),
    )
    return json_response(answer)


# --- commands -----------------------------------------------------------------------------------


@router.post("/vehicles/{vehicle_id}/security", summary="Lock or unlock", response_model=schemas.Action,
             responses=schemas.COMMAND_ERRORS, openapi_extra=_example_body({"action": "LOCK"}, SecurityAction))
async def security(vehicle_id: str, request: Request) -> Response:
    """Needs `control_security`; the same command as v3's `security/lock` and `security/unlock`."""
    access = await _admit(request, vehicle_id)
    body = await _body(request, SecurityAction)
    return await _execute(request, access, rules.security_command(lock=body.action == "LOCK"))


@router.post("/vehicles/{vehicle_id}/charge", summary="Start or stop charging", response_model=schemas.Action,
             responses=schemas.COMMAND_ERRORS, openapi_extra=_example_body({"action": "START"}, ChargeAction))
async def charge(vehicle_id: str, request: Request) -> Response:
    """Needs `control_charge`; refused as v3 refuses it (`CHARGING_PLUG_NOT_CONNECTED`, …)."""
    access = await _admit(request, vehicle_id)
    body = await _body(request, ChargeAction)
    return await _execute(request, access, rules.charge_command(start=body.action == "START"))


@router.post("/vehicles/{vehicle_id}/charge/limit", summary="Set the charge limit", response_model=schemas.Action,
             responses=schemas.COMMAND_ERRORS, openapi_extra=_example_body({"limit": 0.8}, ChargeLimit))
async def set_charge_limit(vehicle_id: str, request: Request) -> Response:
    """Needs `control_charge`; `limit` from 0.5 to 1 (a number, or a string holding one), set to
    the nearest whole percent."""
    access = await _admit(request, vehicle_id)
    body = await _body(request, ChargeLimit)
    return await _execute(request, access, rules.charge_limit_command(body.limit))


@router.post("/vehicles/{vehicle_id}/navigation/destination", summary="Send a destination",
             response_model=schemas.Action, responses=schemas.COMMAND_ERRORS,
             openapi_extra=_example_body({"latitude": 40.748817, "longitude": -73.985428}, Destination))
async def send_destination(vehicle_id: str, request: Request) -> Response:
    """Needs `control_navigation`."""
    access = await _admit(request, vehicle_id)
    body = await _body(request, Destination)
    return await _execute(request, access, rules.destination_command(body.latitude, body.longitude))
