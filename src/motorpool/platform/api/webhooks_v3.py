"""The Management API v3 (``/v3/webhooks``, ``/v3/subscriptions``, top-level and nested under a
webhook) and v2's per-vehicle subscribe and unsubscribe (``/v2.0/vehicles/{id}/webhooks/{id}``).

v3 takes the application token of the Vehicle API; v2's subscribe takes the user token and its
unsubscribe the application management token as a bearer, as the official SDKs send them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..errors import AuthenticationError, ValidationFailed
from ..services.params import parse_paging, parse_uuid
from ..services.webhooks import AlreadySubscribed, SubscriptionFilter, WebhookFilter
from .common import json_response, platform_of, request_origin
from .v2 import V2Route
from .webhook_views import page_links, subscription_resource, webhook_resource

router = APIRouter(prefix="/v3", tags=["Management API v3"])
v2_router = APIRouter(prefix="/v2.0", tags=["Vehicle API v2.0"], route_class=V2Route)

MAX_PAGE_SIZE = 100


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


@router.get("/webhooks", summary="List the application's webhooks")
async def list_webhooks(request: Request) -> Response:
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


@router.get("/webhooks/{webhook_id}", summary="Get a webhook")
async def get_webhook(request: Request, webhook_id: str) -> Response:
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


@router.get("/subscriptions", summary="List subscriptions")
async def list_subscriptions(request: Request) -> Response:
    return await _list_subscriptions(request, None)


@router.post("/subscriptions", status_code=202, summary="Subscribe a vehicle to a webhook")
async def subscribe(request: Request) -> Response:
    """Body `{"data": {"type": "subscription", "attributes": {"webhookId", "userId",
    "vehicleId"}}}`; 202, 409 when already subscribed, 404 when the user has no connection to
    the vehicle. A FIRST_DELIVERY follows."""
    return await _subscribe(request, None)


@router.get("/subscriptions/{subscription_id}", summary="Get a subscription")
async def get_subscription(request: Request, subscription_id: str) -> Response:
    application_id = await _application(request)
    record = await platform_of(request).webhooks.get_subscription(application_id, subscription_id)
    return json_response({"data": subscription_resource(record, request_origin(request))})


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="Unsubscribe")
async def unsubscribe(request: Request, subscription_id: str) -> Response:
    application_id = await _application(request)
    await platform_of(request).webhooks.unsubscribe(application_id, subscription_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/subscriptions", summary="List a webhook's subscriptions")
async def list_webhook_subscriptions(request: Request, webhook_id: str) -> Response:
    return await _list_subscriptions(request, parse_uuid(webhook_id, "webhookId", parameter="webhookId"))


@router.post("/webhooks/{webhook_id}/subscriptions", status_code=202, summary="Subscribe a vehicle")
async def subscribe_to_webhook(request: Request, webhook_id: str) -> Response:
    """Body `{"data": {"attributes": {"userId", "vehicleId"}}}`."""
    return await _subscribe(request, webhook_id)


@router.delete(
    "/webhooks/{webhook_id}/subscriptions/{vehicle_id}", status_code=204, summary="Unsubscribe a vehicle"
)
async def unsubscribe_from_webhook(request: Request, webhook_id: str, vehicle_id: str) -> Response:
    application_id = await _application(request)
    await platform_of(request).webhooks.unsubscribe_vehicle(application_id, webhook_id, vehicle_id)
    return Response(status_code=204)


@v2_router.post("/vehicles/{vehicle_id}/webhooks/{webhook_id}", summary="Subscribe the vehicle to a webhook")
async def v2_subscribe(request: Request, vehicle_id: str, webhook_id: str) -> Response:
    """With the user's access token; subscribing again answers the same."""
    platform = platform_of(request)
    access = await platform.v2.admit(request.headers.get("authorization"), vehicle_id)
    try:
        await platform.webhooks.subscribe(access.application_id, webhook_id, access.user_id, access.vehicle_id)
    except AlreadySubscribed:
        pass
    return json_response({"webhookId": webhook_id, "vehicleId": access.vehicle_id})


@v2_router.delete("/vehicles/{vehicle_id}/webhooks/{webhook_id}", summary="Unsubscribe the vehicle")
async def v2_unsubscribe(request: Request, vehicle_id: str, webhook_id: str) -> Response:
    """With the application management token as the bearer."""
    webhooks = platform_of(request).webhooks
    application_id = await webhooks.application_of_management_token(request.headers.get("authorization"))
    await webhooks.unsubscribe_vehicle(application_id, webhook_id, vehicle_id)
    return json_response({"status": "success"})
