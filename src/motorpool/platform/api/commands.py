"""Vehicle API v3 commands and charge schedules: route glue over ``services.commands``.

Bodies are checked after the caller is authenticated (so a bad token is a 401 whatever the body),
with one error per bad field, each pointing at it (``source.pointer``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import orjson
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response

from ..errors import ApiError, ValidationFailed
from ..services import commands as command_rules
from ..services.access import VehicleAccess
from . import schemas
from .common import inline_schema, json_response, platform_of, request_origin, vehicle_request

router = APIRouter(prefix="/v3", tags=["Vehicle API: commands"])

Model = TypeVar("Model", bound=BaseModel)
Number = StrictFloat  # accepts integers too, but not strings or booleans
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, local time")]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChargeLimit(_Body):
    percent: StrictInt = Field(ge=50, le=100)


class Location(_Body):
    latitude: Number = Field(ge=-90, le=90)
    longitude: Number = Field(ge=-180, le=180)


class Window(_Body):
    startTime: ClockTime
    stopTime: ClockTime


class DailySchedule(Window):
    location: Location


class WeeklySchedule(_Body):
    location: Location
    days: dict[Weekday, Window] = Field(min_length=1)


class WorkweekSchedule(_Body):
    location: Location
    weekdays: Window
    weekends: Window | None = None


def _request_body(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI for a ``{"data": {"attributes": …}}`` body (checked by hand, after auth)."""
    schema = {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "object", "required": ["attributes"],
                                "properties": {"attributes": inline_schema(model)}}},
    }
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": schema, "example": {"data": {"attributes": example}}}}}}


_EXECUTION_EXAMPLE = {
    "data": {
        "id": "exec_5c1b0f0a7e2d4c3b9a8f6e5d",
        "type": "command-execution",
        "attributes": {"commandType": "security-lock", "status": {"value": "SUCCESS"}, "executionMode": "sync"},
        "links": {"self": "http://127.0.0.1:4000/v3/vehicles/…/commands/executions/exec_5c1b0f0a7e2d4c3b9a8f6e5d"},
        "meta": {"executedAt": "2026-05-01T12:00:00.000Z", "completedAt": "2026-05-01T12:00:02.000Z",
                 "durationInSeconds": 2},
    }
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Carried out", "content": {"application/json": {"example": _EXECUTION_EXAMPLE}}},
    202: {"description": "Accepted: the vehicle is being woken; read the execution later "
                         "(`executionMode: async`, `status.value: PENDING`)"},
    **schemas.SIGNAL_ERRORS,
}


def _pointer(location: tuple[Any, ...]) -> str:
    return "/data/attributes" + "".join(f"/{part}" for part in location)


async def _attributes(request: Request, model: type[Model]) -> Model:
    """The body's ``data.attributes`` as ``model``, or one VALIDATION error per bad field."""
    try:
        body = orjson.loads(await request.body() or b"null")
    except orjson.JSONDecodeError:
        raise ValidationFailed("The request body is not valid JSON.", code="BAD_REQUEST") from None
    attributes = body.get("data", {}).get("attributes") if isinstance(body, dict) and isinstance(
        body.get("data"), dict) else None
    if not isinstance(attributes, dict):
        raise ValidationFailed(
            'The body must be {"data": {"attributes": {…}}}.',
            code="MISSING_PARAMETER", source={"pointer": "/data/attributes"},
        )
    try:
        return model.model_validate(attributes)
    except ValidationError as invalid:
        problems: list[ApiError] = [
            ValidationFailed(
                f"{'.'.join(str(p) for p in problem['loc']) or 'attributes'}: {problem['msg']}",
                code="MISSING_PARAMETER" if problem["type"] == "missing" else "INVALID_INPUT_FORMAT",
                source={"pointer": _pointer(problem["loc"])},
            )
            for problem in invalid.errors()
        ]
        first = problems[0]
        first.extra_errors = problems[1:]
        raise first from None


async def _admit(request: Request) -> VehicleAccess:
    return await platform_of(request).gate.admit(vehicle_request(request))


async def _execute(
    request: Request, access: VehicleAccess, permission: str, action: command_rules.Action
) -> Response:
    commands = platform_of(request).commands
    status, body = await commands.execute(access, permission, action, request_origin(request))
    return json_response(body, status)


async def _command(request: Request, permission: str, command_type: str) -> Response:
    access = await _admit(request)
    return await _execute(request, access, permission, command_rules.command_action(command_type))


@router.post("/vehicles/{vehicle_id}/commands/security/lock", summary="Lock the vehicle",
             responses=RESPONSES)
async def lock(vehicle_id: str, request: Request) -> Response:
    """Needs `control_security`; refused with `IN_MOTION` while the vehicle drives."""
    return await _command(request, "control_security", "security-lock")


@router.post("/vehicles/{vehicle_id}/commands/security/unlock", summary="Unlock the vehicle",
             responses=RESPONSES)
async def unlock(vehicle_id: str, request: Request) -> Response:
    """Needs `control_security`; refused with `IN_MOTION` while the vehicle drives."""
    return await _command(request, "control_security", "security-unlock")


@router.post("/vehicles/{vehicle_id}/commands/charge/start", summary="Start charging", responses=RESPONSES)
async def charge_start(vehicle_id: str, request: Request) -> Response:
    """Needs `control_charge`; refused with `CHARGING_PLUG_NOT_CONNECTED`, `CHARGING_IN_PROGRESS`
    or `FULLY_CHARGED` as the vehicle's state says."""
    return await _command(request, "control_charge", "charge-start")


@router.post("/vehicles/{vehicle_id}/commands/charge/stop", summary="Stop charging", responses=RESPONSES)
async def charge_stop(vehicle_id: str, request: Request) -> Response:
    """Needs `control_charge`; refused with `NOT_CHARGING` when the vehicle is not charging."""
    return await _command(request, "control_charge", "charge-stop")


@router.post("/vehicles/{vehicle_id}/commands/charge/set-limit", summary="Set the charge limit (50–100 %)",
             responses=RESPONSES, openapi_extra=_request_body(ChargeLimit, {"percent": 80}))
async def charge_set_limit(vehicle_id: str, request: Request) -> Response:
    access = await _admit(request)
    limit = await _attributes(request, ChargeLimit)
    action = command_rules.command_action("charge-set-limit", {"percent": limit.percent})
    return await _execute(request, access, "control_charge", action)


@router.post("/vehicles/{vehicle_id}/commands/charge-port/open", summary="Open the charge port",
             responses=RESPONSES)
async def charge_port_open(vehicle_id: str, request: Request) -> Response:
    return await _command(request, "control_charge", "charge-port-open")


@router.post("/vehicles/{vehicle_id}/commands/charge-port/close", summary="Close the charge port",
             responses=RESPONSES)
async def charge_port_close(vehicle_id: str, request: Request) -> Response:
    """Refused while the charging cable is in the port."""
    return await _command(request, "control_charge", "charge-port-close")


@router.post("/vehicles/{vehicle_id}/commands/navigation/set-destination",
             summary="Send a destination to the vehicle's navigation", responses=RESPONSES,
             openapi_extra=_request_body(Location, {"latitude": 37.7749, "longitude": -122.4194}))
async def set_destination(vehicle_id: str, request: Request) -> Response:
    access = await _admit(request)
    place = await _attributes(request, Location)
    action = command_rules.command_action(
        "navigation-set-destination", {"latitude": place.latitude, "longitude": place.longitude}
    )
    return await _execute(request, access, "control_navigation", action)


@router.get("/vehicles/{vehicle_id}/commands/executions/{execution_id}",
            summary="Read a command or charge-schedule execution", responses=RESPONSES)
async def get_execution(vehicle_id: str, execution_id: str, request: Request) -> Response:
    """The recorded result of a command or schedule change, by the `id` its answer carried. A
    `PENDING` execution (answered `202`) shows `SUCCESS` or `FAILURE` once the vehicle has
    carried it out."""
    access = await _admit(request)
    commands = platform_of(request).commands
    return json_response(await commands.execution(access, execution_id, request_origin(request)))


# --- charge schedules --------------------------------------------------------------------------


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
_WEEKEND = ("saturday", "sunday")
_ALL_DAYS = _WEEKDAYS + _WEEKEND


def _windows(parsed: BaseModel) -> list[command_rules.ChargeWindow]:
    """The charging windows a schedule body asks for, in weekday order."""
    def window(times: Window, days: tuple[str, ...]) -> command_rules.ChargeWindow:
        return command_rules.ChargeWindow(times.startTime, times.stopTime, days)

    if isinstance(parsed, DailySchedule):
        return [window(parsed, _ALL_DAYS)]
    if isinstance(parsed, WeeklySchedule):
        return [window(parsed.days[day], (day,)) for day in _ALL_DAYS if day in parsed.days]
    assert isinstance(parsed, WorkweekSchedule)
    return [window(parsed.weekdays, _WEEKDAYS)] + (
        [window(parsed.weekends, _WEEKEND)] if parsed.weekends else []
    )


async def _create_schedule(request: Request, schedule_type: str, model: type[Model]) -> Response:
    access = await _admit(request)
    parsed: Any = await _attributes(request, model)
    action = command_rules.schedule_create_action(
        schedule_type,
        parsed.model_dump(exclude_none=True),
        parsed.location.latitude,
        parsed.location.longitude,
        _windows(parsed),
    )
    return await _execute(request, access, "control_charge", action)


@router.post("/vehicles/{vehicle_id}/charge-schedules/daily", summary="Charge every day in a window at a place",
             responses=RESPONSES, openapi_extra=_request_body(DailySchedule, {
                 "location": {"latitude": 37.7749, "longitude": -122.4194}, "startTime": "01:00", "stopTime": "06:00"}))
async def schedule_daily(vehicle_id: str, request: Request) -> Response:
    """Needs `control_charge`. Only makes that accept daily schedules (Tesla, Volvo); others 501."""
    return await _create_schedule(request, "daily", DailySchedule)


@router.post("/vehicles/{vehicle_id}/charge-schedules/weekly", summary="Charge on chosen weekdays at a place",
             responses=RESPONSES, openapi_extra=_request_body(WeeklySchedule, {
                 "location": {"latitude": 37.7749, "longitude": -122.4194},
                 "days": {"monday": {"startTime": "01:00", "stopTime": "06:00"}}}))
async def schedule_weekly(vehicle_id: str, request: Request) -> Response:
    """Needs `control_charge`. Only makes that accept weekly schedules (Tesla); others 501."""
    return await _create_schedule(request, "weekly", WeeklySchedule)


@router.post("/vehicles/{vehicle_id}/charge-schedules/workweek",
             summary="Charge in one window on weekdays and another at weekends", responses=RESPONSES,
             openapi_extra=_request_body(WorkweekSchedule, {
                 "location": {"latitude": 37.7749, "longitude": -122.4194},
                 "weekdays": {"startTime": "01:00", "stopTime": "06:00"},
                 "weekends": {"startTime": "09:00", "stopTime": "12:00"}}))
async def schedule_workweek(vehicle_id: str, request: Request) -> Response:
    """Needs `control_charge`. Only makes that accept workweek schedules (Tesla); others 501."""
    return await _create_schedule(request, "workweek", WorkweekSchedule)


class _ScheduleId(Convertor[str]):
    """Routes only a schedule id: ``charge-schedules/daily`` is the path of the POST that makes
    one, so ``DELETE`` there is 405 (``Allow: POST``), not an attempt on a schedule "daily"."""

    regex = command_rules.SCHEDULE_ID_PATTERN

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("schedule_id", _ScheduleId())


@router.delete("/vehicles/{vehicle_id}/charge-schedules/{schedule_id:schedule_id}",
               summary="Remove a charge schedule", responses=RESPONSES)
async def delete_schedule(
    vehicle_id: str,
    schedule_id: Annotated[str, Path(pattern=f"^{command_rules.SCHEDULE_ID_PATTERN}$")],
    request: Request,
) -> Response:
    """Needs `control_charge`; 404 when the vehicle has no schedule with this id."""
    access = await _admit(request)
    action = command_rules.schedule_delete_action(access, schedule_id)
    return await _execute(request, access, "control_charge", action)
