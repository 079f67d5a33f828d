"""Smartcar's official SDKs, unchanged, against motorpool: Python ``smartcar`` 6.19.1 and Node
``smartcar`` 9.15.0 and 10.4.0, each pointed at a platform on a real socket only by the origin
variables its documentation names, each making every call it offers that sends a request.

Every value an SDK returns is compared with what motorpool's own v3 API answers for the same
vehicle at the same (frozen) simulated instant: the SDK's odometer distance is the value of
``odometer-traveleddistance``, its battery's ``percentRemaining`` that of
``tractionbattery-stateofcharge`` as a fraction, and so on.

A call whose surface motorpool does not serve yet can be marked an expected failure
(``over_sdks(python="why")``: a strict xfail, so the suite fails once it passes). Not covered yet:
the webhook calls (``Vehicle.subscribe``/``unsubscribe``, ``hash_challenge``, ``verify_payload``)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from ..support.api import clock, steer
from ..support.connect_pages import go_through_connect, query_of
from ..support.official_sdks import SDKS, DriverFailed, DriverRun, OfficialSdk, run_driver
from ..support.socket_platform import SocketPlatform, platform_on_socket

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

# --- which SDKs a test runs over ------------------------------------------------------------


def over_sdks(*, only: tuple[str, ...] = tuple(SDKS), **expected_failures: str) -> pytest.MarkDecorator:
    """Run a test for each SDK in ``only``; ``expected_failures`` maps an SDK's name to the
    missing feature its call needs (a strict expected failure, on the call's own assertions)."""
    params = [
        pytest.param(
            name,
            id=name,
            marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=expected_failures[name])]
            if name in expected_failures
            else [],
        )
        for name in only
    ]
    return pytest.mark.parametrize("sdk", params)


# --- the platform's own view ----------------------------------------------------------------


@dataclass
class Sight:
    """What motorpool's v3 API says about a user's vehicle at one instant."""

    vehicle: dict[str, Any]
    signals: dict[str, dict[str, Any]]
    connections: list[dict[str, Any]]

    def body(self, code: str) -> dict[str, Any]:
        attributes = self.signals[code]
        assert attributes["status"]["value"] == "SUCCESS", attributes
        body: dict[str, Any] = attributes["body"]
        return body

    def value(self, code: str) -> Any:
        return self.body(code)["value"]


async def look(platform: SocketPlatform, token: str, user_id: str, vehicle_id: str) -> Sight:
    headers = {"Authorization": f"Bearer {token}", "sc-user-id": user_id}
    async with platform.http() as http:
        vehicle = await http.get(f"/v3/vehicles/{vehicle_id}", headers=headers)
        signals = await http.get(f"/v3/vehicles/{vehicle_id}/signals", headers=headers)
    assert vehicle.status_code == 200, vehicle.text
    assert signals.status_code == 200, signals.text
    listed = {s["id"]: s["attributes"] for s in signals.json()["data"]}
    return Sight(vehicle.json(), listed, await connections_of(platform, token, user_id))


async def connections_of(platform: SocketPlatform, token: str, user_id: str) -> list[dict[str, Any]]:
    async with platform.http() as http:
        listed = await http.get(
            "/v3/connections", params={"filter[userId]": user_id},
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
    assert listed.status_code == 200, listed.text
    connections: list[dict[str, Any]] = listed.json()["connections"]
    return connections


# --- one run of an SDK's driver ---------------------------------------------------------------

#: Each SDK's owner: a test-mode VIN whose car (a BMW X5 xDrive50e, a plug-in hybrid) has every
#: signal the v2 calls read, fuel and battery alike.
OWNERS = {
    "python": "WBY8P2C58K7D12341@phev.example.com",
    "node9": "WBY8P2C58K7D12342@phev.example.com",
    "node10": "WBY8P2C58K7D12343@phev.example.com",
}


@dataclass
class SdkRun:
    """A driver's run, and what the platform said around it."""

    sdk: OfficialSdk
    driver: DriverRun = field(init=False)
    redirect: dict[str, str] = field(default_factory=dict)
    vehicle_id: str = ""
    other_user_id: str = ""
    other_vehicle_id: str = ""
    before: Sight | None = None
    after_commands: Sight | None = None
    other_after: list[dict[str, Any]] = field(default_factory=list)
    mine_after: list[dict[str, Any]] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return self.redirect["user_id"]

    @property
    def sight(self) -> Sight:
        assert self.before is not None
        return self.before

    def returned(self, name: str) -> Any:
        return self.driver.returned(name)

    def pick(self, value: dict[str, Any], key: str) -> Any:
        """A field of a returned value by its wire name: the Python SDK snake-cases most of them
        (``percent_remaining``), the Node SDKs keep the wire's (``percentRemaining``)."""
        if key in value:
            return value[key]
        return value[snake(key)]


def snake(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", camel).lower()


async def run_sdk(sdk: OfficialSdk, platform: SocketPlatform, token: str, amt: str) -> SdkRun:
    """Prepare another user to be deleted through the management API, run the driver, walk
    Connect at its checkpoint as the owner, look at the car before and after the commands, and
    at both users' connections at the end."""
    run = SdkRun(sdk)
    fleet_car = await platform.admin(
        "POST", "/admin/vehicles", json={"applicationId": platform.application_id, "powertrainType": "BEV"}
    )
    other = await platform.admin(
        "POST", f"/admin/applications/{platform.application_id}/connections",
        json={"email": f"other-{sdk.name}@example.com", "mode": "simulated", "vehicleIds": [fleet_car["id"]]},
    )  # fmt: skip
    run.other_user_id, run.other_vehicle_id = other["userId"], other["vehicleIds"][0]

    async def connect(said: dict[str, Any]) -> dict[str, Any]:
        async with platform.http() as browser:
            last = await go_through_connect(browser, await browser.get(said["url"]), email=OWNERS[sdk.name])
        run.redirect = query_of(last)
        (connection,) = await connections_of(platform, token, run.user_id)
        run.vehicle_id = connection["vehicleId"]
        # Awake, so that commands apply at once; plugged in, so that charging can start.
        await steer(platform, run.vehicle_id, "wake")
        await steer(platform, run.vehicle_id, "plug", plugged=True)
        run.before = await look(platform, token, run.user_id, run.vehicle_id)
        return {
            "code": run.redirect["code"],
            "user_id": run.user_id,
            "vehicle_id": run.vehicle_id,
            "vin": run.before.value("vehicleidentification-vin"),
            "make": run.before.vehicle["make"],
            "other_user_id": run.other_user_id,
        }

    async def commands(said: dict[str, Any]) -> dict[str, Any]:
        run.after_commands = await look(platform, token, run.user_id, run.vehicle_id)
        return {}

    run.driver = await run_driver(
        sdk, platform, {"APPLICATION_MANAGEMENT_TOKEN": amt}, {"connect": connect, "commands": commands}
    )
    run.other_after = await connections_of(platform, token, run.other_user_id)
    run.mine_after = await connections_of(platform, token, run.user_id)
    return run


class SdkRuns:
    """Each SDK's driver, run once per module on first use (a broken run fails every test of
    its SDK with the same error)."""

    def __init__(self, platform: SocketPlatform) -> None:
        self.platform = platform
        self.runs: dict[str, SdkRun | BaseException] = {}
        self.lock = asyncio.Lock()

    async def of(self, name: str) -> SdkRun:
        sdk = SDKS[name]
        sdk.require()
        async with self.lock:
            if name not in self.runs:
                try:
                    token = await self.platform.app_token()
                    amt = self.platform.env()["APPLICATION_MANAGEMENT_TOKEN"]
                    self.runs[name] = await run_sdk(sdk, self.platform, token, amt)
                except Exception as broken:  # noqa: BLE001 - kept, raised again for each test
                    self.runs[name] = broken
        outcome = self.runs[name]
        if isinstance(outcome, BaseException):
            raise DriverFailed(f"{name}: the run broke: {outcome!r}") from outcome
        return outcome


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SocketPlatform]:
    with platform_on_socket(tmp_path_factory.mktemp("official")) as served:
        # Frozen: the SDKs' readings and the v3 readings they are compared with are of one instant.
        await clock(served, "PUT", rate=0)
        yield served


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def runs(platform: SocketPlatform) -> SdkRuns:
    return SdkRuns(platform)


# --- the SDKs themselves ----------------------------------------------------------------------


@over_sdks()
async def test_the_installed_release_is_the_pinned_one(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    assert run.returned("sdk_version") == run.sdk.version


# --- auth: Connect URL, code exchange, refresh ------------------------------------------------


@over_sdks()
async def test_the_connect_url_is_on_motorpool_and_leads_through_connect(
    runs: SdkRuns, platform: SocketPlatform, sdk: str
) -> None:
    run = await runs.of(sdk)
    url = run.returned("get_auth_url")
    assert url.startswith(f"{platform.origin}/oauth/authorize?")
    assert f"client_id={platform.env()['SMARTCAR_CLIENT_ID']}" in url and "mode=test" in url
    assert run.redirect["state"] == "official-sdk" and run.redirect["code"]


@over_sdks()
async def test_exchange_code_gives_a_two_hour_user_token_and_a_refresh_token(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    access = run.returned("exchange_code")
    assert run.pick(access, "accessToken") and run.pick(access, "refreshToken").startswith("rt_")
    expiration = datetime.fromisoformat(access["expiration"])
    if expiration.tzinfo is None:  # the Python SDK's naive UTC
        expiration = expiration.replace(tzinfo=UTC)
    assert abs(expiration - datetime.now(UTC) - timedelta(hours=2)) < timedelta(minutes=5)
    if run.sdk.language == "python":
        assert access["token_type"] == "Bearer" and access["expires_in"] == 7200


@over_sdks()
async def test_exchange_refresh_token_gives_a_new_pair(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    first, second = run.returned("exchange_code"), run.returned("exchange_refresh_token")
    assert run.pick(second, "refreshToken") != run.pick(first, "refreshToken")
    assert run.pick(second, "accessToken") != run.pick(first, "accessToken")


# --- the user and their vehicles --------------------------------------------------------------


@over_sdks()
async def test_get_user_is_the_user_connect_redirected_with(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    assert run.returned("get_user")["id"] == run.user_id


@over_sdks()
async def test_get_vehicles_lists_the_connected_vehicle(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    listed = run.returned("get_vehicles")
    assert listed["vehicles"] == [run.vehicle_id]
    assert listed["paging"] == {"count": 1, "offset": 0}


# --- vehicle reads, compared with the v3 signals ----------------------------------------------


@over_sdks()
async def test_attributes(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    attributes, vehicle = run.returned("attributes"), run.sight.vehicle
    assert attributes["id"] == run.vehicle_id
    assert (attributes["make"], attributes["model"], attributes["year"]) == (
        vehicle["make"], vehicle["model"], vehicle["year"],
    )  # fmt: skip


@over_sdks()
async def test_vin(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    assert run.returned("vin")["vin"] == run.sight.value("vehicleidentification-vin")


@over_sdks()
async def test_odometer(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    assert run.returned("odometer")["distance"] == pytest.approx(run.sight.value("odometer-traveleddistance"))


@over_sdks()
async def test_location(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    location, precise = run.returned("location"), run.sight.body("location-preciselocation")
    assert (location["latitude"], location["longitude"]) == pytest.approx(
        (precise["latitude"], precise["longitude"])
    )


@over_sdks()
async def test_battery(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    battery = run.returned("battery")
    assert run.pick(battery, "percentRemaining") == pytest.approx(
        run.sight.value("tractionbattery-stateofcharge") / 100
    )
    assert battery["range"] == pytest.approx(run.sight.value("tractionbattery-range"))


@over_sdks()
async def test_battery_capacity(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    capacity = run.returned("battery_capacity")["capacity"]
    assert capacity == pytest.approx(run.sight.body("tractionbattery-nominalcapacity")["capacity"])


@over_sdks()
async def test_nominal_capacity(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    nominal, v3 = run.returned("nominal_capacity"), run.sight.body("tractionbattery-nominalcapacity")
    assert [
        {"capacity": c["capacity"], "description": c["description"]} for c in nominal["availableCapacities"]
    ] == v3["availableCapacities"]
    assert nominal["capacity"] == {"nominal": v3["capacity"], "source": v3["source"]}


@over_sdks()
async def test_charge(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    charge = run.returned("charge")
    assert run.pick(charge, "isPluggedIn") is run.sight.value("charge-ischargingcableconnected") is True
    assert charge["state"] == run.sight.value("charge-detailedchargingstatus")


def global_limit(sight: Sight) -> float:
    """The vehicle-wide charge limit (percent) of ``charge-chargelimits``: the one v2's
    ``/charge/limit`` reads and sets."""
    limits = sight.body("charge-chargelimits")["values"]
    (limit,) = [item["limit"] for item in limits if item["type"] == "GLOBAL"]
    return float(limit)


@over_sdks()
async def test_get_charge_limit(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    assert run.returned("get_charge_limit")["limit"] == pytest.approx(global_limit(run.sight) / 100)


@over_sdks()
async def test_fuel(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    fuel, sight = run.returned("fuel"), run.sight
    assert fuel["range"] == pytest.approx(sight.value("internalcombustionengine-range"))
    assert run.pick(fuel, "percentRemaining") == pytest.approx(sight.value("internalcombustionengine-fuellevel") / 100)
    assert run.pick(fuel, "amountRemaining") == pytest.approx(sight.value("internalcombustionengine-amountremaining"))


@over_sdks()
async def test_engine_oil(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    life = run.pick(run.returned("engine_oil"), "lifeRemaining")
    assert life == pytest.approx(run.sight.value("internalcombustionengine-oillife") / 100)


#: v2's names of the four corners of ``row``/``column`` grids (row 0 is the front, column 0 left).
CORNERS = {(0, 0): "frontLeft", (0, 1): "frontRight", (1, 0): "backLeft", (1, 1): "backRight"}


@over_sdks()
async def test_tire_pressure(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    pressures = run.returned("tire_pressure")
    tires = run.sight.body("wheel-tires")["values"]
    expected = {CORNERS[(t["row"], t["column"])]: t["tirePressure"] for t in tires}
    assert {corner: run.pick(pressures, corner) for corner in expected} == pytest.approx(expected)


def open_or_closed(is_open: bool) -> str:
    return "OPEN" if is_open else "CLOSED"


@over_sdks()
async def test_lock_status(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    status, sight = run.returned("lock_status"), run.sight
    assert run.pick(status, "isLocked") is sight.value("closure-islocked")
    doors = {CORNERS[(d["row"], d["column"])]: open_or_closed(d["isOpen"]) for d in sight.body("closure-doors")["values"]}
    windows = {CORNERS[(w["row"], w["column"])]: open_or_closed(w["isOpen"]) for w in sight.body("closure-windows")["values"]}
    assert {d["type"]: d["status"] for d in status["doors"]} == doors
    assert {w["type"]: w["status"] for w in status["windows"]} == windows
    assert status["sunroof"] == [{"type": "sunroof", "status": open_or_closed(sight.body("closure-sunroof")["isOpen"])}]
    storage = {s["type"]: s["status"] for s in status["storage"]}
    assert storage["rear"] == open_or_closed(sight.body("closure-reartrunk")["isOpen"])
    port = open_or_closed(sight.value("charge-ischargingportflapopen"))
    assert run.pick(status, "chargingPort") == [{"type": "chargingPort", "status": port}]


@over_sdks()
async def test_permissions_are_the_granted_scope(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    permissions = run.returned("permissions")
    (connection,) = run.sight.connections
    assert sorted(permissions["permissions"]) == sorted(connection["permissions"])
    assert permissions["paging"] == {"count": len(connection["permissions"]), "offset": 0}


@over_sdks()
async def test_service_history_is_the_last_years_service_records(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    answer = run.returned("service_history")
    items = answer["items"] if run.sdk.language == "python" else answer["data"]
    frozen_now = datetime.fromisoformat((await clock(runs.platform))["now"])
    recent = [
        r for r in run.sight.body("service-records")["values"]
        if datetime.fromisoformat(r["time"]) >= frozen_now - timedelta(days=365)
    ]  # fmt: skip
    assert recent, "the vehicle has service records of the last year"
    assert sorted(
        (item["odometerDistance"], item["serviceCost"]["totalCost"], item["serviceCost"]["currency"],
         [task["taskDescription"] for task in item["serviceTasks"]])
        for item in items
    ) == sorted(
        (record["odometer"]["value"], record["cost"]["amount"], record["cost"]["currency"],
         [task["description"] for task in record["tasks"]])
        for record in recent
    )  # fmt: skip


#: v2's system ids of the v3 diagnostics signals.
SYSTEM_IDS = {
    "diagnostics-abs": "SYSTEM_ABS",
    "diagnostics-activesafety": "SYSTEM_ACTIVE_SAFETY",
    "diagnostics-airbag": "SYSTEM_AIRBAG",
    "diagnostics-brakefluid": "SYSTEM_BRAKE_FLUID",
    "diagnostics-driverassistance": "SYSTEM_DRIVER_ASSISTANCE",
    "diagnostics-emissions": "SYSTEM_EMISSIONS",
    "diagnostics-evbatteryconditioning": "SYSTEM_EV_BATTERY_CONDITIONING",
    "diagnostics-evcharging": "SYSTEM_EV_CHARGING",
    "diagnostics-evdriveunit": "SYSTEM_EV_DRIVE_UNIT",
    "diagnostics-evhvbattery": "SYSTEM_EV_HV_BATTERY",
    "diagnostics-lighting": "SYSTEM_LIGHTING",
    "diagnostics-mil": "SYSTEM_MIL",
    "diagnostics-oillife": "SYSTEM_OIL_LIFE",
    "diagnostics-oilpressure": "SYSTEM_OIL_PRESSURE",
    "diagnostics-oiltemperature": "SYSTEM_OIL_TEMPERATURE",
    "diagnostics-telematics": "SYSTEM_TELEMATICS",
    "diagnostics-tirepressure": "SYSTEM_TIRE_PRESSURE",
    "diagnostics-tirepressuremonitoring": "SYSTEM_TPMS",
    "diagnostics-transmission": "SYSTEM_TRANSMISSION",
    "diagnostics-washerfluid": "SYSTEM_WASHER_FLUID",
    "diagnostics-waterinfuel": "SYSTEM_WATER_IN_FUEL",
}


@over_sdks()
async def test_diagnostic_system_status(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    systems = run.returned("diagnostic_system_status")["systems"]
    expected = {
        system_id: run.sight.signals[code]["body"]["status"]
        for code, system_id in SYSTEM_IDS.items()
        if run.sight.signals[code]["status"]["value"] == "SUCCESS"
    }
    assert expected, "the vehicle reports its systems"
    assert {run.pick(s, "systemId"): s["status"] for s in systems} == expected


@over_sdks()
async def test_diagnostic_trouble_codes(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    codes = run.pick(run.returned("diagnostic_trouble_codes"), "activeCodes")
    assert [c["code"] for c in codes] == [c["code"] for c in run.sight.body("diagnostics-dtclist")["values"]]


#: Each SDK's names of the batch answers of BATCH_PATHS.
BATCH_NAMES = {
    "python": {"odometer": "odometer", "location": "location", "limit": "get_charge_limit",
               "security": "lock_status", "tires": "tire_pressure"},
    "node": {"odometer": "odometer", "location": "location", "limit": "chargeLimit",
             "security": "lockStatus", "tires": "tirePressure"},
}  # fmt: skip


@over_sdks()
async def test_batch_answers_each_path_as_its_own_call_does(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    answers, names = run.returned("batch"), BATCH_NAMES[run.sdk.language]
    assert answers[names["odometer"]]["raised"] is False, answers
    odometer = answers[names["odometer"]]["value"]
    assert odometer["distance"] == pytest.approx(run.sight.value("odometer-traveleddistance"))
    location = answers[names["location"]]["value"]
    precise = run.sight.body("location-preciselocation")
    assert (location["latitude"], location["longitude"]) == pytest.approx((precise["latitude"], precise["longitude"]))
    assert answers[names["limit"]]["value"]["limit"] == pytest.approx(global_limit(run.sight) / 100)
    assert run.pick(answers[names["security"]]["value"], "isLocked") is run.sight.value("closure-islocked")
    tires = answers[names["tires"]]["value"]
    assert run.pick(tires, "frontLeft") == pytest.approx(run.sight.body("wheel-tires")["values"][0]["tirePressure"])


@over_sdks()
async def test_request_is_the_generic_call(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    answer = run.returned("request")
    assert answer["body"]["distance"] == pytest.approx(run.sight.value("odometer-traveleddistance"))


# --- v3 through the SDKs (user tokens, no sc-user-id) -----------------------------------------


@over_sdks(only=("python", "node10"))
async def test_get_signals_lists_what_v3_lists(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    listed = run.returned("get_signals")["body"]["data"]
    assert {s["id"]: s["attributes"] for s in listed} == run.sight.signals


@over_sdks(only=("python", "node10"))
async def test_get_signal_is_the_v3_signal(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    signal = run.returned("get_signal")["body"]["data"]
    assert signal["id"] == "odometer-traveleddistance"
    assert signal["attributes"]["body"] == run.sight.body("odometer-traveleddistance")


@over_sdks(only=("python", "node10"))
async def test_get_vehicle_is_the_v3_vehicle(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    body = run.returned("get_vehicle")["body"]
    assert body["id"] == run.vehicle_id
    assert body["data"]["attributes"] == run.sight.vehicle["data"]["attributes"]


# --- compatibility ------------------------------------------------------------------------------


@over_sdks()
async def test_get_compatibility_of_the_connected_vin(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    answer = run.returned("get_compatibility")
    assert answer["compatible"] is True and answer["reason"] is None
    capabilities = {c["permission"]: c for c in answer["capabilities"]}
    assert set(capabilities) == {"read_odometer", "read_location"}
    assert all(c["capable"] is True and c["reason"] is None for c in capabilities.values())
    assert capabilities["read_odometer"]["endpoint"] == "/odometer"
    assert capabilities["read_location"]["endpoint"] == "/location"


@over_sdks(only=("python", "node10"))
async def test_get_compatibility_matrix_lists_the_connected_model(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    matrix, vehicle = run.returned("get_compatibility_matrix"), run.sight.vehicle
    models = [m for m in matrix[vehicle["make"]] if m["model"] == vehicle["model"]]
    assert models, matrix
    assert any(m["startYear"] <= vehicle["year"] <= m["endYear"] for m in models)
    assert all(m["type"] == vehicle["powertrainType"] for m in models)
    assert all("read_battery" in m["permissions"] for m in models)


# --- management, with the application management token -----------------------------------------


@over_sdks()
async def test_get_connections_of_the_user(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    connections = run.returned("get_connections")["connections"]
    assert [(run.pick(c, "vehicleId"), run.pick(c, "userId")) for c in connections] == [(run.vehicle_id, run.user_id)]
    assert all(run.pick(c, "connectedAt") for c in connections)


@over_sdks()
async def test_delete_connections_of_another_user(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    deleted = run.returned("delete_connections")["connections"]
    assert [(run.pick(c, "vehicleId"), run.pick(c, "userId")) for c in deleted] == [
        (run.other_vehicle_id, run.other_user_id)
    ]
    assert run.other_after == []


# --- commands, checked on the car afterwards ---------------------------------------------------


def succeeded(run: SdkRun, name: str) -> None:
    answer = run.returned(name)
    assert answer["status"] == "success", answer


@over_sdks()
async def test_unlock_then_lock_leaves_the_car_locked(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    succeeded(run, "unlock")
    succeeded(run, "lock")
    assert run.after_commands is not None and run.after_commands.value("closure-islocked") is True


@over_sdks()
async def test_set_charge_limit(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    succeeded(run, "set_charge_limit")
    assert run.after_commands is not None and global_limit(run.after_commands) == 100


@over_sdks()
async def test_start_then_stop_charge(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    succeeded(run, "start_charge")
    succeeded(run, "stop_charge")
    assert run.after_commands is not None and run.after_commands.value("charge-ischarging") is False


@over_sdks()
async def test_send_destination(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    succeeded(run, "send_destination")


@over_sdks()
async def test_disconnect_removes_the_connection(runs: SdkRuns, sdk: str) -> None:
    run = await runs.of(sdk)
    assert run.returned("disconnect")["status"] == "success"
    assert run.mine_after == []


# --- the getting-started application's flow ------------------------------------------------------


async def test_the_getting_started_flow_shows_the_first_vehicle(platform: SocketPlatform) -> None:
    """The flow of Smartcar's getting-started Python application (``/login`` → Connect →
    ``/exchange`` → ``exchange_code`` → ``/vehicle``: ``get_vehicles``, then ``attributes``),
    made by the driver: the application's own source is not part of this repository."""
    token = await platform.app_token()
    redirect: dict[str, str] = {}

    async def connect(said: dict[str, Any]) -> dict[str, Any]:
        assert "scope=read_vehicle_info" in said["url"]
        async with platform.http() as browser:
            last = await go_through_connect(browser, await browser.get(said["url"]), email="getting-started@example.com")
        redirect.update(query_of(last))
        return {"code": redirect["code"]}

    tutorial = await run_driver(SDKS["python"], platform, {}, {"connect": connect}, args=("tutorial",))
    (connection,) = await connections_of(platform, token, redirect["user_id"])
    tutorial.returned("exchange_code")
    assert tutorial.returned("get_vehicles")["vehicles"] == [connection["vehicleId"]]
    shown = tutorial.returned("attributes")
    async with platform.http() as http:
        vehicle = (await http.get(
            f"/v3/vehicles/{connection['vehicleId']}",
            headers={"Authorization": f"Bearer {token}", "sc-user-id": redirect["user_id"]},
        )).json()  # fmt: skip
    assert shown == {"make": vehicle["make"], "model": vehicle["model"], "year": vehicle["year"]}

