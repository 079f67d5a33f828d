from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorpool.platform.sim.physics import (
    ChargeCurve,
    consumption_factor,
    distance_after,
    hours_to_cover,
    speed_at,
)

socs = st.floats(min_value=0.0, max_value=100.0, allow_subnormal=False)  # a state of charge, not a denormal
curves = st.builds(
    ChargeCurve,
    peak_kw=st.floats(min_value=1.0, max_value=350.0),
    capacity_kwh=st.floats(min_value=10.0, max_value=150.0),
    dc=st.booleans(),
)


@given(curve=curves, start=socs, limit=st.floats(min_value=50.0, max_value=100.0), hours=st.floats(min_value=0.0, max_value=48.0))
def test_charging_never_passes_the_limit_and_never_goes_back(curve: ChargeCurve, start: float, limit: float, hours: float) -> None:
    soc = curve.soc_after(start, hours, limit)
    assert soc >= start - 1e-9
    assert soc <= max(start, limit) + 1e-9
    assert curve.soc_after(start, hours + 0.1, limit) >= soc - 1e-9


@given(curve=curves, start=socs, end=socs)
def test_time_to_charge_is_the_inverse_of_the_curve(curve: ChargeCurve, start: float, end: float) -> None:
    hours = curve.hours_between(start, end)
    if end <= start:
        assert hours == 0
        return
    assert hours > 0
    assert curve.soc_after(start, hours, 100.0) == pytest.approx(end, abs=1e-6)


@given(curve=curves, start=socs, first=st.floats(0, 10), second=st.floats(0, 10))
def test_charging_in_two_pieces_equals_charging_straight_through(curve: ChargeCurve, start: float, first: float, second: float) -> None:
    middle = curve.soc_after(start, first, 90.0)
    assert curve.soc_after(middle, second, 90.0) == pytest.approx(curve.soc_after(start, first + second, 90.0), abs=1e-6)


def test_dc_tapers_above_eighty_percent_and_ac_does_not() -> None:
    dc = ChargeCurve(250.0, 75.0, dc=True)
    assert dc.grid_kw(20) == dc.grid_kw(50) == 250.0
    assert dc.grid_kw(50) > dc.grid_kw(80) > dc.grid_kw(90) > dc.grid_kw(99)
    assert dc.hours_between(80, 90) > 2 * dc.hours_between(20, 30)
    # 10→80 % on a 250 kW charger takes a plausible quarter to half hour.
    assert 0.2 < dc.hours_between(10, 80) < 0.6
    ac = ChargeCurve(11.0, 75.0, dc=False)
    assert ac.grid_kw(10) == ac.grid_kw(95) == 11.0
    assert ac.hours_between(10, 20) == pytest.approx(ac.hours_between(80, 90))
    # 11 kW at 90 % efficiency fills 75 kWh from 0 to 100 in about 7.6 h.
    assert ac.hours_between(0, 100) == pytest.approx(75 / (11 * 0.9), rel=1e-6)


@given(kph=st.floats(5, 200), phase=st.floats(0, 6.3), hours=st.floats(0, 50), more=st.floats(0, 5))
def test_distance_only_grows_and_matches_speed(kph: float, phase: float, hours: float, more: float) -> None:
    assert distance_after(kph, phase, hours + more) >= distance_after(kph, phase, hours) - 1e-9
    assert 0.8 * kph - 1e-9 <= speed_at(kph, phase, hours) <= 1.2 * kph + 1e-9
    step = 1e-6
    numeric = (distance_after(kph, phase, hours + step) - distance_after(kph, phase, hours)) / step
    assert numeric == pytest.approx(speed_at(kph, phase, hours), rel=1e-3, abs=1e-3)


@given(kph=st.floats(5, 200), phase=st.floats(0, 6.3), km=st.floats(0, 3000))
def test_hours_to_cover_finds_the_arrival(kph: float, phase: float, km: float) -> None:
    hours = hours_to_cover(kph, phase, km)
    assert distance_after(kph, phase, hours) == pytest.approx(km, abs=1e-6)


def test_fast_driving_costs_more_energy() -> None:
    assert consumption_factor(30) < consumption_factor(70) < consumption_factor(130)
    assert consumption_factor(70) == pytest.approx(1.0)
