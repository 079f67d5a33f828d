"""Vehicle commands: permission check, then load → settle → plan → compare-and-set.

The outcome is decided by the simulated state (``sim.plans`` refuses with the documented
``VEHICLE_STATE`` codes); an asleep car is woken by the command, as connected cars are woken by
their maker's cloud before a remote command. Nothing runs in the background: the new state is a
starting point the reads evolve from."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..errors import ApiError, Incompatible, NotFound, PermissionDenied, ValidationFailed, VehicleStateError
from ..sim import catalogue
from ..sim.catalogue import ModelSpec
from ..sim.plans import SimulationRefused
from ..store import repo
from .access import VehicleAccess

#: A plan: (spec, seed, state, now_ms) → the new state, or SimulationRefused.
Plan = Callable[[ModelSpec, int, dict[str, Any], int], dict[str, Any]]


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def refusal_error(refused: SimulationRefused) -> ApiError:
    """The wire error for a refusal of the simulation."""
    if refused.type == "COMPATIBILITY":
        return Incompatible(str(refused), code=refused.code)
    return VehicleStateError(str(refused), code=refused.code)


def require_permission(access: VehicleAccess, permission: str) -> None:
    if permission not in access.permissions:
        raise PermissionDenied(
            f"This command needs the {permission} permission, which the user did not grant."
        )


def model_of(make: str, model: str) -> ModelSpec:
    spec = catalogue.find_model(make, model)
    if spec is None:
        raise Incompatible("This vehicle cannot receive commands.")
    return spec


async def apply_plan(sessions: Any, vehicle_id: str, plan: Plan, now_ms: int) -> dict[str, Any]:
    """Apply ``plan`` to the stored state with a compare-and-set, retrying once on a lost race.

    The version bump of the save makes the read caches drop their snapshot of the vehicle."""
    for _attempt in range(2):
        async with sessions() as session, session.begin():
            vehicle = await repo.get_vehicle(session, vehicle_id)
            if vehicle is None:
                raise NotFound("The vehicle does not exist.", code="VEHICLE")
            spec = model_of(vehicle.make, vehicle.model)
            try:
                new_state = plan(spec, vehicle.seed, vehicle.state, now_ms)
            except SimulationRefused as refused:
                raise refusal_error(refused) from None
            except ValueError as invalid:
                raise ValidationFailed(str(invalid)) from None
            if await repo.save_vehicle_state(session, vehicle.id, new_state, vehicle.version):
                return new_state
    raise VehicleStateError("The vehicle was busy with another command; try again.", code="UNKNOWN")


def command_execution(command_type: str, started_ms: int, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``command-execution`` answer of a command that completed synchronously."""
    finished_ms = int(time.time() * 1000)
    attributes: dict[str, Any] = {
        "commandType": command_type,
        "status": {"value": "SUCCESS"},
        "executionMode": "sync",
    }
    if parameters:
        attributes["parameters"] = parameters
    return {
        "data": {
            "id": f"exec_{secrets.token_hex(12)}",
            "type": "command-execution",
            "attributes": attributes,
            "meta": {
                "executedAt": _iso(started_ms),
                "completedAt": _iso(finished_ms),
                "durationInSeconds": max(0, round((finished_ms - started_ms) / 1000)),
            },
        }
    }
