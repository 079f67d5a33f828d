"""The Vehicle API v2.0: the services and the simulated state of v3, rendered in v2's shapes.

v2 is called with a user token (a Connect code exchanged at ``/oauth/token``); the user is the
token's. Reads come from the very report v3's signal reads see (``SignalService.readings``, at
the same snapshot instant and in the same units) and are mapped here to v2's bodies: percentages
become 0–1 fractions, and each endpoint gathers the signals it answers from. Commands are v3's
actions carried out by ``CommandService``, with the same state guards and refusals. Errors are
v3's, spoken in v2's vocabulary (:func:`as_v2`).

v2 has no asynchronous commands: a command that must wait for a sleeping car to be woken is
queued exactly as v3 queues it, and v2 answers ``success`` with the documented message
"Successfully sent request to vehicle" — which is what happened. Its effect shows in reads (of
either version) from the instant the woken car carries it out; if the car's state by then
refuses it, the refusal is recorded on the execution v3 reads."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl

from ..errors import (
    ApiError,
    AuthenticationError,
    Incompatible,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VehicleStateError,
)
from ..sim.failures import REAUTHENTICATE_CODES
from ..sim.state import JsonObject
from .access import VehicleAccess, VehicleGate
from .clocks import ClockBook, iso_ms
from .commands import Action, CommandService, command_action
from .connections import ConnectionService
from .oauth import AccessClaims
from .params import MAX_OFFSET, parse_uuid
from .signals import Readings, SignalService, unit_system

#: What v2 answers a command it carried out or sent on to the vehicle.
COMMAND_SENT = {"status": "success", "message": "Successfully sent request to vehicle"}
DISCONNECTED = {"status": "success"}

MAX_VEHICLES_PAGE = 50
DEFAULT_VEHICLES_PAGE = 10
MAX_PERMISSIONS_PAGE = 100
DEFAULT_PERMISSIONS_PAGE = 25

#: The AUTHENTICATION description of v2's documentation, for a token that opens nothing here.
NOT_AUTHENTICATED = (
    "The authorization header is missing or malformed, or it contains invalid or expired "
    "authentication credentials. Please check for missing parameters, spelling and casing "
    "mistakes, and other syntax issues."
)
NOT_THIS_VEHICLE = (
    "This access token does not grant access to vehicle '{vehicle_id}': the user has no "
    "connection to it (never made, or disconnected). GET /v2.0/vehicles lists the vehicles it opens."
)


# --- errors in v2's vocabulary ------------------------------------------------------------------

#: v3 validation codes and their v2 counterparts (v2 knows ``null``, malformed, and ``PARAMETER``).
_V2_VALIDATION_CODES = {"BAD_REQUEST": None, "INVALID_INPUT_FORMAT": "PARAMETER", "MISSING_PARAMETER": "PARAMETER"}


def as_v2(error: ApiError) -> ApiError:
    """The error as v2 documents it: AUTHENTICATION has no code, VALIDATION is ``null``
    (malformed) or ``PARAMETER`` and lists every problem in ``detail``; the rest is shared."""
    for problem in (error, *error.extra_errors):
        if problem.type == "AUTHENTICATION":
            problem.code = None
        elif problem.type == "VALIDATION" and problem.code is not None:
            problem.code = _V2_VALIDATION_CODES.get(problem.code, problem.code)
        problem.lists_detail = True
    return error


def _signal_error(code: str, error: tuple[str, str | None]) -> ApiError:
    """A signal's error, as the error of a v2 read that needs it."""
    error_type, error_code = error
    if error_type == "COMPATIBILITY":
        return Incompatible(f"This vehicle cannot provide '{code}'.", code=error_code)
    if error_type == "VEHICLE_STATE":
        return VehicleStateError(
            "The vehicle did not answer; try again once it is reachable.",
            code=error_code,
            resolution="RETRY_LATER",
        )
    if error_type == "PERMISSION":
        return PermissionDenied(f"Reading '{code}' needs a permission the owner did not grant.", code=error_code)
    # UPSTREAM (502) and CONNECTED_SERVICES_ACCOUNT (400): a signal failing on its own.
    status, resolution = _SIGNAL_FAILURE_STATUS.get(error_type, (502, None))
    if error_type == "CONNECTED_SERVICES_ACCOUNT" and error_code not in REAUTHENTICATE_CODES:
        resolution = None
    failure = ApiError(
        f"'{code}' could not be read from the vehicle.", code=error_code, status=status, resolution=resolution
    )
    failure.type = error_type
    return failure


#: The HTTP status and resolution of a failing signal's error, by type (smartcar-v3.md §10.3).
_SIGNAL_FAILURE_STATUS: dict[str, tuple[int, str | None]] = {
    "UPSTREAM": (502, "RETRY_LATER"),
    "CONNECTED_SERVICES_ACCOUNT": (400, "REAUTHENTICATE"),
}


# --- the answers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class V2Answer:
    """What one v2 call answers: its status, its JSON body and its own headers (a batch item
    carries the same)."""

    status: int
    body: Any
    headers: dict[str, str]


def _fraction(percent: Any) -> float:
    """A percentage of v3 as v2's 0–1 fraction, without binary noise (75.3 → 0.753)."""
    return round(float(percent) / 100.0, 6)


def _value(body: JsonObject) -> Any:
    return body["value"]


Bodies = Mapping[str, JsonObject]


@dataclass(frozen=True, slots=True)
class DataEndpoint:
    """A v2 read served from the vehicle's report."""

    permission: str
    #: Signals the answer cannot do without: 501 when the vehicle cannot report one.
    required: tuple[str, ...]
    #: Signals the answer shows when the vehicle reports them.
    optional: tuple[str, ...]
    render: Callable[[Bodies], Any]


_DOOR_ROWS = ("front", "back")
_SIDES = ("Left", "Right")


def _place(row: Any, column: Any) -> str:
    """A door's or window's v2 ``type``: ``frontLeft``, ``backRight``…"""
    row_name = _DOOR_ROWS[row] if isinstance(row, int) and row < len(_DOOR_ROWS) else f"row{row}"
    side = _SIDES[column] if isinstance(column, int) and column < len(_SIDES) else f"Column{column}"
    return row_name + side


def _opened(is_open: Any) -> str:
    return "OPEN" if is_open else "CLOSED"


def _lock_status(bodies: Bodies) -> dict[str, Any]:
    def places(code: str) -> list[dict[str, str]]:
        body = bodies.get(code)
        if body is None:
            return []
        entries: list[Any] = body.get("values") or []  # type: ignore[assignment]
        return [{"type": _place(e["row"], e["column"]), "status": _opened(e["isOpen"])} for e in entries]

    storage = []
    for code, name in (("closure-reartrunk", "rear"), ("closure-tailgate", "rear"), ("closure-fronttrunk", "front")):
        body = bodies.get(code)
        if body is not None:
            storage.append({"type": name, "status": _opened(body.get("isOpen"))})
    sunroof = bodies.get("closure-sunroof")
    port = bodies.get("charge-ischargingportflapopen")
    return {
        "isLocked": _value(bodies["closure-islocked"]),
        "doors": places("closure-doors"),
        "windows": places("closure-windows"),
        "sunroof": [] if sunroof is None else [{"type": "sunroof", "status": _opened(sunroof.get("isOpen"))}],
        "storage": storage,
        "chargingPort": [] if port is None else [{"type": "chargingPort", "status": _opened(_value(port))}],
    }


def _charge_limit(bodies: Bodies) -> dict[str, Any]:
    body = bodies["charge-chargelimits"]
    entries: list[Any] = body.get("values") or []  # type: ignore[assignment]
    limit = next((e["limit"] for e in entries if e.get("type") == "GLOBAL"), body.get("activeLimit"))
    return {"limit": None if limit is None else _fraction(limit)}


def _tires(bodies: Bodies) -> dict[str, Any]:
    pressures = {
        _place(e["row"], e["column"]): e["tirePressure"]
        for e in bodies["wheel-tires"]["values"]  # type: ignore[union-attr]
        if isinstance(e, dict)
    }
    return {name: pressures.get(name) for name in ("frontLeft", "frontRight", "backLeft", "backRight")}


def _nominal_capacity(bodies: Bodies) -> dict[str, Any]:
    body = bodies["tractionbattery-nominalcapacity"]
    capacity = body.get("capacity")
    return {
        "availableCapacities": [
            {"capacity": c["capacity"], "description": c.get("description")}
            for c in body.get("availableCapacities") or []  # type: ignore[union-attr]
            if isinstance(c, dict)
        ],
        "capacity": None if capacity is None else {"nominal": capacity, "source": body.get("source")},
        "url": None,  # the capacity is known: there is nothing for the owner to choose
    }


#: The diagnostics-* system signals and v2's ``systemId`` for each.
SYSTEM_IDS: dict[str, str] = {
    "diagnostics-abs": "SYSTEM_ABS",
    "diagnostics-activesafety": "SYSTEM_ACTIVE_SAFETY",
    "diagnostics-airbag": "SYSTEM_AIRBAG",
    "diagnostics-brakefluid": "SYSTEM_BRAKE_FLUID",
    "diagnostics-driverassistance": "SYSTEM_DRIVER_ASSISTANCE",
    "diagnostics-evbatteryconditioning": "SYSTEM_EV_BATTERY_CONDITIONING",
    "diagnostics-evcharging": "SYSTEM_EV_CHARGING",
    "diagnostics-evdriveunit": "SYSTEM_EV_DRIVE_UNIT",
    "diagnostics-evhvbattery": "SYSTEM_EV_HV_BATTERY",
    "diagnostics-emissions": "SYSTEM_EMISSIONS",
    "diagnostics-lighting": "SYSTEM_LIGHTING",
    "diagnostics-mil": "SYSTEM_MIL",
    "diagnostics-oillife": "SYSTEM_OIL_LIFE",
    "diagnostics-oilpressure": "SYSTEM_OIL_PRESSURE",
    "diagnostics-oiltemperature": "SYSTEM_OIL_TEMPERATURE",
    "diagnostics-telematics": "SYSTEM_TELEMATICS",
    "diagnostics-tirepressure": "SYSTEM_TIRE_PRESSURE",
    "diagnostics-tirepressuremonitoring": "SYSTEM_TPMS",
    "diagnostics-transmission": "SYSTEM_TRANSMISSION",
    "diagnostics-washerfluid": "SYSTEM_WASHER_FLUID",
    "diagnostics-waterinfuel": "SYSTEM_WATER_IN_FUEL",
}


def _system_status(bodies: Bodies) -> dict[str, Any]:
    return {
        "systems": [
            {"systemId": system, "status": body.get("status"), "description": body.get("description")}
            for code, system in SYSTEM_IDS.items()
            if (body := bodies.get(code)) is not None
        ]
    }


def _service_record(record: Any) -> dict[str, Any]:
    cost = record.get("cost") or {}
    odometer = record.get("odometer")
    return {
        "serviceId": record.get("id"),
        "serviceDate": record.get("time"),
        "odometerDistance": odometer.get("value") if isinstance(odometer, dict) else odometer,
        "serviceTasks": [
            {"taskId": task.get("id"), "taskDescription": task.get("description")}
            for task in record.get("tasks") or []
        ],
        "serviceDetails": [
            {"type": "dealership", "value": detail.get("description")} for detail in record.get("details") or []
        ],
        "serviceCost": {"totalCost": cost.get("amount"), "currency": cost.get("currency")},
    }


def _service_history(bodies: Bodies) -> list[dict[str, Any]]:
    return [_service_record(r) for r in bodies["service-records"].get("values") or []]  # type: ignore[union-attr]


DATA_ENDPOINTS: dict[str, DataEndpoint] = {
    "vin": DataEndpoint(
        "read_vin", ("vehicleidentification-vin",), (),
        lambda b: {"vin": _value(b["vehicleidentification-vin"])},
    ),
    "odometer": DataEndpoint(
        "read_odometer", ("odometer-traveleddistance",), (),
        lambda b: {"distance": _value(b["odometer-traveleddistance"])},
    ),
    "location": DataEndpoint(
        "read_location", ("location-preciselocation",), (),
        lambda b: {
            "latitude": b["location-preciselocation"]["latitude"],
            "longitude": b["location-preciselocation"]["longitude"],
        },
    ),
    "battery": DataEndpoint(
        "read_battery", ("tractionbattery-stateofcharge", "tractionbattery-range"), (),
        lambda b: {
            "percentRemaining": _fraction(_value(b["tractionbattery-stateofcharge"])),
            "range": _value(b["tractionbattery-range"]),
        },
    ),
    "battery/capacity": DataEndpoint(
        "read_battery", ("tractionbattery-nominalcapacity",), (),
        lambda b: {"capacity": b["tractionbattery-nominalcapacity"]["capacity"]},
    ),
    "battery/nominal_capacity": DataEndpoint(
        "read_battery", ("tractionbattery-nominalcapacity",), (), _nominal_capacity,
    ),
    "charge": DataEndpoint(
        "read_charge", ("charge-ischargingcableconnected", "charge-detailedchargingstatus"), (),
        lambda b: {
            "isPluggedIn": _value(b["charge-ischargingcableconnected"]),
            "state": _value(b["charge-detailedchargingstatus"]),
        },
    ),
    "charge/limit": DataEndpoint("read_charge", ("charge-chargelimits",), (), _charge_limit),
    "fuel": DataEndpoint(
        "read_fuel",
        ("internalcombustionengine-range", "internalcombustionengine-fuellevel",
         "internalcombustionengine-amountremaining"),
        (),
        lambda b: {
            "range": _value(b["internalcombustionengine-range"]),
            "percentRemaining": _fraction(_value(b["internalcombustionengine-fuellevel"])),
            "amountRemaining": _value(b["internalcombustionengine-amountremaining"]),
        },
    ),
    "engine/oil": DataEndpoint(
        "read_engine_oil", ("internalcombustionengine-oillife",), (),
        lambda b: {"lifeRemaining": _fraction(_value(b["internalcombustionengine-oillife"]))},
    ),
    "tires/pressure": DataEndpoint("read_tires", ("wheel-tires",), (), _tires),
    "security": DataEndpoint(
        "read_security",
        ("closure-islocked",),
        ("closure-doors", "closure-windows", "closure-sunroof", "closure-reartrunk", "closure-tailgate",
         "closure-fronttrunk", "charge-ischargingportflapopen"),
        _lock_status,
    ),
    "diagnostics/system_status": DataEndpoint("read_diagnostics", (), tuple(SYSTEM_IDS), _system_status),
    "diagnostics/dtcs": DataEndpoint(
        "read_diagnostics", ("diagnostics-dtclist",), (),
        lambda b: {"activeCodes": [
            {"code": e["code"], "timestamp": e.get("timestamp")}
            for e in b["diagnostics-dtclist"].get("values") or []  # type: ignore[union-attr]
            if isinstance(e, dict)
        ]},
    ),
    "service/history": DataEndpoint("read_service_history", ("service-records",), (), _service_history),
}

#: Every v2 read of one vehicle, by its path below ``/v2.0/vehicles/{id}/`` ("" is the vehicle
#: itself): what a batch may ask for.
READ_PATHS: tuple[str, ...] = ("", *DATA_ENDPOINTS, "permissions")


# --- parameters ---------------------------------------------------------------------------------


def _whole_number(raw: str | None, name: str, default: int, low: int, high: int | None) -> int:
    if raw is None:
        return default
    try:
        number = int(raw)
    except ValueError:
        number = low - 1
    if number < low or (high is not None and number > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValidationFailed(
            f"{name} must be a whole number {bounds}; '{raw}' is not.", code="INVALID_INPUT_FORMAT",
            source={"parameter": name},
        )
    return number


@dataclass(frozen=True, slots=True)
class Window:
    """The offset paging of v2 (``limit`` and ``offset``)."""

    limit: int
    offset: int


def parse_window(query: Mapping[str, str], default: int, maximum: int) -> Window:
    problems: list[ApiError] = []
    values: list[int] = []
    for name, fallback, low, high in (("limit", default, 1, maximum), ("offset", 0, 0, MAX_OFFSET)):
        try:
            values.append(_whole_number(query.get(name), name, fallback, low, high))
        except ApiError as problem:
            problems.append(problem)
    if problems:
        first = problems[0]
        first.extra_errors = problems[1:]
        raise first
    return Window(values[0], values[1])


def _instant(raw: str, name: str, *, end: bool) -> datetime:
    """A ``YYYY-MM-DD`` date (its whole day) or an ISO 8601 instant."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day, time.max if end else time.min, UTC)
        else:
            moment = datetime.fromisoformat(raw)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise ValidationFailed(
            f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 instant; '{raw}' is not.",
            code="INVALID_INPUT_FORMAT", source={"parameter": name},
        ) from None
    return moment


@dataclass(frozen=True, slots=True)
class Period:
    """The service records asked for: from ``start`` to ``end``, both included (None: default)."""

    start: datetime | None
    end: datetime | None

    def bounds(self, now_ms: int) -> tuple[datetime, datetime]:
        """Without dates, the last year up to the application's now."""
        end = self.end or datetime.fromtimestamp(now_ms / 1000, UTC)
        return self.start or end - timedelta(days=365), end


def _date_given(query: Mapping[str, str], name: str, node_name: str) -> str | None:
    raw = query.get(name, query.get(node_name))
    # Node SDK 10 writes a date left out as the literal ``undefined``: it means no date.
    return None if raw in (None, "", "undefined") else raw


def parse_period(query: Mapping[str, str]) -> Period:
    """``startDate``/``endDate`` (and ``start_date``/``end_date``, which the Node SDK sends)."""
    raw_start = _date_given(query, "startDate", "start_date")
    raw_end = _date_given(query, "endDate", "end_date")
    start = _instant(raw_start, "startDate", end=False) if raw_start else None
    end = _instant(raw_end, "endDate", end=True) if raw_end else None
    if start is not None and end is not None and start > end:
        raise ValidationFailed(
            "startDate must not be after endDate.", code="INVALID_INPUT_FORMAT",
            source={"parameter": "startDate"},
        )
    return Period(start, end)


def _within(records: list[dict[str, Any]], period: Period, now_ms: int) -> list[dict[str, Any]]:
    start, end = period.bounds(now_ms)
    kept = []
    for record in records:
        served = record.get("serviceDate")
        if not isinstance(served, str):
            continue
        moment = datetime.fromisoformat(served)
        if start <= moment <= end:
            kept.append(record)
    return kept


# --- commands -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class V2Command:
    """A v2 command: the permission it needs and the v3 action that carries it out."""

    permission: str
    action: Action


def security_command(lock: bool) -> V2Command:
    return V2Command("control_security", command_action("security-lock" if lock else "security-unlock"))


def charge_command(start: bool) -> V2Command:
    return V2Command("control_charge", command_action("charge-start" if start else "charge-stop"))


def charge_limit_command(limit: float) -> V2Command:
    """v2's 0.5–1 limit as v3's whole percent (rounded to the nearest: a car's limit moves by
    whole percents)."""
    percent = math.floor(limit * 100.0 + 0.5)
    return V2Command("control_charge", command_action("charge-set-limit", {"percent": percent}))


def destination_command(latitude: float, longitude: float) -> V2Command:
    return V2Command(
        "control_navigation",
        command_action("navigation-set-destination", {"latitude": latitude, "longitude": longitude}),
    )


# --- the service --------------------------------------------------------------------------------


def _data_headers(data_age_ms: int, fetched_at_ms: int, system: str) -> dict[str, str]:
    return {
        "sc-data-age": iso_ms(data_age_ms),
        "sc-fetched-at": iso_ms(fetched_at_ms),
        "sc-unit-system": system,
    }


def _error_headers(error: ApiError) -> dict[str, str]:
    """A batch item's headers for an error. The official SDKs read ``Retry-After`` from a plain
    object, Python's as ``Retry-After`` and Node's as ``retry-after``: both are written."""
    headers: dict[str, str] = {}
    retry = next((v for k, v in error.headers.items() if k.lower() == "retry-after"), None)
    if retry is not None:
        headers["Retry-After"] = retry
        headers["retry-after"] = retry
    return headers


class VehicleApiV2:
    """The v2.0 Vehicle API over the services v3 uses."""

    def __init__(
        self,
        gate: VehicleGate,
        signals: SignalService,
        commands: CommandService,
        connections: ConnectionService,
        clocks: ClockBook,
    ) -> None:
        self.gate = gate
        self.signals = signals
        self.commands = commands
        self.connections = connections
        self.clocks = clocks

    # --- who asks ---------------------------------------------------------------------------

    async def authenticate(self, authorization: str | None) -> AccessClaims:
        """A user token's claims. An application token (or a management token, or anything
        else) opens nothing in v2: 401."""
        claims = await self.gate.authenticate(authorization)
        if claims.user_id is None:
            raise AuthenticationError(
                f"{NOT_AUTHENTICATED} v2.0 takes the user access token that exchanging a Connect "
                "code gives, not an application token.",
                code=None,
            )
        return claims

    async def admit(
        self, authorization: str | None, vehicle_id: str, *, spend: bool = True
    ) -> VehicleAccess:
        """The user's access to the vehicle, once the token, the id and (when ``spend``) the rate
        limits let the request in. A vehicle the user has no connection to is an AUTHENTICATION
        error, as v2 documents it: the token does not open that vehicle."""
        claims = await self.authenticate(authorization)
        vehicle = parse_uuid(vehicle_id, "vehicle id", parameter="id")
        user_id = claims.user_id
        assert user_id is not None
        if spend:
            await self.gate.limits.admit(claims.application_id, vehicle)
        try:
            return await self.gate.access.get(claims.application_id, user_id, vehicle)
        except (NotFound, PermissionDenied):
            raise AuthenticationError(NOT_THIS_VEHICLE.format(vehicle_id=vehicle), code=None) from None

    # --- the user and their vehicles --------------------------------------------------------

    async def user(self, authorization: str | None) -> dict[str, Any]:
        """``GET /user``: the token's user."""
        claims = await self.authenticate(authorization)
        await self.gate.limits.admit(claims.application_id)
        return {"id": claims.user_id}

    async def vehicles(self, authorization: str | None, query: Mapping[str, str]) -> dict[str, Any]:
        """``GET /vehicles``: a page of the user's connected vehicles' ids."""
        claims = await self.authenticate(authorization)
        window = parse_window(query, DEFAULT_VEHICLES_PAGE, MAX_VEHICLES_PAGE)
        await self.gate.limits.admit(claims.application_id)
        assert claims.user_id is not None
        ids, total = await self.connections.user_vehicle_ids(
            claims.application_id, claims.user_id, window.offset, window.limit
        )
        return {"vehicles": ids, "paging": {"count": total, "offset": window.offset}}

    # --- reads ------------------------------------------------------------------------------

    async def read(
        self,
        authorization: str | None,
        vehicle_id: str,
        path: str,
        unit_header: str | None,
        query: Mapping[str, str],
    ) -> V2Answer:
        """One v2 read of a vehicle (``path`` one of :data:`READ_PATHS`)."""
        access = await self.admit(authorization, vehicle_id)
        system = unit_system(unit_header)
        await self.gate.vehicle_latency()
        now = await self.clocks.now_ms(access.application_id)
        return self.answer(access, path, system, query, now)

    def answer(
        self, access: VehicleAccess, path: str, system: str, query: Mapping[str, str], now_ms: int
    ) -> V2Answer:
        """What a read answers at the application's ``now_ms`` (the caller was admitted)."""
        self.gate.check_account(access)
        if path == "":
            self._require(access, "read_vehicle_info")
            car = access.summary()
            return V2Answer(200, {"id": car.id, "make": car.make, "model": car.model, "year": car.year}, {})
        if path == "permissions":
            window = parse_window(query, DEFAULT_PERMISSIONS_PAGE, MAX_PERMISSIONS_PAGE)
            granted = sorted(access.permissions)
            page = granted[window.offset : window.offset + window.limit]
            paging = {"count": len(granted), "offset": window.offset}
            return V2Answer(200, {"permissions": page, "paging": paging}, {})
        endpoint = DATA_ENDPOINTS.get(path)
        if endpoint is None:
            raise NotFound(f"The path '/{path}' does not exist.")
        period = parse_period(query) if path == "service/history" else None
        # As v3 answers a signal: what the vehicle cannot do (501), then what the user did not
        # grant (403), then what the vehicle could not answer now (409).
        readings = self.signals.readings(access, now_ms, system)
        codes = self._reported(readings, endpoint)
        self._require(access, endpoint.permission)
        bodies, data_age = self._gather(readings, codes)
        body: Any = endpoint.render(bodies)
        if period is not None:
            body = _within(body, period, now_ms)
        return V2Answer(200, body, _data_headers(data_age, readings.fetched_at_ms, system))

    @staticmethod
    def _require(access: VehicleAccess, permission: str) -> None:
        if permission not in access.permissions:
            raise PermissionDenied(
                f"This endpoint needs the '{permission}' permission, which this connection was not granted."
            )

    @staticmethod
    def _reported(readings: Readings, endpoint: DataEndpoint) -> list[str]:
        """The signals an endpoint answers from, when the vehicle can report them all (else 501:
        a required one it cannot report, or none of the optional ones)."""
        by_code = readings.readings
        for code in endpoint.required:
            reading = by_code[code]
            if reading.body is None:
                raise _signal_error(code, reading.error or ("COMPATIBILITY", "VEHICLE_NOT_CAPABLE"))
        present = [code for code in endpoint.optional if by_code[code].body is not None]
        if not endpoint.required and not present:
            raise Incompatible("This vehicle cannot provide this endpoint's data.")
        return [*endpoint.required, *present]

    @staticmethod
    def _gather(readings: Readings, codes: list[str]) -> tuple[dict[str, JsonObject], int]:
        """The bodies of ``codes`` and the instant of the newest (the answer's data age), when
        the vehicle answered (an unreachable car is a VEHICLE_STATE error)."""
        bodies: dict[str, JsonObject] = {}
        ages: list[int] = []
        for code in codes:
            reading = readings.readings[code]
            if reading.error is not None:
                raise _signal_error(code, reading.error)
            assert reading.body is not None
            bodies[code] = reading.body
            ages.append(reading.oem_updated_at_ms)
        return bodies, max(ages, default=readings.fetched_at_ms)

    async def batch(
        self, access: VehicleAccess, unit_header: str | None, paths: Iterable[str], request_id: str
    ) -> dict[str, Any]:
        """``POST /batch`` (admitted without spending: each item counts against the rate limits):
        each path answered as its own call would answer it, all from one report. A path the batch
        does not serve is that item's error."""
        system = unit_system(unit_header)
        await self.gate.vehicle_latency()
        now = await self.clocks.now_ms(access.application_id)
        responses = [await self._batch_item(access, raw, system, now, request_id) for raw in paths]
        return {"responses": responses}

    async def _batch_item(
        self, access: VehicleAccess, raw: str, system: str, now_ms: int, request_id: str
    ) -> dict[str, Any]:
        path, _, query_string = raw.partition("?")
        served = path.startswith("/") and path[1:] in READ_PATHS
        path = path[1:]
        try:
            if not served:
                raise ValidationFailed(
                    f"'{raw}' is not a path a batch request serves: one of "
                    + ", ".join(f"/{p}" for p in READ_PATHS) + ".",
                    code="INVALID_INPUT_FORMAT", source={"pointer": "/requests/path"},
                )
            await self.gate.limits.admit(access.application_id, access.vehicle_id)
            answer = self.answer(access, path, system, dict(parse_qsl(query_string)), now_ms)
        except ApiError as failure:
            error = as_v2(failure)
            return {"path": raw, "code": error.status, "headers": _error_headers(error),
                    "body": error.body(request_id)}
        return {"path": raw, "code": answer.status, "headers": answer.headers, "body": answer.body}

    # --- commands and disconnecting ---------------------------------------------------------

    async def execute(self, access: VehicleAccess, command: V2Command) -> dict[str, str]:
        """Carry a command out through the command service v3 uses (same guards, same refusals)."""
        self.gate.check_account(access)
        await self.commands.execute(access, command.permission, command.action)
        return dict(COMMAND_SENT)

    async def disconnect(self, authorization: str | None, vehicle_id: str) -> dict[str, str]:
        """``DELETE /vehicles/{id}/application``: the user's connection to the vehicle is removed,
        as ``DELETE /v3/connections/{vehicle id}`` removes it; the token no longer opens it."""
        access = await self.admit(authorization, vehicle_id)
        await self.connections.disconnect(access.application_id, access.user_id, access.vehicle_id)
        return dict(DISCONNECTED)
