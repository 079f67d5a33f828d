"""Connections and users as the Vehicle API sees them: listing, reading and removing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import NotFound, ValidationFailed
from ..store import repo
from ..store.models import Connection

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10
CONNECTION_MODES = ("live", "simulated", "test")


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_uuid(value: str, what: str, *, parameter: str | None = None) -> str:
    """The canonical form of a UUID, or a VALIDATION error naming what was malformed."""
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
        return value  # the common case, checked without building a UUID object
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise ValidationFailed(
            f"The {what} '{value}' is not a valid UUID.",
            code="INVALID_INPUT_FORMAT",
            source={"parameter": parameter or what},
        ) from None


@dataclass(frozen=True)
class Paging:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def parse_paging(query: Mapping[str, str], default_size: int = DEFAULT_PAGE_SIZE) -> Paging:
    """Accept ``page[number]``/``page[size]`` and ``page``/``pageSize`` alike."""
    raw_number = query.get("page[number]", query.get("page"))
    raw_size = query.get("page[size]", query.get("pageSize"))
    problems: list[ValidationFailed] = []
    number, size = 1, default_size
    if raw_number is not None:
        try:
            number = int(raw_number)
            if number < 1:
                raise ValueError
        except ValueError:
            problems.append(
                ValidationFailed(
                    f"The page number '{raw_number}' must be a whole number of at least 1.",
                    source={"parameter": "page[number]"},
                )
            )
    if raw_size is not None:
        try:
            size = int(raw_size)
            if not 1 <= size <= MAX_PAGE_SIZE:
                raise ValueError
        except ValueError:
            problems.append(
                ValidationFailed(
                    f"The page size '{raw_size}' must be a whole number from 1 to {MAX_PAGE_SIZE}.",
                    source={"parameter": "page[size]"},
                )
            )
    if problems:
        first = problems[0]
        first.extra_errors = problems[1:]
        raise first
    return Paging(number, size)


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
    if mode is not None and mode not in CONNECTION_MODES:
        raise ValidationFailed(
            f"filter[vehicle.mode] must be one of {', '.join(CONNECTION_MODES)}.",
            source={"parameter": "filter[vehicle.mode]"},
        )
    return repo.ConnectionFilter(
        application_id=application_id,
        user_id=user_id,
        vehicle_id=vehicle_id,
        mode=mode,
        external_id=query.get("filter[user.externalId]"),
    )


async def list_connections(
    session: AsyncSession, filters: repo.ConnectionFilter, paging: Paging
) -> tuple[Sequence[Connection], int]:
    return await repo.page_connections(session, filters, paging.offset, paging.size)


async def find_connection(
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


async def delete_connections(session: AsyncSession, connections: Sequence[Connection]) -> None:
    for connection in connections:
        await repo.delete_connection(session, connection)


async def delete_user(session: AsyncSession, application_id: str, user_id: str) -> None:
    user_id = parse_uuid(user_id, "userId", parameter="userId")
    user = await repo.get_user(session, application_id, user_id)
    if user is None:
        raise NotFound(f"No user with id '{user_id}'.")
    await repo.delete_user(session, user)
