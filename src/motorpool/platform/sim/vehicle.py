"""A simulated vehicle: a small JSON state record, and its signals as a pure function of time.

The state (:class:`.state.VehicleState`) holds values *as of* ``state["at"]`` and the activity
that runs from then on:

- ``{"kind": "parked"}``, optionally with ``"idle_since"`` (when it became idle, if before
  ``at``) and ``"asleep_at"`` (when it was put to sleep on purpose),
- ``{"kind": "charging", "started_at", "start_soc", "energy_kwh"}`` on the charger in
  ``state["charger"]`` until the charge limit,
- ``{"kind": "driving", "to": [lat, lon], "kph", "km", "phase", "wiggle"}`` from
  ``state["position"]`` towards ``to`` along a gently curving path, ``km`` of road to go.

:func:`evolve` integrates the activity from ``at`` to any later instant in closed form (charging
curve, distance covered, parked drain, 12 V ageing, tyre leak), so nothing ticks per vehicle. A
change of plan (a command, a trip) first folds the activity into the values at that instant
(``plans.settle``) and then starts the next activity from there.

A car reports the way real ones do: while awake its values are fresh; after ``sleep_after_ms``
idle it falls asleep and only wakes every ``heartbeat_ms`` to report, so reads return the last
report with an older ``oemUpdatedAt``; an offline car (``state["offline_since"]``) answers with the
values of its last contact and a ``VEHICLE_STATE``/``UNREACHABLE`` error.

Bodies returned by :func:`read_signals` may share sub-objects with a cache; treat them as
read-only."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from types import EllipsisType
from typing import Any, cast

from . import geo, physics
from .catalogue import BatteryOption, ModelSpec
from .failures import apply_failures, failed_reading
from .signals import SIGNALS, supported_signals
from .state import (
    Activity,
    ChargeLocation,
    Charger,
    ChargeRecord,
    ChargingActivity,
    ChargingSession,
    DrivingActivity,
    Dtc,
    JsonObject,
    Override,
    Reading,
    ServiceRecord,
    VehicleState,
)

SCHEMA = 1
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
YEAR_MS = int(365.25 * DAY_MS)

#: A parked plug-in never drains below this (it goes into deep sleep first).
DRAIN_FLOOR_SOC = 5.0
#: Within this distance of home the car is "at home".
HOME_RADIUS_KM = 0.15
#: Tyre pressure rises about 1 kPa per °C above the 20 °C the placard assumes, ~8 % when warm.
TYRE_KPA_PER_C = 1.0
TYRE_WARM_GAIN = 0.08
#: Home chargers, by market: volts, phases, the breaker-limited power.
HOME_AC = {"NA": (240.0, 1, 11.5), "EU": (230.0, 3, 11.0)}
PUBLIC_DC_KW = (50.0, 150.0, 250.0, 350.0)

COMPATIBILITY_ERROR = ("COMPATIBILITY", "VEHICLE_NOT_CAPABLE")
UNREACHABLE_ERROR = ("VEHICLE_STATE", "UNREACHABLE")


# --- creating a vehicle ---------------------------------------------------------------------

_NICKNAMES = (
    "Daily Driver", "The Commuter", "Blue Thunder", "Road Runner", "Silver Bullet", "Family Hauler",
    "Sparky", "Betty", "Ghost", "Old Faithful", "Weekend Warrior", "Red Rocket", "Mom's Car", "Work Truck",
)
_DTCS_ENGINE = (
    ("P0420", "emissions", "Catalyst system efficiency below threshold"),
    ("P0456", "emissions", "Evaporative emission system small leak detected"),
    ("P0171", "mil", "System too lean (bank 1)"),
)
_DTCS_PLUG_IN = (
    ("P0AA6", "evhvbattery", "Hybrid/EV battery voltage system isolation fault"),
    ("P1E00", "evcharging", "Charging system performance"),
)
_DTCS_COMMON = (("B1318", "lighting", "Exterior lamp circuit fault"), ("U0184", "telematics", "Lost communication with radio"))


def _firmware(spec: ModelSpec, rng: random.Random, year: int) -> str:
    return spec.firmware_pattern.format(
        y=year, a=rng.randint(1, 9), b=rng.randint(0, 30), b2=f"{rng.randint(1, 52):02d}", c=rng.randint(0, 12)
    )


def new_vehicle_state(
    spec: ModelSpec, seed: int, now_ms: int, *, year: int | None = None, **overrides: object
) -> VehicleState:
    """A vehicle's initial state, derived from ``seed`` alone (apart from the times).

    ``year`` (the model year) may be given to make the odometer and 12 V battery match the car's
    age; any other keyword replaces the state key of that name (``soc=40, plugged=True``)."""
    rng = random.Random(seed)
    now_year = datetime.fromtimestamp(now_ms / 1000, UTC).year
    if year is None:
        year = rng.choice([y for y in spec.years if y <= now_year] or list(spec.years))
    # A car first hits the road around the spring of its model year (or now, if that is later).
    delivered_at = min(now_ms, int((datetime(year - 1, 10, 1, tzinfo=UTC).timestamp() + rng.uniform(0, 270) * 86400) * 1000))
    age_years = max(0.05, (now_ms - delivered_at) / YEAR_MS)
    annual_km = rng.uniform(8_000, 20_000)
    odometer = round(max(rng.uniform(30, 600), annual_km * age_years), 1)

    city = rng.choice(geo.cities_in(spec.markets))
    home = geo.offset(city.latitude, city.longitude, rng.uniform(-8, 8), rng.uniform(-8, 8))
    at_home = rng.random() < 0.7
    position = home if at_home else geo.offset(home[0], home[1], rng.uniform(-6, 6), rng.uniform(-6, 6))
    heading = float(rng.randrange(0, 360))

    trim_index = rng.randrange(len(spec.trims))
    battery = spec.batteries[spec.trims[trim_index].battery] if spec.batteries else None
    limit = rng.choice((80, 80, 80, 85, 90, 90))
    soc = round(rng.uniform(25, limit - 2), 1) if battery else None
    fuel = round(spec.tank_l * rng.uniform(0.15, 0.95), 1) if spec.has_engine else None
    plugged = bool(battery) and at_home and rng.random() < 0.35
    charger = _home_charger(spec, city.market) if plugged else None
    activity: Activity = {"kind": "parked"}
    if plugged and soc is not None:
        if rng.random() < 0.5:
            soc = float(limit)  # charged overnight, still plugged in
        else:
            activity = {"kind": "charging", "started_at": now_ms, "start_soc": soc, "energy_kwh": 0.0}

    alerts: dict[str, str] = {}
    dtcs: list[Dtc] = []
    if rng.random() < 0.08:
        pool = _DTCS_COMMON + (_DTCS_PLUG_IN if spec.is_plug_in else ()) + (_DTCS_ENGINE if spec.has_engine else ())
        code, system, text = rng.choice(pool)
        dtcs.append([code, now_ms - rng.randrange(1, 30) * DAY_MS])
        alerts[system] = text
    if rng.random() < 0.06:
        alerts["washerfluid"] = "Washer fluid level low"

    recommended = (spec.tyre_kpa_front, spec.tyre_kpa_front, spec.tyre_kpa_rear, spec.tyre_kpa_rear)
    state: VehicleState = {
        "schema": SCHEMA,
        "created_at": now_ms,
        "delivered_at": delivered_at,
        "first_km": odometer,
        "city": city.key,
        "home": [round(home[0], 6), round(home[1], 6)],
        "trim": trim_index,
        "colour": rng.choice(spec.colours),
        "wheel_style": rng.choice(spec.wheel_styles),
        "packages": sorted(rng.sample(spec.packages, rng.randint(0, len(spec.packages)))),
        "nickname": rng.choice(_NICKNAMES) if rng.random() < 0.6 else "",
        "firmware": _firmware(spec, rng, now_year),  # kept current over the air
        "drive_mode": 1 if len(spec.drive_modes) > 1 else 0,
        "cabin_target_c": rng.choice((20.0, 20.5, 21.0, 21.5, 22.0)),
        "role": "OWNER" if rng.random() < 0.85 else "SECONDARY_DRIVER",
        "digital_key_paired": spec.has_digital_key and rng.random() < 0.6,
        "surveillance_enabled": spec.surveillance_brand is not None and rng.random() < 0.2,
        "standby_w": round(rng.uniform(12, 40), 1),
        # Original 12 V battery, or a replacement fitted within the last three years of an older car.
        "lv_installed_at": delivered_at if age_years <= 4 else now_ms - int(rng.uniform(0.2, 3.0) * YEAR_MS),
        "lv_soc": round(rng.uniform(82, 100), 1),
        "lv_drain_pct_day": round(rng.uniform(0.15, 0.6), 2),
        "tire_kpa": [round(p + rng.uniform(-12, 4), 1) for p in recommended],
        "tire_leak_kpa_day": round(rng.uniform(0.02, 0.08), 3),
        "odometer_km": odometer,
        "soc": soc,
        "fuel_l": fuel,
        "oil_life": round(rng.uniform(15, 100), 1) if spec.has_engine else None,
        "oil_interval_km": float(rng.choice((8_000, 12_000, 16_000))) if spec.has_engine else None,
        "charge_limit": limit,
        "max_range_charges": rng.randint(0, 25) if battery else 0,
        "last_energy_kwh": 0.0,
        "sessions": 0,
        "plugged": plugged,
        "charger": charger,
        "locked": rng.random() < 0.95,
        "open": [],
        "position": [round(position[0], 6), round(position[1], 6), heading],
        "at": now_ms,
        "activity": activity,
        "offline_since": None,
        "in_service": False,
        "alerts": alerts,
        "dtcs": dtcs,
        "service_records": [],
        "charge_records": [],
        "schedules": [],
        "overrides": {},
    }
    unknown = set(overrides) - set(state)
    if unknown:
        raise ValueError(f"Unknown state key(s): {', '.join(sorted(unknown))}.")
    # The keys are checked; their values are the caller's word (tests and fixtures set them).
    state.update(cast(VehicleState, overrides))
    return state


def _home_charger(spec: ModelSpec, market: str) -> Charger:
    volts, phases, breaker_kw = HOME_AC[market]
    connector = spec.ac_connector_na if market == "NA" else spec.ac_connector_eu
    return {"dc": False, "kw": min(breaker_kw, spec.max_ac_kw), "volts": volts, "phases": phases,
            "connector": connector, "public": False, "site": None}


def public_dc_charger(spec: ModelSpec, market: str, kw: float, site: str | None = None) -> Charger:
    """A DC fast charger of ``kw`` as the car sees it (power capped by what the car accepts)."""
    connector = spec.dc_connector_na if market == "NA" else spec.dc_connector_eu
    return {"dc": True, "kw": kw, "volts": spec.pack_voltage, "phases": 0, "connector": connector,
            "public": True, "site": site}


# --- integrating the activity ---------------------------------------------------------------


def battery_of(spec: ModelSpec, state: VehicleState) -> BatteryOption | None:
    if not spec.batteries:
        return None
    trim: int = state["trim"]
    return spec.batteries[spec.trims[trim].battery]


def charge_curve(spec: ModelSpec, state: VehicleState) -> physics.ChargeCurve | None:
    """The curve of the charger the car is plugged into, if any."""
    charger = state.get("charger")
    battery = battery_of(spec, state)
    if charger is None or battery is None:
        return None
    accepts = battery.max_dc_kw if charger["dc"] else spec.max_ac_kw
    return physics.ChargeCurve(min(charger["kw"], accepts), battery.usable_kwh, bool(charger["dc"]))


@dataclass(slots=True)
class Trip:
    """A driving activity resolved against the car: how far it really gets, and when."""

    average_kph: float
    phase: float
    km_reachable: float
    hours: float
    electric_km: float  # how much of the reachable distance runs on the battery


def trip_of(spec: ModelSpec, state: VehicleState, activity: DrivingActivity) -> Trip:
    """The trip of ``activity``, the state's driving activity."""
    kph, phase, km = activity["kph"], activity["phase"], activity["km"]
    factor = physics.consumption_factor(kph)
    battery = battery_of(spec, state)
    electric_km = 0.0
    if battery is not None and spec.kwh_per_100km:
        electric_km = (state["soc"] or 0.0) / 100.0 * battery.usable_kwh / (spec.kwh_per_100km * factor / 100.0)
    fuel_km = 0.0
    if spec.has_engine and spec.l_per_100km:
        fuel_km = (state["fuel_l"] or 0.0) / (spec.l_per_100km * factor / 100.0)
    reachable = min(km, electric_km + fuel_km)
    hours = physics.hours_to_cover(kph, phase, reachable)
    return Trip(kph, phase, reachable, hours, min(electric_km, reachable))


@dataclass(slots=True)
class Moment:
    """Everything that changes, at one instant."""

    t: int
    odometer_km: float
    soc: float | None
    fuel_l: float | None
    oil_life: float | None
    #: 12 V state of charge as reported: the charge held, capped by what the ageing battery holds.
    lv_soc: float
    #: The charge held, before the ageing cap (what the state stores).
    lv_charge: float
    latitude: float
    longitude: float
    heading: float
    speed_kph: float
    moving: bool
    plugged: bool
    charging: bool
    status: str
    grid_kw: float
    energy_added_kwh: float
    minutes_to_complete: int
    tyre_kpa: tuple[float, float, float, float]
    #: The instant the car last became idle (parked, or full on the charger); None while busy.
    idle_since: int | None
    #: Hours the current drive has been going (for cabin and tyre warm-up).
    driving_hours: float
    max_range_charges: int
    #: A charging session that has finished by now but is not folded into the state yet.
    finished_session: ChargingSession | None


def activity_end(spec: ModelSpec, state: VehicleState) -> int | None:
    """When the current activity ends by itself (full battery, arrival); None for parked."""
    at = state["at"]
    activity = state["activity"]
    if activity["kind"] == "charging":
        curve = charge_curve(spec, state)
        soc = state["soc"]
        if curve is None or curve.peak_kw <= 0 or soc is None:
            return at  # nothing flows: idle from the start
        hours = curve.hours_between(soc, state["charge_limit"])
        return at + math.ceil(hours * HOUR_MS)
    if activity["kind"] == "driving":
        return at + math.ceil(trip_of(spec, state, activity).hours * HOUR_MS)
    return None


def _parked_values(
    spec: ModelSpec, state: VehicleState, since: int, t: int, soc: float | None, lv: float,
    plugged: bool,
) -> tuple[float | None, float]:
    """State of charge and 12 V charge after standing from ``since`` to ``t``."""
    days = max(0, t - since) / DAY_MS
    if soc is not None and not plugged:
        battery = battery_of(spec, state)
        assert battery is not None
        watts = state["standby_w"] + (120.0 if state["surveillance_enabled"] else 0.0)
        drained = watts * days * 24.0 / 1000.0 / battery.usable_kwh * 100.0
        soc = max(min(soc, DRAIN_FLOOR_SOC), soc - drained)
    if spec.is_plug_in:
        # The traction battery tops the 12 V battery up; it only sags a little between top-ups.
        lv = max(min(lv, 70.0), lv - 0.1 * days)
    else:
        lv = max(min(lv, 20.0), lv - state["lv_drain_pct_day"] * days)
    return soc, lv


def lv_capacity(state: VehicleState, t: int) -> float:
    """How full a 12 V battery of this age can get: it loses about 5 points a year."""
    age_years = max(0, t - state["lv_installed_at"]) / YEAR_MS
    return max(40.0, 100.0 - 5.0 * age_years)


def _tyres(state: VehicleState, since: int, t: int) -> tuple[float, float, float, float]:
    leak = state["tire_leak_kpa_day"] * max(0, t - since) / DAY_MS
    a, b, c, d = state["tire_kpa"]
    return (a - leak, b - leak, c - leak, d - leak)


def evolve(
    spec: ModelSpec, state: VehicleState, t: int, end: int | None | EllipsisType = ...
) -> Moment:
    """The vehicle's changing values at ``t`` (``t`` before ``state["at"]`` reads as ``at``).

    ``end`` is :func:`activity_end`, when the caller already has it."""
    at = state["at"]
    t = max(t, at)
    if end is ...:
        end = activity_end(spec, state)
    activity = state["activity"]
    soc, fuel, odometer, oil = state["soc"], state["fuel_l"], state["odometer_km"], state["oil_life"]
    lv = state["lv_soc"]
    lat, lon, heading = state["position"]
    plugged = bool(state["plugged"])
    speed, moving, charging, grid_kw = 0.0, False, False, 0.0
    minutes, driving_hours = 0, 0.0
    energy = state["last_energy_kwh"] if plugged else 0.0
    status = "NOT_CHARGING"
    idle_since: int | None = at
    counter = state["max_range_charges"]
    finished: ChargingSession | None = None

    curve = charge_curve(spec, state) if activity["kind"] == "charging" else None
    if (activity["kind"] == "charging" and curve is not None and curve.peak_kw > 0
            and soc is not None):
        limit = float(state["charge_limit"])
        done = end if end is not None else t
        stop = min(t, done)
        battery = battery_of(spec, state)
        assert battery is not None
        new_soc = curve.soc_after(soc, (stop - at) / HOUR_MS, limit)
        energy = activity["energy_kwh"] + (new_soc - soc) / 100.0 * battery.usable_kwh
        soc = new_soc
        lv = min(100.0, lv + 20.0 * (stop - at) / HOUR_MS)
        if t < done:
            charging, status = True, "CHARGING"
            grid_kw = curve.grid_kw(soc)
            minutes = math.ceil(curve.hours_between(soc, limit) * 60)
            idle_since = None
        else:
            status = "FULLY_CHARGED"
            idle_since = done
            if limit >= 100:
                counter += 1
            finished = _session_record(state, activity, done, soc, energy)
        soc, lv = _parked_values(spec, state, stop, t, soc, lv, plugged)
    elif activity["kind"] == "driving":
        trip = trip_of(spec, state, activity)
        hours = min((t - at) / HOUR_MS, trip.hours)
        km = physics.distance_after(trip.average_kph, trip.phase, hours) if hours < trip.hours else trip.km_reachable
        factor = physics.consumption_factor(trip.average_kph)
        electric_km = min(km, trip.electric_km)
        if soc is not None:
            battery = battery_of(spec, state)
            assert battery is not None
            soc = max(0.0, soc - electric_km * spec.kwh_per_100km * factor / 100.0 / battery.usable_kwh * 100.0)
        if fuel is not None:
            fuel = max(0.0, fuel - (km - electric_km) * spec.l_per_100km * factor / 100.0)
        odometer += km
        if oil is not None:
            interval_km = state["oil_interval_km"]
            assert interval_km is not None  # a car with oil life has an oil-change interval
            oil = max(0.0, oil - km / interval_km * 100.0)
        lat, lon, heading = route_point(state, activity, km)
        lv = min(100.0, lv + 20.0 * hours)
        if hours < trip.hours:
            moving, idle_since, driving_hours = True, None, hours
            speed = physics.speed_at(trip.average_kph, trip.phase, hours)
        else:
            arrived = at + math.ceil(trip.hours * HOUR_MS)
            idle_since = arrived
            soc, lv = _parked_values(spec, state, arrived, t, soc, lv, plugged)
    else:  # parked, or on a charger that delivers nothing
        soc, lv = _parked_values(spec, state, at, t, soc, lv, plugged)
        if plugged and soc is not None and soc >= state["charge_limit"] - 0.05:
            status = "FULLY_CHARGED"

    tyres = _tyres(state, at, t)
    return Moment(
        t=t, odometer_km=odometer, soc=soc, fuel_l=fuel, oil_life=oil,
        lv_soc=min(lv, lv_capacity(state, t)), lv_charge=lv, latitude=lat, longitude=lon, heading=heading,
        speed_kph=speed, moving=moving, plugged=plugged, charging=charging, status=status,
        grid_kw=grid_kw, energy_added_kwh=energy, minutes_to_complete=minutes, tyre_kpa=tyres,
        idle_since=idle_since, driving_hours=driving_hours, max_range_charges=counter,
        finished_session=finished,
    )


def _session_record(
    state: VehicleState, activity: ChargingActivity, end: int, soc: float, energy: float
) -> ChargingSession:
    return {"started_at": activity["started_at"], "ended_at": end, "start_soc": activity["start_soc"],
            "end_soc": soc, "energy_kwh": energy, "charger": state["charger"]}


def route_point(
    state: VehicleState, activity: DrivingActivity, km: float
) -> tuple[float, float, float]:
    """Position and heading ``km`` along the path of ``activity``, the state's trip.

    The path is the straight line to the destination bent by a smooth sideways offset that is
    zero at both ends, so a trip curves like a road instead of flying like a crow."""
    lat0, lon0 = state["position"][0], state["position"][1]
    lat1, lon1 = activity["to"]
    north = (lat1 - lat0) * geo.KM_PER_DEGREE
    east = (lon1 - lon0) * geo.KM_PER_DEGREE * math.cos(math.radians(lat0))
    length = math.hypot(north, east)
    if length < 1e-9:
        return lat0, lon0, state["position"][2]
    u = min(1.0, max(0.0, km / activity["km"])) if activity["km"] > 0 else 1.0
    amplitude, twist = activity["wiggle"]

    def point(v: float) -> tuple[float, float]:
        side = amplitude * length * math.sin(math.pi * v) * math.cos(2 * math.pi * v + twist)
        return v * north - side * east / length, v * east + side * north / length

    n, e = point(u)
    n2, e2 = point(min(1.0, u + 1e-4)), point(max(0.0, u - 1e-4))
    heading = math.degrees(math.atan2(n2[1] - e2[1], n2[0] - e2[0])) % 360.0
    lat, lon = geo.offset(lat0, lon0, n, e)
    return lat, lon, heading


# --- reporting --------------------------------------------------------------------------------


def report_interval_ms(state: VehicleState) -> int:
    """How often an awake vehicle reports in its current activity (cache granularity)."""
    kind = state["activity"]["kind"]
    if kind == "driving":
        return 10_000
    if kind == "charging":
        return 30_000
    return 60_000


@dataclass(frozen=True, slots=True)
class Contact:
    """How the car is reachable at an instant, and the instant its reported values come from."""

    observed_at: int
    asleep: bool
    online: bool


def contact(
    spec: ModelSpec, state: VehicleState, now: int, end: int | None | EllipsisType = ...
) -> Contact:
    """Whether the car is asleep or offline at ``now`` and when it last reported."""
    if end is ...:
        end = activity_end(spec, state)
    at = state["at"]
    activity = state["activity"]
    falls_asleep: int | None = None
    if activity["kind"] == "parked":
        idle_since: int | None = activity.get("idle_since", at)
        falls_asleep = activity.get("asleep_at")
    else:
        idle_since = end
    observed, asleep = max(now, at), False
    if idle_since is not None:
        if falls_asleep is None:
            falls_asleep = idle_since + spec.sleep_after_ms
        if now >= falls_asleep:
            asleep = True
            heartbeats = (now - falls_asleep) // spec.heartbeat_ms
            observed = falls_asleep + heartbeats * spec.heartbeat_ms
    offline_since = state.get("offline_since")
    if offline_since is None or now < offline_since:
        return Contact(observed, asleep, True)
    return Contact(min(observed, max(offline_since, at)), asleep, False)


def last_report_ms(spec: ModelSpec, state: VehicleState, now_ms: int) -> int:
    """When the vehicle last reported (the ``oemUpdatedAt`` of its changing signals)."""
    return contact(spec, state, now_ms).observed_at


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"




class _Context:
    """What the body builders need, computed once per read."""

    __slots__ = (
        "battery", "city", "contact", "curve", "m", "nickname", "now", "outside_c", "seed", "spec", "state", "vin",
    )  # fmt: skip

    def __init__(
        self, spec: ModelSpec, vin: str, seed: int, state: VehicleState, now: int, nickname: str | None = None
    ) -> None:
        self.spec, self.vin, self.seed, self.state, self.now = spec, vin, seed, state, now
        self.nickname = state["nickname"] if nickname is None else nickname
        end = activity_end(spec, state)
        self.contact = contact(spec, state, now, end)
        self.m = evolve(spec, state, self.contact.observed_at, end)
        self.city = geo.CITY_BY_KEY[state["city"]]
        self.outside_c = geo.outside_temperature(self.city, self.m.t)
        self.battery = battery_of(spec, state)
        self.curve = charge_curve(spec, state) if self.m.plugged else None


def _temperature_factor(outside_c: float) -> float:
    """Extra consumption from heating a cold cabin and battery, or cooling a hot one."""
    return 1.0 + 0.012 * max(0.0, 15.0 - outside_c) + 0.004 * max(0.0, outside_c - 28.0)


def _cabin_c(ctx: _Context) -> float:
    m = ctx.m
    target: float = ctx.state["cabin_target_c"]
    if m.moving:
        parked = ctx.outside_c + 12.0 * geo.sun_strength(ctx.city, ctx.state["at"])
        return target + (parked - target) * math.exp(-m.driving_hours * 60.0 / 8.0)
    return ctx.outside_c + 14.0 * geo.sun_strength(ctx.city, m.t)


# Body builders, one per group: each returns {code: body} for the codes it knows.


def _charge(ctx: _Context) -> dict[str, Any]:
    spec, state, m = ctx.spec, ctx.state, ctx.m
    charger = state["charger"] if m.plugged else None
    city = ctx.city
    volts_home, phases_home, _ = HOME_AC[city.market]
    inlet = spec.ac_connector_na if city.market == "NA" else spec.ac_connector_eu
    fast_type = spec.dc_connector_na if city.market == "NA" else spec.dc_connector_eu
    if charger is not None and charger["dc"]:
        # Pack voltage rises with the state of charge, roughly ±8 % across the range.
        volts = spec.pack_voltage * (0.92 + 0.16 * (m.soc or 0.0) / 100.0)
        phases = 0
        max_amps = (ctx.curve.peak_kw if ctx.curve else 0.0) * 1000.0 / volts
    else:
        volts = charger["volts"] if charger is not None else 0.0
        phases = charger["phases"] if charger is not None else 0
        per = volts_home * phases_home
        max_amps = spec.max_ac_kw * 1000.0 / per if charger is None else (ctx.curve.peak_kw * 1000.0 / (volts * phases) if ctx.curve else 0.0)
    watts = m.grid_kw * 1000.0
    amps = watts / (volts * (phases or 1)) if m.charging and volts else 0.0
    efficiency = ctx.curve.efficiency if ctx.curve else physics.AC_EFFICIENCY
    rate = m.grid_kw * efficiency / spec.kwh_per_100km * 100.0 if m.charging and spec.kwh_per_100km else 0.0
    limit = state["charge_limit"]
    if m.charging:
        colour = "GREEN"
    elif m.plugged:
        colour = "BLUE"
    else:
        colour = "OFF"
    port_open = m.plugged or "port" in state["open"]
    return {
        "charge-amperage": {"unit": "ampere", "value": round(amps, 1)},
        "charge-amperagemax": {"unit": "ampere", "value": round(max_amps, 1)},
        "charge-amperagerequested": {"unit": "ampere", "value": round(max_amps if m.charging else 0.0, 1)},
        "charge-chargelimits": {
            "values": [{"type": "GLOBAL", "limit": limit, "condition": None}],
            "activeLimit": limit if m.plugged else None,
            "unit": "percent",
        },
        "charge-chargeportstatuscolor": {"value": colour},
        "charge-chargerate": {"unit": "kph", "value": round(rate, 1)},
        "charge-chargerecords": {"values": charge_records(ctx)},
        "charge-chargetimers": {"values": list(state["schedules"])},
        "charge-chargerphases": {"unit": "count", "value": phases if m.plugged else 0},
        "charge-chargingconnectortype": {"value": charger["connector"] if charger is not None else inlet},
        "charge-detailedchargingstatus": {"value": m.status},
        "charge-energyadded": {"unit": "kWh", "value": round(m.energy_added_kwh, 2)},
        "charge-fastchargertype": {"value": fast_type},
        "charge-ischarging": {"value": m.charging},
        "charge-ischargingcableconnected": {"value": m.plugged},
        "charge-ischargingcablelatched": {"value": m.plugged and (m.charging or state["locked"])},
        "charge-ischargingportflapopen": {"value": port_open},
        "charge-isfastchargerpresent": {"value": charger is not None and bool(charger["dc"])},
        "charge-timetocomplete": {"unit": "minutes", "value": m.minutes_to_complete},
        "charge-voltage": {"unit": "volts", "value": round(volts, 1)},
        "charge-wattage": {"unit": "watts", "value": round(watts, 1)},
    }


def _climate(ctx: _Context) -> dict[str, Any]:
    return {
        "climate-externaltemperature": {"unit": "celsius", "value": round(ctx.outside_c, 1)},
        "climate-internaltemperature": {"unit": "celsius", "value": round(_cabin_c(ctx), 1)},
    }


def _closure(ctx: _Context) -> dict[str, Any]:
    spec, state = ctx.spec, ctx.state
    opened = state["open"]
    locked = state["locked"]
    doors = [
        {"row": r, "column": c, "isOpen": f"door-{r}-{c}" in opened, "isLocked": locked}
        for r in range(spec.door_rows) for c in range(spec.door_columns)
    ]
    windows = [
        {"row": r, "column": c, "isOpen": f"window-{r}-{c}" in opened}
        for r in range(spec.window_rows) for c in range(spec.window_columns)
    ]
    return {
        "closure-doors": {"values": doors, "rowCount": spec.door_rows, "columnCount": spec.door_columns},
        "closure-enginecover": {"isOpen": "hood" in opened},
        "closure-fronttrunk": {"isOpen": "frunk" in opened, "isLocked": locked},
        "closure-islocked": {"value": locked},
        "closure-reartrunk": {"isOpen": "trunk" in opened, "isLocked": locked},
        "closure-sunroof": {"isOpen": "sunroof" in opened},
        "closure-tailgate": {"isOpen": "tailgate" in opened, "isLocked": locked},
        "closure-windows": {"values": windows, "rowCount": spec.window_rows, "columnCount": spec.window_columns},
    }


def _connectivity(ctx: _Context) -> dict[str, Any]:
    return {
        "connectivitysoftware-currentfirmwareversion": {"value": ctx.state["firmware"]},
        "connectivitystatus-isasleep": {"value": ctx.contact.asleep},
        "connectivitystatus-isdigitalkeypaired": {"value": ctx.state["digital_key_paired"]},
        "connectivitystatus-isonline": {"value": ctx.contact.online},
    }


_SYSTEMS = tuple(
    (f"diagnostics-{system}", system) for system in (
        "abs", "activesafety", "airbag", "brakefluid", "driverassistance", "evbatteryconditioning",
        "evcharging", "evdriveunit", "evhvbattery", "emissions", "lighting", "mil", "oillife",
        "oilpressure", "oiltemperature", "telematics", "tirepressure", "tirepressuremonitoring",
        "transmission", "washerfluid", "waterinfuel",
    )
)


def _diagnostics(ctx: _Context) -> dict[str, Any]:
    state, m, spec = ctx.state, ctx.m, ctx.spec
    alerts = dict(state["alerts"])
    recommended = (spec.tyre_kpa_front, spec.tyre_kpa_front, spec.tyre_kpa_rear, spec.tyre_kpa_rear)
    if any(p < 0.8 * r for p, r in zip(m.tyre_kpa, recommended)):
        alerts.setdefault("tirepressure", "Tire pressure low")
    if m.oil_life is not None and m.oil_life < 15:
        alerts.setdefault("oillife", "Oil change due")
    if "emissions" in alerts:
        alerts.setdefault("mil", "Check engine light on")
    bodies: dict[str, Any] = {
        code: {"status": "OK"} if system not in alerts else {"status": "ALERT", "description": alerts[system]}
        for code, system in _SYSTEMS
    }
    dtcs = state["dtcs"]
    bodies["diagnostics-dtccount"] = {"unit": "count", "value": len(dtcs)}
    bodies["diagnostics-dtclist"] = {"values": [_dtc_entry(dtc) for dtc in dtcs]}
    return bodies


def _dtc_entry(dtc: Dtc) -> dict[str, str]:
    code, ms = dtc
    assert isinstance(code, str) and isinstance(ms, int), dtc
    return {"code": code, "timestamp": _iso(ms)}


def _hvac(ctx: _Context) -> dict[str, Any]:
    m, outside = ctx.m, ctx.outside_c
    return {
        "hvac-cabintargettemperature": {"unit": "celsius", "value": ctx.state["cabin_target_c"]},
        "hvac-iscabinhvacactive": {"value": m.moving},
        "hvac-isfrontdefrosteractive": {"value": m.moving and outside < 3.0 and m.driving_hours < 0.25},
        "hvac-isreardefrosteractive": {"value": m.moving and outside < 3.0 and m.driving_hours < 0.25},
        "hvac-issteeringheateractive": {"value": m.moving and outside < 5.0},
    }


def _engine(ctx: _Context) -> dict[str, Any]:
    spec, m = ctx.spec, ctx.m
    fuel = m.fuel_l or 0.0
    return {
        "internalcombustionengine-amountremaining": {"unit": "liters", "value": round(fuel, 1)},
        "internalcombustionengine-fuellevel": {"unit": "percent", "value": round(fuel / spec.tank_l * 100.0, 1)},
        "internalcombustionengine-oillife": {"unit": "percent", "value": round(m.oil_life or 0.0, 1)},
        "internalcombustionengine-range": {"unit": "km", "value": round(fuel / spec.l_per_100km * 100.0, 1)},
    }


def _location(ctx: _Context) -> dict[str, Any]:
    m, state = ctx.m, ctx.state
    home = state["home"]
    at_home = geo.distance_km(m.latitude, m.longitude, home[0], home[1]) < HOME_RADIUS_KM
    heading = round(m.heading, 1)
    return {
        "location-isathome": {"value": at_home},
        "location-preciselocation": {
            "latitude": round(m.latitude, 6),
            "longitude": round(m.longitude, 6),
            "heading": heading,
            "direction": geo.direction(heading),
            "locationType": "CURRENT" if m.moving or not ctx.contact.asleep else "LAST_PARKED",
        },
    }


def _low_voltage(ctx: _Context) -> dict[str, Any]:
    lv = ctx.m.lv_soc
    capacity = lv_capacity(ctx.state, ctx.m.t)
    status = "BAD" if lv < 35 else "WARN" if lv < 60 or capacity < 75 else "GOOD"
    return {
        "lowvoltagebattery-stateofcharge": {"unit": "percent", "value": round(lv, 1)},
        "lowvoltagebattery-status": {"value": status},
    }


def _motion(ctx: _Context) -> dict[str, Any]:
    return {"motion-currentspeed": {"unit": "kph", "value": round(ctx.m.speed_kph, 1)}}


def _odometer(ctx: _Context) -> dict[str, Any]:
    return {"odometer-traveleddistance": {"unit": "km", "value": round(ctx.m.odometer_km, 1)}}


def _service(ctx: _Context) -> dict[str, Any]:
    return {
        "service-isinservice": {"value": ctx.state["in_service"]},
        "service-records": {"values": service_records(ctx)},
    }


def _surveillance(ctx: _Context) -> dict[str, Any]:
    return {
        "surveillance-brand": {"value": ctx.spec.surveillance_brand},
        "surveillance-isenabled": {"value": ctx.state["surveillance_enabled"]},
    }


def _traction(ctx: _Context) -> dict[str, Any]:
    spec, m, battery = ctx.spec, ctx.m, ctx.battery
    assert battery is not None
    soc = m.soc or 0.0
    rated = soc / 100.0 * battery.rated_range_km
    kwh = soc / 100.0 * battery.usable_kwh
    ideal = kwh / (spec.kwh_per_100km * 0.9) * 100.0
    estimated = kwh / (spec.kwh_per_100km * _temperature_factor(ctx.outside_c)) * 100.0
    charger = ctx.state["charger"]
    heating = (
        (m.charging and charger is not None and bool(charger["dc"]) and ctx.outside_c < 10.0)
        or (m.moving and ctx.outside_c < 0.0)
    )
    return {
        "tractionbattery-isheateractive": {"value": heating},
        "tractionbattery-maxrangechargecounter": {"unit": "count", "value": m.max_range_charges},
        "tractionbattery-nominalcapacity": {
            "source": "SMARTCAR",
            "capacity": battery.usable_kwh,
            "availableCapacities": [{"capacity": b.usable_kwh, "description": b.description} for b in spec.batteries],
            "unit": "kWh",
        },
        "tractionbattery-range": {
            "unit": "km",
            "value": round(estimated, 1),
            "type": "ESTIMATED",
            "additionalValues": [
                {"type": "ESTIMATED", "value": round(estimated, 1)},
                {"type": "IDEAL_CONDITIONS", "value": round(ideal, 1)},
                {"type": "RATED", "value": round(rated, 1)},
            ],
        },
        "tractionbattery-stateofcharge": {"unit": "percent", "value": round(soc, 1)},
    }


def _transmission(ctx: _Context) -> dict[str, Any]:
    mode = ctx.spec.drive_modes[ctx.state["drive_mode"]]
    return {
        "transmission-drivemode": {"canonical": mode.canonical, "oemDisplayName": mode.display},
        "transmission-gearstate": {"value": "DRIVE" if ctx.m.moving else "PARK"},
    }


def _identification(ctx: _Context) -> dict[str, Any]:
    state = ctx.state
    return {
        "vehicleidentification-exteriorcolor": {"value": state["colour"]},
        "vehicleidentification-nickname": {"value": ctx.nickname},
        "vehicleidentification-packages": {"values": list(state["packages"])},
        "vehicleidentification-trim": {"value": ctx.spec.trims[state["trim"]].name},
        "vehicleidentification-vin": {"value": ctx.vin},
    }


def _account(ctx: _Context) -> dict[str, Any]:
    role = ctx.state["role"]
    permissions = ctx.spec.account_permissions if role == "OWNER" else ctx.spec.account_permissions[:2]
    return {
        "vehicleuseraccount-permissions": {"values": list(permissions)},
        "vehicleuseraccount-role": {"value": role},
    }


def _wheel(ctx: _Context) -> dict[str, Any]:
    m = ctx.m
    warm = 1.0 + TYRE_WARM_GAIN * (1.0 - math.exp(-m.driving_hours * 6.0)) if m.moving else 1.0
    shift = TYRE_KPA_PER_C * (ctx.outside_c - 20.0)
    tyres = [
        {"row": i // 2, "column": i % 2, "tirePressure": round(max(0.0, (p + shift) * warm), 1)}
        for i, p in enumerate(m.tyre_kpa)
    ]
    return {
        "wheel-style": {"value": ctx.state["wheel_style"]},
        "wheel-tires": {"values": tyres, "rowCount": 2, "columnCount": 2, "unit": "kPa"},
    }


#: A group's body builder: signal code → body, for the codes of its group.
_Builder = Callable[[_Context], dict[str, Any]]

_BUILDERS: dict[str, _Builder] = {
    "Charge": _charge,
    "Climate": _climate,
    "Closure": _closure,
    "ConnectivitySoftware": _connectivity,
    "ConnectivityStatus": _connectivity,
    "Diagnostics": _diagnostics,
    "HVAC": _hvac,
    "InternalCombustionEngine": _engine,
    "Location": _location,
    "LowVoltageBattery": _low_voltage,
    "Motion": _motion,
    "Odometer": _odometer,
    "Service": _service,
    "Surveillance": _surveillance,
    "TractionBattery": _traction,
    "Transmission": _transmission,
    "VehicleIdentification": _identification,
    "VehicleUserAccount": _account,
    "Wheel": _wheel,
}
#: Signals about the link to the car rather than the car: always current, even when it sleeps.
_LIVE_CODES = frozenset({"connectivitystatus-isasleep", "connectivitystatus-isonline"})


@lru_cache(maxsize=512)
def _plan(spec: ModelSpec) -> tuple[tuple[_Builder, ...], tuple[tuple[str, int], ...]]:
    """The builders a model needs, and every catalogue code (in order) with the index of the
    builder that makes its body, or -1 when the model cannot report it."""
    supported = supported_signals(spec)
    builders: list[_Builder] = []
    layout: list[tuple[str, int]] = []
    for code, signal in SIGNALS.items():
        if code not in supported:
            layout.append((code, -1))
            continue
        builder = _BUILDERS[signal.group]
        if builder not in builders:
            builders.append(builder)
        layout.append((code, builders.index(builder)))
    return tuple(builders), tuple(layout)


_new_reading = tuple.__new__  # skips NamedTuple's Python-level __new__ on the hot path


def read_signals(
    spec: ModelSpec, vin: str, seed: int, state: VehicleState, now_ms: int, nickname: str | None = None
) -> dict[str, Reading]:
    """Every catalogue signal of the vehicle at ``now_ms``, in catalogue order.

    Unsupported codes carry ``COMPATIBILITY``/``VEHICLE_NOT_CAPABLE`` and no body. A pure function
    of its arguments. ``oem_updated_at_ms`` never exceeds ``now_ms``: asked about an instant
    before the state's last change (``state["at"]``), the car answers with the state's values as
    they were last reported. ``nickname`` is the name the vehicle's owner gave it, as stored with
    the vehicle (the state's own draw when not given)."""
    ctx = _Context(spec, vin, seed, state, now_ms, nickname)
    observed = min(ctx.m.t, now_ms)
    error = None if ctx.contact.online else UNREACHABLE_ERROR
    builders, layout = _plan(spec)
    bodies = [builder(ctx) for builder in builders]
    unsupported = _new_reading(Reading, (None, observed, COMPATIBILITY_ERROR))
    readings: dict[str, Reading] = {}
    for code, index in layout:
        if index < 0:
            readings[code] = unsupported
        else:
            readings[code] = _new_reading(Reading, (bodies[index][code], observed, error))
    for code in _LIVE_CODES:
        reading = readings[code]
        if reading.body is not None:
            readings[code] = _new_reading(Reading, (reading.body, now_ms, None))
    overrides = state["overrides"]
    if overrides:
        for code, override in overrides.items():
            if readings.get(code, unsupported).body is not None:
                body, at = _pinned(override)
                readings[code] = _new_reading(Reading, (body, min(max(at, observed), now_ms), error))
    if "account_failure" in state or "failed_signals" in state:
        apply_failures(readings, state)
    return readings


def _pinned(override: Override) -> tuple[JsonObject, int]:
    """A pinned signal's body and the instant it was pinned."""
    body, at = override
    assert isinstance(body, dict) and isinstance(at, int), override
    return body, at


def read_signal(
    spec: ModelSpec, vin: str, seed: int, state: VehicleState, now_ms: int, code: str,
    nickname: str | None = None,
) -> Reading:
    """One signal, as :func:`read_signals` would give it; cheaper, as only its group is built."""
    signal = SIGNALS[code]
    ctx = _Context(spec, vin, seed, state, now_ms, nickname)
    observed = min(ctx.m.t, now_ms)
    if code not in supported_signals(spec):
        return Reading(None, observed, COMPATIBILITY_ERROR)
    error = None if ctx.contact.online else UNREACHABLE_ERROR
    override = state["overrides"].get(code)
    if override is not None:
        pinned, at = _pinned(override)
        reading = Reading(pinned, min(max(at, observed), now_ms), error)
    else:
        body = _BUILDERS[signal.group](ctx)[code]
        reading = Reading(body, now_ms, None) if code in _LIVE_CODES else Reading(body, observed, error)
    if "account_failure" in state or "failed_signals" in state:
        return failed_reading(code, reading, state)
    return reading


# --- histories ------------------------------------------------------------------------------

_PRICES = {  # currency: (home per kWh, public DC per kWh)
    "USD": (0.17, 0.48), "CAD": (0.14, 0.55), "EUR": (0.30, 0.59), "GBP": (0.27, 0.69),
    "NOK": (1.60, 4.50), "SEK": (1.80, 5.50),
}
_LABOUR = {"USD": 1.0, "CAD": 1.3, "EUR": 0.95, "GBP": 0.8, "NOK": 10.5, "SEK": 10.8}


def _charge_record(
    record_id: str, city: geo.City, state_home: tuple[float, float], session: ChargingSession,
    street_number: int, street: str,
) -> ChargeRecord:
    charger = session["charger"]
    public = charger is not None and bool(charger.get("public"))
    dc = charger is not None and bool(charger.get("dc"))
    efficiency = physics.DC_EFFICIENCY if dc else physics.AC_EFFICIENCY
    home_price, public_price = _PRICES[city.currency]
    grid_kwh = session["energy_kwh"] / efficiency
    location: ChargeLocation
    if charger is not None and public:
        site = charger.get("site") or city.chargers[0]
        lat, lon = charger.get("latitude", city.latitude), charger.get("longitude", city.longitude)
        location = {"name": site, "address": f"{street_number} {street}, {city.name}", "latitude": round(lat, 6), "longitude": round(lon, 6)}
        price = public_price
    else:
        location = {"name": "Home", "address": f"{street_number} {street}, {city.name}", "latitude": state_home[0], "longitude": state_home[1]}
        price = home_price
    return {
        "id": record_id,
        "cost": {"currency": city.currency, "energyAmount": round(grid_kwh * price, 2), "otherAmount": 0.0},
        "startTime": _iso(session["started_at"]),
        "endTime": _iso(session["ended_at"]),
        "location": location,
        "energyAdded": round(session["energy_kwh"], 2),
        "connectorType": charger.get("connector") if charger is not None else None,
        "isPublicCharger": public,
        "startStateOfCharge": round(session["start_soc"], 1),
        "endStateOfCharge": round(session["end_soc"], 1),
    }


@lru_cache(maxsize=8192)
def _charge_history(
    spec: ModelSpec, seed: int, created_at: int, city_key: str, home: tuple[float, float], trim: int
) -> tuple[ChargeRecord, ...]:
    """The sessions before the simulation started watching: a few weeks of home and public charging."""
    rng = random.Random(seed ^ 0xC4A26E)
    city = geo.CITY_BY_KEY[city_key]
    battery = spec.batteries[spec.trims[trim].battery]
    street_number, street = rng.randint(10, 2999), rng.choice(city.streets)
    records: list[tuple[ChargingSession, int, str]] = []
    end = created_at - rng.randint(2, 30) * HOUR_MS
    for _ in range(rng.randint(3, 7)):
        public = spec.max_dc_kw > 0 and rng.random() < 0.3
        if public:
            site = rng.choice(city.chargers)
            lat, lon = geo.offset(city.latitude, city.longitude, rng.uniform(-5, 5), rng.uniform(-5, 5))
            charger = public_dc_charger(spec, city.market, rng.choice(PUBLIC_DC_KW), site) | {"latitude": lat, "longitude": lon}
            curve = physics.ChargeCurve(min(charger["kw"], battery.max_dc_kw), battery.usable_kwh, True)
            start_soc, end_soc = rng.uniform(8, 35), rng.choice((70.0, 80.0, 85.0))
            number, road = rng.randint(10, 2999), rng.choice(city.streets)
        else:
            charger = _home_charger(spec, city.market)
            curve = physics.ChargeCurve(charger["kw"], battery.usable_kwh, False)
            start_soc, end_soc = rng.uniform(20, 60), float(rng.choice((80, 85, 90)))
            number, road = street_number, street
        duration = int(curve.hours_between(start_soc, end_soc) * HOUR_MS)
        session: ChargingSession = {
            "started_at": end - duration, "ended_at": end,
            "start_soc": start_soc, "end_soc": end_soc,
            "energy_kwh": (end_soc - start_soc) / 100.0 * battery.usable_kwh, "charger": charger,
        }
        records.append((session, number, road))
        end = session["started_at"] - rng.randint(10, 96) * HOUR_MS
    records.reverse()
    return tuple(
        _charge_record(f"cr_{seed & 0xFFFFFF:06x}{index:02d}", city, home, session, number, road)
        for index, (session, number, road) in enumerate(records)
    )


def charge_records(ctx: _Context) -> list[ChargeRecord]:
    """Past charging sessions, oldest first: generated history, folded sessions, a just-finished one."""
    state = ctx.state
    home = (state["home"][0], state["home"][1])
    records = list(_charge_history(ctx.spec, ctx.seed, state["created_at"], state["city"], home, state["trim"]))
    records.extend(state["charge_records"])
    finished = ctx.m.finished_session
    if finished is not None:
        records.append(session_record(ctx.spec, ctx.seed, state, finished, state["sessions"]))
    return records


def session_record(
    spec: ModelSpec, seed: int, state: VehicleState, session: ChargingSession, index: int
) -> ChargeRecord:
    """A finished charging session as a ``charge-chargerecords`` entry."""
    city = geo.CITY_BY_KEY[state["city"]]
    rng = random.Random(seed ^ 0xC4A26E)
    number, street = rng.randint(10, 2999), rng.choice(city.streets)
    home = (state["home"][0], state["home"][1])
    return _charge_record(f"cr_{seed & 0xFFFFFF:06x}s{index:03d}", city, home, session, number, street)


_SERVICE_TASKS_ENGINE = (
    "Engine oil and filter change", "Tire rotation", "Multi-point inspection", "Cabin air filter replacement",
    "Engine air filter replacement", "Brake fluid replacement",
)
_SERVICE_TASKS_ELECTRIC = (
    "Tire rotation", "Multi-point inspection", "Cabin air filter replacement", "Brake fluid test",
    "Wiper blade replacement", "Battery coolant check",
)


@lru_cache(maxsize=8192)
def _service_history(
    spec: ModelSpec, seed: int, delivered_at: int, created_at: int, first_km: float, city_key: str
) -> tuple[ServiceRecord, ...]:
    """Scheduled services between delivery and the start of the simulation, about yearly."""
    rng = random.Random(seed ^ 0x5E41CE)
    city = geo.CITY_BY_KEY[city_key]
    span = max(1, created_at - delivered_at)
    tasks = _SERVICE_TASKS_ENGINE if spec.has_engine else _SERVICE_TASKS_ELECTRIC
    interval_ms = int(rng.uniform(0.8, 1.2) * YEAR_MS)
    records: list[ServiceRecord] = []
    when = delivered_at + interval_ms
    index = 0
    while when < created_at:
        chosen = [tasks[0]] + rng.sample(tasks[1:], rng.randint(1, 3))
        base = 90.0 if spec.has_engine else 60.0
        records.append({
            "id": f"svc_{seed & 0xFFFFFF:06x}{index:02d}",
            "cost": {"amount": round(base * len(chosen) * rng.uniform(0.8, 1.4) * _LABOUR[city.currency], 2), "currency": city.currency},
            "time": _iso(when),
            "tasks": [{"id": f"t{n + 1}", "description": task} for n, task in enumerate(chosen)],
            "details": [{"id": "d1", "description": f"{spec.make_display} service centre, {city.name}"}],
            "odometer": {"unit": "km", "value": round(first_km * (when - delivered_at) / span, 1)},
        })
        index += 1
        when += interval_ms
    return tuple(records[-5:])


def service_records(ctx: _Context) -> list[ServiceRecord]:
    state = ctx.state
    history = _service_history(ctx.spec, ctx.seed, state["delivered_at"], state["created_at"], state["first_km"], state["city"])
    return [*history, *state["service_records"]]
