"""Bulk writes of a large fleet: vehicles and their connections, a chunk at a time.

On PostgreSQL rows go in with ``COPY`` (asyncpg's binary copy, in the session's transaction): a
chunk of thousands of rows is one round trip and no SQL to parse. On SQLite a chunk is one
multi-row ``INSERT`` per few hundred rows (under its limit of bound parameters). The callers keep
one chunk in memory at a time.

Rows can be turned into records (tuples in column order, JSON already text) away from the
database — ``vehicle_records`` and ``connection_records`` are pure functions, so worker processes
can prepare chunks while one process writes them — and written with the ``*_records`` inserts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Connection, Vehicle

_VEHICLES = cast(Table, Vehicle.__table__)
_CONNECTIONS = cast(Table, Connection.__table__)
#: SQLite's default limit of bound parameters in one statement (32,766 since 3.32).
_SQLITE_PARAMETERS = 32_000


class DuplicateRows(Exception):
    """A row's key was taken already; nothing of the chunk was written."""


#: A row as ``COPY`` takes it: every column of the table in order, JSON columns as text.
Record = tuple[Any, ...]


async def insert_vehicles(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert vehicles given as column dictionaries (see ``services.fleet.vehicle_row``)."""
    await insert_vehicle_records(session, vehicle_records(rows))


async def insert_connections(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert connections given as column dictionaries (every column of the table)."""
    await insert_connection_records(session, connection_records(rows))


def vehicle_records(rows: Sequence[Mapping[str, Any]]) -> list[Record]:
    """Vehicles as records, ready for :func:`insert_vehicle_records` (no database needed)."""
    return _records(_VEHICLES, rows)


def connection_records(rows: Sequence[Mapping[str, Any]]) -> list[Record]:
    """Connections as records, ready for :func:`insert_connection_records`."""
    return _records(_CONNECTIONS, rows)


async def insert_vehicle_records(session: AsyncSession, records: Sequence[Record]) -> None:
    """Insert vehicles prepared by :func:`vehicle_records`."""
    await _insert(session, _VEHICLES, records)


async def insert_connection_records(session: AsyncSession, records: Sequence[Record]) -> None:
    """Insert connections prepared by :func:`connection_records`."""
    await _insert(session, _CONNECTIONS, records)


async def relax_commit_durability(session: AsyncSession) -> None:
    """Let this transaction's commit return before its WAL reaches the disk (PostgreSQL's
    ``synchronous_commit = off``, for this transaction only). A crash can then lose the last
    few chunks of a seed, never half of one, and never anything else's writes; in exchange a
    chunk's commit does not wait for a flush. Nothing to do on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL synchronous_commit = off"))


async def refresh_statistics(session: AsyncSession) -> None:
    """Have the planner count the fleet again after a bulk write. Until autovacuum comes by,
    PostgreSQL would plan for the tables as they were (a few hundred rows where a million
    stand) and choose sorts and scans that take seconds."""
    tables = f"{_VEHICLES.name}, {_CONNECTIONS.name}"
    dialect = session.get_bind().dialect.name
    await session.execute(text(f"ANALYZE {tables}" if dialect == "postgresql" else "ANALYZE"))


def _json_columns(table: Table) -> set[str]:
    return {column.name for column in table.columns if column.type.__class__.__name__ == "JSON"}


def _records(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[Record]:
    # JSON columns travel as text in COPY (the json type's wire format).
    json_columns = _json_columns(table)
    columns = [column.name for column in table.columns]
    return [
        tuple(
            json.dumps(row.get(name))
            if name in json_columns and row.get(name) is not None
            else row.get(name)
            for name in columns
        )
        for row in rows
    ]


def _rows(table: Table, records: Sequence[Record]) -> list[dict[str, Any]]:
    """Records back to column dictionaries, for the paths that insert through SQLAlchemy."""
    json_columns = _json_columns(table)
    columns = [column.name for column in table.columns]
    return [
        {
            name: json.loads(value) if name in json_columns and value is not None else value
            for name, value in zip(columns, record, strict=True)
        }
        for record in records
    ]


async def _insert(session: AsyncSession, table: Table, records: Sequence[Record]) -> None:
    if not records:
        return
    columns = [column.name for column in table.columns]
    try:
        if session.get_bind().dialect.name == "postgresql":
            await _copy(session, table, columns, records)
            return
        rows = _rows(table, records)
        per_statement = max(1, _SQLITE_PARAMETERS // len(columns))
        for start in range(0, len(rows), per_statement):
            await session.execute(insert(table).values(rows[start : start + per_statement]))
    except IntegrityError as error:
        raise DuplicateRows(str(error.orig)) from error
    except Exception as error:
        # asyncpg's own error, as COPY runs on the driver's connection.
        if type(error).__name__ == "UniqueViolationError":
            raise DuplicateRows(str(error)) from error
        raise


async def _copy(
    session: AsyncSession, table: Table, columns: list[str], records: Sequence[Record]
) -> None:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is None or not hasattr(driver, "copy_records_to_table"):
        # Another PostgreSQL driver than asyncpg: a multi-row INSERT does the same, slower.
        await session.execute(insert(table), _rows(table, records))
        return
    await driver.copy_records_to_table(table.name, records=records, columns=columns)
