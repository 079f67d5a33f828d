"""The dashboard's rules: who is signed in, what a form's CSRF token must be, and the fleet and
vehicle views it shows — read from the same store and the same simulation as every API.

A session is a signed, time-limited cookie value holding a random nonce; the CSRF token of a
session is a keyed hash of that nonce, so a form posted from another site (which cannot read the
cookie) cannot carry it."""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import NotFound, ValidationFailed
from ..sim import catalogue
from ..sim.plans import settle
from ..sim.signals import PERMISSIONS
from ..sim.state import VehicleState
from ..sim.vehicle import read_signals
from ..store import dashboard_sessions, fleet_queries, repo
from ..store.models import Vehicle
from .admin import VehicleRecord, vehicle_record
from .clocks import ClockBook
from .limits import RateLimit
from .oauth import SecretHasher

#: How long a dashboard session lasts without signing in again.
SESSION_SECONDS = 12 * 3600
#: What the fleet table can filter on, beside make and powertrain (filtered in SQL).
STATUSES = fleet_queries.FLEET_STATES
POWERTRAINS = ("BEV", "PHEV", "HEV", "ICE")
#: The permissions the application page offers as Connect's defaults, with what each allows.
CONNECT_PERMISSIONS: dict[str, str] = PERMISSIONS


@dataclass(frozen=True, slots=True)
class FleetRow:
    vehicle: VehicleRecord
    status: str


#: How far the fleet table counts the vehicles that match: beyond it, "more than" this many.
#: Counting visits each vehicle's row (and parses its state record under a state filter), 10–30 µs
#: a vehicle on PostgreSQL, so a count of 1,000 stays within ~30 ms at any fleet size.
FLEET_COUNT_CAP = 1_000


@dataclass(frozen=True, slots=True)
class FleetPage:
    rows: tuple[FleetRow, ...]
    #: The id to continue after, None on the last page.
    next_after: str | None
    #: The id to go back before, None on the first page.
    previous_before: str | None
    #: How many vehicles match, up to ``count_cap``; more than that when ``count_capped``.
    count: int
    count_capped: bool
    count_cap: int


@dataclass(frozen=True, slots=True)
class SignalLine:
    code: str
    value: str
    unit: str
    #: Seconds of simulated time since the car recorded it.
    age_s: int
    error: str | None
    pinned: bool


@dataclass(frozen=True, slots=True)
class VehicleDetail:
    vehicle: VehicleRecord
    status: str
    now_ms: int
    signals: tuple[SignalLine, ...]


def makes() -> list[tuple[str, str]]:
    """The catalogue's makes as (code, name), for the fleet's filter and the add form."""
    return [(make.code, make.name) for make in catalogue.makes()]


def models_matching(term: str) -> list[str]:
    """The catalogue's model names holding ``term`` in any case (the fleet search's model branch)."""
    wanted = term.strip().casefold()
    if not wanted:
        return []
    return sorted({spec.model for spec in catalogue.models() if wanted in spec.model.casefold()})


def catalogue_has(make: str, powertrain: str) -> bool:
    """Whether any model of the catalogue is of ``make`` with ``powertrain``."""
    return any(spec.make == make and spec.powertrain == powertrain for spec in catalogue.models())


def status_of(state: VehicleState, now_ms: int) -> str:
    """What the fleet table calls the car's state at ``now_ms``."""
    offline = state.get("offline_since")
    if offline is not None and offline <= now_ms:
        return "offline"
    activity = state["activity"]
    if activity["kind"] == "parked":
        asleep_at = activity.get("asleep_at")
        return "asleep" if asleep_at is not None and asleep_at <= now_ms else "parked"
    return activity["kind"]


def _whole(text: str, field: str, label: str) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed(f"{label} must be a whole number.", source={"pointer": "/" + field}) from None


def _decimal(text: str, field: str, label: str) -> float | None:
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValidationFailed(f"{label} must be a number.", source={"pointer": "/" + field}) from None
    if not math.isfinite(number):  # "nan" and "inf" pass float()
        raise ValidationFailed(f"{label} must be a finite number.", source={"pointer": "/" + field})
    return number


def rate_limit_from_form(requests: str, refill_per_minute: str, vehicle_per_minute: str,
                         preset: str) -> RateLimit:
    """The rate-limit form's text fields as a :class:`RateLimit` (empty fields: no such limit),
    checked by the same rules as the admin API; a problem is a ValidationFailed whose
    ``source.pointer`` names the field (``/requests``, ``/refillPerMinute``, ...)."""
    vehicle = _whole(vehicle_per_minute.strip(), "vehicleRequestsPerMinute", "Requests per vehicle per minute")
    if preset == "smartcar":
        return RateLimit.smartcar(vehicle).validate()
    if preset:
        raise ValidationFailed(f"Unknown preset '{preset}'.", source={"pointer": "/preset"})
    return RateLimit(
        _whole(requests.strip(), "requests", "Requests"),
        _decimal(refill_per_minute.strip(), "refillPerMinute", "Refill per minute"),
        vehicle,
    ).validate()


def clock_rate_from_form(text: str) -> float:
    """The clock form's speed-up (``60``: a simulated hour a real minute); its bounds are the
    clock's own (``ClockBook.change``)."""
    rate = _decimal(text.strip(), "rate", "The rate")
    if rate is None:
        raise ValidationFailed("Give a rate, such as 60 for an hour a minute.", source={"pointer": "/rate"})
    return rate


def _shown(body: dict[str, Any] | None) -> tuple[str, str]:
    """A signal body as a value and a unit for a table cell."""
    if body is None:
        return "", ""
    unit = str(body.get("unit", "") or "")
    if set(body) <= {"value", "unit"} and "value" in body:
        return str(body["value"]), unit
    rest = {key: value for key, value in body.items() if key != "unit"}
    return orjson.dumps(rest).decode(), unit


#: What the vehicle page plots, and the window it covers.
PLOTTED = {
    "soc": ("tractionbattery-stateofcharge", "internalcombustionengine-fuellevel"),
    "range": ("tractionbattery-range", "internalcombustionengine-range"),
    "speed": ("motion-currentspeed",),
}
HISTORY_MS = 6 * 3600 * 1000
HISTORY_POINTS = 73


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    unit: str
    #: (epoch ms, value), oldest first.
    points: tuple[tuple[int, float], ...]


@dataclass(frozen=True, slots=True)
class History:
    """A vehicle's plotted signals and its track, from the start of its current plan (the
    simulation knows a car's course from its last change on) or six hours ago, whichever is later."""

    start_ms: int
    end_ms: int
    series: tuple[Series, ...]
    #: (latitude, longitude), oldest first.
    track: tuple[tuple[float, float], ...]


def _number(reading: Any) -> float | None:
    body = reading.body if reading is not None else None
    value = body.get("value") if isinstance(body, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class DashboardSessions:
    """Sign-in with the admin token or the dashboard password, sessions and CSRF tokens.

    A session is valid while its signed cookie verifies *and* its row is in the store: signing out
    deletes the row, so a copied cookie stops working too. The signing key is bound to the admin
    token and the dashboard password, so changing either ends every session."""

    def __init__(self, secret_key: str | bytes, hasher: SecretHasher, admin_token_hash: str,
                 password: str | None, sessions: async_sessionmaker[AsyncSession]) -> None:
        credentials = hasher.hash(f"dashboard-credentials:{admin_token_hash}:{password or ''}")
        self._signer = URLSafeTimedSerializer(secret_key, salt=f"motorpool-dashboard:{credentials}")
        self._hasher = hasher
        self._admin_token_hash = admin_token_hash
        self._password = password
        self._sessions = sessions

    def _key(self, nonce: str) -> str:
        """What the store keeps of a session: a keyed hash of its nonce, never the nonce."""
        return self._hasher.hash("dashboard-session:" + nonce)

    async def sign_in(self, secret: str) -> str:
        """A new session's cookie value, or ValidationFailed for a wrong token or password."""
        good = hmac.compare_digest(self._hasher.hash(secret), self._admin_token_hash)
        if not good and self._password:
            good = hmac.compare_digest(secret.encode(), self._password.encode())
        if not good:
            raise ValidationFailed("Neither the admin token nor the dashboard password.",
                                   source={"pointer": "/secret"})
        nonce = secrets.token_urlsafe(18)
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            await dashboard_sessions.add_session(session, self._key(nonce), now,
                                                 now + timedelta(seconds=SESSION_SECONDS))
        return self._signer.dumps({"n": nonce})

    def _signed_nonce(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        nonce = data.get("n") if isinstance(data, dict) else None
        return nonce if isinstance(nonce, str) else None

    async def nonce(self, cookie: str | None) -> str | None:
        """The session's nonce when the cookie is a valid, unexpired session not signed out."""
        nonce = self._signed_nonce(cookie)
        if nonce is None:
            return None
        async with self._sessions() as session:
            live = await dashboard_sessions.session_live(session, self._key(nonce), datetime.now(UTC))
        return nonce if live else None

    async def sign_out(self, nonce: str) -> None:
        """End the session everywhere: its cookie, wherever it was copied, opens nothing more."""
        async with self._sessions() as session, session.begin():
            await dashboard_sessions.end_session(session, self._key(nonce))

    def csrf_token(self, nonce: str) -> str:
        return self._hasher.hash("dashboard-csrf:" + nonce)

    def csrf_valid(self, nonce: str, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf_token(nonce), token)


class DashboardViews:
    """What the dashboard's pages show of the fleet, from the store and the simulation."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clocks: ClockBook) -> None:
        self.sessions = sessions
        self.clocks = clocks

    async def fleet(
        self,
        application_id: str,
        *,
        after: str | None = None,
        before: str | None = None,
        last: bool = False,
        limit: int = 50,
        search: str | None = None,
        make: str | None = None,
        powertrain: str | None = None,
        status: str | None = None,
    ) -> FleetPage:
        """A page of the application's fleet in id order: the first, the one after ``after``, the
        one before ``before`` or (``last``) the last, with how many vehicles match (capped)."""
        if powertrain and powertrain not in POWERTRAINS:
            raise ValidationFailed(f"powertrain must be one of {', '.join(POWERTRAINS)}.",
                                   source={"parameter": "powertrain"})
        if status and status not in STATUSES:
            raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}.", source={"parameter": "status"})
        if after and (before or last):
            raise ValidationFailed("after cannot be combined with before or last.", source={"parameter": "after"})
        backward = bool(before) or last
        cap = FLEET_COUNT_CAP
        now = await self.clocks.now_ms(application_id)
        filters: dict[str, Any] = {
            "search": search or None, "models": models_matching(search or ""), "make": make or None,
            "powertrain": powertrain or None, "state": status or None, "now_ms": now,
        }
        async with self.sessions() as session:
            if await repo.get_application(session, application_id) is None:
                raise NotFound(f"No application '{application_id}'.")
            if make and powertrain and not catalogue_has(make, powertrain):
                # No model of the catalogue is of that make and powertrain, so no vehicle is:
                # asking the database would read every vehicle of the make to find none.
                batch: Sequence[Vehicle] = []
                count = 0
            else:
                # One read of a row more than the page tells whether another page follows.
                batch = await fleet_queries.fleet_page(
                    session, application_id, after=after, before=before or None, backward=backward,
                    limit=limit + 1, **filters,
                )
                count = await fleet_queries.fleet_count(session, application_id, cap=cap, **filters)
        more = len(batch) > limit
        shown = batch[-limit:] if backward else batch[:limit]
        rows = tuple(
            FleetRow(vehicle_record(vehicle), status_of(vehicle.state, now))  # type: ignore[arg-type]
            for vehicle in shown
        )
        has_next = more if not backward else bool(before)
        has_previous = more if backward else bool(after)
        return FleetPage(
            rows,
            next_after=rows[-1].vehicle.id if rows and has_next else None,
            previous_before=rows[0].vehicle.id if rows and has_previous else None,
            count=min(count, cap),
            count_capped=count > cap,
            count_cap=cap,
        )

    async def vehicle(self, vehicle_id: str) -> VehicleDetail:
        async with self.sessions() as session:
            row = await repo.get_vehicle(session, vehicle_id)
            if row is None:
                raise NotFound(f"No vehicle '{vehicle_id}'.")
            record = vehicle_record(row)
            state: VehicleState = row.state  # type: ignore[assignment]
            seed, vin, nickname = row.seed, row.vin, row.nickname
        now = await self.clocks.now_ms(record.application_id)
        spec = catalogue.find_model(record.make, record.model)
        if spec is None:
            raise NotFound(f"Vehicle '{vehicle_id}' has no catalogue model.")
        settled = settle(spec, seed, state, max(now, state["at"]), wake=False)
        readings = read_signals(spec, vin, seed, settled, now, nickname)
        overrides = state.get("overrides", {})
        lines = []
        for code, reading in readings.items():
            if reading.error is not None and reading.error[0] == "COMPATIBILITY":
                continue  # a signal this model cannot give is no news
            value, unit = _shown(reading.body)
            lines.append(SignalLine(
                code=code, value=value, unit=unit,
                age_s=max(0, (now - reading.oem_updated_at_ms) // 1000),
                error="/".join(part for part in reading.error if part) if reading.error else None,
                pinned=code in overrides,
            ))
        return VehicleDetail(record, status_of(settled, now), now, tuple(lines))

    async def history(self, vehicle_id: str) -> History:
        async with self.sessions() as session:
            row = await repo.get_vehicle(session, vehicle_id)
            if row is None:
                raise NotFound(f"No vehicle '{vehicle_id}'.")
            record = vehicle_record(row)
            state: VehicleState = row.state  # type: ignore[assignment]
            seed, vin = row.seed, row.vin
        now = await self.clocks.now_ms(record.application_id)
        spec = catalogue.find_model(record.make, record.model)
        if spec is None:
            raise NotFound(f"Vehicle '{vehicle_id}' has no catalogue model.")
        start = min(now, max(state["at"], now - HISTORY_MS))
        step = max(1, (now - start) // (HISTORY_POINTS - 1))
        values: dict[str, list[tuple[int, float]]] = {name: [] for name in PLOTTED}
        units: dict[str, str] = {}
        track: list[tuple[float, float]] = []
        for moment in range(start, now + 1, step):
            readings = read_signals(spec, vin, seed, state, moment)
            for name, codes in PLOTTED.items():
                for code in codes:
                    number = _number(readings.get(code))
                    if number is not None:
                        values[name].append((moment, number))
                        body = readings[code].body or {}
                        units[name] = str(body.get("unit", ""))
                        break
            where = readings.get("location-preciselocation")
            spot = where.body if where is not None else None
            if spot and isinstance(spot.get("latitude"), float) and isinstance(spot.get("longitude"), float):
                track.append((float(spot["latitude"]), float(spot["longitude"])))  # type: ignore[arg-type]
        series = tuple(Series(name, units.get(name, ""), tuple(points)) for name, points in values.items() if points)
        return History(start, now, series, tuple(track))
