"""Signal reads: the rules of ``/v3/vehicles/{id}/signals`` and the caching that makes them fast.

A simulated vehicle reports its data the way a real one does: at a cadence (often while driving
or charging, rarely while parked). Between two reports every read sees the same snapshot, with
the same ``oemUpdatedAt`` and ``retrievedAt`` — so the rendered body of a snapshot is kept and
answered again until the vehicle's next report or a change of its state. Checks (token, user,
connection, permissions) run on every request; only the rendering is reused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cachetools import FIFOCache

from ..errors import ApiError, Incompatible, NotFound, PermissionDenied, ValidationFailed
from ..sim import catalogue, units
from ..sim.failures import REAUTHENTICATE_CODES
from ..sim.plans import has_due_work, resolve_due
from ..sim.signals import SIGNALS, supported_signals
from ..sim.state import Reading
from ..sim.vehicle import COMPATIBILITY_ERROR, read_signals
from .access import VehicleAccess, VehicleGate, VehicleRequest, VehicleSummary
from .clocks import ClockBook, iso_ms
from .params import parse_paging

MAX_SIGNAL_PAGE = 100
UNIT_SYSTEMS = ("metric", "imperial")

_ERROR_TEXT = {
    "PERMISSION": ("The application was not granted the permission this signal needs.", "REAUTHENTICATE"),
    "COMPATIBILITY": ("This vehicle cannot provide this signal.", "CONTACT_SUPPORT"),
    "VEHICLE_STATE": ("The vehicle did not answer; the value may be out of date.", "RETRY_LATER"),
    "CONNECTED_SERVICES_ACCOUNT": ("The owner's connected-services account needs attention.", "CONTACT_SUPPORT"),
    "UPSTREAM": ("The vehicle's manufacturer did not answer.", "RETRY_LATER"),
}


def unit_system(header: str | None) -> str:
    if header is None or header == "":
        return "metric"
    value = header.strip().lower()
    if value not in UNIT_SYSTEMS:
        raise ValidationFailed(
            "SC-Unit-System must be 'metric' or 'imperial'.", source={"parameter": "SC-Unit-System"}
        )
    return value


@dataclass(frozen=True, slots=True)
class Rendered:
    """A serialised answer with the times its headers report."""

    body: bytes
    data_age_ms: int
    fetched_at_ms: int
    unit_system: str
    #: The ASGI response headers, built once per rendering.
    raw_headers: tuple[tuple[bytes, bytes], ...] = ()

    @classmethod
    def build(cls, body: bytes, data_age_ms: int, fetched_at_ms: int, unit_system: str) -> Rendered:
        headers = (
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"sc-data-age", iso_ms(data_age_ms).encode()),
            (b"sc-fetched-at", iso_ms(fetched_at_ms).encode()),
            (b"sc-unit-system", unit_system.encode()),
        )
        return cls(body, data_age_ms, fetched_at_ms, unit_system, headers)


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _error_status(error_type: str, code: str | None) -> dict[str, Any]:
    description, resolution = _ERROR_TEXT.get(error_type, ("The signal could not be read.", None))
    if error_type == "CONNECTED_SERVICES_ACCOUNT" and code in REAUTHENTICATE_CODES:
        description, resolution = "The owner must sign in to their connected-services account again.", "REAUTHENTICATE"
    return {
        "value": "ERROR",
        "error": {"type": error_type, "code": code, "description": description, "resolution": {"type": resolution}},
    }


# A signal resource is written from pieces: what never changes for a code is serialised once, the
# rest (status, body, times, links) per snapshot. The bytes equal ``orjson.dumps`` of the resource
# as a dict: ``{"id", "type", "attributes": {"code", "name", "group", "status", "body"?}, "meta":
# {"retrievedAt", "oemUpdatedAt"}, "links": {"self", "vehicle"}}``.
_SUCCESS = _json({"value": "SUCCESS"})
_DENIED = _json(_error_status("PERMISSION", None))
_STATUS: dict[tuple[str, str | None], bytes] = {}
_HEAD: dict[str, bytes] = {
    code: b'{"id":' + _json(code) + b',"type":"signal","attributes":{"code":' + _json(code)
    + b',"name":' + _json(d.name) + b',"group":' + _json(d.group) + b',"status":'
    for code, d in SIGNALS.items()
}
_CODES = tuple(SIGNALS)
_PERMISSION = {code: d.permission for code, d in SIGNALS.items()}
_SUPPORTED: dict[tuple[str, str], frozenset[str]] = {}
assert all(_json(code) == b'"' + code.encode() + b'"' for code in _CODES), "codes need no escaping"

#: How a snapshot's signal came out.
_OK, _FAILED, _INCAPABLE = 0, 1, 2


def _status_bytes(error: tuple[str, str | None]) -> bytes:
    found = _STATUS.get(error)
    if found is None:
        found = _STATUS[error] = _json(_error_status(*error))
    return found


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """A vehicle's report, rendered once as bytes (kept out of the garbage collector's way: a
    cache of dicts would hold hundreds of objects per vehicle)."""

    fetched_at_ms: int
    #: code -> the resource as rendered for a caller holding every permission
    resources: dict[str, bytes]
    #: code -> the resource's ``meta`` and ``links`` members, closing brace included
    tails: dict[str, bytes]
    oem_updated: dict[str, int]
    #: code -> _OK, _FAILED or _INCAPABLE
    outcome: dict[str, int]
    #: code -> the error code of a signal the vehicle cannot provide
    incapable_code: dict[str, str | None]
    vehicle: bytes

    def for_caller(self, code: str, permissions: frozenset[str]) -> bytes:
        if self.outcome[code] == _INCAPABLE or _PERMISSION[code] in permissions:
            return self.resources[code]
        # Not granted: listed as an error, with no value (the body would leak the data).
        return _HEAD[code] + _DENIED + self.tails[code]


@dataclass(frozen=True, slots=True)
class Readings:
    """A vehicle's report as plain values: every catalogue signal's reading (its body in the
    requested unit system) at the report's instant. The v3 rendering and the v2 one are both made
    from these, so they agree to the digit."""

    fetched_at_ms: int
    unit_system: str
    #: code -> the reading; a code the vehicle cannot report carries COMPATIBILITY and no body
    readings: dict[str, Reading]


def vehicle_resource(vehicle: VehicleSummary, origin: str) -> dict[str, Any]:
    """The JSON:API vehicle resource (``GET /v3/vehicles/{id}``, signals' ``included``)."""
    return {
        "id": vehicle.id,
        "type": "vehicle",
        "attributes": {
            "make": vehicle.make,
            "model": vehicle.model,
            "year": vehicle.year,
            "mode": vehicle.mode,
            "powertrainType": vehicle.powertrain,
        },
        "links": {"self": f"{origin}/v3/vehicles/{vehicle.id}"},
    }


class SignalService:
    """Signal reads: the checks (through the gate), the application's simulated now, and the
    rendering, kept once per vehicle snapshot."""

    def __init__(
        self, origin: str, gate: VehicleGate, clocks: ClockBook, cache_size: int = 4096
    ) -> None:
        self.origin = origin
        self.gate = gate
        self.clocks = clocks
        # First in, first out: a rendering is keyed by its report's instant, so the oldest entries
        # are the ones later reads no longer ask for.
        # Keyed by the vehicle's report and the origin of its links (one per host name used).
        self._snapshots: FIFOCache[tuple[str, int, int, str, str], _Snapshot] = FIFOCache(
            cache_size
        )
        self._bodies: FIFOCache[tuple[Any, ...], Rendered] = FIFOCache(cache_size)
        # Plain readings for the v2 rendering (no links in them: one per report, whatever the host).
        self._readings: FIFOCache[tuple[str, int, int, str], Readings] = FIFOCache(
            max(1, cache_size // 4)
        )

    def forget(self) -> None:
        """Drop every rendering: the state was replaced (a reset or a restore), and a vehicle's
        id and version no longer name one report."""
        self._snapshots.clear()
        self._bodies.clear()
        self._readings.clear()

    async def read_list(
        self, request: VehicleRequest, unit_header: str | None, query: Mapping[str, str] | None
    ) -> Rendered:
        """``GET /v3/vehicles/{id}/signals``: a page of the vehicle's signals (every signal
        without a query)."""
        access = await self.gate.admit(request)
        system = unit_system(unit_header)
        number, size = 1, MAX_SIGNAL_PAGE
        if query:
            paging = parse_paging(query, default_size=MAX_SIGNAL_PAGE)
            number, size = paging.number, paging.size
        await self.gate.vehicle_latency()
        now = await self.clocks.now_ms(access.application_id)
        return self.list_signals(access, now, system, number, size, request.origin)

    async def read_one(self, request: VehicleRequest, code: str, unit_header: str | None) -> Rendered:
        """``GET /v3/vehicles/{id}/signals/{code}``."""
        access = await self.gate.admit(request)
        system = unit_system(unit_header)
        await self.gate.vehicle_latency()
        now = await self.clocks.now_ms(access.application_id)
        return self.get_signal(access, code, now, system, request.origin)

    @staticmethod
    def snapshot_time(access: VehicleAccess, now_ms: int) -> int:
        """The moment of the vehicle's latest report at or before ``now_ms``."""
        interval = access.report_interval_ms
        latest = now_ms - ((now_ms - access.report_phase_ms) % interval)
        # Nothing is reported from before the state record was last written.
        return max(latest, min(access.state_at_ms, now_ms)) if access.state_at_ms is not None else latest

    def readings(self, access: VehicleAccess, now_ms: int, system: str) -> Readings:
        """The vehicle's report at or before ``now_ms`` as plain values, kept once per report."""
        taken = self.snapshot_time(access, now_ms)
        key = (access.vehicle_id, access.version, taken, system)
        try:
            return self._readings[key]
        except KeyError:
            pass
        found = self._readings[key] = Readings(taken, system, self._read(access, taken, system))
        return found

    @staticmethod
    def _read(access: VehicleAccess, taken: int, system: str) -> dict[str, Reading]:
        """Every catalogue signal as the vehicle reported it at ``taken``, in ``system`` units:
        the one source of both renderings."""
        spec = catalogue.find_model(access.make, access.model)
        if spec is None:
            raise ApiError(f"Vehicle '{access.vehicle_id}' has no catalogue model.")
        state = access.state
        if has_due_work(state):
            # Commands queued for a sleeping car, and charge schedules, act from their instant on.
            state = resolve_due(spec, access.seed, state, taken)[0]
        readings = read_signals(spec, access.vin, access.seed, state, taken, access.nickname)
        supported = _SUPPORTED.get((access.make, access.model))
        if supported is None:
            supported = _SUPPORTED[(access.make, access.model)] = supported_signals(spec)
        imperial = system == "imperial"
        unsupported = Reading(None, taken, COMPATIBILITY_ERROR)
        result: dict[str, Reading] = {}
        for code in _CODES:
            reading = readings.get(code) if code in supported else None
            if reading is None:
                result[code] = unsupported
            elif imperial and reading.body is not None:
                body = units.to_imperial(code, reading.body)
                result[code] = reading if body is reading.body else reading._replace(body=body)
            else:
                result[code] = reading
        return result

    def _snapshot(
        self, access: VehicleAccess, now_ms: int, system: str, origin: str | None = None
    ) -> _Snapshot:
        origin = origin or self.origin
        taken = self.snapshot_time(access, now_ms)
        key = (access.vehicle_id, access.version, taken, system, origin)
        try:
            return self._snapshots[key]
        except KeyError:
            pass
        readings = self._read(access, taken, system)
        vehicle_link = _json(f"{origin}/v3/vehicles/{access.vehicle_id}")
        self_link = b'},"links":{"self":' + vehicle_link[:-1] + b"/signals/"
        vehicle_member = b'","vehicle":' + vehicle_link + b"}}"
        retrieved = b'"meta":{"retrievedAt":' + str(taken).encode() + b',"oemUpdatedAt":'
        resources: dict[str, bytes] = {}
        tails: dict[str, bytes] = {}
        oem_updated: dict[str, int] = {}
        outcome: dict[str, int] = {}
        incapable_code: dict[str, str | None] = {}
        for code in _CODES:
            reading = readings[code]
            oem = reading.oem_updated_at_ms
            error = reading.error
            if error is None:
                status = _SUCCESS
                outcome[code] = _OK
            else:
                status = _status_bytes(error)
                if error[0] == "COMPATIBILITY":
                    outcome[code] = _INCAPABLE
                    incapable_code[code] = error[1]
                else:
                    outcome[code] = _FAILED
            body = reading.body
            tail = b"}," + retrieved + str(oem).encode() + self_link + code.encode() + vehicle_member
            tails[code] = tail
            if body is None:
                resources[code] = _HEAD[code] + status + tail
            else:
                resources[code] = _HEAD[code] + status + b',"body":' + _json(body) + tail
            oem_updated[code] = oem
        snapshot = _Snapshot(
            fetched_at_ms=taken,
            resources=resources,
            tails=tails,
            oem_updated=oem_updated,
            outcome=outcome,
            incapable_code=incapable_code,
            vehicle=_json(vehicle_resource(access.summary(), origin)),
        )
        self._snapshots[key] = snapshot
        return snapshot

    def list_signals(
        self, access: VehicleAccess, now_ms: int, system: str, page: int, size: int,
        origin: str | None = None,
    ) -> Rendered:  # fmt: skip
        origin = origin or self.origin
        taken = self.snapshot_time(access, now_ms)
        permissions = access.permissions
        key = (access.vehicle_id, access.version, taken, system, permissions, page, size, origin)
        try:
            return self._bodies[key]  # a hit costs one lookup (``get`` would make two)
        except KeyError:
            pass
        snapshot = self._snapshot(access, now_ms, system, origin)
        total = len(_CODES)
        chosen = _CODES[(page - 1) * size : page * size]
        data = b",".join([snapshot.for_caller(c, permissions) for c in chosen])
        last = max(1, -(-total // size))
        base = f"{origin}/v3/vehicles/{access.vehicle_id}/signals"

        def link(number: int) -> str:
            return f"{base}?page={number}&pageSize={size}"

        previous = link(page - 1) if page > 1 else None
        following = link(page + 1) if page < last else None
        meta_links = _json({
            "meta": {"page": page, "pageNumber": page, "pageSize": size, "totalCount": total},
            "links": {
                "self": link(page),
                "first": link(1),
                "previous": previous,
                "prev": previous,
                "next": following,
                "last": link(last),
            },
        })
        # {"data":[...],"meta":…,"links":…,"included":{"vehicle":…}}
        body = b"".join((
            b'{"data":[', data, b"],", meta_links[1:-1], b',"included":{"vehicle":', snapshot.vehicle, b"}}"
        ))
        # Only what this caller reads as a value dates the answer (a withheld signal does not).
        ages = [snapshot.oem_updated[c] for c in chosen if snapshot.outcome[c] == _OK and _PERMISSION[c] in permissions]
        rendered = Rendered.build(
            body=body,
            data_age_ms=max(ages) if ages else snapshot.fetched_at_ms,
            fetched_at_ms=snapshot.fetched_at_ms,
            unit_system=system,
        )
        self._bodies[key] = rendered
        return rendered

    def get_signal(
        self, access: VehicleAccess, code: str, now_ms: int, system: str, origin: str | None = None
    ) -> Rendered:
        definition = SIGNALS.get(code)
        if definition is None:
            raise NotFound(f"There is no signal with code '{code}'.")
        snapshot = self._snapshot(access, now_ms, system, origin)
        if snapshot.outcome[code] == _INCAPABLE:
            raise Incompatible(f"This vehicle cannot provide '{code}'.", code=snapshot.incapable_code[code])
        if definition.permission not in access.permissions:
            raise PermissionDenied(
                f"Reading '{code}' needs the '{definition.permission}' permission, which this "
                "connection was not granted."
            )
        return Rendered.build(
            body=b'{"data":' + snapshot.resources[code] + b"}",
            data_age_ms=snapshot.oem_updated[code],
            fetched_at_ms=snapshot.fetched_at_ms,
            unit_system=system,
        )
