"""Seeding a large simulated fleet: ``motorpool vehicles seed``.

Vehicles are drawn as the admin API draws them (``fleet.vehicle_row``: a catalogue model, a VIN,
a seed and the state its simulation starts from, at the application's simulated now), in the
powertrain mix asked for, and written a chunk at a time through ``store.bulk`` (``COPY`` on
PostgreSQL), each chunk in its own transaction: memory stays that of one chunk whatever the
fleet's size, and a progress callback hears of each. Optionally one user of the application is
connected to every new vehicle, with all it can grant, in the same chunks.

Drawing a vehicle (its state, its VIN) is most of a seed's work, so with ``jobs`` above one the
chunks are drawn in a pool of worker processes while this process writes the ones already drawn;
a few chunks per worker are drawn ahead, no more, so memory stays bounded. A vehicle depends only
on the seed and its index in the fleet (its powertrain too is drawn from its own seed), so one
seed gives one fleet whatever the number of jobs or the size of a chunk. Each chunk's transaction
commits without waiting for its WAL flush on PostgreSQL (``store.bulk.relax_commit_durability``).
On PostgreSQL a chunk is drawn as ``COPY`` text, so this process only streams bytes; a seed of
``ONE_TRANSACTION_FROM`` vehicles or more into nearly empty tables runs as one transaction with
the tables' secondary indexes and foreign keys built once at the end (``bulk.indexes_deferred``),
which costs PostgreSQL less than half the CPU of keeping them up row by row.

A failure part-way leaves the chunks already written (each one whole); the caches of running
platform processes are told of the new vehicles once, at the end."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import secrets
import time
import uuid
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import aclosing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import NotFound, ValidationFailed
from ..sim import catalogue
from ..store import bulk, repo
from .admin import Conflict
from .clocks import ClockBook
from .fleet import vehicle_row
from .grants import normalise_email, subject_for

#: Vehicles written per transaction (and held in memory at once).
CHUNK = 5_000
MAX_COUNT = 10_000_000
MAX_JOBS = 64
#: Chunks drawn ahead per worker process: enough to keep the writer fed, few enough for memory.
_AHEAD_PER_JOB = 2
#: Mixed into a vehicle's seed for its powertrain draw, so that draw is a stream of its own.
_MIX_SALT = 0x6D6978


def parse_mix(text: str | None) -> dict[str, float] | None:
    """``bev=0.4,phev=0.1,hev=0.1,ice=0.4`` as weights per powertrain (normalised to sum 1);
    None for the catalogue's own mix."""
    if text is None or not text.strip():
        return None
    weights: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        powertrain = name.strip().upper()
        if not sep or powertrain not in catalogue.POWERTRAINS:
            known = ", ".join(p.lower() for p in catalogue.POWERTRAINS)
            raise ValidationFailed(
                f"mix: give powertrain=weight pairs ({known}), not {part.strip()!r}."
            )
        try:
            weight = float(value)
        except ValueError:
            raise ValidationFailed(
                f"mix: the weight of {name.strip()} must be a number, not {value!r}."
            ) from None
        if not weight >= 0 or weight == float("inf"):
            raise ValidationFailed(f"mix: the weight of {name.strip()} must be zero or more.")
        weights[powertrain] = weights.get(powertrain, 0.0) + weight
    total = sum(weights.values())
    if total <= 0:
        raise ValidationFailed("mix: at least one weight must be more than zero.")
    return {powertrain: weight / total for powertrain, weight in weights.items() if weight > 0}


@dataclass(frozen=True, slots=True)
class Seeded:
    """What a seed made: how many vehicles, and the user connected to them (if one was)."""

    count: int
    user_id: str | None
    #: Whether the seed ran as one transaction with the indexes built at the end.
    in_one_transaction: bool = False
    #: Seconds spent in each phase, as this process saw them (``Phases``).
    phases: dict[str, float] = field(default_factory=dict)


class Phases:
    """Where a seed's time goes, as the writing process sees it: waiting for drawn chunks,
    each table's ``COPY``, commits, each index or constraint built at the end, ``ANALYZE``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._open: dict[str, float] = {}

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    def started(self, phase: str) -> None:
        self._open[phase] = time.perf_counter()

    def stopped(self, phase: str) -> None:
        began = self._open.pop(phase, None)
        if began is not None:
            self.add(phase, time.perf_counter() - began)

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.add(phase, time.perf_counter() - began)

    def rebuilt(self, name: str, seconds: float) -> None:
        self.add("build indexes and keys", seconds)

    async def waiting(self, chunks: AsyncIterator[DrawnChunk]) -> AsyncIterator[DrawnChunk]:
        """``chunks``, timing how long the writer waits for each (drawing it here, with one
        job, or for a worker process to hand it over)."""
        while True:
            began = time.perf_counter()
            try:
                drawn = await anext(chunks)
            except StopAsyncIteration:
                return
            finally:
                self.add("wait for drawn chunks", time.perf_counter() - began)
            yield drawn


#: From this many vehicles a seed into (nearly) empty tables runs in one transaction with the
#: indexes built at the end: below it, building them again costs more than it saves.
ONE_TRANSACTION_FROM = 100_000
#: "Nearly empty": the tables hold at most this share of the rows the seed adds.
NEARLY_EMPTY_SHARE = 0.1


async def _tables_nearly_empty(session: AsyncSession, count: int) -> bool:
    if count < ONE_TRANSACTION_FROM:
        return False
    most = int(count * NEARLY_EMPTY_SHARE)
    for table in ("vehicles", "connections"):
        if await bulk.row_count_at_most(session, table, most + 1) > most:
            return False
    return True


async def _write(session: AsyncSession, table: str, rows: list[bulk.Record] | bulk.CopyText) -> None:
    if isinstance(rows, bulk.CopyText):
        await bulk.insert_copy_text(session, table, rows)
    elif table == "vehicles":
        await bulk.insert_vehicle_records(session, rows)
    else:
        await bulk.insert_connection_records(session, rows)


class FleetSeeder:
    """Adds vehicles to an application's simulated fleet in bulk."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clocks: ClockBook) -> None:
        self.sessions = sessions
        self.clocks = clocks

    async def seed(
        self,
        application_id: str,
        count: int,
        *,
        mix: dict[str, float] | None = None,
        seed: int | None = None,
        connect_email: str | None = None,
        chunk: int = CHUNK,
        jobs: int = 1,
        progress: Callable[[int], None] | None = None,
        one_transaction: bool | None = None,
        stage: Callable[[str], None] | None = None,
    ) -> Seeded:
        """Add ``count`` vehicles, drawn by ``jobs`` worker processes (1: in this one);
        ``progress`` is called with each chunk's size once written. ``one_transaction``: write
        everything in one transaction with the indexes built at the end (PostgreSQL only; by
        default when the seed is large and the tables nearly empty). ``stage`` hears what a long
        step after the last chunk is doing (building the indexes), for a progress display."""
        if not 1 <= count <= MAX_COUNT:
            raise ValidationFailed(f"count must be from 1 to {MAX_COUNT:,}.")
        if not 1 <= jobs <= MAX_JOBS:
            raise ValidationFailed(f"jobs must be from 1 to {MAX_JOBS}.")
        if chunk < 1:
            raise ValidationFailed("chunk must be at least 1.")
        user_id: str | None = None
        async with self.sessions() as session, session.begin():
            if await repo.get_application(session, application_id) is None:
                raise NotFound(f"No application '{application_id}'.")
            if connect_email is not None:
                subject = subject_for("simulated", normalise_email(connect_email))
                user_id = (await repo.get_or_create_user(session, application_id, subject)).id
        now_ms = await self.clocks.now_ms(application_id)
        base = seed if seed is not None else secrets.randbits(40)
        async with self.sessions() as session:
            copy_text = bulk.supports_copy_text(session)
            if one_transaction is None:
                one_transaction = await _tables_nearly_empty(session, count)
            in_one = copy_text and one_transaction
        plan = ChunkPlan(
            application_id=application_id,
            base=base,
            mix=tuple(mix.items()) if mix else (),
            now_ms=now_ms,
            user_id=user_id,
            copy_text=copy_text,
        )
        phases = Phases()
        written = 0

        async def write(session: AsyncSession, drawn: DrawnChunk) -> None:
            nonlocal written
            with phases.timed("copy vehicles"):
                await _write(session, "vehicles", drawn.vehicles)
            with phases.timed("copy connections"):
                await _write(session, "connections", drawn.connections)
            written += drawn.count
            if progress is not None:
                progress(drawn.count)

        try:
            async with aclosing(_drawn_chunks(plan, count, chunk, jobs)) as chunks:
                if in_one:
                    # Tables this new are faster built once than kept up row by row: one
                    # transaction, the indexes and foreign keys set aside and built at the end.
                    async with self.sessions() as session, session.begin():
                        await bulk.relax_commit_durability(session)
                        async with bulk.indexes_deferred(session, on_rebuilt=phases.rebuilt):
                            async for drawn in phases.waiting(chunks):
                                await write(session, drawn)
                            if stage is not None:
                                stage("building indexes")
                        phases.started("commit")
                    phases.stopped("commit")
                else:
                    async for drawn in phases.waiting(chunks):
                        async with self.sessions() as session, session.begin():
                            await bulk.relax_commit_durability(session)
                            await write(session, drawn)
                            phases.started("commit")
                        phases.stopped("commit")
        except bulk.DuplicateRows:
            # A vehicle's id is drawn from its seed: the same seed twice makes the same cars.
            kept = 0 if in_one else written
            raise Conflict(
                f"Vehicles made from seed {base} exist already ({kept:,} of {count:,} "
                "were added now); give another seed."
            ) from None
        async with self.sessions() as session, session.begin():
            # Running processes drop their caches of the fleet (announced, or polled).
            await repo.bump_generation(session)
        with phases.timed("analyze"):
            async with self.sessions() as session, session.begin():
                await bulk.refresh_statistics(session)
        return Seeded(count, user_id, in_one_transaction=in_one, phases=phases.seconds)


async def database_is_empty(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """True when no application exists yet: no platform has made its first start here."""
    async with sessions() as session:
        return await repo.count_applications(session) == 0


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """Everything a chunk's drawing needs (sent to worker processes, so plain values only)."""

    application_id: str
    base: int
    #: (powertrain, weight) pairs; empty for the catalogue's own mix.
    mix: tuple[tuple[str, float], ...]
    now_ms: int
    user_id: str | None
    #: Draw chunks as COPY's text format (PostgreSQL) rather than records.
    copy_text: bool = False


@dataclass(frozen=True, slots=True)
class DrawnChunk:
    """A chunk's rows, ready to write (``store.bulk`` records, or COPY text)."""

    count: int
    vehicles: list[bulk.Record] | bulk.CopyText
    connections: list[bulk.Record] | bulk.CopyText


def vehicle_seed(base: int, index: int) -> int:
    """The seed of the fleet's ``index``-th vehicle: all its randomness flows from it."""
    return (base * 1_000_003 + index) % 2**48


def draw_chunk(plan: ChunkPlan, start: int, size: int) -> DrawnChunk:
    """Draw the vehicles ``start`` to ``start + size - 1`` of the fleet (and their connections
    when a user is to be connected). A pure function of its arguments: a worker process runs it."""
    powertrains = [name for name, _ in plan.mix]
    weights = [weight for _, weight in plan.mix]
    vehicles = []
    for index in range(start, start + size):
        own_seed = vehicle_seed(plan.base, index)
        powertrain = (
            random.Random(own_seed ^ _MIX_SALT).choices(powertrains, weights)[0]
            if powertrains
            else None
        )
        vehicles.append(
            vehicle_row(
                application_id=plan.application_id,
                owner_id=None,
                powertrain=powertrain,
                seed=own_seed,
                now_ms=plan.now_ms,
            )
        )
    connections = (
        [] if plan.user_id is None else _connections(plan.application_id, plan.user_id, vehicles)
    )
    if plan.copy_text:
        return DrawnChunk(
            size, bulk.vehicle_copy_text(vehicles), bulk.connection_copy_text(connections)
        )
    return DrawnChunk(
        size, bulk.vehicle_records(vehicles), bulk.connection_records(connections)
    )


async def _drawn_chunks(
    plan: ChunkPlan, count: int, chunk: int, jobs: int
) -> AsyncGenerator[DrawnChunk, None]:
    """The fleet's chunks in order, drawn here (one job) or by ``jobs`` worker processes."""
    starts = iter(range(0, count, chunk))
    if jobs == 1:
        for start in starts:
            yield draw_chunk(plan, start, min(chunk, count - start))
        return
    loop = asyncio.get_running_loop()
    # Spawned, not forked: this process runs an event loop and driver threads a fork would copy.
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    try:
        pending: deque[asyncio.Future[DrawnChunk]] = deque()

        def submit_next() -> None:
            start = next(starts, None)
            if start is not None:
                size = min(chunk, count - start)
                pending.append(loop.run_in_executor(pool, draw_chunk, plan, start, size))

        for _ in range(jobs * _AHEAD_PER_JOB):
            submit_next()
        while pending:
            drawn = await pending.popleft()
            submit_next()
            yield drawn
    finally:
        # On a failure (a duplicate seed, a lost database) the chunks not yet drawn are dropped.
        pool.shutdown(wait=True, cancel_futures=True)


def _connections(
    application_id: str, user_id: str, vehicles: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One connection per vehicle with every permission it can grant, as Connect would store it."""
    now = datetime.now(UTC)
    return [
        {
            "id": str(uuid.uuid4()),
            "application_id": application_id,
            "user_id": user_id,
            "vehicle_id": vehicle["id"],
            "permissions": list(vehicle["capabilities"]),
            "external_id": None,
            "mode": "simulated",
            "created_at": now,
            "updated_at": now,
        }
        for vehicle in vehicles
    ]
