from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motorpool.platform.sim.catalogue import ModelSpec
from motorpool.platform.sim.units import to_imperial
from motorpool.platform.sim.vehicle import new_vehicle_state, read_signals

from .conftest import ALL_MODELS, T0
from .shapes import IMPERIAL_UNITS, METRIC_UNITS, check


@pytest.mark.parametrize(
    ("code", "metric", "imperial"),
    [
        ("odometer-traveleddistance", {"unit": "km", "value": 160.9344}, {"unit": "miles", "value": 100.0}),
        ("motion-currentspeed", {"unit": "kph", "value": 100.0}, {"unit": "mph", "value": 62.1}),
        ("internalcombustionengine-amountremaining", {"unit": "liters", "value": 37.85}, {"unit": "gallons", "value": 10.0}),
        ("climate-externaltemperature", {"unit": "celsius", "value": -40.0}, {"unit": "fahrenheit", "value": -40.0}),
        ("climate-internaltemperature", {"unit": "celsius", "value": 100.0}, {"unit": "fahrenheit", "value": 212.0}),
        ("tractionbattery-stateofcharge", {"unit": "percent", "value": 55.5}, {"unit": "percent", "value": 55.5}),
        ("charge-voltage", {"unit": "volts", "value": 240.0}, {"unit": "volts", "value": 240.0}),
        ("charge-energyadded", {"unit": "kWh", "value": 12.3}, {"unit": "kWh", "value": 12.3}),
        ("closure-islocked", {"value": True}, {"value": True}),
    ],
)
def test_conversions(code: str, metric: dict[str, object], imperial: dict[str, object]) -> None:
    assert to_imperial(code, metric) == imperial


def test_nested_values_convert() -> None:
    battery_range = {"unit": "km", "value": 321.9, "type": "ESTIMATED",
                     "additionalValues": [{"type": "RATED", "value": 402.3}]}
    assert to_imperial("tractionbattery-range", battery_range) == {
        "unit": "miles", "value": 200.0, "type": "ESTIMATED", "additionalValues": [{"type": "RATED", "value": 250.0}],
    }
    tyres = {"values": [{"row": 0, "column": 0, "tirePressure": 275.8}], "rowCount": 1, "columnCount": 1, "unit": "kPa"}
    assert to_imperial("wheel-tires", tyres)["values"][0]["tirePressure"] == 40.0  # type: ignore[index]
    records = {"values": [{"id": "s1", "odometer": {"unit": "km", "value": 16093.4}}]}
    assert to_imperial("service-records", records) == {"values": [{"id": "s1", "odometer": {"unit": "miles", "value": 10000.0}}]}
    assert to_imperial("x", None) is None


@settings(max_examples=60, deadline=None)
@given(spec=st.sampled_from(ALL_MODELS), seed=st.integers(0, 2**40), elapsed=st.integers(0, 10**10))
def test_imperial_bodies_keep_their_shape_and_leave_the_original_alone(spec: ModelSpec, seed: int, elapsed: int) -> None:
    state = new_vehicle_state(spec, seed, T0)
    for code, reading in read_signals(spec, "VIN", seed, state, T0 + elapsed).items():
        if reading.body is None:
            continue
        before = copy.deepcopy(reading.body)
        converted = to_imperial(code, reading.body)
        assert reading.body == before, "converted a copy, not the original"
        assert converted is not None
        check(code, converted)
        text = repr(converted)
        assert not any(f"'{unit}'" in text for unit in ("km", "kph", "liters", "celsius", "kPa")), (code, converted)
        if "unit" in converted:
            assert converted["unit"] in METRIC_UNITS | IMPERIAL_UNITS
