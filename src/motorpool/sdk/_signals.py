"""The clients' side of the typed signal views: a view read from a single signal or from a
list, carrying the answer's ``meta`` and ``raw``. The converters themselves live in
:mod:`._models`, beside :class:`SignalList` and the values they build.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ._models import (
    BATTERY_RANGE,
    LOCATION,
    ODOMETER,
    STATE_OF_CHARGE,
    TIRES,
    Signal,
    SignalList,
    SmartcarModel,
    location_from,
    odometer_from,
    range_from,
    state_of_charge_from,
    tire_pressures_from,
)


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
