"""Client behaviour over a scripted network, run on the sync and the async client alike.

The network here is ``httpx.MockTransport``: it produces what a real platform cannot be asked
for on cue — a burst of 503s, a connection dropped mid-request, a ``retry-after`` — and records
exactly what the client sent.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

import motorpool

from ..support.sdk import (
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    Fake,
    error_body,
    json_of,
    resolve,
    resolve_error,
    signal_item,
    signals_body,
)

VEHICLE = "0b5c2e3f-1111-4a4a-9b9b-000000000001"
USER = "7d3b1c2a-2222-4b4b-8c8c-000000000002"


def vehicle_body(vehicle_id: str = VEHICLE) -> dict[str, Any]:
    attributes = {"make": "TESLA", "model": "Model 3", "year": 2022, "mode": "simulated", "powertrainType": "BEV"}
    return {"data": {"id": vehicle_id, "type": "vehicle", "attributes": attributes}, "id": vehicle_id, **attributes}


def ok(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def fail(status: int, error_type: str, code: str | None = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=error_body(status, error_type, code, f"{error_type} happened"), headers=headers)


def dropped(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("Connection refused", request=request)


# --- tokens -----------------------------------------------------------------------------------------


async def test_token_is_fetched_once_and_reused(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", ok(vehicle_body()))
    for _ in range(3):
        vehicle = await resolve(client.vehicles.get(VEHICLE))
    assert vehicle.make == "TESLA"
    assert fake.token_requests == 1
    [token_request] = fake.sent("POST", "/oauth2/token")
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(httpx.QueryParams(token_request.content.decode())) == {
        "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    for request in fake.sent("GET"):
        assert request.headers["authorization"] == "Bearer token-1"


async def test_token_is_renewed_shortly_before_it_expires(make_client: Any, fake: Fake) -> None:
    fake.token_lifetime = 1  # renewed a tenth of its life early: after 0.9 s
    client = make_client()
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", ok(vehicle_body()))
    await resolve(client.vehicles.get(VEHICLE))
    await resolve(client.vehicles.get(VEHICLE))
    assert fake.token_requests == 1
    await asyncio.sleep(0.95)
    await resolve(client.vehicles.get(VEHICLE))
    assert fake.token_requests == 2
    assert fake.sent("GET")[-1].headers["authorization"] == "Bearer token-2"


async def test_a_401_fetches_a_new_token_once_and_repeats_the_call(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(401, "AUTHENTICATION"), ok(vehicle_body()))
    vehicle = await resolve(client.vehicles.get(VEHICLE))
    assert vehicle.id == VEHICLE
    assert fake.token_requests == 2
    assert [r.headers["authorization"] for r in fake.sent("GET")] == ["Bearer token-1", "Bearer token-2"]


async def test_a_second_401_is_raised(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(401, "AUTHENTICATION"))
    error = await resolve_error(lambda: client.vehicles.get(VEHICLE), motorpool.AuthenticationError)
    assert isinstance(error, motorpool.AuthenticationError) and error.status_code == 401
    assert fake.token_requests == 2
    assert len(fake.sent("GET")) == 2


async def test_a_refused_client_gets_an_oauth_error(client: Any, fake: Fake) -> None:
    fake.script("POST", "/oauth2/token", ok({"error": "invalid_client", "error_description": "wrong secret"}, 401))
    error = await resolve_error(lambda: client.vehicles.get(VEHICLE), motorpool.OAuthError)
    assert isinstance(error, motorpool.OAuthError) and error.error == "invalid_client"
    assert fake.token_requests == 1  # a refusal is not retried
    assert not fake.sent("GET")


async def test_fifty_concurrent_tasks_cause_exactly_one_token_request(fake: Fake) -> None:
    def slow_token(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)  # a slow IAM: every task arrives while the first fetch is in flight
        return fake.token(request)

    async def slow_async_token(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return fake.token(request)

    fake.script("GET", f"/v3/vehicles/{VEHICLE}", ok(vehicle_body()))
    client = motorpool.AsyncClient(
        CLIENT_ID, CLIENT_SECRET, base_url=BASE,
        transport=httpx.MockTransport(lambda r: slow_async_token(r) if r.url.path == "/oauth2/token" else fake(r)),  # type: ignore[arg-type, return-value]
    )
    results = await asyncio.gather(*(client.vehicles.get(VEHICLE) for _ in range(50)))
    assert len(results) == 50
    assert fake.token_counter == 1
    await client.aclose()

    fake.token_counter = 0
    sync_client = motorpool.Client(
        CLIENT_ID, CLIENT_SECRET, base_url=BASE,
        transport=httpx.MockTransport(lambda r: slow_token(r) if r.url.path == "/oauth2/token" else fake(r)),
    )
    barrier = threading.Barrier(20)

    def call() -> None:
        barrier.wait()
        sync_client.vehicles.get(VEHICLE)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fake.token_counter == 1
    sync_client.close()


async def test_concurrent_401s_renew_the_token_once(fake: Fake) -> None:
    seen: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer token-1":
            return fail(401, "AUTHENTICATION")
        return ok(vehicle_body())

    async def network(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.02)  # every call is in flight at once, tokens included
        return fake(request)

    fake.script("GET", f"/v3/vehicles/{VEHICLE}", api)
    client = motorpool.AsyncClient(
        CLIENT_ID, CLIENT_SECRET, base_url=BASE, transport=httpx.MockTransport(network)  # type: ignore[arg-type]
    )
    await client.access_token()
    await asyncio.gather(*(client.vehicles.get(VEHICLE) for _ in range(20)))
    assert fake.token_requests == 2
    assert seen.count("Bearer token-1") == 20 and seen.count("Bearer token-2") == 20
    await client.aclose()


# --- retries ------------------------------------------------------------------------------------------


async def test_reads_ride_out_a_503_burst(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(503, "SERVER"), fail(503, "SERVER"), ok(vehicle_body()))
    vehicle = await resolve(client.vehicles.get(VEHICLE))
    assert vehicle.id == VEHICLE
    assert len(fake.sent("GET")) == 3


async def test_retries_are_bounded(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(503, "SERVER"))
    error = await resolve_error(lambda: client.vehicles.get(VEHICLE), motorpool.ServerError)
    assert isinstance(error, motorpool.ServerError) and error.status_code == 503
    assert len(fake.sent("GET")) == 3  # the first try and max_retries=2 more


async def test_max_retries_zero_tries_once(make_client: Any, fake: Fake) -> None:
    client = make_client(max_retries=0)
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(502, "UPSTREAM", "NO_RESPONSE"), ok(vehicle_body()))
    await resolve_error(lambda: client.vehicles.get(VEHICLE), motorpool.UpstreamError)
    assert len(fake.sent("GET")) == 1


async def test_retry_after_is_obeyed(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(429, "RATE_LIMIT", "VEHICLE", **{"retry-after": "0.3"}), ok(vehicle_body()))
    started = time.monotonic()
    await resolve(client.vehicles.get(VEHICLE))
    assert time.monotonic() - started >= 0.3
    assert len(fake.sent("GET")) == 2


async def test_a_retry_after_longer_than_allowed_is_raised_at_once(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(429, "RATE_LIMIT", "VEHICLE", **{"retry-after": "120"}))
    started = time.monotonic()
    error = await resolve_error(lambda: client.vehicles.get(VEHICLE), motorpool.RateLimitError)
    assert isinstance(error, motorpool.RateLimitError) and error.retry_after == 120
    assert time.monotonic() - started < 1
    assert len(fake.sent("GET")) == 1


async def test_reads_survive_a_dropped_connection(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", dropped, ok(vehicle_body()))
    assert (await resolve(client.vehicles.get(VEHICLE))).id == VEHICLE
    assert len(fake.sent("GET")) == 2


async def test_transport_errors_surface_when_retries_run_out(client: Any, fake: Fake, flavour: str) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", dropped)
    error = await resolve_error(lambda: client.vehicles.get(VEHICLE), motorpool.ReadError)
    assert isinstance(error, motorpool.ReadError) and error.request_sent
    if flavour == "async":
        # aiohttp resends a GET once itself when a connection drops before the answer
        # (RFC 9112 §9.3.1); the SDK's retries come on top.
        assert 3 <= len(fake.sent("GET")) <= 6
    else:
        assert len(fake.sent("GET")) == 3


async def test_client_errors_are_not_retried(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(404, "RESOURCE_NOT_FOUND", "PATH"))
    await resolve_error(lambda: client.vehicles.get(VEHICLE), motorpool.ResourceNotFoundError)
    assert len(fake.sent("GET")) == 1


async def test_commands_are_not_repeated_after_the_request_may_have_arrived(client: Any, fake: Fake) -> None:
    path = f"/v3/vehicles/{VEHICLE}/commands/security/unlock"
    fake.script("POST", path, dropped, ok({"data": {"id": "exec_1"}}))
    await resolve_error(lambda: client.user(USER).commands.unlock(VEHICLE), motorpool.ReadError)
    assert len(fake.sent("POST", path)) == 1
    fake.script("POST", path, fail(503, "SERVER"), ok({"data": {"id": "exec_1"}}))
    await resolve_error(lambda: client.user(USER).commands.unlock(VEHICLE), motorpool.ServerError)
    assert len(fake.sent("POST", path)) == 2


@pytest.mark.in_memory_network
async def test_commands_are_repeated_when_they_certainly_did_not_arrive(client: Any, fake: Fake) -> None:
    path = f"/v3/vehicles/{VEHICLE}/commands/security/lock"
    answer = ok({"data": {"id": "exec_9", "type": "command-execution", "attributes": {"status": {"value": "SUCCESS"}}}})
    fake.script("POST", path, refused, answer)
    execution = await resolve(client.user(USER).commands.lock(VEHICLE))
    assert execution.id == "exec_9" and execution.succeeded
    fake.script("POST", path, fail(429, "RATE_LIMIT", "VEHICLE", **{"retry-after": "0"}), answer)
    assert (await resolve(client.user(USER).commands.lock(VEHICLE))).id == "exec_9"
    assert len(fake.sent("POST", path)) == 4


# --- requests on the wire -----------------------------------------------------------------------------


async def test_user_views_send_sc_user_id_and_share_the_token(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", ok(vehicle_body()))
    await resolve(client.vehicles.get(VEHICLE))
    me = client.user(USER)
    assert me.user_id == USER and client.user_id is None
    await resolve(me.vehicles.get(VEHICLE))
    first, second = fake.sent("GET")
    assert "sc-user-id" not in first.headers
    assert second.headers["sc-user-id"] == USER
    assert fake.token_requests == 1
    assert second.headers["user-agent"].startswith("motorpool-python/")
    assert second.headers["accept"] == "application/json"


async def test_calls_made_for_a_user_need_a_user_view(client: Any, fake: Fake) -> None:
    with pytest.raises(motorpool.ConfigurationError, match="client.user"):
        await resolve(client.signals.list(VEHICLE))
    with pytest.raises(motorpool.ConfigurationError):
        await resolve(client.commands.lock(VEHICLE))
    assert not fake.requests


async def test_unit_system_is_sent_when_not_metric(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}/signals/odometer-traveleddistance",
                ok({"data": signal_item("odometer-traveleddistance", {"unit": "miles", "value": 10})},
                   **{"sc-unit-system": "imperial"}))
    imperial = client.user(USER).with_options(unit_system="imperial")
    odometer = await resolve(imperial.signals.odometer(VEHICLE))
    assert (odometer.distance, odometer.unit, odometer.meta.unit_system) == (10, "miles", "imperial")
    assert fake.sent("GET")[-1].headers["sc-unit-system"] == "imperial"
    await resolve(client.user(USER).signals.odometer(VEHICLE))
    assert "sc-unit-system" not in fake.sent("GET")[-1].headers


COMMANDS = [
    ("lock", (), "security/lock", None),
    ("unlock", (), "security/unlock", None),
    ("start_charge", (), "charge/start", None),
    ("stop_charge", (), "charge/stop", None),
    ("set_charge_limit", (80,), "charge/set-limit", {"data": {"attributes": {"percent": 80}}}),
    ("open_charge_port", (), "charge-port/open", None),
    ("close_charge_port", (), "charge-port/close", None),
    ("set_destination", (37.77, -122.42), "navigation/set-destination",
     {"data": {"attributes": {"latitude": 37.77, "longitude": -122.42}}}),
]


@pytest.mark.parametrize(("method", "args", "path", "body"), COMMANDS)
async def test_commands_go_to_their_v3_paths_with_their_bodies(
    client: Any, fake: Fake, method: str, args: tuple[Any, ...], path: str, body: Any
) -> None:
    url = f"/v3/vehicles/{VEHICLE}/commands/{path}"
    fake.script("POST", url, ok({"data": {"id": "exec_1", "type": "command-execution",
                                          "attributes": {"commandType": path.replace("/", "-"), "status": {"value": "SUCCESS"},
                                                         "executionMode": "sync"}}}))
    execution = await resolve(getattr(client.user(USER).commands, method)(VEHICLE, *args))
    assert execution.command_type == path.replace("/", "-")
    [request] = fake.sent("POST", url)
    assert request.headers["sc-user-id"] == USER
    assert json_of(request) == body
    if body is not None:
        assert request.headers["content-type"] == "application/json"


async def test_async_command_executions_can_be_read_again(client: Any, fake: Fake) -> None:
    fake.script("POST", f"/v3/vehicles/{VEHICLE}/commands/charge/start",
                ok({"data": {"id": "exec_7", "attributes": {"status": {"value": "PENDING"}, "executionMode": "async"}}}, 202))
    fake.script("GET", f"/v3/vehicles/{VEHICLE}/commands/executions/exec_7",
                ok({"data": {"id": "exec_7", "attributes": {"status": {"value": "SUCCESS"}, "executionMode": "async"}}}))
    me = client.user(USER)
    started = await resolve(me.commands.start_charge(VEHICLE))
    assert started.is_pending and started.meta.status_code == 202
    finished = await resolve(me.commands.get_execution(VEHICLE, started.id))
    assert finished.succeeded


async def test_charge_schedules(client: Any, fake: Fake) -> None:
    base = f"/v3/vehicles/{VEHICLE}/charge-schedules"
    answer = ok({"data": {"id": "exec_s", "type": "charge-schedule-execution",
                          "attributes": {"action": "create", "scheduleType": "daily", "scheduleId": "sched_1",
                                         "status": {"value": "SUCCESS"}}}})
    for kind in ("daily", "weekly", "workweek"):
        fake.script("POST", f"{base}/{kind}", answer)
    fake.script("DELETE", f"{base}/sched_1", httpx.Response(204))
    me = client.user(USER)
    created = await resolve(me.charge_schedules.set_daily(VEHICLE, latitude=1.5, longitude=2.5, start_time="08:00", stop_time="10:00"))
    assert created.schedule_id == "sched_1"
    await resolve(me.charge_schedules.set_weekly(VEHICLE, latitude=1.5, longitude=2.5, days={"Monday": ("08:00", "09:00")}))
    await resolve(me.charge_schedules.set_workweek(VEHICLE, latitude=1.5, longitude=2.5, weekdays=("07:00", "08:00"), weekends=("10:00", "12:00")))
    deleted = await resolve(me.charge_schedules.delete(VEHICLE, "sched_1"))
    assert isinstance(deleted, motorpool.Deleted) and deleted.meta.status_code == 204
    daily, weekly, workweek = (json_of(r)["data"]["attributes"] for r in fake.sent("POST") if r.url.path.startswith(base))
    assert daily == {"location": {"latitude": 1.5, "longitude": 2.5}, "startTime": "08:00", "stopTime": "10:00"}
    assert weekly == {"location": {"latitude": 1.5, "longitude": 2.5}, "days": {"monday": {"startTime": "08:00", "stopTime": "09:00"}}}
    assert workweek["weekdays"] == {"startTime": "07:00", "stopTime": "08:00"}
    assert workweek["weekends"] == {"startTime": "10:00", "stopTime": "12:00"}


async def test_management_calls(client: Any, fake: Fake) -> None:
    webhook = {"id": "w-1", "type": "webhook", "attributes": {"name": "Battery", "callbackUri": "https://e/h", "isEnabled": True}}
    subscription = {"id": "s-1", "type": "subscription",
                    "relationships": {"webhook": {"data": {"id": "w-1"}}, "user": {"data": {"id": USER}},
                                      "vehicle": {"data": {"id": VEHICLE}}}}
    fake.script("GET", "/v3/webhooks", ok({"data": [webhook], "meta": {"pageNumber": 1, "pageSize": 50, "totalCount": 1},
                                           "links": {"self": "s", "next": None}}))
    fake.script("GET", "/v3/webhooks/w-1", ok({"data": webhook}))
    fake.script("GET", "/v3/subscriptions", ok({"data": [subscription], "meta": {"totalCount": 1}, "links": {"next": None}}))
    fake.script("GET", "/v3/subscriptions/s-1", ok({"data": subscription}))
    fake.script("POST", "/v3/subscriptions", ok({"meta": {"message": "subscription creation in progress"}}, 202))
    fake.script("DELETE", "/v3/subscriptions/s-1", httpx.Response(204))
    page = await resolve(client.webhooks.list(is_enabled=True, name="Batt"))
    assert [w.name for w in page.data] == ["Battery"]
    assert (await resolve(client.webhooks.get("w-1"))).callback_uri == "https://e/h"
    subscriptions = await resolve(client.subscriptions.list(webhook_id="w-1", mode="simulated"))
    assert [s.vehicle_id for s in subscriptions.data] == [VEHICLE]
    assert (await resolve(client.subscriptions.get("s-1"))).webhook_id == "w-1"
    accepted = await resolve(client.subscriptions.create("w-1", USER, VEHICLE))
    assert accepted.message == "subscription creation in progress" and accepted.subscription is None
    assert (await resolve(client.subscriptions.delete("s-1"))).meta.status_code == 204
    listing = fake.sent("GET", "/v3/webhooks")[0]
    assert dict(listing.url.params) == {"filter[name]": "Batt", "filter[isEnabled]": "true"}
    assert dict(fake.sent("GET", "/v3/subscriptions")[0].url.params) == {"filter[webhookId]": "w-1", "filter[vehicle.mode]": "simulated"}
    assert json_of(fake.sent("POST", "/v3/subscriptions")[0]) == {
        "data": {"type": "subscription", "attributes": {"webhookId": "w-1", "userId": USER, "vehicleId": VEHICLE}}}


# --- pagination -----------------------------------------------------------------------------------------


def connections_page(request: httpx.Request) -> httpx.Response:
    number = int(request.url.params.get("page[number]", "1"))
    size = int(request.url.params.get("page[size]", "2"))
    total = 5
    ids = range((number - 1) * size, min(number * size, total))
    data = [{"id": f"c-{i}", "type": "connection", "attributes": {"permissions": []},
             "relationships": {"vehicle": {"data": {"id": f"v-{i}"}}, "user": {"data": {"id": USER}}}} for i in ids]
    following = f"{BASE}/v3/connections?page[number]={number + 1}" if number * size < total else None
    return ok({"data": data, "meta": {"page": number, "pageSize": size, "totalCount": total},
               "links": {"self": "s", "next": following}})


async def test_connections_list_walks_every_page(client: Any, fake: Fake, flavour: str) -> None:
    fake.script("GET", "/v3/connections", connections_page)
    listing = client.connections.list(user_id=USER, page_size=2)
    if flavour.startswith("sync"):
        ids = [c.id for c in listing]
        first = listing
    else:
        ids = [c.id async for c in listing]
        first = await listing
    assert ids == [f"c-{i}" for i in range(5)]
    assert [c.id for c in first.data] == ["c-0", "c-1"] and first.total_count == 5 and first.has_next_page()
    params = [dict(r.url.params) for r in fake.sent("GET", "/v3/connections")]
    assert params[:3] == [
        {"filter[userId]": USER, "page[size]": "2"},
        {"filter[userId]": USER, "page[number]": "2", "page[size]": "2"},
        {"filter[userId]": USER, "page[number]": "3", "page[size]": "2"},
    ]


async def test_signals_list_follows_pages(client: Any, fake: Fake) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        item = signal_item("odometer-traveleddistance" if number == 1 else "closure-islocked", {"value": number})
        return ok(signals_body([item], page=number, size=1, total=2, next_link="n" if number == 1 else None))

    fake.script("GET", f"/v3/vehicles/{VEHICLE}/signals", pages)
    signals = await resolve(client.user(USER).signals.list(VEHICLE))
    assert signals.codes == ["odometer-traveleddistance", "closure-islocked"]
    assert [dict(r.url.params) for r in fake.sent("GET")] == [{}, {"page": "2", "pageSize": "1"}]


# --- fleet reads ----------------------------------------------------------------------------------------


@pytest.mark.in_memory_network
async def test_fleet_read_returns_each_vehicles_result_or_error(make_client: Any, fake: Fake) -> None:
    client = make_client()
    vehicles = [f"v-{i}" for i in range(12)]

    def signals(request: httpx.Request) -> httpx.Response:
        vehicle = request.url.path.split("/")[3]
        if vehicle == "v-3":
            return fail(404, "RESOURCE_NOT_FOUND", "PATH")
        if vehicle == "v-5":
            raise httpx.ConnectError("refused", request=request)
        return ok(signals_body([signal_item("odometer-traveleddistance", {"unit": "km", "value": int(vehicle[2:])})]))

    for vehicle in vehicles:
        fake.script("GET", f"/v3/vehicles/{vehicle}/signals", signals)
    results = await resolve(client.user(USER).signals.list_many(vehicles, max_in_flight=4))
    assert [r.vehicle_id for r in results] == vehicles
    assert isinstance(results[3].error, motorpool.ResourceNotFoundError)
    assert isinstance(results[5].error, motorpool.ConnectError)
    for index, result in enumerate(results):
        if index not in (3, 5):
            assert result.ok and result.signals.odometer.distance == index
            assert result.user_id == USER
    assert fake.token_requests == 1


async def test_fleet_read_across_users(client: Any, fake: Fake) -> None:
    fake.script("GET", "/v3/vehicles/v-a/signals", ok(signals_body([])))
    fake.script("GET", "/v3/vehicles/v-b/signals", ok(signals_body([])))
    results = await resolve(client.signals.list_many({"v-a": "user-a", "v-b": "user-b"}))
    assert [(r.vehicle_id, r.user_id, r.ok) for r in results] == [("v-a", "user-a", True), ("v-b", "user-b", True)]
    assert {r.url.path: r.headers["sc-user-id"] for r in fake.sent("GET")} == {
        "/v3/vehicles/v-a/signals": "user-a", "/v3/vehicles/v-b/signals": "user-b"}


async def test_fleet_read_follows_pages_of_a_vehicle(client: Any, fake: Fake) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        item = signal_item("odometer-traveleddistance" if number == 1 else "closure-islocked", {"value": True})
        return ok(signals_body([item], page=number, size=1, total=2, next_link=f"{BASE}/next" if number == 1 else None))

    fake.script("GET", f"/v3/vehicles/{VEHICLE}/signals", pages)
    [result] = await resolve(client.user(USER).signals.list_many([VEHICLE]))
    assert result.signals.codes == ["odometer-traveleddistance", "closure-islocked"]


async def test_fleet_read_bounds_requests_in_flight(fake: Fake) -> None:
    in_flight = 0
    peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        if request.url.path == "/oauth2/token":
            return fake.token(request)
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return ok(signals_body([]))

    client = motorpool.AsyncClient(CLIENT_ID, CLIENT_SECRET, base_url=BASE, transport=httpx.MockTransport(slow))  # type: ignore[arg-type]
    results = await client.user(USER).signals.list_many([f"v-{i}" for i in range(40)], max_in_flight=7)
    assert len(results) == 40 and all(r.ok for r in results)
    assert peak == 7
    await client.aclose()


# --- typed reads ------------------------------------------------------------------------------------------


async def test_typed_signal_reads(client: Any, fake: Fake) -> None:
    single = {
        "odometer-traveleddistance": {"unit": "km", "value": 123.4},
        "location-preciselocation": {"latitude": 1.0, "longitude": 2.0},
        "tractionbattery-stateofcharge": {"unit": "percent", "value": 55},
        "tractionbattery-range": {"unit": "km", "value": 210},
        "wheel-tires": {"values": [{"row": 0, "column": 0, "tirePressure": 230}], "unit": "kPa"},
    }
    for code, body in single.items():
        fake.script("GET", f"/v3/vehicles/{VEHICLE}/signals/{code}", ok({"data": signal_item(code, body)}, **{"sc-request-id": code}))
    fake.script("GET", f"/v3/vehicles/{VEHICLE}/signals", ok(signals_body([
        signal_item("charge-detailedchargingstatus", {"value": "FULLY_CHARGED"}),
        signal_item("internalcombustionengine-fuellevel", {"unit": "percent", "value": 40}),
        signal_item("internalcombustionengine-range", {"unit": "km", "value": 400}),
        signal_item("closure-islocked", {"value": True}),
    ])))
    me = client.user(USER).signals
    odometer = await resolve(me.odometer(VEHICLE))
    assert odometer.distance == 123.4 and odometer.meta.request_id == "odometer-traveleddistance"
    assert (await resolve(me.location(VEHICLE))).latitude == 1.0
    assert (await resolve(me.state_of_charge(VEHICLE))).percent == 55
    assert (await resolve(me.range(VEHICLE))).distance == 210
    assert (await resolve(me.tire_pressures(VEHICLE))).front_left == 230
    assert (await resolve(me.charge_status(VEHICLE))).state == "FULLY_CHARGED"
    fuel = await resolve(me.fuel(VEHICLE))
    assert (fuel.percent_remaining, fuel.range) == (40, 400)
    assert (await resolve(me.lock_status(VEHICLE))).is_locked is True


async def test_a_signal_the_vehicle_could_not_read_raises_its_error(client: Any, fake: Fake) -> None:
    code = "odometer-traveleddistance"
    fake.script("GET", f"/v3/vehicles/{VEHICLE}/signals/{code}", ok({"data": signal_item(
        code, {"unit": "km", "value": 1}, "ERROR", {"type": "VEHICLE_STATE", "code": "ASLEEP", "description": "Asleep."})}))
    error = await resolve_error(lambda: client.user(USER).signals.odometer(VEHICLE), motorpool.VehicleStateError)
    assert isinstance(error, motorpool.VehicleStateError) and error.code == "ASLEEP"


async def test_unexpected_success_bodies_are_reported(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", httpx.Response(200, text="<html>captive portal</html>"))
    error = await resolve_error(lambda: client.vehicles.get(VEHICLE), motorpool.UnexpectedResponseError)
    assert isinstance(error, motorpool.UnexpectedResponseError) and error.status_code == 200


async def test_ids_are_quoted_into_paths(client: Any, fake: Fake) -> None:
    await resolve_error(lambda: client.vehicles.get("../admin"), motorpool.ResourceNotFoundError)
    assert fake.sent("GET")[0].url.raw_path == b"/v3/vehicles/..%2Fadmin"


async def test_every_answer_carries_its_meta(client: Any, fake: Fake) -> None:
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", ok(vehicle_body(), **{
        "SC-Request-Id": "rid", "SC-Data-Age": "2026-01-01T00:00:00Z", "SC-Fetched-At": "2026-01-01T00:00:05Z"}))
    vehicle = await resolve(client.vehicles.get(VEHICLE))
    assert vehicle.meta.request_id == "rid" and vehicle.meta.status_code == 200
    assert vehicle.meta.fetched_at is not None and (vehicle.meta.fetched_at - vehicle.meta.data_age).seconds == 5
    assert vehicle.raw["data"]["attributes"]["make"] == "TESLA"


# --- with a cached token the first attempt is made inline; the flow carries on from it ------------


async def test_with_a_cached_token_retries_count_the_first_attempt(client: Any, fake: Fake) -> None:
    await resolve(client.access_token())
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(503, "SERVER"))
    await resolve_error(lambda: client.vehicles.get(VEHICLE), motorpool.ServerError)
    assert len(fake.sent("GET")) == 3
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(503, "SERVER"), fail(503, "SERVER"), ok(vehicle_body()))
    assert (await resolve(client.vehicles.get(VEHICLE))).id == VEHICLE
    assert len(fake.sent("GET")) == 6


async def test_with_a_cached_token_a_401_renews_it_once(client: Any, fake: Fake) -> None:
    await resolve(client.access_token())
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(401, "AUTHENTICATION"), ok(vehicle_body()))
    assert (await resolve(client.vehicles.get(VEHICLE))).id == VEHICLE
    assert [r.headers["authorization"] for r in fake.sent("GET")] == ["Bearer token-1", "Bearer token-2"]
    fake.script("GET", f"/v3/vehicles/{VEHICLE}", fail(401, "AUTHENTICATION"))
    await resolve_error(lambda: client.vehicles.get(VEHICLE), motorpool.AuthenticationError)
    assert fake.token_requests == 3


@pytest.mark.in_memory_network
async def test_with_a_cached_token_commands_keep_their_retry_rules(client: Any, fake: Fake) -> None:
    await resolve(client.access_token())
    path = f"/v3/vehicles/{VEHICLE}/commands/security/lock"
    fake.script("POST", path, dropped, ok({"data": {"id": "exec_1"}}))
    await resolve_error(lambda: client.user(USER).commands.lock(VEHICLE), motorpool.ReadError)
    assert len(fake.sent("POST", path)) == 1
    fake.script("POST", path, refused, ok({"data": {"id": "exec_2"}}))
    assert (await resolve(client.user(USER).commands.lock(VEHICLE))).id == "exec_2"
    assert len(fake.sent("POST", path)) == 3
