"""What ``/vehicle`` shows: each connected vehicle with the signals an owner cares about,
read through the SDK a few vehicles at a time.

The values come from the SDK's typed signal views; a value the vehicle did not share keeps the
reason why (the permission was not granted, the vehicle cannot report it), so the page can say
so instead of showing a blank.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from motorpool import (
    ApiError,
    AsyncClient,
    AuthenticationError,
    ConnectedServicesAccountError,
    RateLimitError,
    Signal,
    SignalList,
    Vehicle,
)

# Signal codes (``lower(group)-lower(name)``) behind the values the page shows.
STATE_OF_CHARGE = "tractionbattery-stateofcharge"
FUEL_LEVEL = "internalcombustionengine-fuellevel"
BATTERY_RANGE = "tractionbattery-range"
FUEL_RANGE = "internalcombustionengine-range"
ODOMETER = "odometer-traveleddistance"
CHARGING_STATUS = "charge-detailedchargingstatus"
IS_LOCKED = "closure-islocked"
LOCATION = "location-preciselocation"

#: The signal each shown value rests on, in the order they are tried.
SOURCES: dict[str, tuple[str, ...]] = {
    "energy": (STATE_OF_CHARGE, FUEL_LEVEL),
    "range": (BATTERY_RANGE, FUEL_RANGE),
    "odometer": (ODOMETER,),
    "charging": (CHARGING_STATUS,),
    "locked": (IS_LOCKED,),
    "location": (LOCATION,),
}

#: Vehicles read at once for one page; a user rarely has more, and the platform is shared.
VEHICLES_IN_FLIGHT = 8


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with its unit, as the vehicle reported it."""

    value: float
    unit: str | None

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit}


@dataclass(frozen=True, slots=True)
class Position:
    latitude: float
    longitude: float

    def to_json(self) -> dict[str, Any]:
        return {"latitude": self.latitude, "longitude": self.longitude}


@dataclass
class VehicleView:
    """One row of the vehicle table (and one item of the JSON answer)."""

    id: str
    make: str | None = None
    model: str | None = None
    year: int | None = None
    powertrain_type: str | None = None
    state_of_charge: Quantity | None = None
    fuel_level: Quantity | None = None
    battery_range: Quantity | None = None
    fuel_range: Quantity | None = None
    odometer: Quantity | None = None
    location: Position | None = None
    charging_state: str | None = None
    is_plugged_in: bool | None = None
    is_locked: bool | None = None
    #: Why a value is missing, by the names of :data:`SOURCES`.
    unavailable: dict[str, str] = field(default_factory=dict)
    #: Set when the vehicle could not be read at all; the other values are then empty.
    error: str | None = None
    #: The owner's connected-services account needs them to sign in again through Connect
    #: (``/vehicle/{id}/reauthenticate`` takes them there).
    needs_reauthentication: bool = False

    def reason(self, name: str) -> str:
        """Why the value ``name`` is not shown."""
        return self.unavailable.get(name, "Not reported by the vehicle")

    def to_json(self) -> dict[str, Any]:
        """The JSON item: the tutorial's ``make``, ``model``, ``year`` and the signals."""

        def opt(value: Quantity | Position | None) -> dict[str, Any] | None:
            return value.to_json() if value is not None else None

        return {
            "id": self.id,
            "make": self.make,
            "model": self.model,
            "year": self.year,
            "powertrainType": self.powertrain_type,
            "stateOfCharge": opt(self.state_of_charge),
            "fuelLevel": opt(self.fuel_level),
            "batteryRange": opt(self.battery_range),
            "fuelRange": opt(self.fuel_range),
            "odometer": opt(self.odometer),
            "location": opt(self.location),
            "chargingState": self.charging_state,
            "isPluggedIn": self.is_plugged_in,
            "isLocked": self.is_locked,
            "unavailable": dict(self.unavailable),
            "error": self.error,
            "needsReauthentication": self.needs_reauthentication,
            "reauthenticate": f"/vehicle/{self.id}/reauthenticate" if self.needs_reauthentication else None,
        }


def _why_missing(signal: Signal | None) -> str:
    if signal is None:
        return "Not reported by the vehicle"
    info = signal.status.error
    kind = info.type if info else None
    if kind == "PERMISSION":
        return "Not shared: the permission was not granted on Connect"
    if kind == "COMPATIBILITY":
        return "This vehicle cannot report it"
    if info and info.description:
        return info.description
    return f"Unavailable ({signal.status.value.lower()})"


def _quantity(value: float | None, unit: str | None) -> Quantity | None:
    return Quantity(value, unit) if value is not None else None


def vehicle_view(vehicle: Vehicle, signals: SignalList) -> VehicleView:
    """Combine a vehicle and its signals into a table row."""
    view = VehicleView(
        id=vehicle.id,
        make=vehicle.make,
        model=vehicle.model,
        year=vehicle.year,
        powertrain_type=vehicle.powertrain_type,
    )
    if (soc := signals.state_of_charge) is not None:
        view.state_of_charge = Quantity(soc.percent, soc.unit or "percent")
    if (electric := signals.range) is not None:
        view.battery_range = Quantity(electric.distance, electric.unit)
    if (fuel := signals.fuel) is not None:
        view.fuel_level = _quantity(fuel.percent_remaining, "percent")
        view.fuel_range = _quantity(fuel.range, fuel.range_unit)
    if (odometer := signals.odometer) is not None:
        view.odometer = Quantity(odometer.distance, odometer.unit)
    if (location := signals.location) is not None:
        view.location = Position(location.latitude, location.longitude)
    if (charge := signals.charge_status) is not None:
        view.charging_state = charge.state
        view.is_plugged_in = charge.is_plugged_in
    if (lock := signals.lock_status) is not None:
        view.is_locked = lock.is_locked

    shown = {
        "energy": view.state_of_charge or view.fuel_level,
        "range": view.battery_range or view.fuel_range,
        "odometer": view.odometer,
        "charging": view.charging_state,
        "locked": view.is_locked,
        "location": view.location,
    }
    for name, value in shown.items():
        if value is None:
            # The first signal the vehicle knows of explains best why nothing is shown.
            codes = SOURCES[name]
            known = [signals.get(code) for code in codes if signals.get(code) is not None]
            view.unavailable[name] = _why_missing(known[0] if known else None)
    return view


def failed_view(vehicle_id: str, message: str, vehicle: Vehicle | None = None) -> VehicleView:
    """A row for a vehicle whose signals could not be read."""
    view = VehicleView(id=vehicle_id, error=message)
    if vehicle is not None:
        view.make, view.model, view.year = vehicle.make, vehicle.model, vehicle.year
        view.powertrain_type = vehicle.powertrain_type
    return view


def vehicles_json(views: list[VehicleView]) -> dict[str, Any]:
    """The JSON answer of ``/vehicle``.

    The top-level ``make``, ``model`` and ``year`` are the first vehicle's, exactly what the
    tutorial's ``/vehicle`` returns, so code written against the tutorial reads this unchanged;
    ``vehicles`` lists every connected vehicle with its signals.
    """
    first = views[0] if views else None
    return {
        "make": first.make if first else None,
        "model": first.model if first else None,
        "year": first.year if first else None,
        "vehicles": [view.to_json() for view in views],
    }


async def read_vehicles(user: AsyncClient) -> list[VehicleView]:
    """Every vehicle the user connected, with its signals, read a few at a time.

    A vehicle whose own read fails (disconnected meanwhile, asleep, …) becomes a row that says
    so; a failure of the platform itself (unreachable, credentials refused) is raised."""
    vehicle_ids: list[str] = []
    async for connection in user.connections.list():
        if connection.vehicle_id not in vehicle_ids:
            vehicle_ids.append(connection.vehicle_id)
    limit = asyncio.Semaphore(VEHICLES_IN_FLIGHT)

    async def read_one(vehicle_id: str) -> VehicleView:
        async with limit:
            details, signals = await asyncio.gather(
                user.vehicles.get(vehicle_id), user.signals.list(vehicle_id), return_exceptions=True
            )
        for outcome in (details, signals):
            if isinstance(outcome, BaseException) and not _vehicle_specific(outcome):
                raise outcome
        if isinstance(details, BaseException):
            return failed_view(vehicle_id, _describe(details))
        if isinstance(signals, BaseException):
            view = failed_view(vehicle_id, _describe(signals), details)
            view.needs_reauthentication = (
                isinstance(signals, ConnectedServicesAccountError) and signals.needs_reauthentication
            )
            return view
        return vehicle_view(details, signals)

    return list(await asyncio.gather(*(read_one(vehicle_id) for vehicle_id in vehicle_ids)))


def _vehicle_specific(failure: BaseException) -> bool:
    """True for an error about one vehicle, false for one about the platform or the app."""
    if not isinstance(failure, ApiError):
        return False
    if isinstance(failure, (AuthenticationError, RateLimitError)):
        return False
    return failure.status_code is None or failure.status_code < 500


def _describe(failure: BaseException) -> str:
    if isinstance(failure, ApiError):
        return failure.suggested_user_message or failure.description or str(failure)
    return str(failure)
