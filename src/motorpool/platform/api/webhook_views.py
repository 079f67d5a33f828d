"""The JSON shapes of webhooks and subscriptions (smartcar-v3.md §7), for the Management API
and the admin API alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..services.webhook_events import signal_ref
from ..services.webhooks import DeliveryRecord, SubscriptionRecord, WebhookRecord


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def webhook_resource(webhook: WebhookRecord, origin: str) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "type": "webhook",
        "attributes": {
            "name": webhook.name,
            "callbackUri": webhook.callback_uri,
            "isEnabled": webhook.enabled,
            "triggers": [signal_ref(code) for code in webhook.triggers],
            "data": [signal_ref(code) for code in webhook.data],
            "errorCallbackUri": webhook.error_callback_uri,
            "autoSubscribe": webhook.auto_subscribe,
        },
        "links": {"self": f"{origin}/v3/webhooks/{webhook.id}"},
        "meta": {"createdAt": iso(webhook.created_at)},
    }


def admin_webhook(webhook: WebhookRecord, origin: str) -> dict[str, Any]:
    """The resource plus what an operator needs: whether VERIFY passed, and why not."""
    resource = webhook_resource(webhook, origin)
    resource["meta"] |= {
        "applicationId": webhook.application_id,
        "verified": webhook.verified_at is not None,
        "verifiedAt": iso(webhook.verified_at),
        "verifyError": webhook.verify_error,
        "updatedAt": iso(webhook.updated_at),
    }
    return resource


def subscription_resource(sub: SubscriptionRecord, origin: str) -> dict[str, Any]:
    base = f"{origin}/v3"
    return {
        "id": sub.id,
        "type": "subscription",
        "attributes": {
            "vehicle": {
                "make": sub.make,
                "model": sub.model,
                "year": sub.year,
                "mode": sub.mode,
                "powertrainType": sub.powertrain,
            }
        },
        "relationships": {
            "webhook": {
                "data": {"type": "webhook", "id": sub.webhook_id},
                "links": {"related": f"{base}/webhooks/{sub.webhook_id}"},
            },
            "user": {
                "data": {"type": "user", "id": sub.user_id},
                "links": {"related": f"{base}/users/{sub.user_id}"},
            },
            "vehicle": {
                "data": {"type": "vehicle", "id": sub.vehicle_id},
                "links": {"related": f"{base}/vehicles/{sub.vehicle_id}"},
            },
        },
        "links": {"self": f"{base}/subscriptions/{sub.id}"},
        "meta": {"createdAt": iso(sub.created_at), "updatedAt": iso(sub.updated_at)},
    }


def delivery_view(delivery: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "eventId": delivery.event_id,
        "eventType": delivery.event_type,
        "eventStatus": delivery.event_status,
        "attempt": delivery.attempt,
        "url": delivery.url,
        "requestBody": delivery.request_body,
        "statusCode": delivery.status_code,
        "latencyMs": delivery.latency_ms,
        "error": delivery.error,
        "createdAt": iso(delivery.created_at),
    }


def page_links(origin: str, path: str, number: int, size: int, total: int) -> dict[str, Any]:
    last = max(1, -(-total // size))

    def link(page: int) -> str:
        return f"{origin}{path}?page[number]={page}&page[size]={size}"

    return {
        "self": link(number),
        "first": link(1),
        "previous": link(number - 1) if number > 1 else None,
        "next": link(number + 1) if number < last else None,
        "last": link(last),
    }
