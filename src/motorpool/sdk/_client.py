"""``Client`` and ``AsyncClient``: thin shells that drive the core's flows.

Both clients share their configuration code (:class:`_BaseClient`) and every decision
(:mod:`._core`, :mod:`._calls`); each shell only sends, sleeps and locks in its own way. Their
resources come in twins with the same names and signatures (``Connections`` /
``AsyncConnections``, …).
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from . import _calls as calls
from ._config import (
    DEFAULT_TIMEOUT,
    Origins,
    RetryPolicy,
    Timeout,
    resolve_credential,
    validate_unit_system,
)
from ._core import (
    Call,
    ClientCore,
    FirstAttempt,
    Flow,
    RequestOptions,
    drive,
    drive_async,
    request_flow,
)
from ._errors import ConfigurationError, SmartcarError, TransportError
from ._models import (
    ChargeStatus,
    CommandExecution,
    Connection,
    Deleted,
    FleetResult,
    Fuel,
    Location,
    LockStatus,
    Odometer,
    Range,
    Signal,
    SignalList,
    StateOfCharge,
    Subscription,
    SubscriptionRequest,
    TirePressures,
    Vehicle,
    Webhook,
    charge_status_from,
    fuel_from,
    location_from,
    lock_status_from,
    odometer_from,
    range_from,
    state_of_charge_from,
    tire_pressures_from,
)
from ._pagination import AsyncPager, SyncPage
from ._signals import SINGLE_SIGNAL_VIEWS, typed, typed_from_signal
from ._transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    AiohttpSender,
    AsyncSender,
    SyncSender,
)

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
V = TypeVar("V")

#: Keep-alive connections, and the default number of vehicles a fleet read asks for at once:
#: every request in flight has a kept-alive connection of its own (more would wait in the pool),
#: and 100 stays within one of Smartcar's application buckets (120 requests), so a fleet read
#: never spends a bucket on a single burst. Against vehicles that answer in seconds, the requests
#: in flight are what bounds a fleet read's time.
DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_FLEET_IN_FLIGHT = 100
#: Threads of a sync fleet read: each blocks on one request.
DEFAULT_SYNC_FLEET_IN_FLIGHT = 16

#: The libraries the async client can send through (``http_backend=``).
HTTP_BACKENDS = ("aiohttp", "httpx")

VehicleSelection = Iterable[str] | Mapping[str, str]


def fleet_targets(vehicles: VehicleSelection, user_id: str | None) -> list[tuple[str, str | None]]:
    """(vehicle id, user id) pairs: a mapping gives each vehicle's user, a list uses the view's."""
    if isinstance(vehicles, Mapping):
        return [(str(vehicle), str(user)) for vehicle, user in vehicles.items()]
    if isinstance(vehicles, str):
        raise TypeError("pass a list of vehicle ids (or a {vehicle_id: user_id} mapping), not a string")
    return [(str(vehicle), user_id) for vehicle in vehicles]


def _schedule_location(latitude: float, longitude: float) -> dict[str, float]:
    return {"latitude": latitude, "longitude": longitude}


def _window(start_time: str, stop_time: str) -> dict[str, str]:
    return {"startTime": start_time, "stopTime": stop_time}


class _BaseClient:
    """Configuration shared by both clients: credentials, origins, per-view options."""

    _core: ClientCore
    _options: RequestOptions
    _owner: bool

    def _configure(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        base_url: str | None,
        auth_origin: str | None,
        vehicle_api_origin: str | None,
        management_api_origin: str | None,
        unit_system: str,
        timeout: Timeout | float | None,
        max_retries: int | None,
        retry_policy: RetryPolicy | None,
    ) -> None:
        resolved_id = resolve_credential(client_id, "SMARTCAR_CLIENT_ID")
        resolved_secret = resolve_credential(client_secret, "SMARTCAR_CLIENT_SECRET")
        if not resolved_id or not resolved_secret:
            raise ConfigurationError(
                "client_id and client_secret are required: pass them, or set "
                "SMARTCAR_CLIENT_ID and SMARTCAR_CLIENT_SECRET."
            )
        origins = Origins.resolve(
            base_url=base_url,
            auth_origin=auth_origin,
            vehicle_api_origin=vehicle_api_origin,
            management_api_origin=management_api_origin,
        )
        self._core = ClientCore(client_id=resolved_id, client_secret=resolved_secret, origins=origins)
        policy = retry_policy or RetryPolicy()
        if max_retries is not None:
            policy = policy.with_retries(max_retries)
        self._options = RequestOptions(
            unit_system=validate_unit_system(unit_system), timeout=Timeout.of(timeout), retry=policy
        )
        self._owner = True

    def _copy_with(self, options: RequestOptions) -> Self:
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._options = options
        view._owner = False
        view._bind()
        return view

    def _bind(self) -> None:
        raise NotImplementedError

    def user(self, user_id: str) -> Self:
        """A view of this client whose calls are made for ``user_id`` (the ``sc-user-id`` header).

        The view shares the connection pool and the token; closing the client closes it too.
        """
        if not user_id:
            raise ConfigurationError("user_id must be the user id Connect gave the application")
        return self._copy_with(self._changed(user_id=user_id))

    def with_options(
        self,
        *,
        unit_system: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> Self:
        """A view of this client with other units, timeout or number of retries."""
        return self._copy_with(
            self._changed(unit_system=unit_system, timeout=timeout, max_retries=max_retries)
        )

    def _changed(
        self,
        *,
        user_id: str | None = None,
        unit_system: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> RequestOptions:
        options = self._options
        if user_id is not None:
            options = replace(options, user_id=user_id)
        if unit_system is not None:
            options = replace(options, unit_system=validate_unit_system(unit_system))
        if timeout is not None:
            options = replace(options, timeout=Timeout.of(timeout))
        if max_retries is not None:
            options = replace(options, retry=options.retry.with_retries(max_retries))
        return options

    @property
    def origins(self) -> Origins:
        """Where each surface's requests go."""
        return self._core.origins

    @property
    def client_id(self) -> str:
        """The application's client id."""
        return self._core.client_id

    @property
    def user_id(self) -> str | None:
        """The user this view makes its calls for (sent as ``sc-user-id``), if any."""
        return self._options.user_id

    @property
    def unit_system(self) -> str:
        """``metric`` or ``imperial``: the units signals are answered in."""
        return self._options.unit_system


# =================================================================================================
# Sync
# =================================================================================================


class _SyncResource:
    def __init__(self, client: Client) -> None:
        self._client = client


class Connections(_SyncResource):
    """The vehicles users have connected to the application (``/v3/connections``)."""

    def list(
        self,
        *,
        user_id: str | None = None,
        vehicle_id: str | None = None,
        mode: str | None = None,
        external_id: str | None = None,
        page_size: int | None = None,
    ) -> SyncPage[Connection]:
        """The first page of connections; iterate over it to walk every connection of every page.

        Filters narrow the list to one user, one vehicle, a mode (``live``/``simulated``) or
        the ``external_id`` given to Connect. On a user view, the ``sc-user-id`` header narrows
        it too.
        """
        call = calls.list_connections(
            user_id=user_id, vehicle_id=vehicle_id, mode=mode, external_id=external_id, page_size=page_size
        )
        return SyncPage(self._client._run(call), self._client._run)

    def get(self, connection_id: str) -> Connection:
        """One connection, by its id (motorpool also accepts a connected vehicle's id)."""
        return self._client._run(calls.get_connection(connection_id))

    def delete(self, connection_id: str) -> Deleted:
        """Disconnect: remove the connection (by vehicle id, every connection of that vehicle)."""
        return self._client._run(calls.delete_connection(connection_id))


class Users(_SyncResource):
    """The application's users (``/v3/users``)."""

    def delete(self, user_id: str) -> Deleted:
        """Delete the user and every connection they made."""
        return self._client._run(calls.delete_user(user_id))


class Vehicles(_SyncResource):
    """Connected vehicles (``/v3/vehicles``)."""

    def get(self, vehicle_id: str) -> Vehicle:
        """The vehicle's make, model, year, mode and powertrain."""
        return self._client._run(calls.get_vehicle(vehicle_id))


class Signals(_SyncResource):
    """A vehicle's signals (``/v3/vehicles/{id}/signals``). Needs a user view."""

    def list(self, vehicle_id: str, *, page_size: int | None = None) -> SignalList:
        """Every signal of the vehicle, following pages (of ``page_size`` signals, the server's
        default when None) until the last."""
        signals = self._client._run(calls.list_signals(vehicle_id, page_size=page_size))
        while (following := calls.next_signals_page(vehicle_id, signals)) is not None:
            signals = signals.merged(self._client._run(following))
        return signals

    def get(self, vehicle_id: str, code: str) -> Signal:
        """One signal by code, e.g. ``odometer-traveleddistance``."""
        return self._client._run(calls.get_signal(vehicle_id, code))

    def _view(self, vehicle_id: str, convert: Callable[[SignalList], V]) -> V:
        code = SINGLE_SIGNAL_VIEWS.get(convert)
        if code is not None:
            return typed_from_signal(convert, self.get(vehicle_id, code))  # type: ignore[type-var]
        return typed(convert, self.list(vehicle_id))  # type: ignore[type-var]

    def odometer(self, vehicle_id: str) -> Odometer:
        """Distance travelled."""
        return self._view(vehicle_id, odometer_from)

    def location(self, vehicle_id: str) -> Location:
        """Where the vehicle is."""
        return self._view(vehicle_id, location_from)

    def state_of_charge(self, vehicle_id: str) -> StateOfCharge:
        """Traction battery charge in percent."""
        return self._view(vehicle_id, state_of_charge_from)

    def range(self, vehicle_id: str) -> Range:
        """Remaining electric range."""
        return self._view(vehicle_id, range_from)

    def charge_status(self, vehicle_id: str) -> ChargeStatus:
        """Charging state, plug, active limit and time to complete."""
        return self._view(vehicle_id, charge_status_from)

    def fuel(self, vehicle_id: str) -> Fuel:
        """Fuel level, amount left and range on fuel."""
        return self._view(vehicle_id, fuel_from)

    def tire_pressures(self, vehicle_id: str) -> TirePressures:
        """Pressure of each tyre."""
        return self._view(vehicle_id, tire_pressures_from)

    def lock_status(self, vehicle_id: str) -> LockStatus:
        """Whether the vehicle and its doors are locked."""
        return self._view(vehicle_id, lock_status_from)

    def list_many(
        self,
        vehicles: VehicleSelection,
        *,
        max_in_flight: int = DEFAULT_SYNC_FLEET_IN_FLIGHT,
        page_size: int | None = None,
    ) -> builtins.list[FleetResult]:
        """The signals of many vehicles, ``max_in_flight`` requests at a time (on threads).

        ``vehicles`` is a list of vehicle ids (read for this view's user) or a mapping of
        vehicle id to user id. Answers one :class:`FleetResult` per vehicle, in order; a
        vehicle that failed carries its error instead of raising it. ``page_size`` as in
        :meth:`list`.
        """
        targets = fleet_targets(vehicles, self._client.user_id)
        base = self._client._options

        def read(target: tuple[str, str | None]) -> FleetResult:
            vehicle_id, user_id = target
            options = base if user_id == base.user_id else replace(base, user_id=user_id)
            try:
                response = self._client._run(calls.list_signals_raw(vehicle_id, page_size=page_size), options)
                pages = [response]
                while (following := calls.next_raw_signals_page(vehicle_id, response)) is not None:
                    response = self._client._run(following, options)
                    pages.append(response)
            except SmartcarError as error:
                return FleetResult(vehicle_id, user_id, error=error)
            return calls.fleet_result(vehicle_id, user_id, pages)

        if not targets:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(max_in_flight, len(targets)))) as pool:
            return list(pool.map(read, targets))


class Commands(_SyncResource):
    """Vehicle commands (``/v3/vehicles/{id}/commands/...``). Needs a user view.

    Commands are never retried after the request may have reached the vehicle; a
    ``PENDING`` execution can be read again with :meth:`get_execution`.
    """

    def lock(self, vehicle_id: str) -> CommandExecution:
        """Lock the doors."""
        return self._client._run(calls.command(vehicle_id, "security/lock"))

    def unlock(self, vehicle_id: str) -> CommandExecution:
        """Unlock the doors."""
        return self._client._run(calls.command(vehicle_id, "security/unlock"))

    def start_charge(self, vehicle_id: str) -> CommandExecution:
        """Start charging (the vehicle must be plugged in)."""
        return self._client._run(calls.command(vehicle_id, "charge/start"))

    def stop_charge(self, vehicle_id: str) -> CommandExecution:
        """Stop charging."""
        return self._client._run(calls.command(vehicle_id, "charge/stop"))

    def set_charge_limit(self, vehicle_id: str, percent: int) -> CommandExecution:
        """Set the charge limit, in percent (50–100)."""
        return self._client._run(calls.command(vehicle_id, "charge/set-limit", {"percent": percent}))

    def open_charge_port(self, vehicle_id: str) -> CommandExecution:
        """Open the charge port."""
        return self._client._run(calls.command(vehicle_id, "charge-port/open"))

    def close_charge_port(self, vehicle_id: str) -> CommandExecution:
        """Close the charge port."""
        return self._client._run(calls.command(vehicle_id, "charge-port/close"))

    def set_destination(self, vehicle_id: str, latitude: float, longitude: float) -> CommandExecution:
        """Send a destination to the vehicle's navigation."""
        return self._client._run(
            calls.command(
                vehicle_id, "navigation/set-destination", {"latitude": latitude, "longitude": longitude}
            )
        )

    def get_execution(self, vehicle_id: str, execution_id: str) -> CommandExecution:
        """Read a command execution again (to follow one that was ``PENDING``)."""
        return self._client._run(calls.get_execution(vehicle_id, execution_id))


class ChargeSchedules(_SyncResource):
    """Charge schedules (``/v3/vehicles/{id}/charge-schedules``). Needs a user view.

    Times are ``HH:MM`` local to the vehicle; schedules apply at the given location.
    """

    def set_daily(
        self, vehicle_id: str, *, latitude: float, longitude: float, start_time: str, stop_time: str
    ) -> CommandExecution:
        """Charge every day between ``start_time`` and ``stop_time`` at this location."""
        attributes = {"location": _schedule_location(latitude, longitude), **_window(start_time, stop_time)}
        return self._client._run(calls.create_charge_schedule(vehicle_id, "daily", attributes))

    def set_weekly(
        self,
        vehicle_id: str,
        *,
        latitude: float,
        longitude: float,
        days: Mapping[str, tuple[str, str]],
    ) -> CommandExecution:
        """Charge on the given weekdays (``{"monday": ("08:00", "10:00"), …}``) at this location."""
        attributes = {
            "location": _schedule_location(latitude, longitude),
            "days": {day.lower(): _window(*window) for day, window in days.items()},
        }
        return self._client._run(calls.create_charge_schedule(vehicle_id, "weekly", attributes))

    def set_workweek(
        self,
        vehicle_id: str,
        *,
        latitude: float,
        longitude: float,
        weekdays: tuple[str, str],
        weekends: tuple[str, str] | None = None,
    ) -> CommandExecution:
        """Charge in one window Monday to Friday and, optionally, another at weekends."""
        attributes: dict[str, Any] = {
            "location": _schedule_location(latitude, longitude),
            "weekdays": _window(*weekdays),
        }
        if weekends is not None:
            attributes["weekends"] = _window(*weekends)
        return self._client._run(calls.create_charge_schedule(vehicle_id, "workweek", attributes))

    def delete(self, vehicle_id: str, schedule_id: str) -> CommandExecution | Deleted:
        """Remove a schedule by the ``schedule_id`` its creation answered."""
        return self._client._run(calls.delete_charge_schedule(vehicle_id, schedule_id))


class Webhooks(_SyncResource):
    """The application's webhooks (Management API ``/v3/webhooks``)."""

    def list(
        self,
        *,
        name: str | None = None,
        callback_uri: str | None = None,
        is_enabled: bool | None = None,
        auto_subscribe: bool | None = None,
        page_size: int | None = None,
    ) -> SyncPage[Webhook]:
        """The first page of webhooks; iterate over it for all of them."""
        call = calls.list_webhooks(
            name=name, callback_uri=callback_uri, is_enabled=is_enabled,
            auto_subscribe=auto_subscribe, page_size=page_size,
        )
        return SyncPage(self._client._run(call), self._client._run)

    def get(self, webhook_id: str) -> Webhook:
        """One webhook."""
        return self._client._run(calls.get_webhook(webhook_id))


class Subscriptions(_SyncResource):
    """Vehicles subscribed to webhooks (Management API ``/v3/subscriptions``)."""

    def list(
        self,
        *,
        webhook_id: str | None = None,
        user_id: str | None = None,
        vehicle_id: str | None = None,
        mode: str | None = None,
        page_size: int | None = None,
    ) -> SyncPage[Subscription]:
        """The first page of subscriptions; iterate over it for all of them."""
        call = calls.list_subscriptions(
            webhook_id=webhook_id, user_id=user_id, vehicle_id=vehicle_id, mode=mode, page_size=page_size
        )
        return SyncPage(self._client._run(call), self._client._run)

    def get(self, subscription_id: str) -> Subscription:
        """One subscription."""
        return self._client._run(calls.get_subscription(subscription_id))

    def create(self, webhook_id: str, user_id: str, vehicle_id: str) -> SubscriptionRequest:
        """Subscribe a user's vehicle to a webhook (409 ``VALIDATION`` if it already is)."""
        return self._client._run(calls.create_subscription(webhook_id, user_id, vehicle_id))

    def delete(self, subscription_id: str) -> Deleted:
        """Unsubscribe."""
        return self._client._run(calls.delete_subscription(subscription_id))


class Client(_BaseClient):
    """The synchronous client of the Vehicle and Management APIs.

    Fetches and caches the application token itself (client credentials), retries reads that
    fail transiently, and maps error answers to exceptions. Safe to share between threads.

    Example::

        client = motorpool.Client(base_url="http://127.0.0.1:4000")  # credentials from env
        for connection in client.connections.list(user_id=user_id):
            vehicle = client.vehicles.get(connection.vehicle_id)
            odometer = client.user(user_id).signals.odometer(vehicle.id)

    ``client_id`` and ``client_secret`` default to ``SMARTCAR_CLIENT_ID`` and
    ``SMARTCAR_CLIENT_SECRET``. ``base_url`` points every surface at one origin (motorpool's);
    otherwise each surface uses its argument, its environment variable
    (``SMARTCAR_AUTH_ORIGIN``, ``SMARTCAR_VEHICLE_API_V3_ORIGIN`` or ``SMARTCAR_API_V3_ORIGIN``,
    ``SMARTCAR_MANAGEMENT_API_ORIGIN``), or the real service's host. It sends through an
    ``httpx.Client`` with kept-alive connections (at most ``max_connections``), proxies from the
    environment and certificates from ``SSL_CERT_FILE`` when set; ``transport`` (any
    ``httpx.BaseTransport``, e.g. ``httpx.MockTransport``) or ``http_client`` replaces the
    network layer. An answer larger than ``max_response_bytes`` (once inflated) raises
    :class:`ResponseTooLargeError`; redirects are never followed.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        base_url: str | None = None,
        auth_origin: str | None = None,
        vehicle_api_origin: str | None = None,
        management_api_origin: str | None = None,
        unit_system: str = "metric",
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._configure(
            client_id=client_id,
            client_secret=client_secret,
            base_url=base_url,
            auth_origin=auth_origin,
            vehicle_api_origin=vehicle_api_origin,
            management_api_origin=management_api_origin,
            unit_system=unit_system,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
        )
        from ._httpx import HttpxSender

        self._sender: SyncSender = HttpxSender(
            transport=transport,
            http_client=http_client,
            max_connections=max_connections,
            max_response_bytes=max_response_bytes,
        )
        self._bind()

    def _bind(self) -> None:
        #: Connections: list (all pages), get, delete.
        self.connections = Connections(self)
        #: Users: delete.
        self.users = Users(self)
        #: Vehicles: get.
        self.vehicles = Vehicles(self)
        #: Signals: list, get, typed views, fleet reads (user views only).
        self.signals = Signals(self)
        #: Commands: lock, unlock, charging, charge port, navigation (user views only).
        self.commands = Commands(self)
        #: Charge schedules: daily, weekly, workweek, delete (user views only).
        self.charge_schedules = ChargeSchedules(self)
        #: Management API webhooks: list, get.
        self.webhooks = Webhooks(self)
        #: Management API subscriptions: list, get, create, delete.
        self.subscriptions = Subscriptions(self)

    def access_token(self) -> str:
        """A valid application access token (from the cache, or fetched now)."""
        return self._authorize(None)

    def _authorize(self, rejected: str | None) -> str:
        tokens = self._core.tokens
        token = tokens.usable(rejected)
        if token is not None:
            return token
        with tokens.refresh_lock:
            token = tokens.usable(rejected)
            if token is not None:
                return token
            options = self._options
            return tokens.store(self._drive(self._core.token_flow(options), options.timeout))

    def _drive(self, flow: Flow[T], timeout: Timeout) -> T:
        return drive(flow, lambda request: self._sender.send(request, timeout), self._authorize)

    def _run(self, call: Call[T], options: RequestOptions | None = None) -> T:
        options = options or self._options
        prepared = self._core.prepare(call, options)
        token = self._core.tokens.usable()
        if token is None:
            return self._drive(request_flow(prepared, options.retry), options.timeout)
        # The common case, a cached token and a success, is done here without the flow's steps;
        # anything else goes to the flow with this first outcome, and it carries on from there.
        try:
            response = self._sender.send(prepared.request(token), options.timeout)
        except TransportError as failure:
            first = FirstAttempt(token, failure)
        else:
            if prepared.succeeded(response):
                return prepared.parse(response)
            first = FirstAttempt(token, response)
        return self._drive(request_flow(prepared, options.retry, first), options.timeout)

    def close(self) -> None:
        """Close the connection pool (views share it: close the client they came from)."""
        if self._owner:
            self._sender.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


# =================================================================================================
# Async
# =================================================================================================


class _AsyncResource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client


class AsyncConnections(_AsyncResource):
    """The vehicles users have connected to the application (``/v3/connections``)."""

    def list(
        self,
        *,
        user_id: str | None = None,
        vehicle_id: str | None = None,
        mode: str | None = None,
        external_id: str | None = None,
        page_size: int | None = None,
    ) -> AsyncPager[Connection]:
        """``await`` it for the first page, or ``async for`` over it for every connection.

        Filters narrow the list to one user, one vehicle, a mode (``live``/``simulated``) or
        the ``external_id`` given to Connect. On a user view, the ``sc-user-id`` header narrows
        it too.
        """
        call = calls.list_connections(
            user_id=user_id, vehicle_id=vehicle_id, mode=mode, external_id=external_id, page_size=page_size
        )
        return AsyncPager(call, self._client._run)

    async def get(self, connection_id: str) -> Connection:
        """One connection, by its id (motorpool also accepts a connected vehicle's id)."""
        return await self._client._run(calls.get_connection(connection_id))

    async def delete(self, connection_id: str) -> Deleted:
        """Disconnect: remove the connection (by vehicle id, every connection of that vehicle)."""
        return await self._client._run(calls.delete_connection(connection_id))


class AsyncUsers(_AsyncResource):
    """The application's users (``/v3/users``)."""

    async def delete(self, user_id: str) -> Deleted:
        """Delete the user and every connection they made."""
        return await self._client._run(calls.delete_user(user_id))


class AsyncVehicles(_AsyncResource):
    """Connected vehicles (``/v3/vehicles``)."""

    async def get(self, vehicle_id: str) -> Vehicle:
        """The vehicle's make, model, year, mode and powertrain."""
        return await self._client._run(calls.get_vehicle(vehicle_id))


class AsyncSignals(_AsyncResource):
    """A vehicle's signals (``/v3/vehicles/{id}/signals``). Needs a user view."""

    async def list(self, vehicle_id: str, *, page_size: int | None = None) -> SignalList:
        """Every signal of the vehicle, following pages (of ``page_size`` signals, the server's
        default when None) until the last."""
        signals = await self._client._run(calls.list_signals(vehicle_id, page_size=page_size))
        while (following := calls.next_signals_page(vehicle_id, signals)) is not None:
            signals = signals.merged(await self._client._run(following))
        return signals

    async def get(self, vehicle_id: str, code: str) -> Signal:
        """One signal by code, e.g. ``odometer-traveleddistance``."""
        return await self._client._run(calls.get_signal(vehicle_id, code))

    async def _view(self, vehicle_id: str, convert: Callable[[SignalList], V]) -> V:
        code = SINGLE_SIGNAL_VIEWS.get(convert)
        if code is not None:
            return typed_from_signal(convert, await self.get(vehicle_id, code))  # type: ignore[type-var]
        return typed(convert, await self.list(vehicle_id))  # type: ignore[type-var]

    async def odometer(self, vehicle_id: str) -> Odometer:
        """Distance travelled."""
        return await self._view(vehicle_id, odometer_from)

    async def location(self, vehicle_id: str) -> Location:
        """Where the vehicle is."""
        return await self._view(vehicle_id, location_from)

    async def state_of_charge(self, vehicle_id: str) -> StateOfCharge:
        """Traction battery charge in percent."""
        return await self._view(vehicle_id, state_of_charge_from)

    async def range(self, vehicle_id: str) -> Range:
        """Remaining electric range."""
        return await self._view(vehicle_id, range_from)

    async def charge_status(self, vehicle_id: str) -> ChargeStatus:
        """Charging state, plug, active limit and time to complete."""
        return await self._view(vehicle_id, charge_status_from)

    async def fuel(self, vehicle_id: str) -> Fuel:
        """Fuel level, amount left and range on fuel."""
        return await self._view(vehicle_id, fuel_from)

    async def tire_pressures(self, vehicle_id: str) -> TirePressures:
        """Pressure of each tyre."""
        return await self._view(vehicle_id, tire_pressures_from)

    async def lock_status(self, vehicle_id: str) -> LockStatus:
        """Whether the vehicle and its doors are locked."""
        return await self._view(vehicle_id, lock_status_from)

    async def list_many(
        self,
        vehicles: VehicleSelection,
        *,
        max_in_flight: int = DEFAULT_FLEET_IN_FLIGHT,
        page_size: int | None = None,
    ) -> builtins.list[FleetResult]:
        """The signals of many vehicles, with at most ``max_in_flight`` requests at a time.

        ``vehicles`` is a list of vehicle ids (read for this view's user) or a mapping of
        vehicle id to user id. Answers one :class:`FleetResult` per vehicle, in order; a
        vehicle that failed carries its error instead of raising it. ``page_size`` as in
        :meth:`list`.
        """
        targets = fleet_targets(vehicles, self._client.user_id)
        results: builtins.list[FleetResult | None] = [None] * len(targets)
        pending = iter(enumerate(targets))
        base = self._client._options
        run = self._client._run

        # A fixed set of workers pulling from one iterator bounds the requests in flight without
        # creating a task (or a semaphore wait) per vehicle.
        async def worker() -> None:
            for index, (vehicle_id, user_id) in pending:
                options = base if user_id == base.user_id else replace(base, user_id=user_id)
                try:
                    response = await run(calls.list_signals_raw(vehicle_id, page_size=page_size), options)
                    pages = [response]
                    while (following := calls.next_raw_signals_page(vehicle_id, response)) is not None:
                        response = await run(following, options)
                        pages.append(response)
                except SmartcarError as error:
                    results[index] = FleetResult(vehicle_id, user_id, error=error)
                else:
                    results[index] = calls.fleet_result(vehicle_id, user_id, pages)

        workers = max(1, min(max_in_flight, len(targets)))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return [result for result in results if result is not None]


class AsyncCommands(_AsyncResource):
    """Vehicle commands (``/v3/vehicles/{id}/commands/...``). Needs a user view.

    Commands are never retried after the request may have reached the vehicle; a
    ``PENDING`` execution can be read again with :meth:`get_execution`.
    """

    async def lock(self, vehicle_id: str) -> CommandExecution:
        """Lock the doors."""
        return await self._client._run(calls.command(vehicle_id, "security/lock"))

    async def unlock(self, vehicle_id: str) -> CommandExecution:
        """Unlock the doors."""
        return await self._client._run(calls.command(vehicle_id, "security/unlock"))

    async def start_charge(self, vehicle_id: str) -> CommandExecution:
        """Start charging (the vehicle must be plugged in)."""
        return await self._client._run(calls.command(vehicle_id, "charge/start"))

    async def stop_charge(self, vehicle_id: str) -> CommandExecution:
        """Stop charging."""
        return await self._client._run(calls.command(vehicle_id, "charge/stop"))

    async def set_charge_limit(self, vehicle_id: str, percent: int) -> CommandExecution:
        """Set the charge limit, in percent (50–100)."""
        return await self._client._run(
            calls.command(vehicle_id, "charge/set-limit", {"percent": percent})
        )

    async def open_charge_port(self, vehicle_id: str) -> CommandExecution:
        """Open the charge port."""
        return await self._client._run(calls.command(vehicle_id, "charge-port/open"))

    async def close_charge_port(self, vehicle_id: str) -> CommandExecution:
        """Close the charge port."""
        return await self._client._run(calls.command(vehicle_id, "charge-port/close"))

    async def set_destination(self, vehicle_id: str, latitude: float, longitude: float) -> CommandExecution:
        """Send a destination to the vehicle's navigation."""
        return await self._client._run(
            calls.command(
                vehicle_id, "navigation/set-destination", {"latitude": latitude, "longitude": longitude}
            )
        )

    async def get_execution(self, vehicle_id: str, execution_id: str) -> CommandExecution:
        """Read a command execution again (to follow one that was ``PENDING``)."""
        return await self._client._run(calls.get_execution(vehicle_id, execution_id))


class AsyncChargeSchedules(_AsyncResource):
    """Charge schedules (``/v3/vehicles/{id}/charge-schedules``). Needs a user view.

    Times are ``HH:MM`` local to the vehicle; schedules apply at the given location.
    """

    async def set_daily(
        self, vehicle_id: str, *, latitude: float, longitude: float, start_time: str, stop_time: str
    ) -> CommandExecution:
        """Charge every day between ``start_time`` and ``stop_time`` at this location."""
        attributes = {"location": _schedule_location(latitude, longitude), **_window(start_time, stop_time)}
        return await self._client._run(calls.create_charge_schedule(vehicle_id, "daily", attributes))

    async def set_weekly(
        self,
        vehicle_id: str,
        *,
        latitude: float,
        longitude: float,
        days: Mapping[str, tuple[str, str]],
    ) -> CommandExecution:
        """Charge on the given weekdays (``{"monday": ("08:00", "10:00"), …}``) at this location."""
        attributes = {
            "location": _schedule_location(latitude, longitude),
            "days": {day.lower(): _window(*window) for day, window in days.items()},
        }
        return await self._client._run(calls.create_charge_schedule(vehicle_id, "weekly", attributes))

    async def set_workweek(
        self,
        vehicle_id: str,
        *,
        latitude: float,
        longitude: float,
        weekdays: tuple[str, str],
        weekends: tuple[str, str] | None = None,
    ) -> CommandExecution:
        """Charge in one window Monday to Friday and, optionally, another at weekends."""
        attributes: dict[str, Any] = {
            "location": _schedule_location(latitude, longitude),
            "weekdays": _window(*weekdays),
        }
        if weekends is not None:
            attributes["weekends"] = _window(*weekends)
        return await self._client._run(calls.create_charge_schedule(vehicle_id, "workweek", attributes))

    async def delete(self, vehicle_id: str, schedule_id: str) -> CommandExecution | Deleted:
        """Remove a schedule by the ``schedule_id`` its creation answered."""
        return await self._client._run(calls.delete_charge_schedule(vehicle_id, schedule_id))


class AsyncWebhooks(_AsyncResource):
    """The application's webhooks (Management API ``/v3/webhooks``)."""

    def list(
        self,
        *,
        name: str | None = None,
        callback_uri: str | None = None,
        is_enabled: bool | None = None,
        auto_subscribe: bool | None = None,
        page_size: int | None = None,
    ) -> AsyncPager[Webhook]:
        """``await`` it for the first page, or ``async for`` over it for every webhook."""
        call = calls.list_webhooks(
            name=name, callback_uri=callback_uri, is_enabled=is_enabled,
            auto_subscribe=auto_subscribe, page_size=page_size,
        )
        return AsyncPager(call, self._client._run)

    async def get(self, webhook_id: str) -> Webhook:
        """One webhook."""
        return await self._client._run(calls.get_webhook(webhook_id))


class AsyncSubscriptions(_AsyncResource):
    """Vehicles subscribed to webhooks (Management API ``/v3/subscriptions``)."""

    def list(
        self,
        *,
        webhook_id: str | None = None,
        user_id: str | None = None,
        vehicle_id: str | None = None,
        mode: str | None = None,
        page_size: int | None = None,
    ) -> AsyncPager[Subscription]:
        """``await`` it for the first page, or ``async for`` over it for every subscription."""
        call = calls.list_subscriptions(
            webhook_id=webhook_id, user_id=user_id, vehicle_id=vehicle_id, mode=mode, page_size=page_size
        )
        return AsyncPager(call, self._client._run)

    async def get(self, subscription_id: str) -> Subscription:
        """One subscription."""
        return await self._client._run(calls.get_subscription(subscription_id))

    async def create(self, webhook_id: str, user_id: str, vehicle_id: str) -> SubscriptionRequest:
        """Subscribe a user's vehicle to a webhook (409 ``VALIDATION`` if it already is)."""
        return await self._client._run(calls.create_subscription(webhook_id, user_id, vehicle_id))

    async def delete(self, subscription_id: str) -> Deleted:
        """Unsubscribe."""
        return await self._client._run(calls.delete_subscription(subscription_id))


class AsyncClient(_BaseClient):
    """The asynchronous client of the Vehicle and Management APIs.

    Same calls and options as :class:`Client`, awaited. By default it sends through an
    ``aiohttp.ClientSession`` (one per event loop, at most ``max_connections`` kept-alive
    connections), which keeps up with the platform when hundreds of requests are in flight;
    ``http_backend="httpx"`` sends through an ``httpx.AsyncClient`` instead, as does passing
    ``transport`` (any ``httpx.AsyncBaseTransport``: ``httpx.MockTransport``,
    ``httpx.ASGITransport(app)``) or ``http_client``. Either way proxies come from the
    environment, certificates from ``SSL_CERT_FILE`` when set, redirects are never followed and
    an answer larger than ``max_response_bytes`` raises :class:`ResponseTooLargeError`.

    Example::

        async with motorpool.AsyncClient(base_url="http://127.0.0.1:4000") as client:
            me = client.user(user_id)
            results = await me.signals.list_many(vehicle_ids, max_in_flight=50)
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        base_url: str | None = None,
        auth_origin: str | None = None,
        vehicle_api_origin: str | None = None,
        management_api_origin: str | None = None,
        unit_system: str = "metric",
        timeout: Timeout | float | None = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        http_backend: str = "aiohttp",
    ) -> None:
        self._configure(
            client_id=client_id,
            client_secret=client_secret,
            base_url=base_url,
            auth_origin=auth_origin,
            vehicle_api_origin=vehicle_api_origin,
            management_api_origin=management_api_origin,
            unit_system=unit_system,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
        )
        self._sender: AsyncSender
        if http_backend not in HTTP_BACKENDS:
            raise ConfigurationError(
                f"http_backend must be one of {', '.join(HTTP_BACKENDS)}; got {http_backend!r}"
            )
        if transport is not None or http_client is not None or http_backend == "httpx":
            # httpx loads only here: the default path (aiohttp) never imports it.
            from ._httpx import AsyncHttpxSender

            self._sender = AsyncHttpxSender(
                transport=transport,
                http_client=http_client,
                max_connections=max_connections,
                max_response_bytes=max_response_bytes,
            )
        else:
            self._sender = AiohttpSender(
                max_connections=max_connections, max_response_bytes=max_response_bytes
            )
        self._bind()

    def _bind(self) -> None:
        #: Connections: list (all pages), get, delete.
        self.connections = AsyncConnections(self)
        #: Users: delete.
        self.users = AsyncUsers(self)
        #: Vehicles: get.
        self.vehicles = AsyncVehicles(self)
        #: Signals: list, get, typed views, fleet reads (user views only).
        self.signals = AsyncSignals(self)
        #: Commands: lock, unlock, charging, charge port, navigation (user views only).
        self.commands = AsyncCommands(self)
        #: Charge schedules: daily, weekly, workweek, delete (user views only).
        self.charge_schedules = AsyncChargeSchedules(self)
        #: Management API webhooks: list, get.
        self.webhooks = AsyncWebhooks(self)
        #: Management API subscriptions: list, get, create, delete.
        self.subscriptions = AsyncSubscriptions(self)

    async def access_token(self) -> str:
        """A valid application access token (from the cache, or fetched now)."""
        return await self._authorize(None)

    async def _authorize(self, rejected: str | None) -> str:
        tokens = self._core.tokens
        token = tokens.usable(rejected)
        if token is not None:
            return token
        async with tokens.async_lock():
            token = tokens.usable(rejected)
            if token is not None:
                return token
            options = self._options
            return tokens.store(await self._drive(self._core.token_flow(options), options.timeout))

    async def _drive(self, flow: Flow[T], timeout: Timeout) -> T:
        return await drive_async(
            flow, lambda request: self._sender.send(request, timeout), self._authorize
        )

    async def _run(self, call: Call[T], options: RequestOptions | None = None) -> T:
        options = options or self._options
        prepared = self._core.prepare(call, options)
        token = self._core.tokens.usable()
        if token is None:
            return await self._drive(request_flow(prepared, options.retry), options.timeout)
        # The common case, a cached token and a success, is done here without the flow's steps;
        # anything else goes to the flow with this first outcome, and it carries on from there.
        try:
            response = await self._sender.send(prepared.request(token), options.timeout)
        except TransportError as failure:
            first = FirstAttempt(token, failure)
        else:
            if prepared.succeeded(response):
                return prepared.parse(response)
            first = FirstAttempt(token, response)
        return await self._drive(request_flow(prepared, options.retry, first), options.timeout)

    async def aclose(self) -> None:
        """Close the connection pool (views share it: close the client they came from)."""
        if self._owner:
            await self._sender.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


__all__ = [
    "AsyncClient",
    "Client",
]
