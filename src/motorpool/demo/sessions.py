"""Browser sessions, kept server-side in the demo's own database.

The browser holds only a random session id in an HttpOnly cookie. The row behind it holds the
``state`` of a Connect round trip in progress and, once Connect has answered, the ``user_id``.
Only a SHA-256 of the session id is stored, so reading the database does not let anyone take
over a browser's session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, String, delete, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class BrowserSessionRow(Base):
    __tablename__ = "demo_browser_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The ``state`` sent to Connect by the last ``/login``; cleared once Connect answers.
    state: Mapped[str | None] = mapped_column(String(128))
    #: The PKCE verifier of that round trip, kept to redeem Connect's code.
    code_verifier: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True, slots=True)
class BrowserSession:
    """A browser's session as the routes see it: the cookie value and who is signed in."""

    id: str
    user_id: str | None


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """A Connect round trip started by ``/login`` whose answer has just arrived."""

    code_verifier: str | None


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without a zone; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def new_state() -> str:
    return secrets.token_urlsafe(24)


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite waits for a busy database instead of failing at once."""
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class SessionStore:
    """Create, read and update browser sessions. ``open()`` before use, ``close()`` after."""

    def __init__(self, database_url: str, ttl: timedelta) -> None:
        self.engine = create_engine(database_url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.ttl = ttl

    async def open(self) -> None:
        """Create the table if needed and forget expired sessions."""
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with self._sessions.begin() as db:
            await db.execute(delete(BrowserSessionRow).where(BrowserSessionRow.expires_at < _now()))

    async def close(self) -> None:
        await self.engine.dispose()

    async def _live_row(self, db: AsyncSession, session_id: str | None) -> BrowserSessionRow | None:
        if not session_id:
            return None
        row = await db.get(BrowserSessionRow, _hash(session_id))
        if row is None or _aware(row.expires_at) <= _now():
            return None
        return row

    async def get(self, session_id: str | None) -> BrowserSession | None:
        """The live session with this id, or None."""
        async with self._sessions() as db:
            row = await self._live_row(db, session_id)
            return BrowserSession(session_id, row.user_id) if row and session_id else None

    async def begin_login(
        self, session_id: str | None, code_verifier: str | None = None
    ) -> tuple[BrowserSession, str]:
        """Bind a fresh Connect ``state`` (and PKCE verifier) to this browser; a browser without
        a live session gets a new one. A later ``/login`` replaces an unfinished one's state."""
        state = new_state()
        now = _now()
        async with self._sessions.begin() as db:
            row = await self._live_row(db, session_id)
            if row is None or session_id is None:
                # New sessions are rare next to page loads: a good moment to sweep old ones.
                await db.execute(delete(BrowserSessionRow).where(BrowserSessionRow.expires_at < now))
                session_id = new_session_id()
                row = BrowserSessionRow(id_hash=_hash(session_id), created_at=now)
                db.add(row)
            row.state = state
            row.code_verifier = code_verifier
            row.expires_at = now + self.ttl
            return BrowserSession(session_id, row.user_id), state

    async def take_state(self, session_id: str | None, state: str | None) -> PendingLogin | None:
        """The pending login when ``state`` is the one this browser's ``/login`` sent (it is
        then used up), else None.

        A wrong state leaves the pending one in place, so a forged link cannot cancel a
        sign-in the owner is in the middle of."""
        if not state:
            return None
        async with self._sessions.begin() as db:
            row = await self._live_row(db, session_id)
            if row is None or row.state is None:
                return None
            if not hmac.compare_digest(row.state.encode(), state.encode()):
                return None
            pending = PendingLogin(code_verifier=row.code_verifier)
            row.state = None
            row.code_verifier = None
            return pending

    async def sign_in(self, session_id: str, user_id: str) -> BrowserSession:
        """Record ``user_id`` for this browser under a new session id.

        The id changes at sign-in so that an id planted in a browser before it signed in
        (session fixation) never becomes a signed-in session."""
        fresh_id = new_session_id()
        async with self._sessions.begin() as db:
            await db.execute(delete(BrowserSessionRow).where(BrowserSessionRow.id_hash == _hash(session_id)))
            db.add(
                BrowserSessionRow(
                    id_hash=_hash(fresh_id),
                    user_id=user_id,
                    created_at=_now(),
                    expires_at=_now() + self.ttl,
                )
            )
        return BrowserSession(fresh_id, user_id)

    async def sign_out(self, session_id: str | None) -> None:
        """Forget this browser's session."""
        if not session_id:
            return
        async with self._sessions.begin() as db:
            await db.execute(delete(BrowserSessionRow).where(BrowserSessionRow.id_hash == _hash(session_id)))
