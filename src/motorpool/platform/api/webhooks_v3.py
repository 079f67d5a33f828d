"""The Management API v3 (``/v3/webhooks``, ``/v3/subscriptions``, top-level and nested under a
webhook) and v2's per-vehicle subscribe and unsubscribe (``/v2.0/vehicles/{id}/webhooks/{id}``).

v3 takes the application token of the Vehicle API; v2's subscribe takes the user token and its
unsubscribe the application management token as a bearer, as the official SDKs send them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from ..errors import AuthenticationError, ValidationFailed
from ..services.params import parse_paging, parse_uuid
from ..services.webhooks import AlreadySubscribed, SubscriptionFilter, WebhookFilter
from . import schemas, v2_schemas
from .common import json_response, platform_of, request_origin
from .v2 import V2Route
from .webhook_views import page_links, subscription_resource, webhook_resource

router = APIRouter(prefix="/v3", tags=["Management API v3"])
v2_router = APIRouter(prefix="/v2.0", tags=["Vehicle API v2.0"], route_class=V2Route)

MAX_PAGE_SIZE = 100

# --- the OpenAPI document -----------------------------------------------------------------------
# The routes read their query and body themselves (Smartcar's messages, JSON:API pointers); these
# declarations say what they accept and answer, so that the document and the server agree.


class _Resource(schemas._Open):
    id: str
    type: str
    attributes: dict[str, Any]
    links: dict[str, str]
    meta: dict[str, Any]


class _Page(schemas._Open):
    meta: dict[str, int]
    links: dict[str, str | None]


class WebhookSingle(schemas._Open):
    data: _Resource


class WebhookList(_Page):
    data: list[_Resource]


class SubscriptionSingle(schemas._Open):
    data: _Resource
    meta: dict[str, str] | None = None


class SubscriptionList(_Page):
    data: list[_Resource]


_ANSWERS = {**schemas.ERRORS, 429: {"model": schemas.ErrorBody, "description": "RATE_LIMIT"}}
_SUBSCRIBE_ANSWERS = {
    **_ANSWERS,
    404: {"model": schemas.ErrorBody, "description": "The webhook, or the user's connection to the vehicle, does not exist"},
    409: {"model": schemas.ErrorBody, "description": "The vehicle is subscribed to the webhook already"},
}  # fmt: skip

_UUID = {"type": "string", "format": "uuid"}


def _subscription_body(*required: str) -> dict[str, Any]:
    """The request body of a subscription: JSON:API, its ids in ``data.attributes``."""
    attributes = {"type": "object", "properties": {name: _UUID for name in required}, "required": list(required)}
    schema = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["attributes"],
                "properties": {"type": {"type": "string", "enum": ["subscription"]}, "attributes": attributes},
            }
        },
    }
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


PageNumber = Annotated[str | None, Query(alias="page[number]", description="Page, from 1")]
PageSize = Annotated[str | None, Query(alias="page[size]", description="1–100")]
_TRUE_OR_FALSE: dict[str, Any] = {"enum": ["true", "false"]}
WebhookId = Annotated[str, Path(description="A webhook's id")]

# -------------------------------------------------------------------------------------------------


async def _application(request: Request) -> str:
    claims = await platform_of(request).gate.admit_application(request.headers.get("authorization"))
    if claims.user_id is not None:
        raise AuthenticationError(
            "The Management API takes the application token (client credentials), not a user token.",
        )
    return claims.application_id


def _bool(query: Mapping[str, str], name: str) -> bool | None:
    raw = query.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ValidationFailed(f"{name} must be true or false, not {raw!r}.", source={"parameter": name})


def _uuid_filter(query: Mapping[str, str], name: str) -> str | None:
    raw = query.get(name)
    return None if raw is None else parse_uuid(raw, name, parameter=name)


def _paging(query: Mapping[str, str], default_size: int) -> tuple[int, int]:
    paging = parse_paging(query, default_size=default_size)
    if paging.size > MAX_PAGE_SIZE:
        raise ValidationFailed(
            f"page[size] must be at most {MAX_PAGE_SIZE}.", source={"parameter": "page[size]"}
        )
    return paging.number, paging.size


def _page(data: list[Any], origin: str, path: str, number: int, size: int, total: int) -> Response:
    return json_response(
        {
            "data": data,
            "meta": {"page": number, "pageSize": size, "totalCount": total},
            "links": page_links(origin, path, number, size, total),
        }
    )


@router.get("/webhooks", summary="List the application's webhooks", response_model=WebhookList, responses=_ANSWERS)
async def list_webhooks(
    request: Request,
    name: Annotated[str | None, Query(alias="filter[name]", description="Part of the name, any case")] = None,
    callback_uri: Annotated[str | None, Query(alias="filter[callbackUri]", description="Part of the callback URI")] = None,
    is_enabled: Annotated[str | None, Query(alias="filter[isEnabled]", json_schema_extra=_TRUE_OR_FALSE)] = None,
    auto_subscribe: Annotated[
        str | None, Query(alias="filter[autoSubscribe]", json_schema_extra=_TRUE_OR_FALSE)
    ] = None,
    page_number: PageNumber = None,
    page_size: PageSize = None,
) -> Response:
    """Filters `filter[name]` and `filter[callbackUri]` (partial, case-insensitive),
    `filter[isEnabled]`, `filter[autoSubscribe]`; paging `page[number]`, `page[size]` (1–100, 50)."""
    application_id = await _application(request)
    query = request.query_params
    filters = WebhookFilter(
        name=query.get("filter[name]") or None,
        callback_uri=query.get("filter[callbackUri]") or None,
        enabled=_bool(query, "filter[isEnabled]"),
        auto_subscribe=_bool(query, "filter[autoSubscribe]"),
    )
    number, size = _paging(query, 50)
    page = await platform_of(request).webhooks.list_webhooks(
        application_id, filters, (number - 1) * size, size
    )
    origin = request_origin(request)
    data = [webhook_resource(w, origin) for w in page.items]
    return _page(data, origin, "/v3/webhooks", number, size, page.total)


@router.get("/webhooks/{webhook_id}", summary="Get a webhook", response_model=WebhookSingle, responses=_ANSWERS)
async def get_webhook(request: Request, webhook_id: WebhookId) -> Response:
    application_id = await _application(request)
    record = await platform_of(request).webhooks.get(application_id, webhook_id)
    return json_response({"data": webhook_resource(record, request_origin(request))})


async def _list_subscriptions(request: Request, webhook_id: str | None) -> Response:
    application_id = await _application(request)
    query = request.query_params
    mode = query.get("filter[vehicle.mode]")
    if mode is not None and mode not in ("live", "simulated"):
        raise ValidationFailed(
            f"filter[vehicle.mode] must be live or simulated, not {mode!r}.",
            source={"parameter": "filter[vehicle.mode]"},
        )
    filters = SubscriptionFilter(
        user_id=_uuid_filter(query, "filter[userId]"),
        webhook_id=webhook_id or _uuid_filter(query, "filter[webhookId]"),
        vehicle_id=_uuid_filter(query, "filter[vehicleId]"),
        vehicle_mode=mode,
    )
    number, size = _paging(query, 25)
    page = await platform_of(request).webhooks.list_subscriptions(
        application_id, filters, (number - 1) * size, size
    )
    origin = request_origin(request)
    path = f"/v3/webhooks/{webhook_id}/subscriptions" if webhook_id else "/v3/subscriptions"
    data = [subscription_resource(s, origin) for s in page.items]
    return _page(data, origin, path, number, size, page.total)


async def _attributes(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ValidationFailed("The body must be JSON.", source={"pointer": "/"}) from None
    data = body.get("data") if isinstance(body, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(attributes, dict):
        raise ValidationFailed(
            'The body must be {"data": {"type": "subscription", "attributes": {...}}}.',
            source={"pointer": "/data/attributes"},
        )
    return attributes


def _required(attributes: Mapping[str, Any], name: str) -> str:
    value = attributes.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationFailed(
            f"data.attributes.{name} is required.",
            code="MISSING_PARAMETER",
            source={"pointer": f"/data/attributes/{name}"},
        )
    return value


async def _subscribe(request: Request, webhook_id: str | None) -> Response:
    application_id = await _application(request)
    attributes = await _attributes(request)
    webhook = webhook_id or _required(attributes, "webhookId")
    record = await platform_of(request).webhooks.subscribe(
        application_id, webhook, _required(attributes, "userId"), _required(attributes, "vehicleId")
    )
    return json_response(
        {
            "data": subscription_resource(record, request_origin(request)),
            "meta": {"message": "subscription creation in progress"},
        },
        202,
    )


UserFilter = Annotated[str | None, Query(alias="filter[userId]")]
VehicleFilter = Annotated[str | None, Query(alias="filter[vehicleId]")]
ModeFilter = Annotated[str | None, Query(alias="filter[vehicle.mode]", json_schema_extra={"enum": ["live", "simulated"]})]


@router.get(
    "/subscriptions", summary="List subscriptions", response_model=SubscriptionList, responses=_ANSWERS
)
async def list_subscriptions(
    request: Request,
    user_id: UserFilter = None,
    webhook: Annotated[str | None, Query(alias="filter[webhookId]")] = None,
    vehicle_id: VehicleFilter = None,
    mode: ModeFilter = None,
    page_number: PageNumber = None,
    page_size: PageSize = None,
) -> Response:
    return await _list_subscriptions(request, None)


@router.post(
    "/subscriptions", status_code=202, summary="Subscribe a vehicle to a webhook",
    response_model=SubscriptionSingle, responses=_SUBSCRIBE_ANSWERS,
    openapi_extra=_subscription_body("webhookId", "userId", "vehicleId"),
)  # fmt: skip
async def subscribe(request: Request) -> Response:
    """Body `{"data": {"type": "subscription", "attributes": {"webhookId", "userId",
    "vehicleId"}}}`; 202, 409 when already subscribed, 404 when the user has no connection to
    the vehicle. A FIRST_DELIVERY follows."""
    return await _subscribe(request, None)


@router.get(
    "/subscriptions/{subscription_id}", summary="Get a subscription", response_model=SubscriptionSingle,
    responses=_ANSWERS,
)  # fmt: skip
async def get_subscription(request: Request, subscription_id: str) -> Response:
    application_id = await _application(request)
    record = await platform_of(request).webhooks.get_subscription(application_id, subscription_id)
    return json_response({"data": subscription_resource(record, request_origin(request))})


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="Unsubscribe", responses=_ANSWERS)
async def unsubscribe(request: Request, subscription_id: str) -> Response:
    application_id = await _application(request)
    await platform_of(request).webhooks.unsubscribe(application_id, subscription_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/subscriptions", summary="List a webhook's subscriptions",
    response_model=SubscriptionList, responses=_ANSWERS,
)  # fmt: skip
async def list_webhook_subscriptions(
    request: Request,
    webhook_id: WebhookId,
    user_id: UserFilter = None,
    vehicle_id: VehicleFilter = None,
    mode: ModeFilter = None,
    page_number: PageNumber = None,
    page_size: PageSize = None,
) -> Response:
    return await _list_subscriptions(request, parse_uuid(webhook_id, "webhookId", parameter="webhookId"))


@router.post(
    "/webhooks/{webhook_id}/subscriptions", status_code=202, summary="Subscribe a vehicle",
    response_model=SubscriptionSingle, responses=_SUBSCRIBE_ANSWERS,
    openapi_extra=_subscription_body("userId", "vehicleId"),
)  # fmt: skip
async def subscribe_to_webhook(request: Request, webhook_id: WebhookId) -> Response:
    """Body `{"data": {"attributes": {"userId", "vehicleId"}}}`."""
    return await _subscribe(request, webhook_id)


@router.delete(
    "/webhooks/{webhook_id}/subscriptions/{vehicle_id}", status_code=204, summary="Unsubscribe a vehicle",
    responses=_ANSWERS,
)
async def unsubscribe_from_webhook(request: Request, webhook_id: WebhookId, vehicle_id: str) -> Response:
    application_id = await _application(request)
    await platform_of(request).webhooks.unsubscribe_vehicle(application_id, webhook_id, vehicle_id)
    return Response(status_code=204)


_V2_ANSWERS = {**v2_schemas.ERRORS, 404: v2_schemas._error("RESOURCE_NOT_FOUND: no such webhook or vehicle")}


@v2_router.post(
    "/vehicles/{vehicle_id}/webhooks/{webhook_id}", summary="Subscribe the vehicle to a webhook", responses=_V2_ANSWERS
)
async def v2_subscribe(request: Request, vehicle_id: str, webhook_id: str) -> Response:
    """With the user's access token; subscribing again answers the same."""
    platform = platform_of(request)
    access = await platform.v2.admit(request.headers.get("authorization"), vehicle_id)
    try:
        await platform.webhooks.subscribe(access.application_id, webhook_id, access.user_id, access.vehicle_id)
    except AlreadySubscribed:
        pass
    return json_response({"webhookId": webhook_id, "vehicleId": access.vehicle_id})


@v2_router.delete(
    "/vehicles/{vehicle_id}/webhooks/{webhook_id}", summary="Unsubscribe the vehicle", responses=_V2_ANSWERS
)
async def v2_unsubscribe(request: Request, vehicle_id: str, webhook_id: str) -> Response:
    """With the application management token as the bearer."""
    webhooks = platform_of(request).webhooks
    application_id = await webhooks.application_of_management_token(request.headers.get("authorization"))
    await webhooks.unsubscribe_vehicle(application_id, webhook_id, vehicle_id)
    return json_response({"status": "success"})
