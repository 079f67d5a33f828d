"""Repository functions of webhooks: configurations, subscriptions, the event outbox and the
delivery log. Claims take rows with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite, one writer
at a time, ignores it), so several workers never take the same row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from . import repo
from .models import (
    Application,
    Connection,
    Vehicle,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

#: The tables themselves, for statements run once for many rows (executemany).
_EVENTS = cast(Table, WebhookEvent.__table__)
_DELIVERIES = cast(Table, WebhookDelivery.__table__)

# --- webhooks ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookFilter:
    name: str | None = None
    callback_uri: str | None = None
    enabled: bool | None = None
    auto_subscribe: bool | None = None


async def add_webhook(session: AsyncSession, webhook: Webhook) -> Webhook:
    session.add(webhook)
    await session.flush()
    return webhook


async def get_webhook(
    session: AsyncSession, application_id: str | None, webhook_id: str
) -> Webhook | None:
    """The webhook, if it is the application's (any application's for None: the admin API)."""
    found = await session.get(Webhook, webhook_id)
    if found is None or application_id not in (None, found.application_id):
        return None
    return found


async def page_webhooks(
    session: AsyncSession, application_id: str, filters: WebhookFilter, offset: int, limit: int
) -> tuple[Sequence[Webhook], int]:
    query = select(Webhook).where(Webhook.application_id == application_id)
    if filters.name:
        query = query.where(
            func.lower(Webhook.name).contains(filters.name.lower(), autoescape=True)
        )
    if filters.callback_uri:
        query = query.where(
            func.lower(Webhook.callback_uri).contains(filters.callback_uri.lower(), autoescape=True)
        )
    if filters.enabled is not None:
        query = query.where(Webhook.enabled.is_(filters.enabled))
    if filters.auto_subscribe is not None:
        query = query.where(Webhook.auto_subscribe.is_(filters.auto_subscribe))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Webhook.created_at, Webhook.id).offset(offset).limit(limit)
    )
    return rows.all(), total


async def delete_webhook(session: AsyncSession, webhook: Webhook) -> None:
    await session.delete(webhook)


async def auto_subscribe_webhooks(session: AsyncSession) -> Sequence[Webhook]:
    """Every webhook that subscribes new connections by itself."""
    return (await session.scalars(select(Webhook).where(Webhook.auto_subscribe.is_(True)))).all()


# --- subscriptions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    user_id: str | None = None
    webhook_id: str | None = None
    vehicle_id: str | None = None
    vehicle_mode: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    subscription: WebhookSubscription
    vehicle: Vehicle


async def find_subscription(
    session: AsyncSession, webhook_id: str, vehicle_id: str
) -> WebhookSubscription | None:
    rows = await session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.webhook_id == webhook_id,
            WebhookSubscription.vehicle_id == vehicle_id,
        )
    )
    return rows.first()


async def get_subscription(
    session: AsyncSession, application_id: str, subscription_id: str
) -> SubscriptionRow | None:
    row = (
        await session.execute(
            select(WebhookSubscription, Vehicle)
            .join(Vehicle, Vehicle.id == WebhookSubscription.vehicle_id)
            .where(
                WebhookSubscription.application_id == application_id,
                WebhookSubscription.id == subscription_id,
            )
        )
    ).first()
    return None if row is None else SubscriptionRow(row[0], row[1])


async def add_subscription(session: AsyncSession, subscription: WebhookSubscription) -> None:
    session.add(subscription)
    await session.flush()


async def page_subscriptions(
    session: AsyncSession, application_id: str, filters: SubscriptionFilter, offset: int, limit: int
) -> tuple[list[SubscriptionRow], int]:
    query = (
        select(WebhookSubscription, Vehicle)
        .join(Vehicle, Vehicle.id == WebhookSubscription.vehicle_id)
        .where(WebhookSubscription.application_id == application_id)
    )
    if filters.user_id:
        query = query.where(WebhookSubscription.user_id == filters.user_id)
    if filters.webhook_id:
        query = query.where(WebhookSubscription.webhook_id == filters.webhook_id)
    if filters.vehicle_id:
        query = query.where(WebhookSubscription.vehicle_id == filters.vehicle_id)
    if filters.vehicle_mode:
        query = query.where(Vehicle.mode == filters.vehicle_mode)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    result = await session.execute(
        query.order_by(WebhookSubscription.created_at, WebhookSubscription.id)
        .offset(offset)
        .limit(limit)
    )
    return [SubscriptionRow(row[0], row[1]) for row in result], total


async def delete_subscription(session: AsyncSession, subscription: WebhookSubscription) -> None:
    await session.delete(subscription)


async def owe_first_delivery(session: AsyncSession, webhook_id: str) -> None:
    """Every subscription of the webhook gets a FIRST_DELIVERY at its next evaluation."""
    await session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.webhook_id == webhook_id)
        .values(first_due=True, last_values=None, open_errors={}, next_check_ms=0)
    )


async def connections_to_auto_subscribe(
    session: AsyncSession, application_id: str, vehicle_ids: Sequence[str] | None = None
) -> Sequence[Connection]:
    """Connections an auto-subscribing webhook takes: every one but simulated vehicles'."""
    query = select(Connection).where(
        Connection.application_id == application_id, Connection.mode != "simulated"
    )
    if vehicle_ids is not None:
        query = query.where(Connection.vehicle_id.in_(list(vehicle_ids)))
    return (await session.scalars(query)).all()


async def drop_disconnected_subscriptions(session: AsyncSession) -> int:
    """Remove subscriptions whose user no longer has a connection to the vehicle (the vehicle
    was disconnected, or the user removed): a subscription lives as long as its connection."""
    connected = (
        select(Connection.id)
        .where(
            Connection.user_id == WebhookSubscription.user_id,
            Connection.vehicle_id == WebhookSubscription.vehicle_id,
        )
        .exists()
    )
    result = await session.execute(
        delete(WebhookSubscription).where(~connected).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def applications_with_subscriptions(session: AsyncSession) -> list[str]:
    rows = await session.scalars(
        select(WebhookSubscription.application_id)
        .join(Webhook, Webhook.id == WebhookSubscription.webhook_id)
        .where(Webhook.enabled.is_(True), Webhook.verified_at.is_not(None))
        .distinct()
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class DueSubscription:
    """A subscription the monitor evaluates, as plain values (no ORM objects: the monitor
    takes them by the hundred), with its webhook's configuration and its vehicle as the read
    path sees it."""

    id: str
    user_id: str
    first_due: bool
    last_values: dict[str, Any] | None
    open_errors: dict[str, Any] | None
    checked_ms: int
    vehicle_version: int
    webhook_id: str
    webhook_name: str
    triggers: tuple[str, ...]
    data: tuple[str, ...]
    vehicle: repo.AccessRow


@dataclass(frozen=True, slots=True)
class Evaluated:
    """What the monitor saw of one subscription, for :func:`record_evaluations`."""

    subscription_id: str
    last_values: dict[str, Any] | None
    open_errors: dict[str, Any]
    checked_ms: int
    vehicle_version: int
    next_check_ms: int


_SUBSCRIPTIONS = cast(Table, WebhookSubscription.__table__)
_WEBHOOKS = cast(Table, Webhook.__table__)
_VEHICLES = cast(Table, Vehicle.__table__)
_CONNECTIONS = cast(Table, Connection.__table__)
#: What the monitor reads of a due subscription, in the order :func:`_due_subscription` takes it:
#: the subscription's and its webhook's columns, then the vehicle's access row.
_DUE_COLUMNS = (
    _SUBSCRIPTIONS.c.id, _SUBSCRIPTIONS.c.user_id, _SUBSCRIPTIONS.c.first_due,
    _SUBSCRIPTIONS.c.last_values, _SUBSCRIPTIONS.c.open_errors, _SUBSCRIPTIONS.c.checked_ms,
    _SUBSCRIPTIONS.c.vehicle_version, _WEBHOOKS.c.id, _WEBHOOKS.c.name, _WEBHOOKS.c.triggers,
    _WEBHOOKS.c.data, *repo.ACCESS_COLUMNS,
)  # fmt: skip
_ACCESS_START = 11


async def claim_due_subscriptions(
    session: AsyncSession, application_id: str, now_ms: int, limit: int
) -> list[DueSubscription]:
    """Subscriptions of enabled, verified webhooks whose vehicle reported since they were last
    evaluated (a report time passed, or its state changed), locked for this transaction."""
    sub, hook, vehicle, connection = _SUBSCRIPTIONS.c, _WEBHOOKS.c, _VEHICLES.c, _CONNECTIONS.c
    result = await session.execute(
        select(*_DUE_COLUMNS)
        .select_from(_SUBSCRIPTIONS)
        .join(_WEBHOOKS, hook.id == sub.webhook_id)
        .join(_VEHICLES, vehicle.id == sub.vehicle_id)
        .join(
            _CONNECTIONS,
            and_(connection.user_id == sub.user_id, connection.vehicle_id == sub.vehicle_id),
        )
        .where(
            sub.application_id == application_id,
            hook.enabled.is_(True),
            hook.verified_at.is_not(None),
            or_(
                sub.next_check_ms <= now_ms,
                sub.first_due.is_(True),
                vehicle.version != sub.vehicle_version,
            ),
        )
        .order_by(sub.next_check_ms)
        .limit(limit)
        .with_for_update(of=_SUBSCRIPTIONS, skip_locked=True)
    )
    return [_due_subscription(row) for row in result]


def _due_subscription(row: Any) -> DueSubscription:
    return DueSubscription(
        id=row[0], user_id=row[1], first_due=bool(row[2]), last_values=row[3],
        open_errors=row[4], checked_ms=row[5] or 0, vehicle_version=row[6] or 0,
        webhook_id=row[7], webhook_name=row[8], triggers=tuple(row[9] or ()),
        data=tuple(row[10] or ()), vehicle=repo.access_row(row[_ACCESS_START:]),
    )  # fmt: skip


async def record_evaluations(session: AsyncSession, evaluated: Sequence[Evaluated]) -> None:
    """Record what the monitor saw of each subscription in one statement run for all of them
    (executemany), not one ORM flush of each object."""
    if not evaluated:
        return
    sub = _SUBSCRIPTIONS.c
    now = datetime.now(UTC)
    await session.execute(
        update(_SUBSCRIPTIONS)
        .where(sub.id == bindparam("subscription_id"))
        .values(
            first_due=False,
            last_values=bindparam("seen_values"),
            open_errors=bindparam("seen_errors"),
            checked_ms=bindparam("seen_ms"),
            vehicle_version=bindparam("seen_version"),
            next_check_ms=bindparam("next_ms"),
            updated_at=now,
        ),
        [
            {
                "subscription_id": e.subscription_id, "seen_values": e.last_values,
                "seen_errors": e.open_errors, "seen_ms": e.checked_ms,
                "seen_version": e.vehicle_version, "next_ms": e.next_check_ms,
            }
            for e in evaluated
        ],
    )  # fmt: skip


# --- the outbox ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event for the outbox, without the cost of an ORM object (the monitor writes them by
    the thousand)."""

    id: str
    application_id: str
    webhook_id: str
    vehicle_id: str | None
    event_type: str
    payload: dict[str, Any]
    status: str = "pending"
    attempts: int = 0
    due_ms: int = 0


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt for the delivery log (see :class:`NewEvent`)."""

    id: str
    event_id: str
    webhook_id: str
    attempt: int
    url: str
    request_body: str
    status_code: int | None
    latency_ms: int
    error: str | None
    created_at: datetime | None = None


async def add_events(session: AsyncSession, events: Sequence[WebhookEvent | NewEvent]) -> None:
    """Write events to the outbox in one statement (executemany), not one ORM flush each."""
    if not events:
        return
    now = datetime.now(UTC)
    await session.execute(
        insert(_EVENTS),
        [
            {
                "id": event.id,
                "application_id": event.application_id,
                "webhook_id": event.webhook_id,
                "vehicle_id": event.vehicle_id,
                "event_type": event.event_type,
                "payload": event.payload,
                "status": event.status or "pending",
                "attempts": event.attempts or 0,
                "due_ms": event.due_ms or 0,
                "created_at": now,
            }
            for event in events
        ],
    )


async def applications_with_pending_events(session: AsyncSession) -> list[str]:
    rows = await session.scalars(
        select(WebhookEvent.application_id).where(WebhookEvent.status == "pending").distinct()
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class Claimed:
    """An event a worker holds, with what sending it needs."""

    event_id: str
    webhook_id: str
    event_type: str
    payload: dict[str, Any]
    attempts: int
    callback_uri: str
    error_callback_uri: str | None
    management_token: str


async def claim_events(
    session: AsyncSession, application_id: str, now_ms: int, real_now: datetime,
    lease_until: datetime, claim: str, limit: int,
) -> list[Claimed]:  # fmt: skip
    """Take up to ``limit`` due events of an application: pending, due on its clock, held by no
    live worker. They are leased to ``claim`` until ``lease_until``; a worker that dies lets them
    go then. The candidates are locked with ``SKIP LOCKED`` (PostgreSQL) and taken by an update
    that checks again that nobody holds them, so that no two workers take the same event on
    any database.

    Two round trips whatever the batch: the candidates come with their webhook's callbacks and
    signing key (one joined select), and the update hands back the events it took
    (``RETURNING``), as plain rows rather than ORM objects."""
    events = _EVENTS.c
    free = and_(
        events.status == "pending",
        or_(events.lease_until.is_(None), events.lease_until < real_now),
    )
    candidates = (
        await session.execute(
            select(
                events.id,
                Webhook.callback_uri,
                Webhook.error_callback_uri,
                Application.management_token,
            )
            .join(Webhook, Webhook.id == events.webhook_id)
            .join(Application, Application.id == Webhook.application_id)
            .where(
                events.application_id == application_id,
                events.due_ms <= now_ms,
                # A webhook disabled, or whose new callback is not verified yet, receives nothing.
                Webhook.enabled.is_(True),
                Webhook.verified_at.is_not(None),
                free,
            )
            .order_by(events.due_ms, events.created_at)
            .limit(limit)
            .with_for_update(of=_EVENTS, skip_locked=True)
        )
    ).all()
    if not candidates:
        return []
    taken = await session.execute(
        update(_EVENTS)
        .where(events.id.in_([row[0] for row in candidates]), free)
        .values(lease_until=lease_until, claim=claim)
        .returning(events.id, events.webhook_id, events.event_type, events.payload, events.attempts)
    )
    # RETURNING gives rows in no promised order: keep the candidates' (due first).
    by_id = {row[0]: row for row in taken}
    claimed: list[Claimed] = []
    for event_id, callback_uri, error_callback_uri, management_token in candidates:
        row = by_id.get(event_id)
        if row is None:  # another worker took it between the select and the update
            continue
        claimed.append(
            Claimed(
                event_id=event_id,
                webhook_id=row[1],
                event_type=row[2],
                payload=row[3],
                attempts=row[4],
                callback_uri=callback_uri,
                error_callback_uri=error_callback_uri,
                management_token=management_token,
            )
        )
    return claimed


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to, for :func:`record_attempts`."""

    event_id: str
    #: delivered, failed (no retry left) or pending (retried at ``due_ms``)
    status: str
    attempts: int
    due_ms: int
    delivery: WebhookDelivery | Attempt


async def record_attempts(session: AsyncSession, claim: str, outcomes: Sequence[Outcome]) -> None:
    """Log each attempt and settle its event, releasing the lease (an event another worker
    took over meanwhile is left to it; the attempt is logged all the same)."""
    if not outcomes:
        return
    now = datetime.now(UTC)
    await session.execute(
        insert(_DELIVERIES),
        [
            {
                "id": d.id, "event_id": d.event_id, "webhook_id": d.webhook_id, "attempt": d.attempt,
                "url": d.url, "request_body": d.request_body, "status_code": d.status_code,
                "latency_ms": d.latency_ms, "error": d.error, "created_at": d.created_at or now,
            }
            for d in (outcome.delivery for outcome in outcomes)
        ],
    )  # fmt: skip
    # One statement run for every event (executemany), not one round trip each.
    table = _EVENTS.c
    await session.execute(
        update(_EVENTS)
        .where(table.id == bindparam("event_id"), table.claim == claim)
        .values(
            status=bindparam("new_status"),
            attempts=bindparam("new_attempts"),
            due_ms=bindparam("new_due_ms"),
            lease_until=None,
            claim=None,
        ),
        [
            {
                "event_id": o.event_id, "new_status": o.status, "new_attempts": o.attempts,
                "new_due_ms": o.due_ms,
            }
            for o in outcomes
        ],
    )  # fmt: skip


async def release_claims(session: AsyncSession, claims: Sequence[str]) -> int:
    """Hand back the events still leased to ``claims`` (a stopping worker's, not sent): pending
    again, free for any worker at once, with no attempt counted. Returns how many."""
    if not claims:
        return 0
    result = await session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.claim.in_(list(claims)), WebhookEvent.status == "pending")
        .values(lease_until=None, claim=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def cancel_pending(session: AsyncSession, webhook_id: str) -> None:
    await session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.webhook_id == webhook_id, WebhookEvent.status == "pending")
        .values(status="cancelled")
    )


async def get_event(
    session: AsyncSession, application_id: str | None, event_id: str
) -> WebhookEvent | None:
    found = await session.get(WebhookEvent, event_id)
    if found is None or application_id not in (None, found.application_id):
        return None
    return found


async def requeue_event(session: AsyncSession, event_id: str) -> None:
    await session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id)
        .values(status="pending", attempts=0, due_ms=0, lease_until=None, claim=None)
    )


async def count_events(session: AsyncSession, webhook_id: str) -> dict[str, int]:
    rows = await session.execute(
        select(WebhookEvent.status, func.count())
        .where(WebhookEvent.webhook_id == webhook_id)
        .group_by(WebhookEvent.status)
    )
    return {row[0]: int(row[1]) for row in rows}


# --- the delivery log ---------------------------------------------------------------------------


async def prune_log(session: AsyncSession, older_than: datetime, keep_per_webhook: int) -> int:
    """Bound the delivery log: settled events (delivered, failed, cancelled) created before
    ``older_than`` go with their attempts; beyond a webhook's newest ``keep_per_webhook``
    attempts, the older ones go, and so do settled events left without any. Pending events are
    never touched. Returns the number of attempts removed."""
    settled = WebhookEvent.status != "pending"
    table = _DELIVERIES.c
    # Attempts first: a delete of events relies on no cascade (SQLite's needs foreign keys on).
    aged = select(WebhookEvent.id).where(settled, WebhookEvent.created_at < older_than)
    result = await session.execute(
        delete(_DELIVERIES).where(table.event_id.in_(aged)).execution_options(synchronize_session=False)
    )
    removed = int(getattr(result, "rowcount", 0) or 0)
    await session.execute(
        delete(WebhookEvent)
        .where(settled, WebhookEvent.created_at < older_than)
        .execution_options(synchronize_session=False)
    )
    crowded = await session.scalars(
        select(WebhookDelivery.webhook_id)
        .group_by(WebhookDelivery.webhook_id)
        .having(func.count() > keep_per_webhook)
    )
    for webhook_id in crowded.all():
        # The newest attempt to go, in the log's order (time, then id: a batch shares a time).
        first_out = (
            await session.execute(
                select(WebhookDelivery.created_at, WebhookDelivery.id)
                .where(WebhookDelivery.webhook_id == webhook_id)
                .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
                .offset(keep_per_webhook)
                .limit(1)
            )
        ).first()
        if first_out is None:
            continue
        cutoff, cutoff_id = first_out
        result = await session.execute(
            delete(_DELIVERIES)
            .where(
                table.webhook_id == webhook_id,
                or_(
                    table.created_at < cutoff,
                    and_(table.created_at == cutoff, table.id <= cutoff_id),
                ),
            )
            .execution_options(synchronize_session=False)
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
        logged = select(WebhookDelivery.id).where(WebhookDelivery.event_id == WebhookEvent.id).exists()
        await session.execute(
            delete(WebhookEvent)
            .where(
                WebhookEvent.webhook_id == webhook_id,
                settled,
                WebhookEvent.created_at <= cutoff,
                ~logged,
            )
            .execution_options(synchronize_session=False)
        )
    return removed


async def list_deliveries(
    session: AsyncSession, webhook_id: str, after: datetime | None, limit: int
) -> Sequence[tuple[WebhookDelivery, str, str]]:
    """Attempts in the order they were made (after ``after`` when given), with their event's
    id and type."""
    query = (
        select(WebhookDelivery, WebhookEvent.event_type, WebhookEvent.status)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.webhook_id == webhook_id)
    )
    if after is not None:
        query = query.where(WebhookDelivery.created_at > after)
        query = query.order_by(WebhookDelivery.created_at, WebhookDelivery.id).limit(limit)
        rows = (await session.execute(query)).all()
    else:
        query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit)
        rows = list(reversed((await session.execute(query)).all()))
    return [(row[0], row[1], row[2]) for row in rows]
