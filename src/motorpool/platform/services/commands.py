"""Vehicle commands and charge schedules: the rules between the API and the simulation.

A command is load → settle → plan → compare-and-set, at the application's simulated now. The
outcome is decided by the simulated state (``sim.plans`` refuses with the documented
``VEHICLE_STATE`` codes). A car that sleeps is woken the way its maker does it (``sim.remote``):
the command is queued in the vehicle's state, answered ``202`` with ``executionMode: "async"``,
and completes when the wake-up is over; its result is read at
``GET /v3/vehicles/{id}/commands/executions/{executionId}``. Makers that do not wake a car for a
command refuse with ``ASLEEP``. Nothing runs in the background: a queued command is applied by the
first read, command or execution lookup whose instant reaches it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import (
    ApiError,
    Incompatible,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    VehicleStateError,
)
from ..sim import catalogue, plans, remote
from ..sim.catalogue import ModelSpec
from ..sim.plans import SimulationRefused
from ..sim.signals import permissions_for
from ..sim.state import ChargeTimer, CommandParameters, Plan, VehicleState
from ..sim.vehicle import contact
from ..store import repo
from ..store.models import CommandExecution, Vehicle
from .access import VehicleAccess
from .clocks import ClockBook, iso_ms

COMMAND_EXECUTION = "command-execution"
SCHEDULE_EXECUTION = "charge-schedule-execution"


#: What changes a simulated car so that a refused command can succeed — a real owner would walk
#: to the car; a developer steers it through the control plane. Appended to the description.
SIMULATOR_FIXES = {
    "CHARGING_PLUG_NOT_CONNECTED": "plug it in with `motorpool vehicles plug VEHICLE_ID` "
    "(POST /admin/vehicles/VEHICLE_ID/plug)",
    "DOOR_OPEN": "close it with `motorpool vehicles open VEHICLE_ID door-ROW-COLUMN --close`",
    "TRUNK_OPEN": "close it with `motorpool vehicles open VEHICLE_ID trunk --close`",
    "HOOD_OPEN": "close it with `motorpool vehicles open VEHICLE_ID hood --close`",
    "IN_MOTION": "let the trip end: `motorpool clock advance 1h`",
}


def refusal_error(refused: SimulationRefused) -> ApiError:
    """The wire error for a refusal of the simulation, saying how to change the simulated car
    where the control plane can."""
    if refused.type == "COMPATIBILITY":
        return Incompatible(str(refused), code=refused.code)
    detail = str(refused)
    fix = SIMULATOR_FIXES.get(refused.code)
    if fix is not None:
        detail = f"{detail} The car is simulated: {fix}."
    return VehicleStateError(detail, code=refused.code)


def require_permission(access: VehicleAccess, permission: str) -> None:
    """A command needs a vehicle that can do it (else 501) and the user's grant (else 403)."""
    spec = model_of(access.make, access.model)
    if permission not in permissions_for(spec):
        raise Incompatible(f"The {spec.make_display} {spec.model} cannot receive this command.")
    if permission not in access.permissions:
        raise PermissionDenied(
            f"This command needs the {permission} permission, which the user did not grant."
        )


def model_of(make: str, model: str) -> ModelSpec:
    spec = catalogue.find_model(make, model)
    if spec is None:
        raise Incompatible("This vehicle cannot receive commands.")
    return spec


#: What every command execution id looks like (``new_execution_id``).
EXECUTION_ID_PATTERN = "exec_[0-9a-f]{24}"


def new_execution_id() -> str:
    return f"exec_{secrets.token_hex(12)}"


#: What every charge schedule id looks like (``new_schedule_id``).
SCHEDULE_ID_PATTERN = "sched_[0-9a-f]{24}"


def new_schedule_id() -> str:
    return f"sched_{secrets.token_hex(12)}"


@dataclass(frozen=True, slots=True)
class Action:
    """What to carry out: a ``commandType`` of ``plans.run_command`` and its parameters.

    ``attributes`` are the wire attributes of the answer (without status and mode)."""

    command: str
    parameters: CommandParameters
    execution_type: str
    attributes: dict[str, Any]


def command_action(command_type: str, parameters: CommandParameters | None = None) -> Action:
    attributes: dict[str, Any] = {"commandType": command_type}
    if parameters:
        attributes["parameters"] = parameters
    return Action(command_type, parameters or {}, COMMAND_EXECUTION, attributes)


@dataclass(frozen=True, slots=True)
class ChargeWindow:
    """When a charge schedule charges: ``HH:MM`` local times on the given weekdays (lower case)."""

    start: str
    stop: str
    days: tuple[str, ...]


def _location_timer(
    schedule_type: str, latitude: float, longitude: float, windows: list[ChargeWindow]
) -> ChargeTimer:
    """A ``charge-chargetimers`` LOCATION timer, as the signal shows it."""
    return {
        "type": "LOCATION",
        "condition": {"name": None, "address": None, "latitude": latitude,
                      "longitude": longitude, "connectorType": None},
        "schedules": [
            {"start": f"{window.start}:00", "end": f"{window.stop}:00",
             "days": [day.upper() for day in window.days]}
            for window in windows
        ],
        "departureTimers": [],
        "isOEMOptimizationEnabled": False,
        "scheduleType": schedule_type,
        "scheduleId": new_schedule_id(),
    }


def schedule_create_action(
    schedule_type: str,
    parameters: dict[str, Any],
    latitude: float,
    longitude: float,
    windows: list[ChargeWindow],
) -> Action:
    """Create a charge schedule at a place; ``parameters`` are echoed in the answer."""
    timer = _location_timer(schedule_type, latitude, longitude, windows)
    attributes = {"action": "create", "scheduleType": schedule_type, "scheduleId": timer["scheduleId"],
                  "parameters": parameters}
    return Action("charge-schedule-create", {"timer": timer}, SCHEDULE_EXECUTION, attributes)


def schedule_delete_action(access: VehicleAccess, schedule_id: str) -> Action:
    """Remove a charge schedule of the vehicle (the answer names its type when it exists)."""
    schedule_type = next(
        (timer.get("scheduleType") for timer in access.state.get("schedules", ())
         if timer.get("scheduleId") == schedule_id),
        None,
    )
    attributes = {"action": "delete", "scheduleType": schedule_type, "scheduleId": schedule_id}
    return Action("charge-schedule-delete", {"scheduleId": schedule_id}, SCHEDULE_EXECUTION, attributes)


def execution_body(execution: CommandExecution, origin: str) -> dict[str, Any]:
    """The ``command-execution`` / ``charge-schedule-execution`` answer of a stored execution."""
    attributes = dict(execution.attributes)
    error = attributes.pop("error", None)
    status: dict[str, Any] = {"value": execution.status}
    if error is not None:
        status["error"] = error
    attributes["status"] = status
    completed = execution.completed_ms
    data: dict[str, Any] = {
        "id": execution.id,
        "type": execution.type,
        "attributes": attributes,
        "links": {
            "self": f"{origin}/v3/vehicles/{execution.vehicle_id}/commands/executions/{execution.id}",
        },
        "meta": {
            "executedAt": iso_ms(execution.executed_ms),
            "completedAt": iso_ms(completed) if completed is not None else None,
            "durationInSeconds": round((completed - execution.executed_ms) / 1000) if completed is not None else None,
        },
    }
    if execution.type == SCHEDULE_EXECUTION and attributes.get("action") == "create":
        data["links"]["schedule"] = f"/vehicles/{execution.vehicle_id}/charge-schedules/{attributes['scheduleId']}"
    return {"data": data}


def _error_of(refused: SimulationRefused) -> dict[str, Any]:
    error = refusal_error(refused)
    return {"type": error.type, "code": error.code, "description": error.detail}


class CommandService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clocks: ClockBook, origin: str) -> None:
        self.sessions = sessions
        self.clocks = clocks
        self.origin = origin

    # --- the Vehicle API's commands -----------------------------------------------------------

    async def execute(
        self, access: VehicleAccess, permission: str, action: Action, origin: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Carry out a command for a user's vehicle, if its connection grants ``permission``:
        ``(HTTP status, answer body)``, its links on ``origin`` (the public origin by default)."""
        require_permission(access, permission)
        now = await self.clocks.now_ms(access.application_id)
        for _attempt in range(3):
            async with self.sessions() as session, session.begin():
                vehicle, spec, state = await self._load_settled(session, access.vehicle_id, now)
                reach = contact(spec, state, now)
                if not reach.online:
                    raise VehicleStateError("The vehicle is not reachable over the network.", code="UNREACHABLE")
                execution = CommandExecution(
                    id=new_execution_id(), application_id=access.application_id,
                    vehicle_id=vehicle.id, user_id=access.user_id, type=action.execution_type,
                    attributes=dict(action.attributes), executed_ms=now,
                )
                if reach.asleep:
                    policy = remote.policy_for(spec)
                    if not policy.wakes_for_commands:
                        raise VehicleStateError(
                            f"The vehicle is asleep; {spec.make_display} does not wake it for remote commands.",
                            code="ASLEEP",
                        )
                    self._dry_run(spec, vehicle.seed, state, now, action)
                    due = now + policy.wake_ms + remote.command_latency_ms(spec, vehicle.seed, now)
                    new_state = plans.queue_command(state, execution.id, action.command, action.parameters, due)
                    execution.attributes["executionMode"] = "async"
                    execution.status, execution.due_ms, execution.completed_ms = "PENDING", due, None
                else:
                    new_state = self._run(spec, vehicle.seed, state, now, action)
                    # The simulation applies a synchronous command at the instant it is asked,
                    # and answers at that instant: it completed then. A completedAt a latency
                    # later would lie in the future of the answer, of a clock frozen at ``now``,
                    # and of every read, which already shows the command's effect.
                    execution.attributes["executionMode"] = "sync"
                    execution.status, execution.due_ms, execution.completed_ms = "SUCCESS", now, now
                if await repo.save_vehicle_state(session, vehicle.id, new_state, vehicle.version):
                    await repo.add_execution(session, execution)
                    status = 202 if execution.status == "PENDING" else 200
                    return status, execution_body(execution, origin or self.origin)
        raise VehicleStateError("The vehicle was busy with another command; try again.", code="UNKNOWN")

    async def execution(
        self, access: VehicleAccess, execution_id: str, origin: str | None = None
    ) -> dict[str, Any]:
        """A stored execution, completed first if its instant has come (links on ``origin``)."""
        async with self.sessions() as session:
            execution = await repo.get_execution(session, access.application_id, access.vehicle_id, execution_id)
        if execution is None:
            raise NotFound(f"No command execution '{execution_id}' for this vehicle.")
        if execution.status == "PENDING":
            now = await self.clocks.now_ms(access.application_id)
            if execution.due_ms <= now:
                await self._settle_stored(access.vehicle_id, now)
                async with self.sessions() as session:
                    execution = await repo.get_execution(
                        session, access.application_id, access.vehicle_id, execution_id
                    )
                assert execution is not None
        return execution_body(execution, origin or self.origin)

    @staticmethod
    def _run(spec: ModelSpec, seed: int, state: VehicleState, now: int, action: Action) -> VehicleState:
        try:
            return plans.run_command(spec, seed, state, now, action.command, action.parameters)
        except SimulationRefused as refused:
            raise refusal_error(refused) from None
        except LookupError:
            raise NotFound("There is no charge schedule with this id on the vehicle.") from None
        except ValueError as invalid:
            raise ValidationFailed(str(invalid)) from None

    @classmethod
    def _dry_run(cls, spec: ModelSpec, seed: int, state: VehicleState, now: int, action: Action) -> None:
        """Refuse at once what no wake-up can change (an incapable car, bad input); the car's
        state when it wakes decides the rest."""
        try:
            cls._run(spec, seed, state, now, action)
        except VehicleStateError:
            pass

    # --- steering and shared steps ------------------------------------------------------------

    async def steer(self, vehicle_id: str, plan: Plan) -> VehicleState:
        """Apply an operator's plan (the admin API) at the vehicle's application's now."""
        for _attempt in range(3):
            async with self.sessions() as session, session.begin():
                vehicle = await repo.get_vehicle(session, vehicle_id)
                if vehicle is None:
                    raise NotFound("The vehicle does not exist.", code="PATH")
                now = await self.clocks.now_ms(vehicle.application_id)
                vehicle, spec, state = await self._load_settled(session, vehicle_id, now, vehicle)
                try:
                    new_state = plan(spec, vehicle.seed, state, now)
                except SimulationRefused as refused:
                    raise refusal_error(refused) from None
                except ValueError as invalid:
                    raise ValidationFailed(str(invalid)) from None
                if await repo.save_vehicle_state(session, vehicle.id, new_state, vehicle.version):
                    return new_state
        raise VehicleStateError("The vehicle was busy with another change; try again.", code="UNKNOWN")

    async def _load_settled(
        self, session: AsyncSession, vehicle_id: str, now: int, vehicle: Vehicle | None = None
    ) -> tuple[Vehicle, ModelSpec, VehicleState]:
        """The vehicle, its model, and its state with every queued command due by ``now`` applied
        (their executions are completed in the same transaction)."""
        if vehicle is None:
            vehicle = await repo.get_vehicle(session, vehicle_id)
        if vehicle is None:
            raise NotFound("The vehicle does not exist.", code="PATH")
        spec = model_of(vehicle.make, vehicle.model)
        stored = cast(VehicleState, vehicle.state)  # the JSON column holds a state record
        state, outcomes = plans.resolve_due(spec, vehicle.seed, stored, now)
        for execution_id, completed, refused in outcomes:
            await repo.finish_execution(
                session, execution_id,
                status="SUCCESS" if refused is None else "FAILURE",
                error=None if refused is None else _error_of(refused),
                completed_ms=completed,
            )
        return vehicle, spec, state

    async def _settle_stored(self, vehicle_id: str, now: int) -> None:
        """Store the effect of queued commands that are due (an execution lookup asked)."""
        for _attempt in range(3):
            async with self.sessions() as session, session.begin():
                vehicle, _spec, state = await self._load_settled(session, vehicle_id, now)
                if state is vehicle.state:
                    return
                if await repo.save_vehicle_state(session, vehicle.id, state, vehicle.version):
                    return
