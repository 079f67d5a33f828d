"""Rate limits of the Vehicle API (smartcar-v3.md §11), per application, off unless configured.

Smartcar limits an application with a token bucket (``RATE_LIMIT``/``SMARTCAR_API``) and each
vehicle with a throttle of its own (``RATE_LIMIT``/``VEHICLE``); both answer ``429`` with
``retry-after`` in seconds. A development sandbox would be a pain with them always on, so an
application has none until the admin API sets them — then integrators can test their back-off
against real answers. Buckets live in the process's memory and run on real time (never on the
simulation clock)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import NotFound, RateLimited, ValidationFailed
from ..store import repo

#: Smartcar's documented default for an application: 120 requests, refilling 2 per minute.
SMARTCAR_REQUESTS = 120
SMARTCAR_REFILL_PER_MINUTE = 2.0
_UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class RateLimit:
    #: The application's bucket: how many requests at once, and how fast it refills.
    requests: int | None = None
    refill_per_minute: float | None = None
    #: Each vehicle's throttle: requests per minute (None: no throttle).
    vehicle_per_minute: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RateLimit:
        return cls(data.get("requests"), data.get("refillPerMinute"), data.get("vehicleRequestsPerMinute"))

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "refillPerMinute": self.refill_per_minute,
                "vehicleRequestsPerMinute": self.vehicle_per_minute}

    def validate(self) -> RateLimit:
        if (self.requests is None) != (self.refill_per_minute is None):
            raise ValidationFailed("Give both requests and refillPerMinute, or neither.",
                                   source={"pointer": "/requests"})
        if self.requests is not None and not 1 <= self.requests <= 1_000_000:
            raise ValidationFailed("requests is from 1 to 1,000,000.", source={"pointer": "/requests"})
        if self.refill_per_minute is not None and not 0 < self.refill_per_minute <= 1_000_000:
            raise ValidationFailed("refillPerMinute is above 0, up to 1,000,000.",
                                   source={"pointer": "/refillPerMinute"})
        if self.vehicle_per_minute is not None and not 1 <= self.vehicle_per_minute <= 100_000:
            raise ValidationFailed("vehicleRequestsPerMinute is from 1 to 100,000.",
                                   source={"pointer": "/vehicleRequestsPerMinute"})
        return self


class Bucket:
    """A token bucket: ``capacity`` tokens, refilled at ``rate`` per second."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity, self.rate, self.tokens, self.updated = capacity, rate, capacity, now

    def take(self, now: float) -> float:
        """Take a token: 0 when granted, else the seconds until one is there."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class RateLimiter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], vehicle_buckets: int = 100_000) -> None:
        self.sessions = sessions
        self._limits: dict[str, RateLimit | None] = {}
        self._apps: dict[str, Bucket] = {}
        self._vehicles: OrderedDict[tuple[str, str], Bucket] = OrderedDict()
        self._vehicle_buckets = vehicle_buckets

    def invalidate(self) -> None:
        """Forget the configuration (buckets keep their levels; a changed limit starts afresh)."""
        self._limits.clear()

    async def limit(self, application_id: str) -> RateLimit | None:
        cached = self._limits.get(application_id, _UNKNOWN)
        if cached is not _UNKNOWN:
            return cached  # type: ignore[return-value]
        async with self.sessions() as session:
            exists, stored = await repo.read_rate_limit(session, application_id)
        limit = RateLimit.from_dict(stored) if exists and stored else None
        self._limits[application_id] = limit
        return limit

    async def admit(self, application_id: str, vehicle_id: str | None = None) -> None:
        """Let a request through, or refuse it with 429 and ``retry-after``."""
        cached = self._limits.get(application_id, _UNKNOWN)
        if cached is None:
            return  # the common case: no limits
        limit = await self.limit(application_id) if cached is _UNKNOWN else cached
        if limit is None:
            return
        now = time.monotonic()
        if limit.requests is not None and limit.refill_per_minute is not None:
            bucket = self._apps.get(application_id)
            if bucket is None or bucket.capacity != limit.requests or bucket.rate != limit.refill_per_minute / 60:
                bucket = self._apps[application_id] = Bucket(limit.requests, limit.refill_per_minute / 60, now)
            wait = bucket.take(now)
            if wait:
                raise _refusal("SMARTCAR_API", "The application has used up its requests for now.", wait)
        if vehicle_id is not None and limit.vehicle_per_minute is not None:
            key = (application_id, vehicle_id)
            bucket = self._vehicles.get(key)
            per_minute = limit.vehicle_per_minute
            if bucket is None or bucket.capacity != per_minute:
                bucket = Bucket(per_minute, per_minute / 60, now)
            self._vehicles[key] = bucket
            self._vehicles.move_to_end(key)
            if len(self._vehicles) > self._vehicle_buckets:
                self._vehicles.popitem(last=False)
            wait = bucket.take(now)
            if wait:
                raise _refusal("VEHICLE", "This vehicle has had too many requests for now.", wait)

    async def change(self, application_id: str, limit: RateLimit | None) -> RateLimit | None:
        """Store an application's limits (None: no limits)."""
        if limit is not None:
            limit.validate()
            if limit.requests is None and limit.vehicle_per_minute is None:
                limit = None
        async with self.sessions() as session, session.begin():
            if not await repo.write_rate_limit(session, application_id, limit.to_dict() if limit else None):
                raise NotFound(f"No application with id '{application_id}'.", code="PATH")
        self._limits[application_id] = limit
        self._apps.pop(application_id, None)
        return limit


def _refusal(code: str, detail: str, wait_s: float) -> RateLimited:
    seconds = max(1, math.ceil(wait_s))
    return RateLimited(f"{detail} Retry after {seconds} s.", code=code, headers={"retry-after": str(seconds)})
