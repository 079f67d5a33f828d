"""A delivery worker told to stop: it takes nothing more, lets the sends in flight finish, and
hands back (releases the lease of) what it cannot finish in its grace period, so that another
worker sends it at once instead of when the lease runs out. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from motorpool.platform.services.webhook_delivery import DeliveryWorker, Sender
from motorpool.platform.store.models import WebhookEvent

from ..support.databases import PreparedDatabase
from ..support.harness import PlatformHarness, running_platform
from ..support.receiver import Receiver

EVENTS = 5


@pytest.fixture
async def quiet_platform(prepared_database: PreparedDatabase) -> AsyncIterator[PlatformHarness]:
    """The platform without a worker of its own: the tests' workers are the only ones."""
    async with running_platform(
        prepared_database.url, first=prepared_database.first, webhook_worker=False
    ) as harness:
        yield harness


@pytest.fixture
async def receiver(quiet_platform: PlatformHarness) -> AsyncIterator[Receiver]:
    started = await Receiver(quiet_platform.management_token).start()
    try:
        yield started
    finally:
        await started.stop()


async def queued_test_events(platform: PlatformHarness, receiver: Receiver) -> str:
    body = {"name": "Stops", "callbackUri": receiver.url}
    created = await platform.http.post(
        f"/admin/applications/{platform.application_id}/webhooks",
        json=body,
        headers=platform.admin_headers,
    )
    assert created.status_code == 201, created.text
    webhook_id = str(created.json()["data"]["id"])
    for _ in range(EVENTS):
        await platform.admin("POST", f"/admin/webhooks/{webhook_id}/test")
    return webhook_id


def worker_of(platform: PlatformHarness, **options: Any) -> DeliveryWorker:
    services = platform.platform
    return DeliveryWorker(services.sessions, services.clocks, Sender(), poll_s=0.05, **options)


async def events_of(platform: PlatformHarness, webhook_id: str) -> list[WebhookEvent]:
    async with platform.platform.sessions() as session:
        rows = await session.scalars(
            select(WebhookEvent).where(
                WebhookEvent.webhook_id == webhook_id, WebhookEvent.event_type == "VEHICLE_STATE"
            )
        )
        return list(rows)


async def test_a_stopping_worker_finishes_the_sends_in_flight(
    quiet_platform: PlatformHarness, receiver: Receiver
) -> None:
    webhook_id = await queued_test_events(quiet_platform, receiver)
    receiver.delay = 0.5
    worker = worker_of(quiet_platform)
    running = asyncio.create_task(worker.run())
    try:
        await receiver.wait_for(EVENTS, "VEHICLE_STATE")  # all posted, none answered yet
        assert await worker.stop(grace_s=10) == 0
        await asyncio.wait_for(running, 5)  # the loop ends by itself once stopped
    finally:
        running.cancel()
        await worker.sender.close()
    events = await events_of(quiet_platform, webhook_id)
    assert [(e.status, e.attempts, e.claim) for e in events] == [("delivered", 1, None)] * EVENTS


async def test_a_stopping_worker_hands_back_what_it_could_not_finish(
    quiet_platform: PlatformHarness, receiver: Receiver
) -> None:
    webhook_id = await queued_test_events(quiet_platform, receiver)
    receiver.delay = 30  # longer than the grace: the sends are cut short
    # A lease of an hour: only handing back lets another worker take the events soon.
    worker = worker_of(quiet_platform, lease_s=3600)
    running = asyncio.create_task(worker.run())
    try:
        await receiver.wait_for(EVENTS, "VEHICLE_STATE")
        assert await worker.stop(grace_s=0.2) == EVENTS
        await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), 5)
    finally:
        running.cancel()
        await worker.sender.close()
    events = await events_of(quiet_platform, webhook_id)
    # Pending, free for anyone, and no attempt counted against the retries.
    assert [(e.status, e.attempts, e.claim, e.lease_until) for e in events] == [
        ("pending", 0, None, None)
    ] * EVENTS

    receiver.delay = 0
    other = worker_of(quiet_platform)
    try:
        await other.drain_once()
    finally:
        await other.sender.close()
    events = await events_of(quiet_platform, webhook_id)
    assert {(e.status, e.attempts) for e in events} == {("delivered", 1)}


async def test_a_stopped_worker_takes_nothing_more(
    quiet_platform: PlatformHarness, receiver: Receiver
) -> None:
    worker = worker_of(quiet_platform)
    assert await worker.stop() == 0
    webhook_id = await queued_test_events(quiet_platform, receiver)
    try:
        await asyncio.wait_for(worker.run(), 5)  # returns at once: it is stopping
    finally:
        await worker.sender.close()
    assert receiver.events("VEHICLE_STATE") == []
    assert {e.status for e in await events_of(quiet_platform, webhook_id)} == {"pending"}
