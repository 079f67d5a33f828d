"""Operator rules: applications, redirect URIs, client secrets, owner accounts and vehicles."""

from __future__ import annotations

import random
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import ApiError, NotFound, ValidationFailed
from ..sim import catalogue
from ..sim.signals import permissions_for
from ..sim.testmode import make_vin
from ..sim.vehicle import new_vehicle_state
from ..store import repo
from ..store.models import Application, ClientSecret, Owner, Vehicle
from .oauth import ClientRegistry, SecretHasher, new_client_id, new_client_secret

MAX_LIVE_SECRETS = 3
MAX_FLEET_BATCH = 200_000
POWERTRAINS = ("BEV", "PHEV", "HEV", "ICE")
MODES = ("live", "simulated", "test")
_passwords = PasswordHasher()


class Conflict(ApiError):
    status = 409
    type = "VALIDATION"
    code = "BAD_REQUEST"


def validate_redirect_uri(uri: str) -> str:
    """A redirect URI must be absolute http(s) without a fragment (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationFailed(f"Redirect URI '{uri}' must be an absolute http or https URL.")
    if parts.fragment:
        raise ValidationFailed(f"Redirect URI '{uri}' must not contain a fragment.")
    return uri


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _passwords.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class IssuedSecret:
    secret: ClientSecret
    plaintext: str


@dataclass
class AdminService:
    hasher: SecretHasher
    clients: ClientRegistry

    async def create_application(
        self, session: AsyncSession, name: str, redirect_uris: list[str]
    ) -> tuple[Application, IssuedSecret]:
        if not name.strip():
            raise ValidationFailed("An application needs a name.")
        uris = list(dict.fromkeys(validate_redirect_uri(u) for u in redirect_uris))
        app = Application(
            name=name.strip(),
            client_id=new_client_id(),
            redirect_uris=uris,
            management_token=secrets.token_hex(32),
            secrets=[],
        )
        await repo.add_application(session, app)
        issued = await self._new_secret(session, app)
        return app, issued

    async def application(self, session: AsyncSession, application_id: str) -> Application:
        app = await repo.get_application(session, application_id)
        if app is None:
            raise NotFound(f"No application with id '{application_id}'.")
        return app

    async def add_redirect_uri(self, session: AsyncSession, application_id: str, uri: str) -> Application:
        app = await self.application(session, application_id)
        uri = validate_redirect_uri(uri)
        if uri not in app.redirect_uris:
            app.redirect_uris = [*app.redirect_uris, uri]
        self.clients.invalidate(app.client_id, session)
        return app

    async def remove_redirect_uri(self, session: AsyncSession, application_id: str, uri: str) -> Application:
        app = await self.application(session, application_id)
        if uri not in app.redirect_uris:
            raise NotFound(f"'{uri}' is not a registered redirect URI.")
        app.redirect_uris = [u for u in app.redirect_uris if u != uri]
        self.clients.invalidate(app.client_id, session)
        return app

    async def create_secret(self, session: AsyncSession, application_id: str) -> IssuedSecret:
        app = await self.application(session, application_id)
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
        return IssuedSecret(secret=secret, plaintext=plaintext)

    async def revoke_secret(self, session: AsyncSession, application_id: str, secret_id: str) -> ClientSecret:
        app = await self.application(session, application_id)
        secret = await repo.get_secret(session, application_id, secret_id)
        if secret is None:
            raise NotFound(f"No client secret with id '{secret_id}'.")
        if secret.revoked_at is None:
            secret.revoked_at = datetime.now(UTC)
        self.clients.invalidate(app.client_id, session)
        return secret

    async def create_owner(self, session: AsyncSession, email: str, password: str, name: str = "") -> Owner:
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            raise ValidationFailed("An owner needs a valid e-mail address.")
        if len(password) < 8:
            raise ValidationFailed("An owner's password must be at least 8 characters long.")
        if await repo.get_owner_by_email(session, email) is not None:
            raise Conflict(f"An owner with e-mail '{email}' already exists.")
        owner = Owner(email=email, name=name.strip(), password_hash=hash_password(password))
        try:
            return await repo.add_owner(session, owner)
        except IntegrityError:
            raise Conflict(f"An owner with e-mail '{email}' already exists.") from None

    async def create_vehicle(
        self,
        session: AsyncSession,
        *,
        application_id: str | None = None,
        owner_email: str | None = None,
        make: str | None = None,
        model: str | None = None,
        powertrain: str | None = None,
        year: int | None = None,
        vin: str | None = None,
        nickname: str = "",
        seed: int | None = None,
        now_ms: int | None = None,
    ) -> Vehicle:
        """A simulated vehicle in an application's fleet, or a live vehicle of an owner.

        ``now_ms`` is when its simulated life starts (the application's simulated now)."""
        if (application_id is None) == (owner_email is None):
            raise ValidationFailed("Give either an application (simulated fleet) or an owner (live).")
        owner = None
        if owner_email is not None:
            owner = await repo.get_owner_by_email(session, owner_email)
            if owner is None:
                raise NotFound(f"No owner with e-mail '{owner_email}'.")
        else:
            await self.application(session, application_id or "")
        vehicle = self._build_vehicle(
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
            await repo.add_vehicles(session, [vehicle])
        except IntegrityError:
            # A vehicle's id is drawn from its seed, so one seed makes one vehicle.
            raise Conflict(f"A vehicle made from seed {seed} already exists; give another seed.") from None
        return vehicle

    async def create_fleet(
        self,
        session: AsyncSession,
        application_id: str,
        count: int,
        powertrain: str | None = None,
        seed: int | None = None,
        now_ms: int | None = None,
    ) -> int:
        """Add ``count`` simulated vehicles to an application's fleet in one go."""
        await self.application(session, application_id)
        if not 1 <= count <= MAX_FLEET_BATCH:
            raise ValidationFailed(f"count must be from 1 to {MAX_FLEET_BATCH}.")
        base = seed if seed is not None else secrets.randbits(40)
        rows = []
        for index in range(count):
            vehicle = self._build_vehicle(
                application_id=application_id,
                owner_id=None,
                powertrain=powertrain,
                seed=(base * 1_000_003 + index) % 2**48,
                now_ms=now_ms,
            )
            rows.append(vehicle)
        await repo.bulk_add_vehicles(session, rows)
        return count

    def _build_vehicle(
        self,
        *,
        application_id: str | None,
        owner_id: str | None,
        make: str | None = None,
        model: str | None = None,
        powertrain: str | None = None,
        year: int | None = None,
        vin: str | None = None,
        nickname: str = "",
        seed: int | None = None,
        now_ms: int | None = None,
    ) -> Vehicle:
        if powertrain is not None and powertrain.upper() not in POWERTRAINS:
            raise ValidationFailed(f"powertrain must be one of {', '.join(POWERTRAINS)}.")
        seed = seed if seed is not None else secrets.randbits(48)
        rng = random.Random(seed)
        spec = self._pick_spec(rng, make, model, powertrain)
        if year is None:
            year = rng.choice(list(spec.years))
        elif year not in spec.years:
            raise ValidationFailed(
                f"The {spec.make_display} {spec.model} was built in {spec.years[0]}–{spec.years[-1]}."
            )
        if vin is not None:
            vin = vin.strip().upper()
            if len(vin) != 17 or not vin.isalnum():
                raise ValidationFailed("A VIN is 17 letters and digits.")
        return Vehicle(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            vin=vin or make_vin(rng, spec),
            make=spec.make,
            model=spec.model,
            year=year,
            powertrain=spec.powertrain,
            mode="simulated" if application_id else "live",
            application_id=application_id,
            owner_id=owner_id,
            nickname=nickname,
            seed=seed,
            # A simulated car grants what its powertrain can serve (no read_fuel on a BEV).
            capabilities=sorted(permissions_for(spec)),
            state=new_vehicle_state(spec, seed, now_ms or int(time.time() * 1000), year=year),
            version=1,
            created_at=datetime.now(UTC),
        )

    @staticmethod
    def _pick_spec(
        rng: random.Random, make: str | None, model: str | None, powertrain: str | None
    ) -> catalogue.ModelSpec:
        if make and model:
            spec = catalogue.find_model(make, model)
            if spec is None:
                raise ValidationFailed(f"'{make} {model}' is not in the vehicle catalogue.")
            if powertrain and spec.powertrain != powertrain.upper():
                raise ValidationFailed(f"The {spec.model} is a {spec.powertrain}, not a {powertrain}.")
            return spec
        candidates = catalogue.models(powertrain.upper() if powertrain else None)
        if make:
            candidates = [m for m in candidates if m.make == make.upper() or m.make_display.lower() == make.lower()]
        if not candidates:
            raise ValidationFailed("No catalogue model matches that make and powertrain.")
        return rng.choice(candidates)
