"""Nothing a request runs reads a whole large fleet: Connect's simulated sign-in offers a
bounded, stable set of the brand's cars, the brand page probes each make, the admin listing
pages by cursor, and "connect everything" refuses a fleet it would have to read whole. A fleet
of 5,000 seeded in bulk stands for a million; small fleets keep behaving as before."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from motorpool.platform.services.admin import FLEET_PAGE_MOST
from motorpool.platform.services.grants import DIRECT_CONNECT_MOST, SIMULATED_OFFER
from motorpool.platform.services.seeding import FleetSeeder
from motorpool.platform.store.models import Vehicle

from ..support.connect_pages import inputs, step_of, submit
from ..support.harness import PlatformHarness
from .test_connect import until_step

LARGE = 5_000


@pytest.fixture
async def large(platform: PlatformHarness) -> AsyncIterator[PlatformHarness]:
    """The platform with 5,000 more simulated cars, seeded in bulk."""
    seeder = FleetSeeder(platform.platform.sessions, platform.platform.clocks)
    await seeder.seed(platform.application_id, LARGE, seed=5150, mix={"BEV": 1.0})
    yield platform


@contextmanager
def vehicles_loaded() -> Iterator[list[int]]:
    """Counts the vehicles read into objects while the block runs (one count per row)."""
    seen = [0]

    def loaded(_target: Any, _context: Any) -> None:
        seen[0] += 1

    event.listen(Vehicle, "load", loaded)
    try:
        yield seen
    finally:
        event.remove(Vehicle, "load", loaded)


async def offered(platform: PlatformHarness, email: str, make: str) -> list[str]:
    page = await until_step(platform, "brand", mode="simulated")
    login = await submit(platform.http, page, {"make": make})
    chosen = await submit(platform.http, login, {"email": email, "password": "pw"})
    assert chosen.status_code == 200 and step_of(chosen) == "permissions", chosen.text
    return [str(field["value"]) for field in inputs(chosen, "vehicle")]


async def test_a_simulated_sign_in_offers_a_bounded_stable_set_of_the_brands_cars(
    large: PlatformHarness,
) -> None:
    make = "TESLA"
    with vehicles_loaded() as seen:
        first = await offered(large, "fleet-a@example.com", make)
    assert len(first) == SIMULATED_OFFER
    assert seen[0] <= 2 * SIMULATED_OFFER, f"{seen[0]} vehicles read for one sign-in"
    async with large.platform.sessions() as session:
        rows = await session.execute(
            Vehicle.__table__.select().where(Vehicle.id.in_(first))  # type: ignore[attr-defined]
        )
        assert {row.make for row in rows} == {make}
    # The same e-mail is offered the same cars again; another is offered others.
    assert await offered(large, "fleet-a@example.com", make) == first
    assert await offered(large, "fleet-b@example.com", make) != first


async def test_the_brand_page_reads_no_vehicle_of_a_large_fleet(large: PlatformHarness) -> None:
    with vehicles_loaded() as seen:
        page = await until_step(large, "brand", mode="simulated")
    assert page.status_code == 200 and seen[0] == 0


async def test_the_admin_listing_pages_a_large_fleet_by_cursor(large: PlatformHarness) -> None:
    path = f"/admin/applications/{large.application_id}/vehicles"
    walked: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        with vehicles_loaded() as seen:
            response = await large.http.get(
                path, params={"cursor": cursor} if cursor else {}, headers=large.admin_headers
            )
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["data"]) <= FLEET_PAGE_MOST and seen[0] <= FLEET_PAGE_MOST + 1
        walked += [vehicle["id"] for vehicle in body["data"]]
        pages += 1
        cursor = body["meta"]["nextCursor"]
        if cursor is None:
            break
    assert len(walked) == len(set(walked)) >= LARGE + 3
    assert pages == -(-len(walked) // FLEET_PAGE_MOST)

    small = await large.http.get(path, params={"limit": 7}, headers=large.admin_headers)
    assert [v["id"] for v in small.json()["data"]] == walked[:7]
    for params, parameter in (({"limit": "0"}, "limit"), ({"limit": "lots"}, "limit"),
                              ({"limit": str(FLEET_PAGE_MOST + 1)}, "limit"),
                              ({"cursor": "not-a-cursor"}, "cursor")):  # fmt: skip
        refused = await large.http.get(path, params=params, headers=large.admin_headers)
        assert refused.status_code == 400, refused.text
        assert refused.json()["type"] == "VALIDATION" and parameter in refused.text


async def test_connecting_everything_in_a_large_fleet_is_refused_clearly(
    large: PlatformHarness,
) -> None:
    path = f"/admin/applications/{large.application_id}/connections"
    with vehicles_loaded() as seen:
        refused = await large.http.post(
            path, json={"email": "all@example.com", "mode": "simulated"}, headers=large.admin_headers
        )
    assert refused.status_code == 400, refused.text
    assert f"more than {DIRECT_CONNECT_MOST:,}" in refused.json()["description"]
    assert seen[0] == 0
    # Naming the cars still works, and reads only those.
    some = (await large.admin("GET", f"/admin/applications/{large.application_id}/vehicles",
                              params={"limit": 3}))  # fmt: skip
    named = [vehicle["id"] for vehicle in some]
    with vehicles_loaded() as seen:
        stored = await large.admin(
            "POST", path, json={"email": "all@example.com", "mode": "simulated", "vehicleIds": named}
        )
    assert sorted(stored["vehicleIds"]) == sorted(named) and seen[0] <= len(named)


async def test_a_small_fleet_is_listed_offered_and_connected_whole(
    platform: PlatformHarness,
) -> None:
    fleet = await platform.admin("GET", f"/admin/applications/{platform.application_id}/vehicles")
    assert len(fleet) == 3
    stored = await platform.admin(
        "POST",
        f"/admin/applications/{platform.application_id}/connections",
        json={"email": "small@example.com", "mode": "simulated"},
    )
    assert sorted(stored["vehicleIds"]) == sorted(v["id"] for v in fleet)
    make = fleet[0]["make"]
    mine = [v["id"] for v in fleet if v["make"] == make]
    offer = await offered(platform, "another@example.com", make)
    assert offer == (mine if len(mine) > 1 else [])  # one car is shown, not offered as a choice
