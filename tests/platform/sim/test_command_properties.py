"""Random commands — some carried out at once, some queued for a sleeping car — and random moves of
an application's clock: the physics stays honest, queued commands read the same before and after
they are stored, and the same seed gives the same history."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motorpool.platform.sim import plans
from motorpool.platform.sim.catalogue import ModelSpec
from motorpool.platform.sim.clock import Clock
from motorpool.platform.sim.plans import SimulationRefused
from motorpool.platform.sim.vehicle import new_vehicle_state, read_signals

from .conftest import ALL_MODELS, HOUR, MINUTE, T0

VIN = "5YJ3E1EA7KF000000"
TIMER = {"type": "LOCATION", "condition": {"name": None, "address": None, "latitude": 1.0, "longitude": 2.0,
                                            "connectorType": None},
         "schedules": [{"start": "01:00:00", "end": "05:00:00", "days": ["MONDAY"]}],
         "departureTimers": [], "isOEMOptimizationEnabled": False, "scheduleType": "daily", "scheduleId": "sched_1"}

commands = st.one_of(
    st.sampled_from([("security-lock", {}), ("security-unlock", {}), ("charge-start", {}), ("charge-stop", {}),
                     ("charge-port-open", {}), ("charge-port-close", {}),
                     ("charge-schedule-create", {"timer": TIMER}),
                     ("charge-schedule-delete", {"scheduleId": "sched_1"})]),
    st.integers(50, 100).map(lambda p: ("charge-set-limit", {"percent": p})),
    st.tuples(st.floats(-60, 60), st.floats(-120, 120)).map(
        lambda ll: ("navigation-set-destination", {"latitude": ll[0], "longitude": ll[1]})),
)
operator = st.one_of(
    st.sampled_from([("plug", None), ("unplug", None), ("sleep", None), ("wake", None),
                     ("open", "door-0-0"), ("close", "door-0-0"), ("open", "hood")]),
    st.tuples(st.floats(-0.3, 0.3), st.floats(-0.3, 0.3)).map(lambda d: ("drive", d)),
    st.tuples(st.integers(0, 23), st.integers(1, 30)).map(lambda w: ("schedule_here", w)),
)
clock_moves = st.one_of(
    st.integers(0, 6 * HOUR).map(lambda ms: ("advance", ms)),
    st.sampled_from([0.0, 1.0, 60.0, 600.0]).map(lambda rate: ("rate", rate)),
)
step = st.tuples(
    st.one_of(commands.map(lambda c: ("command", c)), operator.map(lambda o: ("operator", o))),
    st.booleans(),  # queue the command as for a sleeping car (due after a wake-up) or run it now
    st.integers(0, 3 * HOUR),  # real time passing after the step
    clock_moves,
)
steps = st.lists(step, min_size=1, max_size=10)


def _operate(
    spec: ModelSpec, seed: int, state: dict[str, Any], now: int, op: str, arg: Any, step_index: int
) -> dict[str, Any]:
    if op == "plug":
        return plans.plug_in(spec, seed, state, now)
    if op == "unplug":
        return plans.unplug(spec, seed, state, now)
    if op == "sleep":
        return plans.sleep(spec, seed, state, now)
    if op == "wake":
        return plans.wake(spec, seed, state, now)
    if op == "schedule_here":  # a daily window (start hour, length in half hours) where the car stands
        lat, lon, _ = state["position"]
        start, halves = arg
        end = (start * 60 + halves * 30) % (24 * 60)
        timer = {**TIMER, "condition": {**TIMER["condition"], "latitude": lat, "longitude": lon},
                 "scheduleId": f"sched_here_{step_index}",  # unique, as the API mints them (never TIMER's)
                 "schedules": [{"start": f"{start:02d}:00:00", "end": f"{end // 60:02d}:{end % 60:02d}:00",
                                "days": list(plans.WEEKDAYS)}]}
        return plans.add_charge_schedule(spec, seed, state, now, timer)
    if op in ("open", "close"):
        return plans.set_open(spec, seed, state, now, arg, open=op == "open")
    lat, lon, _ = state["position"]
    return plans.start_trip(spec, seed, state, now, lat + arg[0], lon + arg[1])


def _run(spec: ModelSpec, seed: int, plan: list[Any]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """Apply a plan at the simulated instants of a clock: (sim time, bodies, state) samples."""
    state = new_vehicle_state(spec, seed, T0)
    clock = Clock.real_time(T0)
    real = T0
    samples = []
    for index, ((kind, action), queued, wait, (move, amount)) in enumerate(plan):
        now = clock.now(real)
        state, _ = plans.resolve_due(spec, seed, state, now)
        try:
            if kind == "command" and queued:
                state = plans.queue_command(state, f"exec_{index}", action[0], action[1], now + 40_000)
            elif kind == "command":
                state = plans.run_command(spec, seed, state, now, action[0], action[1])
            else:
                state = _operate(spec, seed, state, now, *action, step_index=index)
        except (SimulationRefused, LookupError):
            pass
        else:
            if kind == "command" and not queued and action[0] == "security-lock":
                assert not any(p.startswith("door-") or p == "hood" for p in state["open"]), "locked with a door open"
        real += wait
        clock = clock.advanced(amount, real) if move == "advance" else clock.with_rate(amount, real)
        sample_at = clock.now(real)
        effective, _ = plans.resolve_due(spec, seed, state, sample_at)
        bodies = {code: r.body for code, r in read_signals(spec, VIN, seed, effective, sample_at).items()}
        samples.append((sample_at, bodies, effective))
    return samples


plug_ins = [spec for spec in ALL_MODELS if spec.is_plug_in]


@settings(max_examples=60, deadline=None)
@given(spec=st.sampled_from(plug_ins), seed=st.integers(0, 2**32), plan=steps)
def test_commands_and_clock_moves_keep_the_physics_honest(spec: ModelSpec, seed: int, plan: list[Any]) -> None:
    last_time, last_odometer = 0, 0.0
    for at, bodies, state in _run(spec, seed, plan):
        assert at >= last_time, "simulated time never runs backwards"
        odometer = bodies["odometer-traveleddistance"]["value"]
        assert odometer >= last_odometer - 1e-9, "the odometer never goes back"
        last_time, last_odometer = at, odometer
        soc = bodies["tractionbattery-stateofcharge"]["value"]
        assert 0 <= soc <= 100
        if bodies["charge-ischarging"]["value"]:
            assert soc <= state["charge_limit"] + 0.05, "never past the limit while charging"
            assert bodies["charge-wattage"]["value"] > 0 and bodies["charge-energyadded"]["value"] >= 0
        limits = bodies["charge-chargelimits"]
        assert limits["values"][0]["limit"] == state["charge_limit"]
        if bodies["charge-chargetimers"] is not None:  # not every make reports its timers
            timers = bodies["charge-chargetimers"]["values"]
            assert len({t.get("scheduleId") for t in timers}) == len(timers), "one timer per schedule id"
        if bodies["charge-ischargingcableconnected"]["value"]:
            assert bodies["charge-ischargingportflapopen"]["value"] is True


@settings(max_examples=40, deadline=None)
@given(spec=st.sampled_from(ALL_MODELS), seed=st.integers(0, 2**32), plan=steps)
def test_the_same_seed_plan_and_clock_give_the_same_history(spec: ModelSpec, seed: int, plan: list[Any]) -> None:
    first = [(t, bodies) for t, bodies, _ in _run(spec, seed, plan)]
    assert first == [(t, bodies) for t, bodies, _ in _run(spec, seed, plan)]


@settings(max_examples=60, deadline=None)
@given(spec=st.sampled_from(plug_ins), seed=st.integers(0, 2**32), command=commands,
       wake=st.integers(MINUTE // 2, 3 * MINUTE), later=st.integers(0, 12 * HOUR))
def test_a_queued_command_reads_the_same_before_and_after_it_is_stored(
    spec: ModelSpec, seed: int, command: tuple[str, dict[str, Any]], wake: int, later: int
) -> None:
    parked = new_vehicle_state(spec, seed, T0, plugged=False, charger=None, activity={"kind": "parked"})
    state = plans.sleep(spec, seed, parked, T0 + HOUR)
    queued = plans.queue_command(state, "exec_1", command[0], command[1], T0 + HOUR + wake)
    due = T0 + HOUR + wake
    before = plans.resolve_due(spec, seed, queued, due - 1)
    assert before[1] == [] and before[0] is queued, "nothing happens before the due instant"
    stored, outcomes = plans.resolve_due(spec, seed, queued, due)
    assert [o[0] for o in outcomes] == ["exec_1"] and outcomes[0][1] == due
    assert stored["pending"] == []
    read_at = due + later
    on_the_fly = read_signals(spec, VIN, seed, plans.resolve_due(spec, seed, queued, read_at)[0], read_at)
    after_storing = read_signals(spec, VIN, seed, stored, read_at)
    assert {c: r.body for c, r in on_the_fly.items()} == {c: r.body for c, r in after_storing.items()}
    refused = outcomes[0][2]
    if refused is None:
        direct = plans.run_command(spec, seed, state, due, command[0], command[1])
        assert direct["locked"] == stored["locked"] and direct["charge_limit"] == stored["charge_limit"]
    else:
        assert refused.type in ("VEHICLE_STATE", "COMPATIBILITY")


@settings(max_examples=100, deadline=None)
@given(moves=st.lists(st.tuples(st.integers(0, 10 * HOUR), clock_moves), min_size=1, max_size=20))
def test_a_clock_only_moves_forward(moves: list[tuple[int, tuple[str, float]]]) -> None:
    clock, real, last = Clock.real_time(T0), T0, T0
    for wait, (move, amount) in moves:
        real += wait
        before = clock.now(real)
        clock = clock.advanced(int(amount), real) if move == "advance" else clock.with_rate(amount, real)
        assert clock.now(real) >= before >= last
        if move == "advance":
            assert clock.now(real) == before + int(amount)
        last = clock.now(real)
    with pytest.raises(ValueError):
        clock.advanced(-1, real)
