"""Rate limits of the Vehicle API (smartcar-v3.md §11), per application, off unless configured.

Smartcar limits an application with a token bucket (``RATE_LIMIT``/``SMARTCAR_API``) and each
vehicle with a throttle of its own (``RATE_LIMIT``/``VEHICLE``); both answer ``429`` with
``retry-after`` in seconds. A development sandbox would be a pain with them always on, so an
application has none until the admin API sets them — then integrators can test their back-off
against real answers. Buckets run on real time (never on the simulation clock). They live in the
process's memory, or in Redis when ``MOTORPOOL_REDIS_URL`` is set, so that every process serving
one database shares them."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from cachetools import LRUCache
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import NotFound, RateLimited, ValidationFailed
from ..store import repo

#: Smartcar's documented default for an application: 120 requests, refilling 2 per minute.
SMARTCAR_REQUESTS = 120
SMARTCAR_REFILL_PER_MINUTE = 2.0
log = logging.getLogger("motorpool.platform.limits")


@dataclass(frozen=True, slots=True)
class RateLimit:
    #: The application's bucket: how many requests at once, and how fast it refills.
    requests: int | None = None
    refill_per_minute: float | None = None
    #: Each vehicle's throttle: requests per minute (None: no throttle).
    vehicle_per_minute: int | None = None

    @classmethod
    def smartcar(cls, vehicle_per_minute: int | None = None) -> RateLimit:
        """Smartcar's documented default: 120 requests, refilling 2 per minute."""
        return cls(SMARTCAR_REQUESTS, SMARTCAR_REFILL_PER_MINUTE, vehicle_per_minute)

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


class BucketStore(Protocol):
    async def take(self, key: str, capacity: float, rate: float) -> float:
        """Take a token from the bucket ``key`` (created full, or refilled afresh when its
        capacity or rate changed): 0 when granted, else the seconds until one is there."""
        ...

    async def forget(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryBuckets:
    """Buckets in this process's memory (the least recently used dropped beyond ``size``)."""

    def __init__(self, size: int = 100_000) -> None:
        self._buckets: LRUCache[str, Bucket] = LRUCache(maxsize=size)

    async def take(self, key: str, capacity: float, rate: float) -> float:
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None or bucket.capacity != capacity or bucket.rate != rate:
            bucket = self._buckets[key] = Bucket(capacity, rate, now)
        return bucket.take(now)

    async def forget(self, key: str) -> None:
        self._buckets.pop(key, None)

    async def close(self) -> None:
        self._buckets.clear()


#: One token-bucket step, atomic in Redis, on Redis's clock (processes' clocks may differ). A
#: bucket whose capacity or rate changed starts full; an idle one expires once it would be full.
_TAKE = """
local capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local held = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'capacity', 'rate')
local tokens, updated = tonumber(held[1]), tonumber(held[2])
if tokens == nil or tonumber(held[3]) ~= capacity or tonumber(held[4]) ~= rate then
  tokens, updated = capacity, now
end
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now),
           'capacity', ARGV[1], 'rate', ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisBuckets:
    """Buckets in Redis, shared by every process that uses the same Redis and prefix."""

    def __init__(self, url: str, prefix: str = "motorpool:ratelimit:") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._take = self._redis.register_script(_TAKE)
        self._prefix = prefix
        self._warned = -math.inf

    async def take(self, key: str, capacity: float, rate: float) -> float:
        from redis.exceptions import RedisError

        try:
            wait = await self._take(keys=[self._prefix + key], args=[repr(float(capacity)), repr(float(rate))])
        except RedisError as error:
            # Limits protect the platform; an unreachable Redis must not take the API down with it.
            now = time.monotonic()
            if now - self._warned > 60:
                self._warned = now
                log.warning("rate limits not applied: Redis failed (%s)", error)
            return 0.0
        return float(wait)

    async def forget(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def ping(self) -> None:
        """Raise unless Redis answers (for the readiness check)."""
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], buckets: BucketStore | None = None) -> None:
        self.sessions = sessions
        self.buckets: BucketStore = buckets if buckets is not None else MemoryBuckets()
        self._limits: dict[str, RateLimit | None] = {}

    def invalidate(self) -> None:
        """Forget the configuration (buckets keep their levels; a changed limit starts afresh)."""
        self._limits.clear()

    async def limit(self, application_id: str) -> RateLimit | None:
        if application_id in self._limits:
            return self._limits[application_id]
        async with self.sessions() as session:
            exists, stored = await repo.read_rate_limit(session, application_id)
        limit = RateLimit.from_dict(stored) if exists and stored else None
        self._limits[application_id] = limit
        return limit

    async def configured(self, application_id: str) -> RateLimit | None:
        """An application's limits, as the admin API shows them (NotFound: no application)."""
        async with self.sessions() as session:
            exists, _stored = await repo.read_rate_limit(session, application_id)
        if not exists:
            raise NotFound(f"No application with id '{application_id}'.", code="PATH")
        return await self.limit(application_id)

    async def admit(self, application_id: str, vehicle_id: str | None = None) -> None:
        """Let a request through, or refuse it with 429 and ``retry-after``."""
        try:
            limit = self._limits[application_id]
        except KeyError:
            limit = await self.limit(application_id)
        if limit is None:
            return  # the common case: no limits
        if limit.requests is not None and limit.refill_per_minute is not None:
            wait = await self.buckets.take(f"app:{application_id}", limit.requests, limit.refill_per_minute / 60)
            if wait:
                raise _refusal("SMARTCAR_API", "The application has used up its requests for now.", wait)
        if vehicle_id is not None and limit.vehicle_per_minute is not None:
            per_minute = limit.vehicle_per_minute
            wait = await self.buckets.take(f"vehicle:{application_id}:{vehicle_id}", per_minute, per_minute / 60)
            if wait:
                raise _refusal("VEHICLE", "This vehicle has had too many requests for now.", wait)

    async def change(self, application_id: str, limit: RateLimit | None) -> RateLimit | None:
        """Store an application's limits (None: no limits); its bucket starts full again."""
        if limit is not None:
            limit.validate()
            if limit.requests is None and limit.vehicle_per_minute is None:
                limit = None
        async with self.sessions() as session, session.begin():
            if not await repo.write_rate_limit(session, application_id, limit.to_dict() if limit else None):
                raise NotFound(f"No application with id '{application_id}'.", code="PATH")
        self._limits[application_id] = limit
        await self.buckets.forget(f"app:{application_id}")
        return limit

    async def close(self) -> None:
        await self.buckets.close()


def _refusal(code: str, detail: str, wait_s: float) -> RateLimited:
    seconds = max(1, math.ceil(wait_s))
    return RateLimited(f"{detail} Retry after {seconds} s.", code=code, headers={"retry-after": str(seconds)})
