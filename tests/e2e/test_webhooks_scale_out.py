"""Webhooks across processes: two ``motorpool serve`` processes, each with its delivery worker,
drain one outbox on one PostgreSQL database. Every event reaches the callback exactly once, and
one process stopped with SIGTERM while events stream loses none: what it was sending it
finishes before it exits, the rest the other process sends."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from pathlib import Path

import httpx
import pytest

from ..support.harness import KEY_ENCRYPTION_KEY
from ..support.receiver import Receiver
from ..support.requirements import required_env
from ..support.scale_out import Pair, fresh_database, two_processes

pytestmark = pytest.mark.e2e

EVENTS = 60
#: Each answer takes this long, so that SIGTERM finds sends in flight.
ANSWER_DELAY = 1.0
#: A short lease: an event whose send were cut short would be sent again within the test.
LEASE_SECONDS = 3


def test_two_processes_deliver_each_event_once_and_a_sigterm_loses_none(tmp_path: Path) -> None:
    database = required_env("MOTORPOOL_TEST_DATABASE_URL", "PostgreSQL")
    redis = required_env("MOTORPOOL_TEST_REDIS_URL", "Redis")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    environment = {
        "MOTORPOOL_WEBHOOK_POLL_SECONDS": "0.1",
        "MOTORPOOL_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
        # Both processes unseal the signing keys the first start sealed.
        "MOTORPOOL_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY,
    }
    with (
        fresh_database(database, f"hooks_{worker}") as url,
        two_processes(tmp_path, url, redis, environment) as pair,
    ):
        asyncio.run(_stream_and_stop(pair))


async def _stream_and_stop(pair: Pair) -> None:
    first, second = pair.first, pair.second
    amt = pair.env()["APPLICATION_MANAGEMENT_TOKEN"]
    receiver = await Receiver(amt).start()
    try:
        created = await asyncio.to_thread(
            second.cli,
            "webhooks",
            "create",
            "--name",
            "Stream",
            "--url",
            receiver.url,
            "--json",
            cwd=first.workdir,  # where the admin token was written
        )
        assert created.returncode == 0, created.stderr
        webhook_id = json.loads(created.stdout)["id"]
        receiver.delay = ANSWER_DELAY
        first_admin = httpx.AsyncClient(
            base_url=first.origin, headers=first.admin_headers(), timeout=30
        )
        http = httpx.AsyncClient(base_url=second.origin, headers=first.admin_headers(), timeout=30)
        async with first_admin, http:
            # The first half through the first process, whose worker is woken by them at once.
            for _ in range(EVENTS // 2):
                queued = await first_admin.post(f"/admin/webhooks/{webhook_id}/test")
                assert queued.status_code == 202, queued.text
            # Mid-stream: sends are waiting on the callback's answers; the first is told to stop.
            await receiver.wait_for(1, "VEHICLE_STATE")
            first.process.terminate()
            for _ in range(EVENTS - EVENTS // 2):
                queued = await http.post(f"/admin/webhooks/{webhook_id}/test")
                assert queued.status_code == 202, queued.text
                await asyncio.sleep(0.02)
            await asyncio.to_thread(first.process.wait, 30)
            # A graceful stop (uvicorn then exits by the signal it was sent, as is the convention).
            assert "Application shutdown complete" in first.output.read_text()
            await receiver.wait_for(EVENTS, "VEHICLE_STATE", timeout=60)
            # Past the lease: a send cut short and not handed back would be sent again by now.
            await asyncio.sleep(LEASE_SECONDS + 1.5)

            counts = Counter(d.event["eventId"] for d in receiver.events("VEHICLE_STATE"))
            assert len(counts) == EVENTS, "an event was lost"
            assert set(counts.values()) == {1}, (
                f"sent twice: {[e for e, n in counts.items() if n > 1]}"
            )
            log = await http.get(f"/admin/webhooks/{webhook_id}/deliveries", params={"limit": 500})
            assert log.status_code == 200, log.text
            attempts = Counter(
                d["eventId"] for d in log.json()["data"] if d["eventType"] == "VEHICLE_STATE"
            )
            assert attempts == counts, "the delivery log disagrees with what arrived"
    finally:
        await receiver.stop()
