"""Typed models of the API's answers.

Models read the JSON:API shape (``data.attributes...``) and the flat shape motorpool and older
services also send, through validation aliases that pydantic-core resolves while it parses the
raw bytes; no Python runs per field, which keeps a fleet read cheap. Unknown fields are ignored
(the decoded body is always at hand as ``.raw``). Every object returned by a client call carries
``.meta``, read from the response headers.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from types import EllipsisType
from typing import Any, TypeVar

import orjson
from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, Field

from ._errors import (
    ApiError,
    ResourceNotFoundError,
    SmartcarError,
    UnexpectedResponseError,
    error_class,
)

_ViewT = TypeVar("_ViewT")


def loads(content: bytes | str) -> Any:
    """Decode JSON: orjson (about twice as fast as the standard library on a signal list), and
    the standard library for what orjson refuses but Python reads (NaN, integers past 64 bits)."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


class ResponseMeta:
    """What the response headers say about an answer.

    ``data_age`` is when the vehicle recorded the data, ``fetched_at`` when the platform fetched
    it (``SC-Data-Age`` and ``SC-Fetched-At``); ``unit_system`` is ``metric`` or ``imperial``.
    The times are read from the headers when asked for.
    """

    __slots__ = ("headers", "status_code")

    def __init__(self, status_code: int | None = None, headers: Mapping[str, str] | None = None) -> None:
        #: The HTTP status of the answer.
        self.status_code = status_code
        #: Every header of the answer (case-insensitive when the transport's mapping is).
        self.headers: Mapping[str, str] = headers if headers is not None else {}

    @classmethod
    def from_headers(cls, status_code: int, headers: Mapping[str, str]) -> ResponseMeta:
        """The meta of an answer with this status and these headers."""
        return cls(status_code, headers)

    @property
    def request_id(self) -> str | None:
        """``SC-Request-Id``: quote it when asking for support."""
        return self.headers.get("sc-request-id")

    @property
    def data_age(self) -> datetime | None:
        """``SC-Data-Age``: when the vehicle recorded the data."""
        return _parse_time(self.headers.get("sc-data-age"))

    @property
    def fetched_at(self) -> datetime | None:
        """``SC-Fetched-At``: when the platform fetched the data from the vehicle."""
        return _parse_time(self.headers.get("sc-fetched-at"))

    @property
    def unit_system(self) -> str | None:
        """``SC-Unit-System``: ``metric`` or ``imperial``."""
        return self.headers.get("sc-unit-system")

    def __repr__(self) -> str:
        return (
            f"ResponseMeta(status_code={self.status_code!r}, request_id={self.request_id!r}, "
            f"data_age={self.data_age!r}, fetched_at={self.fetched_at!r}, unit_system={self.unit_system!r})"
        )


NO_META = ResponseMeta()


def _alias(*choices: str | AliasPath) -> AliasChoices:
    return AliasChoices(*choices)


def _path(*parts: str | int) -> AliasPath:
    first, *rest = parts
    assert isinstance(first, str)
    return AliasPath(first, *rest)


class SmartcarModel(BaseModel):
    """Base of every model: immutable, tolerant of unknown fields, with ``meta`` and ``raw``.

    ``meta`` and the answer's bytes are kept in pydantic's per-instance private dict, set only
    on the object a call returns. Declared private attributes would instead be initialised on
    every nested object (each of a vehicle's ~90 signals), which costs more than parsing them.
    """

    # defer_build: each model's validator is built when it first validates, not on import (the
    # SDK has ~30 models, and a program uses a few of them).
    model_config = ConfigDict(
        extra="ignore", frozen=True, validate_by_name=True, validate_by_alias=True, defer_build=True
    )

    def _private(self) -> dict[str, Any]:
        private = self.__pydantic_private__
        if private is None:
            private = {}
            object.__setattr__(self, "__pydantic_private__", private)
        return private

    @property
    def meta(self) -> ResponseMeta:
        """Request id, data age, fetch time and unit system of the answer this came from."""
        private = self.__pydantic_private__
        meta = private.get("meta") if private else None
        return meta if isinstance(meta, ResponseMeta) else NO_META

    @property
    def raw(self) -> Any:
        """The decoded JSON body of the answer this object came from (None for nested objects)."""
        private = self._private()
        if "decoded" not in private:
            content = private.get("content")
            private["decoded"] = loads(content) if content else None
        return private["decoded"]

    @property
    def _content(self) -> bytes | None:
        private = self.__pydantic_private__
        content = private.get("content") if private else None
        return content if isinstance(content, bytes) else None

    def _attach(self, meta: ResponseMeta, content: bytes | None) -> None:
        private = self._private()
        private["meta"] = meta
        private["content"] = content
        private.pop("decoded", None)


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


class SignalList:
    """Every signal of a vehicle, with the vehicle itself. Look signals up by code.

    Built from the decoded answer; each :class:`Signal` model is made the first time it is
    asked for, so reading a few signals of a large list costs little more than decoding it.
    The typed views (``odometer``, ``location``, ``state_of_charge``, …) are None when the
    signal is missing or was not read successfully; ``signals[code]`` gives the signal itself
    with its status and error, and :meth:`require` raises that error.
    """

    __slots__ = ("__weakref__", "_body", "_by_code", "_content", "_items", "_signals", "_vehicle", "meta")

    def __init__(
        self,
        body: Mapping[str, Any] | None = None,
        *,
        signals: Sequence[Signal] | None = None,
        meta: ResponseMeta = NO_META,
        content: bytes | None = None,
    ) -> None:
        self._body: Mapping[str, Any] = body or {}
        items = self._body.get("data", self._body.get("signals"))
        self._items: list[Any] = list(items) if isinstance(items, list) else []
        self._by_code: dict[str, Signal | Mapping[str, Any]] | None = None
        self._signals: list[Signal] | None = None
        self._vehicle: Vehicle | None | EllipsisType = ...
        if signals is not None:
            self._signals = list(signals)
            self._items = list(self._signals)
        #: Request id, data age, fetch time and unit system of the answer.
        self.meta = meta
        self._content = content

    @classmethod
    def from_json(cls, content: bytes, meta: ResponseMeta = NO_META) -> SignalList:
        """Decode an answer's bytes (a ``ValueError`` if they are not a JSON object)."""
        body = loads(content)
        if not isinstance(body, dict):
            # JSON that is not an object is a bad value, not a wrong argument type.
            raise ValueError("a signal list must be a JSON object")  # noqa: TRY004
        return cls(body, meta=meta, content=content)

    # --- the list -------------------------------------------------------------------------------

    @staticmethod
    def _code_of(item: Any) -> str | None:
        if isinstance(item, Signal):
            return item.code
        if not isinstance(item, Mapping):
            return None
        attributes = item.get("attributes")
        code = attributes.get("code") if isinstance(attributes, Mapping) else None
        code = code or item.get("code") or item.get("id")
        return code if isinstance(code, str) else None

    def _index(self) -> dict[str, Signal | Mapping[str, Any]]:
        if self._by_code is None:
            index: dict[str, Signal | Mapping[str, Any]] = {}
            code_of = self._code_of
            for item in self._items:
                if type(item) is dict:  # decoded JSON: the common case, without ABC checks
                    attributes = item.get("attributes")
                    code = attributes.get("code") if type(attributes) is dict else None
                    code = code or item.get("code") or item.get("id")
                    if type(code) is not str:
                        continue
                else:
                    code = code_of(item)
                    if code is None:
                        continue
                if code not in index:
                    index[code] = item
            self._by_code = index
        return self._by_code

    @property
    def signals(self) -> list[Signal]:
        """Every signal, in the order the answer gave them."""
        if self._signals is None:
            self._signals = [self._model(item) for item in self._items]
        return self._signals

    def _model(self, item: Any) -> Signal:
        if isinstance(item, Signal):
            return item
        code = self._code_of(item)
        index = self._index()
        found = index.get(code) if code is not None else None
        if isinstance(found, Signal):
            return found
        signal = Signal.model_validate(item)
        if code is not None:
            index[code] = signal
        return signal

    def get(self, code: str) -> Signal | None:
        """The signal with this code, or None."""
        item = self._index().get(code)
        return None if item is None else self._model(item)

    def __getitem__(self, code: str) -> Signal:
        signal = self.get(code)
        if signal is None:
            raise KeyError(code)
        return signal

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._index()

    def __iter__(self) -> Iterator[Signal]:
        return iter(self.signals)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"SignalList(vehicle_id={self.vehicle.id if self.vehicle else None!r}, signals={len(self)})"

    @property
    def codes(self) -> list[str]:
        """The codes of every signal in the list."""
        return list(self._index())

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

    # --- the answer around it -------------------------------------------------------------------

    def _member(self, *path: str) -> Any:
        value: Any = self._body
        for key in path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        return value

    @property
    def vehicle(self) -> Vehicle | None:
        """The vehicle the signals belong to (the answer's ``included.vehicle``)."""
        if self._vehicle is ...:
            found = self._member("included", "vehicle")
            self._vehicle = Vehicle.model_validate(found) if isinstance(found, Mapping) else None
        return self._vehicle

    @property
    def total_count(self) -> int | None:
        """How many signals the vehicle has in all pages, when the answer says."""
        value = self._member("meta", "totalCount")
        return value if isinstance(value, int) else None

    @property
    def page_number(self) -> int | None:
        """This page's number (from 1), when the answer says."""
        value = self._member("meta", "pageNumber")
        if value is None:
            value = self._member("meta", "page")
        return value if isinstance(value, int) else None

    @property
    def page_size(self) -> int | None:
        """The page size the answer was cut to, when it says."""
        value = self._member("meta", "pageSize")
        return value if isinstance(value, int) else None

    @property
    def next_link(self) -> str | None:
        """The answer's ``links.next``."""
        value = self._member("links", "next")
        return value if isinstance(value, str) else None

    @property
    def has_links(self) -> bool:
        """True when the answer carries a top-level ``links`` member."""
        return isinstance(self._body.get("links"), Mapping)

    @property
    def raw(self) -> Any:
        """The decoded JSON body of the answer (of its first page, if several were merged)."""
        return self._body

    def merged(self, other: SignalList) -> SignalList:
        """This list with the signals of a further page appended; its paging (``meta`` and
        ``links``) is the further page's, so that the page after it is asked for next."""
        body = dict(self._body)
        body["data"] = [*self._items, *other._items]
        for member in ("meta", "links"):
            if member in other._body:
                body[member] = other._body[member]
        return SignalList(body, meta=self.meta, content=self._content)

    # --- typed views: the converters, below beside the values they build, serve the clients too

    @property
    def odometer(self) -> Odometer | None:
        """Distance travelled (``odometer-traveleddistance``)."""
        return _optional(odometer_from, self)

    @property
    def location(self) -> Location | None:
        """Where the vehicle is (``location-preciselocation``)."""
        return _optional(location_from, self)

    @property
    def state_of_charge(self) -> StateOfCharge | None:
        """Traction battery charge (``tractionbattery-stateofcharge``)."""
        return _optional(state_of_charge_from, self)

    @property
    def range(self) -> Range | None:
        """Remaining electric range (``tractionbattery-range``)."""
        return _optional(range_from, self)

    @property
    def charge_status(self) -> ChargeStatus | None:
        """Charging state, plug and limit (``charge-*``)."""
        return _optional(charge_status_from, self)

    @property
    def fuel(self) -> Fuel | None:
        """Fuel level, amount and range (``internalcombustionengine-*``)."""
        return _optional(fuel_from, self)

    @property
    def tire_pressures(self) -> TirePressures | None:
        """Pressure of each tyre (``wheel-tires``)."""
        return _optional(tire_pressures_from, self)

    @property
    def lock_status(self) -> LockStatus | None:
        """Whether the vehicle and each door are locked (``closure-*``)."""
        return _optional(lock_status_from, self)


def _optional(convert: Callable[[SignalList], _ViewT], signals: SignalList) -> _ViewT | None:
    try:
        return convert(signals)
    except ApiError:
        return None


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


# --- typed signal views: each built from a signal list -------------------------------------------
#
# Each converter raises the signal's own error (a PermissionDeniedError when the permission was not
# granted, a CompatibilityError when the vehicle cannot provide it) if its main signal was not
# read; secondary signals that are missing only leave their field empty.

ODOMETER = "odometer-traveleddistance"
LOCATION = "location-preciselocation"
STATE_OF_CHARGE = "tractionbattery-stateofcharge"
BATTERY_RANGE = "tractionbattery-range"
CHARGING_STATUS = "charge-detailedchargingstatus"
IS_CHARGING = "charge-ischarging"
IS_PLUGGED_IN = "charge-ischargingcableconnected"
CHARGE_LIMITS = "charge-chargelimits"
TIME_TO_COMPLETE = "charge-timetocomplete"
FUEL_LEVEL = "internalcombustionengine-fuellevel"
FUEL_AMOUNT = "internalcombustionengine-amountremaining"
FUEL_RANGE = "internalcombustionengine-range"
TIRES = "wheel-tires"
IS_LOCKED = "closure-islocked"
DOORS = "closure-doors"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _body(signal: Signal) -> dict[str, Any]:
    return signal.body or {}


def _secondary(signals: SignalList, code: str) -> Signal | None:
    signal = signals.get(code)
    return signal if signal is not None and signal.ok and signal.body is not None else None


def odometer_from(signals: SignalList) -> Odometer:
    """The odometer reading."""
    signal = signals.require(ODOMETER)
    return Odometer(distance=_number(signal.value) or 0.0, unit=signal.unit, signal=signal)


def location_from(signals: SignalList) -> Location:
    """The vehicle's position."""
    signal = signals.require(LOCATION)
    body = _body(signal)
    return Location(
        latitude=_number(body.get("latitude")) or 0.0,
        longitude=_number(body.get("longitude")) or 0.0,
        heading=_number(body.get("heading")),
        direction=body.get("direction") if isinstance(body.get("direction"), str) else None,
        location_type=body.get("locationType") if isinstance(body.get("locationType"), str) else None,
        signal=signal,
    )


def state_of_charge_from(signals: SignalList) -> StateOfCharge:
    """The traction battery's charge in percent."""
    signal = signals.require(STATE_OF_CHARGE)
    return StateOfCharge(percent=_number(signal.value) or 0.0, unit=signal.unit, signal=signal)


def range_from(signals: SignalList) -> Range:
    """The electric range with any further estimates."""
    signal = signals.require(BATTERY_RANGE)
    extra = _body(signal).get("additionalValues")
    estimates = [
        RangeEstimate(type=item.get("type"), value=_number(item.get("value")))
        for item in (extra if isinstance(extra, list) else [])
        if isinstance(item, dict)
    ]
    return Range(
        distance=_number(signal.value) or 0.0, unit=signal.unit, estimates=estimates, signal=signal
    )


def charge_status_from(signals: SignalList) -> ChargeStatus:
    """Charging state, plug, active limit and time to complete."""
    status = signals.require(CHARGING_STATUS)
    charging = _secondary(signals, IS_CHARGING)
    plugged = _secondary(signals, IS_PLUGGED_IN)
    limits = _secondary(signals, CHARGE_LIMITS)
    remaining = _secondary(signals, TIME_TO_COMPLETE)
    state = status.value if isinstance(status.value, str) else None
    return ChargeStatus(
        state=state,
        is_charging=_flag(charging.value) if charging else (state == "CHARGING" if state else None),
        is_plugged_in=_flag(plugged.value) if plugged else None,
        charge_limit=_number(_body(limits).get("activeLimit")) if limits else None,
        time_to_complete=_number(remaining.value) if remaining else None,
    )


def fuel_from(signals: SignalList) -> Fuel:
    """Fuel level in percent, amount left and range on fuel."""
    level = signals.require(FUEL_LEVEL)
    amount = _secondary(signals, FUEL_AMOUNT)
    reach = _secondary(signals, FUEL_RANGE)
    return Fuel(
        percent_remaining=_number(level.value),
        amount_remaining=_number(amount.value) if amount else None,
        amount_unit=amount.unit if amount else None,
        range=_number(reach.value) if reach else None,
        range_unit=reach.unit if reach else None,
    )


_POSITIONS = {(0, 0): "front_left", (0, 1): "front_right", (1, 0): "back_left", (1, 1): "back_right"}


def tire_pressures_from(signals: SignalList) -> TirePressures:
    """Each tyre's pressure; the four usual positions by name."""
    signal = signals.require(TIRES)
    body = _body(signal)
    values = body.get("values")
    tires = [
        TirePressure(
            row=int(item.get("row", 0)),
            column=int(item.get("column", 0)),
            pressure=_number(item.get("tirePressure", item.get("pressure"))),
        )
        for item in (values if isinstance(values, list) else [])
        if isinstance(item, dict)
    ]
    by_name = {
        _POSITIONS[(tire.row, tire.column)]: tire.pressure
        for tire in tires
        if (tire.row, tire.column) in _POSITIONS
    }
    unit = body.get("unit")
    return TirePressures(
        **by_name, unit=unit if isinstance(unit, str) else None, tires=tires
    )


def lock_status_from(signals: SignalList) -> LockStatus:
    """Whether the vehicle is locked, with its doors when reported."""
    locked = signals.require(IS_LOCKED)
    doors_signal = _secondary(signals, DOORS)
    values = _body(doors_signal).get("values") if doors_signal else None
    doors = [
        Door.model_validate(item)
        for item in (values if isinstance(values, list) else [])
        if isinstance(item, dict)
    ]
    return LockStatus(is_locked=bool(locked.value), doors=doors)


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
    """What redeeming a Connect ``code`` answers: the user's token (two hours), its refresh token
    (60 days) and, on motorpool, the grant."""

    refresh_token: str | None = None
    user_id: str | None = None
    vehicle_ids: list[str] = Field(default_factory=list)
    scope: str | None = None


# --- fleet --------------------------------------------------------------------------------------


class FleetResult:
    """One vehicle's outcome in a fleet read: its signals, or the error that prevented them.

    The answer is kept as received and decoded when ``signals`` is first read. Decoding a
    vehicle's ~90 signals costs more than fetching them, and a thousand decoded lists held at
    once make Python's garbage collector walk millions of objects; kept as bytes, a fleet costs
    one object per vehicle. The decoded list is cached only while you hold on to it.
    """

    __slots__ = ("_cached", "_pages", "error", "user_id", "vehicle_id")

    def __init__(
        self,
        vehicle_id: str,
        user_id: str | None,
        *,
        pages: Sequence[tuple[ResponseMeta, bytes]] = (),
        error: SmartcarError | None = None,
    ) -> None:
        #: The vehicle read.
        self.vehicle_id = vehicle_id
        #: The user it was read for (``sc-user-id``).
        self.user_id = user_id
        #: Why the vehicle could not be read (an ApiError, TransportError, …), or None.
        self.error = error
        self._pages = tuple(pages)
        self._cached: weakref.ref[SignalList] | None = None

    @property
    def ok(self) -> bool:
        """True when the signals were read."""
        return self.error is None

    @property
    def meta(self) -> ResponseMeta:
        """Headers of the (first) answer: request id, data age, fetch time, unit system."""
        return self._pages[0][0] if self._pages else NO_META

    @property
    def signals(self) -> SignalList | None:
        """The vehicle's signals (None when ``error`` is set), decoded on first use."""
        if not self._pages:
            return None
        cached = self._cached() if self._cached is not None else None
        if cached is not None:
            return cached
        first_meta, first = self._pages[0]
        try:
            signals = SignalList.from_json(first, first_meta)
            for meta, content in self._pages[1:]:
                signals = signals.merged(SignalList.from_json(content, meta))
        except ValueError as error:
            raise UnexpectedResponseError(
                f"The signals of {self.vehicle_id} are not valid JSON: {error}",
                status_code=first_meta.status_code or 200,
                content=first,
            ) from error
        self._cached = weakref.ref(signals)
        return signals

    def __repr__(self) -> str:
        state = f"error={self.error!r}" if self.error is not None else f"pages={len(self._pages)}"
        return f"FleetResult(vehicle_id={self.vehicle_id!r}, user_id={self.user_id!r}, {state})"


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
