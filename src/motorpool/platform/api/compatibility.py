"""The Compatibility APIs: v2 by VIN and by region and make (the matrix), behind the client's
credentials as HTTP Basic, and the v3 list of compatible vehicles, open to anyone. All of it is
derived from the simulation's catalogue: what a model is said to support is what it serves."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ..services.compatibility import CompatibleVehicle, MatrixModel, VinCompatibility
from ..services.vocabulary import MODES, PERMISSION_NAMES, POWERTRAINS, REGIONS, TEST_LEVELS
from . import schemas
from .common import json_response, platform_of, request_origin
from .openapi_types import REQUIRED

v2_router = APIRouter(prefix="/v2.0/compatibility", tags=["Compatibility"])
v3_router = APIRouter(prefix="/v3", tags=["Compatibility"])

V2_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.ErrorBody, "description": "VALIDATION: a missing or malformed parameter"},
    401: {"model": schemas.ErrorBody, "description": "AUTHENTICATION: missing or wrong client credentials"},
}

# What the service accepts, said in the document: the regions and powertrains it knows (any case
# is accepted; the document gives each once), and the permission lists `scope` takes — known
# permissions, `required:` allowed, separated by spaces or commas.
_REGIONS: dict[str, Any] = {"enum": list(REGIONS)}
_REGION: dict[str, Any] = {**_REGIONS, REQUIRED: True}
_POWERTRAINS: dict[str, Any] = {"enum": list(POWERTRAINS)}
_PERMISSION = "(?:required:)?(?:" + "|".join(sorted(PERMISSION_NAMES, key=len, reverse=True)) + ")"
_PERMISSION_LIST = f"{_PERMISSION}(?:[ ,]+{_PERMISSION})*"
_SCOPE: dict[str, Any] = {"pattern": f"^[ ,]*{_PERMISSION_LIST}[ ,]*$", REQUIRED: True}
_OPTIONAL_SCOPE: dict[str, Any] = {"pattern": f"^[ ,]*(?:{_PERMISSION_LIST})?[ ,]*$"}

#: The list changes only with motorpool's catalogue; Smartcar asks clients to cache it for a day.
CACHE_A_DAY = {"Cache-Control": "public, max-age=86400"}


# --- v2: by VIN -------------------------------------------------------------------------------


class Capability(BaseModel):
    permission: str
    endpoint: str | None = Field(description="The v2 endpoint; null where only the v3 signals serve the permission")
    capable: bool
    reason: str | None = Field(description="VEHICLE_NOT_CAPABLE or SMARTCAR_NOT_CAPABLE when not capable")


class Compatibility(BaseModel):
    compatible: bool
    reason: str | None = Field(description="MAKE_NOT_COMPATIBLE or VEHICLE_NOT_COMPATIBLE when not compatible")
    capabilities: list[Capability]
    model_config = ConfigDict(defer_build=True, json_schema_extra={"example": {
        "compatible": True,
        "reason": None,
        "capabilities": [
            {"permission": "read_battery", "endpoint": "/battery", "capable": True, "reason": None},
            {"permission": "read_fuel", "endpoint": "/fuel", "capable": False, "reason": "VEHICLE_NOT_CAPABLE"},
        ],
    }})  # fmt: skip


def compatibility_view(answer: VinCompatibility) -> dict[str, Any]:
    return {
        "compatible": answer.compatible,
        "reason": answer.reason,
        "capabilities": [
            {"permission": c.permission, "endpoint": c.endpoint, "capable": c.capable, "reason": c.reason}
            for c in answer.capabilities
        ],
    }


@v2_router.get("", summary="Compatibility by VIN", response_model=Compatibility, responses=V2_ERRORS)
async def by_vin(
    request: Request,
    vin: Annotated[
        str | None,
        Query(description="The vehicle's VIN (17 letters and digits)",
              json_schema_extra={"pattern": "^ *[A-Za-z0-9]{17} *$", REQUIRED: True}),
    ] = None,
    scope: Annotated[str | None, Query(description="Space-separated permissions", json_schema_extra=_SCOPE)] = None,
    country: Annotated[
        str | None,
        Query(description="ISO 3166-1 alpha-2 country; default US", json_schema_extra={"pattern": "^ *(?:[A-Za-z]{2})? *$"}),
    ] = None,
    mode: Annotated[str | None, Query(description="live, simulated or test", json_schema_extra={"enum": list(MODES)})] = None,
    test_mode_compatibility_level: Annotated[
        str | None,
        Query(description="In test mode: compatible, phev, bev, fuel or incompatible",
              json_schema_extra={"enum": list(TEST_LEVELS)}),
    ] = None,
    flags: Annotated[str | None, Query(description="Feature flags (accepted, unused)")] = None,
) -> Response:
    """Decodes the VIN as motorpool makes VINs (make from the world manufacturer identifier,
    model from characters 4–5, year from the 10th) and answers, for every v2 endpoint of each
    permission, whether the vehicle serves it. A VIN motorpool did not make is capable of what
    every model of its make built that year is. An unknown make is `MAKE_NOT_COMPATIBLE`."""
    answer = await platform_of(request).compatibility.by_vin(
        request.headers.get("authorization"), request.query_params
    )
    return json_response(compatibility_view(answer))


# --- v2: the matrix ---------------------------------------------------------------------------


class MatrixEntry(BaseModel):
    model: str
    startYear: int
    endYear: int
    type: str
    endpoints: list[str]
    permissions: list[str]


def matrix_view(matrix: dict[str, list[MatrixModel]]) -> dict[str, Any]:
    return {
        make: [
            {
                "model": entry.model,
                "startYear": entry.start_year,
                "endYear": entry.end_year,
                "type": entry.powertrain,
                "endpoints": list(entry.endpoints),
                "permissions": list(entry.permissions),
            }
            for entry in entries
        ]
        for make, entries in matrix.items()
    }


@v2_router.get(
    "/matrix",
    summary="Compatibility by region and make",
    response_model=dict[str, list[MatrixEntry]],
    responses=V2_ERRORS,
)
async def by_region_and_make(
    request: Request,
    region: Annotated[str | None, Query(description="US, CA or EUROPE", json_schema_extra=_REGION)] = None,
    type: Annotated[str | None, Query(description="ICE, HEV, PHEV or BEV; default all", json_schema_extra=_POWERTRAINS)] = None,
    make: Annotated[str | None, Query(description="Space-separated makes; default all")] = None,
    scope: Annotated[
        str | None,
        Query(description="Space-separated permissions; only models capable of all of them, showing those",
              json_schema_extra=_OPTIONAL_SCOPE),
    ] = None,
) -> Response:
    """Every model of the catalogue sold in the region, by make, with the features
    (`endpoints`) and `permissions` it is capable of."""
    matrix = await platform_of(request).compatibility.matrix(
        request.headers.get("authorization"), request.query_params
    )
    return json_response(matrix_view(matrix))


# --- v3: compatible vehicles ------------------------------------------------------------------


class CompatibleVehicleAttributes(BaseModel):
    make: str
    makeName: str
    model: str
    powertrainType: str
    startYear: int
    endYear: int
    years: list[int]
    regions: list[str] = Field(description="Where the model is sold: US, CA, EUROPE")
    permissions: list[str] = Field(description="Permissions that give access to something this model serves")
    signals: list[str] = Field(description="Signal codes the model reports (the rest answer VEHICLE_NOT_CAPABLE)")
    commands: list[str] = Field(description="Commands it accepts, as paths below /v3/vehicles/{id}/")


class CompatibleVehicleResource(BaseModel):
    id: str
    type: str = "compatible-vehicle"
    attributes: CompatibleVehicleAttributes


class CompatibleVehicleList(BaseModel):
    data: list[CompatibleVehicleResource]
    meta: dict[str, Any]
    links: dict[str, str]
    model_config = ConfigDict(defer_build=True, json_schema_extra={"example": {
        "data": [{"id": "tesla-model-3", "type": "compatible-vehicle", "attributes": {
            "make": "TESLA", "makeName": "Tesla", "model": "Model 3", "powertrainType": "BEV",
            "startYear": 2017, "endYear": 2025, "years": [2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025],
            "regions": ["US", "CA", "EUROPE"],
            "permissions": ["read_battery", "read_charge", "control_charge", "control_security"],
            "signals": ["tractionbattery-stateofcharge", "charge-ischarging", "closure-islocked"],
            "commands": ["commands/security/lock", "commands/charge/start", "charge-schedules/daily"],
        }}],
        "meta": {"totalCount": 1},
        "links": {"self": "http://127.0.0.1:4000/v3/compatible-vehicles?filter[make]=tesla"},
    }})  # fmt: skip


def compatible_vehicle_resource(vehicle: CompatibleVehicle) -> dict[str, Any]:
    return {
        "id": vehicle.id,
        "type": "compatible-vehicle",
        "attributes": {
            "make": vehicle.make,
            "makeName": vehicle.make_name,
            "model": vehicle.model,
            "powertrainType": vehicle.powertrain,
            "startYear": vehicle.years[0],
            "endYear": vehicle.years[-1],
            "years": list(vehicle.years),
            "regions": list(vehicle.regions),
            "permissions": list(vehicle.permissions),
            "signals": list(vehicle.signals),
            "commands": list(vehicle.commands),
        },
    }


@v3_router.get(
    "/compatible-vehicles",
    summary="List compatible vehicles",
    response_model=CompatibleVehicleList,
    responses={400: {"model": schemas.ErrorBody, "description": "VALIDATION: an unknown region"}},
)
async def list_compatible_vehicles(
    request: Request,
    filter_region: Annotated[
        str | None, Query(alias="filter[region]", description="US, CA or EUROPE; default all", json_schema_extra=_REGIONS)
    ] = None,
    filter_make: Annotated[str | None, Query(alias="filter[make]", description="A make, any case; default all")] = None,
) -> Response:
    """Every model of the catalogue, one resource each, with the signals it reports and the
    commands it accepts. No credentials needed; cache it (the answer says for a day)."""
    vehicles = platform_of(request).compatibility.compatible_vehicles(request.query_params)
    origin = request_origin(request)
    self_link = f"{origin}{request.url.path}" + (f"?{request.url.query}" if request.url.query else "")
    body = {
        "data": [compatible_vehicle_resource(v) for v in vehicles],
        "meta": {"totalCount": len(vehicles)},
        "links": {"self": self_link},
    }
    return json_response(body, headers=CACHE_A_DAY)
