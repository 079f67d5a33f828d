"""Typed platform settings, read from the environment (prefix ``MOTORPOOL_``) and validated at start."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_REDIRECT_URI = "http://localhost:8000/exchange"


class Settings(BaseSettings):
    """Everything the platform needs to start. Build one with ``Settings()`` or pass values."""

    model_config = SettingsConfigDict(env_prefix="MOTORPOOL_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=4000, ge=0, le=65535)
    database_url: str = "sqlite+aiosqlite:///./motorpool.db"
    #: The origin clients use to reach this server; it is the token issuer. Defaults to host:port.
    public_url: str | None = None
    #: Where first start writes the development credentials (merged into an existing file).
    env_file: Path | None = Path(".env")
    #: Create the development application, fleet and owners on an empty database.
    bootstrap: bool = True
    #: Print the development credentials on first start.
    print_credentials: bool = True
    #: The admin token; generated and stored (hashed) on first start when unset.
    admin_token: str | None = None
    #: Seconds a cached client record is trusted before it is read again from the database;
    #: local changes invalidate the cache at once, this bounds staleness across processes.
    client_cache_ttl: float = Field(default=2.0, ge=0)
    token_ttl: int = Field(default=3600, ge=60, le=86400)
    #: Seconds a user token (from a Connect code or a refresh token) lasts; Smartcar's is 2 hours.
    user_token_ttl: int = Field(default=7200, ge=60, le=86400)
    #: Seconds every vehicle read is delayed, to imitate slow real vehicles.
    vehicle_latency: float = Field(default=0.0, ge=0, le=60)
    redis_url: str | None = None
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # Accept the plain URLs people paste and pick the async driver the platform uses.
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if value.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("database_url must be a SQLite or PostgreSQL URL")
        return value

    @property
    def origin(self) -> str:
        """The public origin: ``public_url`` or ``http://host:port``."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"
