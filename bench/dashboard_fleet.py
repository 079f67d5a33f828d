"""The dashboard's fleet table at a large fleet: the first page, a page filtered by state, and a
search, each timed through the real app (session, SQL, template) in-process.

    .venv/bin/python bench/dashboard_fleet.py --vehicles 100000 [--rounds 5]
        [--database-url postgresql+asyncpg://USER@HOST:5432/DB]

A fresh application is seeded with ``--vehicles`` vehicles (on a new SQLite file by default, or
in the given PostgreSQL database, which should be empty), a few hundred of them are taken
offline, sent driving or put on charge through the steering service, and each page is then asked
for ``--rounds`` times; the median and the slowest are printed in milliseconds. Paging is by
keyset, the state filter reads the indexes of migration 0009, and a search asks an index for each
way it can match (VIN start, nickname start, model, id), so every page should cost about the same
at any size; a one-letter nickname search, whose matches are many and sorted by id, costs most.
Seeding is what takes time here (about 2,000 vehicles a second on SQLite on a 2-core machine)."""

from __future__ import annotations

import _pathfix  # noqa: F401  (must come first: see _pathfix.py)

# isort: split
import argparse
import asyncio
import re
import statistics
import tempfile
import time
from html import unescape
from pathlib import Path

import httpx
from sqlalchemy import select

from motorpool.platform.app import create_app
from motorpool.platform.services.runtime import Platform
from motorpool.platform.services.seeding import FleetSeeder
from motorpool.platform.settings import Settings
from motorpool.platform.store.models import Vehicle

ADMIN_TOKEN = "adm_bench-dashboard-fleet-token"
#: Seeding a million vehicles takes minutes; more than that is not what this measures.
MAX_VEHICLES = 1_000_000
#: How many vehicles are moved out of "parked"/"asleep", so the state filter has rare states to find.
STEERED = 300


async def _sign_in(http: httpx.AsyncClient) -> None:
    page = await http.get("/dashboard/sign-in")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None, page.text
    answer = await http.post("/dashboard/sign-in", data={"csrf": unescape(token.group(1)), "secret": ADMIN_TOKEN})
    assert answer.status_code == 303, answer.text


async def _steer_some(platform: Platform, application_id: str, count: int) -> None:
    """Take every tenth of ``count`` vehicles offline, send a third driving and plug the rest in
    to charge (the ones that can)."""
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


async def _time(http: httpx.AsyncClient, path: str, params: dict[str, str], rounds: int) -> tuple[float, float, int]:
    """Median and slowest milliseconds of ``rounds`` reads of the page, and its row count."""
    took: list[float] = []
    rows = 0
    for _ in range(rounds):
        started = time.perf_counter()
        answer = await http.get(path, params=params)
        took.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text[:500]
        rows = answer.text.count('href="/dashboard/vehicles/')
    return statistics.median(took), max(took), rows


async def run(vehicles: int, rounds: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{Path(folder) / 'motorpool.db'}"
        settings = Settings(database_url=url, public_url="http://127.0.0.1:4000", env_file=None,
                            print_credentials=False, admin_token=ADMIN_TOKEN)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            platform: Platform = app.state.platform
            created, _secret = await platform.admin.create_application("dashboard fleet bench", [])
            await platform.clocks.change(created.id, rate=0)  # one "now" for every read
            started = time.perf_counter()
            await FleetSeeder(platform.sessions, platform.clocks).seed(created.id, vehicles, seed=vehicles)
            seeding = time.perf_counter() - started
            print(f"seeded {vehicles:,} vehicles in {seeding:.1f} s on {url.split(':', 1)[0]}")
            await _steer_some(platform, created.id, min(STEERED, vehicles))
            async with platform.sessions() as session:
                some_vin = await session.scalar(
                    select(Vehicle.vin).where(Vehicle.application_id == created.id).limit(1)
                )
            assert some_vin is not None
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4000") as http:
                await _sign_in(http)
                path = f"/dashboard/applications/{created.id}/fleet"
                cases = {
                    "first page": {},
                    "state: driving (rare)": {"status": "driving"},
                    "state: charging (rare)": {"status": "charging"},
                    "state: offline (rare)": {"status": "offline"},
                    "state: parked (common)": {"status": "parked"},
                    "search: a model": {"search": "model"},
                    "search: a VIN prefix": {"search": some_vin[:5]},
                    "search: a nickname start": {"search": "b"},
                    "search: nothing matches": {"search": "no-such-vehicle"},
                }
                print(f"{'page':<28}{'median ms':>10}{'max ms':>10}{'rows':>6}")
                for name, params in cases.items():
                    await http.get(path, params=params)  # warm caches and the template
                    median, slowest, rows = await _time(http, path, params, rounds)
                    print(f"{name:<28}{median:>10.1f}{slowest:>10.1f}{rows:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vehicles", type=int, default=20_000, help="fleet size (default 20,000)")
    parser.add_argument("--rounds", type=int, default=5, help="reads of each page (default 5)")
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    if not 1 <= args.vehicles <= MAX_VEHICLES:
        parser.error(f"--vehicles is from 1 to {MAX_VEHICLES:,}")
    if not 1 <= args.rounds <= 100:
        parser.error("--rounds is from 1 to 100")
    asyncio.run(run(args.vehicles, args.rounds, args.database_url))


if __name__ == "__main__":
    main()
