from __future__ import annotations

import random

import pytest

from motorpool.platform.sim import catalogue
from motorpool.platform.sim.catalogue import POWERTRAINS, ModelSpec

from .conftest import ALL_MODELS


def test_catalogue_spans_every_powertrain_with_real_models() -> None:
    assert 20 <= len(ALL_MODELS) <= 40
    for powertrain in POWERTRAINS:
        assert len(catalogue.models(powertrain)) >= 3, powertrain
    expected = {
        ("TESLA", "Model 3"), ("TESLA", "Model Y"), ("VOLKSWAGEN", "ID.4"), ("FORD", "Mustang Mach-E"),
        ("HYUNDAI", "Ioniq 5"), ("KIA", "EV6"), ("NISSAN", "Leaf"), ("BMW", "i4"), ("RIVIAN", "R1S"),
        ("VOLVO", "XC40 Recharge"), ("AUDI", "Q4 e-tron"), ("TOYOTA", "RAV4 Prime"), ("VOLVO", "XC60 Recharge"),
        ("JEEP", "Wrangler 4xe"), ("BMW", "X5 xDrive50e"), ("TOYOTA", "Prius"), ("HONDA", "Accord Hybrid"),
        ("FORD", "Maverick Hybrid"), ("TOYOTA", "Camry"), ("HONDA", "Civic"), ("FORD", "F-150"),
        ("VOLKSWAGEN", "Golf"), ("BMW", "3 Series"),
    }
    assert expected <= {(m.make, m.model) for m in ALL_MODELS}
    assert len({(m.make, m.model) for m in ALL_MODELS}) == len(ALL_MODELS), "no duplicates"


def test_models_filter_by_powertrain_case_insensitively() -> None:
    assert all(m.powertrain == "PHEV" for m in catalogue.models("phev"))
    assert catalogue.models() == ALL_MODELS
    with pytest.raises(ValueError):
        catalogue.models("STEAM")


def test_find_model_by_code_or_display_name() -> None:
    spec = catalogue.find_model("TESLA", "Model 3")
    assert spec is not None and spec.make_display == "Tesla"
    assert catalogue.find_model("tesla", "model 3") is spec
    assert catalogue.find_model("Tesla", "MODEL 3") is spec
    assert catalogue.find_model("TESLA", "Cybertruck") is None
    assert catalogue.find_model("DELOREAN", "DMC-12") is None


def test_pick_model_follows_the_rng() -> None:
    first = [catalogue.pick_model(random.Random(seed)) for seed in range(50)]
    again = [catalogue.pick_model(random.Random(seed)) for seed in range(50)]
    assert first == again
    assert len(set(first)) > 10
    assert all(catalogue.pick_model(random.Random(s), "HEV").powertrain == "HEV" for s in range(20))


def test_makes_for_the_brand_selector() -> None:
    makes = catalogue.makes()
    codes = [m.code for m in makes]
    assert len(codes) == len(set(codes))
    assert {m.make for m in ALL_MODELS} == set(codes), "every make has models and every model a make"
    assert [m.name.lower() for m in makes] == sorted(m.name.lower() for m in makes)
    for make in makes:
        assert make.code == make.code.upper() and " " not in make.code
        assert make.name and all(len(w) == 3 for w in make.wmis)
        assert catalogue.find_make(make.name) is make and catalogue.find_make(make.code.lower()) is make


def test_schedule_support_follows_the_reference() -> None:
    for spec in ALL_MODELS:
        if spec.make == "TESLA":
            assert spec.charge_schedule_types == ("daily", "weekly", "workweek")
        elif spec.make == "VOLVO":
            assert spec.charge_schedule_types == ("daily",)
        else:
            assert not spec.supports_charge_schedules, spec


def _check_plausible(spec: ModelSpec) -> None:
    assert spec.years == tuple(range(spec.years[0], spec.years[-1] + 1)) and 2010 <= spec.years[0] <= spec.years[-1] <= 2026
    assert 180 <= spec.tyre_kpa_front <= 350 and 180 <= spec.tyre_kpa_rear <= 350
    assert spec.trims and spec.colours and spec.wheel_styles and spec.drive_modes
    assert spec.door_rows * spec.door_columns >= 2
    if spec.is_plug_in:
        assert spec.batteries and spec.max_ac_kw > 0 and spec.pack_voltage >= 300
        assert all(t.battery < len(spec.batteries) for t in spec.trims)
        for battery in spec.batteries:
            # Rated range is close to what the consumption makes of the capacity.
            implied = battery.usable_kwh / spec.kwh_per_100km * 100
            assert 0.6 < battery.rated_range_km / implied < 1.6, (spec, battery)
    else:
        assert not spec.batteries and spec.max_ac_kw == 0 and spec.kwh_per_100km == 0
    if spec.powertrain == "BEV":
        assert spec.tank_l == 0 and spec.l_per_100km == 0 and spec.fuel_type is None
        assert 15 <= spec.battery_kwh <= 150 and 200 <= spec.rated_range_km <= 700
    else:
        assert spec.tank_l >= 35 and 3 <= spec.l_per_100km <= 15 and spec.fuel_type in ("GASOLINE", "DIESEL")
    if spec.powertrain == "PHEV":
        assert 8 <= spec.battery_kwh <= 30 and spec.batteries[0].rated_range_km < 120
    if spec.powertrain == "HEV":
        assert spec.l_per_100km < 7


def test_specifications_are_plausible(any_model: ModelSpec) -> None:
    _check_plausible(any_model)


def test_plausibility_check_catches_nonsense() -> None:
    spec = catalogue.find_model("TESLA", "Model 3")
    assert spec is not None
    from dataclasses import replace

    with pytest.raises(AssertionError):
        _check_plausible(replace(spec, kwh_per_100km=2.0))
    with pytest.raises(AssertionError):
        _check_plausible(replace(spec, tank_l=50.0))


def test_make_for_wmi() -> None:
    assert catalogue.make_for_wmi("5YJ") is catalogue.find_make("TESLA")
    assert catalogue.make_for_wmi("wvw") is catalogue.find_make("VOLKSWAGEN")
    assert catalogue.make_for_wmi("ZZZ") is None
