"""The dashboard's fleet table at a large fleet: every kind of page — first, next, deep, previous,
last, each state filter, make and powertrain filters, searches by id, VIN, nickname and model —
timed inside the server (session, SQL, template), in-process.

    .venv/bin/python bench/dashboard_fleet.py --vehicles 100000 [--rounds 10]
        [--database-url postgresql+asyncpg://USER@HOST:5432/EMPTY_DB]
    .venv/bin/python bench/dashboard_fleet.py --application ID --database-url URL [--rounds 10]

With ``--vehicles`` a fresh application is seeded (on a new SQLite file by default, or in the
given database) and its clock frozen; with ``--application`` the fleet already in
``--database-url`` is measured as it is (say, a million vehicles from ``motorpool vehicles
seed``; its key-encryption key from the folder it was made in, or ``MOTORPOOL_DATA_DIR`` set to
that folder's ``.motorpool``), its clock left alone. Either way ``--steer`` vehicles are first taken offline, sent
driving or put on charge, so that the state filter has rare states to find. The pages are then
asked for ``--rounds`` times, the rounds interleaved (every page once, then every page again, …)
so that a neighbour's load drifting over the run hits every page alike; for each page the median
and the slowest server time (from the request entering the app to its last byte leaving) and the
median process CPU time are printed in milliseconds, with the rows shown and the count the page
gives.

Paging is by keyset, the state filter reads the indexes of migration 0010, a search asks an index
for each way it can match, and the count stops at 10,000, so every page should cost about the
same at any size."""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)

# isort: split
import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from motorpool.platform.app import create_app
from motorpool.platform.services.runtime import Platform
from motorpool.platform.services.seeding import FleetSeeder
from motorpool.platform.settings import Settings
from motorpool.platform.store.models import Vehicle

ADMIN_TOKEN = "adm_bench-dashboard-fleet-token"
#: Seeding a million vehicles takes minutes; more than that is not what this measures.
MAX_VEHICLES = 1_000_000
ROW = re.compile(r'href="/dashboard/vehicles/([0-9a-f-]+)"')
COUNT = re.compile(r'<p id="fleet-count">([^<]*)</p>')


@dataclass
class ServerTimes:
    """What the app spent on each request it served: wall and process CPU milliseconds."""

    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)


class Timed:
    """ASGI middleware timing each HTTP request from its entry to the end of its body."""

    def __init__(self, app: Any, times: ServerTimes) -> None:
        self.app = app
        self.times = times

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            await self.app(scope, receive, send)
        finally:
            self.times.wall_ms.append((time.perf_counter() - wall) * 1000)
            self.times.cpu_ms.append((time.process_time() - cpu) * 1000)


async def _sign_in(http: httpx.AsyncClient) -> None:
    page = await http.get("/dashboard/sign-in")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None, page.text
    answer = await http.post("/dashboard/sign-in", data={"csrf": unescape(token.group(1)), "secret": ADMIN_TOKEN})
    assert answer.status_code == 303, answer.text


async def _steer_some(platform: Platform, application_id: str, count: int) -> None:
    """Take every tenth of ``count`` vehicles offline, send a third driving and plug the rest in
    to charge (the ones that can); put a fifth as many others to sleep (those parked)."""
    async with platform.sessions() as session:
        rows = (await session.execute(
            select(Vehicle.id, Vehicle.powertrain).where(Vehicle.application_id == application_id)
            .order_by(Vehicle.vin).limit(count)
        )).all()
    for index, (vehicle_id, powertrain) in enumerate(rows):
        try:
            if index % 10 == 0:
                await platform.steering.set_online(vehicle_id, False)
            elif index % 3 == 0 or powertrain in ("ICE", "HEV"):
                await platform.steering.drive(vehicle_id, latitude=59.33, longitude=18.06)
            else:
                await platform.steering.plug(vehicle_id, plugged=True, start=True)
        except Exception as refused:  # noqa: BLE001  (a car already full or busy is simply left as it is)
            del refused
    async with platform.sessions() as session:
        sleepers = (await session.scalars(
            select(Vehicle.id).where(Vehicle.application_id == application_id)
            .order_by(Vehicle.vin.desc()).limit(count // 5)
        )).all()
    for vehicle_id in sleepers:
        try:
            await platform.steering.sleep(vehicle_id)
        except Exception as refused:  # noqa: BLE001  (only a parked car goes to sleep)
            del refused


async def _cases(platform: Platform, application_id: str) -> dict[str, dict[str, str]]:
    """The pages to time, with the ids, VINs, makes and nicknames they need taken from the fleet."""
    async with platform.sessions() as session:
        ours = (Vehicle.application_id == application_id, Vehicle.mode == "simulated")
        deep_id = await session.scalar(select(Vehicle.id).where(*ours).order_by(Vehicle.id.desc()).offset(200).limit(1))
        second_id = await session.scalar(select(Vehicle.id).where(*ours).order_by(Vehicle.id).offset(49).limit(1))
        sample = (await session.execute(
            select(Vehicle.id, Vehicle.vin, Vehicle.make).where(*ours).order_by(Vehicle.id).offset(7).limit(1)
        )).one()
        nickname = await session.scalar(
            select(Vehicle.nickname).where(*ours, Vehicle.nickname != "").order_by(Vehicle.id).limit(1)
        )
        makes = (await session.execute(
            select(Vehicle.make, func.count()).where(*ours).group_by(Vehicle.make).order_by(func.count())
        )).all()
    assert deep_id and second_id and makes
    rare_make, common_make = makes[0][0], makes[-1][0]
    return {
        "first page": {},
        "second page (after)": {"after": second_id},
        "deep page (200 from the end)": {"after": deep_id},
        "previous page (before deep)": {"before": deep_id},
        "last page": {"last": "1"},
        "state: parked": {"status": "parked"},
        "state: asleep": {"status": "asleep"},
        "state: driving": {"status": "driving"},
        "state: charging": {"status": "charging"},
        "state: offline": {"status": "offline"},
        f"make: {common_make} (commonest)": {"make": common_make},
        f"make: {rare_make} (rarest)": {"make": rare_make},
        "powertrain: BEV": {"powertrain": "BEV"},
        "powertrain: PHEV": {"powertrain": "PHEV"},
        f"make {rare_make} + PHEV": {"make": rare_make, "powertrain": "PHEV"},
        "make TESLA + ICE (none)": {"make": "TESLA", "powertrain": "ICE"},
        "state: charging + BEV": {"status": "charging", "powertrain": "BEV"},
        "search: id prefix (6)": {"search": sample.id[:6]},
        "search: whole id": {"search": sample.id},
        "search: VIN prefix (5)": {"search": sample.vin[:5]},
        "search: nickname start (1)": {"search": (nickname or "b")[:1].lower()},
        "search: nickname (word)": {"search": (nickname or "betty").split()[0]},
        "search: a model": {"search": "model"},
        "search: nothing matches": {"search": "no-such-vehicle"},
        "search + make + state": {"search": sample.vin[:2], "make": sample.make, "status": "parked"},
    }


async def run(vehicles: int | None, application: str | None, rounds: int, steer: int,
              database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'motorpool.db'}"
        settings = Settings(database_url=url, public_url="http://127.0.0.1:4000", env_file=None,
                            print_credentials=False, admin_token=ADMIN_TOKEN)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            platform: Platform = app.state.platform
            if application is None:
                assert vehicles is not None
                created, _secret = await platform.admin.create_application("dashboard fleet bench", [])
                application = created.id
                await platform.clocks.change(application, rate=0)  # one "now" for every read
                started = time.perf_counter()
                await FleetSeeder(platform.sessions, platform.clocks).seed(application, vehicles, seed=vehicles)
                print(f"seeded {vehicles:,} vehicles in {time.perf_counter() - started:.1f} s on {url.split(':', 1)[0]}")
            async with platform.sessions() as session:
                size = await session.scalar(select(func.count()).where(Vehicle.application_id == application))
            print(f"application {application}: {size:,} vehicles on {url.split(':', 1)[0]}")
            await _steer_some(platform, application, steer)
            cases = await _cases(platform, application)
            times = ServerTimes()
            transport = httpx.ASGITransport(app=Timed(app, times))
            path = f"/dashboard/applications/{application}/fleet"
            wall: dict[str, list[float]] = defaultdict(list)
            cpu: dict[str, list[float]] = defaultdict(list)
            shown: dict[str, tuple[int, str]] = {}
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4000") as http:
                await _sign_in(http)
                for params in cases.values():
                    await http.get(path, params=params)  # warm caches, plans and the template
                for _ in range(rounds):
                    for name, params in cases.items():
                        answer = await http.get(path, params=params)
                        assert answer.status_code == 200, (name, answer.text[:500])
                        wall[name].append(times.wall_ms[-1])
                        cpu[name].append(times.cpu_ms[-1])
                        counted = COUNT.search(answer.text)
                        shown[name] = (len(ROW.findall(answer.text)), counted.group(1) if counted else "")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {rounds} rounds")
    print(f"{'page':<32}{'p50 ms':>8}{'max ms':>8}{'cpu ms':>8}{'rows':>6}  count shown")
    for name in cases:
        rows, counted = shown[name]
        print(f"{name:<32}{statistics.median(wall[name]):>8.1f}{max(wall[name]):>8.1f}"
              f"{statistics.median(cpu[name]):>8.1f}{rows:>6}  {counted}")
    every = [ms for name in cases for ms in wall[name]]
    print(f"{'every page':<32}{statistics.median(every):>8.1f}{max(every):>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vehicles", type=int, default=None, help="seed a new application with this many (default 20,000)")
    parser.add_argument("--application", default=None, help="measure this application's fleet as it is (needs --database-url)")
    parser.add_argument("--rounds", type=int, default=10, help="reads of each page (default 10)")
    parser.add_argument("--steer", type=int, default=300, help="vehicles moved out of parked/asleep first (default 300)")
    parser.add_argument("--database-url", default=None, help="a database (default: a new SQLite file)")
    args = parser.parse_args()
    if args.application is not None and (args.vehicles is not None or args.database_url is None):
        parser.error("--application measures a fleet already in --database-url; it takes no --vehicles")
    vehicles = None if args.application else (args.vehicles or 20_000)
    if vehicles is not None and not 1 <= vehicles <= MAX_VEHICLES:
        parser.error(f"--vehicles is from 1 to {MAX_VEHICLES:,}")
    if not 1 <= args.rounds <= 100:
        parser.error("--rounds is from 1 to 100")
    if not 0 <= args.steer <= 10_000:
        parser.error("--steer is from 0 to 10,000")
    asyncio.run(run(vehicles, args.application, args.rounds, args.steer, args.database_url))


if __name__ == "__main__":
    main()
