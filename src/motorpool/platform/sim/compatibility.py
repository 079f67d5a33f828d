"""What each model of the catalogue can do, as the Compatibility APIs tell it (smartcar-v3.md §13).

Everything here is derived from the catalogue and from what the simulation serves: a model
supports a signal when :func:`.signals.supported_signals` says so (the very set the vehicle's
reads use) and a command when :data:`COMMANDS` says so (the same conditions under which
:mod:`.plans` refuses with ``VEHICLE_NOT_CAPABLE``; a test holds the two together).

- :data:`FEATURES` — what a permission lets an application do: the v2 endpoint that serves it
  (when v2 has one), the label of the v2 compatibility matrix, and the v3 signals or commands
  behind it. A model is capable of a feature when it supports one of those.
- :func:`decode_vin` — the make, model and year a VIN names, read the way :func:`.testmode.make_vin`
  writes VINs (world manufacturer identifier, model code, model-year code).
- :func:`vin_compatibility` — the v2 answer for a VIN (:func:`level_compatibility` for a test-mode
  level); :func:`matrix` — the v2 matrix; :func:`compatible_vehicles` — the v3 list of models with
  their signals and commands."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from . import catalogue
from .catalogue import Make, Market, ModelSpec
from .signals import PERMISSION_LEVELS, PERMISSIONS, SIGNALS, permissions_for, supported_signals
from .testmode import model_code, years_for_code

#: The Compatibility API's regions and the catalogue's markets.
REGIONS: dict[str, Market] = {"US": "NA", "CA": "NA", "EUROPE": "EU"}
#: ISO 3166-1 alpha-2 countries of the European market (the EU, the EEA, Switzerland, the UK).
EUROPEAN_COUNTRIES = frozenset((
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO", "CH", "GB",
))  # fmt: skip

#: Why a VIN is not compatible, and why a vehicle is not capable of a feature (v2's reasons).
MAKE_NOT_COMPATIBLE = "MAKE_NOT_COMPATIBLE"
VEHICLE_NOT_COMPATIBLE = "VEHICLE_NOT_COMPATIBLE"
VEHICLE_NOT_CAPABLE = "VEHICLE_NOT_CAPABLE"
SMARTCAR_NOT_CAPABLE = "SMARTCAR_NOT_CAPABLE"


def market_of_country(country: str) -> Market | None:
    """The catalogue's market of an ISO 3166-1 alpha-2 country; None outside every market."""
    country = country.upper()
    if country in ("US", "CA"):
        return "NA"
    return "EU" if country in EUROPEAN_COUNTRIES else None


# --- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """A Vehicle API v3 command: its path below ``/v3/vehicles/{id}/``, the ``commandType`` the
    simulation runs (``plans.run_command``), its permission, and which models accept it."""

    path: str
    command_type: str
    permission: str
    accepts: Callable[[ModelSpec], bool]
    #: The kind of a charge schedule (``daily``, …) for the schedule endpoints.
    schedule_type: str | None = None


def _everyone(spec: ModelSpec) -> bool:
    return True


def _plug_in(spec: ModelSpec) -> bool:
    return spec.is_plug_in


def _schedules(kind: str) -> Callable[[ModelSpec], bool]:
    def accepts(spec: ModelSpec) -> bool:
        return spec.is_plug_in and kind in spec.charge_schedule_types

    return accepts


COMMANDS: tuple[Command, ...] = (
    Command("commands/security/lock", "security-lock", "control_security", _everyone),
    Command("commands/security/unlock", "security-unlock", "control_security", _everyone),
    Command("commands/charge/start", "charge-start", "control_charge", _plug_in),
    Command("commands/charge/stop", "charge-stop", "control_charge", _plug_in),
    Command("commands/charge/set-limit", "charge-set-limit", "control_charge", _plug_in),
    Command("commands/charge-port/open", "charge-port-open", "control_charge", _plug_in),
    Command("commands/charge-port/close", "charge-port-close", "control_charge", _plug_in),
    Command(
        "commands/navigation/set-destination", "navigation-set-destination", "control_navigation",
        _everyone,
    ),
    *(
        Command(f"charge-schedules/{kind}", "charge-schedule-create", "control_charge",
                _schedules(kind), schedule_type=kind)
        for kind in ("daily", "weekly", "workweek")
    ),
)  # fmt: skip
COMMANDS_BY_PATH: dict[str, Command] = {command.path: command for command in COMMANDS}


@lru_cache(maxsize=256)
def supported_commands(spec: ModelSpec) -> frozenset[str]:
    """The paths of the commands a vehicle of this model accepts (the others answer
    ``VEHICLE_NOT_CAPABLE``)."""
    allowed = permissions_for(spec)
    return frozenset(
        command.path for command in COMMANDS if command.permission in allowed and command.accepts(spec)
    )


# --- features ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Feature:
    """One thing a permission lets an application do."""

    permission: str
    #: The v2 endpoint (below ``/v2.0/vehicles/{id}``) that serves it; None where only v3 does.
    endpoint: str | None
    #: Its name in the v2 compatibility matrix (``"Lock & unlock"``).
    label: str
    signals: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()


def _codes(permission: str, *groups: str) -> tuple[str, ...]:
    """The signal codes of a permission, optionally of some groups only."""
    return tuple(
        code for code, signal in SIGNALS.items()
        if signal.permission == permission and (not groups or signal.group in groups)
    )  # fmt: skip


_DIAGNOSTIC_SYSTEMS = tuple(
    code for code in _codes("read_diagnostics") if code not in ("diagnostics-dtccount", "diagnostics-dtclist")
)

FEATURES: tuple[Feature, ...] = (
    Feature("read_vehicle_info", "/", "Vehicle info", _codes("read_vehicle_info")),
    Feature("read_vin", "/vin", "VIN", ("vehicleidentification-vin",)),
    Feature("read_odometer", "/odometer", "Odometer", ("odometer-traveleddistance",)),
    Feature("read_location", "/location", "Location", ("location-preciselocation",)),
    Feature("read_battery", "/battery", "EV battery",
            ("tractionbattery-stateofcharge", "tractionbattery-range")),
    Feature("read_battery", "/battery/capacity", "EV battery capacity",
            ("tractionbattery-nominalcapacity",)),
    Feature("read_battery", "/battery/nominal_capacity", "EV battery nominal capacity",
            ("tractionbattery-nominalcapacity",)),
    Feature("read_charge", "/charge", "EV charging status",
            ("charge-ischarging", "charge-ischargingcableconnected")),
    Feature("read_charge", "/charge/limit", "EV charge limit", ("charge-chargelimits",)),
    Feature("control_charge", "/charge", "EV start & stop charge",
            commands=("commands/charge/start", "commands/charge/stop")),
    Feature("control_charge", "/charge/limit", "EV set charge limit",
            commands=("commands/charge/set-limit",)),
    Feature("control_charge", None, "EV charge schedules",
            commands=tuple(c.path for c in COMMANDS if c.schedule_type)),
    Feature("read_fuel", "/fuel", "Fuel tank", _codes("read_fuel")),
    Feature("read_engine_oil", "/engine/oil", "Engine oil life", ("internalcombustionengine-oillife",)),
    Feature("read_tires", "/tires/pressure", "Tire pressure", ("wheel-tires",)),
    Feature("read_security", "/security", "Lock status", _codes("read_security")),
    Feature("control_security", "/security", "Lock & unlock",
            commands=("commands/security/lock", "commands/security/unlock")),
    Feature("control_navigation", "/navigation/destination", "Send destination",
            commands=("commands/navigation/set-destination",)),
    Feature("read_diagnostics", "/diagnostics/system_status", "Diagnostic system status",
            _DIAGNOSTIC_SYSTEMS),
    Feature("read_diagnostics", "/diagnostics/dtcs", "Diagnostic trouble codes",
            ("diagnostics-dtccount", "diagnostics-dtclist")),
    Feature("read_service_history", "/service/history", "Service history", _codes("read_service_history")),
    Feature("read_thermometer", None, "Thermometer", _codes("read_thermometer")),
    Feature("read_speedometer", None, "Speedometer", _codes("read_speedometer")),
    Feature("read_climate", None, "Climate status", _codes("read_climate")),
    Feature("read_charge_records", None, "Charge records", _codes("read_charge_records")),
    Feature("read_battery", None, "12 V battery", _codes("read_battery", "LowVoltageBattery")),
)  # fmt: skip


def features_of(permission: str) -> list[Feature]:
    return [feature for feature in FEATURES if feature.permission == permission]


def capable(spec: ModelSpec, feature: Feature) -> bool:
    """Whether a vehicle of this model serves the feature (one of its signals or commands)."""
    return bool(supported_signals(spec).intersection(feature.signals)) or bool(
        supported_commands(spec).intersection(feature.commands)
    )


def _why_not(specs: Iterable[ModelSpec], permission: str) -> str:
    """A vehicle that cannot grant the permission at all (fuel on an electric car) is not
    capable; otherwise it is the platform that does not serve it for this model."""
    if any(permission not in permissions_for(spec) for spec in specs):
        return VEHICLE_NOT_CAPABLE
    return SMARTCAR_NOT_CAPABLE


# --- VINs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecodedVin:
    """What a VIN names: its make, and the models (with the model year each was built in) it
    can be. One model when the VIN carries a model code of the make; else every model of the
    make built in a year the VIN's tenth character stands for."""

    make: Make
    models: tuple[tuple[ModelSpec, int], ...]


def decode_vin(vin: str) -> DecodedVin | None:
    """Read a VIN as :func:`.testmode.make_vin` writes it; None when no make of the catalogue
    uses its world manufacturer identifier."""
    vin = vin.upper()
    make = catalogue.make_for_wmi(vin[:3])
    if make is None:
        return None
    own = catalogue.models_of(make.code)
    coded = [spec for spec in own if model_code(spec) == vin[3:5]]
    years = years_for_code(vin[9])
    fitting: list[tuple[ModelSpec, int]] = []
    for spec in coded or own:
        built = [year for year in years if year in spec.years]
        if built:
            fitting.append((spec, built[-1]))
    return DecodedVin(make, tuple(fitting))


@dataclass(frozen=True, slots=True)
class Capability:
    permission: str
    endpoint: str | None
    capable: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class VinCompatibility:
    compatible: bool
    reason: str | None
    capabilities: tuple[Capability, ...]


Decide = Callable[[str, list[Feature]], tuple[bool, str | None]]


def _rows(permissions: Iterable[str], decide: Decide) -> tuple[Capability, ...]:
    """One row per v2 endpoint of each permission; one row without an endpoint for a permission
    that only v3 serves (capable when one of its features is) or that nothing serves."""
    rows: list[Capability] = []
    for permission in dict.fromkeys(permissions):
        features = features_of(permission)
        with_endpoint = [feature for feature in features if feature.endpoint is not None]
        if not with_endpoint:
            rows.append(Capability(permission, None, *decide(permission, features)))
        for feature in with_endpoint:
            rows.append(Capability(permission, feature.endpoint, *decide(permission, [feature])))
    return tuple(rows)


def vin_compatibility(vin: str, permissions: Iterable[str], country: str = "US") -> VinCompatibility:
    """The v2 answer for a VIN sold in ``country``: whether motorpool knows the vehicle, and for
    each feature of each permission whether it is capable. A VIN that may be one of several
    models (one that motorpool did not make) is capable of what all of them are."""
    decoded = decode_vin(vin)
    market = market_of_country(country)
    if decoded is None or market is None or not any(
        market in spec.markets for spec in catalogue.models_of(decoded.make.code)
    ):
        return VinCompatibility(False, MAKE_NOT_COMPATIBLE, ())
    specs = [spec for spec, _year in decoded.models if market in spec.markets]
    if not specs:
        return VinCompatibility(False, VEHICLE_NOT_COMPATIBLE, ())

    def decide(permission: str, features: list[Feature]) -> tuple[bool, str | None]:
        if all(any(capable(spec, feature) for feature in features) for spec in specs):
            return True, None
        return False, _why_not(specs, permission)

    return VinCompatibility(True, None, _rows(permissions, decide))


def level_compatibility(level: str, permissions: Iterable[str]) -> VinCompatibility:
    """The answer for a test-mode VIN of a compatibility level (``compatible``, ``phev``,
    ``bev``, ``fuel``, ``incompatible``; smartcar-v3.md §12), whatever the VIN."""
    granted = PERMISSION_LEVELS[level]
    if not granted:
        return VinCompatibility(False, VEHICLE_NOT_COMPATIBLE, ())

    def decide(permission: str, features: list[Feature]) -> tuple[bool, str | None]:
        return (True, None) if permission in granted else (False, VEHICLE_NOT_CAPABLE)

    return VinCompatibility(True, None, _rows(permissions, decide))


# --- the matrix and the v3 list ----------------------------------------------------------------


def _makes_matching(names: Iterable[str] | None) -> set[str] | None:
    """Make codes named by codes or display names, case-insensitively (None: every make)."""
    if names is None:
        return None
    found = (catalogue.find_make(name) for name in names)
    return {make.code for make in found if make is not None}


def models_in(
    market: Market | None = None, makes: Iterable[str] | None = None, powertrain: str | None = None
) -> list[ModelSpec]:
    """The catalogue's models sold in a market, of some makes and of a powertrain (each None:
    any), by make then model."""
    wanted = _makes_matching(makes)
    chosen = [
        spec for spec in catalogue.models(powertrain)
        if (market is None or market in spec.markets) and (wanted is None or spec.make in wanted)
    ]  # fmt: skip
    return sorted(chosen, key=lambda spec: (spec.make, spec.model.lower()))


@dataclass(frozen=True, slots=True)
class MatrixModel:
    model: str
    start_year: int
    end_year: int
    powertrain: str
    endpoints: tuple[str, ...]
    permissions: tuple[str, ...]


def matrix(
    region: str, makes: Iterable[str] | None = None, powertrain: str | None = None,
    permissions: Iterable[str] | None = None,
) -> dict[str, list[MatrixModel]]:
    """The v2 matrix of a region: each make's models with the features they are capable of.
    With ``permissions`` it holds the models capable of all of them, showing those only."""
    scope = list(dict.fromkeys(permissions)) if permissions else None
    answer: dict[str, list[MatrixModel]] = {}
    for spec in models_in(REGIONS[region], makes, powertrain):
        able = [f for f in FEATURES if (scope is None or f.permission in scope) and capable(spec, f)]
        granted = tuple(dict.fromkeys(f.permission for f in able))
        if scope is not None and set(granted) != set(scope):
            continue
        answer.setdefault(spec.make, []).append(
            MatrixModel(spec.model, spec.years[0], spec.years[-1], spec.powertrain,
                        tuple(f.label for f in able), granted)
        )  # fmt: skip
    return answer


@dataclass(frozen=True, slots=True)
class CompatibleVehicle:
    """A model as the v3 Compatible Vehicles list shows it."""

    id: str
    make: str
    make_name: str
    model: str
    powertrain: str
    years: tuple[int, ...]
    regions: tuple[str, ...]
    permissions: tuple[str, ...]
    signals: tuple[str, ...]
    commands: tuple[str, ...]


def _slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def compatible_vehicle(spec: ModelSpec) -> CompatibleVehicle:
    signals = tuple(code for code in SIGNALS if code in supported_signals(spec))
    commands = tuple(command.path for command in COMMANDS if command.path in supported_commands(spec))
    used = {SIGNALS[code].permission for code in signals} | {
        COMMANDS_BY_PATH[path].permission for path in commands
    }
    return CompatibleVehicle(
        id=_slug(f"{spec.make} {spec.model}"),
        make=spec.make,
        make_name=spec.make_display,
        model=spec.model,
        powertrain=spec.powertrain,
        years=spec.years,
        regions=tuple(region for region, market in REGIONS.items() if market in spec.markets),
        permissions=tuple(permission for permission in PERMISSIONS if permission in used),
        signals=signals,
        commands=commands,
    )


def compatible_vehicles(region: str | None = None, make: str | None = None) -> list[CompatibleVehicle]:
    """Every model of a region (None: all) and make (None: all; code or name, any case)."""
    market = REGIONS[region] if region is not None else None
    return [compatible_vehicle(spec) for spec in models_in(market, [make] if make is not None else None)]
