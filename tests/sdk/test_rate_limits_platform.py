"""The SDK and the platform's rate limits: a 429 with retry-after is waited out, or raised as
RateLimitError carrying the wait, sync and async mirrored."""

from __future__ import annotations

import time

import motorpool

from .test_commands_platform import CONTROL, connected
from .test_platform import Against, on  # noqa: F401  (`on`, the sync/async fixture)

# ruff: noqa: F811  (the tests take the imported `on` fixture as a parameter)


async def limit(on: Against, **body: object) -> None:
    await on.platform.admin("PUT", f"/admin/applications/{on.platform.application_id}/rate-limit", json=body)


async def test_a_read_waits_out_the_retry_after_the_platform_asks_for(on: Against) -> None:
    user_id, vehicle_id = await connected(on.platform, "TESLA", "Model 3", 31, scope=CONTROL)
    client = on.client(retry_policy=motorpool.RetryPolicy(max_retries=2, initial_delay=0.001))
    me = client.user(user_id)
    await on.run(lambda: me.signals.get(vehicle_id, "closure-islocked"))  # the token request is not limited
    await limit(on, requests=1, refillPerMinute=60)
    assert (await on.run(lambda: me.signals.get(vehicle_id, "closure-islocked"))).body["value"] in (True, False)
    started = time.monotonic()
    read = await on.run(lambda: me.signals.get(vehicle_id, "closure-islocked"))
    assert read.meta.request_id
    assert time.monotonic() - started >= 0.9, "the SDK waited the second the platform asked for"


async def test_without_retries_the_rate_limit_error_carries_the_wait(on: Against) -> None:
    user_id, vehicle_id = await connected(on.platform, "TESLA", "Model 3", 32, scope=CONTROL)
    me = on.client(retry_policy=motorpool.RetryPolicy(max_retries=0)).user(user_id)
    await limit(on, vehicleRequestsPerMinute=1)
    await on.run(lambda: me.signals.get(vehicle_id, "closure-islocked"))
    error = await on.raises(motorpool.RateLimitError, lambda: me.signals.get(vehicle_id, "closure-islocked"))
    assert error.status_code == 429 and error.type == "RATE_LIMIT" and error.code == "VEHICLE"
    assert error.retry_after is not None and 1 <= error.retry_after <= 60
    # A command refused with 429 was never acted on: the error is the same for it.
    refused = await on.raises(motorpool.RateLimitError, lambda: me.commands.lock(vehicle_id))
    assert refused.code == "VEHICLE"
