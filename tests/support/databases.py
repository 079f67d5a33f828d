"""Databases that already had their first start, made once and copied for each test.

Migrating with Alembic and the first start's bootstrap (an argon2 hash among it) were most of a
platform test's setup. A template goes through both once per test session (per xdist worker);
each test gets a copy of it: a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL.
A copy holds the template's signing key, pepper, application, fleet and owners, and the
template's :class:`FirstStart` (the client secret and owner password in clear) answers for it.

A template is made again once it is older than :data:`MAX_AGE`: the first start's simulated
cars live on the wall clock, and a test meets them about as young as after a start of its own.
Tests that need an empty database or a first start of their own use ``running_platform`` on a
URL of their own instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from motorpool.platform.services.bootstrap import FirstStart
from motorpool.platform.services.runtime import start_platform

from .harness import platform_settings

#: Seconds a template serves before it is made again.
MAX_AGE = 60.0


@dataclass(frozen=True)
class PreparedDatabase:
    """A database of a test's own, and what its (template's) first start returned."""

    url: str
    first: FirstStart


@dataclass
class _Made:
    first: FirstStart
    at: float = field(default_factory=time.monotonic)

    @property
    def stale(self) -> bool:
        return time.monotonic() - self.at > MAX_AGE


async def _first_start(url: str) -> FirstStart:
    """Migrate and bootstrap the empty database at ``url`` with the tests' settings."""
    platform = await start_platform(platform_settings(url))
    try:
        assert isinstance(platform.first_start, FirstStart), f"{url} was not empty"
        return platform.first_start
    finally:
        await platform.close()


def _own(first: FirstStart) -> FirstStart:
    """A copy a test may change without touching the template's."""
    return replace(first, owners=list(first.owners))


class SqliteTemplate:
    """A SQLite file that had its first start; copies of it are whole databases."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"
        self._made: _Made | None = None

    async def copy(self, path: Path) -> PreparedDatabase:
        if self._made is None or self._made.stale:
            self._made = _Made(await self._make())
        shutil.copyfile(self.path, path)
        return PreparedDatabase(f"sqlite+aiosqlite:///{path}", _own(self._made.first))

    async def _make(self) -> FirstStart:
        for stale in self.path.parent.glob(self.path.name + "*"):
            stale.unlink()
        first = await _first_start(f"sqlite+aiosqlite:///{self.path}")
        # Everything into the main file, so that copying that one file copies the database.
        with sqlite3.connect(self.path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        wal = self.path.with_name(self.path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0, (
            "the template's WAL was not checkpointed"
        )
        return first


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresTemplate:
    """A PostgreSQL database that had its first start, and the database each test gets as a
    copy of it; both are named after the database of ``url`` (which is only connected to), with
    the xdist worker's id when there is one, and dropped by :meth:`drop`."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        base = f"{self.url.database}_{worker}" if worker else str(self.url.database)
        self.template_name = f"{base}_template"
        self.copy_name = f"{base}_test"
        self._made: _Made | None = None

    def _dsn(self) -> str:
        """The configured database, for asyncpg: where the copies are created and dropped."""
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def url_of(self, database: str) -> str:
        return self.url.set(database=database).render_as_string(hide_password=False)

    async def copy(self) -> PreparedDatabase:
        if self._made is None or self._made.stale:
            self._made = _Made(await self._make())
        connection = await asyncpg.connect(self._dsn())
        try:
            await connection.execute(
                f"DROP DATABASE IF EXISTS {_quoted(self.copy_name)} WITH (FORCE)"
            )
            try:
                await self._create_copy(connection)
            except asyncpg.ObjectInUseError:
                # A connection to the template outlived the platform that opened it.
                await connection.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    self.template_name,
                )
                await self._create_copy(connection)
        finally:
            await connection.close()
        return PreparedDatabase(self.url_of(self.copy_name), _own(self._made.first))

    async def _create_copy(self, connection: asyncpg.Connection) -> None:
        await connection.execute(
            f"CREATE DATABASE {_quoted(self.copy_name)} TEMPLATE {_quoted(self.template_name)}"
        )

    async def _make(self) -> FirstStart:
        connection = await asyncpg.connect(self._dsn())
        try:
            await connection.execute(
                f"DROP DATABASE IF EXISTS {_quoted(self.template_name)} WITH (FORCE)"
            )
            await connection.execute(
                f"CREATE DATABASE {_quoted(self.template_name)} TEMPLATE template0"
            )
        finally:
            await connection.close()
        return await _first_start(self.url_of(self.template_name))

    def drop(self) -> None:
        """Drop the template and the last copy (at the end of the session)."""
        if self._made is None:
            return

        async def drop_both() -> None:
            connection = await asyncpg.connect(self._dsn())
            try:
                for name in (self.copy_name, self.template_name):
                    await connection.execute(
                        f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)"
                    )
            finally:
                await connection.close()

        asyncio.run(drop_both())
