"""Operator rules: applications, redirect URIs, client secrets, owner accounts and vehicles."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import ApiError, NotFound, ValidationFailed
from ..sim.signals import PERMISSIONS
from ..store import repo
from ..store.models import Application, ClientSecret, Owner, Vehicle
from . import grants
from .clocks import ClockBook
from .connections import decode_cursor, encode_cursor
from .fleet import build_vehicle
from .oauth import ClientRegistry, SecretHasher, new_client_id, new_client_secret
from .passwords import hash_password

MAX_LIVE_SECRETS = 3
MAX_FLEET_BATCH = 200_000


class Conflict(ApiError):
    status = 409
    type = "VALIDATION"
    code = "BAD_REQUEST"


def new_management_token() -> str:
    """An application management token: 256 random bits, in hex."""
    return secrets.token_hex(32)


def validate_redirect_uri(uri: str) -> str:
    """A redirect URI must be absolute http(s) without a fragment (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationFailed(f"Redirect URI '{uri}' must be an absolute http or https URL.")
    if parts.fragment:
        raise ValidationFailed(f"Redirect URI '{uri}' must not contain a fragment.")
    return uri


@dataclass(frozen=True, slots=True)
class SecretRecord:
    id: str
    #: The secret's last four characters, to tell secrets apart.
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    id: str
    name: str
    client_id: str
    redirect_uris: tuple[str, ...]
    management_token: str
    created_at: datetime
    secrets: tuple[SecretRecord, ...]
    #: What Connect asks for without a ``scope``, and whether it is the default (every permission).
    connect_permissions: tuple[str, ...]
    connect_permissions_chosen: bool


@dataclass(frozen=True, slots=True)
class OwnerRecord:
    id: str
    email: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class VehicleRecord:
    id: str
    vin: str
    make: str
    model: str
    year: int
    powertrain: str
    mode: str
    nickname: str
    application_id: str | None
    owner_id: str | None
    created_at: datetime


#: The most cars one page of the admin API's fleet listing holds (and its default size).
FLEET_PAGE_MOST = 1_000


@dataclass(frozen=True, slots=True)
class FleetPage:
    """A page of a fleet, and where the next one starts (None on the last)."""

    vehicles: list[VehicleRecord]
    next_cursor: str | None


def parse_fleet_limit(limit: int | str | None) -> int:
    """A fleet page's size: a whole number from 1 to :data:`FLEET_PAGE_MOST`."""
    if limit is None or limit == "":
        return FLEET_PAGE_MOST
    try:
        size = int(limit)
    except ValueError:
        size = 0
    if not 1 <= size <= FLEET_PAGE_MOST:
        raise ValidationFailed(
            f"limit must be a whole number from 1 to {FLEET_PAGE_MOST:,}.",
            source={"parameter": "limit"},
        )
    return size


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A new client secret: its record, and the plaintext, shown once."""

    secret: SecretRecord
    plaintext: str


@dataclass(frozen=True, slots=True)
class DirectConnection:
    """What a direct connect stored: the user and each vehicle's connection."""

    user_id: str
    #: (vehicle id, connection id, granted permissions), one per vehicle.
    connections: tuple[tuple[str, str, tuple[str, ...]], ...]


def secret_record(secret: ClientSecret) -> SecretRecord:
    return SecretRecord(
        id=secret.id,
        hint=secret.hint,
        created_at=repo.aware(secret.created_at),
        last_used_at=repo.aware(secret.last_used_at),
        revoked_at=repo.aware(secret.revoked_at),
    )


def application_record(app: Application) -> ApplicationRecord:
    return ApplicationRecord(
        id=app.id,
        name=app.name,
        client_id=app.client_id,
        redirect_uris=tuple(app.redirect_uris),
        management_token=app.management_token,
        created_at=repo.aware(app.created_at),
        secrets=tuple(secret_record(s) for s in app.secrets),
        connect_permissions=tuple(grants.connect_permissions(app.connect_permissions)),
        connect_permissions_chosen=app.connect_permissions is not None,
    )


def owner_record(owner: Owner) -> OwnerRecord:
    return OwnerRecord(owner.id, owner.email, owner.name, repo.aware(owner.created_at))


def vehicle_record(vehicle: Vehicle) -> VehicleRecord:
    return VehicleRecord(
        id=vehicle.id,
        vin=vehicle.vin,
        make=vehicle.make,
        model=vehicle.model,
        year=vehicle.year,
        powertrain=vehicle.powertrain,
        mode=vehicle.mode,
        nickname=vehicle.nickname,
        application_id=vehicle.application_id,
        owner_id=vehicle.owner_id,
        created_at=repo.aware(vehicle.created_at),
    )


@dataclass
class AdminService:
    """The control plane's rules. Each operation runs in its own transaction, or in the one of
    the ``session`` it is given (first start makes everything in one)."""

    sessions: async_sessionmaker[AsyncSession]
    hasher: SecretHasher
    clients: ClientRegistry
    clocks: ClockBook

    @asynccontextmanager
    async def _transaction(self, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        if session is not None:
            yield session
            return
        async with self.sessions() as own, own.begin():
            yield own

    # --- applications ----------------------------------------------------------------------

    async def list_applications(self) -> list[ApplicationRecord]:
        async with self.sessions() as session:
            return [application_record(app) for app in await repo.list_applications(session)]

    async def create_application(
        self, name: str, redirect_uris: list[str], *, session: AsyncSession | None = None
    ) -> tuple[ApplicationRecord, IssuedSecret]:
        """A new application with its first client secret."""
        if not name.strip():
            raise ValidationFailed("An application needs a name.")
        uris = list(dict.fromkeys(validate_redirect_uri(u) for u in redirect_uris))
        async with self._transaction(session) as db:
            app = Application(
                name=name.strip(),
                client_id=new_client_id(),
                redirect_uris=uris,
                management_token=new_management_token(),
                secrets=[],
            )
            await repo.add_application(db, app)
            issued = await self._new_secret(db, app)
            return application_record(app), issued

    async def application(self, application_id: str) -> ApplicationRecord:
        async with self.sessions() as session:
            return application_record(await self._application(session, application_id))

    @staticmethod
    async def _application(session: AsyncSession, application_id: str) -> Application:
        app = await repo.get_application(session, application_id)
        if app is None:
            raise NotFound(f"No application with id '{application_id}'.")
        return app

    @classmethod
    async def _locked(cls, session: AsyncSession, application_id: str) -> Application:
        """The application, its row locked until the transaction ends: concurrent changes of
        its lists and limits wait for each other instead of overwriting each other."""
        if not await repo.lock_application(session, application_id):
            raise NotFound(f"No application with id '{application_id}'.")
        return await cls._application(session, application_id)

    async def add_redirect_uri(self, application_id: str, uri: str) -> ApplicationRecord:
        uri = validate_redirect_uri(uri)
        async with self.sessions() as session, session.begin():
            app = await self._locked(session, application_id)
            if uri not in app.redirect_uris:
                app.redirect_uris = [*app.redirect_uris, uri]
            self.clients.invalidate(app.client_id, session)
            return application_record(app)

    async def remove_redirect_uri(self, application_id: str, uri: str) -> ApplicationRecord:
        async with self.sessions() as session, session.begin():
            app = await self._locked(session, application_id)
            if uri not in app.redirect_uris:
                raise NotFound(f"'{uri}' is not a registered redirect URI.")
            app.redirect_uris = [u for u in app.redirect_uris if u != uri]
            self.clients.invalidate(app.client_id, session)
            return application_record(app)

    async def set_connect_permissions(
        self, application_id: str, permissions: list[str] | None
    ) -> ApplicationRecord:
        """What Connect asks for when a link has no ``scope``; None: every permission again."""
        if permissions is not None:
            unknown = [p for p in permissions if p not in PERMISSIONS]
            if unknown:
                raise ValidationFailed(f"Unknown permission(s): {', '.join(unknown)}.")
            if not permissions:
                raise ValidationFailed("Give at least one permission, or null for every permission.")
            permissions = list(dict.fromkeys(permissions))
        async with self.sessions() as session, session.begin():
            app = await self._locked(session, application_id)
            app.connect_permissions = permissions
            return application_record(app)

    async def create_secret(self, application_id: str) -> IssuedSecret:
        async with self.sessions() as session, session.begin():
            app = await self._locked(session, application_id)
            live = [s for s in app.secrets if s.revoked_at is None]
            if len(live) >= MAX_LIVE_SECRETS:
                raise Conflict(
                    f"An application holds at most {MAX_LIVE_SECRETS} client secrets; revoke one first."
                )
            return await self._new_secret(session, app)

    async def _new_secret(self, session: AsyncSession, app: Application) -> IssuedSecret:
        plaintext = new_client_secret()
        secret = ClientSecret(
            application_id=app.id, secret_hash=self.hasher.hash(plaintext), hint=plaintext[-4:]
        )
        app.secrets.append(secret)
        await session.flush()
        self.clients.invalidate(app.client_id, session)
        return IssuedSecret(secret=secret_record(secret), plaintext=plaintext)

    async def revoke_secret(
        self, application_id: str, secret_id: str, *, session: AsyncSession | None = None
    ) -> SecretRecord:
        async with self._transaction(session) as db:
            app = await self._locked(db, application_id)
            secret = await repo.get_secret(db, application_id, secret_id)
            if secret is None:
                raise NotFound(f"No client secret with id '{secret_id}'.")
            if secret.revoked_at is None:
                secret.revoked_at = datetime.now(UTC)
            self.clients.invalidate(app.client_id, db)
            return secret_record(secret)

    async def rotate_management_token(self, application_id: str) -> ApplicationRecord:
        """Give the application a new management token; the old one stops working at once (the
        management API reads the token from the store on every call)."""
        async with self.sessions() as session, session.begin():
            app = await self._locked(session, application_id)
            app.management_token = new_management_token()
            return application_record(app)

    async def fleet(
        self, application_id: str, *, limit: int | str | None = None, cursor: str | None = None
    ) -> FleetPage:
        """A page of an application's simulated fleet, oldest first: up to ``limit`` cars
        (:data:`FLEET_PAGE_MOST` at most and by default) from ``cursor`` on (the first page
        without one). A keyset page: its cost does not grow with the fleet or the page's place."""
        size = parse_fleet_limit(limit)
        after = decode_cursor(cursor) if cursor else None
        async with self.sessions() as session:
            await self._application(session, application_id)
            rows = list(await repo.fleet_page(session, application_id, after, size + 1))
        records = [vehicle_record(v) for v in rows[:size]]
        following = None
        if len(rows) > size:
            following = encode_cursor(records[-1].created_at, records[-1].id)
        return FleetPage(records, following)

    # --- owners ----------------------------------------------------------------------------

    async def list_owners(self) -> list[OwnerRecord]:
        async with self.sessions() as session:
            return [owner_record(owner) for owner in await repo.list_owners(session)]

    async def create_owner(self, email: str, password: str, name: str = "") -> OwnerRecord:
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            raise ValidationFailed("An owner needs a valid e-mail address.")
        if len(password) < 8:
            raise ValidationFailed("An owner's password must be at least 8 characters long.")
        async with self.sessions() as session, session.begin():
            if await repo.get_owner_by_email(session, email) is not None:
                raise Conflict(f"An owner with e-mail '{email}' already exists.")
            owner = Owner(email=email, name=name.strip(), password_hash=hash_password(password))
            try:
                return owner_record(await repo.add_owner(session, owner))
            except IntegrityError:
                raise Conflict(f"An owner with e-mail '{email}' already exists.") from None

    # --- vehicles --------------------------------------------------------------------------

    async def create_vehicle(
        self,
        *,
        application_id: str | None = None,
        owner_email: str | None = None,
        make: str | None = None,
        model: str | None = None,
        powertrain: str | None = None,
        year: int | None = None,
        vin: str | None = None,
        nickname: str | None = None,
        seed: int | None = None,
        session: AsyncSession | None = None,
    ) -> VehicleRecord:
        """A simulated vehicle in an application's fleet, or a live vehicle of an owner.

        Without a ``nickname`` it keeps the one its simulation draws (often none). A simulated car starts its simulated life at its application's simulated now (at real
        time when made in a caller's transaction, as first start does)."""
        if (application_id is None) == (owner_email is None):
            raise ValidationFailed("Give either an application (simulated fleet) or an owner (live).")
        now_ms = None
        if application_id is not None and session is None:
            now_ms = await self.clocks.now_ms(application_id)
        async with self._transaction(session) as db:
            owner = None
            if owner_email is not None:
                owner = await repo.get_owner_by_email(db, owner_email)
                if owner is None:
                    raise NotFound(f"No owner with e-mail '{owner_email}'.")
            else:
                await self._application(db, application_id or "")
            vehicle = build_vehicle(
                application_id=application_id,
                owner_id=owner.id if owner else None,
                make=make,
                model=model,
                powertrain=powertrain,
                year=year,
                vin=vin,
                nickname=nickname,
                seed=seed,
                now_ms=now_ms,
            )
            try:
                await repo.add_vehicles(db, [vehicle])
            except IntegrityError:
                # A vehicle's id is drawn from its seed, so one seed makes one vehicle.
                raise Conflict(
                    f"A vehicle made from seed {seed} already exists; give another seed."
                ) from None
            return vehicle_record(vehicle)

    async def create_fleet(
        self, application_id: str, count: int, powertrain: str | None = None, seed: int | None = None
    ) -> int:
        """Add ``count`` simulated vehicles to an application's fleet in one go, starting their
        lives at the application's simulated now."""
        now_ms = await self.clocks.now_ms(application_id)
        async with self.sessions() as session, session.begin():
            await self._application(session, application_id)
            if not 1 <= count <= MAX_FLEET_BATCH:
                raise ValidationFailed(f"count must be from 1 to {MAX_FLEET_BATCH}.")
            base = seed if seed is not None else secrets.randbits(40)
            rows = [
                build_vehicle(
                    application_id=application_id,
                    owner_id=None,
                    powertrain=powertrain,
                    seed=(base * 1_000_003 + index) % 2**48,
                    now_ms=now_ms,
                )
                for index in range(count)
            ]
            await repo.bulk_add_vehicles(session, rows)
        return count

    async def direct_connect(
        self,
        application_id: str,
        *,
        mode: grants.Mode,
        email: str,
        permissions: list[str] | None,
        vehicle_ids: list[str] | None,
        external_id: str | None,
    ) -> DirectConnection:
        """Store what an owner approving ``permissions`` (default: all) for ``vehicle_ids``
        (default: all they have in that mode) would store, without the Connect pages."""
        now_ms = await self.clocks.now_ms(application_id)
        async with self.sessions() as session, session.begin():
            await self._locked(session, application_id)
            user, connections = await grants.direct_connect(
                session,
                application_id=application_id,
                mode=mode,
                email=email,
                permissions=permissions,
                vehicle_ids=vehicle_ids,
                external_id=external_id,
                now_ms=now_ms,
            )
            return DirectConnection(
                user.id,
                tuple((c.vehicle_id, c.id, tuple(c.permissions)) for c in connections),
            )
