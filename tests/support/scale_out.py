"""Two ``motorpool serve`` processes on different ports over one PostgreSQL database (a fresh
one of their own) and one Redis, as two machines behind a load balancer would run them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from .harness import KEY_ENCRYPTION_KEY
from .processes import Served, serve


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def fresh_database(url: str, suffix: str) -> Iterator[str]:
    """An empty PostgreSQL database named after the one of ``url`` plus ``suffix``, dropped
    afterwards; its URL."""
    base = make_url(url)
    name = f"{base.database}_{suffix}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(*statements: str) -> None:
        connection = await asyncpg.connect(admin_dsn)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    drop = f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)"
    asyncio.run(run(drop, f"CREATE DATABASE {_quoted(name)}"))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(drop))


@dataclass
class Pair:
    """The first process (which made the first start and wrote ``.env``) and the second."""

    first: Served
    second: Served

    def env(self) -> dict[str, str]:
        return self.first.env()


@contextmanager
def two_processes(
    tmp: Path, database_url: str, redis_url: str, environment: Mapping[str, str] | None = None
) -> Iterator[Pair]:
    """Start the first process (first start), then the second, on one database and Redis. Polling
    is set to a minute and the client cache to an hour, so that only an announcement can carry a
    change from one to the other in the time the tests allow. Both have the public URL of the
    load balancer in front of them, the tokens' issuer, and one key-encryption key."""
    env = {
        "MOTORPOOL_DATABASE_URL": database_url,
        "MOTORPOOL_REDIS_URL": redis_url,
        "MOTORPOOL_POLL_INTERVAL": "60",
        "MOTORPOOL_CLIENT_CACHE_TTL": "3600",
        # One issuer for both, as behind a load balancer: a token of one is valid on the other.
        "MOTORPOOL_PUBLIC_URL": "http://platform.motorpool.test",
        # One key-encryption key for both, as every process of a deployment needs: each has a
        # data folder of its own here, which would otherwise give each a key of its own.
        "MOTORPOOL_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY,
        **(environment or {}),
    }
    (tmp / "a").mkdir()
    (tmp / "b").mkdir()
    first = serve(tmp / "a", from_environment=True, environment=env)
    try:
        second = serve(tmp / "b", from_environment=True, environment=env)
        try:
            yield Pair(first, second)
        finally:
            second.stop()
    finally:
        first.stop()


def time_until(condition: Callable[[], bool], timeout: float = 5.0) -> float:
    """Seconds until ``condition`` holds (checked back to back), or ``timeout`` if it never does."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            return timeout
    return time.perf_counter() - started


def p99(samples: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[max(0, -(-99 * len(ordered) // 100) - 1)]
