"""The admin API (``/admin/...``): the control plane, behind the admin bearer token."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ..errors import AuthenticationError, ValidationFailed
from ..services.admin import (
    FLEET_PAGE_MOST,
    ApplicationRecord,
    OwnerRecord,
    SecretRecord,
    VehicleRecord,
)
from ..services.clocks import MAX_STEP_MS, clock_view
from ..services.limits import RateLimit
from ..services.oauth import bearer_token
from ..services.steering import Steered
from ..services.vocabulary import MAKES, PERMISSION_NAMES, POWERTRAINS, SIGNAL_CODES
from .common import json_response, platform_of
from .schemas import ERRORS, ErrorBody

#: What any admin operation may answer besides its success: the OpenAPI document says so.
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 409: {"model": ErrorBody, "description": "VALIDATION (a conflict with what exists)"},
}


def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    token = bearer_token(authorization)
    if not platform_of(request).admin_token_valid(token):
        raise AuthenticationError("The admin token is not valid.")


router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_admin)], responses=ADMIN_ERRORS)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def secret_view(secret: SecretRecord) -> dict[str, Any]:
    return {
        "id": secret.id,
        "hint": "…" + secret.hint,
        "createdAt": _iso(secret.created_at),
        "lastUsedAt": _iso(secret.last_used_at),
        "revokedAt": _iso(secret.revoked_at),
    }


def application_view(app: ApplicationRecord) -> dict[str, Any]:
    return {
        "id": app.id,
        "name": app.name,
        "clientId": app.client_id,
        "redirectUris": list(app.redirect_uris),
        "managementToken": app.management_token,
        "createdAt": _iso(app.created_at),
        "secrets": [secret_view(s) for s in app.secrets],
        "connectPermissions": list(app.connect_permissions),
    }


def owner_view(owner: OwnerRecord) -> dict[str, Any]:
    return {"id": owner.id, "email": owner.email, "name": owner.name, "createdAt": _iso(owner.created_at)}


def vehicle_view(vehicle: VehicleRecord) -> dict[str, Any]:
    return {
        "id": vehicle.id,
        "vin": vehicle.vin,
        "make": vehicle.make,
        "model": vehicle.model,
        "year": vehicle.year,
        "powertrainType": vehicle.powertrain,
        "mode": vehicle.mode,
        "nickname": vehicle.nickname,
        "applicationId": vehicle.application_id,
        "ownerId": vehicle.owner_id,
        "createdAt": _iso(vehicle.created_at),
    }


class NewApplication(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    redirect_uris: list[str] = Field(default_factory=list, alias="redirectUris")
    model_config = {"populate_by_name": True}


class NewRedirectUri(BaseModel):
    uri: str = Field(min_length=1, max_length=2000)


class NewOwner(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=8, max_length=200)
    name: str = Field(default="", max_length=200)


class NewVehicle(BaseModel):
    application_id: str | None = Field(default=None, alias="applicationId")
    owner_email: str | None = Field(default=None, alias="ownerEmail")
    make: str | None = Field(default=None, description="A make's code (or its name, any case)",
                             json_schema_extra={"enum": [*MAKES, None]})
    model: str | None = None
    powertrain: str | None = Field(default=None, alias="powertrainType", json_schema_extra={"enum": [*POWERTRAINS, None]})
    year: int | None = Field(default=None, ge=1990, le=2100)
    vin: str | None = None
    nickname: str | None = Field(
        default=None,
        max_length=100,
        description="What its VehicleIdentification.Nickname signal reports; default: the name the "
        "simulation draws for it (often none)",
    )
    seed: int | None = Field(default=None, ge=0, le=2**48)
    model_config = {"populate_by_name": True}


@router.get("/applications", summary="List applications")
async def list_applications(request: Request) -> Response:
    apps = await platform_of(request).admin.list_applications()
    return json_response({"data": [application_view(a) for a in apps]})


@router.post("/applications", status_code=201, summary="Create an application")
async def create_application(request: Request, body: NewApplication) -> Response:
    app, issued = await platform_of(request).admin.create_application(body.name, body.redirect_uris)
    view = application_view(app) | {"clientSecret": issued.plaintext}
    return json_response({"data": view}, 201)


@router.get("/applications/{application_id}", summary="Get an application")
async def get_application(request: Request, application_id: str) -> Response:
    app = await platform_of(request).admin.application(application_id)
    return json_response({"data": application_view(app)})


class ConnectPermissions(BaseModel):
    permissions: list[str] | None = Field(
        description="What Connect asks for when a link has no scope; null: every permission",
        # Said for the array branch only (JSON Schema applies these keywords to arrays alone).
        json_schema_extra={"minItems": 1, "items": {"enum": list(PERMISSION_NAMES)}},
    )
    model_config = {"extra": "forbid"}


def _connect_permissions_view(app: ApplicationRecord) -> dict[str, Any]:
    return {
        "data": {
            "applicationId": app.id,
            "permissions": list(app.connect_permissions),
            "default": not app.connect_permissions_chosen,
        }
    }


@router.get(
    "/applications/{application_id}/connect-permissions",
    summary="Read what Connect asks for when a link has no scope",
)
async def get_connect_permissions(request: Request, application_id: str) -> Response:
    app = await platform_of(request).admin.application(application_id)
    return json_response(_connect_permissions_view(app))


@router.put(
    "/applications/{application_id}/connect-permissions",
    summary="Set what Connect asks for when a link has no scope",
)
async def set_connect_permissions(
    request: Request, application_id: str, body: ConnectPermissions
) -> Response:
    """Smartcar's dashboard "Vehicle Access": an authorize link without `scope` (the official
    SDKs omit it since 6.18) asks for these permissions, none of them required. The default,
    and `{"permissions": null}`, is every permission of the catalogue."""
    app = await platform_of(request).admin.set_connect_permissions(application_id, body.permissions)
    return json_response(_connect_permissions_view(app))


@router.post("/applications/{application_id}/redirect-uris", summary="Register a redirect URI")
async def add_redirect_uri(request: Request, application_id: str, body: NewRedirectUri) -> Response:
    app = await platform_of(request).admin.add_redirect_uri(application_id, body.uri)
    return json_response({"data": application_view(app)})


@router.delete("/applications/{application_id}/redirect-uris", summary="Remove a redirect URI")
async def remove_redirect_uri(request: Request, application_id: str, uri: str = Query()) -> Response:
    app = await platform_of(request).admin.remove_redirect_uri(application_id, uri)
    return json_response({"data": application_view(app)})


@router.post("/applications/{application_id}/secrets", status_code=201, summary="Create a client secret")
async def create_secret(request: Request, application_id: str) -> Response:
    issued = await platform_of(request).admin.create_secret(application_id)
    return json_response({"data": secret_view(issued.secret) | {"secret": issued.plaintext}}, 201)


@router.delete("/applications/{application_id}/secrets/{secret_id}", summary="Revoke a client secret")
async def revoke_secret(request: Request, application_id: str, secret_id: str) -> Response:
    secret = await platform_of(request).admin.revoke_secret(application_id, secret_id)
    return json_response({"data": secret_view(secret)})


@router.post("/applications/{application_id}/management-token", summary="Rotate the application management token")
async def rotate_management_token(request: Request, application_id: str) -> Response:
    """Answers the application with its new `managementToken`; the old token stops working at
    once (for the v2 management API and, with webhooks, as their signing key)."""
    app = await platform_of(request).admin.rotate_management_token(application_id)
    return json_response({"data": application_view(app)})


@router.get("/applications/{application_id}/vehicles", summary="List an application's simulated fleet")
async def list_fleet(
    request: Request,
    application_id: str,
    limit: Annotated[
        str | None,
        Query(
            description=f"Cars per page, 1 to {FLEET_PAGE_MOST:,} (default {FLEET_PAGE_MOST:,}).",
            json_schema_extra={"maximum": FLEET_PAGE_MOST},
        ),
    ] = None,
    cursor: Annotated[
        str | None, Query(description="Where the page starts: a previous page's `meta.nextCursor`.")
    ] = None,
) -> Response:
    """The fleet oldest first, a page at a time: follow `meta.nextCursor` until it is null."""
    page = await platform_of(request).admin.fleet(application_id, limit=limit, cursor=cursor)
    return json_response(
        {
            "data": [vehicle_view(v) for v in page.vehicles],
            "meta": {"nextCursor": page.next_cursor},
        }
    )


@router.get("/owners", summary="List live-mode owner accounts")
async def list_owners(request: Request) -> Response:
    owners = await platform_of(request).admin.list_owners()
    return json_response({"data": [owner_view(o) for o in owners]})


@router.post("/owners", status_code=201, summary="Create a live-mode owner account")
async def create_owner(request: Request, body: NewOwner) -> Response:
    owner = await platform_of(request).admin.create_owner(body.email, body.password, body.name)
    return json_response({"data": owner_view(owner)}, 201)


@router.post("/vehicles", status_code=201, summary="Create a simulated or live vehicle")
async def create_vehicle(request: Request, body: NewVehicle) -> Response:
    """With ``applicationId`` the vehicle joins that application's simulated fleet; with
    ``ownerEmail`` it belongs to a live-mode owner account."""
    vehicle = await platform_of(request).admin.create_vehicle(
        application_id=body.application_id,
        owner_email=body.owner_email,
        make=body.make,
        model=body.model,
        powertrain=body.powertrain,
        year=body.year,
        vin=body.vin,
        nickname=body.nickname,
        seed=body.seed,
    )
    return json_response({"data": vehicle_view(vehicle)}, 201)


class DirectConnect(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    mode: Literal["live", "simulated", "test"] = "simulated"
    permissions: list[str] | None = None
    vehicle_ids: list[str] | None = Field(default=None, alias="vehicleIds")
    external_id: str | None = Field(default=None, alias="externalId", max_length=255)
    model_config = {"populate_by_name": True}


@router.post(
    "/applications/{application_id}/connections",
    status_code=201,
    summary="Connect an owner's vehicles without the Connect pages",
)
async def direct_connect(request: Request, application_id: str, body: DirectConnect) -> Response:
    """Stores what an owner approving the given permissions (default: all) for the given
    vehicles (default: all they have in that mode) would store. Answers the ``userId``."""
    stored = await platform_of(request).admin.direct_connect(
        application_id,
        mode=body.mode,
        email=body.email,
        permissions=body.permissions,
        vehicle_ids=body.vehicle_ids,
        external_id=body.external_id,
    )
    data = {
        "userId": stored.user_id,
        "vehicleIds": [vehicle_id for vehicle_id, _, _ in stored.connections],
        "connectionIds": [connection_id for _, connection_id, _ in stored.connections],
        "permissions": {vehicle_id: list(granted) for vehicle_id, _, granted in stored.connections},
    }
    return json_response({"data": data}, 201)


class NewFleet(BaseModel):
    count: int = Field(ge=1, le=200_000)
    powertrain: Literal["BEV", "PHEV", "HEV", "ICE"] | None = Field(default=None, alias="powertrainType")
    seed: int | None = Field(default=None, ge=0, le=2**40)
    model_config = {"populate_by_name": True}


@router.post(
    "/applications/{application_id}/fleet",
    status_code=201,
    summary="Add many simulated vehicles to an application's fleet",
)
async def create_fleet(request: Request, application_id: str, body: NewFleet) -> Response:
    """Models, years, VINs and states are drawn from ``seed`` (random when omitted), so the same
    seed gives the same fleet."""
    created = await platform_of(request).admin.create_fleet(
        application_id, body.count, body.powertrain, body.seed
    )
    return json_response({"data": {"created": created}}, 201)


# --- steering the simulation ------------------------------------------------------------------


def _steered(steered: Steered) -> Response:
    return json_response({"data": {"vehicleId": steered.vehicle_id, "activity": steered.activity,
                                   "plugged": steered.plugged, "locked": steered.locked}})


class PlugRequest(BaseModel):
    plugged: bool = True
    start: bool = False
    kw: float | None = Field(default=None, gt=0, le=400, description="Charger power; default the charger where the car stands")


@router.post("/vehicles/{vehicle_id}/plug", summary="Plug a simulated vehicle in (or out)")
async def plug_vehicle(request: Request, vehicle_id: str, body: PlugRequest) -> Response:
    """``plugged: false`` unplugs; ``start: true`` starts charging at once."""
    steering = platform_of(request).steering
    return _steered(await steering.plug(vehicle_id, plugged=body.plugged, start=body.start, kw=body.kw))


class DriveRequest(BaseModel):
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    speed_kph: float | None = Field(default=None, alias="speedKph", ge=5, le=200)
    model_config = {"populate_by_name": True}


@router.post("/vehicles/{vehicle_id}/drive", summary="Start a trip to a destination")
async def drive_vehicle(request: Request, vehicle_id: str, body: DriveRequest) -> Response:
    """Without ``latitude``/``longitude`` the car drives to the destination last sent to its
    navigation (``navigation/set-destination``)."""
    steering = platform_of(request).steering
    return _steered(await steering.drive(
        vehicle_id, latitude=body.latitude, longitude=body.longitude, speed_kph=body.speed_kph
    ))


@router.post("/vehicles/{vehicle_id}/sleep", summary="Put an idle vehicle to sleep now")
async def sleep_vehicle(request: Request, vehicle_id: str) -> Response:
    return _steered(await platform_of(request).steering.sleep(vehicle_id))


@router.post("/vehicles/{vehicle_id}/wake", summary="Wake a vehicle")
async def wake_vehicle(request: Request, vehicle_id: str) -> Response:
    return _steered(await platform_of(request).steering.wake(vehicle_id))


class OnlineRequest(BaseModel):
    online: bool


@router.post("/vehicles/{vehicle_id}/online", summary="Take a vehicle off the network or bring it back")
async def set_vehicle_online(request: Request, vehicle_id: str, body: OnlineRequest) -> Response:
    return _steered(await platform_of(request).steering.set_online(vehicle_id, body.online))


class OpenRequest(BaseModel):
    part: str = Field(description="door-ROW-COLUMN, window-ROW-COLUMN, trunk, hood, tailgate, frunk or sunroof")
    open: bool = True


@router.post("/vehicles/{vehicle_id}/open", summary="Open or close a door, window, trunk or hood")
async def open_part(request: Request, vehicle_id: str, body: OpenRequest) -> Response:
    """As someone at the car would; a car with a door, trunk or hood open refuses to lock
    (``DOOR_OPEN``, ``TRUNK_OPEN``, ``HOOD_OPEN``)."""
    return _steered(await platform_of(request).steering.set_open(vehicle_id, body.part, body.open))


class SignalOverride(BaseModel):
    body: dict[str, Any] | None = Field(description="The signal's body from now on; null un-pins it")


@router.put("/vehicles/{vehicle_id}/signals/{code}", summary="Pin a signal to a value")
async def set_vehicle_signal(
    request: Request,
    vehicle_id: str,
    code: Annotated[str, Path(description="A signal code", json_schema_extra={"enum": list(SIGNAL_CODES)})],
    body: SignalOverride,
) -> Response:
    return _steered(await platform_of(request).steering.pin_signal(vehicle_id, code, body.body))


# --- the simulation clock ---------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, None: 1000}


def duration_ms(text: str) -> int:
    """``90``, ``90s``, ``15m``, ``2h``, ``1.5d`` → milliseconds (a bare number is seconds)."""
    match = _DURATION.match(text)
    if match is None:
        raise ValidationFailed(f"'{text}' is not a duration such as 90s, 15m, 2h or 1d.", source={"pointer": "/by"})
    return int(float(match.group(1)) * _UNIT_MS[match.group(2)])


class ClockChange(BaseModel):
    rate: float | None = Field(default=None, ge=0, le=10_000, description="1 real time, 60 a minute per second, 0 frozen")
    now: datetime | None = Field(default=None, description="Jump forward to this instant")
    model_config = {"extra": "forbid"}


class ClockStep(BaseModel):
    seconds: float | None = Field(
        default=None, ge=0, le=MAX_STEP_MS / 1000, allow_inf_nan=False,
        description="At most ten years at a time",
    )
    by: str | None = Field(default=None, description="A duration such as 90s, 15m, 2h or 1d")
    model_config = {"extra": "forbid"}


async def _clock_answer(request: Request, application_id: str) -> Response:
    clock = await platform_of(request).clocks.clock(application_id)
    return json_response({"data": {"applicationId": application_id, **clock_view(clock)}})


@router.get("/applications/{application_id}/clock", summary="Read an application's simulation clock")
async def get_clock(request: Request, application_id: str) -> Response:
    return await _clock_answer(request, application_id)


@router.put("/applications/{application_id}/clock", summary="Set the clock's rate, or jump forward")
async def set_clock(request: Request, application_id: str, body: ClockChange) -> Response:
    """``rate`` 0 freezes simulated time, 1 runs it at real pace, 60 makes a minute pass per
    second; ``now`` jumps forward to an instant (never back)."""
    moment = body.now
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # an instant without an offset is read as UTC
    to_ms = int(moment.timestamp() * 1000) if moment is not None else None
    await platform_of(request).clocks.change(application_id, rate=body.rate, to_ms=to_ms)
    return await _clock_answer(request, application_id)


@router.post("/applications/{application_id}/clock/advance", summary="Move the clock forward")
async def advance_clock(request: Request, application_id: str, body: ClockStep) -> Response:
    """Give ``seconds`` or ``by`` (``2h``); vehicles charge, drive and sleep through the step."""
    if (body.seconds is None) == (body.by is None):
        raise ValidationFailed("Give either seconds or by.", source={"pointer": "/seconds"})
    step = duration_ms(body.by) if body.by is not None else int((body.seconds or 0) * 1000)
    await platform_of(request).clocks.change(application_id, advance_ms=step)
    return await _clock_answer(request, application_id)


# --- rate limits --------------------------------------------------------------------------------


class RateLimitChange(BaseModel):
    # The bounds are checked by RateLimit.validate (with its messages); the document says them.
    requests: int | None = Field(default=None, description="The application's bucket size (burst)",
                                 json_schema_extra={"minimum": 1, "maximum": 1_000_000})
    refill_per_minute: float | None = Field(default=None, alias="refillPerMinute",
                                            description="How many requests the bucket regains per minute",
                                            json_schema_extra={"exclusiveMinimum": 0, "maximum": 1_000_000})
    vehicle_requests_per_minute: int | None = Field(default=None, alias="vehicleRequestsPerMinute",
                                                    description="Each vehicle's throttle",
                                                    json_schema_extra={"minimum": 1, "maximum": 100_000})
    preset: Literal["smartcar"] | None = Field(default=None, description="'smartcar': 120 requests, 2 per minute")
    model_config = {"populate_by_name": True, "extra": "forbid"}


def _limit_view(application_id: str, limit: RateLimit | None) -> dict[str, Any]:
    values = limit.to_dict() if limit else {"requests": None, "refillPerMinute": None, "vehicleRequestsPerMinute": None}
    return {"data": {"applicationId": application_id, "enabled": limit is not None, **values}}


@router.get("/applications/{application_id}/rate-limit", summary="Read an application's Vehicle API rate limits")
async def get_rate_limit(request: Request, application_id: str) -> Response:
    limit = await platform_of(request).limits.configured(application_id)
    return json_response(_limit_view(application_id, limit))


@router.put("/applications/{application_id}/rate-limit", summary="Set (or lift) an application's rate limits")
async def set_rate_limit(request: Request, application_id: str, body: RateLimitChange) -> Response:
    """Off by default. ``{"preset": "smartcar"}`` sets Smartcar's documented default (120 requests,
    refilling 2 per minute); an empty body lifts every limit. Refusals are ``429 RATE_LIMIT``
    (``SMARTCAR_API`` or ``VEHICLE``) with ``retry-after``."""
    if body.preset == "smartcar":
        limit = RateLimit.smartcar(body.vehicle_requests_per_minute)
    else:
        limit = RateLimit(body.requests, body.refill_per_minute, body.vehicle_requests_per_minute)
    changed = await platform_of(request).limits.change(application_id, limit)
    return json_response(_limit_view(application_id, changed))
