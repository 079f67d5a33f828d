"""Engine, sessions and migrations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
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
HEAD_REVISION = "0006"


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


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


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every pending migration (start-up does this itself)."""
    if await current_revision(engine) == HEAD_REVISION:
        return
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
