"""The demo's webhook receiver: ``POST /webhooks`` answers VERIFY, refuses a bad signature with
401, keeps each event once (by ``eventId``: deliveries are at least once) and remembers the
latest ones per vehicle for the vehicle page; ``GET /webhooks`` lists them as JSON.

Everything goes through the SDK: ``construct_event`` checks ``SC-Signature`` over the raw body
and parses the event; ``VerifyEvent.respond`` answers the challenge."""

from __future__ import annotations

import json
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from motorpool import SignatureVerificationError, VerifyEvent, construct_event

router = APIRouter()

#: Events kept per vehicle, and event ids remembered to drop duplicates.
PER_VEHICLE = 10
REMEMBERED = 10_000


@dataclass
class EventLog:
    """The latest events per vehicle, newest first, each kept once."""

    by_vehicle: dict[str, deque[dict[str, Any]]] = field(default_factory=dict)
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def add(self, event_id: str, vehicle_id: str | None, summary: dict[str, Any]) -> bool:
        """Keep an event; False when its eventId was seen already (a retry or redelivery)."""
        if event_id in self.seen:
            return False
        self.seen[event_id] = None
        if len(self.seen) > REMEMBERED:
            self.seen.popitem(last=False)
        key = vehicle_id or ""
        self.by_vehicle.setdefault(key, deque(maxlen=PER_VEHICLE)).appendleft(summary)
        return True

    def latest(self, vehicle_id: str) -> list[dict[str, Any]]:
        return list(self.by_vehicle.get(vehicle_id, ()))


def event_log(request: Request) -> EventLog:
    log: EventLog | None = getattr(request.app.state, "webhook_events", None)
    if log is None:
        log = request.app.state.webhook_events = EventLog()
    return log


def _summary(event: Any, raw: dict[str, Any]) -> dict[str, Any]:
    data = raw.get("data") or {}
    meta = raw.get("meta") or {}
    triggers = [t.get("code") for t in data.get("triggers") or []]
    signals = {s.get("code"): (s.get("body") or {}).get("value") for s in data.get("signals") or []}
    errors = [f"{e.get('type')}:{e.get('code')} {e.get('state')}" for e in data.get("errors") or []]
    return {
        "eventId": event.event_id,
        "eventType": event.event_type,
        "deliveredAt": meta.get("deliveredAt"),
        "mode": meta.get("mode"),
        "triggers": triggers,
        "signals": signals,
        "errors": errors,
    }


@router.post("/webhooks", include_in_schema=False)
async def receive(request: Request) -> Response:
    token = request.app.state.demo.settings.management_token
    if not token:
        return JSONResponse({"error": "APPLICATION_MANAGEMENT_TOKEN is not set"}, status_code=503)
    raw = await request.body()
    try:
        event = construct_event(raw, request.headers.get("sc-signature"), token)
    except SignatureVerificationError as refused:
        return JSONResponse({"error": str(refused)}, status_code=401)
    except ValueError as bad:
        return JSONResponse({"error": str(bad)}, status_code=400)
    if isinstance(event, VerifyEvent):
        return JSONResponse(event.respond(token))
    if not event.event_id:
        return JSONResponse({"error": "the event has no eventId"}, status_code=400)
    body = json.loads(raw)
    fresh = event_log(request).add(event.event_id, event.vehicle_id, _summary(event, body))
    return JSONResponse({"received": event.event_id, "duplicate": not fresh})


@router.get("/webhooks", include_in_schema=False)
async def latest(request: Request) -> Response:
    log = event_log(request)
    return JSONResponse({vehicle: list(events) for vehicle, events in log.by_vehicle.items()})
