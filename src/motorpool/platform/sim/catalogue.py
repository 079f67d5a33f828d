"""The vehicle catalogue: real makes and models with plausible specifications.

Figures are rounded public numbers (usable battery, EPA/WLTP-style rated range, real-world
consumption, on-board charger and peak DC power, door-jamb tyre pressures). They only need to be
plausible and mutually consistent; they are not a compatibility database.

Make-level traits (which signals a manufacturer reports, which charge schedules it accepts, how
quickly its cars fall asleep) live on :class:`Make`; every :class:`ModelSpec` carries the traits
of its make so the read path never has to look the make up."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

Powertrain = Literal["BEV", "PHEV", "HEV", "ICE"]
POWERTRAINS: tuple[Powertrain, ...] = ("BEV", "PHEV", "HEV", "ICE")
BodyStyle = Literal["sedan", "hatchback", "suv", "pickup"]
Market = Literal["NA", "EU"]
FuelType = Literal["GASOLINE", "DIESEL"]

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS


@dataclass(frozen=True, slots=True)
class Make:
    """A manufacturer as Connect's brand selector shows it, plus what its cars report."""

    code: str
    name: str
    #: World manufacturer identifiers (the first three characters of a VIN).
    wmis: tuple[str, ...]
    reports_tire_pressure: bool = True
    reports_diagnostics: bool = True
    reports_service_history: bool = True
    reports_charge_port_color: bool = False
    has_digital_key: bool = False
    #: Name of the make's parked-car camera watch, when it has one (``surveillance-brand``).
    surveillance_brand: str | None = None
    #: Charge-schedule kinds the make accepts (smartcar-v3.md §5.5); empty = none.
    charge_schedule_types: tuple[str, ...] = ()
    #: Firmware version pattern; ``{y}`` year, ``{a}``/``{b}``/``{c}`` seeded numbers.
    firmware_pattern: str = "{a}.{b}.{c}"
    #: How long an idle car stays awake, and how often a sleeping car wakes to report.
    sleep_after_ms: int = 20 * MINUTE_MS
    heartbeat_ms: int = 6 * HOUR_MS
    #: OEM-side account permissions an owner holds (``vehicleuseraccount-permissions``).
    account_permissions: tuple[str, ...] = ("VEHICLE_STATUS", "REMOTE_LOCK", "LOCATION")


@dataclass(frozen=True, slots=True)
class BatteryOption:
    """One traction-battery variant of a plug-in model."""

    usable_kwh: float
    rated_range_km: float
    description: str
    max_dc_kw: float = 0.0


@dataclass(frozen=True, slots=True)
class Trim:
    name: str
    #: Index into :attr:`ModelSpec.batteries` (plug-ins only).
    battery: int = 0


@dataclass(frozen=True, slots=True)
class DriveMode:
    canonical: str
    display: str


@dataclass(frozen=True, slots=True, repr=False)
class ModelSpec:
    """A model as the simulation needs it. Distances km, energy kWh, volumes L, pressures kPa."""

    make: str
    make_display: str
    model: str
    years: tuple[int, ...]
    powertrain: Powertrain
    body_style: BodyStyle
    markets: tuple[Market, ...]
    trims: tuple[Trim, ...]
    colours: tuple[str, ...]
    wheel_styles: tuple[str, ...]
    drive_modes: tuple[DriveMode, ...]
    tyre_kpa_front: float
    tyre_kpa_rear: float
    #: Plug-ins: battery variants (usable capacity, rated electric range, peak DC power).
    batteries: tuple[BatteryOption, ...] = ()
    #: Electric consumption, kWh/100 km (plug-ins).
    kwh_per_100km: float = 0.0
    #: Fuel consumption, L/100 km (anything with an engine; PHEV: once the battery is spent).
    l_per_100km: float = 0.0
    tank_l: float = 0.0
    fuel_type: FuelType | None = None
    max_ac_kw: float = 0.0
    #: Nominal traction-pack voltage (400 V or 800 V class); sets DC charging voltage.
    pack_voltage: float = 0.0
    ac_connector_na: str = "J1772"
    ac_connector_eu: str = "IEC_TYPE_2"
    dc_connector_na: str = "CCS1"
    dc_connector_eu: str = "CCS2"
    door_rows: int = 2
    door_columns: int = 2
    window_rows: int = 2
    window_columns: int = 2
    has_frunk: bool = False
    has_sunroof: bool = False
    has_heated_steering: bool = True
    packages: tuple[str, ...] = ()
    # Traits of the make, copied in so the read path needs one object.
    reports_tire_pressure: bool = True
    reports_diagnostics: bool = True
    reports_service_history: bool = True
    reports_charge_port_color: bool = False
    has_digital_key: bool = False
    surveillance_brand: str | None = None
    charge_schedule_types: tuple[str, ...] = ()
    firmware_pattern: str = "{a}.{b}.{c}"
    sleep_after_ms: int = 20 * MINUTE_MS
    heartbeat_ms: int = 6 * HOUR_MS
    account_permissions: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:
        return f"ModelSpec({self.make} {self.model!r}, {self.powertrain})"

    def __hash__(self) -> int:
        # The read path keys caches by spec; hashing ~50 nested fields per call cost ~20 µs.
        return hash((self.make, self.model, self.powertrain))

    @property
    def is_plug_in(self) -> bool:
        return self.powertrain in ("BEV", "PHEV")

    @property
    def has_engine(self) -> bool:
        return self.powertrain != "BEV"

    @property
    def has_tailgate(self) -> bool:
        """Pickups have a tailgate; everything else a rear trunk or hatch."""
        return self.body_style == "pickup"

    @property
    def battery_kwh(self) -> float:
        """Usable capacity of the first (base) battery option; 0 without a traction battery."""
        return self.batteries[0].usable_kwh if self.batteries else 0.0

    @property
    def rated_range_km(self) -> float:
        """Rated range of the base configuration: electric for a BEV, fuel plus electric otherwise."""
        electric = self.batteries[0].rated_range_km if self.batteries else 0.0
        fuel = self.tank_l / self.l_per_100km * 100 if self.l_per_100km else 0.0
        return electric + fuel

    @property
    def max_dc_kw(self) -> float:
        return max((b.max_dc_kw for b in self.batteries), default=0.0)

    @property
    def supports_charge_schedules(self) -> bool:
        return bool(self.charge_schedule_types) and self.is_plug_in


def _model(make: Make, model: str, years: range, powertrain: Powertrain, **fields: object) -> ModelSpec:
    return ModelSpec(
        make=make.code,
        make_display=make.name,
        model=model,
        years=tuple(years),
        powertrain=powertrain,
        reports_tire_pressure=make.reports_tire_pressure,
        reports_diagnostics=make.reports_diagnostics,
        reports_service_history=make.reports_service_history,
        reports_charge_port_color=make.reports_charge_port_color,
        has_digital_key=make.has_digital_key,
        surveillance_brand=make.surveillance_brand,
        charge_schedule_types=make.charge_schedule_types,
        firmware_pattern=make.firmware_pattern,
        sleep_after_ms=make.sleep_after_ms,
        heartbeat_ms=make.heartbeat_ms,
        account_permissions=make.account_permissions,
        **fields,  # type: ignore[arg-type]
    )


TESLA = Make(
    "TESLA", "Tesla", ("5YJ", "7SA", "LRW"),
    reports_diagnostics=False, reports_service_history=False, reports_charge_port_color=True,
    has_digital_key=True, surveillance_brand="Sentry Mode",
    charge_schedule_types=("daily", "weekly", "workweek"),
    firmware_pattern="{y}.{b2}.{c}", sleep_after_ms=15 * MINUTE_MS, heartbeat_ms=4 * HOUR_MS,
    account_permissions=("VEHICLE_STATUS", "REMOTE_LOCK", "REMOTE_START", "LOCATION", "CHARGING", "CLIMATE"),
)
VOLKSWAGEN = Make(
    "VOLKSWAGEN", "Volkswagen", ("WVW", "WVG", "1V2", "3VW"),
    firmware_pattern="ME{a}.{b}.{c}",
    account_permissions=("VEHICLE_STATUS", "REMOTE_LOCK", "LOCATION", "CHARGING", "CLIMATE"),
)
FORD = Make(
    "FORD", "Ford", ("1FA", "1FM", "1FT", "3FM", "3FT"),
    has_digital_key=True, firmware_pattern="SYNC {a}.{b}.{c}",
    account_permissions=("VEHICLE_STATUS", "REMOTE_LOCK", "REMOTE_START", "LOCATION"),
)
HYUNDAI = Make(
    "HYUNDAI", "Hyundai", ("KM8", "KMH", "5NM"),
    has_digital_key=True, sleep_after_ms=10 * MINUTE_MS,
    account_permissions=("VEHICLE_STATUS", "REMOTE_LOCK", "REMOTE_START", "LOCATION", "CHARGING"),
)
KIA = Make(
    "KIA", "Kia", ("KNA", "KND", "5XY"),
    has_digital_key=True, sleep_after_ms=10 * MINUTE_MS,
    account_permissions=("VEHICLE_STATUS", "REMOTE_LOCK", "REMOTE_START", "LOCATION", "CHARGING"),
)
NISSAN = Make(
    "NISSAN", "Nissan", ("1N4", "SJN"),
    reports_tire_pressure=False, reports_service_history=False, heartbeat_ms=12 * HOUR_MS,
)
BMW = Make(
    "BMW", "BMW", ("WBA", "WBY", "5UX"),
    has_digital_key=True, firmware_pattern="{y}-{b2}-{c}", sleep_after_ms=15 * MINUTE_MS,
    account_permissions=("VEHICLE_STATUS", "REMOTE_LOCK", "LOCATION", "CLIMATE"),
)
RIVIAN = Make(
    "RIVIAN", "Rivian", ("7PD",),
    reports_diagnostics=False, reports_service_history=False, has_digital_key=True,
    surveillance_brand="Gear Guard", firmware_pattern="{y}.{b2}.{c}",
    account_permissions=("VEHICLE_STATUS", "REMOTE_LOCK", "LOCATION", "CHARGING", "CLIMATE"),
)
VOLVO = Make(
    "VOLVO", "Volvo", ("YV1", "YV4", "LYV"),
    reports_tire_pressure=False, charge_schedule_types=("daily",), firmware_pattern="{a}.{b}.{c}",
)
AUDI = Make("AUDI", "Audi", ("WA1", "WAU", "WUA"), firmware_pattern="{a}{b2}.{c}")
CHEVROLET = Make(
    "CHEVROLET", "Chevrolet", ("1G1", "1GC"), heartbeat_ms=3 * HOUR_MS,
    account_permissions=("VEHICLE_STATUS", "REMOTE_LOCK", "REMOTE_START", "LOCATION", "DIAGNOSTICS"),
)
TOYOTA = Make(
    "TOYOTA", "Toyota", ("JTM", "JTD", "4T1", "JTE"), heartbeat_ms=12 * HOUR_MS,
    account_permissions=("VEHICLE_STATUS", "REMOTE_LOCK", "REMOTE_START", "LOCATION"),
)
HONDA = Make(
    "HONDA", "Honda", ("1HG", "2HG", "19X"),
    reports_tire_pressure=False, heartbeat_ms=12 * HOUR_MS,
)
JEEP = Make("JEEP", "Jeep", ("1C4",), account_permissions=("VEHICLE_STATUS", "REMOTE_LOCK", "REMOTE_START", "LOCATION"))
RAM = Make("RAM", "Ram", ("1C6", "3C6"), account_permissions=("VEHICLE_STATUS", "REMOTE_LOCK", "REMOTE_START", "LOCATION"))
MITSUBISHI = Make(
    "MITSUBISHI", "Mitsubishi", ("JA4", "JMB"),
    reports_tire_pressure=False, reports_diagnostics=False, reports_service_history=False,
)

_MAKES: tuple[Make, ...] = (
    AUDI, BMW, CHEVROLET, FORD, HONDA, HYUNDAI, JEEP, KIA, MITSUBISHI, NISSAN, RAM, RIVIAN,
    TESLA, TOYOTA, VOLKSWAGEN, VOLVO,
)

_ECO_NORMAL_SPORT = (DriveMode("ECO", "Eco"), DriveMode("NORMAL", "Normal"), DriveMode("SPORT", "Sport"))
_TESLA_MODES = (DriveMode("ECO", "Chill"), DriveMode("NORMAL", "Standard"))
_TESLA_COLOURS = (
    "Pearl White Multi-Coat", "Solid Black", "Midnight Silver Metallic", "Deep Blue Metallic",
    "Red Multi-Coat", "Stealth Grey", "Quicksilver",
)

_MODELS: tuple[ModelSpec, ...] = (
    # --- battery-electric -------------------------------------------------------------------
    _model(
        TESLA, "Model 3", range(2017, 2026), "BEV", body_style="sedan", markets=("NA", "EU"),
        trims=(Trim("Rear-Wheel Drive", 0), Trim("Long Range AWD", 1), Trim("Performance", 1)),
        batteries=(
            BatteryOption(57.5, 438, "BEV:Standard Range", 170),
            BatteryOption(75.0, 536, "BEV:Long Range", 250),
        ),
        colours=_TESLA_COLOURS, wheel_styles=("Aero 18", "Sport 19", "Uberturbine 20"),
        drive_modes=_TESLA_MODES, kwh_per_100km=14.5, max_ac_kw=11.5, pack_voltage=360,
        ac_connector_na="NACS", dc_connector_na="NACS",
        tyre_kpa_front=290, tyre_kpa_rear=290, has_frunk=True,
        packages=("Premium Interior", "Enhanced Autopilot", "Full Self-Driving Capability"),
    ),
    _model(
        TESLA, "Model Y", range(2020, 2026), "BEV", body_style="suv", markets=("NA", "EU"),
        trims=(Trim("Rear-Wheel Drive", 0), Trim("Long Range AWD", 1), Trim("Performance", 1)),
        batteries=(
            BatteryOption(60.0, 455, "BEV:Standard Range", 170),
            BatteryOption(75.0, 533, "BEV:Long Range", 250),
        ),
        colours=_TESLA_COLOURS, wheel_styles=("Gemini 19", "Induction 20", "Überturbine 21"),
        drive_modes=_TESLA_MODES, kwh_per_100km=16.0, max_ac_kw=11.5, pack_voltage=360,
        ac_connector_na="NACS", dc_connector_na="NACS",
        tyre_kpa_front=290, tyre_kpa_rear=290, has_frunk=True,
        packages=("Seven Seat Interior", "Enhanced Autopilot", "Full Self-Driving Capability", "Tow Hitch"),
    ),
    _model(
        VOLKSWAGEN, "ID.4", range(2021, 2026), "BEV", body_style="suv", markets=("NA", "EU"),
        trims=(Trim("Standard", 0), Trim("Pro", 1), Trim("Pro S", 1), Trim("AWD Pro S", 1)),
        batteries=(
            BatteryOption(62.0, 336, "BEV:Standard Range", 140),
            BatteryOption(77.0, 443, "BEV:Extended Range", 175),
        ),
        colours=("Glacier White", "Mythos Black", "Moonstone Gray", "Aurora Red", "Kings Red", "Dusk Blue"),
        wheel_styles=("Drammen 19", "Hamar 20", "Narvik 21"), drive_modes=_ECO_NORMAL_SPORT,
        kwh_per_100km=17.5, max_ac_kw=11.0, pack_voltage=400,
        tyre_kpa_front=260, tyre_kpa_rear=300, has_sunroof=True,
        packages=("Statement Package", "Gradient Package", "Travel Assist"),
    ),
    _model(
        FORD, "Mustang Mach-E", range(2021, 2026), "BEV", body_style="suv", markets=("NA", "EU"),
        trims=(Trim("Select", 0), Trim("Premium", 1), Trim("California Route 1", 1), Trim("GT", 1)),
        batteries=(
            BatteryOption(70.0, 402, "BEV:Standard Range", 115),
            BatteryOption(88.0, 502, "BEV:Extended Range", 150),
        ),
        colours=("Star White", "Shadow Black", "Grabber Blue", "Rapid Red", "Carbonized Gray", "Space White"),
        wheel_styles=("Aero 18", "Machined 19", "Performance 20"),
        drive_modes=(DriveMode("ECO", "Whisper"), DriveMode("NORMAL", "Engage"), DriveMode("SPORT", "Unbridled")),
        kwh_per_100km=18.5, max_ac_kw=11.5, pack_voltage=400,
        tyre_kpa_front=255, tyre_kpa_rear=255, has_frunk=True, has_sunroof=True,
        packages=("Technology Package", "BlueCruise", "Comfort Package"),
    ),
    _model(
        HYUNDAI, "Ioniq 5", range(2022, 2026), "BEV", body_style="suv", markets=("NA", "EU"),
        trims=(Trim("SE Standard Range", 0), Trim("SE", 1), Trim("SEL", 1), Trim("Limited", 1)),
        batteries=(
            BatteryOption(58.0, 354, "BEV:Standard Range", 175),
            BatteryOption(77.4, 488, "BEV:Long Range", 235),
        ),
        colours=("Atlas White", "Abyss Black", "Cyber Gray", "Gravity Gold", "Digital Teal", "Lucid Blue"),
        wheel_styles=("Aero 19", "Parametric 20"), drive_modes=_ECO_NORMAL_SPORT,
        kwh_per_100km=16.9, max_ac_kw=10.9, pack_voltage=697,
        tyre_kpa_front=250, tyre_kpa_rear=250, has_frunk=True, has_sunroof=True,
        packages=("Vision Roof", "Highway Driving Assist 2", "Vehicle-to-Load"),
    ),
    _model(
        KIA, "EV6", range(2022, 2026), "BEV", body_style="suv", markets=("NA", "EU"),
        trims=(Trim("Light", 0), Trim("Wind", 1), Trim("GT-Line", 1), Trim("GT", 1)),
        batteries=(
            BatteryOption(58.0, 373, "BEV:Standard Range", 175),
            BatteryOption(77.4, 499, "BEV:Long Range", 235),
        ),
        colours=("Snow White Pearl", "Aurora Black Pearl", "Steel Gray", "Runway Red", "Yacht Blue", "Glacier"),
        wheel_styles=("Aero 19", "GT-Line 20", "GT 21"), drive_modes=_ECO_NORMAL_SPORT,
        kwh_per_100km=16.5, max_ac_kw=10.9, pack_voltage=697,
        tyre_kpa_front=250, tyre_kpa_rear=250, has_frunk=True, has_sunroof=True,
        packages=("Technology Package", "Highway Driving Assist 2", "Vehicle-to-Load"),
    ),
    _model(
        NISSAN, "Leaf", range(2018, 2025), "BEV", body_style="hatchback", markets=("NA", "EU"),
        trims=(Trim("S", 0), Trim("SV", 0), Trim("S Plus", 1), Trim("SV Plus", 1)),
        batteries=(
            BatteryOption(39.0, 240, "BEV:Standard Range", 50),
            BatteryOption(59.0, 363, "BEV:Extended Range", 100),
        ),
        colours=("Pearl White", "Super Black", "Gun Metallic", "Deep Blue Pearl", "Scarlet Ember"),
        wheel_styles=("Steel 16", "Alloy 17"), drive_modes=(DriveMode("ECO", "ECO"), DriveMode("NORMAL", "Normal")),
        kwh_per_100km=16.8, max_ac_kw=6.6, pack_voltage=350, dc_connector_na="CHADEMO",
        dc_connector_eu="CHADEMO", ac_connector_eu="IEC_TYPE_1",
        tyre_kpa_front=250, tyre_kpa_rear=250, has_heated_steering=False,
        packages=("ProPILOT Assist", "Technology Package"),
    ),
    _model(
        CHEVROLET, "Bolt EV", range(2017, 2024), "BEV", body_style="hatchback", markets=("NA",),
        trims=(Trim("1LT", 0), Trim("2LT", 0)),
        batteries=(BatteryOption(65.0, 417, "BEV:Standard Range", 55),),
        colours=("Summit White", "Mosaic Black Metallic", "Silver Flare Metallic", "Red Hot", "Bright Blue Metallic"),
        wheel_styles=("Aluminum 17",), drive_modes=(DriveMode("NORMAL", "Normal"), DriveMode("SPORT", "Sport")),
        kwh_per_100km=16.0, max_ac_kw=11.5, pack_voltage=350,
        tyre_kpa_front=262, tyre_kpa_rear=262, packages=("Comfort and Convenience", "Infotainment Package"),
    ),
    _model(
        BMW, "i4", range(2022, 2026), "BEV", body_style="sedan", markets=("NA", "EU"),
        trims=(Trim("eDrive35", 0), Trim("eDrive40", 1), Trim("xDrive40", 1), Trim("M50", 1)),
        batteries=(
            BatteryOption(67.1, 415, "BEV:Standard Range", 180),
            BatteryOption(81.5, 484, "BEV:Extended Range", 205),
        ),
        colours=("Alpine White", "Black Sapphire Metallic", "Mineral White Metallic", "Portimao Blue Metallic", "Skyscraper Grey"),
        wheel_styles=("Aerodynamic 18", "M Aerodynamic 19", "M Double-spoke 20"),
        drive_modes=(DriveMode("ECO", "ECO PRO"), DriveMode("NORMAL", "COMFORT"), DriveMode("SPORT", "SPORT")),
        kwh_per_100km=17.5, max_ac_kw=11.0, pack_voltage=400,
        tyre_kpa_front=250, tyre_kpa_rear=280, has_sunroof=True,
        packages=("Premium Package", "Driving Assistance Professional", "M Sport Package"),
    ),
    _model(
        RIVIAN, "R1S", range(2022, 2026), "BEV", body_style="suv", markets=("NA",),
        trims=(Trim("Standard", 0), Trim("Large", 1), Trim("Max", 2)),
        batteries=(
            BatteryOption(92.5, 434, "BEV:Standard Pack", 220),
            BatteryOption(121.0, 507, "BEV:Large Pack", 220),
            BatteryOption(140.0, 660, "BEV:Max Pack", 220),
        ),
        colours=("Glacier White", "Midnight", "Forest Green", "Rivian Blue", "El Cap Granite", "Launch Green"),
        wheel_styles=("All-Terrain 20", "Road 21", "Sport 22"),
        drive_modes=(DriveMode("ECO", "Conserve"), DriveMode("NORMAL", "All-Purpose"), DriveMode("SPORT", "Sport")),
        kwh_per_100km=24.0, max_ac_kw=11.5, pack_voltage=400,
        tyre_kpa_front=331, tyre_kpa_rear=331, has_frunk=True, has_sunroof=True,
        packages=("Off-Road Upgrade", "Highway Assist", "Camp Kitchen"),
    ),
    _model(
        RIVIAN, "R1T", range(2022, 2026), "BEV", body_style="pickup", markets=("NA",),
        trims=(Trim("Standard", 0), Trim("Large", 1), Trim("Max", 2)),
        batteries=(
            BatteryOption(92.5, 435, "BEV:Standard Pack", 220),
            BatteryOption(121.0, 529, "BEV:Large Pack", 220),
            BatteryOption(140.0, 676, "BEV:Max Pack", 220),
        ),
        colours=("Glacier White", "Midnight", "Forest Green", "Rivian Blue", "Compass Yellow", "Red Canyon"),
        wheel_styles=("All-Terrain 20", "Road 21", "Sport 22"),
        drive_modes=(DriveMode("ECO", "Conserve"), DriveMode("NORMAL", "All-Purpose"), DriveMode("SPORT", "Sport")),
        kwh_per_100km=23.5, max_ac_kw=11.5, pack_voltage=400,
        tyre_kpa_front=331, tyre_kpa_rear=331, has_frunk=True, has_sunroof=True,
        packages=("Off-Road Upgrade", "Gear Tunnel", "Powered Tonneau Cover"),
    ),
    _model(
        VOLVO, "XC40 Recharge", range(2021, 2025), "BEV", body_style="suv", markets=("NA", "EU"),
        trims=(Trim("Core", 0), Trim("Plus", 1), Trim("Ultimate", 1)),
        batteries=(
            BatteryOption(67.0, 420, "BEV:Single Motor", 130),
            BatteryOption(75.0, 359, "BEV:Twin Motor", 150),
        ),
        colours=("Crystal White", "Onyx Black", "Sage Green", "Fjord Blue", "Thunder Grey", "Glacier Silver"),
        wheel_styles=("5-Spoke 19", "5-Double Spoke 20"), drive_modes=(DriveMode("NORMAL", "Comfort"), DriveMode("ECO", "One Pedal")),
        kwh_per_100km=21.0, max_ac_kw=11.0, pack_voltage=400,
        tyre_kpa_front=250, tyre_kpa_rear=250, has_frunk=True, has_sunroof=True,
        packages=("Climate Package", "Pilot Assist", "Harman Kardon Premium Sound"),
    ),
    _model(
        AUDI, "Q4 e-tron", range(2022, 2026), "BEV", body_style="suv", markets=("NA", "EU"),
        trims=(Trim("Premium", 0), Trim("Premium Plus", 1), Trim("Prestige", 1)),
        batteries=(
            BatteryOption(52.0, 341, "BEV:Standard Range", 125),
            BatteryOption(77.0, 426, "BEV:Extended Range", 175),
        ),
        colours=("Glacier White Metallic", "Mythos Black Metallic", "Navarra Blue Metallic", "Geyser Blue Metallic", "Chronos Gray Metallic"),
        wheel_styles=("5-Arm 19", "5-V-Spoke 20", "Aero 21"),
        drive_modes=(DriveMode("ECO", "efficiency"), DriveMode("NORMAL", "comfort"), DriveMode("SPORT", "dynamic")),
        kwh_per_100km=19.0, max_ac_kw=11.0, pack_voltage=400,
        tyre_kpa_front=260, tyre_kpa_rear=300, has_sunroof=True,
        packages=("S line", "Technology Package", "Black Optic Package"),
    ),
    # --- plug-in hybrid ---------------------------------------------------------------------
    _model(
        TOYOTA, "RAV4 Prime", range(2021, 2026), "PHEV", body_style="suv", markets=("NA",),
        trims=(Trim("SE", 0), Trim("XSE", 0), Trim("XSE Premium", 0)),
        batteries=(BatteryOption(15.5, 68, "PHEV:Standard"),),
        colours=("Super White", "Midnight Black Metallic", "Magnetic Gray Metallic", "Supersonic Red", "Blueprint", "Silver Sky Metallic"),
        wheel_styles=("Alloy 18", "Alloy 19"), drive_modes=(DriveMode("ECO", "EV Mode"), DriveMode("NORMAL", "Auto EV/HV"), DriveMode("SPORT", "Sport")),
        kwh_per_100km=22.5, l_per_100km=6.2, tank_l=55, fuel_type="GASOLINE", max_ac_kw=6.6, pack_voltage=355,
        tyre_kpa_front=240, tyre_kpa_rear=240, has_sunroof=True,
        packages=("Premium Package", "Weather Package", "JBL Audio"),
    ),
    _model(
        VOLVO, "XC60 Recharge", range(2018, 2026), "PHEV", body_style="suv", markets=("NA", "EU"),
        trims=(Trim("Core", 0), Trim("Plus", 0), Trim("Ultimate", 0), Trim("Polestar Engineered", 0)),
        batteries=(BatteryOption(14.9, 57, "PHEV:Standard"),),
        colours=("Crystal White", "Onyx Black", "Denim Blue", "Thunder Grey", "Vapour Grey", "Platinum Grey"),
        wheel_styles=("5-Spoke 19", "Multi-Spoke 20", "8-Spoke 21"), drive_modes=(DriveMode("ECO", "Pure"), DriveMode("NORMAL", "Hybrid"), DriveMode("SPORT", "Power")),
        kwh_per_100km=24.5, l_per_100km=8.1, tank_l=71, fuel_type="GASOLINE", max_ac_kw=3.7, pack_voltage=400,
        tyre_kpa_front=250, tyre_kpa_rear=250, has_sunroof=True,
        packages=("Climate Package", "Pilot Assist", "Bowers & Wilkins Audio"),
    ),
    _model(
        JEEP, "Wrangler 4xe", range(2021, 2026), "PHEV", body_style="suv", markets=("NA", "EU"),
        trims=(Trim("Sahara", 0), Trim("Rubicon", 0), Trim("High Altitude", 0)),
        batteries=(BatteryOption(14.0, 35, "PHEV:Standard"),),
        colours=("Bright White", "Black", "Granite Crystal", "Hydro Blue", "Firecracker Red", "Sarge Green"),
        wheel_styles=("Polished 18", "Rubicon 17"), drive_modes=(DriveMode("ECO", "Electric"), DriveMode("NORMAL", "Hybrid"), DriveMode("SPORT", "eSave")),
        kwh_per_100km=32.0, l_per_100km=11.2, tank_l=65, fuel_type="GASOLINE", max_ac_kw=7.4, pack_voltage=400,
        tyre_kpa_front=255, tyre_kpa_rear=255, has_sunroof=True, has_heated_steering=True,
        packages=("Sky One-Touch Power Top", "Trailer Tow Package", "Advanced Safety Group"),
    ),
    _model(
        BMW, "X5 xDrive50e", range(2024, 2026), "PHEV", body_style="suv", markets=("NA", "EU"),
        trims=(Trim("xDrive50e", 0), Trim("xDrive50e M Sport", 0)),
        batteries=(BatteryOption(25.7, 64, "PHEV:Standard"),),
        colours=("Alpine White", "Black Sapphire Metallic", "Carbon Black Metallic", "Phytonic Blue Metallic", "Brooklyn Grey Metallic"),
        wheel_styles=("Y-Spoke 20", "M Double-spoke 21", "M Star-spoke 22"),
        drive_modes=(DriveMode("ECO", "ELECTRIC"), DriveMode("NORMAL", "HYBRID"), DriveMode("SPORT", "SPORT")),
        kwh_per_100km=28.0, l_per_100km=10.2, tank_l=69, fuel_type="GASOLINE", max_ac_kw=7.4, pack_voltage=400,
        tyre_kpa_front=250, tyre_kpa_rear=290, has_sunroof=True,
        packages=("Premium Package", "Driving Assistance Professional", "M Sport Pro"),
    ),
    _model(
        MITSUBISHI, "Outlander PHEV", range(2023, 2026), "PHEV", body_style="suv", markets=("NA", "EU"),
        trims=(Trim("ES", 0), Trim("SEL", 0), Trim("GT Premium", 0)),
        batteries=(BatteryOption(18.0, 61, "PHEV:Standard", 50),),
        colours=("White Diamond", "Black Diamond", "Titanium Gray Metallic", "Red Diamond", "Cosmic Blue"),
        wheel_styles=("Alloy 18", "Alloy 20"), drive_modes=(DriveMode("ECO", "Eco"), DriveMode("NORMAL", "Normal"), DriveMode("SPORT", "Power")),
        kwh_per_100km=26.0, l_per_100km=8.7, tank_l=56, fuel_type="GASOLINE", max_ac_kw=3.5, pack_voltage=350,
        dc_connector_na="CHADEMO", dc_connector_eu="CHADEMO",
        tyre_kpa_front=240, tyre_kpa_rear=240, has_sunroof=True,
        packages=("Premium Package", "Tech Package"),
    ),
    # --- hybrid -----------------------------------------------------------------------------
    _model(
        TOYOTA, "Prius", range(2016, 2026), "HEV", body_style="hatchback", markets=("NA", "EU"),
        trims=(Trim("LE"), Trim("XLE"), Trim("Limited")),
        colours=("Super White", "Midnight Black Metallic", "Guardian Gray", "Supersonic Red", "Reservoir Blue", "Cutting Edge"),
        wheel_styles=("Alloy 17", "Alloy 19"), drive_modes=(DriveMode("ECO", "ECO"), DriveMode("NORMAL", "Normal"), DriveMode("SPORT", "Power")),
        l_per_100km=4.3, tank_l=43, fuel_type="GASOLINE", tyre_kpa_front=240, tyre_kpa_rear=240, has_sunroof=True,
        packages=("Premium Package", "Convenience Package"),
    ),
    _model(
        HONDA, "Accord Hybrid", range(2018, 2026), "HEV", body_style="sedan", markets=("NA",),
        trims=(Trim("Sport"), Trim("EX-L"), Trim("Touring")),
        colours=("Platinum White Pearl", "Crystal Black Pearl", "Lunar Silver Metallic", "Radiant Red Metallic", "Still Night Pearl"),
        wheel_styles=("Alloy 17", "Alloy 19"), drive_modes=(DriveMode("ECO", "ECON"), DriveMode("NORMAL", "Normal"), DriveMode("SPORT", "Sport")),
        l_per_100km=5.0, tank_l=48.6, fuel_type="GASOLINE", tyre_kpa_front=230, tyre_kpa_rear=230, has_sunroof=True,
        packages=("Honda Sensing", "Navigation Package"),
    ),
    _model(
        FORD, "Maverick Hybrid", range(2022, 2026), "HEV", body_style="pickup", markets=("NA",),
        trims=(Trim("XL"), Trim("XLT"), Trim("Lariat")),
        colours=("Oxford White", "Shadow Black", "Cactus Gray", "Velocity Blue", "Hot Pepper Red", "Area 51"),
        wheel_styles=("Steel 17", "Alloy 18"), drive_modes=(DriveMode("ECO", "Eco"), DriveMode("NORMAL", "Normal"), DriveMode("SPORT", "Sport")),
        l_per_100km=6.4, tank_l=51, fuel_type="GASOLINE", tyre_kpa_front=240, tyre_kpa_rear=240,
        packages=("FLEXBED", "Co-Pilot360", "Lariat Luxury"),
    ),
    # --- internal combustion ----------------------------------------------------------------
    _model(
        TOYOTA, "Camry", range(2018, 2025), "ICE", body_style="sedan", markets=("NA", "EU"),
        trims=(Trim("LE"), Trim("SE"), Trim("XLE"), Trim("XSE")),
        colours=("Super White", "Midnight Black Metallic", "Celestial Silver Metallic", "Supersonic Red", "Blueprint", "Predawn Gray Mica"),
        wheel_styles=("Alloy 17", "Alloy 18", "Alloy 19"), drive_modes=(DriveMode("ECO", "ECO"), DriveMode("NORMAL", "Normal"), DriveMode("SPORT", "Sport")),
        l_per_100km=7.6, tank_l=60, fuel_type="GASOLINE", tyre_kpa_front=240, tyre_kpa_rear=240, has_sunroof=True,
        packages=("Convenience Package", "Driver Assist Package"),
    ),
    _model(
        HONDA, "Civic", range(2016, 2026), "ICE", body_style="sedan", markets=("NA", "EU"),
        trims=(Trim("LX"), Trim("Sport"), Trim("EX"), Trim("Touring")),
        colours=("Platinum White Pearl", "Crystal Black Pearl", "Sonic Gray Pearl", "Rallye Red", "Aegean Blue Metallic"),
        wheel_styles=("Alloy 16", "Alloy 18"), drive_modes=(DriveMode("ECO", "ECON"), DriveMode("NORMAL", "Normal"), DriveMode("SPORT", "Sport")),
        l_per_100km=6.7, tank_l=47, fuel_type="GASOLINE", tyre_kpa_front=220, tyre_kpa_rear=220, has_sunroof=True,
        has_heated_steering=False, packages=("Honda Sensing", "Bose Premium Audio"),
    ),
    _model(
        FORD, "F-150", range(2015, 2026), "ICE", body_style="pickup", markets=("NA",),
        trims=(Trim("XL"), Trim("XLT"), Trim("Lariat"), Trim("Platinum")),
        colours=("Oxford White", "Agate Black", "Iconic Silver", "Rapid Red", "Antimatter Blue", "Carbonized Gray"),
        wheel_styles=("Steel 17", "Machined 18", "Chrome 20"), drive_modes=(DriveMode("ECO", "Eco"), DriveMode("NORMAL", "Normal"), DriveMode("SPORT", "Sport")),
        l_per_100km=12.4, tank_l=98, fuel_type="GASOLINE", tyre_kpa_front=240, tyre_kpa_rear=240, has_sunroof=True,
        packages=("Max Trailer Tow", "Pro Power Onboard", "BlueCruise", "FX4 Off-Road"),
    ),
    _model(
        RAM, "1500 EcoDiesel", range(2020, 2024), "ICE", body_style="pickup", markets=("NA",),
        trims=(Trim("Big Horn"), Trim("Laramie"), Trim("Limited")),
        colours=("Bright White", "Diamond Black Crystal", "Billet Silver", "Patriot Blue", "Delmonico Red"),
        wheel_styles=("Aluminum 18", "Chrome 20"), drive_modes=(DriveMode("NORMAL", "Auto"), DriveMode("SPORT", "Sport"), DriveMode("OFFROAD", "Off-Road")),
        l_per_100km=9.4, tank_l=124, fuel_type="DIESEL", tyre_kpa_front=276, tyre_kpa_rear=276, has_sunroof=True,
        packages=("Trailer Tow Group", "Level 1 Equipment Group", "Night Edition"),
    ),
    _model(
        VOLKSWAGEN, "Golf", range(2015, 2025), "ICE", body_style="hatchback", markets=("EU",),
        trims=(Trim("Life"), Trim("Style"), Trim("R-Line"), Trim("GTI")),
        colours=("Pure White", "Deep Black Pearl", "Moonstone Grey", "Kings Red", "Atlantic Blue", "Lime Yellow"),
        wheel_styles=("Norfolk 16", "Belmont 17", "Richmond 18"), drive_modes=_ECO_NORMAL_SPORT,
        l_per_100km=6.4, tank_l=50, fuel_type="GASOLINE", tyre_kpa_front=230, tyre_kpa_rear=220, has_sunroof=True,
        packages=("IQ.DRIVE", "Winter Package", "Harman Kardon Sound"),
    ),
    _model(
        BMW, "3 Series", range(2019, 2026), "ICE", body_style="sedan", markets=("NA", "EU"),
        trims=(Trim("330i"), Trim("330i xDrive"), Trim("M340i")),
        colours=("Alpine White", "Black Sapphire Metallic", "Mineral White Metallic", "Portimao Blue Metallic", "Melbourne Red Metallic"),
        wheel_styles=("V-Spoke 18", "M Double-spoke 19"), drive_modes=(DriveMode("ECO", "ECO PRO"), DriveMode("NORMAL", "COMFORT"), DriveMode("SPORT", "SPORT")),
        l_per_100km=7.6, tank_l=59, fuel_type="GASOLINE", tyre_kpa_front=230, tyre_kpa_rear=260, has_sunroof=True,
        packages=("Premium Package", "M Sport Package", "Driving Assistance Package"),
    ),
    _model(
        AUDI, "A4", range(2017, 2026), "ICE", body_style="sedan", markets=("NA", "EU"),
        trims=(Trim("Premium"), Trim("Premium Plus"), Trim("Prestige")),
        colours=("Ibis White", "Mythos Black Metallic", "Florett Silver Metallic", "Navarra Blue Metallic", "Manhattan Gray Metallic"),
        wheel_styles=("5-Arm 17", "10-Spoke 18", "5-Double-Arm 19"),
        drive_modes=(DriveMode("ECO", "efficiency"), DriveMode("NORMAL", "comfort"), DriveMode("SPORT", "dynamic")),
        l_per_100km=8.1, tank_l=58, fuel_type="GASOLINE", tyre_kpa_front=240, tyre_kpa_rear=240, has_sunroof=True,
        packages=("S line", "Convenience Package", "Bang & Olufsen Sound"),
    ),
)

_BY_KEY: dict[tuple[str, str], ModelSpec] = {(m.make, m.model.lower()): m for m in _MODELS}
_MAKE_BY_CODE: dict[str, Make] = {m.code: m for m in _MAKES}
_MAKE_BY_NAME: dict[str, Make] = {m.name.lower(): m for m in _MAKES}
_BY_POWERTRAIN: dict[Powertrain | None, list[ModelSpec]] = {
    None: list(_MODELS),
    **{p: [m for m in _MODELS if m.powertrain == p] for p in POWERTRAINS},
}


def models(powertrain: str | None = None) -> list[ModelSpec]:
    """Every model, or those of one powertrain (case-insensitive), in catalogue order."""
    key = powertrain.upper() if powertrain else None
    if key not in _BY_POWERTRAIN:
        raise ValueError(f"Unknown powertrain {powertrain!r}; expected one of {', '.join(POWERTRAINS)}.")
    return list(_BY_POWERTRAIN[key])


def find_make(make: str) -> Make | None:
    """A make by wire code (``TESLA``) or display name (``Tesla``), case-insensitively."""
    return _MAKE_BY_CODE.get(make.upper()) or _MAKE_BY_NAME.get(make.lower())


def find_model(make: str, model: str) -> ModelSpec | None:
    """A model by make (code or display name) and model name, case-insensitively."""
    found = find_make(make)
    if found is None:
        return None
    return _BY_KEY.get((found.code, model.lower()))


def pick_model(rng: random.Random, powertrain: str | None = None) -> ModelSpec:
    """A model drawn with ``rng`` (optionally of one powertrain)."""
    return rng.choice(models(powertrain))


def makes() -> list[Make]:
    """Every make of the catalogue, by display name — Connect's brand selector."""
    return sorted(_MAKES, key=lambda m: m.name.lower())


def models_of(make: str) -> list[ModelSpec]:
    """The models of one make (code or display name)."""
    found = find_make(make)
    return [] if found is None else [m for m in _MODELS if m.make == found.code]


def make_for_wmi(wmi: str) -> Make | None:
    """The make whose VINs start with this world manufacturer identifier."""
    wmi = wmi.upper()
    return next((m for m in _MAKES if wmi in m.wmis), None)
