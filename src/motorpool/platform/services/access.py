"""Who may read which vehicle: the connection check of the Vehicle API, cached in memory.

A read needs the caller's connection to the vehicle and the vehicle's state record. Both change
rarely compared with how often they are read, so they are kept in a bounded LRU. A commit that
changes connections, users or vehicles empties it at once in this process; other processes see
the change through a counter in the database that each polls about once a second."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import NotFound, PermissionDenied
from ..store import repo


@dataclass(frozen=True, slots=True)
class VehicleAccess:
    """A user's connection to a vehicle, with the vehicle as it is now."""

    application_id: str
    user_id: str
    connection_id: str
    permissions: frozenset[str]
    vehicle_id: str
    vin: str
    make: str
    model: str
    year: int
    powertrain: str
    mode: str
    seed: int
    state: dict[str, Any]
    version: int


class AccessCache:
    def __init__(self, size: int = 250_000) -> None:
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        self._entries: OrderedDict[tuple[str, str, str], VehicleAccess] = OrderedDict()
        self._size = size
        self.generation = -1
        self.listeners: list[Any] = []

    def invalidate(self) -> None:
        self._entries.clear()
        for listener in self.listeners:
            listener()

    async def poll(self) -> None:
        """Drop everything when another process changed connections, users or vehicles."""
        assert self.sessions is not None
        async with self.sessions() as session:
            generation = await repo.read_generation(session)
        if generation != self.generation:
            self.generation = generation
            self.invalidate()

    async def get(self, application_id: str, user_id: str, vehicle_id: str) -> VehicleAccess:
        """The user's access to the vehicle, or NotFound / PermissionDenied."""
        key = (application_id, user_id, vehicle_id)
        entry = self._entries.get(key)
        if entry is not None:
            return entry
        assert self.sessions is not None
        async with self.sessions() as session:
            row = await repo.access_row(session, application_id, user_id, vehicle_id)
            if row is None:
                await self._explain_refusal(session, application_id, user_id, vehicle_id)
        assert row is not None
        entry = VehicleAccess(
            application_id=application_id,
            user_id=user_id,
            connection_id=row.connection_id,
            permissions=frozenset(row.permissions),
            vehicle_id=row.vehicle_id,
            vin=row.vin,
            make=row.make,
            model=row.model,
            year=row.year,
            powertrain=row.powertrain,
            mode=row.mode,
            seed=row.seed,
            state=row.state,
            version=row.version,
        )
        self._entries[key] = entry
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return entry

    @staticmethod
    async def _explain_refusal(
        session: AsyncSession, application_id: str, user_id: str, vehicle_id: str
    ) -> None:
        if await repo.get_user(session, application_id, user_id) is None:
            raise NotFound(f"No user with id '{user_id}'.", code="PATH")
        if await repo.vehicle_connected_to_application(session, application_id, vehicle_id):
            raise PermissionDenied(
                f"User '{user_id}' has no connection to vehicle '{vehicle_id}'.",
                code=None,
            )
        raise NotFound(f"No vehicle with id '{vehicle_id}' is connected to this application.")
