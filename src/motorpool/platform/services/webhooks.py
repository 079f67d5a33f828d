"""Webhooks: their configuration (the admin API and the CLI, since Smartcar's is dashboard-only),
VERIFY, subscriptions (the Management API v3 and v2's per-vehicle calls), test events, the
delivery log and redelivery. Deliveries themselves are :mod:`.webhook_delivery`'s."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import ApiError, AuthenticationError, NotFound, ValidationFailed
from ..sim.signals import SIGNALS
from ..store import repo
from ..store import webhook_repo as hooks_repo
from ..store.models import Webhook, WebhookDelivery, WebhookEvent, WebhookSubscription
from ..store.webhook_repo import SubscriptionFilter, WebhookFilter
from .params import parse_uuid
from .webhook_delivery import Sender, real_ms
from .webhook_events import Hook, Subject, for_attempt, state_event, verify_event

#: The filters of the listings, for the routes (which reach the store only through services).
__all__ = [
    "AlreadySubscribed", "DeliveryRecord", "Page", "SubscriptionFilter", "SubscriptionRecord",
    "WebhookConfig", "WebhookFilter", "WebhookRecord", "WebhookService", "validate",
]  # fmt: skip


class AlreadySubscribed(ApiError):
    status = 409
    type = "VALIDATION"
    code = "ALREADY_SUBSCRIBED"
    suggested_user_message = "This vehicle is already subscribed to this webhook."


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """A webhook's settings as given (None: unchanged, on update)."""

    name: str | None = None
    callback_uri: str | None = None
    error_callback_uri: str | None = None
    #: Whether ``error_callback_uri`` was given (None clears it on update).
    error_callback_given: bool = False
    triggers: Sequence[str] | None = None
    data: Sequence[str] | None = None
    auto_subscribe: bool | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    id: str
    application_id: str
    name: str
    callback_uri: str
    error_callback_uri: str | None
    triggers: tuple[str, ...]
    data: tuple[str, ...]
    auto_subscribe: bool
    enabled: bool
    verified_at: datetime | None
    verify_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Webhook) -> WebhookRecord:
        return cls(
            id=row.id,
            application_id=row.application_id,
            name=row.name,
            callback_uri=row.callback_uri,
            error_callback_uri=row.error_callback_uri,
            triggers=tuple(row.triggers),
            data=tuple(row.data),
            auto_subscribe=row.auto_subscribe,
            enabled=row.enabled,
            verified_at=repo.aware(row.verified_at),
            verify_error=row.verify_error,
            created_at=repo.aware(row.created_at),
            updated_at=repo.aware(row.updated_at),
        )


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    id: str
    webhook_id: str
    user_id: str
    vehicle_id: str
    make: str
    model: str
    year: int
    mode: str
    powertrain: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: hooks_repo.SubscriptionRow) -> SubscriptionRecord:
        sub, vehicle = row.subscription, row.vehicle
        return cls(
            id=sub.id,
            webhook_id=sub.webhook_id,
            user_id=sub.user_id,
            vehicle_id=sub.vehicle_id,
            make=vehicle.make,
            model=vehicle.model,
            year=vehicle.year,
            mode=vehicle.mode,
            powertrain=vehicle.powertrain,
            created_at=repo.aware(sub.created_at),
            updated_at=repo.aware(sub.updated_at),
        )


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: str
    event_id: str
    event_type: str
    event_status: str
    attempt: int
    url: str
    request_body: str
    status_code: int | None
    latency_ms: int
    error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    total: int


def _check_uri(value: str, name: str, problems: list[ApiError]) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(
            ValidationFailed(
                f"{name} must be an absolute http:// or https:// URL, not {value!r}.",
                source={"pointer": f"/{name}"},
            )
        )


def _check_codes(codes: Sequence[str], name: str, problems: list[ApiError]) -> list[str]:
    unknown = [code for code in codes if code not in SIGNALS]
    if unknown:
        problems.append(
            ValidationFailed(
                f"Unknown signal code(s) in {name}: {', '.join(unknown)}. Codes are "
                "lower(group)-lower(name), e.g. tractionbattery-stateofcharge.",
                source={"pointer": f"/{name}"},
            )
        )
    return list(dict.fromkeys(codes))


def validate(config: WebhookConfig, *, creating: bool) -> None:
    problems: list[ApiError] = []
    named = creating or config.name is not None
    if named and (not config.name or not config.name.strip() or len(config.name) > 200):
        problems.append(ValidationFailed("name must be 1 to 200 characters.", source={"pointer": "/name"}))
    if creating and config.callback_uri is None:
        problems.append(ValidationFailed("callbackUri is required.", source={"pointer": "/callbackUri"}))
    if config.callback_uri is not None:
        _check_uri(config.callback_uri, "callbackUri", problems)
    if config.error_callback_uri:
        _check_uri(config.error_callback_uri, "errorCallbackUri", problems)
    if config.triggers is not None:
        _check_codes(config.triggers, "triggers", problems)
    if config.data is not None:
        _check_codes(config.data, "data", problems)
    if problems:
        first, *rest = problems
        first.extra_errors = rest
        raise first


@dataclass
class WebhookService:
    sessions: async_sessionmaker[AsyncSession]
    sender: Sender
    #: Called when events were written (wakes this process's worker) and when subscriptions
    #: changed (wakes the monitor).
    on_events: Callable[[], None] = field(default=lambda: None)
    on_subscriptions: Callable[[], None] = field(default=lambda: None)

    # --- configuration ----------------------------------------------------------------------

    async def create(self, application_id: str, config: WebhookConfig) -> WebhookRecord:
        validate(config, creating=True)
        assert config.name is not None and config.callback_uri is not None
        async with self.sessions() as session, session.begin():
            if await repo.get_application(session, application_id) is None:
                raise NotFound(f"No application with id '{application_id}'.")
            row = await hooks_repo.add_webhook(
                session,
                Webhook(
                    application_id=application_id,
                    name=config.name.strip(),
                    callback_uri=config.callback_uri,
                    error_callback_uri=config.error_callback_uri or None,
                    triggers=list(dict.fromkeys(config.triggers or ())),
                    data=list(dict.fromkeys(config.data or ())),
                    auto_subscribe=bool(config.auto_subscribe),
                    enabled=True if config.enabled is None else config.enabled,
                ),
            )
            webhook_id = row.id
            if row.auto_subscribe:
                await self._auto_subscribe(session, row)
        return await self.verify(application_id, webhook_id)

    async def update(self, application_id: str, webhook_id: str, config: WebhookConfig) -> WebhookRecord:
        validate(config, creating=False)
        reverify = False
        async with self.sessions() as session, session.begin():
            row = await self._webhook(session, application_id, webhook_id)
            if config.name is not None:
                row.name = config.name.strip()
            if config.callback_uri is not None and config.callback_uri != row.callback_uri:
                row.callback_uri = config.callback_uri
                row.verified_at = None
                reverify = True
            if config.error_callback_given:
                row.error_callback_uri = config.error_callback_uri or None
            if config.triggers is not None:
                row.triggers = list(dict.fromkeys(config.triggers))
            if config.data is not None:
                row.data = list(dict.fromkeys(config.data))
            if config.auto_subscribe is not None:
                turned_on = config.auto_subscribe and not row.auto_subscribe
                row.auto_subscribe = config.auto_subscribe
                if turned_on:
                    await self._auto_subscribe(session, row)
            if config.enabled is not None and config.enabled != row.enabled:
                row.enabled = config.enabled
                if config.enabled:
                    # Re-enabling owes every subscribed vehicle a FIRST_DELIVERY.
                    await hooks_repo.owe_first_delivery(session, row.id)
                else:
                    # Disabled: monitoring and deliveries stop, nothing stays queued.
                    await hooks_repo.cancel_pending(session, row.id)
            row.updated_at = datetime.now(UTC)
            record = WebhookRecord.of(row)
        self.on_subscriptions()
        if reverify:
            return await self.verify(application_id, webhook_id)
        return record

    async def delete(self, application_id: str, webhook_id: str) -> None:
        async with self.sessions() as session, session.begin():
            row = await self._webhook(session, application_id, webhook_id)
            await hooks_repo.delete_webhook(session, row)

    async def get(self, application_id: str, webhook_id: str) -> WebhookRecord:
        async with self.sessions() as session:
            return WebhookRecord.of(await self._webhook(session, application_id, webhook_id))

    async def list_webhooks(
        self, application_id: str, filters: WebhookFilter, offset: int, limit: int
    ) -> Page:
        async with self.sessions() as session:
            rows, total = await hooks_repo.page_webhooks(session, application_id, filters, offset, limit)
            return Page([WebhookRecord.of(row) for row in rows], total)

    async def counts(self, webhook_id: str) -> dict[str, int]:
        async with self.sessions() as session:
            return await hooks_repo.count_events(session, webhook_id)

    async def owner(self, webhook_id: str) -> str:
        """The application a webhook belongs to (the admin API names webhooks by id alone)."""
        async with self.sessions() as session:
            return (await self._webhook(session, None, webhook_id)).application_id

    @staticmethod
    async def _webhook(session: AsyncSession, application_id: str | None, webhook_id: str) -> Webhook:
        parse_uuid(webhook_id, "webhookId", parameter="webhookId")
        row = await hooks_repo.get_webhook(session, application_id, webhook_id)
        if row is None:
            raise NotFound(f"No webhook with id '{webhook_id}'.")
        return row

    # --- VERIFY -----------------------------------------------------------------------------

    async def verify(self, application_id: str, webhook_id: str) -> WebhookRecord:
        """Send a VERIFY challenge; the webhook is verified when the callback answers 200 with
        ``{"challenge": hex HMAC-SHA256(AMT, challenge)}`` within the time limit. Unverified
        webhooks receive nothing. The attempt is in the delivery log like any other."""
        async with self.sessions() as session:
            row = await self._webhook(session, application_id, webhook_id)
            app = await repo.get_application(session, application_id)
            assert app is not None
            token, url, name = app.management_token, row.callback_uri, row.name
        challenge = secrets.token_hex(16)
        payload = verify_event(webhook_id, name, challenge)
        delivery_id = _new_id()
        body = for_attempt(payload, delivery_id, real_ms())
        answer = await self.sender.post(url, body, token)
        expected = hmac.new(token.encode(), challenge.encode(), "sha256").hexdigest()
        error = answer.error
        if error is None:
            error = _challenge_error(answer.status, answer.body, expected)
        async with self.sessions() as session, session.begin():
            row = await self._webhook(session, application_id, webhook_id)
            was_verified = row.verified_at is not None
            row.verified_at = datetime.now(UTC) if error is None else None
            row.verify_error = error
            await hooks_repo.add_events(
                session,
                [
                    WebhookEvent(
                        id=payload["eventId"], application_id=application_id, webhook_id=webhook_id,
                        event_type="VERIFY", payload=payload,
                        status="delivered" if error is None else "failed", attempts=1,
                    )
                ],
            )  # fmt: skip
            session.add(
                WebhookDelivery(
                    id=delivery_id, event_id=payload["eventId"], webhook_id=webhook_id, attempt=1,
                    url=url, request_body=body.decode(), status_code=answer.status,
                    latency_ms=answer.latency_ms, error=error,
                )
            )  # fmt: skip
            if error is None and not was_verified:
                # Vehicles subscribed while it was unverified get their FIRST_DELIVERY now.
                await hooks_repo.owe_first_delivery(session, webhook_id)
            record = WebhookRecord.of(row)
        self.on_subscriptions()
        return record

    async def application_of_management_token(self, authorization: str | None) -> str:
        """The application whose management token is the bearer (v2's unsubscribe)."""
        scheme, _, token = (authorization or "").partition(" ")
        application_id = None
        if scheme.lower() == "bearer" and token.strip():
            async with self.sessions() as session:
                application_id = await repo.get_application_id_by_management_token(session, token.strip())
        if application_id is None:
            raise AuthenticationError("The application management token is not valid.", code=None)
        return application_id

    # --- subscriptions ----------------------------------------------------------------------

    async def subscribe(
        self, application_id: str, webhook_id: str, user_id: str | None, vehicle_id: str
    ) -> SubscriptionRecord:
        """Subscribe a vehicle: 404 when the webhook is not the application's or the user has
        no connection to the vehicle, 409 when it is subscribed already. Without ``user_id``
        the vehicle's (latest) connection to the application decides the user."""
        parse_uuid(vehicle_id, "vehicleId", parameter="vehicleId")
        if user_id is not None:
            parse_uuid(user_id, "userId", parameter="userId")
        async with self.sessions() as session, session.begin():
            webhook = await self._webhook(session, application_id, webhook_id)
            if user_id is None:
                connections = await repo.connections_for_vehicle(session, application_id, vehicle_id)
                connection = connections[0] if connections else None
            else:
                connection = await repo.find_connection(session, application_id, user_id, vehicle_id)
            if connection is None:
                raise NotFound(
                    f"User '{user_id}' has no connection to vehicle '{vehicle_id}'."
                    if user_id
                    else f"No vehicle with id '{vehicle_id}' is connected to this application."
                )
            if await hooks_repo.find_subscription(session, webhook.id, vehicle_id) is not None:
                raise AlreadySubscribed(f"Vehicle '{vehicle_id}' is already subscribed to webhook '{webhook.id}'.")
            subscription = WebhookSubscription(
                webhook_id=webhook.id, application_id=application_id,
                user_id=connection.user_id, vehicle_id=vehicle_id, open_errors={},
            )  # fmt: skip
            await hooks_repo.add_subscription(session, subscription)
            found = await hooks_repo.get_subscription(session, application_id, subscription.id)
            assert found is not None
            record = SubscriptionRecord.of(found)
        self.on_subscriptions()
        return record

    async def unsubscribe(self, application_id: str, subscription_id: str) -> None:
        parse_uuid(subscription_id, "subscriptionId", parameter="subscriptionId")
        async with self.sessions() as session, session.begin():
            found = await hooks_repo.get_subscription(session, application_id, subscription_id)
            if found is None:
                raise NotFound(f"No subscription with id '{subscription_id}'.")
            await hooks_repo.delete_subscription(session, found.subscription)

    async def unsubscribe_vehicle(self, application_id: str, webhook_id: str, vehicle_id: str) -> None:
        parse_uuid(vehicle_id, "vehicleId", parameter="vehicleId")
        async with self.sessions() as session, session.begin():
            webhook = await self._webhook(session, application_id, webhook_id)
            found = await hooks_repo.find_subscription(session, webhook.id, vehicle_id)
            if found is None:
                raise NotFound(f"Vehicle '{vehicle_id}' is not subscribed to webhook '{webhook_id}'.")
            await hooks_repo.delete_subscription(session, found)

    async def get_subscription(self, application_id: str, subscription_id: str) -> SubscriptionRecord:
        parse_uuid(subscription_id, "subscriptionId", parameter="subscriptionId")
        async with self.sessions() as session:
            found = await hooks_repo.get_subscription(session, application_id, subscription_id)
        if found is None:
            raise NotFound(f"No subscription with id '{subscription_id}'.")
        return SubscriptionRecord.of(found)

    async def list_subscriptions(
        self, application_id: str, filters: SubscriptionFilter, offset: int, limit: int
    ) -> Page:
        async with self.sessions() as session:
            if filters.webhook_id:
                await self._webhook(session, application_id, filters.webhook_id)
            rows, total = await hooks_repo.page_subscriptions(session, application_id, filters, offset, limit)
        return Page([SubscriptionRecord.of(row) for row in rows], total)

    async def _auto_subscribe(self, session: AsyncSession, webhook: Webhook) -> int:
        """Subscribe every connected vehicle but simulated ones (Smartcar's auto-subscribe)."""
        added = 0
        for connection in await hooks_repo.connections_to_auto_subscribe(session, webhook.application_id):
            if await hooks_repo.find_subscription(session, webhook.id, connection.vehicle_id) is None:
                await hooks_repo.add_subscription(
                    session,
                    WebhookSubscription(
                        webhook_id=webhook.id, application_id=webhook.application_id,
                        user_id=connection.user_id, vehicle_id=connection.vehicle_id, open_errors={},
                    ),
                )  # fmt: skip
                added += 1
        return added

    async def auto_subscribe_new(self) -> int:
        """After connections changed: drop the subscriptions of connections that are gone, and
        subscribe connections made since to every auto-subscribing webhook."""
        added = 0
        async with self.sessions() as session, session.begin():
            await hooks_repo.drop_disconnected_subscriptions(session)
            for webhook in await hooks_repo.auto_subscribe_webhooks(session):
                added += await self._auto_subscribe(session, webhook)
        if added:
            self.on_subscriptions()
        return added

    # --- test events, the log, redelivery ---------------------------------------------------

    async def send_test(self, application_id: str, webhook_id: str) -> str:
        """Queue a ``meta.mode: "TEST"`` VEHICLE_STATE, as the dashboard's test button does:
        about the first subscribed vehicle when there is one, else a sample vehicle. Returns
        its eventId."""
        async with self.sessions() as session, session.begin():
            row = await self._webhook(session, application_id, webhook_id)
            _require_receiving(row)
            hook = Hook(row.id, row.name, tuple(row.triggers), tuple(row.data))
            rows, _ = await hooks_repo.page_subscriptions(
                session, application_id, SubscriptionFilter(webhook_id=webhook_id), 0, 1
            )
            if rows:
                vehicle = rows[0].vehicle
                subject = Subject(
                    rows[0].subscription.user_id, vehicle.id, vehicle.make, vehicle.model,
                    vehicle.year, vehicle.mode, vehicle.powertrain, frozenset(),
                )  # fmt: skip
            else:
                subject = Subject(
                    "00000000-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000001",
                    "TESLA", "Model 3", 2024, "simulated", "BEV", frozenset(),
                )  # fmt: skip
            payload = state_event(hook, subject, {}, real_ms(), ["FIRST_DELIVERY"], mode="TEST")
            await hooks_repo.add_events(
                session,
                [
                    WebhookEvent(
                        id=payload["eventId"], application_id=application_id, webhook_id=row.id,
                        vehicle_id=subject.vehicle_id, event_type="VEHICLE_STATE", payload=payload,
                    )
                ],
            )  # fmt: skip
        self.on_events()
        return str(payload["eventId"])

    async def deliveries(
        self, application_id: str, webhook_id: str, after: datetime | None, limit: int
    ) -> list[DeliveryRecord]:
        async with self.sessions() as session:
            await self._webhook(session, application_id, webhook_id)
            rows = await hooks_repo.list_deliveries(session, webhook_id, after, limit)
        return [
            DeliveryRecord(
                id=d.id, event_id=d.event_id, event_type=event_type, event_status=status,
                attempt=d.attempt, url=d.url, request_body=d.request_body,
                status_code=d.status_code, latency_ms=d.latency_ms, error=d.error,
                created_at=repo.aware(d.created_at),
            )
            for d, event_type, status in rows
        ]

    async def redeliver(self, application_id: str | None, event_id: str) -> None:
        """Send an event again, now, with its original eventId."""
        parse_uuid(event_id, "eventId", parameter="eventId")
        async with self.sessions() as session, session.begin():
            event = await hooks_repo.get_event(session, application_id, event_id)
            if event is None or event.event_type == "VERIFY":
                raise NotFound(f"No event with id '{event_id}' to redeliver.")
            _require_receiving(await self._webhook(session, application_id, event.webhook_id))
            await hooks_repo.requeue_event(session, event.id)
        self.on_events()


def _require_receiving(webhook: Webhook) -> None:
    """Unverified or disabled webhooks receive nothing: say so rather than queue in vain."""
    if not webhook.enabled:
        raise ValidationFailed(f"Webhook '{webhook.id}' is disabled; enable it first.", code="WEBHOOK_DISABLED")
    if webhook.verified_at is None:
        raise ValidationFailed(
            f"Webhook '{webhook.id}' is not verified ({webhook.verify_error or 'no VERIFY answered yet'}); "
            "verify it first.",
            code="WEBHOOK_NOT_VERIFIED",
        )


def _new_id() -> str:
    import uuid

    return str(uuid.uuid4())


def _challenge_error(status: int | None, body: bytes, expected: str) -> str | None:
    if status != 200:
        return f"the callback answered {status}, not 200"
    try:
        answer: Any = json.loads(body)
    except ValueError:
        return "the callback's answer is not JSON"
    got = answer.get("challenge") if isinstance(answer, Mapping) else None
    if not isinstance(got, str) or not hmac.compare_digest(got.lower(), expected):
        return 'the callback did not answer {"challenge": hex HMAC-SHA256(AMT, challenge)}'
    return None
