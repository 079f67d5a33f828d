"""Instant cross-process invalidation: every process listens for the announcements other
processes' commits send (PostgreSQL ``LISTEN/NOTIFY``, or Redis pub/sub on SQLite with Redis)
and drops what they name — the read caches of a changed counter, a client whose secrets
changed, a revoked token. Polling the database (``MOTORPOOL_POLL_INTERVAL``) stays as the
fallback: it is all a process has while its listener is reconnecting, or with neither."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..store import notify, repo
from .access import AccessCache
from .keys import SigningKeys
from .oauth import ClientRegistry, TokenService

log = logging.getLogger("motorpool")


class Invalidation:
    """Applies announcements to this process's caches, and runs the listener."""

    def __init__(self, engine: AsyncEngine, redis_url: str | None) -> None:
        self._engine = engine
        self._redis_url = redis_url
        self.access: AccessCache | None = None
        self.clients: ClientRegistry | None = None
        self.tokens: TokenService | None = None
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        self.keys: SigningKeys | None = None
        self._key_refresh: asyncio.Task[None] | None = None
        self.listener: notify.PostgresListener | notify.RedisListener | None = None
        if engine.dialect.name == "postgresql":
            self.listener = notify.PostgresListener(
                notify.asyncpg_dsn(engine), self.apply, self.resync
            )
        elif redis_url:
            self.listener = notify.RedisListener(
                redis_url, self.apply, self.resync, engine.url.render_as_string(hide_password=True)
            )
        self._task: asyncio.Task[None] | None = None

    @property
    def publish(self) -> notify.Publisher | None:
        """What sends this process's announcements after a commit (Redis on SQLite), if anything
        must; PostgreSQL sends them in the transaction itself."""
        return self.listener.publish if isinstance(self.listener, notify.RedisListener) else None

    @property
    def mode(self) -> str:
        """How changes reach this process: ``postgresql``, ``redis`` or ``polling``."""
        if isinstance(self.listener, notify.PostgresListener):
            return "postgresql"
        return "redis" if self.listener is not None else "polling"

    def attach(
        self,
        access: AccessCache,
        clients: ClientRegistry,
        tokens: TokenService,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        self.access, self.clients, self.tokens, self.sessions = access, clients, tokens, sessions

    def apply(self, topic: str, payload: str) -> None:
        """Drop what an announcement names. This process's own announcements arrive too; they
        find the change already applied (the counter seen, the client already forgotten)."""
        if topic == "access" and self.access is not None:
            with contextlib.suppress(ValueError):
                generation = int(payload)
                if generation > self.access.generation:
                    self.access.generation = generation
                    self.access.invalidate()
        elif topic == "client" and self.clients is not None:
            self.clients.forget(None if payload == "*" else payload)
        elif topic == "revoked" and self.tokens is not None:
            self.tokens.revoked.add(payload)
        elif topic == "keys" and self.tokens is not None and payload not in self.tokens.kids:
            self._refresh_keys()

    def _refresh_keys(self) -> None:
        """Load the signing keys again (a rotation elsewhere), one reload at a time."""
        if self.keys is None or (self._key_refresh is not None and not self._key_refresh.done()):
            return
        self._key_refresh = asyncio.get_running_loop().create_task(self._reload_keys(self.keys))

    @staticmethod
    async def _reload_keys(keys: SigningKeys) -> None:
        try:
            await keys.refresh()
        except Exception:  # the poll picks the rotation up later
            log.exception("reloading the signing keys failed")

    async def resync(self) -> None:
        """After the listener was away: announcements may have been missed, so poll once and
        forget every client."""
        if self.clients is not None:
            self.clients.forget(None)
        await self.poll()
        if self.keys is not None:
            await self.keys.refresh()

    async def poll(self) -> None:
        """The fallback: read the change counter and the live revocations."""
        if self.access is None or self.sessions is None or self.tokens is None:
            return
        await self.access.poll()
        async with self.sessions() as session:
            self.tokens.revoked.update(await repo.live_revocations(session, datetime.now(UTC)))

    @property
    def listening(self) -> bool:
        return self.listener is not None and self.listener.connected.is_set()

    def start(self) -> None:
        if self.listener is not None and self._task is None:
            self._task = asyncio.create_task(self.listener.run())

    async def started(self, timeout: float = 5.0) -> bool:
        """Wait until the listener listens (so no announcement after start-up is missed)."""
        if self.listener is None:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listener.connected.wait(), timeout)
        return self.listening

    async def close(self) -> None:
        if self._key_refresh is not None:
            self._key_refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._key_refresh
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if isinstance(self.listener, notify.RedisListener):
            with contextlib.suppress(Exception):
                await self.listener.close()
