from __future__ import annotations

import pytest

from motorpool.platform.sim import catalogue
from motorpool.platform.sim.catalogue import ModelSpec
from motorpool.platform.sim.signals import (
    GROUPS,
    PERMISSION_LEVELS,
    PERMISSIONS,
    SIGNALS,
    permissions_for,
    supported_signals,
)

from .conftest import ALL_MODELS, model
from .shapes import CHECKS, DOCUMENTED_CODES

SECTION_9_PERMISSIONS = {
    "read_alerts", "read_battery", "read_charge", "read_charge_locations", "read_charge_records",
    "read_charge_events", "read_climate", "read_compass", "read_diagnostics", "read_engine_oil",
    "read_extended_vehicle_info", "read_fuel", "read_location", "read_odometer", "read_security",
    "read_service_history", "read_speedometer", "read_thermometer", "read_tires", "read_user_profile",
    "read_vehicle_info", "read_vin", "control_charge", "control_climate", "control_navigation",
    "control_pin", "control_security", "control_trunk",
}


def test_every_documented_code_is_in_the_catalogue() -> None:
    assert len(DOCUMENTED_CODES) == 90 and len(set(DOCUMENTED_CODES)) == 90
    missing = set(DOCUMENTED_CODES) - set(SIGNALS)
    assert not missing
    extra = set(SIGNALS) - set(DOCUMENTED_CODES)
    assert extra == {"closure-tailgate", "vehicleidentification-packages", "vehicleidentification-trim"}
    assert set(CHECKS) == set(SIGNALS), "every code has a shape check"


def test_codes_follow_the_naming_rule() -> None:
    assert len(GROUPS) == 19
    for code, signal in SIGNALS.items():
        assert code == signal.code == f"{signal.group.lower()}-{signal.name.lower()}"
        assert signal.group[0].isupper() and signal.name[0].isupper()
    assert list(SIGNALS) == list(dict.fromkeys(SIGNALS)), "stable order"


def test_permissions_are_the_reference_list_with_descriptions() -> None:
    assert set(PERMISSIONS) == SECTION_9_PERMISSIONS
    assert PERMISSIONS["read_odometer"] == "Read the odometer"
    assert PERMISSIONS["control_security"] == "Lock and unlock the vehicle"
    assert all(text and text[0].isupper() and not text.endswith(".") for text in PERMISSIONS.values())


@pytest.mark.parametrize(
    ("code", "permission"),
    [
        ("tractionbattery-stateofcharge", "read_battery"),
        ("charge-ischarging", "read_charge"),
        ("charge-chargerecords", "read_charge_records"),
        ("closure-islocked", "read_security"),
        ("internalcombustionengine-fuellevel", "read_fuel"),
        ("internalcombustionengine-oillife", "read_engine_oil"),
        ("location-preciselocation", "read_location"),
        ("odometer-traveleddistance", "read_odometer"),
        ("wheel-tires", "read_tires"),
        ("vehicleidentification-vin", "read_vin"),
        ("climate-externaltemperature", "read_thermometer"),
        ("hvac-iscabinhvacactive", "read_climate"),
        ("motion-currentspeed", "read_speedometer"),
        ("connectivitystatus-isonline", "read_vehicle_info"),
        ("diagnostics-dtclist", "read_diagnostics"),
        ("service-records", "read_service_history"),
    ],
)
def test_signal_permissions(code: str, permission: str) -> None:
    assert SIGNALS[code].permission == permission


def test_every_signal_needs_a_known_permission() -> None:
    assert {s.permission for s in SIGNALS.values()} <= set(PERMISSIONS)


def _groups(spec: ModelSpec) -> set[str]:
    return {SIGNALS[c].group for c in supported_signals(spec)}


def test_supported_signals_follow_the_powertrain() -> None:
    for spec in ALL_MODELS:
        supported = supported_signals(spec)
        groups = _groups(spec)
        assert {"Odometer", "Location", "Closure", "VehicleIdentification", "LowVoltageBattery"} <= groups
        if spec.powertrain == "BEV":
            assert "InternalCombustionEngine" not in groups and "closure-enginecover" not in supported
            assert {"TractionBattery", "Charge"} <= groups
        elif spec.powertrain == "PHEV":
            assert {"TractionBattery", "Charge", "InternalCombustionEngine"} <= groups
        else:  # HEV and ICE: no traction battery reported, nothing to plug in
            assert "TractionBattery" not in groups and "Charge" not in groups
            assert "internalcombustionengine-fuellevel" in supported


def test_supported_signals_follow_the_make() -> None:
    leaf, model3, xc40, id4 = model("NISSAN", "Leaf"), model("TESLA", "Model 3"), model("VOLVO", "XC40 Recharge"), model("VOLKSWAGEN", "ID.4")
    assert "wheel-tires" not in supported_signals(leaf), "Nissan does not report tyre pressures"
    assert "wheel-tires" in supported_signals(model3)
    assert "charge-chargetimers" in supported_signals(model3) and "charge-chargetimers" in supported_signals(xc40)
    assert "charge-chargetimers" not in supported_signals(id4)
    assert "surveillance-brand" in supported_signals(model3) and "surveillance-brand" not in supported_signals(id4)
    assert "closure-fronttrunk" in supported_signals(model3) and "closure-fronttrunk" not in supported_signals(leaf)
    assert "diagnostics-waterinfuel" in supported_signals(model("RAM", "1500 EcoDiesel"))
    assert "diagnostics-waterinfuel" not in supported_signals(model("TOYOTA", "Camry"))
    assert "closure-tailgate" in supported_signals(model("FORD", "F-150"))
    assert "closure-reartrunk" not in supported_signals(model("FORD", "F-150"))
    rav4 = model("TOYOTA", "RAV4 Prime")
    assert "charge-fastchargertype" not in supported_signals(rav4), "no DC charging"
    assert "charge-fastchargertype" in supported_signals(model("MITSUBISHI", "Outlander PHEV"))


def test_every_signal_is_supported_by_some_model() -> None:
    union = frozenset().union(*(supported_signals(m) for m in catalogue.models()))
    assert union == set(SIGNALS)


def test_permission_levels_of_test_mode() -> None:
    every = set(PERMISSIONS)
    assert PERMISSION_LEVELS["compatible"] == every == PERMISSION_LEVELS["phev"]
    assert PERMISSION_LEVELS["incompatible"] == frozenset()
    assert "read_fuel" not in PERMISSION_LEVELS["bev"] and "read_charge" in PERMISSION_LEVELS["bev"]
    assert "read_charge" not in PERMISSION_LEVELS["fuel"] and "read_fuel" in PERMISSION_LEVELS["fuel"]
    assert "control_charge" not in PERMISSION_LEVELS["fuel"]
    for spec in ALL_MODELS:
        granted = permissions_for(spec)
        # A vehicle can grant the permission of every signal it reports.
        needed = {SIGNALS[c].permission for c in supported_signals(spec)}
        assert needed <= granted, (spec, needed - granted)
