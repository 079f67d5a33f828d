"""Typed views of the common signals, built from a vehicle's signal list.

Each converter takes a :class:`SignalList` and raises the signal's own error (a
``PermissionDeniedError`` when the permission was not granted, a ``CompatibilityError`` when
the vehicle cannot provide it) if its main signal was not read; secondary signals that are
missing only leave their field empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ._models import (
    ChargeStatus,
    Door,
    Fuel,
    Location,
    LockStatus,
    Odometer,
    Range,
    RangeEstimate,
    Signal,
    SignalList,
    SmartcarModel,
    StateOfCharge,
    TirePressure,
    TirePressures,
)

ODOMETER = "odometer-traveleddistance"
LOCATION = "location-preciselocation"
STATE_OF_CHARGE = "tractionbattery-stateofcharge"
BATTERY_RANGE = "tractionbattery-range"
CHARGING_STATUS = "charge-detailedchargingstatus"
IS_CHARGING = "charge-ischarging"
IS_PLUGGED_IN = "charge-ischargingcableconnected"
CHARGE_LIMITS = "charge-chargelimits"
TIME_TO_COMPLETE = "charge-timetocomplete"
FUEL_LEVEL = "internalcombustionengine-fuellevel"
FUEL_AMOUNT = "internalcombustionengine-amountremaining"
FUEL_RANGE = "internalcombustionengine-range"
TIRES = "wheel-tires"
IS_LOCKED = "closure-islocked"
DOORS = "closure-doors"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _body(signal: Signal) -> dict[str, Any]:
    return signal.body or {}


def _optional(signals: SignalList, code: str) -> Signal | None:
    signal = signals.get(code)
    return signal if signal is not None and signal.ok and signal.body is not None else None


def odometer_from(signals: SignalList) -> Odometer:
    """The odometer reading."""
    signal = signals.require(ODOMETER)
    return Odometer(distance=_number(signal.value) or 0.0, unit=signal.unit, signal=signal)


def location_from(signals: SignalList) -> Location:
    """The vehicle's position."""
    signal = signals.require(LOCATION)
    body = _body(signal)
    return Location(
        latitude=_number(body.get("latitude")) or 0.0,
        longitude=_number(body.get("longitude")) or 0.0,
        heading=_number(body.get("heading")),
        direction=body.get("direction") if isinstance(body.get("direction"), str) else None,
        location_type=body.get("locationType") if isinstance(body.get("locationType"), str) else None,
        signal=signal,
    )


def state_of_charge_from(signals: SignalList) -> StateOfCharge:
    """The traction battery's charge in percent."""
    signal = signals.require(STATE_OF_CHARGE)
    return StateOfCharge(percent=_number(signal.value) or 0.0, unit=signal.unit, signal=signal)


def range_from(signals: SignalList) -> Range:
    """The electric range with any further estimates."""
    signal = signals.require(BATTERY_RANGE)
    extra = _body(signal).get("additionalValues")
    estimates = [
        RangeEstimate(type=item.get("type"), value=_number(item.get("value")))
        for item in (extra if isinstance(extra, list) else [])
        if isinstance(item, dict)
    ]
    return Range(
        distance=_number(signal.value) or 0.0, unit=signal.unit, estimates=estimates, signal=signal
    )


def charge_status_from(signals: SignalList) -> ChargeStatus:
    """Charging state, plug, active limit and time to complete."""
    status = signals.require(CHARGING_STATUS)
    charging = _optional(signals, IS_CHARGING)
    plugged = _optional(signals, IS_PLUGGED_IN)
    limits = _optional(signals, CHARGE_LIMITS)
    remaining = _optional(signals, TIME_TO_COMPLETE)
    state = status.value if isinstance(status.value, str) else None
    return ChargeStatus(
        state=state,
        is_charging=_flag(charging.value) if charging else (state == "CHARGING" if state else None),
        is_plugged_in=_flag(plugged.value) if plugged else None,
        charge_limit=_number(_body(limits).get("activeLimit")) if limits else None,
        time_to_complete=_number(remaining.value) if remaining else None,
    )


def fuel_from(signals: SignalList) -> Fuel:
    """Fuel level in percent, amount left and range on fuel."""
    level = signals.require(FUEL_LEVEL)
    amount = _optional(signals, FUEL_AMOUNT)
    reach = _optional(signals, FUEL_RANGE)
    return Fuel(
        percent_remaining=_number(level.value),
        amount_remaining=_number(amount.value) if amount else None,
        amount_unit=amount.unit if amount else None,
        range=_number(reach.value) if reach else None,
        range_unit=reach.unit if reach else None,
    )


_POSITIONS = {(0, 0): "front_left", (0, 1): "front_right", (1, 0): "back_left", (1, 1): "back_right"}


def tire_pressures_from(signals: SignalList) -> TirePressures:
    """Each tyre's pressure; the four usual positions by name."""
    signal = signals.require(TIRES)
    body = _body(signal)
    values = body.get("values")
    tires = [
        TirePressure(
            row=int(item.get("row", 0)),
            column=int(item.get("column", 0)),
            pressure=_number(item.get("tirePressure", item.get("pressure"))),
        )
        for item in (values if isinstance(values, list) else [])
        if isinstance(item, dict)
    ]
    by_name = {
        _POSITIONS[(tire.row, tire.column)]: tire.pressure
        for tire in tires
        if (tire.row, tire.column) in _POSITIONS
    }
    unit = body.get("unit")
    return TirePressures(
        **by_name, unit=unit if isinstance(unit, str) else None, tires=tires
    )


def lock_status_from(signals: SignalList) -> LockStatus:
    """Whether the vehicle is locked, with its doors when reported."""
    locked = signals.require(IS_LOCKED)
    doors_signal = _optional(signals, DOORS)
    values = _body(doors_signal).get("values") if doors_signal else None
    doors = [
        Door.model_validate(item)
        for item in (values if isinstance(values, list) else [])
        if isinstance(item, dict)
    ]
    return LockStatus(is_locked=bool(locked.value), doors=doors)


def single(signal: Signal) -> SignalList:
    """A one-signal list carrying the signal's answer, so the converters serve single reads too."""
    return SignalList(signals=[signal], meta=signal.meta, content=signal._content)


V = TypeVar("V", bound=SmartcarModel)


def typed(convert: Callable[[SignalList], V], signals: SignalList) -> V:
    """``convert(signals)``, carrying the answer's ``meta`` and ``raw``."""
    value = convert(signals)
    value._attach(signals.meta, signals._content)
    return value


def typed_from_signal(convert: Callable[[SignalList], V], signal: Signal) -> V:
    """``convert`` applied to a single signal read on its own."""
    return typed(convert, single(signal))


#: The code of each typed view that one signal is enough for; the others need the list.
SINGLE_SIGNAL_VIEWS: dict[Callable[[SignalList], Any], str] = {
    odometer_from: ODOMETER,
    location_from: LOCATION,
    state_of_charge_from: STATE_OF_CHARGE,
    range_from: BATTERY_RANGE,
    tire_pressures_from: TIRES,
}
