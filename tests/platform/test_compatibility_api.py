"""The Compatibility APIs: v2 by VIN and the matrix (client credentials), v3 compatible vehicles
(open), answered from the catalogue the simulated cars are made of."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from motorpool.platform.sim import catalogue

from ..support.api import READ_ALL, assert_error, fleet, get
from ..support.harness import PlatformHarness

BY_VIN = "/v2.0/compatibility"
MATRIX = "/v2.0/compatibility/matrix"
COMPATIBLE = "/v3/compatible-vehicles"


def basic(client_id: str, client_secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()}


async def v2(platform: PlatformHarness, path: str, headers: dict[str, str] | None = None, **params: str) -> Any:
    """A v2 compatibility call with the development application's credentials."""
    headers = headers if headers is not None else basic(platform.client_id, platform.client_secret)
    return await platform.http.get(path, headers=headers, params=params)


async def test_a_fleet_cars_vin_answers_what_the_car_serves(platform: PlatformHarness) -> None:
    cars = await fleet(platform)
    user_id, _ = await platform.connect("reader@example.com", scope=READ_ALL)
    for car in cars.values():
        spec = catalogue.find_model(car["make"], car["model"])
        assert spec is not None
        country = "US" if "NA" in spec.markets else "DE"  # a fleet's petrol car may be a Golf
        response = await v2(
            platform, BY_VIN, vin=car["vin"], scope="read_fuel read_battery read_tires read_odometer", country=country
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"compatible", "reason", "capabilities"}
        assert body["compatible"] is True and body["reason"] is None
        rows = {(c["permission"], c["endpoint"]): c for c in body["capabilities"]}
        assert set(rows) == {
            ("read_fuel", "/fuel"), ("read_battery", "/battery"), ("read_battery", "/battery/capacity"),
            ("read_battery", "/battery/nominal_capacity"), ("read_tires", "/tires/pressure"),
            ("read_odometer", "/odometer"),
        }  # fmt: skip
        for row in rows.values():
            assert set(row) == {"permission", "endpoint", "capable", "reason"}
            assert (row["reason"] is None) == row["capable"]
        # Each capability is what reading the car's signal gives.
        for (permission, endpoint), code in {
            ("read_fuel", "/fuel"): "internalcombustionengine-fuellevel",
            ("read_battery", "/battery"): "tractionbattery-stateofcharge",
            ("read_tires", "/tires/pressure"): "wheel-tires",
            ("read_odometer", "/odometer"): "odometer-traveleddistance",
        }.items():
            read = await get(platform, f"/v3/vehicles/{car['id']}/signals/{code}", user_id)
            assert rows[permission, endpoint]["capable"] == (read.status_code == 200), (car["model"], code)
            if read.status_code != 200:
                assert read.status_code == 501
    assert any(not c["capable"] and c["reason"] == "VEHICLE_NOT_CAPABLE"
               for c in (await v2(platform, BY_VIN, vin=cars["BEV"]["vin"], scope="read_fuel")).json()["capabilities"])  # fmt: skip


async def test_vins_that_are_not_compatible(sqlite_platform: PlatformHarness) -> None:
    unknown = (await v2(sqlite_platform, BY_VIN, vin="0SCAUDI037A5ADB1C", scope="read_odometer")).json()
    assert unknown == {"compatible": False, "reason": "MAKE_NOT_COMPATIBLE", "capabilities": []}
    car = (await fleet(sqlite_platform))["BEV"]
    elsewhere = (await v2(sqlite_platform, BY_VIN, vin=car["vin"], scope="read_odometer", country="JP")).json()
    assert elsewhere["compatible"] is False and elsewhere["reason"] == "MAKE_NOT_COMPATIBLE"
    # Lower-case VINs are the same VIN; the country defaults to the US.
    same = await v2(sqlite_platform, BY_VIN, vin=car["vin"].lower(), scope="read_odometer")
    assert same.json()["compatible"] is True


async def test_test_mode_levels(sqlite_platform: PlatformHarness) -> None:
    params = {"vin": "0SCAUDI037A5ADB1C", "scope": "read_battery read_fuel", "mode": "test"}
    bev = (await v2(sqlite_platform, BY_VIN, test_mode_compatibility_level="bev", **params)).json()
    assert bev["compatible"] is True
    assert {c["permission"]: c["capable"] for c in bev["capabilities"]} == {"read_battery": True, "read_fuel": False}
    none = (await v2(sqlite_platform, BY_VIN, test_mode_compatibility_level="incompatible", **params)).json()
    assert none == {"compatible": False, "reason": "VEHICLE_NOT_COMPATIBLE", "capabilities": []}


@pytest.mark.parametrize(
    "params",
    [
        {"scope": "read_odometer"},
        {"vin": "5YJ3E1EA7KF31", "scope": "read_odometer"},
        {"vin": "5YJ3E1EA7KF317-00", "scope": "read_odometer"},
        {"vin": "5YJ3E1EA7KF317000"},
        {"vin": "5YJ3E1EA7KF317000", "scope": "read_odometer read_minds"},
        {"vin": "5YJ3E1EA7KF317000", "scope": "read_odometer", "country": "USA"},
        {"vin": "5YJ3E1EA7KF317000", "scope": "read_odometer", "mode": "sandbox"},
        {"vin": "5YJ3E1EA7KF317000", "scope": "read_odometer", "test_mode_compatibility_level": "maybe"},
    ],
)
async def test_bad_by_vin_parameters(sqlite_platform: PlatformHarness, params: dict[str, str]) -> None:
    assert_error(await v2(sqlite_platform, BY_VIN, **params), 400, "VALIDATION")


async def test_the_v2_calls_need_the_client_credentials(sqlite_platform: PlatformHarness) -> None:
    params = {"vin": "5YJ3E1EA7KF317000", "scope": "read_odometer", "region": "US"}
    for path in (BY_VIN, MATRIX):
        for headers in (
            {},
            {"Authorization": f"Bearer {await sqlite_platform.token()}"},
            basic(sqlite_platform.client_id, "scs_wrong"),
            basic("client_unknown", sqlite_platform.client_secret),
            {"Authorization": "Basic ###"},
        ):
            body = assert_error(await v2(sqlite_platform, path, headers, **params), 401, "AUTHENTICATION")
            assert body["code"] is None
        # Credentials are checked before the parameters.
        assert_error(await v2(sqlite_platform, path, {}), 401, "AUTHENTICATION")


async def test_the_matrix(sqlite_platform: PlatformHarness) -> None:
    us = await v2(sqlite_platform, MATRIX, region="US")
    assert us.status_code == 200, us.text
    body = us.json()
    assert "TESLA" in body and "VOLKSWAGEN" in body
    assert [m["model"] for m in body["VOLKSWAGEN"]] == ["ID.4"]  # the Golf is sold in Europe only
    model_3 = next(m for m in body["TESLA"] if m["model"] == "Model 3")
    assert set(model_3) == {"model", "startYear", "endYear", "type", "endpoints", "permissions"}
    assert (model_3["startYear"], model_3["endYear"], model_3["type"]) == (2017, 2025, "BEV")
    assert {"Lock & unlock", "EV battery", "Tire pressure"} <= set(model_3["endpoints"])
    assert "control_security" in model_3["permissions"] and "read_fuel" not in model_3["permissions"]

    europe = (await v2(sqlite_platform, MATRIX, region="EUROPE", make="volkswagen tesla")).json()
    assert set(europe) == {"VOLKSWAGEN", "TESLA"} and "Golf" in [m["model"] for m in europe["VOLKSWAGEN"]]
    hybrids = (await v2(sqlite_platform, MATRIX, region="CA", type="PHEV", scope="read_fuel control_charge")).json()
    assert hybrids and all(m["type"] == "PHEV" for models in hybrids.values() for m in models)
    assert all(set(m["permissions"]) == {"read_fuel", "control_charge"} for models in hybrids.values() for m in models)
    assert (await v2(sqlite_platform, MATRIX, region="US", make="DeLorean")).json() == {}


@pytest.mark.parametrize(
    "params", [{}, {"region": "MARS"}, {"region": "US", "type": "STEAM"}, {"region": "US", "scope": "read_minds"}]
)
async def test_bad_matrix_parameters(sqlite_platform: PlatformHarness, params: dict[str, str]) -> None:
    assert_error(await v2(sqlite_platform, MATRIX, **params), 400, "VALIDATION")


async def test_compatible_vehicles_need_no_credentials(platform: PlatformHarness) -> None:
    response = await platform.http.get(COMPATIBLE)
    assert response.status_code == 200, response.text
    assert "max-age=86400" in response.headers["cache-control"]
    body = response.json()
    assert body["meta"]["totalCount"] == len(body["data"]) > 10
    resource = body["data"][0]
    assert resource["type"] == "compatible-vehicle"
    assert set(resource["attributes"]) == {
        "make", "makeName", "model", "powertrainType", "startYear", "endYear", "years", "regions",
        "permissions", "signals", "commands",
    }  # fmt: skip

    teslas = (await platform.http.get(COMPATIBLE, params={"filter[make]": "tEsLa"})).json()["data"]
    assert [t["id"] for t in teslas] == ["tesla-model-3", "tesla-model-y"]
    europe = (await platform.http.get(COMPATIBLE, params={"filter[region]": "EUROPE"})).json()["data"]
    assert all("EUROPE" in v["attributes"]["regions"] for v in europe)
    assert "toyota-rav4-prime" not in {v["id"] for v in europe} and "volkswagen-golf" in {v["id"] for v in europe}
    assert (await platform.http.get(COMPATIBLE, params={"filter[make]": "DeLorean"})).json()["data"] == []


async def test_a_listed_model_reports_exactly_its_listed_signals(platform: PlatformHarness) -> None:
    cars = await fleet(platform)
    user_id, _ = await platform.connect("everything@example.com", scope=READ_ALL)
    listed = {(v["attributes"]["make"], v["attributes"]["model"]): v["attributes"]
              for v in (await platform.http.get(COMPATIBLE)).json()["data"]}  # fmt: skip
    for car in cars.values():
        attributes = listed[car["make"], car["model"]]
        signals = (await get(platform, f"/v3/vehicles/{car['id']}/signals", user_id)).json()["data"]
        incapable = {
            s["attributes"]["code"] for s in signals
            if (s["attributes"]["status"].get("error") or {}).get("code") == "VEHICLE_NOT_CAPABLE"
        }  # fmt: skip
        every = {s["attributes"]["code"] for s in signals}
        assert set(attributes["signals"]) == every - incapable, car["model"]
        assert car["year"] in attributes["years"]


async def test_a_bad_region_is_a_v3_validation_error(sqlite_platform: PlatformHarness) -> None:
    body = assert_error(await sqlite_platform.http.get(COMPATIBLE, params={"filter[region]": "ASIA"}), 400, "VALIDATION")
    assert body["errors"][0]["source"] == {"parameter": "filter[region]"}


async def test_the_openapi_document_describes_the_compatibility_apis(sqlite_platform: PlatformHarness) -> None:
    spec = (await sqlite_platform.http.get("/openapi.json")).json()
    for path in (BY_VIN, MATRIX, COMPATIBLE):
        assert "get" in spec["paths"][path], path
    attributes = spec["components"]["schemas"]["CompatibleVehicleAttributes"]["properties"]
    assert {"signals", "commands", "regions", "years"} <= set(attributes)
    assert "Compatibility" in {tag["name"] for tag in spec["tags"]}
