"""The platform's running state: the engine, the caches and the services built on them."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..settings import Settings
from ..store import db, repo
from .access import AccessCache, VehicleGate
from .admin import AdminService
from .bootstrap import FirstStart, bootstrap_if_empty
from .clocks import ClockBook
from .commands import CommandService
from .compatibility import CompatibilityService
from .connections import ConnectionService
from .failures import FailureService
from .health import Health, log_background_failure
from .inspection import VehicleInspector
from .invalidation import Invalidation
from .keys import SigningKeys, key_encryption_key, load_keys, opener
from .limits import RateLimiter, RedisBuckets
from .management import ManagementService
from .oauth import ClientRegistry, OAuthService, SecretHasher, TokenService
from .scenarios import ScenarioLoader
from .signals import SignalService
from .state import StateControl
from .steering import Steering
from .v2 import VehicleApiV2
from .webhook_delivery import DeliveryWorker, Monitor, Sender
from .webhooks import WebhookService

log = logging.getLogger("motorpool")

#: Seconds a shutdown hook may take (webhook sends in flight finish within their own 15 s).
SHUTDOWN_HOOK_S = 30.0
#: Seconds the cancelled background tasks get to end.
TASK_STOP_S = 5.0


@dataclass
class Platform:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    hasher: SecretHasher
    tokens: TokenService
    clients: ClientRegistry
    oauth: OAuthService
    admin: AdminService
    form_signer: URLSafeTimedSerializer
    admin_token_hash: str
    access: AccessCache
    gate: VehicleGate
    connections: ConnectionService
    signals: SignalService
    clocks: ClockBook
    commands: CommandService
    steering: Steering
    #: Simulated failures: a broken connected-services account, failing signals.
    failures: FailureService
    #: A vehicle as the control plane sees it.
    inspector: VehicleInspector
    limits: RateLimiter
    management: ManagementService
    compatibility: CompatibilityService
    #: The Vehicle API v2.0, over the services above.
    v2: VehicleApiV2
    #: Webhooks: configuration and subscriptions, the outbox's worker, the monitor of
    #: subscribed vehicles.
    webhooks: WebhookService
    deliveries: DeliveryWorker
    monitor: Monitor
    #: Listing and rotating the token signing keys.
    keys: SigningKeys
    #: Reset and snapshots of the whole state.
    state: StateControl
    #: Declarative scenarios, applied through the services above.
    scenarios: ScenarioLoader
    #: How other processes' changes reach this one (announcements, polling as the fallback).
    invalidation: Invalidation
    #: Readiness for load balancers.
    health: Health
    #: What first start created, for printing; None on later starts.
    first_start: FirstStart | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    #: Run first by ``close``, newest first, while the database is still open: background work
    #: that must finish or hand back what it holds (webhook deliveries) registers here.
    shutdown_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def admin_token_valid(self, token: str) -> bool:
        return hmac.compare_digest(self.hasher.hash(token), self.admin_token_hash)

    async def start_background(self) -> None:
        self.invalidation.start()
        self._tasks.append(asyncio.create_task(self._flush_loop()))
        await self.invalidation.started()
        if self.settings.webhook_worker:
            self.start_webhooks()

    def start_webhooks(self) -> None:
        """Run the delivery worker and the monitor in this process."""
        self._tasks.append(asyncio.create_task(self.monitor.run()))
        self._tasks.append(asyncio.create_task(self.deliveries.run()))

        async def finish_deliveries() -> None:
            # Sends in flight finish (or are handed back) before the tasks are cancelled.
            await self.deliveries.stop()

        self.shutdown_hooks.append(finish_deliveries)

    async def _flush_loop(self) -> None:
        last_poll = time.monotonic()
        while True:
            await asyncio.sleep(min(1.0, self.settings.poll_interval))
            try:
                await self.clients.flush_usage()
                # Announcements make changes instant; polling remains for when they cannot
                # arrive (no listener, or one reconnecting), at the configured interval.
                if time.monotonic() - last_poll >= self.settings.poll_interval:
                    last_poll = time.monotonic()
                    await self.invalidation.poll()
                    await self.keys.refresh()
            except Exception as error:  # noqa: BLE001 (logged) the loop must outlive a transient database error
                log_background_failure(log, "background flush failed", error)

    async def close(self) -> None:
        # Each step is bounded: a stop must end even when a hook or a background task does not.
        for hook in reversed(self.shutdown_hooks):
            try:
                await asyncio.wait_for(hook(), SHUTDOWN_HOOK_S)
            except Exception:
                log.exception("shutdown hook failed")
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=TASK_STOP_S)
            if pending:
                log.warning("%d background task(s) did not stop within %s s", len(pending), TASK_STOP_S)
        with contextlib.suppress(Exception):
            await self.clients.flush_usage()
        with contextlib.suppress(Exception):
            await self.limits.close()
        with contextlib.suppress(Exception):
            await self.webhooks.sender.close()
        await self.invalidation.close()
        await self.engine.dispose()


async def _instance_secret(session: AsyncSession, name: str, default: str) -> str:
    value = await repo.get_instance_secret(session, name)
    if value is None:
        value = default
        await repo.put_instance_secret(session, name, value)
    return value


async def start_platform(settings: Settings) -> Platform:
    """Connect, migrate, load keys and caches, and bootstrap an empty database."""
    engine = db.create_engine(settings.database_url)
    await db.upgrade(engine)
    access = AccessCache()
    invalidation = Invalidation(engine, settings.redis_url)
    sessions = db.session_factory(engine, on_change=access.changed_here, publish=invalidation.publish)
    access.sessions = sessions
    clocks = ClockBook(sessions)
    access.listeners.append(clocks.invalidate)
    limits = RateLimiter(sessions, RedisBuckets(settings.redis_url) if settings.redis_url else None)
    access.listeners.append(limits.invalidate)
    generated_admin_token: str | None = None
    fernet = key_encryption_key(settings)
    async with sessions() as session, session.begin():
        # Made once per database: a process starting beside another waits for its secrets.
        await db.take_first_start_lock(session)
        pepper = await _instance_secret(session, "secret_pepper", secrets.token_hex(32))
        form_key = await _instance_secret(session, "form_key", secrets.token_hex(32))
        hasher = SecretHasher(bytes.fromhex(pepper))
        if settings.admin_token:
            admin_hash = hasher.hash(settings.admin_token)
        else:
            admin_hash_stored = await repo.get_instance_secret(session, "admin_token_hash")
            if admin_hash_stored is None:
                generated_admin_token = "adm_" + secrets.token_urlsafe(32)
                admin_hash_stored = hasher.hash(generated_admin_token)
                await repo.put_instance_secret(session, "admin_token_hash", admin_hash_stored)
            admin_hash = admin_hash_stored
        keys = await load_keys(session, fernet)
        await repo.prune_revocations(session, datetime.now(UTC))
        revoked = set(await repo.live_revocations(session, datetime.now(UTC)))

    tokens = TokenService(
        keys,
        issuer=settings.origin,
        ttl=settings.token_ttl,
        revoked=revoked,
        user_ttl=settings.user_token_ttl,
        unseal=opener(fernet),
    )
    clients = ClientRegistry(sessions=sessions, hasher=hasher, ttl=settings.client_cache_ttl)
    gate = VehicleGate(tokens, clients, limits, access, settings.vehicle_latency, settings.origin)
    commands = CommandService(sessions, clocks, settings.origin)
    admin = AdminService(sessions=sessions, hasher=hasher, clients=clients, clocks=clocks)
    connections = ConnectionService(sessions, gate)
    signals = SignalService(settings.origin, gate, clocks)
    sender = Sender(settings.webhook_timeout_seconds, settings.webhook_connections_per_host)
    deliveries = DeliveryWorker(
        sessions, clocks, sender, settings.webhook_lease_seconds, settings.webhook_poll_seconds,
        retention_hours=settings.webhook_retention_hours,
        log_per_webhook=settings.webhook_log_per_webhook,
    )  # fmt: skip
    monitor = Monitor(
        sessions, clocks, on_events=deliveries.wake, poll_s=settings.webhook_poll_seconds,
        origin=settings.origin,
    )
    webhooks = WebhookService(
        sessions, sender, on_events=deliveries.wake, on_subscriptions=monitor.wake
    )
    monitor.on_access_change = webhooks.auto_subscribe_new
    access.listeners.append(monitor.access_changed)
    steering = Steering(commands)
    failures = FailureService(sessions, commands, settings.origin)

    def forget() -> None:
        clients.invalidate()
        signals.forget()
    platform = Platform(
        settings=settings,
        engine=engine,
        sessions=sessions,
        hasher=hasher,
        tokens=tokens,
        clients=clients,
        oauth=OAuthService(sessions=sessions, clients=clients, tokens=tokens),
        admin=admin,
        form_signer=URLSafeTimedSerializer(form_key, salt="motorpool-connect"),
        admin_token_hash=admin_hash,
        access=access,
        gate=gate,
        connections=connections,
        signals=signals,
        clocks=clocks,
        commands=commands,
        steering=steering,
        failures=failures,
        inspector=VehicleInspector(sessions, clocks, signals),
        limits=limits,
        management=ManagementService(sessions, connections),
        compatibility=CompatibilityService(clients),
        v2=VehicleApiV2(gate, signals, commands, connections, clocks),
        webhooks=webhooks,
        deliveries=deliveries,
        monitor=monitor,
        keys=SigningKeys(sessions, tokens, fernet),
        state=StateControl(sessions, admin, settings, forget),
        scenarios=ScenarioLoader(admin, clocks, steering, failures),
        invalidation=invalidation,
        health=Health(sessions, limits, invalidation),
    )
    invalidation.attach(access, clients, tokens, sessions)
    invalidation.keys = platform.keys  # a rotation elsewhere is loaded when it is announced
    await access.poll()
    if settings.bootstrap:
        platform.first_start = await bootstrap_if_empty(
            sessions, admin, settings, generated_admin_token
        )
    return platform
