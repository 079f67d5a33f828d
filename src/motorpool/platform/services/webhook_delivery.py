"""Webhook deliveries: the outbound client, the delivery worker and the monitor of subscribed
vehicles.

- :class:`Sender` posts one event per request through aiohttp: one pooled session (connections
  reused), a bounded number of connections per callback host, no redirects followed (a 3xx is a
  failed attempt), a 15-second limit.
- :class:`DeliveryWorker` drains the outbox: it leases due events (``FOR UPDATE SKIP LOCKED``
  on PostgreSQL, so several workers never take the same one), sends them, logs each attempt and
  settles the event — delivered, retried at +25/+50/+100 s on the application's clock, or
  failed. An event whose worker died is leased again once its lease runs out. A worker told
  to :meth:`~DeliveryWorker.stop` takes nothing more, lets the sends in flight finish within a
  grace period and hands back (releases the lease of) whatever it could not finish, so that
  another process sends it at once.
- :class:`Monitor` evaluates subscribed vehicles at their report times (and when their state
  changes), and writes the events that come of it in the same transaction that records what it
  saw. Only subscriptions are visited, never the fleet."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..sim import catalogue
from ..sim.failures import REAUTHENTICATE_CODES, account_failure, failed_signals
from ..sim.plans import has_due_work, resolve_due
from ..sim.state import Reading
from ..sim.vehicle import COMPATIBILITY_ERROR, read_signal
from ..store import webhook_repo as hooks_repo
from .access import VehicleAccess, reauthentication_url
from .clocks import ClockBook
from .health import log_background_failure
from .signals import SignalService
from .webhook_events import Hook, Subject, evaluate, for_attempt

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger("motorpool.webhooks")

USER_AGENT = "Smartcar/4.0 (motorpool)"
#: Seconds after a failed attempt the next one is due (on the application's clock).
RETRY_DELAYS_MS = (25_000, 50_000, 100_000)
#: Events a worker takes in one claim, and subscriptions the monitor evaluates in one go.
BATCH = 500
#: Reports of one subscription evaluated in one pass at most (a clock stepped by a day).
MAX_REPORTS = 2_000
#: The largest body Smartcar sends (§8.1: 50 KB); a bigger event is recorded as failed, unsent.
MAX_BODY_BYTES = 50 * 1024
#: Real seconds between two prunings of the delivery log by one worker.
PRUNE_EVERY_S = 60.0
#: Real seconds a pass waits for its batch's sends before settling those that answered and
#: moving on: the rest (a slow or dead callback) settle in the background as they end, so
#: one callback that hangs for its 15 s delays neither the others nor the next claim.
SETTLE_AFTER_S = 0.25


def sign(management_token: str, body: bytes) -> str:
    """``SC-Signature``: lowercase hex HMAC-SHA256 of the exact body, keyed with the AMT."""
    # The one-shot digest runs in OpenSSL alone, without the Python HMAC object.
    return hmac.digest(management_token.encode(), body, hashlib.sha256).hex()


def real_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Answer:
    """How a callback answered one POST."""

    status: int | None
    latency_ms: int
    error: str | None
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


#: Callback URLs whose parsed form (and host's turn-taking) a sender keeps at most.
_KNOWN_URLS = 4096


class Sender:
    """The outbound HTTP client of deliveries (aiohttp, created on first use in the loop).

    A request waits for its turn among its host's ``per_host`` first; its time limit runs from
    when it is sent, so that a callback host that is busy with a large batch does not time out
    the requests still waiting for a connection."""

    def __init__(self, timeout_s: float = 15.0, per_host: int = 64) -> None:
        self.timeout_s = timeout_s
        self.per_host = per_host
        self._session: aiohttp.ClientSession | None = None
        #: Each host's turns: at most ``per_host`` requests in flight to it.
        self._turns: dict[str, asyncio.Semaphore] = {}
        #: Each callback URL parsed once (yarl), with its host: batches send to a few URLs.
        self._urls: dict[str, tuple[Any, str]] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            import aiohttp

            connector = aiohttp.TCPConnector(
                limit=0, limit_per_host=self.per_host, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                # Started per request, once it has its host's turn (see ``post``).
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                headers={"User-Agent": USER_AGENT},
                # Deliveries carry no cookies back and forth; a jar would grow with every host.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    def _target(self, url: str) -> tuple[Any, str]:
        """The URL as aiohttp takes it, and its host (ValueError for one it cannot send to)."""
        known = self._urls.get(url)
        if known is None:
            from yarl import URL

            parsed = URL(url)
            if parsed.scheme not in ("http", "https") or not parsed.host:
                raise ValueError(f"{url!r} is not an http(s) URL")
            if len(self._urls) >= _KNOWN_URLS:
                self._urls.clear()
            known = self._urls[url] = (parsed, f"{parsed.scheme}://{parsed.host}:{parsed.port}")
        return known

    def _turns_of(self, host: str) -> asyncio.Semaphore:
        turns = self._turns.get(host)
        if turns is None:
            if len(self._turns) >= _KNOWN_URLS:
                # Forget the hosts nobody is waiting for (a free semaphore holds no state).
                self._turns = {h: t for h, t in self._turns.items() if t.locked()}
            turns = self._turns[host] = asyncio.Semaphore(self.per_host)
        return turns

    async def post(self, url: str, body: bytes, management_token: str) -> Answer:
        headers = {"Content-Type": "application/json", "SC-Signature": sign(management_token, body)}
        try:
            target, host = self._target(url)
        except ValueError as error:
            return Answer(None, 0, f"invalid URL: {error}")
        async with self._turns_of(host):
            return await self._send(target, body, headers)

    async def _send(self, target: Any, body: bytes, headers: dict[str, str]) -> Answer:
        """One request, timed (and limited) from when it is sent."""
        import aiohttp

        started = time.perf_counter()
        try:
            async with self._client().post(
                target, data=body, headers=headers, allow_redirects=False
            ) as response:
                answer = await response.read()
                status = response.status
        except TimeoutError:
            return Answer(None, _since(started), f"no answer within {self.timeout_s:g} s")
        except aiohttp.ClientError as error:
            return Answer(None, _since(started), f"{type(error).__name__}: {error}")
        except ValueError as error:  # a URL aiohttp cannot send to
            return Answer(None, _since(started), f"invalid URL: {error}")
        latency = _since(started)
        if 300 <= status < 400:
            return Answer(status, latency, "redirects are not followed", answer)
        if not 200 <= status < 300:
            return Answer(status, latency, f"answered {status}", answer)
        return Answer(status, latency, None, answer)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


class DeliveryWorker:
    """Drains the outbox of every application."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clocks: ClockBook, sender: Sender,
        lease_s: float = 60.0, poll_s: float = 0.5, *, retention_hours: float = 168.0,
        log_per_webhook: int = 10_000, max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:  # fmt: skip
        self.sessions = sessions
        self.clocks = clocks
        self.sender = sender
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.retention_hours = retention_hours
        self.log_per_webhook = log_per_webhook
        self.max_body_bytes = max_body_bytes
        self._wake = asyncio.Event()
        self._pruned_at = 0.0
        self._stopping = False
        #: Claims taken and not settled yet: what a stop hands back if it cannot finish them.
        self._held: set[str] = set()
        #: The running pass, which a stop waits for (or cancels once its grace is over).
        self._pass: asyncio.Task[bool] | None = None
        #: The claim's transaction in flight (shielded: it commits even when the pass is
        #: cancelled, so a stop waits for it before handing back what it took).
        self._taking: asyncio.Future[list[hooks_repo.Claimed]] | None = None
        #: Sends still in flight after their pass moved on, settled as they end.
        self._stragglers: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._pass = asyncio.create_task(self.drain_once())
            try:
                # Shielded so that cancelling ``run`` leaves the pass to ``stop`` to finish.
                busy = await asyncio.shield(self._pass)
            except Exception as error:  # noqa: BLE001 (logged) a transient database error must not stop deliveries
                log_background_failure(log, "delivery pass failed", error)
                busy = False
            if busy or self._stopping:
                continue
            if time.monotonic() - self._pruned_at >= PRUNE_EVERY_S:
                self._pruned_at = time.monotonic()
                try:
                    await self.prune()
                except Exception as error:  # noqa: BLE001 (logged) pruning again next time is enough
                    log_background_failure(log, "pruning the delivery log failed", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
            self._wake.clear()

    async def prune(self) -> int:
        """Forget settled events older than the retention, and each webhook's log beyond its
        newest ``log_per_webhook`` attempts; the number of attempts forgotten."""
        older_than = datetime.now(UTC) - timedelta(hours=self.retention_hours)

        async def prune() -> int:
            async with self.sessions() as session, session.begin():
                return await hooks_repo.prune_log(session, older_than, self.log_per_webhook)

        return await asyncio.shield(prune())

    async def stop(self, grace_s: float | None = None) -> int:
        """Take no more events; let the sends in flight finish within ``grace_s`` (by default
        the callbacks' own time limit and a little more); then release what is still held, so
        that another worker sends it at once rather than when the lease runs out. Returns how
        many events were handed back."""
        self._stopping = True
        self._wake.set()
        grace = self.sender.timeout_s + 5.0 if grace_s is None else grace_s
        deadline = time.monotonic() + grace
        running = self._pass
        if running is not None and not running.done():
            done, _ = await asyncio.wait({running}, timeout=grace)
            if not done:
                running.cancel()
                with contextlib.suppress(BaseException):
                    await running
        if self._stragglers:
            left = max(0.0, deadline - time.monotonic())
            _, late = await asyncio.wait(set(self._stragglers), timeout=left)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(BaseException):
                    await task
        if self._taking is not None and not self._taking.done():
            with contextlib.suppress(Exception):
                await self._taking
        if not self._held:
            return 0
        held = sorted(self._held)

        async def release() -> int:
            async with self.sessions() as session, session.begin():
                return await hooks_repo.release_claims(session, held)

        released = await asyncio.shield(release())
        self._held.clear()
        if released:
            log.warning("handed back %d webhook event(s) not sent before stopping", released)
        return released

    async def drain_once(self) -> bool:
        """One pass over every application's due events; True when a full batch was taken."""
        async with self.sessions() as session:
            applications = await hooks_repo.applications_with_pending_events(session)
        busy = False
        for application_id in applications:
            if self._stopping:
                break
            taken = await self.deliver_due(application_id)
            busy = busy or taken >= BATCH
        return busy

    async def deliver_due(self, application_id: str) -> int:
        now_ms = await self.clocks.now_ms(application_id)
        real_now = datetime.now(UTC)
        claim = str(uuid.uuid4())

        async def take() -> list[hooks_repo.Claimed]:
            async with self.sessions() as session, session.begin():
                return await hooks_repo.claim_events(
                    session, application_id, now_ms, real_now,
                    real_now + timedelta(seconds=self.lease_s), claim, BATCH,
                )  # fmt: skip

        # Transactions are shielded: stopping the worker must not leave one half-done (on
        # SQLite, a connection cancelled inside a write would hold the lock). Sends are not:
        # an event whose send was cut short is sent again once its lease runs out.
        self._held.add(claim)
        self._taking = asyncio.ensure_future(take())
        claimed = await asyncio.shield(self._taking)
        if not claimed:
            self._held.discard(claim)
            return 0
        sends = [asyncio.create_task(self._attempt(event, now_ms)) for event in claimed]
        try:
            done, late = await asyncio.wait(sends, timeout=SETTLE_AFTER_S)
            if done:
                await self._settle(claim, [send.result() for send in done])
        except BaseException:  # cancelled by a stop: the sends go with the pass
            for send in sends:
                send.cancel()
            raise
        if late:
            straggler = asyncio.create_task(self._settle_late(claim, late))
            self._stragglers.add(straggler)
            straggler.add_done_callback(self._stragglers.discard)
        else:
            self._held.discard(claim)
        return len(claimed)

    async def _settle(self, claim: str, outcomes: list[hooks_repo.Outcome]) -> None:
        async def settle() -> None:
            async with self.sessions() as session, session.begin():
                await hooks_repo.record_attempts(session, claim, outcomes)

        # Shielded like the claim: a stop must not leave the transaction half-done.
        await asyncio.shield(settle())

    async def _settle_late(self, claim: str, sends: set[asyncio.Task[hooks_repo.Outcome]]) -> None:
        """Settle a batch's slow sends as they end: those that end in the same window of
        ``SETTLE_AFTER_S`` in one transaction."""
        pending = set(sends)
        try:
            while pending:
                done, pending = await asyncio.wait(pending, timeout=SETTLE_AFTER_S)
                if done:
                    await self._settle(claim, [send.result() for send in done])
        except BaseException:  # a stop cut them short: their leases are handed back
            for send in pending:
                send.cancel()
            raise
        self._held.discard(claim)

    async def _attempt(self, event: hooks_repo.Claimed, now_ms: int) -> hooks_repo.Outcome:
        delivery_id = str(uuid.uuid4())
        url = event.callback_uri
        if event.event_type == "VEHICLE_ERROR" and event.error_callback_uri:
            url = event.error_callback_uri
        body = for_attempt(event.payload, delivery_id, real_ms())
        attempts = event.attempts + 1
        oversized = len(body) > self.max_body_bytes
        if oversized:
            answer = Answer(None, 0, f"not sent: the body of {len(body):,} bytes exceeds the "
                            f"limit of {self.max_body_bytes:,} (configure fewer data signals)")  # fmt: skip
        else:
            answer = await self.sender.post(url, body, event.management_token)
        if answer.ok:
            status, due = "delivered", now_ms
        elif attempts <= len(RETRY_DELAYS_MS) and not oversized:  # a retry would not shrink it
            status, due = "pending", now_ms + RETRY_DELAYS_MS[attempts - 1]
        else:
            status, due = "failed", now_ms
        return hooks_repo.Outcome(
            event_id=event.event_id,
            status=status,
            attempts=attempts,
            due_ms=due,
            delivery=hooks_repo.Attempt(
                id=delivery_id,
                event_id=event.event_id,
                webhook_id=event.webhook_id,
                attempt=attempts,
                url=url,
                request_body=body.decode(),
                status_code=answer.status,
                latency_ms=answer.latency_ms,
                error=answer.error,
                created_at=datetime.now(UTC),  # when the answer came, not the batch's end
            ),
        )


def report_of(access: VehicleAccess, taken: int, codes: tuple[str, ...]) -> dict[str, Reading]:
    """The webhook's signals as the vehicle reported them at ``taken`` (metric units), the same
    readings the Vehicle API serves: only these codes are computed, not the whole catalogue
    (a tenth of the cost for a webhook of a few signals)."""
    spec = catalogue.find_model(access.make, access.model)
    if spec is None:
        return {code: Reading(None, taken, COMPATIBILITY_ERROR) for code in codes}
    state = access.state
    if has_due_work(state):
        # Commands queued for a sleeping car, and charge schedules, act from their instant on.
        state = resolve_due(spec, access.seed, state, taken)[0]
    return {
        code: read_signal(spec, access.vin, access.seed, state, taken, code, access.nickname)
        for code in codes
    }


def report_times(access: VehicleAccess, after_ms: int, now_ms: int) -> list[int]:
    """The instants the vehicle reported after ``after_ms`` up to ``now_ms``, oldest first (the
    latest one alone when nothing was seen before)."""
    latest = SignalService.snapshot_time(access, now_ms)
    if after_ms <= 0 or latest <= after_ms:
        return [latest]
    interval = access.report_interval_ms
    times = [latest]
    moment = latest - ((latest - access.report_phase_ms) % interval or interval)
    while moment > after_ms and len(times) < MAX_REPORTS:
        times.append(SignalService.snapshot_time(access, moment))
        moment -= interval
    return sorted(set(times))


class Monitor:
    """Evaluates subscribed vehicles when they report and writes the events of what changed."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clocks: ClockBook,
        on_events: Any = None, poll_s: float = 0.5, *, origin: str | None = None,
    ) -> None:  # fmt: skip
        self.sessions = sessions
        self.clocks = clocks
        self.on_events = on_events
        #: The public origin, for the re-authentication link of an account error.
        self.origin = origin
        #: Run before a pass when connections changed (auto-subscribing new ones).
        self.on_access_change: Any = None
        self.poll_s = poll_s
        self._wake = asyncio.Event()
        self._access_changed = True

    def wake(self) -> None:
        self._wake.set()

    def access_changed(self) -> None:
        """Connections, users or vehicles changed: evaluate now (a state change is a report)."""
        self._access_changed = True
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                busy = await self.evaluate_once()
            except Exception as error:  # noqa: BLE001 (logged) the loop must outlive a transient database error
                log_background_failure(log, "webhook monitor pass failed", error)
                busy = False
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)

    async def evaluate_once(self) -> bool:
        if self._access_changed and self.on_access_change is not None:
            self._access_changed = False
            await self.on_access_change()
        async with self.sessions() as session:
            applications = await hooks_repo.applications_with_subscriptions(session)
        busy = False
        written = 0
        for application_id in applications:
            taken, events = await self.evaluate_application(application_id)
            written += events
            busy = busy or taken >= BATCH
        if written and self.on_events is not None:
            self.on_events()
        return busy

    async def evaluate_application(self, application_id: str) -> tuple[int, int]:
        """Evaluate the application's due subscriptions; (subscriptions, events written)."""
        now_ms = await self.clocks.now_ms(application_id)

        async def evaluate() -> tuple[int, int]:
            events: list[hooks_repo.NewEvent] = []
            evaluated: list[hooks_repo.Evaluated] = []
            async with self.sessions() as session, session.begin():
                due = await hooks_repo.claim_due_subscriptions(
                    session, application_id, now_ms, BATCH
                )
                for item in due:
                    seen, found = self._evaluate(application_id, item, now_ms)
                    evaluated.append(seen)
                    events.extend(found)
                await hooks_repo.record_evaluations(session, evaluated)
                if events:
                    await hooks_repo.add_events(session, events)
            return len(due), len(events)

        # Shielded: stopping must not cut a transaction short (see DeliveryWorker.deliver_due).
        return await asyncio.shield(evaluate())

    def _account_context(
        self, access: VehicleAccess
    ) -> tuple[dict[str, tuple[str, str | None]], str | None]:
        """While the owner's account is broken: the failing signals' own errors, which the
        account's error hides from the readings, and the link where the owner signs in again
        (when that is what mends it)."""
        account = account_failure(access.state)
        if account is None:
            return {}, None
        masked = {code: (f["type"], f["code"]) for code, f in failed_signals(access.state).items()}
        link = None
        if self.origin is not None and account["code"] in REAUTHENTICATE_CODES:
            link = reauthentication_url(self.origin, access.application_id, access.vehicle_id)
        return masked, link

    def _evaluate(
        self, application_id: str, due: hooks_repo.DueSubscription, now_ms: int
    ) -> tuple[hooks_repo.Evaluated, list[hooks_repo.NewEvent]]:
        """What one subscription's reports since its last evaluation come to: what to record of
        it, and its events."""
        access = VehicleAccess.of(application_id, due.user_id, due.vehicle)
        hook = Hook(due.webhook_id, due.webhook_name, due.triggers, due.data)
        subject = Subject(
            user_id=due.user_id,
            vehicle_id=access.vehicle_id,
            make=access.make,
            model=access.model,
            year=access.year,
            mode=access.mode,
            powertrain=access.powertrain,
            permissions=access.permissions,
        )
        version_changed = due.vehicle_version != access.version
        after = due.checked_ms
        if version_changed and access.state_at_ms is not None:
            # A new state record is a report of its own, from the instant it was written.
            after = min(after, access.state_at_ms - 1)
        first = due.first_due
        last_values = due.last_values
        open_errors: dict[str, Any] = dict(due.open_errors or {})
        payloads: list[dict[str, Any]] = []
        codes = tuple(dict.fromkeys((*hook.triggers, *hook.data)))
        masked, link = self._account_context(access)
        times = report_times(access, 0 if first else after, now_ms)
        for taken in times:
            readings = report_of(access, taken, codes)
            result = evaluate(
                hook, subject, readings, taken, last_values, open_errors, first,
                masked=masked, reauthenticate_url=link,
            )  # fmt: skip
            payloads.extend(result.events)
            first = False
            last_values, open_errors = result.last_values, result.open_errors
        latest = times[-1]
        seen = hooks_repo.Evaluated(
            subscription_id=due.id,
            last_values=last_values,
            open_errors=open_errors,
            checked_ms=latest,
            vehicle_version=access.version,
            next_check_ms=latest + access.report_interval_ms,
        )
        return seen, [
            hooks_repo.NewEvent(
                id=payload["eventId"],
                application_id=application_id,
                webhook_id=due.webhook_id,
                vehicle_id=access.vehicle_id,
                event_type=payload["eventType"],
                payload=payload,
            )
            for payload in payloads
        ]
