"""The outbound client of deliveries: a request's time limit runs from when it is sent, not
while it waits for its turn among its host's connections."""

from __future__ import annotations

import asyncio

from motorpool.platform.services.webhook_delivery import Sender, sign

from ..support.receiver import Receiver


async def test_the_time_limit_counts_from_the_send_not_from_the_wait_for_a_connection() -> None:
    receiver = await Receiver("amt").start()
    receiver.delay = 0.6
    # One connection to the host: the second request waits 0.6 s for it, then takes 0.6 s
    # itself; 1.2 s after it was asked for, yet well within its 1 s once sent.
    sender = Sender(timeout_s=1.0, per_host=1)
    try:
        first, second = await asyncio.gather(
            sender.post(receiver.url, b'{"n":1}', "amt"), sender.post(receiver.url, b'{"n":2}', "amt")
        )
    finally:
        await sender.close()
        await receiver.stop()
    assert first.ok and second.ok, (first, second)
    assert first.latency_ms < 1000 and second.latency_ms < 1000
    assert len(receiver.deliveries) == 2


async def test_a_callback_slower_than_the_limit_is_a_failed_attempt() -> None:
    receiver = await Receiver("amt").start()
    receiver.delay = 2.0
    sender = Sender(timeout_s=0.3)
    try:
        answer = await sender.post(receiver.url, b"{}", "amt")
    finally:
        await sender.close()
        await receiver.stop()
    assert not answer.ok
    assert answer.error == "no answer within 0.3 s"


async def test_a_url_that_is_not_http_is_a_failed_attempt_with_its_reason() -> None:
    sender = Sender()
    try:
        answer = await sender.post("ftp://example.com/hook", b"{}", "amt")
    finally:
        await sender.close()
    assert not answer.ok and answer.status is None
    assert answer.error is not None and answer.error.startswith("invalid URL")


def test_the_signature_is_the_hex_hmac_of_the_exact_body() -> None:
    import hashlib
    import hmac

    body = b'{"eventId":"e"}'
    assert sign("amt", body) == hmac.new(b"amt", body, hashlib.sha256).hexdigest()
