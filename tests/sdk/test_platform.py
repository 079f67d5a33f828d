"""The SDK against the real platform app, in-process, sync and async mirrored.

The async client talks to the app through ``httpx.ASGITransport``; the sync client runs in a
worker thread and reaches the same app, on the test's event loop, through ``SyncBridge``. No
answer here is scripted: every status, body and header comes from motorpool itself.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

import motorpool

from ..support.connect_pages import go_through_connect, query_of
from ..support.harness import PlatformHarness, running_platform
from ..support.sdk import Against, Counting, SyncBridge

EV_SCOPE = ["read_vehicle_info", "read_odometer", "read_battery", "read_charge", "read_location",
            "read_security", "read_tires", "read_fuel"]


# --- the tutorial's flow ----------------------------------------------------------------------------


async def owner_approves(http: httpx.AsyncClient, url: str, email: str) -> dict[str, str]:
    """Walk Connect as an owner accepting the defaults; answer the redirect's query."""
    return query_of(await go_through_connect(http, await http.get(url), email=email, password="any"))


async def test_the_tutorial_flow_with_the_sdk(on: Against) -> None:
    h = on.platform
    auth = motorpool.AuthClient(
        h.client_id, h.client_secret, h.redirect_uri, "test", base_url=h.base_url,
        transport=SyncBridge(h.app, asyncio.get_running_loop()),
        async_transport=httpx.ASGITransport(app=h.app),
    )
    pkce = motorpool.create_pkce_pair()
    url = auth.get_auth_url(["read_vehicle_info", "required:read_odometer"],
                            {"state": "st-9", "code_challenge": pkce.challenge})
    redirect = await owner_approves(h.http, url, "2-vehicles@smartcar.com")
    assert redirect["state"] == "st-9"
    user_id = redirect["user_id"]

    if on.flavour == "sync":
        exchange = await asyncio.to_thread(auth.exchange_code, redirect["code"], code_verifier=pkce.verifier)
    else:
        exchange = await auth.exchange_code_async(redirect["code"], code_verifier=pkce.verifier)
    assert exchange.user_id == user_id and len(exchange.vehicle_ids) == 2
    assert exchange.scope is not None and "read_odometer" in exchange.scope.split()

    client = on.client()
    connections = await on.all_items(lambda: client.connections.list(user_id=user_id))
    assert sorted(c.vehicle_id for c in connections) == sorted(exchange.vehicle_ids)
    vehicle = await on.run(lambda: client.vehicles.get(connections[0].vehicle_id))
    assert (vehicle.make, vehicle.model, vehicle.year) == (
        connections[0].vehicle.make, connections[0].vehicle.model, connections[0].vehicle.year)
    odometer = await on.run(lambda: client.user(user_id).signals.odometer(vehicle.id))
    assert odometer.distance > 0 and odometer.meta.request_id


async def test_a_code_without_its_pkce_verifier_is_refused(on: Against) -> None:
    h = on.platform
    auth = motorpool.AuthClient(h.client_id, h.client_secret, h.redirect_uri, "test", base_url=h.base_url,
                                async_transport=httpx.ASGITransport(app=h.app),
                                transport=SyncBridge(h.app, asyncio.get_running_loop()))
    url = auth.get_auth_url(["read_vehicle_info"], {"code_challenge": motorpool.create_pkce_pair().challenge})
    redirect = await owner_approves(h.http, url, "owner@example.com")
    call = (lambda: auth.exchange_code(redirect["code"])) if on.flavour == "sync" else (
        lambda: auth.exchange_code_async(redirect["code"]))
    error = await on.raises(motorpool.OAuthError, call)
    assert error.error == "invalid_request" and error.status_code == 400


async def test_connect_refuses_a_url_for_an_unknown_application(sqlite_platform: PlatformHarness) -> None:
    # The other side of the tutorial test: the platform does check what get_auth_url builds.
    url = motorpool.AuthClient("client_unknown", base_url=sqlite_platform.base_url,
                               redirect_uri=sqlite_platform.redirect_uri).get_auth_url(["read_vehicle_info"])
    page = await sqlite_platform.http.get(url)
    assert page.status_code == 400


# --- connections, users, vehicles ---------------------------------------------------------------------


async def test_connections_pages_get_and_delete(on: Against) -> None:
    user_id, vehicles = await on.platform.connect(email="5-vehicles@smartcar.com", mode="test")
    assert len(vehicles) == 5
    client = on.client()
    listed = await on.all_items(lambda: client.connections.list(user_id=user_id, page_size=2))
    assert sorted(c.vehicle_id for c in listed) == sorted(vehicles)
    first_page = await on.run(lambda: client.connections.list(user_id=user_id, page_size=2))
    assert len(first_page.data) == 2 and first_page.total_count == 5 and first_page.has_next_page()
    assert first_page.meta.request_id

    one = await on.run(lambda: client.connections.get(listed[0].id))
    assert (one.id, one.user_id, one.vehicle_id) == (listed[0].id, user_id, listed[0].vehicle_id)
    assert one.mode == "test" and "read_vehicle_info" in one.permissions

    deleted = await on.run(lambda: client.connections.delete(listed[0].id))
    assert deleted.meta.status_code == 204
    await on.raises(motorpool.ResourceNotFoundError, lambda: client.connections.get(listed[0].id))
    remaining = await on.all_items(lambda: client.connections.list(user_id=user_id))
    assert len(remaining) == 4


async def test_user_views_narrow_connections_and_users_can_be_deleted(on: Against) -> None:
    first, _ = await on.platform.connect(email="2-vehicles@smartcar.com", mode="test")
    second, _ = await on.platform.connect(email="3-vehicles@smartcar.com", mode="test")
    client = on.client()
    assert len(await on.all_items(lambda: client.user(second).connections.list())) == 3
    await on.run(lambda: client.users.delete(first))
    assert await on.all_items(lambda: client.connections.list(user_id=first)) == []
    assert len(await on.all_items(lambda: client.connections.list(user_id=second))) == 3


async def test_vehicle_in_both_shapes_agrees(on: Against) -> None:
    user_id, [vehicle_id, *_] = await on.platform.connect(email="o@example.com", mode="simulated")
    client = on.client()
    vehicle = await on.run(lambda: client.vehicles.get(vehicle_id))
    assert vehicle.id == vehicle_id and vehicle.mode == "simulated" and vehicle.powertrain_type
    assert vehicle.raw["make"] == vehicle.raw["data"]["attributes"]["make"] == vehicle.make
    scoped = await on.run(lambda: client.user(user_id).vehicles.get(vehicle_id))
    assert scoped.model_dump() == vehicle.model_dump()


# --- signals --------------------------------------------------------------------------------------------


async def powertrains(h: PlatformHarness, user_id: str, vehicle_ids: list[str]) -> dict[str, str]:
    """powertrain -> a vehicle id of it, read from the connections."""
    client = motorpool.AsyncClient(h.client_id, h.client_secret, base_url=h.base_url,
                                   transport=httpx.ASGITransport(app=h.app))
    found = {}
    async for connection in client.connections.list(user_id=user_id):
        if connection.vehicle_id in vehicle_ids and connection.vehicle is not None:
            found.setdefault(str(connection.vehicle.powertrain_type), connection.vehicle_id)
    return found


async def test_signal_lists_single_reads_and_typed_views_agree(on: Against) -> None:
    user_id, vehicles = await on.platform.connect(email="o@example.com", mode="simulated")
    kinds = await powertrains(on.platform, user_id, vehicles)
    me = on.client().user(user_id)
    bev = kinds["BEV"]
    signals = await on.run(lambda: me.signals.list(bev))
    assert len(signals) > 50 and signals.vehicle is not None and signals.vehicle.id == bev
    assert signals.meta.request_id and signals.meta.data_age is not None and signals.meta.unit_system == "metric"
    single = await on.run(lambda: me.signals.get(bev, "odometer-traveleddistance"))
    assert single.code == "odometer-traveleddistance" and single.unit == "km"
    odometer = await on.run(lambda: me.signals.odometer(bev))
    assert odometer.distance == pytest.approx(signals.odometer.distance, abs=5)
    # Every typed read agrees with the same view of the list: a value, or the signal's error.
    for view in ("state_of_charge", "location", "range", "charge_status", "tire_pressures", "lock_status", "fuel"):
        expected = getattr(signals, view)
        read = getattr(me.signals, view)
        if expected is None:
            await on.raises(motorpool.ApiError, lambda read=read: read(bev))
        else:
            value = await on.run(lambda read=read: read(bev))
            assert type(value) is type(expected)
    assert 0 <= (await on.run(lambda: me.signals.state_of_charge(bev))).percent <= 100
    fuel = await on.run(lambda: me.signals.fuel(kinds["ICE"]))
    assert fuel.percent_remaining is not None and 0 <= fuel.percent_remaining <= 100


async def test_signal_lists_are_followed_across_pages(on: Against) -> None:
    """Pages of 40 signals: the list and the fleet read walk all three pages and end up with the
    same signals as one page of all of them."""
    user_id, vehicles = await on.platform.connect(email="o@example.com", mode="simulated")
    counting = Counting(on.transport())
    me = on.client(counting).user(user_id)
    whole = await on.run(lambda: me.signals.list(vehicles[0]))
    assert counting.count(f"/v3/vehicles/{vehicles[0]}/signals") == 1
    paged = await on.run(lambda: me.signals.list(vehicles[0], page_size=40))
    pages = -(-len(whole) // 40)
    assert pages == 3
    assert counting.count(f"/v3/vehicles/{vehicles[0]}/signals") == 1 + pages
    assert [signal.code for signal in paged] == [signal.code for signal in whole]
    results = await on.run(lambda: me.signals.list_many(vehicles, page_size=40))
    for vehicle_id, result in zip(vehicles, results, strict=True):
        assert result.ok and result.signals is not None
        assert len(result.signals) == len(whole) and result.signals.odometer is not None
        assert counting.count(f"/v3/vehicles/{vehicle_id}/signals") == pages * (2 if vehicle_id == vehicles[0] else 1) + (
            1 if vehicle_id == vehicles[0] else 0
        )


async def test_imperial_units(on: Against) -> None:
    user_id, [vehicle_id, *_] = await on.platform.connect(email="o@example.com", mode="simulated")
    client = on.client().user(user_id)
    metric = await on.run(lambda: client.signals.odometer(vehicle_id))
    imperial = await on.run(lambda: client.with_options(unit_system="imperial").signals.odometer(vehicle_id))
    assert imperial.meta.unit_system == "imperial" and imperial.unit != metric.unit
    assert imperial.distance == pytest.approx(metric.distance / 1.609344, rel=0.01)


# --- errors, each from a real platform answer -------------------------------------------------------


async def test_permission_validation_not_found_and_compatibility_errors(on: Against) -> None:
    user_id, vehicles = await on.platform.connect(email="o@example.com", mode="simulated", scope=["read_vehicle_info"])
    kinds = await powertrains(on.platform, user_id, vehicles)
    me = on.client().user(user_id)
    denied = await on.raises(motorpool.PermissionDeniedError, lambda: me.signals.odometer(kinds["BEV"]))
    assert denied.status_code == 403 and denied.type == "PERMISSION" and denied.request_id
    invalid = await on.raises(motorpool.ValidationError, lambda: me.signals.list("not-a-uuid"))
    assert invalid.status_code == 400 and invalid.description
    missing = await on.raises(motorpool.ResourceNotFoundError, lambda: me.signals.get(kinds["BEV"], "nope-nope"))
    assert missing.status_code == 404
    stranger = await on.raises(motorpool.ResourceNotFoundError, lambda: me.vehicles.get(str(uuid.uuid4())))
    assert stranger.type == "RESOURCE_NOT_FOUND"

    full_user, full_vehicles = await on.platform.connect(email="p@example.com", mode="simulated")
    full = await powertrains(on.platform, full_user, full_vehicles)
    full_client = on.client().user(full_user)
    incapable = await on.raises(motorpool.CompatibilityError, lambda: full_client.signals.state_of_charge(full["ICE"]))
    assert incapable.status_code == 501 and incapable.code == "VEHICLE_NOT_CAPABLE"
    # In a list, the same conditions are per-signal statuses, and the views are empty.
    listing = await on.run(lambda: me.signals.list(kinds["BEV"]))
    assert listing.odometer is None and isinstance(listing["odometer-traveleddistance"].error(), motorpool.PermissionDeniedError)


async def test_a_client_with_a_wrong_secret_gets_invalid_client(on: Against) -> None:
    client = on.client(client_secret="scs_wrong")
    error = await on.raises(motorpool.OAuthError, lambda: client.vehicles.get(str(uuid.uuid4())))
    assert error.error == "invalid_client" and error.status_code == 401


async def test_tokens_from_another_platform_are_refused(on: Against, tmp_path: Any) -> None:
    # A second, independent platform issues a perfectly good token, signed with its own key; the
    # first one refuses it, twice (before and after the re-fetch), so the 401 surfaces.
    async with running_platform(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}") as other:
        route = {"iam.other.test": httpx.ASGITransport(app=other.app), "motorpool.test": httpx.ASGITransport(app=on.platform.app)}

        class ByHost(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                response: httpx.Response = await route[request.url.host].handle_async_request(request)
                return response

        transport = ByHost() if on.flavour == "async" else SyncBridge(ByHostApp(route), asyncio.get_running_loop())
        client = on.client(transport, client_id=other.client_id, client_secret=other.client_secret,
                           auth_origin="http://iam.other.test")
        error = await on.raises(motorpool.AuthenticationError, lambda: client.vehicles.get(str(uuid.uuid4())))
        assert error.status_code == 401 and error.type == "AUTHENTICATION"


class ByHostApp:
    """An ASGI app that hands each request to the app serving its host (for the sync bridge)."""

    def __init__(self, route: dict[str, httpx.ASGITransport]) -> None:
        self.apps = {host: transport.app for host, transport in route.items()}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        host = dict(scope["headers"]).get(b"host", b"").decode().split(":")[0]
        await self.apps[host](scope, receive, send)


# --- tokens ------------------------------------------------------------------------------------------------


async def test_fifty_concurrent_callers_fetch_one_token_from_the_platform(on: Against) -> None:
    """50 tasks (async) or 50 threads (sync) start together on a client with no token yet."""
    user_id, [vehicle_id, *_] = await on.platform.connect(email="o@example.com", mode="simulated")
    counting = Counting(on.transport())
    me = on.client(counting).user(user_id)
    if on.flavour == "async":
        results = await asyncio.gather(*(me.vehicles.get(vehicle_id) for _ in range(50)))
    else:
        start = threading.Barrier(50)

        def read(_: int) -> Any:
            start.wait()
            return me.vehicles.get(vehicle_id)

        def read_together() -> list[Any]:
            with ThreadPoolExecutor(max_workers=50) as pool:
                return list(pool.map(read, range(50)))

        results = await asyncio.to_thread(read_together)
    assert [r.id for r in results] == [vehicle_id] * 50
    assert counting.count("/oauth2/token") == 1


async def test_a_revoked_token_is_replaced_once(on: Against) -> None:
    h = on.platform
    _user, [vehicle_id, *_] = await h.connect(email="o@example.com", mode="simulated")
    counting = Counting(on.transport())
    client = on.client(counting)
    await on.run(lambda: client.vehicles.get(vehicle_id))
    token = await on.run(client.access_token)
    revoked = await h.http.post("/oauth2/revoke", data={"token": token, "client_id": h.client_id,
                                                         "client_secret": h.client_secret})
    assert revoked.status_code == 200
    vehicle = await on.run(lambda: client.vehicles.get(vehicle_id))
    assert vehicle.id == vehicle_id
    assert counting.count("/oauth2/token") == 2
    assert counting.count(f"/v3/vehicles/{vehicle_id}") == 3  # ok, 401, ok again
    assert await on.run(client.access_token) != token


# --- fleet reads -------------------------------------------------------------------------------------------


async def test_fleet_read_against_the_platform(on: Against) -> None:
    user_id, vehicles = await on.platform.connect(email="o@example.com", mode="simulated")
    stranger = str(uuid.uuid4())
    client = on.client().user(user_id)
    results = await on.run(lambda: client.signals.list_many([*vehicles, stranger], max_in_flight=2))
    assert [r.vehicle_id for r in results] == [*vehicles, stranger]
    for result in results[:-1]:
        assert result.ok and result.signals is not None
        assert result.signals.vehicle is not None and result.signals.vehicle.id == result.vehicle_id
        assert result.signals.odometer is not None
        assert result.meta.request_id
    assert isinstance(results[-1].error, motorpool.ApiError) and results[-1].error.status_code in (403, 404)
