"""Response shapes of the Vehicle API v2.0, for OpenAPI only (handlers answer pre-built JSON of
exactly these shapes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .schemas import VID, ErrorObject, ErrorResolution

UID = "725146a3-69f4-46c8-965d-54b3b6f81eb7"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


class V2ErrorDetail(_Open):
    field: str | None
    message: str


class V2ErrorBody(_Open):
    """v2's error: the flat fields the official SDKs read (``detail`` lists every validation
    problem), beside v3's ``errors[]``."""

    type: str
    code: str | None
    description: str
    docURL: str
    statusCode: int
    requestId: str
    resolution: ErrorResolution
    suggestedUserMessage: str
    detail: list[V2ErrorDetail] | None = Field(None, description="VALIDATION only: one entry per problem")
    errors: list[ErrorObject]

    model_config = ConfigDict(json_schema_extra={"example": {
        "type": "AUTHENTICATION",
        "code": None,
        "description": "The authorization header is missing or malformed, or it contains invalid or expired "
                       "authentication credentials. Please check for missing parameters, spelling and casing "
                       "mistakes, and other syntax issues.",
        "docURL": "https://smartcar.com/docs/errors/api-errors/authentication-errors#null",
        "statusCode": 401,
        "requestId": "0b6b5b7c-6f3c-4a43-a2f4-7d3c3b0f6a40",
        "resolution": {"type": None},
        "suggestedUserMessage": "Your application's credentials are not valid.",
        "errors": [],
    }})


def _error(description: str) -> dict[str, Any]:
    return {"model": V2ErrorBody, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("VALIDATION (`null` when malformed, `PARAMETER` for a bad parameter; `detail` lists them)"),
    401: _error("AUTHENTICATION: no user token, or one that does not open this vehicle"),
    403: _error("PERMISSION: the user did not grant what this endpoint needs"),
    429: _error("RATE_LIMIT (`retry-after` says when to try again)"),
}
DATA_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: _error("VEHICLE_STATE: the vehicle did not answer (`UNREACHABLE`)"),
    501: _error("COMPATIBILITY: the vehicle cannot provide this (`VEHICLE_NOT_CAPABLE`)"),
}
COMMAND_ERRORS: dict[int | str, dict[str, Any]] = {
    **DATA_ERRORS,
    409: _error("VEHICLE_STATE: refused by the vehicle's state (`IN_MOTION`, `ASLEEP`, …)"),
}


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="allow", defer_build=True, json_schema_extra={"example": example})


class User(_Open):
    id: str
    model_config = _example({"id": UID})


class Paging(_Open):
    count: int = Field(description="How many there are in all")
    offset: int


class Vehicles(_Open):
    vehicles: list[str]
    paging: Paging
    model_config = _example({"vehicles": [VID], "paging": {"count": 1, "offset": 0}})


class Attributes(_Open):
    id: str
    make: str
    model: str
    year: int
    model_config = _example({"id": VID, "make": "TESLA", "model": "Model 3", "year": 2022})


class Permissions(_Open):
    permissions: list[str]
    paging: Paging
    model_config = _example({"permissions": ["read_odometer", "read_vehicle_info"],
                             "paging": {"count": 2, "offset": 0}})


class Vin(_Open):
    vin: str
    model_config = _example({"vin": "5YJ3E1EA7KF000316"})


class Odometer(_Open):
    distance: float = Field(description="km (miles when imperial)")
    model_config = _example({"distance": 48210.4})


class Location(_Open):
    latitude: float
    longitude: float
    model_config = _example({"latitude": 37.774929, "longitude": -122.419416})


class Battery(_Open):
    percentRemaining: float = Field(description="0–1")
    range: float = Field(description="km (miles when imperial)")
    model_config = _example({"percentRemaining": 0.753, "range": 312.4})


class BatteryCapacity(_Open):
    capacity: float = Field(description="kWh")
    model_config = _example({"capacity": 75.0})


class NominalCapacity(_Open):
    availableCapacities: list[dict[str, Any]]
    capacity: dict[str, Any] | None = Field(description="{nominal, source}")
    url: str | None
    model_config = _example({
        "availableCapacities": [{"capacity": 57.5, "description": "BEV:Standard Range"},
                                {"capacity": 75.0, "description": "BEV:Long Range"}],
        "capacity": {"nominal": 75.0, "source": "SMARTCAR"},
        "url": None,
    })


class Charge(_Open):
    isPluggedIn: bool
    state: str = Field(description="CHARGING, FULLY_CHARGED or NOT_CHARGING")
    model_config = _example({"isPluggedIn": True, "state": "CHARGING"})


class ChargeLimit(_Open):
    limit: float = Field(description="0.5–1")
    model_config = _example({"limit": 0.8})


class Fuel(_Open):
    range: float
    percentRemaining: float = Field(description="0–1")
    amountRemaining: float = Field(description="liters (gallons when imperial)")
    model_config = _example({"range": 512.3, "percentRemaining": 0.64, "amountRemaining": 35.2})


class EngineOil(_Open):
    lifeRemaining: float = Field(description="0–1")
    model_config = _example({"lifeRemaining": 0.82})


class TirePressure(_Open):
    frontLeft: float = Field(description="kPa (psi when imperial)")
    frontRight: float
    backLeft: float
    backRight: float
    model_config = _example({"frontLeft": 290.0, "frontRight": 291.5, "backLeft": 288.2, "backRight": 290.1})


class OpenStatus(_Open):
    type: str
    status: str = Field(description="OPEN or CLOSED")


class LockStatus(_Open):
    isLocked: bool
    doors: list[OpenStatus]
    windows: list[OpenStatus]
    sunroof: list[OpenStatus]
    storage: list[OpenStatus]
    chargingPort: list[OpenStatus]
    model_config = _example({
        "isLocked": True,
        "doors": [{"type": "frontLeft", "status": "CLOSED"}, {"type": "frontRight", "status": "CLOSED"},
                  {"type": "backLeft", "status": "CLOSED"}, {"type": "backRight", "status": "CLOSED"}],
        "windows": [{"type": "frontLeft", "status": "CLOSED"}],
        "sunroof": [],
        "storage": [{"type": "rear", "status": "CLOSED"}, {"type": "front", "status": "CLOSED"}],
        "chargingPort": [{"type": "chargingPort", "status": "CLOSED"}],
    })


class SystemStatus(_Open):
    systems: list[dict[str, Any]] = Field(description="{systemId, status (OK or ALERT), description}")
    model_config = _example({"systems": [{"systemId": "SYSTEM_TPMS", "status": "OK", "description": None}]})


class TroubleCodes(_Open):
    activeCodes: list[dict[str, Any]] = Field(description="{code, timestamp}")
    model_config = _example({"activeCodes": [{"code": "P0300", "timestamp": "2026-04-01T08:00:00.000Z"}]})


class ServiceRecord(_Open):
    serviceId: str | None
    serviceDate: str | None
    odometerDistance: float | None = Field(description="km (miles when imperial)")
    serviceTasks: list[dict[str, Any]]
    serviceDetails: list[dict[str, Any]]
    serviceCost: dict[str, Any]


class Action(_Open):
    status: str
    message: str
    model_config = _example({"status": "success", "message": "Successfully sent request to vehicle"})


class Status(_Open):
    status: str
    model_config = _example({"status": "success"})


class BatchItemAnswer(_Open):
    path: str
    code: int
    headers: dict[str, str]
    body: Any


class BatchResponse(_Open):
    responses: list[BatchItemAnswer]
    model_config = _example({"responses": [
        {"path": "/odometer", "code": 200, "body": {"distance": 48210.4},
         "headers": {"sc-data-age": "2026-05-01T12:00:00.000Z", "sc-fetched-at": "2026-05-01T12:00:00.000Z",
                     "sc-unit-system": "metric"}},
        {"path": "/location", "code": 403, "headers": {}, "body": {
            "type": "PERMISSION", "code": None, "statusCode": 403, "description": "…", "docURL": "…",
            "requestId": "…", "resolution": {"type": "REAUTHENTICATE"}, "suggestedUserMessage": "…"}},
    ]})
