"""Webhook deliveries: verify their signature, answer the VERIFY challenge, parse the events.

Every delivery carries ``SC-Signature``: the lower-case hex HMAC-SHA256 of the **raw request
body**, keyed with the application management token. Verify the bytes exactly as received —
re-serialising parsed JSON changes them — and compare in constant time::

    event = motorpool.construct_event(request_body, request.headers.get("SC-Signature"), token)
    if isinstance(event, motorpool.VerifyEvent):
        return event.respond(token)          # {"challenge": "<hmac of the challenge>"}
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import AliasChoices, AliasPath, Field, model_validator

from ._errors import SignatureVerificationError
from ._models import Resolution, Signal, SignalRef, SmartcarModel


def _bytes(value: bytes | bytearray | memoryview | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def hash_challenge(management_token: str, challenge: str) -> str:
    """The hex HMAC-SHA256 of ``challenge`` keyed with the management token.

    This is the answer to a ``VERIFY`` event (``{"challenge": hash_challenge(token, challenge)}``)
    and, over a raw body, the expected ``SC-Signature``.
    """
    return hmac.new(_bytes(management_token), _bytes(challenge), hashlib.sha256).hexdigest()


def verify_signature(
    raw_body: bytes | bytearray | memoryview | str, signature: str | None, management_token: str
) -> bool:
    """True when ``signature`` (the ``SC-Signature`` header) matches ``raw_body``.

    Computed over the body's bytes exactly as received, compared in constant time; a missing
    or malformed signature is simply not a match.
    """
    if not signature or not isinstance(signature, str):
        return False
    expected = hmac.new(_bytes(management_token), _bytes(raw_body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


def verify_payload(
    management_token: str, signature: str | None, body: bytes | bytearray | memoryview | str
) -> bool:
    """The official SDK's name and argument order for :func:`verify_signature` (constant time here)."""
    return verify_signature(body, signature, management_token)


# --- events -------------------------------------------------------------------------------------


def _path(*parts: str) -> AliasPath:
    first, *rest = parts
    return AliasPath(first, *rest)


class DeliveryInfo(SmartcarModel):
    """The ``meta`` of a delivery: which webhook, which attempt, when, in which mode."""

    version: str | None = None
    webhook_id: str | None = Field(None, validation_alias=AliasChoices("webhookId"))
    webhook_name: str | None = Field(None, validation_alias=AliasChoices("webhookName"))
    delivery_id: str | None = Field(None, validation_alias=AliasChoices("deliveryId"))
    delivered_at: datetime | None = Field(None, validation_alias=AliasChoices("deliveredAt"))
    mode: str | None = None
    signal_count: int | None = Field(None, validation_alias=AliasChoices("signalCount"))
    sequence: int | None = None


class EventUser(SmartcarModel):
    """The user whose vehicle the event is about."""

    id: str | None = None
    external_id: str | None = Field(None, validation_alias=AliasChoices("externalId"))


class EventVehicle(SmartcarModel):
    """The vehicle the event is about."""

    id: str | None = None
    make: str | None = None
    model: str | None = None
    year: int | None = None
    mode: str | None = None
    powertrain_type: str | None = Field(None, validation_alias=AliasChoices("powertrainType"))


class Trigger(SmartcarModel):
    """What caused a ``VEHICLE_STATE`` delivery: a signal's code, or ``FIRST_DELIVERY``."""

    type: str | None = None
    code: str | None = None
    name: str | None = None
    group: str | None = None


def _no_delivery() -> DeliveryInfo:
    return DeliveryInfo.model_validate({})


class WebhookEvent(SmartcarModel):
    """A webhook delivery. ``event_type`` tells which subclass it is; unknown types stay this class.

    ``delivery`` is the payload's ``meta`` (the name ``meta`` is the response metadata on every
    model); ``data`` is the payload's ``data`` as sent.
    """

    event_id: str | None = Field(None, validation_alias=AliasChoices("eventId"))
    event_type: str = Field(validation_alias=AliasChoices("eventType", "eventName"))
    vehicle_id: str | None = Field(None, validation_alias=AliasChoices("vehicleId"))
    delivery: DeliveryInfo = Field(default_factory=_no_delivery, validation_alias=AliasChoices("meta"))
    data: dict[str, Any] = Field(default_factory=dict, validation_alias=AliasChoices("data", "payload"))


class VerifyEvent(WebhookEvent):
    """``VERIFY``: prove you hold the management token by answering the challenge."""

    challenge: str = Field(
        validation_alias=AliasChoices(_path("data", "challenge"), _path("payload", "challenge"))
    )

    def respond(self, management_token: str) -> dict[str, str]:
        """The JSON body to answer with (HTTP 200): ``{"challenge": <hex HMAC>}``."""
        return {"challenge": hash_challenge(management_token, self.challenge)}


def _signal_ref(value: Any) -> Any:
    """A signal named as ``"Group.Name"`` (older payloads) becomes ``{code, name, group}``."""
    if isinstance(value, str) and "." in value:
        group, name = value.split(".", 1)
        return {"code": f"{group.lower()}-{name.lower()}", "name": name, "group": group}
    return value


class VehicleStateEvent(WebhookEvent):
    """``VEHICLE_STATE``: the vehicle's configured data signals, sent when a trigger fired."""

    user: EventUser | None = Field(None, validation_alias=AliasChoices(_path("data", "user")))
    vehicle: EventVehicle | None = Field(None, validation_alias=AliasChoices(_path("data", "vehicle")))
    triggers: list[Trigger] = Field(default_factory=list)
    signals: list[Signal] = Field(
        default_factory=list, validation_alias=AliasChoices(_path("data", "signals"))
    )

    @model_validator(mode="before")
    @classmethod
    def _gather_triggers(cls, value: Any) -> Any:
        # Three trigger shapes are in the wild: data.triggers [{code,name,group}], top-level
        # triggers [{type, signal: {...}}], and top-level [{type, signal: "Group.Name"}].
        if not isinstance(value, dict):
            return value
        data: dict[str, Any] = value["data"] if isinstance(value.get("data"), dict) else {}
        found: list[dict[str, Any]] = []
        for item in data.get("triggers") or []:
            if isinstance(item, dict):
                found.append({"type": item.get("type", "SIGNAL_UPDATED"), **item})
        for item in value.get("triggers") or []:
            if isinstance(item, dict):
                signal = _signal_ref(item.get("signal"))
                found.append({"type": item.get("type"), **(signal if isinstance(signal, dict) else {})})
        if any(trigger.get("code") == "FIRST_DELIVERY" for trigger in found):
            for trigger in found:
                if trigger.get("code") == "FIRST_DELIVERY":
                    trigger["type"] = "FIRST_DELIVERY"
        return {**value, "triggers": found}

    def signal(self, code: str) -> Signal | None:
        """The delivered signal with this code, or None."""
        return next((signal for signal in self.signals if signal.code == code), None)


class VehicleErrorDetail(SmartcarModel):
    """One problem reported by ``VEHICLE_ERROR``; ``state`` is ``ERROR`` or ``RESOLVED``."""

    type: str | None = None
    code: str | None = None
    state: str | None = None
    description: str | None = None
    suggested_user_message: str | None = Field(None, validation_alias=AliasChoices("suggestedUserMessage"))
    doc_url: str | None = Field(None, validation_alias=AliasChoices("docURL", "docUrl"))
    resolution: Resolution | None = None
    signals: list[SignalRef] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _signal_refs(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("signals"), list):
            return {**value, "signals": [_signal_ref(item) for item in value["signals"]]}
        return value


class VehicleErrorEvent(WebhookEvent):
    """``VEHICLE_ERROR``: something keeps the vehicle's data from being read (or stopped doing so)."""

    user: EventUser | None = Field(None, validation_alias=AliasChoices(_path("data", "user")))
    vehicle: EventVehicle | None = Field(None, validation_alias=AliasChoices(_path("data", "vehicle")))
    errors: list[VehicleErrorDetail] = Field(
        default_factory=list, validation_alias=AliasChoices(_path("data", "errors"))
    )


_EVENT_TYPES: dict[str, type[WebhookEvent]] = {
    "VERIFY": VerifyEvent,
    "VEHICLE_STATE": VehicleStateEvent,
    "VEHICLE_ERROR": VehicleErrorEvent,
}


def parse_event(body: bytes | bytearray | memoryview | str | Mapping[str, Any]) -> WebhookEvent:
    """Parse a delivery into :class:`VerifyEvent`, :class:`VehicleStateEvent`,
    :class:`VehicleErrorEvent`, or :class:`WebhookEvent` for other types. Does not verify."""
    if isinstance(body, Mapping):
        decoded: Any = dict(body)
        content: bytes | None = json.dumps(decoded).encode()
    else:
        content = _bytes(body)
        try:
            decoded = json.loads(content)
        except ValueError as error:
            raise ValueError(f"a webhook body must be JSON: {error}") from error
    if not isinstance(decoded, dict):
        # A body that is JSON but not an object is a bad value, not a wrong argument type.
        raise ValueError("a webhook body must be a JSON object")  # noqa: TRY004
    event_type = decoded.get("eventType") or str(decoded.get("eventName") or "").upper()
    model = _EVENT_TYPES.get(str(event_type), WebhookEvent)
    if event_type and "eventType" not in decoded:
        decoded = {**decoded, "eventType": event_type}
    event = model.model_validate(decoded)
    event._attach(event.meta, content)
    return event


def construct_event(
    raw_body: bytes | bytearray | memoryview | str, signature: str | None, management_token: str
) -> WebhookEvent:
    """Verify a delivery's signature, then parse it.

    Raises :class:`SignatureVerificationError` when the signature does not match. A ``VERIFY``
    event may arrive unsigned (the challenge itself proves who answers); it is accepted without
    a signature, but a signature that is present must match.
    """
    if signature:
        if not verify_signature(raw_body, signature, management_token):
            raise SignatureVerificationError("SC-Signature does not match the body")
        return parse_event(raw_body)
    event = parse_event(raw_body)
    if not isinstance(event, VerifyEvent):
        raise SignatureVerificationError("the delivery has no SC-Signature header")
    return event


__all__ = [
    "DeliveryInfo",
    "EventUser",
    "EventVehicle",
    "Trigger",
    "VehicleErrorDetail",
    "VehicleErrorEvent",
    "VehicleStateEvent",
    "VerifyEvent",
    "WebhookEvent",
    "construct_event",
    "hash_challenge",
    "parse_event",
    "verify_payload",
    "verify_signature",
]
