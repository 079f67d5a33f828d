"""Living vehicles: charging sessions, trips, sleep — and random plans that must keep the physics honest."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motorpool.platform.sim import geo, plans
from motorpool.platform.sim.catalogue import ModelSpec
from motorpool.platform.sim.plans import SimulationRefused
from motorpool.platform.sim.vehicle import (
    battery_of,
    evolve,
    new_vehicle_state,
    public_dc_charger,
    read_signals,
)

from .conftest import ALL_MODELS, DAY, HOUR, MINUTE, T0, body, model

VIN = "WVGZZZE2ZMP000000"


def _parked(spec: ModelSpec, seed: int, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"plugged": False, "charger": None, "activity": {"kind": "parked"}, "locked": True}
    if spec.is_plug_in:
        values["soc"] = 30.0
    values.update(extra)
    return new_vehicle_state(spec, seed, T0, **values)


def _refused(code: str, call: Any, *args: Any) -> SimulationRefused:
    with pytest.raises(SimulationRefused) as caught:
        call(*args)
    assert caught.value.code == code, caught.value
    return caught.value


# --- charging -------------------------------------------------------------------------------


def test_plug_in_start_charging_advance_two_hours() -> None:
    spec = model("VOLKSWAGEN", "ID.4")
    state = _parked(spec, 1, soc=40.0, charge_limit=80, trim=1)  # 77 kWh
    state = plans.plug_in(spec, 1, state, T0, plans.ac_charger(spec, "EU", 11.0))
    state = plans.start_charging(spec, 1, state, T0 + MINUTE)
    r = read_signals(spec, VIN, 1, state, T0 + MINUTE + 2 * HOUR)
    # 11 kW × 0.9 × 2 h = 19.8 kWh into a 77 kWh battery: +25.7 points.
    assert body(r, "tractionbattery-stateofcharge")["value"] == pytest.approx(65.7, abs=0.1)
    assert body(r, "charge-energyadded")["value"] == pytest.approx(19.8, abs=0.05)
    assert body(r, "charge-ischarging") == {"value": True}
    assert body(r, "charge-detailedchargingstatus") == {"value": "CHARGING"}
    minutes = body(r, "charge-timetocomplete")["value"]
    assert minutes == pytest.approx((80 - 65.7) / 100 * 77 / 9.9 * 60, abs=2)
    assert body(r, "charge-chargerate")["value"] == pytest.approx(9.9 / 17.5 * 100, abs=0.5)
    full = read_signals(spec, VIN, 1, state, T0 + 6 * HOUR)
    assert body(full, "tractionbattery-stateofcharge")["value"] == 80.0
    assert body(full, "charge-detailedchargingstatus") == {"value": "FULLY_CHARGED"}
    assert body(full, "charge-ischarging") == {"value": False} and body(full, "charge-wattage")["value"] == 0
    assert body(full, "charge-energyadded")["value"] == pytest.approx(0.4 * 77, abs=0.05)


def test_the_finished_session_becomes_a_charge_record() -> None:
    spec = model("TESLA", "Model 3")
    state = plans.plug_in(spec, 2, _parked(spec, 2, soc=50.0, charge_limit=80), T0, start=True)
    before = body(read_signals(spec, VIN, 2, state, T0 + MINUTE), "charge-chargerecords")["values"]
    after_full = body(read_signals(spec, VIN, 2, state, T0 + 12 * HOUR), "charge-chargerecords")["values"]
    assert len(after_full) == len(before) + 1
    record = after_full[-1]
    assert (record["startStateOfCharge"], record["endStateOfCharge"]) == (50.0, 80.0)
    unplugged = plans.unplug(spec, 2, state, T0 + 12 * HOUR)
    kept = body(read_signals(spec, VIN, 2, unplugged, T0 + 13 * HOUR), "charge-chargerecords")["values"]
    assert kept[-1] == record, "folding the session keeps the same record"
    assert len(kept) == len(after_full)


def test_dc_fast_charging_tapers() -> None:
    spec = model("HYUNDAI", "Ioniq 5")
    state = _parked(spec, 3, soc=10.0, trim=1)
    state = plans.set_charge_limit(spec, 3, state, T0, 100)
    state = plans.plug_in(spec, 3, state, T0, public_dc_charger(spec, "NA", 350.0, "Electrify America"), start=True)
    powers = {}
    elapsed = 0
    while True:
        r = read_signals(spec, VIN, 3, state, T0 + elapsed)
        soc = body(r, "tractionbattery-stateofcharge")["value"]
        if not body(r, "charge-ischarging")["value"]:
            break
        powers[soc] = body(r, "charge-wattage")["value"]
        assert body(r, "charge-isfastchargerpresent") == {"value": True}
        assert body(r, "charge-voltage")["value"] > 600, "an 800 V car"
        elapsed += MINUTE
    assert soc == 100.0
    at_half = max(w for s, w in powers.items() if s <= 50)
    late = [w for s, w in powers.items() if s >= 85]
    assert at_half == pytest.approx(235_000, rel=0.01), "peak power up to half"
    assert late and max(late) < 0.5 * at_half
    ten_to_eighty = min(t for t, s in _times(spec, state, 3) if s >= 80)
    assert 12 * MINUTE < ten_to_eighty < 30 * MINUTE


def _times(spec: ModelSpec, state: dict[str, Any], seed: int) -> list[tuple[int, float]]:
    return [(t, evolve(spec, state, T0 + t).soc or 0.0) for t in range(0, 2 * HOUR, MINUTE)]


def test_charging_refusals() -> None:
    spec = model("KIA", "EV6")
    parked = _parked(spec, 4, soc=50.0, charge_limit=80)
    _refused("CHARGING_PLUG_NOT_CONNECTED", plans.start_charging, spec, 4, parked, T0)
    _refused("NOT_CHARGING", plans.stop_charging, spec, 4, parked, T0)
    charging = plans.plug_in(spec, 4, parked, T0, plans.ac_charger(spec, "NA", 7.2), start=True)
    _refused("CHARGING_IN_PROGRESS", plans.start_charging, spec, 4, charging, T0 + MINUTE)
    stopped = plans.stop_charging(spec, 4, charging, T0 + HOUR)
    assert body(read_signals(spec, VIN, 4, stopped, T0 + 2 * HOUR), "charge-detailedchargingstatus") == {"value": "NOT_CHARGING"}
    full = plans.plug_in(spec, 4, _parked(spec, 4, soc=80.0, charge_limit=80), T0)
    _refused("FULLY_CHARGED", plans.start_charging, spec, 4, full, T0)
    petrol = model("TOYOTA", "Camry")
    refusal = _refused("VEHICLE_NOT_CAPABLE", plans.start_charging, petrol, 4, _parked(petrol, 4), T0)
    assert refusal.type == "COMPATIBILITY"
    with pytest.raises(ValueError):
        plans.set_charge_limit(spec, 4, parked, T0, 45)


def test_lowering_the_limit_ends_the_session() -> None:
    spec = model("FORD", "Mustang Mach-E")
    state = plans.plug_in(spec, 5, _parked(spec, 5, soc=60.0, charge_limit=90), T0, start=True)
    state = plans.set_charge_limit(spec, 5, state, T0 + 10 * MINUTE, 60)
    r = read_signals(spec, VIN, 5, state, T0 + 11 * MINUTE)
    assert body(r, "charge-ischarging") == {"value": False}
    assert body(r, "charge-detailedchargingstatus") == {"value": "FULLY_CHARGED"}
    assert body(r, "charge-chargelimits")["values"][0]["limit"] == 60


# --- driving --------------------------------------------------------------------------------


def test_a_trip_moves_the_car_and_parks_it_at_the_destination() -> None:
    spec = model("TOYOTA", "Camry")
    state = _parked(spec, 6, fuel_l=50.0)
    lat, lon, _ = state["position"]
    destination = geo.offset(lat, lon, 12.0, 9.0)
    trip = plans.start_trip(spec, 6, state, T0, *destination)
    straight = geo.distance_km(lat, lon, *destination)
    start = read_signals(spec, VIN, 6, trip, T0)
    odometer0 = body(start, "odometer-traveleddistance")["value"]
    last = odometer0
    seen_moving = False
    for minute in range(0, 90, 3):
        r = read_signals(spec, VIN, 6, trip, T0 + minute * MINUTE)
        odometer = body(r, "odometer-traveleddistance")["value"]
        assert odometer >= last
        last = odometer
        speed = body(r, "motion-currentspeed")["value"]
        if speed > 0:
            seen_moving = True
            assert body(r, "transmission-gearstate") == {"value": "DRIVE"}
            assert 20 < speed < 100
            here = body(r, "location-preciselocation")
            # Never wanders far from the straight line between the two ends.
            assert geo.distance_km(here["latitude"], here["longitude"], lat, lon) < straight * 1.2
    assert seen_moving
    end = read_signals(spec, VIN, 6, trip, T0 + 2 * HOUR)
    here = body(end, "location-preciselocation")
    assert geo.distance_km(here["latitude"], here["longitude"], *destination) < 0.01
    assert body(end, "motion-currentspeed")["value"] == 0 and body(end, "transmission-gearstate") == {"value": "PARK"}
    driven = body(end, "odometer-traveleddistance")["value"] - odometer0
    assert straight * 1.1 < driven < straight * 1.4
    used = 50.0 - body(end, "internalcombustionengine-amountremaining")["value"]
    assert used == pytest.approx(driven * spec.l_per_100km / 100, rel=0.3)


def test_an_electric_car_that_runs_flat_stops_short() -> None:
    spec = model("NISSAN", "Leaf")
    state = _parked(spec, 7, soc=10.0, trim=0)
    lat, lon, _ = state["position"]
    destination = geo.offset(lat, lon, 200.0, 0.0)
    trip = plans.start_trip(spec, 7, state, T0, *destination, speed_kph=90.0)
    end = read_signals(spec, VIN, 7, trip, T0 + 10 * HOUR)
    assert body(end, "tractionbattery-stateofcharge")["value"] == 0.0
    here = body(end, "location-preciselocation")
    assert geo.distance_km(here["latitude"], here["longitude"], *destination) > 150
    assert body(end, "motion-currentspeed")["value"] == 0


def test_a_phev_drives_on_electricity_first() -> None:
    spec = model("TOYOTA", "RAV4 Prime")
    state = _parked(spec, 8, soc=100.0, fuel_l=40.0, charge_limit=100)
    lat, lon, _ = state["position"]
    trip = plans.start_trip(spec, 8, state, T0, *geo.offset(lat, lon, 0.0, 80.0), speed_kph=70.0)
    early = read_signals(spec, VIN, 8, trip, T0 + 20 * MINUTE)
    assert body(early, "tractionbattery-stateofcharge")["value"] < 100
    assert body(early, "internalcombustionengine-amountremaining")["value"] == 40.0
    late = read_signals(spec, VIN, 8, trip, T0 + 3 * HOUR)
    assert body(late, "tractionbattery-stateofcharge")["value"] == 0.0
    assert body(late, "internalcombustionengine-amountremaining")["value"] < 40.0


def test_locking_while_driving_is_refused() -> None:
    spec = model("BMW", "3 Series")
    state = _parked(spec, 9)
    lat, lon, _ = state["position"]
    trip = plans.start_trip(spec, 9, state, T0, *geo.offset(lat, lon, 5.0, 5.0))
    _refused("IN_MOTION", plans.set_locked, spec, 9, trip, T0 + MINUTE, False)
    unlocked = plans.set_locked(spec, 9, state, T0 + MINUTE, False)
    assert body(read_signals(spec, VIN, 9, unlocked, T0 + 2 * MINUTE), "closure-islocked") == {"value": False}


def test_sleep_and_wake() -> None:
    spec = model("VOLVO", "XC40 Recharge")
    state = plans.sleep(spec, 1, _parked(spec, 1), T0 + MINUTE)
    r = read_signals(spec, VIN, 1, state, T0 + 2 * HOUR)
    assert body(r, "connectivitystatus-isasleep") == {"value": True}
    assert r["odometer-traveleddistance"].oem_updated_at_ms == T0 + MINUTE
    woken = plans.wake(spec, 1, state, T0 + 2 * HOUR)
    fresh = read_signals(spec, VIN, 1, woken, T0 + 2 * HOUR + MINUTE)
    assert body(fresh, "connectivitystatus-isasleep") == {"value": False}
    assert fresh["odometer-traveleddistance"].oem_updated_at_ms == T0 + 2 * HOUR + MINUTE
    charging = plans.plug_in(spec, 1, _parked(spec, 1), T0, start=True)
    _refused("CHARGING_IN_PROGRESS", plans.sleep, spec, 1, charging, T0 + MINUTE)


# --- random plans ---------------------------------------------------------------------------

trips = st.tuples(st.just("trip"), st.tuples(st.floats(-60, 60), st.floats(-60, 60), st.one_of(st.none(), st.floats(10, 130))))
# Plugging in mostly starts a session, and trips come often, so that plans spend time doing things.
operations = st.one_of(
    st.tuples(st.just("plug_ac"), st.booleans()),
    st.tuples(st.just("plug_ac"), st.just(True)),
    st.tuples(st.just("plug_dc"), st.tuples(st.sampled_from([50.0, 150.0, 350.0]), st.booleans())),
    st.tuples(st.just("plug_dc"), st.tuples(st.sampled_from([50.0, 150.0, 350.0]), st.just(True))),
    trips,
    trips,
    st.tuples(st.just("unplug"), st.none()),
    st.tuples(st.just("start"), st.none()),
    st.tuples(st.just("stop"), st.none()),
    st.tuples(st.just("limit"), st.integers(50, 100)),
    st.tuples(st.just("lock"), st.booleans()),
    st.tuples(st.just("sleep"), st.none()),
    st.tuples(st.just("wake"), st.none()),
    st.tuples(st.just("online"), st.booleans()),
)
steps = st.lists(st.tuples(operations, st.integers(0, 8 * HOUR)), max_size=12)


def _apply(spec: ModelSpec, seed: int, state: dict[str, Any], now: int, op: str, arg: Any) -> dict[str, Any]:
    city = geo.CITY_BY_KEY[state["city"]]
    if op == "plug_ac":
        return plans.plug_in(spec, seed, state, now, start=arg)
    if op == "plug_dc":
        kw, start = arg
        return plans.plug_in(spec, seed, state, now, public_dc_charger(spec, city.market, kw), start=start)
    if op == "unplug":
        return plans.unplug(spec, seed, state, now)
    if op == "start":
        return plans.start_charging(spec, seed, state, now)
    if op == "stop":
        return plans.stop_charging(spec, seed, state, now)
    if op == "limit":
        return plans.set_charge_limit(spec, seed, state, now, arg)
    if op == "trip":
        north, east, speed = arg
        lat, lon = geo.offset(state["position"][0], state["position"][1], north, east)
        return plans.start_trip(spec, seed, state, now, lat, lon, speed)
    if op == "lock":
        return plans.set_locked(spec, seed, state, now, arg)
    if op == "sleep":
        return plans.sleep(spec, seed, state, now)
    if op == "wake":
        return plans.wake(spec, seed, state, now)
    return plans.set_online(spec, seed, state, now, arg)


def _history(spec: ModelSpec, seed: int, plan: list[tuple[tuple[str, Any], int]]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """Apply a plan, sampling the vehicle between changes: (time, readings' bodies, state)."""
    state = new_vehicle_state(spec, seed, T0)
    now = T0
    samples = []
    for (op, arg), wait in plan:
        for fraction in (0.25, 0.5, 1.0):
            t = now + int(wait * fraction)
            samples.append((t, {c: r.body for c, r in read_signals(spec, VIN, seed, state, t).items()}, state))
        now += wait
        try:
            state = _apply(spec, seed, state, now, op, arg)
        except SimulationRefused:
            pass
    samples.append((now + DAY, {c: r.body for c, r in read_signals(spec, VIN, seed, state, now + DAY).items()}, state))
    return samples


@settings(max_examples=80, deadline=None)
@given(spec=st.sampled_from(ALL_MODELS), seed=st.integers(0, 2**32), plan=steps)
def test_random_plans_keep_the_physics_honest(spec: ModelSpec, seed: int, plan: list[tuple[tuple[str, Any], int]]) -> None:
    odometer = 0.0
    for _t, bodies, state in _history(spec, seed, plan):
        reading = bodies["odometer-traveleddistance"]["value"]
        assert reading >= odometer - 1e-9, "the odometer never goes back"
        odometer = reading
        soc_body = bodies["tractionbattery-stateofcharge"]
        if soc_body is not None:
            soc = soc_body["value"]
            assert 0 <= soc <= 100
            if bodies["charge-ischarging"]["value"]:
                assert soc <= state["charge_limit"] + 0.05, "never past the limit while charging"
                activity = state["activity"]
                battery = battery_of(spec, state)
                assert battery is not None
                expected = activity["energy_kwh"] + (soc - state["soc"]) / 100 * battery.usable_kwh
                assert bodies["charge-energyadded"]["value"] == pytest.approx(expected, abs=0.01 * battery.usable_kwh + 0.01)
            rated = next(v["value"] for v in bodies["tractionbattery-range"]["additionalValues"] if v["type"] == "RATED")
            battery = battery_of(spec, state)
            assert battery is not None
            assert rated == pytest.approx(soc / 100 * battery.rated_range_km, abs=0.001 * battery.rated_range_km + 0.1)
        fuel = bodies["internalcombustionengine-amountremaining"]
        if fuel is not None:
            assert 0 <= fuel["value"] <= spec.tank_l + 0.05
        location = bodies["location-preciselocation"]
        assert -90 <= location["latitude"] <= 90 and -180 <= location["longitude"] <= 180


@settings(max_examples=25, deadline=None)
@given(spec=st.sampled_from(ALL_MODELS), seed=st.integers(0, 2**32), plan=steps)
def test_the_same_seed_and_plan_give_the_same_history(spec: ModelSpec, seed: int, plan: list[tuple[tuple[str, Any], int]]) -> None:
    first = [(t, bodies) for t, bodies, _ in _history(spec, seed, plan)]
    second = [(t, bodies) for t, bodies, _ in _history(spec, seed, plan)]
    assert first == second


@settings(max_examples=60, deadline=None)
@given(spec=st.sampled_from(ALL_MODELS), seed=st.integers(0, 2**32), plan=steps, cut=st.integers(0, 10 * HOUR), later=st.integers(0, 10 * HOUR))
def test_settling_midway_changes_nothing_physical(spec: ModelSpec, seed: int, plan: list[tuple[tuple[str, Any], int]], cut: int, later: int) -> None:
    state = _history(spec, seed, plan)[-1][2]
    at = state["at"]
    straight = evolve(spec, state, at + cut + later)
    folded = evolve(spec, plans.settle(spec, seed, state, at + cut), at + cut + later)
    assert folded.odometer_km == pytest.approx(straight.odometer_km, abs=1e-3)
    for mine, theirs in ((folded.soc, straight.soc), (folded.fuel_l, straight.fuel_l), (folded.oil_life, straight.oil_life)):
        assert (mine is None) == (theirs is None)
        if mine is not None and theirs is not None:
            assert mine == pytest.approx(theirs, abs=1e-3)
    assert folded.energy_added_kwh == pytest.approx(straight.energy_added_kwh, abs=1e-3)
    assert folded.charging == straight.charging and folded.moving == straight.moving
    assert folded.lv_soc == pytest.approx(straight.lv_soc, abs=1e-3)
    assert folded.tyre_kpa == pytest.approx(straight.tyre_kpa, abs=1e-6)
