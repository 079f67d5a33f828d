"""Seeding a large simulated fleet: ``motorpool vehicles seed``.

Vehicles are drawn as the admin API draws them (``fleet.vehicle_row``: a catalogue model, a VIN,
a seed and the state its simulation starts from, at the application's simulated now), in the
powertrain mix asked for, and written a chunk at a time through ``store.bulk`` (``COPY`` on
PostgreSQL), each chunk in its own transaction: memory stays that of one chunk whatever the
fleet's size, and a progress callback hears of each. Optionally one user of the application is
connected to every new vehicle, with all it can grant, in the same chunks.

A failure part-way leaves the chunks already written (each one whole); the caches of running
platform processes are told of the new vehicles once, at the end."""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
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
        progress: Callable[[int], None] | None = None,
    ) -> Seeded:
        """Add ``count`` vehicles (``progress`` is called with each chunk's size once written)."""
        if not 1 <= count <= MAX_COUNT:
            raise ValidationFailed(f"count must be from 1 to {MAX_COUNT:,}.")
        user_id: str | None = None
        async with self.sessions() as session, session.begin():
            if await repo.get_application(session, application_id) is None:
                raise NotFound(f"No application '{application_id}'.")
            if connect_email is not None:
                subject = subject_for("simulated", normalise_email(connect_email))
                user_id = (await repo.get_or_create_user(session, application_id, subject)).id
        now_ms = await self.clocks.now_ms(application_id)
        base = seed if seed is not None else secrets.randbits(40)
        # The mix is drawn from its own stream, so one seed gives one fleet.
        draw = random.Random(base)
        powertrains = list(mix) if mix else None
        weights = list(mix.values()) if mix else None
        for start in range(0, count, chunk):
            size = min(chunk, count - start)
            vehicles = [
                vehicle_row(
                    application_id=application_id,
                    owner_id=None,
                    powertrain=draw.choices(powertrains, weights)[0]
                    if powertrains and weights
                    else None,
                    seed=(base * 1_000_003 + start + index) % 2**48,
                    now_ms=now_ms,
                )
                for index in range(size)
            ]
            connections = [] if user_id is None else _connections(application_id, user_id, vehicles)
            try:
                async with self.sessions() as session, session.begin():
                    await bulk.insert_vehicles(session, vehicles)
                    await bulk.insert_connections(session, connections)
            except bulk.DuplicateRows:
                # A vehicle's id is drawn from its seed: the same seed twice makes the same cars.
                raise Conflict(
                    f"Vehicles made from seed {base} exist already ({start:,} of {count:,} were "
                    "added now); give another seed."
                ) from None
            if progress is not None:
                progress(size)
        async with self.sessions() as session, session.begin():
            # Running processes drop their caches of the fleet (announced, or polled).
            await repo.bump_generation(session)
        async with self.sessions() as session, session.begin():
            await bulk.refresh_statistics(session)
        return Seeded(count, user_id)


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
