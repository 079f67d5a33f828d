"""Rate limits kept in Redis (``MOTORPOOL_REDIS_URL``): every process serving one database shares
the buckets, and an unreachable Redis never takes the API down."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from motorpool.platform.errors import RateLimited
from motorpool.platform.services.limits import RateLimiter, RedisBuckets
from tests.conftest import PlatformHarness, running_platform
from tests.platform.test_commands import CONTROL, tesla
from tests.platform.test_rate_limits import set_limit
from tests.platform.test_vehicle_api import assert_error, get

REDIS_URL = os.environ.get("MOTORPOOL_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="Redis tests need MOTORPOOL_TEST_REDIS_URL")


@pytest.fixture
async def redis_platform(tmp_path: Path) -> AsyncIterator[PlatformHarness]:
    assert REDIS_URL is not None
    async with running_platform(f"sqlite+aiosqlite:///{tmp_path / 'motorpool.db'}", redis_url=REDIS_URL) as harness:
        yield harness


@needs_redis
async def test_the_platform_answers_429_from_buckets_in_redis(redis_platform: PlatformHarness) -> None:
    platform = redis_platform
    assert isinstance(platform.platform.limits.buckets, RedisBuckets)
    user_id, vehicle_id = await tesla(platform, scope=CONTROL)
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


@needs_redis
async def test_two_processes_share_the_application_bucket_and_the_vehicle_throttle(
    sqlite_platform: PlatformHarness,
) -> None:
    """Two limiters over one database and one Redis, as two processes behind a load balancer:
    the requests of both count against one bucket."""
    platform = sqlite_platform
    assert REDIS_URL is not None
    prefix = f"motorpool-test:{uuid.uuid4()}:"  # this test's own keys, shared by both limiters
    first = RateLimiter(platform.platform.sessions, RedisBuckets(REDIS_URL, prefix=prefix))
    second = RateLimiter(platform.platform.sessions, RedisBuckets(REDIS_URL, prefix=prefix))
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
