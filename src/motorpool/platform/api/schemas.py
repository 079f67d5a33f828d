"""Response shapes of the Vehicle API, for OpenAPI. Handlers answer pre-built JSON of exactly
these shapes; the models document them (and the contract tests check one against the other)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

VID = "36ab27d0-fd9d-4455-823a-ce30af709ffc"
UID = "725146a3-69f4-46c8-965d-54b3b6f81eb7"
CID = "5d4c1d5e-2f43-4b8e-9a55-7c1f0b8f1f3e"


class _Open(BaseModel):
    # defer_build: the validators are built when the OpenAPI document (or a test) first needs
    # them, not at every start-up.
    model_config = ConfigDict(extra="allow", defer_build=True)


class ErrorResolution(_Open):
    type: str | None = None
    #: Where the user resolves it: the re-authentication link of ``REAUTHENTICATE``.
    url: str | None = None


class ErrorObject(_Open):
    status: str
    type: str
    code: str | None
    title: str
    detail: str
    resolution: ErrorResolution
    suggestedUserMessage: str
    links: dict[str, str]
    meta: dict[str, str]


class ErrorBody(_Open):
    """The v3 ``errors[]`` plus the flat v2 fields."""

    errors: list[ErrorObject]
    type: str
    code: str | None
    description: str
    statusCode: int
    requestId: str
    resolution: ErrorResolution
    suggestedUserMessage: str
    docURL: str

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "errors": [
                    {
                        "status": "400",
                        "type": "VALIDATION",
                        "code": "MISSING_PARAMETER",
                        "title": "Bad Request",
                        "detail": "The sc-user-id header is required.",
                        "resolution": {"type": None},
                        "suggestedUserMessage": "The request was not valid.",
                        "links": {"about": "https://smartcar.com/docs/errors/api-errors/validation-errors#missing-parameter"},
                        "meta": {"requestId": "0b6b5b7c-6f3c-4a43-a2f4-7d3c3b0f6a40"},
                    }
                ],
                "type": "VALIDATION",
                "code": "MISSING_PARAMETER",
                "description": "The sc-user-id header is required.",
                "statusCode": 400,
                "requestId": "0b6b5b7c-6f3c-4a43-a2f4-7d3c3b0f6a40",
                "resolution": {"type": None},
                "suggestedUserMessage": "The request was not valid.",
                "docURL": "https://smartcar.com/docs/errors/api-errors/validation-errors#missing-parameter",
            }
        }
    )


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "VALIDATION"},
    401: {"model": ErrorBody, "description": "AUTHENTICATION"},
    403: {"model": ErrorBody, "description": "PERMISSION"},
    404: {"model": ErrorBody, "description": "RESOURCE_NOT_FOUND"},
}
SIGNAL_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"model": ErrorBody, "description": "VEHICLE_STATE"},
    501: {"model": ErrorBody, "description": "COMPATIBILITY"},
}


class VehicleSummary(_Open):
    make: str
    model: str
    year: int
    mode: str
    powertrainType: str


class Ref(_Open):
    id: str
    type: str


class ConnectionResource(_Open):
    id: str
    type: str = "connection"
    attributes: dict[str, Any]
    relationships: dict[str, Any]
    meta: dict[str, Any]
    links: dict[str, Any]


class FlatConnection(_Open):
    id: str
    vehicleId: str
    userId: str
    connectedAt: str
    mode: str
    permissions: list[str]
    externalId: str | None = None


class PageMeta(_Open):
    page: int
    pageSize: int
    totalCount: int


class PageLinks(_Open):
    self: str
    first: str
    previous: str | None
    next: str | None
    last: str


_CONNECTION_EXAMPLE: JsonDict = {
    "id": CID,
    "type": "connection",
    "attributes": {
        "permissions": ["read_vehicle_info", "read_odometer"],
        "externalId": None,
        "vehicle": {"make": "TESLA", "model": "Model 3", "year": 2022, "mode": "simulated", "powertrainType": "BEV"},
    },
    "relationships": {
        "vehicle": {"data": {"id": VID, "type": "vehicle"}, "links": {"related": f"http://127.0.0.1:4000/v3/vehicles/{VID}"}},
        "user": {"data": {"id": UID, "type": "user"}},
    },
    "meta": {"createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-02T00:00:00.000Z"},
    "links": {"self": f"http://127.0.0.1:4000/v3/connections/{CID}"},
}
_FLAT_EXAMPLE: JsonDict = {
    "id": CID,
    "vehicleId": VID,
    "userId": UID,
    "connectedAt": "2026-01-01T00:00:00.000Z",
    "mode": "simulated",
    "permissions": ["read_vehicle_info", "read_odometer"],
    "externalId": None,
}


class ConnectionList(_Open):
    data: list[ConnectionResource]
    connections: list[FlatConnection] = Field(description="Flat form, as the tutorial reads it")
    meta: PageMeta
    links: PageLinks

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "data": [_CONNECTION_EXAMPLE],
                "connections": [_FLAT_EXAMPLE],
                "meta": {"page": 1, "pageNumber": 1, "pageSize": 10, "totalCount": 1, "orderBy": "createdAt", "orderDirection": "desc"},
                "links": {"self": "…?page[number]=1&page[size]=10", "first": "…", "previous": None, "next": None, "last": "…"},
            }
        }
    )


class ConnectionSingle(FlatConnection):
    data: ConnectionResource

    model_config = ConfigDict(json_schema_extra={"example": {"data": _CONNECTION_EXAMPLE, **_FLAT_EXAMPLE}})


class VehicleResource(_Open):
    id: str
    type: str = "vehicle"
    attributes: VehicleSummary
    links: dict[str, str]


class VehicleSingle(_Open):
    data: VehicleResource
    id: str
    make: str
    model: str
    year: int
    mode: str
    powertrainType: str

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "data": {
                    "id": VID,
                    "type": "vehicle",
                    "attributes": {"make": "TOYOTA", "model": "Camry", "year": 2020, "powertrainType": "ICE", "mode": "simulated"},
                    "links": {"self": f"http://127.0.0.1:4000/v3/vehicles/{VID}"},
                },
                "id": VID,
                "make": "TOYOTA",
                "model": "Camry",
                "year": 2020,
                "mode": "simulated",
                "powertrainType": "ICE",
            }
        }
    )


class SignalStatus(_Open):
    value: str = Field(description="SUCCESS, ERROR or UNAVAILABLE")
    error: dict[str, Any] | None = None


class SignalAttributes(_Open):
    code: str
    name: str
    group: str
    status: SignalStatus
    body: dict[str, Any] | None = None


class SignalMeta(_Open):
    retrievedAt: int = Field(description="Epoch milliseconds")
    oemUpdatedAt: int = Field(description="Epoch milliseconds")


class SignalResource(_Open):
    id: str
    type: str = "signal"
    attributes: SignalAttributes
    meta: SignalMeta
    links: dict[str, str]


_SIGNAL_EXAMPLE: JsonDict = {
    "id": "odometer-traveleddistance",
    "type": "signal",
    "attributes": {
        "code": "odometer-traveleddistance",
        "name": "TraveledDistance",
        "group": "Odometer",
        "status": {"value": "SUCCESS"},
        "body": {"unit": "km", "value": 48210.4},
    },
    "meta": {"retrievedAt": 1752104218549, "oemUpdatedAt": 1752104118549},
    "links": {
        "self": f"http://127.0.0.1:4000/v3/vehicles/{VID}/signals/odometer-traveleddistance",
        "vehicle": f"http://127.0.0.1:4000/v3/vehicles/{VID}",
    },
}


class SignalList(_Open):
    data: list[SignalResource]
    meta: PageMeta
    links: PageLinks
    included: dict[str, VehicleResource]

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "data": [_SIGNAL_EXAMPLE],
                "meta": {"page": 1, "pageNumber": 1, "pageSize": 100, "totalCount": 1},
                "links": {"self": "…", "first": "…", "previous": None, "next": None, "last": "…"},
                "included": {
                    "vehicle": {
                        "id": VID,
                        "type": "vehicle",
                        "attributes": {"make": "TESLA", "model": "Model 3", "year": 2022, "mode": "simulated", "powertrainType": "BEV"},
                        "links": {"self": f"http://127.0.0.1:4000/v3/vehicles/{VID}"},
                    }
                },
            }
        }
    )


class SignalSingle(_Open):
    data: SignalResource

    model_config = ConfigDict(json_schema_extra={"example": {"data": _SIGNAL_EXAMPLE}})
