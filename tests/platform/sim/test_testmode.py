from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from motorpool.platform.sim import catalogue
from motorpool.platform.sim.signals import PERMISSIONS, permissions_for
from motorpool.platform.sim.testmode import (
    SUCCESSFUL_REQUEST_VIN,
    make_vin,
    vehicles_for_test_email,
    vin_check_digit,
    years_for_code,
)

from .conftest import ALL_MODELS


def test_n_vehicles() -> None:
    three = vehicles_for_test_email("3-vehicles@smartcar.com")
    assert len(three) == 3
    assert len({v.vin for v in three}) == 3 and len({v.seed for v in three}) == 3
    assert len(vehicles_for_test_email("999-vehicles@smartcar.com")) == 999
    assert len(vehicles_for_test_email("1-vehicles@example.org")) == 1
    for outside in ("0-vehicles@smartcar.com", "1000-vehicles@smartcar.com"):
        assert len(vehicles_for_test_email(outside)) == 1
    for vehicle in three:
        assert vehicle.year in vehicle.spec.years
        assert vehicle.permissions == permissions_for(vehicle.spec)


@pytest.mark.parametrize("email", ["ada@example.com", "0b3f2c1e-0000-4000-8000-000000000000@email.com"])
def test_any_other_email_gives_one_vehicle_that_grants_everything(email: str) -> None:
    # The official SDKs' end-to-end suites sign in with a random e-mail and require read_fuel,
    # read_battery and read_charge at once: Smartcar's test account grants them all.
    [vehicle] = vehicles_for_test_email(email)
    assert vehicle.permissions == frozenset(PERMISSIONS) and vehicle.level == "compatible"


def test_the_same_email_gives_the_same_vehicles() -> None:
    assert vehicles_for_test_email("12-vehicles@smartcar.com") == vehicles_for_test_email(" 12-Vehicles@SmartCar.com ")
    assert vehicles_for_test_email("ada@example.com") != vehicles_for_test_email("grace@example.com")


@pytest.mark.parametrize(
    ("level", "powertrains", "has", "lacks"),
    [
        ("compatible", {"BEV", "PHEV", "HEV", "ICE"}, {"read_fuel", "read_charge"}, set()),
        ("phev", {"PHEV"}, {"read_fuel", "read_charge", "control_charge"}, set()),
        ("bev", {"BEV"}, {"read_battery", "read_charge", "control_charge"}, {"read_fuel", "read_engine_oil"}),
        ("fuel", {"ICE", "HEV"}, {"read_fuel", "read_engine_oil"}, {"read_charge", "control_charge"}),
    ],
)
def test_vin_at_level(level: str, powertrains: set[str], has: set[str], lacks: set[str]) -> None:
    vin = "1HGCM82633A004352"
    [vehicle] = vehicles_for_test_email(f"{vin.lower()}@{level}.smartcar.com")
    assert vehicle.vin == vin and vehicle.level == level
    assert vehicle.spec.powertrain in powertrains
    assert has <= vehicle.permissions and not (lacks & vehicle.permissions)


def test_incompatible_vin_grants_nothing() -> None:
    [vehicle] = vehicles_for_test_email("1HGCM82633A004352@incompatible.smartcar.com")
    assert vehicle.permissions == frozenset() and vehicle.level == "incompatible"


def test_vin_picks_its_make_and_year_when_it_can() -> None:
    [tesla] = vehicles_for_test_email("5YJ3E1EA7KF317000@bev.smartcar.com")
    assert tesla.spec.make == "TESLA" and tesla.year == 2019
    [honda] = vehicles_for_test_email("1HGCM82633A004352@fuel.smartcar.com")
    assert honda.spec.make == "HONDA"


def test_successful_request_email() -> None:
    [vehicle] = vehicles_for_test_email("smartcar@successful-request.com")
    assert vehicle.vin == SUCCESSFUL_REQUEST_VIN and vehicle.spec.make == "AUDI"
    assert vehicle.permissions == frozenset(PERMISSIONS)


def test_anything_else_is_one_vehicle() -> None:
    [vehicle] = vehicles_for_test_email("someone@example.com")
    assert len(vehicle.vin) == 17 and vehicle.spec in ALL_MODELS
    # A 17-character local part without a known level is just an address.
    assert vehicles_for_test_email("1HGCM82633A004352@example.com")[0].vin != "1HGCM82633A004352"


@given(email=st.emails())
def test_any_email_gives_plausible_vehicles(email: str) -> None:
    vehicles = vehicles_for_test_email(email)
    assert 1 <= len(vehicles) <= 999
    assert vehicles == vehicles_for_test_email(email)
    for vehicle in vehicles:
        assert len(vehicle.vin) == 17 and vehicle.vin.isalnum()
        assert vehicle.permissions <= frozenset(PERMISSIONS)


def test_vin_check_digit_of_known_vins() -> None:
    # Well-known examples with valid check digits.
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"
    assert vin_check_digit("11111111111111111") == "1"
    assert vin_check_digit("1HGCM82633A004352") == "3"


def test_make_vin_is_plausible() -> None:
    rng = random.Random(5)
    for spec in ALL_MODELS:
        for _ in range(5):
            year = rng.choice(spec.years)
            vin = make_vin(rng, spec, year)
            assert len(vin) == 17 and not set(vin) & set("IOQ")
            assert vin[8] == vin_check_digit(vin)
            make = catalogue.find_make(spec.make)
            assert make is not None and vin[:3] in make.wmis
            assert year in years_for_code(vin[9])
    assert make_vin(random.Random(1), ALL_MODELS[0]) == make_vin(random.Random(1), ALL_MODELS[0])
