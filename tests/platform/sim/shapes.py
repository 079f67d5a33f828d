"""The body shapes of smartcar-v3.md §6, written out independently of the simulation's code.

``check(code, body)`` raises AssertionError when a body does not have its documented shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

#: The 90 codes the reference documents (§6), group by group.
DOCUMENTED_CODES: tuple[str, ...] = (
    "charge-amperage", "charge-amperagemax", "charge-amperagerequested", "charge-chargelimits",
    "charge-chargeportstatuscolor", "charge-chargerate", "charge-chargerecords", "charge-chargetimers",
    "charge-chargerphases", "charge-chargingconnectortype", "charge-detailedchargingstatus",
    "charge-energyadded", "charge-fastchargertype", "charge-ischarging", "charge-ischargingcableconnected",
    "charge-ischargingcablelatched", "charge-ischargingportflapopen", "charge-isfastchargerpresent",
    "charge-timetocomplete", "charge-voltage", "charge-wattage",
    "climate-externaltemperature", "climate-internaltemperature",
    "closure-doors", "closure-enginecover", "closure-fronttrunk", "closure-islocked", "closure-reartrunk",
    "closure-sunroof", "closure-windows",
    "connectivitysoftware-currentfirmwareversion",
    "connectivitystatus-isasleep", "connectivitystatus-isdigitalkeypaired", "connectivitystatus-isonline",
    "diagnostics-abs", "diagnostics-activesafety", "diagnostics-airbag", "diagnostics-brakefluid",
    "diagnostics-driverassistance", "diagnostics-evbatteryconditioning", "diagnostics-evcharging",
    "diagnostics-evdriveunit", "diagnostics-evhvbattery", "diagnostics-emissions", "diagnostics-lighting",
    "diagnostics-mil", "diagnostics-oillife", "diagnostics-oilpressure", "diagnostics-oiltemperature",
    "diagnostics-telematics", "diagnostics-tirepressure", "diagnostics-tirepressuremonitoring",
    "diagnostics-transmission", "diagnostics-washerfluid", "diagnostics-waterinfuel",
    "diagnostics-dtccount", "diagnostics-dtclist",
    "hvac-cabintargettemperature", "hvac-iscabinhvacactive", "hvac-isfrontdefrosteractive",
    "hvac-isreardefrosteractive", "hvac-issteeringheateractive",
    "internalcombustionengine-amountremaining", "internalcombustionengine-fuellevel",
    "internalcombustionengine-oillife", "internalcombustionengine-range",
    "location-isathome", "location-preciselocation",
    "lowvoltagebattery-stateofcharge", "lowvoltagebattery-status",
    "motion-currentspeed",
    "odometer-traveleddistance",
    "service-isinservice", "service-records",
    "surveillance-isenabled", "surveillance-brand",
    "tractionbattery-isheateractive", "tractionbattery-maxrangechargecounter",
    "tractionbattery-nominalcapacity", "tractionbattery-range", "tractionbattery-stateofcharge",
    "transmission-gearstate", "transmission-drivemode",
    "vehicleidentification-nickname", "vehicleidentification-exteriorcolor", "vehicleidentification-vin",
    "vehicleuseraccount-permissions", "vehicleuseraccount-role",
    "wheel-tires", "wheel-style",
)

METRIC_UNITS = {"km", "percent", "kWh", "celsius", "kph", "liters", "kPa", "volts", "ampere", "watts", "count", "minutes"}
IMPERIAL_UNITS = {"miles", "mph", "gallons", "fahrenheit", "psi"}


def _number(value: Any) -> None:
    assert isinstance(value, (int, float)) and not isinstance(value, bool), value


def _iso(value: Any) -> None:
    assert isinstance(value, str) and value.endswith("Z"), value
    datetime.fromisoformat(value)


def _unit(*units: str, low: float | None = None, high: float | None = None) -> Callable[[dict[str, Any]], None]:
    def check(body: dict[str, Any]) -> None:
        assert body["unit"] in units, body
        _number(body["value"])
        if low is not None:
            assert body["value"] >= low, body
        if high is not None:
            assert body["value"] <= high, body

    return check


def _flag(body: dict[str, Any]) -> None:
    assert set(body) == {"value"} and isinstance(body["value"], bool), body


def _text(body: dict[str, Any]) -> None:
    assert set(body) == {"value"} and isinstance(body["value"], str), body


def _one_of(*values: str) -> Callable[[dict[str, Any]], None]:
    def check(body: dict[str, Any]) -> None:
        assert set(body) == {"value"} and body["value"] in values, body

    return check


def _strings(body: dict[str, Any]) -> None:
    assert set(body) == {"values"} and all(isinstance(v, str) for v in body["values"]), body


def _system(body: dict[str, Any]) -> None:
    assert body["status"] in ("OK", "ALERT"), body
    assert set(body) <= {"status", "description"}
    if "description" in body:
        assert isinstance(body["description"], str) and body["description"]


def _grid(*fields: str) -> Callable[[dict[str, Any]], None]:
    def check(body: dict[str, Any]) -> None:
        rows, columns = body["rowCount"], body["columnCount"]
        assert isinstance(rows, int) and isinstance(columns, int) and rows >= 1 and columns >= 1
        cells = {(v["row"], v["column"]) for v in body["values"]}
        assert cells == {(r, c) for r in range(rows) for c in range(columns)}, body
        for value in body["values"]:
            for field in fields:
                assert isinstance(value[field], bool), value

    return check


def _opening(*fields: str) -> Callable[[dict[str, Any]], None]:
    def check(body: dict[str, Any]) -> None:
        assert set(body) == set(fields) and all(isinstance(body[f], bool) for f in fields), body

    return check


def _charge_limits(body: dict[str, Any]) -> None:
    assert body["unit"] == "percent"
    for value in body["values"]:
        assert value["type"] in ("GLOBAL", "LOCATION", "CONNECTOR")
        assert 50 <= value["limit"] <= 100
        if value["type"] == "GLOBAL":
            assert value["condition"] is None
    assert body["activeLimit"] is None or 50 <= body["activeLimit"] <= 100


def _charge_records(body: dict[str, Any]) -> None:
    for record in body["values"]:
        assert set(record) >= {
            "id", "cost", "startTime", "endTime", "location", "energyAdded", "connectorType",
            "isPublicCharger", "startStateOfCharge", "endStateOfCharge",
        }, record
        assert set(record["cost"]) == {"currency", "energyAmount", "otherAmount"}
        assert set(record["location"]) >= {"name", "address", "latitude", "longitude"}
        _iso(record["startTime"])
        _iso(record["endTime"])
        assert record["startTime"] <= record["endTime"]
        assert 0 <= record["startStateOfCharge"] <= record["endStateOfCharge"] <= 100
        assert record["energyAdded"] >= 0 and isinstance(record["isPublicCharger"], bool)


def _charge_timers(body: dict[str, Any]) -> None:
    for timer in body["values"]:
        assert set(timer) >= {"type", "condition", "schedules", "departureTimers", "isOEMOptimizationEnabled"}


def _dtc_list(body: dict[str, Any]) -> None:
    for entry in body["values"]:
        assert set(entry) == {"code", "timestamp"} and isinstance(entry["code"], str)
        _iso(entry["timestamp"])


def _precise_location(body: dict[str, Any]) -> None:
    assert set(body) <= {"latitude", "longitude", "heading", "direction", "locationType"}
    assert -90 <= body["latitude"] <= 90 and -180 <= body["longitude"] <= 180
    assert 0 <= body["heading"] < 360
    assert body["direction"] in ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
    assert body["locationType"] in ("CURRENT", "LAST_PARKED")


def _service_records(body: dict[str, Any]) -> None:
    for record in body["values"]:
        assert set(record) == {"id", "cost", "time", "tasks", "details", "odometer"}, record
        assert set(record["cost"]) == {"amount", "currency"}
        _iso(record["time"])
        assert all(set(t) == {"id", "description"} for t in record["tasks"] + record["details"])


def _nominal_capacity(body: dict[str, Any]) -> None:
    assert body["source"] in ("SMARTCAR", "USER_SELECTED") and body["unit"] == "kWh"
    _number(body["capacity"])
    assert body["capacity"] in [c["capacity"] for c in body["availableCapacities"]]
    assert all(set(c) == {"capacity", "description"} for c in body["availableCapacities"])


def _battery_range(body: dict[str, Any]) -> None:
    _unit("km", "miles", low=0)(body)
    for extra in body.get("additionalValues", []):
        assert extra["type"] in ("IDEAL_CONDITIONS", "ESTIMATED", "RATED")
        _number(extra["value"])


def _drive_mode(body: dict[str, Any]) -> None:
    assert set(body) == {"canonical", "oemDisplayName"} and all(isinstance(v, str) for v in body.values())


def _tires(body: dict[str, Any]) -> None:
    _grid()(body)
    for tyre in body["values"]:
        _number(tyre["tirePressure"])


_BOOL_CODES = (
    "charge-ischarging", "charge-ischargingcableconnected", "charge-ischargingcablelatched",
    "charge-ischargingportflapopen", "charge-isfastchargerpresent", "closure-islocked",
    "connectivitystatus-isasleep", "connectivitystatus-isdigitalkeypaired", "connectivitystatus-isonline",
    "hvac-iscabinhvacactive", "hvac-isfrontdefrosteractive", "hvac-isreardefrosteractive",
    "hvac-issteeringheateractive", "location-isathome", "service-isinservice", "surveillance-isenabled",
    "tractionbattery-isheateractive",
)
_TEXT_CODES = (
    "charge-chargeportstatuscolor", "charge-chargingconnectortype", "charge-fastchargertype",
    "connectivitysoftware-currentfirmwareversion", "surveillance-brand", "vehicleidentification-nickname",
    "vehicleidentification-exteriorcolor", "vehicleidentification-vin", "vehicleidentification-trim",
    "vehicleuseraccount-role", "wheel-style",
)

CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    **{code: _flag for code in _BOOL_CODES},
    **{code: _text for code in _TEXT_CODES},
    **{code: _system for code in DOCUMENTED_CODES if code.startswith("diagnostics-") and not code.startswith("diagnostics-dtc")},
    "charge-amperage": _unit("ampere", low=0),
    "charge-amperagemax": _unit("ampere", low=0),
    "charge-amperagerequested": _unit("ampere", low=0),
    "charge-chargelimits": _charge_limits,
    "charge-chargerate": _unit("kph", "mph", low=0),
    "charge-chargerecords": _charge_records,
    "charge-chargetimers": _charge_timers,
    "charge-chargerphases": _unit("count", low=0, high=3),
    "charge-detailedchargingstatus": _one_of("CHARGING", "NOT_CHARGING", "FULLY_CHARGED"),
    "charge-energyadded": _unit("kWh", low=0),
    "charge-timetocomplete": _unit("minutes", low=0),
    "charge-voltage": _unit("volts", low=0),
    "charge-wattage": _unit("watts", low=0),
    "climate-externaltemperature": _unit("celsius", "fahrenheit"),
    "climate-internaltemperature": _unit("celsius", "fahrenheit"),
    "closure-doors": _grid("isOpen", "isLocked"),
    "closure-windows": _grid("isOpen"),
    "closure-enginecover": _opening("isOpen"),
    "closure-sunroof": _opening("isOpen"),
    "closure-fronttrunk": _opening("isOpen", "isLocked"),
    "closure-reartrunk": _opening("isOpen", "isLocked"),
    "closure-tailgate": _opening("isOpen", "isLocked"),
    "diagnostics-dtccount": _unit("count", low=0),
    "diagnostics-dtclist": _dtc_list,
    "hvac-cabintargettemperature": _unit("celsius", "fahrenheit"),
    "internalcombustionengine-amountremaining": _unit("liters", "gallons", low=0),
    "internalcombustionengine-fuellevel": _unit("percent", low=0, high=100),
    "internalcombustionengine-oillife": _unit("percent", low=0, high=100),
    "internalcombustionengine-range": _unit("km", "miles", low=0),
    "location-preciselocation": _precise_location,
    "lowvoltagebattery-stateofcharge": _unit("percent", low=0, high=100),
    "lowvoltagebattery-status": _one_of("GOOD", "WARN", "BAD"),
    "motion-currentspeed": _unit("kph", "mph", low=0),
    "odometer-traveleddistance": _unit("km", "miles", low=0),
    "service-records": _service_records,
    "tractionbattery-maxrangechargecounter": _unit("count", low=0),
    "tractionbattery-nominalcapacity": _nominal_capacity,
    "tractionbattery-range": _battery_range,
    "tractionbattery-stateofcharge": _unit("percent", low=0, high=100),
    "transmission-gearstate": _one_of("PARK", "DRIVE", "REVERSE", "NEUTRAL"),
    "transmission-drivemode": _drive_mode,
    "vehicleidentification-packages": _strings,
    "vehicleuseraccount-permissions": _strings,
    "wheel-tires": _tires,
}


def check(code: str, body: dict[str, Any]) -> None:
    assert isinstance(body, dict), (code, body)
    CHECKS[code](body)
