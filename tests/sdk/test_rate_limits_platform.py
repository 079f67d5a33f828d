"""The SDK and the platform's rate limits: a 429 with retry-after is waited out, or raised as
RateLimitError carrying the wait, sync and async mirrored."""

from __future__ import annotations

import time

import motorpool

from ..support.api import connected_vehicle, set_limit
from ..support.sdk import SDK_CONTROL, Against


async def test_a_read_waits_out_the_retry_after_the_platform_asks_for(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, seed=31, scope=SDK_CONTROL)
    client = on.client(retry_policy=motorpool.RetryPolicy(max_retries=2, initial_delay=0.001))
    me = client.user(user_id)
    await on.run(lambda: me.signals.get(vehicle_id, "closure-islocked"))  # the token request is not limited
    assert (await set_limit(on.platform, requests=1, refillPerMinute=60)).status_code == 200
    assert (await on.run(lambda: me.signals.get(vehicle_id, "closure-islocked"))).body["value"] in (True, False)
    started = time.monotonic()
    read = await on.run(lambda: me.signals.get(vehicle_id, "closure-islocked"))
    assert read.meta.request_id
    assert time.monotonic() - started >= 0.9, "the SDK waited the second the platform asked for"


async def test_without_retries_the_rate_limit_error_carries_the_wait(on: Against) -> None:
    user_id, vehicle_id = await connected_vehicle(on.platform, seed=32, scope=SDK_CONTROL)
    me = on.client(retry_policy=motorpool.RetryPolicy(max_retries=0)).user(user_id)
    assert (await set_limit(on.platform, vehicleRequestsPerMinute=1)).status_code == 200
    await on.run(lambda: me.signals.get(vehicle_id, "closure-islocked"))
    error = await on.raises(motorpool.RateLimitError, lambda: me.signals.get(vehicle_id, "closure-islocked"))
    assert error.status_code == 429 and error.type == "RATE_LIMIT" and error.code == "VEHICLE"
    assert error.retry_after is not None and 1 <= error.retry_after <= 60
    # A command refused with 429 was never acted on: the error is the same for it.
    refused = await on.raises(motorpool.RateLimitError, lambda: me.commands.lock(vehicle_id))
    assert refused.code == "VEHICLE"
