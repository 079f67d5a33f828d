"""Metric → imperial conversion of signal bodies (``SC-Unit-System: imperial``).

Distances, speeds, volumes, temperatures and pressures convert; everything else (percent, kWh,
volts, ampere, watts, counts, minutes) stays. Bodies are never modified in place: a converted
body is a new object, and parts that need no conversion are shared with the original."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .signals import SIGNALS

KM_PER_MILE = 1.609344
LITERS_PER_GALLON = 3.785411784  # US gallon
KPA_PER_PSI = 6.894757293168

Converter = Callable[[float], float]


def _km_to_miles(v: float) -> float:
    return round(v / KM_PER_MILE, 1)


def _liters_to_gallons(v: float) -> float:
    return round(v / LITERS_PER_GALLON, 2)


def _celsius_to_fahrenheit(v: float) -> float:
    return round(v * 9.0 / 5.0 + 32.0, 1)


def _kpa_to_psi(v: float) -> float:
    return round(v / KPA_PER_PSI, 1)


#: metric unit → (imperial unit, conversion)
CONVERSIONS: dict[str, tuple[str, Converter]] = {
    "km": ("miles", _km_to_miles),
    "kph": ("mph", _km_to_miles),
    "liters": ("gallons", _liters_to_gallons),
    "celsius": ("fahrenheit", _celsius_to_fahrenheit),
    "kPa": ("psi", _kpa_to_psi),
}

#: Numeric fields that carry the body's unit besides ``value``.
_MEASURED_FIELDS = ("value", "tirePressure")


def _convert(node: Any) -> Any:
    if isinstance(node, dict):
        conversion = CONVERSIONS.get(node.get("unit"))  # type: ignore[arg-type]
        converted: dict[str, Any] | None = None
        if conversion is not None:
            unit, convert = conversion
            converted = dict(node)
            converted["unit"] = unit
            for key in _MEASURED_FIELDS:
                number = node.get(key)
                if isinstance(number, (int, float)) and not isinstance(number, bool):
                    converted[key] = convert(number)
            for key in ("additionalValues", "values"):
                items = node.get(key)
                if isinstance(items, list):
                    converted[key] = [_with_unit(item, convert) for item in items]
            return converted
        for key, child in node.items():
            if isinstance(child, (dict, list)):
                new_child = _convert(child)
                if new_child is not child:
                    if converted is None:
                        converted = dict(node)
                    converted[key] = new_child
        return node if converted is None else converted
    if isinstance(node, list):
        items = [_convert(item) for item in node]
        return node if all(a is b for a, b in zip(items, node)) else items
    return node


def _with_unit(item: Any, convert: Converter) -> Any:
    """An entry of a list governed by its parent's unit (range estimates, tyres)."""
    if not isinstance(item, dict):
        return item
    changed = {key: convert(item[key]) for key in _MEASURED_FIELDS if isinstance(item.get(key), (int, float)) and not isinstance(item.get(key), bool)}
    return {**item, **changed} if changed else item


def to_imperial(code: str, body: dict[str, Any] | None) -> dict[str, Any] | None:
    """The body in imperial units; a body with nothing to convert is returned as it is."""
    if body is None:
        return None
    signal = SIGNALS.get(code)
    if signal is not None and signal.unit not in CONVERSIONS:
        return body  # percent, kWh, volts, counts, flags, texts: the same in both systems
    return _convert(body)  # type: ignore[no-any-return]
