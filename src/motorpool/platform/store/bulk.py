"""Bulk writes of a large fleet: vehicles and their connections, a chunk at a time.

On PostgreSQL rows go in with ``COPY`` (asyncpg's binary copy, in the session's transaction): a
chunk of thousands of rows is one round trip and no SQL to parse. On SQLite a chunk is one
multi-row ``INSERT`` per few hundred rows (under its limit of bound parameters). The callers keep
one chunk in memory at a time."""

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


async def insert_vehicles(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert vehicles given as column dictionaries (see ``services.fleet.vehicle_row``)."""
    await _insert(session, _VEHICLES, rows)


async def insert_connections(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert connections given as column dictionaries (every column of the table)."""
    await _insert(session, _CONNECTIONS, rows)


async def refresh_statistics(session: AsyncSession) -> None:
    """Have the planner count the fleet again after a bulk write. Until autovacuum comes by,
    PostgreSQL would plan for the tables as they were (a few hundred rows where a million
    stand) and choose sorts and scans that take seconds."""
    tables = f"{_VEHICLES.name}, {_CONNECTIONS.name}"
    dialect = session.get_bind().dialect.name
    await session.execute(text(f"ANALYZE {tables}" if dialect == "postgresql" else "ANALYZE"))


async def _insert(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    columns = [column.name for column in table.columns]
    try:
        if session.get_bind().dialect.name == "postgresql":
            await _copy(session, table, columns, rows)
            return
        per_statement = max(1, _SQLITE_PARAMETERS // len(columns))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            await session.execute(
                insert(table).values([{c: row.get(c) for c in columns} for row in chunk])
            )
    except IntegrityError as error:
        raise DuplicateRows(str(error.orig)) from error
    except Exception as error:
        # asyncpg's own error, as COPY runs on the driver's connection.
        if type(error).__name__ == "UniqueViolationError":
            raise DuplicateRows(str(error)) from error
        raise


async def _copy(
    session: AsyncSession, table: Table, columns: list[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is None or not hasattr(driver, "copy_records_to_table"):
        # Another PostgreSQL driver than asyncpg: a multi-row INSERT does the same, slower.
        await session.execute(insert(table), [dict(row) for row in rows])
        return
    # JSON columns travel as text in COPY (the json type's wire format).
    json_columns = {
        column.name for column in table.columns if column.type.__class__.__name__ == "JSON"
    }
    records = [
        tuple(
            json.dumps(row.get(name))
            if name in json_columns and row.get(name) is not None
            else row.get(name)
            for name in columns
        )
        for row in rows
    ]
    await driver.copy_records_to_table(table.name, records=records, columns=columns)
