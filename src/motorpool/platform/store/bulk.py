"""Bulk writes of a large fleet: vehicles and their connections, a chunk at a time.

On PostgreSQL rows go in with ``COPY`` (asyncpg's binary copy, in the session's transaction): a
chunk of thousands of rows is one round trip and no SQL to parse. On SQLite a chunk is one
``INSERT`` run for each of its rows (executemany), compiled once. The callers keep one chunk in
memory at a time.

Rows can be turned into records (tuples in column order, JSON already text) away from the
database — ``vehicle_records`` and ``connection_records`` are pure functions, so worker processes
can prepare chunks while one process writes them — and written with the ``*_records`` inserts.
For PostgreSQL a worker can go one step further and write a chunk as ``COPY``'s text format
(``copy_text``): the writing process then only streams those bytes (``insert_copy_text``),
with nothing to encode per row or per field, and what crosses between processes is one
``bytes`` object rather than thousands of tuples to pickle.

A seed into (nearly) empty tables may run in one transaction with the tables' secondary
indexes and foreign keys set aside (``indexes_deferred``): PostgreSQL builds each index once
from sorted rows and checks each foreign key with one join, where a row at a time it would
update eleven indexes at random places and run three look-ups per connection."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Connection, Vehicle

_VEHICLES = cast(Table, Vehicle.__table__)
_CONNECTIONS = cast(Table, Connection.__table__)
#: The tables a seed writes in bulk, by name.
_BULK_TABLES = {_VEHICLES.name: _VEHICLES, _CONNECTIONS.name: _CONNECTIONS}


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


@dataclass(frozen=True, slots=True)
class CopyText:
    """Rows of one table in ``COPY … FROM STDIN`` text format (tab-separated, ``\\N`` for
    null, backslash escapes), ready to stream."""

    payload: bytes
    rows: int


#: The characters COPY's text format escapes inside a field.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: Any, is_json: bool) -> str:
    if value is None:
        return "\\N"
    if is_json:
        # orjson escapes control characters inside strings, so only backslashes need doubling.
        return orjson.dumps(value).decode().replace("\\", "\\\\")
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def vehicle_copy_text(rows: Sequence[Mapping[str, Any]]) -> CopyText:
    """Vehicles in COPY's text format, for :func:`insert_copy_text` (no database needed)."""
    return _copy_text(_VEHICLES, rows)


def connection_copy_text(rows: Sequence[Mapping[str, Any]]) -> CopyText:
    """Connections in COPY's text format, for :func:`insert_copy_text`."""
    return _copy_text(_CONNECTIONS, rows)


def _copy_text(table: Table, rows: Sequence[Mapping[str, Any]]) -> CopyText:
    json_columns = _json_columns(table)
    columns = [(column.name, column.name in json_columns) for column in table.columns]
    lines = [
        "\t".join([_copy_field(row.get(name), is_json) for name, is_json in columns])
        for row in rows
    ]
    lines.append("")
    return CopyText("\n".join(lines).encode(), len(rows))


async def insert_copy_text(session: AsyncSession, table_name: str, chunk: CopyText) -> None:
    """Stream a chunk made by :func:`vehicle_copy_text` or :func:`connection_copy_text` into
    ``table_name`` (``vehicles`` or ``connections``) with ``COPY``, in the session's
    transaction. PostgreSQL with asyncpg only."""
    if not chunk.rows:
        return
    table = _BULK_TABLES[table_name]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is None or not hasattr(driver, "copy_to_table"):
        raise TypeError("COPY text needs PostgreSQL through asyncpg.")
    columns = [column.name for column in table.columns]
    try:
        # A memoryview, not the bytes: asyncpg would take bytes for a file's path.
        source = memoryview(chunk.payload)
        await driver.copy_to_table(table.name, source=source, columns=columns, format="text")
    except Exception as error:
        if type(error).__name__ == "UniqueViolationError":
            raise DuplicateRows(str(error)) from error
        raise


def supports_copy_text(session: AsyncSession) -> bool:
    """Whether :func:`insert_copy_text` can write through this session (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


async def row_count_at_most(session: AsyncSession, table_name: str, limit: int) -> int:
    """How many rows ``table_name`` holds, counted no further than ``limit`` (cheap on a big
    table)."""
    table = _BULK_TABLES[table_name]
    counted = await session.execute(
        text(f"SELECT count(*) FROM (SELECT 1 FROM {table.name} LIMIT :limit) AS few"),
        {"limit": limit},
    )
    return int(counted.scalar_one())


@asynccontextmanager
async def indexes_deferred(
    session: AsyncSession, on_rebuilt: Callable[[str, float], None] | None = None
) -> AsyncIterator[None]:
    """Within the session's transaction, set the vehicles' and connections' secondary indexes
    and foreign keys aside for the body, then build them again (PostgreSQL; nothing on SQLite).

    Primary keys and unique constraints stay, so a duplicate is still refused row by row. The
    tables are locked for the rest of the transaction (other sessions wait for them), and the
    definitions are read from the catalogue, so an index a migration adds is kept too.
    ``on_rebuilt`` hears each index's or constraint's name and the seconds it took."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    tables = [_VEHICLES.name, _CONNECTIONS.name]
    indexes = (
        await session.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes AS i "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c "
                "WHERE c.conname = i.indexname AND c.connamespace = "
                "(SELECT oid FROM pg_namespace WHERE nspname = current_schema()))"
            ),
            {"tables": tables},
        )
    ).all()
    foreign_keys = (
        await session.execute(
            text(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint AS c WHERE c.contype = 'f' "
                "AND c.conrelid = ANY(ARRAY[CAST(:vehicles AS regclass), CAST(:connections AS regclass)])"
            ),
            {"vehicles": _VEHICLES.name, "connections": _CONNECTIONS.name},
        )
    ).all()
    for table, name, _definition in foreign_keys:
        await session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _definition in indexes:
        await session.execute(text(f'DROP INDEX "{name}"'))
    yield
    # Each index is built from one sort of the table; more memory for the sort, fewer passes.
    await session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for name, definition in indexes:
        started = time.perf_counter()
        await session.execute(text(definition))
        if on_rebuilt is not None:
            on_rebuilt(name, time.perf_counter() - started)
    for table, name, definition in foreign_keys:
        started = time.perf_counter()
        await session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
        if on_rebuilt is not None:
            on_rebuilt(name, time.perf_counter() - started)


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
        # One statement run for every row (executemany): compiled once, where a multi-row
        # VALUES of hundreds of rows was compiled afresh for each few hundred.
        await session.execute(insert(table), _rows(table, records))
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
