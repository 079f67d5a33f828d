"""The fleet table's state filter runs in SQL and agrees, vehicle by vehicle, with the state the
table shows; paging a filtered table is keyset paging like any other; the indexes of migrations
0010 and 0011 serve it."""

from __future__ import annotations

import re

from sqlalchemy import select, text

from motorpool.platform.services.seeding import FleetSeeder
from motorpool.platform.store import fleet_queries
from motorpool.platform.store.models import Vehicle

from ..support.harness import PlatformHarness
from .test_dashboard import signed_in

ROW = re.compile(r'href="/dashboard/vehicles/([0-9a-f-]+)".*?class="status (\w+)"', re.DOTALL)


async def test_the_state_filter_agrees_with_the_state_shown(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = (await platform.admin("POST", "/admin/applications", json={"name": "states"}))["id"]
    await platform.admin("PUT", f"/admin/applications/{app_id}/clock", json={"rate": 0})
    await platform.admin("POST", f"/admin/applications/{app_id}/fleet", json={"count": 60, "seed": 11})
    vehicles = await platform.admin("GET", f"/admin/applications/{app_id}/vehicles")
    ids = [v["id"] for v in vehicles]
    # Some of each: offline, asleep, driving and charging (whatever the seed left parked stays so).
    for vehicle_id in ids[0:6]:
        await platform.admin("POST", f"/admin/vehicles/{vehicle_id}/online", json={"online": False})
    for vehicle_id in ids[6:12]:
        await platform.http.post(f"/admin/vehicles/{vehicle_id}/sleep", headers=platform.admin_headers)
    for vehicle_id in ids[12:18]:
        await platform.http.post(f"/admin/vehicles/{vehicle_id}/drive", headers=platform.admin_headers,
                                 json={"latitude": 59.4, "longitude": 18.1})
    for vehicle_id in ids[18:30]:
        await platform.http.post(f"/admin/vehicles/{vehicle_id}/plug", headers=platform.admin_headers,
                                 json={"plugged": True, "start": True})

    path = f"/dashboard/applications/{app_id}/fleet"

    async def listed(params: dict[str, str]) -> dict[str, str]:
        """Every row of the table through its pages: vehicle id → the state shown."""
        found: dict[str, str] = {}
        for _ in range(20):
            page = await http.get(path, params=params)
            assert page.status_code == 200, page.text
            found |= dict(ROW.findall(page.text))
            after = re.search(r'href="\?[^"]*after=([0-9a-f-]+)"', page.text)
            if after is None:
                return found
            params = {**params, "after": after.group(1)}
        raise AssertionError("more pages than vehicles")

    shown = await listed({})
    assert len(shown) == 60
    assert {"offline", "asleep", "driving", "charging"} <= set(shown.values())
    for state in fleet_queries.FLEET_STATES:
        filtered = await listed({"status": state})
        expected = {vehicle_id for vehicle_id, shown_state in shown.items() if shown_state == state}
        assert set(filtered) == expected, state
        assert set(filtered.values()) <= {state}
    # Combined with the other filters and the search, still in SQL.
    bev_charging = await listed({"status": "charging", "powertrain": "BEV"})
    assert set(bev_charging) <= {i for i, s in shown.items() if s == "charging"}


async def test_the_state_filter_uses_the_fleet_indexes(platform: PlatformHarness) -> None:
    # A fleet big enough, with statistics, for a planner to prefer an index to reading it all.
    app_id = platform.application_id
    await FleetSeeder(platform.platform.sessions, platform.platform.clocks).seed(app_id, 3000, seed=9)
    async with platform.platform.sessions() as session:
        dialect = session.get_bind().dialect.name
        await session.execute(text("ANALYZE"))
        for state, index in (("driving", "ix_vehicles_fleet_activity"), ("offline", "ix_vehicles_fleet_offline"),
                             ("asleep", "ix_vehicles_fleet_asleep")):
            query = select(Vehicle.id).where(
                Vehicle.application_id == app_id, fleet_queries.state_condition(dialect, state, 0),
            ).order_by(Vehicle.id).limit(51)
            compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
            explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            plan = "\n".join(str(row) for row in (await session.execute(text(explain + str(compiled)))).all())
            assert index in plan, (state, plan)


async def test_the_search_finds_by_vin_nickname_model_and_id_through_pages(platform: PlatformHarness) -> None:
    http = await signed_in(platform)
    app_id = (await platform.admin("POST", "/admin/applications", json={"name": "search"}))["id"]
    await platform.admin("POST", f"/admin/applications/{app_id}/fleet", json={"count": 150, "seed": 3})
    named = await platform.admin("POST", "/admin/vehicles",
                                 json={"applicationId": app_id, "nickname": "Ärger Wagen", "make": "TESLA"})
    vehicles = await platform.admin("GET", f"/admin/applications/{app_id}/vehicles")
    path = f"/dashboard/applications/{app_id}/fleet"

    async def searched(term: str) -> list[str]:
        found: list[str] = []
        params = {"search": term}
        for _ in range(20):
            page = await http.get(path, params=params)
            assert page.status_code == 200, page.text
            found += [vehicle_id for vehicle_id, _ in ROW.findall(page.text)]
            after = re.search(r'href="\?[^"]*after=([0-9a-f-]+)"', page.text)
            if after is None:
                return found
            params = {**params, "after": after.group(1)}
        raise AssertionError("more pages than vehicles")

    def expected(term: str) -> list[str]:
        lowered = term.lower()
        return sorted(
            v["id"] for v in vehicles
            if v["vin"].startswith(term.upper()) or v["nickname"].lower().startswith(lowered)
            or lowered in v["model"].lower() or v["id"] == term
        )

    some = vehicles[7]
    nicknames = [v["nickname"] for v in vehicles if v["nickname"] and v["nickname"] != "Ärger Wagen"]
    terms = [some["vin"][:3].lower(), some["vin"], some["id"], some["model"].split()[-1].upper(),
             "no-such-vehicle", "Ärger"]
    if nicknames:
        terms.append(nicknames[0][:2].upper())
    for term in terms:
        got = await searched(term)
        assert got == expected(term), term
        assert got == sorted(set(got)), term
    assert await searched("Ärger w") == [named["id"]]
    assert len(await searched(some["model"])) >= 1
    # Searching within a state and a powertrain narrows, never widens.
    charging_bev = await http.get(path, params={"search": some["vin"][:1], "status": "charging", "powertrain": "BEV"})
    assert set(dict(ROW.findall(charging_bev.text)).values()) <= {"charging"}


async def test_a_search_reads_indexes_not_the_fleet(platform: PlatformHarness) -> None:
    # A fleet big enough, with statistics, for a planner to prefer an index to reading it all.
    app_id = platform.application_id
    await FleetSeeder(platform.platform.sessions, platform.platform.clocks).seed(app_id, 3000, seed=5)
    async with platform.platform.sessions() as session:
        dialect = session.get_bind().dialect.name
        await session.execute(text("ANALYZE"))
        vin = await session.scalar(select(Vehicle.vin).where(Vehicle.application_id == app_id).limit(1))
        assert vin is not None
        plans = []
        for branch in fleet_queries._search_branches(dialect, vin[:6], ["Model 3"]):
            query = select(Vehicle.id).where(Vehicle.application_id == app_id, branch)
            compiled = query.order_by(Vehicle.id).limit(51).compile(
                session.get_bind(), compile_kwargs={"literal_binds": True})
            explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            plans.append("\n".join(str(row) for row in (await session.execute(text(explain + str(compiled)))).all()))
    joined = "\n---\n".join(plans)
    # Branch by branch (id, VIN, nickname, model), the index that answers it.
    expected = (("pk_vehicles", "sqlite_autoindex_vehicles", "ix_vehicles_fleet_page"), ("ix_vehicles_fleet_vin",), ("ix_vehicles_fleet_nickname",),
                ("ix_vehicles_fleet_model",))
    assert len(plans) == len(expected), joined
    for plan, indexes in zip(plans, expected, strict=True):
        assert any(index in plan for index in indexes), (indexes, joined)
        assert "SCAN vehicles" not in plan and "Seq Scan" not in plan, joined
