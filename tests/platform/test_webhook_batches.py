"""A batch of deliveries with one callback that hangs: the others are settled (delivered, logged)
without waiting for it, and the worker keeps claiming new events meanwhile; the slow one is
settled when it ends. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from motorpool.platform.services.webhook_delivery import DeliveryWorker, Sender
from motorpool.platform.store.models import WebhookEvent

from ..support.databases import PreparedDatabase
from ..support.harness import PlatformHarness, running_platform
from ..support.receiver import Receiver

#: How long the slow callback takes to answer: far longer than settling the others may take.
SLOW_S = 4.0


@pytest.fixture
async def quiet_platform(prepared_database: PreparedDatabase) -> AsyncIterator[PlatformHarness]:
    """The platform without a worker of its own: the test's worker is the only one."""
    async with running_platform(
        prepared_database.url, first=prepared_database.first, webhook_worker=False
    ) as harness:
        yield harness


async def webhook_to(platform: PlatformHarness, name: str, receiver: Receiver) -> str:
    created = await platform.http.post(
        f"/admin/applications/{platform.application_id}/webhooks",
        json={"name": name, "callbackUri": receiver.url},
        headers=platform.admin_headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["data"]["meta"]["verified"]
    return str(created.json()["data"]["id"])


async def statuses(platform: PlatformHarness, webhook_id: str) -> list[tuple[str, int]]:
    async with platform.platform.sessions() as session:
        rows = await session.execute(
            select(WebhookEvent.status, WebhookEvent.attempts)
            .where(
                WebhookEvent.webhook_id == webhook_id, WebhookEvent.event_type == "VEHICLE_STATE"
            )
            .order_by(WebhookEvent.created_at)
        )
        return [(row[0], row[1]) for row in rows]


async def test_a_hanging_callback_holds_neither_the_rest_of_its_batch_nor_the_next_claim(
    quiet_platform: PlatformHarness,
) -> None:
    platform = quiet_platform
    slow = await Receiver(platform.management_token).start()
    fast = await Receiver(platform.management_token).start()
    services = platform.platform
    worker = DeliveryWorker(services.sessions, services.clocks, Sender(), poll_s=0.05)
    try:
        slow_hook = await webhook_to(platform, "Slow", slow)
        fast_hook = await webhook_to(platform, "Fast", fast)
        slow.delay = SLOW_S
        await platform.admin("POST", f"/admin/webhooks/{slow_hook}/test")
        await platform.admin("POST", f"/admin/webhooks/{fast_hook}/test")

        started = time.monotonic()
        assert await worker.drain_once() is False  # both taken in one batch
        # The fast callback's event is settled while the slow one is still waiting for its answer.
        assert time.monotonic() - started < SLOW_S / 2
        assert await statuses(platform, fast_hook) == [("delivered", 1)]
        assert await statuses(platform, slow_hook) == [("pending", 0)]
        assert len(slow.events("VEHICLE_STATE")) == 1  # sent, not answered yet

        # A new event is claimed and delivered meanwhile, and the slow one is not sent twice.
        await platform.admin("POST", f"/admin/webhooks/{fast_hook}/test")
        await worker.drain_once()
        assert await statuses(platform, fast_hook) == [("delivered", 1)] * 2
        assert time.monotonic() - started < SLOW_S / 2
        assert len(slow.events("VEHICLE_STATE")) == 1

        # Once the slow callback answers, its event is settled in the background.
        deadline = time.monotonic() + SLOW_S + 5
        while await statuses(platform, slow_hook) != [("delivered", 1)]:
            assert time.monotonic() < deadline, await statuses(platform, slow_hook)
            await asyncio.sleep(0.1)
        assert await worker.stop(grace_s=1) == 0
    finally:
        await worker.stop(grace_s=0)
        await worker.sender.close()
        await slow.stop()
        await fast.stop()


async def test_a_stop_hands_back_a_hanging_send_whose_batch_moved_on(
    quiet_platform: PlatformHarness,
) -> None:
    platform = quiet_platform
    slow = await Receiver(platform.management_token).start()
    services = platform.platform
    # A lease of an hour: only handing back lets another worker take the event soon.
    worker = DeliveryWorker(services.sessions, services.clocks, Sender(), lease_s=3600)
    try:
        slow_hook = await webhook_to(platform, "Slow", slow)
        slow.delay = 30
        await platform.admin("POST", f"/admin/webhooks/{slow_hook}/test")
        await worker.drain_once()  # returns with the send still in flight
        assert len(slow.events("VEHICLE_STATE")) == 1
        assert await worker.stop(grace_s=0.2) == 1
        assert await statuses(platform, slow_hook) == [("pending", 0)]
    finally:
        await worker.sender.close()
        await slow.stop()
