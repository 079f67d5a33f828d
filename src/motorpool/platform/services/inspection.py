"""A vehicle as the control plane sees it (``GET /admin/vehicles/{id}``, ``motorpool vehicles
show``): its identity, what it is doing and until when, what waits for it, what is pinned, and
every signal of its latest report with the report's age.

The signals come from :meth:`SignalService.readings`, the one source of the v3 and v2 renderings,
so what the operator sees is what an application reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import NotFound
from ..sim import catalogue
from ..sim.state import VehicleState
from ..sim.vehicle import activity_end, contact, report_interval_ms
from ..store import repo
from .access import VehicleAccess, report_phase_ms
from .clocks import ClockBook
from .params import parse_uuid
from .signals import SignalService


@dataclass(frozen=True, slots=True)
class SignalLine:
    """One signal of the latest report: its body (metric), when the car recorded it, and the
    error code when the car cannot report it."""

    code: str
    body: dict[str, Any] | None
    recorded_at_ms: int
    error: str | None
    pinned: bool


@dataclass(frozen=True, slots=True)
class VehicleView:
    vehicle_id: str
    application_id: str | None
    mode: str
    make: str
    model: str
    year: int
    powertrain: str
    vin: str
    nickname: str
    #: The application's simulated now, and when the car last reported before it.
    now_ms: int
    reported_at_ms: int
    activity: str
    #: When the current activity ends by itself (charged, arrived); None while parked.
    activity_ends_ms: int | None
    asleep: bool
    online: bool
    plugged: bool | None
    locked: bool | None
    open_parts: tuple[str, ...]
    #: Commands waiting for their instant: ``(execution id, command, due ms)``.
    queued: tuple[tuple[str, str, int], ...]
    signals: tuple[SignalLine, ...]


class VehicleInspector:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clocks: ClockBook, signals: SignalService
    ) -> None:
        self.sessions = sessions
        self.clocks = clocks
        self.signals = signals

    async def inspect(self, vehicle_id: str) -> VehicleView:
        """The vehicle at its application's simulated now; nothing is written."""
        vehicle_id = parse_uuid(vehicle_id, "vehicleId", parameter="vehicleId")
        async with self.sessions() as session:
            vehicle = await repo.get_vehicle(session, vehicle_id)
            if vehicle is None:
                raise NotFound("The vehicle does not exist.", code="PATH")
            spec = catalogue.find_model(vehicle.make, vehicle.model)
            if spec is None:
                raise NotFound(f"The vehicle's model {vehicle.make} {vehicle.model} is not in the catalogue.")
            state = cast(VehicleState, vehicle.state)  # the JSON column holds a state record
            application_id = vehicle.application_id
            interval = report_interval_ms(state)
            # The operator's view: no user, no connection; the report is the one a user reads.
            access = VehicleAccess(
                application_id=application_id or "", user_id="", connection_id="",
                permissions=frozenset(), vehicle_id=vehicle.id, vin=vehicle.vin, make=vehicle.make,
                model=vehicle.model, year=vehicle.year, powertrain=vehicle.powertrain,
                mode=vehicle.mode, seed=vehicle.seed, state=state, version=vehicle.version,
                nickname=vehicle.nickname, report_interval_ms=interval,
                report_phase_ms=report_phase_ms(vehicle.seed, interval),
                state_at_ms=None if state.get("at") is None else int(state["at"]),
            )  # fmt: skip
        now = await self.clocks.now_ms(application_id)
        report = self.signals.readings(access, now, "metric")
        reachable = contact(spec, state, now)
        pinned = set(state.get("overrides") or {})
        lines = tuple(
            SignalLine(
                code,
                reading.body,
                reading.oem_updated_at_ms,
                None if reading.error is None else (reading.error[1] or reading.error[0]),
                code in pinned,
            )
            for code, reading in sorted(report.readings.items())
        )
        ends = activity_end(spec, state)
        # The stored activity runs until it ends by itself (charged, arrived): past that, the
        # car stands parked, as its signals already say, though nothing has been written yet.
        activity = state["activity"]["kind"] if ends is None or ends > now else "parked"
        return VehicleView(
            vehicle_id=vehicle.id, application_id=application_id, mode=vehicle.mode, make=vehicle.make,
            model=vehicle.model, year=vehicle.year, powertrain=vehicle.powertrain, vin=vehicle.vin,
            nickname=vehicle.nickname, now_ms=now, reported_at_ms=report.fetched_at_ms,
            activity=activity,
            activity_ends_ms=ends if ends is not None and ends > now else None,
            asleep=reachable.asleep, online=reachable.online, plugged=state.get("plugged"),
            locked=state.get("locked"), open_parts=tuple(state.get("open") or ()),
            queued=tuple((q["id"], q["command"], q["due"]) for q in state.get("pending") or ()),
            signals=lines,
        )  # fmt: skip
