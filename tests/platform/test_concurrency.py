"""Concurrent writes to one application: what every request was told is what the database keeps.

Each test fires its requests at once (``asyncio.gather`` over the real app, so the requests
interleave at every database round trip) on SQLite and on PostgreSQL, and then reads the state
back. Before the application row was locked for these read-modify-writes, 20 redirect URIs added
at once kept 1 or 2, 10 secret creations left 4 to 6 live secrets past the limit of 3, and 10
direct connections of one owner answered 500s from a unique violation."""

from __future__ import annotations

import asyncio
from typing import Any

from ..support.harness import PlatformHarness

N = 20


async def _at_once(platform: PlatformHarness, method: str, path: str, bodies: list[Any]) -> list[Any]:
    async def one(body: Any) -> Any:
        return await platform.http.request(method, path, json=body, headers=platform.admin_headers)

    return list(await asyncio.gather(*(one(body) for body in bodies)))


async def test_redirect_uris_added_at_once_are_all_kept(platform: PlatformHarness) -> None:
    path = f"/admin/applications/{platform.application_id}/redirect-uris"
    uris = [f"https://app{index}.example.com/callback" for index in range(N)]
    answers = await _at_once(platform, "POST", path, [{"uri": uri} for uri in uris])
    assert [a.status_code for a in answers] == [200] * N, [a.text for a in answers if a.status_code != 200]
    kept = (await platform.admin("GET", f"/admin/applications/{platform.application_id}"))["redirectUris"]
    assert set(uris) <= set(kept)
    assert platform.redirect_uri in kept


async def test_redirect_uris_removed_at_once_are_all_gone(platform: PlatformHarness) -> None:
    path = f"/admin/applications/{platform.application_id}/redirect-uris"
    uris = [f"https://gone{index}.example.com/cb" for index in range(N // 2)]
    for uri in uris:
        await platform.admin("POST", path, json={"uri": uri})

    async def remove(uri: str) -> Any:
        return await platform.http.delete(path, params={"uri": uri}, headers=platform.admin_headers)

    answers = await asyncio.gather(*(remove(uri) for uri in uris))
    assert [a.status_code for a in answers] == [200] * len(uris)
    kept = (await platform.admin("GET", f"/admin/applications/{platform.application_id}"))["redirectUris"]
    assert not set(uris) & set(kept)
    assert platform.redirect_uri in kept


async def test_secrets_created_at_once_never_pass_the_limit(platform: PlatformHarness) -> None:
    path = f"/admin/applications/{platform.application_id}/secrets"
    answers = await _at_once(platform, "POST", path, [None] * 10)
    statuses = sorted(a.status_code for a in answers)
    # First start made one secret; two more fit under the limit of three.
    assert statuses == [201] * 2 + [409] * 8, [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["errors"][0]["status"] == "409"
    secrets = (await platform.admin("GET", f"/admin/applications/{platform.application_id}"))["secrets"]
    live = [s for s in secrets if s.get("revokedAt") is None]
    assert len(live) == 3
    created = {a.json()["data"]["id"] for a in answers if a.status_code == 201}
    assert created <= {s["id"] for s in live}


async def test_direct_connections_of_one_owner_at_once_make_one_user(platform: PlatformHarness) -> None:
    path = f"/admin/applications/{platform.application_id}/connections"
    for mode in ("test", "simulated"):
        body = {"email": f"{mode}-racer@example.com", "mode": mode}
        answers = await _at_once(platform, "POST", path, [body] * 10)
        assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
        users = {a.json()["data"]["userId"] for a in answers}
        assert len(users) == 1
        vehicles = {tuple(sorted(a.json()["data"]["vehicleIds"])) for a in answers}
        assert len(vehicles) == 1, "every answer names the same vehicles"
        connections = (await platform.http.get(
            "/v3/connections", params={"filter[userId]": users.pop()}, headers=await platform.auth_headers()
        )).json()["connections"]
        assert len(connections) == len(next(iter(vehicles)))


async def test_clock_steps_taken_at_once_all_count(platform: PlatformHarness) -> None:
    base = f"/admin/applications/{platform.application_id}/clock"
    await platform.admin("PUT", base, json={"rate": 0})
    before = (await platform.admin("GET", base))["nowMs"]
    answers = await _at_once(platform, "POST", f"{base}/advance", [{"seconds": 3600}] * 10)
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
    after = (await platform.admin("GET", base))["nowMs"]
    assert after - before == 10 * 3600 * 1000


async def test_first_sign_ins_of_one_test_email_at_once_make_its_cars_once(platform: PlatformHarness) -> None:
    from ..support.connect_pages import step_of, submit
    from .test_connect import until_step

    pages = [await until_step(platform, "login", mode="test") for _ in range(6)]
    answers = await asyncio.gather(*(
        submit(platform.http, page, {"email": "2-vehicles@race.example", "password": "pw"}) for page in pages
    ))  # fmt: skip
    assert [a.status_code for a in answers] == [200] * 6, [a.text[:300] for a in answers if a.status_code != 200]
    assert all(step_of(a) == "permissions" for a in answers)
    from sqlalchemy import func, select

    from motorpool.platform.store.models import Vehicle

    async with platform.platform.sessions() as session:
        made = await session.scalar(
            select(func.count()).select_from(Vehicle).where(Vehicle.test_key.like("%:2-vehicles@race.example:%"))
        )
    assert made == 2
