"""Announcements of changes to other processes: PostgreSQL ``NOTIFY`` sent inside the writing
transaction (so it is delivered exactly when, and only if, the change commits), or Redis
pub/sub after the commit when the database is SQLite and Redis is configured.

A writer queues an announcement on its session (:func:`announce`); the session's commit sends
it (:func:`install`). A process listens with :class:`PostgresListener` or :class:`RedisListener`
and hands each announcement, as ``(topic, payload)``, to a callback."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

log = logging.getLogger("motorpool")

#: The PostgreSQL channel and the Redis channel announcements travel on.
CHANNEL = "motorpool_invalidate"
_QUEUED = "motorpool.announcements"

Handler = Callable[[str, str], None]
Publisher = Callable[[list[tuple[str, str]]], None]


def announce(session: AsyncSession | Session, topic: str, payload: str) -> None:
    """Queue an announcement that is sent when ``session`` commits (dropped on rollback)."""
    queued: list[tuple[str, str]] = session.info.setdefault(_QUEUED, [])
    if (topic, payload) not in queued:
        queued.append((topic, payload))


def _encode(topic: str, payload: str) -> str:
    return json.dumps([topic, payload], separators=(",", ":"))


def decode(message: str | bytes) -> tuple[str, str] | None:
    """``(topic, payload)`` of a message, or None for one that is not ours."""
    try:
        topic, payload = json.loads(message)
    except (ValueError, TypeError):
        return None
    return (topic, payload) if isinstance(topic, str) and isinstance(payload, str) else None


def install(session_class: type[Session], dialect: str, publish: Publisher | None) -> None:
    """Send the announcements queued on a session of ``session_class``: with ``pg_notify`` in
    the transaction on PostgreSQL, else through ``publish`` (Redis) once it committed."""
    if dialect == "postgresql":

        @event.listens_for(session_class, "before_commit")
        def _notify(session: Session) -> None:
            # Runs inside the transaction: NOTIFY is delivered at commit, never for a rollback.
            for topic, payload in session.info.pop(_QUEUED, ()):
                session.execute(
                    text("SELECT pg_notify(:channel, :message)"),
                    {"channel": CHANNEL, "message": _encode(topic, payload)},
                )

    elif publish is not None:

        @event.listens_for(session_class, "after_commit")
        def _publish(session: Session) -> None:
            queued = session.info.pop(_QUEUED, None)
            if queued:
                publish(queued)

    @event.listens_for(session_class, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(_QUEUED, None)


def asyncpg_dsn(engine: AsyncEngine) -> str:
    """The engine's URL as asyncpg's own connect() takes it."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class _Warnings:
    """At most one warning line a minute for the same trouble."""

    def __init__(self) -> None:
        self._last = -float("inf")

    def warn(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last >= 60:
            self._last = now
            log.warning(message, *args)


class PostgresListener:
    """``LISTEN`` on a connection of its own, reconnecting when it is lost. ``on_reconnect``
    runs after a reconnection, since announcements sent meanwhile were missed."""

    def __init__(
        self, dsn: str, handler: Handler, on_reconnect: Callable[[], Awaitable[None]]
    ) -> None:
        self._dsn = dsn
        self._handler = handler
        self._on_reconnect = on_reconnect
        self._lost = asyncio.Event()
        self._warnings = _Warnings()
        self.connected = asyncio.Event()

    def _received(self, _connection: Any, _pid: int, _channel: str, message: str) -> None:
        decoded = decode(message)
        if decoded is not None:
            self._handler(*decoded)

    async def run(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        first = True
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=5)
                self._lost.clear()
                connection.add_termination_listener(lambda _c: self._lost.set())
                await connection.add_listener(CHANNEL, self._received)
                self.connected.set()
                if not first:
                    await self._on_reconnect()
                first = False
                await self._lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 -- keep listening through a database restart
                self._warnings.warn(
                    "invalidation: PostgreSQL listener lost (%s); polling until it is back", error
                )
            finally:
                self.connected.clear()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 1)
            first = False
            await asyncio.sleep(0.5)


class RedisListener:
    """Redis pub/sub, for SQLite with Redis: publishes this process's announcements and hands
    everyone's to ``handler``."""

    def __init__(
        self, url: str, handler: Handler, on_reconnect: Callable[[], Awaitable[None]], scope: str
    ) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        # Pub/sub channels span every database of a Redis server: one channel per platform
        # database, so that platforms sharing a Redis do not hear each other.
        self.channel = f"{CHANNEL}:{hashlib.sha256(scope.encode()).hexdigest()[:16]}"
        self._handler = handler
        self._on_reconnect = on_reconnect
        self._warnings = _Warnings()
        self._sending: set[asyncio.Task[Any]] = set()
        self.connected = asyncio.Event()

    def publish(self, announcements: list[tuple[str, str]]) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(announcements))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _publish(self, announcements: list[tuple[str, str]]) -> None:
        from redis.exceptions import RedisError

        try:
            for topic, payload in announcements:
                await self._redis.publish(self.channel, _encode(topic, payload))
        except RedisError as error:
            self._warnings.warn("invalidation: Redis publish failed (%s); others poll", error)

    async def run(self) -> None:
        first = True
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.connected.set()
                if not first:
                    await self._on_reconnect()
                first = False
                async for message in pubsub.listen():
                    decoded = decode(message["data"])
                    if decoded is not None:
                        self._handler(*decoded)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 -- keep listening through a Redis restart
                self._warnings.warn(
                    "invalidation: Redis listener lost (%s); polling until it is back", error
                )
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            first = False
            await asyncio.sleep(0.5)

    async def close(self) -> None:
        if self._sending:
            await asyncio.wait(list(self._sending), timeout=1)
        await self._redis.aclose()
