"""Engine, sessions and migrations."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from . import notify
from .repo import CHANGED

MIGRATIONS = Path(__file__).parent / "migrations"
#: The newest migration. Start-up compares the database with it and imports Alembic (a
#: quarter of a second) only when there is something to apply; a test keeps it in step.
HEAD_REVISION = "0012"


def private_sqlite_file(url: str) -> None:
    """Create a SQLite database file readable by its owner only (it holds hashed secrets and the
    sealed signing keys); SQLite gives its -wal and -shm files the same mode. A file that exists
    is made owner-only too."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    with contextlib.suppress(OSError):  # a file of another user: leave it as it is
        path.chmod(0o600)


def json_loads(text: str | bytes) -> Any:
    """JSON columns read with orjson (several times faster than the standard library: vehicle
    states and webhook events are read by the thousand); a value orjson refuses — ``NaN``,
    which the standard library writes — falls back to the standard reader."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def json_dumps(value: Any) -> str:
    """JSON columns written with orjson (the outbox writes events by the thousand); what orjson
    refuses — an integer beyond 64 bits, a type of its own — falls back to the standard writer.
    A float that is not a number is written as ``null``."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value)


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if url.startswith("sqlite"):
        private_sqlite_file(url)
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, json_serializer=json_dumps, json_deserializer=json_loads
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True,
        json_serializer=json_dumps, json_deserializer=json_loads,
    )  # fmt: skip


def session_factory(
    engine: AsyncEngine,
    on_change: Callable[[int | None], None] | None = None,
    publish: notify.Publisher | None = None,
) -> async_sessionmaker[AsyncSession]:
    """Sessions for one platform; ``on_change`` runs after a commit that changed connections,
    users or vehicles (see ``repo.mark_changed``), with the change counter's value the commit
    wrote (None when it wrote none). A commit sends the announcements queued on the session
    (``notify.announce``): in the transaction on PostgreSQL, else through ``publish``."""
    session_class = type("PlatformSession", (Session,), {})
    notify.install(session_class, engine.dialect.name, publish)
    if on_change is not None:

        @event.listens_for(session_class, "after_commit")
        def _after_commit(session: Session) -> None:
            changed = session.info.pop(CHANGED, False)
            if changed is not False:
                on_change(changed if type(changed) is int else None)

        @event.listens_for(session_class, "after_rollback")
        def _after_rollback(session: Session) -> None:
            session.info.pop(CHANGED, None)

    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=session_class)


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade(connection: SyncConnection) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        try:
            return (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        except DBAPIError:  # no alembic_version table yet: an empty database
            return None


#: The PostgreSQL advisory lock that processes starting on one database at once take in turn
#: for the first start (migrations, then the development application): an arbitrary constant.
FIRST_START_LOCK = 0x6D6F746F72706F6F  # "motorpoo"


async def take_first_start_lock(connection: AsyncConnection | AsyncSession) -> None:
    """Wait for any other process's first start on this database to end (PostgreSQL; held until
    the caller's transaction ends). SQLite serves one process, which needs no lock."""
    bind = connection.get_bind() if isinstance(connection, AsyncSession) else connection
    if bind.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FIRST_START_LOCK})


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every pending migration (start-up does this itself). Two processes starting at once
    take turns: the second finds the migrations done (PostgreSQL's DDL is transactional)."""
    if await current_revision(engine) == HEAD_REVISION:
        return
    async with engine.begin() as connection:
        await take_first_start_lock(connection)
        await connection.run_sync(_upgrade)
