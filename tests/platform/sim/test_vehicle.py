"""Vehicle state and readings: shapes, determinism, and values that agree with each other."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motorpool.platform.sim import geo, plans
from motorpool.platform.sim.catalogue import ModelSpec
from motorpool.platform.sim.signals import SIGNALS, supported_signals
from motorpool.platform.sim.vehicle import (
    COMPATIBILITY_ERROR,
    UNREACHABLE_ERROR,
    last_report_ms,
    new_vehicle_state,
    read_signal,
    read_signals,
    report_interval_ms,
)

from .conftest import ALL_MODELS, DAY, HOUR, MINUTE, T0, body, model
from .shapes import METRIC_UNITS, check

VIN = "5YJ3E1EA7KF317000"

models = st.sampled_from(ALL_MODELS)
seeds = st.integers(min_value=0, max_value=2**48)
later = st.integers(min_value=0, max_value=400 * DAY)


def _units(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["unit"]} if isinstance(node.get("unit"), str) else set()
        return found.union(*(_units(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_units(v) for v in node))
    return set()


@settings(max_examples=150, deadline=None)
@given(spec=models, seed=seeds, elapsed=later)
def test_every_reading_has_its_documented_shape(spec: ModelSpec, seed: int, elapsed: int) -> None:
    state = new_vehicle_state(spec, seed, T0)
    json.loads(json.dumps(state))  # the state is plain JSON
    readings = read_signals(spec, VIN, seed, state, T0 + elapsed)
    assert list(readings) == list(SIGNALS)
    supported = supported_signals(spec)
    for code, reading in readings.items():
        assert reading.oem_updated_at_ms <= T0 + elapsed
        if code in supported:
            assert reading.error is None and reading.body is not None, code
            check(code, reading.body)
            assert _units(reading.body) <= METRIC_UNITS, (code, reading.body)
        else:
            assert reading.body is None and reading.error == COMPATIBILITY_ERROR
    orjson.dumps({code: r.body for code, r in readings.items()})


@settings(max_examples=60, deadline=None)
@given(spec=models, seed=seeds, elapsed=later)
def test_read_signal_agrees_with_read_signals(spec: ModelSpec, seed: int, elapsed: int) -> None:
    state = new_vehicle_state(spec, seed, T0)
    every = read_signals(spec, VIN, seed, state, T0 + elapsed)
    for code in SIGNALS:
        assert read_signal(spec, VIN, seed, state, T0 + elapsed, code) == every[code]


@settings(max_examples=60, deadline=None)
@given(spec=models, seed=seeds, elapsed=later)
def test_same_inputs_same_readings(spec: ModelSpec, seed: int, elapsed: int) -> None:
    first = new_vehicle_state(spec, seed, T0)
    second = new_vehicle_state(spec, seed, T0)
    assert first == second
    assert read_signals(spec, VIN, seed, first, T0 + elapsed) == read_signals(spec, VIN, seed, second, T0 + elapsed)


def test_different_seeds_give_different_vehicles() -> None:
    spec = model("TESLA", "Model Y")
    states = [new_vehicle_state(spec, seed, T0) for seed in range(40)]
    assert len({s["odometer_km"] for s in states}) == 40
    assert len({tuple(s["position"][:2]) for s in states}) > 30
    assert len({s["colour"] for s in states}) > 3 and len({s["city"] for s in states}) > 5
    odometers = {read_signals(spec, VIN, seed, s, T0)["odometer-traveleddistance"].body["value"] for seed, s in enumerate(states)}  # type: ignore[index]
    assert len(odometers) == 40


def test_initial_state_is_plausible(any_model: ModelSpec) -> None:
    for seed in range(25):
        state = new_vehicle_state(any_model, seed, T0)
        city = geo.CITY_BY_KEY[state["city"]]
        assert city.market in any_model.markets
        assert geo.distance_km(city.latitude, city.longitude, *state["home"]) < 15
        assert geo.distance_km(*state["position"][:2], *state["home"]) < 15
        assert 80 <= state["charge_limit"] <= 90
        assert 0 < state["odometer_km"] < 400_000
        assert state["at"] == state["created_at"] == T0 and state["delivered_at"] <= T0
        if any_model.is_plug_in:
            assert 0 <= state["soc"] <= state["charge_limit"]
        else:
            assert state["soc"] is None and not state["plugged"]
        if any_model.has_engine:
            assert 0 < state["fuel_l"] <= any_model.tank_l
        else:
            assert state["fuel_l"] is None and state["oil_life"] is None


def test_overrides_and_model_year() -> None:
    spec = model("HYUNDAI", "Ioniq 5")
    state = new_vehicle_state(spec, 1, T0, soc=12.5, nickname="Ada", locked=False)
    readings = read_signals(spec, VIN, 1, state, T0)
    assert body(readings, "tractionbattery-stateofcharge")["value"] == 12.5
    assert body(readings, "vehicleidentification-nickname") == {"value": "Ada"}
    assert body(readings, "closure-islocked") == {"value": False}
    # The nickname stored with the vehicle, passed in, is the one reported.
    renamed = read_signals(spec, VIN, 1, state, T0, nickname="Grace")
    assert body(renamed, "vehicleidentification-nickname") == {"value": "Grace"}
    assert read_signal(spec, VIN, 1, state, T0, "vehicleidentification-nickname", nickname="").body == {"value": ""}
    old = new_vehicle_state(spec, 1, T0, year=2022)
    new = new_vehicle_state(spec, 1, T0, year=2025)
    assert old["delivered_at"] < new["delivered_at"] and old["odometer_km"] > new["odometer_km"]
    with pytest.raises(ValueError, match="Unknown state key"):
        new_vehicle_state(spec, 1, T0, warp_drive=True)


# --- consistency ----------------------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(spec=models, seed=seeds, elapsed=later)
def test_values_agree_with_each_other(spec: ModelSpec, seed: int, elapsed: int) -> None:
    state = new_vehicle_state(spec, seed, T0)
    r = read_signals(spec, VIN, seed, state, T0 + elapsed)
    supported = supported_signals(spec)
    if "tractionbattery-stateofcharge" in supported:
        soc = body(r, "tractionbattery-stateofcharge")["value"]
        assert 0 <= soc <= 100
        battery_range = body(r, "tractionbattery-range")
        extras = {v["type"]: v["value"] for v in battery_range["additionalValues"]}
        rated_full = spec.batteries[spec.trims[state["trim"]].battery].rated_range_km
        assert extras["RATED"] == pytest.approx(soc / 100 * rated_full, abs=rated_full * 0.0005 + 0.1)
        assert 0 <= battery_range["value"] <= extras["IDEAL_CONDITIONS"] + 0.1
        assert body(r, "charge-ischarging")["value"] == (body(r, "charge-detailedchargingstatus")["value"] == "CHARGING")
        plugged = body(r, "charge-ischargingcableconnected")["value"]
        assert plugged or not body(r, "charge-ischarging")["value"]
        limits = body(r, "charge-chargelimits")
        assert limits["activeLimit"] == (state["charge_limit"] if plugged else None)
        if body(r, "charge-ischarging")["value"]:
            assert soc < state["charge_limit"] + 0.05
            watts = body(r, "charge-wattage")["value"]
            volts, amps = body(r, "charge-voltage")["value"], body(r, "charge-amperage")["value"]
            phases = max(1, body(r, "charge-chargerphases")["value"])
            assert watts > 0 and volts * amps * phases == pytest.approx(watts, rel=0.01)
            assert body(r, "charge-timetocomplete")["value"] > 0
        else:
            assert body(r, "charge-wattage")["value"] == 0 and body(r, "charge-timetocomplete")["value"] == 0
    if "internalcombustionengine-fuellevel" in supported:
        level = body(r, "internalcombustionengine-fuellevel")["value"]
        litres = body(r, "internalcombustionengine-amountremaining")["value"]
        assert litres == pytest.approx(level / 100 * spec.tank_l, abs=0.15)
        assert body(r, "internalcombustionengine-range")["value"] == pytest.approx(litres / spec.l_per_100km * 100, rel=0.01, abs=1)
    locked = body(r, "closure-islocked")["value"]
    assert all(d["isLocked"] == locked for d in body(r, "closure-doors")["values"])
    speed = body(r, "motion-currentspeed")["value"]
    assert (speed > 0) == (body(r, "transmission-gearstate")["value"] == "DRIVE")
    location = body(r, "location-preciselocation")
    home_distance = geo.distance_km(location["latitude"], location["longitude"], *state["home"])
    assert body(r, "location-isathome")["value"] == (home_distance < 0.15)
    if "diagnostics-dtccount" in supported:
        assert body(r, "diagnostics-dtccount")["value"] == len(body(r, "diagnostics-dtclist")["values"])
    if "service-records" in supported:
        odometer = body(r, "odometer-traveleddistance")["value"]
        assert all(rec["odometer"]["value"] <= odometer for rec in body(r, "service-records")["values"])
    if "wheel-tires" in supported:
        pressures = [t["tirePressure"] for t in body(r, "wheel-tires")["values"]]
        assert all(150 < p < 400 for p in pressures), pressures
    low_voltage = body(r, "lowvoltagebattery-stateofcharge")["value"]
    status = body(r, "lowvoltagebattery-status")["value"]
    assert 0 <= low_voltage <= 100
    assert (status == "BAD") == (low_voltage < 35)
    assert status != "GOOD" or low_voltage >= 60


def _parked(spec: ModelSpec, seed: int, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"plugged": False, "charger": None, "activity": {"kind": "parked"}}
    if spec.is_plug_in:
        values["soc"] = 60.0
    return new_vehicle_state(spec, seed, T0, **values, **extra)


@settings(max_examples=80, deadline=None)
@given(spec=models, seed=seeds, first=later, gap=later)
def test_time_only_moves_a_parked_car_one_way(spec: ModelSpec, seed: int, first: int, gap: int) -> None:
    state = _parked(spec, seed)
    a = read_signals(spec, VIN, seed, state, T0 + first)
    b = read_signals(spec, VIN, seed, state, T0 + first + gap)
    assert body(b, "odometer-traveleddistance")["value"] >= body(a, "odometer-traveleddistance")["value"]
    assert body(b, "location-preciselocation") == body(a, "location-preciselocation") | {
        "locationType": body(b, "location-preciselocation")["locationType"]
    }, "a parked car stays where it was parked"
    assert b["odometer-traveleddistance"].oem_updated_at_ms >= a["odometer-traveleddistance"].oem_updated_at_ms
    if spec.is_plug_in:
        soc_a = body(a, "tractionbattery-stateofcharge")["value"]
        soc_b = body(b, "tractionbattery-stateofcharge")["value"]
        assert soc_b <= soc_a
        days = (b["tractionbattery-stateofcharge"].oem_updated_at_ms - a["tractionbattery-stateofcharge"].oem_updated_at_ms) / DAY
        battery = spec.batteries[spec.trims[state["trim"]].battery]
        # At most ~4 kWh a day (standby plus camera watch), and never below the deep-sleep floor.
        assert soc_a - soc_b <= days * 4.0 / battery.usable_kwh * 100 + 0.11
        assert soc_b >= min(soc_a, 5.0) - 0.05
    assert body(b, "lowvoltagebattery-stateofcharge")["value"] <= body(a, "lowvoltagebattery-stateofcharge")["value"] + 0.05


def test_a_parked_electric_car_loses_a_little_charge_each_day() -> None:
    spec = model("VOLKSWAGEN", "ID.4")
    state = _parked(spec, 4, surveillance_enabled=False)
    socs = [body(read_signals(spec, VIN, 4, state, T0 + d * DAY), "tractionbattery-stateofcharge")["value"] for d in range(0, 31, 5)]
    drops = [a - b for a, b in pairwise(socs)]
    assert all(0.1 < d < 5.0 for d in drops), "under 1 % a day, five days apart"
    assert socs[-1] > 40


def test_a_parked_petrol_cars_12v_battery_runs_down_and_ages() -> None:
    spec = model("TOYOTA", "Camry")
    state = new_vehicle_state(spec, 9, T0, lv_soc=95.0, lv_drain_pct_day=0.5, lv_installed_at=T0)
    levels = [body(read_signals(spec, VIN, 9, state, T0 + d * DAY), "lowvoltagebattery-stateofcharge")["value"] for d in (0, 30, 90)]
    assert levels[0] > levels[1] > levels[2]
    statuses = [body(read_signals(spec, VIN, 9, state, T0 + d * DAY), "lowvoltagebattery-status")["value"] for d in (0, 90, 200)]
    assert statuses == ["GOOD", "WARN", "BAD"]
    aged = new_vehicle_state(spec, 9, T0, lv_soc=95.0, lv_installed_at=T0 - 7 * 365 * DAY)
    reading = read_signals(spec, VIN, 9, aged, T0)
    assert body(reading, "lowvoltagebattery-stateofcharge")["value"] <= 65.1, "an old battery holds less"
    assert body(reading, "lowvoltagebattery-status")["value"] == "WARN"


def test_range_follows_state_of_charge() -> None:
    spec = model("TESLA", "Model 3")
    ranges = []
    for soc in (10.0, 40.0, 80.0):
        readings = read_signals(spec, VIN, 2, _parked(spec, 2) | {"soc": soc}, T0)
        ranges.append(body(readings, "tractionbattery-range")["value"])
    assert ranges[0] < ranges[1] < ranges[2]
    assert ranges[2] == pytest.approx(ranges[0] * 8, rel=0.01)


def test_cold_weather_shortens_the_estimate_but_not_the_rating() -> None:
    spec = model("KIA", "EV6")
    place = {"city": "oslo", "home": [59.91, 10.75], "position": [59.91, 10.75, 0.0], "soc": 60.0,
             "plugged": False, "charger": None, "activity": {"kind": "parked"}}
    winter, summer = T0 - 130 * DAY, T0 + 55 * DAY  # mid-January, late July
    cold = body(read_signals(spec, VIN, 5, new_vehicle_state(spec, 5, winter, **place), winter), "tractionbattery-range")
    warm = body(read_signals(spec, VIN, 5, new_vehicle_state(spec, 5, summer, **place), summer), "tractionbattery-range")
    assert cold["value"] < 0.9 * warm["value"]
    rated = [{v["type"]: v["value"] for v in r["additionalValues"]}["RATED"] for r in (cold, warm)]
    assert rated[0] == rated[1]


def test_outside_temperature_follows_season_and_time_of_day() -> None:
    oslo, austin = geo.CITY_BY_KEY["oslo"], geo.CITY_BY_KEY["austin"]
    january = 1_768_000_000_000  # 2026-01-09
    july = january + 190 * DAY
    assert geo.outside_temperature(oslo, january) < geo.outside_temperature(oslo, july)
    assert geo.outside_temperature(oslo, july) < geo.outside_temperature(austin, july)
    # Mid-afternoon is warmer than before dawn on the same day (local time).
    dawn = january - january % DAY + int((5 - austin.utc_offset_h) * HOUR)
    afternoon = dawn + 10 * HOUR
    assert geo.outside_temperature(austin, afternoon) > geo.outside_temperature(austin, dawn)
    values = [geo.outside_temperature(oslo, january + k * 10 * MINUTE) for k in range(200)]
    assert max(abs(a - b) for a, b in pairwise(values)) < 1.0, "no jumps between readings"


# --- reporting: sleep and connectivity ------------------------------------------------------


def test_an_idle_car_falls_asleep_and_reports_on_heartbeats() -> None:
    spec = model("TESLA", "Model Y")
    state = _parked(spec, 8)
    awake = read_signals(spec, VIN, 8, state, T0 + 5 * MINUTE)
    assert body(awake, "connectivitystatus-isasleep") == {"value": False}
    assert awake["tractionbattery-stateofcharge"].oem_updated_at_ms == T0 + 5 * MINUTE
    asleep_at = T0 + spec.sleep_after_ms
    later_now = asleep_at + spec.heartbeat_ms + 37 * MINUTE
    asleep = read_signals(spec, VIN, 8, state, later_now)
    assert body(asleep, "connectivitystatus-isasleep") == {"value": True}
    assert asleep["connectivitystatus-isasleep"].oem_updated_at_ms == later_now
    assert asleep["tractionbattery-stateofcharge"].oem_updated_at_ms == asleep_at + spec.heartbeat_ms
    assert last_report_ms(spec, state, later_now) == asleep_at + spec.heartbeat_ms
    assert body(asleep, "location-preciselocation")["locationType"] == "LAST_PARKED"
    # Between heartbeats the values do not change.
    again = read_signals(spec, VIN, 8, state, later_now + 10 * MINUTE)
    assert body(again, "tractionbattery-stateofcharge") == body(asleep, "tractionbattery-stateofcharge")


def test_an_offline_car_answers_with_its_last_values_and_an_error() -> None:
    spec = model("FORD", "F-150")
    state = plans.set_online(spec, 3, _parked(spec, 3), T0 + HOUR, online=False)
    readings = read_signals(spec, VIN, 3, state, T0 + 3 * DAY)
    odometer = readings["odometer-traveleddistance"]
    assert odometer.error == UNREACHABLE_ERROR and odometer.body is not None
    assert odometer.oem_updated_at_ms <= T0 + HOUR
    assert readings["connectivitystatus-isonline"].body == {"value": False}
    assert readings["connectivitystatus-isonline"].error is None
    back = plans.set_online(spec, 3, state, T0 + 3 * DAY, online=True)
    fresh = read_signals(spec, VIN, 3, back, T0 + 3 * DAY + MINUTE)
    assert fresh["odometer-traveleddistance"].error is None
    assert fresh["odometer-traveleddistance"].oem_updated_at_ms == T0 + 3 * DAY + MINUTE


def test_report_interval_follows_the_activity() -> None:
    spec = model("BMW", "i4")
    parked = _parked(spec, 1)
    driving = plans.start_trip(spec, 1, parked, T0, 40.0, -105.0)
    plugged = plans.plug_in(spec, 1, parked, T0, start=True)
    assert report_interval_ms(driving) < report_interval_ms(plugged) < report_interval_ms(parked)


def test_readings_before_the_last_change_are_not_from_the_future() -> None:
    spec = model("HONDA", "Civic")
    state = new_vehicle_state(spec, 1, T0)
    for code, reading in read_signals(spec, VIN, 1, state, T0 - 30_000).items():
        assert reading.oem_updated_at_ms <= T0 - 30_000, code


def test_pinned_signal_overrides_the_physics() -> None:
    spec = model("TOYOTA", "Prius")
    state = plans.set_signal(spec, 1, _parked(spec, 1), T0 + MINUTE, "odometer-traveleddistance", {"unit": "km", "value": 7.0})
    readings = read_signals(spec, VIN, 1, state, T0 + 2 * MINUTE)
    assert body(readings, "odometer-traveleddistance") == {"unit": "km", "value": 7.0}
    assert read_signal(spec, VIN, 1, state, T0 + 2 * MINUTE, "odometer-traveleddistance").body == {"unit": "km", "value": 7.0}
    cleared = plans.set_signal(spec, 1, state, T0 + 3 * MINUTE, "odometer-traveleddistance", None)
    assert body(read_signals(spec, VIN, 1, cleared, T0 + 4 * MINUTE), "odometer-traveleddistance")["value"] > 7.0


def test_histories_are_plausible() -> None:
    spec = model("HYUNDAI", "Ioniq 5")
    for seed in range(10):
        state = new_vehicle_state(spec, seed, T0)
        r = read_signals(spec, VIN, seed, state, T0)
        records = body(r, "charge-chargerecords")["values"]
        assert 3 <= len(records) <= 7
        ends = [rec["endTime"] for rec in records]
        assert ends == sorted(ends) and ends[-1] < "2026-05-28T20:26:40Z"
        for earlier, following in pairwise(records):
            assert earlier["endTime"] <= following["startTime"], "sessions do not overlap"
        for rec in records:
            battery = spec.batteries[spec.trims[state["trim"]].battery]
            expected = (rec["endStateOfCharge"] - rec["startStateOfCharge"]) / 100 * battery.usable_kwh
            assert rec["energyAdded"] == pytest.approx(expected, abs=battery.usable_kwh * 0.001 + 0.01)
            assert rec["cost"]["energyAmount"] > 0
        services = body(r, "service-records")["values"]
        odometers = [s["odometer"]["value"] for s in services]
        assert odometers == sorted(odometers)


def test_timing_is_fast_enough_for_the_read_path() -> None:
    import timeit

    spec = model("TESLA", "Model 3")
    state = new_vehicle_state(spec, 7, T0)
    read_signals(spec, VIN, 7, state, T0)
    per_call = min(timeit.repeat(lambda: read_signals(spec, VIN, 7, state, T0 + HOUR), number=200, repeat=3)) / 200
    assert per_call < 1e-3, f"read_signals took {per_call * 1e6:.0f} µs"
