"""Webhook deliveries: signatures over raw bytes, the VERIFY challenge, typed events."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

import motorpool

TOKEN = "amt-3f1c"

VERIFY = {
    "eventId": "e-1",
    "eventType": "VERIFY",
    "data": {"challenge": "0123-challenge"},
    "meta": {"version": "4.0", "webhookId": "w-1", "webhookName": "My Webhook", "deliveryId": "d-1",
             "deliveredAt": 1761896351529},
}

STATE = {
    "eventId": "e-2",
    "eventType": "VEHICLE_STATE",
    "vehicleId": "v-1",
    "data": {
        "user": {"id": "u-1", "externalId": "ext-1"},
        "vehicle": {"id": "v-1", "make": "TESLA", "model": "Model 3", "year": 2020, "mode": "live",
                    "powertrainType": "BEV"},
        "triggers": [{"code": "tractionbattery-stateofcharge", "name": "StateOfCharge", "group": "TractionBattery"}],
        "signals": [
            {"code": "tractionbattery-stateofcharge", "name": "StateOfCharge", "group": "TractionBattery",
             "body": {"unit": "percent", "value": 78}, "meta": {"oemUpdatedAt": 1731940328000, "fetchedAt": 1731940330000}},
            {"code": "location-isathome", "name": "IsAtHome", "group": "Location",
             "status": {"value": "ERROR", "error": {"code": "VEHICLE_NOT_CAPABLE", "type": "COMPATIBILITY"}}},
        ],
    },
    "meta": {"version": "4.0", "deliveryId": "d-2", "deliveredAt": 1731940328000, "webhookId": "w-1",
             "webhookName": "Battery", "signalCount": 2, "mode": "LIVE"},
}

ERROR = {
    "eventId": "e-3",
    "eventType": "VEHICLE_ERROR",
    "vehicleId": "v-1",
    "data": {
        "user": {"id": "u-1"},
        "vehicle": {"id": "v-1", "make": "TESLA", "model": "Model 3", "year": 2020},
        "errors": [
            {"type": "COMPATIBILITY", "code": "VEHICLE_NOT_CAPABLE", "state": "ERROR", "description": "Cannot.",
             "suggestedUserMessage": "Sorry.", "docURL": "https://d", "resolution": {"type": "CONTACT_SUPPORT"},
             "signals": [{"code": "location-preciselocation", "name": "PreciseLocation", "group": "Location"},
                         "ConnectivityStatus.IsOnline"]}
        ],
    },
    "meta": {"version": "4.0", "deliveryId": "d-3", "deliveredAt": 1761896351529, "webhookId": "w-1", "mode": "LIVE"},
}


def sign(body: bytes, token: str = TOKEN) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def test_hash_challenge_is_hex_hmac_sha256() -> None:
    # The HMAC-SHA256 example everyone checks against.
    assert motorpool.hash_challenge("key", "The quick brown fox jumps over the lazy dog") == (
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )


def test_signatures_are_checked_over_the_raw_bytes() -> None:
    body = json.dumps(STATE, indent=2).encode()
    signature = sign(body)
    assert motorpool.verify_signature(body, signature, TOKEN)
    assert motorpool.verify_signature(body.decode(), signature.upper(), TOKEN)
    # The same JSON re-serialised is different bytes, so it must not verify.
    assert not motorpool.verify_signature(json.dumps(json.loads(body)).encode(), signature, TOKEN)
    assert not motorpool.verify_signature(body + b" ", signature, TOKEN)
    assert not motorpool.verify_signature(body, signature, "another-token")
    assert not motorpool.verify_signature(body, None, TOKEN)
    assert not motorpool.verify_signature(body, "", TOKEN)
    assert not motorpool.verify_signature(body, "not-hex", TOKEN)


def test_verify_payload_keeps_the_official_argument_order() -> None:
    body = b'{"eventType":"VEHICLE_STATE"}'
    assert motorpool.verify_payload(TOKEN, sign(body), body)
    assert not motorpool.verify_payload(TOKEN, sign(body), body + b"x")


def test_verify_event_is_answered_with_the_challenge_hash() -> None:
    event = motorpool.parse_event(json.dumps(VERIFY))
    assert isinstance(event, motorpool.VerifyEvent)
    assert event.challenge == "0123-challenge"
    assert event.delivery.webhook_id == "w-1" and event.delivery.version == "4.0"
    assert event.delivery.delivered_at is not None and event.delivery.delivered_at.year == 2025
    assert event.respond(TOKEN) == {"challenge": sign(b"0123-challenge")}


def test_legacy_verify_payload_parses_too() -> None:
    legacy = {"version": "2.0", "webhookId": "w", "eventName": "verify", "payload": {"challenge": "abc"}}
    event = motorpool.parse_event(json.dumps(legacy).encode())
    assert isinstance(event, motorpool.VerifyEvent) and event.challenge == "abc"


def test_vehicle_state_event() -> None:
    event = motorpool.parse_event(json.dumps(STATE).encode())
    assert isinstance(event, motorpool.VehicleStateEvent)
    assert event.vehicle_id == "v-1" and event.event_id == "e-2"
    assert event.user is not None and (event.user.id, event.user.external_id) == ("u-1", "ext-1")
    assert event.vehicle is not None and event.vehicle.powertrain_type == "BEV"
    assert [(t.code, t.group) for t in event.triggers] == [("tractionbattery-stateofcharge", "TractionBattery")]
    charge = event.signal("tractionbattery-stateofcharge")
    assert charge is not None and charge.value == 78 and charge.unit == "percent" and charge.ok
    assert charge.retrieved_at is not None and charge.oem_updated_at is not None
    home = event.signal("location-isathome")
    assert home is not None and not home.ok
    error = home.error()
    assert isinstance(error, motorpool.CompatibilityError) and error.code == "VEHICLE_NOT_CAPABLE"
    assert event.delivery.signal_count == 2 and event.delivery.mode == "LIVE"
    assert event.raw["eventId"] == "e-2"


@pytest.mark.parametrize(
    "triggers",
    [
        [{"type": "SIGNAL_UPDATED", "signal": {"name": "TraveledDistance", "group": "Odometer", "code": "odometer-traveleddistance"}}],
        [{"type": "SIGNAL_UPDATED", "signal": "Odometer.TraveledDistance"}],
    ],
)
def test_top_level_trigger_shapes_are_understood(triggers: list[dict[str, Any]]) -> None:
    payload = {**STATE, "data": {**STATE["data"], "triggers": []}, "triggers": triggers}  # type: ignore[dict-item]
    event = motorpool.parse_event(json.dumps(payload))
    assert isinstance(event, motorpool.VehicleStateEvent)
    assert [(t.type, t.code, t.name, t.group) for t in event.triggers] == [
        ("SIGNAL_UPDATED", "odometer-traveleddistance", "TraveledDistance", "Odometer")
    ]


def test_first_delivery_trigger() -> None:
    payload = {**STATE, "data": {**STATE["data"], "triggers": [{"code": "FIRST_DELIVERY"}]}}  # type: ignore[dict-item]
    event = motorpool.parse_event(json.dumps(payload))
    assert isinstance(event, motorpool.VehicleStateEvent)
    assert [(t.type, t.code) for t in event.triggers] == [("FIRST_DELIVERY", "FIRST_DELIVERY")]


def test_vehicle_error_event() -> None:
    event = motorpool.parse_event(json.dumps(ERROR))
    assert isinstance(event, motorpool.VehicleErrorEvent)
    [detail] = event.errors
    assert (detail.type, detail.code, detail.state, detail.doc_url) == ("COMPATIBILITY", "VEHICLE_NOT_CAPABLE", "ERROR", "https://d")
    assert detail.resolution is not None and detail.resolution.type == "CONTACT_SUPPORT"
    assert [s.code for s in detail.signals] == ["location-preciselocation", "connectivitystatus-isonline"]


def test_other_event_types_parse_as_the_base_class() -> None:
    event = motorpool.parse_event({"eventType": "VEHICLE_CONNECTION_STATUS", "data": {"x": 1}})
    assert type(event) is motorpool.WebhookEvent and event.data == {"x": 1}


def test_construct_event_verifies_then_parses() -> None:
    body = json.dumps(STATE).encode()
    assert isinstance(motorpool.construct_event(body, sign(body), TOKEN), motorpool.VehicleStateEvent)
    with pytest.raises(motorpool.SignatureVerificationError):
        motorpool.construct_event(body, sign(body, "wrong"), TOKEN)
    with pytest.raises(motorpool.SignatureVerificationError):
        motorpool.construct_event(body, None, TOKEN)
    verify = json.dumps(VERIFY).encode()
    assert isinstance(motorpool.construct_event(verify, None, TOKEN), motorpool.VerifyEvent)
    with pytest.raises(motorpool.SignatureVerificationError):
        motorpool.construct_event(verify, "00", TOKEN)


def test_bodies_that_are_not_objects_are_refused() -> None:
    with pytest.raises(ValueError):
        motorpool.parse_event(b"[1, 2]")
    with pytest.raises(ValueError):
        motorpool.parse_event(b"not json")
