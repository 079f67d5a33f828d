"""Who may connect which vehicles, and storing what they granted.

Connect (the consent pages) and the admin API's direct connect both end here, so a connection
made either way is the same record."""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, cast

from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import ApiError, NotFound, ValidationFailed
from ..sim import catalogue
from ..sim.failures import without_account_failure
from ..sim.signals import PERMISSIONS
from ..sim.state import VehicleState
from ..sim.testmode import TestVehicle, vehicles_for_test_email
from ..sim.vehicle import new_vehicle_state
from ..store import repo
from ..store.models import Connection, Owner, User, Vehicle
from .fleet import build_vehicle
from .passwords import hash_password, password_matches

Mode = Literal["live", "simulated", "test"]


@functools.cache
def _unknown_owner_hash() -> str:
    """A hash to check unknown e-mails against (made on first use: hashing is slow)."""
    return hash_password("no owner has this password; it only costs the same time")
MODES: tuple[Mode, ...] = ("live", "simulated", "test")


class LoginRefused(ApiError):
    status = 401
    type = "AUTHENTICATION"
    code = "INVALID_CREDENTIALS"


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 320:
        raise ValidationFailed("Enter a valid e-mail address.", code="INVALID_INPUT_FORMAT")
    return email


def subject_for(mode: Mode, email: str, owner: Owner | None = None) -> str:
    if mode == "live" and owner is not None:
        return f"live:{owner.id}"
    return f"{mode}:{email}"


@dataclass(frozen=True)
class Login:
    """The outcome of a Connect login: who logged in and which vehicles they can share."""

    subject: str
    email: str
    vehicles: list[Vehicle]


#: The most cars of a simulated fleet one sign-in offers (and a direct connect takes without
#: naming them): a fleet of a million is not an owner's account.
SIMULATED_OFFER = 50
DIRECT_CONNECT_MOST = 1_000


def offer_start(application_id: str, email: str) -> str:
    """Where in the fleet's id order an e-mail's simulated cars start: a stable place per
    application and e-mail, so the same owner is offered the same cars at every sign-in and
    owners of a large fleet are spread over it."""
    digest = hashlib.sha256(f"{application_id}:{email}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


async def simulated_offer(
    session: AsyncSession,
    application_id: str,
    email: str,
    brand: str | None = None,
    vin: str | None = None,
) -> list[Vehicle]:
    """The simulated cars a sign-in with ``email`` offers: with ``vin``, that car; else up to
    :data:`SIMULATED_OFFER` of ``brand`` (every one when the fleet has no more), the same
    ones for the same e-mail while the fleet stays as it is, shown oldest first."""
    if vin is not None:
        return await repo.fleet_by_vin(session, application_id, vin, SIMULATED_OFFER)
    start = offer_start(application_id, email)
    vehicles = await repo.fleet_from(session, application_id, brand, start, SIMULATED_OFFER)
    return sorted(vehicles, key=lambda v: (repo.aware(v.created_at), v.id))


async def login(
    session: AsyncSession,
    application_id: str,
    mode: Mode,
    email: str,
    password: str,
    now_ms: int,
    brand: str | None = None,
    vin: str | None = None,
) -> Login:
    """Check a vehicle owner's login the way ``mode`` wants it and find their vehicles.

    ``test``: any password; vehicles derived from the e-mail (the documented conventions), of
    ``brand`` when the owner chose one.
    ``simulated``: any password; cars of the application's simulated fleet
    (:func:`simulated_offer`: the car of ``vin``, or a bounded, stable set of ``brand``'s).
    ``live``: the e-mail and password must match an owner account. ``now_ms`` is the
    application's simulated now: test vehicles made at this login start their life then."""
    email = normalise_email(email)
    if mode == "live":
        owner = await repo.get_owner_by_email(session, email)
        # Hash even for an unknown e-mail, so the answer's timing does not tell which exist.
        stored = owner.password_hash if owner is not None else _unknown_owner_hash()
        if not password_matches(stored, password) or owner is None:
            raise LoginRefused("The e-mail address or password is not correct.")
        vehicles = list(await repo.list_owner_vehicles(session, owner.id))
        return Login(subject_for(mode, email, owner), email, vehicles)
    if not password:
        raise ValidationFailed("Enter a password.", code="MISSING_PARAMETER")
    if mode == "simulated":
        vehicles = await simulated_offer(session, application_id, email, brand, vin)
    else:
        # Two first sign-ins of one test e-mail at once must not both create its vehicles.
        await repo.lock_application(session, application_id)
        vehicles = await test_vehicles(session, application_id, email, now_ms, brand)
    return Login(subject_for(mode, email), email, vehicles)


async def test_vehicles(
    session: AsyncSession, application_id: str, email: str, now_ms: int, brand: str | None = None
) -> list[Vehicle]:
    """The test-mode vehicles of an e-mail (signed in with ``brand``, if chosen), created on
    first login (at ``now_ms``, the application's simulated now) and found again after."""
    derived = vehicles_for_test_email(email, brand)
    keys = [_test_key(application_id, email, item, index) for index, item in enumerate(derived)]
    existing = await repo.get_vehicles_by_test_keys(session, keys)
    created: list[Vehicle] = []
    result: list[Vehicle] = []
    for key, item in zip(keys, derived, strict=True):
        vehicle = existing.get(key)
        if vehicle is None:
            state = new_vehicle_state(item.spec, item.seed, now_ms, year=item.year)
            vehicle = Vehicle(
                vin=item.vin,
                make=item.spec.make,
                model=item.spec.model,
                year=item.year,
                powertrain=item.spec.powertrain,
                mode="test",
                application_id=application_id,
                test_key=key,
                capabilities=sorted(item.permissions),
                seed=item.seed,
                # The name its simulation drew (often none) is the one it is stored with.
                nickname=state["nickname"],
                state=state,
            )
            created.append(vehicle)
        result.append(vehicle)
    if created:
        await repo.add_vehicles(session, created)
    return result


def _test_key(application_id: str, email: str, item: TestVehicle, index: int) -> str:
    """Names a test vehicle for good. A vehicle drawn in a brand keeps the brand in its key
    (``app:email:BRAND:n``), so the same e-mail signed in with another brand owns other cars;
    one the e-mail alone made keeps the key it always had (``app:email:n``)."""
    if item.brand is None:
        return f"{application_id}:{email}:{index}"
    return f"{application_id}:{email}:{item.brand}:{index}"


def test_brand_of(vehicle: Vehicle) -> str | None:
    """The brand a test vehicle was drawn in (from its key), so re-authenticating its owner
    finds the same car; ``None`` for a vehicle drawn without one."""
    parts = (vehicle.test_key or "").rsplit(":", 2)
    if len(parts) == 3 and catalogue.find_make(parts[1]) is not None and parts[1].isupper():
        return parts[1]
    return None


async def simulated_vehicle(
    session: AsyncSession, application_id: str, make: str, now_ms: int
) -> Vehicle:
    """A new car of ``make`` in the application's simulated fleet, starting its life at
    ``now_ms`` (the application's simulated now): Connect in simulated mode offers the brand the
    owner chose even when the fleet has none of it yet."""
    vehicle = build_vehicle(application_id=application_id, owner_id=None, make=make, now_ms=now_ms)
    await repo.add_vehicles(session, [vehicle])
    return vehicle


def connect_permissions(chosen: list[str] | None) -> list[str]:
    """What Connect asks for when a link has no ``scope``: the application's choice (Smartcar's
    dashboard "Vehicle Access"), by default every permission of the catalogue, none required."""
    if chosen is None:
        return list(PERMISSIONS)
    return [p for p in chosen if p in PERMISSIONS]


def grantable(vehicle: Vehicle, requested: list[str]) -> list[str]:
    """The requested permissions this vehicle can grant."""
    if vehicle.capabilities is None:
        return [p for p in requested if p in PERMISSIONS]
    allowed = set(vehicle.capabilities)
    return [p for p in requested if p in allowed]


def is_compatible(vehicle: Vehicle, required: list[str]) -> bool:
    """A vehicle is compatible when it can grant something and every required permission."""
    if vehicle.capabilities is not None and not vehicle.capabilities:
        return False
    return all(grantable(vehicle, [p]) for p in required)


async def grant(
    session: AsyncSession,
    *,
    application_id: str,
    subject: str,
    vehicles: list[Vehicle],
    permissions: list[str],
    external_id: str | None = None,
    replace_external_id: bool = False,
) -> tuple[User, list[Connection]]:
    """Store the user (stable per application and owner) and one connection per vehicle."""
    unknown = [p for p in permissions if p not in PERMISSIONS]
    if unknown:
        raise ValidationFailed(f"Unknown permission(s): {', '.join(unknown)}.")
    # One consent or direct connect of an application at a time: the user's get-or-create and
    # the connections' upsert read before they write.
    await repo.lock_application(session, application_id)
    user = await repo.get_or_create_user(session, application_id, subject)
    now = datetime.now(UTC)
    connections = await repo.upsert_connections(
        session,
        application_id=application_id,
        user_id=user.id,
        grants=[(vehicle, grantable(vehicle, permissions)) for vehicle in vehicles],
        external_id=external_id,
        replace_external_id=replace_external_id or external_id is not None,
        now=now,
    )
    for vehicle in vehicles:
        await _mend_account(session, vehicle)
    return user, connections


async def _mend_account(session: AsyncSession, vehicle: Vehicle) -> None:
    """The owner went through Connect again: a connected-services account that needed it works
    again (a simulated failure, ``sim/failures.py``)."""
    for _attempt in range(3):
        state = cast(VehicleState, vehicle.state)  # the JSON column holds a state record
        if "account_failure" not in state:
            return
        if await repo.save_vehicle_state(session, vehicle.id, without_account_failure(state), vehicle.version):
            return
        await session.refresh(vehicle)  # another writer changed it first: mend what it wrote


async def direct_connect(
    session: AsyncSession,
    *,
    application_id: str,
    mode: Mode,
    email: str,
    permissions: list[str] | None,
    vehicle_ids: list[str] | None,
    external_id: str | None,
    now_ms: int,
) -> tuple[User, list[Connection]]:
    """The admin API's shortcut through Connect: what an owner approving everything would store.

    No password is checked; it is an operator's tool for tests and demos. ``now_ms`` is the
    application's simulated now (test vehicles made here start their life then)."""
    email = normalise_email(email)
    if vehicle_ids is not None and len(vehicle_ids) > DIRECT_CONNECT_MOST:
        raise ValidationFailed(f"Connect at most {DIRECT_CONNECT_MOST:,} vehicles at once.")
    if mode == "live":
        owner = await repo.get_owner_by_email(session, email)
        if owner is None:
            raise NotFound(f"No owner with e-mail '{email}'.")
        available = list(await repo.list_owner_vehicles(session, owner.id))
        subject = subject_for(mode, email, owner)
    elif mode == "simulated":
        subject = subject_for(mode, email)
        if vehicle_ids is not None:
            # Only the cars named are read, whatever the fleet's size.
            available = await repo.get_fleet_vehicles(session, application_id, vehicle_ids)
        elif await repo.fleet_size_up_to(
            session, application_id, DIRECT_CONNECT_MOST + 1
        ) > DIRECT_CONNECT_MOST:
            raise ValidationFailed(
                f"This fleet has more than {DIRECT_CONNECT_MOST:,} vehicles: name the ones to "
                "connect (vehicleIds), or connect a large fleet in bulk with "
                "`motorpool vehicles seed --connect EMAIL`."
            )
        else:
            available = list(await repo.fleet_page(session, application_id, None, DIRECT_CONNECT_MOST))
    else:
        available = await test_vehicles(session, application_id, email, now_ms)
        subject = subject_for(mode, email)
    if vehicle_ids is not None:
        by_id = {v.id: v for v in available}
        missing = [vid for vid in vehicle_ids if vid not in by_id]
        if missing:
            raise NotFound(f"Vehicle(s) not available to this owner: {', '.join(missing)}.")
        available = [by_id[vid] for vid in vehicle_ids]
    if not available:
        raise NotFound("This owner has no vehicles to connect.")
    return await grant(
        session,
        application_id=application_id,
        subject=subject,
        vehicles=available,
        permissions=list(PERMISSIONS) if permissions is None else permissions,
        external_id=external_id,
    )
