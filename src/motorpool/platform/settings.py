"""Typed platform settings, read from the environment (prefix ``MOTORPOOL_``) and validated at start."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
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
    #: A password for the dashboard's sign-in, besides the admin token (unset: the token only).
    dashboard_password: str | None = Field(default=None, min_length=8)
    #: How many of each application's latest API requests the request log keeps (per process).
    request_log_size: int = Field(default=1000, ge=1, le=100_000)
    #: Seconds a cached client record is trusted before it is read again from the database;
    #: local changes invalidate the cache at once, this bounds staleness across processes.
    client_cache_ttl: float = Field(default=2.0, ge=0)
    token_ttl: int = Field(default=3600, ge=60, le=86400)
    #: Seconds a user token (from a Connect code or a refresh token) lasts; Smartcar's is 2 hours.
    user_token_ttl: int = Field(default=7200, ge=60, le=86400)
    #: Seconds every vehicle read is delayed, to imitate slow real vehicles.
    vehicle_latency: float = Field(default=0.0, ge=0, le=60)
    redis_url: str | None = None
    #: Seconds between polls of the change counter and the revocations: the fallback for when
    #: a process cannot listen for other processes' announcements (LISTEN/NOTIFY or Redis).
    poll_interval: float = Field(default=1.0, gt=0, le=3600)
    #: Server processes ``motorpool serve`` runs on one port (more than one needs PostgreSQL).
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    #: Where motorpool keeps files of its own: the local CA and the certificates of TLS mode,
    #: and the key-encryption key when none is given (the folder is owner-only).
    data_dir: Path = Path(".motorpool")
    #: Seals the token signing keys in the database (any random string of 32 characters or
    #: more); without it a key file in ``data_dir`` is made and used. Every process of one
    #: database needs the same one.
    key_encryption_key: SecretStr | None = Field(default=None, min_length=32)
    #: Serve HTTPS, with a certificate the local CA in ``data_dir`` signs (made on first use).
    tls: bool = False
    #: Serve HTTPS with this certificate (PEM, with its chain) and key instead; implies ``tls``.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: Also run the CONNECT proxy for Smartcar's host names on this port (``motorpool serve``
    #: and ``up`` refuse it without TLS: it tunnels to the TLS listener).
    proxy_port: int | None = Field(default=None, ge=0, le=65535)
    #: The interface the proxy listens on: loopback, so that it serves this machine only.
    proxy_host: str = "127.0.0.1"
    #: Run the webhook delivery worker and monitor inside this process (``motorpool worker``
    #: runs more of them beside it).
    webhook_worker: bool = True
    #: Seconds a worker holds the events it took; one that dies lets them go after this.
    webhook_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    #: Seconds between passes over the outbox when nothing wakes the worker.
    webhook_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    #: Seconds a callback has to answer (Smartcar's: 15).
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    #: Connections at once to one callback host.
    webhook_connections_per_host: int = Field(default=64, ge=1, le=1000)
    #: Hours settled webhook events and their delivery log are kept.
    webhook_retention_hours: float = Field(default=168.0, gt=0, le=24 * 366)
    #: Delivery-log entries kept per webhook at most (the oldest go first).
    webhook_log_per_webhook: int = Field(default=10_000, ge=10, le=10_000_000)

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

    @model_validator(mode="after")
    def _tls_files_together(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both, or neither")
        if self.tls_cert is not None:
            self.tls = True
        return self

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def origin(self) -> str:
        """The public origin: ``public_url``, or ``http://host:port`` (``https://`` in TLS mode,
        without the port when it is 443)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.tls:
            return f"https://{host}" if self.port == 443 else f"https://{host}:{self.port}"
        return f"http://{host}:{self.port}"
