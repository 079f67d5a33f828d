"""SQLAlchemy models: the platform's persistent state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # SQLAlchemy reads this class attribute as it is; it is never mutated.
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: DateTime(timezone=True)}  # noqa: RUF012


class InstanceSecret(Base):
    """Keys generated at first start (HMAC pepper, form-signing key, admin token hash)."""

    __tablename__ = "instance_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CacheGeneration(Base):
    """A counter bumped whenever connections, users or vehicles change; every process polls it
    to drop stale read caches."""

    __tablename__ = "cache_generations"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Application(Base):
    __tablename__ = "applications"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    redirect_uris: Mapped[list[str]] = mapped_column(default=list)
    #: Application management token (AMT): it authenticates the v2 management API and is the
    #: HMAC key that signs webhook deliveries, so the platform needs it in clear (unlike client
    #: secrets, kept only as hashes); it can be read and rotated through the admin API.
    management_token: Mapped[str] = mapped_column(String(128))
    #: The simulation clock (``sim.clock.Clock.to_dict``); None runs on real time.
    clock: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: Vehicle API rate limits (``services.limits.RateLimit.to_dict``); None: no limits.
    rate_limit: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: What Connect asks for when a link has no ``scope`` (Smartcar's dashboard "Vehicle
    #: Access"); None: every permission of the catalogue.
    connect_permissions: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    secrets: Mapped[list[ClientSecret]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ClientSecret.created_at"
    )


class ClientSecret(Base):
    __tablename__ = "client_secrets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    #: Hex HMAC-SHA-256 of the secret under the instance pepper; the secret itself is never kept.
    secret_hash: Mapped[str] = mapped_column(String(64))
    #: The last four characters, so an operator can tell secrets apart.
    hint: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    application: Mapped[Application] = relationship(back_populates="secrets")


class Owner(Base):
    """A vehicle owner's account, checked by live-mode Connect."""

    __tablename__ = "owners"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Vehicle(Base):
    __tablename__ = "vehicles"
    # The fleet table's keyset pages, filters and model search; migrations 0010 and 0011 also
    # index the state record's activity, offline time and asleep time and the lower-cased
    # nickname (expressions per dialect, see store.fleet_queries).
    __table_args__ = (
        Index("ix_vehicles_fleet_page", "application_id", "id"),
        Index("ix_vehicles_fleet_model", "application_id", "model", "id"),
        Index("ix_vehicles_fleet_vin", "application_id", "vin"),
        Index("ix_vehicles_fleet_make", "application_id", "mode", "make", "id"),
        Index("ix_vehicles_fleet_powertrain", "application_id", "powertrain", "id"),
        # The admin listing's keyset pages (migration 0012).
        Index("ix_vehicles_fleet_listing", "application_id", "mode", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    vin: Mapped[str] = mapped_column(String(17), index=True)
    make: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(80))
    year: Mapped[int] = mapped_column(Integer)
    powertrain: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(16))
    #: Simulated vehicles belong to one application's fleet (indexed as the first column of
    #: the fleet's indexes above).
    application_id: Mapped[str | None] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), default=None
    )
    #: Live vehicles belong to an owner account.
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("owners.id", ondelete="CASCADE"), index=True, default=None
    )
    #: Test-mode vehicles are derived from the login e-mail; this key finds them again.
    test_key: Mapped[str | None] = mapped_column(String(400), unique=True, default=None)
    #: Permissions this vehicle is able to grant (None: every permission).
    capabilities: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    nickname: Mapped[str] = mapped_column(String(100), default="")
    seed: Mapped[int] = mapped_column(BigInteger)
    #: The simulation's state record (see motorpool.platform.sim).
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Bumped on every state change, so caches can tell a stale copy.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """One per application and owner: the ``user_id`` an application sends as ``sc-user-id``."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("application_id", "subject"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    #: Who logged in: ``live:<owner id>`` or ``<mode>:<e-mail>``.
    subject: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Connection(Base):
    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("user_id", "vehicle_id"),
        # Pages are ordered (created_at, id) newest first, within an application and often
        # within one of its users: these walk in that order, so that a far page reads the
        # index rather than sorting the application's whole list.
        Index("ix_connections_app_created_id", "application_id", "created_at", "id"),
        Index("ix_connections_app_user_created_id", "application_id", "user_id", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    # Indexed as the first column of the (user_id, vehicle_id) unique constraint.
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    vehicle_id: Mapped[str] = mapped_column(
        ForeignKey("vehicles.id", ondelete="CASCADE"), index=True
    )
    permissions: Mapped[list[str]] = mapped_column(default=list)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None, index=True)
    mode: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    vehicle: Mapped[Vehicle] = relationship(lazy="joined")


class AuthorizationCode(Base):
    __tablename__ = "authorization_codes"
    #: SHA-256 of the code; the code itself is only ever in the redirect.
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[list[str]] = mapped_column(default=list)
    vehicle_ids: Mapped[list[str]] = mapped_column(default=list)
    code_challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class SigningKey(Base):
    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefreshToken(Base):
    """A user's refresh token (RFC 6749 §6): kept as a hash, one row per token issued. Every token
    issued from one Connect code shares its ``family``, so a replayed code can revoke them all."""

    __tablename__ = "refresh_tokens"
    #: SHA-256 of the token; the token itself is only ever in the token endpoint's answer.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[list[str]] = mapped_column(default=list)
    #: The hash of the Connect code the chain of tokens started from.
    family: Mapped[str] = mapped_column(String(64), index=True)
    #: The ``jti`` of the access token issued with this refresh token.
    access_jti: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class RevokedToken(Base):
    __tablename__ = "revoked_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class CommandExecution(Base):
    """A command or charge-schedule change sent to a vehicle, readable again by its id.

    Times are the application's simulated epoch milliseconds; a ``PENDING`` execution completes
    at ``due_ms`` (its outcome is decided by the vehicle's state then)."""

    __tablename__ = "command_executions"
    __table_args__ = (Index("ix_command_executions_vehicle", "vehicle_id", "id"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    #: The wire ``attributes`` of the answer (commandType or action/scheduleType, parameters, …).
    attributes: Mapped[dict[str, Any]] = mapped_column()
    executed_ms: Mapped[int] = mapped_column(BigInteger)
    due_ms: Mapped[int] = mapped_column(BigInteger)
    completed_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Webhook(Base):
    """An application's webhook: where events go (``callback_uri``), when (``triggers``) and
    with what (``data``), as Smartcar's dashboard configures one."""

    __tablename__ = "webhooks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    callback_uri: Mapped[str] = mapped_column(Text)
    error_callback_uri: Mapped[str | None] = mapped_column(Text, default=None)
    #: Signal codes whose reported change sends a VEHICLE_STATE event.
    triggers: Mapped[list[str]] = mapped_column(default=list)
    #: Signal codes every VEHICLE_STATE event carries.
    data: Mapped[list[str]] = mapped_column(default=list)
    auto_subscribe: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: When the callback last answered a VERIFY challenge correctly; None: it receives nothing.
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Why the last VERIFY failed, for the operator.
    verify_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookSubscription(Base):
    """A vehicle subscribed to a webhook, with what the monitor last saw of it: the trigger
    signals' values and the errors it reported, and when (on the application's clock) the vehicle
    next reports."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        UniqueConstraint("webhook_id", "vehicle_id"),
        Index("ix_webhook_subscriptions_due", "next_check_ms"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    application_id: Mapped[str] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    vehicle_id: Mapped[str] = mapped_column(
        ForeignKey("vehicles.id", ondelete="CASCADE"), index=True
    )
    #: A FIRST_DELIVERY is owed (after subscribing, re-subscribing or re-enabling).
    first_due: Mapped[bool] = mapped_column(Boolean, default=True)
    #: trigger code -> the value last reported; None before the first evaluation.
    last_values: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: "TYPE:CODE" -> the signal codes of an error condition now open (VEHICLE_ERROR sent).
    open_errors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The report instant (application clock, epoch ms) last evaluated, and the vehicle's
    #: state version then: a new version (a command, an admin edit) is a new report.
    checked_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    vehicle_version: Mapped[int] = mapped_column(Integer, default=0)
    next_check_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEvent(Base):
    """The outbox: one row per event, written in the transaction that caused it and delivered
    at least once by the workers. ``id`` is the wire ``eventId``, stable across retries."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_due", "status", "due_ms"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[str] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    vehicle_id: Mapped[str | None] = mapped_column(String(36), default=None)
    event_type: Mapped[str] = mapped_column(String(32))
    #: The envelope without the per-attempt members (``deliveryId``, ``deliveredAt``).
    payload: Mapped[dict[str, Any]] = mapped_column()
    #: pending, delivered, failed or cancelled (the webhook was disabled first).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the next attempt is due, on the application's clock (epoch ms).
    due_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    #: A worker holds the event until then (real time); a worker killed mid-delivery lets go.
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    #: The claim holding the lease: a worker settles only the events it still holds.
    claim: Mapped[str | None] = mapped_column(String(36), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One delivery attempt, as sent and as answered: the delivery log. ``id`` is the wire
    ``deliveryId``, new per attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_webhook", "webhook_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    request_body: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
class ConnectFlowUse(Base):
    """What the server remembers of a Connect flow (whose state otherwise travels in its signed
    forms): failed sign-ins on it, and whether its consent was already given, so that a form
    posted again cannot guess on or mint a second code. Forgotten after ``expires_at``."""

    __tablename__ = "connect_flow_uses"
    flow_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    spent_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class DashboardSession(Base):
    """A signed-in dashboard session, keyed by a hash of the nonce its cookie carries (the cookie
    alone opens nothing once its row is gone: signing out deletes it)."""

    __tablename__ = "dashboard_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SignInFailure(Base):
    """One failed live-mode sign-in for an e-mail (known or not); recent ones pause sign-in."""

    __tablename__ = "sign_in_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: SHA-256 of the normalised e-mail: the table tells nobody which addresses were tried.
    email_key: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[datetime] = mapped_column(index=True)
