"""``motorpool vehicles seed``: a fleet written in bulk (COPY on PostgreSQL, an executemany INSERT
on SQLite), a chunk per transaction, in the powertrain mix asked for, optionally connected to one
owner; then served by the Vehicle API like any other vehicle. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from motorpool.platform.errors import NotFound, ValidationFailed
from motorpool.platform.services.admin import Conflict, VehicleRecord
from motorpool.platform.services.seeding import FleetSeeder, parse_mix
from motorpool.platform.store import bulk

from ..support.databases import SqliteTemplate
from ..support.harness import PlatformHarness, running_platform


def seeder_of(platform: PlatformHarness) -> FleetSeeder:
    return FleetSeeder(platform.platform.sessions, platform.platform.clocks)


async def fleet(platform: PlatformHarness) -> list[VehicleRecord]:
    """The whole fleet, a page at a time."""
    vehicles: list[VehicleRecord] = []
    cursor: str | None = None
    while True:
        page = await platform.platform.admin.fleet(platform.application_id, cursor=cursor)
        vehicles += page.vehicles
        if page.next_cursor is None:
            return vehicles
        cursor = page.next_cursor


async def test_a_seeded_fleet_arrives_in_chunks_in_the_mix_asked_for(
    platform: PlatformHarness,
) -> None:
    before = {v.id for v in await fleet(platform)}
    chunks: list[int] = []
    seeded = await seeder_of(platform).seed(
        platform.application_id,
        1_234,
        mix=parse_mix("bev=3,ice=1"),
        seed=7,
        chunk=500,
        progress=chunks.append,
    )
    assert seeded.count == 1_234 and seeded.user_id is None
    assert chunks == [500, 500, 234]
    added = [v for v in await fleet(platform) if v.id not in before]
    assert len(added) == 1_234
    powertrains = Counter(v.powertrain for v in added)
    assert set(powertrains) == {"BEV", "ICE"}
    assert 0.70 < powertrains["BEV"] / 1_234 < 0.80  # 3 to 1, drawn
    assert len({v.vin for v in added}) == 1_234


async def test_seeded_vehicles_connected_to_an_owner_answer_the_vehicle_api(
    platform: PlatformHarness,
) -> None:
    seeded = await seeder_of(platform).seed(
        platform.application_id, 300, seed=11, chunk=128, connect_email="Fleet@Example.com"
    )
    assert seeded.user_id is not None
    headers = await platform.auth_headers(seeded.user_id)
    listed = await platform.http.get(
        "/v3/connections",
        headers=headers,
        params={"filter[userId]": seeded.user_id, "page[size]": 5},
    )
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["meta"]["totalCount"] == 300
    vehicle_id = body["connections"][0]["vehicleId"]
    odometer = await platform.http.get(
        f"/v3/vehicles/{vehicle_id}/signals/odometer-traveleddistance", headers=headers
    )
    assert odometer.status_code == 200, odometer.text
    assert odometer.json()["data"]["attributes"]["body"]["value"] > 0


async def test_the_pages_of_a_seeded_fleet_s_connections_hold_each_one_once_newest_first(
    platform: PlatformHarness,
) -> None:
    # A chunk's connections share one created_at, so the id alone orders them within it.
    seeded = await seeder_of(platform).seed(
        platform.application_id, 300, seed=13, chunk=128, connect_email="pages@example.com"
    )
    assert seeded.user_id is not None
    headers = await platform.auth_headers(seeded.user_id)
    for only_the_user in (False, True):
        params: dict[str, str | int] = {"page[size]": 40}
        if only_the_user:
            params["filter[userId]"] = seeded.user_id
        walked: list[tuple[str, str]] = []
        number, total = 1, None
        while total is None or len(walked) < total:
            page = await platform.http.get(
                "/v3/connections", headers=headers, params={**params, "page[number]": number}
            )
            assert page.status_code == 200, page.text
            total = page.json()["meta"]["totalCount"]
            resources = page.json()["data"]
            assert resources, f"page {number} is empty though {len(walked)} of {total} were seen"
            walked += [(c["meta"]["createdAt"], c["id"]) for c in resources]
            number += 1
        assert total >= 300 and (total == 300 or not only_the_user)
        assert len(set(walked)) == len(walked) == total, "a connection appeared on two pages"
        assert walked == sorted(walked, reverse=True), "pages are not newest first"


async def test_the_same_seed_twice_is_a_conflict_not_a_crash(platform: PlatformHarness) -> None:
    seeder = seeder_of(platform)
    await seeder.seed(platform.application_id, 10, seed=99)
    with pytest.raises(Conflict, match="seed 99"):
        await seeder.seed(platform.application_id, 10, seed=99)
    assert len([v for v in await fleet(platform)]) >= 10


async def test_bad_input_is_refused_clearly(platform: PlatformHarness) -> None:
    seeder = seeder_of(platform)
    with pytest.raises(NotFound):
        await seeder.seed("no-such-application", 10)
    with pytest.raises(ValidationFailed, match="count"):
        await seeder.seed(platform.application_id, 0)
    for mix, problem in [("bev", "pairs"), ("tank=1", "pairs"), ("bev=x", "number"), ("bev=-1", "zero or more"),
                         ("bev=0,ice=0", "more than zero")]:  # fmt: skip
        with pytest.raises(ValidationFailed, match=problem):
            parse_mix(mix)
    assert parse_mix("BEV=1, phev=1") == {"BEV": 0.5, "PHEV": 0.5}


def test_the_command_seeds_with_a_progress_bar_and_says_how_fast(
    sqlite_template: SqliteTemplate, tmp_path: Path
) -> None:
    database = asyncio.run(sqlite_template.copy(tmp_path / "motorpool.db"))
    application_id = database.first.application_id
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTORPOOL_")}
    command = [sys.executable, "-m", "motorpool.cli", "vehicles", "seed", "--count", "2500",
               "--application", application_id, "--mix", "phev=1", "--connect", "cli@example.com",
               "--database-url", f"sqlite:///{tmp_path / 'motorpool.db'}"]  # fmt: skip
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "2,500 vehicles added to" in done.stderr and "connected to user" in done.stderr

    refused = subprocess.run([*command[:-2], "--mix", "warp=1"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert refused.returncode == 2 and "powertrain=weight" in refused.stderr
    assert "Traceback" not in refused.stderr

    async def check() -> None:
        async with running_platform(database.url, first=database.first) as platform:
            vehicles = await fleet(platform)
            assert Counter(v.powertrain for v in vehicles)["PHEV"] >= 2500

    asyncio.run(check())


async def test_worker_processes_draw_the_same_fleet_as_one_process(
    sqlite_template: SqliteTemplate, tmp_path: Path
) -> None:
    # Two databases from one template: the same seed twice in one would be a conflict.
    fleets: list[list[tuple[object, ...]]] = []
    for jobs, chunk in ((1, 500), (2, 128)):
        database = await sqlite_template.copy(tmp_path / f"jobs-{jobs}.db")
        async with running_platform(database.url, first=database.first) as platform:
            before = {v.id for v in await fleet(platform)}
            seeded = await seeder_of(platform).seed(
                platform.application_id,
                1_000,
                mix=parse_mix("bev=1,phev=1,ice=2"),
                seed=4242,
                chunk=chunk,
                jobs=jobs,
                connect_email="jobs@example.com",
            )
            assert seeded.count == 1_000
            added = [v for v in await fleet(platform) if v.id not in before]
            fleets.append(
                sorted((v.id, v.vin, v.make, v.model, v.year, v.powertrain) for v in added)
            )
            headers = await platform.auth_headers(seeded.user_id or "")
            listed = await platform.http.get(
                "/v3/connections", headers=headers, params={"filter[userId]": seeded.user_id}
            )
            assert listed.json()["meta"]["totalCount"] == 1_000
    one_job, two_jobs = fleets
    assert len(one_job) == 1_000 and len({row[0] for row in one_job}) == 1_000
    assert one_job == two_jobs
    assert {row[5] for row in one_job} == {"BEV", "PHEV", "ICE"}


async def test_jobs_out_of_range_are_refused(platform: PlatformHarness) -> None:
    with pytest.raises(ValidationFailed, match="jobs"):
        await seeder_of(platform).seed(platform.application_id, 10, jobs=0)


def test_the_command_on_an_empty_database_makes_the_first_start_itself(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTORPOOL_")}
    database = tmp_path / "empty.db"
    command = [sys.executable, "-m", "motorpool.cli", "vehicles", "seed", "--count", "40",
               "--seed", "5", "--database-url", f"sqlite:///{database}"]  # fmt: skip
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "The database was empty: made the first start" in done.stderr
    written = dict(
        line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines() if "=" in line
    )
    application_id = written["MOTORPOOL_APPLICATION_ID"]
    assert f"40 vehicles added to {application_id}" in done.stderr

    # The second time the database has its application: no second first start.
    again = subprocess.run([*command[:8], "6", *command[9:]], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "first start" not in again.stderr and f"added to {application_id}" in again.stderr


async def test_a_seed_in_one_transaction_builds_every_index_and_key_again(
    platform: PlatformHarness,
) -> None:
    # The path a million-vehicle seed into a new database takes, here on a small fleet.
    async def catalogue() -> tuple[set[str], set[str]]:
        async with platform.platform.sessions() as session:
            if session.get_bind().dialect.name != "postgresql":
                return set(), set()
            indexes = await session.execute(
                text("SELECT indexdef FROM pg_indexes WHERE tablename IN ('vehicles', 'connections')")
            )
            keys = await session.execute(
                text(
                    "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid IN ('vehicles'::regclass, 'connections'::regclass)"
                )
            )
            return set(indexes.scalars()), set(keys.scalars())

    before = await catalogue()
    stages: list[str] = []
    seeded = await seeder_of(platform).seed(
        platform.application_id, 1_200, seed=31, chunk=500, connect_email="one@example.com",
        one_transaction=True, stage=stages.append,
    )  # fmt: skip
    dialect = platform.platform.settings.database_url.split(":")[0]
    assert seeded.in_one_transaction is dialect.startswith("postgresql")
    assert await catalogue() == before
    if seeded.in_one_transaction:
        assert seeded.phases["build indexes and keys"] > 0
        assert stages == ["building indexes"]
    headers = await platform.auth_headers(seeded.user_id or "")
    listed = await platform.http.get(
        "/v3/connections", headers=headers, params={"filter[userId]": seeded.user_id}
    )
    assert listed.json()["meta"]["totalCount"] == 1_200
    # Duplicates are still refused (the primary key stays), and nothing of that seed is kept.
    with pytest.raises(Conflict, match="seed 31"):
        await seeder_of(platform).seed(platform.application_id, 1_200, seed=31, one_transaction=True)
    assert await catalogue() == before


def test_copy_text_escapes_what_the_format_reserves() -> None:
    row = {column.name: None for column in bulk._VEHICLES.columns}
    row.update(id="v1", nickname="tab\there\\new\nline", state={"quote": 'say "hi"\\'}, seed=5)
    chunk = bulk.vehicle_copy_text([row])
    assert chunk.rows == 1 and chunk.payload.endswith(b"\n")
    fields = chunk.payload.decode()[:-1].split("\t")
    names = [column.name for column in bulk._VEHICLES.columns]
    assert fields[names.index("nickname")] == "tab\\there\\\\new\\nline"
    assert fields[names.index("state")] == '{"quote":"say \\\\"hi\\\\"\\\\\\\\"}'
    assert fields[names.index("vin")] == "\\N" and fields[names.index("seed")] == "5"
