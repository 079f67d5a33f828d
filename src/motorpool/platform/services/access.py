"""Who may read which vehicle: the connection check of the Vehicle API, cached in memory.

A read needs the caller's connection to the vehicle and the vehicle's state record. Both change
rarely compared with how often they are read, so they are kept in an LRU cache. A commit that
changes connections, users or vehicles empties it at once in this process; other processes see
the change through a counter in the database that each polls about once a second."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, cast

from cachetools import LRUCache
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..errors import (
    AuthenticationError,
    ConnectedServicesAccountError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from ..hostnames import is_smartcar_host, split_host
from ..sim.failures import REAUTHENTICATE_CODES
from ..sim.state import VehicleState
from ..sim.vehicle import report_interval_ms
from ..store import repo
from .limits import RateLimiter
from .oauth import AccessClaims, ClientRegistry, TokenService, authenticate_bearer
from .params import parse_uuid


def report_phase_ms(seed: int, interval_ms: int) -> int:
    """Where in each report interval a vehicle reports. Spread by a multiplicative hash of the
    seed: a fleet seeded in one go has consecutive seeds, and ``seed % interval`` would have the
    whole fleet report within the same second (and every read cache of it expire at once)."""
    return (seed * 2_654_435_761) % interval_ms


@dataclass(frozen=True, slots=True)
class VehicleSummary:
    """What the Vehicle API tells about a connected vehicle."""

    id: str
    make: str
    model: str
    year: int
    mode: str
    powertrain: str


@dataclass(frozen=True, slots=True)
class VehicleAccess:
    """A user's connection to a vehicle, with the vehicle as it is now."""

    application_id: str
    user_id: str
    connection_id: str
    permissions: frozenset[str]
    vehicle_id: str
    vin: str
    make: str
    model: str
    year: int
    powertrain: str
    mode: str
    seed: int
    state: VehicleState
    version: int
    #: The name the owner gave the vehicle, as stored with it: what its nickname signal reports.
    nickname: str
    #: How often the vehicle reports in the state's activity, the offset of its reports (so a
    #: fleet does not report in lockstep), and when the state was written: what the read path
    #: needs to tell which report a read sees, worked out once.
    report_interval_ms: int
    report_phase_ms: int
    state_at_ms: int | None

    def summary(self) -> VehicleSummary:
        return VehicleSummary(
            id=self.vehicle_id,
            make=self.make,
            model=self.model,
            year=self.year,
            mode=self.mode,
            powertrain=self.powertrain,
        )

    @classmethod
    def of(cls, application_id: str, user_id: str, row: repo.AccessRow) -> VehicleAccess:
        state = cast(VehicleState, row.state)  # the JSON column holds a state record
        interval = report_interval_ms(state)
        at = state.get("at")
        return cls(
            application_id=application_id,
            user_id=user_id,
            connection_id=row.connection_id,
            permissions=frozenset(row.permissions),
            vehicle_id=row.vehicle_id,
            vin=row.vin,
            make=row.make,
            model=row.model,
            year=row.year,
            powertrain=row.powertrain,
            mode=row.mode,
            seed=row.seed,
            state=state,
            version=row.version,
            nickname=row.nickname,
            report_interval_ms=interval,
            report_phase_ms=report_phase_ms(row.seed, interval),
            state_at_ms=None if at is None else int(at),
        )


#: At most this many (user, vehicle) pairs are looked up in one query.
_BATCH = 200
_Key = tuple[str, str, str]


class AccessCache:
    """The LRU of access records. Misses that come in while a lookup is running are looked up
    together in the next one (one query per user rather than one per read), so a burst of cold
    reads costs a few round trips to the database, not one each."""

    def __init__(self, size: int = 250_000) -> None:
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        self._size = size
        self._entries: LRUCache[_Key, VehicleAccess] = LRUCache(maxsize=size)
        self.generation = -1
        self.listeners: list[Any] = []
        #: Misses being looked up or waiting for the next lookup, and those not yet sent.
        self._pending: dict[_Key, asyncio.Future[VehicleAccess | None]] = {}
        self._queue: list[_Key] = []
        self._loader: asyncio.Task[None] | None = None
        #: Bumped by every invalidation: a lookup that started before one is not cached.
        self._epoch = 0

    def invalidate(self) -> None:
        self._epoch += 1
        # A new cache rather than clear(), which drops a quarter of a million entries one by one.
        self._entries = LRUCache(maxsize=self._size)
        for listener in self.listeners:
            listener()

    def changed_here(self, generation: int | None) -> None:
        """A commit of this process changed connections, users or vehicles: drop everything, and
        take the counter value it wrote as seen (the next poll need not drop it all again)."""
        if generation is not None and generation > self.generation:
            self.generation = generation
        self.invalidate()

    async def poll(self) -> None:
        """Drop everything when another process changed connections, users or vehicles."""
        assert self.sessions is not None
        async with self.sessions() as session:
            generation = await repo.read_generation(session)
        if generation != self.generation:
            self.generation = generation
            self.invalidate()

    def cached(self, application_id: str, user_id: str, vehicle_id: str) -> VehicleAccess | None:
        """The cached access record, if there is one (no lookup, no checks beyond the cache)."""
        return self._entries.get((application_id, user_id, vehicle_id))

    async def get(self, application_id: str, user_id: str, vehicle_id: str) -> VehicleAccess:
        """The user's access to the vehicle, or NotFound / PermissionDenied."""
        key = (application_id, user_id, vehicle_id)
        try:
            return self._entries[key]  # a hit costs one lookup (``get`` would make two)
        except KeyError:
            pass
        entry = await self._look_up(key)
        if entry is None:
            assert self.sessions is not None
            async with self.sessions() as session:
                await self._explain_refusal(session, application_id, user_id, vehicle_id)
            raise AssertionError("a refusal is always explained")
        return entry

    async def _look_up(self, key: _Key) -> VehicleAccess | None:
        waiter = self._pending.get(key)
        if waiter is None:
            loop = asyncio.get_running_loop()
            waiter = self._pending[key] = loop.create_future()
            self._queue.append(key)
            if self._loader is None:
                self._loader = loop.create_task(self._run_lookups())
        # Shielded: a reader that goes away must not cancel the answer others wait for.
        return await asyncio.shield(waiter)

    async def _run_lookups(self) -> None:
        try:
            while self._queue:
                batch = self._queue[:_BATCH]
                del self._queue[:_BATCH]
                await self._look_up_batch(batch)
        except BaseException as error:
            waiting = list(self._pending.values())
            self._pending.clear()
            self._queue.clear()
            for waiter in waiting:
                if waiter.done():
                    continue
                if isinstance(error, asyncio.CancelledError):
                    waiter.cancel()
                else:
                    waiter.set_exception(error)
            if not isinstance(error, Exception):
                raise
        finally:
            self._loader = None

    async def _look_up_batch(self, batch: list[_Key]) -> None:
        assert self.sessions is not None
        epoch = self._epoch
        by_user: dict[tuple[str, str], list[str]] = {}
        for application_id, user_id, vehicle_id in batch:
            by_user.setdefault((application_id, user_id), []).append(vehicle_id)
        found: dict[_Key, repo.AccessRow] = {}
        # A bare connection: the ORM session's bookkeeping is not needed for a read of columns.
        engine = self.sessions.kw.get("bind")
        async with engine.connect() if engine is not None else self.sessions() as db:
            for (application_id, user_id), vehicle_ids in by_user.items():
                rows = await repo.access_rows(db, application_id, user_id, vehicle_ids)
                for vehicle_id, found_row in rows.items():
                    found[(application_id, user_id, vehicle_id)] = found_row
        keep = epoch == self._epoch
        for key in batch:
            row = found.get(key)
            entry = None if row is None else VehicleAccess.of(key[0], key[1], row)
            if entry is not None and keep:
                self._entries[key] = entry
            waiter = self._pending.pop(key)
            if not waiter.done():
                waiter.set_result(entry)

    @staticmethod
    async def _explain_refusal(
        session: AsyncSession, application_id: str, user_id: str, vehicle_id: str
    ) -> None:
        if await repo.get_user(session, application_id, user_id) is None:
            raise NotFound(f"No user with id '{user_id}'.", code="PATH")
        if await repo.vehicle_connected_to_application(session, application_id, vehicle_id):
            raise PermissionDenied(
                f"User '{user_id}' has no connection to vehicle '{vehicle_id}'.",
                code=None,
            )
        raise NotFound(f"No vehicle with id '{vehicle_id}' is connected to this application.")


@dataclass(frozen=True, slots=True)
class VehicleRequest:
    """Who asks about which vehicle: the credentials of a per-vehicle request, as sent."""

    authorization: str | None
    vehicle_id: str
    user_id: str | None
    #: The origin of the links in the answer (the host the request came on, in zero-change
    #: mode); None for the public origin.
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class VehicleGate:
    """The checks of every per-vehicle read and command: the bearer token, the vehicle id, the
    ``sc-user-id`` user, the application's rate limits and the user's connection to the vehicle."""

    tokens: TokenService
    clients: ClientRegistry
    limits: RateLimiter
    access: AccessCache
    #: Seconds every vehicle read waits, to imitate slow real vehicles (0: none).
    latency_s: float = 0.0
    #: The public origin (the re-authentication links of a broken account start with it).
    origin: str = ""

    async def authenticate(self, authorization: str | None) -> AccessClaims:
        """The bearer token's claims, once its application is known to exist (a token signed for
        an application that was never made, or is gone, opens nothing)."""
        claims = authenticate_bearer(self.tokens, authorization)
        client = await self.clients.lookup(claims.client_id)
        if client is None or client.application_id != claims.application_id:
            raise AuthenticationError("The access token's application does not exist.")
        return claims

    async def vehicle_latency(self) -> None:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)

    async def admit_application(
        self, authorization: str | None, vehicle_id: str | None = None
    ) -> AccessClaims:
        """The calling application's claims, once its rate limits let the request in."""
        claims = await self.authenticate(authorization)
        await self.limits.admit(claims.application_id, vehicle_id)
        return claims

    async def admit(self, request: VehicleRequest) -> VehicleAccess:
        claims = await self.authenticate(request.authorization)
        vehicle_id = parse_uuid(request.vehicle_id, "vehicleId", parameter="vehicleId")
        user_id = required_user(claims, request.user_id)
        await self.limits.admit(claims.application_id, vehicle_id)
        access = await self.access.get(claims.application_id, user_id, vehicle_id)
        self.check_account(access, request.origin)
        return access

    def check_account(self, access: VehicleAccess, origin: str | None = None) -> None:
        """Refuse a read or a command while the owner's connected-services account is broken
        (a simulated failure): ``CONNECTED_SERVICES_ACCOUNT``, with the link where the owner
        re-authenticates when that is what mends it."""
        failure = access.state.get("account_failure")
        if failure is None:
            return
        code = failure["code"]
        reauthenticate = code in REAUTHENTICATE_CODES
        raise ConnectedServicesAccountError(
            "The vehicle owner's connected-services account needs attention"
            + (": the owner must sign in again through Connect." if reauthenticate else "."),
            code=code,
            resolution="REAUTHENTICATE" if reauthenticate else None,
            url=reauthentication_url(origin or self.origin, access.application_id, access.vehicle_id)
            if reauthenticate else None,
        )  # fmt: skip


def connect_origin(origin: str) -> str:
    """Connect's origin beside ``origin``: ``connect.smartcar.com`` (same scheme and port) when
    the request came on one of Smartcar's names, else the same origin (one origin serves all)."""
    scheme, _, host = origin.partition("://")
    if not host or not is_smartcar_host(host):
        return origin
    port = split_host(host)[1]
    return f"{scheme}://connect.smartcar.com" + ("" if port is None else f":{port}")


def reauthentication_url(origin: str, application_id: str, vehicle_id: str) -> str:
    """The re-authentication link of smartcar-v3.md §3.4, partial as Smartcar gives it: the
    application adds its ``redirect_uri`` and ``state``."""
    return (
        f"{connect_origin(origin)}/oauth/reauthenticate?response_type=vehicle_id"
        f"&application_id={application_id}&vehicle_id={vehicle_id}"
    )


def request_user(claims: AccessClaims, header: str | None) -> str | None:
    """The user a request is about, if it names one: a user token's own user (``sc-user-id`` may
    repeat it, nothing else), or the ``sc-user-id`` header beside an application token."""
    if not header:
        return claims.user_id
    user_id = parse_uuid(header, "sc-user-id", parameter="sc-user-id")
    if claims.user_id is not None and user_id != claims.user_id:
        raise ValidationFailed(
            "The sc-user-id header names another user than the access token's.",
            source={"parameter": "sc-user-id"},
        )
    return user_id


def required_user(claims: AccessClaims, header: str | None) -> str:
    """:func:`request_user`, for the requests about one user's vehicle: an application token
    must name the user in ``sc-user-id``."""
    user_id = request_user(claims, header)
    if user_id is None:
        raise ValidationFailed(
            "The sc-user-id header is required: send the user_id Connect gave your application.",
            code="MISSING_PARAMETER",
            source={"parameter": "sc-user-id"},
        )
    return user_id
