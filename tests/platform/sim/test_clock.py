from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorpool.platform.sim.clock import Clock

from .conftest import HOUR, MINUTE, T0


def test_real_time_follows_the_wall_clock() -> None:
    clock = Clock.real_time(T0)
    assert clock.now(T0) == T0 and clock.now(T0 + 5_000) == T0 + 5_000


def test_accelerated_and_frozen() -> None:
    fast = Clock.real_time(T0).with_rate(60, T0 + MINUTE)
    assert fast.now(T0 + 2 * MINUTE) == T0 + MINUTE + HOUR
    frozen = fast.with_rate(0, T0 + 2 * MINUTE)
    assert frozen.frozen and frozen.now(T0 + 10 * HOUR) == T0 + MINUTE + HOUR
    stepped = frozen.advanced(2 * HOUR, T0 + 10 * HOUR)
    assert stepped.now(T0 + 20 * HOUR) == T0 + MINUTE + 3 * HOUR
    assert stepped.set_to(T0 + 5 * HOUR, T0 + 21 * HOUR).now(T0 + 22 * HOUR) == T0 + 5 * HOUR


def test_a_clock_never_goes_back() -> None:
    clock = Clock.real_time(T0)
    with pytest.raises(ValueError):
        clock.advanced(-1, T0)
    with pytest.raises(ValueError):
        clock.set_to(T0 - HOUR, T0)
    with pytest.raises(ValueError):
        clock.with_rate(-2, T0)
    assert clock.now(T0 - HOUR) == T0, "a real instant before the anchor reads as the anchor"


def test_round_trip_through_json() -> None:
    clock = Clock(T0, T0 + HOUR, 12.5)
    assert Clock.from_dict(clock.to_dict()) == clock


operator_moves = st.one_of(
    st.tuples(st.just("rate"), st.floats(0, 1000)),
    st.tuples(st.just("step"), st.integers(0, 5 * HOUR)),
)


@given(moves=st.lists(st.tuples(st.integers(0, 10 * HOUR), operator_moves), max_size=15))
def test_simulated_time_is_monotonic_whatever_the_operator_does(moves: list[tuple[int, tuple[str, float]]]) -> None:
    clock = Clock.real_time(T0)
    real, last = T0, T0
    for wait, (kind, amount) in moves:
        real += wait
        assert clock.now(real) >= last
        last = clock.now(real)
        clock = clock.with_rate(amount, real) if kind == "rate" else clock.advanced(int(amount), real)
        assert clock.now(real) >= last
