"""Simulated failures as pure functions: what a broken account and a failing signal make a car
report, that they survive the car's life going on, and the error catalogue's parsing."""

from __future__ import annotations

import pytest

from motorpool.platform.sim import failures, plans
from motorpool.platform.sim.vehicle import new_vehicle_state, read_signal, read_signals

from .conftest import HOUR, MINUTE, T0, body, model

VIN = "5YJ3E1EA7KF000000"
ODOMETER = "odometer-traveleddistance"
SOC = "tractionbattery-stateofcharge"


def test_a_failing_signal_reports_its_error_and_no_value_while_the_others_read() -> None:
    spec = model("TESLA", "Model 3")
    state = new_vehicle_state(spec, 3, T0)
    failing = plans.fail_signal(spec, 3, state, T0 + MINUTE, ODOMETER, ("UPSTREAM", "NO_RESPONSE"))
    assert failing["failed_signals"][ODOMETER] == {"type": "UPSTREAM", "code": "NO_RESPONSE", "since": T0 + MINUTE}
    later = T0 + 2 * HOUR
    readings = read_signals(spec, VIN, 3, failing, later)
    assert readings[ODOMETER].body is None and readings[ODOMETER].error == ("UPSTREAM", "NO_RESPONSE")
    assert read_signal(spec, VIN, 3, failing, later, ODOMETER) == readings[ODOMETER]
    assert body(readings, SOC) == body(read_signals(spec, VIN, 3, state, later), SOC)
    # Unsupported codes keep their own error.
    assert readings["internalcombustionengine-fuellevel"].error == ("COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
    repaired = plans.repair(spec, 3, failing, T0 + HOUR, account=False, signals=(ODOMETER,))
    assert "failed_signals" not in repaired
    assert read_signals(spec, VIN, 3, repaired, later)[ODOMETER].error is None


def test_a_broken_account_fails_every_supported_signal_until_mended() -> None:
    spec = model("TESLA", "Model 3")
    state = plans.fail_signal(spec, 4, new_vehicle_state(spec, 4, T0), T0, SOC)
    broken = plans.break_account(spec, 4, state, T0 + MINUTE)
    readings = read_signals(spec, VIN, 4, broken, T0 + HOUR)
    for code, reading in readings.items():
        if reading.error is not None and reading.error[0] == "COMPATIBILITY":
            continue
        assert reading.body is None and reading.error == ("CONNECTED_SERVICES_ACCOUNT", "AUTHENTICATION_FAILED"), code
    # Driving on while broken, then mended as Connect mends it: values and the signal's own failure return.
    driving = plans.start_trip(spec, 4, broken, T0 + 2 * MINUTE, latitude=37.80, longitude=-122.27)
    mended = failures.without_account_failure(driving)
    again = read_signals(spec, VIN, 4, mended, T0 + HOUR)
    assert again[ODOMETER].error is None and again[SOC].error == failures.DEFAULT_SIGNAL_ERROR
    assert "account_failure" in driving, "mending copies; the state it came from is unchanged"
    everything = plans.repair(spec, 4, broken, T0 + HOUR)
    assert "account_failure" not in everything and "failed_signals" not in everything
    assert read_signals(spec, VIN, 4, everything, T0 + HOUR)[SOC].error is None


def test_bad_failures_are_refused() -> None:
    spec = model("FORD", "F-150")
    state = new_vehicle_state(spec, 5, T0)
    with pytest.raises(ValueError, match="cannot report"):
        plans.fail_signal(spec, 5, state, T0, SOC)
    with pytest.raises(ValueError, match="no signal"):
        plans.fail_signal(spec, 5, state, T0, "nope")
    with pytest.raises(ValueError, match="CONNECTED_SERVICES_ACCOUNT code"):
        plans.break_account(spec, 5, state, T0, code="BROKEN")
    with pytest.raises(ValueError, match="no signal"):
        plans.repair(spec, 5, state, T0, signals=("nope",))


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        (None, ("UPSTREAM", "UNKNOWN_ISSUE")),
        ("  ", ("UPSTREAM", "UNKNOWN_ISSUE")),
        ("vehicle_state:asleep", ("VEHICLE_STATE", "ASLEEP")),
        ("PERMISSION", ("PERMISSION", None)),
        ("COMPATIBILITY:VEHICLE_NOT_CAPABLE", ("COMPATIBILITY", "VEHICLE_NOT_CAPABLE")),
    ],
)
def test_signal_errors_parse(text: str | None, parsed: tuple[str, str | None]) -> None:
    assert failures.parse_signal_error(text) == parsed


@pytest.mark.parametrize(("text", "says"), [("RAIN", "not a signal error type"), ("UPSTREAM", "Give UPSTREAM:CODE"),
                                            ("UPSTREAM:RAIN", "not a code of UPSTREAM")])  # fmt: skip
def test_bad_signal_errors_say_what_is_allowed(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        failures.parse_signal_error(text)
