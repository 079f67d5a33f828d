"""Changes of plan: pure functions from (state, instant) to the next state.

Each one first :func:`settle`\\ s the vehicle — folds whatever it was doing into its values at that
instant — and then starts the next activity from there, so the history is a chain of closed-form
pieces and the same seed and the same sequence of changes always give the same values.

These are the simulation's primitives, not the API's commands: they refuse what the physical
car cannot do (``VEHICLE_STATE`` codes of smartcar-v3.md §10.3, ``VEHICLE_NOT_CAPABLE``), and leave
permissions, sleep/wake policy and offline handling to the caller (see ``vehicle.contact``)."""

from __future__ import annotations

import copy
import math
import random

from . import failures, geo, physics
from .catalogue import ModelSpec
from .signals import SIGNALS, supported_signals
from .state import (
    Activity,
    Charger,
    ChargeTimer,
    ChargingActivity,
    ChargingSession,
    CommandParameters,
    JsonObject,
    ParkedActivity,
    QueuedCommand,
    VehicleState,
)
from .vehicle import (
    HOME_AC,
    HOME_RADIUS_KM,
    HOUR_MS,
    activity_end,
    evolve,
    public_dc_charger,
    session_record,
    trip_of,
)

#: Folded charging sessions kept in the state (older ones drop off; the history stays small).
MAX_KEPT_SESSIONS = 20


class SimulationRefused(Exception):
    """The vehicle cannot do this now (or ever): carries the wire error type and code."""

    def __init__(self, error_type: str, code: str, message: str) -> None:
        super().__init__(message)
        self.type = error_type
        self.code = code


#: A queued command carried out: its execution id, its completion instant, and its refusal or None.
DueOutcome = tuple[str, int, SimulationRefused | None]


def _state_error(code: str, message: str) -> SimulationRefused:
    return SimulationRefused("VEHICLE_STATE", code, message)


def _not_capable(message: str) -> SimulationRefused:
    return SimulationRefused("COMPATIBILITY", "VEHICLE_NOT_CAPABLE", message)


def settle(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, *, wake: bool = True
) -> VehicleState:
    """A new state whose values are those at ``now`` and whose activity continues from there.

    ``wake=False`` keeps an idle car's idle time (and sleep), for changes that do not reach the
    car — an operator editing a value, say."""
    now = max(now, state["at"])
    end = activity_end(spec, state)
    m = evolve(spec, state, now, end)
    new = copy.deepcopy(state)
    new.update({
        "at": now,
        "odometer_km": m.odometer_km,
        "soc": m.soc,
        "fuel_l": m.fuel_l,
        "oil_life": m.oil_life,
        "lv_soc": m.lv_charge,
        "tire_kpa": list(m.tyre_kpa),
        "max_range_charges": m.max_range_charges,
        "position": [m.latitude, m.longitude, m.heading],
    })
    activity = state["activity"]
    following: Activity
    if activity["kind"] == "charging":
        if m.charging:
            following = {**activity, "energy_kwh": m.energy_added_kwh}
        else:
            if m.finished_session is not None:
                _keep_session(spec, seed, new, m.finished_session)
                new["last_energy_kwh"] = m.energy_added_kwh
            following = _parked_since(m.idle_since)
    elif activity["kind"] == "driving":
        if m.moving:
            trip = trip_of(spec, state, activity)
            hours = (now - state["at"]) / HOUR_MS
            covered = physics.distance_after(trip.average_kph, trip.phase, hours)
            phase = (trip.phase + 2 * math.pi * hours / physics.SWING_PERIOD_H) % (2 * math.pi)
            following = {**activity, "km": max(0.0, activity["km"] - covered), "phase": phase}
        else:
            following = _parked_since(m.idle_since)
    else:
        following = activity.copy()
        following.setdefault("idle_since", state["at"])
    if wake and following["kind"] == "parked":
        following = {"kind": "parked"}
    if following["kind"] == "parked" and following.get("idle_since") == now:
        del following["idle_since"]
    new["activity"] = following
    return new


def _parked_since(idle_since: int | None) -> ParkedActivity:
    """Parked after an activity that ended by itself (a full battery, an arrival)."""
    assert idle_since is not None, "an activity that has ended has an end"
    return {"kind": "parked", "idle_since": idle_since}


def _keep_session(
    spec: ModelSpec, seed: int, state: VehicleState, session: ChargingSession
) -> None:
    record = session_record(spec, seed, state, session, state["sessions"])
    state["sessions"] += 1
    state["charge_records"] = [*state["charge_records"], record][-MAX_KEPT_SESSIONS:]


def _require_plug_in(spec: ModelSpec) -> None:
    if not spec.is_plug_in:
        raise _not_capable(f"The {spec.make_display} {spec.model} does not plug in.")


def _require_parked(state: VehicleState, action: str) -> None:
    if state["activity"]["kind"] == "driving":
        raise _state_error("IN_MOTION", f"The vehicle is moving; it cannot {action}.")


# --- charging -------------------------------------------------------------------------------


def ac_charger(
    spec: ModelSpec, market: str, kw: float | None = None, *, public: bool = False,
    site: str | None = None,
) -> Charger:
    """An AC charger of the market's kind (home wallbox power by default)."""
    volts, phases, breaker_kw = HOME_AC[market]
    connector = spec.ac_connector_na if market == "NA" else spec.ac_connector_eu
    return {"dc": False, "kw": breaker_kw if kw is None else kw, "volts": volts, "phases": phases,
            "connector": connector, "public": public, "site": site}


def default_charger(spec: ModelSpec, state: VehicleState) -> Charger:
    """The charger a car plugs into where it stands: the wallbox at home, a fast charger elsewhere."""
    city = geo.CITY_BY_KEY[state["city"]]
    lat, lon, _ = state["position"]
    home = state["home"]
    if geo.distance_km(lat, lon, home[0], home[1]) < HOME_RADIUS_KM:
        return ac_charger(spec, city.market)
    nearest = city.chargers[int(geo.unit_noise(int(lat * 1e4), int(lon * 1e4)) * len(city.chargers))]
    if spec.max_dc_kw > 0:
        return public_dc_charger(spec, city.market, 150.0, nearest) | {"latitude": lat, "longitude": lon}
    return ac_charger(spec, city.market, 7.2, public=True, site=nearest) | {"latitude": lat, "longitude": lon}


def plug_in(
    spec: ModelSpec, seed: int, state: VehicleState, now: int,
    charger: Charger | None = None, *, start: bool = False,
) -> VehicleState:
    """Connect a charger (the one where the car stands unless given); ``start`` begins charging."""
    _require_plug_in(spec)
    _require_parked(state, "be plugged in")
    new = settle(spec, seed, state, now)
    if new["activity"]["kind"] == "charging":
        raise _state_error("CHARGING_IN_PROGRESS", "The vehicle is already charging.")
    charger = charger if charger is not None else default_charger(spec, new)
    if charger["dc"] and spec.max_dc_kw <= 0:
        raise _not_capable(f"The {spec.make_display} {spec.model} cannot fast-charge on DC.")
    new["plugged"] = True
    new["charger"] = charger
    new["last_energy_kwh"] = 0.0
    if _soc(new) >= new["charge_limit"]:
        return new
    if start:
        return start_charging(spec, seed, new, new["at"])
    if in_window(new, new["at"]):  # plugged in during a scheduled window: it charges at once
        return start_charging(spec, seed, new, new["at"], by_schedule=True)
    return new


def unplug(spec: ModelSpec, seed: int, state: VehicleState, now: int) -> VehicleState:
    """Disconnect the charger, ending any session."""
    _require_plug_in(spec)
    new = _end_session(spec, seed, settle(spec, seed, state, now))
    new.update({"plugged": False, "charger": None, "last_energy_kwh": 0.0})
    return new


def _soc(state: VehicleState) -> float:
    """The state of charge of a plug-in (which has one: only a car without a battery lacks it)."""
    soc = state["soc"]
    assert soc is not None, "a plug-in has a state of charge"
    return soc


def start_charging(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, *, by_schedule: bool = False
) -> VehicleState:
    """Start a session on the charger the car is plugged into (``by_schedule``: a charge
    schedule's window opened, and its close ends the session)."""
    _require_plug_in(spec)
    new = settle(spec, seed, state, now)
    if not new["plugged"]:
        raise _state_error("CHARGING_PLUG_NOT_CONNECTED", "The charging cable is not connected.")
    if new["activity"]["kind"] == "charging":
        raise _state_error("CHARGING_IN_PROGRESS", "The vehicle is already charging.")
    soc = _soc(new)
    if soc >= new["charge_limit"]:
        raise _state_error("FULLY_CHARGED", "The battery is already at its charge limit.")
    charging: ChargingActivity = {
        "kind": "charging", "started_at": new["at"], "start_soc": soc, "energy_kwh": 0.0
    }
    if by_schedule:
        charging["by_schedule"] = True
    new["activity"] = charging
    return new


def stop_charging(spec: ModelSpec, seed: int, state: VehicleState, now: int) -> VehicleState:
    _require_plug_in(spec)
    new = settle(spec, seed, state, now)
    if new["activity"]["kind"] != "charging":
        raise _state_error("NOT_CHARGING", "The vehicle is not charging.")
    return _end_session(spec, seed, new)


def _end_session(spec: ModelSpec, seed: int, settled: VehicleState) -> VehicleState:
    activity = settled["activity"]
    if activity["kind"] != "charging":
        return settled
    session: ChargingSession = {
        "started_at": activity["started_at"], "ended_at": settled["at"],
        "start_soc": activity["start_soc"], "end_soc": _soc(settled),
        "energy_kwh": activity["energy_kwh"], "charger": settled["charger"],
    }
    _keep_session(spec, seed, settled, session)
    settled["last_energy_kwh"] = activity["energy_kwh"]
    settled["activity"] = {"kind": "parked"}
    return settled


def set_charge_limit(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, percent: int
) -> VehicleState:
    """A new global charge limit (50–100 %); a session already past it ends as fully charged."""
    _require_plug_in(spec)
    if not 50 <= percent <= 100:
        raise ValueError("The charge limit is a percentage from 50 to 100.")
    new = settle(spec, seed, state, now)
    new["charge_limit"] = int(percent)
    return new


# --- closures -------------------------------------------------------------------------------


def set_locked(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, locked: bool
) -> VehicleState:
    _require_parked(state, "lock or unlock" if locked else "unlock")
    if locked:
        _refuse_locking_open(state)
    new = settle(spec, seed, state, now)
    new["locked"] = bool(locked)
    return new


# --- driving --------------------------------------------------------------------------------


def cruise_speed(km: float) -> float:
    """A plausible average speed for a trip of this length: town, suburbs, highway."""
    if km < 10:
        return 32.0
    if km < 50:
        return 55.0
    return 95.0


def start_trip(
    spec: ModelSpec, seed: int, state: VehicleState, now: int,
    latitude: float, longitude: float, speed_kph: float | None = None,
) -> VehicleState:
    """Drive from where the car is to a destination; a car on the charger is unplugged first.

    A car already driving is rerouted from where it is. Road distance is the straight line times a
    detour factor; the path bends, the speed swings with traffic, the car stops early if it runs
    out of energy."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError("Latitude must be within ±90 and longitude within ±180.")
    if speed_kph is not None and not 5 <= speed_kph <= 200:
        raise ValueError("The average speed must be between 5 and 200 kph.")
    new = settle(spec, seed, state, now)
    if new["plugged"]:
        new = _end_session(spec, seed, new)
        new.update({"plugged": False, "charger": None, "last_energy_kwh": 0.0})
    lat, lon, _ = new["position"]
    straight = geo.distance_km(lat, lon, latitude, longitude)
    rng = random.Random(seed ^ new["at"])
    km = straight * rng.uniform(1.15, 1.35)
    new["activity"] = {
        "kind": "driving",
        "to": [latitude, longitude],
        "kph": float(speed_kph) if speed_kph is not None else cruise_speed(km),
        "km": km,
        "phase": rng.uniform(0, 2 * math.pi),
        "wiggle": [rng.uniform(0.03, 0.1) * rng.choice((-1, 1)), rng.uniform(0, 2 * math.pi)],
    }
    new["locked"] = True
    # The driver shuts the doors, trunks, hood and charge flap; windows may stay open.
    new["open"] = [part for part in new["open"] if part.startswith("window-") or part == "sunroof"]
    return new


# --- connectivity ---------------------------------------------------------------------------


def sleep(spec: ModelSpec, seed: int, state: VehicleState, now: int) -> VehicleState:
    """Put an idle car to sleep now (a charging or moving car stays awake)."""
    _require_parked(state, "sleep")
    new = settle(spec, seed, state, now, wake=False)
    activity = new["activity"]
    if activity["kind"] != "parked":
        raise _state_error("CHARGING_IN_PROGRESS", "A charging vehicle stays awake.")
    activity["asleep_at"] = new["at"]
    return new


def wake(spec: ModelSpec, seed: int, state: VehicleState, now: int) -> VehicleState:
    """Wake the car: it reports fresh values and stays awake until idle for its make's while."""
    return settle(spec, seed, state, now)


def set_online(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, online: bool
) -> VehicleState:
    """Take the car off the network (reads then fail) or bring it back (it reports at once)."""
    if online:
        new = settle(spec, seed, state, now)
        new["offline_since"] = None
    else:
        new = settle(spec, seed, state, now, wake=False)
        new["offline_since"] = new["at"]
    return new


def set_signal(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, code: str, body: JsonObject | None
) -> VehicleState:
    """Pin a signal to a body from now on (``None`` un-pins it): an operator's override."""
    new = settle(spec, seed, state, now, wake=False)
    overrides = dict(new["overrides"])
    if body is None:
        overrides.pop(code, None)
    else:
        overrides[code] = [body, new["at"]]
    new["overrides"] = overrides
    return new


# --- simulated failures (sim/failures.py) -------------------------------------------------------


def break_account(
    spec: ModelSpec, seed: int, state: VehicleState, now: int,
    code: str = failures.DEFAULT_ACCOUNT_CODE,
) -> VehicleState:  # fmt: skip
    """The owner's connected-services account stops working (``CONNECTED_SERVICES_ACCOUNT`` with
    ``code``) until it is repaired or the owner re-authenticates."""
    if code not in failures.ACCOUNT_CODES:
        raise ValueError(
            f"'{code}' is not a CONNECTED_SERVICES_ACCOUNT code: one of {', '.join(failures.ACCOUNT_CODES)}."
        )
    new = settle(spec, seed, state, now, wake=False)
    new["account_failure"] = {"code": code, "since": new["at"]}
    return new


def fail_signal(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, code: str,
    error: tuple[str, str | None] = failures.DEFAULT_SIGNAL_ERROR,
) -> VehicleState:  # fmt: skip
    """One signal fails from now on, reporting ``error`` (``(type, code)``) instead of a value."""
    if code not in SIGNALS:
        raise ValueError(f"There is no signal with code '{code}'.")
    if code not in supported_signals(spec):
        raise ValueError(f"This vehicle cannot report '{code}'; it fails with VEHICLE_NOT_CAPABLE already.")
    new = settle(spec, seed, state, now, wake=False)
    failed = dict(new.get("failed_signals") or {})
    failed[code] = {"type": error[0], "code": error[1], "since": new["at"]}
    new["failed_signals"] = failed
    return new


def repair(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, *,
    account: bool = True, signals: tuple[str, ...] | None = None,
) -> VehicleState:  # fmt: skip
    """Mend the account (``account``) and the failing ``signals`` (None: every one of them)."""
    unknown = [code for code in signals or () if code not in SIGNALS]
    if unknown:
        raise ValueError(f"There is no signal with code '{unknown[0]}'.")
    new = settle(spec, seed, state, now, wake=False)
    if account:
        new.pop("account_failure", None)
    failed = dict(new.get("failed_signals") or {})
    for code in list(failed) if signals is None else signals:
        failed.pop(code, None)
    if failed:
        new["failed_signals"] = failed
    else:
        new.pop("failed_signals", None)
    return new


# --- charge port, navigation, charge schedules ----------------------------------------------


def set_charge_port(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, open: bool
) -> VehicleState:
    """Open or close the charge-port flap (a flap with a cable in it cannot close)."""
    _require_plug_in(spec)
    new = settle(spec, seed, state, now)
    opened = [part for part in new["open"] if part != "port"]
    if open:
        opened.append("port")
    elif new["plugged"]:
        raise _state_error(
            "CHARGING_IN_PROGRESS" if new["activity"]["kind"] == "charging" else "UNKNOWN",
            "The charging cable is in the port; unplug it before closing the flap.",
        )
    new["open"] = opened
    return new


def set_destination(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, latitude: float, longitude: float
) -> VehicleState:
    """Send a destination to the car's navigation; a later trip without one drives there."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError("Latitude must be within ±90 and longitude within ±180.")
    new = settle(spec, seed, state, now)
    new["destination"] = [float(latitude), float(longitude), new["at"]]
    return new


WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def add_charge_schedule(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, timer: ChargeTimer
) -> VehicleState:
    """Store a location charge timer (``charge-chargetimers``); the make must accept its kind.

    A new schedule of a kind replaces the one of the same kind at the same place, as the makers'
    apps do."""
    _require_plug_in(spec)
    kind = timer.get("scheduleType")
    if kind not in spec.charge_schedule_types:
        raise _not_capable(f"The {spec.make_display} {spec.model} does not accept {kind} charge schedules.")
    new = settle(spec, seed, state, now)
    place = (timer["condition"]["latitude"], timer["condition"]["longitude"])
    kept = [
        t for t in new["schedules"]
        if not (t.get("scheduleType") == kind and t.get("condition")
                and (t["condition"]["latitude"], t["condition"]["longitude"]) == place)
    ]
    new["schedules"] = [*kept, timer]
    return new


def remove_charge_schedule(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, schedule_id: str
) -> VehicleState:
    """Remove a location charge timer by its id (``LookupError`` when there is none)."""
    _require_plug_in(spec)
    if not any(t.get("scheduleId") == schedule_id for t in state["schedules"]):
        raise LookupError(schedule_id)
    new = settle(spec, seed, state, now)
    new["schedules"] = [t for t in new["schedules"] if t.get("scheduleId") != schedule_id]
    return new


# --- commands by name, and commands that complete later -------------------------------------


def run_command(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, command: str,
    parameters: CommandParameters,
) -> VehicleState:
    """Carry out a Vehicle API command (its wire ``commandType``) at ``now``."""
    if command in ("security-lock", "security-unlock"):
        return set_locked(spec, seed, state, now, locked=command == "security-lock")
    if command == "charge-start":
        return start_charging(spec, seed, state, now)
    if command == "charge-stop":
        return stop_charging(spec, seed, state, now)
    if command == "charge-set-limit":
        return set_charge_limit(spec, seed, state, now, int(parameters["percent"]))
    if command in ("charge-port-open", "charge-port-close"):
        return set_charge_port(spec, seed, state, now, open=command == "charge-port-open")
    if command == "navigation-set-destination":
        return set_destination(spec, seed, state, now, parameters["latitude"], parameters["longitude"])
    if command == "charge-schedule-create":
        return add_charge_schedule(spec, seed, state, now, parameters["timer"])
    if command == "charge-schedule-delete":
        return remove_charge_schedule(spec, seed, state, now, parameters["scheduleId"])
    raise ValueError(f"Unknown command {command!r}.")


def queue_command(
    state: VehicleState, execution_id: str, command: str, parameters: CommandParameters, due: int
) -> VehicleState:
    """A state that carries out ``command`` at ``due`` (a sleeping car being woken for it).

    Nothing runs in the background: reads and later changes apply it when their instant reaches
    ``due`` (see :func:`resolve_due`)."""
    new = copy.deepcopy(state)
    new["pending"] = [*state.get("pending", ()),
                      {"id": execution_id, "command": command, "parameters": parameters, "due": due}]
    return new


def resolve_due(
    spec: ModelSpec, seed: int, state: VehicleState, now: int
) -> tuple[VehicleState, list[DueOutcome]]:
    """Apply, in time order, what has come due by ``now``: queued commands and the starts and
    stops of a charge schedule governing the car where it is plugged in.

    Returns the state and, per applied command, ``(execution id, completion instant, refusal or
    None)``. A refused command leaves the state as it was. A pure function: reads use it to see
    these effects from their instant on, before anything is stored."""
    if not has_due_work(state):
        return state, []
    outcomes: list[DueOutcome] = []
    current = state
    follow_schedule = True
    for _step in range(MAX_DUE_STEPS):
        queued = [e for e in current.get("pending", ()) if e["due"] <= now]
        entry = min(queued, key=lambda e: (e["due"], e["id"])) if queued else None
        event = _next_schedule_event(current, now) if follow_schedule else None
        if entry is not None and (event is None or entry["due"] <= event[0]):
            current, outcome = _run_queued(spec, seed, current, entry)
            outcomes.append(outcome)
            follow_schedule = True  # a command (a new limit, say) may give the schedule work again
        elif event is not None:
            current, follow_schedule = _apply_schedule_event(spec, seed, current, *event)
        else:
            break
    return current, outcomes


#: A bound on the events one catch-up applies (a clock moved years ahead over a busy schedule).
MAX_DUE_STEPS = 2_000


def has_due_work(state: VehicleState) -> bool:
    """Whether the state carries anything that happens later by itself (cheap, for the read path)."""
    return bool(state.get("pending")) or bool(state["plugged"] and state["schedules"])


def _run_queued(
    spec: ModelSpec, seed: int, state: VehicleState, entry: QueuedCommand
) -> tuple[VehicleState, DueOutcome]:
    refusal: SimulationRefused | None = None
    try:
        new = run_command(spec, seed, state, entry["due"], entry["command"], entry["parameters"])
    except SimulationRefused as refused:
        new, refusal = copy.deepcopy(state), refused
    except (ValueError, LookupError) as invalid:
        new, refusal = copy.deepcopy(state), _state_error("UNKNOWN", str(invalid))
    new["pending"] = [e for e in new.get("pending", ()) if e["id"] != entry["id"]]
    return new, (entry["id"], entry["due"], refusal)


# --- charge schedules at work ---------------------------------------------------------------

#: How near a schedule's location a car must be plugged in for the schedule to govern it.
SCHEDULE_RADIUS_KM = 0.5


def governing_timer(state: VehicleState) -> ChargeTimer | None:
    """The location charge timer of the place where the car stands plugged in, if any."""
    if not state["plugged"]:
        return None
    lat, lon, _ = state["position"]
    for timer in state["schedules"]:
        condition = timer.get("condition")
        if (timer.get("type") == "LOCATION" and condition and "latitude" in condition
                and geo.distance_km(lat, lon, condition["latitude"], condition["longitude"])
                <= SCHEDULE_RADIUS_KM):
            return timer
    return None


def _clock_ms(text: str) -> int:
    hours, minutes, *rest = (int(part) for part in text.split(":"))
    return ((hours * 60 + minutes) * 60 + (rest[0] if rest else 0)) * 1000


def schedule_windows(
    state: VehicleState, timer: ChargeTimer, since: int, until: int
) -> list[tuple[int, int]]:
    """The timer's charging windows (UTC epoch ms, start and end) that overlap ``[since, until]``.

    Times are local to the car's city; a window whose end is not after its start runs past
    midnight."""
    offset = int(geo.CITY_BY_KEY[state["city"]].utc_offset_h * HOUR_MS)
    day_ms = 24 * HOUR_MS
    first_day = (since + offset) // day_ms - 1
    last_day = (until + offset) // day_ms
    windows = []
    for day in range(first_day, last_day + 1):
        weekday = WEEKDAYS[(day + 3) % 7]  # 1970-01-01 was a Thursday
        for slot in timer.get("schedules", ()):
            if weekday not in slot.get("days", ()):
                continue
            start, end = _clock_ms(slot["start"]), _clock_ms(slot["end"])
            if end <= start:
                end += day_ms
            begins = day * day_ms + start - offset
            ends = day * day_ms + end - offset
            if ends >= since and begins <= until:
                windows.append((begins, ends))
    return sorted(windows)


def in_window(state: VehicleState, at: int) -> bool:
    """Whether a governing schedule lets the car charge at ``at``."""
    timer = governing_timer(state)
    return timer is not None and any(b <= at < e for b, e in schedule_windows(state, timer, at, at))


def _next_schedule_event(state: VehicleState, now: int) -> tuple[int, bool] | None:
    """The first window start (True) or end (False) after the state's instant and by ``now``."""
    timer = governing_timer(state)
    if timer is None:
        return None
    at = state["at"]
    # Every weekly pattern has a window within eight days, so look no further (a clock moved
    # years ahead would otherwise cost a year of windows per event).
    until = min(now, at + 8 * 24 * HOUR_MS)
    windows = schedule_windows(state, timer, at, until)
    events = [(b, True) for b, _ in windows if at < b <= until]
    events += [(e, False) for _, e in windows if at < e <= until]
    return min(events) if events else None


def _apply_schedule_event(
    spec: ModelSpec, seed: int, state: VehicleState, at: int, starts: bool
) -> tuple[VehicleState, bool]:
    """A window opens (charging starts) or closes (a scheduled session stops). Returns the state
    and whether later events still matter (not when the battery already sits at its limit)."""
    if starts:
        try:
            return start_charging(spec, seed, state, at, by_schedule=True), True
        except SimulationRefused as refused:
            settled = settle(spec, seed, state, at, wake=False)
            return settled, refused.code != "FULLY_CHARGED"
    if state["activity"]["kind"] == "charging" and state["activity"].get("by_schedule"):
        new = settle(spec, seed, state, at)
        return _end_session(spec, seed, new), True
    return settle(spec, seed, state, at, wake=False), True


# --- doors, trunks, windows -----------------------------------------------------------------


def openable_parts(spec: ModelSpec) -> list[str]:
    """What an operator can open on this model (the names ``state["open"]`` holds)."""
    parts = [f"door-{r}-{c}" for r in range(spec.door_rows) for c in range(spec.door_columns)]
    parts += [f"window-{r}-{c}" for r in range(spec.window_rows) for c in range(spec.window_columns)]
    parts += ["trunk", "hood"]
    if spec.has_tailgate:
        parts.append("tailgate")
    if spec.has_frunk:
        parts.append("frunk")
    if spec.has_sunroof:
        parts.append("sunroof")
    return parts


def set_open(
    spec: ModelSpec, seed: int, state: VehicleState, now: int, part: str, open: bool
) -> VehicleState:
    """Open or close a door, window, trunk, hood… (someone at the car; it does not wake it)."""
    if part not in openable_parts(spec):
        raise ValueError(f"The {spec.make_display} {spec.model} has no '{part}'; it has {', '.join(openable_parts(spec))}.")
    _require_parked(state, "have its doors opened")
    new = settle(spec, seed, state, now, wake=False)
    opened = [p for p in new["open"] if p != part]
    if open:
        opened.append(part)
    new["open"] = opened
    return new


def _refuse_locking_open(state: VehicleState) -> None:
    """A car does not lock with a door, the trunk or the hood open."""
    opened = state["open"]
    if any(part.startswith("door-") for part in opened):
        raise _state_error("DOOR_OPEN", "A door is open; close it before locking.")
    if any(part in ("trunk", "tailgate", "frunk") for part in opened):
        raise _state_error("TRUNK_OPEN", "A trunk is open; close it before locking.")
    if "hood" in opened:
        raise _state_error("HOOD_OPEN", "The hood is open; close it before locking.")
