"""First start: a development application, its simulated fleet and a few live owner accounts.

The client secret, the application management token, the admin token and the owners' password
are generated here, printed once and written to a git-ignored env file; nothing secret is ever
part of the repository."""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..settings import DEFAULT_REDIRECT_URI, Settings
from ..sim import catalogue
from ..store import repo
from ..store.db import take_first_start_lock
from ..store.models import Owner
from .admin import AdminService
from .passwords import hash_password

DEV_FLEET = (("BEV", "Daily driver"), ("PHEV", "Family car"), ("ICE", "Weekend car"))
DEV_OWNERS = (
    ("ada@owners.motorpool.test", "Ada Lovelace", ("BEV", "PHEV")),
    ("grace@owners.motorpool.test", "Grace Hopper", ("ICE",)),
    ("alan@owners.motorpool.test", "Alan Turing", ("BEV", "HEV")),
)
ENV_MARKER = "# written by motorpool on first start"


@dataclass
class FirstStart:
    application_id: str
    client_id: str
    client_secret: str
    redirect_uri: str
    #: The application management token (the v2 management API's credential, the webhooks' key).
    management_token: str
    admin_token: str | None
    owner_password: str
    owners: list[str] = field(default_factory=list)
    env_file: Path | None = None

    def env(self, origin: str) -> dict[str, str]:
        values = {
            "SMARTCAR_CLIENT_ID": self.client_id,
            "SMARTCAR_CLIENT_SECRET": self.client_secret,
            "SMARTCAR_REDIRECT_URI": self.redirect_uri,
            "APPLICATION_MANAGEMENT_TOKEN": self.management_token,
            "MOTORPOOL_URL": origin,
            "MOTORPOOL_APPLICATION_ID": self.application_id,
            "MOTORPOOL_OWNER_PASSWORD": self.owner_password,
        }
        if self.admin_token:
            values["MOTORPOOL_ADMIN_TOKEN"] = self.admin_token
        return values


def development_make() -> str:
    """The make of the development fleet: the first brand of the catalogue that has each of its
    powertrains. Connect in simulated mode offers the fleet's cars of the brand the owner picks
    and lists the fleet's brands first, so the tutorial's first click offers the whole fleet."""
    wanted = {powertrain for powertrain, _ in DEV_FLEET}
    for make in catalogue.makes():
        if wanted <= {m.powertrain for m in catalogue.models_of(make.code)}:
            return make.code
    return catalogue.makes()[0].code


def development_model(make: str, powertrain: str) -> str:
    """A model of ``make`` with ``powertrain``, or its first model when it has none of those."""
    models = catalogue.models_of(make)
    return next((m for m in models if m.powertrain == powertrain), models[0]).model


async def bootstrap_if_empty(
    sessions: async_sessionmaker[AsyncSession],
    admin: AdminService,
    settings: Settings,
    admin_token: str | None,
) -> FirstStart | None:
    """On an empty database: the development application, its fleet and the owners."""
    async with sessions() as session, session.begin():
        # Processes starting on one empty database at once: one makes the first start, the
        # others wait for it and find an application.
        await take_first_start_lock(session)
        if await repo.count_applications(session):
            return None
        app, issued = await admin.create_application(
            "Development application", [DEFAULT_REDIRECT_URI], session=session
        )
        make = development_make()
        for powertrain, nickname in DEV_FLEET:
            model = development_model(make, powertrain)
            await admin.create_vehicle(
                application_id=app.id, make=make, model=model, nickname=nickname, session=session
            )
        password = secrets.token_urlsafe(12)
        first = FirstStart(
            application_id=app.id,
            client_id=app.client_id,
            client_secret=issued.plaintext,
            redirect_uri=DEFAULT_REDIRECT_URI,
            management_token=app.management_token,
            admin_token=admin_token,
            owner_password=password,
        )
        for email, name, powertrains in DEV_OWNERS:
            # A hash (and so a salt) of its own for each owner, although they share the
            # password: one stolen hash then says nothing about the others.
            password_hash = hash_password(password)
            await repo.add_owner(session, Owner(email=email, name=name, password_hash=password_hash))
            for powertrain in powertrains:
                await admin.create_vehicle(owner_email=email, powertrain=powertrain, session=session)
            first.owners.append(email)
    if settings.env_file is not None:
        first.env_file = write_env_file(settings.env_file, first.env(settings.origin))
    if settings.print_credentials:
        print_first_start(first, settings.origin)
    return first


def write_env_file(path: Path, values: dict[str, str]) -> Path:
    """Set ``values`` in a dotenv file, keeping every other line a user wrote there.

    A key already in the file is changed where it stands (with its ``export``, if it had one),
    so rewriting a file keeps its layout; keys new to it go below motorpool's marker line."""
    lines: list[str] = []
    pending = dict(values)
    if path.exists():
        for line in path.read_text().splitlines():
            name = line.split("=", 1)[0].strip()
            key = name.removeprefix("export ").strip()
            if "=" in line and key in values:
                if key in pending:
                    prefix = "export " if name.startswith("export ") else ""
                    lines.append(f"{prefix}{key}={pending.pop(key)}")
                continue  # a second line of the same key would override the new value
            lines.append(line)
    if pending:
        if ENV_MARKER not in (line.strip() for line in lines):
            lines.append(ENV_MARKER)
        lines.extend(f"{key}={value}" for key, value in pending.items())
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def print_first_start(first: FirstStart, origin: str) -> None:
    """Say what first start made. The secrets themselves go only to an interactive terminal
    (or when no env file holds them): printed to a pipe they would end up in server logs."""
    out = sys.stderr
    print(file=out)
    print("motorpool: first start — created a development application", file=out)
    print(f"  SMARTCAR_CLIENT_ID={first.client_id}", file=out)
    if first.env_file is not None and not out.isatty():
        print(f"  SMARTCAR_REDIRECT_URI={first.redirect_uri}", file=out)
        print(f"  live-mode owners: {', '.join(first.owners)}", file=out)
        print(f"  the client secret, the tokens and the owners' password: written to {first.env_file}", file=out)
        print(f"  token endpoint:   {origin}/oauth2/token", file=out)
        print(file=out)
        return
    print(f"  SMARTCAR_CLIENT_SECRET={first.client_secret}   (shown once)", file=out)
    print(f"  SMARTCAR_REDIRECT_URI={first.redirect_uri}", file=out)
    print(f"  APPLICATION_MANAGEMENT_TOKEN={first.management_token}", file=out)
    if first.admin_token:
        print(f"  MOTORPOOL_ADMIN_TOKEN={first.admin_token}   (shown once)", file=out)
    print(f"  live-mode owners: {', '.join(first.owners)}", file=out)
    print(f"  their password:   {first.owner_password}", file=out)
    if first.env_file:
        print(f"  written to {first.env_file}", file=out)
    print(f"  token endpoint:   {origin}/oauth2/token", file=out)
    print(file=out)
