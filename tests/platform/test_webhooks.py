"""Webhooks end to end inside one process: the platform's worker posts over real loopback
sockets to a receiver that verifies what it gets with the official SDK and motorpool's own."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import smartcar

import motorpool

from ..support.harness import PlatformHarness
from ..support.receiver import Receiver
from ..support.v2 import fleet_vehicle

ODOMETER = "odometer-traveleddistance"
LOCATION = "location-preciselocation"


async def create_webhook(platform: PlatformHarness, url: str, **extra: Any) -> dict[str, Any]:
    body = {"name": "Trips", "callbackUri": url, "triggers": [ODOMETER], "data": [ODOMETER, LOCATION], **extra}
    response = await platform.http.post(
        f"/admin/applications/{platform.application_id}/webhooks", json=body, headers=platform.admin_headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json()["data"])


async def connected_vehicle(platform: PlatformHarness, seed: int = 11) -> tuple[str, str]:
    vehicle_id = await fleet_vehicle(platform, seed=seed)
    user_id, vehicles = await platform.connect(email=f"hooks{seed}@example.com", vehicles=[vehicle_id])
    assert vehicles == [vehicle_id]
    return user_id, vehicle_id


async def subscribe(platform: PlatformHarness, webhook_id: str, user_id: str, vehicle_id: str) -> Any:
    return await platform.http.post(
        "/v3/subscriptions",
        json={"data": {"type": "subscription", "attributes": {
            "webhookId": webhook_id, "userId": user_id, "vehicleId": vehicle_id}}},
        headers=await platform.auth_headers(),
    )  # fmt: skip


async def test_a_verified_webhook_sends_signed_events_both_sdks_verify(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    webhook = await create_webhook(platform, receiver.url)
    assert webhook["meta"]["verified"] is True, webhook
    (verify,) = receiver.events("VERIFY")
    assert verify.event["meta"]["webhookId"] == webhook["id"]

    user_id, vehicle_id = await connected_vehicle(platform)
    response = await subscribe(platform, webhook["id"], user_id, vehicle_id)
    assert response.status_code == 202, response.text
    assert response.json()["meta"] == {"message": "subscription creation in progress"}
    again = await subscribe(platform, webhook["id"], user_id, vehicle_id)
    assert again.status_code == 409, again.text

    (first,) = await receiver.wait_for(1, "VEHICLE_STATE")
    signature = first.headers["sc-signature"]
    assert smartcar.verify_payload(platform.management_token, signature, first.raw.decode())
    assert motorpool.verify_signature(first.raw, signature, platform.management_token)
    assert not motorpool.verify_signature(first.raw + b" ", signature, platform.management_token)
    assert first.headers["user-agent"].startswith("Smartcar/")
    event = first.event
    assert event["vehicleId"] == vehicle_id
    assert event["data"]["user"] == {"id": user_id}
    assert event["data"]["triggers"] == [{"code": "FIRST_DELIVERY"}]
    assert [s["code"] for s in event["data"]["signals"]] == [ODOMETER, LOCATION]
    odometer = event["data"]["signals"][0]
    assert odometer["body"]["unit"] == "km" and odometer["body"]["value"] >= 0
    assert set(odometer["meta"]) == {"oemUpdatedAt", "retrievedAt", "fetchedAt"}
    meta = event["meta"]
    assert meta["version"] == "4.0" and meta["webhookId"] == webhook["id"] and meta["webhookName"] == "Trips"
    assert meta["signalCount"] == 2 and meta["mode"] == "LIVE"
    assert isinstance(meta["deliveredAt"], int) and meta["deliveryId"]
    parsed = motorpool.construct_event(first.raw, signature, platform.management_token)
    assert isinstance(parsed, motorpool.VehicleStateEvent)

    # A trigger's reported value changes (here pinned through the control plane): one event
    # naming that trigger, carrying the new value.
    pinned = {"unit": "km", "value": 123456.5}
    await platform.admin("PUT", f"/admin/vehicles/{vehicle_id}/signals/{ODOMETER}", json={"body": pinned})
    deliveries = await receiver.wait_for(2, "VEHICLE_STATE")
    changed = deliveries[1].event
    assert changed["data"]["triggers"] == [{"code": ODOMETER, "name": "TraveledDistance", "group": "Odometer"}]
    assert changed["data"]["signals"][0]["body"] == pinned
    assert changed["eventId"] != event["eventId"]


async def test_failed_attempts_are_retried_on_the_applications_clock_with_the_same_event_id(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    await platform.http.put(
        f"/admin/applications/{platform.application_id}/clock", json={"rate": 0}, headers=platform.admin_headers
    )
    webhook = await create_webhook(platform, receiver.url)
    receiver.status = 500
    user_id, vehicle_id = await connected_vehicle(platform, seed=12)
    assert (await subscribe(platform, webhook["id"], user_id, vehicle_id)).status_code == 202
    await receiver.wait_for(1, "VEHICLE_STATE")
    await asyncio.sleep(0.5)
    assert len(receiver.events("VEHICLE_STATE")) == 1, "a frozen clock holds the retry back"

    async def step(seconds: int) -> None:
        await platform.admin(
            "POST", f"/admin/applications/{platform.application_id}/clock/advance", json={"seconds": seconds}
        )

    await step(25)
    await receiver.wait_for(2, "VEHICLE_STATE")
    receiver.status = 204
    await step(50)
    attempts = await receiver.wait_for(3, "VEHICLE_STATE")
    assert len({a.event["eventId"] for a in attempts}) == 1
    assert len({a.event["meta"]["deliveryId"] for a in attempts}) == 3

    # The log is written once the answer is in: the receiver may be a moment ahead of it.
    for _ in range(100):
        log = await platform.admin("GET", f"/admin/webhooks/{webhook['id']}/deliveries")
        states = [d for d in log if d["eventType"] == "VEHICLE_STATE"]
        if len(states) == 3:
            break
        await asyncio.sleep(0.05)
    assert [(d["attempt"], d["statusCode"]) for d in states] == [(1, 500), (2, 500), (3, 204)]
    assert states[-1]["eventStatus"] == "delivered"
    assert states[0]["error"] == "answered 500"


async def test_a_wrong_challenge_leaves_the_webhook_unverified_and_silent(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    receiver.wrong_challenge = True
    webhook = await create_webhook(platform, receiver.url)
    assert webhook["meta"]["verified"] is False
    assert "challenge" in webhook["meta"]["verifyError"]
    user_id, vehicle_id = await connected_vehicle(platform, seed=13)
    assert (await subscribe(platform, webhook["id"], user_id, vehicle_id)).status_code == 202
    await asyncio.sleep(1.0)
    assert receiver.events("VEHICLE_STATE") == []
    refused = await platform.http.post(f"/admin/webhooks/{webhook['id']}/test", headers=platform.admin_headers)
    assert refused.status_code == 400 and refused.json()["code"] == "WEBHOOK_NOT_VERIFIED"
    # Verified on demand: the vehicle subscribed meanwhile gets its FIRST_DELIVERY then.
    receiver.wrong_challenge = False
    verified = await platform.admin("POST", f"/admin/webhooks/{webhook['id']}/verify")
    assert verified["meta"]["verified"] is True
    (first,) = await receiver.wait_for(1, "VEHICLE_STATE")
    assert first.event["data"]["triggers"] == [{"code": "FIRST_DELIVERY"}]


async def test_bad_configurations_and_subscriptions_get_clear_errors(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    response = await platform.http.post(
        f"/admin/applications/{platform.application_id}/webhooks",
        json={"name": "x", "callbackUri": "ftp://example.com/hook", "triggers": ["odometer-nope", ODOMETER]},
        headers=platform.admin_headers,
    )
    assert response.status_code == 400, response.text
    details = [e["detail"] for e in response.json()["errors"]]
    assert any("callbackUri" in d for d in details) and any("odometer-nope" in d for d in details)

    webhook = await create_webhook(platform, receiver.url)
    other = await fleet_vehicle(platform, seed=99)  # in the fleet, connected to nobody
    user_id, _ = await connected_vehicle(platform, seed=14)
    response = await subscribe(platform, webhook["id"], user_id, other)
    assert response.status_code == 404, response.text
    assert response.json()["errors"][0]["type"] == "RESOURCE_NOT_FOUND"
    missing = await subscribe(platform, "00000000-0000-4000-8000-000000000000", user_id, other)
    assert missing.status_code == 404
    unauthenticated = await platform.http.get("/v3/webhooks")
    assert unauthenticated.status_code == 401


async def test_the_management_api_lists_webhooks_and_subscriptions_in_json_api_shapes(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    webhook = await create_webhook(platform, receiver.url, name="Charging Webhook")
    await create_webhook(platform, receiver.url, name="Other")
    headers = await platform.auth_headers()
    listed = (await platform.http.get("/v3/webhooks", params={"filter[name]": "charg"}, headers=headers)).json()
    assert [w["id"] for w in listed["data"]] == [webhook["id"]]
    assert listed["meta"]["totalCount"] == 1
    one = (await platform.http.get(f"/v3/webhooks/{webhook['id']}", headers=headers)).json()["data"]
    assert one["type"] == "webhook"
    assert one["attributes"]["triggers"] == [{"group": "Odometer", "name": "TraveledDistance", "code": ODOMETER}]
    assert one["attributes"]["isEnabled"] is True and one["attributes"]["autoSubscribe"] is False

    user_id, vehicle_id = await connected_vehicle(platform, seed=15)
    nested = await platform.http.post(
        f"/v3/webhooks/{webhook['id']}/subscriptions",
        json={"data": {"attributes": {"userId": user_id, "vehicleId": vehicle_id}}},
        headers=headers,
    )
    assert nested.status_code == 202, nested.text
    subs = (await platform.http.get("/v3/subscriptions", params={"filter[vehicleId]": vehicle_id}, headers=headers)).json()
    (sub,) = subs["data"]
    assert sub["type"] == "subscription"
    assert sub["relationships"]["webhook"]["data"] == {"type": "webhook", "id": webhook["id"]}
    assert sub["relationships"]["user"]["data"] == {"type": "user", "id": user_id}
    assert sub["attributes"]["vehicle"]["make"] == "TESLA"
    got = await platform.http.get(f"/v3/subscriptions/{sub['id']}", headers=headers)
    assert got.status_code == 200
    deleted = await platform.http.delete(f"/v3/subscriptions/{sub['id']}", headers=headers)
    assert deleted.status_code == 204
    assert (await platform.http.get(f"/v3/subscriptions/{sub['id']}", headers=headers)).status_code == 404


async def test_going_offline_sends_vehicle_error_and_coming_back_resolved(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    webhook = await create_webhook(platform, receiver.url)
    user_id, vehicle_id = await connected_vehicle(platform, seed=16)
    assert (await subscribe(platform, webhook["id"], user_id, vehicle_id)).status_code == 202
    await receiver.wait_for(1, "VEHICLE_STATE")
    await platform.admin("POST", f"/admin/vehicles/{vehicle_id}/online", json={"online": False})
    (error,) = await receiver.wait_for(1, "VEHICLE_ERROR")
    (detail,) = error.event["data"]["errors"]
    assert (detail["type"], detail["code"], detail["state"]) == ("VEHICLE_STATE", "UNREACHABLE", "ERROR")
    assert {s["code"] for s in detail["signals"]} == {ODOMETER, LOCATION}
    assert error.event["meta"]["version"] == "4.0" and error.event["vehicleId"] == vehicle_id
    await platform.admin("POST", f"/admin/vehicles/{vehicle_id}/online", json={"online": True})
    errors = await receiver.wait_for(2, "VEHICLE_ERROR")
    assert errors[1].event["data"]["errors"][0]["state"] == "RESOLVED"


async def test_stepping_a_frozen_clock_emits_the_trips_reports_in_order(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    clock = f"/admin/applications/{platform.application_id}/clock"
    await platform.admin("PUT", clock, json={"rate": 0})
    webhook = await create_webhook(platform, receiver.url)
    user_id, vehicle_id = await connected_vehicle(platform, seed=17)
    assert (await subscribe(platform, webhook["id"], user_id, vehicle_id)).status_code == 202
    await receiver.wait_for(1, "VEHICLE_STATE")
    await platform.admin(
        "POST", f"/admin/vehicles/{vehicle_id}/drive", json={"latitude": 37.80, "longitude": -122.27}
    )
    await platform.admin("POST", f"{clock}/advance", json={"seconds": 120})
    # A driving car reports every 10 s: two minutes are about a dozen reports, each a new odometer.
    try:
        states = await receiver.wait_for(10, "VEHICLE_STATE")
    except TimeoutError:
        # Say what the platform did: a failed attempt waits for its retry on the frozen clock.
        log = await platform.admin("GET", f"/admin/webhooks/{webhook['id']}/deliveries", params={"limit": 50})
        received = [d.event.get("data", {}).get("signals") for d in receiver.events("VEHICLE_STATE")]
        attempts = [{k: a.get(k) for k in ("eventType", "eventStatus", "attempt", "statusCode", "latencyMs", "error")} for a in log]
        raise AssertionError(f"{len(received)} VEHICLE_STATE received; attempts: {attempts}") from None
    await asyncio.sleep(0.5)
    trip = [d.event for d in receiver.events("VEHICLE_STATE")][1:]
    # Deliveries may arrive out of order (as Smartcar's do); ordered by oemUpdatedAt, each report
    # is 10 s after the one before and the odometer only grows.
    readings = sorted((e["data"]["signals"][0] for e in trip), key=lambda r: r["meta"]["oemUpdatedAt"])
    times = [r["meta"]["oemUpdatedAt"] for r in readings]
    values = [r["body"]["value"] for r in readings]
    assert len(states) >= 10
    assert len(set(times)) == len(times)
    assert all(later - earlier == 10_000 for earlier, later in itertools.pairwise(times[1:]))
    assert values == sorted(values) and values[-1] > values[0]


async def test_two_workers_never_send_the_same_attempt_twice(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    """Extra workers beside the platform's own drain one outbox; every event goes out once."""
    from motorpool.platform.services.webhook_delivery import DeliveryWorker, Sender

    webhook = await create_webhook(platform, receiver.url)
    events = 60
    for _ in range(events):
        await platform.admin("POST", f"/admin/webhooks/{webhook['id']}/test")
    services = platform.platform
    workers = [DeliveryWorker(services.sessions, services.clocks, Sender()) for _ in range(2)]
    try:
        await asyncio.gather(*(worker.drain_once() for worker in workers for _ in range(3)))
        received = await receiver.wait_for(events, "VEHICLE_STATE")
        await asyncio.sleep(0.5)
    finally:
        for worker in workers:
            await worker.sender.close()
    ids = [d.event["eventId"] for d in receiver.events("VEHICLE_STATE")]
    assert len(received) == events and len(set(ids)) == len(ids) == events
    assert all(d.event["meta"]["mode"] == "TEST" for d in received)
    for _ in range(100):  # the log is written once the answers are in
        log = await platform.admin("GET", f"/admin/webhooks/{webhook['id']}/deliveries", params={"limit": 500})
        if sum(d["eventType"] == "VEHICLE_STATE" for d in log) >= events:
            break
        await asyncio.sleep(0.05)
    assert sorted(d["eventId"] for d in log if d["eventType"] == "VEHICLE_STATE") == sorted(ids)


async def test_auto_subscribe_takes_connections_old_and_new_but_not_simulated_ones(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    _, simulated = await connected_vehicle(platform, seed=18)
    _, before = await platform.connect(email="auto-before@example.com", mode="test")
    webhook = await create_webhook(platform, receiver.url, autoSubscribe=True)
    _, after = await platform.connect(email="auto-after@example.com", mode="test")
    headers = await platform.auth_headers()

    async def subscribed() -> set[str]:
        listed = await platform.http.get(f"/v3/webhooks/{webhook['id']}/subscriptions", headers=headers)
        return {s["relationships"]["vehicle"]["data"]["id"] for s in listed.json()["data"]}

    for _ in range(100):
        if set(after) <= await subscribed():
            break
        await asyncio.sleep(0.05)
    found = await subscribed()
    assert set(before) | set(after) <= found and simulated not in found
    arrived = await receiver.wait_for(len(found), "VEHICLE_STATE")
    assert {d.event["meta"]["mode"] for d in arrived} == {"TEST"}


async def test_disabling_drops_what_is_queued_and_enabling_sends_first_delivery_again(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    webhook = await create_webhook(platform, receiver.url)
    user_id, vehicle_id = await connected_vehicle(platform, seed=19)
    assert (await subscribe(platform, webhook["id"], user_id, vehicle_id)).status_code == 202
    await receiver.wait_for(1, "VEHICLE_STATE")
    disabled = await platform.admin("PATCH", f"/admin/webhooks/{webhook['id']}", json={"isEnabled": False})
    assert disabled["attributes"]["isEnabled"] is False
    await platform.admin("PUT", f"/admin/vehicles/{vehicle_id}/signals/{ODOMETER}", json={"body": {"unit": "km", "value": 1.0}})
    await asyncio.sleep(1.0)
    assert len(receiver.events("VEHICLE_STATE")) == 1, "a disabled webhook is not monitored"
    await platform.admin("PATCH", f"/admin/webhooks/{webhook['id']}", json={"isEnabled": True})
    second = (await receiver.wait_for(2, "VEHICLE_STATE"))[1].event
    assert second["data"]["triggers"] == [{"code": "FIRST_DELIVERY"}]
    assert second["data"]["signals"][0]["body"]["value"] == 1.0


async def test_unreachable_and_redirecting_callbacks_are_recorded_failures(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on once this closes
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    refused = await create_webhook(platform, f"http://127.0.0.1:{closed}/hook")
    assert refused["meta"]["verified"] is False
    assert refused["meta"]["verifyError"]
    (attempt,) = await platform.admin("GET", f"/admin/webhooks/{refused['id']}/deliveries")
    assert attempt["eventType"] == "VERIFY" and attempt["statusCode"] is None and attempt["error"]

    webhook = await create_webhook(platform, receiver.url)
    receiver.status = 307
    user_id, vehicle_id = await connected_vehicle(platform, seed=20)
    assert (await subscribe(platform, webhook["id"], user_id, vehicle_id)).status_code == 202
    await receiver.wait_for(1, "VEHICLE_STATE")
    for _ in range(100):
        log = await platform.admin("GET", f"/admin/webhooks/{webhook['id']}/deliveries")
        states = [d for d in log if d["eventType"] == "VEHICLE_STATE"]
        if states:
            break
        await asyncio.sleep(0.05)
    assert states[0]["statusCode"] == 307 and states[0]["error"] == "redirects are not followed"
    assert states[0]["eventStatus"] == "pending"  # retried at +25 s
    # The platform keeps serving.
    assert (await platform.http.get("/v3/webhooks", headers=await platform.auth_headers())).status_code == 200


async def test_a_disconnected_vehicles_subscription_goes_with_its_connection(
    platform: PlatformHarness, receiver: Receiver
) -> None:
    webhook = await create_webhook(platform, receiver.url)
    user_id, vehicle_id = await connected_vehicle(platform, seed=22)
    assert (await subscribe(platform, webhook["id"], user_id, vehicle_id)).status_code == 202
    await receiver.wait_for(1, "VEHICLE_STATE")
    headers = await platform.auth_headers()
    gone = await platform.http.delete(f"/v3/connections/{vehicle_id}", headers=headers)
    assert gone.status_code == 204, gone.text
    for _ in range(100):
        listed = await platform.http.get("/v3/subscriptions", params={"filter[vehicleId]": vehicle_id}, headers=headers)
        if listed.json()["data"] == []:
            break
        await asyncio.sleep(0.05)
    assert listed.json()["data"] == []
