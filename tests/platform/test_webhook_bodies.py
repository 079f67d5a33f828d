"""The exact bytes of one attempt (pure functions): numbers written as JavaScript's
``JSON.stringify`` writes them, whether the body takes the quick path (written once) or the
one that walks it first."""

from __future__ import annotations

import json
from typing import Any

from motorpool.platform.services.webhook_events import _as_javascript_writes, for_attempt


def envelope(value: Any, note: str = "") -> dict[str, Any]:
    return {
        "eventId": "e-1",
        "eventType": "VEHICLE_STATE",
        "data": {"signals": [{"code": "odometer-traveleddistance", "body": {"value": value}}], "note": note},
        "meta": {"version": "4.0", "webhookId": "w-1"},
    }


def test_whole_floats_are_written_as_integers_and_the_attempts_members_are_added() -> None:
    body = for_attempt(envelope(4242.0), "d-1", 1_700_000_000_000)
    assert b'"value":4242}' in body
    meta = json.loads(body)["meta"]
    assert meta == {"version": "4.0", "webhookId": "w-1", "deliveryId": "d-1", "deliveredAt": 1_700_000_000_000}


def test_large_and_negative_whole_floats_and_fractions_match_javascript() -> None:
    assert b'"value":10000000000000000}' in for_attempt(envelope(1e16), "d", 0)
    assert b'"value":-3}' in for_attempt(envelope(-3.0), "d", 0)
    assert b'"value":0}' in for_attempt(envelope(-0.0), "d", 0)
    assert b'"value":12.5}' in for_attempt(envelope(12.5), "d", 0)


def test_the_quick_path_and_the_walking_path_write_the_same_bytes() -> None:
    for value, note in [(12.5, ""), (7, "1.0, said the text"), (4242.0, "1e5"), (0.1, "x")]:
        payload = envelope(value, note)
        meta = {**payload["meta"], "deliveryId": "d", "deliveredAt": 5}
        walked = json.dumps(
            _as_javascript_writes({**payload, "meta": meta}), separators=(",", ":"), ensure_ascii=False
        ).encode()
        assert for_attempt(payload, "d", 5) == walked


def test_ids_whose_hexadecimal_looks_like_an_exponent_keep_the_quick_path() -> None:
    """``"…3e4f…"`` in an id is no number: the body is written once, not walked."""
    from motorpool.platform.services import webhook_events

    payload = envelope(12.5)
    payload["eventId"] = "0c3e4f6a-1e2d-4e5f-9e8b-7e6d5c4b3a21"
    walked = 0
    real_walk = webhook_events._as_javascript_writes

    def counting_walk(value: Any) -> Any:
        nonlocal walked
        walked += 1
        return real_walk(value)

    webhook_events._as_javascript_writes = counting_walk
    try:
        body = for_attempt(payload, "9e9e9e9e-0000-4000-8000-000000000000", 5)
    finally:
        webhook_events._as_javascript_writes = real_walk
    assert walked == 0
    assert json.loads(body)["eventId"] == payload["eventId"]
    # And a number with an exponent still takes the walking path.
    assert b'"value":10000000000000000}' in for_attempt(envelope(1e16), "3e4", 0)
    assert b'"value":1.5e-7}' in for_attempt(envelope(1.5e-7), "d", 0)
