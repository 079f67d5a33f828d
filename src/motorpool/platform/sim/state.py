"""The types of a simulated vehicle's state record, and of what is computed from it.

The state is a plain JSON object: the platform stores it in a JSON column, compares-and-sets it,
caches it and hands it back as it was stored. So it is described with ``TypedDict``\\ s, which
cost nothing at run time and leave it a ``dict``. A record read back from the database is
trusted to have this shape (``cast`` at that boundary); every record is made by
:func:`.vehicle.new_vehicle_state` and changed only by the plans of :mod:`.plans`.

A state holds values *as of* ``at`` and the :data:`Activity` that runs from then on. Keys that a
record may lack are ``NotRequired``. Fixed-length JSON arrays are typed as lists: JSON gives
lists back, and a state must equal its JSON form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple, NotRequired, TypeAlias, TypedDict

from .catalogue import ModelSpec

#: Any JSON value, and a JSON object (a signal's body, an operator's pinned value).
JsonValue: TypeAlias = "None | bool | int | float | str | list[JsonValue] | dict[str, JsonValue]"
JsonObject: TypeAlias = dict[str, "JsonValue"]


# --- the activity -----------------------------------------------------------------------------


class ParkedActivity(TypedDict):
    kind: Literal["parked"]
    #: When the car became idle, if before ``at`` (absent: idle since ``at``).
    idle_since: NotRequired[int]
    #: When it was put to sleep on purpose (absent: it falls asleep after its make's idle time).
    asleep_at: NotRequired[int]


class ChargingActivity(TypedDict):
    """Charging on ``state["charger"]`` from ``at`` until the charge limit."""

    kind: Literal["charging"]
    started_at: int
    start_soc: float
    #: Energy added to the battery by ``at`` (kWh).
    energy_kwh: float
    #: Started by a charge schedule's window (and stopped when the window closes).
    by_schedule: NotRequired[bool]


class DrivingActivity(TypedDict):
    """Driving from ``state["position"]`` towards ``to`` along a gently curving path."""

    kind: Literal["driving"]
    #: ``[latitude, longitude]`` of the destination.
    to: list[float]
    #: Average speed, and where in its traffic swing the trip is at ``at`` (radians).
    kph: float
    phase: float
    #: Road still to go from ``at``.
    km: float
    #: ``[amplitude, twist]`` of the sideways bend of the path.
    wiggle: list[float]


Activity: TypeAlias = ParkedActivity | ChargingActivity | DrivingActivity


# --- charging -------------------------------------------------------------------------------


class Charger(TypedDict):
    """A charger as the car sees it (power already capped by what the car accepts on AC)."""

    dc: bool
    kw: float
    volts: float
    #: 0 on DC.
    phases: int
    connector: str
    public: bool
    #: The public site's name; None at home.
    site: str | None
    #: Where a public charger stands (a home charger stands at ``state["home"]``).
    latitude: NotRequired[float]
    longitude: NotRequired[float]


class ChargingSession(TypedDict):
    """A finished charging session, before it becomes a :class:`ChargeRecord`."""

    started_at: int
    ended_at: int
    start_soc: float
    end_soc: float
    energy_kwh: float
    charger: Charger | None


class ChargeCost(TypedDict):
    currency: str
    energyAmount: float
    otherAmount: float


class ChargeLocation(TypedDict):
    name: str
    address: str
    latitude: float
    longitude: float


class ChargeRecord(TypedDict):
    """One entry of the ``charge-chargerecords`` signal, as the wire shows it."""

    id: str
    cost: ChargeCost
    startTime: str
    endTime: str
    location: ChargeLocation
    energyAdded: float
    connectorType: str | None
    isPublicCharger: bool
    startStateOfCharge: float
    endStateOfCharge: float


# --- service history --------------------------------------------------------------------------


class ServiceCost(TypedDict):
    amount: float
    currency: str


class ServiceItem(TypedDict):
    id: str
    description: str


class ServiceOdometer(TypedDict):
    unit: str
    value: float


class ServiceRecord(TypedDict):
    """One entry of the ``service-records`` signal, as the wire shows it."""

    id: str
    cost: ServiceCost
    time: str
    tasks: list[ServiceItem]
    details: list[ServiceItem]
    odometer: ServiceOdometer


# --- charge schedules ---------------------------------------------------------------------------


class TimerCondition(TypedDict):
    name: str | None
    address: str | None
    latitude: float
    longitude: float
    connectorType: str | None


class TimerWindow(TypedDict):
    #: Local times of the car's city, ``HH:MM:SS``; an end not after the start is the next day.
    start: str
    end: str
    #: ``MONDAY`` … ``SUNDAY``.
    days: list[str]


class ChargeTimer(TypedDict):
    """A location charge timer: one entry of the ``charge-chargetimers`` signal, as the wire
    shows it."""

    type: str
    condition: TimerCondition
    schedules: list[TimerWindow]
    departureTimers: list[JsonObject]
    isOEMOptimizationEnabled: bool
    scheduleType: str
    scheduleId: str


# --- commands -----------------------------------------------------------------------------------


class CommandParameters(TypedDict, total=False):
    """The parameters of a command (``plans.run_command``); each command uses its own."""

    #: ``charge-set-limit``.
    percent: int
    #: ``navigation-set-destination``.
    latitude: float
    longitude: float
    #: ``charge-schedule-create``.
    timer: ChargeTimer
    #: ``charge-schedule-delete``.
    scheduleId: str


class QueuedCommand(TypedDict):
    """A command the car carries out at ``due`` (a sleeping car woken for it)."""

    #: The command execution's id.
    id: str
    command: str
    parameters: CommandParameters
    due: int


# --- simulated failures ------------------------------------------------------------------------


class AccountFailure(TypedDict):
    """The owner's connected-services account needs attention (``sim/failures.py``)."""

    #: A ``CONNECTED_SERVICES_ACCOUNT`` code (``AUTHENTICATION_FAILED``: sign in again).
    code: str
    since: int


class SignalFailure(TypedDict):
    """A signal the car fails to report, with the wire error it reports instead."""

    type: str
    code: str | None
    since: int


# --- the state ----------------------------------------------------------------------------------

#: A diagnostic trouble code: ``[code, epoch ms it was set]``.
Dtc: TypeAlias = list[str | int]
#: A signal pinned by an operator: ``[body, epoch ms it was pinned]``.
Override: TypeAlias = list[JsonObject | int]


class VehicleState(TypedDict):
    """A simulated vehicle's state record (``vehicles.state``).

    Times are epoch milliseconds; positions ``[latitude, longitude]`` in degrees."""

    schema: int
    created_at: int
    #: When the car was first delivered, and its odometer when the simulation started.
    delivered_at: int
    first_km: float
    #: A key of ``geo.CITY_BY_KEY``.
    city: str
    home: list[float]
    #: An index into ``spec.trims``.
    trim: int
    colour: str
    wheel_style: str
    packages: list[str]
    nickname: str
    firmware: str
    #: An index into ``spec.drive_modes``.
    drive_mode: int
    cabin_target_c: float
    role: Literal["OWNER", "SECONDARY_DRIVER"]
    digital_key_paired: bool
    surveillance_enabled: bool
    #: Parked drain of the traction battery (W).
    standby_w: float
    #: The 12 V battery: when it was fitted, its charge as of ``at``, its parked drain.
    lv_installed_at: int
    lv_soc: float
    lv_drain_pct_day: float
    #: Tyre pressures as of ``at`` (front left, front right, rear left, rear right; kPa at 20 °C).
    tire_kpa: list[float]
    tire_leak_kpa_day: float
    odometer_km: float
    #: State of charge (percent) of a plug-in; None without a traction battery.
    soc: float | None
    #: Fuel (litres), oil life (percent) and oil-change interval (km) of a car with an engine.
    fuel_l: float | None
    oil_life: float | None
    oil_interval_km: float | None
    #: Charge limit (percent).
    charge_limit: int
    max_range_charges: int
    #: Energy of the last session while the car stays plugged in.
    last_energy_kwh: float
    #: How many charging sessions have been folded into ``charge_records``.
    sessions: int
    plugged: bool
    charger: Charger | None
    locked: bool
    #: What stands open: ``door-R-C``, ``window-R-C``, ``trunk``, ``hood``, ``tailgate``,
    #: ``frunk``, ``sunroof``, ``port``.
    open: list[str]
    #: ``[latitude, longitude, heading]`` as of ``at``.
    position: list[float]
    #: The instant the values hold at; the activity runs from then on.
    at: int
    activity: Activity
    #: Off the network from this instant on; None when reachable.
    offline_since: int | None
    in_service: bool
    #: Diagnostic system → alert text.
    alerts: dict[str, str]
    dtcs: list[Dtc]
    service_records: list[ServiceRecord]
    #: The last folded charging sessions (older ones drop off).
    charge_records: list[ChargeRecord]
    schedules: list[ChargeTimer]
    #: Signal code → pinned value.
    overrides: dict[str, Override]
    #: Commands waiting for their instant (absent until the first one is queued).
    pending: NotRequired[list[QueuedCommand]]
    #: ``[latitude, longitude, epoch ms]`` last sent to the navigation (absent until then).
    destination: NotRequired[list[float]]
    #: The connected-services account is broken (absent while it works).
    account_failure: NotRequired[AccountFailure]
    #: Signal code → how it fails (absent while none does).
    failed_signals: NotRequired[dict[str, SignalFailure]]


#: A change of plan: ``(spec, seed, state, now_ms)`` → the new state; it raises
#: ``plans.SimulationRefused`` for what the car cannot do, ``ValueError`` for bad input.
Plan: TypeAlias = Callable[[ModelSpec, int, VehicleState, int], VehicleState]


class Reading(NamedTuple):
    """One signal's value: its §6 body (metric), when the car recorded it, and an error if any."""

    body: JsonObject | None
    oem_updated_at_ms: int
    #: ``(type, code)`` of the wire error.
    error: tuple[str, str | None] | None = None
