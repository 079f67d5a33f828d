"""Rate limits kept in Redis (``MOTORPOOL_REDIS_URL``): every process serving one database shares
the buckets, and an unreachable Redis never takes the API down."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from motorpool.platform.errors import RateLimited
from motorpool.platform.services.limits import RateLimiter, RedisBuckets

from ..support.api import CONTROL, assert_error, connected_vehicle, get, set_limit
from ..support.harness import PlatformHarness, running_platform


@pytest.fixture
async def redis_platform(tmp_path: Path, redis_url: str) -> AsyncIterator[PlatformHarness]:
    # A first start of its own: buckets in Redis are kept by application id, and an application
    # of its own keeps this test's buckets apart from every other run's.
    async with running_platform(f"sqlite+aiosqlite:///{tmp_path / 'motorpool.db'}", redis_url=redis_url) as harness:
        yield harness


async def test_the_platform_answers_429_from_buckets_in_redis(redis_platform: PlatformHarness) -> None:
    platform = redis_platform
    assert isinstance(platform.platform.limits.buckets, RedisBuckets)
    user_id, vehicle_id = await connected_vehicle(platform, scope=CONTROL)
    assert (await set_limit(platform, requests=2, refillPerMinute=1)).status_code == 200
    path = f"/v3/vehicles/{vehicle_id}/signals/closure-islocked"
    assert (await get(platform, path, user_id)).status_code == 200
    assert (await get(platform, path, user_id)).status_code == 200
    refused = await get(platform, path, user_id)
    assert_error(refused, 429, "RATE_LIMIT", "SMARTCAR_API")
    assert 50 <= int(refused.headers["retry-after"]) <= 60  # one request a minute comes back
    # A new limit starts with a full bucket.
    assert (await set_limit(platform, requests=1, refillPerMinute=1)).status_code == 200
    assert (await get(platform, path, user_id)).status_code == 200
    assert_error(await get(platform, path, user_id), 429, "RATE_LIMIT", "SMARTCAR_API")


async def test_two_processes_share_the_application_bucket_and_the_vehicle_throttle(
    sqlite_platform: PlatformHarness, redis_url: str
) -> None:
    """Two limiters over one database and one Redis, as two processes behind a load balancer:
    the requests of both count against one bucket."""
    platform = sqlite_platform
    prefix = f"motorpool-test:{uuid.uuid4()}:"  # this test's own keys, shared by both limiters
    first = RateLimiter(platform.platform.sessions, RedisBuckets(redis_url, prefix=prefix))
    second = RateLimiter(platform.platform.sessions, RedisBuckets(redis_url, prefix=prefix))
    app_id, vehicle_id = platform.application_id, str(uuid.uuid4())
    try:
        assert (await set_limit(platform, requests=3, refillPerMinute=1)).status_code == 200
        await first.admit(app_id)
        await second.admit(app_id)
        await first.admit(app_id)
        with pytest.raises(RateLimited) as refused:
            await second.admit(app_id)
        assert refused.value.code == "SMARTCAR_API"

        assert (await set_limit(platform, vehicleRequestsPerMinute=2)).status_code == 200
        first.invalidate()
        second.invalidate()
        await first.admit(app_id, vehicle_id)
        await second.admit(app_id, vehicle_id)
        with pytest.raises(RateLimited) as throttled:
            await first.admit(app_id, vehicle_id)
        assert throttled.value.code == "VEHICLE"
        await second.admit(app_id, str(uuid.uuid4()))  # another vehicle has its own throttle
    finally:
        await first.close()
        await second.close()


async def test_an_unreachable_redis_lets_requests_through(sqlite_platform: PlatformHarness) -> None:
    """Nothing listens on port 1: the limits are not applied, and no request fails for it."""
    platform = sqlite_platform
    limiter = RateLimiter(platform.platform.sessions, RedisBuckets("redis://127.0.0.1:1/0"))
    try:
        assert (await set_limit(platform, requests=1, refillPerMinute=1)).status_code == 200
        for _ in range(3):
            await limiter.admit(platform.application_id, str(uuid.uuid4()))
    finally:
        await limiter.close()
