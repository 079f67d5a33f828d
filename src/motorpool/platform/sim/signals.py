"""The signal catalogue (smartcar-v3.md §6), the permissions (§9), and which signals a model supports.

Codes are ``lower(group) + "-" + lower(name)``. The catalogue holds the 90 documented codes plus
the three that a third-party catalogue of 93 paths and real payloads show (``closure-tailgate``,
``vehicleidentification-packages``, ``vehicleidentification-trim``); codes the reference marks
as absent from the 2026 schema (``charge-activelimit``, the ``tractionbattery-*range`` trio) are
left out.

Permissions: where §6/§9 name one it is used. Where the reference is silent we chose, and the
choices are these: ConnectivitySoftware, ConnectivityStatus, Surveillance, Transmission,
VehicleIdentification and VehicleUserAccount ride on ``read_vehicle_info`` (§9 calls several of
them bundled under it), except the VIN (``read_vin``); Closure → ``read_security``; Climate →
``read_thermometer``; HVAC → ``read_climate``; Motion → ``read_speedometer``; Diagnostics →
``read_diagnostics``; Service → ``read_service_history``; Wheel → ``read_tires``;
LowVoltageBattery → ``read_battery``; oil life → ``read_engine_oil``; charge records →
``read_charge_records``. The compass heading travels inside ``location-preciselocation``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .catalogue import ModelSpec

#: Body shapes of §5.4: ``{unit, value}``, ``{value}``, ``{values: [...], ...}``, other objects.
Kind = Literal["unit", "value", "values", "object"]


@dataclass(frozen=True, slots=True)
class SignalDef:
    code: str
    group: str
    name: str
    permission: str
    kind: Kind
    #: Metric unit of a ``unit`` body (also the unit of nested values where one applies).
    unit: str | None = None
    #: Static attribute of the vehicle rather than a changing signal (§6 "Attributes").
    attribute: bool = False


PERMISSIONS: dict[str, str] = {
    "read_alerts": "Read alerts from the vehicle",
    "read_battery": "Read the battery's state of charge and range",
    "read_charge": "Know whether the vehicle is charging, and how",
    "read_charge_locations": "Read where the vehicle has charged",
    "read_charge_records": "Read the vehicle's past charging sessions",
    "read_charge_events": "Know when charging starts and stops",
    "read_climate": "Read the climate control settings",
    "read_compass": "Read the direction the vehicle is facing",
    "read_diagnostics": "Read the vehicle's diagnostic and system status",
    "read_engine_oil": "Read the engine oil life",
    "read_extended_vehicle_info": "Read the vehicle's configuration and options",
    "read_fuel": "Read the fuel level and range",
    "read_location": "Access the vehicle's location",
    "read_odometer": "Read the odometer",
    "read_security": "Know whether the doors, windows and trunks are open or locked",
    "read_service_history": "Read the vehicle's service records",
    "read_speedometer": "Read the vehicle's speed",
    "read_thermometer": "Read the temperatures inside and outside the vehicle",
    "read_tires": "Read the tyre pressures",
    "read_user_profile": "Read the owner's profile on the vehicle's account",
    "read_vehicle_info": "Know the make, model, year and status of the vehicle",
    "read_vin": "Read the VIN (vehicle identification number)",
    "control_charge": "Start and stop charging, and set the charge limit",
    "control_climate": "Control the climate settings",
    "control_navigation": "Send destinations to the vehicle's navigation",
    "control_pin": "Set a PIN for the vehicle",
    "control_security": "Lock and unlock the vehicle",
    "control_trunk": "Open and close the trunk",
}

#: Permissions that only mean something for a vehicle that plugs in.
ELECTRIC_ONLY_PERMISSIONS: frozenset[str] = frozenset(
    {"read_charge", "read_charge_locations", "read_charge_records", "read_charge_events", "control_charge"}
)
#: Permissions that only mean something for a vehicle with an engine.
FUEL_ONLY_PERMISSIONS: frozenset[str] = frozenset({"read_fuel", "read_engine_oil"})
ALL_PERMISSIONS: frozenset[str] = frozenset(PERMISSIONS)

#: What each test-mode compatibility level can grant (smartcar-v3.md §12). ``read_battery`` stays
#: with ``fuel`` vehicles: it also covers the 12 V battery, which every car has.
PERMISSION_LEVELS: dict[str, frozenset[str]] = {
    "compatible": ALL_PERMISSIONS,
    "phev": ALL_PERMISSIONS,
    "bev": ALL_PERMISSIONS - FUEL_ONLY_PERMISSIONS,
    "fuel": ALL_PERMISSIONS - ELECTRIC_ONLY_PERMISSIONS,
    "incompatible": frozenset(),
}


def level_for(spec: ModelSpec) -> str:
    """The compatibility level matching a model's powertrain."""
    return {"BEV": "bev", "PHEV": "phev", "HEV": "fuel", "ICE": "fuel"}[spec.powertrain]


def permissions_for(spec: ModelSpec) -> frozenset[str]:
    """The permissions a vehicle of this model can grant."""
    return PERMISSION_LEVELS[level_for(spec)]


def _signal(group: str, name: str, permission: str, kind: Kind, unit: str | None = None, *, attribute: bool = False) -> SignalDef:
    return SignalDef(f"{group.lower()}-{name.lower()}", group, name, permission, kind, unit, attribute)


_DIAGNOSTIC_SYSTEMS = (
    "ABS", "ActiveSafety", "Airbag", "BrakeFluid", "DriverAssistance", "EVBatteryConditioning",
    "EVCharging", "EVDriveUnit", "EVHVBattery", "Emissions", "Lighting", "MIL", "OilLife",
    "OilPressure", "OilTemperature", "Telematics", "TirePressure", "TirePressureMonitoring",
    "Transmission", "WasherFluid", "WaterInFuel",
)

_DEFINITIONS: tuple[SignalDef, ...] = (
    _signal("Charge", "Amperage", "read_charge", "unit", "ampere"),
    _signal("Charge", "AmperageMax", "read_charge", "unit", "ampere"),
    _signal("Charge", "AmperageRequested", "read_charge", "unit", "ampere"),
    _signal("Charge", "ChargeLimits", "read_charge", "values", "percent"),
    _signal("Charge", "ChargePortStatusColor", "read_charge", "value"),
    _signal("Charge", "ChargeRate", "read_charge", "unit", "kph"),
    _signal("Charge", "ChargeRecords", "read_charge_records", "values", "kWh"),
    _signal("Charge", "ChargeTimers", "read_charge", "values"),
    _signal("Charge", "ChargerPhases", "read_charge", "unit", "count"),
    _signal("Charge", "ChargingConnectorType", "read_charge", "value"),
    _signal("Charge", "DetailedChargingStatus", "read_charge", "value"),
    _signal("Charge", "EnergyAdded", "read_charge", "unit", "kWh"),
    _signal("Charge", "FastChargerType", "read_charge", "value"),
    _signal("Charge", "IsCharging", "read_charge", "value"),
    _signal("Charge", "IsChargingCableConnected", "read_charge", "value"),
    _signal("Charge", "IsChargingCableLatched", "read_charge", "value"),
    _signal("Charge", "IsChargingPortFlapOpen", "read_charge", "value"),
    _signal("Charge", "IsFastChargerPresent", "read_charge", "value"),
    _signal("Charge", "TimeToComplete", "read_charge", "unit", "minutes"),
    _signal("Charge", "Voltage", "read_charge", "unit", "volts"),
    _signal("Charge", "Wattage", "read_charge", "unit", "watts"),
    _signal("Climate", "ExternalTemperature", "read_thermometer", "unit", "celsius"),
    _signal("Climate", "InternalTemperature", "read_thermometer", "unit", "celsius"),
    _signal("Closure", "Doors", "read_security", "values"),
    _signal("Closure", "EngineCover", "read_security", "object"),
    _signal("Closure", "FrontTrunk", "read_security", "object"),
    _signal("Closure", "IsLocked", "read_security", "value"),
    _signal("Closure", "RearTrunk", "read_security", "object"),
    _signal("Closure", "Sunroof", "read_security", "object"),
    _signal("Closure", "Tailgate", "read_security", "object"),
    _signal("Closure", "Windows", "read_security", "values"),
    _signal("ConnectivitySoftware", "CurrentFirmwareVersion", "read_vehicle_info", "value"),
    _signal("ConnectivityStatus", "IsAsleep", "read_vehicle_info", "value"),
    _signal("ConnectivityStatus", "IsDigitalKeyPaired", "read_vehicle_info", "value"),
    _signal("ConnectivityStatus", "IsOnline", "read_vehicle_info", "value"),
    *(_signal("Diagnostics", system, "read_diagnostics", "object") for system in _DIAGNOSTIC_SYSTEMS),
    _signal("Diagnostics", "DTCCount", "read_diagnostics", "unit", "count"),
    _signal("Diagnostics", "DTCList", "read_diagnostics", "values"),
    _signal("HVAC", "CabinTargetTemperature", "read_climate", "unit", "celsius"),
    _signal("HVAC", "IsCabinHVACActive", "read_climate", "value"),
    _signal("HVAC", "IsFrontDefrosterActive", "read_climate", "value"),
    _signal("HVAC", "IsRearDefrosterActive", "read_climate", "value"),
    _signal("HVAC", "IsSteeringHeaterActive", "read_climate", "value"),
    _signal("InternalCombustionEngine", "AmountRemaining", "read_fuel", "unit", "liters"),
    _signal("InternalCombustionEngine", "FuelLevel", "read_fuel", "unit", "percent"),
    _signal("InternalCombustionEngine", "OilLife", "read_engine_oil", "unit", "percent"),
    _signal("InternalCombustionEngine", "Range", "read_fuel", "unit", "km"),
    _signal("Location", "IsAtHome", "read_location", "value"),
    _signal("Location", "PreciseLocation", "read_location", "object"),
    _signal("LowVoltageBattery", "StateOfCharge", "read_battery", "unit", "percent"),
    _signal("LowVoltageBattery", "Status", "read_battery", "value"),
    _signal("Motion", "CurrentSpeed", "read_speedometer", "unit", "kph"),
    _signal("Odometer", "TraveledDistance", "read_odometer", "unit", "km"),
    _signal("Service", "IsInService", "read_service_history", "value"),
    _signal("Service", "Records", "read_service_history", "values", "km"),
    _signal("Surveillance", "Brand", "read_vehicle_info", "value", attribute=True),
    _signal("Surveillance", "IsEnabled", "read_vehicle_info", "value"),
    _signal("TractionBattery", "IsHeaterActive", "read_battery", "value"),
    _signal("TractionBattery", "MaxRangeChargeCounter", "read_battery", "unit", "count"),
    _signal("TractionBattery", "NominalCapacity", "read_battery", "object", "kWh"),
    _signal("TractionBattery", "Range", "read_battery", "unit", "km"),
    _signal("TractionBattery", "StateOfCharge", "read_battery", "unit", "percent"),
    _signal("Transmission", "DriveMode", "read_vehicle_info", "object"),
    _signal("Transmission", "GearState", "read_vehicle_info", "value"),
    _signal("VehicleIdentification", "ExteriorColor", "read_vehicle_info", "value", attribute=True),
    _signal("VehicleIdentification", "Nickname", "read_vehicle_info", "value"),
    _signal("VehicleIdentification", "Packages", "read_vehicle_info", "values", attribute=True),
    _signal("VehicleIdentification", "Trim", "read_vehicle_info", "value", attribute=True),
    _signal("VehicleIdentification", "VIN", "read_vin", "value", attribute=True),
    _signal("VehicleUserAccount", "Permissions", "read_vehicle_info", "values"),
    _signal("VehicleUserAccount", "Role", "read_vehicle_info", "value"),
    _signal("Wheel", "Style", "read_tires", "value", attribute=True),
    _signal("Wheel", "Tires", "read_tires", "values", "kPa"),
)

SIGNALS: dict[str, SignalDef] = {s.code: s for s in _DEFINITIONS}

GROUPS: tuple[str, ...] = tuple(dict.fromkeys(s.group for s in _DEFINITIONS))

_ENGINE_DIAGNOSTICS = frozenset(
    {"diagnostics-emissions", "diagnostics-mil", "diagnostics-oillife", "diagnostics-oilpressure",
     "diagnostics-oiltemperature", "diagnostics-transmission"}
)
_PLUG_IN_DIAGNOSTICS = frozenset({"diagnostics-evcharging", "diagnostics-evdriveunit", "diagnostics-evhvbattery"})


def _supports(spec: ModelSpec, signal: SignalDef) -> bool:
    code, group = signal.code, signal.group
    if group == "Charge":
        if not spec.is_plug_in:
            return False
        if code in ("charge-fastchargertype", "charge-isfastchargerpresent"):
            return spec.max_dc_kw > 0
        if code == "charge-chargetimers":
            return spec.supports_charge_schedules
        if code == "charge-chargeportstatuscolor":
            return spec.reports_charge_port_color
        return True
    if group == "TractionBattery":
        if not spec.is_plug_in:
            return False
        # Counting charges to 100 % is a long-range BEV habit; PHEVs fill up every time.
        return code != "tractionbattery-maxrangechargecounter" or spec.powertrain == "BEV"
    if group == "InternalCombustionEngine":
        return spec.has_engine
    if group == "Diagnostics":
        if not spec.reports_diagnostics:
            return False
        if code in _ENGINE_DIAGNOSTICS:
            return spec.has_engine
        if code in _PLUG_IN_DIAGNOSTICS:
            return spec.is_plug_in
        if code == "diagnostics-evbatteryconditioning":
            return spec.powertrain == "BEV"
        if code == "diagnostics-waterinfuel":
            return spec.fuel_type == "DIESEL"
        return True
    if group == "Closure":
        if code == "closure-enginecover":
            return spec.has_engine
        if code == "closure-fronttrunk":
            return spec.has_frunk
        if code == "closure-sunroof":
            return spec.has_sunroof
        if code == "closure-tailgate":
            return spec.has_tailgate
        if code == "closure-reartrunk":
            return not spec.has_tailgate
        return True
    if code == "connectivitystatus-isdigitalkeypaired":
        return spec.has_digital_key
    if group == "Surveillance":
        return spec.surveillance_brand is not None
    if group == "Service":
        return spec.reports_service_history
    if code == "wheel-tires":
        return spec.reports_tire_pressure
    if code == "hvac-issteeringheateractive":
        return spec.has_heated_steering
    return True


@lru_cache(maxsize=256)
def supported_signals(spec: ModelSpec) -> frozenset[str]:
    """The codes a vehicle of this model can report; the rest answer VEHICLE_NOT_CAPABLE."""
    return frozenset(code for code, signal in SIGNALS.items() if _supports(spec, signal))
