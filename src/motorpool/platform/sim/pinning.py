"""What a pinned signal may be: a code of the catalogue and a body of its shape, in its metric
unit, within its range. A pin that breaks these would make the car report what no car can."""

from __future__ import annotations

import difflib
import math
from typing import Any

from .signals import SIGNALS

#: Units whose values are never negative.
_NON_NEGATIVE = frozenset({"percent", "km", "kWh", "liters", "minutes", "count", "kPa", "volts"})


def pin_problem(code: str, body: dict[str, Any] | None) -> str | None:
    """Why ``body`` cannot be pinned as signal ``code`` (None: it can; a None body un-pins)."""
    signal = SIGNALS.get(code)
    if signal is None:
        close = difflib.get_close_matches(code, SIGNALS, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        return f"'{code}' is not a signal code (codes are group-name in lower case, e.g. tractionbattery-stateofcharge).{hint}"
    if body is None:
        return None
    if signal.kind == "values":
        if not isinstance(body.get("values"), list):
            return f"{code} takes a body with a list of values: {{\"values\": [...]}}."
        return None
    if signal.kind == "object":
        return None
    if "value" not in body:
        return f"{code} takes a body with a value: {{\"value\": ...}}."
    if signal.kind != "unit":
        return None
    value = body["value"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"{code}'s value is a number of {signal.unit}, not {value!r}."
    unit = body.get("unit")
    if unit is not None and unit != signal.unit:
        return f"{code} is pinned in {signal.unit} (metric), not {unit!r}; reads convert it."
    if signal.unit == "percent" and not 0 <= value <= 100:
        return f"{code} is a percentage: from 0 to 100, not {value:g}."
    if signal.unit in _NON_NEGATIVE and value < 0:
        return f"{code} is never negative ({signal.unit}), not {value:g}."
    return None
