"""What the compatibility answers say a model supports is what the simulation does."""

from __future__ import annotations

import random
from typing import Any

import pytest

from motorpool.platform.sim import catalogue, compatibility, plans
from motorpool.platform.sim.catalogue import ModelSpec
from motorpool.platform.sim.plans import SimulationRefused
from motorpool.platform.sim.signals import PERMISSIONS, SIGNALS, permissions_for, supported_signals
from motorpool.platform.sim.testmode import make_vin, model_code, vin_check_digit
from motorpool.platform.sim.vehicle import new_vehicle_state, read_signals

from .conftest import ALL_MODELS, T0, model

HOME = (37.7749, -122.4194)


def _parameters(command: compatibility.Command) -> dict[str, Any]:
    if command.command_type == "charge-set-limit":
        return {"percent": 80}
    if command.command_type == "navigation-set-destination":
        return {"latitude": HOME[0], "longitude": HOME[1]}
    if command.schedule_type is not None:
        timer = {
            "type": "LOCATION",
            "condition": {"name": None, "address": None, "latitude": HOME[0], "longitude": HOME[1],
                          "connectorType": None},
            "schedules": [{"start": "01:00:00", "end": "05:00:00", "days": ["MONDAY"]}],
            "departureTimers": [],
            "isOEMOptimizationEnabled": False,
            "scheduleType": command.schedule_type,
            "scheduleId": "sched_test",
        }  # fmt: skip
        return {"timer": timer}
    return {}


def _accepted(spec: ModelSpec, command: compatibility.Command) -> bool:
    """Whether the simulation carries the command out on a parked car (a refusal of the car's
    state still means it can; only COMPATIBILITY means it cannot)."""
    state = new_vehicle_state(spec, 3, T0, activity={"kind": "parked"})
    try:
        plans.run_command(spec, 3, state, T0, command.command_type, _parameters(command))  # type: ignore[arg-type]
    except SimulationRefused as refused:
        return refused.type != "COMPATIBILITY"
    return command.permission in permissions_for(spec)


def test_supported_commands_are_what_the_simulation_accepts(any_model: ModelSpec) -> None:
    supported = compatibility.supported_commands(any_model)
    for command in compatibility.COMMANDS:
        assert (command.path in supported) == _accepted(any_model, command), command.path


def test_model_codes_name_one_model_of_each_make() -> None:
    for make in catalogue.makes():
        codes = [model_code(spec) for spec in catalogue.models_of(make.code)]
        assert len(set(codes)) == len(codes), make.code


def test_a_vin_made_here_decodes_to_its_model_and_year(any_model: ModelSpec) -> None:
    rng = random.Random(11)
    for year in any_model.years:
        vin = make_vin(rng, any_model, year)
        assert vin[8] == vin_check_digit(vin)
        decoded = compatibility.decode_vin(vin.lower())
        assert decoded is not None and decoded.make.code == any_model.make
        assert decoded.models == ((any_model, year),)


def test_a_foreign_vin_is_capable_of_what_every_candidate_model_is() -> None:
    # A Toyota of model year 2022 ('N') whose characters 4-5 name no catalogue model: a Prius, a
    # Camry or a RAV4 Prime. All have a fuel tank; only the RAV4 Prime plugs in.
    vin = "JTD" + "QQ" + "ABC" + "0" + "N" + "A" + "123456"
    decoded = compatibility.decode_vin(vin)
    assert decoded is not None
    assert {spec.model for spec, _ in decoded.models} == {"Prius", "Camry", "RAV4 Prime"}
    answer = compatibility.vin_compatibility(vin, ["read_fuel", "read_charge", "read_odometer"])
    rows = {(c.permission, c.endpoint): c for c in answer.capabilities}
    assert answer.compatible and answer.reason is None
    assert rows["read_fuel", "/fuel"].capable
    assert rows["read_odometer", "/odometer"].capable
    assert not rows["read_charge", "/charge"].capable
    assert rows["read_charge", "/charge"].reason == compatibility.VEHICLE_NOT_CAPABLE


def test_vin_capabilities_follow_the_signals_the_car_reads(any_model: ModelSpec) -> None:
    vin = make_vin(random.Random(2), any_model)
    readings = read_signals(any_model, vin, 2, new_vehicle_state(any_model, 2, T0), T0)
    country = "US" if "NA" in any_model.markets else "DE"
    answer = compatibility.vin_compatibility(vin, list(PERMISSIONS), country)
    assert answer.compatible
    by_endpoint = {(c.permission, c.endpoint): c for c in answer.capabilities}
    for feature in compatibility.FEATURES:
        if feature.endpoint is None or not feature.signals:
            continue
        row = by_endpoint[feature.permission, feature.endpoint]
        served = any(readings[code].error is None for code in feature.signals)
        assert row.capable == served, (feature.permission, feature.endpoint)
        if not row.capable:
            assert row.reason in (compatibility.VEHICLE_NOT_CAPABLE, compatibility.SMARTCAR_NOT_CAPABLE)
    # A permission that nothing serves has one row, without an endpoint, not capable.
    alerts = [c for c in answer.capabilities if c.permission == "read_alerts"]
    assert [(c.endpoint, c.capable, c.reason) for c in alerts] == [(None, False, compatibility.SMARTCAR_NOT_CAPABLE)]


def test_vins_that_are_not_compatible() -> None:
    golf = make_vin(random.Random(1), model("VOLKSWAGEN", "Golf"))
    assert compatibility.vin_compatibility(golf, ["read_odometer"], "DE").compatible
    # Sold in Europe only; the make is sold in the US, the model is not.
    assert compatibility.vin_compatibility(golf, ["read_odometer"], "US") == compatibility.VinCompatibility(
        False, compatibility.VEHICLE_NOT_COMPATIBLE, ()
    )
    assert compatibility.vin_compatibility(golf, ["read_odometer"], "JP").reason == compatibility.MAKE_NOT_COMPATIBLE
    unknown = compatibility.vin_compatibility("0SCAUDI037A5ADB1C", ["read_odometer"])
    assert (unknown.compatible, unknown.reason, unknown.capabilities) == (False, compatibility.MAKE_NOT_COMPATIBLE, ())
    # The right make, but no model of it was built in the year the VIN names (2001).
    assert compatibility.vin_compatibility("5YJ3E1EA71F000000", ["read_odometer"]).reason == (
        compatibility.VEHICLE_NOT_COMPATIBLE
    )


def test_test_levels() -> None:
    bev = compatibility.level_compatibility("bev", ["read_battery", "read_fuel"])
    assert bev.compatible
    assert {c.permission: c.capable for c in bev.capabilities} == {"read_battery": True, "read_fuel": False}
    assert not compatibility.level_compatibility("incompatible", ["read_battery"]).compatible


@pytest.mark.parametrize("region", ["US", "CA", "EUROPE"])
def test_the_matrix_lists_what_each_model_serves(region: str) -> None:
    market = compatibility.REGIONS[region]
    matrix = compatibility.matrix(region)
    listed = {(make, entry.model) for make, entries in matrix.items() for entry in entries}
    assert listed == {(spec.make, spec.model) for spec in ALL_MODELS if market in spec.markets}
    for make, entries in matrix.items():
        for entry in entries:
            spec = catalogue.find_model(make, entry.model)
            assert spec is not None
            assert (entry.start_year, entry.end_year, entry.powertrain) == (spec.years[0], spec.years[-1], spec.powertrain)
            assert set(entry.permissions) <= permissions_for(spec)
            assert ("read_fuel" in entry.permissions) == spec.has_engine
            assert ("Tire pressure" in entry.endpoints) == ("wheel-tires" in supported_signals(spec))


def test_the_matrix_filters() -> None:
    teslas = compatibility.matrix("US", makes=["tesla"], powertrain="BEV")
    assert list(teslas) == ["TESLA"] and [e.model for e in teslas["TESLA"]] == ["Model 3", "Model Y"]
    assert compatibility.matrix("US", powertrain="ICE").keys().isdisjoint({"TESLA", "RIVIAN"})
    scoped = compatibility.matrix("EUROPE", permissions=["read_fuel", "control_charge"])
    models = {entry.model for entries in scoped.values() for entry in entries}
    assert models == {s.model for s in ALL_MODELS if s.powertrain == "PHEV" and "EU" in s.markets}
    for entries in scoped.values():
        for entry in entries:
            assert set(entry.permissions) == {"read_fuel", "control_charge"}


def test_compatible_vehicles_carry_the_simulated_signals_and_commands(any_model: ModelSpec) -> None:
    [listed] = [v for v in compatibility.compatible_vehicles(make=any_model.make_display.upper())
                if v.model == any_model.model]  # fmt: skip
    assert set(listed.signals) == supported_signals(any_model)
    assert set(listed.commands) == compatibility.supported_commands(any_model)
    assert set(listed.permissions) == {SIGNALS[code].permission for code in listed.signals} | {
        compatibility.COMMANDS_BY_PATH[path].permission for path in listed.commands
    }
    assert listed.years == any_model.years
    markets = {compatibility.REGIONS[region] for region in listed.regions}
    assert markets == set(any_model.markets)
