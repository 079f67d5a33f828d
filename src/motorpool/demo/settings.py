"""The demo's settings, read from the environment under the names the tutorial uses.

``SMARTCAR_CLIENT_ID``, ``SMARTCAR_CLIENT_SECRET`` and ``SMARTCAR_REDIRECT_URI`` are the
tutorial's own variables. Where requests go is the SDK's business: ``MOTORPOOL_URL`` points every
surface at one motorpool origin; without it the SDK reads ``SMARTCAR_AUTH_ORIGIN``,
``SMARTCAR_CONNECT_ORIGIN``, ``SMARTCAR_VEHICLE_API_V3_ORIGIN``, … and falls back to the real
service's hosts. So one app runs against motorpool or the real service unchanged.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SCOPE = (
    "read_vehicle_info",
    "read_odometer",
    "read_battery",
    "read_charge",
    "read_fuel",
    "read_location",
    "read_security",
    # The vehicle page's lock, unlock and charge buttons.
    "control_security",
    "control_charge",
)

Mode = Literal["live", "simulated", "test"]


class DemoSettings(BaseSettings):
    """Everything the demo needs. Build one with ``DemoSettings()`` or pass values."""

    # No env file: `.env` belongs to the platform; `motorpool up` reads it and passes values in.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_file=None)

    client_id: str | None = Field(None, validation_alias="SMARTCAR_CLIENT_ID")
    client_secret: str | None = Field(
        None, validation_alias="SMARTCAR_CLIENT_SECRET", repr=False
    )
    redirect_uri: str = Field(
        "http://localhost:8000/exchange",
        validation_alias="SMARTCAR_REDIRECT_URI",
    )
    #: Connect's mode; the tutorial's ``AuthClient(mode='simulated')``.
    mode: Mode = Field(
        "simulated",
        validation_alias=AliasChoices("MOTORPOOL_DEMO_MODE", "SMARTCAR_MODE"),
    )
    #: Permissions asked for on Connect, space- or comma-separated in the environment.
    scope: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_SCOPE, validation_alias="MOTORPOOL_DEMO_SCOPE"
    )
    #: The application management token: ``POST /webhooks`` answers VERIFY and checks
    #: ``SC-Signature`` with it; without it the demo refuses deliveries.
    management_token: str | None = Field(
        None, validation_alias="APPLICATION_MANAGEMENT_TOKEN", repr=False
    )
    #: One origin for every surface (motorpool serves all of them); None lets the SDK decide.
    base_url: str | None = Field(None, validation_alias="MOTORPOOL_URL")
    #: Where browser sessions are kept (SQLite by default, next to where the demo runs).
    database_url: str = Field(
        "sqlite+aiosqlite:///./demo.db",
        validation_alias="MOTORPOOL_DEMO_DATABASE_URL",
    )
    #: Redeem the ``code`` in Connect's redirect (with PKCE) and check it names the same user,
    #: so a hand-typed ``/exchange?user_id=…`` is refused. Turn off for a service whose redirect
    #: carries no code.
    verify_code: bool = Field(True, validation_alias="MOTORPOOL_DEMO_VERIFY_CODE")
    #: Send the session cookie only over HTTPS; turn on when the demo is served over TLS.
    secure_cookies: bool = Field(
        False, validation_alias="MOTORPOOL_DEMO_SECURE_COOKIES"
    )
    #: How long a browser session lasts without a visit, in seconds.
    session_ttl: int = Field(
        7 * 24 * 3600,
        ge=60,
        validation_alias="MOTORPOOL_DEMO_SESSION_TTL",
    )
    #: Seconds the SDK waits for the platform before the page reports it unreachable.
    timeout: float = Field(
        15.0, gt=0, validation_alias="MOTORPOOL_DEMO_TIMEOUT"
    )

    @field_validator("scope", mode="before")
    @classmethod
    def _split_scope(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part for part in value.replace(",", " ").split() if part)
        return value

    @field_validator("base_url", "client_id", "client_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `MOTORPOOL_URL=` in a shell means "not set", not "the empty origin".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # Accept the plain URLs people paste and pick the async driver.
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if value.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        return value
