"""Charge schedules at work: a car plugged in where a schedule applies charges in its windows."""

from __future__ import annotations

from typing import Any

from motorpool.platform.sim import geo, plans
from motorpool.platform.sim.vehicle import evolve, new_vehicle_state, read_signals

from .conftest import DAY, HOUR, MINUTE, T0, model

TESLA = model("TESLA", "Model 3")
VIN = "5YJ3E1EA7KF000000"


def at_home(soc: float = 30.0, limit: int = 90) -> dict[str, Any]:
    """A parked, unplugged Model 3 at home."""
    state = new_vehicle_state(TESLA, 5, T0, plugged=False, charger=None, activity={"kind": "parked"},
                              soc=soc, charge_limit=limit)
    state["position"] = [*state["home"], 0.0]
    return state


def local_midnight(state: dict[str, Any], after: int) -> int:
    """The first local midnight of the car's city after ``after`` (UTC epoch ms)."""
    offset = int(geo.CITY_BY_KEY[state["city"]].utc_offset_h * HOUR)
    return ((after + offset) // DAY + 1) * DAY - offset


def timer(state: dict[str, Any], slots: list[tuple[str, str, list[str]]], kind: str = "daily") -> dict[str, Any]:
    home = state["home"]
    return {
        "type": "LOCATION",
        "condition": {"name": None, "address": None, "latitude": home[0], "longitude": home[1], "connectorType": None},
        "schedules": [{"start": start, "end": end, "days": days} for start, end, days in slots],
        "departureTimers": [], "isOEMOptimizationEnabled": False, "scheduleType": kind, "scheduleId": "sched_1",
    }


def charging_at(state: dict[str, Any], t: int) -> bool:
    effective, _ = plans.resolve_due(TESLA, 5, state, t)
    return evolve(TESLA, effective, t).charging


def soc_at(state: dict[str, Any], t: int) -> float:
    effective, _ = plans.resolve_due(TESLA, 5, state, t)
    soc = evolve(TESLA, effective, t).soc
    assert soc is not None
    return soc


def test_a_plugged_in_car_charges_only_in_its_daily_window() -> None:
    state = at_home()
    midnight = local_midnight(state, T0)
    state = plans.add_charge_schedule(TESLA, 5, state, T0, timer(state, [("01:00:00", "05:00:00", list(plans.WEEKDAYS))]))
    plugged = plans.plug_in(TESLA, 5, state, midnight - 4 * HOUR)  # 20:00 local
    assert not charging_at(plugged, midnight - HOUR)
    assert not charging_at(plugged, midnight + HOUR - MINUTE)
    assert charging_at(plugged, midnight + HOUR + MINUTE)
    assert charging_at(plugged, midnight + 4 * HOUR)
    assert not charging_at(plugged, midnight + 5 * HOUR + MINUTE)
    before, after = soc_at(plugged, midnight), soc_at(plugged, midnight + 6 * HOUR)
    assert before < after < 90
    # Nothing more until the next night's window.
    assert soc_at(plugged, midnight + 20 * HOUR) == after
    assert soc_at(plugged, midnight + DAY + 6 * HOUR) > after


def test_reads_agree_with_the_stored_catch_up() -> None:
    state = at_home()
    midnight = local_midnight(state, T0)
    state = plans.add_charge_schedule(TESLA, 5, state, T0, timer(state, [("01:00:00", "05:00:00", list(plans.WEEKDAYS))]))
    plugged = plans.plug_in(TESLA, 5, state, midnight - 4 * HOUR)
    stored, _ = plans.resolve_due(TESLA, 5, plugged, midnight + 3 * HOUR)
    for t in (midnight + 3 * HOUR, midnight + 4 * HOUR + 30 * MINUTE, midnight + DAY + 2 * HOUR):
        on_the_fly = read_signals(TESLA, VIN, 5, plans.resolve_due(TESLA, 5, plugged, t)[0], t)
        from_stored = read_signals(TESLA, VIN, 5, plans.resolve_due(TESLA, 5, stored, t)[0], t)
        assert {c: r.body for c, r in on_the_fly.items()} == {c: r.body for c, r in from_stored.items()}


def test_a_window_past_midnight_and_weekly_days() -> None:
    state = at_home()
    midnight = local_midnight(state, T0)
    weekday = plans.WEEKDAYS[((midnight + int(geo.CITY_BY_KEY[state["city"]].utc_offset_h * HOUR)) // DAY + 3) % 7]
    following = plans.WEEKDAYS[(plans.WEEKDAYS.index(weekday) + 1) % 7]
    # 22:00 on the day after `midnight`, until 02:00; on that one weekday only.
    state = plans.add_charge_schedule(TESLA, 5, state, T0,
                                      timer(state, [("22:00:00", "02:00:00", [following])], "weekly"))
    plugged = plans.plug_in(TESLA, 5, state, midnight + HOUR)
    assert not charging_at(plugged, midnight + 22 * HOUR + MINUTE)  # `weekday`: not a charging day
    assert charging_at(plugged, midnight + DAY + 22 * HOUR + MINUTE)
    assert charging_at(plugged, midnight + 2 * DAY + HOUR)  # past midnight, still in the window
    assert not charging_at(plugged, midnight + 2 * DAY + 2 * HOUR + MINUTE)
    assert not charging_at(plugged, midnight + 2 * DAY + 22 * HOUR + MINUTE)


def test_plugging_in_during_a_window_charges_at_once_and_a_manual_start_is_not_stopped() -> None:
    state = at_home()
    midnight = local_midnight(state, T0)
    state = plans.add_charge_schedule(TESLA, 5, state, T0, timer(state, [("01:00:00", "02:00:00", list(plans.WEEKDAYS))]))
    during = plans.plug_in(TESLA, 5, state, midnight + 90 * MINUTE)
    assert during["activity"]["kind"] == "charging"
    assert not charging_at(during, midnight + 2 * HOUR + MINUTE)

    outside = plans.plug_in(TESLA, 5, state, midnight + 3 * HOUR, start=True)  # the owner insists
    assert charging_at(outside, midnight + 3 * HOUR + MINUTE)
    assert charging_at(outside, midnight + 4 * HOUR)


def test_a_schedule_elsewhere_does_not_govern_and_a_full_battery_waits() -> None:
    state = at_home()
    midnight = local_midnight(state, T0)
    far = timer(state, [("01:00:00", "05:00:00", list(plans.WEEKDAYS))])
    far["condition"]["latitude"] += 0.2
    governed_elsewhere = plans.plug_in(TESLA, 5, plans.add_charge_schedule(TESLA, 5, state, T0, far),
                                       midnight - 4 * HOUR, start=True)
    assert charging_at(governed_elsewhere, midnight - 3 * HOUR)

    full = at_home(soc=90.0, limit=90)
    full = plans.add_charge_schedule(TESLA, 5, full, T0, timer(full, [("01:00:00", "05:00:00", list(plans.WEEKDAYS))]))
    plugged = plans.plug_in(TESLA, 5, full, midnight - HOUR)
    years_later = midnight + 3 * 365 * DAY
    settled, _ = plans.resolve_due(TESLA, 5, plugged, years_later)  # quick: a full battery stops the catch-up
    assert settled["soc"] == 90.0 and not evolve(TESLA, settled, years_later).charging
