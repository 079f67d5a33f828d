"""Connections and users as the Vehicle API sees them: listing, reading and removing.

The v3 routes page by number; the v2 Management API (:mod:`.management`) pages the same rows by an
opaque cursor and removes them by filter, through methods whose filter names an application it has
already authenticated."""

from __future__ import annotations

import base64
import binascii
import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import NotFound, ValidationFailed
from ..store import repo
from ..store.models import Connection, Vehicle
from .access import VehicleGate, VehicleSummary, request_user
from .grants import MODES
from .params import Paging, parse_paging, parse_uuid


def connection_filter(
    application_id: str, query: Mapping[str, str], header_user_id: str | None
) -> repo.ConnectionFilter:
    user_id = query.get("filter[userId]")
    if user_id is not None:
        user_id = parse_uuid(user_id, "userId", parameter="filter[userId]")
    if header_user_id is not None:
        header_user_id = parse_uuid(header_user_id, "sc-user-id", parameter="sc-user-id")
        if user_id is not None and user_id != header_user_id:
            raise ValidationFailed("filter[userId] and the sc-user-id header name different users.")
        user_id = header_user_id
    vehicle_id = query.get("filter[vehicleId]")
    if vehicle_id is not None:
        vehicle_id = parse_uuid(vehicle_id, "vehicleId", parameter="filter[vehicleId]")
    mode = query.get("filter[vehicle.mode]")
    if mode is not None and mode not in MODES:
        raise ValidationFailed(
            f"filter[vehicle.mode] must be one of {', '.join(MODES)}.",
            source={"parameter": "filter[vehicle.mode]"},
        )
    return repo.ConnectionFilter(
        application_id=application_id,
        user_id=user_id,
        vehicle_id=vehicle_id,
        mode=mode,
        external_id=query.get("filter[user.externalId]"),
    )


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    """A user's connection to a vehicle, with the vehicle."""

    id: str
    vehicle_id: str
    user_id: str
    permissions: tuple[str, ...]
    external_id: str | None
    mode: str
    created_at: datetime
    updated_at: datetime
    vehicle: VehicleSummary


@dataclass(frozen=True, slots=True)
class ConnectionPage:
    connections: list[ConnectionRecord]
    paging: Paging
    total: int


@dataclass(frozen=True, slots=True)
class CursorPage:
    connections: list[ConnectionRecord]
    #: Where the next page starts; None on the last page.
    next_cursor: str | None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def encode_cursor(created_at: datetime, connection_id: str) -> str:
    """An opaque cursor naming a connection's place in the newest-first order."""
    micros = (repo.aware(created_at) - _EPOCH) // _MICROSECOND
    return base64.urlsafe_b64encode(f"{micros}~{connection_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parameter: str = "cursor") -> tuple[datetime, str]:
    """The (created_at, id) a cursor names, or a VALIDATION error."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        micros, _, connection_id = text.partition("~")
        moment = _EPOCH + int(micros) * _MICROSECOND
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        raise ValidationFailed(
            f"The cursor '{cursor}' is not one this API gave out.", source={"parameter": parameter}
        ) from None
    return moment, parse_uuid(connection_id, "cursor", parameter=parameter)


def summary_of(vehicle: Vehicle) -> VehicleSummary:
    return VehicleSummary(
        id=vehicle.id,
        make=vehicle.make,
        model=vehicle.model,
        year=vehicle.year,
        mode=vehicle.mode,
        powertrain=vehicle.powertrain,
    )


def _record(connection: Connection) -> ConnectionRecord:
    return ConnectionRecord(
        id=connection.id,
        vehicle_id=connection.vehicle_id,
        user_id=connection.user_id,
        permissions=tuple(connection.permissions),
        external_id=connection.external_id,
        mode=connection.mode,
        created_at=repo.aware(connection.created_at),
        updated_at=repo.aware(connection.updated_at),
        vehicle=summary_of(connection.vehicle),
    )


async def _find(
    session: AsyncSession, application_id: str, connection_or_vehicle_id: str, user_id: str | None
) -> list[Connection]:
    """Connections named by a connection id, or by a vehicle id (as the announcement writes it).

    A vehicle id may match one connection per user; ``user_id`` narrows it to one."""
    ident = parse_uuid(connection_or_vehicle_id, "connectionId", parameter="connectionId")
    if user_id is not None:
        user_id = parse_uuid(user_id, "sc-user-id", parameter="sc-user-id")
    connection = await repo.get_connection(session, application_id, ident)
    if connection is not None:
        if user_id is not None and connection.user_id != user_id:
            raise NotFound(f"No connection '{ident}' for this user.")
        return [connection]
    by_vehicle = list(await repo.connections_for_vehicle(session, application_id, ident))
    if user_id is not None:
        by_vehicle = [c for c in by_vehicle if c.user_id == user_id]
    if not by_vehicle:
        raise NotFound(f"No connection or connected vehicle with id '{ident}'.")
    return by_vehicle


class ConnectionService:
    """Connections, users and vehicles as an application sees them through the Vehicle API.

    Every method takes the request's ``Authorization`` header: it authenticates the application
    and spends a token of its rate limit first."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], gate: VehicleGate) -> None:
        self.sessions = sessions
        self.gate = gate

    async def list(
        self, authorization: str | None, query: Mapping[str, str], user_id: str | None
    ) -> ConnectionPage:
        """The application's connections, newest first, filtered and paged as ``query`` asks
        (narrowed to one user by the ``sc-user-id`` header, ``user_id``)."""
        claims = await self.gate.admit_application(authorization)
        user_id = request_user(claims, user_id)
        filters = connection_filter(claims.application_id, query, user_id)
        paging = parse_paging(query)
        async with self.sessions() as session:
            rows, total = await repo.page_connections(session, filters, paging.offset, paging.size)
            return ConnectionPage([_record(row) for row in rows], paging, total)

    async def get(
        self, authorization: str | None, connection_or_vehicle_id: str, user_id: str | None
    ) -> ConnectionRecord:
        claims = await self.gate.admit_application(authorization)
        user_id = request_user(claims, user_id)
        async with self.sessions() as session:
            found = await _find(session, claims.application_id, connection_or_vehicle_id, user_id)
            return _record(found[0])

    async def delete(
        self, authorization: str | None, connection_or_vehicle_id: str, user_id: str | None
    ) -> None:
        """Disconnect: a connection by its id, or every connection of a vehicle to this
        application (narrowed to one user by ``user_id``)."""
        claims = await self.gate.admit_application(authorization)
        user_id = request_user(claims, user_id)
        async with self.sessions() as session, session.begin():
            for connection in await _find(
                session, claims.application_id, connection_or_vehicle_id, user_id
            ):
                await repo.delete_connection(session, connection)

    async def page_after(
        self, filters: repo.ConnectionFilter, cursor: str | None, limit: int
    ) -> CursorPage:
        """A page of the connections ``filters`` match (they name the application), newest
        first, from ``cursor`` on (the first page without one)."""
        after = decode_cursor(cursor) if cursor is not None else None
        async with self.sessions() as session:
            rows = list(await repo.connections_after(session, filters, after, limit + 1))
            records = [_record(row) for row in rows[:limit]]
        following = None
        if len(rows) > limit:
            last = records[-1]
            following = encode_cursor(last.created_at, last.id)
        return CursorPage(records, following)

    async def remove_matching(self, filters: repo.ConnectionFilter) -> builtins.list[ConnectionRecord]:
        """Disconnect every connection the filter matches, as ``DELETE /v3/connections/{id}``
        does one; answers what was removed."""
        async with self.sessions() as session, session.begin():
            rows = list(await repo.matching_connections(session, filters))
            removed = [_record(row) for row in rows]
            await repo.delete_connections(session, rows)
        return removed

    async def of_application(
        self, application_id: str, *, user_id: str | None, vehicle_id: str | None, limit: int
    ) -> builtins.list[ConnectionRecord]:
        """The control plane's view: the application's connections (of one user, one vehicle, or
        both), newest first, at most ``limit``."""
        filters = repo.ConnectionFilter(application_id=application_id, user_id=user_id, vehicle_id=vehicle_id)
        return (await self.page_after(filters, None, limit)).connections

    async def remove_of_application(
        self, application_id: str, *, user_id: str | None, vehicle_id: str | None
    ) -> builtins.list[ConnectionRecord]:
        """The control plane's disconnect: a user's connections, a vehicle's, or both's."""
        filters = repo.ConnectionFilter(application_id=application_id, user_id=user_id, vehicle_id=vehicle_id)
        return await self.remove_matching(filters)

    async def user_vehicle_ids(
        self, application_id: str, user_id: str, offset: int, limit: int
    ) -> tuple[tuple[str, ...], int]:
        """A page of the vehicles the user connected to the application, newest connection first,
        and how many there are (the v2 ``GET /vehicles``)."""
        filters = repo.ConnectionFilter(application_id=application_id, user_id=user_id)
        async with self.sessions() as session:
            rows, total = await repo.page_connections(session, filters, offset, limit)
            return tuple(row.vehicle_id for row in rows), total

    async def disconnect(self, application_id: str, user_id: str, vehicle_id: str) -> bool:
        """Remove the user's connection to a vehicle: what ``DELETE /v3/connections/{vehicle id}``
        does for this user. False when there was none."""
        async with self.sessions() as session, session.begin():
            connection = await repo.find_connection(session, application_id, user_id, vehicle_id)
            if connection is None:
                return False
            await repo.delete_connection(session, connection)
            return True

    async def delete_user(self, authorization: str | None, user_id: str) -> None:
        """Delete the user with all their connections."""
        claims = await self.gate.admit_application(authorization)
        user_id = parse_uuid(user_id, "userId", parameter="userId")
        async with self.sessions() as session, session.begin():
            user = await repo.get_user(session, claims.application_id, user_id)
            # A user token reaches its own user only.
            if user is None or claims.user_id not in (None, user_id):
                raise NotFound(f"No user with id '{user_id}'.")
            await repo.delete_user(session, user)

    async def vehicle(
        self, authorization: str | None, vehicle_id: str, user_id: str | None
    ) -> VehicleSummary:
        """A vehicle connected to the application (to ``user_id``, when given)."""
        claims = await self.gate.admit_application(authorization)
        vehicle_id = parse_uuid(vehicle_id, "vehicleId", parameter="vehicleId")
        user_id = request_user(claims, user_id)
        if user_id is not None:
            access = await self.gate.access.get(claims.application_id, user_id, vehicle_id)
            summary = access.summary()
        else:
            async with self.sessions() as session:
                found = await _find(session, claims.application_id, vehicle_id, None)
                vehicle = found[0].vehicle
                if vehicle.id != vehicle_id:
                    raise NotFound(
                        f"No vehicle with id '{vehicle_id}' is connected to this application."
                    )
                summary = summary_of(vehicle)
        await self.gate.vehicle_latency()
        return summary
