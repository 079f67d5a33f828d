"""Signal reads: the rules of ``/v3/vehicles/{id}/signals`` and the caching that makes them fast.

A simulated vehicle reports its data the way a real one does: at a cadence (often while driving
or charging, rarely while parked). Between two reports every read sees the same snapshot, with
the same ``oemUpdatedAt`` and ``retrievedAt`` — so the rendered body of a snapshot is kept and
answered again until the vehicle's next report or a change of its state. Checks (token, user,
connection, permissions) run on every request; only the rendering is reused."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from ..errors import ApiError, Incompatible, NotFound, PermissionDenied, ValidationFailed
from ..sim import catalogue, units
from ..sim.plans import has_due_work, resolve_due
from ..sim.signals import SIGNALS, supported_signals
from ..sim.vehicle import read_signals, report_interval_ms
from ..store.models import Vehicle
from .access import VehicleAccess

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


def iso_ms(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


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


@dataclass(frozen=True, slots=True)
class _Snapshot:
    fetched_at_ms: int
    #: code -> the signal resource as rendered for a caller holding every permission
    resources: dict[str, dict[str, Any]]
    oem_updated: dict[str, int]
    succeeded: frozenset[str]
    vehicle: dict[str, Any]


def _error_status(error_type: str, code: str | None) -> dict[str, Any]:
    description, resolution = _ERROR_TEXT.get(error_type, ("The signal could not be read.", None))
    return {
        "value": "ERROR",
        "error": {"type": error_type, "code": code, "description": description, "resolution": {"type": resolution}},
    }


class SignalService:
    """Renders signal answers, keeping one rendering per vehicle snapshot."""

    def __init__(self, origin: str, cache_size: int = 4096) -> None:
        self.origin = origin
        self._snapshots: OrderedDict[tuple[str, int, int, str], _Snapshot] = OrderedDict()
        self._bodies: OrderedDict[tuple[Any, ...], Rendered] = OrderedDict()
        self._size = cache_size

    def clear(self) -> None:
        self._snapshots.clear()
        self._bodies.clear()

    def vehicle_resource(self, vehicle: VehicleAccess | Vehicle) -> dict[str, Any]:
        """The vehicle resource, from a cached access record or a stored vehicle alike."""
        vehicle_id = vehicle.vehicle_id if isinstance(vehicle, VehicleAccess) else vehicle.id
        return {
            "id": vehicle_id,
            "type": "vehicle",
            "attributes": {
                "make": vehicle.make,
                "model": vehicle.model,
                "year": vehicle.year,
                "mode": vehicle.mode,
                "powertrainType": vehicle.powertrain,
            },
            "links": {"self": f"{self.origin}/v3/vehicles/{vehicle_id}"},
        }

    @staticmethod
    def snapshot_time(access: VehicleAccess, now_ms: int) -> int:
        """The moment of the vehicle's latest report at or before ``now_ms``."""
        interval = report_interval_ms(access.state)
        phase = access.seed % interval  # so a fleet does not report in lockstep
        latest = now_ms - ((now_ms - phase) % interval)
        # Nothing is reported from before the state record was last written.
        return max(latest, min(int(access.state.get("at", latest)), now_ms))

    def _snapshot(self, access: VehicleAccess, now_ms: int, system: str) -> _Snapshot:
        taken = self.snapshot_time(access, now_ms)
        key = (access.vehicle_id, access.version, taken, system)
        snapshot = self._snapshots.get(key)
        if snapshot is not None:
            return snapshot
        spec = catalogue.find_model(access.make, access.model)
        if spec is None:
            raise ApiError(f"Vehicle '{access.vehicle_id}' has no catalogue model.")
        state = access.state
        if has_due_work(state):
            # Commands queued for a sleeping car, and charge schedules, act from their instant on.
            state = resolve_due(spec, access.seed, state, taken)[0]
        readings = read_signals(spec, access.vin, access.seed, state, taken)
        supported = supported_signals(spec)
        vehicle_link = f"{self.origin}/v3/vehicles/{access.vehicle_id}"
        resources: dict[str, dict[str, Any]] = {}
        oem_updated: dict[str, int] = {}
        succeeded: set[str] = set()
        for code, definition in SIGNALS.items():
            reading = readings.get(code) if code in supported else None
            attributes: dict[str, Any] = {
                "code": code,
                "name": definition.name,
                "group": definition.group,
            }
            oem = taken
            if reading is None:
                attributes["status"] = _error_status("COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
            else:
                oem = reading.oem_updated_at_ms
                if reading.error is not None:
                    attributes["status"] = _error_status(*reading.error)
                else:
                    attributes["status"] = {"value": "SUCCESS"}
                    succeeded.add(code)
                if reading.body is not None:
                    body = reading.body
                    if system == "imperial":
                        body = units.to_imperial(code, body)
                    attributes["body"] = body
            oem_updated[code] = oem
            resources[code] = {
                "id": code,
                "type": "signal",
                "attributes": attributes,
                "meta": {"retrievedAt": taken, "oemUpdatedAt": oem},
                "links": {"self": f"{vehicle_link}/signals/{code}", "vehicle": vehicle_link},
            }
        snapshot = _Snapshot(
            fetched_at_ms=taken,
            resources=resources,
            oem_updated=oem_updated,
            succeeded=frozenset(succeeded),
            vehicle=self.vehicle_resource(access),
        )
        self._remember(self._snapshots, key, snapshot)
        return snapshot

    def _remember(self, cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        cache[key] = value
        if len(cache) > self._size:
            cache.popitem(last=False)

    @staticmethod
    def _for_caller(resource: dict[str, Any], code: str, permissions: frozenset[str]) -> dict[str, Any]:
        status = resource["attributes"]["status"]
        incapable = status["value"] == "ERROR" and status["error"]["type"] == "COMPATIBILITY"
        if incapable or SIGNALS[code].permission in permissions:
            return resource
        # Not granted: listed as an error, with no value (the body would leak the data).
        attributes = {k: v for k, v in resource["attributes"].items() if k != "body"}
        attributes["status"] = _error_status("PERMISSION", None)
        return {**resource, "attributes": attributes}

    def list_signals(
        self, access: VehicleAccess, now_ms: int, system: str, page: int, size: int
    ) -> Rendered:
        taken = self.snapshot_time(access, now_ms)
        key = (access.vehicle_id, access.version, taken, system, access.permissions, page, size)
        rendered = self._bodies.get(key)
        if rendered is not None:
            return rendered
        snapshot = self._snapshot(access, now_ms, system)
        codes = list(SIGNALS)
        total = len(codes)
        chosen = codes[(page - 1) * size : page * size]
        data = [self._for_caller(snapshot.resources[c], c, access.permissions) for c in chosen]
        last = max(1, -(-total // size))
        base = f"{self.origin}/v3/vehicles/{access.vehicle_id}/signals"

        def link(number: int) -> str:
            return f"{base}?page={number}&pageSize={size}"

        previous = link(page - 1) if page > 1 else None
        following = link(page + 1) if page < last else None
        body = {
            "data": data,
            "meta": {"page": page, "pageNumber": page, "pageSize": size, "totalCount": total},
            "links": {
                "self": link(page),
                "first": link(1),
                "previous": previous,
                "prev": previous,
                "next": following,
                "last": link(last),
            },
            "included": {"vehicle": snapshot.vehicle},
        }
        ages = [snapshot.oem_updated[c] for c in chosen if c in snapshot.succeeded]
        rendered = Rendered.build(
            body=orjson.dumps(body),
            data_age_ms=max(ages) if ages else snapshot.fetched_at_ms,
            fetched_at_ms=snapshot.fetched_at_ms,
            unit_system=system,
        )
        self._remember(self._bodies, key, rendered)
        return rendered

    def get_signal(self, access: VehicleAccess, code: str, now_ms: int, system: str) -> Rendered:
        definition = SIGNALS.get(code)
        if definition is None:
            raise NotFound(f"There is no signal with code '{code}'.")
        snapshot = self._snapshot(access, now_ms, system)
        resource = snapshot.resources[code]
        status = resource["attributes"]["status"]
        if status["value"] == "ERROR" and status["error"]["type"] == "COMPATIBILITY":
            raise Incompatible(f"This vehicle cannot provide '{code}'.", code=status["error"]["code"])
        if definition.permission not in access.permissions:
            raise PermissionDenied(
                f"Reading '{code}' needs the '{definition.permission}' permission, which this "
                "connection was not granted."
            )
        return Rendered.build(
            body=orjson.dumps({"data": resource}),
            data_age_ms=snapshot.oem_updated[code],
            fetched_at_ms=snapshot.fetched_at_ms,
            unit_system=system,
        )
