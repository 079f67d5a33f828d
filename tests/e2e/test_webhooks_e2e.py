"""Webhooks as a new user meets them: ``motorpool serve`` in its own process, a webhook made with
the CLI pointing at a receiver, a vehicle subscribed through the Management API, signed events;
the platform killed with ``kill -9`` mid-delivery and restarted delivers what was in flight, with
its original eventId."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import smartcar

from ..support.processes import Served, serve
from ..support.receiver import Receiver

pytestmark = pytest.mark.e2e

ODOMETER = "odometer-traveleddistance"
#: A short lease, so that the restarted platform takes over the killed one's delivery soon.
ENVIRONMENT = {"MOTORPOOL_WEBHOOK_LEASE_SECONDS": "2"}


async def call(served: Served, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=served.origin, timeout=30) as http:
        return await http.request(method, path, **kwargs)


async def test_events_in_flight_when_the_platform_is_killed_arrive_after_a_restart(tmp_path: Path) -> None:
    served = await asyncio.to_thread(serve, tmp_path, environment=ENVIRONMENT)
    amt = served.env()["APPLICATION_MANAGEMENT_TOKEN"]
    receiver = await Receiver(amt).start()
    try:
        created = await asyncio.to_thread(
            served.cli, "webhooks", "create", "--name", "Trips", "--url", receiver.url,
            "--trigger", ODOMETER, "--data", ODOMETER, "--json",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        webhook = json.loads(created.stdout)
        assert webhook["meta"]["verified"] is True

        admin = served.admin_headers()
        application_id = served.env()["MOTORPOOL_APPLICATION_ID"]
        vehicle = (await call(served, "POST", "/admin/vehicles", headers=admin,
                              json={"applicationId": application_id, "make": "TESLA", "model": "Model 3"})).json()["data"]  # fmt: skip
        connection = (await call(
            served, "POST", f"/admin/applications/{application_id}/connections", headers=admin,
            json={"email": "e2e@example.com", "mode": "simulated", "vehicleIds": [vehicle["id"]]},
        )).json()["data"]  # fmt: skip
        token = (await asyncio.to_thread(served.grant)).json()["access_token"]
        subscribed = await call(
            served, "POST", "/v3/subscriptions", headers={"Authorization": f"Bearer {token}"},
            json={"data": {"attributes": {"webhookId": webhook["id"], "userId": connection["userId"],
                                          "vehicleId": vehicle["id"]}}},
        )  # fmt: skip
        assert subscribed.status_code == 202, subscribed.text
        (first,) = await receiver.wait_for(1, "VEHICLE_STATE")
        assert smartcar.verify_payload(amt, first.headers["sc-signature"], first.raw.decode())

        # The next delivery hangs at the receiver; the platform dies while it waits.
        receiver.delay = 30
        pinned = await call(served, "PUT", f"/admin/vehicles/{vehicle['id']}/signals/{ODOMETER}",
                            headers=admin, json={"body": {"unit": "km", "value": 4242.0}})  # fmt: skip
        assert pinned.status_code == 200, pinned.text
        (_, in_flight) = await receiver.wait_for(2, "VEHICLE_STATE")
        served.process.kill()
        served.process.wait(15)
        receiver.delay = 0

        restarted = await asyncio.to_thread(serve, tmp_path, environment=ENVIRONMENT)
        try:
            deliveries = await receiver.wait_for(3, "VEHICLE_STATE", timeout=30)
            again = deliveries[2]
            assert again.event["eventId"] == in_flight.event["eventId"]
            assert again.event["meta"]["deliveryId"] != in_flight.event["meta"]["deliveryId"]
            assert again.event["data"]["signals"][0]["body"]["value"] == 4242.0
            assert smartcar.verify_payload(amt, again.headers["sc-signature"], again.raw.decode())
            log = await asyncio.to_thread(restarted.cli, "webhooks", "deliveries", webhook["id"])
            assert log.returncode == 0, log.stderr
            assert in_flight.event["eventId"] in log.stdout
        finally:
            restarted.stop()
    finally:
        await receiver.stop()
        if served.process.poll() is None:
            served.stop()


async def test_motorpool_worker_delivers_for_a_serve_that_runs_none(tmp_path: Path) -> None:
    """``serve`` with its worker turned off queues events; ``motorpool worker`` on the same
    database sends them."""
    import subprocess
    import sys

    served = await asyncio.to_thread(serve, tmp_path, environment={"MOTORPOOL_WEBHOOK_WORKER": "false"})
    amt = served.env()["APPLICATION_MANAGEMENT_TOKEN"]
    receiver = await Receiver(amt).start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        created = await asyncio.to_thread(
            served.cli, "webhooks", "create", "--name", "Queued", "--url", receiver.url, "--json"
        )
        assert created.returncode == 0, created.stderr
        webhook = json.loads(created.stdout)
        tested = await asyncio.to_thread(served.cli, "webhooks", "test", webhook["id"])
        assert tested.returncode == 0, tested.stderr
        await asyncio.sleep(1.0)
        assert receiver.events("VEHICLE_STATE") == [], "serve runs no worker"
        worker = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-m", "motorpool.cli", "worker", "--database-url", f"sqlite:///{tmp_path / 'motorpool.db'}"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        (test_event,) = await receiver.wait_for(1, "VEHICLE_STATE", timeout=30)
        assert test_event.event["meta"]["mode"] == "TEST"
        assert smartcar.verify_payload(amt, test_event.headers["sc-signature"], test_event.raw.decode())
    finally:
        if worker is not None:
            worker.terminate()
            await asyncio.to_thread(worker.wait, 15)
        await receiver.stop()
        served.stop()
