"""Bounds of webhook deliveries: the 50 KB body limit, and the delivery log's retention (by age
and by count per webhook), against the platform's real database and a real receiver."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from motorpool.platform.services.webhook_delivery import MAX_BODY_BYTES, DeliveryWorker, Sender
from motorpool.platform.store import webhook_repo
from motorpool.platform.store.db import json_dumps, json_loads

from ..support.harness import PlatformHarness
from ..support.receiver import Receiver

ODOMETER = "odometer-traveleddistance"


async def create_webhook(platform: PlatformHarness, url: str) -> dict[str, Any]:
    body = {"name": "Limits", "callbackUri": url, "triggers": [ODOMETER], "data": [ODOMETER]}
    response = await platform.http.post(
        f"/admin/applications/{platform.application_id}/webhooks", json=body, headers=platform.admin_headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


async def log_of(platform: PlatformHarness, webhook_id: str) -> list[dict[str, Any]]:
    return list(await platform.admin("GET", f"/admin/webhooks/{webhook_id}/deliveries", params={"limit": 500}))


async def settled_log(platform: PlatformHarness, webhook_id: str, events: int) -> list[dict[str, Any]]:
    """The log once ``events`` test events have their attempt in it."""
    for _ in range(200):
        log = await log_of(platform, webhook_id)
        if sum(d["eventType"] == "VEHICLE_STATE" for d in log) >= events:
            return log
        await asyncio.sleep(0.05)
    raise AssertionError(f"{events} attempts were not logged: {log}")


def claimed(payload: dict[str, Any], url: str, token: str) -> webhook_repo.Claimed:
    return webhook_repo.Claimed(
        event_id=payload["eventId"], webhook_id="w", event_type="VEHICLE_STATE", payload=payload,
        attempts=0, callback_uri=url, error_callback_uri=None, management_token=token,
    )  # fmt: skip


async def test_a_body_over_50_kb_is_recorded_as_failed_without_being_sent(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    assert MAX_BODY_BYTES == 50 * 1024
    services = platform.platform
    worker = DeliveryWorker(services.sessions, services.clocks, Sender())
    small = {"eventId": "e-small", "eventType": "VEHICLE_STATE", "data": {}, "meta": {"version": "4.0"}}
    large = {**small, "eventId": "e-large", "data": {"note": "x" * MAX_BODY_BYTES}}
    try:
        refused = await worker._attempt(claimed(large, receiver.url, platform.management_token), 0)
        sent = await worker._attempt(claimed(small, receiver.url, platform.management_token), 0)
    finally:
        await worker.sender.close()
    # No retry either: sending it again would not make it smaller.
    assert refused.status == "failed" and refused.attempts == 1
    assert refused.delivery.status_code is None
    assert refused.delivery.error is not None and "exceeds the limit of 51,200" in refused.delivery.error
    assert sent.status == "delivered"
    assert [d.event["eventId"] for d in receiver.deliveries] == ["e-small"]


async def test_the_delivery_log_keeps_a_bounded_number_of_attempts_per_webhook(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    webhook = await create_webhook(platform, receiver.url)
    for _ in range(15):
        await platform.admin("POST", f"/admin/webhooks/{webhook['id']}/test")
    before = await settled_log(platform, webhook["id"], 15)
    assert len(before) == 16  # VERIFY and 15 test events
    services = platform.platform
    worker = DeliveryWorker(services.sessions, services.clocks, Sender(), log_per_webhook=10)
    assert await worker.prune() == 6
    after = await log_of(platform, webhook["id"])
    kept = {d["id"] for d in after}
    gone = [d for d in before if d["id"] not in kept]
    assert len(after) == 10 and kept < {d["id"] for d in before}
    assert "VERIFY" in {d["eventType"] for d in gone}  # the oldest go first
    assert max(d["createdAt"] for d in gone) <= min(d["createdAt"] for d in after)
    assert await worker.prune() == 0
    # The events whose attempts went are gone too; what is left is counted as before.
    shown = await platform.admin("GET", f"/admin/webhooks/{webhook['id']}")
    assert shown["meta"]["events"].get("delivered") == 10, shown["meta"]


async def test_settled_events_older_than_the_retention_go_and_pending_ones_stay(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    webhook = await create_webhook(platform, receiver.url)
    await platform.admin("POST", f"/admin/webhooks/{webhook['id']}/test")
    await settled_log(platform, webhook["id"], 1)
    receiver.status = 500  # this one fails and waits for its retry: pending
    await platform.admin("POST", f"/admin/webhooks/{webhook['id']}/test")
    log = await settled_log(platform, webhook["id"], 2)
    await asyncio.sleep(0.05)
    services = platform.platform
    worker = DeliveryWorker(services.sessions, services.clocks, Sender(), retention_hours=1e-6)
    removed = await worker.prune()
    assert removed == 2  # VERIFY and the delivered test event; the pending one keeps its attempt
    left = await log_of(platform, webhook["id"])
    assert [d["id"] for d in left] == [log[-1]["id"]]
    assert left[0]["eventStatus"] == "pending"


def test_json_columns_are_read_with_orjson_and_nan_still_reads() -> None:
    assert json_loads('{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    assert math.isnan(json_loads('{"a": NaN}')["a"])  # as the standard library writes NaN


def test_json_columns_are_written_with_orjson_and_what_it_refuses_still_writes() -> None:
    assert json_loads(json_dumps({"a": (1, 2.5), 3: "x"})) == {"a": [1, 2.5], "3": "x"}
    assert json_loads(json_dumps({"big": 2**70})) == {"big": 2**70}  # beyond orjson's 64 bits
