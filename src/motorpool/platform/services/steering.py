"""Steering the simulation from the control plane: plug a car in, start or stop its charging,
send it on a trip, put it to sleep, take it off the network, lock it, open a door, pin a signal.

Each is a plan of :mod:`..sim.plans` applied at the vehicle's application's simulated now with a
compare-and-set, like a command (``CommandService.steer``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from ..errors import ValidationFailed
from ..sim import plans
from ..sim.catalogue import ModelSpec
from ..sim.pinning import pin_problem
from ..sim.state import Charger, JsonObject, Plan, VehicleState
from .commands import CommandService
from .params import parse_uuid


@dataclass(frozen=True, slots=True)
class Steered:
    """A vehicle's state right after a change: what the operator asked to see."""

    vehicle_id: str
    activity: str
    plugged: bool | None
    locked: bool | None


class Steering:
    def __init__(self, commands: CommandService) -> None:
        self.commands = commands

    async def _apply(self, vehicle_id: str, plan: Plan) -> Steered:
        vehicle_id = parse_uuid(vehicle_id, "vehicleId", parameter="vehicleId")
        state = await self.commands.steer(vehicle_id, plan)
        return Steered(vehicle_id, state["activity"]["kind"], state.get("plugged"), state.get("locked"))

    async def plug(
        self, vehicle_id: str, *, plugged: bool = True, start: bool = False, kw: float | None = None
    ) -> Steered:
        """Plug in (``start``: and start charging at once), or unplug. A given charger power
        overrides the charger where the car stands (its home wallbox or a public post)."""
        if not plugged:
            return await self._apply(vehicle_id, plans.unplug)

        def plug_in(spec: ModelSpec, seed: int, state: VehicleState, now: int) -> VehicleState:
            charger: Charger | None = {**plans.default_charger(spec, state), "kw": kw} if kw else None
            return plans.plug_in(spec, seed, state, now, charger, start=start)

        return await self._apply(vehicle_id, plug_in)

    async def drive(
        self,
        vehicle_id: str,
        *,
        latitude: float | None = None,
        longitude: float | None = None,
        speed_kph: float | None = None,
    ) -> Steered:
        """A trip to a place, or without one to the destination last sent to the car's
        navigation (``navigation/set-destination``)."""
        if (latitude is None) != (longitude is None):
            raise ValidationFailed(
                "Give both latitude and longitude, or neither.", source={"parameter": "latitude"}
            )

        def drive(spec: ModelSpec, seed: int, state: VehicleState, now: int) -> VehicleState:
            target = (latitude, longitude) if latitude is not None else state.get("destination")
            if target is None or target[0] is None or target[1] is None:
                raise ValueError(
                    "No destination: give latitude and longitude, or set one with "
                    "navigation/set-destination."
                )
            return plans.start_trip(
                spec, seed, state, now, latitude=target[0], longitude=target[1], speed_kph=speed_kph
            )

        return await self._apply(vehicle_id, drive)

    async def set_charging(self, vehicle_id: str, charging: bool) -> Steered:
        """Start a session on the charger the car is plugged into, or stop the one under way."""
        return await self._apply(vehicle_id, plans.start_charging if charging else plans.stop_charging)

    async def set_locked(self, vehicle_id: str, locked: bool) -> Steered:
        """Lock or unlock the doors, as the security commands do (a parked car only; one with a
        door open does not lock)."""
        return await self._apply(vehicle_id, partial(plans.set_locked, locked=locked))

    async def sleep(self, vehicle_id: str) -> Steered:
        return await self._apply(vehicle_id, plans.sleep)

    async def wake(self, vehicle_id: str) -> Steered:
        return await self._apply(vehicle_id, plans.wake)

    async def set_online(self, vehicle_id: str, online: bool) -> Steered:
        return await self._apply(vehicle_id, partial(plans.set_online, online=online))

    async def set_open(self, vehicle_id: str, part: str, open_: bool) -> Steered:
        return await self._apply(vehicle_id, partial(plans.set_open, part=part, open=open_))

    async def pin_signal(self, vehicle_id: str, code: str, body: JsonObject | None) -> Steered:
        """Pin a signal to ``body`` from now on (None un-pins it): a code of the catalogue, a
        body of its shape, in its metric unit and range."""
        problem = pin_problem(code, body)
        if problem is not None:
            raise ValidationFailed(problem, source={"pointer": "/body"})
        return await self._apply(vehicle_id, partial(plans.set_signal, code=code, body=body))
