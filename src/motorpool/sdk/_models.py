"""Typed models of the API's answers.

Models read the JSON:API shape (``data.attributes...``) and the flat shape motorpool and older
services also send, through validation aliases that pydantic-core resolves while it parses the
raw bytes; no Python runs per field, which keeps a fleet read cheap. Unknown fields are ignored
(the decoded body is always at hand as ``.raw``). Every object returned by a client call carries
``.meta``, read from the response headers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, Field, PrivateAttr

from ._errors import ApiError, ResourceNotFoundError, SmartcarError, error_class


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ResponseMeta:
    """What the response headers say about an answer.

    ``data_age`` is when the vehicle recorded the data, ``fetched_at`` when the platform fetched
    it (``SC-Data-Age`` and ``SC-Fetched-At``); ``unit_system`` is ``metric`` or ``imperial``.
    """

    status_code: int | None = None
    request_id: str | None = None
    data_age: datetime | None = None
    fetched_at: datetime | None = None
    unit_system: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_headers(cls, status_code: int, headers: Mapping[str, str]) -> ResponseMeta:
        """Read ``SC-Request-Id``, ``SC-Data-Age``, ``SC-Fetched-At`` and ``SC-Unit-System``."""
        return cls(
            status_code=status_code,
            request_id=headers.get("sc-request-id"),
            data_age=_parse_time(headers.get("sc-data-age")),
            fetched_at=_parse_time(headers.get("sc-fetched-at")),
            unit_system=headers.get("sc-unit-system"),
            headers=headers,
        )


NO_META = ResponseMeta()


def _alias(*choices: str | AliasPath) -> AliasChoices:
    return AliasChoices(*choices)


def _path(*parts: str | int) -> AliasPath:
    first, *rest = parts
    assert isinstance(first, str)
    return AliasPath(first, *rest)


class SmartcarModel(BaseModel):
    """Base of every model: immutable, tolerant of unknown fields, with ``meta`` and ``raw``."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, validate_by_name=True, validate_by_alias=True
    )

    _meta: ResponseMeta = PrivateAttr(default=NO_META)
    _content: bytes | None = PrivateAttr(default=None)
    _decoded: Any = PrivateAttr(default=None)

    @property
    def meta(self) -> ResponseMeta:
        """Request id, data age, fetch time and unit system of the answer this came from."""
        return self._meta

    @property
    def raw(self) -> Any:
        """The decoded JSON body of the answer this object came from (None for nested objects)."""
        if self._decoded is None and self._content:
            self._decoded = json.loads(self._content)
        return self._decoded

    def _attach(self, meta: ResponseMeta, content: bytes | None) -> None:
        self._meta = meta
        self._content = content


class Resolution(SmartcarModel):
    """What to do about an error: ``type`` is RETRY_LATER, REAUTHENTICATE, CONTACT_SUPPORT, …"""

    type: str | None = None
    url: str | None = None


class VehicleInfo(SmartcarModel):
    """A vehicle's make, model, year, mode and powertrain as listed on a connection."""

    make: str | None = None
    model: str | None = None
    year: int | None = None
    mode: str | None = None
    powertrain_type: str | None = Field(None, validation_alias=_alias("powertrainType"))


class Vehicle(SmartcarModel):
    """``GET /v3/vehicles/{id}``: a connected vehicle."""

    id: str
    make: str | None = Field(None, validation_alias=_alias(_path("attributes", "make"), "make"))
    model: str | None = Field(None, validation_alias=_alias(_path("attributes", "model"), "model"))
    year: int | None = Field(None, validation_alias=_alias(_path("attributes", "year"), "year"))
    mode: str | None = Field(None, validation_alias=_alias(_path("attributes", "mode"), "mode"))
    powertrain_type: str | None = Field(
        None, validation_alias=_alias(_path("attributes", "powertrainType"), "powertrainType")
    )


class Connection(SmartcarModel):
    """A vehicle connected to the application by one of its users."""

    id: str
    vehicle_id: str = Field(
        validation_alias=_alias(_path("relationships", "vehicle", "data", "id"), "vehicleId")
    )
    user_id: str = Field(
        validation_alias=_alias(_path("relationships", "user", "data", "id"), "userId")
    )
    permissions: list[str] = Field(
        default_factory=list,
        validation_alias=_alias(_path("attributes", "permissions"), "permissions"),
    )
    external_id: str | None = Field(
        None, validation_alias=_alias(_path("attributes", "externalId"), "externalId")
    )
    vehicle: VehicleInfo | None = Field(None, validation_alias=_alias(_path("attributes", "vehicle")))
    mode: str | None = Field(
        None, validation_alias=_alias(_path("attributes", "vehicle", "mode"), "mode")
    )
    created_at: datetime | None = Field(
        None, validation_alias=_alias(_path("meta", "createdAt"), "connectedAt")
    )
    updated_at: datetime | None = Field(None, validation_alias=_alias(_path("meta", "updatedAt")))


class SignalErrorInfo(SmartcarModel):
    """Why one signal could not be read (the rest of the answer is still good)."""

    type: str | None = None
    code: str | None = None
    description: str | None = None
    resolution: Resolution | None = None


class SignalStatus(SmartcarModel):
    """``SUCCESS``, ``ERROR`` or ``UNAVAILABLE``, with the error when there is one."""

    value: str = "SUCCESS"
    error: SignalErrorInfo | None = None


class SignalRef(SmartcarModel):
    """A signal named by code, name and group (webhook triggers and data, error lists)."""

    code: str | None = None
    name: str | None = None
    group: str | None = None


class Signal(SmartcarModel):
    """One signal: its code, status and body, and when it was recorded and fetched.

    ``body`` is the signal's value object as sent (``{"value", "unit"}``, ``{"values": [...]}``,
    ``{"latitude", "longitude"}``, …); ``value`` and ``unit`` are shortcuts into it.
    """

    code: str = Field(validation_alias=_alias(_path("attributes", "code"), "code", "id"))
    name: str | None = Field(None, validation_alias=_alias(_path("attributes", "name"), "name"))
    group: str | None = Field(None, validation_alias=_alias(_path("attributes", "group"), "group"))
    status: SignalStatus = Field(
        default_factory=SignalStatus,
        validation_alias=_alias(_path("attributes", "status"), "status"),
    )
    body: dict[str, Any] | None = Field(
        None, validation_alias=_alias(_path("attributes", "body"), "body")
    )
    retrieved_at: datetime | None = Field(
        None, validation_alias=_alias(_path("meta", "retrievedAt"), _path("meta", "fetchedAt"))
    )
    oem_updated_at: datetime | None = Field(
        None, validation_alias=_alias(_path("meta", "oemUpdatedAt"))
    )

    @property
    def ok(self) -> bool:
        """True when the signal was read successfully."""
        return self.status.value == "SUCCESS"

    @property
    def value(self) -> Any:
        """``body["value"]``, or None."""
        return self.body.get("value") if self.body else None

    @property
    def unit(self) -> str | None:
        """``body["unit"]``, or None."""
        unit = self.body.get("unit") if self.body else None
        return unit if isinstance(unit, str) else None

    def error(self) -> ApiError | None:
        """The signal's error as an exception of the matching class, or None if it is fine."""
        if self.ok:
            return None
        info = self.status.error or SignalErrorInfo()
        cls = error_class(info.type, None)
        return cls(
            status_code=None,
            type=info.type or cls.error_type,
            code=info.code,
            description=info.description or f"The signal {self.code} is {self.status.value}.",
            resolution=info.resolution.model_dump() if info.resolution else None,
            body=self.model_dump(mode="json"),
        )

    def raise_for_status(self) -> None:
        """Raise the signal's error (PermissionDeniedError, CompatibilityError, …) if it has one."""
        error = self.error()
        if error is not None:
            raise error


class SignalList(SmartcarModel):
    """Every signal of a vehicle, with the vehicle itself. Look signals up by code.

    The typed views (``odometer``, ``location``, ``state_of_charge``, …) are None when the
    signal is missing or was not read successfully; ``signals[code]`` gives the signal itself
    with its status and error.
    """

    signals: list[Signal] = Field(default_factory=list, validation_alias=_alias("data", "signals"))
    vehicle: Vehicle | None = Field(None, validation_alias=_alias(_path("included", "vehicle")))
    total_count: int | None = Field(None, validation_alias=_alias(_path("meta", "totalCount")))
    page_number: int | None = Field(
        None, validation_alias=_alias(_path("meta", "pageNumber"), _path("meta", "page"))
    )
    page_size: int | None = Field(None, validation_alias=_alias(_path("meta", "pageSize")))
    next_link: str | None = Field(None, validation_alias=_alias(_path("links", "next")))

    _by_code: dict[str, Signal] | None = PrivateAttr(default=None)

    def _index(self) -> dict[str, Signal]:
        if self._by_code is None:
            self._by_code = {signal.code: signal for signal in self.signals}
        return self._by_code

    def __getitem__(self, code: str) -> Signal:
        return self._index()[code]

    def __contains__(self, code: object) -> bool:
        return code in self._index()

    def __iter__(self) -> Iterator[Signal]:  # type: ignore[override]
        return iter(self.signals)

    def __len__(self) -> int:
        return len(self.signals)

    def get(self, code: str) -> Signal | None:
        """The signal with this code, or None."""
        return self._index().get(code)

    def require(self, code: str) -> Signal:
        """The signal with this code, raising its error if it was not read successfully."""
        signal = self.get(code)
        if signal is None:
            raise ResourceNotFoundError(
                status_code=None,
                type="RESOURCE_NOT_FOUND",
                code=None,
                description=f"The vehicle's signals do not include {code}.",
                request_id=self.meta.request_id,
            )
        signal.raise_for_status()
        return signal

    def merged(self, other: SignalList) -> SignalList:
        """This list with the signals of a further page appended."""
        combined = self.model_copy(
            update={"signals": [*self.signals, *other.signals], "next_link": other.next_link}
        )
        combined._by_code = None
        combined._attach(self.meta, self._content)
        return combined

    # Typed views. The conversions live in _signals so that clients and lists share them.
    @property
    def odometer(self) -> Odometer | None:
        """Distance travelled (``odometer-traveleddistance``)."""
        from ._signals import odometer_from

        return _optional(odometer_from, self)

    @property
    def location(self) -> Location | None:
        """Where the vehicle is (``location-preciselocation``)."""
        from ._signals import location_from

        return _optional(location_from, self)

    @property
    def state_of_charge(self) -> StateOfCharge | None:
        """Traction battery charge (``tractionbattery-stateofcharge``)."""
        from ._signals import state_of_charge_from

        return _optional(state_of_charge_from, self)

    @property
    def range(self) -> Range | None:
        """Remaining electric range (``tractionbattery-range``)."""
        from ._signals import range_from

        return _optional(range_from, self)

    @property
    def charge_status(self) -> ChargeStatus | None:
        """Charging state, plug and limit (``charge-*``)."""
        from ._signals import charge_status_from

        return _optional(charge_status_from, self)

    @property
    def fuel(self) -> Fuel | None:
        """Fuel level, amount and range (``internalcombustionengine-*``)."""
        from ._signals import fuel_from

        return _optional(fuel_from, self)

    @property
    def tire_pressures(self) -> TirePressures | None:
        """Pressure of each tyre (``wheel-tires``)."""
        from ._signals import tire_pressures_from

        return _optional(tire_pressures_from, self)

    @property
    def lock_status(self) -> LockStatus | None:
        """Whether the vehicle and each door are locked (``closure-*``)."""
        from ._signals import lock_status_from

        return _optional(lock_status_from, self)


def _optional(convert: Callable[[SignalList], _ViewT], signals: SignalList) -> _ViewT | None:
    try:
        return convert(signals)
    except ApiError:
        return None


_ViewT = TypeVar("_ViewT")


# --- typed signal values ------------------------------------------------------------------------


class Odometer(SmartcarModel):
    """Total distance the vehicle has travelled."""

    distance: float
    unit: str | None = None
    signal: Signal | None = Field(None, exclude=True, repr=False)


class Location(SmartcarModel):
    """The vehicle's position; ``heading`` in degrees, ``direction`` as N, NE, E, …"""

    latitude: float
    longitude: float
    heading: float | None = None
    direction: str | None = None
    location_type: str | None = Field(None, validation_alias=_alias("locationType"))
    signal: Signal | None = Field(None, exclude=True, repr=False)


class StateOfCharge(SmartcarModel):
    """Traction battery charge, in percent (0–100)."""

    percent: float
    unit: str | None = None
    signal: Signal | None = Field(None, exclude=True, repr=False)


class RangeEstimate(SmartcarModel):
    """One further range estimate (``IDEAL_CONDITIONS``, ``ESTIMATED``, ``RATED``)."""

    type: str | None = None
    value: float | None = None


class Range(SmartcarModel):
    """Remaining electric range, with the further estimates the vehicle gives."""

    distance: float
    unit: str | None = None
    estimates: list[RangeEstimate] = Field(default_factory=list)
    signal: Signal | None = Field(None, exclude=True, repr=False)


class ChargeStatus(SmartcarModel):
    """Charging state (``CHARGING``, ``NOT_CHARGING``, ``FULLY_CHARGED``), plug and limits."""

    state: str | None = None
    is_charging: bool | None = None
    is_plugged_in: bool | None = None
    charge_limit: float | None = None
    time_to_complete: float | None = None


class Fuel(SmartcarModel):
    """Fuel tank level in percent, amount left and range on fuel."""

    percent_remaining: float | None = None
    amount_remaining: float | None = None
    amount_unit: str | None = None
    range: float | None = None
    range_unit: str | None = None


class TirePressure(SmartcarModel):
    """The pressure of one tyre; row 0 is the front, column 0 the left."""

    row: int
    column: int
    pressure: float | None = None


class TirePressures(SmartcarModel):
    """Tyre pressures, by position and as the full list."""

    front_left: float | None = None
    front_right: float | None = None
    back_left: float | None = None
    back_right: float | None = None
    unit: str | None = None
    tires: list[TirePressure] = Field(default_factory=list)


class Door(SmartcarModel):
    """One door; row 0 is the front, column 0 the left."""

    row: int | None = None
    column: int | None = None
    is_open: bool | None = Field(None, validation_alias=_alias("isOpen"))
    is_locked: bool | None = Field(None, validation_alias=_alias("isLocked"))


class LockStatus(SmartcarModel):
    """Whether the vehicle is locked, with each door when the vehicle reports them."""

    is_locked: bool
    doors: list[Door] = Field(default_factory=list)


# --- commands -----------------------------------------------------------------------------------


class CommandExecution(SmartcarModel):
    """The outcome of a command or a charge-schedule change.

    ``status`` is ``SUCCESS``, ``FAILURE`` or ``PENDING``; a ``PENDING`` execution
    (``execution_mode == "async"``, HTTP 202) can be read again with
    ``commands.get_execution``. Schedule changes also carry ``action``, ``schedule_type`` and
    ``schedule_id``.
    """

    id: str
    type: str | None = None
    command_type: str | None = Field(
        None, validation_alias=_alias(_path("attributes", "commandType"), "commandType")
    )
    status: str | None = Field(
        None, validation_alias=_alias(_path("attributes", "status", "value"), _path("status", "value"))
    )
    status_error: SignalErrorInfo | None = Field(
        None, validation_alias=_alias(_path("attributes", "status", "error"))
    )
    execution_mode: str | None = Field(
        None, validation_alias=_alias(_path("attributes", "executionMode"), "executionMode")
    )
    parameters: dict[str, Any] | None = Field(
        None, validation_alias=_alias(_path("attributes", "parameters"), "parameters")
    )
    action: str | None = Field(None, validation_alias=_alias(_path("attributes", "action")))
    schedule_type: str | None = Field(
        None, validation_alias=_alias(_path("attributes", "scheduleType"))
    )
    schedule_id: str | None = Field(None, validation_alias=_alias(_path("attributes", "scheduleId")))
    executed_at: datetime | None = Field(None, validation_alias=_alias(_path("meta", "executedAt")))
    completed_at: datetime | None = Field(
        None, validation_alias=_alias(_path("meta", "completedAt"))
    )
    duration_seconds: float | None = Field(
        None, validation_alias=_alias(_path("meta", "durationInSeconds"))
    )

    @property
    def is_pending(self) -> bool:
        """True while the vehicle has not finished (read it again with ``get_execution``)."""
        return self.status == "PENDING"

    @property
    def succeeded(self) -> bool:
        """True when the vehicle carried the command out."""
        return self.status == "SUCCESS"


class Deleted(SmartcarModel):
    """The answer to a deletion (204 No Content): only ``meta`` is of interest."""


# --- management ---------------------------------------------------------------------------------


class Webhook(SmartcarModel):
    """A webhook of the application (created in the dashboard or motorpool's admin API)."""

    id: str
    name: str | None = Field(None, validation_alias=_alias(_path("attributes", "name"), "name"))
    callback_uri: str | None = Field(
        None, validation_alias=_alias(_path("attributes", "callbackUri"), "callbackUri")
    )
    error_callback_uri: str | None = Field(
        None, validation_alias=_alias(_path("attributes", "errorCallbackUri"), "errorCallbackUri")
    )
    is_enabled: bool | None = Field(
        None, validation_alias=_alias(_path("attributes", "isEnabled"), "isEnabled")
    )
    auto_subscribe: bool | None = Field(
        None, validation_alias=_alias(_path("attributes", "autoSubscribe"), "autoSubscribe")
    )
    triggers: list[SignalRef] = Field(
        default_factory=list, validation_alias=_alias(_path("attributes", "triggers"), "triggers")
    )
    data_signals: list[SignalRef] = Field(
        default_factory=list, validation_alias=_alias(_path("attributes", "data"))
    )
    created_at: datetime | None = Field(None, validation_alias=_alias(_path("meta", "createdAt")))


class Subscription(SmartcarModel):
    """A vehicle subscribed to a webhook."""

    id: str
    webhook_id: str | None = Field(
        None, validation_alias=_alias(_path("relationships", "webhook", "data", "id"), "webhookId")
    )
    user_id: str | None = Field(
        None, validation_alias=_alias(_path("relationships", "user", "data", "id"), "userId")
    )
    vehicle_id: str | None = Field(
        None, validation_alias=_alias(_path("relationships", "vehicle", "data", "id"), "vehicleId")
    )
    vehicle: VehicleInfo | None = Field(None, validation_alias=_alias(_path("attributes", "vehicle")))
    created_at: datetime | None = Field(None, validation_alias=_alias(_path("meta", "createdAt")))
    updated_at: datetime | None = Field(None, validation_alias=_alias(_path("meta", "updatedAt")))


class SubscriptionRequest(SmartcarModel):
    """The answer to creating a subscription: accepted (202) with a message, or the subscription."""

    message: str | None = Field(None, validation_alias=_alias(_path("meta", "message")))
    subscription: Subscription | None = Field(None, validation_alias=_alias("data"))


# --- tokens -------------------------------------------------------------------------------------


class AccessToken(SmartcarModel):
    """An application access token from the client-credentials grant."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: float = 3600.0


class CodeExchange(AccessToken):
    """What redeeming a Connect ``code`` answers on motorpool: a token plus the grant."""

    user_id: str | None = None
    vehicle_ids: list[str] = Field(default_factory=list)
    scope: str | None = None


# --- fleet --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FleetResult:
    """One vehicle's outcome in a fleet read: its signals, or the error that prevented them."""

    vehicle_id: str
    user_id: str | None
    signals: SignalList | None = None
    error: SmartcarError | None = None

    @property
    def ok(self) -> bool:
        """True when the signals were read."""
        return self.error is None


__all__ = [
    "AccessToken",
    "ChargeStatus",
    "CodeExchange",
    "CommandExecution",
    "Connection",
    "Deleted",
    "Door",
    "FleetResult",
    "Fuel",
    "Location",
    "LockStatus",
    "Odometer",
    "Range",
    "RangeEstimate",
    "Resolution",
    "ResponseMeta",
    "Signal",
    "SignalErrorInfo",
    "SignalList",
    "SignalRef",
    "SignalStatus",
    "SmartcarModel",
    "StateOfCharge",
    "Subscription",
    "SubscriptionRequest",
    "TirePressure",
    "TirePressures",
    "Vehicle",
    "VehicleInfo",
    "Webhook",
]
