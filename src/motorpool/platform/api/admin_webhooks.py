"""The admin API of webhooks: configure, verify, test, read the delivery log, redeliver.
(Smartcar configures webhooks in its dashboard only; here the CLI and this API do.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ..errors import ValidationFailed
from ..services.vocabulary import SIGNAL_CODES
from ..services.webhooks import WebhookConfig, WebhookFilter
from .admin import ADMIN_ERRORS, require_admin
from .common import json_response, platform_of, request_origin
from .webhook_views import admin_webhook, delivery_view

router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_admin)], responses=ADMIN_ERRORS)


_SIGNAL_CODES: dict[str, Any] = {"items": {"enum": list(SIGNAL_CODES)}}


class WebhookBody(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    callback_uri: str | None = Field(default=None, alias="callbackUri", max_length=2000)
    error_callback_uri: str | None = Field(default=None, alias="errorCallbackUri", max_length=2000)
    # The codes are checked by the service (every unknown one named); the document lists them.
    triggers: list[str] | None = Field(default=None, description="signal codes whose change sends an event",
                                       json_schema_extra=_SIGNAL_CODES)
    data: list[str] | None = Field(default=None, description="signal codes every event carries",
                                   json_schema_extra=_SIGNAL_CODES)
    auto_subscribe: bool | None = Field(default=None, alias="autoSubscribe")
    enabled: bool | None = Field(default=None, alias="isEnabled")
    model_config = {"populate_by_name": True, "extra": "forbid"}

    def config(self) -> WebhookConfig:
        return WebhookConfig(
            name=self.name,
            callback_uri=self.callback_uri,
            error_callback_uri=self.error_callback_uri,
            error_callback_given="error_callback_uri" in self.model_fields_set,
            triggers=self.triggers,
            data=self.data,
            auto_subscribe=self.auto_subscribe,
            enabled=self.enabled,
        )


def _one(request: Request, record: Any, status: int = 200) -> Response:
    return json_response({"data": admin_webhook(record, request_origin(request))}, status)


@router.get("/applications/{application_id}/webhooks", summary="List an application's webhooks")
async def list_webhooks(request: Request, application_id: str) -> Response:
    platform = platform_of(request)
    await platform.admin.application(application_id)  # 404 for an application that does not exist
    page = await platform.webhooks.list_webhooks(application_id, WebhookFilter(), 0, 1000)
    origin = request_origin(request)
    return json_response({"data": [admin_webhook(w, origin) for w in page.items]})


@router.post("/applications/{application_id}/webhooks", status_code=201, summary="Create a webhook")
async def create_webhook(request: Request, application_id: str, body: WebhookBody) -> Response:
    """Creates the webhook and sends its callback a VERIFY challenge at once (up to 15 s); the
    answer tells whether it passed (`meta.verified`, `meta.verifyError`)."""
    record = await platform_of(request).webhooks.create(application_id, body.config())
    return _one(request, record, 201)


@router.get("/webhooks/{webhook_id}", summary="Get a webhook")
async def get_webhook(request: Request, webhook_id: str) -> Response:
    webhooks = platform_of(request).webhooks
    record = await webhooks.get(await webhooks.owner(webhook_id), webhook_id)
    view = admin_webhook(record, request_origin(request))
    view["meta"]["events"] = await webhooks.counts(webhook_id)
    return json_response({"data": view})


@router.patch("/webhooks/{webhook_id}", summary="Change a webhook (a new callback is verified again)")
async def update_webhook(request: Request, webhook_id: str, body: WebhookBody) -> Response:
    webhooks = platform_of(request).webhooks
    record = await webhooks.update(await webhooks.owner(webhook_id), webhook_id, body.config())
    return _one(request, record)


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Delete a webhook")
async def delete_webhook(request: Request, webhook_id: str) -> Response:
    webhooks = platform_of(request).webhooks
    await webhooks.delete(await webhooks.owner(webhook_id), webhook_id)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/verify", summary="Send the callback a VERIFY challenge")
async def verify_webhook(request: Request, webhook_id: str) -> Response:
    webhooks = platform_of(request).webhooks
    return _one(request, await webhooks.verify(await webhooks.owner(webhook_id), webhook_id))


@router.post("/webhooks/{webhook_id}/test", status_code=202, summary="Send a TEST event")
async def test_webhook(request: Request, webhook_id: str) -> Response:
    webhooks = platform_of(request).webhooks
    event_id = await webhooks.send_test(await webhooks.owner(webhook_id), webhook_id)
    return json_response({"data": {"eventId": event_id}}, 202)


@router.get("/webhooks/{webhook_id}/deliveries", summary="The delivery log: every attempt")
async def deliveries(
    request: Request,
    webhook_id: str,
    after: str | None = Query(default=None, description="only attempts made after this instant (ISO 8601)"),
    limit: int = Query(default=50, ge=1, le=500),
) -> Response:
    since: datetime | None = None
    if after:
        try:
            since = datetime.fromisoformat(after)
        except ValueError:
            raise ValidationFailed(
                f"after must be an ISO 8601 instant, not {after!r}.", source={"parameter": "after"}
            ) from None
    webhooks = platform_of(request).webhooks
    found = await webhooks.deliveries(await webhooks.owner(webhook_id), webhook_id, since, limit)
    return json_response({"data": [delivery_view(d) for d in found]})


@router.post("/events/{event_id}/redeliver", status_code=202, summary="Send an event again")
async def redeliver(request: Request, event_id: str) -> Response:
    """Queued at once with its original `eventId`; a new `deliveryId`."""
    await platform_of(request).webhooks.redeliver(None, event_id)
    return json_response({"data": {"eventId": event_id}}, 202)
