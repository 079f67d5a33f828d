"""The events of webhooks (smartcar-v3.md §8.3–§8.5), built from a vehicle's readings.

Pure functions: what a subscribed vehicle's report means for a webhook — a FIRST_DELIVERY, a
VEHICLE_STATE when a trigger signal's value changed, a VEHICLE_ERROR when an error condition
opens or resolves — and the exact 4.0 envelope of each. The per-attempt members
(``deliveryId``, ``deliveredAt``) are added when an attempt is sent (:func:`for_attempt`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..errors import doc_url
from ..sim.failures import CONNECTED_SERVICES_ACCOUNT, REAUTHENTICATE_CODES
from ..sim.signals import SIGNALS
from ..sim.state import Reading

VERSION = "4.0"

#: What each webhook error type tells the user and how it is resolved (§8.5).
_ERROR_TEXT: dict[str, tuple[str, str, str | None]] = {
    "VEHICLE_STATE": (
        "The vehicle could not be reached.",
        "Your vehicle is not reachable right now. Please make sure it has network coverage.",
        "RETRY_LATER",
    ),
    "COMPATIBILITY": (
        "The vehicle cannot provide this signal.",
        "Your vehicle is not able to share this data.",
        "CONTACT_SUPPORT",
    ),
    "PERMISSION": (
        "The user did not grant the permission this signal needs.",
        "This application needs more permissions. Please reconnect your vehicle.",
        "REAUTHENTICATE",
    ),
    "CONNECTED_SERVICES_ACCOUNT": (
        "The vehicle owner's connected-services account needs attention.",
        "Your vehicle's connected-services account needs attention. Please reconnect your vehicle.",
        "REAUTHENTICATE",
    ),
    "UPSTREAM": (
        "The vehicle's manufacturer did not provide this signal.",
        "Your vehicle's data is not available right now. Please try again later.",
        "RETRY_LATER",
    ),
}


def signal_ref(code: str) -> dict[str, str]:
    signal = SIGNALS[code]
    return {"code": code, "name": signal.name, "group": signal.group}


@dataclass(frozen=True, slots=True)
class Subject:
    """Who and what an event is about."""

    user_id: str
    vehicle_id: str
    make: str
    model: str
    year: int
    mode: str
    powertrain: str
    permissions: frozenset[str]

    def vehicle(self) -> dict[str, Any]:
        return {
            "id": self.vehicle_id,
            "make": self.make,
            "model": self.model,
            "year": self.year,
            "mode": self.mode,
            "powertrainType": self.powertrain,
        }


@dataclass(frozen=True, slots=True)
class Hook:
    """The webhook's configuration as events need it."""

    id: str
    name: str
    triggers: tuple[str, ...]
    data: tuple[str, ...]


def _reading_of(code: str, readings: Mapping[str, Reading], permissions: frozenset[str]) -> Reading:
    reading = readings[code]
    if reading.error is None and SIGNALS[code].permission not in permissions:
        return Reading(None, reading.oem_updated_at_ms, ("PERMISSION", None))
    return reading


def signal_entry(code: str, reading: Reading, taken_ms: int) -> dict[str, Any]:
    entry: dict[str, Any] = signal_ref(code)
    if reading.error is None:
        entry["status"] = {"value": "SUCCESS"}
        entry["body"] = reading.body
    else:
        entry["status"] = {"value": "ERROR", "error": {"type": reading.error[0], "code": reading.error[1]}}
    entry["meta"] = {
        "oemUpdatedAt": reading.oem_updated_at_ms,
        "retrievedAt": taken_ms,
        "fetchedAt": taken_ms,
    }
    return entry


def _meta(hook: Hook, mode: str, **extra: Any) -> dict[str, Any]:
    return {"version": VERSION, "webhookId": hook.id, "webhookName": hook.name, **extra, "mode": mode}


def wire_mode(vehicle_mode: str) -> str:
    return "TEST" if vehicle_mode == "test" else "LIVE"


def state_event(
    hook: Hook, subject: Subject, readings: Mapping[str, Reading], taken_ms: int,
    triggers: Sequence[str], *, mode: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A VEHICLE_STATE event: ``triggers`` are the signal codes that changed (or
    ``FIRST_DELIVERY``); the signals are every configured data signal."""
    signals = [
        signal_entry(code, _reading_of(code, readings, subject.permissions), taken_ms)
        for code in hook.data
        if code in readings
    ]
    return {
        "eventId": str(uuid.uuid4()),
        "eventType": "VEHICLE_STATE",
        "vehicleId": subject.vehicle_id,
        "data": {
            "user": {"id": subject.user_id},
            "vehicle": subject.vehicle(),
            "triggers": [
                {"code": code} if code == "FIRST_DELIVERY" else signal_ref(code) for code in triggers
            ],
            "signals": signals,
        },
        "meta": _meta(hook, mode or wire_mode(subject.mode), signalCount=len(signals)),
    }


def error_event(
    hook: Hook, subject: Subject, error_type: str, code: str | None, state: str, codes: Sequence[str],
    reauthenticate_url: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A VEHICLE_ERROR event: an error condition opened (``ERROR``) or cleared (``RESOLVED``).
    An account the owner mends by signing in again carries ``reauthenticate_url`` as its
    resolution's ``url``, as the Vehicle API's error does."""
    description, message, resolution = _ERROR_TEXT.get(
        error_type, ("The vehicle reported an error.", "Something went wrong with your vehicle.", None)
    )
    if error_type == "CONNECTED_SERVICES_ACCOUNT" and code not in REAUTHENTICATE_CODES:
        resolution = None  # an account issue the owner settles with the manufacturer
    resolution_member: dict[str, str | None] = {"type": resolution if state == "ERROR" else None}
    if (
        state == "ERROR" and resolution == "REAUTHENTICATE"
        and error_type == "CONNECTED_SERVICES_ACCOUNT" and reauthenticate_url
    ):  # fmt: skip
        resolution_member["url"] = reauthenticate_url
    return {
        "eventId": str(uuid.uuid4()),
        "eventType": "VEHICLE_ERROR",
        "vehicleId": subject.vehicle_id,
        "data": {
            "user": {"id": subject.user_id},
            "vehicle": subject.vehicle(),
            "errors": [
                {
                    "type": error_type,
                    "code": code,
                    "state": state,
                    "description": description,
                    "suggestedUserMessage": message,
                    "docURL": doc_url(error_type, code),
                    "resolution": resolution_member,
                    "signals": [signal_ref(c) for c in codes],
                }
            ],
        },
        "meta": _meta(hook, wire_mode(subject.mode)),
    }


def verify_event(webhook_id: str, webhook_name: str, challenge: str) -> dict[str, Any]:
    return {
        "eventId": str(uuid.uuid4()),
        "eventType": "VERIFY",
        "data": {"challenge": challenge},
        "meta": {"version": VERSION, "webhookId": webhook_id, "webhookName": webhook_name},
    }


#: What a number JavaScript writes differently looks like in orjson's output: a whole float
#: (``4242.0``) or one with an exponent (``1e16``, ``1.5e-7``), each ending where a JSON number
#: ends. The exponent must be followed by its digits and that end: a bare ``\d[eE]`` also matches
#: the hexadecimal of every id (``"…3e4f…"``), which sent nearly every body down the slow path.
#: Text inside a string that looks the same only sends its body down the slower path, which is
#: right for every body.
_MAYBE_NOT_AS_JAVASCRIPT = re.compile(rb"\d\.0[,}\]]|\d[eE][+-]?\d+[,}\]]")


def _as_javascript_writes(value: Any) -> Any:
    """Whole floats as integers (``4242.0`` → ``4242``), as JavaScript's ``JSON.stringify``
    writes them: the official Node SDK's ``verifyPayload`` signs ``JSON.stringify(JSON.parse(
    body))``, so the bytes sent must be what that gives back."""
    if type(value) is float:
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, dict):
        return {key: _as_javascript_writes(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_javascript_writes(item) for item in value]
    return value


def for_attempt(payload: Mapping[str, Any], delivery_id: str, delivered_at_ms: int) -> bytes:
    """The exact bytes one attempt sends: the stored envelope with this attempt's members,
    written compactly, as ``JSON.stringify`` would (so both official SDKs verify it)."""
    meta = dict(payload.get("meta") or {})
    meta["deliveryId"] = delivery_id
    meta["deliveredAt"] = delivered_at_ms
    envelope = {**payload, "meta": meta}
    # Written once as it is; walked and written again only when a number in it may be one
    # JavaScript writes differently (most bodies are not: walking every one cost more than
    # writing it).
    body = orjson.dumps(envelope)
    if _MAYBE_NOT_AS_JAVASCRIPT.search(body) is None:
        return body
    return orjson.dumps(_as_javascript_writes(envelope))


@dataclass
class Evaluation:
    """What one report of a subscribed vehicle comes to for one webhook."""

    events: list[dict[str, Any]] = field(default_factory=list)
    last_values: dict[str, Any] = field(default_factory=dict)
    open_errors: dict[str, Any] = field(default_factory=dict)


def _error_key(error: tuple[str, str | None]) -> str:
    return f"{error[0]}:{error[1] or ''}"


def evaluate(
    hook: Hook, subject: Subject, readings: Mapping[str, Reading], taken_ms: int,
    last_values: Mapping[str, Any] | None, open_errors: Mapping[str, Any], first: bool,
    *, masked: Mapping[str, tuple[str, str | None]] | None = None,
    reauthenticate_url: str | None = None,
) -> Evaluation:  # fmt: skip
    """Compare a report with what was last seen: FIRST_DELIVERY when one is owed, VEHICLE_STATE
    when a trigger's value changed, VEHICLE_ERROR for each error condition that opened or
    resolved among the webhook's signals.

    ``masked`` holds the signals' own errors that a broken account hides from the readings
    (code → error): they are open conditions all the same, reported beside the account's.
    ``reauthenticate_url`` is the link an account error is resolved at."""
    result = Evaluation()
    values = {
        code: (reading.body if reading.error is None else None)
        for code in hook.triggers
        if code in readings
        for reading in (_reading_of(code, readings, subject.permissions),)
    }
    result.last_values = values
    if first:
        result.events.append(state_event(hook, subject, readings, taken_ms, ["FIRST_DELIVERY"]))
    elif last_values is not None:
        changed = [
            code for code, value in values.items() if value is not None and last_values.get(code) != value
        ]
        if changed:
            result.events.append(state_event(hook, subject, readings, taken_ms, changed))
    errors: dict[str, list[str]] = {}
    for code in dict.fromkeys((*hook.triggers, *hook.data)):
        if code not in readings:
            continue
        error = _reading_of(code, readings, subject.permissions).error
        if error is not None:
            errors.setdefault(_error_key(error), []).append(code)
        hidden = (masked or {}).get(code)
        if hidden is not None and error is not None and error[0] == CONNECTED_SERVICES_ACCOUNT:
            errors.setdefault(_error_key(hidden), []).append(code)
    for key, codes in errors.items():
        if key not in open_errors:
            error_type, _, code = key.partition(":")
            result.events.append(
                error_event(hook, subject, error_type, code or None, "ERROR", codes, reauthenticate_url)
            )
    for key, codes in open_errors.items():
        if key not in errors:
            error_type, _, code = key.partition(":")
            result.events.append(error_event(hook, subject, error_type, code or None, "RESOLVED", codes))
    result.open_errors = errors
    return result
