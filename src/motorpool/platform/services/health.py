"""Liveness and readiness, for load balancers and orchestrators, and what an unreachable
database means to a client: 503, try again shortly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import ServerError
from ..store import repo
from .invalidation import Invalidation
from .limits import RateLimiter, RedisBuckets

#: How long a readiness check waits for each dependency.
CHECK_TIMEOUT = 2.0
#: Seconds a client is told to wait when the database cannot be reached.
RETRY_AFTER = 1


#: The exceptions an unreachable database raises (each still checked by ``database_unavailable``).
DATABASE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, PoolTimeout, OSError)


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be reached right now (restarting, network
    cut, pool exhausted) rather than a fault in a request."""
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig if error.orig is not None else error
    with contextlib.suppress(ImportError):
        import asyncpg  # type: ignore[import-untyped]

        if isinstance(error, (asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError)):
            return True
        if isinstance(error, asyncpg.InterfaceError) and "connection" in str(error).lower():
            return True
    cause = error.__cause__ or error.__context__
    if isinstance(error, (ConnectionError, TimeoutError, OSError)):
        return True
    return (
        cause is not None and cause is not error and isinstance(cause, (ConnectionError, OSError))
    )


def unavailable_error() -> ServerError:
    """The answer while the database is unreachable: SERVER, 503, with Retry-After."""
    return ServerError(
        "The platform cannot reach its database at the moment; try again shortly.",
        status=503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


@dataclass
class Health:
    sessions: async_sessionmaker[AsyncSession]
    limits: RateLimiter
    invalidation: Invalidation

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, the state of each dependency): the database must answer; Redis, when
        configured, too (limits fail open without it, but a balancer should prefer a process
        that has it)."""
        checks: dict[str, Any] = {"database": await self._check(self._database())}
        if isinstance(self.limits.buckets, RedisBuckets):
            checks["redis"] = await self._check(self.limits.buckets.ping())
        checks["invalidation"] = (
            self.invalidation.mode
            if self.invalidation.listening or (self.invalidation.mode == "polling")
            else "polling (listener reconnecting)"
        )
        ready = all(value == "ok" for key, value in checks.items() if key != "invalidation")
        return ready, checks

    async def _database(self) -> None:
        async with self.sessions() as session:
            await repo.ping(session)

    @staticmethod
    async def _check(check: Any) -> str:
        try:
            await asyncio.wait_for(check, CHECK_TIMEOUT)
        except TimeoutError:
            return "timeout"
        except Exception as error:  # noqa: BLE001 -- any failure means "not ready"
            return f"unavailable: {type(error).__name__}"
        return "ok"


def log_background_failure(log: logging.Logger, what: str, error: BaseException) -> None:
    """Log a failed pass of a background loop: one line while the database cannot be reached
    (an outage is expected and the loop retries), the traceback for anything else."""
    if database_unavailable(error):
        log.warning("%s: the database cannot be reached (%s); retrying", what, type(error).__name__)
    else:
        log.error("%s", what, exc_info=error)
